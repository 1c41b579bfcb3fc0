/* ICMP: echo replies whose checksum (updated incrementally) equals a from-scratch
 * one on random requests and on the +0/-0 corner cases; errors only under the
 * rules (never about ICMP errors, broadcasts, non-initial fragments, martian
 * sources) and under the token-bucket rate limit on the fake clock; the ping API
 * with a thread awaiting the reply (RTT, TTL, size), timeouts, send errors and a
 * fragmented ping. */
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

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)

static int setup(void **state)
{
    (void)state;
    harness_setup(&(struct harness_config){
        .clock_ns = T0, .fresh_scheduler = true, .static_peer = true});
    return 0;
}

/* ---------------------------------------------------------------- echo */

/* An echo request frame from the peer with the given rest and data. */
static size_t echo_request(uint8_t *f, uint32_t rest, const uint8_t *data, size_t len)
{
    static uint8_t msg[2048];
    fx_icmp(msg, 8, 0, rest, data, len);
    return fx_ip_frame(f, 1, 1, 0, msg, 8 + len);
}

/* Feeds it and checks the reply against one built from scratch. */
static void check_echo(uint32_t rest, const uint8_t *data, size_t len)
{
    static uint8_t f[2100], want[2100];
    size_t n = echo_request(f, rest, data, len);
    fake_netif_tx_clear(&fk);
    uint16_t id = st->ip.next_id;
    fake_netif_rx(&fk, f, (uint32_t)n);
    size_t w = fx_eth(want, &fx_peer_mac, &fx_dut_mac, 0x0800);
    w += fx_ipv4(want + w, fx_dut_ip(), fx_peer_ip(), 1, id, 0, 64, (uint16_t)(8 + len));
    w += fx_icmp(want + w, 0, 0, rest, data, len);
    assert_int_equal(fk.ntx, 1);
    uint32_t got_len = fk.tx[0].len;
    assert_int_equal(got_len, w < 60 ? 60 : w);
    if (memcmp(fk.tx[0].data, want, w) != 0)
        fail_msg("echo reply differs: rest %08x len %zu csum got %04x want %04x", rest,
                 len, net_rd16(fk.tx[0].data + 36), net_rd16(want + 36));
}

static void test_echo_reply_checksums(void **state)
{
    (void)state;
    uint8_t data[1400];
    srand(7);
    for (int i = 0; i < 3000; i++) {
        size_t len = (size_t)(rand() % 1400);
        for (size_t k = 0; k < len; k++)
            data[k] = (uint8_t)rand();
        check_echo((uint32_t)rand(), data, len);
    }
    /* All zero but the type: the reply sums to +0 and needs 0xffff. */
    memset(data, 0, sizeof data);
    check_echo(0, data, 0);
    check_echo(0, data, 56);
    /* The request's checksum at the awkward values: steer it with the data. */
    const uint16_t targets[] = {0x0000, 0x0001, 0x07ff, 0x0800, 0x0801,
                                0xf7fe, 0xf7ff, 0xf800, 0xfffe};
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        memset(data, 0x11, 16);
        data[14] = data[15] = 0;
        uint8_t msg[32];
        fx_icmp(msg, 8, 0, 0x01020304, data, 16);
        uint16_t c = net_rd16(msg + 2);
        /* Adding d to the data subtracts d from the checksum (one's complement). */
        uint32_t d = (uint32_t)c + (uint16_t)~targets[t];
        d = (d & 0xffff) + (d >> 16);
        net_wr16(data + 14, (uint16_t)d);
        fx_icmp(msg, 8, 0, 0x01020304, data, 16);
        if (net_rd16(msg + 2) == targets[t])
            check_echo(0x01020304, data, 16);
    }
    assert_int_equal(ctr("icmp.drop_bad_csum"), 0);
}

/* ---------------------------------------------------------------- errors */

/* UDP from the peer to a closed port; a new id each time. */
static void udp_to_closed(uint16_t id)
{
    uint8_t f[128], dg[32];
    size_t n = fx_udp(dg, fx_peer_ip(), fx_dut_ip(), 1234, 4444, (const uint8_t *)"x", 1);
    n = fx_ip_frame(f, 17, id, 0, dg, n);
    fake_netif_rx(&fk, f, (uint32_t)n);
}

static void test_rate_limit(void **state)
{
    (void)state;
    for (uint16_t i = 0; i < 15; i++)
        udp_to_closed(i);
    assert_int_equal(fk.ntx, ICMP_BURST_DEFAULT); /* the burst */
    assert_int_equal(ctr("icmp.err_ratelimited"), 5);
    /* One token per 1 s / rate. */
    host_clock_advance(SEC / ICMP_RATE_DEFAULT - 1);
    udp_to_closed(20);
    assert_int_equal(fk.ntx, ICMP_BURST_DEFAULT);
    host_clock_advance(1);
    udp_to_closed(21);
    assert_int_equal(fk.ntx, ICMP_BURST_DEFAULT + 1);
    /* A long pause refills the bucket to the burst, not beyond. */
    host_clock_advance(100 * SEC);
    for (uint16_t i = 0; i < 15; i++)
        udp_to_closed((uint16_t)(30 + i));
    assert_int_equal(fk.ntx, 2 * ICMP_BURST_DEFAULT + 1);
    assert_int_equal(ctr("icmp.tx_port_unreach"), 2 * ICMP_BURST_DEFAULT + 1);
}

