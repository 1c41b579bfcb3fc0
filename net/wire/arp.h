/* ARP (RFC 826) for Ethernet/IPv4 on the wire: the 28-byte packet, its checks
 * (hardware/protocol type and lengths), parse/emit of a repr. Unknown opcodes
 * stay representable. Pure functions, any context. */
#ifndef NET_WIRE_ARP_H
#define NET_WIRE_ARP_H

#include <stdint.h>

#include "net/addr.h"
#include "net/view.h"

#define ARP_PKT_LEN 28
#define ARP_OFF_HTYPE 0
#define ARP_OFF_PTYPE 2
#define ARP_OFF_HLEN 4
#define ARP_OFF_PLEN 5
#define ARP_OFF_OP 6
#define ARP_OFF_SHA 8
#define ARP_OFF_SPA 14
#define ARP_OFF_THA 18
#define ARP_OFF_TPA 24

#define ARP_HTYPE_ETH 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_repr {
    uint16_t op;
    struct eth_addr sha, tha;
    struct ipv4_addr spa, tpa;
};

enum arp_wire_err {
    ARP_WIRE_OK = 0,
    ARP_WIRE_SHORT,     /* fewer than 28 bytes */
    ARP_WIRE_BAD_HTYPE, /* not Ethernet */
    ARP_WIRE_BAD_PTYPE, /* not IPv4 */
    ARP_WIRE_BAD_LEN,   /* hardware/protocol address length not 6/4 */
};

enum arp_wire_err arp_packet_parse(const struct view *v, struct arp_repr *r);
/* Writes exactly ARP_PKT_LEN bytes at p. */
void arp_packet_emit(const struct arp_repr *r, uint8_t *p);
const char *arp_op_name(uint16_t op);

#endif
