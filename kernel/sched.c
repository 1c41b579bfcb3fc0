/* The cooperative scheduler: threads, the run queue, wait queues, the timer list
 * (sleepers and waitq_wait deadlines) and the one scheduler loop that runs on its
 * own stack. Portable C; the register switch is kernel/switch.S and the machine
 * (clock, idle, stacks, interrupt masking) comes from kernel/platform.h.
 *
 * Interrupt handlers may call waitq_wake_one/waitq_wake_all, which touch the run
 * queue, wait queues and the timer list; every change to those lists is made with
 * interrupts masked (plat_irq_save). A thread masks interrupts before it blocks
 * and stays masked through the switch: the scheduler loop always runs masked, and
 * each thread restores its own saved state when it resumes (xv6's intena). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/platform.h"
#include "kernel/sched.h"

/* AddressSanitizer (host builds only): gcc says __SANITIZE_ADDRESS__, clang
 * __has_feature(address_sanitizer). */
#if defined(__SANITIZE_ADDRESS__)
#define SCHED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCHED_ASAN 1
#endif
#endif
#ifndef SCHED_ASAN
#define SCHED_ASAN 0
#endif
#if SCHED_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define THREAD_MAGIC 0x74687264u /* "thrd": catches joins of freed threads */
#define THREAD_NAME_MAX 24
#define STACK_ALIGN 4096
#define SCHED_STACK_SIZE (64 * 1024) /* scheduler loop, timers, idle, IRQs in hlt */

enum thread_state {
    T_RUNNING,  /* current, on no list */
    T_RUNNABLE, /* on the run queue */
    T_BLOCKED,  /* on a wait queue and/or the timer list */
    T_ZOMBIE,   /* exited; the struct waits for join or detach */
};

struct thread {
    unsigned magic;
    char name[THREAD_NAME_MAX];
    enum thread_state state;
    void *rsp;   /* saved stack pointer while switched out */
    void *stack; /* NULL for the first thread (boot stack) */
    size_t stack_size;
    thread_fn fn;
    void *arg;
    unsigned long irq_flags; /* interrupt state a new thread starts with */
    /* Wait link: on the run queue or on one wait queue (wq), never both.
     * Shared with interrupt handlers (wakeups): change with interrupts masked. */
    struct waitq *wq;
    struct thread *wnext, *wprev;
    /* Timer link: sorted by deadline. Shared with interrupt handlers. */
    bool timed;
    uint64_t deadline;
    struct thread *tnext, *tprev;
    enum wait_result wait_result;
    int exit_code;
    bool detached, joining;
    unsigned nosleep;   /* > 0 inside a no-sleep section (the RX path) */
    struct waitq joinq; /* the joiner, waiting for this thread to exit */
#if SCHED_ASAN
    void *asan_fake;         /* ASan fake stack while switched out */
    const void *asan_bottom; /* stack bounds, learned for the first thread */
    size_t asan_size;
#endif
};

/* Provided by kernel/switch.S. */
void sched_switch(void **save_rsp, void *new_rsp);
void sched_thread_start(void);

static struct thread *current;                 /* NULL while the scheduler loop runs */
static struct thread *first_thread;            /* the caller of sched_init */
static struct waitq runq;                      /* shared with interrupt handlers */
static struct thread *timer_head, *timer_tail; /* shared with interrupt handlers */
static struct waitq last_exit_q;               /* sched_run waits here for live == 1 */
static struct sched_stats stats; /* live is shared with no one but threads */
static void *sched_rsp;          /* the scheduler loop's saved stack pointer */
static void *sched_stack;
#if SCHED_ASAN
static void *sched_asan_fake;
#endif

static void sched_loop(void *unused);

/* ------------------------------------------------------------ list primitives */

static void q_push(struct waitq *q, struct thread *t)
{
    KCHECK(t->wq == NULL);
    t->wq = q;
    t->wnext = NULL;
    t->wprev = q->tail;
    if (q->tail)
        q->tail->wnext = t;
    else
        q->head = t;
    q->tail = t;
}

static void q_remove(struct waitq *q, struct thread *t)
{
    KCHECK(t->wq == q);
    if (t->wprev)
        t->wprev->wnext = t->wnext;
    else
        q->head = t->wnext;
    if (t->wnext)
        t->wnext->wprev = t->wprev;
    else
        q->tail = t->wprev;
    t->wq = NULL;
    t->wnext = t->wprev = NULL;
}

static struct thread *q_pop(struct waitq *q)
{
    struct thread *t = q->head;
    if (t)
        q_remove(q, t);
    return t;
}

/* Sorted by deadline, equal deadlines in insertion order. Searching from the tail
 * makes the common case (a deadline later than all others) O(1); a min-heap would
 * bound the rest but needs an array, and wakeups from interrupt handlers must
 * remove entries without allocating. */
