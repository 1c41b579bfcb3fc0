/* The DHCP client's life cycle, timers and transitions (see net/dhcp.h). The
 * timer side is here: dhcp_tick runs each state's next event (a transmission, a
 * retransmission with back-off, a probe, T1, T2, expiry); replies arrive in
 * dhcp_rx.c, which calls the transitions below. */
#include <stdlib.h>

#include "net/dhcp_impl.h"

/* ------------------------------------------------------------ randomness */

uint32_t dhcp_rand32(struct dhcp *d)
{
    if (d->cfg.random)
        return d->cfg.random(d->cfg.random_ctx);
    uint64_t x = d->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

uint64_t dhcp_rand_ns(struct dhcp *d, uint64_t span_ns)
{
    uint64_t ms = span_ns / 1000000u;
    return (dhcp_rand32(d) % (ms + 1)) * 1000000u;
}

uint64_t dhcp_backoff(struct dhcp *d, uint32_t tries)
{
    uint32_t shift = tries > 5 ? 4 : tries - 1;
    uint64_t base = DHCP_RETRANS_BASE_NS << shift;
    if (base > DHCP_RETRANS_MAX_NS)
        base = DHCP_RETRANS_MAX_NS;
    return base - DHCP_JITTER_NS + dhcp_rand_ns(d, 2 * DHCP_JITTER_NS);
}

static uint64_t seed_of(const struct net_stack *s, uint64_t seed)
{
    if (!seed) { /* different hosts and boots draw different xids */
        seed = plat_now_ns() * 0x9e3779b97f4a7c15ull;
        for (int i = 0; i < 6; i++)
            seed = (seed ^ s->eth.mac.b[i]) * 0x100000001b3ull;
    }
    return seed ? seed : 1; /* xorshift never leaves 0 */
}

/* ------------------------------------------------------------ transitions */

static const char *ifname(const struct dhcp *d)
{
    return d->s->nif->name ? d->s->nif->name : "net";
}

void dhcp_enter(struct dhcp *d, enum dhcp_state st)
{
    if (st == d->state)
        return;
    log_info("dhcp", "%s: %s -> %s", ifname(d), dhcp_state_name(d->state),
             dhcp_state_name(st));
    d->state = st;
    d->st.transitions++;
}

static bool holding(const struct dhcp *d)
{
    return d->state == DHCP_BOUND || d->state == DHCP_RENEWING ||
           d->state == DHCP_REBINDING;
}

static void configure(struct dhcp *d, const struct dhcp_lease *l)
{
    struct net_config c = {0};
    c.addr = l->addr;
    c.prefix_len = l->prefix_len;
    c.gateway = d->cfg.no_router ? (struct ipv4_addr){0} : l->router;
    net_configure(d->s, &c);
    uint16_t mtu = l->mtu && l->mtu < d->link_mtu ? l->mtu : d->link_mtu;
    if (d->s->ip.mtu != mtu)
        ipv4_set_mtu(&d->s->ip, mtu);
}

void dhcp_lose(struct dhcp *d)
{
    if (!holding(d))
        return;
    struct net_config none = {0};
    char a[IPV4_ADDR_STRLEN];
    log_info("dhcp", "%s: lease of %s gone", ifname(d), ipv4_addr_fmt(d->lease.addr, a));
    net_configure(d->s, &none);
    ipv4_set_mtu(&d->s->ip, d->link_mtu);
    memset(&d->lease, 0, sizeof d->lease);
    d->announce_at = UINT64_MAX;
}

/* A new exchange: a fresh xid (RFC 2131 4.1), secs counted from now. */
static void begin_exchange(struct dhcp *d, uint64_t now)
{
    d->xid = dhcp_rand32(d);
    d->exch_start = now;
    d->tries = 0;
}

/* Sends the state's message and arms the retransmission (the back-off). */
static void transmit(struct dhcp *d, uint8_t type, uint64_t now)
{
    if (d->tries++ > 0)
        d->st.retransmits++;
    dhcp_send(d, type, now);
    d->next = now + dhcp_backoff(d, d->tries);
}

static void discover(struct dhcp *d, uint64_t now)
{
    begin_exchange(d, now);
    dhcp_enter(d, DHCP_SELECTING);
    transmit(d, DHCP_DISCOVER, now);
}

void dhcp_restart(struct dhcp *d, uint64_t now, uint64_t delay_ns)
{
    dhcp_lose(d);
    memset(&d->cand, 0, sizeof d->cand);
    dhcp_enter(d, DHCP_INIT);
    d->next = now + delay_ns;
    if (delay_ns == 0)
        discover(d, now);
}

void dhcp_request_offer(struct dhcp *d, uint64_t now)
{
    dhcp_enter(d, DHCP_REQUESTING);
    d->tries = 0;
    d->cand.start = now; /* lease times count from the REQUEST (RFC 2131 4.4.1) */
    transmit(d, DHCP_REQUEST, now);
}

static void bind_lease(struct dhcp *d, uint64_t now)
{
    char a[IPV4_ADDR_STRLEN], r[IPV4_ADDR_STRLEN], sv[IPV4_ADDR_STRLEN];
    if (now >= d->cand.expiry) { /* the probe outlasted the lease: never use it */
        d->st.expired++;
        dhcp_restart(d, now, 0);
        return;
    }
    d->lease = d->cand;
    memset(&d->cand, 0, sizeof d->cand);
    configure(d, &d->lease);
    d->st.leases++;
    d->conflicts = 0;
    dhcp_enter(d, DHCP_BOUND);
    /* RFC 5227 2.3: net_configure announced once; the second follows. */
    d->announce_at = d->cfg.no_probe ? UINT64_MAX : now + DHCP_ANNOUNCE_INTERVAL_NS;
    log_info("dhcp", "%s: leased %s/%u router %s from %s for %u s", ifname(d),
             ipv4_addr_fmt(d->lease.addr, a), d->lease.prefix_len,
             ipv4_addr_fmt(d->lease.router, r), ipv4_addr_fmt(d->lease.server, sv),
             d->lease.lease_secs);
}

void dhcp_begin_probe(struct dhcp *d, uint64_t now)
{
    if (d->cfg.no_probe) {
        bind_lease(d, now);
        return;
    }
    dhcp_enter(d, DHCP_PROBING);
    d->probes_sent = 0;
    d->next = now + dhcp_rand_ns(d, DHCP_PROBE_WAIT_NS); /* RFC 5227 2.1.1 */
}

void dhcp_extend(struct dhcp *d, const struct dhcp_lease *l)
{
    bool changed = l->prefix_len != d->lease.prefix_len ||
                   !ipv4_addr_eq(l->router, d->lease.router) || l->mtu != d->lease.mtu;
    if (d->state == DHCP_RENEWING)
        d->st.renewals++;
    else
        d->st.rebinds++;
    d->lease = *l;
    if (changed)
        configure(d, l);
    dhcp_enter(d, DHCP_BOUND);
}

void dhcp_conflict(struct dhcp *d, uint64_t now)
{
    char a[IPV4_ADDR_STRLEN];
    d->st.conflicts++;
    d->conflicts++;
    log_warn("dhcp", "%s: %s is in use by another host: declined", ifname(d),
             ipv4_addr_fmt(d->cand.addr, a));
    dhcp_send(d, DHCP_DECLINE, now);
    /* RFC 2131 3.1.5 waits 10 s; RFC 5227 2.1.1 slows to one a minute after
     * MAX_CONFLICTS. */
    dhcp_restart(d, now,
                 d->conflicts >= DHCP_MAX_CONFLICTS ? DHCP_RATE_LIMIT_NS
                                                    : DHCP_DECLINE_WAIT_NS);
}

/* ------------------------------------------------------------ timers */

/* RFC 2131 4.4.5: half the time left until `until`, at least 60 s, never past it. */
static uint64_t renew_retry(uint64_t now, uint64_t until)
{
    uint64_t wait = (until - now) / 2;
    if (wait < DHCP_RENEW_MIN_NS)
        wait = DHCP_RENEW_MIN_NS;
    return until - now <= wait ? until : now + wait;
}

static void renew_exchange(struct dhcp *d, enum dhcp_state st, uint64_t now)
{
    dhcp_enter(d, st);
    begin_exchange(d, now);
    d->tries = 1;
    dhcp_send(d, DHCP_REQUEST, now);
}

static void lease_tick(struct dhcp *d, uint64_t now)
{
    const struct dhcp_lease *l = &d->lease;
    if (now >= l->expiry) {
        d->st.expired++;
        dhcp_restart(d, now, 0);
        return;
    }
    if (now >= l->t2 && d->state != DHCP_REBINDING) {
        renew_exchange(d, DHCP_REBINDING, now);
    } else if (now >= l->t1 && d->state == DHCP_BOUND) {
        renew_exchange(d, DHCP_RENEWING, now);
    } else if (d->state != DHCP_BOUND && now >= d->next) {
        d->tries++;
        d->st.retransmits++;
        dhcp_send(d, DHCP_REQUEST, now);
    } else {
        return;
    }
    d->next = renew_retry(now, d->state == DHCP_RENEWING ? l->t2 : l->expiry);
}

/* RFC 5227 2.1.1: PROBE_NUM probes PROBE_MIN..PROBE_MAX apart, then
 * ANNOUNCE_WAIT without a conflict, and the address is ours. */
static void probe_tick(struct dhcp *d, uint64_t now)
{
    if (d->probes_sent == DHCP_PROBE_NUM) {
        bind_lease(d, now);
        return;
    }
    if (arp_probe(&d->s->arp, d->cand.addr))
        d->st.probes++;
    else
        d->st.tx_errors++;
    d->probes_sent++;
    d->next = now + (d->probes_sent < DHCP_PROBE_NUM
                         ? DHCP_PROBE_MIN_NS +
                               dhcp_rand_ns(d, DHCP_PROBE_MAX_NS - DHCP_PROBE_MIN_NS)
                         : DHCP_ANNOUNCE_WAIT_NS);
}

/* REQUESTING and REBOOTING: the REQUEST again, or give up after the schedule. */
static void request_tick(struct dhcp *d, uint64_t now)
{
    if (d->tries < DHCP_REQUEST_TRIES) {
        transmit(d, DHCP_REQUEST, now);
        return;
    }
    d->st.timeouts++;
    log_info("dhcp", "%s: no answer to REQUEST", ifname(d));
    dhcp_restart(d, now, 0);
}

static void state_tick(struct dhcp *d, uint64_t now)
{
    if (holding(d)) {
        lease_tick(d, now);
        return;
    }
    if (now < d->next)
        return;
    switch (d->state) {
    case DHCP_INIT:
        discover(d, now);
        return;
    case DHCP_SELECTING:
        transmit(d, DHCP_DISCOVER, now);
        return;
    case DHCP_REQUESTING:
    case DHCP_REBOOTING:
        request_tick(d, now);
        return;
    case DHCP_INIT_REBOOT:
        begin_exchange(d, now);
        dhcp_enter(d, DHCP_REBOOTING);
        transmit(d, DHCP_REQUEST, now);
        return;
    case DHCP_PROBING:
        probe_tick(d, now);
        return;
    default:
        return;
    }
}

/* When the state's next event is due (the announcement aside). */
static uint64_t state_deadline(const struct dhcp *d)
{
    switch (d->state) {
    case DHCP_STOPPED:
        return UINT64_MAX;
    case DHCP_BOUND:
        return d->lease.t1;
    case DHCP_RENEWING:
        return d->next < d->lease.t2 ? d->next : d->lease.t2;
    case DHCP_REBINDING:
        return d->next < d->lease.expiry ? d->next : d->lease.expiry;
    default:
        return d->next;
    }
}

/* One event can make the next one due at once (a probe ends in a binding whose
 * T1 has passed, T2 and expiry passed together after a long stall): run until
 * nothing is due, so the timer never finds work it was not given a deadline
 * for. The state's events go first: a late announcement is only made for a
 * lease that is still held. Every pass moves the state or a deadline forward;
 * the bound is a guard. */
void dhcp_tick(struct dhcp *d, uint64_t now)
{
    for (int i = 0; i < 8; i++) {
        if (state_deadline(d) <= now) {
            state_tick(d, now);
        } else if (holding(d) && d->announce_at <= now) {
            d->announce_at = UINT64_MAX;
            arp_announce(&d->s->arp);
        } else {
            return;
        }
    }
}

uint64_t dhcp_next_deadline(const struct dhcp *d)
{
    uint64_t t = state_deadline(d);
    return holding(d) && d->announce_at < t ? d->announce_at : t;
}

void dhcp_armed(struct dhcp *d)
{
    uint64_t t = dhcp_next_deadline(d);
    if (t != UINT64_MAX)
        net_deadline_armed(&d->s->armed, t);
}

/* ------------------------------------------------------------ life cycle */

enum dhcp_err dhcp_start(struct net_stack *s, const struct dhcp_config *cfg)
{
    static const struct dhcp_config defaults;
    if (s->dhcp)
        return DHCP_EBUSY;
    struct dhcp *d = calloc(1, sizeof *d);
    if (!d)
        return DHCP_ENOMEM;
    if (udp_bind(&s->udp, DHCP_CLIENT_PORT, dhcp_udp_input, d) < 0) {
        free(d);
        return DHCP_EPORT;
    }
    d->s = s;
    d->cfg = cfg ? *cfg : defaults;
    d->rng = seed_of(s, d->cfg.seed);
    d->link_mtu = s->ip.mtu;
    d->announce_at = UINT64_MAX;
    s->dhcp = d;
    arp_set_watch(&s->arp, dhcp_arp_watch, d);
    if (!ipv4_addr_is_any(s->ip.addr)) { /* DHCP messages go from 0.0.0.0 */
        struct net_config none = {0};
        net_configure(s, &none);
    }
    uint64_t now = plat_now_ns();
    d->next = now;
    dhcp_enter(d, dhcp_addr_usable(d->cfg.requested) ? DHCP_INIT_REBOOT : DHCP_INIT);
    dhcp_tick(d, now);
    dhcp_armed(d);
    return DHCP_OK;
}

static void detach(struct net_stack *s)
{
    struct dhcp *d = s->dhcp;
    udp_unbind(&s->udp, DHCP_CLIENT_PORT);
    arp_set_watch(&s->arp, NULL, NULL);
    s->dhcp = NULL;
    free(d);
}

enum dhcp_err dhcp_stop(struct net_stack *s)
{
    struct dhcp *d = s->dhcp;
    if (!d)
        return DHCP_ENOTRUN;
    if (holding(d)) { /* RFC 2131 4.4.6 */
        dhcp_send(d, DHCP_RELEASE, plat_now_ns());
        d->st.released++;
        dhcp_lose(d);
    }
    dhcp_enter(d, DHCP_STOPPED);
    detach(s);
    return DHCP_OK;
}

void dhcp_destroy(struct net_stack *s)
{
    if (s->dhcp)
        detach(s);
}

enum dhcp_state dhcp_state(const struct net_stack *s)
{
    return s->dhcp ? s->dhcp->state : DHCP_STOPPED;
}

const struct dhcp_lease *dhcp_lease(const struct net_stack *s)
{
    return s->dhcp && holding(s->dhcp) ? &s->dhcp->lease : NULL;
}

const char *dhcp_state_name(enum dhcp_state st)
{
    static const char *const names[DHCP_NSTATES] = {
        "stopped", "init",     "selecting", "requesting",  "probing",
        "bound",   "renewing", "rebinding", "init-reboot", "rebooting"};
    return (unsigned)st < DHCP_NSTATES ? names[st] : "?";
}
