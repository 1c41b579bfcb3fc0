"""Malformed packets against the guest (mode=net), crafted with scapy and sent
from the host side of the tap inside a namespace made here (see malformed.sh).
For each class: send its frames, then check that exactly the counters the
class should move moved (by exactly the number of frames), that no other drop
or error counter moved, that the RX buffer pool is back at its idle level and
reassembly holds nothing, and that the guest still answers a normal ping.
At the end: the counters add up (every frame counted once), no warning in the
guest's log but the one provoked on purpose, and the heap did not grow.

Crafted packets come from their own address, 10.0.0.9 (docs/qemu-facts.md: they never
share a reassembly key with the host's own pings); the host answers ARP for it.
"""
import os
import re
import struct
import sys
import time

sys.path.insert(0, "tests/lib")
from guest import Guest  # noqa: E402
from netns import Netns  # noqa: E402
from suite import Suite  # noqa: E402
from robust import (GUEST_IP, GUEST_MAC, PktSend, alive, counters_add_up, delta,  # noqa: E402
                    pool_idle, settle, warnings)

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw  # noqa: E402

SRC = "10.0.0.9"
SUITE = Suite("malformed")
check = SUITE.check
# Counters that say something went wrong (or was refused); each class names the
# ones it expects to move, any other that moves is a failure.
WATCH = re.compile(r"\.(.*_)?(drop|dropped|bad|err|errors|overlap|inconsistent|over|evicted|"
                   r"suppressed|conflict|timeout|timeouts|dup|unmatched|ratelimited|nobuf|"
                   r"no_buffer|full)(_.*)?$")


