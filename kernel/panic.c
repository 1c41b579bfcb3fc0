/* Panic, exception reports, backtraces and the machine's exit. */
#include "panic.h"

#include <stdarg.h>
#include <stdio.h>
#include "io.h"
#include "ksyms.h"
#include "sched.h"
#include "serial.h"

static const char *const exception_names[32] = {"divide error",
                                                "debug",
                                                "NMI",
                                                "breakpoint",
                                                "overflow",
                                                "bound range exceeded",
                                                "invalid opcode",
                                                "device not available",
                                                "double fault",
                                                "coprocessor segment overrun",
                                                "invalid TSS",
                                                "segment not present",
                                                "stack-segment fault",
                                                "general protection fault",
                                                "page fault",
                                                "reserved",
                                                "x87 floating-point error",
                                                "alignment check",
                                                "machine check",
                                                "SIMD floating-point error",
                                                "virtualization exception",
                                                "control protection exception",
                                                "reserved",
                                                "reserved",
                                                "reserved",
                                                "reserved",
                                                "reserved",
                                                "reserved",
                                                "hypervisor injection",
                                                "VMM communication",
                                                "security exception",
                                                "reserved"};

static int panicking;

/* Console output that needs neither the heap nor interrupts. */
static void pr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pr(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = sizeof buf - 1;
    serial_write(buf, (size_t)n);
}

void machine_exit(int success)
{
    __asm__ volatile("cli");
    serial_drain();
    outl(EXIT_PORT, success ? EXIT_VALUE_SUCCESS : EXIT_VALUE_FAILURE);
    for (;;) /* not under QEMU: stop here */
        __asm__ volatile("hlt");
}

/* is_ret: addr is a return address, which may lie just past its caller's end. */
static void print_addr(uint64_t addr, int is_ret)
{
    uint64_t off = 0;
    const char *name = ksym_lookup(addr - (uint64_t)is_ret, &off);
    off += (uint64_t)is_ret;
    if (name)
        pr("  %016llx %s+0x%llx\n", (unsigned long long)addr, name,
           (unsigned long long)off);
    else
        pr("  %016llx ?\n", (unsigned long long)addr);
}

/* Frames are [saved rbp][return address]; stop at a null, misaligned or
 * implausible link (identity-mapped RAM only) or after 32 frames. */
void backtrace_print(uint64_t rip, uint64_t rbp)
{
    pr("backtrace:\n");
    print_addr(rip, 0);
    for (int depth = 0; depth < 32; depth++) {
        if (rbp == 0 || (rbp & 7) || rbp < 0x1000 || rbp >= 0x100000000ull)
            break;
        const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
        uint64_t ret = frame[1];
        if (ret == 0)
            break;
        print_addr(ret, 1);
        if (frame[0] <= rbp)
            break; /* stacks grow down: callers' frames are above */
        rbp = frame[0];
    }
}

static void enter(void)
{
    __asm__ volatile("cli");
    if (panicking++) { /* a fault while panicking: just stop */
        pr("\nnested panic\n");
        machine_exit(0);
    }
}

void panic(const char *fmt, ...)
{
    enter();
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pr("\nPANIC: %s\n", buf);
    uint64_t rbp;
    __asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
    backtrace_print((uint64_t)(uintptr_t)__builtin_return_address(0),
                    ((uint64_t *)rbp)[0]);
    pr("end of panic\n");
    machine_exit(0);
}

void panic_exception(struct trap_frame *f)
{
    enter();
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    pr("\nPANIC: CPU exception %llu (%s), error code 0x%llx\n",
       (unsigned long long)f->vector, exception_names[f->vector & 31],
       (unsigned long long)f->error);
    if (f->vector == 14) {
        pr("page fault address (CR2): 0x%016llx (%s, %s%s)\n", (unsigned long long)cr2,
           f->error & 1 ? "protection violation" : "page not present",
           f->error & 2 ? "write" : "read", f->error & 16 ? ", instruction fetch" : "");
        if (cr2 < 4096)
            pr("null pointer dereference\n");
        else if (!(f->error & 1) && cr2 + 8192 > f->rsp && cr2 < f->rsp + 8192)
            pr("stack overflow: thread '%s' ran into the guard page below its stack\n",
               thread_name(thread_current()));
    }
    pr("RIP=%016llx RSP=%016llx RFLAGS=%016llx CS=%llx\n", (unsigned long long)f->rip,
       (unsigned long long)f->rsp, (unsigned long long)f->rflags,
       (unsigned long long)f->cs);
    pr("RAX=%016llx RBX=%016llx RCX=%016llx RDX=%016llx\n", (unsigned long long)f->rax,
       (unsigned long long)f->rbx, (unsigned long long)f->rcx,
       (unsigned long long)f->rdx);
    pr("RSI=%016llx RDI=%016llx RBP=%016llx R8 =%016llx\n", (unsigned long long)f->rsi,
       (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
    pr("R9 =%016llx R10=%016llx R11=%016llx R12=%016llx\n", (unsigned long long)f->r9,
       (unsigned long long)f->r10, (unsigned long long)f->r11,
       (unsigned long long)f->r12);
    pr("R13=%016llx R14=%016llx R15=%016llx\n", (unsigned long long)f->r13,
       (unsigned long long)f->r14, (unsigned long long)f->r15);
    backtrace_print(f->rip, f->rbp);
    pr("end of panic\n");
    machine_exit(0);
}
