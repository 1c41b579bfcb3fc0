/* Page allocator logic over one contiguous range of pages, as a bitmap: page runs
 * are taken from the top down, while the heap (newlib's sbrk) grows from the bottom
 * up; the two meet in the middle, so neither needs a fixed share of RAM.
 * Portable (no hardware): kernel/mem.c feeds it the RAM from the multiboot memory
 * map; host tests feed it a malloc'd range. Thread context only. */
#ifndef PAGEALLOC_H
#define PAGEALLOC_H

#include <stddef.h>
#include <stdint.h>

#define PA_PAGE 4096u

struct pagealloc {
    uintptr_t base; /* address of page 0 (page aligned) */
    size_t npages;
    uint64_t *bitmap;  /* 1 = in use; ceil(npages/64) words */
    size_t heap_pages; /* pages [0, heap_pages) belong to the heap */
    size_t free_pages;
    size_t low_water; /* lowest page index handed out by pa_alloc (npages if none) */
};

/* bitmap must hold (npages + 63) / 64 words; it is cleared. */
void pa_init(struct pagealloc *pa, uintptr_t base, size_t npages, uint64_t *bitmap);
/* Marks [addr, addr + bytes) used (memory that is not ours to hand out). */
void pa_reserve(struct pagealloc *pa, uintptr_t addr, size_t bytes);
/* n contiguous pages (highest free run), or 0. Not zeroed. */
uintptr_t pa_alloc(struct pagealloc *pa, size_t n);
void pa_free(struct pagealloc *pa, uintptr_t addr, size_t n);
/* Grows (delta > 0) or shrinks the heap by whole pages; returns the old heap end
 * address, or 0 when the pages above it are taken or out of range. */
uintptr_t pa_heap_grow(struct pagealloc *pa, long delta_pages);
uintptr_t pa_heap_end(const struct pagealloc *pa);

#endif
