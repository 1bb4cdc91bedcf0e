#!/bin/sh
# Leaked fds and working directories on procfs (CVE-2024-21626): -w through
# /proc/self/fd/N, /proc/self/cwd, /proc/1/cwd is refused; a container
# and an exec'd process see fds 0-2 only, whatever the daemon and the
# client hold; a directory as stdin, which would open the host's tree
# through /proc/self/fd/0, is refused.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-runtime.sh"

hostile_start
R="--rootfs $T/rootfs"

for wd in /proc/self/fd/3 /proc/self/fd/7 /proc/thread-self/fd/3 /proc/self/cwd /proc/1/cwd /proc/1/root; do
	out=$(rt run -w "$wd" $R pwd 2>&1)
	refused "$out" $? "sandbox: workdir*" "-w $wd: refused"
done
out=$(rt run -w /proc/self/fd/7/.. $R pwd 2>&1)
refused "$out" $? "sandbox: workdir: /proc/self/fd/7/..: \".\" or \"..\" in the path*" "-w with a \"..\": refused"

# Only 0-2, with extra fds open in the client (a directory among them).
out=$(rt run --rm -i $R sh -c 'ls /proc/self/fd' 7<"$CANARY_DIR" 8<"$CANARY_FILE" </dev/null 2>&1)
is "$out" "0
1
2
3" "run -i: the container has fds 0-2 (3 is ls's own), none of the client's others"
rt run -d --name fds $R sleep 100 >/dev/null
out=$(rt exec fds sh -c 'ls /proc/self/fd' 7<"$CANARY_DIR" 8<"$CANARY_FILE" 2>&1)
is "$out" "0
1
2
3" "exec: fds 0-2 only, none of the daemon's or the client's"
out=$(rt exec fds sh -c 'ls /proc/1/fd' 2>&1)
is "$out" "0
1
2" "the container's PID 1: fds 0-2 only"
out=$(rt exec -w /proc/self/fd/3 fds pwd 2>&1)
is $? 127 "exec -w /proc/self/fd/3: refused"
like "$out" "rt: exec: *workdir*" "...with rt's message"

# A directory as stdin: the container could walk the host's tree through
# /proc/self/fd/0. Refused, for run and for exec.
out=$(rt run -i $R sh -c 'ls /proc/self/fd/0/' <"$CANARY/.." 2>&1)
refused "$out" $? "sandbox: stdin is a directory: refused*" "run -i with a directory as stdin: refused"
out=$(rt exec -i fds sh -c 'ls /proc/self/fd/0/' <"$CANARY/.." 2>&1)
[ $? != 0 ]
ok $? "exec -i with a directory as stdin: refused"
like "$out" "rt: exec: *stdin is a directory: refused*" "...with rt's message"

# A regular file as stdin can be reopened for writing through
# /proc/self/fd/0 (and a file as stdout for reading): only pipes between
# the client and the container would stop that.
echo "the client's file" > "$T/stdin-file"
rt run --rm -i $R sh -c 'echo written > /proc/self/fd/0' <"$T/stdin-file" >/dev/null 2>&1
[ "$(cat "$T/stdin-file")" = "the client's file" ]
todo $? "run -i: a file given as stdin cannot be written through /proc/self/fd/0" \
	"the client passes its own fds; relay stdio through pipes"
echo "the client's log" > "$T/stdout-file"
rt exec fds sh -c 'exec 3</proc/self/fd/1; cat <&3 >&2' >>"$T/stdout-file" 2>"$T/stdout-read"
! grep -q "client's log" "$T/stdout-read"
todo $? "exec: a file given as stdout cannot be read through /proc/self/fd/1" \
	"the client passes its own fds; relay stdio through pipes"
rt rm -f fds >/dev/null

hostile_end
