#!/bin/sh
# Leaked fds and working directories on procfs (CVE-2024-21626): -w through
# /proc/self/fd/N, /proc/self/cwd, /proc/1/cwd is refused; a container
# and an exec'd process see fds 0-2 only, whatever the daemon and the
# client hold; stdin, stdout and stderr are pipes, so nothing the client
# gave (a directory, a file) can be reopened through /proc/self/fd/N.
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

# The container's stdio are pipes the daemon made, never the client's own
# fds: through /proc/self/fd/N it could otherwise reopen them with any
# access, a directory to walk the host's tree, a file given as stdin for
# writing, a file given as stdout for reading.
out=$(rt run --rm -i $R sh -c 'ls /proc/self/fd/0/; readlink /proc/self/fd/0' <"$CANARY/.." 2>&1)
like "$out" "*pipe:*" "run -i with a directory as stdin: the container gets a pipe"
case $out in *canary*|*rootfs*) false ;; esac
ok $? "...and cannot list the directory through it"
out=$(rt exec -i fds sh -c 'ls /proc/self/fd/0/; readlink /proc/self/fd/0' <"$CANARY/.." 2>&1)
like "$out" "*pipe:*" "exec -i with a directory as stdin: a pipe"
case $out in *canary*|*rootfs*) false ;; esac
ok $? "...and the directory cannot be listed through it"

echo "the client's file" > "$T/stdin-file"
rt run --rm -i $R sh -c 'echo written > /proc/self/fd/0' <"$T/stdin-file" >/dev/null 2>&1
is "$(cat "$T/stdin-file")" "the client's file" "run -i: a file given as stdin cannot be written through /proc/self/fd/0"
rt exec -i fds sh -c 'echo written > /proc/self/fd/0' <"$T/stdin-file" >/dev/null 2>&1
is "$(cat "$T/stdin-file")" "the client's file" "exec -i: nor through the exec'd process's"
echo "the client's log" > "$T/stdout-file"
# Reopened for reading, the stdout pipe holds nothing to read (and never
# ends: its own fd 1 is a writer), hence the bound.
rt exec fds sh -c 'exec 3</proc/self/fd/1; timeout 2 cat <&3 >&2' >>"$T/stdout-file" 2>"$T/stdout-read"
! grep -q "client's log" "$T/stdout-read"
ok $? "exec: a file given as stdout cannot be read through /proc/self/fd/1"
rt run --rm $R sh -c 'exec 3</proc/self/fd/1; timeout 2 cat <&3 >&2' >>"$T/stdout-file" 2>"$T/stdout-read"
! grep -q "client's log" "$T/stdout-read"
ok $? "run: nor the container's"
is "$(rt exec -i fds sh -c 'for f in 0 1 2; do readlink /proc/self/fd/$f; done' </dev/null | sed 's/:.*//')" "pipe
pipe
pipe" "exec -i: stdin, stdout and stderr are pipes"
is "$(rt exec fds sh -c 'readlink /proc/self/fd/0' </dev/null)" "/dev/null" "exec without -i: stdin is the container's /dev/null"

# Input and output relayed both ways through the pipes, larger than a
# pipe's buffer, with a process that writes before it has read it all.
head -c 1000000 /dev/urandom > "$T/big"
is "$(rt exec -i fds cat <"$T/big" | sha256sum)" "$(sha256sum <"$T/big")" "exec -i: 1 MB in and out unchanged"
is "$(rt run --rm -i $R cat <"$T/big" | sha256sum)" "$(sha256sum <"$T/big")" "run -i: 1 MB in and out unchanged"
is "$(printf 'a\nb\n' | rt exec -i fds sh -c 'cat; echo err >&2; exit 3' 2>&1)" "a
b
err" "exec -i: stdout and stderr relayed"
printf 'x' | rt exec -i fds sh -c 'cat >/dev/null; exit 3'
is $? 3 "exec -i: the exit code comes back"
rt rm -f fds >/dev/null

hostile_end
