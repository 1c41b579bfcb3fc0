/* Split virtqueues, the driver's side (virtio 1.1 section 2.6): one queue's
 * descriptor table, available ring and used ring, a free list of descriptors,
 * descriptor chains, and notification suppression both ways (the flags, or
 * VIRTIO_F_EVENT_IDX's used_event/avail_event).
 *
 * Portable: no hardware here. The caller gives the ring memory (zeroed, laid out
 * by virtq_layout), a per-descriptor cookie array, a hook that turns pointers into
 * bus addresses (NULL: identity) and a notify callback that kicks the device.
 * Context: one thread at a time, never an interrupt handler (handlers wake the
 * thread that drains the queue). Rings are little-endian: x86 is, so fields are
 * plain integers. */
#ifndef VIRTQUEUE_H
#define VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 2.6.5 The Virtqueue Descriptor Table */
#define VIRTQ_DESC_F_NEXT 1u     /* the chain continues in .next */
#define VIRTQ_DESC_F_WRITE 2u    /* device-writable (else device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4u /* not used by this driver */
/* 2.6.6 / 2.6.7: the driver asks for no used-buffer notifications (interrupts). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
/* 2.6.8 / 2.6.10: the device asks for no available-buffer notifications (kicks). */
#define VIRTQ_USED_F_NO_NOTIFY 1u
/* 2.6: a split queue has at most 32768 entries; we also need a power of two so
 * that free-running 16-bit indices map to slots the same way across 65535 -> 0. */
#define VIRTQ_MAX_SIZE 32768u

struct virtq_desc {
    uint64_t addr; /* bus address */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;    /* where the driver puts the next entry (free-running) */
    uint16_t ring[]; /* size entries, then used_event (EVENT_IDX) */
};

struct virtq_used_elem {
    uint32_t id;  /* head of the chain the device used */
    uint32_t len; /* bytes the device wrote into the chain's writable part */
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;                  /* where the device puts the next entry */
    struct virtq_used_elem ring[]; /* size entries, then avail_event (EVENT_IDX) */
};

/* Where the three parts sit in one block of memory. Modern devices take three
 * addresses (alignment 16/2/4, 2.6 table); legacy ones take one page number with
 * the used ring on the next used_align (4096) boundary (2.6.2). */
struct virtq_layout {
    size_t desc_off, avail_off, used_off, total;
};
#define VIRTQ_ALIGN_LEGACY 4096u
#define VIRTQ_ALIGN_MODERN 4u
void virtq_layout(uint16_t size, size_t used_align, struct virtq_layout *out);

typedef uint64_t (*virtq_xlate_fn)(const void *p, void *ctx);
typedef void (*virtq_notify_fn)(void *ctx, uint16_t queue_index);
/* A store->load ordering point that the device honours, run after the CPU's own
 * fence. Needed where the CPU fence is not enough: QEMU's TCG with one vCPU
 * drops guest fences (see docs/virtio-notifications.md), so the kernel passes a
 * function that makes an I/O access, which QEMU serialises with its device
 * threads. NULL: the CPU fence alone. */
typedef void (*virtq_fence_fn)(void);

struct virtq_config {
    uint16_t index;         /* queue number on the device */
    uint16_t size;          /* entries, a power of two <= VIRTQ_MAX_SIZE */
    void *mem;              /* virtq_layout(size, used_align).total zeroed bytes */
    size_t used_align;      /* VIRTQ_ALIGN_LEGACY or VIRTQ_ALIGN_MODERN */
    void **cookies;         /* size entries, driver-private */
    bool event_idx;         /* VIRTIO_F_EVENT_IDX negotiated */
    virtq_notify_fn notify; /* kicks the device */
    void *notify_ctx;
    virtq_xlate_fn xlate; /* NULL: a pointer is its bus address */
    void *xlate_ctx;
    virtq_fence_fn fence; /* NULL: the CPU fence is enough */
};

struct virtq_stats {
    uint64_t added;      /* chains made available */
    uint64_t used;       /* chains taken back */
    uint64_t notifies;   /* kicks sent */
    uint64_t suppressed; /* kicks the device said it did not need */
    uint64_t forced;     /* kicks sent whatever the device said (watchdog) */
    uint64_t fences;     /* store->load ordering points executed */
};

struct virtq {
    uint16_t index, size;
    bool event_idx;
    bool cb_disabled; /* driver-side shadow: we asked for no interrupts */
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    void **cookies;     /* by chain head; NULL = head not in flight */
    uint16_t free_head; /* free descriptors, linked through desc[].next */
    uint16_t num_free;
    uint16_t avail_idx;    /* our copy of avail->idx */
    uint16_t last_used;    /* next used entry we will take */
    uint16_t kicked_idx;   /* avail_idx at the last kick decision */
    uint16_t notified_idx; /* avail_idx at the last notification actually sent */
    virtq_notify_fn notify;
    void *notify_ctx;
    virtq_xlate_fn xlate;
    void *xlate_ctx;
    virtq_fence_fn fence;
    void *mem; /* the ring block, for virtq_reinit */
    size_t used_align;
    struct virtq_stats stats;
};