/* A received datagram described by its header bytes, for icmp_send_error. */
static bool try_error(struct ipv4_addr src, uint8_t proto, uint16_t frag, unsigned flags,
                      const uint8_t *payload, uint32_t plen)
{
    static uint8_t hdr[20];
    fx_ipv4(hdr, src, fx_dut_ip(), proto, 1, frag, 64, (uint16_t)plen);
    struct ipv4_rxinfo info = {src,   fx_dut_ip(),         proto, 64, 0,
                               flags, view_of_mem(hdr, 20)};
    struct view pl = view_of_mem((void *)payload, plen);
    return icmp_send_error(&st->icmp, 3, 3, 0, &info, &pl);
}

static void test_error_rules(void **state)
{
    (void)state;
    const uint8_t echo[8] = {8, 0, 0, 0, 0, 0, 0, 0},
                  unreach[8] = {3, 1, 0, 0, 0, 0, 0, 0};
    const uint8_t udp[8] = {0, 1, 0, 2, 0, 8, 0, 0};
    assert_true(try_error(fx_peer_ip(), 17, 0, 0, udp, 8));
    assert_true(try_error(fx_peer_ip(), 1, 0, 0, echo, 8)); /* about a query: fine */
    assert_false(try_error(fx_peer_ip(), 1, 0, 0, unreach, 8));
    assert_false(try_error(fx_peer_ip(), 1, 0, 0, echo, 0)); /* no type to judge: no */
    assert_int_equal(ctr("icmp.err_suppressed_icmp"), 2);
    assert_false(try_error(fx_peer_ip(), 17, 0, IPV4_RX_BCAST, udp, 8));
    assert_int_equal(ctr("icmp.err_suppressed_bcast"), 1);
    assert_false(try_error(fx_peer_ip(), 17, 185, 0, udp, 8));   /* offset 1480 */
    assert_true(try_error(fx_peer_ip(), 17, 0x2000, 0, udp, 8)); /* first fragment: ok */
    assert_int_equal(ctr("icmp.err_suppressed_frag"), 1);
    assert_false(try_error(ipv4_addr_make(0, 0, 0, 0), 17, 0, 0, udp, 8));
    assert_false(try_error(ipv4_addr_make(224, 0, 0, 5), 17, 0, 0, udp, 8));
    assert_false(try_error(ipv4_addr_make(127, 0, 0, 1), 17, 0, 0, udp, 8));
    assert_int_equal(ctr("icmp.err_suppressed_src"), 3);
    assert_int_equal(fk.ntx, 3);
    /* Quoted: header and at most 8 bytes; short payloads quoted whole. */
    const uint8_t four[4] = {9, 9, 9, 9};
    fake_netif_tx_clear(&fk);
    assert_true(try_error(fx_peer_ip(), 17, 0, 0, four, 4));
    assert_int_equal(net_rd16(fk.tx[0].data + 16), 20 + 8 + 20 + 4);
    assert_int_equal(fx_ref_csum(fk.tx[0].data + 34, 8 + 20 + 4), 0);
}

static void test_received_errors_counted(void **state)
{
    (void)state;
    uint8_t f[128], msg[64], body[28] = {0x45};
    size_t n = fx_icmp(msg, 3, 4, 1400, body, 28); /* frag needed */
    n = fx_ip_frame(f, 1, 9, 0, msg, n);
    fake_netif_rx(&fk, f, (uint32_t)n);
    n = fx_icmp(msg, 11, 0, 0, body, 28);
    n = fx_ip_frame(f, 1, 10, 0, msg, n);
    fake_netif_rx(&fk, f, (uint32_t)n);
    n = fx_icmp(msg, 13, 0, 0, body, 12); /* timestamp: not handled */
    n = fx_ip_frame(f, 1, 11, 0, msg, n);
    fake_netif_rx(&fk, f, (uint32_t)n);
    assert_int_equal(ctr("icmp.rx_dest_unreach"), 1);
    assert_int_equal(ctr("icmp.rx_time_exceeded"), 1);
    assert_int_equal(ctr("icmp.rx_other"), 1);
    assert_int_equal(fk.ntx, 0);          /* nothing answers an error */
    fake_netif_rx(&fk, f, 14 + 20 + 7);   /* truncated datagram: dropped at IP */
    n = fx_ip_frame(f, 1, 12, 0, msg, 7); /* 7-byte ICMP message */
    fake_netif_rx(&fk, f, (uint32_t)n);
    assert_int_equal(ctr("icmp.drop_short"), 1);
}

/* ---------------------------------------------------------------- ping */

static struct {
    struct ipv4_addr dst;
    uint32_t size;
    uint64_t timeout;
    enum icmp_ping_status status;
    enum ipv4_err err;
    struct icmp_ping_result res;
    bool done;
} pg;

