/* UDP (RFC 768) on the wire: the 8-byte header, parse checking the length field
 * against the bytes received and the checksum (0 = none sent) with the IPv4
 * pseudoheader, emit, and the checksum of an outgoing datagram (0 goes out as
 * 0xffff). The receive and send paths of net/udp.c run exactly these. Pure
 * functions, any context; inline: they run for every datagram. */
#ifndef NET_WIRE_UDP_H
#define NET_WIRE_UDP_H

#include <stdint.h>

#include "net/addr.h"
#include "net/csum.h"
#include "net/view.h"
#include "net/wire/ipv4.h"

#define UDP_HDR_LEN 8
#define UDP_OFF_SPORT 0
#define UDP_OFF_DPORT 2
#define UDP_OFF_LEN 4
#define UDP_OFF_CSUM 6

struct udp_repr {
    uint16_t sport, dport;
    uint16_t len;  /* header + data, from the length field */
    uint16_t csum; /* as on the wire; 0 = not computed by the sender */
};

/* Why a datagram was refused, in the order the checks run: X(ERR, name) makes
 * UDP_WIRE_<ERR>; name is the drop counter's (udp.drop_<name>). */
#define UDP_WIRE_ERRORS(X)                                                               \
    X(SHORT, short)       /* fewer than 8 bytes */                                       \
    X(BAD_LEN, bad_len)   /* length field < 8 or > bytes received */                     \
    X(BAD_CSUM, bad_csum) /* checksum over pseudoheader + datagram */

#define UDP_WIRE_ENUM(err, name) UDP_WIRE_##err,
enum udp_wire_err { UDP_WIRE_OK = 0, UDP_WIRE_ERRORS(UDP_WIRE_ENUM) };

/* v is the IP payload; the datagram is its first r->len bytes. The checks run in
 * the order of the errors above. The checksum is verified as the sum of
 * (pseudoheader + header) and of the data kept apart: when the sender computed
 * one (r->csum != 0) and data_sum is not NULL, *data_sum is the data's partial
 * sum, so that a reply carrying the same bytes need not sum them again. */
static inline enum udp_wire_err udp_header_parse(const struct view *v,
                                                 struct ipv4_addr src,
                                                 struct ipv4_addr dst, struct udp_repr *r,
                                                 uint64_t *data_sum)
{
    if (v->len < UDP_HDR_LEN)
        return UDP_WIRE_SHORT;
    const uint8_t *p = view_data(v);
    uint16_t len = net_rd16(p + UDP_OFF_LEN);
    if (len < UDP_HDR_LEN || len > v->len)
        return UDP_WIRE_BAD_LEN;
    uint16_t csum = net_rd16(p + UDP_OFF_CSUM);
    if (csum != 0) {
        uint64_t d = csum_add(0, p + UDP_HDR_LEN, len - UDP_HDR_LEN);
        uint64_t s = csum_add8(ipv4_pseudo_sum(src, dst, IPV4_PROTO_UDP, len), p);
        if (csum_fold(csum_combine(s, d)) != 0xffff)
            return UDP_WIRE_BAD_CSUM;
        if (data_sum)
            *data_sum = d;
    }
    r->sport = net_rd16(p + UDP_OFF_SPORT);
    r->dport = net_rd16(p + UDP_OFF_DPORT);
    r->len = len;
    r->csum = csum;
    return UDP_WIRE_OK;
}

/* The checksum field of a header at p (a host integer, from udp_checksum). */
static inline void udp_set_csum(uint8_t *p, uint16_t csum)
{
    net_wr16(p + UDP_OFF_CSUM, csum);
}

/* Writes exactly UDP_HDR_LEN bytes at p, the checksum field from r->csum. */
static inline void udp_header_emit(const struct udp_repr *r, uint8_t *p)
{
    net_wr16(p + UDP_OFF_SPORT, r->sport);
    net_wr16(p + UDP_OFF_DPORT, r->dport);
    net_wr16(p + UDP_OFF_LEN, r->len);
    udp_set_csum(p, r->csum);
}

/* Checksum field value for the 8-byte header at hdr (checksum field 0, length
 * field set) followed by data whose partial sum is data_sum (csum_views(0, ...));
 * never 0 (sent as 0xffff). */
static inline uint16_t udp_checksum(struct ipv4_addr src, struct ipv4_addr dst,
                                    const uint8_t *hdr, uint64_t data_sum)
{
    uint64_t s = ipv4_pseudo_sum(src, dst, IPV4_PROTO_UDP, net_rd16(hdr + UDP_OFF_LEN));
    uint16_t c = csum_finish(csum_combine(csum_add8(s, hdr), data_sum));
    return c == 0 ? 0xffff : c;
}

#endif
