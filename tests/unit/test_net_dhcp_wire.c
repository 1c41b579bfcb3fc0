/* The DHCP wire module (net/wire/dhcp.h) against hand-built messages: a server's
 * OFFER written out byte by byte (RFC 2131 figure 1, RFC 2132 options), the
 * client's DISCOVER as it must appear on the wire, round trips of every option,
 * option overload (file before sname), RFC 3396 concatenation, PAD/END, unknown
 * options, and every malformed case with its error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "net/wire/dhcp.h"

/* op htype hlen hops | xid | secs flags | ciaddr | yiaddr | siaddr | giaddr |
 * chaddr (16). */
static const uint8_t offer_head[44] = {
    0x02, 0x01, 0x06, 0x00,                   /* BOOTREPLY, Ethernet, 6, 0 hops */
    0x39, 0x03, 0xf3, 0x26,                   /* xid */
    0x00, 0x00, 0x80, 0x00,                   /* secs 0, broadcast flag */
    0x00, 0x00, 0x00, 0x00,                   /* ciaddr */
    0xc0, 0xa8, 0x01, 0x64,                   /* yiaddr 192.168.1.100 */
    0xc0, 0xa8, 0x01, 0x01,                   /* siaddr 192.168.1.1 */
    0x00, 0x00, 0x00, 0x00,                   /* giaddr */
    0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42, 0, 0, /* chaddr */
    0,    0,    0,    0,    0,    0,    0, 0,
};

static const uint8_t offer_opts[] = {
    0x63, 0x82, 0x53, 0x63,                         /* magic cookie */
    53,   1,    2,                                  /* DHCPOFFER */
    1,    4,    255,  255,  255,  0,                /* subnet mask */
    58,   4,    0,    0,    0x07, 0x08,             /* T1 1800 */
    59,   4,    0,    0,    0x0c, 0x4e,             /* T2 3150 */
    51,   4,    0,    0,    0x0e, 0x10,             /* lease 3600 */
    54,   4,    192,  168,  1,    1,                /* server id */
    3,    4,    192,  168,  1,    1,                /* router */
    6,    8,    192,  168,  1,    1,    8, 8, 8, 8, /* DNS */
    26,   2,    0x05, 0xdc,                         /* MTU 1500 */
    12,   4,    'h',  'o',  's',  't',              /* host name: not ours */
    255,                                            /* END */
};

static const struct eth_addr client_mac = {{0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42}};

/* The offer into m (zeroed sname/file); returns its length. */
static uint32_t build_offer(uint8_t *m)
{
    memset(m, 0, 600);
    memcpy(m, offer_head, sizeof offer_head);
    memcpy(m + 236, offer_opts, sizeof offer_opts);
    return 236 + sizeof offer_opts;
}

/* A reply head (copy of the offer's) and the given option bytes after the
 * cookie; returns the length. */
static uint32_t with_opts(uint8_t *m, const uint8_t *opts, uint32_t n)
{
    memset(m, 0, 600);
    memcpy(m, offer_head, sizeof offer_head);
    memcpy(m + 236, "\x63\x82\x53\x63", 4);
    memcpy(m + 240, opts, n);
    return 240 + n;
}

static enum dhcp_wire_err parse(const uint8_t *m, uint32_t len, struct dhcp_repr *r)
{
    struct view v = view_of_mem((void *)m, len);
    return dhcp_parse(&v, r);
}

static struct ipv4_addr ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return ipv4_addr_make(a, b, c, d);
}

static void assert_ip(struct ipv4_addr got, struct ipv4_addr want)
{
    assert_int_equal(got.be, want.be);
}

/* ---------------------------------------------------------------- parse */

