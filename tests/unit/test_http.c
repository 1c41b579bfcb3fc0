/* The HTTP server (net/http.c) from a client stack across the simulated link:
 * GET and HEAD of / and /stats, 404, 405 with its body skipped, keep-alive with
 * several requests on one connection, pipelining, a request that comes a byte at
 * a time, Connection: close and HTTP/1.0, every malformed class answered and
 * closed, idle and unfinished requests timed out, 100 clients at once, a client
 * that pipelines and does not read (the server stops reading instead of queuing),
 * a lossy link; afterwards nothing held. */
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

#define GET(path) "GET " path " HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n"

static struct http_cli *open_cli(void)
{
    struct http_cli *c = calloc(1, sizeof *c);
    if (c && !(c->f = cli_connect(80))) {
        free(c);
        return NULL;
    }
    return c;
}

static void close_cli(struct http_cli *c)
{
    tcp_close(c->f);
    free(c);
}

static bool send_str(struct http_cli *c, const char *s)
{
    return cli_write(c->f, s, (uint32_t)strlen(s));
}

static struct http_answer ans; /* one client at a time uses it */

static void basic_client(void *arg)
{
    (void)arg;
    struct http_cli *c;
    CLI_CHECK(c = open_cli());
    CLI_CHECK(send_str(c, GET("/")) && http_cli_answer(c, false, &ans));
    CLI_CHECK(ans.status == 200 && !ans.close);
    CLI_CHECK(strstr(ans.body, "<h1>uknet</h1>") && strstr(ans.body, SVC_PAGE_LINE));
    CLI_CHECK(strstr(ans.body, "a &lt;tag&gt; &amp; more")); /* escaped */
    uint32_t page_len = ans.content_len;
    CLI_CHECK(send_str(c, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n") &&
              http_cli_answer(c, true, &ans));
    CLI_CHECK(ans.status == 200 && ans.content_len == page_len && ans.body_len == 0);
    CLI_CHECK(send_str(c, GET("/stats?all")) && http_cli_answer(c, false, &ans));
    CLI_CHECK(ans.status == 200 && strstr(ans.body, "\ntcp.conn_passive=") &&
              strstr(ans.body, "http.requests="));
    CLI_CHECK(send_str(c, GET("/nope")) && http_cli_answer(c, false, &ans));
    CLI_CHECK(ans.status == 404 && strcmp(ans.body, "404 Not Found\n") == 0);
    /* A method we do not have: 405, its body dropped, the connection goes on. */
    CLI_CHECK(send_str(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
                          "hello world" GET("/nope")));
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 405);
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 404);
    close_cli(c);
}

static void test_basic_keepalive(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    svc_start(&s);
    run_client(basic_client, NULL);
    thread_sleep_ns(1 * SEC); /* the client's FIN reaches the server */
    struct http_stats *st = &srv()->http->st;
    assert_int_equal(st->conns, 1);
    assert_int_equal(st->requests, 6);
    assert_int_equal(st->requests_reused, 5);
    assert_int_equal(st->resp_200, 3);
    assert_int_equal(st->resp_404, 2);
    assert_int_equal(st->resp_405, 1);
    assert_int_equal(st->closed_by_client, 1);
    svc_finish();
}

static void pipeline_client(void *arg)
{
    (void)arg;
    struct http_cli *c;
    CLI_CHECK(c = open_cli());
    CLI_CHECK(send_str(c, GET("/") GET("/stats") "GET /x HTTP/1.1\r\nHost: a\r\n"
                                                 "Connection: close\r\n\r\n"));
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 200 && !ans.close);
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 200 && !ans.close);
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 404 && ans.close);
    CLI_CHECK(http_cli_eof(c)); /* the server closes after the last answer */
    close_cli(c);
}

static void test_pipelined_close(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    svc_start(&s);
    run_client(pipeline_client, NULL);
    assert_int_equal(srv()->http->st.requests, 3);
    assert_int_equal(srv()->http->st.closed_by_server, 1);
    svc_finish();
}

/* A request a byte at a time, 20 ms apart, and then one in two halves across a
 * pipelined answer. */
