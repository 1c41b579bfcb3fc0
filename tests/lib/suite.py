"""The frame of every Python test suite: its PASS/FAIL lines and its exit status,
with nothing lost on the way.

    SUITE = Suite("ipv4")
    check = SUITE.check

    def main():
        with Netns(...) as ns, Guest(...) as g:
            check("ping", ok, why)

    SUITE.run(main)  # does not return

run() turns SIGTERM and SIGHUP into the exception Terminated (SIGINT too, in
place of KeyboardInterrupt), so that `with` blocks and `finally` clauses clean
up when tests/run.sh or a person stops the suite: the guest's QEMU is killed,
the namespace removed. Further signals are ignored meanwhile, so that the
clean-up is not cut short. Any exception reaching the top (Terminated and
KeyboardInterrupt included) becomes one line "FAIL <suite>-suite: <exception>
at <file:line in function>", with its traceback on stderr. The exit status is 0
only when at least one check ran and every check passed.
"""
import os
import signal
import sys
import traceback


class Terminated(BaseException):
    """A signal asked the suite to stop (BaseException: no `except Exception`
    in a test swallows it)."""


def _on_signal(signum, _frame):
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    raise Terminated("stopped by %s" % signal.Signals(signum).name)


def where(exc):
    """file:line in function, of the innermost frame of exc's traceback outside
    this file (for Terminated: where the suite was when the signal came)."""
    tb = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    if not tb:
        return "?"
    f = tb[-1]
    return "%s:%d in %s" % (os.path.basename(f.filename), f.lineno, f.name)


class Suite:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            print("PASS %s" % name, flush=True)
        else:
            self.failed += 1
            why = " ".join(str(why).split("\n"))
            print("FAIL %s: %s" % (name, why[-600:]), flush=True)
        return ok

    def note(self, text):
        print("  " + text, flush=True)

    def run(self, body):
        """Runs body(), then exits: 0 when at least one check ran and all passed."""
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(s) != signal.SIG_IGN:  # (ignored: as by a background job)
                signal.signal(s, _on_signal)
        code = None
        try:
            body()
        except SystemExit as e:
            if e.code not in (None, 0):
                self.check("%s-suite" % self.name, False, "exited with %r at %s" % (e.code, where(e)))
        except BaseException as e:  # noqa: B036 - everything, on purpose
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            self.check("%s-suite" % self.name, False,
                       "%s: %s at %s" % (type(e).__name__, e, where(e)))
            if isinstance(e, Terminated):
                code = 143
        if code is None:
            code = 0 if self.passed and not self.failed else 1
        if not self.passed and not self.failed:
            print("FAIL %s-suite: no check ran" % self.name, flush=True)
        sys.stdout.flush()
        os._exit(code)  # no waiting for stray threads: the suite is over
