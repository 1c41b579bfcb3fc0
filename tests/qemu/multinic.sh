#!/usr/bin/env bash
# Two NICs, two subnets (net0 on tap0 = 10.0.0.1/24, net1 on tap1 =
# 10.0.1.1/24): each answers ping and UDP echo from the host; one default
# gateway (net1.gw= is refused, the console says why); the console's ping
# leaves by the NIC whose prefix holds the destination, off-link ones by the
# default gateway's, as the guest's captures show.
# timeout: 300
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
need_root multinic
mkdir -p build/test
exec /usr/bin/python3 tests/qemu/multinic_test.py
