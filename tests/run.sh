#!/usr/bin/env bash
# Runs every test tier and ends with the line "N passed, N failed, N skipped";
# exits non-zero when anything failed.
# Usage: tests/run.sh [unit|qemu]...   (default: all tiers)
# Unit tests are cmocka binaries (TAP output); QEMU tests are scripts in
# tests/qemu/ whose lines are "PASS name", "FAIL name: why", "SKIP name: why".
#
# Nothing can hide: each binary and script runs under a hard time limit in a
# session of its own (tests/lib/timebox.py: SIGTERM to the whole session at the
# limit, SIGKILL TEST_GRACE seconds later). One more FAIL, naming the test and
# showing the tail of its output, when it timed out, died of a signal, exited
# non-zero without printing a FAIL line, printed no result line at all, or left
# a process or a network namespace behind (which is then stopped or removed).
#
# Environment:
#   TESTS_ONLY="PAT ..."  only the tests whose name (test_arp, reflect, ...)
#                         matches one of these shell patterns
#   TEST_TIMEOUT=N        the limit of every test, in seconds; by default a
#                         script's "# timeout: N" line (else 900 s), 300 s for a
#                         unit test binary
#   TEST_GRACE=N          seconds between SIGTERM and SIGKILL (default 15)
#   SKIP_QEMU=1           the QEMU tier (the scripts whose "# needs:" line names
#                         root or qemu; default both) is not run, reported as one
#                         SKIP line. Without it, a tier that cannot run (not
#                         root, no qemu-system-x86_64 with TCG) is a FAIL.
cd "$(dirname "$0")/.." || exit 1
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit qemu)
npass=0 nfail=0 nskip=0 nselected=0
failures=()
GRACE=${TEST_GRACE:-15}
mkdir -p build/test
# A signal (Ctrl-C) reaches timebox.py too, which stops the running test's
# session; the run then ends after that test, with a FAIL that says so.
INTERRUPTED=
trap 'INTERRUPTED=1' INT TERM HUP

if [ ! -x /usr/bin/python3 ]; then
    echo "run.sh: /usr/bin/python3 missing (make deps)" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi

# selected NAME: whether TESTS_ONLY (if set) lets NAME run.
selected() {
    local pat pats
    read -ra pats <<<"${TESTS_ONLY:-*}" # (read: the patterns are not globbed here)
    for pat in "${pats[@]}"; do
        # shellcheck disable=SC2053 # a pattern on purpose
        [[ $1 == $pat ]] && { nselected=$((nselected + 1)); return 0; }
    done
    return 1
}

fail_line() { # NAME WHY: one FAIL of the runner's own
    nfail=$((nfail + 1))
    failures+=("$1: $2")
    echo "  FAIL $1: $2"
}

tail_of() { tail -n "${2:-5}" "$1" 2>/dev/null | tr '\r\n' '  ' | cut -c1-600; }

# timeboxed NAME LIMIT LOG CMD...: runs CMD under timebox.py; sets RC and
# PROBLEMS (timebox's lines: timeout, signal, left-process, left-netns).
timeboxed() {
    local name=$1 limit=$2 log=$3
    shift 3
    PROBLEMS=$(/usr/bin/python3 tests/lib/timebox.py "$limit" "$GRACE" "$log" -- "$@")
    RC=$?
}

