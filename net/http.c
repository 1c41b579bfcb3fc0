/* The HTTP/1.1 server (see net/http.h), its connections; the answers' rendering
 * is in net/http_render.c. A connection's step (run) loops: send
 * what is left of the last answer; linger after a close; skip a request body;
 * parse the next request head from the bytes TCP lent us (or, when a head spans
 * segments, from the connection's own buffer); answer it. It stops when TCP says
 * wait (nothing to read, no send space) and goes on at the next event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_int.h"

#define HTTP_DESC(n) COUNTER_DESC(struct http_stats, n)
const struct counter_table http_counter_table =
    COUNTER_REGISTRY(HTTP_COUNTERS, HTTP_DESC);
#define HTTP_GAUGE_DESC(n) COUNTER_DESC(struct http_gauges, n)
const struct counter_table http_gauge_table =
    COUNTER_REGISTRY(HTTP_GAUGES, HTTP_GAUGE_DESC);

#define MS 1000000ull
#define RETRY_NS (50 * MS) /* a write the memory cap stopped is tried again */
#define SPILL_MIN                                                                        \
    16384 /* an answer is queued in part (the rest held) only with                       \
             this much send space; otherwise it waits for more */
#define HEAD_BUF_MIN 512

enum { OPEN, LINGER };

/* What a step leaves: go on, wait for an event, or the connection is gone. */
enum step { GO, WAIT, DONE };

struct hconn {
    struct svc_link link; /* first: the list's links are the connection's */
    struct http_server *h;
    struct tcp_flow *f;
    uint8_t state;
    bool lent;        /* in is a view tcp_read lent us */
    bool retry;       /* a write waits for the timer (memory cap) */
    bool close_after; /* the last answer said Connection: close */
    uint32_t nreq;
    uint32_t need; /* send space the answer waiting for it needs */
    struct view in;
    uint32_t in_off; /* bytes of in consumed */
    uint8_t *buf;    /* an unfinished head (and what followed it) */
    uint32_t buf_len, buf_cap;
    uint64_t skip; /* request body bytes still to drop */
    uint8_t *out;  /* answer bytes TCP did not take yet */
    uint32_t out_len, out_off;
};

/* ------------------------------------------------------------ connections */

static void touch(struct hconn *c)
{
    c->link.expires = plat_now_ns() + c->h->cfg.idle_ms * MS;
}

static void buf_free(struct hconn *c)
{
    c->h->buf_bytes -= c->buf_cap;
    free(c->buf);
    c->buf = NULL;
    c->buf_len = c->buf_cap = 0;
}

static void out_free(struct hconn *c)
{
    c->h->buf_bytes -= c->out_len;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
}

/* Ends the connection: a FIN after what is queued, or a reset. */
static void finish(struct hconn *c, bool reset)
{
    struct http_server *h = c->h;
    buf_free(c);
    out_free(c);
    if (reset)
        tcp_abort(c->f);
    else
        tcp_close(c->f);
    svc_list_remove(&h->conns, &c->link);
    free(c);
}

static enum step gone(struct hconn *c, bool reset)
{
    finish(c, reset);
    return DONE;
}

static enum step tcp_failed(struct hconn *c)
{
    c->h->st.reset++;
    return gone(c, true);
}

/* A short write: the timer tries again if no ACK will (see svc_write_stalled). */
static void short_write(struct hconn *c)
{
    if (!svc_write_stalled(c->f))
        return;
    c->retry = true;
    svc_timer_arm(&c->h->timer, plat_now_ns() + RETRY_NS);
}

static bool held_ok(struct http_server *h, uint32_t more)
{
    return h->buf_bytes + more <= h->cfg.buf_max;
}

