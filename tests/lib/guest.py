"""Drive a uknet guest under QEMU from Python tests: boot it (optionally on a tap
inside a network namespace that the caller created), read its serial console,
and run console commands.

    from guest import Guest
    with Guest(cmdline="log=info", netns="uknet-t1", nics=[{"tap": "tap0"}]) as g:
        g.expect(r"kernel: ready")
        out = g.cmd("stats")

Every frame of every NIC is captured by QEMU's filter-dump into a pcap file
named after the log (build/test/x.log -> build/test/x.pcap for net0,
x-net1.pcap for net1, ...; pcap= names another file, None turns it off):
    tcpdump -nr build/test/x.pcap

Only the QEMU process this object started is ever killed (by its pid). Every
wait is bounded: reads by their timeout, writes to the console by SEND_SECS.
"""
import os
import re
import select
import subprocess
import time

from boundedio import PipeClosed, PipeTimeout, write_all

EXIT_OK = 33
EXIT_FAIL = 35
PROMPT = "> "
LOG_LINE = r"\[ *\d+\.\d+\] [^\n]*\n"  # "[    1.234567] tag: text"
SEND_SECS = 10  # QEMU reads its stdin whatever the guest does: 10 s is plenty


class GuestError(Exception):
    pass


def pcap_paths(base, n):
    """net0's capture is base itself, net<i>'s base with -net<i> before the
    extension: x.pcap, x-net1.pcap, ..."""
    root, ext = os.path.splitext(base)
    return [base] + ["%s-net%d%s" % (root, i, ext or ".pcap") for i in range(1, n)]


class Guest:
    def __init__(self, cmdline="", netns=None, nics=(), kernel="build/kernel.elf",
                 mem="64", extra=(), log_path=None, pcap="auto"):
        self.cmdline = cmdline
        self.netns = netns
        self.nics = list(nics)
        self.kernel = kernel
        self.mem = mem
        self.extra = list(extra)
        self.log_path = log_path
        if pcap == "auto":  # named after the log; no log, no capture
            pcap = os.path.splitext(log_path)[0] + ".pcap" if log_path else None
        self.pcaps = pcap_paths(pcap, len(self.nics)) if pcap and self.nics else []
        self.proc = None
        self.buf = ""
        self.pos = 0  # how far expect() has consumed self.buf
        self.prompt_end = None  # where the last command's closing prompt ended
        self._log = None

    def argv(self):
        a = ["qemu-system-x86_64", "-accel", "tcg", "-m", str(self.mem), "-nodefaults",
             "-nographic", "-no-reboot", "-monitor", "none", "-serial", "stdio",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-kernel", self.kernel, "-append", self.cmdline]
        for i, nic in enumerate(self.nics):
            dev = "virtio-net-pci,netdev=n%d,romfile=" % i
            dev += ",mac=%s" % nic.get("mac", "52:54:00:12:34:%02x" % (0x56 + i))
            if nic.get("opts"):
                dev += "," + nic["opts"]
            # QEMU 7.2's filter-dump writes the tap's virtio-net header before
            # every frame when the tap carries one: a capture needs it off.
            tap = "tap,id=n%d,ifname=%s,script=no,downscript=no" % (i, nic["tap"])
            a += ["-netdev", tap + (",vnet_hdr=off" if self.pcaps else ""), "-device", dev]
            if self.pcaps:  # every frame both ways, whole
                a += ["-object", "filter-dump,id=dump%d,netdev=n%d,file=%s"
                      % (i, i, self.pcaps[i])]
        a += self.extra
        if self.netns:
            a = ["ip", "netns", "exec", self.netns] + a
        return a

    def start(self):
        if self.log_path:
            # (a suite run alone, e.g. make stress from a fresh clone, may be
            # the first to write under build/test)
            os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
            self._log = open(self.log_path, "w")
        for p in self.pcaps:  # a stale capture of another run must not pass for this one's
            if os.path.exists(p):
                os.unlink(p)
        # ip netns exec execs QEMU in place: the pid we get is QEMU's.
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     bufsize=0)
        return self

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], max(0.0, timeout))
        if not r:
            return False
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return None
        text = data.decode("utf-8", "replace").replace("\r", "")
        self.buf += text
        if self._log:
            self._log.write(text)
            self._log.flush()
        return True

    def expect(self, pattern, timeout=10.0):
        """Waits for pattern after the last match; returns the match object."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        m = rx.search(self.buf, self.pos)
        while not m:  # each round reads something or ends at the deadline
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError("timeout waiting for %r; console tail: %r"
                                 % (pattern, self.buf[-600:]))
            if self._read(left) is None:
                raise GuestError("QEMU exited (status %s) waiting for %r; console tail: %r"
                                 % (self._status(), pattern, self.buf[-600:]))
            m = rx.search(self.buf, self.pos)
        self.pos = m.end()
        return m

    def _status(self):
        """QEMU's exit status once its output has ended (it is exiting)."""
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return "still running 10 s after closing its output"

    def send(self, text):
        try:
            write_all(self.proc.stdin.fileno(), text.encode(), SEND_SECS)
        except (PipeTimeout, PipeClosed) as e:
            raise GuestError("writing to the console: %s" % e)

    def _wait_prompt(self, timeout):
        """Until the console sits at its prompt, which log lines the guest prints
        on its own (timers, the RX path) may follow. The first prompt counts even
        when an expect() for such a log line read past it."""
        logs = re.compile(r"(?:%s)*" % LOG_LINE)
        first = re.compile(re.escape(PROMPT) + r"(?:%s)*$" % LOG_LINE)
        deadline = time.monotonic() + timeout
        while not (self.buf.endswith(PROMPT) or
                   (self.prompt_end is not None and logs.fullmatch(self.buf, self.prompt_end)) or
                   (self.prompt_end is None and first.search(self.buf))):
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError("timeout waiting for the prompt; console tail: %r"
                                 % self.buf[-600:])
            if self._read(left) is None:
                raise GuestError("QEMU exited (status %s) waiting for the prompt; console "
                                 "tail: %r" % (self._status(), self.buf[-600:]))

    def cmd(self, line, timeout=10.0):
        """Runs a console command; returns its output (without echo and prompt).
        Log lines printed after a prompt do not hide it."""
        self._wait_prompt(timeout)
        self.pos = len(self.buf)
        self.send(line + "\r")
        start = self.pos
        m = self.expect(r"\n" + re.escape(PROMPT) + r"(?:%s)*$" % LOG_LINE, timeout)
        self.prompt_end = m.start() + 1 + len(PROMPT)
        out = self.buf[start:m.start() + 1]
        # Drop the echoed command line.
        first_nl = out.find("\n")
        return out[first_nl + 1:] if first_nl >= 0 else ""

    def stats(self, command="stats"):
        """name=value lines of a console command as a dict of ints."""
        d = {}
        for line in self.cmd(command).splitlines():
            m = re.match(r"^([\w.\-]+)=(-?\d+)$", line.strip())
            if m:
                d[m.group(1)] = int(m.group(2))
        return d

    def wait_exit(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0) is True:
            pass
        return self.proc.poll()

    def stop(self):
        """Kills our QEMU (by its pid) and waits for it, 10 s at most."""
        if self.proc:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass  # unkillable (D state): nothing more to do from here
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        if self._log:
            self._log.close()
            self._log = None
