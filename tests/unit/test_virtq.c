/* drivers/virtqueue.c against the model device in virtq_model.h: layout, add and
 * use, chains, full and empty rings, indices wrapping at 65535, out-of-order
 * completion, kick and interrupt suppression with and without EVENT_IDX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/virtqueue.h"
#include "tests/unit/virtq_model.h"

static uint8_t data[64][256];

static struct virtq_buf buf_of(int i, uint32_t len)
{
    return (struct virtq_buf){data[i], len};
}

static void *cookie_of(int i)
{
    return &data[i][0];
}

/* Adds a one-descriptor chain (out or in) for data[i]. */
static enum virtq_err add1(struct vfix *f, int i, bool writable)
{
    struct virtq_buf b = buf_of(i, (uint32_t)(10 + i));
    return virtq_add(&f->vq, &b, writable ? 0 : 1, writable ? 1 : 0, cookie_of(i), NULL);
}

/* The device uses one chain with len bytes written. */
static uint16_t dev_use_one(struct vfix *f, uint32_t len)
{
    struct vmodel_chain c;
    assert_true(vmodel_pop(&f->dev, &c));
    vmodel_push(&f->dev, c.head, len);
    vmodel_publish(&f->dev);
    return c.head;
}

static uint16_t dev_pop_head(struct vfix *f)
{
    struct vmodel_chain c;
    assert_true(vmodel_pop(&f->dev, &c));
    return c.head;
}

static void test_layout(void **state)
{
    (void)state;
    struct virtq_layout l;
    virtq_layout(256, VIRTQ_ALIGN_LEGACY, &l);
    assert_int_equal(l.desc_off, 0);
    assert_int_equal(l.avail_off, 4096);
    assert_int_equal(l.used_off, 8192); /* 4096 + 6 + 512 rounded up to a page */
    assert_int_equal(l.total, 8192 + 6 + 8 * 256);
    virtq_layout(256, VIRTQ_ALIGN_MODERN, &l);
    assert_int_equal(l.used_off, 4096 + 518 + 2); /* 4614 -> 4616 */
    virtq_layout(1, VIRTQ_ALIGN_MODERN, &l);
    assert_int_equal(l.avail_off, 16);
    assert_int_equal(l.used_off, 24);
    assert_int_equal(l.total, 24 + 6 + 8);
}

static void test_need_event(void **state)
{
    (void)state;
    /* event in [old, new) */
    assert_true(virtq_need_event(0, 1, 0));
    assert_false(virtq_need_event(1, 1, 0));
    assert_true(virtq_need_event(5, 10, 3));
    assert_false(virtq_need_event(2, 10, 3));
    assert_false(virtq_need_event(10, 10, 3));
    assert_true(virtq_need_event(9, 10, 3));
    /* across the wrap */
    assert_true(virtq_need_event(65535, 2, 65534));
    assert_true(virtq_need_event(0, 2, 65534));
    assert_true(virtq_need_event(1, 2, 65534));
    assert_false(virtq_need_event(2, 2, 65534));
    assert_false(virtq_need_event(65533, 2, 65534));
    /* nothing new: never */
    assert_false(virtq_need_event(7, 7, 7));
}

static void test_add_use_single(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, false, 0);
    assert_int_equal(add1(&f, 3, false), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&f.vq), 7);
    assert_int_equal(virtq_in_flight(&f.vq), 1);
    assert_false(virtq_has_used(&f.vq));
    assert_null(virtq_get_used(&f.vq, NULL));

    struct vmodel_chain c;
    assert_true(vmodel_pop(&f.dev, &c));
    assert_int_equal(c.n, 1);
    assert_int_equal(c.seg[0].addr, (uint64_t)(uintptr_t)data[3]);
    assert_int_equal(c.seg[0].len, 13);
    assert_false(c.seg[0].write);
    assert_false(vmodel_pop(&f.dev, &c));
    vmodel_push(&f.dev, c.head, 0);
    assert_false(virtq_has_used(&f.vq)); /* not yet published */
    vmodel_publish(&f.dev);
    assert_true(virtq_has_used(&f.vq));
    uint32_t len = 99;
    assert_ptr_equal(virtq_get_used(&f.vq, &len), cookie_of(3));
    assert_int_equal(len, 0);
    assert_null(virtq_get_used(&f.vq, &len));
    assert_int_equal(virtq_num_free(&f.vq), 8);
    assert_int_equal(virtq_in_flight(&f.vq), 0);
    assert_int_equal(f.vq.stats.added, 1);
    assert_int_equal(f.vq.stats.used, 1);
    vfix_free(&f);
}

