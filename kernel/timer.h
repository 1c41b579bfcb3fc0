/* Time: a monotonic nanosecond clock from the TSC (kernel/timer.c) and a one-shot
 * timer interrupt programmed for the scheduler's next deadline
 * (kernel/timer_event.c). There is no periodic tick: an idle kernel with nothing
 * to wait for takes no interrupts at all. */
#ifndef TIMER_H
#define TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "cmdline.h"

/* The local APIC timer's divide configuration: 0x3 = divide by 16 (QEMU's APIC
 * counts 1 GHz / 16: 16 ns resolution, 68 s of range in 32 bits). */
#define TIMER_LAPIC_DIV_CODE 0x3u

/* Boot, in this order: timer_boot_mark first thing in kmain (the clock's zero);
 * timer_calibrate_begin once the local APIC is enabled (the calibration window
 * opens: the PIT's channel 2 and the local APIC timer start counting);
 * timer_init (the window closes, waiting only if it has been open less than a
 * millisecond); timer_start (the one-shot timer, after the command line). */
void timer_boot_mark(void);
uint64_t timer_boot_tsc(void); /* the TSC at timer_boot_mark: guest time 0 */
void timer_calibrate_begin(void);
void timer_init(void);

uint64_t timer_rdtsc(void);
uint64_t timer_now_ns(void);
uint64_t timer_tsc_to_ns(uint64_t tsc);
uint64_t timer_ns_to_tsc(uint64_t ns);       /* absolute, rounded up */
uint64_t timer_ns_to_tsc_delta(uint64_t ns); /* a duration, rounded up */
uint64_t timer_tsc_hz(void);
const char *timer_rate_source(void);        /* "PIT", "PIT, refined", "CPUID 0x15", ... */
uint64_t timer_calibration_window_ns(void); /* the PIT window of the current rate */

/* For kernel/timer_event.c, interrupts masked. timer_calibrate_idle, at every
 * arm until it returns UINT64_MAX: the first call takes the local APIC timer's
 * rate (its window ends), later ones refine the TSC's rate once the PIT window
 * is long enough; it returns the time to wake for that (UINT64_MAX: done). */
uint64_t timer_calibrate_idle(uint64_t now_ns);
bool timer_lapic_counts(void);             /* the LAPIC timer counted in the window */
uint64_t timer_lapic_per_tsc_q32(void);    /* LAPIC ticks per TSC tick (32.32), 0: none */
uint64_t timer_lapic_margin_ppm(void);     /* how much that rate was raised for safety */
void timer_lapic_raise_rate(uint64_t q32); /* a one-shot came early: at least q32 */

/* The self-test's check of the clock against the PIT (channel 2, an independent
 * counter): start, let time pass (under 55 ms), end gives both elapsed times;
 * false when the PIT's count wrapped meanwhile. Restarts the calibration
 * window's counters, so only after timer_init. */
struct timer_pit_probe {
    uint64_t tsc;
    uint32_t count;
};
void timer_pit_probe_start(struct timer_pit_probe *p);
bool timer_pit_probe_end(const struct timer_pit_probe *p, uint64_t *pit_ns,
                         uint64_t *clock_ns);

/* The one-shot timer. timer_start picks the source (KTIMER_AUTO: TSC-deadline
 * where CPUID offers it, else the local APIC in one-shot mode; the PIT when the
 * local APIC timer could not be measured) and returns it. */
enum ktimer timer_start(enum ktimer want);
/* An interrupt at or soon after deadline_ns; UINT64_MAX disarms. Interrupts
 * masked (the idle path). Re-arming for the same deadline costs nothing; a
 * deadline beyond the source's range fires early and the caller re-arms. */
void timer_arm(uint64_t deadline_ns);

struct timer_stats {
    enum ktimer source;
    uint64_t arms;       /* the hardware programmed (re-arms for the same deadline not) */
    uint64_t disarms;    /* the hardware stopped: nothing pending */
    uint64_t interrupts; /* timer interrupts taken */
    uint64_t early;      /* of which before the time they were armed for */
    uint64_t stale;      /* of which so early they were an older arm's (not a rate) */
    uint64_t capped;     /* arms beyond the source's range (fire early on purpose) */
    uint64_t late_max_ns; /* the latest a timer interrupt came after its time */
};
void timer_get_stats(struct timer_stats *out);

#endif
