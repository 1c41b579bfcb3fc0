/* Wire modules: byte fixtures (the reference frames), parse/emit round trips into
 * poison-filled (0xA5) buffers so an unwritten byte shows, and every malformed
 * case of docs/ipv4.md in the order the checks must run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "net/wire/arp.h"
#include "net/wire/eth.h"
#include "net/wire/icmp.h"
#include "net/wire/ipv4.h"
#include "net/wire/udp.h"
#include "tests/unit/net_fixtures.h"

#define POISON 0xa5

static uint8_t buf[2048];

static struct view mk(const void *src, uint32_t len)
{
    memcpy(buf, src, len);
    return view_of_mem(buf, len);
}

/* ---------------------------------------------------------------- Ethernet */

static void test_eth_parse_fixture(void **state)
{
    (void)state;
    struct view v = mk(fx_icmp56_frame, 98);
    struct eth_repr r;
    assert_true(eth_header_parse(&v, &r));
    assert_memory_equal(r.dst.b, fx_dut_mac.b, 6);
    assert_memory_equal(r.src.b, fx_peer_mac.b, 6);
    assert_int_equal(r.type, ETH_TYPE_IPV4);
    assert_string_equal(eth_type_name(r.type), "ipv4");
    assert_string_equal(eth_type_name(0x1234), "unknown");
}

static void test_eth_emit_round_trip(void **state)
{
    (void)state;
    struct view v = mk(fx_udp64_frame, 106);
    struct eth_repr r;
    assert_true(eth_header_parse(&v, &r));
    uint8_t out[20];
    memset(out, POISON, sizeof out);
    eth_header_emit(&r, out);
    assert_memory_equal(out, fx_udp64_frame, 14);
    assert_int_equal(out[14], POISON); /* exactly 14 bytes written */
}

static void test_eth_short(void **state)
{
    (void)state;
    struct view v = mk(fx_udp64_frame, 13);
    struct eth_repr r;
    assert_false(eth_header_parse(&v, &r));
    v.len = 14;
    assert_true(eth_header_parse(&v, &r));
}

/* ---------------------------------------------------------------- ARP */

static const uint8_t arp_req[28] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,       /* eth/ipv4, request */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10,   0,    0, 1, /* sha, spa */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10,   0,    0, 2, /* tha, tpa */
};

static void test_arp_parse_emit(void **state)
{
    (void)state;
    struct view v = mk(arp_req, 28);
    struct arp_repr r;
    assert_int_equal(arp_packet_parse(&v, &r), ARP_WIRE_OK);
    assert_int_equal(r.op, ARP_OP_REQUEST);
    assert_memory_equal(r.sha.b, fx_peer_mac.b, 6);
    assert_true(ipv4_addr_eq(r.spa, fx_peer_ip()));
    assert_true(ipv4_addr_eq(r.tpa, fx_dut_ip()));
    uint8_t out[30];
    memset(out, POISON, sizeof out);
    arp_packet_emit(&r, out);
    assert_memory_equal(out, arp_req, 28);
    assert_int_equal(out[28], POISON);
    assert_string_equal(arp_op_name(r.op), "request");
    assert_string_equal(arp_op_name(9), "unknown");
}

static void test_arp_malformed(void **state)
{
    (void)state;
    struct arp_repr r;
    struct view v = mk(arp_req, 27);
    assert_int_equal(arp_packet_parse(&v, &r), ARP_WIRE_SHORT);
    v = mk(arp_req, 28);
    buf[1] = 6; /* IEEE 802 */
    assert_int_equal(arp_packet_parse(&v, &r), ARP_WIRE_BAD_HTYPE);
    v = mk(arp_req, 28);
    buf[2] = 0x86, buf[3] = 0xdd;
    assert_int_equal(arp_packet_parse(&v, &r), ARP_WIRE_BAD_PTYPE);
    v = mk(arp_req, 28);
    buf[4] = 8;
    assert_int_equal(arp_packet_parse(&v, &r), ARP_WIRE_BAD_LEN);
    v = mk(arp_req, 28);
    buf[5] = 16;
    assert_int_equal(arp_packet_parse(&v, &r), ARP_WIRE_BAD_LEN);
    v = mk(arp_req, 28);
    buf[7] = 7; /* unknown opcode stays representable */
    assert_int_equal(arp_packet_parse(&v, &r), ARP_WIRE_OK);
    assert_int_equal(r.op, 7);
}

