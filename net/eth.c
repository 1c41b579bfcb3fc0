/* Ethernet receive filter and transmit (see net/eth.h). */
#include "net/eth.h"

#define ETH_DESC(n) COUNTER_DESC(struct eth_stats, n)
const struct counter_table eth_counter_table = COUNTER_REGISTRY(ETH_COUNTERS, ETH_DESC);

void eth_init(struct eth *e, struct netif *nif)
{
    memset(e, 0, sizeof *e);
    e->nif = nif;
    memcpy(e->mac.b, nif->mac, 6);
}

static bool mcast_subscribed(const struct eth *e, const struct eth_addr *dst)
{
    for (int i = 0; i < ETH_MCAST_MAX; i++)
        if (e->mcast_refs[i] && eth_addr_eq(&e->mcast[i], dst))
            return true;
    return false;
}

/* Our MAC, broadcast, or a subscribed multicast group. */
static bool dst_ok(struct eth *e, const struct eth_addr *dst, unsigned *flags)
{
    if (eth_addr_eq(dst, &e->mac)) {
        *flags = 0;
        return true;
    }
    *flags = ETH_RX_BCAST;
    if (eth_addr_is_bcast(dst)) {
        e->st.rx_bcast++;
        return true;
    }
    if (eth_addr_is_mcast(dst) && mcast_subscribed(e, dst)) {
        e->st.rx_mcast++;
        return true;
    }
    return false;
}

struct eth_rx eth_rx_slow(struct eth *e, struct view *v)
{
    struct eth_rx r = {0, 0};
    struct eth_repr h;
    unsigned flags;
    e->st.rx_frames++;
    if (!eth_header_parse(v, &h)) {
        e->st.drop_short++;
        goto drop;
    }
    if (!dst_ok(e, &h.dst, &flags)) {
        e->st.drop_not_ours++;
        goto drop;
    }
    uint16_t t = h.type; /* IPv4 is counted by ipv4.rx */
    if (t == ETH_TYPE_ARP)
        e->st.rx_arp++;
    else if (t != ETH_TYPE_IPV4) {
        e->st.drop_ethertype++;
        log_debug("eth", "dropped ethertype 0x%04x (%s)", t, eth_type_name(t));
        goto drop;
    }
    r.type = t;
    r.flags = (uint16_t)flags;
    view_shift(v, ETH_HDR_LEN);
drop:
    return r;
}

int eth_mcast_join(struct eth *e, const struct eth_addr *m)
{
    int free_slot = -1;
    if (!eth_addr_is_mcast(m))
        return -1;
    for (int i = 0; i < ETH_MCAST_MAX; i++) {
        if (e->mcast_refs[i] && eth_addr_eq(&e->mcast[i], m)) {
            e->mcast_refs[i]++;
            return 0;
        }
        if (!e->mcast_refs[i] && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return -1;
    e->mcast[free_slot] = *m;
    e->mcast_refs[free_slot] = 1;
    return 0;
}

void eth_mcast_leave(struct eth *e, const struct eth_addr *m)
{
    for (int i = 0; i < ETH_MCAST_MAX; i++)
        if (e->mcast_refs[i] && eth_addr_eq(&e->mcast[i], m)) {
            e->mcast_refs[i]--;
            return;
        }
}
