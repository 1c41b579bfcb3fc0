/* Device interrupts. A handler runs in interrupt context with interrupts masked:
 * it only acknowledges the device and wakes threads (waitq_wake_*). The
 * dispatcher sends the end-of-interrupt (PIC or local APIC) itself. */
#ifndef IRQ_H
#define IRQ_H

#include <stdint.h>

typedef void (*irq_handler_fn)(void *ctx);

/* Legacy INTx line (0-15, from PCI config INTERRUPT_LINE), routed through the
 * remapped 8259 PIC. Lines may be shared: every handler on it is called.
 * Returns 0, or -1 when the line is invalid or the table is full. */
int irq_register_legacy(int line, irq_handler_fn fn, void *ctx);

/* A free IDT vector for MSI/MSI-X that calls fn(ctx); -1 when none is left.
 * Program the device's MSI-X entry with msi_address() and msi_data(vector). */
int irq_alloc_vector(irq_handler_fn fn, void *ctx);
uint64_t msi_address(void);
uint32_t msi_data(int vector);

#endif
