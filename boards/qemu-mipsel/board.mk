# QEMU "malta" machine, little-endian MIPS32r2 (the 24Kf QEMU models).
ARCH := mipsel
TRIPLE := mipsel-linux-gnu
BOARD_CFLAGS := -march=mips32r2
BOARD_LDFLAGS :=
QEMU_USER := qemu-mipsel-static

# The guest for boot tests and `make demo`: Debian's kernel for this CPU.
GUEST_ARCH := mipsel
GUEST_KERNEL := linux-image-4kc-malta
GUEST_MODULES := ata_piix crc32c_generic ext4 overlay pcnet32 \
	bridge veth nf_tables nft_chain_nat nft_nat nft_masq nft_fib_ipv4 nft_ct
QEMU_SYSTEM := qemu-system-mipsel -M malta -m 256 -vga none
QEMU_CONSOLE := ttyS0
QEMU_DISK := -drive file=$$DISK,if=ide,format=raw
QEMU_DATA_DEV := /dev/sda
PLATFORM := linux/mipsle
QEMU_NET := -netdev user,id=n0,$$FWD -device pcnet,netdev=n0,romfile=
