#!/usr/bin/env bash
# make run: boots the unikernel in QEMU with a virtio-net NIC on a tap device
# inside a network namespace made for it (only lo and the tap, no default route:
# packets cannot leave it). The host side of the tap is 10.0.0.1/24, the guest
# 10.0.0.2. The serial console is this terminal; Ctrl-A X quits QEMU. From another
# terminal:  ip netns exec uknet-run ping 10.0.0.2
# Arguments are the kernel command line (e.g. log=debug).
set -u
cd "$(dirname "$0")/.." || exit 1
ns=${UKNET_NETNS:-uknet-run}
[ "$(id -u)" = 0 ] || { echo "make run: needs root (network namespace and tap)" >&2; exit 1; }
if ip netns list | grep -qw "$ns"; then
    echo "make run: namespace $ns already exists (another make run?); remove it with: ip netns del $ns" >&2
    exit 1
fi
cleanup() { ip netns del "$ns" 2>/dev/null; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev tap0 mode tap
ip -n "$ns" addr add 10.0.0.1/24 dev tap0
ip -n "$ns" link set tap0 up
if ip -n "$ns" route show default | grep -q .; then
    echo "make run: namespace $ns has a default route; refusing" >&2
    exit 1
fi
echo "make run: namespace $ns, host side 10.0.0.1 on tap0, guest 10.0.0.2"
echo "make run: try 'ip netns exec $ns ping 10.0.0.2' from another terminal; Ctrl-A X quits"
ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m 64 -nodefaults -nographic -no-reboot \
    -serial mon:stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile= \
    -kernel build/kernel.elf -append "$*"
rc=$?
# 33 is the guest's own clean exit (halt); 0 is Ctrl-A X.
[ $rc = 0 ] || [ $rc = 33 ] || echo "make run: QEMU exited with status $rc" >&2
exit 0
