/* The HTTP/1.x request head parser (net/http_parse.c): whole heads of every
 * shape we answer, every prefix of a head is "partial" (never an error, never a
 * request), pipelined heads one after the other, the limits, and each malformed
 * class with the status it is answered with. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net/http_parse.h"

#define MAX 4096

static enum http_parse parse(const char *s, struct http_request *r)
{
    return http_parse_request((const uint8_t *)s, (uint32_t)strlen(s), MAX, r);
}

static void assert_path(const struct http_request *r, const char *p)
{
    assert_int_equal(r->path_len, strlen(p));
    assert_memory_equal(r->path, p, strlen(p));
}

static void test_get(void **state)
{
    (void)state;
    struct http_request r;
    const char *s = "GET /stats HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: t\r\n\r\n";
    assert_int_equal(parse(s, &r), HTTP_PARSE_OK);
    assert_int_equal(r.method, HTTP_METHOD_GET);
    assert_int_equal(r.minor, 1);
    assert_path(&r, "/stats");
    assert_true(r.keep_alive);
    assert_int_equal(r.content_len, 0);
    assert_int_equal(r.head_len, strlen(s));
}

static void test_head_and_other_methods(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", &r), HTTP_PARSE_OK);
    assert_int_equal(r.method, HTTP_METHOD_HEAD);
    assert_int_equal(
        parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", &r),
        HTTP_PARSE_OK);
    assert_int_equal(r.method, HTTP_METHOD_OTHER);
    assert_int_equal(r.content_len, 5);
    assert_int_equal(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n", &r), HTTP_PARSE_OK);
    assert_int_equal(r.method, HTTP_METHOD_OTHER); /* methods are case-sensitive */
}

static void test_query_and_forms(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("GET /stats?x=1&y HTTP/1.1\r\nHost: a\r\n\r\n", &r),
                     HTTP_PARSE_OK);
    assert_path(&r, "/stats");
    assert_int_equal(parse("GET http://10.0.0.2/stats?q HTTP/1.1\r\nHost: a\r\n\r\n", &r),
                     HTTP_PARSE_OK);
    assert_path(&r, "/stats");
    assert_int_equal(parse("GET HTTP://10.0.0.2 HTTP/1.1\r\nHost: a\r\n\r\n", &r),
                     HTTP_PARSE_OK);
    assert_path(&r, "/");
    assert_int_equal(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &r), HTTP_PARSE_OK);
    assert_path(&r, "*");
}

static void test_connection_semantics(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &r),
                     HTTP_PARSE_OK);
    assert_false(r.keep_alive);
    assert_int_equal(
        parse("GET / HTTP/1.1\r\nHost: a\r\nconnection: Upgrade, CLOSE\r\n\r\n", &r),
        HTTP_PARSE_OK);
    assert_false(r.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &r), HTTP_PARSE_OK);
    assert_false(r.keep_alive); /* 1.0: close unless asked, no Host needed */
    assert_int_equal(r.minor, 0);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r),
                     HTTP_PARSE_OK);
    assert_true(r.keep_alive);
}

static void test_lenient_line_ends(void **state)
{
    (void)state;
    struct http_request r;
    const char *s = "\r\n\nGET / HTTP/1.1\nHost: a\n\n";
    assert_int_equal(parse(s, &r), HTTP_PARSE_OK);
    assert_int_equal(r.head_len, strlen(s));
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost:a\r\nX-Empty:\r\n\r\n", &r),
                     HTTP_PARSE_OK);
}

/* Every prefix of a head is partial, never bad, never a request. */
static void test_every_prefix_partial(void **state)
{
    (void)state;
    const char *s = "\r\nGET /stats?a HTTP/1.1\r\nHost: 10.0.0.2\r\nAccept: */*\r\n"
                    "Content-Length: 3\r\n\r\n";
    struct http_request r;
    for (uint32_t n = 0; n < strlen(s); n++)
        assert_int_equal(http_parse_request((const uint8_t *)s, n, MAX, &r),
                         HTTP_PARSE_PARTIAL);
    assert_int_equal(parse(s, &r), HTTP_PARSE_OK);
    assert_int_equal(r.content_len, 3);
}

