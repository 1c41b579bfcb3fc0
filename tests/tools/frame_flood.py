#!/usr/bin/env python3
"""Raw Ethernet flood through a tap toward a guest that sends frames back (the
reflector, mode=reflect), for a bounded time. Must run inside the test's network
namespace (refuses when that namespace has a default route).

usage: frame_flood.py IFNAME GUEST_MAC [--seconds S] [--size BYTES] [--window N]
  --window 0 (default): send as fast as possible, count what comes back.
  --window N: keep at most N frames unanswered (no loss expected).
Prints `metric value unit` lines: sent, received, frames per second back, loss share.
"""
import argparse
import os
import select
import socket
import struct
import sys
import time

ETH_P = 0x88B5
MAGIC = b"UKFL"


def has_default_route():
    with open("/proc/net/route") as f:
        lines = f.read().splitlines()[1:]  # the first line is a header (if any)
    return any(line.split()[1] == "00000000" for line in lines if line.strip())


def drain(s):
    """Counts our frames waiting on the (non-blocking) socket."""
    n = 0
    while True:
        try:
            data, addr = s.recvfrom(2048)
        except BlockingIOError:
            return n
        if addr[2] != socket.PACKET_OUTGOING and data[14:18] == MAGIC:
            n += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifname")
    ap.add_argument("guest_mac")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--window", type=int, default=0)
    a = ap.parse_args()
    if has_default_route():
        print("frame_flood: this network namespace has a default route; refusing to send",
              file=sys.stderr)
        return 2
    a.seconds = min(a.seconds, 120.0)
    size = max(60, min(a.size, 1514))
    guest = bytes.fromhex(a.guest_mac.replace(":", ""))
    mine = bytes.fromhex(open("/sys/class/net/%s/address" % a.ifname).read().strip()
                         .replace(":", ""))
    # Protocol 0 until bound: with a protocol it would hear every interface
    # until bind() (the two-NIC test saw the other tap's frames that way).
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((a.ifname, ETH_P))
    s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    s.setblocking(False)
    head = guest + mine + struct.pack("!H", ETH_P) + MAGIC
    pad = bytes(size - len(head) - 4)
    sent = received = 0
    t0 = time.monotonic()
    end = t0 + a.seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        budget = 64 if a.window == 0 else max(0, a.window - (sent - received))
        for _ in range(budget):
            try:
                s.send(head + struct.pack("!I", sent) + pad)
                sent += 1
            except BlockingIOError:
                break
        received += drain(s)
        if a.window and sent - received >= a.window:
            select.select([s], [], [], 0.05)
    drain_end = time.monotonic() + 1.0
    while time.monotonic() < drain_end:
        select.select([s], [], [], 0.1)
        received += drain(s)
    print("flood_sent %d frames" % sent)
    print("flood_received %d frames" % received)
    print("flood_rate %.0f frames/s" % (received / a.seconds))
    print("flood_loss %.4f share" % ((sent - received) / sent if sent else 0.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
