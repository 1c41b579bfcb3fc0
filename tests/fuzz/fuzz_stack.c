/* The whole stack (net_stack_create on the fake netif, net_input, net_tick): an
 * input is a configuration (see fz_stack_new) and then a program of records,
 * each one frame or one clock step:
 *   raw frame | IPv4 frame from fields (checksums fixed unless told not to) |
 *   ARP frame from fields | clock step + tick | jump to the next deadline |
 *   a datagram sent as fragments (in order, reversed, shuffled, with a hole, a
 *   duplicate or an overlap) | TX failure injection | console printers.
 * After every record: buffer pool balanced, reassembly and ARP within their
 * caps, and every frame the stack sent well formed (fz_check_*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"

#define MAX_FRAME 9100
#define MAX_FRAGS 256

static uint8_t frame[65536 + 128];

static uint8_t pick_proto(struct fz *c)
{
    static const uint8_t protos[8] = {1, 17, 1, 17, 6, 253, 2, 0};
    uint8_t k = fz_u8(c);
    return (k & 7) == 7 ? fz_u8(c) : protos[k & 7];
}

/* Ethernet + IPv4 from fields. Flags: 1 bad IP checksum, 2 keep the L4 checksum
 * as given, 4 total length from the input, 8 version/IHL byte from the input,
 * 16 trailing bytes after the datagram. */
static void ip_record(struct fz *c)
{
    struct eth_addr dmac = fz_pick_mac(c), smac = fx_peer_mac;
    struct ipv4_addr src = fz_pick_addr(c), dst = fz_pick_addr(c);
    uint8_t proto = pick_proto(c), flags = fz_u8(c), ttl = fz_u8(c);
    uint16_t id = fz_u8(c), frag = fz_u16(c) & 0xbfff;
    uint8_t opts[40];
    size_t optlen = (fz_u8(c) % 11) * 4;
    memset(opts, 1, sizeof opts);
    fz_bytes(c, opts, optlen);
    static uint8_t payload[1600];
    size_t plen = fz_bytes(c, payload, fz_u16(c) % sizeof payload);
    uint8_t *f = frame;
    size_t n = fx_eth(f, &dmac, &smac, ETH_TYPE_IPV4);
    uint8_t *ip = f + n;
    size_t hl = 20 + optlen;
    memcpy(ip + hl, payload, plen);
    if (!(flags & 2) && proto == IPV4_PROTO_ICMP)
        fz_fix_icmp(ip + hl, plen);
    if (!(flags & 2) && proto == IPV4_PROTO_UDP && plen >= 8) {
        net_wr16(ip + hl + 4, (uint16_t)plen);
        fz_fix_udp(ip + hl, plen, src, dst);
    }
    fx_ipv4_opts(ip, src, dst, proto, id, frag, ttl, opts, optlen, (uint16_t)plen);
    if (flags & 8)
        ip[0] = fz_u8(c);
    if (flags & 4)
        net_wr16(ip + 2, fz_u16(c));
    if (flags & (8 | 4)) {
        net_wr16(ip + 10, 0);
        net_wr16(ip + 10, fz_ref_csum(ip, (ip[0] & 15) * 4u));
    }
    if (flags & 1)
        ip[10] ^= (uint8_t)(1 + fz_u8(c) % 255);
    size_t len = n + hl + plen;
    if (flags & 16) {
        size_t extra = fz_u8(c);
        memset(f + len, 0, extra);
        len += extra;
    }
    fz_rx(f, (uint32_t)len);
}

/* ARP from fields; flags: 1 htype/ptype/lengths from the input, 2 truncated. */
static void arp_record(struct fz *c)
{
    struct eth_addr dmac = fz_pick_mac(c), sha = fz_pick_mac(c), tha = fz_pick_mac(c);
    struct ipv4_addr spa = fz_pick_addr(c), tpa = fz_pick_addr(c);
    uint8_t flags = fz_u8(c), op = fz_u8(c);
    uint8_t *f = frame;
    size_t n = fx_eth(f, &dmac, &sha, ETH_TYPE_ARP);
    uint8_t *p = f + n;
    net_wr16(p, 1);
    net_wr16(p + 2, 0x0800);
    p[4] = 6;
    p[5] = 4;
    if (flags & 1)
        fz_bytes(c, p, 6);
    net_wr16(p + 6, op % 4);
    memcpy(p + 8, sha.b, 6);
    memcpy(p + 14, &spa.be, 4);
    memcpy(p + 18, tha.b, 6);
    memcpy(p + 24, &tpa.be, 4);
    memset(p + 28, 0, 18);
    size_t len = n + 46;
    if (flags & 2)
        len = n + fz_u8(c) % 46;
    fz_rx(f, (uint32_t)len);
}

static void raw_record(struct fz *c)
{
    size_t want = fz_u16(c) % MAX_FRAME;
    size_t got = fz_bytes(c, frame, want);
    fz_rx(frame, (uint32_t)got);
}

