# Figure 5 (sourced by run.sh): peak RSS of the commands of figures 1-4
# (measured there), and the RSS of an idle supervisor with 0, 10 and 100
# running containers: `rt daemon` against LXC's per-container monitor.

# lxc_monitors_rss KEY N: start detached LXC containers running sleep until
# N run, record the summed RSS of their monitor processes.
LXC_N=0
at_exit_run lxc_stop_all
lxc_monitors_rss() {
	_key=$1
	shift
	while [ $LXC_N -lt "$1" ]; do
		LXC_N=$((LXC_N + 1))
		lxc-start -P "$P/lxcidle" -n "idle$LXC_N" -f "$P/lxc.conf" -- /bin/sleep 1000000 \
			>>"$B/log/lxc.log" 2>&1 || return 1
	done
	_sum=0 _i=0
	while [ $_i -lt "$LXC_N" ]; do
		_i=$((_i + 1))
		lxc-wait -P "$P/lxcidle" -n "idle$_i" -s RUNNING -t 5 >/dev/null 2>&1
		_pid=$(lxc-info -P "$P/lxcidle" -n "idle$_i" -pH 2>/dev/null)
		[ -n "$_pid" ] || return 1
		_mon=$(awk '/^PPid/ { print $2 }' "/proc/$_pid/status")
		_sum=$((_sum + $(rss_of_pid "$_mon")))
	done
	put "$_key" $_sum
}
lxc_stop_all() {
	_i=0
	while [ $_i -lt "$LXC_N" ]; do
		_i=$((_i + 1))
		lxc-stop -P "$P/lxcidle" -n "idle$_i" -k >/dev/null 2>&1
	done
	LXC_N=0
}

# rt_idle_rss KEY N: run containers until N are running, record the daemon's RSS.
RT_N=0
rt_rm_all() {
	# shellcheck disable=SC2046
	[ $RT_N = 0 ] || $RTC rm -f $($RTC ps -aq) >/dev/null 2>&1
	RT_N=0
}
at_exit_run rt_rm_all
rt_idle_rss() {
	_key=$1
	shift
	while [ $RT_N -lt "$1" ]; do
		if ! _e=$(first_error $RTC run -d --network none --rootfs "$TM/in/busybox" /bin/sleep 1000000); then
			# What it refused, and its RSS with what it did take.
			sleep 1
			put "$_key.why" "$_e"
			put "$_key.at" "$RT_N"
			put "$_key.rss" "$(rss_of_pid $RTD)"
			return 1
		fi
		RT_N=$((RT_N + 1))
	done
	sleep 1
	[ "$($RTC ps -q | wc -l)" = "$1" ] || return 1
	put "$_key" "$(rss_of_pid $RTD)"
}

