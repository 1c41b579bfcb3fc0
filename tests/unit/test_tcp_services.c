/* TCP echo, discard and chargen (net/tcp_services.c) from a client stack across
 * the simulated link: echo of 1 B to 1 MiB byte-exactly (also over a lossy
 * link), discard counting every byte, chargen's stream against RFC 864's
 * pattern, a client that leaves, idle connections reset, a write the total
 * memory cap stopped tried again by the timer; afterwards nothing held. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "kernel/sched.h"
#include "net/tcp_int.h"
#include "tests/unit/host_plat.h"
#include "tests/unit/svc_harness.h"

static uint8_t pat(uint32_t i)
{
    return (uint8_t)(i * 131 + (i >> 9));
}

struct echo_job {
    uint32_t size;
    struct tcp_flow *f;
    uint32_t got;
    bool ok;
};

static void echo_writer(void *arg)
{
    struct echo_job *j = arg;
    static uint8_t buf[8192];
    for (uint32_t off = 0; off < j->size;) {
        uint32_t n = j->size - off < sizeof buf ? j->size - off : (uint32_t)sizeof buf;
        for (uint32_t i = 0; i < n; i++)
            buf[i] = pat(off + i);
        if (!cli_write(j->f, buf, n))
            return;
        off += n;
    }
    tcp_shutdown(j->f, TCP_SHUT_WR);
}

static void echo_client(void *arg)
{
    struct echo_job *j = arg;
    CLI_CHECK(j->f = cli_connect(TCP_SVC_ECHO_PORT));
    struct thread *w = thread_spawn("writer", echo_writer, j, 0);
    CLI_CHECK(w);
    bool mismatch = false, eof = false;
    for (;;) {
        struct view v;
        enum tcp_err e = tcp_read(j->f, &v, 60 * SEC);
        if (e != TCP_OK || v.len == 0) {
            eof = e == TCP_OK;
            break;
        }
        for (uint32_t i = 0; i < v.len; i++)
            mismatch |= view_data(&v)[i] != pat(j->got + i);
        j->got += v.len;
    }
    thread_join(w, NULL);
    tcp_close(j->f);
    CLI_CHECK(eof);
    CLI_CHECK(!mismatch);
    CLI_CHECK(j->got == j->size);
    j->ok = true;
}

static void echo_sizes(const struct svc_setup *s, const uint32_t *sizes, int n)
{
    svc_start(s);
    uint64_t bytes = 0;
    for (int i = 0; i < n; i++) {
        struct echo_job j = {.size = sizes[i]};
        run_client(echo_client, &j);
        assert_true(j.ok);
        bytes += sizes[i];
    }
    struct tcp_svc_stats *st = &srv()->tcp_svc->st;
    assert_int_equal(st->echo_conns, n);
    assert_int_equal(st->echo_bytes, bytes);
    assert_int_equal(st->closed, n);
    assert_int_equal(st->reset, 0);
    svc_finish();
}

static void test_echo(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {1, 1024, 65536, 1 << 20};
    struct svc_setup s = {0};
    echo_sizes(&s, sizes, 4);
}

static void test_echo_lossy(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {300000};
    struct svc_setup s = {0};
    s.p = (struct sim_params){.seed = 7,
                              .loss_ppm = 20000,
                              .dup_ppm = 5000,
                              .reorder_ppm = 20000,
                              .reorder_ns = 3 * MS,
                              .delay_ns = 2 * MS,
                              .rate_bps = 100000000};
    echo_sizes(&s, sizes, 1);
}

static void discard_client(void *arg)
{
    (void)arg;
    static uint8_t buf[4096];
    struct tcp_flow *f;
    bool eof;
    CLI_CHECK(f = cli_connect(TCP_SVC_DISCARD_PORT));
    for (int i = 0; i < 64; i++)
        CLI_CHECK(cli_write(f, buf, sizeof buf));
    tcp_shutdown(f, TCP_SHUT_WR);
    CLI_CHECK(cli_read(f, buf, 1, &eof) == 0 && eof); /* nothing comes back */
    tcp_close(f);
}

static void test_discard(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    svc_start(&s);
    run_client(discard_client, NULL);
    assert_int_equal(srv()->tcp_svc->st.discard_bytes, 64 * 4096);
    assert_int_equal(srv()->tcp_svc->st.closed, 1);
    svc_finish();
}

