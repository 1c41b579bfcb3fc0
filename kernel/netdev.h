/* The contract between a network driver and the stack, which belongs to neither:
 * drivers/ (virtio-net) implements it, net/ consumes it, and neither includes the
 * other. It depends on nothing but kernel/platform.h.
 *
 * netbuf: a block of (in the kernel, DMA-capable and identity-mapped) memory with
 * a reference count; when the last reference goes, its owner's release hook takes
 * it back (an RX buffer is re-posted to its ring, a TX buffer returns to its
 * pool). Thread context only: interrupt handlers never touch reference counts.
 *
 * netif: a network interface as the stack sees it, what the driver or a test's
 * fake implements. The driver knows no protocol: it takes whole Ethernet frames
 * and hands whole Ethernet frames up.
 *
 * Receive: the driver calls netif->input(netif, buf, off, len) from its RX thread
 * with one reference on buf handed to the callee (who must netbuf_unref it when
 * done; keeping views keeps the reference). The frame is buf->data[off, off+len).
 *
 * Transmit: tx_alloc gives a buffer (refs = 1) whose bytes from
 * data + tx_headroom on are the caller's for at least NETIF_TX_BUF_BYTES; the caller
 * writes the frame there and calls tx_send, which consumes that reference and
 * appends extra segments after the first len bytes (scatter-gather). tx_send may
 * block the calling thread while the TX ring is full. */
#ifndef KERNEL_NETDEV_H
#define KERNEL_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"

/* ---------------------------------------------------------------- netbuf */

struct netbuf;
typedef void (*netbuf_release_fn)(struct netbuf *b);

struct netbuf {
    uint8_t *data;             /* start of the memory */
    uint32_t cap;              /* bytes at data */
    uint32_t refs;             /* live references; 0 = owned by its pool/ring */
    netbuf_release_fn release; /* called when refs drops to 0 */
    void *owner;               /* the pool or device the buffer belongs to */
    uint32_t tag;              /* owner's private index (descriptor id, ...) */
};

static inline void netbuf_ref(struct netbuf *b)
{
    KCHECK(b->refs > 0);
    b->refs++;
}

static inline void netbuf_unref(struct netbuf *b)
{
    KCHECK(b->refs > 0);
    if (--b->refs == 0)
        b->release(b);
}

/* One piece of a frame to transmit. buf may be NULL for memory the caller keeps
 * valid until tx completion is irrelevant (static data); otherwise the driver holds
 * a reference on buf until the device is done with the bytes. */
struct netbuf_seg {
    struct netbuf *buf;
    const uint8_t *p;
    uint32_t len;
};

/* ---------------------------------------------------------------- netif */

/* Frame bytes a TX buffer holds after the headroom: 14 (Ethernet) + 65535 would be
 * wasteful; one MTU-sized frame is the unit (fragmentation makes several). */
#define NETIF_TX_BUF_BYTES 1536

enum netif_err {
    NETIF_OK = 0,
    NETIF_ENOBUFS = 1, /* no TX buffer or descriptor could be had */
    NETIF_EDOWN = 2,   /* interface stopped */
    NETIF_EINVAL = 3,  /* frame too long or too many segments */
};

struct netif;

struct netif_ops {
    struct netbuf *(*tx_alloc)(struct netif *nif);
    enum netif_err (*tx_send)(struct netif *nif, struct netbuf *b, uint32_t len,
                              const struct netbuf_seg *extra, int nextra);
};

struct netif {
    const struct netif_ops *ops;
    void *drv; /* the driver's device */
    uint8_t mac[6];
    uint16_t mtu; /* IP MTU (1500 unless the device says otherwise) */
    bool link_up;
    uint32_t tx_headroom; /* bytes reserved at the start of each TX buffer */
    int max_segs;         /* most extra segments tx_send accepts */
    /* Set by the stack: frames from the driver. */
    void (*input)(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len);
    void *stack;      /* the stack's per-interface state */
    const char *name; /* "net0", ... */
};

#endif
