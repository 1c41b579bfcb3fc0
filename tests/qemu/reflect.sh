#!/usr/bin/env bash
# Driver-level reflector under QEMU (mode=reflect): in a network namespace made
# here (only lo and the taps, no route), the guest's virtio-net devices send every
# Ethernet frame straight back with the MACs swapped. From the host side of each
# tap, a raw AF_PACKET socket sends FRAMES frames of 60..1514 bytes (a window of
# WINDOW in flight) and checks each comes back once, MACs swapped, payload intact.
# Variants: modern (disable-legacy=on), transitional (default), legacy
# (disable-modern=on), no MSI-X (vectors=0) for modern and legacy, two NICs,
# a 9000-byte device MTU (VIRTIO_NET_F_MTU) with jumbo frames, and a flood.
# Prints "PASS name" / "FAIL name: why" / "SKIP name: why". Needs root (netns).
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh

FRAMES=${FRAMES:-10000}
WINDOW=${WINDOW:-32}
NS=uknet-reflect-$$
OUT=build/test/reflect
mkdir -p "$OUT"
QPID=

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
    skip reflect "needs root and iproute2 for a network namespace"
    exit 0
fi
if [ ! -f "$KERNEL" ]; then
    skip reflect "no $KERNEL (make kernel)"
    exit 0
fi

