#!/usr/bin/env bash
# Floods (fragments, ping -f, UDP flat out, ARP from thousands of senders) and a
# mixed soak, in a network namespace made here; short figures for make test,
# FLOOD_LONG=1 (make soak) for the long ones, SOAK_SECONDS for the soak's length.
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then echo "SKIP flood: needs root for a network namespace"; exit 0; fi
exec /usr/bin/python3 tests/qemu/flood_test.py
