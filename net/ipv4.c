/* IPv4: configuration, IPV4's small operations, and input (validation in the
 * order docs/ipv4.md gives, destination filter, reassembly, demux). Writing is in
 * net/ipv4_write.c. */
#include "net/ipv4.h"

#define IPV4_DESC(n) COUNTER_DESC(struct ipv4_stats, n)
const struct counter_table ipv4_counter_table =
    COUNTER_REGISTRY(IPV4_COUNTERS, IPV4_DESC);

int ipv4_init(struct ipv4 *ip, struct eth *eth, struct arp *arp,
              const struct ipv4_limits *limits)
{
    static const struct ipv4_limits none;
    if (!limits)
        limits = &none;
    memset(ip, 0, sizeof *ip);
    ip->eth = eth;
    ip->arp = arp;
    ip->mtu = eth->nif->mtu ? eth->nif->mtu : 1500;
    ip->pmtu.next = UINT64_MAX;
    /* Identification: any start will do; the clock makes reboots differ. */
    ip->next_id = (uint16_t)(plat_now_ns() >> 10);
    return ipv4_reass_init(&ip->reass, limits->reass_max_dgrams, limits->reass_max_bytes,
                           limits->reass_timeout_ns);
}

/* Nothing learned under the old address may outlive it: ARP entries (and the
 * frames queued on them, which carry the old source), datagrams being
 * reassembled for it. The route cache is cleared by every configuration. */
static void forget_addr(struct ipv4 *ip, struct ipv4_addr old)
{
    arp_flush(ip->arp);
    if (!ipv4_addr_is_any(old))
        ipv4_reass_drop_dst(&ip->reass, old);
}

void ipv4_configure(struct ipv4 *ip, const struct ipv4_config *cfg)
{
    if (!ipv4_addr_eq(ip->addr, cfg->addr))
        forget_addr(ip, ip->addr);
    ip->addr = cfg->addr;
    ip->prefix_len = cfg->prefix_len > 32 ? 32 : cfg->prefix_len;
    ip->netmask = ipv4_addr_netmask(ip->prefix_len);
    ip->bcast.be = ip->addr.be | ~ip->netmask.be;
    ip->gateway = cfg->gateway;
    memset(&ip->rc, 0, sizeof ip->rc); /* routes may have changed */
    ip->pmtu.n = 0;                    /* and so the paths */
    ip->pmtu.next = UINT64_MAX;
    arp_set_addr(ip->arp, ip->addr);
}

int ipv4_set_mtu(struct ipv4 *ip, uint16_t mtu)
{
    if (mtu < IPV4_MIN_MTU || (ip->eth->nif->mtu && mtu > ip->eth->nif->mtu))
        return -1;
    ip->mtu = mtu;
    return 0;
}

/* ------------------------------------------------------------ small operations */

struct ipv4_addr ipv4_src(const struct ipv4 *ip, struct ipv4_addr dst)
{
    (void)dst; /* one address per interface */
    return ip->addr;
}

int ipv4_get_ip(const struct ipv4 *ip, struct ipv4_addr *out, int cap)
{
    if (cap > 0)
        out[0] = ip->addr;
    return 1;
}

uint32_t ipv4_mtu(const struct ipv4 *ip, struct ipv4_addr dst)
{
    return (uint32_t)ipv4_path_mtu(ip, dst) - IPV4_HDR_LEN;
}

void ipv4_pseudoheader(const struct ipv4 *ip, const struct ipv4_addr *src,
                       struct ipv4_addr dst, uint8_t proto, uint16_t len, uint8_t out[12])
{
    ipv4_addr_store(out, src ? *src : ip->addr);
    ipv4_addr_store(out + 4, dst);
    out[8] = 0;
    out[9] = proto;
    net_wr16(out + 10, len);
}

uint64_t ipv4_pseudoheader_sum(const struct ipv4 *ip, const struct ipv4_addr *src,
                               struct ipv4_addr dst, uint8_t proto, uint16_t len)
{
    return ipv4_pseudo_sum(src ? *src : ip->addr, dst, proto, len);
}

void ipv4_disconnect(struct ipv4 *ip)
{
    if (ip->disconnected)
        return;
    ip->disconnected = true;
    arp_disconnect(ip->arp);
    ipv4_reass_free(&ip->reass);
}

