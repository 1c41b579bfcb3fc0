#!/usr/bin/env bash
# Malformed packets of every class from the host side of the tap (scapy), in a
# network namespace made here: the right drop counter moves, nothing else does,
# the RX pool and reassembly go back to idle, the guest keeps answering pings.
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then echo "SKIP malformed: needs root for a network namespace"; exit 0; fi
if ! /usr/bin/python3 -c "import scapy" 2>/dev/null; then
    echo "SKIP malformed: python3-scapy missing (make deps)"; exit 0
fi
exec /usr/bin/python3 tests/qemu/malformed_test.py
