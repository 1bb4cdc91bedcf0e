#!/bin/sh
# Install the Debian packages the benchmarks need: the peers (crun, runc,
# LXC, skopeo, umoci, a registry) and the tools that measure and build
# inputs (iperf3 for the network figure). Idempotent and quiet: does nothing when everything is there.
#   tests/bench/setup.sh [--quiet]
set -eu

PKGS="crun runc lxc skopeo umoci docker-registry hyperfine debootstrap busybox-static
 time tar gzip coreutils util-linux e2fsprogs openssl curl python3 iproute2 iperf3"

quiet=0
[ "${1:-}" = --quiet ] && quiet=1

if [ "$(id -u)" != 0 ]; then
	echo "bench: run as root (it installs packages, mounts and runs containers)" >&2
	exit 1
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ $quiet = 1 ] || echo "bench: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1 || apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ $quiet = 1 ] || echo "bench: all packages are installed" >&2
exit 0
