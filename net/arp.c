/* ARP cache and protocol (see net/arp.h). The table is a small array scanned
 * linearly; lookups try the last hit first, which is the common case of a host
 * talking to its peer or gateway. */
#include <stdio.h>
#include <stdlib.h>

#include "net/arp.h"
#include "net/wire/arp.h"

#define ARP_DESC(n) COUNTER_DESC(struct arp_stats, n)
const struct counter_table arp_counter_table = COUNTER_REGISTRY(ARP_COUNTERS, ARP_DESC);

static const struct eth_addr eth_bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct eth_addr eth_zero;

int arp_init(struct arp *a, struct eth *eth, uint32_t capacity)
{
    memset(a, 0, sizeof *a);
    a->eth = eth;
    a->cap = capacity ? capacity : ARP_DEFAULT_CAPACITY;
    a->tab = calloc(a->cap, sizeof *a->tab);
    return a->tab ? 0 : -1;
}

void arp_free(struct arp *a)
{
    arp_disconnect(a);
    free(a->tab);
    a->tab = NULL;
    a->cap = 0;
}

/* Builds and sends one ARP packet; eth_dst is where the frame goes. The caller
 * counts it when this returns true. */
static bool send_arp(struct arp *a, uint16_t op, const struct eth_addr *eth_dst,
                     const struct eth_addr *tha, struct ipv4_addr tpa)
{
    struct netbuf *b = eth_alloc(a->eth);
    if (!b) {
        a->st.tx_errors++;
        return false;
    }
    uint8_t *f = eth_frame(a->eth, b);
    struct eth_repr eh = {.dst = *eth_dst, .src = a->eth->mac, .type = ETH_TYPE_ARP};
    struct arp_repr r = {
        .op = op, .sha = a->eth->mac, .tha = *tha, .spa = a->ours, .tpa = tpa};
    eth_header_emit(&eh, f);
    arp_packet_emit(&r, f + ETH_HDR_LEN);
    if (eth_send(a->eth, b, ETH_HDR_LEN + ARP_PKT_LEN, NULL, 0) != NETIF_OK) {
        a->st.tx_errors++;
        return false;
    }
    return true;
}

static void send_request(struct arp *a, struct ipv4_addr ip)
{
    if (send_arp(a, ARP_OP_REQUEST, &eth_bcast, &eth_zero, ip))
        a->st.tx_request++;
}

void arp_set_addr(struct arp *a, struct ipv4_addr ours)
{
    a->ours = ours;
    if (!ipv4_addr_is_any(ours))
        arp_announce(a);
}

/* Gratuitous ARP: a broadcast request for our own address. */
void arp_announce(struct arp *a)
{
    if (a->disconnected || ipv4_addr_is_any(a->ours))
        return;
    if (send_arp(a, ARP_OP_REQUEST, &eth_bcast, &eth_zero, a->ours))
        a->st.tx_gratuitous++;
}

static struct arp_entry *find(struct arp *a, struct ipv4_addr ip)
{
    for (uint32_t i = 0; i < a->cap; i++)
        if (a->tab[i].state != ARP_FREE && a->tab[i].ip.be == ip.be)
            return &a->tab[i];
    return NULL;
}

static bool usable(const struct arp_entry *e, uint64_t now)
{
    return (e->state == ARP_RESOLVED && now < e->expires) || e->state == ARP_STATIC;
}

static void drop_queue(struct arp *a, struct arp_entry *e)
{
    for (int i = 0; i < e->nq; i++)
        netbuf_unref(e->q[i].b);
    a->st.queue_dropped += e->nq;
    a->nqueued -= e->nq;
    e->nq = 0;
}

static void free_entry(struct arp *a, struct arp_entry *e)
{
    drop_queue(a, e);
    waitq_wake_all(&e->waiters);
    memset(e, 0, sizeof *e);
    a->gen++;
}

/* Eviction order: a resolution nobody waits for (frames built on the RX path
 * only queue), the one started longest ago; then the least recently used
 * resolved entry; then a failed one. Unanswered resolutions go first: evicting
 * one costs only its queued frames, while keeping them lets anyone who sends
 * from addresses that never answer (spoofed sources) fill the table with them,
 * push out every host that does answer and lock those out. Entries with a
 * waiting writer and static entries stay. Lower is evicted first. */
static int evict_rank(const struct arp_entry *e)
{
    switch (e->state) {
    case ARP_PENDING:
        return e->waiters.head ? -1 : 0;
    case ARP_RESOLVED:
        return 1;
    case ARP_FAILED:
        return 2;
    default:
        return -1;
    }
}