static void test_chain_out_then_in(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 16, VIRTQ_ALIGN_LEGACY, false, 0);
    struct virtq_buf b[5] = {buf_of(0, 12), buf_of(1, 100), buf_of(2, 7), buf_of(3, 64),
                             buf_of(4, 1)};
    uint16_t head;
    assert_int_equal(virtq_add(&f.vq, b, 3, 2, cookie_of(0), &head), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&f.vq), 11);
    struct vmodel_chain c;
    assert_true(vmodel_pop(&f.dev, &c));
    assert_int_equal(c.head, head);
    assert_int_equal(c.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(c.seg[i].addr, (uint64_t)(uintptr_t)b[i].p);
        assert_int_equal(c.seg[i].len, b[i].len);
        assert_int_equal(c.seg[i].write, i >= 3);
    }
    vmodel_push(&f.dev, c.head, 65);
    vmodel_publish(&f.dev);
    uint32_t len;
    assert_ptr_equal(virtq_get_used(&f.vq, &len), cookie_of(0));
    assert_int_equal(len, 65);
    assert_int_equal(virtq_num_free(&f.vq), 16);
    vfix_free(&f);
}

static void test_einval(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 4, VIRTQ_ALIGN_MODERN, false, 0);
    struct virtq_buf b[5] = {buf_of(0, 1), buf_of(1, 1), buf_of(2, 1), buf_of(3, 1),
                             buf_of(4, 1)};
    assert_int_equal(virtq_add(&f.vq, b, 0, 0, cookie_of(0), NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&f.vq, b, 5, 0, cookie_of(0), NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&f.vq, b, 1, 0, NULL, NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&f.vq, b, -1, 2, cookie_of(0), NULL), VIRTQ_EINVAL);
    assert_int_equal(virtq_add(&f.vq, b, 2, 2, cookie_of(0), NULL), VIRTQ_OK); /* all 4 */
    assert_int_equal(virtq_num_free(&f.vq), 0);
    vfix_free(&f);
}

/* A full ring and an empty one differ although both have avail == used slots. */
static void test_full_and_empty(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, false, 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(add1(&f, i, true), VIRTQ_OK);
    assert_int_equal(add1(&f, 8, true), VIRTQ_EFULL);
    assert_int_equal(virtq_in_flight(&f.vq), 8);
    assert_int_equal(vmodel_pending(&f.dev), 8);
    for (int i = 0; i < 8; i++)
        vmodel_push(&f.dev, dev_pop_head(&f), 1);
    vmodel_publish(&f.dev);
    /* used->idx - last_used == 8 == size: full of used entries, not empty. */
    for (int i = 0; i < 8; i++)
        assert_ptr_equal(virtq_get_used(&f.vq, NULL), cookie_of(i));
    assert_null(virtq_get_used(&f.vq, NULL));
    assert_int_equal(virtq_num_free(&f.vq), 8);
    assert_int_equal(virtq_in_flight(&f.vq), 0);
    vfix_free(&f);
}

/* A freed single descriptor does not let a 2-descriptor chain in. */
static void test_full_partial(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 4, VIRTQ_ALIGN_MODERN, false, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(add1(&f, i, false), VIRTQ_OK);
    dev_use_one(&f, 0);
    assert_ptr_equal(virtq_get_used(&f.vq, NULL), cookie_of(0));
    struct virtq_buf b[2] = {buf_of(10, 1), buf_of(11, 1)};
    assert_int_equal(virtq_add(&f.vq, b, 2, 0, cookie_of(10), NULL), VIRTQ_EFULL);
    assert_int_equal(virtq_add(&f.vq, b, 1, 0, cookie_of(10), NULL), VIRTQ_OK);
    vfix_free(&f);
}

/* Free-running indices starting just below 65535 wrap to 0 and keep working,
 * with the ring full at the moment of the wrap. */
