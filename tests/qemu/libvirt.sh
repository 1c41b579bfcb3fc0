#!/usr/bin/env bash
# uknet under Debian's libvirt: libvirt/sandbox.sh's daemon (its own network and
# mount namespaces, touching nothing of the host), the domain from
# libvirt/make-domain.sh defined and started with virsh, pinged, its console
# read, destroyed (tests/qemu/libvirt_test.py, docs/libvirt.md).
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" != 0 ]; then echo "SKIP libvirt: needs root for network and mount namespaces"; exit 0; fi
exec timeout 240 /usr/bin/python3 tests/qemu/libvirt_test.py
