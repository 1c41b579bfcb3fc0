/* Regression tests for ARP found with the robustness suites (tests/qemu/): echo
 * requests from spoofed on-link sources, whose replies wait for ARP answers
 * that never come. Each fails on the code before its fix. */
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
    harness_setup(
        &(struct harness_config){.gateway = "10.0.0.1", .clock_ns = 1000 * SEC});
    return 0;
}

/* An echo request from an on-link address nobody answers ARP for. */
static void spoofed_echo(uint8_t host, uint16_t seq)
{
    uint8_t f[128], msg[64], data[16] = {0};
    size_t ml = fx_icmp(msg, 8, 0, (uint32_t)host << 16 | seq, data, sizeof data);
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, ipv4_addr_make(10, 0, 0, host), fx_dut_ip(), 1, seq, 0, 64,
                 (uint16_t)ml);
    memcpy(f + n, msg, ml);
    fake_netif_rx(&fk, f, (uint32_t)(n + ml));
}

/* tests/qemu/flood_test.py (spoofed sources): echo requests from 64 on-link
 * addresses that never answer ARP had their replies queued, 8 per address, 512
 * TX buffers in all: more than virtio-net's whole TX pool (384), so the RX
 * thread then waited 2 s for a TX buffer on every frame it had to answer, and
 * the real host's pings went unanswered for seconds. ARP's queues together now
 * hold at most ARP_QUEUE_TOTAL frames. */
static void test_arp_queues_capped_in_total(void **state)
{
    (void)state;
    for (uint16_t seq = 0; seq < ARP_QUEUE_LEN; seq++)
        for (uint8_t h = 100; h < 100 + 12; h++)
            spoofed_echo(h, seq);
    /* 12 addresses x 8 replies = 96 wanted; the cap keeps 64. */
    assert_int_equal(ctr("icmp.rx_echo_request"), 12 * ARP_QUEUE_LEN);
    assert_int_equal(ctr("arp.queue_frames"), ARP_QUEUE_TOTAL);
    assert_int_equal(fk.tx_live, ARP_QUEUE_TOTAL);
    assert_int_equal(ctr("arp.queued"), ARP_QUEUE_TOTAL);
    assert_int_equal(ctr("arp.queue_dropped"), 12 * ARP_QUEUE_LEN - ARP_QUEUE_TOTAL);
    /* Once ARP gives up on them, every buffer comes back... */
    for (int s = 1; s <= ARP_MAX_TRIES; s++) {
        host_clock_advance(ARP_RETRY_NS);
        net_tick(st, plat_now_ns());
    }
    assert_int_equal(ctr("arp.queue_frames"), 0);
    assert_int_equal(fk.tx_live, 0);
    /* ... and the cap counts what is queued now, not what ever was. */
    fake_netif_tx_clear(&fk);
    spoofed_echo(200, 1);
    assert_int_equal(ctr("arp.queue_frames"), 1);
}

/* A resolution sends the queue: those frames leave the total too. */
static void test_arp_queue_total_released_on_resolution(void **state)
{
    (void)state;
    for (uint16_t seq = 0; seq < ARP_QUEUE_LEN; seq++)
        for (uint8_t h = 100; h < 100 + ARP_QUEUE_TOTAL / ARP_QUEUE_LEN; h++)
            spoofed_echo(h, seq);
    assert_int_equal(ctr("arp.queue_frames"), ARP_QUEUE_TOTAL);
    /* 10.0.0.100 answers: its 8 replies go, 8 places free up. */
    uint8_t f[60] = {0};
    struct eth_addr mac = {{0x02, 0, 0, 0, 0, 100}};
    struct ipv4_addr spa = ipv4_addr_make(10, 0, 0, 100), tpa = fx_dut_ip();
    fx_eth(f, &fx_dut_mac, &mac, 0x0806);
    net_wr16(f + 14, 1);
    net_wr16(f + 16, 0x0800);
    f[18] = 6, f[19] = 4;
    net_wr16(f + 20, 2);
    memcpy(f + 22, mac.b, 6);
    memcpy(f + 28, &spa.be, 4);
    memcpy(f + 32, fx_dut_mac.b, 6);
    memcpy(f + 38, &tpa.be, 4);
    fake_netif_rx(&fk, f, sizeof f);
    assert_int_equal(ctr("arp.queue_sent"), ARP_QUEUE_LEN);
    assert_int_equal(ctr("arp.queue_frames"), ARP_QUEUE_TOTAL - ARP_QUEUE_LEN);
    spoofed_echo(150, 1);
    assert_int_equal(ctr("arp.queue_frames"), ARP_QUEUE_TOTAL - ARP_QUEUE_LEN + 1);
}

static void arp_packet(uint16_t op, uint8_t host, const struct eth_addr *edst)
{
    uint8_t f[60];
    struct eth_addr mac = {{0x02, 0, 0, 0, 0, host}};
    fx_arp(f, edst, &mac, op, &mac, ipv4_addr_make(10, 0, 0, host), NULL, fx_dut_ip());
    fake_netif_rx(&fk, f, sizeof f);
}

/* The same flood, from more addresses than the table holds: their unanswered
 * resolutions filled it (pending entries could not be evicted) after pushing
 * out the hosts that do answer, whose replies then failed ("table full") until
 * the spoofed ones gave up, again and again for as long as the flood lasted.
 * Unanswered resolutions are now evicted first. */
static void test_arp_unanswered_resolutions_evicted_first(void **state)
{
    (void)state;
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    struct eth_addr mac;
    arp_packet(1, 7, &bc); /* 10.0.0.7 asks for us: learned, resolved */
    assert_true(arp_lookup(&st->arp, ipv4_addr_make(10, 0, 0, 7), plat_now_ns(), &mac));
    for (uint8_t h = 100; h < 100 + 80; h++) /* 80 spoofed sources, table of 64 */
        spoofed_echo(h, 1);
    assert_int_equal(ctr("arp.entries"), 64);
    assert_int_equal(ctr("arp.table_full"), 0);
    assert_true(ctr("arp.evicted") >= 80 - 63);
    /* 10.0.0.7 is still known: its echo is answered at once, not queued. */
    assert_true(arp_lookup(&st->arp, ipv4_addr_make(10, 0, 0, 7), plat_now_ns(), &mac));
    fake_netif_tx_clear(&fk);
    uint8_t f[128], msg[64], data[8] = {0};
    size_t ml = fx_icmp(msg, 8, 0, 0x77u << 16 | 1, data, sizeof data);
    size_t n = fx_eth(f, &fx_dut_mac, &mac, 0x0800);
    n += fx_ipv4(f + n, ipv4_addr_make(10, 0, 0, 7), fx_dut_ip(), 1, 1, 0, 64,
                 (uint16_t)ml);
    memcpy(f + n, msg, ml);
    int64_t queued = ctr("ipv4.tx_queued");
    fake_netif_rx(&fk, f, (uint32_t)(n + ml));
    assert_int_equal(ctr("ipv4.tx_queued"), queued);
    assert_int_equal(fk.ntx, 1);
    assert_memory_equal(fake_netif_tx(&fk, 0, NULL), mac.b, 6);
    /* A host that newly needs resolving still gets an entry. */
    spoofed_echo(250, 1);
    assert_int_equal(ctr("arp.table_full"), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_arp_queues_capped_in_total),
        T(test_arp_queue_total_released_on_resolution),
        T(test_arp_unanswered_resolutions_evicted_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
