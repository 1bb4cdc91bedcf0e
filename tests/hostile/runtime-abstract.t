#!/bin/sh
# Abstract unix sockets belong to a network namespace, not to the file
# system: a container with --network host shares the host's, and so can
# connect to any abstract socket a host process listens on (that is what
# host networking means, as with Docker); with --network none it cannot.
# rt itself listens on none: its control socket is a path, mode 0600.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-runtime.sh"

hostile_start
build_attack || skip_all "no static C compiler for the attack program ($(head -1 "$T/attack.log"))"
img=$(mk_image abstract)
cp "$T/attack" "$img/attack"
R="--rootfs $img"
name=rt-test-$$

# rt's own sockets: none abstract, in the daemon or in a container's init.
rt run -d --name held --init $R sleep 100 >/dev/null
abstract_of() { # abstract_of PID: the abstract names among PID's sockets
	for l in /proc/"$1"/fd/*; do
		readlink "$l"
	done 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | while read -r ino; do
		awk -v i="$ino" '$7 == i && $8 ~ /^@/ { print $8 }' /proc/net/unix
	done
}
is "$(abstract_of "$RT_DAEMON_PID")" "" "the daemon holds no abstract unix socket"
like "$(stat -c %a "$T/run/rt.sock")" "600" "its control socket is a path, mode 0600"
init_pid=$(rt inspect held 2>/dev/null | sed -n 's/.*"Pid": \([0-9]*\).*/\1/p' | head -1)
if [ -n "$init_pid" ] && [ "$init_pid" != 0 ]; then
	is "$(abstract_of "$init_pid")" "" "rt's init in a container holds none"
else
	skip "inspect shows no pid"
fi
rt rm -f held >/dev/null

# A host process listening on an abstract name.
"$T/attack" listen "$name" > "$T/listen.log" 2>&1 &
echo $! > "$T/listen.pid"
wait_for grep -q listening "$T/listen.log"
is "$(rt run --rm --network host $R /attack connect "$name" 2>&1)" "connected" \
	"--network host: the host's abstract sockets are reachable (documented)"
is "$(rt run --rm --network none $R /attack connect "$name" 2>&1)" "refused ECONNREFUSED" \
	"--network none: they are not"
is "$(rt run --rm $R /attack connect "$name" 2>&1)" "refused ECONNREFUSED" "the default network: they are not"
is "$(rt run --rm $R sh -c "grep -c @$name /proc/net/unix" 2>&1)" "0" "...nor listed"
kill "$(cat "$T/listen.pid")"
rm -f "$T/listen.pid"

hostile_end
