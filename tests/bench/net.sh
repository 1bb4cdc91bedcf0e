#!/bin/sh
# The measuring half of figure 8, run by fig-net.sh in a network namespace
# of its own (unshare -n), so the host's interfaces, routes and rules are
# never touched: TCP throughput (iperf3) into a container on rt's bridge
# network, straight to its address and through its published port, by
# kernel NAT and by rt's proxy.
#
#   tests/bench/net.sh RT ROOTFS WORKDIR SECONDS RUNS
#
# ROOTFS is a busybox rootfs; iperf3 and its libraries are copied in.
# "The outside" is a second namespace behind a veth, as a LAN client would
# be. Prints "backend NAT" and "path bits_per_second" lines, RUNS a path;
# progress and errors go to stderr.
set -u
RT=$1 ROOTFS=$2 W=$3 SECS=$4 RUNS=$5

[ -n "${RT_BENCH_NETNS:-}" ] || { echo "net.sh: run it in a network namespace of its own" >&2; exit 2; }
mkdir -p "$W"
rtc() { "$RT" --root "$W/root" --run "$W/run" "$@"; }
OUT="" RTD=""
cleanup() {
	[ -z "$RTD" ] || { rtc rm -f ip3 >/dev/null 2>&1; kill -TERM "$RTD" 2>/dev/null; wait "$RTD" 2>/dev/null; }
	[ -z "$OUT" ] || { kill "$OUT" 2>/dev/null; wait "$OUT" 2>/dev/null; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The image: busybox plus iperf3 and the libraries it loads.
R=$W/rootfs
rm -rf "$R"
cp -a "$ROOTFS" "$R"
ip3=$(command -v iperf3) || { echo "no iperf3" >&2; exit 1; }
for f in "$ip3" $(ldd "$ip3" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
	mkdir -p "$R$(dirname "$f")"
	cp -L "$f" "$R$f"
done

ip link set lo up
unshare -n sleep 1000000 &
OUT=$!
sleep 0.2
out() { nsenter -t "$OUT" -n "$@"; }
ip link add up0 type veth peer name eth0 netns "$OUT"
ip addr add 10.99.0.1/24 dev up0
ip link set up0 up
ip route add default via 10.99.0.2          # the uplink rt finds
out ip link set lo up
out ip addr add 10.99.0.2/24 dev eth0
out ip link set eth0 up
out ip route add default via 10.99.0.1      # reaches the bridge's subnet by routing

daemon() {   # daemon [ENV...]: (re)start rt daemon, wait for its socket
	if [ -n "$RTD" ]; then
		kill -TERM "$RTD" 2>/dev/null
		wait "$RTD" 2>/dev/null
	fi
	rm -f "$W/run/rt.sock"
	env "$@" "$RT" --root "$W/root" --run "$W/run" daemon >>"$W/daemon.log" 2>&1 &
	RTD=$!
	_i=0
	until [ -S "$W/run/rt.sock" ]; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && { echo "rt daemon did not start" >&2; return 1; }
		sleep 0.1
	done
}

here() { "$@"; }
# cpu_ticks: user + system clock ticks the daemon has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$RTD/stat"; }
# measure PATH WHERE HOST: RUNS iperf3 clients in namespace WHERE (out or
# here) sending to HOST:5201, "PATH bits/s" received each, then "cpu PATH
# SECONDS BYTES": the daemon's CPU time over the runs and the bytes they
# carried. A run that fails is tried again, up to RUNS more times.
measure() {
	_p=$1 _w=$2 _h=$3
	_k=0 _try=0 _bytes=0 _t0=$(cpu_ticks)
	while [ "$_k" -lt "$RUNS" ] && [ "$_try" -lt $((RUNS * 2)) ]; do
		_try=$((_try + 1))
		_j=$W/$_p.$_try.json
		$_w iperf3 -J -c "$_h" -p 5201 -t "$SECS" >"$_j" 2>>"$W/iperf3.err"
		_r=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["end"]["sum_received"]; print(r["bits_per_second"], r["bytes"])' \
			"$_j" 2>/dev/null)
		if [ -z "$_r" ]; then
			echo "$_p: run $_try failed: $(grep -o '"error":.*' "$_j" | head -n 1)" >&2
			sleep 1
			continue
		fi
		echo "$_p ${_r% *}"
		_bytes=$((_bytes + ${_r#* }))
		_k=$((_k + 1))
	done
	echo "cpu $_p $(($(cpu_ticks) - _t0)) $(getconf CLK_TCK) $_bytes" |
		awk '{ printf "cpu %s %.2f %s\n", $2, $3 / $4, $5 }'
}
# up: the server answers on the published port (up to 10 s).
up() {
	_i=0
	until iperf3 -c 127.0.0.1 -p 5201 -n 1K >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && return 1
		sleep 0.2
	done
}

daemon || exit 1
rtc run -d --name ip3 --network bridge -p 5201:5201 --rootfs "$R" iperf3 -s >/dev/null || exit 1
up || { echo "iperf3 in the container does not answer" >&2; exit 1; }
ctr=$(rtc exec ip3 ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p')
[ -n "$ctr" ] || { echo "no container address" >&2; exit 1; }
echo "container $ctr" >&2
echo "backend $(rtc info | sed -n 's/^ *NAT: *//p')"

measure direct-out out "$ctr"                 # LAN client, routed to the container
measure nat out 10.99.0.1                     # LAN client, the published port: kernel DNAT
measure direct-host here "$ctr"               # the board itself, over the bridge
measure proxy-lo here 127.0.0.1               # the board itself, loopback: the proxy
rtc stop -t 1 ip3 >/dev/null
daemon RT_NET_NAT=none || exit 1              # as on a kernel without NAT
rtc start ip3 >/dev/null || exit 1
up || { echo "iperf3 does not answer without NAT" >&2; exit 1; }
measure proxy-out out 10.99.0.1               # LAN client, the published port: the proxy
exit 0
