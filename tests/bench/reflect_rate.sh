#!/usr/bin/env bash
# Reflector (mode=reflect) frame rate: 64-byte frames from the host side of a tap
# for SECONDS (default 10), flat out and with WINDOW frames in flight. Runs in a
# network namespace made here (lo and the tap only), kills only its own QEMU.
set -u
cd "$(dirname "$0")/../.." || exit 1
SECONDS_RUN=${SECONDS_RUN:-10}
SIZE=${SIZE:-64}
WINDOW=${WINDOW:-64}
NS=uknet-rrate-$$
LOG=build/bench/reflect_rate.log
mkdir -p build/bench
QPID=
cleanup() {
    [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" tuntap add dev tap0 mode tap
ip -n "$NS" link set tap0 up
ip netns exec "$NS" qemu-system-x86_64 -accel tcg -m 64 -nodefaults -nographic -no-reboot \
    -monitor none -serial "file:$LOG" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile= \
    -kernel build/kernel.elf -append "mode=reflect" </dev/null >/dev/null 2>&1 &
QPID=$!
for _ in $(seq 100); do grep -q "reflector on" "$LOG" 2>/dev/null && break; sleep 0.1; done
grep -q "reflector on" "$LOG" || { echo "reflect_rate: guest did not start" >&2; exit 1; }
echo "# flat out, $SIZE-byte frames, $SECONDS_RUN s"
ip netns exec "$NS" taskset -c 1 /usr/bin/python3 tests/tools/frame_flood.py tap0 52:54:00:12:34:56 \
    --seconds "$SECONDS_RUN" --size "$SIZE"
echo "# window $WINDOW, $SIZE-byte frames, $SECONDS_RUN s"
ip netns exec "$NS" taskset -c 1 /usr/bin/python3 tests/tools/frame_flood.py tap0 52:54:00:12:34:56 \
    --seconds "$SECONDS_RUN" --size "$SIZE" --window "$WINDOW"
