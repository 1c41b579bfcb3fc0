/* IPv4 write and IPV4's small operations: fragmentation for every MTU from 68
 * to 1500 (and larger ones with scatter-gather) with payload sizes around each
 * boundary, checked frame by frame (offsets, MF, lengths, shared fresh id, headerf
 * bytes in the first fragment) and end to end (stack B reassembles what stack A
 * wrote); every write error; options; pseudoheader, src, get_ip, mtu; the path
 * MTU table (RFC 1191). */
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

#define PROTO_TEST 253 /* RFC 3692 experimentation */

static struct fake_netif fa, fb;
static struct net_stack *sa, *sb;

/* What B delivered to its default handler (the reassembled datagram). */
static struct {
    int n;
    uint8_t proto;
    struct ipv4_addr src;
    unsigned flags;
    uint32_t len;
    uint8_t data[65536];
} got;

static void on_default(void *ctx, uint8_t proto, const struct ipv4_rxinfo *info,
                       struct view *payload)
{
    (void)ctx;
    got.n++;
    got.proto = proto;
    got.src = info->src;
    got.flags = info->flags;
    got.len = payload->len;
    memcpy(got.data, view_data(payload), payload->len);
}

/* A = 10.0.0.2 (DUT MAC), B = 10.0.0.1 (peer MAC), each knowing the other. */
static void make_pair(uint16_t mtu, int segs)
{
    sa = harness_stack(&fa,
                       &(struct harness_config){.gateway = "10.0.0.254",
                                                .mtu = mtu,
                                                .max_segs = segs ? segs : HARNESS_NO_SEGS,
                                                .static_peer = true,
                                                .tune.limits.reass_max_bytes = 1u << 20});
    sb = harness_stack(&fb,
                       &(struct harness_config){.addr = "10.0.0.1/24",
                                                .mac = &fx_peer_mac,
                                                .mtu = 65535,
                                                .max_segs = 64,
                                                .tune.limits.reass_max_bytes = 1u << 20});
    net_set_default_handler(sb, on_default, NULL);
    memset(&got, 0, sizeof got.n);
    got.n = 0;
}

static int setup(void **state)
{
    (void)state;
    make_pair(1500, 4);
    return 0;
}

static void free_pair(void)
{
    net_stack_destroy(sa);
    net_stack_destroy(sb);
    fake_netif_tx_clear(&fa);
    fake_netif_tx_clear(&fb);
    assert_int_equal(fa.rx_live + fa.tx_live + fb.rx_live + fb.tx_live, 0);
}

static int teardown(void **state)
{
    (void)state;
    free_pair();
    return 0;
}

/* headerf: writes `want` bytes of a recognisable pattern (0xC0 + i). */
struct hf {
    uint32_t want;
    int calls;
    uint32_t seen_len;
};

static uint32_t pattern_headerf(void *ctx, const struct view *hv)
{
    struct hf *h = ctx;
    h->calls++;
    h->seen_len = hv->len;
    for (uint32_t i = 0; i < h->want && i < hv->len; i++)
        view_data(hv)[i] = (uint8_t)(0xc0 + i);
    return h->want;
}

static uint8_t payload[70000];

static void fill_payload(void)
{
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7 + (i >> 8));
}

/* Feeds every frame A sent into B, then forgets them. */
static void a_to_b(void)
{
    for (int i = 0; i < fa.ntx; i++)
        fake_netif_rx(&fb, fa.tx[i].data, fa.tx[i].len);
    fake_netif_tx_clear(&fa);
}

/* Checks A's frames as a fragment train of one datagram; returns its data bytes. */
static uint32_t check_train(uint16_t mtu, uint32_t hdr_bytes, uint16_t *id_out)
{
    uint32_t expect_off = 0;
    uint16_t id = 0;
    for (int i = 0; i < fa.ntx; i++) {
        const uint8_t *f = fa.tx[i].data, *ip = f + 14;
        uint32_t len = fa.tx[i].len;
        assert_true(len >= 14 + 20);
        assert_memory_equal(f, fx_peer_mac.b, 6);
        assert_int_equal(fx_ref_csum(ip, 20), 0);
        uint16_t total = net_rd16(ip + 2), frag = net_rd16(ip + 6);
        if (total + 14u < 60)
            assert_int_equal(len, 60); /* padded, and only then */
        else
            assert_int_equal(len, total + 14u);
        assert_true(total <= mtu);
        assert_int_equal(ip[8], 64);
        assert_int_equal(ip[9], PROTO_TEST);
        if (i == 0)
            id = net_rd16(ip + 4);
        assert_int_equal(net_rd16(ip + 4), id);
        assert_int_equal((frag & 0x1fff) * 8u, expect_off);
        bool mf = frag & 0x2000;
        assert_int_equal(mf, i < fa.ntx - 1);
        if (mf)
            assert_int_equal((total - 20u) % 8, 0);
        if (i == 0)
            for (uint32_t k = 0; k < hdr_bytes; k++)
                assert_int_equal(ip[20 + k], (uint8_t)(0xc0 + k));
        expect_off += total - 20u;
    }
    if (id_out)
        *id_out = id;
    return expect_off;
}

