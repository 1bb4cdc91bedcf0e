#!/bin/sh
# Each QEMU board boots Debian's kernel with rt as PID 1: early mounts,
# kernel modules from /etc/rt/modules, the data partition holding the store,
# hostname, then the supervisor loop.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/boards/lib-guest.sh"

for b in qemu-armv7 qemu-mipsel qemu-aarch64; do
	if [ ! -x "$TOP/build/$b/rt" ]; then
		skip "$b: not built"; continue
	fi
	eval "$(make -s -C "$TOP" BOARD=$b print-board)"
	command -v "${QEMU_SYSTEM%% *}" >/dev/null || { skip "$b: no ${QEMU_SYSTEM%% *}"; continue; }
	g=$(sh "$TOP/boards/guest.sh" "$GUEST_ARCH" "$GUEST_KERNEL") || { ok 1 "$b: guest kernel"; continue; }
	guest_initramfs "$b" "$g" "$T/$b.cpio.gz"
	DISK=$T/$b.disk
	truncate -s 64M "$DISK" && mkfs.ext4 -q -F "$DISK"
	eval "disk=\"$QEMU_DISK\""
	# shellcheck disable=SC2086
	guest_boot "$T/$b.log" "rt: init: ready" 120 $QEMU_SYSTEM -nographic -no-reboot -nic none \
		-kernel "$g/vmlinuz" -initrd "$T/$b.cpio.gz" $disk \
		-append "console=$QEMU_CONSOLE rdinit=/init panic=-1 rt_data=$QEMU_DATA_DEV"
	ok $? "$b: boots with rt as PID 1 ($(cat "$g/release"))"
	grep -q "rt: init: store on $QEMU_DATA_DEV (ext4)" "$T/$b.log"
	ok $? "$b: store on the data partition"
	! grep -q "rt: init: module" "$T/$b.log"
	ok $? "$b: every module in /etc/rt/modules loaded"
	! grep -q "rt: init: supervisor:" "$T/$b.log"
	ok $? "$b: the supervisor loop runs as PID 1"
	if ! grep -q "rt: init: ready" "$T/$b.log"; then
		tail -n 15 "$T/$b.log" | sed 's/^/# /'
	fi
done
done_testing
