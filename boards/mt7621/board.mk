# MediaTek MT7621A routers: dual-core MIPS 1004Kc (MIPS32r2, little endian,
# no FPU: the kernel emulates floating point, and rt uses none).
ARCH := mipsel
TRIPLE := mipsel-linux-gnu
BOARD_CFLAGS := -march=mips32r2 -mtune=1004kc
BOARD_LDFLAGS :=
QEMU_USER := qemu-mipsel-static
