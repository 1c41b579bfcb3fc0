/* Page-table changes on top of the boot identity map (4 GiB of 2 MiB pages):
 * splitting a 2 MiB page into 4 KiB pages where finer control is needed, guard
 * pages, and W^X for the kernel image. Thread context only. */
#ifndef VM_H
#define VM_H

/* Enforces: page 0 unmapped, text read-only+executable, rodata read-only, data,
 * bss, stacks, heap and all other memory non-executable (when the CPU has NX).
 * Returns whether NX is in force. */
int vm_protect_kernel(void);

#endif
