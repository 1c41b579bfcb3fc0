/* Long randomised runs of drivers/virtqueue.c against the model device, in small
 * interleaved steps, checking the two ways a ring wedges (a lost interrupt: the
 * driver sleeps with used entries waiting; a lost kick: the device sleeps with
 * available entries waiting) and that no buffer is lost or returned twice.
 *   RX flood: a pool of buffers posted, the device fills them as fast as it may,
 *   the driver drains with a budget, the "stack" keeps some for a while and
 *   releases them later, which re-posts them.
 *   TX: chains of 1..4 pieces added until the ring is full, completed by the
 *   device in random order; the sender sleeps on a full ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/virtqueue.h"
#include "tests/unit/virtq_model.h"

static uint32_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state % n;
}

/* ---------------------------------------------------------------- RX flood */

#define RX_SIZE 64
#define RX_BUDGET 16
#define RX_BUF_BYTES 64

struct rx_sim {
    struct vfix f;
    uint8_t mem[RX_SIZE][RX_BUF_BYTES];
    int held_until[RX_SIZE]; /* step when the stack releases it; -1: not held */
    int state[RX_SIZE];      /* 0 posted, 1 held by the stack */
    bool driver_awake, device_awake, in_drain, need_kick;
    bool drained; /* the last driver step drained below budget: enable next */
    uint64_t delivered, dropped_nobuf, offered, step;
};

static void rx_post(struct rx_sim *s, int i)
{
    struct virtq_buf b = {s->mem[i], RX_BUF_BYTES};
    assert_int_equal(virtq_add(&s->f.vq, &b, 0, 1, s->mem[i], NULL), VIRTQ_OK);
    s->state[i] = 0;
}

/* The release hook: re-post, kick unless the drain loop kicks at its end. */
static void rx_release(struct rx_sim *s, int i)
{
    rx_post(s, i);
    if (s->in_drain)
        s->need_kick = true;
    else if (virtq_kick(&s->f.vq))
        s->device_awake = true;
}

static int rx_index(struct rx_sim *s, void *cookie)
{
    int i = (int)(((uint8_t *)cookie - &s->mem[0][0]) / RX_BUF_BYTES);
    assert_true(i >= 0 && i < RX_SIZE);
    assert_ptr_equal(cookie, s->mem[i]);
    return i;
}

/* The device: with frames arriving all the time, it fills what is posted. */
static void rx_device_step(struct rx_sim *s)
{
    if (!s->device_awake)
        return;
    int frames = 1 + (int)rnd(24);
    for (int k = 0; k < frames; k++) {
        s->offered++;
        struct vmodel_chain c;
        if (!vmodel_pop(&s->f.dev, &c)) {
            s->dropped_nobuf++; /* no buffer: the frame is lost, nothing wedges */
            continue;
        }
        assert_int_equal(c.n, 1);
        assert_true(c.seg[0].write);
        vmodel_push(&s->f.dev, c.head, 14 + rnd(RX_BUF_BYTES - 14));
        if (rnd(4) == 0 && vmodel_publish(&s->f.dev))
            s->driver_awake = true; /* the interrupt wakes the RX thread */
    }
    if (vmodel_publish(&s->f.dev))
        s->driver_awake = true;
    if (vmodel_pending(&s->f.dev) == 0 && rnd(2) == 0 && vmodel_try_sleep(&s->f.dev))
        s->device_awake = false;
}

/* The stack handed frame i: keep it for a while, or release it now. */
static void rx_deliver(struct rx_sim *s, int i)
{
    assert_int_equal(s->state[i], 0);
    s->state[i] = 1;
    s->delivered++;
    if (rnd(3) == 0)
        s->held_until[i] = (int)(s->step + 1 + rnd(200));
    else
        rx_release(s, i);
}

/* The RX thread: disable, drain with a budget, kick once; in a later step (so
 * the device can act in between) enable and re-check, sleeping only if idle. */
