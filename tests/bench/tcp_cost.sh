#!/usr/bin/env bash
# Instructions the stack executes per TCP unit on the host build (the TCP anchor
# of tests/bench/README.md): tests/unit/test_tcp_bench.c's in-memory peer drives
# four workloads (bulk receive of 1460-byte segments, bulk send ACKed every second
# segment, 64-byte request/response, whole connections), 20,000 units each after
# 1,000 warm-up ones; valgrind's callgrind counts inside the feeding loop only
# (tcp_feed: the frame copy into an RX buffer and all the stack does in
# response), divided by the units. Instruction counts do not depend on load.
# Prints `metric value unit` lines, with lwIP 2.1.3's figures and the targets.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench/tcp_cost
mkdir -p "$out"
units=20000
gcc -O2 -g -std=gnu11 -I. -DHOST_BUILD -o "$out/tcp_cost" $(make -s --no-print-directory portable-srcs) \
    tests/unit/host_plat.c tests/unit/net_fixtures.c tests/unit/test_tcp_bench.c -lcmocka
names=(bulk_recv bulk_send req_resp conn)
anchor=(5362 5721 2857 9719)
target=(2680 2860 1430 4860)
unit=(segment segment transaction connection)
for k in 0 1 2 3; do
    name=${names[$k]}
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$name" \
        --toggle-collect=tcp_feed "$out/tcp_cost" "$k" >"$out/$name.log" 2>&1
    grep -q 'PASSED' "$out/$name.log" || { echo "tcp_cost: $name failed ($out/$name.log)" >&2; exit 1; }
    collected=$(grep -oE 'Collected : [0-9]+' "$out/$name.log" | grep -oE '[0-9]+$')
    per=$((collected / units))
    echo "tcp_cost_$name $per instructions/${unit[$k]}"
    awk -v a="${anchor[$k]}" -v t="${target[$k]}" -v p="$per" -v n="$name" \
        'BEGIN { printf "tcp_cost_%s_vs_lwip %.3f ratio (lwIP 2.1.3: %d, target %d)\n", n, p / a, a, t }'
done
