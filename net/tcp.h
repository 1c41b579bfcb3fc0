/* TCP (RFC 9293) for the stack: the C shape of mirage-protocols' TCP flows, on
 * cooperative threads in place of Lwt. A flow is a connection; listen with an
 * accept that blocks or a callback, connect with a timeout, read a borrowed view of
 * received bytes (no copy while the segment allows it), write that blocks for send
 * space, shutdown, close, abort. Inside: window scaling, timestamps, PAWS, SACK both
 * ways, NewReno and CUBIC, RFC 6298 RTO, delayed ACK, Nagle, zero-window probes,
 * keepalive, RFC 6528 ISNs, RFC 5961 challenge ACKs, SYN cookies, bounded memory.
 *
 * Threads: tcp_input runs on the RX thread and never blocks (everything it sends is
 * a non-blocking write; a frame that cannot be had is counted and left to the
 * retransmission timer). tcp_tick runs on the timer thread. Application calls may
 * block their calling thread only; a flow may be used from several threads (one
 * reader and one writer may block at the same time). Event callbacks run on the
 * thread that caused the event (usually the RX thread) and may use the
 * non-blocking calls (timeout 0, tcp_write_some, tcp_close, tcp_abort). */
#ifndef NET_TCP_H
#define NET_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"
#include "net/addr.h"
#include "net/ipv4.h"
#include "net/view.h"

struct tcp;
struct tcp_flow;
struct tcp_listener;

enum tcp_err {
    TCP_OK = 0,
    TCP_EREFUSED,    /* the peer answered the SYN with a reset */
    TCP_ERESET,      /* the connection was reset by the peer */
    TCP_ETIMEDOUT,   /* no answer in time (connect, retransmissions, keepalive) */
    TCP_ENOROUTE,    /* no route to the destination */
    TCP_ECLOSED,     /* closed: writing after shutdown, or the flow was aborted */
    TCP_ENOMEM,      /* a memory or connection cap was reached */
    TCP_EWOULDBLOCK, /* a call with timeout 0 could not complete at once */
    TCP_EINVAL,      /* bad argument (port 0, port in use, ...) */
};
const char *tcp_strerror(enum tcp_err e);

enum tcp_cc_algo {
    TCP_CC_CUBIC = 0, /* RFC 9438, the default */
    TCP_CC_RENO = 1,  /* RFC 5681 + NewReno (RFC 6582) */
};

/* Tunables; 0 = default (in brackets). Part of net_config. */
struct tcp_config {
    uint8_t secret[16];         /* boot-time key for ISNs, cookies, ports; all zero:
                                   one from the clock at creation (weak: pass a
                                   random one) */
    uint32_t max_conns;         /* connections of every state [128] */
    uint32_t max_syn_queue;     /* half-open connections in all, then cookies [64] */
    uint32_t sndbuf, rcvbuf;    /* per connection, bytes [65536 each] */
    uint32_t mem_max;           /* heap bytes for all buffers [1 MiB] */
    uint32_t rx_pinned_max;     /* RX buffers held as received data [64] */
    uint32_t challenge_acks;    /* RFC 5961 challenge ACKs per second [100] */
    uint32_t rto_min_ms;        /* [200] */
    uint32_t rto_max_ms;        /* [60000] */
    uint32_t delack_ms;         /* [40], at most 40 */
    uint32_t time_wait_ms;      /* 2 MSL [60000] */
    uint32_t fin_wait2_ms;      /* orphaned FIN-WAIT-2 [60000] */
    uint32_t retries;           /* data retransmissions before giving up [12] */
    uint32_t syn_retries;       /* [6] */
    uint32_t keep_idle_ms;      /* keepalive, once enabled on a flow [7200000] */
    uint32_t keep_intvl_ms;     /* [75000] */
    uint32_t keep_cnt;          /* [9] */
    uint8_t cc;                 /* enum tcp_cc_algo [CUBIC] */
    bool no_sack, no_ts, no_ws; /* turn the RFC 2018 / 7323 options off */
    bool keepalive;             /* keepalive on every new flow [off] */
};

