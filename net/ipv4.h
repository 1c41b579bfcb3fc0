/* The IPv4 layer, the C shape of mirage-protocols' IPV4 (see docs/ipv4.md): input
 * (validate, filter, reassemble, demux to exactly one callback), write (next hop,
 * ARP, headers in place in a TX buffer, headerf, payload views, fragmentation),
 * pseudoheader, src, get_ip, mtu, disconnect. Never forwards. Thread context only:
 * input runs on the RX thread (callbacks borrow the payload view: view_ref to keep
 * it); write may block the calling thread for ARP unless it runs inside input or
 * asks not to, in which case frames wait in ARP's queue instead. */
#ifndef NET_IPV4_H
#define NET_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"
#include "net/addr.h"
#include "net/arp.h"
#include "net/eth.h"
#include "net/ipv4_err.h"
#include "net/ipv4_reass.h"
#include "net/view.h"
#include "net/wire/ipv4.h"

#define IPV4_DEFAULT_TTL 64
#define IPV4_MIN_MTU 68
#define IPV4_MCAST_MAX 8
/* Payloads shorter than this are copied into the frame; longer ones go as
 * scatter-gather segments when the netif takes enough of them. */
#define IPV4_COPYBREAK 256
#define IPV4_MAX_SEGS 16

/* ipv4_rxinfo.flags */
#define IPV4_RX_BCAST 1u       /* link or IP broadcast/multicast: never answer errors */
#define IPV4_RX_REASSEMBLED 2u /* rebuilt from fragments */

/* What a receive callback learns besides the payload. */
struct ipv4_rxinfo {
    struct ipv4_addr src, dst;
    uint8_t proto, ttl, tos;
    unsigned flags;
    struct view hdr; /* the IP header (ICMP errors quote it) */
};

/* Callbacks get the payload exactly (padding trimmed), borrowed for the call. */
typedef void (*ipv4_recv_fn)(void *ctx, const struct ipv4_rxinfo *info,
                             struct view *payload);
typedef void (*ipv4_default_fn)(void *ctx, uint8_t proto, const struct ipv4_rxinfo *info,
                                struct view *payload);

/* IPV4's ~tcp ~udp ~default, plus ICMP (which IPV4 leaves to default) so that
 * echo requests skip one dispatch. A NULL tcp/udp/icmp goes to dflt. */
struct ipv4_demux {
    ipv4_recv_fn tcp, udp, icmp;
    ipv4_default_fn dflt;
    void *ctx;
};

/* Write options; a zeroed struct (or NULL) gives IPV4's defaults: fragment
 * allowed, TTL 64, our source address, may block for ARP. */
struct ipv4_wopts {
    bool dont_fragment;
    bool nowait; /* never block: unresolved next hop -> ARP queue */
    uint8_t ttl; /* 0 = 64 */
    uint8_t tos;
    struct ipv4_addr src; /* 0.0.0.0 = ours */
};

/* headerf: fill (up to) hdr->len bytes right after the IP header, return how many
 * were used. It must not keep the view. */
typedef uint32_t (*ipv4_headerf)(void *ctx, const struct view *hdr);

#define IPV4_COUNTERS(X)                                                                 \
    X(rx)                                                                                \
    X(rx_frags)                                                                          \
    X(delivered)                                                                         \
    X(drop_short)                                                                        \
    X(drop_bad_version)                                                                  \
    X(drop_bad_hdr_len)                                                                  \
    X(drop_truncated)                                                                    \
    X(drop_bad_csum)                                                                     \
    X(drop_bad_options)                                                                  \
    X(drop_not_ours)                                                                     \
    X(drop_bad_src)                                                                      \
    X(drop_disconnected)                                                                 \
    X(drop_reass)                                                                        \
    X(tx)                                                                                \
    X(tx_frags)                                                                          \
    X(tx_queued)                                                                         \
    X(tx_sg) /* frames whose payload went as segments (the rest was copied) */           \
    X(tx_err_no_route)                                                                   \
    X(tx_err_would_frag)                                                                 \
    X(tx_err_too_big)                                                                    \
    X(tx_err_no_bufs)                                                                    \
    X(tx_err_disconnected)                                                               \
    X(tx_err_inval)                                                                      \
    X(pmtu_lowered) /* a path MTU learnt or lowered (RFC 1191) */                        \
    X(pmtu_expired) /* ... back to the link MTU after IPV4_PMTU_TIMEOUT_NS */            \
    X(pmtu_evicted) /* ... forgotten for a newer one (the table was full) */

