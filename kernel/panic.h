/* Fatal errors: print the cause, the registers and a frame-pointer backtrace on
 * the console, then end QEMU with a failure status (isa-debug-exit). Usable from
 * any context; it never returns. Also the machine's normal exit. */
#ifndef PANIC_H
#define PANIC_H

#include "idt.h"

/* isa-debug-exit: QEMU exits with status (value << 1) | 1. */
#define EXIT_PORT 0xF4
#define EXIT_VALUE_SUCCESS 0x10 /* QEMU exit status 33 */
#define EXIT_VALUE_FAILURE 0x11 /* QEMU exit status 35 */

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
__attribute__((noreturn)) void panic_exception(struct trap_frame *f);
/* Ends the machine: flushes the console, then success or failure exit. */
__attribute__((noreturn)) void machine_exit(int success);
/* Prints return addresses (with symbol names) starting from frame pointer rbp. */
void backtrace_print(uint64_t rip, uint64_t rbp);

#endif
