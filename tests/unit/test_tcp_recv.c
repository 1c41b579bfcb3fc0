/* TCP receiving: segments kept as views of their RX buffer (and copied past the
 * pinned cap, for short segments, into one chunk when small), the window shrinking
 * as data waits and a window update when a read reopens it, delayed ACKs (every
 * second full segment at once, anything else within 40 ms), out-of-order data
 * with SACK blocks (the newest first) and the immediate ACK when the hole fills,
 * an out-of-order FIN, our zero window answering probes, window scaling, PAWS and
 * the timestamp echo, a blocked reader woken by data, and the end of stream. */
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
    struct tcp_config c = {0};
    c.no_ts = true;
    sched_init();
    h_setup(&c);
    return 0;
}

static int setup_small(void **state)
{
    (void)state;
    struct tcp_config c = {0};
    c.no_ts = true;
    c.rcvbuf = 4096;
    c.rx_pinned_max = 2;
    sched_init();
    h_setup(&c);
    return 0;
}

static int setup_ts(void **state)
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

static struct tcp_flow *open_flow(struct peer *pr, bool sack)
{
    struct tcp_opts o = {0};
    o.present = TCP_OPTF_MSS | (sack ? TCP_OPTF_SACK_PERM : 0);
    o.mss = 1460;
    h_listen();
    peer_init(pr, 1000);
    return h_open(pr, &o);
}

static void test_in_order_zero_copy_and_delack(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    uint8_t d[1460 * 3];
    fill_pattern(d, sizeof d, 3);
    struct tcp_flow *f = open_flow(&pr, false);
    /* One full segment: no ACK yet. */
    peer_send(&pr, TCP_ACK, d, 1460);
    h_expect_none();
    assert_int_equal(tc->rx_pinned, 1);
    assert_int_equal(fk.rx_live, 1); /* the RX buffer is held, not copied */
    /* The second: acknowledged at once, window 65536 - 2920 (scaled by 1? no:
     * the peer offered no window scaling, so 65535 at most). */
    peer_send(&pr, TCP_ACK, d + 1460, 1460);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    assert_int_equal(o.r.window, 65535 - 2920);
    /* A third, then 40 ms later the delayed ACK. */
    peer_send(&pr, TCP_ACK, d + 2920, 1460);
    h_advance(39 * MS);
    h_expect_none();
    h_advance(1 * MS);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    assert_int_equal(ctr("tcp.tx_delayed_acks"), 1);
    /* Reads give the segments as they came, views of the RX buffers. */
    struct view v;
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    assert_int_equal(v.len, 1460);
    assert_non_null(v.buf);
    assert_memory_equal(view_data(&v), d, 1460);
    uint8_t got[1460 * 3];
    bool eof;
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 2920);
    assert_memory_equal(got, d + 1460, 2920);
    tcp_read_done(f);
    assert_int_equal(tc->rx_pinned, 0);
    assert_int_equal(fk.rx_live, 0);
    tcp_abort(f);
}

/* The peer's MSS went down (path MTU): segments of 900 bytes without PSH become
 * the new "full size", every second one acknowledged at once again (else each
 * ACK would wait for the delayed-ACK timer). */
static void test_delack_follows_smaller_mss(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    uint8_t d[1460];
    fill_pattern(d, sizeof d, 4);
    struct tcp_flow *f = open_flow(&pr, false);
    peer_send(&pr, TCP_ACK, d, 1460);
    peer_send(&pr, TCP_ACK, d, 1460);
    h_expect(&o, TCP_ACK);
    peer_send(&pr, TCP_ACK, d, 900);
    h_expect_none();
    peer_send(&pr, TCP_ACK, d, 900);
    h_expect(&o, TCP_ACK); /* at once, not after 40 ms */
    assert_int_equal(o.r.ack, pr.seq);
    /* A short PSH segment (the end of a write) changes nothing: still the
     * second 900-byte segment is acknowledged at once. */
    peer_send(&pr, TCP_ACK | TCP_PSH, d, 600);
    peer_send(&pr, TCP_ACK, d, 900);
    h_expect_none();
    peer_send(&pr, TCP_ACK, d, 900);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    uint8_t got[8000];
    bool eof;
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 2 * 1460 + 4 * 900 + 600);
    tcp_abort(f);
}

