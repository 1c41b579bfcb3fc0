#!/usr/bin/env bash
# make bench: builds what the benchmarks need (the reference Linux guest from
# Debian packages, the unikernel ELF and ISO through make), installs missing
# Debian packages, creates a network namespace for the run and runs
# tests/bench/bench.py in it. Writes build/bench/report.md, rates.png, rtt.png, tcp.png,
# results.json and metrics.txt, and prints the metric lines.
# Usage: tests/bench/run.sh [bench.py options], e.g. --runs 5, --guests uknet,linux
set -u
cd "$(dirname "$0")/../.." || exit 1
[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespace, tap, apt-get)" >&2; exit 1; }

PKGS="qemu-system-x86 iproute2 iputils-ping python3 python3-matplotlib gcc libc6-dev grub-pc-bin grub-common xorriso mtools wrk curl dnsmasq-base"
missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
    echo "bench: installing" $missing
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends $missing >/dev/null || { echo "bench: apt-get failed" >&2; exit 1; }
fi

/usr/bin/python3 tests/bench/build_linux_guest.py || exit 1
[ -f build/kernel.elf ] || { echo "bench: build/kernel.elf missing (make kernel)" >&2; exit 1; }

. tests/bench/netns.sh
bench_netns_up "uknet-bench-$$" || exit 1
bench_run /usr/bin/python3 tests/bench/bench.py --netns "$BENCH_NS" --tap tap0 "$@"
rc=$?
echo "bench: report build/bench/report.md, plots build/bench/rtt.png build/bench/rates.png build/bench/tcp.png"
exit $rc
