#!/usr/bin/python3
"""TCP clients for the QEMU tests of the guest's TCP services (tests/qemu/tcp_test.py),
on kernel sockets. Refuses to send (exit 2) unless it runs inside a test network
namespace with no default route (tests/tools/netguard.py): start it with
`ip netns exec NS ...`. Every socket operation has a timeout (--timeout).

Modes (one JSON line on stdout; exit 0 when every check held, 1 otherwise):
  echo --size N          N pattern bytes to the echo service (port 7), read back
                         at the same time, compared byte by byte; the write side
                         is shut down at the end and the server's FIN awaited
  chargen --bytes N      N bytes from chargen (port 19) against RFC 864's pattern
  seq --count N          N connections one after the other: 64 bytes echoed each
  conc --count N         N HTTP connections open at once (all connected before any
                         request), two keep-alive requests each (GET / and
                         GET /stats), all answered 200
  pipeline               three requests in one send (/, /stats, /nope): 200, 200,
                         404 in order on one connection; then one with
                         Connection: close: the answer, then the server's FIN
  slow --secs S          a request left unfinished: the server answers 408 and
                         closes within S seconds, while another client is served
                         at once
"""
import argparse
import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netguard  # noqa: E402

GUEST = "10.0.0.2"
TIMEOUT = 30.0


def pattern(n, off=0):
    """The bytes this tool sends to echo: a 251-periodic sequence."""
    period = bytes((i * 7 + 3) & 0xFF for i in range(251))
    reps = (off % 251 + n) // 251 + 2
    return (period * reps)[off % 251:off % 251 + n]


def chargen_bytes(n, off=0):
    """RFC 864: 95 lines of 72 printable characters and CR LF, line i starting
    with character ' ' + i."""
    out = bytearray()
    i = off
    while len(out) < n:
        line, col = (i // 74) % 95, i % 74
        out.append(13 if col == 72 else 10 if col == 73 else 32 + (line + col) % 95)
        i += 1
    return bytes(out)


def connect(port):
    s = socket.create_connection((GUEST, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def recv_until_eof(s):
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


# ------------------------------------------------------------ echo, chargen

def mode_echo(a):
    data = pattern(a.size)
    s = connect(7)
    got = bytearray()
    err = []

    def reader():
        try:
            got.extend(recv_until_eof(s))
        except OSError as e:
            err.append(repr(e))

    t = threading.Thread(target=reader)
    t0 = time.monotonic()
    t.start()
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        err.append(repr(e))
    t.join(a.timeout * 4)
    secs = time.monotonic() - t0
    s.close()
    first_bad = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]), None)
    ok = not err and not t.is_alive() and bytes(got) == data
    return ok, {"size": a.size, "got": len(got), "first_bad": first_bad, "errors": err,
                "secs": round(secs, 3), "mbps": round(a.size * 8 / secs / 1e6, 2)}


def mode_chargen(a):
    s = connect(19)
    got = bytearray()
    t0 = time.monotonic()
    while len(got) < a.bytes:
        b = s.recv(65536)
        if not b:
            break
        got.extend(b)
    secs = time.monotonic() - t0
    s.close()
    want = chargen_bytes(len(got))
    ok = len(got) >= a.bytes and bytes(got) == want
    return ok, {"bytes": len(got), "secs": round(secs, 3),
                "mbps": round(len(got) * 8 / secs / 1e6, 2)}


def mode_seq(a):
    bad = []
    t0 = time.monotonic()
    for i in range(a.count):
        msg = pattern(64, i)
        try:
            s = connect(7)
            s.sendall(msg)
            got = b""
            while len(got) < 64:
                b = s.recv(64 - len(got))
                if not b:
                    break
                got += b
            s.close()
            if got != msg:
                bad.append((i, "mismatch"))
        except OSError as e:
            bad.append((i, repr(e)))
    secs = time.monotonic() - t0
    return not bad, {"count": a.count, "failed": bad[:10], "secs": round(secs, 3),
                     "conns_per_s": round(a.count / secs, 1)}


# ------------------------------------------------------------ HTTP

