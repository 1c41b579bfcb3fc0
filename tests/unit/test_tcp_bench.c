/* The TCP per-segment cost (tests/bench/README.md's TCP anchor) as a test: an
 * in-memory peer plays the client and builds each segment from what the stack
 * last sent (its ISN, acknowledgments, window), frames pass through in-process
 * queues: the RX side copies each frame into one of 256 RX buffers (a ring's
 * worth; the stack may keep some as received data), the TX side records frames
 * without copying (the peer reads them, then lets the buffers go, as a device
 * would). The server side is a callback service on the RX path. Workloads:
 *   0 bulk receive: 1460-byte in-order segments, the service consumes them
 *   1 bulk send: the service keeps the send buffer full, the peer ACKs every
 *     second segment
 *   2 request/response: 64 bytes each way per transaction
 *   3 connection: SYN, SYN-ACK, ACK, 64 bytes each way, FIN both ways
 * The peer offers window scaling but neither SACK nor timestamps (the anchor's
 * configuration). The measured loop is tcp_feed (the frame copy and everything
 * the stack does in response); warm-up frames go through tcp_feed_warm. So
 *   valgrind --tool=callgrind --toggle-collect=tcp_feed ./a.out K
 * counts K's 20,000 units after 1,000 warm-up ones (tests/bench/tcp_cost.sh);
 * without arguments, each workload runs briefly with its results checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "net/stack.h"
#include "net/wire/tcp.h"
#include "tests/unit/net_fixtures.h"

#define RX_BUFS 256
#define RX_OFF 12
#define TX_BUFS 64
#define OUT_MAX 64
#define MSS 1460

/* ------------------------------------------------------------ the device */

struct out_frame {
    struct netbuf *b;
    uint32_t len;
    struct netbuf_seg segs[8];
    int nsegs;
};

struct bench_if {
    struct netif nif;
    struct netbuf rx[RX_BUFS], tx[TX_BUFS];
    struct netbuf *rx_free[RX_BUFS], *tx_free[TX_BUFS];
    int nrx_free, ntx_free;
    struct out_frame out[OUT_MAX];
    int nout;
    uint8_t rx_mem[RX_BUFS][2048], tx_mem[TX_BUFS][2048];
};

static struct bench_if bi;

static void rx_done(struct netbuf *b)
{
    bi.rx_free[bi.nrx_free++] = b;
}

static void tx_done(struct netbuf *b)
{
    bi.tx_free[bi.ntx_free++] = b;
}

static struct netbuf *b_alloc(struct netif *nif)
{
    (void)nif;
    if (!bi.ntx_free)
        return NULL;
    struct netbuf *b = bi.tx_free[--bi.ntx_free];
    b->refs = 1;
    return b;
}

/* Records the frame for the peer: no copy, references held until it has read. */
static enum netif_err b_send(struct netif *nif, struct netbuf *b, uint32_t len,
                             const struct netbuf_seg *extra, int nextra)
{
    (void)nif;
    struct out_frame *o = &bi.out[bi.nout++];
    o->b = b;
    o->len = len;
    o->nsegs = nextra;
    for (int i = 0; i < nextra; i++) {
        o->segs[i] = extra[i];
        if (extra[i].buf)
            netbuf_ref(extra[i].buf);
    }
    return NETIF_OK;
}

static const struct netif_ops bench_ops = {b_alloc, b_send};

static void bench_if_init(void)
{
    memset(&bi, 0, sizeof bi);
    bi.nif.ops = &bench_ops;
    bi.nif.drv = &bi;
    memcpy(bi.nif.mac, fx_dut_mac.b, 6);
    bi.nif.mtu = 1500;
    bi.nif.tx_headroom = 12;
    bi.nif.max_segs = 4;
    for (int i = 0; i < RX_BUFS; i++) {
        bi.rx[i] = (struct netbuf){bi.rx_mem[i], sizeof bi.rx_mem[i], 0, rx_done, &bi, 0};
        bi.rx_free[bi.nrx_free++] = &bi.rx[i];
    }
    for (int i = 0; i < TX_BUFS; i++) {
        bi.tx[i] = (struct netbuf){bi.tx_mem[i], sizeof bi.tx_mem[i], 0, tx_done, &bi, 0};
        bi.tx_free[bi.ntx_free++] = &bi.tx[i];
    }
}

