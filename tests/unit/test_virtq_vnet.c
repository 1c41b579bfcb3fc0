/* The virtio-net data path (drivers/vnet_datapath.c, compiled into this test for
 * its private timing constants) against the device model (tests/unit/vnet_model.h), with
 * the real cooperative scheduler: zero-copy RX delivery and refill, batched kicks,
 * no-buffer and runt counting; TX chains with extra segments and references, refused
 * frames, a full TX ring that blocks the sender until the device's interrupt wakes it,
 * the give-up timeout, TX buffer exhaustion, and the reflector sending RX buffers back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/vnet_datapath.c"
#include "tests/unit/host_plat.h"
#include "tests/unit/vnet_model.h"

/* ---------------------------------------------------------------- a device */

static struct vnet_model m;

#define MAC_A 0xA0
#define MAC_B 0xB0

/* What the stack saw: netbufs kept (one reference each) for the test to check. */
static struct netbuf *got[512];
static uint32_t got_off[512], got_len[512];
static int ngot;
static bool keep; /* keep the reference, or release it at once */

static void capture_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len)
{
    (void)nif;
    KCHECK(ngot < 512);
    got[ngot] = b;
    got_off[ngot] = off;
    got_len[ngot] = len;
    ngot++;
    if (!keep)
        netbuf_unref(b);
}

static int setup(uint16_t rxsize, uint16_t txsize, bool split, bool event_idx)
{
    ngot = 0;
    keep = false;
    vnet_model_setup(&m, &(struct vnet_model_config){.rxsize = rxsize,
                                                     .txsize = txsize,
                                                     .split_hdr = split,
                                                     .no_event_idx = !event_idx,
                                                     .input = capture_input});
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vnet_model_teardown(&m);
    return 0;
}

static int setup_plain(void **state)
{
    (void)state;
    return setup(8, 8, false, true);
}

static int setup_split_flags(void **state)
{
    (void)state;
    return setup(8, 8, true, false);
}

/* The device receives a frame of len bytes (filled with fill, MACs set) into the
 * next posted buffer. False when no buffer is posted. */
static bool dev_receive(uint32_t len, uint8_t fill)
{
    return vnet_model_receive(&m, len, fill, MAC_A, MAC_B);
}

/* The device sends every TX chain it was given; returns how many, and whether
 * that raised an interrupt in *irq. */
static int dev_transmit_all(bool *irq)
{
    struct vmodel_chain c;
    int n = 0;
    while (vmodel_pop(&m.txf.dev, &c)) {
        assert_false(c.seg[0].write);
        vmodel_push(&m.txf.dev, c.head, 0);
        n++;
    }
    bool i = vmodel_publish(&m.txf.dev);
    if (irq)
        *irq = i;
    return n;
}

/* ---------------------------------------------------------------- RX */

static void test_rx_zero_copy_and_refill(void **state)
{
    (void)state;
    assert_int_equal(m.dev.rx_nbufs, 8);
    assert_int_equal(virtq_in_flight(&m.dev.rxq), 8);
    keep = true;
    for (int i = 0; i < 5; i++)
        assert_true(dev_receive((uint32_t)(60 + i), (uint8_t)i));
    uint64_t kicks = m.rxf.dev.kicks;
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 5);
    assert_int_equal(ngot, 5);
    for (int i = 0; i < 5; i++) {
        struct netbuf *b = got[i];
        /* A view into the very buffer the device wrote, past the header. */
        assert_true(b >= m.dev.rx_bufs && b < m.dev.rx_bufs + m.dev.rx_nbufs);
        assert_int_equal(b->refs, 1);
        assert_int_equal(got_off[i], VNET_HDR_LEN_V1);
        assert_int_equal(got_len[i], 60 + i);
        assert_int_equal(b->data[got_off[i]], MAC_A);
        assert_int_equal(b->data[got_off[i] + 12], (uint8_t)i);
    }
    assert_int_equal(m.dev.stats.rx_packets, 5);
    assert_int_equal(m.dev.stats.rx_bytes, 60 + 61 + 62 + 63 + 64);
    assert_int_equal(m.dev.rx_posted, 3);
    vmodel_want_kicks(&m.rxf.dev, true); /* it took buffers: tell it of new ones */
    /* The stack lets go: each buffer is re-posted (and the device told). */
    for (int i = 0; i < 5; i++)
        netbuf_unref(got[i]);
    assert_int_equal(m.dev.rx_posted, 8);
    assert_int_equal(virtq_in_flight(&m.dev.rxq), 8);
    assert_true(m.rxf.dev.kicks > kicks);
}

