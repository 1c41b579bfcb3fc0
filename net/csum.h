/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 * A "partial sum" is a 64-bit one's-complement accumulator of 16-bit words read
 * in host byte order; partial sums of pieces add with csum_combine (the byte
 * swap for pieces starting at odd offsets is handled by csum_views).
 * csum_finish turns a partial sum into the checksum as a host integer, the value
 * to store with net_wr16; a received packet verifies when it is 0. Any context. */
#ifndef NET_CSUM_H
#define NET_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/view.h"

/* sum + the words of p[0, len) (p starting a word; an odd tail byte is padded). */
uint64_t csum_add(uint64_t sum, const void *p, size_t len);

static inline uint64_t csum_combine(uint64_t a, uint64_t b)
{
    uint64_t r = a + b;
    return r + (r < a);
}

/* Folds a partial sum to 16 bits (host order words, not complemented): 64 -> 32
 * with an end-around carry, then t + rol16(t) leaves hi + lo + carry on top. */
static inline uint16_t csum_fold(uint64_t sum)
{
    uint32_t hi = (uint32_t)(sum >> 32), t = (uint32_t)sum + hi;
    t += t < hi;
    return (uint16_t)((t + ((t << 16) | (t >> 16))) >> 16);
}

/* The checksum field value (host integer, for net_wr16) of a partial sum. */
static inline uint16_t csum_finish(uint64_t sum)
{
    return __builtin_bswap16((uint16_t)~csum_fold(sum));
}

/* A big-endian 16-bit field value as it contributes to a partial sum. */
static inline uint64_t csum_be16(uint16_t host_value)
{
    return __builtin_bswap16(host_value);
}

/* Sum of n 32-bit words (n <= 2^32: no carry can leave 64 bits), for IPv4
 * headers with options; csum_hdr20 is the option-less header, five loads and adds. */
static inline uint64_t csum_add_words32(uint64_t sum, const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t w;
        memcpy(&w, p + 4 * i, 4);
        sum += w;
    }
    return sum;
}

static inline uint32_t csum_load32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* sum + one 8-byte word (a UDP header, an ICMP header). */
static inline uint64_t csum_add8(uint64_t sum, const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return csum_combine(sum, w);
}

static inline uint64_t csum_hdr20(const uint8_t *p)
{
    return (uint64_t)csum_load32(p) + csum_load32(p + 4) + csum_load32(p + 8) +
           csum_load32(p + 12) + csum_load32(p + 16);
}

/* Partial sum of a view / of the concatenation of a list of views. */
static inline uint64_t csum_view(uint64_t sum, const struct view *v)
{
    return csum_add(sum, view_data(v), v->len);
}
uint64_t csum_views(uint64_t sum, const struct view *vs, int n);

/* RFC 1624 eqn. 3: the checksum field after a 16-bit word of the covered data
 * changes from old_word to new_word (all three as host integers of the
 * big-endian fields): HC' = ~(~HC + ~m + m'). */
static inline uint16_t csum_update16(uint16_t hc, uint16_t old_word, uint16_t new_word)
{
    uint32_t s = (uint16_t)~hc + (uint32_t)(uint16_t)~old_word + new_word;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static inline uint16_t csum_update32(uint16_t hc, uint32_t old_val, uint32_t new_val)
{
    hc = csum_update16(hc, (uint16_t)(old_val >> 16), (uint16_t)(new_val >> 16));
    return csum_update16(hc, (uint16_t)old_val, (uint16_t)new_val);
}

#endif
