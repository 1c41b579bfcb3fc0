/* TCP's state machine against RFC 9293's transitions (figure 5 and 3.10.7): a
 * scripted peer and the segments the stack sends. Closed ports (RST rules of
 * 3.10.7.1), passive and active open with the options negotiated, refused and
 * timed-out connects, simultaneous open, active close through FIN-WAIT-1/2 and
 * TIME-WAIT (2 MSL, a retransmitted FIN, RFC 6191 reuse), simultaneous close
 * (CLOSING), passive close (CLOSE-WAIT, LAST-ACK), half-close, RST validation and
 * challenge ACKs (RFC 5961), SYN-RECEIVED's cases, close with unread data, data
 * after close. */
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

static int setup_plain(void **state)
{
    (void)state;
    struct tcp_config c = {0};
    c.no_ts = c.no_sack = true;
    sched_init();
    h_setup(&c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_teardown();
    return 0;
}

/* ------------------------------------------------------------ CLOSED */

static void test_closed_port_resets(void **state)
{
    (void)state;
    struct oseg o;
    /* SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
    h_raw(PEER_PORT, 81, TCP_SYN, 1000, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_RST | TCP_ACK);
    assert_int_equal(o.r.seq, 0);
    assert_int_equal(o.r.ack, 1001);
    assert_int_equal(o.r.sport, 81);
    assert_int_equal(o.r.dport, PEER_PORT);
    /* With data and FIN the ACK covers all of it. */
    h_raw(PEER_PORT, 81, TCP_PSH | TCP_FIN, 50, 0, 1000, NULL, "abcd", 4);
    h_expect(&o, TCP_RST | TCP_ACK);
    assert_int_equal(o.r.ack, 55);
    /* ACK: <SEQ=SEG.ACK><CTL=RST> */
    h_raw(PEER_PORT, 81, TCP_ACK, 7, 777, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_RST);
    assert_int_equal(o.r.seq, 777);
    /* A RST is never answered. */
    h_raw(PEER_PORT, 81, TCP_RST, 7, 0, 0, NULL, NULL, 0);
    h_raw(PEER_PORT, 81, TCP_RST | TCP_ACK, 7, 9, 0, NULL, NULL, 0);
    h_expect_none();
    assert_int_equal(ctr("tcp.rx_closed_port"), 5);
    assert_int_equal(ctr("tcp.tx_rst"), 3);
}

static void test_bad_segments_dropped(void **state)
{
    (void)state;
    uint8_t f[128];
    struct hseg s = {0};
    s.src = fx_peer_ip();
    s.dst = fx_dut_ip();
    s.sport = PEER_PORT;
    s.dport = 81;
    s.flags = TCP_SYN;
    /* Bad checksum. */
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    uint32_t tl = build_segment(f + n + 20, &s);
    f[n + 20 + TCP_OFF_CSUM] ^= 1;
    fx_ipv4(f + n, s.src, s.dst, 6, 1, 0, 64, (uint16_t)tl);
    fake_netif_rx(&fk, f, (uint32_t)(n + 20 + tl));
    /* Data offset past the segment. */
    tl = build_segment(f + n + 20, &s);
    f[n + 20 + TCP_OFF_DOFF] = 0xf0;
    fake_netif_rx(&fk, f, (uint32_t)(n + 20 + tl));
    /* Too short for a header. */
    fx_ipv4(f + n, s.src, s.dst, 6, 1, 0, 64, 12);
    fake_netif_rx(&fk, f, (uint32_t)(n + 20 + 12));
    h_expect_none();
    assert_int_equal(ctr("tcp.drop_bad_csum"), 1);
    assert_int_equal(ctr("tcp.drop_bad_off"), 1);
    assert_int_equal(ctr("tcp.drop_short"), 1);
    assert_int_equal(ctr("tcp.rx"), 3);
}

/* ------------------------------------------------------------ passive open */

static void test_passive_open_options(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 1000);
    struct tcp_opts syn = {0};
    syn.present = TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS;
    syn.mss = 1460;
    syn.wscale = 7;
    syn.ts_val = 424242;
    h_raw(PEER_PORT, DUT_PORT, TCP_SYN, 1000, 0, 29200, &syn, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.r.ack, 1001);
    assert_true(o.df);
    assert_int_equal(o.o.present,
                     TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS);
    assert_int_equal(o.o.mss, 1460); /* 1500 - 40 */
    assert_int_equal(o.o.wscale, 1); /* 64 KiB buffer */
    assert_int_equal(o.o.ts_ecr, 424242);
    assert_int_equal(o.r.window, 65535);
    assert_null(accepted);
    /* The handshake's ACK makes it ESTABLISHED and hands it over. */
    struct tcp_opts ts = {0};
    ts.present = TCP_OPTF_TS;
    ts.ts_val = 424243;
    ts.ts_ecr = o.o.ts_val;
    h_raw(PEER_PORT, DUT_PORT, TCP_ACK, 1001, o.r.seq + 1, 229, &ts, NULL, 0);
    assert_non_null(accepted);
    struct tcp_flow_info fi;
    tcp_flow_info(accepted, &fi);
    assert_int_equal(fi.state, TCP_ESTABLISHED);
    assert_true(fi.sack && fi.ts && fi.wscale);
    assert_int_equal(fi.mss, 1460 - 12);
    assert_int_equal(fi.snd_wnd, 229 << 7);
    struct ipv4_addr a;
    uint16_t port;
    tcp_peer(accepted, &a, &port);
    assert_true(ipv4_addr_eq(a, fx_peer_ip()));
    assert_int_equal(port, PEER_PORT);
    h_expect_none();
    tcp_abort(accepted);
}

