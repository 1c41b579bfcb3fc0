/* Host (unit test) side of kernel/platform.h: a fake clock that only moves when a
 * test or the idle hook moves it, malloc'd stacks, no interrupts. Shared by every
 * host unit test; link tests/unit/host_plat.c. Not thread-safe (tests are single
 * OS-threaded; the cooperative scheduler runs on top of that one thread). */
#ifndef HOST_PLAT_H
#define HOST_PLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fake clock behind plat_now_ns. Starts at 0. */
void host_clock_set(uint64_t ns);
void host_clock_advance(uint64_t ns);

/* Stand-in for an interrupt: plat_idle_until calls the hook (if set) first, with
 * the deadline it was given. A hook that made something runnable (e.g. called
 * waitq_wake_one, as an IRQ handler would) returns true and idle returns without
 * moving the clock. Otherwise idle advances the clock to the deadline; with no
 * deadline (UINT64_MAX) nothing can ever wake, a deadlock, and plat_panic aborts.
 * NULL clears the hook. */
typedef bool (*host_idle_fn)(uint64_t deadline_ns, void *arg);
void host_set_idle_hook(host_idle_fn fn, void *arg);

/* Stand-in for interrupts held while masked: called when plat_irq_restore
 * unmasks them (the `sti` where a pending interrupt is taken), in the thread that
 * unmasked. NULL clears it. */
typedef void (*host_unmask_fn)(void);
void host_set_unmask_hook(host_unmask_fn fn);

/* Counters for tests: plat_idle_until calls, stacks allocated and not yet freed,
 * and whether interrupts are "masked" (plat_irq_save nesting). */
uint64_t host_idle_calls(void);
size_t host_stacks_live(void);
bool host_irq_masked(void);

/* Lines logged (kernel/log.h, past its level check) so far, by level (LOG_*). */
uint64_t host_log_count(int level);
/* Called with every line logged (newline included, not NUL-terminated); NULL
 * clears it. */
typedef void (*host_log_fn)(void *arg, int level, const char *line, size_t len);
void host_set_log_hook(host_log_fn fn, void *arg);

#endif
