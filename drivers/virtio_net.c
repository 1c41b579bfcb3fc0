/* virtio-net: bring-up as a walk through virtio 1.1 section 3.1.1 (Driver
 * Requirements: Device Initialization) and 5.1.5, interrupt handlers, the device
 * thread, and counters. The data path is in vnet_datapath.c. */
#include "drivers/virtio_net.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "drivers/vnet_dev.h"
#include "kernel/irq.h"
#include "kernel/log.h"
#include "kernel/platform.h"

static struct vnet_dev devs[VNET_MAX_DEVS]; /* slots, failed ones included */
_Static_assert(VNET_MAX_DEVS <= 10, "interface names are net0 to net9");
static struct vnet_dev *up_devs[VNET_MAX_DEVS];
static int nslots, nup;
static enum vnet_fault fault_kind; /* fault=... for every device */
static uint64_t fault_at;

static const struct netif_ops vnet_ops = {
    .tx_alloc = vnet_tx_alloc,
    .tx_send = vnet_tx_send,
};

/* ---------------------------------------------------------------- interrupts
 * IRQ context: acknowledge, note what happened, wake threads. Nothing else. */

static void wake_device(struct vnet_dev *dev)
{
    dev->interrupts++;
    dev->irq_pending = true;
    waitq_wake_one(&dev->wq);
}

/* Fault injection (fault=rx-irq): this interrupt is counted and then lost. */
static bool fault_lost(struct vnet_dev *dev)
{
    if (dev->fault != VNET_FAULT_RX_IRQ || !vnet_fault_drop_irq(dev))
        return false;
    dev->interrupts++;
    return true;
}

/* INTx (4.1.5.3): reading the ISR acknowledges it and lowers the line. The line
 * may be shared: an ISR of 0 means the interrupt was someone else's. */
static void intx_handler(void *ctx)
{
    struct vnet_dev *dev = ctx;
    uint8_t isr = virtio_isr_ack(&dev->vp);
    if (!isr || fault_lost(dev))
        return;
    if (isr & VIRTIO_ISR_CONFIG)
        dev->config_changed = true;
    wake_device(dev);
    waitq_wake_all(&dev->tx_wq);
}

/* MSI-X (4.1.5.3): one vector per source, no ISR read needed. */
static void msix_config_handler(void *ctx)
{
    struct vnet_dev *dev = ctx;
    dev->config_changed = true;
    wake_device(dev);
}

static void msix_rx_handler(void *ctx)
{
    struct vnet_dev *dev = ctx;
    if (!fault_lost(dev))
        wake_device(dev);
}

static void msix_tx_handler(void *ctx)
{
    struct vnet_dev *dev = ctx;
    wake_device(dev);
    waitq_wake_all(&dev->tx_wq);
}

/* Fewer than three table entries: one vector for everything. */
static void msix_shared_handler(void *ctx)
{
    struct vnet_dev *dev = ctx;
    dev->config_changed = true;
    wake_device(dev);
    waitq_wake_all(&dev->tx_wq);
}

/* 4.1.5.1.2: MSI-X entries 0 (config), 1 (RX), 2 (TX), each on its own IDT
 * vector; or entry 0 for all when the table is smaller. */
static bool setup_msix(struct vnet_dev *dev)
{
    struct pci_msix m;
    if (!pci_msix_probe(dev->vp.pci, &m))
        return false;
    static const irq_handler_fn three[3] = {msix_config_handler, msix_rx_handler,
                                            msix_tx_handler};
    static const irq_handler_fn one[1] = {msix_shared_handler};
    int n = m.table_size >= 3 ? 3 : 1;
    int vector[3];
    for (int i = 0; i < n; i++) {
        vector[i] = irq_alloc_vector(n == 3 ? three[i] : one[i], dev);
        if (vector[i] < 0) {
            log_warn(dev->name, "no free interrupt vector, using INTx");
            return false;
        }
    }
    virtio_msix_enable(&dev->vp);
    for (int i = 0; i < n; i++)
        pci_msix_set(&dev->vp.msix, i, msi_address(), msi_data(vector[i]));
    dev->vec = (struct vnet_vectors){true, 0, n == 3 ? 1 : 0, n == 3 ? 2 : 0};
    return true;
}

