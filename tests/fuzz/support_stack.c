/* Shared support of the fuzz harnesses (see tests/fuzz/fuzz.h): the stack on the
 * fake netif of the unit tests (linked, with the fixtures), its invariants, the
 * checker of frames sent, and builders. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp_int.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_plat.h"

#define SEC 1000000000ull

struct fz_env fz_env;

/* The frame being checked, dumped when a check on it fails. */
static const uint8_t *cur_frame;
static uint32_t cur_len;

size_t fz_bytes(struct fz *c, void *dst, size_t want)
{
    size_t n = want < c->n ? want : c->n;
    memcpy(dst, c->p, n);
    c->p += n;
    c->n -= n;
    return n;
}

void fz_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz invariant broken: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (cur_frame) {
        fprintf(stderr, "frame sent (%u bytes):", cur_len);
        for (uint32_t i = 0; i < cur_len && i < 128; i++)
            fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", cur_frame[i]);
        fprintf(stderr, "\n");
    }
    abort();
}

/* ------------------------------------------------------------ reference code */

uint32_t fz_ref_sum(uint32_t s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
        s = (s & 0xffff) + (s >> 16);
    }
    if (len & 1) {
        s += (uint32_t)p[len - 1] << 8;
        s = (s & 0xffff) + (s >> 16);
    }
    return s;
}

uint16_t fz_ref_csum(const uint8_t *p, size_t len)
{
    return (uint16_t)~fz_ref_sum(0, p, len);
}

bool fz_ref_csum_ok(const uint8_t *p, size_t len)
{
    return fz_ref_sum(0, p, len) == 0xffff;
}

static uint32_t pseudo_sum(const uint8_t *src4, const uint8_t *dst4, uint8_t proto,
                           size_t len)
{
    uint8_t ph[12];
    memcpy(ph, src4, 4);
    memcpy(ph + 4, dst4, 4);
    ph[8] = 0;
    ph[9] = proto;
    ph[10] = (uint8_t)(len >> 8);
    ph[11] = (uint8_t)len;
    return fz_ref_sum(0, ph, 12);
}

bool fz_ref_udp_ok(const uint8_t *src4, const uint8_t *dst4, const uint8_t *udp,
                   size_t len)
{
    return fz_ref_sum(pseudo_sum(src4, dst4, 17, len), udp, len) == 0xffff;
}

/* ------------------------------------------------------------ builders */

void fz_pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed);
}

void fz_fix_icmp(uint8_t *msg, size_t len)
{
    if (len < 4)
        return;
    net_wr16(msg + 2, 0);
    net_wr16(msg + 2, fz_ref_csum(msg, len));
}

void fz_fix_udp(uint8_t *udp, size_t len, struct ipv4_addr src, struct ipv4_addr dst)
{
    if (len < 8)
        return;
    net_wr16(udp + 6, 0);
    uint16_t c = (uint16_t)~fz_ref_sum(
        pseudo_sum((const uint8_t *)&src.be, (const uint8_t *)&dst.be, 17, len), udp,
        len);
    net_wr16(udp + 6, c == 0 ? 0xffff : c);
}

struct ipv4_addr fz_pick_addr(struct fz *c)
{
    uint8_t k = fz_u8(c);
    switch (k % 16) {
    case 0:
    case 1:
    case 2:
        return ipv4_addr_make(10, 0, 0, 1); /* the peer */
    case 3:
    case 4:
        return ipv4_addr_make(10, 0, 0, 2); /* us */
    case 5:
        return ipv4_addr_make(10, 0, 0, (uint8_t)(3 + (k >> 4))); /* another host */
    case 6:
        return ipv4_addr_make(192, 168, 1, (uint8_t)(k >> 4)); /* off-subnet */
    case 7:
        return ipv4_addr_make(10, 0, 0, 255);
    case 8:
        return ipv4_addr_make(255, 255, 255, 255);
    case 9:
        return ipv4_addr_make(224, 0, 0, 251);
    case 10:
        return ipv4_addr_make(127, 0, 0, 1);
    case 11:
        return ipv4_addr_make(0, 0, 0, 0);
    case 12:
        return ipv4_addr_make(10, 0, 0, 0);
    default: {
        uint8_t b[4] = {0};
        fz_bytes(c, b, 4);
        return ipv4_addr_load(b);
    }
    }
}