static void test_small_segments_copied_together(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    struct tcp_flow *f = open_flow(&pr, false);
    /* Short segments are pinned while half of the cap is free (1 of 2 here),
     * then copied, several into one chunk. */
    for (int i = 0; i < 10; i++)
        peer_send(&pr, TCP_ACK | TCP_PSH, "0123456789", 10);
    assert_int_equal(tc->rx_pinned, 1);
    assert_int_equal(fk.rx_live, 1);
    assert_int_equal(ctr("tcp.rx_pinned"), 1);
    assert_int_equal(ctr("tcp.rx_copied"), 9);
    struct view v;
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    assert_int_equal(v.len, 10);
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    assert_int_equal(v.len, 90); /* the nine copies in one chunk */
    assert_memory_equal(view_data(&v), "0123456789", 10);
    assert_int_equal(tcp_read(f, &v, 0), TCP_EWOULDBLOCK);
    assert_int_equal(fk.rx_live, 0);
    h_advance(40 * MS);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    tcp_abort(f);
}

static void test_pinned_cap_then_copies(void **state)
{
    (void)state;
    struct peer pr;
    uint8_t d[1000];
    fill_pattern(d, sizeof d, 9);
    struct tcp_flow *f = open_flow(&pr, false);
    for (int i = 0; i < 4; i++)
        peer_send(&pr, TCP_ACK, d, 1000);
    assert_int_equal(tc->rx_pinned, 2); /* the cap */
    assert_int_equal(fk.rx_live, 2);
    assert_int_equal(ctr("tcp.rx_pinned"), 2);
    assert_int_equal(ctr("tcp.rx_copied"), 2);
    uint8_t got[4000];
    bool eof;
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 4000);
    for (int i = 0; i < 4; i++)
        assert_memory_equal(got + 1000 * i, d, 1000);
    tcp_abort(f);
    assert_int_equal(fk.rx_live, 0);
}

static void test_window_closes_and_reopens(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    uint8_t d[1024];
    fill_pattern(d, sizeof d, 1);
    struct tcp_flow *f = open_flow(&pr, false);
    for (int i = 0; i < 4; i++)
        peer_send(&pr, TCP_ACK, d, 1024);
    h_advance(40 * MS);
    struct oseg last;
    int n = 0;
    while (h_next(&o)) {
        last = o;
        n++;
    }
    assert_true(n >= 1);
    assert_int_equal(last.r.window, 0); /* 4096 bytes unread: nothing left */
    assert_int_equal(last.r.ack, pr.seq);
    /* A probe beyond the window: not taken, answered with the window. */
    peer_send(&pr, TCP_ACK, "z", 1);
    pr.seq--;
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.window, 0);
    assert_int_equal(o.r.ack, pr.seq);
    assert_int_equal(ctr("tcp.rx_window_probes"), 1);
    /* A read of one segment frees a quarter: not yet worth an update (below
     * min(buffer / 2, MSS))... */
    struct view v;
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    tcp_read_done(f);
    h_expect_none();
    /* ...the second makes half the buffer: a window update. */
    assert_int_equal(tcp_read(f, &v, 0), TCP_OK);
    tcp_read_done(f);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.window, 2048);
    assert_int_equal(ctr("tcp.tx_window_updates"), 1);
    tcp_abort(f);
}