/* Released inside the drain: one kick for the batch, not one per frame. */
static void test_rx_batched_kick(void **state)
{
    (void)state;
    for (int i = 0; i < 6; i++)
        assert_true(dev_receive(100, 1));
    vmodel_want_kicks(&m.rxf.dev, true);
    uint64_t before = m.rxf.dev.kicks;
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 6);
    assert_int_equal(m.rxf.dev.kicks - before, 1);
    assert_int_equal(m.dev.rx_posted, 8);
}

static void test_rx_budget_and_nobuf(void **state)
{
    (void)state;
    keep = true;
    for (int i = 0; i < 8; i++)
        assert_true(dev_receive(200, 2));
    assert_false(dev_receive(200, 2)); /* no buffer: the device drops it */
    assert_int_equal(vnet_rx_drain(&m.dev, 3), 3);
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 5);
    assert_int_equal(m.dev.stats.rx_nobuf, 1); /* found the ring empty */
    for (int i = 0; i < 8; i++)
        netbuf_unref(got[i]);
    assert_int_equal(m.dev.rx_posted, 8);
    assert_true(dev_receive(200, 2)); /* and it flows again */
}

static void test_rx_runt_and_no_input(void **state)
{
    (void)state;
    assert_true(dev_receive(10, 3)); /* shorter than an Ethernet header */
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 1);
    assert_int_equal(ngot, 0);
    assert_int_equal(m.dev.stats.rx_errors, 1);
    m.dev.nif.input = NULL;
    assert_true(dev_receive(60, 3));
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 1);
    assert_int_equal(m.dev.stats.rx_dropped, 1);
    assert_int_equal(m.dev.rx_posted, 8); /* both recycled */
}

/* Legacy without ANY_LAYOUT: header and frame in two descriptors. */
static void test_rx_split_header(void **state)
{
    (void)state;
    assert_int_equal(m.dev.rx_nbufs, 4); /* two descriptors each */
    struct vmodel_chain c;
    assert_true(vmodel_pop(&m.rxf.dev, &c));
    assert_int_equal(c.n, 2);
    assert_int_equal(c.seg[0].len, VNET_HDR_LEN_V1);
    assert_int_equal(c.seg[1].addr, c.seg[0].addr + VNET_HDR_LEN_V1);
    vmodel_push(&m.rxf.dev, c.head, VNET_HDR_LEN_V1 + 60);
    vmodel_publish(&m.rxf.dev);
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 1);
    assert_int_equal(ngot, 1);
    assert_int_equal(got_len[0], 60);
}

/* ---------------------------------------------------------------- TX */

static struct netbuf *frame_buf(uint32_t len)
{
    struct netbuf *b = vnet_tx_alloc(&m.dev.nif);
    assert_non_null(b);
    assert_int_equal(b->refs, 1);
    assert_true(b->cap >= m.dev.nif.tx_headroom + NETIF_TX_BUF_BYTES);
    memset(b->data, 0xEE, m.dev.hdr_len); /* the driver must clear the header */
    memset(b->data + m.dev.nif.tx_headroom, 0x11, len);
    return b;
}

