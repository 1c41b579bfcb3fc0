#!/usr/bin/env bash
# Malformed packets of every class from the host side of the tap (scapy), in a
# network namespace made here: the right drop counter moves, nothing else does,
# the RX pool and reassembly go back to idle, the guest keeps answering pings.
# timeout: 600
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
need_root malformed
if ! /usr/bin/python3 -c "import scapy" 2>/dev/null; then
    cannot_run malformed "python3-scapy missing (make deps)"
fi
exec /usr/bin/python3 tests/qemu/malformed_test.py
