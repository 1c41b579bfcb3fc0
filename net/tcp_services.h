/* The built-in TCP services of a stack: echo on port 7 (RFC 862), discard on
 * port 9 (RFC 863) and chargen on port 19 (RFC 864), without a thread per
 * connection: each connection is a small record driven by TCP's event callbacks
 * on the thread that caused the event (the RX thread, or the timer thread for the
 * ticks). Back-pressure, never unbounded queuing: echo holds the segment it
 * could not yet send back (and so the peer's window closes), chargen writes what
 * the send buffer takes. A connection that moves no byte for idle_ms is reset;
 * one whose writes the total memory cap stopped (nothing of its own in flight,
 * so no ACK will say when to go on) is tried again by the timer. */
#ifndef NET_TCP_SERVICES_H
#define NET_TCP_SERVICES_H

#include <stdint.h>

#include "kernel/platform.h"
#include "net/svc_list.h"
#include "net/tcp.h"

#define TCP_SVC_ECHO_PORT 7
#define TCP_SVC_DISCARD_PORT 9
#define TCP_SVC_CHARGEN_PORT 19

/* RFC 864's pattern: 95 lines of 72 printable characters and CR LF, line i
 * starting with character ' ' + i; then it repeats. */
#define CHARGEN_LINE 72
#define CHARGEN_LINES 95
#define CHARGEN_CYCLE (CHARGEN_LINES * (CHARGEN_LINE + 2))
/* The byte at position i of a chargen stream. */
uint8_t chargen_byte(uint64_t i);

#define TCP_SVC_COUNTERS(X)                                                              \
    X(echo_conns)                                                                        \
    X(echo_bytes)                                                                        \
    X(discard_conns)                                                                     \
    X(discard_bytes)                                                                     \
    X(chargen_conns)                                                                     \
    X(chargen_bytes)                                                                     \
    X(chargen_rx_bytes) /* what chargen's clients sent (discarded) */                    \
    X(closed)           /* ended by the client's end of stream */                        \
    X(reset)            /* ended by a reset, a timeout or an error of TCP */             \
    X(idle_timeouts)    /* reset after idle_ms without a byte moved */                   \
    X(drop_no_mem)      /* refused: no memory for the connection's record */             \
    X(write_retries) /* writes the timer tried again (the memory cap had stopped them)   \
                      */

struct tcp_svc_stats {
    TCP_SVC_COUNTERS(COUNTER_FIELD)
};

#define TCP_SVC_GAUGES(X) X(conns)
struct tcp_svc_gauges {
    TCP_SVC_GAUGES(COUNTER_FIELD)
};

struct tcp_services_config {
    uint32_t idle_ms; /* [120000] */
    int backlog;      /* connections of each service not yet established [32] */
};

struct tcp_services {
    struct tcp *tcp;
    struct tcp_listener *l[3];
    struct svc_list conns;
    struct svc_timer timer;
    uint64_t idle_ns;
    struct tcp_svc_stats st;
};

/* Listens on 7, 9 and 19 of t. NULL (nothing left behind) when a port is taken or
 * memory ran out. */
struct tcp_services *tcp_services_start(struct tcp *t,
                                        const struct tcp_services_config *c);
/* Stops listening and resets every connection. */
void tcp_services_stop(struct tcp_services *s);

/* Timers (idle connections, retried writes): run at or after the deadline. */
void tcp_services_tick(struct tcp_services *s, uint64_t now);
uint64_t tcp_services_next_deadline(const struct tcp_services *s);
void tcp_services_set_deadline_hook(struct tcp_services *s,
                                    void (*fn)(void *ctx, uint64_t deadline), void *ctx);

void tcp_services_gauges(const struct tcp_services *s, struct tcp_svc_gauges *out);
extern const struct counter_table tcp_svc_counter_table, tcp_svc_gauge_table;

#endif
