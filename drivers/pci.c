/* PCI enumeration and configuration space: see pci.h. Configuration mechanism #1
 * (PCI Local Bus 3.0 section 3.2.2.3.2): write the address of a dword to 0xCF8,
 * then move the data through 0xCFC..0xCFF. */
#include "drivers/pci.h"

#include <stdio.h>
#include <string.h>

#include "kernel/io.h"
#include "kernel/irq.h"
#include "kernel/log.h"

#define CONFIG_ADDRESS 0xCF8
#define CONFIG_DATA 0xCFC
#define CONFIG_ENABLE 0x80000000u

#define MSIX_CTRL 2 /* Message Control */
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_CTRL_SIZE_MASK 0x7FFu /* table size - 1 */
#define MSIX_TABLE 4               /* Table Offset | BIR */
#define MSIX_ENTRY_BYTES 16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA 8
#define MSIX_ENTRY_CTRL 12
#define MSIX_ENTRY_MASKED 1u

static struct pci_dev devs[PCI_MAX_DEVICES];
static int ndevs;
static bool assigned_all; /* assign_unassigned ran since the last scan */

static void log_device(const struct pci_dev *d, const char *what);

/* ---------------------------------------------------------------- config space */

static void select_dword(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    outl(CONFIG_ADDRESS, CONFIG_ENABLE | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
                             (uint32_t)fn << 8 | (off & 0xFCu));
}

static uint32_t raw_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    select_dword(bus, dev, fn, off);
    return inl(CONFIG_DATA);
}

static uint16_t raw_read16(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    select_dword(bus, dev, fn, off);
    return inw((uint16_t)(CONFIG_DATA + (off & 2)));
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
    select_dword(d->bus, d->dev, d->fn, off);
    return inb((uint16_t)(CONFIG_DATA + (off & 3)));
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
    return raw_read16(d->bus, d->dev, d->fn, off);
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
    return raw_read32(d->bus, d->dev, d->fn, off);
}

void pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v)
{
    select_dword(d->bus, d->dev, d->fn, off);
    outb((uint16_t)(CONFIG_DATA + (off & 3)), v);
}

void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
    select_dword(d->bus, d->dev, d->fn, off);
    outw((uint16_t)(CONFIG_DATA + (off & 2)), v);
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
    select_dword(d->bus, d->dev, d->fn, off);
    outl(CONFIG_DATA, v);
}

void pci_command(const struct pci_dev *d, uint16_t set, uint16_t clear)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, (uint16_t)((cmd & ~clear) | set));
}

/* ---------------------------------------------------------------- BARs */

/* Writes all ones and reads back which address bits stick (the size mask),
 * then restores the original value. Decoding is off meanwhile (caller). */
static uint32_t probe_dword(const struct pci_dev *d, uint8_t off, uint32_t orig)
{
    pci_write32(d, off, 0xFFFFFFFFu);
    uint32_t mask = pci_read32(d, off);
    pci_write32(d, off, orig);
    return mask;
}

static void decode_io(const struct pci_dev *d, uint8_t off, uint32_t lo,
                      struct pci_bar *b)
{
    uint32_t mask = probe_dword(d, off, lo) & ~3u;
    if (mask == 0)
        return;
    if ((mask & 0xFFFF0000u) == 0) /* 16-bit decoder: upper bits read as 0 */
        mask |= 0xFFFF0000u;
    b->kind = PCI_BAR_IO;
    b->base = lo & ~3u;
    b->size = (uint32_t)(~mask + 1);
}

/* Returns how many BAR slots it used (2 for a 64-bit BAR). */
static int decode_mem(const struct pci_dev *d, uint8_t off, uint32_t lo,
                      struct pci_bar *b)
{
    bool is64 = ((lo >> 1) & 3) == 2;
    uint64_t mask = probe_dword(d, off, lo) & ~0xFu;
    uint64_t base = lo & ~0xFu;
    if (is64) {
        uint32_t hi = pci_read32(d, (uint8_t)(off + 4));
        mask |= (uint64_t)probe_dword(d, (uint8_t)(off + 4), hi) << 32;
        base |= (uint64_t)hi << 32;
    } else {
        mask |= 0xFFFFFFFF00000000ull;
    }
    if ((is64 && mask == 0) || (!is64 && (uint32_t)mask == 0))
        return is64 ? 2 : 1; /* unimplemented: no address bit sticks */
    b->kind = is64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
    b->prefetchable = (lo & 8) != 0;
    b->base = base;
    b->size = ~mask + 1;
    return is64 ? 2 : 1;
}