static void test_wrap(void **state)
{
    (void)state;
    const uint16_t starts[] = {65535, 65530, 65528, 65534};
    for (unsigned s = 0; s < sizeof starts / sizeof starts[0]; s++) {
        struct vfix f;
        vfix_init(&f, 8, VIRTQ_ALIGN_LEGACY, s & 1, starts[s]);
        int next = 0;
        for (int round = 0; round < 40; round++) {
            int n = 1 + round % 8;
            for (int i = 0; i < n; i++)
                assert_int_equal(add1(&f, (next + i) % 64, true), VIRTQ_OK);
            virtq_kick(&f.vq);
            for (int i = 0; i < n; i++)
                dev_use_one(&f, (uint32_t)i);
            for (int i = 0; i < n; i++) {
                uint32_t len;
                assert_ptr_equal(virtq_get_used(&f.vq, &len), cookie_of((next + i) % 64));
                assert_int_equal(len, (uint32_t)i);
            }
            next += n;
            assert_int_equal(virtq_num_free(&f.vq), 8);
        }
        assert_int_equal(f.vq.avail->idx, (uint16_t)(starts[s] + next));
        assert_int_equal(f.vq.used->idx, (uint16_t)(starts[s] + next));
        vfix_free(&f);
    }
}

static void test_out_of_order(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, true, 65533);
    struct vmodel_chain c[8];
    for (int i = 0; i < 8; i++) {
        assert_int_equal(add1(&f, i, true), VIRTQ_OK);
        assert_true(vmodel_pop(&f.dev, &c[i]));
    }
    const int order[8] = {5, 0, 7, 2, 1, 6, 3, 4};
    for (int k = 0; k < 8; k++) {
        vmodel_push(&f.dev, c[order[k]].head, (uint32_t)order[k]);
        if (k % 3 == 2)
            vmodel_publish(&f.dev);
    }
    vmodel_publish(&f.dev);
    for (int k = 0; k < 8; k++) {
        uint32_t len;
        assert_ptr_equal(virtq_get_used(&f.vq, &len), cookie_of(order[k]));
        assert_int_equal(len, (uint32_t)order[k]);
    }
    assert_int_equal(virtq_num_free(&f.vq), 8);
    /* The scrambled free list still yields sound chains: fill with chains of 3+3+2. */
    struct virtq_buf b[3] = {buf_of(20, 1), buf_of(21, 2), buf_of(22, 3)};
    assert_int_equal(virtq_add(&f.vq, b, 3, 0, cookie_of(20), NULL), VIRTQ_OK);
    assert_int_equal(virtq_add(&f.vq, b, 1, 2, cookie_of(21), NULL), VIRTQ_OK);
    assert_int_equal(virtq_add(&f.vq, b, 0, 2, cookie_of(22), NULL), VIRTQ_OK);
    assert_int_equal(virtq_num_free(&f.vq), 0);
    struct vmodel_chain d;
    const int ns[3] = {3, 3, 2};
    for (int k = 0; k < 3; k++) {
        assert_true(vmodel_pop(&f.dev, &d));
        assert_int_equal(d.n, ns[k]);
        for (int i = 0; i < d.n; i++)
            assert_int_equal(d.seg[i].addr, (uint64_t)(uintptr_t)b[i].p);
        c[k] = d;
    }
    /* All descriptors distinct. */
    uint8_t seen[8] = {0};
    for (int k = 0; k < 3; k++) {
        uint16_t cur = c[k].head;
        for (int i = 0; i < c[k].n; i++) {
            assert_int_equal(seen[cur], 0);
            seen[cur] = 1;
            cur = f.vq.desc[cur].next;
        }
    }
    vfix_free(&f);
}

/* Without EVENT_IDX the device's NO_NOTIFY flag suppresses kicks. */
static void test_kick_flags(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, false, 0);
    assert_false(virtq_kick(&f.vq)); /* nothing added */
    add1(&f, 0, true);
    assert_true(virtq_kick(&f.vq));
    assert_int_equal(f.dev.kicks, 1);
    assert_false(virtq_kick(&f.vq)); /* nothing new */
    vmodel_want_kicks(&f.dev, false);
    add1(&f, 1, true);
    assert_false(virtq_kick(&f.vq));
    assert_int_equal(f.vq.stats.suppressed, 1);
    vmodel_want_kicks(&f.dev, true);
    add1(&f, 2, true);
    add1(&f, 3, true);
    assert_true(virtq_kick(&f.vq));
    assert_int_equal(f.dev.kicks, 2);
    vfix_free(&f);
}

