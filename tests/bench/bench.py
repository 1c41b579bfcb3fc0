#!/usr/bin/python3
"""The benchmark harness: the unikernel, the unikernel as a frame reflector and a
reference Linux guest, in one QEMU configuration, measured by the same host tools
in one run; figures as `metric value unit` lines, a Markdown report with ratios,
and PNG plots.

    bench.py --netns NS [--tap tap0] [--out build/bench] [--runs 3]
             [--guests uknet,reflect,linux,linux-offload] [--smoke] [--no-tcp]

Runs inside nothing itself: tests/bench/run.sh (make bench) and
tests/qemu/bench_smoke.sh create the network namespace NS (lo and the tap only,
no default route; this script checks that again) and remove it. Every QEMU and
every load tool runs through `ip netns exec NS`, QEMU pinned to core 0 and the
tool to core 1 (taskset, when there are two cores). Each QEMU is started
directly (`ip netns exec` and `taskset` exec it, so the pid is QEMU's; checked
through /proc) and only those pids are killed.

Guests (GUESTS below): uknet (build/kernel.elf, mode=net), reflect (the same
image, mode=reflect: the driver sends every frame back with the MACs swapped,
the floor set by QEMU, the tap and the host), linux (Debian's kernel with a
busybox initramfs, a static UDP echo server and static epoll TCP servers,
tests/bench/build_linux_guest.py), and linux-offload (the same with QEMU's
default virtio-net offloads on; every other guest runs with all offloads off).

TCP (the guests with a stack): bulk to the discard service and from chargen,
echo checked byte-exactly, connection rate (tests/tools/tcp_load.c), HTTP
requests per second with wrk, keep-alive and one request per connection. Each
service's port is probed first with a bounded connect; a guest where nothing
answers on ports 80 and 7 has its TCP rows skipped with a note (uknet before
its TCP exists), so the rows fill in by themselves once the services answer.

The reflector sends requests back unanswered, so the host's own stack never sees
a reply: for it the tool sends and receives raw Ethernet frames (--raw) instead
of using sockets, and ping -f is emulated by the tool. The *_raw figures are taken
the same raw way for every guest, so the ratios to the reflector compare like
with like.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from dnsmasq import Dnsmasq, DnsmasqError  # noqa: E402
CLIENT = os.path.join(ROOT, "tests", "tools", "udp_echo_client.py")
FAST_SRC = os.path.join(ROOT, "tests", "tools", "echo_fast.c")
TCP_LOAD_SRC = os.path.join(ROOT, "tests", "tools", "tcp_load.c")
NETGUARD_H = os.path.join(ROOT, "tests", "tools", "netguard.h")
PY = "/usr/bin/python3"
GUEST_IP = "10.0.0.2"
GUEST_MAC = "52:54:00:12:34:56"

OFFLOADS_OFF = ("csum=off,guest_csum=off,gso=off,guest_tso4=off,guest_tso6=off,"
                "guest_ecn=off,guest_ufo=off,host_tso4=off,host_tso6=off,host_ecn=off,"
                "host_ufo=off,mrg_rxbuf=off")

# One QEMU configuration for every guest: same machine, CPU, vCPU count, memory,
# devices; only the image, its command line and (linux-offload) the offloads differ.
MEM_MIB = 256
QEMU_COMMON = ["-accel", "tcg", "-machine", "pc", "-cpu", "qemu64", "-smp", "1",
               "-nodefaults", "-nographic", "-no-reboot", "-monitor", "none",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]

GUESTS = {
    "uknet": {"label": "uknet", "kind": "stack", "offloads": False,
              "image": ["-kernel", "build/kernel.elf", "-append", "mode=net"],
              "boot_timeout": 10, "mem_range": (2, MEM_MIB, 1), "tcp": "probe"},
    "reflect": {"label": "uknet reflector", "kind": "reflect", "offloads": False,
                "image": ["-kernel", "build/kernel.elf", "-append", "mode=reflect"],
                "boot_timeout": 10, "mem_range": None, "tcp": None},
    "linux": {"label": "Linux", "kind": "stack", "offloads": False,
              "image": ["-kernel", "build/bench/linux/vmlinuz",
                        "-initrd", "build/bench/linux/initrd.img",
                        "-append", "console=ttyS0 quiet panic=-1"],
              "boot_timeout": 40, "mem_range": (32, MEM_MIB, 8),
              "tcp": "required"},
    "linux-offload": {"label": "Linux, offloads on", "kind": "stack", "offloads": True,
                      "image": ["-kernel", "build/bench/linux/vmlinuz",
                                "-initrd", "build/bench/linux/initrd.img",
                                "-append", "console=ttyS0 quiet panic=-1"],
                      "boot_timeout": 40, "mem_range": None, "tcp": "required"},
}

# Idle cost: seconds of quiet after the first reply, then seconds measured.
IDLE_SETTLE_S = 3
IDLE_S = 5
QBOOT = "/usr/share/qemu/qboot.rom"
# ip=dhcp: dnsmasq's ping check (3 s) and the guest's address probe (up to 7 s)
# come on top of the boot.
DHCP_BOOT_TIMEOUT = 30

# Seconds per rate measurement (each UDP mode, the flood); keeps `make bench`
# (4 guests, 3 runs) under 10 minutes on 2 cores.
UDP_S = 1.0
FLOOD_S = 2  # whole seconds: ping -w takes no fraction

# TCP: seconds per bulk, HTTP and connection-rate measurement, the bulk runs'
# warm-up (slow start, not counted), wrk's connections, the concurrent
# connection-rate variant, the echo sizes (the figure is the largest one's), the
# bounded connect that tells whether a service answers at all.
TCP_S = 2.0
TCP_WARMUP_S = 0.5
HTTP_CONNS = 8
CONN_CONCURRENCY = 16
ECHO_SIZES = "1,1460,65536,1M,16M"
PROBE_S = 2.0
# service -> port; the HTTP and echo ports decide whether a guest has TCP at all.
TCP_PORTS = {"echo": 7, "discard": 9, "chargen": 19, "http": 80}
# Namespace settings for the TCP rows (this run's namespace only): ephemeral ports
# from 1024 and TIME-WAIT reuse, so the connection-rate and one-request-per-
# connection runs of several guests in a row never run out of source ports.
TCP_SYSCTLS = ["net.ipv4.ip_local_port_range=1024 65535", "net.ipv4.tcp_tw_reuse=1"]

# name -> (unit, better, description). better: "low" or "high".
METRICS = {
    "boot_to_ping": ("s", "low", "QEMU exec to the first echo reply (a request every 5 ms from "
                     "before QEMU starts, to the guest's MAC, a permanent neighbour entry)"),
    "boot_to_ping_qboot": ("s", "low", "the same with Debian's qboot (-bios "
                           "/usr/share/qemu/qboot.rom) instead of SeaBIOS"),
    "boot_to_ping_dhcp": ("s", "low", "the same (SeaBIOS) with ip=dhcp: dnsmasq in the "
                          "namespace hands out 10.0.0.2 (reserved for the guest's MAC, so "
                          "without dnsmasq's ping check of a dynamic address; 2-minute "
                          "lease); includes the guest's RFC 5227 probe of the address "
                          "(4 to 7 s) before it uses it"),
    "dhcp_acked": ("s", "low", "in that boot, the guest's own clock when the ACK came "
                   "(DISCOVER, OFFER, REQUEST, ACK done; the probe follows): the log's "
                   "'requesting -> probing'"),
    "kernel_ready": ("s", "low", "the guest's own clock when it is ready (uknet: the time "
                     "stamp of 'kernel: ready', from kmain's first instruction; Linux: "
                     "/proc/uptime in /init's ready line)"),
    "idle_cpu": ("%", "low", "QEMU's CPU time while the guest idles after its boot, percent "
                 "of a core (%d s, all QEMU threads' schedstat run time, after %d s of quiet; "
                 "uknet still wakes once a second for its driver's watchdog)" % (
                     IDLE_S, IDLE_SETTLE_S)),
    "icmp_rtt_p50": ("us", "low", "ICMP echo RTT, 1000 pings every 10 ms, 56 B"),
    "icmp_rtt_p99": ("us", "low", "same, 99th percentile"),
    "icmp4000_rtt_p50": ("us", "low", "ICMP echo RTT, 4000 B (3 fragments), one at a time"),
    "icmp60000_rtt_p50": ("us", "low", "ICMP echo RTT, 60000 B (41 fragments), one at a time"),
    "flood_rate": ("pkt/s", "high", "flood: ping -f (raw columns: the client's equivalent, the "
                   "next request on the reply or after 10 ms), replies per second"),
    "flood_loss": ("%", "low", "flood loss"),
    "udp64_x1_rate": ("rtt/s", "high", "UDP echo 64 B, one at a time"),
    "udp64_x1_rtt_p50": ("us", "low", "UDP echo 64 B, one at a time, RTT median"),
    "udp64_x32_rate": ("rtt/s", "high", "UDP echo 64 B, 32 in flight"),
    "udp1400_x1_rate": ("rtt/s", "high", "UDP echo 1400 B, one at a time"),
    "udp1400_x32_rate": ("rtt/s", "high", "UDP echo 1400 B, 32 in flight"),
    "udp_loss": ("%", "low", "UDP echo loss over the four UDP runs"),
    "tcp_bulk_rx_mbps": ("Mbit/s", "high", "TCP bulk host → guest: tests/tools/tcp_load.c writes "
                         "to the discard service (port 9) for %g s after %g s of warm-up; the "
                         "bytes the guest acknowledged in that time (then the client's FIN must "
                         "be answered by the guest's)" % (TCP_S, TCP_WARMUP_S)),
    "tcp_bulk_tx_mbps": ("Mbit/s", "high", "TCP bulk guest → host: tcp_load.c reads from the "
                         "chargen service (port 19) for %g s after %g s of warm-up, every byte "
                         "checked against RFC 864's pattern" % (TCP_S, TCP_WARMUP_S)),
    "tcp_echo_mbps": ("Mbit/s", "high", "16 MiB through the TCP echo service (port 7), sent "
                      "while the echo is read, every byte compared; megabits echoed per second "
                      "(before it, each on a connection of its own, %s bytes checked the same "
                      "way)" % ECHO_SIZES.replace(",16M", "").replace(",", ", ")),
    "http_rps_keepalive": ("req/s", "high", "wrk -t1 -c%d -d%gs http://10.0.0.2/ (GET /, "
                           "persistent connections)" % (HTTP_CONNS, TCP_S)),
    "http_rps_close": ("req/s", "high", "the same with -H 'Connection: close': one request "
                       "per connection, the server closing it after the response"),
    "tcp_conn_rate": ("conn/s", "high", "TCP connections per second, one at a time: connect, "
                      "a 64-byte request and its echo (port 7) compared, close (tcp_load.c, "
                      "%g s)" % TCP_S),
    "tcp_conn_rate_x16": ("conn/s", "high", "the same with %d connections at a time" %
                          CONN_CONCURRENCY),
    "tcp_errors": ("count", "low", "TCP and HTTP failures: wrong echoed or chargen bytes, resets, "
                   "stalls, failed connections, wrk's socket errors and non-2xx answers, "
                   "curl's answers for /, /stats and a missing page other than 200, 200, 404"),
    "bad_replies": ("count", "low", "replies with a wrong payload or checksum, all tests"),
    "client_cpu": ("%", "—", "the echo client's CPU share in its busiest UDP run (near 100 %: "
                   "the client, not the guest, set the rate)"),
}
# Columns of the report: a guest measured through one transport. The stacks are
# measured with kernel sockets and ping (uknet also with raw frames, on the same
# boot, so that it compares like with like against the reflector).
COLUMNS = {
    "uknet": "uknet",
    "linux": "Linux",
    "linux-offload": "Linux, offloads on",
    "uknet-raw": "uknet, raw frames",
    "reflect": "reflector, raw frames",
}
RATIOS = [("uknet", "linux", "uknet / Linux"),
          ("uknet", "linux-offload", "uknet / Linux, offloads on"),
          ("uknet-raw", "reflect", "uknet / reflector (raw)")]
ONCE_METRICS = {
    "min_mem": ("MiB", "low", "smallest -m that boots and answers ping (bisection)"),
    "image_elf": ("B", "low", "image QEMU boots with -kernel (Linux: bzImage + initramfs)"),
    "image_iso": ("B", "low", "GRUB rescue ISO"),
}


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


# ------------------------------------------------------------------ environment

class Env:
    def __init__(self, a):
        self.ns = a.netns
        self.tap = a.tap
        self.out = a.out
        self.logs = os.path.join(a.out, "logs")
        os.makedirs(self.logs, exist_ok=True)
        two = (os.cpu_count() or 1) >= 2
        self.pin_qemu = ["taskset", "-c", "0"] if two else []
        self.pin_tool = ["taskset", "-c", "1"] if two else []
        self.children = set()
        self.notes = []  # what was skipped and why, once each (the report's Notes)
        self.fast = self.build_fast()
        self.tcp_load = self.build_tool(TCP_LOAD_SRC, "tcp_load")

    def check_netns(self):
        """The network rule: NS exists, holds only lo and the tap, no default route."""
        if self.ns not in sh(["ip", "netns", "list"]).stdout.split():
            sys.exit("bench: network namespace %s does not exist" % self.ns)
        for fam in ("-4", "-6"):
            r = sh(["ip", "-n", self.ns, fam, "route", "show", "default"]).stdout.strip()
            if r:
                sys.exit("bench: namespace %s has a default route (%s); refusing" % (self.ns, r))
        links = re.findall(r"^\d+: ([^:@]+)", sh(["ip", "-n", self.ns, "-o", "link"]).stdout, re.M)
        if sorted(links) != sorted(["lo", self.tap]):
            sys.exit("bench: namespace %s holds %s, want lo and %s only" % (self.ns, links, self.tap))

    def nsexec(self, pin, argv):
        return ["ip", "netns", "exec", self.ns] + pin + argv

    def flush_neigh(self):
        sh(["ip", "-n", self.ns, "neigh", "flush", "dev", self.tap])

    # -------------------------------------------------------------- QEMU
    def qemu_argv(self, guest, mem, logfile, bios=None, append=None):
        g = GUESTS[guest]
        image = list(g["image"])
        if append is not None:  # another kernel command line
            image[image.index("-append") + 1] = append
        nic = "virtio-net-pci,netdev=n0,mac=%s,romfile=" % GUEST_MAC
        if not g["offloads"]:
            nic += "," + OFFLOADS_OFF
        return (["qemu-system-x86_64"] + QEMU_COMMON + ["-m", str(mem),
                "-serial", "file:" + logfile,
                "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no" % self.tap,
                "-device", nic] + (["-bios", bios] if bios else []) + image)

    def start_qemu(self, guest, mem, logfile, bios=None, append=None):
        argv = self.nsexec(self.pin_qemu, self.qemu_argv(guest, mem, logfile, bios, append))
        p = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=open(logfile + ".stderr", "w"))
        t_exec = time.monotonic()
        self.children.add(p)
        # `ip netns exec` and `taskset` exec in place: the pid must become QEMU's.
        deadline = time.monotonic() + 3
        comm = ""
        while time.monotonic() < deadline and p.poll() is None:
            try:
                comm = open("/proc/%d/comm" % p.pid).read().strip()
            except OSError:
                comm = ""
            if comm.startswith("qemu-system"):
                break
            time.sleep(0.005)
        if p.poll() is None and not comm.startswith("qemu-system"):
            self.stop(p)
            raise RuntimeError("pid %d is %r, not QEMU" % (p.pid, comm))
        return p, t_exec

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.children.discard(p)

    def stop_all(self):
        for p in list(self.children):
            self.stop(p)

    # -------------------------------------------------------------- tools
    def build_tool(self, src, name):
        """Builds a C tool of tests/tools/ into OUT/tools/NAME (again when it or
        netguard.h changed); None when gcc fails."""
        exe = os.path.join(self.out, "tools", name)
        os.makedirs(os.path.dirname(exe), exist_ok=True)
        newest = max(os.path.getmtime(src), os.path.getmtime(NETGUARD_H))
        if not os.path.exists(exe) or os.path.getmtime(exe) < newest:
            r = sh(["gcc", "-O2", "-Wall", "-Wextra", "-o", exe, src])
            if r.returncode != 0:
                log("%s did not build: %s" % (os.path.basename(src), r.stderr.strip()[-300:]))
                return None
        return exe

    def build_fast(self):
        """Builds tests/tools/echo_fast.c (the C client for rates and RTTs, whose own
        cost stays far below the guests'); without it the Python client does all."""
        exe = self.build_tool(FAST_SRC, "echo_fast")
        if exe is None:
            log("the Python client does everything")
        return exe

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)
            log(text)

    def tcp(self, args, timeout):
        """Runs tests/tools/tcp_load.c in the namespace; its JSON (with the exit
        status as "rc"), or None when it printed none."""
        argv = self.nsexec(self.pin_tool, [self.tcp_load, "--host", GUEST_IP] + args)
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            log("tcp_load timed out: %s" % " ".join(args))
            return None
        try:
            st = json.loads(r.stdout)
        except ValueError:
            log("tcp_load failed (%d): %s" % (r.returncode, r.stderr.strip()[-300:]))
            return None
        st["rc"] = r.returncode
        return st

    def tcp_answers(self, port):
        """Whether a connection to the guest's port opens within PROBE_S."""
        st = self.tcp(["--mode", "probe", "--port", str(port), "--timeout", str(PROBE_S)],
                      PROBE_S + 10)
        return bool(st and st.get("connected"))

    def wrk(self, close):
        """wrk against GET / on port 80: {rps, requests, errors} or None. With
        close, every request says `Connection: close` (wrk opens a connection per
        request when the answer says it will close)."""
        if not shutil.which("wrk"):
            return None
        argv = ["wrk", "-t1", "-c%d" % HTTP_CONNS, "-d%gs" % TCP_S, "--timeout", "2s"]
        argv += ["-H", "Connection: close"] if close else []
        try:
            r = subprocess.run(self.nsexec(self.pin_tool, argv + ["http://%s/" % GUEST_IP]),
                               capture_output=True, text=True, timeout=TCP_S + 30)
        except subprocess.TimeoutExpired:
            log("wrk timed out")
            return None
        m = re.search(r"^Requests/sec:\s+([\d.]+)", r.stdout, re.M)
        n = re.search(r"(\d+) requests in", r.stdout)
        if r.returncode != 0 or not m or not n:
            log("wrk failed (%d): %s" % (r.returncode, (r.stdout + r.stderr).strip()[-300:]))
            return None
        errs = sum(int(x) for x in re.findall(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
            r.stdout)[0]) if "Socket errors" in r.stdout else 0
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
        return {"rps": float(m.group(1)), "requests": int(n.group(1)),
                "errors": errs + (int(bad.group(1)) if bad else 0)}

    def http_codes(self):
        """curl's status codes for /, /stats and a page that does not exist (want
        200, 200, 404), or None without curl."""
        if not shutil.which("curl"):
            return None
        codes = []
        for path in ("/", "/stats", "/no-such-page"):
            argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                    "http://%s%s" % (GUEST_IP, path)]
            try:
                r = subprocess.run(self.nsexec(self.pin_tool, argv), capture_output=True,
                                   text=True, timeout=15)
                codes.append(r.stdout.strip() or "none")
            except subprocess.TimeoutExpired:
                codes.append("timeout")
        return codes

    def client(self, args, timeout, fast=False, rtts=False):
        """Runs an echo client in the namespace: the C one (fast=True, when built,
        for unfragmented requests) or the Python one; returns its JSON stats or None."""
        if fast and self.fast:
            argv = self.nsexec(self.pin_tool, [self.fast] + args + (["--rtts"] if rtts else []))
        else:
            argv = self.nsexec(self.pin_tool, [PY, CLIENT, "--json"] + args)
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            log("client timed out: %s" % " ".join(args))
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            log("client failed (%d): %s" % (r.returncode, r.stderr.strip()[-300:]))
            return None

    def ping_flood(self, secs):
        argv = self.nsexec(self.pin_tool, ["ping", "-f", "-q", "-w", str(secs), GUEST_IP])
        r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 10)
        m = re.search(r"(\d+) packets transmitted, (\d+) received.*?time (\d+)ms", r.stdout)
        if not m:
            log("ping -f: %s" % (r.stdout + r.stderr).strip()[-300:])
            return None
        tx, rx, ms = (int(x) for x in m.groups())
        return {"rate": rx / max(ms / 1000.0, 1e-3), "loss_pct": 100.0 * (tx - rx) / tx if tx else 100.0}

    def boot(self, guest, mem, logfile, timeout, bios=None, append=None):
        """Starts the prober, then QEMU; returns (qemu proc, seconds to first reply
        or None). The QEMU stays up on success for the caller to use. The prober
        sends a request every 5 ms without waiting for replies, to the guest's MAC
        (a permanent neighbour entry: the host's ARP timers play no part)."""
        raw = GUESTS[guest]["kind"] == "reflect"
        self.flush_neigh()
        sh(["ip", "-n", self.ns, "neigh", "replace", GUEST_IP, "lladdr", GUEST_MAC, "dev",
            self.tap, "nud", "permanent"])
        args = ["--proto", "icmp", "--size", "56", "--until-reply", "--inflight", "0",
                "--interval", "0.005", "--timeout", "0.5", "--count", "1000000",
                "--duration", str(timeout + 1)]
        if raw:
            args += ["--raw", self.tap, "--dst-mac", GUEST_MAC]
        probe = subprocess.Popen(self.nsexec(self.pin_tool, [PY, CLIENT, "--json"] + args),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.children.add(probe)
        time.sleep(0.3)  # let the prober start sending before the guest exists
        q, t_exec = self.start_qemu(guest, mem, logfile, bios, append)
        while probe.poll() is None:
            if q.poll() is not None:  # the guest died (panic, -no-reboot): give up now
                break
            if time.monotonic() - t_exec > timeout + 5:
                break
            time.sleep(0.02)
        if probe.poll() is None:
            self.stop(probe)
        out, _err = probe.communicate()
        self.children.discard(probe)
        try:
            st = json.loads(out)
        except ValueError:
            st = None
        if not st or st.get("first_reply_mono") is None:
            self.stop(q)
            return None, None
        return q, st["first_reply_mono"] - t_exec


# ------------------------------------------------------------------ measurements

def suite(env, raw, smoke=False):
    """Every per-run figure of a booted guest, through kernel sockets and ping, or
    with raw frames (raw=True). Returns (figures, RTT samples)."""
    f, samples = {}, {}
    tr = ["--raw", env.tap, "--dst-mac", GUEST_MAC] if raw else []
    bad = 0
    if smoke:
        st = env.client(tr + ["--size", "64", "--count", "200", "--duration", "3",
                              "--timeout", "0.5"], 20, fast=True)
        if st:
            f["udp64_x1_rate"] = st["rate"]
            f["udp64_x1_rtt_p50"] = st["rtt_p50_us"]
            f["udp_loss"] = st["loss_pct"]
            f["bad_replies"] = st["bad"]
        return f, samples
    # ICMP RTT: 1000 pings, 10 ms apart.
    st = env.client(tr + ["--proto", "icmp", "--size", "56", "--interval", "0.01",
                          "--count", "1000", "--duration", "15", "--timeout", "1"], 30,
                    fast=True, rtts=True)
    if st:
        f["icmp_rtt_p50"], f["icmp_rtt_p99"] = st["rtt_p50_us"], st["rtt_p99_us"]
        samples["icmp_rtt"] = st["rtts_us"]
        bad += st["bad"]
    for size in (4000, 60000):
        st = env.client(tr + ["--proto", "icmp", "--size", str(size), "--count", "50",
                              "--duration", "3", "--timeout", "1"], 20)
        if st:
            f["icmp%d_rtt_p50" % size] = st["rtt_p50_us"]
            bad += st["bad"]
    # Flood: ping -f; with raw frames the client's equivalent (one request at a
    # time, the next on the reply or after 10 ms).
    if raw:
        st = env.client(tr + ["--proto", "icmp", "--size", "56", "--timeout", "0.01",
                              "--count", "10000000", "--duration", str(FLOOD_S)], 20, fast=True)
        if st:
            f["flood_rate"], f["flood_loss"] = st["rate"], st["loss_pct"]
            bad += st["bad"]
    else:
        st = env.ping_flood(FLOOD_S)
        if st:
            f["flood_rate"], f["flood_loss"] = st["rate"], st["loss_pct"]
    # UDP echo: 64 and 1400 B, one at a time and 32 in flight.
    sent = lost = 0
    for size in (64, 1400):
        for w in (1, 32):
            st = env.client(tr + ["--size", str(size), "--inflight", str(w),
                                  "--count", "10000000", "--duration", str(UDP_S),
                                  "--timeout", "0.5"], 20, fast=True, rtts=(size, w) == (64, 1))
            if not st:
                continue
            f["udp%d_x%d_rate" % (size, w)] = st["rate"]
            if size == 64 and w == 1:
                f["udp64_x1_rtt_p50"] = st["rtt_p50_us"]
                samples["udp64_rtt"] = st["rtts_us"][:20000]
            sent += st["sent"]
            lost += st["lost"]
            bad += st["bad"]
            f["client_cpu"] = max(f.get("client_cpu", 0), st.get("client_cpu_pct", 0))
    if sent:
        f["udp_loss"] = 100.0 * lost / sent
    f["bad_replies"] = bad
    return f, samples


def tcp_services(env, guest):
    """The TCP services that answer on the booted guest ({service: bool}), or None
    when the guest has no TCP at all (neither HTTP nor echo answers: uknet before
    its TCP exists). A Linux guest must answer on every port."""
    label = GUESTS[guest]["label"]
    up = {svc: env.tcp_answers(TCP_PORTS[svc]) for svc in ("http", "echo")}
    if not any(up.values()):
        if GUESTS[guest]["tcp"] == "probe":
            env.note("%s has no TCP yet: nothing answers on ports 80 and 7 (a connect "
                     "bounded to %g s each); its TCP rows are skipped" % (label, PROBE_S))
        else:
            env.note("%s: nothing answers on TCP ports 80 and 7; its TCP rows are empty "
                     "and counted as errors" % label)
        return None
    for svc in ("discard", "chargen"):
        up[svc] = env.tcp_answers(TCP_PORTS[svc])
    for svc, ok in up.items():
        if not ok:
            env.note("%s: the TCP %s service (port %d) does not answer; its rows are "
                     "skipped" % (label, svc, TCP_PORTS[svc]))
    return up


def tcp_suite(env, guest):
    """The TCP rows of a booted guest whose services answer: {metric: value}.
    tcp_errors counts every failure; a row whose measurement failed stays empty."""
    f, errors = {}, 0
    if not env.tcp_load:
        env.note("tests/tools/tcp_load.c did not build: no TCP rows")
        return f
    up = tcp_services(env, guest)
    required = GUESTS[guest]["tcp"] == "required"
    if up is None:
        if required:
            f["tcp_errors"] = 1
        return f
    if required:  # a reference guest lacking a service is a failure, not a skip
        errors += sum(1 for ok in up.values() if not ok)
    run_s = TCP_S + TCP_WARMUP_S + 20
    timing = ["--duration", str(TCP_S), "--warmup", str(TCP_WARMUP_S), "--timeout", "5"]
    for svc, mode, metric in (("discard", "send", "tcp_bulk_rx_mbps"),
                              ("chargen", "recv", "tcp_bulk_tx_mbps")):
        if up[svc]:
            st = env.tcp(["--mode", mode] + timing, run_s)
            if st and st["rc"] == 0:
                f[metric] = st["mbps"]
            else:
                errors += 1
                log("%s %s: %s" % (guest, metric, st and st.get("error")))
    if up["echo"]:
        st = env.tcp(["--mode", "echo", "--sizes", ECHO_SIZES, "--timeout", "10"], 300)
        if st and st["rc"] == 0:
            f["tcp_echo_mbps"] = st["results"][-1]["mbps"]
        else:
            errors += 1
            log("%s TCP echo: %s" % (guest, st and [r for r in st["results"] if not r["ok"]]))
        for conc, metric in ((1, "tcp_conn_rate"), (CONN_CONCURRENCY, "tcp_conn_rate_x16")):
            st = env.tcp(["--mode", "conn", "--concurrency", str(conc), "--duration",
                          str(TCP_S), "--timeout", "3"], TCP_S + 20)
            if st and st["completed"]:
                f[metric] = st["rate"]
            errors += st["error_total"] if st else 1
            if st and st["error_total"]:
                log("%s %s: errors %s" % (guest, metric, st["errors"]))
    if up["http"]:
        errors += http_rows(env, guest, f)
    f["tcp_errors"] = errors
    return f


def http_rows(env, guest, f):
    """http_rps_keepalive and http_rps_close into f; returns the failures."""
    errors = 0
    codes = env.http_codes()
    if codes is None:
        env.note("curl missing (make deps): the HTTP answers are not checked")
    elif codes != ["200", "200", "404"]:
        errors += 1
        log("%s HTTP: curl got %s for /, /stats, /no-such-page (want 200, 200, 404)" % (
            guest, ", ".join(codes)))
    if not shutil.which("wrk"):
        env.note("wrk missing (make deps): no HTTP rows")
        return errors
    for close, metric in ((False, "http_rps_keepalive"), (True, "http_rps_close")):
        st = env.wrk(close)
        if st and st["requests"]:
            f[metric] = st["rps"]
        errors += st["errors"] if st else 1
        if st and st["errors"]:
            log("%s %s: %d socket errors or non-2xx answers" % (guest, metric, st["errors"]))
    return errors


def qemu_cpu_s(pid):
    """CPU time of all of QEMU's threads (schedstat run time), seconds."""
    t = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            t += int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0])
        except (OSError, ValueError):
            pass  # a thread that just ended
    return t / 1e9


