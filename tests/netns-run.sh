#!/usr/bin/env bash
# make run: boots the unikernel in QEMU with a virtio-net NIC on a tap device
# inside a network namespace made for it (only lo and the tap, no default route:
# packets cannot leave it). The host side of the tap is 10.0.0.1/24, the guest
# 10.0.0.2. The serial console is this terminal; Ctrl-A X quits QEMU. From another
# terminal:  ip netns exec uknet-run ping 10.0.0.2
# Arguments are the kernel command line (e.g. log=debug).
# Environment (make passes them on):
#   NICS=N     N NICs (1..4), net<i> on tap<i>, whose host side is 10.0.<i>.1/24
#              (the guest's net<i> needs net<i>.ip=10.0.<i>.2/24 or dhcp)
#   PCAP=file  QEMU records every frame of net0 into file (pcap), net<i>'s into
#              file with -net<i> before the extension: tcpdump -nr file
set -u
cd "$(dirname "$0")/.." || exit 1
ns=${UKNET_NETNS:-uknet-run}
nics=${NICS:-1}
pcap=${PCAP:-}
[ "$(id -u)" = 0 ] || { echo "make run: needs root (network namespace and tap)" >&2; exit 1; }
case "$nics" in 1|2|3|4) ;; *) echo "make run: NICS=$nics (1 to 4)" >&2; exit 1 ;; esac
if ip netns list | grep -qw "$ns"; then
    echo "make run: namespace $ns already exists (another make run?); remove it with: ip netns del $ns" >&2
    exit 1
fi
cleanup() { ip netns del "$ns" 2>/dev/null; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
net_args=()
for ((i = 0; i < nics; i++)); do
    ip -n "$ns" tuntap add dev "tap$i" mode tap
    ip -n "$ns" addr add "10.0.$i.1/24" dev "tap$i"
    ip -n "$ns" link set "tap$i" up
    tap="tap,id=n$i,ifname=tap$i,script=no,downscript=no"
    if [ -n "$pcap" ]; then
        # QEMU 7.2's filter-dump would write the tap's virtio-net header before
        # every frame: the tap goes without one.
        tap+=",vnet_hdr=off"
        file=$pcap
        [ "$i" = 0 ] || file="${pcap%.pcap}-net$i.pcap"
        net_args+=(-object "filter-dump,id=dump$i,netdev=n$i,file=$file")
        echo "make run: net$i's frames go to $file"
    fi
    net_args+=(-netdev "$tap" -device "virtio-net-pci,netdev=n$i,mac=52:54:00:12:34:5$((6 + i)),romfile=")
done
if ip -n "$ns" route show default | grep -q .; then
    echo "make run: namespace $ns has a default route; refusing" >&2
    exit 1
fi
echo "make run: namespace $ns, host side 10.0.0.1 on tap0, guest 10.0.0.2"
echo "make run: try 'ip netns exec $ns ping 10.0.0.2' from another terminal; Ctrl-A X quits"
ip netns exec "$ns" qemu-system-x86_64 -accel tcg -m 64 -nodefaults -nographic -no-reboot \
    -serial mon:stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    "${net_args[@]}" -kernel build/kernel.elf -append "$*"
rc=$?
# 33 is the guest's own clean exit (halt); 0 is Ctrl-A X.
[ $rc = 0 ] || [ $rc = 33 ] || echo "make run: QEMU exited with status $rc" >&2
exit 0
