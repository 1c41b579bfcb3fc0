/* Walking named counters (see net/counters.h). Console path only. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "net/counters.h"

static uint64_t value_at(const void *stats, uint16_t off)
{
    uint64_t v;
    memcpy(&v, (const uint8_t *)stats + off, sizeof v);
    return v;
}

void net_counters_walk(const char *layer, const void *stats,
                       const struct net_counter_desc *descs, size_t n, net_print_fn print,
                       void *ctx)
{
    char line[96];
    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof line, "%s.%s=%" PRIu64, layer, descs[i].name,
                 value_at(stats, descs[i].off));
        print(ctx, line);
    }
}

int64_t net_counters_find(const void *stats, const struct net_counter_desc *descs,
                          size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(descs[i].name, name) == 0)
            return (int64_t)value_at(stats, descs[i].off);
    return -1;
}
