/* Big-endian loads and stores on raw packet bytes, through memcpy so that any
 * alignment is fine (they compile to one mov plus a bswap). Callers have already
 * checked the bounds (a wire module's *_check, or a view getter). */
#ifndef NET_WIRE_BYTES_H
#define NET_WIRE_BYTES_H

#include <stdint.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "net/ assumes a little-endian host (x86_64)"
#endif

static inline uint16_t net_rd16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return __builtin_bswap16(v);
}

static inline uint32_t net_rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

static inline void net_wr16(uint8_t *p, uint16_t v)
{
    v = __builtin_bswap16(v);
    memcpy(p, &v, 2);
}

static inline void net_wr32(uint8_t *p, uint32_t v)
{
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}

#endif
