#!/bin/sh
# The demo appliance: a signed busybox httpd image for the board's CPU, its
# app file, and the firmware that boots it with rt as PID 1.
#
#   boards/demo.sh build BOARD    firmware in build/BOARD/demo/fw
#   boards/demo.sh run BOARD      build it, boot it in QEMU, say where the
#                                 page answers (DEMO_PORT, default 8080)
set -eu
cmd=$1 board=$2
cd "$(dirname "$0")/.."
top=$(pwd)
eval "$(make -s BOARD="$board" print-board)"
[ -n "$GUEST_ARCH" ] || { echo "demo: $board is not a QEMU board (qemu-armv7, qemu-mipsel, qemu-aarch64)" >&2; exit 2; }

make -s BOARD="$board" all >/dev/null
make -s BOARD=x86_64 rt >/dev/null
guest=$(sh boards/guest.sh "$GUEST_ARCH" "$GUEST_KERNEL")
mk=$top/build/$board/mkimage
d=$top/build/$board/demo
mkdir -p "$d"

# The image: Debian's busybox-static for this CPU serving one page.
rm -rf "$d/rootfs" "$d/demo.oci"
mkdir -p "$d/rootfs/bin" "$d/rootfs/www" "$d/rootfs/etc" "$d/rootfs/tmp"
cp "$guest/root/bin/busybox" "$d/rootfs/bin/busybox"
for a in $(busybox --list); do [ -e "$d/rootfs/bin/$a" ] || ln -s busybox "$d/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nwww:x:80:80:www:/www:/bin/false\n' > "$d/rootfs/etc/passwd"
printf 'root:x:0:\nwww:x:80:\n' > "$d/rootfs/etc/group"
cat > "$d/rootfs/www/index.html" <<HTML
<!doctype html><title>rt demo</title>
<h1>Hello from $board</h1>
<p>This page is served by busybox httpd in a container that rt runs as PID 1
on an emulated $ARCH board, from a signed, digest-pinned image.</p>
HTML
set -- $(echo "$PLATFORM" | tr / ' ')
variant=${3:+--variant $3}
[ -f "$d/demo.key" ] || "$mk" keygen -o "$d/demo" >/dev/null
# shellcheck disable=SC2086
"$mk" build --layer "$d/rootfs" --os "$1" --arch "$2" $variant --owner 0:0 \
	--cmd '["httpd", "-f", "-v", "-p", "80", "-h", "/www"]' --expose 80 \
	--label org.opencontainers.image.title=rt-demo --tag demo:1 -o "$d/demo.oci" >/dev/null
"$mk" sign --key "$d/demo.key" --version 1 "$d/demo.oci" >/dev/null
cat > "$d/demo.conf" <<CONF
# The demo page: busybox httpd in the container, on the board's bridge
# network, its port 80 published on the board's port 80.
image = demo:1
network = bridge
publish = 80:80
restart = always
CONF
"$mk" flash --board "$board" --guest "$guest" --platform "$PLATFORM" --modules "$GUEST_MODULES" \
	--app "$d/demo.conf" --image "$d/demo.oci" --key "$d/demo.pub" \
	--busybox "$guest/root/bin/busybox" -o "$d/fw" >/dev/null
[ "$cmd" = build ] && { echo "$d/fw"; exit 0; }

port=${DEMO_PORT:-8080}
FWD="hostfwd=tcp:127.0.0.1:$port-:80"
DISK=$d/fw/data.img
eval "net=\"$QEMU_NET\"; disk=\"$QEMU_DISK\""
cat <<MSG

rt demo on $board: booting Debian's $(cat "$guest/release") kernel with rt as PID 1.
  The page:      http://127.0.0.1:$port/  (announced below once it answers)
  At the console (a root shell once the board is up):
                 rt ps          rt logs demo          rt exec -it demo sh
                 poweroff       (stops the app, syncs, unmounts, powers off)
  Quit QEMU:     Ctrl-A then X

MSG
(
	i=0
	while [ $i -lt 300 ]; do
		if wget -q -T 2 -O /dev/null "http://127.0.0.1:$port/" 2>/dev/null ||
		   busybox wget -q -T 2 -O /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
			printf '\r\n==> the demo page answers: http://127.0.0.1:%s/\r\n' "$port"
			exit 0
		fi
		sleep 1
		i=$((i + 1))
	done
) &
# shellcheck disable=SC2086
exec $QEMU_SYSTEM -nographic -no-reboot -kernel "$d/fw/kernel" -initrd "$d/fw/initramfs.cpio.gz" \
	$disk $net -append "console=$QEMU_CONSOLE rdinit=/init panic=-1 quiet"
