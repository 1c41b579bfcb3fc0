/* tcp_load: TCP load and correctness client for the benchmarks, against a guest
 * serving echo (7), discard (9) and chargen (19) (RFC 862, 863, 864).
 *
 *   tcp_load --mode probe [--port N]            can a connection be made? (bounded)
 *   tcp_load --mode send  [--port 9]            bulk host -> guest, Mbit/s
 *   tcp_load --mode recv  [--port 19]           bulk guest -> host, Mbit/s, pattern
 * checked tcp_load --mode echo  [--port 7] [--sizes 1,65536,16M]   echo checked
 * byte-exactly tcp_load --mode conn  [--port 7] [--concurrency N]       connections per
 * second common: [--host 10.0.0.2] [--duration S] [--warmup S] [--timeout S] [--no-check]
 *
 * send: writes to the discard port for --warmup + --duration seconds; the rate is
 * the bytes the guest acknowledged (sent minus SIOCOUTQ) after the warm-up over
 * the time since; then it half-closes and waits for the guest's FIN (the discard
 * service closes on EOF), so every byte was taken by the service.
 * recv: reads from chargen for the same time; the stream must be RFC 864's
 * pattern (lines of 72 printable characters, CR LF, each line starting one
 * character further on; the first byte sets the phase) unless --no-check.
 * echo: per size, one connection that sends the bytes (a xorshift stream) while
 * reading the echo, compares every byte, then half-closes and expects the echo
 * service's FIN and nothing more.
 * conn: --concurrency connections at a time, each: connect, a 64-byte request,
 * its 64-byte echo compared, close; completed connections per second.
 *
 * Prints one JSON object. Exit 0 on success, 1 when the measurement failed (no
 * connection, a reset, a stall longer than --timeout, a wrong byte), 2 on a usage
 * error or a refusal: it sends nothing outside a test network namespace or in one
 * with a default route (tests/tools/netguard.h).
 *
 * Build: gcc -O2 -o tcp_load tests/tools/tcp_load.c   (bench.py does it) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netguard.h"

#define IOBUF (1u << 20)    /* one send or recv at most */
#define CG_LINE 74          /* chargen: 72 characters, CR, LF */
#define CG_PERIOD (95 * 74) /* the pattern repeats after 95 lines */
#define REQ 64              /* conn: request size */
#define MAX_SIZES 32
#define MAX_CONC 1024

static struct {
    const char *mode, *host;
    int port, concurrency, check;
    double duration, warmup, timeout;
    long sizes[MAX_SIZES];
    int nsizes;
} o = {NULL, "10.0.0.2", -1, 1, 1, 2, 0.5, 5, {0}, 0};

static struct sockaddr_in dst;
static uint8_t iobuf[IOBUF];

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static double secs(int64_t ns)
{
    return ns / 1e9;
}

static int ms_until(int64_t deadline)
{
    int64_t d = deadline - now_ns();
    return d <= 0 ? 0 : (int)((d + 999999) / 1000000);
}

static void usage(const char *why)
{
    fprintf(stderr, "tcp_load: %s (see the comment at the top of tcp_load.c)\n", why);
    exit(2);
}

/* ------------------------------------------------------------ connections */

/* A non-blocking connection to the guest within timeout_s: the fd, or -errno. */
static int connect_to(double timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) == 0)
        return fd;
    int err = errno;
    if (err == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        int r = poll(&p, 1, (int)(timeout_s * 1000));
        socklen_t len = sizeof err;
        if (r == 0)
            err = ETIMEDOUT;
        else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (!err)
            return fd;
    }
    close(fd);
    return -err;
}

/* Waits for events on fd until deadline; 0 on a timeout. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, ms_until(deadline));
    return r > 0 ? p.revents : 0;
}

/* Bytes the peer acknowledged: sent minus what the send queue still holds. */
static long long acked(int fd, long long sent)
{
    int q = 0;
    if (ioctl(fd, SIOCOUTQ, &q) < 0)
        return -1;
    return sent - q;
}

