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

struct vnet_stats {
    uint64_t rx_packets, rx_bytes; /* frames (and their bytes) handed up */
    uint64_t rx_nobuf;             /* times the RX ring was found empty: frames the device
                                      received meanwhile were dropped by it */
    uint64_t rx_errors;            /* runt or oversized completions, recycled */
    uint64_t rx_dropped;           /* no input handler set, recycled */
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_ring_full_waits; /* times a sender slept for a TX descriptor/buffer */
    uint64_t tx_errors;          /* tx_send refused (EINVAL/EDOWN) */
    uint64_t tx_timeouts; /* gave up after waiting VNET_TX_TIMEOUT (ENOBUFS/NULL) */
    uint64_t interrupts;  /* interrupts taken for this device */
    uint64_t reflected;   /* frames sent back in reflector mode */
    uint64_t rx_kicks, tx_kicks; /* notifications sent to the device */
    uint64_t tx_busy_drops;      /* frames the RX path could not send: no TX space
                                    (it never waits; the sender retransmits) */
    uint64_t rx_stalls;          /* watchdog: RX ring starved while the device waited
                                    for a kick, or an RX interrupt never came */
    uint64_t tx_stalls;          /* watchdog: TX chains not consumed, or a TX interrupt
                                    never came */
    uint64_t resets;             /* watchdog: device reset after a re-kick did not help */
    uint64_t fences;             /* ordering points (I/O fences) on both rings */
};

void vnet_get_stats(int i, struct vnet_stats *out);
/* Calls fn once per counter of every device: ("net0", "rx_packets", 12), then
 * the gauges rx_pool_bufs and rx_pool_posted (equal when no frame is held). */
typedef void (*vnet_stat_fn)(void *arg, const char *dev, const char *name,
                             uint64_t value);
void vnet_stats_walk(vnet_stat_fn fn, void *arg);

#endif