class HttpConn:
    def __init__(self, port=80):
        self.s = connect(port)
        self.buf = b""

    def answer(self, head=False):
        """(status, headers dict lower-case, body) of the next answer."""
        while b"\r\n\r\n" not in self.buf:
            b = self.s.recv(65536)
            if not b:
                raise EOFError("no answer (buffered %r)" % self.buf[:80])
            self.buf += b
        hl, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = hl.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {k.strip().lower(): v.strip() for k, _, v in
                (ln.partition(":") for ln in lines[1:])}
        n = 0 if head else int(hdrs.get("content-length", "0"))
        while len(rest) < n:
            b = self.s.recv(65536)
            if not b:
                raise EOFError("body cut short")
            rest += b
        self.buf = rest[n:]
        return status, hdrs, rest[:n]

    def eof(self):
        """True when the server closed and nothing else came."""
        return not self.buf and recv_until_eof(self.s) == b""


def req(path, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, GUEST, extra)).encode()


def mode_conc(a):
    conns, bad = [], []
    barrier = threading.Barrier(a.count, timeout=a.timeout * 4)

    def one(i):
        try:
            c = HttpConn()
            conns.append(c)
            barrier.wait()  # all connected before any request
            for path in ("/", "/stats"):
                c.s.sendall(req(path))
                st, _, body = c.answer()
                if st != 200 or not body:
                    bad.append((i, path, st))
            barrier.wait()  # all still open until every one is answered
        except (OSError, EOFError, threading.BrokenBarrierError) as e:
            bad.append((i, repr(e)))
            barrier.abort()

    t0 = time.monotonic()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(a.count)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(a.timeout * 6)
    secs = time.monotonic() - t0
    for c in conns:
        c.s.close()
    alive = [t for t in ts if t.is_alive()]
    return not bad and not alive, {"count": a.count, "open_at_once": len(conns),
                                   "failed": bad[:10], "stuck": len(alive),
                                   "secs": round(secs, 3)}


def mode_pipeline(a):
    c = HttpConn()
    c.s.sendall(req("/") + req("/stats") + req("/nope"))
    got = [c.answer()[0] for _ in range(3)]
    c.s.sendall(req("/", "Connection: close\r\n"))
    st, hdrs, _ = c.answer()
    closed = c.eof()
    c.s.close()
    ok = got == [200, 200, 404] and st == 200 and hdrs.get("connection") == "close" and closed
    return ok, {"statuses": got, "close_status": st, "close_header": hdrs.get("connection"),
                "server_closed": closed}


def mode_slow(a):
    t0 = time.monotonic()
    slow = HttpConn()
    slow.s.sendall(b"GET / HTTP/1.1\r\nHost: 10.0.0.2\r\n")  # never finished
    fast = HttpConn()
    fast.s.sendall(req("/"))
    fst, _, _ = fast.answer()
    fast_secs = time.monotonic() - t0
    fast.s.close()
    slow.s.settimeout(a.secs + 5)
    try:
        st, hdrs, _ = slow.answer()
        closed = slow.eof()
    except (OSError, EOFError) as e:
        st, hdrs, closed = repr(e), {}, False
    slow_secs = time.monotonic() - t0
    slow.s.close()
    ok = fst == 200 and fast_secs < 5 and st == 408 and closed and slow_secs <= a.secs
    return ok, {"fast_status": fst, "fast_secs": round(fast_secs, 3), "slow_status": st,
                "slow_closed": closed, "slow_secs": round(slow_secs, 3)}


def main():
    global TIMEOUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["echo", "chargen", "seq", "conc", "pipeline", "slow"])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--bytes", type=int, default=1 << 20)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--secs", type=float, default=15.0)
    ap.add_argument("--timeout", type=float, default=TIMEOUT)
    a = ap.parse_args()
    netguard.enforce("tcp_client")
    TIMEOUT = a.timeout
    try:
        ok, res = globals()["mode_" + a.mode](a)
    except (OSError, EOFError) as e:
        ok, res = False, {"error": repr(e)}
    res["ok"] = ok
    print(json.dumps(res), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
