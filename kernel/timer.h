/* Time: a monotonic nanosecond clock from the TSC (calibrated against the PIT at
 * boot) and the PIT's periodic 1 kHz interrupt, which only exists to end hlt so
 * that the scheduler sees expired deadlines. */
#ifndef TIMER_H
#define TIMER_H

#include <stdint.h>

void timer_init(void);
uint64_t timer_now_ns(void);
uint64_t timer_tsc_hz(void);
uint64_t timer_ticks(void);

#endif
