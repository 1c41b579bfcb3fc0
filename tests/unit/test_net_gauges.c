/* The gauges the stack prints beside its counters (what is held now), which the
 * robustness suites read to check that memory goes back to idle: reassembly
 * bytes held, datagrams in progress and the cap; ARP entries in use, pending
 * resolutions, the capacity and the frames waiting in queues. Through the
 * stack on the fake netif: values by net_counter and in net_stats_print. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "net/stack.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"
#include "tests/unit/stack_harness.h"

#define SEC 1000000000ull

static int setup(void **state)
{
    (void)state;
    harness_setup(&(struct harness_config){
        .clock_ns = 1000 * SEC,
        .static_peer = true,
        .tune = {.arp_capacity = 8, .limits.reass_max_bytes = 64 * 1024}});
    return 0;
}

/* A first fragment (MF, offset 0) of len data bytes with identification id. */
static void first_fragment(uint16_t id, size_t len)
{
    uint8_t f[1514], data[1480];
    memset(data, 0x5a, sizeof data);
    size_t n = fx_ip_frame(f, 253, id, 0x2000, data, len);
    fake_netif_rx(&fk, f, (uint32_t)n);
}

static void last_fragment(uint16_t id, uint16_t off, size_t len)
{
    uint8_t f[1514], data[1480];
    memset(data, 0x5a, sizeof data);
    size_t n = fx_ip_frame(f, 253, id, (uint16_t)(off / 8), data, len);
    fake_netif_rx(&fk, f, (uint32_t)n);
}

static void test_reass_gauges(void **state)
{
    (void)state;
    assert_int_equal(ctr("reass.bytes_held"), 0);
    assert_int_equal(ctr("reass.in_progress"), 0);
    assert_int_equal(ctr("reass.max_bytes"), 64 * 1024);
    first_fragment(1, 1480);
    first_fragment(2, 800);
    assert_int_equal(ctr("reass.bytes_held"), 2280);
    assert_int_equal(ctr("reass.in_progress"), 2);
    last_fragment(1, 1480, 20); /* datagram 1 completes (protocol unreachable) */
    assert_int_equal(ctr("reass.bytes_held"), 800);
    assert_int_equal(ctr("reass.in_progress"), 1);
    host_clock_advance(31 * SEC); /* datagram 2 times out */
    net_tick(st, plat_now_ns());
    assert_int_equal(ctr("reass.bytes_held"), 0);
    assert_int_equal(ctr("reass.in_progress"), 0);
    assert_int_equal(ctr("reass.timeout"), 1);
}

static void arp_request_from(uint8_t host)
{
    uint8_t f[60];
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    struct eth_addr sha = {{0x02, 0, 0, 0, 0x10, host}};
    fx_arp(f, &bc, &sha, 1, &sha, ipv4_addr_make(10, 0, 0, host), NULL, fx_dut_ip());
    fake_netif_rx(&fk, f, sizeof f);
}

static void test_arp_gauges(void **state)
{
    (void)state;
    assert_int_equal(ctr("arp.entries"), 1); /* the peer, static */
    assert_int_equal(ctr("arp.pending"), 0);
    assert_int_equal(ctr("arp.capacity"), 8);
    assert_int_equal(ctr("arp.queue_frames"), 0);
    /* Two frames for a host nobody has resolved wait in its queue. */
    uint8_t data[16] = {0};
    struct view v = view_of_mem(data, sizeof data);
    struct udp_send_opts o = {.ip = {.nowait = true}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(
            udp_sendto(&st->udp, 5000, ipv4_addr_make(10, 0, 0, 50), 9, &v, 1, &o),
            IPV4_OK);
    assert_int_equal(ctr("arp.entries"), 2);
    assert_int_equal(ctr("arp.pending"), 1);
    assert_int_equal(ctr("arp.queue_frames"), 2);
    assert_int_equal(fk.tx_live, 2); /* the queued TX buffers, as the gauge says */
    /* Once ARP gives up on it, its queue is freed. */
    for (int i = 0; i < 4; i++) {
        host_clock_advance(SEC);
        net_tick(st, plat_now_ns());
    }
    assert_int_equal(ctr("arp.pending"), 0);
    assert_int_equal(ctr("arp.queue_frames"), 0);
    assert_int_equal(fk.tx_live, 0);
    /* Requests from many hosts: the table stays within its capacity. */
    for (uint8_t h = 100; h < 120; h++)
        arp_request_from(h);
    assert_int_equal(ctr("arp.entries"), 8);
    assert_int_equal(ctr("arp.capacity"), 8);
    assert_true(ctr("arp.evicted") > 0);
}

static void test_gauges_printed(void **state)
{
    (void)state;
    static struct harness_lines l;
    first_fragment(7, 1000);
    l.n = 0;
    net_stats_print(st, NULL, harness_collect, &l);
    assert_true(harness_has_line(&l, "reass.bytes_held=1000"));
    assert_true(harness_has_line(&l, "reass.in_progress=1"));
    assert_true(harness_has_line(&l, "reass.max_bytes=65536"));
    assert_true(harness_has_line(&l, "arp.entries=1"));
    assert_true(harness_has_line(&l, "arp.pending=0"));
    assert_true(harness_has_line(&l, "arp.capacity=8"));
    assert_true(harness_has_line(&l, "arp.queue_frames=0"));
    assert_int_equal(net_counter(st, "reass.nope"), -1);
    assert_int_equal(net_counter(st, "arp.nope"), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_reass_gauges),
        T(test_arp_gauges),
        T(test_gauges_printed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
