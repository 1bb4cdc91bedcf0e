#!/bin/sh
# The demo firmware on each QEMU board: rt boots as PID 1 with the store on
# the data disk, starts the signed app from its app file on a bridge network
# with its port published, the page answers through QEMU's port forward and
# kernel NAT, `rt ps` and `rt logs` work at the console, a
# killed app is restarted, poweroff stops it cleanly, and a second boot
# finds the store intact. Times are reported as TAP comments.
RT_TEST_NET=host
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/boards/lib-guest.sh"

command -v curl >/dev/null || skip_all "no curl"

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

# console CMD MARKER SECS: type a line at the board's console, wait for MARKER.
console() {
	printf '%s\n' "$1" >&3
	wait_for "$2" "$3"
}
wait_for() { guest_wait "$@"; }
page() {   # page SECS: the page answers within SECS
	i=0
	while [ $i -lt "$1" ]; do
		curl -s -m 2 "http://127.0.0.1:$port/" 2>/dev/null | grep -q "Hello from $b" && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}
boot() {   # boot N: start QEMU on the board's firmware, console on fd 3
	t0=$(now)
	guest_start "$1"
}
halt_qemu() {
	exec 3>&-
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
}

port=$((18080 + $$ % 1000))
for b in ${RT_TEST_BOARDS:-qemu-armv7 qemu-mipsel qemu-aarch64}; do
	if [ ! -x "$TOP/build/$b/rt" ]; then
		skip "$b: not built"; continue
	fi
	eval "$(make -s -C "$TOP" BOARD=$b print-board)"
	command -v "${QEMU_SYSTEM%% *}" >/dev/null || { skip "$b: no ${QEMU_SYSTEM%% *}"; continue; }
	fw=$(sh "$TOP/boards/demo.sh" build "$b" 2>"$T/demo.err") || {
		ok 1 "$b: demo firmware"; sed 's/^/# /' "$T/demo.err"; continue; }
	ok 0 "$b: demo firmware built ($(stat -c %s "$fw/initramfs.cpio.gz") B initramfs)"
	cp "$fw/data.img" "$T/$b.data.img"

	boot 1
	wait_for "rt: init: started .* after the kernel" 120
	t_first=$(now)
	wait_for "rt: init: ready" 120; ok $? "$b: rt is PID 1 and ready"
	t_rt=$(now)
	grep -aq "rt: init: store on $QEMU_DATA_DEV" "$log"; ok $? "$b: store on the data disk"
	page 180; ok $? "$b: the signed app answers through the port forward"
	t_page=$(now)
	echo "# $b boot 1: QEMU start to rt ready $(ms "$t0" "$t_rt") ms, to the page $(ms "$t0" "$t_page") ms"
	# The split: the kernel's share on its own clock (rt prints it first),
	# then rt's first line to the page answering on the host's.
	k=$(grep -ao "rt: init: started [0-9.]* s after the kernel" "$log" | head -n 1 | cut -d' ' -f4)
	echo "# $b boot 1: kernel start to rt's first line ${k:-?} s; rt's first line to the page $(ms "$t_first" "$t_page") ms"
	console "rt ps" "Up [0-9a-zA-Z ]*  *0\.0\.0\.0:80->80/tcp  *demo" 30
	ok $? "$b: rt ps at the console shows the app up, with its port"
	# Kernel DNAT keeps the client's address (QEMU's 10.0.2.2); through
	# the proxy the app would see the bridge's.
	console "rt logs demo" "10\.0\.2\.2.*response:200" 30
	ok $? "$b: rt logs shows the request, from the client's address (kernel NAT)"
	console "rt port demo" "80/tcp -> 0.0.0.0:80" 20; ok $? "$b: the app publishes 80 from a bridge network"
	console "rt info | grep NAT" "NAT: *nftables (netlink)" 20; ok $? "$b: NAT through nf_tables over netlink"
	console 'rss=$(grep VmRSS /proc/1/status); echo "pid1 $rss"' "pid1 VmRSS" 20
	echo "# $b: rt (PID 1) $(grep -a 'pid1 VmRSS' "$log" | tail -n 1 | tr -s ' \t' ' ' | cut -d' ' -f2-4)"
	console 'kill -9 $(pidof httpd); echo killed-app' "killed-app" 20
	sleep 2
	page 60; ok $? "$b: a killed app is restarted"
	console "poweroff" "rt: init: powering off" 30; ok $? "$b: poweroff goes through rt"
	i=0
	while kill -0 "$qpid" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
	! kill -0 "$qpid" 2>/dev/null; ok $? "$b: the board powered off by itself"
	halt_qemu

	boot 2
	page 180; ok $? "$b: second boot: the store is intact and the app answers"
	t_page=$(now)
	echo "# $b boot 2: QEMU start to the page $(ms "$t0" "$t_page") ms"
	k=$(grep -ao "rt: init: started [0-9.]* s after the kernel" "$log" | head -n 1 | cut -d' ' -f4)
	echo "# $b boot 2: kernel start to rt's first line ${k:-?} s"
	! grep -aq "Loaded image" "$log"; ok $? "$b: second boot loads and unpacks nothing"
	halt_qemu
done
done_testing
