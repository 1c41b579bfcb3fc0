"""Floods and a mixed soak against the guest (mode=net), from the host side of
the tap inside a namespace made here (see flood.sh). In order:

  fragments  10,000 datagrams that never complete (a first or a middle
             fragment each, distinct identifications): reassembly stays within
             its caps, evicts the oldest, and new datagrams reclaim the rest
  ping -f    N echo requests (100,000 in the long run), loss <= 0.1 %
  udp        a kernel UDP socket sends 64-byte datagrams to the echo port as
             fast as the host can for T seconds (30 in the long run)
  arp        ARP requests for the guest from 5,000 sender addresses: the table
             stays within its capacity
  spoofed    echo requests from 100 on-link addresses that never answer ARP
             (every reply waits for ARP in vain) while the host pings: the
             host's pings all answered, no TX buffer shortage, no "table full"
  soak       SOAK_SECONDS of everything at once: ping, UDP echo (with payload
             checks), 8000-byte pings (fragments both ways), a stream of
             malformed frames, ARP requests from ever new senders

After each: the guest answers, the RX pool is back at its idle level, the
counters add up, reassembly holds nothing (after the soak: once its timer has
expired what the soak left, with ICMP time exceeded sent), ARP within its cap;
at the end no warning in the guest's log, heap and threads as at the start.
FLOOD_LONG=1 selects the long figures (make soak); SOAK_SECONDS (default 15
short, 600 long) the soak's length. Every wait is bounded in time and in count:
a guest that stops answering, or answers at a trickle, is a FAIL, not a hang.
"""
import os
import re
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, "tests/lib")
from guest import Guest  # noqa: E402
from netns import Netns  # noqa: E402
from robust import (GUEST_IP, GUEST_MAC, PktSend, alive, counters_add_up, delta,  # noqa: E402
                    frames_seen, pool_idle, settle, warnings)
from suite import Suite  # noqa: E402

LONG = os.environ.get("FLOOD_LONG") == "1"
SOAK = float(os.environ.get("SOAK_SECONDS", "600" if LONG else "15"))
PING_F = 100000 if LONG else 20000
UDP_SECS = 30 if LONG else 5
FRAG_IDS = 10000
ARP_SENDERS = 5000
SPOOFED = 100
SRC = "10.0.0.9"
CLIENT = "tests/tools/udp_echo_client.py"
# After the UDP flood, QEMU may still hold frames it read from the tap: the
# guest's RX count is watched until it stops moving, at most this many rounds
# and seconds (a wedged guest taking one frame every 2 s never stops).
UDP_SETTLE_ROUNDS = 20
UDP_SETTLE_SECS = 30
SUITE = Suite("flood")
check = SUITE.check
note = SUITE.note


def csum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


