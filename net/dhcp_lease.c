/* DHCP leases: what an ACK gives (address, prefix, router, DNS, MTU, and the
 * T1/T2/expiry times, RFC 2131 4.4.5), and how the console shows them and the
 * counters (see net/dhcp.h). */
#include <inttypes.h>
#include <stdio.h>

#include "net/dhcp_impl.h"

#define DHCP_DESC(n) COUNTER_DESC(struct dhcp_stats, n)
const struct counter_table dhcp_counter_table =
    COUNTER_REGISTRY(DHCP_COUNTERS, DHCP_DESC);

bool dhcp_addr_usable(struct ipv4_addr a)
{
    uint32_t o1 = ipv4_addr_host(a) >> 24;
    return o1 != 0 && o1 != 127 && o1 < 224;
}

/* The subnet mask option when it is a contiguous, non-empty mask; otherwise the
 * address's class, as RFC 1122 3.3.1.1 falls back to (and as dhclient does). */
static uint8_t prefix_of(const struct dhcp_repr *r)
{
    uint32_t m = ipv4_addr_host(r->subnet_mask), o1 = ipv4_addr_host(r->yiaddr) >> 24;
    if ((r->present & DHCP_HAS_SUBNET_MASK) && m != 0 && ((~m + 1) & ~m) == 0)
        return (uint8_t)__builtin_popcount(m);
    return o1 < 128 ? 8 : o1 < 192 ? 16 : 24;
}

/* T1 and T2 from the server when they are in order (T1 <= T2 < lease), else
 * RFC 2131 4.4.5's defaults: half and seven eighths of the lease. */
static void timers(struct dhcp_lease *l, const struct dhcp_repr *r, uint64_t start)
{
    uint32_t L = l->lease_secs;
    l->start = start;
    if (L == DHCP_INFINITE) {
        l->t1_secs = l->t2_secs = DHCP_INFINITE;
        l->t1 = l->t2 = l->expiry = UINT64_MAX;
        return;
    }
    uint32_t t2 = (uint32_t)((uint64_t)L * 7 / 8), t1 = L / 2;
    if ((r->present & DHCP_HAS_T2) && r->t2_secs < L)
        t2 = r->t2_secs;
    if ((r->present & DHCP_HAS_T1) && r->t1_secs <= t2)
        t1 = r->t1_secs;
    else if (t1 > t2)
        t1 = t2;
    l->t1_secs = t1;
    l->t2_secs = t2;
    l->t1 = start + t1 * DHCP_SEC;
    l->t2 = start + t2 * DHCP_SEC;
    l->expiry = start + L * DHCP_SEC;
}

void dhcp_lease_from(struct dhcp_lease *l, const struct dhcp_repr *r, uint64_t start)
{
    memset(l, 0, sizeof *l);
    l->addr = r->yiaddr;
    if (r->present & DHCP_HAS_SERVER_ID)
        l->server = r->server_id;
    l->prefix_len = prefix_of(r);
    /* The first router (RFC 2132 3.5: in order of preference). */
    if ((r->present & DHCP_HAS_ROUTER) && r->nrouters && dhcp_addr_usable(r->routers[0]))
        l->router = r->routers[0];
    for (uint8_t i = 0; i < r->ndns && i < DHCP_MAX_ADDRS; i++)
        l->dns[l->ndns++] = r->dns[i];
    if (r->present & DHCP_HAS_MTU)
        l->mtu = r->mtu;
    l->lease_secs = (r->present & DHCP_HAS_LEASE_TIME) ? r->lease_secs : 0;
    timers(l, r, start);
}

/* ------------------------------------------------------------ console */

static uint64_t secs_until(uint64_t t, uint64_t now)
{
    return t > now ? (t - now) / DHCP_SEC : 0;
}

static void print_lease(const struct dhcp *d, print_line_fn print, void *ctx)
{
    const struct dhcp_lease *l = &d->lease;
    char line[160], a[IPV4_ADDR_STRLEN], r[IPV4_ADDR_STRLEN], s[IPV4_ADDR_STRLEN];
    uint64_t now = plat_now_ns();
    snprintf(line, sizeof line, "    address %s/%u router %s%s server %s",
             ipv4_addr_fmt(l->addr, a), l->prefix_len,
             ipv4_addr_is_any(l->router) ? "none" : ipv4_addr_fmt(l->router, r),
             d->cfg.no_router && !ipv4_addr_is_any(l->router) ? " (not used)" : "",
             ipv4_addr_fmt(l->server, s));
    print(ctx, line);
    int n = snprintf(line, sizeof line, "    dns");
    for (uint8_t i = 0; i < l->ndns && n > 0 && (size_t)n < sizeof line; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, " %s",
                      ipv4_addr_fmt(l->dns[i], a));
    if (l->ndns == 0)
        snprintf(line, sizeof line, "    dns none");
    print(ctx, line);
    if (l->mtu) {
        snprintf(line, sizeof line, "    mtu %u", l->mtu);
        print(ctx, line);
    }
    if (l->lease_secs == DHCP_INFINITE)
        snprintf(line, sizeof line, "    lease infinite");
    else
        snprintf(line, sizeof line,
                 "    lease %" PRIu32 " s: renew in %" PRIu64 " s, rebind in %" PRIu64
                 " s, expires in %" PRIu64 " s",
                 l->lease_secs, secs_until(l->t1, now), secs_until(l->t2, now),
                 secs_until(l->expiry, now));
    print(ctx, line);
}

void dhcp_print(const struct net_stack *s, print_line_fn print, void *ctx)
{
    const struct dhcp *d = s->dhcp;
    const char *name = s->nif->name ? s->nif->name : "net";
    char line[128], a[IPV4_ADDR_STRLEN], sv[IPV4_ADDR_STRLEN];
    if (!d) {
        snprintf(line, sizeof line, "%s: dhcp not running", name);
        print(ctx, line);
        return;
    }
    snprintf(line, sizeof line, "%s: dhcp %s, xid 0x%08" PRIx32, name,
             dhcp_state_name(d->state), d->xid);
    print(ctx, line);
    if (dhcp_lease(s)) {
        print_lease(d, print, ctx);
    } else if (!ipv4_addr_is_any(d->cand.addr)) {
        snprintf(line, sizeof line, "    offered %s by %s",
                 ipv4_addr_fmt(d->cand.addr, a), ipv4_addr_fmt(d->cand.server, sv));
        print(ctx, line);
    }
}