#define TCP_COUNTERS(X)                                                                  \
    X(rx)                                                                                \
    X(drop_short)                                                                        \
    X(drop_bad_off)                                                                      \
    X(drop_bad_csum)                                                                     \
    X(drop_bcast)                                                                        \
    X(rx_closed_port) /* no connection, no listener: RST sent unless RST */              \
    X(rx_listen)      /* to a listener */                                                \
    X(rx_conn)        /* to a connection */                                              \
    X(rx_bad_opts)    /* malformed option seen (the rest of the options skipped) */      \
    X(rx_data_segs)                                                                      \
    X(rx_data_bytes)                                                                     \
    X(rx_pinned)   /* segments kept as views of their RX buffer */                       \
    X(rx_copied)   /* segments copied to heap buffers */                                 \
    X(rx_ooo)      /* out-of-order segments queued */                                    \
    X(rx_dup_data) /* segments with nothing new */                                       \
    X(rx_dupacks)                                                                        \
    X(rx_rst) /* resets that took effect */                                              \
    X(rx_window_probes)                                                                  \
    X(drop_listen_other) /* to a listener, neither SYN nor valid cookie ACK */           \
    X(drop_paws)                                                                         \
    X(drop_no_ts) /* timestamps negotiated, segment without */                           \
    X(drop_out_of_window)                                                                \
    X(drop_rst_out_of_window)                                                            \
    X(drop_ack_unsent) /* acknowledges what was never sent */                            \
    X(drop_ack_old)    /* acknowledges before SND.UNA - MAX.SND.WND */                   \
    X(drop_no_ack)                                                                       \
    X(drop_syn_sent) /* unacceptable in SYN-SENT */                                      \
    X(drop_closing)  /* data after a FIN, or in a closing state */                       \
    X(drop_rcv_mem)  /* data that could not be stored (memory cap) */                    \
    X(drop_ooo_full)                                                                     \
    X(drop_data_after_close) /* data for a closed reader: RST sent */                    \
    X(challenge_acks)                                                                    \
    X(challenge_acks_limited)                                                            \
    X(syn_cookies_sent)                                                                  \
    X(syn_cookies_ok)                                                                    \
    X(syn_cookies_bad)                                                                   \
    X(refused_conn_cap) /* SYN or cookie ACK over the connection cap */                  \
    X(refused_accept_full)                                                               \
    X(time_wait_reused) /* a new SYN took over a TIME-WAIT connection */                 \
    X(time_wait_evicted)                                                                 \
    X(conn_active)                                                                       \
    X(conn_passive)                                                                      \
    X(conn_established)                                                                  \
    X(conn_refused)                                                                      \
    X(conn_reset)                                                                        \
    X(conn_timeout)                                                                      \
    X(conn_aborted)                                                                      \
    X(conn_addr_gone) /* of which: our address went away (tcp_addr_gone) */              \
    X(conn_closed)                                                                       \
    X(tx)                                                                                \
    X(tx_data_segs)                                                                      \
    X(tx_data_bytes)                                                                     \
    X(tx_acks) /* segments without data, SYN or FIN */                                   \
    X(tx_delayed_acks)                                                                   \
    X(tx_window_updates)                                                                 \
    X(tx_rst)                                                                            \
    X(tx_syn)                                                                            \
    X(tx_synack)                                                                         \
    X(tx_errors) /* IPv4 refused the segment (no buffer, no route) */                    \
    X(retransmits)                                                                       \
    X(rto_timeouts)                                                                      \
    X(fast_recoveries)                                                                   \
    X(sack_recoveries)                                                                   \
    X(tlp_probes)       /* tail loss probes (RFC 8985 7) */                              \
    X(lost_retransmits) /* retransmissions found lost from SACK information */           \
    X(persist_probes)                                                                    \
    X(keepalive_probes)                                                                  \
    X(write_waits) /* writers that had to wait for send space */                         \
    X(mem_waits)   /* ... for the total memory cap */                                    \
    X(mem_fail)    /* allocations refused by the cap or the heap */                      \
    X(pmtu_updates)

struct tcp_stats {
    TCP_COUNTERS(COUNTER_FIELD)
};

