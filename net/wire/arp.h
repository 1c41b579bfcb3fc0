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

/* Why a packet was refused, in the order the checks run: X(ERR, name) makes
 * ARP_WIRE_<ERR>; name is the drop counter's (arp.drop_<name>). */
#define ARP_WIRE_ERRORS(X)                                                               \
    X(SHORT, short)         /* fewer than 28 bytes */                                    \
    X(BAD_HTYPE, bad_htype) /* not Ethernet */                                           \
    X(BAD_PTYPE, bad_ptype) /* not IPv4 */                                               \
    X(BAD_LEN, bad_len)     /* hardware/protocol address length not 6/4 */

#define ARP_WIRE_ENUM(err, name) ARP_WIRE_##err,
enum arp_wire_err { ARP_WIRE_OK = 0, ARP_WIRE_ERRORS(ARP_WIRE_ENUM) };

enum arp_wire_err arp_packet_parse(const struct view *v, struct arp_repr *r);
/* Writes exactly ARP_PKT_LEN bytes at p. */
void arp_packet_emit(const struct arp_repr *r, uint8_t *p);
const char *arp_op_name(uint16_t op);

#endif