/* Writes hdr_bytes of headerf + plen payload bytes (split into nviews) A -> B and
 * checks the train and B's reassembled copy. */
static void write_and_check(uint16_t mtu, uint32_t hdr_bytes, uint32_t plen, int nviews)
{
    struct hf h = {hdr_bytes, 0, 0};
    struct view v[8];
    uint32_t at = 0;
    for (int i = 0; i < nviews; i++) {
        uint32_t n = i == nviews - 1 ? plen - at : plen / (uint32_t)nviews;
        v[i] = view_of_mem(payload + at, n);
        at += n;
    }
    enum ipv4_err err = ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, hdr_bytes,
                                   pattern_headerf, &h, v, nviews);
    if (err != IPV4_OK)
        fail_msg("mtu %u hdr %u plen %u: %s", mtu, hdr_bytes, plen, ipv4_strerror(err));
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.seen_len, hdr_bytes);
    uint32_t total = check_train(mtu, hdr_bytes, NULL);
    assert_int_equal(total, hdr_bytes + plen);
    got.n = 0;
    a_to_b();
    if (got.n != 1)
        fail_msg("mtu %u plen %u: %d deliveries", mtu, plen, got.n);
    assert_int_equal(got.len, hdr_bytes + plen);
    for (uint32_t k = 0; k < hdr_bytes; k++)
        assert_int_equal(got.data[k], (uint8_t)(0xc0 + k));
    assert_memory_equal(got.data + hdr_bytes, payload, plen);
}

static void test_fragmentation_every_mtu_68_to_1500(void **state)
{
    (void)state;
    fill_payload();
    for (int segs = 0; segs <= 4; segs += 4) {
        free_pair();
        make_pair(1500, segs);
        for (uint16_t mtu = 68; mtu <= 1500; mtu++) {
            assert_int_equal(ipv4_set_mtu(&sa->ip, mtu), 0);
            uint32_t fmax = (mtu - 20u) & ~7u;
            const int32_t around[] = {-1, 0, 1};
            for (int k = 1; k <= 3; k++)
                for (int d = 0; d < 3; d++) {
                    int32_t data = (int32_t)(k * fmax) + around[d];
                    uint32_t plen = (uint32_t)(data - 8);
                    write_and_check(mtu, 8, plen, 1 + (mtu % 3));
                }
            /* Exactly the unfragmented maximum, and one over. */
            write_and_check(mtu, 8, mtu - 28u, 1);
            write_and_check(mtu, 8, mtu - 27u, 2);
        }
    }
}

static void test_fragmentation_large_mtus_scatter_gather(void **state)
{
    (void)state;
    fill_payload();
    const uint16_t mtus[] = {1501, 1502, 1503, 1520,  2000,
                             4096, 9000, 9001, 16384, 65535};
    for (size_t i = 0; i < sizeof mtus / sizeof mtus[0]; i++) {
        free_pair();
        make_pair(mtus[i], 4);
        uint32_t fmax = (mtus[i] - 20u) & ~7u;
        const uint32_t sizes[] = {100,          fmax - 9, fmax - 8, fmax - 7,
                                  2 * fmax - 8, 20000,    65507};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            if (sizes[k] <= 65507)
                write_and_check(mtus[i], 8, sizes[k], 3);
    }
    /* Without scatter-gather, a jumbo MTU still works: frames fit one TX buffer. */
    free_pair();
    make_pair(9000, 0);
    write_and_check(1522, 8, 5000, 2);
    write_and_check(1522, 8, 65507, 1);
}

