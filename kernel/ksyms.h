/* The kernel's own function symbols, for backtraces. The build links the kernel
 * twice: the second link gets a table generated from the first (kernel/ksyms.sh),
 * placed after everything else so no function moves. */
#ifndef KSYMS_H
#define KSYMS_H

#include <stdint.h>

/* Name of the function containing addr and the offset into it; NULL if unknown. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

#endif
