/* SACK (RFC 2018) on both sides. Sender: a scoreboard of the ranges the peer
 * holds above SND.UNA, RFC 6675's IsLost (as one point below which every unsacked
 * byte is lost: the property is monotone), SetPipe and the holes NextSeg
 * retransmits. Receiver: the blocks describing the out-of-order queue, the one
 * holding the most recent segment first. */
#include "net/tcp_int.h"

/* ------------------------------------------------------------ scoreboard */

static void recount(struct tcp_sb *sb)
{
    uint32_t n = 0;
    for (int i = 0; i < sb->n; i++)
        n += sb->b[i].end - sb->b[i].start;
    sb->sacked = n;
}

/* Merges [s, e) into the sorted, disjoint ranges; the highest range is dropped
 * when the board is full (the lowest ones matter to recovery). */
static void sb_add(struct tcp_sb *sb, uint32_t s, uint32_t e)
{
    struct tcp_sack_block out[TCP_SB_MAX + 1];
    int k = 0, i = 0;
    while (i < sb->n && seq_lt(sb->b[i].end, s))
        out[k++] = sb->b[i++];
    while (i < sb->n && seq_leq(sb->b[i].start, e)) {
        s = seq_min(s, sb->b[i].start);
        e = seq_max(e, sb->b[i].end);
        i++;
    }
    out[k++] = (struct tcp_sack_block){s, e};
    while (i < sb->n && k < TCP_SB_MAX)
        out[k++] = sb->b[i++];
    if (k > TCP_SB_MAX)
        k = TCP_SB_MAX;
    memcpy(sb->b, out, (size_t)k * sizeof out[0]);
    sb->n = (uint8_t)k;
}

void tcp_sb_update(struct tcp_pcb *p, const struct tcp_opts *o)
{
    bool changed = false;
    for (int i = 0; i < o->nsack; i++) {
        uint32_t s = o->sack[i].start, e = o->sack[i].end;
        /* RFC 2018 / 2883: blocks at or below SND.UNA (D-SACK) or beyond what was
         * sent carry nothing for the scoreboard. */
        if (!seq_lt(s, e) || seq_gt(e, p->snd_nxt) || seq_leq(e, p->snd_una))
            continue;
        if (seq_lt(s, p->snd_una))
            s = p->snd_una;
        sb_add(&p->sb, s, e);
        changed = true;
    }
    if (changed)
        recount(&p->sb);
}

void tcp_sb_trim(struct tcp_pcb *p)
{
    struct tcp_sb *sb = &p->sb;
    if (!sb->n)
        return;
    int k = 0;
    for (int i = 0; i < sb->n; i++) {
        if (seq_leq(sb->b[i].end, p->snd_una))
            continue;
        sb->b[k] = sb->b[i];
        if (seq_lt(sb->b[k].start, p->snd_una))
            sb->b[k].start = p->snd_una;
        k++;
    }
    sb->n = (uint8_t)k;
    recount(sb);
}

uint32_t tcp_sb_unsacked(const struct tcp_pcb *p, uint32_t a, uint32_t b)
{
    if (!seq_lt(a, b))
        return 0;
    uint32_t n = b - a;
    for (int i = 0; i < p->sb.n; i++) {
        uint32_t s = seq_max(p->sb.b[i].start, a), e = seq_min(p->sb.b[i].end, b);
        if (seq_lt(s, e))
            n -= e - s;
    }
    return n;
}

uint32_t tcp_sb_lost_point(const struct tcp_pcb *p)
{
    uint32_t bytes = 0, segs = 0, mss = p->mss;
    for (int i = p->sb.n - 1; i >= 0; i--) {
        uint32_t len = p->sb.b[i].end - p->sb.b[i].start;
        bytes += len;
        segs += (len + mss - 1) / mss;
        if (segs >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * mss)
            return p->sb.b[i].start;
    }
    return p->snd_una;
}

bool tcp_sb_next_hole(const struct tcp_pcb *p, uint32_t from, uint32_t limit,
                      uint32_t max, uint32_t *s, uint32_t *e)
{
    uint32_t a = from, stop = limit;
    for (int i = 0; i < p->sb.n; i++) {
        const struct tcp_sack_block *b = &p->sb.b[i];
        if (seq_leq(b->end, a))
            continue;
        if (seq_leq(b->start, a)) {
            a = b->end;
            continue;
        }
        stop = seq_min(b->start, limit);
        break;
    }
    if (!seq_lt(a, stop))
        return false;
    *s = a;
    *e = seq_lt(a + max, stop) ? a + max : stop;
    return true;
}

uint32_t tcp_pipe(const struct tcp_pcb *p)
{
    if (p->recovery == TCP_REC_NONE || (p->recovery == TCP_REC_FAST && !p->sack_ok))
        return tcp_flight(p);
    uint32_t lost = seq_min(seq_max(p->lost_end, p->snd_una), p->snd_nxt);
    uint32_t rtx = seq_min(seq_max(p->rtx_nxt, p->snd_una), p->snd_nxt);
    return tcp_sb_unsacked(p, lost, p->snd_nxt) + tcp_sb_unsacked(p, p->snd_una, rtx);
}

/* ------------------------------------------------------------ receiver side */

void tcp_sack_blocks(const struct tcp_pcb *p, struct tcp_opts *o, int max)
{
    struct tcp_sack_block all[TCP_OOO_MAX];
    int n = 0, first = -1;
    for (const struct tcp_rseg *r = p->ooo; r; r = r->next) {
        uint32_t e = r->seq + r->v.len;
        if (n && all[n - 1].end == r->seq)
            all[n - 1].end = e;
        else
            all[n++] = (struct tcp_sack_block){r->seq, e};
        if (first < 0 && seq_geq(p->ooo_last, all[n - 1].start) &&
            seq_lt(p->ooo_last, all[n - 1].end))
            first = n - 1;
    }
    if (n == 0)
        return;
    if (first < 0)
        first = n - 1;
    int k = 0;
    o->sack[k++] = all[first];
    for (int i = 0; i < n && k < max; i++)
        if (i != first)
            o->sack[k++] = all[i];
    o->nsack = (uint8_t)k;
    o->present |= TCP_OPTF_SACK;
}
