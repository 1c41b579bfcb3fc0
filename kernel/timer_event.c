/* The one-shot timer that ends idle at the scheduler's next deadline. Three
 * sources: the local APIC in TSC-deadline mode (where CPUID offers it; QEMU's
 * TCG does not), the local APIC timer in one-shot mode (a count at the rate
 * timer.c measured), and the PIT's channel 0 in mode 0 (at most 55 ms per arm).
 * The interrupt handler only records that the timer fired: the scheduler loop
 * finds the expired deadlines itself when hlt returns. */
#include <stdbool.h>

#include "io.h"
#include "irq.h"
#include "log.h"
#include "platform.h"
#include "timer.h"

#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3E0
#define LVT_ONESHOT 0u
#define LVT_TSC_DEADLINE (2u << 17)
#define MSR_TSC_DEADLINE 0x6E0
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_MAX_COUNT 0xFFFFu

/* Shared with the interrupt handler; changed with interrupts masked. */
static struct timer_stats st;
static bool armed;
static uint64_t armed_for;      /* the deadline the hardware holds */
static uint64_t fires_at;       /* when it fires: armed_for, or sooner when capped */
static uint64_t arm_tsc;        /* LAPIC: the TSC just before the count was written */
static uint32_t arm_count;      /* LAPIC: that count (0: capped, no rate evidence) */
static bool calibrating = true; /* timer_calibrate_idle still has work */

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static bool cpu_has_tsc_deadline(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    return (c & CPUID1_ECX_TSC_DEADLINE) != 0;
}

/* A LAPIC one-shot that came a little early shows the timer counts faster than
 * its rate said: at least arm_count ticks in the TSC ticks since the arm. Only a
 * small correction is believed: an interrupt that was already pending when the
 * timer was re-armed (it fired while interrupts were masked in the scheduler
 * loop) looks hugely early, and taking it for a rate multiplied every later
 * count, so that sleeps after a busy spell never ended. */
#define LAPIC_MAX_CORRECTION_SHIFT 6 /* 1/64: about 1.6 % */
static void lapic_correct(uint64_t tsc)
{
    if (st.source != KTIMER_LAPIC || arm_count == 0 || tsc <= arm_tsc)
        return;
    uint64_t q32 = (uint64_t)(((unsigned __int128)arm_count << 32) / (tsc - arm_tsc));
    uint64_t now_q32 = timer_lapic_per_tsc_q32();
    if (q32 > now_q32 + (now_q32 >> LAPIC_MAX_CORRECTION_SHIFT)) {
        st.stale++;
        return;
    }
    timer_lapic_raise_rate(q32 + q32 / 2048); /* and a little more */
}

static void on_timer(void *ctx)
{
    (void)ctx;
    uint64_t tsc = timer_rdtsc();
    uint64_t now = timer_tsc_to_ns(tsc);
    st.interrupts++;
    if (!armed)
        return; /* a stale one, e.g. the PIT's after a disarm */
    armed = false;
    if (now < fires_at) {
        st.early++;
        lapic_correct(tsc);
    } else if (now - fires_at > st.late_max_ns) {
        st.late_max_ns = now - fires_at;
    }
}

/* ------------------------------------------------------------ the sources */

static void tscd_program(uint64_t deadline_ns, uint64_t now_ns)
{
    (void)now_ns;
    wrmsr(MSR_TSC_DEADLINE, timer_ns_to_tsc(deadline_ns));
    fires_at = deadline_ns;
}

static void tscd_stop(void)
{
    wrmsr(MSR_TSC_DEADLINE, 0);
}

/* A count from now; the rates are each other's (both measured against the TSC
 * in one window), rounded up so the interrupt is never early. */
static void lapic_program(uint64_t deadline_ns, uint64_t now_ns)
{
    uint64_t dtsc = timer_ns_to_tsc_delta(deadline_ns - now_ns);
    unsigned __int128 c = ((unsigned __int128)dtsc * timer_lapic_per_tsc_q32() >> 32) + 1;
    fires_at = deadline_ns;
    arm_count = (uint32_t)c;
    if (c > 0xFFFFFFFFu) {
        c = 0xFFFFFFFFu;
        arm_count = 0;
        st.capped++;
        fires_at = now_ns + (deadline_ns - now_ns) / 2; /* a lower bound is enough */
    }
    arm_tsc = timer_rdtsc();
    lapic_write(LAPIC_TIMER_INIT, (uint32_t)c);
}

