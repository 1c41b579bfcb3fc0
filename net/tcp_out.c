/* Segments out. The header is built in place through ipv4_write's headerf, the
 * payload goes as views of the send queue's chunks (referenced for the call, so
 * an ACK arriving while the driver waits cannot free them), the checksum is the
 * pseudoheader sum plus the header and payload sums. Every write is non-blocking
 * (ARP queues, or a counted failure left to the retransmission timer).
 * tcp_output decides what may go: retransmissions of holes during recovery, then
 * new data within the peer's window and cwnd, with Nagle and sender SWS
 * avoidance, the FIN after the last byte; then it arms the retransmission or the
 * persist timer. */
#include "net/tcp_int.h"

/* Payloads up to this size go inside the header's buffer (one checksum pass, no
 * references; IPv4 would copy them anyway). */
#define TCP_INLINE_MAX 256

/* One segment: the header fields (host order), options, payload. */
struct seg_out {
    struct tcp *t;
    struct tcp_pcb *p; /* inline payload: [seq, seq + ilen) of p's send queue */
    uint32_t ports;    /* source port << 16 | destination port */
    uint32_t seq, ack;
    uint16_t window;
    uint8_t flags;
    bool syn;
    uint32_t optlen, ilen, plen;
    uint64_t ph_sum; /* the pseudoheader's partial sum without the length */
    struct ipv4_addr dst;
    const struct view *pl;
    int n;
    struct tcp_opts o; /* only what o.present names is read */
};

/* The one-chunk case of tcp_sndq_copy without its call. */
static inline uint32_t copy_inline(struct tcp_pcb *p, uint32_t seq, uint32_t len,
                                   uint8_t *dst)
{
    const struct tcp_chunk *c = p->sq.cur;
    uint32_t off = c ? seq - c->seq : 0;
    if (c && off < c->len && len <= c->len - off) {
        memcpy(dst, c->data + off, len);
        return len;
    }
    return tcp_sndq_copy(p, seq, len, dst);
}

/* tcp_options_len for what our segments carry: the SYN layout, timestamps alone
 * without a call. */
static inline uint32_t options_len(const struct tcp_opts *o, bool syn)
{
    if (!o->present)
        return 0;
    if (syn)
        return ((o->present & TCP_OPTF_MSS) ? 4 : 0) +
               ((o->present & TCP_OPTF_TS)          ? 12
                : (o->present & TCP_OPTF_SACK_PERM) ? 4
                                                    : 0) +
               ((o->present & TCP_OPTF_WS) ? 4 : 0);
    if (o->present == TCP_OPTF_TS)
        return 12;
    return tcp_options_len(o, false);
}

/* tcp_options_emit's bytes for the SYN layout and for timestamps alone, a word at
 * a time (c->optlen bytes). */
static void put_options(const struct seg_out *c, uint8_t *q)
{
    const struct tcp_opts *o = &c->o;
    if (!c->syn && o->present != TCP_OPTF_TS) {
        tcp_options_emit(o, false, q, c->optlen);
        return;
    }
    if (o->present & TCP_OPTF_MSS) {
        net_wr32(q, 0x02040000u | o->mss);
        q += 4;
    }
    if (o->present & TCP_OPTF_TS) {
        bool sp = c->syn && (o->present & TCP_OPTF_SACK_PERM);
        net_wr32(q, sp ? 0x0402080au : 0x0101080au);
        net_wr32(q + 4, o->ts_val);
        net_wr32(q + 8, o->ts_ecr);
        q += 12;
    } else if (o->present & TCP_OPTF_SACK_PERM) {
        net_wr32(q, 0x01010402u);
        q += 4;
    }
    if (c->syn && (o->present & TCP_OPTF_WS))
        net_wr32(q, 0x01030300u | u32_min(o->wscale, TCP_MAX_WSCALE));
}

/* The header, options and inline payload in place, the checksum over them (the
 * header's words summed as written) and the payload views. */
