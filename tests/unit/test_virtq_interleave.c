/* Issue 9's model: would a checker have caught the lost notification that
 * wedged the virtio-net data path under QEMU 7.2 with one vCPU? It explores
 * interleavings of the real driver and a model of QEMU 7.2's device, and looks
 * for a state where both sleep with work pending (the driver waiting for an
 * interrupt, the device for a kick).
 *
 * What runs (tests/unit/vq_check.h and its files):
 *   - the driver: drivers/vnet_datapath.c and drivers/virtqueue.c, real code,
 *     virtqueue.c built with its ring accesses hooked (VIRTQ_MODEL,
 *     tests/unit/virtq_model_tu.c), on the real cooperative scheduler. Only the
 *     device thread's loop is restated (vq_check_guest.c: vnet_service turns,
 *     then sleep until an interrupt or the deadline, as virtio_net.c does; that
 *     file is not host-built). A stack takes each frame (or reflects it back
 *     out), a sender thread sends frames through tx_alloc/tx_send.
 *   - the device: tests/unit/qemu_net_model.h, QEMU 7.2's virtio-net (RX with
 *     its has_buffers re-check, the TX bottom half with its burst and re-check,
 *     a backend that is sometimes busy, notifications and interrupts as
 *     virtio.c decides them), cut into steps at its ring accesses.
 *   - memory: the driver's ring stores go through a TSO store buffer
 *     (vq_check_mem.c); the device sees them once drained (an I/O access, the
 *     guest's hlt, an interrupt, or any time the schedule says). The ordering
 *     point is "elided" (the CPU fence only, which TCG with one vCPU drops),
 *     "honoured" (plus the io fence: a port write, which drains), or "CPU" (the
 *     CPU fence works: SMP, KVM).
 *   - schedules (vq_check_env.c, vq_check_explore.c): the device may act before
 *     each driver load of a field the device writes, before each I/O access and
 *     before the guest halts (a preemption: a burst of device steps and drains),
 *     and freely while the guest sleeps. Exhaustive depth-first search within a
 *     bound on preemptions, or seeded random schedules beyond.
 *
 * Checked in every run: at its end (every guest thread asleep, nothing the
 * device can do), work left is a wedge, named: a lost RX or TX interrupt (used
 * entries the sleeping driver was owed an interrupt for), a lost TX kick (chains
 * the idle device never heard of), a lost RX kick (a frame held by the device
 * while buffers it never heard of wait). All along: each frame reaches the stack
 * once and in order, each sent frame leaves once and in order, the device never
 * gets a descriptor it holds, the driver never a used entry it does not own, no
 * buffer is lost. A broken invariant aborts and prints the run.
 *
 * Asserted: (1) with the ordering point elided the checker finds the lost RX
 * interrupt and the lost TX kick, and prints the shortest trace of each; (2)
 * with the io fence no wedge within the bounds, nor with a working CPU fence,
 * nor without EVENT_IDX (exhaustive, assuming even that taking an interrupt
 * drains nothing); (3) with the fence elided but timers firing when both sleep
 * (vnet_service's lost-interrupt poll and watchdog), every wedge is recovered
 * and the work completes; the checker also catches a wedge that needs no memory
 * model (the driver's fault injection dropping TX kicks), which the watchdog's
 * device reset recovers; and the search's reductions change no outcome.
 *
 * Environment: VIRTQ_CHECK_DEEP=1 raises the bounds (one more preemption, more
 * frames, 20000 random schedules: about five minutes instead of seconds);
 * VIRTQ_CHECK_SEED=n seeds the random schedules (default 1); VIRTQ_CHECK_TRACE=1
 * prints every wedge found, not only the shortest; VIRTQ_CHECK_PLAIN=1 turns
 * the search's reductions off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "tests/unit/vq_check.h"

/* ---------------------------------------------------------------- the tests */

static bool deep(void)
{
    return getenv("VIRTQ_CHECK_DEEP") != NULL;
}

/* A bound for make test, or for VIRTQ_CHECK_DEEP runs. */
static int bound(int normal, int deeper)
{
    return deep() ? deeper : normal;
}

#define EXHAUSTIVE_CAP 5000000 /* schedules: a bound the small cases never reach */

/* RX only: 3 frames through a 2-entry ring, the stack frees each at once. */
static const struct ck_config RX_SMALL = {
    .rx_size = 2,
    .tx_size = 2,
    .event_idx = true,
    .stack = STACK_SINK,
    .rx_frames = 3,
    .burst = 2,
    .preempt = 2,
};