struct ipv4_stats {
    IPV4_COUNTERS(COUNTER_FIELD)
};

struct ipv4_config {
    struct ipv4_addr addr; /* 0.0.0.0: unconfigured (only broadcast goes out) */
    uint8_t prefix_len;
    struct ipv4_addr gateway; /* 0.0.0.0: none, off-link writes fail with no route */
};

/* Called when a datagram whose first fragment we held times out. */
typedef void (*ipv4_reass_timeout_fn)(void *ctx, const struct ipv4_rxinfo *info,
                                      const struct view *data8);

/* The last unicast destination written to, with the Ethernet header that goes to
 * its next hop: valid while ARP's generation is unchanged (ARP's timer bumps it
 * at expiry and refresh points, so the fast path reads no clock). */
struct ipv4_route_cache {
    struct ipv4_addr dst;
    uint32_t arp_gen;
    bool valid;
    uint8_t eth_hdr[ETH_HDR_LEN];
};

/* Path MTUs learnt per destination (RFC 1191), at most IPV4_PMTU_ENTRIES, each
 * for IPV4_PMTU_TIMEOUT_NS (section 6.3: ten minutes, then the link MTU is tried
 * again). */
#define IPV4_PMTU_ENTRIES 16
#define IPV4_PMTU_TIMEOUT_NS (600ull * 1000000000ull)
struct ipv4_pmtu_entry {
    struct ipv4_addr dst;
    uint16_t mtu;
    uint64_t expires;
};
struct ipv4_pmtu {
    struct ipv4_pmtu_entry e[IPV4_PMTU_ENTRIES];
    uint8_t n;
    uint64_t next; /* the earliest expiry (UINT64_MAX: none) */
};

struct ipv4 {
    struct eth *eth;
    struct arp *arp;
    struct ipv4_addr addr, netmask, bcast, gateway;
    uint8_t prefix_len;
    uint16_t mtu; /* link IP MTU */
    uint16_t next_id;
    bool disconnected;
    bool in_input; /* while input delivers (never re-entered): writes never block */
    struct ipv4_addr groups[IPV4_MCAST_MAX];
    struct ipv4_route_cache rc;
    struct ipv4_pmtu pmtu;
    struct net_deadline_hook armed; /* the path MTU's expiry (net/deadline.h) */
    struct ipv4_reass reass;
    ipv4_reass_timeout_fn on_reass_timeout;
    void *on_reass_timeout_ctx;
    struct ipv4_stats st;
};

/* Reassembly bounds: 0 = defaults (see ipv4_reass.h). */
struct ipv4_limits {
    uint32_t reass_max_dgrams, reass_max_bytes;
    uint64_t reass_timeout_ns;
};

/* -1 when memory runs out (nothing is left allocated then). */
int ipv4_init(struct ipv4 *ip, struct eth *eth, struct arp *arp,
              const struct ipv4_limits *limits);
/* Sets the address (gratuitous ARP when non-zero), prefix and gateway. When the
 * address changes (or goes: 0.0.0.0), what was learned under the old one is
 * dropped: ARP's dynamic entries and queued frames (arp_flush), datagrams in
 * reassembly for it (ipv4_reass_drop_dst); the route cache always is. */
void ipv4_configure(struct ipv4 *ip, const struct ipv4_config *cfg);
/* The link MTU IP uses (68..65535, at most what the netif says). */
int ipv4_set_mtu(struct ipv4 *ip, uint16_t mtu);

/* Receives one datagram (after the Ethernet header); pkt is borrowed.
 * link_flags: ETH_RX_BCAST when the frame was link broadcast/multicast. */
void ipv4_input(struct ipv4 *ip, const struct ipv4_demux *d, struct view *pkt,
                unsigned link_flags);

