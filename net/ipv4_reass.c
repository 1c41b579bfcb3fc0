/* IPv4 reassembly (see net/ipv4_reass.h). Each slot keeps three bitmaps over
 * 8-byte blocks: data received, where fragments start, where they end. Since
 * fragments never overlap once accepted, a new one is either all new (accepted),
 * an exact copy of one already held (all blocks present, starting and ending on
 * the same marks with no start inside: ignored), or an overlap (the datagram is
 * dropped, as Linux does). Data is copied into the slot's buffer. */
#include <stdlib.h>

#include "net/ipv4_reass.h"

enum { SLOT_FREE = 0, SLOT_ASSEMBLING, SLOT_HELD };

#define SLOT_BUF_BYTES (REASS_HDR_ROOM + 65536u)

#define REASS_DESC(n) COUNTER_DESC(struct ipv4_reass_stats, n)
const struct counter_table ipv4_reass_counter_table =
    COUNTER_REGISTRY(REASS_COUNTERS, REASS_DESC);

/* ------------------------------------------------------------ bitmaps */

static inline uint64_t word_mask(uint32_t lo, uint32_t hi) /* bits [lo, hi) of a word */
{
    uint64_t m = hi == 64 ? ~0ull : (1ull << hi) - 1;
    return m & ~((1ull << lo) - 1);
}

enum bits_op { BITS_ANY, BITS_ALL, BITS_SET };

/* Over blocks [b0, b1): ANY/ALL answer the question, SET sets them. */
static bool bits(uint64_t *map, uint32_t b0, uint32_t b1, enum bits_op op)
{
    while (b0 < b1) {
        uint32_t w = b0 / 64, lo = b0 % 64;
        uint32_t hi = (b1 - w * 64) < 64 ? b1 - w * 64 : 64;
        uint64_t m = word_mask(lo, hi);
        if (op == BITS_ANY && (map[w] & m))
            return true;
        if (op == BITS_ALL && (map[w] & m) != m)
            return false;
        if (op == BITS_SET)
            map[w] |= m;
        b0 = w * 64 + hi;
    }
    return op == BITS_ALL;
}

static inline bool bit(const uint64_t *map, uint32_t b)
{
    return (map[b / 64] >> (b % 64)) & 1;
}

/* ------------------------------------------------------------ slots */

static void slot_release(struct netbuf *b);

static void slot_reset(struct ipv4_reass_slot *s)
{
    s->state = SLOT_FREE;
    s->has_first = s->has_last = false;
    s->bytes = s->total = s->max_end = 0;
    s->flags = 0;
    memset(s->recv, 0, sizeof s->recv);
    memset(s->start, 0, sizeof s->start);
    memset(s->end, 0, sizeof s->end);
}

/* The slot's struct and its buffer in one allocation. */
static struct ipv4_reass_slot *slot_new(struct ipv4_reass *r)
{
    struct ipv4_reass_slot *s = malloc(sizeof *s + SLOT_BUF_BYTES);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->owner = r;
    s->nb.data = (uint8_t *)(s + 1);
    s->nb.cap = SLOT_BUF_BYTES;
    s->nb.release = slot_release;
    s->nb.owner = s;
    return s;
}

int ipv4_reass_init(struct ipv4_reass *r, uint32_t max_dgrams, uint32_t max_bytes,
                    uint64_t timeout_ns)
{
    memset(r, 0, sizeof *r);
    r->nslots = max_dgrams ? max_dgrams : REASS_DEFAULT_DGRAMS;
    r->max_bytes = max_bytes ? max_bytes : REASS_DEFAULT_BYTES;
    r->timeout_ns = timeout_ns ? timeout_ns : REASS_DEFAULT_TIMEOUT_NS;
    r->slots = calloc(r->nslots, sizeof *r->slots);
    if (!r->slots)
        return -1;
    for (uint32_t i = 0; i < r->nslots; i++)
        if (!(r->slots[i] = slot_new(r))) {
            ipv4_reass_free(r);
            return -1;
        }
    return 0;
}

void ipv4_reass_free(struct ipv4_reass *r)
{
    for (uint32_t i = 0; r->slots && i < r->nslots; i++) {
        struct ipv4_reass_slot *s = r->slots[i];
        if (s && s->state == SLOT_HELD)
            s->orphan = true;
        else
            free(s);
    }
    free(r->slots);
    r->slots = NULL;
    r->nslots = 0;
    r->bytes_held = 0;
}

