/* Routes over several interfaces (see net/route.h). */
#include "net/route.h"

#include <stdio.h>

#include "net/stack.h"

static bool configured(const struct net_stack *s)
{
    return !ipv4_addr_is_any(s->ip.addr);
}

static bool on_link(const struct net_stack *s, struct ipv4_addr dst)
{
    return configured(s) && ((dst.be ^ s->ip.addr.be) & s->ip.netmask.be) == 0;
}

struct net_stack *net_route_default(struct net_stack *const *stacks, int n)
{
    for (int i = 0; i < n; i++)
        if (configured(stacks[i]) && !ipv4_addr_is_any(stacks[i]->ip.gateway))
            return stacks[i];
    return NULL;
}

struct net_stack *net_route_pick(struct net_stack *const *stacks, int n,
                                 struct ipv4_addr dst)
{
    struct net_stack *best = NULL;
    if (ipv4_addr_is_bcast(dst) || ipv4_addr_is_mcast(dst)) {
        for (int i = 0; i < n; i++)
            if (configured(stacks[i]))
                return stacks[i];
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (on_link(stacks[i], dst) &&
            (!best || stacks[i]->ip.prefix_len > best->ip.prefix_len))
            best = stacks[i];
    return best ? best : net_route_default(stacks, n);
}

static const char *name_of(const struct net_stack *s)
{
    return s->nif->name ? s->nif->name : "net";
}

void net_route_print(struct net_stack *const *stacks, int n, print_line_fn print,
                     void *ctx)
{
    char line[128], net[IPV4_ADDR_STRLEN], a[IPV4_ADDR_STRLEN];
    for (int i = 0; i < n; i++) {
        const struct net_stack *s = stacks[i];
        if (!configured(s))
            continue;
        struct ipv4_addr prefix = {s->ip.addr.be & s->ip.netmask.be};
        snprintf(line, sizeof line, "%s/%u dev %s src %s", ipv4_addr_fmt(prefix, net),
                 s->ip.prefix_len, name_of(s), ipv4_addr_fmt(s->ip.addr, a));
        print(ctx, line);
    }
    const struct net_stack *d = net_route_default(stacks, n);
    if (d)
        snprintf(line, sizeof line, "default via %s dev %s",
                 ipv4_addr_fmt(d->ip.gateway, a), name_of(d));
    else
        snprintf(line, sizeof line, "default none");
    print(ctx, line);
}
