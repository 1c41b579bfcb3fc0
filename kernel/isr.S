/* Interrupt entry stubs for all 256 vectors. Each pushes an error code (a zero
 * where the CPU pushes none) and its vector, then the common path saves every
 * general register and the SSE state (interrupted code may be in the middle of
 * newlib's SSE code), calls isr_dispatch(frame) on a 16-byte aligned stack, and
 * restores it all. */


    .text
    .code64

    .macro stub v
    .align 16
isr_stub_\v:
    .if !(\v == 8 || (\v >= 10 && \v <= 14) || \v == 17 || \v == 21 || \v == 29 || \v == 30)
    pushq $0
    .endif
    pushq $\v
    jmp isr_common
    .endm

    .macro tabent v
    .quad isr_stub_\v
    .endm

    .altmacro
    .set v, 0
    .rept 256
    stub %v
    .set v, v + 1
    .endr

isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi      /* struct trap_frame * */
    mov %rsp, %rbx      /* callee-saved: to restore after the aligned area */
    sub $512, %rsp
    and $~15, %rsp
    fxsave (%rsp)
    mov %rsp, %r12
    /* A frame-pointer link so backtraces from a panic walk into the interrupted code. */
    mov 17*8(%rbx), %rax       /* interrupted rip: after 15 registers, vector, error */
    push %rax
    push %rbp
    mov %rsp, %rbp
    call isr_dispatch
    mov %r12, %rsp
    fxrstor (%rsp)
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp       /* vector and error code */
    iretq

    .section .rodata
    .align 8
    .globl isr_stub_table
isr_stub_table:
    .set v, 0
    .rept 256
    tabent %v
    .set v, v + 1
    .endr

    .section .note.GNU-stack, "", @progbits
