#!/usr/bin/env bash
# Runs the libFuzzer harnesses built by `make fuzz-build`, one after the other.
#   tests/fuzz/run.sh time SECONDS build/fuzz/fuzz_x...   (make fuzz: grow a corpus)
#   tests/fuzz/run.sh runs N build/fuzz/fuzz_x...         (make test: a smoke run)
# Inputs: the seeds (build/fuzz/seeds/<harness>, made by gen_seeds from the unit
# tests' fixtures and the first frames of tests/bench/gen_frames.py's files) and
# every crash input ever fixed (tests/fuzz/regress/<harness>/, replayed first).
# `time` keeps its corpus in build/fuzz/corpus-<harness> across runs; `runs`
# starts from the seeds alone with a fixed random seed (the same run every time).
# One line per harness: "PASS fuzz-<h>: ... execs" or "FAIL fuzz-<h>: why",
# with the crash input saved under build/fuzz/artifacts/<harness>/.
cd "$(dirname "$0")/../.." || exit 1
mode=$1 amount=$2
shift 2 || { echo "usage: $0 time|runs AMOUNT HARNESS..." >&2; exit 2; }
case "$mode" in time|runs) ;; *) echo "usage: $0 time|runs AMOUNT HARNESS..." >&2; exit 2 ;; esac
[ $# -gt 0 ] || { echo "run.sh: no harnesses (make fuzz-build)" >&2; exit 2; }

out=build/fuzz
mkdir -p "$out/logs"

# Seeds, rebuilt every time (cheap): fixtures, plus the reference frames.
if ! /usr/bin/python3 tests/bench/gen_frames.py -n 3 -o "$out/frames" >/dev/null; then
    echo "FAIL fuzz-seeds: tests/bench/gen_frames.py failed"
    exit 1
fi
frames=("$out"/frames/frames-*.bin)
rm -rf "$out/seeds"
"$out/gen_seeds" "$out/seeds" "${frames[@]}" || { echo "FAIL fuzz-seeds: gen_seeds failed"; exit 1; }

status=0
for bin in "$@"; do
    name=$(basename "$bin")
    short=${name#fuzz_}
    log="$out/logs/$name.log"
    art="$out/artifacts/$name"
    mkdir -p "$art"
    regress=tests/fuzz/regress/$name
    # Replay the fixed crashes first: each must run clean.
    if [ -d "$regress" ] && compgen -G "$regress/*" >/dev/null; then
        if ! "$bin" -runs=0 "$regress"/* >"$log.regress" 2>&1; then
            echo "FAIL fuzz-$short: a fixed crash came back ($log.regress)"
            status=1
            continue
        fi
    fi
    if [ "$mode" = time ]; then
        corpus="$out/corpus-$name"
        limit=(-max_total_time="$amount")
    else
        corpus=$(mktemp -d "$out/smoke-$name.XXXXXX")
        limit=(-runs="$amount" -seed=1)
    fi
    mkdir -p "$corpus"
    dirs=("$corpus" "$out/seeds/$name")
    [ -d "$regress" ] && dirs+=("$regress")
    start=$(date +%s)
    "$bin" "${limit[@]}" -max_len=8192 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$art/" "${dirs[@]}" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    ncorpus=$(ls "$corpus" | wc -l)
    [ "$mode" = runs ] && rm -rf "$corpus"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
    if [ $rc -eq 0 ] && [ -n "$execs" ]; then
        echo "PASS fuzz-$short: $execs execs in ${secs}s ($cov, corpus $ncorpus)"
    else
        why=$(grep -m1 -E 'ERROR|invariant broken|runtime error|SUMMARY' "$log")
        echo "FAIL fuzz-$short: exit $rc after ${secs}s: ${why:-see $log}; input in $art/"
        status=1
    fi
done
exit $status
