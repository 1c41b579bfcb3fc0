#!/usr/bin/env bash
# The density test's short version (make density runs the full one): 4 guests
# with -m 4 on one bridge in a namespace the test makes, every one answering
# ping, each pinging its neighbour from its own console, and their idle CPU
# (under 1 % of a core per guest). tests/bench/density.py does the work and
# removes the namespace and its QEMUs whatever happens.
cd "$(dirname "$0")/../.." || exit 1
[ "$(id -u)" = 0 ] || { echo "SKIP density: needs root (network namespace, taps)"; exit 0; }
exec timeout 180 /usr/bin/python3 tests/bench/density.py --guests 4 --linux 0 --check \
    --idle-seconds 5 --boot-timeout 60 --out build/test/density
