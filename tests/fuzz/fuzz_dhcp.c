/* DHCP: the parser (net/wire/dhcp.h) and the client (net/dhcp.h).
 * Parser: the fixed part's verdict against a reference (240 bytes, op, Ethernet,
 * cookie, in that order); a message that parses emits and parses back to the
 * same repr; an option area that parses has no truncated option before its END
 * (a reference walk), and TRUNCATED means the reference finds one.
 * Client: driven with well-formed replies into a state (SELECTING, REQUESTING,
 * PROBING, BOUND, RENEWING, REBINDING, REBOOTING, INIT after a DECLINE), then a
 * program of replies (well formed from fields, with fuzzed options, raw bytes),
 * ARP packets (conflicts), clock steps, stop/start and printing. After every
 * step: the stack's invariants (fuzz.h), the state valid, every reply counted
 * once, the address configured exactly while a lease is held and equal to it,
 * the lease's times in order, and every DHCP message sent well formed.
 * Input: u16 length and a message (parser), a start state, then steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/dhcp.h"
#include "net/wire/arp.h"
#include "net/wire/dhcp.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_plat.h"

#define SEC 1000000000ull

static uint8_t msg[2048], frame[2200];

/* ------------------------------------------------------------ the parser */

static enum dhcp_wire_err ref_fixed(const uint8_t *p, size_t n)
{
    if (n < 240)
        return DHCP_WIRE_SHORT;
    if (p[0] != 1 && p[0] != 2)
        return DHCP_WIRE_BAD_OP;
    if (p[1] != 1 || p[2] != 6)
        return DHCP_WIRE_BAD_HTYPE;
    if (p[236] != 99 || p[237] != 130 || p[238] != 83 || p[239] != 99)
        return DHCP_WIRE_BAD_COOKIE;
    return DHCP_WIRE_OK;
}

/* True when a TLV walk of p[0, n) meets an option running past n before END. */
static bool ref_truncated(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0) {
            i++;
            continue;
        }
        if (p[i] == 255)
            return false;
        if (i + 1 >= n || i + 2 + p[i + 1] > n)
            return true;
        i += 2u + p[i + 1];
    }
    return false;
}

static void parser_step(const uint8_t *p, size_t n)
{
    struct view v = view_of_mem((void *)p, (uint32_t)n);
    struct dhcp_repr r, back;
    enum dhcp_wire_err got = dhcp_parse(&v, &r), want = ref_fixed(p, n);
    FZ_CHECK(dhcp_check(&v) == want, "dhcp_check %d, reference %d", dhcp_check(&v), want);
    if (want != DHCP_WIRE_OK) {
        FZ_CHECK(got == want, "dhcp_parse %d, reference %d", got, want);
        return;
    }
    if (got == DHCP_WIRE_TRUNCATED) {
        bool any = ref_truncated(p + 240, n - 240) || ref_truncated(p + 108, 128) ||
                   ref_truncated(p + 44, 64);
        FZ_CHECK(any, "TRUNCATED but every option area walks");
    }
    if (got != DHCP_WIRE_OK) {
        FZ_CHECK(got == DHCP_WIRE_TRUNCATED || got == DHCP_WIRE_BAD_OPTION,
                 "dhcp_parse %d past the fixed part", got);
        return;
    }
    FZ_CHECK(!ref_truncated(p + 240, n - 240), "options parse but one is truncated");
    FZ_CHECK(r.xid == dhcp_get_xid(p) && r.op == p[0], "fixed fields misread");
    uint8_t out[DHCP_EMIT_MAX];
    uint32_t len = dhcp_emit(&r, out, sizeof out);
    FZ_CHECK(len >= DHCP_BOOTP_MIN && len <= DHCP_EMIT_MAX, "emit gave %u", len);
    struct view ov = view_of_mem(out, len);
    FZ_CHECK(dhcp_parse(&ov, &back) == DHCP_WIRE_OK, "emit(parse(m)) does not parse");
    FZ_CHECK(memcmp(&back, &r, sizeof r) == 0, "parse(emit(parse(m))) != parse(m)");
    (void)dhcp_msg_type_name(r.msg_type);
}

/* ------------------------------------------------------------ replies */

