#!/bin/sh
# make bench: rt side by side with crun, runc, LXC, tar, umoci and skopeo on
# the same work in one run; writes build/bench/REPORT.md. A report, never a
# pass/fail test: a figure rt cannot give yet (a verb this build lacks) says
# so in its row, found by running the verb.
#
# Environment: RT, MKIMAGE (binaries under test; default: built here from
# the x86_64 defconfig), BENCH_RUNS (short commands: 3× this many runs,
# default 10), BENCH_RUNS_LONG (unpack and pull, default 5), BENCH_NET_RUNS
# and BENCH_NET_SECONDS (iperf3 runs a path and their length, 3 and 5), BENCH_SEQ
# (default 100), BENCH_SKIP (figure numbers to leave out, e.g. "6"),
# BENCH_MIRROR, RT_CACHE.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1

sh tests/bench/setup.sh --quiet || exit 1
# Everything runs in a private mount namespace: the tmpfs and every mount
# made here vanish with it, whatever happens.
if [ -z "${RT_BENCH_NS:-}" ]; then
	RT_BENCH_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi

. tests/bench/lib.sh
. tests/bench/inputs.sh
for f in start unpack pull rss size flash net; do
	. tests/bench/fig-$f.sh
done
. tests/bench/report.sh

START=$(date +%s)
mkdir -p "$B/log" "$B/sections"
rm -rf "$B/log/"* "$B/sections/"* "$B/json"
trap 'bench_cleanup' EXIT
trap 'exit 130' INT TERM HUP

# rt and mkimage from this tree, in a build directory of the bench's own;
# when the tree does not build (work in progress), from its last commit.
SRC=$TOP
if [ -z "${RT_BENCH_PREBUILT:-}" ] && [ "$RT" = "$TOP/build/x86_64/rt" ]; then
	log "building rt and mkimage (x86_64 defconfig) in $B/x86_64"
	rm -f "$B/x86_64/.config"
	if make -s --no-print-directory BOARD=x86_64 O="$B/x86_64" all >"$B/log/build.log" 2>&1; then
		BUILD_NOTE="built from the working tree"
		RT=$B/x86_64/rt
		MKIMAGE=$B/x86_64/mkimage
	else
		log "the working tree does not build (build/bench/log/build.log); building its last commit"
		SRC=$B/head
		# Only the files a new commit changed are replaced: the builds here
		# (and the sizes of figure 6) stay incremental.
		if [ "$(cat "$SRC/.commit" 2>/dev/null)" != "$(git rev-parse HEAD)" ]; then
			rm -rf "$SRC.new"
			mkdir -p "$SRC.new" "$SRC"
			git archive HEAD | tar -x -C "$SRC.new"
			(cd "$SRC.new" && find . -type f) | while read -r f; do
				cmp -s "$SRC.new/$f" "$SRC/$f" && continue
				mkdir -p "$(dirname "$SRC/$f")"
				cp "$SRC.new/$f" "$SRC/$f"
			done
			rm -rf "$SRC.new"
			git rev-parse HEAD > "$SRC/.commit"
		fi
		if make -C "$SRC" -s --no-print-directory BOARD=x86_64 O=build/x86_64 all >>"$B/log/build.log" 2>&1; then
			BUILD_NOTE="built from the last commit (the working tree did not build)"
			RT=$SRC/build/x86_64/rt
			MKIMAGE=$SRC/build/x86_64/mkimage
		else
			BUILD_NOTE="neither the working tree nor its last commit built; using build/x86_64/rt"
			SRC=$TOP
		fi
	fi
else
	BUILD_NOTE="given by RT=$RT"
fi

TM=$B/tmp
mkdir -p "$TM"
mount -t tmpfs -o mode=0700 rt-bench "$TM" || { log "cannot mount a tmpfs"; exit 1; }
at_exit_mount "$TM"
export RT_KEYS_DIR=$TM/in/keys RT_CONFIG_DIR=$TM/rtconf

prepare_inputs || { log "inputs could not be made, see $B/log"; exit 1; }
mkdir -p "$TM/in"
cp -a "$IN/busybox" "$TM/in/busybox"
stage_inputs "$TM/in"

# What a skipped figure leaves to the ones that read it.
RT1_WHY="figure 1 was skipped" RTI_WHY=$RT1_WHY LOAD_WHY="figure 3 was skipped"
PULL_WHY="figure 4 was skipped" REG_OK="" IMG="" SIGNED=${SIGNED:-unsigned}
skip() { case " ${BENCH_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }
# timed FIGURE FUNCTION
timed() {
	_fig_t0=$(date +%s)
	"$2"
	log "figure $1 took $(($(date +%s) - _fig_t0)) s"
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
skip 1 || timed 1 fig_start
skip 2 || skip 1 || timed 2 fig_seq
skip 3 || timed 3 fig_unpack
skip 4 || timed 4 fig_pull
skip 5 || skip 1 || timed 5 fig_rss
skip 6 || timed 6 fig_size
skip 7 || timed 7 fig_flash
skip 8 || timed 8 fig_net
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

write_report
log "done in $(($(date +%s) - START)) s: $B/REPORT.md"
