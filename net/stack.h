/* The IPv4 host stack on one interface: wires netif input -> Ethernet -> ARP or
 * IPv4 -> ICMP / UDP / TCP or default callbacks, owns every layer's state, and is
 * what the kernel calls: create (configuration parsed from the command line),
 * input (set as the netif's input), a timer tick with a deadline query for the
 * net thread, built-in services, ping, and reports. Thread context only;
 * input runs on the driver's RX thread. */
#ifndef NET_STACK_H
#define NET_STACK_H

#include <stdint.h>

#include "kernel/netdev.h"
#include "kernel/platform.h"
#include "net/arp.h"
#include "net/eth.h"
#include "net/http.h"
#include "net/icmp.h"
#include "net/ipv4.h"
#include "net/tcp.h"
#include "net/tcp_services.h"
#include "net/udp.h"

struct net_config {
    struct ipv4_addr addr;    /* 0.0.0.0: unconfigured */
    uint8_t prefix_len;       /* 0..32 */
    struct ipv4_addr gateway; /* 0.0.0.0: none */
    /* Tunables, 0 = default. */
    uint32_t arp_capacity;
    struct ipv4_limits limits;
    uint32_t icmp_rate_per_sec, icmp_burst;
    struct tcp_config tcp;
};

#define NET_SERVICE_COUNTERS(X)                                                          \
    X(echo_rx)                                                                           \
    X(echo_tx)                                                                           \
    X(echo_errors)                                                                       \
    X(echo_ignored_bcast)                                                                \
    X(discard_rx)                                                                        \
    X(discard_bytes)

struct net_service_stats {
    NET_SERVICE_COUNTERS(COUNTER_FIELD)
};
extern const struct counter_table net_service_counter_table;

struct dhcp;

/* Our address changed (old -> new_addr, either may be 0.0.0.0): what was bound
 * to old must go (TCP's connections on it are ended by the stack itself). */
typedef void (*net_addr_fn)(void *ctx, struct ipv4_addr old, struct ipv4_addr new_addr);

struct net_stack {
    struct netif *nif;
    struct eth eth;
    struct arp arp;
    struct ipv4 ip;
    struct icmp icmp;
    struct udp udp;
    struct ipv4_demux demux;
    struct tcp *tcp;
    ipv4_recv_fn tcp_fn; /* tcp_input unless replaced (net_set_tcp_handler) */
    void *tcp_ctx;
    ipv4_default_fn dflt;
    void *dflt_ctx;
    struct net_service_stats svc;
    struct dhcp *dhcp;            /* the DHCP client, when one runs (net/dhcp.h) */
    struct tcp_services *tcp_svc; /* NULL until enabled */
    struct http_server *http;     /* NULL until enabled */
    struct net_deadline_hook
        armed; /* net_set_deadline_hook's; DHCP and services call it */
    net_addr_fn on_addr;
    void *on_addr_ctx;
};

/* Allocates the stack for nif, sets nif->input/nif->stack, applies cfg (a
 * gratuitous ARP goes out when an address is set). NULL when out of memory. */
struct net_stack *net_stack_create(struct netif *nif, const struct net_config *cfg);
/* Disconnects (writers wake with "disconnected") and frees; nif->input is cleared.
 * Call it once no thread is inside the stack any more: disconnect first
 * (ipv4_disconnect) and let woken writers return, or they touch freed memory. */
void net_stack_destroy(struct net_stack *s);
/* Address, prefix and gateway (e.g. after DHCP). A changed address drops what
 * was learned under the old one (see ipv4_configure), ends the TCP connections
 * bound to it (tcp_addr_gone) and calls the address handler. */
void net_configure(struct net_stack *s, const struct net_config *cfg);
/* The address handler (one; NULL: none): for whatever else holds state bound
 * to an address that went away (TCP is told directly). */
void net_set_addr_handler(struct net_stack *s, net_addr_fn fn, void *ctx);
/* "10.0.0.2/24" and "10.0.0.1" (gw may be NULL) into cfg's address fields. */
int net_config_parse(const char *ip_cidr, const char *gw, struct net_config *cfg);

/* The netif input callback: one reference on b is handed over and released here
 * (kept longer only by callbacks that took view_ref). */
void net_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len);

/* Timers of every layer (ARP retries and expiry, reassembly expiry, TCP, DHCP);
 * call at or after net_next_deadline() (UINT64_MAX: nothing pending). */
void net_tick(struct net_stack *s, uint64_t now);
uint64_t net_next_deadline(const struct net_stack *s);
/* fn(ctx, t) whenever a layer sets a deadline t (net/deadline.h), so the caller
 * of net_tick can sleep until net_next_deadline and be woken for an earlier one.
 * Called on the receive path too: it must not wait. */
void net_set_deadline_hook(struct net_stack *s, void (*fn)(void *ctx, uint64_t t),
                           void *ctx);

/* Upper-layer hooks: a replacement for TCP (NULL: protocol unreachable), and every
 * other protocol (else protocol unreachable). */
void net_set_tcp_handler(struct net_stack *s, ipv4_recv_fn fn, void *ctx);
void net_set_default_handler(struct net_stack *s, ipv4_default_fn fn, void *ctx);

/* Built-in services: UDP echo (RFC 862) on port 7, discard (RFC 863) on port 9.
 * 0, or -1 when the port is taken. */
int net_udp_echo_enable(struct net_stack *s);
int net_udp_discard_enable(struct net_stack *s);

/* Built-in TCP services: echo (7), discard (9) and chargen (19); an HTTP server
 * (cfg->port, 80 by default) answering "/" and "/stats" from cfg's content
 * functions. cfg NULL: defaults. 0, or -1 when a port is taken or memory ran out.
 * Both are stopped by net_stack_destroy. */
int net_tcp_services_enable(struct net_stack *s, const struct tcp_services_config *cfg);
int net_http_enable(struct net_stack *s, const struct http_config *cfg);

/* The console's `ping <ip> [count] [size]`, one request: see icmp_ping. */
enum icmp_ping_status net_ping(struct net_stack *s, struct ipv4_addr dst, uint16_t seq,
                               uint32_t size, uint64_t timeout_ns,
                               struct icmp_ping_result *res, enum ipv4_err *err);

/* Reports, one line per call of print. net_stats_print: every counter and gauge
 * of every layer as "<layer>.<name>=<value>", or "<prefix>.<layer>.<name>=<value>"
 * when prefix is not NULL (the console names the stacks of net1, net2, ... so). */
void net_stats_print(const struct net_stack *s, const char *prefix, print_line_fn print,
                     void *ctx);
void net_arp_print(const struct net_stack *s, print_line_fn print, void *ctx);
void net_ifconfig_print(const struct net_stack *s, print_line_fn print, void *ctx);
/* One counter by "layer.name" (e.g. "ipv4.drop_bad_csum"); -1 when unknown. */
int64_t net_counter(const struct net_stack *s, const char *name);

#endif
