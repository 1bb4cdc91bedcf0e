# QEMU "virt" machine with a Cortex-A15: ARMv7-A, hard float, Thumb-2.
ARCH := armv7
TRIPLE := arm-linux-gnueabihf
BOARD_CFLAGS := -march=armv7-a+fp -mthumb
BOARD_LDFLAGS :=
QEMU_USER := qemu-arm-static

# The guest for boot tests and `make demo`: Debian's kernel for this CPU.
GUEST_ARCH := armhf
GUEST_KERNEL := linux-image-armmp
GUEST_MODULES := virtio_mmio virtio_blk crc32c_generic ext4 overlay virtio_net \
	bridge veth nf_tables nft_chain_nat nft_nat nft_masq nft_fib_ipv4 nft_ct
QEMU_SYSTEM := qemu-system-arm -M virt -cpu cortex-a15 -m 256
QEMU_CONSOLE := ttyAMA0
QEMU_DISK := -drive file=$$DISK,if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0
QEMU_DATA_DEV := /dev/vda
PLATFORM := linux/arm/v7
QEMU_NET := -netdev user,id=n0,$$FWD -device virtio-net-device,netdev=n0
