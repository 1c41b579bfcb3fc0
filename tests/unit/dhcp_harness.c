/* The DHCP client's test harness (see tests/unit/dhcp_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/dhcp_harness.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"

const struct eth_addr dh_bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
const struct eth_addr dh_server_b_mac = {{0x02, 0, 0, 0, 0, 0x03}};
const struct eth_addr dh_intruder_mac = {{0x02, 0, 0, 0, 0, 0x66}};

struct dhcp_config dh_cfg;

struct ipv4_addr dh_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    return ipv4_addr_make(a, b, c, d);
}

/* ---------------------------------------------------------------- log lines */

static char logs[64][160];
static int nlogs;

static void log_hook(void *arg, int level, const char *line, size_t len)
{
    (void)arg;
    (void)level;
    if (nlogs < 64)
        snprintf(logs[nlogs++], sizeof logs[0], "%.*s", (int)len, line);
}

bool dh_logged(const char *part)
{
    for (int i = 0; i < nlogs; i++)
        if (strstr(logs[i], part))
            return true;
    return false;
}

/* ---------------------------------------------------------------- set-up */

int dh_setup(void **state)
{
    (void)state;
    harness_setup(&(struct harness_config){.unconfigured = true, .clock_ns = DH_T0});
    nlogs = 0;
    host_set_log_hook(log_hook, NULL);
    log_set_level(LOG_INFO);
    memset(&dh_cfg, 0, sizeof dh_cfg);
    dh_cfg.seed = 42;
    return 0;
}

int dh_teardown(void **state)
{
    (void)state;
    harness_destroy(); /* frees a running client too (ASan sees leaks) */
    host_set_log_hook(NULL, NULL);
    return 0;
}

struct dhcp *dh_client(void)
{
    assert_non_null(st->dhcp);
    return st->dhcp;
}

enum dhcp_state dh_state(void)
{
    return dhcp_state(st);
}

/* ---------------------------------------------------------------- the clock */

/* Runs the timers as the net thread does: every deadline up to t, in order. */
void dh_advance_to(uint64_t t)
{
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t d = net_next_deadline(st), now = plat_now_ns();
        if (d > t)
            break;
        if (d > now)
            host_clock_set(d);
        net_tick(st, plat_now_ns());
        assert_true(net_next_deadline(st) > plat_now_ns()); /* progress */
    }
    if (t > plat_now_ns())
        host_clock_set(t);
}

void dh_advance(uint64_t ns)
{
    dh_advance_to(plat_now_ns() + ns);
}

/* ---------------------------------------------------------------- what went out */

bool dh_is_dhcp_frame(int i)
{
    const uint8_t *f = fk.tx[i].data;
    return fk.tx[i].len >= 42 && net_rd16(f + 12) == 0x0800 && f[14 + 9] == 17 &&
           net_rd16(f + 34 + 2) == DHCP_SERVER_PORT;
}

bool dh_is_arp_frame(int i)
{
    return fk.tx[i].len >= 42 && net_rd16(fk.tx[i].data + 12) == 0x0806;
}

int dh_count_frames(bool (*pred)(int))
{
    int n = 0;
    for (int i = 0; i < fk.ntx; i++)
        n += pred(i);
    return n;
}

/* Frame i is a DHCP message from us: IPv4 and UDP (68 -> 67) with correct
 * checksums; returns its parts. */
struct dh_sent dh_sent_msg(int i)
{
    struct dh_sent s;
    assert_true(i >= 0 && i < fk.ntx);
    assert_true(dh_is_dhcp_frame(i));
    const uint8_t *f = fk.tx[i].data, *ip = f + 14, *u = ip + 20;
    assert_memory_equal(f + 6, fx_dut_mac.b, 6);
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(fx_ref_csum(ip, 20), 0);
    uint16_t ulen = net_rd16(u + 4);
    assert_int_equal(net_rd16(ip + 2), 20 + ulen);
    assert_int_equal(net_rd16(u), DHCP_CLIENT_PORT);
    assert_int_not_equal(net_rd16(u + 6), 0);
    uint8_t *ph = calloc(1, 12u + ulen);
    memcpy(ph, ip + 12, 8);
    ph[9] = 17;
    net_wr16(ph + 10, ulen);
    memcpy(ph + 12, u, ulen);
    assert_int_equal(fx_ref_csum(ph, 12u + ulen), 0);
    free(ph);
    assert_true(ulen - 8u >= DHCP_BOOTP_MIN);
    struct view v = view_of_mem((void *)(u + 8), ulen - 8u);
    assert_int_equal(dhcp_parse(&v, &s.r), DHCP_WIRE_OK);
    assert_int_equal(s.r.op, DHCP_OP_REQUEST);
    assert_memory_equal(s.r.chaddr.b, fx_dut_mac.b, 6);
    /* Client identifier: type 1 and our MAC, in every message. */
    assert_int_equal(s.r.client_id_len, 7);
    assert_int_equal(s.r.client_id[0], 1);
    assert_memory_equal(s.r.client_id + 1, fx_dut_mac.b, 6);
    s.src = ipv4_addr_load(ip + 12);
    s.dst = ipv4_addr_load(ip + 16);
    memcpy(s.edst.b, f, 6);
    return s;
}

