/* virtio-net data path: RX buffer pool and drain (5.1.6.3, 5.1.6.4), TX buffer
 * pool, send and reclaim (5.1.6.2), the device thread's turn with its watchdog,
 * device reset, and the reflector's input. Thread context only (the device
 * thread, or whichever thread sends). Portable: the transport is behind
 * dev->hw, so host tests run all of it against a device model. */
#include <string.h>

#include "drivers/vnet_dev.h"
#include "kernel/log.h"
#include "kernel/mem.h"
#include "kernel/platform.h"

#define TX_TIMEOUT_NS (2ull * 1000000000ull) /* a sender gives up after this */
#define TX_POLL_NS (50ull * 1000000ull)      /* backstop if an interrupt is missed */
#define BUF_ALIGN 64

/* Watchdog (docs/virtio-notifications.md). It looks every WD_FAST_NS while work
 * is outstanding or traffic was seen in the last WD_QUIET_NS, every WD_IDLE_NS
 * otherwise. A queue with work outstanding whose used index has not moved for
 * WD_STALL_NS while the device asked for a kick it did not get (a lost kick), or
 * for WD_SLOW_NS although it was notified (a device, or a QEMU I/O thread the
 * host does not schedule, that does not move), is re-kicked (and re-polled);
 * still stuck WD_RESET_NS later, the
 * device is reset. A timer wakeup that finds the device owing us an interrupt
 * waits WD_IRQ_GRACE_NS for it before calling it lost. Real completions take
 * microseconds; these bounds leave room for a host that deschedules QEMU. */
#define MS (1000000ull)
#define WD_FAST_NS (10 * MS)
#define WD_IDLE_NS (1000 * MS)
#define WD_QUIET_NS (1000 * MS)
#define WD_STALL_NS (200 * MS)
#define WD_SLOW_NS (2000 * MS)
#define WD_RESET_NS (500 * MS)
#define WD_IRQ_GRACE_NS (2 * MS)

static uint32_t round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* ---------------------------------------------------------------- kicks */

/* Fault injection: does this kick go missing? */
static bool fault_eats_kick(struct vnet_dev *dev, struct virtq *vq)
{
    if (vq != &dev->txq || dev->stats.tx_packets < dev->fault_at)
        return false;
    if (dev->fault == VNET_FAULT_TX_WEDGE)
        return true;
    if (dev->fault == VNET_FAULT_TX_KICK && !dev->fault_fired) {
        dev->fault_fired = true;
        return true;
    }
    return false;
}

static void kick(struct vnet_dev *dev, struct virtq *vq)
{
    if (dev->fault && fault_eats_kick(dev, vq)) {
        virtq_kick_drop(vq);
        return;
    }
    virtq_kick(vq);
}

static void kick_force(struct vnet_dev *dev, struct virtq *vq)
{
    if (dev->fault == VNET_FAULT_TX_WEDGE && vq == &dev->txq &&
        dev->stats.tx_packets >= dev->fault_at) {
        virtq_kick_drop(vq);
        return;
    }
    virtq_kick_force(vq);
}

/* The kicks a turn held back. The first one pays the ordering point for every
 * store of the turn; the second finds none left to order. */
static void flush_kicks(struct vnet_dev *dev)
{
    if (dev->rx_unkicked) {
        dev->rx_unkicked = 0;
        kick(dev, &dev->rxq);
    }
    if (dev->tx_unkicked) {
        dev->tx_unkicked = 0;
        kick(dev, &dev->txq);
    }
}

/* After publishing on vq: kick now, or inside a turn once a batch is ready. */
static void published(struct vnet_dev *dev, struct virtq *vq, uint16_t *unkicked)
{
    if (!dev->in_turn) {
        kick(dev, vq);
        return;
    }
    if (++*unkicked >= VNET_KICK_BATCH) {
        *unkicked = 0;
        kick(dev, vq);
    }
}

/* ---------------------------------------------------------------- RX */

