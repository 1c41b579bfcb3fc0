/* TCP (RFC 9293) on the wire: the 20-byte header with its offsets and flags, a
 * check of the lengths (data offset), parse with the checksum over the IPv4
 * pseudoheader, emit, and the options: MSS, window scale (RFC 7323), SACK-permitted
 * and SACK blocks (RFC 2018), timestamps (RFC 7323), NOP/EOL; unknown kinds are
 * skipped by their length and counted, a malformed length stops the walk (what was
 * parsed before stays). Pure functions, any context. */
#ifndef NET_WIRE_TCP_H
#define NET_WIRE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "net/addr.h"
#include "net/view.h"

#define TCP_HDR_LEN 20
#define TCP_MAX_HDR_LEN 60
#define TCP_MAX_OPT_LEN 40
#define TCP_OFF_SPORT 0
#define TCP_OFF_DPORT 2
#define TCP_OFF_SEQ 4
#define TCP_OFF_ACK 8
#define TCP_OFF_DOFF 12 /* data offset in the high nibble */
#define TCP_OFF_FLAGS 13
#define TCP_OFF_WND 14
#define TCP_OFF_CSUM 16
#define TCP_OFF_URG 18

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WS 3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

#define TCP_OPTLEN_MSS 4
#define TCP_OPTLEN_WS 3
#define TCP_OPTLEN_SACK_PERM 2
#define TCP_OPTLEN_TS 10
#define TCP_MAX_WSCALE 14 /* RFC 7323 2.3: larger shifts are used as 14 */
#define TCP_MAX_SACK 4    /* blocks one option can carry (3 beside timestamps) */

/* tcp_opts.present */
#define TCP_OPTF_MSS 0x01
#define TCP_OPTF_WS 0x02
#define TCP_OPTF_SACK_PERM 0x04
#define TCP_OPTF_SACK 0x08
#define TCP_OPTF_TS 0x10

struct tcp_sack_block {
    uint32_t start, end; /* [start, end) in sequence space */
};

struct tcp_opts {
    uint8_t present; /* TCP_OPTF_* */
    uint8_t wscale;  /* clamped to TCP_MAX_WSCALE */
    uint16_t mss;
    uint32_t ts_val, ts_ecr;
    uint8_t nsack;
    uint8_t unknown; /* options of other kinds, skipped */
    uint8_t bad;     /* known kind with a wrong length (ignored), or a length that
                        runs past the end or is < 2 (walk stopped there) */
    struct tcp_sack_block sack[TCP_MAX_SACK];
};

struct tcp_repr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint8_t hdr_len; /* data offset * 4: 20..60 */
    uint16_t window; /* as on the wire (unscaled) */
    uint16_t csum;   /* as on the wire */
    uint16_t urg;
};

enum tcp_wire_err {
    TCP_WIRE_OK = 0,
    TCP_WIRE_SHORT,    /* fewer than 20 bytes */
    TCP_WIRE_BAD_OFF,  /* data offset < 5 or past the bytes received */
    TCP_WIRE_BAD_CSUM, /* checksum over pseudoheader + segment */
};

static inline uint8_t tcp_get_flags(const uint8_t *p)
{
    return p[TCP_OFF_FLAGS];
}
static inline uint32_t tcp_get_hdr_len(const uint8_t *p)
{
    return (uint32_t)(p[TCP_OFF_DOFF] >> 4) * 4;
}

/* v is the IP payload: at least 20 bytes, data offset within v. */
enum tcp_wire_err tcp_header_check(const struct view *v);
/* Check, then the checksum over the pseudoheader and all of v, then the fields. */
enum tcp_wire_err tcp_header_parse(const struct view *v, struct ipv4_addr src,
                                   struct ipv4_addr dst, struct tcp_repr *r);
/* Writes exactly TCP_HDR_LEN bytes at p: data offset from r->hdr_len (a multiple
 * of 4, 20..60), checksum field from r->csum. Options are the caller's. Inline:
 * one per segment sent. */
static inline void tcp_header_emit(const struct tcp_repr *r, uint8_t *p)
{
    net_wr32(p + TCP_OFF_SPORT, (uint32_t)r->sport << 16 | r->dport);
    net_wr32(p + TCP_OFF_SEQ, r->seq);
    net_wr32(p + TCP_OFF_ACK, r->ack);
    net_wr32(p + TCP_OFF_DOFF,
             (uint32_t)(r->hdr_len / 4) << 28 | (uint32_t)r->flags << 16 | r->window);
    net_wr32(p + TCP_OFF_CSUM, (uint32_t)r->csum << 16 | r->urg);
}

/* The options of a header: p/len are the bytes after the fixed 20. */
void tcp_options_parse(const uint8_t *p, uint32_t len, struct tcp_opts *o);
/* Bytes tcp_options_emit writes for o (a multiple of 4). syn selects the SYN
 * layout (MSS, SACK-permitted, timestamps, window scale: what o->present says);
 * otherwise timestamps and SACK blocks only. */
uint32_t tcp_options_len(const struct tcp_opts *o, bool syn);
/* Writes the options (padded with NOPs to a multiple of 4), returns the length;
 * 0 and nothing written when they need more than room bytes. SACK blocks beyond
 * what fits beside the other options are left out. */
uint32_t tcp_options_emit(const struct tcp_opts *o, bool syn, uint8_t *p, uint32_t room);

/* Checksum field value of a segment: header (checksum field 0) of hdr_len bytes at
 * hdr, then the payload views. */
uint16_t tcp_checksum(struct ipv4_addr src, struct ipv4_addr dst, const uint8_t *hdr,
                      uint32_t hdr_len, const struct view *payload, int n);

/* "SYN,ACK" style names of the flags into buf (at least 32 bytes). */
const char *tcp_flags_fmt(uint8_t flags, char *buf);

#endif
