/* The DHCP client (net/dhcp.h) through the stack and a fake NIC, on the fake
 * clock, the test playing the server: INIT -> SELECTING (DISCOVER and its
 * retransmission schedule, jitter within +-1 s), REQUESTING (the REQUEST,
 * retransmissions, the timeout back to INIT), PROBING (RFC 5227 probes and
 * their timing) -> BOUND (the stack configured, announcements), RENEWING and
 * REBINDING (unicast then broadcast, RFC 2131 4.4.5 retransmissions), expiry,
 * NAKs, the lease's options (mask, router, DNS, MTU, T1/T2 and their
 * defaults), and stop with RELEASE. Conflicts, INIT-REBOOT, server changes and
 * dropped replies are in test_net_dhcp_more.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "net/dhcp.h"
#include "tests/unit/dhcp_harness.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"

/* ---------------------------------------------------------------- SELECTING */

static void test_start_sends_discover(void **state)
{
    (void)state;
    assert_int_equal(dhcp_state(st), DHCP_STOPPED);
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    assert_int_equal(dh_state(), DHCP_SELECTING);
    struct dh_sent s = dh_only_msg(DHCP_DISCOVER);
    dh_assert_bcast_from_zero(&s);
    assert_int_equal(s.r.flags, DHCP_FLAG_BROADCAST);
    assert_int_equal(s.r.ciaddr.be, 0);
    assert_int_equal(s.r.xid, dh_client()->xid);
    assert_int_equal(s.r.secs, 0);
    static const uint8_t want[] = {1, 3, 6, 26, 51, 54, 58, 59};
    for (size_t i = 0; i < sizeof want; i++)
        assert_true(dh_param_asked(&s.r, want[i]));
    assert_int_equal(s.r.max_msg_size, 1500);
    assert_int_equal(s.r.present & (DHCP_HAS_REQUESTED_IP | DHCP_HAS_SERVER_ID), 0);
    assert_int_equal(dh_ctr("tx_discover"), 1);
    assert_int_equal(dh_ctr("transitions"), 2); /* stopped -> init -> selecting */
    assert_true(dh_logged("dhcp: fake0: init -> selecting"));
    assert_int_equal(st->ip.addr.be, 0);
    /* One client per stack. */
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_EBUSY);
}

/* RFC 2131 4.1: 4, 8, 16, 32, 64, 64... s, each +-1 s, same xid, secs growing.
 * Over many seeds the jitter stays in bounds and does vary. */
static void test_discover_schedule(void **state)
{
    (void)state;
    uint64_t firsts[16];
    for (int seed = 1; seed <= 16; seed++) {
        if (st->dhcp)
            assert_int_equal(dhcp_stop(st), DHCP_OK);
        dh_cfg.seed = (uint64_t)seed * 7919;
        fake_netif_tx_clear(&fk);
        uint64_t start = plat_now_ns(), prev = start;
        assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
        uint32_t xid = dh_client()->xid;
        for (int k = 0; k < 8; k++) {
            uint64_t d = net_next_deadline(st);
            uint64_t base = (k < 4 ? 4ull << k : 64ull) * DH_SEC;
            assert_true(d - prev >= base - DH_SEC && d - prev <= base + DH_SEC);
            if (k == 0)
                firsts[seed - 1] = d - prev;
            dh_advance_to(d);
            assert_int_equal(dh_count_frames(dh_is_dhcp_frame), k + 2);
            struct dh_sent s = dh_sent_msg(dh_frame(k + 1));
            assert_int_equal(s.r.msg_type, DHCP_DISCOVER);
            assert_int_equal(s.r.xid, xid);
            assert_int_equal(s.r.secs, (d - start) / DH_SEC);
            prev = d;
        }
        assert_int_equal(dh_ctr("retransmits"), 8);
        assert_int_equal(dh_state(), DHCP_SELECTING);
    }
    int distinct = 0;
    for (int i = 0; i < 16; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= firsts[j] == firsts[i];
        distinct += !seen;
    }
    assert_true(distinct >= 8);
}

