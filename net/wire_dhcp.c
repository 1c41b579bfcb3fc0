/* BOOTP/DHCP check, parse and emit (see net/wire/dhcp.h). */
#include "net/wire/dhcp.h"

enum dhcp_wire_err dhcp_check(const struct view *v)
{
    if (v->len < DHCP_MIN_LEN)
        return DHCP_WIRE_SHORT;
    const uint8_t *p = view_data(v);
    if (p[DHCP_OFF_OP] != DHCP_OP_REQUEST && p[DHCP_OFF_OP] != DHCP_OP_REPLY)
        return DHCP_WIRE_BAD_OP;
    if (p[DHCP_OFF_HTYPE] != DHCP_HTYPE_ETH || p[DHCP_OFF_HLEN] != 6)
        return DHCP_WIRE_BAD_HTYPE;
    if (net_rd32(p + DHCP_OFF_COOKIE) != DHCP_COOKIE)
        return DHCP_WIRE_BAD_COOKIE;
    return DHCP_WIRE_OK;
}

/* ------------------------------------------------------------ options in */

/* A fixed-size option seen once: exactly n bytes, not repeated. */
static bool once(struct dhcp_repr *r, uint32_t bit, uint8_t len, uint8_t want)
{
    if (len != want || (r->present & bit))
        return false;
    r->present |= bit;
    return true;
}

/* A list of addresses, appended to (RFC 3396 concatenation), kept up to max. */
static bool addrs(struct dhcp_repr *r, uint32_t bit, const uint8_t *d, uint8_t len,
                  struct ipv4_addr *out, uint8_t *n)
{
    if (len == 0 || len % 4)
        return false;
    r->present |= bit;
    for (unsigned i = 0; i < len && *n < DHCP_MAX_ADDRS; i += 4)
        out[(*n)++] = ipv4_addr_load(d + i);
    return true;
}

static bool bytes(struct dhcp_repr *r, uint32_t bit, const uint8_t *d, uint8_t len,
                  uint8_t *out, uint8_t *n, uint8_t max)
{
    if (len == 0)
        return false;
    r->present |= bit;
    for (unsigned i = 0; i < len && *n < max; i++)
        out[(*n)++] = d[i];
    return true;
}

static bool u32_opt(struct dhcp_repr *r, uint32_t bit, const uint8_t *d, uint8_t len,
                    uint32_t *out)
{
    if (!once(r, bit, len, 4))
        return false;
    *out = net_rd32(d);
    return true;
}

static bool addr_opt(struct dhcp_repr *r, uint32_t bit, const uint8_t *d, uint8_t len,
                     struct ipv4_addr *out)
{
    if (!once(r, bit, len, 4))
        return false;
    *out = ipv4_addr_load(d);
    return true;
}

/* One option of the options field (main) or of an overloaded file/sname field;
 * false when malformed. Unknown codes are skipped. */
static bool option(struct dhcp_repr *r, uint8_t code, const uint8_t *d, uint8_t len,
                   bool main)
{
    switch (code) {
    case DHCP_OPT_MSG_TYPE:
        if (!once(r, DHCP_HAS_MSG_TYPE, len, 1))
            return false;
        r->msg_type = d[0];
        return true;
    case DHCP_OPT_OVERLOAD: /* meaningful in the options field only */
        if (!main)
            return true;
        if (!once(r, DHCP_HAS_OVERLOAD, len, 1) || d[0] < 1 || d[0] > 3)
            return false;
        r->overload = d[0];
        return true;
    case DHCP_OPT_MTU:
        if (!once(r, DHCP_HAS_MTU, len, 2) || net_rd16(d) < 68)
            return false;
        r->mtu = net_rd16(d);
        return true;
    case DHCP_OPT_MAX_MSG_SIZE:
        if (!once(r, DHCP_HAS_MAX_MSG_SIZE, len, 2) || net_rd16(d) < 576)
            return false;
        r->max_msg_size = net_rd16(d);
        return true;
    case DHCP_OPT_SUBNET_MASK:
        return addr_opt(r, DHCP_HAS_SUBNET_MASK, d, len, &r->subnet_mask);
    case DHCP_OPT_SERVER_ID:
        return addr_opt(r, DHCP_HAS_SERVER_ID, d, len, &r->server_id);
    case DHCP_OPT_REQUESTED_IP:
        return addr_opt(r, DHCP_HAS_REQUESTED_IP, d, len, &r->requested_ip);
    case DHCP_OPT_LEASE_TIME:
        return u32_opt(r, DHCP_HAS_LEASE_TIME, d, len, &r->lease_secs);
    case DHCP_OPT_T1:
        return u32_opt(r, DHCP_HAS_T1, d, len, &r->t1_secs);
    case DHCP_OPT_T2:
        return u32_opt(r, DHCP_HAS_T2, d, len, &r->t2_secs);
    case DHCP_OPT_ROUTER:
        return addrs(r, DHCP_HAS_ROUTER, d, len, r->routers, &r->nrouters);
    case DHCP_OPT_DNS:
        return addrs(r, DHCP_HAS_DNS, d, len, r->dns, &r->ndns);
    case DHCP_OPT_PARAM_LIST:
        return bytes(r, DHCP_HAS_PARAM_LIST, d, len, r->params, &r->nparams,
                     DHCP_MAX_PARAMS);
    case DHCP_OPT_CLIENT_ID:
        return bytes(r, DHCP_HAS_CLIENT_ID, d, len, r->client_id, &r->client_id_len,
                     DHCP_MAX_CLIENT_ID);
    default:
        return true;
    }
}

