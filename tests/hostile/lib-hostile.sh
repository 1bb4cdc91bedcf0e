# Hostile inputs for `rt load`: each case is built by mkhostile.py, loaded
# by an ASan+UBSan build of rt (the unit build's objects), and checked: a
# one-line error naming the image and the reason, a non-zero exit, nothing
# changed outside the store (canaries), nothing new under a final name in
# the store, tmp/ emptied by the next command. Source after lib.sh.

PY=/usr/bin/python3
MK="$TOP/tests/hostile/mkhostile.py"
CANARY=$T/canary
export CANARY

# An ASan build of rt when the unit objects are there; else the real one.
# The signature glue is reached only through weak symbols, which pull
# nothing out of an archive: ask for it when the real rt has it.
RTA=$RT
trust=
case $("$RT" version 2>/dev/null) in
*+signatures*) trust="-Wl,-u,rt_image_trust_hook -Wl,-u,rt_image_trust_inspect -Wl,-u,rt_trust_load_opts" ;;
esac
if [ -f "$TOP/build/unit/librt.a" ] && command -v gcc >/dev/null; then
	u=${RT_CACHE:-$HOME/.cache/rt}/host
	# shellcheck disable=SC2086
	if gcc -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
		-I"$TOP/build/x86_64" -I"$TOP/rt" -I"$u/include" -o "$T/rt-asan" "$TOP/rt/main.c" \
		$trust "$TOP/build/unit/librt.a" -L"$u/lib" -lbearssl -lz 2>"$T/asan-build.log"; then
		RTA=$T/rt-asan
	fi
fi
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:exitcode=99
rta() { "$RTA" --root "$T/root" --run "$T/run" "$@"; }
# Inputs are signed by a trusted test key, so that with signatures required
# they reach the parsers behind the check.
. "$TOP/tests/integration/lib-sign.sh"
rta images >/dev/null 2>&1     # the empty store exists before the first case
echo "# rt under test: $RTA"

mkdir -p "$CANARY/sub" "$T/in"
echo canary > "$CANARY/file"
echo victim > "$CANARY/victim"
chmod 0600 "$CANARY/file"
cp "$CANARY/file" "$T/canary-above"

# Everything outside the store a broken unpack could touch.
outside() {
	find "$CANARY" "$T/canary-above" -printf '%p %y %m %u %g %s %T@ %n %l\n' | sort
	getfattr -R -d -m - "$CANARY" 2>/dev/null
	stat -c '%n %h %s %Y %a' /etc/passwd /etc/shadow 2>/dev/null
	cat "$CANARY/file" "$CANARY/victim" "$T/canary-above"
}

# Final names in the store (tmp/ is staging, not final).
final_names() {
	(cd "$T/root" 2>/dev/null && ls blobs/sha256 layers 2>/dev/null; cat refs/images 2>/dev/null) | sort
}

# case CASE fail GLOB [ENV...]: the load must fail with GLOB in its message
# case CASE ok [ENV...]: the load must succeed (checks follow in the test)
hcase() {
	c=$1 want=$2
	shift 2
	glob=
	if [ "$want" = fail ]; then
		glob=$1
		shift
	fi
	in=$T/in/$c
	rm -rf "$in"
	if ! $PY "$MK" "$in" "$c" >"$T/mk.log" 2>&1; then
		ok 1 "$c: build the input ($(tail -n 1 "$T/mk.log"))"
		return
	fi
	# What mkimage cannot open (a broken archive or index) stays unsigned:
	# rt must refuse it before the signature check.
	sign_image "$in" 2>/dev/null
	before=$(final_names)
	canary=$(outside)
	start=$(date +%s)
	env "$@" "$RTA" --root "$T/root" --run "$T/run" load -i "$in" >"$T/out" 2>"$T/err"
	rc=$?
	secs=$(($(date +%s) - start))
	err=$(cat "$T/err")
	lines=$(grep -c . "$T/err")
	if [ "$want" = ok ]; then
		[ $rc = 0 ] && [ "$(outside)" = "$canary" ]
		ok $? "$c: loads, nothing outside the store touched$([ $rc = 0 ] || echo " (rc $rc: $err)")"
		return
	fi
	name=hostile:$c
	bad=
	[ $rc = 1 ] || bad="$bad exit $rc;"
	[ "$lines" = 1 ] || bad="$bad $lines lines;"
	case $err in
	"rt: load: "*"$name: "*$glob*) ;;
	# no name to give: the archive or its index is what is broken
	"rt: load: "*$glob*) case $c in archive-*|bad-index|bad-name) ;; *) bad="$bad image not named;" ;; esac ;;
	*) bad="$bad message;" ;;
	esac
	[ "$(final_names)" = "$before" ] || bad="$bad store changed;"
	[ "$(outside)" = "$canary" ] || bad="$bad OUTSIDE CHANGED;"
	[ $secs -le 20 ] || bad="$bad took ${secs}s;"
	rta images >/dev/null 2>&1
	[ -z "$(ls -A "$T/root/tmp" 2>/dev/null)" ] || bad="$bad tmp not emptied;"
	if [ -z "$bad" ]; then
		ok 0 "$c: refused ($(echo "$err" | sed 's/.*hostile:[a-z0-9-]*: //' | cut -c1-110))"
	else
		ok 1 "$c:$bad"
		echo "#   $err" | head -n 5
	fi
}

# lowerdir IMAGE: its top layer's directory
top_layer() {
	rta image inspect "$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["GraphDriver"]["Data"]["LowerDir"].split(":")[0])'
}
