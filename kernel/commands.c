/* The kernel's own console commands (see kernel/commands.h). */
#include "commands.h"
#include "bootsteps.h"

#include <malloc.h>
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

/* What `mem` and `threads` print, as counter registries ("mem.free_bytes=..."). */
#define MEM_REPORT(X)                                                                    \
    X(total_bytes) X(free_bytes) X(heap_bytes) X(heap_used_bytes) X(dma_bytes)
struct mem_report {
    MEM_REPORT(COUNTER_FIELD)
};
#define MEM_DESC(n) COUNTER_DESC(struct mem_report, n)
static const struct counter_table mem_table = COUNTER_REGISTRY(MEM_REPORT, MEM_DESC);

#define SCHED_REPORT(X) X(live) X(spawned) X(exited) X(switches) X(idle)
struct sched_report {
    SCHED_REPORT(COUNTER_FIELD)
};
#define SCHED_DESC(n) COUNTER_DESC(struct sched_report, n)
static const struct counter_table sched_table =
    COUNTER_REGISTRY(SCHED_REPORT, SCHED_DESC);

#define TIMER_REPORT(X)                                                                  \
    X(arms) X(disarms) X(interrupts) X(early) X(stale) X(capped) X(late_max_us) X(tsc_khz)
struct timer_report {
    TIMER_REPORT(COUNTER_FIELD)
};
#define TIMER_DESC(n) COUNTER_DESC(struct timer_report, n)
static const struct counter_table timer_table =
    COUNTER_REGISTRY(TIMER_REPORT, TIMER_DESC);

static void mem_print(print_line_fn print, void *ctx)
{
    struct mem_stats m;
    mem_get_stats(&m);
    /* heap_bytes: what sbrk gave malloc (it never shrinks); heap_used_bytes:
     * what malloc has handed out and not had back (newlib's mallinfo). */
    struct mallinfo mi = mallinfo();
    struct mem_report r = {.total_bytes = m.total_pages * PAGE_SIZE,
                           .free_bytes = m.free_pages * PAGE_SIZE,
                           .heap_bytes = m.heap_bytes,
                           .heap_used_bytes = (uint64_t)mi.uordblks,
                           .dma_bytes = m.dma_bytes};
    counters_print("mem", &mem_table, &r, print, ctx);
}

static void sched_print(print_line_fn print, void *ctx)
{
    struct sched_stats s;
    sched_get_stats(&s);
    struct sched_report r = {.live = s.live,
                             .spawned = s.spawned,
                             .exited = s.exited,
                             .switches = s.switches,
                             .idle = s.idle_calls};
    counters_print("sched", &sched_table, &r, print, ctx);
}

/* The one-shot timer (kernel/timer.c) and the clock: which source, how often
 * armed, how late at worst, the TSC rate and where it came from. */
static void timer_print(print_line_fn print, void *ctx)
{
    struct timer_stats t;
    timer_get_stats(&t);
    struct timer_report r = {.arms = t.arms,
                             .disarms = t.disarms,
                             .interrupts = t.interrupts,
                             .early = t.early,
                             .stale = t.stale,
                             .capped = t.capped,
                             .late_max_us = t.late_max_ns / 1000,
                             .tsc_khz = timer_tsc_hz() / 1000};
    char line[80];
    snprintf(line, sizeof line, "timer.source=%s", ktimer_name(t.source));
    print(ctx, line);
    counters_print("timer", &timer_table, &r, print, ctx);
    snprintf(line, sizeof line, "clock.rate_from=%s", timer_rate_source());
    print(ctx, line);
}

void kernel_counters_print(print_line_fn print, void *ctx)
{
    mem_print(print, ctx);
    sched_print(print, ctx);
}

static int cmd_mem(int argc, char **argv)
{
    (void)argc, (void)argv;
    mem_print(console_line, NULL);
    return 0;
}

static int cmd_threads(int argc, char **argv)
{
    (void)argc, (void)argv;
    sched_print(console_line, NULL);
    timer_print(console_line, NULL);
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

static int cmd_boot(int argc, char **argv)
{
    (void)argc, (void)argv;
    boot_steps_print(console_line, NULL);
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
    console_register("threads", "scheduler, timer and clock counters", cmd_threads);
    console_register("uptime", "time since boot", cmd_uptime);
    console_register("boot", "the boot's steps: guest time at the end of each (us)",
                     cmd_boot);
    console_register("halt", "stop the machine (QEMU exits)", cmd_halt);
}