static uint32_t put_header(void *ctx, const struct view *hv)
{
    struct seg_out *c = ctx;
    uint8_t *h = view_data(hv);
    uint32_t hl = TCP_HDR_LEN + c->optlen;
    uint32_t w3 = (hl / 4) << 28 | (uint32_t)c->flags << 16 | c->window;
    net_wr32(h + TCP_OFF_SPORT, c->ports);
    net_wr32(h + TCP_OFF_SEQ, c->seq);
    net_wr32(h + TCP_OFF_ACK, c->ack);
    net_wr32(h + TCP_OFF_DOFF, w3);
    net_wr32(h + TCP_OFF_CSUM, 0);
    if (c->optlen)
        put_options(c, h + TCP_HDR_LEN);
    if (c->ilen)
        c->ilen = copy_inline(c->p, c->seq, c->ilen, h + hl);
    uint64_t s = c->ph_sum + csum_be16((uint16_t)(hl + c->ilen + c->plen)) +
                 csum_load32(h) + csum_load32(h + 4) + csum_load32(h + 8) +
                 csum_load32(h + 12);
    if (c->optlen + c->ilen)
        s = csum_add(s, h + TCP_HDR_LEN, c->optlen + c->ilen);
    if (c->n)
        s = csum_views(s, c->pl, c->n);
    net_wr16(h + TCP_OFF_CSUM, csum_finish(s));
    return hl + c->ilen;
}

static inline enum ipv4_err xmit(struct seg_out *c)
{
    static const struct ipv4_wopts wo = {.nowait = true, .dont_fragment = true};
    struct tcp *t = c->t;
    c->optlen = options_len(&c->o, c->syn);
    enum ipv4_err e =
        ipv4_write(t->ip, &wo, c->dst, IPV4_PROTO_TCP, TCP_HDR_LEN + c->optlen + c->ilen,
                   put_header, c, c->pl, c->n);
    if (e == IPV4_OK)
        t->st.tx++;
    else
        t->st.tx_errors++;
    return e;
}

/* ------------------------------------------------------------ windows */

/* The window field for a segment leaving now (updates rcv_adv). */
static inline uint16_t tcp_window_field(struct tcp_pcb *p)
{
    uint32_t space = tcp_rcv_space(p);
    int32_t cur = (int32_t)(p->rcv_adv - p->rcv_nxt); /* announced beyond RCV.NXT */
    /* The right edge never moves left (RFC 9293 3.8.6.2.2), and moves right only
     * by at least min(buffer / 2, MSS) (receiver SWS avoidance). */
    if ((int32_t)(space - (uint32_t)cur) >=
        (int32_t)u32_min(p->rcv_cap / 2, p->adv_mss)) {
        int32_t r = (int32_t)((space >> p->rcv_ws) << p->rcv_ws);
        if (r > cur) {
            p->rcv_adv = p->rcv_nxt + (uint32_t)r;
            cur = r;
        }
    }
    int32_t w = cur >> p->rcv_ws;
    return (uint16_t)(w < 0 ? 0 : w > 65535 ? 65535 : w);
}

void tcp_window_update_slow(struct tcp_pcb *p)
{
    if (p->state != TCP_ESTABLISHED && p->state != TCP_FIN_WAIT_1 &&
        p->state != TCP_FIN_WAIT_2)
        return;
    uint32_t space = tcp_rcv_space(p);
    uint32_t cur = seq_gt(p->rcv_adv, p->rcv_nxt) ? p->rcv_adv - p->rcv_nxt : 0;
    /* Worth a segment only when the window at least doubles (Linux's rule): a
     * reader keeping up needs none, a window reopening from zero gets one. */
    if (space > cur && space - cur >= u32_min(p->rcv_cap / 2, p->adv_mss) &&
        space >= 2 * cur) {
        p->t->st.tx_window_updates++;
        tcp_send_ack(p);
    }
}

/* ------------------------------------------------------------ one segment */