/* The last reference to a delivered datagram went: the slot is free again. */
static void slot_release(struct netbuf *b)
{
    struct ipv4_reass_slot *s = b->owner;
    if (s->orphan) {
        free(s);
        return;
    }
    s->owner->bytes_held -= s->bytes;
    slot_reset(s);
}

static void slot_drop(struct ipv4_reass *r, struct ipv4_reass_slot *s)
{
    r->bytes_held -= s->bytes;
    slot_reset(s);
}

static struct ipv4_reass_slot *slot_find(struct ipv4_reass *r, const struct ipv4_repr *h)
{
    for (uint32_t i = 0; i < r->nslots; i++) {
        struct ipv4_reass_slot *s = r->slots[i];
        if (s->state == SLOT_ASSEMBLING && s->id == h->id && s->proto == h->proto &&
            s->src.be == h->src.be && s->dst.be == h->dst.be)
            return s;
    }
    return NULL;
}

static struct ipv4_reass_slot *oldest_assembling(struct ipv4_reass *r,
                                                 const struct ipv4_reass_slot *except)
{
    struct ipv4_reass_slot *old = NULL;
    for (uint32_t i = 0; i < r->nslots; i++) {
        struct ipv4_reass_slot *s = r->slots[i];
        if (s != except && s->state == SLOT_ASSEMBLING &&
            (!old || s->created < old->created))
            old = s;
    }
    return old;
}

/* A free slot, else the oldest datagram in progress is evicted. */
static struct ipv4_reass_slot *slot_alloc(struct ipv4_reass *r, const struct ipv4_repr *h,
                                          uint64_t now)
{
    struct ipv4_reass_slot *s = NULL;
    for (uint32_t i = 0; i < r->nslots && !s; i++)
        if (r->slots[i]->state == SLOT_FREE)
            s = r->slots[i];
    if (!s && (s = oldest_assembling(r, NULL)) != NULL) {
        r->st.evicted++;
        slot_drop(r, s);
    }
    if (!s)
        return NULL;
    s->state = SLOT_ASSEMBLING;
    s->src = h->src;
    s->dst = h->dst;
    s->id = h->id;
    s->proto = h->proto;
    s->created = now;
    return s;
}

/* Makes room for len more bytes by evicting older datagrams; false if impossible. */
static bool fits(struct ipv4_reass *r, struct ipv4_reass_slot *s, uint32_t len)
{
    while (r->bytes_held + len > r->max_bytes) {
        struct ipv4_reass_slot *old = oldest_assembling(r, s);
        if (!old)
            return false;
        r->st.evicted++;
        slot_drop(r, old);
    }
    return true;
}

/* ------------------------------------------------------------ adding */

enum frag_verdict { FRAG_NEW, FRAG_DUP, FRAG_OVERLAP, FRAG_INCONSISTENT };

/* Against what the slot holds: a fragment past the known end, a second different
 * end, or a non-final fragment ending exactly at the end is inconsistent. */
static enum frag_verdict classify(struct ipv4_reass_slot *s, uint32_t off, uint32_t end,
                                  bool last)
{
    uint32_t b0 = off / 8, b1 = (end + 7) / 8;
    if (s->has_last && (end > s->total || (last ? end != s->total : end == s->total)))
        return FRAG_INCONSISTENT;
    if (last && !s->has_last && s->max_end > end)
        return FRAG_INCONSISTENT;
    if (!bits(s->recv, b0, b1, BITS_ANY))
        return FRAG_NEW;
    if (bits(s->recv, b0, b1, BITS_ALL) && bit(s->start, b0) && bit(s->end, b1) &&
        !bits(s->start, b0 + 1, b1, BITS_ANY))
        return FRAG_DUP;
    return FRAG_OVERLAP;
}

static void store(struct ipv4_reass *r, struct ipv4_reass_slot *s,
                  const struct ipv4_repr *h, const struct view *hdr,
                  const struct view *data, unsigned flags)
{
    uint32_t off = h->frag_off, end = off + data->len;
    memcpy(s->nb.data + REASS_HDR_ROOM + off, view_data(data), data->len);
    bits(s->recv, off / 8, (end + 7) / 8, BITS_SET);
    bits(s->start, off / 8, off / 8 + 1, BITS_SET);
    bits(s->end, (end + 7) / 8, (end + 7) / 8 + 1, BITS_SET);
    s->bytes += data->len;
    r->bytes_held += data->len;
    s->flags |= flags;
    if (end > s->max_end)
        s->max_end = end;
    if (off == 0) {
        s->has_first = true;
        s->hdr_len = h->hdr_len;
        memcpy(s->hdr, view_data(hdr), h->hdr_len);
    }
    if (!h->mf) {
        s->has_last = true;
        s->total = end;
    }
}

