# Signed images for the integration tests. rt built with REQUIRE_SIGNATURE
# loads only images signed by a key in RT_KEYS_DIR; a test that loads its
# own images sources this after lib.sh and signs them:
#
#	. "$TOP/tests/integration/lib-sign.sh"
#	sign_image "$T/app.tar"                 # every named image in it
#	sign_image "$T/layout" --version 3      # options go to mkimage sign
#	sign_image "$T/layout" --identity app   # images named by a bare tag
#
# OCI layouts and archives can carry signatures; `docker save` archives
# cannot, so with signatures required they never load (rt_requires_sig
# tells a test which case it is in).

RT_TEST_KEY=$T/test-signing.key
if [ ! -f "$RT_TEST_KEY" ]; then
	"$MKIMAGE" keygen -o "$T/test-signing" >/dev/null || skip_all "mkimage keygen failed"
fi
mkdir -p "$T/keys"
cp "$T/test-signing.pub" "$T/keys/test.pub"
export RT_KEYS_DIR="$T/keys"

sign_image() { # PATH [mkimage sign options]
	_p=$1
	shift
	"$MKIMAGE" sign --key "$RT_TEST_KEY" "$@" "$_p" >/dev/null
}

# 0 when this rt refuses unsigned images. (The probe fails on the keys
# directory, before any store is opened.)
rt_requires_sig() {
	case $("$RT" version 2>/dev/null) in
	*+require-signature*)
		RT_KEYS_DIR=/dev/null "$RT" --root "$T/.probe" load --allow-downgrade -i /dev/null 2>&1 |
			grep -q 'trusted keys' ;;
	*) return 1 ;;
	esac
}
