/* The virtio PCI transport, both kinds (virtio 1.1 section 4.1): modern devices
 * through their vendor capabilities (common config, notify, ISR, device config in
 * memory BARs) and legacy/transitional ones through the I/O BAR registers
 * (4.1.4.8). It owns device status, feature negotiation, device-config reads,
 * queue set-up (ring memory from dma_alloc) and notifications, and MSI-X vector
 * routing. Device drivers (virtio_net.c) call it from thread context; only
 * virtio_isr_ack may run in an interrupt handler. */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/pci.h"
#include "drivers/virtqueue.h"

#ifndef BIT
#define BIT(n) (UINT64_C(1) << (n))
#endif

#define VIRTIO_PCI_VENDOR 0x1AF4
/* 4.1.2: modern ids are 0x1040 + device type; transitional ones 0x1000..0x103F. */
#define VIRTIO_PCI_MODERN_BASE 0x1040
#define VIRTIO_ID_NET 1

/* 2.1 Device Status Field */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* 6 Reserved Feature Bits (bit numbers; use BIT()). */
#define VIRTIO_F_NOTIFY_ON_EMPTY 24 /* legacy */
#define VIRTIO_F_ANY_LAYOUT 27      /* legacy; implied by VERSION_1 */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34

/* 4.1.4.5: ISR status bits (reading the register clears it). */
#define VIRTIO_ISR_QUEUE 1u
#define VIRTIO_ISR_CONFIG 2u

/* 4.1.5.1.2: "no vector" for MSI-X routing registers. */
#define VIRTIO_MSI_NO_VECTOR 0xFFFF

#define VIRTIO_MAX_QUEUES 4

enum virtio_err {
    VIRTIO_OK = 0,
    VIRTIO_ENODEV = 1, /* not a usable virtio function (BARs or capabilities missing) */
    VIRTIO_EFEATURES = 2, /* the device refused our features, or lacks a required one */
    VIRTIO_EQUEUE = 3,    /* queue missing, too small, or would not enable */
    VIRTIO_ENOMEM = 4,    /* no DMA memory for the rings */
    VIRTIO_EIRQ = 5,      /* the device would not take an MSI-X vector */
};

struct virtio_pci {
    struct pci_dev *pci;
    bool modern;
    /* Modern: 4.1.4.3 to 4.1.4.6, mapped from the BARs. */
    volatile uint8_t *common;
    volatile uint8_t *isr;
    volatile uint8_t *device_cfg;
    volatile uint8_t *notify_base;
    uint32_t notify_mult;
    /* Legacy: the I/O BAR; device config starts at 20, or 24 with MSI-X on. */
    uint16_t io;
    uint16_t legacy_cfg;
    /* MSI-X, when the function has it and we enabled it. */
    struct pci_msix msix;
    bool msix_on;
    uint64_t device_features, driver_features;
    volatile void *notify_addr[VIRTIO_MAX_QUEUES];
};

/* Maps the transport of d: modern when the vendor capabilities are there,
 * legacy through BAR0 otherwise. Also enables memory/I/O decoding and bus
 * mastering. */
enum virtio_err virtio_pci_probe(struct virtio_pci *vp, struct pci_dev *d);
/* Turns MSI-X on (all vectors masked) if the function has it; for a legacy
 * device this moves device config from 20 to 24, so call it before reading it.
 * Returns the number of vectors, 0 without MSI-X. */
int virtio_msix_enable(struct virtio_pci *vp);

/* 3.1.1 steps. */
void virtio_reset(struct virtio_pci *vp);
uint8_t virtio_status(struct virtio_pci *vp);
void virtio_add_status(struct virtio_pci *vp, uint8_t bits);
/* Sets FAILED and logs why (tag = the driver's name for the device). */
void virtio_fail(struct virtio_pci *vp, const char *tag, const char *why);
uint64_t virtio_read_features(struct virtio_pci *vp);
/* Writes features (a subset of the device's); modern: sets FEATURES_OK and
 * checks the device kept it (3.1.1 steps 5-6). */
enum virtio_err virtio_write_features(struct virtio_pci *vp, uint64_t features);
static inline bool virtio_has(const struct virtio_pci *vp, int bit)
{
    return (vp->driver_features & BIT(bit)) != 0;
}

/* Device-specific configuration (4.1.4.6 / legacy 4.1.4.8), little-endian fields;
 * modern reads are retried until config_generation is stable (2.4.1). */
void virtio_config_read(struct virtio_pci *vp, uint32_t off, void *buf, uint32_t len);

/* Largest size the device allows for queue q; 0 when the queue does not exist. */
uint16_t virtio_queue_max(struct virtio_pci *vp, uint16_t q);
/* 4.1.5.1.3: allocates rings for size entries (modern may shrink the device's
 * size; legacy must use it), sets vq up over them and hands them to the device,
 * with MSI-X vector msix_vec (VIRTIO_MSI_NO_VECTOR for none). */
enum virtio_err virtio_queue_setup(struct virtio_pci *vp, struct virtq *vq, uint16_t q,
                                   uint16_t size, uint16_t msix_vec);
/* After a reset: hands the same queue (ring memory zeroed by virtq_reinit) to the
 * device again, with its MSI-X vector. */
enum virtio_err virtio_queue_restart(struct virtio_pci *vp, struct virtq *vq,
                                     uint16_t msix_vec);
/* The ordering point queues set up from now on use after their CPU fence: a port
 * write (on: the default, needed under TCG) or none (KVM). */
void virtio_set_io_fence(bool on);
bool virtio_io_fence(void);
/* Routes configuration-change interrupts to MSI-X vector vec; false if refused. */
bool virtio_config_vector(struct virtio_pci *vp, uint16_t vec);
/* The virtq notify callback (ctx = the struct virtio_pci). */
void virtio_notify(void *ctx, uint16_t q);
/* Reads and so acknowledges the ISR (INTx); IRQ context. VIRTIO_ISR_* bits. */
uint8_t virtio_isr_ack(struct virtio_pci *vp);

#endif
