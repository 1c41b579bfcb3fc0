/* An in-memory virtio device for host tests: plays the device's side of one split
 * virtqueue over the same ring memory drivers/virtqueue.c drives. It takes chains
 * from the available ring (checking them), puts used entries, publishes them and
 * decides, like a device, whether that raises an interrupt (flags or used_event);
 * it suppresses kicks the way QEMU does (used->flags, or avail_event). Header-only
 * (static inline) so each test file includes it without extra build rules. */
#ifndef VIRTQ_MODEL_H
#define VIRTQ_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtqueue.h"
#include "kernel/platform.h"

#define VMODEL_MAX_SEGS 64

struct vmodel_seg {
    uint64_t addr;
    uint32_t len;
    bool write;
};

struct vmodel_chain {
    uint16_t head;
    int n;
    struct vmodel_seg seg[VMODEL_MAX_SEGS];
};

struct vmodel {
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint16_t size;
    bool event_idx;
    uint16_t last_avail; /* next available entry the device takes */
    uint16_t used_idx;   /* next used entry (written, maybe not yet published) */
    uint16_t published;  /* used->idx as last published */
    uint64_t kicks;      /* notify callbacks received */
    uint64_t interrupts; /* used-buffer notifications the device raised */
    uint64_t popped;
    bool kicked; /* a kick arrived since the test last cleared it */
};

/* The device sees the queue as the driver set it up (start index included). */
static inline void vmodel_attach(struct vmodel *m, const struct virtq *vq)
{
    memset(m, 0, sizeof *m);
    m->desc = vq->desc;
    m->avail = vq->avail;
    m->used = vq->used;
    m->size = vq->size;
    m->event_idx = vq->event_idx;
    m->last_avail = m->used_idx = m->published = vq->avail_idx;
    m->used->idx = vq->avail_idx;
    *virtq_avail_event(m->used, m->size) = vq->avail_idx;
}

/* The virtq's notify callback (ctx = the model). */
static inline void vmodel_notify(void *ctx, uint16_t queue_index)
{
    (void)queue_index;
    struct vmodel *m = ctx;
    m->kicks++;
    m->kicked = true;
}

static inline uint16_t vmodel_pending(const struct vmodel *m)
{
    return (uint16_t)(m->avail->idx - m->last_avail);
}

/* Walks one chain, checking what a device would trip on. */
static inline void vmodel_walk(const struct vmodel *m, uint16_t head,
                               struct vmodel_chain *c)
{
    KCHECK(head < m->size);
    c->head = head;
    c->n = 0;
    uint16_t cur = head;
    bool seen_write = false;
    for (;;) {
        KCHECK(c->n < VMODEL_MAX_SEGS && c->n < m->size);
        volatile struct virtq_desc *d = &m->desc[cur];
        bool w = (d->flags & VIRTQ_DESC_F_WRITE) != 0;
        KCHECK(!(seen_write && !w)); /* readable pieces first (2.6.4.2) */
        seen_write = seen_write || w;
        c->seg[c->n++] = (struct vmodel_seg){d->addr, d->len, w};
        if (!(d->flags & VIRTQ_DESC_F_NEXT))
            break;
        cur = d->next;
        KCHECK(cur < m->size);
    }
}

/* Takes the next available chain; false when there is none. */
static inline bool vmodel_pop(struct vmodel *m, struct vmodel_chain *c)
{
    if (vmodel_pending(m) == 0)
        return false;
    KCHECK(vmodel_pending(m) <= m->size); /* the driver never overfills */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint16_t head = m->avail->ring[virtq_slot(m->size, m->last_avail)];
    vmodel_walk(m, head, c);
    m->last_avail++;
    m->popped++;
    return true;
}

/* Writes a used entry (not yet visible: see vmodel_publish). */
static inline void vmodel_push(struct vmodel *m, uint16_t head, uint32_t len)
{
    volatile struct virtq_used_elem *e = &m->used->ring[virtq_slot(m->size, m->used_idx)];
    e->id = head;
    e->len = len;
    m->used_idx++;
}

/* Publishes the used entries pushed so far; returns true (and counts) when that
 * raises an interrupt. */
static inline bool vmodel_publish(struct vmodel *m)
{
    uint16_t old = m->published, new_idx = m->used_idx;
    if (old == new_idx)
        return false;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    m->used->idx = new_idx;
    m->published = new_idx;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    bool irq = m->event_idx
                   ? virtq_need_event(*virtq_used_event(m->avail, m->size), new_idx, old)
                   : !(m->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    if (irq)
        m->interrupts++;
    return irq;
}

/* Device-side kick suppression: on = "tell me about new buffers", i.e. (with
 * EVENT_IDX) about the entry after those already published, as QEMU does. */
static inline void vmodel_want_kicks(struct vmodel *m, bool on)
{
    if (m->event_idx) {
        if (on)
            *virtq_avail_event(m->used, m->size) = m->avail->idx;
    } else {
        m->used->flags = on ? 0 : VIRTQ_USED_F_NO_NOTIFY;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* The device goes idle: asks for kicks, then re-checks. False = work arrived
 * meanwhile, stay awake. */
static inline bool vmodel_try_sleep(struct vmodel *m)
{
    vmodel_want_kicks(m, true);
    return vmodel_pending(m) == 0;
}

/* A queue of size entries (driver side) attached to a model device. */
struct vfix {
    struct virtq vq;
    struct vmodel dev;
    void *mem;
    void **cookies;
};

static inline void vfix_init(struct vfix *f, uint16_t size, size_t used_align,
                             bool event_idx, uint16_t start)
{
    struct virtq_layout l;
    virtq_layout(size, used_align, &l);
    size_t bytes = (l.total + 4095) & ~(size_t)4095;
    f->mem = aligned_alloc(4096, bytes);
    KCHECK(f->mem != NULL);
    memset(f->mem, 0, bytes);
    f->cookies = calloc(size, sizeof(void *));
    KCHECK(f->cookies != NULL);
    struct virtq_config cfg = {
        .index = 0,
        .size = size,
        .mem = f->mem,
        .used_align = used_align,
        .cookies = f->cookies,
        .event_idx = event_idx,
        .notify = vmodel_notify,
        .notify_ctx = &f->dev,
    };
    virtq_init(&f->vq, &cfg);
    virtq_set_start_index(&f->vq, start);
    vmodel_attach(&f->dev, &f->vq);
}

static inline void vfix_free(struct vfix *f)
{
    free(f->mem);
    free(f->cookies);
}

#endif
