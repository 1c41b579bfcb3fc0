#!/usr/bin/python3
"""Builds the reference Linux guest of the benchmarks from Debian packages.

    build_linux_guest.py [--out build/bench/linux] [--cache cache/bench] [--no-iso]

- Debian's own kernel: the package that linux-image-amd64 depends on, fetched with
  `apt-get download` and unpacked with `dpkg-deb -x` into the cache (never
  installed: the host's /boot and /lib/modules are not touched).
- busybox-static, fetched and unpacked the same way.
- The guest's servers, built static from tests/bench/linux_guest/: echo7.c (UDP
  echo on port 7), tcpsvc.c (TCP echo 7, discard 9, chargen 19; epoll) and
  http80.c (HTTP/1.1 on port 80; epoll, keep-alive, pipelining).
- An initramfs (uncompressed newc cpio, written here) holding busybox, the servers,
  /init (tests/bench/linux_guest/init) and the modules virtio-net needs with their
  dependencies, found from each module's .modinfo `depends=` (the package ships no
  modules.dep) and listed in load order in /modules.order.
- A GRUB rescue ISO of the same kernel and initramfs (for the image-size figure).

Outputs in OUT: vmlinuz, initrd.img, linux.iso, guest.json (versions, modules,
sizes). Rebuilds only what changed; the .deb files stay in the cache.
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GUEST_SRC = os.path.join(HERE, "linux_guest")
SERVERS = ["echo7", "tcpsvc", "http80"]  # linux_guest/NAME.c -> /bin/NAME
WANTED_MODULES = ["virtio_pci", "virtio_net"]
META_PACKAGE = "linux-image-amd64"


def log(msg):
    print("linux-guest: " + msg, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def apt_update_if_needed():
    if not any("_Packages" in f for f in os.listdir("/var/lib/apt/lists")
               if os.path.isfile(os.path.join("/var/lib/apt/lists", f))):
        log("apt lists empty: apt-get update")
        run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL)


def kernel_package():
    """The versioned package linux-image-amd64 depends on (e.g. linux-image-6.1.0-56-amd64)."""
    out = subprocess.run(["apt-cache", "depends", META_PACKAGE], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            return line.split()[1]
    return None


def fetch_deb(pkg, debdir):
    """apt-get download PKG into debdir unless a .deb of PKG is already there."""
    os.makedirs(debdir, exist_ok=True)
    have = [f for f in os.listdir(debdir) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if have:
        return os.path.join(debdir, sorted(have)[-1])
    log("apt-get download " + pkg)
    # _apt cannot write into the cache folder: apt falls back to root and warns.
    run(["apt-get", "download", "-q", pkg], cwd=debdir, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    have = [f for f in os.listdir(debdir) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if not have:
        sys.exit("linux-guest: apt-get download %s left no .deb" % pkg)
    return os.path.join(debdir, sorted(have)[-1])


def prune_other_kernels(cache, keep):
    """Drops the .deb and the unpacked tree of kernels other than keep (a newer
    linux-image-amd64 moved on): 70 MB and 400 MB each."""
    debdir = os.path.join(cache, "debs")
    for f in os.listdir(debdir):
        if f.startswith("linux-image-") and not f.startswith(keep + "_"):
            log("removing stale " + f)
            os.remove(os.path.join(debdir, f))
    for d in os.listdir(cache):
        if d.startswith("root-linux-image-") and d != "root-" + keep:
            log("removing stale " + d)
            shutil.rmtree(os.path.join(cache, d), ignore_errors=True)


def extract_deb(deb, dest):
    stamp = os.path.join(dest, ".extracted-from")
    if os.path.exists(stamp) and open(stamp).read() == os.path.basename(deb):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    log("dpkg-deb -x " + os.path.basename(deb))
    run(["dpkg-deb", "-x", deb, dest])
    with open(stamp, "w") as f:
        f.write(os.path.basename(deb))
    return dest


# ------------------------------------------------------------------ modules

def modinfo(path):
    """The key=value strings of an (uncompressed) module's .modinfo ELF section."""
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError("%s: not an ELF64 module (compressed?)" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    secs = []
    for i in range(shnum):
        name, _typ, _flags, _addr, off, size = struct.unpack_from(
            "<IIQQQQ", data, shoff + i * shentsize)
        secs.append((name, off, size))
    stroff = secs[shstrndx][1]
    info = {}
    for name, off, size in secs:
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".modinfo":
            for item in data[off:off + size].split(b"\0"):
                if b"=" in item:
                    k, v = item.decode(errors="replace").split("=", 1)
                    info.setdefault(k, v)
    return info


def resolve_modules(moddir, wanted):
    """Load order (dependencies first) of wanted modules, as paths under moddir."""
    index = {}
    for dirpath, _dirs, files in os.walk(moddir):
        for f in files:
            if f.endswith(".ko"):
                index[f[:-3].replace("-", "_")] = os.path.join(dirpath, f)
    builtin = set()
    bpath = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bpath):
        for line in open(bpath):
            builtin.add(os.path.basename(line.strip())[:-3].replace("-", "_"))
    order, seen = [], set()

    def visit(name):
        name = name.replace("-", "_")
        if name in seen or name in builtin:
            return
        seen.add(name)
        if name not in index:
            sys.exit("linux-guest: module %s not found under %s" % (name, moddir))
        deps = modinfo(index[name]).get("depends", "")
        for d in filter(None, deps.split(",")):
            visit(d)
        order.append(name)

    for w in wanted:
        visit(w)
    return [(n, index[n]) for n in order]