/* The stored first header, rewritten for the whole datagram, right before the data. */
static void finish(struct ipv4_reass_slot *s, struct view *out_hdr, struct view *out_data)
{
    uint8_t *p = s->nb.data + REASS_HDR_ROOM - s->hdr_len;
    memcpy(p, s->hdr, s->hdr_len);
    ipv4_header_unfragment(p, (uint16_t)s->total);
    s->state = SLOT_HELD;
    s->nb.refs = 1;
    view_of_buf(out_hdr, &s->nb, REASS_HDR_ROOM - s->hdr_len, s->hdr_len);
    view_of_buf(out_data, &s->nb, REASS_HDR_ROOM, s->total);
}

enum ipv4_reass_result ipv4_reass_add(struct ipv4_reass *r, const struct ipv4_repr *h,
                                      const struct view *hdr, const struct view *data,
                                      unsigned flags, uint64_t now, struct view *out_hdr,
                                      struct view *out_data)
{
    struct ipv4_reass_slot *s = slot_find(r, h);
    uint32_t end = (uint32_t)h->frag_off + data->len;
    r->st.frags++;
    if (data->len == 0 || (h->mf && (data->len & 7))) {
        r->st.drop_bad_len++;
        goto drop;
    }
    if (end + h->hdr_len > IPV4_MAX_DGRAM) {
        r->st.drop_over_limit++;
        goto drop_dgram;
    }
    if (!s && !(s = slot_alloc(r, h, now))) {
        r->st.drop_no_slot++;
        goto drop;
    }
    switch (classify(s, h->frag_off, end, !h->mf)) {
    case FRAG_DUP:
        r->st.dup++;
        return REASS_KEPT;
    case FRAG_OVERLAP:
        r->st.drop_overlap++;
        goto drop_dgram;
    case FRAG_INCONSISTENT:
        r->st.drop_inconsistent++;
        goto drop_dgram;
    case FRAG_NEW:
        break;
    }
    if (!fits(r, s, data->len)) {
        r->st.drop_mem_limit++;
        goto drop_dgram;
    }
    store(r, s, h, hdr, data, flags);
    if (!s->has_last || s->bytes != s->total)
        return REASS_KEPT;
    if (s->hdr_len + s->total > IPV4_MAX_DGRAM) {
        r->st.drop_over_limit++;
        goto drop_dgram;
    }
    r->st.done++;
    finish(s, out_hdr, out_data);
    return REASS_DONE;
drop_dgram:
    if (s)
        slot_drop(r, s);
drop:
    return REASS_DROPPED;
}

/* ------------------------------------------------------------ timer */

void ipv4_reass_tick(struct ipv4_reass *r, uint64_t now, ipv4_reass_expired_fn fn,
                     void *ctx)
{
    for (uint32_t i = 0; i < r->nslots; i++) {
        struct ipv4_reass_slot *s = r->slots[i];
        if (s->state != SLOT_ASSEMBLING || now < s->created + r->timeout_ns)
            continue;
        r->st.timeout++;
        if (s->has_first) {
            struct view hv = view_of_mem(s->hdr, s->hdr_len);
            /* A first fragment is never final, so it holds at least 8 bytes. */
            struct view dv = view_of_mem(s->nb.data + REASS_HDR_ROOM, 8);
            r->st.timeout_first_held++;
            if (fn)
                fn(ctx, &hv, &dv, s->flags);
        }
        slot_drop(r, s);
    }
}

uint64_t ipv4_reass_deadline(const struct ipv4_reass *r)
{
    uint64_t d = UINT64_MAX;
    for (uint32_t i = 0; i < r->nslots; i++) {
        const struct ipv4_reass_slot *s = r->slots[i];
        if (s->state == SLOT_ASSEMBLING && s->created + r->timeout_ns < d)
            d = s->created + r->timeout_ns;
    }
    return d;
}

uint32_t ipv4_reass_in_progress(const struct ipv4_reass *r)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->nslots; i++)
        n += r->slots[i]->state == SLOT_ASSEMBLING;
    return n;
}

#define REASS_GAUGE_DESC(n) COUNTER_DESC(struct ipv4_reass_gauges, n)
const struct counter_table ipv4_reass_gauge_table =
    COUNTER_REGISTRY(REASS_GAUGES, REASS_GAUGE_DESC);

struct ipv4_reass_gauges ipv4_reass_gauges(const struct ipv4_reass *r)
{
    struct ipv4_reass_gauges g = {r->bytes_held, ipv4_reass_in_progress(r), r->max_bytes};
    return g;
}
