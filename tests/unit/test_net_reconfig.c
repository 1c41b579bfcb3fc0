/* Re-configuration of a stack's address, what DHCP depends on: unconfigured,
 * unicast writes fail at once with "no route" while broadcasts go from 0.0.0.0;
 * a changed (or removed) address leaves nothing learned under the old one: ARP's
 * dynamic entries and the frames queued on them, the route cache, datagrams in
 * reassembly for it; writers waiting for ARP give up; the address handler
 * (TCP's hook) hears of every change and only of changes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "kernel/sched.h"
#include "net/stack.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"
#include "tests/unit/stack_harness.h"

#define SEC 1000000000ull
#define T0 (1000 * SEC)

static const struct eth_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static void make(const char *cidr)
{
    harness_setup(&(struct harness_config){.addr = cidr,
                                           .unconfigured = cidr == NULL,
                                           .gateway = cidr ? "10.0.0.254" : NULL,
                                           .clock_ns = T0,
                                           .fresh_scheduler = true});
}

static int setup_unconfigured(void **state)
{
    (void)state;
    make(NULL);
    return 0;
}

static int setup_configured(void **state)
{
    (void)state;
    make("10.0.0.2/24");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_destroy();
    struct sched_stats ss;
    sched_get_stats(&ss);
    assert_int_equal(ss.live, 1);
    return 0;
}

static void configure(const char *cidr, const char *gw)
{
    struct net_config cfg = {0};
    if (cidr)
        assert_int_equal(net_config_parse(cidr, gw, &cfg), 0);
    net_configure(st, &cfg);
}

static enum ipv4_err send_udp(struct ipv4_addr dst, bool nowait)
{
    uint8_t data[16] = "reconfiguration";
    struct view v = view_of_mem(data, sizeof data);
    struct udp_send_opts o = {.ip = {.nowait = nowait}};
    return udp_sendto(&st->udp, 5000, dst, 6000, &v, 1, &o);
}

/* The peer asks who has dst: we learn it (and answer when dst is ours). */
static void peer_asks(struct ipv4_addr tpa)
{
    uint8_t f[60] = {0};
    struct ipv4_addr spa = fx_peer_ip();
    fx_eth(f, &bcast_mac, &fx_peer_mac, 0x0806);
    net_wr16(f + 14, 1);
    net_wr16(f + 16, 0x0800);
    f[18] = 6, f[19] = 4;
    net_wr16(f + 20, 1);
    memcpy(f + 22, fx_peer_mac.b, 6);
    memcpy(f + 28, &spa.be, 4);
    memcpy(f + 38, &tpa.be, 4);
    fake_netif_rx(&fk, f, 60);
}

/* ---------------------------------------------------------------- unconfigured */

static void test_unconfigured_unicast_fails_no_route(void **state)
{
    (void)state;
    assert_int_equal(send_udp(fx_peer_ip(), false), IPV4_ENOROUTE);
    assert_int_equal(send_udp(fx_peer_ip(), true), IPV4_ENOROUTE);
    assert_int_equal(send_udp(ipv4_addr_make(8, 8, 8, 8), false), IPV4_ENOROUTE);
    assert_int_equal(ctr("ipv4.tx_err_no_route"), 3);
    assert_int_equal(ctr("udp.tx_errors"), 3);
    enum ipv4_err err = IPV4_OK;
    assert_int_equal(net_ping(st, fx_peer_ip(), 1, 56, SEC, NULL, &err),
                     ICMP_PING_SEND_ERROR);
    assert_int_equal(err, IPV4_ENOROUTE);
    assert_int_equal(fk.ntx, 0); /* not even an ARP request */
    assert_int_equal(plat_now_ns(), T0);
    /* Requests for 0.0.0.0 get no answer: we claim no address. */
    peer_asks(ipv4_addr_make(0, 0, 0, 0));
    assert_int_equal(fk.ntx, 0);
}

