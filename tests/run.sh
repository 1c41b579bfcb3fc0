#!/usr/bin/env bash
# Runs every test tier and ends with the line "N passed, N failed[, N skipped]".
# Usage: tests/run.sh [unit|qemu]...   (default: all tiers)
# Unit tests are cmocka binaries (TAP output); QEMU tests are scripts in
# tests/qemu/ whose lines are "PASS name", "FAIL name: why", "SKIP name: why".
cd "$(dirname "$0")/.." || exit 1
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit qemu)
npass=0 nfail=0 nskip=0
failures=()
mkdir -p build/test

count_tap() { # NAME FILE
    local p f
    p=$(grep -cE '^ok ' "$2")
    f=$(grep -cE '^not ok ' "$2")
    npass=$((npass + p))
    nfail=$((nfail + f))
    while read -r line; do failures+=("$1: $line"); done < <(grep -E '^not ok ' "$2")
}

run_unit() {
    local bin name
    for bin in build/unit/test_*; do
        [ -x "$bin" ] || continue
        name=$(basename "$bin")
        CMOCKA_MESSAGE_OUTPUT=TAP "$bin" > "build/test/$name.tap" 2>&1
        local rc=$?
        count_tap "$name" "build/test/$name.tap"
        if [ $rc -ne 0 ] && ! grep -qE '^not ok ' "build/test/$name.tap"; then
            nfail=$((nfail + 1)) # crashed (sanitizer, abort) before reporting
            failures+=("$name: exited with status $rc: $(tail -n 5 "build/test/$name.tap" | tr '\n' ' ')")
        fi
        echo "unit: $name: $(grep -cE '^ok ' "build/test/$name.tap") ok, $(grep -cE '^not ok ' "build/test/$name.tap") not ok"
    done
}

run_qemu() {
    local script name line
    for script in tests/qemu/[a-z]*.sh; do
        [ "$(basename "$script")" = lib.sh ] && continue
        name=$(basename "$script" .sh)
        echo "qemu: $name"
        bash "$script" > "build/test/qemu-$name.out" 2>&1
        while IFS= read -r line; do
            case "$line" in
            PASS\ *) npass=$((npass + 1)); echo "  $line" ;;
            FAIL\ *) nfail=$((nfail + 1)); failures+=("$name: $line"); echo "  $line" ;;
            SKIP\ *) nskip=$((nskip + 1)); echo "  $line" ;;
            esac
        done < "build/test/qemu-$name.out"
        if ! grep -qE '^(PASS|FAIL|SKIP) ' "build/test/qemu-$name.out"; then
            nfail=$((nfail + 1))
            failures+=("$name: reported nothing: $(tail -n 5 "build/test/qemu-$name.out" | tr '\n' ' ')")
        fi
    done
}

for t in "${tiers[@]}"; do
    case "$t" in
    unit) run_unit ;;
    qemu) run_qemu ;;
    *) echo "run.sh: unknown tier '$t' (unit, qemu)" >&2; exit 2 ;;
    esac
done

if [ ${#failures[@]} -gt 0 ]; then
    echo
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo
echo "$npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ]
