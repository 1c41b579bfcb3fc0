/* Parsing and formatting of addresses (setup and console paths only). */
#include <stdio.h>

#include "net/addr.h"

/* One decimal 0..255 component; advances *s. */
static int parse_octet(const char **s, unsigned *out)
{
    const char *p = *s;
    unsigned v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) {
        v = v * 10 + (unsigned)(*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || digits > 3 || v > 255)
        return -1;
    *s = p;
    *out = v;
    return 0;
}

static int parse_quad(const char **s, struct ipv4_addr *out)
{
    unsigned o[4];
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *(*s)++ != '.')
            return -1;
        if (parse_octet(s, &o[i]) < 0)
            return -1;
    }
    *out = ipv4_addr_make((uint8_t)o[0], (uint8_t)o[1], (uint8_t)o[2], (uint8_t)o[3]);
    return 0;
}

int ipv4_addr_parse(const char *s, struct ipv4_addr *out)
{
    struct ipv4_addr a;
    if (!s || parse_quad(&s, &a) < 0 || *s != '\0')
        return -1;
    *out = a;
    return 0;
}

int ipv4_cidr_parse(const char *s, struct ipv4_addr *addr, unsigned *prefix_len)
{
    struct ipv4_addr a;
    unsigned len = 32;
    if (!s || parse_quad(&s, &a) < 0)
        return -1;
    if (*s == '/') {
        s++;
        if (parse_octet(&s, &len) < 0 || len > 32)
            return -1;
    }
    if (*s != '\0')
        return -1;
    *addr = a;
    *prefix_len = len;
    return 0;
}

char *ipv4_addr_fmt(struct ipv4_addr a, char *buf)
{
    const uint8_t *b = (const uint8_t *)&a.be;
    snprintf(buf, IPV4_ADDR_STRLEN, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return buf;
}

struct eth_addr eth_addr_of_ipv4_mcast(struct ipv4_addr group)
{
    uint32_t h = ipv4_addr_host(group);
    struct eth_addr m = {
        {0x01, 0x00, 0x5e, (uint8_t)((h >> 16) & 0x7f), (uint8_t)(h >> 8), (uint8_t)h}};
    return m;
}

char *eth_addr_fmt(const struct eth_addr *a, char *buf)
{
    snprintf(buf, ETH_ADDR_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", a->b[0], a->b[1],
             a->b[2], a->b[3], a->b[4], a->b[5]);
    return buf;
}
