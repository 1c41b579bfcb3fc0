/* Reassembly through the stack: every ordering of 2 to 5 fragments, duplicates
 * (ignored), overlaps (the datagram dropped), holes, timeouts driven by the fake
 * clock and net_tick (ICMP time exceeded when the first fragment was held, and
 * never about an ICMP error), the datagram and byte caps, the 65535 limit,
 * non-final fragments not a multiple of 8, references held by upper layers, and
 * the whole reply to a fragmented 65507-byte echo request. */
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

#define PROTO_TEST 253
#define SEC 1000000000ull

static struct {
    int n;
    uint32_t len;
    unsigned flags;
    uint8_t data[65536];
    bool keep; /* take a reference on the payload */
    struct view kept;
} got;

static void on_default(void *ctx, uint8_t proto, const struct ipv4_rxinfo *info,
                       struct view *payload)
{
    (void)ctx;
    assert_int_equal(proto, PROTO_TEST);
    got.n++;
    got.len = payload->len;
    got.flags = info->flags;
    memcpy(got.data, view_data(payload), payload->len);
    if (got.keep) {
        got.kept = *payload;
        view_ref(&got.kept);
    }
}

static void make(uint32_t dgrams, uint32_t bytes)
{
    harness_setup(&(struct harness_config){
        .clock_ns = 1000 * SEC,
        .static_peer = true,
        .tune.limits = {.reass_max_dgrams = dgrams, .reass_max_bytes = bytes}});
    net_set_default_handler(st, on_default, NULL);
    memset(&got, 0, offsetof(typeof(got), data));
}

static int setup(void **state)
{
    (void)state;
    make(0, 0);
    return 0;
}

static uint8_t dgram[70000];

static void fill(unsigned seed)
{
    for (size_t i = 0; i < sizeof dgram; i++)
        dgram[i] = (uint8_t)(i * 13 + seed + (i >> 9));
}

/* One fragment of the datagram in dgram[]: bytes [off, off + len), MF as given. */
static void frag(uint16_t id, uint32_t off, uint32_t len, bool mf, uint8_t proto)
{
    static uint8_t f[65600];
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), proto, id,
                 (uint16_t)((mf ? 0x2000 : 0) | (off / 8)), 64, (uint16_t)len);
    memcpy(f + n, dgram + off, len);
    fake_netif_rx(&fk, f, (uint32_t)(n + len));
}

static void expect_delivered(uint32_t len)
{
    assert_int_equal(got.n, 1);
    assert_int_equal(got.len, len);
    assert_memory_equal(got.data, dgram, len);
    assert_true(got.flags & IPV4_RX_REASSEMBLED);
    got.n = 0;
}

/* ---------------------------------------------------------------- orderings */

static bool next_perm(int *a, int n)
{
    int i = n - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return false;
    int j = n - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int l = i + 1, r = n - 1; l < r; l++, r--)
        t = a[l], a[l] = a[r], a[r] = t;
    return true;
}

static void test_every_ordering_2_to_5(void **state)
{
    (void)state;
    uint16_t id = 100;
    int perms = 0;
    for (int k = 2; k <= 5; k++) {
        /* Unequal fragments: 8, 16, 24, ... bytes, the last one odd-sized. */
        uint32_t off[6], total = 0;
        for (int i = 0; i < k; i++) {
            off[i] = total;
            total += i == k - 1 ? 13 : 8 * (uint32_t)(i + 1);
        }
        off[k] = total;
        int order[5] = {0, 1, 2, 3, 4};
        do {
            fill((unsigned)id);
            for (int i = 0; i < k; i++) {
                int f = order[i];
                assert_int_equal(got.n, 0); /* nothing before the last one */
                frag(id, off[f], off[f + 1] - off[f], f != k - 1, PROTO_TEST);
            }
            expect_delivered(total);
            id++;
            perms++;
        } while (next_perm(order, k));
    }
    assert_int_equal(perms, 2 + 6 + 24 + 120);
    assert_int_equal(ctr("reass.done"), perms);
    assert_int_equal(ipv4_reass_in_progress(&st->ip.reass), 0);
    assert_int_equal(net_next_deadline(st), UINT64_MAX);
}

/* ---------------------------------------------------------------- dup, overlap */

