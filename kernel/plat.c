/* The kernel's implementation of kernel/platform.h. */
#include "platform.h"

#include <stdarg.h>
#include <stdio.h>
#include "mem.h"
#include "panic.h"
#include "timer.h"

uint64_t plat_now_ns(void)
{
    return timer_now_ns();
}

/* Called with interrupts masked after the scheduler found nothing runnable:
 * sti;hlt is atomic (sti takes effect after the next instruction), so an interrupt
 * that arrived since the check still ends the hlt. The 1 kHz tick bounds the
 * sleep, so deadlines are seen within a millisecond. */
void plat_idle_until(uint64_t deadline_ns)
{
    (void)deadline_ns;
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* One extra page below the stack, unmapped: an overflow faults there. */
void *plat_stack_alloc(size_t size)
{
    size_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE + 1;
    char *base = page_alloc(pages);
    if (!base)
        return NULL;
    vm_unmap_page(base);
    return base + PAGE_SIZE;
}

void plat_stack_free(void *stack, size_t size)
{
    size_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE + 1;
    char *base = (char *)stack - PAGE_SIZE;
    vm_map_page(base);
    page_free(base, pages);
}

unsigned long plat_irq_save(void)
{
    unsigned long flags;
    __asm__ volatile("pushfq; pop %0; cli" : "=r"(flags)::"memory");
    return flags;
}

void plat_irq_restore(unsigned long flags)
{
    if (flags & (1ul << 9))
        __asm__ volatile("sti" ::: "memory");
}

void plat_panic(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    panic("%s", buf);
}
