/* Echo requests for the console's ping (see net/icmp.h): the pinging thread
 * registers a waiter (on its own stack), sends, and awaits a promise that the RX
 * path resolves when the matching reply comes in. */
#include "net/icmp.h"

/* Data bytes: i & 0xff, from a 1 KiB pattern repeated through views. */
#define PATTERN_LEN 1024
static uint8_t pattern[PATTERN_LEN];
static bool pattern_ready;

struct icmp_ping_waiter {
    struct ipv4_addr dst;
    uint16_t seq;
    uint64_t sent_ns;
    struct icmp_ping_result res;
    struct promise done;
};

struct echo_req {
    uint16_t id, seq;
    const struct view *data;
    int n;
};

static uint32_t echo_request_header(void *ctx, const struct view *hv)
{
    const struct echo_req *q = ctx;
    uint8_t *p = view_data(hv);
    struct icmp_repr r = {ICMP_ECHO_REQUEST, 0, 0, (uint32_t)q->id << 16 | q->seq};
    icmp_header_emit(&r, p);
    uint64_t s = csum_views(csum_add(0, p, ICMP_HDR_LEN), q->data, q->n);
    icmp_set_csum(p, csum_finish(s));
    return ICMP_HDR_LEN;
}

static enum ipv4_err send_request(struct icmp *ic, struct ipv4_addr dst, uint16_t seq,
                                  uint32_t size)
{
    struct view data[(ICMP_PING_MAX_DATA + PATTERN_LEN - 1) / PATTERN_LEN];
    int n = 0;
    if (!pattern_ready) {
        for (int i = 0; i < PATTERN_LEN; i++)
            pattern[i] = (uint8_t)i;
        pattern_ready = true;
    }
    for (uint32_t left = size; left > 0; n++) {
        uint32_t take = left < PATTERN_LEN ? left : PATTERN_LEN;
        data[n] = view_of_mem(pattern, take);
        left -= take;
    }
    struct echo_req q = {ic->ping_id, seq, data, n};
    return ipv4_write(ic->ip, NULL, dst, IPV4_PROTO_ICMP, ICMP_HDR_LEN,
                      echo_request_header, &q, data, n);
}

static int slot_take(struct icmp *ic, struct icmp_ping_waiter *w)
{
    for (int i = 0; i < ICMP_PING_SLOTS; i++)
        if (!ic->pings[i]) {
            ic->pings[i] = w;
            return i;
        }
    return -1;
}

enum icmp_ping_status icmp_ping(struct icmp *ic, struct ipv4_addr dst, uint16_t seq,
                                uint32_t size, uint64_t timeout_ns,
                                struct icmp_ping_result *res, enum ipv4_err *err)
{
    struct icmp_ping_waiter w = {.dst = dst, .seq = seq};
    enum icmp_ping_status st = ICMP_PING_REPLY;
    intptr_t v;
    if (size > ICMP_PING_MAX_DATA)
        return ICMP_PING_BUSY;
    int slot = slot_take(ic, &w);
    if (slot < 0)
        return ICMP_PING_BUSY;
    promise_init(&w.done);
    w.sent_ns = plat_now_ns();
    uint64_t deadline = w.sent_ns + timeout_ns;
    enum ipv4_err e = send_request(ic, dst, seq, size);
    if (err)
        *err = e;
    if (e != IPV4_OK) {
        st = ICMP_PING_SEND_ERROR;
        goto out;
    }
    ic->st.tx_echo_request++;
    if (promise_await(&w.done, deadline, &v) != WAIT_WOKEN) {
        st = ICMP_PING_TIMEOUT;
        goto out;
    }
    if (res)
        *res = w.res;
out:
    ic->pings[slot] = NULL;
    return st;
}

void icmp_ping_reply(struct icmp *ic, const struct ipv4_rxinfo *info,
                     const struct view *msg)
{
    struct icmp_repr h;
    icmp_header_read(view_data(msg), &h);
    uint16_t seq = icmp_echo_seq(&h);
    if (icmp_echo_id(&h) == ic->ping_id)
        for (int i = 0; i < ICMP_PING_SLOTS; i++) {
            struct icmp_ping_waiter *w = ic->pings[i];
            if (!w || w->seq != seq || !ipv4_addr_eq(w->dst, info->src) ||
                promise_is_resolved(&w->done))
                continue;
            w->res.rtt_ns = plat_now_ns() - w->sent_ns;
            w->res.ttl = info->ttl;
            w->res.bytes = msg->len - ICMP_HDR_LEN;
            w->res.from = info->src;
            promise_resolve(&w->done, 0);
            return;
        }
    ic->st.drop_unmatched_reply++;
}

const char *icmp_ping_status_name(enum icmp_ping_status s)
{
    static const char *const names[] = {"reply", "timeout", "send error", "busy"};
    return (unsigned)s < 4 ? names[s] : "?";
}
