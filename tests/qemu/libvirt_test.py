"""uknet under libvirt (see libvirt.sh and docs/libvirt.md).

Debian's libvirt daemon runs inside the test's network namespace (lo and tap0
only, no default route) and inside a private mount namespace: tmpfs over
libvirt's state directories (/run/libvirt, /var/lib/libvirt, /var/log/libvirt,
/var/cache/libvirt), this test's own /etc/libvirt (the daemon's socket in the
test's directory; QEMU as root, no cgroups, no security driver, console files
written by QEMU itself) and /dev/null over /dev/kvm (domain type 'qemu' is TCG
anyway; this keeps libvirt's capability probe away from the host's broken KVM
too). libvirt runs QEMU as the user libvirt-qemu unless told otherwise, and
resolves that name before it reads qemu.conf: the private mount namespace gets
a copy of /etc/passwd and /etc/group with that user added. No network driver
is installed: there is no default network and no dnsmasq. Nothing of the host
is changed.

The test writes the domain with libvirt/make-domain.sh (console to a file),
defines and starts it with virsh, waits for the console's "kernel: ready",
pings the guest from the namespace, checks the console, destroys and undefines
the domain. Only the daemon it started and the QEMU that daemon started are
ever killed, by pid.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
from netns import Netns  # noqa: E402

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


LIBVIRTD_CONF = """\
unix_sock_dir = "{run}"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:{out}/libvirtd.log"
"""
QEMU_CONF = """\
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
"""
# Runs as the daemon's pid (ip netns exec, unshare and sh all exec in place).
START_SH = """\
set -e
for d in /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
    mkdir -p "$d"
    mount -t tmpfs -o mode=0755 tmpfs "$d"
done
mount --bind "{out}/etc" /etc/libvirt
cp /etc/passwd "{out}/passwd"
cp /etc/group "{out}/group"
grep -q '^libvirt-qemu:' "{out}/passwd" ||
    echo 'libvirt-qemu:x:64055:64055:libvirt-qemu (this test only):/nonexistent:/usr/sbin/nologin' >> "{out}/passwd"
grep -q '^libvirt-qemu:' "{out}/group" || echo 'libvirt-qemu:x:64055:' >> "{out}/group"
mount --bind "{out}/passwd" /etc/passwd
mount --bind "{out}/group" /etc/group
[ -e /dev/kvm ] && mount --bind /dev/null /dev/kvm
exec {libvirtd} --config /etc/libvirt/libvirtd.conf --pid-file "{out}/libvirtd.pid"
"""


class Daemon:
    def __init__(self, ns):
        self.ns = ns
        self.run_dir = os.path.join(OUT, "run")
        self.uri = "qemu:///system?socket=%s/libvirt-sock" % self.run_dir
        self.proc = None

    def start(self, timeout=30):
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(os.path.join(OUT, "etc"))
        os.makedirs(self.run_dir)
        with open(os.path.join(OUT, "etc", "libvirtd.conf"), "w") as f:
            f.write(LIBVIRTD_CONF.format(run=self.run_dir, out=OUT))
        with open(os.path.join(OUT, "etc", "qemu.conf"), "w") as f:
            f.write(QEMU_CONF)
        shutil.copy("/etc/libvirt/libvirt.conf", os.path.join(OUT, "etc"))
        with open(os.path.join(OUT, "start.sh"), "w") as f:
            f.write(START_SH.format(out=OUT, libvirtd=LIBVIRTD))
        self.proc = subprocess.Popen(
            self.ns.cmd(["unshare", "--mount", "--propagation", "private",
                         "/bin/sh", os.path.join(OUT, "start.sh")]),
            stdin=subprocess.DEVNULL, stdout=open(os.path.join(OUT, "daemon.out"), "w"),
            stderr=subprocess.STDOUT)
        sock = os.path.join(self.run_dir, "libvirt-sock")
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout and self.proc.poll() is None:
            if os.path.exists(sock) and self.virsh("version").returncode == 0:
                return True
            time.sleep(0.2)
        return False

    def virsh(self, *args, timeout=60):
        return subprocess.run([VIRSH, "-q", "-c", self.uri] + list(args), capture_output=True,
                              text=True, timeout=timeout)

    def qemu_pid(self):
        """The domain's QEMU, from the pid file in the daemon's private /run
        (seen through /proc/<daemon>/root)."""
        try:
            p = "/proc/%d/root/run/libvirt/qemu/%s.pid" % (self.proc.pid, NAME)
            return int(open(p).read().strip())
        except (OSError, ValueError, AttributeError):
            return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


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


def run(ns, d):
    if not check("libvirt-daemon-starts", d.start(), open(os.path.join(OUT, "daemon.out")).read()
                 if os.path.exists(os.path.join(OUT, "daemon.out")) else "no output"):
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
    p = ns.run(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "3", GUEST_IP], timeout=30)
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
    with Netns("uknet-lv") as ns:
        d = Daemon(ns)
        try:
            pid = run(ns, d)
        finally:
            pid = pid or d.qemu_pid()
            if d.proc and d.proc.poll() is None and NAME in d.virsh("list", "--name").stdout:
                d.virsh("destroy", NAME)
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)  # the domain's QEMU, started by our daemon
            d.stop()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
