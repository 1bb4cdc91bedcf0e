# Shared by the runtime hostile tests (tests/hostile/runtime-*.t); source
# it after ../integration/lib.sh:
#   hostile_start        rt daemon up on $T, busybox rootfs in $T/rootfs,
#                        canaries laid out; skips the test when impossible
#   mk_image NAME        a copy of $T/rootfs at $T/img/NAME, printed
#   build_attack         tests/hostile/attack.c, static, into $T/attack
#   refused OUT RC GLOB DESC
#                        the run failed before the command ran: exit 125
#                        and a single line "rt: run: ..." matching GLOB
#   hostile_check        the canaries, rt's binary and the daemon are as
#                        they were; the daemon stopped
#   hostile_end          hostile_check, then done_testing
#   todo ST DESC REASON  a known gap: "not ok ... # TODO REASON" (no '#'
#                        in DESC)
#
# Canaries live outside every image but inside the test's tmpfs: a file
# ($CANARY_FILE), an empty directory ($CANARY_DIR), and their checksums.
# Images point symlinks at them; nothing may read through, write, create
# or mount anything there.

CANARY=$T/canary
CANARY_FILE=$CANARY/secret
CANARY_DIR=$CANARY/dir

canary_sum() {
	{
		find "$CANARY" -print0 | sort -z | xargs -0 stat -c '%n %F %s %a %u %g %Y'
		sha256sum "$CANARY_FILE" "$RT"
		grep -c " $CANARY" /proc/self/mountinfo
	} 2>&1
}

hostile_start() {
	need_daemon
	mk_rootfs || skip_all "no /bin/busybox (apt-get install busybox-static)"
	mkdir -p "$CANARY_DIR" "$T/img"
	printf 'root:$6$canary$notarealhash:19000:0:99999:7:::\n' > "$CANARY_FILE"
	chmod 600 "$CANARY_FILE"
	canary_sum > "$T/canary.before"
	rt_daemon_start || skip_all "rt daemon does not start"
}

mk_image() {
	rm -rf "$T/img/$1"
	cp -a "$T/rootfs" "$T/img/$1"
	echo "$T/img/$1"
}

build_attack() {
	[ -x "$T/attack" ] && return 0
	gcc -static -O2 -std=gnu11 -o "$T/attack" "$TOP/tests/hostile/attack.c" 2>"$T/attack.log"
}

refused() { # refused OUT RC GLOB DESC
	if [ "$2" = 125 ] && [ "$(printf '%s\n' "$1" | wc -l)" = 1 ]; then
		like "$1" "rt: run: $3" "$4"
	else
		ok 1 "$4"
		printf '#   exit %s, output:\n' "$2"
		printf '%s\n' "$1" | sed 's/^/#     /'
	fi
}

hostile_check() {
	kill -0 "$RT_DAEMON_PID" 2>/dev/null && rt ps -a >/dev/null 2>&1
	ok $? "the daemon is alive and answers"
	canary_sum > "$T/canary.after"
	if cmp -s "$T/canary.before" "$T/canary.after"; then
		ok 0 "canaries and rt's binary unchanged, nothing mounted over them"
	else
		ok 1 "canaries and rt's binary unchanged, nothing mounted over them"
		diff "$T/canary.before" "$T/canary.after" | sed 's/^/#   /'
	fi
	rt_daemon_stop
	ok $? "the daemon exits 0"
}

hostile_end() {
	hostile_check
	done_testing
}

todo() { # todo STATUS DESCRIPTION REASON: a known gap, reported, not failed
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2 # TODO $3"
	else
		echo "not ok $_n - $2 # TODO $3"
	fi
}