/* Sizes d's BARs, with decoding off (the caller's job) while they hold all
 * ones: a BAR decoding at a transient address could claim another device's
 * range. */
static void size_bars(struct pci_dev *d)
{
    d->bars_sized = true;
    uint8_t type = pci_read8(d, PCI_HEADER_TYPE) & 0x7F;
    if (type > 1)
        return;
    int nbars = type == 0 ? 6 : 2;
    for (int i = 0; i < nbars;) {
        uint8_t off = (uint8_t)(PCI_BAR0 + 4 * i);
        uint32_t lo = pci_read32(d, off);
        if (lo & 1) {
            decode_io(d, off, lo, &d->bar[i]);
            i++;
        } else {
            i += decode_mem(d, off, lo, &d->bar[i]);
        }
    }
}

/* Under QEMU each change of a function's decode bits remaps its BARs (a rebuild
 * of the memory map, about 0.2 ms under TCG): BARs are sized only for the
 * functions a driver enables, and only when some BAR needs an address for
 * everyone else's. */
static void decode_bars(struct pci_dev *d)
{
    if (d->bars_sized)
        return;
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, cmd & (uint16_t) ~(PCI_CMD_IO | PCI_CMD_MEMORY));
    size_bars(d);
    pci_write16(d, PCI_COMMAND, cmd);
}

/* BARs the firmware left unassigned (qboot assigns none; SeaBIOS all): placed
 * above everything already assigned, I/O from 0xC000, memory in the PC's PCI
 * hole from 0xE0000000 (QEMU's pc machine keeps RAM below that and routes the
 * hole up to the I/O APIC at 0xFEC00000 to PCI), each at its natural alignment. */
#define IO_WINDOW_START 0xC000u
#define IO_WINDOW_END 0x10000u
#define MEM_WINDOW_START 0xE0000000ull
#define MEM_WINDOW_END 0xFEC00000ull

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static bool bar_unassigned(const struct pci_bar *b)
{
    return b->kind != PCI_BAR_NONE && b->base == 0 && b->size != 0;
}

static void assign_bar(struct pci_dev *d, int i, uint64_t *io_next, uint64_t *mem_next)
{
    struct pci_bar *b = &d->bar[i];
    bool io = b->kind == PCI_BAR_IO;
    uint64_t align = b->size < 4096 && !io ? 4096 : b->size;
    uint64_t *next = io ? io_next : mem_next;
    uint64_t base = align_up(*next, align);
    if (base + b->size > (io ? IO_WINDOW_END : MEM_WINDOW_END)) {
        log_warn("pci", "%02x:%02x.%x bar%d: no room for %#llx bytes", d->bus, d->dev,
                 d->fn, i, (unsigned long long)b->size);
        return;
    }
    uint8_t off = (uint8_t)(PCI_BAR0 + 4 * i);
    uint32_t flags = pci_read32(d, off) & (io ? 3u : 0xFu);
    pci_write32(d, off, (uint32_t)base | flags);
    if (b->kind == PCI_BAR_MEM64)
        pci_write32(d, (uint8_t)(off + 4), (uint32_t)(base >> 32));
    b->base = base;
    *next = base + b->size;
}

static void assign_unassigned(void)
{
    uint64_t io_next = IO_WINDOW_START, mem_next = MEM_WINDOW_START;
    for (int k = 0; k < ndevs; k++)
        decode_bars(&devs[k]);
    for (int k = 0; k < ndevs; k++)
        for (int i = 0; i < 6; i++) {
            const struct pci_bar *b = &devs[k].bar[i];
            uint64_t end = b->base + b->size;
            if (b->kind == PCI_BAR_IO && b->base && end > io_next && end <= IO_WINDOW_END)
                io_next = end;
            else if (b->kind != PCI_BAR_IO && b->base >= MEM_WINDOW_START &&
                     end <= MEM_WINDOW_END && end > mem_next)
                mem_next = end;
        }
    for (int k = 0; k < ndevs; k++) {
        struct pci_dev *d = &devs[k];
        if ((pci_read8(d, PCI_HEADER_TYPE) & 0x7F) != 0)
            continue; /* bridges' windows: not ours to program */
        for (int i = 0; i < 6; i++)
            if (bar_unassigned(&d->bar[i]))
                assign_bar(d, i, &io_next, &mem_next);
    }
}