/* One piece of a chain. Device-readable pieces come first, then writable ones. */
struct virtq_buf {
    const void *p;
    uint32_t len;
};

enum virtq_err {
    VIRTQ_OK = 0,
    VIRTQ_EFULL = 1,  /* not enough free descriptors now; retry after reclaiming */
    VIRTQ_EINVAL = 2, /* empty chain, or longer than the whole queue */
};

/* 16-bit ring arithmetic, free-running indices (2.6.6, 2.6.8). */
static inline uint16_t virtq_slot(uint16_t size, uint16_t idx)
{
    return idx & (uint16_t)(size - 1);
}
static inline uint16_t virtq_idx_diff(uint16_t later, uint16_t earlier)
{
    return (uint16_t)(later - earlier);
}

/* 2.6.7.2 / 2.6.10: with EVENT_IDX the other side wants an event when its index
 * moves from old past event_idx to new, i.e. event_idx is in [old, new). */
static inline bool virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

/* EVENT_IDX fields sit just past each ring. */
static inline volatile uint16_t *virtq_used_event(volatile struct virtq_avail *a,
                                                  uint16_t size)
{
    return &a->ring[size];
}
static inline volatile uint16_t *virtq_avail_event(volatile struct virtq_used *u,
                                                   uint16_t size)
{
    return (volatile uint16_t *)&u->ring[size];
}

/* Sets up vq over cfg->mem, every descriptor free. */
void virtq_init(struct virtq *vq, const struct virtq_config *cfg);
/* After a device reset: the rings zeroed, every descriptor free, indices at 0,
 * cookies cleared (the caller takes back what the chains held first). */
void virtq_reinit(struct virtq *vq);
/* Bus addresses of the three parts, for the transport's queue registers. */
uint64_t virtq_desc_addr(const struct virtq *vq);
uint64_t virtq_avail_addr(const struct virtq *vq);
uint64_t virtq_used_addr(const struct virtq *vq);

/* Tests only: start the free-running indices at start instead of 0 (a real device
 * starts at 0 after reset). Call right after virtq_init, before any add. */
void virtq_set_start_index(struct virtq *vq, uint16_t start);

/* Makes a chain of n_out device-readable then n_in device-writable pieces
 * available to the device (visible at once; the device may not look until
 * virtq_kick). cookie (not NULL) comes back from virtq_get_used. *head gets the
 * chain's head descriptor when head is not NULL. */
enum virtq_err virtq_add(struct virtq *vq, const struct virtq_buf *bufs, int n_out,
                         int n_in, void *cookie, uint16_t *head);
/* Notifies the device of chains added since the last kick, unless it said it does
 * not need it (flags or avail_event). Returns true if it notified. */
bool virtq_kick(struct virtq *vq);
/* Notifies the device whatever it said (the watchdog's re-kick). */
void virtq_kick_force(struct virtq *vq);

/* The next chain the device is done with: its cookie, and in *len the bytes the
 * device wrote. NULL when there is none. The chain's descriptors are free again. */
void *virtq_get_used(struct virtq *vq, uint32_t *len);
bool virtq_has_used(const struct virtq *vq);
/* Chains made available and not yet taken back. */
uint16_t virtq_in_flight(const struct virtq *vq);
static inline uint16_t virtq_num_free(const struct virtq *vq)
{
    return vq->num_free;
}

/* Used-buffer notification (interrupt) control, NAPI style: disable, drain,
 * enable; enable returns false when used chains arrived meanwhile (drain again),
 * true when it is safe to sleep until the interrupt. */
void virtq_disable_cb(struct virtq *vq);
bool virtq_enable_cb(struct virtq *vq);
/* enable_cb in two halves, so that several queues' stores share one ordering
 * point: arm (the store: interrupt on the next used entry), then, after every
 * other store of the turn, armed_check (ordering point, then the re-check;
 * false: used chains arrived meanwhile). */
void virtq_arm_cb(struct virtq *vq);
bool virtq_armed_check(struct virtq *vq);
/* Like enable, but asks for the interrupt only once about 3/4 of the chains in
 * flight are used (EVENT_IDX; plain enable otherwise): for a TX ring that is full. */
bool virtq_enable_cb_delayed(struct virtq *vq);

/* What the device last published (no ordering point: may be a little stale). */
uint16_t virtq_device_used_idx(const struct virtq *vq);
/* The device asked to be notified about entries we published, and we have not
 * notified it since (2.6.10 / 2.6.7 read from the driver's side: avail_event in
 * [last notification, avail->idx), or NO_NOTIFY clear with entries published
 * since the last notification). With an ordering point first. Never true for
 * long when every kick the device asked for was sent. */
bool virtq_kick_owed(struct virtq *vq);
/* Fault injection only: the kick decision is made and the kick not sent. */
void virtq_kick_drop(struct virtq *vq);
/* The device moved its used index past the event we armed (it owes us an
 * interrupt), or, without EVENT_IDX, published entries while interrupts were
 * enabled. */
bool virtq_interrupt_due(const struct virtq *vq);

#endif