static void test_passive_open_no_options(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 0xfffffff0u); /* sequence numbers wrap during the test */
    h_raw(PEER_PORT, DUT_PORT, TCP_SYN, pr.isn, 0, 8192, NULL, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    /* Only MSS: no scaling, SACK or timestamps the peer did not offer. */
    assert_int_equal(o.o.present, TCP_OPTF_MSS);
    pr.seq = pr.isn + 1;
    pr.ack = o.r.seq + 1;
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_non_null(accepted);
    struct tcp_flow_info fi;
    tcp_flow_info(accepted, &fi);
    assert_int_equal(fi.mss, 536); /* no MSS option: RFC 9293's default */
    assert_false(fi.sack || fi.ts || fi.wscale);
    /* Data across the wrap. */
    uint8_t d[100], got[100];
    bool eof;
    fill_pattern(d, 100, 1);
    peer_send(&pr, TCP_ACK | TCP_PSH, d, 100);
    assert_int_equal(h_read_all(accepted, got, sizeof got, &eof), 100);
    assert_memory_equal(got, d, 100);
    tcp_abort(accepted);
}

static void test_accept_queue_blocking(void **state)
{
    (void)state;
    struct tcp_listener *l;
    struct tcp_flow *f = NULL;
    struct peer pr;
    struct oseg o;
    assert_int_equal(tcp_listen(tc, 90, 2, NULL, NULL, &l), TCP_OK);
    assert_int_equal(tcp_listen(tc, 90, 2, NULL, NULL, &l), TCP_EINVAL);
    assert_int_equal(tcp_accept(l, 0, &f), TCP_EWOULDBLOCK);
    assert_int_equal(tcp_accept(l, 5 * MS, &f), TCP_ETIMEDOUT);
    peer_init(&pr, 5);
    pr.dport = 90;
    h_raw(pr.port, 90, TCP_SYN, 5, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    pr.seq = 6;
    pr.ack = o.r.seq + 1;
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(tcp_accept(l, 0, &f), TCP_OK);
    assert_int_equal(h_state(f), TCP_ESTABLISHED);
    tcp_close(f);
    h_expect(&o, TCP_FIN | TCP_ACK);
    tcp_unlisten(l);
}

/* ------------------------------------------------------------ active open */

struct conn_job {
    struct ipv4_addr dst;
    uint16_t port;
    uint64_t timeout;
    enum tcp_err err;
    struct tcp_flow *f;
    bool done;
};

static void connect_thread(void *arg)
{
    struct conn_job *j = arg;
    j->err = tcp_connect(tc, j->dst, j->port, j->timeout, &j->f);
    j->done = true;
}

static struct thread *start_connect(struct conn_job *j, uint16_t port, uint64_t timeout)
{
    memset(j, 0, sizeof *j);
    j->dst = fx_peer_ip();
    j->port = port;
    j->timeout = timeout;
    struct thread *th = thread_spawn("connect", connect_thread, j, 0);
    assert_non_null(th);
    thread_yield(); /* it sends its SYN and waits */
    return th;
}

static void test_active_open(void **state)
{
    (void)state;
    struct conn_job j;
    struct oseg syn, o;
    struct thread *th = start_connect(&j, 7, 5 * SEC);
    h_expect(&syn, TCP_SYN);
    assert_false(j.done);
    assert_true(syn.r.sport >= 49152);
    assert_int_equal(syn.r.dport, 7);
    assert_int_equal(syn.o.present,
                     TCP_OPTF_MSS | TCP_OPTF_WS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS);
    assert_int_equal(syn.o.ts_ecr, 0);
    /* The SYN-ACK: ESTABLISHED, our ACK goes out, connect returns. */
    struct tcp_opts sa = {0};
    sa.present = TCP_OPTF_MSS | TCP_OPTF_TS;
    sa.mss = 1000;
    sa.ts_val = 77;
    sa.ts_ecr = syn.o.ts_val;
    h_raw(7, syn.r.sport, TCP_SYN | TCP_ACK, 9000, syn.r.seq + 1, 4000, &sa, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.seq, syn.r.seq + 1);
    assert_int_equal(o.r.ack, 9001);
    assert_int_equal(o.o.ts_ecr, 77);
    uint64_t t = plat_now_ns();
    assert_int_equal(thread_join(th, NULL), 0);
    assert_int_equal(plat_now_ns(), t);
    assert_int_equal(j.err, TCP_OK);
    struct tcp_flow_info fi;
    tcp_flow_info(j.f, &fi);
    assert_int_equal(fi.state, TCP_ESTABLISHED);
    assert_int_equal(fi.mss, 1000 - 12);
    assert_false(fi.sack || fi.wscale);
    assert_true(fi.ts);
    tcp_abort(j.f);
    h_expect(&o, TCP_RST | TCP_ACK);
}

static void test_active_open_refused(void **state)
{
    (void)state;
    struct conn_job j;
    struct oseg syn;
    struct thread *th = start_connect(&j, 8, 5 * SEC);
    h_expect(&syn, TCP_SYN);
    /* A RST without an acceptable ACK is ignored (RFC 5961 3.2)... */
    h_raw(8, syn.r.sport, TCP_RST, 0, 0, 0, NULL, NULL, 0);
    thread_yield();
    assert_false(j.done);
    /* ...a bad ACK gets a RST and changes nothing... */
    h_raw(8, syn.r.sport, TCP_SYN | TCP_ACK, 5, syn.r.seq + 7, 0, NULL, NULL, 0);
    struct oseg o;
    h_expect(&o, TCP_RST);
    assert_int_equal(o.r.seq, syn.r.seq + 7);
    thread_yield();
    assert_false(j.done);
    /* ...and RST,ACK of our SYN refuses. */
    h_raw(8, syn.r.sport, TCP_RST | TCP_ACK, 0, syn.r.seq + 1, 0, NULL, NULL, 0);
    assert_int_equal(thread_join(th, NULL), 0);
    assert_int_equal(j.err, TCP_EREFUSED);
    assert_int_equal(ctr("tcp.conn_refused"), 1);
    h_expect_none();
}

static void test_active_open_timeout(void **state)
{
    (void)state;
    struct conn_job j;
    struct oseg o;
    struct thread *th = start_connect(&j, 9, 10 * SEC);
    h_expect(&o, TCP_SYN);
    uint32_t iss = o.r.seq;
    /* Retransmissions at 1, 3, 7 s (RFC 6298 back-off), then the caller's 10 s. */
    uint64_t sent_at[8];
    int n = 0;
    while (!j.done) {
        h_advance(100 * MS);
        thread_yield();
        while (h_next(&o)) {
            assert_int_equal(o.r.flags, TCP_SYN);
            assert_int_equal(o.r.seq, iss);
            sent_at[n++] = plat_now_ns() - T0;
        }
    }
    assert_int_equal(thread_join(th, NULL), 0);
    assert_int_equal(j.err, TCP_ETIMEDOUT);
    assert_int_equal(n, 3);
    assert_true(sent_at[0] >= 1 * SEC && sent_at[0] < 1 * SEC + 100 * MS);
    assert_true(sent_at[1] >= 3 * SEC && sent_at[1] < 3 * SEC + 100 * MS);
    assert_true(sent_at[2] >= 7 * SEC && sent_at[2] < 7 * SEC + 100 * MS);
    assert_int_equal(tc->nconns, 0);
}

static void test_simultaneous_open(void **state)
{
    (void)state;
    struct conn_job j;
    struct oseg syn, o;
    struct thread *th = start_connect(&j, 7000, 5 * SEC);
    h_expect(&syn, TCP_SYN);
    /* The peer's own SYN crosses ours: SYN-RECEIVED, SYN-ACK with our ISN. */
    struct tcp_opts po = {0};
    po.present = TCP_OPTF_MSS;
    po.mss = 1400;
    h_raw(7000, syn.r.sport, TCP_SYN, 300, 0, 5000, &po, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.r.seq, syn.r.seq);
    assert_int_equal(o.r.ack, 301);
    thread_yield();
    assert_false(j.done);
    /* The peer's SYN-ACK (for our SYN) completes it. */
    h_raw(7000, syn.r.sport, TCP_SYN | TCP_ACK, 300, syn.r.seq + 1, 5000, &po, NULL, 0);
    uint64_t t = plat_now_ns();
    assert_int_equal(thread_join(th, NULL), 0);
    assert_int_equal(plat_now_ns(), t); /* woken at once, not by its timeout */
    assert_int_equal(j.err, TCP_OK);
    assert_int_equal(h_state(j.f), TCP_ESTABLISHED);
    tcp_abort(j.f);
}

static void test_connect_errors_and_early_data(void **state)
{
    (void)state;
    struct tcp_flow *f;
    struct oseg syn, o;
    /* No gateway: off-link is no route; bad arguments. */
    assert_int_equal(tcp_connect(tc, ipv4_addr_make(192, 168, 7, 7), 80, SEC, &f),
                     TCP_ENOROUTE);
    assert_int_equal(tcp_connect(tc, fx_peer_ip(), 0, SEC, &f), TCP_EINVAL);
    assert_int_equal(tcp_connect(tc, ipv4_addr_make(255, 255, 255, 255), 80, SEC, &f),
                     TCP_EINVAL);
    assert_int_equal(tc->nconns, 0);
    assert_string_equal(tcp_strerror(TCP_EREFUSED), "connection refused");
    assert_string_equal(tcp_strerror(TCP_ENOROUTE), "no route to host");
    assert_string_equal(tcp_strerror((enum tcp_err)99), "unknown error");
    /* Data written before the handshake completes goes with its last ACK. */
    assert_int_equal(tcp_connect_start(tc, fx_peer_ip(), 7, &f), TCP_OK);
    h_expect(&syn, TCP_SYN);
    struct view v = view_of_mem("early", 5);
    assert_int_equal(tcp_write(f, &v, 1), TCP_OK);
    h_expect_none();
    h_raw(7, syn.r.sport, TCP_SYN | TCP_ACK, 500, syn.r.seq + 1, 4000, NULL, NULL, 0);
    h_expect(&o, TCP_ACK | TCP_PSH);
    assert_int_equal(o.r.seq, syn.r.seq + 1);
    assert_int_equal(o.r.ack, 501);
    assert_int_equal(o.len, 5);
    assert_memory_equal(o.data, "early", 5);
    h_expect_none();
    tcp_abort(f);
}

/* ------------------------------------------------------------ closing */

static void test_active_close_time_wait(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    tcp_close(f);
    h_expect(&o, TCP_FIN | TCP_ACK);
    peer_saw(&pr, &o);
    struct tcp_pcb *p = (struct tcp_pcb *)f; /* no longer the application's */
    assert_int_equal(p->state, TCP_FIN_WAIT_1);
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(p->state, TCP_FIN_WAIT_2);
    h_expect_none();
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    assert_int_equal(p->state, TCP_TIME_WAIT);
    /* A retransmitted FIN is acknowledged again and restarts 2 MSL. */
    h_advance(30 * SEC);
    pr.seq--;
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    h_advance(59 * SEC);
    assert_int_equal(tc->nconns, 1);
    h_advance(2 * SEC);
    assert_int_equal(tc->nconns, 0); /* 2 MSL after the last FIN: gone */
    assert_int_equal(ctr("tcp.conn_closed"), 1);
    h_expect_none();
}

static void test_fin_wait_1_to_time_wait(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    assert_int_equal(tcp_shutdown(f, TCP_SHUT_WR), TCP_OK);
    h_expect(&o, TCP_FIN | TCP_ACK);
    peer_saw(&pr, &o);
    assert_int_equal(h_state(f), TCP_FIN_WAIT_1);
    /* FIN and the ACK of ours in one segment. */
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(h_state(f), TCP_TIME_WAIT);
    struct view v;
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    assert_int_equal(v.len, 0); /* end of stream */
    h_advance(61 * SEC);
    assert_int_equal(h_state(f), TCP_CLOSED);
    assert_int_equal(tcp_flow_error(f), TCP_OK);
    tcp_close(f);
    assert_int_equal(tc->nconns, 0);
}

static void test_simultaneous_close(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    tcp_shutdown(f, TCP_SHUT_WR);
    h_expect(&o, TCP_FIN | TCP_ACK);
    /* The peer's FIN crosses ours (it has not seen our FIN): CLOSING. */
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(h_state(f), TCP_CLOSING);
    peer_saw(&pr, &o);
    pr.ack++; /* our FIN */
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(h_state(f), TCP_TIME_WAIT);
    tcp_close(f);
    h_advance(61 * SEC);
    assert_int_equal(tc->nconns, 0);
}

static void test_passive_close(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    struct view v;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    assert_int_equal(h_state(f), TCP_CLOSE_WAIT);
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    assert_int_equal(v.len, 0);
    /* Writing still works in CLOSE-WAIT. */
    struct view d = view_of_mem("bye", 3);
    assert_int_equal(tcp_write(f, &d, 1), TCP_OK);
    h_expect(&o, TCP_ACK | TCP_PSH);
    assert_int_equal(o.len, 3);
    peer_saw(&pr, &o);
    tcp_close(f);
    h_expect(&o, TCP_FIN | TCP_ACK);
    peer_saw(&pr, &o);
    struct tcp_pcb *p = (struct tcp_pcb *)f;
    assert_int_equal(p->state, TCP_LAST_ACK);
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(tc->nconns, 0); /* LAST-ACK -> CLOSED, freed */
    h_expect_none();
}

static void test_half_close(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    uint8_t got[64];
    bool eof;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    tcp_shutdown(f, TCP_SHUT_WR);
    h_expect(&o, TCP_FIN | TCP_ACK);
    peer_saw(&pr, &o);
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(h_state(f), TCP_FIN_WAIT_2);
    struct view d = view_of_mem("x", 1);
    assert_int_equal(tcp_write(f, &d, 1), TCP_ECLOSED);
    /* The other direction still flows. */
    peer_send(&pr, TCP_ACK | TCP_PSH, "hello", 5);
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 5);
    assert_false(eof);
    assert_memory_equal(got, "hello", 5);
    peer_send(&pr, TCP_ACK | TCP_PSH, "world", 5);
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 5);
    assert_true(eof);
    assert_int_equal(h_state(f), TCP_TIME_WAIT);
    tcp_close(f);
}

