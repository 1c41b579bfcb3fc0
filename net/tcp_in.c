/* Segment arrival (RFC 9293 3.10.7) on the RX thread: validation and demux, then
 * per state: SYN-SENT (3.10.7.3), and the synchronized states in the RFC's order
 * of checks: timestamps and PAWS (RFC 7323 5), sequence acceptability and
 * trimming, RST (with RFC 5961 3 exact-match and challenge ACKs), SYN (RFC 5961 4
 * challenge ACK), ACK (RFC 5961 5 acceptable range, window update, loss
 * recovery, state changes on our FIN), data (in order, out of order with SACK,
 * delayed ACK), FIN. Nothing here blocks; what is sent goes out non-blocking at
 * the end (output for what the ACK allows, events, then an ACK if one is owed).
 * LISTEN is in tcp_listen.c. */
#include "net/tcp_int.h"

/* The full path for the synchronized states, out of line: the prediction's
 * registers stay its own. */
__attribute__((noinline)) static void synchronized(struct tcp_pcb *p, struct tcp_seg *s,
                                                   uint64_t now);

/* ------------------------------------------------------------ demux */

/* A segment for a connection (tcp_conn_input's body, inline in tcp_input). */
static inline void conn_input(struct tcp_pcb *p, struct tcp_seg *s);

static bool parse_options(struct tcp *t, struct tcp_seg *s, const uint8_t *h, uint32_t hl)
{
    const uint8_t *op = h + TCP_HDR_LEN;
    uint32_t ol = hl - TCP_HDR_LEN;
    /* The common layout (NOP NOP timestamps) without the general walk. */
    if (ol == 12 && net_rd32(op) == 0x0101080au) {
        s->o.present = TCP_OPTF_TS;
        s->o.nsack = 0;
        s->o.ts_val = net_rd32(op + 4);
        s->o.ts_ecr = net_rd32(op + 8);
        return true;
    }
    /* SYNs: MSS and window scale, or Linux's MSS, SACK-permitted, timestamps,
     * window scale (what tcp_options_parse makes of them, without the walk). */
    uint32_t w0 = net_rd32(op);
    if ((w0 >> 16) == 0x0204 && (ol == 8 || ol == 20)) {
        uint32_t ws = net_rd32(op + ol - 4);
        bool ts = ol == 20 && net_rd32(op + 4) == 0x0402080au;
        if ((ws >> 8) == 0x010303u && (ol == 8 || ts)) {
            s->o.present = TCP_OPTF_MSS | TCP_OPTF_WS;
            s->o.mss = (uint16_t)w0;
            s->o.wscale = (uint8_t)u32_min(ws & 0xff, TCP_MAX_WSCALE);
            s->o.nsack = 0;
            if (ts) {
                s->o.present |= TCP_OPTF_SACK_PERM | TCP_OPTF_TS;
                s->o.ts_val = net_rd32(op + 8);
                s->o.ts_ecr = net_rd32(op + 12);
            }
            return true;
        }
    }
    tcp_options_parse(op, ol, &s->o);
    if (s->o.bad)
        t->st.rx_bad_opts++;
    return true;
}

/* Our SYN acknowledged, either way of opening: its RTT sample (Karn: not if it
 * was retransmitted), the congestion state, ESTABLISHED. */
static inline void handshake_done(struct tcp_pcb *p, uint64_t now)
{
    if (!p->nrtx)
        tcp_rtt_sample(p, now - p->rtt_start_ns);
    p->nrtx = 0;
    p->t_rtx = 0;
    tcp_cc_init(p);
    tcp_set_state(p, TCP_ESTABLISHED);
}

/* Data + SYN + FIN (set where the full path needs it: prediction does not). */
static inline uint32_t seg_len(const struct tcp_seg *s)
{
    return s->data.len + ((s->flags & TCP_SYN) ? 1 : 0) + (s->flags & TCP_FIN);
}

