#!/usr/bin/env bash
# rootfs.sh - assembles the whole root filesystem of the woodctl container image in DIR:
# the static binary at /woodctl and the few files it reads at run time. The image's final
# stage is FROM scratch plus this folder, and tests/deploy/image-rootfs.test.sh runs the
# binary in a chroot of the same folder, so both see exactly the same files.
#
#   deploy/rootfs.sh DIR BINARY
#
# Docker adds /etc/hosts, /etc/resolv.conf and /etc/hostname at run time.
set -euo pipefail
if [ $# -ne 2 ]; then
	echo "usage: deploy/rootfs.sh DIR BINARY" >&2
	exit 2
fi
dir=$1 bin=$2
if ! file -L "$bin" | grep -q 'statically linked'; then
	echo "rootfs: $bin is not a statically linked executable: $(file -L "$bin")" >&2
	exit 1
fi
certs=/etc/ssl/certs/ca-certificates.crt
if [ ! -s "$certs" ]; then
	echo "rootfs: $certs is missing (install ca-certificates)" >&2
	exit 1
fi
mkdir -p "$dir/etc/ssl/certs" "$dir/tmp"
chmod 0755 "$dir" "$dir/etc" "$dir/etc/ssl" "$dir/etc/ssl/certs" # whatever the umask
chmod 1777 "$dir/tmp" # libpq and curl may write temporary files; nothing else is writable
install -m 0755 "$bin" "$dir/woodctl"
install -m 0644 "$certs" "$dir/etc/ssl/certs/ca-certificates.crt"
# A non-root user for USER 10001; names make `ps` and file listings readable.
printf 'root:x:0:0:root:/:/nonexistent\nwoodctl:x:10001:10001:woodctl:/:/nonexistent\n' \
	>"$dir/etc/passwd"
printf 'root:x:0:\nwoodctl:x:10001:\n' >"$dir/etc/group"
# glibc's built-in backends (static binary): names from /etc/hosts, then Docker's DNS.
printf 'hosts: files dns\n' >"$dir/etc/nsswitch.conf"
chmod 0644 "$dir/etc/passwd" "$dir/etc/group" "$dir/etc/nsswitch.conf"
