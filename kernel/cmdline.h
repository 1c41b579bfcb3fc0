/* The multiboot command line parsed into the kernel's configuration:
 *   ip=10.0.0.2/24 gw=10.0.0.1 log=info mode=net
 * Unknown keys and bad values are reported (one message each, through the given
 * callback) and leave that setting at its default. Portable: host-tested. */
#ifndef CMDLINE_H
#define CMDLINE_H

#include <stdint.h>

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

struct kconfig {
    uint32_t ip;    /* host byte order */
    uint8_t prefix; /* 0..32 */
    uint32_t gw;    /* host byte order, 0 = none */
    int log_level;  /* enum log_level */
    enum kmode mode;
};

typedef void (*cmdline_err_fn)(const char *msg, void *arg);

/* Defaults: ip=10.0.0.2/24 gw=10.0.0.1 log=info mode=net. */
void cmdline_defaults(struct kconfig *cfg);
/* Parses s into cfg (which should hold the defaults); returns how many errors were
 * reported. A first word without '=' is the kernel's path (GRUB and QEMU pass it)
 * and is skipped. */
int cmdline_parse(const char *s, struct kconfig *cfg, cmdline_err_fn err, void *arg);
/* "10.0.0.2" -> host-order address; 0 on success, -1 when malformed. */
int cmdline_parse_ipv4(const char *s, uint32_t *out);
const char *kmode_name(enum kmode m);

#endif
