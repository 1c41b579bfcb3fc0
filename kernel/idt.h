/* The IDT, the saved register frame of an interrupt, and vector dispatch.
 * Vectors 0-31 are CPU exceptions (each panics with its name), 32-47 the remapped
 * PIC lines, 48-239 handed out for MSI/MSI-X, 255 the local APIC spurious vector. */
#ifndef IDT_H
#define IDT_H

#include <stdint.h>

#define IDT_PIC_BASE 32
#define IDT_DYN_FIRST 48
#define IDT_DYN_LAST 239
#define IDT_SPURIOUS 255

/* As isr.S lays it out on the stack, lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*vector_fn)(struct trap_frame *f, void *ctx);

void idt_init(void);
/* Installs fn for vector v (device vectors only). */
void idt_set_handler(int v, vector_fn fn, void *ctx);

#endif
