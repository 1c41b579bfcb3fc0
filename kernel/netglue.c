/* The network's wiring (see kernel/netglue.h): a stack per virtio-net interface
 * (a DHCP client on those given ip=dhcp), one default gateway, the built-in
 * services, the counters of both sides. */
#include "netglue.h"

#include "console.h"
#include "drivers/virtio_net.h"
#include "log.h"
#include "net/dhcp.h"
#include "net/route.h"
#include "net/stack.h"
#include "net_commands.h"
#include "net_timer.h"
#include "panic.h"
#include "timer.h"

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

/* net<i>'s addressing from the command line; without one it comes up
 * unconfigured (0.0.0.0), as it does with ip=dhcp until a lease comes. */
static void config_of(const struct kconfig *k, int i, struct net_config *nc)
{
    *nc = (struct net_config){0};
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

static void start_stacks(const struct kconfig *k)
{
    int gw_owner = -1;
    for (int i = 0; i < vnet_count() && nstacks < VNET_MAX_DEVS; i++) {
        struct net_config nc;
        config_of(k, i, &nc);
        bool router = gateway_allowed(k, i, &gw_owner);
        if (!router)
            nc.gateway = (struct ipv4_addr){0};
        struct net_stack *s = net_stack_create(vnet_netif(i), &nc);
        if (!s)
            panic("net: out of memory creating the stack for net%d", i);
        stacks[nstacks++] = s;
        net_set_deadline_hook(s, net_timer_deadline_armed, NULL);
        if (net_udp_echo_enable(s) < 0 || net_udp_discard_enable(s) < 0)
            log_warn("net", "net%d: could not enable UDP echo/discard", i);
        if (i < KCONFIG_NICS && k->nic[i].dhcp)
            start_dhcp(s, i, router);
    }
    if (nstacks) {
        net_timer_start();
        log_debug("net", "UDP echo on port 7 and discard on port 9");
    }
}

void netglue_start(const struct kconfig *cfg)
{
    net_commands_register();
    if (cfg->mode == KMODE_NET)
        start_stacks(cfg);
}