static bool setup_intx(struct vnet_dev *dev)
{
    const struct pci_dev *d = dev->vp.pci;
    dev->vec = (struct vnet_vectors){false, VIRTIO_MSI_NO_VECTOR, VIRTIO_MSI_NO_VECTOR,
                                     VIRTIO_MSI_NO_VECTOR};
    if (d->irq_pin == 0 || d->irq_line > 15)
        return false;
    return irq_register_legacy(d->irq_line, intx_handler, dev) == 0;
}

static void unmask_msix(struct vnet_dev *dev)
{
    if (!dev->vec.msix)
        return;
    int n = dev->vec.tx + 1;
    for (int i = 0; i < n; i++)
        pci_msix_mask(&dev->vp.msix, i, false);
}

/* ---------------------------------------------------------------- features */

static const struct {
    int bit;
    const char *name;
} feature_names[] = {
    {VIRTIO_NET_F_CSUM, "CSUM"},
    {VIRTIO_NET_F_GUEST_CSUM, "GUEST_CSUM"},
    {VIRTIO_NET_F_MTU, "MTU"},
    {VIRTIO_NET_F_MAC, "MAC"},
    {VIRTIO_NET_F_HOST_TSO4, "HOST_TSO4"},
    {VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF"},
    {VIRTIO_NET_F_STATUS, "STATUS"},
    {VIRTIO_NET_F_CTRL_VQ, "CTRL_VQ"},
    {VIRTIO_NET_F_MQ, "MQ"},
    {VIRTIO_F_ANY_LAYOUT, "ANY_LAYOUT"},
    {VIRTIO_F_RING_INDIRECT_DESC, "INDIRECT_DESC"},
    {VIRTIO_F_RING_EVENT_IDX, "EVENT_IDX"},
    {VIRTIO_F_VERSION_1, "VERSION_1"},
};

static void feature_string(uint64_t f, char *out, size_t size)
{
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof feature_names / sizeof feature_names[0]; i++)
        if ((f & BIT(feature_names[i].bit)) && n < size)
            n += (size_t)snprintf(out + n, size - n, " %s", feature_names[i].name);
}

/* What this driver understands. Later: CSUM, HOST_TSO4/6 (send), MRG_RXBUF.
 * GUEST_CSUM stays off: received frames would carry partial checksums. */
static uint64_t wanted_features(const struct virtio_pci *vp)
{
    uint64_t f = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
                 BIT(VIRTIO_NET_F_MTU) | BIT(VIRTIO_F_RING_EVENT_IDX);
    if (vp->modern)
        f |= BIT(VIRTIO_F_VERSION_1); /* 6.1: a modern driver MUST accept it */
    else
        f |= BIT(VIRTIO_F_ANY_LAYOUT); /* header and frame in one descriptor */
    return f;
}

static uint16_t read_mtu(struct vnet_dev *dev)
{
    uint16_t mtu;
    virtio_config_read(&dev->vp, VNET_CFG_MTU, &mtu, sizeof mtu);
    return mtu;
}

/* 3.1.1 step 4: read the device's features and write the subset we drive; the
 * device config MAY be read (not written) first, to vet the MTU it offers. */
static const char *negotiate(struct vnet_dev *dev)
{
    struct virtio_pci *vp = &dev->vp;
    uint64_t offered = virtio_read_features(vp);
    uint64_t want = wanted_features(vp);
    if (vp->modern && !(offered & BIT(VIRTIO_F_VERSION_1)))
        return "modern interface without VERSION_1";
    if (offered & BIT(VIRTIO_NET_F_MTU)) {
        uint16_t mtu = read_mtu(dev);
        if (mtu < 68 || mtu > VNET_MAX_MTU) {
            log_warn(dev->name, "device MTU %u not usable, not negotiated", mtu);
            want &= ~BIT(VIRTIO_NET_F_MTU);
        }
    }
    /* Steps 5 and 6 (modern): FEATURES_OK, then check the device kept it. */
    if (virtio_write_features(vp, want) != VIRTIO_OK)
        return "device refused our features (FEATURES_OK did not stick)";
    /* 5.1.6.1: the header has num_buffers only with VERSION_1 or MRG_RXBUF. */
    bool v1 =
        virtio_has(vp, VIRTIO_F_VERSION_1) || virtio_has(vp, VIRTIO_NET_F_MRG_RXBUF);
    dev->hdr_len = v1 ? VNET_HDR_LEN_V1 : VNET_HDR_LEN_LEGACY;
    /* 2.6.4.3: a legacy device without ANY_LAYOUT wants the header alone. */
    dev->split_hdr = !vp->modern && !virtio_has(vp, VIRTIO_F_ANY_LAYOUT);
    return NULL;
}

