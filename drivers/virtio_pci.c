/* The virtio PCI transport: see virtio_pci.h. Section numbers are virtio 1.1. */
#include "drivers/virtio_pci.h"

#include <string.h>

#include "kernel/io.h"
#include "kernel/log.h"
#include "kernel/mem.h"

/* 4.1.4 Virtio Structure PCI Capabilities: struct virtio_pci_cap. */
#define CAP_CFG_TYPE 3
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_NOTIFY_MULT 16 /* struct virtio_pci_notify_cap */
#define CFG_TYPE_COMMON 1
#define CFG_TYPE_NOTIFY 2
#define CFG_TYPE_ISR 3
#define CFG_TYPE_DEVICE 4

/* 4.1.4.3 Common configuration structure layout. */
#define COMMON_DFSELECT 0x00
#define COMMON_DF 0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF 0x0C
#define COMMON_MSIX_CONFIG 0x10
#define COMMON_NUM_QUEUES 0x12
#define COMMON_STATUS 0x14
#define COMMON_CFG_GEN 0x15
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE 0x18
#define COMMON_Q_MSIX 0x1A
#define COMMON_Q_ENABLE 0x1C
#define COMMON_Q_NOTIFY_OFF 0x1E
#define COMMON_Q_DESC 0x20
#define COMMON_Q_DRIVER 0x28
#define COMMON_Q_DEVICE 0x30

/* 4.1.4.8 Legacy Interfaces: A Note on PCI Device Layout (I/O BAR 0). */
#define LEGACY_HOST_FEATURES 0x00
#define LEGACY_GUEST_FEATURES 0x04
#define LEGACY_QUEUE_PFN 0x08
#define LEGACY_QUEUE_NUM 0x0C
#define LEGACY_QUEUE_SEL 0x0E
#define LEGACY_QUEUE_NOTIFY 0x10
#define LEGACY_STATUS 0x12
#define LEGACY_ISR 0x13
#define LEGACY_MSIX_CONFIG 0x14
#define LEGACY_MSIX_QUEUE 0x16
#define LEGACY_CONFIG 0x14      /* device config without MSI-X */
#define LEGACY_CONFIG_MSIX 0x18 /* ... and with MSI-X enabled */
#define LEGACY_PFN_SHIFT 12

/* ---------------------------------------------------------------- register access */

static uint8_t common_r8(struct virtio_pci *vp, int off)
{
    return mmio_read8(vp->common + off);
}
static uint16_t common_r16(struct virtio_pci *vp, int off)
{
    return mmio_read16(vp->common + off);
}
static uint32_t common_r32(struct virtio_pci *vp, int off)
{
    return mmio_read32(vp->common + off);
}
static void common_w8(struct virtio_pci *vp, int off, uint8_t v)
{
    mmio_write8(vp->common + off, v);
}
static void common_w16(struct virtio_pci *vp, int off, uint16_t v)
{
    mmio_write16(vp->common + off, v);
}
static void common_w32(struct virtio_pci *vp, int off, uint32_t v)
{
    mmio_write32(vp->common + off, v);
}
/* 4.1.3.1: 64-bit fields may be written as two 32-bit halves, low first. */
static void common_w64(struct virtio_pci *vp, int off, uint64_t v)
{
    common_w32(vp, off, (uint32_t)v);
    common_w32(vp, off + 4, (uint32_t)(v >> 32));
}

static uint16_t legacy_port(struct virtio_pci *vp, int off)
{
    return (uint16_t)(vp->io + off);
}

/* ---------------------------------------------------------------- probing */

/* 4.1.4: one structure of a given type; the first one the driver can use wins. */
static volatile uint8_t *map_cap(struct virtio_pci *vp, uint8_t cap)
{
    uint8_t bar = pci_read8(vp->pci, (uint8_t)(cap + CAP_BAR));
    uint32_t off = pci_read32(vp->pci, (uint8_t)(cap + CAP_OFFSET));
    uint32_t len = pci_read32(vp->pci, (uint8_t)(cap + CAP_LENGTH));
    volatile uint8_t *base = pci_bar_ptr(vp->pci, bar);
    if (!base || (uint64_t)off + len > vp->pci->bar[bar].size)
        return NULL;
    return base + off;
}

