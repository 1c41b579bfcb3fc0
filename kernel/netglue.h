/* The wiring of the network: the one file that knows both a driver and the
 * stack (kernel/netglue.c). In mode=net it puts a stack on every virtio-net
 * interface (net0 gets ip=/gw=, net<N> net<N>.ip=/net<N>.gw=), enables the
 * built-in services and starts the stack's timer thread; the console commands
 * over the network (kernel/net_commands.c) and the timer (kernel/net_timer.c)
 * reach the stacks through it. Thread context, at boot. */
#ifndef NETGLUE_H
#define NETGLUE_H

#include "cmdline.h"
#include "kernel/counters.h"

struct net_stack;

/* Registers the network console commands; in mode=net, starts the stack on every
 * virtio-net interface with cfg's addresses. */
void netglue_start(const struct kconfig *cfg);

/* The stacks, net0's first; NULL when i is out of range. */
int netglue_stack_count(void);
struct net_stack *netglue_stack(int i);

/* Every counter of every driver and stack: the devices' as "net0.rx_packets",
 * net0's stack's layers as "eth.rx_frames", net1's as "net1.eth.rx_frames". */
void netglue_stats_print(print_line_fn print, void *ctx);

#endif
