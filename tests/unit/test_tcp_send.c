/* TCP sending: segmentation by MSS within the initial window and slow start,
 * Nagle (and no-delay), the retransmission timeout with back-off and giving up,
 * zero-window probes with back-off and the window reopening, fast retransmit
 * without SACK (NewReno: partial and full ACKs) and SACK-driven recovery (only the
 * holes), a writer blocked by a full send buffer or by the total memory cap, a
 * reader and a writer blocked at once, keepalive, the MSS from the interface MTU,
 * and ICMP fragmentation-needed shrinking the segments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kernel/sched.h"
#include "tests/unit/tcp_harness.h"

static struct tcp_config cfg;

static int setup(void **state)
{
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.no_ts = true;
    sched_init();
    h_setup(&cfg);
    return 0;
}

static int setup_reno_small(void **state)
{
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.no_ts = true;
    cfg.cc = TCP_CC_RENO;
    cfg.sndbuf = 8192;
    sched_init();
    h_setup(&cfg);
    return 0;
}

static int setup_mtu1000(void **state)
{
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    sched_init();
    h_setup_mtu(&cfg, 1000, 4);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_teardown();
    return 0;
}

static struct tcp_flow *open_flow(struct peer *pr, bool sack)
{
    struct tcp_opts o = {0};
    o.present = TCP_OPTF_MSS | (sack ? TCP_OPTF_SACK_PERM : 0);
    o.mss = 1000;
    h_listen();
    peer_init(pr, 1000);
    return h_open(pr, &o);
}

static void write_all(struct tcp_flow *f, const void *p, uint32_t n)
{
    struct view v = view_of_mem((void *)p, n);
    assert_int_equal(tcp_write(f, &v, 1), TCP_OK);
}

/* Collects what was sent: the number of data segments, checked against d. */
static int collect(struct peer *pr, const uint8_t *d, uint32_t base, struct oseg *last)
{
    struct oseg o;
    int n = 0;
    while (h_next(&o)) {
        if (o.len) {
            assert_memory_equal(o.data, d + (o.r.seq - base), o.len);
            n++;
        }
        peer_saw(pr, &o);
        if (last)
            *last = o;
    }
    return n;
}

static void test_segmentation_and_slow_start(void **state)
{
    (void)state;
    struct peer pr;
    static uint8_t d[20000];
    fill_pattern(d, sizeof d, 1);
    struct tcp_flow *f = open_flow(&pr, false);
    uint32_t base = pr.ack;
    write_all(f, d, sizeof d);
    /* Initial window: min(4 MSS, max(2 MSS, 4380)) = 4 * 1000. */
    struct oseg o;
    assert_int_equal(collect(&pr, d, base, &o), 4);
    assert_int_equal(o.len, 1000);
    assert_true(o.df);
    /* Slow start: each ACK grows cwnd by what it covers, at most 2 MSS (RFC
     * 3465, L = 2): 4 + 2, then 6 + 2. */
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(collect(&pr, d, base, NULL), 6);
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(collect(&pr, d, base, NULL), 8);
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(collect(&pr, d, base, &o), 2); /* 20 of 20 */
    assert_int_equal(o.r.flags, TCP_ACK | TCP_PSH); /* the last one pushes */
    peer_send(&pr, TCP_ACK, NULL, 0);
    struct tcp_flow_info fi;
    tcp_flow_info(f, &fi);
    assert_int_equal(fi.unacked, 0);
    assert_int_equal(fi.unsent, 0);
    tcp_abort(f);
}

static void test_nagle_and_nodelay(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    struct tcp_flow *f = open_flow(&pr, false);
    write_all(f, "aaaaaaaaaa", 10);
    h_expect(&o, TCP_ACK | TCP_PSH); /* nothing in flight: goes at once */
    peer_saw(&pr, &o);
    write_all(f, "bbbbb", 5);
    write_all(f, "ccccc", 5);
    h_expect_none(); /* Nagle: held while data is unacknowledged */
    peer_send(&pr, TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK | TCP_PSH);
    assert_int_equal(o.len, 10); /* the two writes together */
    assert_memory_equal(o.data, "bbbbbccccc", 10);
    peer_saw(&pr, &o);
    tcp_set_nodelay(f, true);
    write_all(f, "d", 1);
    write_all(f, "e", 1);
    h_expect(&o, TCP_ACK | TCP_PSH);
    h_expect(&o, TCP_ACK | TCP_PSH);
    assert_int_equal(o.len, 1);
    tcp_abort(f);
}