/* The options in p[0, len): code, length, data; PAD and END have no length. An
 * area without END is accepted when its last option ends exactly at its end. */
static enum dhcp_wire_err walk(const uint8_t *p, uint32_t len, struct dhcp_repr *r,
                               bool main)
{
    uint32_t i = 0;
    while (i < len) {
        uint8_t code = p[i++];
        if (code == DHCP_OPT_PAD)
            continue;
        if (code == DHCP_OPT_END)
            return DHCP_WIRE_OK;
        if (i == len || p[i] > len - i - 1)
            return DHCP_WIRE_TRUNCATED;
        uint8_t olen = p[i++];
        if (!option(r, code, p + i, olen, main))
            return DHCP_WIRE_BAD_OPTION;
        i += olen;
    }
    return DHCP_WIRE_OK;
}

static void parse_fixed(const uint8_t *p, struct dhcp_repr *r)
{
    r->op = p[DHCP_OFF_OP];
    r->hops = p[DHCP_OFF_HOPS];
    r->xid = net_rd32(p + DHCP_OFF_XID);
    r->secs = net_rd16(p + DHCP_OFF_SECS);
    r->flags = net_rd16(p + DHCP_OFF_FLAGS);
    r->ciaddr = ipv4_addr_load(p + DHCP_OFF_CIADDR);
    r->yiaddr = ipv4_addr_load(p + DHCP_OFF_YIADDR);
    r->siaddr = ipv4_addr_load(p + DHCP_OFF_SIADDR);
    r->giaddr = ipv4_addr_load(p + DHCP_OFF_GIADDR);
    memcpy(r->chaddr.b, p + DHCP_OFF_CHADDR, 6);
}

enum dhcp_wire_err dhcp_parse(const struct view *v, struct dhcp_repr *r)
{
    enum dhcp_wire_err e = dhcp_check(v);
    if (e != DHCP_WIRE_OK)
        return e;
    const uint8_t *p = view_data(v);
    memset(r, 0, sizeof *r);
    parse_fixed(p, r);
    e = walk(p + DHCP_OFF_OPTIONS, v->len - DHCP_OFF_OPTIONS, r, true);
    /* RFC 2131 4.1: with overload, the file field is read before sname. */
    if (e == DHCP_WIRE_OK && (r->overload & 1))
        e = walk(p + DHCP_OFF_FILE, DHCP_FILE_LEN, r, false);
    if (e == DHCP_WIRE_OK && (r->overload & 2))
        e = walk(p + DHCP_OFF_SNAME, DHCP_SNAME_LEN, r, false);
    if (e == DHCP_WIRE_OK && (r->present & DHCP_HAS_CLIENT_ID) && r->client_id_len < 2)
        e = DHCP_WIRE_BAD_OPTION; /* RFC 2132 9.14: type and at least one byte */
    return e;
}

/* ------------------------------------------------------------ emit */

struct writer {
    uint8_t *p;
    uint32_t n, cap; /* cap keeps a byte back for END */
    bool ok;
};

static void put(struct writer *w, uint8_t code, const void *d, uint32_t len)
{
    if (!w->ok || len > 255 || w->n + 2 + len > w->cap) {
        w->ok = false;
        return;
    }
    w->p[w->n] = code;
    w->p[w->n + 1] = (uint8_t)len;
    memcpy(w->p + w->n + 2, d, len);
    w->n += 2 + len;
}

