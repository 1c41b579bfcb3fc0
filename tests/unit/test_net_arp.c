/* ARP through the stack, with the cooperative scheduler and the fake clock: a
 * blocking writer waits alone (the test's own thread keeps running), retries at
 * one-second intervals then "no route", the reply wakes it, disconnect wakes it;
 * frames built where blocking is not allowed wait in a bounded queue; the cache
 * cap (LRU), expiry, refresh (also through the route cache), updates, static
 * entries, conflicts and the console table. Threads only record; the checks run
 * in the test's thread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kernel/sched.h"
#include "net/stack.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"
#include "tests/unit/stack_harness.h"

#define SEC 1000000000ull
#define T0 (1000 * SEC)

static const struct eth_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct eth_addr zero_mac = {{0}};

static void make(uint32_t arp_cap)
{
    harness_setup(&(struct harness_config){.gateway = "10.0.0.254",
                                           .clock_ns = T0,
                                           .fresh_scheduler = true,
                                           .tune.arp_capacity = arp_cap});
}

static int setup(void **state)
{
    (void)state;
    make(0);
    return 0;
}

static void destroy(void)
{
    harness_destroy();
    struct sched_stats ss;
    sched_get_stats(&ss);
    assert_int_equal(ss.live, 1);
}

static int teardown(void **state)
{
    (void)state;
    destroy();
    return 0;
}

static struct ipv4_addr host(int n)
{
    return ipv4_addr_make(10, 0, 0, (uint8_t)n);
}
static struct eth_addr mac_of(int n)
{
    struct eth_addr m = {{0x02, 0, 0, 0, 0, (uint8_t)n}};
    return m;
}

/* An ARP packet from host n (MAC 02:..:n) in a frame to eth_dst. */
static void arp_in(uint16_t op, int n, const struct eth_addr *eth_dst,
                   struct ipv4_addr tpa)
{
    uint8_t f[60];
    struct eth_addr m = mac_of(n);
    fake_netif_rx(&fk, f,
                  (uint32_t)fx_arp(f, eth_dst, &m, op, &m, host(n),
                                   op == 2 ? &fx_dut_mac : NULL, tpa));
}

/* Frame i is an ARP request from us for tpa, sent to eth_dst. */
static void expect_request(int i, const struct eth_addr *eth_dst, struct ipv4_addr tpa)
{
    assert_true(i < fk.ntx);
    const uint8_t *f = fk.tx[i].data;
    assert_memory_equal(f, eth_dst->b, 6);
    assert_int_equal(net_rd16(f + 12), 0x0806);
    assert_int_equal(net_rd16(f + 20), 1);
    assert_memory_equal(f + 28, "\x0a\x00\x00\x02", 4);
    assert_memory_equal(f + 32, zero_mac.b, 6);
    assert_memory_equal(f + 38, &tpa.be, 4);
}

static bool known(int n, struct eth_addr *mac)
{
    return arp_lookup(&st->arp, host(n), plat_now_ns(), mac);
}

/* ---------------------------------------------------------------- a blocking writer */

static struct {
    struct ipv4_addr dst;
    enum ipv4_err err;
    uint64_t done_at;
    bool done;
} wr;

static void writer(void *arg)
{
    (void)arg;
    uint8_t data[4] = {1, 2, 3, 4};
    struct view v = view_of_mem(data, 4);
    wr.err = udp_sendto(&st->udp, 5000, wr.dst, 6000, &v, 1, NULL);
    wr.done_at = plat_now_ns();
    wr.done = true;
}

static struct thread *spawn_writer(struct ipv4_addr dst)
{
    memset(&wr, 0, sizeof wr);
    wr.dst = dst;
    struct thread *t = thread_spawn("writer", writer, NULL, 0);
    assert_non_null(t);
    return t;
}

/* Spawns the writer and runs the scheduler until it is done, then joins it. */
static void run_writer(struct ipv4_addr dst)
{
    struct thread *t = spawn_writer(dst);
    sched_run();
    assert_int_equal(thread_join(t, NULL), 0);
}

