/* The checker's guest (vq_check.h): the real data path (drivers/vnet_datapath.c,
 * included here) on the real scheduler, with
 *   - a device thread doing what virtio_net.c's does: vnet_service turns, then
 *     sleep until an interrupt or the turn's deadline (restated in
 *     device_thread: virtio_net.c itself is not host-built);
 *   - a stack that takes each frame and lets it go at once (which re-posts the
 *     buffer) or reflects it (vnet_reflect_input: the RX buffer goes out on TX);
 *   - optionally a sender thread (vnet_tx_alloc + vnet_tx_send, which may wait
 *     for TX space);
 *   - virtio_net.c's MSI-X interrupt handlers, taken when the guest has
 *     interrupts unmasked;
 * and the end of a run: the idle hook (every guest thread asleep), the verdict,
 * the checks on what went through. */
#include <stdio.h>
#include <string.h>

#include "drivers/vnet_datapath.c"
#include "tests/unit/host_plat.h"
#include "tests/unit/vq_check.h"

/* tests/unit/virtq_model_tu.c */
bool virtq_model_fence_owed(void);

#define STACK_BYTES (32 * 1024)
#define SENDER_ID0 1000 /* the sender's frames are numbered from here */
#define TIME_BOUND_NS (5ull * 1000000000ull)

struct ck_config ck_cfg;
struct ck_run ck_run;
struct vnet_dev ck_dev;
struct qm_dev ck_dm;

const char *const ck_verdict_name[V_COUNT] = {
    "none",         "done",  "lost RX interrupt", "lost TX interrupt", "lost RX kick",
    "lost TX kick", "stuck", "not recovered",
};

/* ---------------------------------------------------------------- DMA memory */

/* A static arena: the same addresses in every run (state hashes compare them). */
#define ARENA_BYTES (1u << 20)
static uint8_t arena[ARENA_BYTES] __attribute__((aligned(4096)));
static size_t arena_used;

static void *arena_alloc(size_t size, size_t align, int fill)
{
    size_t at = (arena_used + align - 1) & ~(align - 1);
    KCHECK(at + size <= ARENA_BYTES);
    arena_used = at + size;
    memset(arena + at, fill, size);
    return arena + at;
}

void *dma_alloc(size_t size, size_t align)
{
    return arena_alloc(size, align, 0);
}

/* Packet buffers are not zeroed in the kernel: garbage here. */
void *dma_alloc_buffers(size_t size)
{
    return arena_alloc(size, 64, 0xA5);
}

/* ---------------------------------------------------------------- interrupts */

/* virtio_net.c's MSI-X handlers: RX wakes the device thread, TX the senders too.
 * TCG takes its big lock to deliver one: the store buffer drains. */
static void take_interrupt(int qi)
{
    ck_dm.irq[qi] = false;
    if (!ck_cfg.irq_keeps_buffer)
        ck_sb_drain_all();
    ck_ev(EV_IRQ, qi, 0, 0, 0, NULL);
    ck_dev.interrupts++;
    ck_dev.irq_pending = true;
    ck_run.woken += waitq_wake_one(&ck_dev.wq);
    if (qi == QM_TXQ)
        ck_run.woken += waitq_wake_all(&ck_dev.tx_wq);
}

/* Raised interrupts are taken as soon as the guest has them unmasked. */
void ck_take_interrupts(void)
{
    if (host_irq_masked() && !ck_run.at_idle)
        return;
    for (int qi = 0; qi < 2; qi++)
        if (ck_dm.irq[qi])
            take_interrupt(qi);
}

static void on_unmask(void)
{
    static bool inside;
    if (inside)
        return;
    inside = true;
    ck_take_interrupts();
    inside = false;
}

/* ---------------------------------------------------------------- the guest */

static int frame_id(const struct netbuf *b, uint32_t off)
{
    return b->data[off + QM_ID_OFF] << 8 | b->data[off + QM_ID_OFF + 1];
}

/* The stack: each frame once, in the order the device wrote them (a device
 * reset, in watchdog runs, may lose some). */
static void stack_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len)
{
    int id = frame_id(b, off);
    ck_ev(EV_STACK, 0, 0, id, 0, NULL);
    KCHECK(len == QM_FRAME_LEN && id >= ck_run.rx_seen &&
           (id == ck_run.rx_seen || ck_dev.stats.resets));
    ck_run.rx_seen = id + 1;
    ck_run.rx_count++;
    if (ck_cfg.stack == STACK_REFLECT)
        vnet_reflect_input(nif, b, off, len);
    else
        netbuf_unref(b);
}

