#!/usr/bin/python3
"""Echo client for the host side of the tests and benchmarks: UDP echo (RFC 862,
port 7) by default, ICMP echo with --proto icmp.

Refuses to send (exit 2) unless it runs inside a test network namespace with no
default route (tests/tools/netguard.py): start it with `ip netns exec NS ...`.

Modes (all bounded by --count and --duration; every request waits --timeout for
its reply at most, then counts as lost):
  --inflight 1         one at a time: the next request leaves when the reply came
  --inflight N         N requests in flight
  --interval S         paced: one request every S seconds (ping -i style); with
                       --inflight 0 (the default then) replies are not waited for
  --until-reply        probe: one request every --interval until the first reply,
                       prints its CLOCK_MONOTONIC time (first_reply_mono)

Transports:
  kernel sockets (default): a connected UDP socket, or a raw ICMP socket; the
      kernel does ARP, fragmentation and reassembly.
  --raw IFNAME: Ethernet frames on an AF_PACKET socket bound to IFNAME, to
      --dst-mac; the client builds IP/UDP/ICMP itself (fragmenting at --mtu) and
      reassembles what comes back. A reply is either a real echo reply or the
      request itself sent back by a frame reflector (MACs swapped: the
      unikernel's mode=reflect); both count. Checksums of replies are verified.

Every reply's payload is compared with the request's (bad = mismatch). Output:
`metric value unit` lines, each name prefixed with --prefix, or JSON (--json).
Exit status: 0; 1 if nothing came back, any payload was bad, or loss exceeded
--max-loss (percent); 2 on a usage error or a refusal.

Examples (inside the namespace):
  udp_echo_client.py --size 1472 --count 1000                 # one at a time
  udp_echo_client.py --size 64 --inflight 32 --duration 3     # 32 in flight
  udp_echo_client.py --proto icmp --size 56 --interval 0.01 --count 1000
  udp_echo_client.py --raw tap0 --proto icmp --until-reply --interval 0.02
"""
import argparse
import collections
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netguard  # noqa: E402

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_IGNORE_OUTGOING = 23
TP_STATUS_CSUMNOTREADY = 1 << 3  # checksum left to an offload (partial)
TP_STATUS_CSUM_VALID = 1 << 7
MAGIC = b"UKEC"


# ------------------------------------------------------------------ payloads

class Payloads:
    """Request payloads: MAGIC, the 32-bit sequence number, then a pattern that
    depends on seq % 16. Payloads shorter than 8 bytes carry no sequence number
    and are matched against the oldest outstanding request."""

    def __init__(self, size):
        self.size = size
        self.bodies = [bytes(((k * 7 + j * 31 + 3) & 0xFF) for j in range(max(0, size - 8)))
                       for k in range(16)]
        self.short = [bytes(((k * 7 + j * 31 + 3) & 0xFF) for j in range(size))
                      for k in range(16)] if size < 8 else None

    def make(self, seq):
        if self.short is not None:
            return self.short[seq & 15]
        return MAGIC + struct.pack("!I", seq & 0xFFFFFFFF) + self.bodies[seq & 15]

    def seq_of(self, data):
        """The sequence number a reply payload claims, or None."""
        if self.short is not None or len(data) < 8 or data[:4] != MAGIC:
            return None
        return struct.unpack_from("!I", data, 4)[0]


# ------------------------------------------------------------------ checksums

def csum_ok(data):
    """True when data (a header or segment with its checksum field) sums to zero
    in ones'-complement: 2**16 = 1 mod 0xffff, so the big integer's residue is the
    ones'-complement sum."""
    if len(data) & 1:
        data = data + b"\0"
    return int.from_bytes(data, "big") % 0xFFFF == 0


def _csum16(data):
    """RFC 1071 checksum value to store in a header."""
    if len(data) & 1:
        data = data + b"\0"
    s = int.from_bytes(data, "big") % 0xFFFF
    if s == 0 and any(data):
        s = 0xFFFF
    return (~s) & 0xFFFF


