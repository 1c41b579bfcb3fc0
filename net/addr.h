/* Addresses: IPv4 (kept in network order inside a struct so it cannot be mixed up
 * with a host integer) and Ethernet MAC, with the predicates, parsing and
 * formatting every layer and the console share. Pure functions, any context. */
#ifndef NET_ADDR_H
#define NET_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct ipv4_addr {
    uint32_t be; /* the four wire bytes, as loaded from memory */
};

#define IPV4_ADDR_STRLEN 16 /* "255.255.255.255" + NUL */

struct eth_addr {
    uint8_t b[6];
};

#define ETH_ADDR_STRLEN 18 /* "xx:xx:xx:xx:xx:xx" + NUL */

static inline struct ipv4_addr ipv4_addr_make(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t bytes[4] = {a, b, c, d};
    struct ipv4_addr r;
    memcpy(&r.be, bytes, 4);
    return r;
}

/* From/to a host-order integer (10.0.0.1 = 0x0a000001). */
static inline struct ipv4_addr ipv4_addr_from_host(uint32_t h)
{
    struct ipv4_addr r = {__builtin_bswap32(h)};
    return r;
}
static inline uint32_t ipv4_addr_host(struct ipv4_addr a)
{
    return __builtin_bswap32(a.be);
}

static inline struct ipv4_addr ipv4_addr_load(const uint8_t *p)
{
    struct ipv4_addr r;
    memcpy(&r.be, p, 4);
    return r;
}
static inline void ipv4_addr_store(uint8_t *p, struct ipv4_addr a)
{
    memcpy(p, &a.be, 4);
}

static inline bool ipv4_addr_eq(struct ipv4_addr a, struct ipv4_addr b)
{
    return a.be == b.be;
}
static inline bool ipv4_addr_is_any(struct ipv4_addr a)
{
    return a.be == 0;
}
static inline bool ipv4_addr_is_bcast(struct ipv4_addr a)
{
    return a.be == 0xffffffffu;
}
static inline bool ipv4_addr_is_mcast(struct ipv4_addr a)
{
    return (ipv4_addr_host(a) >> 28) == 0xe;
}
static inline bool ipv4_addr_is_loopback(struct ipv4_addr a)
{
    return (ipv4_addr_host(a) >> 24) == 127;
}

/* Netmask for a prefix length 0..32. */
static inline struct ipv4_addr ipv4_addr_netmask(unsigned prefix_len)
{
    uint32_t m =
        prefix_len == 0 ? 0 : 0xffffffffu << (32 - (prefix_len > 32 ? 32 : prefix_len));
    return ipv4_addr_from_host(m);
}

/* Dotted quad "a.b.c.d" (exactly, nothing after) -> 0, or -1 when malformed. */
int ipv4_addr_parse(const char *s, struct ipv4_addr *out);
/* "a.b.c.d/len" (or "a.b.c.d", len then 32) -> 0, or -1 when malformed. */
int ipv4_cidr_parse(const char *s, struct ipv4_addr *addr, unsigned *prefix_len);
/* Writes the dotted quad into buf (IPV4_ADDR_STRLEN bytes), returns buf. */
char *ipv4_addr_fmt(struct ipv4_addr a, char *buf);

static inline bool eth_addr_eq(const struct eth_addr *a, const struct eth_addr *b)
{
    return memcmp(a->b, b->b, 6) == 0;
}
static inline bool eth_addr_is_bcast(const struct eth_addr *a)
{
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    return eth_addr_eq(a, &bc);
}
static inline bool eth_addr_is_mcast(const struct eth_addr *a)
{
    return a->b[0] & 1;
}

/* The multicast MAC a group maps to (RFC 1112: 01:00:5e + low 23 bits). */
struct eth_addr eth_addr_of_ipv4_mcast(struct ipv4_addr group);
char *eth_addr_fmt(const struct eth_addr *a, char *buf);

#endif
