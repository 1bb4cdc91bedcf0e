# Figure 8 (sourced by run.sh): TCP throughput into a container through a
# published port, by kernel NAT and by rt's proxy, against a direct
# connection to the container's address; iperf3, in network namespaces the
# bench makes (tests/bench/net.sh does the measuring).

NET_SECS=${BENCH_NET_SECONDS:-5}
RUNS_NET=${BENCH_NET_RUNS:-3}

# gbit BITS_PER_SECOND: "3.21 Gbit/s" or "840 Mbit/s".
gbit() { [ -n "$1" ] && awk -v b="$1" 'BEGIN { if (b >= 1e9) printf "%.2f Gbit/s", b / 1e9; else printf "%.0f Mbit/s", b / 1e6 }'; }
# net_stat PATH FIELD: median, min or max of PATH's runs.
net_stat() {
	awk -v p="$1" '$1 == p { print $2 }' "$B/log/net.out" > "$B/log/net.$1"
	case $2 in
	median) median "$B/log/net.$1" ;;
	min) minof "$B/log/net.$1" ;;
	max) maxof "$B/log/net.$1" ;;
	esac
}

fig_net() {
	log "figure 8: throughput through a published port"
	NET_WHY=""
	: > "$B/log/net.out"
	if ! command -v iperf3 >/dev/null; then
		NET_WHY="no iperf3"
	elif ! has_verb network; then
		NET_WHY="this build has no bridge networks"
	elif ! unshare -n true 2>/dev/null; then
		NET_WHY="cannot make a network namespace"
	elif ! RT_BENCH_NETNS=1 unshare -n sh "$TOP/tests/bench/net.sh" "$RT" "$TM/in/busybox" \
		"$TM/net" "$NET_SECS" "$RUNS_NET" >"$B/log/net.out" 2>"$B/log/net.log"; then
		NET_WHY="$(tail -n 1 "$B/log/net.log" | cut -c1-100)"
	fi
	for p in direct-out nat proxy-out direct-host proxy-lo; do
		put "net.$p" "$(net_stat $p median)"
	done
	nat=$(sed -n 's/^backend //p' "$B/log/net.out")
	d=$(get net.direct-out) n=$(get net.nat) x=$(get net.proxy-out)
	dh=$(get net.direct-host) xl=$(get net.proxy-lo)
	# cpu PATH: the daemon's CPU seconds per GiB carried on PATH.
	cpu() {
		awk -v p="$1" '$1 == "cpu" && $2 == p && $4 > 0 { printf "%.2f s", $3 / ($4 / 1073741824) }' \
			"$B/log/net.out"
	}
	netrow() {
		row "$1" "$2" "$(dash "$(gbit "$(net_stat "$3" median)")")" \
			"$(dash "$(gbit "$(net_stat "$3" min)")")" "$(dash "$(gbit "$(net_stat "$3" max)")")" "$4" \
			"$(dash "$(cpu "$3")")"
	}
	{
		echo "## 8. TCP throughput through a published port"
		echo
		echo "iperf3 (one stream, $NET_SECS s a run, median of $RUNS_NET runs) into a container on rt's bridge network"
		echo "running \`iperf3 -s\` with \`-p 5201:5201\`, in network namespaces the bench makes. \"LAN client\" is a"
		echo "second namespace behind a veth pair, as a client on a router's LAN; it reaches the container"
		echo "either at its own address (routed: the reference for anything through the port) or at the"
		echo "host's published port. Kernel NAT: ${nat:-–}. The proxy row runs the daemon with"
		echo "\`RT_NET_NAT=none\` (as on a kernel without NAT): rt's supervisor carries every byte with"
		echo "splice() through 16 KiB pipes. Higher is better; \"÷ direct\" is this path's median over the"
		echo "direct one's; \"rt CPU\" is the CPU time \`rt daemon\` spent per GiB carried (none on the"
		echo "kernel NAT and direct paths)."
		echo
		row "client" "to" median min max "÷ direct" "rt CPU / GiB"
		row --- --- ---: ---: ---: ---: ---:
		if [ -n "$NET_WHY" ]; then
			row "LAN client" "$(not_measured "$NET_WHY")" "" "" "" "" ""
		else
			netrow "LAN client" "container address (direct)" direct-out "1.00×"
			netrow "LAN client" "published port, kernel NAT" nat "$(ratio "$n" "$d")"
			netrow "LAN client" "published port, rt's proxy" proxy-out "$(ratio "$x" "$d")"
			netrow "the host" "container address (direct)" direct-host "1.00×"
			netrow "the host" "127.0.0.1 published port, rt's proxy" proxy-lo "$(ratio "$xl" "$dh")"
		fi
	} > "$B/sections/8.md"
	summary "8. TCP through a published port" \
		"$(rt_cell "$NET_WHY" "kernel NAT $(dash "$(gbit "$n")"), proxy $(dash "$(gbit "$x")")")" \
		"direct $(dash "$(gbit "$d")")" \
		"$([ -n "$NET_WHY" ] && echo – || echo "NAT $(ratio "$n" "$d"), proxy $(ratio "$x" "$d")")" "–"
}