struct eth_addr fz_pick_mac(struct fz *c)
{
    static const struct eth_addr mcast = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}};
    static const struct eth_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    struct eth_addr m;
    uint8_t k = fz_u8(c);
    switch (k % 8) {
    case 0:
    case 1:
    case 2:
    case 3:
        return fx_dut_mac;
    case 4:
        return bcast;
    case 5:
        return mcast;
    case 6:
        return fx_peer_mac;
    default:
        memset(m.b, 0, 6);
        fz_bytes(c, m.b, 6);
        return m;
    }
}

/* ------------------------------------------------------------ the stack */

static void log_sink(void *arg, int level, const char *line, size_t len)
{
    /* Formatting ran; touch the text so a bad one shows under ASan. */
    volatile size_t n = len + (size_t)level;
    for (size_t i = 0; i < len; i++)
        n += (unsigned char)line[i];
    (void)arg, (void)n;
}

static void swallow(void *ctx, uint8_t proto, const struct ipv4_rxinfo *info,
                    struct view *payload)
{
    (void)ctx, (void)proto, (void)info, (void)payload;
}

static void swallow_tcp(void *ctx, const struct ipv4_rxinfo *info, struct view *payload)
{
    (void)ctx, (void)info, (void)payload;
}

struct net_stack *fz_stack_new(struct fz *c)
{
    static const uint16_t mtus[8] = {1500, 576, 68, 1006, 1280, 9000, 1499, 100};
    static const uint8_t prefixes[8] = {24, 8, 16, 30, 31, 32, 0, 25};
    struct fz none = {NULL, 0};
    struct fz_env *e = &fz_env;
    if (!c)
        c = &none;
    uint8_t flags = fz_u8(c);
    uint16_t mtu = mtus[fz_u8(c) & 7];
    int segs = fz_u8(c) % 9;
    uint8_t prefix = prefixes[fz_u8(c) & 7];
    uint8_t arp_cap = fz_u8(c) & 15;
    uint8_t dgrams = fz_u8(c) & 7, kbytes = fz_u8(c), tmo = fz_u8(c), rate = fz_u8(c);

    host_clock_set(1000 * SEC);
    memset(&e->cfg, 0, sizeof e->cfg);
    fake_netif_init(&e->fk, &fx_dut_mac, mtu, segs ? segs : 4);
    e->check_tx = true;
    e->tx_hook = NULL;
    host_set_log_hook((flags & 0x80) ? log_sink : NULL, NULL);
    log_set_level((flags & 0x80) ? LOG_DEBUG : LOG_ERROR);
    KCHECK(net_config_parse("10.0.0.2/24", (flags & 0x40) ? NULL : "10.0.0.1", &e->cfg) ==
           0);
    e->cfg.prefix_len = prefix;
    e->cfg.arp_capacity = arp_cap;
    e->cfg.limits.reass_max_dgrams = dgrams;
    e->cfg.limits.reass_max_bytes = (uint32_t)kbytes * 1024u;
    e->cfg.limits.reass_timeout_ns = (uint64_t)tmo * 100000000ull;
    e->cfg.icmp_rate_per_sec = rate;
    e->st = net_stack_create(&e->fk.nif, &e->cfg);
    KCHECK(e->st);
    if (!(flags & 1))
        KCHECK(arp_add_static(&e->st->arp, fx_peer_ip(), &fx_peer_mac) == 0);
    if (!(flags & 2))
        KCHECK(net_udp_echo_enable(e->st) == 0);
    if (!(flags & 4))
        KCHECK(net_udp_discard_enable(e->st) == 0);
    if (flags & 8)
        net_set_default_handler(e->st, swallow, NULL);
    if (flags & 0x10)
        net_set_tcp_handler(e->st, swallow_tcp, NULL);
    if (flags & 0x20)
        KCHECK(ipv4_join(&e->st->ip, ipv4_addr_make(224, 0, 0, 251)) == 0);
    fz_check_tx();
    fz_check_invariants();
    return e->st;
}

