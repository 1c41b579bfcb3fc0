/* What the TCP unit tests share (linked: tests/unit/tcp_harness.c), on top of
 * the stack harness (fk, st, ctr): the stack with TCP on the fake NIC, a
 * scripted peer at 10.0.0.1 that builds segments (checksums from a plain
 * reference sum, options from a struct) and keeps its sequence numbers, a reader
 * of every segment the stack sends (IP and TCP checksums verified by the
 * reference sum), the fake clock with the stack's timers run at their exact
 * deadlines. */
#ifndef TCP_HARNESS_H
#define TCP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "net/stack.h"
#include "net/tcp_int.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"
#include "tests/unit/stack_harness.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)
#define PEER_PORT 40000
#define DUT_PORT 80
#define MAX_SEG_DATA 9000

extern struct tcp *tc; /* st's TCP */

/* st with TCP configured by tcfg (NULL: defaults, a fixed secret), the peer's ARP
 * entry static, the clock at T0; on an interface of mtu with segs segments. */
void h_setup(const struct tcp_config *tcfg);
void h_setup_mtu(const struct tcp_config *tcfg, uint16_t mtu, int segs);
void h_teardown(void);

/* A segment from the peer (or from anywhere: src/dst as given). */
struct hseg {
    struct ipv4_addr src, dst;
    uint16_t sport, dport;
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t wnd;
    struct tcp_opts o; /* o.present 0: no options */
    const void *data;
    uint32_t len;
    uint8_t raw_opts[40]; /* used instead of o when raw_len > 0 */
    uint32_t raw_len;
};
/* The TCP segment of s at tcp (checksum included); returns its length. */
uint32_t build_segment(uint8_t *tcp, const struct hseg *s);
void h_inject(const struct hseg *s);
void h_raw(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
           uint16_t wnd, const struct tcp_opts *o, const void *data, uint32_t len);

/* A segment the stack sent, verified and parsed. */
struct oseg {
    struct ipv4_addr src, dst;
    struct tcp_repr r;
    struct tcp_opts o;
    uint8_t data[MAX_SEG_DATA];
    uint32_t len;
    bool df;
};
int h_pending(void);
void h_clear(void);
/* The next segment sent; false when none. */
bool h_next(struct oseg *s);
void h_expect_none(void);
void h_expect(struct oseg *o, uint8_t flags);

/* Runs the stack's timers at their deadlines up to abs / for ns. */
void h_run_until(uint64_t abs);
void h_advance(uint64_t ns);

struct peer {
    uint16_t port, dport;
    uint32_t isn, seq, ack; /* seq: next to send; ack: next expected */
    uint16_t wnd;
    uint8_t ws;
    bool ts; /* timestamps on */
    uint32_t tsval, ts_recent;
};
void peer_init(struct peer *pr, uint32_t isn);
/* A segment from the peer with its current numbers; data advances seq. */
void peer_send(struct peer *pr, uint8_t flags, const void *data, uint32_t len);
/* The peer reads a segment the stack sent: sequence numbers, timestamp. */
void peer_saw(struct peer *pr, const struct oseg *o);

/* Listening on DUT_PORT with a callback that stores the flow in accepted. */
extern struct tcp_flow *accepted;
extern int naccepted;
extern struct tcp_listener *lst;
void h_listen(void);
/* Passive open from pr (SYN with syn's options, SYN-ACK, ACK): the flow. */
struct tcp_flow *h_open(struct peer *pr, const struct tcp_opts *syn);

enum tcp_state h_state(struct tcp_flow *f);
/* Reads all there is now (timeout 0) into buf; *eof at the end of stream. */
uint32_t h_read_all(struct tcp_flow *f, uint8_t *buf, uint32_t cap, bool *eof);
void fill_pattern(uint8_t *p, uint32_t n, uint32_t seed);

#endif
