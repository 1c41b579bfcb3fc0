/* HTTP/1.x request heads (see net/http_parse.h). The head is parsed line by line
 * as far as the buffer goes, so a malformed request line is refused before the
 * rest of its head has arrived. */
#include "net/http_parse.h"

#include <string.h>

#define MAX_CONTENT_LEN (1ull << 53)

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive comparison of s[0..n) with the lower-case word w. */
static bool word_is(const uint8_t *s, uint32_t n, const char *w)
{
    if (strlen(w) != n)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (lower(s[i]) != (uint8_t)w[i])
            return false;
    return true;
}

enum line_status { LINE_OK, LINE_PARTIAL, LINE_BAD };

/* The line at buf[pos..n): its length without the terminator (CRLF or LF) and
 * where the next one starts. A CR anywhere else is malformed. */
static enum line_status next_line(const uint8_t *buf, uint32_t n, uint32_t pos,
                                  uint32_t *line_len, uint32_t *next)
{
    for (uint32_t i = pos; i < n; i++) {
        if (buf[i] == '\n') {
            *line_len = i - pos;
            *next = i + 1;
            return LINE_OK;
        }
        if (buf[i] == '\r') {
            if (i + 1 == n)
                return LINE_PARTIAL;
            if (buf[i + 1] != '\n')
                return LINE_BAD;
            *line_len = i - pos;
            *next = i + 2;
            return LINE_OK;
        }
    }
    return LINE_PARTIAL;
}

/* ------------------------------------------------------------ request line */

static enum http_method method_of(const uint8_t *m, uint32_t n)
{
    if (n == 3 && memcmp(m, "GET", 3) == 0)
        return HTTP_METHOD_GET;
    if (n == 4 && memcmp(m, "HEAD", 4) == 0)
        return HTTP_METHOD_HEAD;
    return HTTP_METHOD_OTHER;
}

/* The path of a request target: origin-form "/p?q", absolute-form
 * "http://host/p?q", asterisk-form "*". */
static bool target_path(const uint8_t *t, uint32_t n, struct http_request *req)
{
    uint32_t start = 0;
    if (n == 1 && t[0] == '*') {
        req->path = (const char *)t;
        req->path_len = 1;
        return true;
    }
    if (t[0] != '/') {
        uint32_t s = 0;
        if (n > 7 && word_is(t, 7, "http://"))
            s = 7;
        else if (n > 8 && word_is(t, 8, "https://"))
            s = 8;
        else
            return false;
        while (s < n && t[s] != '/' && t[s] != '?')
            s++;
        if (s == n || t[s] == '?') { /* no path: it is "/" */
            req->path = "/";
            req->path_len = 1;
            return true;
        }
        start = s;
    }
    uint32_t end = start;
    while (end < n && t[end] != '?')
        end++;
    req->path = (const char *)t + start;
    req->path_len = end - start;
    return true;
}

/* A request line not yet ended: whether what there is could still become one
 * (so binary garbage, a TLS handshake say, is refused at once). */
static bool request_line_prefix_ok(const uint8_t *l, uint32_t n)
{
    uint32_t i = 0;
    if (n && l[n - 1] == '\r') /* its LF has not come yet */
        n--;
    while (i < n && is_tchar(l[i]))
        i++;
    if (i == n)
        return true;
    if (i == 0 || l[i] != ' ')
        return false;
    for (i++; i < n && l[i] > ' ' && l[i] < 0x7f; i++)
        ;
    if (i == n)
        return true;
    if (l[i] != ' ')
        return false;
    static const char form[] = "HTTP/0.0"; /* '0': any digit */
    for (uint32_t k = 0, v = i + 1; v < n; k++, v++) {
        if (k == 8)
            return false;
        bool digit = l[v] >= '0' && l[v] <= '9';
        if (form[k] == '0' ? !digit : l[v] != (uint8_t)form[k])
            return false;
    }
    return true;
}

static enum http_parse request_line(const uint8_t *l, uint32_t n,
                                    struct http_request *req)
{
    uint32_t m = 0;
    while (m < n && is_tchar(l[m]))
        m++;
    if (m == 0 || m == n || l[m] != ' ')
        return HTTP_PARSE_BAD;
    uint32_t ts = m + 1, te = ts;
    while (te < n && l[te] > ' ' && l[te] < 0x7f)
        te++;
    if (te == ts || te == n || l[te] != ' ')
        return HTTP_PARSE_BAD;
    const uint8_t *v = l + te + 1;
    if (n - te - 1 != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
        v[6] != '.' || v[7] < '0' || v[7] > '9')
        return HTTP_PARSE_BAD;
    if (!target_path(l + ts, te - ts, req))
        return HTTP_PARSE_BAD;
    if (v[5] != '1')
        return HTTP_PARSE_VERSION;
    req->method = method_of(l, m);
    req->minor = (uint8_t)(v[7] - '0');
    return HTTP_PARSE_OK;
}

