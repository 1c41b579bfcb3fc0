/* UDP: udp_header_parse against the reference (8 bytes, 8 <= length field <=
 * bytes received, checksum over pseudoheader + datagram unless 0), the receive
 * path's own checks (udp.c) against the same verdict through the stack, and the
 * echo service: a datagram to port 7 from a unicast source comes back once with
 * the ports swapped and the same data (its checksum reuses the request's data
 * sum; fz_check_tx verifies it). Input: flags (1: fix the length field, 2: fix
 * the checksum, 4: zero checksum, 8: link broadcast, 16: source from the
 * input), destination port selector, [source], then the datagram. */
#include <string.h>

#include "tests/fuzz/fuzz.h"

static uint8_t dg[1480], frame[1600]; /* one frame: no fragments to pick apart */
static struct {
    int echoes;
    uint16_t sport, dport;
    uint32_t dlen;
} seen;

static void on_tx(const uint8_t *f, uint32_t len)
{
    (void)len;
    if (net_rd16(f + 12) != ETH_TYPE_IPV4 || f[14 + 9] != IPV4_PROTO_UDP)
        return;
    const uint8_t *u = f + 34;
    seen.echoes++;
    FZ_CHECK(net_rd16(u) == 7 && net_rd16(u + 2) == seen.sport, "echo ports %u -> %u",
             net_rd16(u), net_rd16(u + 2));
    FZ_CHECK(net_rd16(u + 4) == 8 + seen.dlen, "echo length %u, request data %u",
             net_rd16(u + 4), seen.dlen);
    FZ_CHECK(memcmp(u + 8, dg + 8, seen.dlen) == 0, "echo data differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[4] = {7, 9, 4444, 7};
    struct fz c = {data, size};
    uint8_t flags = fz_u8(&c), psel = fz_u8(&c);
    struct ipv4_addr src = (flags & 16) ? fz_pick_addr(&c) : fx_peer_ip();
    struct ipv4_addr dst = fx_dut_ip();
    uint32_t len = (uint32_t)fz_bytes(&c, dg, sizeof dg);
    if (len >= 4 && (psel & 3) != 3)
        net_wr16(dg + 2, ports[psel & 3]);
    if ((flags & 1) && len >= 8)
        net_wr16(dg + 4, (uint16_t)len);
    if ((flags & 2) && len >= 8 && net_rd16(dg + 4) <= len && net_rd16(dg + 4) >= 8)
        fz_fix_udp(dg, net_rd16(dg + 4), src, dst);
    if ((flags & 4) && len >= 8)
        net_wr16(dg + 6, 0);

    /* Reference verdict. */
    enum udp_wire_err want = UDP_WIRE_OK;
    uint16_t ulen = len >= 8 ? net_rd16(dg + 4) : 0;
    if (len < 8)
        want = UDP_WIRE_SHORT;
    else if (ulen < 8 || ulen > len)
        want = UDP_WIRE_BAD_LEN;
    else if (net_rd16(dg + 6) != 0 &&
             !fz_ref_udp_ok((const uint8_t *)&src.be, (const uint8_t *)&dst.be, dg, ulen))
        want = UDP_WIRE_BAD_CSUM;
    struct view v = view_of_mem(dg, len);
    struct udp_repr r;
    enum udp_wire_err got = udp_header_parse(&v, src, dst, &r, NULL);
    FZ_CHECK(got == want, "udp_header_parse %d, reference %d", got, want);
    if (got == UDP_WIRE_OK) {
        uint8_t out[8];
        udp_header_emit(&r, out);
        FZ_CHECK(memcmp(out, dg, 8) == 0, "UDP emit(parse(h)) != h");
    }

    uint8_t cfg[9] = {0};
    struct fz cc = {cfg, sizeof cfg};
    struct net_stack *s = fz_stack_new(&cc);
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    size_t n =
        fx_eth(frame, (flags & 8) ? &bc : &fx_dut_mac, &fx_peer_mac, ETH_TYPE_IPV4);
    n += fx_ipv4_opts(frame + n, src, dst, IPV4_PROTO_UDP, 1, 0, 64, NULL, 0,
                      (uint16_t)len);
    memcpy(frame + n, dg, len);
    memset(&seen, 0, sizeof seen);
    if (got == UDP_WIRE_OK) {
        seen.sport = r.sport;
        seen.dlen = r.len - 8u;
    }
    fz_env.tx_hook = on_tx;
    fz_rx(frame, (uint32_t)(n + len));
    if (net_counter(s, "ipv4.delivered") == 1) {
        /* udp.c's checks and the wire parser agree. */
        static const char *const ctr[] = {NULL, "udp.drop_short", "udp.drop_bad_len",
                                          "udp.drop_bad_csum"};
        if (want != UDP_WIRE_OK)
            FZ_CHECK(net_counter(s, ctr[want]) == 1, "%s did not move", ctr[want]);
        else
            FZ_CHECK(
                net_counter(s, "udp.delivered") + net_counter(s, "udp.drop_no_port") == 1,
                "a good datagram neither delivered nor refused");
        bool echo = want == UDP_WIRE_OK && r.dport == 7 && !(flags & 8) &&
                    net_counter(s, "svc.echo_errors") == 0 &&
                    net_counter(s, "ipv4.tx_queued") == 0;
        FZ_CHECK(seen.echoes == (echo ? 1 : 0), "%d echoes (expected %d)", seen.echoes,
                 echo ? 1 : 0);
    }
    fz_stack_free();
    return 0;
}
