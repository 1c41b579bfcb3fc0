/* UDP (RFC 768) on the wire: the 8-byte header, parse checking the length field
 * against the bytes received and the checksum (0 = none sent) with the IPv4
 * pseudoheader, emit, and the checksum of an outgoing datagram (0 goes out as
 * 0xffff). Pure functions, any context. */
#ifndef NET_WIRE_UDP_H
#define NET_WIRE_UDP_H

#include <stdint.h>

#include "net/addr.h"
#include "net/view.h"

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

enum udp_wire_err {
    UDP_WIRE_OK = 0,
    UDP_WIRE_SHORT,    /* fewer than 8 bytes */
    UDP_WIRE_BAD_LEN,  /* length field < 8 or > bytes received */
    UDP_WIRE_BAD_CSUM, /* checksum over pseudoheader + datagram */
};

/* v is the IP payload; the datagram is its first r->len bytes. */
enum udp_wire_err udp_header_parse(const struct view *v, struct ipv4_addr src,
                                   struct ipv4_addr dst, struct udp_repr *r);
/* Writes exactly UDP_HDR_LEN bytes at p, the checksum field from r->csum. */
void udp_header_emit(const struct udp_repr *r, uint8_t *p);
/* Checksum field value for an 8-byte header at hdr (checksum field 0) followed by
 * the payload views; never 0 (sent as 0xffff). */
uint16_t udp_checksum(struct ipv4_addr src, struct ipv4_addr dst, const uint8_t *hdr,
                      const struct view *payload, int n);

#endif