/* A free slot, else the first victim in eviction order (LRU within a rank). */
static struct arp_entry *alloc_entry(struct arp *a)
{
    struct arp_entry *victim = NULL;
    int vrank = 0;
    for (uint32_t i = 0; i < a->cap; i++) {
        struct arp_entry *e = &a->tab[i];
        if (e->state == ARP_FREE)
            return e;
        int rank = evict_rank(e);
        if (rank < 0)
            continue;
        if (!victim || rank < vrank ||
            (rank == vrank && e->last_used < victim->last_used)) {
            victim = e;
            vrank = rank;
        }
    }
    if (!victim) {
        a->st.table_full++;
        return NULL;
    }
    a->st.evicted++;
    free_entry(a, victim);
    return victim;
}

static void send_queued(struct arp *a, struct arp_entry *e)
{
    for (int i = 0; i < e->nq; i++) {
        eth_set_dst(eth_frame(a->eth, e->q[i].b), &e->mac);
        if (eth_send(a->eth, e->q[i].b, e->q[i].len, NULL, 0) == NETIF_OK)
            a->st.queue_sent++;
    }
    a->nqueued -= e->nq;
    e->nq = 0;
}

static void mark_resolved(struct arp *a, struct arp_entry *e, const struct eth_addr *mac,
                          uint64_t now)
{
    e->mac = *mac;
    e->last_used = now;
    a->gen++;
    if (e->state != ARP_STATIC) {
        e->state = ARP_RESOLVED;
        e->expires = now + ARP_REACHABLE_NS;
        e->next_send = e->expires - ARP_REFRESH_BEFORE_NS;
    }
    e->tries = 0;
    send_queued(a, e);
    waitq_wake_all(&e->waiters);
}

/* RFC 826's merge: an existing entry for the sender is updated whatever the
 * packet; a sender asking us is learned. Then requests for us are answered. */
static void handle(struct arp *a, const struct arp_repr *r, uint64_t now)
{
    bool for_us = !ipv4_addr_is_any(a->ours) && ipv4_addr_eq(r->tpa, a->ours);
    struct arp_entry *e = ipv4_addr_is_any(r->spa) ? NULL : find(a, r->spa);
    if (e && e->state != ARP_STATIC) { /* static entries are not ARP's to change */
        a->st.updated++;
        mark_resolved(a, e, &r->sha, now);
    } else if (!e && for_us && !ipv4_addr_is_any(r->spa) &&
               (e = alloc_entry(a)) != NULL) {
        e->ip = r->spa;
        a->st.learned++;
        mark_resolved(a, e, &r->sha, now);
    }
    if (for_us && r->op == ARP_OP_REQUEST &&
        send_arp(a, ARP_OP_REPLY, &r->sha, &r->sha, r->spa))
        a->st.tx_reply++;
}

/* The counter each refusal of arp_packet_parse bumps. */
#define ARP_DROP(err, name) [ARP_WIRE_##err] = COUNTER_OFF(struct arp_stats, drop_##name),
static const uint16_t parse_drop[] = {ARP_WIRE_ERRORS(ARP_DROP)};

void arp_input(struct arp *a, struct view *v)
{
    struct arp_repr r;
    a->st.rx++;
    if (a->disconnected) {
        a->st.drop_disconnected++;
        goto drop;
    }
    enum arp_wire_err e = arp_packet_parse(v, &r);
    if (e != ARP_WIRE_OK) {
        counter_inc(&a->st, parse_drop[e]);
        goto drop;
    }
    if (r.op == ARP_OP_REQUEST)
        a->st.rx_request++;
    else if (r.op == ARP_OP_REPLY)
        a->st.rx_reply++;
    else {
        a->st.drop_bad_op++;
        goto drop;
    }
    /* A sender that names no station: multicast or broadcast, all zeros (a
     * reply would go nowhere, a learned entry would black-hole the address),
     * or ourselves. */
    if (eth_addr_is_mcast(&r.sha) || eth_addr_eq(&r.sha, &eth_zero) ||
        eth_addr_eq(&r.sha, &a->eth->mac) || ipv4_addr_is_bcast(r.spa) ||
        ipv4_addr_is_mcast(r.spa)) {
        a->st.drop_bad_sender++;
        goto drop;
    }
    if (!ipv4_addr_is_any(a->ours) && ipv4_addr_eq(r.spa, a->ours)) {
        char m[ETH_ADDR_STRLEN];
        a->st.addr_conflict++;
        log_warn("arp", "address conflict: %s claims our address",
                 eth_addr_fmt(&r.sha, m));
        goto drop;
    }
    handle(a, &r, plat_now_ns());
    return;
drop:
    log_debug("arp", "dropped a packet");
}