/* ---------------------------------------------------------------- IPv4 */

static struct view ip_of(const uint8_t *frame, uint32_t len)
{
    return mk(frame + 14, len - 14);
}

/* Recomputes the header checksum after a test changed a field. */
static void fix_csum(uint8_t *h)
{
    unsigned hl = (h[0] & 0xfu) * 4;
    h[10] = h[11] = 0;
    net_wr16(h + 10, fx_ref_csum(h, hl < 20 ? 20 : hl));
}

static void test_ipv4_parse_fixture(void **state)
{
    (void)state;
    struct view v = ip_of(fx_icmp56_frame, 98);
    struct ipv4_repr r;
    assert_int_equal(ipv4_header_parse(&v, &r), IPV4_WIRE_OK);
    assert_true(ipv4_addr_eq(r.src, fx_peer_ip()));
    assert_true(ipv4_addr_eq(r.dst, fx_dut_ip()));
    assert_int_equal(r.proto, IPV4_PROTO_ICMP);
    assert_int_equal(r.ttl, 64);
    assert_true(r.df);
    assert_false(r.mf);
    assert_int_equal(r.frag_off, 0);
    assert_int_equal(r.id, 0);
    assert_int_equal(r.hdr_len, 20);
    assert_int_equal(r.payload_len, 64);
}

static void test_ipv4_emit_round_trip(void **state)
{
    (void)state;
    struct view v = ip_of(fx_udp64_frame, 106);
    struct ipv4_repr r;
    assert_int_equal(ipv4_header_parse(&v, &r), IPV4_WIRE_OK);
    uint8_t out[24];
    memset(out, POISON, sizeof out);
    ipv4_header_emit(&r, out);
    assert_memory_equal(out, fx_udp64_frame + 14, 20);
    assert_int_equal(out[20], POISON);
    /* A fragment with MF and an offset: fields survive the round trip. */
    r.mf = true, r.df = false, r.frag_off = 1480, r.id = 0xbeef, r.tos = 0x10;
    ipv4_header_emit(&r, out);
    assert_int_equal(net_rd16(out + 6), IPV4_FLAG_MF | 185);
    assert_int_equal(fx_ref_csum(out, 20), 0);
    struct ipv4_repr r2;
    struct view v2 = view_of_mem(out, 20);
    r.payload_len = 0;
    net_wr16(out + 2, 20); /* total length within this view */
    fix_csum(out);
    assert_int_equal(ipv4_header_parse(&v2, &r2), IPV4_WIRE_OK);
    assert_int_equal(r2.frag_off, 1480);
    assert_true(r2.mf);
    assert_false(r2.df);
    assert_int_equal(r2.id, 0xbeef);
    assert_int_equal(r2.tos, 0x10);
}

static enum ipv4_wire_err parse_buf(uint32_t len)
{
    struct view v = view_of_mem(buf, len);
    struct ipv4_repr r;
    return ipv4_header_parse(&v, &r);
}