/* TX only: a sender pushes 3 frames through a 2-entry ring (so it waits for
 * room once); the backend may be busy once. */
static const struct ck_config TX_SMALL = {
    .rx_size = 2,
    .tx_size = 2,
    .event_idx = true,
    .stack = STACK_SINK,
    .tx_frames = 3,
    .burst = 2,
    .busy_max = 1,
    .preempt = 2,
};

/* TX with more traffic: 5 frames, so the device has signalled an interrupt
 * before the sender waits for room (QEMU always signals its first one). */
static const struct ck_config TX_FIVE = {
    .rx_size = 2,
    .tx_size = 2,
    .event_idx = true,
    .stack = STACK_SINK,
    .tx_frames = 5,
    .burst = 2,
    .busy_max = 1,
    .preempt = 1,
};

/* Both rings: 3 frames reflected through 2-entry rings (RX buffers go out on
 * TX and come back when the device is done). */
static const struct ck_config REFLECT_SMALL = {
    .rx_size = 2,
    .tx_size = 2,
    .event_idx = true,
    .stack = STACK_REFLECT,
    .rx_frames = 3,
    .burst = 2,
    .busy_max = 1,
    .preempt = 1,
};

/* Deeper, for random schedules: 4-entry rings, frames both ways at once. */
static const struct ck_config MIXED_4 = {
    .rx_size = 4,
    .tx_size = 4,
    .event_idx = true,
    .stack = STACK_REFLECT,
    .rx_frames = 10,
    .tx_frames = 6,
    .burst = 2,
    .busy_max = 3,
    .preempt = 1000,
};

static struct ck_config variant(struct ck_config c, const char *name, enum ck_fence fence,
                                int preempt)
{
    c.name = name;
    c.fence = fence;
    c.preempt = preempt;
    return c;
}

static void exhaust(const struct ck_config *c, struct ck_result *r)
{
    ck_explore(c, r, EXHAUSTIVE_CAP, 0);
    ck_report(r);
    assert_true(r->complete);
}

/* No wedge, even assuming less: taking an interrupt drains nothing. */
static void no_wedge(struct ck_config c)
{
    struct ck_result r;
    c.irq_keeps_buffer = true;
    exhaust(&c, &r);
    assert_int_equal(r.by_verdict[V_DONE], r.schedules);
    ck_result_free(&r);
}

/* The reductions (cutting bursts that change nothing the driver loads, drains
 * only before device steps, idle states seen before) must not change what can
 * happen: the same final states as the plain search, on small cases. */
static void test_reductions_keep_every_outcome(void **state)
{
    (void)state;
    const struct ck_config cases[] = {
        variant(RX_SMALL, "RX elided, 1 preemption", FENCE_ELIDED, 1),
        variant(TX_SMALL, "TX honoured, 1 preemption", FENCE_HONOURED, 1),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ck_result reduced, plain;
        exhaust(&cases[i], &reduced);
        setenv("VIRTQ_CHECK_PLAIN", "1", 1);
        exhaust(&cases[i], &plain);
        unsetenv("VIRTQ_CHECK_PLAIN");
        assert_true(plain.schedules > reduced.schedules);
        assert_int_equal(plain.finals, reduced.finals);
        assert_true(plain.finals_sum == reduced.finals_sum);
        for (int v = 0; v < V_COUNT; v++)
            assert_int_equal(plain.by_verdict[v] > 0, reduced.by_verdict[v] > 0);
        ck_result_free(&reduced);
        ck_result_free(&plain);
    }
}

/* (1) QEMU 7.2's TCG with one vCPU drops the fence: the RX interrupt is lost
 * (the driver re-arms, its store waits in the buffer, the device publishes and
 * reads the old used_event). The checker must find it. */
static void test_elided_fence_loses_rx_interrupt(void **state)
{
    (void)state;
    struct ck_result r;
    struct ck_config c = variant(RX_SMALL, "RX, fence elided", FENCE_ELIDED, bound(2, 3));
    exhaust(&c, &r);
    assert_true(r.by_verdict[V_LOST_RX_IRQ] > 0);
    ck_print_best(&r);
    ck_result_free(&r);
}

/* (1) and the TX kick: the driver publishes, loads the old avail_event and
 * does not kick; the device re-enables and re-checks before the store drains. */
static void test_elided_fence_loses_tx_kick(void **state)
{
    (void)state;
    struct ck_result r;
    struct ck_config c = variant(TX_SMALL, "TX, fence elided", FENCE_ELIDED, bound(1, 2));
    exhaust(&c, &r);
    assert_true(r.by_verdict[V_LOST_TX_KICK] > 0);
    assert_true(r.by_verdict[V_LOST_TX_IRQ] > 0);
    ck_print_best(&r);
    ck_result_free(&r);
}

