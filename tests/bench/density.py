#!/usr/bin/python3
"""make density: many guests side by side on one bridge, and what they cost idle.

    density.py [--guests N] [--linux N] [--bios qboot|seabios] [--idle-seconds S]
               [--out build/density] [--check]

One network namespace made for the run (tests/lib/netns.py: lo, a bridge br0
holding the host side 10.0.0.1/24, one tap per guest on it, no default route;
removed afterwards, whatever happens). Then, for the unikernel (N guests, -m 4,
ip=10.0.0.2 and up) and afterwards for the reference Linux guest
(tests/bench/build_linux_guest.py; --linux of them, at a count the host can
hold, -m 128):

1. A prober (tests/tools/multi_ping.py, inside the namespace) sends an ICMP echo
   request to every guest's address every 10 ms; once it is sending, every QEMU
   is started (each exec'd in place by `ip netns exec`, so the pid held is
   QEMU's; only those pids are ever killed). Measured: when each guest first
   answered, from its own QEMU's start and from the first QEMU's start. The
   host knows every guest's MAC (permanent neighbour entries): the host's ARP
   timers play no part.
2. Unikernel only: every guest pings its neighbour (guest i the address of
   guest i+1) from its own console (`ping <ip> 1`), over the bridge.
3. Once the guests have been quiet for a few seconds: each QEMU's CPU time over
   --idle-seconds, from /proc/<pid>/stat (utime + stime, clock ticks) and from
   /proc/<pid>/task/*/schedstat (nanoseconds, the same time more finely), and
   its resident memory (VmRSS).

Writes OUT/report.md and OUT/metrics.txt (`metric value unit` lines, also
printed). --check (make test's short version) prints PASS/FAIL lines instead of
failing silently: every guest answers, every console ping is answered, an idle
guest takes under --max-idle-cpu percent of a core.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import signal
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from guest import Guest, GuestError  # noqa: E402
from netns import Netns  # noqa: E402

PY = "/usr/bin/python3"
PROBER = os.path.join(ROOT, "tests", "tools", "multi_ping.py")
QBOOT = "/usr/share/qemu/qboot.rom"
LINUX_DIR = os.path.join(ROOT, "build", "bench", "linux")
SETTLE_S = 3.0  # the driver's watchdog relaxes to once a second after 1 s of quiet
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print("density: " + msg, file=sys.stderr, flush=True)


def guest_ip(i):
    return "10.0.0.%d" % (2 + i)


def guest_mac(i):
    return "52:54:00:d5:%02x:%02x" % (i >> 8, i & 0xFF)


# ------------------------------------------------------------------ /proc

def cpu_ticks(pid):
    """utime + stime of the process, in clock ticks."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def cpu_ns(pid):
    """Run time of all its threads, in nanoseconds (schedstat)."""
    t = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            t += int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0])
        except (OSError, ValueError):
            pass  # a thread that just ended
    return t


def rss_kib(pid):
    m = re.search(r"^VmRSS:\s+(\d+) kB", open("/proc/%d/status" % pid).read(), re.M)
    return int(m.group(1)) if m else None


def pss_kib(pid):
    """Proportional set size: shared pages (QEMU's libraries) divided among the
    processes that map them, i.e. what one more guest costs."""
    try:
        m = re.search(r"^Pss:\s+(\d+) kB", open("/proc/%d/smaps_rollup" % pid).read(), re.M)
    except OSError:
        return None
    return int(m.group(1)) if m else None


# ------------------------------------------------------------------ one set

