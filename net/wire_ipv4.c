/* IPv4 header parse/emit (see net/wire/ipv4.h). The checks run in the order the
 * contract fixes, each before anything past it is read. */
#include "net/wire/ipv4.h"

/* Options: EOL ends the list, NOP is one byte, every other option has a length
 * byte that must be >= 2 and stay inside the header. Contents are ignored. */
static bool options_ok(const uint8_t *p, unsigned hdr_len)
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
    if (v->len < IPV4_HDR_LEN)
        return IPV4_WIRE_SHORT;
    const uint8_t *p = view_data(v);
    uint8_t vi = p[IPV4_OFF_VER_IHL];
    if ((vi >> 4) != 4)
        return IPV4_WIRE_BAD_VERSION;
    unsigned hdr_len = (vi & 0xfu) * 4;
    if (hdr_len < IPV4_HDR_LEN)
        return IPV4_WIRE_BAD_HDR_LEN;
    unsigned total = net_rd16(p + IPV4_OFF_TOTAL_LEN);
    if (hdr_len > total)
        return IPV4_WIRE_BAD_HDR_LEN;
    if (total > v->len)
        return IPV4_WIRE_TRUNCATED;
    if (csum_fold(csum_add(0, p, hdr_len)) != 0xffff)
        return IPV4_WIRE_BAD_CSUM;
    if (hdr_len > IPV4_HDR_LEN && !options_ok(p, hdr_len))
        return IPV4_WIRE_BAD_OPTIONS;
    uint16_t frag = net_rd16(p + IPV4_OFF_FRAG);
    r->src = ipv4_addr_load(p + IPV4_OFF_SRC);
    r->dst = ipv4_addr_load(p + IPV4_OFF_DST);
    r->id = net_rd16(p + IPV4_OFF_ID);
    r->frag_off = (uint16_t)((frag & IPV4_FRAG_OFF_MASK) << 3);
    r->df = (frag & IPV4_FLAG_DF) != 0;
    r->mf = (frag & IPV4_FLAG_MF) != 0;
    r->tos = p[IPV4_OFF_TOS];
    r->ttl = p[IPV4_OFF_TTL];
    r->proto = p[IPV4_OFF_PROTO];
    r->hdr_len = (uint8_t)hdr_len;
    r->payload_len = (uint16_t)(total - hdr_len);
    return IPV4_WIRE_OK;
}

void ipv4_header_emit(const struct ipv4_repr *r, uint8_t *p)
{
    uint16_t frag = (uint16_t)((r->frag_off >> 3) | (r->df ? IPV4_FLAG_DF : 0) |
                               (r->mf ? IPV4_FLAG_MF : 0));
    p[IPV4_OFF_VER_IHL] = 0x45;
    p[IPV4_OFF_TOS] = r->tos;
    net_wr16(p + IPV4_OFF_TOTAL_LEN, (uint16_t)(IPV4_HDR_LEN + r->payload_len));
    net_wr16(p + IPV4_OFF_ID, r->id);
    net_wr16(p + IPV4_OFF_FRAG, frag);
    p[IPV4_OFF_TTL] = r->ttl;
    p[IPV4_OFF_PROTO] = r->proto;
    net_wr16(p + IPV4_OFF_CSUM, 0);
    ipv4_addr_store(p + IPV4_OFF_SRC, r->src);
    ipv4_addr_store(p + IPV4_OFF_DST, r->dst);
    net_wr16(p + IPV4_OFF_CSUM, csum_finish(csum_add(0, p, IPV4_HDR_LEN)));
}

const char *ipv4_wire_err_name(enum ipv4_wire_err e)
{
    static const char *const names[] = {"ok",          "short",     "bad_version",
                                        "bad_hdr_len", "truncated", "bad_csum",
                                        "bad_options"};
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "unknown";
}

const char *ipv4_proto_name(uint8_t proto)
{
    switch (proto) {
    case IPV4_PROTO_ICMP:
        return "icmp";
    case IPV4_PROTO_TCP:
        return "tcp";
    case IPV4_PROTO_UDP:
        return "udp";
    default:
        return "unknown";
    }
}