int ipv4_join(struct ipv4 *ip, struct ipv4_addr group)
{
    if (!ipv4_addr_is_mcast(group))
        return -1;
    for (int i = 0; i < IPV4_MCAST_MAX; i++)
        if (ipv4_addr_is_any(ip->groups[i])) {
            struct eth_addr m = eth_addr_of_ipv4_mcast(group);
            if (eth_mcast_join(ip->eth, &m) < 0)
                return -1;
            ip->groups[i] = group;
            return 0;
        }
    return -1;
}

static bool subnet_bcast(const struct ipv4 *ip, struct ipv4_addr a)
{
    return !ipv4_addr_is_any(ip->addr) && ip->prefix_len <= 30 && a.be == ip->bcast.be;
}

enum ipv4_err ipv4_next_hop(const struct ipv4 *ip, struct ipv4_addr dst,
                            struct ipv4_addr *hop, struct eth_addr *mac, bool *derived)
{
    *hop = dst;
    if (ipv4_addr_is_bcast(dst) || subnet_bcast(ip, dst)) {
        memset(mac->b, 0xff, 6);
        *derived = true;
        return IPV4_OK;
    }
    if (ipv4_addr_is_mcast(dst)) {
        *mac = eth_addr_of_ipv4_mcast(dst);
        *derived = true;
        return IPV4_OK;
    }
    *derived = false;
    if (ipv4_addr_is_any(dst))
        return IPV4_EINVAL;
    if (ipv4_addr_is_any(ip->addr) || ipv4_addr_eq(dst, ip->addr))
        return IPV4_ENOROUTE;
    if (((dst.be ^ ip->addr.be) & ip->netmask.be) == 0)
        return IPV4_OK;
    if (ipv4_addr_is_any(ip->gateway))
        return IPV4_ENOROUTE;
    *hop = ip->gateway;
    return IPV4_OK;
}

/* ------------------------------------------------------------ timers */

void ipv4_set_reass_timeout_handler(struct ipv4 *ip, ipv4_reass_timeout_fn fn, void *ctx)
{
    ip->on_reass_timeout = fn;
    ip->on_reass_timeout_ctx = ctx;
}

/* What a callback learns of a datagram, from its (checked) header at p. */
static inline void rxinfo_read(struct ipv4_rxinfo *info, const uint8_t *p)
{
    info->proto = ipv4_get_proto(p);
    info->ttl = ipv4_get_ttl(p);
    info->tos = ipv4_get_tos(p);
    info->src = ipv4_get_src(p);
    info->dst = ipv4_get_dst(p);
}

static void reass_expired(void *ctx, const struct view *hdr, const struct view *data8,
                          unsigned flags)
{
    struct ipv4 *ip = ctx;
    struct ipv4_rxinfo info;
    rxinfo_read(&info, view_data(hdr));
    info.flags = flags;
    info.hdr = *hdr;
    if (ip->on_reass_timeout)
        ip->on_reass_timeout(ip->on_reass_timeout_ctx, &info, data8);
}

void ipv4_tick(struct ipv4 *ip, uint64_t now)
{
    ipv4_reass_tick(&ip->reass, now, reass_expired, ip);
    if (ip->pmtu.next <= now)
        ipv4_pmtu_expire(ip, now);
}

uint64_t ipv4_next_deadline(const struct ipv4 *ip)
{
    uint64_t r = ipv4_reass_deadline(&ip->reass);
    return r < ip->pmtu.next ? r : ip->pmtu.next;
}

/* ------------------------------------------------------------ input */

/* Ours, limited or subnet broadcast, or a group we joined. */
static bool dst_accepted(const struct ipv4 *ip, struct ipv4_addr dst, unsigned *flags)
{
    if (dst.be == ip->addr.be && !ipv4_addr_is_any(dst))
        return true;
    if (ipv4_addr_is_bcast(dst) || subnet_bcast(ip, dst)) {
        *flags |= IPV4_RX_BCAST;
        return true;
    }
    if (ipv4_addr_is_mcast(dst))
        for (int i = 0; i < IPV4_MCAST_MAX; i++)
            if (ip->groups[i].be == dst.be) {
                *flags |= IPV4_RX_BCAST;
                return true;
            }
    return false;
}