/* After our FIN: reads until the peer's FIN; 1 on EOF, 0 on a timeout or a reset;
 * *extra counts the bytes that still came. */
static int await_fin(int fd, double timeout_s, long long *extra)
{
    int64_t deadline = now_ns() + (int64_t)(timeout_s * 1e9);
    for (;;) {
        ssize_t n = recv(fd, iobuf, IOBUF, 0);
        if (n == 0)
            return 1;
        if (n > 0) {
            *extra += n;
            continue;
        }
        if (errno != EAGAIN || !wait_fd(fd, POLLIN, deadline))
            return 0;
    }
}

static void json_err(const char *err)
{
    if (err)
        printf("\"error\": \"%s\"", err);
    else
        printf("\"error\": null");
}

/* ------------------------------------------------------------ probe */

static int mode_probe(void)
{
    int64_t t0 = now_ns();
    int fd = connect_to(o.timeout);
    double ms = secs(now_ns() - t0) * 1e3;
    printf(
        "{\"mode\": \"probe\", \"port\": %d, \"connected\": %s, \"connect_ms\": %.3f, ",
        o.port, fd >= 0 ? "true" : "false", ms);
    json_err(fd >= 0 ? NULL : strerror(-fd));
    printf("}\n");
    if (fd < 0)
        return 1;
    close(fd);
    return 0;
}

/* ------------------------------------------------------------ bulk send (discard) */

static int mode_send(void)
{
    memset(iobuf, 'd', IOBUF);
    int fd = connect_to(o.timeout);
    if (fd < 0) {
        printf("{\"mode\": \"send\", \"port\": %d, \"mbps\": null, ", o.port);
        json_err(strerror(-fd));
        printf("}\n");
        return 1;
    }
    int64_t t0 = now_ns(), tw = t0 + (int64_t)(o.warmup * 1e9);
    int64_t tend = tw + (int64_t)(o.duration * 1e9), t_w = 0, t;
    long long sent = 0, acked_w = -1, last_acked = 0;
    int64_t t_ack = t0;
    const char *err = NULL;
    while ((t = now_ns()) < tend) {
        if (acked_w < 0 && t >= tw)
            acked_w = acked(fd, sent), t_w = t;
        ssize_t n = send(fd, iobuf, IOBUF, MSG_NOSIGNAL);
        if (n > 0) {
            sent += n;
            continue;
        }
        if (n < 0 && errno != EAGAIN) {
            err = strerror(errno);
            break;
        }
        long long a = acked(fd, sent);
        if (a != last_acked)
            last_acked = a, t_ack = t;
        else if (t - t_ack > (int64_t)(o.timeout * 1e9)) {
            err = "stalled: nothing acknowledged within the timeout";
            break;
        }
        int64_t until = acked_w < 0 ? tw : tend;
        wait_fd(fd, POLLOUT, until < t + 100000000 ? until : t + 100000000);
    }
    int64_t te = now_ns();
    long long acked_e = acked(fd, sent);
    /* A stall: nothing acknowledged during the measured time. */
    if (!err && (acked_w < 0 || acked_e <= acked_w))
        err = "no data acknowledged in the measured time";
    shutdown(fd, SHUT_WR);
    long long extra = 0;
    int fin = await_fin(fd, o.timeout, &extra);
    int64_t tc = now_ns();
    close(fd);
    if (!err && !fin)
        err = "no FIN from the discard service within the timeout after ours";
    double mbps = acked_w < 0 ? 0 : (acked_e - acked_w) * 8 / secs(te - t_w) / 1e6;
    printf("{\"mode\": \"send\", \"port\": %d, \"bytes_sent\": %lld, "
           "\"bytes_measured\": %lld, \"seconds\": %.6f, \"mbps\": %.3f, \"mbps_total\": "
           "%.3f, \"peer_closed\": %s, "
           "\"bytes_back\": %lld, ",
           o.port, sent, acked_w < 0 ? 0 : acked_e - acked_w,
           acked_w < 0 ? 0 : secs(te - t_w), mbps,
           fin ? sent * 8 / secs(tc - t0) / 1e6 : 0.0, fin ? "true" : "false", extra);
    json_err(err);
    printf("}\n");
    return err ? 1 : 0;
}

