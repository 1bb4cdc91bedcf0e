#!/bin/sh
# The daemon across restarts, volumes, exec, and hostile clients on the
# control socket (malformed, oversized, half frames, too many connections):
# the loop survives, answers, and leaks no fd.
. "$(dirname "$0")/lib.sh"

need_daemon
mk_rootfs || skip_all "no /bin/busybox (apt-get install busybox-static)"
R="--rootfs $T/rootfs"
rt_daemon_start || skip_all "rt daemon does not start"

# Volumes: a named volume outlives the container that wrote it.
is "$(rt volume create data)" "data" "volume create"
like "$(rt volume ls)" "DRIVER    VOLUME NAME*local     data*" "volume ls"
rt run --rm -v data:/data $R sh -c 'echo kept > /data/f'
is "$(rt run --rm -v data:/data:ro $R cat /data/f)" "kept" "a second container reads it"
rt run --rm -v data:/data:ro $R sh -c 'echo x > /data/g' 2>/dev/null
[ $? -ne 0 ]; ok $? ":ro volume is read-only"
rt run -v auto:/a --name vuser $R true
[ -d "$T/root/volumes/auto" ]; ok $? "a named volume is created on first use"
err=$(rt volume rm auto 2>&1)
is $? 1 "volume rm refuses a volume in use"
like "$err" "*volume is in use - \[vuser\]*" "and names the user"
rt rm vuser >/dev/null
is "$(rt volume rm auto)" "auto" "volume rm once unused"
like "$(rt volume inspect data)" "*\"Mountpoint\": \"$T/root/volumes/data\"*" "volume inspect"
mkdir -p "$T/host"
echo bound > "$T/host/f"
is "$(rt run --rm -v "$T/host:/h" $R cat /h/f)" "bound" "bind mount of a host dir"

# exec in a running container.
rt run -d --name ex -e FOO=bar $R sleep 100 >/dev/null
is "$(rt exec ex sh -c 'echo $FOO')" "bar" "exec sees the container's env"
is "$(rt exec -e FOO=baz ex sh -c 'echo $FOO')" "baz" "exec -e overrides"
rt exec ex sh -c 'exit 5'
is $? 5 "exec returns the exit code"
is "$(echo in | rt exec -i ex cat)" "in" "exec -i"
is "$(rt exec -w /tmp ex pwd)" "/tmp" "exec -w"
rt exec ex nosuchcmd 2>/dev/null
is $? 127 "exec of a missing command: 127"
rt stop -t 0 ex >/dev/null
err=$(rt exec ex true 2>&1)
like "$err" "*is not running*" "exec in a stopped container fails"

# The daemon restarts: records found, always/unless-stopped started again.
rt run -d --name keep --restart always --stop-timeout 1 $R sleep 100 >/dev/null
rt run -d --name us --restart unless-stopped --stop-timeout 1 $R sleep 100 >/dev/null
rt run -d --name us2 --restart unless-stopped --stop-timeout 1 $R sleep 100 >/dev/null
rt stop -t 0 us2 >/dev/null
rt create --name fresh $R echo hi >/dev/null
rt_daemon_stop
is $? 0 "daemon stopped"
[ -S "$T/run/rt.sock" ]; ok $((!$?)) "socket removed"
rt_daemon_start
ok $? "daemon started again"
out=$(rt ps -a)
like "$out" "*Up *keep*" "always: started again"
echo "$out" | grep -q 'Up .* us$'; ok $? "unless-stopped: started again"
like "$out" "*Exited (137) *us2*" "unless-stopped, stopped by the user: not started"
like "$out" "*Created *fresh*" "created one still there"
is "$(rt start -a fresh)" "hi" "and can be started"

# A --rm container's record is written without fsync (it goes at its end):
# one left by a crash, or cut short by a power cut (empty), is removed at
# the next start, as Docker removes --rm containers at daemon start.
rt run -d --rm --name gone $R sleep 20 >/dev/null
gone=$(rt inspect gone | sed -n 's/.*"Id": "\(.*\)".*/\1/p')
[ -f "$T/root/containers/$gone/config.json" ]; ok $? "a --rm container has a record"
cut=$(printf '%064d' 0 | tr 0 c)
mkdir "$T/root/containers/$cut" && : > "$T/root/containers/$cut/config.json"
kill -9 "$RT_DAEMON_PID"; wait "$RT_DAEMON_PID" 2>/dev/null
RT_DAEMON_PID=
rm -f "$T/run/rt.sock"
rt_daemon_start
ok $? "daemon started after kill -9"
out=$(rt ps -a)
case $out in *gone*) false ;; esac; ok $? "the --rm container's record is gone"
[ ! -e "$T/root/containers/$gone" ] && [ ! -e "$T/root/containers/$cut" ]
ok $? "and so is the empty record, without a word"
! grep -q "container cccccccccccc" "$T/daemon.log"; ok $? "(nothing said about it)"
like "$out" "*Up *keep*" "the others are still there"

