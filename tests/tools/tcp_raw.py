#!/usr/bin/python3
"""A TCP client in user space on an AF_PACKET socket, for the QEMU tests that must
control every segment (tests/qemu/tcp_test.py): it is an address no kernel owns
(--ip, answering the guest's ARP requests for it itself), so the host's own TCP
never answers for it, and it acknowledges only what a scenario says.

    ip netns exec NS tcp_raw.py SCENARIO [--ifname tap0] [--ip 10.0.0.50]

Refuses to send (exit 2) unless it runs inside a test network namespace with no
default route (tests/tools/netguard.py). Every wait is bounded.

Scenarios (one JSON line on stdout; exit 0 when every check held, 1 otherwise):
  pmtu   chargen (port 19) sends its first flight (MSS 1460), unacknowledged;
         an ICMP fragmentation needed (MTU 1280) quoting a sequence number the
         guest never sent is ignored (the retransmission is still 1460 bytes);
         one quoting the first segment makes the guest send that data again in
         segments of at most 1240 bytes, and the rest of the flight too; a new
         connection's SYN-ACK then announces MSS 1240 (the path MTU toward us).
  rst    on an echo connection (port 7): a reset out of the window is ignored
         (the echo still works), one inside the window but not at RCV.NXT gets a
         challenge ACK (RFC 5961) and is otherwise ignored, one exactly at
         RCV.NXT ends the connection (the next segment is answered with a reset).
"""
import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netguard  # noqa: E402

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


def csum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Seg:
    def __init__(self, ip):
        ihl = (ip[0] & 15) * 4
        t = ip[ihl:]
        self.ip = ip
        self.src, self.dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        self.sport, self.dport, self.seq, self.ack = struct.unpack("!HHII", t[:12])
        off = (t[12] >> 4) * 4
        self.flags = t[13]
        self.win = struct.unpack("!H", t[14:16])[0]
        self.opts = t[20:off]
        self.data = t[off:struct.unpack("!H", ip[2:4])[0] - ihl]

    def mss(self):
        o = self.opts
        i = 0
        while i < len(o):
            if o[i] == 0:
                break
            if o[i] == 1:
                i += 1
                continue
            if o[i] == 2 and i + 4 <= len(o):
                return struct.unpack("!H", o[i + 2:i + 4])[0]
            i += max(o[i + 1], 2) if i + 1 < len(o) else 1
        return None