def idle_cpu(q):
    """Percent of a core QEMU takes while the guest idles (IDLE_SETTLE_S of quiet
    first), or None when QEMU died."""
    time.sleep(IDLE_SETTLE_S)
    if q.poll() is not None:
        return None
    c0, t0 = qemu_cpu_s(q.pid), time.monotonic()
    time.sleep(IDLE_S)
    if q.poll() is not None:
        return None
    return 100.0 * (qemu_cpu_s(q.pid) - c0) / (time.monotonic() - t0)


def ready_time(guest, logfile):
    """The guest's own clock at its ready line (see METRICS["kernel_ready"])."""
    try:
        text = open(logfile, errors="replace").read()
    except OSError:
        return None
    m = re.search(r"\[ *(\d+\.\d+)\] kernel: ready", text) if guest in ("uknet", "reflect") \
        else re.search(r"bench-guest: ready .*uptime=(\d+\.\d+)", text)
    return float(m.group(1)) if m else None


def boot_qboot(env, guest, run):
    """Seconds to the first reply when the firmware is qboot (one more boot)."""
    if not os.path.exists(QBOOT):
        return None
    logfile = os.path.join(env.logs, "%s-run%d-qboot.log" % (guest, run))
    q, t = env.boot(guest, MEM_MIB, logfile, GUESTS[guest]["boot_timeout"], bios=QBOOT)
    if q is not None:
        env.stop(q)
    return t


