/* Routes over several interfaces (net/route.h): the on-link prefix of each
 * configured stack (the longest wins), one default route (the first stack with
 * a gateway), nothing through an unconfigured stack, broadcasts out of the
 * first configured one, and the console's table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "net/route.h"
#include "tests/unit/stack_harness.h"

static struct fake_netif nics[4];
static struct net_stack *s[4];
static const struct eth_addr macs[4] = {{{0x52, 0x54, 0, 0, 0, 1}},
                                        {{0x52, 0x54, 0, 0, 0, 2}},
                                        {{0x52, 0x54, 0, 0, 0, 3}},
                                        {{0x52, 0x54, 0, 0, 0, 4}}};
static const char *const names[4] = {"net0", "net1", "net2", "net3"};

/* net0 10.0.0.2/24 via 10.0.0.1, net1 10.0.1.2/24, net2 unconfigured, net3
 * 10.0.1.130/25 (inside net1's prefix, longer). */
static int setup(void **state)
{
    (void)state;
    static const struct harness_config cfg[4] = {
        {.addr = "10.0.0.2/24", .gateway = "10.0.0.1", .mac = &macs[0]},
        {.addr = "10.0.1.2/24", .mac = &macs[1]},
        {.unconfigured = true, .mac = &macs[2]},
        {.addr = "10.0.1.130/25", .mac = &macs[3]},
    };
    for (int i = 0; i < 4; i++) {
        s[i] = harness_stack(&nics[i], &cfg[i]);
        nics[i].nif.name = names[i];
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        net_stack_destroy(s[i]);
        fake_netif_tx_clear(&nics[i]);
        assert_int_equal(nics[i].rx_live, 0);
        assert_int_equal(nics[i].tx_live, 0);
    }
    return 0;
}

static struct net_stack *pick(const char *dst, int n)
{
    struct ipv4_addr a;
    assert_int_equal(ipv4_addr_parse(dst, &a), 0);
    return net_route_pick(s, n, a);
}

static void test_on_link_first(void **state)
{
    (void)state;
    assert_ptr_equal(pick("10.0.0.1", 4), s[0]);
    assert_ptr_equal(pick("10.0.0.254", 4), s[0]);
    assert_ptr_equal(pick("10.0.1.1", 4), s[1]);
    assert_ptr_equal(pick("10.0.1.127", 4), s[1]);
    /* The longest prefix, whatever the order. */
    assert_ptr_equal(pick("10.0.1.200", 4), s[3]);
    /* Subnet broadcasts are on-link too. */
    assert_ptr_equal(pick("10.0.1.255", 4), s[3]);
    assert_ptr_equal(pick("10.0.0.255", 4), s[0]);
}

static void test_default_route(void **state)
{
    (void)state;
    assert_ptr_equal(net_route_default(s, 4), s[0]);
    assert_ptr_equal(pick("8.8.8.8", 4), s[0]);
    assert_ptr_equal(pick("10.0.2.1", 4), s[0]);
    /* Only the first stack with a gateway is the default: net1 gets one too. */
    struct net_config c = {0};
    assert_int_equal(net_config_parse("10.0.1.2/24", "10.0.1.1", &c), 0);
    net_configure(s[1], &c);
    assert_ptr_equal(pick("8.8.8.8", 4), s[0]);
    /* net0 loses its gateway: net1's is the default now. */
    assert_int_equal(net_config_parse("10.0.0.2/24", NULL, &c), 0);
    net_configure(s[0], &c);
    assert_ptr_equal(pick("8.8.8.8", 4), s[1]);
    assert_ptr_equal(pick("10.0.0.1", 4), s[0]); /* still on-link */
    /* No gateway anywhere: no route off-link. */
    assert_int_equal(net_config_parse("10.0.1.2/24", NULL, &c), 0);
    net_configure(s[1], &c);
    assert_null(pick("8.8.8.8", 4));
    assert_null(net_route_default(s, 4));
}

/* An unconfigured stack holds no route, not even with a gateway set; a stack
 * that loses its address (a lease gone) stops being picked. */
static void test_unconfigured(void **state)
{
    (void)state;
    struct net_config c = {0};
    c.gateway = ipv4_addr_make(10, 0, 2, 1);
    net_configure(s[2], &c);
    assert_ptr_equal(pick("10.0.2.1", 4), s[0]); /* the default, not net2 */
    net_configure(s[0], &(struct net_config){0});
    assert_null(pick("8.8.8.8", 4));
    assert_null(pick("10.0.0.1", 4));
    assert_ptr_equal(pick("10.0.1.1", 4), s[1]);
    assert_null(pick("10.0.1.1", 0));
}

static void test_broadcast(void **state)
{
    (void)state;
    assert_ptr_equal(pick("255.255.255.255", 4), s[0]);
    assert_ptr_equal(pick("224.0.0.1", 4), s[0]);
    net_configure(s[0], &(struct net_config){0});
    assert_ptr_equal(pick("255.255.255.255", 4), s[1]);
    struct net_stack *only[1] = {s[2]};
    assert_null(net_route_pick(only, 1, ipv4_addr_make(255, 255, 255, 255)));
}

static void test_print(void **state)
{
    (void)state;
    struct harness_lines l = {0};
    net_route_print(s, 4, harness_collect, &l);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.text[0], "10.0.0.0/24 dev net0 src 10.0.0.2");
    assert_string_equal(l.text[1], "10.0.1.0/24 dev net1 src 10.0.1.2");
    assert_string_equal(l.text[2], "10.0.1.128/25 dev net3 src 10.0.1.130");
    assert_string_equal(l.text[3], "default via 10.0.0.1 dev net0");
    net_configure(s[0], &(struct net_config){0});
    l.n = 0;
    net_route_print(s, 4, harness_collect, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.text[2], "default none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_on_link_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unconfigured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
