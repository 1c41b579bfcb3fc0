/* What every stack-level host test shares (linked: tests/unit/stack_harness.c):
 * the fake NIC fk and the stack st under test, built from a config; the teardown
 * that checks every buffer came back; a counter reader that fails the test on an
 * unknown name. Tests with more than one stack build the others with
 * harness_stack. */
#ifndef STACK_HARNESS_H
#define STACK_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "net/stack.h"
#include "tests/unit/fake_netif.h"

#define HARNESS_NO_SEGS (-1)

/* A zeroed config is the common case: 10.0.0.2/24 without gateway on the
 * fixtures' MAC (fx_dut_mac), MTU 1500, 4 segments, default tunables. */
struct harness_config {
    const char *addr;           /* "a.b.c.d/len"; NULL: "10.0.0.2/24" */
    const char *gateway;        /* NULL: none */
    const struct eth_addr *mac; /* NULL: fx_dut_mac */
    uint16_t mtu;               /* 0: 1500 */
    int max_segs;               /* 0: 4; HARNESS_NO_SEGS: none */
    uint64_t clock_ns;          /* the fake clock at set-up; 0 leaves it alone */
    bool fresh_scheduler;       /* sched_init and no idle hook first */
    bool static_peer;           /* fx_peer_ip -> fx_peer_mac, a static ARP entry */
    bool udp_echo, udp_discard; /* the built-in services */
    bool keep_setup_tx;         /* keep what set-up sent (the gratuitous ARP) */
    struct net_config tune;     /* arp_capacity, limits, ICMP rate (addresses unused) */
};

extern struct fake_netif fk;
extern struct net_stack *st;

/* Builds st on fk from c (NULL: all defaults). */
void harness_setup(const struct harness_config *c);
/* The same on another fake NIC; returns the stack. */
struct net_stack *harness_stack(struct fake_netif *f, const struct harness_config *c);
/* Destroys st and checks that no RX or TX buffer of fk is still held. */
void harness_destroy(void);
/* harness_destroy as a cmocka teardown. */
int harness_teardown(void **state);
/* A counter of st by "layer.name"; fails the test when there is none. */
int64_t ctr(const char *name);

/* Lines a printer produced (net_stats_print, net_arp_print, ...): pass
 * harness_collect as the print function and the struct as its context. */
struct harness_lines {
    int n;
    char text[400][100];
};
void harness_collect(void *ctx, const char *line);
bool harness_has_line(const struct harness_lines *l, const char *want);

#endif
