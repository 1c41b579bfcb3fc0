/* Split virtqueues, driver side: see virtqueue.h. Section numbers are virtio 1.1. */
#include "drivers/virtqueue.h"

#include <string.h>

#include "kernel/platform.h"

/* Every load and store of ring memory (the fields the device shares) goes
 * through RING_LOAD/RING_STORE, and the CPU's store->load fence through
 * CPU_FENCE. They are the plain volatile accesses and the plain fence, except in
 * the host model checker's build (-DVIRTQ_MODEL: tests/unit/test_virtq_interleave.c),
 * where stores go through a model of the CPU's store buffer and device steps run
 * in between. */
#ifdef VIRTQ_MODEL
uint64_t virtq_model_load(const volatile void *p, size_t n);
void virtq_model_store(volatile void *p, size_t n, uint64_t v);
void virtq_model_cpu_fence(void);
#define RING_LOAD(x) ((__typeof__(x))virtq_model_load(&(x), sizeof(x)))
#define RING_STORE(x, v) virtq_model_store(&(x), sizeof(x), (v))
#define CPU_FENCE() virtq_model_cpu_fence()
#else
#define RING_LOAD(x) (x)
#define RING_STORE(x, v) ((x) = (v))
#define CPU_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* ---------------------------------------------------------------- barriers
 * The device is another agent reading and writing the rings concurrently. On
 * x86 (TSO) ordinary loads are not reordered with loads, nor stores with stores,
 * so two of the three barriers only have to stop the compiler; the third is a
 * real fence because a store followed by a load of another location is the one
 * reordering x86 does. The __atomic fences express exactly that and compile to
 * the right thing on the host (tests) and in the kernel. */

/* Before publishing avail->idx (or any index the device reads): the descriptors
 * and ring entries it covers must be written first (2.6.13.3.1). */
static inline void publish_barrier(void)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* After reading used->idx: the used entries it covers must not be read before
 * it (2.6.14). */