# ------------------------------------------------------------------ cpio (newc)

class Cpio:
    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0))
        self.ino += 1
        self.out += hdr.encode() + name_b
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self._entry(name, 0o040755)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def chardev(self, name, major, minor):
        self._entry(name, 0o020600, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self.out += b"\0" * (-len(self.out) % 512)
        return bytes(self.out)


# ------------------------------------------------------------------ main

def build_server(out, name):
    src = os.path.join(GUEST_SRC, name + ".c")
    exe = os.path.join(out, name)
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        log("gcc -static %s.c" % name)
        run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-s", "-o", exe, src])
    return exe


def write_if_changed(path, data):
    if os.path.exists(path) and open(path, "rb").read() == data:
        return False
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def build_iso(out, kver):
    iso = os.path.join(out, "linux.iso")
    srcs = [os.path.join(out, "vmlinuz"), os.path.join(out, "initrd.img")]
    if os.path.exists(iso) and all(os.path.getmtime(iso) >= os.path.getmtime(s) for s in srcs):
        return iso
    if not shutil.which("grub-mkrescue"):
        log("grub-mkrescue missing: no ISO")
        return None
    tree = os.path.join(out, "iso-tree")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(os.path.join(tree, "boot", "grub"))
    for s in srcs:
        shutil.copy(s, os.path.join(tree, "boot"))
    with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("set timeout=0\nset default=0\nserial --unit=0 --speed=115200\n"
                "terminal_input serial console\nterminal_output serial console\n"
                "menuentry 'Debian %s (benchmark guest)' {\n"
                "  linux /boot/vmlinuz console=ttyS0 quiet panic=-1\n"
                "  initrd /boot/initrd.img\n}\n" % kver)
    log("grub-mkrescue linux.iso")
    r = subprocess.run(["grub-mkrescue", "-o", iso, tree], capture_output=True, text=True)
    shutil.rmtree(tree, ignore_errors=True)
    if r.returncode != 0:
        log("grub-mkrescue failed: " + r.stderr.strip()[-300:])
        return None
    return iso


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "linux"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "cache", "bench"))
    ap.add_argument("--no-iso", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    debdir = os.path.join(a.cache, "debs")

    apt_update_if_needed()
    kpkg = kernel_package()
    if kpkg is None:  # offline: take what the cache holds
        have = sorted(f for f in os.listdir(debdir) if f.startswith("linux-image-")) \
            if os.path.isdir(debdir) else []
        if not have:
            sys.exit("linux-guest: cannot resolve %s and nothing cached" % META_PACKAGE)
        kpkg = have[-1].split("_")[0]
    kdeb = fetch_deb(kpkg, debdir)
    prune_other_kernels(a.cache, kpkg)
    bdeb = fetch_deb("busybox-static", debdir)
    kroot = extract_deb(kdeb, os.path.join(a.cache, "root-" + kpkg))
    broot = extract_deb(bdeb, os.path.join(a.cache, "root-busybox-static"))

    kvers = os.listdir(os.path.join(kroot, "lib", "modules"))
    if len(kvers) != 1:
        sys.exit("linux-guest: expected one module tree in %s, got %s" % (kpkg, kvers))
    kver = kvers[0]
    moddir = os.path.join(kroot, "lib", "modules", kver)
    mods = resolve_modules(moddir, WANTED_MODULES)
    servers = {name: build_server(a.out, name) for name in SERVERS}

    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "modules"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.file("init", open(os.path.join(GUEST_SRC, "init"), "rb").read(), 0o755)
    c.file("bin/busybox", open(os.path.join(broot, "bin", "busybox"), "rb").read(), 0o755)
    c.symlink("bin/sh", "busybox")
    for name, exe in servers.items():
        c.file("bin/" + name, open(exe, "rb").read(), 0o755)
    for name, path in mods:
        c.file("modules/%s.ko" % name, open(path, "rb").read())
    c.file("modules.order", "".join("%s.ko\n" % n for n, _ in mods).encode())
    initrd = c.finish()

    vmlinuz = os.path.join(a.out, "vmlinuz")
    write_if_changed(vmlinuz, open(os.path.join(kroot, "boot", "vmlinuz-" + kver), "rb").read())
    write_if_changed(os.path.join(a.out, "initrd.img"), initrd)
    iso = None if a.no_iso else build_iso(a.out, kver)
    info = {
        "kernel_package": os.path.basename(kdeb),
        "busybox_package": os.path.basename(bdeb),
        "kernel_version": kver,
        "modules": [n for n, _ in mods],
        "servers": SERVERS,
        "vmlinuz_bytes": os.path.getsize(vmlinuz),
        "initrd_bytes": len(initrd),
        "iso_bytes": os.path.getsize(iso) if iso else None,
        "initrd_sha256": hashlib.sha256(initrd).hexdigest(),
    }
    write_if_changed(os.path.join(a.out, "guest.json"),
                     (json.dumps(info, indent=1) + "\n").encode())
    log("%s, modules %s, vmlinuz %d B, initrd %d B%s" % (
        kver, " ".join(info["modules"]), info["vmlinuz_bytes"], info["initrd_bytes"],
        ", iso %d B" % info["iso_bytes"] if iso else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