/* ------------------------------------------------------------ bulk receive (chargen) */

static uint8_t *cg_pattern; /* the pattern from ' ', long enough for any phase */

static void chargen_pattern(void)
{
    size_t len = CG_PERIOD + IOBUF + CG_PERIOD;
    cg_pattern = malloc(len);
    if (!cg_pattern)
        usage("out of memory");
    for (size_t p = 0; p < len; p++) {
        size_t line = p / CG_LINE, col = p % CG_LINE;
        cg_pattern[p] = col < 72    ? (uint8_t)(' ' + (line + col) % 95)
                        : col == 72 ? '\r'
                                    : '\n';
    }
}

/* Checks n received bytes at stream offset off; -1 when right, else the offset
 * of the first wrong byte. *phase is set from the stream's first byte. */
static long long chargen_check(const uint8_t *b, size_t n, long long off, size_t *phase)
{
    if (off == 0) {
        if (b[0] < ' ' || b[0] > '~')
            return 0;
        *phase = (size_t)(b[0] - ' ') * CG_LINE % CG_PERIOD;
    }
    const uint8_t *want = cg_pattern + (*phase + (size_t)(off % CG_PERIOD)) % CG_PERIOD;
    if (memcmp(b, want, n) == 0)
        return -1;
    size_t i = 0;
    while (b[i] == want[i])
        i++;
    return off + (long long)i;
}

static int mode_recv(void)
{
    chargen_pattern();
    int fd = connect_to(o.timeout);
    if (fd < 0) {
        printf("{\"mode\": \"recv\", \"port\": %d, \"mbps\": null, ", o.port);
        json_err(strerror(-fd));
        printf("}\n");
        return 1;
    }
    int64_t t0 = now_ns(), tw = t0 + (int64_t)(o.warmup * 1e9);
    int64_t tend = tw + (int64_t)(o.duration * 1e9), t_w = 0, t, last = t0;
    long long total = 0, at_w = -1, bad_at = -1;
    size_t phase = 0;
    const char *err = NULL;
    while ((t = now_ns()) < tend) {
        if (at_w < 0 && t >= tw)
            at_w = total, t_w = t;
        ssize_t n = recv(fd, iobuf, IOBUF, 0);
        if (n > 0) {
            if (o.check && bad_at < 0)
                bad_at = chargen_check(iobuf, (size_t)n, total, &phase);
            total += n;
            last = t;
            continue;
        }
        if (n == 0) {
            err = "chargen closed the connection";
            break;
        }
        if (errno != EAGAIN) {
            err = strerror(errno);
            break;
        }
        if (t - last > (int64_t)(o.timeout * 1e9)) {
            err = "stalled: nothing received within the timeout";
            break;
        }
        wait_fd(fd, POLLIN, at_w < 0 ? tw : tend);
    }
    int64_t te = now_ns();
    close(fd);
    if (!err && bad_at >= 0)
        err = "the stream is not RFC 864's chargen pattern";
    if (!err && (at_w < 0 || total <= at_w))
        err = "nothing received in the measured time";
    double mbps = at_w < 0 ? 0 : (total - at_w) * 8 / secs(te - t_w) / 1e6;
    printf(
        "{\"mode\": \"recv\", \"port\": %d, \"bytes\": %lld, \"bytes_measured\": %lld, "
        "\"seconds\": %.6f, \"mbps\": %.3f, \"checked\": %s, \"bad_offset\": %lld, ",
        o.port, total, at_w < 0 ? 0 : total - at_w, at_w < 0 ? 0 : secs(te - t_w), mbps,
        o.check ? "true" : "false", bad_at);
    json_err(err);
    printf("}\n");
    return err ? 1 : 0;
}

/* ------------------------------------------------------------ echo, byte-exact */

static uint8_t *echo_data;

