/* The clock: the TSC, counted from kmain's first instruction.
 *
 * Its rate comes from CPUID when the CPU or the hypervisor states it (leaf 0x15,
 * leaf 0x40000010); otherwise it is measured against the PIT's channel 2, which
 * counts down freely from timer_calibrate_begin on. timer_init takes a first
 * rate from the window so far (it waits only while the window is shorter than
 * PROVISIONAL_NS: the boot path's log time stamps need some rate), and the
 * idle path refines it once the window is REFINE_NS long (timer_calibrate_idle),
 * rebasing the clock so that it stays continuous and monotonic.
 *
 * The local APIC timer counts down freely over the same window, for the
 * one-shot timer (kernel/timer_event.c): its rate against the TSC is taken when
 * the timer is first needed, at the first idle, so the whole boot is its window.
 *
 * Each reading brackets the counter's read between two TSC reads and keeps the
 * narrowest of a few: a read during which the host took the vCPU away is not the
 * one kept, and the bracket's width bounds the reading's error. */
#include "timer.h"

#include "io.h"
#include "irq.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_61 0x61
#define PORT_61_OUT2 0x20 /* channel 2's output: high once the count ran out */
#define PROVISIONAL_NS 250000u
#define REFINE_NS 20000000u
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0
#define LAPIC_LVT_TIMER 0x320
#define LVT_MASKED (1u << 16)

/* One reading of a counter beside the TSC: the TSC at the middle of the read
 * and the bracket's width. */
struct sample {
    uint64_t tsc, width;
    uint32_t count;
};

static uint64_t tsc0;              /* kmain's first instruction */
static uint64_t base_tsc, base_ns; /* the clock is base_ns + (tsc - base_tsc) * rate */
static uint64_t tsc_hz;            /* 0 until timer_init */
static uint64_t ns_per_tsc_q32;    /* nanoseconds per TSC tick, 32.32 fixed point */
static uint64_t tsc_per_ns_q32;    /* TSC ticks per nanosecond, 32.32 fixed point */
static struct sample pit_start, lapic_start;
static bool rate_final; /* CPUID's, or refined over REFINE_NS */
static bool lapic_measured;
static uint64_t lapic_per_tsc_q32;
static uint64_t lapic_margin_ppm;
static uint64_t window_ns; /* the PIT window the rate comes from */
static const char *rate_source = "none";

uint64_t timer_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(0));
}

/* PIT channel 2's current count (latched, so the two bytes belong together). */
static uint32_t pit2_count(void)
{
    outb(PIT_CMD, 0x80);
    uint8_t lo = inb(PIT_CH2);
    uint8_t hi = inb(PIT_CH2);
    return (uint32_t)(hi << 8 | lo);
}

static uint32_t lapic_count(void)
{
    return lapic_read(LAPIC_TIMER_CUR);
}

static struct sample sample(uint32_t (*read)(void))
{
    struct sample best = {0, UINT64_MAX, 0};
    for (int i = 0; i < 4; i++) {
        uint64_t t0 = timer_rdtsc();
        uint32_t c = read();
        uint64_t t1 = timer_rdtsc();
        if (t1 - t0 < best.width)
            best = (struct sample){t0 + (t1 - t0) / 2, t1 - t0, c};
    }
    return best;
}

/* The PIT's channel 2 ran out (its 16-bit count wrapped after ~55 ms): the
 * window is useless, a new one must be opened. */
static bool pit_wrapped(void)
{
    return (inb(PORT_61) & PORT_61_OUT2) != 0;
}

