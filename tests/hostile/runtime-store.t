#!/bin/sh
# What rt keeps on disk is not for other users: the store root and the run
# dir are 0700 as rt makes them, and an unprivileged user can read none of
# a container's record (its environment may hold secrets), its writable
# layer or its volumes, even where the directories around them are open.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-runtime.sh"

command -v setpriv >/dev/null || skip_all "no setpriv (util-linux)"
hostile_start
# The test's own tmpfs is 0700; open it, so only rt's modes stand between
# another user and the store.
chmod 755 "$T"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

id=$(rt run -d --name keep -e SECRET=hunter2 -v vol1:/data --rootfs "$T/rootfs" \
	sh -c 'echo private > /data/f; echo layer > /tmp/f; sleep 100')
is $? 0 "a container with a secret, a named volume and files in its writable layer"
sleep 0.3
is "$(stat -c %a "$T/root")" "700" "the store root is 0700"
is "$(stat -c %a "$T/run")" "700" "the run dir is 0700"
for p in "$T/root" "$T/run" "$T/root/containers" "$T/root/volumes" "$T/run/containers"; do
	as_nobody ls "$p" >/dev/null 2>&1
	is $? 2 "another user cannot list ${p#"$T"/}"
done
for f in "$T/root/containers/$id/config.json" "$T/root/volumes/vol1/f" \
	"$T/run/containers/$id/rw/upper/tmp/f"; do
	[ -e "$f" ] || { ok 1 "$f exists"; continue; }
	as_nobody cat "$f" >/dev/null 2>&1
	is $? 1 "another user cannot read ${f#"$T"/}"
done
out=$(find "$T/root" "$T/run" -perm -o=r -type f 2>/dev/null |
	while read -r f; do as_nobody cat "$f" >/dev/null 2>&1 && echo "$f"; done)
is "$out" "" "no file under the store or the run dir is readable by another user"
rt rm -f keep >/dev/null

hostile_end
