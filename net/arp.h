/* ARP (RFC 826) for the stack: answers requests for our address, learns
 * requesters and refreshes known senders, and keeps a capped (LRU) cache with
 * expiry and refresh. Resolution sends a request and retries ARP_MAX_TRIES times,
 * one ARP_RETRY_NS apart, then fails: waiting writers wake with "no route" and
 * queued frames are dropped. Writers that may block wait on the entry (only the
 * calling thread); frames built where blocking is not allowed (the RX path) go to
 * a small per-address queue sent on resolution, within a cap on all queues
 * together: queued frames hold TX buffers, and unanswered addresses (spoofed
 * sources) must not take the netif's whole pool, or the RX path would wait
 * for a buffer. Thread context only. */
#ifndef NET_ARP_H
#define NET_ARP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"
#include "net/addr.h"
#include "net/eth.h"
#include "net/ipv4_err.h"
#include "net/view.h"

#define ARP_DEFAULT_CAPACITY 64
#define ARP_QUEUE_LEN 8    /* frames held per unresolved address */
#define ARP_QUEUE_TOTAL 64 /* frames held in all queues: TX buffers ARP may keep */
#define ARP_MAX_TRIES 3    /* requests before giving up */
#define ARP_RETRY_NS 1000000000ull      /* between requests (and refreshes) */
#define ARP_REACHABLE_NS 60000000000ull /* an entry lives this long unconfirmed */
#define ARP_REFRESH_BEFORE_NS                                                            \
    10000000000ull                       /* refresh when used this close to expiry       \
                                          */
#define ARP_FAILED_HOLD_NS 3000000000ull /* "no route" answered at once meanwhile */

#define ARP_COUNTERS(X)                                                                  \
    X(rx)                                                                                \
    X(rx_request)                                                                        \
    X(rx_reply)                                                                          \
    X(drop_short)                                                                        \
    X(drop_bad_htype)                                                                    \
    X(drop_bad_ptype)                                                                    \
    X(drop_bad_len)                                                                      \
    X(drop_bad_op)                                                                       \
    X(drop_bad_sender)                                                                   \
    X(drop_disconnected)                                                                 \
    X(addr_conflict)                                                                     \
    X(tx_request)                                                                        \
    X(tx_reply)                                                                          \
    X(tx_gratuitous)                                                                     \
    X(tx_errors)                                                                         \
    X(learned)                                                                           \
    X(updated)                                                                           \
    X(evicted)                                                                           \
    X(expired)                                                                           \
    X(resolve_started)                                                                   \
    X(resolve_failed)                                                                    \
    X(table_full)                                                                        \
    X(queued)                                                                            \
    X(queue_sent)                                                                        \
    X(queue_dropped)

struct arp_stats {
    ARP_COUNTERS(COUNTER_FIELD)
};

/* Gauges: the table now (printed and looked up like the counters). */
#define ARP_GAUGES(X)                                                                    \
    X(entries)      /* entries in use, any state */                                      \
    X(pending)      /* of which resolutions in progress */                               \
    X(capacity)     /* the cap on entries */                                             \
    X(queue_frames) /* frames waiting in queues (TX buffers held) */

struct arp_gauges {
    ARP_GAUGES(COUNTER_FIELD)
};

enum arp_state {
    ARP_FREE = 0,
    ARP_PENDING,  /* requests going out, writers waiting/queued */
    ARP_RESOLVED, /* valid until expires */
    ARP_FAILED,   /* gave up; forgotten at expires */
    ARP_STATIC,   /* configured, never expires or evicted */
};

struct arp_qframe {
    struct netbuf *b;
    uint32_t len;
};

struct arp_entry {
    struct ipv4_addr ip;
    struct eth_addr mac;
    uint8_t state;      /* enum arp_state */
    uint8_t tries;      /* requests sent while PENDING */
    uint8_t nq;         /* frames in q */
    bool handed;        /* looked up since its refresh point: caches may hold it */
    uint64_t expires;   /* RESOLVED: invalid from; FAILED: freed at */
    uint64_t next_send; /* PENDING: next request; RESOLVED: earliest refresh */
    uint64_t last_used; /* LRU */
    struct waitq waiters;
    struct arp_qframe q[ARP_QUEUE_LEN];
};

struct arp {
    struct eth *eth;
    struct ipv4_addr ours;
    bool disconnected;
    uint32_t cap;
    uint32_t last_hit; /* index tried first by lookups */
    uint32_t gen;      /* bumped on every change of a mapping (route caches check it) */
    uint32_t nqueued;  /* frames in all entries' queues (<= ARP_QUEUE_TOTAL) */
    struct arp_entry *tab;
    struct arp_stats st;
};

/* capacity 0 = ARP_DEFAULT_CAPACITY. -1 when the table cannot be allocated. */
int arp_init(struct arp *a, struct eth *eth, uint32_t capacity);
void arp_free(struct arp *a);

/* Our address changed: future replies use it; a gratuitous ARP announces it. */
void arp_set_addr(struct arp *a, struct ipv4_addr ours);
void arp_announce(struct arp *a);

/* An ARP packet (after the Ethernet header); v is borrowed. RX thread. */
void arp_input(struct arp *a, struct view *v);

/* The fast path: true with *mac when ip has a valid entry (LRU touched, a refresh
 * sent when due). Never blocks, never sends a first request. Callers may cache
 * the answer while a->gen is unchanged: arp_tick bumps it when a mapping handed
 * out expires or is due for a refresh (so the next lookup sends the refresh). */
bool arp_lookup(struct arp *a, struct ipv4_addr ip, uint64_t now, struct eth_addr *mac);
/* Resolves ip, blocking only the calling thread: IPV4_OK with *mac, IPV4_ENOROUTE
 * when ARP gives up, IPV4_ENOBUFS when the table is full of pending entries,
 * IPV4_EDISCONNECTED after arp_disconnect. */
enum ipv4_err arp_resolve_wait(struct arp *a, struct ipv4_addr ip, struct eth_addr *mac);
/* For callers that must not block: takes the frame (len bytes at eth_frame, the
 * destination MAC to be filled in) and sends it when ip resolves, or now if it
 * already has. Consumes the reference on b in every case. */
enum ipv4_err arp_queue(struct arp *a, struct ipv4_addr ip, struct netbuf *b,
                        uint32_t len);

/* Configured entries (never expire). -1 when the table is full. */
int arp_add_static(struct arp *a, struct ipv4_addr ip, const struct eth_addr *mac);
void arp_remove(struct arp *a, struct ipv4_addr ip);

/* Timers: retries, failures, expiry. The earliest time arp_tick has work
 * (UINT64_MAX: none). */
void arp_tick(struct arp *a, uint64_t now);
uint64_t arp_next_deadline(const struct arp *a);

/* Wakes every waiter with "disconnected", drops queued frames; later calls fail. */
void arp_disconnect(struct arp *a);

/* The console's `arp`: one line per entry. */
void arp_print(const struct arp *a, print_line_fn print, void *ctx);
struct arp_gauges arp_gauges(const struct arp *a);
/* The registries of struct arp_stats and struct arp_gauges. */
extern const struct counter_table arp_counter_table, arp_gauge_table;
const char *arp_state_name(enum arp_state s);

#endif
