/* TCP's buffers (see net/tcp_int.h). Heap memory comes in chunks of
 * TCP_CHUNK_BYTES that are netbufs, so a frame in flight that points into the send
 * queue (scatter-gather) keeps its chunk alive after the data is acknowledged; the
 * total is capped (mem_max) and a few spare chunks are kept for reuse.
 * Received segments stay views of their RX buffer (no copy) while few RX buffers
 * are held in all (rx_pinned_max: the RX ring must never run dry); short
 * segments, reassembled datagrams and everything beyond that cap are copied into
 * chunks, short ones appended to the previous chunk. */
#include <stdlib.h>

#include "net/tcp_int.h"

/* ------------------------------------------------------------ chunks */

__attribute__((always_inline)) static inline void chunk_release_inl(struct netbuf *b)
{
    struct tcp_chunk *c = (struct tcp_chunk *)b;
    struct tcp *t = b->owner;
    t->mem_used -= TCP_CHUNK_BYTES;
    if (t->nfree_chunks < TCP_FREE_CHUNKS && !t->destroying) {
        c->next = t->free_chunks;
        t->free_chunks = c;
        t->nfree_chunks++;
    } else {
        free(c);
    }
    if (t->mem_wait.head)
        waitq_wake_all(&t->mem_wait);
}

static void chunk_release(struct netbuf *b)
{
    chunk_release_inl(b);
}

struct tcp_chunk *tcp_chunk_alloc(struct tcp *t)
{
    struct tcp_chunk *c;
    if (t->mem_used + TCP_CHUNK_BYTES > t->cfg.mem_max) {
        t->st.mem_fail++;
        return NULL;
    }
    if (t->free_chunks) {
        c = t->free_chunks;
        t->free_chunks = c->next;
        t->nfree_chunks--;
    } else if (!(c = malloc(sizeof *c))) {
        t->st.mem_fail++;
        return NULL;
    }
    c->nb.data = c->data;
    c->nb.cap = TCP_CHUNK_BYTES;
    c->nb.refs = 1;
    c->nb.release = chunk_release;
    c->nb.owner = t;
    c->nb.tag = 0;
    c->next = NULL;
    c->seq = 0;
    c->len = 0;
    t->mem_used += TCP_CHUNK_BYTES;
    return c;
}

void tcp_chunk_put(struct tcp_chunk *c)
{
    netbuf_unref(&c->nb);
}

/* ------------------------------------------------------------ send queue */

uint32_t tcp_sndq_append_slow(struct tcp_pcb *p, const struct view *vs, int n)
{
    struct tcp_sndq *q = &p->sq;
    uint32_t queued = p->snd_end - p->snd_una;
    uint32_t room = queued < p->snd_cap ? p->snd_cap - queued : 0;
    struct tcp_chunk *tail = q->tail;
    if (n == 1 && tail && vs->len <= room && vs->len <= TCP_CHUNK_BYTES - tail->len) {
        memcpy(tail->data + tail->len, view_data(vs), vs->len); /* the common case */
        tail->len += vs->len;
        p->snd_end += vs->len;
        return vs->len;
    }
    uint32_t took = 0;
    for (int i = 0; i < n && room > 0; i++) {
        const uint8_t *src = view_data(&vs[i]);
        uint32_t left = vs[i].len;
        while (left > 0 && room > 0) {
            struct tcp_chunk *c = q->tail;
            if (!c || c->len == TCP_CHUNK_BYTES) {
                if (!(c = tcp_chunk_get(p->t)))
                    goto out;
                c->seq = p->snd_end;
                if (q->tail)
                    q->tail->next = c;
                else
                    q->head = c;
                q->tail = c;
                if (!q->cur)
                    q->cur = c;
            }
            uint32_t k = u32_min(u32_min(left, room), TCP_CHUNK_BYTES - c->len);
            memcpy(c->data + c->len, src, k);
            c->len += k;
            src += k;
            left -= k;
            room -= k;
            took += k;
            p->snd_end += k;
        }
    }
out:
    return took;
}

void tcp_sndq_ack_slow(struct tcp_pcb *p)
{
    struct tcp_sndq *q = &p->sq;
    while (q->head && seq_leq(q->head->seq + q->head->len, p->snd_una)) {
        struct tcp_chunk *c = q->head;
        if (q->tail == c && p->snd_una == p->snd_end && !p->fin_sent) {
            /* All acknowledged: keep the tail to append to, from its start
             * again unless a frame still points into it. */
            if (c->nb.refs == 1) {
                c->seq = p->snd_end;
                c->len = 0;
            }
            if (c->len < TCP_CHUNK_BYTES)
                break;
        }
        q->head = c->next;
        if (q->cur == c)
            q->cur = c->next;
        if (!q->head)
            q->tail = NULL;
        tcp_chunk_put(c);
    }
}

