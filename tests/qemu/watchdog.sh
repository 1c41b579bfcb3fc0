#!/usr/bin/env bash
# The virtio-net watchdog against faults injected on purpose (fault= on the
# command line): a lost TX kick (re-kick), a lost RX interrupt (poll), a device
# that ignores even the re-kick (reset); modern, legacy and INTx. Each guest runs
# in a network namespace made here and answers pings throughout.
# timeout: 600
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
need_root watchdog
exec /usr/bin/python3 tests/qemu/watchdog_test.py
