/* A layer's "deadline armed" hook: ARP and reassembly call it with a time by
 * which their timer must run (net_tick) whenever they set one, so the thread
 * that runs the stack's timers can sleep exactly until net_next_deadline and
 * still be woken when an earlier deadline appears. Unset (zero), nothing is
 * called. Thread context; called on the receive path too, so it must not wait. */
#ifndef NET_DEADLINE_H
#define NET_DEADLINE_H

#include <stdint.h>

struct net_deadline_hook {
    void (*fn)(void *ctx, uint64_t deadline);
    void *ctx;
};

static inline void net_deadline_armed(const struct net_deadline_hook *h,
                                      uint64_t deadline)
{
    if (h->fn)
        h->fn(h->ctx, deadline);
}

#endif
