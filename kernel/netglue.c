/* mode=net: the stack on every virtio-net interface (the first gets the command
 * line's address), its timer thread, the built-in services, and the console
 * commands over the driver's and the stack's state. */
#include "netglue.h"

#include <stdio.h>
#include <stdlib.h>
#include "console.h"
#include "drivers/virtio_net.h"
#include "log.h"
#include "mem.h"
#include "net/log.h"
#include "net/stack.h"
#include "panic.h"
#include "sched.h"
#include "timer.h"

#define PING_TIMEOUT_NS 1000000000ull
#define PING_INTERVAL_NS 1000000000ull

static struct net_stack *stacks[VNET_MAX_DEVS];
static int nstacks;

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

static void print_vnet_stat(void *arg, const char *dev, const char *name, uint64_t v)
{
    (void)arg;
    printf("%s.%s=%llu\n", dev, name, (unsigned long long)v);
}

static void net_log_to_console(enum net_log_level level, const char *tag, const char *msg)
{
    log_msg((enum log_level)level, tag, "%s", msg);
}

static int cmd_stats(int argc, char **argv)
{
    (void)argc, (void)argv;
    vnet_stats_walk(print_vnet_stat, NULL);
    for (int i = 0; i < nstacks; i++)
        net_stats_print(stacks[i], print_line, NULL);
    struct mem_stats m;
    mem_get_stats(&m);
    printf("mem.free_bytes=%llu\nmem.dma_bytes=%llu\nmem.heap_bytes=%llu\n",
           (unsigned long long)m.free_pages * PAGE_SIZE, (unsigned long long)m.dma_bytes,
           (unsigned long long)m.heap_bytes);
    struct sched_stats s;
    sched_get_stats(&s);
    printf("sched.live=%llu\nsched.switches=%llu\n", (unsigned long long)s.live,
           (unsigned long long)s.switches);
    return 0;
}

static int cmd_ifconfig(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (nstacks == 0)
        printf("no interface has a stack (mode=net with a virtio-net device)\n");
    for (int i = 0; i < nstacks; i++)
        net_ifconfig_print(stacks[i], print_line, NULL);
    return 0;
}

static int cmd_arp(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (int i = 0; i < nstacks; i++)
        net_arp_print(stacks[i], print_line, NULL);
    return 0;
}

static int parse_uint_arg(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == 0 || *end != 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* ping <ip> [count] [size]: like ping(8), one request a second. */
static int cmd_ping(int argc, char **argv)
{
    struct ipv4_addr dst;
    unsigned long count = 4, size = 56;
    if (argc < 2 || argc > 4 || ipv4_addr_parse(argv[1], &dst) < 0 ||
        (argc > 2 && parse_uint_arg(argv[2], 100000, &count) < 0) ||
        (argc > 3 && parse_uint_arg(argv[3], 65507, &size) < 0)) {
        printf("usage: ping <a.b.c.d> [count (<= 100000)] [size (<= 65507)]\n");
        return 1;
    }
    if (nstacks == 0) {
        printf("ping: no network interface\n");
        return 1;
    }
    printf("PING %s: %lu data bytes\n", argv[1], size);
    unsigned long received = 0;
    uint64_t min = UINT64_MAX, max = 0, sum = 0;
    for (unsigned long seq = 1; seq <= count; seq++) {
        uint64_t t0 = timer_now_ns();
        struct icmp_ping_result res;
        enum ipv4_err err = IPV4_OK;
        enum icmp_ping_status st = net_ping(stacks[0], dst, (uint16_t)seq, (uint32_t)size,
                                            PING_TIMEOUT_NS, &res, &err);
        if (st == ICMP_PING_REPLY) {
            char from[IPV4_ADDR_STRLEN];
            received++;
            min = res.rtt_ns < min ? res.rtt_ns : min;
            max = res.rtt_ns > max ? res.rtt_ns : max;
            sum += res.rtt_ns;
            printf("%lu bytes from %s: icmp_seq=%lu ttl=%u time=%.3f ms\n",
                   (unsigned long)res.bytes + 8, ipv4_addr_fmt(res.from, from), seq,
                   res.ttl, (double)res.rtt_ns / 1e6);
        } else if (st == ICMP_PING_SEND_ERROR) {
            printf("ping: icmp_seq=%lu: %s\n", seq, ipv4_strerror(err));
        } else {
            printf("ping: icmp_seq=%lu: %s\n", seq, icmp_ping_status_name(st));
        }
        fflush(stdout);
        if (seq < count)
            thread_sleep_until(t0 + PING_INTERVAL_NS);
    }
    printf("--- %s ping statistics: %lu transmitted, %lu received, %lu%% loss\n", argv[1],
           count, received, (count - received) * 100 / count);
    if (received)
        printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", (double)min / 1e6,
               (double)sum / (double)received / 1e6, (double)max / 1e6);
    return received ? 0 : 1;
}

/* The timer thread sleeps until the stacks' next deadline, or until a layer
 * sets an earlier one (the stacks' deadline hook). */
static struct waitq timer_wq;
static uint64_t timer_sleeps_until; /* 0 while it runs */

static void deadline_armed(void *ctx, uint64_t t)
{
    (void)ctx;
    if (t < timer_sleeps_until)
        waitq_wake_one(&timer_wq);
}

/* Runs every layer's timers (ARP retries and expiry, reassembly expiry). */
static void net_timer_thread(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t now = timer_now_ns(), next = UINT64_MAX;
        for (int i = 0; i < nstacks; i++) {
            net_tick(stacks[i], now);
            uint64_t d = net_next_deadline(stacks[i]);
            next = d < next ? d : next;
        }
        if (next <= timer_now_ns()) {
            thread_yield();
            continue;
        }
        timer_sleeps_until = next;
        waitq_wait(&timer_wq, next);
        timer_sleeps_until = 0;
    }
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
        net_set_deadline_hook(s, deadline_armed, NULL);
        if (net_udp_echo_enable(s) < 0 || net_udp_discard_enable(s) < 0)
            log_warn("net", "net%d: could not enable UDP echo/discard", i);
    }
    if (nstacks) {
        struct thread *t = thread_spawn("net-timer", net_timer_thread, NULL, 0);
        if (!t)
            panic("net: cannot start the timer thread");
        thread_detach(t);
        log_debug("net", "UDP echo on port 7 and discard on port 9");
    }
}

void netglue_start(const struct kconfig *cfg)
{
    net_log_set_hook(net_log_to_console);
    net_log_set_level((enum net_log_level)cfg->log_level);
    console_register("stats", "every counter of every layer, name=value", cmd_stats);
    console_register("ifconfig", "address, MAC, MTU and link of each interface",
                     cmd_ifconfig);
    console_register("arp", "the ARP table", cmd_arp);
    console_register(
        "ping", "ping <a.b.c.d> [count] [size]: echo requests from the guest", cmd_ping);
    if (cfg->mode == KMODE_NET)
        start_stacks(cfg);
}