static void test_pipelined(void **state)
{
    (void)state;
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                    "HEAD /stats HTTP/1.1\r\nHost: a\r\n\r\n"
                    "GET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    const char *want[3] = {"/", "/stats", "/nope"};
    struct http_request r;
    uint32_t off = 0, len = (uint32_t)strlen(s);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(http_parse_request((const uint8_t *)s + off, len - off, MAX, &r),
                         HTTP_PARSE_OK);
        assert_path(&r, want[i]);
        assert_int_equal(r.keep_alive, i < 2);
        off += r.head_len;
    }
    assert_int_equal(off, len);
}

static void test_limits(void **state)
{
    (void)state;
    char big[MAX + 64];
    struct http_request r;
    memset(big, 'a', sizeof big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    /* No end within max bytes: too large once max bytes are there. */
    assert_int_equal(http_parse_request((uint8_t *)big, MAX - 1, MAX, &r),
                     HTTP_PARSE_PARTIAL);
    assert_int_equal(http_parse_request((uint8_t *)big, MAX, MAX, &r),
                     HTTP_PARSE_TOO_LARGE);
    assert_int_equal(http_parse_request((uint8_t *)big, sizeof big, MAX, &r),
                     HTTP_PARSE_TOO_LARGE);
    assert_int_equal(http_parse_status(HTTP_PARSE_TOO_LARGE), 431);
    assert_int_equal(
        parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740993\r\n"
              "\r\n",
              &r),
        HTTP_PARSE_BAD);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",             /* two spaces */
        "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",             /* trailing space */
        "GET /\r\n\r\n",                                  /* HTTP/0.9 */
        "GET / HTTP/1.1\r\n\r\n",                         /* no Host */
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",   /* two Hosts */
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",             /* space before the colon */
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",   /* obsolete line folding */
        "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",           /* a bare CR */
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", /* a control character */
        "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n",
        "GET / HTTP/x.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.10\r\nHost: a\r\n\r\n",
        "GET foo HTTP/1.1\r\nHost: a\r\n\r\n",          /* not a target form we know */
        "G\"T / HTTP/1.1\r\nHost: a\r\n\r\n",           /* not a token */
        "\x16\x03\x01\x02\x05\x01\x01\x01\xfc\x03\x03", /* TLS on port 80 */
        "GET / HTTP/1.1 garbage",
    };
    struct http_request r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum http_parse p = parse(bad[i], &r);
        if (p != HTTP_PARSE_BAD)
            fail_msg("case %zu: %d, want BAD", i, p);
    }
    assert_int_equal(http_parse_status(HTTP_PARSE_BAD), 400);
    /* Known as malformed before the head is complete, even before the request
     * line is. */
    assert_int_equal(http_parse_request((const uint8_t *)"GET /", 5, MAX, &r),
                     HTTP_PARSE_PARTIAL);
    assert_int_equal(http_parse_request((const uint8_t *)"GET / HTTP/1.1\r", 15, MAX, &r),
                     HTTP_PARSE_PARTIAL);
    assert_int_equal(http_parse_request((const uint8_t *)"GET  /", 6, MAX, &r),
                     HTTP_PARSE_BAD);
    assert_int_equal(
        http_parse_request((const uint8_t *)"GET  / HTTP/1.1\r\nHo", 19, MAX, &r),
        HTTP_PARSE_BAD);
}

static void test_version_and_te(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &r), HTTP_PARSE_VERSION);
    assert_int_equal(parse("GET / HTTP/0.9\r\nHost: a\r\n\r\n", &r), HTTP_PARSE_VERSION);
    assert_int_equal(http_parse_status(HTTP_PARSE_VERSION), 505);
    assert_int_equal(
        parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
        HTTP_PARSE_UNSUPPORTED);
    assert_int_equal(http_parse_status(HTTP_PARSE_UNSUPPORTED), 501);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_head_and_other_methods),
        cmocka_unit_test(test_query_and_forms),
        cmocka_unit_test(test_connection_semantics),
        cmocka_unit_test(test_lenient_line_ends),
        cmocka_unit_test(test_every_prefix_partial),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_version_and_te),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