/* 5.1.6.3: hand one empty buffer to the device, header and frame space in one
 * device-writable descriptor, or two when the header must stand alone. */
static void rx_post(struct vnet_dev *dev, struct netbuf *b)
{
    struct virtq_buf v[2];
    int n = 0;
    if (dev->split_hdr) {
        v[n++] = (struct virtq_buf){b->data, dev->hdr_len};
        v[n++] = (struct virtq_buf){b->data + dev->hdr_len, b->cap - dev->hdr_len};
    } else {
        v[n++] = (struct virtq_buf){b->data, b->cap};
    }
    /* The pool is never larger than the ring: there is always room. */
    enum virtq_err e = virtq_add(&dev->rxq, v, 0, n, b, NULL);
    KCHECK(e == VIRTQ_OK);
    dev->rx_posted++;
}

/* netbuf release hook: the stack let go of a received frame. */
static void rx_release(struct netbuf *b)
{
    struct vnet_dev *dev = b->owner;
    rx_post(dev, b);
    published(dev, &dev->rxq, &dev->rx_unkicked);
}

bool vnet_rx_pool_init(struct vnet_dev *dev)
{
    uint32_t per_buf = dev->split_hdr ? 2 : 1;
    dev->rx_nbufs = dev->rxq.size / per_buf;
    dev->rx_buf_bytes = round_up(dev->hdr_len + dev->max_frame, BUF_ALIGN);
    dev->rx_bufs = dma_alloc(sizeof(struct netbuf) * dev->rx_nbufs, BUF_ALIGN);
    /* One block for every buffer: dma_alloc hands out whole pages. */
    uint8_t *mem = dma_alloc_buffers((size_t)dev->rx_buf_bytes * dev->rx_nbufs);
    if (!dev->rx_bufs || !mem)
        return false;
    for (uint32_t i = 0; i < dev->rx_nbufs; i++) {
        struct netbuf *b = &dev->rx_bufs[i];
        b->data = mem + (size_t)i * dev->rx_buf_bytes;
        b->cap = dev->rx_buf_bytes;
        b->refs = 0;
        b->release = rx_release;
        b->owner = dev;
        b->tag = i;
        rx_post(dev, b);
    }
    return true;
}

/* 5.1.6.4: one used RX buffer: the frame follows the header. The buffer goes up
 * with one reference; when the last one goes, rx_release re-posts it. */
static void rx_deliver(struct vnet_dev *dev, struct netbuf *b, uint32_t len)
{
    KCHECK(b->refs == 0); /* it was the ring's */
    b->refs = 1;
    /* A runt, or more than the largest frame the MTU allows (Ethernet header,
     * a VLAN tag, MTU bytes): buffers are rounded up, so the device had room
     * for a few bytes more, which must not reach the stack. */
    if (len < dev->hdr_len + VNET_ETH_HDR || len > dev->hdr_len + dev->max_frame ||
        len > b->cap) {
        dev->stats.rx_errors++;
        netbuf_unref(b);
        return;
    }
    uint32_t flen = len - dev->hdr_len;
    dev->stats.rx_packets++;
    dev->stats.rx_bytes += flen;
    if (!dev->nif.input) {
        dev->stats.rx_dropped++;
        netbuf_unref(b);
        return;
    }
    dev->nif.input(&dev->nif, b, dev->hdr_len, flen);
}

/* Hands up to budget received frames to the stack, inside a no-sleep section:
 * whatever the stack sends from here (replies) never waits for TX space. */
int vnet_rx_drain(struct vnet_dev *dev, int budget)
{
    int n = 0;
    uint32_t len;
    struct netbuf *b;
    bool own_turn = !dev->in_turn;
    dev->in_turn = true;
    sched_nosleep_begin();
    while (n < budget && (b = virtq_get_used(&dev->rxq, &len)) != NULL) {
        dev->rx_posted--;
        n++;
        rx_deliver(dev, b, len);
    }
    sched_nosleep_end();
    /* Ran dry: the device drops what arrives until buffers come back. */
    if (n > 0 && dev->rx_posted == 0)
        dev->stats.rx_nobuf++;
    if (own_turn) {
        dev->in_turn = false;
        flush_kicks(dev);
    }
    return n;
}

