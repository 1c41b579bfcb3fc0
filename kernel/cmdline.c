/* Command-line parsing: key=value words separated by spaces. */
#include "cmdline.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const char *const mode_names[KMODE_COUNT] = {
    [KMODE_NET] = "net",
    [KMODE_SELFTEST] = "selftest",
    [KMODE_PANIC] = "panic",
    [KMODE_REFLECT] = "reflect",
    [KMODE_STACKOVERFLOW] = "stackoverflow",
    [KMODE_NULLDEREF] = "nullderef",
    [KMODE_WX] = "wx",
    [KMODE_STACKSMASH] = "stacksmash",
};

static const char *const fault_names[KFAULT_COUNT] = {
    [KFAULT_NONE] = "none",
    [KFAULT_TX_KICK] = "tx-kick",
    [KFAULT_RX_IRQ] = "rx-irq",
    [KFAULT_TX_WEDGE] = "tx-wedge",
};
static const char *const fence_names[KFENCE_COUNT] = {
    [KFENCE_AUTO] = "auto",
    [KFENCE_IO] = "io",
    [KFENCE_CPU] = "cpu",
};
#define FAULT_AT_DEFAULT 1000

const char *kmode_name(enum kmode m)
{
    return (unsigned)m < KMODE_COUNT ? mode_names[m] : "?";
}

const char *kfault_name(enum kfault f)
{
    return (unsigned)f < KFAULT_COUNT ? fault_names[f] : "?";
}

const char *kfence_name(enum kfence f)
{
    return (unsigned)f < KFENCE_COUNT ? fence_names[f] : "?";
}

void cmdline_defaults(struct kconfig *cfg)
{
    memset(cfg->nic, 0, sizeof cfg->nic);
    for (int i = 0; i < KCONFIG_NICS; i++)
        cfg->nic[i].prefix = 24;
    cfg->nic[0].ip = 0x0A000002; /* 10.0.0.2 */
    cfg->nic[0].gw = 0x0A000001; /* 10.0.0.1 */
    cfg->log_level = LOG_INFO;
    cfg->mode = KMODE_NET;
    cfg->fault = KFAULT_NONE;
    cfg->fault_at = FAULT_AT_DEFAULT;
    cfg->fence = KFENCE_AUTO;
}

/* Decimal number in [0, max] spanning exactly s[0..len). */
static int parse_uint(const char *s, size_t len, unsigned max, unsigned *out)
{
    if (len == 0 || len > 10)
        return -1;
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_ipv4_n(const char *s, size_t len, uint32_t *out)
{
    uint32_t ip = 0;
    size_t start = 0;
    for (int part = 0; part < 4; part++) {
        size_t end = start;
        while (end < len && s[end] != '.')
            end++;
        if ((part < 3) != (end < len))
            return -1; /* too few or too many dots */
        unsigned octet;
        if (parse_uint(s + start, end - start, 255, &octet) < 0)
            return -1;
        ip = ip << 8 | octet;
        start = end + 1;
    }
    *out = ip;
    return 0;
}

int cmdline_parse_ipv4(const char *s, uint32_t *out)
{
    return parse_ipv4_n(s, strlen(s), out);
}

static int nic_ip(struct knic *nic, const char *v, size_t n)
{
    const char *slash = memchr(v, '/', n);
    size_t iplen = slash ? (size_t)(slash - v) : n;
    uint32_t ip;
    unsigned prefix = nic->prefix;
    if (parse_ipv4_n(v, iplen, &ip) < 0)
        return -1;
    if (slash && parse_uint(slash + 1, n - iplen - 1, 32, &prefix) < 0)
        return -1;
    nic->ip = ip;
    nic->prefix = (uint8_t)prefix;
    return 0;
}

static int nic_gw(struct knic *nic, const char *v, size_t n)
{
    if (n == 4 && memcmp(v, "none", 4) == 0) {
        nic->gw = 0;
        return 0;
    }
    return parse_ipv4_n(v, n, &nic->gw);
}

static int set_ip(struct kconfig *cfg, const char *v, size_t n)
{
    return nic_ip(&cfg->nic[0], v, n);
}

static int set_gw(struct kconfig *cfg, const char *v, size_t n)
{
    return nic_gw(&cfg->nic[0], v, n);
}

/* net<N>.ip / net<N>.gw: N is the key's fourth character. */
#define NIC_SETTERS(N)                                                                   \
    static int set_ip##N(struct kconfig *cfg, const char *v, size_t n)                   \
    {                                                                                    \
        return nic_ip(&cfg->nic[N], v, n);                                               \
    }                                                                                    \
    static int set_gw##N(struct kconfig *cfg, const char *v, size_t n)                   \
    {                                                                                    \
        return nic_gw(&cfg->nic[N], v, n);                                               \
    }
NIC_SETTERS(0)
NIC_SETTERS(1)
NIC_SETTERS(2)
NIC_SETTERS(3)

static int lookup(const char *const *names, int count, const char *v, size_t n)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == n && memcmp(names[i], v, n) == 0)
            return i;
    return -1;
}