class Craft:
    """Frames from SRC to the guest, built with struct (floods want many)."""

    def __init__(self, host_mac):
        self.eth = ip4_mac(GUEST_MAC) + ip4_mac(host_mac) + b"\x08\x00"

    def ip(self, payload, proto=1, ident=1, frag=0, ttl=64, src=SRC, ver_ihl=0x45, total=None):
        hdr = struct.pack("!BBHHHBBH4s4s", ver_ihl, 0, total or 20 + len(payload), ident,
                          frag, ttl, proto, 0, ip4(src), ip4(GUEST_IP))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        return self.eth + hdr + payload

    def first_fragment(self, ident, size=16):
        return self.ip(bytes(size), ident=ident, frag=0x2000)

    def bad_mix(self):
        """One frame of most malformed classes (see malformed_test.py)."""
        echo = struct.pack("!BBHHH", 8, 0, 0, 0x5151, 1) + b"soak" * 4
        echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
        good = self.ip(echo)
        b = bytearray(good)
        b[24:26] = b"\xde\xad"
        out = [bytes(b)]                                          # bad header checksum
        out.append(self.ip(echo, ver_ihl=0x65))                   # version 6
        out.append(self.ip(echo, ver_ihl=0x44))                   # IHL 4
        out.append(self.ip(echo, total=1000))                     # total over frame
        out.append(self.eth + b"\x45" + bytes(10))                # runt
        out.append(self.ip(echo[:4], proto=1))                    # ICMP truncated
        bad = bytearray(echo)
        bad[2] ^= 0xFF
        out.append(self.ip(bytes(bad)))                           # ICMP checksum
        out.append(self.ip(struct.pack("!HHHH", 4000, 7, 200, 0) + b"x" * 8, proto=17))
        out.append(self.ip(struct.pack("!HHHH", 4000, 7, 4, 0) + b"x" * 8, proto=17))
        out.append(self.ip(bytes(32), ident=0x6001, frag=0x2000))         # overlapping
        out.append(self.ip(bytes(16), ident=0x6001, frag=0x2000 | 3))     # fragments
        out.append(self.ip(bytes(100), ident=0x6002, frag=0x2000))        # not 8x
        out.append(self.ip(bytes(100), ident=0x6003, frag=8191))          # past 65535
        out.append(self.ip(bytes(16), ident=0x6004, frag=0x2000))         # never completes
        out.append(self.ip(echo, src="255.255.255.255"))          # broadcast source
        out.append(self.ip(echo, src="224.0.0.9"))                # multicast source
        out.append(self.ip(echo, ttl=0))                          # TTL 0 (answered)
        arp = struct.pack("!HHBBH", 6, 0x0800, 6, 4, 1) + bytes(20)
        out.append(self.eth[:12] + b"\x08\x06" + arp)             # ARP hardware type
        out.append(self.eth[:12] + b"\x86\xdd" + bytes(46))       # IPv6
        return out


def ip4_mac(m):
    return bytes.fromhex(m.replace(":", ""))


def tap_stats(ns):
    """(TX packets, TX dropped) of tap0, the host's side toward the guest."""
    out = ns.run(["ip", "-s", "link", "show", "tap0"]).stdout.splitlines()
    for i, line in enumerate(out):
        if line.strip().startswith("TX:"):
            v = out[i + 1].split()
            return int(v[1]), int(v[3])
    return 0, 0


def step_checks(name, g, ns, before, frames=0, extra=None, reass=True):
    """The checks after every step; returns the stats."""
    after = settle(g, before, frames, timeout=15, reass=reass)
    problems = list(extra or [])
    if not pool_idle(after):
        problems.append("RX pool not idle: %s of %s posted"
                        % (after.get("net0.rx_pool_posted"), after.get("net0.rx_pool_bufs")))
    if reass and (after.get("reass.in_progress") or after.get("reass.bytes_held")):
        problems.append("reassembly holds %s bytes in %s datagrams"
                        % (after.get("reass.bytes_held"), after.get("reass.in_progress")))
    problems += counters_add_up(after)
    if after.get("arp.entries", 0) > after.get("arp.capacity", 0):
        problems.append("ARP table over its capacity")
    if not alive(ns, count=3):
        problems.append("no answer to a normal ping")
    check("flood-%s" % name, not problems, "; ".join(problems))
    return after


