/* Ethernet II on the wire: field offsets, a length check, parse/emit of a small
 * repr, and the two fields the receive fast path and ARP's queue touch alone (the
 * type; the destination of a frame built before its next hop was known). No
 * packed structs over packets. Pure functions, any context; inline, as every
 * frame goes through them. */
#ifndef NET_WIRE_ETH_H
#define NET_WIRE_ETH_H

#include <stdbool.h>
#include <stdint.h>

#include "net/addr.h"
#include "net/view.h"

#define ETH_HDR_LEN 14
#define ETH_MIN_FRAME 60 /* without FCS: shorter frames are zero-padded on send */
#define ETH_OFF_DST 0
#define ETH_OFF_SRC 6
#define ETH_OFF_TYPE 12

/* Ethertypes we know; others stay representable as the raw number. */
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806

struct eth_repr {
    struct eth_addr dst, src;
    uint16_t type;
};

static inline bool eth_check(const struct view *v)
{
    return v->len >= ETH_HDR_LEN;
}
static inline uint16_t eth_get_type(const uint8_t *f)
{
    return net_rd16(f + ETH_OFF_TYPE);
}
static inline bool eth_dst_is(const uint8_t *f, const struct eth_addr *a)
{
    return memcmp(f + ETH_OFF_DST, a->b, 6) == 0;
}
static inline void eth_set_dst(uint8_t *f, const struct eth_addr *dst)
{
    memcpy(f + ETH_OFF_DST, dst->b, 6);
}

/* false when the view is shorter than a header. */
static inline bool eth_header_parse(const struct view *v, struct eth_repr *r)
{
    if (!eth_check(v))
        return false;
    const uint8_t *p = view_data(v);
    memcpy(r->dst.b, p + ETH_OFF_DST, 6);
    memcpy(r->src.b, p + ETH_OFF_SRC, 6);
    r->type = eth_get_type(p);
    return true;
}

/* Writes exactly ETH_HDR_LEN bytes at p. */
static inline void eth_header_emit(const struct eth_repr *r, uint8_t *p)
{
    eth_set_dst(p, &r->dst);
    memcpy(p + ETH_OFF_SRC, r->src.b, 6);
    net_wr16(p + ETH_OFF_TYPE, r->type);
}

const char *eth_type_name(uint16_t type);

#endif
