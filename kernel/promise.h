/* Promises: the Lwt.t stand-in. A promise is resolved once with a value; threads
 * await it with a timeout, or register continuations that run (in the resolving
 * thread, synchronously) when it resolves. Thread context only. */
#ifndef PROMISE_H
#define PROMISE_H

#include <stdbool.h>
#include <stdint.h>
#include "sched.h"

struct promise;
typedef void (*promise_fn)(struct promise *p, intptr_t value, void *arg);

/* A registration for a continuation; the caller owns its memory, which must stay
 * valid until the continuation has run. */
struct promise_cb {
    struct promise_cb *next;
    promise_fn fn;
    void *arg;
};

struct promise {
    bool resolved;
    intptr_t value;
    struct waitq waiters;
    struct promise_cb *cbs;
};

void promise_init(struct promise *p);
/* First resolve wins (returns 0); later ones return -1 and change nothing. */
int promise_resolve(struct promise *p, intptr_t value);
bool promise_is_resolved(const struct promise *p);
/* WAIT_WOKEN with *value set once resolved, WAIT_TIMEOUT if deadline passes first. */
enum wait_result promise_await(struct promise *p, uint64_t deadline_ns, intptr_t *value);
/* Runs fn now if already resolved, else when resolved. */
void promise_on_resolve(struct promise *p, struct promise_cb *cb, promise_fn fn,
                        void *arg);
/* Unregisters cb if its continuation has not run yet (true), else does nothing
 * (false). After it, the caller may reuse or free cb. */
bool promise_cancel_cb(struct promise *p, struct promise_cb *cb);
/* Index of the first of ps[0..n) resolved (lowest index if several are), or -1 on
 * timeout. Returns at once if one already is. Leaves no continuation registered
 * on any of them. n = 0 waits for the deadline (must not be SCHED_FOREVER). */
int promise_await_any(struct promise **ps, int n, uint64_t deadline_ns);

#endif
