/* The TCP service tests' harness (see tests/unit/svc_harness.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/sched.h"
#include "net/tcp_int.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/svc_harness.h"

struct sim sim;
int cli_fails;
static struct thread *link_thread;

void cli_fail(int line, const char *what)
{
    printf("# client check failed at line %d: %s\n", line, what);
    cli_fails++;
}

struct net_stack *srv(void)
{
    return sim.side[1].st;
}

struct tcp *cli_tcp(void)
{
    return sim.side[0].st->tcp;
}

void svc_page(void *ctx, print_line_fn print, void *pctx)
{
    (void)ctx;
    print(pctx, SVC_PAGE_LINE);
    print(pctx, "a <tag> & more");
}

void svc_stats(void *ctx, print_line_fn print, void *pctx)
{
    (void)ctx;
    net_stats_print(srv(), NULL, print, pctx);
}

void svc_start(const struct svc_setup *s)
{
    static const uint16_t mtu[2] = {1500, 1500};
    struct sim_params p = s->p;
    if (!p.seed) {
        p.seed = 1;
        p.delay_ns = 1 * MS;
        p.rate_bps = 100000000;
    }
    sched_init();
    host_clock_set(1000 * SEC);
    cli_fails = 0;
    sim_init(&sim, &p, mtu, &s->tcp);
    struct http_config hc = s->http;
    if (!hc.page)
        hc.page = svc_page;
    if (!hc.stats)
        hc.stats = svc_stats;
    assert_int_equal(net_tcp_services_enable(srv(), &s->svc), 0);
    assert_int_equal(net_http_enable(srv(), &hc), 0);
    link_thread = thread_spawn("link", sim_run, &sim, 0);
    assert_non_null(link_thread);
}

void svc_finish(void)
{
    sim_stop(&sim, plat_now_ns() + 200 * SEC);
    thread_join(link_thread, NULL);
    struct tcp *t = srv()->tcp;
    assert_int_equal(cli_fails, 0);
    assert_int_equal(t->nconns, 0);
    assert_int_equal(t->nhalf, 0);
    assert_int_equal(t->mem_used, 0);
    assert_int_equal(t->rx_pinned, 0);
    assert_int_equal(srv()->tcp_svc->conns.n, 0);
    assert_int_equal(srv()->http->conns.n, 0);
    assert_int_equal(srv()->http->buf_bytes, 0);
    assert_int_equal(cli_tcp()->nconns, 0);
    assert_int_equal(sim.side[0].tx_live + sim.side[1].tx_live, 0);
    sim_free(&sim);
    assert_int_equal(sim.rx_live, 0);
}

void run_client(void (*fn)(void *), void *arg)
{
    run_clients(1, fn, arg);
}

void run_clients(int n, void (*fn)(void *), void *arg)
{
    struct thread **t = calloc((size_t)n, sizeof *t);
    assert_non_null(t);
    for (int i = 0; i < n; i++)
        assert_non_null(t[i] = thread_spawn("client", fn, arg, 0));
    for (int i = 0; i < n; i++)
        thread_join(t[i], NULL);
    free(t);
}

struct tcp_flow *cli_connect(uint16_t port)
{
    struct tcp_flow *f;
    enum tcp_err e =
        tcp_connect(cli_tcp(), ipv4_addr_make(10, 0, 0, 2), port, 60 * SEC, &f);
    if (e != TCP_OK) {
        printf("# connect to port %u: %s\n", port, tcp_strerror(e));
        cli_fail(__LINE__, "connect");
        return NULL;
    }
    return f;
}

bool cli_write(struct tcp_flow *f, const void *p, uint32_t n)
{
    struct view v = view_of_mem((void *)p, n);
    enum tcp_err e = tcp_write(f, &v, 1);
    if (e != TCP_OK)
        printf("# write: %s\n", tcp_strerror(e));
    return e == TCP_OK;
}

uint32_t cli_read(struct tcp_flow *f, void *buf, uint32_t n, bool *eof)
{
    uint32_t got = 0;
    *eof = false;
    while (got < n) {
        struct view v;
        enum tcp_err e = tcp_read(f, &v, 60 * SEC);
        if (e != TCP_OK || v.len == 0) {
            *eof = e == TCP_OK;
            break;
        }
        uint32_t k = v.len < n - got ? v.len : n - got;
        memcpy((uint8_t *)buf + got, view_data(&v), k);
        got += k;
        if (k < v.len) { /* more than asked for: not expected by these tests */
            cli_fail(__LINE__, "more bytes than asked for");
            break;
        }
    }
    return got;
}

/* ------------------------------------------------------------ HTTP client */

static bool fill(struct http_cli *c)
{
    if (c->eof || c->len == sizeof c->buf)
        return false;
    struct view v;
    enum tcp_err e = tcp_read(c->f, &v, 60 * SEC);
    if (e != TCP_OK || v.len == 0) {
        c->eof = true;
        return false;
    }
    uint32_t k = v.len;
    if (k > sizeof c->buf - c->len)
        return false;
    memcpy(c->buf + c->len, view_data(&v), k);
    c->len += k;
    return true;
}

static const char *find(const uint8_t *b, uint32_t n, const char *s)
{
    size_t l = strlen(s);
    for (uint32_t i = 0; i + l <= n; i++)
        if (memcmp(b + i, s, l) == 0)
            return (const char *)b + i;
    return NULL;
}

/* A header's value (case as we send it), or NULL. */
static const char *header(const char *head, uint32_t n, const char *name, uint32_t *vlen)
{
    const char *p = find((const uint8_t *)head, n, name);
    if (!p)
        return NULL;
    p += strlen(name);
    const char *e = find((const uint8_t *)p, n - (uint32_t)(p - head), "\r\n");
    *vlen = (uint32_t)(e - p);
    return p;
}

bool http_cli_answer(struct http_cli *c, bool head, struct http_answer *a)
{
    const char *end;
    while (!(end = find(c->buf, c->len, "\r\n\r\n")))
        if (!fill(c))
            return false;
    uint32_t hl = (uint32_t)(end - (const char *)c->buf) + 4, vl;
    const char *h = (const char *)c->buf;
    if (hl < 12 || memcmp(h, "HTTP/1.1 ", 9) != 0)
        return false;
    a->status = atoi(h + 9);
    const char *cl = header(h, hl, "\r\nContent-Length: ", &vl);
    if (!cl)
        return false;
    a->content_len = (uint32_t)strtoul(cl, NULL, 10);
    const char *cn = header(h, hl, "\r\nConnection: ", &vl);
    a->close = cn && vl == 5 && memcmp(cn, "close", 5) == 0;
    a->body_len = head ? 0 : a->content_len;
    if (a->body_len >= sizeof a->body)
        return false;
    while (c->len < hl + a->body_len)
        if (!fill(c))
            return false;
    memcpy(a->body, c->buf + hl, a->body_len);
    a->body[a->body_len] = 0;
    memmove(c->buf, c->buf + hl + a->body_len, c->len - hl - a->body_len);
    c->len -= hl + a->body_len;
    return true;
}

bool http_cli_eof(struct http_cli *c)
{
    while (fill(c))
        ;
    return c->eof && c->len == 0;
}
