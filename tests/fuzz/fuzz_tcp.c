/* libFuzzer: TCP segments into listening and established connections. The input
 * is a program: a TCP configuration (caps, options on or off, congestion control),
 * then records: segments from one of a few peers (flags, options, data, sequence
 * and acknowledgment numbers either raw or relative to what the stack last sent
 * that peer, so the fuzzer reaches every state), application calls on the flows
 * (non-blocking read, write, shutdown, close, abort, options, connect), clock
 * steps, ICMP fragmentation-needed, TX failures. Listeners: port 80 hands flows
 * to a callback service that reads and answers on the RX path, port 81 queues
 * them for accept; port 82 is closed.
 * Checked after every record (tests/fuzz/support_stack.c): every frame sent well
 * formed (TCP checksum included), counters add up (each segment one fate), TCP's
 * connection list, counts, queues, sequence variables, memory and pinned RX
 * buffers within their caps and equal to what the queues hold, RX buffers held
 * only by TCP, the timer deadline after a tick in the future; at the end every
 * buffer comes back (ASan reports leaks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp_int.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_plat.h"

#define NPEERS 6
#define NFLOWS 8
#define PEER_BASE 40000

/* What the stack last told each peer (learned from the frames it sent). */
struct peer {
    uint16_t lport; /* our port toward this peer (0: none yet) */
    uint32_t next;  /* the sequence number we sent up to (seq + len) */
    uint32_t ack;   /* what we acknowledged of the peer */
    uint32_t ts;    /* our last timestamp */
    uint32_t tsval; /* the peer's own timestamp clock */
};

static struct peer peers[NPEERS];
static struct tcp_flow *flows[NFLOWS];
static struct tcp_listener *l80, *l81;
static uint8_t frame[2048];
static uint8_t pat[20000];

static void track(const uint8_t *f, uint32_t len)
{
    if (len < 14 + 20 + 20 || net_rd16(f + 12) != 0x0800 || f[14 + 9] != IPV4_PROTO_TCP)
        return;
    const uint8_t *ip = f + 14, *t = ip + 20;
    uint16_t dport = net_rd16(t + 2);
    if (dport < PEER_BASE || dport >= PEER_BASE + NPEERS)
        return;
    struct peer *pr = &peers[dport - PEER_BASE];
    uint32_t hl = (t[12] >> 4) * 4u, tl = net_rd16(ip + 2) - 20u;
    uint8_t fl = t[13];
    pr->lport = net_rd16(t);
    pr->next = net_rd32(t + 4) + (tl - hl) + ((fl & (TCP_SYN | TCP_FIN)) ? 1 : 0);
    if (fl & TCP_ACK)
        pr->ack = net_rd32(t + 8);
    struct tcp_opts o;
    tcp_options_parse(t + 20, hl - 20, &o);
    if (o.present & TCP_OPTF_TS)
        pr->ts = o.ts_val;
}

static void tx_hook(const uint8_t *f, uint32_t len)
{
    track(f, len);
}

/* ------------------------------------------------------------ services */

static void keep(struct tcp_flow *f)
{
    for (int i = 0; i < NFLOWS; i++)
        if (!flows[i]) {
            flows[i] = f;
            return;
        }
    tcp_abort(f); /* no room to track it */
}

static void forget(struct tcp_flow *f)
{
    for (int i = 0; i < NFLOWS; i++)
        if (flows[i] == f)
            flows[i] = NULL;
}

/* Port 80: reads everything, answers each read with as many bytes, closes at the
 * end of the stream. */
static void service(void *ctx, struct tcp_flow *f, unsigned ev)
{
    (void)ctx;
    if (ev & TCP_EV_READABLE) {
        struct view v;
        for (int k = 0; k < 64; k++) {
            enum tcp_err e = tcp_read(f, &v, 0);
            if (e != TCP_OK)
                break;
            if (!v.len) {
                forget(f);
                tcp_close(f);
                return;
            }
            uint32_t w;
            struct view out = view_of_mem(pat, v.len < sizeof pat ? v.len : sizeof pat);
            tcp_write_some(f, &out, 1, &w);
        }
    }
    if (ev & TCP_EV_CLOSED) {
        forget(f);
        tcp_close(f);
    }
}

static void on_accept80(void *ctx, struct tcp_flow *f)
{
    (void)ctx;
    keep(f);
    tcp_set_event_handler(f, service, NULL);
}

/* ------------------------------------------------------------ records */

static uint32_t pick_seq(struct fz *c, uint32_t base)
{
    uint8_t m = fz_u8(c);
    switch (m & 3) {
    case 0:
        return base;
    case 1:
        return base + fz_u16(c);
    case 2:
        return base - fz_u16(c);
    default:
        return fz_u32(c);
    }
}