/* (2) With the io fence no wedge is reachable within the bounds; with the CPU
 * fence working (SMP, KVM) neither; with flags instead of EVENT_IDX neither. */
static void test_honoured_fence_never_wedges(void **state)
{
    (void)state;
    int p = bound(2, 3);
    no_wedge(variant(RX_SMALL, "RX, io fence", FENCE_HONOURED, p));
    no_wedge(variant(TX_SMALL, "TX, io fence", FENCE_HONOURED, p));
    no_wedge(variant(TX_FIVE, "TX 5 frames, io fence", FENCE_HONOURED, p - 1));
    no_wedge(variant(REFLECT_SMALL, "reflector, io fence", FENCE_HONOURED, p - 1));
    no_wedge(variant(RX_SMALL, "RX, CPU fence works (SMP)", FENCE_CPU, p));
    no_wedge(variant(TX_SMALL, "TX, CPU fence works (SMP)", FENCE_CPU, p - 1));
    struct ck_config flags =
        variant(RX_SMALL, "RX, io fence, no EVENT_IDX", FENCE_HONOURED, p);
    flags.event_idx = false;
    no_wedge(flags);
    flags = variant(TX_SMALL, "TX, io fence, no EVENT_IDX", FENCE_HONOURED, p - 1);
    flags.event_idx = false;
    no_wedge(flags);
}

/* (3) Fence elided, but timers fire when both sleep: vnet_service's lost
 * interrupt poll and watchdog (re-kick, reset) must bring every wedge back to
 * work done. */
static void recovers(struct ck_config c)
{
    struct ck_result r;
    c.watchdog = true;
    exhaust(&c, &r);
    assert_true(r.wedged > 0);
    assert_int_equal(r.by_verdict[V_DONE], r.schedules);
    ck_result_free(&r);
}

static void test_watchdog_recovers_every_wedge(void **state)
{
    (void)state;
    recovers(variant(RX_SMALL, "RX, fence elided, watchdog", FENCE_ELIDED, bound(2, 3)));
    recovers(variant(TX_SMALL, "TX, fence elided, watchdog", FENCE_ELIDED, bound(1, 2)));
}

/* The checker catches a wedge that needs no memory model: the driver's own
 * fault injection (fault=tx-wedge) drops every TX kick from the second frame on,
 * re-kicks included (io fence on); the watchdog's device reset recovers it. */
static void test_dropped_kicks_caught_and_recovered(void **state)
{
    (void)state;
    struct ck_result r;
    struct ck_config c =
        variant(TX_SMALL, "TX, io fence, kicks dropped", FENCE_HONOURED, 1);
    c.fault_kick = true;
    exhaust(&c, &r);
    assert_true(r.by_verdict[V_LOST_TX_KICK] > 0);
    ck_result_free(&r);
    c.name = "TX, io fence, kicks dropped, watchdog";
    c.watchdog = true;
    exhaust(&c, &r);
    assert_int_equal(r.by_verdict[V_DONE], r.schedules);
    assert_true(r.wedged > 0 && r.resets == r.wedged);
    ck_result_free(&r);
}

/* Beyond the exhaustive bounds: seeded random schedules (any number of
 * preemptions) on 4-entry rings with traffic both ways. */
static void test_random_schedules(void **state)
{
    (void)state;
    long n = bound(300, 20000);
    struct ck_result r;
    struct ck_config c =
        variant(MIXED_4, "mixed, io fence, random", FENCE_HONOURED, 1000);
    ck_explore(&c, &r, n, n);
    ck_report(&r);
    printf("    (seed %llu)\n", (unsigned long long)r.seed);
    assert_int_equal(r.by_verdict[V_DONE], n);
    ck_result_free(&r);
    c = variant(MIXED_4, "mixed, fence elided, random", FENCE_ELIDED, 1000);
    ck_explore(&c, &r, n, n);
    ck_report(&r);
    assert_true(r.wedged > 0);
    ck_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reductions_keep_every_outcome),
        cmocka_unit_test(test_elided_fence_loses_rx_interrupt),
        cmocka_unit_test(test_elided_fence_loses_tx_kick),
        cmocka_unit_test(test_honoured_fence_never_wedges),
        cmocka_unit_test(test_watchdog_recovers_every_wedge),
        cmocka_unit_test(test_dropped_kicks_caught_and_recovered),
        cmocka_unit_test(test_random_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
