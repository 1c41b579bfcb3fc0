/* Fixtures and frame builders for the net/ host tests (see net_fixtures.h). */
#include <string.h>

#include "net/wire/bytes.h"
#include "tests/unit/net_fixtures.h"

const uint8_t fx_icmp56_frame[98] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x54, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01, 0x26, 0xa7, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0xe3, 0xb3, 0x12, 0x34, 0x00, 0x00,
    0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
    0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31,
    0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
};

const uint8_t fx_udp64_frame[106] = {
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x5c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x26, 0x8f, 0x0a, 0x00,
    0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x9c, 0x40, 0x00, 0x07, 0x00, 0x48, 0xb5, 0xb1,
    0x45, 0x43, 0x48, 0x4f, 0x00, 0x00, 0x00, 0x00, 0x03, 0x0a, 0x11, 0x18, 0x1f, 0x26,
    0x2d, 0x34, 0x3b, 0x42, 0x49, 0x50, 0x57, 0x5e, 0x65, 0x6c, 0x73, 0x7a, 0x81, 0x88,
    0x8f, 0x96, 0x9d, 0xa4, 0xab, 0xb2, 0xb9, 0xc0, 0xc7, 0xce, 0xd5, 0xdc, 0xe3, 0xea,
    0xf1, 0xf8, 0xff, 0x06, 0x0d, 0x14, 0x1b, 0x22, 0x29, 0x30, 0x37, 0x3e, 0x45, 0x4c,
    0x53, 0x5a, 0x61, 0x68, 0x6f, 0x76, 0x7d, 0x84,
};

const struct eth_addr fx_dut_mac = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
const struct eth_addr fx_peer_mac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};

struct ipv4_addr fx_dut_ip(void)
{
    return ipv4_addr_make(10, 0, 0, 2);
}
struct ipv4_addr fx_peer_ip(void)
{
    return ipv4_addr_make(10, 0, 0, 1);
}

static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

uint16_t fx_ref_csum(const uint8_t *p, size_t len)
{
    return (uint16_t)~ref_sum(0, p, len);
}

size_t fx_eth(uint8_t *f, const struct eth_addr *dst, const struct eth_addr *src,
              uint16_t type)
{
    memcpy(f, dst->b, 6);
    memcpy(f + 6, src->b, 6);
    net_wr16(f + 12, type);
    return 14;
}

size_t fx_ipv4_opts(uint8_t *p, struct ipv4_addr src, struct ipv4_addr dst, uint8_t proto,
                    uint16_t id, uint16_t frag, uint8_t ttl, const uint8_t *opts,
                    size_t optlen, uint16_t payload_len)
{
    size_t hl = 20 + (optlen & ~(size_t)3);
    if (hl > 60)
        hl = 60;
    p[0] = (uint8_t)(0x40 | hl / 4);
    p[1] = 0;
    net_wr16(p + 2, (uint16_t)(hl + payload_len));
    net_wr16(p + 4, id);
    net_wr16(p + 6, frag);
    p[8] = ttl;
    p[9] = proto;
    net_wr16(p + 10, 0);
    memcpy(p + 12, &src.be, 4);
    memcpy(p + 16, &dst.be, 4);
    if (hl > 20)
        memcpy(p + 20, opts, hl - 20);
    net_wr16(p + 10, fx_ref_csum(p, hl));
    return hl;
}

size_t fx_ipv4(uint8_t *p, struct ipv4_addr src, struct ipv4_addr dst, uint8_t proto,
               uint16_t id, uint16_t frag, uint8_t ttl, uint16_t payload_len)
{
    return fx_ipv4_opts(p, src, dst, proto, id, frag, ttl, NULL, 0, payload_len);
}

size_t fx_arp(uint8_t *f, const struct eth_addr *edst, const struct eth_addr *esrc,
              uint16_t op, const struct eth_addr *sha, struct ipv4_addr spa,
              const struct eth_addr *tha, struct ipv4_addr tpa)
{
    memset(f, 0, 60);
    fx_eth(f, edst, esrc, 0x0806);
    uint8_t *p = f + 14;
    net_wr16(p, 1);
    net_wr16(p + 2, 0x0800);
    p[4] = 6, p[5] = 4;
    net_wr16(p + 6, op);
    memcpy(p + 8, sha->b, 6);
    memcpy(p + 14, &spa.be, 4);
    if (tha)
        memcpy(p + 18, tha->b, 6);
    memcpy(p + 24, &tpa.be, 4);
    return 60;
}

size_t fx_ip_frame(uint8_t *f, uint8_t proto, uint16_t id, uint16_t frag,
                   const uint8_t *payload, size_t len)
{
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), proto, id, frag, 64, (uint16_t)len);
    memcpy(f + n, payload, len);
    return n + len;
}

size_t fx_udp(uint8_t *p, struct ipv4_addr src, struct ipv4_addr dst, uint16_t sport,
              uint16_t dport, const uint8_t *data, size_t len)
{
    uint8_t pseudo[12];
    net_wr16(p, sport);
    net_wr16(p + 2, dport);
    net_wr16(p + 4, (uint16_t)(8 + len));
    net_wr16(p + 6, 0);
    memcpy(p + 8, data, len);
    memcpy(pseudo, &src.be, 4);
    memcpy(pseudo + 4, &dst.be, 4);
    pseudo[8] = 0;
    pseudo[9] = 17;
    net_wr16(pseudo + 10, (uint16_t)(8 + len));
    uint16_t c = (uint16_t)~ref_sum(ref_sum(0, pseudo, 12), p, 8 + len);
    net_wr16(p + 6, c == 0 ? 0xffff : c);
    return 8 + len;
}

size_t fx_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data,
               size_t len)
{
    p[0] = type;
    p[1] = code;
    net_wr16(p + 2, 0);
    net_wr32(p + 4, rest);
    memcpy(p + 8, data, len);
    net_wr16(p + 2, fx_ref_csum(p, 8 + len));
    return 8 + len;
}