static struct ipv4_addr pick_addr(uint8_t k)
{
    switch (k % 12) {
    case 0:
    case 1:
    case 2:
        return ipv4_addr_make(10, 0, 0, 50); /* what the servers offer */
    case 3:
        return ipv4_addr_make(10, 0, 0, 60);
    case 4:
    case 5:
        return ipv4_addr_make(10, 0, 0, 1); /* server A (the peer) */
    case 6:
        return ipv4_addr_make(10, 0, 0, 3); /* server B */
    case 7:
        return ipv4_addr_make(0, 0, 0, 0);
    case 8:
        return ipv4_addr_make(255, 255, 255, 255);
    case 9:
        return ipv4_addr_make(224, 0, 0, 1);
    case 10:
        return ipv4_addr_make(127, 0, 0, 1);
    default:
        return ipv4_addr_make(192, 168, (uint8_t)(k >> 4), 7);
    }
}

static uint32_t cur_xid(void)
{
    return fz_env.st->dhcp ? fz_env.st->dhcp->xid : 0;
}

/* The message (len bytes in msg) from src:67 in a frame to us: broadcast, or
 * unicast to dst and our MAC. */
static void send_reply(struct ipv4_addr src, uint16_t sport, bool unicast,
                       struct ipv4_addr dst, uint32_t len)
{
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    if (!unicast)
        dst = ipv4_addr_make(255, 255, 255, 255);
    size_t n = fx_eth(frame, unicast ? &fx_dut_mac : &bc, &fx_peer_mac, ETH_TYPE_IPV4);
    n += fx_ipv4_opts(frame + n, src, dst, IPV4_PROTO_UDP, 9, 0, 64, NULL, 0,
                      (uint16_t)(8 + len));
    uint8_t *u = frame + n;
    net_wr16(u, sport);
    net_wr16(u + 2, DHCP_CLIENT_PORT);
    net_wr16(u + 4, (uint16_t)(8 + len));
    memcpy(u + 8, msg, len);
    fz_fix_udp(u, 8 + len, src, dst);
    fz_rx(frame, (uint32_t)(n + 8 + len));
}

struct fields {
    uint8_t type;
    struct ipv4_addr yiaddr, server, mask;
    uint32_t lease, t1, t2;
    uint16_t mtu;
    bool no_lease, no_server_id, unicast;
};

static uint32_t build_reply(const struct fields *f)
{
    struct dhcp_repr r;
    memset(&r, 0, sizeof r);
    r.op = DHCP_OP_REPLY;
    r.xid = cur_xid();
    r.yiaddr = f->yiaddr;
    r.siaddr = f->server;
    r.chaddr = fx_dut_mac;
    r.msg_type = f->type;
    r.present = DHCP_HAS_MSG_TYPE | DHCP_HAS_ROUTER | DHCP_HAS_DNS;
    r.nrouters = r.ndns = 1;
    r.routers[0] = r.dns[0] = f->server;
    if (!f->no_server_id)
        r.present |= DHCP_HAS_SERVER_ID, r.server_id = f->server;
    if (!f->no_lease)
        r.present |= DHCP_HAS_LEASE_TIME | DHCP_HAS_T1 | DHCP_HAS_T2;
    r.lease_secs = f->lease, r.t1_secs = f->t1, r.t2_secs = f->t2;
    if (f->mask.be)
        r.present |= DHCP_HAS_SUBNET_MASK, r.subnet_mask = f->mask;
    if (f->mtu >= 68)
        r.present |= DHCP_HAS_MTU, r.mtu = f->mtu;
    return dhcp_emit(&r, msg, sizeof msg);
}

static void well_formed(uint8_t type, uint32_t lease)
{
    struct fields f = {
        type,  pick_addr(0), pick_addr(4),  ipv4_addr_make(255, 255, 255, 0),
        lease, lease / 2,    lease * 7 / 8, 0,
        false, false,        false};
    send_reply(f.server, DHCP_SERVER_PORT, false, f.yiaddr, build_reply(&f));
}

/* A reply from fields of the input. */
static void fields_step(struct fz *c)
{
    static const uint8_t types[4] = {DHCP_OFFER, DHCP_ACK, DHCP_NAK, DHCP_ACK};
    static const uint16_t mtus[4] = {0, 576, 1400, 9000};
    struct fields f;
    f.type = types[fz_u8(c) & 3];
    f.yiaddr = pick_addr(fz_u8(c));
    f.server = pick_addr((uint8_t)(4 + (fz_u8(c) & 3)));
    f.lease = fz_u32(c);
    f.t1 = fz_u32(c);
    f.t2 = fz_u32(c);
    uint8_t k = fz_u8(c);
    f.mask = (k & 1)   ? ipv4_addr_make(255, 255, 255, 0)
             : (k & 2) ? ipv4_addr_make(255, 0, 255, 0)
                       : ipv4_addr_make(0, 0, 0, 0);
    f.mtu = mtus[(k >> 2) & 3];
    f.no_lease = k & 0x10;
    f.no_server_id = k & 0x20;
    f.unicast = k & 0x40;
    if (k & 0x80) /* short leases reach T1, T2 and expiry within a few steps */
        f.lease %= 600, f.t1 %= 600, f.t2 %= 600;
    send_reply(f.server, DHCP_SERVER_PORT, f.unicast, f.yiaddr, build_reply(&f));
}

