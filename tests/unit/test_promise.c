/* Unit tests of promises (kernel/promise.c) on the scheduler and the host
 * platform's fake clock. Threads only record what they see; checks run in the
 * test's own thread (a failing cmocka assertion longjmps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/platform.h"
#include "kernel/promise.h"
#include "kernel/sched.h"
#include "tests/unit/host_plat.h"

#define MS 1000000ull
#define T0 (1000 * MS)
#define NP 40 /* more than await_any keeps on its stack */

static struct promise ps[NP];
static struct promise *pps[NP];

static int setup(void **state)
{
    (void)state;
    sched_init();
    host_clock_set(T0);
    for (int i = 0; i < NP; i++) {
        memset(&ps[i], 0x5a, sizeof(ps[i])); /* poison: init must set every field */
        promise_init(&ps[i]);
        pps[i] = &ps[i];
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    struct sched_stats st;
    sched_get_stats(&st);
    assert_int_equal(st.live, 1);
    for (int i = 0; i < NP; i++) {
        assert_null(ps[i].cbs);
        assert_null(ps[i].waiters.head);
    }
    return 0;
}

static void spawn_detached(thread_fn fn, void *arg)
{
    struct thread *t = thread_spawn("t", fn, arg, 0);
    assert_non_null(t);
    thread_detach(t);
}

/* ------------------------------------------------------------ resolve, await */

static void test_init_and_resolve_once(void **state)
{
    (void)state;
    struct promise *p = &ps[0];
    assert_false(promise_is_resolved(p));
    assert_false(p->resolved);
    assert_int_equal(p->value, 0);
    assert_null(p->cbs);
    assert_int_equal(promise_resolve(p, 5), 0);
    assert_true(promise_is_resolved(p));
    assert_int_equal(promise_resolve(p, 6), -1);
    assert_int_equal(p->value, 5);
    intptr_t v = 0;
    assert_int_equal(promise_await(p, SCHED_FOREVER, &v), WAIT_WOKEN);
    assert_int_equal(v, 5);
}

static void test_await_after_resolve_does_not_block(void **state)
{
    (void)state;
    promise_resolve(&ps[0], -123);
    struct sched_stats a, b;
    sched_get_stats(&a);
    intptr_t v = 0;
    /* Even with a deadline already passed, a resolved promise gives its value. */
    assert_int_equal(promise_await(&ps[0], T0 - 1, &v), WAIT_WOKEN);
    assert_int_equal(v, -123);
    assert_int_equal(promise_await(&ps[0], 0, NULL), WAIT_WOKEN);
    sched_get_stats(&b);
    assert_int_equal(b.switches, a.switches);
}

struct awaiter {
    struct promise *p;
    uint64_t deadline;
    enum wait_result result;
    intptr_t value;
    uint64_t at;
};

static void await_body(void *arg)
{
    struct awaiter *a = arg;
    a->result = promise_await(a->p, a->deadline, &a->value);
    a->at = plat_now_ns();
}

static void resolve_after_10ms(void *arg)
{
    thread_sleep_ns(10 * MS);
    promise_resolve(arg, 77);
}

static void test_await_before_resolve(void **state)
{
    (void)state;
    struct awaiter a[3];
    for (int i = 0; i < 3; i++) {
        a[i] = (struct awaiter){&ps[0], i == 2 ? T0 + 50 * MS : SCHED_FOREVER,
                                WAIT_TIMEOUT, -1, 0};
        spawn_detached(await_body, &a[i]);
    }
    spawn_detached(resolve_after_10ms, &ps[0]);
    sched_run();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(a[i].result, WAIT_WOKEN);
        assert_int_equal(a[i].value, 77);
        assert_int_equal(a[i].at, T0 + 10 * MS);
    }
    assert_int_equal(plat_now_ns(), T0 + 10 * MS); /* the 50 ms timer is gone */
}

static void test_await_timeout(void **state)
{
    (void)state;
    struct awaiter a = {&ps[0], T0 + 5 * MS, WAIT_WOKEN, -1, 0};
    spawn_detached(await_body, &a);
    sched_run();
    assert_int_equal(a.result, WAIT_TIMEOUT);
    assert_int_equal(a.value, -1); /* untouched */
    assert_int_equal(a.at, T0 + 5 * MS);
    assert_false(promise_is_resolved(&ps[0]));
    /* A later resolve still works, and a later await sees it. */
    promise_resolve(&ps[0], 9);
    intptr_t v = 0;
    assert_int_equal(promise_await(&ps[0], T0, &v), WAIT_WOKEN);
    assert_int_equal(v, 9);
}