__attribute__((always_inline)) static inline void
seg_init(struct seg_out *c, struct tcp_pcb *p, uint32_t seq, uint8_t flags)
{
    c->t = p->t;
    c->p = p;
    c->ph_sum = p->ph_sum;
    c->dst = p->raddr;
    c->ports = (uint32_t)p->lport << 16 | p->rport;
    c->seq = seq;
    c->ack = (flags & TCP_ACK) ? p->rcv_nxt : 0;
    c->flags = flags;
    c->syn = false; /* SYNs: tcp_send_syn */
    c->o.present = 0;
    c->pl = NULL;
    c->n = 0;
    c->plen = 0;
    c->ilen = 0;
    c->window = tcp_window_field(p);
    if (p->ts_ok) {
        c->o.present |= TCP_OPTF_TS;
        c->o.ts_val = tcp_ts_now(plat_now_ns()) + p->ts_off;
        c->o.ts_ecr = (flags & TCP_ACK) ? p->ts_recent : 0;
    }
    if (p->ooo && p->sack_ok)
        tcp_sack_blocks(p, &c->o, TCP_MAX_SACK);
}

static void ack_sent(struct tcp_pcb *p)
{
    p->ack_now = false;
    p->ack_delayed = false;
    p->rcv_full = 0;
    p->t_delack = 0; /* the connection's deadline may stay early: a spare tick */
    p->last_ack_sent = p->rcv_nxt;
}

static int max_views(const struct tcp_pcb *p)
{
    int m = p->t->ip->eth->nif->max_segs;
    return m < 1 ? 1 : m > TCP_MAX_VIEWS ? TCP_MAX_VIEWS : m;
}

/* The common segment of a connection: not a SYN, no SACK blocks, its payload
 * (if any) inline; put_plain writes it from the connection's fields. */
struct plain_seg {
    struct tcp_pcb *p;
    uint32_t seq, len, optlen;
    uint8_t flags;
};

static uint32_t put_plain(void *ctx, const struct view *hv)
{
    struct plain_seg *f = ctx;
    struct tcp_pcb *p = f->p;
    uint8_t *h = view_data(hv);
    uint32_t hl = TCP_HDR_LEN + f->optlen;
    uint32_t w3 = (hl / 4) << 28 | (uint32_t)f->flags << 16 | tcp_window_field(p);
    net_wr32(h + TCP_OFF_SPORT, (uint32_t)p->lport << 16 | p->rport);
    net_wr32(h + TCP_OFF_SEQ, f->seq);
    net_wr32(h + TCP_OFF_ACK, (f->flags & TCP_ACK) ? p->rcv_nxt : 0);
    net_wr32(h + TCP_OFF_DOFF, w3);
    net_wr32(h + TCP_OFF_CSUM, 0);
    if (f->optlen) { /* NOP NOP timestamps */
        net_wr32(h + TCP_HDR_LEN, 0x0101080au);
        net_wr32(h + TCP_HDR_LEN + 4, tcp_ts_now(plat_now_ns()) + p->ts_off);
        net_wr32(h + TCP_HDR_LEN + 8, (f->flags & TCP_ACK) ? p->ts_recent : 0);
    }
    if (f->len)
        f->len = copy_inline(p, f->seq, f->len, h + hl);
    uint64_t s = p->ph_sum + csum_be16((uint16_t)(hl + f->len)) + csum_load32(h) +
                 csum_load32(h + 4) + csum_load32(h + 8) + csum_load32(h + 12);
    if (f->optlen + f->len)
        s = csum_add(s, h + TCP_HDR_LEN, f->optlen + f->len);
    net_wr16(h + TCP_OFF_CSUM, csum_finish(s));
    return hl + f->len;
}

/* put_plain's segment without payload nor options (an ACK, a FIN): no calls, so
 * no saved registers. */