def boot_dhcp(env, guest, run):
    """Seconds to the first reply at the address dnsmasq hands out (ip=dhcp; one
    more boot, its own dnsmasq started before and stopped after), and the guest's
    clock at the ACK."""
    class NsCmd:  # what tests/lib/dnsmasq.py asks of a namespace
        cmd = staticmethod(lambda argv: env.nsexec([], argv))
    base = os.path.join(env.logs, "%s-run%d-dhcp" % (guest, run))
    d = Dnsmasq(NsCmd(), "%s,%s,2m" % (GUEST_IP, GUEST_IP), base, tap=env.tap,
                extra=["--dhcp-host=%s,%s" % (GUEST_MAC, GUEST_IP)])
    try:
        d.start()
        q, t = env.boot(guest, MEM_MIB, base + ".log", DHCP_BOOT_TIMEOUT, append="ip=dhcp")
        if q is not None:
            env.stop(q)
        try:
            text = open(base + ".log", errors="replace").read()
        except OSError:
            text = ""
        m = re.search(r"\[ *(\d+\.\d+)\] dhcp: net0: requesting -> probing", text)
        return t, float(m.group(1)) if m else None
    except DnsmasqError as e:
        log("dnsmasq: %s" % e)
        return None, None
    finally:
        d.stop()


