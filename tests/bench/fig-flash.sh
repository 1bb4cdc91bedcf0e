# Figure 7 (sourced by run.sh): bytes written to flash by getting an image
# and running it, each way on a fresh ext4 on a loop device (its image file on
# tmpfs), read from the block layer: sectors written in /sys/block/loopN/stat
# between mount and unmount, × 512. The image's own size is the lower bound.

written() { awk '{ print $7 }' "/sys/block/${1#/dev/}/stat"; }

# flash_begin NAME: a fresh ext4 mounted at $MNT; sets LOOP and W0.
flash_begin() {
	_img=$TM/flash/$1.img
	MNT=$TM/flash/$1
	mkdir -p "$MNT"
	truncate -s 1G "$_img"
	# No lazy init: ext4lazyinit would write inode tables after mount.
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$_img" >/dev/null 2>&1 || return 1
	LOOP=$(losetup -f --show "$_img") || return 1
	at_exit_loop "$LOOP"
	mount -o noatime "$LOOP" "$MNT" || return 1
	at_exit_mount "$MNT"
	W0=$(written "$LOOP")
}
# flash_end KEY: unmount, record the bytes written since flash_begin.
flash_end() {
	sync -f "$MNT"
	umount_now "$MNT"
	_w1=$(written "$LOOP")
	detach_loop "$LOOP"
	rm -f "$TM/flash/$(basename "$MNT").img"
	put "$1" $(((_w1 - W0) * 512))
}

# flash_rt KEY NAME GET...: on a fresh ext4, `rt GET...` into a store there,
# then `rt run --rm IMAGE /bin/true` through a daemon whose store is there
# too. Sets FLASH_RUN to what the run did; records nothing when GET fails.
flash_rt() {
	_k=$1 _n=$2
	shift 2
	flash_begin "$_n" || return 1
	_rt="$RT --root $MNT/rt --run $TM/flash/$_n-run"
	if ! $_rt "$@" >/dev/null 2>>"$B/log/errors.log"; then
		flash_end "$_k.failed"
		return 1
	fi
	FLASH_RUN="not run: this build has no \`rt daemon\`"
	if has_verb daemon && rt_daemon "$MNT/rt" "$TM/flash/$_n-run"; then
		if $RTC run --rm --network none "$FLASH_IMG" /bin/true >/dev/null 2>>"$B/log/errors.log"; then
			FLASH_RUN="and \`rt run --rm IMAGE /bin/true\`"
		else
			FLASH_RUN="\`rt run IMAGE\` failed: not run"
		fi
		stop_pid $RTD
	fi
	flash_end "$_k"
}

fig_flash() {
	log "figure 7: bytes written to flash"
	mkdir -p "$TM/flash"
	FLASH_IMG=bench/minbase:latest
	flash_begin empty && flash_end flash.empty
	LOADF_WHY="" PULLF_WHY="" RUNF_LOAD="" RUNF_PULL=""
	if [ -n "$LOAD_WHY" ]; then
		LOADF_WHY=$LOAD_WHY
	elif flash_rt flash.rt.load rtload load -i "$TM/in/minbase-oci"; then
		RUNF_LOAD=$FLASH_RUN
	else
		LOADF_WHY="\`rt load\` onto ext4 failed"
	fi
	if [ -n "$PULL_WHY" ]; then
		PULLF_WHY=$PULL_WHY
	else
		FLASH_IMG=$IMG
		if flash_rt flash.rt.pull rtpull pull -q "$IMG"; then
			RUNF_PULL=$FLASH_RUN
		else
			PULLF_WHY="\`rt pull\` onto ext4 failed"
		fi
	fi
	# The peers: skopeo (from the registry when it runs) + umoci unpack.
	if flash_begin peer; then
		if [ -n "$REG_OK" ]; then
			src="docker://$IMG"
		else
			src="oci:$TM/in/minbase-oci:latest"
		fi
		skopeo copy -q --src-cert-dir "$IN/tls/certs.d" "$src" "oci:$MNT/oci:latest" >/dev/null 2>>"$B/log/errors.log" &&
			umoci unpack --image "$MNT/oci:latest" "$MNT/bundle" >/dev/null 2>>"$B/log/errors.log"
		flash_end flash.peer
	fi
	if flash_begin tar; then
		mkdir "$MNT/rootfs" && tar -xzf "$TM/in/minbase.tar.gz" -C "$MNT/rootfs"
		flash_end flash.tar
	fi

	cs=$(get size.minbase.gz)
	us=$(get size.minbase.tar)
	e=$(get flash.empty)
	# net NAME: bytes written minus what mounting and unmounting alone write.
	net() { _v=$(get "$1"); [ -n "$_v" ] && echo $((_v - ${e:-0})); }
	frow() {
		_v=$(net "$2")
		row "$1" "$(dash "$(bytes "$_v")")" "$(ratio "$_v" "$cs")" "$(ratio "$_v" "$us")" "$3"
	}
	{
		echo "## 7. Bytes written to flash"
		echo
		echo "The minbase image of figure 3, got and run on a fresh 1 GiB ext4 (loop device, default"
		echo "mkfs.ext4 options without lazy init, mounted noatime): sectors written to the device between"
		echo "mount and unmount (\`/sys/block/loopN/stat\`) × 512, less the $(dash "$(bytes "$e")") that mounting and"
		echo "unmounting an empty file system write. The containers' writable layers are on tmpfs."
		echo
		row "" "bytes written" "÷ compressed image" "÷ uncompressed image" ""
		row --- ---: ---: ---: ---
		if [ -n "$LOADF_WHY" ]; then
			row "rt load -i LAYOUT + run" "$(not_measured "$LOADF_WHY")" "" "" ""
		else
			frow "rt load -i LAYOUT" flash.rt.load "$RUNF_LOAD"
		fi
		if [ -n "$PULLF_WHY" ]; then
			row "rt pull + run" "$(not_measured "$PULLF_WHY")" "" "" ""
		else
			frow "rt pull" flash.rt.pull "$RUNF_PULL"
		fi
		frow "skopeo copy + umoci unpack" flash.peer "blobs kept in an OCI layout, plus the unpacked bundle"
		frow "tar -xzf of the layer" flash.tar "the files alone: no store, no verification"
		row "image, compressed" "$(bytes "$cs")" "1.00×" "$(ratio "$cs" "$us")" "the layer as pulled"
		row "image, uncompressed" "$(bytes "$us")" "$(ratio "$us" "$cs")" "1.00×" "the layer's tar stream"
	} > "$B/sections/7.md"
	best=$(net flash.rt.pull)
	[ -n "$best" ] || best=$(net flash.rt.load)
	summary "7. flash bytes written (get + run)" "$(dash "$(bytes "$best")")" \
		"skopeo + umoci $(dash "$(bytes "$(net flash.peer)")"); image $(bytes "$cs") / $(bytes "$us")" \
		"$(ratio "$best" "$us") of the uncompressed image" "–"
}
