# Boot a QEMU board with rt as PID 1. Sourced after tests/integration/lib.sh.

# guest_modules GUESTDIR NAMES...: module files in load order (dependencies
# first), relative to /lib/modules/<release>/.
guest_modules() {
	g=$1; shift
	dep=$g/root/lib/modules/$(cat "$g/release")/modules.dep
	for m in "$@"; do
		line=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$dep" | head -n 1)
		[ -n "$line" ] || continue   # built into this kernel
		# modules.dep lists what a module needs nearest first.
		for d in $(echo "${line#*:}" | tr ' ' '\n' | sed '/^$/d' | tac); do echo "$d"; done
		echo "${line%%:*}"
	done | awk '!seen[$0]++'
}

# guest_initramfs BOARD GUESTDIR OUT: an initramfs with rt as /init, the
# board's modules listed in /etc/rt/modules, an empty /etc/rt/apps, and the
# public keys in $GUEST_KEYS (a directory, when set) in /etc/rt/keys.
guest_initramfs() {
	b=$1 g=$2 out=$3
	r=$(cat "$g/release")
	root=$(mktemp -d "$T/initramfs.XXXXXX")
	mkdir -p "$root/dev" "$root/proc" "$root/sys" "$root/etc/rt/apps" "$root/lib/modules/$r" "$root/sbin"
	if [ -n "${GUEST_KEYS:-}" ]; then
		mkdir -p "$root/etc/rt/keys" && cp "$GUEST_KEYS"/*.pub "$root/etc/rt/keys/"
	fi
	mknod -m 600 "$root/dev/console" c 5 1
	cp "$TOP/build/$b/rt" "$root/sbin/init"
	ln -s sbin/init "$root/init"
	guest_modules "$g" $GUEST_MODULES > "$root/etc/rt/modules"
	while read -r m; do
		mkdir -p "$root/lib/modules/$r/$(dirname "$m")"
		cp "$g/root/lib/modules/$r/$m" "$root/lib/modules/$r/$m"
	done < "$root/etc/rt/modules"
	echo "$b" > "$root/etc/hostname"
	(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
}

# guest_boot LOG MARKER SECONDS ARGS...: run QEMU until MARKER shows on the
# console or SECONDS pass; QEMU exits 0 even on a kernel panic, so only the
# marker counts. Returns 0 when it was seen.
guest_boot() {
	log=$1 marker=$2 secs=$3; shift 3
	: > "$log"
	"$@" > "$log" 2>&1 &
	qpid=$!
	echo $qpid > "$T/qemu.pid"
	i=0
	while [ $i -lt $((secs * 5)) ]; do
		if grep -q "$marker" "$log"; then
			sleep 1   # what follows the marker at once is read too
			kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
			return 0
		fi
		kill -0 $qpid 2>/dev/null || break
		sleep 0.2
		i=$((i + 1))
	done
	kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
	return 1
}

# guest_start N: boot the firmware in $fw (kernel, initramfs.cpio.gz) with
# the data disk $T/$b.data.img and the host's 127.0.0.1:$port forwarded to
# the board's port 80. The console's output goes to $log
# ($T/$b.bootN.log), its input is fd 3; QEMU's pid is $qpid.
guest_start() {
	log=$T/$b.boot$1.log
	rm -f "$T/in"
	mkfifo "$T/in"
	: > "$log"
	FWD="hostfwd=tcp:127.0.0.1:$port-:80"
	DISK=$T/$b.data.img
	eval "net=\"$QEMU_NET\"; disk=\"$QEMU_DISK\""
	# shellcheck disable=SC2086
	$QEMU_SYSTEM -nographic -no-reboot -kernel "$fw/kernel" -initrd "$fw/initramfs.cpio.gz" \
		$disk $net -append "console=$QEMU_CONSOLE rdinit=/init panic=-1" < "$T/in" > "$log" 2>&1 &
	qpid=$!
	echo $qpid > "$T/qemu.pid"
	exec 3> "$T/in"
}

# guest_wait PATTERN SECS: PATTERN shows in $log within SECS.
guest_wait() {
	_i=0
	while [ $_i -lt $(($2 * 5)) ]; do
		grep -aq "$1" "$log" && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}