static void test_duplicates_ignored(void **state)
{
    (void)state;
    fill(1);
    frag(7, 0, 16, true, PROTO_TEST);
    frag(7, 0, 16, true, PROTO_TEST); /* exact duplicate */
    frag(7, 32, 5, false, PROTO_TEST);
    frag(7, 32, 5, false, PROTO_TEST); /* duplicate last */
    frag(7, 16, 16, true, PROTO_TEST);
    expect_delivered(37);
    assert_int_equal(ctr("reass.dup"), 2);
    assert_int_equal(ctr("reass.drop_overlap"), 0);
}

static void test_overlap_drops_datagram(void **state)
{
    (void)state;
    fill(2);
    /* Partial overlap. */
    frag(8, 0, 16, true, PROTO_TEST);
    frag(8, 8, 16, true, PROTO_TEST);
    assert_int_equal(ctr("reass.drop_overlap"), 1);
    frag(8, 24, 4, false, PROTO_TEST); /* would have completed: it cannot now */
    assert_int_equal(got.n, 0);
    /* Inside received data but not an exact copy (spans two fragments). */
    frag(9, 0, 8, true, PROTO_TEST);
    frag(9, 8, 8, true, PROTO_TEST);
    frag(9, 0, 16, true, PROTO_TEST);
    assert_int_equal(ctr("reass.drop_overlap"), 2);
    /* Strictly inside one fragment. */
    frag(10, 0, 24, true, PROTO_TEST);
    frag(10, 8, 8, true, PROTO_TEST);
    assert_int_equal(ctr("reass.drop_overlap"), 3);
    /* A fragment covering more than one received (superset). */
    frag(11, 8, 8, true, PROTO_TEST);
    frag(11, 0, 24, true, PROTO_TEST);
    assert_int_equal(ctr("reass.drop_overlap"), 4);
    assert_int_equal(got.n, 0);
    assert_int_equal(ctr("ipv4.drop_reass"), 4);
}

static void test_inconsistent_ends(void **state)
{
    (void)state;
    fill(3);
    frag(12, 0, 8, true, PROTO_TEST);
    frag(12, 16, 3, false, PROTO_TEST);
    frag(12, 24, 3, false, PROTO_TEST); /* a second, different end */
    assert_int_equal(ctr("reass.drop_inconsistent"), 1);
    frag(13, 16, 3, false, PROTO_TEST);
    frag(13, 24, 8, true, PROTO_TEST); /* data past the end */
    assert_int_equal(ctr("reass.drop_inconsistent"), 2);
    frag(14, 24, 8, true, PROTO_TEST);
    frag(14, 8, 8, false, PROTO_TEST); /* an end before data already held */
    assert_int_equal(ctr("reass.drop_inconsistent"), 3);
    assert_int_equal(got.n, 0);
}

static void test_fragment_lengths(void **state)
{
    (void)state;
    fill(4);
    frag(15, 0, 12, true, PROTO_TEST); /* non-final, not a multiple of 8 */
    frag(15, 0, 0, true, PROTO_TEST);  /* empty */
    assert_int_equal(ctr("reass.drop_bad_len"), 2);
    assert_int_equal(ipv4_reass_in_progress(&st->ip.reass), 0);
    frag(15, 0, 16, true, PROTO_TEST);
    frag(15, 16, 1, false, PROTO_TEST); /* a final fragment may be any length */
    expect_delivered(17);
}

static void test_65535_limit(void **state)
{
    (void)state;
    fill(5);
    frag(16, 65528, 16, false, PROTO_TEST); /* 20 + 65544 */
    frag(17, 65512, 8, false, PROTO_TEST);  /* 20 + 65520: 65540 */
    assert_int_equal(ctr("reass.drop_over_limit"), 2);
    /* Exactly 65535: 20 + 65512 + 3. */
    for (uint32_t off = 0; off < 65512; off += 1480)
        frag(18, off, off + 1480 > 65512 ? 65512 - off : 1480, true, PROTO_TEST);
    frag(18, 65512, 3, false, PROTO_TEST);
    expect_delivered(65515);
    /* A datagram already in progress that grows past the limit is dropped. */
    frag(19, 0, 1480, true, PROTO_TEST);
    frag(19, 65520, 8, true, PROTO_TEST);
    assert_int_equal(ctr("reass.drop_over_limit"), 3);
    assert_int_equal(ipv4_reass_in_progress(&st->ip.reass), 0);
}

/* ---------------------------------------------------------------- timeouts */

