/* Multiboot v1 entry: GRUB or QEMU -kernel jumps to _start in 32-bit protected
 * mode with paging off, EAX = multiboot magic, EBX = multiboot info. We check for
 * long mode, identity-map the first 4 GiB with 2 MiB pages, enable PAE, long mode,
 * NX and SSE, load a 64-bit GDT and jump to kmain(magic, info) on a 16-byte aligned
 * stack with .bss cleared. */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-align modules, bit 1: memory map */

    .section .multiboot, "a"
    .align 4
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .boot.text, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    /* The TSC at the loader's hand-over, for the boot's time line (kernel/bootsteps.c). */
    mov %eax, %edi
    rdtsc
    mov %eax, boot_entry_tsc
    mov %edx, boot_entry_tsc + 4
    mov %edi, %eax
    /* cpuid clobbers EBX: keep the multiboot values in EDI/ESI. */
    mov %eax, %edi
    mov %ebx, %esi
    mov $boot_stack_top, %esp

    /* Long mode present? cpuid 0x80000001 EDX bit 29. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx
    jz no_long_mode
    mov %edx, %ebp /* EDX bit 20: NX available */

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
    mov $boot_pml4, %eax
    movl $boot_pdpt + 0x3, (%eax)
    mov $boot_pdpt, %eax
    movl $boot_pd + 0x3, 0(%eax)
    movl $boot_pd + 0x1003, 8(%eax)
    movl $boot_pd + 0x2003, 16(%eax)
    movl $boot_pd + 0x3003, 24(%eax)
    /* 2048 entries: present | writable | page size (2 MiB), physical i*2 MiB. */
    mov $boot_pd, %ebx
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, (%ebx, %ecx, 8)
    movl $0, 4(%ebx, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jne 1b

    /* CR4: PAE (5), OSFXSR (9), OSXMMEXCPT (10). */
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    /* EFER (0xC0000080): LME (8), NXE (11) when the CPU has NX. */
    mov $0xC0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    test $(1 << 20), %ebp
    jz 2f
    or $(1 << 11), %eax
2:  wrmsr
    /* CR0: PG (31), WP (16), MP (1); clear EM (2) so SSE works. */
    mov %cr0, %eax
    and $~(1 << 2), %eax
    or $((1 << 31) | (1 << 16) | (1 << 1)), %eax
    mov %eax, %cr0

    lgdt gdt_ptr
    ljmp $0x08, $long_entry

no_long_mode:
    /* Say so on COM1 and stop: there is nothing else we can do in 32-bit mode. */
    mov $msg_no_lm, %esi
3:  lodsb
    test %al, %al
    jz 4f
    mov $0x3f8, %dx
    out %al, %dx
    jmp 3b
4:  hlt
    jmp 4b

    .code64
long_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    /* Clear .bss (the page tables and boot stack live in .boot.bss, outside it),
     * eight bytes a step: under TCG every step of a rep is a pass through the
     * translated block (the linker script aligns both ends to 16). */
    push %rdi
    mov $__bss_start, %rdi
    mov $__bss_end, %rcx
    sub %rdi, %rcx
    shr $3, %rcx
    xor %eax, %eax
    rep stosq
    pop %rdi
    /* A per-boot stack-protector canary (before any protected function runs). */
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    mov $0x9E3779B97F4A7C15, %rdx
    imul %rdx, %rax
    mov %rax, __stack_chk_guard
    /* Upper halves are undefined after the mode switch: zero-extend the arguments. */
    mov %edi, %edi
    mov %esi, %esi
    mov $boot_stack_top, %rsp
    xor %ebp, %ebp
    call kmain
5:  cli
    hlt
    jmp 5b

    .section .data
    .align 8
    .globl boot_entry_tsc
boot_entry_tsc: .quad 0

    .section .rodata
msg_no_lm:
    .asciz "boot: this CPU has no long mode (x86_64 required)\r\n"

    .align 16
gdt:
    .quad 0
    .quad 0x00209A0000000000 /* 0x08: 64-bit code, present, ring 0 */
    .quad 0x0000920000000000 /* 0x10: data, present, writable */
gdt_end:
    .globl gdt_ptr
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt

    /* Page tables and the boot stack, page aligned, not cleared by the C .bss loop.
     * The page below the boot stack is its guard (unmapped by the kernel). */
    .section .boot.bss, "aw", @nobits
    .align 4096
    .globl boot_pml4, boot_pdpt, boot_pd
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4 * 4096
    .globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard: .skip 4096
boot_stack_bottom: .skip 64 * 1024
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
