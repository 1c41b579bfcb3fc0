#!/usr/bin/env python3
"""Wall time from QEMU's exec to a console line, over several boots (no network).

usage: boot_time.py [--runs N] [--pattern REGEX] [--kernel PATH] [-- extra QEMU args]
Prints one `metric value unit` line per statistic (min, median, max seconds).
"""
import argparse
import re
import statistics
import subprocess
import sys
import time


def one_boot(kernel, pattern, extra, timeout):
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", "64", "-nodefaults", "-nographic",
           "-no-reboot", "-monitor", "none", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", kernel, "-append", "mode=net"] + extra
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        buf = b""
        while time.monotonic() - t0 < timeout:
            chunk = p.stdout.read1(4096)
            if not chunk:
                break
            buf += chunk
            if re.search(pattern.encode(), buf):
                return time.monotonic() - t0
        return None
    finally:
        p.kill()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pattern", default=r"kernel: uknet booted")
    ap.add_argument("--kernel", default="build/kernel.elf")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    times = []
    for _ in range(a.runs):
        t = one_boot(a.kernel, a.pattern, a.extra, a.timeout)
        if t is None:
            print("boot_time: pattern %r not seen within %.0f s" % (a.pattern, a.timeout),
                  file=sys.stderr)
            return 1
        times.append(t)
    print("boot_to_banner_min %.3f s" % min(times))
    print("boot_to_banner_median %.3f s" % statistics.median(times))
    print("boot_to_banner_max %.3f s" % max(times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
