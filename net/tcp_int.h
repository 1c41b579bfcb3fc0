/* Internals of net/tcp*.c (not for other modules): the connection block, the
 * listener, the module state, buffers and the functions the TCP files share.
 * File map: tcp.c (module, table, timers, lifetime), tcp_in.c (segment arrival,
 * RFC 9293 3.10.7), tcp_listen.c (LISTEN, SYN queue, cookies), tcp_out.c (segments
 * out, what to send), tcp_buf.c (send and receive buffers), tcp_sack.c (both SACK
 * sides), tcp_cc.c (RTO, NewReno, CUBIC), tcp_isn.c (keyed hashes), tcp_api.c
 * (the calls applications make). */
#ifndef NET_TCP_INT_H
#define NET_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"
#include "net/tcp.h"
#include "net/wire/tcp.h"

#define TCP_CHUNK_BYTES 2048 /* heap buffer unit (send data, copied receive data) */
#define TCP_HASH_SIZE 256
#define TCP_MAX_LISTENERS 16
#define TCP_SB_MAX 8       /* SACK scoreboard ranges kept by a sender */
#define TCP_OOO_MAX 64     /* out-of-order segments held per connection */
#define TCP_MAX_VIEWS 4    /* payload pieces of one segment */
#define TCP_COPYBREAK 256  /* shorter received segments are copied, not pinned */
#define TCP_FREE_CHUNKS 16 /* spare heap chunks kept for reuse */
#define TCP_FREE_RSEGS 128
#define TCP_FREE_PCBS 8     /* closed connection blocks kept for reuse */
#define TCP_DEFAULT_MSS 536 /* RFC 9293 3.7.1: when the peer sends no MSS option */
#define TCP_DUPTHRESH 3
#define TCP_TS_SHIFT 20 /* timestamp clock: 2^20 ns (about 1 ms) per tick */
#define TCP_MS 1000000ull
#define TCP_PAWS_IDLE_NS (24ull * 24 * 3600 * 1000000000ull) /* RFC 7323 5.5 */

struct tcp_chunk {
    struct netbuf nb; /* refs: the queue holding it + frames in flight */
    struct tcp_chunk *next;
    uint32_t seq; /* send queue: sequence number of data[0] */
    uint32_t len; /* bytes of data used */
    uint8_t data[TCP_CHUNK_BYTES];
};

/* Received data: a view of an RX buffer (pinned) or of a heap chunk. */
struct tcp_rseg {
    struct tcp_rseg *next;
    uint32_t seq;
    bool pinned;
    struct view v;
};

struct tcp_sndq {
    struct tcp_chunk *head, *tail;
    struct tcp_chunk *cur; /* hint: the chunk holding SND.NXT */
};

struct tcp_rq {
    struct tcp_rseg *head, *tail;
    uint32_t bytes;
};

/* Sender's SACK scoreboard (RFC 6675): disjoint ranges above SND.UNA, sorted. */
struct tcp_sb {
    uint8_t n;
    uint32_t sacked; /* bytes in the ranges */
    struct tcp_sack_block b[TCP_SB_MAX];
};

struct tcp_cc {
    uint32_t acc;        /* Reno congestion avoidance byte counter */
    uint32_t w_max;      /* CUBIC: window before the last reduction (bytes) */
    uint32_t w_last_max; /* for fast convergence */
    uint32_t w_est;      /* Reno-friendly estimate (bytes) */
    uint32_t cwnd_epoch; /* cwnd at the start of the epoch */
    uint32_t k_ms;       /* time to reach w_max again */
    uint64_t epoch_ns;   /* 0: no epoch yet */
};

enum tcp_recovery {
    TCP_REC_NONE = 0,
    TCP_REC_FAST, /* fast recovery: RFC 6675 with SACK, RFC 6582 without */
    TCP_REC_RTO,  /* after a timeout: everything outstanding is lost */
};

enum tcp_rtx_mode {
    TCP_TM_RTO = 0, /* retransmission (SYN, data, FIN) */
    TCP_TM_PERSIST, /* zero-window probe */
    TCP_TM_TLP,     /* tail loss probe (RFC 8985 7), then the RTO */
};

