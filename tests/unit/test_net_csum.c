/* Checksums: the word-at-a-time RFC 1071 sum against a plain byte-pair reference
 * on random data for every length 0..2000 and alignment 0..7, view lists split at
 * odd and even points, RFC 1624 incremental updates, and RFC 1071's example. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "net/csum.h"
#include "tests/unit/net_fixtures.h"

static uint8_t rnd[2100];

static void fill_random(unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (uint8_t)rand();
}

static void test_rfc1071_example(void **state)
{
    (void)state;
    /* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(csum_fold(csum_add(0, b, sizeof b)), __builtin_bswap16(0xddf2));
    assert_int_equal(csum_finish(csum_add(0, b, sizeof b)), (uint16_t)~0xddf2);
}

static void test_all_lengths_alignments(void **state)
{
    (void)state;
    fill_random(1);
    for (size_t align = 0; align < 8; align++)
        for (size_t len = 0; len <= 2000; len++) {
            uint16_t want = fx_ref_csum(rnd + align, len);
            uint16_t got = csum_finish(csum_add(0, rnd + align, len));
            if (got != want)
                fail_msg("len %zu align %zu: got %04x want %04x", len, align, got, want);
        }
}

static void test_all_ones_no_overflow(void **state)
{
    (void)state;
    static uint8_t ff[65536];
    memset(ff, 0xff, sizeof ff);
    for (size_t len = 65500; len <= 65536; len++)
        assert_int_equal(csum_finish(csum_add(0, ff, len)), fx_ref_csum(ff, len));
    /* A large starting sum must carry correctly. */
    uint64_t s = csum_add(UINT64_MAX - 1, ff, 4096);
    assert_int_equal(csum_fold(s),
                     csum_fold(csum_combine(UINT64_MAX - 1, csum_add(0, ff, 4096))));
}

static void test_views_split_points(void **state)
{
    (void)state;
    fill_random(2);
    for (uint32_t len = 0; len < 300; len++)
        for (uint32_t a = 0; a <= len; a += 1 + (len / 17))
            for (uint32_t b = a; b <= len; b += 1 + (len / 13)) {
                struct view vs[3] = {view_of_mem(rnd, a), view_of_mem(rnd + a, b - a),
                                     view_of_mem(rnd + b, len - b)};
                uint16_t got = csum_finish(csum_views(0, vs, 3));
                assert_int_equal(got, fx_ref_csum(rnd, len));
            }
}

static void test_incremental_update(void **state)
{
    (void)state;
    fill_random(3);
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = 2 + 2 * (size_t)(rand() % 700);
        size_t at = 2 * (size_t)(rand() % (int)(len / 2));
        uint8_t buf[1400];
        memcpy(buf, rnd + (iter % 64), len);
        uint16_t hc = fx_ref_csum(buf, len);
        uint16_t oldw = (uint16_t)(buf[at] << 8 | buf[at + 1]);
        uint16_t neww = (uint16_t)rand();
        if (iter % 7 == 0)
            neww = (uint16_t)~oldw; /* exercise the 0x0000/0xffff corner */
        buf[at] = (uint8_t)(neww >> 8);
        buf[at + 1] = (uint8_t)neww;
        uint16_t want = fx_ref_csum(buf, len);
        uint16_t got = csum_update16(hc, oldw, neww);
        /* One's complement has two zeros; RFC 1624's form yields the same bits. */
        assert_int_equal(got, want);
    }
}

static void test_update32(void **state)
{
    (void)state;
    uint8_t hdr[20] = {0x45, 0, 0,  84, 0x12, 0x34, 0x40, 0, 64, 1,
                       0,    0, 10, 0,  0,    1,    10,   0, 0,  2};
    uint16_t hc = fx_ref_csum(hdr, 20);
    uint32_t oldv = net_rd32(hdr + 12), newv = 0xc0a80101;
    net_wr32(hdr + 12, newv);
    assert_int_equal(csum_update32(hc, oldv, newv), fx_ref_csum(hdr, 20));
}

static void test_verify_is_zero(void **state)
{
    (void)state;
    fill_random(4);
    uint8_t buf[64];
    memcpy(buf, rnd, 64);
    buf[10] = buf[11] = 0;
    net_wr16(buf + 10, csum_finish(csum_add(0, buf, 64)));
    assert_int_equal(csum_finish(csum_add(0, buf, 64)), 0);
    buf[40] ^= 1;
    assert_int_not_equal(csum_finish(csum_add(0, buf, 64)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_all_lengths_alignments),
        cmocka_unit_test(test_all_ones_no_overflow),
        cmocka_unit_test(test_views_split_points),
        cmocka_unit_test(test_incremental_update),
        cmocka_unit_test(test_update32),
        cmocka_unit_test(test_verify_is_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