static void test_main_awaits_thread(void **state)
{
    (void)state;
    spawn_detached(resolve_after_10ms, &ps[1]);
    intptr_t v = 0;
    assert_int_equal(promise_await(&ps[1], T0 + 5 * MS, &v), WAIT_TIMEOUT);
    assert_int_equal(plat_now_ns(), T0 + 5 * MS);
    assert_int_equal(promise_await(&ps[1], T0 + 20 * MS, &v), WAIT_WOKEN);
    assert_int_equal(v, 77);
    assert_int_equal(plat_now_ns(), T0 + 10 * MS);
    sched_run();
}

/* ------------------------------------------------------------ continuations */

static int calls[16];
static intptr_t call_values[16];
static int ncalls;

static void record(struct promise *p, intptr_t value, void *arg)
{
    (void)p;
    call_values[ncalls] = value;
    calls[ncalls++] = (int)(intptr_t)arg;
}

static void test_continuation_order(void **state)
{
    (void)state;
    ncalls = 0;
    struct promise_cb cb[5];
    for (int i = 0; i < 4; i++)
        promise_on_resolve(&ps[0], &cb[i], record, (void *)(intptr_t)i);
    assert_true(promise_cancel_cb(&ps[0], &cb[2]));
    assert_false(promise_cancel_cb(&ps[0], &cb[2]));
    assert_int_equal(ncalls, 0);
    promise_resolve(&ps[0], 31);
    assert_int_equal(ncalls, 3);
    static const int want[] = {0, 1, 3};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(calls[i], want[i]);
        assert_int_equal(call_values[i], 31);
    }
    assert_null(ps[0].cbs);
    assert_false(promise_cancel_cb(&ps[0], &cb[0])); /* already ran */
    /* Registered after the resolve: runs at once. */
    promise_on_resolve(&ps[0], &cb[4], record, (void *)(intptr_t)4);
    assert_int_equal(ncalls, 4);
    assert_int_equal(calls[3], 4);
    promise_resolve(&ps[0], 32); /* ignored: nothing runs again */
    assert_int_equal(ncalls, 4);
}

static struct promise_cb chain_cb[3];

/* The first continuation cancels the third and registers on another promise. */
static void cancel_third(struct promise *p, intptr_t value, void *arg)
{
    record(p, value, arg);
    assert_true(promise_cancel_cb(p, &chain_cb[2]));
    promise_on_resolve(&ps[1], &chain_cb[0], record, (void *)(intptr_t)10);
}

static void test_continuation_cancels_later(void **state)
{
    (void)state;
    ncalls = 0;
    promise_on_resolve(&ps[0], &chain_cb[0], cancel_third, (void *)(intptr_t)0);
    promise_on_resolve(&ps[0], &chain_cb[1], record, (void *)(intptr_t)1);
    promise_on_resolve(&ps[0], &chain_cb[2], record, (void *)(intptr_t)2);
    promise_resolve(&ps[0], 1);
    assert_int_equal(ncalls, 2);
    assert_int_equal(calls[0], 0);
    assert_int_equal(calls[1], 1);
    promise_resolve(&ps[1], 2);
    assert_int_equal(ncalls, 3);
    assert_int_equal(calls[2], 10);
    assert_int_equal(call_values[2], 2);
}

/* A continuation runs in the resolving thread, before the waiters run. */
static struct thread *cont_thread;
static int cont_seen_by_waiter;

static void note_thread(struct promise *p, intptr_t value, void *arg)
{
    (void)p, (void)value, (void)arg;
    cont_thread = thread_current();
}

static void waiter_checks_cont(void *arg)
{
    promise_await(arg, SCHED_FOREVER, NULL);
    cont_seen_by_waiter = cont_thread != NULL;
}

static void test_continuation_runs_in_resolver(void **state)
{
    (void)state;
    struct promise_cb cb;
    cont_thread = NULL;
    cont_seen_by_waiter = 0;
    promise_on_resolve(&ps[0], &cb, note_thread, NULL);
    spawn_detached(waiter_checks_cont, &ps[0]);
    thread_yield();
    promise_resolve(&ps[0], 0);
    assert_ptr_equal(cont_thread, thread_current());
    sched_run();
    assert_int_equal(cont_seen_by_waiter, 1);
}