static bool any_unassigned(const struct pci_dev *d)
{
    for (int i = 0; i < 6; i++)
        if (bar_unassigned(&d->bar[i]))
            return true;
    return false;
}

/* Only the functions a driver takes have their BARs sized; the firmware's
 * assignments stand. A BAR it left unassigned (qboot assigns none) makes every
 * function's BARs sized, so that new ones go above everything assigned, and
 * assigns every unassigned BAR at once. The command register is written once
 * more at the end, with the driver's bits: two changes of the decode bits in
 * all, the fewest sizing allows. */
void pci_enable(struct pci_dev *d, uint16_t set, uint16_t clear)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    if (!d->bars_sized) {
        pci_write16(d, PCI_COMMAND, cmd & (uint16_t) ~(PCI_CMD_IO | PCI_CMD_MEMORY));
        size_bars(d);
    }
    if (!assigned_all && any_unassigned(d)) {
        assign_unassigned();
        assigned_all = true;
    }
    pci_write16(d, PCI_COMMAND, (uint16_t)((cmd & ~clear) | set));
    log_device(d, " enabled:");
}

volatile void *pci_bar_ptr(const struct pci_dev *d, int bar)
{
    if (bar < 0 || bar > 5)
        return NULL;
    const struct pci_bar *b = &d->bar[bar];
    if (b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64)
        return NULL;
    return (volatile void *)(uintptr_t)b->base; /* identity-mapped (kernel/mem.h) */
}

/* ---------------------------------------------------------------- capabilities */

uint8_t pci_cap_next(const struct pci_dev *d, uint8_t id, uint8_t prev)
{
    if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t off = prev ? pci_read8(d, (uint8_t)(prev + 1)) : pci_read8(d, PCI_CAP_PTR);
    /* 48 = (256 - 64) / 4: more hops than that means a loop. */
    for (int hops = 0; off >= 0x40 && hops < 48; hops++) {
        off &= 0xFC;
        if (pci_read8(d, off) == id)
            return off;
        off = pci_read8(d, (uint8_t)(off + 1));
    }
    return 0;
}

uint8_t pci_cap_find(const struct pci_dev *d, uint8_t id)
{
    return pci_cap_next(d, id, 0);
}

/* ---------------------------------------------------------------- enumeration */

static const char *bar_kind_name(enum pci_bar_kind k)
{
    switch (k) {
    case PCI_BAR_IO:
        return "io";
    case PCI_BAR_MEM32:
        return "mem32";
    case PCI_BAR_MEM64:
        return "mem64";
    default:
        return "none";
    }
}

/* what: "" at the scan (no BARs sized yet), " enabled:" once a driver took it. */
static void log_device(const struct pci_dev *d, const char *what)
{
    if (log_threshold < LOG_DEBUG)
        return; /* no formatting on the boot path for a line nobody sees */
    char bars[192];
    size_t n = 0;
    bars[0] = 0;
    for (int i = 0; i < 6 && n < sizeof bars; i++) {
        const struct pci_bar *b = &d->bar[i];
        if (b->kind == PCI_BAR_NONE)
            continue;
        n += (size_t)snprintf(bars + n, sizeof bars - n, " bar%d=%s:%#llx/%#llx%s", i,
                              bar_kind_name(b->kind), (unsigned long long)b->base,
                              (unsigned long long)b->size, b->prefetchable ? "p" : "");
    }
    log_debug("pci", "%02x:%02x.%x %04x:%04x class %02x.%02x.%02x irq %u pin %u%s%s",
              d->bus, d->dev, d->fn, d->vendor, d->device, d->class_code, d->subclass,
              d->prog_if, d->irq_line, d->irq_pin, what, bars);
}