static uint32_t put_bare(void *ctx, const struct view *hv)
{
    struct plain_seg *f = ctx;
    struct tcp_pcb *p = f->p;
    uint8_t *h = view_data(hv);
    uint32_t w3 =
        (TCP_HDR_LEN / 4) << 28 | (uint32_t)f->flags << 16 | tcp_window_field(p);
    net_wr32(h + TCP_OFF_SPORT, (uint32_t)p->lport << 16 | p->rport);
    net_wr32(h + TCP_OFF_SEQ, f->seq);
    net_wr32(h + TCP_OFF_ACK, (f->flags & TCP_ACK) ? p->rcv_nxt : 0);
    net_wr32(h + TCP_OFF_DOFF, w3);
    net_wr32(h + TCP_OFF_CSUM, 0);
    uint64_t s = p->ph_sum + csum_be16(TCP_HDR_LEN) + csum_load32(h) +
                 csum_load32(h + 4) + csum_load32(h + 8) + csum_load32(h + 12);
    net_wr16(h + TCP_OFF_CSUM, csum_finish(s));
    return TCP_HDR_LEN;
}

/* The segment may go the plain way: payload inline, no SACK blocks. */
static inline bool plain_ok(const struct tcp_pcb *p, uint32_t len)
{
    return len <= TCP_INLINE_MAX && !(p->ooo && p->sack_ok);
}

/* One plain segment; returns the payload bytes it took. */
static inline uint32_t send_plain(struct tcp_pcb *p, uint32_t seq, uint32_t len,
                                  uint8_t flags)
{
    static const struct ipv4_wopts wo = {.nowait = true, .dont_fragment = true};
    struct tcp *t = p->t;
    struct plain_seg f = {p, seq, len, p->ts_ok ? 12 : 0, flags};
    if (ipv4_write(t->ip, &wo, p->raddr, IPV4_PROTO_TCP, TCP_HDR_LEN + f.optlen + len,
                   len || f.optlen ? put_plain : put_bare, &f, NULL, 0) == IPV4_OK)
        t->st.tx++;
    else
        t->st.tx_errors++;
    return f.len;
}

/* After a data segment of len bytes (len possibly 0) went out with flags. */
__attribute__((always_inline)) static inline void data_sent(struct tcp_pcb *p,
                                                            uint32_t len, uint8_t flags)
{
    if (flags & TCP_ACK)
        ack_sent(p);
    if (len) {
        p->t->st.tx_data_segs++;
        p->t->st.tx_data_bytes += len;
    }
}

/* Data [seq, seq + len) (len possibly 0) with flags; returns the data bytes sent
 * (fewer than len when the views ran out: then no FIN or PSH). Inline in
 * send_new (new data, the common case), out of line for the rest. */
__attribute__((always_inline)) static inline uint32_t
send_data_inl(struct tcp_pcb *p, uint32_t seq, uint32_t len, uint8_t flags)
{
    if (plain_ok(p, len)) {
        uint32_t sent = send_plain(p, seq, len, flags);
        data_sent(p, sent, flags);
        return sent;
    }
    struct seg_out c;
    struct view vs[TCP_MAX_VIEWS];
    int n = 0;
    seg_init(&c, p, seq, flags);
    /* Options beyond the timestamps p->mss allows for (SACK blocks) come out of
     * the data: the segment must fit the path (RFC 6691). */
    if (c.o.present & TCP_OPTF_SACK) {
        uint32_t extra = tcp_options_len(&c.o, false) - (p->ts_ok ? 12 : 0);
        uint32_t room = p->mss > extra ? p->mss - extra : 0;
        if (len > room) {
            len = room;
            c.flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
        }
    }
    if (len > TCP_INLINE_MAX) {
        uint32_t got = tcp_sndq_views(p, seq, len, vs, max_views(p), &n);
        if (got < len)
            c.flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
        len = got;
        c.pl = vs;
        c.n = n;
        c.plen = len;
    } else {
        c.ilen = len;
    }
    xmit(&c);
    if (n)
        tcp_views_unref(vs, n);
    data_sent(p, len, flags);
    return len;
}

__attribute__((noinline)) static uint32_t send_data(struct tcp_pcb *p, uint32_t seq,
                                                    uint32_t len, uint8_t flags)
{
    return send_data_inl(p, seq, len, flags);
}