static void test_tx_chain_with_segments(void **state)
{
    (void)state;
    static uint8_t seg_mem[2][100];
    struct netbuf seg_buf = {seg_mem[0], 100, 1, NULL, NULL, 0};
    struct netbuf_seg extra[2] = {{&seg_buf, seg_mem[0], 40}, {NULL, seg_mem[1], 30}};
    struct netbuf *b = frame_buf(54);
    assert_int_equal(vnet_tx_send(&m.dev.nif, b, 54, extra, 2), NETIF_OK);
    assert_int_equal(seg_buf.refs, 2); /* the driver holds one until done */
    struct vmodel_chain c;
    assert_true(vmodel_pop(&m.txf.dev, &c));
    assert_int_equal(c.n, 3);
    assert_int_equal(c.seg[0].addr, (uint64_t)(uintptr_t)b->data);
    assert_int_equal(c.seg[0].len, VNET_HDR_LEN_V1 + 54);
    assert_int_equal(c.seg[1].addr, (uint64_t)(uintptr_t)seg_mem[0]);
    assert_int_equal(c.seg[2].len, 30);
    for (uint32_t i = 0; i < VNET_HDR_LEN_V1; i++)
        assert_int_equal(b->data[i], 0); /* no offloads: a zero header */
    assert_int_equal(m.dev.stats.tx_packets, 1);
    assert_int_equal(m.dev.stats.tx_bytes, 124);
    /* Done: the references go. */
    vmodel_push(&m.txf.dev, c.head, 0);
    vmodel_publish(&m.txf.dev);
    assert_int_equal(vnet_tx_reclaim(&m.dev), 1);
    assert_int_equal(seg_buf.refs, 1);
    assert_int_equal(b->refs, 0);
    assert_int_equal(m.dev.tx_nfree, m.dev.tx_nbufs);
}

static void test_tx_split_header(void **state)
{
    (void)state;
    struct netbuf *b = frame_buf(60);
    assert_int_equal(vnet_tx_send(&m.dev.nif, b, 60, NULL, 0), NETIF_OK);
    struct vmodel_chain c;
    assert_true(vmodel_pop(&m.txf.dev, &c));
    assert_int_equal(c.n, 2);
    assert_int_equal(c.seg[0].len, VNET_HDR_LEN_V1);
    assert_int_equal(c.seg[1].addr, (uint64_t)(uintptr_t)(b->data + VNET_HDR_LEN_V1));
    assert_int_equal(c.seg[1].len, 60);
}

static void test_tx_refused(void **state)
{
    (void)state;
    struct netbuf_seg extra[VNET_MAX_SEGS + 1];
    memset(extra, 0, sizeof extra);
    struct netbuf *b = frame_buf(60);
    assert_int_equal(vnet_tx_send(&m.dev.nif, b, 60, extra, VNET_MAX_SEGS + 1),
                     NETIF_EINVAL);
    b = frame_buf(60);
    assert_int_equal(vnet_tx_send(&m.dev.nif, b, 1519, NULL, 0),
                     NETIF_EINVAL); /* > max */
    b = frame_buf(10);
    assert_int_equal(vnet_tx_send(&m.dev.nif, b, 10, NULL, 0), NETIF_EINVAL); /* runt */
    m.dev.up = false;
    b = &m.dev.tx_bufs[m.dev.tx_free[--m.dev.tx_nfree]];
    b->refs = 1;
    assert_int_equal(vnet_tx_send(&m.dev.nif, b, 60, NULL, 0), NETIF_EDOWN);
    assert_null(vnet_tx_alloc(&m.dev.nif));
    /* Every refused buffer was released (the reference is consumed). */
    assert_int_equal(m.dev.tx_nfree, m.dev.tx_nbufs);
    assert_int_equal(m.dev.stats.tx_errors, 4);
    assert_int_equal(virtq_in_flight(&m.dev.txq), 0);
}

/* The idle hook plays the device when every thread sleeps: it transmits what it
 * was given and raises the interrupt if the driver asked for one. */
static int hook_calls, hook_irqs;
static bool device_when_idle(uint64_t deadline, void *arg)
{
    (void)deadline;
    (void)arg;
    hook_calls++;
    bool irq;
    if (dev_transmit_all(&irq) == 0 || !irq)
        return false; /* nothing woke: the clock moves to the deadline */
    hook_irqs++;
    waitq_wake_all(&m.dev.tx_wq); /* what the TX interrupt handler does */
    return true;
}

/* 100 frames through an 8-entry ring: the sender blocks on the full ring and
 * the device's interrupt (never the backstop timeout) wakes it. */
