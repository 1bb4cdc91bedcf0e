# Shared by the integration tests: TAP output, a private mount namespace and a
# temporary store for each test, the binaries under test, test inputs.
# Source it first: . "$(dirname "$0")/lib.sh"

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RT=${RT:-$TOP/build/x86_64/rt}
MKIMAGE=${MKIMAGE:-$TOP/build/x86_64/mkimage}
RT_TESTDATA=${RT_TESTDATA:-$TOP/../shared/testdata}

_n=0
_failed=0

ok() {   # ok STATUS DESCRIPTION: STATUS 0 passes
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		_failed=$((_failed + 1))
	fi
}

is() {   # is GOT WANT DESCRIPTION
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

like() { # like GOT GLOB DESCRIPTION
	case $1 in
	$2) ok 0 "$3" ;;
	*) ok 1 "$3"; printf '#   got:  %s\n#   want: %s\n' "$1" "$2" ;;
	esac
}

skip() { # skip REASON: one skipped test
	_n=$((_n + 1))
	echo "ok $_n # SKIP $1"
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

done_testing() {
	echo "1..$_n"
	[ $_failed = 0 ]
}

# Every test runs as root in its own mount namespace, on a tmpfs that
# vanishes with it, and in its own network namespace (containers default
# to the bridge network: its bridge, veths and NAT rules are the test's):
# nothing it does is seen by the host. The board tests keep the host's
# network (RT_TEST_NET=host): they fetch guest kernels, and QEMU's user
# networking touches no interface of the host.
[ "$(id -u)" = 0 ] || skip_all "integration tests run as root"
[ -x "$RT" ] || skip_all "no $RT (run make)"
if [ -z "${RT_TEST_NS:-}" ]; then
	if [ "${RT_TEST_NET:-}" = host ]; then
		RT_TEST_NS=1 exec unshare -m --propagation private sh "$0" "$@"
	fi
	RT_TEST_NS=1 exec unshare -m -n --propagation private sh "$0" "$@"
fi
[ "${RT_TEST_NET:-}" = host ] || ip link set lo up || skip_all "cannot bring up lo"
T=$(mktemp -d /tmp/rt-test.XXXXXX)
mount -t tmpfs -o mode=0700 rt-test "$T" || skip_all "cannot mount tmpfs"
trap 'cleanup_test' EXIT
cleanup_test() {
	for f in "$T"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	cd / && umount -l "$T" 2>/dev/null; rmdir "$T" 2>/dev/null
	return 0
}
export RT_ROOT_DIR="$T/root" RT_RUN_DIR="$T/run"
rt() { "$RT" --root "$T/root" --run "$T/run" "$@"; }

# A busybox root filesystem in DIR, from Debian's busybox-static.
mk_busybox_rootfs() {
	mkdir -p "$1/bin" "$1/etc" "$1/tmp" "$1/proc" "$1/sys" "$1/dev" "$1/root"
	cp /bin/busybox "$1/bin/busybox"
	for a in $("$1/bin/busybox" --list); do
		[ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$1/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$1/etc/group"
}

[ -f "$TOP/tests/integration/lib-daemon.sh" ] && . "$TOP/tests/integration/lib-daemon.sh"