bool arp_lookup(struct arp *a, struct ipv4_addr ip, uint64_t now, struct eth_addr *mac)
{
    struct arp_entry *e = &a->tab[a->last_hit];
    if (e->ip.be != ip.be || !usable(e, now)) {
        e = find(a, ip);
        if (!e || !usable(e, now))
            return false;
        a->last_hit = (uint32_t)(e - a->tab);
    }
    e->last_used = now;
    if (e->state == ARP_RESOLVED && now >= e->next_send) {
        /* Refresh before expiry with a request to the address we know. */
        e->next_send = now + ARP_RETRY_NS;
        if (send_arp(a, ARP_OP_REQUEST, &e->mac, &eth_zero, e->ip))
            a->st.tx_request++;
    }
    e->handed = true;
    *mac = e->mac;
    return true;
}

static void start_pending(struct arp *a, struct arp_entry *e, uint64_t now)
{
    a->gen++;
    e->state = ARP_PENDING;
    e->tries = 1;
    e->last_used = now;
    e->next_send = now + ARP_RETRY_NS;
    a->st.resolve_started++;
    send_request(a, e->ip);
}

/* The entry for ip, starting a resolution when there is none (or it expired);
 * NULL when the table is full of pending/static entries. */
static struct arp_entry *get_entry(struct arp *a, struct ipv4_addr ip, uint64_t now)
{
    struct arp_entry *e = find(a, ip);
    if (e && !(e->state == ARP_RESOLVED && now >= e->expires))
        return e;
    if (!e) {
        e = alloc_entry(a);
        if (!e)
            return NULL;
        e->ip = ip;
    }
    start_pending(a, e, now);
    return e;
}

enum ipv4_err arp_resolve_wait(struct arp *a, struct ipv4_addr ip, struct eth_addr *mac)
{
    for (;;) {
        if (a->disconnected)
            return IPV4_EDISCONNECTED;
        uint64_t now = plat_now_ns();
        if (arp_lookup(a, ip, now, mac))
            return IPV4_OK;
        struct arp_entry *e = get_entry(a, ip, now);
        if (!e)
            return IPV4_ENOBUFS;
        if (e->state == ARP_FAILED)
            return IPV4_ENOROUTE;
        waitq_wait(&e->waiters, e->next_send);
        arp_tick(a, plat_now_ns());
    }
}

enum ipv4_err arp_queue(struct arp *a, struct ipv4_addr ip, struct netbuf *b,
                        uint32_t len)
{
    enum ipv4_err err = IPV4_ENOBUFS;
    uint64_t now = plat_now_ns();
    struct arp_entry *e = NULL;
    if (a->disconnected) {
        err = IPV4_EDISCONNECTED;
        goto drop;
    }
    e = get_entry(a, ip, now);
    if (!e)
        goto drop;
    if (usable(e, now)) {
        eth_set_dst(eth_frame(a->eth, b), &e->mac);
        eth_send(a->eth, b, len, NULL, 0);
        return IPV4_OK;
    }
    if (e->state == ARP_FAILED) {
        err = IPV4_ENOROUTE;
        goto drop;
    }
    if (e->nq == ARP_QUEUE_LEN || a->nqueued >= ARP_QUEUE_TOTAL)
        goto drop;
    e->q[e->nq].b = b;
    e->q[e->nq].len = len;
    e->nq++;
    a->nqueued++;
    a->st.queued++;
    return IPV4_OK;
drop:
    a->st.queue_dropped++;
    netbuf_unref(b);
    return err;
}

int arp_add_static(struct arp *a, struct ipv4_addr ip, const struct eth_addr *mac)
{
    struct arp_entry *e = find(a, ip);
    if (!e && !(e = alloc_entry(a)))
        return -1;
    e->ip = ip;
    e->state = ARP_STATIC;
    e->expires = e->next_send = UINT64_MAX;
    mark_resolved(a, e, mac, plat_now_ns());
    return 0;
}

void arp_remove(struct arp *a, struct ipv4_addr ip)
{
    struct arp_entry *e = find(a, ip);
    if (e)
        free_entry(a, e);
}

