/* UDP input, ports and sending (see net/udp.h). Input keeps the data's partial
 * sum from udp_header_parse, so a callback that sends the same bytes back can
 * reuse it. */
#include "net/udp.h"

#define UDP_DESC(n) COUNTER_DESC(struct udp_stats, n)
const struct counter_table udp_counter_table = COUNTER_REGISTRY(UDP_COUNTERS, UDP_DESC);

void udp_init(struct udp *u, struct ipv4 *ip, struct icmp *icmp)
{
    memset(u, 0, sizeof *u);
    u->ip = ip;
    u->icmp = icmp;
}

static struct udp_bind *find(struct udp *u, uint16_t port)
{
    for (int i = 0; i < u->nbinds; i++)
        if (u->binds[i].port == port)
            return &u->binds[i];
    return NULL;
}

int udp_bind(struct udp *u, uint16_t port, udp_recv_fn fn, void *ctx)
{
    if (port == 0 || !fn || find(u, port) || u->nbinds == UDP_MAX_BINDS)
        return -1;
    u->binds[u->nbinds++] = (struct udp_bind){.port = port, .fn = fn, .ctx = ctx};
    return 0;
}

void udp_unbind(struct udp *u, uint16_t port)
{
    struct udp_bind *b = find(u, port);
    if (b)
        *b = u->binds[--u->nbinds];
}

/* The counter each refusal of udp_header_parse bumps. */
#define UDP_DROP(err, name) [UDP_WIRE_##err] = COUNTER_OFF(struct udp_stats, drop_##name),
static const uint16_t parse_drop[] = {UDP_WIRE_ERRORS(UDP_DROP)};

void udp_input(struct udp *u, const struct ipv4_rxinfo *info, struct view *pkt)
{
    struct udp_rxinfo ri;
    struct udp_repr r;
    struct view data;
    enum udp_wire_err e;
    u->st.rx++;
    if ((e = udp_header_parse(pkt, info->src, info->dst, &r, &ri.data_sum)) !=
        UDP_WIRE_OK) {
        counter_inc(&u->st, parse_drop[e]);
        goto drop;
    }
    ri.data_sum_valid = r.csum != 0;
    if (!ri.data_sum_valid)
        u->st.rx_no_csum++;
    ri.src = info->src;
    ri.dst = info->dst;
    ri.sport = r.sport;
    ri.dport = r.dport;
    ri.ip = info;
    struct udp_bind *b = find(u, r.dport);
    if (!b) {
        u->st.drop_no_port++;
        icmp_send_error(u->icmp, ICMP_DEST_UNREACH, ICMP_CODE_PORT_UNREACH, 0, info, pkt);
        goto drop;
    }
    data = *pkt; /* the parse bounded r.len by pkt->len */
    data.off += UDP_HDR_LEN;
    data.len = r.len - UDP_HDR_LEN;
    u->st.delivered++;
    b->fn(b->ctx, &ri, &data);
    return;
drop:
    log_debug("udp", "dropped a datagram");
}

struct udp_hdr_ctx {
    struct udp_repr r;
    struct ipv4_addr src, dst;
    const struct view *data;
    int n;
    const uint64_t *data_sum;
};

static uint32_t udp_header(void *ctx, const struct view *hv)
{
    struct udp_hdr_ctx *c = ctx;
    uint8_t *p = view_data(hv);
    c->r.csum = 0;
    udp_header_emit(&c->r, p);
    uint64_t d = c->data_sum ? *c->data_sum : csum_views(0, c->data, c->n);
    udp_set_csum(p, udp_checksum(c->src, c->dst, p, d));
    return UDP_HDR_LEN;
}

enum ipv4_err udp_sendto(struct udp *u, uint16_t sport, struct ipv4_addr dst,
                         uint16_t dport, const struct view *data, int n,
                         const struct udp_send_opts *opts)
{
    static const struct udp_send_opts defaults;
    const struct udp_send_opts *o = opts ? opts : &defaults;
    struct udp_hdr_ctx c;
    uint32_t len = UDP_HDR_LEN + view_list_len(data, n);
    enum ipv4_err err = IPV4_ETOOBIG;
    if (len > UDP_HDR_LEN + UDP_MAX_DATA)
        goto fail;
    c.r = (struct udp_repr){sport, dport, (uint16_t)len, 0};
    c.src = ipv4_addr_is_any(o->ip.src) ? ipv4_src(u->ip, dst) : o->ip.src;
    c.dst = dst;
    c.data = data;
    c.n = n;
    c.data_sum = o->data_sum;
    err = ipv4_write(u->ip, &o->ip, dst, IPV4_PROTO_UDP, UDP_HDR_LEN, udp_header, &c,
                     data, n);
    if (err != IPV4_OK)
        goto fail;
    u->st.tx++;
    return IPV4_OK;
fail:
    u->st.tx_errors++;
    return err;
}