def measure_guest(env, guest, run, smoke=False, with_raw=False, tcp=True):
    """Boots guest once and takes every per-run figure: {column: (figures, samples)},
    or None when it did not answer. The TCP rows come last, after the raw-frame
    suite, so they cannot disturb the other figures."""
    g = GUESTS[guest]
    logfile = os.path.join(env.logs, "%s-run%d.log" % (guest, run))
    q, t = env.boot(guest, MEM_MIB, logfile, g["boot_timeout"])
    if q is None:
        log("%s run %d: no echo reply within %d s (console: %s)" % (
            guest, run, g["boot_timeout"], logfile))
        return None
    out = {}
    try:
        boot = {"boot_to_ping": t, "kernel_ready": ready_time(guest, logfile)}
        if not smoke and guest in ("uknet", "linux"):
            boot["idle_cpu"] = idle_cpu(q)
        f, s = suite(env, g["kind"] == "reflect", smoke)
        f.update(boot)
        out[guest] = (f, s)
        if with_raw and g["kind"] == "stack":
            f, s = suite(env, True, smoke)
            f["boot_to_ping"] = t
            out[guest + "-raw"] = (f, s)
        if tcp and not smoke and g["tcp"]:
            out[guest][0].update(tcp_suite(env, guest))
    finally:
        env.stop(q)
    if not smoke and guest in ("uknet", "linux"):
        out[guest][0]["boot_to_ping_qboot"] = boot_qboot(env, guest, run)
    if not smoke and guest == "uknet":
        f = out[guest][0]
        f["boot_to_ping_dhcp"], f["dhcp_acked"] = boot_dhcp(env, guest, run)
    return out


