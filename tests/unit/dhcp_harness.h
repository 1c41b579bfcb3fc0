/* The DHCP client's test harness (linked: tests/unit/dhcp_harness.c), on the
 * stack harness's fake NIC fk and stack st: an unconfigured stack, the fake
 * clock stepped from deadline to deadline as the timer thread would, a server
 * played by the test (replies written byte by byte, not with the wire module's
 * emit), readers of what the client sent (every layer's checksum checked), the
 * log lines seen, and the invariant that every reply is counted once. */
#ifndef DHCP_HARNESS_H
#define DHCP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "net/dhcp.h"
#include "tests/unit/stack_harness.h"

#define DH_SEC 1000000000ull
#define DH_T0 (1000 * DH_SEC) /* the clock at set-up */

#define OFFERED dh_ip4(10, 0, 0, 50)
#define SERVER_A dh_ip4(10, 0, 0, 1) /* the fixtures' peer, fx_peer_mac */
#define SERVER_B dh_ip4(10, 0, 0, 3) /* at dh_server_b_mac */

extern const struct eth_addr dh_bcast_mac, dh_server_b_mac, dh_intruder_mac;
/* What dh_setup's tests start the client with (seed 42). */
extern struct dhcp_config dh_cfg;
/* When the REQUEST that got the lease went out (dh_bind_with). */
extern uint64_t dh_req_at;

struct ipv4_addr dh_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

/* cmocka set-up and teardown: st unconfigured on fk, the clock at DH_T0, log
 * lines at info and above recorded; teardown frees a running client too. */
int dh_setup(void **state);
int dh_teardown(void **state);
/* A log line containing part was written since set-up. */
bool dh_logged(const char *part);

/* st's client (fails the test when none runs) and its state. */
struct dhcp *dh_client(void);
enum dhcp_state dh_state(void);
/* A counter "dhcp.<name>" of st. */
int64_t dh_ctr(const char *name);
/* Every reply counted once: its drop reason, or taken. */
void dh_check_counters(void);

/* Runs the timers as the net thread does: every deadline up to t, in order,
 * checking that each tick leaves its next deadline in the future. */
void dh_advance_to(uint64_t t);
void dh_advance(uint64_t ns);

/* What went out since the last fake_netif_tx_clear. */
struct dh_sent {
    struct dhcp_repr r;
    struct ipv4_addr src, dst;
    struct eth_addr edst;
};
bool dh_is_dhcp_frame(int i);
bool dh_is_arp_frame(int i);
int dh_count_frames(bool (*pred)(int));
/* Frame i is a DHCP message from us: IPv4 and UDP (68 -> 67) with correct
 * checksums, our client identifier; returns its parts. */
struct dh_sent dh_sent_msg(int i);
/* The index of the n-th (0-based) DHCP frame sent, -1 when fewer. */
int dh_frame(int n);
/* The only DHCP message sent, of the given type. */
struct dh_sent dh_only_msg(uint8_t type);
void dh_assert_bcast_from_zero(const struct dh_sent *s);
bool dh_param_asked(const struct dhcp_repr *r, uint8_t code);

/* A reply from the test's server. */
struct dh_reply {
    uint8_t op, type;
    uint32_t xid;
    struct ipv4_addr yiaddr, server;
    struct eth_addr smac, chaddr;
    uint16_t sport;
    bool unicast;                              /* to yiaddr and our MAC, not broadcast */
    bool no_server_id;                         /* option 54 left out */
    uint32_t lease, t1, t2;                    /* 0: left out */
    struct ipv4_addr mask, router, dns1, dns2; /* 0.0.0.0: left out */
    uint16_t mtu;
};
/* As server A sends it: lease 120 s (T1 60, T2 105), /24, router and DNS, for
 * the exchange in progress, OFFERED to us. */
struct dh_reply dh_reply(uint8_t type);
/* The reply in a frame from the server, through fk; mutate (when set) may
 * change the message's bytes and length first. */
void dh_deliver_mutated(const struct dh_reply *rp,
                        void (*mutate)(uint8_t *m, uint32_t *len));
void dh_deliver(const struct dh_reply *rp);
void dh_deliver_type(uint8_t type);
/* An ARP packet from mac/spa about tpa, broadcast. */
void dh_arp_in(uint16_t op, const struct eth_addr *mac, struct ipv4_addr spa,
               struct ipv4_addr tpa);

/* start, OFFER, REQUEST, ACK (ack, or the default one), probes: BOUND, the
 * frames sent cleared. */
void dh_bind_with(const struct dh_reply *ack);
void dh_bind_default(void);

#endif