class GuestSet:
    """N guests of one kind on the namespace's taps, with their start times."""

    def __init__(self, a, ns, kind, n):
        self.a, self.ns, self.kind, self.n = a, ns, kind, n
        self.guests, self.t_start = [], []
        self.logdir = os.path.join(a.out, "logs")
        os.makedirs(self.logdir, exist_ok=True)

    def make(self, i):
        bios = ["-bios", QBOOT] if self.a.bios == "qboot" else []
        bios += ["-machine", self.a.machine]
        nic = [{"tap": "tap%d" % i, "mac": guest_mac(i)}]
        logp = os.path.join(self.logdir, "%s-%d.log" % (self.kind, i))
        if self.kind == "uknet":
            return Guest(cmdline="ip=%s/24" % guest_ip(i), netns=self.ns.name, nics=nic,
                         mem=str(self.a.mem), extra=bios, log_path=logp)
        return Guest(cmdline="console=ttyS0 quiet panic=-1 bench.ip=%s/24" % guest_ip(i),
                     netns=self.ns.name, nics=nic, mem=str(self.a.linux_mem),
                     kernel=os.path.join(LINUX_DIR, "vmlinuz"),
                     extra=["-initrd", os.path.join(LINUX_DIR, "initrd.img")] + bios,
                     log_path=logp)

    def drain(self):
        """Reads what the consoles printed, so that no QEMU blocks on a full pipe."""
        for g in self.guests:
            if g.proc and g.proc.poll() is None:
                while g._read(0) is True:
                    pass

    def boot(self, timeout):
        """Starts the prober, then every guest; returns per-guest seconds from its
        own start to its first reply (None: never), and from the first start."""
        addrs = [guest_ip(i) for i in range(self.n)]
        ready = os.path.join(self.a.out, "prober-%s.ready" % self.kind)
        if os.path.exists(ready):
            os.unlink(ready)
        probe = subprocess.Popen(self.ns.cmd([PY, PROBER, "--interval", "0.01",
                                              "--timeout", str(timeout),
                                              "--ready-file", ready] + addrs),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            t_wait = time.monotonic()
            while not os.path.exists(ready) and probe.poll() is None and \
                    time.monotonic() - t_wait < 20:
                time.sleep(0.01)
            if not os.path.exists(ready):
                raise GuestError("the prober did not start: %s" % probe.stderr.read()[-300:])
            for i in range(self.n):
                g = self.make(i)
                self.t_start.append(time.monotonic())
                self.guests.append(g.start())
            while probe.poll() is None:
                self.drain()
                time.sleep(0.05)
            out, err = probe.communicate()
        finally:
            if probe.poll() is None:
                probe.kill()
                probe.wait()
            if os.path.exists(ready):
                os.unlink(ready)
        try:
            first = json.loads(out)["first_reply_mono"]
        except (ValueError, KeyError):
            raise GuestError("prober failed: %s" % err[-300:])
        own = [first[guest_ip(i)] - self.t_start[i] if first[guest_ip(i)] is not None else None
               for i in range(self.n)]
        t0 = min(self.t_start)
        since_first = [first[guest_ip(i)] - t0 if first[guest_ip(i)] is not None else None
                       for i in range(self.n)]
        return own, since_first

    def neighbour_pings(self, timeout=20.0):
        """Every guest pings the next one's address from its console; returns the
        indexes whose ping got no reply."""
        for i, g in enumerate(self.guests):
            g._wait_prompt(timeout)
            g.pos = len(g.buf)
            g.send("ping %s 1\r" % guest_ip((i + 1) % self.n))
        failed = []
        for i, g in enumerate(self.guests):
            try:
                m = g.expect(r"ping statistics: (\d+) transmitted, (\d+) received", timeout)
                if int(m.group(2)) < 1:
                    failed.append(i)
            except GuestError:
                failed.append(i)
        return failed

    def idle(self, seconds):
        """Per-guest CPU share (percent of a core) over seconds, two ways, and RSS."""
        pids = [g.proc.pid for g in self.guests]
        t0 = time.monotonic()
        ticks0 = [cpu_ticks(p) for p in pids]
        ns0 = [cpu_ns(p) for p in pids]
        end = t0 + seconds
        while time.monotonic() < end:
            self.drain()
            time.sleep(min(0.5, max(0.0, end - time.monotonic())))
        dt = time.monotonic() - t0
        ticks = [(cpu_ticks(p) - a) / CLK_TCK for p, a in zip(pids, ticks0)]
        ns = [(cpu_ns(p) - a) / 1e9 for p, a in zip(pids, ns0)]
        return {"stat_pct": [100.0 * t / dt for t in ticks],
                "schedstat_pct": [100.0 * t / dt for t in ns],
                "rss_mib": [rss_kib(p) / 1024.0 for p in pids],
                "pss_mib": [pss_kib(p) / 1024.0 for p in pids],
                "seconds": dt}

    def stop(self):
        for g in self.guests:
            g.stop()  # kills only the pid it started

    def alive(self):
        return sum(1 for g in self.guests if g.proc.poll() is None)


def run_set(a, ns, kind, n, timeout):
    res = {"kind": kind, "guests": n, "load_before": os.getloadavg()[0]}
    gs = GuestSet(a, ns, kind, n)
    try:
        own, since_first = gs.boot(timeout)
        res["boot_own"], res["boot_since_first"] = own, since_first
        res["answered"] = sum(1 for t in own if t is not None)
        log("%s: %d of %d guests answered, the last %.2f s after the first QEMU started" % (
            kind, res["answered"], n, max([t for t in since_first if t is not None] or [0])))
        if kind == "uknet" and res["answered"] == n:
            res["ping_failed"] = gs.neighbour_pings()
            log("uknet: console pings to the neighbour: %d of %d answered" % (
                n - len(res["ping_failed"]), n))
        time.sleep(SETTLE_S)
        res["idle"] = gs.idle(a.idle_seconds)
        res["alive"] = gs.alive()
        res["load_during"] = os.getloadavg()[0]
    except GuestError as e:
        res["error"] = str(e)
        log("%s: %s" % (kind, e))
    finally:
        gs.stop()
    return res


# ------------------------------------------------------------------ report

def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def mean(v):
    v = [x for x in v if x is not None]
    return sum(v) / len(v) if v else None


def mx(v):
    v = [x for x in v if x is not None]
    return max(v) if v else None


def figures(r):
    """The set's headline figures, or {} when it did not get that far."""
    f = {}
    if r.get("boot_own"):
        f["guests"] = r["guests"]
        f["answered"] = r["answered"]
        f["all_answer_s"] = mx(r["boot_since_first"]) if r["answered"] == r["guests"] else None
        f["boot_reply_median_s"] = med(r["boot_own"])
        f["boot_reply_max_s"] = mx(r["boot_own"])
    if r.get("idle"):
        i = r["idle"]
        f["idle_cpu_pct"] = mean(i["stat_pct"])
        f["idle_cpu_max_pct"] = mx(i["stat_pct"])
        f["idle_cpu_schedstat_pct"] = mean(i["schedstat_pct"])
        f["idle_cpu_schedstat_max_pct"] = mx(i["schedstat_pct"])
        f["rss_mib"] = mean(i["rss_mib"])
        f["rss_max_mib"] = mx(i["rss_mib"])
        f["pss_mib"] = mean(i["pss_mib"])
    return f


UNITS = {"guests": "count", "answered": "count", "all_answer_s": "s",
         "boot_reply_median_s": "s", "boot_reply_max_s": "s", "idle_cpu_pct": "%",
         "idle_cpu_max_pct": "%", "idle_cpu_schedstat_pct": "%",
         "idle_cpu_schedstat_max_pct": "%", "rss_mib": "MiB", "rss_max_mib": "MiB", "pss_mib": "MiB"}
ROWS = [
    ("guests", "guests started"),
    ("answered", "guests that answered ping"),
    ("all_answer_s", "all answering, seconds after the first QEMU started"),
    ("boot_reply_median_s", "boot to first reply per guest, median (s, from its own QEMU's start)"),
    ("boot_reply_max_s", "boot to first reply per guest, slowest (s)"),
    ("idle_cpu_pct", "idle CPU per guest, mean (% of a core; /proc/pid/stat utime+stime)"),
    ("idle_cpu_max_pct", "idle CPU per guest, max (%, utime+stime)"),
    ("idle_cpu_schedstat_pct", "idle CPU per guest, mean (%, schedstat: nanoseconds)"),
    ("idle_cpu_schedstat_max_pct", "idle CPU per guest, max (%, schedstat)"),
    ("rss_mib", "QEMU resident memory per guest, mean (MiB)"),
    ("rss_max_mib", "QEMU resident memory per guest, max (MiB)"),
    ("pss_mib", "QEMU proportional memory per guest, mean (MiB; shared pages divided "
                "among the QEMUs: what one more guest costs)"),
]


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, int):
        return str(v)
    return "%.4f" % v if abs(v) < 1 else "%.2f" % v


