/* Fake netif for net/ host tests (see fake_netif.h). */
#include <stdlib.h>
#include <string.h>

#include "kernel/platform.h"
#include "tests/unit/fake_netif.h"

static void tx_release(struct netbuf *b)
{
    struct fake_netif *f = b->owner;
    f->tx_live--;
    free(b->data);
    free(b);
}

static struct netbuf *fake_tx_alloc(struct netif *nif)
{
    struct fake_netif *f = nif->drv;
    if (f->tx_alloc_limit >= 0 && f->tx_allocs >= f->tx_alloc_limit)
        return NULL;
    struct netbuf *b = calloc(1, sizeof *b);
    KCHECK(b);
    b->cap = FAKE_HEADROOM + NETIF_TX_BUF_BYTES;
    b->data = malloc(b->cap);
    KCHECK(b->data);
    memset(b->data, 0xa5, b->cap);
    b->refs = 1;
    b->release = tx_release;
    b->owner = f;
    f->tx_allocs++;
    f->tx_live++;
    return b;
}

/* Joins the frame, then "completes" it: segment references are taken for the
 * duration, as a driver does, and dropped at once. */
static enum netif_err fake_tx_send(struct netif *nif, struct netbuf *b, uint32_t len,
                                   const struct netbuf_seg *extra, int nextra)
{
    struct fake_netif *f = nif->drv;
    KCHECK(b->refs > 0);
    KCHECK(len <= NETIF_TX_BUF_BYTES && nextra >= 0 && nextra <= nif->max_segs);
    if (f->tx_result != NETIF_OK) {
        netbuf_unref(b);
        return f->tx_result;
    }
    KCHECK(f->ntx < FAKE_TX_MAX);
    uint32_t total = len;
    for (int i = 0; i < nextra; i++) {
        KCHECK(extra[i].len > 0);
        total += extra[i].len;
        if (extra[i].buf)
            netbuf_ref(extra[i].buf);
    }
    struct fake_frame *fr = &f->tx[f->ntx++];
    fr->data = malloc(total ? total : 1);
    KCHECK(fr->data);
    memcpy(fr->data, b->data + nif->tx_headroom, len);
    uint32_t at = len;
    for (int i = 0; i < nextra; i++) {
        memcpy(fr->data + at, extra[i].p, extra[i].len);
        at += extra[i].len;
        if (extra[i].buf)
            netbuf_unref(extra[i].buf);
    }
    fr->len = total;
    fr->nsegs = nextra;
    netbuf_unref(b);
    return NETIF_OK;
}

static const struct netif_ops fake_ops = {.tx_alloc = fake_tx_alloc,
                                          .tx_send = fake_tx_send};

void fake_netif_init(struct fake_netif *f, const struct eth_addr *mac, uint16_t mtu,
                     int max_segs)
{
    memset(f, 0, sizeof *f);
    f->nif.ops = &fake_ops;
    f->nif.drv = f;
    memcpy(f->nif.mac, mac->b, 6);
    f->nif.mtu = mtu;
    f->nif.link_up = true;
    f->nif.tx_headroom = FAKE_HEADROOM;
    f->nif.max_segs = max_segs;
    f->nif.name = "fake0";
    f->tx_alloc_limit = -1;
}

static void rx_release(struct netbuf *b)
{
    struct fake_netif *f = b->owner;
    f->rx_live--;
    f->rx_released++;
    free(b->data);
    free(b);
}

/* A buffer of cap bytes holding the frame at off, the rest filled with junk. */
static void rx_at(struct fake_netif *f, const void *frame, uint32_t len, uint32_t off,
                  uint32_t cap)
{
    struct netbuf *b = calloc(1, sizeof *b);
    KCHECK(b);
    b->cap = cap;
    b->data = malloc(cap ? cap : 1);
    KCHECK(b->data);
    memset(b->data, 0xee, cap);
    memcpy(b->data + off, frame, len);
    b->refs = 1;
    b->release = rx_release;
    b->owner = f;
    f->rx_live++;
    KCHECK(f->nif.input);
    f->nif.input(&f->nif, b, off, len);
}

void fake_netif_rx(struct fake_netif *f, const void *frame, uint32_t len)
{
    rx_at(f, frame, len, FAKE_RX_OFF, FAKE_RX_OFF + len + 16);
}

void fake_netif_rx_exact(struct fake_netif *f, const void *frame, uint32_t len)
{
    rx_at(f, frame, len, 0, len);
}

const uint8_t *fake_netif_tx(const struct fake_netif *f, int i, uint32_t *len)
{
    if (i < 0 || i >= f->ntx)
        return NULL;
    if (len)
        *len = f->tx[i].len;
    return f->tx[i].data;
}

void fake_netif_tx_clear(struct fake_netif *f)
{
    for (int i = 0; i < f->ntx; i++)
        free(f->tx[i].data);
    f->ntx = 0;
}
