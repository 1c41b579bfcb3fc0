/* TCP header and options on the wire (see net/wire/tcp.h). */
#include "net/wire/ipv4.h"
#include "net/wire/tcp.h"

enum tcp_wire_err tcp_header_check(const struct view *v)
{
    if (v->len < TCP_HDR_LEN)
        return TCP_WIRE_SHORT;
    uint32_t hl = tcp_get_hdr_len(view_data(v));
    if (hl < TCP_HDR_LEN || hl > v->len)
        return TCP_WIRE_BAD_OFF;
    return TCP_WIRE_OK;
}

enum tcp_wire_err tcp_header_parse(const struct view *v, struct ipv4_addr src,
                                   struct ipv4_addr dst, struct tcp_repr *r)
{
    enum tcp_wire_err e = tcp_header_check(v);
    if (e != TCP_WIRE_OK)
        return e;
    const uint8_t *p = view_data(v);
    if (v->len > 0xffff)
        return TCP_WIRE_SHORT;
    uint64_t s = ipv4_pseudo_sum(src, dst, IPV4_PROTO_TCP, (uint16_t)v->len);
    if (csum_fold(csum_add(s, p, v->len)) != 0xffff)
        return TCP_WIRE_BAD_CSUM;
    r->sport = net_rd16(p + TCP_OFF_SPORT);
    r->dport = net_rd16(p + TCP_OFF_DPORT);
    r->seq = net_rd32(p + TCP_OFF_SEQ);
    r->ack = net_rd32(p + TCP_OFF_ACK);
    r->hdr_len = (uint8_t)tcp_get_hdr_len(p);
    r->flags = tcp_get_flags(p);
    r->window = net_rd16(p + TCP_OFF_WND);
    r->csum = net_rd16(p + TCP_OFF_CSUM);
    r->urg = net_rd16(p + TCP_OFF_URG);
    return TCP_WIRE_OK;
}

/* ------------------------------------------------------------ options in */

/* One option of kind k with its length byte l and body b (l - 2 bytes). */
static void parse_one(uint8_t k, uint8_t l, const uint8_t *b, struct tcp_opts *o)
{
    switch (k) {
    case TCP_OPT_MSS:
        if (l != TCP_OPTLEN_MSS)
            goto bad;
        o->mss = net_rd16(b);
        o->present |= TCP_OPTF_MSS;
        return;
    case TCP_OPT_WS:
        if (l != TCP_OPTLEN_WS)
            goto bad;
        o->wscale = b[0] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : b[0];
        o->present |= TCP_OPTF_WS;
        return;
    case TCP_OPT_SACK_PERM:
        if (l != TCP_OPTLEN_SACK_PERM)
            goto bad;
        o->present |= TCP_OPTF_SACK_PERM;
        return;
    case TCP_OPT_SACK:
        if (l < 10 || (l - 2) % 8 != 0 || (l - 2) / 8 > TCP_MAX_SACK)
            goto bad;
        o->nsack = (uint8_t)((l - 2) / 8);
        for (int i = 0; i < o->nsack; i++) {
            o->sack[i].start = net_rd32(b + 8 * i);
            o->sack[i].end = net_rd32(b + 8 * i + 4);
        }
        o->present |= TCP_OPTF_SACK;
        return;
    case TCP_OPT_TS:
        if (l != TCP_OPTLEN_TS)
            goto bad;
        o->ts_val = net_rd32(b);
        o->ts_ecr = net_rd32(b + 4);
        o->present |= TCP_OPTF_TS;
        return;
    default:
        o->unknown++;
        return;
    }
bad:
    o->bad++;
}

void tcp_options_parse(const uint8_t *p, uint32_t len, struct tcp_opts *o)
{
    o->present = 0;
    o->nsack = 0;
    o->unknown = 0;
    o->bad = 0;
    uint32_t i = 0;
    while (i < len) {
        uint8_t k = p[i];
        if (k == TCP_OPT_EOL)
            return;
        if (k == TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2 || p[i + 1] < 2 || p[i + 1] > len - i) {
            o->bad++; /* no trustworthy length: nothing after it can be read */
            return;
        }
        parse_one(k, p[i + 1], p + i + 2, o);
        i += p[i + 1];
    }
}

/* ------------------------------------------------------------ options out */

static uint32_t sack_room(const struct tcp_opts *o, uint32_t used, uint32_t room)
{
    if (!(o->present & TCP_OPTF_SACK) || o->nsack == 0)
        return 0;
    uint32_t left = room > TCP_MAX_OPT_LEN ? TCP_MAX_OPT_LEN : room;
    if (used + 4 + 8 > left)
        return 0;
    uint32_t n = (left - used - 4) / 8;
    return n < o->nsack ? n : o->nsack;
}

