/* The boot's time line: the TSC at the end of each init step, recorded without
 * printing anything (a log line on the boot path costs more than most steps),
 * shown afterwards by the console's `boot` and, at log=debug, once the kernel is
 * ready. Guest time since kmain's first instruction (timer_boot_mark); `entry`
 * is the time before it, from the loader's jump to _start (boot/boot.S).
 *
 * Each step also writes its number to COM1's scratch register, which does
 * nothing but shows in QEMU's `-trace serial_write`: beside `-d in_asm`, that
 * attributes the code QEMU translated to the step that ran it
 * (tests/bench/boot_steps.py --tbs). */
#ifndef BOOTSTEPS_H
#define BOOTSTEPS_H

#include "kernel/counters.h"

/* The step that just ended; name is a string literal. Steps beyond the table's
 * room are dropped. */
void boot_step(const char *name);
/* "boot.entry_us=<duration>", then one line per step:
 * "boot.<name>_us=<end> (+<duration>)". */
void boot_steps_print(print_line_fn print, void *ctx);
/* The whole time line in one line, at log=debug. */
void boot_steps_log(void);

#endif
