/* Text the guest parses: the kernel command line (kernel/cmdline.c: keys, values,
 * errors reported one each) and the addresses the console and the command line
 * take (net/addr.c): a dotted quad or CIDR that parses formats back to the same
 * value, the prefix length stays 0..32, and every setting stays in range.
 * Input: a selector byte, then the text. */
#include <stdlib.h>
#include <string.h>

#include "kernel/cmdline.h"
#include "tests/fuzz/fuzz.h"

static int nerr;
static void on_err(const char *msg, void *arg)
{
    (void)arg;
    FZ_CHECK(msg && strlen(msg) < 1024, "odd error message");
    nerr++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    char *s = malloc(size); /* NUL-terminated copy of the text after the selector */
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    struct ipv4_addr a, b;
    unsigned len;
    char buf[IPV4_ADDR_STRLEN];
    if (ipv4_addr_parse(s, &a) == 0) {
        FZ_CHECK(ipv4_addr_parse(ipv4_addr_fmt(a, buf), &b) == 0 && a.be == b.be,
                 "address %s does not survive formatting", buf);
        FZ_CHECK(ipv4_cidr_parse(s, &b, &len) == 0 && b.be == a.be && len == 32,
                 "an address is not a /32");
    }
    if (ipv4_cidr_parse(s, &a, &len) == 0)
        FZ_CHECK(len <= 32, "prefix length %u", len);

    struct kconfig cfg;
    cmdline_defaults(&cfg);
    nerr = 0;
    int n = cmdline_parse(s, &cfg, on_err, NULL);
    FZ_CHECK(n == nerr, "%d errors returned, %d reported", n, nerr);
    for (int i = 0; i < KCONFIG_NICS; i++)
        FZ_CHECK(cfg.nic[i].prefix <= 32, "prefix %u", cfg.nic[i].prefix);
    FZ_CHECK(cfg.mode < KMODE_COUNT, "mode %d", cfg.mode);
    FZ_CHECK((unsigned)cfg.log_level < LOG_LEVELS, "log level %d", (int)cfg.log_level);
    (void)kmode_name(cfg.mode);
    uint32_t ip;
    (void)cmdline_parse_ipv4(s, &ip);

    struct net_config nc = {0};
    char *slash = strchr(s, ' ');
    if (slash) {
        *slash = '\0';
        if (net_config_parse(s, slash + 1, &nc) == 0)
            FZ_CHECK(nc.prefix_len <= 32, "net_config prefix %u", nc.prefix_len);
    }
    free(s);
    return 0;
}