/* ---------------------------------------------------------------- TX pools */

static void tx_buf_release(struct netbuf *b)
{
    struct vnet_dev *dev = b->owner;
    KCHECK(dev->tx_nfree < dev->tx_nbufs);
    dev->tx_free[dev->tx_nfree++] = (uint16_t)b->tag;
    if (dev->tx_waiters)
        waitq_wake_all(&dev->tx_wq);
}

bool vnet_tx_pool_init(struct vnet_dev *dev)
{
    uint32_t frame =
        dev->max_frame > NETIF_TX_BUF_BYTES ? dev->max_frame : NETIF_TX_BUF_BYTES;
    dev->tx_buf_bytes = round_up(dev->hdr_len + frame, BUF_ALIGN);
    /* More buffers than ring entries: frames can be prepared while the ring is
     * full (the stack may also hold some, e.g. waiting for ARP). */
    dev->tx_nbufs = dev->txq.size + dev->txq.size / 2;
    dev->nslots = dev->txq.size; /* a chain takes at least one descriptor */
    dev->tx_bufs = dma_alloc(sizeof(struct netbuf) * dev->tx_nbufs, BUF_ALIGN);
    dev->tx_free = dma_alloc(sizeof(uint16_t) * dev->tx_nbufs, BUF_ALIGN);
    dev->slots = dma_alloc(sizeof(struct vnet_tx_slot) * dev->nslots, BUF_ALIGN);
    uint8_t *mem = dma_alloc_buffers((size_t)dev->tx_buf_bytes * dev->tx_nbufs);
    if (!dev->tx_bufs || !dev->tx_free || !dev->slots || !mem)
        return false;
    for (uint32_t i = 0; i < dev->tx_nbufs; i++) {
        struct netbuf *b = &dev->tx_bufs[i];
        b->data = mem + (size_t)i * dev->tx_buf_bytes;
        b->cap = dev->tx_buf_bytes;
        b->release = tx_buf_release;
        b->owner = dev;
        b->tag = i;
        dev->tx_free[i] = (uint16_t)i;
    }
    dev->tx_nfree = dev->tx_nbufs;
    for (uint16_t i = 0; i < dev->nslots; i++)
        dev->slots[i].next_free = (uint16_t)(i + 1);
    dev->slot_head = 0;
    return true;
}

static struct vnet_tx_slot *slot_get(struct vnet_dev *dev)
{
    KCHECK(dev->slot_head < dev->nslots);
    struct vnet_tx_slot *s = &dev->slots[dev->slot_head];
    dev->slot_head = s->next_free;
    s->n = 0;
    return s;
}

/* Drops the references a chain held and frees its slot. */
static void slot_put(struct vnet_dev *dev, struct vnet_tx_slot *s)
{
    for (int i = 0; i < s->n; i++)
        netbuf_unref(s->bufs[i]);
    s->n = 0;
    s->next_free = dev->slot_head;
    dev->slot_head = (uint16_t)(s - dev->slots);
}

int vnet_tx_reclaim(struct vnet_dev *dev)
{
    int n = 0;
    struct vnet_tx_slot *s;
    while ((s = virtq_get_used(&dev->txq, NULL)) != NULL) {
        slot_put(dev, s);
        n++;
    }
    if (n && dev->tx_waiters)
        waitq_wake_all(&dev->tx_wq);
    return n;
}

/* A sender sleeps until the device completes some chains (interrupt asked for
 * once ~3/4 of those in flight are done), a TX buffer comes back, or a short
 * backstop passes. Interrupts are masked between the last check and the sleep
 * so a wakeup cannot slip in between. False once deadline has passed. Never on
 * the receive path (the callers check sched_may_sleep first). */
