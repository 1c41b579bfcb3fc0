/* Echo, discard and chargen over TCP (see net/tcp_services.h). Every connection
 * is a struct conn on the service's list; its event handler runs the service's
 * step until TCP says wait (nothing to read, no send space). */
#include <stdlib.h>

#include "net/tcp_services.h"

#define TCP_SVC_DESC(n) COUNTER_DESC(struct tcp_svc_stats, n)
const struct counter_table tcp_svc_counter_table =
    COUNTER_REGISTRY(TCP_SVC_COUNTERS, TCP_SVC_DESC);
#define TCP_SVC_GAUGE_DESC(n) COUNTER_DESC(struct tcp_svc_gauges, n)
const struct counter_table tcp_svc_gauge_table =
    COUNTER_REGISTRY(TCP_SVC_GAUGES, TCP_SVC_GAUGE_DESC);

#define MS 1000000ull
#define RETRY_NS (50 * MS) /* a write the memory cap stopped is tried again */

enum kind { ECHO, DISCARD, CHARGEN };
static const uint16_t ports[3] = {TCP_SVC_ECHO_PORT, TCP_SVC_DISCARD_PORT,
                                  TCP_SVC_CHARGEN_PORT};

struct conn {
    struct svc_link link; /* first: the list's links are the connection's */
    struct tcp_services *s;
    struct tcp_flow *f;
    uint8_t kind;
    bool lent;       /* echo: in is a view tcp_read lent us */
    bool retry;      /* a write waits for the timer (memory cap) */
    struct view in;  /* echo: what was read and is not yet all sent back */
    uint32_t in_off; /* bytes of in sent back */
    uint32_t phase;  /* chargen: position in the pattern */
};

/* ------------------------------------------------------------ chargen's pattern */

uint8_t chargen_byte(uint64_t i)
{
    uint32_t line = (uint32_t)(i / (CHARGEN_LINE + 2) % CHARGEN_LINES);
    uint32_t col = (uint32_t)(i % (CHARGEN_LINE + 2));
    if (col == CHARGEN_LINE)
        return '\r';
    if (col == CHARGEN_LINE + 1)
        return '\n';
    return (uint8_t)(' ' + (line + col) % CHARGEN_LINES);
}

static uint8_t pattern[CHARGEN_CYCLE];

static void pattern_init(void)
{
    if (pattern[0])
        return;
    for (uint32_t i = 0; i < CHARGEN_CYCLE; i++)
        pattern[i] = chargen_byte(i);
}

/* ------------------------------------------------------------ connections */

static uint64_t idle_deadline(const struct conn *c)
{
    return plat_now_ns() + c->s->idle_ns;
}

/* Progress: the idle clock starts again (the timer looks at it when it runs). */
static void touch(struct conn *c)
{
    c->link.expires = idle_deadline(c);
}

/* Ends the connection: closed when reset is false (a FIN after what is queued),
 * reset otherwise. */
static void finish(struct conn *c, bool reset)
{
    struct tcp_services *s = c->s;
    if (reset)
        tcp_abort(c->f);
    else
        tcp_close(c->f);
    svc_list_remove(&s->conns, &c->link);
    free(c);
}

/* A short write: the timer tries again if no ACK will (see svc_write_stalled). */
static void short_write(struct conn *c)
{
    if (!svc_write_stalled(c->f))
        return;
    c->retry = true;
    svc_timer_arm(&c->s->timer, plat_now_ns() + RETRY_NS);
}

/* The end of the client's stream (a FIN after what is queued) or an error of
 * TCP (a reset); always false: the connection is over. */
static bool ended(struct conn *c, enum tcp_err e)
{
    if (e == TCP_OK)
        c->s->st.closed++;
    else
        c->s->st.reset++;
    finish(c, e != TCP_OK);
    return false;
}

/* Reads and drops everything there is; false when the connection is over. */
static bool drain(struct conn *c, uint64_t *bytes)
{
    for (;;) {
        struct view v;
        enum tcp_err e = tcp_read(c->f, &v, 0);
        if (e == TCP_EWOULDBLOCK)
            return true;
        if (e != TCP_OK || v.len == 0)
            return ended(c, e);
        *bytes += v.len;
        tcp_read_done(c->f);
        touch(c);
    }
}

/* Each service's step: until TCP says wait; false when the connection ended. */
static bool echo_run(struct conn *c)
{
    for (;;) {
        if (c->lent) {
            struct view v = c->in;
            uint32_t w = 0;
            view_shift(&v, c->in_off);
            if (tcp_write_some(c->f, &v, 1, &w) != TCP_OK)
                return ended(c, TCP_ECLOSED);
            c->in_off += w;
            c->s->st.echo_bytes += w;
            if (w)
                touch(c);
            if (w < v.len) { /* the rest when there is room (WRITABLE) */
                short_write(c);
                return true;
            }
            c->lent = false;
        }
        struct view v;
        enum tcp_err e = tcp_read(c->f, &v, 0);
        if (e == TCP_EWOULDBLOCK)
            return true;
        if (e != TCP_OK || v.len == 0) /* end of stream: FIN after the echo */
            return ended(c, e);
        c->in = v;
        c->in_off = 0;
        c->lent = true;
    }
}