/* A reply whose options after the message type are the input's bytes; the
 * fixed part fixed up (xid, chaddr, cookie) unless the flags say not to. */
static void options_step(struct fz *c)
{
    uint8_t type = fz_u8(c), flags = fz_u8(c), sel = fz_u8(c), n = fz_u8(c);
    memset(msg, 0, 300);
    msg[0] = (flags & 1) ? DHCP_OP_REQUEST : DHCP_OP_REPLY;
    msg[1] = 1, msg[2] = 6;
    net_wr32(msg + 4, (flags & 2) ? 0x12345678 : cur_xid());
    struct ipv4_addr y = pick_addr(sel);
    memcpy(msg + 16, &y.be, 4);
    memcpy(msg + 28, fx_dut_mac.b, 6);
    if (flags & 4)
        msg[33] ^= 1;
    net_wr32(msg + 236, (flags & 8) ? 0x63825364 : DHCP_COOKIE);
    msg[240] = 53, msg[241] = 1, msg[242] = type % 10;
    uint32_t len = 243 + (uint32_t)fz_bytes(c, msg + 243, n);
    if (flags & 0x10)
        msg[len++] = 255;
    if (flags & 0x20) /* options in file and sname too */
        fz_bytes(c, msg + 44, fz_u8(c) % 192);
    if (len < 300 && !(flags & 0x40))
        len = 300;
    send_reply(pick_addr((uint8_t)(4 + (sel >> 6))),
               (flags & 0x80) ? 1067 : DHCP_SERVER_PORT, false, y, len);
}

static void raw_step(struct fz *c)
{
    uint32_t len = (uint32_t)fz_bytes(c, msg, fz_u16(c) % 700);
    send_reply(pick_addr(4), DHCP_SERVER_PORT, false, pick_addr(0), len);
}

static void arp_step(struct fz *c)
{
    uint8_t f[60] = {0}, k = fz_u8(c);
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    struct eth_addr sha = {{0x02, 0, 0, 0, 0, (uint8_t)(0x60 | (k & 7))}};
    struct ipv4_addr spa = pick_addr(fz_u8(c)), tpa = pick_addr(fz_u8(c));
    fx_eth(f, &bc, &sha, ETH_TYPE_ARP);
    net_wr16(f + 14, 1);
    net_wr16(f + 16, 0x0800);
    f[18] = 6, f[19] = 4;
    net_wr16(f + 20, (k & 8) ? ARP_OP_REPLY : ARP_OP_REQUEST);
    memcpy(f + 22, sha.b, 6);
    memcpy(f + 28, &spa.be, 4);
    memcpy(f + 38, &tpa.be, 4);
    fz_rx(f, sizeof f);
}

/* ------------------------------------------------------------ checks */

static void on_tx(const uint8_t *f, uint32_t len)
{
    if (net_rd16(f + 12) != ETH_TYPE_IPV4 || f[14 + 9] != IPV4_PROTO_UDP || len < 42 ||
        net_rd16(f + 36) != DHCP_SERVER_PORT)
        return;
    const uint8_t *u = f + 34;
    FZ_CHECK(net_rd16(u) == DHCP_CLIENT_PORT, "DHCP sent from port %u", net_rd16(u));
    if (net_rd16(f + 14 + 6) & 0x3fff)
        return; /* fragmented (a tiny leased MTU): fz_check_tx checks the pieces */
    FZ_CHECK(net_rd16(u + 4) >= 8 + DHCP_BOOTP_MIN, "DHCP message under 300 bytes");
    struct view v = view_of_mem((void *)(u + 8), net_rd16(u + 4) - 8u);
    struct dhcp_repr r;
    FZ_CHECK(dhcp_parse(&v, &r) == DHCP_WIRE_OK, "a DHCP message sent does not parse");
    FZ_CHECK(r.op == DHCP_OP_REQUEST && eth_addr_eq(&r.chaddr, &fx_dut_mac),
             "op/chaddr of a message sent");
    FZ_CHECK(r.msg_type == DHCP_DISCOVER || r.msg_type == DHCP_REQUEST ||
                 r.msg_type == DHCP_DECLINE || r.msg_type == DHCP_RELEASE,
             "sent a %s", dhcp_msg_type_name(r.msg_type));
    FZ_CHECK(r.client_id_len == 7 && r.client_id[0] == 1, "client identifier");
    if (r.msg_type == DHCP_DISCOVER || r.msg_type == DHCP_DECLINE)
        FZ_CHECK(net_rd32(f + 14 + 12) == 0 && net_rd32(f + 14 + 16) == 0xffffffffu,
                 "%s not broadcast from 0.0.0.0", dhcp_msg_type_name(r.msg_type));
}

