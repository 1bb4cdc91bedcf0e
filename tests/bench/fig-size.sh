# Figure 6 (sourced by run.sh): rt's size per board (from `make sizes`, plus
# every feature on and everything optional off per board), against the
# installed peers measured here and dockerd-class figures quoted from
# Debian's package metadata.

# size_build BOARD O KCONFIG-SCRIPT: build O/rt for BOARD from the config
# the kconfiglib script makes (allyesconfig with DEBUG off, or allnoconfig);
# prints its size, or nothing when the build fails.
size_build() {
	mkdir -p "$2"
	(
		cd "$SRC" || exit 1
		KCONFIG_CONFIG=$2/.config BOARD=$1 $PY -m "$3" Kconfig >/dev/null 2>&1 || exit 1
		if [ "$3" = allyesconfig ]; then
			KCONFIG_CONFIG=$2/.config BOARD=$1 $PY -m setconfig --kconfig Kconfig DEBUG=n >/dev/null 2>&1
		fi
		make -j2 -s BOARD="$1" O="$2" "$2/rt" >"$2/build.log" 2>&1
		_rc=$?
		cat "$2/build.log" >> "$B/log/sizes-build.log"
		[ $_rc = 0 ] && stat -c %s "$2/rt"
	)
}
# build_error O: the first error of the last build in O, for the report.
build_error() {
	grep -m1 -E 'error|undefined reference' "$1/build.log" 2>/dev/null | sed "s|$SRC/||g; s|$1/||g" | cut -c1-140
}

# with_libs PROGRAM: the program plus every shared library it loads (libc
# included: rt carries its own).
with_libs() {
	_t=$(stat -L -c %s "$1")
	for _l in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		_t=$((_t + $(stat -L -c %s "$_l")))
	done
	echo $_t
}

# deb_size PKG: Installed-Size of the Debian package, in bytes.
deb_size() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		awk '/^Installed-Size:/ { print $2 * 1024; exit }'
}
deb_version() {
	apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ { print $2; exit }'
}

# The sources rt is built from: sizes are measured again only when they change.
src_fingerprint() {
	(cd "$SRC" && find rt boards Kconfig Makefile -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)
}

# sizes_measure: `make sizes` and a build per board and config; values
# recorded with put and kept in $S for the next run on the same sources.
sizes_measure() {
	rm -f "$S/fp" "$S/values"
	# What `make sizes` runs, with two jobs for each of its builds.
	if (cd "$SRC" && MAKEFLAGS=-j2 sh boards/sizes.sh) >"$S/sizes.txt" 2>&1; then
		echo 1 > "$S/ok"
	else
		: > "$S/ok"
	fi
	for b in $boards; do
		def=$(awk -v b="$b" '$1 == b && $2 ~ /^[0-9]+$/ { print $2 }' "$S/sizes.txt")
		echo "size.rt.$b.def $def"
		for c in all min; do
			[ $c = all ] && k=allyesconfig || k=allnoconfig
			v=$(size_build "$b" "$S/$b-$c" $k)
			echo "size.rt.$b.$c $v"
			[ -n "$v" ] || echo "size.rt.$b.$c.why $(build_error "$S/$b-$c")"
		done
	done > "$S/values.new"
	mv "$S/values.new" "$S/values"
	src_fingerprint > "$S/fp"
}

