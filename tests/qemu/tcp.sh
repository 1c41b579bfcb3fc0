#!/usr/bin/env bash
# TCP end to end (mode=net, in a -m 4 guest) from real host tools, in a network
# namespace made here: HTTP with curl, wrk and raw sockets (keep-alive,
# pipelining, Connection: close, malformed requests, a slow client), echo with
# socat and nc from 1 B to 16 MiB, discard, chargen against RFC 864's pattern,
# 200 sequential and 100 concurrent connections, resets checked as RFC 5961 says,
# path MTU discovery from a crafted ICMP, a spoofed SYN flood while a real client
# is served, transfers across tc netem loss, reordering and duplication; the
# counters after each step.
# timeout: 900
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
need_root tcp
for tool in curl wrk socat nc tc; do
    command -v "$tool" >/dev/null || cannot_run tcp "$tool missing (make deps)"
done
if ! /usr/bin/python3 -c "import scapy" 2>/dev/null; then
    cannot_run tcp "python3-scapy missing (make deps)"
fi
mkdir -p build/test
exec /usr/bin/python3 tests/qemu/tcp_test.py
