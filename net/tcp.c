/* The TCP module (see net/tcp.h, internals in net/tcp_int.h): creation, the
 * connection table, a connection's lifetime (holds, CLOSED, free), timers and the
 * tick, events, counters and the observation calls. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp_int.h"
#include "net/wire/ipv4.h"

#define TCP_DESC(n) COUNTER_DESC(struct tcp_stats, n)
const struct counter_table tcp_counter_table = COUNTER_REGISTRY(TCP_COUNTERS, TCP_DESC);
#define TCP_GAUGE_DESC(n) COUNTER_DESC(struct tcp_gauges, n)
const struct counter_table tcp_gauge_table = COUNTER_REGISTRY(TCP_GAUGES, TCP_GAUGE_DESC);

static void config_defaults(struct tcp_config *c)
{
#define DEF(f, v)                                                                        \
    if (!c->f)                                                                           \
    c->f = (v)
    DEF(max_conns, 128);
    DEF(max_syn_queue, 64);
    DEF(sndbuf, 65536);
    DEF(rcvbuf, 65536);
    DEF(mem_max, 1024 * 1024);
    DEF(rx_pinned_max, 64);
    DEF(challenge_acks, 100);
    DEF(rto_min_ms, 200);
    DEF(rto_max_ms, 60000);
    DEF(delack_ms, 40);
    DEF(time_wait_ms, 60000);
    DEF(fin_wait2_ms, 60000);
    DEF(retries, 12);
    DEF(syn_retries, 6);
    DEF(keep_idle_ms, 7200000);
    DEF(keep_intvl_ms, 75000);
    DEF(keep_cnt, 9);
#undef DEF
    if (c->delack_ms > 40)
        c->delack_ms = 40;
    if (c->rcvbuf > (1u << 30))
        c->rcvbuf = 1u << 30;
    if (c->sndbuf > (1u << 30))
        c->sndbuf = 1u << 30;
    if (c->rto_max_ms < c->rto_min_ms)
        c->rto_max_ms = c->rto_min_ms;
}

static uint8_t wscale_for(uint32_t bytes)
{
    uint8_t s = 0;
    while (s < TCP_MAX_WSCALE && (bytes >> s) > 65535)
        s++;
    return s;
}

struct tcp *tcp_create(struct ipv4 *ip, const struct tcp_config *cfg)
{
    struct tcp *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ip = ip;
    if (cfg)
        t->cfg = *cfg;
    config_defaults(&t->cfg);
    bool zero = true;
    for (int i = 0; i < 16; i++)
        zero = zero && !t->cfg.secret[i];
    if (zero) { /* weak, but not a constant: the clock at creation, our address */
        uint64_t seed[2] = {plat_now_ns(), (uint64_t)(uintptr_t)t};
        uint64_t a = tcp_siphash(t->cfg.secret, (const uint8_t *)seed, sizeof seed);
        seed[0] ^= a;
        uint64_t b = tcp_siphash(t->cfg.secret, (const uint8_t *)seed, sizeof seed);
        memcpy(t->cfg.secret, &a, 8);
        memcpy(t->cfg.secret + 8, &b, 8);
    }
    t->dfl_rcv_ws = t->cfg.no_ws ? 0 : wscale_for(t->cfg.rcvbuf);
    t->dfl_keep_cnt = (uint8_t)u32_min(t->cfg.keep_cnt, 255);
    t->dfl_sack = !t->cfg.no_sack;
    t->dfl_ts = !t->cfg.no_ts;
    t->dfl_ws = !t->cfg.no_ws;
    t->next_deadline = UINT64_MAX;
    t->chal_credit_ns = 1000000000ull;
    t->chal_last_ns = plat_now_ns();
    return t;
}

