"""The datapath stress campaign (see stress.sh; `make stress` for the full one).

STRESS_RUNS times (default 1 here, 20 from `make stress`), for each device
variant a fresh guest in its own network namespace runs every load kind in turn:

  ping-f       ping -f for STRESS_SECS seconds
  udp64-flat   64-byte UDP datagrams to the echo port as fast as the host sends
  udp1472-flat 1472-byte datagrams likewise
  udp64-x32    UDP echo with 32 requests in flight (tests/tools/echo_fast.c)

and the two-NIC variant runs ping -f and the 64-byte flood on both NICs at once.
Variants: modern and legacy virtio-net, each with MSI-X and with INTx, and two
modern NICs. After every load the guest must answer (a ping and a UDP echo
within bounded time), hold no RX buffer, and show no watchdog activity
(rx_stalls, tx_stalls, resets all 0): a wedge or a recovery is a FAIL. Each load
prints one PASS/FAIL line with its rates; a summary per load kind ends the run.
"""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, "tests/lib")
from guest import Guest, GuestError  # noqa: E402
from netns import Netns  # noqa: E402
from robust import PktSend  # noqa: E402
from suite import Suite  # noqa: E402

RUNS = int(os.environ.get("STRESS_RUNS", "1"))
SECS = float(os.environ.get("STRESS_SECS", "3"))
ONLY = os.environ.get("STRESS_ONLY", "")  # comma-separated variant names
FAST = "build/tools/echo_fast"
GUEST = ["10.0.0.2", "10.0.1.2"]

VARIANTS = [
    ("modern-msix", ["disable-legacy=on"]),
    ("legacy-msix", ["disable-modern=on"]),
    ("modern-intx", ["disable-legacy=on,vectors=0"]),
    ("legacy-intx", ["disable-modern=on,vectors=0"]),
    ("two-nics", ["disable-legacy=on", "disable-legacy=on"]),
]
SUITE = Suite("stress")
check = SUITE.check
rates = {}


def build_fast():
    os.makedirs(os.path.dirname(FAST), exist_ok=True)
    src = "tests/tools/echo_fast.c"
    if not os.path.exists(FAST) or os.path.getmtime(FAST) < os.path.getmtime(src):
        subprocess.run(["gcc", "-O2", "-Wall", "-o", FAST, src], check=True, timeout=120)


