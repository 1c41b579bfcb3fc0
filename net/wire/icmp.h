/* ICMPv4 (RFC 792) on the wire: the 8-byte header (type, code, checksum, and the
 * 32 "rest" bits: id/sequence for echo, unused or next-hop MTU for errors), parse
 * with checksum verification over the whole message, and emit. Unknown types stay
 * representable. Pure functions, any context. */
#ifndef NET_WIRE_ICMP_H
#define NET_WIRE_ICMP_H

#include <stdbool.h>
#include <stdint.h>

#include "net/csum.h"
#include "net/view.h"

#define ICMP_HDR_LEN 8
#define ICMP_OFF_TYPE 0
#define ICMP_OFF_CODE 1
#define ICMP_OFF_CSUM 2
#define ICMP_OFF_REST 4

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12

#define ICMP_CODE_PROTO_UNREACH 2
#define ICMP_CODE_PORT_UNREACH 3
#define ICMP_CODE_FRAG_NEEDED 4
#define ICMP_CODE_TTL_EXCEEDED 0
#define ICMP_CODE_REASS_EXCEEDED 1

struct icmp_repr {
    uint8_t type, code;
    uint16_t csum; /* as on the wire (host integer) */
    uint32_t rest; /* echo: id << 16 | seq */
};

/* Why a message was refused, in the order the checks run: X(ERR, name) makes
 * ICMP_WIRE_<ERR>; name is the drop counter's (icmp.drop_<name>). */
#define ICMP_WIRE_ERRORS(X)                                                              \
    X(SHORT, short)       /* fewer than 8 bytes */                                       \
    X(BAD_CSUM, bad_csum) /* checksum over the message */

#define ICMP_WIRE_ENUM(err, name) ICMP_WIRE_##err,
enum icmp_wire_err { ICMP_WIRE_OK = 0, ICMP_WIRE_ERRORS(ICMP_WIRE_ENUM) };

/* v is the whole ICMP message (the IP payload). check validates (length,
 * checksum); parse also fills r. Inline: every message. */
static inline enum icmp_wire_err icmp_check(const struct view *v)
{
    if (v->len < ICMP_HDR_LEN)
        return ICMP_WIRE_SHORT;
    if (csum_fold(csum_add(0, view_data(v), v->len)) != 0xffff)
        return ICMP_WIRE_BAD_CSUM;
    return ICMP_WIRE_OK;
}
/* The type of a message that passed icmp_check (all the receive path needs to
 * dispatch), or all of its header. */
static inline uint8_t icmp_get_type(const uint8_t *p)
{
    return p[ICMP_OFF_TYPE];
}
static inline void icmp_header_read(const uint8_t *p, struct icmp_repr *r)
{
    r->type = icmp_get_type(p);
    r->code = p[ICMP_OFF_CODE];
    r->csum = net_rd16(p + ICMP_OFF_CSUM);
    r->rest = net_rd32(p + ICMP_OFF_REST);
}
static inline enum icmp_wire_err icmp_header_parse(const struct view *v,
                                                   struct icmp_repr *r)
{
    enum icmp_wire_err e = icmp_check(v);
    if (e == ICMP_WIRE_OK)
        icmp_header_read(view_data(v), r);
    return e;
}
/* The checksum field of a header at p (a host integer, from csum_finish). */
static inline void icmp_set_csum(uint8_t *p, uint16_t csum)
{
    net_wr16(p + ICMP_OFF_CSUM, csum);
}
/* Writes exactly ICMP_HDR_LEN bytes at p, the checksum field from r->csum. */
static inline void icmp_header_emit(const struct icmp_repr *r, uint8_t *p)
{
    p[ICMP_OFF_TYPE] = r->type;
    p[ICMP_OFF_CODE] = r->code;
    icmp_set_csum(p, r->csum);
    net_wr32(p + ICMP_OFF_REST, r->rest);
}
/* Error messages (which we never answer with another error); unknown types count
 * as errors too, to be safe. */
bool icmp_type_is_error(uint8_t type);
const char *icmp_type_name(uint8_t type);

static inline uint16_t icmp_echo_id(const struct icmp_repr *r)
{
    return (uint16_t)(r->rest >> 16);
}
static inline uint16_t icmp_echo_seq(const struct icmp_repr *r)
{
    return (uint16_t)r->rest;
}

#endif