/* The index of the n-th (0-based) DHCP frame sent, -1 when fewer. */
int dh_frame(int n)
{
    for (int i = 0; i < fk.ntx; i++)
        if (dh_is_dhcp_frame(i) && n-- == 0)
            return i;
    return -1;
}

/* The only DHCP message sent since the last clear, of the given type. */
struct dh_sent dh_only_msg(uint8_t type)
{
    assert_int_equal(dh_count_frames(dh_is_dhcp_frame), 1);
    struct dh_sent s = dh_sent_msg(dh_frame(0));
    if (s.r.msg_type != type)
        fail_msg("sent %s, expected %s", dhcp_msg_type_name(s.r.msg_type),
                 dhcp_msg_type_name(type));
    return s;
}

void dh_assert_bcast_from_zero(const struct dh_sent *s)
{
    assert_int_equal(s->src.be, 0);
    assert_int_equal(s->dst.be, 0xffffffffu);
    assert_memory_equal(s->edst.b, dh_bcast_mac.b, 6);
}

bool dh_param_asked(const struct dhcp_repr *r, uint8_t code)
{
    for (int i = 0; i < r->nparams; i++)
        if (r->params[i] == code)
            return true;
    return false;
}

/* ---------------------------------------------------------------- the server */

/* A reply as server A sends it: lease 120 s (T1 60, T2 105), /24, router and
 * DNS, for the exchange in progress. */
struct dh_reply dh_reply(uint8_t type)
{
    struct dh_reply r = {0};
    r.op = DHCP_OP_REPLY;
    r.type = type;
    r.xid = st->dhcp ? st->dhcp->xid : 0; /* dh_bind_with sets it later */
    r.yiaddr = OFFERED;
    r.server = SERVER_A;
    r.smac = fx_peer_mac;
    r.chaddr = fx_dut_mac;
    r.sport = DHCP_SERVER_PORT;
    r.lease = 120;
    r.t1 = 60;
    r.t2 = 105;
    r.mask = dh_ip4(255, 255, 255, 0);
    r.router = SERVER_A;
    r.dns1 = SERVER_A;
    r.dns2 = dh_ip4(9, 9, 9, 9);
    return r;
}

static uint32_t opt_addr(uint8_t *p, uint8_t code, struct ipv4_addr a)
{
    p[0] = code;
    p[1] = 4;
    memcpy(p + 2, &a.be, 4);
    return 6;
}

static uint32_t opt_u32(uint8_t *p, uint8_t code, uint32_t v)
{
    p[0] = code;
    p[1] = 4;
    net_wr32(p + 2, v);
    return 6;
}

/* The DHCP message of rp, byte by byte (RFC 2131 figure 1). */
static uint32_t reply_bytes(const struct dh_reply *rp, uint8_t *m)
{
    memset(m, 0, 400);
    m[0] = rp->op;
    m[1] = 1;
    m[2] = 6;
    net_wr32(m + 4, rp->xid);
    memcpy(m + 16, &rp->yiaddr.be, 4);
    memcpy(m + 20, &rp->server.be, 4);
    memcpy(m + 28, rp->chaddr.b, 6);
    net_wr32(m + 236, 0x63825363);
    uint8_t *p = m + 240;
    *p++ = 53, *p++ = 1, *p++ = rp->type;
    if (!rp->no_server_id)
        p += opt_addr(p, 54, rp->server);
    if (rp->lease)
        p += opt_u32(p, 51, rp->lease);
    if (rp->t1)
        p += opt_u32(p, 58, rp->t1);
    if (rp->t2)
        p += opt_u32(p, 59, rp->t2);
    if (rp->mask.be)
        p += opt_addr(p, 1, rp->mask);
    if (rp->router.be)
        p += opt_addr(p, 3, rp->router);
    if (rp->dns1.be) {
        *p++ = 6, *p++ = rp->dns2.be ? 8 : 4;
        memcpy(p, &rp->dns1.be, 4), p += 4;
        if (rp->dns2.be)
            memcpy(p, &rp->dns2.be, 4), p += 4;
    }
    if (rp->mtu)
        *p++ = 26, *p++ = 2, net_wr16(p, rp->mtu), p += 2;
    *p++ = 255;
    uint32_t len = (uint32_t)(p - m);
    return len < 300 ? 300 : len;
}

