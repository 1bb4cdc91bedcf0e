# Figures 1 and 2 (sourced by run.sh): start-to-exit of /bin/true in a fresh
# container, once (median of many) and 100 times in sequence; rt through its
# supervisor against crun, runc and lxc-execute on the same busybox rootfs.

# The peers' bundles and the wrapper crun needs on a hybrid-cgroup machine.
peers_prepare() {
	P=$TM/peers
	mkdir -p "$P/lxcpath"
	cp -a "$TM/in/busybox" "$P/bb-lxc"      # lxc-execute mounts its init into it
	for r in crun runc; do
		mkdir -p "$P/$r"
		(cd "$P/$r" && $r spec) || return 1
		$PY - "$P/$r/config.json" "$TM/in/busybox" <<'PY' || return 1
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
c["root"] = {"path": sys.argv[2], "readonly": True}
json.dump(c, open(p, "w"), indent=1)
PY
	done
	cat > "$P/lxc.conf" <<EOF
lxc.uts.name = bench
lxc.rootfs.path = dir:$P/bb-lxc
lxc.net.0.type = empty
lxc.mount.auto = proc:mixed sys:ro
lxc.apparmor.profile = unconfined
EOF
	# crun 1.8 refuses hybrid cgroups (v1 controllers plus a v2 mount):
	# hide the v2 mount in a private mount namespace, once for all runs.
	cat > "$P/nocg2" <<'EOF'
#!/bin/sh
exec unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' nocg2 "$@"
EOF
	cat > "$P/seq.sh" <<'EOF'
#!/bin/sh
# seq.sh N CMD...: CMD N times in sequence, stopping at the first failure.
n=$1
shift
i=0
while [ $i -lt "$n" ]; do
	"$@" >/dev/null || exit 1
	i=$((i + 1))
done
EOF
	chmod +x "$P/nocg2" "$P/seq.sh"
	CRUN="crun run -b $P/crun bench-crun"
	RUNC="runc run -b $P/runc bench-runc"
	LXC="lxc-execute -P $P/lxcpath -n bench-lxc -f $P/lxc.conf -- /bin/true"
}

# rt_daemon ROOT RUN: start `rt daemon` and wait for its socket; sets RTD
# (its pid) and RTC (the client command line for it).
rt_daemon() {
	mkdir -p "$1" "$2"
	"$RT" --root "$1" --run "$2" daemon >>"$B/log/daemon.log" 2>&1 &
	RTD=$!
	at_exit_pid $RTD
	RTC="$RT --root $1 --run $2"
	_i=0
	while [ ! -S "$2/rt.sock" ]; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 $RTD 2>/dev/null; then
			stop_pid $RTD
			return 1
		fi
		sleep 0.1
	done
}

# first_error CMD...: run CMD once; on failure print its last error line.
first_error() {
	if "$@" >"$B/log/try.out" 2>"$B/log/try.err"; then
		return 0
	fi
	_m=$(grep . "$B/log/try.err" | tail -n1 | cut -c1-120)
	echo "${_m:-exit status $?}"
	cat "$B/log/try.err" >> "$B/log/errors.log"
	return 1
}

# start_row LABEL HFNAME RSS RATIO TARGET: a row of figure 1 from hyperfine.
start_row() {
	row "$1" "$(dash "$(ms "$(hf_get "$2" 0 median)")")" \
		"$(dash "$(ms "$(hf_get "$2" 0 min)")")" "$(dash "$(ms "$(hf_get "$2" 0 max)")")" \
		"$(dash "$(kib "$3")")" "$4" "$5"
}

