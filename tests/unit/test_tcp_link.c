/* Two stacks joined by a simulated link (tests/unit/sim_link.c) with seeded loss,
 * reordering, duplication, delay, a bottleneck queue and an MTU drop: megabytes
 * moved byte-exactly by application threads (connect, write, close; accept, read
 * to the end of stream) across loss rates from 0 to 10 %, with CUBIC, Reno and
 * without SACK, both directions at once, a slow reader behind a small window, and
 * many short connections. Afterwards every connection is gone (TIME-WAIT run
 * out), every buffer back, no memory held. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kernel/sched.h"
#include "net/tcp_int.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"
#include "tests/unit/sim_link.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define PORT 5001

static struct sim sim;
static struct tcp_stats last[2]; /* each side's counters after a run */

static uint8_t pattern(uint64_t i, uint32_t seed)
{
    uint64_t x = i ^ (i >> 11) ^ (i >> 19) ^ ((uint64_t)seed << 7);
    return (uint8_t)(x * 167 + (x >> 8));
}

struct end {
    int side;
    uint32_t total;         /* bytes to send */
    uint32_t expect;        /* bytes to receive */
    uint32_t seed;          /* of the pattern it sends */
    uint32_t rseed;         /* of the pattern it receives */
    uint64_t read_pause_ns; /* a slow reader sleeps between reads */
    uint32_t mtu_drop_at;   /* after writing this many bytes, the link MTU drops */
    struct tcp_flow *f;
    enum tcp_err werr, rerr;
    uint32_t got;
    bool mismatch, eof;
    struct thread *wt;
};

static struct tcp *tcp_of(int side)
{
    return sim.side[side].st->tcp;
}

static void do_write(struct end *e)
{
    static uint8_t buf[2][16384];
    uint8_t *b = buf[e->side];
    uint32_t off = 0;
    while (off < e->total) {
        uint32_t n = 1 + (uint32_t)(sim_rand(&sim) % sizeof buf[0]);
        if (n > e->total - off)
            n = e->total - off;
        for (uint32_t i = 0; i < n; i++)
            b[i] = pattern(off + i, e->seed);
        struct view v = view_of_mem(b, n);
        e->werr = tcp_write(e->f, &v, 1);
        if (e->werr != TCP_OK)
            return;
        off += n;
        if (e->mtu_drop_at && off >= e->mtu_drop_at && sim.mtu > 1000)
            sim.mtu = 1000;
    }
}

static void do_read(struct end *e)
{
    for (;;) {
        struct view v;
        e->rerr = tcp_read(e->f, &v, 600 * SEC);
        if (e->rerr != TCP_OK)
            return;
        if (v.len == 0) {
            e->eof = true;
            return;
        }
        const uint8_t *p = view_data(&v);
        for (uint32_t i = 0; i < v.len; i++)
            if (p[i] != pattern(e->got + i, e->rseed))
                e->mismatch = true;
        e->got += v.len;
        if (e->read_pause_ns)
            thread_sleep_ns(e->read_pause_ns);
    }
}

static void writer_thread(void *arg)
{
    struct end *e = arg;
    do_write(e);
    tcp_shutdown(e->f, TCP_SHUT_WR);
}

/* One end: connect (side 0) or accept (side 1), then write and read at once
 * (the writer in a thread of its own), then close. */
static void end_thread(void *arg)
{
    struct end *e = arg;
    if (e->side == 0) {
        e->werr =
            tcp_connect(tcp_of(0), ipv4_addr_make(10, 0, 0, 2), PORT, 120 * SEC, &e->f);
        if (e->werr != TCP_OK)
            return;
    } else {
        struct tcp_listener *l;
        KCHECK(tcp_listen(tcp_of(1), PORT, 4, NULL, NULL, &l) == TCP_OK);
        e->rerr = tcp_accept(l, 120 * SEC, &e->f);
        tcp_unlisten(l);
        if (e->rerr != TCP_OK)
            return;
    }
    struct thread *w = thread_spawn("writer", writer_thread, e, 0);
    KCHECK(w);
    do_read(e);
    thread_join(w, NULL);
    tcp_close(e->f);
}

struct run {
    struct sim_params p;
    uint16_t mtu[2];
    struct tcp_config cfg;
    uint32_t bytes[2]; /* sent by side 0, by side 1 */
    uint64_t read_pause_ns;
    uint32_t mtu_drop_at;
};

static void print_nonzero(void *ctx, const char *line)
{
    if (!strstr(line, "=0") || strstr(line, "=0") != line + strlen(line) - 2)
        printf("#   side %d %s\n", (int)(intptr_t)ctx, line);
}

