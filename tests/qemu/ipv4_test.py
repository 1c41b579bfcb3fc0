"""IPv4 end-to-end checks against the guest in mode=net (see ipv4.sh)."""
import re
import socket
import sys
import time

sys.path.insert(0, "tests/lib")
from guest import Guest  # noqa: E402
from netns import Netns  # noqa: E402
from suite import Suite  # noqa: E402

GUEST_IP = "10.0.0.2"
GUEST_MAC = "52:54:00:12:34:56"
CLIENT = "tests/tools/udp_echo_client.py"
SUITE = Suite("ipv4")
check = SUITE.check


def ping(ns, args, timeout=120):
    r = ns.run(["ping", "-n", "-q"] + args + [GUEST_IP], timeout=timeout)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return sent, got, r.stdout + r.stderr


def test_arping(ns):
    r = ns.run(["arping", "-c", "3", "-w", "5", "-I", "tap0", GUEST_IP])
    check("arping-gets-guest-mac", GUEST_MAC in r.stdout.lower() and r.returncode == 0,
          r.stdout + r.stderr)


def test_ping_sizes(ns):
    for size in (0, 56, 1472, 1473, 4000, 8000, 65507):
        for pattern in ("ff00aa55", "0102030405060708"):
            count = 2 if size == 65507 else 3
            sent, got, out = ping(ns, ["-c", str(count), "-i", "0.2", "-W", "3", "-s",
                                       str(size), "-p", pattern])
            # ping(8) compares every reply's data with what it sent.
            ok = sent == count and got == count and "wrong data" not in out
            check("ping-s%d-p%s" % (size, pattern), ok, out)


def test_ping_flood(ns):
    sent, got, out = ping(ns, ["-f", "-c", "10000", "-W", "2"], timeout=300)
    check("ping-flood-10000-no-loss", sent == 10000 and got == 10000, out)


def test_udp_echo(ns):
    for size in (1, 64, 1472, 8000):
        r = ns.run(["/usr/bin/python3", CLIENT, "--size", str(size), "--count", "200",
                    "--timeout", "2", "--max-loss", "0"], timeout=120)
        check("udp-echo-%d-bytes" % size, r.returncode == 0, r.stdout + r.stderr)


def test_port_unreachable(ns):
    # A connected UDP socket reports the ICMP port unreachable as ECONNREFUSED.
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "s.settimeout(3)\n"
            "s.connect(('%s',4444))\n"
            "s.send(b'anyone there?')\n"
            "try:\n s.recv(100); print('GOT REPLY')\n"
            "except ConnectionRefusedError: print('REFUSED')\n"
            "except socket.timeout: print('TIMEOUT')\n" % GUEST_IP)
    r = ns.run(["/usr/bin/python3", "-c", code])
    check("udp-closed-port-unreachable", r.stdout.strip() == "REFUSED", r.stdout + r.stderr)


def test_console_ping(g):
    out = g.cmd("ping 10.0.0.1 3", timeout=15)
    check("console-ping-host", "3 transmitted, 3 received" in out and "from 10.0.0.1" in out,
          out)
    out = g.cmd("ping 10.0.0.77 1", timeout=15)  # no such host: ARP gives up
    check("console-ping-no-host", "0 received" in out, out)


def test_console_commands(g):
    out = g.cmd("ifconfig")
    check("console-ifconfig", "10.0.0.2/24" in out and GUEST_MAC in out and "mtu 1500" in out,
          out)
    out = g.cmd("arp")
    check("console-arp-table", "10.0.0.1" in out, out)


def test_counters(g):
    time.sleep(0.5)
    st = g.stats()
    posted, pool = st.get("net0.rx_pool_posted"), st.get("net0.rx_pool_bufs")
    check("rx-pool-back-to-idle", pool and posted == pool, "posted %s of %s" % (posted, pool))
    # What the tests above caused on purpose, exactly; every other drop or error
    # counter must be 0.
    expected = {"ipv4.tx_err_no_route": 1,  # console ping to a host that is not there
                "udp.drop_no_port": 1}      # the closed-port datagram
    unexpected = {k: v for k, v in st.items()
                  if v and re.search(r"(drop|bad|_err|overlap|timeout|nobuf)", k)
                  and expected.get(k) != v}
    unexpected.update({k: st.get(k) for k, v in expected.items() if st.get(k) != v})
    check("no-unexpected-drops", not unexpected, unexpected)
    check("counters-add-up", st.get("net0.rx_packets", 0) > 10000 and
          st.get("net0.tx_packets", 0) > 10000, {k: st.get(k) for k in
                                                  ("net0.rx_packets", "net0.tx_packets")})


def main():
    with Netns("uknet-ipv4") as ns, \
         Guest(cmdline="mode=net", netns=ns.name, nics=[{"tap": "tap0", "mac": GUEST_MAC}],
               log_path="build/test/ipv4.log") as g:
        g.expect(r"kernel: ready", 30)
        test_arping(ns)
        test_ping_sizes(ns)
        test_ping_flood(ns)
        test_udp_echo(ns)
        test_port_unreachable(ns)
        test_console_ping(g)
        test_console_commands(g)
        test_counters(g)


SUITE.run(main)