static void chargen_client(void *arg)
{
    uint32_t *want = arg, got = 0;
    static uint8_t first[80];
    struct tcp_flow *f;
    CLI_CHECK(f = cli_connect(TCP_SVC_CHARGEN_PORT));
    CLI_CHECK(cli_write(f, "ignored", 7)); /* what the client sends is dropped */
    while (got < *want) {
        struct view v;
        CLI_CHECK(tcp_read(f, &v, 60 * SEC) == TCP_OK && v.len);
        for (uint32_t i = 0; i < v.len; i++) {
            CLI_CHECK(view_data(&v)[i] == chargen_byte(got + i));
            if (got + i < sizeof first)
                first[got + i] = view_data(&v)[i];
        }
        got += v.len;
    }
    /* RFC 864: the first line is the 72 characters from ' '. */
    CLI_CHECK(memcmp(first, " !\"#$%&'()*+,-./0123456789:;<=>?@", 33) == 0);
    CLI_CHECK(first[72] == '\r' && first[73] == '\n' && first[74] == '!');
    tcp_close(f);
}

static void test_chargen(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    uint32_t want = 150000; /* more than 21 cycles of the pattern */
    svc_start(&s);
    run_client(chargen_client, &want);
    thread_sleep_ns(1 * SEC);
    struct tcp_svc_stats *st = &srv()->tcp_svc->st;
    assert_true(st->chargen_bytes >= want);
    printf("# chargen: %llu bytes, rx %llu, reset %llu closed %llu conns %u\n",
           (unsigned long long)st->chargen_bytes,
           (unsigned long long)st->chargen_rx_bytes, (unsigned long long)st->reset,
           (unsigned long long)st->closed, srv()->tcp_svc->conns.n);
    assert_int_equal(st->chargen_rx_bytes, 7);
    /* The client's close is a FIN when it had read all that had come, else a
     * reset: either ends the connection. */
    assert_int_equal(st->reset + st->closed, 1);
    svc_finish();
}

static void idle_client(void *arg)
{
    (void)arg;
    uint8_t b;
    bool eof;
    struct tcp_flow *f;
    CLI_CHECK(f = cli_connect(TCP_SVC_ECHO_PORT));
    uint64_t t0 = plat_now_ns();
    CLI_CHECK(cli_read(f, &b, 1, &eof) == 0 && !eof); /* reset, not a FIN */
    CLI_CHECK(tcp_flow_error(f) == TCP_ERESET);
    uint64_t took = plat_now_ns() - t0;
    CLI_CHECK(took >= 3 * SEC && took < 4 * SEC);
    tcp_close(f);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    s.svc.idle_ms = 3000;
    svc_start(&s);
    run_client(idle_client, NULL);
    assert_int_equal(srv()->tcp_svc->st.idle_timeouts, 1);
    svc_finish();
}

/* The total cap full with another connection's unsent data: echo's write takes
 * nothing and nothing of its own is in flight, so only the timer can tell it to
 * go on; it does once the memory is back. */
struct cap_job {
    struct tcp_flow *hog;
    bool ok;
};

static void cap_client(void *arg)
{
    struct cap_job *j = arg;
    static uint8_t msg[1000], back[1000];
    bool eof;
    CLI_CHECK(j->hog = cli_connect(TCP_SVC_CHARGEN_PORT)); /* never read */
    thread_sleep_ns(2 * SEC);
    struct tcp *st = srv()->tcp;
    CLI_CHECK(st->mem_used + TCP_CHUNK_BYTES > st->cfg.mem_max);
    struct tcp_flow *f;
    CLI_CHECK(f = cli_connect(TCP_SVC_ECHO_PORT));
    for (uint32_t i = 0; i < sizeof msg; i++)
        msg[i] = pat(i);
    CLI_CHECK(cli_write(f, msg, sizeof msg));
    thread_sleep_ns(1 * SEC);
    CLI_CHECK(srv()->tcp_svc->st.echo_bytes == 0); /* stuck on the cap */
    tcp_abort(j->hog);                             /* frees the server's chunks */
    CLI_CHECK(cli_read(f, back, sizeof back, &eof) == sizeof back);
    CLI_CHECK(memcmp(msg, back, sizeof msg) == 0);
    tcp_close(f);
    j->ok = true;
}

static void test_memory_cap_retry(void **state)
{
    (void)state;
    struct svc_setup s = {0};
    struct cap_job j = {0};
    s.tcp.mem_max = 8 * TCP_CHUNK_BYTES;
    svc_start(&s);
    run_client(cap_client, &j);
    assert_true(j.ok);
    assert_true(srv()->tcp_svc->st.write_retries >= 1);
    assert_int_equal(srv()->tcp_svc->st.echo_bytes, 1000);
    svc_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),         cmocka_unit_test(test_echo_lossy),
        cmocka_unit_test(test_discard),      cmocka_unit_test(test_chargen),
        cmocka_unit_test(test_idle_timeout), cmocka_unit_test(test_memory_cap_retry),
    };
    setvbuf(stdout, NULL, _IOLBF, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