/* ------------------------------------------------------------ await_any */

static void test_any_already_resolved(void **state)
{
    (void)state;
    promise_resolve(&ps[3], 3);
    promise_resolve(&ps[1], 1);
    struct sched_stats a, b;
    sched_get_stats(&a);
    assert_int_equal(promise_await_any(pps, 4, SCHED_FOREVER), 1);
    assert_int_equal(promise_await_any(pps + 2, 2, T0 - 1), 1); /* ps[3] */
    sched_get_stats(&b);
    assert_int_equal(b.switches, a.switches);
}

static void test_any_timeout(void **state)
{
    (void)state;
    assert_int_equal(promise_await_any(pps, 3, T0 + 7 * MS), -1);
    assert_int_equal(plat_now_ns(), T0 + 7 * MS);
    assert_int_equal(promise_await_any(pps, 3, T0), -1); /* passed: at once */
    assert_int_equal(promise_await_any(pps, 0, T0 + 8 * MS), -1);
    assert_int_equal(plat_now_ns(), T0 + 8 * MS);
    for (int i = 0; i < 3; i++)
        assert_null(ps[i].cbs); /* no continuation left behind */
}

struct resolver {
    struct promise *p;
    uint64_t after;
    intptr_t value;
};

static void resolve_later(void *arg)
{
    struct resolver *r = arg;
    thread_sleep_ns(r->after);
    promise_resolve(r->p, r->value);
}

static void test_any_wakes_on_one(void **state)
{
    (void)state;
    struct resolver r = {&ps[2], 10 * MS, 22};
    spawn_detached(resolve_later, &r);
    assert_int_equal(promise_await_any(pps, 3, T0 + 100 * MS), 2);
    assert_int_equal(plat_now_ns(), T0 + 10 * MS);
    assert_int_equal(ps[2].value, 22);
    for (int i = 0; i < 3; i++)
        assert_null(ps[i].cbs);
    /* The other promises still resolve normally, with no stale callback. */
    promise_resolve(&ps[0], 1);
    sched_run();
}

static void test_any_several_resolved_same_time(void **state)
{
    (void)state;
    /* Both resolve at 10 ms, the higher index first; the lowest index wins. */
    struct resolver r[2] = {{&ps[3], 10 * MS, 3}, {&ps[1], 10 * MS, 1}};
    spawn_detached(resolve_later, &r[0]);
    spawn_detached(resolve_later, &r[1]);
    assert_int_equal(promise_await_any(pps, 5, SCHED_FOREVER), 1);
    assert_int_equal(plat_now_ns(), T0 + 10 * MS);
    assert_true(promise_is_resolved(&ps[3]));
}

static void test_any_many_promises(void **state)
{
    (void)state;
    struct resolver r = {&ps[NP - 1], 4 * MS, 5};
    spawn_detached(resolve_later, &r);
    assert_int_equal(promise_await_any(pps, NP, T0 + 3 * MS), -1);
    assert_int_equal(promise_await_any(pps, NP, T0 + 9 * MS), NP - 1);
    assert_int_equal(plat_now_ns(), T0 + 4 * MS);
    sched_run();
}

/* Two threads await_any over overlapping sets at once. */
static int any_result[2];

static void any_body(void *arg)
{
    int i = (int)(intptr_t)arg;
    any_result[i] = promise_await_any(pps + i, 2, T0 + 50 * MS);
}

static void test_any_two_waiters(void **state)
{
    (void)state;
    any_result[0] = any_result[1] = -9;
    spawn_detached(any_body, (void *)0); /* ps[0], ps[1] */
    spawn_detached(any_body, (void *)1); /* ps[1], ps[2] */
    thread_yield();
    promise_resolve(&ps[1], 11);
    sched_run();
    assert_int_equal(any_result[0], 1);
    assert_int_equal(any_result[1], 0);
    assert_int_equal(plat_now_ns(), T0);
}

int main(void)
{
    sched_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_and_resolve_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_await_after_resolve_does_not_block, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_await_before_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_await_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_main_awaits_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation_cancels_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_continuation_runs_in_resolver, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_any_already_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_wakes_on_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_several_resolved_same_time, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_any_many_promises, setup, teardown),
        cmocka_unit_test_setup_teardown(test_any_two_waiters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