static void timer_insert(struct thread *t, uint64_t deadline)
{
    KCHECK(!t->timed);
    struct thread *after = timer_tail;
    while (after && after->deadline > deadline)
        after = after->tprev;
    t->timed = true;
    t->deadline = deadline;
    t->tprev = after;
    t->tnext = after ? after->tnext : timer_head;
    if (t->tnext)
        t->tnext->tprev = t;
    else
        timer_tail = t;
    if (after)
        after->tnext = t;
    else
        timer_head = t;
}

static void timer_remove(struct thread *t)
{
    KCHECK(t->timed);
    if (t->tprev)
        t->tprev->tnext = t->tnext;
    else
        timer_head = t->tnext;
    if (t->tnext)
        t->tnext->tprev = t->tprev;
    else
        timer_tail = t->tprev;
    t->timed = false;
    t->tnext = t->tprev = NULL;
}

/* Blocked -> runnable. Interrupts masked. */
static void wake(struct thread *t, enum wait_result result)
{
    KCHECK(t->state == T_BLOCKED);
    if (t->wq)
        q_remove(t->wq, t);
    if (t->timed)
        timer_remove(t);
    t->wait_result = result;
    t->state = T_RUNNABLE;
    q_push(&runq, t);
}

/* ------------------------------------------------------------ switching */

/* ASan must be told about every stack switch, or it mistakes the new stack for
 * an overflow of the old one (and __asan_handle_no_return warns). Four hooks:
 * leaving and entering a thread, leaving and entering the scheduler loop. */
#if SCHED_ASAN
static void asan_leave_thread(struct thread *t, bool dying)
{
    /* A dying thread passes no fake-stack slot, so ASan frees its fake stack. */
    __sanitizer_start_switch_fiber(dying ? NULL : &t->asan_fake, sched_stack,
                                   SCHED_STACK_SIZE);
}

static void asan_enter_thread(struct thread *t)
{
    __sanitizer_finish_switch_fiber(t->asan_fake, NULL, NULL);
}

static void asan_leave_scheduler(struct thread *t)
{
    __sanitizer_start_switch_fiber(&sched_asan_fake, t->asan_bottom, t->asan_size);
}

/* from: the thread that switched to the scheduler; the first thread's stack
 * bounds are only known from here. */
static void asan_enter_scheduler(struct thread *from)
{
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(sched_asan_fake, &bottom, &size);
    if (from && !from->asan_bottom) {
        from->asan_bottom = bottom;
        from->asan_size = size;
    }
}
#else
static void asan_leave_thread(struct thread *t, bool dying)
{
    (void)t, (void)dying;
}
static void asan_enter_thread(struct thread *t)
{
    (void)t;
}
static void asan_leave_scheduler(struct thread *t)
{
    (void)t;
}
static void asan_enter_scheduler(struct thread *from)
{
    (void)from;
}
#endif

/* Builds a stack whose first sched_switch "returns" into sched_thread_start,
 * which calls entry(arg) with rsp = 8 (mod 16) at entry. See switch.S. */
static void *frame_init(void *stack, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 16); /* rsp after `ret`: 16-byte aligned */
    *--sp = (uint64_t)(uintptr_t)sched_thread_start;
    *--sp = 0;                          /* rbp */
    *--sp = 0;                          /* rbx */
    *--sp = (uint64_t)(uintptr_t)entry; /* r12 */
    *--sp = (uint64_t)(uintptr_t)arg;   /* r13 */
    *--sp = 0;                          /* r14 */
    *--sp = 0;                          /* r15 */
    return sp;
}

/* The current thread gives the CPU to the scheduler loop and returns when the
 * loop picks it again. Interrupts masked; the thread has already put itself on
 * the list it belongs to (or exited). */
static void to_scheduler(void)
{
    struct thread *t = current;
    asan_leave_thread(t, t->state == T_ZOMBIE);
    sched_switch(&t->rsp, sched_rsp);
    asan_enter_thread(t);
}

/* The scheduler loop runs t until t switches back. Interrupts masked. */
static void run_thread(struct thread *t)
{
    KCHECK(t->magic == THREAD_MAGIC && t->state == T_RUNNABLE);
    t->state = T_RUNNING;
    current = t;
    stats.switches++;
    asan_leave_scheduler(t);
    sched_switch(&sched_rsp, t->rsp);
    asan_enter_scheduler(t);
    current = NULL;
}

/* ------------------------------------------------------------ thread memory */

static void stack_free(struct thread *t)
{
    if (t->stack)
        plat_stack_free(t->stack, t->stack_size);
    t->stack = NULL;
}

