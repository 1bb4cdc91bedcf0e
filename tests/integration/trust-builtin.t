#!/bin/sh
# Keys compiled into rt (CONFIG_TRUST_KEYS) are trusted with no key file on
# the device; an rt built without them trusts nothing it was not given.
. "$(dirname "$0")/lib.sh"

KRT=$TOP/build/x86_64-keys/rt
KEY=$TOP/build/x86_64-keys/test.key
[ -x "$KRT" ] && [ -f "$KEY" ] || skip_all "no build with compiled-in keys (make test builds one)"
[ -x "$MKIMAGE" ] || skip_all "no mkimage"

mk_busybox_rootfs "$T/rootfs"
"$MKIMAGE" build --layer "$T/rootfs" --cmd '["true"]' --tag app:1 -o "$T/app.oci" >/dev/null
cp -r "$T/app.oci" "$T/other.oci"
"$MKIMAGE" sign --key "$KEY" --version 1 "$T/app.oci" >/dev/null
ok $? "signed with the compiled-in key's private half"
"$MKIMAGE" keygen -o "$T/stranger" >/dev/null
"$MKIMAGE" sign --key "$T/stranger.key" --version 1 "$T/other.oci" >/dev/null

mkdir -p "$T/nokeys"
out=$(RT_KEYS_DIR=$T/nokeys "$KRT" --root "$T/r1" --run "$T/u1" load -i "$T/app.oci" 2>&1)
is "$out" "Loaded image: app:1" "rt with the compiled-in key loads it, no key file on the device"

if "$RT" version | grep -q '+require-signature'; then
	RT_KEYS_DIR=$T/nokeys "$RT" --root "$T/r2" --run "$T/u2" load -i "$T/app.oci" >/dev/null 2>&1
	is $? 1 "rt without compiled-in keys refuses it"
	[ ! -d "$T/r2/layers" ] || [ -z "$(ls -A "$T/r2/layers")" ]
	ok $? "and stores no layer"
else
	skip "this rt does not require signatures"
	skip "this rt does not require signatures"
fi

err=$(RT_KEYS_DIR=$T/nokeys "$KRT" --root "$T/r3" --run "$T/u3" load -i "$T/other.oci" 2>&1)
is $? 1 "an image signed by another key is refused"
like "$err" "rt: load: *no signature by a trusted key*" "with a one-line reason"
done_testing
