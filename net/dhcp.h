/* The DHCP client (RFC 2131, RFC 2132 options, RFC 5227 address probe) of one
 * interface: it runs on a stack (struct net_stack) through UDP port 68, ARP's
 * probe and watcher, and net_configure, which it calls with the lease's address,
 * prefix and router, and with 0.0.0.0 when the lease goes. States as RFC 2131
 * figure 5, plus PROBING between the ACK and BOUND (RFC 5227 2.1). Driven by
 * input (the RX thread) and by dhcp_tick/dhcp_next_deadline (the stack's timer,
 * through net_tick), on the platform clock; randomness (xid, jitter, probe
 * delays) from a seeded generator or one the caller injects, so tests replay.
 * Every outcome has a counter; state changes are logged. Thread context only,
 * never blocks: its sends go out at once or wait in ARP's queue. See docs/dhcp.md. */
#ifndef NET_DHCP_H
#define NET_DHCP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"
#include "net/addr.h"
#include "net/wire/dhcp.h"

struct net_stack;

/* RFC 2131 4.1: retransmissions 4, 8, ... 64 s apart, each +-1 s at random. */
#define DHCP_RETRANS_BASE_NS 4000000000ull
#define DHCP_RETRANS_MAX_NS 64000000000ull
#define DHCP_JITTER_NS 1000000000ull
/* REQUEST in REQUESTING/REBOOTING: sent this many times (the whole schedule up
 * to 64 s once), then back to INIT (RFC 2131 3.1.5). DISCOVER never gives up. */
#define DHCP_REQUEST_TRIES 5
/* RFC 2131 4.4.5: renewing/rebinding retransmit after half the time left to T2 /
 * expiry, but not sooner than this. */
#define DHCP_RENEW_MIN_NS 60000000000ull
/* RFC 2131 3.1.5: after a DECLINE, wait before starting again. */
#define DHCP_DECLINE_WAIT_NS 10000000000ull
/* RFC 5227 section 1.1 constants. */
#define DHCP_PROBE_WAIT_NS 1000000000ull
#define DHCP_PROBE_NUM 3
#define DHCP_PROBE_MIN_NS 1000000000ull
#define DHCP_PROBE_MAX_NS 2000000000ull
#define DHCP_ANNOUNCE_WAIT_NS 2000000000ull
#define DHCP_ANNOUNCE_INTERVAL_NS 2000000000ull
#define DHCP_MAX_CONFLICTS 10
#define DHCP_RATE_LIMIT_NS 60000000000ull

enum dhcp_state {
    DHCP_STOPPED = 0,
    DHCP_INIT,        /* no address; DISCOVER when the timer says */
    DHCP_SELECTING,   /* DISCOVER sent, waiting for an OFFER */
    DHCP_REQUESTING,  /* REQUEST for an offer sent, waiting for ACK/NAK */
    DHCP_PROBING,     /* ACKed: RFC 5227 probes of the address, not yet used */
    DHCP_BOUND,       /* configured; waiting for T1 */
    DHCP_RENEWING,    /* T1 passed: REQUEST unicast to our server */
    DHCP_REBINDING,   /* T2 passed: REQUEST broadcast to any server */
    DHCP_INIT_REBOOT, /* a remembered address; REQUEST for it when the timer says */
    DHCP_REBOOTING,   /* that REQUEST sent, waiting for ACK/NAK */
    DHCP_NSTATES
};

enum dhcp_err {
    DHCP_OK = 0,
    DHCP_EBUSY,   /* a client already runs on this stack */
    DHCP_EPORT,   /* UDP port 68 is taken */
    DHCP_ENOMEM,  /* the client could not be allocated */
    DHCP_ENOTRUN, /* no client runs on this stack */
};

typedef uint32_t (*dhcp_random_fn)(void *ctx);

struct dhcp_config {
    /* A remembered address: start in INIT-REBOOT asking for it (0.0.0.0: INIT). */
    struct ipv4_addr requested;
    /* Seed of the built-in generator (0: from the clock and the MAC). */
    uint64_t seed;
    /* Randomness from the caller instead (tests); NULL: the built-in one. */
    dhcp_random_fn random;
    void *random_ctx;
    /* Skip the RFC 5227 probe and bind at the ACK. */
    bool no_probe;
    /* Leave the lease's router unused: another interface holds the one default
     * gateway (net/route.h). The lease still records it. */
    bool no_router;
};