static void print_nonzero(void *ctx, const char *line)
{
    (void)ctx;
    const char *eq = strchr(line, '=');
    if (eq && strcmp(eq, "=0") != 0)
        fprintf(stderr, "  %s\n", line);
}

void fz_stack_free(void)
{
    struct fz_env *e = &fz_env;
    fz_check_tx();
    static int debug = -1;
    if (debug < 0)
        debug = getenv("FZ_DEBUG") != NULL;
    if (debug) { /* FZ_DEBUG=1: what an input did, when running it by hand */
        fprintf(stderr, "stack counters (frames sent and checked: %llu):\n",
                (unsigned long long)e->frames_checked);
        net_stats_print(e->st, NULL, print_nonzero, NULL);
    }
    net_stack_destroy(e->st);
    e->st = NULL;
    fake_netif_tx_clear(&e->fk);
    FZ_CHECK(e->fk.rx_live == 0, "RX buffers still held after destroy: %d",
             e->fk.rx_live);
    FZ_CHECK(e->fk.tx_live == 0, "TX buffers still held after destroy: %d",
             e->fk.tx_live);
    host_set_log_hook(NULL, NULL);
}

void fz_rx(const uint8_t *frame, uint32_t len)
{
    fake_netif_rx_exact(&fz_env.fk, frame, len);
    fz_check_tx();
    fz_check_invariants();
}

void fz_advance(uint64_t ns)
{
    struct net_stack *s = fz_env.st;
    host_clock_advance(ns);
    uint64_t now = plat_now_ns();
    if (net_next_deadline(s) <= now) {
        net_tick(s, now);
        /* Progress: a deadline at or before now after a tick would make the timer
         * thread spin. */
        FZ_CHECK(net_next_deadline(s) > now, "deadline %llu not after tick at %llu",
                 (unsigned long long)net_next_deadline(s), (unsigned long long)now);
    }
    fz_check_tx();
    fz_check_invariants();
}

/* ------------------------------------------------------------ invariants */

static void check_reass(const struct ipv4_reass *r)
{
    uint64_t held = 0;
    uint32_t busy = 0;
    for (uint32_t i = 0; i < r->nslots; i++) {
        const struct ipv4_reass_slot *s = r->slots[i];
        FZ_CHECK(s->state <= 2, "reass slot %u state %u", i, s->state);
        /* Fragments are copied and datagrams released by the end of input. */
        FZ_CHECK(s->state != 2, "reass slot %u still held after input", i);
        if (s->state == 0) {
            FZ_CHECK(s->bytes == 0, "free reass slot %u holds %u bytes", i, s->bytes);
            continue;
        }
        busy++;
        held += s->bytes;
        FZ_CHECK(s->bytes <= s->max_end && s->max_end <= 65535,
                 "reass slot %u: %u bytes, max_end %u", i, s->bytes, s->max_end);
        FZ_CHECK(!s->has_last || s->max_end == s->total,
                 "reass slot %u: max_end %u past total %u", i, s->max_end, s->total);
        FZ_CHECK(!s->has_last || s->bytes < s->total,
                 "reass slot %u complete but kept: %u of %u", i, s->bytes, s->total);
    }
    FZ_CHECK(held == r->bytes_held, "reass bytes_held %u, slots hold %llu", r->bytes_held,
             (unsigned long long)held);
    FZ_CHECK(r->bytes_held <= r->max_bytes, "reass bytes_held %u over the cap %u",
             r->bytes_held, r->max_bytes);
    FZ_CHECK(busy == ipv4_reass_in_progress(r), "reass in progress miscounted");
}