fig_start() {
	log "figure 1: start-to-exit of /bin/true"
	n1=$((RUNS * 3))
	peers_prepare || { log "peer bundles failed"; return 1; }
	RT1_WHY="" RTI_WHY=""
	RTD=""
	if ! has_verb daemon; then
		RT1_WHY="this build has no \`rt daemon\`"
	elif ! rt_daemon "$TM/rt1/root" "$TM/rt1/run"; then
		RT1_WHY="\`rt daemon\` did not start: $(tail -n1 "$B/log/daemon.log" | cut -c1-100)"
	elif _e=$(first_error $RTC run --rm --network none --rootfs "$TM/in/busybox" /bin/true); then
		RT1="$RTC run --rm --network none --rootfs $TM/in/busybox /bin/true"
	else
		RT1_WHY="\`rt run --rootfs\` failed: $_e"
	fi
	# The same from an image in the store (overlay of its layer).
	if [ -n "$RT1_WHY" ]; then
		RTI_WHY="no running \`rt daemon\`"
	elif ! has_verb load; then
		RTI_WHY="this build has no \`rt load\`"
	elif ! _e=$(first_error $RTC load -i "$TM/in/busybox-oci"); then
		RTI_WHY="\`rt load\` of the busybox image failed: $_e"
	elif _e=$(first_error $RTC run --rm --network none bench/busybox:latest /bin/true); then
		RTI="$RTC run --rm --network none bench/busybox:latest /bin/true"
	else
		RTI_WHY="\`rt run IMAGE\` failed: $_e"
	fi

	# Rounds: every command gets a third of its runs in each, so load from
	# elsewhere on the machine falls on all of them alike.
	r=$((n1 / 3))
	for k in 1 2 3; do
		[ -n "$RT1_WHY" ] || hf start-rt.$k -N --runs $r --warmup 1 "$RT1"
		[ -n "$RTI_WHY" ] || hf start-rti.$k -N --runs $r --warmup 1 "$RTI"
		hf_in "$P/nocg2" start-crun.$k -N --runs $r --warmup 1 "$CRUN"
		hf start-runc.$k -N --runs $r --warmup 1 "$RUNC"
		hf start-lxc.$k -N --runs $r --warmup 1 "$LXC"
		hf start-floor.$k -N --runs $((r * 2)) --warmup 2 /bin/true
	done
	for c in rt rti crun runc lxc floor; do
		hf_merge start-$c start-$c.1 start-$c.2 start-$c.3
	done
	if [ -z "$RT1_WHY" ]; then
		put rss.start.rt.client "$(peak_rss $RT1)"
		put rss.start.rt.daemon "$(hwm_of_pid $RTD)"
	fi
	put rss.start.crun "$(peak_rss "$P/nocg2" $CRUN)"
	put rss.start.runc "$(peak_rss $RUNC)"
	put rss.start.lxc "$(peak_rss $LXC)"

	rt=$(hf_get start-rt 0 median)
	rti=$(hf_get start-rti 0 median)
	crun=$(hf_get start-crun 0 median)
	runc=$(hf_get start-runc 0 median)
	lxc=$(hf_get start-lxc 0 median)
	put t.start.rt "$rt"
	put t.start.rti "$rti"
	put t.start.crun "$crun"
	# Issue 5's target is for `rt run --rm IMAGE`; the --rootfs run stands in
	# until images can be run.
	best=${rti:-$rt}
	{
		echo "## 1. Start-to-exit of \`/bin/true\` in a fresh container"
		echo
		echo "Wall time from the command to its exit, median of $n1 runs (hyperfine, in 3 rounds that alternate the commands, 1 warm-up run each), on tmpfs."
		echo "rt runs the container through its supervisor (\`rt run --rm\` talks to \`rt daemon\` over its socket;"
		echo "the daemon forks the container); crun, runc and lxc-execute run the same busybox rootfs"
		echo "read-only with their default namespaces. rt runs with \`--network none\` (a network namespace with only"
		echo "\`lo\`, what crun's and runc's default spec gives; rt's own default is the bridge network)."
		echo "Peak RSS is that of the command (the rt client) and its children."
		echo
		row "" median min max "peak RSS" "rt ÷ this" target
		row --- ---: ---: ---: ---: ---: ---
		if [ -n "$RT1_WHY" ]; then
			row "rt run --rootfs" "$(not_measured "$RT1_WHY")" "" "" "" "" ""
		else
			start_row "rt run --rm --rootfs" start-rt "$(get rss.start.rt.client)" "$(ratio "$best" "$rt")" ""
		fi
		if [ -n "$RTI_WHY" ]; then
			row "rt run IMAGE" "$(not_measured "$RTI_WHY")" "" "" "" "" ""
		else
			start_row "rt run --rm IMAGE" start-rti "" "1.00×" ""
		fi
		start_row "crun run" start-crun "$(get rss.start.crun)" "$(ratio "$best" "$crun")" \
			"rt ≤ 0.5× crun (issue 5): $(check 'a <= 0.5 * b' a="$best" b="$crun")"
		start_row "runc run" start-runc "$(get rss.start.runc)" "$(ratio "$best" "$runc")" ""
		start_row "lxc-execute" start-lxc "$(get rss.start.lxc)" "$(ratio "$best" "$lxc")" ""
		start_row "floor: fork+exec of /bin/true" start-floor "" "$(ratio "$best" "$(hf_get start-floor 0 median)")" ""
		echo
		echo "crun runs in a private mount namespace without the cgroup v2 mount (crun 1.8 refuses this"
		echo "machine's hybrid cgroups); it still creates its cgroup v1 groups. The ratio column uses"
		echo "\`rt run IMAGE\` when this build can run images, else \`rt run --rootfs\`."
	} > "$B/sections/1.md"
	summary "1. start-to-exit of /bin/true" "$(rt_cell "$RT1_WHY" "$(dash "$(ms "$best")")")" "crun $(dash "$(ms "$crun")"), runc $(dash "$(ms "$runc")"), lxc-execute $(dash "$(ms "$lxc")")" \
		"$(ratio "$best" "$crun") of crun" "≤ 0.5× crun: $(check 'a <= 0.5 * b' a="$best" b="$crun")"
}