static void put8(struct writer *w, uint8_t code, uint8_t v)
{
    put(w, code, &v, 1);
}
static void put16(struct writer *w, uint8_t code, uint16_t v)
{
    uint8_t b[2];
    net_wr16(b, v);
    put(w, code, b, 2);
}
static void put32(struct writer *w, uint8_t code, uint32_t v)
{
    uint8_t b[4];
    net_wr32(b, v);
    put(w, code, b, 4);
}
static void put_addrs(struct writer *w, uint8_t code, const struct ipv4_addr *a,
                      uint8_t n)
{
    uint8_t b[4 * DHCP_MAX_ADDRS];
    for (uint8_t i = 0; i < n && i < DHCP_MAX_ADDRS; i++)
        ipv4_addr_store(b + 4 * i, a[i]);
    put(w, code, b, 4u * (n < DHCP_MAX_ADDRS ? n : DHCP_MAX_ADDRS));
}

static void emit_fixed(const struct dhcp_repr *r, uint8_t *p)
{
    memset(p, 0, DHCP_MIN_LEN);
    p[DHCP_OFF_OP] = r->op;
    p[DHCP_OFF_HTYPE] = DHCP_HTYPE_ETH;
    p[DHCP_OFF_HLEN] = 6;
    p[DHCP_OFF_HOPS] = r->hops;
    net_wr32(p + DHCP_OFF_XID, r->xid);
    net_wr16(p + DHCP_OFF_SECS, r->secs);
    net_wr16(p + DHCP_OFF_FLAGS, r->flags);
    ipv4_addr_store(p + DHCP_OFF_CIADDR, r->ciaddr);
    ipv4_addr_store(p + DHCP_OFF_YIADDR, r->yiaddr);
    ipv4_addr_store(p + DHCP_OFF_SIADDR, r->siaddr);
    ipv4_addr_store(p + DHCP_OFF_GIADDR, r->giaddr);
    memcpy(p + DHCP_OFF_CHADDR, r->chaddr.b, 6);
    net_wr32(p + DHCP_OFF_COOKIE, DHCP_COOKIE);
}

/* The message type first (RFC 2131 4.1 asks servers to look for it early), then
 * the client's own options, then what servers send. */
static void emit_options(const struct dhcp_repr *r, struct writer *w)
{
    uint32_t h = r->present;
    if (h & DHCP_HAS_MSG_TYPE)
        put8(w, DHCP_OPT_MSG_TYPE, r->msg_type);
    if ((h & DHCP_HAS_CLIENT_ID) && r->client_id_len)
        put(w, DHCP_OPT_CLIENT_ID, r->client_id, r->client_id_len);
    if (h & DHCP_HAS_REQUESTED_IP)
        put(w, DHCP_OPT_REQUESTED_IP, &r->requested_ip.be, 4);
    if (h & DHCP_HAS_SERVER_ID)
        put(w, DHCP_OPT_SERVER_ID, &r->server_id.be, 4);
    if (h & DHCP_HAS_LEASE_TIME)
        put32(w, DHCP_OPT_LEASE_TIME, r->lease_secs);
    if (h & DHCP_HAS_T1)
        put32(w, DHCP_OPT_T1, r->t1_secs);
    if (h & DHCP_HAS_T2)
        put32(w, DHCP_OPT_T2, r->t2_secs);
    if (h & DHCP_HAS_SUBNET_MASK)
        put(w, DHCP_OPT_SUBNET_MASK, &r->subnet_mask.be, 4);
    if ((h & DHCP_HAS_ROUTER) && r->nrouters)
        put_addrs(w, DHCP_OPT_ROUTER, r->routers, r->nrouters);
    if ((h & DHCP_HAS_DNS) && r->ndns)
        put_addrs(w, DHCP_OPT_DNS, r->dns, r->ndns);
    if (h & DHCP_HAS_MTU)
        put16(w, DHCP_OPT_MTU, r->mtu);
    if (h & DHCP_HAS_MAX_MSG_SIZE)
        put16(w, DHCP_OPT_MAX_MSG_SIZE, r->max_msg_size);
    if ((h & DHCP_HAS_PARAM_LIST) && r->nparams)
        put(w, DHCP_OPT_PARAM_LIST, r->params,
            r->nparams < DHCP_MAX_PARAMS ? r->nparams : DHCP_MAX_PARAMS);
    if (h & DHCP_HAS_OVERLOAD)
        put8(w, DHCP_OPT_OVERLOAD, r->overload);
}

uint32_t dhcp_emit(const struct dhcp_repr *r, uint8_t *p, uint32_t cap)
{
    if (cap < DHCP_BOOTP_MIN)
        return 0;
    emit_fixed(r, p);
    struct writer w = {p, DHCP_OFF_OPTIONS, cap - 1, true};
    emit_options(r, &w);
    if (!w.ok)
        return 0;
    p[w.n++] = DHCP_OPT_END;
    if (w.n < DHCP_BOOTP_MIN) {
        memset(p + w.n, 0, DHCP_BOOTP_MIN - w.n);
        w.n = DHCP_BOOTP_MIN;
    }
    return w.n;
}