void tcp_destroy(struct tcp *t)
{
    t->destroying = true;
    for (int i = 0; i < TCP_MAX_LISTENERS; i++)
        if (t->listeners[i])
            tcp_unlisten(t->listeners[i]);
    while (t->all) { /* no thread is inside a call: holds are ours to end */
        struct tcp_pcb *p = t->all;
        p->user = false;
        p->hold = 1;
        tcp_pcb_closed(p, TCP_ECLOSED, true);
        tcp_pcb_drop(p);
    }
    while (t->free_chunks) {
        struct tcp_chunk *c = t->free_chunks;
        t->free_chunks = c->next;
        free(c);
    }
    while (t->free_rsegs) {
        struct tcp_rseg *r = t->free_rsegs;
        t->free_rsegs = r->next;
        free(r);
    }
    while (t->free_pcbs) {
        struct tcp_pcb *p = t->free_pcbs;
        t->free_pcbs = p->next;
        free(p);
    }
    free(t);
}

/* ------------------------------------------------------------ the table */

static inline uint32_t hash_of(struct ipv4_addr ra, uint16_t rport, uint16_t lport)
{
    return tcp_hash_of(ra, rport, lport);
}

struct tcp_pcb *tcp_lookup_chain(struct tcp *t, struct tcp_pcb *p, struct ipv4_addr raddr,
                                 uint16_t rport, uint16_t lport)
{
    for (; p; p = p->hnext)
        if (p->raddr.be == raddr.be && p->rport == rport && p->lport == lport) {
            t->last = p;
            return p;
        }
    return NULL;
}

__attribute__((always_inline)) static inline void pcb_hash(struct tcp_pcb *p)
{
    struct tcp_pcb **b = &p->t->hash[hash_of(p->raddr, p->rport, p->lport)];
    p->hnext = *b;
    *b = p;
    p->hbucket = b;
    p->hashed = true;
    p->t->last = p; /* the next segment is likely its (the handshake's ACK) */
}

void tcp_pcb_hash(struct tcp_pcb *p)
{
    pcb_hash(p);
}

static void unhash(struct tcp_pcb *p)
{
    if (!p->hashed)
        return;
    struct tcp_pcb **b = p->hbucket;
    while (*b != p)
        b = &(*b)->hnext;
    *b = p->hnext;
    p->hashed = false;
    if (p->t->last == p)
        p->t->last = NULL;
}

/* n 16-byte words zeroed by as many stores (GCC makes memset of this size a rep
 * stosq: an instruction per 8 bytes under TCG). */
static inline void zero16(void *p, size_t n)
{
    typedef uint64_t v2 __attribute__((vector_size(16), aligned(8)));
    v2 *q = p;
#pragma GCC unroll 32
    for (size_t i = 0; i < n; i++)
        q[i] = (v2){0, 0};
}

__attribute__((always_inline)) static inline struct tcp_pcb *pcb_new(struct tcp *t)
{
    if (t->nconns >= t->cfg.max_conns && !tcp_evict_time_wait(t)) {
        t->st.refused_conn_cap++;
        return NULL;
    }
    struct tcp_pcb *p = t->free_pcbs;
    if (p) {
        t->free_pcbs = p->next;
        t->nfree_pcbs--;
    } else if (!(p = malloc(sizeof *p))) {
        t->st.mem_fail++;
        return NULL;
    }
    /* What the creator and tcp_pcb_init_vars set is left alone. */
    zero16(p, (offsetof(struct tcp_pcb, sb.b) + 15) / 16);
    p->t = t;
    p->prev = NULL;
    p->next = t->all;
    if (t->all)
        t->all->prev = p;
    t->all = p;
    t->nconns++;
    return p;
}

struct tcp_pcb *tcp_pcb_new(struct tcp *t)
{
    return pcb_new(t);
}

void tcp_pcb_free(struct tcp_pcb *p)
{
    struct tcp *t = p->t;
    unhash(p);
    tcp_lent_release(p);
    tcp_rcv_free(p);
    tcp_sndq_free(p);
    if (p->prev)
        p->prev->next = p->next;
    else
        t->all = p->next;
    if (p->next)
        p->next->prev = p->prev;
    t->nconns--;
    if (t->nfree_pcbs < TCP_FREE_PCBS && !t->destroying) {
        p->next = t->free_pcbs;
        t->free_pcbs = p;
        t->nfree_pcbs++;
    } else {
        free(p);
    }
}

void tcp_established_wake(struct tcp_pcb *p)
{
    waitq_wake_all(&p->cwait);
}