static void test_rto_backoff_and_give_up(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    struct tcp_flow *f = open_flow(&pr, false);
    uint32_t base = pr.ack;
    write_all(f, "hello", 5);
    h_expect(&o, TCP_ACK | TCP_PSH);
    /* RTT sample from the handshake is 0: RTO is the 200 ms floor. */
    uint64_t t = plat_now_ns(), last = t;
    uint64_t gaps[16];
    int n = 0;
    while (h_state(f) != TCP_CLOSED && n < 16) {
        h_advance(10 * MS);
        while (h_next(&o)) {
            if (o.r.flags & TCP_RST)
                continue;
            assert_int_equal(o.r.seq, base);
            assert_int_equal(o.len, 5);
            gaps[n++] = plat_now_ns() - last;
            last = plat_now_ns();
        }
    }
    assert_int_equal(n, 12); /* retries */
    assert_true(gaps[0] >= 200 * MS && gaps[0] <= 210 * MS);
    assert_true(gaps[1] >= 400 * MS && gaps[1] <= 410 * MS);
    assert_true(gaps[2] >= 800 * MS && gaps[2] <= 810 * MS);
    assert_true(gaps[10] >= 60 * SEC && gaps[10] <= 60 * SEC + 10 * MS); /* the cap */
    assert_int_equal(tcp_flow_error(f), TCP_ETIMEDOUT);
    struct view v = view_of_mem("x", 1);
    assert_int_equal(tcp_write(f, &v, 1), TCP_ETIMEDOUT);
    assert_int_equal(ctr("tcp.conn_timeout"), 1);
    tcp_close(f);
    assert_int_equal(tc->nconns, 0);
}

static void test_zero_window_probes(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    uint8_t d[3000];
    fill_pattern(d, sizeof d, 4);
    struct tcp_flow *f = open_flow(&pr, false);
    uint32_t base = pr.ack;
    pr.wnd = 0;
    peer_send(&pr, TCP_ACK, NULL, 0);
    write_all(f, d, sizeof d);
    h_expect_none();
    /* After an RTO: one byte beyond the window. */
    h_advance(199 * MS);
    h_expect_none();
    h_advance(2 * MS);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.len, 1);
    assert_int_equal(o.r.seq, base);
    /* The peer still has no room: the probe is answered, probes go on, backed
     * off, and the connection is never given up while they are answered. */
    for (int i = 0; i < 20; i++) {
        peer_send(&pr, TCP_ACK, NULL, 0);
        h_advance(61 * SEC);
        h_expect(&o, TCP_ACK);
        assert_int_equal(o.len, 1);
        assert_int_equal(o.r.seq, base);
    }
    assert_int_equal(h_state(f), TCP_ESTABLISHED);
    assert_true(ctr("tcp.persist_probes") >= 21);
    /* The window opens: everything flows. */
    pr.wnd = 65535;
    peer_send(&pr, TCP_ACK, NULL, 0);
    int n = collect(&pr, d, base, NULL);
    assert_true(n >= 3);
    peer_send(&pr, TCP_ACK, NULL, 0);
    collect(&pr, d, base, NULL);
    struct tcp_flow_info fi;
    tcp_flow_info(f, &fi);
    assert_int_equal(fi.unsent, 0);
    tcp_abort(f);
}

static void test_newreno_fast_retransmit(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    static uint8_t d[8000];
    fill_pattern(d, sizeof d, 7);
    struct tcp_flow *f = open_flow(&pr, false);
    uint32_t base = pr.ack;
    write_all(f, d, 4000);
    assert_int_equal(collect(&pr, d, base, NULL), 4);
    /* Segment 0 lost: three duplicate ACKs. */
    pr.ack = base;
    peer_send(&pr, TCP_ACK, NULL, 0);
    peer_send(&pr, TCP_ACK, NULL, 0);
    h_expect_none();
    peer_send(&pr, TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.seq, base);
    assert_int_equal(o.len, 1000);
    assert_int_equal(ctr("tcp.fast_recoveries"), 1);
    /* A partial ACK (segment 2 lost too): segment 2 at once. */
    pr.ack = base + 2000;
    peer_send(&pr, TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.seq, base + 2000);
    /* The full ACK ends recovery. */
    pr.ack = base + 4000;
    peer_send(&pr, TCP_ACK, NULL, 0);
    struct tcp_pcb *p = (struct tcp_pcb *)f;
    assert_int_equal(p->recovery, TCP_REC_NONE);
    assert_int_equal(p->cwnd, p->ssthresh);
    assert_int_equal(ctr("tcp.rto_timeouts"), 0);
    tcp_abort(f);
}