def min_memory(env, guest):
    """Smallest -m (MiB, to the range's step) at which guest boots and answers."""
    lo, hi, step = GUESTS[guest]["mem_range"]
    timeout = [GUESTS[guest]["boot_timeout"]]
    tried = {}

    def ok(mem):
        logfile = os.path.join(env.logs, "%s-mem%d.log" % (guest, mem))
        q, t = env.boot(guest, mem, logfile, timeout[0])
        if q is not None:
            env.stop(q)
        tried[mem] = t is not None
        log("%s -m %d: %s" % (guest, mem, "answers in %.2f s" % t if t is not None
                                     else "no answer"))
        return t

    t_hi = ok(hi)
    if t_hi is None:
        return None, tried
    # A guest that does not answer in 3x the time it took with plenty of memory
    # counts as not booting (a panicking guest ends QEMU sooner: -no-reboot).
    timeout[0] = min(timeout[0], max(3.0, 3 * t_hi))
    if ok(lo) is not None:
        return lo, tried
    while hi - lo > step:  # invariant: lo fails, hi works
        mid = (lo + hi) // 2
        mid -= (mid - lo) % step or 0
        if mid <= lo:
            mid = lo + step
        if mid >= hi:
            break
        if ok(mid) is not None:
            hi = mid
        else:
            lo = mid
    return hi, tried


