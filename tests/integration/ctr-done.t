#!/bin/sh
# Containers end to end, from an image mkimage builds out of Debian's
# busybox-static and loads signed: a command's output, a web server on
# the host network answering curl, an interactive shell driven through
# tmux, exec, two containers of one image with their own writable layers,
# a named volume that outlives rm, resource limits in the cgroup files,
# --tmpfs mounts. In a network namespace of its own, so the web server's
# port cannot clash with anything.
if [ -z "${RT_TEST_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	RT_TEST_NETNS=1 exec unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/lib-sign.sh"

need_daemon
[ -n "${RT_TEST_NETNS:-}" ] || skip_all "cannot make a network namespace"
"$RT" --help | grep -q '^  load ' || skip_all "rt built without the image verbs"
[ -x "$MKIMAGE" ] || skip_all "no $MKIMAGE (run make)"
mk_rootfs || skip_all "no /bin/busybox (apt-get install busybox-static)"
ip link set lo up || skip_all "cannot bring up lo"
rt_daemon_start || skip_all "rt daemon does not start"

# The image: busybox, an os-release, a page.
printf 'PRETTY_NAME="rt test image"\nID=rt-test\nVERSION_ID=1\n' > "$T/rootfs/etc/os-release"
mkdir -p "$T/rootfs/www"
echo "served by rt" > "$T/rootfs/www/index.html"
chmod 1777 "$T/rootfs/tmp"
"$MKIMAGE" build -o "$T/img" --arch amd64 --layer "$T/rootfs" --tag done:1 \
	--env PATH=/bin --cmd '["sh"]' >/dev/null &&
	sign_image "$T/img" &&
	rt load -i "$T/img" >/dev/null
ok $? "an image built by mkimage, signed and loaded"
I=done:1

# cat /etc/os-release
is "$(rt run --rm $I cat /etc/os-release)" "$(cat "$T/rootfs/etc/os-release")" \
	"run --rm IMAGE cat /etc/os-release"
is "$(rt ps -aq | wc -l)" 0 "...and --rm removed it"

# A web server on the host network.
rt run -d --name web --network host $I httpd -f -p 8080 -h /www >/dev/null
ok $? "run -d --name web --network host IMAGE httpd"
wait_for curl -sf http://127.0.0.1:8080/
is "$(curl -s http://127.0.0.1:8080/)" "served by rt" "curl gets the page from the container"

# exec
out=$(rt exec web ls /)
like "$out" "bin*dev*etc*proc*sys*tmp*www" "exec web ls /"
is "$(rt exec web cat /proc/1/cmdline | tr '\0' ' ')" "httpd -f -p 8080 -h /www " \
	"exec joins its PID namespace: httpd is PID 1 there"
rt rm -f web >/dev/null
curl -s http://127.0.0.1:8080/ >/dev/null
[ $? != 0 ]; ok $? "rm -f web: the port is free again"

# An interactive shell on a terminal, driven through tmux.
if command -v tmux >/dev/null; then
	TM="tmux -S $T/tmux.sock"
	$TM new-session -d -s rt -x 100 -y 20 \
		"$RT --root $T/root --run $T/run run -it --name term $I sh; echo \"exit=\$?\" > $T/term.exit; sleep 1000"
	prompt() { $TM capture-pane -p -t rt | grep -q '^/ #'; }
	wait_for prompt
	ok $? "run -it IMAGE sh: a prompt"
	$TM send-keys -t rt 'echo $((6*7))' Enter
	answered() { $TM capture-pane -p -t rt | grep -qx '42'; }
	wait_for answered
	ok $? "typed echo \$((6*7)), saw 42"
	like "$(rt exec term readlink /proc/1/fd/0)" "/dev/pts/*" "the shell is on a terminal"
	$TM send-keys -t rt 'exit' Enter
	wait_for test -s "$T/term.exit"
	is "$(cat "$T/term.exit" 2>/dev/null)" "exit=0" "typed exit: rt run ends with 0"
	like "$(rt ps -a)" "*Exited (0)*term*" "...and the container exited 0"
	$TM kill-server
	rt rm term >/dev/null
else
	skip "no tmux (make setup)"
	skip "no tmux"
	skip "no tmux"
	skip "no tmux"
	skip "no tmux"
fi

# Two containers of one image: each writes only its own layer.
rt run -d --name one $I sleep 1000 >/dev/null
rt run -d --name two $I sleep 1000 >/dev/null
rt exec one sh -c 'echo mine > /tmp/f; echo one > /etc/only-one; rm /www/index.html'
is "$(rt exec one cat /tmp/f /etc/only-one)" "mine
one" "one sees its own writes"
rt exec two sh -c 'ls /tmp/f /etc/only-one' >/dev/null 2>&1
[ $? != 0 ]; ok $? "two does not see them"
is "$(rt exec two cat /www/index.html)" "served by rt" "two still has the file one deleted"
is "$(rt run --rm $I sh -c 'ls /tmp/f /etc/only-one 2>/dev/null; cat /www/index.html')" "served by rt" \
	"nor does a new container: the image is unchanged"
rt rm -f one two >/dev/null

# A named volume outlives rm.
rt run --name writer -v keep:/data $I sh -c 'echo kept > /data/f'
is $? 0 "a container writes into a named volume"
rt rm writer >/dev/null
like "$(rt ps -a)" "CONTAINER ID*NAMES" "rm: the container is gone"
is "$(cat "$T/root/volumes/keep/f")" "kept" "the volume's data is still in the store"
is "$(rt run --rm -v keep:/data $I cat /data/f)" "kept" "and a new container reads it"

# Resource limits, in the container's cgroup files as the host sees them.
rt run -d --name lim --memory 48m --cpus 0.5 --pids-limit 77 $I sleep 1000 >/dev/null
pid=$(rt inspect lim | sed -n 's/.*"Pid": *\([0-9]*\).*/\1/p' | head -1)
[ -n "$pid" ] && [ "$pid" -gt 0 ]; ok $? "the limited container runs (pid $pid)"
cg() { # cg CONTROLLER FILE: the file of pid's cgroup, v1 or v2
	_p=$(sed -n "s/^[0-9]*:[^:]*\\b$1\\b[^:]*://p" /proc/$pid/cgroup | head -1)
	if [ -n "$_p" ] && [ -e "/sys/fs/cgroup/$1$_p/$2" ]; then
		cat "/sys/fs/cgroup/$1$_p/$2"
		return
	fi
	_p=$(sed -n 's/^0:://p' /proc/$pid/cgroup)
	for _r in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		[ -e "$_r$_p/$3" ] && { cat "$_r$_p/$3"; return; }
	done
}
case $("$RT" info | sed -n 's/^ *cgroups: *//p') in
v1)
	is "$(cg memory memory.limit_in_bytes)" 50331648 "--memory 48m: memory.limit_in_bytes"
	is "$(cg pids pids.max)" 77 "--pids-limit 77: pids.max"
	is "$(cg cpu cpu.cfs_quota_us)/$(cg cpu cpu.cfs_period_us)" 50000/100000 "--cpus 0.5: cpu.cfs_quota_us of cpu.cfs_period_us"
	is "$(rt exec lim cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max)" "50331648
