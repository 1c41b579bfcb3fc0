#!/usr/bin/env bash
# The serial console: commands, errors, log level, and the halt exit.
# timeout: 120
# needs: qemu
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/test
exec /usr/bin/python3 - <<'PY'
import re
import sys
sys.path.insert(0, "tests/lib")
from guest import Guest, EXIT_OK
from suite import Suite

SUITE = Suite("console")
check = SUITE.check


def main():
    with Guest(cmdline="log=info", log_path="build/test/console.log") as g:
        g.expect(r"kernel: ready", 20)
        out = g.cmd("help")
        check("console-help-lists-commands", all(c in out for c in ("help", "log", "mem", "halt")), out)
        out = g.cmd("frobnicate now")
        check("console-unknown-command", "unknown command 'frobnicate'" in out, out)
        out = g.cmd("log debug")
        check("console-log-set", "log level: debug" in out, out)
        out = g.cmd("log shouty")
        check("console-log-bad-level", "usage: log" in out, out)
        m = g.stats("mem")
        check("console-mem-counters", m.get("mem.total_bytes", 0) > 32 << 20 and
              0 < m.get("mem.free_bytes", 0) <= m["mem.total_bytes"], m)
        out = g.cmd("boot")
        steps = re.findall(r"boot\.(\w+)_us=(\d+) \(\+(\d+)\)", out)
        ends = [int(e) for _, e, _ in steps]
        names = [n for n, _, _ in steps]
        # The time line: every init step once, in order, each ending after the
        # previous one (its "+" the difference), the last one "ready".
        check("console-boot-steps",
              re.search(r"boot\.entry_us=\d+", out) is not None and len(steps) >= 10 and
              names[-1] == "ready" and "virtio_net" in names and "stack" in names and
              len(set(names)) == len(names) and ends == sorted(ends) and
              all(int(d) == e - p for (_, _, d), e, p in zip(steps, ends, [0] + ends)) and
              0 < ends[-1] < 10000000, out)
        g.send("halt\r")
        rc = g.wait_exit(10)
        check("console-halt-exits", rc == EXIT_OK, "status %s" % rc)


SUITE.run(main)
PY
