/* TCP on the wire: header check/parse/emit into poison-filled buffers, the
 * checksum against a plain reference (payload views at odd boundaries), options:
 * every kind parsed, NOP/EOL, unknown kinds skipped, wrong lengths ignored, a
 * length running past the end stopping the walk; emission in the SYN layout and
 * with timestamps and SACK blocks (as many as fit), round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/wire/tcp.h"
#include "tests/unit/net_fixtures.c"

#define POISON 0xa5

/* A SYN from a Linux client (captured layout): MSS 1460, SACK-permitted, TS,
 * NOP, WS 7. */
static const uint8_t linux_syn[40] = {
    0x9c, 0x40, 0x00, 0x50, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02,
    0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07};

static uint16_t ref_tcp_csum(struct ipv4_addr s, struct ipv4_addr d, const uint8_t *seg,
                             uint32_t len)
{
    uint8_t buf[2048];
    memcpy(buf, &s.be, 4);
    memcpy(buf + 4, &d.be, 4);
    buf[8] = 0;
    buf[9] = 6;
    net_wr16(buf + 10, (uint16_t)len);
    memcpy(buf + 12, seg, len);
    return fx_ref_csum(buf, 12 + len);
}

static void test_parse_linux_syn(void **state)
{
    (void)state;
    uint8_t seg[40];
    memcpy(seg, linux_syn, 40);
    net_wr16(seg + 16, ref_tcp_csum(fx_peer_ip(), fx_dut_ip(), seg, 40));
    struct view v = view_of_mem(seg, 40);
    struct tcp_repr r;
    assert_int_equal(tcp_header_parse(&v, fx_peer_ip(), fx_dut_ip(), &r), TCP_WIRE_OK);
    assert_int_equal(r.sport, 40000);
    assert_int_equal(r.dport, 80);
    assert_int_equal(r.seq, 0x12345678);
    assert_int_equal(r.flags, TCP_SYN);
    assert_int_equal(r.hdr_len, 40);
    assert_int_equal(r.window, 64240);
    struct tcp_opts o;
    tcp_options_parse(seg + 20, 20, &o);
    assert_int_equal(o.present,
                     TCP_OPTF_MSS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS | TCP_OPTF_WS);
    assert_int_equal(o.mss, 1460);
    assert_int_equal(o.wscale, 7);
    assert_int_equal(o.ts_val, 0x00010203);
    assert_int_equal(o.ts_ecr, 0);
    assert_int_equal(o.bad, 0);
    assert_int_equal(o.unknown, 0);
    /* Our emitter writes exactly this layout. */
    uint8_t out[40];
    memset(out, POISON, sizeof out);
    assert_int_equal(tcp_options_len(&o, true), 20);
    assert_int_equal(tcp_options_emit(&o, true, out, 40), 20);
    assert_memory_equal(out, linux_syn + 20, 20);
    assert_int_equal(out[20], POISON);
}

static void test_check_and_csum_errors(void **state)
{
    (void)state;
    uint8_t seg[40];
    struct tcp_repr r;
    memcpy(seg, linux_syn, 40);
    net_wr16(seg + 16, ref_tcp_csum(fx_peer_ip(), fx_dut_ip(), seg, 40));
    struct view v = view_of_mem(seg, 19);
    assert_int_equal(tcp_header_check(&v), TCP_WIRE_SHORT);
    v = view_of_mem(seg, 39); /* data offset 40 > 39 */
    assert_int_equal(tcp_header_check(&v), TCP_WIRE_BAD_OFF);
    seg[12] = 0x40; /* data offset 16 < 20 */
    v = view_of_mem(seg, 40);
    assert_int_equal(tcp_header_check(&v), TCP_WIRE_BAD_OFF);
    seg[12] = 0xa0;
    assert_int_equal(tcp_header_parse(&v, fx_peer_ip(), fx_dut_ip(), &r), TCP_WIRE_OK);
    seg[30] ^= 0x40;
    assert_int_equal(tcp_header_parse(&v, fx_peer_ip(), fx_dut_ip(), &r),
                     TCP_WIRE_BAD_CSUM);
    seg[30] ^= 0x40;
    /* The pseudoheader counts: another source fails. */
    assert_int_equal(tcp_header_parse(&v, ipv4_addr_make(10, 0, 0, 3), fx_dut_ip(), &r),
                     TCP_WIRE_BAD_CSUM);
}

