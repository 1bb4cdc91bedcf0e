#!/bin/sh
# Container lifecycle through `rt daemon`: run -d, ps, logs, stop, rm,
# foreground runs with exit codes and streamed output, --rm, wait, kill,
# stop -t escalating to SIGKILL, rm refusing a running container.
. "$(dirname "$0")/lib.sh"

need_daemon
mk_rootfs || skip_all "no /bin/busybox (apt-get install busybox-static)"
R="--rootfs $T/rootfs"

err=$(rt ps 2>&1)
is $? 125 "no daemon: exit 125"
like "$err" "rt: ps: cannot connect to the rt daemon at $T/run/rt.sock: *" "no daemon: clear message"

rt_daemon_start || skip_all "rt daemon does not start"
is "$(stat -c %a "$T/run/rt.sock")" 600 "control socket is mode 0600"

# Detached, listed, logged, stopped, removed.
id=$(rt run -d --name web $R sh -c 'echo hello; echo oops >&2; while :; do sleep 1; done')
is $? 0 "run -d"
like "$id" "????????????????????????????????????????????????????????????????" "run -d prints a 64-hex id"
out=$(rt ps)
like "$out" "CONTAINER ID   IMAGE*COMMAND*CREATED*STATUS*PORTS*NAMES*" "ps header"
like "$out" "*$(echo "$id" | cut -c1-12)*Up *web*" "ps shows it up, with a short id"
wait_for sh -c "\"$RT\" --root \"$T/root\" --run \"$T/run\" logs web 2>&1 | grep -q oops"
is "$(rt logs web 2>/dev/null)" "hello" "logs: stdout on stdout"
is "$(rt logs web 2>&1 >/dev/null)" "oops" "logs: stderr on stderr"
like "$(rt logs -t web 2>/dev/null)" "20??-??-??T??:??:??.?????????Z hello" "logs -t stamps lines"
is "$(rt logs --tail 0 web 2>&1)" "" "logs --tail 0"
err=$(rt rm web 2>&1)
is $? 1 "rm of a running container fails"
like "$err" "*container is running: stop the container before removing or force remove*" "rm says why"
start=$(date +%s)
is "$(rt stop -t 1 web)" "web" "stop echoes the name"
end=$(date +%s)
[ $((end - start)) -le 3 ]; ok $? "stop -t 1 took at most 3 s ($((end - start)) s)"
like "$(rt ps -a)" "*Exited (1??) *web*" "ps -a: exited after stop"
is "$(rt ps -q)" "" "ps without -a hides it"
is "$(rt rm web)" "web" "rm"
like "$(rt ps -a)" "CONTAINER ID*NAMES" "gone from ps -a"
is "$(ls "$T/root/containers" | wc -l)" 0 "its record is gone"

# Foreground: output streamed, the exit code returned.
out=$(rt run $R sh -c 'echo out; echo err >&2; exit 3' 2>"$T/err")
is $? 3 "run returns the container's exit code"
is "$out" "out" "run streams stdout"
is "$(cat "$T/err")" "err" "run streams stderr"
out=$(rt run $R sh -c 'i=0; while [ $i -lt 3000 ]; do echo line $i; i=$((i+1)); done' | wc -l)
is "$out" 3000 "run streams more than a log ring holds, losing nothing"
out=$(rt run $R sh -c 'i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); done' | (sleep 1; wc -l))
is "$out" 20000 "a slow reader of an attached run loses nothing, even at exit"
rt run $R nosuchcommand 2>"$T/err"
is $? 127 "command not found: 127"
like "$(cat "$T/err")" "rt: run: *" "with rt's message"
is "$(echo piped | rt run -i $R cat)" "piped" "run -i passes stdin"
rt run -d --name sig $R sleep 100 >/dev/null
rt kill sig >/dev/null
is "$(rt wait sig)" 137 "killed by SIGKILL: 128+9"

# A large config: 200 arguments and 200 variables go through intact.
args=$(i=0; while [ $i -lt 200 ]; do printf ' a%d' $i; i=$((i + 1)); done)
envs=$(i=0; while [ $i -lt 200 ]; do printf ' -e V%d=%d' $i $i; i=$((i + 1)); done)
# shellcheck disable=SC2086
out=$(rt run --rm $envs $R sh -c 'echo $# $V0 $V199 ${200}' x $args)
is "$out" "200 0 199 a199" "200 arguments and 200 variables"

# --rm removes it at exit.
n=$(rt ps -aq | wc -l)
is "$(rt run --rm $R echo bye)" "bye" "run --rm"
is "$(rt ps -aq | wc -l)" "$n" "--rm container removed"
err=$(rt run --rm --restart always $R true 2>&1)
is $? 125 "--rm with --restart refused"

