#!/usr/bin/env bash
# A libvirt daemon of its own for uknet, touching nothing of the host
# (docs/libvirt.md):
#
#   libvirt/sandbox.sh start [--dir build/libvirt] [--ns uknet-lv]
#   libvirt/sandbox.sh uri   [--dir build/libvirt]
#   libvirt/sandbox.sh stop  [--dir build/libvirt] [--ns uknet-lv]
#
# start: a network namespace NS holding lo and tap0 (10.0.0.1/24; no default
# route, no IPv6), and Debian's libvirtd inside it and inside a private mount
# namespace: tmpfs over libvirt's state directories, DIR/etc over /etc/libvirt
# (the sockets in DIR/run; QEMU as root, no cgroups, no security driver, console
# files written by QEMU), a copy of /etc/passwd and /etc/group with the user
# libvirt-qemu (libvirt resolves it before reading qemu.conf), /dev/null over
# /dev/kvm. Prints the connection URI (for virsh -c, or LIBVIRT_DEFAULT_URI).
# stop: destroys the daemon's running domains, ends the daemon and any QEMU it
# left (by pid, checked by name), removes the namespace.
# Needs root, libvirt-daemon, libvirt-daemon-driver-qemu and libvirt-clients.
set -u
cmd=${1:-}
shift || true
dir=build/libvirt ns=uknet-lv
while [ $# -gt 0 ]; do
    case "$1" in
    --dir) dir=$2; shift 2 ;;
    --ns) ns=$2; shift 2 ;;
    *) echo "sandbox.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
dir=$(realpath -m "$dir")
uri="qemu:///system?socket=$dir/run/libvirt-sock"

die() { echo "sandbox.sh: $*" >&2; exit 1; }

# pid from FILE if it is alive and its command name starts with NAME.
live_pid() {
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in "$2"*) ;; *) return 1 ;; esac
    grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 1
    echo "$pid"
}

write_config() {
    rm -rf "$dir"
    mkdir -p "$dir/etc" "$dir/run" || die "cannot make $dir"
    cp /etc/libvirt/libvirt.conf "$dir/etc/" 2>/dev/null || : >"$dir/etc/libvirt.conf"
    cat >"$dir/etc/libvirtd.conf" <<EOF
unix_sock_dir = "$dir/run"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$dir/libvirtd.log"
EOF
    cat >"$dir/etc/qemu.conf" <<EOF
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
EOF
    # Runs as the daemon's own pid: ip netns exec, unshare and sh exec in place.
    cat >"$dir/start.sh" <<EOF
set -e
for d in /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
    mkdir -p "\$d"
    mount -t tmpfs -o mode=0755 tmpfs "\$d"
done
mount --bind "$dir/etc" /etc/libvirt
cp /etc/passwd "$dir/passwd"
cp /etc/group "$dir/group"
grep -q '^libvirt-qemu:' "$dir/passwd" ||
    echo 'libvirt-qemu:x:64055:64055:libvirt-qemu (sandbox only):/nonexistent:/usr/sbin/nologin' >>"$dir/passwd"
grep -q '^libvirt-qemu:' "$dir/group" || echo 'libvirt-qemu:x:64055:' >>"$dir/group"
mount --bind "$dir/passwd" /etc/passwd
mount --bind "$dir/group" /etc/group
if [ -e /dev/kvm ]; then mount --bind /dev/null /dev/kvm; fi
exec /usr/sbin/libvirtd --config /etc/libvirt/libvirtd.conf --pid-file "$dir/libvirtd.pid"
EOF
}

make_netns() {
    ip netns list | grep -qw -- "$ns" && die "namespace $ns already exists"
    ip netns add "$ns" || die "cannot add namespace $ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 &&
        ip -n "$ns" link set lo up &&
        ip -n "$ns" tuntap add dev tap0 mode tap &&
        ip -n "$ns" addr add 10.0.0.1/24 dev tap0 &&
        ip -n "$ns" link set tap0 up &&
        ip netns exec "$ns" sysctl -qw net.ipv4.neigh.tap0.retrans_time_ms=100 ||
        { ip netns del "$ns"; die "cannot set up namespace $ns"; }
    if [ -n "$(ip -n "$ns" route show default)" ]; then
        ip netns del "$ns"
        die "namespace $ns has a default route; refusing"
    fi
}

start() {
    [ "$(id -u)" = 0 ] || die "needs root"
    [ -x /usr/sbin/libvirtd ] && [ -x /usr/bin/virsh ] ||
        die "libvirtd or virsh missing (libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients)"
    live_pid "$dir/libvirtd.pid" libvirtd >/dev/null && die "a daemon already runs for $dir"
    write_config
    make_netns
    ip netns exec "$ns" unshare --mount --propagation private /bin/sh "$dir/start.sh" \
        </dev/null >"$dir/daemon.out" 2>&1 &
    local i
    for i in $(seq 300); do # 30 s
        if [ -S "$dir/run/libvirt-sock" ] && virsh -q -c "$uri" version >/dev/null 2>&1; then
            echo "$uri"
            return 0
        fi
        kill -0 $! 2>/dev/null || break
        sleep 0.1
    done
    echo "sandbox.sh: the daemon did not come up: $(tail -c 600 "$dir/daemon.out")" >&2
    stop
    return 1
}

stop() {
    local dpid qpid f
    dpid=$(live_pid "$dir/libvirtd.pid" libvirtd)
    if [ -n "$dpid" ]; then
        for d in $(virsh -q -c "$uri" list --name 2>/dev/null); do
            virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1
        done
        # QEMUs the daemon left, from the pid files in its private /run.
        for f in /proc/"$dpid"/root/run/libvirt/qemu/*.pid; do
            qpid=$(live_pid "$f" qemu-system) && kill -KILL "$qpid"
        done
        kill -TERM "$dpid"
        for _ in $(seq 100); do live_pid "$dir/libvirtd.pid" libvirtd >/dev/null || break; sleep 0.1; done
        dpid=$(live_pid "$dir/libvirtd.pid" libvirtd) && kill -KILL "$dpid"
    fi
    if ip netns list | grep -qw -- "$ns"; then ip netns del "$ns"; fi
    return 0
}

case "$cmd" in
start) start ;;
stop) stop ;;
uri) echo "$uri" ;;
*) echo "usage: libvirt/sandbox.sh start|uri|stop [--dir DIR] [--ns NAME]" >&2; exit 2 ;;
esac
