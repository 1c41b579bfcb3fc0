/* Regression tests for what fuzz_tcp (tests/fuzz/fuzz_tcp.c) found, one test per
 * finding, each failing on the code before its fix. The crash inputs themselves
 * are replayed by tests/fuzz/run.sh from tests/fuzz/regress/fuzz_tcp/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kernel/sched.h"
#include "tests/unit/tcp_harness.h"

static int setup(void **state)
{
    (void)state;
    sched_init();
    h_setup(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_teardown();
    return 0;
}

/* A simultaneous open shut down in SYN-RECEIVED went to FIN-WAIT-1 without
 * passing ESTABLISHED: the ACK of its SYN and FIN then reached CUBIC with a
 * congestion window never set (a division by zero), and a timeout retransmitted
 * "data" at the SYN's sequence number from a send queue that had none (a NULL
 * chunk). The FIN now waits for ESTABLISHED (RFC 9293 3.10.4). */
static void test_shutdown_in_syn_received(void **state)
{
    (void)state;
    struct tcp_flow *f;
    struct oseg syn, o;
    assert_int_equal(tcp_connect_start(tc, fx_peer_ip(), 7000, &f), TCP_OK);
    h_expect(&syn, TCP_SYN);
    h_raw(7000, syn.r.sport, TCP_SYN, 300, 0, 5000, NULL, NULL, 0);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(tcp_shutdown(f, TCP_SHUT_WR), TCP_OK);
    h_expect_none();
    /* Unanswered: the SYN-ACK again, never data. */
    h_advance(1001 * MS);
    h_expect(&o, TCP_SYN | TCP_ACK);
    assert_int_equal(o.r.seq, syn.r.seq);
    /* The peer acknowledges our SYN: ESTABLISHED, then the FIN at once. */
    h_raw(7000, syn.r.sport, TCP_ACK, 301, syn.r.seq + 1, 5000, NULL, NULL, 0);
    h_expect(&o, TCP_FIN | TCP_ACK);
    assert_int_equal(o.r.seq, syn.r.seq + 1);
    struct tcp_flow_info fi;
    tcp_flow_info(f, &fi);
    assert_int_equal(fi.state, TCP_FIN_WAIT_1);
    assert_true(fi.cwnd > 0);
    /* A timeout sends the FIN again (nothing else). */
    h_advance(1500 * MS);
    h_expect(&o, TCP_FIN | TCP_ACK);
    assert_int_equal(o.len, 0);
    h_raw(7000, syn.r.sport, TCP_ACK, 301, syn.r.seq + 2, 5000, NULL, NULL, 0);
    tcp_flow_info(f, &fi);
    assert_int_equal(fi.state, TCP_FIN_WAIT_2);
    tcp_abort(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shutdown_in_syn_received, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