static void test_65535_limit(void **state)
{
    (void)state;
    fill_payload();
    struct hf h = {8, 0, 0};
    struct view v = view_of_mem(payload, 65507);
    write_and_check(1500, 8, 65507, 1); /* 20 + 8 + 65507 = 65535 */
    v.len = 65508;
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 8,
                                pattern_headerf, &h, &v, 1),
                     IPV4_ETOOBIG);
    /* headerf using less than size: judged on what it used (20 + 0 + 65508 fits). */
    h.want = 0;
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 8,
                                pattern_headerf, &h, &v, 1),
                     IPV4_OK);
    assert_int_equal(check_train(1500, 0, NULL), 65508);
    fake_netif_tx_clear(&fa);
    v.len = 65515;
    assert_int_equal(
        ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 0, NULL, NULL, &v, 1),
        IPV4_OK);
    assert_int_equal(check_train(1500, 0, NULL), 65515);
    fake_netif_tx_clear(&fa);
    v.len = 65516;
    assert_int_equal(
        ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 0, NULL, NULL, &v, 1),
        IPV4_ETOOBIG);
    assert_int_equal(fa.ntx, 0);
    assert_int_equal(net_counter(sa, "ipv4.tx_err_too_big"), 2);
}

static void test_write_errors(void **state)
{
    (void)state;
    fill_payload();
    struct hf h = {8, 0, 0};
    struct view v = view_of_mem(payload, 1473);
    struct ipv4_wopts df = {.dont_fragment = true};
    /* DF: 20 + 8 + 1472 = 1500 fits, one more would fragment. */
    v.len = 1472;
    assert_int_equal(
        ipv4_write(&sa->ip, &df, fx_peer_ip(), PROTO_TEST, 8, pattern_headerf, &h, &v, 1),
        IPV4_OK);
    assert_int_equal(fa.ntx, 1);
    assert_int_equal(net_rd16(fa.tx[0].data + 14 + 6), IPV4_FLAG_DF);
    fake_netif_tx_clear(&fa);
    v.len = 1473;
    assert_int_equal(
        ipv4_write(&sa->ip, &df, fx_peer_ip(), PROTO_TEST, 8, pattern_headerf, &h, &v, 1),
        IPV4_EWOULDFRAG);
    /* size + 20 > MTU is an error even with fragmentation allowed. */
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 1481,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_ETOOBIG);
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 1480,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_OK);
    /* headerf claiming more than it was given. */
    h.want = 9;
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 8,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_EINVAL);
    h.want = 8;
    /* Bad arguments. */
    assert_int_equal(
        ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 0, NULL, NULL, NULL, 1),
        IPV4_EINVAL);
    assert_int_equal(
        ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 0, NULL, NULL, &v, -1),
        IPV4_EINVAL);
    assert_int_equal(ipv4_write(&sa->ip, NULL, ipv4_addr_make(0, 0, 0, 0), PROTO_TEST, 0,
                                NULL, NULL, NULL, 0),
                     IPV4_EINVAL);
    /* No transmit buffer. */
    fa.tx_alloc_limit = fa.tx_allocs;
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 8,
                                pattern_headerf, &h, &v, 1),
                     IPV4_ENOBUFS);
    /* Running out in the middle of a fragment train. */
    fa.tx_alloc_limit = fa.tx_allocs + 1;
    v.len = 3000;
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 8,
                                pattern_headerf, &h, &v, 1),
                     IPV4_ENOBUFS);
    fa.tx_alloc_limit = -1;
    /* The driver refusing the frame. */
    fa.tx_result = NETIF_EDOWN;
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 8,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_ENOBUFS);
    fa.tx_result = NETIF_OK;
    assert_int_equal(net_counter(sa, "ipv4.tx_err_would_frag"), 1);
    assert_int_equal(net_counter(sa, "ipv4.tx_err_inval"), 4);
    assert_int_equal(net_counter(sa, "ipv4.tx_err_no_bufs"), 3);
}

