/* TCP echo (RFC 862), discard (RFC 863) and chargen (RFC 864) for the reference
 * Linux guest of the benchmarks, so that Linux is measured with servers as lean
 * as the unikernel's services: one process per service, one epoll loop,
 * non-blocking sockets, no fork or thread per connection.
 *
 *   tcpsvc echo 7 | tcpsvc discard 9 | tcpsvc chargen 19
 *
 * echo: reads up to 256 KiB and writes it back; what the socket does not take
 * waits in a per-connection buffer and reading stops until it is gone (the
 * client's sending is held back by TCP, never queued without bound); EOF (after
 * everything before it is echoed) closes the connection.
 * discard: recv(MSG_TRUNC) drops the bytes in the kernel without copying them
 * out; closes on EOF.
 * chargen: sendfile() from a memfd holding the pattern (72 printable characters
 * a line, CR LF, each line starting one character further on, from ' '), from
 * each connection's phase in it; what the client sends is discarded; closes on
 * the client's EOF or reset.
 *
 * Built static by tests/bench/build_linux_guest.py; /init starts one of each. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536
#define RDBUF (256 * 1024)
#define CG_LINE 74
#define CG_PERIOD (95 * CG_LINE)
#define CG_FILE (CG_PERIOD * 64) /* 450 KB: a sendfile() never runs out mid-call */

enum svc { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN };

struct conn {
    char *pend; /* echo: bytes the socket did not take yet */
    size_t pend_off, pend_len;
    off_t phase; /* chargen: where in the pattern the stream is */
};

static enum svc svc;
static int ep, cg_fd = -1;
static struct conn *conns[MAX_FD];
static char rdbuf[RDBUF];

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void conn_close(int fd)
{
    if (conns[fd]) {
        free(conns[fd]->pend);
        free(conns[fd]);
        conns[fd] = NULL;
    }
    close(fd); /* also leaves the epoll set */
}

static void want(int fd, unsigned events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* ------------------------------------------------------------ echo */

/* Writes what is pending; 1 when nothing is left, 0 when the socket is full, -1
 * on an error. */
static int echo_flush(int fd, struct conn *c)
{
    while (c->pend_off < c->pend_len) {
        ssize_t n =
            send(fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->pend_off += (size_t)n;
    }
    free(c->pend);
    c->pend = NULL;
    c->pend_off = c->pend_len = 0;
    return 1;
}

/* Reading resumes once the backlog is written (the client's FIN, if it came, is
 * read after the data before it). */
static void echo_writable(int fd, struct conn *c)
{
    int r = echo_flush(fd, c);
    if (r < 0)
        conn_close(fd);
    else if (r == 1)
        want(fd, EPOLLIN);
}

static void echo_readable(int fd, struct conn *c)
{
    for (;;) {
        ssize_t n = recv(fd, rdbuf, RDBUF, 0);
        if (n == 0) {
            conn_close(fd);
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN)
                conn_close(fd);
            return;
        }
        ssize_t w = send(fd, rdbuf, (size_t)n, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) {
            conn_close(fd);
            return;
        }
        if (w < 0)
            w = 0;
        if (w < n) { /* the socket is full: keep the rest, stop reading */
            c->pend_len = (size_t)(n - w);
            c->pend = malloc(c->pend_len);
            if (!c->pend) {
                conn_close(fd);
                return;
            }
            memcpy(c->pend, rdbuf + w, c->pend_len);
            want(fd, EPOLLOUT);
            return;
        }
    }
}

/* ------------------------------------------------------------ discard, chargen */

/* Drops what the client sent; closes on EOF or an error. 0 when closed. */
static int drain(int fd)
{
    for (;;) {
        ssize_t n = recv(fd, NULL, 1 << 30, MSG_TRUNC | MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 1;
        conn_close(fd);
        return 0;
    }
}

static void chargen_writable(int fd, struct conn *c)
{
    for (;;) {
        off_t off = c->phase;
        ssize_t n = sendfile(fd, cg_fd, &off, (size_t)(CG_FILE - c->phase));
        if (n < 0) {
            if (errno != EAGAIN)
                conn_close(fd);
            return;
        }
        c->phase = (c->phase + n) % CG_PERIOD;
    }
}

static void chargen_file(void)
{
    static char pat[CG_FILE];
    for (size_t p = 0; p < CG_FILE; p++) {
        size_t line = p / CG_LINE, col = p % CG_LINE;
        pat[p] = col < 72 ? (char)(' ' + (line + col) % 95) : col == 72 ? '\r' : '\n';
    }
    cg_fd = memfd_create("chargen", 0);
    if (cg_fd < 0 || write(cg_fd, pat, CG_FILE) != CG_FILE)
        die("tcpsvc: chargen memfd");
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
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN | (svc == SVC_CHARGEN ? EPOLLOUT : 0),
                                 .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            conn_close(fd);
    }
}

static void event(int fd, unsigned ev)
{
    struct conn *c = conns[fd];
    if (!c)
        return;
    if (svc == SVC_ECHO) {
        if (c->pend)
            echo_writable(fd, c);
        else
            echo_readable(fd, c);
        return;
    }
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !drain(fd))
        return;
    if (svc == SVC_CHARGEN && (ev & EPOLLOUT))
        chargen_writable(fd, c);
}

static int listen_on(int port)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    if (ls < 0)
        die("tcpsvc: socket");
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0)
        die("tcpsvc: bind/listen");
    return ls;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: tcpsvc echo|discard|chargen PORT\n"), 2;
    if (!strcmp(argv[1], "echo"))
        svc = SVC_ECHO;
    else if (!strcmp(argv[1], "discard"))
        svc = SVC_DISCARD;
    else if (!strcmp(argv[1], "chargen"))
        svc = SVC_CHARGEN;
    else
        return fprintf(stderr, "tcpsvc: unknown service %s\n", argv[1]), 2;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl = {MAX_FD, MAX_FD};
    setrlimit(RLIMIT_NOFILE, &rl);
    if (svc == SVC_CHARGEN)
        chargen_file();
    int ls = listen_on(atoi(argv[2]));
    ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0)
        die("tcpsvc: epoll");
    printf("tcpsvc: %s on TCP port %s\n", argv[1], argv[2]);
    fflush(stdout);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == ls)
                accept_all(ls);
            else
                event(evs[i].data.fd, evs[i].events);
        }
    }
}
