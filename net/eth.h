/* The Ethernet layer of the stack: accepts frames addressed to our MAC, broadcast
 * or a multicast group we subscribed to and carrying ARP or IPv4 (others counted
 * and dropped); writes Ethernet headers in place and sends frames through the
 * netif (padding short ones to 60 bytes). Thread context (the RX thread or a
 * writer); tx may block while the driver's TX ring is full. */
#ifndef NET_ETH_H
#define NET_ETH_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/netdev.h"
#include "kernel/platform.h"
#include "net/view.h"
#include "net/wire/eth.h"

#define ETH_MCAST_MAX 8

/* Set on frames that arrived as link-level broadcast or multicast. */
#define ETH_RX_BCAST 1u

/* (Counters bumped together are kept apart in the struct: gcc would otherwise
 * vectorise the pair into six instructions.) */
#define ETH_COUNTERS(X)                                                                  \
    X(rx_frames)                                                                         \
    X(rx_bytes)                                                                          \
    X(rx_arp)                                                                            \
    X(rx_bcast)                                                                          \
    X(rx_mcast)                                                                          \
    X(drop_short)                                                                        \
    X(drop_not_ours)                                                                     \
    X(drop_ethertype)                                                                    \
    X(tx_frames)                                                                         \
    X(tx_errors)                                                                         \
    X(tx_bytes)                                                                          \
    X(tx_padded)                                                                         \
    X(tx_no_buffer)

struct eth_stats {
    ETH_COUNTERS(COUNTER_FIELD)
};

struct eth {
    struct netif *nif;
    struct eth_addr mac;
    struct eth_addr mcast[ETH_MCAST_MAX];
    uint8_t mcast_refs[ETH_MCAST_MAX];
    struct eth_stats st;
};

void eth_init(struct eth *e, struct netif *nif);

/* RX: counts the frame and its bytes, checks the destination and the type. On
 * accept, narrows v to the payload and returns the type and flags (ETH_RX_BCAST);
 * type 0 = counted drop. v is borrowed. Inline for the common case (IPv4 to our
 * MAC); eth_rx_slow does the rest. */
struct eth_rx {
    uint16_t type;  /* 0: dropped */
    uint16_t flags; /* ETH_RX_BCAST */
};
struct eth_rx eth_rx_slow(struct eth *e, struct view *v);
static inline struct eth_rx eth_rx(struct eth *e, struct view *v)
{
    const uint8_t *f = view_data(v);
    e->st.rx_bytes += v->len;
    if (eth_check(v) && eth_dst_is(f, &e->mac) && eth_get_type(f) == ETH_TYPE_IPV4) {
        struct eth_rx r = {ETH_TYPE_IPV4, 0};
        e->st.rx_frames++;
        v->off += ETH_HDR_LEN;
        v->len -= ETH_HDR_LEN;
        return r;
    }
    return eth_rx_slow(e, v);
}

/* Subscriptions to multicast MACs (counted: joined twice, left twice). -1 when full
 * or not a multicast address. */
int eth_mcast_join(struct eth *e, const struct eth_addr *m);
void eth_mcast_leave(struct eth *e, const struct eth_addr *m);

/* A TX buffer from the netif (NULL, counted, when none); its frame starts at
 * eth_frame(e, b). */
static inline struct netbuf *eth_alloc(struct eth *e)
{
    struct netbuf *b = e->nif->ops->tx_alloc(e->nif);
    if (!b)
        e->st.tx_no_buffer++;
    return b;
}
static inline uint8_t *eth_frame(const struct eth *e, struct netbuf *b)
{
    return b->data + e->nif->tx_headroom;
}

/* Sends the frame of len bytes at eth_frame(e, b) plus extra segments; consumes
 * the reference on b. A frame shorter than 60 bytes without extra segments is
 * zero-padded. Inline: one per frame sent. */
static inline enum netif_err eth_send(struct eth *e, struct netbuf *b, uint32_t len,
                                      const struct netbuf_seg *extra, int nextra)
{
    uint32_t total = len;
    if (nextra == 0 && len < ETH_MIN_FRAME) {
        memset(eth_frame(e, b) + len, 0, ETH_MIN_FRAME - len);
        len = total = ETH_MIN_FRAME;
        e->st.tx_padded++;
    }
    for (int i = 0; i < nextra; i++)
        total += extra[i].len;
    enum netif_err err = e->nif->ops->tx_send(e->nif, b, len, extra, nextra);
    if (err != NETIF_OK) {
        e->st.tx_errors++;
        return err;
    }
    e->st.tx_frames++;
    e->st.tx_bytes += total;
    return NETIF_OK;
}

/* The registry of struct eth_stats. */
extern const struct counter_table eth_counter_table;

#endif
