/* Promises (kernel/promise.h): resolve once, await with a deadline, continuations
 * run synchronously by the resolver in registration order, and await_any built
 * from continuations that wake one shared wait queue. Thread context only. */
#include <stdlib.h>

#include "kernel/platform.h"
#include "kernel/promise.h"

#define AWAIT_ANY_INLINE 16 /* await_any registrations kept on the stack */

void promise_init(struct promise *p)
{
    p->resolved = false;
    p->value = 0;
    p->waiters.head = p->waiters.tail = NULL;
    p->cbs = NULL;
}

int promise_resolve(struct promise *p, intptr_t value)
{
    if (p->resolved)
        return -1;
    p->resolved = true;
    p->value = value;
    waitq_wake_all(&p->waiters);
    /* Pop one at a time, so a continuation may cancel a later one, and a
     * registration is never touched after its continuation has run. */
    struct promise_cb *cb;
    while ((cb = p->cbs) != NULL) {
        p->cbs = cb->next;
        cb->next = NULL;
        cb->fn(p, value, cb->arg);
    }
    return 0;
}

bool promise_is_resolved(const struct promise *p)
{
    return p->resolved;
}

enum wait_result promise_await(struct promise *p, uint64_t deadline_ns, intptr_t *value)
{
    while (!p->resolved) {
        if (waitq_wait(&p->waiters, deadline_ns) == WAIT_TIMEOUT)
            break;
    }
    if (!p->resolved)
        return WAIT_TIMEOUT;
    if (value)
        *value = p->value;
    return WAIT_WOKEN;
}

void promise_on_resolve(struct promise *p, struct promise_cb *cb, promise_fn fn,
                        void *arg)
{
    cb->next = NULL;
    cb->fn = fn;
    cb->arg = arg;
    if (p->resolved) {
        fn(p, p->value, arg);
        return;
    }
    struct promise_cb **link = &p->cbs; /* append: continuations run in order */
    while (*link)
        link = &(*link)->next;
    *link = cb;
}

bool promise_cancel_cb(struct promise *p, struct promise_cb *cb)
{
    for (struct promise_cb **link = &p->cbs; *link; link = &(*link)->next) {
        if (*link == cb) {
            *link = cb->next;
            cb->next = NULL;
            return true;
        }
    }
    return false;
}

static int first_resolved(struct promise **ps, int n)
{
    for (int i = 0; i < n; i++)
        if (ps[i]->resolved)
            return i;
    return -1;
}

static void wake_any(struct promise *p, intptr_t value, void *arg)
{
    (void)p, (void)value;
    waitq_wake_all(arg);
}

int promise_await_any(struct promise **ps, int n, uint64_t deadline_ns)
{
    KCHECK(n >= 0 && (n == 0 || ps != NULL));
    int idx = first_resolved(ps, n);
    if (idx >= 0)
        return idx;
    struct promise_cb inline_cbs[AWAIT_ANY_INLINE];
    struct promise_cb *cbs = inline_cbs;
    if (n > AWAIT_ANY_INLINE)
        cbs = malloc(sizeof(*cbs) * (size_t)n);
    KCHECK(cbs != NULL);
    struct waitq q = {0};
    for (int i = 0; i < n; i++)
        promise_on_resolve(ps[i], &cbs[i], wake_any, &q);
    while ((idx = first_resolved(ps, n)) < 0)
        if (waitq_wait(&q, deadline_ns) == WAIT_TIMEOUT)
            break;
    /* No continuation may outlive q and cbs: drop those that did not run. */
    for (int i = 0; i < n; i++)
        promise_cancel_cb(ps[i], &cbs[i]);
    if (cbs != inline_cbs)
        free(cbs);
    return first_resolved(ps, n);
}
