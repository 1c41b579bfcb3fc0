#!/usr/bin/env bash
# The density test's short version (make density runs the full one): 4 guests
# with -m 4 on one bridge in a namespace the test makes, every one answering
# ping, each pinging its neighbour from its own console, and their idle CPU
# (under 1 % of a core per guest). tests/bench/density.py does the work and
# removes the namespace and its QEMUs whatever happens. Its prober must refuse
# to send from the machine's own namespace.
cd "$(dirname "$0")/../.." || exit 1
[ "$(id -u)" = 0 ] || { echo "SKIP density: needs root (network namespace, taps)"; exit 0; }
out=$(timeout 20 /usr/bin/python3 tests/tools/multi_ping.py --timeout 1 10.0.0.2 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "refusing to send" <<<"$out"; then
    echo "PASS density-prober-refuses-outside-netns"
else
    echo "FAIL density-prober-refuses-outside-netns: exit $rc: $out"
fi
timeout 180 /usr/bin/python3 tests/bench/density.py --guests 4 --linux 0 --check \
    --idle-seconds 5 --boot-timeout 60 --out build/test/density
rc=$?
[ $rc = 0 ] || [ $rc = 1 ] || echo "FAIL density-harness: density.py exited $rc"
