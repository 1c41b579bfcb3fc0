/* The stack's wiring (see net/stack.h): creation, the receive path from the netif
 * to the layers, and the timers. */
#include <stdlib.h>

#include "net/dhcp.h"
#include "net/stack.h"

static void on_icmp(void *ctx, const struct ipv4_rxinfo *info, struct view *payload)
{
    struct net_stack *s = ctx;
    icmp_input(&s->icmp, info, payload);
}

static void on_udp(void *ctx, const struct ipv4_rxinfo *info, struct view *payload)
{
    struct net_stack *s = ctx;
    udp_input(&s->udp, info, payload);
}

static void proto_unreachable(struct net_stack *s, const struct ipv4_rxinfo *info,
                              struct view *payload)
{
    icmp_send_error(&s->icmp, ICMP_DEST_UNREACH, ICMP_CODE_PROTO_UNREACH, 0, info,
                    payload);
}

static void on_tcp(void *ctx, const struct ipv4_rxinfo *info, struct view *payload)
{
    struct net_stack *s = ctx;
    if (s->tcp_fn)
        s->tcp_fn(s->tcp_ctx, info, payload);
    else
        proto_unreachable(s, info, payload);
}

/* ICMP destination unreachable about a TCP segment we sent: path MTU. */
static void on_unreach(void *ctx, uint8_t code, uint16_t mtu, const struct view *quote)
{
    struct net_stack *s = ctx;
    const uint8_t *q = view_data(quote);
    if (code != ICMP_CODE_FRAG_NEEDED || quote->len < IPV4_HDR_LEN ||
        ipv4_get_proto(q) != IPV4_PROTO_TCP)
        return;
    tcp_icmp_frag_needed(s->tcp, quote, mtu);
}

static void on_other(void *ctx, uint8_t proto, const struct ipv4_rxinfo *info,
                     struct view *payload)
{
    struct net_stack *s = ctx;
    if (s->dflt)
        s->dflt(s->dflt_ctx, proto, info, payload);
    else
        proto_unreachable(s, info, payload);
}

struct net_stack *net_stack_create(struct netif *nif, const struct net_config *cfg)
{
    struct net_stack *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->nif = nif;
    eth_init(&s->eth, nif);
    if (arp_init(&s->arp, &s->eth, cfg->arp_capacity) < 0)
        goto fail_arp;
    if (ipv4_init(&s->ip, &s->eth, &s->arp, &cfg->limits) < 0)
        goto fail_ip;
    icmp_init(&s->icmp, &s->ip, cfg->icmp_rate_per_sec, cfg->icmp_burst);
    udp_init(&s->udp, &s->ip, &s->icmp);
    if (!(s->tcp = tcp_create(&s->ip, &cfg->tcp)))
        goto fail_tcp;
    s->tcp_fn = tcp_input;
    s->tcp_ctx = s->tcp;
    icmp_set_unreach_hook(&s->icmp, on_unreach, s);
    s->demux = (struct ipv4_demux){
        .tcp = on_tcp, .udp = on_udp, .icmp = on_icmp, .dflt = on_other, .ctx = s};
    nif->stack = s;
    nif->input = net_input;
    net_configure(s, cfg);
    return s;
fail_tcp:
    ipv4_disconnect(&s->ip);
    arp_free(&s->arp);
    free(s);
    return NULL;
fail_ip: /* ipv4_init frees what it allocated */
    arp_free(&s->arp);
fail_arp:
    free(s);
    return NULL;
}

void net_stack_destroy(struct net_stack *s)
{
    dhcp_destroy(s);
    s->nif->input = NULL;
    s->nif->stack = NULL;
    if (s->http)
        http_stop(s->http);
    if (s->tcp_svc)
        tcp_services_stop(s->tcp_svc);
    tcp_destroy(s->tcp);
    ipv4_disconnect(&s->ip);
    arp_free(&s->arp);
    free(s);
}

void net_configure(struct net_stack *s, const struct net_config *cfg)
{
    struct ipv4_config c = {cfg->addr, cfg->prefix_len, cfg->gateway};
    char a[IPV4_ADDR_STRLEN], g[IPV4_ADDR_STRLEN];
    struct ipv4_addr old = s->ip.addr;
    ipv4_configure(&s->ip, &c);
    log_info("net", "%s: %s/%u gateway %s", s->nif->name ? s->nif->name : "net",
             ipv4_addr_fmt(c.addr, a), c.prefix_len, ipv4_addr_fmt(c.gateway, g));
    if (!ipv4_addr_is_any(old) && !ipv4_addr_eq(old, c.addr))
        tcp_addr_gone(s->tcp, old);
    if (!ipv4_addr_eq(old, c.addr) && s->on_addr)
        s->on_addr(s->on_addr_ctx, old, c.addr);
}

