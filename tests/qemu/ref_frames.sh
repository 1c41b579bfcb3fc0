#!/usr/bin/env bash
# The reference frame generator (not QEMU: tests/run.sh runs every tests/qemu/*.sh).
# tests/bench/gen_frames.py must write exactly the bytes the lwIP figures in
# tests/bench/README.md were measured on: the SHA-256 sums in
# tests/bench/frames.sha256 (10,000 frames a file). Also: every file holds N
# records of its one frame length, a shorter run (-n 3, the fuzz seeds) is a
# prefix of the long one, and frame 0 of the ICMP and 64-byte UDP files is the
# unit tests' fixture (fx_icmp56_frame, fx_udp64_frame in tests/unit/net_fixtures.c).
# timeout: 300
# needs: python3
cd "$(dirname "$0")/../.." || exit 1
. tests/qemu/lib.sh
command -v sha256sum >/dev/null || { fail "ref-frames" "sha256sum missing"; exit 1; }
[ -x /usr/bin/python3 ] || { fail "ref-frames" "/usr/bin/python3 missing (make deps)"; exit 1; }
out=build/test/ref-frames
rm -rf "$out"
mkdir -p "$out"
sums=$PWD/tests/bench/frames.sha256

if ! /usr/bin/python3 tests/bench/gen_frames.py -o "$out/long" >"$out/gen.log" 2>&1 ||
    ! /usr/bin/python3 tests/bench/gen_frames.py -n 3 -o "$out/short" >>"$out/gen.log" 2>&1; then
    fail "ref-frames-generate" "gen_frames.py failed: $(tail -n 3 "$out/gen.log" | tr '\n' ' ')"
    exit 0
fi
pass "ref-frames-generate"

if msg=$(cd "$out/long" && sha256sum -c "$sums" 2>&1); then
    pass "ref-frames-sha256"
else
    fail "ref-frames-sha256" "$(echo "$msg" | grep -v ': OK$' | tr '\n' ' ')"
fi

/usr/bin/python3 - "$out" <<'PY'
import re
import sys

out = sys.argv[1]
FILES = {"frames-icmp56.bin": 98, "frames-udp64.bin": 106, "frames-udp1400.bin": 1442}


def records(path):
    data, frames, at = open(path, "rb").read(), [], 0
    while at < len(data):
        n = int.from_bytes(data[at:at + 2], "big")
        frames.append(data[at + 2:at + 2 + n])
        at += 2 + n
    return frames, at == len(data)


def fixture(name):
    src = open("tests/unit/net_fixtures.c").read()
    m = re.search(r"%s\[\d+\] = \{(.*?)\};" % name, src, re.S)
    return bytes(int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]{2}", m.group(1)))


def check(name, why):
    print("PASS %s" % name if not why else "FAIL %s: %s" % (name, why))


for f, size in FILES.items():
    long_, whole = records("%s/long/%s" % (out, f))
    short, _ = records("%s/short/%s" % (out, f))
    bad = [i for i, fr in enumerate(long_) if len(fr) != size]
    check("ref-frames-records-%s" % f[7:-4],
          "" if whole and len(long_) == 10000 and not bad else
          "%d records, whole file %s, %d of a length other than %d" %
          (len(long_), whole, len(bad), size))
    check("ref-frames-prefix-%s" % f[7:-4],
          "" if short == long_[:3] else "-n 3 differs from the first 3 of -n 10000")
for f, fx in (("frames-icmp56.bin", "fx_icmp56_frame"), ("frames-udp64.bin", "fx_udp64_frame")):
    first = records("%s/long/%s" % (out, f))[0][0]
    check("ref-frames-fixture-%s" % fx, "" if first == fixture(fx) else
          "frame 0 differs from %s in tests/unit/net_fixtures.c" % fx)
PY
