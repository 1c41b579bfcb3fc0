/* IPv4 write: argument checks, next hop and ARP, then one frame or a train of
 * fragments. Headers are written in place in TX buffers from the netif: Ethernet,
 * IP, then headerf's bytes (first frame only). Payload views follow either as
 * scatter-gather segments (no copy; the driver references their buffers) or,
 * for short payloads, when the netif takes too few segments, or when frames must
 * wait in ARP's queue, copied into the frame.
 * The common case (the route cache knows the destination, one frame suffices)
 * takes write_fast; everything else (ARP, fragments, queueing) write_general. */
#include "net/ipv4.h"

/* Copied frames (and headerf's bytes) must fit one TX buffer. */
#define LINEAR_ROOM (NETIF_TX_BUF_BYTES - ETH_HDR_LEN - IPV4_HDR_LEN)

/* One datagram on its way out. */
struct txd {
    struct ipv4 *ip;
    struct ipv4_repr h;
    uint8_t eth_hdr[ETH_HDR_LEN];
    struct ipv4_addr hop;
    bool queue; /* next hop unresolved: frames go to ARP's queue */
    bool sg;    /* payload as segments rather than copied */
    const struct view *pl;
    int n;
    int vi;        /* payload cursor: view index ... */
    uint32_t voff; /* ... and offset in it */
};

