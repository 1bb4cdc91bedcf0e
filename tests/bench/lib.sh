# Shared by the benchmark scripts (sourced by run.sh): paths, timing with
# hyperfine, peak RSS, number formatting, Markdown rows, servers stopped at
# exit. POSIX sh; JSON is read with Debian's python3.

PY=/usr/bin/python3
B=$TOP/build/bench                      # report, logs, hyperfine JSON, inputs
C=${RT_CACHE:-$HOME/.cache/rt}/bench    # slow inputs kept across `make clean`
RT=${RT:-$TOP/build/x86_64/rt}
MKIMAGE=${MKIMAGE:-$TOP/build/x86_64/mkimage}
RUNS=${BENCH_RUNS:-10}                  # timed runs of a short command
SEQ=${BENCH_SEQ:-100}                   # containers in the sequence figure

log() { echo "bench: $*" >&2; }

# --- cleanup at exit: servers, daemons, loop devices, mounts -----------------

_pids="" _loops="" _mounts="" _hooks=""
at_exit_pid() { _pids="$_pids $1"; }
at_exit_run() { _hooks="$_hooks $1"; }   # a function to call at exit
at_exit_loop() { _loops="$_loops $1"; }
at_exit_mount() { _mounts="$1 $_mounts"; }
bench_cleanup() {
	for h in $_hooks; do "$h" >/dev/null 2>&1; done
	for p in $_pids; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	for m in $_mounts; do umount -l "$m" 2>/dev/null; done
	for l in $_loops; do losetup -d "$l" 2>/dev/null; done
	return 0
}
# without LIST ITEM: LIST less ITEM (what was already undone is never
# undone again at exit: a pid or loop device may be someone else's by then).
without() {
	_o=""
	for _x in $1; do [ "$_x" = "$2" ] || _o="$_o $_x"; done
	echo "$_o"
}
# stop_pid PID: stop one server we started and forget it.
stop_pid() {
	kill -TERM "$1" 2>/dev/null && wait "$1" 2>/dev/null
	_pids=$(without "$_pids" "$1")
}
umount_now() { umount "$1"; _mounts=$(without "$_mounts" "$1"); }
detach_loop() { losetup -d "$1"; _loops=$(without "$_loops" "$1"); }

# --- rt's verbs, found by running them ----------------------------------------

# has_verb VERB: this rt knows VERB. Asked by running `rt VERB --help`: an
# unknown verb is refused as such, whatever the verb does with --help (in a
# scratch store, with a time limit, in case it does the real thing).
has_verb() {
	[ -x "$RT" ] || return 1
	_o=$(timeout 5 "$RT" --root "$B/probe/root" --run "$B/probe/run" "$1" --help 2>&1 </dev/null)
	case $_o in
	*"is not an rt command"* | *"unknown command"*) return 1 ;;
	esac
	return 0
}

# --- timing ---------------------------------------------------------------

# hf NAME ARGS...: hyperfine ARGS, results in $B/json/NAME.json.
# hf_in WRAPPER NAME ARGS...: the same with hyperfine run by WRAPPER.
hf() { hf_in "" "$@"; }
hf_in() {
	_w=$1 _name=$2
	shift 2
	mkdir -p "$B/json"
	rm -f "$B/json/$_name.json"
	echo "== $_name: $*" >> "$B/log/hyperfine.log"
	$_w hyperfine --style none --export-json "$B/json/$_name.json" "$@" \
		>>"$B/log/hyperfine.log" 2>&1
}

