/* The per-packet cost measurement (tests/bench/README.md) as a test: the
 * reference frames (tests/bench/gen_frames.py's, rebuilt in C) are fed through a lean
 * netif (one RX buffer the frame is copied into, preallocated TX buffers, a send that
 * only records) with the peer's ARP entry known and UDP echo on; every request
 * must produce one reply of its length. The feeding loop is bench_feed: built
 * at -O2 from the portable sources and run under callgrind with
 * --toggle-collect=bench_feed as `./a.out K` (K: 0 ICMP 56 B, 1 UDP 64 B, 2 UDP
 * 1400 B), it gives instructions per echo; `./a.out K FILE` feeds gen_frames.py's
 * file instead. tests/bench/echo_cost.sh does all of this (gcc 12: 597, 763,
 * 1230; targets 600, 850, 4250). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "net/stack.h"
#include "tests/unit/net_fixtures.h"

#define NFRAMES 2000
#define RX_OFF 12

struct bench_if {
    struct netif nif;
    struct netbuf rx, tx[2];
    uint8_t rx_mem[2048], tx_mem[2][2048];
    int next_tx;
    uint64_t replies, segs, reply_bytes; /* (apart: gcc would pair them into SSE) */
};

static void rx_done(struct netbuf *b)
{
    (void)b;
}
static void tx_done(struct netbuf *b)
{
    (void)b;
}

static struct netbuf *b_alloc(struct netif *nif)
{
    struct bench_if *bi = nif->drv;
    struct netbuf *b = &bi->tx[bi->next_tx ^= 1];
    b->refs = 1;
    return b;
}

static enum netif_err b_send(struct netif *nif, struct netbuf *b, uint32_t len,
                             const struct netbuf_seg *extra, int nextra)
{
    struct bench_if *bi = nif->drv;
    bi->replies++;
    bi->reply_bytes += len;
    if (nextra) {
        for (int i = 0; i < nextra; i++)
            bi->reply_bytes += extra[i].len;
        bi->segs += (uint64_t)nextra;
    }
    netbuf_unref(b);
    return NETIF_OK;
}

static const struct netif_ops bench_ops = {.tx_alloc = b_alloc, .tx_send = b_send};
static struct bench_if bi;

static void bench_init(void)
{
    memset(&bi, 0, sizeof bi);
    bi.nif.ops = &bench_ops;
    bi.nif.drv = &bi;
    memcpy(bi.nif.mac, fx_dut_mac.b, 6);
    bi.nif.mtu = 1500;
    bi.nif.tx_headroom = 12;
    bi.nif.max_segs = 4;
    bi.rx = (struct netbuf){bi.rx_mem, sizeof bi.rx_mem, 0, rx_done, &bi, 0};
    for (int i = 0; i < 2; i++)
        bi.tx[i] = (struct netbuf){bi.tx_mem[i], sizeof bi.tx_mem[i], 0, tx_done, &bi, 0};
}

/* gen_frames.py's frames, as in test_net_stack.c. */
static size_t ref_frame(uint8_t *f, int kind, unsigned seq)
{
    uint8_t payload[1400];
    size_t n = fx_eth(f, &fx_dut_mac, &fx_peer_mac, 0x0800);
    if (kind == 0) {
        uint8_t msg[64];
        net_wr32(payload, 1700000000u + seq / 1000);
        net_wr32(payload + 4, (seq % 1000) * 1000);
        for (int k = 0; k < 48; k++)
            payload[8 + k] = (uint8_t)(0x10 + k);
        fx_icmp(msg, 8, 0, 0x1234u << 16 | (seq & 0xffff), payload, 56);
        n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 1, (uint16_t)seq, 0x4000, 64, 64);
        memcpy(f + n, msg, 64);
        return n + 64;
    }
    size_t size = kind == 1 ? 64 : 1400;
    memcpy(payload, "ECHO", 4);
    net_wr32(payload + 4, seq);
    for (size_t k = 0; k + 8 < size; k++)
        payload[8 + k] = (uint8_t)((seq + k) * 7 + 3);
    n += fx_ipv4(f + n, fx_peer_ip(), fx_dut_ip(), 17, (uint16_t)seq, 0x4000, 64,
                 (uint16_t)(8 + size));
    n += fx_udp(f + n, fx_peer_ip(), fx_dut_ip(), 40000, 7, payload, size);
    return n;
}

