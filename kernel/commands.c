/* The kernel's own console commands (see kernel/commands.h). */
#include "commands.h"

#include <stdio.h>
#include "console.h"
#include "log.h"
#include "mem.h"
#include "panic.h"
#include "sched.h"
#include "timer.h"

static int cmd_log(int argc, char **argv)
{
    if (argc == 1) {
        printf("log level: %s\n", log_level_name(log_threshold));
        return 0;
    }
    int l = log_level_parse(argv[1]);
    if (argc != 2 || l < 0) {
        printf("usage: log [error|warn|info|debug]\n");
        return 1;
    }
    log_set_level((enum log_level)l);
    printf("log level: %s\n", log_level_name(log_threshold));
    return 0;
}

static int cmd_mem(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct mem_stats m;
    mem_get_stats(&m);
    printf("mem.total_bytes=%llu\nmem.free_bytes=%llu\nmem.heap_bytes=%llu\n"
           "mem.dma_bytes=%llu\n",
           (unsigned long long)m.total_pages * PAGE_SIZE,
           (unsigned long long)m.free_pages * PAGE_SIZE, (unsigned long long)m.heap_bytes,
           (unsigned long long)m.dma_bytes);
    return 0;
}

static int cmd_threads(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct sched_stats s;
    sched_get_stats(&s);
    printf("sched.live=%llu\nsched.spawned=%llu\nsched.exited=%llu\nsched.switches=%llu\n"
           "sched.idle=%llu\n",
           (unsigned long long)s.live, (unsigned long long)s.spawned,
           (unsigned long long)s.exited, (unsigned long long)s.switches,
           (unsigned long long)s.idle_calls);
    return 0;
}

static int cmd_uptime(int argc, char **argv)
{
    (void)argc, (void)argv;
    uint64_t ns = timer_now_ns();
    printf("uptime %llu.%06llu s\n", (unsigned long long)(ns / 1000000000u),
           (unsigned long long)(ns / 1000u % 1000000u));
    return 0;
}

static int cmd_halt(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("halting\n");
    fflush(stdout);
    machine_exit(1);
}

void commands_register(void)
{
    console_register("log", "log [error|warn|info|debug]: show or set the log level",
                     cmd_log);
    console_register("mem", "memory counters", cmd_mem);
    console_register("threads", "scheduler counters", cmd_threads);
    console_register("uptime", "time since boot", cmd_uptime);
    console_register("halt", "stop the machine (QEMU exits)", cmd_halt);
}