static void test_out_of_order_sack(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    uint8_t d[5000], got[5000];
    bool eof;
    fill_pattern(d, sizeof d, 5);
    struct tcp_flow *f = open_flow(&pr, true);
    uint32_t base = pr.seq;
    /* Segments 1 and 3 arrive, 0 and 2 are late. */
    pr.seq = base + 1000;
    peer_send(&pr, TCP_ACK, d + 1000, 1000);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, base);
    assert_int_equal(o.o.nsack, 1);
    assert_int_equal(o.o.sack[0].start, base + 1000);
    assert_int_equal(o.o.sack[0].end, base + 2000);
    pr.seq = base + 3000;
    peer_send(&pr, TCP_ACK | TCP_FIN, d + 3000, 1000); /* with the FIN */
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, base);
    assert_int_equal(o.o.nsack, 2);
    assert_int_equal(o.o.sack[0].start, base + 3000); /* the newest first */
    assert_int_equal(o.o.sack[1].start, base + 1000);
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 0);
    assert_false(eof);
    /* Segment 2 joins the two blocks. */
    pr.seq = base + 2000;
    peer_send(&pr, TCP_ACK, d + 2000, 1000);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.o.nsack, 1);
    assert_int_equal(o.o.sack[0].start, base + 1000);
    assert_int_equal(o.o.sack[0].end, base + 4000);
    /* Segment 0 fills the hole: everything and the FIN, acknowledged at once. */
    pr.seq = base;
    peer_send(&pr, TCP_ACK, d, 1000);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, base + 4001);
    assert_int_equal(o.o.nsack, 0);
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 4000);
    assert_true(eof);
    assert_memory_equal(got, d, 4000);
    assert_int_equal(h_state(f), TCP_CLOSE_WAIT);
    /* Duplicates are acknowledged at once and dropped. */
    pr.seq = base + 500;
    peer_send(&pr, TCP_ACK, d + 500, 1000);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, base + 4001);
    tcp_abort(f);
}

static void test_overlapping_segments(void **state)
{
    (void)state;
    struct peer pr;
    uint8_t d[3000], got[3000];
    bool eof;
    fill_pattern(d, sizeof d, 11);
    struct tcp_flow *f = open_flow(&pr, true);
    uint32_t base = pr.seq;
    /* Out of order pieces that overlap each other in every way. */
    static const uint32_t piece[][2] = {{1000, 1500}, {1200, 1300}, {900, 1100},
                                        {1400, 2000}, {2500, 2600}, {2000, 3000},
                                        {300, 800},   {0, 400}};
    for (size_t i = 0; i < sizeof piece / sizeof piece[0]; i++) {
        pr.seq = base + piece[i][0];
        peer_send(&pr, TCP_ACK, d + piece[i][0], piece[i][1] - piece[i][0]);
    }
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 800);
    pr.seq = base + 700;
    peer_send(&pr, TCP_ACK, d + 700, 300);
    assert_int_equal(h_read_all(f, got + 800, sizeof got - 800, &eof), 2200);
    assert_memory_equal(got, d, 3000);
    struct tcp_pcb *p = (struct tcp_pcb *)f;
    assert_null(p->ooo);
    assert_int_equal(p->ooo_bytes, 0);
    tcp_abort(f);
}

