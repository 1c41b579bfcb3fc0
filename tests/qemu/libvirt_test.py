"""uknet under libvirt (see libvirt.sh and docs/libvirt.md).

libvirt/sandbox.sh starts Debian's libvirt daemon inside a network namespace of
its own (lo and tap0 only, no default route, no IPv6) and a private mount
namespace (its state directories on tmpfs, its own /etc/libvirt, /dev/null over
/dev/kvm): nothing of the host is changed, no libvirt network exists, no dnsmasq
runs. The test writes the domain with libvirt/make-domain.sh (console to a
file), defines and starts it with virsh, checks that QEMU runs our kernel with
TCG, waits for the console's "kernel: ready", pings the guest from the
namespace, checks the console, destroys and undefines the domain, and stops the
sandbox. Only that daemon and the QEMU it started are ever killed, by pid.
"""
import os
import re
import signal
import subprocess
import sys
import time

LIBVIRTD = "/usr/sbin/libvirtd"
VIRSH = "/usr/bin/virsh"
NAME = "uknet-libvirt-test"
GUEST_IP = "10.0.0.2"
OUT = os.path.abspath("build/test/libvirt")
results = []


def check(name, ok, why=""):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, str(why)[-600:])), flush=True)
    results.append(ok)
    return ok


class Daemon:
    """libvirt/sandbox.sh's daemon: its own network namespace and mount namespace."""

    def __init__(self):
        self.ns = "uknet-lv-%d" % os.getpid()
        self.uri = None

    def start(self):
        r = subprocess.run(["libvirt/sandbox.sh", "start", "--dir", OUT, "--ns", self.ns],
                           capture_output=True, text=True, timeout=60)
        self.uri = r.stdout.strip() if r.returncode == 0 else None
        return r.returncode == 0, r.stdout + r.stderr

    def virsh(self, *args, timeout=60):
        return subprocess.run([VIRSH, "-q", "-c", self.uri] + list(args), capture_output=True,
                              text=True, timeout=timeout)

    def nsrun(self, argv, timeout=60):
        return subprocess.run(["ip", "netns", "exec", self.ns] + argv, capture_output=True,
                              text=True, timeout=timeout)

    def qemu_pid(self):
        """The domain's QEMU, from the pid file in the daemon's private /run
        (seen through /proc/<daemon>/root)."""
        try:
            dpid = int(open(os.path.join(OUT, "libvirtd.pid")).read().strip())
            p = "/proc/%d/root/run/libvirt/qemu/%s.pid" % (dpid, NAME)
            return int(open(p).read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        subprocess.run(["libvirt/sandbox.sh", "stop", "--dir", OUT, "--ns", self.ns],
                       capture_output=True, timeout=60)


def alive(pid):
    """pid is a live QEMU (not gone, not a zombie, not reused by something else)."""
    try:
        comm = open("/proc/%d/comm" % pid).read().strip()
        state = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return comm.startswith("qemu-system") and state != "Z"


def wait_for(path, pattern, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            text = open(path, errors="replace").read()
        except OSError:
            text = ""
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    return None


def run(d):
    ok, why = d.start()
    if not check("libvirt-daemon-starts", ok, why):
        return
    console = os.path.join(OUT, "console.log")
    xml = os.path.join(OUT, "uknet.xml")
    r = subprocess.run(["libvirt/make-domain.sh", "--name", NAME, "--tap", "tap0",
                        "--console", "file:" + console,
                        "--cmdline", "ip=%s/24 gw=10.0.0.1 log=info" % GUEST_IP],
                       capture_output=True, text=True)
    open(xml, "w").write(r.stdout)
    if not check("libvirt-domain-written", r.returncode == 0, r.stderr):
        return
    r = d.virsh("define", xml)
    if not check("libvirt-define", r.returncode == 0, r.stdout + r.stderr):
        return
    r = d.virsh("start", NAME)
    check("libvirt-start", r.returncode == 0, r.stdout + r.stderr)
    pid = d.qemu_pid()
    text = wait_for(console, r"kernel: ready", 60)
    check("libvirt-console-ready", text is not None,
          open(console, errors="replace").read()[-600:] if os.path.exists(console) else
          "no console file")
    cmdline = open("/proc/%d/cmdline" % pid).read().split("\0") if pid and alive(pid) else []
    check("libvirt-qemu-is-tcg-with-our-kernel",
          "tcg" in " ".join(cmdline) and "kvm" not in " ".join(cmdline) and
          any(a.endswith("kernel.elf") for a in cmdline), " ".join(cmdline)[:600])
    p = d.nsrun(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "3", GUEST_IP], timeout=30)
    check("libvirt-guest-answers-ping", p.returncode == 0, p.stdout + p.stderr)
    text = open(console, errors="replace").read() if os.path.exists(console) else ""
    check("libvirt-console-shows-command-line",
          re.search(r"command line: \".*ip=%s/24 gw=10.0.0.1" % re.escape(GUEST_IP), text),
          text[-600:])
    r = d.virsh("domstate", NAME)
    check("libvirt-domain-running", r.stdout.strip() == "running", r.stdout + r.stderr)
    r = d.virsh("destroy", NAME)
    t0 = time.monotonic()
    while pid and alive(pid) and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    check("libvirt-destroy", r.returncode == 0 and pid is not None and not alive(pid),
          r.stdout + r.stderr + " qemu pid %s" % pid)
    r = d.virsh("undefine", NAME)
    check("libvirt-undefine", r.returncode == 0 and NAME not in d.virsh("list", "--all").stdout,
          r.stdout + r.stderr)
    return pid


def main():
    for tool in (LIBVIRTD, VIRSH):
        if not os.access(tool, os.X_OK):
            print("SKIP libvirt: %s not installed (Debian's libvirt-daemon, "
                  "libvirt-daemon-driver-qemu, libvirt-clients: make deps)" % tool)
            return 0
    if not os.path.exists("build/kernel.elf"):
        print("FAIL libvirt: build/kernel.elf missing")
        return 1
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda n, _f: sys.exit(128 + n))
    pid = None
    d = Daemon()
    try:
        pid = run(d)
    finally:
        pid = pid or d.qemu_pid()
        d.stop()  # destroys its domains, ends the daemon, removes the namespace
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)  # the domain's QEMU, started by our daemon
    check("libvirt-sandbox-removed", not (pid and alive(pid)) and
          d.ns not in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                     text=True).stdout, "QEMU %s or namespace %s left" % (pid, d.ns))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
