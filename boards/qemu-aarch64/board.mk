# QEMU "virt" machine with a Cortex-A57: AArch64.
ARCH := aarch64
TRIPLE := aarch64-linux-gnu
BOARD_CFLAGS :=
BOARD_LDFLAGS := -Wl,-z,max-page-size=4096
QEMU_USER := qemu-aarch64-static

# The guest for boot tests and `make demo`: Debian's kernel for this CPU.
GUEST_ARCH := arm64
GUEST_KERNEL := linux-image-arm64
GUEST_MODULES := virtio_mmio virtio_blk crc32c_generic ext4 overlay virtio_net \
	bridge veth nf_tables nft_chain_nat nft_nat nft_masq nft_fib_ipv4 nft_ct
QEMU_SYSTEM := qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512
QEMU_CONSOLE := ttyAMA0
QEMU_DISK := -drive file=$$DISK,if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0
QEMU_DATA_DEV := /dev/vda
PLATFORM := linux/arm64
QEMU_NET := -netdev user,id=n0,$$FWD -device virtio-net-device,netdev=n0
