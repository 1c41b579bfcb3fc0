"""A network namespace for one test: only lo and tap devices in it, no default
route (checked), removed on exit (also when the `with` body raises, and so on
SIGTERM under tests/lib/suite.py). Host tools run through `ip netns exec`.
The name ends in -PID, so that tests/run.sh can remove it should SIGKILL end
the test. Every command here has a time limit (IP_SECS).

    with Netns("uknet-ip") as ns:          # tap0 = 10.0.0.1/24
        ns.run(["ping", "-c", "1", "10.0.0.2"])
"""
import os
import subprocess
import sys


IP_SECS = 30


class NetnsError(Exception):
    pass


class Netns:
    def __init__(self, prefix="uknet-t", taps=("tap0",), host_cidr="10.0.0.1/24",
                 extra_cidrs=()):
        self.name = "%s-%d" % (prefix, os.getpid())
        self.taps = list(taps)
        self.host_cidr = host_cidr
        self.extra_cidrs = list(extra_cidrs)

    def _ip(self, *args):
        subprocess.run(["ip"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=IP_SECS)

    def __enter__(self):
        try:
            self._ip("netns", "add", self.name)
            self._setup()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _setup(self):
        n = self.name
        self._ip("-n", n, "link", "set", "lo", "up")
        self.sysctl("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        for i, tap in enumerate(self.taps):
            self._ip("-n", n, "tuntap", "add", "dev", tap, "mode", "tap")
            if i == 0:
                self._ip("-n", n, "addr", "add", self.host_cidr, "dev", tap)
                for c in self.extra_cidrs:
                    self._ip("-n", n, "addr", "add", c, "dev", tap)
            self._ip("-n", n, "link", "set", tap, "up")
            # Faster ARP retries than the 1 s default (docs/qemu-facts.md).
            self.sysctl("net.ipv4.neigh.%s.retrans_time_ms=100" % tap)
        routes = subprocess.run(["ip", "-n", n, "route", "show", "default"],
                                capture_output=True, text=True, timeout=IP_SECS).stdout
        if routes.strip():
            raise NetnsError("namespace %s has a default route: %s" % (n, routes))

    def sysctl(self, *settings):
        subprocess.run(["ip", "netns", "exec", self.name, "sysctl", "-qw"] + list(settings),
                       check=True, timeout=IP_SECS)

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, timeout=60, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.cmd(argv), timeout=timeout, **kw)

    def __exit__(self, *exc):
        try:
            subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL,
                           timeout=IP_SECS)
        except subprocess.TimeoutExpired:
            print("netns: 'ip netns del %s' took over %d s" % (self.name, IP_SECS),
                  file=sys.stderr)