static void test_tx_full_ring_blocks(void **state)
{
    (void)state;
    hook_calls = hook_irqs = 0;
    host_set_idle_hook(device_when_idle, NULL);
    for (int i = 0; i < 100; i++) {
        struct netbuf *b = frame_buf(60 + (uint32_t)i);
        assert_int_equal(vnet_tx_send(&m.dev.nif, b, 60 + (uint32_t)i, NULL, 0),
                         NETIF_OK);
    }
    assert_int_equal(m.dev.stats.tx_packets, 100);
    assert_true(m.dev.stats.tx_ring_full_waits >= 10);
    assert_int_equal(m.dev.stats.tx_timeouts, 0);
    assert_true(hook_irqs > 0);
    assert_int_equal(plat_now_ns(), 0); /* no wait ran into its backstop */
    dev_transmit_all(NULL);
    vnet_tx_reclaim(&m.dev);
    assert_int_equal(m.dev.tx_nfree, m.dev.tx_nbufs);
    print_message("100 frames, 8-entry ring: %llu waits, %d device interrupts\n",
                  (unsigned long long)m.dev.stats.tx_ring_full_waits, hook_irqs);
}

/* A device that never completes: the sender gives up after the timeout with
 * ENOBUFS, its buffer released, and the machine goes on. */
static void test_tx_timeout(void **state)
{
    (void)state;
    for (int i = 0; i < 8; i++)
        assert_int_equal(vnet_tx_send(&m.dev.nif, frame_buf(60), 60, NULL, 0), NETIF_OK);
    struct netbuf *b = frame_buf(60);
    assert_int_equal(vnet_tx_send(&m.dev.nif, b, 60, NULL, 0), NETIF_ENOBUFS);
    assert_int_equal(b->refs, 0);
    assert_int_equal(m.dev.stats.tx_timeouts, 1);
    assert_true(plat_now_ns() >= TX_TIMEOUT_NS);
}

/* All TX buffers taken: tx_alloc waits until one is released. */
static struct netbuf *held[64];
static void releaser(void *arg)
{
    (void)arg;
    thread_sleep_ns(1000);
    netbuf_unref(held[3]);
}

static void test_tx_alloc_waits_for_a_buffer(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < m.dev.tx_nbufs; i++)
        held[i] = vnet_tx_alloc(&m.dev.nif);
    assert_int_equal(m.dev.tx_nfree, 0);
    struct thread *t = thread_spawn("releaser", releaser, NULL, 0);
    struct netbuf *b = vnet_tx_alloc(&m.dev.nif);
    assert_ptr_equal(b, held[3]);
    thread_join(t, NULL);
    assert_true(plat_now_ns() < TX_POLL_NS); /* woken by the release, not polling */
    for (uint32_t i = 0; i < m.dev.tx_nbufs; i++)
        netbuf_unref(held[i]);
    assert_int_equal(m.dev.tx_nfree, m.dev.tx_nbufs);
}

/* ---------------------------------------------------------------- reflector */

static void test_reflect_sends_the_rx_buffer(void **state)
{
    (void)state;
    m.dev.nif.input = vnet_reflect_input;
    assert_true(dev_receive(300, 7));
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 1);
    assert_int_equal(m.dev.rx_posted, 7); /* the buffer is out, in the TX ring */
    struct vmodel_chain c;
    assert_true(vmodel_pop(&m.txf.dev, &c));
    assert_int_equal(c.n, 1);
    uint8_t *p = (uint8_t *)(uintptr_t)c.seg[0].addr;
    assert_true(p >= m.dev.rx_bufs[0].data); /* an RX buffer, not a copy */
    bool from_rx = false;
    for (uint32_t i = 0; i < m.dev.rx_nbufs; i++)
        from_rx |= p == m.dev.rx_bufs[i].data;
    assert_true(from_rx);
    assert_int_equal(c.seg[0].len, VNET_HDR_LEN_V1 + 300);
    assert_int_equal(p[0], 0);                   /* header cleared */
    assert_int_equal(p[VNET_HDR_LEN_V1], MAC_B); /* destination = old source */
    assert_int_equal(p[VNET_HDR_LEN_V1 + 6], MAC_A);
    assert_int_equal(p[VNET_HDR_LEN_V1 + 299], 7);
    assert_int_equal(m.dev.stats.reflected, 1);
    /* Sent: the buffer goes back to the RX ring. */
    vmodel_push(&m.txf.dev, c.head, 0);
    vmodel_publish(&m.txf.dev);
    vnet_tx_reclaim(&m.dev);
    assert_int_equal(m.dev.rx_posted, 8);
}

/* A flood through the reflector with small rings: every frame comes back and
 * no buffer is lost, whatever the device's pace. */
