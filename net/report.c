/* The stack's reports (see net/stack.h): every counter (the console's `stats`,
 * and one by name for tests), the ARP table, the interface summary
 * (`ifconfig`). Off the fast path; formats with snprintf into local lines. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "net/dhcp.h"
#include "net/stack.h"

/* Every layer's registry, in the order `stats` prints them, and where its values
 * are: a stats struct inside the stack, a struct of gauges computed when
 * printing, or the DHCP client's stats (only while a client runs). */
struct gauges {
    struct arp_gauges arp;
    struct ipv4_reass_gauges reass;
    struct tcp_stats tcp; /* a copy: TCP keeps its state in a block of its own */
    struct tcp_gauges tcpg;
    struct tcp_svc_stats tsvc; /* copies, zero while the service is off */
    struct tcp_svc_gauges tsvcg;
    struct http_stats http;
    struct http_gauges httpg;
};

enum { IN_STACK, IN_GAUGES, IN_DHCP };

static const struct layer {
    const char *name;
    const struct counter_table *table;
    uint8_t in;
    size_t off;
} layers[] = {
    {"eth", &eth_counter_table, IN_STACK, offsetof(struct net_stack, eth.st)},
    {"arp", &arp_counter_table, IN_STACK, offsetof(struct net_stack, arp.st)},
    {"arp", &arp_gauge_table, IN_GAUGES, offsetof(struct gauges, arp)},
    {"ipv4", &ipv4_counter_table, IN_STACK, offsetof(struct net_stack, ip.st)},
    {"reass", &ipv4_reass_counter_table, IN_STACK,
     offsetof(struct net_stack, ip.reass.st)},
    {"reass", &ipv4_reass_gauge_table, IN_GAUGES, offsetof(struct gauges, reass)},
    {"icmp", &icmp_counter_table, IN_STACK, offsetof(struct net_stack, icmp.st)},
    {"udp", &udp_counter_table, IN_STACK, offsetof(struct net_stack, udp.st)},
    {"tcp", &tcp_counter_table, IN_GAUGES, offsetof(struct gauges, tcp)},
    {"tcp", &tcp_gauge_table, IN_GAUGES, offsetof(struct gauges, tcpg)},
    {"svc", &net_service_counter_table, IN_STACK, offsetof(struct net_stack, svc)},
    {"dhcp", &dhcp_counter_table, IN_DHCP, offsetof(struct dhcp, st)},
    {"tcpsvc", &tcp_svc_counter_table, IN_GAUGES, offsetof(struct gauges, tsvc)},
    {"tcpsvc", &tcp_svc_gauge_table, IN_GAUGES, offsetof(struct gauges, tsvcg)},
    {"http", &http_counter_table, IN_GAUGES, offsetof(struct gauges, http)},
    {"http", &http_gauge_table, IN_GAUGES, offsetof(struct gauges, httpg)},
};
#define NLAYERS (sizeof layers / sizeof layers[0])

static void gauges_now(const struct net_stack *s, struct gauges *g)
{
    g->arp = arp_gauges(&s->arp);
    g->reass = ipv4_reass_gauges(&s->ip.reass);
    g->tcp = *tcp_stats(s->tcp);
    tcp_gauges(s->tcp, &g->tcpg);
    memset(&g->tsvc, 0, sizeof g->tsvc);
    memset(&g->tsvcg, 0, sizeof g->tsvcg);
    memset(&g->http, 0, sizeof g->http);
    memset(&g->httpg, 0, sizeof g->httpg);
    if (s->tcp_svc) {
        g->tsvc = s->tcp_svc->st;
        tcp_services_gauges(s->tcp_svc, &g->tsvcg);
    }
    if (s->http) {
        g->http = s->http->st;
        http_gauges(s->http, &g->httpg);
    }
}

/* NULL for a layer that is not there (no DHCP client). */
static const void *values(const struct layer *l, const struct net_stack *s,
                          const struct gauges *g)
{
    const void *base = l->in == IN_STACK    ? (const void *)s
                       : l->in == IN_GAUGES ? (const void *)g
                                            : (const void *)s->dhcp;
    return base ? (const uint8_t *)base + l->off : NULL;
}

void net_stats_print(const struct net_stack *s, const char *prefix, print_line_fn print,
                     void *ctx)
{
    struct gauges g;
    char name[32];
    gauges_now(s, &g);
    for (size_t i = 0; i < NLAYERS; i++) {
        const struct layer *l = &layers[i];
        const void *v = values(l, s, &g);
        if (!v)
            continue;
        snprintf(name, sizeof name, "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
                 l->name);
        counters_print(name, l->table, v, print, ctx);
    }
}

void net_arp_print(const struct net_stack *s, print_line_fn print, void *ctx)
{
    arp_print(&s->arp, print, ctx);
}

void net_ifconfig_print(const struct net_stack *s, print_line_fn print, void *ctx)
{
    char line[128], a[IPV4_ADDR_STRLEN], b[IPV4_ADDR_STRLEN], g[IPV4_ADDR_STRLEN];
    char mac[ETH_ADDR_STRLEN];
    const struct eth_stats *e = &s->eth.st;
    uint64_t rx_drop = e->drop_short + e->drop_not_ours + e->drop_ethertype;
    snprintf(line, sizeof line, "%s: flags=%s mtu %u",
             s->nif->name ? s->nif->name : "net", s->nif->link_up ? "UP,RUNNING" : "UP",
             s->ip.mtu);
    print(ctx, line);
    snprintf(line, sizeof line, "    inet %s/%u broadcast %s gateway %s",
             ipv4_addr_fmt(s->ip.addr, a), s->ip.prefix_len,
             ipv4_addr_fmt(s->ip.bcast, b),
             ipv4_addr_is_any(s->ip.gateway) ? "none" : ipv4_addr_fmt(s->ip.gateway, g));
    print(ctx, line);
    snprintf(line, sizeof line, "    ether %s", eth_addr_fmt(&s->eth.mac, mac));
    print(ctx, line);
    snprintf(line, sizeof line,
             "    RX packets %" PRIu64 " bytes %" PRIu64 " dropped %" PRIu64,
             e->rx_frames, e->rx_bytes, rx_drop);
    print(ctx, line);
    snprintf(line, sizeof line,
             "    TX packets %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64, e->tx_frames,
             e->tx_bytes, e->tx_errors + e->tx_no_buffer);
    print(ctx, line);
}

int64_t net_counter(const struct net_stack *s, const char *name)
{
    const char *dot = strchr(name, '.');
    struct gauges g;
    if (!dot)
        return -1;
    gauges_now(s, &g);
    for (size_t i = 0; i < NLAYERS; i++) {
        const struct layer *l = &layers[i];
        const void *vals = values(l, s, &g);
        int64_t v;
        if (vals && strlen(l->name) == (size_t)(dot - name) &&
            memcmp(l->name, name, (size_t)(dot - name)) == 0 &&
            (v = counters_find(l->table, vals, dot + 1)) >= 0)
            return v;
    }
    return -1;
}
