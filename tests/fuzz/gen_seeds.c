/* Seed corpora for the fuzz harnesses, in each harness's input format, from the
 * unit tests' fixtures (tests/unit/net_fixtures.c: the first reference frames and
 * the frame builders) and, when given, the files of the reference frame generator
 * tests/bench/gen_frames.py (records of a 16-bit big-endian length and one frame;
 * the first few frames of each file are used).
 *   gen_seeds OUTDIR [frames-*.bin...]  ->  OUTDIR/<harness>/<seed name>
 * A plain host program (no sanitizers, no libFuzzer). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net/wire/bytes.h"
#include "tests/unit/net_fixtures.h"

#define FRAMES_PER_FILE 3

static const char *outdir;

struct buf {
    uint8_t b[140000];
    size_t n;
};

static void put(struct buf *s, const void *p, size_t n)
{
    if (s->n + n > sizeof s->b) {
        fprintf(stderr, "gen_seeds: seed too large\n");
        exit(1);
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
}
static void put8(struct buf *s, uint8_t v)
{
    put(s, &v, 1);
}
static void put16(struct buf *s, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(s, b, 2);
}

static void mkdirs(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void emit(const char *harness, const char *name, const struct buf *s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", outdir, harness);
    mkdirs(path);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* ------------------------------------------------------------ frames */

struct frame {
    char name[48];
    uint8_t b[1600];
    size_t n;
};
static struct frame frames[64];
static int nframes;

static struct frame *add_frame(const char *name)
{
    struct frame *f = &frames[nframes++];
    snprintf(f->name, sizeof f->name, "%s", name);
    return f;
}

static void fixture_frames(void)
{
    static const struct eth_addr bc = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    uint8_t data[1400], msg[1500];
    struct frame *f;

    f = add_frame("fx_icmp56");
    memcpy(f->b, fx_icmp56_frame, sizeof fx_icmp56_frame);
    f->n = sizeof fx_icmp56_frame;
    f = add_frame("fx_udp64");
    memcpy(f->b, fx_udp64_frame, sizeof fx_udp64_frame);
    f->n = sizeof fx_udp64_frame;

    /* The reference 1400-byte UDP echo (tests/bench/gen_frames.py), frame 0. */
    memcpy(data, "ECHO", 4);
    net_wr32(data + 4, 0);
    for (size_t k = 0; k + 8 < 1400; k++)
        data[8 + k] = (uint8_t)(k * 7 + 3);
    f = add_frame("udp1400");
    f->n = fx_eth(f->b, &fx_dut_mac, &fx_peer_mac, 0x0800);
    f->n += fx_ipv4(f->b + f->n, fx_peer_ip(), fx_dut_ip(), 17, 0, 0x4000, 64, 1408);
    f->n += fx_udp(f->b + f->n, fx_peer_ip(), fx_dut_ip(), 40000, 7, data, 1400);

    f = add_frame("arp_request");
    f->n =
        fx_arp(f->b, &bc, &fx_peer_mac, 1, &fx_peer_mac, fx_peer_ip(), NULL, fx_dut_ip());
    f = add_frame("arp_reply");
    f->n = fx_arp(f->b, &fx_dut_mac, &fx_peer_mac, 2, &fx_peer_mac,
                  ipv4_addr_make(10, 0, 0, 7), NULL, fx_dut_ip());
    f = add_frame("arp_gratuitous");
    f->n = fx_arp(f->b, &bc, &fx_peer_mac, 1, &fx_peer_mac, fx_peer_ip(), NULL,
                  fx_peer_ip());

    /* UDP to a closed port (port unreachable) and to discard. */
    f = add_frame("udp_closed_port");
    f->n = fx_eth(f->b, &fx_dut_mac, &fx_peer_mac, 0x0800);
    f->n += fx_ipv4(f->b + f->n, fx_peer_ip(), fx_dut_ip(), 17, 7, 0, 64, 8 + 13);
    f->n += fx_udp(f->b + f->n, fx_peer_ip(), fx_dut_ip(), 40001, 4444,
                   (const uint8_t *)"anyone there?", 13);
    f = add_frame("udp_discard");
    f->n = fx_eth(f->b, &fx_dut_mac, &fx_peer_mac, 0x0800);
    f->n += fx_ipv4(f->b + f->n, fx_peer_ip(), fx_dut_ip(), 17, 8, 0, 64, 8 + 64);
    f->n += fx_udp(f->b + f->n, fx_peer_ip(), fx_dut_ip(), 40001, 9, data, 64);

    /* An unknown protocol (protocol unreachable). */
    f = add_frame("proto_253");
    f->n = fx_ip_frame(f->b, 253, 9, 0, data, 32);

    /* First and last fragments of a 1480-byte ICMP echo request. */
    size_t ml = fx_icmp(msg, 8, 0, 0x1234u << 16 | 1, data, 1472);
    f = add_frame("frag_first");
    f->n = fx_ip_frame(f->b, 1, 0x77, 0x2000, msg, 1400);
    f = add_frame("frag_last");
    f->n = fx_ip_frame(f->b, 1, 0x77, 1400 / 8, msg + 1400, ml - 1400);

    /* An echo request with options (NOP, NOP, a 4-byte option, EOL). */
    f = add_frame("icmp_options");
    size_t n = fx_eth(f->b, &fx_dut_mac, &fx_peer_mac, 0x0800);
    uint8_t *ip = f->b + n;
    size_t il = fx_icmp(ip + 32, 8, 0, 0x1234u << 16 | 2, data, 56);
    fx_ipv4(ip, fx_peer_ip(), fx_dut_ip(), 1, 10, 0, 64, (uint16_t)(il + 12));
    static const uint8_t opts[12] = {1, 1, 0x88, 4, 0x12, 0x34, 0, 0, 0, 0, 0, 0};
    memcpy(ip + 20, opts, 12);
    ip[0] = 0x48;
    net_wr16(ip + 2, (uint16_t)(32 + il));
    net_wr16(ip + 10, 0);
    net_wr16(ip + 10, fx_ref_csum(ip, 32));
    f->n = n + 32 + il;
}

