#!/bin/sh
# The foreign boards' rt runs on its own CPU (under qemu-user) and is the
# static, stripped executable the board needs.
. "$(dirname "$0")/lib.sh"

check() {  # check BOARD QEMU FILE-PATTERN
	bin=$TOP/build/$1/rt
	if [ ! -x "$bin" ]; then
		skip "$1: no build"; skip "$1"; skip "$1"
		return
	fi
	like "$(file -b "$bin")" "$3" "$1: $(file -b "$bin" | cut -d, -f1-2)"
	out=$("$2" "$bin" version 2>&1)
	like "$out" "rt version *" "$1: rt version runs under $2"
	like "$out" "*board:    $1 (*" "$1: reports its board"
}

command -v file >/dev/null || skip_all "no file(1)"
check qemu-armv7 qemu-arm-static "ELF 32-bit LSB executable, ARM, EABI5*statically linked*stripped*"
check qemu-mipsel qemu-mipsel-static "ELF 32-bit LSB executable, MIPS, MIPS32 rel2*statically linked*stripped*"
check qemu-aarch64 qemu-aarch64-static "ELF 64-bit LSB executable, ARM aarch64*statically linked*stripped*"
done_testing
