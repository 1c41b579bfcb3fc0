/* IPv4 header parse/emit (see net/wire/ipv4.h). The checks run in the order
 * docs/ipv4.md gives, each before anything past it is read. */
#include "net/wire/ipv4.h"

/* Options: EOL ends the list, NOP is one byte, every other option has a length
 * byte that must be >= 2 and stay inside the header. Contents are ignored. */
bool ipv4_options_ok(const uint8_t *p, unsigned hdr_len)
{
    unsigned i = IPV4_HDR_LEN;
    while (i < hdr_len) {
        uint8_t type = p[i];
        if (type == IPV4_OPT_EOL)
            return true;
        if (type == IPV4_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= hdr_len)
            return false; /* no room for the length byte */
        uint8_t len = p[i + 1];
        if (len < 2 || len > hdr_len - i)
            return false;
        i += len;
    }
    return true;
}

enum ipv4_wire_err ipv4_header_parse(const struct view *v, struct ipv4_repr *r)
{
    enum ipv4_wire_err e = ipv4_header_check(v);
    if (e == IPV4_WIRE_OK)
        ipv4_header_read(view_data(v), r);
    return e;
}

void ipv4_header_unfragment(uint8_t *p, uint16_t payload_len)
{
    unsigned hl = ipv4_get_hdr_len(p);
    net_wr16(p + IPV4_OFF_TOTAL_LEN, (uint16_t)(hl + payload_len));
    net_wr16(p + IPV4_OFF_FRAG, ipv4_get_frag(p) & IPV4_FLAG_DF);
    net_wr16(p + IPV4_OFF_CSUM, 0);
    net_wr16(p + IPV4_OFF_CSUM, csum_finish(csum_add(0, p, hl)));
}

void ipv4_header_read(const uint8_t *p, struct ipv4_repr *r)
{
    uint16_t frag = ipv4_get_frag(p);
    r->src = ipv4_get_src(p);
    r->dst = ipv4_get_dst(p);
    r->id = net_rd16(p + IPV4_OFF_ID);
    r->frag_off = (uint16_t)((frag & IPV4_FRAG_OFF_MASK) << 3);
    r->df = (frag & IPV4_FLAG_DF) != 0;
    r->mf = (frag & IPV4_FLAG_MF) != 0;
    r->tos = ipv4_get_tos(p);
    r->ttl = ipv4_get_ttl(p);
    r->proto = ipv4_get_proto(p);
    r->hdr_len = (uint8_t)ipv4_get_hdr_len(p);
    r->payload_len = (uint16_t)(ipv4_get_total_len(p) - r->hdr_len);
}
