#!/usr/bin/env bash
# The serial console: commands, errors, log level, and the halt exit.
# timeout: 120
# needs: qemu
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/test
exec /usr/bin/python3 - <<'PY'
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
        g.send("halt\r")
        rc = g.wait_exit(10)
        check("console-halt-exits", rc == EXIT_OK, "status %s" % rc)


SUITE.run(main)
PY