cleanup() {
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill "$QPID" 2>/dev/null
        wait "$QPID" 2>/dev/null
    fi
    ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The namespace: lo and two taps, IPv6 off so the host sends nothing of its own.
ip netns add "$NS" || { fail reflect "ip netns add failed"; exit 0; }
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
for t in tap0 tap1; do
    ip netns exec "$NS" ip tuntap add dev "$t" mode tap
    ip netns exec "$NS" ip link set "$t" up
done

# The host side: sends and checks frames on one tap. Standard library only.
SENDER=$(cat <<'PY'
import os, random, select, socket, struct, sys, time
# tap guest_mac count window max_size allow_loss
ifname, guest_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
count, window, max_size, allow_loss = (int(a) for a in sys.argv[3:7])
ETH_P = 0x88B5  # IEEE 802 local experimental ethertype
MAGIC = b'VNRF'
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
s.bind((ifname, ETH_P))
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
mine = bytes.fromhex(open(f'/sys/class/net/{ifname}/address').read().strip().replace(':', ''))

def frame(seq):
    size = 60 + (seq * 37) % (max_size - 59)  # every size 60..max_size, in turn
    head = guest_mac + mine + struct.pack('!H', ETH_P) + MAGIC + struct.pack('!IH', seq, size)
    return head + random.Random(seq).randbytes(size - len(head))

sent, done, bad, dups = 0, set(), [], 0
inflight = {}
last_progress = time.monotonic()
while len(done) + len(bad) < count:
    while sent < count and len(inflight) < window:
        f = frame(sent)
        s.send(f)
        inflight[sent] = f
        sent += 1
    r, _, _ = select.select([s], [], [], 0.5)
    if not r:
        if time.monotonic() - last_progress > 5:
            break
        continue
    data, addr = s.recvfrom(65536)
    if addr[2] == socket.PACKET_OUTGOING or data[14:18] != MAGIC:
        continue
    seq = struct.unpack('!I', data[18:22])[0]
    if seq in done:
        dups += 1
        continue
    f = inflight.pop(seq, None)
    if f is None:
        bad.append(f'unknown seq {seq}')
        continue
    want = f[6:12] + f[0:6] + f[12:]
    if data != want:
        bad.append(f'seq {seq} size {len(f)}: got {len(data)} bytes, differ at {next((i for i in range(min(len(data), len(want))) if data[i] != want[i]), min(len(data), len(want)))}')
    else:
        done.add(seq)
    last_progress = time.monotonic()
lost = count - len(done) - len(bad)
print(f'{ifname}: sent {sent}, back intact {len(done)}, bad {len(bad)}, lost {lost}, duplicates {dups}')
for b in bad[:5]:
    print('  ' + b)
sys.exit(0 if (len(done) == count or (allow_loss and not bad)) and dups == 0 else 1)
PY
)

# send NAME TAP MAC COUNT WINDOW MAX_SIZE ALLOW_LOSS: the host side of one tap,
# in the background (pid appended to pids).
send() {
    ip netns exec "$NS" /usr/bin/python3 -c "$SENDER" "${@:2}" >>"$OUT/$1.$2.out" 2>&1 &
    pids+=($!)
}

# run_variant NAME NICS DEVICE_OPTIONS [MAX_SIZE [flood]]: boots the guest,
# reflects FRAMES frames per NIC and checks them. flood: first a burst of
# 3 * FRAMES frames with no window (losses allowed, nothing may be corrupt),
# then the checked run, which shows that the rings did not wedge.
run_variant() {
    local name=$1 nics=$2 opts=$3 max=${4:-1514} flood=$5 log="$OUT/$1.log" args=() i
    for ((i = 0; i < nics; i++)); do
        args+=(-netdev "tap,id=n$i,ifname=tap$i,script=no,downscript=no"
               -device "virtio-net-pci,netdev=n$i,mac=52:54:00:12:34:5$((6 + i)),romfile=${opts:+,$opts}")
    done
    rm -f "$log"
    # Started directly (not in a function's subshell) so $! is QEMU's own pid:
    # `ip netns exec` execs the command in place.
    ip netns exec "$NS" "$QEMU" "${QEMU_BASE[@]}" -serial "file:$log" -kernel "$KERNEL" \
        -append "mode=reflect" "${args[@]}" </dev/null >"$log.stderr" 2>&1 &
    QPID=$!
    local t0=$SECONDS ready=0
    while [ $((SECONDS - t0)) -lt 30 ] && kill -0 "$QPID" 2>/dev/null; do
        ready=$(cat "$log" 2>/dev/null | grep -c "reflector on")
        [ "$ready" -ge "$nics" ] && break
        grep -q "] kernel: ready" "$log" 2>/dev/null && ! grep -q "net0" "$log" && break
        sleep 0.2
    done
    if [ "$ready" -lt "$nics" ]; then
        if grep -q "] kernel: ready" "$log" 2>/dev/null && ! grep -q "net0" "$log"; then
            skip "reflect-$name" "the kernel does not start the reflector (vnet_init_all/vnet_reflect_start not called in mode=reflect)"
        else
            fail "reflect-$name" "$ready of $nics devices reflecting after 30 s: $(grep -E 'net[0-9]|virtio|pci|error|PANIC' "$log" | tail -n 4 | tr '\n' ' ')"
        fi
        kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; QPID=
        return
    fi
    local pids=() ok=1 mac
    rm -f "$OUT/$name".tap*.out
    for ((i = 0; i < nics; i++)); do
        ip netns exec "$NS" ip link set "tap$i" mtu $((max - 14))
        mac=52:54:00:12:34:5$((6 + i))
        if [ -n "$flood" ]; then
            send "$name" "tap$i" "$mac" $((3 * FRAMES)) $((3 * FRAMES)) "$max" 1
            wait "${pids[-1]}" || ok=0
            unset "pids[-1]"
        fi
        send "$name" "tap$i" "$mac" "$FRAMES" "$WINDOW" "$max" 0
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || ok=0
    done
    kill "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null; QPID=
    local summary
    summary=$(cat "$OUT/$name".tap*.out | tr '\n' ' ')
    if [ "$ok" = 1 ]; then pass "reflect-$name ($summary)"; else
        fail "reflect-$name" "$summary; console: $(grep -E 'net[0-9]|error|PANIC' "$log" | tail -n 3 | tr '\n' ' ')"
    fi
}

run_variant modern 1 "disable-legacy=on"
run_variant transitional 1 ""
run_variant legacy 1 "disable-modern=on"
run_variant modern-intx 1 "disable-legacy=on,vectors=0"
run_variant legacy-intx 1 "disable-modern=on,vectors=0"
run_variant two-nics 2 ""
run_variant mtu9000 1 "disable-legacy=on,host_mtu=9000" 9014
run_variant flood 1 "disable-legacy=on" 1514 flood