static void slow_client(void *arg)
{
    (void)arg;
    const char *req = "GET /stats HTTP/1.1\r\nHost: 10.0.0.2\r\nAccept: */*\r\n\r\n";
    struct http_cli *c;
    CLI_CHECK(c = open_cli());
    for (const char *p = req; *p; p++) {
        CLI_CHECK(cli_write(c->f, p, 1));
        thread_sleep_ns(20 * MS);
    }
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 200);
    CLI_CHECK(send_str(c, GET("/") "GET /st"));
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 200);
    thread_sleep_ns(100 * MS);
    CLI_CHECK(send_str(c, "ats HTTP/1.0\r\n\r\n")); /* 1.0: close after */
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 200 && ans.close);
    CLI_CHECK(http_cli_eof(c));
    close_cli(c);
}

static void test_partial_requests(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    svc_start(&s);
    run_client(slow_client, NULL);
    assert_int_equal(srv()->http->st.resp_200, 3);
    svc_finish();
}

static void http10_client(void *arg)
{
    (void)arg;
    struct http_cli *c;
    CLI_CHECK(c = open_cli());
    CLI_CHECK(send_str(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 200 && !ans.close);
    CLI_CHECK(send_str(c, "GET / HTTP/1.0\r\n\r\n"));
    CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 200 && ans.close);
    CLI_CHECK(http_cli_eof(c));
    close_cli(c);
}

static void test_http10(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    svc_start(&s);
    run_client(http10_client, NULL);
    svc_finish();
}

/* Each malformed class: its status, Connection: close, then the server's FIN. */
static const struct {
    const char *req;
    int status;
} bad[] = {
    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\n\r\n", 400},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
    {"\x16\x03\x01\x02\x05\x01\x01\x01", 400},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
    {NULL, 431}, /* a 5000-byte head */
};

static void bad_client(void *arg)
{
    int *i = arg;
    static char big[5100];
    struct http_cli *c;
    CLI_CHECK(c = open_cli());
    if (bad[*i].req) {
        CLI_CHECK(send_str(c, bad[*i].req));
    } else {
        memset(big, 'a', sizeof big - 1);
        memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
        CLI_CHECK(send_str(c, big));
    }
    CLI_CHECK(http_cli_answer(c, false, &ans));
    CLI_CHECK(ans.status == bad[*i].status && ans.close);
    CLI_CHECK(http_cli_eof(c));
    close_cli(c);
}

static void test_malformed(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    svc_start(&s);
    int n = (int)(sizeof bad / sizeof bad[0]);
    for (int i = 0; i < n; i++)
        run_client(bad_client, &i);
    struct http_stats *st = &srv()->http->st;
    assert_int_equal(st->resp_400, 4);
    assert_int_equal(st->resp_505, 1);
    assert_int_equal(st->resp_501, 1);
    assert_int_equal(st->resp_431, 1);
    assert_int_equal(st->closed_by_server, n);
    assert_int_equal(st->requests, 0);
    svc_finish();
}

/* An idle connection is closed after idle_ms; one with half a request gets 408;
 * a third client meanwhile is served at once. */
static void idle_client(void *arg)
{
    int *kind = arg;
    struct http_cli *c;
    CLI_CHECK(c = open_cli());
    uint64_t t0 = plat_now_ns();
    if (*kind == 1) {
        CLI_CHECK(send_str(c, "GET / HTTP/1.1\r\nHo"));
        CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 408 && ans.close);
    }
    if (*kind == 2) {
        CLI_CHECK(send_str(c, GET("/")));
        struct http_answer a;
        CLI_CHECK(http_cli_answer(c, false, &a) && a.status == 200);
        CLI_CHECK(plat_now_ns() - t0 < 1 * SEC);
        close_cli(c);
        return;
    }
    CLI_CHECK(http_cli_eof(c));
    uint64_t took = plat_now_ns() - t0;
    CLI_CHECK(took >= 2 * SEC && took < 3 * SEC);
    close_cli(c);
}

static void idle_clients(void *arg)
{
    (void)arg;
    static int kinds[3] = {0, 1, 2};
    struct thread *t[3];
    for (int i = 0; i < 3; i++)
        CLI_CHECK(t[i] = thread_spawn("idle", idle_client, &kinds[i], 0));
    for (int i = 0; i < 3; i++)
        thread_join(t[i], NULL);
}

static void test_idle_timeouts(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    s.http.idle_ms = 2000;
    svc_start(&s);
    run_client(idle_clients, NULL);
    struct http_stats *st = &srv()->http->st;
    assert_int_equal(st->idle_timeouts, 2);
    assert_int_equal(st->resp_408, 1);
    svc_finish();
}