class Raw:
    def __init__(self, ifname, my_ip, guest_ip, guest_mac):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.s.bind((ifname, ETH_P_ALL))
        with open("/sys/class/net/%s/address" % ifname) as f:
            self.mac = bytes.fromhex(f.read().strip().replace(":", ""))
        self.my_ip, self.guest_ip = my_ip, guest_ip
        self.guest_mac = bytes.fromhex(guest_mac.replace(":", ""))
        self.ident = random.randrange(65536)

    def send_ip(self, proto, payload, src=None):
        self.ident = (self.ident + 1) & 0xFFFF
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), self.ident, 0x4000,
                          64, proto, 0, socket.inet_aton(src or self.my_ip),
                          socket.inet_aton(self.guest_ip))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        self.s.send(self.guest_mac + self.mac + b"\x08\x00" + hdr + payload)

    def send_tcp(self, sport, dport, seq, ack, flags, data=b"", opts=b"", win=65535):
        off = (20 + len(opts)) // 4
        t = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                        off << 4, flags, win, 0, 0) + opts + data
        ph = struct.pack("!4s4sBBH", socket.inet_aton(self.my_ip),
                         socket.inet_aton(self.guest_ip), 0, 6, len(t))
        t = t[:16] + struct.pack("!H", csum(ph + t)) + t[18:]
        self.send_ip(6, t)

    def send_frag_needed(self, seg, mtu, seq=None):
        """ICMP destination unreachable, fragmentation needed, from the "router"
        10.0.0.1, quoting seg's IP header and the first 8 bytes of its TCP header
        (with another sequence number when seq is given)."""
        ihl = (seg.ip[0] & 15) * 4
        quote = bytearray(seg.ip[:ihl + 8])
        if seq is not None:
            quote[ihl + 4:ihl + 8] = struct.pack("!I", seq & 0xFFFFFFFF)
        icmp = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + bytes(quote)
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        self.send_ip(1, icmp, src="10.0.0.1")

    def _arp(self, f):
        """Answers the guest's ARP requests for our address."""
        if len(f) < 42 or f[12:14] != b"\x08\x06" or struct.unpack("!H", f[20:22])[0] != 1:
            return
        if f[38:42] != socket.inet_aton(self.my_ip):
            return
        rep = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, self.mac,
                          socket.inet_aton(self.my_ip), f[22:28], f[28:32])
        self.s.send(f[6:12] + self.mac + b"\x08\x06" + rep + b"\0" * 18)

    def recv(self, timeout, pred=lambda s: True):
        """The next segment from the guest to us that pred accepts (others are
        dropped), or None after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.s], [], [], left)
            if not r:
                continue
            f, addr = self.s.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING:
                continue
            self._arp(f)
            if len(f) < 54 or f[12:14] != b"\x08\x00" or f[23] != 6:
                continue
            seg = Seg(f[14:])
            if seg.src == self.guest_ip and seg.dst == self.my_ip and pred(seg):
                return seg


class Conn:
    """One connection's numbers: nxt (our next sequence number), rcv (the guest's
    next one we expect)."""

    def __init__(self, raw, dport, sport=None, mss=1460):
        self.raw, self.dport = raw, dport
        self.sport = sport or random.randrange(20000, 60000)
        isn = random.randrange(1 << 32)
        raw.send_tcp(self.sport, dport, isn, 0, SYN, opts=struct.pack("!BBH", 2, 4, mss))
        self.synack = raw.recv(5, lambda s: s.sport == dport and s.dport == self.sport and
                               s.flags & (SYN | ACK) == SYN | ACK)
        if not self.synack:
            raise RuntimeError("no SYN-ACK from port %d" % dport)
        self.nxt, self.rcv = isn + 1, self.synack.seq + 1
        self.ack()

    def mine(self, pred=lambda s: True):
        return lambda s: s.sport == self.dport and s.dport == self.sport and pred(s)

    def ack(self):
        self.raw.send_tcp(self.sport, self.dport, self.nxt, self.rcv, ACK)

    def send(self, data):
        self.raw.send_tcp(self.sport, self.dport, self.nxt, self.rcv, ACK | PSH, data)
        self.nxt += len(data)

    def rst(self, seq):
        self.raw.send_tcp(self.sport, self.dport, seq, 0, RST, win=0)

    def echo(self, data, timeout=3):
        """Sends data and reads its echo (acknowledging it); True when it came."""
        self.send(data)
        got = b""
        deadline = time.monotonic() + timeout
        while len(got) < len(data) and time.monotonic() < deadline:
            s = self.raw.recv(deadline - time.monotonic(),
                              self.mine(lambda s: s.data and s.seq == self.rcv))
            if s:
                got += s.data
                self.rcv += len(s.data)
                self.ack()
        return got == data


def scenario_pmtu(raw):
    out = {}
    c = Conn(raw, 19)
    out["synack_mss_before"] = c.synack.mss()
    first = raw.recv(5, c.mine(lambda s: s.data and s.seq == c.rcv))
    if not first:
        return False, {"error": "chargen sent nothing"}
    out["first_len"] = len(first.data)
    # A blind message: a sequence number far from what is in flight.
    raw.send_frag_needed(first, 1280, seq=first.seq + 50000000)
    again = raw.recv(10, c.mine(lambda s: s.seq == first.seq and s.data))
    out["after_blind_len"] = len(again.data) if again else None
    # The real one: the first segment, quoted.
    raw.send_frag_needed(first, 1280)
    t0 = time.monotonic()
    resent = raw.recv(3, c.mine(lambda s: s.seq == first.seq and s.data))
    out["resent_len"] = len(resent.data) if resent else None
    out["resent_after_s"] = round(time.monotonic() - t0, 3)
    # Acknowledge what comes in order for a second: every segment is small now.
    sizes = []
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        s = raw.recv(deadline - time.monotonic(), c.mine(lambda s: s.data))
        if s and s.seq == c.rcv:
            sizes.append(len(s.data))
            c.rcv += len(s.data)
            c.ack()
    out["segments_after"] = len(sizes)
    out["max_after"] = max(sizes) if sizes else None
    c.rst(c.nxt)
    n = Conn(raw, 7)
    out["synack_mss_after"] = n.synack.mss()
    n.rst(n.nxt)
    ok = (out["first_len"] == 1460 and out["after_blind_len"] == 1460 and
          out["resent_len"] is not None and 0 < out["resent_len"] <= 1240 and
          out["segments_after"] > 0 and out["max_after"] <= 1240 and
          out["synack_mss_before"] == 1460 and out["synack_mss_after"] == 1240)
    return ok, out


def scenario_rst(raw):
    out = {}
    c = Conn(raw, 7)
    out["echo"] = c.echo(b"hello12345")
    c.rst(c.nxt + 10000000)  # out of the window: ignored, nothing sent back
    out["out_of_window_answer"] = bool(raw.recv(0.5, c.mine()))
    out["alive_after_out_of_window"] = c.echo(b"alive")
    c.rst(c.nxt + 1000)  # in the window, not RCV.NXT: a challenge ACK
    ch = raw.recv(2, c.mine())
    out["challenge_ack"] = bool(ch and ch.flags & ACK and not ch.flags & RST and
                                ch.ack == c.nxt and not ch.data)
    out["alive_after_in_window"] = c.echo(b"still")
    c.rst(c.nxt)  # exactly RCV.NXT: the connection ends
    time.sleep(0.2)
    c.send(b"gone")
    r = raw.recv(2, c.mine())
    out["reset_after_exact"] = bool(r and r.flags & RST)
    ok = (out["echo"] and not out["out_of_window_answer"] and
          out["alive_after_out_of_window"] and out["challenge_ack"] and
          out["alive_after_in_window"] and out["reset_after_exact"])
    return ok, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", choices=["pmtu", "rst"])
    ap.add_argument("--ifname", default="tap0")
    ap.add_argument("--ip", default="10.0.0.50")
    ap.add_argument("--guest", default="10.0.0.2")
    ap.add_argument("--guest-mac", default="52:54:00:12:34:56")
    a = ap.parse_args()
    netguard.enforce("tcp_raw")
    raw = Raw(a.ifname, a.ip, a.guest, a.guest_mac)
    try:
        ok, res = globals()["scenario_" + a.scenario](raw)
    except (OSError, RuntimeError) as e:
        ok, res = False, {"error": repr(e)}
    res["ok"] = ok
    print(json.dumps(res), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
