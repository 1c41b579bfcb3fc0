#!/usr/bin/env bash
# The datapath stress campaign (tests/qemu/stress_test.py): fresh guests, every
# load kind on every device variant, any wedge or watchdog recovery a FAIL.
# make test runs one short round; make stress runs STRESS_RUNS (default 20).
# timeout: 7200
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
need_root stress
export STRESS_RUNS=${STRESS_RUNS:-1} STRESS_SECS=${STRESS_SECS:-2}
exec /usr/bin/python3 tests/qemu/stress_test.py
