/* Printing and finding named counters (see kernel/counters.h). Console path only. */
#include "kernel/counters.h"

#include <inttypes.h>
#include <stdio.h>

static uint64_t value_at(const void *stats, uint16_t off)
{
    uint64_t v;
    memcpy(&v, (const uint8_t *)stats + off, sizeof v);
    return v;
}

void counters_print(const char *prefix, const struct counter_table *t, const void *stats,
                    print_line_fn print, void *ctx)
{
    char line[96];
    for (uint16_t i = 0; i < t->n; i++) {
        snprintf(line, sizeof line, "%s.%s=%" PRIu64, prefix, t->descs[i].name,
                 value_at(stats, t->descs[i].off));
        print(ctx, line);
    }
}

int64_t counters_find(const struct counter_table *t, const void *stats, const char *name)
{
    for (uint16_t i = 0; i < t->n; i++)
        if (strcmp(t->descs[i].name, name) == 0)
            return (int64_t)value_at(stats, t->descs[i].off);
    return -1;
}