fig_rss() {
	log "figure 5: RSS"
	mkdir -p "$P/lxcidle"
	IDLE_WHY=""
	if [ -n "$RT1_WHY" ]; then
		IDLE_WHY=$RT1_WHY
	else
		# A fresh daemon: its RSS is not the high-water mark of figures 1-2.
		stop_pid $RTD
		if rt_daemon "$TM/rt5/root" "$TM/rt5/run"; then
			sleep 1
			put rss.idle.rt.0 "$(rss_of_pid $RTD)"
			rt_idle_rss rss.idle.rt.10 10 && rt_idle_rss rss.idle.rt.100 100
			put rss.idle.rt.hwm "$(hwm_of_pid $RTD)"
			rt_rm_all
			stop_pid $RTD
		else
			IDLE_WHY="\`rt daemon\` did not start"
		fi
	fi
	lxc_monitors_rss rss.idle.lxc.10 10 && lxc_monitors_rss rss.idle.lxc.100 100
	lxc_stop_all

	r10=$(get rss.idle.rt.10)
	{
		echo "## 5. Memory: peak RSS, and the idle supervisor"
		echo
		echo "Peak RSS (\`/usr/bin/time -f %M\`: the largest of the command and the children it waited for),"
		echo "median of 3 runs (1 for umoci unpack), of the commands in figures 1-4:"
		echo
		row "work" "rt" "peers" "target"
		row --- ---: ---: ---
		row "start-to-exit (1)" \
			"$([ -n "$RT1_WHY" ] && not_measured "$RT1_WHY" || echo "client $(dash "$(kib "$(get rss.start.rt.client)")"); daemon high-water $(dash "$(kib "$(get rss.start.rt.daemon)")")")" \
			"crun $(dash "$(kib "$(get rss.start.crun)")"), runc $(dash "$(kib "$(get rss.start.runc)")"), lxc-execute $(dash "$(kib "$(get rss.start.lxc)")")" ""
		row "load/unpack of the 30 MB layer (3)" \
			"$([ -n "$LOAD_WHY" ] && not_measured "$LOAD_WHY" || dash "$(kib "$(get rss.load.rt)")")" \
			"tar -xzf $(dash "$(kib "$(get rss.load.tar)")"), umoci $(dash "$(kib "$(get rss.load.umoci)")"), gzip -cd $(dash "$(kib "$(get rss.load.zcat)")")" \
			"< 2 MiB (issue 3): $(check 'r < 2048' r="$(get rss.load.rt)")"
		row "load of the multi-layer image (3)" \
			"$([ -n "$LOAD_WHY" ] && not_measured "$LOAD_WHY" || dash "$(kib "$(get rss.load.rt.multi)")")" "" ""
		row "pull over TLS (4)" \
			"$([ -n "$PULL_WHY" ] && not_measured "$PULL_WHY" || dash "$(kib "$(get rss.pull.rt)")")" \
			"skopeo copy $(dash "$(kib "$(get rss.pull.skopeo)")") + umoci unpack $(dash "$(kib "$(get rss.load.umoci)")")" \
			"< 2 MiB (issue 7): $(check 'r < 2048' r="$(get rss.pull.rt)")"
		echo
		echo "RSS (VmRSS) of the idle supervisor with N running containers (each runs \`sleep\`), after 1 s"
		echo "at rest. rt: the one \`rt daemon\` process, containers excluded. LXC: the sum of its"
		echo "per-container monitor processes (\`lxc-start\`, detached). crun and runc leave no process"
		echo "besides the container itself (no supervisor: nothing restarts or logs it)."
		echo
		row containers "rt daemon" "LXC monitors (sum)" "rt ÷ LXC" target
		row ---: ---: ---: ---: ---
		for k in 0 10 100; do
			_r=$(get rss.idle.rt.$k)
			_l=$(get rss.idle.lxc.$k)
			[ $k = 0 ] && _l=0
			_t=""
			[ $k = 10 ] && _t="< 1 MiB (issue 6): $(check 'r < 1024' r="$_r")"
			if [ -n "$IDLE_WHY" ]; then
				row $k "$(not_measured "$IDLE_WHY")" "$(dash "$(kib "$_l")")" "–" "$_t"
			elif [ -n "$(get rss.idle.rt.$k.why)" ]; then
				row $k "refused: $(get rss.idle.rt.$k.why); $(dash "$(kib "$(get rss.idle.rt.$k.rss)")") with $(get rss.idle.rt.$k.at)" \
					"$(dash "$(kib "$_l")")" "–" "$_t"
			else
				row $k "$(dash "$(kib "$_r")")" "$(dash "$(kib "$_l")")" "$([ $k = 0 ] && echo – || ratio "$_r" "$_l")" "$_t"
			fi
		done
		[ -n "$IDLE_WHY" ] || echo
		[ -n "$IDLE_WHY" ] || echo "The daemon's high-water mark over the whole run (VmHWM): $(dash "$(kib "$(get rss.idle.rt.hwm)")")."
	} > "$B/sections/5.md"
	summary "5. idle supervisor, 10 containers" "$(rt_cell "$IDLE_WHY" "$(dash "$(kib "$r10")")")" \
		"LXC monitors $(dash "$(kib "$(get rss.idle.lxc.10)")")" "$(ratio "$r10" "$(get rss.idle.lxc.10)")" \
		"< 1 MiB: $(check 'r < 1024' r="$r10")"
}