static void rx_driver_step(struct rx_sim *s)
{
    if (!s->driver_awake)
        return;
    if (s->drained) {
        s->drained = false;
        if (virtq_enable_cb(&s->f.vq))
            s->driver_awake = false;
        return;
    }
    virtq_disable_cb(&s->f.vq);
    s->in_drain = true;
    int n = 0;
    void *cookie;
    while (n < RX_BUDGET && (cookie = virtq_get_used(&s->f.vq, NULL)) != NULL) {
        rx_deliver(s, rx_index(s, cookie));
        n++;
    }
    s->in_drain = false;
    if (s->need_kick && virtq_kick(&s->f.vq))
        s->device_awake = true;
    s->need_kick = false;
    s->drained = n < RX_BUDGET; /* else: yield, come back for more */
}

static void rx_stack_step(struct rx_sim *s, bool release_all)
{
    for (int i = 0; i < RX_SIZE; i++) {
        if (s->state[i] == 1 && s->held_until[i] >= 0 &&
            (release_all || s->held_until[i] <= (int)s->step)) {
            s->held_until[i] = -1;
            rx_release(s, i);
        }
    }
}

static void rx_check(struct rx_sim *s)
{
    /* Lost interrupt: asleep with work waiting. */
    if (!s->driver_awake)
        assert_false(virtq_has_used(&s->f.vq));
    /* Lost kick: device asleep with buffers waiting. */
    if (!s->device_awake)
        assert_int_equal(vmodel_pending(&s->f.dev), 0);
    int posted = 0;
    for (int i = 0; i < RX_SIZE; i++)
        posted += s->state[i] == 0;
    assert_int_equal(virtq_in_flight(&s->f.vq), posted);
    assert_int_equal(virtq_num_free(&s->f.vq), RX_SIZE - posted);
}

static void rx_flood(bool event_idx, uint16_t start, uint32_t seed)
{
    static struct rx_sim s;
    memset(&s, 0, sizeof s);
    rng_state = seed;
    vfix_init(&s.f, RX_SIZE, VIRTQ_ALIGN_MODERN, event_idx, start);
    for (int i = 0; i < RX_SIZE; i++) {
        s.held_until[i] = -1;
        rx_post(&s, i);
    }
    virtq_kick(&s.f.vq);
    s.device_awake = true;
    virtq_enable_cb(&s.f.vq);
    for (s.step = 0; s.step < 200000; s.step++) {
        switch (rnd(3)) {
        case 0:
            rx_device_step(&s);
            break;
        case 1:
            rx_driver_step(&s);
            break;
        default:
            rx_stack_step(&s, false);
            break;
        }
        if (s.f.dev.kicked) {
            s.f.dev.kicked = false;
            s.device_awake = true;
            vmodel_want_kicks(&s.f.dev, false); /* busy: no kicks, like QEMU */
        }
        rx_check(&s);
    }
    /* The flood stops: the stack lets go of everything, the driver drains. */
    rx_stack_step(&s, true);
    for (int k = 0; k < 100 && (s.driver_awake || virtq_has_used(&s.f.vq)); k++) {
        s.driver_awake = true;
        rx_driver_step(&s);
        rx_stack_step(&s, true);
        rx_check(&s);
    }
    rx_stack_step(&s, true);
    assert_int_equal(virtq_in_flight(&s.f.vq), RX_SIZE); /* every buffer is back */
    assert_int_equal(s.delivered + s.dropped_nobuf, s.offered);
    /* The 16-bit indices wrapped many times over. */
    assert_true(s.f.vq.stats.used > 3 * 65536);
    print_message(
        "rx flood event_idx=%d: %llu frames, %llu delivered, %llu no-buffer drops, "
        "%llu kicks (%llu suppressed), %llu interrupts\n",
        event_idx, (unsigned long long)s.offered, (unsigned long long)s.delivered,
        (unsigned long long)s.dropped_nobuf, (unsigned long long)s.f.vq.stats.notifies,
        (unsigned long long)s.f.vq.stats.suppressed,
        (unsigned long long)s.f.dev.interrupts);
    vfix_free(&s.f);
}

