/* The 16550 UART on COM1 (0x3F8), 115200 8N1: the console. Output is polled
 * (safe from any context, including panics); input arrives by interrupt (IRQ 4)
 * into a small ring that the console thread reads. */
#ifndef SERIAL_H
#define SERIAL_H

#include <stddef.h>

void serial_init(void);
void serial_write(const char *s, size_t n);
/* Wait until the transmitter has sent everything (before QEMU exits). */
void serial_drain(void);
/* Turn on receive interrupts (after the IDT and PIC are up). */
void serial_enable_rx_irq(void);
/* Next received byte, or -1 when none is waiting. Thread context. */
int serial_getc(void);
/* Blocks the calling thread until a byte arrives. */
int serial_getc_wait(void);

#endif
