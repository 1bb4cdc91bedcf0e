# The supervisor for integration tests: sourced by lib.sh.
#   rt_daemon_start   start `rt daemon` on $T/root and $T/run, wait for its socket
#   rt_daemon_stop    SIGTERM it and wait; returns its exit status
#   mk_rootfs         a busybox rootfs in $T/rootfs (once)
#   wait_for CMD...   retry CMD for up to 10 s (tenths), true when it passed
#   need_daemon       skip the whole test when this rt has no `daemon` verb

need_daemon() {
	"$RT" --help 2>/dev/null | grep -q '^  daemon ' ||
		skip_all "rt built without the supervisor (no daemon verb)"
}

rt_daemon_start() {
	"$RT" --root "$T/root" --run "$T/run" daemon >"$T/daemon.log" 2>&1 &
	RT_DAEMON_PID=$!
	echo "$RT_DAEMON_PID" > "$T/daemon.pid"
	_i=0
	while [ ! -S "$T/run/rt.sock" ]; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 "$RT_DAEMON_PID" 2>/dev/null; then
			echo "# rt daemon did not start:" >&2
			sed 's/^/#   /' "$T/daemon.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

rt_daemon_stop() {
	[ -n "${RT_DAEMON_PID:-}" ] || return 0
	kill -TERM "$RT_DAEMON_PID" 2>/dev/null
	wait "$RT_DAEMON_PID"
	_st=$?
	RT_DAEMON_PID=
	rm -f "$T/daemon.pid"
	return $_st
}

mk_rootfs() {
	[ -d "$T/rootfs" ] && return 0
	[ -x /bin/busybox ] || return 1
	mk_busybox_rootfs "$T/rootfs"
}

wait_for() {
	_i=0
	while ! "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -ge 100 ] && return 1
		sleep 0.1
	done
	return 0
}
