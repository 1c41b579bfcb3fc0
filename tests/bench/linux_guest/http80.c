/* A small HTTP/1.1 server for the reference Linux guest of the benchmarks, the
 * same service the unikernel offers on port 80, written so that Linux is not
 * judged by a fork-per-connection daemon: one process, one epoll loop,
 * non-blocking sockets, TCP_NODELAY.
 *
 *   http80 [PORT]          (default 80)
 *
 * GET (or HEAD) / answers 200 with a small HTML page (uptime, interfaces and
 * addresses), GET /stats 200 with the server's counters as `name value` lines,
 * anything else 404; a request it cannot parse 400 and the connection closes.
 * Connections persist (HTTP/1.1 by default, HTTP/1.0 with keep-alive) and
 * requests may be pipelined: every complete request in what one read brought is
 * answered, the answers leave in one send. `Connection: close` is honoured (the
 * response says so and the server closes after it). While a response waits for
 * send space the connection is not read (back-pressure); a connection idle for
 * 30 s is closed, so a slow client never holds the server.
 *
 * Built static by tests/bench/build_linux_guest.py; /init starts it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 65536
#define IN_MAX 16384 /* a request's head and body must fit */
#define IDLE_S 30

struct hconn {
    char in[IN_MAX];
    size_t in_len;
    char *out;
    size_t out_off, out_len, out_cap;
    int closing; /* close once out is written */
    int waiting; /* out did not fit the socket: polled for EPOLLOUT, not read */
    time_t last; /* last activity, for the idle timeout */
};

static struct {
    unsigned long accepted, open, requests, ok, not_found, bad, idle_closed;
} st;

static int ep, max_fd;
static struct hconn *conns[MAX_FD];

static time_t mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return t.tv_sec;
}

static void conn_close(int fd)
{
    free(conns[fd]->out);
    free(conns[fd]);
    conns[fd] = NULL;
    st.open--;
    close(fd);
}

static void want(int fd, unsigned events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* ------------------------------------------------------------ responses */

static int out_reserve(struct hconn *c, size_t more)
{
    if (c->out_len + more <= c->out_cap)
        return 0;
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + more)
        cap *= 2;
    char *p = realloc(c->out, cap);
    if (!p)
        return -1;
    c->out = p, c->out_cap = cap;
    return 0;
}

static void out_add(struct hconn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || out_reserve(c, (size_t)n + 1) < 0) {
        c->closing = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(c->out + c->out_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->out_len += (size_t)n;
}

/* "eth0 10.0.0.2, lo 127.0.0.1", read again at most once a second (the address
 * is given after the server starts). */
static const char *addresses(void)
{
    static char text[512];
    static time_t when = -1;
    time_t now = mono_s();
    if (now == when)
        return text;
    when = now;
    text[0] = 0;
    struct ifaddrs *ifs, *i;
    if (getifaddrs(&ifs) != 0)
        return text;
    size_t len = 0;
    for (i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof ip);
        int n = snprintf(text + len, sizeof text - len, "%s%s %s", len ? ", " : "",
                         i->ifa_name, ip);
        if (n < 0 || (size_t)n >= sizeof text - len)
            break;
        len += (size_t)n;
    }
    freeifaddrs(ifs);
    return text;
}

static int page(char *b, size_t cap)
{
    struct timespec up;
    clock_gettime(CLOCK_BOOTTIME, &up);
    return snprintf(
        b, cap,
        "<!doctype html>\n<html><head><title>bench guest</title></head><body>\n"
        "<h1>Linux reference guest</h1>\n<p>uptime %ld.%03ld s</p>\n"
        "<p>interfaces: %s</p>\n</body></html>\n",
        (long)up.tv_sec, up.tv_nsec / 1000000, addresses());
}

static int stats(char *b, size_t cap)
{
    return snprintf(b, cap,
                    "http.connections_accepted %lu\nhttp.connections_open %lu\n"
                    "http.requests %lu\nhttp.responses_200 %lu\nhttp.responses_404 %lu\n"
                    "http.responses_400 %lu\nhttp.idle_closed %lu\n",
                    st.accepted, st.open, st.requests, st.ok, st.not_found, st.bad,
                    st.idle_closed);
}

static void respond(struct hconn *c, int code, const char *type, const char *body,
                    int blen, int head_only, int ka10)
{
    const char *reason = code == 200 ? "OK" : code == 404 ? "Not Found" : "Bad Request";
    out_add(c,
            "HTTP/1.1 %d %s\r\nServer: bench-linux\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\n%s\r\n%.*s",
            code, reason, type, blen,
            c->closing ? "Connection: close\r\n"
            : ka10     ? "Connection: keep-alive\r\n"
                       : "",
            head_only ? 0 : blen, body);
}

/* ------------------------------------------------------------ requests */

struct req {
    int get, head, v10, close, keepalive;
    long clen;
    char path[256];
};

/* 1 when the header line [p, e) is `name:`; *v then points at its value. */
static int header_is(const char *p, const char *e, const char *name, const char **v)
{
    size_t n = strlen(name);
    if ((size_t)(e - p) <= n || strncasecmp(p, name, n) != 0 || p[n] != ':')
        return 0;
    for (*v = p + n + 1; *v < e && (**v == ' ' || **v == '\t'); (*v)++)
        ;
    return 1;
}

static int has_token(const char *v, const char *e, const char *tok)
{
    size_t n = strlen(tok);
    for (; v + n <= e; v++)
        if (strncasecmp(v, tok, n) == 0)
            return 1;
    return 0;
}