/* ------------------------------------------------------------ header fields */

struct head_state {
    int hosts;
    bool have_len, close, keep;
};

static bool digits_value(const uint8_t *v, uint32_t n, uint64_t *out)
{
    uint64_t x = 0;
    if (n == 0)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
        if (x > MAX_CONTENT_LEN)
            return false;
    }
    *out = x;
    return true;
}

/* Connection: a comma-separated list of tokens. */
static void connection_tokens(const uint8_t *v, uint32_t n, struct head_state *h)
{
    uint32_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        uint32_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (word_is(v + s, i - s, "close"))
            h->close = true;
        else if (word_is(v + s, i - s, "keep-alive"))
            h->keep = true;
    }
}

static enum http_parse field(const uint8_t *l, uint32_t n, struct http_request *req,
                             struct head_state *h)
{
    uint32_t c = 0;
    while (c < n && is_tchar(l[c]))
        c++;
    if (c == 0 || c == n || l[c] != ':') /* also a space before the colon, a fold */
        return HTTP_PARSE_BAD;
    uint32_t vs = c + 1, ve = n;
    while (vs < ve && (l[vs] == ' ' || l[vs] == '\t'))
        vs++;
    while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
        ve--;
    for (uint32_t i = vs; i < ve; i++)
        if ((l[i] < ' ' && l[i] != '\t') || l[i] == 0x7f)
            return HTTP_PARSE_BAD;
    const uint8_t *v = l + vs;
    uint32_t vn = ve - vs;
    if (word_is(l, c, "host")) {
        h->hosts++;
    } else if (word_is(l, c, "content-length")) {
        uint64_t x;
        if (!digits_value(v, vn, &x) || (h->have_len && x != req->content_len))
            return HTTP_PARSE_BAD;
        h->have_len = true;
        req->content_len = x;
    } else if (word_is(l, c, "transfer-encoding")) {
        return HTTP_PARSE_UNSUPPORTED;
    } else if (word_is(l, c, "connection")) {
        connection_tokens(v, vn, h);
    }
    return HTTP_PARSE_OK;
}

/* ------------------------------------------------------------ the head */

static uint32_t skip_empty_lines(const uint8_t *buf, uint32_t n)
{
    uint32_t i = 0;
    for (;;) {
        if (i < n && buf[i] == '\n')
            i++;
        else if (i + 1 < n && buf[i] == '\r' && buf[i + 1] == '\n')
            i += 2;
        else
            return i;
    }
}

enum http_parse http_parse_request(const uint8_t *buf, uint32_t len, uint32_t max,
                                   struct http_request *req)
{
    uint32_t n = len < max ? len : max;
    struct head_state h = {0};
    uint32_t pos = skip_empty_lines(buf, n), ll, next;
    bool first = true;
    memset(req, 0, sizeof *req);
    for (;;) {
        enum line_status ls = next_line(buf, n, pos, &ll, &next);
        if (ls == LINE_BAD)
            return HTTP_PARSE_BAD;
        if (ls == LINE_PARTIAL && first && !request_line_prefix_ok(buf + pos, n - pos))
            return HTTP_PARSE_BAD;
        if (ls == LINE_PARTIAL)
            return len >= max ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_PARTIAL;
        const uint8_t *l = buf + pos;
        pos = next;
        if (first) {
            enum http_parse r = request_line(l, ll, req);
            if (r != HTTP_PARSE_OK)
                return r;
            first = false;
            continue;
        }
        if (ll == 0)
            break;
        enum http_parse r = field(l, ll, req, &h);
        if (r != HTTP_PARSE_OK)
            return r;
    }
    /* RFC 9112 3.2: an HTTP/1.1 request without exactly one Host is refused. */
    if (h.hosts > 1 || (req->minor >= 1 && h.hosts == 0))
        return HTTP_PARSE_BAD;
    req->keep_alive = !h.close && (req->minor >= 1 || h.keep);
    req->head_len = pos;
    return HTTP_PARSE_OK;
}

int http_parse_status(enum http_parse r)
{
    switch (r) {
    case HTTP_PARSE_TOO_LARGE:
        return 431;
    case HTTP_PARSE_VERSION:
        return 505;
    case HTTP_PARSE_UNSUPPORTED:
        return 501;
    default:
        return 400;
    }
}
