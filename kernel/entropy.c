/* Boot-time secrets (see kernel/entropy.h). The jitter pool is four 64-bit words
 * stirred with every sample by the murmur3 finalizer; RDRAND words (retried as
 * Intel's guide says: it may fail transiently) are XORed over the pool's output. */
#include "entropy.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "io.h"
#include "timer.h"

#define JITTER_ROUNDS 256
#define RDRAND_RETRIES 10
#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define PORT_B 0x61 /* the PC's system control port: a harmless read */

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

struct pool {
    uint64_t s[4];
    unsigned i;
};

static void stir(struct pool *p, uint64_t x)
{
    unsigned a = p->i++ & 3, b = (a + 1) & 3;
    p->s[a] = fmix64(p->s[a] ^ x ^ (p->s[b] << 17 | p->s[b] >> 47));
}

static uint8_t cmos_read(uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}

static void jitter(struct pool *p)
{
    static const uint8_t rtc_regs[] = {0x00, 0x02, 0x04, 0x07, 0x08, 0x09};
    uint64_t rtc = 0;
    for (size_t i = 0; i < sizeof rtc_regs; i++)
        rtc = rtc << 8 | cmos_read(rtc_regs[i]);
    stir(p, rtc);
    for (int r = 0; r < JITTER_ROUNDS; r++) {
        uint64_t t0 = timer_rdtsc();
        uint8_t v = inb(PORT_B);
        v ^= cmos_read(0x00);
        uint64_t t1 = timer_rdtsc();
        stir(p, t0 ^ (t1 - t0) << 40 ^ (uint64_t)v << 56);
    }
}

static void cpuid1(uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(1), "c"(0));
}

static bool has_rdrand(void)
{
    uint32_t r[4];
    cpuid1(r);
    return r[2] & (1u << 30);
}

static bool rdrand64(uint64_t *v)
{
    for (int i = 0; i < RDRAND_RETRIES; i++) {
        uint8_t ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
        if (ok)
            return true;
    }
    return false;
}

enum entropy_source entropy_fill(void *out, size_t n)
{
    struct pool p = {{0x736f6d6570736575ull, 0x646f72616e646f6dull, 0x6c7967656e657261ull,
                      0x7465646279746573ull},
                     0};
    bool rd = has_rdrand();
    uint8_t *o = out;
    jitter(&p);
    for (size_t off = 0; off < n; off += 8) {
        stir(&p, off);
        uint64_t w = p.s[0] ^ p.s[1] ^ p.s[2] ^ p.s[3], r;
        if (rd && rdrand64(&r))
            w ^= r;
        else
            rd = false;
        memcpy(o + off, &w, n - off < 8 ? n - off : 8);
    }
    return rd ? ENTROPY_RDRAND : ENTROPY_JITTER;
}

const char *entropy_source_name(enum entropy_source s)
{
    return s == ENTROPY_RDRAND ? "RDRAND" : "TSC jitter and RTC";
}