/* The jitter's ends: an injected source at its extremes gives exactly base -
 * 1 s and base + 1 s. */
static uint32_t rand_value;
static uint32_t fixed_random(void *ctx)
{
    (void)ctx;
    return rand_value;
}

static void test_backoff_jitter_bounds(void **state)
{
    (void)state;
    dh_cfg.random = fixed_random;
    for (int end = 0; end < 2; end++) {
        if (st->dhcp)
            assert_int_equal(dhcp_stop(st), DHCP_OK);
        rand_value = end ? 2000 : 0; /* 2000 % 2001: the top of +-1000 ms */
        uint64_t prev = plat_now_ns();
        assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
        for (int k = 0; k < 7; k++) {
            uint64_t d = net_next_deadline(st);
            uint64_t base = (k < 4 ? 4ull << k : 64ull) * DH_SEC;
            assert_int_equal(d - prev, end ? base + DH_SEC : base - DH_SEC);
            dh_advance_to(d);
            prev = d;
        }
    }
}

/* ---------------------------------------------------------------- REQUESTING */

static void test_offer_gets_request(void **state)
{
    (void)state;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    uint32_t xid = dh_client()->xid;
    dh_advance(5 * DH_SEC); /* one retransmission: secs moves */
    fake_netif_tx_clear(&fk);
    dh_deliver_type(DHCP_OFFER);
    assert_int_equal(dh_state(), DHCP_REQUESTING);
    struct dh_sent s = dh_only_msg(DHCP_REQUEST);
    dh_assert_bcast_from_zero(&s);
    assert_int_equal(s.r.xid, xid); /* the OFFER's (RFC 2131 4.4.1) */
    assert_int_equal(s.r.flags, DHCP_FLAG_BROADCAST);
    assert_int_equal(s.r.ciaddr.be, 0);
    assert_int_equal(s.r.requested_ip.be, OFFERED.be);
    assert_int_equal(s.r.server_id.be, SERVER_A.be);
    assert_int_equal(s.r.secs, 5);
    assert_true(dh_param_asked(&s.r, DHCP_OPT_ROUTER));
    assert_int_equal(dh_ctr("rx_offer"), 1);
    assert_int_equal(dh_ctr("tx_request"), 1);
    assert_int_equal(st->ip.addr.be, 0); /* nothing configured yet */
    /* A second OFFER (another server) is not taken now. */
    struct dh_reply o = dh_reply(DHCP_OFFER);
    o.server = SERVER_B;
    o.smac = dh_server_b_mac;
    dh_deliver(&o);
    assert_int_equal(dh_ctr("drop_unexpected"), 1);
    dh_check_counters();
}

/* REQUEST sent 5 times (4, 8, 16, 32, 64 s +-1 apart), then INIT and a new
 * DISCOVER with a new xid. */
static void test_request_timeout(void **state)
{
    (void)state;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    uint32_t xid = dh_client()->xid;
    uint64_t prev = plat_now_ns();
    fake_netif_tx_clear(&fk);
    for (int k = 0; k < DHCP_REQUEST_TRIES - 1; k++) {
        uint64_t d = net_next_deadline(st), base = (4ull << k) * DH_SEC;
        assert_true(d - prev >= base - DH_SEC && d - prev <= base + DH_SEC);
        dh_advance_to(d);
        struct dh_sent s = dh_sent_msg(dh_frame(k));
        assert_int_equal(s.r.msg_type, DHCP_REQUEST);
        assert_int_equal(s.r.xid, xid);
        prev = d;
    }
    assert_int_equal(dh_state(), DHCP_REQUESTING);
    uint64_t d = net_next_deadline(st);
    assert_true(d - prev >= 63 * DH_SEC && d - prev <= 65 * DH_SEC);
    dh_advance_to(d);
    assert_int_equal(dh_state(), DHCP_SELECTING);
    struct dh_sent s = dh_sent_msg(dh_frame(DHCP_REQUEST_TRIES - 1));
    assert_int_equal(s.r.msg_type, DHCP_DISCOVER);
    assert_int_not_equal(s.r.xid, xid);
    assert_int_equal(dh_ctr("timeouts"), 1);
    assert_int_equal(dh_ctr("tx_request"), DHCP_REQUEST_TRIES);
}