/* A connection. tcp_pcb_new zeroes it up to sb.b; what follows is set before it
 * is read (by tcp_pcb_new, the creator, tcp_pcb_init_vars). */
struct tcp_pcb {
    struct tcp_listener *listener; /* passive open not yet handed over */
    uint8_t state;                 /* enum tcp_state */
    uint8_t recovery;              /* enum tcp_recovery */
    uint8_t rtx_mode;              /* enum tcp_rtx_mode */
    uint8_t err;                   /* enum tcp_err: why it ended */
    uint16_t hold;                 /* the user's handle + threads inside calls */

    bool user;   /* an application holds the flow */
    bool hashed; /* in the lookup table */
    bool in_aq;  /* in its listener's accept queue */
    bool nodelay;
    bool shut_rd, shut_wr; /* shut_wr: a FIN follows the queued data */
    bool fin_sent, fin_rcvd, fin_ooo;
    bool ack_now;     /* an ACK is owed at once */
    bool ack_delayed; /* an ACK is owed within delack_ms */
    bool kick;        /* input changed what may be sent (ACK, window) */
    bool rtt_timing;  /* timing one segment (no timestamps) */
    bool in_output, output_again;
    bool cookie;  /* made from a SYN cookie */
    bool orphan;  /* the application closed it: no reader any more */
    bool tlp_out; /* a tail loss probe was sent; no other until an ACK */

    uint8_t snd_ws;
    uint8_t dupacks;
    uint8_t nrtx;     /* retransmission timeouts in a row */
    uint8_t probes;   /* keepalive or zero-window probes unanswered */
    uint8_t rcv_full; /* full-sized segments not yet acknowledged */
    uint8_t nooo;

    uint32_t irs;
    uint32_t snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
    uint32_t rcv_nxt, rcv_adv; /* rcv_adv: right edge last announced */
    uint32_t rtx_nxt, lost_end, prior_flight;
    uint32_t rtx_mark; /* SND.NXT when the holes were last retransmitted */
    uint32_t ts_recent, last_ack_sent;
    uint32_t srtt_us, rttvar_us;
    uint32_t pto_us;   /* 2 SRTT, at least 10 ms (0 before an RTT sample) */
    uint32_t fin_seq;  /* an out-of-order FIN's sequence number */
    uint32_t ooo_last; /* start of the out-of-order segment received last */
    uint32_t ooo_bytes;

    uint64_t ts_recent_ns, rtt_start_ns;
    uint64_t t_rtx, t_delack, t_keep, t_wait; /* 0 = off */
    uint64_t deadline;                        /* the earliest of them */

    struct tcp_sndq sq;
    struct tcp_rq rq;      /* in order, not yet read */
    struct tcp_rseg *lent; /* handed out by tcp_read */
    struct tcp_rseg *ooo;  /* out of order, sorted, disjoint */

    struct waitq rwait, wwait, cwait;
    tcp_event_fn ev_fn;
    void *ev_ctx;
    unsigned events; /* pending for ev_fn */

    struct tcp_sb sb; /* last of the zeroed part: sb.b is read below sb.n only */

    struct tcp *t;
    struct tcp_pcb *next, *prev; /* every connection (timers) */
    struct tcp_pcb *hnext;       /* hash chain (while hashed) */
    struct tcp_pcb **hbucket;    /* its head (while hashed) */
    struct tcp_pcb *aq_next;     /* listener's accept queue (while in_aq) */
    struct ipv4_addr laddr, raddr;
    uint16_t lport, rport;
    uint32_t iss;
    uint32_t snd_una, snd_nxt, snd_end; /* snd_end: after the last byte queued */
    uint32_t recover, rtt_seq, ts_off;
    uint32_t snd_cap, rcv_cap;
    uint32_t cwnd, ssthresh;
    uint32_t rto_us;
    uint32_t keep_idle_ms, keep_intvl_ms;
    uint16_t mss;     /* payload bytes per segment we send (options excluded) */
    uint16_t rcv_mss; /* largest segment received (delayed ACK) */
    uint16_t peer_mss;
    uint16_t adv_mss; /* what we announced */
    uint8_t rcv_ws, keep_cnt;
    bool sack_ok, ts_ok, ws_ok, keepalive;
    uint64_t ph_sum; /* pseudoheader partial sum, length excluded (addresses fixed) */
    uint64_t last_rx_ns;
    struct tcp_cc cc; /* tcp_cc_init */
};

