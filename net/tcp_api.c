/* The calls applications make on flows (see net/tcp.h). A call holds the
 * connection while it runs, so a reset or a close from another thread cannot free
 * it under the caller; blocking waits are on the connection's wait queues (one for
 * readers, one for writers, one for connect), woken by input, timers and close.
 * Listening is in tcp_listen.c. */
#include "net/tcp_int.h"

static inline struct tcp_pcb *pcb_of(struct tcp_flow *f)
{
    return (struct tcp_pcb *)f;
}

static uint64_t deadline_of(uint64_t timeout_ns)
{
    uint64_t now = plat_now_ns();
    return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

void tcp_pcb_wake_all(struct tcp_pcb *p)
{
    if (p->rwait.head)
        waitq_wake_all(&p->rwait);
    if (p->wwait.head)
        waitq_wake_all(&p->wwait);
    if (p->cwait.head)
        waitq_wake_all(&p->cwait);
}

/* ------------------------------------------------------------ connect */

static enum tcp_err ipv4_to_tcp(enum ipv4_err e)
{
    switch (e) {
    case IPV4_OK:
        return TCP_OK;
    case IPV4_ENOROUTE:
        return TCP_ENOROUTE;
    case IPV4_ENOBUFS:
        return TCP_OK; /* the SYN is retransmitted */
    default:
        return TCP_EINVAL;
    }
}

/* Gives up a flow the caller held without handing it to the application. */
static void discard(struct tcp_pcb *p, enum tcp_err err)
{
    tcp_pcb_closed(p, err, true);
    p->user = false;
    tcp_pcb_drop(p);
}

enum tcp_err tcp_connect_start(struct tcp *t, struct ipv4_addr dst, uint16_t port,
                               struct tcp_flow **out)
{
    if (port == 0 || ipv4_addr_is_any(dst) || ipv4_addr_is_bcast(dst) ||
        ipv4_addr_is_mcast(dst))
        return TCP_EINVAL;
    uint64_t now = plat_now_ns();
    struct tcp_pcb *p = tcp_pcb_new(t);
    if (!p)
        return TCP_ENOMEM;
    p->hold = 1;
    p->user = true;
    p->laddr = ipv4_src(t->ip, dst);
    p->raddr = dst;
    p->rport = port;
    p->lport = tcp_ephemeral_port(t, dst, port);
    if (!p->lport) {
        discard(p, TCP_ENOMEM);
        return TCP_ENOMEM;
    }
    tcp_pcb_init_vars(p, now);
    p->state = TCP_SYN_SENT;
    tcp_pcb_hash(p);
    t->st.conn_active++;
    p->snd_nxt = p->iss + 1;
    p->rtt_start_ns = now;
    enum tcp_err e = ipv4_to_tcp(tcp_send_syn(p));
    if (e != TCP_OK) {
        discard(p, e);
        return e;
    }
    tcp_rtx_arm(p, now);
    p->hold--; /* the user's flag keeps it now */
    *out = (struct tcp_flow *)p;
    return TCP_OK;
}

enum tcp_err tcp_connect(struct tcp *t, struct ipv4_addr dst, uint16_t port,
                         uint64_t timeout_ns, struct tcp_flow **out)
{
    uint64_t deadline = deadline_of(timeout_ns);
    struct tcp_flow *f;
    enum tcp_err e = tcp_connect_start(t, dst, port, &f);
    if (e != TCP_OK)
        return e;
    struct tcp_pcb *p = pcb_of(f);
    p->hold++;
    while (p->state == TCP_SYN_SENT || p->state == TCP_SYN_RCVD) {
        if (timeout_ns == 0 || waitq_wait(&p->cwait, deadline) == WAIT_TIMEOUT)
            break;
    }
    if (p->state == TCP_SYN_SENT || p->state == TCP_SYN_RCVD) {
        discard(p, TCP_ETIMEDOUT);
        return TCP_ETIMEDOUT;
    }
    if (p->state == TCP_CLOSED) {
        e = (enum tcp_err)p->err;
        discard(p, e);
        return e == TCP_OK ? TCP_ECLOSED : e;
    }
    p->hold--;
    *out = f;
    return TCP_OK;
}

/* ------------------------------------------------------------ read */

/* Lends the receive queue's first segment. */
static void lend(struct tcp_pcb *p, struct view *out)
{
    struct tcp_rseg *r = p->rq.head;
    p->rq.head = r->next;
    if (!p->rq.head)
        p->rq.tail = NULL;
    p->rq.bytes -= r->v.len;
    p->lent = r;
    *out = r->v;
}

/* Out of line: the waiting loop would make every tcp_read save more registers. */
__attribute__((noinline)) static enum tcp_err
read_wait(struct tcp_pcb *p, struct view *out, uint64_t timeout_ns)
{
    uint64_t deadline = timeout_ns ? deadline_of(timeout_ns) : 0;
    enum tcp_err e = TCP_OK;
    *out = view_of_mem(NULL, 0);
    p->hold++;
    for (;;) {
        if (!p->user) {
            e = TCP_ECLOSED;
            break;
        }
        if (p->rq.head && !p->shut_rd) {
            lend(p, out);
            break;
        }
        if (p->shut_rd || p->fin_rcvd)
            break; /* the end of the stream */
        if (p->state == TCP_CLOSED) {
            e = (enum tcp_err)p->err;
            break;
        }
        if (timeout_ns == 0) {
            e = TCP_EWOULDBLOCK;
            break;
        }
        if (waitq_wait(&p->rwait, deadline) == WAIT_TIMEOUT && !p->rq.head &&
            !p->fin_rcvd && p->state != TCP_CLOSED) {
            e = TCP_ETIMEDOUT;
            break;
        }
    }
    tcp_pcb_drop(p);
    return e;
}

/* The common cases: no waiting. */
__attribute__((always_inline)) static inline enum tcp_err
read_now(struct tcp_pcb *p, struct view *out, uint64_t timeout_ns)
{
    if (p->user && !p->shut_rd) {
        if (p->rq.head) {
            lend(p, out);
            return TCP_OK;
        }
        if (p->fin_rcvd) { /* the end of the stream */
            *out = view_of_mem(NULL, 0);
            return TCP_OK;
        }
        if (!timeout_ns && p->state != TCP_CLOSED) {
            out->len = 0;
            return TCP_EWOULDBLOCK;
        }
    }
    return read_wait(p, out, timeout_ns);
}

/* The segment lent by the previous read goes back first (the window may open).
 * Apart: tcp_read itself then saves no registers. */
__attribute__((noinline)) static enum tcp_err
read_released(struct tcp_pcb *p, struct view *out, uint64_t timeout_ns)
{
    tcp_lent_release(p);
    tcp_window_update(p);
    return read_now(p, out, timeout_ns);
}

/* tcp_lent_release and tcp_window_update when neither calls out: the buffer
 * stays referenced, the record fits the spare list, no window update is due. */
static inline bool lent_release_quiet(struct tcp_pcb *p)
{
    struct tcp *t = p->t;
    struct tcp_rseg *r = p->lent;
    struct netbuf *b = r->v.buf;
    if ((b && b->refs <= 1) || t->nfree_rsegs >= TCP_FREE_RSEGS || t->destroying ||
        (int32_t)(p->rcv_adv - p->rcv_nxt) < (int32_t)(p->rcv_cap / 2))
        return false;
    if (r->pinned)
        t->rx_pinned--;
    if (b)
        b->refs--;
    r->next = t->free_rsegs;
    t->free_rsegs = r;
    t->nfree_rsegs++;
    p->lent = NULL;
    return true;
}

enum tcp_err tcp_read(struct tcp_flow *f, struct view *out, uint64_t timeout_ns)
{
    struct tcp_pcb *p = pcb_of(f);
    if (p->lent && !lent_release_quiet(p))
        return read_released(p, out, timeout_ns);
    return read_now(p, out, timeout_ns);
}

void tcp_read_done(struct tcp_flow *f)
{
    struct tcp_pcb *p = pcb_of(f);
    if (!p->lent)
        return;
    tcp_lent_release(p);
    tcp_window_update(p);
}

/* ------------------------------------------------------------ write */

/* RFC 9293 3.10.2: in SYN-SENT and SYN-RECEIVED the data waits for ESTABLISHED. */
static bool can_write(const struct tcp_pcb *p)
{
    return !p->shut_wr &&
           ((1u << p->state) & (1u << TCP_ESTABLISHED | 1u << TCP_CLOSE_WAIT |
                                1u << TCP_SYN_SENT | 1u << TCP_SYN_RCVD));
}

static enum tcp_err write_error(const struct tcp_pcb *p)
{
    if (p->state == TCP_CLOSED && p->err != TCP_OK)
        return (enum tcp_err)p->err;
    return TCP_ECLOSED;
}

/* Appends from views [*vi].. starting *off bytes into vs[*vi]; advances both. */
static uint32_t append_some(struct tcp_pcb *p, const struct view *vs, int n, int *vi,
                            uint32_t *off)
{
    uint32_t took = 0;
    while (*vi < n) {
        struct view v = vs[*vi];
        view_shift(&v, *off);
        uint32_t k = v.len ? tcp_sndq_append(p, &v, 1) : 0;
        took += k;
        if (k < v.len) {
            *off += k;
            break;
        }
        (*vi)++;
        *off = 0;
    }
    return took;
}

enum tcp_err tcp_write_some(struct tcp_flow *f, const struct view *vs, int n,
                            uint32_t *written)
{
    struct tcp_pcb *p = pcb_of(f);
    if (!p->user || !can_write(p)) {
        *written = 0;
        return write_error(p);
    }
    *written = tcp_sndq_append(p, vs, n);
    if (*written)
        tcp_output_slow(p); /* data was queued: no early exit */
    return TCP_OK;
}

uint32_t tcp_write_space(const struct tcp_flow *f)
{
    const struct tcp_pcb *p = (const struct tcp_pcb *)f;
    const struct tcp *t = p->t;
    if (!p->user || !can_write(p))
        return 0;
    uint32_t queued = p->snd_end - p->snd_una;
    uint32_t room = queued < p->snd_cap ? p->snd_cap - queued : 0;
    const struct tcp_chunk *tail = p->sq.tail;
    uint32_t mem = tail ? TCP_CHUNK_BYTES - tail->len : 0;
    if (t->mem_used < t->cfg.mem_max)
        mem += (t->cfg.mem_max - t->mem_used) / TCP_CHUNK_BYTES * TCP_CHUNK_BYTES;
    return u32_min(room, mem);
}

enum tcp_err tcp_write(struct tcp_flow *f, const struct view *vs, int n)
{
    struct tcp_pcb *p = pcb_of(f);
    struct tcp *t = p->t;
    int vi = 0;
    uint32_t off = 0;
    enum tcp_err e = TCP_OK;
    p->hold++;
    while (vi < n) {
        if (!p->user || !can_write(p)) {
            e = write_error(p);
            break;
        }
        if (append_some(p, vs, n, &vi, &off))
            tcp_output_slow(p);
        if (vi >= n)
            break;
        if (p->snd_end - p->snd_una < p->snd_cap) { /* the total cap, not ours */
            t->st.mem_waits++;
            waitq_wait(&t->mem_wait, plat_now_ns() + 100 * TCP_MS);
        } else {
            t->st.write_waits++;
            waitq_wait(&p->wwait, UINT64_MAX);
        }
    }
    tcp_pcb_drop(p);
    return e;
}

/* ------------------------------------------------------------ closing */

/* The FIN after the queued data (the caller holds p). */
__attribute__((always_inline)) static inline void shut_wr(struct tcp_pcb *p)
{
    switch (p->state) {
    case TCP_SYN_SENT:
        tcp_pcb_closed(p, TCP_ECLOSED, true);
        break;
    case TCP_SYN_RCVD: /* RFC 9293 3.10.4: the FIN waits for ESTABLISHED */
        p->shut_wr = true;
        break;
    case TCP_ESTABLISHED:
        p->shut_wr = true;
        tcp_set_state(p, TCP_FIN_WAIT_1);
        break;
    case TCP_CLOSE_WAIT:
        p->shut_wr = true;
        tcp_set_state(p, TCP_LAST_ACK);
        break;
    default:
        break;
    }
    tcp_output(p);
}

enum tcp_err tcp_shutdown(struct tcp_flow *f, enum tcp_shutdown_how how)
{
    struct tcp_pcb *p = pcb_of(f);
    if (!p->user)
        return TCP_ECLOSED;
    p->hold++;
    if (how & TCP_SHUT_RD) {
        p->shut_rd = true;
        tcp_lent_release(p);
        tcp_rcv_free(p);
        tcp_event(p, TCP_EV_READABLE);
    }
    if ((how & TCP_SHUT_WR) && !p->shut_wr)
        shut_wr(p);
    tcp_pcb_drop(p);
    return TCP_OK;
}

void tcp_close(struct tcp_flow *f)
{
    struct tcp_pcb *p = pcb_of(f);
    p->hold++;
    p->user = false;
    p->ev_fn = NULL;
    p->orphan = true;
    tcp_lent_release(p);
    if (p->state != TCP_CLOSED && p->state != TCP_TIME_WAIT) {
        if (p->rq.bytes || p->ooo || p->state == TCP_SYN_SENT) {
            /* RFC 1122 4.2.2.13: unread data is lost, so say so with a reset. */
            if (p->state != TCP_SYN_SENT)
                tcp_send_rst_pcb(p);
            tcp_pcb_closed(p, TCP_ECLOSED, true);
        } else {
            if (!p->shut_wr)
                shut_wr(p);
            if (p->state == TCP_FIN_WAIT_2)
                tcp_timer_set(p, &p->t_wait,
                              plat_now_ns() + p->t->cfg.fin_wait2_ms * TCP_MS);
        }
    }
    tcp_pcb_wake_all(p);
    tcp_pcb_drop(p);
}

void tcp_abort(struct tcp_flow *f)
{
    struct tcp_pcb *p = pcb_of(f);
    p->hold++;
    p->user = false;
    p->ev_fn = NULL;
    p->orphan = true;
    if (p->state != TCP_CLOSED && p->state != TCP_SYN_SENT && p->state != TCP_TIME_WAIT)
        tcp_send_rst_pcb(p);
    tcp_pcb_closed(p, TCP_ECLOSED, true);
    tcp_pcb_wake_all(p);
    tcp_pcb_drop(p);
}

/* ------------------------------------------------------------ the rest */

void tcp_peer(const struct tcp_flow *f, struct ipv4_addr *addr, uint16_t *port)
{
    const struct tcp_pcb *p = (const struct tcp_pcb *)f;
    *addr = p->raddr;
    *port = p->rport;
}

void tcp_local(const struct tcp_flow *f, struct ipv4_addr *addr, uint16_t *port)
{
    const struct tcp_pcb *p = (const struct tcp_pcb *)f;
    *addr = p->laddr;
    *port = p->lport;
}

enum tcp_err tcp_flow_error(const struct tcp_flow *f)
{
    return (enum tcp_err)((const struct tcp_pcb *)f)->err;
}

void tcp_set_nodelay(struct tcp_flow *f, bool on)
{
    struct tcp_pcb *p = pcb_of(f);
    p->nodelay = on;
    if (on) {
        p->hold++;
        tcp_output(p);
        tcp_pcb_drop(p);
    }
}

void tcp_set_keepalive(struct tcp_flow *f, bool on, uint32_t idle_ms, uint32_t intvl_ms,
                       uint32_t cnt)
{
    struct tcp_pcb *p = pcb_of(f);
    struct tcp_config *c = &p->t->cfg;
    p->keepalive = on;
    p->keep_idle_ms = idle_ms ? idle_ms : c->keep_idle_ms;
    p->keep_intvl_ms = intvl_ms ? intvl_ms : c->keep_intvl_ms;
    p->keep_cnt = (uint8_t)u32_min(cnt ? cnt : c->keep_cnt, 255);
    p->probes = 0;
    tcp_keep_arm(p, plat_now_ns());
}

void tcp_set_event_handler(struct tcp_flow *f, tcp_event_fn fn, void *ctx)
{
    struct tcp_pcb *p = pcb_of(f);
    p->ev_fn = fn;
    p->ev_ctx = ctx;
    p->events = 0;
    /* What arrived before the handler was set would otherwise never be told. */
    if (fn && (p->rq.head || p->fin_rcvd || p->state == TCP_CLOSED)) {
        p->hold++;
        tcp_event(p, TCP_EV_READABLE | (p->state == TCP_CLOSED ? TCP_EV_CLOSED : 0));
        tcp_events_fire(p);
        tcp_pcb_drop(p);
    }
}
