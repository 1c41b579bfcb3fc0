#!/usr/bin/env bash
# Driver-level reflector under QEMU (mode=reflect): in a network namespace made
# here (only lo and the taps, no route), the guest's virtio-net devices send every
# Ethernet frame straight back with the MACs swapped. From the host side of each
# tap, a raw AF_PACKET socket sends FRAMES frames of 60..1514 bytes (a window of
# WINDOW in flight) and checks each comes back once, MACs swapped, payload intact.
# Variants: modern (disable-legacy=on), transitional (default), legacy
# (disable-modern=on), no MSI-X (vectors=0) for modern and legacy, two NICs,
# a 9000-byte device MTU (VIRTIO_NET_F_MTU) with jumbo frames, a flood, and
# link down/up through the QEMU monitor (config-change interrupts).
# Prints "PASS name" / "FAIL name: why" / "SKIP name: why". Needs root (netns).
# The namespace, the guest and the senders are removed and stopped however the
# script ends (lib.sh's at_exit); every wait is bounded.
# timeout: 900
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh

FRAMES=${FRAMES:-10000}
WINDOW=${WINDOW:-32}
NS=uknet-reflect-$$
OUT=build/test/reflect
mkdir -p "$OUT"
QPID=
SENDER_PIDS=()

need_root reflect
if [ ! -f "$KERNEL" ]; then
    fail reflect "no $KERNEL (make kernel)"
    exit 1
fi

# The namespace: lo and two taps, IPv6 off so the host sends nothing of its own.
netns_up "$NS" tap0 tap1 || { fail reflect "could not set up the namespace $NS"; exit 1; }
at_exit stop_guest
at_exit stop_senders

# The host side: sends and checks frames on one tap. Standard library only.
SENDER=$(cat <<'PY'
import os, random, select, socket, struct, sys, time
# tap guest_mac count window max_size allow_loss
ifname, guest_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
count, window, max_size, allow_loss = (int(a) for a in sys.argv[3:7])
ETH_P = 0x88B5  # IEEE 802 local experimental ethertype
MAGIC = b'VNRF'
# Protocol 0 until bound: a packet socket made with a protocol hears every
# interface until bind(), and took the other tap's frames for its own.
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
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
# Bounded: 5 s without a good frame back, or the whole budget, ends it.
deadline = last_progress + 60 + count / 100
while len(done) + len(bad) < count:
    now = time.monotonic()
    if now - last_progress > 5 or now > deadline:
        break
    while sent < count and len(inflight) < window:
        f = frame(sent)
        s.send(f)
        inflight[sent] = f
        sent += 1
    r, _, _ = select.select([s], [], [], 0.5)
    if not r:
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
late = ' (stopped: over its time budget)' if time.monotonic() > deadline else ''
print(f'{ifname}: sent {sent}, back intact {len(done)}, bad {len(bad)}, lost {lost}, duplicates {dups}{late}')
for b in bad[:5]:
    print('  ' + b)
sys.exit(0 if (len(done) == count or (allow_loss and not bad)) and dups == 0 else 1)
PY
)

# send NAME TAP MAC COUNT WINDOW MAX_SIZE ALLOW_LOSS: the host side of one tap,
# in the background (pid appended to pids). timeout(1) backs the sender's own
# time budget (60 s + 10 ms a frame).
send() {
    ip netns exec "$NS" timeout -k 5 $((90 + $4 / 100)) /usr/bin/python3 -c "$SENDER" "${@:2}" \
        >>"$OUT/$1.$2.out" 2>&1 &
    pids+=($!)
    SENDER_PIDS+=($!)
}

# stop_senders: ends the senders this script started that still run.
stop_senders() {
    local pid
    for pid in "${SENDER_PIDS[@]}"; do stop_pid "$pid" 5; done
    SENDER_PIDS=()
}

# stop_guest: ends the QEMU this script started (and only it, by its pid).
stop_guest() {
    # (ip until `ip netns exec` has exec'd QEMU; any other name: not ours any more)
    case "$(cat "/proc/$QPID/comm" 2>/dev/null)" in
    qemu-system-x86 | ip) stop_pid "$QPID" ;;
    esac
    QPID=
}

