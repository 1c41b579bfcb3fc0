/* The DHCP client (net/dhcp.h), continued (see test_net_dhcp.c): RFC 5227
 * conflicts during the probe (a reply, another host's probe) -> DECLINE and the
 * waits after it, INIT-REBOOT with a remembered address (ACK, NAK, silence), a
 * server change between RENEWING and REBINDING, ACKs that change the address
 * or the router, the address handler (TCP's hook), binding without a probe,
 * and every reply the client must drop, each with its counter. */
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

static const struct ipv4_addr zero_ip;

/* start, OFFER, ACK: PROBING, no probe sent yet. */
static void to_probing(void)
{
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    dh_deliver_type(DHCP_ACK);
    assert_int_equal(dh_state(), DHCP_PROBING);
    fake_netif_tx_clear(&fk);
}

static char out[1024];
static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    strncat(out, line, sizeof out - 1 - strlen(out));
    strncat(out, "\n", sizeof out - 1 - strlen(out));
}

/* ---------------------------------------------------------------- conflicts */

static void expect_decline(uint32_t xid)
{
    struct dh_sent s = dh_only_msg(DHCP_DECLINE);
    dh_assert_bcast_from_zero(&s);
    assert_int_equal(s.r.xid, xid);
    assert_int_equal(s.r.requested_ip.be, OFFERED.be);
    assert_int_equal(s.r.server_id.be, SERVER_A.be);
    assert_int_equal(s.r.ciaddr.be, 0);
    assert_int_equal(s.r.secs, 0);
    assert_int_equal(s.r.present & DHCP_HAS_PARAM_LIST, 0);
}

/* Another host answers our probe: DECLINE, never configured, DISCOVER again
 * only after 10 s (RFC 2131 3.1.5). */
static void test_conflict_reply_declines(void **state)
{
    (void)state;
    to_probing();
    uint32_t xid = dh_client()->xid;
    dh_advance_to(net_next_deadline(st)); /* the first probe */
    assert_int_equal(fk.ntx, 1);
    fake_netif_tx_clear(&fk);
    uint64_t t = plat_now_ns();
    dh_arp_in(2, &dh_intruder_mac, OFFERED, zero_ip);
    expect_decline(xid);
    assert_int_equal(dh_state(), DHCP_INIT);
    assert_int_equal(st->ip.addr.be, 0);
    assert_int_equal(dh_ctr("conflicts"), 1);
    assert_int_equal(dh_ctr("tx_decline"), 1);
    assert_int_equal(dh_ctr("leases"), 0);
    assert_true(dh_logged("10.0.0.50 is in use by another host: declined"));
    assert_int_equal(net_next_deadline(st), t + DHCP_DECLINE_WAIT_NS);
    fake_netif_tx_clear(&fk);
    dh_advance_to(t + DHCP_DECLINE_WAIT_NS - 1000000);
    assert_int_equal(fk.ntx, 0);
    dh_advance_to(t + DHCP_DECLINE_WAIT_NS);
    struct dh_sent s = dh_only_msg(DHCP_DISCOVER);
    assert_int_not_equal(s.r.xid, xid);
    assert_int_equal(dh_state(), DHCP_SELECTING);
    /* A late probe deadline does not bind the declined address. */
    dh_advance(10 * DH_SEC);
    assert_int_equal(st->ip.addr.be, 0);
}

/* Another host probing for the same address: a conflict too (RFC 5227 2.1.1);
 * so is any ARP packet that has the address as sender. */
static void test_conflict_probe_and_sender(void **state)
{
    (void)state;
    to_probing();
    dh_arp_in(1, &dh_intruder_mac, zero_ip, OFFERED);
    assert_int_equal(dh_ctr("conflicts"), 1);
    assert_int_equal(dh_state(), DHCP_INIT);
    dhcp_stop(st);
    to_probing();
    dh_arp_in(1, &dh_intruder_mac, OFFERED,
              dh_ip4(10, 0, 0, 99)); /* a request it sends */
    assert_int_equal(dh_ctr("conflicts"), 1);
    assert_int_equal(dh_state(), DHCP_INIT);
}

/* ARP about other addresses, or a host asking for ours with its own address
 * as sender (an ordinary request, not a probe): no conflict. */