static void pinger(void *arg)
{
    (void)arg;
    pg.status = net_ping(st, pg.dst, 7, pg.size, pg.timeout, &pg.res, &pg.err);
    pg.done = true;
}

static struct thread *start_ping(struct ipv4_addr dst, uint32_t size, uint64_t timeout)
{
    memset(&pg, 0, sizeof pg);
    pg.dst = dst;
    pg.size = size;
    pg.timeout = timeout;
    struct thread *t = thread_spawn("ping", pinger, NULL, 0);
    assert_non_null(t);
    return t;
}

/* Answers every echo request fragment train A sent so far, after `delay`. */
static void answer(uint64_t delay, uint8_t ttl)
{
    static uint8_t req[70000], f[1600];
    uint32_t total = 0;
    for (int i = 0; i < fk.ntx; i++) {
        const uint8_t *ip = fk.tx[i].data + 14;
        assert_int_equal(ip[9], 1);
        uint16_t tl = net_rd16(ip + 2), fr = net_rd16(ip + 6);
        memcpy(req + (fr & 0x1fff) * 8, ip + 20, tl - 20u);
        total += tl - 20u;
    }
    fake_netif_tx_clear(&fk);
    assert_int_equal(req[0], 8);
    assert_int_equal(fx_ref_csum(req, total), 0);
    req[0] = 0;
    net_wr16(req + 2, 0);
    net_wr16(req + 2, fx_ref_csum(req, total));
    host_clock_advance(delay);
    for (uint32_t off = 0; off < total; off += 1480) {
        uint32_t len = total - off < 1480 ? total - off : 1480;
        size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
        n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 1, 77,
                     (uint16_t)((off + len < total ? 0x2000 : 0) | off / 8), ttl,
                     (uint16_t)len);
        memcpy(f + n, req + off, len);
        fake_netif_rx(&fk, f, (uint32_t)(n + len));
    }
}

static void test_ping_reply_gives_rtt(void **state)
{
    (void)state;
    struct thread *t = start_ping(fx_peer_ip(), 56, SEC);
    thread_yield(); /* it sends and waits */
    assert_false(pg.done);
    assert_int_equal(fk.ntx, 1);
    const uint8_t *icmp = fk.tx[0].data + 34;
    assert_int_equal(net_rd16(fk.tx[0].data + 16), 20 + 8 + 56);
    assert_int_equal(net_rd16(icmp + 6), 7); /* seq */
    assert_int_equal(icmp[8 + 5], 5);        /* data pattern */
    answer(3 * MS, 61);
    assert_int_equal(thread_join(t, NULL), 0);
    assert_int_equal(pg.status, ICMP_PING_REPLY);
    assert_int_equal(pg.res.rtt_ns, 3 * MS);
    assert_int_equal(pg.res.ttl, 61);
    assert_int_equal(pg.res.bytes, 56);
    assert_true(ipv4_addr_eq(pg.res.from, fx_peer_ip()));
    assert_int_equal(ctr("icmp.tx_echo_request"), 1);
    assert_int_equal(ctr("icmp.rx_echo_reply"), 1);
}

static void test_ping_fragmented(void **state)
{
    (void)state;
    struct thread *t = start_ping(fx_peer_ip(), 5000, SEC);
    thread_yield();
    assert_int_equal(fk.ntx, 4); /* 5008 bytes in 1480-byte fragments */
    answer(MS, 64);
    assert_int_equal(thread_join(t, NULL), 0);
    assert_int_equal(pg.status, ICMP_PING_REPLY);
    assert_int_equal(pg.res.bytes, 5000);
}

static void test_ping_timeout_and_stray_reply(void **state)
{
    (void)state;
    struct thread *t = start_ping(fx_peer_ip(), 8, 2 * SEC);
    sched_run(); /* nobody answers: the clock idles to the deadline */
    assert_int_equal(thread_join(t, NULL), 0);
    assert_int_equal(pg.status, ICMP_PING_TIMEOUT);
    assert_int_equal(plat_now_ns(), T0 + 2 * SEC);
    /* The late reply matches nothing. */
    answer(0, 64);
    assert_int_equal(ctr("icmp.drop_unmatched_reply"), 1);
}

static void test_ping_send_errors(void **state)
{
    (void)state;
    struct thread *t = start_ping(ipv4_addr_make(8, 8, 8, 8), 8, SEC); /* no gateway */
    assert_int_equal(thread_join(t, NULL), 0);
    assert_int_equal(pg.status, ICMP_PING_SEND_ERROR);
    assert_int_equal(pg.err, IPV4_ENOROUTE);
    t = start_ping(fx_peer_ip(), 65508, SEC);
    assert_int_equal(thread_join(t, NULL), 0);
    assert_int_equal(pg.status, ICMP_PING_BUSY);
    assert_string_equal(icmp_ping_status_name(ICMP_PING_TIMEOUT), "timeout");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_echo_reply_checksums),
        T(test_rate_limit),
        T(test_error_rules),
        T(test_received_errors_counted),
        T(test_ping_reply_gives_rtt),
        T(test_ping_fragmented),
        T(test_ping_timeout_and_stray_reply),
        T(test_ping_send_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
