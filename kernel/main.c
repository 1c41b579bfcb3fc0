/* The kernel's table of contents: the init sequence, in order, then the mode the
 * command line asked for. Each step logs, and panics if it cannot go on. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "bootsteps.h"
#include "cmdline.h"
#include "console.h"
#include "drivers/pci.h"
#include "drivers/virtio_net.h"
#include "drivers/virtio_pci.h"
#include "log.h"
#include "mem.h"
#include "multiboot.h"
#include "netglue.h"
#include "panic.h"
#include "platform.h"
#include "sched.h"
#include "selftest.h"
#include "serial.h"
#include "timer.h"
#include "vm.h"

void gdt_init(void);
void irq_init(void);
void mem_init(const struct boot_info *bi);
void kmain(uint32_t magic, uint32_t mbi);

extern char boot_stack_guard[], __kernel_start[], __kernel_end[];

static struct boot_info boot;
static struct kconfig config;

static void cmdline_error(const char *msg, void *arg)
{
    (void)arg;
    log_error("cmdline", "%s", msg);
}

static void run_mode(void)
{
    switch (config.mode) {
    case KMODE_SELFTEST:
        machine_exit(selftest_run() == 0);
    case KMODE_PANIC:
        panic("panic requested on the command line (mode=panic)");
    case KMODE_STACKOVERFLOW:
    case KMODE_NULLDEREF:
    case KMODE_WX:
    case KMODE_STACKSMASH:
        selftest_fault(config.mode);
        panic("mode=%s did not fault", kmode_name(config.mode));
    case KMODE_REFLECT:
    case KMODE_NET:
    case KMODE_COUNT:
        break;
    }
}

/* fence= and fault= for the virtio-net driver. */
static void net_driver_options(const struct kconfig *k)
{
    char hv[13];
    plat_hypervisor(hv);
    bool io = k->fence == KFENCE_IO ||
              (k->fence == KFENCE_AUTO && strcmp(hv, "KVMKVMKVM") != 0);
    virtio_set_io_fence(io);
    log_debug("kernel", "hypervisor \"%s\"; virtqueue ordering point: %s", hv,
              io ? "CPU fence + port write" : "CPU fence");
    if (k->fault != KFAULT_NONE) {
        vnet_set_fault(kfault_name(k->fault), k->fault_at);
        log_warn("kernel", "fault injection: %s from frame %u", kfault_name(k->fault),
                 (unsigned)k->fault_at);
    }
}

void kmain(uint32_t magic, uint32_t mbi)
{
    /* 1. The clock's zero (every log time stamp counts from here), then the
     * console, so everything after can report. */
    timer_boot_mark();
    serial_init();
    boot_step("serial");
    /* 2. Copy what the loader gave us before any memory is handed out. */
    if (multiboot_parse(magic, mbi, &boot) < 0)
        panic("boot: not started by a multiboot loader (magic 0x%x)", magic);
    boot_step("multiboot");
    /* 3. CPU tables: GDT with a TSS (fault stacks), IDT, PIC and local APIC. */
    gdt_init();
    idt_init();
    irq_init();
    boot_step("cpu_tables");
    /* The TSC calibration window opens; the memory set-up runs inside it. */
    timer_calibrate_begin();
    /* 4. Memory: the multiboot map's RAM to the page allocator and the heap. */
    mem_init(&boot);
    boot_step("mem");
    /* 5. Clock: the TSC's rate (CPUID, or the PIT over the window: a wait only
     * if the window is still shorter than a millisecond). */
    timer_init();
    boot_step("clock");
    /* 6. Configuration from the command line; errors reported, defaults kept.
     * Then the one-shot timer it chose (timer=); there is no periodic tick. */
    cmdline_defaults(&config);
    cmdline_parse(boot.cmdline, &config, cmdline_error, NULL);
    log_set_level(config.log_level);
    enum ktimer timer = timer_start(config.timer);
    boot_step("cmdline_timer");
    /* 7. Page protections: W^X, null page, guard page below the boot stack. */
    int nx = vm_protect_kernel();
    vm_unmap_page(boot_stack_guard);
    boot_step("vm");
    char hv[13];
    plat_hypervisor(hv);
    log_info("kernel",
             "uknet booted: image %lu KiB, RAM %llu MiB, TSC %llu MHz, timer %s, "
             "hypervisor \"%s\", NX %s, mode=%s",
             (unsigned long)((__kernel_end - __kernel_start) / 1024),
             (unsigned long long)(boot.ram_total >> 20),
             (unsigned long long)(timer_tsc_hz() / 1000000), ktimer_name(timer), hv,
             nx ? "on" : "off", kmode_name(config.mode));
    log_info("kernel", "command line: \"%s\"", boot.cmdline);
    boot_step("banner");
    /* 8. Threads; interrupts on from here. */
    sched_init();
    __asm__ volatile("sti");
    boot_step("sched");
    /* 9. The mode the command line asked for (self-tests end here). */
    run_mode();
    /* 10. Devices: every PCI function, every virtio-net NIC brought up, with the
     * virtqueue ordering point this hypervisor needs (docs/virtio-notifications.md). */
    net_driver_options(&config);
    boot_step("driver_options");
    pci_init();
    boot_step("pci");
    int nics = vnet_init_all();
    boot_step("virtio_net");
    if (nics == 0)
        log_warn("kernel", "no virtio-net device is up: no network");
    /* 11. Services (the reflector, or the stack), then the console; the scheduler
     * runs them forever. */
    if (config.mode == KMODE_REFLECT)
        log_info("kernel", "reflector: %d device(s) send every frame back",
                 vnet_reflect_start());
    netglue_start(&config);
    boot_step("stack");
    console_start();
    boot_step("console");
    log_info("kernel", "ready");
    boot_step("ready");
    boot_steps_log();
    sched_run();
    panic("scheduler returned");
}