/* A whole ICMP echo request or UDP datagram (valid checksum over all of it), sent
 * as fragments in an order the input picks. */
static uint8_t dgram[65536];
static void frag_record(struct fz *c)
{
    struct ipv4_addr src = fz_pick_addr(c), dst = fx_dut_ip();
    uint8_t kind = fz_u8(c), order = fz_u8(c), seed = fz_u8(c);
    uint16_t id = fz_u16(c);
    uint32_t size = fz_u16(c) % 65508, fsize = (fz_u8(c) + 1u) * 8u;
    uint8_t proto = (kind & 1) ? IPV4_PROTO_UDP : IPV4_PROTO_ICMP;
    uint32_t l4 = size + 8;
    if (20 + l4 > 65535)
        l4 = 65535 - 20;
    fz_pattern(dgram, l4, seed);
    if (proto == IPV4_PROTO_ICMP) {
        dgram[0] = ICMP_ECHO_REQUEST;
        dgram[1] = 0;
        fz_fix_icmp(dgram, l4);
    } else {
        static const uint16_t ports[4] = {7, 9, 4444, 7};
        net_wr16(dgram, 40000);
        net_wr16(dgram + 2, ports[(kind >> 1) & 3]);
        net_wr16(dgram + 4, (uint16_t)l4);
        fz_fix_udp(dgram, l4, src, dst);
    }
    while ((l4 + fsize - 1) / fsize > MAX_FRAGS)
        fsize *= 2;
    uint32_t nf = (l4 + fsize - 1) / fsize, idx[MAX_FRAGS + 2];
    for (uint32_t i = 0; i < nf; i++)
        idx[i] = (order & 3) == 1 ? nf - 1 - i : i;
    if ((order & 3) == 2) /* shuffled by a small LCG from the seed */
        for (uint32_t i = nf - 1, r = seed; i > 0; i--) {
            r = r * 1103515245u + 12345u;
            uint32_t j = (r >> 8) % (i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
    uint32_t count = nf;
    uint8_t twist = (order >> 2) & 3; /* 1 hole, 2 duplicate, 3 overlap */
    if (twist == 1 && nf > 1)
        idx[seed % nf] = idx[(seed + 1) % nf]; /* one missing, one twice */
    else if (twist == 2)
        idx[count++] = idx[seed % nf];
    for (uint32_t i = 0; i < count; i++) {
        uint32_t off = idx[i] * fsize, len = l4 - off < fsize ? l4 - off : fsize;
        bool mf = off + len < l4;
        if (twist == 3 && i == seed % count && off >= 8) {
            off -= 8; /* overlaps its predecessor */
            len += 8;
        }
        uint8_t *f = frame;
        size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, ETH_TYPE_IPV4);
        n += fx_ipv4_opts(f + n, src, dst, proto, id,
                          (uint16_t)((mf ? IPV4_FLAG_MF : 0) | (off / 8)), 64, NULL, 0,
                          (uint16_t)len);
        memcpy(f + n, dgram + off, len);
        fz_rx(f, (uint32_t)(n + len));
    }
}

static void print_sink(void *ctx, const char *line)
{
    *(size_t *)ctx += strlen(line);
}

static void printers(void)
{
    size_t n = 0;
    net_stats_print(fz_env.st, NULL, print_sink, &n);
    net_arp_print(fz_env.st, print_sink, &n);
    net_ifconfig_print(fz_env.st, print_sink, &n);
    FZ_CHECK(net_counter(fz_env.st, "ipv4.rx") >= 0, "ipv4.rx unknown");
}

static void fail_record(struct fz *c)
{
    struct fake_netif *f = &fz_env.fk;
    uint8_t b = fz_u8(c);
    f->tx_result = (b & 1) ? NETIF_ENOBUFS : NETIF_OK;
    f->tx_alloc_limit = (b & 2) ? f->tx_allocs + ((b >> 2) & 7) : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz c = {data, size};
    fz_stack_new(&c);
    for (int rec = 0; !fz_done(&c) && rec < 512; rec++) {
        uint8_t op = fz_u8(&c);
        switch (op % 10) {
        case 0:
            raw_record(&c);
            break;
        case 1:
        case 2:
            ip_record(&c);
            break;
        case 3:
            arp_record(&c);
            break;
        case 4: {
            uint16_t v = fz_u16(&c);
            fz_advance((op & 0x80) ? (uint64_t)v * 1000000000ull
                                   : (uint64_t)v * 1000000ull);
            break;
        }
        case 5: {
            uint64_t d = net_next_deadline(fz_env.st);
            if (d != UINT64_MAX && d > plat_now_ns())
                fz_advance(d - plat_now_ns());
            break;
        }
        case 6:
            frag_record(&c);
            break;
        case 7:
            fail_record(&c);
            break;
        case 8:
            printers();
            break;
        default:
            fz_advance(0);
            break;
        }
    }
    printers();
    fz_env.fk.tx_result = NETIF_OK;
    fz_stack_free();
    return 0;
}
