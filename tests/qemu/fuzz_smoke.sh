#!/usr/bin/env bash
# Fuzz smoke test (not QEMU: tests/run.sh runs every tests/qemu/*.sh): builds the
# libFuzzer harnesses (make fuzz-build) and runs each on its seeds for a fixed
# number of inputs with a fixed random seed (tests/fuzz/run.sh runs), after
# replaying every crash input ever fixed. `make fuzz` is the long version.
# FUZZ_SMOKE_SCALE multiplies the input counts (default 1).
# timeout: 1200
# needs: clang
cd "$(dirname "$0")/../.." || exit 1
if ! command -v clang >/dev/null; then echo "SKIP fuzz: clang missing (make deps)"; exit 0; fi
mkdir -p build/test
if ! make -s -j"$(nproc)" fuzz-build >build/test/fuzz-build.log 2>&1; then
    echo "FAIL fuzz-build: $(tail -n 5 build/test/fuzz-build.log | tr '\n' ' ')"
    exit 0
fi
scale=${FUZZ_SMOKE_SCALE:-1}
# Inputs per harness: about 2 to 5 seconds each on one core.
declare -A runs=([fuzz_tcp]=3000 [fuzz_stack]=2500 [fuzz_arp]=5000 [fuzz_reass]=4000 [fuzz_eth]=20000
                 [fuzz_ipv4]=20000 [fuzz_icmp]=20000 [fuzz_udp]=20000 [fuzz_csum]=100000
                 [fuzz_config]=20000)
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    ./tests/fuzz/run.sh runs $(( ${runs[$name]:-10000} * scale )) "build/fuzz/$name"
done
exit 0