static bool holding(enum dhcp_state s)
{
    return s == DHCP_BOUND || s == DHCP_RENEWING || s == DHCP_REBINDING;
}

static void check_client(void)
{
    const struct net_stack *s = fz_env.st;
    const struct dhcp *d = s->dhcp;
    if (!d) {
        FZ_CHECK(ipv4_addr_is_any(s->ip.addr), "address kept after stop");
        return;
    }
    FZ_CHECK(d->state > DHCP_STOPPED && d->state < DHCP_NSTATES, "state %d", d->state);
    const struct dhcp_stats *c = &d->st;
    uint64_t sum = c->drop_bad_port + c->drop_short + c->drop_bad_op + c->drop_bad_htype +
                   c->drop_bad_cookie + c->drop_truncated + c->drop_bad_option +
                   c->drop_xid + c->drop_chaddr + c->drop_unexpected + c->drop_bad_offer +
                   c->drop_bad_ack + c->drop_wrong_server + c->rx_offer + c->rx_ack +
                   c->rx_nak;
    FZ_CHECK(c->rx == sum, "dhcp.rx %llu, counted %llu", (unsigned long long)c->rx,
             (unsigned long long)sum);
    FZ_CHECK(net_counter(s, "udp.delivered") >= (int64_t)c->rx, "more replies than UDP");
    if (holding(d->state)) {
        const struct dhcp_lease *l = &d->lease;
        FZ_CHECK(ipv4_addr_eq(s->ip.addr, l->addr) && !ipv4_addr_is_any(l->addr),
                 "holding a lease, the stack has another address");
        FZ_CHECK(l->start <= l->t1 && l->t1 <= l->t2 && l->t2 <= l->expiry,
                 "lease times out of order");
        FZ_CHECK(s->ip.mtu <= d->link_mtu && s->ip.mtu >= IPV4_MIN_MTU, "MTU %u",
                 s->ip.mtu);
    } else {
        FZ_CHECK(ipv4_addr_is_any(s->ip.addr), "%s with an address configured",
                 dhcp_state_name(d->state));
        FZ_CHECK(s->ip.mtu == d->link_mtu, "MTU %u without a lease", s->ip.mtu);
    }
}

static void advance(uint64_t ns)
{
    fz_advance(ns);
    check_client();
}

/* To the next deadline (the timer thread's view). */
static void jump(void)
{
    uint64_t d = net_next_deadline(fz_env.st), now = plat_now_ns();
    if (d != UINT64_MAX)
        advance(d > now ? d - now : 0);
}

/* ------------------------------------------------------------ program */

static void start(bool requested, bool no_probe, uint64_t seed)
{
    struct dhcp_config cfg = {0};
    cfg.seed = seed | 1;
    cfg.no_probe = no_probe;
    if (requested)
        cfg.requested = ipv4_addr_make(10, 0, 0, 50);
    FZ_CHECK(dhcp_start(fz_env.st, &cfg) == DHCP_OK, "dhcp_start failed");
    fz_check_tx();
    check_client();
}

static void stop(void)
{
    dhcp_stop(fz_env.st);
    fz_check_tx();
    fz_check_invariants();
    check_client();
}

/* Source addresses are checked as each frame leaves, against the address at
 * that moment: within one step the address may change (a RELEASE then the
 * removal, an ARP retry then an expiry in one tick), so fz_check_tx, which
 * runs after the step, skips that check. Frames that waited in ARP's queue are
 * checked when they leave, which also checks that none outlives its address. */
static const struct netif_ops *fake_ops;
static struct netif_ops checked_ops;