static void test_emit_round_trip(void **state)
{
    (void)state;
    struct tcp_repr r = {1234, 80,   0xdeadbeef, 0x01020304, TCP_ACK | TCP_PSH | TCP_FIN,
                         32,   4096, 0x1111,     7};
    uint8_t out[24];
    memset(out, POISON, sizeof out);
    tcp_header_emit(&r, out);
    assert_int_equal(out[20], POISON); /* exactly 20 bytes */
    assert_int_equal(out[12], 0x80);
    memset(out + 20, 1, 4);
    struct tcp_repr back;
    uint8_t seg[32];
    memcpy(seg, out, 20);
    memset(seg + 20, 1, 12);
    net_wr16(seg + 16, 0);
    net_wr16(seg + 16, ref_tcp_csum(fx_peer_ip(), fx_dut_ip(), seg, 32));
    struct view v = view_of_mem(seg, 32);
    assert_int_equal(tcp_header_parse(&v, fx_peer_ip(), fx_dut_ip(), &back), TCP_WIRE_OK);
    assert_int_equal(back.sport, r.sport);
    assert_int_equal(back.dport, r.dport);
    assert_int_equal(back.seq, r.seq);
    assert_int_equal(back.ack, r.ack);
    assert_int_equal(back.flags, r.flags);
    assert_int_equal(back.hdr_len, 32);
    assert_int_equal(back.window, r.window);
    assert_int_equal(back.urg, 7);
    char fl[32];
    assert_string_equal(tcp_flags_fmt(r.flags, fl), "FIN,PSH,ACK");
    assert_string_equal(tcp_flags_fmt(0, fl), "-");
}