void tcp_log_state(const struct tcp_pcb *p, enum tcp_state s)
{
    log_debug("tcp", "%u->%u: %s -> %s", p->lport, p->rport, tcp_state_name(p->state),
              tcp_state_name(s));
}

void tcp_pcb_closed(struct tcp_pcb *p, enum tcp_err err, bool flush)
{
    struct tcp *t = p->t;
    if (p->state == TCP_CLOSED)
        return;
    if (p->listener)
        tcp_listen_detach(p);
    unhash(p);
    tcp_set_state(p, TCP_CLOSED);
    if (p->err == TCP_OK)
        p->err = (uint8_t)err;
    switch (err) {
    case TCP_OK:
        t->st.conn_closed++;
        break;
    case TCP_ERESET:
        t->st.conn_reset++;
        break;
    case TCP_EREFUSED:
        t->st.conn_refused++;
        break;
    case TCP_ETIMEDOUT:
    case TCP_ENOROUTE:
        t->st.conn_timeout++;
        break;
    default:
        t->st.conn_aborted++;
        break;
    }
    p->t_rtx = p->t_delack = p->t_keep = p->t_wait = p->deadline = 0;
    tcp_sndq_free(p);
    tcp_sb_clear(p);
    if (flush) {
        tcp_lent_release(p);
        tcp_rcv_free(p);
    } else {
        tcp_ooo_free(p); /* what was read in order stays readable */
    }
    tcp_event(p, TCP_EV_CLOSED | TCP_EV_READABLE | TCP_EV_WRITABLE);
}

bool tcp_evict_time_wait(struct tcp *t)
{
    struct tcp_pcb *old = NULL;
    for (struct tcp_pcb *p = t->all; p; p = p->next)
        if (p->state == TCP_TIME_WAIT && !p->user && p->hold == 0 &&
            (!old || p->t_wait < old->t_wait))
            old = p;
    if (!old)
        return false;
    t->st.time_wait_evicted++;
    old->hold++;
    tcp_pcb_closed(old, TCP_OK, true);
    tcp_pcb_drop(old);
    return true;
}

/* ------------------------------------------------------------ new connections */

uint16_t tcp_mss_for(struct tcp *t, struct ipv4_addr dst)
{
    uint32_t m = ipv4_mtu(t->ip, dst);
    m = m > TCP_HDR_LEN + 64 ? m - TCP_HDR_LEN : 64;
    return (uint16_t)(m > 65495 ? 65495 : m);
}

__attribute__((always_inline)) static inline void pcb_init_vars(struct tcp_pcb *p,
                                                                uint64_t now)
{
    struct tcp *t = p->t;
    p->iss = tcp_isn(t, p->laddr, p->lport, p->raddr, p->rport, now, &p->ts_off);
    p->ph_sum = ipv4_pseudo_sum(p->laddr, p->raddr, IPV4_PROTO_TCP, 0);
    p->snd_una = p->snd_nxt = p->iss;
    p->snd_end = p->iss + 1;
    p->recover = p->iss;
    p->rtt_seq = p->iss;
    p->snd_cap = t->cfg.sndbuf;
    p->rcv_cap = t->cfg.rcvbuf;
    p->adv_mss = tcp_mss_for(t, p->raddr);
    p->peer_mss = TCP_DEFAULT_MSS;
    p->mss = (uint16_t)u32_min(p->adv_mss, TCP_DEFAULT_MSS);
    p->rcv_mss = p->mss;
    p->rcv_ws = t->dfl_rcv_ws;
    p->rto_us = 1000000; /* RFC 6298 2.1 */
    p->keepalive = t->cfg.keepalive;
    p->keep_idle_ms = t->cfg.keep_idle_ms;
    p->keep_intvl_ms = t->cfg.keep_intvl_ms;
    p->keep_cnt = t->dfl_keep_cnt;
    p->last_rx_ns = now;
    p->sack_ok = t->dfl_sack;
    p->ts_ok = t->dfl_ts;
    p->ws_ok = t->dfl_ws;
    /* Again at ESTABLISHED with the MSS negotiated; a connection shut down in
     * SYN-RECEIVED goes to FIN-WAIT-1 without passing there. */
    tcp_cc_init(p);
}

