/* Context switch for the cooperative scheduler (kernel/sched.c), x86_64 SysV.
 * Plain assembly shared by the freestanding kernel and the host test build.
 *
 * void sched_switch(void **save_rsp, void *new_rsp)
 *   Pushes the callee-saved registers (rbp, rbx, r12-r15) on the current stack,
 *   stores rsp in *save_rsp, loads new_rsp and pops the same registers from the
 *   other stack. The caller-saved registers are dead across a call, so they need
 *   no saving. MXCSR and the x87 control word are callee-saved too, but nothing
 *   in the system changes them, so they are not switched.
 *
 * sched_thread_start
 *   First code of a new context. sched.c builds its stack so that sched_switch's
 *   pops load r12 = entry function and r13 = its argument, then `ret`s here with
 *   rsp 16-byte aligned; the `call` pushes 8 bytes, so the entry function starts
 *   with rsp = 8 (mod 16), exactly as SysV requires (SSE spills use movaps).
 *   The entry function must not return. */

    .text

    .globl sched_switch
    .type sched_switch, @function
    .p2align 4
sched_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size sched_switch, . - sched_switch

    .globl sched_thread_start
    .type sched_thread_start, @function
    .p2align 4
sched_thread_start:
    .cfi_startproc
    .cfi_undefined %rip         /* outermost frame: backtraces stop here */
    xorl %ebp, %ebp
    movq %r13, %rdi
    callq *%r12
    ud2                         /* the entry function returned: a bug */
    .cfi_endproc
    .size sched_thread_start, . - sched_thread_start

    .section .note.GNU-stack,"",@progbits