fig_seq() {
	log "figure 2: $SEQ containers in sequence"
	n=3
	if [ -z "$RT1_WHY" ]; then
		hf seq-rt -N --runs $n "sh $P/seq.sh $SEQ $RT1"
	fi
	hf_in "$P/nocg2" seq-crun -N --runs $n "sh $P/seq.sh $SEQ $CRUN"
	hf seq-runc -N --runs $n "sh $P/seq.sh $SEQ $RUNC"
	hf seq-lxc -N --runs $n "sh $P/seq.sh $SEQ $LXC"
	rt=$(hf_get seq-rt 0 median)
	crun=$(hf_get seq-crun 0 median)
	seqrow() {
		_m=$(hf_get "$2" 0 median)
		row "$1" "$(dash "$(sec "$_m")")" "$(dash "$([ -n "$_m" ] && ms "$(awk -v m="$_m" -v n="$SEQ" 'BEGIN { print m / n }')")")" \
			"$(dash "$(sec "$(hf_get "$2" 0 min)")")" "$(dash "$(sec "$(hf_get "$2" 0 max)")")" "$3"
	}
	{
		echo "## 2. $SEQ containers started and stopped in sequence"
		echo
		echo "$SEQ × (create, start, run \`/bin/true\`, exit, remove), one after the other, as in crun's"
		echo "README figure; median of $n runs of the whole sequence (hyperfine)."
		echo
		row "" "total (median)" "per container" min max "rt ÷ this"
		row --- ---: ---: ---: ---: ---:
		if [ -n "$RT1_WHY" ]; then
			row "rt run --rm --rootfs" "$(not_measured "$RT1_WHY")" "" "" "" ""
		else
			seqrow "rt run --rm --rootfs" seq-rt "1.00×"
		fi
		seqrow "crun run" seq-crun "$(ratio "$rt" "$crun")"
		seqrow "runc run" seq-runc "$(ratio "$rt" "$(hf_get seq-runc 0 median)")"
		seqrow "lxc-execute" seq-lxc "$(ratio "$rt" "$(hf_get seq-lxc 0 median)")"
	} > "$B/sections/2.md"
	summary "2. $SEQ containers in sequence" "$(rt_cell "$RT1_WHY" "$(dash "$(sec "$rt")")")" "crun $(dash "$(sec "$crun")"), runc $(dash "$(sec "$(hf_get seq-runc 0 median)")")" \
		"$(ratio "$rt" "$crun") of crun" "–"
}