void tcp_pcb_init_vars(struct tcp_pcb *p, uint64_t now)
{
    pcb_init_vars(p, now);
}

__attribute__((always_inline)) static inline void apply_syn_opts(struct tcp_pcb *p,
                                                                 const struct tcp_opts *o)
{
    p->peer_mss = (o->present & TCP_OPTF_MSS) ? o->mss : TCP_DEFAULT_MSS;
    if (p->peer_mss < 64)
        p->peer_mss = 64;
    p->ws_ok = p->ws_ok && (o->present & TCP_OPTF_WS);
    p->snd_ws = p->ws_ok ? o->wscale : 0;
    if (!p->ws_ok)
        p->rcv_ws = 0;
    if (!p->ws_ok && p->rcv_cap > 65535)
        p->rcv_cap = 65535;
    p->sack_ok = p->sack_ok && (o->present & TCP_OPTF_SACK_PERM);
    p->ts_ok = p->ts_ok && (o->present & TCP_OPTF_TS);
    if (p->ts_ok) {
        p->ts_recent = o->ts_val;
        p->ts_recent_ns = plat_now_ns();
    }
    uint32_t m = u32_min(p->peer_mss, p->adv_mss);
    if (p->ts_ok)
        m -= 12; /* RFC 6691: the MSS counts no options */
    p->mss = (uint16_t)u32_max(m, 32);
    p->rcv_mss = (uint16_t)u32_min(p->adv_mss, TCP_DEFAULT_MSS);
}

void tcp_apply_syn_opts(struct tcp_pcb *p, const struct tcp_opts *o)
{
    apply_syn_opts(p, o);
}

/* A passive open's connection from the SYN s, in SYN-RECEIVED and in the table,
 * SND.NXT past our SYN (the creators' steps in one frame: one per SYN). */
struct tcp_pcb *tcp_pcb_new_passive(struct tcp *t, const struct tcp_seg *s, uint64_t now)
{
    struct tcp_pcb *p = pcb_new(t);
    if (!p)
        return NULL;
    p->laddr = s->info->dst;
    p->raddr = s->info->src;
    p->lport = s->dport;
    p->rport = s->sport;
    pcb_init_vars(p, now);
    p->irs = s->seq;
    p->rcv_nxt = s->seq + 1;
    p->last_ack_sent = p->rcv_nxt;
    apply_syn_opts(p, &s->o);
    p->snd_wnd = s->wnd;
    p->max_snd_wnd = s->wnd;
    p->snd_wl1 = s->seq;
    p->state = TCP_SYN_RCVD;
    pcb_hash(p);
    p->snd_nxt = p->iss + 1;
    p->rtt_start_ns = now;
    return p;
}

/* ------------------------------------------------------------ timers */

static void update_deadline(struct tcp_pcb *p)
{
    uint64_t d = UINT64_MAX;
    if (p->t_rtx && p->t_rtx < d)
        d = p->t_rtx;
    if (p->t_delack && p->t_delack < d)
        d = p->t_delack;
    if (p->t_keep && p->t_keep < d)
        d = p->t_keep;
    if (p->t_wait && p->t_wait < d)
        d = p->t_wait;
    p->deadline = d == UINT64_MAX ? 0 : d;
}

void tcp_deadline_lowered(struct tcp *t, uint64_t deadline)
{
    t->next_deadline = deadline;
    if (t->deadline_fn)
        t->deadline_fn(t->deadline_ctx, deadline);
}

/* RFC 6298 5.5: backed off by the timeouts in a row (rto_us stays as computed, so
 * the first ACK of new data ends the back-off), at most rto_max. */
void tcp_rtx_arm(struct tcp_pcb *p, uint64_t now)
{
    uint64_t rto = (uint64_t)p->rto_us * 1000 << (p->nrtx < 16 ? p->nrtx : 16);
    uint64_t max = (uint64_t)p->t->cfg.rto_max_ms * TCP_MS;
    p->rtx_mode = TCP_TM_RTO;
    tcp_timer_set(p, &p->t_rtx, now + (rto < max ? rto : max));
}