static void check_arp(const struct arp *a, int tx_live)
{
    static uint32_t ips[4096];
    uint32_t nips = 0;
    int queued = 0;
    for (uint32_t i = 0; i < a->cap; i++) {
        const struct arp_entry *e = &a->tab[i];
        FZ_CHECK(e->state <= ARP_STATIC, "arp entry %u state %u", i, e->state);
        if (e->state == ARP_FREE) {
            FZ_CHECK(e->nq == 0, "free arp entry %u has a queue", i);
            continue;
        }
        FZ_CHECK(e->nq <= ARP_QUEUE_LEN, "arp entry %u queue %u", i, e->nq);
        FZ_CHECK(e->nq == 0 || e->state == ARP_PENDING,
                 "arp entry %u (state %u) holds %u frames", i, e->state, e->nq);
        FZ_CHECK(e->state != ARP_PENDING || (e->tries >= 1 && e->tries <= ARP_MAX_TRIES),
                 "arp entry %u pending with %u tries", i, e->tries);
        FZ_CHECK(!ipv4_addr_is_any(e->ip), "arp entry %u for 0.0.0.0", i);
        queued += e->nq;
        for (uint32_t j = 0; j < nips; j++)
            FZ_CHECK(ips[j] != e->ip.be, "two arp entries for the same address (%u)", i);
        if (nips < sizeof ips / sizeof ips[0])
            ips[nips++] = e->ip.be;
    }
    FZ_CHECK(queued == tx_live, "%d TX buffers live, %d in ARP queues", tx_live, queued);
    FZ_CHECK((uint32_t)queued == a->nqueued && a->nqueued <= ARP_QUEUE_TOTAL,
             "ARP counts %u frames queued, queues hold %d (cap %d)", a->nqueued, queued,
             ARP_QUEUE_TOTAL);
}

/* Every frame and datagram received is counted once: as accepted by exactly one
 * next layer or as exactly one drop reason. */
static void check_counters(const struct net_stack *s)
{
    const struct eth_stats *e = &s->eth.st;
    const struct arp_stats *a = &s->arp.st;
    const struct ipv4_stats *i = &s->ip.st;
    const struct ipv4_reass_stats *r = &s->ip.reass.st;
    const struct icmp_stats *c = &s->icmp.st;
    const struct udp_stats *u = &s->udp.st;
    const struct tcp_stats *t = &s->tcp->st;
    FZ_CHECK(e->rx_frames ==
                 e->drop_short + e->drop_not_ours + e->drop_ethertype + a->rx + i->rx,
             "eth.rx_frames %llu != drops + arp.rx + ipv4.rx",
             (unsigned long long)e->rx_frames);
    FZ_CHECK(e->rx_arp == a->rx, "eth.rx_arp != arp.rx");
    FZ_CHECK(a->rx == a->drop_short + a->drop_bad_htype + a->drop_bad_ptype +
                          a->drop_bad_len + a->drop_bad_op + a->drop_disconnected +
                          a->rx_request + a->rx_reply,
             "arp.rx %llu != drops + requests + replies", (unsigned long long)a->rx);
    FZ_CHECK(i->rx == i->drop_short + i->drop_bad_version + i->drop_bad_hdr_len +
                          i->drop_truncated + i->drop_bad_csum + i->drop_bad_options +
                          i->drop_not_ours + i->drop_bad_src + i->drop_disconnected +
                          i->delivered - r->done + i->rx_frags,
             "ipv4.rx %llu != drops + delivered whole + fragments",
             (unsigned long long)i->rx);
    FZ_CHECK(i->rx_frags == r->frags, "ipv4.rx_frags != reass.frags");
    FZ_CHECK(i->drop_reass == r->drop_overlap + r->drop_inconsistent + r->drop_bad_len +
                                  r->drop_over_limit + r->drop_mem_limit +
                                  r->drop_no_slot,
             "ipv4.drop_reass != the reassembly drops");
    FZ_CHECK(i->delivered >= c->rx + u->rx + t->rx,
             "ipv4.delivered < icmp.rx + udp.rx + tcp.rx");
    FZ_CHECK(t->rx == t->drop_short + t->drop_bad_off + t->drop_bad_csum + t->drop_bcast +
                          t->rx_closed_port + t->rx_listen + t->rx_conn,
             "tcp.rx %llu != drops + closed port + listeners + connections",
             (unsigned long long)t->rx);
    FZ_CHECK(c->rx == c->drop_short + c->drop_bad_csum + c->rx_echo_request +
                          c->rx_echo_reply + c->rx_dest_unreach + c->rx_time_exceeded +
                          c->rx_other,
             "icmp.rx %llu != drops + by type", (unsigned long long)c->rx);
    FZ_CHECK(u->rx == u->drop_short + u->drop_bad_len + u->drop_bad_csum +
                          u->drop_no_port + u->delivered,
             "udp.rx %llu != drops + delivered", (unsigned long long)u->rx);
}

