# QEMU "virt" machine with a Cortex-A57: AArch64.
ARCH := aarch64
TRIPLE := aarch64-linux-gnu
BOARD_CFLAGS :=
BOARD_LDFLAGS := -Wl,-z,max-page-size=4096
QEMU_USER := qemu-aarch64-static
