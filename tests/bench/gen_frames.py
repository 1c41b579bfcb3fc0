#!/usr/bin/env python3
"""The reference frames: what tests/bench/echo_cost.sh feeds the host build of
the stack to count instructions per echo, and where tests/fuzz/run.sh takes its
first whole-frame seeds from.

    tests/bench/gen_frames.py [-n N] [-o DIR]

writes three files into DIR (default build/bench/frames), N frames each
(default 10,000); frame i (i = 0, 1, ...) is:

  frames-icmp56.bin   an ICMP echo request, identifier 0x1234, sequence number
                      i mod 65536, 56 data bytes: a ping(8)-style time stamp
                      made from i (seconds 1,700,000,000 + i div 1000, then
                      microseconds (i mod 1000) * 1000, both 32-bit big-endian)
                      and the bytes 0x10, 0x11, ..., 0x3f.        98-byte frames
  frames-udp64.bin    a UDP datagram from port 40000 to port 7 (echo) with 64
                      data bytes: "ECHO", i as a 32-bit big-endian number, then
                      byte k (k = 0, 1, ...) is (i + k) * 7 + 3 mod 256.
                                                                  106-byte frames
  frames-udp1400.bin  the same with 1400 data bytes.             1442-byte frames

Every frame goes from the peer (MAC 02:00:00:00:00:01, 10.0.0.1) to the stack
under test (MAC 52:54:00:12:34:56, 10.0.0.2): Ethernet II, an IPv4 header of
20 bytes with TOS 0, identification i mod 65536, DF set, TTL 64; every checksum
is right (a UDP checksum that comes out 0 is sent as 0xffff). No two frames of
a file are alike, and each request's echo reply is exactly as long as it.

File format: one record per frame, the frame's length as a 16-bit big-endian
number and then the frame itself (from the destination MAC on: no preamble, no
FCS, no padding). No header, no trailer.

The bytes are the same on every run and must stay so: the lwIP figures that
tests/bench/README.md compares our instruction counts with were measured on
exactly these frames. tests/bench/frames.sha256 holds the files' SHA-256 for
N = 10,000; echo_cost.sh and tests/qemu/ref_frames.sh check them.
"""
import argparse
import os
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

PEER_MAC = bytes([0x02, 0x00, 0x00, 0x00, 0x00, 0x01])
STACK_MAC = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
PEER_IP = bytes([10, 0, 0, 1])
STACK_IP = bytes([10, 0, 0, 2])

ETHERTYPE_IPV4 = 0x0800
PROTO_ICMP, PROTO_UDP = 1, 17
IP_FLAG_DF = 0x4000
TTL = 64
ICMP_ECHO_REQUEST = 8
PING_ID = 0x1234
PING_EPOCH = 1700000000
UDP_SPORT, UDP_ECHO_PORT = 40000, 7


def internet_checksum(data):
    """RFC 1071: the ones' complement of the ones' complement sum of 16-bit words."""
    if len(data) % 2:
        data = data + b"\x00"
    total = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total >> 16) + (total & 0xFFFF)
    return 0xFFFF - total


def ipv4_packet(proto, ident, payload):
    """20-byte header (checksum filled in) followed by payload."""
    header = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload),
                                   ident & 0xFFFF, IP_FLAG_DF, TTL, proto, 0,
                                   PEER_IP, STACK_IP))
    struct.pack_into(">H", header, 10, internet_checksum(bytes(header)))
    return bytes(header) + payload


def ethernet_frame(packet):
    return STACK_MAC + PEER_MAC + struct.pack(">H", ETHERTYPE_IPV4) + packet


def icmp_echo_frame(i):
    stamp = struct.pack(">II", PING_EPOCH + i // 1000, (i % 1000) * 1000)
    data = stamp + bytes(range(0x10, 0x10 + 56 - len(stamp)))
    message = bytearray(struct.pack(">BBHHH", ICMP_ECHO_REQUEST, 0, 0, PING_ID,
                                    i & 0xFFFF) + data)
    struct.pack_into(">H", message, 2, internet_checksum(bytes(message)))
    return ethernet_frame(ipv4_packet(PROTO_ICMP, i, bytes(message)))


def udp_echo_frame(i, size):
    head = b"ECHO" + struct.pack(">I", i)
    data = (head + bytes(((i + k) * 7 + 3) & 0xFF for k in range(size - len(head))))
    length = 8 + len(data)
    datagram = bytearray(struct.pack(">HHHH", UDP_SPORT, UDP_ECHO_PORT, length, 0) + data)
    pseudo = PEER_IP + STACK_IP + struct.pack(">BBH", 0, PROTO_UDP, length)
    csum = internet_checksum(pseudo + bytes(datagram)) or 0xFFFF
    struct.pack_into(">H", datagram, 6, csum)
    return ethernet_frame(ipv4_packet(PROTO_UDP, i, bytes(datagram)))


FILES = (
    ("frames-icmp56.bin", icmp_echo_frame),
    ("frames-udp64.bin", lambda i: udp_echo_frame(i, 64)),
    ("frames-udp1400.bin", lambda i: udp_echo_frame(i, 1400)),
)


def write_records(path, frames):
    with open(path, "wb") as out:
        for frame in frames:
            out.write(struct.pack(">H", len(frame)))
            out.write(frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=10000, metavar="N",
                    help="frames per file (default 10000)")
    ap.add_argument("-o", "--outdir", default=os.path.join(ROOT, "build", "bench", "frames"),
                    metavar="DIR", help="output folder (default build/bench/frames)")
    args = ap.parse_args()
    if args.n < 1:
        ap.error("-n must be at least 1")
    os.makedirs(args.outdir, exist_ok=True)
    for name, make in FILES:
        path = os.path.join(args.outdir, name)
        first = make(0)
        write_records(path, [first] + [make(i) for i in range(1, args.n)])
        print("%s: %d frames of %d bytes" % (path, args.n, len(first)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
