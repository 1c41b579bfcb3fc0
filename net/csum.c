/* RFC 1071 sum, eight bytes at a time: a 128-bit accumulator turns each 64-bit
 * word into an add plus an add-with-carry, and 2^64 = 1 (mod 2^64 - 1) lets the
 * carry word fold back in at the end. Loads go through memcpy (any alignment).
 * This is the hot loop of the stack (a 1400-byte UDP echo sums its payload twice). */
#include "net/csum.h"

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* 0..7 trailing bytes: byte k of the tail is byte k of a little-endian word. */
static uint64_t tail_bytes(const uint8_t *p, size_t len)
{
    uint64_t v = 0;
    size_t k = 0;
    if (len & 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        v = w;
        k = 4;
    }
    if (len & 2) {
        uint16_t w;
        memcpy(&w, p + k, 2);
        v |= (uint64_t)w << (8 * k);
        k += 2;
    }
    if (len & 1)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

uint64_t csum_add(uint64_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    unsigned __int128 acc = sum;
    while (len >= 32) {
        acc += load64(p);
        acc += load64(p + 8);
        acc += load64(p + 16);
        acc += load64(p + 24);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        acc += load64(p);
        p += 8;
        len -= 8;
    }
    if (len)
        acc += tail_bytes(p, len);
    uint64_t lo = (uint64_t)acc, hi = (uint64_t)(acc >> 64);
    return csum_combine(lo, hi);
}

/* Rotating a 64-bit partial sum by 8 bits byte-swaps every 16-bit word it stands
 * for (2^8 * x mod 2^64 - 1): the sum of a piece that starts at an odd offset. */
static inline uint64_t rot8(uint64_t s)
{
    return (s << 8) | (s >> 56);
}

uint64_t csum_views(uint64_t sum, const struct view *vs, int n)
{
    uint64_t odd = 0; /* bytes so far, parity */
    for (int i = 0; i < n; i++) {
        uint64_t s = csum_add(0, view_data(&vs[i]), vs[i].len);
        sum = csum_combine(sum, odd ? rot8(s) : s);
        odd ^= vs[i].len & 1;
    }
    return sum;
}
