/* A network interface as the stack sees it: what the driver (drivers/virtio_net.c)
 * or a test's fake implements. The driver knows no protocol: it takes whole
 * Ethernet frames and hands whole Ethernet frames up.
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
#ifndef NETIF_H
#define NETIF_H

#include <stdbool.h>
#include <stdint.h>
#include "netbuf.h"

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
    void *drv;               /* the driver's device */
    uint8_t mac[6];
    uint16_t mtu;            /* IP MTU (1500 unless the device says otherwise) */
    bool link_up;
    uint32_t tx_headroom;    /* bytes reserved at the start of each TX buffer */
    int max_segs;            /* most extra segments tx_send accepts */
    /* Set by the stack: frames from the driver. */
    void (*input)(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len);
    void *stack;             /* the stack's per-interface state */
    const char *name;        /* "net0", ... */
};

#endif