static void test_parse_offer(void **state)
{
    (void)state;
    uint8_t m[600];
    struct dhcp_repr r;
    uint32_t len = build_offer(m);
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.op, DHCP_OP_REPLY);
    assert_int_equal(r.xid, 0x3903f326);
    assert_int_equal(r.flags, DHCP_FLAG_BROADCAST);
    assert_int_equal(r.secs, 0);
    assert_ip(r.ciaddr, ip(0, 0, 0, 0));
    assert_ip(r.yiaddr, ip(192, 168, 1, 100));
    assert_ip(r.siaddr, ip(192, 168, 1, 1));
    assert_memory_equal(r.chaddr.b, client_mac.b, 6);
    assert_int_equal(r.msg_type, DHCP_OFFER);
    assert_ip(r.subnet_mask, ip(255, 255, 255, 0));
    assert_int_equal(r.t1_secs, 1800);
    assert_int_equal(r.t2_secs, 3150);
    assert_int_equal(r.lease_secs, 3600);
    assert_ip(r.server_id, ip(192, 168, 1, 1));
    assert_int_equal(r.nrouters, 1);
    assert_ip(r.routers[0], ip(192, 168, 1, 1));
    assert_int_equal(r.ndns, 2);
    assert_ip(r.dns[1], ip(8, 8, 8, 8));
    assert_int_equal(r.mtu, 1500);
    uint32_t want = DHCP_HAS_MSG_TYPE | DHCP_HAS_SUBNET_MASK | DHCP_HAS_T1 | DHCP_HAS_T2 |
                    DHCP_HAS_LEASE_TIME | DHCP_HAS_SERVER_ID | DHCP_HAS_ROUTER |
                    DHCP_HAS_DNS | DHCP_HAS_MTU;
    assert_int_equal(r.present, want);
    assert_int_equal(dhcp_get_xid(m), 0x3903f326);
    struct view v = view_of_mem(m, len);
    assert_int_equal(dhcp_check(&v), DHCP_WIRE_OK);
}

/* dhcp_check looks at the fixed part and the cookie only. */
static void test_check_reads_no_options(void **state)
{
    (void)state;
    uint8_t m[600];
    static const uint8_t bad[] = {51, 200};
    uint32_t len = with_opts(m, bad, sizeof bad);
    struct view v = view_of_mem(m, len);
    struct dhcp_repr r;
    assert_int_equal(dhcp_check(&v), DHCP_WIRE_OK);
    assert_int_equal(dhcp_parse(&v, &r), DHCP_WIRE_TRUNCATED);
}

/* RFC 2131 4.1: options, then file, then sname; 52 counts only in options. */
static void test_overload(void **state)
{
    (void)state;
    uint8_t m[600];
    struct dhcp_repr r;
    static const uint8_t opts[] = {53, 1, 5, 52, 1, 3, 255};
    uint32_t len = with_opts(m, opts, sizeof opts);
    static const uint8_t file[] = {51, 4, 0, 0,  0, 120, 54, 4,  10, 0, 0,
                                   1,  3, 4, 10, 0, 0,   1,  52, 1,  1, 255};
    static const uint8_t sname[] = {0, 0, 1, 4, 255, 255, 0, 0, 3, 4, 10, 0, 0, 9};
    memcpy(m + DHCP_OFF_FILE, file, sizeof file);
    memcpy(m + DHCP_OFF_SNAME, sname, sizeof sname); /* no END: ends with the field */
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.msg_type, DHCP_ACK);
    assert_int_equal(r.overload, 3);
    assert_int_equal(r.lease_secs, 120);
    assert_ip(r.server_id, ip(10, 0, 0, 1));
    assert_ip(r.subnet_mask, ip(255, 255, 0, 0));
    /* file's router first, then sname's (concatenated in that order). */
    assert_int_equal(r.nrouters, 2);
    assert_ip(r.routers[0], ip(10, 0, 0, 1));
    assert_ip(r.routers[1], ip(10, 0, 0, 9));

    /* Overload 1: the file field only; sname's bytes are a server name. */
    m[240 + 5] = 1;
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.present & DHCP_HAS_SUBNET_MASK, 0);
    assert_int_equal(r.nrouters, 1);
    /* Overload 2: sname only. */
    m[240 + 5] = 2;
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.present & DHCP_HAS_LEASE_TIME, 0);
    assert_ip(r.routers[0], ip(10, 0, 0, 9));
    /* No overload: neither field is read. */
    static const uint8_t plain[] = {53, 1, 5, 255};
    with_opts(m, plain, sizeof plain);
    memcpy(m + DHCP_OFF_FILE, file, sizeof file);
    assert_int_equal(parse(m, 240 + sizeof plain, &r), DHCP_WIRE_OK);
    assert_int_equal(r.present, DHCP_HAS_MSG_TYPE);
    /* A truncated option inside an overloaded field. */
    static const uint8_t over[] = {53, 1, 5, 52, 1, 1, 255};
    with_opts(m, over, sizeof over);
    memset(m + DHCP_OFF_FILE, 0, DHCP_FILE_LEN);
    m[DHCP_OFF_FILE + DHCP_FILE_LEN - 3] = 51;
    m[DHCP_OFF_FILE + DHCP_FILE_LEN - 2] = 4;
    assert_int_equal(parse(m, 240 + sizeof over, &r), DHCP_WIRE_TRUNCATED);
}

