/* TCP's algorithms one by one: the sender's SACK scoreboard (merging, invalid
 * blocks, a full board, trimming, RFC 6675 IsLost, the holes, SetPipe), SipHash
 * against its published vectors, RFC 6528 ISNs, SYN cookies (round trip, what
 * invalidates them, their lifetime) and the listener under a spoofed SYN flood
 * (state stays bounded, a real client still gets in, options come back from the
 * cookie), RFC 6056 ports, and CUBIC's window against RFC 9438 (reduction by
 * beta, W_max reached near K, the Reno-friendly region) beside Reno's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kernel/sched.h"
#include "tests/unit/tcp_harness.h"

static int setup(void **state)
{
    (void)state;
    sched_init();
    h_setup(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_teardown();
    return 0;
}

/* A bare connection block for the algorithms (not in any table). */
static struct tcp_pcb *bare(uint32_t una, uint32_t nxt, uint16_t mss)
{
    static struct tcp_pcb pool[4];
    static int next;
    struct tcp_pcb *p = &pool[next++ % 4];
    memset(p, 0, sizeof *p);
    p->t = tc;
    p->snd_una = una;
    p->snd_nxt = nxt;
    p->mss = mss;
    p->sack_ok = true;
    return p;
}

static void sack(struct tcp_pcb *p, int n, const uint32_t (*b)[2])
{
    struct tcp_opts o = {0};
    o.present = TCP_OPTF_SACK;
    o.nsack = (uint8_t)n;
    for (int i = 0; i < n; i++)
        o.sack[i] = (struct tcp_sack_block){b[i][0], b[i][1]};
    tcp_sb_update(p, &o);
}

/* ------------------------------------------------------------ scoreboard */

static void test_scoreboard_merge_and_invalid(void **state)
{
    (void)state;
    struct tcp_pcb *p = bare(1000, 20000, 1000);
    static const uint32_t a[][2] = {{5000, 6000}, {3000, 4000}, {8000, 9000}};
    sack(p, 3, a);
    assert_int_equal(p->sb.n, 3);
    assert_int_equal(p->sb.b[0].start, 3000); /* sorted */
    assert_int_equal(p->sb.sacked, 3000);
    /* Bridging and overlapping blocks merge. */
    static const uint32_t b[][2] = {{4000, 5000}, {8500, 9500}};
    sack(p, 2, b);
    assert_int_equal(p->sb.n, 2);
    assert_int_equal(p->sb.b[0].start, 3000);
    assert_int_equal(p->sb.b[0].end, 6000);
    assert_int_equal(p->sb.b[1].end, 9500);
    assert_int_equal(p->sb.sacked, 4500);
    /* Beyond SND.NXT, empty, or all below SND.UNA: ignored; straddling SND.UNA:
     * clipped. */
    static const uint32_t c[][2] = {
        {19000, 21000}, {7000, 7000}, {100, 900}, {500, 1500}};
    sack(p, 4, c);
    assert_int_equal(p->sb.n, 3);
    assert_int_equal(p->sb.b[0].start, 1000);
    assert_int_equal(p->sb.b[0].end, 1500);
    /* Trimming after SND.UNA moves. */
    p->snd_una = 3500;
    tcp_sb_trim(p);
    assert_int_equal(p->sb.n, 2);
    assert_int_equal(p->sb.b[0].start, 3500);
    assert_int_equal(p->sb.sacked, 2500 + 1500);
    /* A full board keeps the lowest ranges. */
    p = bare(0, 100000, 1000);
    for (int i = 0; i < TCP_SB_MAX + 3; i++) {
        uint32_t r[1][2] = {{(uint32_t)(20000 - 1000 * i), (uint32_t)(20500 - 1000 * i)}};
        sack(p, 1, r);
    }
    assert_int_equal(p->sb.n, TCP_SB_MAX);
    assert_int_equal(p->sb.b[0].start, 20000 - 1000 * (TCP_SB_MAX + 2));
}