static void echo_fill(size_t n)
{
    echo_data = malloc(n ? n : 1);
    if (!echo_data)
        usage("out of memory");
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        echo_data[i] = (uint8_t)(x >> 24);
    }
}

/* One echo of size bytes; returns the error or NULL, *sec the time to the last byte. */
static const char *echo_one(long size, double *sec, int *fin, long long *bad_at)
{
    int fd = connect_to(o.timeout);
    if (fd < 0)
        return strerror(-fd);
    long sent = 0, got = 0;
    int64_t t0 = now_ns();
    const char *err = NULL;
    while (got < size && !err) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < size ? POLLOUT : 0)), 0};
        int r = poll(&p, 1, (int)(o.timeout * 1000));
        if (r <= 0) {
            err = "stalled: no progress within the timeout";
            break;
        }
        if ((p.revents & POLLOUT) && sent < size) {
            size_t chunk =
                (size_t)(size - sent) < 262144 ? (size_t)(size - sent) : 262144;
            ssize_t n = send(fd, echo_data + sent, chunk, MSG_NOSIGNAL);
            if (n > 0)
                sent += n;
            else if (n < 0 && errno != EAGAIN)
                err = strerror(errno);
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            ssize_t n = recv(fd, iobuf, IOBUF, 0);
            if (n == 0)
                err = "the echo service closed before echoing everything";
            else if (n < 0 && errno != EAGAIN)
                err = strerror(errno);
            else if (n > 0 && got + n > sent)
                err = "more bytes came back than were sent";
            else if (n > 0 && memcmp(iobuf, echo_data + got, (size_t)n) != 0) {
                long i = 0;
                while (iobuf[i] == echo_data[got + i])
                    i++;
                *bad_at = got + i;
                err = "an echoed byte differs from the one sent";
            } else if (n > 0)
                got += n;
        }
    }
    *sec = secs(now_ns() - t0);
    long long extra = 0;
    *fin = 0;
    if (!err) {
        shutdown(fd, SHUT_WR);
        *fin = await_fin(fd, o.timeout, &extra);
        if (extra)
            err = "bytes came back after the whole echo";
    }
    close(fd);
    return err;
}

static int mode_echo(void)
{
    if (!o.nsizes)
        o.sizes[o.nsizes++] = 65536;
    long max = 0;
    for (int i = 0; i < o.nsizes; i++)
        max = o.sizes[i] > max ? o.sizes[i] : max;
    echo_fill((size_t)max);
    int failed = 0;
    printf("{\"mode\": \"echo\", \"port\": %d, \"results\": [", o.port);
    for (int i = 0; i < o.nsizes; i++) {
        double sec = 0;
        int fin = 0;
        long long bad_at = -1;
        const char *err = echo_one(o.sizes[i], &sec, &fin, &bad_at);
        failed |= err != NULL;
        printf("%s{\"size\": %ld, \"ok\": %s, \"seconds\": %.6f, \"mbps\": %.3f, "
               "\"peer_closed\": %s, \"bad_offset\": %lld, ",
               i ? ", " : "", o.sizes[i], err ? "false" : "true", sec,
               err || sec <= 0 ? 0.0 : o.sizes[i] * 8 / sec / 1e6, fin ? "true" : "false",
               bad_at);
        json_err(err);
        printf("}");
        fflush(stdout);
    }
    printf("], \"all_ok\": %s}\n", failed ? "false" : "true");
    return failed;
}

/* ------------------------------------------------------------ connection rate */

enum conn_err {
    CE_CONNECT,
    CE_REFUSED,
    CE_RESET,
    CE_TIMEOUT,
    CE_BAD,
    CE_EOF,
    CE_NOPORT,
    CE_N
};
static const char *const conn_err_name[CE_N] = {"connect", "refused", "reset",  "timeout",
                                                "bad",     "eof",     "no_port"};

struct slot {
    int fd, state; /* state: 0 idle, 1 connecting, 2 awaiting the echo */
    int64_t t0;
    int got;
    uint8_t req[REQ], rsp[REQ];
};

