/* Cooperative threads, the stand-in for Lwt: spawn, yield, sleep, exit/join and
 * wait queues with timeouts. No preemption: a thread runs until it blocks, yields
 * or exits. Portable C plus kernel/switch.S, so it also runs in host tests.
 * Interrupt handlers may call waitq_wake_one/waitq_wake_all (they mask
 * interrupts around list changes); everything else is thread context only. */
#ifndef SCHED_H
#define SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_FOREVER UINT64_MAX
#define SCHED_STACK_DEFAULT (64 * 1024)

struct thread;

/* A FIFO of threads waiting for something. Zero-initialised is valid. */
struct waitq {
    struct thread *head, *tail;
};

enum wait_result {
    WAIT_WOKEN = 0,   /* woken by waitq_wake_* */
    WAIT_TIMEOUT = 1, /* the deadline passed first */
};

typedef void (*thread_fn)(void *arg);

/* Turns the caller (boot code, or a host test's main) into the first thread.
 * Host tests may call it again (e.g. per test) once only that thread is left;
 * that resets the counters. */
void sched_init(void);

/* New runnable thread, queued at the tail of the run queue (it runs once the
 * caller blocks or yields); NULL when out of memory. stack_size 0 = default,
 * others are rounded up to 4096. The name is copied (23 characters kept). */
struct thread *thread_spawn(const char *name, thread_fn fn, void *arg, size_t stack_size);
void thread_yield(void);
/* A deadline already passed (or ns = 0) still yields. Sleepers with the same
 * deadline wake in the order they went to sleep. */
void thread_sleep_ns(uint64_t ns);
void thread_sleep_until(uint64_t deadline_ns);
/* Ends the calling thread; joiners get code. Returning from fn is thread_exit(0).
 * Not for the first thread. The stack is freed once the thread is switched out. */
__attribute__((noreturn)) void thread_exit(int code);
/* Waits for t to exit, stores its code (code may be NULL), frees it; returns 0.
 * Each thread is joined at most once; a thread that is never joined must be
 * detached (by itself or anyone). Joining twice, joining a detached thread or
 * oneself panics. Detaching an exited thread frees it at once. */
int thread_join(struct thread *t, int *code);
void thread_detach(struct thread *t);
/* NULL before sched_init and inside the scheduler loop (e.g. IRQs taken in idle). */
struct thread *thread_current(void);
const char *thread_name(const struct thread *t);

/* Blocks the calling thread until woken or until deadline_ns (absolute, plat_now_ns
 * clock; SCHED_FOREVER for none). A deadline already passed returns WAIT_TIMEOUT
 * at once, without yielding. Waiters are woken in FIFO order. */
enum wait_result waitq_wait(struct waitq *q, uint64_t deadline_ns);
/* Wake the first / every waiter; return how many were woken. IRQ-safe. */
int waitq_wake_one(struct waitq *q);
int waitq_wake_all(struct waitq *q);

/* No-sleep sections (nestable): the receive path runs inside one, so anything it
 * calls must not wait (waitq_wait and thread_sleep_* panic there; thread_yield is
 * allowed). Code that could wait (a TX ring full) asks sched_may_sleep() and, when
 * it may not, does what it can at once and otherwise fails. */
void sched_nosleep_begin(void);
void sched_nosleep_end(void);
bool sched_may_sleep(void); /* false inside a section, or outside any thread */

/* Runs threads until none is left but the caller of sched_init, whose return is
 * then the end of sched_run (host tests); the kernel's main never returns from it
 * because its service threads run forever. Idle time goes to plat_idle_until. */
void sched_run(void);

/* Counters for the console and tests. */
struct sched_stats {
    uint64_t switches;   /* times the scheduler loop switched to a thread */
    uint64_t spawned;    /* thread_spawn successes */
    uint64_t exited;     /* thread_exit (or return from fn) */
    uint64_t idle_calls; /* plat_idle_until calls */
    uint64_t live;       /* threads not exited, the first thread included */
};
void sched_get_stats(struct sched_stats *out);

#endif