/* <kind>[@N] */
static int set_fault(struct kconfig *cfg, const char *v, size_t n)
{
    const char *at = memchr(v, '@', n);
    size_t klen = at ? (size_t)(at - v) : n;
    unsigned count = FAULT_AT_DEFAULT;
    int f = lookup(fault_names, KFAULT_COUNT, v, klen);
    if (f < 0 || (at && parse_uint(at + 1, n - klen - 1, 1000000000u, &count) < 0))
        return -1;
    cfg->fault = (enum kfault)f;
    cfg->fault_at = count;
    return 0;
}

/* A key whose value is one of names: the kconfig field (an int-sized enum) at off
 * gets its index. */
struct enum_key {
    const char *const *names;
    int count;
    size_t off;
};

static int set_enum(struct kconfig *cfg, const struct enum_key *k, const char *v,
                    size_t n)
{
    int i = lookup(k->names, k->count, v, n);
    if (i < 0)
        return -1;
    memcpy((char *)cfg + k->off, &i, sizeof i);
    return 0;
}

_Static_assert(sizeof(enum log_level) == sizeof(int) &&
                   sizeof(enum kmode) == sizeof(int) &&
                   sizeof(enum kfence) == sizeof(int),
               "enum settings are int-sized");
static const struct enum_key log_key = {log_level_names, LOG_LEVELS,
                                        offsetof(struct kconfig, log_level)};
static const struct enum_key mode_key = {mode_names, KMODE_COUNT,
                                         offsetof(struct kconfig, mode)};
static const struct enum_key fence_key = {fence_names, KFENCE_COUNT,
                                          offsetof(struct kconfig, fence)};

/* A key: its own setter, or an enumerated value. */
static const struct {
    const char *key;
    int (*set)(struct kconfig *cfg, const char *v, size_t n);
    const struct enum_key *of;
    const char *expect;
} keys[] = {
    {"ip", set_ip, NULL, "an address like 10.0.0.2/24"},
    {"gw", set_gw, NULL, "an address like 10.0.0.1, or none"},
    {"net0.ip", set_ip0, NULL, "an address like 10.0.0.2/24"},
    {"net0.gw", set_gw0, NULL, "an address like 10.0.0.1, or none"},
    {"net1.ip", set_ip1, NULL, "an address like 10.0.1.2/24"},
    {"net1.gw", set_gw1, NULL, "an address like 10.0.1.1, or none"},
    {"net2.ip", set_ip2, NULL, "an address like 10.0.2.2/24"},
    {"net2.gw", set_gw2, NULL, "an address like 10.0.2.1, or none"},
    {"net3.ip", set_ip3, NULL, "an address like 10.0.3.2/24"},
    {"net3.gw", set_gw3, NULL, "an address like 10.0.3.1, or none"},
    {"log", NULL, &log_key, "error, warn, info or debug"},
    {"mode", NULL, &mode_key,
     "net, selftest, reflect, panic, stackoverflow, nullderef, wx or stacksmash"},
    {"fault", set_fault, NULL,
     "tx-kick, rx-irq, tx-wedge or none, optionally @<frame count>"},
    {"fence", NULL, &fence_key, "auto, io or cpu"},
};

static int parse_word(const char *w, size_t n, struct kconfig *cfg, cmdline_err_fn err,
                      void *arg)
{
    char msg[160];
    const char *eq = memchr(w, '=', n);
    if (!eq) {
        snprintf(msg, sizeof msg, "'%.*s' is not key=value; ignored", (int)n, w);
        err(msg, arg);
        return 1;
    }
    size_t klen = (size_t)(eq - w);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].key) != klen || memcmp(keys[i].key, w, klen) != 0)
            continue;
        const char *v = eq + 1;
        size_t vlen = n - klen - 1;
        if ((keys[i].set ? keys[i].set(cfg, v, vlen)
                         : set_enum(cfg, keys[i].of, v, vlen)) == 0)
            return 0;
        snprintf(msg, sizeof msg, "bad value '%.*s' for %s= (want %s); default kept",
                 (int)(n - klen - 1), eq + 1, keys[i].key, keys[i].expect);
        err(msg, arg);
        return 1;
    }
    snprintf(msg, sizeof msg,
             "unknown key '%.*s' (known: ip, gw, net<0-3>.ip, net<0-3>.gw, log, mode, "
             "fault, fence); ignored",
             (int)klen, w);
    err(msg, arg);
    return 1;
}

int cmdline_parse(const char *s, struct kconfig *cfg, cmdline_err_fn err, void *arg)
{
    int errors = 0;
    int first = 1;
    while (s && *s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        size_t n = strcspn(s, " \t");
        if (!(first && !memchr(s, '=', n)))
            errors += parse_word(s, n, cfg, err, arg);
        first = 0;
        s += n;
    }
    return errors;
}