/* ---------------------------------------------------------------- device config */

static bool read_link(struct vnet_dev *dev)
{
    if (!virtio_has(&dev->vp, VIRTIO_NET_F_STATUS))
        return true; /* 5.1.4: without STATUS the link is assumed up */
    uint16_t status;
    virtio_config_read(&dev->vp, VNET_CFG_STATUS, &status, sizeof status);
    return (status & VNET_S_LINK_UP) != 0;
}

/* 5.1.5 steps: MAC (or a made-up local one), MTU, link state. */
static void read_config(struct vnet_dev *dev)
{
    struct netif *nif = &dev->nif;
    const struct pci_dev *d = dev->vp.pci;
    if (virtio_has(&dev->vp, VIRTIO_NET_F_MAC)) {
        virtio_config_read(&dev->vp, VNET_CFG_MAC, nif->mac, 6);
    } else {
        const uint8_t local[6] = {0x02, 0, 0, d->bus, d->dev, d->fn};
        memcpy(nif->mac, local, 6);
        log_warn(dev->name, "device has no MAC, using a locally administered one");
    }
    nif->mtu = virtio_has(&dev->vp, VIRTIO_NET_F_MTU) ? read_mtu(dev) : 1500;
    nif->link_up = read_link(dev);
    dev->max_frame = VNET_ETH_HDR + VNET_VLAN_ALLOW + nif->mtu;
}

static void link_update(struct vnet_dev *dev)
{
    dev->config_changed = false;
    bool up = read_link(dev);
    if (up != dev->nif.link_up)
        log_info(dev->name, "link %s", up ? "up" : "down");
    dev->nif.link_up = up;
}

/* ---------------------------------------------------------------- queues */

/* The largest power of two the device allows, at most VNET_QUEUE_MAX. */
static uint16_t queue_size(struct virtio_pci *vp, uint16_t q)
{
    uint16_t max = virtio_queue_max(vp, q), size = VNET_QUEUE_MAX;
    while (size > max)
        size >>= 1;
    return size;
}

/* 4.1.5.1.2 MSI-X routing, then 4.1.5.1.3 for the RX and TX queues (5.1.2). */
static const char *setup_queues(struct vnet_dev *dev)
{
    struct virtio_pci *vp = &dev->vp;
    if (dev->vec.msix && !virtio_config_vector(vp, dev->vec.config))
        return "device refused the config MSI-X vector";
    enum virtio_err e = virtio_queue_setup(vp, &dev->rxq, VNET_RXQ,
                                           queue_size(vp, VNET_RXQ), dev->vec.rx);
    if (e == VIRTIO_OK)
        e = virtio_queue_setup(vp, &dev->txq, VNET_TXQ, queue_size(vp, VNET_TXQ),
                               dev->vec.tx);
    switch (e) {
    case VIRTIO_OK:
        break;
    case VIRTIO_ENOMEM:
        return "no DMA memory for the rings";
    case VIRTIO_EIRQ:
        return "device refused a queue MSI-X vector";
    default:
        return "RX/TX queue missing or unusable";
    }
    /* 5.1.6.2.3: TX completions are reaped when sending; interrupts only when
     * someone waits for them (see the device thread and tx_wait). */
    virtq_disable_cb(&dev->txq);
    return NULL;
}

/* ---------------------------------------------------------------- the device thread */

/* Sleeps until an interrupt or until `until`; the check and the sleep are one
 * step with interrupts masked, so a wakeup between them is not lost. */
static void sleep_until_irq(struct vnet_dev *dev, uint64_t until)
{
    unsigned long f = plat_irq_save();
    if (!dev->irq_pending)
        waitq_wait(&dev->wq, until);
    plat_irq_restore(f);
}

/* The device thread: turns of vnet_service (drain, reclaim, kicks, re-arm,
 * watchdog), link changes in between; a flood neither starves the other
 * threads (a yield after each full budget) nor leaves frames behind. */
static void device_thread(void *arg)
{
    struct vnet_dev *dev = arg;
    for (;;) {
        if (dev->config_changed)
            link_update(dev);
        uint64_t until = vnet_service(dev);
        if (until == VNET_AGAIN)
            thread_yield();
        else
            sleep_until_irq(dev, until);
    }
}

