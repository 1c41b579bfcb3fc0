/* Named counters: each layer lists its counters once in an X-macro; the same list
 * makes the struct of uint64_t fields (incremented directly on the hot path) and a
 * table of names and offsets that net_counters_walk prints as "layer.name=value"
 * (the console's `stats`). Thread context; counters are plain fields. */
#ifndef NET_COUNTERS_H
#define NET_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* A line of console output (no newline); ctx is the caller's. */
typedef void (*net_print_fn)(void *ctx, const char *line);

struct net_counter_desc {
    const char *name;
    uint16_t off; /* offsetof the uint64_t field */
};

#define NET_COUNTER_FIELD(name) uint64_t name;
#define NET_COUNTER_DESC(type, name) {#name, (uint16_t)offsetof(type, name)},

/* Prints "<layer>.<name>=<value>" for every counter of one layer's struct. */
void net_counters_walk(const char *layer, const void *stats,
                       const struct net_counter_desc *descs, size_t n, net_print_fn print,
                       void *ctx);
/* The value of one counter by name (tests, console); -1 when unknown. */
int64_t net_counters_find(const void *stats, const struct net_counter_desc *descs,
                          size_t n, const char *name);

#endif