/* Gauges beside the counters (printed after them). */
#define TCP_GAUGES(X)                                                                    \
    X(conns)     /* connection blocks, every state */                                    \
    X(half_open) /* SYN-RECEIVED from a listener's SYN queue */                          \
    X(listeners)                                                                         \
    X(mem_used)  /* heap bytes in send and receive buffers */                            \
    X(rx_pinned) /* RX buffers held as received data */

struct tcp_gauges {
    TCP_GAUGES(COUNTER_FIELD)
};

/* Creates the TCP module of one IPv4 layer (NULL cfg = defaults). NULL when out of
 * memory. tcp_destroy aborts every connection and frees everything; no thread may
 * be inside a call on it. */
struct tcp *tcp_create(struct ipv4 *ip, const struct tcp_config *cfg);
void tcp_destroy(struct tcp *t);

/* IPv4's tcp callback (ctx = the struct tcp). */
void tcp_input(void *ctx, const struct ipv4_rxinfo *info, struct view *pkt);

/* Timers: run at or after tcp_next_deadline() (UINT64_MAX: none). When a timer is
 * set earlier than the deadline last reported, on_deadline is called (from the
 * thread that set it) so a timer thread sleeping longer can wake up. */
void tcp_tick(struct tcp *t, uint64_t now);
uint64_t tcp_next_deadline(const struct tcp *t);
void tcp_set_deadline_hook(struct tcp *t, void (*fn)(void *ctx, uint64_t deadline),
                           void *ctx);

/* ------------------------------------------------------------ listening */

/* Called on the RX thread when a connection to the listener is established; the
 * flow is the callback's (tcp_close or tcp_abort it eventually). */
typedef void (*tcp_accept_fn)(void *ctx, struct tcp_flow *f);

/* on_accept NULL: connections wait (at most backlog of them) for tcp_accept. */
enum tcp_err tcp_listen(struct tcp *t, uint16_t port, int backlog,
                        tcp_accept_fn on_accept, void *ctx, struct tcp_listener **out);
/* Waits up to timeout_ns (relative; SCHED_FOREVER-like UINT64_MAX for ever, 0 never)
 * for a connection. */
enum tcp_err tcp_accept(struct tcp_listener *l, uint64_t timeout_ns,
                        struct tcp_flow **out);
/* Stops listening: connections not yet accepted are reset; blocked acceptors get
 * TCP_ECLOSED. */
void tcp_unlisten(struct tcp_listener *l);

/* ------------------------------------------------------------ connections */

/* Opens a connection and waits up to timeout_ns for it to be established. */
enum tcp_err tcp_connect(struct tcp *t, struct ipv4_addr dst, uint16_t port,
                         uint64_t timeout_ns, struct tcp_flow **out);
/* The same without waiting: the flow is the caller's at once (SYN-SENT); an event
 * handler hears TCP_EV_WRITABLE when it is established, TCP_EV_CLOSED if not
 * (tcp_flow_error says why). Never blocks. */
enum tcp_err tcp_connect_start(struct tcp *t, struct ipv4_addr dst, uint16_t port,
                               struct tcp_flow **out);

/* Received bytes: *out is a view of the oldest bytes not yet read, borrowed until
 * the next tcp_read, tcp_read_done, tcp_close or tcp_abort on the flow. TCP_OK with
 * out->len == 0 is the end of the stream (the peer's FIN, or shutdown for reading).
 * Waits up to timeout_ns for bytes (0: TCP_EWOULDBLOCK at once). */
enum tcp_err tcp_read(struct tcp_flow *f, struct view *out, uint64_t timeout_ns);
/* Gives the view of the last read back now (opens the window sooner). */
void tcp_read_done(struct tcp_flow *f);

/* Queues all bytes of the n views (copied), waiting for send space while the send
 * buffer is full. TCP_ECLOSED after shutdown for writing. */
enum tcp_err tcp_write(struct tcp_flow *f, const struct view *vs, int n);
/* Queues what fits now; *written bytes taken (may be 0). Never blocks. */
enum tcp_err tcp_write_some(struct tcp_flow *f, const struct view *vs, int n,
                            uint32_t *written);
/* Bytes tcp_write_some would take now: the room under the flow's send buffer
 * cap, less what the total memory cap leaves (0 once the flow cannot be written). */
uint32_t tcp_write_space(const struct tcp_flow *f);