void tcp_input(void *ctx, const struct ipv4_rxinfo *info, struct view *pkt)
{
    struct tcp *t = ctx;
    struct tcp_seg s;
    t->st.rx++;
    if (pkt->len < TCP_HDR_LEN) {
        t->st.drop_short++;
        return;
    }
    const uint8_t *h = view_data(pkt);
    uint32_t hl = tcp_get_hdr_len(h);
    if (hl < TCP_HDR_LEN || hl > pkt->len) {
        t->st.drop_bad_off++;
        return;
    }
    if (info->flags & IPV4_RX_BCAST) {
        t->st.drop_bcast++;
        return;
    }
    /* ipv4_pseudoheader_sum's value, inlined; a segment without data (whole
     * words) summed without the call. */
    uint64_t sum =
        ipv4_pseudo_sum(info->src, info->dst, IPV4_PROTO_TCP, (uint16_t)pkt->len);
    if (pkt->len == TCP_HDR_LEN) /* a bare header: an ACK, a FIN, a reset */
        sum += csum_hdr20(h);
    else if (pkt->len == hl)
        sum +=
            csum_hdr20(h) + csum_add_words32(0, h + TCP_HDR_LEN, (hl - TCP_HDR_LEN) / 4);
    else
        sum = csum_add(sum, h, pkt->len);
    if (csum_fold(sum) != 0xffff) {
        t->st.drop_bad_csum++;
        return;
    }
    s.info = info;
    s.sport = net_rd16(h + TCP_OFF_SPORT);
    s.dport = net_rd16(h + TCP_OFF_DPORT);
    s.seq = net_rd32(h + TCP_OFF_SEQ);
    s.ack = net_rd32(h + TCP_OFF_ACK);
    s.flags = tcp_get_flags(h);
    s.wnd = net_rd16(h + TCP_OFF_WND);
    s.data = *pkt;
    s.data.off += hl;
    s.data.len -= hl;
    s.o.present = 0; /* nothing else of s.o is read then */
    if (hl > TCP_HDR_LEN)
        parse_options(t, &s, h, hl);
    struct tcp_pcb *p = tcp_lookup(t, info->src, s.sport, s.dport);
    if (p && p->laddr.be == info->dst.be) {
        t->st.rx_conn++;
        p->hold++;
        conn_input(p, &s);
        tcp_pcb_drop(p);
        return;
    }
    s.len = seg_len(&s);
    struct tcp_listener *l = tcp_listener_find(t, s.dport);
    if (l) {
        t->st.rx_listen++;
        tcp_listen_input(l, &s);
        return;
    }
    t->st.rx_closed_port++;
    tcp_send_rst_for(t, &s);
}

/* ------------------------------------------------------------ SYN-SENT */

__attribute__((noinline)) static void syn_sent(struct tcp_pcb *p, struct tcp_seg *s,
                                               uint64_t now)
{
    struct tcp *t = p->t;
    bool ack = s->flags & TCP_ACK;
    if (ack && (seq_leq(s->ack, p->iss) || seq_gt(s->ack, p->snd_nxt))) {
        t->st.drop_syn_sent++;
        tcp_send_rst_for(t, s);
        return;
    }
    if (s->flags & TCP_RST) {
        if (!ack) { /* RFC 5961 3.2: only with an acceptable ACK */
            t->st.drop_syn_sent++;
            return;
        }
        t->st.rx_rst++;
        tcp_pcb_closed(p, TCP_EREFUSED, true);
        return;
    }
    if (!(s->flags & TCP_SYN)) {
        t->st.drop_syn_sent++;
        return;
    }
    p->irs = s->seq;
    p->rcv_nxt = s->seq + 1;
    p->rcv_adv = p->rcv_nxt + u32_min(tcp_rcv_space(p), 65535);
    p->last_ack_sent = p->rcv_nxt;
    tcp_apply_syn_opts(p, &s->o);
    p->snd_wnd = s->wnd; /* never scaled in a SYN */
    p->max_snd_wnd = p->snd_wnd;
    p->snd_wl1 = s->seq;
    if (!ack) { /* simultaneous open (RFC 9293 figure 7) */
        tcp_set_state(p, TCP_SYN_RCVD);
        tcp_send_syn(p);
        return;
    }
    p->snd_una = s->ack;
    p->snd_wl2 = s->ack;
    handshake_done(p, now);
    p->ack_now = true;
    p->kick = true; /* data queued before may go with the ACK */
    tcp_keep_arm(p, now);
    tcp_event(p, TCP_EV_WRITABLE);
}

