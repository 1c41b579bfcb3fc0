/* The TCP test harness (see tests/unit/tcp_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tests/unit/tcp_harness.h"

struct tcp *tc;
struct tcp_flow *accepted;
int naccepted;
struct tcp_listener *lst;
static int seen_tx;

void h_setup_mtu(const struct tcp_config *tcfg, uint16_t mtu, int segs)
{
    struct harness_config c = {0};
    c.mtu = mtu;
    c.max_segs = segs;
    c.clock_ns = T0;
    c.static_peer = true;
    if (tcfg)
        c.tune.tcp = *tcfg;
    for (int i = 0; i < 16; i++)
        c.tune.tcp.secret[i] = (uint8_t)(i * 17 + 1);
    harness_setup(&c);
    tc = st->tcp;
    seen_tx = 0;
}

void h_setup(const struct tcp_config *tcfg)
{
    h_setup_mtu(tcfg, 1500, 4);
}

void h_teardown(void)
{
    harness_destroy();
    seen_tx = 0;
}

/* ------------------------------------------------------------ reference sums */

static uint32_t h_ref_sum(uint32_t s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

static uint32_t h_ref_pseudo(struct ipv4_addr src, struct ipv4_addr dst, size_t len)
{
    uint8_t ph[12];
    memcpy(ph, &src.be, 4);
    memcpy(ph + 4, &dst.be, 4);
    ph[8] = 0;
    ph[9] = 6;
    ph[10] = (uint8_t)(len >> 8);
    ph[11] = (uint8_t)len;
    return h_ref_sum(0, ph, 12);
}

/* ------------------------------------------------------------ peer -> stack */

uint32_t build_segment(uint8_t *tcp, const struct hseg *s)
{
    uint32_t ol = s->raw_len ? s->raw_len
                             : tcp_options_emit(&s->o, s->flags & TCP_SYN, tcp + 20, 40);
    if (s->raw_len)
        memcpy(tcp + 20, s->raw_opts, s->raw_len);
    struct tcp_repr r = {s->sport,           s->dport, s->seq, s->ack, s->flags,
                         (uint8_t)(20 + ol), s->wnd,   0,      0};
    tcp_header_emit(&r, tcp);
    if (s->len)
        memcpy(tcp + 20 + ol, s->data, s->len);
    uint32_t n = 20 + ol + s->len;
    uint16_t c = (uint16_t)~h_ref_sum(h_ref_pseudo(s->src, s->dst, n), tcp, n);
    net_wr16(tcp + TCP_OFF_CSUM, c);
    return n;
}

void h_inject(const struct hseg *s)
{
    static uint8_t f[MAX_SEG_DATA + 200];
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    uint32_t tl = build_segment(f + n + 20, s);
    fx_ipv4(f + n, s->src, s->dst, 6, 1, 0x4000, 64, (uint16_t)tl);
    fake_netif_rx(&fk, f, (uint32_t)(n + 20 + tl));
}

void h_raw(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
           uint16_t wnd, const struct tcp_opts *o, const void *data, uint32_t len)
{
    struct hseg s = {0};
    s.src = fx_peer_ip();
    s.dst = fx_dut_ip();
    s.sport = sport;
    s.dport = dport;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.wnd = wnd;
    if (o)
        s.o = *o;
    s.data = data;
    s.len = len;
    h_inject(&s);
}

/* ------------------------------------------------------------ stack -> peer */

int h_pending(void)
{
    return fk.ntx - seen_tx;
}

void h_clear(void)
{
    fake_netif_tx_clear(&fk);
    seen_tx = 0;
}

/* The next segment the stack sent, verified and parsed; false when none. */
bool h_next(struct oseg *s)
{
    uint32_t len;
    const uint8_t *f = fake_netif_tx(&fk, seen_tx, &len);
    if (!f)
        return false;
    seen_tx++;
    assert_true(len >= 14 + 20 + 20);
    assert_int_equal(net_rd16(f + 12), 0x0800);
    const uint8_t *ip = f + 14;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(ip[9], 6);
    assert_int_equal(h_ref_sum(0, ip, 20), 0xffff);
    uint32_t tl = net_rd16(ip + 2) - 20u;
    assert_true(14 + 20 + tl <= len);
    const uint8_t *t = ip + 20;
    s->src = ipv4_addr_load(ip + 12);
    s->dst = ipv4_addr_load(ip + 16);
    s->df = net_rd16(ip + 6) & 0x4000;
    assert_int_equal(h_ref_sum(h_ref_pseudo(s->src, s->dst, tl), t, tl), 0xffff);
    struct view v = view_of_mem((void *)t, tl);
    assert_int_equal(tcp_header_parse(&v, s->src, s->dst, &s->r), TCP_WIRE_OK);
    memset(&s->o, 0, sizeof s->o);
    tcp_options_parse(t + 20, s->r.hdr_len - 20u, &s->o);
    assert_int_equal(s->o.bad, 0);
    s->len = tl - s->r.hdr_len;
    assert_true(s->len <= MAX_SEG_DATA);
    memcpy(s->data, t + s->r.hdr_len, s->len);
    if (seen_tx == fk.ntx)
        h_clear();
    return true;
}

void h_expect_none(void)
{
    struct oseg o;
    if (h_next(&o)) {
        char fl[32];
        fail_msg("unexpected segment %s seq %u ack %u len %u",
                 tcp_flags_fmt(o.r.flags, fl), o.r.seq, o.r.ack, o.len);
    }
}

void h_expect(struct oseg *o, uint8_t flags)
{
    if (!h_next(o))
        fail_msg("no segment sent (expected flags 0x%02x)", flags);
    if (o->r.flags != flags) {
        char a[32], b[32];
        fail_msg("flags %s, expected %s", tcp_flags_fmt(o->r.flags, a),
                 tcp_flags_fmt(flags, b));
    }
}

/* ------------------------------------------------------------ time */

/* Runs the stack's timers at their deadlines up to abs, then sets the clock there. */
void h_run_until(uint64_t abs)
{
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t d = net_next_deadline(st);
        if (d > abs)
            break;
        if (d > plat_now_ns())
            host_clock_set(d);
        net_tick(st, plat_now_ns());
    }
    if (abs > plat_now_ns())
        host_clock_set(abs);
}