static void test_reflect_flood(void **state)
{
    (void)state;
    m.dev.nif.input = vnet_reflect_input;
    host_set_idle_hook(device_when_idle, NULL);
    uint32_t seed = 1;
    int received = 0, dropped = 0;
    for (int round = 0; round < 3000; round++) {
        seed = seed * 1103515245u + 12345u;
        int burst = (int)(seed >> 16) % 12;
        for (int i = 0; i < burst; i++) {
            if (dev_receive(60 + (uint32_t)(seed % 1400), (uint8_t)i))
                received++;
            else
                dropped++;
        }
        vnet_rx_drain(&m.dev, (int)(seed >> 8) % 9 + 1);
        if (seed & 0x100)
            dev_transmit_all(NULL);
        vnet_tx_reclaim(&m.dev);
    }
    while (vnet_rx_drain(&m.dev, 64))
        ;
    dev_transmit_all(NULL);
    vnet_tx_reclaim(&m.dev);
    assert_int_equal(m.dev.stats.reflected, (uint64_t)received);
    assert_int_equal(m.dev.rx_posted, m.dev.rx_nbufs);
    assert_int_equal(virtq_in_flight(&m.dev.txq), 0);
    assert_true(dropped > 0 && m.dev.stats.rx_nobuf > 0);
    print_message("reflector flood: %d reflected, %d dropped for want of a buffer, %llu "
                  "ring-empty events\n",
                  received, dropped, (unsigned long long)m.dev.stats.rx_nobuf);
}

/* ---------------------------------------------------------------- liveness */

/* The stack's reply path as the RX thread runs it: every received frame is
 * answered with one frame of its length. */
static int replies_ok, replies_failed;
static void reply_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len)
{
    (void)off;
    netbuf_unref(b);
    assert_false(sched_may_sleep()); /* the receive path is a no-sleep section */
    struct netbuf *r = vnet_tx_alloc(nif);
    if (!r || vnet_tx_send(nif, r, len, NULL, 0) != NETIF_OK)
        replies_failed++;
    else
        replies_ok++;
}

/* A full TX ring seen from the receive path: no waiting (the clock does not
 * move, no backstop), the device is told what it holds, the reply is dropped
 * and counted, and the drain goes on. */
static void test_rx_path_never_waits_for_tx(void **state)
{
    (void)state;
    replies_ok = replies_failed = 0;
    int fill = m.dev.txq.size / (m.dev.split_hdr ? 2 : 1); /* descriptors per frame */
    for (int i = 0; i < fill; i++) /* from this thread, which may sleep */
        assert_int_equal(vnet_tx_send(&m.dev.nif, frame_buf(60), 60, NULL, 0), NETIF_OK);
    m.dev.nif.input = reply_input;
    m.txf.dev.kicked = false;
    vmodel_want_kicks(&m.txf.dev, true);
    for (int i = 0; i < 3; i++)
        assert_true(dev_receive(60, 1));
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 3);
    assert_int_equal(replies_failed, 3);
    assert_int_equal(m.dev.stats.tx_busy_drops, 3);
    assert_int_equal(m.dev.stats.tx_ring_full_waits, 0);
    assert_int_equal(plat_now_ns(), 0);
    assert_int_equal(m.dev.tx_nfree,
                     m.dev.tx_nbufs - (uint32_t)fill); /* replies' came back */
    /* The device drains the ring: replies go out again. */
    dev_transmit_all(NULL);
    assert_true(dev_receive(60, 1));
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 1);
    assert_int_equal(replies_ok, 1);
}

/* A turn of the device thread answering a burst: the TX kick waits for the end
 * of the turn (or a batch), so a burst of replies costs one kick, and the
 * turn's stores share one ordering point. */
static void test_turn_batches_kicks_and_fences(void **state)
{
    (void)state;
    replies_ok = replies_failed = 0;
    m.dev.nif.input = reply_input;
    vmodel_want_kicks(&m.txf.dev, true);
    vmodel_want_kicks(&m.rxf.dev, true);
    for (int i = 0; i < 6; i++)
        assert_true(dev_receive(80, 1));
    m.dev.wd_next = UINT64_MAX / 2; /* a turn between two watchdog looks */
    uint64_t tx_kicks = m.txf.dev.kicks, rx_kicks = m.rxf.dev.kicks;
    uint64_t fences = m.dev.rxq.stats.fences + m.dev.txq.stats.fences;
    uint64_t until = vnet_service(&m.dev);
    assert_int_equal(replies_ok, 6);
    assert_int_equal(m.txf.dev.kicks - tx_kicks, 1);
    assert_int_equal(m.rxf.dev.kicks - rx_kicks, 1);
    assert_int_equal(m.dev.rxq.stats.fences + m.dev.txq.stats.fences - fences, 1);
    assert_true(until != VNET_AGAIN && m.dev.armed);
}

