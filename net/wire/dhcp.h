/* BOOTP/DHCP messages on the wire (RFC 2131 section 2, RFC 2132 options): the
 * 236-byte fixed part and the magic cookie, checked once (dhcp_check), then parse
 * into a repr that holds the options the client uses, and emit of a repr. Options
 * are walked with every length bounds-checked; option overload (52) is honoured
 * (file, then sname, after the options field, as RFC 2131 section 4.1 orders);
 * the list options (router, DNS, parameter list, client identifier) may repeat
 * and are concatenated (RFC 3396), a repeated fixed-size option is malformed.
 * Unknown options are skipped, unknown message types stay representable.
 * Pure functions, any context. */
#ifndef NET_WIRE_DHCP_H
#define NET_WIRE_DHCP_H

#include <stdbool.h>
#include <stdint.h>

#include "net/addr.h"
#include "net/view.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

/* The fixed part (RFC 2131 figure 1). */
#define DHCP_OFF_OP 0
#define DHCP_OFF_HTYPE 1
#define DHCP_OFF_HLEN 2
#define DHCP_OFF_HOPS 3
#define DHCP_OFF_XID 4
#define DHCP_OFF_SECS 8
#define DHCP_OFF_FLAGS 10
#define DHCP_OFF_CIADDR 12
#define DHCP_OFF_YIADDR 16
#define DHCP_OFF_SIADDR 20
#define DHCP_OFF_GIADDR 24
#define DHCP_OFF_CHADDR 28 /* 16 bytes */
#define DHCP_OFF_SNAME 44  /* 64 bytes */
#define DHCP_OFF_FILE 108  /* 128 bytes */
#define DHCP_OFF_COOKIE 236
#define DHCP_OFF_OPTIONS 240
#define DHCP_SNAME_LEN 64
#define DHCP_FILE_LEN 128
#define DHCP_FIXED_LEN 236
#define DHCP_MIN_LEN 240   /* fixed part + cookie: the least we parse */
#define DHCP_BOOTP_MIN 300 /* emitted messages are padded to this (RFC 1542 2.1) */
#define DHCP_EMIT_MAX 576  /* what dhcp_emit can need at most, with every option */
#define DHCP_COOKIE 0x63825363u

#define DHCP_OP_REQUEST 1 /* BOOTREQUEST */
#define DHCP_OP_REPLY 2   /* BOOTREPLY */
#define DHCP_HTYPE_ETH 1
#define DHCP_FLAG_BROADCAST 0x8000u

/* Message types (option 53). */
#define DHCP_DISCOVER 1
#define DHCP_OFFER 2
#define DHCP_REQUEST 3
#define DHCP_DECLINE 4
#define DHCP_ACK 5
#define DHCP_NAK 6
#define DHCP_RELEASE 7
#define DHCP_INFORM 8

/* Option codes (RFC 2132). */
#define DHCP_OPT_PAD 0
#define DHCP_OPT_SUBNET_MASK 1
#define DHCP_OPT_ROUTER 3
#define DHCP_OPT_DNS 6
#define DHCP_OPT_MTU 26
#define DHCP_OPT_REQUESTED_IP 50
#define DHCP_OPT_LEASE_TIME 51
#define DHCP_OPT_OVERLOAD 52
#define DHCP_OPT_MSG_TYPE 53
#define DHCP_OPT_SERVER_ID 54
#define DHCP_OPT_PARAM_LIST 55
#define DHCP_OPT_MAX_MSG_SIZE 57
#define DHCP_OPT_T1 58
#define DHCP_OPT_T2 59
#define DHCP_OPT_CLIENT_ID 61
#define DHCP_OPT_END 255

#define DHCP_INFINITE 0xffffffffu /* lease time that never ends */
#define DHCP_MAX_ADDRS 4          /* routers, DNS servers kept (more are ignored) */
#define DHCP_MAX_PARAMS 32
#define DHCP_MAX_CLIENT_ID 32