static void test_window_scaling_and_timestamps(void **state)
{
    (void)state;
    struct peer pr;
    struct oseg o;
    struct tcp_opts syn = {0};
    syn.present = TCP_OPTF_MSS | TCP_OPTF_WS;
    syn.mss = 1460;
    syn.wscale = 3;
    h_listen();
    peer_init(&pr, 1000);
    pr.ts = true;
    struct tcp_flow *f = h_open(&pr, &syn);
    struct tcp_flow_info fi;
    tcp_flow_info(f, &fi);
    assert_true(fi.ts && fi.wscale);
    /* The peer's window is scaled by 8. */
    pr.wnd = 1000;
    peer_send(&pr, TCP_ACK, NULL, 0);
    tcp_flow_info(f, &fi);
    assert_int_equal(fi.snd_wnd, 8000);
    /* Data: the ACK echoes the timestamp of the first segment it covers; our
     * window is scaled by 2, its right edge where the SYN-ACK put it (it moved
     * by less than an MSS: receiver SWS avoidance). */
    uint8_t d[1448];
    fill_pattern(d, sizeof d, 2);
    peer_send(&pr, TCP_ACK, d, 1448);
    peer_send(&pr, TCP_ACK, d, 1448);
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.o.present, TCP_OPTF_TS);
    assert_int_equal(o.o.ts_ecr, pr.tsval - 2); /* TS.Recent: the first unacked */
    assert_int_equal(o.r.window, (65535 - 2 * 1448) >> 1);
    peer_saw(&pr, &o);
    /* PAWS: an older timestamp is dropped (and answered with an ACK). */
    pr.tsval -= 10;
    peer_send(&pr, TCP_ACK, d, 100);
    pr.seq -= 100;
    h_expect(&o, TCP_ACK);
    assert_int_equal(o.r.ack, pr.seq);
    assert_int_equal(ctr("tcp.drop_paws"), 1);
    /* Without a timestamp once negotiated: dropped (RFC 7323 3.2). */
    h_raw(pr.port, pr.dport, TCP_ACK, pr.seq, pr.ack, 1000, NULL, d, 10);
    assert_int_equal(ctr("tcp.drop_no_ts"), 1);
    uint8_t got[4000];
    bool eof;
    assert_int_equal(h_read_all(f, got, sizeof got, &eof), 2896);
    tcp_abort(f);
}

struct reader {
    struct tcp_flow *f;
    uint8_t buf[4096];
    uint32_t n;
    enum tcp_err err;
    bool eof;
};

static void reader_thread(void *arg)
{
    struct reader *r = arg;
    for (;;) {
        struct view v;
        r->err = tcp_read(r->f, &v, 10 * SEC);
        if (r->err != TCP_OK)
            return;
        if (!v.len) {
            r->eof = true;
            return;
        }
        memcpy(r->buf + r->n, view_data(&v), v.len);
        r->n += v.len;
    }
}

static void test_blocking_reader(void **state)
{
    (void)state;
    struct peer pr;
    struct reader r = {0};
    r.f = open_flow(&pr, false);
    struct thread *th = thread_spawn("reader", reader_thread, &r, 0);
    thread_yield();
    assert_int_equal(r.n, 0);
    peer_send(&pr, TCP_ACK, "abc", 3);
    thread_yield();
    assert_int_equal(r.n, 3);
    peer_send(&pr, TCP_ACK | TCP_FIN, "def", 3);
    assert_int_equal(thread_join(th, NULL), 0);
    assert_int_equal(r.err, TCP_OK);
    assert_true(r.eof);
    assert_memory_equal(r.buf, "abcdef", 6);
    /* A timed read with nothing to come times out. */
    struct view v;
    tcp_shutdown(r.f, TCP_SHUT_RD);
    assert_int_equal(tcp_read(r.f, &v, 0), TCP_OK);
    assert_int_equal(v.len, 0);
    tcp_abort(r.f);
}

static void test_read_timeout_and_reset_wakes(void **state)
{
    (void)state;
    struct peer pr;
    struct view v;
    struct reader r = {0};
    r.f = open_flow(&pr, false);
    assert_int_equal(tcp_read(r.f, &v, 30 * MS), TCP_ETIMEDOUT);
    struct thread *th = thread_spawn("reader", reader_thread, &r, 0);
    thread_yield();
    h_raw(pr.port, pr.dport, TCP_RST, pr.seq, 0, 0, NULL, NULL, 0);
    assert_int_equal(thread_join(th, NULL), 0);
    assert_int_equal(r.err, TCP_ERESET);
    tcp_close(r.f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_order_zero_copy_and_delack, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delack_follows_smaller_mss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_segments_copied_together, setup_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pinned_cap_then_copies, setup_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_window_closes_and_reopens, setup_small,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_sack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlapping_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_scaling_and_timestamps, setup_ts,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_blocking_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_timeout_and_reset_wakes, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