/* RFC 8985 7.2: PTO = 2 SRTT, plus the peer's worst delayed ACK when one segment
 * is in flight, at most the RTO. Only with an RTT sample, outside recovery, one
 * probe at a time, in the states where data may still be sent. */
void tcp_flight_timer_arm(struct tcp_pcb *p, uint64_t now)
{
    uint64_t rto = (uint64_t)p->rto_us * 1000;
    if (!(p->tlp_out | p->nrtx | p->recovery) && p->pto_us &&
        (p->state == TCP_ESTABLISHED || p->state == TCP_CLOSE_WAIT)) {
        uint64_t pto = (uint64_t)p->pto_us * 1000;
        if (tcp_flight(p) <= p->mss)
            pto += 200 * TCP_MS; /* RFC 8985 WCDelAckT */
        if (pto < rto) {
            p->rtx_mode = TCP_TM_TLP;
            tcp_timer_set(p, &p->t_rtx, now + pto);
            return;
        }
    }
    if (p->nrtx) {
        tcp_rtx_arm(p, now); /* backed off */
        return;
    }
    uint64_t max = (uint64_t)p->t->cfg.rto_max_ms * TCP_MS;
    p->rtx_mode = TCP_TM_RTO;
    tcp_timer_set(p, &p->t_rtx, now + (rto < max ? rto : max));
}

void tcp_delack_arm(struct tcp_pcb *p, uint64_t now)
{
    if (!p->t_delack)
        tcp_timer_set(p, &p->t_delack, now + p->t->cfg.delack_ms * TCP_MS);
}

void tcp_keep_arm_slow(struct tcp_pcb *p, uint64_t now)
{
    if (!p->keepalive || p->state < TCP_ESTABLISHED || p->state == TCP_TIME_WAIT) {
        if (p->t_keep)
            tcp_timer_set(p, &p->t_keep, 0);
        return;
    }
    uint64_t ms = p->probes ? p->keep_intvl_ms : p->keep_idle_ms;
    tcp_timer_set(p, &p->t_keep, now + ms * TCP_MS);
}

void tcp_time_wait(struct tcp_pcb *p)
{
    uint64_t now = plat_now_ns();
    tcp_set_state(p, TCP_TIME_WAIT);
    p->t_rtx = p->t_keep = 0;
    tcp_sndq_free(p);
    tcp_timer_set(p, &p->t_wait, now + p->t->cfg.time_wait_ms * TCP_MS);
}

/* Each expired timer of one connection. */
static void run_timers(struct tcp_pcb *p, uint64_t now)
{
    struct tcp *t = p->t;
    if (p->t_wait && p->t_wait <= now) {
        p->t_wait = 0;
        update_deadline(p);
        tcp_pcb_closed(p, p->state == TCP_TIME_WAIT ? TCP_OK : TCP_ETIMEDOUT, true);
        return;
    }
    if (p->t_delack && p->t_delack <= now) {
        p->t_delack = 0;
        update_deadline(p);
        t->st.tx_delayed_acks++;
        tcp_send_ack(p);
    }
    if (p->t_rtx && p->t_rtx <= now) {
        p->t_rtx = 0;
        update_deadline(p);
        if (p->rtx_mode == TCP_TM_PERSIST)
            tcp_send_probe(p);
        else if (p->rtx_mode == TCP_TM_TLP)
            tcp_tlp_timeout(p);
        else
            tcp_rto_timeout(p);
    }
    if (p->state != TCP_CLOSED && p->t_keep && p->t_keep <= now) {
        uint64_t idle = (uint64_t)p->keep_idle_ms * TCP_MS;
        p->t_keep = 0;
        update_deadline(p);
        if (!p->probes && now - p->last_rx_ns < idle) {
            tcp_timer_set(p, &p->t_keep, p->last_rx_ns + idle); /* heard from since */
        } else if (p->probes >= p->keep_cnt) {
            tcp_send_rst_pcb(p);
            tcp_pcb_closed(p, TCP_ETIMEDOUT, true);
        } else {
            p->probes++;
            t->st.keepalive_probes++;
            tcp_send_keepalive(p);
            tcp_keep_arm(p, now);
        }
    }
}