static uint32_t options(struct fz *c, struct peer *pr, uint8_t flags, uint8_t *out)
{
    struct tcp_opts o = {0};
    uint8_t mode = fz_u8(c);
    switch (mode & 7) {
    case 0:
        return 0;
    case 1: /* timestamps, as a peer sends them */
    case 2:
        o.present = TCP_OPTF_TS;
        o.ts_val = pr->tsval += fz_u8(c);
        o.ts_ecr = pr->ts;
        break;
    case 3: /* what a SYN carries */
        o.present = fz_u8(c) & 0x17;
        o.mss = fz_u16(c);
        o.wscale = fz_u8(c);
        o.ts_val = pr->tsval += 1;
        o.ts_ecr = pr->ts;
        return tcp_options_emit(&o, true, out, 40);
    case 4: /* SACK blocks around what we sent */
        o.present = TCP_OPTF_TS | TCP_OPTF_SACK;
        o.ts_val = pr->tsval += 1;
        o.ts_ecr = pr->ts;
        o.nsack = (uint8_t)(1 + fz_u8(c) % 3);
        for (int i = 0; i < o.nsack; i++) {
            uint32_t s = pr->next - fz_u16(c);
            o.sack[i] = (struct tcp_sack_block){s, s + fz_u16(c) % 3000};
        }
        break;
    default: { /* raw bytes, padded to a multiple of 4 */
        uint32_t n = fz_u8(c) % 41;
        n = (uint32_t)fz_bytes(c, out, n);
        while (n % 4)
            out[n++] = TCP_OPT_EOL;
        return n;
    }
    }
    (void)flags;
    return tcp_options_emit(&o, false, out, 40);
}

static void segment_record(struct fz *c)
{
    static const uint16_t lports[4] = {80, 81, 82, 0};
    uint8_t who = fz_u8(c), how = fz_u8(c);
    struct peer *pr = &peers[who % NPEERS];
    uint16_t pport = (uint16_t)(PEER_BASE + who % NPEERS);
    uint16_t lport = lports[(who >> 4) & 3];
    if (!lport)
        lport = pr->lport ? pr->lport : 80;
    uint8_t flags = fz_u8(c);
    uint32_t seq = pick_seq(c, pr->ack);
    uint32_t ack = pick_seq(c, pr->next);
    uint16_t wnd = fz_u16(c);
    uint8_t *t = frame + 14 + 20;
    uint32_t ol = options(c, pr, flags, t + 20);
    uint32_t dl = fz_u16(c) % 1461;
    if (how & 1)
        dl = 0;
    memcpy(t + 20 + ol, pat + (seq % 512), dl);
    struct tcp_repr r = {pport, lport, seq,      ack, flags, (uint8_t)(20 + ol),
                         wnd,   0,     fz_u16(c)};
    tcp_header_emit(&r, t);
    uint32_t tl = 20 + ol + dl;
    struct ipv4_addr src = (how & 2) ? fz_pick_addr(c) : fx_peer_ip(), dst = fx_dut_ip();
    uint32_t s = fz_ref_sum(0, (const uint8_t *)&src.be, 4);
    s = fz_ref_sum(s, (const uint8_t *)&dst.be, 4);
    uint8_t ph[4] = {0, 6, (uint8_t)(tl >> 8), (uint8_t)tl};
    s = fz_ref_sum(s, ph, 4);
    net_wr16(t + 16, (uint16_t)~fz_ref_sum(s, t, tl));
    if (how & 4)
        t[16] ^= (uint8_t)(1 + fz_u8(c) % 255);
    size_t n = fx_eth(frame, &fx_dut_mac, &fx_peer_mac, ETH_TYPE_IPV4);
    n += fx_ipv4_opts(frame + n, src, dst, IPV4_PROTO_TCP, 1, 0x4000, 64, NULL, 0,
                      (uint16_t)tl);
    fz_rx(frame, (uint32_t)(n + tl));
}

static void app_record(struct fz *c)
{
    uint8_t op = fz_u8(c), k = fz_u8(c) % NFLOWS;
    struct tcp_flow *f = flows[k];
    if ((op & 15) == 9) { /* take one from the accept queue */
        if (!f && tcp_accept(l81, 0, &f) == TCP_OK)
            flows[k] = f;
        return;
    }
    if ((op & 15) == 10) { /* connect to a peer */
        if (!f &&
            tcp_connect_start(fz_env.st->tcp, fx_peer_ip(),
                              (uint16_t)(PEER_BASE + fz_u8(c) % NPEERS), &f) == TCP_OK)
            flows[k] = f;
        return;
    }
    if (!f)
        return;
    struct view v;
    uint32_t w;
    switch (op & 15) {
    case 0:
    case 1:
        for (int i = 0; i < 8 && tcp_read(f, &v, 0) == TCP_OK && v.len; i++)
            ;
        break;
    case 2:
        tcp_read_done(f);
        break;
    case 3:
    case 4: {
        struct view out = view_of_mem(pat, fz_u16(c) % sizeof pat);
        tcp_write_some(f, &out, 1, &w);
        break;
    }
    case 5:
        tcp_shutdown(f, (enum tcp_shutdown_how)(1 + fz_u8(c) % 3));
        break;
    case 6:
        flows[k] = NULL;
        tcp_close(f);
        break;
    case 7:
        flows[k] = NULL;
        tcp_abort(f);
        break;
    case 8:
        tcp_set_nodelay(f, fz_u8(c) & 1);
        break;
    default:
        tcp_set_keepalive(f, true, 1 + fz_u16(c) % 5000, 1 + fz_u16(c) % 2000,
                          fz_u8(c) % 5);
        break;
    }
}

