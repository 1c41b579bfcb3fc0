/* IPv4 reassembly: datagrams keyed by (src, dst, protocol, id) are rebuilt in
 * buffers allocated once at init (a copy, off the fast path). Bounded in datagrams
 * in progress and in bytes held; a datagram over 65535 bytes is dropped; any
 * overlap drops the whole datagram, an exact duplicate is ignored; non-final
 * fragments must be a multiple of 8 long. A timer (ipv4_reass_tick) expires
 * datagrams, reporting those whose first fragment was held (ICMP time exceeded).
 * Thread context only. */
#ifndef NET_IPV4_REASS_H
#define NET_IPV4_REASS_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"
#include "net/view.h"
#include "net/wire/ipv4.h"

#define REASS_DEFAULT_DGRAMS 4
#define REASS_DEFAULT_BYTES (256u * 1024u)
#define REASS_DEFAULT_TIMEOUT_NS 30000000000ull
#define REASS_HDR_ROOM IPV4_MAX_HDR_LEN
#define REASS_BLOCKS 8192                   /* 65536 / 8: one bit per 8 bytes */
#define REASS_WORDS (REASS_BLOCKS / 64 + 1) /* + 1: an end mark at block 8192 */

#define REASS_COUNTERS(X)                                                                \
    X(frags)                                                                             \
    X(done)                                                                              \
    X(dup)                                                                               \
    X(drop_overlap)                                                                      \
    X(drop_inconsistent)                                                                 \
    X(drop_bad_len)                                                                      \
    X(drop_over_limit)                                                                   \
    X(drop_mem_limit)                                                                    \
    X(drop_no_slot)                                                                      \
    X(timeout)                                                                           \
    X(timeout_first_held)                                                                \
    X(evicted)

struct ipv4_reass_stats {
    REASS_COUNTERS(COUNTER_FIELD)
};

/* Gauges: what is held now (printed and looked up like the counters). */
#define REASS_GAUGES(X)                                                                  \
    X(bytes_held)  /* data bytes in datagrams in progress or still referenced */         \
    X(in_progress) /* datagrams being assembled */                                       \
    X(max_bytes)   /* the cap on bytes_held */

struct ipv4_reass_gauges {
    REASS_GAUGES(COUNTER_FIELD)
};

struct ipv4_reass;

struct ipv4_reass_slot {
    uint8_t state; /* free, assembling, held (delivered, still referenced) */
    bool orphan;   /* the reassembler went away while held: free on release */
    bool has_first, has_last;
    uint8_t proto, hdr_len;
    unsigned flags; /* rx flags of the fragments (broadcast, ...) */
    struct ipv4_addr src, dst;
    uint16_t id;
    uint32_t bytes;   /* data bytes received */
    uint32_t total;   /* data length, once the last fragment is in */
    uint32_t max_end; /* highest data end received */
    uint64_t created;
    uint8_t hdr[IPV4_MAX_HDR_LEN]; /* the first fragment's header */
    uint64_t recv[REASS_WORDS], start[REASS_WORDS], end[REASS_WORDS];
    struct ipv4_reass *owner;
    struct netbuf nb; /* REASS_HDR_ROOM + 65536 bytes following this struct */
};

struct ipv4_reass {
    struct ipv4_reass_slot **slots;
    uint32_t nslots;
    uint32_t max_bytes;
    uint32_t bytes_held;
    uint64_t timeout_ns;
    struct ipv4_reass_stats st;
};

enum ipv4_reass_result {
    REASS_KEPT = 0, /* fragment stored (or duplicate ignored); nothing to deliver */
    REASS_DONE,     /* a datagram is complete: see out_hdr / out_data */
    REASS_DROPPED,  /* fragment (maybe with its datagram) dropped and counted */
};

/* 0 values pick the defaults. -1 when memory runs out. */
int ipv4_reass_init(struct ipv4_reass *r, uint32_t max_dgrams, uint32_t max_bytes,
                    uint64_t timeout_ns);
/* Frees everything; datagrams still referenced are freed on their release. */
void ipv4_reass_free(struct ipv4_reass *r);

/* Adds one fragment (h parsed from its header, hdr its header bytes, data its
 * payload; both borrowed). On REASS_DONE, out_hdr is the first fragment's header
 * rewritten for the whole datagram and out_data its payload; the caller owns one
 * reference (view_release(out_data) when done). */
enum ipv4_reass_result ipv4_reass_add(struct ipv4_reass *r, const struct ipv4_repr *h,
                                      const struct view *hdr, const struct view *data,
                                      unsigned flags, uint64_t now, struct view *out_hdr,
                                      struct view *out_data);

/* Called for an expired datagram whose first fragment was held: its header and up
 * to 8 bytes of its data (what ICMP time exceeded quotes). */
typedef void (*ipv4_reass_expired_fn)(void *ctx, const struct view *hdr,
                                      const struct view *data8, unsigned flags);
void ipv4_reass_tick(struct ipv4_reass *r, uint64_t now, ipv4_reass_expired_fn fn,
                     void *ctx);
/* When the next datagram expires (UINT64_MAX: none in progress). */
uint64_t ipv4_reass_deadline(const struct ipv4_reass *r);
uint32_t ipv4_reass_in_progress(const struct ipv4_reass *r);

struct ipv4_reass_gauges ipv4_reass_gauges(const struct ipv4_reass *r);

/* The registries of struct ipv4_reass_stats and struct ipv4_reass_gauges. */
extern const struct counter_table ipv4_reass_counter_table, ipv4_reass_gauge_table;

#endif