# ------------------------------------------------------------------ transports

class KernelUdp:
    name = "udp"

    def __init__(self, a):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 21)
        if a.src:
            self.s.bind((a.src, 0))
        self.s.connect((a.host, a.port))
        self.s.setblocking(False)
        self.errors = 0

    def fileno(self):
        return self.s.fileno()

    def send(self, seq, payload):
        self.s.send(payload)

    def recv_all(self):
        """Yields (payload, ok) for every datagram waiting; ok=False on a bad checksum."""
        while True:
            try:
                data = self.s.recv(65536)
            except BlockingIOError:
                return
            except ConnectionRefusedError:  # ICMP port unreachable came back
                self.errors += 1
                continue
            yield data, True


class KernelIcmp:
    name = "icmp"

    def __init__(self, a):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        if a.src:
            self.s.bind((a.src, 0))
        self.dst = (a.host, 0)
        self.ident = a.ident
        self.host = socket.inet_aton(a.host)
        self.s.setblocking(False)
        self.errors = 0

    def fileno(self):
        return self.s.fileno()

    def send(self, seq, payload):
        hdr = struct.pack("!BBHHH", 8, 0, 0, self.ident, seq & 0xFFFF)
        c = _csum16(hdr + payload)
        self.s.sendto(hdr[:2] + struct.pack("!H", c) + hdr[4:] + payload, self.dst)

    def recv_all(self):
        while True:
            try:
                pkt = self.s.recv(65600)
            except BlockingIOError:
                return
            ihl = (pkt[0] & 15) * 4
            if pkt[12:16] != self.host or len(pkt) < ihl + 8:
                continue
            typ, _code, _c, ident, _seq = struct.unpack_from("!BBHHH", pkt, ihl)
            if typ == 0 and ident == self.ident:
                yield pkt[ihl + 8:], csum_ok(pkt[ihl:])
            elif typ in (3, 11, 12):
                self.errors += 1


