/* PCI: configuration space through the legacy ports 0xCF8/0xCFC, enumeration of
 * every bus/device/function into a fixed table, BAR decoding and sizing (for the
 * functions drivers enable), the
 * capability list, command-register enables, and MSI-X table helpers.
 * Context: thread context at boot (pci_init, drivers' probe). The MSI-X entry
 * helpers touch only the device's table, so an interrupt handler may mask/unmask
 * its own entry. Single-threaded use of the config ports (no locking needed under
 * the cooperative scheduler: nothing here blocks). */
#ifndef PCI_H
#define PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64

/* Configuration header (type 0) offsets. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_PROG_IF 0x09
#define PCI_SUBCLASS 0x0A
#define PCI_CLASS 0x0B
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2C
#define PCI_SUBSYS_ID 0x2E
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN 0x3D

#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEMORY (1u << 1)
#define PCI_CMD_BUS_MASTER (1u << 2)
#define PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 4)

#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VENDOR 0x09
#define PCI_CAP_ID_MSIX 0x11

enum pci_bar_kind {
    PCI_BAR_NONE = 0, /* unimplemented (or the upper half of a 64-bit BAR) */
    PCI_BAR_IO,
    PCI_BAR_MEM32,
    PCI_BAR_MEM64,
};

struct pci_bar {
    enum pci_bar_kind kind;
    bool prefetchable;
    uint64_t base; /* port number or physical address */
    uint64_t size; /* bytes, from the write-ones probe */
};

struct pci_dev {
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys_id;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t irq_line, irq_pin; /* INTx routing the firmware set; pin 0 = none */
    struct pci_bar bar[6];     /* valid once pci_enable ran */
    bool bars_sized;
    const char *driver; /* NULL until a driver binds (pci_bind) */
};

/* Scans bus 0 and every bus a PCI-to-PCI bridge leads to; returns how many
 * functions were found. PIIX3 INTx lines are taken from its routing registers
 * and marked level-triggered. Each function is logged at debug level. Calling
 * it again rescans. BARs are not read here (pci_enable). */
int pci_init(void);
/* For a driver about to use d: its BARs read and sized, then the bits of set
 * (PCI_CMD_*) set in its command register and those of clear cleared. Any BAR
 * the firmware left unassigned (qboot assigns none) gets an address first,
 * every function's at once: I/O from 0xC000, memory from 0xE0000000, above
 * what is assigned. */
void pci_enable(struct pci_dev *d, uint16_t set, uint16_t clear);
int pci_count(void);
struct pci_dev *pci_get(int i);
/* Marks d as driven by driver and logs it at info level. */
void pci_bind(struct pci_dev *d, const char *driver);

uint8_t pci_read8(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void pci_write8(const struct pci_dev *d, uint8_t off, uint8_t v);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);

/* Sets bits in the command register (PCI_CMD_*), and clears those in clear. */
void pci_command(const struct pci_dev *d, uint16_t set, uint16_t clear);
/* Offset of the first capability with id; 0 when there is none. */
uint8_t pci_cap_find(const struct pci_dev *d, uint8_t id);
/* The capability with id after the one at offset prev; 0 when none. */
uint8_t pci_cap_next(const struct pci_dev *d, uint8_t id, uint8_t prev);
/* Pointer to a memory BAR's bytes (identity-mapped), NULL for I/O or absent. */
volatile void *pci_bar_ptr(const struct pci_dev *d, int bar);

/* ---------------------------------------------------------------- MSI-X */

struct pci_msix {
    uint8_t cap;         /* capability offset; 0 = the device has no MSI-X */
    uint16_t table_size; /* entries */
    volatile uint8_t *table;
};

/* Finds the capability and maps the table; false when absent or unusable. */
bool pci_msix_probe(const struct pci_dev *d, struct pci_msix *m);
/* MSI-X Enable bit (and INTx is then not used by the function). */
void pci_msix_enable(const struct pci_dev *d, const struct pci_msix *m, bool on);
/* Programs entry i with an MSI address/data pair, left masked. */
void pci_msix_set(const struct pci_msix *m, int i, uint64_t addr, uint32_t data);
void pci_msix_mask(const struct pci_msix *m, int i, bool masked);

#endif