/* RFC 3396: list options that repeat are concatenated; beyond our room the
 * rest is ignored. */
static void test_concatenation(void **state)
{
    (void)state;
    uint8_t m[600];
    struct dhcp_repr r;
    static const uint8_t opts[] = {
        3, 8, 10, 0, 0, 1, 10, 0, 0, 2,  6, 4,    1,    1,  1, 1, 3, 4,  10, 0, 0,
        3, 6, 12, 2, 2, 2, 2,  3, 3, 3,  3, 4,    4,    4,  4, 3, 4, 10, 0,  0, 4,
        3, 4, 10, 0, 0, 5, 61, 1, 1, 61, 2, 0xaa, 0xbb, 55, 2, 1, 3, 55, 1,  6, 255};
    uint32_t len = with_opts(m, opts, sizeof opts);
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.nrouters, DHCP_MAX_ADDRS);
    for (int i = 0; i < 4; i++)
        assert_ip(r.routers[i], ip(10, 0, 0, (uint8_t)(i + 1)));
    assert_int_equal(r.ndns, 4);
    assert_ip(r.dns[3], ip(4, 4, 4, 4));
    assert_int_equal(r.client_id_len, 3);
    assert_memory_equal(r.client_id, "\x01\xaa\xbb", 3);
    assert_int_equal(r.nparams, 3);
    assert_memory_equal(r.params, "\x01\x03\x06", 3);
}

/* PAD anywhere, END stops (garbage after it is not read), no END at all is
 * accepted when the last option ends with the message, unknown codes skipped. */
static void test_pad_end_unknown(void **state)
{
    (void)state;
    uint8_t m[600];
    struct dhcp_repr r;
    static const uint8_t opts[] = {0, 0, 53, 1, 1,   0,  250, 3, 9,
                                   9, 9, 43, 0, 255, 51, 200, 1};
    uint32_t len = with_opts(m, opts, sizeof opts);
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.present, DHCP_HAS_MSG_TYPE);
    assert_int_equal(r.msg_type, DHCP_DISCOVER);
    static const uint8_t noend[] = {53, 1, 2, 51, 4, 0, 0, 1, 0};
    len = with_opts(m, noend, sizeof noend);
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.lease_secs, 256);
    /* Nothing after the cookie at all: a BOOTP reply (no message type). */
    assert_int_equal(parse(m, 240, &r), DHCP_WIRE_OK);
    assert_int_equal(r.present, 0);
    assert_int_equal(r.msg_type, 0);
    /* Unknown message types stay representable. */
    static const uint8_t t99[] = {53, 1, 99, 255};
    len = with_opts(m, t99, sizeof t99);
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.msg_type, 99);
}

/* ---------------------------------------------------------------- malformed */

struct bad_case {
    const char *what;
    uint8_t opts[24];
    uint8_t n;
    enum dhcp_wire_err want;
};

