/* The stack end to end through a fake netif: frames in, frames out, compared byte
 * for byte with frames built independently (tests/unit/net_fixtures.c): ARP
 * replies, gratuitous ARP, ICMP echo, UDP echo, port and protocol unreachable,
 * drops with their counters, the reference frames (tests/bench/gen_frames.py), and the
 * console printers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "net/stack.h"
#include "tests/unit/net_fixtures.h"
#include "tests/unit/stack_harness.h"

static const struct eth_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

static int setup(void **state)
{
    (void)state;
    harness_setup(&(struct harness_config){.gateway = "10.0.0.254",
                                           .udp_echo = true,
                                           .udp_discard = true,
                                           .keep_setup_tx = true});
    st->ip.next_id = 0x4242;
    return 0;
}

/* Exactly n frames went out since the last clear. */
static void expect_tx(int n)
{
    if (fk.ntx != n)
        fail_msg("expected %d frames out, got %d", n, fk.ntx);
}

static void expect_frame(int i, const uint8_t *want, uint32_t len)
{
    uint32_t got_len;
    const uint8_t *got = fake_netif_tx(&fk, i, &got_len);
    assert_non_null(got);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
}

/* The peer asks for us: we learn it and answer. */
static void learn_peer(void)
{
    uint8_t f[60];
    struct eth_addr zero = {{0}};
    fx_arp(f, &bcast_mac, &fx_peer_mac, 1, &fx_peer_mac, fx_peer_ip(), &zero,
           fx_dut_ip());
    fake_netif_rx(&fk, f, 42);
    fake_netif_tx_clear(&fk);
}

/* ---------------------------------------------------------------- ARP */

static void test_gratuitous_arp_on_create(void **state)
{
    (void)state;
    uint8_t want[60];
    struct eth_addr zero = {{0}};
    fx_arp(want, &bcast_mac, &fx_dut_mac, 1, &fx_dut_mac, fx_dut_ip(), &zero,
           fx_dut_ip());
    expect_tx(1);
    expect_frame(0, want, 60);
    assert_int_equal(ctr("arp.tx_gratuitous"), 1);
}

static void test_arp_request_gets_reply(void **state)
{
    (void)state;
    uint8_t req[60], want[60];
    struct eth_addr zero = {{0}};
    fake_netif_tx_clear(&fk);
    fx_arp(req, &bcast_mac, &fx_peer_mac, 1, &fx_peer_mac, fx_peer_ip(), &zero,
           fx_dut_ip());
    fake_netif_rx(&fk, req, 42);
    fx_arp(want, &fx_peer_mac, &fx_dut_mac, 2, &fx_dut_mac, fx_dut_ip(), &fx_peer_mac,
           fx_peer_ip());
    expect_tx(1);
    expect_frame(0, want, 60);
    assert_int_equal(ctr("arp.rx_request"), 1);
    assert_int_equal(ctr("arp.tx_reply"), 1);
    assert_int_equal(ctr("arp.learned"), 1);
    struct eth_addr mac;
    assert_true(arp_lookup(&st->arp, fx_peer_ip(), plat_now_ns(), &mac));
    assert_memory_equal(mac.b, fx_peer_mac.b, 6);
}

static void test_arp_request_for_other_ignored(void **state)
{
    (void)state;
    uint8_t req[60];
    struct eth_addr zero = {{0}}, mac;
    fake_netif_tx_clear(&fk);
    fx_arp(req, &bcast_mac, &fx_peer_mac, 1, &fx_peer_mac, fx_peer_ip(), &zero,
           ipv4_addr_make(10, 0, 0, 77));
    fake_netif_rx(&fk, req, 60);
    expect_tx(0);
    assert_int_equal(ctr("arp.learned"), 0);
    assert_false(arp_lookup(&st->arp, fx_peer_ip(), plat_now_ns(), &mac));
    /* A malformed one (IPv6 protocol type) is a counted drop. */
    req[14 + 2] = 0x86, req[14 + 3] = 0xdd;
    fake_netif_rx(&fk, req, 60);
    assert_int_equal(ctr("arp.drop_bad_ptype"), 1);
    expect_tx(0);
}