static void test_checksum_views(void **state)
{
    (void)state;
    uint8_t hdr[32], data[1500], seg[1532];
    for (int i = 0; i < 1500; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    struct tcp_repr r = {9, 10, 11, 12, TCP_ACK, 32, 100, 0, 0};
    tcp_header_emit(&r, hdr);
    memset(hdr + 20, 1, 12);
    /* Three pieces with odd lengths. */
    struct view vs[3] = {view_of_mem(data, 333), view_of_mem(data + 333, 1),
                         view_of_mem(data + 334, 1166)};
    uint16_t c = tcp_checksum(fx_peer_ip(), fx_dut_ip(), hdr, 32, vs, 3);
    memcpy(seg, hdr, 32);
    memcpy(seg + 32, data, 1500);
    assert_int_equal(c, ref_tcp_csum(fx_peer_ip(), fx_dut_ip(), seg, 1532));
    net_wr16(seg + 16, c);
    struct view v = view_of_mem(seg, 1532);
    struct tcp_repr back;
    assert_int_equal(tcp_header_parse(&v, fx_peer_ip(), fx_dut_ip(), &back), TCP_WIRE_OK);
}

static void test_options_odd_cases(void **state)
{
    (void)state;
    struct tcp_opts o;
    /* Unknown kinds are skipped by their length; NOPs anywhere; EOL ends. */
    static const uint8_t a[] = {1, 30, 4, 0xaa, 0xbb, 1, 2, 4, 0x02, 0x00, 0, 2, 4, 0, 0};
    tcp_options_parse(a, sizeof a, &o);
    assert_int_equal(o.present, TCP_OPTF_MSS);
    assert_int_equal(o.mss, 512);
    assert_int_equal(o.unknown, 1);
    assert_int_equal(o.bad, 0);
    /* A known kind with the wrong length is ignored, the walk goes on. */
    static const uint8_t b[] = {2, 3, 5, 3, 3, 9, 8, 6, 0, 0, 0, 0};
    tcp_options_parse(b, sizeof b, &o);
    assert_int_equal(o.present, TCP_OPTF_WS);
    assert_int_equal(o.wscale, 9);
    assert_int_equal(o.bad, 2);
    /* Window scale above 14 is used as 14. */
    static const uint8_t c[] = {3, 3, 200, 0};
    tcp_options_parse(c, sizeof c, &o);
    assert_int_equal(o.wscale, 14);
    /* Length 0 or 1, or past the end: stop (what came before stays). */
    static const uint8_t d[] = {4, 2, 77, 0, 2, 4};
    tcp_options_parse(d, sizeof d, &o);
    assert_int_equal(o.present, TCP_OPTF_SACK_PERM);
    assert_int_equal(o.bad, 1);
    static const uint8_t e[] = {4, 2, 77, 8};
    tcp_options_parse(e, sizeof e, &o);
    assert_int_equal(o.present, TCP_OPTF_SACK_PERM);
    assert_int_equal(o.bad, 1);
    static const uint8_t f[] = {77, 30, 1, 1};
    tcp_options_parse(f, sizeof f, &o);
    assert_int_equal(o.present, 0);
    assert_int_equal(o.bad, 1);
    /* SACK: 1 to 4 blocks; other lengths ignored. */
    uint8_t g[2 + 32] = {5, 34};
    for (int i = 0; i < 8; i++)
        net_wr32(g + 2 + 4 * i, 1000u * (uint32_t)(i + 1));
    tcp_options_parse(g, sizeof g, &o);
    assert_int_equal(o.present, TCP_OPTF_SACK);
    assert_int_equal(o.nsack, 4);
    assert_int_equal(o.sack[3].start, 7000);
    assert_int_equal(o.sack[3].end, 8000);
    g[1] = 14; /* 1.5 blocks */
    tcp_options_parse(g, 14, &o);
    assert_int_equal(o.present, 0);
    assert_int_equal(o.bad, 1);
    /* Empty. */
    tcp_options_parse(g, 0, &o);
    assert_int_equal(o.present, 0);
}

static void test_emit_ts_and_sack(void **state)
{
    (void)state;
    struct tcp_opts o = {0};
    uint8_t out[44];
    o.present = TCP_OPTF_TS | TCP_OPTF_SACK;
    o.ts_val = 1;
    o.ts_ecr = 2;
    o.nsack = 4;
    for (int i = 0; i < 4; i++)
        o.sack[i] = (struct tcp_sack_block){100u * (uint32_t)i, 100u * (uint32_t)i + 50};
    /* With timestamps only 3 blocks fit in 40 bytes. */
    assert_int_equal(tcp_options_len(&o, false), 12 + 4 + 24);
    memset(out, POISON, sizeof out);
    assert_int_equal(tcp_options_emit(&o, false, out, 40), 40);
    struct tcp_opts back;
    tcp_options_parse(out, 40, &back);
    assert_int_equal(back.present, TCP_OPTF_TS | TCP_OPTF_SACK);
    assert_int_equal(back.nsack, 3);
    assert_int_equal(back.ts_val, 1);
    assert_int_equal(back.ts_ecr, 2);
    assert_int_equal(back.sack[2].start, 200);
    /* Without timestamps all four. */
    o.present = TCP_OPTF_SACK;
    assert_int_equal(tcp_options_emit(&o, false, out, 40), 36);
    tcp_options_parse(out, 36, &back);
    assert_int_equal(back.nsack, 4);
    /* Less room: fewer blocks; no room for timestamps: nothing. */
    o.present = TCP_OPTF_TS | TCP_OPTF_SACK;
    assert_int_equal(tcp_options_emit(&o, false, out, 24), 24);
    tcp_options_parse(out, 24, &back);
    assert_int_equal(back.nsack, 1);
    assert_int_equal(tcp_options_emit(&o, false, out, 8), 0);
    /* SYN layouts: the NOPs move with what is offered. */
    o = (struct tcp_opts){0};
    o.present = TCP_OPTF_MSS | TCP_OPTF_SACK_PERM;
    o.mss = 536;
    assert_int_equal(tcp_options_emit(&o, true, out, 40), 8);
    static const uint8_t want[8] = {2, 4, 2, 24, 1, 1, 4, 2};
    assert_memory_equal(out, want, 8);
    o.present = TCP_OPTF_MSS | TCP_OPTF_TS | TCP_OPTF_WS;
    o.wscale = 20;
    assert_int_equal(tcp_options_emit(&o, true, out, 40), 20);
    tcp_options_parse(out, 20, &back);
    assert_int_equal(back.present, TCP_OPTF_MSS | TCP_OPTF_TS | TCP_OPTF_WS);
    assert_int_equal(back.wscale, 14);
    assert_int_equal(tcp_options_emit(&o, true, out, 12), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_linux_syn),
        cmocka_unit_test(test_check_and_csum_errors),
        cmocka_unit_test(test_emit_round_trip),
        cmocka_unit_test(test_checksum_views),
        cmocka_unit_test(test_options_odd_cases),
        cmocka_unit_test(test_emit_ts_and_sack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
