/* The kernel's own console commands: log, mem, threads, uptime, halt. The
 * network's are in kernel/net_commands.c, `help` is the console's. */
#ifndef COMMANDS_H
#define COMMANDS_H

/* Adds them to the console's table (console_start calls it). */
void commands_register(void);

#endif