static void print_side(const char *what, int i)
{
    struct sim_side *sd = &sim.side[i];
    struct tcp *t = tcp_of(i);
    printf("# %s side %d: sent %llu lost %llu dup %llu reord %llu big %llu tail %llu | "
           "rtx %llu rto %llu fast %llu sack %llu pmtu %llu ooo %llu\n",
           what, i, (unsigned long long)sd->sent, (unsigned long long)sd->lost,
           (unsigned long long)sd->dups, (unsigned long long)sd->reordered,
           (unsigned long long)sd->too_big, (unsigned long long)sd->tail_drops,
           (unsigned long long)t->st.retransmits, (unsigned long long)t->st.rto_timeouts,
           (unsigned long long)t->st.fast_recoveries,
           (unsigned long long)t->st.sack_recoveries,
           (unsigned long long)t->st.pmtu_updates, (unsigned long long)t->st.rx_ooo);
}

static void run_transfer(const char *name, const struct run *r)
{
    struct end e[2] = {0};
    sched_init();
    host_clock_set(1000 * SEC);
    sim_init(&sim, &r->p, r->mtu, &r->cfg);
    struct thread *link = thread_spawn("link", sim_run, &sim, 0);
    for (int i = 0; i < 2; i++) {
        e[i].side = i;
        e[i].total = r->bytes[i];
        e[i].expect = r->bytes[1 - i];
        e[i].seed = (uint32_t)(r->p.seed + (uint64_t)i);
        e[i].rseed = (uint32_t)(r->p.seed + (uint64_t)(1 - i));
        e[i].read_pause_ns = i == 1 ? r->read_pause_ns : 0;
        e[i].mtu_drop_at = i == 0 ? r->mtu_drop_at : 0;
    }
    struct thread *t1 = thread_spawn("end1", end_thread, &e[1], 0);
    thread_yield(); /* listening before side 0 connects */
    struct thread *t0 = thread_spawn("end0", end_thread, &e[0], 0);
    thread_join(t0, NULL);
    thread_join(t1, NULL);
    uint64_t took = plat_now_ns() - 1000 * SEC;
    sim_stop(&sim, plat_now_ns() + 200 * SEC);
    thread_join(link, NULL);
    print_side(name, 0);
    print_side(name, 1);
    if (getenv("TCP_LINK_COUNTERS"))
        for (int i = 0; i < 2; i++)
            net_stats_print(sim.side[i].st, NULL, print_nonzero, (void *)(intptr_t)i);
    printf("# %s: %u+%u bytes in %.3f simulated s\n", name, e[0].got, e[1].got,
           (double)took / 1e9);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(e[i].werr, TCP_OK);
        assert_int_equal(e[i].rerr, TCP_OK);
        assert_true(e[i].eof);
        assert_false(e[i].mismatch);
        assert_int_equal(e[i].got, e[i].expect);
        struct tcp *t = tcp_of(i);
        assert_int_equal(t->st.tx_errors, 0); /* every segment fitted (DF set) */
        assert_int_equal(t->nconns, 0);
        assert_int_equal(t->nhalf, 0);
        assert_int_equal(t->mem_used, 0);
        assert_int_equal(t->rx_pinned, 0);
        assert_int_equal(sim.side[i].tx_live, 0);
    }
    assert_int_equal(sim.rx_live, 0);
    last[0] = tcp_of(0)->st;
    last[1] = tcp_of(1)->st;
    sim_free(&sim);
}

static struct run base_run(uint64_t seed, uint32_t loss_ppm, uint32_t bytes)
{
    struct run r = {0};
    r.p.seed = seed;
    r.p.loss_ppm = loss_ppm;
    r.p.dup_ppm = loss_ppm ? 5000 : 0;
    r.p.reorder_ppm = loss_ppm ? 20000 : 0;
    r.p.reorder_ns = 3 * MS;
    r.p.delay_ns = 2 * MS;
    r.p.rate_bps = 100000000;
    r.p.queue_frames = 100;
    r.mtu[0] = r.mtu[1] = 1500;
    r.bytes[0] = bytes;
    return r;
}

static void test_clean_link(void **state)
{
    (void)state;
    struct run r = base_run(1, 0, 4 << 20);
    run_transfer("clean", &r);
    assert_int_equal(last[0].retransmits, 0);
}

static void test_loss_1(void **state)
{
    (void)state;
    struct run r = base_run(2, 10000, 2 << 20);
    run_transfer("loss 1%", &r);
}

static void test_loss_2(void **state)
{
    (void)state;
    struct run r = base_run(3, 20000, 2 << 20);
    run_transfer("loss 2%", &r);
}

static void test_loss_5(void **state)
{
    (void)state;
    struct run r = base_run(4, 50000, 2 << 20);
    run_transfer("loss 5%", &r);
}

static void test_loss_10(void **state)
{
    (void)state;
    struct run r = base_run(5, 100000, 1 << 20);
    run_transfer("loss 10%", &r);
}

static void test_reno_loss_3(void **state)
{
    (void)state;
    struct run r = base_run(6, 30000, 2 << 20);
    r.cfg.cc = TCP_CC_RENO;
    run_transfer("reno 3%", &r);
}

static void test_no_sack_loss_3(void **state)
{
    (void)state;
    struct run r = base_run(7, 30000, 2 << 20);
    r.cfg.no_sack = true;
    run_transfer("no sack 3%", &r);
    assert_int_equal(last[0].sack_recoveries, 0);
}