/* virtio_net.c's device thread (vnet_service turns, then sleep_until_irq). */
static void device_thread(void *arg)
{
    (void)arg;
    while (!ck_run.stop) {
        ck_ev(EV_TURN, 0, 0, 0, 0, NULL);
        uint64_t until = vnet_service(&ck_dev);
        if (until == VNET_AGAIN) {
            thread_yield();
            continue;
        }
        unsigned long f = plat_irq_save();
        if (!ck_dev.irq_pending && !ck_run.stop) {
            ck_ev(EV_SLEEP, 0, 0, 0, 0, NULL);
            waitq_wait(&ck_dev.wq, until);
        }
        plat_irq_restore(f);
    }
}

/* An application sending frames as fast as tx_send takes them. */
static void sender_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < ck_cfg.tx_frames && !ck_run.stop; i++) {
        ck_run.sender_phase = 0;
        struct netbuf *b = vnet_tx_alloc(&ck_dev.nif);
        if (!b)
            break; /* only when the run is over (the device is "down") */
        uint8_t *f = b->data + ck_dev.nif.tx_headroom;
        memset(f, 0xCD, QM_FRAME_LEN);
        f[QM_ID_OFF] = (uint8_t)((SENDER_ID0 + i) >> 8);
        f[QM_ID_OFF + 1] = (uint8_t)(SENDER_ID0 + i);
        ck_ev(EV_SEND, 0, 0, SENDER_ID0 + i, 0, NULL);
        ck_run.sender_phase = 1;
        if (vnet_tx_send(&ck_dev.nif, b, QM_FRAME_LEN, NULL, 0) != NETIF_OK)
            break;
        ck_run.tx_sent++;
        thread_yield();
    }
    ck_run.sender_done = true;
}

/* Device reset (the watchdog's last resort): status 0 is an I/O write. */
static void hw_stop(struct vnet_dev *d)
{
    (void)d;
    ck_io_access();
    ck_ev(EV_RESET, 0, 0, 0, 0, NULL);
    qm_reset(&ck_dm);
}

static bool hw_start(struct vnet_dev *d)
{
    (void)d;
    return true;
}

static void queue_init(struct virtq *vq, uint16_t index, uint16_t size)
{
    struct virtq_layout l;
    virtq_layout(size, VIRTQ_ALIGN_MODERN, &l);
    struct virtq_config c = {
        .index = index,
        .size = size,
        .mem = dma_alloc(l.total, 4096),
        .used_align = VIRTQ_ALIGN_MODERN,
        .cookies = dma_alloc(sizeof(void *) * size, 8),
        .event_idx = ck_cfg.event_idx,
        .notify = ck_notify,
        .fence = ck_cfg.fence == FENCE_HONOURED ? ck_io_fence : NULL,
    };
    virtq_init(vq, &c);
    ck_fields_init(index == VNET_TXQ ? QM_TXQ : QM_RXQ, vq);
}

/* The device as virtio_net.c brings it up: RX buffers posted, TX interrupts off,
 * DRIVER_OK, the first RX kick; then the threads start. */
static void guest_init(void)
{
    static const struct netif_ops ops = {vnet_tx_alloc, vnet_tx_send};
    static const struct vnet_hw_ops hw = {hw_stop, hw_start};
    struct vnet_dev *dev = &ck_dev;
    memset(dev, 0, sizeof *dev);
    queue_init(&dev->rxq, VNET_RXQ, ck_cfg.rx_size);
    queue_init(&dev->txq, VNET_TXQ, ck_cfg.tx_size);
    dev->hw = &hw;
    dev->hdr_len = VNET_HDR_LEN_V1;
    dev->max_frame = VNET_ETH_HDR + VNET_VLAN_ALLOW + 1500;
    dev->up = true;
    dev->nif.ops = &ops;
    dev->nif.drv = dev;
    dev->nif.tx_headroom = dev->hdr_len;
    dev->nif.input = stack_input;
    if (ck_cfg.fault_kick) {
        dev->fault = VNET_FAULT_TX_WEDGE;
        dev->fault_at = 1;
    }
    KCHECK(vnet_rx_pool_init(dev) && vnet_tx_pool_init(dev));
    virtq_disable_cb(&dev->txq);

    struct qm_dev *dm = &ck_dm;
    memset(dm, 0, sizeof *dm);
    qm_attach(&dm->q[QM_RXQ], &dev->rxq);
    qm_attach(&dm->q[QM_TXQ], &dev->txq);
    dm->hdr_len = dev->hdr_len;
    dm->burst = ck_cfg.burst;
    dm->busy_max = ck_cfg.busy_max;
    dm->rx_frames = ck_cfg.rx_frames;
    dm->note = ck_device_note;
    virtq_kick(&dev->rxq);
}

/* ---------------------------------------------------------------- state hashing */