/* ---------------------------------------------------------------- PROBING, BOUND */

static bool is_probe(int i, struct ipv4_addr tpa)
{
    const uint8_t *f = fk.tx[i].data;
    return dh_is_arp_frame(i) && !memcmp(f, dh_bcast_mac.b, 6) && net_rd16(f + 20) == 1 &&
           !memcmp(f + 22, fx_dut_mac.b, 6) && !memcmp(f + 28, "\0\0\0\0", 4) &&
           !memcmp(f + 32, "\0\0\0\0\0\0", 6) && !memcmp(f + 38, &tpa.be, 4);
}

static bool is_announce(int i, struct ipv4_addr a)
{
    const uint8_t *f = fk.tx[i].data;
    return dh_is_arp_frame(i) && net_rd16(f + 20) == 1 && !memcmp(f + 28, &a.be, 4) &&
           !memcmp(f + 38, &a.be, 4);
}

#define OUT_MAX 16384
static char out[OUT_MAX];

/* Appends a printed line to out. */
static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    strncat(out, line, OUT_MAX - 1 - strlen(out));
    strncat(out, "\n", OUT_MAX - 1 - strlen(out));
}

/* ACK -> three probes (first within 1 s, then 1..2 s apart), 2 s of quiet,
 * then the address is configured, announced twice 2 s apart: BOUND. */
static void test_ack_probe_bound(void **state)
{
    (void)state;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    uint64_t t_ack = plat_now_ns(), prev = t_ack;
    fake_netif_tx_clear(&fk);
    dh_deliver_type(DHCP_ACK);
    assert_int_equal(dh_state(), DHCP_PROBING);
    assert_int_equal(fk.ntx, 0);
    assert_int_equal(st->ip.addr.be, 0);
    for (int k = 0; k < DHCP_PROBE_NUM; k++) {
        uint64_t d = net_next_deadline(st);
        if (k == 0)
            assert_true(d - prev <= DH_SEC);
        else
            assert_true(d - prev >= DH_SEC && d - prev <= 2 * DH_SEC);
        dh_advance_to(d);
        assert_int_equal(fk.ntx, k + 1);
        assert_true(is_probe(k, OFFERED));
        prev = d;
    }
    assert_int_equal(dh_state(), DHCP_PROBING);
    assert_int_equal(net_next_deadline(st), prev + 2 * DH_SEC);
    dh_advance_to(prev + 2 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_BOUND);
    /* Configured: address, prefix, gateway; one announcement now, one later. */
    assert_int_equal(st->ip.addr.be, OFFERED.be);
    assert_int_equal(st->ip.prefix_len, 24);
    assert_int_equal(st->ip.gateway.be, SERVER_A.be);
    assert_int_equal(fk.ntx, DHCP_PROBE_NUM + 1);
    assert_true(is_announce(DHCP_PROBE_NUM, OFFERED));
    dh_advance(2 * DH_SEC);
    assert_int_equal(fk.ntx, DHCP_PROBE_NUM + 2);
    assert_true(is_announce(DHCP_PROBE_NUM + 1, OFFERED));
    assert_int_equal(dh_ctr("probes"), 3);
    assert_int_equal(dh_ctr("leases"), 1);
    assert_int_equal(ctr("arp.tx_probe"), 3);
    /* The lease: times from the REQUEST, not from the binding. */
    const struct dhcp_lease *l = dhcp_lease(st);
    assert_non_null(l);
    assert_int_equal(l->t1, t_ack + 60 * DH_SEC);
    assert_int_equal(l->t2, t_ack + 105 * DH_SEC);
    assert_int_equal(l->expiry, t_ack + 120 * DH_SEC);
    assert_int_equal(l->ndns, 2);
    assert_int_equal(l->dns[1].be, dh_ip4(9, 9, 9, 9).be);
    assert_int_equal(net_next_deadline(st), l->t1);
    assert_true(dh_logged("probing -> bound"));
    assert_true(dh_logged("leased 10.0.0.50/24 router 10.0.0.1 from 10.0.0.1"));
    /* The console. */
    out[0] = 0;
    dhcp_print(st, print_line, NULL);
    assert_non_null(strstr(out, "fake0: dhcp bound"));
    assert_non_null(strstr(out, "address 10.0.0.50/24 router 10.0.0.1 server 10.0.0.1"));
    assert_non_null(strstr(out, "dns 10.0.0.1 9.9.9.9"));
    assert_non_null(strstr(out, "lease 120 s: renew in"));
    out[0] = 0;
    net_stats_print(st, NULL, print_line, NULL);
    assert_non_null(strstr(out, "dhcp.leases=1\n"));
    assert_non_null(strstr(out, "dhcp.rx_ack=1\n"));
    dh_check_counters();
}

