#!/bin/sh
# Regenerate the README's performance section (between the bench:begin and
# bench:end markers) from the report `make bench` wrote, so every number in
# the README comes from a run anyone can repeat.
#   tests/bench/readme.sh [REPORT.md]
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
R=${1:-$TOP/build/bench/REPORT.md}
README=$TOP/README.md

[ -f "$R" ] || { echo "readme: no $R (run make bench first)" >&2; exit 1; }
grep -q '^<!-- bench:begin -->$' "$README" && grep -q '^<!-- bench:end -->$' "$README" ||
	{ echo "readme: no bench markers in $README" >&2; exit 1; }
grep -q '<!-- summary:begin -->' "$R" || { echo "readme: $R has no summary" >&2; exit 1; }

made=$(sed -n 's/^Made by `make bench` (tests\/bench\/run.sh) on \([^,]*\),.*/\1/p' "$R")
machine=$(sed -n 's/^| machine | \(.*\) |$/\1/p' "$R")
rtver=$(sed -n 's/^| rt | \(rt version [^;]*\);.*/\1/p' "$R")

new=$(mktemp)
trap 'rm -f "$new"' EXIT
{
	echo "Measured by \`make bench\` on $made with ${rtver:-rt}, on $machine."
	echo "Every figure side by side with the programs people would otherwise use, medians over"
	echo "repeated runs; \`make bench\` writes the full report, one table per figure, to"
	echo "\`build/bench/REPORT.md\`."
	echo
	sed -n '/<!-- summary:begin -->/,/<!-- summary:end -->/p' "$R" | sed '1d;$d'
} > "$new"

awk -v f="$new" '
	/^<!-- bench:begin -->$/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
	/^<!-- bench:end -->$/ { skip = 0 }
	!skip { print }
' "$README" > "$README.new" && mv "$README.new" "$README"
echo "readme: performance section updated from $R"