static void test_unconfigured_broadcast_from_zero(void **state)
{
    (void)state;
    struct ipv4_addr bc = ipv4_addr_make(255, 255, 255, 255);
    assert_int_equal(send_udp(bc, false), IPV4_OK);
    assert_int_equal(fk.ntx, 1);
    const uint8_t *f = fk.tx[0].data;
    assert_memory_equal(f, bcast_mac.b, 6);
    assert_memory_equal(f + 6, fx_dut_mac.b, 6);
    const uint8_t *ip = f + 14;
    assert_memory_equal(ip + 12, "\0\0\0\0", 4);
    assert_memory_equal(ip + 16, "\xff\xff\xff\xff", 4);
    assert_int_equal(fx_ref_csum(ip, 20), 0);
    /* UDP checksum over the pseudoheader with source 0.0.0.0. */
    uint8_t ph[12 + 24] = {0};
    memcpy(ph + 4, ip + 16, 4);
    ph[9] = 17;
    net_wr16(ph + 10, 24);
    memcpy(ph + 12, ip + 20, 24);
    assert_int_equal(fx_ref_csum(ph, sizeof ph), 0);
}

/* ---------------------------------------------------------------- re-configuration */

/* A first fragment to dst, from the peer: reassembly keeps it. */
static void fragment_to(struct ipv4_addr dst, const struct eth_addr *edst, uint16_t id)
{
    uint8_t f[14 + 20 + 16], data[16] = {0};
    fx_eth(f, edst, &fx_peer_mac, 0x0800);
    fx_ipv4(f + 14, fx_peer_ip(), dst, 17, id, 0x2000, 64, sizeof data);
    memcpy(f + 34, data, sizeof data);
    fake_netif_rx(&fk, f, sizeof f);
}

static void test_address_change_drops_stale_state(void **state)
{
    (void)state;
    struct eth_addr mac, m8 = {{0x02, 0, 0, 0, 0, 8}};
    peer_asks(fx_dut_ip()); /* learned, answered */
    assert_int_equal(arp_add_static(&st->arp, ipv4_addr_make(10, 0, 0, 8), &m8), 0);
    assert_int_equal(send_udp(fx_peer_ip(), false), IPV4_OK);
    assert_true(st->ip.rc.valid);
    assert_int_equal(send_udp(ipv4_addr_make(10, 0, 0, 7), true), IPV4_OK); /* queued */
    assert_int_equal(fk.tx_live, 1);
    fragment_to(fx_dut_ip(), &fx_dut_mac, 1);
    fragment_to(ipv4_addr_make(255, 255, 255, 255), &bcast_mac, 2);
    assert_int_equal(ctr("reass.in_progress"), 2);
    assert_int_equal(ctr("arp.entries"), 3);
    fake_netif_tx_clear(&fk);

    configure("10.0.0.9/24", "10.0.0.254");
    assert_false(st->ip.rc.valid);
    assert_int_equal(ctr("arp.entries"), 1); /* the static one */
    assert_int_equal(ctr("arp.flushed"), 2);
    assert_false(arp_lookup(&st->arp, fx_peer_ip(), plat_now_ns(), &mac));
    assert_true(arp_lookup(&st->arp, ipv4_addr_make(10, 0, 0, 8), plat_now_ns(), &mac));
    assert_int_equal(fk.tx_live, 0); /* the queued frame (old source) is gone */
    assert_int_equal(ctr("arp.queue_dropped"), 1);
    assert_int_equal(ctr("reass.flushed"), 1); /* the broadcast one stays */
    assert_int_equal(ctr("reass.in_progress"), 1);
    /* The next write resolves again, from the new address. */
    assert_int_equal(send_udp(fx_peer_ip(), true), IPV4_OK);
    int arp_requests = 0;
    struct ipv4_addr peer = fx_peer_ip();
    for (int i = 0; i < fk.ntx; i++) {
        const uint8_t *f = fk.tx[i].data;
        if (net_rd16(f + 12) == 0x0806 && net_rd16(f + 20) == 1 &&
            !memcmp(f + 38, &peer.be, 4)) {
            arp_requests++;
            assert_memory_equal(f + 28, "\x0a\x00\x00\x09", 4);
        }
    }
    assert_int_equal(arp_requests, 1);
}

