# Figure 3 (sourced by run.sh): load/unpack of the ~30 MB Debian minbase
# gzip layer on tmpfs. rt load verifies (digests, signature) and unpacks into
# a fresh store; GNU tar and umoci unpack the same layer without verifying;
# `gzip -cd >/dev/null` is the inflate floor.

# unpack_row LABEL HFNAME RSS RATIO TARGET
unpack_row() {
	row "$1" "$(dash "$(sec "$(hf_get "$2" 0 median)")")" \
		"$(dash "$(sec "$(hf_get "$2" 0 min)")")" "$(dash "$(sec "$(hf_get "$2" 0 max)")")" \
		"$(dash "$(kib "$3")")" "$4" ${5+"$5"}
}

fig_unpack() {
	log "figure 3: load/unpack of the minbase layer"
	U=$TM/unpack
	mkdir -p "$U"
	n=${BENCH_RUNS_LONG:-5}
	L=$TM/in/minbase-oci
	LAYER=$TM/in/minbase.tar.gz
	cp "$IN/minbase.tar.gz" "$LAYER"
	RTU="$RT --root $U/rt --run $U/rtrun"
	LOAD_WHY=""
	if ! has_verb load; then
		LOAD_WHY="this build has no \`rt load\`"
	else
		rm -rf "$U/rt"
		_e=$(first_error $RTU load -i "$L") || LOAD_WHY="\`rt load\` failed: $_e"
		rm -rf "$U/rt"
	fi
	# The figures the targets compare, in rounds: one run of each command per
	# round (after one untimed round), so load from elsewhere on the machine
	# falls on all of them alike.
	k=0
	while [ $k -le "$n" ]; do
		[ -n "$LOAD_WHY" ] || hf unpack-rt.$k -N --runs 1 --prepare "rm -rf $U/rt" "$RTU load -i $L"
		hf unpack-tar.$k -N --runs 1 --prepare "sh -c 'rm -rf $U/tar && mkdir $U/tar'" \
			"tar -xzf $LAYER -C $U/tar"
		hf unpack-zcat.$k -N --runs 1 "gzip -cd $LAYER"
		hf unpack-sha.$k -N --runs 1 "sha256sum $LAYER"
		k=$((k + 1))
	done
	for c in rt tar zcat sha; do
		hf_merge unpack-$c $(seq -f "unpack-$c.%g" 1 "$n")
	done
	rm -rf "$U/rt" "$U/tar"
	if [ -z "$LOAD_WHY" ]; then
		put rss.load.rt "$(peak_rss_prep "rm -rf $U/rt" $RTU load -i "$L")"
		hf unpack-rt-archive -N --runs $n --warmup 1 --prepare "rm -rf $U/rt" \
			"$RTU load -i $TM/in/minbase.oci.tar"
		hf unpack-rt-multi -N --runs $n --warmup 1 --prepare "rm -rf $U/rt" \
			"$RTU load -i $TM/in/multi-oci"
		put rss.load.rt.multi "$(peak_rss_prep "rm -rf $U/rt" $RTU load -i "$TM/in/multi-oci")"
		# The base layer already in the store: only the new layers are unpacked.
		hf unpack-rt-shared -N --runs $n --warmup 1 \
			--prepare "sh -c 'rm -rf $U/rt && $RTU load -i $L'" "$RTU load -i $TM/in/multi-oci"
		rm -rf "$U/rt"
	fi
	put rss.load.tar "$(peak_rss_prep "rm -rf $U/tar && mkdir $U/tar" tar -xzf "$LAYER" -C "$U/tar")"
	put rss.load.zcat "$(peak_rss gzip -cd "$LAYER")"
	rm -rf "$U/tar"
	hf unpack-umoci -N --runs $n --warmup 1 --prepare "rm -rf $U/umoci" \
		"umoci unpack --image $L:latest $U/umoci"
	# umoci is the slow one: one run for its RSS, three for the multi-layer row.
	PEAK_RUNS=1
	put rss.load.umoci "$(peak_rss_prep "rm -rf $U/umoci" umoci unpack --image "$L:latest" "$U/umoci")"
	PEAK_RUNS=3
	rm -rf "$U/umoci"
	hf unpack-umoci-multi -N --runs 3 --warmup 0 --prepare "rm -rf $U/umoci" \
		"umoci unpack --image $TM/in/multi-oci:latest $U/umoci"
	rm -rf "$U/umoci"

	rt=$(hf_get unpack-rt 0 median)
	tar=$(hf_get unpack-tar 0 median)
	zcat=$(hf_get unpack-zcat 0 median)
	umoci=$(hf_get unpack-umoci 0 median)
	rss=$(get rss.load.rt)
	put t.load.rt "$rt"
	csize=$(stat -c %s "$LAYER")
	usize=$(gzip -cd "$LAYER" | wc -c)
	nent=$(tar -tzf "$LAYER" | wc -l)
	put size.minbase.gz "$csize"
	put size.minbase.tar "$usize"
	{
		echo "## 3. Load and unpack of a ~30 MB gzip layer"
		echo
		echo "Debian $SUITE minbase (debootstrap), one gzip layer of $(bytes "$csize") ($(bytes "$usize") of tar,"
		echo "$nent entries), made into an OCI layout by umoci; $SIGNED. Median of $n runs"
		echo "(hyperfine; rt, tar, gzip and sha256sum in alternating rounds after an untimed one, the others"
		echo "after 1 warm-up run), input and output on tmpfs, a fresh target each run."
		echo "\`rt load -i LAYOUT\` checks the signature and every digest while it streams and unpacks into"
		echo "a fresh store; tar and umoci unpack the same layer without verifying it."
		echo
		row "" median min max "peak RSS" "rt ÷ this" target
		row --- ---: ---: ---: ---: ---: ---
		if [ -n "$LOAD_WHY" ]; then
			row "rt load -i LAYOUT" "$(not_measured "$LOAD_WHY")" "" "" "" "" \
				"peak RSS < 2 MiB (issue 3): – (not measured)"
		else
			unpack_row "rt load -i LAYOUT" unpack-rt "$rss" "1.00×" \
				"peak RSS < 2 MiB (issue 3): $(check 'r < 2048' r="$rss")"
			unpack_row "rt load -i OCI-ARCHIVE" unpack-rt-archive "" \
				"$(ratio "$(hf_get unpack-rt-archive 0 median)" "$rt")" ""
		fi
		unpack_row "tar -xzf" unpack-tar "$(get rss.load.tar)" "$(ratio "$rt" "$tar")" \
			"rt ≤ tar -xzf (issue 3): $(check 'a <= b' a="$rt" b="$tar")"
		unpack_row "umoci unpack" unpack-umoci "$(get rss.load.umoci)" "$(ratio "$rt" "$umoci")" ""
		unpack_row "floor: gzip -cd >/dev/null" unpack-zcat "$(get rss.load.zcat)" "$(ratio "$rt" "$zcat")" \
			"rt ≤ 1.2× zcat (issue 3): $(check 'a <= 1.2 * b' a="$rt" b="$zcat")"
		unpack_row "sha256sum of the layer" unpack-sha "" "$(ratio "$rt" "$(hf_get unpack-sha 0 median)")" ""
		echo
		echo "The multi-layer image: minbase, then a layer adding files and removing two trees"
		echo "(whiteouts), then a layer replacing a directory and adding 4 MiB; $(nlayers "$IN/multi-oci") layers."
		echo
		row "" median min max "peak RSS" "rt (empty store) ÷ this"
		row --- ---: ---: ---: ---: ---:
		if [ -n "$LOAD_WHY" ]; then
			row "rt load -i LAYOUT" "$(not_measured "$LOAD_WHY")" "" "" "" ""
		else
			unpack_row "rt load, empty store" unpack-rt-multi "$(get rss.load.rt.multi)" "1.00×"
			unpack_row "rt load, base layer already stored" unpack-rt-shared "" \
				"$(ratio "$(hf_get unpack-rt-multi 0 median)" "$(hf_get unpack-rt-shared 0 median)")"
		fi
		unpack_row "umoci unpack" unpack-umoci-multi "" \
			"$(ratio "$(hf_get unpack-rt-multi 0 median)" "$(hf_get unpack-umoci-multi 0 median)")"
	} > "$B/sections/3.md"
	summary "3. load/unpack of the 30 MB layer" "$(rt_cell "$LOAD_WHY" "$(dash "$(sec "$rt")"), $(dash "$(kib "$rss")")")" \
		"tar -xzf $(dash "$(sec "$tar")"), umoci $(dash "$(sec "$umoci")"), zcat $(dash "$(sec "$zcat")")" \
		"$(ratio "$rt" "$tar") of tar, $(ratio "$rt" "$zcat") of zcat" \
		"≤ tar: $(check 'a <= b' a="$rt" b="$tar"); ≤ 1.2× zcat: $(check 'a <= 1.2 * b' a="$rt" b="$zcat"); < 2 MiB: $(check 'r < 2048' r="$rss")"
}