static void test_rx_flood_flags(void **state)
{
    (void)state;
    rx_flood(false, 0, 0x12345678u);
}

static void test_rx_flood_event_idx(void **state)
{
    (void)state;
    rx_flood(true, 0, 0x9e3779b9u);
}

static void test_rx_flood_event_idx_near_wrap(void **state)
{
    (void)state;
    rx_flood(true, 65500, 0xdeadbeefu);
}

/* ---------------------------------------------------------------- TX, out of order */

#define TX_SIZE 32
#define TX_SLOTS 64 /* more frames than the ring holds: the sender meets a full ring */

struct tx_sim {
    struct vfix f;
    uint8_t bytes[TX_SLOTS][4][16];
    int npieces[TX_SLOTS];
    int state[TX_SLOTS]; /* 0 free, 1 in the ring */
    struct vmodel_chain taken[TX_SIZE];
    int ntaken;
    bool sender_asleep, device_awake;
    bool full; /* the last sender step met a full ring: enable (delayed) next */
    uint64_t sent, completed, full_waits;
};

static int tx_index(struct tx_sim *s, void *cookie)
{
    int i = (int)(((uint8_t *)cookie - &s->bytes[0][0][0]) / sizeof s->bytes[0]);
    assert_true(i >= 0 && i < TX_SLOTS);
    return i;
}

static void tx_reclaim(struct tx_sim *s)
{
    void *cookie;
    while ((cookie = virtq_get_used(&s->f.vq, NULL)) != NULL) {
        int i = tx_index(s, cookie);
        assert_int_equal(s->state[i], 1);
        s->state[i] = 0;
        s->completed++;
    }
}

/* The sender: reclaim, then queue frames until the ring is full, then sleep
 * with a delayed interrupt request (or go on when enable says work arrived). */
static void tx_sender_step(struct tx_sim *s)
{
    if (s->sender_asleep)
        return;
    if (s->full) {
        s->full = false;
        if (virtq_enable_cb_delayed(&s->f.vq)) {
            s->sender_asleep = true;
            return;
        }
    }
    tx_reclaim(s);
    int burst = 1 + (int)rnd(12);
    for (int k = 0; k < burst; k++) {
        int i = (int)rnd(TX_SLOTS);
        if (s->state[i] != 0)
            continue;
        int n = 1 + (int)rnd(4);
        struct virtq_buf b[4];
        for (int p = 0; p < n; p++)
            b[p] = (struct virtq_buf){s->bytes[i][p], (uint32_t)(1 + p)};
        enum virtq_err e = virtq_add(&s->f.vq, b, n, 0, s->bytes[i], NULL);
        if (e == VIRTQ_EFULL) {
            assert_true(virtq_num_free(&s->f.vq) < n);
            assert_true(virtq_in_flight(&s->f.vq) > 0); /* the device holds them */
            s->full_waits++;
            if (virtq_kick(&s->f.vq))
                s->device_awake = true;
            s->full = true;
            return;
        }
        assert_int_equal(e, VIRTQ_OK);
        s->npieces[i] = n;
        s->state[i] = 1;
        s->sent++;
    }
    if (virtq_kick(&s->f.vq))
        s->device_awake = true;
    virtq_disable_cb(&s->f.vq);
}