/* ------------------------------------------------------------ checks */

static uint32_t rcv_wnd(const struct tcp_pcb *p)
{
    return seq_gt(p->rcv_adv, p->rcv_nxt) ? p->rcv_adv - p->rcv_nxt : 0;
}

/* RFC 9293 3.10.7.4 first check, the four cases. */
static bool acceptable(const struct tcp_pcb *p, const struct tcp_seg *s)
{
    uint32_t w = rcv_wnd(p), nxt = p->rcv_nxt;
    if (s->seq == nxt) /* in order (the usual case): the four cases' outcome */
        return s->len == 0 || w > 0;
    if (s->len == 0)
        return w == 0 ? s->seq == nxt : (seq_geq(s->seq, nxt) && seq_lt(s->seq, nxt + w));
    if (w == 0)
        return false;
    uint32_t last = s->seq + s->len - 1;
    return (seq_geq(s->seq, nxt) && seq_lt(s->seq, nxt + w)) ||
           (seq_geq(last, nxt) && seq_lt(last, nxt + w));
}

/* Cuts what lies before RCV.NXT or beyond the window. */
static void trim(struct tcp_pcb *p, struct tcp_seg *s)
{
    if (seq_lt(s->seq, p->rcv_nxt)) {
        uint32_t d = p->rcv_nxt - s->seq;
        if (s->flags & TCP_SYN) {
            s->flags &= (uint8_t)~TCP_SYN;
            s->seq++;
            d--;
        }
        if (d >= s->data.len) {
            if (s->data.len)
                p->t->st.rx_dup_data++;
            s->data.len = 0;
        } else {
            view_shift(&s->data, d);
        }
        s->seq = p->rcv_nxt;
    }
    uint32_t edge = p->rcv_nxt + rcv_wnd(p);
    if (seq_gt(s->seq + s->data.len, edge)) {
        view_truncate(&s->data, seq_gt(edge, s->seq) ? edge - s->seq : 0);
        s->flags &= (uint8_t)~TCP_FIN;
    }
    s->len = s->data.len + ((s->flags & TCP_FIN) ? 1 : 0);
}

/* RFC 7323: timestamps once negotiated, PAWS. false: drop. */
static bool ts_check(struct tcp_pcb *p, const struct tcp_seg *s, uint64_t now)
{
    struct tcp *t = p->t;
    if (!p->ts_ok || (s->flags & TCP_RST))
        return true;
    if (!(s->o.present & TCP_OPTF_TS)) {
        t->st.drop_no_ts++; /* RFC 7323 3.2: SHOULD drop */
        return false;
    }
    if (!seq_lt(s->o.ts_val, p->ts_recent))
        return true;
    if (now - p->ts_recent_ns > TCP_PAWS_IDLE_NS) { /* 5.5: a stale TS.Recent */
        p->ts_recent = s->o.ts_val;
        return true;
    }
    t->st.drop_paws++;
    p->ack_now = true;
    return false;
}

/* ------------------------------------------------------------ RST and SYN */

static void rst_arrived(struct tcp_pcb *p, const struct tcp_seg *s)
{
    struct tcp *t = p->t;
    if (s->seq != p->rcv_nxt) { /* RFC 5961 3.2: in the window, not exact */
        tcp_send_challenge_ack(p);
        return;
    }
    t->st.rx_rst++;
    switch (p->state) {
    case TCP_SYN_RCVD:
        /* Passive: back to LISTEN, i.e. this half-open connection goes. */
        tcp_pcb_closed(p, p->listener ? TCP_ERESET : TCP_EREFUSED, true);
        break;
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
    case TCP_CLOSE_WAIT:
        tcp_pcb_closed(p, TCP_ERESET, true);
        break;
    default: /* CLOSING, LAST-ACK, TIME-WAIT */
        tcp_pcb_closed(p, TCP_OK, true);
        break;
    }
}

