/* The IPv4 header on the wire (RFC 791): offsets, flags, parse with the receive
 * checks in the order docs/ipv4.md gives (length, version, IHL, total length, checksum,
 * then a bounds-checked walk of the options), emit of an option-less header with
 * its checksum, and the pseudoheader sum TCP/UDP checksums start from.
 * Pure functions, any context. */
#ifndef NET_WIRE_IPV4_H
#define NET_WIRE_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include "net/addr.h"
#include "net/csum.h"
#include "net/view.h"

#define IPV4_HDR_LEN 20
#define IPV4_MAX_HDR_LEN 60
#define IPV4_MAX_DGRAM 65535
#define IPV4_OFF_VER_IHL 0
#define IPV4_OFF_TOS 1
#define IPV4_OFF_TOTAL_LEN 2
#define IPV4_OFF_ID 4
#define IPV4_OFF_FRAG 6
#define IPV4_OFF_TTL 8
#define IPV4_OFF_PROTO 9
#define IPV4_OFF_CSUM 10
#define IPV4_OFF_SRC 12
#define IPV4_OFF_DST 16

#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_OFF_MASK 0x1fff

#define IPV4_PROTO_ICMP 1
#define IPV4_PROTO_TCP 6
#define IPV4_PROTO_UDP 17

#define IPV4_OPT_EOL 0
#define IPV4_OPT_NOP 1

struct ipv4_repr {
    struct ipv4_addr src, dst;
    uint16_t id;
    uint16_t frag_off; /* in bytes (the field times 8) */
    bool df, mf;
    uint8_t tos, ttl, proto;
    uint8_t hdr_len;      /* IHL * 4 */
    uint16_t payload_len; /* total length - hdr_len */
};

/* Why a header was refused, in the order the checks run: X(ERR, name) makes
 * IPV4_WIRE_<ERR>; name is ipv4_wire_err_name's and the drop counter's
 * (ipv4.drop_<name>). */
#define IPV4_WIRE_ERRORS(X)                                                              \
    X(SHORT, short)             /* fewer than 20 bytes */                                \
    X(BAD_VERSION, bad_version) /* version != 4 */                                       \
    X(BAD_HDR_LEN, bad_hdr_len) /* IHL < 5, or IHL * 4 > total length */                 \
    X(TRUNCATED, truncated)     /* total length > bytes received */                      \
    X(BAD_CSUM, bad_csum)       /* header checksum */                                    \
    X(BAD_OPTIONS, bad_options) /* option length 0/1 or running past the header */

#define IPV4_WIRE_ENUM(err, name) IPV4_WIRE_##err,
enum ipv4_wire_err { IPV4_WIRE_OK = 0, IPV4_WIRE_ERRORS(IPV4_WIRE_ENUM) };

/* Validation only (all the checks above); after IPV4_WIRE_OK the getters below may
 * read the header at view_data(v). Inline: it runs for every datagram. */
static inline enum ipv4_wire_err ipv4_header_check(const struct view *v);
/* Check, then fill r. */
enum ipv4_wire_err ipv4_header_parse(const struct view *v, struct ipv4_repr *r);
/* Fills r from a header that already passed ipv4_header_check. */
void ipv4_header_read(const uint8_t *p, struct ipv4_repr *r);

