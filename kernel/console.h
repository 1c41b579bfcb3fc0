/* The serial console's command line: a thread reads lines and runs commands from
 * a table that modules extend at init (console_register: kernel/commands.c,
 * kernel/net_commands.c). Output goes through printf. Thread context only. */
#ifndef CONSOLE_H
#define CONSOLE_H

typedef int (*console_cmd_fn)(int argc, char **argv);

/* name and help must stay valid (string literals). Returns -1 when full. */
int console_register(const char *name, const char *help, console_cmd_fn fn);
/* A print_line_fn (kernel/counters.h) for commands: the line and a newline. */
void console_line(void *ctx, const char *line);
/* Runs one command line (also used by tests of the console itself). */
void console_exec(char *line);
/* Starts the console thread. */
void console_start(void);

#endif
