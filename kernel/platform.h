/* What portable code may use of the machine: net/ includes this header and
 * kernel/netdev.h of kernel/, nothing else; the scheduler, promises, the log, the
 * command line and the virtqueues use it too. The same sources build into the
 * kernel and into host tests, fuzzers and instruction counts.
 *
 *   clock, idle, thread stacks,    the plat_* hooks declared here: the kernel
 *   interrupt masking, panic,      implements them in kernel/plat.c, host
 *   log output                     builds in tests/unit/host_plat.c (fake
 *                                  clock, malloc'd stacks, no interrupts)
 *   threads, wait queues,          kernel/sched.h, kernel/promise.h
 *   no-sleep sections, promises
 *   logging                        kernel/log.h
 *   named counters                 kernel/counters.h
 *   invariant checks               KCHECK, below
 *   allocation                     the C library's malloc/calloc/free (newlib
 *                                  in the kernel)
 *
 * The headers in the right-hand column are portable C over the hooks; this
 * header only forwards to them, so that the list above is all there is.
 * Nothing here may be called from an interrupt handler except plat_irq_save,
 * plat_irq_restore and waitq_wake_one/waitq_wake_all. */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/counters.h"
#include "kernel/log.h"
#include "kernel/promise.h"
#include "kernel/sched.h"

/* Monotonic time since boot in nanoseconds. */
uint64_t plat_now_ns(void);

/* Nothing is runnable: wait for an interrupt or until deadline_ns (UINT64_MAX:
 * no deadline). Only the scheduler loop calls it, with interrupts masked (inside
 * plat_irq_save) right after it found the run queue empty. It must enable
 * interrupts and wait as one step (x86: `sti; hlt`, the sti shadow makes the pair
 * atomic) so that a wakeup from an interrupt handler between that check and the
 * wait is not lost, and return with interrupts masked again (`cli`). It returns
 * after an interrupt (even one that woke nobody) or once deadline_ns has passed;
 * early returns are fine, the scheduler loop just checks again. The kernel must
 * make sure some interrupt (a periodic tick or a one-shot timer programmed here)
 * arrives at or soon after deadline_ns, or sleepers oversleep.
 * Host build: calls the test's idle hook, else advances the fake clock to the
 * deadline, and panics on UINT64_MAX with no hook (a deadlock in a test). */
void plat_idle_until(uint64_t deadline_ns);

/* Thread stacks: size bytes (multiple of 4096), 16-byte aligned top, with an
 * unmapped guard page below in the kernel. NULL when out of memory. */
void *plat_stack_alloc(size_t size);
void plat_stack_free(void *stack, size_t size);

/* Mask interrupts and return the previous state; restore it. Nestable. The
 * scheduler switches threads with interrupts masked and each thread restores its
 * own state; a new thread starts with the state its spawner had in thread_spawn.
 * Host: a flag (host_irq_masked()), nothing else. */
unsigned long plat_irq_save(void);
void plat_irq_restore(unsigned long flags);

/* The hypervisor's CPUID signature (leaf 0x40000000, 12 characters and a NUL:
 * "KVMKVMKVM", "TCGTCGTCGTCG", ...), or "" when the CPU reports none. Kernel only. */
void plat_hypervisor(char out[13]);

/* One finished log line (kernel/log.c formatted it, newline included). Kernel:
 * the serial port. Host: counted by level, and printed to stderr when the
 * environment variable UKNET_TEST_LOG is set. */
void plat_log_write(enum log_level lvl, const char *line, size_t len);

/* Fatal error: prints the message (and in the kernel registers and a backtrace)
 * and ends the machine with a failure status. Host build: abort(). */
__attribute__((noreturn, format(printf, 1, 2))) void plat_panic(const char *fmt, ...);

/* Always-on invariant check (unlike assert, never compiled out). */
#define KCHECK(cond)                                                                     \
    do {                                                                                 \
        if (!(cond))                                                                     \
            plat_panic("check failed: %s at %s:%d", #cond, __FILE__, __LINE__);          \
    } while (0)

#endif
