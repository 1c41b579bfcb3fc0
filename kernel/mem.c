/* Physical memory: the multiboot region handed to the bitmap page allocator
 * (the bitmap itself lives at the bottom of the region), page and DMA allocation,
 * and newlib's sbrk on the heap end of the same region. */
#include "mem.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "multiboot.h"
#include "pagealloc.h"
#include "panic.h"

static struct pagealloc pa;
static uint64_t dma_bytes;

void mem_init(const struct boot_info *bi);
void mem_init(const struct boot_info *bi)
{
    uintptr_t lo = (uintptr_t)((bi->ram_lo + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1));
    uintptr_t hi = (uintptr_t)(bi->ram_hi & ~(uint64_t)(PAGE_SIZE - 1));
    if (!bi->has_mmap || hi <= lo + 64 * PAGE_SIZE)
        panic("mem: no usable RAM region after the kernel in the multiboot memory map");
    size_t npages = (hi - lo) / PAGE_SIZE;
    size_t bitmap_bytes = (npages + 63) / 64 * 8;
    pa_init(&pa, lo, npages, (uint64_t *)lo);
    pa_reserve(&pa, lo, bitmap_bytes);
    /* The heap starts above the bitmap. */
    pa.heap_pages = (bitmap_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

void *page_alloc_uninit(size_t npages)
{
    return (void *)pa_alloc(&pa, npages);
}

void *page_alloc(size_t npages)
{
    void *p = page_alloc_uninit(npages);
    if (p)
        memset(p, 0, npages * PAGE_SIZE);
    return p;
}

void page_free(void *p, size_t npages)
{
    pa_free(&pa, (uintptr_t)p, npages);
}

/* Small DMA objects (descriptor rings, buffers) are rounded up to whole pages:
 * simple, always contiguous, and callers allocate them once at set-up. */
static void *dma_pages(size_t size, bool zero)
{
    size_t n = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    void *p = zero ? page_alloc(n) : page_alloc_uninit(n);
    if (p)
        dma_bytes += n * PAGE_SIZE;
    return p;
}

void *dma_alloc(size_t size, size_t align)
{
    (void)align; /* every allocation is page aligned */
    return dma_pages(size, true);
}

void *dma_alloc_buffers(size_t size)
{
    return dma_pages(size, false);
}

void dma_free(void *p, size_t size)
{
    size_t n = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    page_free(p, n);
    dma_bytes -= n * PAGE_SIZE;
}

void mem_get_stats(struct mem_stats *out)
{
    out->total_pages = pa.npages;
    out->free_pages = pa.free_pages;
    out->dma_bytes = dma_bytes;
    out->heap_bytes = pa.heap_pages * PAGE_SIZE;
}

/* newlib's heap: grows by whole pages from the bottom of the region. */
static uintptr_t brk_cur;

void *sbrk(ptrdiff_t incr);
void *sbrk(ptrdiff_t incr)
{
    if (!brk_cur)
        brk_cur = pa_heap_end(&pa);
    uintptr_t old = brk_cur, want = brk_cur + (uintptr_t)incr;
    uintptr_t end = pa_heap_end(&pa);
    if (want > end) {
        long pages = (long)((want - end + PAGE_SIZE - 1) / PAGE_SIZE);
        if (!pa_heap_grow(&pa, pages)) {
            errno = ENOMEM;
            return (void *)-1;
        }
    }
    brk_cur = want;
    return (void *)old;
}
