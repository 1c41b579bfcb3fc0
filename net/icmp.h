/* ICMPv4 for the stack: answers echo requests (checksum verified first; never to
 * broadcast/multicast), originates port/protocol unreachable and time exceeded
 * under a token-bucket rate limit and never about an ICMP error, a broadcast or
 * multicast, a non-initial fragment or a martian source, and sends echo requests
 * for the console's ping (icmp_ping blocks only its calling thread).
 * Thread context: input on the RX thread; icmp_ping from any other thread. */
#ifndef NET_ICMP_H
#define NET_ICMP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"
#include "net/ipv4.h"
#include "net/wire/icmp.h"

#define ICMP_RATE_DEFAULT 100 /* errors per second, sustained */
#define ICMP_BURST_DEFAULT 10 /* errors at once */
#define ICMP_PING_SLOTS 8     /* pings awaited at the same time */
#define ICMP_PING_MAX_DATA 65507
#define ICMP_ERR_QUOTE 8 /* bytes of the offending datagram's data quoted */

#define ICMP_COUNTERS(X)                                                                 \
    X(rx)                                                                                \
    X(rx_echo_request)                                                                   \
    X(rx_echo_reply)                                                                     \
    X(rx_dest_unreach)                                                                   \
    X(rx_time_exceeded)                                                                  \
    X(rx_other)                                                                          \
    X(drop_short)                                                                        \
    X(drop_bad_csum)                                                                     \
    X(drop_bcast_echo)                                                                   \
    X(drop_unmatched_reply)                                                              \
    X(tx_echo_reply)                                                                     \
    X(tx_echo_request)                                                                   \
    X(tx_port_unreach)                                                                   \
    X(tx_proto_unreach)                                                                  \
    X(tx_time_exceeded)                                                                  \
    X(tx_other_error)                                                                    \
    X(tx_errors)                                                                         \
    X(err_suppressed_bcast)                                                              \
    X(err_suppressed_frag)                                                               \
    X(err_suppressed_icmp)                                                               \
    X(err_suppressed_src)                                                                \
    X(err_ratelimited)

struct icmp_stats {
    ICMP_COUNTERS(COUNTER_FIELD)
};

struct icmp_ping_waiter;

/* Destination unreachable for an upper layer: the code, the next-hop MTU field
 * (fragmentation needed) and the quoted datagram (IP header and what follows). */
typedef void (*icmp_unreach_fn)(void *ctx, uint8_t code, uint16_t mtu,
                                const struct view *quote);

struct icmp {
    struct ipv4 *ip;
    uint64_t cost_ns;   /* credit one error costs (1 s / rate) */
    uint64_t cap_ns;    /* bucket size (burst * cost) */
    uint64_t credit_ns; /* current credit */
    uint64_t last_ns;   /* when credit was last topped up */
    uint16_t ping_id;
    struct icmp_ping_waiter *pings[ICMP_PING_SLOTS];
    icmp_unreach_fn on_unreach;
    void *on_unreach_ctx;
    struct icmp_stats st;
};

/* rate/burst 0 = defaults. Registers for reassembly timeouts on ip. */
void icmp_init(struct icmp *ic, struct ipv4 *ip, uint32_t rate_per_sec, uint32_t burst);

void icmp_set_unreach_hook(struct icmp *ic, icmp_unreach_fn fn, void *ctx);

/* An ICMP message (the IP payload), borrowed. */
void icmp_input(struct icmp *ic, const struct ipv4_rxinfo *info, struct view *msg);

/* Originates an error about a received datagram (its info and IP payload) if the
 * rules and the rate limit allow; true when one was sent. Never blocks. */
bool icmp_send_error(struct icmp *ic, uint8_t type, uint8_t code, uint32_t rest,
                     const struct ipv4_rxinfo *info, const struct view *payload);

/* ping: one echo request of `size` data bytes (0..65507), then wait up to
 * timeout_ns for the matching reply. */
enum icmp_ping_status {
    ICMP_PING_REPLY = 0,  /* *res filled */
    ICMP_PING_TIMEOUT,    /* no reply in time */
    ICMP_PING_SEND_ERROR, /* *err says why (no route, ...) */
    ICMP_PING_BUSY,       /* too many pings outstanding, or size out of range */
};

struct icmp_ping_result {
    uint64_t rtt_ns;
    uint8_t ttl;
    uint32_t bytes; /* data bytes in the reply */
    struct ipv4_addr from;
};

enum icmp_ping_status icmp_ping(struct icmp *ic, struct ipv4_addr dst, uint16_t seq,
                                uint32_t size, uint64_t timeout_ns,
                                struct icmp_ping_result *res, enum ipv4_err *err);
const char *icmp_ping_status_name(enum icmp_ping_status s);
/* Internal (icmp.c -> icmp_ping.c): an echo reply, matched against waiting pings. */
void icmp_ping_reply(struct icmp *ic, const struct ipv4_rxinfo *info,
                     const struct view *msg);

/* The registry of struct icmp_stats. */
extern const struct counter_table icmp_counter_table;

#endif
