/* The kernel self-test (mode=selftest) and the deliberate faults that test the
 * panic paths (mode=stackoverflow, nullderef, wx, stacksmash). */
#ifndef SELFTEST_H
#define SELFTEST_H

#include "cmdline.h"

/* Runs every check, prints one line per failure and a summary line
 * "selftest: N passed, M failed"; returns M. Call from a thread after sched_init. */
int selftest_run(void);
/* Triggers the fault for mode; returns only if nothing faulted. */
void selftest_fault(enum kmode mode);

#endif
