/* Unit tests of the cooperative scheduler (kernel/sched.c, kernel/switch.S) on the
 * host platform's fake clock. Threads only record what they see; the checks run
 * in the test's own (first) thread after sched_run, because a failing cmocka
 * assertion longjmps and must not do so from another thread's stack. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/platform.h"
#include "kernel/sched.h"
#include "tests/unit/host_plat.h"

#define MS 1000000ull
#define T0 (1000 * MS) /* every test starts its clock here */
#define LOG_MAX 4096

/* What the threads saw, in order. */
static int log_ids[LOG_MAX];
static uint64_t log_times[LOG_MAX];
static int log_n;

static void log_event(int id)
{
    if (log_n < LOG_MAX) {
        log_times[log_n] = plat_now_ns();
        log_ids[log_n++] = id;
    }
}

static void assert_log(const int *want, int n)
{
    assert_int_equal(log_n, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(log_ids[i], want[i]);
}

static int setup(void **state)
{
    (void)state;
    sched_init();
    host_set_idle_hook(NULL, NULL);
    host_clock_set(T0);
    log_n = 0;
    memset(log_ids, 0, sizeof(log_ids));
    return 0;
}

/* Every test leaves nothing behind: no thread, no stack. */
static int teardown(void **state)
{
    (void)state;
    struct sched_stats st;
    sched_get_stats(&st);
    assert_int_equal(st.live, 1);
    assert_int_equal(host_stacks_live(), 1); /* the scheduler loop's own */
    return 0;
}

static struct thread *spawn(const char *name, thread_fn fn, intptr_t arg)
{
    struct thread *t = thread_spawn(name, fn, (void *)arg, 0);
    assert_non_null(t);
    return t;
}

/* ------------------------------------------------------------ run order */

static void log_once(void *arg)
{
    log_event((int)(intptr_t)arg);
}

static void test_spawn_run_order(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++)
        thread_detach(spawn("log", log_once, i));
    assert_int_equal(log_n, 0); /* spawning runs nothing yet */
    sched_run();
    static const int want[] = {0, 1, 2, 3};
    assert_log(want, 4);
    struct sched_stats st;
    sched_get_stats(&st);
    assert_int_equal(st.spawned, 4);
    assert_int_equal(st.exited, 4);
    assert_int_equal(st.switches, 5); /* 4 threads, then back to main */
}

static void test_thread_name_and_current(void **state)
{
    (void)state;
    struct thread *main_thread = thread_current();
    assert_non_null(main_thread);
    assert_string_equal(thread_name(main_thread), "main");
    struct thread *t = spawn("a-rather-long-thread-name-that-gets-cut", log_once, 0);
    assert_string_equal(thread_name(t), "a-rather-long-thread-na");
    thread_join(t, NULL);
    assert_ptr_equal(thread_current(), main_thread);
}

static void yield_loop(void *arg)
{
    for (int i = 0; i < 5; i++) {
        log_event((int)(intptr_t)arg);
        thread_yield();
    }
}

static void test_yield_fairness(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        thread_detach(spawn("yield", yield_loop, i));
    sched_run();
    int want[15];
    for (int i = 0; i < 15; i++)
        want[i] = i % 3;
    assert_log(want, 15);
    assert_int_equal(plat_now_ns(), T0); /* nobody slept, no time passed */
}

static void test_main_yield_runs_others(void **state)
{
    (void)state;
    thread_detach(spawn("log", log_once, 7));
    thread_yield();
    static const int want[] = {7};
    assert_log(want, 1);
}

/* ------------------------------------------------------------ sleeping */

static void sleep_then_log(void *arg)
{
    thread_sleep_ns((uint64_t)(intptr_t)arg * MS);
    log_event((int)(intptr_t)arg);
}

static const int sleep_ms[] = {30, 10, 20, 10, 0};

static void sleep_table(void *arg)
{
    int id = (int)(intptr_t)arg;
    thread_sleep_ns((uint64_t)sleep_ms[id] * MS);
    log_event(id);
}