/* FNV-1a style, eight bytes at a time. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (; n; n--, b++)
        h = (h ^ *b) * 1099511628211ull;
    return h;
}

#define FNV0 1469598103934665603ull

static uint64_t hash_rings(uint64_t h)
{
    const struct virtq *q[2] = {&ck_dev.rxq, &ck_dev.txq};
    for (int i = 0; i < 2; i++) {
        struct virtq_layout l;
        virtq_layout(q[i]->size, VIRTQ_ALIGN_MODERN, &l);
        h = fnv(h, q[i]->mem, l.total);
        h = fnv(h, q[i]->cookies, sizeof(void *) * q[i]->size);
    }
    struct qm_dev d = ck_dm;
    d.note = NULL;
    d.note_ctx = NULL;
    return fnv(h, &d, sizeof d);
}

static uint64_t hash_pool(uint64_t h, const struct netbuf *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t v[2] = {b[i].refs, (uint32_t)frame_id(&b[i], ck_dev.hdr_len)};
        h = fnv(h, v, sizeof v);
    }
    return h;
}

/* Everything the rest of a run depends on, once every guest thread sleeps
 * (their stacks hold nothing else: the device thread sleeps in its loop, the
 * sender in tx_alloc or tx_send, which sender_phase tells apart; the clock
 * has not moved: runs are only pruned before a timer fires). */
uint64_t ck_idle_state(void)
{
    const struct vnet_dev *dev = &ck_dev;
    uint64_t h = hash_rings(FNV0);
    struct vnet_dev v = *dev;
    memset(&v.wq, 0, sizeof v.wq);
    memset(&v.tx_wq, 0, sizeof v.tx_wq);
    memset(&v.stats, 0, sizeof v.stats);
    memset(&v.rxq.stats, 0, sizeof v.rxq.stats);
    memset(&v.txq.stats, 0, sizeof v.txq.stats);
    v.stats.tx_packets = dev->stats.tx_packets; /* the fault injection counts them */
    h = fnv(h, &v, sizeof v);
    h = hash_pool(h, dev->rx_bufs, dev->rx_nbufs);
    h = hash_pool(h, dev->tx_bufs, dev->tx_nbufs);
    h = fnv(h, dev->tx_free, sizeof dev->tx_free[0] * dev->tx_nbufs);
    h = fnv(h, dev->slots, sizeof dev->slots[0] * dev->nslots);
    int g[6] = {virtq_model_fence_owed(), ck_run.rx_count,     ck_run.tx_sent,
                ck_run.sender_done,       ck_run.sender_phase, (int)plat_now_ns()};
    return fnv(h, g, sizeof g);
}

/* A fingerprint of the final state (rings, device, driver indices): how many
 * different ends the schedules reached. */
uint64_t ck_final_state(void)
{
    uint64_t h = hash_rings(FNV0);
    const struct virtq *q[2] = {&ck_dev.rxq, &ck_dev.txq};
    for (int i = 0; i < 2; i++) {
        uint16_t v[5] = {q[i]->avail_idx, q[i]->last_used, q[i]->kicked_idx,
                         q[i]->notified_idx, q[i]->num_free};
        h = fnv(h, v, sizeof v);
    }
    int w[4] = {ck_run.verdict, ck_run.rx_count, ck_run.tx_sent, (int)ck_dev.rx_posted};
    return fnv(h, w, sizeof w);
}

/* ---------------------------------------------------------------- verdicts */

/* Has the device gone past the event the driver armed (it owes an interrupt)?
 * Read from memory: the store buffer is empty when the guest idles. */
static bool interrupt_owed(const struct virtq *vq)
{
    uint16_t used = vq->used->idx;
    if (used == vq->last_used || vq->cb_disabled)
        return false;
    if (!vq->event_idx)
        return true;
    uint16_t event = *virtq_used_event(vq->avail, vq->size);
    return virtq_idx_diff(used, vq->last_used) > virtq_idx_diff(event, vq->last_used);
}

/* Frames may be lost to a device reset or a sender giving up (watchdog runs). */
static bool lossy(void)
{
    return ck_dev.stats.resets || ck_dev.stats.tx_timeouts;
}

static bool work_done(void)
{
    return (ck_run.rx_count == ck_cfg.rx_frames || lossy()) &&
           ck_dm.rx_next == ck_cfg.rx_frames && !ck_dm.rx_queued &&
           (ck_cfg.tx_frames == 0 || ck_run.sender_done) &&
           ck_dev.txq.avail->idx == ck_dm.q[QM_TXQ].last_avail_idx;
}

/* Every guest thread asleep, the device with nothing to do: is that the end? */
static enum ck_verdict verdict(void)
{
    const struct virtq *rx = &ck_dev.rxq, *tx = &ck_dev.txq;
    if (interrupt_owed(rx) || rx->used->idx != rx->last_used)
        return V_LOST_RX_IRQ;
    if (interrupt_owed(tx))
        return V_LOST_TX_IRQ;
    if (ck_dm.rx_queued && rx->avail->idx != ck_dm.q[QM_RXQ].last_avail_idx)
        return V_LOST_RX_KICK;
    if (tx->avail->idx != ck_dm.q[QM_TXQ].last_avail_idx)
        return V_LOST_TX_KICK;
    return work_done() ? V_DONE : V_STUCK;
}

