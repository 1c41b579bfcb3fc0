"""Read the captures QEMU's filter-dump writes (tests/lib/guest.py keeps one per
guest NIC): classic pcap, Ethernet link type. Each frame is decoded as far as
the tests look: Ethernet, ARP, IPv4, ICMP, UDP, and DHCP's message type and
the fields a timeline needs.

    for f in read("build/test/x.pcap"):
        if f.dhcp: print(f.time, f.dhcp["type"], f.dhcp["yiaddr"])

`tcpdump_lines(path)` runs tcpdump -nr on the file (reading a file sends
nothing) and returns its lines, or raises when tcpdump refuses the file.
"""
import socket
import struct
import subprocess

DHCP_TYPES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
              7: "RELEASE", 8: "INFORM"}


class PcapError(Exception):
    pass


class Frame:
    """One captured frame: time (seconds, float), raw bytes, and what decoded:
    ethertype, arp (dict) or ip (dict: src, dst, proto), icmp (type), udp
    (sport, dport), dhcp (dict: type, xid, ciaddr, yiaddr, requested, server,
    lease, t1, t2)."""

    def __init__(self, t, data):
        self.time = t
        self.data = data
        self.dst_mac = data[0:6].hex(":")
        self.src_mac = data[6:12].hex(":")
        self.ethertype = struct.unpack("!H", data[12:14])[0] if len(data) >= 14 else None
        self.arp = self.ip = self.icmp = self.udp = self.dhcp = None
        p = data[14:]
        if self.ethertype == 0x0806 and len(p) >= 28:
            self.arp = {"op": struct.unpack("!H", p[6:8])[0],
                        "sha": p[8:14].hex(":"), "spa": socket.inet_ntoa(p[14:18]),
                        "tpa": socket.inet_ntoa(p[24:28])}
        elif self.ethertype == 0x0800 and len(p) >= 20:
            self._ipv4(p)

    def _ipv4(self, p):
        ihl = (p[0] & 15) * 4
        self.ip = {"src": socket.inet_ntoa(p[12:16]), "dst": socket.inet_ntoa(p[16:20]),
                   "proto": p[9], "frag": struct.unpack("!H", p[6:8])[0] & 0x3fff}
        body = p[ihl:]
        if self.ip["frag"] & 0x1fff:
            return  # not a first fragment: no transport header
        if p[9] == 1 and body:
            self.icmp = {"type": body[0]}
        elif p[9] == 17 and len(body) >= 8:
            sport, dport = struct.unpack("!HH", body[0:4])
            self.udp = {"sport": sport, "dport": dport}
            if {sport, dport} == {67, 68}:
                self.dhcp = dhcp_decode(body[8:])


def dhcp_decode(m):
    """The message type and the fields a lease timeline needs; None when it is
    not a DHCP message."""
    if len(m) < 240 or m[236:240] != b"\x63\x82\x53\x63":
        return None
    d = {"op": m[0], "xid": struct.unpack("!I", m[4:8])[0],
         "ciaddr": socket.inet_ntoa(m[12:16]), "yiaddr": socket.inet_ntoa(m[16:20]),
         "type": None, "requested": None, "server": None, "lease": None, "t1": None,
         "t2": None}
    i = 240
    while i < len(m) and m[i] != 255:
        if m[i] == 0:
            i += 1
            continue
        if i + 1 >= len(m):
            break
        code, n = m[i], m[i + 1]
        v = m[i + 2:i + 2 + n]
        if code == 53 and n == 1:
            d["type"] = DHCP_TYPES.get(v[0], str(v[0]))
        elif code == 50 and n == 4:
            d["requested"] = socket.inet_ntoa(v)
        elif code == 54 and n == 4:
            d["server"] = socket.inet_ntoa(v)
        elif code in (51, 58, 59) and n == 4:
            d[{51: "lease", 58: "t1", 59: "t2"}[code]] = struct.unpack("!I", v)[0]
        i += 2 + n
    return d


def read(path):
    """Every frame of a classic pcap file (either byte order, micro- or
    nanosecond stamps). A record cut short at the end (QEMU killed mid-write)
    ends the list."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise PcapError("%s: %d bytes, no pcap header" % (path, len(data)))
    magic = data[:4]
    formats = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
    if magic not in formats:
        raise PcapError("%s: not a pcap file (magic %s)" % (path, magic.hex()))
    end, unit = formats[magic]
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise PcapError("%s: link type %d, not Ethernet" % (path, linktype))
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + "IIII", data[off:off + 16])
        if off + 16 + incl > len(data):
            break
        frames.append(Frame(sec + frac * unit, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return frames


def tcpdump_lines(path, timeout=30):
    """tcpdump -nr path: its output lines; PcapError when it cannot read the file."""
    r = subprocess.run(["tcpdump", "-nr", path], capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise PcapError("tcpdump -nr %s: status %d: %s" % (path, r.returncode,
                                                           r.stderr.strip()[-300:]))
    return r.stdout.splitlines()