static void test_sack_recovery_sends_holes_only(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    static uint8_t d[20000];
    fill_pattern(d, sizeof d, 8);
    struct tcp_flow *f = open_flow(&pr, true);
    uint32_t base = pr.ack;
    /* Open cwnd first: 12 segments acknowledged. */
    write_all(f, d, 12000);
    for (int i = 0; i < 6; i++) {
        collect(&pr, d, base, NULL);
        peer_send(&pr, TCP_ACK, NULL, 0);
    }
    assert_int_equal(pr.ack, base + 12000);
    uint32_t b2 = pr.ack;
    write_all(f, d + 12000, 8000);
    assert_int_equal(collect(&pr, d, base, NULL), 8);
    /* Segments 0 and 3 of these 8 are lost: SACKs for 1-2 and 4-7. */
    struct tcp_opts so = {0};
    so.present = TCP_OPTF_SACK;
    so.nsack = 1;
    so.sack[0] = (struct tcp_sack_block){b2 + 1000, b2 + 3000};
    h_raw(pr.port, pr.dport, TCP_ACK, pr.seq, b2, 65535, &so, NULL, 0);
    so.nsack = 2;
    so.sack[0] = (struct tcp_sack_block){b2 + 4000, b2 + 6000};
    so.sack[1] = (struct tcp_sack_block){b2 + 1000, b2 + 3000};
    h_raw(pr.port, pr.dport, TCP_ACK, pr.seq, b2, 65535, &so, NULL, 0);
    h_expect(&o, TCP_ACK); /* IsLost(segment 0): more than 2 MSS SACKed above */
    assert_int_equal(o.r.seq, b2);
    assert_int_equal(ctr("tcp.sack_recoveries"), 1);
    so.sack[0] = (struct tcp_sack_block){b2 + 4000, b2 + 8000};
    h_raw(pr.port, pr.dport, TCP_ACK, pr.seq, b2, 65535, &so, NULL, 0);
    /* Segment 3 is lost too now (3 segments SACKed above it): sent, and only
     * the holes ever are. */
    int seen3 = 0;
    while (h_next(&o)) {
        assert_true(o.r.seq == b2 || o.r.seq == b2 + 3000);
        seen3 += o.r.seq == b2 + 3000;
    }
    assert_int_equal(seen3, 1);
    /* Everything acknowledged: recovery over. */
    pr.ack = b2 + 8000;
    peer_send(&pr, TCP_ACK, NULL, 0);
    struct tcp_pcb *p = (struct tcp_pcb *)f;
    assert_int_equal(p->recovery, TCP_REC_NONE);
    assert_int_equal(p->sb.n, 0);
    assert_int_equal(ctr("tcp.rto_timeouts"), 0);
    tcp_abort(f);
}

/* With out-of-order data held, every segment carries SACK blocks besides the
 * timestamps: the data shrinks so the segment still fits the MTU (RFC 6691). */
static void test_sack_blocks_shrink_segments(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    static uint8_t d[6000];
    fill_pattern(d, sizeof d, 5);
    h_teardown();
    h_setup(NULL); /* timestamps on */
    struct tcp_opts so = {0};
    so.present = TCP_OPTF_MSS | TCP_OPTF_SACK_PERM;
    so.mss = 1460;
    h_listen();
    peer_init(&pr, 1000);
    pr.ts = true;
    struct tcp_flow *f = h_open(&pr, &so);
    uint32_t base = pr.ack;
    /* Three separate out-of-order pieces: three SACK blocks in every ACK. */
    for (int i = 0; i < 3; i++) {
        uint32_t keep = pr.seq;
        pr.seq += 1000u + 2000u * (uint32_t)i;
        peer_send(&pr, TCP_ACK, "ooo", 3);
        pr.seq = keep;
    }
    h_clear();
    write_all(f, d, sizeof d);
    int n = 0;
    while (h_next(&o)) {
        assert_int_equal(o.o.nsack, 3);
        assert_true(20 + 20 + 12 + 28 + o.len <= 1500);
        assert_memory_equal(o.data, d + (o.r.seq - base), o.len);
        n++;
    }
    assert_true(n >= 3);
    assert_int_equal(ctr("tcp.tx_errors"), 0);
    tcp_abort(f);
}