void tcp_tick(struct tcp *t, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    t->next_deadline = UINT64_MAX; /* timers set while running lower it again */
    struct tcp_pcb *p = t->all;
    if (p)
        p->hold++;
    while (p) {
        if (p->deadline && p->deadline <= now) {
            run_timers(p, now);
            update_deadline(p); /* cancelled timers leave it early */
            tcp_events_fire(p);
        }
        if (p->deadline && p->deadline < next)
            next = p->deadline;
        struct tcp_pcb *n = p->next;
        if (n)
            n->hold++;
        tcp_pcb_drop(p);
        p = n;
    }
    if (next < t->next_deadline)
        t->next_deadline = next;
}

uint64_t tcp_next_deadline(const struct tcp *t)
{
    return t->next_deadline;
}

void tcp_set_deadline_hook(struct tcp *t, void (*fn)(void *ctx, uint64_t deadline),
                           void *ctx)
{
    t->deadline_fn = fn;
    t->deadline_ctx = ctx;
}

/* ------------------------------------------------------------ events */

void tcp_event_wake(struct tcp_pcb *p, unsigned ev)
{
    if ((ev & TCP_EV_READABLE) && p->rwait.head)
        waitq_wake_all(&p->rwait);
    if ((ev & TCP_EV_WRITABLE) && p->wwait.head)
        waitq_wake_all(&p->wwait);
    if ((ev & TCP_EV_CLOSED) && p->cwait.head)
        waitq_wake_all(&p->cwait);
}

void tcp_events_fire_slow(struct tcp_pcb *p)
{
    while (p->events && p->ev_fn && p->user) {
        unsigned ev = p->events;
        p->events = 0;
        p->ev_fn(p->ev_ctx, (struct tcp_flow *)p, ev);
    }
    if (!p->ev_fn)
        p->events = 0;
}

bool tcp_challenge_ok(struct tcp *t, uint64_t now)
{
    uint64_t cost = 1000000000ull / t->cfg.challenge_acks;
    uint64_t cap = 1000000000ull; /* a second's worth at once */
    t->chal_credit_ns += now - t->chal_last_ns;
    if (t->chal_credit_ns > cap)
        t->chal_credit_ns = cap;
    t->chal_last_ns = now;
    if (t->chal_credit_ns < cost) {
        t->st.challenge_acks_limited++;
        return false;
    }
    t->chal_credit_ns -= cost;
    return true;
}

/* ------------------------------------------------------------ observation */

const char *tcp_strerror(enum tcp_err e)
{
    switch (e) {
    case TCP_OK:
        return "ok";
    case TCP_EREFUSED:
        return "connection refused";
    case TCP_ERESET:
        return "connection reset";
    case TCP_ETIMEDOUT:
        return "timed out";
    case TCP_ENOROUTE:
        return "no route to host";
    case TCP_ECLOSED:
        return "connection closed";
    case TCP_ENOMEM:
        return "out of memory";
    case TCP_EWOULDBLOCK:
        return "would block";
    case TCP_EINVAL:
        return "invalid argument";
    }
    return "unknown error";
}

