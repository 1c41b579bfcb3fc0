/* Console output of the stack (see net/stack.h): `stats`, `arp`, `ifconfig`.
 * Off the fast path; formats with snprintf into local lines. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "net/stack.h"

static const struct net_counter_desc svc_descs[] = {
#define D(n) NET_COUNTER_DESC(struct net_service_stats, n)
    NET_SERVICE_COUNTERS(D)
#undef D
};

void net_stats_print(const struct net_stack *s, net_print_fn print, void *ctx)
{
    eth_counters_walk(&s->eth, print, ctx);
    arp_counters_walk(&s->arp, print, ctx);
    ipv4_counters_walk(&s->ip, print, ctx);
    icmp_counters_walk(&s->icmp, print, ctx);
    udp_counters_walk(&s->udp, print, ctx);
    tcp_counters_walk(s->tcp, print, ctx);
    net_counters_walk("svc", &s->svc, svc_descs, sizeof svc_descs / sizeof svc_descs[0],
                      print, ctx);
}

void net_arp_print(const struct net_stack *s, net_print_fn print, void *ctx)
{
    arp_print(&s->arp, print, ctx);
}

void net_ifconfig_print(const struct net_stack *s, net_print_fn print, void *ctx)
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
    if (!dot)
        return -1;
    size_t n = (size_t)(dot - name);
    const char *c = dot + 1;
    if (n == 3 && !memcmp(name, "eth", 3))
        return eth_counter(&s->eth, c);
    if (n == 3 && !memcmp(name, "arp", 3))
        return arp_counter(&s->arp, c);
    if (n == 4 && !memcmp(name, "ipv4", 4))
        return ipv4_counter(&s->ip, c);
    if (n == 5 && !memcmp(name, "reass", 5))
        return ipv4_reass_counter(&s->ip.reass, c);
    if (n == 4 && !memcmp(name, "icmp", 4))
        return icmp_counter(&s->icmp, c);
    if (n == 3 && !memcmp(name, "udp", 3))
        return udp_counter(&s->udp, c);
    if (n == 3 && !memcmp(name, "tcp", 3))
        return tcp_counter(s->tcp, c);
    if (n == 3 && !memcmp(name, "svc", 3))
        return net_counters_find(&s->svc, svc_descs,
                                 sizeof svc_descs / sizeof svc_descs[0], c);
    return -1;
}