class RawEth:
    """Ethernet frames on an AF_PACKET socket; IPv4 fragmentation and reassembly
    done here. Accepts real echo replies and reflected requests alike."""

    def __init__(self, a):
        self.name = "raw-" + a.proto
        self.proto = a.proto
        # Protocol 0 until bound: with a protocol it hears every interface until
        # bind().
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        self.s.bind((a.raw, ETH_P_IP))
        # Auxiliary data tells frames whose L4 checksum an offload still has to
        # fill in (a guest with checksum offload on a tap with a vnet header).
        self.s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        try:  # our own frames need not come back up (Linux 4.20+)
            self.s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass
        self.s.setblocking(False)
        with open("/sys/class/net/%s/address" % a.raw) as f:
            self.my_mac = bytes.fromhex(f.read().strip().replace(":", ""))
        self.peer_mac = bytes.fromhex(a.dst_mac.replace(":", ""))
        self.src = socket.inet_aton(a.src or self._if_addr(a.raw))
        self.dst = socket.inet_aton(a.host)
        self.mtu = a.mtu
        self.ident = a.ident
        self.port = a.port
        self.errors = 0
        self.ipid = (os.getpid() * 251) & 0xFFFF
        self.frags = {}
        self.eth = self.peer_mac + self.my_mac + b"\x08\x00"
        self.sport = None
        self.hold = None
        if self.proto == "udp":
            # A UDP socket on our source port, never read, so that the host's stack
            # does not answer the guest's replies with ICMP port unreachable.
            self.hold = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.hold.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self.hold.bind((socket.inet_ntoa(self.src), 0))
            self.sport = self.hold.getsockname()[1]

    @staticmethod
    def _if_addr(ifname):
        import fcntl
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            r = fcntl.ioctl(s.fileno(), 0x8915,  # SIOCGIFADDR
                            struct.pack("256s", ifname.encode()[:15]))
            return socket.inet_ntoa(r[20:24])
        finally:
            s.close()

    def fileno(self):
        return self.s.fileno()

    def _l4(self, seq, payload):
        if self.proto == "icmp":
            hdr = struct.pack("!BBHHH", 8, 0, 0, self.ident, seq & 0xFFFF)
            c = _csum16(hdr + payload)
            return 1, hdr[:2] + struct.pack("!H", c) + hdr[4:] + payload
        ulen = 8 + len(payload)
        hdr = struct.pack("!HHHH", self.sport, self.port, ulen, 0)
        pseudo = self.src + self.dst + struct.pack("!BBH", 0, 17, ulen)
        c = _csum16(pseudo + hdr + payload)
        return 17, hdr[:6] + struct.pack("!H", c) + payload

    def send(self, seq, payload):
        proto, l4 = self._l4(seq, payload)
        self.ipid = (self.ipid + 1) & 0xFFFF
        room = (self.mtu - 20) & ~7
        if len(l4) <= self.mtu - 20:
            self._send_ip(proto, 0x4000, l4)  # DF, as ping does for small packets
            return
        for off in range(0, len(l4), room):
            piece = l4[off:off + room]
            mf = 0x2000 if off + room < len(l4) else 0
            self._send_ip(proto, mf | (off >> 3), piece)

    def _send_ip(self, proto, frag, data):
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), self.ipid, frag, 64,
                          proto, 0, self.src, self.dst)
        hdr = hdr[:10] + struct.pack("!H", _csum16(hdr)) + hdr[12:]
        self.s.send(self.eth + hdr + data)

    def recv_all(self):
        while True:
            try:
                frame, anc, _fl, addr = self.s.recvmsg(65600, 64)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING or frame[6:12] != self.peer_mac or len(frame) < 34:
                continue
            csum_done = False
            for level, typ, data in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA and len(data) >= 4:
                    st = struct.unpack_from("I", data)[0]
                    csum_done = bool(st & (TP_STATUS_CSUMNOTREADY | TP_STATUS_CSUM_VALID))
            ip = frame[14:]
            ihl = (ip[0] & 15) * 4
            tot = struct.unpack_from("!H", ip, 2)[0]
            ip = ip[:tot]
            if not csum_ok(ip[:ihl]):
                yield b"", False
                continue
            fo = struct.unpack_from("!H", ip, 6)[0]
            src, dst, proto = ip[12:16], ip[16:20], ip[9]
            if fo & 0x3FFF:  # a fragment: MF or an offset
                body = self._reassemble((src, dst, proto, ip[4:6]), fo, ip[ihl:])
                if body is None:
                    continue
            else:
                body = ip[ihl:]
            got = self._match(src, dst, proto, body, csum_done)
            if got is not None:
                yield got

    def _reassemble(self, key, fo, data):
        ent = self.frags.setdefault(key, [{}, None, time.monotonic()])
        off = (fo & 0x1FFF) * 8
        ent[0][off] = data
        if not fo & 0x2000:
            ent[1] = off + len(data)
        if ent[1] is None or sum(len(d) for d in ent[0].values()) < ent[1]:
            if len(self.frags) > 256:  # drop stale partial datagrams
                now = time.monotonic()
                for k in [k for k, v in self.frags.items() if now - v[2] > 5]:
                    del self.frags[k]
            return None
        del self.frags[key]
        body, pos = bytearray(), 0
        for off in sorted(ent[0]):
            d = ent[0][off]
            if off > pos:
                return None
            body += d[pos - off:]
            pos = max(pos, off + len(d))
        return bytes(body[:ent[1]])

    def _match(self, src, dst, proto, body, csum_done=False):
        """(payload, checksum ok) for a reply or a reflected request, else None.
        csum_done: the kernel vouches for the L4 checksum (or an offload will)."""
        reflected = src == self.src and dst == self.dst
        if not reflected and not (src == self.dst and dst == self.src):
            return None
        if proto == 1 and self.proto == "icmp" and len(body) >= 8:
            typ, _c, _s, ident = struct.unpack_from("!BBHH", body)
            if ident == self.ident and typ == (8 if reflected else 0):
                return body[8:], csum_done or csum_ok(body)
            if typ in (3, 11, 12):
                self.errors += 1
        elif proto == 17 and self.proto == "udp" and len(body) >= 8:
            sp, dp, ulen, c = struct.unpack_from("!HHHH", body)
            want = (self.sport, self.port) if reflected else (self.port, self.sport)
            if (sp, dp) == want:
                a, b = (self.src, self.dst) if reflected else (self.dst, self.src)
                ok = csum_done or c == 0 or csum_ok(
                    a + b + struct.pack("!BBH", 0, 17, ulen) + body[:ulen])
                return body[8:ulen], ok
        return None