void net_set_addr_handler(struct net_stack *s, net_addr_fn fn, void *ctx)
{
    s->on_addr = fn;
    s->on_addr_ctx = ctx;
}

int net_config_parse(const char *ip_cidr, const char *gw, struct net_config *cfg)
{
    unsigned len;
    struct ipv4_addr a, g = {0};
    if (ipv4_cidr_parse(ip_cidr, &a, &len) < 0)
        return -1;
    if (gw && ipv4_addr_parse(gw, &g) < 0)
        return -1;
    cfg->addr = a;
    cfg->prefix_len = (uint8_t)len;
    cfg->gateway = g;
    return 0;
}

void net_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len)
{
    struct net_stack *s = nif->stack;
    struct view v;
    struct eth_rx r;
    if (!view_of_buf(&v, b, off, len) || (r = eth_rx(&s->eth, &v)).type == 0)
        goto out;
    if (r.type == ETH_TYPE_IPV4)
        ipv4_input(&s->ip, &s->demux, &v, r.flags);
    else
        arp_input(&s->arp, &v);
out:
    netbuf_unref(b);
}

void net_tick(struct net_stack *s, uint64_t now)
{
    arp_tick(&s->arp, now);
    ipv4_tick(&s->ip, now);
    if (tcp_next_deadline(s->tcp) <= now)
        tcp_tick(s->tcp, now);
    if (s->dhcp)
        dhcp_tick(s->dhcp, now);
    if (s->tcp_svc && tcp_services_next_deadline(s->tcp_svc) <= now)
        tcp_services_tick(s->tcp_svc, now);
    if (s->http && http_next_deadline(s->http) <= now)
        http_tick(s->http, now);
}

void net_set_deadline_hook(struct net_stack *s, void (*fn)(void *ctx, uint64_t t),
                           void *ctx)
{
    s->armed = s->arp.armed = s->ip.reass.armed = s->ip.armed =
        (struct net_deadline_hook){fn, ctx};
    tcp_set_deadline_hook(s->tcp, fn, ctx);
    if (s->tcp_svc)
        tcp_services_set_deadline_hook(s->tcp_svc, fn, ctx);
    if (s->http)
        http_set_deadline_hook(s->http, fn, ctx);
}

static uint64_t earlier(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t net_next_deadline(const struct net_stack *s)
{
    uint64_t d = earlier(arp_next_deadline(&s->arp), ipv4_next_deadline(&s->ip));
    d = earlier(d, tcp_next_deadline(s->tcp));
    if (s->tcp_svc)
        d = earlier(d, tcp_services_next_deadline(s->tcp_svc));
    if (s->http)
        d = earlier(d, http_next_deadline(s->http));
    if (s->dhcp)
        d = earlier(d, dhcp_next_deadline(s->dhcp));
    return d;
}

int net_tcp_services_enable(struct net_stack *s, const struct tcp_services_config *cfg)
{
    if (s->tcp_svc || !(s->tcp_svc = tcp_services_start(s->tcp, cfg)))
        return -1;
    tcp_services_set_deadline_hook(s->tcp_svc, s->armed.fn, s->armed.ctx);
    return 0;
}

int net_http_enable(struct net_stack *s, const struct http_config *cfg)
{
    static const struct http_config defaults;
    if (s->http || !(s->http = http_start(s->tcp, cfg ? cfg : &defaults)))
        return -1;
    http_set_deadline_hook(s->http, s->armed.fn, s->armed.ctx);
    return 0;
}

void net_set_tcp_handler(struct net_stack *s, ipv4_recv_fn fn, void *ctx)
{
    s->tcp_fn = fn;
    s->tcp_ctx = ctx;
}

void net_set_default_handler(struct net_stack *s, ipv4_default_fn fn, void *ctx)
{
    s->dflt = fn;
    s->dflt_ctx = ctx;
}

enum icmp_ping_status net_ping(struct net_stack *s, struct ipv4_addr dst, uint16_t seq,
                               uint32_t size, uint64_t timeout_ns,
                               struct icmp_ping_result *res, enum ipv4_err *err)
{
    return icmp_ping(&s->icmp, dst, seq, size, timeout_ns, res, err);
}