def image_sizes():
    out = {"uknet": {}, "linux": {}}
    if os.path.exists(os.path.join(ROOT, "build/kernel.elf")):
        out["uknet"]["image_elf"] = os.path.getsize(os.path.join(ROOT, "build/kernel.elf"))
    iso = os.path.join(ROOT, "build/kernel.iso")
    if os.path.exists(iso):
        out["uknet"]["image_iso"] = os.path.getsize(iso)
    gj = os.path.join(ROOT, "build/bench/linux/guest.json")
    if os.path.exists(gj):
        info = json.load(open(gj))
        out["linux"]["image_elf"] = info["vmlinuz_bytes"] + info["initrd_bytes"]
        if info.get("iso_bytes"):
            out["linux"]["image_iso"] = info["iso_bytes"]
    return out


# ------------------------------------------------------------------ host-side cost

# HOOK(host-cost): instructions per echo on the host build of the stack, from
# tests/bench/echo_cost.sh (the reference frames of tests/bench/gen_frames.py fed
# through the host build, callgrind around the feeding loop only, divided by the
# frame count). It prints `echo_cost_<frames> N instructions/echo` lines;
# anything that prints the same lines can replace it here. Until it exists the
# report says "pending".
HOST_COST_CMD = ["bash", os.path.join(ROOT, "tests/bench/echo_cost.sh")]
HOST_COST_FRAMES = {"icmp56": (1212, 600), "udp64": (1704, 850), "udp1400": (8535, 4250)}


