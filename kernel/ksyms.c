/* Symbol lookup over the generated, address-sorted table. */
#include "ksyms.h"

#include <stddef.h>

struct ksym {
    uint64_t addr;
    const char *name;
};

/* Defined by the generated table in the final link; empty in the first. */
extern const struct ksym ksym_table[] __attribute__((weak));
extern const uint64_t ksym_count __attribute__((weak));
extern char __text_start[], __text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
    if (!&ksym_count || addr < (uint64_t)(uintptr_t)__text_start ||
        addr >= (uint64_t)(uintptr_t)__text_end)
        return NULL;
    size_t lo = 0, hi = ksym_count;
    while (lo < hi) { /* first entry above addr */
        size_t mid = (lo + hi) / 2;
        if (ksym_table[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    *offset = addr - ksym_table[lo - 1].addr;
    return ksym_table[lo - 1].name;
}
