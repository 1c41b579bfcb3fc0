/* Multiboot v1 information: flags bit 2 = command line, bit 6 = memory map. */
#include "multiboot.h"

#include <string.h>

extern char __kernel_start[], __kernel_end[];

static uint32_t rd32(uint64_t a)
{
    return *(const volatile uint32_t *)(uintptr_t)a;
}
static uint64_t rd64(uint64_t a)
{
    return *(const volatile uint64_t *)(uintptr_t)a;
}

static void parse_mmap(uint64_t addr, uint32_t len, struct boot_info *bi)
{
    uint64_t kstart = (uintptr_t)__kernel_start, kend = (uintptr_t)__kernel_end;
    for (uint64_t p = addr; p + 24 <= addr + len; p += rd32(p) + 4) {
        uint64_t base = rd64(p + 4), size = rd64(p + 12);
        if (rd32(p + 20) != 1) /* 1 = available RAM */
            continue;
        bi->ram_total += size;
        if (base <= kstart && kend <= base + size) {
            bi->ram_lo = kend;
            bi->ram_hi = base + size;
        }
    }
    if (bi->ram_hi > 0x100000000ull) /* identity map covers 4 GiB */
        bi->ram_hi = 0x100000000ull;
    bi->has_mmap = bi->ram_hi > bi->ram_lo;
}

int multiboot_parse(uint32_t magic, uint32_t mbi, struct boot_info *bi)
{
    memset(bi, 0, sizeof *bi);
    if (magic != MULTIBOOT_BOOT_MAGIC)
        return -1;
    uint32_t flags = rd32(mbi);
    if (flags & (1u << 2)) {
        /* A plain loop: bi is zeroed, so the copy stays terminated (strncpy
         * would zero the rest once more, and is a dozen blocks to translate). */
        const char *s = (const char *)(uintptr_t)rd32(mbi + 16);
        for (size_t i = 0; i < sizeof bi->cmdline - 1 && s[i]; i++)
            bi->cmdline[i] = s[i];
    }
    if (flags & (1u << 6))
        parse_mmap(rd32(mbi + 48), rd32(mbi + 44), bi);
    return 0;
}
