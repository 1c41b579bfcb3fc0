/* The network's wiring (see kernel/netglue.h): a stack per virtio-net interface
 * (a DHCP client on those given ip=dhcp), one default gateway, TCP's secret and
 * memory caps, the built-in services, the counters of both sides. */
#include "netglue.h"

#include <stdio.h>
#include "commands.h"
#include "console.h"
#include "drivers/virtio_net.h"
#include "entropy.h"
#include "log.h"
#include "mem.h"
#include "net/dhcp.h"
#include "net/route.h"
#include "net/stack.h"
#include "net_commands.h"
#include "net_timer.h"
#include "panic.h"
#include "timer.h"

/* TCP's caps from the memory free when the stacks start (after the drivers took
 * their rings and buffers; thread stacks and the rest of the set-up take about
 * 400 KiB more after): buffers may take TCP_MEM_SHARE of it, shared by the
 * stacks; a connection block is about 540 bytes, a service's record about 100,
 * so TCP_CONN_COST per connection keeps them a small part of it; HTTP may hold
 * HTTP_BUF_SHARE of it for request heads and answers. Under -m 4 about 1.3 MiB
 * are free there: about 160 connections and 330 KiB of buffers, so that 100 idle
 * HTTP connections (each keeping one 2 KiB send chunk) and a bulk transfer fit
 * together, and about 900 KiB stay free once the guest is up. */
#define TCP_MEM_SHARE_NUM 1
#define TCP_MEM_SHARE_DEN 4
#define TCP_MEM_MIN (128u * 1024)
#define TCP_MEM_MAX (32u * 1024 * 1024)
#define TCP_CONN_COST 8192
#define TCP_CONNS_MIN 128
#define TCP_CONNS_MAX 1024
#define HTTP_BUF_SHARE 16
#define HTTP_BUF_MAX (256u * 1024)

static struct net_stack *stacks[VNET_MAX_DEVS];
static int nstacks;

int netglue_stack_count(void)
{
    return nstacks;
}

struct net_stack *netglue_stack(int i)
{
    return i >= 0 && i < nstacks ? stacks[i] : NULL;
}

struct net_stack *netglue_route(struct ipv4_addr dst)
{
    return net_route_pick(stacks, nstacks, dst);
}

void netglue_route_print(print_line_fn print, void *ctx)
{
    net_route_print(stacks, nstacks, print, ctx);
}

void netglue_stats_print(print_line_fn print, void *ctx)
{
    for (int i = 0; i < vnet_count(); i++) {
        struct vnet_stats vs;
        struct vnet_gauges vg;
        vnet_get_stats(i, &vs);
        vnet_get_gauges(i, &vg);
        counters_print(vnet_netif(i)->name, &vnet_counter_table, &vs, print, ctx);
        counters_print(vnet_netif(i)->name, &vnet_gauge_table, &vg, print, ctx);
    }
    /* net0's layers keep the plain names every test and script reads. */
    for (int i = 0; i < nstacks; i++)
        net_stats_print(stacks[i], i ? stacks[i]->nif->name : NULL, print, ctx);
}

static uint32_t clamp32(uint64_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : (uint32_t)v;
}

/* The same for every stack: the secret (one per boot) and the caps. */
static void tcp_tuning(struct tcp_config *tc, uint32_t *http_buf)
{
    struct mem_stats m;
    mem_get_stats(&m);
    uint64_t free_bytes = m.free_pages * PAGE_SIZE;
    int n = vnet_count() > 0 ? vnet_count() : 1;
    enum entropy_source src = entropy_fill(tc->secret, sizeof tc->secret);
    tc->mem_max =
        clamp32(free_bytes * TCP_MEM_SHARE_NUM / TCP_MEM_SHARE_DEN / (uint64_t)n,
                TCP_MEM_MIN, TCP_MEM_MAX);
    tc->max_conns =
        clamp32(free_bytes / TCP_CONN_COST / (uint64_t)n, TCP_CONNS_MIN, TCP_CONNS_MAX);
    *http_buf =
        clamp32(free_bytes / HTTP_BUF_SHARE / (uint64_t)n, 32 * 1024, HTTP_BUF_MAX);
    log_info("net",
             "TCP: secret from %s; per interface %u connections, %u KiB of buffers",
             entropy_source_name(src), (unsigned)tc->max_conns,
             (unsigned)(tc->mem_max / 1024));
}

/* net<i>'s addressing from the command line; without one it comes up
 * unconfigured (0.0.0.0), as it does with ip=dhcp until a lease comes. */
static void config_of(const struct kconfig *k, int i, struct net_config *nc)
{
    struct tcp_config tc = nc->tcp;
    *nc = (struct net_config){.tcp = tc};
    if (i >= KCONFIG_NICS || k->nic[i].dhcp)
        return;
    nc->addr = ipv4_addr_from_host(k->nic[i].ip);
    nc->prefix_len = k->nic[i].prefix;
    nc->gateway = ipv4_addr_from_host(k->nic[i].gw);
}

