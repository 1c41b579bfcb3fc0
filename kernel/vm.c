/* Identity-map edits: 2 MiB pages split on demand into 4 KiB page tables. */
#include "vm.h"

#include <stdint.h>
#include "mem.h"
#include "panic.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define EFER_MSR 0xC0000080
#define EFER_NXE (1ull << 11)

extern uint64_t boot_pd[4 * 512]; /* boot.S: 2048 PD entries covering 4 GiB */
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __kernel_end[];

static uint64_t nx_bit;

static void invlpg(uintptr_t a)
{
    __asm__ volatile("invlpg (%0)" ::"r"(a) : "memory");
}

static void flush_all(void)
{
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

/* The 4 KiB entry for addr, splitting its 2 MiB page first if needed. */
static uint64_t *pte_for(uintptr_t addr)
{
    if (addr >= 0x100000000ull)
        panic("vm: 0x%lx is outside the identity map", (unsigned long)addr);
    uint64_t *pde = &boot_pd[addr >> 21];
    if (*pde & PTE_PS) {
        uint64_t *pt = page_alloc_uninit(1); /* all 512 entries written below */
        if (!pt)
            panic("vm: out of memory splitting a 2 MiB page");
        uint64_t base = *pde & PTE_ADDR & ~0x1FFFFFull;
        uint64_t flags = *pde & (PTE_P | PTE_W | PTE_NX);
        for (int i = 0; i < 512; i++)
            pt[i] = (base + (uint64_t)i * PAGE_SIZE) | flags;
        *pde = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W;
        flush_all();
    }
    uint64_t *pt = (uint64_t *)(uintptr_t)(*pde & PTE_ADDR);
    return &pt[(addr >> 12) & 511];
}

void vm_unmap_page(void *page)
{
    uintptr_t a = (uintptr_t)page & ~(uintptr_t)(PAGE_SIZE - 1);
    *pte_for(a) &= ~PTE_P;
    invlpg(a);
}

void vm_map_page(void *page)
{
    uintptr_t a = (uintptr_t)page & ~(uintptr_t)(PAGE_SIZE - 1);
    *pte_for(a) = a | PTE_P | PTE_W | nx_bit;
    invlpg(a);
}

static uintptr_t page_up(uintptr_t a)
{
    return (a + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1);
}

/* The final rights of the image's 4 KiB page at a: text read-only and
 * executable, rodata read-only, the rest read/write and never executable.
 * lim: text start and end, rodata start and end, page-aligned. */
static uint64_t image_rights(uintptr_t a, const uintptr_t lim[4])
{
    if (a >= lim[0] && a < lim[1])
        return PTE_P;
    if (a >= lim[2] && a < lim[3])
        return PTE_P | nx_bit;
    return PTE_P | PTE_W | nx_bit;
}

/* The image's 2 MiB page(s), split into 4 KiB pages that get their final rights
 * as the table is filled: one pass, and the table is complete before the
 * directory points at it (we run from there). Under TCG every new piece of
 * code costs its translation, so the boot path has the fewest. */
static void split_image(uintptr_t end, const uintptr_t lim[4])
{
    for (uintptr_t big = 0; big < end; big += 0x200000) {
        uint64_t *pde = &boot_pd[big >> 21];
        uint64_t *pt = page_alloc_uninit(1);
        if (!pt)
            panic("vm: out of memory splitting a 2 MiB page");
        for (int i = 0; i < 512; i++) {
            uintptr_t a = big + (uintptr_t)i * PAGE_SIZE;
            pt[i] = a | image_rights(a, lim);
        }
        *pde = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W;
    }
}

int vm_protect_kernel(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(EFER_MSR));
    nx_bit = (((uint64_t)hi << 32 | lo) & EFER_NXE) ? PTE_NX : 0;
    const uintptr_t lim[4] = {(uintptr_t)__text_start, page_up((uintptr_t)__text_end),
                              (uintptr_t)__rodata_start,
                              page_up((uintptr_t)__rodata_end)};
    split_image((uintptr_t)__kernel_end, lim);
    /* Every other (still 2 MiB) page: data only. */
    for (int i = 0; i < 4 * 512; i++)
        if (boot_pd[i] & PTE_PS)
            boot_pd[i] |= nx_bit;
    /* Page 0 stays unmapped so a null pointer faults. */
    *pte_for(0) = 0;
    flush_all(); /* the old 2 MiB mapping of the image, and the rights */
    return nx_bit != 0;
}
