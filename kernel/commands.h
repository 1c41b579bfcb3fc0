/* The kernel's own console commands: log, mem, threads, uptime, halt. The
 * network's are in kernel/net_commands.c, `help` is the console's. */
#ifndef COMMANDS_H
#define COMMANDS_H

#include "kernel/counters.h"

/* Adds them to the console's table (console_start calls it). */
void commands_register(void);
/* What `mem` and `threads` print ("mem.free_bytes=...", "sched.live=..."), for
 * `stats`. */
void kernel_counters_print(print_line_fn print, void *ctx);

#endif
