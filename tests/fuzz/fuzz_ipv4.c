/* IPv4 header: ipv4_header_check/parse against a reference written from the
 * receive rules of docs/ipv4.md (frame >= 20, version 4, IHL >= 5, IHL*4 <= total <=
 * frame, checksum, then options: EOL ends, NOP is one byte, any other needs a
 * length >= 2 inside the header); the fields it reads; emit of an option-less
 * header (round trip); then the datagram through the stack, where exactly the
 * counter of the reason must move. Input: flags (1: fix the checksum, 2: fix the
 * total length, 4: link broadcast), then the header and payload bytes. */
#include <string.h>

#include "tests/fuzz/fuzz.h"

static enum ipv4_wire_err ref_check(const uint8_t *p, uint32_t len)
{
    if (len < 20)
        return IPV4_WIRE_SHORT;
    if (p[0] >> 4 != 4)
        return IPV4_WIRE_BAD_VERSION;
    uint32_t hl = (p[0] & 15) * 4u, total = (uint32_t)(p[2] << 8 | p[3]);
    if (hl < 20 || hl > total)
        return IPV4_WIRE_BAD_HDR_LEN;
    if (total > len)
        return IPV4_WIRE_TRUNCATED;
    if (!fz_ref_csum_ok(p, hl))
        return IPV4_WIRE_BAD_CSUM;
    for (uint32_t i = 20; i < hl;) {
        if (p[i] == 0)
            break;
        if (p[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= hl || p[i + 1] < 2 || i + p[i + 1] > hl)
            return IPV4_WIRE_BAD_OPTIONS;
        i += p[i + 1];
    }
    return IPV4_WIRE_OK;
}

static const char *const counter_of[] = {NULL,
                                         "ipv4.drop_short",
                                         "ipv4.drop_bad_version",
                                         "ipv4.drop_bad_hdr_len",
                                         "ipv4.drop_truncated",
                                         "ipv4.drop_bad_csum",
                                         "ipv4.drop_bad_options"};

static uint8_t pkt[9100], frame[9200];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz c = {data, size};
    uint8_t flags = fz_u8(&c);
    uint32_t len = (uint32_t)fz_bytes(&c, pkt, sizeof pkt);
    if ((flags & 2) && len >= 4) {
        pkt[2] = (uint8_t)(len >> 8);
        pkt[3] = (uint8_t)len;
    }
    uint32_t hl = len ? (pkt[0] & 15) * 4u : 0;
    if ((flags & 1) && hl >= 20 && hl <= len) {
        pkt[10] = pkt[11] = 0;
        uint16_t cs = fz_ref_csum(pkt, hl);
        pkt[10] = (uint8_t)(cs >> 8);
        pkt[11] = (uint8_t)cs;
    }

    struct view v = view_of_mem(pkt, len);
    struct ipv4_repr r;
    enum ipv4_wire_err want = ref_check(pkt, len), got = ipv4_header_parse(&v, &r);
    FZ_CHECK(got == want, "ipv4_header_parse says %s, reference %s",
             ipv4_wire_err_name(got), ipv4_wire_err_name(want));
    FZ_CHECK(ipv4_header_check(&v) == got, "check and parse disagree");
    if (got == IPV4_WIRE_OK) {
        uint16_t frag = (uint16_t)(pkt[6] << 8 | pkt[7]);
        FZ_CHECK(r.hdr_len == hl && r.payload_len == (pkt[2] << 8 | pkt[3]) - hl &&
                     r.proto == pkt[9] && r.ttl == pkt[8] && r.tos == pkt[1] &&
                     r.id == (pkt[4] << 8 | pkt[5]) &&
                     r.frag_off == (frag & 0x1fff) * 8 && r.df == !!(frag & 0x4000) &&
                     r.mf == !!(frag & 0x2000) && memcmp(&r.src.be, pkt + 12, 4) == 0 &&
                     memcmp(&r.dst.be, pkt + 16, 4) == 0,
                 "ipv4_header_parse misread a field");
        (void)ipv4_proto_name(r.proto);
        if (hl == 20 && !(frag & 0x8000)) { /* emit cannot say the reserved bit */
            uint8_t out[20];
            ipv4_header_emit(&r, out);
            FZ_CHECK(memcmp(out, pkt, 20) == 0 ||
                         (out[10] | out[11]) != (pkt[10] | pkt[11]),
                     "emit(parse(h)) != h");
            FZ_CHECK(memcmp(out, pkt, 10) == 0 && memcmp(out + 12, pkt + 12, 8) == 0,
                     "emit(parse(h)) changed a field");
            FZ_CHECK(fz_ref_csum_ok(out, 20), "emit wrote a bad checksum");
        }
    }

    /* Through the stack: the reason's counter moves, nothing else drops. */
    uint8_t cfg[9] = {0};
    struct fz cc = {cfg, sizeof cfg};
    struct net_stack *s = fz_stack_new(&cc);
    const struct eth_addr *dst = &fx_dut_mac;
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    if (flags & 4)
        dst = &bc;
    size_t n = fx_eth(frame, dst, &fx_peer_mac, ETH_TYPE_IPV4);
    memcpy(frame + n, pkt, len);
    fz_rx(frame, (uint32_t)(n + len));
    FZ_CHECK(net_counter(s, "ipv4.rx") == 1, "ipv4.rx not 1");
    if (want != IPV4_WIRE_OK)
        FZ_CHECK(net_counter(s, counter_of[want]) == 1, "%s did not move",
                 counter_of[want]);
    fz_stack_free();
    return 0;
}
