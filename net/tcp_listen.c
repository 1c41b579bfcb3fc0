/* Listening (RFC 9293 3.10.7.2): a SYN makes a half-open connection in
 * SYN-RECEIVED while the listener's and the module's SYN queues have room; once
 * either is full, or the connection cap is reached, the SYN-ACK carries a SYN
 * cookie (RFC 4987) and no state is kept, so a spoofed SYN flood cannot keep a
 * real client out. The cookie's ACK rebuilds the connection: the MSS from the
 * cookie's index, window scale and SACK from the low bits of the timestamp we
 * sent (when the client uses timestamps). Established connections go to the
 * accept callback or the accept queue (at most backlog of them). */
#include <stdlib.h>

#include "net/tcp_int.h"

#define COOKIE_WINDOW_NS (128ull * 1000000000ull) /* cookies accepted after one sent */
#define COOKIE_TS_MARK 0x20u
#define COOKIE_TS_SACK 0x10u
#define COOKIE_TS_NOWS 0x0fu

int tcp_listen_ports(const struct tcp *t, uint16_t *ports, int cap)
{
    int n = 0;
    for (int i = 0; i < TCP_MAX_LISTENERS; i++)
        if (t->listeners[i]) {
            if (n < cap)
                ports[n] = t->listeners[i]->port;
            n++;
        }
    return n;
}

/* ------------------------------------------------------------ SYN */

static int mss_index(uint16_t mss)
{
    int i = 7;
    while (i > 0 && tcp_cookie_mss[i] > mss)
        i--;
    return i;
}

static void send_cookie(struct tcp_listener *l, const struct tcp_seg *s, uint64_t now)
{
    struct tcp *t = l->t;
    uint16_t ours = tcp_mss_for(t, s->info->src);
    uint16_t peer = (s->o.present & TCP_OPTF_MSS) ? s->o.mss : TCP_DEFAULT_MSS;
    int idx = mss_index(peer < ours ? peer : ours);
    uint32_t iss = tcp_cookie_make(t, s, idx, now);
    struct tcp_opts o = {0};
    if ((s->o.present & TCP_OPTF_TS) && !t->cfg.no_ts) {
        /* Without timestamps there is nowhere to keep window scale and SACK. */
        uint32_t ts_off;
        tcp_isn(t, s->info->dst, s->dport, s->info->src, s->sport, now, &ts_off);
        uint32_t bits = COOKIE_TS_MARK;
        bool ws = (s->o.present & TCP_OPTF_WS) && !t->cfg.no_ws;
        bool sack = (s->o.present & TCP_OPTF_SACK_PERM) && !t->cfg.no_sack;
        bits |= ws ? s->o.wscale : COOKIE_TS_NOWS;
        bits |= sack ? COOKIE_TS_SACK : 0;
        o.present = TCP_OPTF_TS;
        o.ts_val = ((tcp_ts_now(now) + ts_off - 64) & ~63u) | bits;
        o.ts_ecr = s->o.ts_val;
        if (ws) {
            o.present |= TCP_OPTF_WS;
            o.wscale = 0; /* the cookie connection announces its window unscaled */
        }
        if (sack)
            o.present |= TCP_OPTF_SACK_PERM;
    }
    tcp_send_cookie_synack(t, s, iss, ours, &o);
    l->cookie_ns = now;
    t->st.syn_cookies_sent++;
}

static void syn_arrived(struct tcp_listener *l, struct tcp_seg *s, uint64_t now)
{
    struct tcp *t = l->t;
    if (l->nacc >= l->backlog) { /* the application is behind: let the client retry */
        t->st.refused_accept_full++;
        return;
    }
    struct tcp_pcb *p = NULL;
    if (l->nsyn < l->backlog && t->nhalf < t->cfg.max_syn_queue)
        p = tcp_pcb_new_passive(t, s, now);
    if (!p) {
        send_cookie(l, s, now);
        return;
    }
    p->listener = l;
    l->nsyn++;
    t->nhalf++;
    tcp_send_syn(p);
    tcp_rtx_arm(p, now);
}

/* ------------------------------------------------------------ cookie ACK */

