#!/usr/bin/env bash
# The datapath stress campaign (tests/qemu/stress_test.py): fresh guests, every
# load kind on every device variant, any wedge or watchdog recovery a FAIL.
# make test runs one short round; make stress runs STRESS_RUNS (default 20).
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then echo "SKIP stress: needs root for a network namespace"; exit 0; fi
export STRESS_RUNS=${STRESS_RUNS:-1} STRESS_SECS=${STRESS_SECS:-2}
exec /usr/bin/python3 tests/qemu/stress_test.py
