/* Regression tests for what the fuzz harnesses (tests/fuzz/) found, one test per
 * finding, each failing on the code before its fix. The crash inputs themselves
 * are replayed by tests/fuzz/run.sh from tests/fuzz/regress/<harness>/. */
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

static const struct eth_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct eth_addr zero_mac = {{0}};

static int setup(void **state)
{
    (void)state;
    harness_setup(&(struct harness_config){
        .gateway = "10.0.0.1", .clock_ns = 1000 * SEC, .udp_echo = true});
    return 0;
}

/* fuzz_arp: an ARP request whose sender hardware address is all zeros was
 * answered (a reply to 00:00:00:00:00:00) and its sender learned with that MAC,
 * so our datagrams to that address went to the zero MAC. Now a bad sender. */
static void test_arp_zero_sender_mac_dropped(void **state)
{
    (void)state;
    uint8_t f[60];
    struct ipv4_addr h = ipv4_addr_make(10, 0, 0, 9);
    fx_arp(f, &bcast_mac, &zero_mac, 1, &zero_mac, h, NULL, fx_dut_ip());
    fake_netif_rx(&fk, f, sizeof f);
    assert_int_equal(ctr("arp.drop_bad_sender"), 1);
    assert_int_equal(ctr("arp.tx_reply"), 0);
    assert_int_equal(ctr("arp.learned"), 0);
    assert_int_equal(fk.ntx, 0);
    /* A reply with a zero sender does not overwrite a known entry either. */
    struct eth_addr good = {{0x02, 0, 0, 0, 0, 9}}, mac;
    fx_arp(f, &bcast_mac, &good, 1, &good, h, NULL, fx_dut_ip());
    fake_netif_rx(&fk, f, sizeof f);
    assert_int_equal(ctr("arp.learned"), 1);
    fx_arp(f, &fx_dut_mac, &zero_mac, 2, &zero_mac, h, NULL, fx_dut_ip());
    fake_netif_rx(&fk, f, sizeof f);
    assert_int_equal(ctr("arp.drop_bad_sender"), 2);
    assert_true(arp_lookup(&st->arp, h, plat_now_ns(), &mac));
    assert_memory_equal(mac.b, good.b, 6);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_arp_zero_sender_mac_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