/* ---------------------------------------------------------------- timer hook */

static int hook_calls;
static uint64_t hook_last;

static void on_deadline(void *ctx, uint64_t t)
{
    assert_ptr_equal(ctx, &hook_calls);
    hook_calls++;
    hook_last = t;
}

/* Every deadline a layer sets reaches the hook, so a timer thread sleeping
 * until net_next_deadline learns of an earlier one: a resolution starting (its
 * retry), ARP resolving (the expiry), a lookup that hands the mapping out (its
 * refresh point, earlier), a first fragment (the reassembly timeout). */
static void test_deadline_hook(void **state)
{
    (void)state;
    uint8_t f[128], arp_rep[60], data[64] = {0};
    net_set_deadline_hook(st, on_deadline, &hook_calls);
    hook_calls = 0;
    assert_int_equal(net_next_deadline(st), UINT64_MAX);
    fake_netif_rx(&fk, fx_icmp56_frame, sizeof fx_icmp56_frame);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_last, net_next_deadline(st));
    fx_arp(arp_rep, &fx_dut_mac, &fx_peer_mac, 2, &fx_peer_mac, fx_peer_ip(),
              &fx_dut_mac, fx_dut_ip());
    fake_netif_rx(&fk, arp_rep, 60);
    assert_int_equal(hook_calls, 2);
    assert_int_equal(hook_last, net_next_deadline(st));
    uint64_t before = net_next_deadline(st);
    struct eth_addr mac;
    assert_true(arp_lookup(&st->arp, fx_peer_ip(), plat_now_ns(), &mac));
    assert_int_equal(hook_calls, 3);
    assert_true(hook_last < before);
    assert_int_equal(hook_last, net_next_deadline(st));
    size_t n = fx_ip_frame(f, 253, 99, 0x2000, data, 16);
    fake_netif_rx(&fk, f, (uint32_t)n);
    assert_int_equal(hook_calls, 4);
    assert_int_equal(hook_last, plat_now_ns() + st->ip.reass.timeout_ns);
    /* Unset: nothing is called. */
    net_set_deadline_hook(st, NULL, NULL);
    n = fx_ip_frame(f, 253, 100, 0x2000, data, 16);
    fake_netif_rx(&fk, f, (uint32_t)n);
    assert_int_equal(hook_calls, 4);
}

/* ---------------------------------------------------------------- ICMP echo */

/* The echo reply we expect to the echo request at req (an Ethernet frame). */
static size_t echo_reply_for(uint8_t *out, const uint8_t *req, size_t req_len,
                             uint16_t id)
{
    uint16_t ip_total = net_rd16(req + 16);
    size_t icmp_len = ip_total - 20u;
    (void)req_len;
    size_t n = fx_eth(out, &fx_peer_mac, &fx_dut_mac, 0x0800);
    n += fx_ipv4(out + n, fx_dut_ip(), fx_peer_ip(), 1, id, 0, 64, (uint16_t)icmp_len);
    n += fx_icmp(out + n, 0, 0, net_rd32(req + 38), req + 42, icmp_len - 8);
    return n;
}

static void test_echo_request_gets_reply(void **state)
{
    (void)state;
    uint8_t want[128];
    learn_peer();
    fake_netif_rx(&fk, fx_icmp56_frame, sizeof fx_icmp56_frame);
    size_t n = echo_reply_for(want, fx_icmp56_frame, 98, 0x4242);
    assert_int_equal(n, 98);
    expect_tx(1);
    expect_frame(0, want, 98);
    assert_int_equal(ctr("icmp.rx_echo_request"), 1);
    assert_int_equal(ctr("icmp.tx_echo_reply"), 1);
    assert_int_equal(ctr("ipv4.delivered"), 1);
}