static struct slot slots[MAX_CONC];
static long conn_errs[CE_N], completed;
static double *lat;
static size_t nlat, caplat;
static uint32_t req_seq;

static void lat_add(double us)
{
    if (nlat == caplat) {
        caplat = caplat ? 2 * caplat : 4096;
        lat = realloc(lat, caplat * sizeof *lat);
        if (!lat)
            usage("out of memory");
    }
    lat[nlat++] = us;
}

static void slot_end(struct slot *s, int err)
{
    if (err >= 0)
        conn_errs[err]++;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->state = 0;
}

static void slot_start(struct slot *s)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    s->t0 = now_ns();
    s->got = 0;
    if (s->fd < 0) {
        slot_end(s, CE_CONNECT);
        return;
    }
    if (connect(s->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
        slot_end(s, errno == EADDRNOTAVAIL  ? CE_NOPORT
                    : errno == ECONNREFUSED ? CE_REFUSED
                                            : CE_CONNECT);
        return;
    }
    uint32_t seq = req_seq++;
    for (int i = 0; i < REQ; i++)
        s->req[i] = (uint8_t)(seq * 131 + (uint32_t)i * 7 + (uint32_t)(s - slots));
    s->state = 1;
}

static int errno_kind(int e)
{
    return e == ECONNREFUSED ? CE_REFUSED
           : e == ECONNRESET ? CE_RESET
           : e == ETIMEDOUT  ? CE_TIMEOUT
                             : CE_CONNECT;
}

/* Connected: sends the request (64 bytes fit any fresh send buffer). */
static void slot_connected(struct slot *s)
{
    int e = 0;
    socklen_t len = sizeof e;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len);
    if (e) {
        slot_end(s, errno_kind(e));
        return;
    }
    ssize_t n = send(s->fd, s->req, REQ, MSG_NOSIGNAL);
    if (n != REQ) {
        slot_end(s, n < 0 ? errno_kind(errno) : CE_BAD);
        return;
    }
    s->state = 2;
}

static void slot_readable(struct slot *s)
{
    ssize_t n = recv(s->fd, s->rsp + s->got, (size_t)(REQ - s->got), 0);
    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        slot_end(s, n == 0 ? CE_EOF : errno_kind(errno));
        return;
    }
    s->got += (int)n;
    if (memcmp(s->rsp, s->req, (size_t)s->got) != 0) {
        slot_end(s, CE_BAD);
        return;
    }
    if (s->got < REQ)
        return;
    lat_add((now_ns() - s->t0) / 1e3);
    completed++;
    slot_end(s, -1);
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    if (!nlat)
        return 0;
    size_t k = (size_t)((nlat - 1) * p / 100.0 + 0.5);
    return lat[k];
}

static void conn_poll(int64_t tend)
{
    struct pollfd p[MAX_CONC];
    int64_t tmo = (int64_t)(o.timeout * 1e9), t = now_ns();
    for (int i = 0; i < o.concurrency; i++) {
        struct slot *s = &slots[i];
        if (s->state && t - s->t0 > tmo)
            slot_end(s, CE_TIMEOUT);
        if (!s->state && t < tend)
            slot_start(s);
        p[i].fd = s->state ? s->fd : -1;
        p[i].events = s->state == 1 ? POLLOUT : POLLIN;
        p[i].revents = 0;
    }
    /* At most 50 ms, so the timeouts above are checked; a slot that could not
     * start (no source port free) retries after a millisecond. */
    int wait = ms_until(tend), idle = 0;
    for (int i = 0; i < o.concurrency; i++)
        idle |= !slots[i].state;
    poll(p, (nfds_t)o.concurrency,
         wait > 50 ? (idle ? 1 : 50) : (idle && wait ? 1 : wait));
    for (int i = 0; i < o.concurrency; i++) {
        struct slot *s = &slots[i];
        if (!p[i].revents || !s->state)
            continue;
        if (s->state == 1)
            slot_connected(s);
        else
            slot_readable(s);
    }
}

