/* A small HTTP/1.1 server on a stack's TCP (RFC 9110, 9112): GET and HEAD of
 * "/" (a page the caller fills in: uptime, interfaces, addresses) and "/stats"
 * (the counters as text, name=value lines), 404 for any other path, 405 for
 * other methods, 400 for a malformed request (431 a head over max_head, 501
 * Transfer-Encoding, 505 a version other than 1.x), then the connection closes.
 * Persistent connections (HTTP/1.1's default, HTTP/1.0 with keep-alive) and
 * pipelining: requests are answered in order, one at a time, and the next is
 * read only once the answer is queued, so a client that does not read stops
 * being read (its window closes) instead of making the server queue answers.
 * "Connection: close" is honoured: the answer, then the server's FIN, then
 * whatever the client still sends is read and dropped for up to linger_ms (a
 * reset there could destroy the answer before the client read it, RFC 9112
 * 9.6). A connection with no request finished and no answer byte moved for
 * idle_ms is closed (a request begun is answered 408 first), so a slow or silent
 * client never keeps others out.
 *
 * No thread per connection: each is a small record (about 100 bytes; a request
 * head's bytes are held only while it is unfinished, an answer's only while TCP
 * cannot take it all) driven by TCP's event callbacks on the thread that caused
 * the event, and the ticks on the timer thread. Bytes held for heads and answers
 * are capped in all (buf_max): a connection that would go over is answered 503
 * or reset. Answers are rendered into one buffer the module shares (threads are
 * cooperative: nothing runs between rendering and queuing). */
#ifndef NET_HTTP_H
#define NET_HTTP_H

#include <stdint.h>

#include "kernel/platform.h"
#include "net/http_parse.h"
#include "net/svc_list.h"
#include "net/tcp.h"

/* A page's content: print lines (without line ends) with print(pctx, line). */
typedef void (*http_content_fn)(void *ctx, print_line_fn print, void *pctx);

struct http_config {
    uint16_t port;         /* [80] */
    int backlog;           /* connections not yet established [64] */
    uint32_t idle_ms;      /* [10000] */
    uint32_t linger_ms;    /* [2000] */
    uint32_t max_head;     /* bytes of a request head [4096] */
    uint32_t buf_max;      /* request and answer bytes held, all connections [256 KiB] */
    http_content_fn page;  /* GET /: lines inside the page's <pre> */
    http_content_fn stats; /* GET /stats */
    void *ctx;             /* their first argument */
};

#define HTTP_COUNTERS(X)                                                                 \
    X(conns)                                                                             \
    X(requests)                                                                          \
    X(requests_reused) /* requests after the first on a connection */                    \
    X(resp_200)                                                                          \
    X(resp_400)                                                                          \
    X(resp_404)                                                                          \
    X(resp_405)                                                                          \
    X(resp_408)                                                                          \
    X(resp_431)                                                                          \
    X(resp_501)                                                                          \
    X(resp_503)                                                                          \
    X(resp_505)                                                                          \
    X(tx_bytes)                                                                          \
    X(closed_by_client) /* the client's end of stream between requests */                \
    X(closed_by_server) /* after Connection: close, an error answer or HTTP/1.0 */       \
    X(idle_timeouts)                                                                     \
    X(linger_timeouts) /* the client kept sending after our close */                     \
    X(reset)           /* a reset, a timeout or an error of TCP */                       \
    X(drop_no_mem)     /* a connection refused or reset: no memory, or over buf_max */   \
    X(write_waits)     /* answers that waited for send space */                          \
    X(write_retries)   /* writes the timer tried again (the memory cap had stopped them) \
                        */

struct http_stats {
    HTTP_COUNTERS(COUNTER_FIELD)
};

#define HTTP_GAUGES(X)                                                                   \
    X(open)          /* connections */                                                   \
    X(buf_bytes)     /* request and answer bytes held */                                 \
    X(scratch_bytes) /* the shared rendering buffer */
struct http_gauges {
    HTTP_GAUGES(COUNTER_FIELD)
};

struct http_server {
    struct tcp *tcp;
    struct tcp_listener *l;
    struct http_config cfg;
    struct svc_list conns;
    struct svc_timer timer;
    uint32_t buf_bytes;
    struct http_stats st;
};

/* Listens on cfg->port of t. NULL (nothing left behind) when the port is taken or
 * memory ran out. */
struct http_server *http_start(struct tcp *t, const struct http_config *cfg);
/* Stops listening and resets every connection. */
void http_stop(struct http_server *h);

void http_tick(struct http_server *h, uint64_t now);
uint64_t http_next_deadline(const struct http_server *h);
void http_set_deadline_hook(struct http_server *h,
                            void (*fn)(void *ctx, uint64_t deadline), void *ctx);

void http_gauges(const struct http_server *h, struct http_gauges *out);
extern const struct counter_table http_counter_table, http_gauge_table;

#endif