static const struct bad_case bad_opts[] = {
    {"code without length", {53, 1, 1, 51}, 4, DHCP_WIRE_TRUNCATED},
    {"length past the end", {53, 1, 1, 51, 4, 0, 0}, 7, DHCP_WIRE_TRUNCATED},
    {"length 255 past the end", {12, 255, 1}, 3, DHCP_WIRE_TRUNCATED},
    {"message type of 2 bytes", {53, 2, 1, 1}, 4, DHCP_WIRE_BAD_OPTION},
    {"message type twice", {53, 1, 1, 53, 1, 1}, 6, DHCP_WIRE_BAD_OPTION},
    {"mask of 3 bytes", {1, 3, 255, 255, 0}, 5, DHCP_WIRE_BAD_OPTION},
    {"mask twice", {1, 4, 255, 0, 0, 0, 1, 4, 255, 0, 0, 0}, 12, DHCP_WIRE_BAD_OPTION},
    {"lease of 2 bytes", {51, 2, 0, 1}, 4, DHCP_WIRE_BAD_OPTION},
    {"lease twice", {51, 4, 0, 0, 0, 1, 51, 4, 0, 0, 0, 1}, 12, DHCP_WIRE_BAD_OPTION},
    {"T1 of 5 bytes", {58, 5, 0, 0, 0, 0, 1}, 7, DHCP_WIRE_BAD_OPTION},
    {"T2 of 3 bytes", {59, 3, 0, 0, 1}, 5, DHCP_WIRE_BAD_OPTION},
    {"server id empty", {54, 0}, 2, DHCP_WIRE_BAD_OPTION},
    {"requested IP of 8", {50, 8, 1, 2, 3, 4, 5, 6, 7, 8}, 10, DHCP_WIRE_BAD_OPTION},
    {"router empty", {3, 0}, 2, DHCP_WIRE_BAD_OPTION},
    {"router of 6 bytes", {3, 6, 10, 0, 0, 1, 10, 0}, 8, DHCP_WIRE_BAD_OPTION},
    {"DNS of 3 bytes", {6, 3, 1, 1, 1}, 5, DHCP_WIRE_BAD_OPTION},
    {"MTU of 1 byte", {26, 1, 5}, 3, DHCP_WIRE_BAD_OPTION},
    {"MTU 67", {26, 2, 0, 67}, 4, DHCP_WIRE_BAD_OPTION},
    {"MTU twice", {26, 2, 5, 0xdc, 26, 2, 5, 0xdc}, 8, DHCP_WIRE_BAD_OPTION},
    {"max size 575", {57, 2, 2, 0x3f}, 4, DHCP_WIRE_BAD_OPTION},
    {"overload 0", {52, 1, 0}, 3, DHCP_WIRE_BAD_OPTION},
    {"overload 4", {52, 1, 4}, 3, DHCP_WIRE_BAD_OPTION},
    {"overload of 2 bytes", {52, 2, 1, 1}, 4, DHCP_WIRE_BAD_OPTION},
    {"parameter list empty", {55, 0}, 2, DHCP_WIRE_BAD_OPTION},
    {"client id of 1 byte", {61, 1, 1}, 3, DHCP_WIRE_BAD_OPTION},
    {"client id empty", {61, 0}, 2, DHCP_WIRE_BAD_OPTION},
};

static void test_malformed_options(void **state)
{
    (void)state;
    uint8_t m[600];
    struct dhcp_repr r;
    for (size_t i = 0; i < sizeof bad_opts / sizeof bad_opts[0]; i++) {
        uint32_t len = with_opts(m, bad_opts[i].opts, bad_opts[i].n);
        enum dhcp_wire_err got = parse(m, len, &r);
        if (got != bad_opts[i].want)
            fail_msg("%s: %s, expected %s", bad_opts[i].what, dhcp_wire_err_name(got),
                     dhcp_wire_err_name(bad_opts[i].want));
    }
    /* Two one-byte pieces of a client id make a valid one (RFC 3396). */
    static const uint8_t split[] = {61, 1, 1, 61, 1, 7, 255};
    uint32_t len = with_opts(m, split, sizeof split);
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    assert_int_equal(r.client_id_len, 2);
}

