/* The stack harness of the host tests (see tests/unit/stack_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/host_plat.h"
#include "tests/unit/net_fixtures.h"
#include "tests/unit/stack_harness.h"

struct fake_netif fk;
struct net_stack *st;

struct net_stack *harness_stack(struct fake_netif *f, const struct harness_config *c)
{
    static const struct harness_config defaults;
    if (!c)
        c = &defaults;
    struct net_config cfg = c->tune;
    if (c->fresh_scheduler) {
        sched_init();
        host_set_idle_hook(NULL, NULL);
    }
    if (c->clock_ns)
        host_clock_set(c->clock_ns);
    fake_netif_init(f, c->mac ? c->mac : &fx_dut_mac, c->mtu ? c->mtu : 1500,
                    c->max_segs == HARNESS_NO_SEGS ? 0
                    : c->max_segs                  ? c->max_segs
                                                   : 4);
    assert_int_equal(
        net_config_parse(c->addr ? c->addr : "10.0.0.2/24", c->gateway, &cfg), 0);
    struct net_stack *s = net_stack_create(&f->nif, &cfg);
    assert_non_null(s);
    if (c->static_peer)
        assert_int_equal(arp_add_static(&s->arp, fx_peer_ip(), &fx_peer_mac), 0);
    if (c->udp_echo)
        assert_int_equal(net_udp_echo_enable(s), 0);
    if (c->udp_discard)
        assert_int_equal(net_udp_discard_enable(s), 0);
    if (!c->keep_setup_tx)
        fake_netif_tx_clear(f);
    return s;
}

void harness_setup(const struct harness_config *c)
{
    st = harness_stack(&fk, c);
}

void harness_destroy(void)
{
    net_stack_destroy(st);
    st = NULL;
    fake_netif_tx_clear(&fk);
    assert_int_equal(fk.rx_live, 0);
    assert_int_equal(fk.tx_live, 0);
}

int harness_teardown(void **state)
{
    (void)state;
    harness_destroy();
    return 0;
}

void harness_collect(void *ctx, const char *line)
{
    struct harness_lines *l = ctx;
    assert_true(l->n < 400);
    snprintf(l->text[l->n++], sizeof l->text[0], "%s", line);
}

bool harness_has_line(const struct harness_lines *l, const char *want)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->text[i], want) == 0)
            return true;
    return false;
}

int64_t ctr(const char *name)
{
    int64_t v = net_counter(st, name);
    if (v < 0)
        fail_msg("no counter %s", name);
    return v;
}
