/* The network's wiring (see kernel/netglue.h): a stack per virtio-net interface,
 * the built-in services, the counters of both sides. */
#include "netglue.h"

#include "console.h"
#include "drivers/virtio_net.h"
#include "log.h"
#include "net/stack.h"
#include "net_commands.h"
#include "net_timer.h"
#include "panic.h"

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
 * unconfigured (0.0.0.0). */
static void config_of(const struct kconfig *k, int i, struct net_config *nc)
{
    *nc = (struct net_config){0};
    if (i >= KCONFIG_NICS)
        return;
    nc->addr = ipv4_addr_from_host(k->nic[i].ip);
    nc->prefix_len = k->nic[i].prefix;
    nc->gateway = ipv4_addr_from_host(k->nic[i].gw);
}

static void start_stacks(const struct kconfig *k)
{
    for (int i = 0; i < vnet_count() && nstacks < VNET_MAX_DEVS; i++) {
        struct net_config nc;
        config_of(k, i, &nc);
        struct net_stack *s = net_stack_create(vnet_netif(i), &nc);
        if (!s)
            panic("net: out of memory creating the stack for net%d", i);
        stacks[nstacks++] = s;
        if (net_udp_echo_enable(s) < 0 || net_udp_discard_enable(s) < 0)
            log_warn("net", "net%d: could not enable UDP echo/discard", i);
        net_ifconfig_print(s, console_line, NULL);
    }
    if (nstacks) {
        net_timer_start();
        log_info("net", "UDP echo on port 7 and discard on port 9");
    }
}

void netglue_start(const struct kconfig *cfg)
{
    net_commands_register();
    if (cfg->mode == KMODE_NET)
        start_stacks(cfg);
}