/* Parses the head [b, b+len) (ending in the blank line); 0, or -1 if malformed. */
static int parse(const char *b, size_t len, struct req *r)
{
    memset(r, 0, sizeof *r);
    const char *end = b + len, *eol = memmem(b, len, "\r\n", 2);
    const char *sp1 = memchr(b, ' ', (size_t)(eol - b));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp2 || (size_t)(sp2 - sp1 - 1) >= sizeof r->path || eol - sp2 - 1 != 8 ||
        strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return -1;
    r->get = sp1 - b == 3 && !strncmp(b, "GET", 3);
    r->head = sp1 - b == 4 && !strncmp(b, "HEAD", 4);
    r->v10 = sp2[8] == '0';
    memcpy(r->path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    for (const char *p = eol + 2; p < end - 2;) {
        const char *e = memmem(p, (size_t)(end - p), "\r\n", 2), *v;
        if (header_is(p, e, "connection", &v)) {
            r->close |= has_token(v, e, "close");
            r->keepalive |= has_token(v, e, "keep-alive");
        } else if (header_is(p, e, "content-length", &v)) {
            char *x;
            r->clen = strtol(v, &x, 10);
            if (x == v || r->clen < 0)
                return -1;
        }
        p = e + 2;
    }
    return 0;
}

static void answer(struct hconn *c, const struct req *r)
{
    static char body[1024];
    st.requests++;
    if (r->close || (r->v10 && !r->keepalive))
        c->closing = 1;
    int ka10 = r->v10 && !c->closing;
    if ((r->get || r->head) && !strcmp(r->path, "/")) {
        st.ok++;
        respond(c, 200, "text/html", body, page(body, sizeof body), r->head, ka10);
    } else if ((r->get || r->head) && !strcmp(r->path, "/stats")) {
        st.ok++;
        respond(c, 200, "text/plain", body, stats(body, sizeof body), r->head, ka10);
    } else {
        st.not_found++;
        respond(c, 404, "text/plain", "not found\n", 10, r->head, ka10);
    }
}

/* Answers every complete request in c->in; keeps the incomplete rest. */
static void handle(struct hconn *c)
{
    size_t pos = 0;
    while (!c->closing) {
        char *h = memmem(c->in + pos, c->in_len - pos, "\r\n\r\n", 4);
        if (!h)
            break;
        size_t head = (size_t)(h + 4 - (c->in + pos));
        struct req r;
        if (parse(c->in + pos, head, &r) < 0) {
            st.bad++;
            c->closing = 1;
            respond(c, 400, "text/plain", "bad request\n", 12, 0, 0);
            break;
        }
        if (r.clen > (long)(IN_MAX - head)) {
            st.bad++;
            c->closing = 1;
            respond(c, 400, "text/plain", "bad request\n", 12, 0, 0);
            break;
        }
        if (pos + head + (size_t)r.clen > c->in_len)
            break; /* the body is still coming */
        answer(c, &r);
        pos += head + (size_t)r.clen;
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    if (c->in_len == IN_MAX && !c->closing) { /* a head that does not fit */
        st.bad++;
        c->closing = 1;
        respond(c, 400, "text/plain", "bad request\n", 12, 0, 0);
    }
}

/* Writes what is queued; then closes (closing) or reads again. */
static void flush(int fd, struct hconn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            if (!c->waiting)
                want(fd, EPOLLOUT);
            c->waiting = 1;
            return;
        }
        if (n < 0) {
            conn_close(fd);
            return;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    if (c->closing) {
        conn_close(fd);
        return;
    }
    if (c->waiting)
        want(fd, EPOLLIN);
    c->waiting = 0;
}

static void readable(int fd, struct hconn *c)
{
    while (!c->closing) {
        ssize_t n = recv(fd, c->in + c->in_len, IN_MAX - c->in_len, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            c->closing = 1; /* what is queued still goes, then close */
            break;
        }
        if (n < 0)
            break;
        c->in_len += (size_t)n;
        handle(c);
        if (c->out_len > 65536)
            break; /* answer before reading more */
    }
    flush(fd, c);
}

/* ------------------------------------------------------------ the loop */

static void accept_all(int ls)
{
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
        if (fd < 0)
            return;
        if (fd >= MAX_FD || !(conns[fd] = calloc(1, sizeof *conns[fd]))) {
            close(fd);
            continue;
        }
        st.accepted++, st.open++;
        conns[fd]->last = mono_s();
        if (fd > max_fd)
            max_fd = fd;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            conn_close(fd);
    }
}

static void reap_idle(void)
{
    time_t now = mono_s();
    for (int fd = 0; fd <= max_fd; fd++)
        if (conns[fd] && now - conns[fd]->last > IDLE_S) {
            st.idle_closed++;
            conn_close(fd);
        }
}

static int listen_on(int port)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    if (ls < 0) {
        perror("http80: socket");
        exit(1);
    }
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
        perror("http80: bind/listen");
        exit(1);
    }
    return ls;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 80;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl = {MAX_FD, MAX_FD};
    setrlimit(RLIMIT_NOFILE, &rl);
    int ls = listen_on(port);
    ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) {
        perror("http80: epoll");
        return 1;
    }
    printf("http80: HTTP/1.1 on TCP port %d\n", port);
    fflush(stdout);
    time_t reaped = mono_s();
    for (;;) {
        /* Wakes once a second only while connections are open (the idle
         * timeout): an idle guest's CPU figure stays Linux's own. */
        int n = epoll_wait(ep, evs, 256, st.open ? 1000 : -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                accept_all(ls);
                continue;
            }
            struct hconn *c = conns[fd];
            if (!c)
                continue;
            c->last = mono_s();
            if (c->waiting)
                flush(fd, c);
            else
                readable(fd, c);
        }
        if (mono_s() != reaped) {
            reaped = mono_s();
            reap_idle();
        }
    }
}
