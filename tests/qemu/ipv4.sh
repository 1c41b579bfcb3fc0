#!/usr/bin/env bash
# The IPv4 stack end to end (mode=net) from real host tools, in a network
# namespace made here: arping, ping of every size class with patterns, ping
# flood, UDP echo with payload checks, ICMP port unreachable, the console's ping,
# and the counters afterwards.
# timeout: 600
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
need_root ipv4
exec /usr/bin/python3 tests/qemu/ipv4_test.py
