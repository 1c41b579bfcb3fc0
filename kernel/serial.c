/* COM1 console: polled output, interrupt-driven input. */
#include "serial.h"

#include <stdint.h>
#include "io.h"
#include "irq.h"
#include "sched.h"

#define COM1 0x3F8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE 0x40
#define COM1_IRQ 4

/* Receive ring: written by the IRQ handler, read by threads. */
#define RX_RING 256
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head; /* IRQ handler writes */
static volatile uint32_t rx_tail; /* threads write */
static struct waitq rx_waiters;   /* shared with the IRQ handler */

void serial_init(void)
{
    outb(COM1 + REG_IER, 0x00);
    outb(COM1 + REG_LCR, 0x80); /* DLAB: divisor follows */
    outb(COM1 + 0, 0x01);       /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + REG_LCR, 0x03); /* 8N1 */
    outb(COM1 + REG_FCR, 0xC7); /* FIFOs on, cleared, 14-byte threshold */
    outb(COM1 + REG_MCR, 0x0B); /* DTR, RTS, OUT2 (OUT2 gates the IRQ line) */
}

#define TX_FIFO 16

/* With the FIFO on, THR empty means the whole 16-byte FIFO is: one status read
 * per 16 bytes instead of per byte (each port access is a VM exit). */
static void put(char c, unsigned *room)
{
    if (*room == 0) {
        while (!(inb(COM1 + REG_LSR) & LSR_THR_EMPTY))
            ;
        *room = TX_FIFO;
    }
    outb(COM1 + REG_DATA, (uint8_t)c);
    (*room)--;
}

void serial_write(const char *s, size_t n)
{
    unsigned room = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            put('\r', &room);
        put(s[i], &room);
    }
}

void serial_drain(void)
{
    while (!(inb(COM1 + REG_LSR) & LSR_TX_IDLE))
        ;
}

static void serial_irq(void *ctx)
{
    (void)ctx;
    while (inb(COM1 + REG_LSR) & LSR_DATA_READY) {
        uint8_t c = inb(COM1 + REG_DATA);
        if (rx_head - rx_tail < RX_RING) {
            rx_ring[rx_head % RX_RING] = c;
            rx_head = rx_head + 1;
        }
    }
    waitq_wake_all(&rx_waiters);
}

void serial_enable_rx_irq(void)
{
    irq_register_legacy(COM1_IRQ, serial_irq, 0);
    outb(COM1 + REG_IER, 0x01); /* received data available */
}

int serial_getc(void)
{
    if (rx_tail == rx_head)
        return -1;
    int c = rx_ring[rx_tail % RX_RING];
    rx_tail = rx_tail + 1;
    return c;
}

int serial_getc_wait(void)
{
    for (;;) {
        int c = serial_getc();
        if (c >= 0)
            return c;
        waitq_wait(&rx_waiters, SCHED_FOREVER);
    }
}