/* The counter each write error bumps. */
#define IPV4_TX_ERR(err, name, text)                                                     \
    [IPV4_##err] = COUNTER_OFF(struct ipv4_stats, tx_err_##name),
static const uint16_t err_counter[] = {IPV4_ERRORS(IPV4_TX_ERR)};

/* What can be refused before anything is sent or allocated (arguments already
 * checked, plen summed). */
static enum ipv4_err check_args(const struct ipv4 *ip, const struct ipv4_wopts *o,
                                uint32_t size, uint64_t plen)
{
    if (ip->disconnected)
        return IPV4_EDISCONNECTED;
    /* IPV4's write: size + header over the MTU is an error whatever `fragment` says;
     * headerf's bytes must also sit in the first TX buffer. */
    if (size + IPV4_HDR_LEN > ip->mtu || size > LINEAR_ROOM ||
        plen > IPV4_MAX_DGRAM - IPV4_HDR_LEN)
        return IPV4_ETOOBIG;
    if (o->dont_fragment && IPV4_HDR_LEN + plen > ip->mtu)
        return IPV4_EWOULDFRAG;
    return IPV4_OK;
}

/* Next hop and the Ethernet header toward it: from the route cache, derived
 * (broadcast, multicast), looked up in ARP, waited for, or, when the caller must
 * not block, left blank for ARP's queue to fill in. */
static enum ipv4_err resolve(struct txd *t, const struct ipv4_wopts *o,
                             struct ipv4_addr dst)
{
    struct ipv4 *ip = t->ip;
    struct ipv4_route_cache *rc = &ip->rc;
    struct eth_addr mac;
    bool derived, cache = false;
    t->queue = false;
    if (rc->valid && rc->dst.be == dst.be && rc->arp_gen == ip->arp->gen) {
        memcpy(t->eth_hdr, rc->eth_hdr, ETH_HDR_LEN);
        return IPV4_OK;
    }
    enum ipv4_err err = ipv4_next_hop(ip, dst, &t->hop, &mac, &derived);
    if (err != IPV4_OK)
        return err;
    if (!derived && (cache = arp_lookup(ip->arp, t->hop, plat_now_ns(), &mac)) == false) {
        if (o->nowait || ip->in_input) {
            t->queue = true;
            memset(mac.b, 0, 6); /* filled in when ARP answers */
        } else if ((err = arp_resolve_wait(ip->arp, t->hop, &mac)) != IPV4_OK) {
            return err;
        }
    }
    struct eth_repr eh = {.dst = mac, .src = ip->eth->mac, .type = ETH_TYPE_IPV4};
    eth_header_emit(&eh, t->eth_hdr);
    if (cache) {
        rc->valid = true;
        rc->dst = dst;
        rc->arp_gen = ip->arp->gen;
        memcpy(rc->eth_hdr, t->eth_hdr, ETH_HDR_LEN);
    }
    return IPV4_OK;
}

/* The next len payload bytes as segments (at most IPV4_MAX_SEGS: guaranteed by
 * choosing sg only when the whole list fits). */
static int take_segs(struct txd *t, uint32_t len, struct netbuf_seg *segs)
{
    int k = 0;
    while (len > 0) {
        const struct view *v = &t->pl[t->vi];
        uint32_t take = v->len - t->voff;
        if (take > len)
            take = len;
        if (take > 0) {
            segs[k].buf = v->buf;
            segs[k].p = view_data(v) + t->voff;
            segs[k].len = take;
            k++;
        }
        len -= take;
        t->voff += take;
        if (t->voff == v->len) {
            t->vi++;
            t->voff = 0;
        }
    }
    return k;
}

/* The next len payload bytes copied to dst (the named copy of the copy path). */
static void take_copy(struct txd *t, uint8_t *dst, uint32_t len)
{
    while (len > 0) {
        const struct view *v = &t->pl[t->vi];
        uint32_t take = v->len - t->voff;
        if (take > len)
            take = len;
        memcpy(dst, view_data(v) + t->voff, take);
        dst += take;
        len -= take;
        t->voff += take;
        if (t->voff == v->len) {
            t->vi++;
            t->voff = 0;
        }
    }
}

static enum ipv4_err netif_to_ipv4(enum netif_err e)
{
    return e == NETIF_OK ? IPV4_OK : e == NETIF_EINVAL ? IPV4_EINVAL : IPV4_ENOBUFS;
}

/* One frame: data bytes [off, off + len) of the datagram, of which the first lin
 * are already in place (headerf's), the rest come from the payload cursor. */
static enum ipv4_err emit_frame(struct txd *t, struct netbuf *b, uint32_t off,
                                uint32_t len, uint32_t lin, bool mf)
{
    struct ipv4 *ip = t->ip;
    uint8_t *f = eth_frame(ip->eth, b);
    uint32_t flen = ETH_HDR_LEN + IPV4_HDR_LEN + lin;
    memcpy(f, t->eth_hdr, ETH_HDR_LEN);
    t->h.frag_off = (uint16_t)off;
    t->h.mf = mf;
    t->h.payload_len = (uint16_t)len;
    ipv4_header_emit(&t->h, f + ETH_HDR_LEN);
    if (t->queue) {
        take_copy(t, f + flen, len - lin);
        ip->st.tx_queued++;
        return arp_queue(ip->arp, t->hop, b, flen + len - lin);
    }
    if (t->sg && len - lin >= IPV4_COPYBREAK) { /* short tails are copied (and padded) */
        struct netbuf_seg segs[IPV4_MAX_SEGS];
        int k = take_segs(t, len - lin, segs);
        ip->st.tx_sg++;
        return netif_to_ipv4(eth_send(ip->eth, b, flen, segs, k));
    }
    take_copy(t, f + flen, len - lin);
    return netif_to_ipv4(eth_send(ip->eth, b, flen + len - lin, NULL, 0));
}

/* Every fragment but the last carries a multiple of 8 bytes, as many as fit. */
static enum ipv4_err send_fragments(struct txd *t, struct netbuf *b, uint32_t used,
                                    uint32_t total, uint32_t mtu)
{
    uint32_t max = (mtu - IPV4_HDR_LEN) & ~7u;
    if (used > max) { /* headerf's bytes must all be in the first fragment */
        netbuf_unref(b);
        return IPV4_ETOOBIG;
    }
    for (uint32_t off = 0; off < total;) {
        uint32_t len = total - off > max ? max : total - off;
        if (!b && !(b = eth_alloc(t->ip->eth)))
            return IPV4_ENOBUFS;
        enum ipv4_err err =
            emit_frame(t, b, off, len, off == 0 ? used : 0, off + len < total);
        b = NULL;
        if (err != IPV4_OK)
            return err;
        t->ip->st.tx_frags++;
        off += len;
    }
    return IPV4_OK;
}

static bool use_sg(const struct netif *nif, int n, uint32_t plen)
{
    return plen >= IPV4_COPYBREAK && n > 0 && n <= nif->max_segs && n <= IPV4_MAX_SEGS;
}

/* headerf on exactly `size` bytes after the IP header; returns the bytes used or,
 * when more than size, size + 1 (an error). */
static uint32_t call_headerf(struct netbuf *b, uint32_t headroom, uint32_t size,
                             ipv4_headerf headerf, void *ctx)
{
    struct view hv = {b->data, b, headroom + ETH_HDR_LEN + IPV4_HDR_LEN, size};
    uint32_t used = headerf ? headerf(ctx, &hv) : 0;
    return used > size ? size + 1 : used;
}

static void fill_header(struct ipv4_repr *h, const struct ipv4 *ip,
                        const struct ipv4_wopts *o, struct ipv4_addr dst, uint8_t proto)
{
    h->src = ipv4_addr_is_any(o->src) ? ip->addr : o->src;
    h->dst = dst;
    h->proto = proto;
    h->ttl = o->ttl ? o->ttl : IPV4_DEFAULT_TTL;
    h->tos = o->tos;
    h->df = o->dont_fragment;
    h->mf = false;
    h->frag_off = 0;
}

/* Buffer, headerf, then one frame or fragments. */
static enum ipv4_err build(struct txd *t, const struct ipv4_wopts *o, uint32_t size,
                           ipv4_headerf headerf, void *ctx, uint32_t plen)
{
    struct ipv4 *ip = t->ip;
    struct netif *nif = ip->eth->nif;
    t->sg = !t->queue && use_sg(nif, t->n, plen);
    uint32_t mtu = ip->mtu;
    if (!t->sg && mtu > NETIF_TX_BUF_BYTES - ETH_HDR_LEN)
        mtu = NETIF_TX_BUF_BYTES - ETH_HDR_LEN; /* copied frames fit one TX buffer */
    struct netbuf *b = eth_alloc(ip->eth);
    if (!b)
        return IPV4_ENOBUFS;
    uint32_t used = call_headerf(b, nif->tx_headroom, size, headerf, ctx);
    uint32_t total = used + plen;
    enum ipv4_err err = IPV4_OK;
    if (used > size)
        err = IPV4_EINVAL;
    else if (IPV4_HDR_LEN + total > IPV4_MAX_DGRAM)
        err = IPV4_ETOOBIG;
    else if (o->dont_fragment && IPV4_HDR_LEN + total > ip->mtu)
        err = IPV4_EWOULDFRAG;
    else if (o->dont_fragment && IPV4_HDR_LEN + total > mtu)
        err = IPV4_ENOBUFS; /* fits the link, not one copied buffer */
    if (err != IPV4_OK) {
        netbuf_unref(b);
        return err;
    }
    if (IPV4_HDR_LEN + total <= mtu)
        return emit_frame(t, b, 0, total, used, false);
    return send_fragments(t, b, used, total, mtu);
}

__attribute__((noinline)) static enum ipv4_err
write_general(struct ipv4 *ip, const struct ipv4_wopts *o, struct ipv4_addr dst,
              uint8_t proto, uint32_t size, ipv4_headerf headerf, void *ctx,
              const struct view *pl, int n, uint32_t plen)
{
    struct txd t;
    t.ip = ip;
    enum ipv4_err err = resolve(&t, o, dst);
    if (err != IPV4_OK)
        return err;
    if (ip->disconnected) /* while we waited for ARP */
        return IPV4_EDISCONNECTED;
    fill_header(&t.h, ip, o, dst, proto);
    t.h.id = ip->next_id++; /* fresh for every datagram, fragmented or not */
    t.pl = pl;
    t.n = n;
    t.vi = 0;
    t.voff = 0;
    return build(&t, o, size, headerf, ctx, plen);
}

/* The route cache knows dst and the datagram fits one frame whatever headerf uses
 * (copied, or with its payload as segments when *sg). Then nothing can be refused:
 * fitting the MTU bounds it under 65535 and makes DF moot. */
static inline bool fast_ok(struct ipv4 *ip, struct ipv4_addr dst, uint32_t size,
                           uint64_t plen, int n, bool *sg)
{
    const struct ipv4_route_cache *rc = &ip->rc;
    if (ip->disconnected || !rc->valid || rc->dst.be != dst.be ||
        rc->arp_gen != ip->arp->gen || IPV4_HDR_LEN + size + plen > ip->mtu)
        return false;
    *sg = use_sg(ip->eth->nif, n, plen);
    return *sg || size + plen <= LINEAR_ROOM;
}

/* One frame, headers in place, payload copied or as segments. */
__attribute__((always_inline)) static inline enum ipv4_err
write_fast(struct ipv4 *ip, const struct ipv4_wopts *o, struct ipv4_addr dst,
           uint8_t proto, uint32_t size, ipv4_headerf headerf, void *ctx,
           const struct view *pl, int n, uint32_t plen, bool sg)
{
    struct netbuf *b = eth_alloc(ip->eth);
    if (!b)
        return IPV4_ENOBUFS;
    uint8_t *f = eth_frame(ip->eth, b);
    uint32_t used = call_headerf(b, ip->eth->nif->tx_headroom, size, headerf, ctx);
    if (used > size) {
        netbuf_unref(b);
        return IPV4_EINVAL;
    }
    struct ipv4_repr h;
    fill_header(&h, ip, o, dst, proto);
    h.id = ip->next_id++;
    h.payload_len = (uint16_t)(used + plen);
    memcpy(f, ip->rc.eth_hdr, ETH_HDR_LEN);
    ipv4_header_emit(&h, f + ETH_HDR_LEN);
    uint32_t flen = ETH_HDR_LEN + IPV4_HDR_LEN + used;
    if (sg) {
        struct netbuf_seg segs[IPV4_MAX_SEGS];
        int k = 0;
        for (int i = 0; i < n; i++)
            if (pl[i].len)
                segs[k++] = (struct netbuf_seg){pl[i].buf, view_data(&pl[i]), pl[i].len};
        ip->st.tx_sg++;
        return netif_to_ipv4(eth_send(ip->eth, b, flen, segs, k));
    }
    for (int i = 0; i < n; i++) { /* the named copy: short payloads into the frame */
        memcpy(f + flen, view_data(&pl[i]), pl[i].len);
        flen += pl[i].len;
    }
    return netif_to_ipv4(eth_send(ip->eth, b, flen, NULL, 0));
}

enum ipv4_err ipv4_write(struct ipv4 *ip, const struct ipv4_wopts *opts,
                         struct ipv4_addr dst, uint8_t proto, uint32_t size,
                         ipv4_headerf headerf, void *ctx, const struct view *payload,
                         int n)
{
    static const struct ipv4_wopts defaults;
    const struct ipv4_wopts *o = opts ? opts : &defaults;
    uint64_t plen = 0; /* 64 bits: a list of huge views cannot wrap */
    bool sg;
    enum ipv4_err err;
    if (n < 0 || (n > 0 && !payload)) {
        err = IPV4_EINVAL;
        goto out;
    }
    for (int i = 0; i < n; i++)
        plen += payload[i].len;
    if (fast_ok(ip, dst, size, plen, n, &sg)) {
        ip->st.tx++;
        err = write_fast(ip, o, dst, proto, size, headerf, ctx, payload, n,
                         (uint32_t)plen, sg);
    } else if ((err = check_args(ip, o, size, plen)) == IPV4_OK) {
        ip->st.tx++;
        err = write_general(ip, o, dst, proto, size, headerf, ctx, payload, n,
                            (uint32_t)plen);
    }
out:
    if (err != IPV4_OK)
        counter_inc(&ip->st, err_counter[err]);
    return err;
}