void h_advance(uint64_t ns)
{
    h_run_until(plat_now_ns() + ns);
}

/* ------------------------------------------------------------ a scripted peer */

void peer_init(struct peer *pr, uint32_t isn)
{
    memset(pr, 0, sizeof *pr);
    pr->port = PEER_PORT;
    pr->dport = DUT_PORT;
    pr->isn = isn;
    pr->seq = isn;
    pr->wnd = 65535;
    pr->tsval = 5000;
}

/* A segment from the peer with its current numbers; data advances seq. */
void peer_send(struct peer *pr, uint8_t flags, const void *data, uint32_t len)
{
    struct tcp_opts o = {0};
    if (pr->ts) {
        o.present = TCP_OPTF_TS;
        o.ts_val = pr->tsval++;
        o.ts_ecr = pr->ts_recent;
    }
    h_raw(pr->port, pr->dport, flags, pr->seq, pr->ack, pr->wnd, &o, data, len);
    pr->seq += len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
}

/* The peer reads what the stack sent: its sequence numbers and timestamp. */
void peer_saw(struct peer *pr, const struct oseg *o)
{
    if (o->o.present & TCP_OPTF_TS)
        pr->ts_recent = o->o.ts_val;
    uint32_t end = o->r.seq + o->len + ((o->r.flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
    if (seq_gt(end, pr->ack) && seq_leq(o->r.seq, pr->ack))
        pr->ack = end;
}

static void on_accept(void *ctx, struct tcp_flow *f)
{
    (void)ctx;
    accepted = f;
    naccepted++;
}

void h_listen(void)
{
    accepted = NULL;
    naccepted = 0;
    assert_int_equal(tcp_listen(tc, DUT_PORT, 8, on_accept, NULL, &lst), TCP_OK);
}

/* Passive open from pr: SYN (with the given options), SYN-ACK, ACK; returns the
 * accepted flow. */
struct tcp_flow *h_open(struct peer *pr, const struct tcp_opts *syn)
{
    struct tcp_opts o = syn ? *syn : (struct tcp_opts){0};
    struct oseg s;
    if (pr->ts) {
        o.present |= TCP_OPTF_TS;
        o.ts_val = pr->tsval++;
        o.ts_ecr = 0;
    }
    h_raw(pr->port, pr->dport, TCP_SYN, pr->isn, 0, pr->wnd, &o, NULL, 0);
    pr->seq = pr->isn + 1;
    h_expect(&s, TCP_SYN | TCP_ACK);
    assert_int_equal(s.r.ack, pr->isn + 1);
    pr->ack = s.r.seq + 1;
    if (s.o.present & TCP_OPTF_TS)
        pr->ts_recent = s.o.ts_val;
    accepted = NULL;
    peer_send(pr, TCP_ACK, NULL, 0);
    assert_non_null(accepted);
    return accepted;
}

enum tcp_state h_state(struct tcp_flow *f)
{
    struct tcp_flow_info fi;
    tcp_flow_info(f, &fi);
    return fi.state;
}

/* Reads everything available now (timeout 0) into buf; returns the bytes. */
uint32_t h_read_all(struct tcp_flow *f, uint8_t *buf, uint32_t cap, bool *eof)
{
    uint32_t n = 0;
    struct view v;
    *eof = false;
    for (;;) {
        enum tcp_err e = tcp_read(f, &v, 0);
        if (e == TCP_EWOULDBLOCK)
            break;
        assert_int_equal(e, TCP_OK);
        if (v.len == 0) {
            *eof = true;
            break;
        }
        assert_true(n + v.len <= cap);
        memcpy(buf + n, view_data(&v), v.len);
        n += v.len;
    }
    return n;
}

void fill_pattern(uint8_t *p, uint32_t n, uint32_t seed)
{
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)((i + seed) * 131 + ((i + seed) >> 8));
}
