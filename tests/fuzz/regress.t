#!/bin/sh
# Every fuzz target replays its seeds and fuzzes a few seconds more: a
# regression test for the parsers, not a search (`make fuzz` searches).
TOP=$(cd "$(dirname "$0")/../.." && pwd)
F=$TOP/build/fuzz
n=0
fail=0
for bin in "$F"/fuzz_*; do
	[ -x "$bin" ] || continue
	t=$(basename "$bin")
	n=$((n + 1))
	mkdir -p "$F/seeds/$t"
	tmp=$(mktemp -d)
	if "$bin" -max_total_time="${FUZZ_REGRESS_SECONDS:-3}" -artifact_prefix="$tmp/" "$tmp" "$F/seeds/$t" \
		> "$tmp/log" 2>&1; then
		echo "ok $n - $t: seeds replayed, $(sed -n 's/^#\([0-9]*\).*DONE.*/\1/p' "$tmp/log" | tail -n 1) runs"
	else
		echo "not ok $n - $t"
		grep -E '^(==|SUMMARY)' "$tmp/log" | head -n 5 | sed 's/^/# /'
		fail=1
	fi
	rm -rf "$tmp"
done
[ $n -gt 0 ] || { echo "1..0 # SKIP no fuzz targets built"; exit 0; }
echo "1..$n"
exit $fail
