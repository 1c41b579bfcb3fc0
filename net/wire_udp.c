/* UDP header parse/emit and checksum (see net/wire/udp.h). */
#include "net/wire/ipv4.h"
#include "net/wire/udp.h"

enum udp_wire_err udp_header_parse(const struct view *v, struct ipv4_addr src,
                                   struct ipv4_addr dst, struct udp_repr *r)
{
    if (v->len < UDP_HDR_LEN)
        return UDP_WIRE_SHORT;
    const uint8_t *p = view_data(v);
    uint16_t len = net_rd16(p + UDP_OFF_LEN);
    if (len < UDP_HDR_LEN || len > v->len)
        return UDP_WIRE_BAD_LEN;
    uint16_t csum = net_rd16(p + UDP_OFF_CSUM);
    if (csum != 0) {
        uint64_t s = ipv4_pseudo_sum(src, dst, IPV4_PROTO_UDP, len);
        if (csum_fold(csum_add(s, p, len)) != 0xffff)
            return UDP_WIRE_BAD_CSUM;
    }
    r->sport = net_rd16(p + UDP_OFF_SPORT);
    r->dport = net_rd16(p + UDP_OFF_DPORT);
    r->len = len;
    r->csum = csum;
    return UDP_WIRE_OK;
}

void udp_header_emit(const struct udp_repr *r, uint8_t *p)
{
    net_wr16(p + UDP_OFF_SPORT, r->sport);
    net_wr16(p + UDP_OFF_DPORT, r->dport);
    net_wr16(p + UDP_OFF_LEN, r->len);
    net_wr16(p + UDP_OFF_CSUM, r->csum);
}

uint16_t udp_checksum(struct ipv4_addr src, struct ipv4_addr dst, const uint8_t *hdr,
                      const struct view *payload, int n)
{
    uint64_t s = ipv4_pseudo_sum(src, dst, IPV4_PROTO_UDP, net_rd16(hdr + UDP_OFF_LEN));
    s = csum_add8(s, hdr);
    s = csum_views(s, payload, n);
    uint16_t c = csum_finish(s);
    return c == 0 ? 0xffff : c;
}
