/* Shared pieces of the libFuzzer harnesses (tests/fuzz/fuzz_*.c): a cursor that
 * reads the fuzzer's bytes (0 once they run out, so every input is a complete
 * program), the stack on a fake netif with its invariants, a checker for every
 * frame the stack sends, frame builders that fix checksums up (so mutations get
 * past them), and the reference checksum. Host build only (-DFUZZING).
 * A broken invariant calls fz_fail, which aborts: libFuzzer reports a crash and
 * saves the input. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/stack.h"
#include "tests/unit/fake_netif.h"
#include "tests/unit/net_fixtures.h"

/* For a harness's own bulk loops (data patterns, byte-by-byte checks): no
 * coverage tracing, which would slow them down and reward the fuzzer for them. */
#define FZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))

/* ------------------------------------------------------------ input cursor */

struct fz {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fz_u8(struct fz *c)
{
    if (!c->n)
        return 0;
    c->n--;
    return *c->p++;
}
static inline uint16_t fz_u16(struct fz *c)
{
    uint16_t hi = fz_u8(c);
    return (uint16_t)(hi << 8 | fz_u8(c));
}
static inline uint32_t fz_u32(struct fz *c)
{
    uint32_t hi = fz_u16(c);
    return hi << 16 | fz_u16(c);
}
/* Up to want bytes (fewer when the input runs out): copies into dst, returns n. */
size_t fz_bytes(struct fz *c, void *dst, size_t want);
static inline bool fz_done(const struct fz *c)
{
    return c->n == 0;
}

__attribute__((noreturn, format(printf, 1, 2))) void fz_fail(const char *fmt, ...);
#define FZ_CHECK(cond, ...)                                                              \
    do {                                                                                 \
        if (!(cond))                                                                     \
            fz_fail(__VA_ARGS__);                                                        \
    } while (0)

/* ------------------------------------------------------------ reference code */

/* RFC 1071 the plain way, over a byte string (host integer of the field value). */
uint32_t fz_ref_sum(uint32_t s, const uint8_t *p, size_t len);
uint16_t fz_ref_csum(const uint8_t *p, size_t len);
/* True when the bytes (their checksum field included) sum to 0xffff. */
bool fz_ref_csum_ok(const uint8_t *p, size_t len);
/* UDP: checksum over the pseudoheader and len bytes of datagram. */
bool fz_ref_udp_ok(const uint8_t *src4, const uint8_t *dst4, const uint8_t *udp,
                   size_t len);

/* ------------------------------------------------------------ the stack */

/* The addresses every harness uses: us 10.0.0.2/24 (MAC 52:54:00:12:34:56),
 * the peer 10.0.0.1 (02:00:00:00:00:01). */
struct fz_env {
    struct fake_netif fk;
    struct net_stack *st;
    struct net_config cfg;
    bool check_tx; /* validate every frame sent (default true) */
    uint64_t frames_checked;
    /* Called with every frame sent, after validation (harness-specific checks). */
    void (*tx_hook)(const uint8_t *frame, uint32_t len);
};

extern struct fz_env fz_env;

/* Stack on the fake netif. Configuration bytes from c: MTU, segments, prefix,
 * gateway, ARP capacity, reassembly limits, handlers, multicast group, a static
 * ARP entry for the peer, UDP echo/discard. With c NULL (or exhausted) the
 * defaults: MTU 1500, 4 segments, /24, gateway 10.0.0.1, echo and discard on,
 * peer's ARP entry static. Resets the fake clock first (deterministic runs). */
struct net_stack *fz_stack_new(struct fz *c);
/* Destroys it and checks every buffer came back. */
void fz_stack_free(void);
/* One frame in, in an RX buffer of exactly len bytes (ASan sees any overread),
 * then the invariants and every frame that came out are checked. */
void fz_rx(const uint8_t *frame, uint32_t len);
/* Checks the invariants: RX buffers all back, TX buffers only in ARP queues,
 * reassembly bytes under the cap and equal to what the slots hold, ARP table
 * within its cap with unique addresses, queues only on pending entries. */
void fz_check_invariants(void);
/* Validates and forgets every frame sent since the last call. */
void fz_check_tx(void);
/* Moves the fake clock and runs net_tick (then checks). */
void fz_advance(uint64_t ns);

/* ------------------------------------------------------------ builders */

/* p[i] = i * 7 + seed (bulk data; out here, away from coverage tracing). */
void fz_pattern(uint8_t *p, size_t n, uint8_t seed);
/* Fixes the checksum of an ICMP message / a UDP datagram (length field as is). */
void fz_fix_icmp(uint8_t *msg, size_t len);
void fz_fix_udp(uint8_t *udp, size_t len, struct ipv4_addr src, struct ipv4_addr dst);

/* Picks an address from a small table by a fuzz byte: ours, the peer, another
 * host on the subnet, off-subnet, subnet broadcast, broadcast, multicast,
 * loopback, 0.0.0.0, or four raw bytes. */
struct ipv4_addr fz_pick_addr(struct fz *c);
struct eth_addr fz_pick_mac(struct fz *c);

#endif