static void test_hole_times_out_with_time_exceeded(void **state)
{
    (void)state;
    uint8_t want[128], body[28];
    uint8_t f0[64];
    fill(6);
    uint64_t t0 = plat_now_ns();
    frag(20, 0, 16, true, PROTO_TEST);
    host_clock_advance(5 * SEC);
    frag(20, 32, 7, false, PROTO_TEST); /* [16, 32) missing */
    assert_int_equal(got.n, 0);
    assert_int_equal(net_next_deadline(st), t0 + 30 * SEC); /* from the first fragment */
    host_clock_set(t0 + 30 * SEC - 1);
    net_tick(st, plat_now_ns());
    assert_int_equal(fk.ntx, 0);
    assert_int_equal(ctr("reass.timeout"), 0);
    host_clock_set(t0 + 30 * SEC);
    net_tick(st, plat_now_ns());
    assert_int_equal(ctr("reass.timeout"), 1);
    assert_int_equal(ctr("reass.timeout_first_held"), 1);
    assert_int_equal(ipv4_reass_in_progress(&st->ip.reass), 0);
    /* Time exceeded, code 1, quoting the first fragment's header and 8 bytes. */
    fx_ipv4(f0, fx_peer_ip(), fx_dut_ip(), PROTO_TEST, 20, 0x2000, 64, 16);
    memcpy(body, f0, 20);
    memcpy(body + 20, dgram, 8);
    size_t n = fx_eth(want, &fx_peer_mac, &fx_dut_mac, 0x0800);
    uint16_t id = net_rd16(fk.tx[0].data + 14 + 4);
    n += fx_ipv4(want + n, fx_dut_ip(), fx_peer_ip(), 1, id, 0, 64, 8 + 28);
    n += fx_icmp(want + n, 11, 1, 0, body, 28);
    assert_int_equal(fk.ntx, 1);
    assert_int_equal(fk.tx[0].len, n);
    assert_memory_equal(fk.tx[0].data, want, n);
    assert_int_equal(ctr("icmp.tx_time_exceeded"), 1);
    assert_int_equal(net_next_deadline(st), UINT64_MAX);
}

static void test_timeout_without_first_fragment_is_silent(void **state)
{
    (void)state;
    fill(7);
    frag(21, 8, 8, true, PROTO_TEST);
    frag(21, 24, 3, false, PROTO_TEST);
    host_clock_advance(31 * SEC);
    net_tick(st, plat_now_ns());
    assert_int_equal(ctr("reass.timeout"), 1);
    assert_int_equal(ctr("reass.timeout_first_held"), 0);
    assert_int_equal(fk.ntx, 0);
}

static void test_timeout_of_icmp_error_is_silent(void **state)
{
    (void)state;
    fill(8);
    dgram[0] = 3; /* the datagram is an ICMP destination unreachable */
    frag(22, 0, 16, true, 1);
    host_clock_advance(31 * SEC);
    net_tick(st, plat_now_ns());
    assert_int_equal(ctr("reass.timeout_first_held"), 1);
    assert_int_equal(ctr("icmp.err_suppressed_icmp"), 1);
    assert_int_equal(fk.ntx, 0);
    /* Whereas a fragmented echo request that times out is reported. */
    dgram[0] = 8;
    frag(23, 0, 16, true, 1);
    host_clock_advance(31 * SEC);
    net_tick(st, plat_now_ns());
    assert_int_equal(fk.ntx, 1);
    assert_int_equal(fk.tx[0].data[34], 11);
}

/* ---------------------------------------------------------------- caps */

static void test_datagram_cap_evicts_oldest(void **state)
{
    (void)state;
    harness_destroy();
    make(2, 0);
    fill(9);
    frag(30, 0, 8, true, PROTO_TEST);
    host_clock_advance(1);
    frag(31, 0, 8, true, PROTO_TEST);
    host_clock_advance(1);
    frag(32, 0, 8, true, PROTO_TEST); /* a third: the oldest (30) goes */
    assert_int_equal(ctr("reass.evicted"), 1);
    assert_int_equal(ipv4_reass_in_progress(&st->ip.reass), 2);
    frag(30, 8, 1, false, PROTO_TEST); /* starts 30 anew (and evicts 31) */
    assert_int_equal(got.n, 0);
    frag(32, 8, 2, false, PROTO_TEST);
    expect_delivered(10);
}

