#!/usr/bin/env bash
# Instructions the stack executes per echo on the host build: the reference
# frames of tests/bench/gen_frames.py (10,000 each) fed through the whole
# stack (fake NIC, peer's ARP entry known, UDP echo on port 7), counted by
# valgrind's callgrind around the feeding loop only (bench_feed), divided by the
# frame count. Instruction counts do not depend on machine load.
# Prints `metric value unit` lines, and the lwIP 2.1.3 anchor beside them
# (tests/bench/README.md). The frames are checked against tests/bench/frames.sha256
# first: the anchor was measured on exactly those bytes.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench/echo_cost
mkdir -p "$out"
n=${FRAMES:-10000}
/usr/bin/python3 tests/bench/gen_frames.py -n "$n" -o "$out/frames" >/dev/null
sums=$PWD/tests/bench/frames.sha256
if [ "$n" = 10000 ] && ! (cd "$out/frames" && sha256sum --quiet -c "$sums"); then
    echo "echo_cost.sh: gen_frames.py's frames differ from tests/bench/frames.sha256" >&2
    exit 1
fi
# shellcheck disable=SC2046 # the Makefile's list of portable sources, split on purpose
gcc -O2 -g -std=gnu11 -I. -DHOST_BUILD -o "$out/echo_cost" $(make -s --no-print-directory portable-srcs) \
    tests/unit/host_plat.c tests/unit/net_fixtures.c tests/unit/test_net_bench.c -lcmocka
declare -A anchor=([icmp56]=1212 [udp64]=1704 [udp1400]=8535)
k=0
for kind in icmp56 udp64 udp1400; do
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$kind" \
        --toggle-collect=bench_feed "$out/echo_cost" "$k" "$out/frames/frames-$kind.bin" \
        >"$out/$kind.log" 2>&1
    collected=$(grep -oE 'Collected : [0-9]+' "$out/$kind.log" | grep -oE '[0-9]+$')
    per=$((collected / n))
    echo "echo_cost_$kind $per instructions/echo"
    awk -v a="${anchor[$kind]}" -v p="$per" -v k="$kind" \
        'BEGIN { printf "echo_cost_%s_vs_lwip %.3f ratio (lwIP 2.1.3: %d)\n", k, p / a, a }'
    k=$((k + 1))
done
