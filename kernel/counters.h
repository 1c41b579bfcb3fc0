/* Named counters, one mechanism for the stack's layers, the drivers and the
 * console. A layer lists its counters once in an X-macro (X(name) per counter);
 * the same list makes the struct of uint64_t fields (incremented directly on the
 * hot path: COUNTER_FIELD) and the layer's registry, a table of names and
 * offsets (COUNTER_REGISTRY) through which the console prints them as
 * "<prefix>.<name>=<value>" and tests read one by name. Error enums map to
 * counters by table as well: an array indexed by the error holding the offset of
 * the counter it bumps (counter_inc). Portable; thread context (counters are
 * plain fields). */
#ifndef KERNEL_COUNTERS_H
#define KERNEL_COUNTERS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* One line of console output (no newline); ctx is the caller's. */
typedef void (*print_line_fn)(void *ctx, const char *line);

struct counter_desc {
    const char *name;
    uint16_t off; /* offsetof the uint64_t field */
};

/* A layer's registry: its counters in the order they print. */
struct counter_table {
    const struct counter_desc *descs;
    uint16_t n;
};

#define COUNTER_FIELD(name) uint64_t name;
#define COUNTER_OFF(type, name) ((uint16_t)offsetof(type, name))
#define COUNTER_DESC(type, name) {#name, COUNTER_OFF(type, name)},

/* The registry of the stats struct whose fields LIST names, DESC(n) being
 * COUNTER_DESC(<that struct>, n):
 *     #define ETH_DESC(n) COUNTER_DESC(struct eth_stats, n)
 *     const struct counter_table eth_counter_table =
 *         COUNTER_REGISTRY(ETH_COUNTERS, ETH_DESC);                              */
#define COUNTER_REGISTRY(LIST, DESC)                                                     \
    {                                                                                    \
        (const struct counter_desc[]){LIST(DESC)},                                       \
            (uint16_t)(sizeof((const struct counter_desc[]){LIST(DESC)}) /               \
                       sizeof(struct counter_desc))                                      \
    }

/* "<prefix>.<name>=<value>" for every counter of t, read from stats. */
void counters_print(const char *prefix, const struct counter_table *t, const void *stats,
                    print_line_fn print, void *ctx);
/* The value of one counter by name; -1 when t has no such counter. */
int64_t counters_find(const struct counter_table *t, const void *stats, const char *name);

/* Adds one to the counter at offset off of stats (an offset from an error's
 * table). */
static inline void counter_inc(void *stats, uint16_t off)
{
    uint64_t v;
    memcpy(&v, (uint8_t *)stats + off, sizeof v);
    v++;
    memcpy((uint8_t *)stats + off, &v, sizeof v);
}

#endif