static void test_echo_to_unknown_peer_is_queued_until_arp_reply(void **state)
{
    (void)state;
    uint8_t want[128], arp_req[60], arp_rep[60];
    struct eth_addr zero = {{0}};
    fake_netif_tx_clear(&fk);
    fake_netif_rx(&fk, fx_icmp56_frame, sizeof fx_icmp56_frame);
    /* Nothing known about 10.0.0.1: an ARP request goes out, the reply waits. */
    fx_arp(arp_req, &bcast_mac, &fx_dut_mac, 1, &fx_dut_mac, fx_dut_ip(), &zero,
           fx_peer_ip());
    expect_tx(1);
    expect_frame(0, arp_req, 60);
    assert_int_equal(ctr("arp.queued"), 1);
    fx_arp(arp_rep, &fx_dut_mac, &fx_peer_mac, 2, &fx_peer_mac, fx_peer_ip(), &fx_dut_mac,
           fx_dut_ip());
    fake_netif_rx(&fk, arp_rep, 60);
    echo_reply_for(want, fx_icmp56_frame, 98, 0x4242);
    expect_tx(2);
    expect_frame(1, want, 98);
    assert_int_equal(ctr("arp.queue_sent"), 1);
}

static void test_echo_with_padding_and_bad_checksum(void **state)
{
    (void)state;
    uint8_t f[160], want[160];
    learn_peer();
    /* 20 bytes of Ethernet padding after the datagram: trimmed, not echoed. */
    memcpy(f, fx_icmp56_frame, 98);
    memset(f + 98, 0x77, 20);
    fake_netif_rx(&fk, f, 118);
    echo_reply_for(want, fx_icmp56_frame, 98, 0x4242);
    expect_tx(1);
    expect_frame(0, want, 98);
    /* A corrupted ICMP payload: checksum fails, no reply. */
    fake_netif_tx_clear(&fk);
    f[60] ^= 0x01;
    fake_netif_rx(&fk, f, 98);
    expect_tx(0);
    assert_int_equal(ctr("icmp.drop_bad_csum"), 1);
    /* A corrupted IP header: dropped at IP. */
    memcpy(f, fx_icmp56_frame, 98);
    f[22] = 1; /* TTL */
    fake_netif_rx(&fk, f, 98);
    expect_tx(0);
    assert_int_equal(ctr("ipv4.drop_bad_csum"), 1);
}

static void test_broadcast_echo_not_answered(void **state)
{
    (void)state;
    uint8_t f[128], icmp[64];
    learn_peer();
    memcpy(icmp, fx_icmp56_frame + 34, 64);
    size_t n = fx_eth(f, &bcast_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), ipv4_addr_make(10, 0, 0, 255), 1, 1, 0, 64, 64);
    memcpy(f + n, icmp, 64);
    fake_netif_rx(&fk, f, (uint32_t)(n + 64));
    expect_tx(0);
    assert_int_equal(ctr("icmp.drop_bcast_echo"), 1);
}

/* ---------------------------------------------------------------- UDP */

static size_t udp_reply_for(uint8_t *out, const uint8_t *req, uint16_t id)
{
    uint16_t ulen = net_rd16(req + 34 + 4);
    size_t n = fx_eth(out, &fx_peer_mac, &fx_dut_mac, 0x0800);
    n += fx_ipv4(out + n, fx_dut_ip(), fx_peer_ip(), 17, id, 0, 64, ulen);
    n += fx_udp(out + n, fx_dut_ip(), fx_peer_ip(), net_rd16(req + 36),
                net_rd16(req + 34), req + 42, ulen - 8u);
    return n;
}

static void test_udp_echo(void **state)
{
    (void)state;
    uint8_t want[128];
    learn_peer();
    fake_netif_rx(&fk, fx_udp64_frame, sizeof fx_udp64_frame);
    size_t n = udp_reply_for(want, fx_udp64_frame, 0x4242);
    assert_int_equal(n, 106);
    expect_tx(1);
    expect_frame(0, want, 106);
    assert_int_equal(ctr("svc.echo_tx"), 1);
    assert_int_equal(ctr("udp.delivered"), 1);
    assert_int_equal(ctr("udp.tx"), 1);
}

