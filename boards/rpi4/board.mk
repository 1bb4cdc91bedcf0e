# Raspberry Pi 4 (BCM2711, Cortex-A72) running a 64-bit kernel.
ARCH := aarch64
TRIPLE := aarch64-linux-gnu
BOARD_CFLAGS := -mcpu=cortex-a72
BOARD_LDFLAGS := -Wl,-z,max-page-size=4096
QEMU_USER := qemu-aarch64-static