/* The run is over: every thread leaves its loop (the device reads as down). */
static void end_run(enum ck_verdict v)
{
    ck_run.verdict = v;
    ck_ev(EV_END, 0, 0, 0, 0, ck_verdict_name[v]);
    ck_run.stop = true;
    ck_dev.up = false;
    ck_run.woken += waitq_wake_all(&ck_dev.wq);
    ck_run.woken += waitq_wake_all(&ck_dev.tx_wq);
}

/* Nothing can happen but a timer. Without timers that is the end; with them
 * (watchdog runs) a wedge lets the clock run to the next deadline, up to a
 * bound. Returns true when the run ended. */
static bool at_rest(uint64_t deadline)
{
    enum ck_verdict v = verdict();
    if (v == V_DONE || !ck_cfg.watchdog) {
        end_run(v);
        return true;
    }
    if (!ck_run.wedge) {
        ck_run.wedge = v;
        ck_run.wedge_at = plat_now_ns();
    }
    if (deadline == SCHED_FOREVER || deadline > TIME_BOUND_NS) {
        end_run(V_UNRECOVERED);
        return true;
    }
    ck_ev(EV_TIMER, 0, 0, (int32_t)(deadline / 1000000), 0, NULL);
    return false;
}

/* plat_idle_until's hook: the guest halts (its store buffer drains); the device
 * acts until an interrupt wakes a thread, or nothing more can happen. */
static bool idle_hook(uint64_t deadline, void *arg)
{
    (void)arg;
    if (ck_run.stop) { /* a thread went back to sleep while leaving: wake it again */
        ck_run.woken = 0;
        end_run(ck_run.verdict);
        return ck_run.woken > 0;
    }
    ck_interleave(NULL); /* the device may act before the vCPU gets to its hlt */
    ck_run.at_idle = true;
    ck_sb_drain_all();
    ck_ev(EV_IDLE, 0, 0, 0, 0, NULL);
    ck_run.woken = 0;
    ck_take_interrupts();
    if (!ck_run.woken)
        ck_prune_check();
    bool woke = ck_env_at_idle() || at_rest(deadline);
    ck_run.at_idle = false;
    return woke;
}

/* ---------------------------------------------------------------- one run */

/* What left the device: each frame once, in order; at the end, all of them. */
static void check_sent_frames(void)
{
    int next_sender = SENDER_ID0, next_reflected = 0, sent = 0, reflected = 0;
    for (int i = 0; i < ck_dm.ntx; i++) {
        int id = ck_dm.tx_ids[i];
        if (id >= SENDER_ID0) {
            KCHECK(id == next_sender || (id > next_sender && lossy()));
            next_sender = id + 1;
            sent++;
        } else {
            KCHECK(ck_cfg.stack == STACK_REFLECT && id >= next_reflected &&
                   id < ck_run.rx_seen);
            next_reflected = id + 1;
            reflected++;
        }
    }
    if (ck_run.verdict != V_DONE || lossy())
        return;
    KCHECK(sent == ck_cfg.tx_frames && ck_run.tx_sent == ck_cfg.tx_frames);
    if (ck_cfg.stack == STACK_REFLECT)
        KCHECK((uint64_t)reflected + ck_dev.stats.tx_busy_drops ==
               (uint64_t)ck_run.rx_count);
    else
        KCHECK(ck_dev.rx_posted == ck_dev.rx_nbufs);
}

void ck_run_one(void)
{
    memset(&ck_run, 0, sizeof ck_run);
    ck_mem_reset();
    arena_used = 0;
    ck_sched.depth = 0;
    host_clock_set(0);
    host_set_idle_hook(idle_hook, NULL);
    host_set_unmask_hook(on_unmask);
    sched_init();
    guest_init();
    ck_run.budget = ck_cfg.preempt;
    ck_run.on = true;
    struct thread *t = thread_spawn("vnet0", device_thread, NULL, STACK_BYTES);
    struct thread *s = ck_cfg.tx_frames
                           ? thread_spawn("sender", sender_thread, NULL, STACK_BYTES)
                           : NULL;
    KCHECK(t != NULL && (s != NULL || !ck_cfg.tx_frames));
    thread_join(t, NULL);
    if (s)
        thread_join(s, NULL);
    ck_run.on = false;
    host_set_idle_hook(NULL, NULL);
    host_set_unmask_hook(NULL);
    KCHECK(ck_run.verdict != V_NONE);
    check_sent_frames();
}