void tcp_send_ack(struct tcp_pcb *p)
{
    if (plain_ok(p, 0)) {
        send_plain(p, p->snd_nxt, 0, TCP_ACK);
    } else {
        struct seg_out c;
        seg_init(&c, p, p->snd_nxt, TCP_ACK);
        xmit(&c);
    }
    p->t->st.tx_acks++;
    ack_sent(p);
}

void tcp_send_challenge_ack(struct tcp_pcb *p)
{
    if (!tcp_challenge_ok(p->t, plat_now_ns()))
        return;
    p->t->st.challenge_acks++;
    tcp_send_ack(p);
}

/* Our SYN or SYN-ACK: what put_syn reads besides the connection. */
struct syn_seg {
    struct tcp_pcb *p;
    uint32_t seq, optlen, ts_val; /* ts_val: read by the caller (with timestamps) */
    uint8_t flags;
};

/* A SYN or SYN-ACK from the connection's fields: the window unscaled (RFC 7323
 * 2.2), the options in tcp_options_emit's SYN layout (MSS, SACK-permitted and
 * timestamps or NOPs, NOP and window scale). */
static uint32_t put_syn(void *ctx, const struct view *hv)
{
    struct syn_seg *f = ctx;
    struct tcp_pcb *p = f->p;
    uint8_t *h = view_data(hv), *q = h + TCP_HDR_LEN;
    uint32_t hl = TCP_HDR_LEN + f->optlen, w = u32_min(tcp_rcv_space(p), 65535);
    p->rcv_adv = p->rcv_nxt + w;
    net_wr32(h + TCP_OFF_SPORT, (uint32_t)p->lport << 16 | p->rport);
    net_wr32(h + TCP_OFF_SEQ, f->seq);
    net_wr32(h + TCP_OFF_ACK, (f->flags & TCP_ACK) ? p->rcv_nxt : 0);
    net_wr32(h + TCP_OFF_DOFF, (hl / 4) << 28 | (uint32_t)f->flags << 16 | w);
    net_wr32(h + TCP_OFF_CSUM, 0);
    /* The option words summed as written (no second pass over them). */
    net_wr32(q, 0x02040000u | p->adv_mss);
    uint64_t os = csum_load32(q);
    q += 4;
    if (p->ts_ok) {
        net_wr32(q, p->sack_ok ? 0x0402080au : 0x0101080au);
        net_wr32(q + 4, f->ts_val);
        net_wr32(q + 8, (f->flags & TCP_ACK) ? p->ts_recent : 0);
        os += (uint64_t)csum_load32(q) + csum_load32(q + 4) + csum_load32(q + 8);
        q += 12;
    } else if (p->sack_ok) {
        net_wr32(q, 0x01010402u);
        os += csum_load32(q);
        q += 4;
    }
    if (p->ws_ok) {
        net_wr32(q, 0x01030300u | u32_min(p->rcv_ws, TCP_MAX_WSCALE));
        os += csum_load32(q);
    }
    uint64_t s = p->ph_sum + csum_be16((uint16_t)hl) + csum_hdr20(h) + os;
    net_wr16(h + TCP_OFF_CSUM, csum_finish(s));
    return hl;
}

enum ipv4_err tcp_send_syn(struct tcp_pcb *p)
{
    static const struct ipv4_wopts wo = {.nowait = true, .dont_fragment = true};
    struct tcp *t = p->t;
    bool synack = p->state == TCP_SYN_RCVD;
    uint32_t optlen = 4 + (p->ts_ok ? 12 : p->sack_ok ? 4 : 0) + (p->ws_ok ? 4 : 0);
    struct syn_seg f = {p, p->iss, optlen, 0, synack ? TCP_SYN | TCP_ACK : TCP_SYN};
    if (p->ts_ok) /* here: put_syn then calls nothing */
        f.ts_val = tcp_ts_now(plat_now_ns()) + p->ts_off;
    if (synack)
        t->st.tx_synack++;
    else
        t->st.tx_syn++;
    enum ipv4_err e = ipv4_write(t->ip, &wo, p->raddr, IPV4_PROTO_TCP,
                                 TCP_HDR_LEN + optlen, put_syn, &f, NULL, 0);
    if (e == IPV4_OK)
        t->st.tx++;
    else
        t->st.tx_errors++;
    if (synack)
        ack_sent(p);
    return e;
}