static void file_frames(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        perror(path);
        exit(1);
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (int i = 0; i < FRAMES_PER_FILE && nframes < 64; i++) {
        uint8_t l[2];
        if (fread(l, 1, 2, fp) != 2)
            break;
        size_t len = (size_t)l[0] << 8 | l[1];
        struct frame *f = &frames[nframes];
        if (len > sizeof f->b || fread(f->b, 1, len, fp) != len)
            break;
        f->n = len;
        snprintf(f->name, sizeof f->name, "%.36s-%d", base, i);
        nframes++;
    }
    fclose(fp);
}

/* ------------------------------------------------------------ per harness */

static const uint8_t cfg0[9]; /* fz_stack_new's defaults */

static void seeds_frames(void)
{
    for (int i = 0; i < nframes; i++) {
        const struct frame *f = &frames[i];
        struct buf *s = calloc(1, sizeof *s);
        bool ip = f->n > 14 && f->b[12] == 8 && f->b[13] == 0;
        uint8_t proto = ip ? f->b[14 + 9] : 0;
        size_t hl = ip ? (f->b[14] & 15) * 4u : 0;

        put8(s, 0); /* eth: flags, frame */
        put(s, f->b, f->n);
        emit("fuzz_eth", f->name, s);

        s->n = 0; /* stack: config, one raw frame record */
        put(s, cfg0, sizeof cfg0);
        put8(s, 0);
        put16(s, (uint16_t)f->n);
        put(s, f->b, f->n);
        emit("fuzz_stack", f->name, s);

        s->n = 0; /* csum: splits, shift, two words, data */
        put8(s, 0x55);
        put8(s, (uint8_t)i);
        put16(s, 5);
        put16(s, 0x1234);
        put(s, f->b, f->n);
        emit("fuzz_csum", f->name, s);

        if (ip) {
            s->n = 0; /* ipv4: flags, datagram */
            put8(s, 0);
            put(s, f->b + 14, f->n - 14);
            emit("fuzz_ipv4", f->name, s);
        }
        if (ip && proto == 1 && !(net_rd16(f->b + 20) & 0x3fff)) {
            s->n = 0; /* icmp: flags, tos, message */
            put8(s, 0);
            put8(s, 0);
            put(s, f->b + 14 + hl, f->n - 14 - hl);
            emit("fuzz_icmp", f->name, s);
        }
        if (ip && proto == 17) {
            s->n = 0; /* udp: flags, port selector (keep), datagram */
            put8(s, 0);
            put8(s, 3);
            put(s, f->b + 14 + hl, f->n - 14 - hl);
            emit("fuzz_udp", f->name, s);
        }
        free(s);
    }
}