static void test_no_options_loss_2(void **state)
{
    (void)state;
    struct run r = base_run(8, 20000, 1 << 20);
    r.cfg.no_sack = r.cfg.no_ts = r.cfg.no_ws = true;
    run_transfer("no options 2%", &r);
}

static void test_full_duplex_loss_2(void **state)
{
    (void)state;
    struct run r = base_run(9, 20000, 1 << 20);
    r.bytes[1] = 1 << 20;
    run_transfer("duplex 2%", &r);
}

static void test_mtu_drop(void **state)
{
    (void)state;
    struct run r = base_run(10, 5000, 2 << 20);
    r.mtu_drop_at = 600000;
    run_transfer("mtu drop", &r);
    assert_true(last[0].pmtu_updates >= 1);
    assert_true(sim.side[0].too_big >= 1);
}

static void test_mtu_mismatch(void **state)
{
    (void)state;
    struct run r = base_run(11, 10000, 1 << 20);
    r.mtu[1] = 1000; /* side 1 announces MSS 960: nothing bigger may come */
    sim.mtu = 9000;
    run_transfer("mtu 1000", &r);
    assert_int_equal(sim.side[0].too_big, 0);
}

static void test_slow_reader_small_window(void **state)
{
    (void)state;
    struct run r = base_run(12, 10000, 256 << 10);
    r.cfg.rcvbuf = 4096;
    r.read_pause_ns = 5 * MS;
    run_transfer("slow reader", &r);
}

/* Many short connections one after the other across a lossy link. */
static void churn_client(void *arg)
{
    int *fails = arg;
    for (int i = 0; i < 60; i++) {
        struct tcp_flow *f;
        struct view v;
        char req[32];
        int n = snprintf(req, sizeof req, "request %d", i);
        if (tcp_connect(tcp_of(0), ipv4_addr_make(10, 0, 0, 2), PORT, 60 * SEC, &f) !=
            TCP_OK) {
            (*fails)++;
            continue;
        }
        struct view rv = view_of_mem(req, (uint32_t)n);
        if (tcp_write(f, &rv, 1) != TCP_OK || tcp_read(f, &v, 60 * SEC) != TCP_OK ||
            v.len != (uint32_t)n || memcmp(view_data(&v), req, (size_t)n) != 0)
            (*fails)++;
        tcp_close(f);
    }
}

static void churn_server(void *arg)
{
    struct tcp_listener *l = arg;
    for (int i = 0; i < 60; i++) {
        struct tcp_flow *f;
        struct view v;
        if (tcp_accept(l, 300 * SEC, &f) != TCP_OK)
            return;
        if (tcp_read(f, &v, 60 * SEC) == TCP_OK && v.len) {
            struct view c = v; /* echo it back */
            tcp_write(f, &c, 1);
        }
        while (tcp_read(f, &v, 60 * SEC) == TCP_OK && v.len)
            ;
        tcp_close(f);
    }
}

static void test_connection_churn(void **state)
{
    (void)state;
    struct run r = base_run(13, 30000, 0);
    int fails = 0;
    struct tcp_listener *l;
    sched_init();
    host_clock_set(1000 * SEC);
    sim_init(&sim, &r.p, r.mtu, &r.cfg);
    struct thread *link = thread_spawn("link", sim_run, &sim, 0);
    assert_int_equal(tcp_listen(tcp_of(1), PORT, 8, NULL, NULL, &l), TCP_OK);
    struct thread *srv = thread_spawn("server", churn_server, l, 0);
    struct thread *cli = thread_spawn("client", churn_client, &fails, 0);
    thread_join(cli, NULL);
    thread_join(srv, NULL);
    tcp_unlisten(l);
    sim_stop(&sim, plat_now_ns() + 200 * SEC);
    thread_join(link, NULL);
    print_side("churn", 0);
    print_side("churn", 1);
    assert_int_equal(fails, 0);
    assert_int_equal(tcp_of(1)->st.conn_passive, 60);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tcp_of(i)->nconns, 0);
        assert_int_equal(tcp_of(i)->mem_used, 0);
    }
    assert_int_equal(sim.rx_live, 0);
    sim_free(&sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_link),
        cmocka_unit_test(test_loss_1),
        cmocka_unit_test(test_loss_2),
        cmocka_unit_test(test_loss_5),
        cmocka_unit_test(test_loss_10),
        cmocka_unit_test(test_reno_loss_3),
        cmocka_unit_test(test_no_sack_loss_3),
        cmocka_unit_test(test_no_options_loss_2),
        cmocka_unit_test(test_full_duplex_loss_2),
        cmocka_unit_test(test_mtu_drop),
        cmocka_unit_test(test_mtu_mismatch),
        cmocka_unit_test(test_slow_reader_small_window),
        cmocka_unit_test(test_connection_churn),
    };
    /* TCP_LINK_TEST=pattern runs the matching tests only (by hand, debugging). */
    if (getenv("TCP_LINK_TEST"))
        cmocka_set_test_filter(getenv("TCP_LINK_TEST"));
    setvbuf(stdout, NULL, _IOLBF, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
