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

static void protect_range(uintptr_t lo, uintptr_t hi, uint64_t flags)
{
    for (uintptr_t a = lo; a < hi; a += PAGE_SIZE)
        *pte_for(a) = a | flags;
}

int vm_protect_kernel(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(EFER_MSR));
    nx_bit = (((uint64_t)hi << 32 | lo) & EFER_NXE) ? PTE_NX : 0;
    uintptr_t text = (uintptr_t)__text_start, etext = (uintptr_t)__text_end;
    uintptr_t ro = (uintptr_t)__rodata_start, ero = (uintptr_t)__rodata_end;
    uintptr_t end = (uintptr_t)__kernel_end;
    /* The image's 2 MiB page(s) become 4 KiB pages first (still executable, since
     * we are running there), then get their final rights: text read-only and
     * executable, rodata read-only, the rest read/write and never executable. */
    protect_range(0, text, PTE_P | PTE_W | nx_bit);
    protect_range(text, page_up(etext), PTE_P);
    protect_range(page_up(etext), ro, PTE_P | PTE_W | nx_bit);
    protect_range(ro, page_up(ero), PTE_P | nx_bit);
    protect_range(page_up(ero), (end + 0x1FFFFF) & ~(uintptr_t)0x1FFFFF,
                  PTE_P | PTE_W | nx_bit);
    /* Every other (still 2 MiB) page: data only. */
    for (int i = 0; i < 4 * 512; i++)
        if (boot_pd[i] & PTE_PS)
            boot_pd[i] |= nx_bit;
    /* Page 0 stays unmapped so a null pointer faults. */
    *pte_for(0) = 0;
    flush_all();
    return nx_bit != 0;
}