struct tcp_listener {
    struct tcp *t;
    uint16_t port;
    uint16_t backlog;
    uint32_t nsyn; /* half-open connections */
    uint32_t nacc; /* established, waiting in the accept queue */
    tcp_accept_fn on_accept;
    void *ctx;
    struct tcp_pcb *aq_head, *aq_tail;
    struct waitq wait;
    uint64_t cookie_ns; /* when a cookie was last sent (0: never) */
    uint32_t waiters;   /* threads in tcp_accept */
    bool closed;
};

struct tcp {
    struct ipv4 *ip;
    struct tcp_config cfg;
    struct tcp_pcb *hash[TCP_HASH_SIZE];
    struct tcp_pcb *all;  /* every connection */
    struct tcp_pcb *last; /* lookup cache */
    struct tcp_listener *listeners[TCP_MAX_LISTENERS];
    uint32_t nconns, nhalf, nlisten;
    uint32_t mem_used, rx_pinned;
    struct tcp_chunk *free_chunks;
    uint32_t nfree_chunks;
    struct tcp_rseg *free_rsegs;
    uint32_t nfree_rsegs;
    struct tcp_pcb *free_pcbs;
    uint32_t nfree_pcbs;
    struct waitq mem_wait; /* writers waiting for the total cap */
    uint64_t next_deadline;
    void (*deadline_fn)(void *ctx, uint64_t deadline);
    void *deadline_ctx;
    uint64_t chal_credit_ns, chal_last_ns; /* challenge ACK token bucket */
    uint32_t port_seq;
    /* A new connection's values from cfg, worked out once (tcp_create). */
    uint8_t dfl_rcv_ws, dfl_keep_cnt;
    bool dfl_sack, dfl_ts, dfl_ws;
    bool destroying;
    struct tcp_stats st;
};

/* One arriving segment, as the state machine sees it. */
struct tcp_seg {
    const struct ipv4_rxinfo *info;
    struct view data; /* payload, trimmed to the window as processing goes */
    uint32_t seq, ack, wnd;
    uint32_t len; /* data + SYN + FIN */
    uint16_t sport, dport;
    uint8_t flags;
    struct tcp_opts o; /* o.present 0 without options */
};

/* ------------------------------------------------------------ sequence space */