static void take_cap(struct virtio_pci *vp, uint8_t cap)
{
    uint8_t type = pci_read8(vp->pci, (uint8_t)(cap + CAP_CFG_TYPE));
    volatile uint8_t *p = map_cap(vp, cap);
    if (!p)
        return;
    if (type == CFG_TYPE_COMMON && !vp->common)
        vp->common = p;
    else if (type == CFG_TYPE_ISR && !vp->isr)
        vp->isr = p;
    else if (type == CFG_TYPE_DEVICE && !vp->device_cfg)
        vp->device_cfg = p;
    else if (type == CFG_TYPE_NOTIFY && !vp->notify_base) {
        vp->notify_base = p;
        vp->notify_mult = pci_read32(vp->pci, (uint8_t)(cap + CAP_NOTIFY_MULT));
    }
}

static bool find_modern(struct virtio_pci *vp)
{
    for (uint8_t cap = pci_cap_find(vp->pci, PCI_CAP_ID_VENDOR); cap;
         cap = pci_cap_next(vp->pci, PCI_CAP_ID_VENDOR, cap))
        take_cap(vp, cap);
    return vp->common && vp->isr && vp->notify_base && vp->device_cfg;
}

enum virtio_err virtio_pci_probe(struct virtio_pci *vp, struct pci_dev *d)
{
    memset(vp, 0, sizeof *vp);
    vp->pci = d;
    pci_enable(d, PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER, PCI_CMD_INTX_DISABLE);
    /* 4.1.2.1 / 4.1.4.1: a driver SHOULD use the modern interface when offered. */
    if (find_modern(vp)) {
        vp->modern = true;
        return VIRTIO_OK;
    }
    /* Transitional or legacy-only (disable-modern=on): the I/O BAR 0. */
    if (d->device >= VIRTIO_PCI_MODERN_BASE || d->bar[0].kind != PCI_BAR_IO)
        return VIRTIO_ENODEV;
    vp->io = (uint16_t)d->bar[0].base;
    vp->legacy_cfg = LEGACY_CONFIG;
    return VIRTIO_OK;
}

int virtio_msix_enable(struct virtio_pci *vp)
{
    if (!pci_msix_probe(vp->pci, &vp->msix))
        return 0;
    for (int i = 0; i < vp->msix.table_size; i++)
        pci_msix_mask(&vp->msix, i, true);
    pci_msix_enable(vp->pci, &vp->msix, true);
    vp->msix_on = true;
    /* 4.1.4.8: the legacy config moves past the two vector registers. */
    vp->legacy_cfg = LEGACY_CONFIG_MSIX;
    return vp->msix.table_size;
}

/* ---------------------------------------------------------------- status and features */

uint8_t virtio_status(struct virtio_pci *vp)
{
    return vp->modern ? common_r8(vp, COMMON_STATUS)
                      : inb(legacy_port(vp, LEGACY_STATUS));
}

static void set_status(struct virtio_pci *vp, uint8_t s)
{
    if (vp->modern)
        common_w8(vp, COMMON_STATUS, s);
    else
        outb(legacy_port(vp, LEGACY_STATUS), s);
}

/* 4.1.4.3.2: after writing 0 the driver waits until the device reads back 0. */
void virtio_reset(struct virtio_pci *vp)
{
    set_status(vp, 0);
    if (vp->modern)
        for (int i = 0; i < 1000000 && virtio_status(vp) != 0; i++)
            __asm__ volatile("pause");
}

void virtio_add_status(struct virtio_pci *vp, uint8_t bits)
{
    set_status(vp, (uint8_t)(virtio_status(vp) | bits));
}

void virtio_fail(struct virtio_pci *vp, const char *tag, const char *why)
{
    virtio_add_status(vp, VIRTIO_STATUS_FAILED);
    log_error(tag, "device set to FAILED: %s", why);
}

uint64_t virtio_read_features(struct virtio_pci *vp)
{
    if (!vp->modern) {
        vp->device_features = inl(legacy_port(vp, LEGACY_HOST_FEATURES));
        return vp->device_features;
    }
    common_w32(vp, COMMON_DFSELECT, 0);
    uint64_t lo = common_r32(vp, COMMON_DF);
    common_w32(vp, COMMON_DFSELECT, 1);
    uint64_t hi = common_r32(vp, COMMON_DF);
    vp->device_features = hi << 32 | lo;
    return vp->device_features;
}

enum virtio_err virtio_write_features(struct virtio_pci *vp, uint64_t features)
{
    features &= vp->device_features;
    vp->driver_features = features;
    if (!vp->modern) {
        /* 3.1.2: legacy devices have no FEATURES_OK step and 32 feature bits. */
        outl(legacy_port(vp, LEGACY_GUEST_FEATURES), (uint32_t)features);
        return VIRTIO_OK;
    }
    common_w32(vp, COMMON_GFSELECT, 0);
    common_w32(vp, COMMON_GF, (uint32_t)features);
    common_w32(vp, COMMON_GFSELECT, 1);
    common_w32(vp, COMMON_GF, (uint32_t)(features >> 32));
    /* 3.1.1 step 5: FEATURES_OK; step 6: re-read it to be sure the device agrees. */
    virtio_add_status(vp, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_status(vp) & VIRTIO_STATUS_FEATURES_OK))
        return VIRTIO_EFEATURES;
    return VIRTIO_OK;
}