fig_size() {
	# Apart per source tree: objects built from one are never taken as up
	# to date for the other.
	if [ "$SRC" = "$TOP" ]; then S=$B/sizes/tree; else S=$B/sizes/head; fi
	mkdir -p "$S"
	boards=""
	for f in "$SRC"/boards/*/board.mk; do
		[ -f "$f" ] && boards="$boards $(basename "$(dirname "$f")")"
	done
	if [ -f "$S/values" ] && [ "$(cat "$S/fp" 2>/dev/null)" = "$(src_fingerprint)" ]; then
		log "figure 6: binary sizes (sources unchanged since $(date -r "$S/fp" '+%F %R'): kept)"
		SIZES_NOTE="Sources unchanged since the run of $(date -u -r "$S/fp" '+%F %R UTC'): its sizes are kept."
	else
		log "figure 6: binary sizes (make sizes and a build per board; minutes the first time)"
		sizes_measure
		SIZES_NOTE=""
	fi
	cat "$S/values" >> "$B/sections/values"
	cp "$S/sizes.txt" "$B/log/sizes.txt"
	SIZES_OK=$(cat "$S/ok")
	{
		echo "## 6. Binary size"
		echo
		echo "rt: static, stripped, musl; per board with its defconfig (from \`make sizes\`, i.e. boards/sizes.sh), with every"
		echo "Kconfig feature on (allyesconfig, DEBUG off) and with everything optional off (allnoconfig)."
		[ -z "$SIZES_NOTE" ] || echo "$SIZES_NOTE"
		if [ -z "$SIZES_OK" ]; then
			echo "\`make sizes\` stopped with an error in this tree (build/bench/log/sizes.txt): what it printed"
			echo "before is used, the rest shows –. Its first error: \`$(grep -m1 -E 'error|undefined reference' "$S/sizes.txt" | cut -c1-140)\`"
		fi
		echo
		row board arch defconfig "all features" minimal target
		row --- --- ---: ---: ---: ---
		fails=""
		for b in $boards; do
			arch=$(awk '$1 == "ARCH" { print $3 }' "$SRC/boards/$b/board.mk")
			all=$(get size.rt.$b.all)
			t=""
			if [ "$b" = qemu-armv7 ]; then
				if [ -n "$all" ] || [ -z "$(get size.rt.$b.def)" ]; then
					t="all features < 256 KiB (issue 2): $(check 's < 262144' s="$all")"
				else
					t="< 256 KiB (issue 2), on the defconfig as all features do not build: $(check 's < 262144' s="$(get size.rt.$b.def)")"
				fi
			fi
			cells=""
			for c in all min; do
				v=$(get size.rt.$b.$c)
				if [ -z "$v" ] && [ -n "$(get size.rt.$b.$c.why)" ]; then
					fails="$fails$b $c: $(get size.rt.$b.$c.why)
"
				fi
			done
			row "$b" "$arch" "$(dash "$(bytes "$(get size.rt.$b.def)")")" \
				"$([ -n "$all" ] && bytes "$all" || { [ -n "$(get size.rt.$b.all.why)" ] && echo "build fails" || echo –; })" \
				"$(dash "$(bytes "$(get size.rt.$b.min)")")" "$t"
		done
		if [ -n "$fails" ]; then
			echo
			echo "Builds that fail in this tree (first error):"
			echo
			printf '%s' "$fails" | sed 's/^/- /'
		fi
		echo
		x=$(get size.rt.x86_64.all)
		xw="every feature"
		[ -n "$x" ] || { x=$(get size.rt.x86_64.def); xw="its defconfig"; }
		echo "Against the programs people would otherwise use, x86_64 (rt with $xw: $(dash "$(bytes "$x")"));"
		echo "\"with libraries\" adds every shared library the program loads (libc included, as rt carries its own):"
		echo
		row program "what it is" size "with libraries" "rt ÷ this" source
		row --- --- ---: ---: ---: ---
		for p in /usr/bin/crun /usr/sbin/runc /usr/bin/lxc-execute /bin/busybox /usr/bin/skopeo /usr/bin/umoci; do
			[ -x "$p" ] || continue
			case ${p##*/} in
			crun) what="OCI runtime (C)" ;;
			runc) what="OCI runtime (Go)" ;;
			lxc-execute) what="LXC application containers" ;;
			busybox) what="static toolbox, every applet" ;;
			skopeo) what="image copy (pull)" ;;
			umoci) what="image unpack" ;;
			esac
			sz=$(stat -L -c %s "$p")
			wl=$(with_libs "$p")
			if [ "${p##*/}" = lxc-execute ]; then
				# lxc-execute also bind-mounts its static init into the container.
				[ -f /usr/sbin/init.lxc.static ] && wl=$((wl + $(stat -c %s /usr/sbin/init.lxc.static)))
				what="$what (+ liblxc, init.lxc.static)"
			fi
			row "${p##*/}" "$what" "$(bytes "$sz")" "$(bytes "$wl")" "$(ratio "$x" "$wl")" "measured here ($p)"
		done
		for pkg in docker.io containerd; do
			s=$(deb_size $pkg)
			[ -n "$s" ] || continue
			row "$pkg $(deb_version $pkg)" "$([ $pkg = docker.io ] && echo "dockerd + docker CLI" || echo "containerd + shims")" \
				"$(bytes "$s") installed" "–" "$(ratio "$x" "$s")" "Debian $SUITE package Installed-Size (\`apt-cache show $pkg\`)"
		done
		echo
		echo "<details><summary>make sizes</summary>"
		echo
		echo '```'
		# Its own lines, without the compiler's.
		grep -E '^(rt size|cost of|[a-z0-9_-]+: defconfig|  (board|feature) +bytes$|  [A-Za-z0-9_-]+ +[0-9]*$|$)' "$S/sizes.txt"
		echo '```'
		echo
		echo "</details>"
	} > "$B/sections/6.md"
	a=$(get size.rt.qemu-armv7.all)
	aw="all features"
	[ -n "$a" ] || { a=$(get size.rt.qemu-armv7.def); aw="defconfig"; }
	summary "6. binary size (armv7, $aw)" "$(dash "$(bytes "$a")")" \
		"crun $(bytes "$(with_libs /usr/bin/crun)"), runc $(bytes "$(stat -c %s /usr/sbin/runc)"), docker.io $(bytes "$(deb_size docker.io)") (x86_64)" \
		"–" "< 256 KiB: $(check 's < 262144' s="$a")"
}