static void test_scoreboard_loss_and_pipe(void **state)
{
    (void)state;
    struct tcp_pcb *p = bare(0, 10000, 1000);
    /* One segment SACKed above: nothing lost yet. */
    static const uint32_t a[][2] = {{2000, 3000}};
    sack(p, 1, a);
    assert_int_equal(tcp_sb_lost_point(p), 0);
    /* Three discontiguous segments above: everything unsacked below the lowest
     * of them is lost (RFC 6675 IsLost, DupThresh = 3). */
    static const uint32_t b[][2] = {{4000, 5000}, {6000, 7000}};
    sack(p, 2, b);
    assert_int_equal(tcp_sb_lost_point(p), 2000);
    /* More than 2 MSS in one block counts as well. */
    struct tcp_pcb *q = bare(0, 10000, 1000);
    static const uint32_t c[][2] = {{5000, 7100}};
    sack(q, 1, c);
    assert_int_equal(tcp_sb_lost_point(q), 5000);
    /* The holes, a segment at a time, stopping at a limit. */
    uint32_t s, e;
    assert_true(tcp_sb_next_hole(p, 0, 10000, 1000, &s, &e));
    assert_int_equal(s, 0);
    assert_int_equal(e, 1000);
    assert_true(tcp_sb_next_hole(p, 1500, 10000, 1000, &s, &e));
    assert_int_equal(s, 1500);
    assert_int_equal(e, 2000); /* up to the next SACKed range */
    assert_true(tcp_sb_next_hole(p, 2000, 10000, 1000, &s, &e));
    assert_int_equal(s, 3000);
    assert_true(tcp_sb_next_hole(p, 6500, 10000, 5000, &s, &e));
    assert_int_equal(s, 7000);
    assert_int_equal(e, 10000);
    assert_false(tcp_sb_next_hole(p, 2000, 3000, 1000, &s, &e));
    assert_int_equal(tcp_sb_unsacked(p, 0, 10000), 7000);
    assert_int_equal(tcp_sb_unsacked(p, 2500, 4500), 1000);
    /* SetPipe in recovery: lost and not retransmitted bytes do not count,
     * retransmitted ones count. Lost below 2000; 1000 retransmitted. */
    p->recovery = TCP_REC_FAST;
    p->lost_end = 2000;
    p->rtx_nxt = 1000;
    /* not lost, unsacked: [2000,10000) minus 3000 SACKed = 5000; plus [0,1000) */
    assert_int_equal(tcp_pipe(p), 6000);
    p->recovery = TCP_REC_NONE;
    assert_int_equal(tcp_pipe(p), 10000);
}

/* ------------------------------------------------------------ hashes */