static void test_time_wait_reuse(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    tcp_close(f);
    h_expect(&o, TCP_FIN | TCP_ACK);
    peer_saw(&pr, &o);
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    h_expect(&o, TCP_ACK);
    /* An old SYN (sequence not beyond) gets a challenge ACK. */
    h_raw(PEER_PORT, DUT_PORT, TCP_SYN, 50, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_ACK);
    /* A SYN beyond the old sequence space opens a new connection. */
    h_raw(PEER_PORT, DUT_PORT, TCP_SYN, pr.seq + 100000, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq + 100001);
    assert_int_equal(ctr("tcp.time_wait_reused"), 1);
    assert_int_equal(tc->nconns, 1);
}

/* ------------------------------------------------------------ RST and RFC 5961 */

static void test_rst_validation(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    struct view v;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    /* Out of the window: dropped silently. */
    h_raw(PEER_PORT, DUT_PORT, TCP_RST, pr.seq + 200000, 0, 0, NULL, NULL, 0);
    h_expect_none();
    assert_int_equal(ctr("tcp.drop_rst_out_of_window"), 1);
    /* In the window but not RCV.NXT: a challenge ACK, the connection lives. */
    h_raw(PEER_PORT, DUT_PORT, TCP_RST, pr.seq + 10, 0, 0, NULL, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    assert_int_equal(h_state(f), TCP_ESTABLISHED);
    assert_int_equal(ctr("tcp.challenge_acks"), 1);
    /* Exactly RCV.NXT: reset. */
    h_raw(PEER_PORT, DUT_PORT, TCP_RST, pr.seq, 0, 0, NULL, NULL, 0);
    h_expect_none();
    assert_int_equal(h_state(f), TCP_CLOSED);
    assert_int_equal(tcp_read(f, &v, 0), TCP_ERESET);
    struct view d = view_of_mem("x", 1);
    assert_int_equal(tcp_write(f, &d, 1), TCP_ERESET);
    assert_int_equal(ctr("tcp.conn_reset"), 1);
    tcp_close(f);
    assert_int_equal(tc->nconns, 0);
}

/* The peer closed, then got data it no longer wanted: its resets carry its
 * FIN's sequence number, one below RCV.NXT; taken in CLOSE-WAIT and LAST-ACK
 * (as Linux does), never before the FIN. */
static void test_rst_after_peer_fin(void **state)
{
    (void)state;
    struct peer pr;
    struct view v;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    h_raw(PEER_PORT, DUT_PORT, TCP_RST | TCP_ACK, pr.seq - 1, pr.ack, 0, NULL, NULL, 0);
    assert_int_equal(h_state(f), TCP_ESTABLISHED); /* no FIN yet: out of the window */
    assert_int_equal(ctr("tcp.drop_rst_out_of_window"), 1);
    uint32_t fin_seq = pr.seq;
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    assert_int_equal(h_state(f), TCP_CLOSE_WAIT);
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    assert_int_equal(v.len, 0);
    struct view d = view_of_mem("late", 4);
    assert_int_equal(tcp_write(f, &d, 1), TCP_OK);
    h_clear();
    h_raw(PEER_PORT, DUT_PORT, TCP_RST, fin_seq, 0, 0, NULL, NULL, 0);
    assert_int_equal(h_state(f), TCP_CLOSED);
    assert_int_equal(ctr("tcp.rx_rst"), 1);
    assert_int_equal(tcp_flow_error(f), TCP_ERESET);
    tcp_close(f);
    /* In LAST-ACK the same. */
    peer_init(&pr, 5000);
    pr.port = PEER_PORT + 1;
    f = h_open(&pr, NULL);
    fin_seq = pr.seq;
    peer_send(&pr, TCP_FIN | TCP_ACK, NULL, 0);
    tcp_close(f);
    assert_int_equal(h_state(f), TCP_LAST_ACK);
    h_raw(PEER_PORT + 1, DUT_PORT, TCP_RST, fin_seq, 0, 0, NULL, NULL, 0);
    assert_int_equal(ctr("tcp.rx_rst"), 2);
    assert_int_equal(tc->nconns, 0);
}

static void test_syn_and_bad_acks_challenged(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    /* A SYN in ESTABLISHED (RFC 5961 4.2): challenge ACK. */
    h_raw(PEER_PORT, DUT_PORT, TCP_SYN, pr.seq + 5, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    /* Acknowledging what was never sent: an ACK, nothing taken. */
    h_raw(PEER_PORT, DUT_PORT, TCP_ACK, pr.seq, pr.ack + 1000, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(ctr("tcp.drop_ack_unsent"), 1);
    /* Too old (before SND.UNA - MAX.SND.WND). */
    h_raw(PEER_PORT, DUT_PORT, TCP_ACK, pr.seq, pr.ack - 200000, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_ACK);
    assert_int_equal(ctr("tcp.drop_ack_old"), 1);
    assert_int_equal(ctr("tcp.challenge_acks"), 3);
    /* Rate limited: a burst of in-window RSTs gets at most a second's worth. */
    for (int i = 0; i < 300; i++)
        h_raw(PEER_PORT, DUT_PORT, TCP_RST, pr.seq + 1, 0, 0, NULL, NULL, 0);
    int n = 0;
    while (h_next(&o))
        n++;
    assert_true(n >= 90 && n <= 100);
    assert_true(ctr("tcp.challenge_acks_limited") >= 200);
    assert_int_equal(h_state(f), TCP_ESTABLISHED);
    tcp_abort(f);
}

/* ------------------------------------------------------------ SYN-RECEIVED */

static void test_syn_received_cases(void **state)
{
    (void)state;
    struct oseg o, sa;
    h_listen();
    h_raw(PEER_PORT, DUT_PORT, TCP_SYN, 100, 0, 1000, NULL, NULL, 0);
    h_expect(&sa, TCP_SYN | TCP_ACK);
    /* The SYN again (our SYN-ACK lost): the same SYN-ACK again. */
    h_raw(PEER_PORT, DUT_PORT, TCP_SYN, 100, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.r.seq, sa.r.seq);
    /* Nothing more: the timer sends it again after 1 s, then 2 s. */
    h_advance(999 * MS);
    h_expect_none();
    h_advance(2 * MS);
    h_expect(&o, TCP_SYN | TCP_ACK);
    h_advance(2 * SEC);
    h_expect(&o, TCP_SYN | TCP_ACK);
    /* An ACK of something else: RST <SEQ=SEG.ACK>. */
    h_raw(PEER_PORT, DUT_PORT, TCP_ACK, 101, sa.r.seq + 5, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_RST);
    assert_int_equal(o.r.seq, sa.r.seq + 5);
    assert_int_equal(tc->nhalf, 1);
    /* A RST at RCV.NXT: back to LISTEN (the half-open connection goes). */
    h_raw(PEER_PORT, DUT_PORT, TCP_RST, 101, 0, 0, NULL, NULL, 0);
    assert_int_equal(tc->nhalf, 0);
    assert_int_equal(tc->nconns, 0);
    assert_null(accepted);
    /* Unanswered SYN-ACKs give up after syn_retries. */
    h_raw(PEER_PORT + 1, DUT_PORT, TCP_SYN, 100, 0, 1000, NULL, NULL, 0);
    h_advance(200 * SEC);
    int n = 0;
    while (h_next(&o))
        n++;
    assert_int_equal(n, 7); /* the first and 6 retransmissions */
    assert_int_equal(tc->nconns, 0);
}

/* ------------------------------------------------------------ close with data */

static void test_close_with_unread_data_resets(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    peer_send(&pr, TCP_ACK | TCP_PSH, "unread", 6);
    h_advance(50 * MS); /* the delayed ACK */
    h_expect(&o, TCP_ACK);
    tcp_close(f);
    h_expect(&o, TCP_RST | TCP_ACK);
    assert_int_equal(tc->nconns, 0);
}

static void test_data_after_close_resets(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    tcp_close(f);
    h_expect(&o, TCP_FIN | TCP_ACK);
    peer_saw(&pr, &o);
    peer_send(&pr, TCP_ACK | TCP_PSH, "late", 4);
    h_expect(&o, TCP_RST | TCP_ACK);
    assert_int_equal(ctr("tcp.drop_data_after_close"), 1);
    assert_int_equal(tc->nconns, 0);
}

static void test_orphan_fin_wait_2_times_out(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    h_listen();
    peer_init(&pr, 100);
    struct tcp_flow *f = h_open(&pr, NULL);
    tcp_close(f);
    h_expect(&o, TCP_FIN | TCP_ACK);
    peer_saw(&pr, &o);
    peer_send(&pr, TCP_ACK, NULL, 0);
    assert_int_equal(tc->nconns, 1);
    h_advance(61 * SEC); /* the peer never sends its FIN */
    assert_int_equal(tc->nconns, 0);
}

static void test_unlisten_resets_pending(void **state)
{
    (void)state;
    struct tcp_listener *l;
    struct oseg o;
    assert_int_equal(tcp_listen(tc, 91, 4, NULL, NULL, &l), TCP_OK);
    h_raw(PEER_PORT, 91, TCP_SYN, 100, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    h_raw(PEER_PORT, 91, TCP_ACK, 101, o.r.seq + 1, 1000, NULL, NULL, 0);
    h_raw(PEER_PORT + 1, 91, TCP_SYN, 100, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(tc->nconns, 2);
    tcp_unlisten(l);
    h_expect(&o, TCP_RST | TCP_ACK);
    h_expect(&o, TCP_RST | TCP_ACK);
    assert_int_equal(tc->nconns, 0);
    /* The port is closed now. */
    h_raw(PEER_PORT, 91, TCP_SYN, 100, 0, 1000, NULL, NULL, 0);
    h_expect(&o, TCP_RST | TCP_ACK);
}

/* ------------------------------------------------------------ address gone */

static int ipv4_frames_from(struct ipv4_addr src, int from)
{
    int n = 0;
    uint32_t len;
    const uint8_t *f;
    for (int i = from; (f = fake_netif_tx(&fk, i, &len)) != NULL; i++)
        n += len >= 34 && net_rd16(f + 12) == 0x0800 &&
             ipv4_addr_load(f + 26).be == src.be;
    return n;
}

/* Our address goes (a lease lost) or changes: the connections bound to it end at
 * once with "no route", read data stays readable, nothing leaves from the old
 * address (no reset); the listener stays and serves the new address. */
static void test_addr_gone(void **state)
{
    (void)state;
    struct peer pr;
    uint8_t d[10];
    h_listen();
    peer_init(&pr, 5000);
    struct tcp_flow *f = h_open(&pr, NULL);
    fill_pattern(d, sizeof d, 3);
    peer_send(&pr, TCP_ACK | TCP_PSH, d, sizeof d);
    int sent_before = fk.ntx;
    struct net_config c = {0};
    assert_int_equal(net_config_parse("10.0.0.9/24", NULL, &c), 0);
    net_configure(st, &c);
    assert_int_equal(h_state(f), TCP_CLOSED);
    assert_int_equal(tcp_flow_error(f), TCP_ENOROUTE);
    assert_int_equal(ipv4_frames_from(fx_dut_ip(), sent_before), 0);
    assert_int_equal(ctr("tcp.conn_addr_gone"), 1);
    assert_int_equal(ctr("tcp.conn_aborted"), 1);
    struct view v;
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    assert_int_equal(v.len, sizeof d);
    assert_memory_equal(view_data(&v), d, sizeof d);
    tcp_read_done(f);
    assert_int_equal(tcp_read(f, &v, 0), TCP_ENOROUTE); /* then the error */
    tcp_close(f);
    /* The same address again: nothing more to end. */
    net_configure(st, &c);
    assert_int_equal(ctr("tcp.conn_addr_gone"), 1);
    /* The listener answers at the new address. */
    h_clear();
    struct hseg syn = {.src = fx_peer_ip(),
                       .dst = c.addr,
                       .sport = PEER_PORT + 1,
                       .dport = DUT_PORT,
                       .flags = TCP_SYN,
                       .seq = 77,
                       .wnd = 8192};
    h_inject(&syn);
    struct oseg o;
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_true(ipv4_addr_eq(o.src, c.addr));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_closed_port_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_addr_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_segments_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passive_open_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passive_open_no_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept_queue_blocking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_open_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_open_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_errors_and_early_data, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_active_close_time_wait, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fin_wait_1_to_time_wait, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_simultaneous_close, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_passive_close, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_half_close, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_time_wait_reuse, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_rst_validation, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_rst_after_peer_fin, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_syn_and_bad_acks_challenged, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_syn_received_cases, setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_unread_data_resets, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_data_after_close_resets, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_orphan_fin_wait_2_times_out, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unlisten_resets_pending, setup_plain,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
