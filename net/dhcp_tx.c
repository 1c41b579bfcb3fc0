/* DHCP messages out (see net/dhcp.h), with the fields RFC 2131 table 5 gives
 * each one. A message is longer than IPV4_COPYBREAK, so IPv4 may send it as a
 * scatter-gather segment that the driver reads after udp_sendto returns: it is
 * written into a netbuf of its own (heap memory, freed when the last reference
 * goes), never into memory that dies with this call. */
#include <stdlib.h>

#include "net/dhcp_impl.h"

/* The parameters we ask for (RFC 2132 9.8). */
static const uint8_t wanted[] = {
    DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER,    DHCP_OPT_DNS, DHCP_OPT_MTU,
    DHCP_OPT_LEASE_TIME,  DHCP_OPT_SERVER_ID, DHCP_OPT_T1,  DHCP_OPT_T2};

struct msgbuf {
    struct netbuf nb;
    uint8_t data[DHCP_EMIT_MAX];
};

static void msgbuf_release(struct netbuf *b)
{
    free(b->owner);
}

/* What every message carries: BOOTREQUEST, our xid and MAC, the type, and the
 * client identifier: type 1 (Ethernet) + MAC (RFC 2132 9.14). */
static void base(const struct dhcp *d, struct dhcp_repr *r, uint8_t type)
{
    memset(r, 0, sizeof *r);
    r->op = DHCP_OP_REQUEST;
    r->xid = d->xid;
    r->chaddr = d->s->eth.mac;
    r->msg_type = type;
    r->client_id_len = 7;
    r->client_id[0] = DHCP_HTYPE_ETH;
    memcpy(r->client_id + 1, d->s->eth.mac.b, 6);
    r->present = DHCP_HAS_MSG_TYPE | DHCP_HAS_CLIENT_ID;
}

/* DISCOVER and REQUEST: secs, the parameter list, the size we accept. */
static void asking(const struct dhcp *d, struct dhcp_repr *r, uint64_t now)
{
    uint64_t secs = (now - d->exch_start) / DHCP_SEC;
    r->secs = secs > 0xffff ? 0xffff : (uint16_t)secs;
    memcpy(r->params, wanted, sizeof wanted);
    r->nparams = sizeof wanted;
    uint32_t mtu = d->s->ip.mtu;
    r->max_msg_size = mtu < 576 ? 576 : mtu > 0xffff ? 0xffff : (uint16_t)mtu;
    r->present |= DHCP_HAS_PARAM_LIST | DHCP_HAS_MAX_MSG_SIZE;
}

static void put_addr(struct dhcp_repr *r, uint32_t bit, struct ipv4_addr *field,
                     struct ipv4_addr a)
{
    *field = a;
    r->present |= bit;
}

/* REQUEST: its form depends on the state (RFC 2131 4.3.2). Broadcast, until we
 * hold an address, with the broadcast flag: our IPv4 accepts only its own
 * address and broadcast, so an unconfigured client cannot take a reply sent to
 * the offered address. */
static struct ipv4_addr request(const struct dhcp *d, struct dhcp_repr *r)
{
    static const struct ipv4_addr bcast = {0xffffffffu};
    switch (d->state) {
    case DHCP_REQUESTING: /* SELECTING's answer: requested IP and server id */
        put_addr(r, DHCP_HAS_REQUESTED_IP, &r->requested_ip, d->cand.addr);
        put_addr(r, DHCP_HAS_SERVER_ID, &r->server_id, d->cand.server);
        r->flags = DHCP_FLAG_BROADCAST;
        return bcast;
    case DHCP_REBOOTING: /* requested IP, no server id */
        put_addr(r, DHCP_HAS_REQUESTED_IP, &r->requested_ip, d->cfg.requested);
        r->flags = DHCP_FLAG_BROADCAST;
        return bcast;
    case DHCP_RENEWING: /* ciaddr, unicast to the server that gave the lease */
        r->ciaddr = d->lease.addr;
        return d->lease.server;
    default: /* REBINDING: ciaddr, to any server */
        r->ciaddr = d->lease.addr;
        return bcast;
    }
}

/* The message for type, and where it goes. */
static struct ipv4_addr build(const struct dhcp *d, uint8_t type, uint64_t now,
                              struct dhcp_repr *r)
{
    static const struct ipv4_addr bcast = {0xffffffffu};
    base(d, r, type);
    switch (type) {
    case DHCP_DISCOVER:
        asking(d, r, now);
        r->flags = DHCP_FLAG_BROADCAST;
        return bcast;
    case DHCP_REQUEST:
        asking(d, r, now);
        return request(d, r);
    case DHCP_DECLINE: /* the address in use and whose offer it was */
        put_addr(r, DHCP_HAS_REQUESTED_IP, &r->requested_ip, d->cand.addr);
        put_addr(r, DHCP_HAS_SERVER_ID, &r->server_id, d->cand.server);
        return bcast;
    default: /* RELEASE: ciaddr and server id, unicast */
        r->ciaddr = d->lease.addr;
        put_addr(r, DHCP_HAS_SERVER_ID, &r->server_id, d->lease.server);
        return d->lease.server;
    }
}

static void count_tx(struct dhcp *d, uint8_t type)
{
    switch (type) {
    case DHCP_DISCOVER:
        d->st.tx_discover++;
        break;
    case DHCP_REQUEST:
        d->st.tx_request++;
        break;
    case DHCP_DECLINE:
        d->st.tx_decline++;
        break;
    default:
        d->st.tx_release++;
        break;
    }
}

bool dhcp_send(struct dhcp *d, uint8_t type, uint64_t now)
{
    struct dhcp_repr r;
    struct ipv4_addr dst = build(d, type, now, &r);
    struct msgbuf *m = malloc(sizeof *m);
    if (!m) {
        d->st.tx_errors++;
        return false;
    }
    m->nb = (struct netbuf){m->data, sizeof m->data, 1, msgbuf_release, m, 0};
    uint32_t len = dhcp_emit(&r, m->data, sizeof m->data);
    KCHECK(len > 0); /* DHCP_EMIT_MAX holds every option we send */
    struct view v = {m->data, &m->nb, 0, len};
    /* Never block: the timer thread and the RX path send these. */
    struct udp_send_opts o = {.ip = {.nowait = true}};
    enum ipv4_err err =
        udp_sendto(&d->s->udp, DHCP_CLIENT_PORT, dst, DHCP_SERVER_PORT, &v, 1, &o);
    netbuf_unref(&m->nb);
    if (err != IPV4_OK) {
        d->st.tx_errors++;
        log_debug("dhcp", "%s not sent: %s", dhcp_msg_type_name(type),
                  ipv4_strerror(err));
        return false;
    }
    count_tx(d, type);
    log_debug("dhcp", "%s sent, xid 0x%08x", dhcp_msg_type_name(type), (unsigned)d->xid);
    return true;
}