/* Five dword reads: every config access is a VM exit. */
static void add_function(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
    if (ndevs >= PCI_MAX_DEVICES) {
        log_warn("pci", "more than %d functions, %02x:%02x.%x ignored", PCI_MAX_DEVICES,
                 bus, dev, fn);
        return;
    }
    struct pci_dev *d = &devs[ndevs++];
    memset(d, 0, sizeof *d);
    d->bus = bus;
    d->dev = dev;
    d->fn = fn;
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    uint32_t cls = raw_read32(bus, dev, fn, PCI_REVISION);
    d->revision = (uint8_t)cls;
    d->prog_if = (uint8_t)(cls >> 8);
    d->subclass = (uint8_t)(cls >> 16);
    d->class_code = (uint8_t)(cls >> 24);
    uint8_t type = (uint8_t)(raw_read32(bus, dev, fn, 0x0C) >> 16) & 0x7F;
    if (type == 0) {
        uint32_t sub = raw_read32(bus, dev, fn, PCI_SUBSYS_VENDOR);
        d->subsys_vendor = (uint16_t)sub;
        d->subsys_id = (uint16_t)(sub >> 16);
    }
    uint32_t intr = raw_read32(bus, dev, fn, PCI_INTERRUPT_LINE);
    d->irq_line = (uint8_t)intr;
    d->irq_pin = (uint8_t)(intr >> 8);
}

#define PCI_BUS_NUMBERS 0x18 /* primary, secondary, subordinate, latency */
#define PCI_CLASS_BRIDGE 0x06
#define PCI_SUBCLASS_PCI_BRIDGE 0x04

static bool bus_seen[256];
static void scan_bus(uint8_t bus);

/* A PCI-to-PCI bridge leads to its secondary bus: scan that too. */
static void scan_function(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
    int k = ndevs;
    add_function(bus, dev, fn, id);
    if (k == ndevs)
        return;
    if (devs[k].class_code == PCI_CLASS_BRIDGE &&
        devs[k].subclass == PCI_SUBCLASS_PCI_BRIDGE) {
        uint8_t secondary = (uint8_t)(raw_read32(bus, dev, fn, PCI_BUS_NUMBERS) >> 8);
        if (secondary != 0)
            scan_bus(secondary);
    }
}

/* Functions 1-7 only when function 0's header says multi-function. */
static void scan_slot(uint8_t bus, uint8_t dev)
{
    uint32_t id = raw_read32(bus, dev, 0, PCI_VENDOR_ID);
    if ((uint16_t)id == 0xFFFF)
        return;
    bool multi = (raw_read32(bus, dev, 0, 0x0C) >> 16) & 0x80;
    scan_function(bus, dev, 0, id);
    for (uint8_t fn = 1; multi && fn < 8; fn++) {
        id = raw_read32(bus, dev, fn, PCI_VENDOR_ID);
        if ((uint16_t)id != 0xFFFF)
            scan_function(bus, dev, fn, id);
    }
}

static void scan_bus(uint8_t bus)
{
    if (bus_seen[bus]) /* a bridge loop, or two bridges claiming one bus */
        return;
    bus_seen[bus] = true;
    for (uint8_t dev = 0; dev < 32; dev++)
        scan_slot(bus, dev);
}

/* On the i440FX/PIIX3 (QEMU's pc machine) a bus-0 device's INTx pin reaches
 * PIRQ (slot - 1 + pin - 1) mod 4, which the PIIX3's registers 0x60-0x63 route
 * to a PIC line. That is what the hardware does, so it wins over the interrupt
 * line the firmware wrote (qboot writes a different swizzle's line). */
#define PIIX3_PIRQ_ROUTE 0x60

static void piix3_intx_lines(void)
{
    if (raw_read32(0, 1, 0, PCI_VENDOR_ID) != (0x7000u << 16 | 0x8086u))
        return;
    uint32_t route = raw_read32(0, 1, 0, PIIX3_PIRQ_ROUTE);
    for (int k = 0; k < ndevs; k++) {
        struct pci_dev *d = &devs[k];
        if (d->bus != 0 || d->irq_pin == 0 || d->irq_pin > 4 || d->dev == 0)
            continue;
        uint8_t line = (uint8_t)(route >> (8 * ((d->dev - 1 + d->irq_pin - 1) & 3)));
        if (line & 0x80)
            continue; /* that PIRQ is not routed */
        if (line != d->irq_line)
            log_debug("pci", "%02x:%02x.%x: INTx on line %u, not %u as the firmware said",
                      d->bus, d->dev, d->fn, line, d->irq_line);
        d->irq_line = line;
        pci_write8(d, PCI_INTERRUPT_LINE, line);
    }
}

