"""Shared pieces of the robustness suites (malformed_test.py, flood_test.py): the
frame sender inside the namespace (tests/lib/pktsend.py), counter snapshots and
deltas from the console's `stats`, and the after-each-step checks: the guest
answers a ping, the RX buffer pool is back at its idle level, reassembly holds
nothing, the ARP table is within its capacity, and the counters add up.

    with Netns(...) as ns, Guest(...) as g:
        tx = PktSend(ns, "tap0")
        before = g.stats()
        tx.send([frame_bytes, ...])
        after = settle(g)
        delta(before, after, "ipv4.drop_bad_csum")
"""
import re
import subprocess
import tempfile
import time

from boundedio import LineReader, PipeClosed, PipeTimeout, write_all

GUEST_IP = "10.0.0.2"
GUEST_MAC = "52:54:00:12:34:56"


# Seconds the sender may take beyond a command's own duration before it is
# declared stuck (it is then killed, and this and every later command fail).
SLACK_SECS = 30


def _duration(count, pps):
    """The time count frames take at pps (0: flat out, taken as 2000/s at worst)."""
    return count / (pps if pps else 2000.0)


class PktSend:
    """The sender helper, started inside the namespace; only its own process is
    ever stopped (by its pid). Every exchange with it is bounded in time."""

    def __init__(self, ns, ifname="tap0"):
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(ns.cmd(["/usr/bin/python3", "tests/lib/pktsend.py", ifname]),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, bufsize=0)
        self.lines = LineReader(self.p.stdout.fileno())
        try:
            line = self._line("start", SLACK_SECS)
            if line != "ready":
                raise RuntimeError("pktsend did not start: %r %s" % (line, self._stderr()))
        except BaseException:
            self.close()
            raise

    def _stderr(self):
        self.err.seek(0)
        return self.err.read()[-400:].decode("utf-8", "replace")

    def _line(self, what, secs):
        try:
            return self.lines.readline(secs).strip()
        except (PipeTimeout, PipeClosed) as e:
            self._kill()
            raise RuntimeError("pktsend: %s: %s; its stderr: %s" % (what, e, self._stderr()))

    def _cmd(self, words, secs):
        """One command and its answer, within secs + SLACK_SECS."""
        try:
            write_all(self.p.stdin.fileno(), (" ".join(str(w) for w in words) + "\n").encode(),
                      SLACK_SECS)
        except (PipeTimeout, PipeClosed) as e:
            self._kill()
            raise RuntimeError("pktsend: %s: writing the command: %s; its stderr: %s"
                               % (words[0], e, self._stderr()))
        line = self._line(words[0], secs + SLACK_SECS)
        if not line.startswith("ok"):
            raise RuntimeError("pktsend: %s -> %r" % (words[0], line))
        return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}

    def send(self, frames):
        """Each frame (bytes) once, in order; returns the answer dict."""
        out = {"sent": 0, "errors": 0, "secs": 0.0}
        for i in range(0, len(frames), 256):
            chunk = frames[i:i + 256]
            r = self._cmd(["send"] + [bytes(f).hex() for f in chunk], _duration(len(chunk), 0))
            for k in out:
                out[k] += r[k]
        return out

    def burst(self, count, pps, frames):
        return self._cmd(["burst", count, pps] + [bytes(f).hex() for f in frames],
                         _duration(count, pps))

    def udp(self, secs, size, dst, port, pps=0):
        return self._cmd(["udp", secs, size, dst, port, pps], secs)

    def arpflood(self, count, base, pps=0):
        return self._cmd(["arpflood", count, base, pps], _duration(count, pps))

    def _kill(self):
        if self.p.poll() is None:
            self.p.kill()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self):
        if self.p.poll() is None:
            try:
                write_all(self.p.stdin.fileno(), b"quit\n", 5)
                self.p.wait(timeout=5)
            except (OSError, PipeTimeout, PipeClosed, subprocess.TimeoutExpired):
                pass
        self._kill()
        for f in (self.p.stdin, self.p.stdout, self.err):
            try:
                f.close()
            except OSError:
                pass