enum tcp_shutdown_how {
    TCP_SHUT_RD = 1,
    TCP_SHUT_WR = 2,
    TCP_SHUT_RDWR = 3,
};
/* WR: a FIN follows the queued bytes, reading goes on (half-close). RD: further
 * reads see the end of the stream; received bytes are discarded. */
enum tcp_err tcp_shutdown(struct tcp_flow *f, enum tcp_shutdown_how how);
/* Gives the flow up: a graceful close (FIN after the queued bytes) that finishes in
 * the background, or a reset when unread bytes were left. Never blocks. */
void tcp_close(struct tcp_flow *f);
/* Resets the connection and gives the flow up. */
void tcp_abort(struct tcp_flow *f);

void tcp_peer(const struct tcp_flow *f, struct ipv4_addr *addr, uint16_t *port);
void tcp_local(const struct tcp_flow *f, struct ipv4_addr *addr, uint16_t *port);
/* The error that ended the connection (TCP_OK while it lives). */
enum tcp_err tcp_flow_error(const struct tcp_flow *f);

/* Options. */
void tcp_set_nodelay(struct tcp_flow *f, bool on);
/* 0 = the configured defaults. */
void tcp_set_keepalive(struct tcp_flow *f, bool on, uint32_t idle_ms, uint32_t intvl_ms,
                       uint32_t cnt);

/* Events for callback-driven services (no thread per connection). */
#define TCP_EV_READABLE 1u /* bytes or the end of the stream to read */
#define TCP_EV_WRITABLE 2u /* send space freed */
#define TCP_EV_CLOSED 4u   /* the connection ended (see tcp_flow_error) */
typedef void (*tcp_event_fn)(void *ctx, struct tcp_flow *f, unsigned events);
void tcp_set_event_handler(struct tcp_flow *f, tcp_event_fn fn, void *ctx);

/* ------------------------------------------------------------ observation */

enum tcp_state {
    TCP_CLOSED = 0,
    TCP_LISTEN,
    TCP_SYN_SENT,
    TCP_SYN_RCVD,
    TCP_ESTABLISHED,
    TCP_FIN_WAIT_1,
    TCP_FIN_WAIT_2,
    TCP_CLOSE_WAIT,
    TCP_CLOSING,
    TCP_LAST_ACK,
    TCP_TIME_WAIT,
};
const char *tcp_state_name(enum tcp_state s);

struct tcp_flow_info {
    enum tcp_state state;
    struct ipv4_addr laddr, raddr;
    uint16_t lport, rport;
    uint32_t snd_wnd, rcv_wnd, cwnd, ssthresh, mss;
    uint32_t srtt_us, rto_ms;
    uint32_t unacked, unsent, unread;
    uint32_t retransmits;
    bool sack, ts, wscale;
};
void tcp_flow_info(const struct tcp_flow *f, struct tcp_flow_info *out);
/* Calls fn for every connection (the console's table). */
void tcp_foreach(const struct tcp *t, void (*fn)(void *ctx, const struct tcp_flow_info *),
                 void *ctx);

/* The ports listened on (up to cap of them); returns how many there are. */
int tcp_listen_ports(const struct tcp *t, uint16_t *ports, int cap);

void tcp_gauges(const struct tcp *t, struct tcp_gauges *out);
const struct tcp_stats *tcp_stats(const struct tcp *t);
/* The registries of struct tcp_stats and struct tcp_gauges. */
extern const struct counter_table tcp_counter_table, tcp_gauge_table;

/* ICMP destination unreachable "fragmentation needed" (RFC 1191) about a segment we
 * sent: quote is the IP header and the first bytes of the TCP header it quotes;
 * mtu is the next-hop MTU. The segment's sequence number must lie within the
 * connection's unacknowledged data, or it is ignored. */
void tcp_icmp_frag_needed(struct tcp *t, const struct view *quote, uint16_t mtu);

/* Our address addr went away (a DHCP lease lost, another address configured):
 * the connections bound to it end at once with TCP_ENOROUTE and without a reset
 * (it would leave from an address no longer ours); in-order data not yet read
 * stays readable. Listeners stay. Returns how many ended. */
uint32_t tcp_addr_gone(struct tcp *t, struct ipv4_addr addr);

#endif