static void lapic_stop(void)
{
    lapic_write(LAPIC_TIMER_INIT, 0);
}

static void pit_program(uint64_t deadline_ns, uint64_t now_ns)
{
    uint64_t c = (deadline_ns - now_ns) * PIT_HZ / 1000000000u + 1;
    fires_at = deadline_ns;
    if (c > PIT_MAX_COUNT) {
        c = PIT_MAX_COUNT;
        st.capped++;
        fires_at = now_ns + PIT_MAX_COUNT * 1000000000ull / PIT_HZ - 1000000u;
    }
    outb(PIT_CMD, 0x30); /* channel 0, lo/hi byte, mode 0: one interrupt at 0 */
    outb(PIT_CH0, (uint8_t)c);
    outb(PIT_CH0, (uint8_t)(c >> 8));
}

/* Mode 0 with a count of 1: one last edge, then no transitions at all, so QEMU
 * stops running a timer for it (the BIOS left it at 18.2 Hz). */
static void pit_stop(void)
{
    outb(PIT_CMD, 0x30);
    outb(PIT_CH0, 1);
    outb(PIT_CH0, 0);
}

static void (*program)(uint64_t deadline_ns, uint64_t now_ns);
static void (*stop)(void);

/* ------------------------------------------------------------ interface */

static enum ktimer pick(enum ktimer want)
{
    bool tscd = cpu_has_tsc_deadline();
    bool lapic = timer_lapic_counts();
    if (want == KTIMER_AUTO)
        return tscd ? KTIMER_TSC_DEADLINE : lapic ? KTIMER_LAPIC : KTIMER_PIT;
    if (want == KTIMER_TSC_DEADLINE && !tscd) {
        log_warn("timer", "the CPU has no TSC-deadline mode");
        return lapic ? KTIMER_LAPIC : KTIMER_PIT;
    }
    if (want == KTIMER_LAPIC && !lapic) {
        log_warn("timer", "the local APIC timer did not count");
        return KTIMER_PIT;
    }
    return want;
}

enum ktimer timer_start(enum ktimer want)
{
    st.source = pick(want);
    pit_stop();
    if (st.source == KTIMER_PIT) {
        irq_register_legacy(0, on_timer, 0);
        program = pit_program;
        stop = pit_stop;
    } else {
        int v = irq_alloc_vector(on_timer, 0);
        if (v < 0)
            return timer_start(KTIMER_PIT);
        bool tscd = st.source == KTIMER_TSC_DEADLINE;
        lapic_write(LAPIC_TIMER_DIV, TIMER_LAPIC_DIV_CODE);
        lapic_write(LAPIC_LVT_TIMER,
                    (uint32_t)v | (tscd ? LVT_TSC_DEADLINE : LVT_ONESHOT));
        /* The SDM asks for the mode switch to be ordered before the MSR write. */
        __asm__ volatile("mfence" ::: "memory");
        program = tscd ? tscd_program : lapic_program;
        stop = tscd ? tscd_stop : lapic_stop;
    }
    log_debug("timer", "one-shot timer: %s (TSC %llu kHz from %s)",
              ktimer_name(st.source), (unsigned long long)(timer_tsc_hz() / 1000),
              timer_rate_source());
    return st.source;
}

void timer_arm(uint64_t deadline_ns)
{
    if (!program)
        return;
    if (calibrating) {
        uint64_t wake = timer_calibrate_idle(timer_now_ns());
        calibrating = wake != UINT64_MAX;
        if (st.source == KTIMER_LAPIC && timer_lapic_per_tsc_q32() == 0)
            timer_start(KTIMER_PIT); /* the rate came out unusable */
        deadline_ns = wake < deadline_ns ? wake : deadline_ns;
    }
    if (deadline_ns == UINT64_MAX) {
        if (armed) {
            stop();
            armed = false;
            st.disarms++;
        }
        return;
    }
    if (armed && armed_for == deadline_ns)
        return;
    uint64_t now = timer_now_ns();
    if (deadline_ns < now)
        deadline_ns = now;
    program(deadline_ns, now);
    armed = true;
    armed_for = deadline_ns;
    st.arms++;
}

void timer_get_stats(struct timer_stats *out)
{
    unsigned long flags = plat_irq_save();
    *out = st;
    plat_irq_restore(flags);
}
