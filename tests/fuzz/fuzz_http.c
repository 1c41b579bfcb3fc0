/* The HTTP/1.x request head parser (net/http_parse.c), which reads what any
 * client sends to port 80: a whole head's fields lie inside it, its path inside
 * the buffer; a head is found the same way in any longer input (pipelining) and
 * every shorter prefix of it is "partial" (never an error, never a request);
 * an error stays the same error however many more bytes come. Input: a selector
 * byte (the head limit), then the bytes. */
#include <string.h>

#include "net/http_parse.h"
#include "tests/fuzz/fuzz.h"

static const uint32_t limits[4] = {4096, 64, 1, 8192};

static enum http_parse parse(const uint8_t *b, uint32_t n, uint32_t max,
                             struct http_request *r)
{
    enum http_parse p = http_parse_request(b, n, max, r);
    FZ_CHECK(p <= HTTP_PARSE_UNSUPPORTED, "result %d", p);
    int st = http_parse_status(p);
    FZ_CHECK(p == HTTP_PARSE_OK || p == HTTP_PARSE_PARTIAL || st == 400 || st == 431 ||
                 st == 501 || st == 505,
             "status %d", st);
    return p;
}

static void check_request(const uint8_t *b, uint32_t n, uint32_t max,
                          const struct http_request *r)
{
    FZ_CHECK(r->head_len > 0 && r->head_len <= n && r->head_len <= max,
             "head length %u of %u", r->head_len, n);
    const uint8_t *p = (const uint8_t *)r->path;
    bool inside = p >= b && p + r->path_len <= b + r->head_len;
    FZ_CHECK(inside || (r->path_len == 1 && r->path[0] == '/'), "path outside the head");
    FZ_CHECK(r->method <= HTTP_METHOD_HEAD && r->minor <= 9, "method %d minor %u",
             r->method, r->minor);
    FZ_CHECK(r->content_len <= (1ull << 53), "content length %llu",
             (unsigned long long)r->content_len);
    if (r->minor == 0)
        return;
    for (uint32_t i = 0; i < r->path_len; i++)
        FZ_CHECK(r->path[i] > ' ' && r->path[i] < 0x7f, "path byte %u",
                 (uint8_t)r->path[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 16384)
        return 0;
    uint32_t max = limits[data[0] & 3];
    const uint8_t *b = data + 1;
    uint32_t n = (uint32_t)size - 1;
    struct http_request r, r2;
    enum http_parse whole = parse(b, n, max, &r);
    if (whole == HTTP_PARSE_OK) {
        check_request(b, n, max, &r);
        /* The same head on its own, and every kind of prefix of it. */
        FZ_CHECK(parse(b, r.head_len, max, &r2) == HTTP_PARSE_OK &&
                     r2.head_len == r.head_len && r2.path == r.path &&
                     r2.path_len == r.path_len && r2.method == r.method &&
                     r2.keep_alive == r.keep_alive && r2.content_len == r.content_len,
                 "the head alone parses differently");
        uint32_t cuts[3] = {r.head_len - 1, r.head_len / 2,
                            n > 1 ? b[n - 1] % r.head_len : 0};
        for (int i = 0; i < 3; i++)
            FZ_CHECK(parse(b, cuts[i], max, &r2) == HTTP_PARSE_PARTIAL,
                     "a prefix of %u bytes of a %u-byte head is not partial", cuts[i],
                     r.head_len);
    } else if (whole != HTTP_PARSE_PARTIAL) {
        /* An error found in fewer bytes is the same error. */
        for (uint32_t k = n; k > 0; k /= 2) {
            enum http_parse p = parse(b, k, max, &r2);
            FZ_CHECK(p == HTTP_PARSE_PARTIAL || p == whole, "%u bytes: %d, all %u: %d", k,
                     p, n, whole);
        }
    }
    return 0;
}
