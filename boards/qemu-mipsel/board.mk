# QEMU "malta" machine, little-endian MIPS32r2 (the 24Kf QEMU models).
ARCH := mipsel
TRIPLE := mipsel-linux-gnu
BOARD_CFLAGS := -march=mips32r2
BOARD_LDFLAGS :=
QEMU_USER := qemu-mipsel-static