/* The measured loop body: the frame into a free RX buffer, handed to the stack. */
__attribute__((noinline)) void tcp_feed(const uint8_t *frame, uint32_t len)
{
    struct netbuf *b = bi.rx_free[--bi.nrx_free];
    memcpy(b->data + RX_OFF, frame, len);
    b->refs = 1;
    bi.nif.input(&bi.nif, b, RX_OFF, len);
}

/* The same, not counted (warm-up, set-up). */
__attribute__((noinline)) void tcp_feed_warm(const uint8_t *frame, uint32_t len)
{
    struct netbuf *b = bi.rx_free[--bi.nrx_free];
    memcpy(b->data + RX_OFF, frame, len);
    b->refs = 1;
    bi.nif.input(&bi.nif, b, RX_OFF, len);
}

/* ------------------------------------------------------------ the peer */

struct peer {
    uint16_t port;
    uint32_t seq;     /* next to send */
    uint32_t ack;     /* next expected from the stack */
    uint32_t wnd;     /* the stack's window, scaled */
    uint32_t unacked; /* data segments received since the peer's last ACK */
    uint64_t data_bytes, data_segs, frames, fins, synacks;
    bool fin_seen;
    uint8_t last_flags;
    uint32_t ends[1024]; /* ends of the data segments not yet acknowledged */
    uint32_t head, tail;
};

static struct peer pr;
static bool counting;
static uint8_t frame[1600];