/* Martian sources: multicast or limited broadcast (first octet 224 and up),
 * loopback, our subnet's broadcast, or our own address. */
static bool src_ok(const struct ipv4 *ip, struct ipv4_addr src)
{
    uint8_t o1 = (uint8_t)(ipv4_addr_host(src) >> 24);
    if (o1 >= 224 || o1 == 127)
        return false;
    return (src.be != ip->addr.be || ipv4_addr_is_any(src)) && !subnet_bcast(ip, src);
}

/* The counter each refusal of ipv4_header_check bumps. */
#define IPV4_DROP(err, name)                                                             \
    [IPV4_WIRE_##err] = COUNTER_OFF(struct ipv4_stats, drop_##name),
static const uint16_t bad_header_drop[] = {IPV4_WIRE_ERRORS(IPV4_DROP)};

static inline void deliver(struct ipv4 *ip, const struct ipv4_demux *d,
                           const struct ipv4_rxinfo *info, struct view *payload)
{
    ipv4_recv_fn fn = info->proto == IPV4_PROTO_UDP    ? d->udp
                      : info->proto == IPV4_PROTO_ICMP ? d->icmp
                      : info->proto == IPV4_PROTO_TCP  ? d->tcp
                                                       : NULL;
    ip->st.delivered++;
    if (fn)
        fn(d->ctx, info, payload);
    else if (d->dflt)
        d->dflt(d->ctx, info->proto, info, payload);
}

static void reassemble(struct ipv4 *ip, const struct ipv4_demux *d,
                       struct ipv4_rxinfo *info, struct view *payload)
{
    struct ipv4_repr h;
    struct view hdr, data;
    ip->st.rx_frags++;
    ipv4_header_read(view_data(&info->hdr), &h);
    switch (ipv4_reass_add(&ip->reass, &h, &info->hdr, payload, info->flags,
                           plat_now_ns(), &hdr, &data)) {
    case REASS_KEPT:
        return;
    case REASS_DROPPED:
        ip->st.drop_reass++;
        return;
    case REASS_DONE:
        break;
    }
    info->hdr = hdr;
    info->flags |= IPV4_RX_REASSEMBLED;
    deliver(ip, d, info, &data);
    view_release(&data);
}

void ipv4_input(struct ipv4 *ip, const struct ipv4_demux *d, struct view *pkt,
                unsigned link_flags)
{
    struct ipv4_rxinfo info;
    struct view payload;
    ip->st.rx++;
    if (ip->disconnected) {
        ip->st.drop_disconnected++;
        goto drop;
    }
    enum ipv4_wire_err e = ipv4_header_check(pkt);
    if (e != IPV4_WIRE_OK) {
        counter_inc(&ip->st, bad_header_drop[e]);
        goto drop;
    }
    const uint8_t *p = view_data(pkt);
    /* Everything read from the header once, before the stores into info. */
    uint32_t hl = ipv4_get_hdr_len(p), total = ipv4_get_total_len(p);
    bool fragment = ipv4_is_fragment(p);
    rxinfo_read(&info, p);
    info.flags = (link_flags & ETH_RX_BCAST) ? IPV4_RX_BCAST : 0;
    if (!dst_accepted(ip, info.dst, &info.flags)) {
        ip->st.drop_not_ours++;
        goto drop;
    }
    if (!src_ok(ip, info.src)) {
        ip->st.drop_bad_src++;
        goto drop;
    }
    /* The checks above bound both views: no need to check again. */
    info.hdr = *pkt;
    info.hdr.len = hl;
    payload = *pkt;
    payload.off += hl;
    payload.len = total - hl; /* trims Ethernet padding */
    ip->in_input = true;      /* writes from the callbacks must not block */
    if (fragment)
        reassemble(ip, d, &info, &payload);
    else
        deliver(ip, d, &info, &payload);
    ip->in_input = false;
    return;
drop:
    log_debug("ipv4", "dropped a datagram");
}

/* ------------------------------------------------------------ counters */

const char *ipv4_strerror(enum ipv4_err e)
{
#define IPV4_ERR_TEXT(err, name, text) [IPV4_##err] = text,
    static const char *const text[] = {[IPV4_OK] = "ok", IPV4_ERRORS(IPV4_ERR_TEXT)};
    return (unsigned)e < sizeof text / sizeof text[0] ? text[e] : "unknown error";
}