static void thread_free(struct thread *t)
{
    KCHECK(t->state == T_ZOMBIE && t != current);
    stack_free(t);
    t->magic = 0;
    free(t);
}

static struct thread *thread_new(const char *name)
{
    struct thread *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->magic = THREAD_MAGIC;
    strncpy(t->name, name ? name : "?", sizeof(t->name) - 1);
    return t;
}

/* ------------------------------------------------------------ the scheduler loop */

/* Wakes every thread whose deadline has passed, in deadline order. */
static void fire_timers(void)
{
    if (!timer_head)
        return;
    uint64_t now = plat_now_ns();
    while (timer_head && timer_head->deadline <= now)
        wake(timer_head, WAIT_TIMEOUT);
}

/* After t switched back: a thread that exited no longer needs its stack (nothing
 * runs on it now); a detached one needs nothing at all. */
static void after_run(struct thread *t)
{
    if (t->state != T_ZOMBIE)
        return;
    stack_free(t);
    if (t->detached)
        thread_free(t);
}

/*
 * The scheduler loop. It runs on its own stack (sched_stack), entered the first
 * time any thread blocks, yields or exits, and never returns.
 *
 * Each thread that gives up the CPU (thread_yield, waitq_wait, thread_sleep_*,
 * thread_exit) masks interrupts, puts itself where it belongs (run queue, a wait
 * queue and/or the timer list, or nowhere once exited) and switches here through
 * to_scheduler(). Interrupts stay masked for the whole loop, so the lists cannot
 * change under it except inside plat_idle_until.
 *
 * One turn:
 *   1. Wake the threads whose deadline has passed (timer list, deadline order).
 *   2. Take the head of the run queue (FIFO) and switch to it; it runs until it
 *      switches back. Then free what an exited thread left: its stack (it can't
 *      be freed while the thread still runs on it) and, if detached, the thread.
 *   3. If the run queue is empty, idle until the earliest deadline (or forever).
 *      The run queue was checked with interrupts masked, and plat_idle_until
 *      enables them and halts atomically (sti; hlt), so a wakeup from an
 *      interrupt handler between the check and the halt is never lost: the
 *      interrupt ends the halt and the next turn sees the woken thread.
 *
 * Invariants (checked): only runnable threads are on the run queue; a thread is
 * on at most one wait queue or the run queue; current is NULL here.
 */
static void sched_loop(void *unused)
{
    (void)unused;
    /* First entry: only the first thread can get here first, since every other
     * thread is started by this loop. */
    asan_enter_scheduler(first_thread);
    current = NULL;
    for (;;) {
        KCHECK(current == NULL);
        fire_timers();
        struct thread *t = q_pop(&runq);
        if (t) {
            run_thread(t);
            after_run(t);
            continue;
        }
        stats.idle_calls++;
        plat_idle_until(timer_head ? timer_head->deadline : SCHED_FOREVER);
    }
}

/* ------------------------------------------------------------ public API */

void sched_init(void)
{
    if (first_thread) {
        /* Host tests: again between tests, with nothing else alive. */
        KCHECK(current == first_thread && stats.live == 1);
        memset(&stats, 0, sizeof(stats));
        stats.live = 1;
        return;
    }
    first_thread = thread_new("main");
    sched_stack = plat_stack_alloc(SCHED_STACK_SIZE);
    if (!first_thread || !sched_stack)
        plat_panic("sched_init: out of memory");
    first_thread->state = T_RUNNING;
    current = first_thread;
    sched_rsp = frame_init(sched_stack, SCHED_STACK_SIZE, sched_loop, NULL);
    stats.live = 1;
}

/* First code of every spawned thread, on its own stack, entered from the
 * scheduler loop with interrupts masked. */
static void thread_start(void *arg)
{
    struct thread *t = arg;
    asan_enter_thread(t);
    plat_irq_restore(t->irq_flags);
    t->fn(t->arg);
    thread_exit(0);
}

static size_t stack_size_round(size_t size)
{
    if (size == 0)
        size = SCHED_STACK_DEFAULT;
    return (size + STACK_ALIGN - 1) & ~(size_t)(STACK_ALIGN - 1);
}