static void test_siphash_vectors(void **state)
{
    (void)state;
    uint8_t key[16], in[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        in[i] = (uint8_t)i;
    /* From the SipHash paper's reference vectors (SipHash-2-4, 64-bit output). */
    assert_true(tcp_siphash(key, in, 0) == 0x726fdb47dd0e0e31ull);
    assert_true(tcp_siphash(key, in, 15) == 0xa129ca6149be45e5ull);
    assert_true(tcp_siphash(key, in, 8) == 0x93f5f5799a932462ull);
    assert_true(tcp_siphash(key, in, 63) == 0x958a324ceb064572ull);
}

static void test_isn(void **state)
{
    (void)state;
    uint32_t off1, off2, off3;
    struct ipv4_addr a = fx_dut_ip(), b = fx_peer_ip();
    uint32_t i1 = tcp_isn(tc, a, 80, b, 40000, 1000 * SEC, &off1);
    uint32_t i2 = tcp_isn(tc, a, 80, b, 40000, 1001 * SEC, &off2);
    /* The clock part: 4.096 us per step, so about 244140 a second. */
    assert_int_equal(i2 - i1, (uint32_t)((1001 * SEC >> 12) - (1000 * SEC >> 12)));
    assert_int_equal(off1, off2); /* same connection, same timestamp offset */
    uint32_t i3 = tcp_isn(tc, a, 80, b, 40001, 1000 * SEC, &off3);
    assert_true(i3 != i1 && off3 != off1);
    /* SipHash-2-4 of domain 1, the addresses and the ports (big-endian). */
    uint8_t in[13] = {1};
    memcpy(in + 1, &a.be, 4);
    memcpy(in + 5, &b.be, 4);
    net_wr16(in + 9, 80);
    net_wr16(in + 11, 40000);
    uint64_t h = tcp_siphash(tc->cfg.secret, in, sizeof in);
    assert_int_equal(i1, (uint32_t)(1000 * SEC >> 12) + (uint32_t)h);
    assert_int_equal(off1, (uint32_t)(h >> 32));
    /* Another secret, another sequence space. */
    tc->cfg.secret[0] ^= 1;
    uint32_t i4 = tcp_isn(tc, a, 80, b, 40000, 1000 * SEC, &off3);
    assert_true(i4 != i1);
}

static void test_ephemeral_ports(void **state)
{
    (void)state;
    uint16_t seen[64];
    for (int i = 0; i < 64; i++) {
        seen[i] = tcp_ephemeral_port(tc, fx_peer_ip(), 80);
        assert_true(seen[i] >= 49152);
        for (int k = 0; k < i; k++)
            assert_true(seen[k] != seen[i]);
    }
}

static void test_cookie_round_trip(void **state)
{
    (void)state;
    struct ipv4_rxinfo info = {0};
    info.src = fx_peer_ip();
    info.dst = fx_dut_ip();
    struct tcp_seg syn = {0};
    syn.info = &info;
    syn.sport = 40000;
    syn.dport = 80;
    syn.seq = 123456;
    uint64_t now = 5000 * SEC;
    uint32_t c = tcp_cookie_make(tc, &syn, 5, now);
    struct tcp_seg ack = syn;
    ack.seq = syn.seq + 1;
    ack.ack = c + 1;
    assert_int_equal(tcp_cookie_check(tc, &ack, now), 6);
    assert_int_equal(tcp_cookie_check(tc, &ack, now + 60 * SEC), 6);  /* next period */
    assert_int_equal(tcp_cookie_check(tc, &ack, now + 150 * SEC), 0); /* too old */
    ack.seq++; /* another client ISN */
    assert_int_equal(tcp_cookie_check(tc, &ack, now), 0);
    ack.seq--;
    ack.sport++;
    assert_int_equal(tcp_cookie_check(tc, &ack, now), 0);
    ack.sport--;
    ack.ack ^= 0x100;
    assert_int_equal(tcp_cookie_check(tc, &ack, now), 0);
}

/* ------------------------------------------------------------ SYN flood */

static void test_syn_flood_cookies(void **state)
{
    (void)state;
    h_teardown();
    struct tcp_config c = {0};
    c.max_syn_queue = 16;
    h_setup(&c);
    h_listen();
    struct oseg o;
    /* A spoofed flood: half-open connections stop at the SYN queue's cap, the
     * rest get cookies and leave no state. */
    for (int i = 0; i < 1000; i++) {
        struct hseg s = {0};
        s.src = ipv4_addr_make(10, 0, 0, (uint8_t)(3 + i % 200));
        s.dst = fx_dut_ip();
        s.sport = (uint16_t)(1024 + i);
        s.dport = DUT_PORT;
        s.flags = TCP_SYN;
        s.seq = (uint32_t)i * 7919u;
        s.wnd = 1000;
        h_inject(&s);
    }
    h_clear();
    assert_int_equal(tc->nhalf, 8); /* the listener's backlog */
    assert_true(tc->nconns <= 16);
    assert_int_equal(ctr("tcp.syn_cookies_sent"), 992);
    /* A real client in the middle of it, with timestamps, window scaling, SACK. */
    struct tcp_opts so = {0};
    so.present = TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS;
    so.mss = 1460;
    so.wscale = 6;
    so.ts_val = 777;
    h_raw(PEER_PORT, DUT_PORT, TCP_SYN, 5000, 0, 2000, &so, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.r.ack, 5001);
    assert_int_equal(o.o.mss, 1460);
    assert_int_equal(o.o.ts_ecr, 777);
    assert_true(o.o.present & TCP_OPTF_WS);
    uint32_t nconns = tc->nconns;
    /* A forged cookie: reset. */
    struct tcp_opts ao = {0};
    ao.present = TCP_OPTF_TS;
    ao.ts_val = 778;
    ao.ts_ecr = o.o.ts_val;
    h_raw(PEER_PORT, DUT_PORT, TCP_ACK, 5001, o.r.seq + 2, 2000, &ao, NULL, 0);
    struct oseg r;
    h_expect(&r, TCP_RST);
    assert_int_equal(ctr("tcp.syn_cookies_bad"), 1);
    /* The real ACK (with data): a connection, its options back from the
     * cookie's timestamp. */
    h_raw(PEER_PORT, DUT_PORT, TCP_ACK | TCP_PSH, 5001, o.r.seq + 1, 2000, &ao, "GET", 3);
    assert_int_equal(ctr("tcp.syn_cookies_ok"), 1);
    assert_non_null(accepted);
    assert_int_equal(tc->nconns, nconns + 1);
    struct tcp_flow_info fi;
    tcp_flow_info(accepted, &fi);
    assert_int_equal(fi.state, TCP_ESTABLISHED);
    assert_true(fi.ts && fi.sack && fi.wscale);
    assert_int_equal(fi.mss, 1460 - 12);
    assert_int_equal(fi.snd_wnd, 2000 << 6);
    struct view v;
    assert_int_equal(tcp_read(accepted, &v, 0), TCP_OK);
    assert_int_equal(v.len, 3);
    assert_memory_equal(view_data(&v), "GET", 3);
    /* It works both ways: our reply is acknowledged. */
    struct view w = view_of_mem("200", 3);
    assert_int_equal(tcp_write(accepted, &w, 1), TCP_OK);
    while (h_next(&o))
        if (o.len == 3)
            break;
    assert_int_equal(o.len, 3);
    assert_true(o.o.present & TCP_OPTF_TS);
    tcp_abort(accepted);
}

/* ------------------------------------------------------------ CUBIC */

/* One RTT's worth of ACKs (2 segments each) at time now. */
static void ack_window(struct tcp_pcb *p, uint64_t now)
{
    p->prior_flight = p->cwnd;
    for (uint32_t acked = 0; acked < p->cwnd; acked += 2000)
        tcp_cc_ack(p, 2000, now);
}

static void test_cubic_window(void **state)
{
    (void)state;
    struct tcp_pcb *p = bare(0, 0, 1000);
    tc->cfg.cc = TCP_CC_CUBIC;
    p->cwnd = 1000000;   /* 1000 segments */
    p->srtt_us = 100000; /* 100 ms */
    p->snd_nxt = p->cwnd;
    uint32_t ss = tcp_cc_ssthresh(p);
    assert_int_equal(ss, 700000); /* beta = 0.7 */
    p->cwnd = p->ssthresh = ss;
    tcp_cc_recovered(p);
    /* K = cbrt(W_max (1 - beta) / C) = cbrt(300 / 0.4) = 9.086 s: after K the
     * window is back at about W_max, concave on the way (half way there after
     * a third of K: the cube's shape). */
    uint64_t now = 100 * SEC;
    for (int rtt = 0; rtt < 30; rtt++, now += 100 * MS)
        ack_window(p, now);
    assert_int_equal(p->cc.k_ms / 10, 908);
    assert_true(p->cwnd > 890000 && p->cwnd < 930000); /* W(3 s) = 1000 - 0.4 * 6.09^3 */
    for (int rtt = 30; rtt < 91; rtt++, now += 100 * MS)
        ack_window(p, now);
    assert_true(p->cwnd > 990000 && p->cwnd < 1010000);
    /* Then growth again (the convex region). */
    for (int rtt = 0; rtt < 50; rtt++, now += 100 * MS)
        ack_window(p, now);
    assert_true(p->cwnd > 1040000);
    /* An idle application does not grow it. */
    uint32_t before = p->cwnd;
    p->prior_flight = 1000;
    tcp_cc_ack(p, 1000, now);
    assert_int_equal(p->cwnd, before);
}

static void test_cubic_reno_friendly(void **state)
{
    (void)state;
    struct tcp_pcb *p = bare(0, 0, 1000);
    tc->cfg.cc = TCP_CC_CUBIC;
    p->cwnd = 100000; /* a small window on a short path: Reno would grow faster */
    p->srtt_us = 1000;
    tcp_cc_ssthresh(p);
    p->cwnd = p->ssthresh = 70000;
    tcp_cc_recovered(p);
    uint64_t now = 100 * SEC;
    for (int rtt = 0; rtt < 100; rtt++, now += 1 * MS)
        ack_window(p, now);
    /* W_est grows by alpha = 3 (1 - beta) / (1 + beta) = 0.53 segment per RTT. */
    assert_true(p->cwnd > 70000 + 45000 && p->cwnd < 70000 + 60000);
}

static void test_reno_window(void **state)
{
    (void)state;
    struct tcp_pcb *p = bare(0, 0, 1000);
    tc->cfg.cc = TCP_CC_RENO;
    p->cwnd = 20000;
    p->ssthresh = 10000;
    p->snd_nxt = 20000;
    /* Congestion avoidance: one MSS per window of ACKs. */
    p->prior_flight = p->cwnd;
    for (int i = 0; i < 20; i++)
        tcp_cc_ack(p, 1000, 0);
    assert_int_equal(p->cwnd, 21000);
    /* Loss: half the flight. */
    assert_int_equal(tcp_cc_ssthresh(p), 10000);
    /* Slow start below ssthresh: at most 2 MSS per ACK. */
    p->cwnd = 4000;
    p->prior_flight = 4000;
    tcp_cc_ack(p, 4000, 0);
    assert_int_equal(p->cwnd, 6000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scoreboard_merge_and_invalid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_scoreboard_loss_and_pipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_siphash_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_isn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ephemeral_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syn_flood_cookies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cubic_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cubic_reno_friendly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reno_window, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