def host_cost():
    """{frames: instructions per echo} or a reason string."""
    if not HOST_COST_CMD or not os.path.exists(HOST_COST_CMD[-1]):
        return "pending: no host-cost command (tests/bench/bench.py, HOOK(host-cost))"
    if not shutil.which("valgrind"):
        return "valgrind missing"
    try:
        r = subprocess.run(HOST_COST_CMD, cwd=ROOT, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return "%s timed out" % " ".join(HOST_COST_CMD)
    res = {}
    for m in re.finditer(r"^echo_cost_(\w+?) (\d+) instructions/echo$", r.stdout, re.M):
        res[m.group(1)] = int(m.group(2))
    if r.returncode != 0 or not res:
        return "%s failed (status %d): %s" % (" ".join(HOST_COST_CMD), r.returncode,
                                              (r.stdout + r.stderr).strip()[-300:])
    return res


# HOOK(tcp-cost): instructions per TCP unit on the host build, from
# tests/bench/tcp_cost.sh (the TCP work's own harness: an in-memory peer drives the
# host build of net/, callgrind counts around the loop that feeds it, divided by
# the units; tests/bench/README.md, "Per-packet cost"). It prints
# `tcp_cost_<workload> N instructions/<unit>` lines for the workloads below; the
# report sets them beside lwIP 2.1.3's figures and the targets (half of lwIP's).
# Without the script the report says "pending".
TCP_COST_CMD = ["bash", os.path.join(ROOT, "tests/bench/tcp_cost.sh")]
TCP_COST_UNITS = {"bulk_recv": ("segment received", 5362, 2680),
                  "bulk_send": ("segment sent", 5721, 2860),
                  "req_resp": ("64 B request/response", 2857, 1430),
                  "conn": ("connection", 9719, 4860)}


def tcp_cost():
    """{workload: instructions per unit} or a reason string."""
    if not os.path.exists(TCP_COST_CMD[-1]):
        return "pending: no tests/bench/tcp_cost.sh yet (tests/bench/bench.py, HOOK(tcp-cost))"
    if not shutil.which("valgrind"):
        return "valgrind missing"
    try:
        r = subprocess.run(TCP_COST_CMD, cwd=ROOT, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return "%s timed out" % " ".join(TCP_COST_CMD)
    res = {m.group(1): int(m.group(2)) for m in
           re.finditer(r"^tcp_cost_(\w+?) (\d+) instructions/\w+$", r.stdout, re.M)}
    if r.returncode != 0 or not res:
        return "%s failed (status %d): %s" % (" ".join(TCP_COST_CMD), r.returncode,
                                              (r.stdout + r.stderr).strip()[-300:])
    return res


# ------------------------------------------------------------------ report

def med_spread(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def fmt(v, unit=""):
    if v is None:
        return "—"
    if unit == "B":
        return "{:,}".format(int(v))
    if unit == "count":
        return "%g" % v
    a = abs(v)
    if a >= 1000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3f" % v


def cell(vals, unit):
    m, lo, hi = med_spread(vals)
    if m is None:
        return "—"
    if len([v for v in vals if v is not None]) == 1 or lo == hi:
        return fmt(m, unit)
    return "%s [%s–%s]" % (fmt(m, unit), fmt(lo, unit), fmt(hi, unit))


def ratios(runs, metric, a, b):
    """Per-run ratio a/b (same run), for the runs where both exist."""
    out = []
    for r in runs:
        x, y = r.get(a, {}).get(metric), r.get(b, {}).get(metric)
        if x is not None and y:
            out.append(x / y)
    return out


def write_report(res, out, plots):
    guests, cols, runs = res["guests"], res["columns"], res["runs"]
    ratio_defs = [(x, y, lab) for x, y, lab in RATIOS if x in cols and y in cols]
    lines = ["# Benchmark report", "",
             "%s, %d run(s), host: %s, %d cores, %s. Figures are medians over the runs "
             "with [min–max]; ratios are taken within each run, then the median [min–max]." % (
                 res["date"], len(runs), res["host"]["kernel"], res["host"]["cores"],
                 res["host"]["qemu"]), ""]
    ld = (res["host"].get("load_start"), res["host"].get("load_end"))
    if ld[1] is not None:
        lines += ["Host load average (1 min) at the start %.2f, at the end %.2f%s" % (
            ld[0], ld[1], ": **other work shared the cores, the figures are noisy**"
            if max(ld) > 1.5 else "."), ""]
    lines += ["## Configuration", "",
              "Every guest: `qemu-system-x86_64 %s -m %d`, `-netdev tap` on a tap inside a "
              "network namespace made for the run (lo and the tap only, no default route), "
              "`-device virtio-net-pci,netdev=n0,mac=%s,romfile=,%s` (every virtio offload "
              "off), except *Linux, offloads on*, which keeps QEMU's default offloads. QEMU "
              "runs on core 0, the load tools on core 1 (taskset)." % (
                  " ".join(QEMU_COMMON), MEM_MIB, GUEST_MAC, OFFLOADS_OFF), "",
              "| guest | image and command line |", "|---|---|"]
    for gname in guests:
        lines.append("| %s | `%s` |" % (GUESTS[gname]["label"], " ".join(GUESTS[gname]["image"])))
    if res.get("linux_guest"):
        li = res["linux_guest"]
        lines += ["", "Linux guest: %s (%s), busybox from %s, modules %s; UDP echo by "
                  "tests/bench/linux_guest/echo7.c (static, recvfrom/sendto); TCP echo, "
                  "discard and chargen by tcpsvc.c, HTTP by http80.c (static, one epoll "
                  "loop each, non-blocking sockets)." % (
                      li.get("kernel_version"), li.get("kernel_package"),
                      li.get("busybox_package"), ", ".join(li.get("modules", [])))]
    lines += ["", "Host tools: %s for the paced ICMP RTT, the flood equivalent and UDP, "
              "tests/tools/udp_echo_client.py for the fragmented ICMP and the boot probe; "
              "through kernel UDP and ICMP sockets, and `ping -f`, for the guests with a "
              "stack; through raw Ethernet "
              "frames (AF_PACKET on the tap) for the *raw frames* columns: the reflector "
              "sends the requests back unanswered, which the host's stack would drop, so "
              "uknet is measured that way too, on the same boot, and the uknet / reflector "
              "ratios compare those two columns." % (
                  "tests/tools/echo_fast.c (C)" if res.get("fast_client")
                  else "tests/tools/udp_echo_client.py (echo_fast.c did not build)"), "",
              "TCP: tests/tools/tcp_load.c (C) for bulk, echo and connection rates, wrk "
              "for HTTP, curl for the HTTP status codes, through the host's TCP stack; "
              "the namespace allows ephemeral ports from 1024 and reuses TIME-WAIT ports "
              "(%s)." % ", ".join(TCP_SYSCTLS), ""]
    lines += ["## Figures", "",
              "| metric | unit | better | " + " | ".join(COLUMNS[c] for c in cols) +
              "".join(" | " + lab for _x, _y, lab in ratio_defs) + " |",
              "|" + "---|" * (3 + len(cols) + len(ratio_defs))]
    for m, (unit, better, _desc) in METRICS.items():
        cells = [cell([r.get(c, {}).get(m) for r in runs], unit) for c in cols]
        if all(x == "—" for x in cells):
            continue
        rats = [cell(ratios(runs, m, x, y), "x") if better != "—" else "—"
                for x, y, _l in ratio_defs]
        lines.append("| " + " | ".join([m, unit, better] + cells + rats) + " |")
    once = res.get("once", {})
    for m, (unit, better, _desc) in ONCE_METRICS.items():
        cells = [fmt(once.get(c, {}).get(m), unit) for c in cols]
        if all(x == "—" for x in cells):
            continue
        rats = []
        for x, y, _l in ratio_defs:
            vx, vy = once.get(x, {}).get(m), once.get(y, {}).get(m)
            rats.append(fmt(vx / vy, "x") if vx is not None and vy else "—")
        lines.append("| " + " | ".join([m, unit, better] + cells + rats) + " |")
    lines += ["", "Metrics: " + "; ".join("`%s`: %s" % (k, v[2]) for k, v in
                                         list(METRICS.items()) + list(ONCE_METRICS.items())), ""]
    hc = res.get("host_cost")
    lines += ["## Host-side cost (instructions per echo, callgrind)", ""]
    if isinstance(hc, dict):
        lines += ["tests/bench/echo_cost.sh: tests/bench/gen_frames.py's frames through "
                  "the host build, counted around the feeding loop only.", "",
                  "| frames | uknet | lwIP 2.1.3 | uknet / lwIP | target |", "|---|---|---|---|---|"]
        for name, (lwip, target) in HOST_COST_FRAMES.items():
            v = hc.get(name)
            lines.append("| %s | %s | %s | %s | ≤ %s |" % (
                name, fmt(v), "{:,}".format(lwip), fmt(v / lwip) if v else "—",
                "{:,}".format(target)))
    elif hc:
        lines.append(str(hc))
    else:
        lines.append("not measured in this run")
    lines += [""]
    tc = res.get("tcp_cost")
    lines += ["## Host-side TCP cost (instructions per unit, callgrind)", ""]
    if isinstance(tc, dict):
        lines += ["tests/bench/tcp_cost.sh: an in-memory peer drives the host build, "
                  "counted around the feeding loop only.", "",
                  "| workload | unit | uknet | lwIP 2.1.3 | uknet / lwIP | target |",
                  "|---|---|---|---|---|---|"]
        for name, (unit, lwip, target) in TCP_COST_UNITS.items():
            v = tc.get(name)
            lines.append("| %s | %s | %s | %s | %s | ≤ %s |" % (
                name, unit, fmt(v), "{:,}".format(lwip), fmt(v / lwip) if v else "—",
                "{:,}".format(target)))
    elif tc:
        lines.append(str(tc))
    else:
        lines.append("not measured in this run")
    lines += [""]
    if res.get("notes"):
        lines += ["## Notes", ""] + ["- " + n for n in res["notes"]] + [""]
    if res.get("failures"):
        lines += ["## Failures", ""] + ["- " + f for f in res["failures"]] + [""]
    if plots:
        lines += ["## Plots", ""] + ["![%s](%s)" % (p, p) for p in plots] + [""]
    lines += ["Raw data: results.json; metric lines: metrics.txt; consoles: logs/.", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))


def metric_lines(res):
    lines = []
    for c in res["columns"]:
        name = c.replace("-", "_")
        for m, (unit, _b, _d) in METRICS.items():
            med, _lo, _hi = med_spread([r.get(c, {}).get(m) for r in res["runs"]])
            if med is not None:
                lines.append("%s_%s %.6g %s" % (name, m, med, unit))
        for m, (unit, _b, _d) in ONCE_METRICS.items():
            v = res.get("once", {}).get(c, {}).get(m)
            if v is not None:
                lines.append("%s_%s %.6g %s" % (name, m, v, unit))
    hc = res.get("host_cost")
    if isinstance(hc, dict):
        for k, v in hc.items():
            lines.append("uknet_host_cost_%s %d instructions/echo" % (k, v))
    tc = res.get("tcp_cost")
    if isinstance(tc, dict):
        for k, v in tc.items():
            lines.append("uknet_tcp_cost_%s %d instructions/unit" % (k, v))
    for x, y, _lab in RATIOS:
        if x not in res["columns"] or y not in res["columns"]:
            continue
        for m, (_u, better, _d) in METRICS.items():
            rs = ratios(res["runs"], m, x, y) if better != "—" else []
            if rs:
                lines.append("ratio_%s_%s_%s %.4g x" % (x.replace("-", "_"), y.replace("-", "_"),
                                                       m, statistics.median(rs)))
    return lines


def make_plots(res, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("python3-matplotlib missing: no plots")
        return []
    cols = res["columns"]
    made = []
    # RTT distributions side by side: ICMP (paced) and UDP 64 B (one at a time).
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for ax, key, title in ((axes[0], "icmp_rtt", "ICMP echo RTT, 56 B, every 10 ms"),
                           (axes[1], "udp64_rtt", "UDP echo RTT, 64 B, one at a time")):
        data, labs = [], []
        for c in cols:
            s = [x for r in res["samples"] for x in r.get(c, {}).get(key, [])]
            if s:
                data.append(s)
                labs.append(COLUMNS[c].replace(", ", ",\n"))
        if data:
            ax.boxplot(data, labels=labs, whis=(1, 99), showfliers=False)
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_ylabel("µs (box: quartiles, whiskers: p1–p99)")
        ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "rtt.png"), dpi=100)
    plt.close(fig)
    made.append("rtt.png")
    # Rate bars: medians with min–max error bars.
    keys = ["flood_rate", "udp64_x1_rate", "udp64_x32_rate", "udp1400_x1_rate", "udp1400_x32_rate"]
    fig, ax = plt.subplots(figsize=(13, 5))
    width = 0.8 / max(1, len(cols))
    for i, c in enumerate(cols):
        meds, errs = [], [[], []]
        for k in keys:
            m, lo, hi = med_spread([r.get(c, {}).get(k) for r in res["runs"]])
            meds.append(m or 0)
            errs[0].append((m - lo) if m else 0)
            errs[1].append((hi - m) if m else 0)
        xs = [j + (i - (len(cols) - 1) / 2) * width for j in range(len(keys))]
        ax.bar(xs, meds, width, yerr=errs, capsize=2, label=COLUMNS[c],
               hatch="//" if c.endswith("raw") or c == "reflect" else None)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([k.replace("_rate", "") for k in keys])
    ax.set_ylabel("replies per second")
    ax.set_title("Echo rates (median of runs, bars: min–max; hatched: raw frames)")
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "rates.png"), dpi=100)
    plt.close(fig)
    made.append("rates.png")
    if tcp_plot(res, out, plt):
        made.append("tcp.png")
    return made