/* A tail loss probe (RFC 8985 7): no ACK for 2 SRTT (at least 10 ms) with
 * several segments in flight: the last segment again, then the RTO as usual. */
static void test_tail_loss_probe(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    static uint8_t d[3000];
    fill_pattern(d, sizeof d, 9);
    struct tcp_flow *f = open_flow(&pr, true);
    uint32_t base = pr.ack;
    write_all(f, d, sizeof d);
    assert_int_equal(collect(&pr, d, base, NULL), 3);
    h_advance(9 * MS);
    h_expect_none();
    h_advance(2 * MS);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.seq, base + 2000);
    assert_int_equal(o.len, 1000);
    assert_int_equal(ctr("tcp.tlp_probes"), 1);
    /* Its SACK shows the first two lost: fast recovery, not a timeout. */
    struct tcp_opts so = {0};
    so.present = TCP_OPTF_SACK;
    so.nsack = 1;
    so.sack[0] = (struct tcp_sack_block){base + 2000, base + 3000};
    h_raw(pr.port, pr.dport, TCP_ACK, pr.seq, base, 65535, &so, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.seq, base);
    assert_int_equal(ctr("tcp.rto_timeouts"), 0);
    tcp_abort(f);
}

struct writer {
    struct tcp_flow *f;
    const uint8_t *d;
    uint32_t n;
    enum tcp_err err;
    bool done;
};

static void writer_thread(void *arg)
{
    struct writer *w = arg;
    struct view v = view_of_mem((void *)w->d, w->n);
    w->err = tcp_write(w->f, &v, 1);
    w->done = true;
}

struct reader {
    struct tcp_flow *f;
    uint8_t buf[256];
    uint32_t n;
    enum tcp_err err;
};

static void reader_thread(void *arg)
{
    struct reader *r = arg;
    struct view v;
    r->err = tcp_read(r->f, &v, 100 * SEC);
    if (r->err == TCP_OK) {
        memcpy(r->buf, view_data(&v), v.len);
        r->n = v.len;
    }
}

static void test_blocked_writer_and_reader(void **state)
{
    (void)state;
    struct peer pr;
    static uint8_t d[30000];
    fill_pattern(d, sizeof d, 6);
    struct tcp_flow *f = open_flow(&pr, false);
    uint32_t base = pr.ack;
    struct writer w = {f, d, sizeof d, TCP_OK, false};
    struct reader r = {0};
    r.f = f;
    struct thread *tw = thread_spawn("writer", writer_thread, &w, 0);
    struct thread *tr = thread_spawn("reader", reader_thread, &r, 0);
    thread_yield();
    assert_false(w.done); /* 8 KiB send buffer */
    assert_int_equal(ctr("tcp.write_waits"), 1);
    /* Data in: the reader wakes while the writer still waits. */
    peer_send(&pr, TCP_ACK | TCP_PSH, "ping", 4);
    assert_int_equal(thread_join(tr, NULL), 0);
    assert_int_equal(r.n, 4);
    assert_false(w.done);
    /* ACKs free the buffer: the writer gets through. */
    uint32_t got = 0;
    while (!w.done) {
        got += (uint32_t)collect(&pr, d, base, NULL);
        peer_send(&pr, TCP_ACK, NULL, 0);
        thread_yield();
    }
    assert_int_equal(thread_join(tw, NULL), 0);
    assert_int_equal(w.err, TCP_OK);
    for (int i = 0; i < 40 && pr.ack != base + sizeof d; i++) {
        collect(&pr, d, base, NULL);
        peer_send(&pr, TCP_ACK, NULL, 0);
    }
    assert_int_equal(pr.ack, base + sizeof d);
    tcp_abort(f);
}