/* TCP: the connection list and its counts, each connection's sequence
 * variables and queues, and the memory they hold against the caps. */
static uint32_t check_tcp_pcb(const struct tcp_pcb *p, uint32_t *pinned)
{
    uint32_t chunks = 0, bytes = 0;
    FZ_CHECK(seq_leq(p->snd_una, p->snd_nxt), "SND.UNA after SND.NXT");
    FZ_CHECK(seq_leq(p->snd_nxt, p->snd_end + 1), "SND.NXT past the data and FIN");
    if (p->state >= TCP_ESTABLISHED)
        FZ_CHECK(seq_leq(p->snd_end, p->snd_una + p->snd_cap), "send queue over its cap");
    for (const struct tcp_chunk *c = p->sq.head; c; c = c->next)
        chunks++;
    for (const struct tcp_rseg *r = p->rq.head; r; r = r->next) {
        bytes += r->v.len;
        *pinned += r->pinned;
        chunks += !r->pinned;
    }
    FZ_CHECK(bytes == p->rq.bytes, "receive queue holds %u bytes, counted %u", bytes,
             p->rq.bytes);
    uint32_t n = 0, obytes = 0;
    for (const struct tcp_rseg *r = p->ooo; r; r = r->next) {
        n++;
        obytes += r->v.len;
        *pinned += r->pinned;
        chunks += !r->pinned;
        FZ_CHECK(r->v.len > 0, "empty out-of-order segment");
        FZ_CHECK(seq_gt(r->seq, p->rcv_nxt), "out-of-order data at or before RCV.NXT");
        if (r->next)
            FZ_CHECK(seq_leq(r->seq + r->v.len, r->next->seq),
                     "out-of-order segments overlap or are unsorted");
    }
    FZ_CHECK(n == p->nooo && n <= TCP_OOO_MAX, "out-of-order count %u vs %u", n, p->nooo);
    FZ_CHECK(obytes == p->ooo_bytes, "out-of-order bytes %u vs %u", obytes, p->ooo_bytes);
    if (p->lent) {
        *pinned += p->lent->pinned;
        chunks += !p->lent->pinned;
    }
    for (int i = 0; i < p->sb.n; i++) {
        FZ_CHECK(seq_lt(p->sb.b[i].start, p->sb.b[i].end), "empty SACK range");
        FZ_CHECK(seq_geq(p->sb.b[i].start, p->snd_una) &&
                     seq_leq(p->sb.b[i].end, p->snd_nxt),
                 "SACK range outside the flight");
        if (i)
            FZ_CHECK(seq_lt(p->sb.b[i - 1].end, p->sb.b[i].start), "SACK ranges overlap");
    }
    FZ_CHECK(p->state != TCP_CLOSED || !p->hashed, "a closed connection in the table");
    return chunks;
}

static void check_tcp(const struct tcp *t)
{
    uint32_t n = 0, half = 0, pinned = 0, chunks = 0;
    for (const struct tcp_pcb *p = t->all; p; p = p->next) {
        n++;
        half += p->state == TCP_SYN_RCVD && p->listener && !p->cookie;
        chunks += check_tcp_pcb(p, &pinned);
        if (p->hashed)
            FZ_CHECK(tcp_lookup((struct tcp *)t, p->raddr, p->rport, p->lport) == p,
                     "a connection its lookup does not find");
    }
    FZ_CHECK(n == t->nconns, "%u connections listed, %u counted", n, t->nconns);
    FZ_CHECK(n <= t->cfg.max_conns, "%u connections over the cap %u", n,
             t->cfg.max_conns);
    FZ_CHECK(half == t->nhalf, "%u half-open connections, %u counted", half, t->nhalf);
    FZ_CHECK(pinned == t->rx_pinned && pinned <= t->cfg.rx_pinned_max,
             "%u RX buffers held, %u counted (cap %u)", pinned, t->rx_pinned,
             t->cfg.rx_pinned_max);
    FZ_CHECK(t->mem_used <= t->cfg.mem_max, "TCP memory %u over the cap %u", t->mem_used,
             t->cfg.mem_max);
    /* Chunks in queues; more may sit in frames not yet freed (none here: the
     * fake netif lets go at once, ARP's queue copies). */
    FZ_CHECK(chunks * TCP_CHUNK_BYTES == t->mem_used, "%u chunks held, %u bytes counted",
             chunks, t->mem_used);
}