/* With EVENT_IDX a kick goes out only when avail->idx passes avail_event. */
static void test_kick_event_idx(void **state)
{
    (void)state;
    const uint16_t starts[] = {0, 65534};
    for (int s = 0; s < 2; s++) {
        uint16_t st = starts[s];
        struct vfix f;
        vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, true, st);
        /* avail_event == start: the first buffer is wanted. */
        add1(&f, 0, true);
        assert_true(virtq_kick(&f.vq));
        /* The device has not caught up (avail_event still start): no kick. */
        add1(&f, 1, true);
        assert_false(virtq_kick(&f.vq));
        add1(&f, 2, true);
        assert_false(virtq_kick(&f.vq));
        /* The device takes all three and asks for the next one (avail_event = st+3). */
        struct vmodel_chain c;
        while (vmodel_pop(&f.dev, &c))
            ;
        vmodel_want_kicks(&f.dev, true);
        assert_int_equal(*virtq_avail_event(f.vq.used, 8), (uint16_t)(st + 3));
        add1(&f, 3, true);
        add1(&f, 4, true);
        assert_true(virtq_kick(&f.vq)); /* [st+3, st+5) contains st+3 */
        /* A device asking far ahead (st+7): two more buffers are not enough... */
        *virtq_avail_event(f.vq.used, 8) = (uint16_t)(st + 7);
        add1(&f, 5, true);
        add1(&f, 6, true);
        assert_false(virtq_kick(&f.vq)); /* [st+5, st+7) */
        add1(&f, 7, true);
        assert_true(virtq_kick(&f.vq)); /* [st+7, st+8) */
        assert_int_equal(f.dev.kicks, 3);
        assert_int_equal(f.vq.stats.suppressed, 3);
        vfix_free(&f);
    }
}

/* Without EVENT_IDX: NO_INTERRUPT flag, and enable reports pending work. */
static void test_interrupt_flags(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, false, 0);
    for (int i = 0; i < 6; i++)
        add1(&f, i, true);
    assert_true(virtq_enable_cb(&f.vq));
    dev_use_one(&f, 1);
    assert_int_equal(f.dev.interrupts, 1);
    virtq_disable_cb(&f.vq);
    assert_int_equal(f.vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    dev_use_one(&f, 1);
    dev_use_one(&f, 1);
    assert_int_equal(f.dev.interrupts, 1);
    assert_false(virtq_enable_cb(&f.vq)); /* 3 used entries wait */
    assert_int_equal(f.vq.avail->flags, 0);
    while (virtq_get_used(&f.vq, NULL))
        ;
    assert_true(virtq_enable_cb(&f.vq));
    dev_use_one(&f, 1);
    assert_int_equal(f.dev.interrupts, 2);
    vfix_free(&f);
}

/* With EVENT_IDX: flags stay 0, used_event steers the interrupts. */
static void test_interrupt_event_idx(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, true, 65532);
    for (int i = 0; i < 8; i++)
        add1(&f, i, true);
    assert_true(virtq_enable_cb(&f.vq));
    dev_use_one(&f, 1);
    assert_int_equal(f.dev.interrupts, 1);
    dev_use_one(&f, 1); /* used_event not moved: no second interrupt */
    assert_int_equal(f.dev.interrupts, 1);
    virtq_disable_cb(&f.vq);
    assert_int_equal(f.vq.avail->flags, 0);
    assert_false(virtq_enable_cb(&f.vq)); /* two pending */
    assert_non_null(virtq_get_used(&f.vq, NULL));
    virtq_disable_cb(&f.vq);
    assert_non_null(virtq_get_used(&f.vq, NULL));
    dev_use_one(&f, 1); /* disabled: quiet */
    assert_int_equal(f.dev.interrupts, 1);
    assert_non_null(virtq_get_used(&f.vq, NULL));
    /* 5 in flight; delayed asks for the interrupt after 3 of them. */
    assert_int_equal(virtq_in_flight(&f.vq), 5);
    assert_true(virtq_enable_cb_delayed(&f.vq));
    dev_use_one(&f, 1);
    dev_use_one(&f, 1);
    dev_use_one(&f, 1);
    assert_int_equal(f.dev.interrupts, 1);
    dev_use_one(&f, 1);
    assert_int_equal(f.dev.interrupts, 2);
    /* Delayed with the threshold already passed reports it. */
    virtq_disable_cb(&f.vq);
    assert_false(virtq_enable_cb_delayed(&f.vq)); /* 4 used > 3/4 of 5 */
    vfix_free(&f);
}

