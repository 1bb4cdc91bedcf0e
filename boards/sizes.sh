#!/bin/sh
# What rt costs: the size of the stripped binary per board with its
# defconfig, the smallest build (everything optional off), and what each
# feature adds on the default board (its defconfig with that one feature
# turned off, against the defconfig). Run by `make sizes`. Feature costs
# are in code and data bytes (the sections that are loaded and stored, not
# the file, whose size moves in page-sized steps with alignment padding).
set -eu
board=${SIZES_BOARD:-qemu-armv7}
out=build/sizes
PY=/usr/bin/python3

build() {  # build BOARD O [SYMBOL=n]: prints the size of O/rt
	mkdir -p "$2"
	KCONFIG_CONFIG=$2/.config BOARD=$1 $PY -m defconfig --kconfig Kconfig "boards/$1/defconfig" >/dev/null
	if [ -n "${3:-}" ]; then
		KCONFIG_CONFIG=$2/.config BOARD=$1 $PY -m setconfig --kconfig Kconfig "$3" >/dev/null
	fi
	make -s BOARD="$1" O="$2" "$2/rt" >/dev/null
	stat -c %s "$2/rt"
}

loaded() {  # loaded FILE: bytes of the allocated sections with contents
	n=0
	for h in $(readelf -SW "$1" | awk '$1 == "[" { $1 = ""; $0 = $0 }
			$1 ~ /]$/ && $3 != "NOBITS" && $8 ~ /A/ { print $6 }'); do
		n=$((n + 0x$h))
	done
	echo $n
}

echo "rt size per board (defconfig, stripped, static):"
printf '  %-14s %9s\n' board bytes
for b in $(ls boards); do
	[ -f "boards/$b/board.mk" ] || continue
	printf '  %-14s %9s\n' "$b" "$(build "$b" "$out/$b")"
done

base=$(loaded "$out/$board/rt")
mkdir -p "$out/$board-allno"
KCONFIG_CONFIG=$out/$board-allno/.config BOARD=$board $PY -m allnoconfig Kconfig >/dev/null
make -s BOARD="$board" O="$out/$board-allno" "$out/$board-allno/rt" >/dev/null
echo
echo "$board: defconfig $(stat -c %s "$out/$board/rt") bytes ($base of code and data);" \
	"everything optional off $(stat -c %s "$out/$board-allno/rt") bytes ($(loaded "$out/$board-allno/rt"))"
echo
echo "cost of each feature on $board (defconfig size minus the size with it off):"
printf '  %-20s %9s\n' feature bytes
syms=$(BOARD=$board $PY - <<'PY'
import kconfiglib
k = kconfiglib.Kconfig("Kconfig", warn=False)
k.load_config("boards/%s/defconfig" % __import__("os").environ["BOARD"], replace=True)
for s in k.unique_defined_syms:
    if s.type == kconfiglib.BOOL and s.nodes[0].prompt and s.str_value == "y":
        print(s.name)
PY
)
for s in $syms; do
	build "$board" "$out/$board-no-$s" "$s=n" >/dev/null
	printf '  %-20s %9d\n' "$s" $((base - $(loaded "$out/$board-no-$s/rt")))
done
