/* A simulated Ethernet link between two stacks for host tests (linked:
 * tests/unit/sim_link.c): each
 * side is a netif whose transmit copies the frame onto the link; the link delays
 * every frame (propagation plus serialization at a rate, behind a drop-tail queue
 * of bounded length), loses, duplicates and reorders frames with seeded
 * probabilities, and can drop its MTU: a frame over it is dropped and answered
 * with ICMP fragmentation-needed from a router address, as RFC 1191 expects.
 * sim_run is the RX and timer thread of both stacks (a cooperative thread):
 * it hands frames over when due and runs net_tick at the stacks' deadlines,
 * sleeping on the fake clock in between; stack deadlines that move earlier and
 * new frames wake it. Deterministic for a given seed. */
#ifndef SIM_LINK_H
#define SIM_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/platform.h"
#include "net/stack.h"

#define SIM_MAX_FRAMES 8192
#define SIM_FRAME_MAX 1600

struct sim_params {
    uint64_t seed;
    uint32_t loss_ppm, dup_ppm, reorder_ppm; /* per million frames */
    uint64_t delay_ns;                       /* one way */
    uint64_t reorder_ns;                     /* extra delay of a reordered frame */
    uint64_t rate_bps;                       /* 0: no serialization delay */
    uint32_t queue_frames;                   /* drop-tail limit per direction (0: none) */
};

struct sim_frame {
    uint64_t at, order;
    int to; /* receiving side */
    uint32_t len;
    uint8_t data[SIM_FRAME_MAX];
};

struct sim_side {
    struct netif nif;
    struct eth_addr mac;
    struct net_stack *st;
    uint64_t busy_until; /* serialization of this side's transmissions */
    uint32_t queued;     /* frames of this side not yet delivered */
    int tx_live;
    uint64_t sent, lost, dups, reordered, too_big, tail_drops;
};

struct sim {
    struct sim_params p;
    struct sim_side side[2];
    struct sim_frame *heap[SIM_MAX_FRAMES];
    int n;
    uint64_t order;
    uint64_t rng;
    uint16_t mtu; /* link MTU (IP bytes) */
    struct waitq wq;
    bool stop;
    uint64_t stop_at;
    int rx_live;
    uint64_t delivered;
};

/* Two stacks: side 0 at 10.0.0.1, side 1 at 10.0.0.2, each knowing the other's
 * MAC; mtu[i]: each interface's MTU; tcfg: both stacks' TCP (NULL: defaults). */
void sim_init(struct sim *s, const struct sim_params *p, const uint16_t mtu[2],
              const struct tcp_config *tcfg);
/* The RX and timer thread (a thread function, arg = the sim): runs until
 * sim_stop's time. */
void sim_run(void *arg);
void sim_stop(struct sim *s, uint64_t at);
void sim_free(struct sim *s);
/* The link's seeded random numbers (also for the tests' own choices). */
uint64_t sim_rand(struct sim *s);

#endif