static void test_retries_then_no_route(void **state)
{
    (void)state;
    run_writer(host(77)); /* the scheduler idles forward through the retries */
    assert_true(wr.done);
    assert_int_equal(wr.err, IPV4_ENOROUTE);
    assert_int_equal(wr.done_at, T0 + 3 * SEC); /* 3 requests, one second apart */
    assert_int_equal(fk.ntx, 3);
    for (int i = 0; i < 3; i++)
        expect_request(i, &bcast_mac, host(77));
    assert_int_equal(ctr("arp.resolve_failed"), 1);
    assert_int_equal(ctr("udp.tx_errors"), 1);
    assert_int_equal(ctr("ipv4.tx_err_no_route"), 1);
    /* Within the hold time the answer is immediate, with no new request. */
    run_writer(host(77));
    assert_int_equal(wr.err, IPV4_ENOROUTE);
    assert_int_equal(wr.done_at, T0 + 3 * SEC);
    assert_int_equal(fk.ntx, 3);
    /* After it, a new resolution starts. */
    host_clock_advance(ARP_FAILED_HOLD_NS);
    net_tick(st, plat_now_ns());
    run_writer(host(77));
    assert_int_equal(fk.ntx, 6);
    assert_int_equal(ctr("arp.resolve_failed"), 2);
}

static void test_writer_waits_alone_and_resumes_on_reply(void **state)
{
    (void)state;
    struct thread *t = spawn_writer(host(5));
    thread_yield(); /* the writer runs, asks, blocks */
    assert_false(wr.done);
    assert_int_equal(fk.ntx, 1);
    expect_request(0, &bcast_mac, host(5));
    /* This thread keeps running meanwhile: the stack still answers others. */
    arp_in(1, 9, &bcast_mac, fx_dut_ip());
    assert_int_equal(fk.ntx, 2); /* our reply to host 9 */
    struct eth_addr m5 = mac_of(5);
    arp_in(2, 5, &fx_dut_mac, fx_dut_ip()); /* host 5 answers */
    assert_int_equal(thread_join(t, NULL), 0);
    assert_true(wr.done);
    assert_int_equal(wr.err, IPV4_OK);
    assert_int_equal(wr.done_at, T0); /* no time passed */
    assert_int_equal(fk.ntx, 3);
    assert_memory_equal(fk.tx[2].data, m5.b, 6);
    assert_int_equal(net_rd16(fk.tx[2].data + 12), 0x0800);
    assert_int_equal(ctr("udp.tx"), 1);
}

static void test_disconnect_wakes_writer(void **state)
{
    (void)state;
    struct thread *t = spawn_writer(host(6));
    thread_yield();
    assert_false(wr.done);
    ipv4_disconnect(&st->ip);
    assert_int_equal(thread_join(t, NULL), 0);
    assert_int_equal(wr.err, IPV4_EDISCONNECTED);
    assert_int_equal(wr.done_at, T0);
    /* ARP input is dropped afterwards too. */
    arp_in(1, 9, &bcast_mac, fx_dut_ip());
    assert_int_equal(ctr("arp.drop_disconnected"), 1);
}

static void test_deadline_follows_retries(void **state)
{
    (void)state;
    struct thread *t = spawn_writer(host(8));
    thread_yield();
    assert_int_equal(net_next_deadline(st), T0 + ARP_RETRY_NS);
    /* The net thread's tick can drive the retries too. */
    host_clock_set(T0 + ARP_RETRY_NS);
    net_tick(st, plat_now_ns());
    assert_int_equal(fk.ntx, 2);
    assert_int_equal(net_next_deadline(st), T0 + 2 * ARP_RETRY_NS);
    sched_run();
    assert_int_equal(thread_join(t, NULL), 0);
    assert_int_equal(wr.err, IPV4_ENOROUTE);
    assert_int_equal(fk.ntx, 3);
}

/* ---------------------------------------------------------------- the queue */

static uint32_t four_bytes(void *ctx, const struct view *hv)
{
    memcpy(view_data(hv), ctx, 4);
    return 4;
}