void fz_check_invariants(void)
{
    struct fz_env *e = &fz_env;
    check_tcp(e->st->tcp);
    FZ_CHECK(e->fk.rx_live == (int)e->st->tcp->rx_pinned,
             "%d RX buffers not released (TCP holds %u)", e->fk.rx_live,
             e->st->tcp->rx_pinned);
    check_reass(&e->st->ip.reass);
    check_arp(&e->st->arp, e->fk.tx_live);
    check_counters(e->st);
}

/* ------------------------------------------------------------ frames sent */

/* Fragments of the datagram being sent, put together to check its L4 checksum.
 * The stack sends a train of fragments in one go: one datagram at a time. */
static struct {
    bool active;
    uint16_t id;
    uint8_t proto;
    uint8_t src[4], dst[4];
    uint32_t total; /* 0 until the last fragment */
    uint32_t have;
    uint8_t got[65536 / 8 + 1]; /* one per 8-byte block */
    uint8_t data[65536];
} ofr;

static void check_l4(uint8_t proto, const uint8_t *src, const uint8_t *dst,
                     const uint8_t *p, uint32_t len)
{
    if (proto == IPV4_PROTO_ICMP) {
        FZ_CHECK(len >= 8, "ICMP message of %u bytes sent", len);
        FZ_CHECK(fz_ref_csum_ok(p, len), "ICMP checksum wrong in a %u-byte message", len);
    } else if (proto == IPV4_PROTO_UDP) {
        FZ_CHECK(len >= 8 && net_rd16(p + 4) == len, "UDP length %u in %u bytes",
                 len >= 8 ? net_rd16(p + 4) : 0, len);
        FZ_CHECK(net_rd16(p + 6) != 0, "UDP sent without checksum");
        FZ_CHECK(fz_ref_udp_ok(src, dst, p, len), "UDP checksum wrong (%u bytes)", len);
    } else if (proto == IPV4_PROTO_TCP) {
        FZ_CHECK(len >= 20 && (p[12] >> 4) * 4u >= 20 && (p[12] >> 4) * 4u <= len,
                 "TCP header wrong in %u bytes", len);
        FZ_CHECK(fz_ref_sum(pseudo_sum(src, dst, 6, len), p, len) == 0xffff,
                 "TCP checksum wrong (%u bytes)", len);
        FZ_CHECK((p[13] & (TCP_SYN | TCP_RST)) != (TCP_SYN | TCP_RST),
                 "SYN and RST sent");
    }
}

static void collect_fragment(const uint8_t *ip, uint32_t hl, uint32_t plen)
{
    uint16_t frag = net_rd16(ip + 6), id = net_rd16(ip + 4);
    uint32_t off = (uint32_t)(frag & 0x1fff) * 8;
    bool mf = frag & 0x2000;
    if (off == 0) {
        memset(&ofr, 0, offsetof(typeof(ofr), data));
        ofr.active = true;
        ofr.id = id;
        ofr.proto = ip[9];
        memcpy(ofr.src, ip + 12, 4);
        memcpy(ofr.dst, ip + 16, 4);
    } else if (!ofr.active || ofr.id != id) {
        ofr.active = false; /* its first fragment was dropped (ARP queue full) */
        return;
    }
    for (uint32_t b = off / 8; b < (off + plen + 7) / 8; b++) {
        FZ_CHECK(!ofr.got[b], "sent fragments overlap (id %u, offset %u)", id, off);
        ofr.got[b] = 1;
    }
    memcpy(ofr.data + off, ip + hl, plen);
    ofr.have += plen;
    if (!mf)
        ofr.total = off + plen;
    if (ofr.total && ofr.have == ofr.total) {
        check_l4(ofr.proto, ofr.src, ofr.dst, ofr.data, ofr.total);
        ofr.active = false;
    }
}