# start_guest NAME OPTS_NIC0 [OPTS_NIC1]: boots mode=reflect with one virtio-net
# device per option string (tap0, tap1, ...) and a monitor socket; returns 0
# once every device reflects, else reports SKIP/FAIL for NAME and returns 1.
start_guest() {
    local name=$1 log="$OUT/$1.log" args=() i=0 opts
    shift
    local nics=$#
    for opts in "$@"; do
        args+=(-netdev "tap,id=n$i,ifname=tap$i,script=no,downscript=no"
               -device "virtio-net-pci,netdev=n$i,mac=52:54:00:12:34:5$((6 + i)),romfile=${opts:+,$opts}")
        i=$((i + 1))
    done
    rm -f "$log" "$OUT/mon.sock"
    # Started directly with & (no subshell) so $! is QEMU's own pid:
    # `ip netns exec` execs the command in place.
    ip netns exec "$NS" "$QEMU" "${QEMU_BASE[@]}" -serial "file:$log" -kernel "$KERNEL" \
        -append "mode=reflect" -monitor "unix:$OUT/mon.sock,server,nowait" "${args[@]}" \
        </dev/null >"$log.stderr" 2>&1 &
    QPID=$!
    local t0=$SECONDS ready=0
    while [ $((SECONDS - t0)) -lt 30 ] && kill -0 "$QPID" 2>/dev/null; do
        ready=$(cat "$log" 2>/dev/null | grep -c "reflector on")
        [ "$ready" -ge "$nics" ] && return 0
        grep -q "] kernel: ready" "$log" 2>/dev/null && ! grep -q "net0" "$log" && break
        sleep 0.2
    done
    if grep -q "] kernel: ready" "$log" 2>/dev/null && ! grep -q "net0" "$log"; then
        skip "reflect-$name" "the kernel does not start the reflector (vnet_init_all/vnet_reflect_start not called in mode=reflect)"
    else
        fail "reflect-$name" "$ready of $nics devices reflecting after 30 s: $(grep -E 'net[0-9]|virtio|pci|error|PANIC' "$log" | tail -n 4 | tr '\n' ' ')"
    fi
    stop_guest
    return 1
}

# check_frames NAME NICS MAX_SIZE [flood]: FRAMES frames through each NIC,
# checked. flood: first a burst of 3 * FRAMES frames with no window (losses
# allowed, nothing may be corrupt); the checked run then shows nothing wedged.
# Sets ok=0 on failure.
check_frames() {
    local name=$1 nics=$2 max=$3 flood=$4 pids=() i mac pid
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
}

report() { # NAME: PASS/FAIL from ok, with the senders' summaries
    local summary
    summary=$(cat "$OUT/$1".tap*.out 2>/dev/null | tr '\n' ' ')
    if [ "$ok" = 1 ]; then pass "reflect-$1 ($summary)"; else
        fail "reflect-$1" "$summary; console: $(grep -E 'net[0-9]|error|PANIC' "$OUT/$1.log" | tail -n 3 | tr '\n' ' ')"
    fi
}

# run_variant NAME NICS DEVICE_OPTIONS [MAX_SIZE [flood]]
run_variant() {
    local name=$1 nics=$2 opts=$3 max=${4:-1514} flood=$5 all=() i ok=1
    for ((i = 0; i < nics; i++)); do all+=("$opts"); done
    start_guest "$name" "${all[@]}" || return
    check_frames "$name" "$nics" "$max" "$flood"
    stop_guest
    # No retry: the two-NIC "mismatch" once retried here was the other tap's
    # frames, heard by a packet socket made with a protocol before bind().
    report "$name"
}

# monitor CMD...: human monitor commands, one after the other.
monitor() {
    /usr/bin/python3 - "$OUT/mon.sock" "$@" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
for c in sys.argv[2:]:
    s.sendall((c + '\n').encode())
    time.sleep(0.3)
PY
}

# await_log LOG PATTERN COUNT: waits (10 s at most) for COUNT matching lines.
await_log() {
    local t0=$SECONDS
    while [ $((SECONDS - t0)) -lt 10 ]; do
        [ "$(grep -cE -- "$2" "$1")" -ge "$3" ] && return 0
        sleep 0.2
    done
    return 1
}

# Link changes (5.1.4 STATUS, config-change interrupt): net0 modern with MSI-X
# (config vector), net1 legacy with INTx (ISR bit 1). Both go down and up, and
# then still reflect.
run_link() {
    local name=link log="$OUT/link.log" ok=1
    start_guest "$name" "disable-legacy=on" "disable-modern=on,vectors=0" || return
    monitor "set_link n0 off" "set_link n1 off"
    await_log "$log" "net[01]: link down" 2 || { ok=0; echo "link down not seen" >"$OUT/$name.tap0.out"; }
    monitor "set_link n0 on" "set_link n1 on"
    await_log "$log" "net[01]: link up" 2 || { ok=0; echo "link up not seen" >>"$OUT/$name.tap0.out"; }
    [ "$ok" = 1 ] && check_frames "$name" 2 1514
    stop_guest
    report "$name"
}

run_variant modern 1 "disable-legacy=on"
run_variant transitional 1 ""
run_variant legacy 1 "disable-modern=on"
run_variant modern-intx 1 "disable-legacy=on,vectors=0"
run_variant legacy-intx 1 "disable-modern=on,vectors=0"
run_variant two-nics 2 ""
run_variant mtu9000 1 "disable-legacy=on,host_mtu=9000" 9014
run_variant flood 1 "disable-legacy=on" 1514 flood
run_link