static void test_udp_echo_large_is_scatter_gather(void **state)
{
    (void)state;
    uint8_t data[1400], f[1500], want[1500];
    learn_peer();
    for (int i = 0; i < 1400; i++)
        data[i] = (uint8_t)(i * 13);
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 17, 9, 0, 64, 1408);
    n += fx_udp(f + n, fx_peer_ip(), fx_dut_ip(), 5555, 7, data, 1400);
    fake_netif_rx(&fk, f, (uint32_t)n);
    size_t wn = udp_reply_for(want, f, 0x4242);
    expect_tx(1);
    expect_frame(0, want, (uint32_t)wn);
    assert_int_equal(fk.tx[0].nsegs, 1); /* payload from the RX buffer, no copy */
    assert_int_equal(ctr("ipv4.tx_sg"), 1);
}

static void test_udp_no_checksum_and_bad_ones(void **state)
{
    (void)state;
    uint8_t f[128], want[128];
    learn_peer();
    memcpy(f, fx_udp64_frame, 106);
    f[40] = f[41] = 0; /* no checksum: accepted, the reply has one */
    fake_netif_rx(&fk, f, 106);
    udp_reply_for(want, fx_udp64_frame, 0x4242);
    expect_tx(1);
    expect_frame(0, want, 106);
    assert_int_equal(ctr("udp.rx_no_csum"), 1);
    fake_netif_tx_clear(&fk);
    memcpy(f, fx_udp64_frame, 106);
    f[100] ^= 0xff;
    fake_netif_rx(&fk, f, 106);
    assert_int_equal(ctr("udp.drop_bad_csum"), 1);
    memcpy(f, fx_udp64_frame, 106);
    net_wr16(f + 38, 73); /* length field past the datagram */
    fake_netif_rx(&fk, f, 106);
    assert_int_equal(ctr("udp.drop_bad_len"), 1);
    net_wr16(f + 38, 7);
    fake_netif_rx(&fk, f, 106);
    assert_int_equal(ctr("udp.drop_bad_len"), 2);
    expect_tx(0);
}

/* ICMP error toward the peer about the datagram at req (an Ethernet frame). */
static size_t icmp_error_for(uint8_t *out, const uint8_t *req, uint8_t type, uint8_t code,
                             uint16_t id)
{
    uint8_t body[28];
    memcpy(body, req + 14, 28); /* IP header + 8 bytes */
    size_t n = fx_eth(out, &fx_peer_mac, &fx_dut_mac, 0x0800);
    n += fx_ipv4(out + n, fx_dut_ip(), fx_peer_ip(), 1, id, 0, 64, 8 + 28);
    n += fx_icmp(out + n, type, code, 0, body, 28);
    return n;
}

static void test_closed_port_gets_port_unreachable(void **state)
{
    (void)state;
    uint8_t f[128], want[128];
    learn_peer();
    memcpy(f, fx_udp64_frame, 106);
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 17, 77, 0, 64, 72);
    n += fx_udp(f + n, fx_peer_ip(), fx_dut_ip(), 40000, 4444, fx_udp64_frame + 42, 64);
    fake_netif_rx(&fk, f, (uint32_t)n);
    size_t wn = icmp_error_for(want, f, 3, 3, 0x4242);
    assert_int_equal(wn, 14 + 20 + 36);
    expect_tx(1);
    expect_frame(0, want, (uint32_t)wn);
    assert_int_equal(ctr("udp.drop_no_port"), 1);
    assert_int_equal(ctr("icmp.tx_port_unreach"), 1);
}

