/* The boot's time line (see kernel/bootsteps.h). */
#include "bootsteps.h"

#include <stdio.h>
#include "io.h"
#include "log.h"
#include "timer.h"

#define MAX_STEPS 64
#define COM1_SCRATCH 0x3FF

extern uint64_t boot_entry_tsc; /* boot/boot.S */

struct step {
    const char *name;
    uint64_t tsc;
};
static struct step steps[MAX_STEPS];
static int nsteps;

void boot_step(const char *name)
{
    if (nsteps < MAX_STEPS)
        steps[nsteps++] = (struct step){name, timer_rdtsc()};
    outb(COM1_SCRATCH, (uint8_t)nsteps);
}

/* Guest time of step i from the TSC alone, at the calibrated rate: the clock's
 * own conversion (timer_tsc_to_ns) counts readings taken before its rate was
 * refined from the later base, and can put the first steps before zero. */
static uint64_t us_at(int i)
{
    uint64_t zero = timer_boot_tsc(), hz = timer_tsc_hz();
    if (!hz || steps[i].tsc < zero)
        return 0;
    return (uint64_t)((unsigned __int128)(steps[i].tsc - zero) * 1000000u / hz);
}

/* From _start to kmain's first instruction (timer_boot_mark: guest time 0). */
static uint64_t entry_us(void)
{
    uint64_t zero = timer_boot_tsc();
    if (!boot_entry_tsc || boot_entry_tsc > zero || !timer_tsc_hz())
        return 0;
    return (zero - boot_entry_tsc) * 1000000u / timer_tsc_hz();
}

void boot_steps_print(print_line_fn print, void *ctx)
{
    char line[96];
    snprintf(line, sizeof line, "boot.entry_us=%llu", (unsigned long long)entry_us());
    print(ctx, line);
    for (int i = 0; i < nsteps; i++) {
        uint64_t end = us_at(i), start = i ? us_at(i - 1) : 0;
        snprintf(line, sizeof line, "boot.%s_us=%llu (+%llu)", steps[i].name,
                 (unsigned long long)end, (unsigned long long)(end - start));
        print(ctx, line);
    }
}

void boot_steps_log(void)
{
    if (log_threshold < LOG_DEBUG)
        return;
    char line[400];
    size_t n = 0;
    line[0] = 0;
    for (int i = 0; i < nsteps && n < sizeof line; i++) {
        uint64_t end = us_at(i), start = i ? us_at(i - 1) : 0;
        n += (size_t)snprintf(line + n, sizeof line - n, " %s +%llu", steps[i].name,
                              (unsigned long long)(end - start));
    }
    log_debug("kernel", "boot steps (us): entry %llu,%s", (unsigned long long)entry_us(),
              line);
}