static void cookie_opts(const struct tcp_seg *s, int idx, struct tcp_opts *o)
{
    o->present = TCP_OPTF_MSS;
    o->mss = tcp_cookie_mss[idx];
    uint32_t bits = s->o.ts_ecr & 63;
    if (!(s->o.present & TCP_OPTF_TS) || !(bits & COOKIE_TS_MARK))
        return;
    o->present |= TCP_OPTF_TS;
    o->ts_val = s->o.ts_val;
    if ((bits & COOKIE_TS_NOWS) != COOKIE_TS_NOWS) {
        o->present |= TCP_OPTF_WS;
        o->wscale = (uint8_t)(bits & COOKIE_TS_NOWS);
    }
    if (bits & COOKIE_TS_SACK)
        o->present |= TCP_OPTF_SACK_PERM;
}

static void cookie_ack(struct tcp_listener *l, struct tcp_seg *s, uint64_t now)
{
    struct tcp *t = l->t;
    int idx1 = tcp_cookie_check(t, s, now);
    if (!idx1) {
        t->st.syn_cookies_bad++;
        tcp_send_rst_for(t, s);
        return;
    }
    if (l->nacc >= l->backlog) {
        t->st.refused_accept_full++;
        return;
    }
    struct tcp_pcb *p = tcp_pcb_new(t);
    if (!p)
        return;
    t->st.syn_cookies_ok++;
    p->laddr = s->info->dst;
    p->raddr = s->info->src;
    p->lport = s->dport;
    p->rport = s->sport;
    tcp_pcb_init_vars(p, now);
    p->cookie = true;
    p->iss = s->ack - 1;
    p->snd_una = p->snd_nxt = p->snd_end = p->recover = p->rtt_seq = s->ack;
    p->irs = s->seq - 1;
    p->rcv_nxt = p->last_ack_sent = s->seq;
    struct tcp_opts o;
    cookie_opts(s, idx1 - 1, &o);
    p->rcv_ws = 0; /* the SYN-ACK announced no scaling of our window */
    p->rcv_cap = u32_min(p->rcv_cap, 65535);
    tcp_apply_syn_opts(p, &o);
    p->rcv_adv = p->rcv_nxt + u32_min(t->cfg.rcvbuf, 65535);
    p->snd_wnd = s->wnd << p->snd_ws;
    p->max_snd_wnd = p->snd_wnd;
    p->snd_wl1 = s->seq;
    p->snd_wl2 = s->ack;
    tcp_cc_init(p);
    p->state = TCP_SYN_RCVD;
    tcp_set_state(p, TCP_ESTABLISHED);
    tcp_pcb_hash(p);
    p->listener = l;
    p->hold++;
    tcp_listen_established(p);
    if (p->state != TCP_CLOSED) /* the same segment may carry data or a FIN */
        tcp_conn_input(p, s);
    tcp_pcb_drop(p);
}

void tcp_listen_input(struct tcp_listener *l, struct tcp_seg *s)
{
    struct tcp *t = l->t;
    uint64_t now = plat_now_ns();
    if (s->flags & TCP_RST) {
        t->st.drop_listen_other++;
        return;
    }
    if (s->flags & TCP_ACK) {
        if (!(s->flags & TCP_SYN) && l->cookie_ns &&
            now - l->cookie_ns < COOKIE_WINDOW_NS) {
            cookie_ack(l, s, now);
            return;
        }
        t->st.drop_listen_other++;
        tcp_send_rst_for(t, s);
        return;
    }
    if (!(s->flags & TCP_SYN)) {
        t->st.drop_listen_other++;
        return;
    }
    syn_arrived(l, s, now);
}

/* ------------------------------------------------------------ hand-over */