def frag_flood(g, ns, tx, c):
    """FRAG_IDS datagrams that never complete: even ones by their first fragment,
    odd ones by a middle one. The reassembler keeps its caps and evicts the
    oldest; then four new datagrams push the leftovers out and complete, and
    reassembly holds nothing."""
    before = settle(g)
    frames = [c.first_fragment(0x9000 + i) if i % 2 == 0 else
              c.ip(bytes(16), ident=0x9000 + i, frag=0x2000 | 185) for i in range(FRAG_IDS)]
    r = tx.burst(FRAG_IDS, 8000, frames)
    mid = settle(g, before, FRAG_IDS, timeout=15)
    got = delta(before, mid, "reass.frags")
    held = mid.get("reass.in_progress", 0)
    extra = []
    if got != FRAG_IDS:
        extra.append("reassembly saw %d of %d" % (got, FRAG_IDS))
    if held > 64 or mid.get("reass.bytes_held", 0) > mid.get("reass.max_bytes", 0):
        extra.append("over the caps")
    if delta(before, mid, "reass.evicted") != got - held:
        extra.append("evicted %d, expected %d" % (delta(before, mid, "reass.evicted"), got - held))
    note("fragments: %d never-completing datagrams in %.1f s (%.0f frames/s), %d evicted, "
         "%d in progress at the end (%d bytes; caps %d bytes)"
         % (r["sent"], r["secs"], r["sent"] / max(r["secs"], 1e-3),
            delta(before, mid, "reass.evicted"), held, mid.get("reass.bytes_held", 0),
            mid.get("reass.max_bytes", 0)))
    tx.send([c.first_fragment(0x8800 + i) for i in range(held)])
    tx.send([c.ip(bytes(4), ident=0x8800 + i, frag=2) for i in range(held)])
    return step_checks("fragments-%d-incomplete" % FRAG_IDS, g, ns, before,
                       FRAG_IDS + 2 * held, extra)


def ping_flood(g, ns):
    before = settle(g)
    t = time.monotonic()
    r = ns.run(["ping", "-n", "-q", "-f", "-c", str(PING_F), "-W", "2", GUEST_IP],
               timeout=PING_F / 1000 + 120)
    secs = time.monotonic() - t
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    loss = 100.0 * (sent - got) / sent if sent else 100.0
    note("ping -f: %d sent, %d received (%.3f %% loss) in %.1f s, %.0f echoes/s"
         % (sent, got, loss, secs, got / secs))
    extra = [] if sent == PING_F and loss <= 0.1 else ["loss %.3f %% (%s)" % (loss, r.stdout[-300:])]
    step_checks("ping-f-%d" % PING_F, g, ns, before, 0, extra)


def settle_rx(g):
    """Stats once the guest's RX count stopped moving (QEMU may still hold frames
    it read from the tap); bounded by UDP_SETTLE_ROUNDS and UDP_SETTLE_SECS.
    Returns (stats, "" or why it never settled)."""
    deadline = time.monotonic() + UDP_SETTLE_SECS
    after = settle(g, timeout=10)
    first = frames_seen(after)
    for rounds in range(1, UDP_SETTLE_ROUNDS + 1):
        time.sleep(0.3)
        again = settle(g, timeout=10)
        if frames_seen(again) == frames_seen(after):
            return again, ""
        after = again
        if time.monotonic() > deadline:
            break
    return after, ("the guest's RX count still moving after %d rounds in %.0f s (%d more "
                   "frames; a trickle: a wedged queue?)"
                   % (rounds, UDP_SETTLE_SECS + time.monotonic() - deadline,
                      frames_seen(after) - first))


def udp_flood(g, ns, tx):
    before = settle(g)
    tap0 = tap_stats(ns)
    r = tx.udp(UDP_SECS, 64, GUEST_IP, 7)
    after, still_moving = settle_rx(g)
    tap1 = tap_stats(ns)
    to_guest = tap1[0] - tap0[0]
    seen = frames_seen(after) - frames_seen(before)
    got = delta(before, after, "udp.rx")
    echoed = delta(before, after, "svc.echo_tx")
    note("udp: host sent %d datagrams in %.1f s (%.0f/s); the tap passed %d to QEMU and "
         "dropped %d (queue full); the guest took %d frames off its ring, received %d "
         "datagrams (%.0f/s) and echoed %d"
         % (r["sent"], r["secs"], r["sent"] / r["secs"], to_guest, tap1[1] - tap0[1], seen,
            got, got / r["secs"], echoed))
    extra = [still_moving] if still_moving else []
    if delta(before, after, "svc.echo_rx") != delta(before, after, "svc.echo_tx") + \
            delta(before, after, "svc.echo_errors"):
        extra.append("echo_rx != echo_tx + echo_errors")
    if got > r["sent"] or got == 0:
        extra.append("guest received %d of %d" % (got, r["sent"]))
    # What the tap handed to QEMU reached the guest (QEMU stops reading the tap
    # when the RX ring is empty rather than drop): a few frames of slack for the
    # ARP and ping traffic around the measurement.
    if abs(to_guest - seen) > 16:
        extra.append("tap passed %d frames, guest took %d" % (to_guest, seen))
    step_checks("udp-%ds-flat-out" % UDP_SECS, g, ns, before, 0, extra)