# judge NAME LOG RESULTS_RE FAILS_RE: one FAIL for whatever went wrong with the
# test as a whole (RC, PROBLEMS from timeboxed; RESULTS_RE matches its result
# lines, FAILS_RE its failure lines).
judge() {
    local name=$1 log=$2 results=$3 fails=$4 why=() line killed='' secs how
    while IFS= read -r line; do
        case "$line" in
        timeout\ *) read -r _ secs how <<<"$line"
                    why+=("timed out after $secs s (ended by $how)"); killed=1 ;;
        signal\ *) why+=("killed by ${line#signal }"); killed=1 ;;
        left-process\ *) why+=("left process ${line#left-process } running (stopped)") ;;
        left-netns\ *) why+=("left namespace ${line#left-netns } behind (removed)") ;;
        ?*) why+=("$line") ;;
        esac
    done <<<"$PROBLEMS"
    if [ "$RC" -ne 0 ] && [ -z "$killed" ] && ! grep -qE "$fails" "$log"; then
        why+=("exited with status $RC without a FAIL line")
    fi
    if ! grep -qE "$results" "$log"; then
        why+=("printed no result line")
    fi
    [ ${#why[@]} -eq 0 ] && return
    fail_line "$name" "$(printf '%s; ' "${why[@]}")output tail: $(tail_of "$log")"
}

count_tap() { # NAME FILE
    local p f
    p=$(grep -cE '^ok ' "$2")
    f=$(grep -cE '^not ok ' "$2")
    npass=$((npass + p))
    nfail=$((nfail + f))
    while read -r line; do failures+=("$1: $line"); done < <(grep -E '^not ok ' "$2")
}

run_unit() {
    local bin name log found=
    for bin in build/unit/test_*; do
        [ -x "$bin" ] || continue
        found=1
        name=$(basename "$bin")
        selected "$name" || continue
        log=build/test/$name.tap
        CMOCKA_MESSAGE_OUTPUT=TAP timeboxed "$name" "${TEST_TIMEOUT:-300}" "$log" "$bin"
        count_tap "$name" "$log"
        [ -z "$INTERRUPTED" ] || return
        echo "unit: $name: $(grep -cE '^ok ' "$log") ok, $(grep -cE '^not ok ' "$log") not ok"
        judge "$name" "$log" '^(not )?ok ' '^not ok '
    done
    [ -n "$found" ] || fail_line unit "no test binaries in build/unit (make unit)"
}

header() { # SCRIPT KEY: the value of its "# KEY: value" line
    sed -n "s/^# $2: *//p" "$1" | head -n 1
}

# qemu_unmet NEEDS: why a script needing these cannot run here (empty: it can).
qemu_unmet() {
    local why=() q=${QEMU:-qemu-system-x86_64}
    if [[ " $1 " == *" root "* ]] && [ "$(id -u)" != 0 ]; then
        why+=("not root (network namespaces and taps need root)")
    fi
    if [[ " $1 " == *" qemu "* ]]; then
        if ! command -v "$q" >/dev/null; then
            why+=("no $q (make deps)")
        elif ! "$q" -accel help 2>/dev/null | grep -qx tcg; then
            why+=("$q has no TCG accelerator")
        fi
    fi
    [ ${#why[@]} -eq 0 ] || printf '%s; ' "${why[@]}" | sed 's/; $//'
}

run_qemu() {
    local script name needs unmet limit log line t0 blocked=() reasons=
    for script in tests/qemu/[a-z]*.sh; do
        name=$(basename "$script" .sh)
        [ "$name" = lib ] && continue
        selected "$name" || continue
        needs=$(header "$script" needs)
        needs=${needs:-root qemu}
        unmet=$(qemu_unmet "$needs")
        if [[ " $needs " == *" root "* || " $needs " == *" qemu "* ]] &&
            { [ "${SKIP_QEMU:-}" = 1 ] || [ -n "$unmet" ]; }; then
            blocked+=("$name")
            [ -n "$unmet" ] && [[ "$reasons" != *"$unmet"* ]] && reasons+="${reasons:+; }$unmet"
            continue
        fi
        limit=${TEST_TIMEOUT:-$(header "$script" timeout)}
        log=build/test/qemu-$name.out
        echo "qemu: $name (limit ${limit:-900} s)"
        t0=$SECONDS
        timeboxed "$name" "${limit:-900}" "$log" bash "$script"
        while IFS= read -r line; do
            case "$line" in
            PASS\ *) npass=$((npass + 1)); echo "  $line" ;;
            FAIL\ *) nfail=$((nfail + 1)); failures+=("$name: $line"); echo "  $line" ;;
            SKIP\ *) nskip=$((nskip + 1)); echo "  $line" ;;
            esac
        done <"$log"
        echo "  ($name: exit status $RC after $((SECONDS - t0)) s)"
        [ -z "$INTERRUPTED" ] || return
        judge "$name" "$log" '^(PASS|FAIL|SKIP) ' '^FAIL '
    done
    [ ${#blocked[@]} -gt 0 ] || return 0
    if [ "${SKIP_QEMU:-}" = 1 ]; then
        nskip=$((nskip + 1))
        echo "qemu: tier skipped"
        echo "  SKIP qemu-tier: not run (SKIP_QEMU=1): ${blocked[*]}${reasons:+; it could not run here anyway: $reasons}"
    else
        echo "qemu: tier cannot run"
        fail_line qemu-tier "cannot run ${blocked[*]}: $reasons (SKIP_QEMU=1 skips the QEMU tier)"
    fi
}

for t in "${tiers[@]}"; do
    case "$t" in
    unit) run_unit ;;
    qemu) run_qemu ;;
    *) echo "run.sh: unknown tier '$t' (unit, qemu)" >&2; exit 2 ;;
    esac
    [ -z "$INTERRUPTED" ] || break
done
if [ -n "$INTERRUPTED" ]; then
    fail_line run.sh "interrupted by a signal: the test running then was stopped, the rest did not run"
fi
if [ -n "${TESTS_ONLY:-}" ] && [ "$nselected" -eq 0 ]; then
    fail_line run.sh "TESTS_ONLY='$TESTS_ONLY' matches no test of tier(s) ${tiers[*]}"
fi

if [ ${#failures[@]} -gt 0 ]; then
    echo
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ]
