#!/usr/bin/env bash
# Boot tests without a network: -kernel and the GRUB ISO, the self-test, the
# panic path, command-line errors, and the hardening faults.
# timeout: 300
# needs: qemu
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
out=build/test/boot
mkdir -p "$out"

qemu_run "$out/selftest.log" 60 -kernel "$KERNEL" -append "mode=selftest"
expect_rc "boot-kernel-selftest-exit" $EXIT_OK "$out/selftest.log"
expect_log "boot-kernel-banner" "kernel: uknet booted" "$out/selftest.log"
expect_log "boot-kernel-selftest-summary" "selftest: [0-9]+ passed, 0 failed" "$out/selftest.log"

qemu_run "$out/iso.log" 90 -cdrom build/selftest.iso
expect_rc "boot-iso-selftest-exit" $EXIT_OK "$out/iso.log"
expect_log "boot-iso-banner" "kernel: uknet booted" "$out/iso.log"
expect_log "boot-iso-selftest-summary" "selftest: [0-9]+ passed, 0 failed" "$out/iso.log"

qemu_run "$out/panic.log" 30 -kernel "$KERNEL" -append "mode=panic"
expect_rc "panic-exit-status" $EXIT_FAIL "$out/panic.log"
expect_log "panic-message" "PANIC: panic requested on the command line" "$out/panic.log"
expect_log "panic-backtrace" "kmain\+0x" "$out/panic.log"

# An unknown key and a bad value: clear errors, defaults kept, still boots. The
# guest keeps running (no exit) until the timeout ends it.
qemu_run "$out/badcmd.log" 5 -kernel "$KERNEL" -append "colour=blue ip=10.0.0.300 log=info"
expect_log "cmdline-unknown-key" "cmdline: unknown key 'colour'" "$out/badcmd.log"
expect_log "cmdline-bad-value" "cmdline: bad value '10.0.0.300' for ip=" "$out/badcmd.log"
expect_log "cmdline-still-boots" "kernel: ready" "$out/badcmd.log"

# Hardening: each deliberate fault ends in a panic that names it.
declare -A want=(
    [stackoverflow]="stack overflow: thread 'overflow' ran into the guard page"
    [nullderef]="null pointer dereference"
    [wx]="page fault address .*protection violation, write"
    [stacksmash]="stack protector: stack smashed in smash"
)
for m in stackoverflow nullderef wx stacksmash; do
    qemu_run "$out/$m.log" 30 -kernel "$KERNEL" -append "mode=$m"
    expect_rc "fault-$m-exit-status" $EXIT_FAIL "$out/$m.log"
    expect_log "fault-$m-message" "${want[$m]}" "$out/$m.log"
done
