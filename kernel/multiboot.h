/* What the kernel takes from the multiboot v1 information structure: the command
 * line (copied out at once: the loader leaves it in memory we are about to hand
 * out) and the usable RAM region the kernel sits in. */
#ifndef MULTIBOOT_H
#define MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOT_MAGIC 0x2BADB002

struct boot_info {
    char cmdline[512];
    uint64_t ram_lo, ram_hi; /* usable RAM containing the kernel: [lo, hi) */
    uint64_t ram_total;      /* all usable RAM the map reports, in bytes */
    int has_mmap;
};

/* Fills bi from the structure at mbi; returns 0, or -1 if magic is wrong. */
int multiboot_parse(uint32_t magic, uint32_t mbi, struct boot_info *bi);

#endif
