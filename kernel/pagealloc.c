/* Bitmap page allocator: runs from the top, heap from the bottom. */
#include "pagealloc.h"

#include <string.h>

static int test(const struct pagealloc *pa, size_t i)
{
    return (int)(pa->bitmap[i / 64] >> (i % 64) & 1);
}

static void set_range(struct pagealloc *pa, size_t first, size_t n, int used)
{
    for (size_t i = first; i < first + n; i++) {
        uint64_t bit = 1ull << (i % 64);
        if (used && !(pa->bitmap[i / 64] & bit)) {
            pa->bitmap[i / 64] |= bit;
            pa->free_pages--;
        } else if (!used && (pa->bitmap[i / 64] & bit)) {
            pa->bitmap[i / 64] &= ~bit;
            pa->free_pages++;
        }
    }
}

void pa_init(struct pagealloc *pa, uintptr_t base, size_t npages, uint64_t *bitmap)
{
    memset(bitmap, 0, (npages + 63) / 64 * sizeof(uint64_t));
    *pa = (struct pagealloc){.base = base,
                             .npages = npages,
                             .bitmap = bitmap,
                             .free_pages = npages,
                             .low_water = npages};
}

void pa_reserve(struct pagealloc *pa, uintptr_t addr, size_t bytes)
{
    uintptr_t end = addr + bytes;
    uintptr_t top = pa->base + pa->npages * PA_PAGE;
    if (end <= pa->base || addr >= top)
        return;
    if (addr < pa->base)
        addr = pa->base;
    if (end > top)
        end = top;
    size_t first = (addr - pa->base) / PA_PAGE;
    size_t last = (end - pa->base + PA_PAGE - 1) / PA_PAGE;
    set_range(pa, first, last - first, 1);
}

uintptr_t pa_alloc(struct pagealloc *pa, size_t n)
{
    if (n == 0 || n > pa->free_pages)
        return 0;
    size_t run = 0;
    for (size_t i = pa->npages; i > pa->heap_pages; i--) {
        run = test(pa, i - 1) ? 0 : run + 1;
        if (run == n) {
            size_t first = i - 1;
            set_range(pa, first, n, 1);
            if (first < pa->low_water)
                pa->low_water = first;
            return pa->base + first * PA_PAGE;
        }
    }
    return 0;
}

void pa_free(struct pagealloc *pa, uintptr_t addr, size_t n)
{
    size_t first = (addr - pa->base) / PA_PAGE;
    if (addr < pa->base || first + n > pa->npages)
        return;
    set_range(pa, first, n, 0);
}

uintptr_t pa_heap_end(const struct pagealloc *pa)
{
    return pa->base + pa->heap_pages * PA_PAGE;
}

uintptr_t pa_heap_grow(struct pagealloc *pa, long delta)
{
    uintptr_t old = pa_heap_end(pa);
    if (delta < 0) {
        size_t d = (size_t)-delta;
        if (d > pa->heap_pages)
            return 0;
        pa->heap_pages -= d;
        set_range(pa, pa->heap_pages, d, 0);
        return old;
    }
    size_t d = (size_t)delta;
    if (pa->heap_pages + d > pa->npages)
        return 0;
    for (size_t i = pa->heap_pages; i < pa->heap_pages + d; i++)
        if (test(pa, i))
            return 0;
    set_range(pa, pa->heap_pages, d, 1);
    pa->heap_pages += d;
    return old;
}
