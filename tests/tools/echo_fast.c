/* echo_fast: the C twin of udp_echo_client.py for rate measurements, where a
 * Python client would set the pace itself. UDP echo (port 7) or ICMP echo, through
 * kernel sockets or raw Ethernet frames (AF_PACKET on a tap; real replies and
 * reflected requests both count), one at a time, N in flight or paced; payloads
 * as udp_echo_client.py builds them and every reply compared with its request.
 * No fragmentation: payloads up to MTU - 28 bytes (use the Python client above).
 *
 *   echo_fast [--raw IFNAME] [--dst-mac MAC] [--proto udp|icmp] [--host IP]
 *             [--port N] [--size N] [--inflight N] [--interval S] [--count N]
 *             [--duration S] [--timeout S] [--rtts]
 *
 * Prints one JSON object (the keys of udp_echo_client.py --json; RTT samples with
 * --rtts). Refuses to send (exit 2) outside a test network namespace or in one
 * with a default route (tests/tools/netguard.h). Exit 1 when nothing came
 * back or a payload was bad.
 *
 * Build: gcc -O2 -o echo_fast tests/tools/echo_fast.c   (bench.py does it) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netguard.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define RING 65536 /* outstanding requests at most (power of two) */

static struct {
    const char *raw, *host, *proto;
    uint8_t dst_mac[6];
    int port, size, inflight, count, rtts, mtu;
    double interval, duration, timeout;
} o = {NULL, "10.0.0.2", "udp", {0x52, 0x54, 0, 0x12, 0x34, 0x56}, 7, 64, -1, 1000, 0, 1500,
       0, 10, 1};

static void die(const char *m) { perror(m); exit(2); }

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ checksums, payloads */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (; n > 1; p += 2, n -= 2)
        s += (uint32_t)p[0] << 8 | p[1];
    if (n)
        s += (uint32_t)p[0] << 8;
    return s;
}

static uint16_t fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint8_t bodies[16][65536];

static void payload(uint32_t seq, uint8_t *p)
{
    if (o.size < 8) {
        memcpy(p, bodies[seq & 15], o.size);
        return;
    }
    memcpy(p, "UKEC", 4);
    uint32_t be = htonl(seq);
    memcpy(p + 4, &be, 4);
    memcpy(p + 8, bodies[seq & 15], o.size - 8);
}

/* ------------------------------------------------------------ transports */

static int fd, hold_fd = -1, ifindex;
static uint8_t my_mac[6];
static struct in_addr src_ip, dst_ip;
static uint16_t ident, sport, ipid;
static int errors_icmp;

static void open_transport(void)
{
    if (inet_aton(o.host, &dst_ip) == 0) {
        fprintf(stderr, "echo_fast: bad --host\n");
        exit(2);
    }
    int big = 1 << 22;
    if (!o.raw) {
        int icmp = strcmp(o.proto, "icmp") == 0;
        fd = icmp ? socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) : socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0)
            die("echo_fast: socket");
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(icmp ? 0 : o.port),
                                .sin_addr = dst_ip};
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
            die("echo_fast: connect");
    } else {
        /* Protocol 0 until bound: with a protocol it hears every interface
         * until bind(). */
        fd = socket(AF_PACKET, SOCK_RAW, 0);
        if (fd < 0)
            die("echo_fast: AF_PACKET socket");
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
        int one = 1;
        setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
        setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
        ifindex = (int)if_nametoindex(o.raw);
        if (!ifindex)
            die("echo_fast: --raw interface");
        struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                                 .sll_ifindex = ifindex};
        if (bind(fd, (struct sockaddr *)&ll, sizeof ll) < 0)
            die("echo_fast: bind");
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", o.raw);
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0)
            die("echo_fast: SIOCGIFHWADDR");
        memcpy(my_mac, ifr.ifr_hwaddr.sa_data, 6);
        if (ioctl(s, SIOCGIFADDR, &ifr) < 0)
            die("echo_fast: SIOCGIFADDR");
        src_ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
        close(s);
        if (strcmp(o.proto, "udp") == 0) {
            /* A socket on our source port, never read, so the host's stack does not
             * answer the guest's replies with ICMP port unreachable. */
            hold_fd = socket(AF_INET, SOCK_DGRAM, 0);
            int small = 4096;
            setsockopt(hold_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = src_ip};
            socklen_t al = sizeof a;
            if (bind(hold_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
                getsockname(hold_fd, (struct sockaddr *)&a, &al) < 0)
                die("echo_fast: source port");
            sport = ntohs(a.sin_port);
        }
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
}