struct frames {
    uint8_t *data;
    uint32_t *len;
    int n;
};

/* The measured loop: copy each frame into the RX buffer, hand it to the stack. */
__attribute__((noinline)) void bench_feed(const struct frames *fr)
{
    const uint8_t *p = fr->data;
    for (int i = 0; i < fr->n; i++) {
        memcpy(bi.rx_mem + RX_OFF, p, fr->len[i]);
        bi.rx.refs = 1;
        bi.nif.input(&bi.nif, &bi.rx, RX_OFF, fr->len[i]);
        p += fr->len[i];
    }
}

/* A frame file of gen_frames.py (records: u16 big-endian length, one frame),
 * when the benchmark names one; else the frames are built here. */
static const char *frames_path;

static int load_frames(struct frames *fr, uint64_t *bytes)
{
    FILE *f = fopen(frames_path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *raw = malloc((size_t)size);
    size_t got = fread(raw, 1, (size_t)size, f);
    fclose(f);
    fr->data = malloc((size_t)size);
    fr->len = malloc((size_t)size / 2 * sizeof(uint32_t));
    fr->n = 0;
    uint8_t *out = fr->data;
    for (size_t at = 0; at + 2 <= got;) {
        uint32_t len = (uint32_t)raw[at] << 8 | raw[at + 1];
        if (at + 2 + len > got || len > sizeof bi.rx_mem - RX_OFF)
            break;
        memcpy(out, raw + at + 2, len);
        out += len;
        fr->len[fr->n++] = len;
        *bytes += len;
        at += 2 + len;
    }
    free(raw);
    return fr->n > 0 ? 0 : -1;
}

static void run_kind(int kind)
{
    struct frames fr = {malloc((size_t)NFRAMES * 1442),
                        malloc(NFRAMES * sizeof(uint32_t)), NFRAMES};
    uint64_t bytes = 0;
    uint8_t *p = fr.data;
    if (frames_path) {
        free(fr.data);
        free(fr.len);
        assert_int_equal(load_frames(&fr, &bytes), 0);
    } else {
        for (int i = 0; i < NFRAMES; i++) {
            fr.len[i] = (uint32_t)ref_frame(p, kind, (unsigned)i);
            bytes += fr.len[i];
            p += fr.len[i];
        }
    }
    bench_init();
    struct net_config cfg = {0};
    net_config_parse("10.0.0.2/24", NULL, &cfg);
    struct net_stack *s = net_stack_create(&bi.nif, &cfg);
    assert_non_null(s);
    assert_int_equal(net_udp_echo_enable(s), 0);
    assert_int_equal(arp_add_static(&s->arp, fx_peer_ip(), &fx_peer_mac), 0);
    bi.replies = bi.reply_bytes = bi.segs = 0;
    bench_feed(&fr);
    printf("kind %d: %d frames, %llu replies, %llu segments\n", kind, fr.n,
           (unsigned long long)bi.replies, (unsigned long long)bi.segs);
    assert_int_equal(bi.replies, fr.n);
    assert_int_equal(bi.reply_bytes, bytes); /* each reply as long as its request */
    assert_int_equal(bi.rx.refs, 0);
    net_stack_destroy(s);
    free(fr.data);
    free(fr.len);
}

static void test_icmp56(void **state)
{
    (void)state;
    run_kind(0);
}

static void test_udp64(void **state)
{
    (void)state;
    run_kind(1);
}

static void test_udp1400(void **state)
{
    (void)state;
    run_kind(2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_icmp56),
        cmocka_unit_test(test_udp64),
        cmocka_unit_test(test_udp1400),
    };
    /* One kind only, for callgrind: 0 icmp56, 1 udp64, 2 udp1400; optionally fed
     * from a gen_frames.py file (tests/bench/echo_cost.sh). */
    if (argc > 2)
        frames_path = argv[2];
    if (argc > 1) {
        const struct CMUnitTest one[] = {tests[atoi(argv[1]) % 3]};
        return cmocka_run_group_tests(one, NULL, NULL);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
