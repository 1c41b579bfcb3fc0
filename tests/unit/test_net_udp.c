/* UDP: binding (one callback per port, no duplicates, a bounded table, unbind),
 * what a callback sees (addresses, ports, exactly the data, the data's sum),
 * sending with a correct checksum (0 goes out as 0xffff) from several views,
 * errors returned to the caller, the echo and discard services, and the log
 * hook (levels, tags, nothing formatted when off). */
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

static struct {
    int n;
    struct udp_rxinfo info;
    uint8_t data[2048];
    uint32_t len;
    void *ctx;
} seen;

static int setup(void **state)
{
    (void)state;
    harness_setup(&(struct harness_config){.static_peer = true});
    memset(&seen, 0, sizeof seen);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_destroy();
    host_set_log_hook(NULL, NULL);
    log_set_level(LOG_INFO);
    return 0;
}

static void record(void *ctx, const struct udp_rxinfo *info, struct view *data)
{
    seen.n++;
    seen.info = *info;
    seen.ctx = ctx;
    seen.len = data->len;
    memcpy(seen.data, view_data(data), data->len);
}

static void udp_in(uint16_t sport, uint16_t dport, const void *data, size_t len)
{
    uint8_t f[2048], dg[2048];
    size_t n = fx_udp(dg, fx_peer_ip(), fx_dut_ip(), sport, dport, data, len);
    n = fx_ip_frame(f, 17, 1, 0, dg, n);
    fake_netif_rx(&fk, f, (uint32_t)n);
}

static void test_bind_rules(void **state)
{
    (void)state;
    int ctx;
    assert_int_equal(udp_bind(&st->udp, 53, record, &ctx), 0);
    assert_int_equal(udp_bind(&st->udp, 53, record, NULL), -1); /* taken */
    assert_int_equal(udp_bind(&st->udp, 0, record, NULL), -1);
    assert_int_equal(udp_bind(&st->udp, 54, NULL, NULL), -1);
    for (uint16_t p = 1000; p < 1000 + UDP_MAX_BINDS - 1; p++)
        assert_int_equal(udp_bind(&st->udp, p, record, NULL), 0);
    assert_int_equal(udp_bind(&st->udp, 2000, record, NULL), -1); /* full */
    udp_unbind(&st->udp, 1003);
    assert_int_equal(udp_bind(&st->udp, 2000, record, NULL), 0);
    udp_in(1, 53, "abc", 3);
    assert_int_equal(seen.n, 1);
    assert_ptr_equal(seen.ctx, &ctx);
    udp_unbind(&st->udp, 53);
    udp_in(1, 53, "abc", 3);
    assert_int_equal(seen.n, 1);
    assert_int_equal(ctr("udp.drop_no_port"), 1);
    assert_int_equal(fk.ntx, 1); /* port unreachable */
    assert_int_equal(net_udp_echo_enable(st), 0);
    assert_int_equal(net_udp_echo_enable(st), -1);
}

static void test_callback_sees_exact_data(void **state)
{
    (void)state;
    uint8_t d[1000];
    for (int i = 0; i < 1000; i++)
        d[i] = (uint8_t)(i * 3);
    assert_int_equal(udp_bind(&st->udp, 9999, record, NULL), 0);
    udp_in(4321, 9999, d, 1000);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.len, 1000);
    assert_memory_equal(seen.data, d, 1000);
    assert_int_equal(seen.info.sport, 4321);
    assert_int_equal(seen.info.dport, 9999);
    assert_true(ipv4_addr_eq(seen.info.src, fx_peer_ip()));
    assert_true(ipv4_addr_eq(seen.info.dst, fx_dut_ip()));
    assert_true(seen.info.data_sum_valid);
    assert_int_equal(csum_fold(seen.info.data_sum), csum_fold(csum_add(0, d, 1000)));
    /* Empty datagram. */
    udp_in(1, 9999, "", 0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.len, 0);
}

static void test_send_checksum_and_views(void **state)
{
    (void)state;
    uint8_t a[301], b[2] = {0xfe, 0xed}, c[700];
    for (int i = 0; i < 301; i++)
        a[i] = (uint8_t)(i + 1);
    for (int i = 0; i < 700; i++)
        c[i] = (uint8_t)(i * 11);
    struct view v[3] = {view_of_mem(a, 301), view_of_mem(b, 2), view_of_mem(c, 700)};
    assert_int_equal(udp_sendto(&st->udp, 1111, fx_peer_ip(), 2222, v, 3, NULL), IPV4_OK);
    assert_int_equal(fk.ntx, 1);
    uint8_t want[1100], all[1003];
    memcpy(all, a, 301);
    memcpy(all + 301, b, 2);
    memcpy(all + 303, c, 700);
    size_t n = fx_udp(want, fx_dut_ip(), fx_peer_ip(), 1111, 2222, all, 1003);
    assert_int_equal(fk.tx[0].len, 14 + 20 + n);
    assert_memory_equal(fk.tx[0].data + 34, want, n);
    assert_int_equal(ctr("udp.tx"), 1);
}

