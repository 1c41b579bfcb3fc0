/* Reassembly on its own (ipv4_reass_add / _tick / _free): a stream of fragments
 * for a few keys with clock steps, on a reassembler whose limits come from the
 * input. Every fragment carries the bytes its datagram has at its offsets
 * (byte i of datagram k is a function of k and i), so any datagram delivered
 * can be checked whole: its length, every byte, and the rewritten header
 * (total length, no fragment bits but DF, checksum, addresses, protocol, id).
 * Delivered datagrams may be held a while (their slot stays busy) and released
 * later, or outlive the reassembler (orphans). After each step: bytes held equal
 * what the slots hold and stay under the cap; timeouts report only datagrams
 * whose first fragment was held, with its header and first 8 bytes.
 * Input: limits (slots, bytes, timeout), then steps. */
#include <stdlib.h>
#include <string.h>

#include "net/ipv4_reass.h"
#include "tests/fuzz/fuzz.h"

#define NKEYS 6
#define HOLD_MAX 4

static struct ipv4_reass R;
static uint64_t now;
static struct view held[HOLD_MAX];
static int nheld;

static uint8_t pattern(unsigned key, uint32_t pos)
{
    return (uint8_t)(key * 37u + pos * 7u + (pos >> 8));
}

static uint8_t data[65536 + 8];

FZ_NO_COVERAGE static void fill(unsigned key, uint32_t off, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        data[i] = pattern(key, off + i);
}

/* The first byte of d[0, len) that is not datagram key's, or len. */
FZ_NO_COVERAGE static uint32_t first_wrong(const uint8_t *d, uint32_t len, unsigned key)
{
    uint32_t i = 0;
    while (i < len && d[i] == pattern(key, i))
        i++;
    return i;
}

static void key_of(unsigned k, struct ipv4_addr *src, struct ipv4_addr *dst,
                   uint8_t *proto, uint16_t *id)
{
    *src = ipv4_addr_make(10, 0, 0, (uint8_t)(1 + k % 2));
    *dst = ipv4_addr_make(10, 0, 0, 2);
    *proto = k < 4 ? 17 : 1;
    *id = (uint16_t)(0x100 + k / 2);
}

static unsigned key_from(const uint8_t *h)
{
    for (unsigned k = 0; k < NKEYS; k++) {
        struct ipv4_addr s, d;
        uint8_t proto;
        uint16_t id;
        key_of(k, &s, &d, &proto, &id);
        if (memcmp(h + 12, &s.be, 4) == 0 && memcmp(h + 16, &d.be, 4) == 0 &&
            h[9] == proto && net_rd16(h + 4) == id)
            return k;
    }
    fz_fail("a datagram of no key came out");
}

static void check_counts(void)
{
    uint64_t held_bytes = 0;
    for (uint32_t i = 0; i < R.nslots; i++)
        if (R.slots[i]->state != 0)
            held_bytes += R.slots[i]->bytes;
        else
            FZ_CHECK(R.slots[i]->bytes == 0, "free slot with bytes");
    FZ_CHECK(held_bytes == R.bytes_held, "bytes_held %u, slots %llu", R.bytes_held,
             (unsigned long long)held_bytes);
    FZ_CHECK(R.bytes_held <= R.max_bytes, "bytes_held %u over cap %u", R.bytes_held,
             R.max_bytes);
    uint64_t d = ipv4_reass_deadline(&R);
    FZ_CHECK(ipv4_reass_in_progress(&R) ? d != UINT64_MAX : d == UINT64_MAX,
             "deadline %llu with %u in progress", (unsigned long long)d,
             ipv4_reass_in_progress(&R));
}

static void check_done(const struct view *hv, const struct view *dv)
{
    const uint8_t *h = view_data(hv);
    FZ_CHECK(hv->len >= 20 && hv->len <= 60 && (h[0] & 15) * 4u == hv->len,
             "header of %u bytes, IHL %u", hv->len, h[0] & 15);
    FZ_CHECK(net_rd16(h + 2) == hv->len + dv->len, "total length %u for %u + %u",
             net_rd16(h + 2), hv->len, dv->len);
    FZ_CHECK(hv->len + dv->len <= 65535, "datagram of %u bytes", hv->len + dv->len);
    FZ_CHECK((net_rd16(h + 6) & ~IPV4_FLAG_DF) == 0, "fragment field 0x%04x left",
             net_rd16(h + 6));
    FZ_CHECK(fz_ref_csum_ok(h, hv->len), "reassembled header checksum wrong");
    FZ_CHECK(dv->len > 0, "empty datagram delivered");
    /* The data must directly follow the header in the buffer (one view could
     * cover both). */
    FZ_CHECK(hv->buf == dv->buf && hv->off + hv->len == dv->off, "header and data apart");
    unsigned k = key_from(h);
    const uint8_t *d = view_data(dv);
    uint32_t bad = first_wrong(d, dv->len, k);
    FZ_CHECK(bad == dv->len, "byte %u of datagram %u wrong", bad, k);
}

