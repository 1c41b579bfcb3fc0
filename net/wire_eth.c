/* Ethernet II header parse/emit (see net/wire/eth.h). */
#include "net/wire/eth.h"

bool eth_header_parse(const struct view *v, struct eth_repr *r)
{
    if (!eth_check(v))
        return false;
    const uint8_t *p = view_data(v);
    memcpy(r->dst.b, p + ETH_OFF_DST, 6);
    memcpy(r->src.b, p + ETH_OFF_SRC, 6);
    r->type = eth_get_type(p);
    return true;
}

void eth_header_emit(const struct eth_repr *r, uint8_t *p)
{
    memcpy(p + ETH_OFF_DST, r->dst.b, 6);
    memcpy(p + ETH_OFF_SRC, r->src.b, 6);
    net_wr16(p + ETH_OFF_TYPE, r->type);
}

const char *eth_type_name(uint16_t type)
{
    switch (type) {
    case ETH_TYPE_IPV4:
        return "ipv4";
    case ETH_TYPE_ARP:
        return "arp";
    case 0x86dd:
        return "ipv6";
    case 0x8100:
        return "vlan";
    default:
        return "unknown";
    }
}
