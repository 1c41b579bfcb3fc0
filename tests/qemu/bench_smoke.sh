#!/usr/bin/env bash
# Smoke test of the benchmark harness (so `make bench` cannot rot): bench.py in
# --smoke mode boots one guest, the unikernel's frame reflector (mode=reflect,
# fast and independent of the stack), in a network namespace made here, takes
# one measurement (UDP echo 64 B, one at a time, raw frames) and writes its
# report; then the echo clients (Python and C) and the TCP load tool
# (tests/tools/tcp_load.c) must refuse to send from a namespace with a default
# route and from the machine's own namespace.
# The namespace goes and bench.py stops its QEMU however the script ends
# (tests/bench/netns.sh's traps); every wait is bounded.
# timeout: 300
# needs: root qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
out=build/test/bench-smoke
mkdir -p "$out"

need_root bench-smoke
for t in qemu-system-x86_64 ip taskset /usr/bin/python3; do
    command -v "$t" >/dev/null || cannot_run "bench-smoke" "$t missing (make deps)"
done
[ -f "$KERNEL" ] || { fail "bench-smoke" "$KERNEL missing"; exit 1; }

. tests/bench/netns.sh
if ! bench_netns_up "uknet-bsmoke-$$"; then
    fail "bench-smoke-netns" "could not create the namespace"
    exit 1
fi

rm -f "$out/metrics.txt" "$out/report.md"
bench_run timeout 120 /usr/bin/python3 tests/bench/bench.py --netns "$BENCH_NS" --tap tap0 \
    --out "$out" --guests reflect --smoke >"$out/bench.out" 2>"$out/bench.err"
rc=$?
if [ $rc = 0 ]; then pass "bench-smoke-harness"; else
    fail "bench-smoke-harness" "bench.py exited $rc: $(tail -n 3 "$out/bench.err" | tr '\n' ' ')"
fi
rate=$(awk '$1 == "reflect_udp64_x1_rate" { print $2 }' "$out/metrics.txt" 2>/dev/null)
loss=$(awk '$1 == "reflect_udp_loss" { print $2 }' "$out/metrics.txt" 2>/dev/null)
bad=$(awk '$1 == "reflect_bad_replies" { print $2 }' "$out/metrics.txt" 2>/dev/null)
if [ -n "$rate" ] && awk -v r="$rate" 'BEGIN { exit !(r > 100) }'; then
    pass "bench-smoke-udp-echo-rate"
else
    fail "bench-smoke-udp-echo-rate" "reflect_udp64_x1_rate '${rate}', want > 100/s ($out/bench.err)"
fi
if [ "$bad" = 0 ] && [ -n "$loss" ] && awk -v l="$loss" 'BEGIN { exit !(l <= 5) }'; then
    pass "bench-smoke-payloads-and-loss"
else
    fail "bench-smoke-payloads-and-loss" "bad replies '${bad}', loss '${loss}' %"
fi
if grep -q '^| udp64_x1_rate ' "$out/report.md" 2>/dev/null; then
    pass "bench-smoke-report"
else
    fail "bench-smoke-report" "no udp64_x1_rate row in $out/report.md"
fi

# In the test namespace the TCP tool does send: its probe of the gone guest's
# port 80 fails (exit 1, within its 1 s bound), it does not refuse (exit 2); its
# checks hold against known peers on the namespace's lo (tcp_load_test.py: right
# and wrong echo and chargen, discard, connection rate); and the Linux guest's
# TCP and HTTP servers, built for the host, serve it there (no guest needed).
if [ -x "$out/tools/tcp_load" ]; then
    msg=$(ip netns exec "$BENCH_NS" timeout -k 5 30 "$out/tools/tcp_load" --mode probe \
        --port 80 --timeout 1 2>&1)
    rc=$?
    if [ $rc = 1 ] && echo "$msg" | grep -q '"connected": false'; then
        pass "bench-tcp_load-sends-in-netns"
    else
        fail "bench-tcp_load-sends-in-netns" "exit $rc: $msg"
    fi
    # The Linux guest's TCP servers, built for the host: checked the same way.
    srv=$out/tools/guest-servers
    mkdir -p "$srv"
    for s in tcpsvc http80; do
        gcc -O2 -Wall -Wextra -Werror -o "$srv/$s" "tests/bench/linux_guest/$s.c" ||
            fail "bench-linux-guest-$s-builds" "gcc failed"
    done
    ip netns exec "$BENCH_NS" timeout -k 5 120 /usr/bin/python3 tests/qemu/tcp_load_test.py \
        "$out/tools/tcp_load" "$srv" >"$out/tcp_load_test.out" 2>&1
    rc=$?
    grep -E '^(PASS|FAIL) ' "$out/tcp_load_test.out"
    if [ $rc != 0 ] && ! grep -q '^FAIL ' "$out/tcp_load_test.out"; then
        fail "bench-tcp_load-checks" "exit $rc: $(tail -n 3 "$out/tcp_load_test.out" | tr '\n' ' ')"
    fi
fi

# The network rule in the clients: no sending with a default route in sight.
# (The route points at the namespace's own tap, whose guest is gone by now.)
ip -n "$BENCH_NS" route add default dev tap0
for client in udp_echo_client echo_fast tcp_load; do
    case $client in
    udp_echo_client) cmd=(/usr/bin/python3 tests/tools/udp_echo_client.py --count 1) ;;
    echo_fast) cmd=("$out/tools/echo_fast" --count 1) ;;
    tcp_load) cmd=("$out/tools/tcp_load" --mode probe --timeout 1) ;;
    esac
    if [ $client != udp_echo_client ] && [ ! -x "${cmd[0]}" ]; then
        fail "bench-$client-built" "${cmd[0]} missing (bench.py builds it)"
        continue
    fi
    msg=$(ip netns exec "$BENCH_NS" timeout -k 5 30 "${cmd[@]}" 2>&1)
    rc=$?
    if [ $rc = 2 ] && echo "$msg" | grep -q "refusing to send: .*default route"; then
        pass "bench-$client-refuses-default-route"
    else
        fail "bench-$client-refuses-default-route" "exit $rc: $msg"
    fi
    msg=$(timeout -k 5 30 "${cmd[@]}" 2>&1)
    rc=$?
    if [ $rc = 2 ] && echo "$msg" | grep -q "refusing to send"; then
        pass "bench-$client-refuses-outside-netns"
    else
        fail "bench-$client-refuses-outside-netns" "exit $rc: $msg"
    fi
done
