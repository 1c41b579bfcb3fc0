#!/usr/bin/env bash
# Builds newlib 3.3.0 for bare x86_64 from Debian's newlib-source into $1
# (cache/newlib). Configures the whole source tree (configuring newlib/ alone breaks
# in libm's fenv.c), with the host gcc kept away from glibc's headers and from its
# Linux predefines, and with -mno-red-zone because interrupts land on thread
# stacks. About a minute on 2 cores.
set -euo pipefail
out=$(realpath -m "$1")
tarball=/usr/src/newlib/newlib-3.3.0.tar.xz
[ -f "$tarball" ] || { echo "newlib.sh: $tarball missing (apt-get install newlib-source)" >&2; exit 1; }
rm -rf "$out.tmp"
mkdir -p "$out.tmp/src" "$out.tmp/build"
tar -xJf "$tarball" -C "$out.tmp/src" --strip-components=1
gccinc=$(gcc -print-file-name=include)
undefs="-U__linux__ -U__linux -Ulinux -U__unix__ -U__unix -Uunix -U__gnu_linux__ -U__ELF__ -D__ELF__"
cflags="-O2 -g -mno-red-zone -fno-pie -fno-stack-protector -ffreestanding -fno-omit-frame-pointer -mcmodel=small"
cd "$out.tmp/build"
../src/configure --target=x86_64-elf --prefix="$out.tmp/install" --disable-multilib \
    --disable-newlib-supplied-syscalls --enable-newlib-io-long-long \
    --disable-newlib-multithread --enable-newlib-reent-small \
    CC_FOR_TARGET="gcc -nostdinc -isystem $gccinc $undefs" \
    AR_FOR_TARGET=ar RANLIB_FOR_TARGET=ranlib AS_FOR_TARGET=as LD_FOR_TARGET=ld \
    NM_FOR_TARGET=nm OBJDUMP_FOR_TARGET=objdump \
    CFLAGS_FOR_TARGET="$cflags" >../configure.log 2>&1
make -j"$(nproc)" all-target-newlib >../make.log 2>&1 || { tail -30 ../make.log >&2; exit 1; }
make install-target-newlib >../install.log 2>&1
rm -rf "$out"
mkdir -p "$out"
cp -r "$out.tmp/install/x86_64-elf/include" "$out/include"
cp -r "$out.tmp/install/x86_64-elf/lib" "$out/lib"
rm -rf "$out.tmp"
echo "newlib: built into $out"
