"""The DHCP client against dnsmasq (see dhcp.sh). Three cases at once, each a
guest with ip=dhcp in a namespace of its own (tap0 = 10.0.0.1/24) with its own
dnsmasq; each case runs in a thread that only reads its guest's console and
talks to its namespace (everything is started and stopped by the main thread,
so a signal cleans it all up). The timelines come from the captures."""
import contextlib
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, "tests/lib")
import pcap  # noqa: E402
from dnsmasq import Dnsmasq  # noqa: E402
from guest import Guest  # noqa: E402
from netns import Netns  # noqa: E402
from suite import Suite  # noqa: E402

SERVER = "10.0.0.1"
RANGE_A = ("10.0.0.50", "10.0.0.99")
RANGE_B = ("10.0.0.150", "10.0.0.199")
LEASE = 120  # dnsmasq's minimum: 2 minutes (T1 60 s, T2 105 s)
T1, T2 = LEASE // 2, LEASE * 7 // 8
SLACK = 3.0  # seconds a timer may be off on a loaded host, as the capture sees it
BOUND_SECS = 45  # DISCOVER .. bound: dnsmasq's 3 s ping check, our 4-7 s probe
CASE_SECS = 240  # each case's whole run, at most
SUITE = Suite("dhcp")
_lock = threading.Lock()


def check(name, ok, why=""):
    with _lock:
        return SUITE.check(name, ok, why)


def note(text):
    with _lock:
        SUITE.note(text)


def dhcp_range(r):
    return "%s,%s,%ds" % (r[0], r[1], LEASE)


def in_range(addr, r):
    def key(a):
        return tuple(int(x) for x in a.split("."))
    return key(r[0]) <= key(addr) <= key(r[1])


def leased(g, timeout):
    """Waits for the log line of a binding; the address."""
    m = g.expect(r"dhcp: net0: leased (\d+\.\d+\.\d+\.\d+)/24 router %s from %s for %d s"
                 % (re.escape(SERVER), re.escape(SERVER), LEASE), timeout)
    return m.group(1)


def pings(ns, addr, count=3):
    r = ns.run(["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", addr], timeout=30)
    m = re.search(r"(\d+) received", r.stdout)
    return int(m.group(1)) if m else 0, r.stdout + r.stderr


class Case:
    def __init__(self, name, mac):
        self.name = name
        self.mac = mac
        self.base = "build/test/dhcp-%s" % name
        self.ns = self.dnsmasq = self.guest = None
        self.done = False
        self.marks = {}  # what the case saw, for the timeline checks

    def open(self, es, claimer=False):
        self.ns = es.enter_context(Netns("uknet-dh%s" % self.name[:3]))
        self.dnsmasq = es.enter_context(Dnsmasq(self.ns, dhcp_range(RANGE_A), self.base))
        if claimer:
            self.claim_log = self.base + "-claim.log"
            out = es.enter_context(open(self.claim_log, "w"))
            p = subprocess.Popen(self.ns.cmd(["/usr/bin/python3", "tests/tools/arp_claim.py",
                                              "--from-mac", self.mac, "--duration",
                                              str(CASE_SECS)]),
                                 stdout=out, stderr=subprocess.STDOUT)
            es.callback(stop_proc, p)
            wait_for_file(self.claim_log, "listening", 10)
        self.guest = es.enter_context(
            Guest(cmdline="ip=dhcp", netns=self.ns.name, nics=[{"tap": "tap0", "mac": self.mac}],
                  log_path=self.base + ".log"))

    def stats(self):
        return self.guest.stats()


