/* The routing table of a host with several interfaces, each its own stack (one
 * per NIC): a route per on-link prefix (every configured interface's address
 * and prefix) and one default route (the first interface that holds a gateway;
 * the kernel lets only one hold one). Writes bound to an interface (replies,
 * DHCP) never ask; a write that is not (the console's ping, later TCP's
 * connect) asks net_route_pick which interface it leaves by. Pure over the
 * stacks' configuration; thread context. */
#ifndef NET_ROUTE_H
#define NET_ROUTE_H

#include "kernel/platform.h"
#include "net/addr.h"

struct net_stack;

/* The interface for dst among stacks[0..n): the one whose on-link prefix holds
 * dst (the longest such prefix; the first of equals); else the first that has a
 * default gateway; NULL when none (no route). A broadcast or multicast dst
 * leaves by the first configured interface. Unconfigured interfaces (0.0.0.0)
 * hold no route. */
struct net_stack *net_route_pick(struct net_stack *const *stacks, int n,
                                 struct ipv4_addr dst);
/* The default route's interface (the first with a gateway), or NULL. */
struct net_stack *net_route_default(struct net_stack *const *stacks, int n);
/* The console's `route`: "10.0.0.0/24 dev net0 src 10.0.0.2" per configured
 * interface, then "default via 10.0.0.1 dev net0" (or "default none"). */
void net_route_print(struct net_stack *const *stacks, int n, print_line_fn print,
                     void *ctx);

#endif