77" "...and the same inside the container"
	;;
v2)
	is "$(cg x x memory.max)" 50331648 "--memory 48m: memory.max"
	is "$(cg x x pids.max)" 77 "--pids-limit 77: pids.max"
	is "$(cg x x cpu.max)" "50000 100000" "--cpus 0.5: cpu.max"
	is "$(rt exec lim cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max)" "50331648
77" "...and the same inside the container"
	;;
*)
	skip "no cgroups here"; skip "no cgroups here"; skip "no cgroups here"; skip "no cgroups here"
	;;
esac
rt rm -f lim >/dev/null

# --tmpfs: a fresh, capped tmpfs, nosuid and nodev, noexec unless asked.
out=$(rt run --rm --tmpfs /scratch:size=2m,mode=750 --tmpfs /run/x $I sh -c \
	'grep -E " /scratch | /run/x " /proc/mounts; stat -c %a /scratch /run/x; echo hi > /scratch/f && cat /scratch/f')
like "$out" "tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,*size=2048k,mode=750*" "--tmpfs /scratch:size=2m,mode=750"
like "$out" "*tmpfs /run/x tmpfs rw,nosuid,nodev,noexec,relatime,size=*" "--tmpfs /run/x: the defaults, capped (Kconfig TMPFS_DEFAULT_MB)"
like "$out" "*750
1777
hi" "modes as asked, and writable"
out=$(rt run --rm --tmpfs /scratch:size=1m $I sh -c 'dd if=/dev/zero of=/scratch/big bs=64k count=100 2>&1; du -k /scratch/big')
like "$out" "*No space left on device*" "size=1m: writing more fails"
like "$out" "*10[0-9][0-9]	/scratch/big" "...after about 1 MiB"
out=$(rt run --rm --tmpfs /x:exec,ro $I sh -c 'grep " /x " /proc/mounts; touch /x/f' 2>&1)
like "$out" "tmpfs /x tmpfs ro,nosuid,nodev,relatime*" "exec,ro: without noexec, read-only"
like "$out" "*Read-only file system*" "...and not writable"
rt run --rm --tmpfs /x:size=1m $I sh -c 'cp /bin/busybox /x/bb && /x/bb true' 2>/dev/null
[ $? != 0 ]; ok $? "noexec by default: a binary copied there does not run"
rt run --memory lots $I true 2>/dev/null
usage=$?
for bad in relative:size=1m /x:size=0 /x:size=lots /x:mode=9 /x:suid /x:dev /; do
	out=$(rt run --rm --tmpfs "$bad" $I true 2>&1)
	is "$?" "$usage" "--tmpfs $bad: refused as a bad flag"
	like "$out" "rt: run: invalid --tmpfs *" "...with one line"
done
rt run -d --name keep-tmp --tmpfs /t:size=1m $I sleep 1000 >/dev/null
rt exec keep-tmp sh -c 'echo x > /t/f'
rt restart -t 0 keep-tmp >/dev/null
is "$(rt exec keep-tmp ls /t)" "" "a restart starts with an empty tmpfs"
rt rm -f keep-tmp >/dev/null

# An app file's tmpfs line.
mkdir -p "$T/apps"
printf 'image = %s\ncmd = ["sleep", "1000"]\ntmpfs = /cache:size=3m\n' "$I" > "$T/apps/tapp.conf"
rt reload --apps "$T/apps" >/dev/null 2>&1
wait_for rt exec tapp true
like "$(rt exec tapp grep ' /cache ' /proc/mounts)" "tmpfs /cache tmpfs *size=3072k*" "tmpfs = /cache:size=3m in an app file"
rm "$T/apps/tapp.conf"
rt reload --apps "$T/apps" >/dev/null 2>&1

rt_daemon_stop
ok $? "the daemon exits 0"
done_testing