static void test_no_conflict_for_others(void **state)
{
    (void)state;
    to_probing();
    dh_arp_in(1, &dh_intruder_mac, dh_ip4(10, 0, 0, 77), OFFERED);
    dh_arp_in(1, &dh_intruder_mac, dh_ip4(10, 0, 0, 77), dh_ip4(10, 0, 0, 99));
    dh_arp_in(1, &dh_intruder_mac, zero_ip, dh_ip4(10, 0, 0, 99));
    dh_arp_in(2, &dh_intruder_mac, dh_ip4(10, 0, 0, 77), zero_ip);
    dh_advance(10 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(dh_ctr("conflicts"), 0);
    /* Once bound, a claim on our address is ARP's business (counted there). */
    dh_arp_in(2, &dh_intruder_mac, OFFERED, zero_ip);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(ctr("arp.addr_conflict"), 1);
    assert_int_equal(dh_ctr("conflicts"), 0);
}

/* RFC 5227 2.1.1: after MAX_CONFLICTS in a row, one attempt a minute. */
static void test_conflict_rate_limit(void **state)
{
    (void)state;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    for (int k = 1; k <= DHCP_MAX_CONFLICTS + 1; k++) {
        assert_int_equal(dh_state(), DHCP_SELECTING);
        dh_deliver_type(DHCP_OFFER);
        dh_deliver_type(DHCP_ACK);
        uint64_t t = plat_now_ns();
        dh_arp_in(2, &dh_intruder_mac, OFFERED, zero_ip);
        uint64_t wait =
            k >= DHCP_MAX_CONFLICTS ? DHCP_RATE_LIMIT_NS : DHCP_DECLINE_WAIT_NS;
        assert_int_equal(net_next_deadline(st), t + wait);
        dh_advance_to(t + wait);
    }
    assert_int_equal(dh_ctr("conflicts"), DHCP_MAX_CONFLICTS + 1);
    /* A success clears the count: the next conflict waits 10 s again. */
    dh_deliver_type(DHCP_OFFER);
    dh_deliver_type(DHCP_ACK);
    dh_advance(10 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(dh_client()->conflicts, 0);
}

/* ---------------------------------------------------------------- INIT-REBOOT */

static void start_reboot(void)
{
    dh_cfg.requested = OFFERED;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    assert_int_equal(dh_state(), DHCP_REBOOTING);
    assert_true(dh_logged("init-reboot -> rebooting"));
    struct dh_sent s = dh_only_msg(DHCP_REQUEST);
    dh_assert_bcast_from_zero(&s);
    assert_int_equal(s.r.flags, DHCP_FLAG_BROADCAST);
    assert_int_equal(s.r.ciaddr.be, 0);
    assert_int_equal(s.r.requested_ip.be, OFFERED.be);
    assert_int_equal(s.r.present & DHCP_HAS_SERVER_ID, 0); /* RFC 2131 4.3.2 */
    fake_netif_tx_clear(&fk);
}

static void test_init_reboot_ack(void **state)
{
    (void)state;
    uint64_t t = plat_now_ns();
    start_reboot();
    dh_deliver_type(DHCP_ACK);
    assert_int_equal(dh_state(), DHCP_PROBING); /* probed like any new address */
    dh_advance(10 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(st->ip.addr.be, OFFERED.be);
    assert_int_equal(dhcp_lease(st)->t1, t + 60 * DH_SEC);
    assert_int_equal(dhcp_lease(st)->server.be, SERVER_A.be);
    dh_check_counters();
}

static void test_init_reboot_nak(void **state)
{
    (void)state;
    start_reboot();
    uint32_t xid = dh_client()->xid;
    struct dh_reply n = dh_reply(DHCP_NAK);
    n.server = SERVER_B, n.smac = dh_server_b_mac; /* any server may refuse it */
    dh_deliver(&n);
    assert_int_equal(dh_state(), DHCP_SELECTING);
    struct dh_sent s = dh_only_msg(DHCP_DISCOVER);
    assert_int_not_equal(s.r.xid, xid);
    assert_int_equal(dh_ctr("rx_nak"), 1);
    assert_true(dh_logged("rebooting -> init"));
}

/* Nobody answers: the REQUEST schedule, then INIT. */
static void test_init_reboot_silence(void **state)
{
    (void)state;
    start_reboot();
    for (int k = 0; k < DHCP_REQUEST_TRIES; k++)
        dh_advance_to(net_next_deadline(st));
    assert_int_equal(dh_ctr("tx_request"), DHCP_REQUEST_TRIES);
    assert_int_equal(dh_ctr("timeouts"), 1);
    assert_true(dh_ctr("tx_discover") >= 1);
    assert_int_equal(dh_state(), DHCP_SELECTING);
}

/* ---------------------------------------------------------------- server change */

/* Server A gave the lease and goes silent; at T2 server B answers the
 * broadcast: the lease is B's, and the next renewal goes to B. While renewing,
 * B's answers to a request that was A's are not taken. */
static void test_server_change_renew_rebind(void **state)
{
    (void)state;
    dh_bind_default();
    dh_advance_to(dh_req_at + 60 * DH_SEC - DH_SEC);
    dh_arp_in(1, &fx_peer_mac, SERVER_A, OFFERED);
    dh_advance_to(dh_req_at + 60 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_RENEWING);
    struct dh_sent s = dh_only_msg(DHCP_REQUEST);
    assert_int_equal(s.dst.be, SERVER_A.be);
    struct dh_reply b = dh_reply(DHCP_ACK);
    b.server = SERVER_B, b.smac = dh_server_b_mac, b.unicast = true;
    dh_deliver(&b);
    b.type = DHCP_NAK;
    dh_deliver(&b);
    assert_int_equal(dh_ctr("drop_wrong_server"), 2);
    assert_int_equal(dh_state(), DHCP_RENEWING);
    fake_netif_tx_clear(&fk);
    dh_advance_to(dh_req_at + 105 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_REBINDING);
    s = dh_only_msg(DHCP_REQUEST);
    assert_int_equal(s.dst.be, 0xffffffffu);
    uint64_t t_rebind = plat_now_ns();
    b = dh_reply(DHCP_ACK);
    b.server = SERVER_B, b.smac = dh_server_b_mac, b.unicast = true;
    b.router = SERVER_B;
    dh_deliver(&b);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(dh_ctr("rebinds"), 1);
    const struct dhcp_lease *l = dhcp_lease(st);
    assert_int_equal(l->server.be, SERVER_B.be);
    assert_int_equal(l->t1, t_rebind + 60 * DH_SEC);
    assert_int_equal(st->ip.gateway.be, SERVER_B.be); /* its router taken too */
    assert_int_equal(st->ip.addr.be, OFFERED.be);
    fake_netif_tx_clear(&fk);
    dh_advance_to(l->t1 - DH_SEC);
    dh_arp_in(1, &dh_server_b_mac, SERVER_B, OFFERED);
    dh_advance_to(l->t1);
    s = dh_only_msg(DHCP_REQUEST);
    assert_int_equal(s.dst.be, SERVER_B.be);
    assert_memory_equal(s.edst.b, dh_server_b_mac.b, 6);
    dh_check_counters();
}

/* ---------------------------------------------------------------- ACKs that change
 * things */

static struct {
    int calls;
    struct ipv4_addr old[8], now[8];
} changes;

static void on_addr(void *ctx, struct ipv4_addr old, struct ipv4_addr now)
{
    (void)ctx;
    if (changes.calls < 8) {
        changes.old[changes.calls] = old;
        changes.now[changes.calls] = now;
    }
    changes.calls++;
}

/* Rebinding, a server hands out another address: the old one goes before the
 * new one is probed; the address handler hears both changes. */
static void test_rebind_ack_new_address(void **state)
{
    (void)state;
    memset(&changes, 0, sizeof changes);
    net_set_addr_handler(st, on_addr, NULL);
    dh_bind_default();
    assert_int_equal(changes.calls, 1);
    assert_int_equal(changes.old[0].be, 0);
    assert_int_equal(changes.now[0].be, OFFERED.be);
    dh_advance_to(dh_req_at + 105 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_REBINDING);
    struct dh_reply b = dh_reply(DHCP_ACK);
    b.server = SERVER_B, b.smac = dh_server_b_mac, b.yiaddr = dh_ip4(10, 0, 0, 60);
    dh_deliver(&b);
    assert_int_equal(dh_state(), DHCP_PROBING);
    assert_int_equal(st->ip.addr.be, 0);
    assert_int_equal(changes.calls, 2);
    assert_int_equal(changes.old[1].be, OFFERED.be);
    assert_int_equal(changes.now[1].be, 0);
    dh_advance(10 * DH_SEC);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(st->ip.addr.be, dh_ip4(10, 0, 0, 60).be);
    assert_int_equal(changes.calls, 3);
    assert_int_equal(dh_ctr("leases"), 2);
}

/* Renewed with another router and prefix: reconfigured, the address and ARP
 * kept. */
static void test_renew_ack_new_router(void **state)
{
    (void)state;
    memset(&changes, 0, sizeof changes);
    net_set_addr_handler(st, on_addr, NULL);
    dh_bind_default();
    dh_advance_to(dh_req_at + 60 * DH_SEC - DH_SEC);
    dh_arp_in(1, &fx_peer_mac, SERVER_A, OFFERED);
    dh_advance_to(dh_req_at + 60 * DH_SEC);
    struct dh_reply a = dh_reply(DHCP_ACK);
    a.unicast = true, a.router = dh_ip4(10, 0, 0, 254), a.mask = dh_ip4(255, 255, 0, 0);
    dh_deliver(&a);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(st->ip.gateway.be, dh_ip4(10, 0, 0, 254).be);
    assert_int_equal(st->ip.prefix_len, 16);
    assert_int_equal(ctr("arp.entries"), 1);
    assert_int_equal(changes.calls, 1); /* only the first binding */
}

/* Expiry takes the address: the handler hears it. */
static void test_handler_on_loss(void **state)
{
    (void)state;
    memset(&changes, 0, sizeof changes);
    net_set_addr_handler(st, on_addr, NULL);
    dh_bind_default();
    dh_advance_to(dh_req_at + 120 * DH_SEC);
    assert_int_equal(dh_ctr("expired"), 1);
    assert_int_equal(changes.calls, 2);
    assert_int_equal(changes.now[1].be, 0);
}

static void test_no_probe(void **state)
{
    (void)state;
    dh_cfg.no_probe = true;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    fake_netif_tx_clear(&fk);
    dh_deliver_type(DHCP_ACK);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(st->ip.addr.be, OFFERED.be);
    assert_int_equal(fk.ntx, 1); /* the one announcement */
    dh_advance(5 * DH_SEC);
    assert_int_equal(fk.ntx, 1);
    assert_int_equal(ctr("arp.tx_probe"), 0);
}

/* no_router (another interface holds the default gateway): the address and
 * prefix are configured, the router is recorded and shown but not used, also
 * after a renewal. */
static void test_no_router(void **state)
{
    (void)state;
    dh_cfg.no_router = true;
    dh_bind_default();
    assert_int_equal(st->ip.addr.be, OFFERED.be);
    assert_int_equal(st->ip.prefix_len, 24);
    assert_int_equal(st->ip.gateway.be, 0);
    assert_int_equal(dhcp_lease(st)->router.be, SERVER_A.be);
    out[0] = 0;
    dhcp_print(st, print_line, NULL);
    assert_non_null(strstr(out, "router 10.0.0.1 (not used) server 10.0.0.1"));
    dh_advance_to(dh_req_at + 60 * DH_SEC); /* T1: RENEWING */
    struct dh_reply ack = dh_reply(DHCP_ACK);
    ack.router = dh_ip4(10, 0, 0, 254);
    ack.unicast = true;
    dh_deliver(&ack);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(st->ip.gateway.be, 0);
    assert_int_equal(dhcp_lease(st)->router.be, dh_ip4(10, 0, 0, 254).be);
}

/* Found by fuzz_dhcp (tests/fuzz/regress/fuzz_dhcp/): a probe that ends after
 * the lease's T1 (here T1 2 s, the probe at least 3 s) binds and must renew in
 * the same tick; the timer was left with a deadline in the past. Later events
 * falling due together (T2 and expiry) are run in that tick too. */
static void test_regress_bound_past_t1(void **state)
{
    (void)state;
    struct dh_reply a = dh_reply(DHCP_ACK);
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    uint64_t t = plat_now_ns();
    a.xid = dh_client()->xid, a.lease = 40, a.t1 = 2, a.t2 = 30;
    dh_deliver(&a);
    dh_advance(10 * DH_SEC); /* dh_advance_to checks the deadline after every tick */
    assert_int_equal(dh_state(), DHCP_RENEWING);
    assert_int_equal(dh_ctr("leases"), 1);
    /* T2 and expiry both passed by one late tick: straight to a new DISCOVER. */
    host_clock_set(t + 50 * DH_SEC);
    net_tick(st, plat_now_ns());
    assert_true(net_next_deadline(st) > plat_now_ns());
    assert_int_equal(dh_state(), DHCP_SELECTING);
    assert_int_equal(dh_ctr("expired"), 1);
}

/* Found by fuzz_dhcp: a lease shorter than the probe was bound (and announced)
 * and dropped in the same tick. It is never used now. */
static void test_regress_lease_shorter_than_probe(void **state)
{
    (void)state;
    struct dh_reply a = dh_reply(DHCP_ACK);
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    a.xid = dh_client()->xid, a.lease = 2, a.t1 = 0, a.t2 = 0;
    dh_deliver(&a);
    fake_netif_tx_clear(&fk);
    dh_advance(8 * DH_SEC);
    assert_int_equal(dh_ctr("leases"), 0);
    assert_int_equal(dh_ctr("expired"), 1);
    assert_int_equal(dh_ctr("transitions"), 6); /* ... probing -> init -> selecting */
    for (int i = 0; i < fk.ntx; i++)
        assert_false(dh_is_arp_frame(i) &&
                     !memcmp(fk.tx[i].data + 28, "\x0a\0\0\x32", 4));
    assert_int_equal(dh_state(), DHCP_SELECTING);
}

/* Found by fuzz_dhcp: one late tick with the second announcement and the
 * expiry both due announced the address, then dropped it. The lease goes
 * first now, and nothing is announced for it. */
static void test_regress_no_announce_after_expiry(void **state)
{
    (void)state;
    struct dh_reply a = dh_reply(DHCP_ACK);
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    uint64_t t = plat_now_ns();
    a.xid = dh_client()->xid, a.lease = 20, a.t1 = 15, a.t2 = 18;
    dh_deliver(&a);
    while (dh_state() == DHCP_PROBING)
        dh_advance_to(net_next_deadline(st));
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_true(dh_client()->announce_at < t + 20 * DH_SEC);
    fake_netif_tx_clear(&fk);
    host_clock_set(t + 30 * DH_SEC);
    net_tick(st, plat_now_ns());
    for (int i = 0; i < fk.ntx; i++)
        assert_false(dh_is_arp_frame(i));
    assert_int_equal(dh_ctr("expired"), 1);
    struct dh_sent s = dh_only_msg(DHCP_DISCOVER);
    dh_assert_bcast_from_zero(&s);
}

/* ---------------------------------------------------------------- replies dropped */

static void cut_to_200(uint8_t *m, uint32_t *len)
{
    (void)m;
    *len = 200;
}
static void htype_6(uint8_t *m, uint32_t *len)
{
    (void)len;
    m[1] = 6;
}
static void bad_cookie(uint8_t *m, uint32_t *len)
{
    (void)len;
    m[236] = 0;
}
static void truncated_option(uint8_t *m, uint32_t *len)
{
    m[240 + 3] = 51, m[240 + 4] = 200; /* after the message type */
    *len = 240 + 5 + 10;
}
static void lease_of_2(uint8_t *m, uint32_t *len)
{
    (void)len;
    memcpy(m + 240 + 3, "\x33\x02\x00\x10", 4); /* 51, length 2 */
}

struct drop_case {
    const char *counter;
    void (*mutate)(uint8_t *m, uint32_t *len);
    void (*edit)(struct dh_reply *r);
};

static void other_xid(struct dh_reply *r)
{
    r->xid ^= 1;
}
static void other_chaddr(struct dh_reply *r)
{
    r->chaddr.b[5] ^= 1;
}
static void as_request(struct dh_reply *r)
{
    r->op = DHCP_OP_REQUEST;
}
static void other_port(struct dh_reply *r)
{
    r->sport = 1067;
}
static void no_yiaddr(struct dh_reply *r)
{
    r->yiaddr = zero_ip;
}
static void mcast_yiaddr(struct dh_reply *r)
{
    r->yiaddr = dh_ip4(224, 0, 0, 1);
}
static void no_server_id(struct dh_reply *r)
{
    r->no_server_id = true;
}
static void type_ack(struct dh_reply *r)
{
    r->type = DHCP_ACK;
}
static void type_nak(struct dh_reply *r)
{
    r->type = DHCP_NAK;
}
static void type_request(struct dh_reply *r)
{
    r->type = DHCP_REQUEST;
}
static void type_bootp(struct dh_reply *r)
{
    r->type = 0;
}

/* In SELECTING, each an OFFER made wrong one way. */
static const struct drop_case selecting_drops[] = {
    {"drop_xid", NULL, other_xid},           {"drop_chaddr", NULL, other_chaddr},
    {"drop_bad_op", NULL, as_request},       {"drop_bad_port", NULL, other_port},
    {"drop_short", cut_to_200, NULL},        {"drop_bad_htype", htype_6, NULL},
    {"drop_bad_cookie", bad_cookie, NULL},   {"drop_truncated", truncated_option, NULL},
    {"drop_bad_option", lease_of_2, NULL},   {"drop_bad_offer", NULL, no_yiaddr},
    {"drop_bad_offer", NULL, mcast_yiaddr},  {"drop_bad_offer", NULL, no_server_id},
    {"drop_unexpected", NULL, type_ack},     {"drop_unexpected", NULL, type_nak},
    {"drop_unexpected", NULL, type_request}, {"drop_unexpected", NULL, type_bootp},
};

static void no_lease(struct dh_reply *r)
{
    r->lease = 0;
}
static void from_b(struct dh_reply *r)
{
    r->server = SERVER_B;
    r->smac = dh_server_b_mac;
}
static void nak_from_b(struct dh_reply *r)
{
    from_b(r);
    r->type = DHCP_NAK;
}
static void type_offer(struct dh_reply *r)
{
    r->type = DHCP_OFFER;
}

/* In REQUESTING, each an ACK made wrong one way. */
static const struct drop_case requesting_drops[] = {
    {"drop_bad_ack", NULL, no_lease},        {"drop_bad_ack", NULL, no_server_id},
    {"drop_bad_ack", NULL, no_yiaddr},       {"drop_wrong_server", NULL, from_b},
    {"drop_wrong_server", NULL, nak_from_b}, {"drop_unexpected", NULL, type_offer},
    {"drop_xid", NULL, other_xid},
};

static void run_drops(const struct drop_case *cases, size_t n, uint8_t type,
                      enum dhcp_state in)
{
    for (size_t i = 0; i < n; i++) {
        struct dh_reply r = dh_reply(type);
        if (cases[i].edit)
            cases[i].edit(&r);
        int64_t before = dh_ctr(cases[i].counter), rx = dh_ctr("rx");
        dh_deliver_mutated(&r, cases[i].mutate);
        if (dh_ctr(cases[i].counter) != before + 1)
            fail_msg("case %zu: %s did not move", i, cases[i].counter);
        assert_int_equal(dh_ctr("rx"), rx + 1);
        assert_int_equal(dh_state(), in);
        dh_check_counters();
    }
}

static void test_replies_dropped(void **state)
{
    (void)state;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    run_drops(selecting_drops, sizeof selecting_drops / sizeof selecting_drops[0],
              DHCP_OFFER, DHCP_SELECTING);
    assert_int_equal(dh_ctr("rx_offer"), 0);
    dh_deliver_type(DHCP_OFFER);
    run_drops(requesting_drops, sizeof requesting_drops / sizeof requesting_drops[0],
              DHCP_ACK, DHCP_REQUESTING);
    dh_deliver_type(DHCP_ACK);
    assert_int_equal(dh_state(), DHCP_PROBING);
    dh_deliver_type(DHCP_ACK); /* a duplicate */
    dh_deliver_type(DHCP_NAK);
    assert_int_equal(dh_ctr("drop_unexpected"), 7);
    assert_int_equal(dh_state(), DHCP_PROBING);
    dh_advance(10 * DH_SEC);
    dh_deliver_type(DHCP_ACK);
    dh_deliver_type(DHCP_OFFER);
    assert_int_equal(dh_ctr("drop_unexpected"), 9);
    assert_int_equal(dh_state(), DHCP_BOUND);
    assert_int_equal(dh_ctr("rx"), 16 + 7 + 2 + 2 + 2);
    dh_check_counters();
}

/* What the console shows before a lease. */

static void test_print_before_lease(void **state)
{
    (void)state;
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    out[0] = 0;
    dhcp_print(st, print_line, NULL);
    char want[160];
    snprintf(want, sizeof want,
             "fake0: dhcp requesting, xid 0x%08x\n    offered 10.0.0.50 by 10.0.0.1\n",
             (unsigned)dh_client()->xid);
    assert_string_equal(out, want);
    for (int s = 0; s <= DHCP_NSTATES; s++)
        assert_non_null(dhcp_state_name((enum dhcp_state)s));
    assert_string_equal(dhcp_state_name(DHCP_NSTATES), "?");
}

/* ---------------------------------------------------------------- timer hook */

static int hook_calls;
static uint64_t hook_last;

static void on_deadline(void *ctx, uint64_t t)
{
    (void)ctx;
    hook_calls++;
    hook_last = t;
}

/* The stack's deadline hook hears of every deadline the client arms outside
 * dhcp_tick, so the kernel's timer thread, asleep until a later deadline or
 * none, wakes for it: the first retransmission at start, the REQUEST's
 * retransmission after an OFFER, the first probe after an ACK (earlier than
 * that), the wait after a conflict seen in ARP. */
static void test_deadline_hook(void **state)
{
    (void)state;
    net_set_deadline_hook(st, on_deadline, NULL);
    hook_calls = 0;
    assert_int_equal(net_next_deadline(st), UINT64_MAX);
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    assert_int_equal(hook_calls, 1);
    assert_int_equal(hook_last, net_next_deadline(st));
    assert_true(hook_last >= plat_now_ns() + DHCP_RETRANS_BASE_NS - DHCP_JITTER_NS);
    dh_deliver_type(DHCP_OFFER);
    assert_int_equal(hook_calls, 2);
    assert_int_equal(hook_last, net_next_deadline(st));
    uint64_t request_retry = hook_last;
    dh_deliver_type(DHCP_ACK);
    assert_int_equal(dh_state(), DHCP_PROBING);
    assert_int_equal(hook_calls, 3);
    assert_int_equal(hook_last, net_next_deadline(st));
    assert_true(hook_last < request_retry);
    assert_true(hook_last <= plat_now_ns() + DHCP_PROBE_WAIT_NS);
    dh_arp_in(2, &dh_intruder_mac, OFFERED, zero_ip);
    assert_int_equal(dh_state(), DHCP_INIT);
    assert_int_equal(hook_calls, 4);
    assert_int_equal(hook_last, plat_now_ns() + DHCP_DECLINE_WAIT_NS);
    assert_int_equal(hook_last, net_next_deadline(st));
    /* Ticks need not call it: their caller asks net_next_deadline itself. */
    net_set_deadline_hook(st, NULL, NULL);
    dh_advance(DHCP_DECLINE_WAIT_NS);
    assert_int_equal(hook_calls, 4);
}

#define T(f) cmocka_unit_test_setup_teardown(f, dh_setup, dh_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_conflict_reply_declines),
        T(test_conflict_probe_and_sender),
        T(test_no_conflict_for_others),
        T(test_conflict_rate_limit),
        T(test_init_reboot_ack),
        T(test_init_reboot_nak),
        T(test_init_reboot_silence),
        T(test_server_change_renew_rebind),
        T(test_rebind_ack_new_address),
        T(test_renew_ack_new_router),
        T(test_handler_on_loss),
        T(test_no_probe),
        T(test_no_router),
        T(test_regress_bound_past_t1),
        T(test_regress_lease_shorter_than_probe),
        T(test_regress_no_announce_after_expiry),
        T(test_replies_dropped),
        T(test_print_before_lease),
        T(test_deadline_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