/* The stack: a mixed program (frames, fragments of big echoes, time). */
static void seeds_stack_programs(void)
{
    struct buf *s = calloc(1, sizeof *s);
    put(s, cfg0, sizeof cfg0);
    for (int i = 0; i < nframes; i++) {
        put8(s, 0);
        put16(s, (uint16_t)frames[i].n);
        put(s, frames[i].b, frames[i].n);
        put8(s, 4);
        put16(s, 10); /* 10 ms */
    }
    emit("fuzz_stack", "all_frames", s);

    /* Fragmented echo requests: ICMP 65507 bytes in 1480-byte pieces, UDP 8000
     * reversed, then a shuffled one with a duplicate, then time out a hole. */
    s->n = 0;
    put(s, cfg0, sizeof cfg0);
    put8(s, 6), put8(s, 0), put8(s, 0), put8(s, 0), put8(s, 1), put16(s, 1);
    put16(s, 65507), put8(s, 184);
    put8(s, 6), put8(s, 0), put8(s, 1), put8(s, 1), put8(s, 2), put16(s, 2);
    put16(s, 8000), put8(s, 184);
    put8(s, 6), put8(s, 0), put8(s, 0), put8(s, 2 | 8), put8(s, 3), put16(s, 3);
    put16(s, 4000), put8(s, 63);
    put8(s, 6), put8(s, 0), put8(s, 0), put8(s, 4), put8(s, 4), put16(s, 4);
    put16(s, 3000), put8(s, 63);
    put8(s, 5);
    emit("fuzz_stack", "fragments", s);

    /* IPv4 records: an echo request with a few options, a UDP datagram. */
    s->n = 0;
    put(s, cfg0, sizeof cfg0);
    uint8_t echo[64];
    size_t el = fx_icmp(echo, 8, 0, 0x42u << 16 | 1, (const uint8_t *)"ping ping", 9);
    put8(s, 1);  /* ip record */
    put8(s, 0);  /* to our MAC */
    put8(s, 0);  /* from the peer */
    put8(s, 3);  /* to us */
    put8(s, 0);  /* ICMP */
    put8(s, 0);  /* flags */
    put8(s, 64); /* ttl */
    put8(s, 1);  /* id */
    put16(s, 0); /* frag */
    put8(s, 1);  /* one option word */
    put8(s, 1), put8(s, 1), put8(s, 1), put8(s, 0);
    put16(s, (uint16_t)el);
    put(s, echo, el);
    emit("fuzz_stack", "ip_records", s);
    free(s);
}

static void seeds_arp(void)
{
    struct buf *s = calloc(1, sizeof *s);
    const struct frame *req = NULL;
    for (int i = 0; i < nframes; i++)
        if (!strcmp(frames[i].name, "arp_request"))
            req = &frames[i];
    put(s, cfg0, sizeof cfg0);
    put8(s, 0), put8(s, 28), put(s, req->b + 14, 28); /* wire step */
    for (int k = 0; k < 12; k++)                      /* requests */
        put8(s, 1), put8(s, (uint8_t)k), put8(s, (uint8_t)k), put8(s, 0);
    put8(s, 3), put8(s, 7), put8(s, 0);                /* write to .7 */
    put8(s, 3), put8(s, 8), put8(s, 2);                /* write to .8 */
    put8(s, 6), put16(s, 1500);                        /* 1.5 s */
    put8(s, 1), put8(s, 0x87), put8(s, 7), put8(s, 1); /* reply from .7 */
    put8(s, 4), put8(s, 7);                            /* lookup */
    put8(s, 5), put8(s, 9), put8(s, 5), put8(s, 0x89); /* static, remove */
    put8(s, 6 | 0x80), put8(s, 70);                    /* 70 s */
    put8(s, 7);
    emit("fuzz_arp", "program", s);
    free(s);
}

