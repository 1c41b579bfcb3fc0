/* Keyed hashes over connection identifiers, all SipHash-2-4 with the boot-time
 * secret (tcp_config.secret), each use in its own domain (first input byte):
 * RFC 6528 initial sequence numbers (plus a per-connection timestamp offset,
 * RFC 7323 7.1), RFC 4987 SYN cookies, RFC 6056 ephemeral ports. */
#include "net/tcp_int.h"

#define DOMAIN_ISN 1
#define DOMAIN_COOKIE 2
#define DOMAIN_PORT 3
#define COOKIE_TIME_SHIFT 36 /* cookie clock: 2^36 ns, about 69 s */
#define EPHEMERAL_MIN 49152
#define EPHEMERAL_RANGE 16384

/* Largest MSS of a cookie index (the client gets at most what it offered). */
const uint16_t tcp_cookie_mss[8] = {216, 536, 1024, 1220, 1360, 1440, 1460, 8960};

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                         \
    do {                                                                                 \
        v0 += v1;                                                                        \
        v1 = rotl(v1, 13);                                                               \
        v1 ^= v0;                                                                        \
        v0 = rotl(v0, 32);                                                               \
        v2 += v3;                                                                        \
        v3 = rotl(v3, 16);                                                               \
        v3 ^= v2;                                                                        \
        v0 += v3;                                                                        \
        v3 = rotl(v3, 21);                                                               \
        v3 ^= v0;                                                                        \
        v2 += v1;                                                                        \
        v1 = rotl(v1, 17);                                                               \
        v1 ^= v2;                                                                        \
        v2 = rotl(v2, 32);                                                               \
    } while (0)

static uint64_t le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* One message word (SipHash-2-4: two compression rounds) and the finish (four). */
#define SIP_WORD(m)                                                                      \
    do {                                                                                 \
        v3 ^= (m);                                                                       \
        SIPROUND;                                                                        \
        SIPROUND;                                                                        \
        v0 ^= (m);                                                                       \
    } while (0)
#define SIP_FINISH                                                                       \
    do {                                                                                 \
        v2 ^= 0xff;                                                                      \
        SIPROUND;                                                                        \
        SIPROUND;                                                                        \
        SIPROUND;                                                                        \
        SIPROUND;                                                                        \
    } while (0)

#define SIP_INIT(key)                                                                    \
    uint64_t k0 = le64(key), k1 = le64((key) + 8);                                       \
    uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;           \
    uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1

uint64_t tcp_siphash(const uint8_t key[16], const uint8_t *in, uint32_t len)
{
    SIP_INIT(key);
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = le64(in + i);
        SIP_WORD(m);
    }
    uint64_t b = (uint64_t)len << 56;
    for (uint32_t k = 0; i + k < len; k++)
        b |= (uint64_t)in[i + k] << (8 * k);
    SIP_WORD(b);
    SIP_FINISH;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* domain, local address and port, remote address and port: 13 bytes. */
static uint32_t put_ids(uint8_t *b, uint8_t domain, struct ipv4_addr la, uint16_t lp,
                        struct ipv4_addr ra, uint16_t rp)
{
    b[0] = domain;
    memcpy(b + 1, &la.be, 4);
    memcpy(b + 5, &ra.be, 4);
    net_wr16(b + 9, lp);
    net_wr16(b + 11, rp);
    return 13;
}

/* tcp_siphash of put_ids' 13 bytes (one per connection, on the SYN's path): the
 * same value with the two blocks loaded as words and no loop. */
static uint64_t siphash_ids(const uint8_t key[16], const uint8_t b[16])
{
    SIP_INIT(key);
    uint64_t m0 = le64(b), m1 = le64(b + 8) | 13ull << 56;
    SIP_WORD(m0);
    SIP_WORD(m1);
    SIP_FINISH;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t tcp_isn(struct tcp *t, struct ipv4_addr la, uint16_t lp, struct ipv4_addr ra,
                 uint16_t rp, uint64_t now, uint32_t *ts_off)
{
    uint8_t b[16];
    put_ids(b, DOMAIN_ISN, la, lp, ra, rp);
    b[13] = b[14] = b[15] = 0;
    uint64_t h = siphash_ids(t->cfg.secret, b);
    *ts_off = (uint32_t)(h >> 32);
    return (uint32_t)(now >> 12) + (uint32_t)h; /* M: a 4-microsecond clock */
}

static uint32_t cookie_hash(struct tcp *t, const struct tcp_seg *s, uint32_t peer_isn,
                            uint32_t tc)
{
    uint8_t b[24];
    uint32_t n =
        put_ids(b, DOMAIN_COOKIE, s->info->dst, s->dport, s->info->src, s->sport);
    net_wr32(b + n, peer_isn);
    net_wr32(b + n + 4, tc);
    return (uint32_t)tcp_siphash(t->cfg.secret, b, n + 8);
}

/* Bernstein's layout: 5 bits of time (64-second units), 3 bits of MSS index,
 * 24 bits of keyed hash over the connection, the client's ISN and the time. */
uint32_t tcp_cookie_make(struct tcp *t, const struct tcp_seg *s, int mss_idx,
                         uint64_t now)
{
    uint32_t tc = (uint32_t)(now >> COOKIE_TIME_SHIFT);
    uint32_t h = cookie_hash(t, s, s->seq, tc) & 0xffffff;
    return (tc & 31) << 27 | (uint32_t)(mss_idx & 7) << 24 | h;
}

int tcp_cookie_check(struct tcp *t, const struct tcp_seg *s, uint64_t now)
{
    uint32_t cookie = s->ack - 1, peer_isn = s->seq - 1;
    uint32_t tnow = (uint32_t)(now >> COOKIE_TIME_SHIFT);
    for (uint32_t age = 0; age < 2; age++) { /* this period or the one before */
        uint32_t tc = tnow - age;
        if ((tc & 31) != cookie >> 27)
            continue;
        if ((cookie_hash(t, s, peer_isn, tc) & 0xffffff) == (cookie & 0xffffff))
            return (int)((cookie >> 24) & 7) + 1;
    }
    return 0;
}

uint16_t tcp_ephemeral_port(struct tcp *t, struct ipv4_addr raddr, uint16_t rport)
{
    uint8_t b[16];
    struct ipv4_addr la = ipv4_src(t->ip, raddr);
    uint32_t off = (uint32_t)tcp_siphash(t->cfg.secret, b,
                                         put_ids(b, DOMAIN_PORT, la, 0, raddr, rport));
    for (uint32_t i = 0; i < EPHEMERAL_RANGE; i++) {
        uint16_t port =
            (uint16_t)(EPHEMERAL_MIN + (off + t->port_seq + i) % EPHEMERAL_RANGE);
        if (!tcp_lookup(t, raddr, rport, port) && !tcp_listener_find(t, port)) {
            t->port_seq += i + 1;
            return port;
        }
    }
    return 0;
}