static void test_malformed_fixed(void **state)
{
    (void)state;
    uint8_t m[600];
    struct dhcp_repr r;
    uint32_t len = build_offer(m);
    assert_int_equal(parse(m, 0, &r), DHCP_WIRE_SHORT);
    assert_int_equal(parse(m, 239, &r), DHCP_WIRE_SHORT);
    m[0] = 0;
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_BAD_OP);
    m[0] = 3;
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_BAD_OP);
    m[0] = 1; /* a BOOTREQUEST parses: the client decides what it takes */
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_OK);
    m[0] = 2;
    m[1] = 6; /* IEEE 802 */
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_BAD_HTYPE);
    m[1] = 1;
    m[2] = 16;
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_BAD_HTYPE);
    m[2] = 6;
    m[239] = 0x64;
    assert_int_equal(parse(m, len, &r), DHCP_WIRE_BAD_COOKIE);
}

/* Every prefix of a good message: short, truncated or fine; never a read past
 * it (ASan watches the copy of exactly that length). */
static void test_every_truncation(void **state)
{
    (void)state;
    uint8_t m[600];
    uint32_t len = build_offer(m);
    for (uint32_t n = 0; n <= len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, m, n);
        struct dhcp_repr r;
        enum dhcp_wire_err e = parse(copy, n, &r);
        if (n < DHCP_MIN_LEN)
            assert_int_equal(e, DHCP_WIRE_SHORT);
        else
            assert_true(e == DHCP_WIRE_OK || e == DHCP_WIRE_TRUNCATED);
        free(copy);
    }
}

/* ---------------------------------------------------------------- emit */

/* The client's DISCOVER, as it must appear: fixed part, cookie, 53, 61, 57,
 * 55, END, zeros up to 300 bytes. */
static void test_emit_discover_bytes(void **state)
{
    (void)state;
    struct dhcp_repr r;
    memset(&r, 0, sizeof r);
    r.op = DHCP_OP_REQUEST;
    r.xid = 0x01020304;
    r.secs = 3;
    r.flags = DHCP_FLAG_BROADCAST;
    r.chaddr = client_mac;
    r.msg_type = DHCP_DISCOVER;
    r.client_id_len = 7;
    memcpy(r.client_id, "\x01\x00\x0b\x82\x01\xfc\x42", 7);
    r.max_msg_size = 1500;
    r.nparams = 3;
    memcpy(r.params, "\x01\x03\x06", 3);
    r.present = DHCP_HAS_MSG_TYPE | DHCP_HAS_CLIENT_ID | DHCP_HAS_MAX_MSG_SIZE |
                DHCP_HAS_PARAM_LIST;
    uint8_t want[300] = {0x01, 0x01, 0x06, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00,
                         0x03, 0x80, 0x00, 0,    0,    0,    0,    0,    0,
                         0,    0,    0,    0,    0,    0,    0,    0,    0,
                         0,    0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42};
    static const uint8_t opts[] = {0x63, 0x82, 0x53, 0x63, 53,   1,    1,    61, 7,
                                   1,    0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42, 57, 2,
                                   0x05, 0xdc, 55,   3,    1,    3,    6,    255};
    memcpy(want + 236, opts, sizeof opts);
    uint8_t out[DHCP_EMIT_MAX];
    memset(out, 0xa5, sizeof out); /* poison: unwritten bytes show */
    assert_int_equal(dhcp_emit(&r, out, sizeof out), 300);
    assert_memory_equal(out, want, 300);
}

