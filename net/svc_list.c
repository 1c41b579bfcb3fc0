/* What the TCP services share (see net/svc_list.h). */
#include "net/svc_list.h"

void svc_tick(struct svc_list *l, struct svc_timer *t, uint64_t now,
              void (*each)(struct svc_link *k, uint64_t now))
{
    struct svc_link *k = l->head;
    t->next = UINT64_MAX; /* what each() arms lowers it again */
    while (k) {
        struct svc_link *n = k->next; /* k may go away */
        each(k, now);
        k = n;
    }
    uint64_t next = UINT64_MAX;
    for (k = l->head; k; k = k->next)
        if (k->expires < next)
            next = k->expires;
    if (next < t->next)
        t->next = next;
}

bool svc_write_stalled(const struct tcp_flow *f)
{
    struct tcp_flow_info fi;
    tcp_flow_info(f, &fi);
    return !fi.unacked && !fi.unsent;
}