static void test_writer_woken_by_reset(void **state)
{
    (void)state;
    struct peer pr;
    static uint8_t d[30000];
    struct tcp_flow *f = open_flow(&pr, false);
    struct writer w = {f, d, sizeof d, TCP_OK, false};
    struct thread *tw = thread_spawn("writer", writer_thread, &w, 0);
    thread_yield();
    assert_false(w.done);
    h_raw(pr.port, pr.dport, TCP_RST, pr.seq, 0, 0, NULL, NULL, 0);
    assert_int_equal(thread_join(tw, NULL), 0);
    assert_int_equal(w.err, TCP_ERESET);
    tcp_close(f);
}

static void test_keepalive(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    struct tcp_flow *f = open_flow(&pr, false);
    tcp_set_keepalive(f, true, 1000, 500, 3);
    h_advance(999 * MS);
    h_expect_none();
    h_advance(2 * MS);
    h_expect(&o, TCP_ACK); /* <SEQ=SND.NXT-1>, no data */
    assert_int_equal(o.r.seq, pr.ack - 1);
    assert_int_equal(o.len, 0);
    /* Answered: the connection is alive, idle time starts again. */
    peer_send(&pr, TCP_ACK, NULL, 0);
    h_advance(999 * MS);
    h_expect_none();
    h_advance(2 * MS);
    h_expect(&o, TCP_ACK);
    /* Unanswered: 3 probes 500 ms apart, then the connection is given up. */
    h_advance(500 * MS);
    h_expect(&o, TCP_ACK);
    h_advance(500 * MS);
    h_expect(&o, TCP_ACK);
    h_advance(500 * MS);
    h_expect(&o, TCP_RST | TCP_ACK);
    assert_int_equal(tcp_flow_error(f), TCP_ETIMEDOUT);
    assert_int_equal(ctr("tcp.keepalive_probes"), 4);
    tcp_close(f);
}

static void test_memory_cap_blocks_writer(void **state)
{
    (void)state;
    struct peer pr;
    static uint8_t d[20000];
    fill_pattern(d, sizeof d, 2);
    h_teardown();
    memset(&cfg, 0, sizeof cfg);
    cfg.no_ts = true;
    cfg.mem_max = 4 * TCP_CHUNK_BYTES; /* 8 KiB for everything */
    h_setup(&cfg);
    struct tcp_flow *f = open_flow(&pr, false);
    uint32_t base = pr.ack;
    struct writer w = {f, d, sizeof d, TCP_OK, false};
    struct thread *tw = thread_spawn("writer", writer_thread, &w, 0);
    thread_yield();
    assert_false(w.done);
    assert_true(ctr("tcp.mem_waits") >= 1);
    assert_true(tc->mem_used <= cfg.mem_max);
    while (!w.done) {
        collect(&pr, d, base, NULL);
        peer_send(&pr, TCP_ACK, NULL, 0);
        thread_yield();
        assert_true(tc->mem_used <= cfg.mem_max);
    }
    assert_int_equal(thread_join(tw, NULL), 0);
    assert_int_equal(w.err, TCP_OK);
    tcp_abort(f);
}