def arp_flood(g, ns, tx):
    before = settle(g)
    r = tx.arpflood(ARP_SENDERS, 1, 20000)
    after = settle(g, before, ARP_SENDERS, timeout=15)
    extra = []
    if delta(before, after, "arp.rx_request") != ARP_SENDERS:
        extra.append("guest saw %d of %d requests" % (delta(before, after, "arp.rx_request"),
                                                      ARP_SENDERS))
    if delta(before, after, "arp.tx_reply") != ARP_SENDERS:
        extra.append("answered %d" % delta(before, after, "arp.tx_reply"))
    note("arp: %d requests from distinct senders in %.1f s, %d learned, %d evicted, table "
         "%d of %d" % (r["sent"], r["secs"], delta(before, after, "arp.learned"),
                       delta(before, after, "arp.evicted"), after.get("arp.entries", 0),
                       after.get("arp.capacity", 0)))
    step_checks("arp-%d-senders" % ARP_SENDERS, g, ns, before, ARP_SENDERS, extra)


def spoofed_flood(g, ns, tx, c):
    """Echo requests from SPOOFED on-link addresses that never answer ARP: every
    reply waits in an ARP queue that never drains, and every source takes a
    table entry. The host's own pings meanwhile must not suffer: ARP's queues
    cannot take the TX pool (the RX thread would wait for a buffer) and
    unanswered resolutions give way to hosts that answer."""
    before = settle(g)
    frames = []
    for k in range(8):
        for a in range(SPOOFED):
            echo = struct.pack("!BBHHH", 8, 0, 0, a, k) + b"spoofed!" * 4
            echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
            frames.append(c.ip(echo, ident=k * SPOOFED + a, src="10.0.0.%d" % (100 + a)))
    p = subprocess.Popen(ns.cmd(["ping", "-n", "-q", "-c", "30", "-i", "0.1", "-W", "2",
                                 GUEST_IP]), stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        tap0 = tap_stats(ns)
        # Paced so that the host's own queue toward the tap never overflows (its
        # pings would be lost on the host, not in the guest).
        r = tx.burst(len(frames) * 3, 10000, frames)
        out = p.communicate(timeout=30)[0]
    finally:
        stop(p)
    tap_dropped = tap_stats(ns)[1] - tap0[1]
    after = settle(g, before, len(frames) * 3, timeout=15)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    extra = []
    if not sent or got < sent:
        extra.append("the host's pings: %d of %d answered during the flood (the host "
                     "dropped %d frames toward the tap)" % (got, sent, tap_dropped))
    for k in ("net0.tx_timeouts", "eth.tx_no_buffer", "arp.table_full"):
        if delta(before, after, k):
            extra.append("%s moved %d" % (k, delta(before, after, k)))
    if after.get("arp.queue_frames", 0) > 64:
        extra.append("ARP queues hold %d frames" % after.get("arp.queue_frames"))
    note("spoofed: %d echo requests from %d silent on-link sources in %.2f s; the host's "
         "pings meanwhile %d/%d; ARP evicted %d unanswered resolutions, dropped %d queued "
         "replies, %d still queued" % (r["sent"], SPOOFED, r["secs"], got, sent,
                                       delta(before, after, "arp.evicted"),
                                       delta(before, after, "arp.queue_dropped"),
                                       after.get("arp.queue_frames", 0)))
    step_checks("spoofed-sources-%d" % SPOOFED, g, ns, before, len(frames) * 3, extra)


def stop(p):
    """Ends a host tool this suite started (by its pid), if it still runs."""
    if p.poll() is None:
        p.kill()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def soak(g, ns, c):
    before = settle(g)
    secs = int(SOAK)
    procs, senders = {}, []
    answers = {}
    udp = {"sent": 0, "received": 0, "bad": 0, "runs": 0, "tail": ""}
    stopping = threading.Event()

    def udp_echo(end):
        """The echo client in runs of 30 s at most (it keeps every RTT)."""
        for _ in range(secs // 30 + 2):
            left = end - time.monotonic()
            if left < 1 or stopping.is_set():
                return
            try:
                r = ns.run(["/usr/bin/python3", CLIENT, "--size", "700", "--inflight", "4",
                            "--count", "100000000", "--duration", "%.1f" % min(30.0, left),
                            "--timeout", "1"], timeout=120)
            except subprocess.SubprocessError as e:
                udp["tail"] = "echo client: %s" % e
                return
            u = dict(re.findall(r"^(\w+) ([\d.]+)", r.stdout, re.M))
            for k in ("sent", "received", "bad"):
                udp[k] += int(u.get(k, 0))
            udp["runs"] += 1
            udp["tail"] = (r.stdout + r.stderr)[-200:]

    def run(name, fn):
        try:
            answers[name] = fn()
        except RuntimeError as e:
            answers[name] = {"error": str(e)}

    extra = []
    try:
        procs["ping"] = subprocess.Popen(
            ns.cmd(["ping", "-n", "-q", "-i", "0.01", "-w", str(secs), "-W", "1", GUEST_IP]),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs["bigping"] = subprocess.Popen(
            ns.cmd(["ping", "-n", "-q", "-i", "0.1", "-s", "8000", "-w", str(secs), "-W", "1",
                    GUEST_IP]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        bad_tx = PktSend(ns)
        senders.append(bad_tx)
        arp_tx = PktSend(ns)
        senders.append(arp_tx)
        # Daemon threads, each bounded on its own (PktSend's limits, the client's
        # timeout): a suite stopped by a signal does not wait for them.
        threads = [threading.Thread(target=run, daemon=True, args=("bad", lambda: bad_tx.burst(
                       secs * 200, 200, c.bad_mix()))),
                   threading.Thread(target=run, daemon=True, args=("arp", lambda: arp_tx.arpflood(
                       secs * 20, 2, 20))),
                   threading.Thread(target=udp_echo, daemon=True, args=(time.monotonic() + secs,))]
        for t in threads:
            t.start()
        peak = {"reass.bytes_held": 0, "reass.in_progress": 0, "arp.entries": 0}
        end = time.monotonic() + secs
        for _ in range(secs // 5 + 2):
            if time.monotonic() >= end:
                break
            st = g.stats()
            for k in peak:
                peak[k] = max(peak[k], st.get(k, 0))
            time.sleep(min(5.0, max(0.0, end - time.monotonic())))
        outs = {k: p.communicate(timeout=60)[0] for k, p in procs.items()}
        join_end = time.monotonic() + 150
        for t in threads:
            t.join(timeout=max(0.0, join_end - time.monotonic()))
        if any(t.is_alive() for t in threads):
            extra.append("a load thread still ran 150 s after the soak's end")
    finally:
        stopping.set()
        for p in procs.values():
            stop(p)
        for tx in senders:
            tx.close()


    def ping_figures(name):
        m = re.search(r"(\d+) packets transmitted, (\d+) received", outs[name])
        s, r = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        if not s or (s - r) > max(2, s // 100):
            extra.append("%s: %d of %d answered" % (name, r, s))
        return s, r
    ps, pr = ping_figures("ping")
    bs, br = ping_figures("bigping")
    us, ur, ubad = udp["sent"], udp["received"], udp["bad"]
    if not us or ubad or (us - ur) > max(2, us // 100):
        extra.append("udp echo: %d of %d, %d bad: %s" % (ur, us, ubad, udp["tail"]))
    for k in ("bad", "arp"):
        if "error" in answers.get(k, {"error": "no answer"}):
            extra.append("%s sender: %s" % (k, answers.get(k)))
    note("soak %d s: ping %d/%d, 8000-byte ping %d/%d, UDP echo %d/%d (%d bad), %d malformed "
         "frames, %d ARP senders; peaks: reassembly %d bytes in %d datagrams, ARP table %d"
         % (secs, pr, ps, br, bs, ur, us, ubad, answers.get("bad", {}).get("sent", 0),
            answers.get("arp", {}).get("sent", 0), peak["reass.bytes_held"],
            peak["reass.in_progress"], peak["arp.entries"]))
    return step_checks("soak-%ds" % secs, g, ns, before, 0, extra, reass=False)


def wait_reass_idle(g, since, timeout=40.0):
    """Waits for the reassembly timer to expire what is left."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout) + 1):  # bounded in count and in time
        st = g.stats()
        if (not st.get("reass.in_progress") and not st.get("reass.bytes_held")) or \
                time.monotonic() > deadline:
            break
        time.sleep(1.0)
    return st, time.monotonic() - since


def main():
    t0 = time.monotonic()
    with Netns("uknet-flood", extra_cidrs=["%s/24" % SRC]) as ns, \
         Guest(cmdline="mode=net", netns=ns.name, nics=[{"tap": "tap0", "mac": GUEST_MAC}],
               log_path="build/test/flood.log") as g:
        g.expect(r"kernel: ready", 30)
        host_mac = ns.run(["cat", "/sys/class/net/tap0/address"]).stdout.strip()
        c = Craft(host_mac)
        tx = PktSend(ns)
        try:
            check("flood-guest-up", alive(ns, count=2), "no answer to ping")
            start = settle(g)
            frag_flood(g, ns, tx, c)
            ping_flood(g, ns)
            udp_flood(g, ns, tx)
            arp_flood(g, ns, tx)
            spoofed_flood(g, ns, tx, c)
            soak(g, ns, c)
            before = settle(g)
            end, waited = wait_reass_idle(g, time.monotonic())
            problems = []
            if end.get("reass.in_progress") or end.get("reass.bytes_held"):
                problems.append("reassembly still holds %s bytes in %s datagrams"
                                % (end.get("reass.bytes_held"), end.get("reass.in_progress")))
            if delta(start, end, "reass.timeout") == 0:
                problems.append("no datagram ever timed out")
            if delta(start, end, "icmp.tx_time_exceeded") == 0:
                problems.append("no ICMP time exceeded sent")
            check("flood-reassembly-back-to-idle", not problems, "; ".join(problems))
            note("reassembly idle %.0f s after the soak: %d timed out (%d with the first "
                 "fragment: %d time exceeded sent)" % (
                     waited, delta(start, end, "reass.timeout"),
                     delta(start, end, "reass.timeout_first_held"),
                     delta(start, end, "icmp.tx_time_exceeded")))
            final = step_checks("final", g, ns, end)
            problems = []
            if final.get("arp.pending") or final.get("arp.queue_frames"):
                problems.append("ARP: %s pending, %s frames queued"
                                % (final.get("arp.pending"), final.get("arp.queue_frames")))
            if final.get("mem.heap_bytes") != start.get("mem.heap_bytes"):
                problems.append("heap %s -> %s" % (start.get("mem.heap_bytes"),
                                                   final.get("mem.heap_bytes")))
            if final.get("sched.live") != start.get("sched.live"):
                problems.append("threads %s -> %s" % (start.get("sched.live"),
                                                      final.get("sched.live")))
            check("flood-no-leaks", not problems, "; ".join(problems))
            warn = warnings(g.buf)
            check("flood-no-warnings", not warn, warn[:5])
            note("totals: guest took %d frames off its ring, sent %d; %.0f s in all"
                 % (frames_seen(final), final.get("net0.tx_packets", 0),
                    time.monotonic() - t0))
        finally:
            tx.close()


SUITE.run(main)