static void test_unknown_protocol_gets_protocol_unreachable(void **state)
{
    (void)state;
    uint8_t f[128], want[128], junk[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    learn_peer();
    size_t n = fx_ip_frame(f, 99, 5, 0, junk, 16);
    fake_netif_rx(&fk, f, (uint32_t)n);
    size_t wn = icmp_error_for(want, f, 3, 2, 0x4242);
    expect_tx(1);
    expect_frame(0, want, (uint32_t)wn);
    assert_int_equal(ctr("icmp.tx_proto_unreach"), 1);
    /* TCP with its handler taken away: the same. */
    net_set_tcp_handler(st, NULL, NULL);
    fake_netif_tx_clear(&fk);
    n = fx_ip_frame(f, 6, 6, 0, junk, 16);
    fake_netif_rx(&fk, f, (uint32_t)n);
    wn = icmp_error_for(want, f, 3, 2, 0x4243);
    expect_tx(1);
    expect_frame(0, want, (uint32_t)wn);
}

static void test_no_errors_about_broadcast(void **state)
{
    (void)state;
    uint8_t f[128];
    learn_peer();
    /* UDP to a closed port at the subnet broadcast address. */
    size_t n = fx_eth(f, &bcast_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), ipv4_addr_make(10, 0, 0, 255), 17, 3, 0, 64, 12);
    n += fx_udp(f + n, fx_peer_ip(), ipv4_addr_make(10, 0, 0, 255), 1, 4444,
                (const uint8_t *)"abcd", 4);
    fake_netif_rx(&fk, f, (uint32_t)n);
    /* Unicast IP inside a link broadcast frame: no error either. */
    n = fx_eth(f, &bcast_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 17, 4, 0, 64, 12);
    n += fx_udp(f + n, fx_peer_ip(), fx_dut_ip(), 1, 4444, (const uint8_t *)"abcd", 4);
    fake_netif_rx(&fk, f, (uint32_t)n);
    /* UDP echo to the limited broadcast: not echoed. */
    n = fx_eth(f, &bcast_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), ipv4_addr_make(255, 255, 255, 255), 17, 5, 0, 64,
                 12);
    n += fx_udp(f + n, fx_peer_ip(), ipv4_addr_make(255, 255, 255, 255), 1, 7,
                (const uint8_t *)"abcd", 4);
    fake_netif_rx(&fk, f, (uint32_t)n);
    expect_tx(0);
    assert_int_equal(ctr("icmp.err_suppressed_bcast"), 2);
    assert_int_equal(ctr("svc.echo_ignored_bcast"), 1);
}

/* ---------------------------------------------------------------- filters */

static void test_filters_and_drops(void **state)
{
    (void)state;
    uint8_t f[128];
    learn_peer();
    struct eth_addr other = {{0x02, 0, 0, 0, 0, 0x99}};
    /* Another host's MAC. */
    memcpy(f, fx_icmp56_frame, 98);
    memcpy(f, other.b, 6);
    fake_netif_rx(&fk, f, 98);
    assert_int_equal(ctr("eth.drop_not_ours"), 1);
    /* IPv6 ethertype. */
    memcpy(f, fx_icmp56_frame, 98);
    net_wr16(f + 12, 0x86dd);
    fake_netif_rx(&fk, f, 98);
    assert_int_equal(ctr("eth.drop_ethertype"), 1);
    /* Runt frame. */
    fake_netif_rx(&fk, fx_icmp56_frame, 13);
    assert_int_equal(ctr("eth.drop_short"), 1);
    /* Another IP address (right MAC). */
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), ipv4_addr_make(10, 0, 0, 3), 1, 1, 0, 64, 64);
    memcpy(f + n, fx_icmp56_frame + 34, 64);
    fake_netif_rx(&fk, f, (uint32_t)(n + 64));
    assert_int_equal(ctr("ipv4.drop_not_ours"), 1);
    /* A multicast group we did not join, then one we did. */
    n = fx_eth(f, &bcast_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), ipv4_addr_make(239, 1, 2, 3), 17, 1, 0, 1, 12);
    n += fx_udp(f + n, fx_peer_ip(), ipv4_addr_make(239, 1, 2, 3), 1, 9,
                (const uint8_t *)"abcd", 4);
    fake_netif_rx(&fk, f, (uint32_t)n);
    assert_int_equal(ctr("ipv4.drop_not_ours"), 2);
    assert_int_equal(ipv4_join(&st->ip, ipv4_addr_make(239, 1, 2, 3)), 0);
    struct eth_addr gm = eth_addr_of_ipv4_mcast(ipv4_addr_make(239, 1, 2, 3));
    memcpy(f, gm.b, 6);
    fake_netif_rx(&fk, f, (uint32_t)n);
    assert_int_equal(ctr("svc.discard_rx"), 1);
    assert_int_equal(ctr("eth.rx_mcast"), 1);
    /* Martian source (multicast). */
    n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, ipv4_addr_make(224, 0, 0, 1), fx_dut_ip(), 17, 1, 0, 64, 12);
    n += fx_udp(f + n, ipv4_addr_make(224, 0, 0, 1), fx_dut_ip(), 1, 9,
                (const uint8_t *)"abcd", 4);
    fake_netif_rx(&fk, f, (uint32_t)n);
    assert_int_equal(ctr("ipv4.drop_bad_src"), 1);
    expect_tx(0);
}

