"""The virtio-net driver's watchdog, provoked on purpose (see watchdog.sh).

Each case boots a guest with fault=<kind>@100 (the driver misbehaves once the
100th frame has gone by), pings it 300 times at 10 ms from the host, then 5 more
slowly, and checks: every ping answered (or, for a reset, all after it), the
stall and reset counters exactly as the fault implies, the recovery logged once,
the RX pool back at its idle level, and the time the worst reply took within the
watchdog's bounds (stall 200 ms + reset 500 ms, plus slack)."""
import re
import sys
import time

sys.path.insert(0, "tests/lib")
from guest import Guest, GuestError  # noqa: E402
from netns import Netns  # noqa: E402
from suite import Suite  # noqa: E402

GUEST_IP = "10.0.0.2"
SUITE = Suite("watchdog")
check = SUITE.check

CASES = [
    # name, fault, NIC options, expected counters, pings that may be lost
    ("tx-kick-modern", "tx-kick", "disable-legacy=on",
     {"tx_stalls": 1, "rx_stalls": 0, "resets": 0}, 0),
    ("tx-kick-legacy", "tx-kick", "disable-modern=on",
     {"tx_stalls": 1, "rx_stalls": 0, "resets": 0}, 0),
    ("rx-irq-msix", "rx-irq", "",
     {"rx_stalls": 1, "tx_stalls": 0, "resets": 0}, 0),
    # One INTx line for both queues: the lost interrupt may be either's, and
    # the next one (a TX completion, say) may come first and cover it.
    ("rx-irq-intx", "rx-irq", "vectors=0",
     {"rx_stalls+tx_stalls": (0, 1), "resets": 0}, 0),
    # Kicks dropped until the reset: pings in that window are lost.
    ("tx-wedge-modern", "tx-wedge", "",
     {"tx_stalls": 1, "resets": 1}, 150),
    ("tx-wedge-legacy-intx", "tx-wedge", "disable-modern=on,vectors=0",
     {"tx_stalls": 1, "resets": 1}, 150),
]




def ping(ns, args, timeout=120):
    r = ns.run(["ping", "-n", "-q"] + args + [GUEST_IP], timeout=timeout)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    rtt = re.search(r"= [\d.]+/[\d.]+/([\d.]+)/", r.stdout)
    return ((int(m.group(1)), int(m.group(2))) if m else (0, 0),
            float(rtt.group(1)) if rtt else None, r.stdout + r.stderr)


def counter(st, expr):
    return sum(st.get("net0." + k, 0) for k in expr.split("+"))


def run_case(name, fault, opts, want, may_lose):
    nic = {"tap": "tap0", "opts": opts} if opts else {"tap": "tap0"}
    with Netns("uknet-wd") as ns, Guest(cmdline="fault=%s@100" % fault, netns=ns.name,
                                        nics=[nic],
                                        log_path="build/test/watchdog-%s.log" % name) as g:
        g.expect(r"kernel: ready", 30)
        (sent, got, ), worst, out = ping(ns, ["-c", "300", "-i", "0.01", "-W", "3"])
        (sent2, got2), _, out2 = ping(ns, ["-c", "5", "-i", "0.2", "-W", "3"])
        st = g.stats()
        lost = sent - got
        check("wd-%s-answers" % name, sent == 300 and lost <= may_lose and got2 == 5,
              "%d/%d answered (may lose %d), then %d/5: %s %s" % (got, sent, may_lose, got2,
                                                                   out, out2))
        def fits(k, v):
            lo, hi = v if isinstance(v, tuple) else (v, v)
            return lo <= counter(st, k) <= hi
        bad = {k: (counter(st, k), v) for k, v in want.items() if not fits(k, v)}
        check("wd-%s-counters" % name, not bad,
              "counter: (got, want): %s" % bad)
        check("wd-%s-rx-pool-idle" % name,
              st.get("net0.rx_pool_posted") == st.get("net0.rx_pool_bufs"),
              {k: v for k, v in st.items() if "pool" in k})
        # The worst reply: a re-kick comes within the stall bound, a reset
        # within stall + reset; slack for a loaded host.
        bound_ms = 200 + (500 if want.get("resets") else 0) + 400
        check("wd-%s-recovered-in-time" % name, worst is not None and worst < bound_ms,
              "worst RTT %s ms, bound %d ms" % (worst, bound_ms))
        log = g.buf
        said = len(re.findall(r"warn: net0: (TX chains not consumed|RX buffers not seen|"
                              r"(RX|TX|RX\+TX) interrupt never came)", log))
        resets = len(re.findall(r"warn: net0: resetting the device", log))
        stalls = sum(counter(st, k) for k in ("rx_stalls", "tx_stalls"))
        check("wd-%s-logged-once" % name,
              said == stalls and resets == want.get("resets", 0),
              "stall lines %d for %d stalls, reset lines %d: %s" % (said, stalls, resets,
                                                                    log[-1500:]))


def main():
    for case in CASES:
        try:
            run_case(*case)
        except (GuestError, OSError, RuntimeError) as e:
            check("wd-%s" % case[0], False, "%s: %s" % (type(e).__name__, e))


SUITE.run(main)