/* RFC 6191: a SYN may reopen a TIME-WAIT connection when its timestamp (or,
 * without timestamps, its sequence number) is beyond the old connection's. */
__attribute__((noinline)) static bool time_wait_reuse(struct tcp_pcb *p,
                                                      struct tcp_seg *s)
{
    struct tcp *t = p->t;
    if ((s->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return false;
    bool newer = (p->ts_ok && (s->o.present & TCP_OPTF_TS))
                     ? seq_gt(s->o.ts_val, p->ts_recent)
                     : seq_gt(s->seq, p->rcv_nxt);
    struct tcp_listener *l = tcp_listener_find(t, p->lport);
    if (!newer || !l)
        return false;
    t->st.time_wait_reused++;
    tcp_pcb_closed(p, TCP_OK, true);
    tcp_listen_input(l, s);
    return true;
}

/* ------------------------------------------------------------ ACK */

static void established_passive(struct tcp_pcb *p, const struct tcp_seg *s, uint64_t now)
{
    p->snd_una = s->ack;
    p->snd_wnd = s->wnd << p->snd_ws;
    p->max_snd_wnd = u32_max(p->max_snd_wnd, p->snd_wnd);
    p->snd_wl1 = s->seq;
    p->snd_wl2 = s->ack;
    handshake_done(p, now);
    tcp_keep_arm(p, now);
    p->kick = true; /* data (or a FIN) queued in SYN-RECEIVED goes now */
    if (p->shut_wr)
        tcp_set_state(p, TCP_FIN_WAIT_1);
    if (p->listener)
        tcp_listen_established(p);
}

__attribute__((always_inline)) static inline uint32_t
new_ack(struct tcp_pcb *p, const struct tcp_seg *s, uint64_t now)
{
    uint32_t acked = s->ack - p->snd_una;
    p->prior_flight = tcp_flight(p);
    p->snd_una = s->ack;
    tcp_sndq_ack(p);
    if (p->sb.n)
        tcp_sb_trim(p);
    if (p->ts_ok && s->o.ts_ecr && seq_geq(s->ack, p->rtt_seq)) {
        uint32_t ticks = tcp_ts_now(now) + p->ts_off - s->o.ts_ecr;
        if (ticks < 0x80000000u) { /* echoes a value we sent, not the future */
            tcp_rtt_sample(p, (uint64_t)ticks << TCP_TS_SHIFT);
            p->rtt_seq = p->snd_nxt;
        }
    } else if (p->rtt_timing && seq_gt(s->ack, p->rtt_seq)) {
        tcp_rtt_sample(p, now - p->rtt_start_ns);
        p->rtt_timing = false;
    }
    p->nrtx = 0; /* probes: reset by both callers already (the peer is alive) */
    p->tlp_out = false;
    if (tcp_flight(p))
        tcp_flight_timer_arm(p, now);
    else if (p->rtx_mode != TCP_TM_PERSIST)
        p->t_rtx = 0;
    if (p->user) /* the waiters are woken by the caller */
        p->events |= TCP_EV_WRITABLE;
    return acked;
}

static void window_update(struct tcp_pcb *p, const struct tcp_seg *s, bool *changed)
{
    if (!(seq_lt(p->snd_wl1, s->seq) ||
          (p->snd_wl1 == s->seq && seq_leq(p->snd_wl2, s->ack))))
        return;
    uint32_t w = s->wnd << p->snd_ws;
    *changed = w != p->snd_wnd;
    p->snd_wnd = w;
    p->snd_wl1 = s->seq;
    p->snd_wl2 = s->ack;
    if (w > p->max_snd_wnd)
        p->max_snd_wnd = w;
    if (w && p->rtx_mode == TCP_TM_PERSIST && p->t_rtx) {
        p->t_rtx = 0; /* the window opened: tcp_output takes over */
        p->nrtx = 0;
        p->probes = 0;
    }
}

/* Our FIN acknowledged: the state it leads to. false: nothing more to do. */
static bool fin_acked(struct tcp_pcb *p, uint64_t now)
{
    if (!p->fin_sent || p->snd_una != p->snd_nxt)
        return true;
    switch (p->state) {
    case TCP_FIN_WAIT_1:
        tcp_set_state(p, TCP_FIN_WAIT_2);
        p->t_rtx = 0;
        if (p->orphan) /* nobody will read: do not wait for ever */
            tcp_timer_set(p, &p->t_wait, now + p->t->cfg.fin_wait2_ms * TCP_MS);
        return true;
    case TCP_CLOSING:
        tcp_time_wait(p);
        return false;
    case TCP_LAST_ACK:
        tcp_pcb_closed(p, TCP_OK, true);
        return false;
    default:
        return true;
    }
}

/* RFC 9293 3.10.7.4 fifth check; false: drop the rest of the segment. */
static bool ack_arrived(struct tcp_pcb *p, struct tcp_seg *s, uint64_t now)
{
    struct tcp *t = p->t;
    if (p->state == TCP_SYN_RCVD) {
        if (!seq_gt(s->ack, p->snd_una) || seq_gt(s->ack, p->snd_nxt)) {
            if (seq_gt(s->ack, p->snd_nxt)) /* every drop has its counter */
                t->st.drop_ack_unsent++;
            else
                t->st.drop_ack_old++;
            tcp_send_rst_for(t, s);
            return false;
        }
        established_passive(p, s, now);
        if (p->state != TCP_ESTABLISHED && p->state != TCP_FIN_WAIT_1)
            return false; /* the accept queue was full */
    }
    if (seq_gt(s->ack, p->snd_nxt)) {
        t->st.drop_ack_unsent++;
        tcp_send_challenge_ack(p);
        return false;
    }
    if (seq_lt(s->ack, p->snd_una - p->max_snd_wnd)) { /* RFC 5961 5.2 */
        t->st.drop_ack_old++;
        tcp_send_challenge_ack(p);
        return false;
    }
    uint32_t acked = 0;
    if (seq_gt(s->ack, p->snd_una)) {
        acked = new_ack(p, s, now);
        if (tcp_waiters(p))
            tcp_event_wake(p, p->events);
    }
    bool sacked = false, wchanged = false;
    if (p->sack_ok && (s->o.present & TCP_OPTF_SACK) && tcp_flight(p)) {
        uint32_t before = p->sb.sacked;
        tcp_sb_update(p, &s->o);
        sacked = p->sb.sacked != before;
    }
    window_update(p, s, &wchanged);
    /* RFC 5681 2's duplicate ACK; not while the window is zero (the answers to
     * zero-window probes look the same and mean no loss). */
    bool dup = !acked && s->ack == p->snd_una && s->len == 0 && !wchanged &&
               tcp_flight(p) > 0 && p->snd_wnd > 0;
    if (dup)
        t->st.rx_dupacks++;
    if (acked && !dup && !sacked && p->recovery == TCP_REC_NONE && !p->sb.n) {
        p->dupacks = 0; /* tcp_recovery_ack's outcome outside recovery */
        tcp_cc_ack(p, acked, now);
    } else if (acked || dup || sacked) {
        tcp_recovery_ack(p, acked, dup, now);
    }
    if (acked || wchanged)
        p->kick = true;
    return fin_acked(p, now);
}

/* ------------------------------------------------------------ data and FIN */

__attribute__((always_inline)) static inline void delayed_ack(struct tcp_pcb *p,
                                                              uint32_t len, uint8_t flags)
{
    /* The peer's segment size, as Linux estimates it: the largest seen, or
     * smaller when a segment not ending a write (no PSH) of at least 536 bytes
     * says the peer's MSS went down (path MTU). */
    if (len > p->rcv_mss)
        p->rcv_mss = (uint16_t)u32_min(len, p->adv_mss);
    else if (len < p->rcv_mss && len >= TCP_DEFAULT_MSS && !(flags & TCP_PSH))
        p->rcv_mss = (uint16_t)len;
    /* RFC 1122 4.2.3.2 / RFC 5681 4.2: every second full-sized segment at once,
     * anything else within delack_ms. */
    if (len >= p->rcv_mss && ++p->rcv_full >= 2)
        p->ack_now = true;
    else
        p->ack_delayed = true; /* the timer is set at the end, if still owed */
}

static void data_arrived(struct tcp_pcb *p, struct tcp_seg *s)
{
    struct tcp *t = p->t;
    uint32_t len = s->data.len;
    if (!len)
        return;
    if (p->state != TCP_ESTABLISHED && p->state != TCP_FIN_WAIT_1 &&
        p->state != TCP_FIN_WAIT_2) {
        t->st.drop_closing++;
        s->flags &= (uint8_t)~TCP_FIN;
        return;
    }
    if (p->orphan) { /* RFC 1122 4.2.2.13: nobody reads any more */
        t->st.drop_data_after_close++;
        tcp_send_rst_pcb(p);
        tcp_pcb_closed(p, TCP_ECLOSED, true);
        return;
    }
    t->st.rx_data_segs++;
    t->st.rx_data_bytes += len;
    if (p->shut_rd) { /* nobody will read it: acknowledged (in order) and dropped */
        if (s->seq == p->rcv_nxt)
            p->rcv_nxt += len;
        else
            s->flags &= (uint8_t)~TCP_FIN;
        p->ack_now = true;
        return;
    }
    if (s->seq != p->rcv_nxt) {
        if (!tcp_ooo_insert(p, s, s->seq, &s->data))
            t->st.drop_rcv_mem++;
        else if ((s->flags & TCP_FIN) && !p->fin_ooo) {
            p->fin_ooo = true;
            p->fin_seq = s->seq + len;
        }
        s->flags &= (uint8_t)~TCP_FIN;
        p->ack_now = true; /* a duplicate ACK, with SACK blocks */
        return;
    }
    bool had_ooo = p->ooo != NULL;
    if (!tcp_rq_append(p, s, &s->data)) {
        t->st.drop_rcv_mem++;
        s->flags &= (uint8_t)~TCP_FIN;
        p->ack_now = true;
    }
    if (had_ooo) {
        tcp_ooo_drain(p);
        p->ack_now = true; /* a hole filled: say so at once */
    } else {
        delayed_ack(p, len, s->flags);
    }
    tcp_event(p, TCP_EV_READABLE);
}

static void fin_arrived(struct tcp_pcb *p, const struct tcp_seg *s)
{
    bool fin = (s->flags & TCP_FIN) && s->seq + s->data.len == p->rcv_nxt;
    if (!fin && p->fin_ooo && p->fin_seq == p->rcv_nxt) {
        fin = true;
        p->fin_ooo = false;
    }
    if (!fin || p->fin_rcvd || p->state == TCP_CLOSED)
        return;
    p->fin_rcvd = true;
    p->rcv_nxt++;
    p->ack_now = true;
    tcp_event(p, TCP_EV_READABLE);
    switch (p->state) {
    case TCP_SYN_RCVD:
    case TCP_ESTABLISHED:
        tcp_set_state(p, TCP_CLOSE_WAIT);
        break;
    case TCP_FIN_WAIT_1:
        if (p->fin_sent && p->snd_una == p->snd_nxt)
            tcp_time_wait(p);
        else
            tcp_set_state(p, TCP_CLOSING);
        break;
    case TCP_FIN_WAIT_2:
        tcp_time_wait(p);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ synchronized */

static void unacceptable(struct tcp_pcb *p, const struct tcp_seg *s, uint64_t now)
{
    struct tcp *t = p->t;
    if (s->flags & TCP_RST) {
        t->st.drop_rst_out_of_window++;
        return;
    }
    t->st.drop_out_of_window++;
    if (p->state == TCP_TIME_WAIT && (s->flags & TCP_FIN)) /* the peer's FIN again */
        tcp_timer_set(p, &p->t_wait, now + t->cfg.time_wait_ms * TCP_MS);
    p->ack_now = true;
}

/* A reset one below RCV.NXT after the peer's FIN (Linux accepts it too,
 * tcp_reset_check): a peer that closed and then got more data answers each such
 * segment with a reset whose sequence number is the segment's acknowledgment,
 * its FIN's own number, one below what we expect since the FIN. Without this the
 * connection retransmits data and its FIN to no one until the retries run out. */
static bool rst_after_fin(const struct tcp_pcb *p, const struct tcp_seg *s)
{
    return (s->flags & TCP_RST) && p->fin_rcvd && s->seq == p->rcv_nxt - 1 &&
           (p->state == TCP_CLOSE_WAIT || p->state == TCP_LAST_ACK ||
            p->state == TCP_CLOSING);
}

static void synchronized(struct tcp_pcb *p, struct tcp_seg *s, uint64_t now)
{
    struct tcp *t = p->t;
    if (p->state == TCP_SYN_RCVD && (s->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
        s->seq == p->irs) {
        tcp_send_syn(p); /* our SYN-ACK was lost: the peer sent its SYN again */
        return;
    }
    if (p->state == TCP_SYN_RCVD &&
        (s->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) &&
        s->seq + 1 == p->rcv_nxt && s->ack == p->snd_nxt) {
        /* Simultaneous open (RFC 9293 figure 7 line 6, the exception of RFC 5961
         * 4.2): the peer's SYN-ACK acknowledges ours; its SYN we had. */
        s->flags &= (uint8_t)~TCP_SYN;
        s->seq++;
        s->len--;
    }
    if (!ts_check(p, s, now))
        return;
    if (rst_after_fin(p, s)) {
        s->seq = p->rcv_nxt;
        rst_arrived(p, s);
        return;
    }
    if (!acceptable(p, s)) {
        /* A zero window still takes ACKs (RFC 9293 3.10.7.4): a probe's data
         * goes, its acknowledgment field counts. */
        if (rcv_wnd(p) || s->seq != p->rcv_nxt || (s->flags & (TCP_RST | TCP_SYN))) {
            unacceptable(p, s, now);
            return;
        }
        t->st.rx_window_probes++;
        s->data.len = 0;
        s->flags &= (uint8_t)~TCP_FIN;
        s->len = 0;
        p->ack_now = true;
    }
    if (s->flags & TCP_RST) {
        rst_arrived(p, s);
        return;
    }
    trim(p, s);
    if ((s->o.present & TCP_OPTF_TS) && p->ts_ok && seq_leq(s->seq, p->last_ack_sent)) {
        p->ts_recent = s->o.ts_val;
        p->ts_recent_ns = now;
    }
    p->last_rx_ns = now;
    p->probes = 0;            /* the peer is alive (keepalive, zero-window probes) */
    if (s->flags & TCP_SYN) { /* RFC 5961 4.2 */
        tcp_send_challenge_ack(p);
        return;
    }
    if (!(s->flags & TCP_ACK)) {
        t->st.drop_no_ack++;
        return;
    }
    if (!ack_arrived(p, s, now))
        return;
    data_arrived(p, s);
    if (p->state != TCP_CLOSED)
        fin_arrived(p, s);
}

/* Header prediction (after Van Jacobson): in ESTABLISHED, a segment with ACK (and
 * PSH, FIN) exactly at RCV.NXT, acknowledging nothing or new data, its data (and
 * FIN) inside the window, the window not zero nor in persist, no recovery, no
 * out-of-order data, no FIN of ours outstanding, timestamps in order. What the
 * full path would do, minus its checks. false: take the full path. */
__attribute__((always_inline)) static inline bool
predicted(struct tcp_pcb *p, struct tcp_seg *s, uint64_t now)
{
    struct tcp *t = p->t;
    uint32_t len = s->data.len, fin = s->flags & TCP_FIN;
    uint32_t w = (uint32_t)s->wnd << p->snd_ws;
    if (p->state != TCP_ESTABLISHED || (s->flags & ~(TCP_PSH | TCP_FIN)) != TCP_ACK ||
        s->seq != p->rcv_nxt || p->recovery != TCP_REC_NONE || p->ooo || p->shut_rd ||
        p->fin_sent ||
        s->ack - p->snd_una > p->snd_nxt - p->snd_una || /* not in [una, nxt] */
        len + fin > rcv_wnd(p) || (!len && !fin && s->ack == p->snd_una) ||
        (w != p->snd_wnd && (!w || p->rtx_mode == TCP_TM_PERSIST)))
        return false;
    if (p->ts_ok) {
        if (s->o.present != TCP_OPTF_TS || seq_lt(s->o.ts_val, p->ts_recent))
            return false;
        if (p->last_ack_sent == p->rcv_nxt) { /* SEG.SEQ <= Last.ACK.sent */
            p->ts_recent = s->o.ts_val;
            p->ts_recent_ns = now;
        }
    } else if (s->o.present) {
        return false;
    }
    p->last_rx_ns = now;
    p->probes = 0;
    p->snd_wl1 = s->seq;
    if (seq_gt(s->ack, p->snd_una)) {
        p->snd_wl2 = s->ack;
        uint32_t acked = new_ack(p, s, now);
        if (!p->sb.n) { /* tcp_recovery_ack's outcome outside recovery */
            p->dupacks = 0;
            tcp_cc_ack(p, acked, now);
        } else {
            tcp_recovery_ack(p, acked, false, now);
        }
        p->kick = true;
    }
    if (w != p->snd_wnd) { /* window_update's outcome */
        p->snd_wnd = w;
        if (w > p->max_snd_wnd)
            p->max_snd_wnd = w;
        p->kick = true;
    }
    if (len) {
        t->st.rx_data_segs++;
        t->st.rx_data_bytes += len;
        if (!tcp_rq_append(p, s, &s->data)) {
            t->st.drop_rcv_mem++;
            p->ack_now = true;
            s->flags &= (uint8_t)~TCP_FIN;
        }
        delayed_ack(p, len, s->flags);
        p->events |= TCP_EV_READABLE;
    }
    if (tcp_waiters(p)) /* for both events (fin_arrived wakes its own) */
        tcp_event_wake(p, p->events);
    if (fin)
        fin_arrived(p, s);
    return true;
}

/* A bare ACK of everything we sent, in order, timestamps in order: in
 * SYN-RECEIVED the handshake's end, in LAST-ACK (our FIN sent) the connection's.
 * What the full path does with them, minus its checks. false: the full path. */
__attribute__((noinline)) static bool final_ack(struct tcp_pcb *p, struct tcp_seg *s,
                                                uint64_t now)
{
    if (s->flags != TCP_ACK || s->data.len || s->seq != p->rcv_nxt ||
        s->ack != p->snd_nxt ||
        (p->ts_ok ? s->o.present != TCP_OPTF_TS || seq_lt(s->o.ts_val, p->ts_recent)
                  : s->o.present != 0))
        return false;
    if (p->state == TCP_LAST_ACK && p->fin_sent) {
        /* new_ack's bookkeeping would go with the connection. */
        p->snd_una = s->ack;
        tcp_pcb_closed(p, TCP_OK, true);
        return true;
    }
    if (p->state != TCP_SYN_RCVD)
        return false;
    if (p->ts_ok) {
        p->ts_recent = s->o.ts_val; /* SEG.SEQ = Last.ACK.sent */
        p->ts_recent_ns = now;
    }
    p->last_rx_ns = now;
    p->probes = 0;
    established_passive(p, s, now);
    return true;
}

/* Inline in tcp_input (one frame for both), out of line for cookie_ack. */
__attribute__((always_inline)) static inline void conn_input(struct tcp_pcb *p,
                                                             struct tcp_seg *s)
{
    uint64_t now = plat_now_ns();
    if (!predicted(p, s, now) && !final_ack(p, s, now)) {
        s->len = seg_len(s);
        if (p->state == TCP_SYN_SENT)
            syn_sent(p, s, now);
        else if (p->state != TCP_TIME_WAIT || !time_wait_reuse(p, s))
            synchronized(p, s, now);
    }
    /* The application first: its answer may carry the ACK, and the data the ACK
     * lets go may go with it (tcp_output clears kick). */
    tcp_events_fire(p);
    if (p->state == TCP_CLOSED)
        return;
    if (p->kick || p->recovery != TCP_REC_NONE)
        tcp_output(p);
    if (p->ack_now)
        tcp_send_ack(p);
    else if (p->ack_delayed)
        tcp_delack_arm(p, now);
}

void tcp_conn_input(struct tcp_pcb *p, struct tcp_seg *s)
{
    conn_input(p, s);
}