static void test_ip_header_malformed_counters(void **state)
{
    (void)state;
    uint8_t f[128];
    struct {
        int off;
        uint8_t val;
        const char *counter;
    } cases[] = {
        {14, 0x65, "ipv4.drop_bad_version"}, {14, 0x44, "ipv4.drop_bad_hdr_len"},
        {17, 0x13, "ipv4.drop_bad_hdr_len"}, {17, 0x55, "ipv4.drop_truncated"},
        {24, 0x00, "ipv4.drop_bad_csum"},
    };
    learn_peer();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(f, fx_icmp56_frame, 98);
        f[cases[i].off] = cases[i].val;
        int64_t before = ctr(cases[i].counter);
        fake_netif_rx(&fk, f, 98);
        assert_int_equal(ctr(cases[i].counter), before + 1);
    }
    fake_netif_rx(&fk, fx_icmp56_frame, 14 + 19);
    assert_int_equal(ctr("ipv4.drop_short"), 1);
    /* Options with a zero length, checksum fixed so only the option is wrong. */
    memset(f, 0, sizeof f);
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 17, 1, 0, 64, 16);
    f[n] = 0x46;
    f[n + 20] = 0x44; /* timestamp option, length 0 */
    net_wr16(f + n + 10, 0);
    net_wr16(f + n + 10, fx_ref_csum(f + n, 24));
    fake_netif_rx(&fk, f, (uint32_t)(n + 36));
    assert_int_equal(ctr("ipv4.drop_bad_options"), 1);
    expect_tx(0);
}

/* ---------------------------------------------------------------- reference frames */

/* tests/bench/gen_frames.py, in C: ICMP echo (56 data bytes) and UDP (size bytes to
 * port 7). */
static size_t ref_icmp(uint8_t *f, unsigned seq)
{
    uint8_t payload[56], msg[64];
    net_wr32(payload, 1700000000u + seq / 1000);
    net_wr32(payload + 4, (seq % 1000) * 1000);
    for (int k = 0; k < 48; k++)
        payload[8 + k] = (uint8_t)(0x10 + k);
    fx_icmp(msg, 8, 0, 0x1234u << 16 | (seq & 0xffff), payload, 56);
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 1, (uint16_t)seq, 0x4000, 64, 64);
    memcpy(f + n, msg, 64);
    return n + 64;
}

static size_t ref_udp(uint8_t *f, unsigned seq, size_t size)
{
    uint8_t payload[1400];
    memcpy(payload, "ECHO", 4);
    net_wr32(payload + 4, seq);
    for (size_t k = 0; k + 8 < size; k++)
        payload[8 + k] = (uint8_t)((seq + k) * 7 + 3);
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 17, (uint16_t)seq, 0x4000, 64,
                 (uint16_t)(8 + size));
    n += fx_udp(f + n, fx_peer_ip(), fx_dut_ip(), 40000, 7, payload, size);
    return n;
}

static void test_reference_generator_matches_fixtures(void **state)
{
    (void)state;
    uint8_t f[1500];
    assert_int_equal(ref_icmp(f, 0), 98);
    assert_memory_equal(f, fx_icmp56_frame, 98);
    assert_int_equal(ref_udp(f, 0, 64), 106);
    assert_memory_equal(f, fx_udp64_frame, 106);
    assert_int_equal(ref_udp(f, 0, 1400), 1442);
}