/* Bus 0 and whatever bridges lead to, not all 256 buses: every configuration
 * read is a VM exit, and the brute-force scan's 16,384 of them cost
 * milliseconds of boot. A multi-function host bridge (00:00.x) means one root
 * bus per function. */
int pci_init(void)
{
    ndevs = 0;
    assigned_all = false;
    memset(bus_seen, 0, sizeof bus_seen);
    bool multi_root = (raw_read32(0, 0, 0, 0x0C) >> 16) & 0x80;
    if (!multi_root) {
        scan_bus(0);
    } else {
        for (uint8_t fn = 0; fn < 8; fn++)
            if (raw_read16(0, 0, fn, PCI_VENDOR_ID) != 0xFFFF)
                scan_bus(fn);
    }
    piix3_intx_lines();
    for (int k = 0; k < ndevs; k++) {
        if (devs[k].irq_pin != 0)
            irq_set_level_triggered(devs[k].irq_line);
        log_device(&devs[k], "");
    }
    log_debug("pci", "%d functions", ndevs);
    return ndevs;
}

int pci_count(void)
{
    return ndevs;
}

struct pci_dev *pci_get(int i)
{
    return i >= 0 && i < ndevs ? &devs[i] : NULL;
}

void pci_bind(struct pci_dev *d, const char *driver)
{
    d->driver = driver;
    log_debug("pci", "%02x:%02x.%x %04x:%04x bound to %s", d->bus, d->dev, d->fn,
              d->vendor, d->device, driver);
}

/* ---------------------------------------------------------------- MSI-X */

bool pci_msix_probe(const struct pci_dev *d, struct pci_msix *m)
{
    memset(m, 0, sizeof *m);
    uint8_t cap = pci_cap_find(d, PCI_CAP_ID_MSIX);
    if (!cap)
        return false;
    uint16_t ctrl = pci_read16(d, (uint8_t)(cap + MSIX_CTRL));
    uint32_t table = pci_read32(d, (uint8_t)(cap + MSIX_TABLE));
    volatile uint8_t *bar = pci_bar_ptr(d, (int)(table & 7));
    if (!bar)
        return false;
    m->cap = cap;
    m->table_size = (uint16_t)((ctrl & MSIX_CTRL_SIZE_MASK) + 1);
    m->table = bar + (table & ~7u);
    return true;
}

static void msix_ctrl(const struct pci_dev *d, const struct pci_msix *m, uint16_t bit,
                      bool on)
{
    uint8_t off = (uint8_t)(m->cap + MSIX_CTRL);
    uint16_t ctrl = pci_read16(d, off);
    pci_write16(d, off, on ? (ctrl | bit) : (ctrl & (uint16_t)~bit));
}

void pci_msix_enable(const struct pci_dev *d, const struct pci_msix *m, bool on)
{
    msix_ctrl(d, m, MSIX_CTRL_ENABLE, on);
}

void pci_msix_mask(const struct pci_msix *m, int i, bool masked)
{
    volatile uint8_t *e = m->table + (size_t)i * MSIX_ENTRY_BYTES;
    uint32_t ctrl = mmio_read32(e + MSIX_ENTRY_CTRL);
    ctrl = masked ? (ctrl | MSIX_ENTRY_MASKED) : (ctrl & ~MSIX_ENTRY_MASKED);
    mmio_write32(e + MSIX_ENTRY_CTRL, ctrl);
}

void pci_msix_set(const struct pci_msix *m, int i, uint64_t addr, uint32_t data)
{
    if (i < 0 || i >= m->table_size)
        return;
    volatile uint8_t *e = m->table + (size_t)i * MSIX_ENTRY_BYTES;
    pci_msix_mask(m, i, true);
    mmio_write32(e + MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
    mmio_write32(e + MSIX_ENTRY_ADDR_HI, (uint32_t)(addr >> 32));
    mmio_write32(e + MSIX_ENTRY_DATA, data);
}
