#!/bin/sh
# rt version, usage and unknown verbs, on the host build and the minimal one.
. "$(dirname "$0")/lib.sh"

out=$("$RT" version)
like "$out" "rt version [0-9]*.[0-9]*.[0-9]*" "version line"
like "$out" "*board:    x86_64 (x86_64)*" "board line"
like "$out" "*features: *+gzip*" "features line"

"$RT" >/dev/null 2>&1
is $? 2 "no verb: usage, exit 2"
err=$("$RT" frobnicate 2>&1)
is $? 2 "unknown verb exits 2"
is "$err" "rt: 'frobnicate' is not an rt command; see 'rt --help'" "unknown verb message"
"$RT" --help | grep -q '^Usage: rt' ; ok $? "--help prints usage on stdout"

MIN=$TOP/build/x86_64-min/rt
if [ -x "$MIN" ]; then
	out=$("$MIN" version)
	like "$out" "*features: -init -gzip -signatures*" "minimal build has every option off"
	min_size=$(stat -c %s "$MIN")
	full_size=$(stat -c %s "$RT")
	[ "$min_size" -le "$full_size" ]; ok $? "minimal build ($min_size B) is not larger than full ($full_size B)"
else
	skip "no minimal build"
	skip "no minimal build"
fi
done_testing