# hf_merge NAME PARTS...: one result from the runs of several hyperfine
# results of the same command (nothing when a part is missing or failed).
hf_merge() {
	_name=$1
	shift
	rm -f "$B/json/$_name.json"
	(cd "$B/json" && $PY - "$_name.json" "$@" <<'PY'
import json, os, sys
times, codes, cmd = [], [], ""
for part in sys.argv[2:]:
    if not os.path.exists(part + ".json"):
        sys.exit(0)
    r = json.load(open(part + ".json"))["results"][0]
    times += r["times"]
    codes += r.get("exit_codes", [])
    cmd = r["command"]
t = sorted(times)
n = len(t)
med = t[n // 2] if n % 2 else (t[n // 2 - 1] + t[n // 2]) / 2
json.dump({"results": [{"command": cmd, "times": times, "exit_codes": codes, "median": med,
                        "mean": sum(t) / n, "min": t[0], "max": t[-1]}]}, open(sys.argv[1], "w"))
PY
	)
}

# hf_get NAME INDEX FIELD: FIELD (median, min, max, mean) of the INDEXth
# command, in seconds; empty when it is not there.
hf_get() {
	[ -f "$B/json/$1.json" ] || return 0
	$PY - "$B/json/$1.json" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["results"][int(sys.argv[2])]
if all(c == 0 for c in r.get("exit_codes", [0])):
    print("%.9f" % r[sys.argv[3]])
PY
}

# time_runs N FILE CMD...: run CMD N times, wall seconds of each run in FILE
# (for what hyperfine cannot wrap: work that needs state between runs).
time_runs() {
	_n=$1 _f=$2
	shift 2
	: > "$_f"
	_i=0
	while [ $_i -lt "$_n" ]; do
		_t0=$(date +%s.%N)
		"$@" >/dev/null 2>>"$B/log/errors.log" || { rm -f "$_f"; return 1; }
		_t1=$(date +%s.%N)
		echo "$_t0 $_t1" | awk '{ printf "%.9f\n", $2 - $1 }' >> "$_f"
		_i=$((_i + 1))
	done
}

# median FILE: the median of the numbers in FILE, one a line.
median() {
	sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR == 0) exit;
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.9f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
minof() { sort -g "$1" | head -n1; }
maxof() { sort -g "$1" | tail -n1; }

# peak_rss CMD...: peak RSS in KiB (the largest of CMD and the children it
# waited for), median of PEAK_RUNS (3) runs; empty when CMD fails.
# peak_rss_prep PREP CMD...: the same, running the shell command PREP before
# each run (a fresh store, an empty target directory).
peak_rss() { peak_rss_prep "" "$@"; }
peak_rss_prep() {
	_prep=$1
	shift
	_f=$B/log/rss.$$
	: > "$_f.all"
	for _i in $(seq "${PEAK_RUNS:-3}"); do
		[ -z "$_prep" ] || sh -c "$_prep" >/dev/null 2>&1
		if ! /usr/bin/time -f %M -o "$_f" "$@" >/dev/null 2>>"$B/log/errors.log"; then
			rm -f "$_f" "$_f.all"
			return 0
		fi
		tail -n1 "$_f" >> "$_f.all"
	done
	median "$_f.all"
	rm -f "$_f" "$_f.all"
}

# --- formatting -------------------------------------------------------------

ms() { [ -n "$1" ] && awk -v s="$1" 'BEGIN { v = s * 1000; printf (v < 10 ? "%.2f ms" : v < 100 ? "%.1f ms" : "%.0f ms"), v }'; }
sec() { [ -n "$1" ] && awk -v s="$1" 'BEGIN { printf (s < 10 ? "%.2f s" : "%.1f s"), s }'; }
kib() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf (k < 10240 ? "%.0f KiB" : "%.1f MiB"), (k < 10240 ? k : k / 1024) }'; }
bytes() { [ -n "$1" ] && awk -v b="$1" 'BEGIN { if (b < 1048576) printf "%.1f KiB", b / 1024; else printf "%.1f MiB", b / 1048576 }'; }
# ratio A B: A/B as "0.42×", or "–" when either is missing.
ratio() {
	if [ -n "$1" ] && [ -n "$2" ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) { print "–"; exit }
			r = a / b
			# three decimals where two would hide which side of 1 (or of 0.1) it is
			printf ((r < 0.1 || (r != 1 && r > 0.995 && r < 1.005)) ? "%.3f×\n" : "%.2f×\n"), r }'
	else
		echo "–"
	fi
}
# check COND: ✓ or ✗ for an awk condition over the variables given after it.
#   check 'a <= b' a=1 b=2
check() {
	_c=$1
	shift
	_a=""
	for _v in "$@"; do
		case $_v in *=) echo "– (not measured)"; return ;; esac
		_a="$_a -v $_v"
	done
	# shellcheck disable=SC2086
	if awk $_a "BEGIN { exit !($_c) }" </dev/null 2>/dev/null; then echo "✓"; else echo "✗"; fi
}
# A table row from its cells.
row() {
	_r="|"
	for _c in "$@"; do _r="$_r $_c |"; done
	echo "$_r"
}
dash() { [ -n "$1" ] && echo "$1" || echo "–"; }

# Values shared between figures (figure 5 and the summary read them).
put() { printf '%s %s\n' "$1" "$2" >> "$B/sections/values"; }
get() { awk -v k="$1" '$1 == k { v = substr($0, length(k) + 2) } END { print v }' "$B/sections/values" 2>/dev/null; }
# summary FIGURE RT PEERS RATIO TARGET: one row of the report's summary.
summary() { row "$@" >> "$B/sections/summary.md"; }

# not_measured WHY: the cell text for an rt figure this build cannot give.
not_measured() { echo "rt: not measured ($1)"; }
# rt_cell WHY VALUE: VALUE, or "not measured" when there is a WHY.
rt_cell() { [ -n "$1" ] && echo "not measured" || echo "$2"; }

# --- ports and processes -----------------------------------------------------

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_url URL: until it answers (up to 10 s).
wait_url() {
	_i=0
	until curl -sk -o /dev/null "$1"; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.1
	done
}

rss_of_pid() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
hwm_of_pid() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
