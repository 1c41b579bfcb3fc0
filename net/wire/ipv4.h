/* The IPv4 header on the wire (RFC 791): offsets, flags, parse with the receive
 * checks in the contract's order (length, version, IHL, total length, checksum,
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

/* Why a header was refused, in the order the checks run. */
enum ipv4_wire_err {
    IPV4_WIRE_OK = 0,
    IPV4_WIRE_SHORT,       /* fewer than 20 bytes */
    IPV4_WIRE_BAD_VERSION, /* version != 4 */
    IPV4_WIRE_BAD_HDR_LEN, /* IHL < 5, or IHL * 4 > total length */
    IPV4_WIRE_TRUNCATED,   /* total length > bytes received */
    IPV4_WIRE_BAD_CSUM,    /* header checksum */
    IPV4_WIRE_BAD_OPTIONS, /* option length 0/1 or running past the header */
};

enum ipv4_wire_err ipv4_header_parse(const struct view *v, struct ipv4_repr *r);
/* Writes exactly IPV4_HDR_LEN bytes at p (IHL 5, no options), checksum included.
 * r->hdr_len is ignored. */
void ipv4_header_emit(const struct ipv4_repr *r, uint8_t *p);
const char *ipv4_wire_err_name(enum ipv4_wire_err e);
const char *ipv4_proto_name(uint8_t proto);

/* Partial sum of the 12-byte pseudoheader (src, dst, zero, proto, len). */
static inline uint64_t ipv4_pseudo_sum(struct ipv4_addr src, struct ipv4_addr dst,
                                       uint8_t proto, uint16_t len)
{
    return (uint64_t)src.be + dst.be + csum_be16(proto) + csum_be16(len);
}

#endif
