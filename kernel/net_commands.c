/* The console commands over the network (see kernel/net_commands.h): they read
 * the stacks through kernel/netglue.h and print with printf. */
#include "net_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include "commands.h"
#include "console.h"
#include "net/dhcp.h"
#include "net/stack.h"
#include "netglue.h"
#include "sched.h"
#include "timer.h"

#define PING_TIMEOUT_NS 1000000000ull
#define PING_INTERVAL_NS 1000000000ull
#define PING_MAX_COUNT 100000

static int cmd_stats(int argc, char **argv)
{
    (void)argc, (void)argv;
    netglue_stats_print(console_line, NULL);
    kernel_counters_print(console_line, NULL);
    return 0;
}

static int cmd_ifconfig(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (netglue_stack_count() == 0)
        printf("no interface has a stack (mode=net with a virtio-net device)\n");
    for (int i = 0; i < netglue_stack_count(); i++)
        net_ifconfig_print(netglue_stack(i), console_line, NULL);
    return 0;
}

static int cmd_arp(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (int i = 0; i < netglue_stack_count(); i++)
        net_arp_print(netglue_stack(i), console_line, NULL);
    return 0;
}

static int cmd_route(int argc, char **argv)
{
    (void)argc, (void)argv;
    netglue_route_print(console_line, NULL);
    return 0;
}

static int cmd_dhcp(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (int i = 0; i < netglue_stack_count(); i++)
        dhcp_print(netglue_stack(i), console_line, NULL);
    return 0;
}

/* ---------------------------------------------------------------- tcp */

static void tcp_row(void *ctx, const struct tcp_flow_info *fi)
{
    char la[IPV4_ADDR_STRLEN], ra[IPV4_ADDR_STRLEN], l[32], r[32];
    (void)ctx;
    snprintf(l, sizeof l, "%s:%u", ipv4_addr_fmt(fi->laddr, la), fi->lport);
    snprintf(r, sizeof r, "%s:%u", ipv4_addr_fmt(fi->raddr, ra), fi->rport);
    printf("%-21s %-21s %-12s %7lu %7lu %8.3f %7lu %5lu %7lu %7lu %7lu\n", l, r,
           tcp_state_name(fi->state), (unsigned long)fi->snd_wnd,
           (unsigned long)fi->rcv_wnd, (double)fi->srtt_us / 1000.0,
           (unsigned long)fi->cwnd, (unsigned long)fi->mss, (unsigned long)fi->unacked,
           (unsigned long)fi->unsent, (unsigned long)fi->unread);
}

/* The path MTUs learnt (RFC 1191), with the time they have left. */
static void pmtu_rows(const struct net_stack *s)
{
    struct ipv4_pmtu_entry e[IPV4_PMTU_ENTRIES];
    uint64_t now = timer_now_ns();
    int n = ipv4_pmtu_list(&s->ip, e, IPV4_PMTU_ENTRIES);
    for (int i = 0; i < n && i < IPV4_PMTU_ENTRIES; i++) {
        char a[IPV4_ADDR_STRLEN];
        printf("path MTU toward %s: %u (for %llu s more)\n", ipv4_addr_fmt(e[i].dst, a),
               e[i].mtu, (unsigned long long)((e[i].expires - now) / 1000000000u));
    }
}

/* The connection table of every stack, after its listening ports, then the path
 * MTUs learnt. */
static int cmd_tcp(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (int i = 0; i < netglue_stack_count(); i++) {
        struct net_stack *s = netglue_stack(i);
        struct tcp_gauges g;
        uint16_t ports[16];
        int n = tcp_listen_ports(s->tcp, ports, 16);
        tcp_gauges(s->tcp, &g);
        printf("%s: %lu connections (%lu half-open), %lu KiB in buffers; listening on",
               s->nif->name ? s->nif->name : "net", (unsigned long)g.conns,
               (unsigned long)g.half_open, (unsigned long)(g.mem_used / 1024));
        for (int k = 0; k < n && k < 16; k++)
            printf(" %u", ports[k]);
        printf("\n%-21s %-21s %-12s %7s %7s %8s %7s %5s %7s %7s %7s\n", "local", "remote",
               "state", "snd_wnd", "rcv_wnd", "rtt_ms", "cwnd", "mss", "unacked",
               "unsent", "unread");
        tcp_foreach(s->tcp, tcp_row, NULL);
        pmtu_rows(s);
    }
    return 0;
}

/* ---------------------------------------------------------------- ping */