static void test_no_route(void **state)
{
    (void)state;
    struct hf h = {8, 0, 0};
    /* Off-link through the gateway: an ARP request for 10.0.0.254 (nowait). */
    struct ipv4_wopts nw = {.nowait = true};
    fake_netif_tx_clear(&fa);
    assert_int_equal(ipv4_write(&sa->ip, &nw, ipv4_addr_make(8, 8, 8, 8), PROTO_TEST, 8,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_OK);
    assert_int_equal(fa.ntx, 1);
    assert_int_equal(net_rd16(fa.tx[0].data + 12), ETH_TYPE_ARP);
    assert_memory_equal(fa.tx[0].data + 14 + 24, "\x0a\x00\x00\xfe", 4);
    /* Without a gateway, off-link is "no route"; so is ourselves and unconfigured. */
    struct net_config c = {0};
    net_config_parse("10.0.0.2/24", NULL, &c);
    net_configure(sa, &c);
    assert_int_equal(ipv4_write(&sa->ip, &nw, ipv4_addr_make(8, 8, 8, 8), PROTO_TEST, 8,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_ENOROUTE);
    assert_int_equal(ipv4_write(&sa->ip, &nw, fx_dut_ip(), PROTO_TEST, 8, pattern_headerf,
                                &h, NULL, 0),
                     IPV4_ENOROUTE);
    net_config_parse("0.0.0.0/0", NULL, &c);
    net_configure(sa, &c);
    assert_int_equal(ipv4_write(&sa->ip, &nw, fx_peer_ip(), PROTO_TEST, 8,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_ENOROUTE);
    assert_int_equal(net_counter(sa, "ipv4.tx_err_no_route"), 3);
}

static void test_disconnected(void **state)
{
    (void)state;
    ipv4_disconnect(&sa->ip);
    assert_int_equal(
        ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 0, NULL, NULL, NULL, 0),
        IPV4_EDISCONNECTED);
    /* Input is dropped too. */
    fake_netif_rx(&fa, fx_icmp56_frame, 98);
    assert_int_equal(net_counter(sa, "ipv4.drop_disconnected"), 1);
    assert_int_equal(fa.ntx, 0);
    assert_null(sa->ip.reass.slots); /* reassembly memory freed */
    ipv4_disconnect(&sa->ip);        /* twice is harmless */
}

static void test_fresh_id_ttl_options(void **state)
{
    (void)state;
    struct hf h = {4, 0, 0};
    uint16_t id1, id2;
    struct ipv4_wopts o = {.ttl = 7, .tos = 0x20, .src = ipv4_addr_make(10, 0, 0, 9)};
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 4,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_OK);
    check_train(1500, 4, &id1);
    fake_netif_tx_clear(&fa);
    assert_int_equal(ipv4_write(&sa->ip, NULL, fx_peer_ip(), PROTO_TEST, 4,
                                pattern_headerf, &h, NULL, 0),
                     IPV4_OK);
    check_train(1500, 4, &id2);
    assert_int_equal((uint16_t)(id1 + 1), id2);
    fake_netif_tx_clear(&fa);
    assert_int_equal(ipv4_write(&sa->ip, &o, fx_peer_ip(), PROTO_TEST, 4, pattern_headerf,
                                &h, NULL, 0),
                     IPV4_OK);
    const uint8_t *ip = fa.tx[0].data + 14;
    assert_int_equal(ip[8], 7);
    assert_int_equal(ip[1], 0x20);
    assert_memory_equal(ip + 12, "\x0a\x00\x00\x09", 4);
    assert_int_equal(net_rd16(ip + 4), (uint16_t)(id2 + 1));
    assert_int_equal(fx_ref_csum(ip, 20), 0);
}

static void test_broadcast_and_multicast_destinations(void **state)
{
    (void)state;
    struct hf h = {4, 0, 0};
    const struct {
        struct ipv4_addr dst;
        uint8_t mac[6];
    } cases[] = {
        {{0xffffffffu}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {ipv4_addr_make(10, 0, 0, 255), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {ipv4_addr_make(239, 129, 2, 3), {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}},
    };
    for (size_t i = 0; i < 3; i++) {
        fake_netif_tx_clear(&fa);
        assert_int_equal(ipv4_write(&sa->ip, NULL, cases[i].dst, PROTO_TEST, 4,
                                    pattern_headerf, &h, NULL, 0),
                         IPV4_OK);
        assert_int_equal(fa.ntx, 1); /* no ARP */
        assert_memory_equal(fa.tx[0].data, cases[i].mac, 6);
    }
}

static void test_small_operations(void **state)
{
    (void)state;
    uint8_t ph[12];
    struct ipv4_addr out[2] = {{1}, {1}};
    struct ipv4_addr other = ipv4_addr_make(192, 168, 1, 1);
    ipv4_pseudoheader(&sa->ip, NULL, fx_peer_ip(), 17, 0x1234, ph);
    assert_memory_equal(ph, "\x0a\x00\x00\x02\x0a\x00\x00\x01\x00\x11\x12\x34", 12);
    assert_int_equal(
        csum_finish(ipv4_pseudoheader_sum(&sa->ip, NULL, fx_peer_ip(), 17, 0x1234)),
        fx_ref_csum(ph, 12));
    ipv4_pseudoheader(&sa->ip, &other, fx_peer_ip(), 6, 20, ph);
    assert_memory_equal(ph, "\xc0\xa8\x01\x01\x0a\x00\x00\x01\x00\x06\x00\x14", 12);
    assert_true(ipv4_addr_eq(ipv4_src(&sa->ip, fx_peer_ip()), fx_dut_ip()));
    assert_int_equal(ipv4_get_ip(&sa->ip, out, 2), 1);
    assert_true(ipv4_addr_eq(out[0], fx_dut_ip()));
    assert_int_equal(out[1].be, 1); /* only one written */
    assert_int_equal(ipv4_mtu(&sa->ip, fx_peer_ip()), 1480);
    assert_int_equal(ipv4_set_mtu(&sa->ip, 67), -1);
    assert_int_equal(ipv4_set_mtu(&sa->ip, 1501), -1); /* above the link's */
    assert_int_equal(ipv4_set_mtu(&sa->ip, 576), 0);
    assert_int_equal(ipv4_mtu(&sa->ip, fx_peer_ip()), 556);
    /* Unconfigured: 0.0.0.0. */
    struct net_config c = {0};
    net_configure(sa, &c);
    assert_int_equal(ipv4_get_ip(&sa->ip, out, 1), 1);
    assert_true(ipv4_addr_is_any(out[0]));
    assert_string_equal(ipv4_strerror(IPV4_ENOROUTE), "no route");
    assert_string_equal(ipv4_strerror(IPV4_EWOULDFRAG), "would fragment");
    assert_string_equal(ipv4_strerror(IPV4_ETOOBIG), "too big");
    assert_string_equal(ipv4_strerror(IPV4_ENOBUFS), "no buffers");
    assert_string_equal(ipv4_strerror(IPV4_EDISCONNECTED), "disconnected");
    assert_string_equal(ipv4_strerror(IPV4_EINVAL), "invalid argument");
}

static void test_addr_parsing(void **state)
{
    (void)state;
    struct ipv4_addr a;
    unsigned len;
    char buf[IPV4_ADDR_STRLEN];
    assert_int_equal(ipv4_addr_parse("10.0.0.2", &a), 0);
    assert_true(ipv4_addr_eq(a, fx_dut_ip()));
    assert_string_equal(ipv4_addr_fmt(a, buf), "10.0.0.2");
    assert_int_equal(ipv4_addr_parse("255.255.255.255", &a), 0);
    assert_true(ipv4_addr_is_bcast(a));
    const char *bad[] = {"",         "1.2.3",   "1.2.3.4.5", "256.1.1.1", "1..2.3",
                         "1.2.3.4 ", "a.b.c.d", "1.2.3.-4",  "1234.1.1.1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ipv4_addr_parse(bad[i], &a), -1);
    assert_int_equal(ipv4_cidr_parse("192.168.1.7/24", &a, &len), 0);
    assert_int_equal(len, 24);
    assert_int_equal(ipv4_cidr_parse("192.168.1.7", &a, &len), 0);
    assert_int_equal(len, 32);
    assert_int_equal(ipv4_cidr_parse("192.168.1.7/33", &a, &len), -1);
    assert_int_equal(ipv4_cidr_parse("192.168.1.7/", &a, &len), -1);
    assert_int_equal(ipv4_addr_netmask(24).be, ipv4_addr_make(255, 255, 255, 0).be);
    assert_int_equal(ipv4_addr_netmask(0).be, 0);
    assert_int_equal(ipv4_addr_netmask(32).be, 0xffffffffu);
    struct net_config c = {0};
    assert_int_equal(net_config_parse("10.1.2.3/16", "10.1.0.1", &c), 0);
    assert_int_equal(c.prefix_len, 16);
    assert_int_equal(net_config_parse("10.1.2.3/16", "nope", &c), -1);
}

static uint64_t hook_calls, hook_last;
static void on_armed(void *ctx, uint64_t t)
{
    (void)ctx;
    hook_calls++;
    hook_last = t;
}

/* RFC 1191: a path MTU per destination, only ever lowered by a message, never
 * below 68, for ten minutes; the table is bounded and forgets the entry that
 * expires first; the deadline reaches the stack's hook. */
static void test_path_mtu(void **state)
{
    (void)state;
    struct ipv4 *ip = &sa->ip;
    struct ipv4_addr d1 = ipv4_addr_make(192, 168, 7, 1),
                     d2 = ipv4_addr_make(192, 168, 7, 2);
    uint64_t t0 = 5000ull * 1000000000ull;
    host_clock_set(t0);
    hook_calls = 0;
    net_set_deadline_hook(sa, on_armed, NULL);
    assert_int_equal(ipv4_mtu(ip, d1), 1480);
    assert_int_equal(ipv4_next_deadline(ip), UINT64_MAX);
    assert_int_equal(ipv4_pmtu_lower(ip, d1, 1280), 1280);
    assert_int_equal(ipv4_mtu(ip, d1), 1260); /* that destination only */
    assert_int_equal(ipv4_mtu(ip, d2), 1480);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_last, t0 + IPV4_PMTU_TIMEOUT_NS);
    assert_int_equal(net_next_deadline(sa), t0 + IPV4_PMTU_TIMEOUT_NS);
    assert_int_equal(ipv4_pmtu_lower(ip, d1, 1400), 1280); /* never raised */
    assert_int_equal(ipv4_pmtu_lower(ip, d1, 20), 68);     /* never below 68 */
    assert_int_equal(ipv4_path_mtu(ip, d1), 68);
    assert_int_equal(ipv4_pmtu_lower(ip, d2, 1500), 1500); /* not lower: nothing */
    assert_int_equal(net_counter(sa, "ipv4.pmtu_lowered"), 2);
    struct ipv4_pmtu_entry e[4];
    assert_int_equal(ipv4_pmtu_list(ip, e, 4), 1);
    assert_true(ipv4_addr_eq(e[0].dst, d1));
    /* Ten minutes on, the tick forgets it: the link MTU is tried again. */
    host_clock_set(t0 + IPV4_PMTU_TIMEOUT_NS - 1);
    net_tick(sa, plat_now_ns());
    assert_int_equal(ipv4_mtu(ip, d1), 48);
    host_clock_set(t0 + IPV4_PMTU_TIMEOUT_NS);
    assert_int_equal(ipv4_mtu(ip, d1), 1480); /* expired, even before the tick */
    net_tick(sa, plat_now_ns());
    assert_int_equal(net_counter(sa, "ipv4.pmtu_expired"), 1);
    assert_int_equal(ipv4_pmtu_list(ip, e, 4), 0);
    assert_int_equal(ipv4_next_deadline(ip), UINT64_MAX);
    /* A full table forgets the oldest entry. */
    for (int i = 0; i < IPV4_PMTU_ENTRIES + 1; i++) {
        host_clock_advance(1000);
        ipv4_pmtu_lower(ip, ipv4_addr_make(10, 9, 0, (uint8_t)i), (uint16_t)(1000 + i));
    }
    assert_int_equal(net_counter(sa, "ipv4.pmtu_evicted"), 1);
    assert_int_equal(ipv4_pmtu_list(ip, NULL, 0), IPV4_PMTU_ENTRIES);
    assert_int_equal(ipv4_path_mtu(ip, ipv4_addr_make(10, 9, 0, 0)), 1500);
    assert_int_equal(ipv4_path_mtu(ip, ipv4_addr_make(10, 9, 0, 16)), 1016);
    assert_int_equal(ipv4_next_deadline(ip),
                     t0 + IPV4_PMTU_TIMEOUT_NS + 2000 + IPV4_PMTU_TIMEOUT_NS);
    /* A link MTU below the path's wins. */
    assert_int_equal(ipv4_set_mtu(ip, 600), 0);
    assert_int_equal(ipv4_path_mtu(ip, ipv4_addr_make(10, 9, 0, 16)), 600);
    /* RFC 1191 section 7's plateaus, for routers that report no MTU. */
    assert_int_equal(ipv4_pmtu_plateau(1500), 1492);
    assert_int_equal(ipv4_pmtu_plateau(1492), 1006);
    assert_int_equal(ipv4_pmtu_plateau(576), 508);
    assert_int_equal(ipv4_pmtu_plateau(100), 68);
    assert_int_equal(ipv4_pmtu_plateau(60), 68);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_fragmentation_every_mtu_68_to_1500),
        T(test_fragmentation_large_mtus_scatter_gather),
        T(test_65535_limit),
        T(test_write_errors),
        T(test_no_route),
        T(test_disconnected),
        T(test_fresh_id_ttl_options),
        T(test_broadcast_and_multicast_destinations),
        T(test_small_operations),
        T(test_addr_parsing),
        T(test_path_mtu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
