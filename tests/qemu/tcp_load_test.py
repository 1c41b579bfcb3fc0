"""The checks of tests/tools/tcp_load.c against peers whose answers are known, so
that a TCP row of `make bench` cannot pass on wrong bytes, and of the Linux
guest's TCP servers (tests/bench/linux_guest/tcpsvc.c, http80.c) without the
guest: run by bench_smoke.sh inside its test namespace (`ip netns exec`), on
127.0.0.1 there.

Part 1, servers in threads here: a right echo, an echo that changes one byte,
RFC 864's chargen, a chargen with one wrong byte, a discard. The tool must pass
against the right ones and fail, naming the first wrong offset, against the
wrong ones; its bulk send must end with the discard peer's FIN.
Part 2 (with SERVER_DIR, where bench_smoke.sh built tcpsvc and http80 for the
host): the servers on ports 7, 9, 19 and 80 of the namespace's lo, the tool's
echo, chargen, discard and connection runs against them, and HTTP: the status
codes, a persistent connection, pipelined requests answered in order, and
`Connection: close` answered and honoured.

    tcp_load_test.py TCP_LOAD [SERVER_DIR]

Prints PASS/FAIL lines (tests/qemu/lib.sh's format); every run of a tool and
every socket wait is bounded; the servers started here are stopped by pid.
"""
import json
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
BAD_ECHO_AT = 40000  # the byte the bad echo changes
BAD_CHARGEN_AT = 5000  # the byte the bad chargen changes


def chargen_pattern(n):
    """RFC 864's pattern from a space: 72 printable characters a line, CR LF, each
    line starting one character further on."""
    out = bytearray()
    line = 0
    while len(out) < n:
        out += bytes(32 + (line + k) % 95 for k in range(72)) + b"\r\n"
        line += 1
    return bytes(out[:n])


PATTERN = chargen_pattern(95 * 74 * 20)


class Echo(socketserver.BaseRequestHandler):
    corrupt = False

    def handle(self):
        seen = 0
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            if self.corrupt and seen <= BAD_ECHO_AT < seen + len(data):
                i = BAD_ECHO_AT - seen
                data = data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:]
            seen += len(data)
            self.request.sendall(data)


class BadEcho(Echo):
    corrupt = True


class Chargen(socketserver.BaseRequestHandler):
    """Starts one line into the pattern (the tool must take the phase from the
    first byte); the bad one starts at its beginning with one byte wrong."""
    corrupt = False

    def handle(self):
        self.request.settimeout(10)
        pos = 0 if self.corrupt else 74
        try:
            while True:
                chunk = PATTERN[pos % 7030:pos % 7030 + 7030 * 10]
                if self.corrupt and pos == 0:
                    chunk = chunk[:BAD_CHARGEN_AT] + b"#" + chunk[BAD_CHARGEN_AT + 1:]
                self.request.sendall(chunk)
                pos += len(chunk)
        except OSError:
            return


class BadChargen(Chargen):
    corrupt = True


class Discard(socketserver.BaseRequestHandler):
    def handle(self):
        while self.request.recv(1 << 20):
            pass


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(handler):
    srv = Server((HOST, 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def run(tool, args):
    """(exit status, JSON or None) of one bounded run of the tool."""
    try:
        r = subprocess.run([tool, "--host", HOST] + args, capture_output=True, text=True,
                           timeout=60)
    except subprocess.TimeoutExpired:
        return None, None
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, None


def check(name, ok, detail):
    name = "bench-" + name
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, detail)), flush=True)
    return ok