static void test_ipv4_malformed_in_order(void **state)
{
    (void)state;
    /* Shorter than 20 bytes. */
    ip_of(fx_icmp56_frame, 98);
    assert_int_equal(parse_buf(19), IPV4_WIRE_SHORT);
    assert_int_equal(parse_buf(0), IPV4_WIRE_SHORT);
    /* Version 6 (and a bad checksum, which must not be what is reported). */
    ip_of(fx_icmp56_frame, 98);
    buf[0] = 0x65;
    assert_int_equal(parse_buf(84), IPV4_WIRE_BAD_VERSION);
    /* IHL < 5. */
    ip_of(fx_icmp56_frame, 98);
    buf[0] = 0x44;
    assert_int_equal(parse_buf(84), IPV4_WIRE_BAD_HDR_LEN);
    /* IHL * 4 > total length (60 > 40). */
    ip_of(fx_icmp56_frame, 98);
    buf[0] = 0x4f;
    net_wr16(buf + 2, 40);
    assert_int_equal(parse_buf(84), IPV4_WIRE_BAD_HDR_LEN);
    /* Total length > frame. */
    ip_of(fx_icmp56_frame, 98);
    assert_int_equal(parse_buf(83), IPV4_WIRE_TRUNCATED);
    net_wr16(buf + 2, 0xffff);
    fix_csum(buf);
    assert_int_equal(parse_buf(84), IPV4_WIRE_TRUNCATED);
    /* Total length below 20 with IHL 5 is a header-length error. */
    ip_of(fx_icmp56_frame, 98);
    net_wr16(buf + 2, 19);
    fix_csum(buf);
    assert_int_equal(parse_buf(84), IPV4_WIRE_BAD_HDR_LEN);
    /* Checksum. */
    ip_of(fx_icmp56_frame, 98);
    buf[8] = 63;
    assert_int_equal(parse_buf(84), IPV4_WIRE_BAD_CSUM);
    /* Frame longer than total length (Ethernet padding) is fine. */
    ip_of(fx_icmp56_frame, 98);
    assert_int_equal(parse_buf(84), IPV4_WIRE_OK);
    memset(buf + 84, 0, 20);
    assert_int_equal(parse_buf(104), IPV4_WIRE_OK);
}

/* A 24-byte header (IHL 6) whose option bytes are opt[0..3], total length 24. */
static enum ipv4_wire_err parse_with_options(const uint8_t *opt, unsigned n, unsigned ihl)
{
    memset(buf, 0, 64);
    fx_ipv4(buf, fx_peer_ip(), fx_dut_ip(), 17, 1, 0, 64, 0);
    buf[0] = (uint8_t)(0x40 | ihl);
    net_wr16(buf + 2, (uint16_t)(ihl * 4));
    memcpy(buf + 20, opt, n);
    fix_csum(buf);
    return parse_buf(ihl * 4);
}

static void test_ipv4_options(void **state)
{
    (void)state;
    const uint8_t nops[] = {1, 1, 1, 0};
    assert_int_equal(parse_with_options(nops, 4, 6), IPV4_WIRE_OK);
    const uint8_t rr[] = {7, 7, 4, 0, 0, 0, 0, 0}; /* record route, len 7, then EOL */
    assert_int_equal(parse_with_options(rr, 8, 7), IPV4_WIRE_OK);
    const uint8_t len0[] = {0x44, 0, 0, 0};
    assert_int_equal(parse_with_options(len0, 4, 6), IPV4_WIRE_BAD_OPTIONS);
    const uint8_t len1[] = {0x44, 1, 0, 0};
    assert_int_equal(parse_with_options(len1, 4, 6), IPV4_WIRE_BAD_OPTIONS);
    const uint8_t over[] = {1, 7, 4, 0}; /* 4-byte-long room, option claims 4 at 1.. */
    assert_int_equal(parse_with_options(over, 4, 6), IPV4_WIRE_BAD_OPTIONS);
    const uint8_t over2[] = {0x44, 5, 0, 0};
    assert_int_equal(parse_with_options(over2, 4, 6), IPV4_WIRE_BAD_OPTIONS);
    const uint8_t exact[] = {0x94, 4, 0, 0}; /* router alert, exactly fits */
    assert_int_equal(parse_with_options(exact, 4, 6), IPV4_WIRE_OK);
    const uint8_t nolen[] = {1, 1, 1, 0x44}; /* last byte starts an option */
    assert_int_equal(parse_with_options(nolen, 4, 6), IPV4_WIRE_BAD_OPTIONS);
}

