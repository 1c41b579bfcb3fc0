/* The network rule for the C load tools (the C twin of tests/tools/netguard.py):
 * a tool may send only from inside a network namespace made for the test, never
 * from the machine's own namespace, and never from one with a default route (IPv4
 * or IPv6), so no packet can leave the machine whatever address it is given.
 * netguard_check() returns NULL when sending is allowed, else the reason; the
 * tools print "refusing to send: <reason>" and exit with status 2.
 * Header-only (static functions): each tool is one source file built by bench.py. */
#ifndef TESTS_TOOLS_NETGUARD_H
#define TESTS_TOOLS_NETGUARD_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* 1 when /proc/self/net/route has a 0.0.0.0/0 entry, -1 when it cannot be read. */
static int netguard_ipv4_default(void)
{
    FILE *f = fopen("/proc/self/net/route", "r");
    if (!f)
        return -1;
    char line[512], ifn[64];
    unsigned long dst, gw, flags, refc, use, metric, mask;
    int bad = 0;
    if (fgets(line, sizeof line, f))
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "%63s %lx %lx %lx %lu %lu %lu %lx", ifn, &dst, &gw, &flags,
                       &refc, &use, &metric, &mask) == 8 &&
                dst == 0 && mask == 0)
                bad = 1;
    fclose(f);
    return bad;
}

/* 1 when /proc/self/net/ipv6_route has a ::/0 entry on a device other than lo
 * (the kernel keeps an unreachable ::/0 on lo). No file: IPv6 is off. */
static int netguard_ipv6_default(void)
{
    FILE *f = fopen("/proc/self/net/ipv6_route", "r");
    if (!f)
        return 0;
    char line[512], d[64], pl[8], s[64], sl[8], nh[64], m[16], rc[16], u[16], fl[16],
        dev[64];
    int bad = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%63s %7s %63s %7s %63s %15s %15s %15s %15s %63s", d, pl, s, sl,
                   nh, m, rc, u, fl, dev) == 10 &&
            strspn(d, "0") == 32 && strcmp(pl, "00") == 0 && strcmp(dev, "lo") != 0)
            bad = 1;
    fclose(f);
    return bad;
}

static const char *netguard_check(void)
{
    struct stat me, init;
    if (stat("/proc/self/ns/net", &me) != 0)
        return "cannot read /proc/self/ns/net";
    if (stat("/proc/1/ns/net", &init) == 0 && me.st_ino == init.st_ino)
        return "running in the machine's own network namespace (use ip netns exec)";
    int v4 = netguard_ipv4_default();
    if (v4 < 0)
        return "cannot read /proc/self/net/route";
    if (v4)
        return "this network namespace has an IPv4 default route";
    if (netguard_ipv6_default())
        return "this network namespace has an IPv6 default route";
    return NULL;
}

#endif