/* A translate hook gives the device bus addresses, not pointers. */
static uint64_t xlate_plus(const void *p, void *ctx)
{
    return (uint64_t)(uintptr_t)p + (uint64_t)(uintptr_t)ctx;
}

static void test_xlate(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 4, VIRTQ_ALIGN_MODERN, false, 0);
    f.vq.xlate = xlate_plus;
    f.vq.xlate_ctx = (void *)(uintptr_t)0x100000000ull;
    add1(&f, 1, false);
    struct vmodel_chain c;
    assert_true(vmodel_pop(&f.dev, &c));
    assert_int_equal(c.seg[0].addr, (uint64_t)(uintptr_t)data[1] + 0x100000000ull);
    assert_int_equal(virtq_desc_addr(&f.vq), (uint64_t)(uintptr_t)f.mem + 0x100000000ull);
    vfix_free(&f);
}

/* The watchdog's question: did the device ask for a kick it never got? A kick
 * dropped (as a lost notification would be) leaves one owed; a forced kick or
 * a device that moved its event past our entries clears it. Both conventions,
 * and across the 16-bit wrap. Every check comes after an ordering point. */
static void test_kick_owed(void **state)
{
    (void)state;
    const uint16_t starts[] = {0, 65533};
    for (int ev = 0; ev < 2; ev++) {
        for (int s = 0; s < 2; s++) {
            struct vfix f;
            vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, ev, starts[s]);
            vmodel_want_kicks(&f.dev, true);
            assert_false(virtq_kick_owed(&f.vq)); /* nothing published */
            add1(&f, 0, true);
            assert_true(virtq_kick_owed(&f.vq));
            virtq_kick(&f.vq);
            assert_false(virtq_kick_owed(&f.vq));
            add1(&f, 1, true);
            virtq_kick_drop(&f.vq); /* the decision made, the kick lost */
            struct vmodel_chain c;
            assert_true(vmodel_pop(&f.dev, &c)); /* the device only saw the first */
            vmodel_push(&f.dev, c.head, 0);
            vmodel_publish(&f.dev);
            /* It has not seen entry 1: say it had not (avail_event / flags as
             * when it went idle after entry 0). */
            if (ev)
                *virtq_avail_event(f.vq.used, 8) = (uint16_t)(starts[s] + 1);
            else
                f.vq.used->flags = 0;
            assert_true(virtq_kick_owed(&f.vq));
            uint64_t before = f.dev.kicks;
            virtq_kick_force(&f.vq);
            assert_int_equal(f.dev.kicks, before + 1);
            assert_int_equal(f.vq.stats.forced, 1);
            assert_false(virtq_kick_owed(&f.vq));
            /* The device takes it and asks for the next one: nothing owed. */
            assert_true(vmodel_pop(&f.dev, &c));
            vmodel_want_kicks(&f.dev, true);
            assert_false(virtq_kick_owed(&f.vq));
            vfix_free(&f);
        }
    }
}

/* Ordering points are paid once per batch of stores: several loads after one
 * store need one, loads with no store since need none. */
static void test_fence_once_per_store_batch(void **state)
{
    (void)state;
    struct vfix f;
    vfix_init(&f, 8, VIRTQ_ALIGN_MODERN, true, 0);
    add1(&f, 0, true);
    add1(&f, 1, true);
    uint64_t fences = f.vq.stats.fences;
    virtq_kick(&f.vq);
    assert_int_equal(f.vq.stats.fences, fences + 1);
    virtq_kick_owed(&f.vq);
    assert_false(virtq_kick(&f.vq));
    assert_int_equal(f.vq.stats.fences, fences + 1); /* no store since */
    virtq_arm_cb(&f.vq);
    assert_true(virtq_armed_check(&f.vq));
    assert_int_equal(f.vq.stats.fences, fences + 2);
    vfix_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_need_event),
        cmocka_unit_test(test_add_use_single),
        cmocka_unit_test(test_chain_out_then_in),
        cmocka_unit_test(test_einval),
        cmocka_unit_test(test_full_and_empty),
        cmocka_unit_test(test_full_partial),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_kick_flags),
        cmocka_unit_test(test_kick_event_idx),
        cmocka_unit_test(test_interrupt_flags),
        cmocka_unit_test(test_interrupt_event_idx),
        cmocka_unit_test(test_xlate),
        cmocka_unit_test(test_kick_owed),
        cmocka_unit_test(test_fence_once_per_store_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
