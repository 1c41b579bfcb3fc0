/* A model of QEMU 7.2's virtio-net device (as Debian 12 ships it) for the
 * interleaving checker (test_virtq_interleave.c): the split-ring half of
 * hw/virtio/virtio.c (virtio_queue_set_notification, virtio_queue_empty with its
 * shadow avail index, virtqueue_pop/fill/flush, virtio_should_notify) and the RX
 * and TX paths of hw/net/virtio-net.c (virtio_net_has_buffers and receive, the
 * TX kick handler, the TX bottom half with its burst and its re-check, the
 * backend's asynchronous completion), cut into steps at its accesses to ring
 * memory so that the checker can run driver steps in between. Each step's
 * comment names the QEMU code it follows. MSI-X, one RX and one TX queue, no
 * mergeable buffers, no NOTIFY_ON_EMPTY (the driver does not take it).
 *
 * Memory: QEMU orders its own accesses (smp_mb and friends), so the model reads
 * and writes ring memory directly; what it can miss is what the driver still
 * holds in its store buffer, which is the checker's business.
 *
 * Handlers run one at a time, as QEMU's big lock makes them: in the I/O thread
 * a frame arriving from the backend, the TX bottom half and the backend's
 * completion of a packet it had queued, step by step, concurrently with the
 * guest; the guest's kicks in the vCPU thread, atomically once the running
 * handler is done (the guest waits in its I/O instruction meanwhile).
 * Header-only (static), for that one test. */
#ifndef QEMU_NET_MODEL_H
#define QEMU_NET_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "drivers/virtqueue.h"
#include "kernel/platform.h"

#define QM_MAX_RING 16
#define QM_MAX_FRAMES 64
#define QM_EBUSY (-16) /* virtio_net_flush_tx: the backend queued the packet */
#define QM_FRAME_LEN 60
#define QM_ID_OFF 12 /* where a frame carries its number (the EtherType) */
#define QM_RXQ 0
#define QM_TXQ 1

/* hw/virtio/virtio.c's VirtQueue, split ring part. */
struct qm_queue {
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t size;
    bool event_idx;
    uint16_t last_avail_idx, shadow_avail_idx, used_idx, signalled_used;
    bool signalled_used_valid;
    bool out[QM_MAX_RING]; /* heads popped and not yet pushed back */
};

/* Where the running handler is (one at a time: QEMU's big lock). */
enum qm_pc {
    QM_IDLE = 0,
    RX_CHECK,   /* has_buffers: virtio_queue_empty */
    RX_ENABLE,  /* empty: set_notification(1) */
    RX_RECHECK, /* ... and virtio_queue_empty again */
    RX_DISABLE, /* set_notification(0) */
    RX_PUBLISH, /* pop, write the frame, fill, flush */
    RX_NOTIFY,  /* virtio_notify */
    BH_START,   /* virtio_net_tx_bh */
    BH_AFTER,   /* ... after the first flush */
    BH_ENABLE,  /* ... less than a burst: set_notification(1) */
    BH_RECHECK, /* ... after the second flush */
    TC_PUSH,    /* virtio_net_tx_complete: push the queued packet */
    TC_NOTIFY,
    TC_ENABLE,
    TC_AFTER,
    FL_CHECK,   /* virtio_net_flush_tx: a packet still queued in the backend? */
    FL_POP,     /* pop and hand to the backend (which may be busy) */
    FL_PUBLISH, /* push: fill, flush */
    FL_NOTIFY,  /* virtio_notify; next packet unless the burst is done */
};

/* What the device did, for the checker's trace: a printf format (static) with
 * two int arguments; a leading "%s" takes the first as a queue index. */
typedef void (*qm_note_fn)(void *ctx, const char *what, int a, int b);

struct qm_dev {
    struct qm_queue q[2];
    uint32_t hdr_len;
    int burst;
    enum qm_pc pc, flush_ret;
    int flush_n, ret;
    uint16_t cur_head;
    /* RX: frames the backend holds for the guest, one it could not deliver. */
    int rx_frames, rx_next;
    bool rx_queued;
    int rx_ids[QM_MAX_FRAMES]; /* frame numbers in the order they went to the ring */
    /* TX */
    bool tx_waiting, bh_scheduled, async;
    uint16_t async_head;
    int busy_max, busy_used;
    int tx_ids[QM_MAX_FRAMES]; /* frame numbers in the order they left */
    int ntx;
    bool irq[2]; /* raised, not yet taken by the guest */
    int irqs, kicks[2];
    qm_note_fn note;
    void *note_ctx;
};

