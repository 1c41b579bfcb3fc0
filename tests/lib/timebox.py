#!/usr/bin/python3
"""Runs one test (a QEMU script or a unit test binary) under a hard time limit,
in a session of its own, for tests/run.sh:

    timebox.py LIMIT GRACE LOG -- COMMAND [ARG...]

COMMAND's stdout and stderr go to LOG, its stdin is /dev/null. At LIMIT seconds
every process of its session gets SIGTERM at once (so that bash traps and
Python `finally` clauses run: namespaces removed, QEMU stopped; a child in the
foreground of a bash script would otherwise delay its trap), and whatever is
still there GRACE seconds later gets SIGKILL. A session rather than a process
group because `timeout(1)` puts itself in a group of its own.

When COMMAND has ended (on its own or not), processes it left running in its
session are stopped the same way, and network namespaces it left behind are
removed: those created meanwhile and named NAME-PID for a PID of the session
(the convention of tests/lib/netns.py and tests/qemu/lib.sh), so that another
user's namespaces are never touched. Each problem is one line on stdout:

    timeout LIMIT SIGNAL        (the limit passed; SIGNAL: what ended it)
    signal NAME                 (a signal ended COMMAND)
    left-process PID COMM       (stopped)
    left-netns NAME             (removed)

The exit status is COMMAND's own (128+N when signal N ended it). SIGINT, SIGTERM
or SIGHUP to timebox itself (unless ignored when it started) stop the session
as above, then end timebox with the same signal.
"""
import os
import re
import signal
import subprocess
import sys
import time

POLL_SECS = 0.25


class Stop(BaseException):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def on_signal(signum, _frame):
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)  # the clean-up must not be cut short
    raise Stop(signum)


def session_procs(sid):
    """{pid: comm} of the live (not zombie) processes of session sid."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()  # state ppid pgrp session ...
        if len(rest) > 3 and rest[0] != "Z" and int(rest[3]) == sid:
            procs[int(d)] = stat[stat.find("(") + 1:stat.rfind(")")]
    return procs


def signal_all(pids, signum):
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def stop_session(sid, grace, child):
    """SIGTERM to every process of the session, SIGKILL to what is left after
    grace seconds; returns the name of the last signal sent."""
    signal_all(session_procs(sid), signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        child.poll()  # reap it: a zombie is not a live process
        if not session_procs(sid):
            return "SIGTERM"
        time.sleep(0.1)
    signal_all(session_procs(sid), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while session_procs(sid) and time.monotonic() < deadline:
        child.poll()
        time.sleep(0.1)
    return "SIGKILL"


def netns_names():
    try:
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def remove_left_netns(before, seen):
    for name in sorted(netns_names() - before):
        m = re.search(r"-(\d+)$", name)
        if m and int(m.group(1)) in seen:
            print("left-netns %s" % name, flush=True)
            subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL, timeout=30)


def supervise(child, limit, grace, seen):
    """Waits for the child within the limit; returns the problem lines."""
    sid = child.pid
    deadline = time.monotonic() + limit
    while child.poll() is None:
        if time.monotonic() > deadline:
            how = stop_session(sid, grace, child)
            return ["timeout %g %s" % (limit, how)]
        seen.update(session_procs(sid))
        try:
            child.wait(timeout=POLL_SECS)
        except subprocess.TimeoutExpired:
            pass
    return []


def main():
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        print("usage: timebox.py LIMIT GRACE LOG -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    limit, grace, log = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    before = netns_names()
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(s) != signal.SIG_IGN:  # (ignored: as by a background job)
            signal.signal(s, on_signal)
    with open(log, "wb") as out:
        child = subprocess.Popen(sys.argv[5:], stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    seen = {child.pid}
    stopped_by = None
    try:
        problems = supervise(child, limit, grace, seen)
    except Stop as e:
        stopped_by = e.signum
        stop_session(child.pid, grace, child)
        problems = []
    left = session_procs(child.pid)
    for pid, comm in sorted(left.items()):
        problems.append("left-process %d %s" % (pid, comm))
    if left:
        stop_session(child.pid, grace, child)
    for p in problems:
        print(p, flush=True)
    remove_left_netns(before, seen)
    try:
        rc = child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        rc = -signal.SIGKILL
    if stopped_by is not None:
        signal.signal(stopped_by, signal.SIG_DFL)
        os.kill(os.getpid(), stopped_by)
    if rc < 0:
        if not any(p.startswith("timeout") for p in problems):
            print("signal %s" % signal.Signals(-rc).name, flush=True)
        return 128 - rc
    return rc


if __name__ == "__main__":
    sys.exit(main())
