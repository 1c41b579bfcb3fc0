/* Round-trip time and RTO (RFC 6298), congestion control (RFC 5681 with byte
 * counting, CUBIC RFC 9438 in integer arithmetic) and loss recovery: fast
 * retransmit and recovery with SACK (RFC 6675) or without (NewReno, RFC 6582),
 * and the retransmission timeout (go back to SND.UNA in slow start). */
#include "net/tcp_int.h"

#define CUBIC_BETA_NUM 7 /* beta_cubic = 0.7 */
#define CUBIC_BETA_DEN 10
#define CWND_MAX TCP_CWND_MAX

void tcp_rtt_sample(struct tcp_pcb *p, uint64_t rtt_ns)
{
    struct tcp *t = p->t;
    uint32_t r = (uint32_t)u32_min((uint32_t)(rtt_ns / 1000), 100000000u);
    if (!p->srtt_us) {
        p->srtt_us = r ? r : 1;
        p->rttvar_us = r / 2;
    } else {
        uint32_t d = p->srtt_us > r ? p->srtt_us - r : r - p->srtt_us;
        p->rttvar_us = (3 * p->rttvar_us + d) / 4;
        p->srtt_us = (7 * p->srtt_us + r) / 8;
    }
    /* RFC 8985 7.2's PTO before WCDelAckT: 2 SRTT, at least 10 ms. */
    p->pto_us = u32_max(2 * p->srtt_us, 10000);
    uint32_t var = u32_max(1000, 4 * p->rttvar_us); /* G: the 1 ms timestamp tick */
    uint32_t rto = p->srtt_us + var;
    rto = u32_max(rto, t->cfg.rto_min_ms * 1000);
    p->rto_us = u32_min(rto, t->cfg.rto_max_ms * 1000);
}

/* ------------------------------------------------------------ CUBIC */

static uint64_t icbrt(uint64_t x)
{
    uint64_t r = 0;
    for (int s = 63; s >= 0; s -= 3) {
        r <<= 1;
        uint64_t b = 3 * r * (r + 1) + 1;
        if ((x >> s) >= b) {
            x -= b << s;
            r++;
        }
    }
    return r;
}

/* W_cubic(t) in bytes for t ms into the epoch (RFC 9438 eq. 1, C = 0.4). */
static uint32_t w_cubic(const struct tcp_pcb *p, uint64_t t_ms)
{
    const struct tcp_cc *c = &p->cc;
    int64_t d = (int64_t)t_ms - (int64_t)c->k_ms;
    uint64_t ad = (uint64_t)(d < 0 ? -d : d);
    if (ad > 100000)
        ad = 100000; /* 100 s: keeps the cube in 64 bits */
    /* 0.4 * (d / 1000)^3 segments = d^3 / 2.5e9 segments */
    uint64_t delta = (ad * ad * ad / 1000) * p->mss / 2500000;
    int64_t w = (int64_t)c->w_max + (d < 0 ? -(int64_t)delta : (int64_t)delta);
    if (w < (int64_t)p->mss)
        w = p->mss;
    return w > CWND_MAX ? CWND_MAX : (uint32_t)w;
}

static void cubic_epoch(struct tcp_pcb *p, uint64_t now)
{
    struct tcp_cc *c = &p->cc;
    c->epoch_ns = now ? now : 1;
    c->cwnd_epoch = p->cwnd;
    c->w_est = p->cwnd;
    if (c->w_max > p->cwnd) {
        /* K = cbrt((W_max - cwnd_epoch) / C) s, in ms: cbrt(bytes / mss * 2.5e9) */
        uint64_t seg_x = (uint64_t)(c->w_max - p->cwnd) * 2500000000ull / p->mss;
        c->k_ms = (uint32_t)icbrt(seg_x);
    } else {
        c->k_ms = 0;
        c->w_max = p->cwnd;
    }
}