static void test_mss_from_mtu_and_frag_needed(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    static uint8_t d[5000];
    fill_pattern(d, sizeof d, 3);
    h_listen();
    peer_init(&pr, 1000);
    struct tcp_opts so = {0};
    so.present = TCP_OPTF_MSS;
    so.mss = 1460;
    h_raw(pr.port, pr.dport, TCP_SYN, pr.isn, 0, 65535, &so, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.o.mss, 960); /* MTU 1000 - 40 */
    pr.seq = pr.isn + 1;
    pr.ack = o.r.seq + 1;
    peer_send(&pr, TCP_ACK, NULL, 0);
    struct tcp_flow *f = accepted;
    uint32_t base = pr.ack;
    write_all(f, d, 2000);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.len, 960);
    h_clear();
    /* A router says 600 bytes fit: ICMP quoting our segment. */
    uint8_t icmp[8 + 28], quote[28], frame[128];
    fx_ipv4(quote, fx_dut_ip(), fx_peer_ip(), 6, 0, 0x4000, 64, 1000);
    net_wr16(quote + 20, DUT_PORT);
    net_wr16(quote + 22, PEER_PORT);
    net_wr32(quote + 24, base + 100000); /* not in flight: ignored */
    size_t il = fx_icmp(icmp, 3, 4, 600, quote, 28);
    size_t n = fx_ip_frame(frame, 1, 9, 0, icmp, il);
    fake_netif_rx(&fk, frame, (uint32_t)n);
    h_expect_none();
    assert_int_equal(ipv4_path_mtu(&st->ip, fx_peer_ip()), 1000); /* not believed */
    net_wr32(quote + 24, base);
    il = fx_icmp(icmp, 3, 4, 600, quote, 28);
    n = fx_ip_frame(frame, 1, 9, 0, icmp, il);
    fake_netif_rx(&fk, frame, (uint32_t)n);
    assert_int_equal(ctr("tcp.pmtu_updates"), 1);
    /* What was in flight goes again in 560-byte segments (600 - 40). */
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.seq, base);
    assert_int_equal(o.len, 560);
    assert_memory_equal(o.data, d, 560);
    uint32_t at = base + 560;
    while (h_next(&o)) { /* the rest of what was in flight (Nagle holds 80) */
        assert_int_equal(o.r.seq, at);
        assert_true(o.len <= 560);
        assert_memory_equal(o.data, d + (at - base), o.len);
        at += o.len;
    }
    assert_int_equal(at, base + 1920);
    tcp_abort(f);
    /* The path toward the peer is 600 now, for new connections too: a SYN-ACK
     * announces 560; ten minutes later the link MTU is tried again. */
    assert_int_equal(ipv4_mtu(&st->ip, fx_peer_ip()), 580);
    assert_int_equal(ctr("ipv4.pmtu_lowered"), 1);
    struct peer p2;
    h_clear(); /* the abort's reset */
    peer_init(&p2, 7000);
    p2.port = PEER_PORT + 1;
    h_raw(p2.port, p2.dport, TCP_SYN, p2.isn, 0, 65535, &so, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.o.mss, 560);
    h_raw(p2.port, p2.dport, TCP_RST, p2.isn + 1, 0, 0, NULL, NULL, 0);
    h_advance(IPV4_PMTU_TIMEOUT_NS);
    assert_int_equal(ctr("ipv4.pmtu_expired"), 1);
    assert_int_equal(ipv4_mtu(&st->ip, fx_peer_ip()), 980);
    h_clear();
    p2.port = PEER_PORT + 2;
    h_raw(p2.port, p2.dport, TCP_SYN, p2.isn, 0, 65535, &so, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.o.mss, 960);
    h_raw(p2.port, p2.dport, TCP_RST, p2.isn + 1, 0, 0, NULL, NULL, 0);
}

/* A router older than RFC 1191 reports no MTU: the plateau below the length of
 * the datagram it quotes (1000 -> 508). */
static void test_frag_needed_without_mtu(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    static uint8_t d[3000];
    h_listen();
    peer_init(&pr, 1000);
    struct tcp_flow *f =
        h_open(&pr, &(struct tcp_opts){.present = TCP_OPTF_MSS, .mss = 1460});
    uint32_t base = pr.ack;
    write_all(f, d, sizeof d);
    h_expect(&o, TCP_ACK);
    h_clear();
    uint8_t icmp[8 + 28], quote[28], frame[128];
    fx_ipv4(quote, fx_dut_ip(), fx_peer_ip(), 6, 0, 0x4000, 64, 980); /* 1000 in all */
    net_wr16(quote + 20, DUT_PORT);
    net_wr16(quote + 22, PEER_PORT);
    net_wr32(quote + 24, base);
    size_t il = fx_icmp(icmp, 3, 4, 0, quote, 28);
    size_t n = fx_ip_frame(frame, 1, 9, 0, icmp, il);
    fake_netif_rx(&fk, frame, (uint32_t)n);
    assert_int_equal(ipv4_path_mtu(&st->ip, fx_peer_ip()), 508);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.len, 468);
    h_clear();
    tcp_abort(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_segmentation_and_slow_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_nagle_and_nodelay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rto_backoff_and_give_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_window_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newreno_fast_retransmit, setup_reno_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sack_recovery_sends_holes_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sack_blocks_shrink_segments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tail_loss_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocked_writer_and_reader, setup_reno_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_writer_woken_by_reset, setup_reno_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_cap_blocks_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frag_needed_without_mtu, setup_mtu1000,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mss_from_mtu_and_frag_needed, setup_mtu1000,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
