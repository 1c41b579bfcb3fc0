/* Boot-time secrets (TCP's key for ISNs, SYN cookies and ephemeral ports):
 * RDRAND where CPUID says the CPU has it, mixed with timing jitter; without it
 * the jitter alone: TSC readings around I/O port accesses (each one an exit to
 * the hypervisor, whose duration the guest cannot predict) and the RTC's date
 * and time, so that two boots differ. Thread context, at boot. */
#ifndef ENTROPY_H
#define ENTROPY_H

#include <stddef.h>

enum entropy_source {
    ENTROPY_RDRAND, /* RDRAND, mixed with the jitter */
    ENTROPY_JITTER, /* TSC readings and the RTC only (weaker) */
};

/* Fills out with n secret bytes; says where they came from. */
enum entropy_source entropy_fill(void *out, size_t n);
const char *entropy_source_name(enum entropy_source s);

#endif