/* ---------------------------------------------------------------- reset (watchdog) */

/* Status 0: the device forgets its queues and stops using our buffers (2.1.2,
 * 4.1.4.3.2: a read of 0 back means the reset is complete). */
static void hw_stop(struct vnet_dev *dev)
{
    virtio_reset(&dev->vp);
}

/* 3.1.1 again with the features, vectors and ring memory we had. */
static bool hw_start(struct vnet_dev *dev)
{
    struct virtio_pci *vp = &dev->vp;
    virtio_add_status(vp, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_add_status(vp, VIRTIO_STATUS_DRIVER);
    virtio_read_features(vp);
    if (virtio_write_features(vp, vp->driver_features) != VIRTIO_OK)
        return false;
    if (dev->vec.msix && !virtio_config_vector(vp, dev->vec.config))
        return false;
    if (virtio_queue_restart(vp, &dev->rxq, dev->vec.rx) != VIRTIO_OK ||
        virtio_queue_restart(vp, &dev->txq, dev->vec.tx) != VIRTIO_OK)
        return false;
    virtio_add_status(vp, VIRTIO_STATUS_DRIVER_OK);
    link_update(dev);
    return true;
}

static const struct vnet_hw_ops hw_ops = {.stop = hw_stop, .start = hw_start};

/* ---------------------------------------------------------------- bring-up */

/* At debug level: the boot prints as little as it can (each byte a VM exit);
 * the console's ifconfig shows the address, MTU and link. */
static void log_up(struct vnet_dev *dev)
{
    if (log_threshold < LOG_DEBUG)
        return;
    const uint8_t *m = dev->nif.mac;
    char feats[160];
    feature_string(dev->vp.driver_features, feats, sizeof feats);
    log_debug(dev->name,
              "%02x:%02x:%02x:%02x:%02x:%02x mtu %u link %s; %s, %s; rxq %u txq %u, "
              "hdr %u%s; features %#llx:%s",
              m[0], m[1], m[2], m[3], m[4], m[5], dev->nif.mtu,
              dev->nif.link_up ? "up" : "down", dev->vp.modern ? "modern" : "legacy",
              dev->vec.msix ? "MSI-X" : "INTx", dev->rxq.size, dev->txq.size,
              dev->hdr_len, dev->split_hdr ? " split" : "",
              (unsigned long long)dev->vp.driver_features, feats);
}

static void netif_init(struct vnet_dev *dev)
{
    struct netif *nif = &dev->nif;
    dev->hw = &hw_ops;
    nif->ops = &vnet_ops;
    nif->drv = dev;
    nif->tx_headroom = dev->hdr_len;
    nif->max_segs = VNET_MAX_SEGS;
    nif->input = NULL;
    nif->name = dev->name;
}

/* Steps 1 to 7 of 3.1.1; NULL on success, else why it failed. */
static const char *initialise(struct vnet_dev *dev)
{
    struct virtio_pci *vp = &dev->vp;
    /* 1. Reset the device. */
    virtio_reset(vp);
    /* 2. ACKNOWLEDGE: we have noticed the device. */
    virtio_add_status(vp, VIRTIO_STATUS_ACKNOWLEDGE);
    /* 3. DRIVER: we know how to drive it. */
    virtio_add_status(vp, VIRTIO_STATUS_DRIVER);
    /* 4.-6. Features, FEATURES_OK, and the check that it stuck. */
    const char *why = negotiate(dev);
    if (why)
        return why;
    /* 7. Device-specific set-up: queues, config, and the RX ring filled. */
    if ((why = setup_queues(dev)) != NULL)
        return why;
    read_config(dev);
    if (!vnet_rx_pool_init(dev) || !vnet_tx_pool_init(dev))
        return "no DMA memory for packet buffers";
    unmask_msix(dev);
    return NULL;
}

static bool bring_up(struct vnet_dev *dev, struct pci_dev *pci)
{
    if (virtio_pci_probe(&dev->vp, pci) != VIRTIO_OK) {
        log_warn(dev->name, "%02x:%02x.%x: no usable virtio transport", pci->bus,
                 pci->dev, pci->fn);
        return false;
    }
    /* Interrupt routing before anything else: turning MSI-X on moves a legacy
     * device's config space (4.1.4.8). */
    if (!setup_msix(dev) && !setup_intx(dev)) {
        virtio_fail(&dev->vp, dev->name, "no interrupt (no MSI-X, no INTx line)");
        return false;
    }
    const char *why = initialise(dev);
    if (why) {
        virtio_fail(&dev->vp, dev->name, why);
        return false;
    }
    netif_init(dev);
    /* 8. DRIVER_OK: the device is live; only now may we notify it (3.1.1). */
    virtio_add_status(&dev->vp, VIRTIO_STATUS_DRIVER_OK);
    dev->up = true;
    virtq_kick(&dev->rxq);
    struct thread *t = thread_spawn(dev->name, device_thread, dev, 0);
    if (!t) {
        virtio_fail(&dev->vp, dev->name, "no memory for the device thread");
        dev->up = false;
        return false;
    }
    thread_detach(t);
    log_up(dev);
    pci_bind(pci, "virtio-net");
    return true;
}

/* 4.1.2: 1af4:1041 (modern) or the transitional 1af4:1000. */
static bool is_virtio_net(const struct pci_dev *d)
{
    return d->vendor == VIRTIO_PCI_VENDOR &&
           (d->device == VIRTIO_PCI_MODERN_BASE + VIRTIO_ID_NET || d->device == 0x1000);
}

int vnet_init_all(void)
{
    for (int i = 0; i < pci_count(); i++) {
        struct pci_dev *d = pci_get(i);
        if (!is_virtio_net(d) || d->driver)
            continue;
        if (nslots == VNET_MAX_DEVS) {
            log_warn("vnet", "more than %d virtio-net devices, the rest are ignored",
                     VNET_MAX_DEVS);
            break;
        }
        struct vnet_dev *dev = &devs[nslots++]; /* never reused: handlers keep it */
        memset(dev, 0, sizeof *dev);
        memcpy(dev->name, "net", 3); /* "net<n>" without printf's code on the boot path */
        dev->name[3] = (char)('0' + nup);
        dev->name[4] = 0;
        dev->index = nup;
        dev->fault = fault_kind;
        dev->fault_at = fault_at;
        if (bring_up(dev, d))
            up_devs[nup++] = dev;
    }
    return nup;
}

int vnet_set_fault(const char *kind, uint64_t at)
{
    static const struct {
        const char *name;
        enum vnet_fault f;
    } kinds[] = {{"tx-kick", VNET_FAULT_TX_KICK},
                 {"rx-irq", VNET_FAULT_RX_IRQ},
                 {"tx-wedge", VNET_FAULT_TX_WEDGE}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kind, kinds[i].name) == 0) {
            fault_kind = kinds[i].f;
            fault_at = at;
            return 0;
        }
    }
    return -1;
}

