/* Private to the virtio-net driver (virtio_net.c: bring-up, interrupts, the
 * device thread; vnet_datapath.c: RX/TX buffers and rings). One struct vnet_dev
 * per device. Fields marked IRQ are written by interrupt handlers; everything
 * else belongs to threads (cooperative, so no locks). */
#ifndef VNET_DEV_H
#define VNET_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio_net.h"
#include "drivers/virtio_pci.h"
#include "drivers/virtqueue.h"
#include "kernel/netdev.h"
#include "kernel/sched.h"

#define VNET_QUEUE_MAX 256 /* entries we ask for (modern) */
#define VNET_RXQ 0         /* 5.1.2: receiveq1 */
#define VNET_TXQ 1         /* 5.1.2: transmitq1 */
#define VNET_ETH_HDR 14
#define VNET_VLAN_ALLOW 4 /* a tagged frame may be 4 bytes longer */

/* 5.1.6 struct virtio_net_hdr: field offsets (little-endian). */
#define VNET_HDR_FLAGS 0
#define VNET_HDR_GSO_TYPE 1
#define VNET_HDR_LEN_LEGACY 10 /* legacy without MRG_RXBUF (5.1.6.1) */
#define VNET_HDR_LEN_V1 12     /* VERSION_1 or MRG_RXBUF: + num_buffers */

/* 5.1.4 Device configuration layout. */
#define VNET_CFG_MAC 0
#define VNET_CFG_STATUS 6
#define VNET_CFG_MTU 10
#define VNET_S_LINK_UP 1u

/* The netbufs of one transmitted chain, released when the device is done. */
struct vnet_tx_slot {
    struct netbuf *bufs[1 + VNET_MAX_SEGS];
    int n;
    uint16_t next_free;
};

/* Fault injection for the liveness tests (fault=<kind>[@N] on the command line):
 * from the N-th frame on, the driver misbehaves once (or until a reset) so that
 * the watchdog must notice and recover. */
enum vnet_fault {
    VNET_FAULT_NONE = 0,
    VNET_FAULT_TX_KICK = 1,  /* skip one TX kick: a re-kick recovers */
    VNET_FAULT_RX_IRQ = 2,   /* ignore one RX interrupt: a re-poll recovers */
    VNET_FAULT_TX_WEDGE = 3, /* drop every TX kick until the device is reset */
};

/* One queue's watchdog: the device's used index at the last look, since when it
 * has not moved while work was outstanding, and whether we re-kicked already. */
struct vnet_wd {
    uint16_t used_seen;
    uint64_t since;
    int stage; /* 0 watching, 1 re-kicked (a reset follows if still stuck) */
};

struct vnet_dev;

/* The transport side of a device reset, so the data path (portable, host-tested)
 * can recover a device: stop it (status 0: the device forgets the rings and
 * touches no buffer afterwards), then bring it back with the same features and
 * the same ring memory (zeroed by then) up to DRIVER_OK. */
struct vnet_hw_ops {
    void (*stop)(struct vnet_dev *dev);
    bool (*start)(struct vnet_dev *dev); /* false: the device did not come back */
};

/* MSI-X table entries used for config changes and each queue. */
struct vnet_vectors {
    bool msix;
    uint16_t config, rx, tx; /* table entries (VIRTIO_MSI_NO_VECTOR: none) */
};

struct vnet_dev {
    struct netif nif;
    const struct vnet_hw_ops *hw;
    char name[8];
    int index;
    bool up;
    struct virtio_pci vp;
    struct virtq rxq, txq;
    struct vnet_vectors vec;
    uint32_t hdr_len;   /* virtio-net header bytes: 10 or 12 */
    bool split_hdr;     /* legacy without ANY_LAYOUT: header in its own descriptor */
    uint32_t max_frame; /* longest Ethernet frame we send or expect */

    /* RX: a pool of netbufs; all are posted except those the stack holds. */
    struct netbuf *rx_bufs;
    uint32_t rx_nbufs, rx_buf_bytes;
    uint32_t rx_posted;
    /* Inside a turn of the device thread kicks wait for the end of the turn (or
     * VNET_KICK_BATCH entries), so one ordering point serves many frames. */
    bool in_turn;
    uint16_t rx_unkicked, tx_unkicked;

    /* TX: a pool of netbufs (stack of free indices) and chain slots. */
    struct netbuf *tx_bufs;
    uint16_t *tx_free;
    uint32_t tx_nbufs, tx_nfree, tx_buf_bytes;
    struct vnet_tx_slot *slots;
    uint16_t slot_head, nslots;
    int tx_waiters;
    struct waitq tx_wq; /* senders waiting for a descriptor or buffer */

    /* Liveness (vnet_service): notifications armed when the thread last went
     * to sleep, the watchdog's next look, per-queue state, a suspected lost
     * interrupt (the device owed one when the timer woke us). */
    bool armed;
    uint64_t wd_next, last_activity, suspect_at;
    struct vnet_wd wd_rx, wd_tx;
    enum vnet_fault fault;
    uint64_t fault_at;
    bool fault_fired;

    struct waitq wq;              /* the device thread sleeps here */
    volatile bool irq_pending;    /* IRQ: something to do since the last check */
    volatile bool config_changed; /* IRQ: device config (link) changed */
    volatile uint64_t interrupts; /* IRQ */
    struct vnet_stats stats;
};

/* vnet_datapath.c */
bool vnet_rx_pool_init(struct vnet_dev *dev);
bool vnet_tx_pool_init(struct vnet_dev *dev);
int vnet_rx_drain(struct vnet_dev *dev, int budget);
/* One turn of the device thread: drain RX (budget), reclaim TX, send the turn's
 * kicks, re-arm notifications, run the watchdog. Returns VNET_AGAIN when it
 * should run again at once (after a yield), else the time to sleep until unless
 * an interrupt comes first. */
#define VNET_AGAIN 0
uint64_t vnet_service(struct vnet_dev *dev);
/* Stops, takes back every buffer and restarts the device (the watchdog's last
 * resort); the stack keeps its netif and sees nothing but lost frames. */
void vnet_reset(struct vnet_dev *dev, const char *why);
/* Fault injection for the liveness tests: may the IRQ handler wake the thread? */
bool vnet_fault_drop_irq(struct vnet_dev *dev);
int vnet_tx_reclaim(struct vnet_dev *dev);
struct netbuf *vnet_tx_alloc(struct netif *nif);
enum netif_err vnet_tx_send(struct netif *nif, struct netbuf *b, uint32_t len,
                            const struct netbuf_seg *extra, int nextra);
void vnet_reflect_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len);

#endif
