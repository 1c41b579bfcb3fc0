/* Regression tests for the virtio-net data path found by the robustness suites
 * (tests/qemu/malformed_test.py), against the device model (linked:
 * tests/unit/vnet_model.c, drivers/vnet_datapath.c):
 * each fails on the code before its fix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/vnet_model.h"

static struct vnet_model m;
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
    ngot = 0;
    vnet_model_setup(&m, &(struct vnet_model_config){.input = capture_input});
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vnet_model_teardown(&m);
    return 0;
}

/* QEMU hands a frame to the guest whenever it fits the buffer, and buffers are
 * rounded up to 64 bytes: with MTU 1500, frames of 1519 to 1524 bytes reached
 * the stack (which answered oversized echo requests). They are RX errors now,
 * like runts; 1518 bytes (a VLAN-tagged full frame) still goes up. */
static void test_rx_oversize_frame_is_an_error(void **state)
{
    (void)state;
    assert_int_equal(m.dev.rx_buf_bytes, 1536); /* room for 1524 frame bytes */
    assert_true(vnet_model_receive(&m, 1518, 0x11, 0x11, 0x11));
    assert_true(vnet_model_receive(&m, 1519, 0x11, 0x11, 0x11));
    assert_true(vnet_model_receive(&m, 1524, 0x11, 0x11, 0x11));
    assert_int_equal(vnet_rx_drain(&m.dev, 64), 3);
    assert_int_equal(ngot, 1);
    assert_int_equal(got_len[0], 1518);
    assert_int_equal(m.dev.stats.rx_errors, 2);
    assert_int_equal(m.dev.stats.rx_packets, 1);
    assert_int_equal(m.dev.rx_posted, m.dev.rx_nbufs); /* all recycled */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rx_oversize_frame_is_an_error, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