/* A unicast write needs the address: "no route" before BOUND, sent after. */
static void test_writes_wait_for_lease(void **state)
{
    (void)state;
    uint8_t data[8] = {0};
    struct view v = view_of_mem(data, sizeof data);
    struct udp_send_opts o = {.ip = {.nowait = true}};
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    assert_int_equal(udp_sendto(&st->udp, 5000, SERVER_A, 9, &v, 1, &o), IPV4_ENOROUTE);
    dhcp_stop(st);
    dh_bind_default();
    assert_int_equal(udp_sendto(&st->udp, 5000, SERVER_A, 9, &v, 1, &o), IPV4_OK);
}

/* ---------------------------------------------------------------- RENEWING, REBINDING */

/* T1: REQUEST unicast to the server (ARP for it first), ciaddr set, neither
 * requested IP nor server id; the ACK extends the lease from that REQUEST. */
static void test_renew_ack(void **state)
{
    (void)state;
    dh_bind_default();
    uint64_t t1 = dh_req_at + 60 * DH_SEC;
    assert_int_equal(net_next_deadline(st), t1);
    dh_advance_to(t1);
    assert_int_equal(dh_state(), DHCP_RENEWING);
    assert_int_equal(dh_count_frames(dh_is_dhcp_frame), 0); /* waiting in ARP's queue */
    assert_int_equal(fk.ntx, 1);
    assert_true(dh_is_arp_frame(0));
    dh_arp_in(2, &fx_peer_mac, SERVER_A, OFFERED);
    struct dh_sent s = dh_only_msg(DHCP_REQUEST);
    assert_int_equal(s.src.be, OFFERED.be);
    assert_int_equal(s.dst.be, SERVER_A.be);
    assert_memory_equal(s.edst.b, fx_peer_mac.b, 6);
    assert_int_equal(s.r.ciaddr.be, OFFERED.be);
    assert_int_equal(s.r.flags, 0);
    assert_int_equal(s.r.present & (DHCP_HAS_REQUESTED_IP | DHCP_HAS_SERVER_ID), 0);
    assert_int_equal(s.r.secs, 0);
    fake_netif_tx_clear(&fk);
    dh_advance(3 * DH_SEC);
    struct dh_reply a = dh_reply(DHCP_ACK);
    a.unicast = true;
    dh_deliver(&a);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(dh_ctr("renewals"), 1);
    assert_int_equal(dhcp_lease(st)->t1, t1 + 60 * DH_SEC);
    assert_int_equal(dhcp_lease(st)->expiry, t1 + 120 * DH_SEC);
    assert_int_equal(st->ip.addr.be, OFFERED.be);
    assert_int_equal(ctr("arp.flushed"), 0); /* same address: nothing dropped */
    assert_int_equal(fk.ntx, 0);             /* nothing re-announced */
    dh_check_counters();
}