static void test_ipv4_pseudo_sum(void **state)
{
    (void)state;
    uint8_t ph[12];
    struct ipv4_addr s = fx_peer_ip(), d = fx_dut_ip();
    memcpy(ph, &s.be, 4);
    memcpy(ph + 4, &d.be, 4);
    ph[8] = 0, ph[9] = 17;
    net_wr16(ph + 10, 0x48);
    assert_int_equal(csum_finish(ipv4_pseudo_sum(s, d, 17, 0x48)), fx_ref_csum(ph, 12));
    assert_string_equal(ipv4_proto_name(17), "udp");
    assert_string_equal(ipv4_wire_err_name(IPV4_WIRE_BAD_OPTIONS), "bad_options");
}

/* ---------------------------------------------------------------- ICMP */

static void test_icmp_parse_emit(void **state)
{
    (void)state;
    struct view v = mk(fx_icmp56_frame + 34, 64);
    struct icmp_repr r;
    assert_int_equal(icmp_header_parse(&v, &r), ICMP_WIRE_OK);
    assert_int_equal(r.type, ICMP_ECHO_REQUEST);
    assert_int_equal(r.code, 0);
    assert_int_equal(icmp_echo_id(&r), 0x1234);
    assert_int_equal(icmp_echo_seq(&r), 0);
    assert_int_equal(r.csum, 0xe3b3);
    uint8_t out[10];
    memset(out, POISON, sizeof out);
    icmp_header_emit(&r, out);
    assert_memory_equal(out, fx_icmp56_frame + 34, 8);
    assert_int_equal(out[8], POISON);
    assert_false(icmp_type_is_error(ICMP_ECHO_REQUEST));
    assert_true(icmp_type_is_error(ICMP_DEST_UNREACH));
    assert_true(icmp_type_is_error(ICMP_TIME_EXCEEDED));
    assert_true(icmp_type_is_error(200));
    assert_string_equal(icmp_type_name(11), "time_exceeded");
}

static void test_icmp_malformed(void **state)
{
    (void)state;
    struct icmp_repr r;
    struct view v = mk(fx_icmp56_frame + 34, 7);
    assert_int_equal(icmp_header_parse(&v, &r), ICMP_WIRE_SHORT);
    v = mk(fx_icmp56_frame + 34, 64);
    buf[63] ^= 0x80;
    assert_int_equal(icmp_header_parse(&v, &r), ICMP_WIRE_BAD_CSUM);
    v = mk(fx_icmp56_frame + 34, 63); /* a byte missing */
    assert_int_equal(icmp_header_parse(&v, &r), ICMP_WIRE_BAD_CSUM);
}

/* ---------------------------------------------------------------- UDP */

static void test_udp_parse_emit(void **state)
{
    (void)state;
    struct view v = mk(fx_udp64_frame + 34, 72);
    struct udp_repr r;
    uint64_t data_sum = 0;
    assert_int_equal(udp_header_parse(&v, fx_peer_ip(), fx_dut_ip(), &r, &data_sum),
                     UDP_WIRE_OK);
    /* The data's partial sum, as the receive path hands it to an echo. */
    assert_int_equal(csum_fold(data_sum),
                     csum_fold(csum_add(0, fx_udp64_frame + 42, 64)));
    assert_int_equal(r.sport, 40000);
    assert_int_equal(r.dport, 7);
    assert_int_equal(r.len, 72);
    assert_int_equal(r.csum, 0xb5b1);
    uint8_t out[10];
    memset(out, POISON, sizeof out);
    udp_header_emit(&r, out);
    assert_memory_equal(out, fx_udp64_frame + 34, 8);
    assert_int_equal(out[8], POISON);
    /* Checksum over header (field 0) + payload views split at an odd point. */
    uint8_t hdr[8];
    memcpy(hdr, fx_udp64_frame + 34, 8);
    hdr[6] = hdr[7] = 0;
    struct view pl[2] = {view_of_mem((void *)(fx_udp64_frame + 42), 33),
                         view_of_mem((void *)(fx_udp64_frame + 75), 31)};
    assert_int_equal(udp_checksum(fx_peer_ip(), fx_dut_ip(), hdr, csum_views(0, pl, 2)),
                     0xb5b1);
}

