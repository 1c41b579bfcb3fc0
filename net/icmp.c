/* ICMP input, echo replies and error origination (see net/icmp.h). Echo replies
 * reuse the request's checksum, updated for the type change (RFC 1624), so the
 * data is summed only once, when the request is verified. */
#include "net/icmp.h"

#define ICMP_DESC(n) COUNTER_DESC(struct icmp_stats, n)
const struct counter_table icmp_counter_table =
    COUNTER_REGISTRY(ICMP_COUNTERS, ICMP_DESC);

static void reass_timeout(void *ctx, const struct ipv4_rxinfo *info,
                          const struct view *data8)
{
    icmp_send_error(ctx, ICMP_TIME_EXCEEDED, ICMP_CODE_REASS_EXCEEDED, 0, info, data8);
}

void icmp_init(struct icmp *ic, struct ipv4 *ip, uint32_t rate_per_sec, uint32_t burst)
{
    memset(ic, 0, sizeof *ic);
    ic->ip = ip;
    ic->cost_ns = 1000000000ull / (rate_per_sec ? rate_per_sec : ICMP_RATE_DEFAULT);
    ic->cap_ns = ic->cost_ns * (burst ? burst : ICMP_BURST_DEFAULT);
    ic->credit_ns = ic->cap_ns;
    ic->last_ns = plat_now_ns();
    ic->ping_id = (uint16_t)(plat_now_ns() >> 12) | 1;
    ipv4_set_reass_timeout_handler(ip, reass_timeout, ic);
}

/* ------------------------------------------------------------ echo */

/* The request's header with type 0. RFC 1624 eqn. 3 with the first word going from
 * 0x08cc to 0x00cc (whatever the code cc): ~m + m' = ~0x0800 = 0xf7ff, and one fold
 * suffices (0xffff + 0xf7ff folds to at most 0xf7ff). */
/* The incremental sum came out -0, which is also what a reply whose every other
 * byte is zero (+0) gives: only a recomputation tells (RFC 1624 section 3), and
 * then 0xffff is the right checksum. Rare, so out of line. */
__attribute__((noinline)) static void echo_reply_recompute(uint8_t *p,
                                                           const struct view *msg)
{
    uint64_t sum = csum_add(csum_add(0, p, ICMP_HDR_LEN), view_data(msg) + ICMP_HDR_LEN,
                            msg->len - ICMP_HDR_LEN);
    icmp_set_csum(p, csum_finish(sum));
}

static uint32_t echo_reply_header(void *ctx, const struct view *hv)
{
    const struct view *msg = ctx;
    struct icmp_repr h;
    icmp_header_read(view_data(msg), &h);
    uint32_t s = (uint16_t)~h.csum + 0xf7ffu;
    s = (s & 0xffff) + (s >> 16);
    h.type = ICMP_ECHO_REPLY;
    h.csum = (uint16_t)~s;
    icmp_header_emit(&h, view_data(hv));
    if (s == 0xffff)
        echo_reply_recompute(view_data(hv), msg);
    return ICMP_HDR_LEN;
}

static void echo_reply(struct icmp *ic, const struct ipv4_rxinfo *info, struct view *msg)
{
    struct ipv4_wopts o = {.nowait = true, .tos = info->tos};
    struct view data = *msg;
    data.len = msg->len - ICMP_HDR_LEN; /* (two statements: gcc pairs them into SSE */
    data.off += ICMP_HDR_LEN;           /* otherwise) */
    enum ipv4_err err = ipv4_write(ic->ip, &o, info->src, IPV4_PROTO_ICMP, ICMP_HDR_LEN,
                                   echo_reply_header, msg, &data, 1);
    if (err == IPV4_OK)
        ic->st.tx_echo_reply++;
    else
        ic->st.tx_errors++;
}

void icmp_set_unreach_hook(struct icmp *ic, icmp_unreach_fn fn, void *ctx)
{
    ic->on_unreach = fn;
    ic->on_unreach_ctx = ctx;
}

