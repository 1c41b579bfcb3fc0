/* The simulated link (see tests/unit/sim_link.h). */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/net_fixtures.h"
#include "tests/unit/sim_link.h"

uint64_t sim_rand(struct sim *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static bool chance(struct sim *s, uint32_t ppm)
{
    return ppm && sim_rand(s) % 1000000 < ppm;
}

/* ------------------------------------------------------------ frame heap */

static bool before(const struct sim_frame *a, const struct sim_frame *b)
{
    return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void heap_push(struct sim *s, struct sim_frame *f)
{
    KCHECK(s->n < SIM_MAX_FRAMES);
    int i = s->n++;
    s->heap[i] = f;
    while (i > 0 && before(s->heap[i], s->heap[(i - 1) / 2])) {
        struct sim_frame *t = s->heap[i];
        s->heap[i] = s->heap[(i - 1) / 2];
        s->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct sim_frame *heap_pop(struct sim *s)
{
    struct sim_frame *top = s->heap[0];
    s->heap[0] = s->heap[--s->n];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n && before(s->heap[l], s->heap[m]))
            m = l;
        if (r < s->n && before(s->heap[r], s->heap[m]))
            m = r;
        if (m == i)
            break;
        struct sim_frame *t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
    return top;
}

/* ------------------------------------------------------------ the wire */

static void enqueue(struct sim *s, int to, const uint8_t *frame, uint32_t len,
                    uint64_t at)
{
    struct sim_frame *f = malloc(sizeof *f);
    KCHECK(f && len <= SIM_FRAME_MAX);
    f->at = at;
    f->order = s->order++;
    f->to = to;
    f->len = len;
    memcpy(f->data, frame, len);
    s->side[1 - to].queued++;
    heap_push(s, f);
    waitq_wake_one(&s->wq);
}

/* ICMP fragmentation needed about frame (from side `from`), back to its sender. */
static void frag_needed(struct sim *s, int from, const uint8_t *frame, uint64_t at)
{
    uint8_t out[14 + 20 + 8 + 28], icmp[8 + 28];
    const uint8_t *ip = frame + 14;
    struct ipv4_addr src = ipv4_addr_load(ip + 12);
    size_t il = fx_icmp(icmp, 3, 4, s->mtu, ip, 28);
    struct eth_addr to = s->side[from].mac, router = {{0x02, 0, 0, 0, 0, 0xfe}};
    size_t n = fx_eth(out, &to, &router, 0x0800);
    n += fx_ipv4(out + n, ipv4_addr_make(10, 0, 0, 254), src, 1, 0, 0, 64, (uint16_t)il);
    memcpy(out + n, icmp, il);
    enqueue(s, from, out, (uint32_t)(n + il), at);
}

static void transmit(struct sim *s, int from, const uint8_t *frame, uint32_t len)
{
    struct sim_side *sd = &s->side[from];
    uint64_t now = plat_now_ns();
    sd->sent++;
    if (s->p.queue_frames && sd->queued >= s->p.queue_frames) {
        sd->tail_drops++;
        return;
    }
    uint64_t start = sd->busy_until > now ? sd->busy_until : now;
    uint64_t ser = s->p.rate_bps ? (uint64_t)len * 8 * 1000000000ull / s->p.rate_bps : 0;
    sd->busy_until = start + ser;
    uint64_t at = start + ser + s->p.delay_ns;
    if (len >= 14 + 20 && net_rd16(frame + 12) == 0x0800 &&
        net_rd16(frame + 14 + 2) > s->mtu) {
        sd->too_big++;
        frag_needed(s, from, frame, at);
        return;
    }
    if (chance(s, s->p.loss_ppm)) {
        sd->lost++;
        return;
    }
    if (chance(s, s->p.reorder_ppm)) {
        sd->reordered++;
        at += s->p.reorder_ns;
    }
    enqueue(s, 1 - from, frame, len, at);
    if (chance(s, s->p.dup_ppm)) {
        sd->dups++;
        enqueue(s, 1 - from, frame, len, at + 1000);
    }
}

/* ------------------------------------------------------------ netifs */

static void sim_tx_release(struct netbuf *b)
{
    struct sim_side *sd = b->owner;
    sd->tx_live--;
    free(b->data);
    free(b);
}

static struct netbuf *sim_tx_alloc(struct netif *nif)
{
    struct sim_side *sd = nif->drv;
    struct netbuf *b = calloc(1, sizeof *b);
    KCHECK(b);
    b->cap = 16 + NETIF_TX_BUF_BYTES;
    b->data = malloc(b->cap);
    KCHECK(b->data);
    b->refs = 1;
    b->release = sim_tx_release;
    b->owner = sd;
    sd->tx_live++;
    return b;
}

static struct sim *sim_of(struct sim_side *sd, int *idx);

static enum netif_err sim_tx_send(struct netif *nif, struct netbuf *b, uint32_t len,
                                  const struct netbuf_seg *extra, int nextra)
{
    struct sim_side *sd = nif->drv;
    int from;
    struct sim *s = sim_of(sd, &from);
    uint8_t frame[SIM_FRAME_MAX];
    uint32_t total = len;
    KCHECK(len <= NETIF_TX_BUF_BYTES && nextra <= nif->max_segs);
    memcpy(frame, b->data + nif->tx_headroom, len);
    for (int i = 0; i < nextra; i++) {
        KCHECK(total + extra[i].len <= SIM_FRAME_MAX);
        memcpy(frame + total, extra[i].p, extra[i].len);
        total += extra[i].len;
    }
    netbuf_unref(b);
    transmit(s, from, frame, total);
    return NETIF_OK;
}

static const struct netif_ops sim_ops = {sim_tx_alloc, sim_tx_send};

static struct sim *the_sim;

static struct sim *sim_of(struct sim_side *sd, int *idx)
{
    *idx = sd == &the_sim->side[0] ? 0 : 1;
    return the_sim;
}

static void sim_rx_release(struct netbuf *b)
{
    the_sim->rx_live--;
    free(b->data);
    free(b);
}

static void deliver(struct sim *s, struct sim_frame *f)
{
    struct sim_side *sd = &s->side[f->to];
    s->side[1 - f->to].queued--;
    struct netbuf *b = calloc(1, sizeof *b);
    KCHECK(b);
    b->cap = f->len + 16;
    b->data = malloc(b->cap);
    KCHECK(b->data);
    memcpy(b->data + 16, f->data, f->len);
    b->refs = 1;
    b->release = sim_rx_release;
    b->owner = s;
    s->rx_live++;
    s->delivered++;
    sd->nif.input(&sd->nif, b, 16, f->len);
    free(f);
}

static void on_deadline(void *ctx, uint64_t deadline)
{
    struct sim *s = ctx;
    (void)deadline;
    waitq_wake_one(&s->wq);
}

void sim_init(struct sim *s, const struct sim_params *p, const uint16_t mtu[2],
              const struct tcp_config *tcfg)
{
    static const char *names[2] = {"simA", "simB"};
    memset(s, 0, sizeof *s);
    the_sim = s;
    s->p = *p;
    s->rng = p->seed ? p->seed : 1;
    s->mtu = 9000;
    for (int i = 0; i < 2; i++) {
        struct sim_side *sd = &s->side[i];
        sd->mac = (struct eth_addr){{0x02, 0, 0, 0, 0, (uint8_t)(i + 1)}};
        sd->nif.ops = &sim_ops;
        sd->nif.drv = sd;
        memcpy(sd->nif.mac, sd->mac.b, 6);
        sd->nif.mtu = mtu[i];
        sd->nif.link_up = true;
        sd->nif.tx_headroom = 16;
        sd->nif.max_segs = 4;
        sd->nif.name = names[i];
        struct net_config cfg = {0};
        KCHECK(net_config_parse(i ? "10.0.0.2/24" : "10.0.0.1/24", NULL, &cfg) == 0);
        if (tcfg)
            cfg.tcp = *tcfg;
        for (int k = 0; k < 16; k++)
            cfg.tcp.secret[k] = (uint8_t)(k + 31 * i + p->seed);
        sd->st = net_stack_create(&sd->nif, &cfg);
        KCHECK(sd->st);
        net_set_deadline_hook(sd->st, on_deadline, s);
    }
    for (int i = 0; i < 2; i++)
        KCHECK(arp_add_static(&s->side[i].st->arp,
                              ipv4_addr_make(10, 0, 0, (uint8_t)(2 - i)),
                              &s->side[1 - i].mac) == 0);
}

void sim_run(void *arg)
{
    struct sim *s = arg;
    for (;;) {
        uint64_t now = plat_now_ns();
        while (s->n && s->heap[0]->at <= now)
            deliver(s, heap_pop(s));
        uint64_t next = UINT64_MAX;
        for (int i = 0; i < 2; i++) {
            struct net_stack *st = s->side[i].st;
            if (net_next_deadline(st) <= now)
                net_tick(st, now);
            uint64_t d = net_next_deadline(st);
            next = d < next ? d : next;
        }
        if (s->stop && now >= s->stop_at)
            return;
        if (s->n && s->heap[0]->at < next)
            next = s->heap[0]->at;
        if (s->stop && s->stop_at < next)
            next = s->stop_at;
        if (next > now)
            waitq_wait(&s->wq, next);
    }
}

void sim_stop(struct sim *s, uint64_t at)
{
    s->stop = true;
    s->stop_at = at;
    waitq_wake_one(&s->wq);
}

void sim_free(struct sim *s)
{
    while (s->n)
        free(heap_pop(s));
    for (int i = 0; i < 2; i++) {
        net_stack_destroy(s->side[i].st);
        s->side[i].st = NULL;
    }
}