void tcp_listen_established(struct tcp_pcb *p)
{
    struct tcp_listener *l = p->listener;
    struct tcp *t = p->t;
    if (!p->cookie) {
        l->nsyn--;
        t->nhalf--;
    }
    t->st.conn_passive++;
    if (l->on_accept) {
        p->listener = NULL;
        p->user = true;
        l->on_accept(l->ctx, (struct tcp_flow *)p);
        return;
    }
    if (l->nacc >= l->backlog) {
        t->st.refused_accept_full++;
        p->listener = NULL;
        tcp_send_rst_pcb(p);
        tcp_pcb_closed(p, TCP_ECLOSED, true);
        return;
    }
    p->in_aq = true;
    p->aq_next = NULL;
    if (l->aq_tail)
        l->aq_tail->aq_next = p;
    else
        l->aq_head = p;
    l->aq_tail = p;
    l->nacc++;
    if (l->wait.head)
        waitq_wake_one(&l->wait);
}

static void aq_remove(struct tcp_listener *l, struct tcp_pcb *p)
{
    struct tcp_pcb **pp = &l->aq_head, *prev = NULL;
    while (*pp && *pp != p) {
        prev = *pp;
        pp = &(*pp)->aq_next;
    }
    if (!*pp)
        return;
    *pp = p->aq_next;
    if (l->aq_tail == p)
        l->aq_tail = prev;
    l->nacc--;
    p->in_aq = false;
}

void tcp_listen_detach(struct tcp_pcb *p)
{
    struct tcp_listener *l = p->listener;
    if (p->in_aq)
        aq_remove(l, p);
    else if (p->state == TCP_SYN_RCVD && !p->cookie) {
        l->nsyn--;
        p->t->nhalf--;
    }
    p->listener = NULL;
}

/* ------------------------------------------------------------ API */

enum tcp_err tcp_listen(struct tcp *t, uint16_t port, int backlog,
                        tcp_accept_fn on_accept, void *ctx, struct tcp_listener **out)
{
    if (port == 0 || tcp_listener_find(t, port))
        return TCP_EINVAL;
    int slot = -1;
    for (int i = 0; i < TCP_MAX_LISTENERS && slot < 0; i++)
        if (!t->listeners[i])
            slot = i;
    struct tcp_listener *l = slot >= 0 ? calloc(1, sizeof *l) : NULL;
    if (!l)
        return TCP_ENOMEM;
    l->t = t;
    l->port = port;
    l->backlog = (uint16_t)(backlog <= 0 ? 16 : backlog > 1024 ? 1024 : backlog);
    l->on_accept = on_accept;
    l->ctx = ctx;
    t->listeners[slot] = l;
    t->nlisten++;
    *out = l;
    return TCP_OK;
}

enum tcp_err tcp_accept(struct tcp_listener *l, uint64_t timeout_ns,
                        struct tcp_flow **out)
{
    uint64_t now = plat_now_ns();
    uint64_t deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
    for (;;) {
        if (l->closed)
            return TCP_ECLOSED;
        struct tcp_pcb *p = l->aq_head;
        if (p) {
            aq_remove(l, p);
            p->listener = NULL;
            p->user = true;
            *out = (struct tcp_flow *)p;
            return TCP_OK;
        }
        if (timeout_ns == 0)
            return TCP_EWOULDBLOCK;
        l->waiters++;
        enum wait_result r = waitq_wait(&l->wait, deadline);
        l->waiters--;
        if (l->closed) {
            if (!l->waiters)
                free(l); /* tcp_unlisten left it to the last acceptor */
            return TCP_ECLOSED;
        }
        if (r == WAIT_TIMEOUT && !l->aq_head)
            return TCP_ETIMEDOUT;
    }
}

void tcp_unlisten(struct tcp_listener *l)
{
    struct tcp *t = l->t;
    for (int i = 0; i < TCP_MAX_LISTENERS; i++)
        if (t->listeners[i] == l) {
            t->listeners[i] = NULL;
            t->nlisten--;
        }
    l->closed = true;
    struct tcp_pcb *p = t->all;
    while (p) { /* half-open and unaccepted connections are reset */
        struct tcp_pcb *n = p->next;
        if (p->listener == l) {
            p->hold++;
            tcp_send_rst_pcb(p);
            tcp_pcb_closed(p, TCP_ECLOSED, true);
            n = p->next;
            tcp_pcb_drop(p);
        }
        p = n;
    }
    if (l->waiters) { /* they see l->closed when they run; the last one frees it */
        waitq_wake_all(&l->wait);
        return;
    }
    free(l);
}