/* What the client holds (and shows): the lease and its timers. */
struct dhcp_lease {
    struct ipv4_addr addr, server, router; /* router 0.0.0.0: none given */
    uint8_t prefix_len;
    uint8_t ndns;
    struct ipv4_addr dns[DHCP_MAX_ADDRS];
    uint16_t mtu;                          /* option 26, 0: not given */
    uint32_t lease_secs, t1_secs, t2_secs; /* DHCP_INFINITE: never */
    uint64_t start;                        /* when the REQUEST that got it was sent */
    uint64_t t1, t2, expiry;               /* absolute ns; UINT64_MAX: never */
};

#define DHCP_COUNTERS(X)                                                                 \
    X(tx_discover)                                                                       \
    X(tx_request)                                                                        \
    X(tx_decline)                                                                        \
    X(tx_release)                                                                        \
    X(tx_errors)                                                                         \
    X(retransmits)                                                                       \
    X(rx)                                                                                \
    X(rx_offer)                                                                          \
    X(rx_ack)                                                                            \
    X(rx_nak)                                                                            \
    X(drop_bad_port)                                                                     \
    X(drop_short)                                                                        \
    X(drop_bad_op)                                                                       \
    X(drop_bad_htype)                                                                    \
    X(drop_bad_cookie)                                                                   \
    X(drop_truncated)                                                                    \
    X(drop_bad_option)                                                                   \
    X(drop_xid)                                                                          \
    X(drop_chaddr)                                                                       \
    X(drop_unexpected)                                                                   \
    X(drop_bad_offer)                                                                    \
    X(drop_bad_ack)                                                                      \
    X(drop_wrong_server)                                                                 \
    X(probes)                                                                            \
    X(conflicts)                                                                         \
    X(leases)                                                                            \
    X(renewals)                                                                          \
    X(rebinds)                                                                           \
    X(expired)                                                                           \
    X(timeouts)                                                                          \
    X(released)                                                                          \
    X(transitions)

struct dhcp_stats {
    DHCP_COUNTERS(COUNTER_FIELD)
};
/* Their registry: `stats` prints them as dhcp.<name> (net/report.c). */
extern const struct counter_table dhcp_counter_table;

struct dhcp {
    struct net_stack *s;
    struct dhcp_config cfg;
    enum dhcp_state state;
    uint32_t xid;         /* of the exchange in progress */
    uint64_t exch_start;  /* when it began (the secs field) */
    uint64_t next;        /* the state's next event: a (re)transmission, a probe... */
    uint64_t announce_at; /* RFC 5227 second announcement (UINT64_MAX: none) */
    uint32_t tries;       /* transmissions in this exchange */
    uint32_t probes_sent;
    uint32_t conflicts; /* in a row: RFC 5227 rate limit after DHCP_MAX_CONFLICTS */
    uint16_t link_mtu;  /* IPv4's MTU before any lease set one */
    uint64_t rng;
    struct dhcp_lease cand;  /* the offer being requested, or the ACK being probed */
    struct dhcp_lease lease; /* what is configured (BOUND, RENEWING, REBINDING) */
    struct dhcp_stats st;
};

/* Starts the client on s (its address should be 0.0.0.0: the client configures
 * it). The first DISCOVER (or INIT-REBOOT's REQUEST) goes out at once. */
enum dhcp_err dhcp_start(struct net_stack *s, const struct dhcp_config *cfg);
/* Stops it: a held lease is released (DHCPRELEASE, best effort: unicast to the
 * server, so it may wait in ARP's queue and go when the address is removed)
 * and the address removed. DHCP_ENOTRUN when none runs. */
enum dhcp_err dhcp_stop(struct net_stack *s);
/* Frees the client without sending anything (the stack is being destroyed). */
void dhcp_destroy(struct net_stack *s);

/* Timers: (re)transmissions, probes, T1, T2, expiry. The earliest time
 * dhcp_tick has work (UINT64_MAX: none). */
void dhcp_tick(struct dhcp *d, uint64_t now);
uint64_t dhcp_next_deadline(const struct dhcp *d);

/* DHCP_STOPPED when no client runs. */
enum dhcp_state dhcp_state(const struct net_stack *s);
/* The lease in use, NULL when none is (not BOUND, RENEWING or REBINDING). */
const struct dhcp_lease *dhcp_lease(const struct net_stack *s);
const char *dhcp_state_name(enum dhcp_state st);

/* The console's `dhcp`: state, lease, timers, DNS servers; one line per call. */
void dhcp_print(const struct net_stack *s, print_line_fn print, void *ctx);

#endif