static void test_zero_checksum_goes_out_as_ffff(void **state)
{
    (void)state;
    uint8_t d[2] = {0, 0}, dg[16];
    struct view v = view_of_mem(d, 2);
    /* Find the data word that makes the sum 0xffff (checksum 0). */
    fx_udp(dg, fx_dut_ip(), fx_peer_ip(), 1, 2, d, 2);
    uint16_t c = net_rd16(dg + 6);
    net_wr16(d, c == 0xffff ? 0 : c);
    assert_int_equal(udp_sendto(&st->udp, 1, fx_peer_ip(), 2, &v, 1, NULL), IPV4_OK);
    assert_int_equal(net_rd16(fk.tx[0].data + 34 + 6), 0xffff);
    /* And it verifies (0xffff is the other zero of one's complement). */
    struct view dv = view_of_mem(fk.tx[0].data + 34, 10);
    struct udp_repr r;
    assert_int_equal(udp_header_parse(&dv, fx_dut_ip(), fx_peer_ip(), &r, NULL),
                     UDP_WIRE_OK);
}

static void test_send_errors_returned(void **state)
{
    (void)state;
    static uint8_t big[65508];
    struct view v = view_of_mem(big, sizeof big);
    assert_int_equal(udp_sendto(&st->udp, 1, fx_peer_ip(), 2, &v, 1, NULL), IPV4_ETOOBIG);
    v.len = 65507;
    assert_int_equal(udp_sendto(&st->udp, 1, fx_peer_ip(), 2, &v, 1, NULL), IPV4_OK);
    assert_int_equal(fk.ntx, 45);
    v.len = 2000;
    struct udp_send_opts o = {.ip = {.dont_fragment = true}};
    assert_int_equal(udp_sendto(&st->udp, 1, fx_peer_ip(), 2, &v, 1, &o),
                     IPV4_EWOULDFRAG);
    assert_int_equal(udp_sendto(&st->udp, 1, ipv4_addr_make(1, 1, 1, 1), 2, &v, 1, NULL),
                     IPV4_ENOROUTE);
    ipv4_disconnect(&st->ip);
    assert_int_equal(udp_sendto(&st->udp, 1, fx_peer_ip(), 2, &v, 1, NULL),
                     IPV4_EDISCONNECTED);
    assert_int_equal(ctr("udp.tx_errors"), 4);
}

static void test_services(void **state)
{
    (void)state;
    assert_int_equal(net_udp_discard_enable(st), 0);
    udp_in(5, 9, "hello", 5);
    udp_in(5, 9, "!", 1);
    assert_int_equal(fk.ntx, 0);
    assert_int_equal(ctr("svc.discard_rx"), 2);
    assert_int_equal(ctr("svc.discard_bytes"), 6);
    assert_int_equal(net_udp_echo_enable(st), 0);
    udp_in(5, 7, "ping", 4);
    assert_int_equal(fk.ntx, 1);
    assert_memory_equal(fk.tx[0].data + 42, "ping", 4);
    assert_int_equal(net_rd16(fk.tx[0].data + 34), 7);
    assert_int_equal(net_rd16(fk.tx[0].data + 36), 5);
    assert_int_equal(fx_ref_csum(fk.tx[0].data + 14, 20), 0);
    /* The echo's checksum reuses the data sum: still right without one incoming. */
    uint8_t f[128], dg[32];
    size_t n = fx_udp(dg, fx_peer_ip(), fx_dut_ip(), 6, 7, (const uint8_t *)"pong", 4);
    dg[6] = dg[7] = 0;
    n = fx_ip_frame(f, 17, 2, 0, dg, n);
    fake_netif_rx(&fk, f, (uint32_t)n);
    uint8_t want[32];
    fx_udp(want, fx_dut_ip(), fx_peer_ip(), 7, 6, (const uint8_t *)"pong", 4);
    assert_memory_equal(fk.tx[1].data + 34, want, 12);
}

/* ---------------------------------------------------------------- log lines */

static struct {
    int n;
    int level;
    char line[200];
} lg;

static void hook(void *arg, int level, const char *line, size_t len)
{
    (void)arg;
    lg.n++;
    lg.level = level;
    snprintf(lg.line, sizeof lg.line, "%.*s", (int)len, line);
}

/* net/ logs through kernel/log.h: formatted only when the level lets the line
 * through, with the time stamp and the tag in front. */
static void test_log_lines(void **state)
{
    (void)state;
    uint8_t f[128];
    memset(&lg, 0, sizeof lg);
    memcpy(f, fx_icmp56_frame, 98);
    net_wr16(f + 12, 0x86dd);
    host_clock_set(1500000000ull);
    host_set_log_hook(hook, NULL);
    log_set_level(LOG_DEBUG);
    fake_netif_rx(&fk, f, 98);
    assert_int_equal(lg.n, 1);
    assert_int_equal(lg.level, LOG_DEBUG);
    assert_string_equal(lg.line, "[    1.500000] eth: dropped ethertype 0x86dd (ipv6)\n");
    log_set_level(LOG_INFO); /* debug lines off */
    fake_netif_rx(&fk, f, 98);
    assert_int_equal(lg.n, 1);
    struct net_config c = {0};
    net_config_parse("10.0.0.5/8", "10.0.0.1", &c);
    net_configure(st, &c);
    assert_int_equal(lg.n, 2);
    assert_int_equal(lg.level, LOG_INFO);
    assert_string_equal(lg.line,
                        "[    1.500000] net: fake0: 10.0.0.5/8 gateway 10.0.0.1\n");
    assert_string_equal(log_level_name(LOG_WARN), "warn");
    assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
    assert_int_equal(log_level_parse("verbose"), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_bind_rules),
        T(test_callback_sees_exact_data),
        T(test_send_checksum_and_views),
        T(test_zero_checksum_goes_out_as_ffff),
        T(test_send_errors_returned),
        T(test_services),
        T(test_log_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