static void check_ipv4(const struct net_stack *s, const uint8_t *ip, uint32_t len,
                       uint32_t flen)
{
    FZ_CHECK(len >= 20 && ip[0] == 0x45, "IPv4 header 0x%02x sent", len ? ip[0] : 0);
    uint32_t total = net_rd16(ip + 2);
    FZ_CHECK(total >= 20 && total <= len, "IPv4 total length %u in %u bytes", total, len);
    FZ_CHECK(total == len || flen == ETH_MIN_FRAME,
             "IPv4 total length %u in %u bytes, not padding", total, len);
    FZ_CHECK(total <= s->ip.mtu, "IPv4 datagram of %u bytes, MTU %u", total, s->ip.mtu);
    FZ_CHECK(fz_ref_csum_ok(ip, 20), "IPv4 header checksum wrong");
    FZ_CHECK(ip[8] == IPV4_DEFAULT_TTL, "TTL %u sent", ip[8]);
    FZ_CHECK(memcmp(ip + 12, &s->ip.addr.be, 4) == 0, "sent from an address not ours");
    FZ_CHECK(memcmp(ip + 16, &s->ip.addr.be, 4) != 0, "sent to ourselves");
    uint16_t frag = net_rd16(ip + 6);
    uint32_t plen = total - 20, off = (uint32_t)(frag & 0x1fff) * 8;
    FZ_CHECK(off + plen <= 65535 - 20, "fragment ends at %u", off + plen);
    if (frag & 0x2000)
        FZ_CHECK(plen % 8 == 0 && plen > 0, "non-final fragment of %u bytes", plen);
    if (frag & 0x3fff)
        collect_fragment(ip, 20, plen);
    else
        check_l4(ip[9], ip + 12, ip + 16, ip + 20, plen);
}

static void check_arp_frame(const struct net_stack *s, const uint8_t *p, uint32_t len)
{
    FZ_CHECK(len >= 28, "ARP packet of %u bytes sent", len);
    FZ_CHECK(net_rd16(p) == 1 && net_rd16(p + 2) == 0x0800 && p[4] == 6 && p[5] == 4,
             "ARP header wrong");
    uint16_t op = net_rd16(p + 6);
    FZ_CHECK(op == 1 || op == 2, "ARP op %u sent", op);
    FZ_CHECK(memcmp(p + 8, s->eth.mac.b, 6) == 0, "ARP sender MAC not ours");
    FZ_CHECK(memcmp(p + 14, &s->ip.addr.be, 4) == 0, "ARP sender address not ours");
}

void fz_check_tx(void)
{
    struct fz_env *e = &fz_env;
    const struct net_stack *s = e->st;
    for (int i = 0; e->check_tx && i < e->fk.ntx; i++) {
        uint32_t len;
        const uint8_t *f = fake_netif_tx(&e->fk, i, &len);
        cur_frame = f;
        cur_len = len;
        e->frames_checked++;
        FZ_CHECK(len >= ETH_MIN_FRAME, "frame of %u bytes sent", len);
        FZ_CHECK(len <= ETH_HDR_LEN + s->ip.mtu, "frame of %u bytes, MTU %u", len,
                 s->ip.mtu);
        FZ_CHECK(memcmp(f + 6, s->eth.mac.b, 6) == 0, "frame from a MAC not ours");
        static const uint8_t zero[6];
        FZ_CHECK(memcmp(f, zero, 6) != 0, "frame to 00:00:00:00:00:00");
        uint16_t type = net_rd16(f + 12);
        if (type == ETH_TYPE_ARP)
            check_arp_frame(s, f + 14, len - 14);
        else if (type == ETH_TYPE_IPV4)
            check_ipv4(s, f + 14, len - 14, len);
        else
            fz_fail("ethertype 0x%04x sent", type);
        if (e->tx_hook)
            e->tx_hook(f, len);
        cur_frame = NULL;
    }
    fake_netif_tx_clear(&e->fk);
}