static void seeds_reass(void)
{
    struct buf *s = calloc(1, sizeof *s);
    /* Limits: defaults. Datagram 0 in three pieces out of order, a duplicate,
     * then datagram 1's first fragment left to time out. */
    put8(s, 0), put8(s, 0), put8(s, 0);
    put8(s, 0), put8(s, 0x40), put16(s, 2), put16(s, 16), put8(s, 0), put8(s, 0);
    put8(s, 0), put8(s, 0x40), put16(s, 0), put16(s, 16), put8(s, 0), put8(s, 0);
    put8(s, 0), put8(s, 0x40), put16(s, 0), put16(s, 16), put8(s, 0), put8(s, 0);
    put8(s, 0), put8(s, 0x40), put16(s, 4), put16(s, 5), put8(s, 1), put8(s, 0);
    put8(s, 1), put8(s, 0x41), put16(s, 0), put16(s, 64), put8(s, 0), put8(s, 3);
    put8(s, 2 | 0x80), put8(s, 31);
    emit("fuzz_reass", "three_and_timeout", s);

    /* Held datagrams (flag 0x20) released later. */
    s->n = 0;
    put8(s, 2), put8(s, 64), put8(s, 0);
    for (int k = 0; k < 3; k++) {
        put8(s, 0), put8(s, (uint8_t)(0x60 | k)), put16(s, 0), put16(s, 8), put8(s, 0);
        put8(s, 0);
        put8(s, 0), put8(s, (uint8_t)(0x60 | k)), put16(s, 1), put16(s, 3), put8(s, 1);
        put8(s, 0);
    }
    put8(s, 3), put8(s, 3);
    emit("fuzz_reass", "held", s);
    free(s);
}

/* Big-endian 32-bit fields (the DHCP and TCP records). */
static void put32(struct buf *s, uint32_t v)
{
    put16(s, (uint16_t)(v >> 16));
    put16(s, (uint16_t)v);
}

/* DHCP (fuzz_dhcp): a message for the parser, a start state, then steps. */

/* A server's OFFER (RFC 2131 figure 1): 10.0.0.50 from 10.0.0.1, lease 120 s. */
static size_t dhcp_offer(uint8_t *m)
{
    static const uint8_t opts[] = {
        99,  130, 83, 99, 53, 1, 2,  54, 4, 10, 0,  0, 1,   51, 4,  0,   0,
        120, 58,  4,  0,  0,  0, 60, 59, 4, 0,  0,  0, 105, 1,  4,  255, 255,
        255, 0,   3,  4,  10, 0, 0,  1,  6, 4,  10, 0, 0,   1,  255};
    memset(m, 0, 300);
    m[0] = 2, m[1] = 1, m[2] = 6;
    net_wr32(m + 4, 0x3903f326);
    m[16] = 10, m[19] = 50;
    memcpy(m + 28, fx_dut_mac.b, 6);
    memcpy(m + 236, opts, sizeof opts);
    return 300;
}

/* fields_step: type (0 offer, 1 ack, 2 nak), yiaddr and server selectors,
 * lease, T1, T2, flags. */
static void dhcp_fields(struct buf *s, uint8_t type, uint32_t lease, uint8_t k)
{
    put8(s, 0);
    put8(s, type), put8(s, 0), put8(s, 0);
    put32(s, lease), put32(s, lease / 2), put32(s, lease * 7 / 8);
    put8(s, k);
}

