/* Inside the DHCP client (net/dhcp.h), shared by its files: dhcp.c (life cycle,
 * timers, the transitions), dhcp_rx.c (replies and the ARP watcher), dhcp_tx.c
 * (messages out), dhcp_lease.c (leases from ACKs, the console). Not for use
 * outside net/dhcp*.c. */
#ifndef NET_DHCP_IMPL_H
#define NET_DHCP_IMPL_H

#include "net/dhcp.h"
#include "net/stack.h"

#define DHCP_SEC 1000000000ull

/* dhcp.c: randomness, timers, transitions. */
uint32_t dhcp_rand32(struct dhcp *d);
/* Uniform in [0, span_ns], in whole milliseconds. */
uint64_t dhcp_rand_ns(struct dhcp *d, uint64_t span_ns);
/* The wait after the tries-th transmission (tries >= 1): 4 s doubled per try up
 * to 64 s, +-1 s. */
uint64_t dhcp_backoff(struct dhcp *d, uint32_t tries);
void dhcp_enter(struct dhcp *d, enum dhcp_state st);
/* The lease is lost (NAK, expiry, stop): the address goes, the MTU is restored. */
void dhcp_lose(struct dhcp *d);
/* Back to INIT (the lease lost first), DISCOVER after delay_ns (0: now). */
void dhcp_restart(struct dhcp *d, uint64_t now, uint64_t delay_ns);
/* An OFFER was taken (d->cand): REQUEST it. */
void dhcp_request_offer(struct dhcp *d, uint64_t now);
/* An ACK for a new address (d->cand): probe it, or bind at once (no_probe). */
void dhcp_begin_probe(struct dhcp *d, uint64_t now);
/* An ACK for the address we hold (RENEWING, REBINDING): the lease is extended. */
void dhcp_extend(struct dhcp *d, const struct dhcp_lease *l);
/* A conflict during the probe: DECLINE, INIT after the RFC's wait. */
void dhcp_conflict(struct dhcp *d, uint64_t now);

/* After an event that did not come from dhcp_tick (start, a reply, an ARP
 * packet): the stack's deadline hook hears of the client's next deadline, so a
 * timer thread asleep until a later one wakes (net/deadline.h). */
void dhcp_armed(struct dhcp *d);

/* dhcp_tx.c: one message of type DHCP_DISCOVER, DHCP_REQUEST (its form from the
 * state), DHCP_DECLINE or DHCP_RELEASE. Counted; false when it could not go. */
bool dhcp_send(struct dhcp *d, uint8_t type, uint64_t now);

/* dhcp_rx.c: the UDP port 68 callback and the ARP watcher. */
void dhcp_udp_input(void *ctx, const struct udp_rxinfo *info, struct view *data);
void dhcp_arp_watch(void *ctx, const struct arp_repr *r);

/* dhcp_lease.c */
/* A unicast address a host may hold (not 0/8, loopback, multicast, class E,
 * broadcast). */
bool dhcp_addr_usable(struct ipv4_addr a);
/* The lease an ACK (or OFFER) gives, its times counted from start (ns). */
void dhcp_lease_from(struct dhcp_lease *l, const struct dhcp_repr *r, uint64_t start);

#endif
