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

static int teardown(void **state)
{
    (void)state;
    harness_destroy();
    return 0;
}

static size_t arp_frame(uint8_t *f, const struct eth_addr *edst, uint16_t op,
                        const struct eth_addr *sha, struct ipv4_addr spa,
                        struct ipv4_addr tpa)
{
    memset(f, 0, 60);
    fx_eth(f, edst, sha, 0x0806);
    uint8_t *p = f + 14;
    net_wr16(p, 1);
    net_wr16(p + 2, 0x0800);
    p[4] = 6, p[5] = 4;
    net_wr16(p + 6, op);
    memcpy(p + 8, sha->b, 6);
    memcpy(p + 14, &spa.be, 4);
    memcpy(p + 24, &tpa.be, 4);
    return 60;
}

/* fuzz_arp: an ARP request whose sender hardware address is all zeros was
 * answered (a reply to 00:00:00:00:00:00) and its sender learned with that MAC,
 * so our datagrams to that address went to the zero MAC. Now a bad sender. */
static void test_arp_zero_sender_mac_dropped(void **state)
{
    (void)state;
    uint8_t f[60];
    struct ipv4_addr h = ipv4_addr_make(10, 0, 0, 9);
    arp_frame(f, &bcast_mac, 1, &zero_mac, h, fx_dut_ip());
    fake_netif_rx(&fk, f, sizeof f);
    assert_int_equal(ctr("arp.drop_bad_sender"), 1);
    assert_int_equal(ctr("arp.tx_reply"), 0);
    assert_int_equal(ctr("arp.learned"), 0);
    assert_int_equal(fk.ntx, 0);
    /* A reply with a zero sender does not overwrite a known entry either. */
    struct eth_addr good = {{0x02, 0, 0, 0, 0, 9}}, mac;
    arp_frame(f, &bcast_mac, 1, &good, h, fx_dut_ip());
    fake_netif_rx(&fk, f, sizeof f);
    assert_int_equal(ctr("arp.learned"), 1);
    arp_frame(f, &fx_dut_mac, 2, &zero_mac, h, fx_dut_ip());
    fake_netif_rx(&fk, f, sizeof f);
    assert_int_equal(ctr("arp.drop_bad_sender"), 2);
    assert_true(arp_lookup(&st->arp, h, plat_now_ns(), &mac));
    assert_memory_equal(mac.b, good.b, 6);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_arp_zero_sender_mac_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