void tcp_sndq_free_slow(struct tcp_pcb *p)
{
    struct tcp_chunk *c = p->sq.head;
    while (c) {
        struct tcp_chunk *n = c->next;
        if (c->nb.refs == 1) { /* no frame holds it: chunk_release without the call */
            c->nb.refs = 0;
            chunk_release_inl(&c->nb);
        } else {
            tcp_chunk_put(c);
        }
        c = n;
    }
    p->sq = (struct tcp_sndq){0};
}

static struct tcp_chunk *find_chunk(struct tcp_pcb *p, uint32_t seq)
{
    struct tcp_chunk *c = p->sq.cur;
    if (c && seq_geq(seq, c->seq) && seq_lt(seq, c->seq + c->len))
        return c;
    for (c = p->sq.head; c; c = c->next)
        if (seq_geq(seq, c->seq) && seq_lt(seq, c->seq + c->len))
            return c;
    return NULL;
}

uint32_t tcp_sndq_views(struct tcp_pcb *p, uint32_t seq, uint32_t len, struct view *vs,
                        int max, int *n)
{
    struct tcp_chunk *c = find_chunk(p, seq);
    uint32_t got = 0;
    int k = 0;
    while (c && got < len && k < max) {
        uint32_t off = seq + got - c->seq;
        uint32_t take = u32_min(c->len - off, len - got);
        vs[k] = (struct view){c->data, &c->nb, off, take};
        netbuf_ref(&c->nb);
        k++;
        got += take;
        if (off + take == c->len)
            c = c->next;
    }
    if (c)
        p->sq.cur = c;
    *n = k;
    return got;
}

uint32_t tcp_sndq_copy(struct tcp_pcb *p, uint32_t seq, uint32_t len, uint8_t *dst)
{
    struct tcp_chunk *c = p->sq.cur;
    if (c && seq_geq(seq, c->seq) && seq_leq(seq + len, c->seq + c->len)) {
        memcpy(dst, c->data + (seq - c->seq), len); /* one chunk: the common case */
        return len;
    }
    c = find_chunk(p, seq);
    uint32_t done = 0;
    while (c && done < len) {
        uint32_t off = seq + done - c->seq, take = u32_min(c->len - off, len - done);
        memcpy(dst + done, c->data + off, take);
        done += take;
        if (off + take == c->len)
            c = c->next;
    }
    if (c)
        p->sq.cur = c;
    return done;
}

void tcp_views_unref(struct view *vs, int n)
{
    for (int i = 0; i < n; i++)
        netbuf_unref(vs[i].buf);
}

/* ------------------------------------------------------------ received data */

struct tcp_rseg *tcp_rseg_alloc(struct tcp *t)
{
    struct tcp_rseg *r = malloc(sizeof *r);
    if (!r) {
        t->st.mem_fail++;
        return NULL;
    }
    r->next = NULL;
    r->pinned = false;
    return r;
}

void tcp_rseg_free_slow(struct tcp *t, struct tcp_rseg *r)
{
    (void)t;
    free(r);
}

/* d as a chain of segments [*first, *last] (one pinned, or copies of up to a
 * chunk each); returns the bytes covered (fewer when memory runs out). */
static uint32_t make_rsegs(struct tcp_pcb *p, const struct tcp_seg *s, uint32_t seq,
                           const struct view *d, struct tcp_rseg **first,
                           struct tcp_rseg **last)
{
    struct tcp *t = p->t;
    *first = *last = NULL;
    if (tcp_can_pin(t, s, d)) {
        struct tcp_rseg *r = tcp_rseg_get(t);
        if (!r)
            return 0;
        r->seq = seq;
        r->v = *d;
        view_ref(d);
        r->pinned = true;
        t->rx_pinned++;
        t->st.rx_pinned++;
        *first = *last = r;
        return d->len;
    }
    uint32_t done = 0;
    while (done < d->len) {
        struct tcp_chunk *c = tcp_chunk_get(t);
        struct tcp_rseg *r = c ? tcp_rseg_get(t) : NULL;
        if (!r) {
            if (c)
                tcp_chunk_put(c);
            break;
        }
        uint32_t k = u32_min(d->len - done, TCP_CHUNK_BYTES);
        memcpy(c->data, view_data(d) + done, k);
        c->len = k;
        r->seq = seq + done;
        r->v = (struct view){c->data, &c->nb, 0, k};
        if (*last)
            (*last)->next = r;
        else
            *first = r;
        *last = r;
        done += k;
    }
    return done;
}

/* Short data into the room left in the last copied segment (no new chunk). */
static uint32_t append_to_tail(struct tcp_pcb *p, const struct tcp_seg *s,
                               const struct view *d)
{
    struct tcp_rseg *r = p->rq.tail;
    if (!r || r->pinned || tcp_can_pin(p->t, s, d))
        return 0;
    struct tcp_chunk *c = (struct tcp_chunk *)r->v.buf;
    if (r->v.off + r->v.len != c->len || c->len == TCP_CHUNK_BYTES)
        return 0;
    uint32_t k = u32_min(d->len, TCP_CHUNK_BYTES - c->len);
    memcpy(c->data + c->len, view_data(d), k);
    c->len += k;
    r->v.len += k;
    return k;
}

