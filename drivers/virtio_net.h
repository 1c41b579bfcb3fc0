/* The virtio-net driver (virtio 1.1 section 5.1) over drivers/virtio_pci.c: brings
 * up every virtio-net PCI function, receives zero-copy into a pool of DMA netbufs
 * posted to the RX ring (each frame goes up through netif->input as a view into
 * the buffer the device wrote; releasing it re-posts the buffer), transmits in
 * place (tx_alloc gives a buffer with headroom for the virtio-net header, tx_send
 * chains it with extra segments), and can reflect frames back from the driver.
 *
 * Context: vnet_init_all after pci_init, irq set-up and sched_init, from the
 * first thread. Each device has one thread ("vnet0", ...) that drains the RX ring
 * (VNET_RX_BUDGET frames per turn, then it yields), reclaims TX descriptors and
 * follows link changes; its interrupt handlers only acknowledge and wake it.
 * netif->input runs on that thread, inside a no-sleep section. tx_alloc/tx_send
 * run on the caller's thread and block it (not the machine) while no TX buffer or
 * descriptor is free, except inside a no-sleep section (the receive path), where
 * they reclaim and otherwise fail at once (counted in tx_busy_drops). A watchdog
 * in the device thread notices a queue that stopped moving with work pending
 * (lost kick or interrupt), re-kicks and re-polls, and resets the device if
 * that does not help (docs/virtio-notifications.md). */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include <stdint.h>

#include "kernel/counters.h"
#include "kernel/netdev.h"

/* 5.1.3 Feature bits (bit numbers; BIT() from virtio_pci.h). */
#define VIRTIO_NET_F_CSUM 0       /* device checksums partial TX (later) */
#define VIRTIO_NET_F_GUEST_CSUM 1 /* partial RX checksums: NOT negotiated */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11 /* TSO (later) */
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15 /* merged RX buffers (later) */
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

#define VNET_MAX_DEVS 4
#define VNET_RX_BUDGET 64  /* frames per RX thread turn */
#define VNET_MAX_SEGS 8    /* extra segments tx_send takes */
#define VNET_MAX_MTU 9000  /* a larger device MTU is not negotiated */
#define VNET_KICK_BATCH 32 /* entries published before a kick inside a turn */

/* Brings up every virtio-net function pci_init found; returns how many are up.
 * A device that fails is left with status FAILED and a logged reason. */
int vnet_init_all(void);
/* Fault injection for the liveness tests, before vnet_init_all: "tx-kick",
 * "rx-irq" or "tx-wedge", from the at-th frame on (see vnet_dev.h). -1 when the
 * kind is unknown. */
int vnet_set_fault(const char *kind, uint64_t at);
int vnet_count(void);
/* The i-th device's interface (name "net<i>"); NULL when out of range. The stack
 * sets ->input (and ->stack) before or after; frames arriving while input is
 * NULL are counted in rx_dropped and recycled. */
struct netif *vnet_netif(int i);

/* Reflector mode: every device sends each received frame straight back with the
 * source and destination MACs swapped, from the driver, no stack. Zero copy: the
 * RX buffer itself is transmitted and goes back to the RX ring when the device is
 * done with it. Returns how many devices reflect. */
int vnet_reflect_start(void);

/* Each device's counters; the console prints them as "net0.rx_packets=12". */
#define VNET_COUNTERS(X)                                                                 \
    X(rx_packets) /* frames handed up ... */                                             \
    X(rx_bytes)   /* ... and their bytes */                                              \
    X(rx_nobuf)   /* times the RX ring was found empty: frames the device received       \
                     meanwhile were dropped by it */                                     \
    X(rx_errors)  /* runt or oversized completions, recycled */                          \
    X(rx_dropped) /* no input handler set, recycled */                                   \
    X(tx_packets)                                                                        \
    X(tx_bytes)                                                                          \
    X(tx_ring_full_waits) /* times a sender slept for a TX descriptor/buffer */          \
    X(tx_errors)          /* tx_send refused (EINVAL/EDOWN) */                           \
    X(tx_timeouts)        /* gave up after waiting VNET_TX_TIMEOUT (ENOBUFS/NULL) */     \
    X(interrupts)         /* interrupts taken for this device */                         \
    X(reflected)          /* frames sent back in reflector mode */                       \
    X(rx_kicks)           /* notifications sent to the device ... */                     \
    X(tx_kicks)           /* ... on each ring */                                         \
    X(tx_busy_drops)      /* frames the RX path could not send: no TX space (it never    \
                             waits; the sender retransmits) */                           \
    X(rx_stalls)          /* watchdog: RX ring starved while the device waited for a     \
                             kick, or an RX interrupt never came */                      \
    X(tx_stalls) /* watchdog: TX chains not consumed, or a TX interrupt never came */    \
    X(resets)    /* watchdog: device reset after a re-kick did not help */               \
    X(fences)    /* ordering points (I/O fences) on both rings */

struct vnet_stats {
    VNET_COUNTERS(COUNTER_FIELD)
};

/* Gauges: the RX pool, and how much of it is posted to the device (the rest is
 * held up the stack); at rest the two are equal. */
#define VNET_GAUGES(X)                                                                   \
    X(rx_pool_bufs)                                                                      \
    X(rx_pool_posted)

struct vnet_gauges {
    VNET_GAUGES(COUNTER_FIELD)
};

/* The registries of struct vnet_stats and struct vnet_gauges. */
extern const struct counter_table vnet_counter_table, vnet_gauge_table;

/* The i-th device's counters and gauges now (zeros when out of range). */
void vnet_get_stats(int i, struct vnet_stats *out);
void vnet_get_gauges(int i, struct vnet_gauges *out);

#endif