/* ---------------------------------------------------------------- device configuration
 */

/* 4.1.3.1: each field with its natural width. */
static void cfg_read_once(struct virtio_pci *vp, uint32_t off, void *buf, uint32_t len)
{
    uint8_t *out = buf;
    if (vp->modern) {
        volatile uint8_t *p = vp->device_cfg + off;
        if (len == 2) {
            uint16_t v = mmio_read16(p);
            memcpy(out, &v, 2);
        } else if (len == 4) {
            uint32_t v = mmio_read32(p);
            memcpy(out, &v, 4);
        } else {
            for (uint32_t i = 0; i < len; i++)
                out[i] = mmio_read8(p + i);
        }
        return;
    }
    uint16_t port = legacy_port(vp, (int)(vp->legacy_cfg + off));
    if (len == 2) {
        uint16_t v = inw(port);
        memcpy(out, &v, 2);
    } else if (len == 4) {
        uint32_t v = inl(port);
        memcpy(out, &v, 4);
    } else {
        for (uint32_t i = 0; i < len; i++)
            out[i] = inb((uint16_t)(port + i));
    }
}

void virtio_config_read(struct virtio_pci *vp, uint32_t off, void *buf, uint32_t len)
{
    if (!vp->modern) {
        cfg_read_once(vp, off, buf, len);
        return;
    }
    /* 2.4.1: retry while the device changed the config under us. */
    uint8_t gen;
    do {
        gen = common_r8(vp, COMMON_CFG_GEN);
        cfg_read_once(vp, off, buf, len);
    } while (gen != common_r8(vp, COMMON_CFG_GEN));
}

/* ---------------------------------------------------------------- queues */

uint16_t virtio_queue_max(struct virtio_pci *vp, uint16_t q)
{
    if (vp->modern) {
        if (q >= common_r16(vp, COMMON_NUM_QUEUES))
            return 0;
        common_w16(vp, COMMON_Q_SELECT, q);
        return common_r16(vp, COMMON_Q_SIZE);
    }
    outw(legacy_port(vp, LEGACY_QUEUE_SEL), q);
    return inw(legacy_port(vp, LEGACY_QUEUE_NUM));
}

/* ---------------------------------------------------------------- ordering point
 * (docs/virtio-notifications.md) QEMU 7.2's TCG with one vCPU drops the guest's
 * fences, so a store to a ring followed by a load of what the device wrote can
 * pass each other on the host, and a notification is lost. A port write is an
 * ordering point QEMU honours: its dispatch takes QEMU's big lock, a locked host
 * instruction that drains the store buffer. Port 0x80 is the PC's POST-code
 * port, which QEMU's PC machines map to a device that does nothing. Under KVM
 * the CPU fence is honoured and a port write would cost a VM exit: no I/O. */
#define FENCE_PORT 0x80

static void io_fence(void)
{
    outb(FENCE_PORT, 0);
}

static bool use_io_fence = true;

void virtio_set_io_fence(bool on)
{
    use_io_fence = on;
}

bool virtio_io_fence(void)
{
    return use_io_fence;
}

/* Ring memory and the cookie array, both from DMA memory (zeroed). */
static enum virtio_err alloc_rings(struct virtio_pci *vp, struct virtq *vq, uint16_t q,
                                   uint16_t size)
{
    size_t align = vp->modern ? VIRTQ_ALIGN_MODERN : VIRTQ_ALIGN_LEGACY;
    struct virtq_layout l;
    virtq_layout(size, align, &l);
    void *mem = dma_alloc(l.total, PAGE_SIZE);
    void **cookies = dma_alloc(sizeof(void *) * size, sizeof(void *));
    if (!mem || !cookies)
        return VIRTIO_ENOMEM;
    struct virtq_config cfg = {
        .index = q,
        .size = size,
        .mem = mem,
        .used_align = align,
        .cookies = cookies,
        .event_idx = virtio_has(vp, VIRTIO_F_RING_EVENT_IDX),
        .notify = virtio_notify,
        .notify_ctx = vp,
        .fence = use_io_fence ? io_fence : NULL,
    };
    virtq_init(vq, &cfg);
    return VIRTIO_OK;
}