static inline void consume_barrier(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

/* Between a store the device must see (avail->idx, used_event, flags) and a load
 * of what the device wrote (avail_event, used->flags, used->idx): without it the
 * load may see a value from before the device saw our store, and both sides go
 * to sleep waiting for each other (2.6.13.4, 2.6.7).
 *
 * The CPU fence is not always enough: QEMU 7.2's TCG with one vCPU translates
 * it to nothing, so the queue's fence hook adds an ordering point the device
 * honours. That costs about a microsecond under TCG, so it runs only when a
 * shared store happened since the last one: the driver makes all of a turn's
 * stores (ring entries, used_event) first and pays once for the loads that
 * follow. The count is global because the fence is: one ordering point covers
 * every queue of every device. Threads only, so no atomics. */
static unsigned long shared_stores, fenced_stores;

static inline void note_shared_store(void)
{
    shared_stores++;
}

static void store_load_barrier(struct virtq *vq)
{
    if (fenced_stores == shared_stores) {
        __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the compiler must still load */
        return;
    }
    CPU_FENCE();
    if (vq->fence)
        vq->fence();
    fenced_stores = shared_stores;
    vq->stats.fences++;
}

/* ---------------------------------------------------------------- layout */

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static size_t desc_bytes(uint16_t size)
{
    return sizeof(struct virtq_desc) * size;
}

/* flags, idx, ring[size], used_event */
static size_t avail_bytes(uint16_t size)
{
    return sizeof(uint16_t) * (3u + size);
}

/* flags, idx, ring[size], avail_event */
static size_t used_bytes(uint16_t size)
{
    return sizeof(uint16_t) * 3u + sizeof(struct virtq_used_elem) * size;
}

void virtq_layout(uint16_t size, size_t used_align, struct virtq_layout *out)
{
    out->desc_off = 0;
    out->avail_off = desc_bytes(size);
    out->used_off = align_up(out->avail_off + avail_bytes(size), used_align);
    out->total = out->used_off + used_bytes(size);
}

/* ---------------------------------------------------------------- set-up */

static uint64_t bus_addr(const struct virtq *vq, const volatile void *p)
{
    const void *q = (const void *)(uintptr_t)p;
    return vq->xlate ? vq->xlate(q, vq->xlate_ctx) : (uint64_t)(uintptr_t)q;
}

/* Every descriptor free, linked 0 -> 1 -> ... -> size-1. */
static void free_list_init(struct virtq *vq)
{
    for (uint16_t i = 0; i < vq->size; i++)
        RING_STORE(vq->desc[i].next, (uint16_t)(i + 1));
    vq->free_head = 0;
    vq->num_free = vq->size;
}

void virtq_init(struct virtq *vq, const struct virtq_config *cfg)
{
    KCHECK(cfg->size > 0 && cfg->size <= VIRTQ_MAX_SIZE);
    KCHECK((cfg->size & (cfg->size - 1)) == 0);
    KCHECK(cfg->mem != NULL && cfg->cookies != NULL && cfg->notify != NULL);
    struct virtq_layout l;
    virtq_layout(cfg->size, cfg->used_align, &l);
    uint8_t *m = cfg->mem;
    memset(vq, 0, sizeof *vq);
    vq->index = cfg->index;
    vq->size = cfg->size;
    vq->event_idx = cfg->event_idx;
    vq->desc = (volatile struct virtq_desc *)(m + l.desc_off);
    vq->avail = (volatile struct virtq_avail *)(m + l.avail_off);
    vq->used = (volatile struct virtq_used *)(m + l.used_off);
    vq->cookies = cfg->cookies;
    memset(cfg->cookies, 0, sizeof(void *) * cfg->size);
    vq->notify = cfg->notify;
    vq->notify_ctx = cfg->notify_ctx;
    vq->xlate = cfg->xlate;
    vq->xlate_ctx = cfg->xlate_ctx;
    vq->fence = cfg->fence;
    vq->mem = cfg->mem;
    vq->used_align = cfg->used_align;
    free_list_init(vq);
}

void virtq_reinit(struct virtq *vq)
{
    struct virtq_layout l;
    virtq_layout(vq->size, vq->used_align, &l);
    memset(vq->mem, 0, l.total);
    memset(vq->cookies, 0, sizeof(void *) * vq->size);
    vq->cb_disabled = false;
    vq->avail_idx = vq->last_used = vq->kicked_idx = vq->notified_idx = 0;
    free_list_init(vq);
    note_shared_store();
}

uint64_t virtq_desc_addr(const struct virtq *vq)
{
    return bus_addr(vq, vq->desc);
}
uint64_t virtq_avail_addr(const struct virtq *vq)
{
    return bus_addr(vq, vq->avail);
}
uint64_t virtq_used_addr(const struct virtq *vq)
{
    return bus_addr(vq, vq->used);
}

void virtq_set_start_index(struct virtq *vq, uint16_t start)
{
    KCHECK(vq->num_free == vq->size);
    vq->avail_idx = vq->last_used = vq->kicked_idx = vq->notified_idx = start;
    RING_STORE(vq->avail->idx, start);
}

/* ---------------------------------------------------------------- supplying buffers */

/* 2.6.13.1: fill n descriptors taken from the free list; the free list's own
 * links become the chain's links, so only the last one loses its NEXT flag. */
static uint16_t fill_chain(struct virtq *vq, const struct virtq_buf *bufs, int n_out,
                           int n)
{
    uint16_t head = vq->free_head, cur = head, last = head;
    for (int i = 0; i < n; i++) {
        volatile struct virtq_desc *d = &vq->desc[cur];
        RING_STORE(d->addr, bus_addr(vq, bufs[i].p));
        RING_STORE(d->len, bufs[i].len);
        RING_STORE(d->flags, (uint16_t)((i >= n_out ? VIRTQ_DESC_F_WRITE : 0) |
                                        (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)));
        last = cur;
        cur = RING_LOAD(d->next);
    }
    vq->free_head = RING_LOAD(vq->desc[last].next);
    vq->num_free = (uint16_t)(vq->num_free - n);
    return head;
}

/* 2.6.13.2 and 2.6.13.3: ring entry first, then the index that publishes it. */
static void publish(struct virtq *vq, uint16_t head)
{
    RING_STORE(vq->avail->ring[virtq_slot(vq->size, vq->avail_idx)], head);
    vq->avail_idx++;
    publish_barrier();
    RING_STORE(vq->avail->idx, vq->avail_idx);
    note_shared_store();
}

enum virtq_err virtq_add(struct virtq *vq, const struct virtq_buf *bufs, int n_out,
                         int n_in, void *cookie, uint16_t *head_out)
{
    int n = n_out + n_in;
    if (n_out < 0 || n_in < 0 || n == 0 || n > vq->size || cookie == NULL)
        return VIRTQ_EINVAL;
    if (n > vq->num_free)
        return VIRTQ_EFULL;
    uint16_t head = fill_chain(vq, bufs, n_out, n);
    KCHECK(vq->cookies[head] == NULL);
    vq->cookies[head] = cookie;
    publish(vq, head);
    vq->stats.added++;
    if (head_out)
        *head_out = head;
    return VIRTQ_OK;
}

/* 2.6.13.4: does the device want to hear about avail entries [old, new)? */
static bool kick_needed(struct virtq *vq, uint16_t old, uint16_t new_idx)
{
    store_load_barrier(vq);
    if (vq->event_idx)
        return virtq_need_event(RING_LOAD(*virtq_avail_event(vq->used, vq->size)),
                                new_idx, old);
    /* Flags: the device clears NO_NOTIFY when it has taken everything it saw,
     * so entries it has not used yet are ones it never saw. */
    return !(RING_LOAD(vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY) &&
           RING_LOAD(vq->used->idx) != vq->avail_idx;
}

bool virtq_kick(struct virtq *vq)
{
    uint16_t old = vq->kicked_idx, new_idx = vq->avail_idx;
    if (old == new_idx)
        return false;
    vq->kicked_idx = new_idx;
    if (!kick_needed(vq, old, new_idx)) {
        vq->stats.suppressed++;
        return false;
    }
    vq->stats.notifies++;
    vq->notified_idx = new_idx;
    vq->notify(vq->notify_ctx, vq->index);
    return true;
}

void virtq_kick_force(struct virtq *vq)
{
    vq->kicked_idx = vq->notified_idx = vq->avail_idx;
    vq->stats.forced++;
    vq->notify(vq->notify_ctx, vq->index);
}

void virtq_kick_drop(struct virtq *vq)
{
    vq->kicked_idx = vq->avail_idx;
}

/* ---------------------------------------------------------------- receiving used buffers
 */

uint16_t virtq_in_flight(const struct virtq *vq)
{
    return virtq_idx_diff(vq->avail_idx, vq->last_used);
}

bool virtq_has_used(const struct virtq *vq)
{
    return RING_LOAD(vq->used->idx) != vq->last_used;
}

/* Returns the chain at head to the free list; the device never rewrites
 * descriptors, so our NEXT links are still there to follow. */
static void free_chain(struct virtq *vq, uint16_t head)
{
    uint16_t cur = head, n = 1;
    while (RING_LOAD(vq->desc[cur].flags) & VIRTQ_DESC_F_NEXT) {
        cur = RING_LOAD(vq->desc[cur].next);
        KCHECK(cur < vq->size && ++n <= vq->size);
    }
    RING_STORE(vq->desc[cur].next, vq->free_head);
    vq->free_head = head;
    vq->num_free = (uint16_t)(vq->num_free + n);
}

void *virtq_get_used(struct virtq *vq, uint32_t *len)
{
    uint16_t used_idx = RING_LOAD(vq->used->idx);
    if (used_idx == vq->last_used)
        return NULL;
    /* A device can never have used more than we made available. */
    KCHECK(virtq_idx_diff(used_idx, vq->last_used) <= virtq_in_flight(vq));
    consume_barrier();
    volatile struct virtq_used_elem *e =
        &vq->used->ring[virtq_slot(vq->size, vq->last_used)];
    uint32_t id = RING_LOAD(e->id);
    KCHECK(id < vq->size && vq->cookies[id] != NULL);
    if (len)
        *len = RING_LOAD(e->len);
    void *cookie = vq->cookies[id];
    vq->cookies[id] = NULL;
    free_chain(vq, (uint16_t)id);
    vq->last_used++;
    vq->stats.used++;
    return cookie;
}

/* ---------------------------------------------------------------- interrupt suppression
 */

/* 2.6.7: without EVENT_IDX the flag asks for no interrupts. With it the driver
 * MUST leave flags at 0, and instead parks used_event just behind last_used: the
 * device only interrupts when its index crosses used_event, which is at least
 * 65536 - size entries away. */
void virtq_disable_cb(struct virtq *vq)
{
    vq->cb_disabled = true;
    if (vq->event_idx)
        RING_STORE(*virtq_used_event(vq->avail, vq->size), (uint16_t)(vq->last_used - 1));
    else
        RING_STORE(vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    note_shared_store();
}

/* Asks for an interrupt once the used index passes event (the store half). */
static void arm_at(struct virtq *vq, uint16_t event)
{
    vq->cb_disabled = false;
    if (vq->event_idx)
        RING_STORE(*virtq_used_event(vq->avail, vq->size), event);
    else
        RING_STORE(vq->avail->flags, 0);
    note_shared_store();
}

/* The load half: used entries that arrived before the device saw the request
 * raise no interrupt, so look for them after the ordering point. */
static bool check_armed(struct virtq *vq)
{
    store_load_barrier(vq);
    uint16_t event = RING_LOAD(*virtq_used_event(vq->avail, vq->size));
    if (!vq->event_idx)
        event = vq->last_used;
    return virtq_idx_diff(RING_LOAD(vq->used->idx), vq->last_used) <=
           virtq_idx_diff(event, vq->last_used);
}

void virtq_arm_cb(struct virtq *vq)
{
    arm_at(vq, vq->last_used);
}

bool virtq_armed_check(struct virtq *vq)
{
    return check_armed(vq);
}

/* event = last_used: interrupt on the very next used entry. */
bool virtq_enable_cb(struct virtq *vq)
{
    arm_at(vq, vq->last_used);
    return check_armed(vq);
}

bool virtq_enable_cb_delayed(struct virtq *vq)
{
    if (!vq->event_idx)
        return virtq_enable_cb(vq);
    uint16_t wait_for = (uint16_t)(virtq_in_flight(vq) * 3 / 4);
    arm_at(vq, (uint16_t)(vq->last_used + wait_for));
    return check_armed(vq);
}

/* ---------------------------------------------------------------- liveness checks */

uint16_t virtq_device_used_idx(const struct virtq *vq)
{
    return RING_LOAD(vq->used->idx);
}

bool virtq_kick_owed(struct virtq *vq)
{
    if (vq->avail_idx == vq->notified_idx)
        return false;
    store_load_barrier(vq);
    if (vq->event_idx)
        return virtq_need_event(RING_LOAD(*virtq_avail_event(vq->used, vq->size)),
                                vq->avail_idx, vq->notified_idx);
    /* Flags: the device clears NO_NOTIFY when it has taken everything it saw,
     * so entries it has not used yet are ones it never saw. */
    return !(RING_LOAD(vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY) &&
           RING_LOAD(vq->used->idx) != vq->avail_idx;
}

bool virtq_interrupt_due(const struct virtq *vq)
{
    if (vq->cb_disabled)
        return false;
    uint16_t used = RING_LOAD(vq->used->idx);
    if (used == vq->last_used)
        return false;
    if (!vq->event_idx)
        return true;
    uint16_t event = RING_LOAD(*virtq_used_event(vq->avail, vq->size));
    /* The device crossed event: it went from at most event to beyond it. */
    return virtq_idx_diff(used, vq->last_used) > virtq_idx_diff(event, vq->last_used);
}
