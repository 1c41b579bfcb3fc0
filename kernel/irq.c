/* Device interrupts: the legacy 8259 PICs (remapped to vectors 32-47, every line
 * masked until a handler registers) and the local APIC, which receives MSI/MSI-X
 * messages on vectors handed out from 48 up. */
#include "irq.h"

#include "idt.h"
#include "io.h"
#include "log.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI 0x20

#define LAPIC_BASE_MSR 0x1B
#define LAPIC_ID 0x20
#define LAPIC_EOI 0xB0
#define LAPIC_SVR 0xF0

#define MAX_SHARED 4

struct legacy_handler {
    irq_handler_fn fn;
    void *ctx;
};

/* Set at registration (thread context, line still masked); read in IRQ context. */
static struct legacy_handler legacy[16][MAX_SHARED];
static volatile uint32_t *lapic;
static int next_vector = IDT_DYN_FIRST;

static void pic_set_mask(int line, int masked)
{
    uint16_t port = line < 8 ? PIC1_DATA : PIC2_DATA;
    uint8_t bit = (uint8_t)(1u << (line & 7));
    uint8_t m = inb(port);
    outb(port, masked ? (m | bit) : (m & ~bit));
}

static void pic_eoi(int line)
{
    if (line >= 8)
        outb(PIC2_CMD, PIC_EOI);
    outb(PIC1_CMD, PIC_EOI);
}

/* In-service register: tells a real IRQ 7/15 from a spurious one. */
static uint8_t pic_isr(uint16_t cmd)
{
    outb(cmd, 0x0B);
    return inb(cmd);
}

static void legacy_dispatch(struct trap_frame *f, void *ctx)
{
    (void)ctx;
    int line = (int)f->vector - IDT_PIC_BASE;
    if (line == 7 && !(pic_isr(PIC1_CMD) & 0x80))
        return; /* spurious: no EOI */
    if (line == 15 && !(pic_isr(PIC2_CMD) & 0x80)) {
        outb(PIC1_CMD, PIC_EOI); /* the master did see the cascade */
        return;
    }
    for (int i = 0; i < MAX_SHARED && legacy[line][i].fn; i++)
        legacy[line][i].fn(legacy[line][i].ctx);
    pic_eoi(line);
}

static void timer_tick_noop(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx;
}

static void lapic_write(int reg, uint32_t v)
{
    lapic[reg / 4] = v;
}
static uint32_t lapic_read(int reg)
{
    return lapic[reg / 4];
}

static void vector_dispatch(struct trap_frame *f, void *ctx)
{
    (void)f;
    struct legacy_handler *h = ctx;
    h->fn(h->ctx);
    lapic_write(LAPIC_EOI, 0);
}

static void pic_init(void)
{
    /* ICW1: init + ICW4; ICW2: vector bases; ICW3: cascade on line 2; ICW4: 8086. */
    outb(PIC1_CMD, 0x11);
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, IDT_PIC_BASE);
    outb(PIC2_DATA, IDT_PIC_BASE + 8);
    outb(PIC1_DATA, 4);
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, 1);
    outb(PIC2_DATA, 1);
    outb(PIC1_DATA, 0xFF & ~(1 << 2)); /* all masked but the cascade */
    outb(PIC2_DATA, 0xFF);
    for (int line = 0; line < 16; line++)
        idt_set_handler(IDT_PIC_BASE + line, legacy_dispatch, 0);
}

static void lapic_init(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(LAPIC_BASE_MSR));
    lapic = (volatile uint32_t *)(uintptr_t)(((uint64_t)hi << 32 | lo) & ~0xFFFull);
    /* Software-enable with the spurious vector; LINT0 stays in the BIOS's ExtINT
     * (virtual wire) mode, so the PIC's interrupts still arrive. */
    lapic_write(LAPIC_SVR, 0x100 | IDT_SPURIOUS);
    idt_set_handler(IDT_SPURIOUS, timer_tick_noop, 0);
}

void irq_init(void);
void irq_init(void)
{
    pic_init();
    lapic_init();
}

int irq_register_legacy(int line, irq_handler_fn fn, void *ctx)
{
    if (line < 0 || line > 15 || line == 2)
        return -1;
    for (int i = 0; i < MAX_SHARED; i++) {
        if (!legacy[line][i].fn) {
            legacy[line][i] = (struct legacy_handler){.fn = fn, .ctx = ctx};
            pic_set_mask(line, 0);
            return 0;
        }
    }
    return -1;
}

static struct legacy_handler vec_handlers[IDT_DYN_LAST + 1];

int irq_alloc_vector(irq_handler_fn fn, void *ctx)
{
    if (next_vector > IDT_DYN_LAST)
        return -1;
    int v = next_vector++;
    vec_handlers[v] = (struct legacy_handler){.fn = fn, .ctx = ctx};
    idt_set_handler(v, vector_dispatch, &vec_handlers[v]);
    return v;
}

uint64_t msi_address(void)
{
    uint32_t id = lapic_read(LAPIC_ID) >> 24;
    return 0xFEE00000ull | (uint64_t)id << 12;
}

uint32_t msi_data(int vector)
{
    return (uint32_t)vector; /* fixed delivery, edge triggered */
}
