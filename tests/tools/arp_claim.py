#!/usr/bin/python3
"""A host that already holds the address a DHCP client is probing (RFC 5227):
listens on IFNAME for ARP probes (requests with sender address 0.0.0.0) from
--from-mac and answers the first probed address with an ARP reply claiming it
for --mac, and every later probe for that same address; probes for other
addresses go unanswered (so the client's next lease is not claimed too).

Refuses to send (exit 2) outside a test network namespace with no default
route (tests/tools/netguard.py): start it with `ip netns exec NS ...`.

Prints "claimed <address> at <time>" for each reply sent, flushed; runs until
--duration has passed (or SIGTERM).

    arp_claim.py --iface tap0 --from-mac 52:54:00:12:34:56 --duration 60
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netguard  # noqa: E402

ETH_P_ARP = 0x0806


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(":"))


def parse_probe(frame):
    """(sender MAC, target address) of an ARP probe, else None."""
    if len(frame) < 42 or struct.unpack("!H", frame[12:14])[0] != ETH_P_ARP:
        return None
    a = frame[14:42]
    htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", a[0:8])
    if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, 1) or a[14:18] != b"\0\0\0\0":
        return None
    return a[8:14], a[24:28]


def reply(mine, ip, to_mac):
    """ARP reply 'ip is-at mine' to the prober (whose address is 0.0.0.0)."""
    eth = to_mac + mine + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + mine + ip + to_mac + b"\0\0\0\0"
    return (eth + arp).ljust(60, b"\0")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iface", default="tap0")
    ap.add_argument("--mac", default="02:00:00:00:00:66", help="the claimer's MAC")
    ap.add_argument("--from-mac", required=True, help="whose probes to answer")
    ap.add_argument("--duration", type=float, default=60.0)
    a = ap.parse_args()
    netguard.enforce("arp_claim")
    mine, prober = mac_bytes(a.mac), mac_bytes(a.from_mac)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind((a.iface, ETH_P_ARP))
    claimed = None
    end = time.monotonic() + a.duration
    print("listening on %s" % a.iface, flush=True)
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], min(0.5, max(0.0, end - time.monotonic())))
        if not r:
            continue
        p = parse_probe(s.recv(2048))
        if not p or p[0] != prober or (claimed and p[1] != claimed):
            continue
        claimed = p[1]
        s.send(reply(mine, claimed, prober))
        print("claimed %s at %.3f" % (socket.inet_ntoa(claimed), time.time()), flush=True)


if __name__ == "__main__":
    main()