/* Sends one datagram of `size` headerf bytes (headerf may use fewer) followed by
 * the n payload views (borrowed for the call; scatter-gather segments keep their
 * buffers referenced until the device is done). */
enum ipv4_err ipv4_write(struct ipv4 *ip, const struct ipv4_wopts *opts,
                         struct ipv4_addr dst, uint8_t proto, uint32_t size,
                         ipv4_headerf headerf, void *ctx, const struct view *payload,
                         int n);

/* The 12-byte pseudoheader (src NULL = ours) and its partial sum. */
void ipv4_pseudoheader(const struct ipv4 *ip, const struct ipv4_addr *src,
                       struct ipv4_addr dst, uint8_t proto, uint16_t len,
                       uint8_t out[12]);
uint64_t ipv4_pseudoheader_sum(const struct ipv4 *ip, const struct ipv4_addr *src,
                               struct ipv4_addr dst, uint8_t proto, uint16_t len);

struct ipv4_addr ipv4_src(const struct ipv4 *ip, struct ipv4_addr dst);
/* Stores up to cap addresses, returns how many there are (always 1). */
int ipv4_get_ip(const struct ipv4 *ip, struct ipv4_addr *out, int cap);
/* Largest IP payload that leaves unfragmented toward dst: the path MTU toward dst
 * (when one was learnt) or the link MTU, less the header. */
uint32_t ipv4_mtu(const struct ipv4 *ip, struct ipv4_addr dst);

/* Path MTU discovery (RFC 1191). The MTU of the path toward dst (IP bytes). */
uint16_t ipv4_path_mtu(const struct ipv4 *ip, struct ipv4_addr dst);
/* A router said a datagram toward dst was too big for its next hop of mtu bytes,
 * and the caller believes it (TCP checks the quoted segment against the
 * connection: RFC 5927). Lowers the path MTU toward dst to mtu (at least
 * IPV4_MIN_MTU; never raised this way) for IPV4_PMTU_TIMEOUT_NS. Returns the path
 * MTU now in force. */
uint16_t ipv4_pmtu_lower(struct ipv4 *ip, struct ipv4_addr dst, uint16_t mtu);
/* RFC 1191 section 7: for a router that reports no MTU (0), the largest plateau
 * below the length of the datagram it quoted. */
uint16_t ipv4_pmtu_plateau(uint32_t total_len);
/* The entries in force (up to cap of them, expiry times absolute); how many. */
int ipv4_pmtu_list(const struct ipv4 *ip, struct ipv4_pmtu_entry *out, int cap);
/* Writes fail with IPV4_EDISCONNECTED afterwards, input is dropped, waiting
 * writers wake with that error, reassembly memory is freed. */
void ipv4_disconnect(struct ipv4 *ip);

/* Multicast groups accepted by input (and their MACs by Ethernet). -1 when full. */
int ipv4_join(struct ipv4 *ip, struct ipv4_addr group);

/* Who hears of a datagram that timed out in reassembly with its first fragment
 * held (ICMP, to send time exceeded); NULL for nobody. */
void ipv4_set_reass_timeout_handler(struct ipv4 *ip, ipv4_reass_timeout_fn fn, void *ctx);

/* Timers (reassembly and path MTU expiry); the earliest time ipv4_tick has work. */
void ipv4_tick(struct ipv4 *ip, uint64_t now);
/* Forgets the path MTUs whose time is up (ipv4_tick's part). */
void ipv4_pmtu_expire(struct ipv4 *ip, uint64_t now);
uint64_t ipv4_next_deadline(const struct ipv4 *ip);

/* Next hop toward dst: dst itself on-link, else the gateway; IPV4_ENOROUTE when
 * off-link without gateway, unconfigured, or dst is ourselves (no loopback).
 * Broadcast and multicast destinations need no ARP: *derived is set and *mac is
 * the broadcast or group MAC. */
enum ipv4_err ipv4_next_hop(const struct ipv4 *ip, struct ipv4_addr dst,
                            struct ipv4_addr *hop, struct eth_addr *mac, bool *derived);

/* The registry of struct ipv4_stats. */
extern const struct counter_table ipv4_counter_table;

#endif