/* Runs the clock to t, the server asking for us a second before (so its ARP
 * entry is fresh and unicasts to it leave at once). */
static void at_with_server_known(uint64_t t)
{
    dh_advance_to(t - DH_SEC);
    dh_arp_in(1, &fx_peer_mac, SERVER_A, OFFERED);
    dh_advance_to(t);
}

/* No answer: RENEWING retransmits after half the time to T2 (at least 60 s),
 * REBINDING broadcasts after half the time to expiry, and at expiry the
 * address goes and DISCOVER starts over. Lease 1000 s, T1 500, T2 875. */
static void test_renew_rebind_expire(void **state)
{
    (void)state;
    struct dh_reply a = dh_reply(DHCP_ACK);
    a.lease = 1000, a.t1 = 500, a.t2 = 875;
    dh_bind_with(&a);
    /* Seconds after dh_req_at: renewing at 500, 687.5, 781.25, 841.25; rebinding at
     * 875, 937.5, 997.5; expiry at 1000. */
    static const uint64_t renew_ms[] = {500000, 687500, 781250, 841250};
    static const uint64_t rebind_ms[] = {875000, 937500, 997500};
    uint32_t xid = 0;
    for (int k = 0; k < 4; k++) {
        uint64_t t = dh_req_at + renew_ms[k] * 1000000ull;
        assert_int_equal(dhcp_next_deadline(dh_client()), t);
        at_with_server_known(t);
        assert_int_equal(dh_state(), DHCP_RENEWING);
        struct dh_sent s = dh_sent_msg(dh_frame(k));
        assert_int_equal(s.r.msg_type, DHCP_REQUEST);
        assert_int_equal(s.dst.be, SERVER_A.be);
        if (k == 0)
            xid = s.r.xid;
        assert_int_equal(s.r.xid, xid);
    }
    for (int k = 0; k < 3; k++) {
        uint64_t t = dh_req_at + rebind_ms[k] * 1000000ull;
        assert_int_equal(dhcp_next_deadline(dh_client()), t);
        at_with_server_known(t);
        assert_int_equal(dh_state(), DHCP_REBINDING);
        struct dh_sent s = dh_sent_msg(dh_frame(4 + k));
        assert_int_equal(s.r.msg_type, DHCP_REQUEST);
        assert_int_equal(s.src.be, OFFERED.be);
        assert_int_equal(s.dst.be, 0xffffffffu);
        assert_memory_equal(s.edst.b, dh_bcast_mac.b, 6);
        assert_int_equal(s.r.ciaddr.be, OFFERED.be);
        assert_int_equal(s.r.flags, 0);
        assert_int_equal(s.r.present & (DHCP_HAS_REQUESTED_IP | DHCP_HAS_SERVER_ID), 0);
        if (k == 0)
            assert_int_not_equal(s.r.xid, xid); /* a new exchange */
    }
    assert_int_equal(dhcp_next_deadline(dh_client()), dh_req_at + 1000 * DH_SEC);
    at_with_server_known(dh_req_at + 1000 * DH_SEC);
    /* Expired: unconfigured, ARP forgotten, DISCOVER from 0.0.0.0 at once. */
    assert_int_equal(dh_state(), DHCP_SELECTING);
    assert_int_equal(st->ip.addr.be, 0);
    assert_int_equal(ctr("arp.entries"), 0);
    assert_int_equal(ctr("arp.flushed"), 1);
    assert_null(dhcp_lease(st));
    struct dh_sent s = dh_sent_msg(dh_frame(7));
    assert_int_equal(s.r.msg_type, DHCP_DISCOVER);
    dh_assert_bcast_from_zero(&s);
    assert_int_equal(dh_ctr("expired"), 1);
    assert_true(dh_logged("lease of 10.0.0.50 gone"));
    assert_true(dh_logged("rebinding -> init"));
}