static void cubic_ack(struct tcp_pcb *p, uint32_t acked, uint64_t now)
{
    struct tcp_cc *c = &p->cc;
    if (!c->epoch_ns)
        cubic_epoch(p, now);
    uint64_t t_ms = (now - c->epoch_ns) / TCP_MS;
    uint64_t rtt_ms = p->srtt_us / 1000;
    /* Reno-friendly region: alpha = 3 (1 - beta) / (1 + beta) = 9/17 segments
     * per window of ACKs. */
    c->w_est += (uint32_t)((uint64_t)acked * p->mss * 9 / 17 / p->cwnd);
    uint32_t target = w_cubic(p, t_ms + rtt_ms);
    if (w_cubic(p, t_ms) < c->w_est) {
        p->cwnd = u32_max(p->cwnd, c->w_est);
        return;
    }
    target = u32_min(u32_max(target, p->cwnd), p->cwnd + p->cwnd / 2);
    uint64_t inc = (uint64_t)(target - p->cwnd) * acked / p->cwnd;
    p->cwnd += (uint32_t)u32_min((uint32_t)inc, p->mss);
}

/* ------------------------------------------------------------ window growth */

void tcp_cc_grow(struct tcp_pcb *p, uint32_t acked, uint64_t now)
{
    if (p->cwnd < p->ssthresh) { /* slow start, RFC 3465 L = 2 */
        p->cwnd += u32_min(acked, 2 * p->mss);
        if (p->cwnd > p->ssthresh && p->t->cfg.cc == TCP_CC_CUBIC)
            p->cc.epoch_ns = 0;
    } else if (p->t->cfg.cc == TCP_CC_CUBIC) {
        cubic_ack(p, acked, now);
    } else { /* RFC 5681 3.1, byte counting */
        p->cc.acc += acked;
        if (p->cc.acc >= p->cwnd) {
            p->cc.acc -= p->cwnd;
            p->cwnd += p->mss;
        }
    }
    if (p->cwnd > CWND_MAX)
        p->cwnd = CWND_MAX;
}

uint32_t tcp_cc_ssthresh(struct tcp_pcb *p)
{
    uint32_t two = 2 * p->mss;
    if (p->t->cfg.cc != TCP_CC_CUBIC)
        return u32_max(tcp_flight(p) / 2, two);
    struct tcp_cc *c = &p->cc;
    /* RFC 9438 4.7 fast convergence */
    if (p->cwnd < c->w_last_max)
        c->w_max = (uint32_t)((uint64_t)p->cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
                              (2 * CUBIC_BETA_DEN));
    else
        c->w_max = p->cwnd;
    c->w_last_max = p->cwnd;
    c->epoch_ns = 0;
    return u32_max((uint32_t)((uint64_t)p->cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN), two);
}

void tcp_cc_recovered(struct tcp_pcb *p)
{
    p->cc.epoch_ns = 0;
    p->cc.acc = 0;
}

/* ------------------------------------------------------------ loss recovery */

/* lost: everything unsacked below it is taken as lost (at least the first
 * segment; more when SACK says so). */
static void enter_fast(struct tcp_pcb *p, uint32_t lost)
{
    struct tcp *t = p->t;
    p->recover = p->snd_nxt;
    p->ssthresh = tcp_cc_ssthresh(p);
    p->recovery = TCP_REC_FAST;
    p->rtx_nxt = p->snd_una;
    p->rtx_mark = p->snd_nxt;
    p->rtt_timing = false; /* Karn */
    if (p->sack_ok) {
        t->st.sack_recoveries++;
        p->cwnd = p->ssthresh;
        p->lost_end = seq_min(seq_max(lost, p->snd_una + p->mss), p->snd_nxt);
        uint32_t s, e;
        /* RFC 6675 (4.3 C): the first loss goes out whatever pipe says. */
        if (tcp_sb_next_hole(p, p->snd_una, p->lost_end, p->mss, &s, &e))
            p->rtx_nxt = s + tcp_retransmit(p, s, e - s);
    } else {
        t->st.fast_recoveries++;
        tcp_retransmit(p, p->snd_una, p->mss);
        p->cwnd = p->ssthresh + 3 * p->mss;
    }
}

static void exit_fast(struct tcp_pcb *p)
{
    if (p->sack_ok)
        p->cwnd = p->ssthresh;
    else /* RFC 6582 3.2 step 3, option 1 */
        p->cwnd = u32_min(p->ssthresh, u32_max(tcp_flight(p), p->mss) + p->mss);
    p->recovery = TCP_REC_NONE;
    p->dupacks = 0;
    tcp_cc_recovered(p);
}

