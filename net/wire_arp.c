/* ARP packet parse/emit (see net/wire/arp.h). */
#include "net/wire/arp.h"
#include "net/wire/eth.h"

enum arp_wire_err arp_packet_parse(const struct view *v, struct arp_repr *r)
{
    if (v->len < ARP_PKT_LEN)
        return ARP_WIRE_SHORT;
    const uint8_t *p = view_data(v);
    if (net_rd16(p + ARP_OFF_HTYPE) != ARP_HTYPE_ETH)
        return ARP_WIRE_BAD_HTYPE;
    if (net_rd16(p + ARP_OFF_PTYPE) != ETH_TYPE_IPV4)
        return ARP_WIRE_BAD_PTYPE;
    if (p[ARP_OFF_HLEN] != 6 || p[ARP_OFF_PLEN] != 4)
        return ARP_WIRE_BAD_LEN;
    r->op = net_rd16(p + ARP_OFF_OP);
    memcpy(r->sha.b, p + ARP_OFF_SHA, 6);
    r->spa = ipv4_addr_load(p + ARP_OFF_SPA);
    memcpy(r->tha.b, p + ARP_OFF_THA, 6);
    r->tpa = ipv4_addr_load(p + ARP_OFF_TPA);
    return ARP_WIRE_OK;
}

void arp_packet_emit(const struct arp_repr *r, uint8_t *p)
{
    net_wr16(p + ARP_OFF_HTYPE, ARP_HTYPE_ETH);
    net_wr16(p + ARP_OFF_PTYPE, ETH_TYPE_IPV4);
    p[ARP_OFF_HLEN] = 6;
    p[ARP_OFF_PLEN] = 4;
    net_wr16(p + ARP_OFF_OP, r->op);
    memcpy(p + ARP_OFF_SHA, r->sha.b, 6);
    ipv4_addr_store(p + ARP_OFF_SPA, r->spa);
    memcpy(p + ARP_OFF_THA, r->tha.b, 6);
    ipv4_addr_store(p + ARP_OFF_TPA, r->tpa);
}