static uint32_t peer_sum(uint32_t s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

/* A segment from the peer (10.0.0.1:port) to the stack (10.0.0.2:dport). */
static uint32_t peer_segment(uint16_t dport, uint8_t flags, const uint8_t *data,
                             uint32_t len, bool syn_opts)
{
    size_t n = fx_eth(frame, &fx_dut_mac, &fx_peer_mac, 0x0800);
    uint8_t *t = frame + n + 20;
    uint32_t ol = 0;
    if (syn_opts) { /* MSS 1460, NOP, window scale 7 */
        static const uint8_t o[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
        memcpy(t + 20, o, 8);
        ol = 8;
    }
    struct tcp_repr r = {
        pr.port, dport, pr.seq, pr.ack, flags, (uint8_t)(20 + ol), syn_opts ? 65535 : 512,
        0,       0};
    tcp_header_emit(&r, t);
    if (len)
        memcpy(t + 20 + ol, data, len);
    uint32_t tl = 20 + ol + len;
    uint8_t ph[12];
    struct ipv4_addr s = fx_peer_ip(), d = fx_dut_ip();
    memcpy(ph, &s.be, 4);
    memcpy(ph + 4, &d.be, 4);
    ph[8] = 0, ph[9] = 6, ph[10] = (uint8_t)(tl >> 8), ph[11] = (uint8_t)tl;
    net_wr16(t + 16, (uint16_t)~peer_sum(peer_sum(0, ph, 12), t, tl));
    fx_ipv4(frame + n, s, d, 6, 1, 0x4000, 64, (uint16_t)tl);
    pr.seq += len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
    return (uint32_t)(n + 20 + tl);
}

static void feed(uint32_t len)
{
    if (counting)
        tcp_feed(frame, len);
    else
        tcp_feed_warm(frame, len);
}

/* The peer reads what the stack sent, then lets the buffers go. */
static void peer_read(void)
{
    for (int i = 0; i < bi.nout; i++) {
        struct out_frame *o = &bi.out[i];
        const uint8_t *f = o->b->data + bi.nif.tx_headroom;
        const uint8_t *t = f + 14 + 20;
        if (net_rd16(f + 12) != 0x0800 || f[14 + 9] != 6) { /* the gratuitous ARP */
            netbuf_unref(o->b);
            continue;
        }
        uint32_t tl = net_rd16(f + 14 + 2) - 20u, hl = (t[12] >> 4) * 4u;
        uint32_t dl = tl - hl, seq = net_rd32(t + 4);
        uint8_t fl = t[13];
        pr.frames++;
        pr.last_flags = fl;
        if (fl & TCP_SYN) {
            pr.synacks++;
            pr.ack = seq + 1;
        }
        if (dl) {
            assert_int_equal(seq, pr.ack);
            pr.ack += dl;
            pr.data_bytes += dl;
            pr.data_segs++;
            pr.unacked++;
            pr.ends[pr.tail++ % 1024] = seq + dl;
        }
        if (fl & TCP_FIN) {
            pr.ack++;
            pr.fins++;
            pr.fin_seen = true;
        }
        pr.wnd = (uint32_t)net_rd16(t + 14) << 1; /* we announced scale 7, it 1 */
        for (int k = 0; k < o->nsegs; k++)
            if (o->segs[k].buf)
                netbuf_unref(o->segs[k].buf);
        netbuf_unref(o->b);
    }
    bi.nout = 0;
}

/* ------------------------------------------------------------ the services */

static uint8_t payload[65536];
static uint64_t served_bytes, replies, accepted, closed;

static void discard_ev(void *ctx, struct tcp_flow *f, unsigned ev)
{
    (void)ctx, (void)ev;
    struct view v;
    while (tcp_read(f, &v, 0) == TCP_OK && v.len)
        served_bytes += v.len;
}

static void chargen_ev(void *ctx, struct tcp_flow *f, unsigned ev)
{
    (void)ctx;
    if (!(ev & TCP_EV_WRITABLE))
        return;
    struct view v = view_of_mem(payload, sizeof payload);
    uint32_t w;
    tcp_write_some(f, &v, 1, &w);
}

static void echo_ev(void *ctx, struct tcp_flow *f, unsigned ev)
{
    (void)ctx, (void)ev;
    struct view v;
    while (tcp_read(f, &v, 0) == TCP_OK) {
        if (!v.len) {
            closed++;
            tcp_close(f);
            return;
        }
        uint32_t w;
        served_bytes += v.len;
        tcp_write_some(f, &v, 1, &w);
        replies++;
    }
}

static tcp_event_fn service;

static void on_accept(void *ctx, struct tcp_flow *f)
{
    (void)ctx;
    accepted++;
    tcp_set_event_handler(f, service, NULL);
    if (service == chargen_ev)
        chargen_ev(NULL, f, TCP_EV_WRITABLE);
}

/* ------------------------------------------------------------ workloads */

static struct net_stack *st;

static void stack_up(tcp_event_fn fn)
{
    bench_if_init();
    struct net_config cfg = {0};
    net_config_parse("10.0.0.2/24", NULL, &cfg);
    for (int i = 0; i < 16; i++)
        cfg.tcp.secret[i] = (uint8_t)(i + 1);
    st = net_stack_create(&bi.nif, &cfg);
    assert_non_null(st);
    assert_int_equal(arp_add_static(&st->arp, fx_peer_ip(), &fx_peer_mac), 0);
    struct tcp_listener *l;
    assert_int_equal(tcp_listen(st->tcp, 80, 16, on_accept, NULL, &l), TCP_OK);
    service = fn;
    served_bytes = replies = accepted = closed = 0;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 13 + 7);
    memset(&pr, 0, sizeof pr);
    counting = false;
}

static void stack_down(void)
{
    peer_read();
    net_stack_destroy(st);
    assert_int_equal(bi.nrx_free, RX_BUFS);
    assert_int_equal(bi.ntx_free, TX_BUFS);
}

/* The client's handshake (not measured in the bulk workloads). */
static void handshake(uint16_t port)
{
    pr.port = port;
    pr.seq = 1000000u * port;
    feed(peer_segment(80, TCP_SYN, NULL, 0, true));
    peer_read();
    assert_int_equal(pr.last_flags, TCP_SYN | TCP_ACK);
    feed(peer_segment(80, TCP_ACK, NULL, 0, false));
    peer_read();
}

static void bulk_receive(int warm, int units)
{
    static uint8_t seg[MSS];
    stack_up(discard_ev);
    handshake(40000);
    for (int i = 0; i < warm + units; i++) {
        counting = i >= warm;
        for (int k = 0; k < MSS; k++)
            seg[k] = (uint8_t)(i + k);
        feed(peer_segment(80, TCP_ACK, seg, MSS, false));
        peer_read();
        assert_true(pr.wnd >= 4 * MSS); /* the service keeps up */
    }
    counting = false;
    printf("bulk receive: %d segments, %llu bytes read, %llu ACKs\n", warm + units,
           (unsigned long long)served_bytes, (unsigned long long)pr.frames);
    assert_int_equal(served_bytes, (uint64_t)(warm + units) * MSS);
    assert_true(pr.frames <= 2 + (uint64_t)(warm + units) / 2 + 1);
    stack_down();
}

static void bulk_send(int warm, int units)
{
    stack_up(chargen_ev);
    handshake(40001);
    uint64_t at_start = 0;
    while (pr.data_segs < (uint64_t)(warm + units)) {
        if (!counting && pr.data_segs >= (uint64_t)warm) {
            counting = true;
            at_start = pr.data_segs;
        }
        /* An ACK of the two oldest segments not yet acknowledged. */
        assert_true(pr.tail - pr.head >= 2);
        uint32_t keep = pr.ack;
        pr.ack = pr.ends[(pr.head + 1) % 1024];
        pr.head += 2;
        feed(peer_segment(80, TCP_ACK, NULL, 0, false));
        pr.ack = keep;
        peer_read();
    }
    counting = false;
    printf("bulk send: %llu segments (%llu counted), %llu bytes\n",
           (unsigned long long)pr.data_segs,
           (unsigned long long)(pr.data_segs - at_start),
           (unsigned long long)pr.data_bytes);
    assert_true(pr.data_segs - at_start >= (uint64_t)units);
    stack_down();
}

static void request_response(int warm, int units)
{
    static uint8_t req[64];
    stack_up(echo_ev);
    handshake(40002);
    for (int i = 0; i < warm + units; i++) {
        counting = i >= warm;
        memset(req, i, sizeof req);
        uint64_t before = pr.data_bytes;
        feed(peer_segment(80, TCP_ACK | TCP_PSH, req, 64, false));
        peer_read();
        assert_int_equal(pr.data_bytes - before, 64); /* the reply came at once */
    }
    counting = false;
    printf("request/response: %d transactions, %llu frames out\n", warm + units,
           (unsigned long long)pr.frames);
    assert_int_equal(replies, (uint64_t)(warm + units));
    assert_int_equal(pr.frames, 1 + (uint64_t)(warm + units));
    stack_down();
}

static void connections(int warm, int units)
{
    static uint8_t req[64];
    stack_up(echo_ev);
    for (int i = 0; i < warm + units; i++) {
        counting = i >= warm;
        pr.port = (uint16_t)(20000 + i % 40000);
        pr.seq = 7919u * (uint32_t)i;
        pr.fin_seen = false;
        uint64_t frames = pr.frames;
        feed(peer_segment(80, TCP_SYN, NULL, 0, true));
        peer_read();
        feed(peer_segment(80, TCP_ACK, NULL, 0, false));
        peer_read();
        memset(req, i, sizeof req);
        feed(peer_segment(80, TCP_ACK | TCP_PSH, req, 64, false));
        peer_read();
        feed(peer_segment(80, TCP_ACK | TCP_FIN, NULL, 0, false));
        peer_read();
        assert_true(pr.fin_seen);
        feed(peer_segment(80, TCP_ACK, NULL, 0, false));
        peer_read();
        /* SYN-ACK, reply, FIN (with the ACK of the peer's FIN) */
        assert_int_equal(pr.frames - frames, 3);
    }
    counting = false;
    printf("connections: %d, %llu accepted, %llu closed, %u left\n", warm + units,
           (unsigned long long)accepted, (unsigned long long)closed, st->tcp ? 0u : 1u);
    assert_int_equal(accepted, (uint64_t)(warm + units));
    assert_int_equal(closed, (uint64_t)(warm + units));
    struct tcp_gauges g;
    tcp_gauges(st->tcp, &g);
    assert_int_equal(g.conns, 0);
    stack_down();
}

static int warm_n = 100, units_n = 2000;

static void test_bulk_receive(void **state)
{
    (void)state;
    bulk_receive(warm_n, units_n);
}

static void test_bulk_send(void **state)
{
    (void)state;
    bulk_send(warm_n, units_n);
}

static void test_request_response(void **state)
{
    (void)state;
    request_response(warm_n, units_n);
}

static void test_connections(void **state)
{
    (void)state;
    connections(warm_n, units_n);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bulk_receive),
        cmocka_unit_test(test_bulk_send),
        cmocka_unit_test(test_request_response),
        cmocka_unit_test(test_connections),
    };
    /* One workload at the anchor's size, for callgrind (tests/bench/tcp_cost.sh). */
    if (argc > 1) {
        warm_n = 1000;
        units_n = 20000;
        const struct CMUnitTest one[] = {tests[atoi(argv[1]) % 4]};
        return cmocka_run_group_tests(one, NULL, NULL);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