void tcp_send_rst_pcb(struct tcp_pcb *p)
{
    struct seg_out c;
    seg_init(&c, p, p->snd_nxt, TCP_RST | TCP_ACK);
    c.o.present = 0;
    c.window = 0;
    xmit(&c);
    p->t->st.tx_rst++;
}

/* A segment with no connection behind it: addresses from the one it answers. */
static void seg_reply(struct seg_out *c, struct tcp *t, const struct tcp_seg *s)
{
    c->t = t;
    c->p = NULL;
    c->ph_sum = ipv4_pseudo_sum(s->info->dst, s->info->src, IPV4_PROTO_TCP, 0);
    c->dst = s->info->src;
    c->ports = (uint32_t)s->dport << 16 | s->sport;
    c->window = 0;
    c->o.present = 0;
    c->syn = false;
    c->pl = NULL;
    c->n = 0;
    c->plen = 0;
    c->ilen = 0;
}

void tcp_send_rst_for(struct tcp *t, const struct tcp_seg *s)
{
    struct seg_out c;
    if (s->flags & TCP_RST)
        return;
    seg_reply(&c, t, s);
    if (s->flags & TCP_ACK) {
        c.seq = s->ack;
        c.ack = 0;
        c.flags = TCP_RST;
    } else {
        c.seq = 0;
        c.ack = s->seq + s->len;
        c.flags = TCP_RST | TCP_ACK;
    }
    xmit(&c);
    t->st.tx_rst++;
}

void tcp_send_cookie_synack(struct tcp *t, const struct tcp_seg *s, uint32_t iss,
                            uint16_t mss, const struct tcp_opts *o)
{
    struct seg_out c;
    seg_reply(&c, t, s);
    c.seq = iss;
    c.ack = s->seq + 1;
    c.flags = TCP_SYN | TCP_ACK;
    c.window = (uint16_t)u32_min(t->cfg.rcvbuf, 65535);
    c.o = *o;
    c.o.present |= TCP_OPTF_MSS;
    c.o.mss = mss;
    c.syn = true;
    xmit(&c);
    t->st.tx_synack++;
}

uint32_t tcp_retransmit(struct tcp_pcb *p, uint32_t seq, uint32_t len)
{
    uint8_t flags = TCP_ACK;
    uint32_t data = len;
    if (p->fin_sent && seq_geq(seq + len, p->snd_end + 1)) {
        data = p->snd_end - seq;
        flags |= data ? TCP_FIN | TCP_PSH : TCP_FIN;
    }
    p->t->st.retransmits++;
    p->rtt_timing = false; /* Karn */
    uint32_t sent = send_data(p, seq, data, flags);
    return sent + ((flags & TCP_FIN) && sent == data ? 1 : 0);
}

static inline void arm_timers(struct tcp_pcb *p, uint64_t now);

void tcp_send_probe(struct tcp_pcb *p)
{
    struct tcp *t = p->t;
    uint64_t now = plat_now_ns();
    uint32_t unsent = tcp_unsent(p);
    if (p->state == TCP_CLOSED)
        return;
    uint32_t wend = p->snd_una + p->snd_wnd;
    uint32_t win = seq_gt(wend, p->snd_nxt) ? wend - p->snd_nxt : 0;
    if (!unsent || win) {
        /* The window is open but SWS avoidance held a small segment back: the
         * timeout overrides it (RFC 9293 3.8.6.2.1 d). */
        uint32_t len = u32_min(u32_min(unsent, win), p->mss);
        if (len && !tcp_flight(p)) {
            uint32_t sent = send_data(p, p->snd_nxt, len, TCP_ACK | TCP_PSH);
            p->snd_nxt += sent;
        }
        tcp_output(p);
        arm_timers(p, now);
        return;
    }
    if (++p->probes > t->cfg.retries) {
        tcp_send_rst_pcb(p);
        tcp_pcb_closed(p, TCP_ETIMEDOUT, true);
        return;
    }
    t->st.persist_probes++;
    /* RFC 9293 3.8.6.1: one byte beyond the window; it comes back as an ACK
     * telling the window, and is kept if the window had opened. */
    if (tcp_flight(p)) {
        tcp_retransmit(p, p->snd_una, 1);
    } else {
        send_data(p, p->snd_nxt, 1, TCP_ACK);
        p->snd_nxt++;
    }
    p->nrtx = (uint8_t)u32_min(p->nrtx + 1, 16);
    tcp_rtx_arm(p, now);
    p->rtx_mode = TCP_TM_PERSIST;
}

