"""Debian's dnsmasq as the DHCP server of a test: inside the test's network
namespace, bound to one tap only, DNS off, no configuration file but the
options given here, its lease file and log under build/test/. Stopped by its
pid (SIGTERM, then SIGKILL), also when the `with` body raises.

    with Netns(...) as ns, Dnsmasq(ns, "10.0.0.50,10.0.0.99,2m", "build/test/x") as d:
        ...
        d.stop(); d.start(range_="10.0.0.150,10.0.0.199,2m")   # a new range

dnsmasq's minimum lease is 2 minutes (shorter ones are raised to it).
"""
import os
import subprocess
import time

STOP_SECS = 5


class DnsmasqError(Exception):
    pass


class Dnsmasq:
    def __init__(self, ns, range_, path_base, tap="tap0", extra=()):
        """range_: dnsmasq's --dhcp-range (first,last,lease); path_base: where
        its files go (path_base.leases, path_base-dnsmasq.log)."""
        self.ns = ns
        self.range = range_
        self.tap = tap
        self.extra = list(extra)
        self.leases = os.path.abspath(path_base + ".leases")
        self.log_path = path_base + "-dnsmasq.log"
        self.proc = None
        self._log = None
        for p in (self.leases, self.log_path):  # a fresh run: no lease remembered
            if os.path.exists(p):
                os.unlink(p)

    def argv(self):
        return ["dnsmasq", "--no-daemon", "--port=0", "--dhcp-range=" + self.range,
                "--dhcp-leasefile=" + self.leases, "--bind-interfaces",
                "--interface=" + self.tap, "--except-interface=lo", "--conf-file=/dev/null",
                "--log-dhcp", "--log-facility=-"] + self.extra

    def start(self, range_=None, wait=10.0):
        """Starts it (with another range when given) and waits until it serves."""
        if range_:
            self.range = range_
        if not os.path.exists(self.leases):
            open(self.leases, "w").close()
        self._log = open(self.log_path, "a")
        self._log.write("=== start: %s\n" % " ".join(self.argv()))
        self._log.flush()
        since = len(self.log())  # this start's lines only
        self.proc = subprocess.Popen(self.ns.cmd(self.argv()), stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + wait
        while "DHCP, IP range" not in self.log()[since:]:
            if self.proc.poll() is not None:
                raise DnsmasqError("dnsmasq exited (status %s): %s"
                                   % (self.proc.returncode, self.log()[-500:]))
            if time.monotonic() > deadline:
                raise DnsmasqError("dnsmasq not serving after %.0f s: %s"
                                   % (wait, self.log()[-500:]))
            time.sleep(0.05)
        return self

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """SIGTERM to our dnsmasq (ip netns exec execs it in place: the pid is
        dnsmasq's), SIGKILL after STOP_SECS."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_SECS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_SECS)
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
