#!/usr/bin/python3
"""What `tc qdisc add dev TAP root netem ...` does to the frames a guest on TAP
receives, in user space, for hosts whose kernel has no netem
(CONFIG_NET_SCH_NETEM): loss, delay, reordering (that share of frames skips the
delay, as netem's reorder does) and duplication, seeded.

The host's side moves to a tap device this tool creates (--host-if, given
--host-mac and --host-cidr: the tap the guest's QEMU uses had them, and the
caller takes them off it first, so that the guest sees the same peer); every
frame the guest sends is passed to it at once, every frame the host sends
toward the guest goes through the impairments and then out of --guest-if to
QEMU. Runs until stdin closes; the tap it made goes away with it.

    ip netns exec NS impair.py --guest-if tap0 --host-if tapn --host-mac M \\
        --host-cidr 10.0.0.1/24 --loss 5 --delay-ms 10 --reorder 25 --dup 0

Refuses to run (exit 2) outside a test network namespace or in one with a
default route (tests/tools/netguard.py). Prints "ready" once the tap is up and
"stats k=v ..." at the end.
"""
import argparse
import fcntl
import heapq
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netguard  # noqa: E402

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--guest-if", default="tap0")
    ap.add_argument("--host-if", default="tapn")
    ap.add_argument("--host-mac", required=True)
    ap.add_argument("--host-cidr", default="10.0.0.1/24")
    ap.add_argument("--loss", type=float, default=0.0, help="percent")
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--reorder", type=float, default=0.0, help="percent sent without delay")
    ap.add_argument("--dup", type=float, default=0.0, help="percent")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    netguard.enforce("impair")
    rnd = random.Random(a.seed)
    tap = open_tap(a.host_if)
    for cmd in (["link", "set", a.host_if, "address", a.host_mac],
                ["addr", "add", a.host_cidr, "dev", a.host_if],
                ["link", "set", a.host_if, "up"]):
        subprocess.run(["ip"] + cmd, check=True, timeout=30)
    ps = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    ps.bind((a.guest_if, ETH_P_ALL))
    os.set_blocking(tap, False)
    ps.setblocking(False)
    print("ready", flush=True)
    queue, order = [], 0
    st = {"to_host": 0, "to_guest": 0, "lost": 0, "dups": 0, "reordered": 0}
    delay = a.delay_ms / 1000.0
    while True:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, f = heapq.heappop(queue)
            try:
                ps.send(f)
                st["to_guest"] += 1
            except OSError:
                st["lost"] += 1
        timeout = max(0.0, queue[0][0] - now) if queue else 1.0
        r, _, _ = select.select([tap, ps, sys.stdin], [], [], timeout)
        if sys.stdin in r and not sys.stdin.readline():
            break
        if ps in r:
            while True:
                try:
                    f, addr = ps.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING:  # what QEMU wrote: the guest's frame
                    os.write(tap, f)
                    st["to_host"] += 1
        if tap in r:
            while True:
                try:
                    f = os.read(tap, 65536)
                except BlockingIOError:
                    break
                if rnd.random() * 100 < a.loss:
                    st["lost"] += 1
                    continue
                at = time.monotonic()
                if delay and rnd.random() * 100 < a.reorder:
                    st["reordered"] += 1
                else:
                    at += delay
                copies = 2 if rnd.random() * 100 < a.dup else 1
                st["dups"] += copies - 1
                for _ in range(copies):
                    heapq.heappush(queue, (at, order, f))
                    order += 1
    print("stats " + " ".join("%s=%d" % kv for kv in st.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