static enum netif_err checked_send(struct netif *nif, struct netbuf *b, uint32_t len,
                                   const struct netbuf_seg *extra, int nextra)
{
    const uint8_t *f = b->data + nif->tx_headroom;
    struct ipv4_addr ours = fz_env.st->ip.addr;
    if (len >= 42 && net_rd16(f + 12) == ETH_TYPE_ARP)
        FZ_CHECK(memcmp(f + 28, &ours.be, 4) == 0, "ARP sent from an address not ours");
    if (len >= 34 && net_rd16(f + 12) == ETH_TYPE_IPV4)
        FZ_CHECK(memcmp(f + 26, &ours.be, 4) == 0, "IPv4 sent from an address not ours");
    return fake_ops->tx_send(nif, b, len, extra, nextra);
}

static void check_sources_at_send(void)
{
    fake_ops = fz_env.fk.nif.ops;
    checked_ops = *fake_ops;
    checked_ops.tx_send = checked_send;
    fz_env.fk.nif.ops = &checked_ops;
    fz_env.src_checked_at_send = true;
}

static void drive_to(uint8_t sel)
{
    static const struct eth_addr intruder = {{0x02, 0, 0, 0, 0, 0x66}};
    start((sel & 7) == 6, false, sel);
    switch (sel & 7) {
    case 6: /* REBOOTING */
    case 0: /* SELECTING */
        return;
    case 1: /* REQUESTING */
        well_formed(DHCP_OFFER, 120);
        return;
    case 7: { /* INIT after a DECLINE */
        well_formed(DHCP_OFFER, 120);
        well_formed(DHCP_ACK, 120);
        uint8_t f[60] = {0};
        static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
        struct ipv4_addr spa = pick_addr(0);
        fx_eth(f, &bc, &intruder, ETH_TYPE_ARP);
        net_wr16(f + 14, 1), net_wr16(f + 16, 0x0800), f[18] = 6, f[19] = 4;
        net_wr16(f + 20, ARP_OP_REPLY);
        memcpy(f + 22, intruder.b, 6);
        memcpy(f + 28, &spa.be, 4);
        fz_rx(f, sizeof f);
        return;
    }
    default:
        break;
    }
    well_formed(DHCP_OFFER, 120);
    well_formed(DHCP_ACK, 120);
    if ((sel & 7) == 2) /* PROBING */
        return;
    advance(10 * SEC);
    if ((sel & 7) >= 4) /* RENEWING at 60 s, REBINDING at 105 s */
        advance(((sel & 7) == 4 ? 55 : 100) * SEC);
}

static size_t printed;
static void print_sink(void *ctx, const char *line)
{
    (void)ctx;
    printed += strlen(line);
}

/* FZ_DEBUG=1: a line per step, to read what an input did. */
static void trace(int step, uint8_t op)
{
    static int debug = -1;
    if (debug < 0)
        debug = getenv("FZ_DEBUG") != NULL;
    if (!debug)
        return;
    const struct dhcp *d = fz_env.st->dhcp;
    char a[IPV4_ADDR_STRLEN];
    fprintf(stderr, "step %d op %u: t=%.3f s, %s, address %s\n", step, op % 8,
            (double)plat_now_ns() / 1e9, d ? dhcp_state_name(d->state) : "stopped",
            ipv4_addr_fmt(fz_env.st->ip.addr, a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz c = {data, size};
    size_t n = fz_bytes(&c, msg, fz_u16(&c) % 1500);
    parser_step(msg, n);

    fz_stack_new(NULL);
    fz_env.tx_hook = on_tx;
    check_sources_at_send();
    drive_to(fz_u8(&c));
    trace(-1, 0);
    check_client();
    for (int step = 0; !fz_done(&c) && step < 300; step++) {
        uint8_t op = fz_u8(&c);
        switch (op % 8) {
        case 0:
            fields_step(&c);
            break;
        case 1:
            options_step(&c);
            break;
        case 2:
            raw_step(&c);
            break;
        case 3:
            arp_step(&c);
            break;
        case 4:
            advance((op & 0x80) ? fz_u8(&c) * SEC : fz_u8(&c) * 10000000ull);
            break;
        case 5:
            jump();
            break;
        case 6:
            if (fz_env.st->dhcp)
                stop();
            else
                start(op & 0x10, op & 0x20, op);
            break;
        default:
            dhcp_print(fz_env.st, print_sink, NULL);
            net_stats_print(fz_env.st, NULL, print_sink, NULL);
            break;
        }
        trace(step, op);
        check_client();
    }
    fz_stack_free();
    return 0;
}
