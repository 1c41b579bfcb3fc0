# Network namespace for the benchmarks (sourced by tests/bench/run.sh and
# tests/qemu/bench_smoke.sh). bench_netns_up NAME creates NAME holding only lo and
# a tap device tap0 (host side 10.0.0.1/24, no default route), with fast ARP
# retries so boot-time probes are not quantised, and IPv6 off; it installs an
# EXIT trap that removes the namespace (after ending bench_run's child, on a
# signal). The harness checks the namespace again before sending.

bench_netns_down() {
    [ -n "${BENCH_NS:-}" ] && ip netns del "$BENCH_NS" 2>/dev/null
    BENCH_NS=
}

# bench_run CMD...: runs CMD in the background and waits, so that a signal reaches
# the trap at once; the trap ends CMD (by its pid) and then removes the namespace.
bench_run() {
    "$@" &
    BENCH_CHILD=$!
    wait "$BENCH_CHILD"
    local rc=$?
    BENCH_CHILD=
    return $rc
}

bench_on_signal() {
    if [ -n "${BENCH_CHILD:-}" ]; then
        kill -TERM "$BENCH_CHILD" 2>/dev/null
        wait "$BENCH_CHILD" 2>/dev/null
    fi
    exit 130
}

bench_netns_up() {
    local ns=$1
    if ip netns list | grep -qw -- "$ns"; then
        echo "bench: namespace $ns already exists" >&2
        return 1
    fi
    trap bench_netns_down EXIT
    trap bench_on_signal INT TERM HUP
    ip netns add "$ns" || return 1
    BENCH_NS=$ns
    # No IPv6: the host's router solicitations and MLD reports would reach the
    # guests as traffic (and keep an idle guest's driver on its fast watchdog).
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 &&
    ip -n "$ns" link set lo up &&
    ip -n "$ns" tuntap add dev tap0 mode tap &&
    ip -n "$ns" addr add 10.0.0.1/24 dev tap0 &&
    ip -n "$ns" link set tap0 up &&
    ip netns exec "$ns" sysctl -qw net.ipv4.neigh.tap0.retrans_time_ms=20 || return 1
    if ip -n "$ns" route show default | grep -q . || ip -n "$ns" -6 route show default | grep -q .; then
        echo "bench: namespace $ns has a default route; refusing" >&2
        return 1
    fi
}
