/* DHCP replies in, and the ARP watcher of the probe (see net/dhcp.h). A reply
 * counts once: as one drop reason or as an OFFER, ACK or NAK taken. It must
 * come from port 67, parse, be a BOOTREPLY for our xid and our MAC, and fit
 * the state; everything else is dropped here. RX thread. */
#include "net/dhcp_impl.h"
#include "net/wire/arp.h"

#define DHCP_DROP(err, name)                                                             \
    [DHCP_WIRE_##err] = COUNTER_OFF(struct dhcp_stats, drop_##name),
static const uint16_t parse_drop[] = {DHCP_WIRE_ERRORS(DHCP_DROP)};

static void count_malformed(struct dhcp *d, enum dhcp_wire_err e)
{
    counter_inc(&d->st, parse_drop[e]);
    log_debug("dhcp", "malformed reply: %s", dhcp_wire_err_name(e));
}

static bool awaiting_ack(const struct dhcp *d)
{
    return d->state == DHCP_REQUESTING || d->state == DHCP_REBOOTING ||
           d->state == DHCP_RENEWING || d->state == DHCP_REBINDING;
}

/* An ACK or NAK names the server we asked (REQUESTING: the one we selected;
 * RENEWING: the one we unicast to). REBOOTING and REBINDING ask any server. */
static bool right_server(const struct dhcp *d, const struct dhcp_repr *r)
{
    if (!(r->present & DHCP_HAS_SERVER_ID))
        return true;
    if (d->state == DHCP_REQUESTING)
        return ipv4_addr_eq(r->server_id, d->cand.server);
    if (d->state == DHCP_RENEWING)
        return ipv4_addr_eq(r->server_id, d->lease.server);
    return true;
}

static void on_offer(struct dhcp *d, const struct dhcp_repr *r, uint64_t now)
{
    if (d->state != DHCP_SELECTING) {
        d->st.drop_unexpected++;
        return;
    }
    if (!dhcp_addr_usable(r->yiaddr) || !(r->present & DHCP_HAS_SERVER_ID) ||
        !dhcp_addr_usable(r->server_id)) {
        d->st.drop_bad_offer++;
        return;
    }
    d->st.rx_offer++;
    dhcp_lease_from(&d->cand, r, now); /* the address and server are what matter */
    dhcp_request_offer(d, now);
}

/* An ACK or NAK is taken only while we wait for one, and only from the server
 * we asked; otherwise it is dropped and counted. */
static bool answer_expected(struct dhcp *d, const struct dhcp_repr *r)
{
    if (!awaiting_ack(d)) {
        d->st.drop_unexpected++;
        return false;
    }
    if (!right_server(d, r)) {
        d->st.drop_wrong_server++;
        return false;
    }
    return true;
}

static void on_ack(struct dhcp *d, const struct dhcp_repr *r)
{
    struct dhcp_lease l;
    if (!answer_expected(d, r))
        return;
    /* RFC 2131 table 3: an ACK carries the lease time and the server id. */
    if (!dhcp_addr_usable(r->yiaddr) || !(r->present & DHCP_HAS_LEASE_TIME) ||
        !(r->present & DHCP_HAS_SERVER_ID) || !dhcp_addr_usable(r->server_id)) {
        d->st.drop_bad_ack++;
        return;
    }
    d->st.rx_ack++;
    uint64_t now = plat_now_ns();
    dhcp_lease_from(&l, r, d->state == DHCP_REQUESTING ? d->cand.start : d->exch_start);
    if ((d->state == DHCP_RENEWING || d->state == DHCP_REBINDING) &&
        ipv4_addr_eq(l.addr, d->lease.addr)) {
        dhcp_extend(d, &l);
        return;
    }
    /* A new address (or one we asked for after a reboot): not used until probed. */
    dhcp_lose(d);
    d->cand = l;
    dhcp_begin_probe(d, now);
}

static void on_nak(struct dhcp *d, const struct dhcp_repr *r)
{
    char a[IPV4_ADDR_STRLEN];
    if (!answer_expected(d, r))
        return;
    d->st.rx_nak++;
    log_info("dhcp", "NAK from %s", ipv4_addr_fmt(r->server_id, a));
    dhcp_restart(d, plat_now_ns(), 0); /* RFC 2131 3.1.5, 3.2: start over */
}

static void reply_input(struct dhcp *d, const struct udp_rxinfo *info, struct view *data)
{
    struct dhcp_repr r;
    enum dhcp_wire_err e;
    d->st.rx++;
    if (info->sport != DHCP_SERVER_PORT) {
        d->st.drop_bad_port++;
        return;
    }
    if ((e = dhcp_parse(data, &r)) != DHCP_WIRE_OK) {
        count_malformed(d, e);
        return;
    }
    if (r.op != DHCP_OP_REPLY)
        d->st.drop_bad_op++;
    else if (r.xid != d->xid)
        d->st.drop_xid++;
    else if (!eth_addr_eq(&r.chaddr, &d->s->eth.mac))
        d->st.drop_chaddr++;
    else if (r.msg_type == DHCP_OFFER)
        on_offer(d, &r, plat_now_ns());
    else if (r.msg_type == DHCP_ACK)
        on_ack(d, &r);
    else if (r.msg_type == DHCP_NAK)
        on_nak(d, &r);
    else
        d->st.drop_unexpected++;
}

void dhcp_udp_input(void *ctx, const struct udp_rxinfo *info, struct view *data)
{
    struct dhcp *d = ctx;
    reply_input(d, info, data);
    dhcp_armed(d); /* an OFFER armed a retransmission, an ACK the probe, ... */
}

/* RFC 5227 2.1.1: while probing, the address is taken if another station's ARP
 * packet has it as sender address, or if another station probes for it too
 * (sender 0.0.0.0, target the address). arp_input already dropped packets that
 * name our own MAC as sender. */
void dhcp_arp_watch(void *ctx, const struct arp_repr *r)
{
    struct dhcp *d = ctx;
    if (d->state != DHCP_PROBING)
        return;
    bool probe = r->op == ARP_OP_REQUEST && ipv4_addr_is_any(r->spa) &&
                 ipv4_addr_eq(r->tpa, d->cand.addr);
    if (ipv4_addr_eq(r->spa, d->cand.addr) || probe) {
        dhcp_conflict(d, plat_now_ns());
        dhcp_armed(d); /* DISCOVER again after the RFC's wait */
    }
}
