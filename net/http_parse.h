/* HTTP/1.x request heads (RFC 9112): the request line and the header fields up to
 * the empty line, parsed from a contiguous buffer that may hold only part of the
 * head (then the caller waits for more bytes) or more than one request
 * (pipelining: the head's length says where the next one starts). Strict where
 * framing depends on it (a request smuggled past a lenient parser is a security
 * bug): one SP between the request line's parts, no whitespace before a field's
 * colon, no line folding, no NUL or bare CR, one Host, one Content-Length value,
 * no Transfer-Encoding (we take no bodies we cannot frame). Lenient where RFC
 * 9112 allows it: empty lines before the request line, a bare LF as a line end.
 * Pure: no state, any context. */
#ifndef NET_HTTP_PARSE_H
#define NET_HTTP_PARSE_H

#include <stdbool.h>
#include <stdint.h>

enum http_method {
    HTTP_METHOD_OTHER = 0, /* a valid token we do not implement */
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
};

enum http_parse {
    HTTP_PARSE_OK = 0,      /* a whole head: *req filled in */
    HTTP_PARSE_PARTIAL,     /* no end of head yet, and room for more */
    HTTP_PARSE_BAD,         /* malformed: 400 */
    HTTP_PARSE_TOO_LARGE,   /* no end of head within max bytes: 431 */
    HTTP_PARSE_VERSION,     /* HTTP/0.x or 2 and up: 505 */
    HTTP_PARSE_UNSUPPORTED, /* Transfer-Encoding: 501 */
};

struct http_request {
    enum http_method method;
    uint8_t minor;    /* HTTP/1.<minor> */
    const char *path; /* the target's path (query removed), in the buffer */
    uint32_t path_len;
    bool keep_alive;      /* from the version and Connection */
    uint64_t content_len; /* body bytes that follow the head */
    uint32_t head_len;    /* bytes of the head, empty lines before it included */
};

/* Parses the head at buf[0..len); max: the longest head accepted. */
enum http_parse http_parse_request(const uint8_t *buf, uint32_t len, uint32_t max,
                                   struct http_request *req);

/* The status code a parse failure is answered with (400, 431, 505, 501). */
int http_parse_status(enum http_parse r);

#endif