static int mode_conn(void)
{
    for (int i = 0; i < o.concurrency; i++)
        slots[i].fd = -1;
    int64_t t0 = now_ns(), tend = t0 + (int64_t)(o.duration * 1e9);
    while (now_ns() < tend)
        conn_poll(tend);
    int64_t te = now_ns();
    for (int i = 0; i < o.concurrency; i++) /* unfinished at the end: not counted */
        if (slots[i].state)
            slot_end(&slots[i], -1);
    qsort(lat, nlat, sizeof *lat, cmpd);
    long errs = 0;
    printf("{\"mode\": \"conn\", \"port\": %d, \"concurrency\": %d, \"completed\": %ld, "
           "\"seconds\": %.6f, \"rate\": %.3f, \"latency_p50_us\": %.1f, "
           "\"latency_p99_us\": %.1f, \"errors\": {",
           o.port, o.concurrency, completed, secs(te - t0), completed / secs(te - t0),
           pct(50), pct(99));
    for (int k = 0; k < CE_N; k++) {
        printf("%s\"%s\": %ld", k ? ", " : "", conn_err_name[k], conn_errs[k]);
        errs += conn_errs[k];
    }
    printf("}, \"error_total\": %ld}\n", errs);
    return completed == 0 || errs ? 1 : 0;
}

/* ------------------------------------------------------------ main */

static double arg_d(const char *s)
{
    char *e;
    double v = strtod(s, &e);
    if (*e || v < 0)
        usage("bad number");
    return v;
}

/* "1,64K,16M" -> o.sizes */
static void parse_sizes(const char *v)
{
    char *copy = strdup(v), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *e;
        long n = strtol(t, &e, 10);
        n *= *e == 'K' ? 1024 : *e == 'M' ? 1024 * 1024 : 1;
        if (*e && e[1])
            usage("bad --sizes");
        if (n < 1 || n > 256L * 1024 * 1024 || o.nsizes == MAX_SIZES)
            usage("--sizes: 1 byte to 256M, at most 32 sizes");
        o.sizes[o.nsizes++] = n;
    }
    free(copy);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-check")) {
            o.check = 0;
            continue;
        }
        if (!v)
            usage("an option lacks its value");
        i++;
        if (!strcmp(a, "--mode"))
            o.mode = v;
        else if (!strcmp(a, "--host"))
            o.host = v;
        else if (!strcmp(a, "--port"))
            o.port = atoi(v);
        else if (!strcmp(a, "--concurrency"))
            o.concurrency = atoi(v);
        else if (!strcmp(a, "--duration"))
            o.duration = arg_d(v);
        else if (!strcmp(a, "--warmup"))
            o.warmup = arg_d(v);
        else if (!strcmp(a, "--timeout"))
            o.timeout = arg_d(v);
        else if (!strcmp(a, "--sizes"))
            parse_sizes(v);
        else
            usage("unknown option");
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    static const struct {
        const char *name;
        int (*run)(void);
        int port;
    } modes[] = {{"probe", mode_probe, 7},
                 {"send", mode_send, 9},
                 {"recv", mode_recv, 19},
                 {"echo", mode_echo, 7},
                 {"conn", mode_conn, 7}};
    int m = -1;
    for (int i = 0; i < 5; i++)
        if (o.mode && !strcmp(o.mode, modes[i].name))
            m = i;
    if (m < 0)
        usage("--mode probe, send, recv, echo or conn");
    if (o.port < 0)
        o.port = modes[m].port;
    if (o.port < 1 || o.port > 65535 || o.concurrency < 1 || o.concurrency > MAX_CONC ||
        o.duration <= 0 || o.timeout <= 0)
        usage("bad --port, --concurrency (1..1024), --duration or --timeout");
    memset(&dst, 0, sizeof dst);
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)o.port);
    if (inet_aton(o.host, &dst.sin_addr) == 0)
        usage("bad --host");
    const char *why = netguard_check();
    if (why) {
        fprintf(stderr, "tcp_load: refusing to send: %s\n", why);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    return modes[m].run();
}
