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
#include "kernel/sched.h"
#include "net/netbuf.h"
#include "net/netif.h"

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

/* MSI-X table entries used for config changes and each queue. */
struct vnet_vectors {
    bool msix;
    uint16_t config, rx, tx; /* table entries (VIRTIO_MSI_NO_VECTOR: none) */
};

struct vnet_dev {
    struct netif nif;
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
    bool in_drain, rx_need_kick; /* defer the RX kick to the end of a drain */

    /* TX: a pool of netbufs (stack of free indices) and chain slots. */
    struct netbuf *tx_bufs;
    uint16_t *tx_free;
    uint32_t tx_nbufs, tx_nfree, tx_buf_bytes;
    struct vnet_tx_slot *slots;
    uint16_t slot_head, nslots;
    int tx_waiters;
    struct waitq tx_wq; /* senders waiting for a descriptor or buffer */

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
int vnet_tx_reclaim(struct vnet_dev *dev);
struct netbuf *vnet_tx_alloc(struct netif *nif);
enum netif_err vnet_tx_send(struct netif *nif, struct netbuf *b, uint32_t len,
                            const struct netbuf_seg *extra, int nextra);
void vnet_reflect_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len);

#endif