/* 100 clients at once, three requests each on one connection. */
static void many_client(void *arg)
{
    (void)arg;
    struct http_cli *c;
    struct http_answer *a = malloc(sizeof *a);
    CLI_CHECK(a && (c = open_cli()));
    for (int i = 0; i < 3; i++) {
        CLI_CHECK(send_str(c, i == 1 ? GET("/stats") : GET("/")));
        CLI_CHECK(http_cli_answer(c, false, a) && a->status == 200);
    }
    close_cli(c);
    free(a);
}

static void test_many_clients(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    svc_start(&s);
    run_clients(100, many_client, NULL);
    struct http_stats *st = &srv()->http->st;
    assert_int_equal(st->conns, 100);
    assert_int_equal(st->resp_200, 300);
    svc_finish();
}

/* A client that pipelines 300 requests of 1 KiB for /stats without reading: the server
 * answers until the send buffer is full, then stops reading (the client's
 * window closes, its writes wait); what it holds stays within the buffers'
 * caps. Then the client reads everything, in order. */
struct hog {
    struct http_cli *c;
    bool written;
};

static void hog_writer(void *arg)
{
    struct hog *h = arg;
    static char req[1100];
    /* 300 requests of 1 KiB: more than the server's receive buffer and the
     * client's send buffer together. */
    snprintf(req, sizeof req, "GET /stats HTTP/1.1\r\nHost: a\r\nX-Pad: %0999d\r\n\r\n",
             7);
    for (int i = 0; i < 300; i++)
        if (!send_str(h->c, req))
            return;
    h->written = true;
}

static void hog_client(void *arg)
{
    (void)arg;
    struct hog h = {0};
    CLI_CHECK(h.c = open_cli());
    struct thread *w = thread_spawn("hog", hog_writer, &h, 0);
    CLI_CHECK(w);
    thread_sleep_ns(3 * SEC);
    struct tcp *t = srv()->tcp;
    CLI_CHECK(!h.written); /* held back by the server's closed window */
    CLI_CHECK(t->mem_used <= t->cfg.sndbuf + t->cfg.rcvbuf + 2 * TCP_CHUNK_BYTES);
    CLI_CHECK(srv()->http->buf_bytes <= srv()->http->cfg.buf_max);
    CLI_CHECK(srv()->http->st.resp_200 < 300);
    for (int i = 0; i < 300; i++)
        CLI_CHECK(http_cli_answer(h.c, false, &ans) && ans.status == 200);
    thread_join(w, NULL);
    CLI_CHECK(h.written);
    close_cli(h.c);
}

static void test_client_not_reading(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    svc_start(&s);
    run_client(hog_client, NULL);
    assert_int_equal(srv()->http->st.resp_200, 300);
    assert_true(srv()->http->st.write_waits >= 1);
    svc_finish();
}

static void lossy_client(void *arg)
{
    (void)arg;
    for (int k = 0; k < 20; k++) {
        struct http_cli *c;
        CLI_CHECK(c = open_cli());
        CLI_CHECK(send_str(c, GET("/stats") GET("/") "GET / HTTP/1.1\r\nHost: a\r\n"
                                                     "Connection: close\r\n\r\n"));
        for (int i = 0; i < 3; i++)
            CLI_CHECK(http_cli_answer(c, false, &ans) && ans.status == 200);
        CLI_CHECK(http_cli_eof(c));
        close_cli(c);
    }
}

static void test_lossy_link(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    s.p = (struct sim_params){.seed = 11,
                              .loss_ppm = 50000,
                              .dup_ppm = 10000,
                              .reorder_ppm = 50000,
                              .reorder_ns = 5 * MS,
                              .delay_ns = 2 * MS,
                              .rate_bps = 100000000};
    svc_start(&s);
    run_client(lossy_client, NULL);
    assert_int_equal(srv()->http->st.resp_200, 60);
    svc_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_keepalive),
        cmocka_unit_test(test_pipelined_close),
        cmocka_unit_test(test_partial_requests),
        cmocka_unit_test(test_http10),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_idle_timeouts),
        cmocka_unit_test(test_many_clients),
        cmocka_unit_test(test_client_not_reading),
        cmocka_unit_test(test_lossy_link),
    };
    setvbuf(stdout, NULL, _IOLBF, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
