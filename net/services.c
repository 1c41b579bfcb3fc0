/* Built-in UDP services (see net/stack.h): echo on port 7 sends the data back
 * from the RX path (zero copy: the reply's payload segments are the request's
 * buffer, and its checksum reuses the data sum input computed); discard on port 9
 * counts and drops. Neither answers broadcast or multicast datagrams. */
#include "net/stack.h"

#define NET_SERVICE_DESC(n) COUNTER_DESC(struct net_service_stats, n)
const struct counter_table net_service_counter_table =
    COUNTER_REGISTRY(NET_SERVICE_COUNTERS, NET_SERVICE_DESC);

#define UDP_PORT_ECHO 7
#define UDP_PORT_DISCARD 9

static void echo(void *ctx, const struct udp_rxinfo *info, struct view *data)
{
    struct net_stack *s = ctx;
    struct udp_send_opts o = {.ip = {.nowait = true},
                              .data_sum = info->data_sum_valid ? &info->data_sum : NULL};
    s->svc.echo_rx++;
    if (info->ip->flags & IPV4_RX_BCAST) {
        s->svc.echo_ignored_bcast++;
        return;
    }
    if (udp_sendto(&s->udp, UDP_PORT_ECHO, info->src, info->sport, data, 1, &o) ==
        IPV4_OK)
        s->svc.echo_tx++;
    else
        s->svc.echo_errors++;
}

static void discard(void *ctx, const struct udp_rxinfo *info, struct view *data)
{
    struct net_stack *s = ctx;
    (void)info;
    s->svc.discard_rx++;
    s->svc.discard_bytes += data->len;
}

int net_udp_echo_enable(struct net_stack *s)
{
    return udp_bind(&s->udp, UDP_PORT_ECHO, echo, s);
}

int net_udp_discard_enable(struct net_stack *s)
{
    return udp_bind(&s->udp, UDP_PORT_DISCARD, discard, s);
}