static bool chargen_run(struct conn *c)
{
    if (!drain(c, &c->s->st.chargen_rx_bytes))
        return false;
    for (;;) {
        struct view vs[2] = {view_of_mem(pattern + c->phase, CHARGEN_CYCLE - c->phase),
                             view_of_mem(pattern, c->phase)};
        uint32_t w = 0;
        if (tcp_write_some(c->f, vs, c->phase ? 2 : 1, &w) != TCP_OK)
            return ended(c, TCP_ECLOSED);
        c->phase = (c->phase + w) % CHARGEN_CYCLE;
        c->s->st.chargen_bytes += w;
        if (w)
            touch(c);
        if (w < CHARGEN_CYCLE) {
            short_write(c);
            return true;
        }
    }
}

static bool run(struct conn *c)
{
    c->retry = false;
    switch (c->kind) {
    case ECHO:
        return echo_run(c);
    case DISCARD:
        return drain(c, &c->s->st.discard_bytes);
    default:
        return chargen_run(c);
    }
}

static void on_event(void *ctx, struct tcp_flow *f, unsigned ev)
{
    struct conn *c = ctx;
    (void)f;
    if ((ev & TCP_EV_CLOSED) && tcp_flow_error(f) != TCP_OK) {
        c->lent = false; /* TCP took back what it lent */
        c->s->st.reset++;
        finish(c, false);
        return;
    }
    run(c);
}

static void on_accept(void *ctx, struct tcp_flow *f, enum kind kind)
{
    struct tcp_services *s = ctx;
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        s->st.drop_no_mem++;
        tcp_abort(f);
        return;
    }
    c->s = s;
    c->f = f;
    c->kind = (uint8_t)kind;
    svc_list_push(&s->conns, &c->link, plat_now_ns() + s->idle_ns);
    svc_timer_arm(&s->timer, c->link.expires);
    if (kind == ECHO)
        s->st.echo_conns++;
    else if (kind == DISCARD)
        s->st.discard_conns++;
    else
        s->st.chargen_conns++;
    /* What came with the handshake (and chargen's first bytes) now; the handler
     * after, so that it finds nothing of that to tell. */
    if (run(c))
        tcp_set_event_handler(f, on_event, c);
}

static void accept_echo(void *ctx, struct tcp_flow *f)
{
    on_accept(ctx, f, ECHO);
}
static void accept_discard(void *ctx, struct tcp_flow *f)
{
    on_accept(ctx, f, DISCARD);
}
static void accept_chargen(void *ctx, struct tcp_flow *f)
{
    on_accept(ctx, f, CHARGEN);
}

/* ------------------------------------------------------------ the service */

struct tcp_services *tcp_services_start(struct tcp *t,
                                        const struct tcp_services_config *cfg)
{
    static const tcp_accept_fn fns[3] = {accept_echo, accept_discard, accept_chargen};
    struct tcp_services *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->tcp = t;
    s->idle_ns = (uint64_t)(cfg && cfg->idle_ms ? cfg->idle_ms : 120000) * MS;
    s->timer.next = UINT64_MAX;
    int backlog = cfg && cfg->backlog ? cfg->backlog : 32;
    pattern_init();
    for (int i = 0; i < 3; i++)
        if (tcp_listen(t, ports[i], backlog, fns[i], s, &s->l[i]) != TCP_OK) {
            tcp_services_stop(s);
            return NULL;
        }
    return s;
}

void tcp_services_stop(struct tcp_services *s)
{
    for (int i = 0; i < 3; i++)
        if (s->l[i])
            tcp_unlisten(s->l[i]);
    while (s->conns.head)
        finish((struct conn *)s->conns.head, true);
    free(s);
}

static void tick_one(struct svc_link *k, uint64_t now)
{
    struct conn *c = (struct conn *)k;
    if (k->expires <= now) {
        c->s->st.idle_timeouts++;
        finish(c, true);
    } else if (c->retry) {
        c->s->st.write_retries++;
        run(c);
    }
}

void tcp_services_tick(struct tcp_services *s, uint64_t now)
{
    svc_tick(&s->conns, &s->timer, now, tick_one);
}

uint64_t tcp_services_next_deadline(const struct tcp_services *s)
{
    return s->timer.next;
}

void tcp_services_set_deadline_hook(struct tcp_services *s,
                                    void (*fn)(void *ctx, uint64_t deadline), void *ctx)
{
    s->timer.hook = (struct net_deadline_hook){fn, ctx};
}

void tcp_services_gauges(const struct tcp_services *s, struct tcp_svc_gauges *out)
{
    out->conns = s->conns.n;
}