static void test_nowait_frames_queue_bounded(void **state)
{
    (void)state;
    struct ipv4_wopts nw = {.nowait = true};
    for (int i = 0; i < ARP_QUEUE_LEN + 1; i++) {
        uint8_t tag[4] = {0xaa, 0xbb, 0xcc, (uint8_t)i};
        enum ipv4_err e =
            ipv4_write(&st->ip, &nw, host(5), 253, 4, four_bytes, tag, NULL, 0);
        assert_int_equal(e, i < ARP_QUEUE_LEN ? IPV4_OK : IPV4_ENOBUFS);
    }
    assert_int_equal(fk.ntx, 1); /* one request, not one per frame */
    assert_int_equal(ctr("arp.queued"), ARP_QUEUE_LEN);
    assert_int_equal(ctr("arp.queue_dropped"), 1);
    arp_in(2, 5, &fx_dut_mac, fx_dut_ip());
    assert_int_equal(fk.ntx, 1 + ARP_QUEUE_LEN);
    struct eth_addr m5 = mac_of(5);
    for (int i = 0; i < ARP_QUEUE_LEN; i++) {
        const uint8_t *f = fk.tx[1 + i].data;
        assert_memory_equal(f, m5.b, 6);              /* MAC filled in */
        assert_int_equal(f[14 + 20 + 3], (uint8_t)i); /* in order */
        assert_int_equal(fx_ref_csum(f + 14, 20), 0);
    }
    assert_int_equal(ctr("arp.queue_sent"), ARP_QUEUE_LEN);
}

static void test_queued_frames_dropped_on_failure(void **state)
{
    (void)state;
    struct ipv4_wopts nw = {.nowait = true};
    uint8_t tag[4] = {1, 2, 3, 4};
    assert_int_equal(ipv4_write(&st->ip, &nw, host(5), 253, 4, four_bytes, tag, NULL, 0),
                     IPV4_OK);
    assert_int_equal(ipv4_write(&st->ip, &nw, host(5), 253, 4, four_bytes, tag, NULL, 0),
                     IPV4_OK);
    for (int s = 1; s <= 3; s++) {
        host_clock_set(T0 + (uint64_t)s * ARP_RETRY_NS);
        net_tick(st, plat_now_ns());
    }
    assert_int_equal(fk.ntx, 3);
    assert_int_equal(ctr("arp.resolve_failed"), 1);
    assert_int_equal(ctr("arp.queue_dropped"), 2);
    /* While failed, nowait writes are refused at once. */
    assert_int_equal(ipv4_write(&st->ip, &nw, host(5), 253, 4, four_bytes, tag, NULL, 0),
                     IPV4_ENOROUTE);
}

/* ---------------------------------------------------------------- the cache */

static void test_cache_cap_evicts_lru(void **state)
{
    (void)state;
    struct eth_addr m;
    destroy();
    make(4);
    for (int n = 11; n <= 14; n++) {
        host_clock_advance(SEC);
        arp_in(1, n, &bcast_mac, fx_dut_ip()); /* each asks us: learned */
    }
    host_clock_advance(SEC);
    assert_true(known(11, &m)); /* 11 used: 12 is now the least recently used */
    host_clock_advance(SEC);
    arp_in(1, 15, &bcast_mac, fx_dut_ip());
    assert_int_equal(ctr("arp.evicted"), 1);
    assert_true(known(11, &m));
    assert_false(known(12, &m));
    assert_true(known(13, &m));
    assert_true(known(15, &m));
    assert_memory_equal(m.b, mac_of(15).b, 6);
}

static void test_learning_rules(void **state)
{
    (void)state;
    struct eth_addr m;
    /* A request for someone else from an unknown host: not learned. */
    arp_in(1, 20, &bcast_mac, host(99));
    assert_false(known(20, &m));
    /* An unsolicited reply to someone else: not learned either. */
    arp_in(2, 21, &bcast_mac, host(99));
    assert_false(known(21, &m));
    /* A known host's new MAC (any ARP packet from it) updates the entry. */
    arp_in(1, 22, &bcast_mac, fx_dut_ip());
    assert_true(known(22, &m));
    uint8_t f[60] = {0};
    struct eth_addr newmac = {{0x02, 0xaa, 0, 0, 0, 22}};
    struct ipv4_addr spa = host(22), tpa = host(22);
    fx_eth(f, &bcast_mac, &newmac, 0x0806);
    net_wr16(f + 14, 1), net_wr16(f + 16, 0x0800), f[18] = 6, f[19] = 4,
                                                   net_wr16(f + 20, 1);
    memcpy(f + 22, newmac.b, 6), memcpy(f + 28, &spa.be, 4), memcpy(f + 38, &tpa.be, 4);
    fake_netif_rx(&fk, f, 60); /* gratuitous ARP from host 22 */
    assert_true(known(22, &m));
    assert_memory_equal(m.b, newmac.b, 6);
    assert_int_equal(ctr("arp.updated"), 1);
    /* Someone claiming our address: counted, not learned, not answered. */
    fake_netif_tx_clear(&fk);
    uint8_t g[60];
    memcpy(g, f, 60);
    struct ipv4_addr ours = fx_dut_ip();
    memcpy(g + 28, &ours.be, 4);
    memcpy(g + 38, &ours.be, 4);
    fake_netif_rx(&fk, g, 60);
    assert_int_equal(ctr("arp.addr_conflict"), 1);
    assert_int_equal(fk.ntx, 0);
}