def main():
    tool = sys.argv[1]
    ports = {h.__name__: serve(h) for h in (Echo, BadEcho, Chargen, BadChargen, Discard)}
    short = ["--duration", "0.3", "--warmup", "0.1", "--timeout", "5"]
    ok = True

    rc, st = run(tool, ["--mode", "echo", "--port", str(ports["Echo"]),
                        "--sizes", "1,1460,65536,1M"])
    ok &= check("tcp_load-echo-right", rc == 0 and st and st["all_ok"] and all(
        r["peer_closed"] for r in st["results"]), "exit %s: %s" % (rc, st))
    rc, st = run(tool, ["--mode", "echo", "--port", str(ports["BadEcho"]), "--sizes", "65536"])
    ok &= check("tcp_load-echo-wrong-byte-found",
                rc == 1 and st and st["results"][0]["bad_offset"] == BAD_ECHO_AT,
                "exit %s: %s" % (rc, st))
    rc, st = run(tool, ["--mode", "recv", "--port", str(ports["Chargen"])] + short)
    ok &= check("tcp_load-chargen-right", rc == 0 and st and st["bad_offset"] == -1 and
                st["mbps"] > 0, "exit %s: %s" % (rc, st))
    rc, st = run(tool, ["--mode", "recv", "--port", str(ports["BadChargen"])] + short)
    ok &= check("tcp_load-chargen-wrong-byte-found",
                rc == 1 and st and st["bad_offset"] == BAD_CHARGEN_AT, "exit %s: %s" % (rc, st))
    rc, st = run(tool, ["--mode", "send", "--port", str(ports["Discard"])] + short)
    ok &= check("tcp_load-send-to-discard", rc == 0 and st and st["peer_closed"] and
                st["mbps"] > 0, "exit %s: %s" % (rc, st))
    rc, st = run(tool, ["--mode", "conn", "--port", str(ports["Echo"]), "--concurrency", "4",
                        "--duration", "0.3"])
    ok &= check("tcp_load-conn-rate", rc == 0 and st and st["completed"] > 0 and
                st["error_total"] == 0, "exit %s: %s" % (rc, st))
    with socket.socket() as s:  # a port where nothing listens: refused
        s.bind((HOST, 0))
        free = s.getsockname()[1]
    rc, st = run(tool, ["--mode", "probe", "--port", str(free), "--timeout", "1"])
    ok &= check("tcp_load-probe-refused", rc == 1 and st and not st["connected"],
                "exit %s: %s" % (rc, st))
    if len(sys.argv) > 2:
        ok &= guest_servers(tool, sys.argv[2])
    return 0 if ok else 1


def recv_until_closed(s, limit=1 << 20):
    data = b""
    while len(data) < limit:
        x = s.recv(65536)
        if not x:
            break
        data += x
    return data


def http_checks():
    """HTTP/1.1 semantics of http80 on port 80: True when all hold."""
    ok = True
    with socket.create_connection((HOST, 80), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        first = s.recv(65536)
        s.sendall(b"GET /stats HTTP/1.1\r\nHost: t\r\n\r\n")  # same connection
        second = s.recv(65536)
    ok &= check("linux-guest-http-keepalive", first.startswith(b"HTTP/1.1 200 ") and
                b"Content-Length: " in first and second.startswith(b"HTTP/1.1 200 ") and
                b"http.requests" in second, "%r / %r" % (first[:80], second[:80]))
    with socket.create_connection((HOST, 80), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"
                  b"GET /stats HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        data = recv_until_closed(s)  # the server closes after the third answer
    codes = [line.split()[1] for line in data.split(b"\n") if line.startswith(b"HTTP/1.1 ")]
    ok &= check("linux-guest-http-pipelining-and-close",
                codes == [b"200", b"404", b"200"] and data.count(b"Connection: close") == 1,
                "status codes %r in %r" % (codes, data[-120:]))
    return ok


def guest_servers(tool, bindir):
    """Part 2: the Linux guest's servers on this namespace's lo."""
    procs = []
    try:
        for argv in (["tcpsvc", "echo", "7"], ["tcpsvc", "discard", "9"],
                     ["tcpsvc", "chargen", "19"], ["http80", "80"]):
            procs.append(subprocess.Popen([os.path.join(bindir, argv[0])] + argv[1:],
                                          stdout=subprocess.DEVNULL))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if all(run(tool, ["--mode", "probe", "--port", p, "--timeout", "1"])[0] == 0
                   for p in ("7", "9", "19", "80")):
                break
            time.sleep(0.05)
        short = ["--duration", "0.3", "--warmup", "0.1", "--timeout", "5"]
        ok = True
        rc, st = run(tool, ["--mode", "echo", "--port", "7", "--sizes", "1,1460,1M,16M"])
        ok &= check("linux-guest-tcpsvc-echo", rc == 0 and st and st["all_ok"],
                    "exit %s: %s" % (rc, st))
        rc, st = run(tool, ["--mode", "recv", "--port", "19"] + short)
        ok &= check("linux-guest-tcpsvc-chargen", rc == 0 and st and st["bad_offset"] == -1,
                    "exit %s: %s" % (rc, st))
        rc, st = run(tool, ["--mode", "send", "--port", "9"] + short)
        ok &= check("linux-guest-tcpsvc-discard", rc == 0 and st and st["peer_closed"],
                    "exit %s: %s" % (rc, st))
        rc, st = run(tool, ["--mode", "conn", "--port", "7", "--concurrency", "16",
                            "--duration", "0.3"])
        ok &= check("linux-guest-tcpsvc-conn", rc == 0 and st and st["completed"] > 0,
                    "exit %s: %s" % (rc, st))
        try:
            ok &= http_checks()
        except OSError as e:
            ok &= check("linux-guest-http", False, "socket error %s" % e)
        return ok
    finally:
        for p in procs:
            p.terminate()
            p.wait(5)


if __name__ == "__main__":
    sys.exit(main())
