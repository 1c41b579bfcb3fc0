"""Two NICs on two subnets (see multinic.sh)."""
import sys
import time

sys.path.insert(0, "tests/lib")
import pcap  # noqa: E402
from guest import Guest  # noqa: E402
from netns import Netns  # noqa: E402
from suite import Suite  # noqa: E402

GUEST = ["10.0.0.2", "10.0.1.2"]
HOST = ["10.0.0.1", "10.0.1.1"]
MACS = ["52:54:00:12:34:56", "52:54:00:12:34:57"]
OFF_LINK = "10.0.7.7"  # on neither subnet: the default gateway's way
LOG = "build/test/multinic.log"
CLIENT = "tests/tools/udp_echo_client.py"
SUITE = Suite("multinic")
check = SUITE.check


def test_host_side(ns):
    for i in (0, 1):
        r = ns.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "3", GUEST[i]], timeout=30)
        check("net%d-answers-ping" % i, r.returncode == 0 and " 0% packet loss" in r.stdout,
              r.stdout + r.stderr)
        r = ns.run(["/usr/bin/python3", CLIENT, "--host", GUEST[i], "--size", "256",
                    "--count", "50", "--timeout", "2", "--max-loss", "0"], timeout=60)
        check("net%d-udp-echo" % i, r.returncode == 0, r.stdout + r.stderr)


def test_console(g):
    log = g.buf
    check("one-default-gateway-said", "net1: gw=10.0.1.1 not used: the default gateway is "
          "net0's" in log, log[-800:])
    out = g.cmd("route")
    want = ["10.0.0.0/24 dev net0 src 10.0.0.2", "10.0.1.0/24 dev net1 src 10.0.1.2",
            "default via 10.0.0.1 dev net0"]
    check("route-table", out.splitlines() == want, out)
    out = g.cmd("ifconfig")
    check("net1-no-gateway", "inet 10.0.1.2/24 broadcast 10.0.1.255 gateway none" in out, out)
    for i in (0, 1):
        out = g.cmd("ping %s 3" % HOST[i], timeout=20)
        check("console-ping-%s-via-net%d" % (HOST[i], i),
              "PING %s (net%d)" % (HOST[i], i) in out and "3 transmitted, 3 received" in out,
              out)
    out = g.cmd("ping %s 1" % OFF_LINK, timeout=20)
    check("console-ping-off-link-via-default", "PING %s (net0)" % OFF_LINK in out, out)


def requests_to(frames, dst):
    return [f for f in frames if f.icmp and f.icmp["type"] == 8 and f.ip["dst"] == dst
            and f.ip["src"] in GUEST]


def test_captures(g):
    time.sleep(0.5)  # the last frames written
    caps = [pcap.read(p) for p in g.pcaps]
    for i in (0, 1):
        lines = pcap.tcpdump_lines(g.pcaps[i])
        check("net%d-capture-readable" % i,
              any("ARP, Reply %s is-at %s" % (GUEST[i], MACS[i]) in x for x in lines) and
              any("%s > %s: ICMP echo reply" % (GUEST[i], HOST[i]) in x for x in lines),
              "\n".join(lines[-20:]))
    # Each console ping left by its own NIC only.
    for i in (0, 1):
        own, other = requests_to(caps[i], HOST[i]), requests_to(caps[1 - i], HOST[i])
        check("console-ping-%s-frames-on-net%d-only" % (HOST[i], i),
              len(own) == 3 and not other, "net%d: %d, net%d: %d"
              % (i, len(own), 1 - i, len(other)))
    # Off-link: to the default gateway's MAC on net0, nothing on net1.
    off0, off1 = requests_to(caps[0], OFF_LINK), requests_to(caps[1], OFF_LINK)
    gw_arp = [f for f in caps[0] if f.arp and f.arp["spa"] == HOST[0]]  # its MAC
    gw_mac = gw_arp[0].arp["sha"] if gw_arp else None
    check("off-link-ping-to-gateway", len(off0) == 1 and not off1 and
          off0[0].dst_mac == gw_mac, "net0 %s (gateway %s), net1 %d"
          % ([f.dst_mac for f in off0], gw_mac, len(off1)))


def main():
    with Netns("uknet-mn", taps=["tap0", "tap1"], tap_cidrs={"tap1": "10.0.1.1/24"}) as ns, \
         Guest(cmdline="net1.ip=10.0.1.2/24 net1.gw=10.0.1.1", netns=ns.name,
               nics=[{"tap": "tap0", "mac": MACS[0]}, {"tap": "tap1", "mac": MACS[1]}],
               log_path=LOG) as g:
        g.expect(r"kernel: ready", 30)
        test_host_side(ns)
        test_console(g)
        test_captures(g)
        st = g.stats()
        check("counters-per-nic", st.get("icmp.tx_echo_reply", 0) >= 3 and
              st.get("net1.icmp.tx_echo_reply", 0) >= 3 and
              st.get("udp.rx", 0) >= 50 and st.get("net1.udp.rx", 0) >= 50,
              {k: v for k, v in st.items() if k.endswith(("tx_echo_reply", "udp.rx"))})


SUITE.run(main)