/* A kick that never reached the device (fault=tx-kick; EVENT_IDX, where the
 * next kick depends on the lost one): the queue stops with chains in it; the watchdog
 * notices within WD_STALL_NS, counts it, re-kicks, and the queue moves again without a
 * reset. */
static void test_watchdog_rekicks_a_lost_kick(void **state)
{
    (void)state;
    m.dev.fault = VNET_FAULT_TX_KICK;
    m.dev.fault_at = 0;
    vmodel_want_kicks(&m.txf.dev, true);
    m.txf.dev.kicked = false;
    assert_int_equal(vnet_tx_send(&m.dev.nif, frame_buf(60), 60, NULL, 0), NETIF_OK);
    assert_int_equal(vnet_tx_send(&m.dev.nif, frame_buf(60), 60, NULL, 0), NETIF_OK);
    assert_false(m.txf.dev.kicked); /* the first was eaten; the second not needed */
    uint64_t t = 0;
    while (!m.txf.dev.kicked && t < 2 * WD_STALL_NS) {
        uint64_t until = vnet_service(&m.dev);
        assert_true(until != VNET_AGAIN);
        t = until;
        host_clock_set(t);
    }
    assert_true(m.txf.dev.kicked);
    assert_true(t >= WD_STALL_NS && t <= WD_STALL_NS + 2 * WD_FAST_NS);
    assert_int_equal(m.dev.stats.tx_stalls, 1);
    assert_int_equal(m.dev.stats.resets, 0);
    assert_int_equal(dev_transmit_all(NULL), 2);
    m.dev.irq_pending = true; /* its TX interrupt */
    host_clock_set(m.dev.wd_next);
    vnet_service(&m.dev);
    assert_int_equal(m.dev.wd_tx.stage, 0);
    assert_int_equal(virtq_in_flight(&m.dev.txq), 0);
}

/* Reset support for the host: the model device forgets the rings on stop and
 * attaches to the new ones on start. */
static int hw_stops, hw_starts;
static void fake_stop(struct vnet_dev *d)
{
    (void)d;
    hw_stops++;
}
static bool fake_start(struct vnet_dev *d)
{
    hw_starts++;
    vmodel_attach(&m.rxf.dev, &d->rxq);
    vmodel_attach(&m.txf.dev, &d->txq);
    vmodel_want_kicks(&m.rxf.dev, true);
    vmodel_want_kicks(&m.txf.dev, true);
    return true;
}
static const struct vnet_hw_ops fake_hw = {fake_stop, fake_start};

/* A device that ignores even the re-kick (fault=tx-wedge): reset WD_RESET_NS
 * after the re-kick, every buffer taken back (TX chains released, RX buffers
 * the stack does not hold re-posted, held ones re-posted when let go), and the
 * device works again. */
static void test_watchdog_resets_a_stuck_device(void **state)
{
    (void)state;
    hw_stops = hw_starts = 0;
    m.dev.hw = &fake_hw;
    m.dev.fault = VNET_FAULT_TX_WEDGE;
    m.dev.fault_at = 0;
    keep = true;
    assert_true(dev_receive(60, 1));
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 1); /* the stack holds got[0] */
    for (int i = 0; i < 3; i++)
        assert_int_equal(vnet_tx_send(&m.dev.nif, frame_buf(60), 60, NULL, 0), NETIF_OK);
    uint64_t t = 0;
    while (m.dev.stats.resets == 0 && t < WD_STALL_NS + WD_RESET_NS + 4 * WD_FAST_NS) {
        t = vnet_service(&m.dev);
        host_clock_set(t);
    }
    assert_int_equal(m.dev.stats.tx_stalls, 1);
    assert_int_equal(m.dev.stats.resets, 1);
    assert_int_equal(hw_stops, 1);
    assert_int_equal(hw_starts, 1);
    assert_int_equal(m.dev.fault, VNET_FAULT_NONE);
    assert_int_equal(m.dev.tx_nfree, m.dev.tx_nbufs); /* the stuck chains' buffers */
    assert_int_equal(virtq_in_flight(&m.dev.txq), 0);
    assert_int_equal(m.dev.rx_posted, m.dev.rx_nbufs - 1);
    netbuf_unref(got[0]);
    assert_int_equal(m.dev.rx_posted, m.dev.rx_nbufs);
    /* And it works: a frame in, a frame out. */
    keep = false;
    assert_true(dev_receive(70, 2));
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 1);
    assert_int_equal(vnet_tx_send(&m.dev.nif, frame_buf(60), 60, NULL, 0), NETIF_OK);
    assert_true(m.txf.dev.kicked);
    assert_int_equal(dev_transmit_all(NULL), 1);
}