/* Appends to the head buffer (within max_head and buf_max); false: no room. */
static bool buf_append(struct hconn *c, const uint8_t *p, uint32_t n)
{
    struct http_server *h = c->h;
    if (c->buf_len + n > c->buf_cap) {
        uint32_t cap = c->buf_cap ? c->buf_cap : HEAD_BUF_MIN;
        while (cap < c->buf_len + n)
            cap *= 2;
        uint8_t *b = held_ok(h, cap - c->buf_cap) ? realloc(c->buf, cap) : NULL;
        if (!b)
            return false;
        h->buf_bytes += cap - c->buf_cap;
        c->buf = b;
        c->buf_cap = cap;
    }
    memcpy(c->buf + c->buf_len, p, n);
    c->buf_len += n;
    return true;
}

static void consume_buf(struct hconn *c, uint32_t n)
{
    memmove(c->buf, c->buf + n, c->buf_len - n);
    c->buf_len -= n;
    if (!c->buf_len)
        buf_free(c);
}

static uint32_t view_left(const struct hconn *c)
{
    return c->lent ? c->in.len - c->in_off : 0;
}

static const uint8_t *view_ptr(const struct hconn *c)
{
    return view_data(&c->in) + c->in_off;
}

static void consume_view(struct hconn *c, uint32_t n)
{
    c->in_off += n;
    if (c->in_off == c->in.len) { /* given back now: the window opens sooner */
        tcp_read_done(c->f);
        c->lent = false;
    }
}

/* Bytes in the lent view: GO when there are some, WAIT, or DONE at the end of
 * the stream (the client closed: a FIN after our answers) or an error. */
static enum step fetch(struct hconn *c)
{
    if (view_left(c))
        return GO;
    struct view v;
    enum tcp_err e = tcp_read(c->f, &v, 0);
    c->lent = false;
    if (e == TCP_EWOULDBLOCK)
        return WAIT;
    if (e != TCP_OK)
        return tcp_failed(c);
    if (v.len == 0) {
        c->h->st.closed_by_client++;
        return gone(c, false);
    }
    c->in = v;
    c->in_off = 0;
    c->lent = true;
    return GO;
}

/* Sends what TCP did not take of the last answer. */
static enum step flush_out(struct hconn *c)
{
    if (!c->out)
        return GO;
    struct view v = view_of_mem(c->out + c->out_off, c->out_len - c->out_off);
    uint32_t w = 0;
    if (tcp_write_some(c->f, &v, 1, &w) != TCP_OK)
        return tcp_failed(c);
    c->h->st.tx_bytes += w;
    c->out_off += w;
    if (w)
        touch(c);
    if (c->out_off < c->out_len) {
        short_write(c);
        return WAIT;
    }
    out_free(c);
    return GO;
}

/* Renders and queues one answer; what TCP does not take now is held. WAIT (the
 * request stays unconsumed) while there is too little send space. */
static enum step answer(struct hconn *c, int status, const struct http_request *r,
                        bool close)
{
    struct http_server *h = c->h;
    struct view v[2];
    uint32_t total = http_render(h, status, r, close, v);
    if (!total) { /* no memory to render it */
        status = 503;
        close = true;
        if (!(total = http_render(h, status, NULL, close, v))) {
            h->st.drop_no_mem++;
            return gone(c, true);
        }
    }
    uint32_t space = tcp_write_space(c->f), w = 0;
    if (total > space && space < SPILL_MIN) {
        if (!c->need)
            h->st.write_waits++;
        c->need = total;
        short_write(c);
        return WAIT;
    }
    c->need = 0;
    if (tcp_write_some(c->f, v, 2, &w) != TCP_OK)
        return tcp_failed(c);
    h->st.tx_bytes += w;
    if (w < total) {
        uint32_t rest = total - w;
        uint8_t *o = held_ok(h, rest) ? malloc(rest) : NULL;
        if (!o) {
            h->st.drop_no_mem++;
            return gone(c, true);
        }
        view_list_gather(v, 2, w, o, rest);
        c->out = o;
        c->out_len = rest;
        c->out_off = 0;
        h->buf_bytes += rest;
    }
    http_count_status(&h->st, status);
    touch(c);
    if (close)
        c->close_after = true;
    return GO;
}

