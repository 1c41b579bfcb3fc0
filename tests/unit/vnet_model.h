/* A virtio-net device for host tests of drivers/vnet_datapath.c (linked:
 * tests/unit/vnet_model.c): a struct vnet_dev set up as bring-up leaves it
 * (buffer pools posted, RX kicked, TX interrupts off) over two model queues
 * (tests/unit/virtq_model.h), the stand-in for kernel/mem.h's dma_alloc that
 * the pools come from, and the device's side of receiving a frame. */
#ifndef VNET_MODEL_H
#define VNET_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/vnet_dev.h"
#include "tests/unit/virtq_model.h"

struct vnet_model {
    struct vnet_dev dev;
    struct vfix rxf, txf; /* the queues and their model devices */
};

struct vnet_model_config {
    uint16_t rxsize, txsize; /* queue entries; 0: 8 */
    bool split_hdr;          /* legacy: the header in its own descriptor */
    bool no_event_idx;       /* flags instead of VIRTIO_F_EVENT_IDX */
    /* The stack's input (netif->input). */
    void (*input)(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len);
};

/* Also resets the scheduler and the fake clock (to 0), as a fresh boot would. */
void vnet_model_setup(struct vnet_model *m, const struct vnet_model_config *c);
/* Frees the queues and every dma_alloc made since set-up. */
void vnet_model_teardown(struct vnet_model *m);

/* The device receives a frame of len bytes (filled with fill, destination MAC
 * mac_dst repeated, source mac_src repeated) into the next posted buffer, behind
 * a virtio-net header. False when no buffer is posted. */
bool vnet_model_receive(struct vnet_model *m, uint32_t len, uint8_t fill, uint8_t mac_dst,
                        uint8_t mac_src);

#endif