def stop_proc(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def wait_for_file(path, text, secs):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        with open(path) as f:
            if text in f.read():
                return
        time.sleep(0.05)
    raise RuntimeError("%s: no %r after %d s" % (path, text, secs))


# ------------------------------------------------------------------ the cases

def case_life(c):
    """A lease, pinged; the renewal at T1; the range changed: NAK, new lease."""
    g, ns = c.guest, c.ns
    g.expect(r"kernel: ready", 30)
    addr = leased(g, BOUND_SECS)
    c.marks["addr1"] = addr
    check("life-lease-in-range", in_range(addr, RANGE_A), addr)
    got, out = pings(ns, addr)
    check("life-pinged-at-leased-address", got == 3, out)
    out = g.cmd("dhcp")
    check("life-console-dhcp", "net0: dhcp bound" in out and
          "address %s/24 router %s server %s" % (addr, SERVER, SERVER) in out and
          "lease 120 s: renew in" in out, out)
    out = g.cmd("route")
    check("life-route-from-lease", "10.0.0.0/24 dev net0 src %s" % addr in out and
          "default via %s dev net0" % SERVER in out, out)
    g.expect(r"dhcp: net0: bound -> renewing", T1 + 15)
    g.expect(r"dhcp: net0: renewing -> bound", 15)
    st = c.stats()
    check("life-renewed", st.get("dhcp.renewals") == 1 and st.get("dhcp.rx_ack") == 2 and
          st.get("dhcp.leases") == 1, {k: v for k, v in st.items() if k.startswith("dhcp.")})
    got, out = pings(ns, addr, 2)
    check("life-address-kept-after-renewal", got == 2, out)
    # Another range: dnsmasq keeps its lease file but no longer has our address.
    c.dnsmasq.stop()
    c.dnsmasq.start(range_=dhcp_range(RANGE_B))
    g.expect(r"dhcp: net0: bound -> renewing", T1 + 15)
    g.expect(r"dhcp: NAK from %s" % re.escape(SERVER), 15)
    addr2 = leased(g, BOUND_SECS)
    c.marks["addr2"] = addr2
    check("life-nak-then-lease-in-new-range", in_range(addr2, RANGE_B), addr2)
    st = c.stats()
    check("life-nak-counted", st.get("dhcp.rx_nak") == 1 and st.get("dhcp.leases") == 2,
          {k: v for k, v in st.items() if k.startswith("dhcp.")})
    got, out = pings(ns, addr2)
    check("life-pinged-at-new-address", got == 3, out)
    got, out = pings(ns, addr, 2)
    check("life-old-address-gone", got == 0, out)
    check("life-server-said-nak", "DHCPNAK" in c.dnsmasq.log(), c.dnsmasq.log()[-600:])


def case_expiry(c):
    """The server stopped right after the binding: RENEWING at T1, REBINDING at
    T2, the address dropped at expiry; the server back: a new lease."""
    g, ns = c.guest, c.ns
    g.expect(r"kernel: ready", 30)
    addr = leased(g, BOUND_SECS)
    c.marks["addr1"] = addr
    c.dnsmasq.stop()
    g.expect(r"dhcp: net0: bound -> renewing", T1 + 15)
    g.expect(r"dhcp: net0: renewing -> rebinding", T2 - T1 + 15)
    g.expect(r"dhcp: net0: lease of %s gone" % re.escape(addr), LEASE - T2 + 15)
    g.expect(r"dhcp: net0: rebinding -> init", 5)
    out = g.cmd("ifconfig")
    check("expiry-address-dropped", "inet 0.0.0.0/0" in out, out)
    out = g.cmd("route")
    check("expiry-no-routes", out.strip() == "default none", out)
    got, out = pings(ns, addr, 2)
    check("expiry-not-answering-old-address", got == 0, out)
    st = c.stats()
    check("expiry-counted", st.get("dhcp.expired") == 1 and st.get("dhcp.renewals") == 0 and
          st.get("dhcp.rebinds") == 0, {k: v for k, v in st.items() if k.startswith("dhcp.")})
    c.dnsmasq.start()
    addr2 = leased(g, 64 + BOUND_SECS)  # the next DISCOVER: 4 .. 64 s apart
    c.marks["addr2"] = addr2
    got, out = pings(ns, addr2)
    check("expiry-new-lease-after-server-back", in_range(addr2, RANGE_A) and got == 3,
          "%s: %s" % (addr2, out))
    check("expiry-leases-counted", c.stats().get("dhcp.leases") == 2, "")


def case_conflict(c):
    """Another host claims the offered address when probed: DECLINE, then a
    lease for another address."""
    g, ns = c.guest, c.ns
    g.expect(r"kernel: ready", 30)
    m = g.expect(r"dhcp: net0: (\d+\.\d+\.\d+\.\d+) is in use by another host: declined",
                 BOUND_SECS)
    claimed = m.group(1)
    c.marks["claimed"] = claimed
    with open(c.claim_log) as f:
        claims = f.read()
    check("conflict-claimer-answered", "claimed %s" % claimed in claims, claims)
    addr = leased(g, 10 + BOUND_SECS)  # DISCOVER again 10 s after the DECLINE
    c.marks["addr1"] = addr
    check("conflict-another-address", addr != claimed and in_range(addr, RANGE_A),
          "%s after declining %s" % (addr, claimed))
    st = c.stats()
    check("conflict-counted", st.get("dhcp.conflicts") == 1 and
          st.get("dhcp.tx_decline") == 1 and st.get("dhcp.leases") == 1,
          {k: v for k, v in st.items() if k.startswith("dhcp.")})
    check("conflict-server-saw-decline", "DHCPDECLINE(tap0) %s" % claimed in c.dnsmasq.log(),
          c.dnsmasq.log()[-600:])
    got, out = pings(ns, addr)
    check("conflict-pinged-at-leased-address", got == 3, out)


def run_case(fn, c):
    try:
        fn(c)
        c.done = True
    except Exception as e:  # noqa: BLE001 - reported as this case's failure
        check("%s-case" % c.name, False, "%s: %s" % (type(e).__name__, e))


# ------------------------------------------------------------------ timelines

def dhcp_frames(c):
    frames = pcap.read(c.guest.pcaps[0])
    lines = pcap.tcpdump_lines(c.guest.pcaps[0])  # the file is valid for tcpdump too
    check("%s-capture-readable" % c.name, any("BOOTP/DHCP" in x for x in lines) and
          any("ICMP echo reply" in x for x in lines), "\n".join(lines[-10:]))
    return [f for f in frames if f.dhcp and f.dhcp["type"]]


def describe(f, t0):
    d = f.dhcp
    who = "%s > %s" % (f.ip["src"], f.ip["dst"])
    extra = " ".join("%s=%s" % (k, d[k]) for k in ("ciaddr", "yiaddr", "requested", "lease",
                                                   "t1", "t2") if d[k] and d[k] != "0.0.0.0")
    return "%8.3f s  %-8s %-31s %s" % (f.time - t0, d["type"], who, extra)


def timeline(c, out):
    """The case's DHCP exchanges, times from the first DISCOVER; returns them."""
    frames = dhcp_frames(c)
    if not frames:
        check("%s-timeline" % c.name, False, "no DHCP frame in %s" % c.guest.pcaps[0])
        return []
    t0 = frames[0].time
    out.append("%s (%s):" % (c.name, c.guest.pcaps[0]))
    out.extend("  " + describe(f, t0) for f in frames)
    return frames


def near(t, want):
    return t is not None and abs(t - want) <= SLACK


def first(frames, pred, after=0.0):
    return next((f for f in frames if f.time > after and pred(f)), None)


def check_renewal_times(c, frames, name):
    """The REQUEST that got the first lease at t; the unicast renewal at t+T1."""
    addr = c.marks.get("addr1")
    got = first(frames, lambda f: f.dhcp["type"] == "ACK" and f.dhcp["yiaddr"] == addr)
    req = None
    if got:
        req = [f for f in frames if f.dhcp["type"] == "REQUEST" and f.time <= got.time][-1]
    renew = req and first(frames, lambda f: f.dhcp["type"] == "REQUEST" and
                          f.dhcp["ciaddr"] == addr and f.ip["dst"] == SERVER, req.time)
    t1 = (got and got.dhcp["t1"]) or T1  # what the ACK said (dnsmasq: 60 s at first)
    check("%s-renew-request-at-t1" % name, req and renew and near(renew.time - req.time, t1),
          "T1 %s s; renewal %s s after the lease's REQUEST"
          % (t1, req and renew and renew.time - req.time))
    return req, renew, got


def check_timelines(cases):
    out = []
    life, expiry, conflict = cases
    f = timeline(life, out)
    if f:
        req, renew, _ = check_renewal_times(life, f, "life")
        ack = renew and first(f, lambda x: x.dhcp["type"] == "ACK", renew.time)
        check("life-renewal-acked", ack and ack.time - renew.time < 1.0,
              "ACK at %s" % (ack and ack.time))
        # dnsmasq varies T1 in the ACKs of renewals (56 s, 54 s, ...): the next
        # renewal follows the T1 the ACK gave, counted from the REQUEST.
        t1 = ack and ack.dhcp["t1"]
        nak = first(f, lambda x: x.dhcp["type"] == "NAK")
        renew2 = renew and first(f, lambda x: x.dhcp["type"] == "REQUEST" and
                                 x.dhcp["ciaddr"] == life.marks.get("addr1"), renew.time)
        check("life-nak-at-second-t1", t1 and renew2 and nak and nak.time >= renew2.time and
              near(renew2.time - renew.time, t1),
              "T1 %s s; second renewal %s s after the first, NAK at %s"
              % (t1, renew2 and renew2.time - renew.time, nak and nak.time))
    f = timeline(expiry, out)
    if f:
        req, renew, got = check_renewal_times(expiry, f, "expiry")
        t2 = (got and got.dhcp["t2"]) or T2
        addr = expiry.marks.get("addr1")
        rebind = req and first(f, lambda x: x.dhcp["type"] == "REQUEST" and
                               x.dhcp["ciaddr"] == addr and x.ip["dst"] == "255.255.255.255",
                               req.time)
        check("expiry-rebind-request-at-t2", rebind and near(rebind.time - req.time, t2),
              "T2 %s s; rebinding REQUEST at %s" % (t2, rebind and rebind.time - req.time))
        disc = rebind and first(f, lambda x: x.dhcp["type"] == "DISCOVER", rebind.time)
        check("expiry-discover-at-expiry", disc and near(disc.time - req.time, LEASE),
              "DISCOVER at %s" % (disc and disc.time - req.time))
    f = timeline(conflict, out)
    if f:
        dec = first(f, lambda x: x.dhcp["type"] == "DECLINE")
        check("conflict-decline-on-wire", dec and
              dec.dhcp["requested"] == conflict.marks.get("claimed"),
              dec and dec.dhcp)
        disc = dec and first(f, lambda x: x.dhcp["type"] == "DISCOVER", dec.time)
        check("conflict-discover-10s-after-decline", disc and near(disc.time - dec.time, 10),
              "DISCOVER %s s after the DECLINE" % (disc and disc.time - dec.time))
    with open("build/test/dhcp-timeline.txt", "w") as fh:
        fh.write("\n".join(out) + "\n")
    for line in out:
        note(line)


def main():
    cases = [Case("life", "52:54:00:12:34:56"), Case("expiry", "52:54:00:12:34:66"),
             Case("conflict", "52:54:00:12:34:76")]
    fns = [case_life, case_expiry, case_conflict]
    with contextlib.ExitStack() as es:
        for c in cases:
            c.open(es, claimer=c.name == "conflict")
        threads = [threading.Thread(target=run_case, args=(fn, c), daemon=True)
                   for fn, c in zip(fns, cases)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + CASE_SECS
        for t, c in zip(threads, cases):
            while t.is_alive() and time.monotonic() < deadline:
                t.join(1.0)  # short joins: a signal reaches this thread at once
            if t.is_alive():
                check("%s-case" % c.name, False, "still running after %d s" % CASE_SECS)
        if all(not t.is_alive() for t in threads):
            check_timelines(cases)


SUITE.run(main)
