/* PIT (8254) + TSC clock. */
#include "timer.h"

#include "io.h"
#include "irq.h"

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_61 0x61
#define TICK_HZ 1000u
#define CALIBRATE_MS 10u

static uint64_t tsc0;
static uint64_t tsc_hz;
static uint64_t ns_per_tick_q32; /* nanoseconds per TSC tick, 32.32 fixed point */
static volatile uint64_t ticks;  /* written by the timer interrupt */

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* PIT channel 2's current count (latched, so the two bytes belong together). */
static uint16_t pit2_count(void)
{
    outb(PIT_CMD, 0x80); /* latch channel 2 */
    uint8_t lo = inb(PIT_CH2);
    uint8_t hi = inb(PIT_CH2);
    return (uint16_t)(hi << 8 | lo);
}

/* A (TSC, PIT count) pair read as close together as we can: of a few tries, the
 * one whose TSC bracket around the PIT read is narrowest. */
static void sample(uint64_t *tsc, uint16_t *count)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = rdtsc();
        uint16_t c = pit2_count();
        uint64_t t1 = rdtsc();
        if (t1 - t0 < best) {
            best = t1 - t0;
            *tsc = t0 + (t1 - t0) / 2;
            *count = c;
        }
    }
}

/* The TSC's rate against PIT channel 2 counting down freely. Reading the count
 * itself at both ends (rather than waiting for the terminal count) makes a host
 * that deschedules QEMU's vCPU in between harmless: only the two short reads
 * must not be interrupted, and sample() picks the tightest of several. */
static uint64_t calibrate(void)
{
    const uint16_t span = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
    outb(PORT_61, (uint8_t)((inb(PORT_61) & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(PIT_CMD, 0xB0); /* channel 2, lo/hi byte, mode 0 */
    outb(PIT_CH2, 0xFF);
    outb(PIT_CH2, 0xFF);
    uint64_t t0, t1;
    uint16_t c0, c1;
    sample(&t0, &c0);
    do
        sample(&t1, &c1);
    while ((uint16_t)(c0 - c1) < span && c1 <= c0);
    uint64_t pit_ticks = (uint16_t)(c0 - c1);
    if (pit_ticks == 0)
        return 0;
    return (t1 - t0) * PIT_HZ / pit_ticks;
}

static void tick(void *ctx)
{
    (void)ctx;
    ticks = ticks + 1;
}

void timer_init(void)
{
    tsc0 = rdtsc();
    tsc_hz = calibrate();
    if (tsc_hz == 0)
        tsc_hz = 1000000000u;
    ns_per_tick_q32 = (1000000000ull << 32) / tsc_hz;
    uint16_t div = (uint16_t)(PIT_HZ / TICK_HZ);
    outb(PIT_CMD, 0x34); /* channel 0, lo/hi byte, mode 2 (rate generator) */
    outb(PIT_CH0, (uint8_t)div);
    outb(PIT_CH0, (uint8_t)(div >> 8));
    irq_register_legacy(0, tick, 0);
}

uint64_t timer_now_ns(void)
{
    if (!tsc_hz)
        return 0;
    return (uint64_t)(((unsigned __int128)(rdtsc() - tsc0) * ns_per_tick_q32) >> 32);
}

uint64_t timer_tsc_hz(void)
{
    return tsc_hz;
}
uint64_t timer_ticks(void)
{
    return ticks;
}