def csum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Frames:
    def __init__(self, host_mac):
        self.host_mac = host_mac
        self.ident = 0x5000

    def eth(self, dst=GUEST_MAC, type=0x0800):
        """(bytes() of a bare Ether() says type 0x9000: always give one.)"""
        return Ether(dst=dst, src=self.host_mac, type=type)

    def ip(self, src=SRC, dst=GUEST_IP, **kw):
        return IP(src=src, dst=dst, **kw)

    def echo(self, size=32, seq=1, **ipkw):
        return bytes(self.eth() / self.ip(**ipkw) / ICMP(id=0x4d41, seq=seq) / (b"m" * size))

    def next_id(self):
        self.ident += 1
        return self.ident

    def frag(self, ident, off, data, mf, proto=1, src=SRC):
        """One fragment: data bytes at byte offset off (any value: raw header)."""
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident,
                          (0x2000 if mf else 0) | (off // 8), 64, proto, 0,
                          bytes(map(int, src.split("."))), bytes(map(int, GUEST_IP.split("."))))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        return bytes(self.eth()) + hdr + data

    def echo_l4(self, size, seq=7):
        return bytes(ICMP(id=0x4d41, seq=seq) / (bytes(range(256)) * (size // 256 + 1))[:size])


def set_ip_csum(frame, off=14):
    """Recomputes the IPv4 header checksum of frame (IHL from the header)."""
    b = bytearray(frame)
    hl = (b[off] & 15) * 4
    b[off + 10:off + 12] = b"\0\0"
    b[off + 10:off + 12] = struct.pack("!H", csum(bytes(b[off:off + hl])))
    return bytes(b)


def with_options(frame, opts):
    """frame's IPv4 header with opts (a multiple of 4 bytes) inserted after the
    first 20 bytes: IHL, total length and checksum fixed, options left as given."""
    ip = frame[14:]
    hdr = bytearray(ip[:20] + opts)
    hdr[0] = 0x40 | len(hdr) // 4
    hdr[2:4] = struct.pack("!H", len(ip) + len(opts))
    return set_ip_csum(frame[:14] + bytes(hdr) + ip[20:])


def patch(frame, at, value):
    b = bytearray(frame)
    b[at:at + len(value)] = value
    return bytes(b)


def arp_frame(f, hwtype=1, ptype=0x0800, hwlen=6, plen=4, op=1, hwsrc=None,
              psrc=SRC, pdst=GUEST_IP, dst="ff:ff:ff:ff:ff:ff"):
    a = ARP(hwtype=hwtype, ptype=ptype, hwlen=hwlen, plen=plen, op=op,
            hwsrc=hwsrc or f.host_mac, psrc=psrc, hwdst="00:00:00:00:00:00", pdst=pdst)
    raw = bytes(a)
    if hwlen != 6 or plen != 4:  # scapy sizes the fields from hwlen/plen: keep 28 bytes
        raw = struct.pack("!HHBBH", hwtype, ptype, hwlen, plen, op) + raw[8:28].ljust(20, b"\0")
    return bytes(f.eth(dst, 0x0806)) + raw


def classes(f):
    """(name, frames, expected counter deltas, extra counters allowed to move)."""
    E = f.eth
    good_echo = f.echo()
    icmp_msg = bytes(ICMP(id=1, seq=1) / (b"x" * 16))
    udp_ok = bytes(UDP(sport=4000, dport=7) / (b"u" * 16))

    def ipraw(payload_bytes, proto, **kw):
        return bytes(E() / f.ip(proto=proto, **kw) / Raw(payload_bytes))

    def echo_frags(size, cut, ident):
        """An echo request of size data bytes, fragments at the given cuts."""
        l4 = f.echo_l4(size)
        l4 = l4[:2] + struct.pack("!H", 0) + l4[4:]
        l4 = l4[:2] + struct.pack("!H", csum(l4)) + l4[4:]
        edges = [0] + cut + [len(l4)]
        return [f.frag(ident, a, l4[a:b], b < len(l4)) for a, b in zip(edges, edges[1:])]

    out = []
    # ---- Ethernet
    out.append(("eth-runt-ipv4",
                [bytes(E()) + bytes(n) for n in (0, 6, 19)] + [bytes(E()) + bytes(45)],
                {"ipv4.drop_short": 3, "ipv4.drop_bad_version": 1}, ()))
    out.append(("eth-runt-arp", [bytes(E(type=0x0806)) + bytes(n) for n in (0, 20, 27)],
                {"arp.drop_short": 3}, ()))
    out.append(("eth-unknown-ethertype",
                [bytes(E(type=t)) + bytes(46) for t in (0x86DD, 0x8100, 0x88B5, 0x0000)],
                {"eth.drop_ethertype": 4}, ()))
    out.append(("eth-not-our-mac",
                [bytes(f.eth("02:00:00:00:00:99") / f.ip() / ICMP()),
                 bytes(f.eth("01:00:5e:00:00:fb") / f.ip(dst="224.0.0.251") / ICMP())],
                {"eth.drop_not_ours": 2}, ()))
    # ---- ARP
    out.append(("arp-bad-htype", [arp_frame(f, hwtype=6), arp_frame(f, hwtype=0)],
                {"arp.drop_bad_htype": 2}, ()))
    out.append(("arp-bad-ptype", [arp_frame(f, ptype=0x86DD), arp_frame(f, ptype=0)],
                {"arp.drop_bad_ptype": 2}, ()))
    out.append(("arp-bad-lengths", [arp_frame(f, hwlen=8), arp_frame(f, plen=16),
                                    arp_frame(f, hwlen=0, plen=0)],
                {"arp.drop_bad_len": 3}, ()))
    out.append(("arp-truncated", [arp_frame(f)[:14 + n] for n in (8, 20, 27)],
                {"arp.drop_short": 3}, ()))
    out.append(("arp-bad-op", [arp_frame(f, op=0), arp_frame(f, op=3), arp_frame(f, op=0x100)],
                {"arp.drop_bad_op": 3}, ()))
    out.append(("arp-bad-sender",
                [arp_frame(f, hwsrc="01:00:5e:00:00:01"), arp_frame(f, hwsrc="ff:ff:ff:ff:ff:ff"),
                 arp_frame(f, hwsrc="00:00:00:00:00:00"), arp_frame(f, psrc="255.255.255.255"),
                 arp_frame(f, psrc="224.0.0.5"), arp_frame(f, hwsrc=GUEST_MAC)],
                {"arp.drop_bad_sender": 6}, ()))
    out.append(("arp-claims-our-address", [arp_frame(f, psrc=GUEST_IP, pdst="10.0.0.1")],
                {"arp.addr_conflict": 1}, ()))
    # ---- IPv4 header
    out.append(("ipv4-version-not-4",
                [set_ip_csum(patch(good_echo, 14, bytes([v << 4 | 5]))) for v in (6, 0, 15)],
                {"ipv4.drop_bad_version": 3}, ()))
    out.append(("ipv4-ihl-under-5",
                [set_ip_csum(patch(good_echo, 14, bytes([0x40 | i])), 14) for i in (4, 1)] +
                [patch(good_echo, 14, b"\x40")],
                {"ipv4.drop_bad_hdr_len": 3}, ()))
    out.append(("ipv4-ihl-over-total",
                [set_ip_csum(patch(patch(good_echo, 14, b"\x4f"), 16, struct.pack("!H", 40)))],
                {"ipv4.drop_bad_hdr_len": 1}, ()))
    out.append(("ipv4-total-under-header",
                [set_ip_csum(patch(good_echo, 16, struct.pack("!H", n))) for n in (0, 10, 19)],
                {"ipv4.drop_bad_hdr_len": 3}, ()))
    out.append(("ipv4-total-over-frame",
                [set_ip_csum(patch(good_echo, 16, struct.pack("!H", n)))
                 for n in (len(good_echo) - 13, 1500, 65535)],
                {"ipv4.drop_truncated": 3}, ()))
    out.append(("ipv4-bad-header-checksum",
                [patch(good_echo, 24, b"\xde\xad"), patch(good_echo, 24, b"\x00\x00")],
                {"ipv4.drop_bad_csum": 2}, ()))
    opt_frames = [with_options(good_echo, o) for o in (
        b"\x44\x00\x00\x00",                  # length 0
        b"\x07\x01\x00\x00",                  # length 1
        b"\x44\x10\x05\x00",                  # 16 bytes, 4 left
        b"\x01\x01\x01\x83",                  # no room for the length byte
        b"\x86\x02\x01\x44\x0c\x00\x00\x00")]  # the second option overruns
    out.append(("ipv4-options-bad-length", opt_frames, {"ipv4.drop_bad_options": 5}, ()))
    out.append(("ipv4-options-good-answered",
                [with_options(f.echo(seq=9), b"\x01\x01\x94\x04\x00\x00\x00\x00")],
                {"icmp.tx_echo_reply": 1}, ()))
    # ---- fragments
    i1, i2, i3 = f.next_id(), f.next_id(), f.next_id()
    out.append(("frag-overlap-teardrop",
                [f.frag(i1, 0, bytes(32), True), f.frag(i1, 24, bytes(16), False),
                 f.frag(i2, 0, bytes(48), True), f.frag(i2, 40, bytes(16), True),
                 f.frag(i3, 0, bytes(48), True), f.frag(i3, 8, bytes(8), True)],
                {"reass.drop_overlap": 3, "ipv4.drop_reass": 3}, ()))
    i1 = f.next_id()
    fr = echo_frags(200, [64, 136], i1)
    out.append(("frag-duplicates-ignored", [fr[0], fr[0], fr[1], fr[1], fr[2]],
                {"reass.dup": 2, "reass.done": 1, "icmp.tx_echo_reply": 1}, ()))
    i1 = f.next_id()
    out.append(("frag-tiny-first-answered", echo_frags(300, [8], i1),
                {"reass.done": 1, "icmp.tx_echo_reply": 1}, ()))
    i1, i2 = f.next_id(), f.next_id()
    pod = [f.frag(i1, 0, bytes(1480), True), f.frag(i1, 65528, bytes(100), False)]
    pod += [f.frag(i2, off, bytes(1480), True) for off in range(0, 65120, 1480)]
    pod += [f.frag(i2, 65120, bytes(600), False)]
    out.append(("frag-ping-of-death", pod,
                {"reass.drop_over_limit": 2, "ipv4.drop_reass": 2}, ("reass.evicted",)))
    i1 = f.next_id()
    out.append(("frag-not-multiple-of-8",
                [f.frag(i1, 0, bytes(100), True), f.frag(i1, 0, bytes(7), True),
                 f.frag(i1, 0, b"", True)],
                {"reass.drop_bad_len": 3, "ipv4.drop_reass": 3}, ()))
    # ---- ICMP
    out.append(("icmp-truncated", [ipraw(icmp_msg[:n], 1) for n in (0, 4, 7)],
                {"icmp.drop_short": 3}, ()))
    out.append(("icmp-bad-checksum", [ipraw(patch(icmp_msg, 2, b"\x12\x34"), 1)],
                {"icmp.drop_bad_csum": 1}, ()))
    out.append(("icmp-error-about-error-not-answered",
                [bytes(E() / f.ip() / ICMP(type=3, code=3) / b"quoted header.....")],
                {}, ()))
    # ---- UDP (port 7: the echo service)
    out.append(("udp-length-over-payload",
                [ipraw(patch(udp_ok, 4, struct.pack("!H", n)), 17) for n in (25, 1000)],
                {"udp.drop_bad_len": 2}, ()))
    out.append(("udp-length-under-8",
                [ipraw(patch(udp_ok, 4, struct.pack("!H", n)), 17) for n in (0, 7)],
                {"udp.drop_bad_len": 2}, ()))
    out.append(("udp-truncated", [ipraw(udp_ok[:n], 17) for n in (0, 7)],
                {"udp.drop_short": 2}, ()))
    out.append(("udp-bad-checksum", [ipraw(patch(udp_ok, 6, b"\x55\xaa"), 17)],
                {"udp.drop_bad_csum": 1}, ()))
    out.append(("udp-no-checksum-answered", [ipraw(patch(udp_ok, 6, b"\x00\x00"), 17)],
                {"udp.rx_no_csum": 1, "svc.echo_tx": 1}, ()))
    # ---- sources and destinations
    out.append(("src-broadcast-multicast-loopback-ours",
                [f.echo(src=s) for s in ("255.255.255.255", "10.0.0.255", "224.0.0.1",
                                          "239.1.2.3", "127.0.0.1", GUEST_IP)],
                {"ipv4.drop_bad_src": 6}, ()))
    out.append(("dst-broadcast-echo-not-answered",
                [bytes(f.eth("ff:ff:ff:ff:ff:ff") / f.ip(dst=d) / ICMP() / b"bc")
                 for d in ("255.255.255.255", "10.0.0.255")],
                {"icmp.drop_bcast_echo": 2}, ()))
    out.append(("dst-broadcast-udp-no-port-unreachable",
                [bytes(f.eth("ff:ff:ff:ff:ff:ff") / f.ip(dst="10.0.0.255") /
                       UDP(sport=4000, dport=4444) / b"bc")],
                {"udp.drop_no_port": 1, "icmp.err_suppressed_bcast": 1}, ()))
    out.append(("dst-other-host", [bytes(E() / f.ip(dst="10.0.0.77") / ICMP())],
                {"ipv4.drop_not_ours": 1}, ()))
    # ---- TTL 0 and 1: a host answers (as Linux does: TTL matters for forwarding)
    out.append(("ttl-0-and-1-answered", [f.echo(ttl=0), f.echo(ttl=1)],
                {"icmp.tx_echo_reply": 2}, ()))
    out.append(("unknown-protocol-unreachable", [ipraw(b"proto 253", 253)],
                {"icmp.tx_proto_unreach": 1}, ()))
    return out


def run_class(g, ns, tx, name, frames, want, allowed):
    before = settle(g)
    r = tx.send(frames)
    after = settle(g, before, len(frames), reass=True)
    problems = []
    if r["errors"]:
        problems.append("%d frames refused by the tap" % r["errors"])
    for k, n in want.items():
        if delta(before, after, k) != n:
            problems.append("%s moved %d, want %d" % (k, delta(before, after, k), n))
    moved = {k: delta(before, after, k) for k in after
             if delta(before, after, k) and WATCH.search(k)
             and k not in want and k not in allowed}
    if moved:
        problems.append("unexpected: %s" % moved)
    if not pool_idle(after):
        problems.append("RX pool not idle: %s of %s posted"
                        % (after.get("net0.rx_pool_posted"), after.get("net0.rx_pool_bufs")))
    if after.get("reass.in_progress") or after.get("reass.bytes_held"):
        problems.append("reassembly holds %s bytes in %s datagrams"
                        % (after.get("reass.bytes_held"), after.get("reass.in_progress")))
    if not alive(ns):
        problems.append("no answer to a normal ping afterwards")
    shown = ", ".join("%s+%d" % (k, n) for k, n in want.items()) or "nothing answered"
    check("malformed-%s" % name, not problems,
          "; ".join(problems) + " (sent %d frames)" % r["sent"])
    if not problems:
        print("  %s: %d frames, %s" % (name, r["sent"], shown), flush=True)


def never_completing(g, ns, tx, f, count):
    """count first fragments with distinct identifications: the reassembler keeps
    its cap and evicts; four complete datagrams then push the leftovers out."""
    before = settle(g)
    frames = [f.frag(0x8000 + i, 0, bytes(16), True) for i in range(count)]
    r = tx.burst(len(frames), 4000, frames)
    mid = settle(g, before, count)
    got = delta(before, mid, "ipv4.rx")
    held = mid.get("reass.in_progress", 0)
    problems = []
    if got != count:
        problems.append("guest received %d of %d" % (got, count))
    if delta(before, mid, "reass.frags") != got:
        problems.append("reass.frags moved %d" % delta(before, mid, "reass.frags"))
    if held > mid.get("reass.max_bytes", 0) or held > 64 or \
            mid.get("reass.bytes_held", 0) > mid.get("reass.max_bytes", 0):
        problems.append("over the caps: %s datagrams, %s bytes" % (held, mid.get("reass.bytes_held")))
    if delta(before, mid, "reass.evicted") != got - held:
        problems.append("evicted %d, expected %d" % (delta(before, mid, "reass.evicted"), got - held))
    # Evict the leftovers with new datagrams, then complete those.
    firsts = [f.frag(0x7000 + i, 0, bytes(16), True) for i in range(held)]
    lasts = [f.frag(0x7000 + i, 16, bytes(4), False) for i in range(held)]
    tx.send(firsts)
    tx.send(lasts)
    after = settle(g, mid, 2 * held, reass=True)
    if after.get("reass.in_progress") or after.get("reass.bytes_held"):
        problems.append("reassembly still holds %s bytes" % after.get("reass.bytes_held"))
    if not pool_idle(after):
        problems.append("RX pool not idle")
    if not alive(ns):
        problems.append("no answer to a normal ping afterwards")
    check("malformed-frag-never-completing-%d-ids" % count, not problems,
          "; ".join(problems) + " (sent %d)" % r["sent"])
    if not problems:
        print("  frag-never-completing: %d first fragments in %.2f s, %d evicted, at most %d "
              "in progress" % (got, r["secs"], delta(before, mid, "reass.evicted"), held),
              flush=True)


def oversize(g, ns, tx, f):
    """Frames over the MTU (the tap's own MTU raised to send them). Those that fit
    QEMU's RX buffers (1519 to 1524 bytes with MTU 1500) are the driver's RX
    errors; larger ones QEMU drops before the guest sees anything."""
    ns._ip("-n", ns.name, "link", "set", "tap0", "mtu", "9000")
    try:
        run_class(g, ns, tx, "eth-oversize-in-buffer", [f.echo(size=1477), f.echo(size=1482)],
                  {"net0.rx_errors": 2, "net0.rx_packets": 0}, ())
        before = settle(g)
        r = tx.send([f.echo(size=n) for n in (1483, 1600, 4000, 8950)])
        after = settle(g)
    finally:
        ns._ip("-n", ns.name, "link", "set", "tap0", "mtu", "1500")
    moved = delta(before, after, "net0.rx_packets") + delta(before, after, "net0.rx_errors")
    ok = r["sent"] == 4 and moved == 0 and pool_idle(after) and alive(ns)
    check("malformed-eth-oversize-dropped-by-qemu", ok,
          "sent %s, guest saw %d frames (QEMU should drop them)" % (r, moved))


def main():
    t0 = time.monotonic()
    with Netns("uknet-mal", extra_cidrs=["%s/24" % SRC]) as ns, \
         Guest(cmdline="mode=net", netns=ns.name, nics=[{"tap": "tap0", "mac": GUEST_MAC}],
               log_path="build/test/malformed.log") as g:
        g.expect(r"kernel: ready", 30)
        host_mac = ns.run(["cat", "/sys/class/net/tap0/address"]).stdout.strip()
        f = Frames(host_mac)
        tx = PktSend(ns)
        try:
            check("malformed-guest-up", alive(ns, count=2), "no answer to ping")
            start = settle(g)
            ids = int(os.environ.get("MALFORMED_FRAG_IDS", "2000"))
            never_completing(g, ns, tx, f, ids)
            cls = classes(f)
            for name, frames, want, allowed in cls:
                run_class(g, ns, tx, name, frames, want, allowed)
            oversize(g, ns, tx, f)
            end = settle(g)
            bad = counters_add_up(end)
            check("malformed-counters-add-up", not bad, bad)
            warn = [w for w in warnings(g.buf) if "address conflict" not in w]
            check("malformed-no-warnings", not warn, warn)
            check("malformed-heap-stable", end.get("mem.heap_bytes") == start.get("mem.heap_bytes"),
                  "heap %s -> %s" % (start.get("mem.heap_bytes"), end.get("mem.heap_bytes")))
            print("  %d classes in %.0f s" % (len(cls) + 3, time.monotonic() - t0), flush=True)
        finally:
            tx.close()


SUITE.run(main)
