/* virtio-net data path: RX buffer pool and drain (5.1.6.3, 5.1.6.4), TX buffer
 * pool, send and reclaim (5.1.6.2), and the reflector's input. Thread context
 * only (the device thread, or whichever thread sends). */
#include <string.h>

#include "drivers/vnet_dev.h"
#include "kernel/mem.h"
#include "kernel/platform.h"

#define TX_TIMEOUT_NS (2ull * 1000000000ull) /* a sender gives up after this */
#define TX_POLL_NS (50ull * 1000000ull)      /* backstop if an interrupt is missed */
#define BUF_ALIGN 64

static uint32_t round_up(uint32_t v, uint32_t a)
{
    return (v + a - 1) & ~(a - 1);
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

/* netbuf release hook: the stack let go of a received frame. Inside a drain the
 * kick waits for the end of the batch; otherwise the device hears now. */
static void rx_release(struct netbuf *b)
{
    struct vnet_dev *dev = b->owner;
    rx_post(dev, b);
    if (dev->in_drain)
        dev->rx_need_kick = true;
    else
        virtq_kick(&dev->rxq);
}

bool vnet_rx_pool_init(struct vnet_dev *dev)
{
    uint32_t per_buf = dev->split_hdr ? 2 : 1;
    dev->rx_nbufs = dev->rxq.size / per_buf;
    dev->rx_buf_bytes = round_up(dev->hdr_len + dev->max_frame, BUF_ALIGN);
    dev->rx_bufs = dma_alloc(sizeof(struct netbuf) * dev->rx_nbufs, BUF_ALIGN);
    /* One block for every buffer: dma_alloc hands out whole pages. */
    uint8_t *mem = dma_alloc((size_t)dev->rx_buf_bytes * dev->rx_nbufs, BUF_ALIGN);
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

int vnet_rx_drain(struct vnet_dev *dev, int budget)
{
    int n = 0;
    uint32_t len;
    struct netbuf *b;
    dev->in_drain = true;
    while (n < budget && (b = virtq_get_used(&dev->rxq, &len)) != NULL) {
        dev->rx_posted--;
        n++;
        rx_deliver(dev, b, len);
    }
    dev->in_drain = false;
    /* Ran dry: the device drops what arrives until buffers come back. */
    if (n > 0 && dev->rx_posted == 0)
        dev->stats.rx_nobuf++;
    if (dev->rx_need_kick) {
        dev->rx_need_kick = false;
        virtq_kick(&dev->rxq);
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
    uint8_t *mem = dma_alloc((size_t)dev->tx_buf_bytes * dev->tx_nbufs, BUF_ALIGN);
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
 * so a wakeup cannot slip in between. False once deadline has passed. */
static bool tx_wait(struct vnet_dev *dev, uint64_t deadline)
{
    dev->stats.tx_ring_full_waits++;
    dev->tx_waiters++;
    virtq_kick(&dev->txq); /* the device must know about what it holds */
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

/* ---------------------------------------------------------------- TX */

struct netbuf *vnet_tx_alloc(struct netif *nif)
{
    struct vnet_dev *dev = nif->drv;
    if (!dev->up)
        return NULL;
    uint64_t deadline = plat_now_ns() + TX_TIMEOUT_NS;
    vnet_tx_reclaim(dev);
    while (dev->tx_nfree == 0) {
        if (!tx_wait(dev, deadline) && dev->tx_nfree == 0) {
            dev->stats.tx_timeouts++;
            return NULL;
        }
    }
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
    /* Wait for descriptors first, so that a slot is only taken for a chain that
     * goes into the ring at once (slots in use == chains in the ring). */
    uint64_t deadline = plat_now_ns() + TX_TIMEOUT_NS;
    vnet_tx_reclaim(dev);
    while (virtq_num_free(&dev->txq) < n) {
        if (!tx_wait(dev, deadline) && virtq_num_free(&dev->txq) < n) {
            dev->stats.tx_timeouts++;
            netbuf_unref(b);
            return NETIF_ENOBUFS;
        }
    }
    memset(b->data, 0, dev->hdr_len);
    struct vnet_tx_slot *s = hold_bufs(dev, b, extra, nextra);
    enum virtq_err e = virtq_add(&dev->txq, v, n, 0, s, NULL);
    KCHECK(e == VIRTQ_OK);
    virtq_kick(&dev->txq);
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += len;
    for (int i = 0; i < nextra; i++)
        dev->stats.tx_bytes += extra[i].len;
    return NETIF_OK;
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
