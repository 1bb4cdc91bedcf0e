#!/bin/sh
# /sys/fs/cgroup in a container: its own cgroup only (its limits visible
# there), read-only, and nothing of rt's other containers: not their
# cgroups, not their limits, not their processes.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-runtime.sh"

hostile_start
R="--rootfs $T/rootfs"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
	mem=memory.max pids=pids.max
else
	mem=memory/memory.limit_in_bytes pids=pids/pids.max
fi
[ -e "/sys/fs/cgroup/$mem" ] || [ -e "/sys/fs/cgroup/${mem%%/*}" ] || skip_all "no memory controller here"

rt run -d --name other --memory 48m --pids-limit 33 $R sleep 100 >/dev/null
out=$(rt run --rm --memory 32m --pids-limit 64 $R sh -c "cat /sys/fs/cgroup/$mem /sys/fs/cgroup/$pids" 2>&1)
is "$out" "33554432
64" "the container's own limits in /sys/fs/cgroup"
out=$(rt run --rm --memory 32m $R sh -c "mkdir /sys/fs/cgroup/${mem%/*}/x 2>/dev/null && echo WROTE;
	{ echo 1 > /sys/fs/cgroup/$mem; } 2>/dev/null && echo WROTE; echo done" 2>&1)
is "$out" "done" "read-only: no new cgroup, no limit raised"
out=$(rt run --rm --memory 32m --pids-limit 64 $R sh -c \
	"grep -rl -e 50331648 -e '^33\$' /sys/fs/cgroup 2>/dev/null | head -3; find /sys/fs/cgroup -name rt -o -name '*????????????????????????????????????????????????????????????????' | head -3" 2>&1)
is "$out" "" "no trace of the other container: its limits, its cgroup, rt's own"
rt rm -f other >/dev/null

hostile_end
