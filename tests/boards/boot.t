#!/bin/sh
# Each QEMU board boots Debian's kernel with rt as PID 1: early mounts,
# kernel modules from /etc/rt/modules, the data partition holding the store,
# hostname, then the supervisor loop. Images dropped in the store's
# incoming/ directory on the disk are loaded at boot when signed by a key
# the board trusts, and refused with a console line when not.
RT_TEST_NET=host
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/boards/lib-guest.sh"
. "$TOP/tests/integration/lib-sign.sh"

mkdir -p "$T/layer/etc" && echo boot > "$T/layer/etc/hello"

for b in qemu-armv7 qemu-mipsel qemu-aarch64; do
	if [ ! -x "$TOP/build/$b/rt" ]; then
		skip "$b: not built"; continue
	fi
	eval "$(make -s -C "$TOP" BOARD=$b print-board)"
	command -v "${QEMU_SYSTEM%% *}" >/dev/null || { skip "$b: no ${QEMU_SYSTEM%% *}"; continue; }
	g=$(sh "$TOP/boards/guest.sh" "$GUEST_ARCH" "$GUEST_KERNEL") || { ok 1 "$b: guest kernel"; continue; }
	GUEST_KEYS=$T/keys guest_initramfs "$b" "$g" "$T/$b.cpio.gz"
	p=${PLATFORM#*/} v=
	case $p in */*) v=${p#*/} p=${p%/*} ;; esac
	mkdir -p "$T/$b.data/incoming"
	"$MKIMAGE" build -o "$T/$b.data/incoming/signed.tar" --archive --layer "$T/layer" \
		--tag boot-signed:1 --arch "$p" ${v:+--variant "$v"} >/dev/null &&
		sign_image "$T/$b.data/incoming/signed.tar" &&
		"$MKIMAGE" build -o "$T/$b.data/incoming/unsigned.tar" --archive --layer "$T/layer" \
			--tag boot-unsigned:1 --arch "$p" ${v:+--variant "$v"} >/dev/null
	ok $? "$b: a signed and an unsigned image on the data disk, in incoming/"
	DISK=$T/$b.disk
	truncate -s 64M "$DISK" && mkfs.ext4 -q -F -d "$T/$b.data" "$DISK"
	eval "disk=\"$QEMU_DISK\""
	# shellcheck disable=SC2086
	guest_boot "$T/$b.log" "incoming/unsigned.tar: refused" 120 $QEMU_SYSTEM -nographic -no-reboot -nic none \
		-kernel "$g/vmlinuz" -initrd "$T/$b.cpio.gz" $disk \
		-append "console=$QEMU_CONSOLE rdinit=/init panic=-1 rt_data=$QEMU_DATA_DEV"
	grep -q "rt: init: ready" "$T/$b.log"
	ok $? "$b: boots with rt as PID 1 ($(cat "$g/release"))"
	grep -q "rt: init: store on $QEMU_DATA_DEV (ext4)" "$T/$b.log"
	ok $? "$b: store on the data partition"
	! grep -q "rt: init: module" "$T/$b.log"
	ok $? "$b: every module in /etc/rt/modules loaded"
	! grep -q "rt: init: supervisor:" "$T/$b.log"
	ok $? "$b: the supervisor loop runs as PID 1"
	grep -q "Loaded image: boot-signed:1" "$T/$b.log"
	ok $? "$b: the signed image in incoming/ is loaded at boot"
	grep -q "rt: reload: incoming/unsigned.tar: refused" "$T/$b.log"
	ok $? "$b: the unsigned one is refused with a console line"
	grep "rt: load: \|incoming/" "$T/$b.log" | sed "s/^/# $b: /"
	if ! grep -q "incoming/unsigned.tar: refused" "$T/$b.log"; then
		tail -n 15 "$T/$b.log" | sed 's/^/# /'
	fi
done
done_testing
