/* Port I/O and MMIO accessors, and the compiler/CPU barriers drivers name.
 * x86_64 is strongly ordered for normal memory; the barriers below stop the
 * compiler reordering, and mb() also orders stores before loads. */
#ifndef IO_H
#define IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint8_t mmio_read8(const volatile void *a)
{
    return *(const volatile uint8_t *)a;
}
static inline uint16_t mmio_read16(const volatile void *a)
{
    return *(const volatile uint16_t *)a;
}
static inline uint32_t mmio_read32(const volatile void *a)
{
    return *(const volatile uint32_t *)a;
}
static inline void mmio_write8(volatile void *a, uint8_t v)
{
    *(volatile uint8_t *)a = v;
}
static inline void mmio_write16(volatile void *a, uint16_t v)
{
    *(volatile uint16_t *)a = v;
}
static inline void mmio_write32(volatile void *a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}

/* Compiler barrier: memory accesses are not moved across it. */
#define barrier() __asm__ volatile("" ::: "memory")
/* Full barrier: also orders earlier stores before later loads (x86 allows that
 * one reordering), needed before reading a flag the device may have changed after
 * we published something (e.g. EVENT_IDX checks). */
#define mb() __asm__ volatile("mfence" ::: "memory")

#endif
