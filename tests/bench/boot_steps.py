#!/usr/bin/python3
"""Where the kernel's boot goes: the guest time of each init step, over several
boots, and (with --tbs) how much code QEMU translated in each.

usage: boot_steps.py [--runs N] [--cmdline "..."] [--tbs] [--kernel PATH]
                     [-- extra QEMU args, e.g. -bios /usr/share/qemu/qboot.rom]

Each boot has one virtio-net NIC on a tap in a network namespace made for the
run (tests/lib/netns.py: lo and tap0 only, no default route, removed
afterwards); nothing is sent to the guest. Once "kernel: ready" is seen, the
console's `boot` command prints the kernel's time line (kernel/bootsteps.c:
the TSC at the end of each step, guest time since kmain); this prints the
median, min and max duration of each step, in microseconds.

--tbs boots once more with QEMU's `-d in_asm -trace serial_write` logging to a
file: every step writes its number to COM1's scratch register, so each block
QEMU translated (in_asm) falls to the step that ran it. Printed per step: the
translated blocks and guest instructions of the kernel, and the functions with
the most blocks. Under TCG, translating code that runs for the first time is
most of a boot (about 8 us a block on the machine this was written on).
"""
import argparse
import bisect
import collections
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, HERE)
import boot_time  # noqa: E402  (qemu_argv, Console, stop)

STEP = re.compile(rb"boot\.([\w.]+)_us=(\d+)(?: \(\+(\d+)\))?")
KERNEL_LO, KERNEL_HI = 0x100000, 0x1000000


def one_boot(a, ns, extra):
    """Boots, waits for ready, asks for the time line: [(name, end_us, dur_us)]."""
    argv = boot_time.qemu_argv(a.kernel, a.mem, a.cmdline, extra, nic=True)
    p = subprocess.Popen(ns.cmd(argv), stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    con = boot_time.Console(p, time.monotonic())
    try:
        if con.wait_for(re.compile(rb"kernel: ready"), a.timeout) is None:
            return None
        time.sleep(0.2)  # the prompt, and whatever the guest logs right after ready
        p.stdin.write(b"boot\r")
        p.stdin.flush()
        con.t0 = time.monotonic()
        if con.wait_for(re.compile(rb"boot\.ready_us=\d+ \(\+\d+\)"), 10) is None:
            return None
        out = []
        for m in STEP.finditer(con.buf):
            dur = int(m.group(3)) if m.group(3) else int(m.group(2))
            out.append((m.group(1).decode(), int(m.group(2)), dur))
        return out
    finally:
        boot_time.stop(p)


def kernel_symbols(elf):
    syms = []
    out = subprocess.run(["nm", "-n", elf], capture_output=True, text=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            syms.append((int(p[0], 16), p[2]))
    return [s[0] for s in syms], [s[1] for s in syms]


def translation_by_step(logfile, names, elf):
    """{step: (blocks, instructions, Counter(function: blocks))} from the log."""
    addrs, fnames = kernel_symbols(elf)
    per = collections.OrderedDict()
    seg, in_tb, cur = 0, False, None
    for line in open(logfile, errors="replace"):
        m = re.search(r"serial_write .*addr 0x0*7 val 0x([0-9a-f]+)", line)
        if m:
            seg = int(m.group(1), 16)
            continue
        if line.startswith("IN:"):
            in_tb = True
            continue
        m = re.match(r"^0x([0-9a-f]+):", line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        if in_tb:
            in_tb = False
            cur = None
            if KERNEL_LO <= addr < KERNEL_HI and addrs:
                name = names[seg] if seg < len(names) else "(after ready)"
                cur = per.setdefault(name, [0, 0, collections.Counter()])
                cur[0] += 1
                cur[2][fnames[max(bisect.bisect_right(addrs, addr) - 1, 0)]] += 1
        if cur is not None:
            cur[1] += 1
    return per


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cmdline", default="mode=net")
    ap.add_argument("--kernel", default="build/kernel.elf")
    ap.add_argument("--mem", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--tbs", action="store_true", help="also count translated code per step")
    ap.add_argument("--top", type=int, default=5, help="functions shown per step (--tbs)")
    ap.add_argument("extra", nargs="*")
    a = ap.parse_args()
    os.chdir(ROOT)
    from netns import Netns
    runs = []
    per = None
    with Netns("uknet-steps") as ns:
        for _ in range(a.runs):
            r = one_boot(a, ns, a.extra)
            if r is None:
                print("boot_steps: a boot did not get to `boot`'s output", file=sys.stderr)
                return 1
            runs.append(r)
        if a.tbs:
            log = os.path.join(ROOT, "build", "boot_steps.in_asm.log")
            if os.path.exists(log):
                os.unlink(log)
            extra = a.extra + ["-d", "in_asm", "-D", log, "-trace", "serial_write"]
            if one_boot(a, ns, extra) is None:
                print("boot_steps: the logged boot did not finish", file=sys.stderr)
                return 1
            names = [n for n, _, _ in runs[0] if n != "entry"]
            per = translation_by_step(log, names, a.kernel.replace("kernel.elf", "kernel64.elf"))
    durs = collections.OrderedDict()  # a step that recurs (one per NIC) is summed
    for r in runs:
        total = collections.OrderedDict()
        for name, _, dur in r:
            total[name] = total.get(name, 0) + dur
        for name, dur in total.items():
            durs.setdefault(name, []).append(dur)
    print("%-16s %8s %8s %8s" % ("step (us)", "median", "min", "max")
          + ("  %6s %6s  %s" % ("blocks", "insns", "most blocks") if per else ""))
    for name, v in durs.items():
        line = "%-16s %8d %8d %8d" % (name, statistics.median(v), min(v), max(v))
        if per and name in per:
            b, i, fn = per[name]
            line += "  %6d %6d  %s" % (b, i, ", ".join("%s %d" % kv for kv in fn.most_common(a.top)))
        print(line)
    if per and "(after ready)" in per:
        b, i, fn = per["(after ready)"]
        print("%-16s %26s  %6d %6d  %s" % ("(after ready)", "", b, i,
                                          ", ".join("%s %d" % kv for kv in fn.most_common(a.top))))
    ready = [dict((n, e) for n, e, _ in r).get("ready") for r in runs]
    ready = [x for x in ready if x is not None]
    print("kernel_ready_guest_us median %d min %d max %d (%d boots)"
          % (statistics.median(ready), min(ready), max(ready), len(ready)))
    if per:
        print("translated before ready: %d blocks, %d instructions"
              % (sum(v[0] for k, v in per.items() if k != "(after ready)"),
                 sum(v[1] for k, v in per.items() if k != "(after ready)")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