def write_report(a, sets, out):
    f = {r["kind"]: figures(r) for r in sets}
    kinds = [r["kind"] for r in sets]
    lines = ["# Density report", "",
             "%s; host: %d cores, load average (1 min) %s. QEMU `-accel tcg -machine %s -smp 1`,"
             " firmware %s, one tap per guest on one bridge in a network namespace made for the"
             " run; unikernel `-m %d`, Linux `-m %d`. Idle figures over %.0f s, after %.0f s of"
             " quiet." % (time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(),
                          ", ".join("%s %.2f → %.2f" % (r["kind"], r["load_before"],
                                                        r.get("load_during", float("nan")))
                                    for r in sets),
                          a.machine, a.bios, a.mem, a.linux_mem, a.idle_seconds, SETTLE_S), "",
             "| figure | " + " | ".join(kinds) +
             (" | uknet / Linux |" if len(kinds) == 2 else " |"),
             "|---|" + "---|" * (len(kinds) + (1 if len(kinds) == 2 else 0))]
    for key, label in ROWS:
        cells = [fmt(f[k].get(key)) for k in kinds]
        if len(kinds) == 2:
            x, y = f[kinds[0]].get(key), f[kinds[1]].get(key)
            ratio = fmt(x / y) if x is not None and y and key not in ("guests", "answered") else "—"
            cells.append(ratio)
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    lines += ["", "An idle unikernel still wakes once a second: the virtio-net driver's "
              "watchdog looks at its queues (docs/virtio-notifications.md); that look is "
              "part of the idle figure.", ""]
    for r in sets:
        if r.get("error"):
            lines.append("- %s: %s" % (r["kind"], r["error"]))
        if r.get("ping_failed"):
            lines.append("- %s: console pings to the neighbour unanswered from guests %s" % (
                r["kind"], r["ping_failed"]))
    with open(os.path.join(out, "report.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    metrics = []
    for k in kinds:
        for key, _label in ROWS:
            v = f[k].get(key)
            if v is not None:
                metrics.append("density_%s_%s %.6g %s" % (k, key, v, UNITS[key]))
    if len(kinds) == 2:
        for key in ("idle_cpu_pct", "idle_cpu_schedstat_pct", "rss_mib", "pss_mib"):
            x, y = f[kinds[0]].get(key), f[kinds[1]].get(key)
            if x is not None and y:
                metrics.append("density_ratio_uknet_linux_%s %.4g x" % (key, x / y))
    with open(os.path.join(out, "metrics.txt"), "w") as fh:
        fh.write("\n".join(metrics) + "\n")
    with open(os.path.join(out, "results.json"), "w") as fh:
        json.dump(sets, fh)
    return metrics


def checks(a, sets):
    """PASS/FAIL lines; returns the number of failures."""
    fails = 0

    def check(name, ok, why):
        nonlocal fails
        print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)), flush=True)
        fails += 0 if ok else 1

    for r in sets:
        k, n = r["kind"], r["guests"]
        check("density-%s-%d-guests-answer" % (k, n), r.get("answered") == n,
              r.get("error") or "%s of %d answered within %.0f s" % (r.get("answered"), n,
                                                                     a.boot_timeout))
        if k == "uknet":
            pf = r.get("ping_failed")
            check("density-uknet-neighbour-pings", pf == [],
                  "no console pings (guests did not all answer)" if pf is None
                  else "unanswered from guests %s" % pf)
        f = figures(r)
        cpu = f.get("idle_cpu_schedstat_pct")
        check("density-%s-idle-cpu" % k, cpu is not None and cpu < a.max_idle_cpu and
              r.get("alive") == n,
              "mean %s %% of a core per idle guest (bound %.2f %%), %s of %d alive" % (
                  fmt(cpu), a.max_idle_cpu, r.get("alive"), n))
    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guests", type=int, default=int(os.environ.get("DENSITY_N", "32")))
    ap.add_argument("--linux", type=int, default=int(os.environ.get("DENSITY_LINUX_N", "8")))
    ap.add_argument("--bios", choices=("qboot", "seabios"),
                    default=os.environ.get("DENSITY_BIOS", "qboot"))
    ap.add_argument("--machine", default="pc",
                    help="QEMU's -machine for every guest, e.g. "
                         "pc,acpi=off,hpet=off,smbus=off,usb=off (what neither guest needs)")
    ap.add_argument("--mem", type=int, default=4)
    ap.add_argument("--linux-mem", type=int, default=128)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--boot-timeout", type=float, default=60.0)
    ap.add_argument("--linux-boot-timeout", type=float, default=0,
                    help="default: 60 s + 30 s per Linux guest")
    ap.add_argument("--max-idle-cpu", type=float, default=1.0,
                    help="--check: bound on the mean idle CPU per guest, percent of a core")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "density"))
    ap.add_argument("--check", action="store_true", help="PASS/FAIL lines (make test)")
    a = ap.parse_args()
    if not 1 <= a.guests <= 250 or not 0 <= a.linux <= 250:
        ap.error("1..250 guests (addresses 10.0.0.2 and up)")
    if os.geteuid() != 0:
        sys.exit("density: needs root (network namespace, taps)")
    if a.bios == "qboot" and not os.path.exists(QBOOT):
        sys.exit("density: %s missing (Debian's qemu-system-data)" % QBOOT)
    if a.linux and not os.path.exists(os.path.join(LINUX_DIR, "vmlinuz")):
        sys.exit("density: no Linux guest in %s (tests/bench/build_linux_guest.py)" % LINUX_DIR)
    os.chdir(ROOT)
    os.makedirs(a.out, exist_ok=True)
    # SIGTERM/SIGHUP end the run through the finally clauses: our QEMUs are
    # stopped and the namespace removed.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda n, _f: sys.exit(128 + n))
    n_taps = max(a.guests, a.linux)
    sets = []
    with Netns("uknet-dens", taps=["tap%d" % i for i in range(n_taps)], bridge="br0") as ns:
        for i in range(n_taps):  # the host knows every guest's MAC: no ARP wait
            ns.run(["ip", "neigh", "replace", guest_ip(i), "lladdr", guest_mac(i),
                    "dev", "br0", "nud", "permanent"])
        sets.append(run_set(a, ns, "uknet", a.guests, a.boot_timeout))
        if a.linux:
            sets.append(run_set(a, ns, "linux", a.linux,
                                a.linux_boot_timeout or 60 + 30 * a.linux))
    metrics = write_report(a, sets, a.out)
    if a.check:
        return 1 if checks(a, sets) else 0
    print("\n".join(metrics))
    log("report: %s" % os.path.join(a.out, "report.md"))
    return 0 if all(r.get("answered") == r["guests"] for r in sets) else 1


if __name__ == "__main__":
    sys.exit(main())
