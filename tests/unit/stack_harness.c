/* What every stack-level host test shares (included, like fake_netif.c): the
 * fake NIC and the stack under test, the teardown that checks every buffer came
 * back, and a counter reader that fails the test on an unknown name. Each test
 * file builds its own stack in its setup (configurations differ). */
#include "net/stack.h"
#include "tests/unit/fake_netif.c"

static struct fake_netif fk;
static struct net_stack *st;

/* Destroys st and checks that no RX or TX buffer is still held. */
static void harness_destroy(void)
{
    net_stack_destroy(st);
    st = NULL;
    fake_netif_tx_clear(&fk);
    assert_int_equal(fk.rx_live, 0);
    assert_int_equal(fk.tx_live, 0);
}

static int64_t ctr(const char *name)
{
    int64_t v = net_counter(st, name);
    if (v < 0)
        fail_msg("no counter %s", name);
    return v;
}