static void fast_ack(struct tcp_pcb *p, uint32_t acked, bool dup, uint64_t now)
{
    if (acked && seq_geq(p->snd_una, p->recover)) {
        exit_fast(p);
        return;
    }
    if (p->sack_ok) {
        uint32_t lp = seq_min(tcp_sb_lost_point(p), p->snd_nxt);
        if (seq_gt(lp, p->lost_end))
            p->lost_end = lp;
        if (acked && seq_gt(p->snd_una, p->lost_end))
            p->lost_end = p->snd_una;
        /* Data sent after the holes were retransmitted is SACKed while a hole
         * already retransmitted is still one: that retransmission was lost too
         * (Linux's lost-retransmit check, with SND.NXT at the time as its
         * clock). Go over the holes again, once per such round. */
        uint32_t s, e;
        if (p->sb.n && seq_gt(p->sb.b[p->sb.n - 1].end, p->rtx_mark) &&
            seq_gt(p->rtx_nxt, p->snd_una) &&
            tcp_sb_next_hole(p, p->snd_una, seq_min(p->rtx_nxt, p->lost_end), p->mss, &s,
                             &e)) {
            p->t->st.lost_retransmits++;
            p->rtx_nxt = p->snd_una;
            p->rtx_mark = p->snd_nxt;
        }
        return;
    }
    if (acked) { /* partial ACK: the next hole, window deflated (RFC 6582 3.2 5) */
        tcp_retransmit(p, p->snd_una, p->mss);
        p->cwnd = p->cwnd > acked ? p->cwnd - acked : p->mss;
        if (acked >= p->mss)
            p->cwnd += p->mss;
        tcp_rtx_arm(p, now);
    } else if (dup) {
        p->cwnd += p->mss;
    }
}

void tcp_recovery_ack(struct tcp_pcb *p, uint32_t acked, bool dup, uint64_t now)
{
    if (p->recovery == TCP_REC_FAST) {
        fast_ack(p, acked, dup, now);
        return;
    }
    if (p->recovery == TCP_REC_RTO && seq_geq(p->snd_una, p->lost_end))
        p->recovery = TCP_REC_NONE;
    if (acked) {
        p->dupacks = 0;
        tcp_cc_ack(p, acked, now);
    } else if (dup) {
        p->dupacks++;
    }
    if (p->recovery != TCP_REC_NONE || !seq_gt(p->snd_una, p->recover) ||
        tcp_flight(p) == 0)
        return;
    uint32_t lp = p->sack_ok && p->sb.n ? tcp_sb_lost_point(p) : p->snd_una;
    /* After a tail loss probe (sent last), unsacked data below what the peer
     * SACKs was sent before it and is lost (RACK's time order, RFC 8985 6.2,
     * with no reordering window: one probe per episode). */
    if (p->tlp_out && p->sack_ok && p->sb.n)
        lp = seq_max(lp, p->sb.b[0].start);
    if (p->dupacks >= TCP_DUPTHRESH || seq_gt(lp, p->snd_una))
        enter_fast(p, lp);
}

void tcp_rto_timeout(struct tcp_pcb *p)
{
    struct tcp *t = p->t;
    uint64_t now = plat_now_ns();
    if (p->state == TCP_SYN_SENT || p->state == TCP_SYN_RCVD) {
        if (p->nrtx >= t->cfg.syn_retries) {
            tcp_pcb_closed(p, TCP_ETIMEDOUT, true);
            return;
        }
        p->nrtx++;
        t->st.retransmits++;
        tcp_send_syn(p);
        tcp_rtx_arm(p, now);
        return;
    }
    if (tcp_flight(p) == 0) {
        tcp_output(p);
        return;
    }
    if (++p->nrtx > t->cfg.retries) {
        tcp_send_rst_pcb(p);
        tcp_pcb_closed(p, TCP_ETIMEDOUT, true);
        return;
    }
    t->st.rto_timeouts++;
    if (p->recovery != TCP_REC_RTO) /* RFC 5681 eq. 4, once per episode */
        p->ssthresh = tcp_cc_ssthresh(p);
    p->cwnd = p->mss;
    p->recovery = TCP_REC_RTO;
    p->rtx_nxt = p->snd_una;
    p->lost_end = p->snd_nxt;
    p->recover = p->snd_nxt;
    p->dupacks = 0;
    p->rtt_timing = false;
    tcp_sb_clear(p);
    tcp_cc_recovered(p);
    tcp_output(p);
    tcp_rtx_arm(p, now);
}
