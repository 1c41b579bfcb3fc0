/* Path MTU discovery's table (RFC 1191; see net/ipv4.h): a small array searched
 * linearly (16 entries; only TCP's validated "fragmentation needed" messages add
 * to it), each entry a destination, its path MTU and when that is forgotten. A
 * full table forgets the entry that would expire first. ipv4_write still
 * fragments at the link MTU: the path MTU is what packetization layers (TCP's
 * MSS) size their datagrams by, as mirage's `mtu ~dst` intends; it costs the
 * fast path nothing. */
#include "net/ipv4.h"

uint16_t ipv4_path_mtu(const struct ipv4 *ip, struct ipv4_addr dst)
{
    const struct ipv4_pmtu *t = &ip->pmtu;
    for (int i = 0; i < t->n; i++)
        if (t->e[i].dst.be == dst.be) {
            if (t->e[i].expires <= plat_now_ns()) /* the tick has not run yet */
                break;
            return t->e[i].mtu < ip->mtu ? t->e[i].mtu : ip->mtu;
        }
    return ip->mtu;
}

static void update_next(struct ipv4 *ip)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < ip->pmtu.n; i++)
        if (ip->pmtu.e[i].expires < next)
            next = ip->pmtu.e[i].expires;
    ip->pmtu.next = next;
}

static void remove_at(struct ipv4_pmtu *t, int i)
{
    t->e[i] = t->e[--t->n];
}

/* The entry for dst: the existing one, a free one, or the one expiring first. */
static struct ipv4_pmtu_entry *slot_for(struct ipv4 *ip, struct ipv4_addr dst)
{
    struct ipv4_pmtu *t = &ip->pmtu;
    int old = 0;
    for (int i = 0; i < t->n; i++) {
        if (t->e[i].dst.be == dst.be)
            return &t->e[i];
        if (t->e[i].expires < t->e[old].expires)
            old = i;
    }
    if (t->n < IPV4_PMTU_ENTRIES) {
        t->e[t->n] = (struct ipv4_pmtu_entry){.dst = dst, .mtu = ip->mtu};
        return &t->e[t->n++];
    }
    ip->st.pmtu_evicted++;
    t->e[old] = (struct ipv4_pmtu_entry){.dst = dst, .mtu = ip->mtu};
    return &t->e[old];
}

uint16_t ipv4_pmtu_lower(struct ipv4 *ip, struct ipv4_addr dst, uint16_t mtu)
{
    uint16_t cur = ipv4_path_mtu(ip, dst);
    if (mtu < IPV4_MIN_MTU) /* RFC 1191 3: never below 68 */
        mtu = IPV4_MIN_MTU;
    if (mtu >= cur)
        return cur; /* never raised by a message (section 3) */
    struct ipv4_pmtu_entry *e = slot_for(ip, dst);
    e->mtu = mtu;
    e->expires = plat_now_ns() + IPV4_PMTU_TIMEOUT_NS;
    ip->st.pmtu_lowered++;
    if (e->expires < ip->pmtu.next) {
        ip->pmtu.next = e->expires;
        net_deadline_armed(&ip->armed, e->expires);
    } else {
        update_next(ip); /* an evicted entry may have held the deadline */
    }
    return mtu;
}

void ipv4_pmtu_expire(struct ipv4 *ip, uint64_t now)
{
    struct ipv4_pmtu *t = &ip->pmtu;
    for (int i = 0; i < t->n;)
        if (t->e[i].expires <= now) {
            ip->st.pmtu_expired++;
            remove_at(t, i);
        } else {
            i++;
        }
    update_next(ip);
}

uint16_t ipv4_pmtu_plateau(uint32_t total_len)
{
    static const uint16_t plateaus[] = {65535, 32000, 17914, 8166, 4352, 2002,
                                        1492,  1006,  508,   296,  68};
    for (unsigned i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++)
        if (plateaus[i] < total_len)
            return plateaus[i];
    return IPV4_MIN_MTU;
}

int ipv4_pmtu_list(const struct ipv4 *ip, struct ipv4_pmtu_entry *out, int cap)
{
    int n = 0;
    uint64_t now = plat_now_ns();
    for (int i = 0; i < ip->pmtu.n; i++)
        if (ip->pmtu.e[i].expires > now) {
            if (n < cap)
                out[n] = ip->pmtu.e[i];
            n++;
        }
    return n;
}