static void test_mac_change_reaches_route_cache(void **state)
{
    (void)state;
    uint8_t tag[4] = {9, 9, 9, 9};
    arp_in(1, 30, &bcast_mac, fx_dut_ip());
    fake_netif_tx_clear(&fk);
    assert_int_equal(
        ipv4_write(&st->ip, NULL, host(30), 253, 4, four_bytes, tag, NULL, 0), IPV4_OK);
    assert_int_equal(
        ipv4_write(&st->ip, NULL, host(30), 253, 4, four_bytes, tag, NULL, 0),
        IPV4_OK); /* from the route cache */
    struct eth_addr newmac = mac_of(31);
    /* Host 30 moves to another MAC (its request to us says so). */
    uint8_t f[60] = {0};
    struct ipv4_addr spa = host(30), tpa = fx_dut_ip();
    fx_eth(f, &bcast_mac, &newmac, 0x0806);
    net_wr16(f + 14, 1), net_wr16(f + 16, 0x0800), f[18] = 6, f[19] = 4,
                                                   net_wr16(f + 20, 1);
    memcpy(f + 22, newmac.b, 6), memcpy(f + 28, &spa.be, 4), memcpy(f + 38, &tpa.be, 4);
    fake_netif_rx(&fk, f, 60);
    assert_int_equal(
        ipv4_write(&st->ip, NULL, host(30), 253, 4, four_bytes, tag, NULL, 0), IPV4_OK);
    assert_int_equal(fk.ntx, 4); /* 2 datagrams, our ARP reply, 1 datagram */
    assert_memory_equal(fk.tx[0].data, mac_of(30).b, 6);
    assert_memory_equal(fk.tx[1].data, mac_of(30).b, 6);
    assert_memory_equal(fk.tx[3].data, newmac.b, 6);
}

static void test_expiry_and_refresh(void **state)
{
    (void)state;
    struct eth_addr m, m40 = mac_of(40);
    uint8_t tag[4] = {4, 4, 4, 4};
    arp_in(1, 40, &bcast_mac, fx_dut_ip()); /* learned at T0 */
    fake_netif_tx_clear(&fk);
    assert_int_equal(
        ipv4_write(&st->ip, NULL, host(40), 253, 4, four_bytes, tag, NULL, 0), IPV4_OK);
    /* The refresh point: T0 + 60 s - 10 s; the timer lets the route cache go. */
    uint64_t refresh = T0 + ARP_REACHABLE_NS - ARP_REFRESH_BEFORE_NS;
    assert_int_equal(net_next_deadline(st), refresh);
    host_clock_set(refresh - 1);
    net_tick(st, plat_now_ns());
    assert_int_equal(
        ipv4_write(&st->ip, NULL, host(40), 253, 4, four_bytes, tag, NULL, 0), IPV4_OK);
    assert_int_equal(fk.ntx, 2); /* no refresh yet */
    host_clock_set(refresh);
    net_tick(st, plat_now_ns());
    assert_int_equal(
        ipv4_write(&st->ip, NULL, host(40), 253, 4, four_bytes, tag, NULL, 0), IPV4_OK);
    assert_int_equal(fk.ntx, 4); /* a unicast refresh request, then the datagram */
    expect_request(2, &m40, host(40));
    /* At most one per ARP_RETRY_NS. */
    host_clock_advance(ARP_RETRY_NS / 2);
    assert_true(known(40, &m));
    assert_int_equal(fk.ntx, 4);
    /* No answer: the entry expires at T0 + 60 s and the timer removes it. */
    host_clock_set(T0 + ARP_REACHABLE_NS);
    net_tick(st, plat_now_ns());
    assert_int_equal(ctr("arp.expired"), 1);
    assert_false(known(40, &m));
    /* An answer would have extended it: learn again, refresh, answer. */
    arp_in(1, 40, &bcast_mac, fx_dut_ip());
    host_clock_advance(ARP_REACHABLE_NS - ARP_REFRESH_BEFORE_NS);
    assert_true(known(40, &m)); /* sends the refresh */
    arp_in(2, 40, &fx_dut_mac, fx_dut_ip());
    host_clock_advance(ARP_REFRESH_BEFORE_NS + SEC);
    net_tick(st, plat_now_ns());
    assert_true(known(40, &m));
}