static void test_byte_cap(void **state)
{
    (void)state;
    harness_destroy();
    make(4, 3000);
    fill(10);
    frag(40, 0, 1480, true, PROTO_TEST);
    frag(40, 1480, 1480, true, PROTO_TEST); /* 2960 held */
    host_clock_advance(1);
    frag(41, 0, 80, true, PROTO_TEST); /* over 3000: the older datagram goes */
    assert_int_equal(ctr("reass.evicted"), 1);
    assert_int_equal(ipv4_reass_in_progress(&st->ip.reass), 1);
    /* One datagram alone larger than the cap cannot be reassembled. */
    frag(42, 0, 1480, true, PROTO_TEST);
    frag(42, 1480, 1480, true, PROTO_TEST);
    frag(42, 2960, 1480, false, PROTO_TEST);
    assert_int_equal(ctr("reass.drop_mem_limit"), 1);
    assert_int_equal(got.n, 0);
    /* Small ones still work. */
    frag(43, 0, 8, true, PROTO_TEST);
    frag(43, 8, 8, false, PROTO_TEST);
    expect_delivered(16);
}

static void test_reference_held_by_upper_layer(void **state)
{
    (void)state;
    harness_destroy();
    make(1, 0);
    fill(11);
    got.keep = true;
    frag(50, 0, 8, true, PROTO_TEST);
    frag(50, 8, 8, false, PROTO_TEST);
    expect_delivered(16);
    /* The only slot is held: new fragments cannot be stored meanwhile. */
    frag(51, 0, 8, true, PROTO_TEST);
    assert_int_equal(ctr("reass.drop_no_slot"), 1);
    assert_memory_equal(view_data(&got.kept), dgram, 16); /* still intact */
    view_release(&got.kept);
    got.keep = false;
    frag(51, 0, 8, true, PROTO_TEST);
    frag(51, 8, 8, false, PROTO_TEST);
    expect_delivered(16);
    /* Held across disconnect: freed on release, not before (ASan would tell). */
    got.keep = true;
    frag(52, 0, 8, true, PROTO_TEST);
    frag(52, 8, 8, false, PROTO_TEST);
    ipv4_disconnect(&st->ip);
    assert_memory_equal(view_data(&got.kept), dgram, 16);
    view_release(&got.kept);
}

/* ---------------------------------------------------------------- big ping */

static void test_fragmented_65507_echo_gets_whole_reply(void **state)
{
    (void)state;
    static uint8_t msg[65515], back[65515];
    for (size_t i = 0; i < 65507; i++)
        msg[8 + i] = (uint8_t)(i ^ (i >> 8));
    fx_icmp(msg, 8, 0, 0x4321u << 16 | 9, msg + 8, 65507);
    memcpy(dgram, msg, sizeof msg);
    for (uint32_t off = 0; off < sizeof msg; off += 1480) {
        uint32_t len = sizeof msg - off < 1480 ? (uint32_t)sizeof msg - off : 1480;
        frag(60, off, len, off + len < sizeof msg, 1);
    }
    assert_int_equal(ctr("icmp.tx_echo_reply"), 1);
    /* The reply: 45 fragments of one datagram, reassembled here by hand. */
    assert_int_equal(fk.ntx, 45);
    uint32_t total = 0;
    for (int i = 0; i < fk.ntx; i++) {
        const uint8_t *ip = fk.tx[i].data + 14;
        uint16_t tl = net_rd16(ip + 2), fr = net_rd16(ip + 6);
        assert_int_equal(fx_ref_csum(ip, 20), 0);
        assert_true(tl <= 1500);
        memcpy(back + (fr & 0x1fff) * 8, ip + 20, tl - 20u);
        total += tl - 20u;
        assert_int_equal(!!(fr & 0x2000), i < fk.ntx - 1);
    }
    assert_int_equal(total, sizeof msg);
    assert_int_equal(back[0], 0); /* echo reply */
    assert_memory_equal(back + 4, msg + 4, sizeof msg - 4);
    assert_int_equal(fx_ref_csum(back, sizeof back), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, harness_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_every_ordering_2_to_5),
        T(test_duplicates_ignored),
        T(test_overlap_drops_datagram),
        T(test_inconsistent_ends),
        T(test_fragment_lengths),
        T(test_65535_limit),
        T(test_hole_times_out_with_time_exceeded),
        T(test_timeout_without_first_fragment_is_silent),
        T(test_timeout_of_icmp_error_is_silent),
        T(test_datagram_cap_evicts_oldest),
        T(test_byte_cap),
        T(test_reference_held_by_upper_layer),
        T(test_fragmented_65507_echo_gets_whole_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
