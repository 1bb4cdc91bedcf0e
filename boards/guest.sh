#!/bin/sh
# Fetch what a QEMU board's guest needs from Debian's archive for that
# architecture — the kernel, its modules, busybox — without adding a dpkg
# architecture to this machine (a private apt state does the lookup).
#
#   boards/guest.sh DEBARCH KERNEL-PACKAGE
#
# Leaves $RT_CACHE/guest/DEBARCH/{vmlinuz,release,root/} and prints the
# directory. The kernel is bookworm's current one for that flavour, checked
# by apt against the archive's signed indexes; its version is in `release`.
set -eu
arch=$1 meta=$2
cache=${RT_CACHE:-$HOME/.cache/rt}
dir=$cache/guest/$arch
apt=$cache/guest/apt

if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$meta" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
: > "$apt/status"
cat > "$apt/apt.conf" <<CONF
Dir::State::Lists "$apt/lists";
Dir::State::status "$apt/status";
Dir::Cache "$apt/cache";
APT::Architectures { "amd64"; "armhf"; "mipsel"; "arm64"; };
CONF
export APT_CONFIG="$apt/apt.conf"
if [ ! -f "$apt/.updated" ]; then
	# The security suite's index for foreign arches may be missing; the
	# main suites are what is needed.
	apt-get update -qq >/dev/null 2>&1 || true
	touch "$apt/.updated"
fi
kpkg=$(apt-cache depends "$meta:$arch" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -n 1)
[ -n "$kpkg" ] || { echo "guest: cannot resolve $meta for $arch" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root"
(cd "$dir/debs" && apt-get download -qq "$kpkg:$arch" "busybox-static:$arch" >/dev/null 2>&1) || {
	echo "guest: cannot download $kpkg and busybox-static for $arch" >&2
	exit 1
}
for d in "$dir"/debs/*.deb; do
	dpkg-deb -x "$d" "$dir/root"
done
release=${kpkg#linux-image-}
cp "$dir/root/boot/vmlinuz-$release" "$dir/vmlinuz"
depmod -b "$dir/root" "$release"
echo "$release" > "$dir/release"
rm -rf "$dir/debs" "$dir/root/boot" "$dir/root/usr/share"
echo "$meta" > "$dir/.complete"
echo "$dir"
