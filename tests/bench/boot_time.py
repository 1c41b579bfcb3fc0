#!/usr/bin/python3
"""Boot times of the unikernel under QEMU, over several boots.

usage: boot_time.py [--runs N] [--pattern REGEX] [--kernel PATH] [--mem MIB]
                    [--ping] [-- extra QEMU args]

Without --ping (no network, no root): wall time from QEMU's exec to the first
console line matching --pattern (default: the kernel's banner).

With --ping (root): in a network namespace made for the run (tests/lib/netns.py:
lo and tap0 only, no default route, removed afterwards), a prober
(tests/tools/udp_echo_client.py) sends an ICMP echo request every --probe-ms
milliseconds from before QEMU starts (to the guest's MAC, entered as a permanent
neighbour, so that the host's ARP timers play no part); the guest boots with a virtio-net NIC on
the tap. Measured per boot: QEMU's exec to the first console line, to
"kernel: ready", and to the first echo reply (the probe interval bounds its
resolution), and the kernel's own time stamp of "kernel: ready" (guest time from
kmain's first instruction).

Prints `metric value unit` lines: min, median and max of each figure.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
CLIENT = os.path.join(ROOT, "tests", "tools", "udp_echo_client.py")
PY = "/usr/bin/python3"
READY = re.compile(rb"\[ *(\d+)\.(\d{6})\] kernel: ready")
GUEST_MAC = "52:54:00:12:34:56"


def qemu_argv(kernel, mem, cmdline, extra, nic):
    a = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(mem), "-nodefaults", "-nographic",
         "-no-reboot", "-monitor", "none", "-serial", "stdio",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
         "-kernel", kernel, "-append", cmdline]
    if nic:
        a += ["-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
              "-device", "virtio-net-pci,netdev=n0,romfile=,mac=" + GUEST_MAC]
    return a + extra


class Console:
    """QEMU's stdout, read without blocking, with the wall time each pattern was
    first seen."""

    def __init__(self, proc, t0):
        self.proc, self.t0, self.buf = proc, t0, b""
        os.set_blocking(proc.stdout.fileno(), False)

    def poll(self):
        try:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        self.buf += chunk or b""

    def wait_for(self, rx, timeout):
        while time.monotonic() - self.t0 < timeout:
            self.poll()
            if rx.search(self.buf):
                return time.monotonic() - self.t0
            if self.proc.poll() is not None:
                return None
            time.sleep(0.0005)
        return None


def stop(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def one_boot(a):
    cmd = qemu_argv(a.kernel, a.mem, "mode=net", a.extra, nic=False)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        return {"banner": Console(p, t0).wait_for(re.compile(a.pattern.encode()), a.timeout)}
    finally:
        stop(p)


def tap_tx(ns):
    """Frames the host has sent (or dropped for want of a reader) on tap0."""
    out = subprocess.run(["ip", "-n", ns.name, "-s", "-j", "link", "show", "tap0"],
                         capture_output=True, text=True).stdout
    try:
        tx = json.loads(out)[0]["stats64"]["tx"]
        return tx["packets"] + tx["dropped"]
    except (ValueError, KeyError, IndexError):
        return 0


def one_ping_boot(a, ns):
    """QEMU in ns with the prober already sending: the figures of one boot."""
    probe = subprocess.Popen(ns.cmd([PY, CLIENT, "--json", "--proto", "icmp", "--size", "56",
                                     "--until-reply", "--inflight", "0",
                                     "--interval", str(a.probe_ms / 1000.0),
                                     "--timeout", "0.5", "--count", "1000000",
                                     "--duration", str(a.timeout + 5)]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The guest must not wait for the prober (Python starts slowly on a busy
    # host): QEMU starts once requests are leaving.
    tx0, t_wait = tap_tx(ns), time.monotonic()
    while tap_tx(ns) < tx0 + 3 and time.monotonic() - t_wait < 10:
        time.sleep(0.01)
    t0 = time.monotonic()
    # ip netns exec execs QEMU in place: the pid is QEMU's, the only one killed.
    p = subprocess.Popen(ns.cmd(qemu_argv(a.kernel, a.mem, "mode=net", a.extra, nic=True)),
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    con = Console(p, t0)
    try:
        first = con.wait_for(re.compile(rb"\] "), a.timeout)
        ready = con.wait_for(READY, a.timeout)
        try:
            out, _ = probe.communicate(timeout=a.timeout + 5)
            st = json.loads(out)
        except (subprocess.TimeoutExpired, ValueError):
            st = {}
        m = READY.search(con.buf)
        fr = st.get("first_reply_mono")
        return {"first_line": first, "ready": ready,
                "reply": fr - t0 if fr is not None else None,
                "ready_guest": int(m.group(1)) + int(m.group(2)) / 1e6 if m else None}
    finally:
        stop(probe)
        stop(p)


def report(name, vals, unit="s"):
    vals = [v for v in vals if v is not None]
    if not vals:
        return False
    print("%s_min %.4f %s" % (name, min(vals), unit))
    print("%s_median %.4f %s" % (name, statistics.median(vals), unit))
    print("%s_max %.4f %s" % (name, max(vals), unit))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pattern", default=r"kernel: uknet booted")
    ap.add_argument("--kernel", default="build/kernel.elf")
    ap.add_argument("--mem", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--ping", action="store_true", help="boot to the first echo reply (root)")
    ap.add_argument("--probe-ms", type=float, default=2.0)
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    os.chdir(ROOT)
    runs = []
    if a.ping:
        from netns import Netns
        with Netns("uknet-boot") as ns:
            # The guest's MAC is known: no ARP on the host side, whose timers
            # would quantise the figure (docs/qemu-facts.md).
            subprocess.run(ns.cmd(["ip", "neigh", "replace", "10.0.0.2", "lladdr", GUEST_MAC,
                                   "dev", "tap0", "nud", "permanent"]), check=True)
            runs = [one_ping_boot(a, ns) for _ in range(a.runs)]
    else:
        runs = [one_boot(a) for _ in range(a.runs)]
    ok = True
    if a.ping:
        report("boot_to_first_line", [r["first_line"] for r in runs])
        report("boot_to_ready", [r["ready"] for r in runs])
        report("kernel_ready_guest", [r["ready_guest"] for r in runs])
        ok = report("boot_to_reply", [r["reply"] for r in runs])
        ok = ok and all(r["reply"] is not None for r in runs)
    else:
        ok = report("boot_to_banner", [r["banner"] for r in runs])
        ok = ok and all(r["banner"] is not None for r in runs)
    if not ok:
        print("boot_time: a boot did not get there within %.0f s" % a.timeout, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