# ------------------------------------------------------------------ engine

def percentile(sorted_vals, p):
    if not sorted_vals:
        return None
    k = (len(sorted_vals) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def run(tr, pl, count, duration, timeout, inflight, interval, until_reply=False):
    """Sends up to count requests within duration seconds; returns the stats dict."""
    mono = time.monotonic
    out = collections.OrderedDict()  # seq -> send time, oldest first
    rtts = []
    sent = received = bad = late = dup = send_err = 0
    first_reply = None
    poller = select.poll()
    poller.register(tr.fileno(), select.POLLIN)
    t0 = mono()
    cpu0 = time.process_time()
    end = t0 + duration
    next_send = t0
    seq = 0
    window = inflight if inflight > 0 else 1 << 30
    done_seqs = set()
    last_rx = t0
    while True:
        now = mono()
        # Expire the oldest outstanding requests.
        while out:
            s0, ts = next(iter(out.items()))
            if now - ts < timeout:
                break
            del out[s0]
        # Send what the window and the pace allow.
        while (len(out) < window and seq < count and now < end and now >= next_send
               and not (until_reply and first_reply is not None)):
            p = pl.make(seq)
            try:
                tr.send(seq, p)
                out[seq] = now
            except OSError:
                send_err += 1
            sent += 1
            seq += 1
            next_send = (next_send + interval) if interval > 0 else now
            if interval > 0 and next_send < now - interval:  # fell behind: do not burst
                next_send = now
            now = mono()
        if not out and (seq >= count or now >= end or (until_reply and first_reply)):
            break
        # Wait for a reply, the next send or the oldest expiry, whichever is first.
        wake = now + 0.05
        if out:
            wake = min(wake, next(iter(out.values())) + timeout)
        if seq < count and now < end and len(out) < window:
            wake = min(wake, next_send, end)
        ms = max(0.0, (wake - now) * 1000.0)
        if poller.poll(ms):
            for data, ok in tr.recv_all():
                t = mono()
                if not ok:
                    bad += 1
                    continue
                s = pl.seq_of(data)
                if s is None:  # short payloads: the oldest outstanding
                    s = next(iter(out), None)
                if s is not None and s in out:
                    if data != pl.make(s):
                        bad += 1
                        del out[s]
                        done_seqs.add(s)
                        continue
                    rtts.append(t - out.pop(s))
                    done_seqs.add(s)
                    received += 1
                    last_rx = t
                    if first_reply is None:
                        first_reply = t
                elif s is not None and s in done_seqs:
                    dup += 1
                elif s is not None and s < seq:
                    late += 1  # its request had timed out
                else:
                    bad += 1
    cpu = time.process_time() - cpu0
    t_end = max(last_rx, t0) if received else mono()
    elapsed = max(t_end - t0, 1e-9)
    rtts.sort()
    lost = sent - received - bad
    us = [r * 1e6 for r in rtts]
    return {
        "sent": sent, "received": received, "lost": lost, "bad": bad, "late": late,
        "dup": dup, "send_errors": send_err, "icmp_errors": tr.errors,
        "loss_pct": 100.0 * lost / sent if sent else 0.0,
        "elapsed_s": elapsed,
        "rate": received / elapsed,
        "rtt_min_us": us[0] if us else None,
        "rtt_p50_us": percentile(us, 50),
        "rtt_p90_us": percentile(us, 90),
        "rtt_p99_us": percentile(us, 99),
        "rtt_max_us": us[-1] if us else None,
        "rtt_mean_us": sum(us) / len(us) if us else None,
        "first_reply_mono": first_reply,
        # This client's own CPU time over the run's wall time: near 100 % means
        # the figures measure the client, not the guest.
        "client_cpu_pct": 100.0 * cpu / max(mono() - t0, 1e-9),
        "rtts_us": us,
    }


UNITS = {"rate": "rtt/s", "loss_pct": "%", "elapsed_s": "s", "first_reply_mono": "s",
         "client_cpu_pct": "%"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="10.0.0.2")
    ap.add_argument("--port", type=int, default=7)
    ap.add_argument("--proto", choices=("udp", "icmp"), default="udp")
    ap.add_argument("--size", type=int, default=64, help="payload bytes (UDP data / ICMP data)")
    ap.add_argument("--count", type=int, default=1000, help="requests at most")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of sending at most")
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each reply")
    ap.add_argument("--inflight", type=int, default=None,
                    help="requests in flight (default 1; 0 = no limit, with --interval)")
    ap.add_argument("--interval", type=float, default=0.0, help="seconds between requests")
    ap.add_argument("--until-reply", action="store_true")
    ap.add_argument("--src", help="source address (default: the kernel's choice / IFNAME's)")
    ap.add_argument("--raw", metavar="IFNAME", help="send Ethernet frames on IFNAME")
    ap.add_argument("--dst-mac", default="52:54:00:12:34:56")
    ap.add_argument("--mtu", type=int, default=1500)
    ap.add_argument("--ident", type=lambda s: int(s, 0), default=None, help="ICMP identifier")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--json", action="store_true", help="one JSON object (with all RTTs)")
    ap.add_argument("--max-loss", type=float, default=None, help="exit 1 above this loss %%")
    a = ap.parse_args(argv)
    if a.inflight is None:
        a.inflight = 0 if a.interval > 0 and not a.until_reply else 1
    if a.until_reply and a.interval <= 0:
        ap.error("--until-reply needs --interval")
    if a.size < 0 or a.size > 65507 or a.count < 1 or a.duration <= 0 or a.timeout <= 0:
        ap.error("bad size, count, duration or timeout")
    if a.size < 8 and a.inflight != 1:
        ap.error("payloads under 8 bytes carry no sequence number: use --inflight 1")
    if a.ident is None:
        a.ident = os.getpid() & 0xFFFF
    netguard.enforce("udp_echo_client")
    if a.raw:
        tr = RawEth(a)
    elif a.proto == "icmp":
        tr = KernelIcmp(a)
    else:
        tr = KernelUdp(a)
    pl = Payloads(a.size)
    st = run(tr, pl, a.count, a.duration, a.timeout, a.inflight, a.interval, a.until_reply)
    st.update({"transport": tr.name, "size": a.size, "inflight": a.inflight,
               "interval": a.interval})
    if a.json:
        print(json.dumps(st))
    else:
        for k, v in st.items():
            if k in ("rtts_us", "transport") or v is None:
                continue
            unit = UNITS.get(k, "us" if k.endswith("_us") else "count")
            if k in ("size",):
                unit = "B"
            if k == "interval":
                unit = "s"
            print("%s%s %s %s" % (a.prefix, k, ("%.6f" % v if k == "first_reply_mono"
                                                else "%.3f" % v if isinstance(v, float)
                                                else v), unit))
    if st["received"] == 0 or st["bad"] or (a.max_loss is not None and st["loss_pct"] > a.max_loss):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