# wait, kill -s, stop -t escalating to SIGKILL.
rt run -d --name w $R sh -c 'sleep 1; exit 42' >/dev/null
is "$(rt wait w)" 42 "wait prints the exit code"
rt run -d --name k $R sh -c 'trap "exit 7" USR1; while :; do sleep 0.1; done' >/dev/null
sleep 0.3
is "$(rt kill -s USR1 k)" "k" "kill -s USR1"
is "$(rt wait k)" 7 "the container's handler ran"
err=$(rt kill k 2>&1)
is $? 1 "kill of a stopped container fails"
rt run -d --name stubborn $R sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null
sleep 0.3
start=$(date +%s)
rt stop -t 1 stubborn >/dev/null
end=$(date +%s)
[ $((end - start)) -ge 1 ] && [ $((end - start)) -le 4 ]; ok $? "stop -t 1 of a TERM-ignoring container took $((end - start)) s"
like "$(rt ps -a)" "*Exited (137)*stubborn*" "killed with SIGKILL after the timeout"
is "$(rt rm -f stubborn)" "stubborn" "rm -f of a stopped container"
rt run -d --name doomed $R sleep 100 >/dev/null
is "$(rt rm -f doomed)" "doomed" "rm -f of a running container"
err=$(rt logs doomed 2>&1)
like "$err" "*no such container: doomed*" "gone"

# Names: taken, invalid; ids by prefix.
rt run -d --name dup $R sleep 100 >/dev/null
err=$(rt run -d --name dup $R true 2>&1)
is $? 125 "a taken name is refused"
like "$err" "*The container name \"/dup\" is already in use*" "with Docker's message"
err=$(rt run --name 'bad/name' $R true 2>&1)
is $? 125 "an invalid name is refused"
pfx=$(rt inspect dup | sed -n 's/.*"Id": "\(.....\).*/\1/p')
is "$(rt stop -t 0 "$pfx")" "$pfx" "a unique id prefix names a container"
is "$(rt inspect dup | grep -c '"Status": "exited"')" 1 "inspect shows the state"
err=$(rt run nosuchimage true 2>&1)
is $? 125 "an image name without a store: 125"
like "$err" "rt: run: *o such image: nosuchimage*" "and an honest message"

# Signals to an attached `rt run` reach the container (sig-proxy).
"$RT" --root "$T/root" --run "$T/run" run $R sh -c 'trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done' > "$T/sigout" &
cli=$!
wait_for grep -q ready "$T/sigout"
kill -TERM $cli
wait $cli
is $? 9 "SIGTERM to an attached run is forwarded; its exit code comes back"

# A detached container with a terminal: output lands in its log.
rt run -d -t --name dt $R sh -c 'echo on-a-tty; tty' >/dev/null
rt wait dt >/dev/null
like "$(rt logs dt)" "on-a-tty*/dev/pts/*" "run -d -t: the terminal's output is logged"
like "$(rt ps -a --format json)" '*"name":"dt"*"state":"exited"*' "ps --format json"

# The log ring's size per container, and mirroring of its lines.
LOOP='i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i + 1)); done'
rt run --name lsmall --log-size 4 $R sh -c "$LOOP" >/dev/null
out=$(rt logs lsmall)
like "$out" "*line-1999" "--log-size 4: the newest lines kept"
n=$(echo "$out" | wc -l)
[ "$n" -gt 10 ] && [ "$n" -lt 400 ]; ok $? "--log-size 4: the oldest dropped, 4 KiB kept ($n lines)"
rt run --name ldef $R sh -c "$LOOP" >/dev/null
is "$(rt logs ldef | wc -l)" 2000 "default ring (LOG_RING_KB) keeps all 2000 lines"
rt rm lsmall ldef >/dev/null
err=$(rt run --log-size 3 $R true 2>&1)
is $? 2 "--log-size below 4 KiB refused"
like "$err" "*invalid --log-size '3' (KiB, 4 to 4096)*" "with the bounds"
rt run --log-size 4097 $R true 2>/dev/null
is $? 2 "--log-size above 4096 KiB refused"
rt run --log-mirror syslog $R true 2>/dev/null
is $? 2 "--log-mirror other than console, kmsg: refused"
rt run --rm --log-mirror console $R true
is $? 0 "--log-mirror console accepted"
tok=mirror-$$-$(date +%s%N)
rt run --rm --name km --log-mirror kmsg $R sh -c "echo $tok; echo second-$tok" >/dev/null
if dmesg >/dev/null 2>&1; then
	wait_for sh -c "dmesg | grep -q 'km: second-$tok'"
	like "$(dmesg | grep "$tok")" "*km: $tok*km: second-$tok*" "--log-mirror kmsg: each line in the kernel log, named"
else
	skip "dmesg not readable"
fi

rt_daemon_stop
is $? 0 "daemon exits 0 on SIGTERM"
done_testing