void tcp_send_keepalive(struct tcp_pcb *p)
{
    struct seg_out c;
    seg_init(&c, p, p->snd_una - 1, TCP_ACK);
    xmit(&c);
}

/* ------------------------------------------------------------ what to send */

#define SEND_STATES                                                                      \
    (1u << TCP_ESTABLISHED | 1u << TCP_CLOSE_WAIT | 1u << TCP_FIN_WAIT_1 |               \
     1u << TCP_CLOSING | 1u << TCP_LAST_ACK)

static inline bool may_send_data(const struct tcp_pcb *p)
{
    return (1u << p->state) & SEND_STATES;
}

/* A hole to retransmit in loss recovery (RFC 6675 NextSeg rule 1, or the
 * go-back-N of a timeout); false when none or cwnd is used up. */
static bool send_lost(struct tcp_pcb *p)
{
    if (p->recovery == TCP_REC_FAST && !p->sack_ok)
        return false;
    uint32_t from = seq_max(p->rtx_nxt, p->snd_una), s, e;
    uint32_t limit = seq_min(p->lost_end, p->snd_nxt);
    if (!tcp_sb_next_hole(p, from, limit, p->mss, &s, &e))
        return false;
    uint32_t pipe = tcp_pipe(p);
    if (pipe + (e - s) > p->cwnd && pipe > 0)
        return false;
    uint32_t sent = tcp_retransmit(p, s, e - s);
    p->rtx_nxt = s + (sent ? sent : e - s);
    return true;
}

__attribute__((always_inline)) static inline bool send_new(struct tcp_pcb *p,
                                                           uint64_t now)
{
    uint32_t unsent = tcp_unsent(p);
    bool fin = p->shut_wr && !p->fin_sent;
    if (!unsent && !fin)
        return false;
    uint32_t wend = p->snd_una + p->snd_wnd;
    uint32_t win = seq_gt(wend, p->snd_nxt) ? wend - p->snd_nxt : 0;
    uint32_t pipe = p->recovery == TCP_REC_NONE ? tcp_flight(p) : tcp_pipe(p);
    uint32_t cw = p->cwnd > pipe ? p->cwnd - pipe : 0;
    uint32_t len = u32_min(unsent, p->mss);
    uint32_t lim = u32_min(win, cw);
    if (len > lim) {
        /* Sender SWS avoidance (RFC 9293 3.8.6.2.1): less than a segment only
         * when the window allows half the largest window seen. */
        if (lim == 0 || cw < len || lim < p->max_snd_wnd / 2)
            return false;
        len = lim;
    }
    uint8_t flags = TCP_ACK;
    if (len == unsent) { /* the last of the queue */
        if (tcp_flight(p) && len < p->mss && len && !p->nodelay && !fin)
            return false; /* Nagle */
        if (len)
            flags |= TCP_PSH;
        if (fin)
            flags |= TCP_FIN;
    }
    if (!len && !(flags & TCP_FIN))
        return false;
    uint32_t seq = p->snd_nxt;
    uint32_t sent = send_data_inl(p, seq, len, flags);
    if (sent < len)
        flags &= (uint8_t)~TCP_FIN;
    p->snd_nxt += sent;
    if (flags & TCP_FIN) {
        p->snd_nxt++;
        p->fin_sent = true;
    }
    if (!p->ts_ok && !p->rtt_timing && sent) {
        p->rtt_timing = true;
        p->rtt_seq = seq;
        p->rtt_start_ns = now;
    }
    return tcp_new_pending(p);
}

