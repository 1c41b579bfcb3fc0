/* Regression tests for the virtio-net data path found by the robustness suites
 * (tests/qemu/malformed_test.py), against the model device of test_virtq_vnet.c:
 * each fails on the code before its fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/vnet_datapath.c"
#include "tests/unit/host_plat.h"
#include "tests/unit/virtq_model.h"

#define MAX_ALLOCS 256
static void *allocs[MAX_ALLOCS];
static int nallocs;

void *dma_alloc(size_t size, size_t align)
{
    size_t bytes = (size + align - 1) & ~(align - 1);
    void *p = aligned_alloc(align, bytes);
    KCHECK(p && nallocs < MAX_ALLOCS);
    memset(p, 0, bytes);
    allocs[nallocs++] = p;
    return p;
}

static struct vnet_dev dev;
static struct vfix rxf, txf;
static uint32_t got_len[64];
static int ngot;

static void capture_input(struct netif *nif, struct netbuf *b, uint32_t off, uint32_t len)
{
    (void)nif, (void)off;
    KCHECK(ngot < 64);
    got_len[ngot++] = len;
    netbuf_unref(b);
}

static int setup(void **state)
{
    (void)state;
    memset(&dev, 0, sizeof dev);
    ngot = 0;
    host_clock_set(0);
    host_set_idle_hook(NULL, NULL);
    sched_init();
    vfix_init(&rxf, 8, VIRTQ_ALIGN_MODERN, true, 0);
    vfix_init(&txf, 8, VIRTQ_ALIGN_MODERN, true, 0);
    dev.rxq = rxf.vq;
    dev.txq = txf.vq;
    dev.rxq.notify_ctx = &rxf.dev;
    dev.txq.notify_ctx = &txf.dev;
    dev.hdr_len = VNET_HDR_LEN_V1;
    dev.max_frame = VNET_ETH_HDR + VNET_VLAN_ALLOW + 1500;
    dev.up = true;
    static const struct netif_ops ops = {.tx_alloc = vnet_tx_alloc,
                                         .tx_send = vnet_tx_send};
    dev.nif.ops = &ops;
    dev.nif.drv = &dev;
    dev.nif.tx_headroom = dev.hdr_len;
    dev.nif.input = capture_input;
    KCHECK(vnet_rx_pool_init(&dev) && vnet_tx_pool_init(&dev));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vfix_free(&rxf);
    vfix_free(&txf);
    while (nallocs)
        free(allocs[--nallocs]);
    return 0;
}

/* The device writes a header and a frame of len bytes into the next buffer. */
static void dev_receive(uint32_t len)
{
    struct vmodel_chain c;
    assert_true(vmodel_pop(&rxf.dev, &c));
    assert_int_equal(c.n, 1);
    uint32_t total = VNET_HDR_LEN_V1 + len;
    assert_true(total <= c.seg[0].len);
    memset((void *)(uintptr_t)c.seg[0].addr, 0x11, total);
    vmodel_push(&rxf.dev, c.head, total);
    vmodel_publish(&rxf.dev);
}

/* QEMU hands a frame to the guest whenever it fits the buffer, and buffers are
 * rounded up to 64 bytes: with MTU 1500, frames of 1519 to 1524 bytes reached
 * the stack (which answered oversized echo requests). They are RX errors now,
 * like runts; 1518 bytes (a VLAN-tagged full frame) still goes up. */
static void test_rx_oversize_frame_is_an_error(void **state)
{
    (void)state;
    assert_int_equal(dev.rx_buf_bytes, 1536); /* room for 1524 frame bytes */
    dev_receive(1518);
    dev_receive(1519);
    dev_receive(1524);
    assert_int_equal(vnet_rx_drain(&dev, 64), 3);
    assert_int_equal(ngot, 1);
    assert_int_equal(got_len[0], 1518);
    assert_int_equal(dev.stats.rx_errors, 2);
    assert_int_equal(dev.stats.rx_packets, 1);
    assert_int_equal(dev.rx_posted, dev.rx_nbufs); /* all recycled */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rx_oversize_frame_is_an_error, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