static void test_reference_frames_get_exact_replies(void **state)
{
    (void)state;
    uint8_t f[1500], want[1500];
    learn_peer();
    uint16_t id = 0x4242;
    for (unsigned seq = 0; seq < 50; seq++) {
        for (int kind = 0; kind < 3; kind++) {
            size_t n =
                kind == 0 ? ref_icmp(f, seq) : ref_udp(f, seq, kind == 1 ? 64 : 1400);
            fake_netif_tx_clear(&fk);
            fake_netif_rx(&fk, f, (uint32_t)n);
            size_t wn =
                kind == 0 ? echo_reply_for(want, f, n, id) : udp_reply_for(want, f, id);
            assert_int_equal(wn, n); /* same length as the request */
            expect_tx(1);
            expect_frame(0, want, (uint32_t)wn);
            id++;
        }
    }
    assert_int_equal(ctr("icmp.tx_echo_reply"), 50);
    assert_int_equal(ctr("svc.echo_tx"), 100);
}

/* ---------------------------------------------------------------- console */

static void test_console_printers(void **state)
{
    (void)state;
    static struct harness_lines l;
    learn_peer();
    fake_netif_rx(&fk, fx_icmp56_frame, 98);
    l.n = 0;
    net_stats_print(st, NULL, harness_collect, &l);
    assert_true(l.n > 60);
    assert_true(harness_has_line(&l, "icmp.tx_echo_reply=1"));
    assert_true(harness_has_line(&l, "ipv4.rx=1"));
    assert_true(harness_has_line(&l, "arp.learned=1"));
    assert_true(harness_has_line(&l, "reass.timeout=0"));
    assert_true(harness_has_line(&l, "eth.rx_frames=2"));
    for (int i = 0; i < l.n; i++) /* every line is name=value */
        assert_non_null(strchr(l.text[i], '='));
    int lines = l.n;
    l.n = 0; /* another interface's stack: the same lines behind its name */
    net_stats_print(st, "net1", harness_collect, &l);
    assert_int_equal(l.n, lines);
    assert_true(harness_has_line(&l, "net1.eth.rx_frames=2"));
    assert_true(harness_has_line(&l, "net1.svc.echo_rx=0"));
    for (int i = 0; i < l.n; i++)
        assert_memory_equal(l.text[i], "net1.", 5);
    l.n = 0;
    net_arp_print(st, harness_collect, &l);
    assert_int_equal(l.n, 2);
    assert_non_null(strstr(l.text[1], "10.0.0.1"));
    assert_non_null(strstr(l.text[1], "02:00:00:00:00:01"));
    assert_non_null(strstr(l.text[1], "resolved"));
    l.n = 0;
    net_ifconfig_print(st, harness_collect, &l);
    assert_true(harness_has_line(
        &l, "    inet 10.0.0.2/24 broadcast 10.0.0.255 gateway 10.0.0.254"));
    assert_true(harness_has_line(&l, "    ether 52:54:00:12:34:56"));
    assert_int_equal(net_counter(st, "nope.x"), -1);
    assert_int_equal(net_counter(st, "ipv4.nope"), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_gratuitous_arp_on_create),
        T(test_arp_request_gets_reply),
        T(test_arp_request_for_other_ignored),
        T(test_deadline_hook),
        T(test_echo_request_gets_reply),
        T(test_echo_to_unknown_peer_is_queued_until_arp_reply),
        T(test_echo_with_padding_and_bad_checksum),
        T(test_broadcast_echo_not_answered),
        T(test_udp_echo),
        T(test_udp_echo_large_is_scatter_gather),
        T(test_udp_no_checksum_and_bad_ones),
        T(test_closed_port_gets_port_unreachable),
        T(test_unknown_protocol_gets_protocol_unreachable),
        T(test_no_errors_about_broadcast),
        T(test_filters_and_drops),
        T(test_ip_header_malformed_counters),
        T(test_reference_generator_matches_fixtures),
        T(test_reference_frames_get_exact_replies),
        T(test_console_printers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