static inline void qm_note(struct qm_dev *d, const char *what, int a, int b)
{
    if (d->note)
        d->note(d->note_ctx, what, a, b);
}

static inline void qm_attach(struct qm_queue *q, const struct virtq *vq)
{
    memset(q, 0, sizeof *q);
    KCHECK(vq->size <= QM_MAX_RING);
    q->desc = vq->desc;
    q->avail = vq->avail;
    q->used = vq->used;
    q->size = vq->size;
    q->event_idx = vq->event_idx;
}

/* ---------------------------------------------------------------- virtio.c */

/* vring_avail_idx: reads the driver's index, remembers it as the shadow. */
static inline uint16_t qm_avail_idx(struct qm_queue *q)
{
    q->shadow_avail_idx = q->avail->idx;
    return q->shadow_avail_idx;
}

/* virtio_queue_split_empty: the shadow answers "not empty" without a read. */
static inline bool qm_empty(struct qm_queue *q)
{
    if (q->shadow_avail_idx != q->last_avail_idx)
        return false;
    return qm_avail_idx(q) == q->last_avail_idx;
}

/* The same answer without touching the shadow: for listing what can happen. */
static inline bool qm_peek_empty(const struct qm_queue *q)
{
    return q->shadow_avail_idx == q->last_avail_idx && q->avail->idx == q->last_avail_idx;
}

/* virtio_queue_split_set_notification: with EVENT_IDX the device asks for a kick
 * after the current avail index whether it enables or disables (QEMU writes
 * avail_event both ways); without, it clears or sets NO_NOTIFY. The smp_mb that
 * follows an enable is implicit: the model's accesses are in order. */
static inline void qm_set_notification(struct qm_dev *d, int qi, bool enable)
{
    struct qm_queue *q = &d->q[qi];
    if (q->event_idx) {
        uint16_t idx = qm_avail_idx(q);
        *virtq_avail_event(q->used, q->size) = idx;
        qm_note(d,
                enable ? "%s notifications on: avail_event := %d (avail->idx read)"
                       : "%s notifications off: avail_event := %d (avail->idx read)",
                qi, idx);
    } else if (enable) {
        q->used->flags = (uint16_t)(q->used->flags & ~VIRTQ_USED_F_NO_NOTIFY);
        qm_note(d, "%s notifications on: NO_NOTIFY cleared", qi, 0);
    } else {
        q->used->flags = (uint16_t)(q->used->flags | VIRTQ_USED_F_NO_NOTIFY);
        qm_note(d, "%s notifications off: NO_NOTIFY set", qi, 0);
    }
}

/* virtqueue_split_pop: the next chain, checked as QEMU checks it (and a head the
 * device still holds is the driver's bug: a descriptor used twice). */
static inline uint16_t qm_pop(struct qm_queue *q, bool want_write)
{
    KCHECK(!qm_empty(q));
    KCHECK((uint16_t)(q->avail->idx - q->last_avail_idx) <= q->size);
    uint16_t head = q->avail->ring[virtq_slot(q->size, q->last_avail_idx)];
    q->last_avail_idx++;
    KCHECK(head < q->size && !q->out[head]);
    q->out[head] = true;
    uint16_t cur = head;
    for (int n = 0;; n++) {
        KCHECK(n < q->size && cur < q->size);
        uint16_t flags = q->desc[cur].flags;
        KCHECK(!!(flags & VIRTQ_DESC_F_WRITE) == want_write);
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        cur = q->desc[cur].next;
    }
    return head;
}

/* virtqueue_fill + virtqueue_flush of one entry (smp_wmb between them). */
static inline void qm_push(struct qm_queue *q, uint16_t head, uint32_t len)
{
    KCHECK(head < q->size && q->out[head]);
    q->out[head] = false;
    volatile struct virtq_used_elem *e = &q->used->ring[virtq_slot(q->size, q->used_idx)];
    e->id = head;
    e->len = len;
    uint16_t old = q->used_idx;
    q->used_idx++;
    q->used->idx = q->used_idx;
    /* virtqueue_split_flush: the signalled index fell out of the window. */
    if ((int16_t)(q->used_idx - q->signalled_used) < (uint16_t)(q->used_idx - old))
        q->signalled_used_valid = false;
}

