#!/bin/sh
# Power cuts during update transactions. Each round boots a supervisor
# (with `rt reload` of the app file, as at boot) in a fresh PID and mount
# namespace, starts `rt update` to a newer version (pulled from a registry
# or loaded from a file, then unpacked, verified, switched to, waited on,
# committed; every fourth version crashes and is rolled back), and kills
# the namespace with SIGKILL at a
# random instant: supervisor, reload, update and containers die at once,
# and the volatile root is wiped, as a power cut would. At the next boot
# the app must come back on exactly the version its journal says is
# committed (the old one, or the new one only after a completed commit),
# never on a version that crashes, `rt verify` must pass and no staging
# debris may be left. RT_POWERCUTS sets the number of rounds (200).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/lib-sign.sh"

need_daemon
"$RT" --help | grep -q '^  update ' || skip_all "rt built without update"
mk_rootfs || skip_all "no busybox"
unshare --help 2>&1 | grep -q -- --kill-child || skip_all "unshare has no --kill-child"
cd "$T" || exit 1
N=${RT_POWERCUTS:-200}

# Version K: the busybox layer (shared by all) and a layer of /version and
# 1 MiB that does not compress (so that fetching takes long enough to be
# cut too); every fourth version exits at once.
"$MKIMAGE" build -o base.oci --layer "$T/rootfs" --tag base:1 >/dev/null || exit 1
mkimg() { # mkimg K [IDENTITY]
	mkdir -p "l$1" && echo "$1" > "l$1/version" &&
	head -c 1048576 /dev/urandom > "l$1/payload" &&
	if [ $(($1 % 4)) = 0 ]; then cmd='exit 1'; else cmd='cat /version; exec sleep 1000'; fi &&
	"$MKIMAGE" build -o "v$1.oci" --from base.oci --layer "l$1" --cmd "$cmd" --tag "web:v$1" >/dev/null &&
	"$MKIMAGE" sign --key "$RT_TEST_KEY" --version "$1" ${2:+--identity "$2"} "v$1.oci" >/dev/null
}

# Odd versions come from a registry (so that cuts hit pulls too), when
# there is one to run here; the others from files.
REG=
mkdir -p etc
export RT_CONFIG_DIR="$T/etc"
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null && [ -x /usr/bin/python3 ]; then
	RP=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s/reg\nhttp:\n  addr: 127.0.0.1:%s\n' \
		"$T" "$RP" > reg.yml
	docker-registry serve reg.yml > reg.log 2>&1 &
	echo $! > registry.pid
	wait_for /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $RP), 1)" &&
		REG=127.0.0.1:$RP && echo "insecure $REG" > etc/registries.conf