/* ---------------------------------------------------------------- the lease's options */

static void test_default_t1_t2(void **state)
{
    (void)state;
    struct dh_reply a = dh_reply(DHCP_ACK);
    a.lease = 1000, a.t1 = 0, a.t2 = 0; /* RFC 2131 4.4.5: 1/2 and 7/8 */
    dh_bind_with(&a);
    const struct dhcp_lease *l = dhcp_lease(st);
    assert_int_equal(l->t1, dh_req_at + 500 * DH_SEC);
    assert_int_equal(l->t2, dh_req_at + 875 * DH_SEC);
    assert_int_equal(l->expiry, dh_req_at + 1000 * DH_SEC);
    assert_int_equal(dhcp_stop(st), DHCP_OK);
    /* T1 after T2, T2 past the lease: defaults too. */
    a.t1 = 900, a.t2 = 2000;
    dh_bind_with(&a);
    l = dhcp_lease(st);
    assert_int_equal(l->t1, dh_req_at + 500 * DH_SEC);
    assert_int_equal(l->t2, dh_req_at + 875 * DH_SEC);
    assert_int_equal(dhcp_stop(st), DHCP_OK);
    /* T2 given, shorter than the default T1: T1 follows it. */
    a.t1 = 0, a.t2 = 300;
    dh_bind_with(&a);
    assert_int_equal(dhcp_lease(st)->t1, dh_req_at + 300 * DH_SEC);
    assert_int_equal(dhcp_lease(st)->t2, dh_req_at + 300 * DH_SEC);
}

static void test_infinite_lease(void **state)
{
    (void)state;
    struct dh_reply a = dh_reply(DHCP_ACK);
    a.lease = DHCP_INFINITE, a.t1 = 0, a.t2 = 0;
    dh_bind_with(&a);
    assert_int_equal(net_next_deadline(st), UINT64_MAX);
    dh_advance(1000000 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_BOUND);
    out[0] = 0;
    dhcp_print(st, print_line, NULL);
    assert_non_null(strstr(out, "lease infinite"));
}

/* No mask: the class's; a non-contiguous one: the class's too; no router:
 * none; MTU applied to IPv4 (not above the link's) and restored with the
 * lease. */
static void test_mask_router_mtu(void **state)
{
    (void)state;
    struct dh_reply a = dh_reply(DHCP_ACK);
    a.mask = dh_ip4(0, 0, 0, 0), a.router = dh_ip4(0, 0, 0, 0), a.mtu = 1400;
    dh_bind_with(&a);
    assert_int_equal(st->ip.prefix_len, 8); /* 10/8 */
    assert_int_equal(st->ip.gateway.be, 0);
    assert_int_equal(st->ip.mtu, 1400);
    assert_int_equal(ipv4_mtu(&st->ip, SERVER_A), 1380);
    out[0] = 0;
    dhcp_print(st, print_line, NULL);
    assert_non_null(strstr(out, "router none"));
    assert_non_null(strstr(out, "mtu 1400"));
    assert_int_equal(dhcp_stop(st), DHCP_OK);
    assert_int_equal(st->ip.mtu, 1500);
    a.mask = dh_ip4(255, 0, 255, 0), a.mtu = 9000;
    dh_bind_with(&a);
    assert_int_equal(st->ip.prefix_len, 8);
    assert_int_equal(st->ip.mtu, 1500);
}

/* ---------------------------------------------------------------- NAK */

static void test_nak_in_requesting(void **state)
{
    (void)state;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    uint32_t xid = dh_client()->xid;
    fake_netif_tx_clear(&fk);
    dh_deliver_type(DHCP_NAK);
    assert_int_equal(dh_state(), DHCP_SELECTING);
    struct dh_sent s = dh_only_msg(DHCP_DISCOVER);
    assert_int_not_equal(s.r.xid, xid);
    assert_int_equal(dh_ctr("rx_nak"), 1);
    assert_true(dh_logged("requesting -> init"));
    dh_check_counters();
}

