/* The Internet checksum against the plain RFC 1071 loop: csum_add at every
 * alignment and length, csum_views over a split of the same bytes (odd pieces
 * included), csum_combine, csum_fold/csum_finish, and the RFC 1624 updates.
 * Input: split points byte, start offset byte, then the data. */
#include <string.h>

#include "net/csum.h"
#include "tests/fuzz/fuzz.h"

static uint8_t buf[70000];

/* Equal as one's-complement numbers (0x0000 and 0xffff are both zero). */
static bool eq1c(uint16_t a, uint16_t b)
{
    return a == b || (a == 0 && b == 0xffff) || (a == 0xffff && b == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz c = {data, size};
    uint8_t splits = fz_u8(&c), shift = fz_u8(&c) & 7;
    uint16_t w_old = fz_u16(&c), w_new = fz_u16(&c);
    uint32_t len = (uint32_t)(c.n > 65536 ? 65536 : c.n);
    memcpy(buf + shift, c.p, len);
    const uint8_t *p = buf + shift;

    uint16_t ref = fz_ref_csum(p, len);
    uint16_t got = csum_finish(csum_add(0, p, len));
    /* csum_finish gives the field value to store with net_wr16. */
    FZ_CHECK(eq1c(got, ref), "csum_add: 0x%04x, reference 0x%04x (%u bytes at +%u)", got,
             ref, len, shift);
    /* The folded sum itself (host order words: byte-swapped). */
    FZ_CHECK(eq1c(__builtin_bswap16(csum_fold(csum_add(0, p, len))),
                  (uint16_t)fz_ref_sum(0, p, len)),
             "csum_fold disagrees with the reference sum");

    /* The same bytes as up to 8 views cut at input-chosen points. */
    struct view vs[8];
    int n = 0;
    uint32_t at = 0;
    for (int i = 0; i < 7 && at < len; i++) {
        uint32_t piece = ((splits >> i) & 1) ? (uint32_t)(fz_u8(&c) % 97) : len / 3 + 1;
        if (piece > len - at)
            piece = len - at;
        vs[n++] = view_of_mem((void *)(p + at), piece);
        at += piece;
    }
    vs[n++] = view_of_mem((void *)(p + at), len - at);
    uint64_t s1 = csum_add(0, p, len), s2 = csum_views(0, vs, n);
    FZ_CHECK(eq1c(csum_fold(s1), csum_fold(s2)),
             "csum_views over %d pieces disagrees with csum_add", n);

    /* RFC 1624: change one aligned 16-bit word, update vs recompute. */
    if (len >= 4) {
        uint32_t off = (uint32_t)(w_old % (len / 2)) * 2;
        uint16_t before = (uint16_t)(p[off] << 8 | p[off + 1]);
        uint16_t hc = fz_ref_csum(p, len);
        buf[shift + off] = (uint8_t)(w_new >> 8);
        buf[shift + off + 1] = (uint8_t)w_new;
        uint16_t upd = csum_update16(hc, before, w_new), re = fz_ref_csum(p, len);
        FZ_CHECK(eq1c(upd, re), "csum_update16 0x%04x, recomputed 0x%04x", upd, re);
    }
    return 0;
}
