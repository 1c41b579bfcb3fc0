/* ICMP: icmp_check/parse against the reference (8 bytes, checksum over the
 * message), emit (round trip), then the message through the stack inside a
 * valid IPv4 datagram: an echo request from a unicast source gets exactly one
 * reply carrying the same code, identifier, sequence and data (the reply's
 * checksum is derived incrementally, RFC 1624, and checked by fz_check_tx);
 * nothing else is ever answered. Input: flags (1: fix the checksum, 2: link
 * broadcast, 4: source from the input), [source], TOS, then the message. */
#include <string.h>

#include "tests/fuzz/fuzz.h"

static uint8_t msg[1480], frame[1600]; /* one frame: no fragments to pick apart */
static struct {
    int replies;
    uint32_t len;
} seen;

static void on_tx(const uint8_t *f, uint32_t len)
{
    (void)len;
    if (net_rd16(f + 12) != ETH_TYPE_IPV4)
        return;
    const uint8_t *ip = f + 14, *m = ip + 20;
    uint32_t mlen = net_rd16(ip + 2) - 20u;
    FZ_CHECK(ip[9] == IPV4_PROTO_ICMP, "protocol %u sent", ip[9]);
    if (m[0] != ICMP_ECHO_REPLY)
        return; /* an error (protocol unreachable...): checked by fz_check_tx */
    seen.replies++;
    FZ_CHECK(mlen == seen.len, "echo reply of %u bytes to %u", mlen, seen.len);
    FZ_CHECK(m[1] == msg[1] && memcmp(m + 4, msg + 4, mlen - 4) == 0,
             "echo reply differs from the request");
    FZ_CHECK(ip[1] == frame[15], "echo reply TOS %u, request %u", ip[1], frame[15]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz c = {data, size};
    uint8_t flags = fz_u8(&c);
    struct ipv4_addr src = (flags & 4) ? fz_pick_addr(&c) : fx_peer_ip();
    uint8_t tos = fz_u8(&c);
    uint32_t len = (uint32_t)fz_bytes(&c, msg, sizeof msg);
    if (flags & 1)
        fz_fix_icmp(msg, len);

    struct view v = view_of_mem(msg, len);
    struct icmp_repr r;
    enum icmp_wire_err want = len < 8                     ? ICMP_WIRE_SHORT
                              : !fz_ref_csum_ok(msg, len) ? ICMP_WIRE_BAD_CSUM
                                                          : ICMP_WIRE_OK;
    enum icmp_wire_err got = icmp_header_parse(&v, &r);
    FZ_CHECK(got == want, "icmp_header_parse %d, reference %d", got, want);
    if (got == ICMP_WIRE_OK) {
        uint8_t out[8];
        icmp_header_emit(&r, out);
        FZ_CHECK(memcmp(out, msg, 8) == 0, "ICMP emit(parse(h)) != h");
        (void)icmp_type_name(r.type);
        (void)icmp_type_is_error(r.type);
    }

    uint8_t cfg[9] = {0};
    struct fz cc = {cfg, sizeof cfg};
    struct net_stack *s = fz_stack_new(&cc);
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    size_t n =
        fx_eth(frame, (flags & 2) ? &bc : &fx_dut_mac, &fx_peer_mac, ETH_TYPE_IPV4);
    n += fx_ipv4_opts(frame + n, src, fx_dut_ip(), IPV4_PROTO_ICMP, 1, 0, 64, NULL, 0,
                      (uint16_t)len);
    frame[15] = tos;
    net_wr16(frame + 24, 0);
    net_wr16(frame + 24, fz_ref_csum(frame + 14, 20));
    memcpy(frame + n, msg, len);
    memset(&seen, 0, sizeof seen);
    seen.len = len;
    fz_env.tx_hook = on_tx;
    fz_rx(frame, (uint32_t)(n + len));
    bool answer = want == ICMP_WIRE_OK && msg[0] == ICMP_ECHO_REQUEST && !(flags & 2) &&
                  net_counter(s, "ipv4.delivered") == 1;
    /* A source we cannot answer (0.0.0.0...) fails the write; one whose MAC is
     * unknown has the reply wait in ARP's queue. */
    if (answer && net_counter(s, "icmp.tx_errors") == 0 &&
        net_counter(s, "ipv4.tx_queued") == 0)
        FZ_CHECK(seen.replies == 1, "%d replies to an echo request", seen.replies);
    else
        FZ_CHECK(seen.replies == 0, "%d replies to something else", seen.replies);
    fz_stack_free();
    return 0;
}