struct ping_run {
    const char *dst_text;
    struct ipv4_addr dst;
    unsigned long count, size;
    unsigned long received;
    uint64_t min, max, sum; /* round-trip times of the replies */
};

static int parse_uint_arg(const char *s, unsigned long min, unsigned long max,
                          unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == 0 || *end != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* ping <ip> [count] [size]; false (usage printed) when malformed. */
static bool ping_args(int argc, char **argv, struct ping_run *r)
{
    *r = (struct ping_run){.count = 4, .size = 56, .min = UINT64_MAX};
    if (argc >= 2 && argc <= 4 && ipv4_addr_parse(r->dst_text = argv[1], &r->dst) == 0 &&
        (argc < 3 || parse_uint_arg(argv[2], 1, PING_MAX_COUNT, &r->count) == 0) &&
        (argc < 4 || parse_uint_arg(argv[3], 0, ICMP_PING_MAX_DATA, &r->size) == 0))
        return true;
    printf("usage: ping <a.b.c.d> [count (1..%d)] [size (<= %d)]\n", PING_MAX_COUNT,
           ICMP_PING_MAX_DATA);
    return false;
}

/* One echo request, out of the interface the routes pick for it now (a lease
 * may come or go between two), and its line of output. */
static void ping_once(struct ping_run *r, unsigned long seq)
{
    struct icmp_ping_result res;
    enum ipv4_err err = IPV4_ENOROUTE;
    struct net_stack *s = netglue_route(r->dst);
    enum icmp_ping_status st = s ? net_ping(s, r->dst, (uint16_t)seq, (uint32_t)r->size,
                                            PING_TIMEOUT_NS, &res, &err)
                                 : ICMP_PING_SEND_ERROR;
    if (st == ICMP_PING_REPLY) {
        char from[IPV4_ADDR_STRLEN];
        r->received++;
        r->min = res.rtt_ns < r->min ? res.rtt_ns : r->min;
        r->max = res.rtt_ns > r->max ? res.rtt_ns : r->max;
        r->sum += res.rtt_ns;
        printf("%lu bytes from %s: icmp_seq=%lu ttl=%u time=%.3f ms\n",
               (unsigned long)res.bytes + 8, ipv4_addr_fmt(res.from, from), seq, res.ttl,
               (double)res.rtt_ns / 1e6);
    } else {
        printf("ping: icmp_seq=%lu: %s\n", seq,
               st == ICMP_PING_SEND_ERROR ? ipv4_strerror(err)
                                          : icmp_ping_status_name(st));
    }
    fflush(stdout);
}

static void ping_summary(const struct ping_run *r)
{
    printf("--- %s ping statistics: %lu transmitted, %lu received, %lu%% loss\n",
           r->dst_text, r->count, r->received, (r->count - r->received) * 100 / r->count);
    if (r->received)
        printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", (double)r->min / 1e6,
               (double)r->sum / (double)r->received / 1e6, (double)r->max / 1e6);
}

/* Like ping(8): one request a second, a line per answer, the statistics. */
static int cmd_ping(int argc, char **argv)
{
    struct ping_run r;
    if (!ping_args(argc, argv, &r))
        return 1;
    if (netglue_stack_count() == 0) {
        printf("ping: no network interface\n");
        return 1;
    }
    struct net_stack *s = netglue_route(r.dst);
    printf("PING %s (%s): %lu data bytes\n", r.dst_text, s ? s->nif->name : "no route",
           r.size);
    for (unsigned long seq = 1; seq <= r.count; seq++) {
        uint64_t t0 = timer_now_ns();
        ping_once(&r, seq);
        if (seq < r.count)
            thread_sleep_until(t0 + PING_INTERVAL_NS);
    }
    ping_summary(&r);
    return r.received ? 0 : 1;
}

void net_commands_register(void)
{
    console_register("stats", "every counter of every layer, name=value", cmd_stats);
    console_register("ifconfig", "address, MAC, MTU and link of each interface",
                     cmd_ifconfig);
    console_register("arp", "the ARP table", cmd_arp);
    console_register("route", "the routes: on-link prefixes, the default gateway",
                     cmd_route);
    console_register("dhcp", "each interface's DHCP client: state, lease, timers",
                     cmd_dhcp);
    console_register(
        "tcp", "TCP connections: addresses, state, windows, RTT, cwnd, queues", cmd_tcp);
    console_register(
        "ping", "ping <a.b.c.d> [count] [size]: echo requests from the guest", cmd_ping);
}
