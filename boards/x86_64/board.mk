# Host and CI: x86_64 PCs, VMs and x86 gateways.
ARCH := x86_64
TRIPLE := x86_64-linux-gnu
BOARD_CFLAGS :=
BOARD_LDFLAGS :=
QEMU_USER :=
