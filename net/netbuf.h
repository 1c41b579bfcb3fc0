/* Packet buffers shared by the driver and the stack. A netbuf is a block of
 * (in the kernel, DMA-capable and identity-mapped) memory with a reference count;
 * when the last reference goes, its owner's release hook takes it back (an RX
 * buffer is re-posted to its ring, a TX buffer returns to its pool).
 * Thread context only: interrupt handlers never touch reference counts. */
#ifndef NETBUF_H
#define NETBUF_H

#include <stdint.h>
#include "kernel/platform.h"

struct netbuf;
typedef void (*netbuf_release_fn)(struct netbuf *b);

struct netbuf {
    uint8_t *data;             /* start of the memory */
    uint32_t cap;              /* bytes at data */
    uint32_t refs;             /* live references; 0 = owned by its pool/ring */
    netbuf_release_fn release; /* called when refs drops to 0 */
    void *owner;               /* the pool or device the buffer belongs to */
    uint32_t tag;              /* owner's private index (descriptor id, ...) */
};

static inline void netbuf_ref(struct netbuf *b)
{
    KCHECK(b->refs > 0);
    b->refs++;
}

static inline void netbuf_unref(struct netbuf *b)
{
    KCHECK(b->refs > 0);
    if (--b->refs == 0)
        b->release(b);
}

/* One piece of a frame to transmit. buf may be NULL for memory the caller keeps
 * valid until tx completion is irrelevant (static data); otherwise the driver holds
 * a reference on buf until the device is done with the bytes. */
struct netbuf_seg {
    struct netbuf *buf;
    const uint8_t *p;
    uint32_t len;
};

#endif