fi
push() { # push K: version K into the registry as web:vK, with its signature
	mkimg "$1" "$REG/web" &&
	skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$T/v$1.oci:web:v$1" \
		"docker://$REG/web:v$1" >>skopeo.log 2>&1 &&
	d=$("$MKIMAGE" inspect "v$1.oci" | sed -n 's/.*\(sha256:[0-9a-f]\{64\}\).*/\1/p' | head -n 1) &&
	skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$T/v$1.oci:sha256-${d#sha256:}.sig" \
		"docker://$REG/web:sha256-${d#sha256:}.sig" >>skopeo.log 2>&1
}
mkimg 1 && rt load -i v1.oci >/dev/null
ok $? "version 1 loaded"

A=$T/apps
mkdir -p "$A"
printf 'image = web:v1\nnetwork = none\nstop_timeout = 1\n' > "$A/web.conf"

# json KEY: a member of the journal's "current" object
cur() {
	sed -n "s/.*\"current\":{[^}]*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$T/root/apps/web.json" 2>/dev/null
}
settled() { # the boot's reload is done and the app serves what is committed
	grep -q '"txn"' "$T/root/apps/web.json" 2>/dev/null && return 1
	v=$(rt exec web cat /version 2>/dev/null) || return 1
	[ "$v" = "$(cur version)" ] || return 1
	d=$(rt inspect web 2>/dev/null | sed -n 's/.*"image_digest": "\(sha256:[0-9a-f]*\)".*/\1/p')
	[ "$d" = "$(cur digest)" ]
}

boot() { # boot: a fresh namespace with the supervisor; reads a version on $T/go, updates to it
	rm -rf "$T/run" "$T/go"
	mkfifo "$T/go"
	unshare -p -m --mount-proc --propagation private --kill-child sh -c '
		rt=$0 t=$1
		"$rt" --root "$t/root" --run "$t/run" daemon --apps "$t/apps" >>"$t/daemon.log" 2>&1 &
		read k reg < "$t/go"
		set -- --root "$t/root" --run "$t/run" update --apps "$t/apps" --stable 200ms --timeout 5s
		if [ -n "$reg" ]; then
			"$rt" "$@" web "$reg/web:v$k" >>"$t/update.log" 2>&1
		else
			"$rt" "$@" -i "$t/v$k.oci" web "web:v$k" >>"$t/update.log" 2>&1
		fi
		echo "finished $k" >>"$t/update.log"
		wait' "$RT" "$T" &
	NS=$!
	echo $NS > "$T/ns.pid"
}

bad=0 committed=0 rolled=0 older=0 k=1 prev=1 ms_total=0
t0=$(date +%s)
i=0
while [ $i -lt $N ]; do
	i=$((i + 1))
	boot
	_j=0
	while ! settled && [ $_j -lt 300 ]; do sleep 0.1; _j=$((_j + 1)); done
	v=$(cur version)
	# the invariants, after every cut
	why=
	settled || why="$why not-serving-the-committed-version"
	[ "$v" = "$prev" ] || [ "$v" = "$k" ] || why="$why version-$v-neither-$prev-nor-$k"
	[ $((v % 4)) != 0 ] || why="$why a-crashing-version-committed"
	[ -z "$(ls -A "$T/root/tmp")" ] || why="$why tmp-not-empty"
	[ -z "$(ls -A "$T/root/apps" | grep -v '^web.json$')" ] || why="$why debris-in-apps"
	rt verify "$(cur digest)" >/dev/null 2>&1 || why="$why verify-failed"
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		echo "# round $i (v$prev -> v$k, now v$v):$why"
		[ $bad -gt 5 ] && break
	fi
	[ "$v" = "$k" ] && [ "$k" != "$prev" ] && committed=$((committed + 1))
	prev=$v
	# the next version, and a cut somewhere in its transaction
	k=$((k + 1))
	if [ -n "$REG" ] && [ $((k % 2)) = 1 ]; then
		push "$k" || { echo "# push failed"; bad=$((bad + 1)); break; }
		echo "$k $REG" > "$T/go"
	else
		mkimg "$k" || { echo "# mkimage failed"; bad=$((bad + 1)); break; }
		echo "$k" > "$T/go"
	fi
	# one round in three cuts in the first 80 ms (fetch, unpack, verify),
	# the others anywhere in the first 500 ms (switch, health wait, commit)
	r=$(od -An -N2 -tu2 /dev/urandom)
	if [ $((r % 3)) = 0 ]; then ms=$((r / 3 % 80)); else ms=$((r % 500)); fi
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 "$NS" 2>/dev/null
	wait "$NS" 2>/dev/null
	rm -f "$T/ns.pid"
done
# the last boot, to check the last cut too
boot
_j=0
while ! settled && [ $_j -lt 300 ]; do sleep 0.1; _j=$((_j + 1)); done
settled; ok $? "after the last cut, the app serves its committed version"
kill -9 "$NS" 2>/dev/null
wait "$NS" 2>/dev/null
t1=$(date +%s)

is "$i" "$N" "$N power cuts"
is "$bad" 0 "every boot came back on the committed version, verified, without debris"
fin=$(grep -c '^finished' update.log)
echo "# $N cuts in $((t1 - t0)) s; $committed commits reached; $fin of the updates ended before the cut"
echo "# at boot, transactions cut off: $(grep -c 'ABORTED' daemon.log) aborted before the switch, $(grep -c 'ROLLED_BACK: cut off' daemon.log) rolled back from testing"
echo "# updates that ended: $(grep -c 'committed sha256' update.log) committed, $(grep -c 'rolled back:' update.log) rolled back"
echo "# from ${REG:-no registry}: $(grep -c "fetched $REG/" update.log) pulls completed"
[ "$(grep -c 'ROLLED_BACK: cut off' daemon.log)" -gt 0 ] && [ "$(grep -c 'committed sha256' update.log)" -gt 0 ]
ok $? "the cuts hit the switch and the health wait, and some commits completed"
for d in $(rt images -q --no-trunc 2>/dev/null | sort -u); do
	rt verify "$d" >/dev/null 2>&1 || echo "# verify failed: $d"
done
is "$(for d in $(rt images -q --no-trunc | sort -u); do rt verify "$d" >/dev/null 2>&1 || echo "$d"; done)" "" \
	"rt verify passes for every image in the store"
done_testing