static void test_round_trip_every_option(void **state)
{
    (void)state;
    struct dhcp_repr r, back;
    memset(&r, 0, sizeof r);
    r.op = DHCP_OP_REPLY;
    r.hops = 2;
    r.xid = 0xdeadbeef;
    r.secs = 77;
    r.ciaddr = ip(10, 0, 0, 9);
    r.yiaddr = ip(10, 0, 0, 50);
    r.siaddr = ip(10, 0, 0, 1);
    r.giaddr = ip(10, 0, 1, 1);
    r.chaddr = client_mac;
    r.present = 0x3fff; /* every DHCP_HAS_* */
    r.msg_type = DHCP_ACK;
    r.overload = 3;
    r.subnet_mask = ip(255, 255, 255, 0);
    r.server_id = ip(10, 0, 0, 1);
    r.requested_ip = ip(10, 0, 0, 50);
    r.nrouters = DHCP_MAX_ADDRS;
    r.ndns = 2;
    for (int i = 0; i < DHCP_MAX_ADDRS; i++)
        r.routers[i] = ip(10, 0, 0, (uint8_t)(100 + i));
    r.dns[0] = ip(9, 9, 9, 9);
    r.dns[1] = ip(1, 1, 1, 1);
    r.lease_secs = DHCP_INFINITE;
    r.t1_secs = 1;
    r.t2_secs = 2;
    r.mtu = 9000;
    r.max_msg_size = 1500;
    r.nparams = DHCP_MAX_PARAMS;
    for (int i = 0; i < DHCP_MAX_PARAMS; i++)
        r.params[i] = (uint8_t)(i + 1);
    r.client_id_len = DHCP_MAX_CLIENT_ID;
    for (int i = 0; i < DHCP_MAX_CLIENT_ID; i++)
        r.client_id[i] = (uint8_t)(0xc0 + i);
    uint8_t out[DHCP_EMIT_MAX];
    uint32_t n = dhcp_emit(&r, out, sizeof out);
    assert_true(n > DHCP_BOOTP_MIN && n <= DHCP_EMIT_MAX);
    assert_int_equal(parse(out, n, &back), DHCP_WIRE_OK);
    assert_memory_equal(&back, &r, sizeof r);
}

static void test_emit_room(void **state)
{
    (void)state;
    struct dhcp_repr r;
    uint8_t out[DHCP_EMIT_MAX];
    memset(&r, 0, sizeof r);
    r.op = DHCP_OP_REQUEST;
    assert_int_equal(dhcp_emit(&r, out, DHCP_BOOTP_MIN - 1), 0);
    assert_int_equal(dhcp_emit(&r, out, DHCP_BOOTP_MIN), DHCP_BOOTP_MIN);
    /* Options that do not fit: refused, never cut. */
    r.present = DHCP_HAS_PARAM_LIST | DHCP_HAS_CLIENT_ID;
    r.nparams = DHCP_MAX_PARAMS;
    r.client_id_len = DHCP_MAX_CLIENT_ID;
    assert_int_equal(dhcp_emit(&r, out, 300), 0);
    assert_int_equal(dhcp_emit(&r, out, 240 + 34 + 34 + 1), 240 + 34 + 34 + 1);
    assert_int_equal(dhcp_emit(&r, out, 240 + 34 + 34), 0);
}

static void test_names(void **state)
{
    (void)state;
    static const char *const names[] = {"bootp",   "discover", "offer",
                                        "request", "decline",  "ack",
                                        "nak",     "release",  "inform"};
    for (uint8_t t = 0; t <= DHCP_INFORM; t++)
        assert_string_equal(dhcp_msg_type_name(t), names[t]);
    assert_string_equal(dhcp_msg_type_name(200), "unknown");
    static const char *const errs[] = {
        "ok", "short", "bad_op", "bad_htype", "bad_cookie", "truncated", "bad_option"};
    for (int e = DHCP_WIRE_OK; e <= DHCP_WIRE_BAD_OPTION; e++)
        assert_string_equal(dhcp_wire_err_name((enum dhcp_wire_err)e), errs[e]);
    assert_string_equal(dhcp_wire_err_name((enum dhcp_wire_err)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_offer),
        cmocka_unit_test(test_check_reads_no_options),
        cmocka_unit_test(test_overload),
        cmocka_unit_test(test_concatenation),
        cmocka_unit_test(test_pad_end_unknown),
        cmocka_unit_test(test_malformed_options),
        cmocka_unit_test(test_malformed_fixed),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_emit_discover_bytes),
        cmocka_unit_test(test_round_trip_every_option),
        cmocka_unit_test(test_emit_room),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
