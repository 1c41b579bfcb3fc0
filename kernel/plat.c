/* The kernel's implementation of kernel/platform.h. */
#include "platform.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "mem.h"
#include "panic.h"
#include "serial.h"
#include "timer.h"

uint64_t plat_now_ns(void)
{
    return timer_now_ns();
}

/* Called with interrupts masked after the scheduler found nothing runnable. The
 * one-shot timer is programmed for the deadline (or stopped: nothing pending, so
 * nothing wakes the CPU but a device). sti;hlt is atomic (sti takes effect after
 * the next instruction), so an interrupt that arrived since the check, the
 * timer's included, still ends the hlt. */
void plat_idle_until(uint64_t deadline_ns)
{
    if (deadline_ns != UINT64_MAX && deadline_ns <= timer_now_ns())
        return; /* already due: the scheduler loop wakes the sleeper */
    timer_arm(deadline_ns);
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* One extra page below the stack, unmapped: an overflow faults there. Not
 * zeroed: nothing reads a stack slot before writing it. */
void *plat_stack_alloc(size_t size)
{
    size_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE + 1;
    char *base = page_alloc_uninit(pages);
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

void plat_log_write(enum log_level lvl, const char *line, size_t len)
{
    (void)lvl;
    serial_write(line, len);
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

static void cpuid_leaf(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(0));
}

/* CPUID.1:ECX bit 31 says a hypervisor is there; leaf 0x40000000 names it. */
void plat_hypervisor(char out[13])
{
    uint32_t r[4];
    out[0] = 0;
    cpuid_leaf(1, r);
    if (!(r[2] & (1u << 31)))
        return;
    cpuid_leaf(0x40000000u, r);
    memcpy(out, &r[1], 4);
    memcpy(out + 4, &r[2], 4);
    memcpy(out + 8, &r[3], 4);
    out[12] = 0;
}
