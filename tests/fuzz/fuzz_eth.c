/* Ethernet: the header parser and emitter (round trip), the receive filter (the
 * inline fast path and eth_rx_slow against a reference written from the rules:
 * our MAC, broadcast or a joined group; ARP or IPv4; 14 bytes at least), then
 * the frame through the whole stack. Input: one flags byte, then the frame. */
#include <string.h>

#include "tests/fuzz/fuzz.h"

static const struct eth_addr group = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}};

static void check_parse(const uint8_t *f, uint32_t len)
{
    struct view v = view_of_mem((void *)f, len);
    struct eth_repr r;
    bool ok = eth_header_parse(&v, &r);
    FZ_CHECK(ok == (len >= ETH_HDR_LEN), "eth_header_parse %d on %u bytes", ok, len);
    if (!ok)
        return;
    uint8_t out[ETH_HDR_LEN];
    eth_header_emit(&r, out);
    FZ_CHECK(memcmp(out, f, ETH_HDR_LEN) == 0, "Ethernet emit(parse(x)) != x");
    FZ_CHECK(r.type == (uint16_t)(f[12] << 8 | f[13]), "Ethernet type misread");
    (void)eth_type_name(r.type);
}

static void check_filter(const uint8_t *f, uint32_t len, bool joined)
{
    struct fake_netif nf;
    struct eth e;
    fake_netif_init(&nf, &fx_dut_mac, 1500, 4);
    eth_init(&e, &nf.nif);
    if (joined)
        FZ_CHECK(eth_mcast_join(&e, &group) == 0, "join failed");
    /* The reference. */
    uint16_t want_type = 0, want_flags = 0;
    if (len >= 14) {
        uint16_t t = (uint16_t)(f[12] << 8 | f[13]);
        bool ours = memcmp(f, fx_dut_mac.b, 6) == 0;
        bool bc = memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0;
        bool mc = joined && memcmp(f, group.b, 6) == 0;
        if ((ours || bc || mc) && (t == ETH_TYPE_IPV4 || t == ETH_TYPE_ARP)) {
            want_type = t;
            want_flags = ours ? 0 : ETH_RX_BCAST;
        }
    }
    struct view v = view_of_mem((void *)f, len), v2 = v;
    struct eth_rx r = eth_rx(&e, &v);
    FZ_CHECK(r.type == want_type && r.flags == want_flags,
             "eth_rx gave type 0x%x flags %u, want 0x%x %u", r.type, r.flags, want_type,
             want_flags);
    if (r.type)
        FZ_CHECK(v.off == 14 && v.len == len - 14, "eth_rx left the view at %u+%u", v.off,
                 v.len);
    struct eth_rx s = eth_rx_slow(&e, &v2);
    FZ_CHECK(s.type == r.type && s.flags == r.flags, "eth_rx_slow disagrees with eth_rx");
    const struct eth_stats *st = &e.st;
    FZ_CHECK(st->rx_frames == 2, "rx_frames %llu", (unsigned long long)st->rx_frames);
    uint64_t drops = st->drop_short + st->drop_not_ours + st->drop_ethertype;
    FZ_CHECK(r.type ? drops == 0 : drops == 2, "drops %llu for type 0x%x",
             (unsigned long long)drops, r.type);
    if (joined) {
        eth_mcast_leave(&e, &group);
        FZ_CHECK(!e.mcast_refs[0], "leave kept the group");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz c = {data, size};
    uint8_t flags = fz_u8(&c);
    const uint8_t *f = c.p;
    uint32_t len = (uint32_t)(c.n > 9100 ? 9100 : c.n);
    check_parse(f, len);
    check_filter(f, len, flags & 1);
    /* The same frame through the stack (a fresh one: same config every time). */
    uint8_t cfg[9] = {(uint8_t)(flags & 0x28)};
    struct fz cc = {cfg, sizeof cfg};
    fz_stack_new(&cc);
    fz_rx(f, len);
    fz_stack_free();
    return 0;
}
