/* Console commands over the driver's and the stack's counters. */
#include "netglue.h"

#include <stdio.h>
#include "console.h"
#include "drivers/virtio_net.h"
#include "irq.h"
#include "mem.h"
#include "sched.h"

static void print_vnet_stat(void *arg, const char *dev, const char *name, uint64_t v)
{
    (void)arg;
    printf("%s.%s=%llu\n", dev, name, (unsigned long long)v);
}

static int cmd_stats(int argc, char **argv)
{
    (void)argc, (void)argv;
    vnet_stats_walk(print_vnet_stat, NULL);
    struct mem_stats m;
    mem_get_stats(&m);
    printf("mem.free_bytes=%llu\nmem.dma_bytes=%llu\nmem.heap_bytes=%llu\n",
           (unsigned long long)m.free_pages * PAGE_SIZE, (unsigned long long)m.dma_bytes,
           (unsigned long long)m.heap_bytes);
    struct sched_stats s;
    sched_get_stats(&s);
    printf("sched.live=%llu\nsched.switches=%llu\n", (unsigned long long)s.live,
           (unsigned long long)s.switches);
    return 0;
}

void netglue_start(const struct kconfig *cfg)
{
    (void)cfg;
    console_register("stats", "every counter of every layer, name=value", cmd_stats);
}