/* 4.1.5.1.3 Virtqueue Configuration (modern). */
static enum virtio_err setup_modern(struct virtio_pci *vp, struct virtq *vq, uint16_t q,
                                    uint16_t msix_vec)
{
    common_w16(vp, COMMON_Q_SELECT, q);
    common_w16(vp, COMMON_Q_SIZE, vq->size);
    common_w64(vp, COMMON_Q_DESC, virtq_desc_addr(vq));
    common_w64(vp, COMMON_Q_DRIVER, virtq_avail_addr(vq));
    common_w64(vp, COMMON_Q_DEVICE, virtq_used_addr(vq));
    if (vp->msix_on) {
        common_w16(vp, COMMON_Q_MSIX, msix_vec);
        if (common_r16(vp, COMMON_Q_MSIX) != msix_vec)
            return VIRTIO_EIRQ;
    }
    uint16_t off = common_r16(vp, COMMON_Q_NOTIFY_OFF);
    vp->notify_addr[q] = vp->notify_base + (uint32_t)off * vp->notify_mult;
    common_w16(vp, COMMON_Q_ENABLE, 1);
    return common_r16(vp, COMMON_Q_ENABLE) == 1 ? VIRTIO_OK : VIRTIO_EQUEUE;
}

/* 4.1.5.1.3.1 Legacy: one page frame number for the whole 4096-aligned layout. */
static enum virtio_err setup_legacy(struct virtio_pci *vp, struct virtq *vq, uint16_t q,
                                    uint16_t msix_vec)
{
    outw(legacy_port(vp, LEGACY_QUEUE_SEL), q);
    uint64_t pfn = virtq_desc_addr(vq) >> LEGACY_PFN_SHIFT;
    if (pfn >> 32)
        return VIRTIO_ENOMEM; /* the register has 32 bits of page number */
    outl(legacy_port(vp, LEGACY_QUEUE_PFN), (uint32_t)pfn);
    if (vp->msix_on) {
        outw(legacy_port(vp, LEGACY_MSIX_QUEUE), msix_vec);
        if (inw(legacy_port(vp, LEGACY_MSIX_QUEUE)) != msix_vec)
            return VIRTIO_EIRQ;
    }
    vp->notify_addr[q] = NULL;
    return VIRTIO_OK;
}

enum virtio_err virtio_queue_setup(struct virtio_pci *vp, struct virtq *vq, uint16_t q,
                                   uint16_t size, uint16_t msix_vec)
{
    uint16_t max = q < VIRTIO_MAX_QUEUES ? virtio_queue_max(vp, q) : 0;
    if (!vp->modern)
        size = max; /* legacy devices cannot be told another size */
    /* Power of two: free-running indices map to slots alike across the wrap. */
    if (max == 0 || size == 0 || size > max || (size & (size - 1)))
        return VIRTIO_EQUEUE;
    enum virtio_err e = alloc_rings(vp, vq, q, size);
    if (e != VIRTIO_OK)
        return e;
    return vp->modern ? setup_modern(vp, vq, q, msix_vec)
                      : setup_legacy(vp, vq, q, msix_vec);
}

enum virtio_err virtio_queue_restart(struct virtio_pci *vp, struct virtq *vq,
                                     uint16_t msix_vec)
{
    uint16_t q = vq->index;
    if (virtio_queue_max(vp, q) < vq->size)
        return VIRTIO_EQUEUE;
    return vp->modern ? setup_modern(vp, vq, q, msix_vec)
                      : setup_legacy(vp, vq, q, msix_vec);
}

bool virtio_config_vector(struct virtio_pci *vp, uint16_t vec)
{
    if (vp->modern) {
        common_w16(vp, COMMON_MSIX_CONFIG, vec);
        return common_r16(vp, COMMON_MSIX_CONFIG) == vec;
    }
    outw(legacy_port(vp, LEGACY_MSIX_CONFIG), vec);
    return inw(legacy_port(vp, LEGACY_MSIX_CONFIG)) == vec;
}

/* 4.1.5.2: modern devices take the queue index at the queue's notify address;
 * legacy ones at QUEUE_NOTIFY. */
void virtio_notify(void *ctx, uint16_t q)
{
    struct virtio_pci *vp = ctx;
    if (vp->modern)
        mmio_write16(vp->notify_addr[q], q);
    else
        outw(legacy_port(vp, LEGACY_QUEUE_NOTIFY), q);
}

uint8_t virtio_isr_ack(struct virtio_pci *vp)
{
    return vp->modern ? mmio_read8(vp->isr) : inb(legacy_port(vp, LEGACY_ISR));
}
