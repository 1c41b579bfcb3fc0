/* Console thread and the built-in commands (help, log, mem, threads, uptime). */
#include "console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "mem.h"
#include "panic.h"
#include "sched.h"
#include "serial.h"
#include "timer.h"

#define MAX_CMDS 32
#define MAX_ARGS 8
#define LINE_MAX_LEN 160

static struct {
    const char *name, *help;
    console_cmd_fn fn;
} cmds[MAX_CMDS];
static int ncmds;

int console_register(const char *name, const char *help, console_cmd_fn fn)
{
    if (ncmds == MAX_CMDS)
        return -1;
    cmds[ncmds].name = name;
    cmds[ncmds].help = help;
    cmds[ncmds].fn = fn;
    ncmds++;
    return 0;
}

static int cmd_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (int i = 0; i < ncmds; i++)
        printf("  %-10s %s\n", cmds[i].name, cmds[i].help);
    return 0;
}

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
    struct timer_stats t;
    timer_get_stats(&t);
    printf("timer.source=%s\ntimer.arms=%llu\ntimer.disarms=%llu\ntimer.interrupts=%llu\n"
           "timer.early=%llu\ntimer.capped=%llu\ntimer.late_max_us=%llu\n"
           "clock.tsc_khz=%llu\nclock.rate_from=%s\n",
           ktimer_name(t.source), (unsigned long long)t.arms,
           (unsigned long long)t.disarms, (unsigned long long)t.interrupts,
           (unsigned long long)t.early, (unsigned long long)t.capped,
           (unsigned long long)(t.late_max_ns / 1000),
           (unsigned long long)(timer_tsc_hz() / 1000), timer_rate_source());
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

void console_exec(char *line)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    for (char *t = strtok(line, " \t"); t; t = strtok(NULL, " \t")) {
        if (argc == MAX_ARGS) {
            printf("too many arguments (at most %d)\n", MAX_ARGS - 1);
            return;
        }
        argv[argc++] = t;
    }
    if (argc == 0)
        return;
    for (int i = 0; i < ncmds; i++) {
        if (strcmp(cmds[i].name, argv[0]) == 0) {
            cmds[i].fn(argc, argv);
            fflush(stdout);
            return;
        }
    }
    printf("unknown command '%s'; type 'help' for the list\n", argv[0]);
    fflush(stdout);
}

/* Reads a line with echo and backspace; returns its length. */
static size_t read_line(char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        int c = serial_getc_wait();
        if (c == '\r' || c == '\n') {
            serial_write("\n", 1);
            buf[n] = 0;
            return n;
        }
        if ((c == 0x7F || c == 0x08) && n > 0) {
            n--;
            serial_write("\b \b", 3);
        } else if (c >= ' ' && c < 0x7F && n < cap - 1) {
            buf[n++] = (char)c;
            char ch = (char)c;
            serial_write(&ch, 1);
        }
    }
}

static void console_thread(void *arg)
{
    (void)arg;
    char line[LINE_MAX_LEN];
    for (;;) {
        serial_write("> ", 2);
        if (read_line(line, sizeof line) > 0)
            console_exec(line);
    }
}

void console_start(void)
{
    console_register("help", "list commands", cmd_help);
    console_register("log", "log [error|warn|info|debug]: show or set the log level",
                     cmd_log);
    console_register("mem", "memory counters", cmd_mem);
    console_register("threads", "scheduler, timer and clock counters", cmd_threads);
    console_register("uptime", "time since boot", cmd_uptime);
    console_register("halt", "stop the machine (QEMU exits)", cmd_halt);
    serial_enable_rx_irq();
    struct thread *t = thread_spawn("console", console_thread, NULL, 0);
    if (!t)
        panic("console: cannot start its thread");
    thread_detach(t);
}
