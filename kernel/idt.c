/* IDT set-up and the one dispatcher every interrupt stub calls. */
#include "idt.h"

#include <stddef.h>
#include "panic.h"

struct idt_entry {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
extern const uint64_t isr_stub_table[256];

/* Written by handlers at registration (thread context, before the device can
 * interrupt); read in interrupt context. */
static vector_fn handlers[256];
static void *handler_ctx[256];

void idt_set_handler(int v, vector_fn fn, void *ctx)
{
    handler_ctx[v] = ctx;
    handlers[v] = fn;
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t a = isr_stub_table[v];
        idt[v] = (struct idt_entry){
            .off_lo = (uint16_t)a,
            .sel = 0x08,
            /* Page and double faults on IST1 (kernel/gdt.c): guard-page hits. */
            .ist = (v == 8 || v == 14) ? 1 : 0,
            .type = 0x8E, /* present, ring 0, 64-bit interrupt gate */
            .off_mid = (uint16_t)(a >> 16),
            .off_hi = (uint32_t)(a >> 32),
        };
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) ptr = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(ptr));
}

void isr_dispatch(struct trap_frame *f);
void isr_dispatch(struct trap_frame *f)
{
    int v = (int)f->vector;
    if (v < 32)
        panic_exception(f);
    if (handlers[v])
        handlers[v](f, handler_ctx[v]);
}