/* A NAK while renewing: the address goes at once (ARP and routes with it). */
static void test_nak_in_renewing(void **state)
{
    (void)state;
    dh_bind_default();
    dh_arp_in(1, &fx_peer_mac, SERVER_A, OFFERED);
    dh_advance_to(dh_req_at + 60 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_RENEWING);
    fake_netif_tx_clear(&fk);
    struct dh_reply n = dh_reply(DHCP_NAK);
    n.unicast = true, n.yiaddr = OFFERED;
    dh_deliver(&n);
    assert_int_equal(st->ip.addr.be, 0);
    assert_false(st->ip.rc.valid);
    assert_int_equal(ctr("arp.entries"), 0);
    assert_int_equal(dh_state(), DHCP_SELECTING);
    struct dh_sent s = dh_only_msg(DHCP_DISCOVER);
    dh_assert_bcast_from_zero(&s);
}

/* ---------------------------------------------------------------- stop */

static void test_stop_releases(void **state)
{
    (void)state;
    dh_bind_default();
    dh_arp_in(1, &fx_peer_mac, SERVER_A, OFFERED);
    fake_netif_tx_clear(&fk);
    assert_int_equal(dhcp_stop(st), DHCP_OK);
    struct dh_sent s = dh_only_msg(DHCP_RELEASE);
    assert_int_equal(s.dst.be, SERVER_A.be);
    assert_int_equal(s.src.be, OFFERED.be);
    assert_int_equal(s.r.ciaddr.be, OFFERED.be);
    assert_int_equal(s.r.server_id.be, SERVER_A.be);
    assert_int_equal(s.r.present & (DHCP_HAS_REQUESTED_IP | DHCP_HAS_PARAM_LIST), 0);
    assert_int_equal(st->ip.addr.be, 0);
    assert_null(st->dhcp);
    assert_int_equal(dhcp_state(st), DHCP_STOPPED);
    assert_int_equal(dhcp_stop(st), DHCP_ENOTRUN);
    assert_int_equal(net_next_deadline(st) > plat_now_ns(), true);
    assert_int_equal(net_counter(st, "dhcp.rx"), -1);
    out[0] = 0;
    dhcp_print(st, print_line, NULL);
    assert_string_equal(out, "fake0: dhcp not running\n");
    /* Port 68 is free again; taken, the client cannot start. */
    assert_int_equal(st->udp.nbinds, 0);
    assert_int_equal(net_udp_echo_enable(st), 0);
    assert_int_equal(udp_bind(&st->udp, DHCP_CLIENT_PORT, st->udp.binds[0].fn, st), 0);
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_EPORT);
    assert_null(st->dhcp);
}

/* A configured stack: DHCP takes the address away first (DISCOVER from 0). */
static void test_start_on_configured_stack(void **state)
{
    (void)state;
    struct net_config c = {0};
    assert_int_equal(net_config_parse("10.0.0.2/24", "10.0.0.1", &c), 0);
    net_configure(st, &c);
    fake_netif_tx_clear(&fk);
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    assert_int_equal(st->ip.addr.be, 0);
    struct dh_sent s = dh_only_msg(DHCP_DISCOVER);
    dh_assert_bcast_from_zero(&s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, dh_setup, dh_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_start_sends_discover),  T(test_discover_schedule),
        T(test_backoff_jitter_bounds), T(test_offer_gets_request),
        T(test_request_timeout),       T(test_ack_probe_bound),
        T(test_writes_wait_for_lease), T(test_renew_ack),
        T(test_renew_rebind_expire),   T(test_default_t1_t2),
        T(test_infinite_lease),        T(test_mask_router_mtu),
        T(test_nak_in_requesting),     T(test_nak_in_renewing),
        T(test_stop_releases),         T(test_start_on_configured_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
