#!/usr/bin/env bash
# Floods (fragments, ping -f, UDP flat out, ARP from thousands of senders) and a
# mixed soak, in a network namespace made here; short figures for make test,
# FLOOD_LONG=1 (make soak) for the long ones, SOAK_SECONDS for the soak's length.
# timeout: 900
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
need_root flood
exec /usr/bin/python3 tests/qemu/flood_test.py