# Terminals: run -it and exec -it relay a pty; the exit code comes back.
cat > "$T/term.py" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent, end = b"", False, time.time() + 10
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if not sent and b"# " in out:
        os.write(fd, b"echo hello-$((6*7)); tty; exit 3\r")
        sent = True
    if fd in r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.WEXITSTATUS(st))
PY
if python3 -c 'import pty' 2>/dev/null; then
	out=$(python3 "$T/term.py" "$RT" --root "$T/root" --run "$T/run" run -it --rm $R sh)
	is $? 3 "run -it: exit code of the shell"
	like "$out" "*hello-42*/dev/pts/0*" "run -it: a terminal inside, input and output relayed"
	rt run -d --name tt $R sleep 100 >/dev/null
	out=$(python3 "$T/term.py" "$RT" --root "$T/root" --run "$T/run" exec -it tt sh)
	is $? 3 "exec -it: exit code"
	like "$out" "*hello-42*/dev/pts/*" "exec -it: a terminal"
	rt rm -f tt >/dev/null
else
	skip "no python3 pty"; skip "no python3 pty"; skip "no python3 pty"; skip "no python3 pty"
fi

# logs -f follows until the container stops.
rt run -d --name lf $R sh -c 'echo a; sleep 1; echo b; sleep 0.5' >/dev/null
out=$(timeout 10 "$RT" --root "$T/root" --run "$T/run" logs -f lf)
is $? 0 "logs -f ends when the container stops"
is "$(echo $out)" "a b" "logs -f saw output written after it started"
rt rm lf >/dev/null

# RSS of the supervisor with 10 running containers.
i=0
while [ $i -lt 10 ]; do
	rt run -d --stop-timeout 1 $R sh -c 'while :; do echo tick; sleep 0.1; done' >/dev/null
	i=$((i + 1))
done
sleep 1
rss=$(awk '/^VmRSS/ { print $2 }' /proc/"$RT_DAEMON_PID"/status)
# Quoted by the README: keep the wording.
echo "# supervisor RSS with 10 running containers: $rss KiB (peak $(awk '/^VmHWM/ { print $2 }' /proc/"$RT_DAEMON_PID"/status) KiB)"
[ "$rss" -lt 1024 ]; ok $? "supervisor RSS with 10 running containers: $rss KiB (< 1 MiB)"
rt rm -f $(rt ps -q) >/dev/null

# Hostile clients.
fds() { ls /proc/"$RT_DAEMON_PID"/fd | wc -l; }
sleep 0.5   # the last client's socket is closed once the daemon sees it hang up
before=$(fds)
python3 - "$T/run/rt.sock" <<'PY'
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
cases = [
    b"J\xff\xff\xff",                          # 16 MiB frame
    b"J\x01\x00\x01" + b"x" * 100,             # over the 64 KiB limit
    b"X\x00\x00\x01a",                          # unknown type
    b"J\x00\x00\x03{{{",                        # not JSON
    b"J\x00\x00\x0c{\"op\":\"ps\"}}",           # wrong length
    b"J\x00\x00\x0a[1,2,3,4]]",
    b"J\x00\x00\x0e{\"op\":\"stop\"}",
    b"O\x00\x00\x05hello",                      # data where a request belongs
    b"J\x00\x00\x20" + b"{\"op\":\"kill\",\"id\":\"x\",\"signal\":99}"[:32],
]
for c in cases:
    s = conn(); s.sendall(c)
    try:
        s.settimeout(2); s.recv(4096)
    except Exception:
        pass
    s.close()
# Half a frame, then silence: the loop must not wait for it.
half = conn(); half.sendall(b"J\x00\x00\x50{\"op\":")
# More clients than slots, a thousand at once.
many = []
for i in range(1000):
    try:
        many.append(conn())
    except Exception:
        pass
time.sleep(0.5)
for s in many: s.close()
half.close()
PY
ok $? "hostile clients sent"
wait_for sh -c "[ \$(ls /proc/$RT_DAEMON_PID/fd | wc -l) = $before ]"
like "$(rt ps -a)" "CONTAINER ID*us2*" "daemon still answers"
is "$(fds)" "$before" "no fd leaked ($before)"
kill -0 "$RT_DAEMON_PID"; ok $? "daemon alive"

# Many short runs: fd count flat.
sleep 0.5
before=$(fds)
i=0
while [ $i -lt 100 ]; do rt run --rm $R true; i=$((i + 1)); done
# The daemon closes a client's socket when it sees it hang up: let it.
wait_for sh -c "[ \$(ls /proc/$RT_DAEMON_PID/fd | wc -l) = $before ]"
is "$(fds)" "$before" "fd count flat after 100 run --rm"

rt_daemon_stop
is $? 0 "daemon exits 0"
done_testing