static void test_address_removed_drops_stale_state(void **state)
{
    (void)state;
    peer_asks(fx_dut_ip());
    fragment_to(fx_dut_ip(), &fx_dut_mac, 3);
    configure(NULL, NULL);
    assert_int_equal(ctr("arp.entries"), 0);
    assert_int_equal(ctr("reass.in_progress"), 0);
    assert_int_equal(send_udp(fx_peer_ip(), false), IPV4_ENOROUTE);
}

/* Same address, other gateway or prefix: the mappings stay, the routes go. */
static void test_same_address_keeps_arp(void **state)
{
    (void)state;
    peer_asks(fx_dut_ip());
    assert_int_equal(send_udp(fx_peer_ip(), false), IPV4_OK);
    assert_true(st->ip.rc.valid);
    configure("10.0.0.2/16", "10.0.0.1");
    assert_false(st->ip.rc.valid);
    assert_int_equal(ctr("arp.entries"), 1);
    assert_int_equal(ctr("arp.flushed"), 0);
}

/* A writer blocked on ARP when the address changes: "no route", at once. */
static struct {
    enum ipv4_err err;
    bool done;
} wr;

static void writer(void *arg)
{
    (void)arg;
    wr.err = send_udp(ipv4_addr_make(10, 0, 0, 6), false);
    wr.done = true;
}

static void test_waiting_writer_gives_up_on_change(void **state)
{
    (void)state;
    memset(&wr, 0, sizeof wr);
    struct thread *t = thread_spawn("writer", writer, NULL, 0);
    assert_non_null(t);
    thread_yield();
    assert_false(wr.done);
    configure("10.0.0.9/24", "10.0.0.254");
    assert_int_equal(thread_join(t, NULL), 0);
    assert_true(wr.done);
    assert_int_equal(wr.err, IPV4_ENOROUTE);
    assert_int_equal(plat_now_ns(), T0); /* not after ARP's retries */
}

/* ---------------------------------------------------------------- the handler */

static struct {
    int calls;
    struct ipv4_addr old, now;
} seen;

static void on_addr(void *ctx, struct ipv4_addr old, struct ipv4_addr now)
{
    assert_ptr_equal(ctx, &seen);
    seen.calls++;
    seen.old = old;
    seen.now = now;
}

static void test_addr_handler(void **state)
{
    (void)state;
    memset(&seen, 0, sizeof seen);
    net_set_addr_handler(st, on_addr, &seen);
    configure("10.0.0.2/16", NULL);
    assert_int_equal(seen.calls, 0); /* same address */
    configure("10.0.0.9/24", NULL);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.old.be, fx_dut_ip().be);
    assert_int_equal(seen.now.be, ipv4_addr_make(10, 0, 0, 9).be);
    configure(NULL, NULL);
    assert_int_equal(seen.calls, 2);
    assert_int_equal(seen.now.be, 0);
    net_set_addr_handler(st, NULL, NULL);
    configure("10.0.0.2/24", NULL);
    assert_int_equal(seen.calls, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unconfigured_unicast_fails_no_route,
                                        setup_unconfigured, teardown),
        cmocka_unit_test_setup_teardown(test_unconfigured_broadcast_from_zero,
                                        setup_unconfigured, teardown),
        cmocka_unit_test_setup_teardown(test_address_change_drops_stale_state,
                                        setup_configured, teardown),
        cmocka_unit_test_setup_teardown(test_address_removed_drops_stale_state,
                                        setup_configured, teardown),
        cmocka_unit_test_setup_teardown(test_same_address_keeps_arp, setup_configured,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_waiting_writer_gives_up_on_change,
                                        setup_configured, teardown),
        cmocka_unit_test_setup_teardown(test_addr_handler, setup_configured, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
