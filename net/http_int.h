/* Internals of net/http*.c (not for other modules): what the server's
 * connection logic (http.c) and its rendering (http_render.c) share. */
#ifndef NET_HTTP_INT_H
#define NET_HTTP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "net/http.h"

/* The answer with status to r (NULL: an error answer to no parsed request),
 * with Connection: close when close, as two views (head, body) of module
 * buffers valid until the next call; its length, 0 when it could not be
 * rendered (no memory: then 503 is due). HEAD gets the head only. Cooperative
 * threads: nothing runs between rendering and queuing. */
uint32_t http_render(struct http_server *h, int status, const struct http_request *r,
                     bool close, struct view v[2]);
/* The status a parsed request gets: 200 for GET or HEAD of "/" or "/stats", 404
 * for another path, 405 for another method. */
int http_route(const struct http_request *r);
/* Counts an answer sent under its status's counter. */
void http_count_status(struct http_stats *st, int status);
/* The shared rendering buffer's size (the largest answer rendered so far). */
uint32_t http_scratch_bytes(void);

#endif
