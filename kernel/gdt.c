/* The kernel's own GDT with a TSS, so that page faults and double faults run on
 * a separate interrupt stack (IST1): a thread that overflows into its guard page
 * then gets a clear panic instead of a triple fault. */
#include <stdint.h>
#include <string.h>
#include "idt.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

static struct tss tss;
static uint64_t gdt[5] __attribute__((aligned(16)));
static uint8_t ist_stack[16384] __attribute__((aligned(16)));

void gdt_init(void);
void gdt_init(void)
{
    memset(&tss, 0, sizeof tss);
    tss.ist[0] = (uint64_t)(uintptr_t)(ist_stack + sizeof ist_stack);
    tss.iomap_base = sizeof tss;
    uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof tss - 1;
    gdt[0] = 0;
    gdt[1] = 0x00209A0000000000ull; /* 0x08: 64-bit code */
    gdt[2] = 0x0000920000000000ull; /* 0x10: data */
    /* 0x18: 16-byte available 64-bit TSS descriptor. */
    gdt[3] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ull << 40 |
             ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
    gdt[4] = base >> 32;
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) ptr = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0\n\t"
                     "ltr %w1" ::"m"(ptr),
                     "r"(0x18)
                     : "memory");
}