/* An answer that ends the connection (malformed request, no memory, timeout):
 * what was read of the request is dropped. */
static enum step answer_error(struct hconn *c, int status)
{
    enum step s = answer(c, status, NULL, true);
    if (s == GO && c->buf)
        buf_free(c);
    return s;
}

static enum step answer_request(struct hconn *c, const struct http_request *r)
{
    enum step s = answer(c, http_route(r), r, !r->keep_alive);
    if (s == GO) {
        c->h->st.requests++;
        if (c->nreq++)
            c->h->st.requests_reused++;
    }
    return s;
}

/* After our FIN: read and drop whatever still comes, until the client's end of
 * stream (or the linger time is up). */
static enum step linger(struct hconn *c)
{
    for (;;) {
        struct view v;
        enum tcp_err e = tcp_read(c->f, &v, 0);
        c->lent = false;
        if (e == TCP_EWOULDBLOCK)
            return WAIT;
        if (e != TCP_OK || v.len == 0)
            return gone(c, false);
        tcp_read_done(c->f);
    }
}

static void start_linger(struct hconn *c)
{
    struct http_server *h = c->h;
    c->state = LINGER;
    buf_free(c);
    h->st.closed_by_server++;
    tcp_shutdown(c->f, TCP_SHUT_WR);
    c->link.expires = plat_now_ns() + h->cfg.linger_ms * MS;
    svc_timer_arm(&h->timer, c->link.expires);
}

/* Drops request body bytes. */
static enum step skip_body(struct hconn *c)
{
    if (c->buf_len) {
        uint32_t k = c->skip < c->buf_len ? (uint32_t)c->skip : c->buf_len;
        consume_buf(c, k);
        c->skip -= k;
        return GO;
    }
    enum step s = fetch(c);
    if (s != GO)
        return s;
    uint32_t k = c->skip < view_left(c) ? (uint32_t)c->skip : view_left(c);
    consume_view(c, k);
    c->skip -= k;
    return GO;
}

/* One request head: parsed and answered, or more bytes kept for it. */
static enum step request(struct hconn *c)
{
    struct http_server *h = c->h;
    bool from_buf = c->buf_len > 0;
    if (!from_buf) {
        enum step s = fetch(c);
        if (s != GO)
            return s;
    }
    const uint8_t *p = from_buf ? c->buf : view_ptr(c);
    uint32_t n = from_buf ? c->buf_len : view_left(c);
    struct http_request r;
    enum http_parse pr = http_parse_request(p, n, h->cfg.max_head, &r);
    if (pr == HTTP_PARSE_PARTIAL) { /* keep what there is, fetch more */
        if (from_buf) {
            enum step s = fetch(c);
            if (s != GO)
                return s;
            p = view_ptr(c);
            n = view_left(c);
            if (n > h->cfg.max_head - c->buf_len)
                n = h->cfg.max_head - c->buf_len;
        }
        if (!buf_append(c, p, n)) {
            h->st.drop_no_mem++;
            return answer_error(c, 503);
        }
        consume_view(c, n);
        return GO;
    }
    if (pr != HTTP_PARSE_OK)
        return answer_error(c, http_parse_status(pr));
    enum step s = answer_request(c, &r);
    if (s != GO)
        return s;
    if (from_buf)
        consume_buf(c, r.head_len);
    else
        consume_view(c, r.head_len);
    c->skip = r.content_len;
    return GO;
}

static enum step step(struct hconn *c)
{
    enum step s = flush_out(c);
    if (s != GO)
        return s;
    if (c->state == LINGER)
        return linger(c);
    if (c->close_after) {
        start_linger(c);
        return GO;
    }
    if (c->need) { /* an answer waits for send space: is there enough now? */
        uint32_t space = tcp_write_space(c->f);
        if (space < c->need && space < SPILL_MIN) {
            short_write(c);
            return WAIT;
        }
    }
    if (c->skip)
        return skip_body(c);
    return request(c);
}