/* The device takes chains, and completes a random subset in random order. */
static void tx_device_step(struct tx_sim *s)
{
    if (!s->device_awake)
        return;
    struct vmodel_chain c;
    while (s->ntaken < TX_SIZE && vmodel_pop(&s->f.dev, &c)) {
        int i = tx_index(s, (void *)(uintptr_t)c.seg[0].addr);
        assert_int_equal(c.n, s->npieces[i]);
        for (int p = 0; p < c.n; p++) {
            assert_int_equal(c.seg[p].addr, (uint64_t)(uintptr_t)s->bytes[i][p]);
            assert_int_equal(c.seg[p].len, (uint32_t)(1 + p));
            assert_false(c.seg[p].write);
        }
        s->taken[s->ntaken++] = c;
    }
    int done = s->ntaken ? (int)rnd((uint32_t)s->ntaken + 1) : 0;
    for (int k = 0; k < done; k++) {
        int j = (int)rnd((uint32_t)s->ntaken);
        vmodel_push(&s->f.dev, s->taken[j].head, 0);
        s->taken[j] = s->taken[--s->ntaken];
        if (rnd(3) == 0 && vmodel_publish(&s->f.dev))
            s->sender_asleep = false;
    }
    if (vmodel_publish(&s->f.dev))
        s->sender_asleep = false;
    if (s->ntaken == 0 && vmodel_pending(&s->f.dev) == 0 && vmodel_try_sleep(&s->f.dev))
        s->device_awake = false;
}

static void tx_check(struct tx_sim *s)
{
    if (s->sender_asleep) /* asleep on a full ring: it must get an interrupt later */
        assert_true(virtq_in_flight(&s->f.vq) > 0);
    if (!s->device_awake)
        assert_int_equal(vmodel_pending(&s->f.dev), 0);
    int pieces = 0;
    for (int i = 0; i < TX_SLOTS; i++)
        pieces += s->state[i] ? s->npieces[i] : 0;
    assert_int_equal(virtq_num_free(&s->f.vq), TX_SIZE - pieces);
}

static void tx_run(bool event_idx, uint16_t start, uint32_t seed)
{
    static struct tx_sim s;
    memset(&s, 0, sizeof s);
    rng_state = seed;
    vfix_init(&s.f, TX_SIZE, VIRTQ_ALIGN_LEGACY, event_idx, start);
    virtq_disable_cb(&s.f.vq);
    s.device_awake = true;
    for (int step = 0; step < 200000; step++) {
        if (rnd(2))
            tx_sender_step(&s);
        else
            tx_device_step(&s);
        if (s.f.dev.kicked) {
            s.f.dev.kicked = false;
            s.device_awake = true;
            vmodel_want_kicks(&s.f.dev, false); /* busy: no kicks, like QEMU */
        }
        tx_check(&s);
        /* Neither side can be asleep waiting for the other forever. */
        assert_false(s.sender_asleep && !s.device_awake && s.ntaken == 0);
    }
    /* Let the device finish everything. */
    s.sender_asleep = false;
    s.device_awake = true;
    for (int k = 0; k < 1000 && (s.ntaken || vmodel_pending(&s.f.dev)); k++)
        tx_device_step(&s);
    tx_reclaim(&s);
    assert_int_equal(virtq_num_free(&s.f.vq), TX_SIZE);
    assert_int_equal(s.sent, s.completed);
    assert_true(s.full_waits > 100);
    print_message("tx event_idx=%d: %llu frames, %llu full-ring waits, %llu kicks (%llu "
                  "suppressed), %llu interrupts\n",
                  event_idx, (unsigned long long)s.sent, (unsigned long long)s.full_waits,
                  (unsigned long long)s.f.vq.stats.notifies,
                  (unsigned long long)s.f.vq.stats.suppressed,
                  (unsigned long long)s.f.dev.interrupts);
    vfix_free(&s.f);
}

static void test_tx_flags(void **state)
{
    (void)state;
    tx_run(false, 0, 0x2545f491u);
}

static void test_tx_event_idx_near_wrap(void **state)
{
    (void)state;
    tx_run(true, 65530, 0x7f4a7c15u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rx_flood_flags),
        cmocka_unit_test(test_rx_flood_event_idx),
        cmocka_unit_test(test_rx_flood_event_idx_near_wrap),
        cmocka_unit_test(test_tx_flags),
        cmocka_unit_test(test_tx_event_idx_near_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
