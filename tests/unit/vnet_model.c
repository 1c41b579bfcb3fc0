/* The virtio-net device model of the host tests (see tests/unit/vnet_model.h). */
#include <stdlib.h>
#include <string.h>

#include "kernel/mem.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/vnet_model.h"

/* ---------------------------------------------------------------- kernel/mem.h
 * dma_alloc: zeroed aligned heap memory, remembered so teardown frees it;
 * dma_alloc_buffers: the same, full of garbage. */

#define MAX_ALLOCS 4096
static void *allocs[MAX_ALLOCS];
static int nallocs;

static void *model_alloc(size_t size, size_t align, int fill)
{
    size_t bytes = (size + align - 1) & ~(align - 1);
    void *p = aligned_alloc(align, bytes);
    KCHECK(p && nallocs < MAX_ALLOCS);
    memset(p, fill, bytes);
    allocs[nallocs++] = p;
    return p;
}

void *dma_alloc(size_t size, size_t align)
{
    return model_alloc(size, align, 0);
}

/* Not zeroed in the kernel: filled with garbage here, so that a driver that
 * read a buffer before writing it would show. */
void *dma_alloc_buffers(size_t size)
{
    return model_alloc(size, 64, 0xA5);
}

/* ---------------------------------------------------------------- the device */

void vnet_model_setup(struct vnet_model *m, const struct vnet_model_config *c)
{
    static const struct netif_ops ops = {.tx_alloc = vnet_tx_alloc,
                                         .tx_send = vnet_tx_send};
    struct vnet_dev *dev = &m->dev;
    memset(m, 0, sizeof *m);
    host_clock_set(0);
    host_set_idle_hook(NULL, NULL);
    sched_init();
    vfix_init(&m->rxf, c->rxsize ? c->rxsize : 8, VIRTQ_ALIGN_MODERN, !c->no_event_idx,
              0);
    vfix_init(&m->txf, c->txsize ? c->txsize : 8, VIRTQ_ALIGN_MODERN, !c->no_event_idx,
              0);
    dev->rxq = m->rxf.vq;
    dev->txq = m->txf.vq;
    dev->rxq.notify_ctx = &m->rxf.dev;
    dev->txq.notify_ctx = &m->txf.dev;
    dev->hdr_len = VNET_HDR_LEN_V1;
    dev->split_hdr = c->split_hdr;
    dev->max_frame = VNET_ETH_HDR + VNET_VLAN_ALLOW + 1500;
    dev->up = true;
    dev->nif.ops = &ops;
    dev->nif.drv = dev;
    dev->nif.tx_headroom = dev->hdr_len;
    dev->nif.input = c->input;
    KCHECK(vnet_rx_pool_init(dev) && vnet_tx_pool_init(dev));
    virtq_disable_cb(&dev->txq);
    virtq_kick(&dev->rxq); /* as bring-up does after DRIVER_OK */
}

void vnet_model_teardown(struct vnet_model *m)
{
    host_set_idle_hook(NULL, NULL);
    vfix_free(&m->rxf);
    vfix_free(&m->txf);
    while (nallocs)
        free(allocs[--nallocs]);
}

bool vnet_model_receive(struct vnet_model *m, uint32_t len, uint8_t fill, uint8_t mac_dst,
                        uint8_t mac_src)
{
    struct vmodel_chain c;
    if (!vmodel_pop(&m->rxf.dev, &c))
        return false;
    static uint8_t all[VNET_HDR_LEN_V1 + 65536];
    KCHECK(len <= sizeof all - VNET_HDR_LEN_V1);
    memset(all, 0x5A, VNET_HDR_LEN_V1); /* whatever the device says: no offloads asked */
    uint8_t *frame = all + VNET_HDR_LEN_V1;
    memset(frame, fill, len);
    memset(frame, mac_dst, len < 6 ? len : 6);
    if (len > 6)
        memset(frame + 6, mac_src, len < 12 ? len - 6 : 6);
    uint32_t left = len + VNET_HDR_LEN_V1, pos = 0;
    for (int i = 0; i < c.n && left; i++) {
        KCHECK(c.seg[i].write);
        uint32_t n = left < c.seg[i].len ? left : c.seg[i].len;
        memcpy((void *)(uintptr_t)c.seg[i].addr, all + pos, n);
        pos += n;
        left -= n;
    }
    KCHECK(left == 0);
    vmodel_push(&m->rxf.dev, c.head, pos);
    vmodel_publish(&m->rxf.dev);
    return true;
}