static void pit2_start(void)
{
    outb(PORT_61, (uint8_t)((inb(PORT_61) & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(PIT_CMD, 0xB0); /* channel 2, lo/hi byte, mode 0 */
    outb(PIT_CH2, 0xFF);
    outb(PIT_CH2, 0xFF);
    pit_start = sample(pit2_count);
}

void timer_boot_mark(void)
{
    tsc0 = base_tsc = timer_rdtsc();
}

uint64_t timer_boot_tsc(void)
{
    return tsc0;
}

void timer_calibrate_begin(void)
{
    pit2_start();
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
    lapic_write(LAPIC_TIMER_DIV, TIMER_LAPIC_DIV_CODE);
    lapic_write(LAPIC_TIMER_INIT, 0xFFFFFFFFu);
    lapic_start = sample(lapic_count);
}

/* The TSC rate the CPU or the hypervisor states, or 0. Leaf 0x15: TSC =
 * crystal * EBX / EAX (ECX, the crystal, may be 0: then unknown). Leaf
 * 0x40000010 (KVM, VMware): EAX = TSC kHz. */
static uint64_t cpuid_tsc_hz(const char **src)
{
    uint32_t r[4];
    cpuid(0, r);
    if (r[0] >= 0x15) {
        cpuid(0x15, r);
        if (r[0] && r[1] && r[2]) {
            *src = "CPUID 0x15";
            return (uint64_t)r[2] * r[1] / r[0];
        }
    }
    cpuid(1, r);
    if (r[2] & (1u << 31)) {
        cpuid(0x40000000u, r);
        if (r[0] >= 0x40000010u) {
            cpuid(0x40000010u, r);
            if (r[0]) {
                *src = "CPUID 0x40000010";
                return (uint64_t)r[0] * 1000u;
            }
        }
    }
    return 0;
}

/* A new rate from here on, the clock continuous at the switch. Interrupts
 * masked (handlers read the clock). */
static void set_rate(uint64_t hz)
{
    if (tsc_hz) { /* a refinement: rebase at now (the first rate counts from tsc0) */
        uint64_t now_tsc = timer_rdtsc();
        base_ns = timer_tsc_to_ns(now_tsc);
        base_tsc = now_tsc;
    }
    tsc_hz = hz;
    ns_per_tsc_q32 = (uint64_t)((1000000000ull << 32) / hz);
    tsc_per_ns_q32 = (uint64_t)(((unsigned __int128)hz << 32) / 1000000000u);
}

/* The rate over the PIT window so far, once it is at least min_ns long (of PIT
 * time, judged by the provisional rate when there is one); 0 when not yet, or
 * when the window wrapped (a new one is opened). */
static uint64_t pit_rate(uint64_t min_ns)
{
    struct sample end = sample(pit2_count);
    if (pit_wrapped()) {
        pit2_start();
        return 0;
    }
    uint64_t ticks = pit_start.count - end.count;
    if (ticks * 1000000000ull < (uint64_t)min_ns * PIT_HZ || ticks == 0)
        return 0;
    window_ns = ticks * 1000000000ull / PIT_HZ;
    return (end.tsc - pit_start.tsc) * PIT_HZ / ticks;
}

void timer_init(void)
{
    uint64_t hz = cpuid_tsc_hz(&rate_source);
    rate_final = hz != 0;
    if (!hz) {
        rate_source = "PIT";
        /* A PIT that does not count (a machine without one) must not hang the
         * boot: after a million readings, assume 1 GHz and say so. */
        for (int i = 0; i < 1000000 && (hz = pit_rate(PROVISIONAL_NS)) == 0; i++)
            ;
        if (!hz) {
            hz = 1000000000u;
            rate_source = "nothing (the PIT did not count): 1 GHz assumed";
            rate_final = true;
        }
    }
    set_rate(hz);
}

/* The LAPIC timer's rate, from the boot-long window, with a margin for the
 * two readings' errors: a rate a little too high only makes a one-shot a
 * little late, one too low makes it early (and costs a second interrupt). */
static void lapic_close_window(void)
{
    struct sample end = sample(lapic_count);
    lapic_write(LAPIC_TIMER_INIT, 0);
    lapic_measured = true;
    uint64_t dtsc = end.tsc - lapic_start.tsc;
    uint64_t ticks = lapic_start.count - end.count;
    if (end.count == 0 || ticks == 0 || dtsc == 0)
        return; /* ran out (68 s) or never counted: no LAPIC timer */
    lapic_margin_ppm =
        (lapic_start.width + end.width) * 1000000u / dtsc + 1000000u / ticks + 20;
    uint64_t r = (uint64_t)(((unsigned __int128)ticks << 32) / dtsc);
    lapic_per_tsc_q32 =
        r + (uint64_t)((unsigned __int128)r * lapic_margin_ppm / 1000000u);
}

uint64_t timer_calibrate_idle(uint64_t now_ns)
{
    (void)now_ns;
    if (!lapic_measured)
        lapic_close_window();
    if (rate_final)
        return UINT64_MAX;
    uint64_t hz = pit_rate(REFINE_NS);
    if (hz) {
        set_rate(hz);
        rate_final = true;
        rate_source = "PIT, refined";
        return UINT64_MAX;
    }
    /* Not long enough yet (or a new window): wake when it will be. */
    return timer_tsc_to_ns(pit_start.tsc) + REFINE_NS + REFINE_NS / 8;
}

uint64_t timer_tsc_to_ns(uint64_t tsc)
{
    if (!tsc_hz)
        return 0;
    if (tsc < base_tsc) /* a reading from before a rebase */
        return base_ns -
               (uint64_t)(((unsigned __int128)(base_tsc - tsc) * ns_per_tsc_q32) >> 32);
    return base_ns +
           (uint64_t)(((unsigned __int128)(tsc - base_tsc) * ns_per_tsc_q32) >> 32);
}

uint64_t timer_now_ns(void)
{
    return timer_tsc_to_ns(timer_rdtsc());
}

/* Rounded up, so a deadline converted to TSC ticks is never early. */
uint64_t timer_ns_to_tsc_delta(uint64_t ns)
{
    return (uint64_t)(((unsigned __int128)ns * tsc_per_ns_q32) >> 32) + 1;
}

uint64_t timer_ns_to_tsc(uint64_t ns)
{
    if (ns <= base_ns)
        return base_tsc;
    return base_tsc + timer_ns_to_tsc_delta(ns - base_ns);
}

uint64_t timer_tsc_hz(void)
{
    return tsc_hz;
}

const char *timer_rate_source(void)
{
    return rate_source;
}

uint64_t timer_calibration_window_ns(void)
{
    return window_ns;
}

bool timer_lapic_counts(void)
{
    return lapic_count() < lapic_start.count;
}

uint64_t timer_lapic_per_tsc_q32(void)
{
    return lapic_per_tsc_q32;
}

uint64_t timer_lapic_margin_ppm(void)
{
    return lapic_margin_ppm;
}

void timer_lapic_raise_rate(uint64_t q32)
{
    if (q32 > lapic_per_tsc_q32)
        lapic_per_tsc_q32 = q32;
}

/* ------------------------------------------------------------ self-test probe */

void timer_pit_probe_start(struct timer_pit_probe *p)
{
    pit2_start();
    p->tsc = pit_start.tsc;
    p->count = pit_start.count;
}

bool timer_pit_probe_end(const struct timer_pit_probe *p, uint64_t *pit_ns,
                         uint64_t *clock_ns)
{
    struct sample end = sample(pit2_count);
    if (pit_wrapped())
        return false;
    *pit_ns = (uint64_t)(p->count - end.count) * 1000000000ull / PIT_HZ;
    *clock_ns = timer_tsc_to_ns(end.tsc) - timer_tsc_to_ns(p->tsc);
    return true;
}