/* An RX interrupt that never comes: the thread sleeps armed, the device has
 * published a frame; the watchdog's timer wakeup finds the device owing an
 * interrupt, gives it WD_IRQ_GRACE_NS, then counts it lost and drains. */
static void test_lost_rx_interrupt_is_polled(void **state)
{
    (void)state;
    uint64_t until = vnet_service(&m.dev);
    assert_true(m.dev.armed && until != VNET_AGAIN);
    assert_true(dev_receive(60, 1)); /* raises an interrupt nobody sees */
    assert_true(m.rxf.dev.interrupts > 0);
    host_clock_set(until);
    uint64_t grace = vnet_service(&m.dev);
    assert_int_equal(grace, until + WD_IRQ_GRACE_NS);
    assert_int_equal(ngot, 0); /* not yet: the interrupt may be on its way */
    host_clock_set(grace);
    vnet_service(&m.dev);
    assert_int_equal(ngot, 1);
    assert_int_equal(m.dev.stats.rx_stalls, 1);
}

/* The same, but the interrupt arrives within the grace period: no stall. */
static void test_late_interrupt_is_no_stall(void **state)
{
    (void)state;
    uint64_t until = vnet_service(&m.dev);
    assert_true(dev_receive(60, 1));
    host_clock_set(until);
    assert_int_equal(vnet_service(&m.dev), until + WD_IRQ_GRACE_NS);
    m.dev.irq_pending = true; /* what the RX interrupt handler does */
    host_clock_set(until + 1000);
    vnet_service(&m.dev);
    assert_int_equal(ngot, 1);
    assert_int_equal(m.dev.stats.rx_stalls, 0);
}

/* Idle: nothing outstanding, no traffic for WD_QUIET_NS: the watchdog looks
 * only every WD_IDLE_NS. */
static void test_idle_watchdog_is_slow(void **state)
{
    (void)state;
    host_clock_set(WD_QUIET_NS + 1);
    uint64_t until = vnet_service(&m.dev);
    assert_int_equal(until, WD_QUIET_NS + 1 + WD_IDLE_NS);
    assert_int_equal(m.dev.stats.rx_stalls + m.dev.stats.tx_stalls, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_plain, teardown)
#define TS(f) cmocka_unit_test_setup_teardown(f, setup_split_flags, teardown)
    const struct CMUnitTest tests[] = {
        T(test_rx_zero_copy_and_refill),
        T(test_rx_batched_kick),
        T(test_rx_budget_and_nobuf),
        T(test_rx_runt_and_no_input),
        TS(test_rx_split_header),
        T(test_tx_chain_with_segments),
        TS(test_tx_split_header),
        T(test_tx_refused),
        T(test_tx_full_ring_blocks),
        TS(test_tx_full_ring_blocks),
        T(test_tx_timeout),
        T(test_tx_alloc_waits_for_a_buffer),
        T(test_reflect_sends_the_rx_buffer),
        T(test_reflect_flood),
        TS(test_reflect_flood),
        T(test_rx_path_never_waits_for_tx),
        TS(test_rx_path_never_waits_for_tx),
        T(test_turn_batches_kicks_and_fences),
        T(test_watchdog_rekicks_a_lost_kick),
        T(test_watchdog_resets_a_stuck_device),
        TS(test_watchdog_resets_a_stuck_device),
        T(test_lost_rx_interrupt_is_polled),
        T(test_late_interrupt_is_no_stall),
        T(test_idle_watchdog_is_slow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