static bool run(struct hconn *c)
{
    enum step s;
    c->retry = false;
    while ((s = step(c)) == GO)
        ;
    return s != DONE;
}

static void on_event(void *ctx, struct tcp_flow *f, unsigned ev)
{
    struct hconn *c = ctx;
    if ((ev & TCP_EV_CLOSED) && tcp_flow_error(f) != TCP_OK) {
        c->lent = false; /* TCP took back what it lent */
        c->h->st.reset++;
        finish(c, false);
        return;
    }
    run(c);
}

static void on_accept(void *ctx, struct tcp_flow *f)
{
    struct http_server *h = ctx;
    struct hconn *c = calloc(1, sizeof *c);
    if (!c) {
        h->st.drop_no_mem++;
        tcp_abort(f);
        return;
    }
    c->h = h;
    c->f = f;
    h->st.conns++;
    svc_list_push(&h->conns, &c->link, plat_now_ns() + h->cfg.idle_ms * MS);
    svc_timer_arm(&h->timer, c->link.expires);
    if (run(c)) /* what came with the handshake; then the handler */
        tcp_set_event_handler(f, on_event, c);
}

/* ------------------------------------------------------------ the server */

struct http_server *http_start(struct tcp *t, const struct http_config *cfg)
{
    struct http_server *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->tcp = t;
    h->cfg = *cfg;
    if (!h->cfg.port)
        h->cfg.port = 80;
    if (!h->cfg.backlog)
        h->cfg.backlog = 64;
    if (!h->cfg.idle_ms)
        h->cfg.idle_ms = 10000;
    if (!h->cfg.linger_ms)
        h->cfg.linger_ms = 2000;
    if (!h->cfg.max_head)
        h->cfg.max_head = 4096;
    if (!h->cfg.buf_max)
        h->cfg.buf_max = 256 * 1024;
    h->timer.next = UINT64_MAX;
    if (tcp_listen(t, h->cfg.port, h->cfg.backlog, on_accept, h, &h->l) != TCP_OK) {
        free(h);
        return NULL;
    }
    return h;
}

void http_stop(struct http_server *h)
{
    tcp_unlisten(h->l);
    while (h->conns.head)
        finish((struct hconn *)h->conns.head, true);
    free(h);
}

/* A connection whose time is up: lingering ends, an idle one is closed, one in
 * the middle of a request is answered 408, one whose answer the client does not
 * take is reset. */
static void expired(struct hconn *c)
{
    struct http_server *h = c->h;
    if (c->state == LINGER) {
        h->st.linger_timeouts++;
        finish(c, false);
        return;
    }
    h->st.idle_timeouts++;
    if (c->out || c->need) {
        finish(c, true);
    } else if (c->buf_len || c->skip) {
        c->skip = 0;
        enum step s = answer_error(c, 408);
        if (s == GO)
            run(c);
        else if (s == WAIT)
            finish(c, true);
    } else {
        finish(c, false);
    }
}

static void tick_one(struct svc_link *k, uint64_t now)
{
    struct hconn *c = (struct hconn *)k;
    if (k->expires <= now) {
        expired(c);
    } else if (c->retry) {
        c->h->st.write_retries++;
        run(c);
    }
}

void http_tick(struct http_server *h, uint64_t now)
{
    svc_tick(&h->conns, &h->timer, now, tick_one);
}

uint64_t http_next_deadline(const struct http_server *h)
{
    return h->timer.next;
}

void http_set_deadline_hook(struct http_server *h,
                            void (*fn)(void *ctx, uint64_t deadline), void *ctx)
{
    h->timer.hook = (struct net_deadline_hook){fn, ctx};
}

void http_gauges(const struct http_server *h, struct http_gauges *out)
{
    out->open = h->conns.n;
    out->buf_bytes = h->buf_bytes;
    out->scratch_bytes = http_scratch_bytes();
}
