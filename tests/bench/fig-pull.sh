# Figure 4 (sourced by run.sh): pull of the minbase image over TLS from a
# registry on 127.0.0.1 (distribution 2.8, certificate from a local CA):
# rt pull (download + verify + unpack into a fresh store) against skopeo copy
# to an OCI layout followed by umoci unpack.

# registry_start: the registry on a free loopback port; sets REGHOST.
registry_start() {
	REG=$TM/registry
	mkdir -p "$REG/data"
	REGPORT=$(free_port)
	REGHOST=127.0.0.1:$REGPORT
	cat > "$REG/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG/data
  delete:
    enabled: true
http:
  addr: $REGHOST
  tls:
    certificate: $IN/tls/server.pem
    key: $IN/tls/server.key
EOF
	docker-registry serve "$REG/config.yml" >"$B/log/registry.log" 2>&1 &
	REGPID=$!
	at_exit_pid $REGPID
	wait_url "https://$REGHOST/v2/" || { log "the registry did not start, see $B/log/registry.log"; return 1; }
	# rt reads per-registry CAs from registries.conf in its config directory.
	mkdir -p "$RT_CONFIG_DIR"
	echo "ca $REGHOST $IN/tls/ca.pem" > "$RT_CONFIG_DIR/registries.conf"
}

# registry_push LAYOUT REPO: push the image tagged latest and its signature.
registry_push() {
	_s="skopeo copy -q --preserve-digests --dest-cert-dir $IN/tls/certs.d"
	$_s "oci:$1:latest" "docker://$REGHOST/$2:latest" >>"$B/log/skopeo.log" 2>&1 || return 1
	_t=$(sig_tag "$1")
	[ -z "$_t" ] || $_s "oci:$1:$_t" "docker://$REGHOST/$2:$_t" >>"$B/log/skopeo.log" 2>&1
}

fig_pull() {
	log "figure 4: pull over TLS from the loopback registry"
	PL=$TM/pull
	mkdir -p "$PL"
	n=${BENCH_RUNS_LONG:-5}
	PULL_WHY=""
	REG_OK=""
	if registry_start; then
		# Signed for the name it is pulled by.
		cp -a "$IN/minbase-oci" "$TM/in/minbase-reg-oci"
		sign_layout "$TM/in/minbase-reg-oci" "$REGHOST/bench/minbase"
		if registry_push "$TM/in/minbase-reg-oci" bench/minbase; then
			REG_OK=1
		else
			log "push to the registry failed, see $B/log/skopeo.log"
		fi
	fi
	IMG=$REGHOST/bench/minbase:latest
	RTP="$RT --root $PL/rt --run $PL/rtrun"
	if [ -z "$REG_OK" ]; then
		PULL_WHY="the loopback registry did not start or take the image"
	elif ! has_verb pull; then
		PULL_WHY="this build has no \`rt pull\`"
	elif ! _e=$(first_error $RTP pull -q "$IMG"); then
		PULL_WHY="\`rt pull\` failed: $_e"
	fi
	rm -rf "$PL/rt"
	if [ -n "$REG_OK" ]; then
		cat > "$PL/peer.sh" <<EOF
#!/bin/sh
set -e
skopeo copy -q --src-cert-dir $IN/tls/certs.d docker://$IMG oci:$PL/oci:latest
umoci unpack --image $PL/oci:latest $PL/bundle >/dev/null
EOF
		# rt and its target peer in alternating rounds after an untimed one.
		k=0
		while [ $k -le "$n" ]; do
			[ -n "$PULL_WHY" ] || hf pull-rt.$k -N --runs 1 --prepare "rm -rf $PL/rt" "$RTP pull -q $IMG"
			hf pull-peer.$k -N --runs 1 --prepare "rm -rf $PL/oci $PL/bundle" "sh $PL/peer.sh"
			k=$((k + 1))
		done
		hf_merge pull-rt $(seq -f "pull-rt.%g" 1 "$n")
		hf_merge pull-peer $(seq -f "pull-peer.%g" 1 "$n")
		[ -n "$PULL_WHY" ] || put rss.pull.rt "$(peak_rss_prep "rm -rf $PL/rt" $RTP pull -q "$IMG")"
		rm -rf "$PL/rt"
		hf pull-skopeo -N --runs $n --warmup 1 --prepare "rm -rf $PL/oci" \
			"skopeo copy -q --src-cert-dir $IN/tls/certs.d docker://$IMG oci:$PL/oci:latest"
		put rss.pull.skopeo "$(peak_rss_prep "rm -rf $PL/oci" skopeo copy -q --src-cert-dir "$IN/tls/certs.d" \
			"docker://$IMG" "oci:$PL/oci:latest")"
		rm -rf "$PL/oci" "$PL/bundle"
	fi

	rt=$(hf_get pull-rt 0 median)
	peer=$(hf_get pull-peer 0 median)
	rss=$(get rss.pull.rt)
	put t.pull.rt "$rt"
	{
		echo "## 4. Pull over TLS from a loopback registry"
		echo
		echo "The minbase image of figure 3 ($SIGNED for the name it is pulled by) in"
		echo "\`docker-registry\` (distribution 2.8) on 127.0.0.1 with TLS (ECDSA P-256 certificate from a local CA)."
		echo "Median of $n runs (hyperfine; rt and skopeo + umoci in alternating rounds after an untimed one),"
		echo "a fresh target on tmpfs each run."
		echo "\`rt pull\`: download, verify (signature, digests) and unpack into its store."
		echo
		row "" median min max "peak RSS" "rt ÷ this" target
		row --- ---: ---: ---: ---: ---: ---
		if [ -n "$PULL_WHY" ]; then
			row "rt pull" "$(not_measured "$PULL_WHY")" "" "" "" "" "peak RSS < 2 MiB (issue 7): – (not measured)"
		else
			unpack_row "rt pull" pull-rt "$rss" "1.00×" "peak RSS < 2 MiB (issue 7): $(check 'r < 2048' r="$rss")"
		fi
		row "skopeo copy + umoci unpack" "$(dash "$(sec "$peer")")" \
			"$(dash "$(sec "$(hf_get pull-peer 0 min)")")" "$(dash "$(sec "$(hf_get pull-peer 0 max)")")" \
			"skopeo $(dash "$(kib "$(get rss.pull.skopeo)")"), umoci $(dash "$(kib "$(get rss.load.umoci)")")" \
			"$(ratio "$rt" "$peer")" "rt ≤ 0.5× (issue 7): $(check 'a <= 0.5 * b' a="$rt" b="$peer")"
		unpack_row "skopeo copy alone (no unpack)" pull-skopeo "$(get rss.pull.skopeo)" \
			"$(ratio "$rt" "$(hf_get pull-skopeo 0 median)")" ""
	} > "$B/sections/4.md"
	summary "4. pull over TLS (loopback)" "$(rt_cell "$PULL_WHY" "$(dash "$(sec "$rt")"), $(dash "$(kib "$rss")")")" \
		"skopeo + umoci $(dash "$(sec "$peer")")" "$(ratio "$rt" "$peer")" \
		"≤ 0.5×: $(check 'a <= 0.5 * b' a="$rt" b="$peer"); < 2 MiB: $(check 'r < 2048' r="$rss")"
}
