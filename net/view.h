/* Views, the Cstruct.t stand-in: a bounds-checked window (memory, offset, length)
 * onto packet bytes. Sub-views and shifts never copy and never widen. A view lent
 * to a callee is borrowed for the call; whoever keeps one longer takes view_ref
 * (which pins the underlying netbuf: an RX buffer stays away from its ring) and
 * later view_release. Fields are read and written by the wire modules
 * (net/wire/), after their checks bounded the bytes. */
#ifndef NET_VIEW_H
#define NET_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/netdev.h"
#include "kernel/platform.h"
#include "net/wire/bytes.h"

struct view {
    uint8_t *base;      /* start of the memory (buf->data when buf is set) */
    struct netbuf *buf; /* owner of the bytes; NULL for memory the caller keeps alive */
    uint32_t off;       /* window start, from base */
    uint32_t len;       /* window length */
};

/* A view of b->data[off, off + len); false (and *v untouched) when outside b. */
static inline bool view_of_buf(struct view *v, struct netbuf *b, uint32_t off,
                               uint32_t len)
{
    if (off > b->cap || len > b->cap - off)
        return false;
    v->base = b->data;
    v->buf = b;
    v->off = off;
    v->len = len;
    return true;
}

/* A view of plain memory the caller keeps valid (static data, a stack buffer). */
static inline struct view view_of_mem(void *p, uint32_t len)
{
    struct view v = {(uint8_t *)p, NULL, 0, len};
    return v;
}

static inline uint8_t *view_data(const struct view *v)
{
    return v->base + v->off;
}

/* out = v[off, off + len); false when that leaves v. out may be v. */
static inline bool view_sub(const struct view *v, uint32_t off, uint32_t len,
                            struct view *out)
{
    if (off > v->len || len > v->len - off)
        return false;
    *out = *v;
    out->off += off;
    out->len = len;
    return true;
}

/* Drops the first n bytes (Cstruct.shift); false when n > len. */
static inline bool view_shift(struct view *v, uint32_t n)
{
    if (n > v->len)
        return false;
    v->off += n;
    v->len -= n;
    return true;
}

/* Keeps only the first len bytes; false when len > v->len. */
static inline bool view_truncate(struct view *v, uint32_t len)
{
    if (len > v->len)
        return false;
    v->len = len;
    return true;
}

/* Reference counting: a no-op for plain memory. */
static inline void view_ref(const struct view *v)
{
    if (v->buf)
        netbuf_ref(v->buf);
}
static inline void view_release(struct view *v)
{
    if (v->buf)
        netbuf_unref(v->buf);
    v->buf = NULL;
    v->len = 0;
}

/* Copies n bytes at off out of / into v; false (nothing copied) when out of range. */
bool view_copy_out(const struct view *v, uint32_t off, void *dst, uint32_t n);
bool view_copy_in(const struct view *v, uint32_t off, const void *src, uint32_t n);

/* Lists of views (scatter-gather payloads). */
uint32_t view_list_len(const struct view *vs, int n);
/* Copies len bytes of the concatenation of vs, starting skip bytes in, to dst;
 * false when the list holds fewer than skip + len bytes. */
bool view_list_gather(const struct view *vs, int n, uint32_t skip, void *dst,
                      uint32_t len);

#endif