static void rq_link(struct tcp_rq *q, struct tcp_rseg *first, struct tcp_rseg *last)
{
    if (q->tail)
        q->tail->next = first;
    else
        q->head = first;
    q->tail = last;
    last->next = NULL;
}

bool tcp_rq_append_slow(struct tcp_pcb *p, const struct tcp_seg *s, const struct view *d)
{
    struct tcp *t = p->t;
    struct tcp_rseg *r;
    if (tcp_can_pin(t, s, d) && (r = tcp_rseg_get(t)) != NULL) { /* the common case */
        tcp_rq_pin(p, r, d);
        return true;
    }
    uint32_t k = append_to_tail(p, s, d);
    p->rq.bytes += k;
    p->rcv_nxt += k;
    if (k == d->len) {
        p->t->st.rx_copied++;
        return true;
    }
    struct view rest = *d;
    rest.off += k;
    rest.len -= k;
    struct tcp_rseg *first, *last;
    uint32_t got = make_rsegs(p, s, p->rcv_nxt, &rest, &first, &last);
    if (first)
        rq_link(&p->rq, first, last);
    if (k || (first && !first->pinned))
        p->t->st.rx_copied++;
    p->rq.bytes += got;
    p->rcv_nxt += got;
    return got == rest.len;
}

bool tcp_ooo_insert(struct tcp_pcb *p, const struct tcp_seg *s, uint32_t seq,
                    const struct view *d)
{
    struct tcp *t = p->t;
    struct view v = *d;
    uint32_t end = seq + v.len;
    struct tcp_rseg **pp = &p->ooo, *prev = NULL;
    while (*pp && seq_leq((*pp)->seq, seq)) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (prev) {
        uint32_t pend = prev->seq + prev->v.len;
        if (seq_geq(pend, end))
            return true; /* nothing new */
        if (seq_gt(pend, seq)) {
            view_shift(&v, pend - seq);
            seq = pend;
        }
    }
    while (*pp && seq_leq((*pp)->seq + (*pp)->v.len, end)) { /* covered entirely */
        struct tcp_rseg *r = *pp;
        *pp = r->next;
        p->ooo_bytes -= r->v.len;
        p->nooo--;
        tcp_rseg_put(t, r);
    }
    if (*pp && seq_lt((*pp)->seq, end))
        view_truncate(&v, (*pp)->seq - seq);
    if (v.len == 0)
        return true;
    if (p->nooo >= TCP_OOO_MAX) {
        t->st.drop_ooo_full++;
        return false;
    }
    struct tcp_rseg *first, *last;
    uint32_t got = make_rsegs(p, s, seq, &v, &first, &last);
    if (!first)
        return false;
    last->next = *pp;
    *pp = first;
    for (struct tcp_rseg *r = first;; r = r->next) {
        p->nooo++;
        if (r == last)
            break;
    }
    p->ooo_bytes += got;
    p->ooo_last = seq;
    if (!first->pinned)
        t->st.rx_copied++;
    t->st.rx_ooo++;
    return got == v.len;
}

void tcp_ooo_drain(struct tcp_pcb *p)
{
    while (p->ooo && seq_leq(p->ooo->seq, p->rcv_nxt)) {
        struct tcp_rseg *r = p->ooo;
        p->ooo = r->next;
        p->ooo_bytes -= r->v.len;
        p->nooo--;
        uint32_t end = r->seq + r->v.len;
        if (seq_leq(end, p->rcv_nxt)) {
            tcp_rseg_put(p->t, r);
            continue;
        }
        if (seq_lt(r->seq, p->rcv_nxt)) {
            view_shift(&r->v, p->rcv_nxt - r->seq);
            r->seq = p->rcv_nxt;
        }
        rq_link(&p->rq, r, r);
        p->rq.bytes += r->v.len;
        p->rcv_nxt = end;
    }
}

static void free_list(struct tcp *t, struct tcp_rseg *r)
{
    while (r) {
        struct tcp_rseg *n = r->next;
        tcp_rseg_put(t, r);
        r = n;
    }
}

void tcp_ooo_free_slow(struct tcp_pcb *p)
{
    free_list(p->t, p->ooo);
    p->ooo = NULL;
    p->ooo_bytes = 0;
    p->nooo = 0;
    p->fin_ooo = false;
}

void tcp_rcv_free_slow(struct tcp_pcb *p)
{
    if (p->rq.head) {
        free_list(p->t, p->rq.head);
        p->rq = (struct tcp_rq){0};
    }
    tcp_ooo_free(p);
}
