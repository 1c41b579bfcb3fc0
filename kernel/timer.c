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
#define CALIBRATE_MS 20u

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

/* Counts TSC ticks while PIT channel 2 counts down CALIBRATE_MS in mode 0. */
static uint64_t calibrate(void)
{
    uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
    outb(PORT_61, (uint8_t)((inb(PORT_61) & ~0x02) | 0x01)); /* gate on, speaker off */
    outb(PIT_CMD, 0xB0); /* channel 2, lo/hi byte, mode 0 */
    outb(PIT_CH2, (uint8_t)count);
    outb(PIT_CH2, (uint8_t)(count >> 8));
    uint64_t t0 = rdtsc();
    while (!(inb(PORT_61) & 0x20)) /* OUT2 goes high at terminal count */
        ;
    uint64_t t1 = rdtsc();
    return (t1 - t0) * 1000 / CALIBRATE_MS;
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
