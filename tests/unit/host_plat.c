/* Host implementation of kernel/platform.h for unit tests: fake clock, idle that
 * advances it (or panics on a deadlock), stacks from aligned_alloc, interrupt
 * masking as a flag (checked, so code that idles without masking fails), and a
 * panic that prints and aborts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/platform.h"
#include "tests/unit/host_plat.h"

#define HOST_STACK_ALIGN 4096

static uint64_t clock_ns;
static uint64_t idle_calls;
static size_t stacks_live;
static unsigned long irq_masked; /* 1 while "interrupts are off" */
static host_idle_fn idle_hook;
static void *idle_hook_arg;
static host_unmask_fn unmask_hook;

void host_clock_set(uint64_t ns)
{
    clock_ns = ns;
}

void host_clock_advance(uint64_t ns)
{
    clock_ns += ns;
}

void host_set_idle_hook(host_idle_fn fn, void *arg)
{
    idle_hook = fn;
    idle_hook_arg = arg;
}

void host_set_unmask_hook(host_unmask_fn fn)
{
    unmask_hook = fn;
}

uint64_t host_idle_calls(void)
{
    return idle_calls;
}

size_t host_stacks_live(void)
{
    return stacks_live;
}

bool host_irq_masked(void)
{
    return irq_masked != 0;
}

uint64_t plat_now_ns(void)
{
    return clock_ns;
}

/* Called with interrupts masked (the kernel's version does sti;hlt atomically). */
void plat_idle_until(uint64_t deadline_ns)
{
    KCHECK(irq_masked);
    idle_calls++;
    if (idle_hook && idle_hook(deadline_ns, idle_hook_arg))
        return;
    if (deadline_ns == UINT64_MAX)
        plat_panic("deadlock: idle with no deadline and nothing to wake a thread");
    if (deadline_ns > clock_ns)
        clock_ns = deadline_ns;
}

void *plat_stack_alloc(size_t size)
{
    KCHECK(size > 0 && size % HOST_STACK_ALIGN == 0);
    void *p = aligned_alloc(HOST_STACK_ALIGN, size);
    if (p)
        stacks_live++;
    return p;
}

void plat_stack_free(void *stack, size_t size)
{
    (void)size;
    if (!stack)
        return;
    KCHECK(stacks_live > 0);
    stacks_live--;
    free(stack);
}

unsigned long plat_irq_save(void)
{
    unsigned long prev = irq_masked;
    irq_masked = 1;
    return prev;
}

void plat_irq_restore(unsigned long flags)
{
    bool unmasking = irq_masked && !flags;
    irq_masked = flags;
    if (unmasking && unmask_hook)
        unmask_hook();
}

void plat_panic(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "PANIC: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

/* Log lines (kernel/log.c formats them): counted by level (tests check that a
 * stall was reported), handed to the test's hook, printed to stderr when
 * UKNET_TEST_LOG is set. */
static uint64_t log_counts[LOG_LEVELS];
static host_log_fn log_hook;
static void *log_hook_arg;

void host_set_log_hook(host_log_fn fn, void *arg)
{
    log_hook = fn;
    log_hook_arg = arg;
}

void plat_log_write(enum log_level lvl, const char *line, size_t len)
{
    if ((unsigned)lvl < LOG_LEVELS)
        log_counts[lvl]++;
    if (log_hook)
        log_hook(log_hook_arg, lvl, line, len);
    if (getenv("UKNET_TEST_LOG"))
        fwrite(line, 1, len, stderr);
}

uint64_t host_log_count(int level)
{
    return (unsigned)level < LOG_LEVELS ? log_counts[level] : 0;
}