/* One default gateway (net/route.h): the first interface given one, by gw=
 * (with an address) or by ip=dhcp (the lease's router), keeps it. A later
 * interface's gw= is dropped, and its DHCP client leaves the lease's router
 * unused; the console says so. Returns whether net<i> may hold a gateway. */
static bool gateway_allowed(const struct kconfig *k, int i, int *owner)
{
    char g[IPV4_ADDR_STRLEN];
    if (i >= KCONFIG_NICS)
        return false;
    const struct knic *n = &k->nic[i];
    if (!n->dhcp && !(n->ip && n->gw))
        return true; /* none asked for */
    if (*owner < 0) {
        *owner = i;
        return true;
    }
    if (n->dhcp)
        log_warn("net",
                 "net%d: a DHCP router will not be used: the default gateway is "
                 "net%d's (one default gateway: the first interface given one)",
                 i, *owner);
    else
        log_warn("net",
                 "net%d: gw=%s not used: the default gateway is net%d's (one "
                 "default gateway: the first interface given one)",
                 i, ipv4_addr_fmt(ipv4_addr_from_host(n->gw), g), *owner);
    return false;
}

/* ip=dhcp: the client, its xids and jitter seeded from the TSC (another draw
 * every boot, and per interface). */
static void start_dhcp(struct net_stack *s, int i, bool router)
{
    struct dhcp_config dc = {.seed = timer_rdtsc() * 0x9e3779b97f4a7c15ull + (uint64_t)i,
                             .no_router = !router};
    enum dhcp_err e = dhcp_start(s, &dc);
    if (e != DHCP_OK)
        log_error("net", "net%d: DHCP did not start (error %d)", i, (int)e);
}

/* ------------------------------------------------------------ HTTP's pages */

/* GET /: uptime, interfaces and their addresses, the services. */
static void http_page(void *ctx, print_line_fn print, void *pctx)
{
    char line[96];
    uint64_t ns = timer_now_ns();
    (void)ctx;
    snprintf(line, sizeof line, "uptime %llu.%03llu s",
             (unsigned long long)(ns / 1000000000u),
             (unsigned long long)(ns / 1000000u % 1000u));
    print(pctx, line);
    print(pctx,
          "services: TCP echo 7, discard 9, chargen 19, HTTP 80; UDP echo 7, discard 9");
    print(pctx, "");
    for (int i = 0; i < nstacks; i++)
        net_ifconfig_print(stacks[i], print, pctx);
}

/* GET /stats: what the console's `stats` prints. */
static void http_stats(void *ctx, print_line_fn print, void *pctx)
{
    (void)ctx;
    netglue_stats_print(print, pctx);
    kernel_counters_print(print, pctx);
}

static void enable_services(struct net_stack *s, int i, uint32_t http_buf)
{
    struct http_config hc = {.page = http_page, .stats = http_stats, .buf_max = http_buf};
    if (net_udp_echo_enable(s) < 0 || net_udp_discard_enable(s) < 0)
        log_warn("net", "net%d: could not enable UDP echo/discard", i);
    if (net_tcp_services_enable(s, NULL) < 0)
        log_warn("net", "net%d: could not enable TCP echo/discard/chargen", i);
    if (net_http_enable(s, &hc) < 0)
        log_warn("net", "net%d: could not enable HTTP", i);
}

static void start_stacks(const struct kconfig *k)
{
    struct net_config nc = {0};
    uint32_t http_buf;
    int gw_owner = -1;
    tcp_tuning(&nc.tcp, &http_buf);
    for (int i = 0; i < vnet_count() && nstacks < VNET_MAX_DEVS; i++) {
        config_of(k, i, &nc);
        bool router = gateway_allowed(k, i, &gw_owner);
        if (!router)
            nc.gateway = (struct ipv4_addr){0};
        struct net_stack *s = net_stack_create(vnet_netif(i), &nc);
        if (!s)
            panic("net: out of memory creating the stack for net%d", i);
        stacks[nstacks++] = s;
        net_set_deadline_hook(s, net_timer_deadline_armed, NULL);
        enable_services(s, i, http_buf);
        if (i < KCONFIG_NICS && k->nic[i].dhcp)
            start_dhcp(s, i, router);
    }
    if (nstacks) {
        net_timer_start();
        log_debug("net",
                  "UDP echo 7, discard 9; TCP echo 7, discard 9, chargen 19, HTTP 80");
    }
}

void netglue_start(const struct kconfig *cfg)
{
    net_commands_register();
    if (cfg->mode == KMODE_NET)
        start_stacks(cfg);
}
