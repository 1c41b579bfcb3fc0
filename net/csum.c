/* RFC 1071 sum, eight bytes at a time into a 64-bit accumulator with end-around
 * carry: on x86_64 an add/adc chain per 32 bytes, elsewhere (and for the last
 * words) "r = a + b; r += r < b", which gcc turns into add/adc. Unaligned loads
 * are fine (memcpy in C; x86 memory operands). This is the hot loop of the stack
 * (a 1400-byte UDP echo sums its payload once), and small sums must stay cheap. */
#include "net/csum.h"

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t adc64(uint64_t a, uint64_t b)
{
    uint64_t r = a + b;
    return r + (r < b);
}

/* 0..7 trailing bytes: byte k of the tail is byte k of a little-endian word. */
static inline uint64_t tail_bytes(const uint8_t *p, size_t len)
{
    uint64_t v = 0;
    if (len & 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        v = w;
        p += 4;
    }
    if (len & 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        v |= (uint64_t)w << ((len & 4) * 8);
        p += 2;
    }
    if (len & 1)
        v |= (uint64_t)*p << ((len & 6) * 8);
    return v;
}

#if defined(__x86_64__)
/* sum + 32 bytes as one add/adc chain: 5 instructions where C needs 14 (gcc
 * cannot keep the carry flag live across separate additions). */
static inline uint64_t add32(uint64_t s, const uint8_t *p)
{
    __asm__("addq 0(%[p]), %[s]\n\t"
            "adcq 8(%[p]), %[s]\n\t"
            "adcq 16(%[p]), %[s]\n\t"
            "adcq 24(%[p]), %[s]\n\t"
            "adcq $0, %[s]"
            : [s] "+r"(s)
            : [p] "r"(p), "m"(*(const uint8_t(*)[32])p)
            : "cc");
    return s;
}
#else
static inline uint64_t add32(uint64_t s, const uint8_t *p)
{
    s = adc64(s, load64(p));
    s = adc64(s, load64(p + 8));
    s = adc64(s, load64(p + 16));
    return adc64(s, load64(p + 24));
}
#endif

uint64_t csum_add(uint64_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t s = sum;
    for (; len >= 64; p += 64, len -= 64)
        s = add32(add32(s, p), p + 32);
    if (len & 32) {
        s = add32(s, p);
        p += 32;
    }
    if (len & 16) {
        s = adc64(adc64(s, load64(p)), load64(p + 8));
        p += 16;
    }
    if (len & 8) {
        s = adc64(s, load64(p));
        p += 8;
    }
    if (len & 7)
        s = adc64(s, tail_bytes(p, len & 7));
    return s;
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