static void seeds_dhcp(void)
{
    struct buf *s = calloc(1, sizeof *s);
    uint8_t m[300];
    size_t n = dhcp_offer(m);
    for (uint8_t state = 0; state < 8; state++) {
        char name[32];
        s->n = 0;
        put16(s, (uint16_t)n), put(s, m, n);
        put8(s, state);
        dhcp_fields(s, 0, 120, 1);     /* OFFER */
        dhcp_fields(s, 1, 120, 1 | 4); /* ACK, MTU 576 */
        for (int k = 0; k < 5; k++)    /* probes, binding */
            put8(s, 5);
        put8(s, 4 | 0x80), put8(s, 61);                 /* T1 */
        dhcp_fields(s, 1, 100, 0x41);                   /* unicast ACK: renewed */
        put8(s, 3), put8(s, 8), put8(s, 0), put8(s, 0); /* ARP about the address */
        put8(s, 1), put8(s, 5), put8(s, 0x10), put8(s, 0), put8(s, 12); /* options */
        put(s, "\x33\x04\x00\x00\x00\x78\x36\x04\x0a\x00\x00\x01", 12);
        put8(s, 2), put16(s, (uint16_t)n), put(s, m, n); /* raw OFFER */
        dhcp_fields(s, 2, 0, 0);                         /* NAK */
        put8(s, 7);                                      /* print */
        put8(s, 6), put8(s, 6 | 0x10);                   /* stop, start with an address */
        for (int k = 0; k < 4; k++)
            put8(s, 5);
        put8(s, 4 | 0x80), put8(s, 200);
        snprintf(name, sizeof name, "state%u", state);
        emit("fuzz_dhcp", name, s);
    }
    free(s);
}

/* TCP (fuzz_tcp's records): segments from peers, application calls, time. */

/* A segment record: peer (low nibble) and our port selector (high nibble: 0 80,
 * 1 81, 2 82, 3 learned), flags, sequence numbers relative to what the stack
 * sent (raw_seq != 0: that raw number), options mode, data length. */
static void tcp_seg(struct buf *s, uint8_t who, uint8_t flags, uint32_t raw_seq,
                    uint8_t opts, uint16_t dlen)
{
    put8(s, 0);            /* record: segment */
    put8(s, who);          /* peer and port */
    put8(s, dlen ? 0 : 1); /* how: 1 = no data */
    put8(s, flags);
    if (raw_seq) {
        put8(s, 3);
        put32(s, raw_seq);
    } else {
        put8(s, 0); /* what we acknowledged */
    }
    put8(s, 0);      /* ack: what we sent */
    put16(s, 65535); /* window */
    put8(s, opts);   /* 0 none, 1 timestamps, 3 SYN options */
    if (opts == 1)
        put8(s, 1);
    if (opts == 3) {
        put8(s, 0x17);
        put16(s, 1460);
        put8(s, 7);
    }
    put16(s, dlen);
    put16(s, 0); /* urgent pointer */
}