static void test_sleep_order_and_times(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        thread_detach(spawn("sleep", sleep_table, i));
    sched_run();
    /* Equal deadlines (1 and 3) wake in the order they slept; 0 ms just yields. */
    static const int want[] = {4, 1, 3, 2, 0};
    assert_log(want, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(log_times[i], T0 + (uint64_t)sleep_ms[want[i]] * MS);
    assert_int_equal(plat_now_ns(), T0 + 30 * MS);
}

static void sleep_until_past(void *arg)
{
    thread_sleep_until(T0 - MS); /* already passed: a yield */
    log_event((int)(intptr_t)arg);
}

static void test_sleep_past_deadline_yields(void **state)
{
    (void)state;
    thread_detach(spawn("past", sleep_until_past, 1));
    thread_detach(spawn("log", log_once, 2));
    sched_run();
    static const int want[] = {2, 1};
    assert_log(want, 2);
    assert_int_equal(plat_now_ns(), T0);
}

static void test_idle_only_when_nothing_runs(void **state)
{
    (void)state;
    uint64_t before = host_idle_calls();
    thread_detach(spawn("sleep", sleep_then_log, 5));
    thread_detach(spawn("yield", yield_loop, 1));
    sched_run();
    /* The yielding thread ran its 5 turns without the clock moving; then one
     * idle to the sleeper's deadline. */
    assert_int_equal(host_idle_calls() - before, 1);
    struct sched_stats st;
    sched_get_stats(&st);
    assert_int_equal(st.idle_calls, 1);
    assert_int_equal(log_ids[5], 5);
    assert_int_equal(log_times[5], T0 + 5 * MS);
}

/* ------------------------------------------------------------ wait queues */

static struct waitq wq;
static enum wait_result results[8];

static void wait_deadline(void *arg)
{
    int id = (int)(intptr_t)arg;
    results[id] = waitq_wait(&wq, T0 + 100 * MS);
    log_event(id);
}

static void wait_forever(void *arg)
{
    int id = (int)(intptr_t)arg;
    results[id] = waitq_wait(&wq, SCHED_FOREVER);
    log_event(id);
}

static void test_waitq_timeout(void **state)
{
    (void)state;
    memset(&wq, 0, sizeof(wq));
    results[0] = WAIT_WOKEN;
    thread_detach(spawn("wait", wait_deadline, 0));
    sched_run();
    assert_int_equal(results[0], WAIT_TIMEOUT);
    assert_int_equal(log_times[0], T0 + 100 * MS);
    assert_null(wq.head); /* the timed-out waiter left the queue */
    assert_null(wq.tail);
}

static int woken_by_waker;

static void wake_after_10ms(void *arg)
{
    (void)arg;
    thread_sleep_ns(10 * MS);
    woken_by_waker = waitq_wake_one(&wq);
}

static void test_waitq_wake_before_timeout(void **state)
{
    (void)state;
    memset(&wq, 0, sizeof(wq));
    results[0] = WAIT_TIMEOUT;
    woken_by_waker = 0;
    thread_detach(spawn("wait", wait_deadline, 0));
    thread_detach(spawn("waker", wake_after_10ms, 0));
    sched_run();
    assert_int_equal(woken_by_waker, 1);
    assert_int_equal(results[0], WAIT_WOKEN);
    assert_int_equal(log_times[0], T0 + 10 * MS);
    /* The waiter's deadline left the timer list: nothing idled until it. */
    assert_int_equal(plat_now_ns(), T0 + 10 * MS);
}

static void test_waitq_past_deadline(void **state)
{
    (void)state;
    memset(&wq, 0, sizeof(wq));
    struct sched_stats a, b;
    sched_get_stats(&a);
    assert_int_equal(waitq_wait(&wq, T0), WAIT_TIMEOUT);
    assert_int_equal(waitq_wait(&wq, 0), WAIT_TIMEOUT);
    sched_get_stats(&b);
    assert_int_equal(b.switches, a.switches); /* returned without blocking */
    assert_null(wq.head);
}

static void test_wake_one_vs_all(void **state)
{
    (void)state;
    memset(&wq, 0, sizeof(wq));
    assert_int_equal(waitq_wake_one(&wq), 0);
    assert_int_equal(waitq_wake_all(&wq), 0);
    for (int i = 0; i < 4; i++)
        thread_detach(spawn("wait", wait_forever, i));
    thread_yield(); /* all four now wait */
    assert_int_equal(log_n, 0);
    assert_int_equal(waitq_wake_one(&wq), 1);
    thread_yield();
    static const int first[] = {0}; /* FIFO: the first waiter */
    assert_log(first, 1);
    assert_int_equal(waitq_wake_all(&wq), 3);
    assert_int_equal(waitq_wake_all(&wq), 0);
    sched_run();
    static const int want[] = {0, 1, 2, 3};
    assert_log(want, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(results[i], WAIT_WOKEN);
}

static void test_wake_mixed_deadlines(void **state)
{
    (void)state;
    memset(&wq, 0, sizeof(wq));
    thread_detach(spawn("timed", wait_deadline, 0));
    thread_detach(spawn("forever", wait_forever, 1));
    thread_yield();
    /* The timed waiter times out; then the other one is the queue's only one. */
    thread_sleep_ns(200 * MS);
    static const int want[] = {0};
    assert_log(want, 1);
    assert_int_equal(results[0], WAIT_TIMEOUT);
    assert_ptr_equal(wq.head, wq.tail);
    assert_int_equal(waitq_wake_one(&wq), 1);
    sched_run();
    assert_int_equal(results[1], WAIT_WOKEN);
    assert_int_equal(log_times[1], T0 + 200 * MS);
}

/* ------------------------------------------------------------ interrupts */

static int hook_calls;
static bool hook_saw_masked;
static uint64_t hook_deadline;

/* Stands in for an interrupt handler that wakes the waiter, 3 ms into idle. */
static bool irq_hook(uint64_t deadline, void *arg)
{
    (void)arg;
    hook_calls++;
    hook_saw_masked = host_irq_masked();
    hook_deadline = deadline;
    host_clock_advance(3 * MS);
    return waitq_wake_all(&wq) > 0;
}

static bool thread_saw_masked;

static void wait_forever_check_irq(void *arg)
{
    thread_saw_masked = host_irq_masked();
    wait_forever(arg);
    thread_saw_masked |= host_irq_masked();
}

static void test_irq_wakes_idle(void **state)
{
    (void)state;
    memset(&wq, 0, sizeof(wq));
    hook_calls = 0;
    hook_saw_masked = false;
    thread_saw_masked = true;
    host_set_idle_hook(irq_hook, NULL);
    thread_detach(spawn("wait", wait_forever_check_irq, 0));
    sched_run();
    host_set_idle_hook(NULL, NULL);
    assert_int_equal(hook_calls, 1);
    assert_true(hook_deadline == SCHED_FOREVER);
    assert_true(hook_saw_masked);    /* idle is entered with interrupts masked */
    assert_false(thread_saw_masked); /* threads run with them enabled */
    assert_false(host_irq_masked());
    assert_int_equal(results[0], WAIT_WOKEN);
    assert_int_equal(log_times[0], T0 + 3 * MS);
}

static void test_new_thread_inherits_irq_state(void **state)
{
    (void)state;
    memset(&wq, 0, sizeof(wq));
    unsigned long flags = plat_irq_save();
    struct thread *t = spawn("masked", wait_forever_check_irq, 0);
    plat_irq_restore(flags);
    thread_yield(); /* it blocks */
    waitq_wake_one(&wq);
    thread_join(t, NULL);
    assert_true(thread_saw_masked);
    assert_false(host_irq_masked());
}

/* ------------------------------------------------------------ exit, join, detach */

static void exit_with(void *arg)
{
    thread_yield();
    thread_exit((int)(intptr_t)arg);
}

static void test_join_exit_code(void **state)
{
    (void)state;
    struct thread *a = spawn("exit42", exit_with, 42);
    struct thread *b = spawn("exit-7", exit_with, -7);
    struct thread *c = spawn("return", log_once, 0);
    int code = 99;
    assert_int_equal(thread_join(b, &code), 0);
    assert_int_equal(code, -7);
    assert_int_equal(thread_join(a, &code), 0);
    assert_int_equal(code, 42);
    code = 99;
    assert_int_equal(thread_join(c, &code), 0);
    assert_int_equal(code, 0); /* returning from fn is thread_exit(0) */
}

static void test_join_after_exit(void **state)
{
    (void)state;
    struct thread *t = spawn("exit5", exit_with, 5);
    sched_run();                             /* t exits; it stays a zombie until joined */
    assert_int_equal(host_stacks_live(), 1); /* zombie's stack is already freed */
    struct sched_stats st;
    sched_get_stats(&st);
    assert_int_equal(st.exited, 1);
    int code = 0;
    thread_join(t, &code);
    assert_int_equal(code, 5);
}

static struct thread *joined_by_thread;

static void joiner(void *arg)
{
    (void)arg;
    int code = 0;
    thread_join(joined_by_thread, &code);
    log_event(code);
}

static void test_thread_joins_thread(void **state)
{
    (void)state;
    joined_by_thread = spawn("exit3", exit_with, 3);
    thread_detach(spawn("joiner", joiner, 0));
    sched_run();
    static const int want[] = {3};
    assert_log(want, 1);
}

static void test_detach(void **state)
{
    (void)state;
    size_t stacks = host_stacks_live();
    struct thread *running = spawn("detached", sleep_then_log, 10);
    thread_detach(running); /* before it exits */
    struct thread *done = spawn("zombie", log_once, 1);
    thread_yield();
    thread_yield();
    assert_int_equal(host_stacks_live(), stacks + 1); /* "zombie" freed its stack */
    thread_detach(done);                              /* after it exited: freed now */
    sched_run();
    assert_int_equal(host_stacks_live(), stacks);
    static const int want[] = {1, 10};
    assert_log(want, 2);
}

static void self_detach(void *arg)
{
    thread_detach(thread_current());
    log_once(arg);
}

static void test_self_detach(void **state)
{
    (void)state;
    spawn("self", self_detach, 4);
    sched_run();
    static const int want[] = {4};
    assert_log(want, 1);
}

/* ------------------------------------------------------------ scale */

#define MANY 1000

static int many_count;

static void many_body(void *arg)
{
    int i = (int)(intptr_t)arg;
    thread_yield();
    thread_sleep_ns((uint64_t)((i * 7919) % 97) * MS);
    many_count++;
    thread_exit(i);
}

static struct thread *many[MANY];

static void test_many_threads(void **state)
{
    (void)state;
    many_count = 0;
    for (int i = 0; i < MANY; i++) {
        many[i] = thread_spawn("many", many_body, (void *)(intptr_t)i, 16 * 1024);
        assert_non_null(many[i]);
    }
    struct sched_stats st;
    sched_get_stats(&st);
    assert_int_equal(st.live, MANY + 1);
    for (int i = 0; i < MANY; i++) {
        int code = -1;
        thread_join(many[i], &code);
        assert_int_equal(code, i);
    }
    assert_int_equal(many_count, MANY);
    assert_int_equal(plat_now_ns(), T0 + 96 * MS); /* the latest sleeper */
    sched_get_stats(&st);
    assert_int_equal(st.spawned, MANY);
    assert_int_equal(st.exited, MANY);
}

/* ------------------------------------------------------------ stack alignment */

static uintptr_t align_seen[4];
static char printed[4][64];

static __attribute__((noinline)) uintptr_t frame_misalignment(void)
{
    return (uintptr_t)__builtin_frame_address(0) & 15;
}

/* SysV: rsp = 8 (mod 16) at function entry, so the frame (rbp) is 16-aligned.
 * A variadic call with a double makes glibc's printf save XMM registers with
 * movaps, which faults on a misaligned stack. */
static void check_alignment(void *arg)
{
    int i = (int)(intptr_t)arg;
    align_seen[i] = ((uintptr_t)__builtin_frame_address(0) & 15) | frame_misalignment();
    snprintf(printed[i], sizeof(printed[i]), "%.3f %s %d", 2.5 * (i + 1), "x", i);
    thread_yield();
    align_seen[i] |= frame_misalignment();
}

static void test_stack_alignment(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 4096 + 8, 12345, 32 * 1024};
    for (int i = 0; i < 4; i++) {
        align_seen[i] = 99;
        struct thread *t =
            thread_spawn("align", check_alignment, (void *)(intptr_t)i, sizes[i]);
        assert_non_null(t);
        thread_detach(t);
    }
    sched_run();
    static const char *want[] = {"2.500 x 0", "5.000 x 1", "7.500 x 2", "10.000 x 3"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(align_seen[i], 0);
        assert_string_equal(printed[i], want[i]);
    }
}

/* Callee-saved registers survive switches: a computation that keeps values in
 * registers across yields must give the same answer as without them. */
static uint64_t mix_results[3];

static void mix(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t a = (uint64_t)id + 1, b = 3, c = 5, d = 7, e = 11;
    for (int i = 0; i < 50; i++) {
        a = a * 6364136223846793005ull + b;
        b ^= a >> 7;
        c += b * d;
        d = (d << 1) | (e & 1);
        e += c;
        thread_yield();
    }
    mix_results[id] = a ^ b ^ c ^ d ^ e;
}

static void test_registers_survive_switch(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        thread_detach(spawn("mix", mix, i));
    sched_run();
    uint64_t first = mix_results[0];
    memset(mix_results, 0, sizeof(mix_results));
    /* Again, alone (no interleaving): must match. */
    thread_detach(spawn("mix", mix, 0));
    sched_run();
    assert_true(mix_results[0] != 0);
    assert_int_equal(mix_results[0], first);
}

/* ------------------------------------------------------------ deadlock */

static void deadlock_child(void)
{
    memset(&wq, 0, sizeof(wq));
    thread_detach(thread_spawn("stuck", wait_forever, NULL, 0));
    if (!freopen("/dev/null", "w", stderr))
        _exit(1);
    sched_run(); /* nothing can ever wake "stuck": plat_panic aborts */
    _exit(0);
}

static void test_deadlock_panics(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        deadlock_child();
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* No-sleep sections: nestable, per thread, and waiting inside one is a bug
 * that panics where it happens (the receive path must never wait). */
static void nosleep_child(void)
{
    sched_nosleep_begin();
    thread_sleep_ns(1000); /* panics: abort() on the host */
    _exit(0);
}

static void other_thread(void *arg)
{
    *(bool *)arg = sched_may_sleep();
}

static void test_nosleep_sections(void **state)
{
    (void)state;
    assert_true(sched_may_sleep());
    sched_nosleep_begin();
    sched_nosleep_begin();
    assert_false(sched_may_sleep());
    bool other = false;
    struct thread *t = thread_spawn("other", other_thread, &other, 0);
    thread_yield(); /* allowed: yielding is not waiting */
    sched_nosleep_end();
    assert_false(sched_may_sleep());
    sched_nosleep_end();
    assert_true(sched_may_sleep());
    thread_join(t, NULL);
    assert_true(other); /* another thread's state is its own */
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        nosleep_child();
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
    sched_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_spawn_run_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_name_and_current, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yield_fairness, setup, teardown),
        cmocka_unit_test_setup_teardown(test_main_yield_runs_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sleep_order_and_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sleep_past_deadline_yields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_only_when_nothing_runs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_waitq_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waitq_wake_before_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waitq_past_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wake_one_vs_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wake_mixed_deadlines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq_wakes_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_thread_inherits_irq_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_join_exit_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_after_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_joins_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_detach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_alignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registers_survive_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadlock_panics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nosleep_sections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