static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}
static inline bool seq_leq(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}
static inline bool seq_geq(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) >= 0;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
    return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
    return seq_lt(a, b) ? a : b;
}
static inline uint32_t u32_min(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}
static inline uint32_t u32_max(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static inline uint32_t tcp_ts_now(uint64_t now_ns)
{
    return (uint32_t)(now_ns >> TCP_TS_SHIFT);
}

/* Bytes sent and not acknowledged (the FIN and SYN count one each). */
static inline uint32_t tcp_flight(const struct tcp_pcb *p)
{
    return p->snd_nxt - p->snd_una;
}
/* Data queued and not yet sent. */
static inline uint32_t tcp_unsent(const struct tcp_pcb *p)
{
    return seq_lt(p->snd_nxt, p->snd_end) ? p->snd_end - p->snd_nxt : 0;
}

/* ------------------------------------------------------------ tcp.c */

static inline uint32_t tcp_hash_of(struct ipv4_addr ra, uint16_t rport, uint16_t lport)
{
    uint32_t h = ra.be ^ ((uint32_t)rport << 16 | lport);
    return (h * 0x9e3779b1u) >> 24;
}
/* The chain from p on (p may be NULL); the one found becomes t->last. */
struct tcp_pcb *tcp_lookup_chain(struct tcp *t, struct tcp_pcb *p, struct ipv4_addr raddr,
                                 uint16_t rport, uint16_t lport);
/* The connection of a 4-tuple (the local address checked by the caller): the one
 * found last, else the hash table (an empty bucket without a call: a new
 * connection's SYN). */
static inline struct tcp_pcb *tcp_lookup(struct tcp *t, struct ipv4_addr raddr,
                                         uint16_t rport, uint16_t lport)
{
    struct tcp_pcb *p = t->last;
    if (p && p->raddr.be == raddr.be && p->rport == rport && p->lport == lport)
        return p;
    p = t->hash[tcp_hash_of(raddr, rport, lport)];
    return p ? tcp_lookup_chain(t, p, raddr, rport, lport) : NULL;
}
struct tcp_pcb *tcp_pcb_new(struct tcp *t);
void tcp_pcb_hash(struct tcp_pcb *p);
void tcp_pcb_free(struct tcp_pcb *p);
static inline void tcp_pcb_hold(struct tcp_pcb *p)
{
    p->hold++;
}
/* Lets go of a hold; frees the connection once closed and unheld. */
static inline void tcp_pcb_drop(struct tcp_pcb *p)
{
    KCHECK(p->hold > 0);
    if (--p->hold == 0 && p->state == TCP_CLOSED && !p->user)
        tcp_pcb_free(p);
}
/* Enters CLOSED: unhashed, timers off, queues freed (unread data stays readable
 * unless flush), err recorded, waiters woken; freed when nothing holds it. */
void tcp_pcb_closed(struct tcp_pcb *p, enum tcp_err err, bool flush);
void tcp_established_wake(struct tcp_pcb *p);
static inline void tcp_established(struct tcp_pcb *p)
{
    p->t->st.conn_established++;
    if (p->cwait.head) /* tcp_connect */
        tcp_established_wake(p);
}
void tcp_log_state(const struct tcp_pcb *p, enum tcp_state s);
static inline void tcp_set_state(struct tcp_pcb *p, enum tcp_state s)
{
    if (s == TCP_ESTABLISHED && p->state != TCP_ESTABLISHED)
        tcp_established(p);
    if (LOG_DEBUG <= log_threshold)
        tcp_log_state(p, s);
    p->state = (uint8_t)s;
}
/* Timers: deadline absolute ns, 0 = off. A timer moved later or stopped leaves
 * the connection's deadline (and the module's) early: the tick finds nothing due
 * there and recomputes. */
void tcp_deadline_lowered(struct tcp *t, uint64_t deadline);
static inline void tcp_timer_set(struct tcp_pcb *p, uint64_t *timer, uint64_t deadline)
{
    *timer = deadline;
    if (!deadline)
        return;
    if (!p->deadline || deadline < p->deadline)
        p->deadline = deadline;
    if (deadline < p->t->next_deadline)
        tcp_deadline_lowered(p->t, deadline);
}
void tcp_rtx_arm(struct tcp_pcb *p, uint64_t now);
/* With data in flight: a tail loss probe when one may go, else the RTO. */
void tcp_flight_timer_arm(struct tcp_pcb *p, uint64_t now);
void tcp_delack_arm(struct tcp_pcb *p, uint64_t now);
void tcp_keep_arm_slow(struct tcp_pcb *p, uint64_t now);
/* Keepalive off and its timer off: nothing to do, without the call. */
static inline void tcp_keep_arm(struct tcp_pcb *p, uint64_t now)
{
    if (p->keepalive || p->t_keep)
        tcp_keep_arm_slow(p, now);
}
void tcp_time_wait(struct tcp_pcb *p);
/* Events for the flow's handler (delivered by tcp_events_fire) and its waiters
 * (woken now). */
void tcp_event_wake(struct tcp_pcb *p, unsigned ev);
/* One test for the three queues (no thread waits, usually). */
static inline bool tcp_waiters(const struct tcp_pcb *p)
{
    return (uintptr_t)p->rwait.head | (uintptr_t)p->wwait.head | (uintptr_t)p->cwait.head;
}
__attribute__((always_inline)) static inline void tcp_event(struct tcp_pcb *p,
                                                            unsigned ev)
{
    p->events |= ev;
    if (tcp_waiters(p))
        tcp_event_wake(p, ev);
}
void tcp_events_fire_slow(struct tcp_pcb *p);
static inline void tcp_events_fire(struct tcp_pcb *p)
{
    if (!p->events)
        return;
    if (p->ev_fn && p->user) { /* the first round here, the rest in the loop */
        unsigned ev = p->events;
        p->events = 0;
        p->ev_fn(p->ev_ctx, (struct tcp_flow *)p, ev);
    }
    if (!p->events)
        return;
    if (p->ev_fn) /* another round (the slow loop) */
        tcp_events_fire_slow(p);
    else
        p->events = 0; /* nobody to tell (closed by the handler) */
}
/* RFC 5961 rate limit: true when a challenge ACK may go out now. */
bool tcp_challenge_ok(struct tcp *t, uint64_t now);
/* Evicts the oldest TIME-WAIT connection; false when there is none. */
bool tcp_evict_time_wait(struct tcp *t);
/* Initial values of a new connection's variables (after addresses and ports). */
void tcp_pcb_init_vars(struct tcp_pcb *p, uint64_t now);
/* Options negotiated from a SYN (ours in p, the peer's in o). */
void tcp_apply_syn_opts(struct tcp_pcb *p, const struct tcp_opts *o);
/* A passive open's connection from its SYN: created, its variables set, the
 * SYN's options applied, in SYN-RECEIVED, in the table. NULL: none to be had. */
struct tcp_pcb *tcp_pcb_new_passive(struct tcp *t, const struct tcp_seg *s, uint64_t now);

/* ------------------------------------------------------------ tcp_in.c */

/* A segment for an existing connection (not LISTEN). */
void tcp_conn_input(struct tcp_pcb *p, struct tcp_seg *s);

/* ------------------------------------------------------------ tcp_listen.c */

static inline struct tcp_listener *tcp_listener_find(struct tcp *t, uint16_t port)
{
    if (!t->nlisten)
        return NULL;
    for (int i = 0; i < TCP_MAX_LISTENERS; i++)
        if (t->listeners[i] && t->listeners[i]->port == port)
            return t->listeners[i];
    return NULL;
}
void tcp_listen_input(struct tcp_listener *l, struct tcp_seg *s);
/* A passive connection became established: hand it to the application. */
void tcp_listen_established(struct tcp_pcb *p);
/* A connection leaves its listener's books (half-open count, accept queue). */
void tcp_listen_detach(struct tcp_pcb *p);

/* ------------------------------------------------------------ tcp_out.c */

/* Something queued not yet sent: data, or the FIN. */
static inline bool tcp_new_pending(const struct tcp_pcb *p)
{
    return seq_lt(p->snd_nxt, p->snd_end) || (p->shut_wr && !p->fin_sent);
}
void tcp_output_slow(struct tcp_pcb *p);
/* Sends what may go now, then arms the retransmission or the persist timer. */
static inline void tcp_output(struct tcp_pcb *p)
{
    /* Nothing to send, nothing to recover, the timer as it must be. */
    if (!tcp_new_pending(p) && p->recovery == TCP_REC_NONE &&
        (p->t_rtx || p->snd_nxt == p->snd_una)) {
        p->kick = false;
        return;
    }
    tcp_output_slow(p);
}
void tcp_send_ack(struct tcp_pcb *p);
void tcp_send_challenge_ack(struct tcp_pcb *p);
/* SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED). */
enum ipv4_err tcp_send_syn(struct tcp_pcb *p);
void tcp_send_rst_pcb(struct tcp_pcb *p);
/* A reset answering a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_send_rst_for(struct tcp *t, const struct tcp_seg *s);
/* A SYN-ACK for a SYN the listener keeps no state for. */
void tcp_send_cookie_synack(struct tcp *t, const struct tcp_seg *s, uint32_t iss,
                            uint16_t mss, const struct tcp_opts *o);
/* Retransmits [seq, seq + len) now (loss recovery); returns the bytes sent. */
uint32_t tcp_retransmit(struct tcp_pcb *p, uint32_t seq, uint32_t len);
/* Zero-window probe and keepalive probe. */
void tcp_send_probe(struct tcp_pcb *p);
void tcp_send_keepalive(struct tcp_pcb *p);
/* What the receive window would be now (bytes). */
static inline uint32_t tcp_rcv_space(const struct tcp_pcb *p)
{
    uint32_t used = p->rq.bytes + (p->lent ? p->lent->v.len : 0);
    return used < p->rcv_cap ? p->rcv_cap - used : 0;
}
/* After a read freed space: a window update if the window grew enough (never
 * while at least half the buffer is still announced). */
void tcp_window_update_slow(struct tcp_pcb *p);
static inline void tcp_window_update(struct tcp_pcb *p)
{
    if ((int32_t)(p->rcv_adv - p->rcv_nxt) < (int32_t)(p->rcv_cap / 2))
        tcp_window_update_slow(p);
}
uint16_t tcp_mss_for(struct tcp *t, struct ipv4_addr dst);

/* ------------------------------------------------------------ tcp_buf.c */

struct tcp_chunk *tcp_chunk_alloc(struct tcp *t);
/* A chunk (refs 1, empty) from the spares, else the heap; NULL over the cap. */
static inline struct tcp_chunk *tcp_chunk_get(struct tcp *t)
{
    struct tcp_chunk *c = t->free_chunks;
    if (!c || t->mem_used + TCP_CHUNK_BYTES > t->cfg.mem_max)
        return tcp_chunk_alloc(t);
    t->free_chunks = c->next;
    t->nfree_chunks--;
    t->mem_used += TCP_CHUNK_BYTES;
    c->nb.refs = 1; /* the rest as chunk_release left it (tcp_chunk_alloc) */
    c->next = NULL;
    c->len = 0;
    return c;
}
void tcp_chunk_put(struct tcp_chunk *c);
/* Received-segment records come from a free list (inline), else the heap. */
struct tcp_rseg *tcp_rseg_alloc(struct tcp *t);
void tcp_rseg_free_slow(struct tcp *t, struct tcp_rseg *r);
static inline void tcp_rseg_free(struct tcp *t, struct tcp_rseg *r)
{
    if (t->nfree_rsegs < TCP_FREE_RSEGS && !t->destroying) {
        r->next = t->free_rsegs;
        t->free_rsegs = r;
        t->nfree_rsegs++;
    } else {
        tcp_rseg_free_slow(t, r);
    }
}
static inline struct tcp_rseg *tcp_rseg_get(struct tcp *t)
{
    struct tcp_rseg *r = t->free_rsegs;
    if (!r)
        return tcp_rseg_alloc(t);
    t->free_rsegs = r->next;
    t->nfree_rsegs--;
    r->next = NULL;
    r->pinned = false;
    return r;
}
/* Lets the data go (the RX buffer back to its ring, or the chunk) and the record. */
static inline void tcp_rseg_put(struct tcp *t, struct tcp_rseg *r)
{
    if (r->pinned)
        t->rx_pinned--;
    if (r->v.buf) /* the record is set again when taken from the free list */
        netbuf_unref(r->v.buf);
    tcp_rseg_free(t, r);
}
/* Appends up to the caps; returns the bytes taken. */
uint32_t tcp_sndq_append_slow(struct tcp_pcb *p, const struct view *vs, int n);
static inline uint32_t tcp_sndq_append(struct tcp_pcb *p, const struct view *vs, int n)
{
    struct tcp_chunk *tail = p->sq.tail;
    uint32_t queued = p->snd_end - p->snd_una, len = vs->len;
    /* The common cases: one view that fits the room left in the last chunk, or
     * a first chunk. */
    if (n != 1 || queued >= p->snd_cap || len > p->snd_cap - queued)
        return tcp_sndq_append_slow(p, vs, n);
    if (!tail) {
        if (len > TCP_CHUNK_BYTES || !(tail = tcp_chunk_get(p->t)))
            return tcp_sndq_append_slow(p, vs, n);
        tail->seq = p->snd_end;
        p->sq.head = p->sq.tail = p->sq.cur = tail;
    } else if (len > TCP_CHUNK_BYTES - tail->len) {
        return tcp_sndq_append_slow(p, vs, n);
    }
    memcpy(tail->data + tail->len, view_data(vs), len);
    tail->len += len;
    p->snd_end += len;
    return len;
}
/* Drops acknowledged bytes before p->snd_una. */
void tcp_sndq_ack_slow(struct tcp_pcb *p);
static inline void tcp_sndq_ack(struct tcp_pcb *p)
{
    struct tcp_chunk *c = p->sq.head;
    /* Nothing to do while the oldest chunk still holds unacknowledged bytes. */
    if (!c || seq_gt(c->seq + c->len, p->snd_una))
        return;
    /* All acknowledged, one chunk: kept for the next write, from its start again
     * unless a frame still points into it. */
    if (c == p->sq.tail && p->snd_una == p->snd_end && !p->fin_sent && c->nb.refs == 1) {
        c->seq = p->snd_end;
        c->len = 0;
        return;
    }
    tcp_sndq_ack_slow(p);
}
/* Views of [seq, seq + len) (referenced; tcp_views_unref after the send); returns
 * the bytes covered (len shortened at a chunk boundary when views run out). */
uint32_t tcp_sndq_views(struct tcp_pcb *p, uint32_t seq, uint32_t len, struct view *vs,
                        int max, int *n);
void tcp_views_unref(struct view *vs, int n);
/* Copies [seq, seq + len) of the send queue to dst; returns the bytes copied
 * (fewer only if the queue does not hold them all). */
uint32_t tcp_sndq_copy(struct tcp_pcb *p, uint32_t seq, uint32_t len, uint8_t *dst);
void tcp_sndq_free_slow(struct tcp_pcb *p);
static inline void tcp_sndq_free(struct tcp_pcb *p)
{
    if (p->sq.head)
        tcp_sndq_free_slow(p);
}
/* Received data: appended in order, or kept out of order. false: no memory. */
bool tcp_rq_append_slow(struct tcp_pcb *p, const struct tcp_seg *s, const struct view *d);
/* Short segments are pinned only while half the RX buffers TCP may hold are
 * free: an RX buffer for a few bytes is cheap to keep briefly (the application
 * reads at once, usually) and costly to keep long. */
static inline bool tcp_can_pin(const struct tcp *t, const struct tcp_seg *s,
                               const struct view *d)
{
    uint32_t cap = t->cfg.rx_pinned_max;
    if (d->len < TCP_COPYBREAK)
        cap /= 2;
    return d->buf && !(s->info->flags & IPV4_RX_REASSEMBLED) && t->rx_pinned < cap;
}
/* Appends record r (not linked) to the receive queue as a pinned view of the
 * RX buffer d: both of tcp_rq_append's paths. */
static inline void tcp_rq_pin(struct tcp_pcb *p, struct tcp_rseg *r, const struct view *d)
{
    r->seq = p->rcv_nxt;
    r->v = *d;
    netbuf_ref(d->buf);
    r->pinned = true;
    p->t->rx_pinned++;
    p->t->st.rx_pinned++;
    if (p->rq.tail)
        p->rq.tail->next = r;
    else
        p->rq.head = r;
    p->rq.tail = r;
    p->rq.bytes += d->len;
    p->rcv_nxt += d->len;
}
static inline bool tcp_rq_append(struct tcp_pcb *p, const struct tcp_seg *s,
                                 const struct view *d)
{
    struct tcp *t = p->t;
    struct tcp_rseg *r = t->free_rsegs;
    if (!r || !tcp_can_pin(t, s, d))
        return tcp_rq_append_slow(p, s, d);
    /* The common case: a view of the RX buffer, the record from the free list. */
    t->free_rsegs = r->next;
    t->nfree_rsegs--;
    r->next = NULL;
    tcp_rq_pin(p, r, d);
    return true;
}
bool tcp_ooo_insert(struct tcp_pcb *p, const struct tcp_seg *s, uint32_t seq,
                    const struct view *d);
/* Moves what the out-of-order queue holds at RCV.NXT to the receive queue. */
void tcp_ooo_drain(struct tcp_pcb *p);
void tcp_rcv_free_slow(struct tcp_pcb *p);
void tcp_ooo_free_slow(struct tcp_pcb *p);
static inline void tcp_ooo_free(struct tcp_pcb *p)
{
    if (p->ooo || p->fin_ooo)
        tcp_ooo_free_slow(p);
}
/* In order and out of order. */
static inline void tcp_rcv_free(struct tcp_pcb *p)
{
    if (p->rq.head || p->ooo || p->fin_ooo)
        tcp_rcv_free_slow(p);
}
static inline void tcp_lent_release(struct tcp_pcb *p)
{
    if (p->lent) {
        tcp_rseg_put(p->t, p->lent);
        p->lent = NULL;
    }
}

/* ------------------------------------------------------------ tcp_sack.c */

void tcp_sb_update(struct tcp_pcb *p, const struct tcp_opts *o);
void tcp_sb_trim(struct tcp_pcb *p);
static inline void tcp_sb_clear(struct tcp_pcb *p)
{
    p->sb.n = 0;
    p->sb.sacked = 0;
}
/* Unsacked bytes in [a, b). */
uint32_t tcp_sb_unsacked(const struct tcp_pcb *p, uint32_t a, uint32_t b);
/* RFC 6675 IsLost: every unsacked byte below the returned point is lost. */
uint32_t tcp_sb_lost_point(const struct tcp_pcb *p);
/* First unsacked range [*s, *e) at or after from and before limit, at most max
 * bytes; false when none. */
bool tcp_sb_next_hole(const struct tcp_pcb *p, uint32_t from, uint32_t limit,
                      uint32_t max, uint32_t *s, uint32_t *e);
/* RFC 6675 SetPipe (or the flight outside recovery). */
uint32_t tcp_pipe(const struct tcp_pcb *p);
/* Receiver: the SACK blocks to send for the out-of-order queue. */
void tcp_sack_blocks(const struct tcp_pcb *p, struct tcp_opts *o, int max);

/* ------------------------------------------------------------ tcp_cc.c */

#define TCP_CWND_MAX 0x3fffffffu
/* Inline: once at creation, again at ESTABLISHED. */
static inline void tcp_cc_init(struct tcp_pcb *p)
{
    uint32_t m = p->mss;
    /* RFC 3390: min(4 * MSS, max(2 * MSS, 4380 bytes)) */
    p->cwnd = u32_min(4 * m, u32_max(2 * m, 4380));
    p->ssthresh = TCP_CWND_MAX;
    p->cc = (struct tcp_cc){0};
}
void tcp_rtt_sample(struct tcp_pcb *p, uint64_t rtt_ns);
/* A new cumulative ACK of acked bytes (outside fast recovery). */
void tcp_cc_grow(struct tcp_pcb *p, uint32_t acked, uint64_t now);
static inline void tcp_cc_ack(struct tcp_pcb *p, uint32_t acked, uint64_t now)
{
    /* Grow only when the window was used (RFC 7661's idea): an application
     * that sends little must not inflate cwnd without limit. */
    if (p->prior_flight + p->mss >= p->cwnd / 2)
        tcp_cc_grow(p, acked, now);
}
/* Loss: the new ssthresh (CUBIC also remembers the window). */
uint32_t tcp_cc_ssthresh(struct tcp_pcb *p);
void tcp_cc_recovered(struct tcp_pcb *p);
/* The ACK side of loss recovery: entering on duplicate ACKs or SACK, partial and
 * full ACKs, and the retransmission timeout. */
void tcp_recovery_ack(struct tcp_pcb *p, uint32_t acked, bool dup, uint64_t now);
void tcp_rto_timeout(struct tcp_pcb *p);
void tcp_tlp_timeout(struct tcp_pcb *p);

/* ------------------------------------------------------------ tcp_isn.c */

uint64_t tcp_siphash(const uint8_t key[16], const uint8_t *in, uint32_t len);
/* RFC 6528: ISN = M + F(addresses, ports, secret). Also the timestamp offset. */
uint32_t tcp_isn(struct tcp *t, struct ipv4_addr la, uint16_t lp, struct ipv4_addr ra,
                 uint16_t rp, uint64_t now, uint32_t *ts_off);
/* SYN cookies (RFC 4987): the ISN of a stateless SYN-ACK, and its check on the
 * ACK (returns the MSS index + 1, 0 when invalid). */
uint32_t tcp_cookie_make(struct tcp *t, const struct tcp_seg *s, int mss_idx,
                         uint64_t now);
int tcp_cookie_check(struct tcp *t, const struct tcp_seg *s, uint64_t now);
extern const uint16_t tcp_cookie_mss[8];
/* RFC 6056 algorithm 3: an ephemeral port for raddr:rport (0 when none free). */
uint16_t tcp_ephemeral_port(struct tcp *t, struct ipv4_addr raddr, uint16_t rport);

/* ------------------------------------------------------------ tcp_api.c */

void tcp_pcb_wake_all(struct tcp_pcb *p);

#endif