/* dhcp_repr.present: which options the message carries. */
#define DHCP_HAS_MSG_TYPE (1u << 0)
#define DHCP_HAS_SUBNET_MASK (1u << 1)
#define DHCP_HAS_ROUTER (1u << 2)
#define DHCP_HAS_DNS (1u << 3)
#define DHCP_HAS_MTU (1u << 4)
#define DHCP_HAS_REQUESTED_IP (1u << 5)
#define DHCP_HAS_LEASE_TIME (1u << 6)
#define DHCP_HAS_OVERLOAD (1u << 7)
#define DHCP_HAS_SERVER_ID (1u << 8)
#define DHCP_HAS_PARAM_LIST (1u << 9)
#define DHCP_HAS_MAX_MSG_SIZE (1u << 10)
#define DHCP_HAS_T1 (1u << 11)
#define DHCP_HAS_T2 (1u << 12)
#define DHCP_HAS_CLIENT_ID (1u << 13)

struct dhcp_repr {
    uint8_t op, hops;
    uint32_t xid;
    uint16_t secs, flags;
    struct ipv4_addr ciaddr, yiaddr, siaddr, giaddr;
    struct eth_addr chaddr; /* htype 1, hlen 6: the only hardware we know */
    uint32_t present;       /* DHCP_HAS_* */
    uint8_t msg_type;       /* 0 when absent (plain BOOTP) */
    uint8_t overload;       /* 1 file, 2 sname, 3 both */
    uint8_t nrouters, ndns, nparams, client_id_len;
    struct ipv4_addr subnet_mask, server_id, requested_ip;
    struct ipv4_addr routers[DHCP_MAX_ADDRS], dns[DHCP_MAX_ADDRS];
    uint32_t lease_secs, t1_secs, t2_secs;
    uint16_t mtu, max_msg_size;
    uint8_t params[DHCP_MAX_PARAMS];
    uint8_t client_id[DHCP_MAX_CLIENT_ID];
};

/* Why a message was refused, in the order the checks run: X(ERR, name) makes
 * DHCP_WIRE_<ERR>; name is dhcp_wire_err_name's and the client's drop counter's
 * (dhcp.drop_<name>). */
#define DHCP_WIRE_ERRORS(X)                                                              \
    X(SHORT, short)           /* fewer than 240 bytes */                                 \
    X(BAD_OP, bad_op)         /* op neither BOOTREQUEST nor BOOTREPLY */                 \
    X(BAD_HTYPE, bad_htype)   /* not Ethernet (htype 1, hlen 6) */                       \
    X(BAD_COOKIE, bad_cookie) /* no DHCP magic cookie */                                 \
    X(TRUNCATED, truncated)   /* an option's length or data runs past its field */       \
    X(BAD_OPTION,                                                                        \
      bad_option) /* a known option with a wrong length or value, or repeated */

#define DHCP_WIRE_ENUM(err, name) DHCP_WIRE_##err,
enum dhcp_wire_err { DHCP_WIRE_OK = 0, DHCP_WIRE_ERRORS(DHCP_WIRE_ENUM) };

/* The fixed part and the cookie (nothing past them is read). */
enum dhcp_wire_err dhcp_check(const struct view *v);
/* dhcp_check, then every option; *r is complete on DHCP_WIRE_OK only. */
enum dhcp_wire_err dhcp_parse(const struct view *v, struct dhcp_repr *r);
/* Writes the message (htype 1, hlen 6, zeroed sname/file, the options of
 * r->present in a fixed order after the message type, END, zero padding to
 * DHCP_BOOTP_MIN) into p; returns its length, or 0 when cap is too small. */
uint32_t dhcp_emit(const struct dhcp_repr *r, uint8_t *p, uint32_t cap);

const char *dhcp_msg_type_name(uint8_t type);
const char *dhcp_wire_err_name(enum dhcp_wire_err e);

/* Getters for a message that passed dhcp_check. */
static inline uint32_t dhcp_get_xid(const uint8_t *p)
{
    return net_rd32(p + DHCP_OFF_XID);
}

#endif