/* ICMP fragmentation-needed quoting a segment we might have sent. */
static void icmp_record(struct fz *c)
{
    struct peer *pr = &peers[fz_u8(c) % NPEERS];
    uint8_t quote[28], icmp[36];
    fx_ipv4_opts(quote, fx_dut_ip(), fx_peer_ip(), IPV4_PROTO_TCP, 0, 0x4000, 64, NULL, 0,
                 1000);
    net_wr16(quote + 20, pr->lport);
    net_wr16(quote + 22, (uint16_t)(PEER_BASE + (pr - peers)));
    net_wr32(quote + 24, pick_seq(c, pr->next - 1));
    icmp[0] = 3;
    icmp[1] = 4;
    net_wr16(icmp + 4, 0);
    net_wr16(icmp + 6, fz_u16(c));
    memcpy(icmp + 8, quote, 28);
    fz_fix_icmp(icmp, 36);
    size_t n = fx_eth(frame, &fx_dut_mac, &fx_peer_mac, ETH_TYPE_IPV4);
    n += fx_ipv4_opts(frame + n, ipv4_addr_make(10, 0, 0, 254), fx_dut_ip(), 1, 2, 0, 64,
                      NULL, 0, 36);
    memcpy(frame + n, icmp, 36);
    fz_rx(frame, (uint32_t)(n + 36));
}

static void config(struct fz *c, struct tcp_config *t)
{
    uint8_t f = fz_u8(c);
    memset(t, 0, sizeof *t);
    t->no_sack = f & 1;
    t->no_ts = f & 2;
    t->no_ws = f & 4;
    t->cc = (f & 8) ? TCP_CC_RENO : TCP_CC_CUBIC;
    if (f & 16) { /* small caps, so they are reached */
        t->max_conns = 1 + fz_u8(c) % 8;
        t->max_syn_queue = 1 + fz_u8(c) % 4;
        t->sndbuf = 512 + fz_u16(c) % 8192;
        t->rcvbuf = 512 + fz_u16(c) % 8192;
        t->mem_max = TCP_CHUNK_BYTES * (1 + fz_u8(c) % 16);
        t->rx_pinned_max = fz_u8(c) % 4;
    }
    for (int i = 0; i < 16; i++)
        t->secret[i] = (uint8_t)i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz c = {data, size};
    struct tcp_config tcfg;
    config(&c, &tcfg);
    for (size_t i = 0; i < sizeof pat; i++)
        pat[i] = (uint8_t)(i * 7 + (i >> 8));
    memset(peers, 0, sizeof peers);
    memset(flows, 0, sizeof flows);
    /* fz_stack_new takes no TCP config: the stack is made, then TCP remade. */
    struct net_stack *st = fz_stack_new(NULL);
    tcp_destroy(st->tcp);
    st->tcp = tcp_create(&st->ip, &tcfg);
    KCHECK(st->tcp);
    st->tcp_ctx = st->tcp;
    fz_env.tx_hook = tx_hook;
    KCHECK(tcp_listen(st->tcp, 80, 4, on_accept80, NULL, &l80) == TCP_OK);
    KCHECK(tcp_listen(st->tcp, 81, 2, NULL, NULL, &l81) == TCP_OK);
    for (int rec = 0; !fz_done(&c) && rec < 512; rec++) {
        uint8_t op = fz_u8(&c);
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
            segment_record(&c);
            break;
        case 3:
        case 4:
            app_record(&c);
            fz_check_tx();
            fz_check_invariants();
            break;
        case 5: {
            uint16_t v = fz_u16(&c);
            fz_advance((op & 0x80) ? (uint64_t)v * 1000000000ull
                                   : (uint64_t)v * 1000000ull);
            break;
        }
        case 6: {
            uint64_t d = net_next_deadline(fz_env.st);
            if (d != UINT64_MAX && d > plat_now_ns())
                fz_advance(d - plat_now_ns());
            break;
        }
        default:
            if (op & 0x80) {
                icmp_record(&c);
            } else {
                uint8_t b = fz_u8(&c);
                fz_env.fk.tx_result = (b & 1) ? NETIF_ENOBUFS : NETIF_OK;
                fz_env.fk.tx_alloc_limit =
                    (b & 2) ? fz_env.fk.tx_allocs + ((b >> 2) & 7) : -1;
            }
            break;
        }
    }
    fz_env.fk.tx_result = NETIF_OK;
    fz_env.fk.tx_alloc_limit = -1;
    fz_stack_free();
    return 0;
}