static void test_udp_malformed(void **state)
{
    (void)state;
    struct udp_repr r;
    struct ipv4_addr s = fx_peer_ip(), d = fx_dut_ip();
    struct view v = mk(fx_udp64_frame + 34, 7);
    assert_int_equal(udp_header_parse(&v, s, d, &r, NULL), UDP_WIRE_SHORT);
    v = mk(fx_udp64_frame + 34, 71);
    assert_int_equal(udp_header_parse(&v, s, d, &r, NULL), UDP_WIRE_BAD_LEN);
    v = mk(fx_udp64_frame + 34, 72);
    net_wr16(buf + 4, 7);
    assert_int_equal(udp_header_parse(&v, s, d, &r, NULL), UDP_WIRE_BAD_LEN);
    v = mk(fx_udp64_frame + 34, 72);
    buf[40] ^= 1;
    assert_int_equal(udp_header_parse(&v, s, d, &r, NULL), UDP_WIRE_BAD_CSUM);
    /* Wrong pseudoheader (another destination) fails too. */
    v = mk(fx_udp64_frame + 34, 72);
    assert_int_equal(udp_header_parse(&v, s, ipv4_addr_make(10, 0, 0, 3), &r, NULL),
                     UDP_WIRE_BAD_CSUM);
    /* Checksum 0: not verified. */
    v = mk(fx_udp64_frame + 34, 72);
    buf[40] ^= 1;
    buf[6] = buf[7] = 0;
    assert_int_equal(udp_header_parse(&v, s, d, &r, NULL), UDP_WIRE_OK);
    /* A length field shorter than the IP payload: the datagram is that long. */
    uint8_t dg[64];
    size_t n = fx_udp(dg, s, d, 1, 2, (const uint8_t *)"hello", 5);
    v = mk(dg, (uint32_t)n);
    memset(buf + n, 0xee, 10);
    v.len += 10;
    assert_int_equal(udp_header_parse(&v, s, d, &r, NULL), UDP_WIRE_OK);
    assert_int_equal(r.len, 13);
}

static void test_udp_zero_checksum_sent_as_ffff(void **state)
{
    (void)state;
    struct ipv4_addr s = fx_peer_ip(), d = fx_dut_ip();
    uint8_t hdr[8] = {0, 1, 0, 2, 0, 10, 0, 0};
    uint8_t data[2] = {0, 0};
    /* Pick the data word that makes the one's-complement sum 0xffff. */
    struct view pl = view_of_mem(data, 2);
    uint16_t c0 = udp_checksum(s, d, hdr, csum_view(0, &pl)); /* = ~sum with data 0 */
    net_wr16(data, c0);                                       /* sum becomes 0xffff */
    assert_int_equal(udp_checksum(s, d, hdr, csum_view(0, &pl)), 0xffff);
    uint8_t dg[10];
    memcpy(dg, hdr, 8);
    memcpy(dg + 8, data, 2);
    net_wr16(dg + 6, 0xffff);
    struct view v = view_of_mem(dg, 10);
    struct udp_repr r;
    assert_int_equal(udp_header_parse(&v, s, d, &r, NULL), UDP_WIRE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_parse_fixture),
        cmocka_unit_test(test_eth_emit_round_trip),
        cmocka_unit_test(test_eth_short),
        cmocka_unit_test(test_arp_parse_emit),
        cmocka_unit_test(test_arp_malformed),
        cmocka_unit_test(test_ipv4_parse_fixture),
        cmocka_unit_test(test_ipv4_emit_round_trip),
        cmocka_unit_test(test_ipv4_malformed_in_order),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_pseudo_sum),
        cmocka_unit_test(test_icmp_parse_emit),
        cmocka_unit_test(test_icmp_malformed),
        cmocka_unit_test(test_udp_parse_emit),
        cmocka_unit_test(test_udp_malformed),
        cmocka_unit_test(test_udp_zero_checksum_sent_as_ffff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