static uint32_t syn_len(const struct tcp_opts *o)
{
    uint32_t n = 0;
    if (o->present & TCP_OPTF_MSS)
        n += 4;
    if (o->present & TCP_OPTF_TS)
        n += 12; /* SACK-permitted takes the place of the two NOPs */
    else if (o->present & TCP_OPTF_SACK_PERM)
        n += 4;
    if (o->present & TCP_OPTF_WS)
        n += 4;
    return n;
}

uint32_t tcp_options_len(const struct tcp_opts *o, bool syn)
{
    if (syn)
        return syn_len(o);
    uint32_t n = (o->present & TCP_OPTF_TS) ? 12 : 0;
    uint32_t k = sack_room(o, n, TCP_MAX_OPT_LEN);
    return n + (k ? 4 + 8 * k : 0);
}

static uint8_t *put_ts(uint8_t *p, const struct tcp_opts *o)
{
    p[0] = TCP_OPT_TS;
    p[1] = TCP_OPTLEN_TS;
    net_wr32(p + 2, o->ts_val);
    net_wr32(p + 6, o->ts_ecr);
    return p + TCP_OPTLEN_TS;
}

/* Linux's layout, which middleboxes know: MSS, SACK-permitted + timestamps (or
 * NOP NOP + either), NOP + window scale. */
static uint32_t emit_syn(const struct tcp_opts *o, uint8_t *p)
{
    uint8_t *q = p;
    if (o->present & TCP_OPTF_MSS) {
        q[0] = TCP_OPT_MSS;
        q[1] = TCP_OPTLEN_MSS;
        net_wr16(q + 2, o->mss);
        q += 4;
    }
    if (o->present & TCP_OPTF_TS) {
        if (o->present & TCP_OPTF_SACK_PERM) {
            q[0] = TCP_OPT_SACK_PERM;
            q[1] = TCP_OPTLEN_SACK_PERM;
        } else {
            q[0] = q[1] = TCP_OPT_NOP;
        }
        q = put_ts(q + 2, o);
    } else if (o->present & TCP_OPTF_SACK_PERM) {
        q[0] = q[1] = TCP_OPT_NOP;
        q[2] = TCP_OPT_SACK_PERM;
        q[3] = TCP_OPTLEN_SACK_PERM;
        q += 4;
    }
    if (o->present & TCP_OPTF_WS) {
        q[0] = TCP_OPT_NOP;
        q[1] = TCP_OPT_WS;
        q[2] = TCP_OPTLEN_WS;
        q[3] = o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale;
        q += 4;
    }
    return (uint32_t)(q - p);
}

uint32_t tcp_options_emit(const struct tcp_opts *o, bool syn, uint8_t *p, uint32_t room)
{
    if (syn) {
        uint32_t n = syn_len(o);
        return n <= room ? emit_syn(o, p) : 0;
    }
    uint8_t *q = p;
    uint32_t used = (o->present & TCP_OPTF_TS) ? 12 : 0;
    if (used > room)
        return 0;
    if (used) {
        q[0] = q[1] = TCP_OPT_NOP;
        q = put_ts(q + 2, o);
    }
    uint32_t k = sack_room(o, used, room);
    if (k) {
        q[0] = q[1] = TCP_OPT_NOP;
        q[2] = TCP_OPT_SACK;
        q[3] = (uint8_t)(2 + 8 * k);
        for (uint32_t i = 0; i < k; i++) {
            net_wr32(q + 4 + 8 * i, o->sack[i].start);
            net_wr32(q + 8 + 8 * i, o->sack[i].end);
        }
        q += 4 + 8 * k;
    }
    return (uint32_t)(q - p);
}

uint16_t tcp_checksum(struct ipv4_addr src, struct ipv4_addr dst, const uint8_t *hdr,
                      uint32_t hdr_len, const struct view *payload, int n)
{
    uint32_t len = hdr_len + view_list_len(payload, n);
    uint64_t s = ipv4_pseudo_sum(src, dst, IPV4_PROTO_TCP, (uint16_t)len);
    s = csum_add(s, hdr, hdr_len);
    s = csum_views(s, payload, n);
    return csum_finish(s);
}

const char *tcp_flags_fmt(uint8_t flags, char *buf)
{
    static const char *const names[8] = {"FIN", "SYN", "RST", "PSH",
                                         "ACK", "URG", "ECE", "CWR"};
    char *q = buf;
    *q = 0;
    for (int i = 0; i < 8; i++) {
        if (!(flags & (1u << i)))
            continue;
        if (q != buf)
            *q++ = ',';
        for (const char *s = names[i]; *s;)
            *q++ = *s++;
        *q = 0;
    }
    if (q == buf) {
        buf[0] = '-';
        buf[1] = 0;
    }
    return buf;
}