static uint8_t txbuf[65600], rxbuf[65600];

static int send_req(uint32_t seq)
{
    int icmp = strcmp(o.proto, "icmp") == 0;
    if (!o.raw) {
        if (!icmp) {
            payload(seq, txbuf);
            return send(fd, txbuf, o.size, 0) < 0 ? -1 : 0;
        }
        uint8_t *h = txbuf;
        h[0] = 8, h[1] = 0, h[2] = h[3] = 0;
        h[4] = ident >> 8, h[5] = ident & 0xff, h[6] = (seq >> 8) & 0xff, h[7] = seq & 0xff;
        payload(seq, h + 8);
        uint16_t c = ~fold(sum16(h, 8 + o.size, 0));
        h[2] = c >> 8, h[3] = c & 0xff;
        return send(fd, txbuf, 8 + o.size, 0) < 0 ? -1 : 0;
    }
    uint8_t *e = txbuf, *ip = e + 14, *l4 = ip + 20;
    memcpy(e, o.dst_mac, 6);
    memcpy(e + 6, my_mac, 6);
    e[12] = 0x08, e[13] = 0x00;
    size_t l4len = 8 + o.size;
    if (icmp) {
        l4[0] = 8, l4[1] = 0, l4[2] = l4[3] = 0;
        l4[4] = ident >> 8, l4[5] = ident & 0xff, l4[6] = (seq >> 8) & 0xff, l4[7] = seq & 0xff;
        payload(seq, l4 + 8);
        uint16_t c = ~fold(sum16(l4, l4len, 0));
        l4[2] = c >> 8, l4[3] = c & 0xff;
    } else {
        l4[0] = sport >> 8, l4[1] = sport & 0xff, l4[2] = o.port >> 8, l4[3] = o.port & 0xff;
        l4[4] = l4len >> 8, l4[5] = l4len & 0xff, l4[6] = l4[7] = 0;
        payload(seq, l4 + 8);
        uint32_t s = sum16((uint8_t *)&src_ip, 4, 0);
        s = sum16((uint8_t *)&dst_ip, 4, s) + 17 + (uint32_t)l4len;
        uint16_t c = ~fold(sum16(l4, l4len, s));
        if (c == 0)
            c = 0xffff;
        l4[6] = c >> 8, l4[7] = c & 0xff;
    }
    size_t tot = 20 + l4len;
    ipid++;
    ip[0] = 0x45, ip[1] = 0, ip[2] = tot >> 8, ip[3] = tot & 0xff;
    ip[4] = ipid >> 8, ip[5] = ipid & 0xff, ip[6] = 0x40, ip[7] = 0; /* DF */
    ip[8] = 64, ip[9] = icmp ? 1 : 17, ip[10] = ip[11] = 0;
    memcpy(ip + 12, &src_ip, 4);
    memcpy(ip + 16, &dst_ip, 4);
    uint16_t c = ~fold(sum16(ip, 20, 0));
    ip[10] = c >> 8, ip[11] = c & 0xff;
    return send(fd, txbuf, 14 + tot, 0) < 0 ? -1 : 0;
}

/* One waiting reply: its payload in pl and plen, ok=0 on a bad checksum. Returns 1
 * for a reply, 0 for a frame to ignore, -1 when nothing is waiting. */
