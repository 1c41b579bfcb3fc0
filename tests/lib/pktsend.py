#!/usr/bin/python3
"""Frame sender for the robustness suites (tests/qemu/malformed_test.py,
tests/qemu/flood_test.py). It runs inside the test's network namespace:

    ip netns exec NS /usr/bin/python3 tests/lib/pktsend.py IFNAME

and refuses to start (exit 2) when that namespace is the machine's own or has a
default route (tests/tools/netguard.py). The test process crafts the frames
(scapy, struct) and hands them over on stdin, one command per line; each
command is answered with one line on stdout, "ok k=v ..." or "error why":

    send HEX [HEX ...]           each HEX is one Ethernet frame, sent once
    burst COUNT PPS HEX [HEX...] the frames in turn, COUNT in all, at PPS frames
                                 per second at most (0: as fast as possible)
    udp SECS SIZE DST PORT [PPS] a kernel UDP socket sends SIZE-byte datagrams to
                                 DST:PORT for SECS seconds (PPS 0: flat out)
    arpflood COUNT BASE PPS      ARP requests for the guest from COUNT senders
                                 (10.BASE.x.y, MAC 02:a0:...), GUEST_IP/MAC from
                                 the environment (default 10.0.0.2, 52:54:00:12:34:56)
    quit

Answers carry sent= (frames or datagrams the kernel took), errors= (refused:
e.g. EMSGSIZE over the tap's MTU, ENOBUFS) and secs=.
"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import netguard  # noqa: E402

ETH_P_ALL = 0x0003
SEND_SECS = 2  # a send the kernel holds longer than this counts as an error


def paced(count, pps, fn):
    """Calls fn(i) for i in range(count), at most pps per second (0: no limit)."""
    sent = errors = 0
    t0 = time.monotonic()
    for i in range(count):
        if pps and i % 32 == 0:
            ahead = t0 + i / pps - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        try:
            fn(i)
            sent += 1
        except OSError:
            errors += 1
    return sent, errors, time.monotonic() - t0


class Sender:
    def __init__(self, ifname):
        self.ifname = ifname
        # Send only: protocol 0 hears nothing (ETH_P_ALL would queue every
        # frame of every interface until bound, and then every frame of ifname).
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.s.bind((ifname, 0))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        self.s.settimeout(SEND_SECS)
        with open("/sys/class/net/%s/address" % ifname) as f:
            self.mac = bytes.fromhex(f.read().strip().replace(":", ""))
        self.guest_ip = socket.inet_aton(os.environ.get("GUEST_IP", "10.0.0.2"))
        self.guest_mac = bytes.fromhex(
            os.environ.get("GUEST_MAC", "52:54:00:12:34:56").replace(":", ""))

    def cmd_send(self, args):
        frames = [bytes.fromhex(h) for h in args]
        return paced(len(frames), 0, lambda i: self.s.send(frames[i]))

    def cmd_burst(self, args):
        count, pps = int(args[0]), float(args[1])
        frames = [bytes.fromhex(h) for h in args[2:]]
        return paced(count, pps, lambda i: self.s.send(frames[i % len(frames)]))

    def cmd_udp(self, args):
        secs, size, dst, port = float(args[0]), int(args[1]), args[2], int(args[3])
        pps = float(args[4]) if len(args) > 4 else 0.0
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        u.settimeout(SEND_SECS)
        u.connect((dst, port))
        payload = bytes(range(256)) * (size // 256 + 1)
        payload = payload[:size]
        sent = errors = 0
        t0 = time.monotonic()
        end = t0 + secs
        n = 0
        now = t0
        while now < end:  # the clock is read every 64 datagrams
            if pps:
                ahead = t0 + n / pps - now
                if ahead > 0:
                    time.sleep(ahead)
            for _ in range(64):
                try:
                    u.send(payload)
                    sent += 1
                except OSError:
                    errors += 1
                n += 1
            now = time.monotonic()
        u.close()
        return sent, errors, time.monotonic() - t0

    def cmd_arpflood(self, args):
        count, base, pps = int(args[0]), int(args[1]), float(args[2])
        bc = b"\xff" * 6

        def one(i):
            sha = b"\x02\xa0" + struct.pack("!I", i)
            spa = bytes([10, base, (i >> 8) & 0xFF, i & 0xFF])
            arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, sha, spa, b"\0" * 6,
                              self.guest_ip)
            self.s.send(bc + sha + b"\x08\x06" + arp + b"\0" * 18)
        return paced(count, pps, one)


def main():
    if len(sys.argv) != 2:
        print("usage: pktsend.py IFNAME", file=sys.stderr)
        return 2
    netguard.enforce("pktsend")
    snd = Sender(sys.argv[1])
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        fn = getattr(snd, "cmd_" + words[0], None)
        if fn is None:
            print("error unknown command %s" % words[0], flush=True)
            continue
        try:
            sent, errors, secs = fn(words[1:])
            print("ok sent=%d errors=%d secs=%.3f" % (sent, errors, secs), flush=True)
        except (ValueError, IndexError, OSError) as e:
            print("error %s" % e, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
