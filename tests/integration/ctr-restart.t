#!/bin/sh
# Restart policies: always with backoff (ps shows Restarting), the crash-loop
# state, on-failure:N giving up, no restart after a user's stop, restart.
. "$(dirname "$0")/lib.sh"

need_daemon
mk_rootfs || skip_all "no /bin/busybox (apt-get install busybox-static)"
R="--rootfs $T/rootfs"
rt_daemon_start || skip_all "rt daemon does not start"

count() { rt logs "$1" 2>/dev/null | grep -c "^run$"; }

# always: restarted, but never two starts less than ~1 s apart.
rt run -d --name al --restart always $R sh -c 'echo run; exit 1' >/dev/null
sleep 0.4
like "$(rt ps)" "*Restarting (1) *al*" "always: ps shows Restarting between runs"
sleep 2.2
n=$(count al)
[ "$n" -ge 2 ] && [ "$n" -le 4 ]; ok $? "always: restarted with a floor of ~1 s ($n runs in 2.6 s)"
like "$(rt inspect al)" "*\"RestartCount\": [1-9]*" "inspect counts restarts"

# Quick deaths fill the tally: crash-loop, restarted only after the long backoff.
wait_for sh -c "\"$RT\" --root \"$T/root\" --run \"$T/run\" ps | grep -q 'Crash-loop (1)'"
ok $? "5 quick deaths: ps shows Crash-loop"
n1=$(count al)
sleep 2
is "$(count al)" "$n1" "crash-loop: no restart within the next 2 s"
like "$(rt inspect al)" "*\"CrashLoop\": true*" "inspect says crash-loop"
is "$(rt stop al)" "al" "stop a crash-looping container"
like "$(rt ps -a)" "*Exited (1) *al*" "stopped: exited"
rt start al >/dev/null
sleep 0.3
like "$(rt ps)" "*Restarting (1) *al*" "start resets it: back to plain restarting"
rt rm -f al >/dev/null

# on-failure:2 gives up after two restarts; exit 0 is not a failure.
rt run -d --name of --restart on-failure:2 $R sh -c 'echo run; exit 3' >/dev/null
wait_for sh -c "\"$RT\" --root \"$T/root\" --run \"$T/run\" ps -a | grep -q 'Exited (3).*of'"
ok $? "on-failure:2 ends exited"
sleep 1.5
is "$(count of)" 3 "on-failure:2: three runs in all"
rt run -d --name ok0 --restart on-failure $R sh -c 'echo run; exit 0' >/dev/null
sleep 1.5
is "$(count ok0)" 1 "on-failure: exit 0 is not restarted"

# A user's stop or kill is not undone by the policy.
rt run -d --name st --restart always $R sleep 100 >/dev/null
rt kill st >/dev/null
sleep 1.5
like "$(rt ps -a)" "*Exited (137) *st*" "always, killed by the user: stays down"

# restart: a new run of the same container, same id.
rt run -d --name rs $R sh -c 'echo run; sleep 100' >/dev/null
id1=$(rt inspect rs | grep '"StartedAt"')
sleep 1
is "$(rt restart -t 0 rs)" "rs" "restart"
wait_for sh -c "[ \$(\"$RT\" --root \"$T/root\" --run \"$T/run\" logs rs | grep -c run) = 2 ]"
ok $? "restart ran it again"
like "$(rt ps)" "*Up *rs*" "and it is up"
[ "$id1" != "$(rt inspect rs | grep '"StartedAt"')" ]; ok $? "with a new start time"

rt_daemon_stop
is $? 0 "daemon stops every container and exits 0"
done_testing
