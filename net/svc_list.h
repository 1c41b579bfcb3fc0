/* The connection list of a TCP service (net/tcp_services.c, net/http.c): every
 * connection with the time it expires (idle, lingering) or wants another try
 * (no memory for its data). Intrusive (a struct svc_link inside the
 * connection), O(1) insertion and removal; the service's timer walks the list
 * (at most the TCP connection cap long) when its earliest deadline comes, and
 * a connection whose deadline moves earlier arms the timer through
 * svc_timer_arm. */
#ifndef NET_SVC_LIST_H
#define NET_SVC_LIST_H

#include <stdint.h>

#include "net/deadline.h"
#include "net/tcp.h"

struct svc_link {
    struct svc_link *prev, *next;
    uint64_t expires;
};

struct svc_list {
    struct svc_link *head, *tail;
    uint32_t n;
};

static inline void svc_list_push(struct svc_list *l, struct svc_link *k, uint64_t expires)
{
    k->expires = expires;
    k->next = NULL;
    k->prev = l->tail;
    if (l->tail)
        l->tail->next = k;
    else
        l->head = k;
    l->tail = k;
    l->n++;
}

static inline void svc_list_remove(struct svc_list *l, struct svc_link *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        l->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    else
        l->tail = k->prev;
    k->prev = k->next = NULL;
    l->n--;
}

/* A service's timer: the earliest deadline it was armed for (UINT64_MAX: none)
 * and the hook that wakes whoever runs the ticks (net/deadline.h). */
struct svc_timer {
    uint64_t next;
    struct net_deadline_hook hook;
};

static inline void svc_timer_arm(struct svc_timer *t, uint64_t at)
{
    if (at < t->next) {
        t->next = at;
        net_deadline_armed(&t->hook, at);
    }
}

/* The service's tick: each(k, now) for every connection (it may end k, or arm
 * the timer again), then the earliest expiry left joins what was armed. */
void svc_tick(struct svc_list *l, struct svc_timer *t, uint64_t now,
              void (*each)(struct svc_link *k, uint64_t now));

/* After a short write: true when nothing of the flow's own is in flight, so
 * that no ACK will come to say "writable" (the total memory cap stopped it) and
 * only a timer can try again. */
bool svc_write_stalled(const struct tcp_flow *f);

#endif