int vnet_count(void)
{
    return nup;
}

struct netif *vnet_netif(int i)
{
    return i >= 0 && i < nup ? &up_devs[i]->nif : NULL;
}

int vnet_reflect_start(void)
{
    for (int i = 0; i < nup; i++) {
        up_devs[i]->nif.input = vnet_reflect_input;
        log_info(up_devs[i]->name, "reflector on");
    }
    return nup;
}

/* ---------------------------------------------------------------- counters */

#define VNET_DESC(n) COUNTER_DESC(struct vnet_stats, n)
const struct counter_table vnet_counter_table =
    COUNTER_REGISTRY(VNET_COUNTERS, VNET_DESC);

void vnet_get_stats(int i, struct vnet_stats *out)
{
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= nup)
        return;
    struct vnet_dev *dev = up_devs[i];
    *out = dev->stats;
    out->interrupts = dev->interrupts;
    out->rx_kicks = dev->rxq.stats.notifies + dev->rxq.stats.forced;
    out->tx_kicks = dev->txq.stats.notifies + dev->txq.stats.forced;
    out->fences = dev->rxq.stats.fences + dev->txq.stats.fences;
}

#define VNET_GAUGE_DESC(n) COUNTER_DESC(struct vnet_gauges, n)
const struct counter_table vnet_gauge_table =
    COUNTER_REGISTRY(VNET_GAUGES, VNET_GAUGE_DESC);

void vnet_get_gauges(int i, struct vnet_gauges *out)
{
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= nup)
        return;
    out->rx_pool_bufs = up_devs[i]->rx_nbufs;
    out->rx_pool_posted = up_devs[i]->rx_posted;
}
