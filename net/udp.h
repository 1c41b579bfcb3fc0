/* UDP (RFC 768) for the stack: ports bound to callbacks; input checks the length
 * field and the checksum (0 = none sent), answers closed ports with ICMP port
 * unreachable; sendto builds the header through ipv4_write's headerf with a
 * correct checksum (0 sent as 0xffff) and returns IPv4's errors to the caller.
 * Thread context: input on the RX thread (callbacks borrow the data view; a send
 * from a callback never blocks, its frames wait in ARP's queue if needed). */
#ifndef NET_UDP_H
#define NET_UDP_H

#include <stdint.h>

#include "kernel/platform.h"
#include "net/icmp.h"
#include "net/ipv4.h"
#include "net/wire/udp.h"

#define UDP_MAX_BINDS 16
#define UDP_MAX_DATA (IPV4_MAX_DGRAM - IPV4_HDR_LEN - UDP_HDR_LEN) /* 65507 */

struct udp_rxinfo {
    struct ipv4_addr src, dst;
    uint16_t sport, dport;
    const struct ipv4_rxinfo *ip;
    bool data_sum_valid; /* the sender's checksum was verified: data_sum is set */
    uint64_t data_sum;   /* partial sum of the data (lets an echo skip a pass) */
};

typedef void (*udp_recv_fn)(void *ctx, const struct udp_rxinfo *info, struct view *data);

#define UDP_COUNTERS(X)                                                                  \
    X(rx)                                                                                \
    X(rx_no_csum)                                                                        \
    X(delivered)                                                                         \
    X(drop_short)                                                                        \
    X(drop_bad_len)                                                                      \
    X(drop_bad_csum)                                                                     \
    X(drop_no_port)                                                                      \
    X(tx)                                                                                \
    X(tx_errors)

struct udp_stats {
    UDP_COUNTERS(COUNTER_FIELD)
};

struct udp_bind {
    uint16_t port;
    udp_recv_fn fn;
    void *ctx;
};

struct udp {
    struct ipv4 *ip;
    struct icmp *icmp;
    int nbinds;
    struct udp_bind binds[UDP_MAX_BINDS];
    struct udp_stats st;
};

void udp_init(struct udp *u, struct ipv4 *ip, struct icmp *icmp);

/* 0, or -1 when the port is taken (or 0) or the table is full. */
int udp_bind(struct udp *u, uint16_t port, udp_recv_fn fn, void *ctx);
void udp_unbind(struct udp *u, uint16_t port);

/* The IP payload of a UDP datagram, borrowed. */
void udp_input(struct udp *u, const struct ipv4_rxinfo *info, struct view *pkt);

/* Optional send parameters (NULL = defaults). */
struct udp_send_opts {
    struct ipv4_wopts ip;
    const uint64_t *data_sum; /* known partial sum of the data, or NULL */
};

enum ipv4_err udp_sendto(struct udp *u, uint16_t sport, struct ipv4_addr dst,
                         uint16_t dport, const struct view *data, int n,
                         const struct udp_send_opts *opts);

/* The registry of struct udp_stats. */
extern const struct counter_table udp_counter_table;

#endif