static inline unsigned ipv4_get_hdr_len(const uint8_t *p)
{
    return (p[IPV4_OFF_VER_IHL] & 0xfu) * 4;
}
static inline uint16_t ipv4_get_total_len(const uint8_t *p)
{
    return net_rd16(p + IPV4_OFF_TOTAL_LEN);
}
static inline uint16_t ipv4_get_frag(const uint8_t *p)
{
    return net_rd16(p + IPV4_OFF_FRAG);
}
static inline uint8_t ipv4_get_proto(const uint8_t *p)
{
    return p[IPV4_OFF_PROTO];
}
static inline uint8_t ipv4_get_ttl(const uint8_t *p)
{
    return p[IPV4_OFF_TTL];
}
static inline uint8_t ipv4_get_tos(const uint8_t *p)
{
    return p[IPV4_OFF_TOS];
}
static inline struct ipv4_addr ipv4_get_src(const uint8_t *p)
{
    return ipv4_addr_load(p + IPV4_OFF_SRC);
}
static inline struct ipv4_addr ipv4_get_dst(const uint8_t *p)
{
    return ipv4_addr_load(p + IPV4_OFF_DST);
}
/* A fragment: MF set or a non-zero offset. */
static inline bool ipv4_is_fragment(const uint8_t *p)
{
    return (ipv4_get_frag(p) & (IPV4_FLAG_MF | IPV4_FRAG_OFF_MASK)) != 0;
}

/* The walk over options (out of line: rare). */
bool ipv4_options_ok(const uint8_t *p, unsigned hdr_len);

static inline enum ipv4_wire_err ipv4_header_check(const struct view *v)
{
    if (v->len < IPV4_HDR_LEN)
        return IPV4_WIRE_SHORT;
    const uint8_t *p = view_data(v);
    if (p[IPV4_OFF_VER_IHL] == 0x45) { /* the common case: version 4, no options */
        unsigned total = ipv4_get_total_len(p);
        if (total < IPV4_HDR_LEN)
            return IPV4_WIRE_BAD_HDR_LEN;
        if (total > v->len)
            return IPV4_WIRE_TRUNCATED;
        return csum_fold(csum_hdr20(p)) == 0xffff ? IPV4_WIRE_OK : IPV4_WIRE_BAD_CSUM;
    }
    if ((p[IPV4_OFF_VER_IHL] >> 4) != 4)
        return IPV4_WIRE_BAD_VERSION;
    unsigned hdr_len = ipv4_get_hdr_len(p);
    if (hdr_len < IPV4_HDR_LEN)
        return IPV4_WIRE_BAD_HDR_LEN;
    unsigned total = ipv4_get_total_len(p);
    if (hdr_len > total)
        return IPV4_WIRE_BAD_HDR_LEN;
    if (total > v->len)
        return IPV4_WIRE_TRUNCATED;
    if (hdr_len == IPV4_HDR_LEN)
        return csum_fold(csum_hdr20(p)) == 0xffff ? IPV4_WIRE_OK : IPV4_WIRE_BAD_CSUM;
    if (csum_fold(csum_add_words32(0, p, hdr_len / 4)) != 0xffff)
        return IPV4_WIRE_BAD_CSUM;
    return ipv4_options_ok(p, hdr_len) ? IPV4_WIRE_OK : IPV4_WIRE_BAD_OPTIONS;
}
const char *ipv4_wire_err_name(enum ipv4_wire_err e);
const char *ipv4_proto_name(uint8_t proto);

/* Writes exactly IPV4_HDR_LEN bytes at p (IHL 5, no options), checksum included.
 * r->hdr_len is ignored. Inline: on the transmit fast path the compiler folds
 * the constant fields. */
static inline void ipv4_header_emit(const struct ipv4_repr *r, uint8_t *p)
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
    net_wr16(p + IPV4_OFF_CSUM, csum_finish(csum_hdr20(p)));
}

/* Rewrites a fragment's header at p (options kept) for the whole datagram of
 * payload_len bytes: total length, MF and offset cleared (DF kept), checksum. */
void ipv4_header_unfragment(uint8_t *p, uint16_t payload_len);

/* Partial sum of the 12-byte pseudoheader (src, dst, zero, proto, len). */
static inline uint64_t ipv4_pseudo_sum(struct ipv4_addr src, struct ipv4_addr dst,
                                       uint8_t proto, uint16_t len)
{
    return (uint64_t)src.be + dst.be + csum_be16(proto) + csum_be16(len);
}

#endif
