/* The HTTP server's answers (see net/http_int.h): the status line and fields,
 * and the bodies of "/" (the caller's page lines, HTML-escaped, inside <pre>),
 * "/stats" (the caller's lines as text) and the error answers, rendered into one
 * buffer the module shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_int.h"

#define SCRATCH_MAX (1u << 20)

/* The shared rendering buffer: grows to the largest answer rendered. */
static struct sink {
    char *p;
    uint32_t len, cap;
    bool full;
} scratch;

static bool sink_reserve(struct sink *s, uint32_t more)
{
    if (s->len + more <= s->cap)
        return true;
    uint32_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + more && cap <= SCRATCH_MAX)
        cap *= 2;
    char *p = cap <= SCRATCH_MAX ? realloc(s->p, cap) : NULL;
    if (!p) {
        s->full = true;
        return false;
    }
    s->p = p;
    s->cap = cap;
    return true;
}

static void sink_put(struct sink *s, const char *t, uint32_t n)
{
    if (s->full || !sink_reserve(s, n))
        return;
    memcpy(s->p + s->len, t, n);
    s->len += n;
}

static void sink_str(struct sink *s, const char *t)
{
    sink_put(s, t, (uint32_t)strlen(t));
}

static void text_line(void *ctx, const char *line)
{
    sink_str(ctx, line);
    sink_put(ctx, "\n", 1);
}

static void html_line(void *ctx, const char *line)
{
    for (const char *p = line; *p; p++) {
        if (*p == '<')
            sink_str(ctx, "&lt;");
        else if (*p == '>')
            sink_str(ctx, "&gt;");
        else if (*p == '&')
            sink_str(ctx, "&amp;");
        else
            sink_put(ctx, p, 1);
    }
    sink_put(ctx, "\n", 1);
}

/* Each status we answer: its reason phrase and its counter. */
#define STATUS(n, text)                                                                  \
    {                                                                                    \
        n, text, COUNTER_OFF(struct http_stats, resp_##n)                                \
    }
static const struct status {
    int code;
    const char *reason;
    uint16_t off;
} statuses[] = {
    STATUS(200, "OK"),
    STATUS(400, "Bad Request"),
    STATUS(404, "Not Found"),
    STATUS(405, "Method Not Allowed"),
    STATUS(408, "Request Timeout"),
    STATUS(431, "Request Header Fields Too Large"),
    STATUS(501, "Not Implemented"),
    STATUS(503, "Service Unavailable"),
    STATUS(505, "HTTP Version Not Supported"),
};

static const struct status *status_of(int code)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i].code == code)
            return &statuses[i];
    return &statuses[1]; /* not reached: every code we send is listed */
}

static const char *reason(int status)
{
    return status_of(status)->reason;
}

static bool path_is(const struct http_request *r, const char *p)
{
    return r->path_len == strlen(p) && memcmp(r->path, p, r->path_len) == 0;
}

int http_route(const struct http_request *r)
{
    bool known = path_is(r, "/") || path_is(r, "/stats");
    if (r->method == HTTP_METHOD_OTHER)
        return 405;
    return known ? 200 : 404;
}

/* The body of an answer into scratch; its content type. */
static const char *render_body(struct http_server *h, int status,
                               const struct http_request *r)
{
    if (status == 200 && path_is(r, "/stats")) {
        if (h->cfg.stats)
            h->cfg.stats(h->cfg.ctx, text_line, &scratch);
        return "text/plain; charset=utf-8";
    }
    if (status == 200) {
        sink_str(&scratch, "<!DOCTYPE html>\n<html><head><title>uknet</title></head>"
                           "<body>\n<h1>uknet</h1>\n<pre>\n");
        if (h->cfg.page)
            h->cfg.page(h->cfg.ctx, html_line, &scratch);
        sink_str(&scratch,
                 "</pre>\n<p><a href=\"/stats\">/stats</a></p>\n</body></html>\n");
        return "text/html; charset=utf-8";
    }
    char line[64];
    snprintf(line, sizeof line, "%d %s", status, reason(status));
    text_line(&scratch, line);
    return "text/plain; charset=utf-8";
}

/* The answer as two views (head, body) of module buffers; 0 when it could not be
 * rendered (then 503 is due). r NULL: an error answer to no parsed request. */
uint32_t http_render(struct http_server *h, int status, const struct http_request *r,
                     bool close, struct view v[2])
{
    static char head[256];
    scratch.len = 0;
    scratch.full = false;
    const char *type = render_body(h, status, r);
    if (scratch.full)
        return 0;
    bool keep10 = !close && r && r->minor == 0; /* HTTP/1.0 keep-alive says so */
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nServer: uknet\r\nContent-Type: %s\r\n"
                     "Content-Length: %u\r\n%s%s%s\r\n",
                     status, reason(status), type, (unsigned)scratch.len,
                     status == 200 ? "Cache-Control: no-store\r\n" : "",
                     status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     close    ? "Connection: close\r\n"
                     : keep10 ? "Connection: keep-alive\r\n"
                              : "");
    bool head_only = r && r->method == HTTP_METHOD_HEAD;
    KCHECK(n > 0 && (size_t)n < sizeof head); /* the longest head is about 200 bytes */
    v[0] = view_of_mem(head, (uint32_t)n);
    v[1] = view_of_mem(scratch.p, head_only ? 0 : scratch.len);
    return v[0].len + v[1].len;
}

void http_count_status(struct http_stats *st, int status)
{
    counter_inc(st, status_of(status)->off);
}

uint32_t http_scratch_bytes(void)
{
    return scratch.cap;
}
