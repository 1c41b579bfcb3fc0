#!/usr/bin/env bash
# The IPv4 stack end to end (mode=net) from real host tools, in a network
# namespace made here: arping, ping of every size class with patterns, ping
# flood, UDP echo with payload checks, ICMP port unreachable, the console's ping,
# and the counters afterwards.
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then echo "SKIP ipv4: needs root for a network namespace"; exit 0; fi
exec /usr/bin/python3 tests/qemu/ipv4_test.py
