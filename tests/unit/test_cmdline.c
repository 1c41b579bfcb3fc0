/* Command-line parser: defaults, each key, every kind of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cmdline.h"

static char errs[8][160];
static int nerrs;

static void collect(const char *msg, void *arg)
{
    (void)arg;
    if (nerrs < 8)
        snprintf(errs[nerrs], sizeof errs[0], "%s", msg);
    nerrs++;
}

static int parse(const char *s, struct kconfig *cfg)
{
    nerrs = 0;
    memset(errs, 0, sizeof errs);
    cmdline_defaults(cfg);
    return cmdline_parse(s, cfg, collect, NULL);
}

static void test_defaults(void **state)
{
    (void)state;
    struct kconfig c;
    assert_int_equal(parse("", &c), 0);
    assert_int_equal(c.nic[0].ip, 0x0A000002);
    assert_int_equal(c.nic[0].prefix, 24);
    assert_int_equal(c.nic[0].gw, 0x0A000001);
    assert_int_equal(c.log_level, 2);
    assert_int_equal(c.mode, KMODE_NET);
    assert_int_equal(parse(NULL, &c), 0);
}

static void test_all_keys(void **state)
{
    (void)state;
    struct kconfig c;
    assert_int_equal(parse("/boot/kernel.elf ip=192.168.7.9/16 gw=192.168.0.1 log=debug "
                           "mode=selftest",
                           &c),
                     0);
    assert_int_equal(c.nic[0].ip, 0xC0A80709);
    assert_int_equal(c.nic[0].prefix, 16);
    assert_int_equal(c.nic[0].gw, 0xC0A80001);
    assert_int_equal(c.log_level, 3);
    assert_int_equal(c.mode, KMODE_SELFTEST);
}

static void test_ip_without_prefix_keeps_prefix(void **state)
{
    (void)state;
    struct kconfig c;
    assert_int_equal(parse("ip=10.1.2.3", &c), 0);
    assert_int_equal(c.nic[0].ip, 0x0A010203);
    assert_int_equal(c.nic[0].prefix, 24);
    assert_int_equal(parse("gw=none  \t mode=reflect", &c), 0);
    assert_int_equal(c.nic[0].gw, 0);
    assert_int_equal(c.mode, KMODE_REFLECT);
}

static void test_unknown_key(void **state)
{
    (void)state;
    struct kconfig c;
    assert_int_equal(parse("kernel colour=blue log=warn", &c), 1);
    assert_non_null(strstr(errs[0], "unknown key 'colour'"));
    assert_int_equal(c.log_level, 1); /* the good key still applies */
}

static void test_bad_values_keep_defaults(void **state)
{
    (void)state;
    static const char *bad[] = {
        "ip=10.0.0.256", "ip=10.0.0",
        "ip=10.0.0.1.5", "ip=10..0.1",
        "ip=",           "ip=10.0.0.1/33",
        "ip=10.0.0.1/",  "ip=a.b.c.d",
        "ip=10.0.0.1/x", "gw=1.2.3",
        "log=loud",      "mode=turbo",
        "ip=-1.0.0.1",   "ip=99999999999.0.0.1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct kconfig c;
        assert_int_equal(parse(bad[i], &c), 1);
        assert_non_null(strstr(errs[0], "bad value"));
        struct kconfig d;
        cmdline_defaults(&d);
        assert_int_equal(c.nic[0].ip, d.nic[0].ip);
        assert_int_equal(c.nic[0].prefix, d.nic[0].prefix);
        assert_int_equal(c.nic[0].gw, d.nic[0].gw);
        assert_int_equal(c.log_level, d.log_level);
        assert_int_equal(c.mode, d.mode);
    }
}

static void test_word_without_equals(void **state)
{
    (void)state;
    struct kconfig c;
    /* The first bare word is the kernel path; a later one is an error. */
    assert_int_equal(parse("kernel.elf verbose", &c), 1);
    assert_non_null(strstr(errs[0], "'verbose' is not key=value"));
}

static void test_parse_ipv4(void **state)
{
    (void)state;
    uint32_t a;
    assert_int_equal(cmdline_parse_ipv4("255.255.255.255", &a), 0);
    assert_int_equal(a, 0xFFFFFFFF);
    assert_int_equal(cmdline_parse_ipv4("0.0.0.0", &a), 0);
    assert_int_equal(a, 0);
    assert_int_equal(cmdline_parse_ipv4("1.2.3.4 ", &a), -1);
    assert_int_equal(cmdline_parse_ipv4("1.2.3.", &a), -1);
    assert_string_equal(kmode_name(KMODE_WX), "wx");
    assert_string_equal(kmode_name(KMODE_COUNT), "?");
}

static void test_fault_and_fence(void **state)
{
    (void)state;
    struct kconfig c;
    assert_int_equal(parse("fault=tx-kick fence=io", &c), 0);
    assert_int_equal(c.fault, KFAULT_TX_KICK);
    assert_int_equal(c.fault_at, 1000);
    assert_int_equal(c.fence, KFENCE_IO);
    assert_int_equal(parse("fault=rx-irq@25 fence=cpu", &c), 0);
    assert_int_equal(c.fault, KFAULT_RX_IRQ);
    assert_int_equal(c.fault_at, 25);
    assert_int_equal(c.fence, KFENCE_CPU);
    assert_int_equal(parse("fault=tx-wedge@0", &c), 0);
    assert_int_equal(c.fault, KFAULT_TX_WEDGE);
    assert_int_equal(c.fault_at, 0);
    assert_string_equal(kfault_name(c.fault), "tx-wedge");
    /* Bad values: one error each, defaults kept. */
    assert_int_equal(parse("fault=tx-kick@ fault=nope fault=rx-irq@x fence=mfence", &c),
                     4);
    assert_int_equal(c.fault, KFAULT_NONE);
    assert_int_equal(c.fence, KFENCE_AUTO);
}

static void test_per_nic_addresses(void **state)
{
    (void)state;
    struct kconfig c;
    assert_int_equal(parse("net1.ip=10.0.1.2/25 net1.gw=10.0.1.1 net3.ip=10.9.9.9 "
                           "net0.gw=none",
                           &c),
                     0);
    assert_int_equal(c.nic[0].ip, 0x0A000002); /* net0 keeps its default address */
    assert_int_equal(c.nic[0].gw, 0);
    assert_int_equal(c.nic[1].ip, 0x0A000102);
    assert_int_equal(c.nic[1].prefix, 25);
    assert_int_equal(c.nic[1].gw, 0x0A000101);
    assert_int_equal(c.nic[2].ip, 0); /* unconfigured */
    assert_int_equal(c.nic[3].ip, 0x0A090909);
    assert_int_equal(c.nic[3].prefix, 24);
    assert_int_equal(parse("net4.ip=10.0.4.2 net1.ip=10.0.1", &c), 2);
    assert_int_equal(c.nic[1].ip, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_ip_without_prefix_keeps_prefix),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_bad_values_keep_defaults),
        cmocka_unit_test(test_word_without_equals),
        cmocka_unit_test(test_parse_ipv4),
        cmocka_unit_test(test_fault_and_fence),
        cmocka_unit_test(test_per_nic_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
