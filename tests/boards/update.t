#!/bin/sh
# A QEMU board killed hard during app updates: the demo firmware boots, an
# update of the app to a newer signed version starts at the console, and
# QEMU is SIGKILLed at a random instant of it (fetch, unpack, switch,
# health wait, commit); the board boots again from the same disk. Every
# time the app must come back on exactly the version its journal says is
# committed, `rt verify` must pass on the board and the store's tmp/ must
# be empty. RT_UPDATE_CUTS sets the cuts per board (3).
RT_TEST_NET=host
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/boards/lib-guest.sh"

command -v curl >/dev/null || skip_all "no curl"
CUTS=${RT_UPDATE_CUTS:-3}

page() { # page SECS: the version the page shows, once it answers
	i=0
	while [ $i -lt "$1" ]; do
		p=$(curl -s -m 2 "http://127.0.0.1:$port/" 2>/dev/null)
		case $p in
		*"Hello v"*) echo "$p" | sed -n 's/.*Hello v\([0-9]*\) from.*/\1/p'; return 0 ;;
		*"Hello from"*) echo 1; return 0 ;;
		esac
		sleep 1
		i=$((i + 1))
	done
	return 1
}
boot() { guest_start "$1"; }
cut() { # the power cut
	kill -9 "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	exec 3>&-
}
J=/var/lib/rt/apps/demo.json
# After a boot's reload: the committed version and the checks, on one line
# that only the command's output can match ("CHECK""N" when typed).
check() { # check N
	printf '%s\n' "while ! [ -f $J ] || grep -q '\"txn\"' $J; do sleep 1; done; d=\$(sed -n 's/.*\"current\":{[^}]*\"digest\":\"\\(sha256:[0-9a-f]*\\)\".*/\\1/p' $J); echo CHECK\"\"$1 V=\$(sed -n 's/.*\"current\":{[^}]*\"version\":\\([0-9]*\\).*/\\1/p' $J) TMP=\$(ls -A /var/lib/rt/tmp | wc -l) VERIFY=\$(rt verify \$d >/dev/null 2>&1 && echo ok || echo failed) END" >&3
	guest_wait "CHECK$1 V=[0-9]* TMP=[0-9]* VERIFY=[a-z]* END" 120 || return 1
	line=$(grep -a "CHECK$1 V=" "$log" | tail -n 1)
	jv=$(echo "$line" | sed -n 's/.*V=\([0-9]*\) .*/\1/p')
	tmp=$(echo "$line" | sed -n 's/.*TMP=\([0-9]*\) .*/\1/p')
	ver=$(echo "$line" | sed -n 's/.*VERIFY=\([a-z]*\) .*/\1/p')
}

port=$((19080 + $$ % 1000))
for b in ${RT_TEST_BOARDS:-qemu-armv7 qemu-mipsel qemu-aarch64}; do
	if [ ! -x "$TOP/build/$b/rt" ]; then
		skip "$b: not built"; continue
	fi
	eval "$(make -s -C "$TOP" BOARD=$b print-board)"
	command -v "${QEMU_SYSTEM%% *}" >/dev/null || { skip "$b: no ${QEMU_SYSTEM%% *}"; continue; }
	grep -q "^CONFIG_UPDATE=y" "$TOP/build/$b/.config" || { skip "$b: rt built without update"; continue; }
	fw=$(sh "$TOP/boards/demo.sh" build "$b" 2>"$T/demo.err") || {
		ok 1 "$b: demo firmware"; sed 's/^/# /' "$T/demo.err"; continue; }
	d=$TOP/build/$b/demo
	mk=$TOP/build/$b/mkimage
	set -- $(echo "$PLATFORM" | tr / ' ')
	# Versions 2.. of the demo app: its layers and one more with the page;
	# every third one never starts (a bad build), on the data disk.
	mkdir -p "$T/$b.upd"
	k=2
	while [ $k -le $((CUTS + 1)) ]; do
		mkdir -p "$T/$b.l$k/www" &&
		echo "<h1>Hello v$k from $b</h1>" > "$T/$b.l$k/www/index.html" &&
		if [ $((k % 3)) = 0 ]; then c='["false"]'; else c='["httpd", "-f", "-v", "-p", "80", "-h", "/www"]'; fi &&
		"$mk" build --from "$d/demo.oci" --layer "$T/$b.l$k" --os "$1" --arch "$2" ${3:+--variant "$3"} \
			--cmd "$c" --expose 80 --tag "demo:$k" --archive -o "$T/$b.upd/v$k.tar" >/dev/null &&
		"$mk" sign --key "$d/demo.key" --version "$k" "$T/$b.upd/v$k.tar" >/dev/null || break
		k=$((k + 1))
	done
	cp "$fw/data.img" "$T/$b.data.img" &&
		mkdir -p "$T/mnt" && mount -o loop "$T/$b.data.img" "$T/mnt" &&
		cp -r "$T/$b.upd" "$T/mnt/updates" && umount "$T/mnt"
	ok $? "$b: demo firmware, and versions 2 to $((CUTS + 1)) on its data disk"

	bad=0 prev=1
	r=1
	while [ $r -le $((CUTS + 1)) ]; do
		boot "$r"
		pv=$(page 240) || { echo "# $b boot $r: the page does not answer"; tail -n 20 "$log" | sed 's/^/#   /'; bad=$((bad + 1)); cut; break; }
		guest_wait "rt: init: ready" 10
		check "$r" || { echo "# $b boot $r: no answer at the console"; bad=$((bad + 1)); cut; break; }
		pv=$(page 60)
		echo "# $b boot $r: serving v$pv, journal v$jv, tmp $tmp entries, rt verify $ver$(grep -a 'demo: update [0-9]* ' "$log" | tail -n 1 | sed 's/^/; at boot: /')"
		if [ "$pv" != "$jv" ] || [ "$tmp" != 0 ] || [ "$ver" != ok ] ||
		   { [ "$jv" != "$prev" ] && [ "$jv" != "$((r))" ]; } || [ $((jv % 3)) = 0 ]; then
			bad=$((bad + 1))
		fi
		prev=$jv
		[ $r -le "$CUTS" ] || break
		k=$((r + 1))
		printf '%s\n' "rt update --stable 3s --timeout 60s -i /var/lib/rt/updates/v$k.tar demo demo:$k" >&3
		# somewhere in the update: TCG boards take seconds for each step
		ms=$(($(od -An -N2 -tu2 /dev/urandom) % 9000))
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		echo "# $b: power cut $ms ms after the update to v$k started$(grep -a 'demo: \(fetched\|committed\|rolling\)' "$log" | tail -n 1 | sed 's/^/, after: /')"
		cut
		r=$((r + 1))
	done
	cut
	is "$bad" 0 "$b: after each of $CUTS hard kills during an update, the board served its committed version, verified, tmp/ empty"
done
done_testing
