"""The network rule, checked by every host-side tool before it sends a packet.

A tool may send only from inside a network namespace made for the test: not the
machine's own namespace, and one with no default route (IPv4 or IPv6), so no
packet can leave the machine whatever address it is given. `check()` returns
None when sending is allowed, else the reason; `enforce(tool)` exits with status
2 and that reason.
"""
import os
import sys


def _ns_inode(pid):
    try:
        return os.stat("/proc/%s/ns/net" % pid).st_ino
    except OSError:
        return None


def default_routes():
    """Default routes seen from this process's namespace, as text (empty if none)."""
    found = []
    try:
        with open("/proc/self/net/route") as f:
            next(f, None)
            for line in f:
                p = line.split()
                # Iface Destination Gateway Flags RefCnt Use Metric Mask ...
                if len(p) >= 8 and p[1] == "00000000" and p[7] == "00000000":
                    found.append("IPv4 default via %s" % p[0])
    except OSError:
        found.append("cannot read /proc/self/net/route")
    try:
        with open("/proc/self/net/ipv6_route") as f:
            for line in f:
                p = line.split()
                # dest prefixlen src srcprefixlen nexthop metric refcnt use flags iface
                if len(p) >= 10 and p[0] == "0" * 32 and p[1] == "00" and p[9] != "lo":
                    found.append("IPv6 default via %s" % p[9])
    except OSError:
        pass  # IPv6 disabled: nothing to route
    return found


def check():
    me, init = _ns_inode("self"), _ns_inode(1)
    if me is None:
        return "cannot read /proc/self/ns/net"
    if init is not None and me == init:
        return "running in the machine's own network namespace (use ip netns exec)"
    routes = default_routes()
    if routes:
        return "this network namespace has a default route (%s)" % "; ".join(routes)
    return None


def enforce(tool):
    why = check()
    if why:
        print("%s: refusing to send: %s" % (tool, why), file=sys.stderr)
        sys.exit(2)
