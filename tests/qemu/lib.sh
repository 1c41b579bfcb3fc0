# shellcheck shell=bash
# Shared helpers for the QEMU tests (sourced). Each test prints one line per
# check: "PASS name", "FAIL name: why" or "SKIP name: why"; tests/run.sh counts them.
# QEMU exit statuses from isa-debug-exit: 33 = the guest's success, 35 = failure.
#
# Header lines tests/run.sh reads from each script: "# timeout: N" (its hard
# limit in seconds) and "# needs: root qemu" (what it cannot run without).
#
# Clean-up: at_exit registers a command run when the script ends, however it
# ends (normal exit, `exit`, SIGINT, SIGTERM, SIGHUP); netns_up and qemu_run
# register theirs. Every wait here is bounded.

QEMU=${QEMU:-qemu-system-x86_64}
KERNEL=${KERNEL:-build/kernel.elf}
EXIT_OK=33
EXIT_FAIL=35
QEMU_BASE=(-accel tcg -m 64 -nodefaults -nographic -no-reboot -monitor none
           -device isa-debug-exit,iobase=0xf4,iosize=0x04)

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# cannot_run NAME WHY: the script cannot run here (not root, a tool missing):
# a FAIL and exit 1, or with SKIP_QEMU=1 a SKIP and exit 0.
cannot_run() {
    if [ "${SKIP_QEMU:-}" = 1 ]; then
        skip "$1" "$2 (SKIP_QEMU=1)"
        exit 0
    fi
    fail "$1" "$2 (SKIP_QEMU=1 skips the QEMU tests)"
    exit 1
}

# need_root NAME: cannot_run unless root with iproute2 (namespaces and taps).
need_root() {
    [ "$(id -u)" = 0 ] || cannot_run "$1" "needs root for a network namespace"
    command -v ip >/dev/null || cannot_run "$1" "needs iproute2 (make deps)"
}

# ---- clean-up on any exit

AT_EXIT=()

# at_exit CMD: runs the command line CMD (eval) when the script ends; the last
# registered runs first.
at_exit() {
    AT_EXIT=("$1" "${AT_EXIT[@]}")
    trap run_at_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

run_at_exit() {
    local c
    trap '' INT TERM HUP # a second signal must not cut the clean-up short
    for c in "${AT_EXIT[@]}"; do eval "$c"; done
    AT_EXIT=()
}

# stop_pid PID [GRACE]: ends a process this script started (by its pid): SIGTERM,
# then SIGKILL if it is still there GRACE seconds later (default 10).
stop_pid() {
    local pid=$1 grace=${2:-10} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < grace * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

# ---- QEMU without a network

QEMU_RUN_PID='' QEMU_RUN_ARMED=''

# qemu_run LOG TIMEOUT ARGS...: runs QEMU (no network) with the serial console
# in LOG; sets RC to QEMU's exit status (124 on timeout). Waited for in the
# background so that a signal reaches the script's trap at once.
qemu_run() {
    local log=$1 secs=$2
    shift 2
    [ -n "$QEMU_RUN_ARMED" ] || { at_exit stop_qemu_run; QEMU_RUN_ARMED=1; }
    timeout -k 5 "$secs" "$QEMU" "${QEMU_BASE[@]}" -serial "file:$log" "$@" \
        </dev/null >/dev/null 2>"$log.stderr" &
    QEMU_RUN_PID=$!
    wait "$QEMU_RUN_PID"
    RC=$?
    QEMU_RUN_PID=
}

# (timeout(1) passes the SIGTERM on to its QEMU and waits for it.)
stop_qemu_run() { stop_pid "$QEMU_RUN_PID"; QEMU_RUN_PID=; }

# ---- network namespaces

# netns_up NAME TAP...: creates the namespace NAME holding lo and the tap devices
# (up, IPv6 off so the host sends nothing of its own, no addresses), checks it
# has no default route, and registers its removal at exit. NAME should end in
# -$$: tests/run.sh then removes it should even SIGKILL end the script.
# Returns non-zero on failure (the caller reports it).
netns_up() {
    local ns=$1 tap
    shift
    if ip netns list | awk -v n="$ns" '$1 == n { found = 1 } END { exit !found }'; then
        echo "netns_up: namespace $ns already exists" >&2
        return 1
    fi
    ip netns add "$ns" || return 1
    at_exit "netns_down $ns"
    ip -n "$ns" link set lo up || return 1
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 || return 1
    for tap in "$@"; do
        ip -n "$ns" tuntap add dev "$tap" mode tap && ip -n "$ns" link set "$tap" up || return 1
    done
    if ip -n "$ns" route show default | grep -q . || ip -n "$ns" -6 route show default | grep -q .; then
        echo "netns_up: namespace $ns has a default route; refusing" >&2
        return 1
    fi
}

netns_down() { ip netns del "$1" 2>/dev/null; }

# ---- checks

# expect_rc NAME WANT LOG: pass/fail on RC (set by qemu_run).
expect_rc() {
    local name=$1 want=$2 log=$3
    if [ "$RC" = "$want" ]; then pass "$name"; else
        fail "$name" "QEMU exit status $RC, want $want; console: $(tail -c 400 "$log" | tr '\r\n' '  ')"
    fi
}

expect_log() {
    local name=$1 pattern=$2 log=$3
    if grep -qE -- "$pattern" "$log"; then pass "$name"; else
        fail "$name" "no line matching '$pattern' on the console: $(tail -c 400 "$log" | tr '\r\n' '  ')"
    fi
}
