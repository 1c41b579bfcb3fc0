/* The console thread, its command table and `help` (see kernel/console.h). */
#include "console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "panic.h"
#include "sched.h"
#include "serial.h"

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

void console_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
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
    commands_register();
    serial_enable_rx_irq();
    struct thread *t = thread_spawn("console", console_thread, NULL, 0);
    if (!t)
        panic("console: cannot start its thread");
    thread_detach(t);
}
