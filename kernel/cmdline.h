/* The multiboot command line parsed into the kernel's configuration:
 *   ip=10.0.0.2/24 gw=10.0.0.1 net1.ip=10.0.1.2/24 log=info mode=net
 * Unknown keys and bad values are reported (one message each, through the given
 * callback) and leave that setting at its default. Portable: host-tested. */
#ifndef CMDLINE_H
#define CMDLINE_H

#include <stdint.h>

#include "kernel/log.h"

enum kmode {
    KMODE_NET = 0,       /* the network stack and its services (default) */
    KMODE_SELFTEST,      /* kernel self-test, then exit */
    KMODE_PANIC,         /* panic on purpose (tests the panic path) */
    KMODE_REFLECT,       /* driver-level frame reflector, no stack */
    KMODE_STACKOVERFLOW, /* overflow a thread stack into its guard page */
    KMODE_NULLDEREF,     /* read address 0 */
    KMODE_WX,            /* write to kernel text */
    KMODE_STACKSMASH,    /* overrun a local array (stack protector) */
    KMODE_COUNT
};

/* fault=<kind>[@N]: the virtio-net driver misbehaves on purpose from the N-th
 * frame on (default 1000), so the liveness tests can watch its watchdog. */
enum kfault {
    KFAULT_NONE = 0,
    KFAULT_TX_KICK,
    KFAULT_RX_IRQ,
    KFAULT_TX_WEDGE,
    KFAULT_COUNT
};

/* fence=: the ordering point virtqueues use after their CPU fence. */
enum kfence {
    KFENCE_AUTO = 0, /* io, unless the hypervisor is KVM (whose CPU fences work) */
    KFENCE_IO,       /* a port write QEMU's TCG honours (one vCPU drops fences) */
    KFENCE_CPU,      /* the CPU fence alone (loses notifications under TCG) */
    KFENCE_COUNT
};

/* One interface's addressing: ip= and gw= (net0), net<N>.ip= and net<N>.gw=. */
#define KCONFIG_NICS 4
struct knic {
    uint32_t ip;    /* host byte order, 0 = unconfigured */
    uint8_t prefix; /* 0..32 */
    uint32_t gw;    /* host byte order, 0 = none */
};

struct kconfig {
    struct knic nic[KCONFIG_NICS]; /* net0 defaults to 10.0.0.2/24 via 10.0.0.1 */
    enum log_level log_level;
    enum kmode mode;
    enum kfault fault;
    uint32_t fault_at;
    enum kfence fence;
};

typedef void (*cmdline_err_fn)(const char *msg, void *arg);

/* Defaults: ip=10.0.0.2/24 gw=10.0.0.1 log=info mode=net, no fault, fence=auto. */
void cmdline_defaults(struct kconfig *cfg);
/* Parses s into cfg (which should hold the defaults); returns how many errors were
 * reported. A first word without '=' is the kernel's path (GRUB and QEMU pass it)
 * and is skipped. */
int cmdline_parse(const char *s, struct kconfig *cfg, cmdline_err_fn err, void *arg);
/* "10.0.0.2" -> host-order address; 0 on success, -1 when malformed. */
int cmdline_parse_ipv4(const char *s, uint32_t *out);
const char *kmode_name(enum kmode m);
/* "tx-kick", "rx-irq", "tx-wedge" ("none" for KFAULT_NONE). */
const char *kfault_name(enum kfault f);
const char *kfence_name(enum kfence f);

#endif