def alive(ns, ip):
    """A ping and a UDP echo answered, each within bounded time."""
    r = ns.run(["ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "2", ip], timeout=20)
    m = re.search(r"(\d+) received", r.stdout)
    if not m or int(m.group(1)) == 0:
        return False, "no ping reply: " + r.stdout[-200:]
    r = ns.run([FAST, "--host", ip, "--size", "32", "--count", "3", "--timeout", "2"],
               timeout=20)
    try:
        got = json.loads(r.stdout)["received"]
    except (ValueError, KeyError):
        got = 0
    return (got > 0), "UDP echo: %s %s" % (r.stdout[-200:], r.stderr[-200:])


def ping_flood(ns, ip):
    r = ns.run(["ping", "-n", "-q", "-f", "-w", str(int(SECS)), "-W", "1", ip],
               timeout=SECS + 30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return {"rate": got / SECS, "loss_pct": 100.0 * (sent - got) / sent if sent else 100.0}


def udp_flat(ns, tx, size, ip, stats_of, key):
    """Rate: frames the guest took off the NIC's ring (key: net<i>.rx_packets)."""
    before = stats_of()
    r = tx.udp(SECS, size, ip, 7)
    after = stats_of()
    got = after.get(key, 0) - before.get(key, 0)
    return {"sent_rate": r["sent"] / r["secs"], "rate": got / r["secs"]}


def udp_x32(ns, ip):
    r = ns.run([FAST, "--host", ip, "--size", "64", "--inflight", "32", "--duration",
                str(SECS), "--timeout", "1"], timeout=SECS + 30)
    try:
        j = json.loads(r.stdout)
        return {"rate": j["rate"], "loss_pct": j["loss_pct"], "bad": j["bad"]}
    except (ValueError, KeyError):
        return {"rate": 0.0, "error": (r.stdout + r.stderr)[-300:]}


def after_load(name, g, ns, ips, nics, res):
    """Alive, pool idle, no watchdog activity."""
    problems = []
    for ip in ips:
        ok, why = alive(ns, ip)
        if not ok:
            problems.append("%s wedged? %s" % (ip, why))
    deadline = time.monotonic() + 10
    while True:
        st = g.stats()
        idle = all(st.get("net%d.rx_pool_posted" % i) == st.get("net%d.rx_pool_bufs" % i)
                   for i in range(nics))
        if idle or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if not idle:
        problems.append("RX pool not idle")
    for i in range(nics):
        for k in ("rx_stalls", "tx_stalls", "resets"):
            if st.get("net%d.%s" % (i, k), 0):
                problems.append("net%d.%s=%d" % (i, k, st["net%d.%s" % (i, k)]))
    if res.get("error"):
        problems.append(res["error"])
    shown = " ".join("%s=%.0f" % (k, v) if isinstance(v, float) else "%s=%s" % (k, v)
                     for k, v in sorted(res.items()) if k != "error")
    check(name + " (" + shown + ")", not problems, "; ".join(problems))
    kind = name.split(":")[-1]
    rates.setdefault(kind, []).append(res.get("rate", 0.0))
    return not problems


def run_variant(run, vname, nicopts):
    nics = len(nicopts)
    taps = ["tap%d" % i for i in range(nics)]
    extra = ["10.0.1.1/24"] if nics > 1 else []
    with Netns("uknet-st", taps=taps, extra_cidrs=[]) as ns:
        if nics > 1:  # the second NIC gets its own subnet on tap1
            subprocess.run(["ip", "-n", ns.name, "addr", "add", extra[0], "dev", "tap1"],
                           check=True, timeout=10)
        cmdline = "net1.ip=10.0.1.2/24" if nics > 1 else ""
        guest_nics = [{"tap": t, "opts": o} for t, o in zip(taps, nicopts)]
        log = "build/test/stress-r%d-%s.log" % (run, vname)
        with Guest(cmdline=cmdline, netns=ns.name, nics=guest_nics, log_path=log) as g:
            g.expect(r"kernel: ready", 30)
            if nics > 1 and not g.cmd("ifconfig").count("10.0.1.2"):
                check("stress-r%d-%s-second-nic" % (run, vname), False,
                      "the guest has no address on net1 (needs net1.ip=)")
                return
            ips = GUEST[:nics]
            senders = [PktSend(ns, t) for t in taps]
            try:
                ok = True
                base = "stress-r%d-%s:" % (run, vname)
                if nics == 1:
                    loads = [("ping-f", lambda: ping_flood(ns, ips[0])),
                             ("udp64-flat", lambda: udp_flat(ns, senders[0], 64, ips[0],
                                                             g.stats, "net0.rx_packets")),
                             ("udp1472-flat", lambda: udp_flat(ns, senders[0], 1472, ips[0],
                                                               g.stats, "net0.rx_packets")),
                             ("udp64-x32", lambda: udp_x32(ns, ips[0]))]
                else:
                    # The guest's console is read from one thread: counters
                    # before and after both floods.
                    def flat_both():
                        before = g.stats()
                        res = both(lambda i: udp_flat(ns, senders[i], 64, ips[i], dict, ""))
                        after = g.stats()
                        for i in (0, 1):
                            k = "net%d.rx_packets" % i
                            res["rate%d" % i] = (after.get(k, 0) - before.get(k, 0)) / SECS
                        res["rate"] = res["rate0"] + res["rate1"]
                        return res
                    loads = [("ping-f-both", lambda: both(lambda i: ping_flood(ns, ips[i]))),
                             ("udp64-flat-both", flat_both)]
                for kind, fn in loads:
                    if not ok:
                        check(base + kind, False, "skipped: the guest wedged before")
                        continue
                    ok = after_load(base + kind, g, ns, ips, nics, fn())
            finally:
                for s in senders:
                    s.close()


def both(fn):
    """fn(0) and fn(1) at once; their rates summed."""
    out = [None, None]

    def run(i):
        out[i] = fn(i)

    ts = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(SECS + 60)
    if any(o is None for o in out):
        return {"rate": 0.0, "error": "a load did not finish"}
    return {"rate": sum(o.get("rate", 0.0) for o in out),
            "rate0": out[0].get("rate", 0.0), "rate1": out[1].get("rate", 0.0)}


def main():
    build_fast()
    t0 = time.monotonic()
    for run in range(1, RUNS + 1):
        for vname, nicopts in VARIANTS:
            if ONLY and vname not in ONLY.split(","):
                continue
            try:
                run_variant(run, vname, nicopts)
            except (GuestError, OSError, RuntimeError, subprocess.SubprocessError) as e:
                check("stress-r%d-%s" % (run, vname), False, "%s: %s" % (type(e).__name__, e))
    for kind, v in sorted(rates.items()):
        v = sorted(v)
        print("  %-16s runs %3d  rate min %9.0f  median %9.0f  max %9.0f"
              % (kind, len(v), v[0], v[len(v) // 2], v[-1]), flush=True)
    print("  %d runs x %d variants in %.0f s, %d checks failed"
          % (RUNS, len(VARIANTS), time.monotonic() - t0, SUITE.failed), flush=True)


SUITE.run(main)