static void test_static_entries(void **state)
{
    (void)state;
    struct eth_addr m, m7 = mac_of(7);
    assert_int_equal(arp_add_static(&st->arp, host(7), &m7), 0);
    host_clock_advance(1000 * SEC);
    net_tick(st, plat_now_ns());
    assert_true(known(7, &m));
    assert_memory_equal(m.b, m7.b, 6);
    assert_int_equal(fk.ntx, 0); /* never refreshed */
    /* ARP traffic cannot change it (a spoofed reply, a request from "7"). */
    arp_in(2, 8, &fx_dut_mac, fx_dut_ip()); /* host 8 learned normally */
    uint8_t f[60] = {0};
    struct eth_addr spoof = {{0x02, 0xee, 0, 0, 0, 7}};
    struct ipv4_addr spa = host(7), tpa = fx_dut_ip();
    fx_eth(f, &fx_dut_mac, &spoof, 0x0806);
    net_wr16(f + 14, 1), net_wr16(f + 16, 0x0800), f[18] = 6, f[19] = 4,
                                                   net_wr16(f + 20, 1);
    memcpy(f + 22, spoof.b, 6), memcpy(f + 28, &spa.be, 4), memcpy(f + 38, &tpa.be, 4);
    fake_netif_rx(&fk, f, 60);
    assert_true(known(7, &m));
    assert_memory_equal(m.b, m7.b, 6);
    arp_remove(&st->arp, host(7));
    assert_false(known(7, &m));
}

static void test_gratuitous_on_configure_and_print(void **state)
{
    (void)state;
    struct net_config c = {0};
    net_config_parse("10.0.0.3/24", NULL, &c);
    net_configure(st, &c);
    assert_int_equal(fk.ntx, 1);
    const uint8_t *f = fk.tx[0].data;
    assert_memory_equal(f, bcast_mac.b, 6);
    assert_memory_equal(f + 28, "\x0a\x00\x00\x03", 4); /* spa = tpa = new address */
    assert_memory_equal(f + 38, "\x0a\x00\x00\x03", 4);
    assert_int_equal(ctr("arp.tx_gratuitous"), 2);
    /* Requests for the old address are not answered any more. */
    arp_in(1, 9, &bcast_mac, fx_dut_ip());
    assert_int_equal(fk.ntx, 1);
    arp_in(1, 9, &bcast_mac, ipv4_addr_make(10, 0, 0, 3));
    assert_int_equal(fk.ntx, 2);
}

static void test_print_table(void **state)
{
    (void)state;
    static struct harness_lines l;
    struct ipv4_wopts nw = {.nowait = true};
    arp_in(1, 9, &bcast_mac, fx_dut_ip());
    assert_int_equal(ipv4_write(&st->ip, &nw, host(10), 253, 0, NULL, NULL, NULL, 0),
                     IPV4_OK);
    net_arp_print(st, harness_collect, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.text[0],
                        "address          hwaddress          state     expires");
    assert_string_equal(l.text[1], "10.0.0.9         02:00:00:00:00:09  resolved  60s");
    assert_string_equal(l.text[2], "10.0.0.10        (incomplete)       pending   -");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_retries_then_no_route),
        T(test_writer_waits_alone_and_resumes_on_reply),
        T(test_disconnect_wakes_writer),
        T(test_deadline_follows_retries),
        T(test_nowait_frames_queue_bounded),
        T(test_queued_frames_dropped_on_failure),
        T(test_cache_cap_evicts_lru),
        T(test_learning_rules),
        T(test_mac_change_reaches_route_cache),
        T(test_expiry_and_refresh),
        T(test_static_entries),
        T(test_gratuitous_on_configure_and_print),
        T(test_print_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
