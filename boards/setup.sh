#!/bin/sh
# Install the Debian packages that building rt and running its tests need.
# Idempotent and quiet: does nothing when everything is there.
#   boards/setup.sh [--quiet]
set -eu

PKGS="make gcc libc6-dev dpkg-dev xz-utils bzip2 python3 python3-kconfiglib
 gcc-arm-linux-gnueabihf gcc-mipsel-linux-gnu gcc-aarch64-linux-gnu
 qemu-user-static busybox-static openssl perl util-linux attr e2fsprogs cpio
 iproute2 file kmod qemu-system-arm qemu-system-mips cppcheck clang clang-tidy libclang-rt-14-dev
 docker-registry skopeo umoci curl tmux"

quiet=0
[ "${1:-}" = --quiet ] && quiet=1

if [ "$(id -u)" != 0 ]; then
	echo "setup: run as root (it installs Debian packages)" >&2
	exit 1
fi

# BearSSL, zlib and musl are built from Debian's source packages.
src=/etc/apt/sources.list.d/rt-deb-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
   ! grep -qs '^deb-src ' /etc/apt/sources.list; then
	cat > "$src" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	need_update=1
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

if [ -n "$missing" ] || [ -n "${need_update:-}" ]; then
	[ $quiet = 1 ] || echo "setup: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1 || apt-get update -qq
	if [ -n "$missing" ]; then
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >/dev/null
	fi
fi
[ $quiet = 1 ] || echo "setup: all build and test packages are installed" >&2
exit 0
