#!/usr/bin/python3
"""ICMP echo prober for many guests at once: one echo request to every address
still silent every --interval seconds, until each has answered or --timeout
passes. Prints JSON: {"first_reply_mono": {address: CLOCK_MONOTONIC time of its
first reply, or null}, "sent": N}.

    multi_ping.py [--interval 0.01] [--timeout 30] [--ready-file F] ADDRESS...

--ready-file F: the file is created once the first round of requests has left
(callers start their guests after that). Refuses to send (exit 2) unless it runs
inside a test network namespace with no default route (tests/tools/netguard.py).
Exit 0 when every address answered, 1 otherwise. Root (a raw ICMP socket).
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netguard  # noqa: E402


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo(ident, seq):
    payload = b"uknet-density-probe"
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval", type=float, default=0.01)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--ready-file")
    ap.add_argument("addresses", nargs="+")
    a = ap.parse_args()
    netguard.enforce("multi_ping")
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setblocking(False)
    ident = os.getpid() & 0xFFFF
    first = {addr: None for addr in a.addresses}
    t_end = time.monotonic() + a.timeout
    seq = sent = 0
    ready_told = False
    while time.monotonic() < t_end and any(v is None for v in first.values()):
        seq = (seq + 1) & 0xFFFF
        for addr, t in first.items():
            if t is None:
                try:
                    s.sendto(echo(ident, seq), (addr, 0))
                    sent += 1
                except OSError:
                    pass  # no route yet, a full queue: the next round retries
        if a.ready_file and not ready_told:
            open(a.ready_file, "w").close()
            ready_told = True
        t_next = time.monotonic() + a.interval
        while True:
            left = t_next - time.monotonic()
            if left <= 0:
                break
            if not select.select([s], [], [], left)[0]:
                continue
            while True:
                try:
                    data, (src, _port) = s.recvfrom(2048)
                except BlockingIOError:
                    break
                ihl = (data[0] & 0x0F) * 4
                if len(data) >= ihl + 8 and data[ihl] == 0 and \
                        struct.unpack("!H", data[ihl + 4:ihl + 6])[0] == ident and \
                        src in first and first[src] is None:
                    first[src] = time.monotonic()
    print(json.dumps({"first_reply_mono": first, "sent": sent}))
    return 0 if all(v is not None for v in first.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
