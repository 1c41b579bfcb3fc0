#!/usr/bin/env bash
# Writes a libvirt domain definition for uknet to stdout, from
# libvirt/uknet.xml.in (docs/libvirt.md):
#
#   libvirt/make-domain.sh [--name uknet] [--kernel build/kernel.elf] [--tap tap0]
#       [--mac 52:54:00:12:34:56] [--memory 4] [--cmdline "ip=10.0.0.2/24"]
#       [--console pty|file:PATH] [--firmware seabios|qboot] > uknet.xml
#
# --console pty (the default): `virsh console NAME` is the serial console.
# --console file:PATH: the console's output goes to PATH (no input).
# --firmware qboot: Debian's qboot (/usr/share/qemu/qboot.rom) instead of
# SeaBIOS: boots in a fraction of the time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name=uknet kernel=$here/../build/kernel.elf tap=tap0 mac=52:54:00:12:34:56 memory=4
cmdline="ip=10.0.0.2/24 gw=10.0.0.1" console=pty firmware=seabios
while [ $# -gt 0 ]; do
    case "$1" in
    --name) name=$2 ;;
    --kernel) kernel=$2 ;;
    --tap) tap=$2 ;;
    --mac) mac=$2 ;;
    --memory) memory=$2 ;;
    --cmdline) cmdline=$2 ;;
    --console) console=$2 ;;
    --firmware) firmware=$2 ;;
    *) echo "make-domain.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
done
kernel=$(realpath "$kernel")
[ -f "$kernel" ] || { echo "make-domain.sh: no kernel at $kernel (make kernel)" >&2; exit 1; }
case "$console" in
pty)
    serial="    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>" ;;
file:*)
    serial="    <serial type='file'><source path='$(realpath -m "${console#file:}")'/><target port='0'/></serial>" ;;
*) echo "make-domain.sh: --console pty or file:PATH" >&2; exit 2 ;;
esac
case "$firmware" in
seabios) loader="" ;;
qboot) loader="    <loader type='rom'>/usr/share/qemu/qboot.rom</loader>" ;;
*) echo "make-domain.sh: --firmware seabios or qboot" >&2; exit 2 ;;
esac
# XML-escape what the user gave (the command line may hold anything).
esc() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e "s/'/\&apos;/g"; }
awk -v name="$(esc "$name")" -v kernel="$(esc "$kernel")" -v tap="$(esc "$tap")" \
    -v mac="$(esc "$mac")" -v memory="$(esc "$memory")" -v cmdline="$(esc "$cmdline")" \
    -v serial="$serial" -v loader="$loader" '
    # Literal replacement (gsub would read "&" in a value as the match).
    function rep(s, pat, val,    i, out) {
        out = ""
        while ((i = index(s, pat)) > 0) {
            out = out substr(s, 1, i - 1) val
            s = substr(s, i + length(pat))
        }
        return out s
    }
    /^@SERIAL@$/ { print serial; next }
    /^@LOADER@$/ { if (loader != "") print loader; next }
    {
        $0 = rep($0, "@NAME@", name); $0 = rep($0, "@KERNEL@", kernel)
        $0 = rep($0, "@TAP@", tap); $0 = rep($0, "@MAC@", mac)
        $0 = rep($0, "@MEMORY_MIB@", memory); $0 = rep($0, "@CMDLINE@", cmdline)
        print
    }' "$here/uknet.xml.in"
