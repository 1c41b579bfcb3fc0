# Shared helpers for the QEMU tests (sourced). Each test prints one line per
# check: "PASS name", "FAIL name: why" or "SKIP name: why"; tests/run.sh counts them.
# QEMU exit statuses from isa-debug-exit: 33 = the guest's success, 35 = failure.

QEMU=${QEMU:-qemu-system-x86_64}
KERNEL=${KERNEL:-build/kernel.elf}
EXIT_OK=33
EXIT_FAIL=35
QEMU_BASE=(-accel tcg -m 64 -nodefaults -nographic -no-reboot -monitor none
           -device isa-debug-exit,iobase=0xf4,iosize=0x04)

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# qemu_run LOG TIMEOUT ARGS...: runs QEMU (no network) with the serial console
# in LOG; sets RC to QEMU's exit status (124 on timeout).
qemu_run() {
    local log=$1 secs=$2
    shift 2
    timeout "$secs" "$QEMU" "${QEMU_BASE[@]}" -serial "file:$log" "$@" </dev/null >/dev/null 2>"$log.stderr"
    RC=$?
}

# check NAME COND_DESCRIPTION: pass/fail on the exit status of the previous command.
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