/* The counter each refusal of icmp_check bumps. */
#define ICMP_DROP(err, name)                                                             \
    [ICMP_WIRE_##err] = COUNTER_OFF(struct icmp_stats, drop_##name),
static const uint16_t check_drop[] = {ICMP_WIRE_ERRORS(ICMP_DROP)};

/* Out of line: its locals and call would make icmp_input save two more registers
 * on every echo request (4 instructions an echo). */
__attribute__((noinline)) static void
dest_unreach(struct icmp *ic, const struct ipv4_rxinfo *info, const struct view *msg)
{
    struct icmp_repr h;
    icmp_header_read(view_data(msg), &h);
    ic->st.rx_dest_unreach++;
    log_debug("icmp", "destination unreachable, code %u", h.code);
    if (ic->on_unreach && !(info->flags & IPV4_RX_BCAST)) {
        /* The quoted datagram, and the next-hop MTU of fragmentation needed
         * (the low half of the header's last word, RFC 1191). */
        struct view quote;
        view_sub(msg, ICMP_HDR_LEN, msg->len - ICMP_HDR_LEN, &quote);
        ic->on_unreach(ic->on_unreach_ctx, h.code, (uint16_t)h.rest, &quote);
    }
}

void icmp_input(struct icmp *ic, const struct ipv4_rxinfo *info, struct view *msg)
{
    enum icmp_wire_err e;
    ic->st.rx++;
    if ((e = icmp_check(msg)) != ICMP_WIRE_OK) {
        counter_inc(&ic->st, check_drop[e]);
        goto drop;
    }
    switch (icmp_get_type(view_data(msg))) {
    case ICMP_ECHO_REQUEST:
        ic->st.rx_echo_request++;
        if (info->flags & IPV4_RX_BCAST) {
            ic->st.drop_bcast_echo++; /* as Linux: no answer to broadcast pings */
            goto drop;
        }
        echo_reply(ic, info, msg);
        return;
    case ICMP_ECHO_REPLY:
        ic->st.rx_echo_reply++;
        icmp_ping_reply(ic, info, msg);
        return;
    case ICMP_DEST_UNREACH:
        dest_unreach(ic, info, msg);
        return;
    case ICMP_TIME_EXCEEDED:
        ic->st.rx_time_exceeded++;
        return;
    default:
        ic->st.rx_other++;
        return;
    }
drop:
    log_debug("icmp", "dropped a message");
}

/* ------------------------------------------------------------ errors */

/* Token bucket on the platform clock. */
static bool rate_ok(struct icmp *ic)
{
    uint64_t now = plat_now_ns();
    ic->credit_ns += now - ic->last_ns;
    ic->last_ns = now;
    if (ic->credit_ns > ic->cap_ns)
        ic->credit_ns = ic->cap_ns;
    if (ic->credit_ns < ic->cost_ns)
        return false;
    ic->credit_ns -= ic->cost_ns;
    return true;
}

/* RFC 1122 3.2.2: never about an ICMP error, a broadcast/multicast, a non-initial
 * fragment, or a source that does not name one host. */
static bool error_allowed(struct icmp *ic, const struct ipv4_rxinfo *info,
                          const struct view *payload)
{
    const uint8_t *h = view_data(&info->hdr);
    if (info->flags & IPV4_RX_BCAST) {
        ic->st.err_suppressed_bcast++;
        return false;
    }
    if (ipv4_get_frag(h) & IPV4_FRAG_OFF_MASK) {
        ic->st.err_suppressed_frag++;
        return false;
    }
    if (info->proto == IPV4_PROTO_ICMP &&
        (payload->len == 0 || icmp_type_is_error(view_data(payload)[0]))) {
        ic->st.err_suppressed_icmp++;
        return false;
    }
    if (ipv4_addr_is_any(info->src) || ipv4_addr_is_bcast(info->src) ||
        ipv4_addr_is_mcast(info->src) || ipv4_addr_is_loopback(info->src)) {
        ic->st.err_suppressed_src++;
        return false;
    }
    if (!rate_ok(ic)) {
        ic->st.err_ratelimited++;
        return false;
    }
    return true;
}

struct error_msg {
    uint8_t type, code;
    uint32_t rest;
    const struct view *hdr, *data;
    uint32_t quote;
};

/* Header, then the offending IP header and the first bytes of its data. */
static uint32_t error_header(void *ctx, const struct view *hv)
{
    const struct error_msg *m = ctx;
    uint8_t *p = view_data(hv);
    uint32_t len = ICMP_HDR_LEN + m->hdr->len + m->quote;
    struct icmp_repr r = {m->type, m->code, 0, m->rest};
    icmp_header_emit(&r, p);
    memcpy(p + ICMP_HDR_LEN, view_data(m->hdr), m->hdr->len);
    memcpy(p + ICMP_HDR_LEN + m->hdr->len, view_data(m->data), m->quote);
    icmp_set_csum(p, csum_finish(csum_add(0, p, len)));
    return len;
}

static void count_error(struct icmp *ic, uint8_t type, uint8_t code)
{
    if (type == ICMP_DEST_UNREACH && code == ICMP_CODE_PORT_UNREACH)
        ic->st.tx_port_unreach++;
    else if (type == ICMP_DEST_UNREACH && code == ICMP_CODE_PROTO_UNREACH)
        ic->st.tx_proto_unreach++;
    else if (type == ICMP_TIME_EXCEEDED)
        ic->st.tx_time_exceeded++;
    else
        ic->st.tx_other_error++;
}

bool icmp_send_error(struct icmp *ic, uint8_t type, uint8_t code, uint32_t rest,
                     const struct ipv4_rxinfo *info, const struct view *payload)
{
    if (!error_allowed(ic, info, payload))
        return false;
    struct error_msg m = {
        type,    code,
        rest,    &info->hdr,
        payload, payload->len < ICMP_ERR_QUOTE ? payload->len : ICMP_ERR_QUOTE};
    struct ipv4_wopts o = {.nowait = true};
    uint32_t size = ICMP_HDR_LEN + info->hdr.len + m.quote;
    enum ipv4_err err = ipv4_write(ic->ip, &o, info->src, IPV4_PROTO_ICMP, size,
                                   error_header, &m, NULL, 0);
    if (err != IPV4_OK) {
        ic->st.tx_errors++;
        return false;
    }
    count_error(ic, type, code);
    return true;
}
