#!/usr/bin/env bash
# The DHCP client (ip=dhcp) against Debian's dnsmasq, each case a guest in a
# namespace of its own with its own dnsmasq on its tap (2-minute leases: T1 at
# 60 s, T2 at 105 s), the three run at once: a lease, the guest pinged at its
# address, the renewal at T1, then a NAK once the server's range changed and a
# lease from the new range; the server stopped right after the binding:
# RENEWING, REBINDING, expiry, the address dropped, the server back and a new
# lease; a host answering the address probe: DECLINE and another address. The
# lease timeline is read back from the guests' captures (build/test/dhcp-*.pcap).
# timeout: 420
# needs: root qemu dnsmasq
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
need_root dhcp
command -v dnsmasq >/dev/null || cannot_run dhcp "needs dnsmasq (make deps)"
mkdir -p build/test
exec /usr/bin/python3 tests/qemu/dhcp_test.py