static inline void arm_timers(struct tcp_pcb *p, uint64_t now)
{
    if (p->t_rtx)
        return;
    if (tcp_flight(p)) {
        tcp_flight_timer_arm(p, now);
    } else if (tcp_unsent(p)) { /* nothing in flight, yet nothing may go */
        p->rtx_mode = TCP_TM_PERSIST;
        tcp_timer_set(p, &p->t_rtx, now + (uint64_t)p->rto_us * 1000);
    }
}

/* RFC 8985 7.3: one new segment if the window allows, else the last one again;
 * its ACK (with SACK) lets fast recovery repair a tail loss an RTO would have
 * waited for. Then the RTO. */
void tcp_tlp_timeout(struct tcp_pcb *p)
{
    uint64_t now = plat_now_ns();
    uint32_t flight = tcp_flight(p);
    if (!flight || !may_send_data(p) || p->in_output) {
        tcp_output(p);
        return;
    }
    p->t->st.tlp_probes++;
    p->tlp_out = true;
    uint32_t before = p->snd_nxt;
    if (tcp_unsent(p)) {
        p->in_output = true;
        send_new(p, now);
        p->in_output = false;
    }
    if (p->snd_nxt == before) {
        uint32_t len = u32_min(flight, p->mss);
        tcp_retransmit(p, p->snd_nxt - len, len);
    }
    tcp_rtx_arm(p, now);
}

/* The common output: nothing in flight, outside recovery, all that is queued
 * (and the FIN when due) one plain segment the windows take whole, so neither
 * Nagle nor SWS avoidance holds it: what the loop below would do, in one pass
 * (no thread can be inside: in_output is clear). false: the loop. */
__attribute__((always_inline)) static inline bool output_idle(struct tcp_pcb *p)
{
    uint32_t len = p->snd_end - p->snd_nxt;
    bool fin = p->shut_wr && !p->fin_sent;
    if (p->snd_nxt != p->snd_una || p->in_output || p->recovery != TCP_REC_NONE ||
        seq_lt(p->snd_end, p->snd_nxt) || len > p->mss || len > p->snd_wnd ||
        len > p->cwnd || !plain_ok(p, len) || (!len && !fin))
        return false;
    uint64_t now = plat_now_ns();
    uint8_t flags = TCP_ACK | (len ? TCP_PSH : 0) | (fin ? TCP_FIN : 0);
    uint32_t seq = p->snd_nxt, sent = send_plain(p, seq, len, flags);
    ack_sent(p);
    p->kick = false;
    p->snd_nxt += sent;
    if (sent) {
        p->t->st.tx_data_segs++;
        p->t->st.tx_data_bytes += sent;
        if (!p->ts_ok && !p->rtt_timing) {
            p->rtt_timing = true;
            p->rtt_seq = seq;
            p->rtt_start_ns = now;
        }
    }
    if (fin && sent == len) {
        p->snd_nxt++;
        p->fin_sent = true;
    }
    if (!p->t_rtx && tcp_flight(p))
        tcp_flight_timer_arm(p, now);
    return true;
}

void tcp_output_slow(struct tcp_pcb *p)
{
    if (!may_send_data(p))
        return;
    if (p->snd_nxt == p->snd_una && output_idle(p))
        return;
    if (p->in_output) { /* another thread is inside (its driver call blocked) */
        p->output_again = true;
        return;
    }
    uint64_t now = plat_now_ns();
    p->kick = false;
    p->in_output = true;
    p->hold++;
    do {
        p->output_again = false;
        if (p->recovery != TCP_REC_NONE)
            while (send_lost(p))
                ;
        while (send_new(p, now)) /* true: more may go */
            ;
    } while (p->output_again && may_send_data(p));
    p->in_output = false;
    if (!p->t_rtx && may_send_data(p))
        arm_timers(p, now);
    tcp_pcb_drop(p);
}