def delta(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


def alive(ns, count=1, timeout=3):
    """A normal ping from the host is answered."""
    r = ns.run(["ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", str(timeout),
                GUEST_IP], timeout=30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    return bool(m) and int(m.group(2)) == count


def frames_seen(st):
    """Frames the guest's driver took off its RX ring (good ones and errors)."""
    return st.get("net0.rx_packets", 0) + st.get("net0.rx_errors", 0)


def reass_idle(st):
    return not st.get("reass.in_progress") and not st.get("reass.bytes_held")


SETTLE_POLL = 0.05


def settle(g, before=None, frames=0, timeout=5.0, reass=False):
    """Stats once the guest has drained what it was sent: at least `frames`
    frames more than in `before` came off the RX ring (if given), the RX pool is
    back at its idle level (every buffer posted) and, with reass, reassembly
    holds nothing (a datagram stays referenced until the device has sent the
    reply that points into it); or the timeout passed."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / SETTLE_POLL) + 1):  # bounded in count and in time
        st = g.stats()
        arrived = before is None or frames_seen(st) - frames_seen(before) >= frames
        if (arrived and pool_idle(st) and (not reass or reass_idle(st))) or \
                time.monotonic() > deadline:
            break
        time.sleep(SETTLE_POLL)
    return st


def pool_idle(st):
    bufs = st.get("net0.rx_pool_bufs")
    return bool(bufs) and st.get("net0.rx_pool_posted") == bufs


def counters_add_up(st):
    """The identities every frame and datagram obeys (as in tests/fuzz/): each
    is counted once, accepted by one next layer or under one drop reason.
    Returns a list of the broken ones (empty: all hold)."""
    g = lambda k: st.get(k, 0)  # noqa: E731
    bad = []

    def need(name, lhs, rhs):
        if lhs != rhs:
            bad.append("%s: %d != %d" % (name, lhs, rhs))

    need("net0.rx_packets = eth.rx_frames", g("net0.rx_packets"), g("eth.rx_frames"))
    need("eth.rx_frames = eth drops + arp.rx + ipv4.rx", g("eth.rx_frames"),
         g("eth.drop_short") + g("eth.drop_not_ours") + g("eth.drop_ethertype") +
         g("arp.rx") + g("ipv4.rx"))
    need("arp.rx = drops + requests + replies", g("arp.rx"),
         sum(g("arp." + k) for k in ("drop_short", "drop_bad_htype", "drop_bad_ptype",
                                     "drop_bad_len", "drop_bad_op", "drop_disconnected",
                                     "rx_request", "rx_reply")))
    need("ipv4.rx = drops + whole datagrams + fragments", g("ipv4.rx"),
         sum(g("ipv4." + k) for k in ("drop_short", "drop_bad_version", "drop_bad_hdr_len",
                                      "drop_truncated", "drop_bad_csum", "drop_bad_options",
                                      "drop_not_ours", "drop_bad_src", "drop_disconnected",
                                      "delivered", "rx_frags")) - g("reass.done"))
    need("ipv4.rx_frags = reass.frags", g("ipv4.rx_frags"), g("reass.frags"))
    need("icmp.rx = drops + by type", g("icmp.rx"),
         sum(g("icmp." + k) for k in ("drop_short", "drop_bad_csum", "rx_echo_request",
                                      "rx_echo_reply", "rx_dest_unreach", "rx_time_exceeded",
                                      "rx_other")))
    need("udp.rx = drops + delivered", g("udp.rx"),
         sum(g("udp." + k) for k in ("drop_short", "drop_bad_len", "drop_bad_csum",
                                     "drop_no_port", "delivered")))
    if g("ipv4.delivered") < g("icmp.rx") + g("udp.rx"):
        bad.append("ipv4.delivered < icmp.rx + udp.rx")
    if g("arp.entries") > g("arp.capacity"):
        bad.append("arp.entries %d over capacity %d" % (g("arp.entries"), g("arp.capacity")))
    if g("reass.bytes_held") > g("reass.max_bytes"):
        bad.append("reass.bytes_held over max_bytes")
    return bad


def warnings(console_text):
    """Warning and error lines of the guest's log."""
    return [l for l in console_text.splitlines() if re.match(r"^\[\s*\d+\.\d+\] (warn|error): ", l)]