static void seeds_tcp(void)
{
    struct buf *s = calloc(1, sizeof *s);
    /* Port 80 (callback service): handshake, data, FIN, the timers. */
    put8(s, 0);
    tcp_seg(s, 0x00, 0x02, 1000, 3, 0);
    tcp_seg(s, 0x00, 0x10, 0, 1, 0);
    tcp_seg(s, 0x00, 0x18, 0, 1, 300);
    tcp_seg(s, 0x00, 0x10, 0, 1, 0);
    put8(s, 5), put16(s, 50);
    tcp_seg(s, 0x00, 0x11, 0, 1, 0);
    put8(s, 6), put8(s, 6), put8(s, 6);
    emit("fuzz_tcp", "service80", s);

    /* Port 81 (accept queue): handshake, accept, write, data both ways, close. */
    s->n = 0;
    put8(s, 0);
    tcp_seg(s, 0x11, 0x02, 77777, 0, 0);
    tcp_seg(s, 0x11, 0x10, 0, 0, 0);
    put8(s, 3), put8(s, 9), put8(s, 0);                 /* accept into flow 0 */
    put8(s, 3), put8(s, 3), put8(s, 0), put16(s, 9000); /* write 9000 */
    tcp_seg(s, 0x11, 0x10, 0, 0, 0);
    tcp_seg(s, 0x11, 0x18, 0, 0, 1000);
    put8(s, 3), put8(s, 0), put8(s, 0); /* read */
    put8(s, 3), put8(s, 6), put8(s, 0); /* close */
    tcp_seg(s, 0x11, 0x11, 0, 0, 0);
    put8(s, 5 | 0x80), put16(s, 70); /* 70 s: TIME-WAIT ends */
    emit("fuzz_tcp", "accept81", s);

    /* Active open toward peer 2, data, loss (time), SACK, reset. */
    s->n = 0;
    put8(s, 0);
    put8(s, 4), put8(s, 10), put8(s, 1), put8(s, 2); /* connect flow 1 to peer 2 */
    tcp_seg(s, 0x32, 0x12, 5000, 3, 0);
    put8(s, 4), put8(s, 3), put8(s, 1), put16(s, 19000); /* write */
    put8(s, 5), put16(s, 300);
    tcp_seg(s, 0x32, 0x10, 0, 1, 0);
    put8(s, 0), put8(s, 0x32), put8(s, 1), put8(s, 0x10), put8(s, 0), put8(s, 2),
        put16(s, 3000), put16(s, 65535), put8(s, 4), put8(s, 2), put16(s, 1000),
        put16(s, 2000), put16(s, 500), put16(s, 1000), put16(s, 0), put16(s, 0);
    put8(s, 7 | 0x80), put8(s, 2), put8(s, 0), put16(s, 576); /* frag needed */
    tcp_seg(s, 0x32, 0x04, 0, 0, 0);
    emit("fuzz_tcp", "active", s);

    /* Small caps and a SYN flood from every peer, then a cookie's ACK. */
    s->n = 0;
    put8(s, 16), put8(s, 3), put8(s, 1), put16(s, 2000), put16(s, 2000), put8(s, 4),
        put8(s, 2);
    for (uint8_t k = 0; k < 6; k++)
        tcp_seg(s, k, 0x02, 1000u + k, 3, 0);
    for (uint8_t k = 0; k < 6; k++)
        tcp_seg(s, k, 0x10, 0, 1, 0);
    emit("fuzz_tcp", "flood", s);
    free(s);
}

/* Text: command lines and addresses (selector byte, then the text). */
static void seeds_config(void)
{
    static const char *const texts[] = {
        "ip=10.0.0.2/24 gw=10.0.0.1 log=info mode=net",
        "build/kernel.elf mode=reflect log=debug",
        "ip=192.168.1.77/16 gw=none mode=selftest",
        "10.0.0.2/24 10.0.0.254",
        "255.255.255.255",
    };
    struct buf *s = calloc(1, sizeof *s);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char name[16];
        s->n = 0;
        put8(s, 0);
        put(s, texts[i], strlen(texts[i]));
        snprintf(name, sizeof name, "text%zu", i);
        emit("fuzz_config", name, s);
    }
    free(s);
}

/* HTTP request heads (selector byte, then the bytes). */
static void seeds_http(void)
{
    static const char *const heads[] = {
        "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: "
        "*/*\r\n\r\n",
        "GET /stats HTTP/1.1\r\nHost: a\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /x?y HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: "
        "close\r\n\r\nhello",
        "\r\nGET http://10.0.0.2/stats HTTP/1.0\nConnection: keep-alive\n\n",
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET  / HTTP/2.0\r\n\r\n",
    };
    struct buf *s = calloc(1, sizeof *s);
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        char name[16];
        s->n = 0;
        put8(s, (uint8_t)(i & 1 ? 1 : 0));
        put(s, heads[i], strlen(heads[i]));
        snprintf(name, sizeof name, "head%zu", i);
        emit("fuzz_http", name, s);
    }
    free(s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_seeds OUTDIR [frames.bin...]\n");
        return 2;
    }
    outdir = argv[1];
    mkdirs(outdir);
    fixture_frames();
    for (int i = 2; i < argc; i++)
        file_frames(argv[i]);
    seeds_frames();
    seeds_stack_programs();
    seeds_arp();
    seeds_reass();
    seeds_config();
    seeds_dhcp();
    seeds_tcp();
    seeds_http();
    return 0;
}