/* virtio_split_should_notify (after its smp_mb): used_event, or the flag. */
static inline bool qm_should_notify(struct qm_queue *q)
{
    if (!q->event_idx)
        return !(q->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    bool v = q->signalled_used_valid;
    q->signalled_used_valid = true;
    uint16_t old = q->signalled_used;
    q->signalled_used = q->used_idx;
    return !v || virtq_need_event(*virtq_used_event(q->avail, q->size), q->used_idx, old);
}

/* virtio_notify: the interrupt goes to the guest, which takes it when it can. */
static inline void qm_notify(struct qm_dev *d, int qi)
{
    struct qm_queue *q = &d->q[qi];
    bool first = q->event_idx && !q->signalled_used_valid;
    bool irq = qm_should_notify(q);
    if (!q->event_idx)
        qm_note(d,
                irq ? "%s interrupt: NO_INTERRUPT clear"
                    : "%s no interrupt: NO_INTERRUPT set",
                qi, 0);
    else if (first)
        qm_note(d, "%s interrupt (the first one: nothing signalled yet)", qi, 0);
    else
        qm_note(d,
                irq ? "%s interrupt: used_event = %d (read) was crossed"
                    : "%s no interrupt: used_event = %d (read) not crossed",
                qi, *virtq_used_event(q->avail, q->size));
    if (irq) {
        d->irq[qi] = true;
        d->irqs++;
    }
}

/* ---------------------------------------------------------------- virtio-net.c */

/* The guest's buffer gets a zero header and a frame carrying its number. */
static inline uint32_t qm_rx_write(struct qm_dev *d, uint16_t head, int id)
{
    volatile struct virtq_desc *v = &d->q[QM_RXQ].desc[head];
    uint32_t len = d->hdr_len + QM_FRAME_LEN;
    KCHECK(!(v->flags & VIRTQ_DESC_F_NEXT) && v->len >= len);
    uint8_t *p = (uint8_t *)(uintptr_t)v->addr;
    memset(p, 0, d->hdr_len);
    memset(p + d->hdr_len, 0xAB, QM_FRAME_LEN);
    p[d->hdr_len + QM_ID_OFF] = (uint8_t)(id >> 8);
    p[d->hdr_len + QM_ID_OFF + 1] = (uint8_t)id;
    return len;
}

/* The frame number of a TX chain (header and frame in its first piece). */
static inline int qm_tx_read(struct qm_dev *d, uint16_t head)
{
    volatile struct virtq_desc *v = &d->q[QM_TXQ].desc[head];
    KCHECK(v->len >= d->hdr_len + QM_ID_OFF + 2);
    const uint8_t *p = (const uint8_t *)(uintptr_t)v->addr + d->hdr_len;
    return p[QM_ID_OFF] << 8 | p[QM_ID_OFF + 1];
}

static inline void qm_flush_begin(struct qm_dev *d, enum qm_pc ret)
{
    d->flush_ret = ret;
    d->flush_n = 0;
    d->pc = FL_CHECK;
}

static inline void qm_flush_end(struct qm_dev *d, int ret)
{
    d->ret = ret;
    d->pc = d->flush_ret;
}

/* virtio_net_tx_bh / tx_complete: reschedule the bottom half, kicks off. */
static inline void qm_tx_reschedule(struct qm_dev *d, bool disable)
{
    if (disable)
        qm_set_notification(d, QM_TXQ, false);
    d->bh_scheduled = true;
    d->tx_waiting = true;
    qm_note(d, "TX: %d sent (a full burst, or more found): bottom half rescheduled",
            d->ret, 0);
}

/* Does the step at pc touch ring memory? Steps that do not are run together
 * with the one before (they are invisible to the guest). */
static inline bool qm_touches(const struct qm_dev *d, enum qm_pc pc)
{
    switch (pc) {
    case QM_IDLE:
    case BH_START:
    case BH_AFTER:
        return false;
    case FL_CHECK:
        return d->async;
    case BH_RECHECK:
        return d->ret > 0;
    case TC_AFTER:
        return d->ret >= d->burst;
    default:
        return true;
    }
}

/* The steps of the RX path: virtio_net_receive_rcu for one frame. */
static inline void qm_rx_step(struct qm_dev *d)
{
    const int qi = QM_RXQ;
    struct qm_queue *q = &d->q[qi];
    switch (d->pc) {
    case RX_CHECK:
        d->pc = qm_empty(q) ? RX_ENABLE : RX_DISABLE;
        qm_note(d,
                d->pc == RX_ENABLE ? "RX frame %d arrives: avail->idx = %d, ring empty"
                                   : "RX frame %d arrives: avail->idx = %d, a buffer",
                d->rx_next, q->shadow_avail_idx);
        break;
    case RX_ENABLE:
        qm_set_notification(d, qi, true);
        d->pc = RX_RECHECK;
        break;
    case RX_RECHECK:
        if (qm_empty(q)) {
            d->rx_queued = true;
            d->pc = QM_IDLE;
            qm_note(d,
                    "RX re-check: avail->idx = %d, still empty: frame %d held, the "
                    "backend paused until an RX kick",
                    q->shadow_avail_idx, d->rx_next);
        } else {
            d->pc = RX_DISABLE;
            qm_note(d, "RX re-check: avail->idx = %d, a buffer", q->shadow_avail_idx, 0);
        }
        break;
    case RX_DISABLE:
        qm_set_notification(d, qi, false);
        d->pc = RX_PUBLISH;
        break;
    case RX_PUBLISH: {
        uint16_t head = qm_pop(q, true);
        d->rx_ids[d->rx_next] = d->rx_next;
        qm_push(q, head, qm_rx_write(d, head, d->rx_next));
        d->pc = RX_NOTIFY;
        qm_note(d, "RX frame %d written: used->idx := %d", d->rx_next, q->used_idx);
        break;
    }
    case RX_NOTIFY:
        qm_notify(d, QM_RXQ);
        d->rx_next++;
        d->rx_queued = false;
        d->pc = QM_IDLE;
        break;
    default:
        KCHECK(0);
    }
}

/* virtio_net_flush_tx, one step. busy: the backend queues this packet. */
static inline void qm_flush_step(struct qm_dev *d, bool busy)
{
    const int qi = QM_TXQ;
    struct qm_queue *q = &d->q[qi];
    switch (d->pc) {
    case FL_CHECK: /* a packet still in the backend: wait for its completion */
        if (d->async) {
            qm_note(d, "TX flush: the backend still holds a frame", 0, 0);
            qm_set_notification(d, qi, false);
            qm_flush_end(d, 0);
        } else {
            d->pc = FL_POP;
        }
        break;
    case FL_POP:
        if (qm_empty(q)) {
            qm_note(d, "TX flush: avail->idx = %d, nothing more (%d sent)",
                    q->shadow_avail_idx, d->flush_n);
            qm_flush_end(d, d->flush_n);
            break;
        }
        d->cur_head = qm_pop(q, false);
        if (busy) {
            d->async = true;
            d->async_head = d->cur_head;
            d->busy_used++;
            qm_note(d, "TX flush: frame %d popped, the backend is busy: it holds it",
                    qm_tx_read(d, d->cur_head), 0);
            qm_set_notification(d, qi, false);
            qm_flush_end(d, QM_EBUSY);
            break;
        }
        KCHECK(d->ntx < QM_MAX_FRAMES);
        d->tx_ids[d->ntx++] = qm_tx_read(d, d->cur_head);
        qm_note(d, "TX flush: frame %d sent (avail->idx = %d)", d->tx_ids[d->ntx - 1],
                q->shadow_avail_idx);
        d->pc = FL_PUBLISH;
        break;
    case FL_PUBLISH:
        qm_push(q, d->cur_head, 0);
        qm_note(d, "TX: used->idx := %d", q->used_idx, 0);
        d->pc = FL_NOTIFY;
        break;
    case FL_NOTIFY:
        qm_notify(d, QM_TXQ);
        if (++d->flush_n >= d->burst)
            qm_flush_end(d, d->flush_n);
        else
            d->pc = FL_POP;
        break;
    default:
        KCHECK(0);
    }
}

/* virtio_net_tx_bh and virtio_net_tx_complete around their flushes. */
static inline void qm_tx_step(struct qm_dev *d, bool busy)
{
    const int qi = QM_TXQ;
    struct qm_queue *q = &d->q[qi];
    switch (d->pc) {
    case BH_START:
        d->bh_scheduled = false;
        d->tx_waiting = false;
        qm_note(d, "TX bottom half runs", 0, 0);
        qm_flush_begin(d, BH_AFTER);
        break;
    case BH_AFTER: /* -EBUSY: tx_complete resumes; a full burst: go again */
        if (d->ret == QM_EBUSY)
            d->pc = QM_IDLE;
        else if (d->ret >= d->burst) {
            qm_tx_reschedule(d, false);
            d->pc = QM_IDLE;
        } else
            d->pc = BH_ENABLE;
        break;
    case BH_ENABLE: /* less than a burst: notifications on, flush again */
        qm_set_notification(d, qi, true);
        qm_flush_begin(d, BH_RECHECK);
        break;
    case BH_RECHECK:
        if (d->ret > 0)
            qm_tx_reschedule(d, true);
        d->pc = QM_IDLE;
        break;
    case TC_PUSH:
        qm_push(q, d->async_head, 0);
        KCHECK(d->ntx < QM_MAX_FRAMES);
        d->tx_ids[d->ntx++] = qm_tx_read(d, d->async_head);
        qm_note(d, "TX: the backend sent frame %d: used->idx := %d",
                d->tx_ids[d->ntx - 1], q->used_idx);
        d->pc = TC_NOTIFY;
        break;
    case TC_NOTIFY:
        qm_notify(d, QM_TXQ);
        d->async = false;
        d->pc = TC_ENABLE;
        break;
    case TC_ENABLE:
        qm_set_notification(d, qi, true);
        qm_flush_begin(d, TC_AFTER);
        break;
    case TC_AFTER:
        if (d->ret >= d->burst)
            qm_tx_reschedule(d, true);
        d->pc = QM_IDLE;
        break;
    default:
        qm_flush_step(d, busy);
    }
}

static inline void qm_run_pc(struct qm_dev *d, bool busy)
{
    if (d->pc >= RX_CHECK && d->pc <= RX_NOTIFY)
        qm_rx_step(d);
    else
        qm_tx_step(d, busy);
}

/* Runs the steps that touch nothing up to the next one that does. */
static inline void qm_settle(struct qm_dev *d)
{
    while (d->pc != QM_IDLE && !qm_touches(d, d->pc))
        qm_run_pc(d, false);
}

/* One step of the running handler (it must be at a step that touches memory). */
static inline void qm_step(struct qm_dev *d, bool busy)
{
    KCHECK(d->pc != QM_IDLE);
    qm_run_pc(d, busy);
    qm_settle(d);
}

/* Can the next step go two ways (the backend takes the packet, or is busy)? */
static inline bool qm_step_may_busy(const struct qm_dev *d)
{
    return d->pc == FL_POP && !qm_peek_empty(&d->q[QM_TXQ]) && d->busy_used < d->busy_max;
}

/* Handlers the I/O thread may start now (none while one runs). */
static inline bool qm_can_receive(const struct qm_dev *d)
{
    return d->pc == QM_IDLE && !d->rx_queued && d->rx_next < d->rx_frames;
}
static inline bool qm_can_bh(const struct qm_dev *d)
{
    return d->pc == QM_IDLE && d->bh_scheduled;
}
static inline bool qm_can_complete(const struct qm_dev *d)
{
    return d->pc == QM_IDLE && d->async;
}

static inline void qm_start(struct qm_dev *d, enum qm_pc entry)
{
    KCHECK(d->pc == QM_IDLE);
    d->pc = entry;
    qm_settle(d);
}

/* The guest's kick, in the vCPU thread once the running handler is done:
 * virtio_net_handle_rx (flush the frame the backend holds: receive again) and
 * virtio_net_handle_tx_bh (notifications off, schedule the bottom half). */
static inline void qm_kick(struct qm_dev *d, int qi)
{
    KCHECK(d->pc == QM_IDLE);
    d->kicks[qi]++;
    if (qi == QM_TXQ) {
        if (d->tx_waiting) {
            qm_note(d, "TX kick: the bottom half is pending already: ignored", 0, 0);
            return;
        }
        d->tx_waiting = true;
        qm_note(d, "TX kick: bottom half scheduled", 0, 0);
        qm_set_notification(d, QM_TXQ, false);
        d->bh_scheduled = true;
        return;
    }
    if (!d->rx_queued) {
        qm_note(d, "RX kick: no frame held: nothing to do", 0, 0);
        return;
    }
    qm_note(d, "RX kick: the held frame %d again", d->rx_next, 0);
    d->pc = RX_CHECK;
    while (d->pc != QM_IDLE)
        qm_step(d, false);
}

/* Device reset (status 0): the queues are forgotten, a packet the backend still
 * holds is dropped (purged); a frame held for the guest stays with the backend. */
static inline void qm_reset(struct qm_dev *d)
{
    KCHECK(d->pc == QM_IDLE);
    for (int i = 0; i < 2; i++) {
        struct qm_queue *q = &d->q[i];
        q->last_avail_idx = q->shadow_avail_idx = q->used_idx = q->signalled_used = 0;
        q->signalled_used_valid = false;
        memset(q->out, 0, sizeof q->out);
        d->irq[i] = false;
    }
    d->tx_waiting = d->bh_scheduled = d->async = false;
}

#endif