static bool tx_wait(struct vnet_dev *dev, uint64_t deadline)
{
    dev->stats.tx_ring_full_waits++;
    dev->tx_waiters++;
    dev->tx_unkicked = 0;
    kick(dev, &dev->txq); /* the device must know about what it holds */
    if (virtq_enable_cb_delayed(&dev->txq)) {
        uint64_t until = plat_now_ns() + TX_POLL_NS;
        unsigned long f = plat_irq_save();
        if (!virtq_has_used(&dev->txq))
            waitq_wait(&dev->tx_wq, until < deadline ? until : deadline);
        plat_irq_restore(f);
    }
    dev->tx_waiters--;
    vnet_tx_reclaim(dev);
    return plat_now_ns() < deadline;
}

/* The receive path cannot wait: make the device aware of what it holds, take
 * back what it finished, and report whether that made room. */
static bool tx_room_now(struct vnet_dev *dev, bool (*room)(struct vnet_dev *, int), int n)
{
    if (dev->tx_unkicked) {
        dev->tx_unkicked = 0;
        kick(dev, &dev->txq);
    }
    vnet_tx_reclaim(dev);
    if (room(dev, n))
        return true;
    dev->stats.tx_busy_drops++;
    return false;
}

static bool have_buffer(struct vnet_dev *dev, int n)
{
    (void)n;
    return dev->tx_nfree > 0;
}

static bool have_descs(struct vnet_dev *dev, int n)
{
    return virtq_num_free(&dev->txq) >= n;
}

/* Room for n (descriptors or buffers), waiting for it when the thread may sleep.
 * False (counted) when there is none by the deadline, or at once on the RX path. */