const char *tcp_state_name(enum tcp_state s)
{
    static const char *const names[] = {"CLOSED",       "LISTEN",      "SYN-SENT",
                                        "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
                                        "FIN-WAIT-2",   "CLOSE-WAIT",  "CLOSING",
                                        "LAST-ACK",     "TIME-WAIT"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void tcp_flow_info(const struct tcp_flow *f, struct tcp_flow_info *out)
{
    const struct tcp_pcb *p = (const struct tcp_pcb *)f;
    memset(out, 0, sizeof *out);
    out->state = (enum tcp_state)p->state;
    out->laddr = p->laddr;
    out->raddr = p->raddr;
    out->lport = p->lport;
    out->rport = p->rport;
    out->snd_wnd = p->snd_wnd;
    out->rcv_wnd = p->rcv_adv - p->rcv_nxt;
    out->cwnd = p->cwnd;
    out->ssthresh = p->ssthresh;
    out->mss = p->mss;
    out->srtt_us = p->srtt_us;
    out->rto_ms = p->rto_us / 1000;
    out->unacked = tcp_flight(p);
    out->unsent = tcp_unsent(p);
    out->unread = p->rq.bytes;
    out->retransmits = p->nrtx;
    out->sack = p->sack_ok;
    out->ts = p->ts_ok;
    out->wscale = p->ws_ok;
}

void tcp_foreach(const struct tcp *t, void (*fn)(void *ctx, const struct tcp_flow_info *),
                 void *ctx)
{
    for (const struct tcp_pcb *p = t->all; p; p = p->next) {
        struct tcp_flow_info fi;
        tcp_flow_info((const struct tcp_flow *)p, &fi);
        fn(ctx, &fi);
    }
}

void tcp_gauges(const struct tcp *t, struct tcp_gauges *out)
{
    out->conns = t->nconns;
    out->half_open = t->nhalf;
    out->listeners = t->nlisten;
    out->mem_used = t->mem_used;
    out->rx_pinned = t->rx_pinned;
}

const struct tcp_stats *tcp_stats(const struct tcp *t)
{
    return &t->st;
}

/* ------------------------------------------------------------ address gone */

uint32_t tcp_addr_gone(struct tcp *t, struct ipv4_addr addr)
{
    uint32_t n = 0;
    struct tcp_pcb *p = t->all;
    if (p)
        p->hold++;
    while (p) { /* held while closing, as in tcp_tick: it may be freed on drop */
        if (p->laddr.be == addr.be && p->state != TCP_CLOSED) {
            if (p->err == TCP_OK)
                p->err = TCP_ENOROUTE; /* what the user sees; counted as aborted */
            tcp_pcb_closed(p, TCP_ECLOSED, false);
            tcp_events_fire(p);
            n++;
        }
        struct tcp_pcb *next = p->next;
        if (next)
            next->hold++;
        tcp_pcb_drop(p);
        p = next;
    }
    t->st.conn_addr_gone += n;
    return n;
}

/* ------------------------------------------------------------ path MTU */

void tcp_icmp_frag_needed(struct tcp *t, const struct view *quote, uint16_t mtu)
{
    const uint8_t *q = view_data(quote);
    if (quote->len < IPV4_HDR_LEN)
        return;
    uint32_t ihl = ipv4_get_hdr_len(q);
    if (ihl < IPV4_HDR_LEN || quote->len < ihl + 8)
        return;
    struct ipv4_addr src = ipv4_get_src(q), dst = ipv4_get_dst(q);
    const uint8_t *th = q + ihl;
    struct tcp_pcb *p =
        tcp_lookup(t, dst, net_rd16(th + TCP_OFF_DPORT), net_rd16(th + TCP_OFF_SPORT));
    uint32_t seq = net_rd32(th + TCP_OFF_SEQ);
    /* RFC 5927 5.2: only about data in flight (a blind attacker must guess). */
    if (!p || p->laddr.be != src.be || p->state < TCP_ESTABLISHED ||
        !seq_geq(seq, p->snd_una) || !seq_lt(seq, p->snd_nxt))
        return;
    if (mtu == 0) /* a router older than RFC 1191: guess from what it quoted */
        mtu = ipv4_pmtu_plateau(ipv4_get_total_len(q));
    if (mtu < 296) /* RFC 1191 plateaus start at 296; smaller is not believed */
        mtu = 296;
    /* The path, for new connections too (ipv4_mtu answers per destination). */
    ipv4_pmtu_lower(t->ip, dst, mtu);
    uint32_t mss = (uint32_t)mtu - IPV4_HDR_LEN - TCP_HDR_LEN - (p->ts_ok ? 12 : 0);
    if (mss >= p->mss)
        return;
    t->st.pmtu_updates++;
    p->mss = (uint16_t)mss;
    p->rcv_mss = (uint16_t)u32_min(p->rcv_mss, mss);
    /* What is in flight was too big: send it again at the new size, without a
     * congestion response (the loss was not congestion). */
    p->hold++;
    p->recovery = TCP_REC_RTO;
    p->rtx_nxt = p->snd_una;
    p->lost_end = p->snd_nxt;
    p->recover = p->snd_nxt;
    tcp_sb_clear(p);
    tcp_output(p);
    tcp_events_fire(p);
    tcp_pcb_drop(p);
}
