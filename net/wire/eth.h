/* Ethernet II on the wire: field offsets, a length check, and parse/emit of a
 * small repr. No packed structs over packets. Pure functions, any context. */
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

/* false when the view is shorter than a header. */
bool eth_header_parse(const struct view *v, struct eth_repr *r);
/* Writes exactly ETH_HDR_LEN bytes at p. */
void eth_header_emit(const struct eth_repr *r, uint8_t *p);
const char *eth_type_name(uint16_t type);

#endif