static void fail(struct arp *a, struct arp_entry *e, uint64_t now)
{
    char s[IPV4_ADDR_STRLEN];
    a->gen++;
    e->state = ARP_FAILED;
    e->expires = now + ARP_FAILED_HOLD_NS;
    a->st.resolve_failed++;
    log_info("arp", "no answer from %s", ipv4_addr_fmt(e->ip, s));
    drop_queue(a, e);
    waitq_wake_all(&e->waiters);
}

static void tick_entry(struct arp *a, struct arp_entry *e, uint64_t now)
{
    switch (e->state) {
    case ARP_PENDING:
        if (now < e->next_send)
            return;
        if (e->tries >= ARP_MAX_TRIES) {
            fail(a, e, now);
            return;
        }
        e->tries++;
        e->next_send = now + ARP_RETRY_NS;
        send_request(a, e->ip);
        return;
    case ARP_RESOLVED:
        if (now >= e->expires) {
            a->st.expired++;
            free_entry(a, e);
        } else if (e->handed && now >= e->next_send) {
            e->handed = false; /* caches let go: the next lookup refreshes */
            a->gen++;
        }
        return;
    case ARP_FAILED:
        if (now >= e->expires)
            free_entry(a, e);
        return;
    default:
        return;
    }
}

void arp_tick(struct arp *a, uint64_t now)
{
    for (uint32_t i = 0; i < a->cap; i++)
        tick_entry(a, &a->tab[i], now);
}

/* When an entry next needs the timer: a pending request, an expiry, or the refresh
 * point of a mapping that caches may hold. */
static uint64_t entry_deadline(const struct arp_entry *e)
{
    switch (e->state) {
    case ARP_PENDING:
        return e->next_send;
    case ARP_FAILED:
        return e->expires;
    case ARP_RESOLVED:
        return e->handed && e->next_send < e->expires ? e->next_send : e->expires;
    default:
        return UINT64_MAX;
    }
}

uint64_t arp_next_deadline(const struct arp *a)
{
    uint64_t d = UINT64_MAX;
    for (uint32_t i = 0; i < a->cap; i++) {
        uint64_t t = entry_deadline(&a->tab[i]);
        if (t < d)
            d = t;
    }
    return d;
}

void arp_disconnect(struct arp *a)
{
    a->disconnected = true;
    a->gen++;
    for (uint32_t i = 0; i < a->cap; i++) {
        drop_queue(a, &a->tab[i]);
        waitq_wake_all(&a->tab[i].waiters);
    }
}

const char *arp_state_name(enum arp_state s)
{
    static const char *const names[] = {"free", "pending", "resolved", "failed",
                                        "static"};
    return (unsigned)s < 5 ? names[s] : "?";
}

void arp_print(const struct arp *a, print_line_fn print, void *ctx)
{
    char line[96], ip[IPV4_ADDR_STRLEN], mac[ETH_ADDR_STRLEN];
    uint64_t now = plat_now_ns();
    print(ctx, "address          hwaddress          state     expires");
    for (uint32_t i = 0; i < a->cap; i++) {
        const struct arp_entry *e = &a->tab[i];
        if (e->state == ARP_FREE)
            continue;
        bool known = e->state == ARP_RESOLVED || e->state == ARP_STATIC;
        if (e->state == ARP_STATIC || e->expires <= now)
            snprintf(line, sizeof line, "%-16s %-18s %-9s -", ipv4_addr_fmt(e->ip, ip),
                     known ? eth_addr_fmt(&e->mac, mac) : "(incomplete)",
                     arp_state_name(e->state));
        else
            snprintf(line, sizeof line, "%-16s %-18s %-9s %llus",
                     ipv4_addr_fmt(e->ip, ip),
                     known ? eth_addr_fmt(&e->mac, mac) : "(incomplete)",
                     arp_state_name(e->state),
                     (unsigned long long)((e->expires - now) / 1000000000ull));
        print(ctx, line);
    }
}

#define ARP_GAUGE_DESC(n) COUNTER_DESC(struct arp_gauges, n)
const struct counter_table arp_gauge_table = COUNTER_REGISTRY(ARP_GAUGES, ARP_GAUGE_DESC);

struct arp_gauges arp_gauges(const struct arp *a)
{
    struct arp_gauges g = {0, 0, a->cap, 0};
    for (uint32_t i = 0; i < a->cap; i++) {
        g.entries += a->tab[i].state != ARP_FREE;
        g.pending += a->tab[i].state == ARP_PENDING;
        g.queue_frames += a->tab[i].nq;
    }
    return g;
}
