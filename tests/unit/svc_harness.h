/* What the TCP service tests share (linked: tests/unit/svc_harness.c): two stacks
 * on the simulated link (tests/unit/sim_link.h), the server at 10.0.0.2 (side 1)
 * with echo, discard, chargen and HTTP enabled, the client at 10.0.0.1 (side 0)
 * whose application threads use the TCP API; the link thread runs both stacks'
 * RX and timers on the fake clock. Client code runs in cooperative threads, where
 * a cmocka assertion cannot unwind: it records failures with CLI_CHECK (the test
 * asserts cli_fails == 0 after joining). At the end every connection must be gone
 * on the server, every buffer back. */
#ifndef SVC_HARNESS_H
#define SVC_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "net/http.h"
#include "net/stack.h"
#include "net/tcp_services.h"
#include "tests/unit/sim_link.h"

#define MS 1000000ull
#define SEC 1000000000ull

extern struct sim sim;
extern int cli_fails;

struct svc_setup {
    struct sim_params p;     /* zero: a clean 100 Mbit/s link, 1 ms each way */
    struct tcp_config tcp;   /* both stacks */
    struct http_config http; /* the server's (page and stats given here if unset) */
    struct tcp_services_config svc;
};

/* Builds the link and the server's services. */
void svc_start(const struct svc_setup *s);
/* Runs the link on for a while (TIME-WAIT runs out), checks that the server holds
 * no connection, no buffer, no memory, then frees both stacks. */
void svc_finish(void);

struct net_stack *srv(void);
struct tcp *cli_tcp(void);

/* Runs fn(arg) in a client thread (and n of them at once with run_clients) and
 * waits for it. */
void run_client(void (*fn)(void *), void *arg);
void run_clients(int n, void (*fn)(void *), void *arg);

void cli_fail(int line, const char *what);
#define CLI_CHECK(c)                                                                     \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            cli_fail(__LINE__, #c);                                                      \
            return;                                                                      \
        }                                                                                \
    } while (0)

/* Blocking helpers on side 0's TCP; NULL / false on failure (recorded). */
struct tcp_flow *cli_connect(uint16_t port);
bool cli_write(struct tcp_flow *f, const void *p, uint32_t n);
/* Reads up to n bytes (fewer only at the end of the stream: *eof). */
uint32_t cli_read(struct tcp_flow *f, void *buf, uint32_t n, bool *eof);

/* HTTP on one connection, with the bytes read past the last answer kept. */
struct http_cli {
    struct tcp_flow *f;
    uint8_t buf[65536];
    uint32_t len;
    bool eof;
};
struct http_answer {
    int status;
    bool close; /* Connection: close */
    uint32_t content_len;
    char body[32768];
    uint32_t body_len;
};
/* Reads one answer (of a request with method HEAD when head); false on a
 * malformed or missing one. */
bool http_cli_answer(struct http_cli *c, bool head, struct http_answer *a);
/* Waits for the server's end of stream (nothing else may come); false if not. */
bool http_cli_eof(struct http_cli *c);

/* The page and stats functions the server gets by default. */
void svc_page(void *ctx, print_line_fn print, void *pctx);
void svc_stats(void *ctx, print_line_fn print, void *pctx);
#define SVC_PAGE_LINE "page-line for the test"

#endif
