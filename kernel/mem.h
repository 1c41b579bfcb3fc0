/* Physical memory: a page allocator over the RAM the multiboot memory map reports,
 * and DMA memory for devices (physically contiguous, aligned, zeroed). All RAM
 * below 4 GiB is identity-mapped, so a pointer is its own physical address.
 * Thread context only. */
#ifndef MEM_H
#define MEM_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096u

/* npages contiguous zeroed pages, or NULL. */
void *page_alloc(size_t npages);
/* The same without the zeroing, for memory its user fills before reading it
 * (stacks, page tables, packet buffers): zeroing is not free under TCG, and
 * the RAM may hold anything the loader or the firmware left there anyway. */
void *page_alloc_uninit(size_t npages);
void page_free(void *p, size_t npages);

/* size bytes of zeroed, physically contiguous memory aligned to align (a power of
 * two, at most PAGE_SIZE; larger sizes are page-aligned anyway). NULL when out. */
void *dma_alloc(size_t size, size_t align);
/* DMA memory whose contents nobody reads before writing them (packet buffers:
 * the device fills received ones, the stack the ones it sends): not zeroed. */
void *dma_alloc_buffers(size_t size);
void dma_free(void *p, size_t size);

static inline uint64_t virt_to_phys(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* Unmap one 4 KiB page (guard pages); splits a 2 MiB mapping if needed. */
void vm_unmap_page(void *page);
void vm_map_page(void *page); /* maps it back, read/write */

struct mem_stats {
    uint64_t total_pages, free_pages, dma_bytes, heap_bytes;
};
void mem_get_stats(struct mem_stats *out);

#endif