/* The reply in a frame from the server, through the fake netif; mutate (when
 * set) may change the message's bytes and length first. */
void dh_deliver_mutated(const struct dh_reply *rp,
                        void (*mutate)(uint8_t *m, uint32_t *len))
{
    uint8_t m[400], f[14 + 20 + 8 + 400];
    uint32_t len = reply_bytes(rp, m);
    if (mutate)
        mutate(m, &len);
    struct ipv4_addr dst = rp->unicast ? rp->yiaddr : dh_ip4(255, 255, 255, 255);
    fx_eth(f, rp->unicast ? &fx_dut_mac : &dh_bcast_mac, &rp->smac, 0x0800);
    fx_ipv4(f + 14, rp->server, dst, 17, 7, 0, 64, (uint16_t)(8 + len));
    fx_udp(f + 34, rp->server, dst, rp->sport, DHCP_CLIENT_PORT, m, len);
    fake_netif_rx(&fk, f, 14 + 20 + 8 + len);
}

void dh_deliver(const struct dh_reply *rp)
{
    dh_deliver_mutated(rp, NULL);
}

void dh_deliver_type(uint8_t type)
{
    struct dh_reply r = dh_reply(type);
    dh_deliver(&r);
}

/* An ARP packet from mac/spa about tpa, broadcast. */
void dh_arp_in(uint16_t op, const struct eth_addr *mac, struct ipv4_addr spa,
               struct ipv4_addr tpa)
{
    uint8_t f[60] = {0};
    fx_eth(f, &dh_bcast_mac, mac, 0x0806);
    net_wr16(f + 14, 1);
    net_wr16(f + 16, 0x0800);
    f[18] = 6, f[19] = 4;
    net_wr16(f + 20, op);
    memcpy(f + 22, mac->b, 6);
    memcpy(f + 28, &spa.be, 4);
    if (op == 2)
        memcpy(f + 32, fx_dut_mac.b, 6);
    memcpy(f + 38, &tpa.be, 4);
    fake_netif_rx(&fk, f, 60);
}

/* ---------------------------------------------------------------- invariants */

/* Every reply is counted once: one drop reason, or taken. */
void dh_check_counters(void)
{
    const struct dhcp_stats *c = &dh_client()->st;
    uint64_t sum = c->drop_bad_port + c->drop_short + c->drop_bad_op + c->drop_bad_htype +
                   c->drop_bad_cookie + c->drop_truncated + c->drop_bad_option +
                   c->drop_xid + c->drop_chaddr + c->drop_unexpected + c->drop_bad_offer +
                   c->drop_bad_ack + c->drop_wrong_server + c->rx_offer + c->rx_ack +
                   c->rx_nak;
    assert_int_equal(c->rx, sum);
}

int64_t dh_ctr(const char *name)
{
    char full[64];
    snprintf(full, sizeof full, "dhcp.%s", name);
    return ctr(full);
}

/* ---------------------------------------------------------------- common paths */

uint64_t dh_req_at; /* when the REQUEST that got the lease went out */

/* start, OFFER, REQUEST, ACK (rp, or the default), probes: BOUND. */
void dh_bind_with(const struct dh_reply *ack)
{
    assert_int_equal(dhcp_start(st, &dh_cfg), DHCP_OK);
    dh_deliver_type(DHCP_OFFER);
    dh_req_at = plat_now_ns();
    assert_int_equal(dh_state(), DHCP_REQUESTING);
    if (ack) {
        struct dh_reply a = *ack;
        a.xid = dh_client()->xid;
        dh_deliver(&a);
    } else {
        dh_deliver_type(DHCP_ACK);
    }
    dh_advance(10 *
               DH_SEC); /* RFC 5227: probes and the wait within 7 s, announced 2 s on */
    assert_int_equal(dh_state(), DHCP_BOUND);
    fake_netif_tx_clear(&fk);
}

void dh_bind_default(void)
{
    dh_bind_with(NULL);
}