def tcp_plot(res, out, plt):
    """tcp.png: the TCP rows as bars (medians, min–max), Mbit/s on the left and
    requests or connections per second on the right; False when no guest has any."""
    panels = ((["tcp_bulk_rx_mbps", "tcp_bulk_tx_mbps", "tcp_echo_mbps"], "Mbit/s",
               "TCP bulk and echo"),
              (["http_rps_keepalive", "http_rps_close", "tcp_conn_rate", "tcp_conn_rate_x16"],
               "per second", "HTTP requests and TCP connections"))
    cols = [c for c in res["columns"] if any(
        r.get(c, {}).get(k) is not None for r in res["runs"] for p in panels for k in p[0])]
    if not cols:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    width = 0.8 / len(cols)
    for ax, (keys, unit, title) in zip(axes, panels):
        for i, c in enumerate(cols):
            meds, errs = [], [[], []]
            for k in keys:
                m, lo, hi = med_spread([r.get(c, {}).get(k) for r in res["runs"]])
                meds.append(m or 0)
                errs[0].append((m - lo) if m else 0)
                errs[1].append((hi - m) if m else 0)
            xs = [j + (i - (len(cols) - 1) / 2) * width for j in range(len(keys))]
            ax.bar(xs, meds, width, yerr=errs, capsize=2, label=COLUMNS[c])
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels([k.replace("_mbps", "").replace("tcp_", "") for k in keys])
        ax.set_ylabel(unit)
        ax.set_title(title + " (median of runs, bars: min–max)")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, "tcp.png"), dpi=100)
    plt.close(fig)
    return True


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netns", required=True)
    ap.add_argument("--tap", default="tap0")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--guests", default="uknet,reflect,linux,linux-offload")
    ap.add_argument("--no-min-mem", action="store_true", help="skip the -m bisection")
    ap.add_argument("--no-raw", action="store_true", help="skip uknet's raw-frame suite")
    ap.add_argument("--no-tcp", action="store_true", help="skip the TCP and HTTP rows")
    ap.add_argument("--smoke", action="store_true",
                    help="one guest, one run, UDP 64 B only (make test)")
    a = ap.parse_args()
    guests = [g for g in a.guests.split(",") if g]
    for g in guests:
        if g not in GUESTS:
            ap.error("unknown guest %s (%s)" % (g, ", ".join(GUESTS)))
    os.makedirs(a.out, exist_ok=True)
    # SIGTERM/SIGHUP end the run through the finally below, which stops our QEMUs.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda n, _f: sys.exit(128 + n))
    env = Env(a)
    env.check_netns()
    tcp = not a.no_tcp and not a.smoke and any(GUESTS[g]["tcp"] for g in guests)
    if tcp:
        r = sh(["ip", "netns", "exec", env.ns, "sysctl", "-qw"] + TCP_SYSCTLS)
        if r.returncode != 0:
            log("sysctl %s: %s" % (" ".join(TCP_SYSCTLS), r.stderr.strip()))
    res_fast = env.fast is not None
    t_start = time.monotonic()
    qv = sh(["qemu-system-x86_64", "--version"]).stdout.splitlines()
    res = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
           "host": {"kernel": platform.release(), "cores": os.cpu_count(),
                    "qemu": qv[0] if qv else "?", "load_start": os.getloadavg()[0]},
           "guests": guests, "runs": [], "samples": [], "once": {}, "failures": [],
           "fast_client": res_fast}
    # uknet is measured with raw frames too when the reflector is in the run.
    with_raw = "uknet" in guests and "reflect" in guests and not a.no_raw
    res["columns"] = [c for c in COLUMNS if c in guests or (c == "uknet-raw" and with_raw)]
    gj = os.path.join(ROOT, "build/bench/linux/guest.json")
    if any(g.startswith("linux") for g in guests) and os.path.exists(gj):
        res["linux_guest"] = json.load(open(gj))
    try:
        for run in range(1, (1 if a.smoke else a.runs) + 1):
            figs, samp = {}, {}
            for g in guests:
                t0 = time.monotonic()
                got = measure_guest(env, g, run, a.smoke, with_raw=with_raw and g == "uknet",
                                    tcp=tcp)
                if got is None:  # one more try (a busy host can slow a boot down)
                    got = measure_guest(env, g, run, a.smoke, with_raw=with_raw and g == "uknet",
                                        tcp=tcp)
                if got is None:
                    res["failures"].append("%s run %d: no echo reply within %d s of boot" % (
                        g, run, GUESTS[g]["boot_timeout"]))
                    continue
                for c, (f, s) in got.items():
                    figs[c], samp[c] = f, s
                log("%s run %d: %s in %.0f s" % (g, run, ", ".join(
                    "%s %d figures" % (c, len(f)) for c, (f, _s) in got.items()),
                    time.monotonic() - t0))
            res["runs"].append(figs)
            res["samples"].append(samp)
        if not a.smoke:
            sizes = image_sizes()
            for g in guests:
                if g in sizes:
                    res["once"].setdefault(g, {}).update(sizes[g])
            if not a.no_min_mem:
                for g in guests:
                    if GUESTS[g]["mem_range"]:
                        m, tried = min_memory(env, g)
                        res["once"].setdefault(g, {})["min_mem"] = m
                        res["once"][g]["min_mem_tried"] = tried
            res["host_cost"] = host_cost()
            res["tcp_cost"] = tcp_cost()
    finally:
        env.stop_all()
    res["notes"] = env.notes
    res["elapsed_s"] = time.monotonic() - t_start
    res["host"]["load_end"] = os.getloadavg()[0]
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f)
    plots = make_plots(res, a.out)
    write_report(res, a.out, plots)
    lines = metric_lines(res)
    with open(os.path.join(a.out, "metrics.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    log("done in %.0f s: %s" % (res["elapsed_s"], os.path.join(a.out, "report.md")))
    # Failed if a guest never answered; single failed runs are reported only.
    missing = [c for c in res["columns"] if not any(c in r for r in res["runs"])]
    if missing:
        log("no figures at all for %s" % ", ".join(missing))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
