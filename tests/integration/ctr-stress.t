#!/bin/sh
# The supervisor under load: 10,000 zombies with and without --init,
# a container that exits at once under restart=always, 1,000 `run --rm`
# cycles with the daemon's fd count checked, and job control in `-it sh`.
. "$(dirname "$0")/lib.sh"

need_daemon
mk_rootfs || skip_all "no /bin/busybox (apt-get install busybox-static)"
R="--rootfs $T/rootfs"
rt_daemon_start || skip_all "rt daemon does not start"

fds() { ls /proc/"$RT_DAEMON_PID"/fd | wc -l; }
ms() { date +%s%3N; }
# Zombies anywhere on the host (state Z), our own shell's children aside.
zombies() { ps -e -o stat= -o ppid= | awk -v me=$$ '$1 ~ /^Z/ && $2 != me' | wc -l; }
# ps answered within 10 s: the loop is not stuck behind the load. A
# liveness bound, not a speed goal (speed is the benchmarks' business, and
# this machine is shared).
quick_ps() {
	_t0=$(ms)
	rt ps >/dev/null || return 1
	[ $(($(ms) - _t0)) -lt 10000 ]
}

# 10,000 children that exit at once, left unreaped by the shell that forked
# them: once it exits they belong to the container's PID 1, which must reap.
FORK='i=0; while [ $i -lt 10000 ]; do sh -c "exit 0" & i=$((i + 1)); done'
for mode in --init --no-init; do
	name=z${mode#--}
	z0=$(zombies)
	rt run -d --name $name --stop-timeout 1 $mode $R \
		sh -c "sh -c '$FORK'; echo forked; exec sleep 100" >/dev/null
	slow=0
	n=0
	while ! rt logs $name 2>/dev/null | grep -q forked; do
		quick_ps || slow=$((slow + 1))
		n=$((n + 1))
		[ $n -ge 1200 ] && break
		sleep 0.1
	done
	like "$(rt logs $name)" "forked" "$mode: 10,000 children forked"
	is $slow 0 "$mode: ps kept answering throughout ($n polls)"
	if [ $mode = --init ]; then
		wait_for sh -c "[ \$(ps -e -o stat= | grep -c '^Z') -le $z0 ]"
		ok $? "--init: rt's init reaps the orphans while the container runs"
	fi
	rt rm -f $name >/dev/null
	wait_for sh -c "[ \$(ps -e -o stat= | grep -c '^Z') -le $z0 ]"
	ok $? "$mode: no zombie left on the host after the container ($(zombies), $z0 before)"
done

# A container that exits at once, restarted for ever: the loop keeps
# answering and its fd count does not grow.
sleep 0.5
before=$(fds)
rt run -d --name flap --restart always $R true >/dev/null
slow=0
n=0
while [ $n -lt 40 ]; do
	quick_ps || slow=$((slow + 1))
	n=$((n + 1))
	sleep 0.1
done
is $slow 0 "restart=always of an instant exit: ps kept answering ($n polls)"
like "$(rt inspect flap)" "*\"RestartCount\": [1-9]*" "and it was restarted"
peak=$(fds)
rt rm -f flap >/dev/null
wait_for sh -c "[ \$(ls /proc/$RT_DAEMON_PID/fd | wc -l) = $before ]"
is "$(fds)" "$before" "fd count flat across the restarts ($before, $peak while flapping)"

# 1,000 run --rm cycles: fd count flat, the time reported.
sleep 0.5
before=$(fds)
t0=$(ms)
i=0
fail=0
while [ $i -lt 1000 ]; do
	rt run --rm $R true || fail=$((fail + 1))
	i=$((i + 1))
done
t=$(($(ms) - t0))
echo "# 1000 run --rm cycles: $t ms ($((t / 1000)) ms each)"
is $fail 0 "1,000 run --rm all exited 0"
wait_for sh -c "[ \$(ls /proc/$RT_DAEMON_PID/fd | wc -l) = $before ]"
is "$(fds)" "$before" "fd count flat after 1,000 run --rm ($before)"
is "$(rt ps -aq | wc -l)" 0 "and no container left behind"

# Job control in `-it sh`, with and without --init: the shell owns the
# terminal's foreground process group, so `&`, jobs and kill %1 work.
cat > "$T/job.py" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
steps = [b"sleep 100 &\r", b"jobs; echo JOBS-$((1+1))\r",
         b"kill %1; wait; echo KILLED-$((2+1))\r", b"exit 3\r"]
out, end, sent = b"", time.time() + 15, 0
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    # One step a prompt: the shell is ready for the next line.
    if sent < len(steps) and out.count(b"# ") > sent:
        os.write(fd, steps[sent])
        sent += 1
    if fd in r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
if time.time() >= end:
    os.kill(pid, 9)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 99)
PY
if python3 -c 'import pty' 2>/dev/null; then
	for mode in --init --no-init; do
		out=$(python3 "$T/job.py" "$RT" --root "$T/root" --run "$T/run" run -it --rm $mode $R sh)
		is $? 3 "$mode -it sh: exit code"
		case $out in
		*"job control turned off"*) ok 1 "$mode -it sh: job control on"
			echo "$out" | sed 's/^/#   /' ;;
		*) ok 0 "$mode -it sh: job control on" ;;
		esac
		like "$out" "*\[1\]*Running*sleep 100*JOBS-2*" "$mode -it sh: jobs lists the background job"
		like "$out" "*KILLED-3*" "$mode -it sh: kill %1 reaches it"
	done
else
	for i in 1 2 3 4 5 6 7 8; do skip "no python3 pty"; done
fi

kill -0 "$RT_DAEMON_PID"; ok $? "daemon alive"
rt_daemon_stop
is $? 0 "daemon exits 0"
done_testing