static bool tx_room(struct vnet_dev *dev, bool (*room)(struct vnet_dev *, int), int n)
{
    vnet_tx_reclaim(dev);
    if (room(dev, n))
        return true;
    if (!sched_may_sleep())
        return tx_room_now(dev, room, n);
    uint64_t deadline = plat_now_ns() + TX_TIMEOUT_NS;
    while (!room(dev, n)) {
        if (!dev->up)
            return false;
        if (!tx_wait(dev, deadline) && !room(dev, n)) {
            dev->stats.tx_timeouts++;
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- TX */

struct netbuf *vnet_tx_alloc(struct netif *nif)
{
    struct vnet_dev *dev = nif->drv;
    if (!dev->up || !tx_room(dev, have_buffer, 1))
        return NULL;
    struct netbuf *b = &dev->tx_bufs[dev->tx_free[--dev->tx_nfree]];
    KCHECK(b->refs == 0);
    b->refs = 1;
    return b;
}

/* The descriptors for one frame: header (+ first len bytes), then the extras. */
static int build_chain(struct vnet_dev *dev, struct netbuf *b, uint32_t len,
                       const struct netbuf_seg *extra, int nextra, struct virtq_buf *v)
{
    int n = 0;
    if (dev->split_hdr) {
        v[n++] = (struct virtq_buf){b->data, dev->hdr_len};
        if (len)
            v[n++] = (struct virtq_buf){b->data + dev->hdr_len, len};
    } else {
        v[n++] = (struct virtq_buf){b->data, dev->hdr_len + len};
    }
    for (int i = 0; i < nextra; i++)
        if (extra[i].len)
            v[n++] = (struct virtq_buf){extra[i].p, extra[i].len};
    return n;
}

/* The chain holds b (the caller's reference) and one more on each extra buffer. */
static struct vnet_tx_slot *hold_bufs(struct vnet_dev *dev, struct netbuf *b,
                                      const struct netbuf_seg *extra, int nextra)
{
    struct vnet_tx_slot *s = slot_get(dev);
    s->bufs[s->n++] = b;
    for (int i = 0; i < nextra; i++) {
        if (extra[i].buf && extra[i].len) {
            netbuf_ref(extra[i].buf);
            s->bufs[s->n++] = extra[i].buf;
        }
    }
    return s;
}

static enum netif_err tx_check(struct vnet_dev *dev, struct netbuf *b, uint32_t len,
                               const struct netbuf_seg *extra, int nextra)
{
    if (!dev->up)
        return NETIF_EDOWN;
    if (nextra < 0 || nextra > VNET_MAX_SEGS || dev->hdr_len + len > b->cap)
        return NETIF_EINVAL;
    uint64_t total = len;
    for (int i = 0; i < nextra; i++)
        total += extra[i].len;
    if (total < VNET_ETH_HDR || total > dev->max_frame)
        return NETIF_EINVAL;
    return NETIF_OK;
}

/* 5.1.6.2 Packet Transmission: no offloads, so the header is all zeroes
 * (flags 0, gso_type NONE); the frame follows it in the same buffer. */
enum netif_err vnet_tx_send(struct netif *nif, struct netbuf *b, uint32_t len,
                            const struct netbuf_seg *extra, int nextra)
{
    struct vnet_dev *dev = nif->drv;
    enum netif_err err = tx_check(dev, b, len, extra, nextra);
    if (err != NETIF_OK) {
        dev->stats.tx_errors++;
        netbuf_unref(b);
        return err;
    }
    struct virtq_buf v[2 + VNET_MAX_SEGS];
    int n = build_chain(dev, b, len, extra, nextra, v);
    if (n > dev->txq.size) {
        dev->stats.tx_errors++;
        netbuf_unref(b);
        return NETIF_EINVAL;
    }
    /* Descriptors first, so that a slot is only taken for a chain that goes
     * into the ring at once (slots in use == chains in the ring). */
    if (!tx_room(dev, have_descs, n)) {
        netbuf_unref(b);
        return NETIF_ENOBUFS;
    }
    memset(b->data, 0, dev->hdr_len);
    struct vnet_tx_slot *s = hold_bufs(dev, b, extra, nextra);
    enum virtq_err e = virtq_add(&dev->txq, v, n, 0, s, NULL);
    KCHECK(e == VIRTQ_OK);
    published(dev, &dev->txq, &dev->tx_unkicked);
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += len;
    for (int i = 0; i < nextra; i++)
        dev->stats.tx_bytes += extra[i].len;
    return NETIF_OK;
}

/* ---------------------------------------------------------------- reset */

/* Takes back every chain of both rings: TX chains drop their references, RX
 * buffers are the ring's (refs 0) and simply stop being posted. The device is
 * stopped, so nothing touches them any more. */
static void take_back_chains(struct vnet_dev *dev)
{
    for (uint16_t i = 0; i < dev->txq.size; i++)
        if (dev->txq.cookies[i])
            slot_put(dev, dev->txq.cookies[i]);
    for (uint16_t i = 0; i < dev->rxq.size; i++)
        if (dev->rxq.cookies[i])
            dev->rx_posted--;
    KCHECK(dev->rx_posted == 0);
}

static void watchdog_clear(struct vnet_dev *dev, uint64_t now)
{
    dev->wd_rx = (struct vnet_wd){0, now, 0};
    dev->wd_tx = (struct vnet_wd){0, now, 0};
    dev->suspect_at = 0;
    dev->armed = false;
}

void vnet_reset(struct vnet_dev *dev, const char *why)
{
    dev->stats.resets++;
    log_warn(dev->name, "resetting the device: %s", why);
    dev->hw->stop(dev);
    take_back_chains(dev);
    virtq_reinit(&dev->rxq);
    virtq_reinit(&dev->txq);
    dev->rx_unkicked = dev->tx_unkicked = 0;
    dev->fault = VNET_FAULT_NONE; /* an injected fault ends with the reset */
    if (!dev->hw->start(dev)) {
        dev->up = false;
        log_error(dev->name, "the device did not come back after a reset: down");
        waitq_wake_all(&dev->tx_wq);
        return;
    }
    /* Every buffer the stack does not hold goes back to the ring; those it
     * holds follow when it lets go (rx_release). */
    for (uint32_t i = 0; i < dev->rx_nbufs; i++)
        if (dev->rx_bufs[i].refs == 0)
            rx_post(dev, &dev->rx_bufs[i]);
    virtq_disable_cb(&dev->txq);
    virtq_kick(&dev->rxq);
    watchdog_clear(dev, plat_now_ns());
    waitq_wake_all(&dev->tx_wq);
    log_info(dev->name, "device back after reset (%u RX buffers posted)",
             (unsigned)dev->rx_posted);
}

/* ---------------------------------------------------------------- watchdog */

static void log_stall(struct vnet_dev *dev, const char *what, struct virtq *vq, bool owed)
{
    log_warn(dev->name,
             "%s (%s): avail %u used %u (ours %u) notified at %u avail_event %u "
             "used_event %u in flight %u flags %#x/%#x; re-kicking",
             what, owed ? "a kick it asked for was never sent" : "notified, not moving",
             (unsigned)vq->avail_idx, (unsigned)virtq_device_used_idx(vq),
             (unsigned)vq->last_used, (unsigned)vq->notified_idx,
             (unsigned)*virtq_avail_event(vq->used, vq->size),
             (unsigned)*virtq_used_event(vq->avail, vq->size),
             (unsigned)virtq_in_flight(vq), (unsigned)vq->avail->flags,
             (unsigned)vq->used->flags);
}

/* One queue: has the device moved while work was outstanding? If not for
 * WD_STALL_NS with a kick owed (WD_SLOW_NS when the device was told), count a
 * stall, say so once and re-kick; if a re-kick did not help within WD_RESET_NS,
 * reset. True when the device was reset. */
static bool watch_queue(struct vnet_dev *dev, struct vnet_wd *wd, struct virtq *vq,
                        bool outstanding, bool owed, uint64_t now)
{
    uint16_t used = virtq_device_used_idx(vq);
    if (!outstanding || used != wd->used_seen) {
        if (wd->stage)
            log_info(dev->name, "%s queue moving again", vq == &dev->txq ? "TX" : "RX");
        *wd = (struct vnet_wd){used, now, 0};
        return false;
    }
    uint64_t bound = wd->stage ? WD_RESET_NS : owed ? WD_STALL_NS : WD_SLOW_NS;
    if (now - wd->since < bound)
        return false;
    if (wd->stage == 0) {
        bool tx = vq == &dev->txq;
        if (tx)
            dev->stats.tx_stalls++;
        else
            dev->stats.rx_stalls++;
        log_stall(dev, tx ? "TX chains not consumed" : "RX buffers not seen", vq, owed);
        kick_force(dev, vq);
        wd->stage = 1;
        wd->since = now;
        return false;
    }
    vnet_reset(dev, vq == &dev->txq ? "TX queue stuck after a re-kick"
                                    : "RX queue stuck after a re-kick");
    return true;
}

/* The periodic look: returns the next one. */
static uint64_t watchdog(struct vnet_dev *dev, uint64_t now)
{
    bool tx_work = virtq_in_flight(&dev->txq) > 0;
    bool tx_owed = tx_work && virtq_kick_owed(&dev->txq);
    bool rx_work = virtq_kick_owed(&dev->rxq);
    if (!watch_queue(dev, &dev->wd_tx, &dev->txq, tx_work, tx_owed, now))
        watch_queue(dev, &dev->wd_rx, &dev->rxq, rx_work, true, now);
    bool busy = tx_work || rx_work || now - dev->last_activity < WD_QUIET_NS;
    dev->wd_next = now + (busy ? WD_FAST_NS : WD_IDLE_NS);
    return dev->wd_next;
}

/* Woken by the timer while notifications were armed: does the device owe us an
 * interrupt? If so, give it WD_IRQ_GRACE_NS to arrive (it may be on its way);
 * after that it is lost: count it and go on as if it had come. Returns a time
 * to sleep until, or 0 to carry on. */
static uint64_t lost_interrupt_check(struct vnet_dev *dev, uint64_t now)
{
    bool rx_due = virtq_interrupt_due(&dev->rxq);
    bool tx_due = virtq_interrupt_due(&dev->txq);
    if (!rx_due && !tx_due) {
        dev->suspect_at = 0;
        return 0;
    }
    if (!dev->suspect_at) {
        dev->suspect_at = now;
        return now + WD_IRQ_GRACE_NS;
    }
    if (now - dev->suspect_at < WD_IRQ_GRACE_NS)
        return dev->suspect_at + WD_IRQ_GRACE_NS;
    dev->suspect_at = 0;
    if (rx_due)
        dev->stats.rx_stalls++;
    if (tx_due)
        dev->stats.tx_stalls++;
    log_warn(dev->name, "%s%s interrupt never came (used %u/%u, ours %u/%u); polled",
             rx_due ? "RX" : "", tx_due ? (rx_due ? "+TX" : "TX") : "",
             (unsigned)virtq_device_used_idx(&dev->rxq),
             (unsigned)virtq_device_used_idx(&dev->txq), (unsigned)dev->rxq.last_used,
             (unsigned)dev->txq.last_used);
    return 0;
}

/* ---------------------------------------------------------------- the device thread */

/* NAPI-like: notifications off, drain with a budget, reclaim TX; then, unless
 * the budget ran out, the turn's stores (ring entries, interrupt requests), one
 * ordering point for the kicks and the re-check, and the watchdog. */
uint64_t vnet_service(struct vnet_dev *dev)
{
    uint64_t now = plat_now_ns();
    if (!dev->up)
        return SCHED_FOREVER;
    if (dev->armed && !dev->irq_pending) {
        uint64_t until = lost_interrupt_check(dev, now);
        if (until)
            return until;
    }
    dev->armed = false;
    dev->suspect_at = 0;
    dev->irq_pending = false;
    if (now >= dev->wd_next)
        watchdog(dev, now);
    dev->in_turn = true;
    virtq_disable_cb(&dev->rxq);
    if (!dev->tx_waiters)
        virtq_disable_cb(&dev->txq);
    int n = vnet_rx_drain(dev, VNET_RX_BUDGET);
    if (vnet_tx_reclaim(dev) > 0 || n > 0)
        dev->last_activity = now;
    dev->in_turn = false;
    if (n == VNET_RX_BUDGET) {
        flush_kicks(dev);
        return VNET_AGAIN;
    }
    /* Chains still in flight (replies, reflected RX buffers) must come back
     * even if nothing else happens: ask for the TX interrupt too. */
    bool tx_arm = virtq_in_flight(&dev->txq) > 0;
    virtq_arm_cb(&dev->rxq);
    if (tx_arm)
        virtq_arm_cb(&dev->txq);
    flush_kicks(dev);
    if (!virtq_armed_check(&dev->rxq) || (tx_arm && !virtq_armed_check(&dev->txq)))
        return VNET_AGAIN;
    dev->armed = true;
    return dev->wd_next;
}

/* Fault injection (rx-irq): swallow one interrupt once the frame count is there. */
bool vnet_fault_drop_irq(struct vnet_dev *dev)
{
    if (dev->fault != VNET_FAULT_RX_IRQ || dev->fault_fired ||
        dev->stats.rx_packets < dev->fault_at)
        return false;
    dev->fault_fired = true;
    return true;
}

/* ---------------------------------------------------------------- reflector */

/* Swaps the MACs in place and sends the very buffer back: its header space is
 * the TX headroom (off == hdr_len == tx_headroom). tx_send takes over our
 * reference; the buffer returns to the RX ring when the device has sent it. */
void vnet_reflect_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len)
{
    struct vnet_dev *dev = nif->drv;
    KCHECK(off == nif->tx_headroom && len >= VNET_ETH_HDR);
    uint8_t *f = b->data + off, mac[6];
    memcpy(mac, f, 6);
    memcpy(f, f + 6, 6);
    memcpy(f + 6, mac, 6);
    if (vnet_tx_send(nif, b, len, NULL, 0) == NETIF_OK)
        dev->stats.reflected++;
}