static void on_expired(void *ctx, const struct view *hdr, const struct view *data8,
                       unsigned flags)
{
    (void)ctx, (void)flags;
    const uint8_t *h = view_data(hdr);
    FZ_CHECK(hdr->len >= 20 && hdr->len <= 60, "expired header of %u bytes", hdr->len);
    FZ_CHECK((net_rd16(h + 6) & IPV4_FRAG_OFF_MASK) == 0, "expired header not the first");
    FZ_CHECK(data8->len == 8, "expired quote of %u bytes", data8->len);
    unsigned k = key_from(h);
    for (uint32_t i = 0; i < 8; i++)
        FZ_CHECK(view_data(data8)[i] == pattern(k, i), "expired quote byte %u wrong", i);
}

static void fragment(struct fz *c)
{
    uint8_t a = fz_u8(c);
    unsigned k = a % NKEYS;
    uint16_t offw = fz_u16(c);
    uint32_t off = (uint32_t)(offw & 0x1fff) * 8;
    if (a & 0x40) /* small offsets are the interesting ones */
        off = (uint32_t)(offw & 0x3f) * 8;
    uint16_t lw = fz_u16(c);
    uint32_t len = (a & 0x80) ? lw : lw % 600;
    bool mf = !(fz_u8(c) & 1);
    uint8_t optw = fz_u8(c) % 4;
    unsigned hl = optw == 3 ? 60 : 20 + optw * 4;
    if (off + len > 65535 + 8)
        len = 65535 + 8 - off; /* an offset plus length past 65535 stays possible */
    struct ipv4_addr s, d;
    uint8_t proto;
    uint16_t id;
    key_of(k, &s, &d, &proto, &id);
    uint8_t opts[40];
    memset(opts, IPV4_OPT_NOP, sizeof opts);
    uint8_t hdr[60];
    fx_ipv4_opts(hdr, s, d, proto, id,
                 (uint16_t)((mf ? IPV4_FLAG_MF : 0) | ((off / 8) & IPV4_FRAG_OFF_MASK)),
                 64, opts, hl - 20, (uint16_t)(len + hl > 65535 ? 65535 - hl : len));
    fill(k, off, len);
    struct ipv4_repr h;
    ipv4_header_read(hdr, &h);
    h.frag_off = (uint16_t)off; /* (the header field holds offsets < 65536 only) */
    if (off > 0xfff8)
        return;
    struct view hv = view_of_mem(hdr, hl), dv = view_of_mem(data, len), oh, od;
    enum ipv4_reass_result res =
        ipv4_reass_add(&R, &h, &hv, &dv, a & 0x20 ? IPV4_RX_BCAST : 0, now, &oh, &od);
    if (res == REASS_DONE) {
        check_done(&oh, &od);
        if (nheld < HOLD_MAX && (a & 0x20))
            held[nheld++] = od; /* keep it: the slot stays busy */
        else
            view_release(&od);
    }
    check_counts();
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    struct fz c = {in, size};
    uint8_t slots = fz_u8(&c) % 9, kb = fz_u8(&c), tmo = fz_u8(&c);
    now = 5000000000ull;
    nheld = 0;
    KCHECK(ipv4_reass_init(&R, slots, (uint32_t)kb * 1024u,
                           (uint64_t)tmo * 100000000ull) == 0);
    for (int step = 0; !fz_done(&c) && step < 2000; step++) {
        uint8_t op = fz_u8(&c);
        switch (op % 4) {
        case 0:
        case 1:
            fragment(&c);
            break;
        case 2:
            now += (op & 0x80) ? fz_u8(&c) * 1000000000ull : fz_u16(&c) * 1000000ull;
            ipv4_reass_tick(&R, now, on_expired, NULL);
            FZ_CHECK(ipv4_reass_deadline(&R) > now, "expired datagrams left after tick");
            check_counts();
            break;
        default:
            if (nheld > 0)
                view_release(&held[--nheld]);
            check_counts();
            break;
        }
    }
    /* Some held datagrams outlive the reassembler (freed on their release). */
    int keep = nheld / 2;
    while (nheld > keep)
        view_release(&held[--nheld]);
    ipv4_reass_free(&R);
    while (nheld > 0)
        view_release(&held[--nheld]);
    return 0;
}