static int recv_reply(const uint8_t **pl, size_t *plen, int *ok)
{
    int icmp = strcmp(o.proto, "icmp") == 0;
    *ok = 1;
    if (!o.raw) {
        ssize_t n = recv(fd, rxbuf, sizeof rxbuf, 0);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
        if (!icmp) {
            *pl = rxbuf, *plen = (size_t)n;
            return 1;
        }
        size_t ihl = (rxbuf[0] & 15) * 4u;
        if ((size_t)n < ihl + 8 || memcmp(rxbuf + 12, &dst_ip, 4) != 0)
            return 0;
        const uint8_t *h = rxbuf + ihl;
        if (h[0] == 0 && (h[4] << 8 | h[5]) == ident) {
            *ok = fold(sum16(h, n - ihl, 0)) == 0xffff;
            *pl = h + 8, *plen = n - ihl - 8;
            return 1;
        }
        if (h[0] == 3 || h[0] == 11 || h[0] == 12)
            errors_icmp++;
        return 0;
    }
    char cbuf[256];
    struct iovec iov = {rxbuf, sizeof rxbuf};
    struct sockaddr_ll from;
    struct msghdr mh = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                        .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    ssize_t n = recvmsg(fd, &mh, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
    if (from.sll_pkttype == PACKET_OUTGOING || n < 34 || memcmp(rxbuf + 6, o.dst_mac, 6) != 0)
        return 0;
    int csum_done = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
            struct tpacket_auxdata ad;
            memcpy(&ad, CMSG_DATA(c), sizeof ad);
            csum_done = (ad.tp_status & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID)) != 0;
        }
    const uint8_t *ip = rxbuf + 14;
    size_t ihl = (ip[0] & 15) * 4u, tot = (size_t)(ip[2] << 8 | ip[3]);
    if (tot > (size_t)n - 14 || tot < ihl + 8)
        return 0;
    if (fold(sum16(ip, ihl, 0)) != 0xffff) {
        *ok = 0, *pl = NULL, *plen = 0;
        return 1;
    }
    if ((ip[6] & 0x3f) || ip[7]) /* a fragment: not ours (no fragmentation here) */
        return 0;
    int reflected = !memcmp(ip + 12, &src_ip, 4) && !memcmp(ip + 16, &dst_ip, 4);
    int reply = !memcmp(ip + 12, &dst_ip, 4) && !memcmp(ip + 16, &src_ip, 4);
    if (!reflected && !reply)
        return 0;
    const uint8_t *l4 = ip + ihl;
    size_t l4len = tot - ihl;
    if (icmp && ip[9] == 1) {
        if (l4[0] == (reflected ? 8 : 0) && (l4[4] << 8 | l4[5]) == ident) {
            *ok = csum_done || fold(sum16(l4, l4len, 0)) == 0xffff;
            *pl = l4 + 8, *plen = l4len - 8;
            return 1;
        }
        if (l4[0] == 3 || l4[0] == 11 || l4[0] == 12)
            errors_icmp++;
    } else if (!icmp && ip[9] == 17) {
        uint16_t sp = l4[0] << 8 | l4[1], dp = l4[2] << 8 | l4[3], ulen = l4[4] << 8 | l4[5];
        uint16_t want_s = reflected ? sport : o.port, want_d = reflected ? o.port : sport;
        if (sp != want_s || dp != want_d || ulen < 8 || ulen > l4len)
            return 0;
        if (!csum_done && (l4[6] | l4[7])) {
            uint32_t s = sum16(ip + 12, 8, 0) + 17 + ulen;
            *ok = fold(sum16(l4, ulen, s)) == 0xffff;
        }
        *pl = l4 + 8, *plen = ulen - 8u;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ engine */

static struct { int64_t t; uint32_t seq; uint8_t state; } ring[RING]; /* 1 out, 2 done */
static double *rtt;
static size_t nrtt, caprtt;

static void add_rtt(double us)
{
    if (nrtt == caprtt) {
        caprtt = caprtt ? 2 * caprtt : 4096;
        rtt = realloc(rtt, sizeof *rtt * caprtt);
        if (!rtt)
            die("echo_fast: realloc");
    }
    rtt[nrtt++] = us;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    if (!nrtt)
        return 0;
    double k = (nrtt - 1) * p / 100.0;
    size_t lo = (size_t)k, hi = lo + 1 < nrtt ? lo + 1 : lo;
    return rtt[lo] + (rtt[hi] - rtt[lo]) * (k - lo);
}

static double arg_d(const char *s)
{
    char *e;
    double v = strtod(s, &e);
    if (*e || v < 0) {
        fprintf(stderr, "echo_fast: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--rtts")) { o.rtts = 1; continue; }
        if (!v) { fprintf(stderr, "echo_fast: %s needs a value\n", a); return 2; }
        i++;
        if (!strcmp(a, "--raw")) o.raw = v;
        else if (!strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "--proto")) o.proto = v;
        else if (!strcmp(a, "--port")) o.port = atoi(v);
        else if (!strcmp(a, "--size")) o.size = atoi(v);
        else if (!strcmp(a, "--inflight")) o.inflight = atoi(v);
        else if (!strcmp(a, "--count")) o.count = atoi(v);
        else if (!strcmp(a, "--interval")) o.interval = arg_d(v);
        else if (!strcmp(a, "--duration")) o.duration = arg_d(v);
        else if (!strcmp(a, "--timeout")) o.timeout = arg_d(v);
        else if (!strcmp(a, "--mtu")) o.mtu = atoi(v);
        else if (!strcmp(a, "--dst-mac")) {
            unsigned m[6];
            if (sscanf(v, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
                fprintf(stderr, "echo_fast: bad --dst-mac\n");
                return 2;
            }
            for (int k = 0; k < 6; k++) o.dst_mac[k] = (uint8_t)m[k];
        } else { fprintf(stderr, "echo_fast: unknown option %s\n", a); return 2; }
    }
    if (o.inflight < 0)
        o.inflight = o.interval > 0 ? 0 : 1;
    int window = o.inflight > 0 ? o.inflight : RING - 1;
    if (strcmp(o.proto, "udp") && strcmp(o.proto, "icmp")) {
        fprintf(stderr, "echo_fast: --proto udp or icmp\n");
        return 2;
    }
    if (o.size < 0 || o.size > o.mtu - 28 || o.count < 1 || o.duration <= 0 || o.timeout <= 0 ||
        window >= RING || (o.size < 8 && window != 1)) {
        fprintf(stderr, "echo_fast: bad size (0..MTU-28; under 8 bytes needs --inflight 1), "
                        "count, duration, timeout or window\n");
        return 2;
    }
    const char *why = netguard_check();
    if (why) {
        fprintf(stderr, "echo_fast: refusing to send: %s\n", why);
        return 2;
    }
    for (int k = 0; k < 16; k++)
        for (int j = 0; j < 65536; j++)
            bodies[k][j] = (uint8_t)(k * 7 + j * 31 + 3);
    ident = (uint16_t)getpid();
    ipid = (uint16_t)(getpid() * 251);
    open_transport();

    long sent = 0, received = 0, bad = 0, late = 0, dup = 0, send_err = 0;
    uint32_t seq = 0, oldest = 0; /* requests [oldest, seq) may be outstanding */
    int outstanding = 0;
    int64_t t0 = now_ns(), end = t0 + (int64_t)(o.duration * 1e9), next_send = t0;
    int64_t tmo = (int64_t)(o.timeout * 1e9), ival = (int64_t)(o.interval * 1e9);
    int64_t last_rx = t0;
    double c0 = cpu_s();
    uint8_t want[65536];
    struct pollfd pfd = {fd, POLLIN, 0};
    for (;;) {
        int64_t t = now_ns();
        while (oldest != seq) { /* expire and skip finished requests */
            typeof(ring[0]) *r = &ring[oldest % RING];
            if (r->state == 1 && t - r->t < tmo)
                break;
            if (r->state == 1) {
                r->state = 0;
                outstanding--;
            }
            oldest++;
        }
        while (outstanding < window && (long)seq < o.count && t < end && t >= next_send) {
            typeof(ring[0]) *r = &ring[seq % RING];
            if (send_req(seq) == 0) {
                r->t = t, r->seq = seq, r->state = 1;
                outstanding++;
            } else {
                r->state = 0;
                send_err++;
            }
            sent++;
            seq++;
            next_send = ival > 0 ? next_send + ival : t;
            if (ival > 0 && next_send < t - ival)
                next_send = t; /* fell behind: no burst */
            t = now_ns();
        }
        if (!outstanding && ((long)seq >= o.count || t >= end))
            break;
        int64_t wake = t + 50000000;
        if (outstanding && ring[oldest % RING].t + tmo < wake)
            wake = ring[oldest % RING].t + tmo;
        if ((long)seq < o.count && t < end && outstanding < window) {
            if (next_send < wake) wake = next_send;
            if (end < wake) wake = end;
        }
        int ms = wake > t ? (int)((wake - t + 999999) / 1000000) : 0;
        if (poll(&pfd, 1, ms) <= 0)
            continue;
        const uint8_t *pl;
        size_t plen;
        int ok, got;
        while ((got = recv_reply(&pl, &plen, &ok)) >= 0) {
            if (!got)
                continue;
            int64_t tr = now_ns();
            if (!ok) { bad++; continue; }
            uint32_t s;
            if (o.size >= 8 && plen >= 8 && !memcmp(pl, "UKEC", 4)) {
                uint32_t be;
                memcpy(&be, pl + 4, 4);
                s = ntohl(be);
            } else if (o.size < 8 && outstanding) {
                s = oldest;
            } else {
                bad++;
                continue;
            }
            typeof(ring[0]) *r = &ring[s % RING];
            if (s >= seq || r->seq != s || r->state != 1) {
                if (s < seq && r->seq == s && r->state == 2) dup++;
                else if (s < seq) late++;
                else bad++;
                continue;
            }
            payload(s, want);
            r->state = 2;
            outstanding--;
            if (plen != (size_t)o.size || memcmp(pl, want, plen) != 0) {
                bad++;
                continue;
            }
            add_rtt((tr - r->t) / 1000.0);
            received++;
            last_rx = tr;
        }
    }
    double cpu = cpu_s() - c0;
    int64_t tend = now_ns();
    double elapsed = ((received ? last_rx : tend) - t0) / 1e9;
    if (elapsed <= 0)
        elapsed = 1e-9;
    double sum = 0;
    for (size_t i = 0; i < nrtt; i++)
        sum += rtt[i];
    qsort(rtt, nrtt, sizeof *rtt, cmpd);
    long lost = sent - received - bad;
    if (lost < 0)
        lost = 0;
    printf("{\"transport\": \"%s%s\", \"size\": %d, \"inflight\": %d, \"interval\": %g, "
           "\"sent\": %ld, \"received\": %ld, \"lost\": %ld, \"bad\": %ld, \"late\": %ld, "
           "\"dup\": %ld, \"send_errors\": %ld, \"icmp_errors\": %d, \"loss_pct\": %.4f, "
           "\"elapsed_s\": %.6f, \"rate\": %.3f, \"client_cpu_pct\": %.1f",
           o.raw ? "raw-" : "", o.proto, o.size, o.inflight, o.interval, sent, received, lost, bad,
           late, dup, send_err, errors_icmp, sent ? 100.0 * lost / sent : 0.0, elapsed,
           received / elapsed, 100.0 * cpu / ((tend - t0) / 1e9));
    if (nrtt)
        printf(", \"rtt_min_us\": %.3f, \"rtt_p50_us\": %.3f, \"rtt_p90_us\": %.3f, "
               "\"rtt_p99_us\": %.3f, \"rtt_max_us\": %.3f, \"rtt_mean_us\": %.3f",
               rtt[0], pct(50), pct(90), pct(99), rtt[nrtt - 1], sum / nrtt);
    else
        printf(", \"rtt_min_us\": null, \"rtt_p50_us\": null, \"rtt_p90_us\": null, "
               "\"rtt_p99_us\": null, \"rtt_max_us\": null, \"rtt_mean_us\": null");
    printf(", \"first_reply_mono\": null, \"rtts_us\": [");
    for (size_t i = 0; o.rtts && i < nrtt; i++)
        printf(i ? ",%.2f" : "%.2f", rtt[i]);
    printf("]}\n");
    if (hold_fd >= 0)
        close(hold_fd);
    return received == 0 || bad ? 1 : 0;
}
