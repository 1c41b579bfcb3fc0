/* ARP: arp_packet_parse against the reference (28 bytes, htype 1, ptype 0x0800,
 * lengths 6/4, checked in that order), emit (round trip), and the cache as a
 * program over a small table: packets in (requests, replies, gratuitous, from
 * any sender), writers that must not block (their frames wait in the queue),
 * lookups, static entries added and removed, clock steps with ticks. After each
 * step: table within its cap, one entry per address, queues only on pending
 * entries, every queued TX buffer accounted for (fz_check_invariants), and every
 * ARP packet sent well formed. Input: the stack configuration, then steps. */
#include <string.h>

#include "net/wire/arp.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_plat.h"

static enum arp_wire_err ref_parse(const uint8_t *p, uint32_t len)
{
    if (len < 28)
        return ARP_WIRE_SHORT;
    if (p[0] != 0 || p[1] != 1)
        return ARP_WIRE_BAD_HTYPE;
    if (p[2] != 8 || p[3] != 0)
        return ARP_WIRE_BAD_PTYPE;
    if (p[4] != 6 || p[5] != 4)
        return ARP_WIRE_BAD_LEN;
    return ARP_WIRE_OK;
}

static void wire_step(struct fz *c)
{
    uint8_t p[64];
    uint32_t len = (uint32_t)fz_bytes(c, p, fz_u8(c) % sizeof p);
    if (len >= 6 && (p[0] & 0x80)) { /* mostly well formed */
        p[0] = 0, p[1] = 1, p[2] = 8, p[3] = 0, p[4] = 6, p[5] = 4;
    }
    struct view v = view_of_mem(p, len);
    struct arp_repr r;
    enum arp_wire_err got = arp_packet_parse(&v, &r), want = ref_parse(p, len);
    FZ_CHECK(got == want, "arp_packet_parse %d, reference %d", got, want);
    if (got == ARP_WIRE_OK) {
        uint8_t out[28];
        arp_packet_emit(&r, out);
        FZ_CHECK(memcmp(out, p, 28) == 0, "ARP emit(parse(p)) != p");
        (void)arp_op_name(r.op);
    }
    /* And the same bytes as a frame. */
    uint8_t f[14 + 64];
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    size_t n = fx_eth(f, &bc, &fx_peer_mac, ETH_TYPE_ARP);
    memcpy(f + n, p, len);
    fz_rx(f, (uint32_t)(n + len));
}

/* A request or reply with addresses picked to hit the table often. */
static void packet_step(struct fz *c)
{
    uint8_t f[60] = {0};
    uint8_t k = fz_u8(c);
    struct eth_addr sha = fx_peer_mac;
    sha.b[5] = (uint8_t)(k & 0x0f);
    if (k & 0x10)
        sha = fz_pick_mac(c);
    struct ipv4_addr spa = ipv4_addr_make(10, 0, 0, (uint8_t)(fz_u8(c) % 12));
    if (k & 0x20)
        spa = fz_pick_addr(c);
    struct ipv4_addr tpa = (k & 0x40) ? fz_pick_addr(c) : fx_dut_ip();
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    size_t n = fx_eth(f, (k & 0x80) ? &fx_dut_mac : &bc, &sha, ETH_TYPE_ARP);
    uint8_t *p = f + n;
    net_wr16(p, 1);
    net_wr16(p + 2, 0x0800);
    p[4] = 6, p[5] = 4;
    net_wr16(p + 6, (uint16_t)(1 + (fz_u8(c) & 1)));
    memcpy(p + 8, sha.b, 6);
    memcpy(p + 14, &spa.be, 4);
    memcpy(p + 24, &tpa.be, 4);
    fz_rx(f, sizeof f);
}

/* A UDP datagram from a thread that must not block: resolved, or queued. */
static void write_step(struct fz *c)
{
    struct ipv4_addr dst = ipv4_addr_make(10, 0, 0, (uint8_t)(fz_u8(c) % 12));
    uint8_t k = fz_u8(c);
    if (k & 1)
        dst = fz_pick_addr(c);
    uint8_t data[600];
    memset(data, k, sizeof data);
    struct view v = view_of_mem(data, (k & 2) ? 600 : 16);
    struct udp_send_opts o = {.ip = {.nowait = true}};
    (void)udp_sendto(&fz_env.st->udp, 5000, dst, 5001, &v, 1, &o);
    fz_check_tx();
    fz_check_invariants();
}

static void lookup_step(struct fz *c)
{
    struct eth_addr mac;
    struct ipv4_addr ip = ipv4_addr_make(10, 0, 0, (uint8_t)(fz_u8(c) % 12));
    if (arp_lookup(&fz_env.st->arp, ip, plat_now_ns(), &mac))
        FZ_CHECK(!eth_addr_is_mcast(&mac), "lookup gave a multicast MAC");
    fz_check_tx();
    fz_check_invariants();
}

static void static_step(struct fz *c)
{
    uint8_t k = fz_u8(c);
    struct ipv4_addr ip = ipv4_addr_make(10, 0, 0, (uint8_t)(k % 12));
    if (k & 0x80) {
        arp_remove(&fz_env.st->arp, ip);
    } else {
        struct eth_addr m = {{0x02, 0, 0, 0, 0x77, k}};
        (void)arp_add_static(&fz_env.st->arp, ip, &m);
    }
    fz_check_tx();
    fz_check_invariants();
}

static size_t print_n;
static void print_sink(void *ctx, const char *line)
{
    (void)ctx;
    print_n += strlen(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz c = {data, size};
    fz_stack_new(&c);
    for (int step = 0; !fz_done(&c) && step < 1000; step++) {
        uint8_t op = fz_u8(&c);
        switch (op % 8) {
        case 0:
            wire_step(&c);
            break;
        case 1:
        case 2:
            packet_step(&c);
            break;
        case 3:
            write_step(&c);
            break;
        case 4:
            lookup_step(&c);
            break;
        case 5:
            static_step(&c);
            break;
        case 6:
            fz_advance((op & 0x80) ? fz_u8(&c) * 1000000000ull : fz_u16(&c) * 1000000ull);
            break;
        default:
            net_arp_print(fz_env.st, print_sink, NULL);
            break;
        }
    }
    fz_stack_free();
    return 0;
}