struct thread *thread_spawn(const char *name, thread_fn fn, void *arg, size_t stack_size)
{
    KCHECK(current != NULL && fn != NULL);
    struct thread *t = thread_new(name);
    if (!t)
        return NULL;
    t->stack_size = stack_size_round(stack_size);
    t->stack = plat_stack_alloc(t->stack_size);
    if (!t->stack) {
        free(t);
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    t->rsp = frame_init(t->stack, t->stack_size, thread_start, t);
#if SCHED_ASAN
    t->asan_bottom = t->stack;
    t->asan_size = t->stack_size;
#endif
    unsigned long flags = plat_irq_save();
    t->irq_flags = flags; /* starts with the spawner's interrupt state */
    t->state = T_RUNNABLE;
    q_push(&runq, t);
    stats.spawned++;
    stats.live++;
    plat_irq_restore(flags);
    return t;
}

void sched_nosleep_begin(void)
{
    KCHECK(current != NULL);
    current->nosleep++;
}

void sched_nosleep_end(void)
{
    KCHECK(current != NULL && current->nosleep > 0);
    current->nosleep--;
}

bool sched_may_sleep(void)
{
    return current != NULL && current->nosleep == 0;
}

void thread_yield(void)
{
    KCHECK(current != NULL);
    unsigned long flags = plat_irq_save();
    current->state = T_RUNNABLE;
    q_push(&runq, current);
    to_scheduler();
    plat_irq_restore(flags);
}

/* Blocks current on q (may be NULL: timer only) until woken or deadline. */
static enum wait_result block(struct waitq *q, uint64_t deadline_ns)
{
    struct thread *t = current;
    KCHECK(t != NULL && t->state == T_RUNNING);
    /* The receive path must never wait (sched.h): a bug, caught where it is. */
    if (t->nosleep)
        plat_panic("thread %s blocked inside a no-sleep section", t->name);
    unsigned long flags = plat_irq_save();
    t->state = T_BLOCKED;
    if (q)
        q_push(q, t);
    if (deadline_ns != SCHED_FOREVER)
        timer_insert(t, deadline_ns);
    to_scheduler();
    plat_irq_restore(flags);
    return t->wait_result;
}

void thread_sleep_until(uint64_t deadline_ns)
{
    KCHECK(deadline_ns != SCHED_FOREVER);
    if (deadline_ns <= plat_now_ns()) {
        thread_yield(); /* sleep(0) still lets others run */
        return;
    }
    block(NULL, deadline_ns);
}

void thread_sleep_ns(uint64_t ns)
{
    uint64_t now = plat_now_ns();
    uint64_t deadline = ns > SCHED_FOREVER - 1 - now ? SCHED_FOREVER - 1 : now + ns;
    thread_sleep_until(deadline);
}

void thread_exit(int code)
{
    struct thread *t = current;
    KCHECK(t != NULL && t != first_thread);
    plat_irq_save(); /* never restored: this thread does not resume */
    t->exit_code = code;
    t->state = T_ZOMBIE;
    stats.exited++;
    stats.live--;
    waitq_wake_all(&t->joinq);
    if (stats.live == 1)
        waitq_wake_all(&last_exit_q);
    to_scheduler();
    plat_panic("thread %s ran after exit", t->name);
}

int thread_join(struct thread *t, int *code)
{
    KCHECK(t != NULL && t->magic == THREAD_MAGIC);
    KCHECK(t != current && t != first_thread && !t->detached && !t->joining);
    t->joining = true;
    while (t->state != T_ZOMBIE)
        block(&t->joinq, SCHED_FOREVER);
    if (code)
        *code = t->exit_code;
    thread_free(t);
    return 0;
}

void thread_detach(struct thread *t)
{
    KCHECK(t != NULL && t->magic == THREAD_MAGIC);
    KCHECK(t != first_thread && !t->detached && !t->joining);
    t->detached = true;
    if (t->state == T_ZOMBIE)
        thread_free(t); /* already exited and switched out */
}

struct thread *thread_current(void)
{
    return current;
}

const char *thread_name(const struct thread *t)
{
    return t ? t->name : "(none)";
}

enum wait_result waitq_wait(struct waitq *q, uint64_t deadline_ns)
{
    KCHECK(q != NULL);
    if (deadline_ns != SCHED_FOREVER && deadline_ns <= plat_now_ns())
        return WAIT_TIMEOUT;
    return block(q, deadline_ns);
}

int waitq_wake_one(struct waitq *q)
{
    unsigned long flags = plat_irq_save();
    struct thread *t = q->head;
    if (t)
        wake(t, WAIT_WOKEN);
    plat_irq_restore(flags);
    return t ? 1 : 0;
}

int waitq_wake_all(struct waitq *q)
{
    int n = 0;
    unsigned long flags = plat_irq_save();
    while (q->head) {
        wake(q->head, WAIT_WOKEN);
        n++;
    }
    plat_irq_restore(flags);
    return n;
}

void sched_run(void)
{
    KCHECK(current != NULL && current == first_thread);
    while (stats.live > 1)
        block(&last_exit_q, SCHED_FOREVER);
}

void sched_get_stats(struct sched_stats *out)
{
    unsigned long flags = plat_irq_save();
    *out = stats;
    plat_irq_restore(flags);
}
