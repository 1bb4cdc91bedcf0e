# QEMU "virt" machine with a Cortex-A15: ARMv7-A, hard float, Thumb-2.
ARCH := armv7
TRIPLE := arm-linux-gnueabihf
BOARD_CFLAGS := -march=armv7-a+fp -mthumb
BOARD_LDFLAGS :=
QEMU_USER := qemu-arm-static
