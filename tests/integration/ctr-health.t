#!/bin/sh
# Health checks: --health-* flags, the image's Healthcheck, an app file's
# healthcheck keys; rt ps shows (health: starting), (healthy),
# (unhealthy) and rt inspect State.Health as Docker does; a check that
# hangs is killed at its timeout; an app that turns unhealthy is
# restarted, a plain container only marked. Liveness bounds only.
. "$(dirname "$0")/lib.sh"

need_daemon
"$RT" version | grep -q '+healthcheck' || skip_all "rt built without HEALTHCHECK"
mk_rootfs || skip_all "no /bin/busybox (apt-get install busybox-static)"
R="--rootfs $T/rootfs"

# until N CMD...: retry CMD for up to N seconds.
until_s() {
	_end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.1
	done
}
ps_has() { rt ps | grep -q -- "$1"; }
field() { # CONTAINER KEY: the first "KEY": value in its inspect output
	rt inspect "$1" | sed -n "s/^ *\"$2\": \"*\([^\",]*\)\"*,*\$/\1/p" | head -n 1
}

# Bad values: one line, exit 125, nothing created.
err=$(rt run -d --health-cmd true --health-retries -1 $R true 2>&1)
is $? 125 "--health-retries -1: exit 125"
like "$err" "rt: run: invalid --health-retries '-1'*" "with one line saying why"
is "$(printf '%s\n' "$err" | wc -l)" 1 "only one"
err=$(rt run -d --health-cmd true --health-interval xyz $R true 2>&1)
is $? 125 "--health-interval xyz: exit 125"
like "$err" "rt: run: invalid --health-interval 'xyz'*" "with one line saying why"
err=$(rt create --health-timeout 10 $R true 2>&1)
is $? 125 "a duration without a unit is refused"
err=$(rt run -d --no-healthcheck --health-cmd true $R true 2>&1)
is $? 125 "--no-healthcheck with --health-cmd is refused"
like "$err" "rt: run: --no-healthcheck conflicts with --health-* options" "as Docker says it"

rt_daemon_start || skip_all "rt daemon does not start"
is "$(rt ps -a -q | wc -l)" 0 "bad values created nothing"

# Starting, then healthy once the check passes. The start period keeps
# failures from counting until then.
rt run -d --name good --health-cmd 'test -f /tmp/ok' --health-interval 200ms \
	--health-start-period 1h $R sleep 1000 >/dev/null
like "$(rt ps)" "*Up * (health: starting) *good*" "ps: (health: starting)"
is "$(field good Status | tail -n 1)" "running" "inspect: running"
like "$(rt inspect good)" '*"Health": {*"Status": "starting"*' "inspect: State.Health starting"
until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run inspect good | grep -q '\"ExitCode\": 1'"
ok $? "failed checks are logged during the start period"
like "$(rt inspect good)" '*"Status": "starting",*"FailingStreak": 0,*' "but do not count"
rt exec good touch /tmp/ok
until_s 30 ps_has "(healthy)"
ok $? "ps: (healthy) once the check passes"
like "$(rt ps)" "*Up * (healthy) *good*" "in Docker's words"
like "$(rt inspect good)" '*"Health": {*"Status": "healthy",*"FailingStreak": 0,*"Log": \[*"ExitCode": 0,*' \
	"inspect: healthy, with the passing result in the log"
like "$(rt ps --format json)" '*"name":"good",*"health":"healthy"*' "the ps reply carries health"

# A failing check: unhealthy after retries, with its streak and log; a
# container not made from an app file is only marked.
rt run -d --name bad --restart always --health-cmd 'echo not ready; exit 3' \
	--health-interval 200ms --health-retries 2 $R sleep 1000 >/dev/null
until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run ps | grep -q '(unhealthy) *bad'"
ok $? "ps: (unhealthy) after retries failures"
until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run inspect bad | grep -q '\"FailingStreak\": \([5-9]\|[1-9][0-9]\)'"
ok $? "the failing streak keeps counting"
out=$(rt inspect bad)
like "$out" '*"Status": "unhealthy",*"FailingStreak": *' "inspect: unhealthy"
like "$out" '*"ExitCode": 3,*"Output": "not ready\\n"*' "the log has the exit code and the output"
is "$(printf '%s\n' "$out" | grep -c '"ExitCode": 3')" 5 "the last 5 results are kept"
like "$out" '*"Running": true,*' "a plain container is only marked: still running"
is "$(field bad RestartCount)" 0 "and not restarted"
like "$(cat "$T/daemon.log")" "*bad is unhealthy*" "the supervisor says so"

# A check that hangs is killed at its timeout, with what it started.
rt run -d --name hang --health-cmd 'sleep 99 & sleep 98' --health-interval 100ms \
	--health-timeout 300ms --health-retries 1 $R sleep 1000 >/dev/null
until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run inspect hang | grep -q '\"FailingStreak\": \([3-9]\|[1-9][0-9]\)'"
ok $? "a hanging check fails"
like "$(rt inspect hang)" '*"ExitCode": -1,*"Output": "Health check exceeded timeout (300ms)"*' \
	"killed at its timeout, as Docker reports it"
procs=$(rt exec hang ps)
like "$procs" "*sleep 1000*" "ps in the container lists its processes"
n=$(printf '%s\n' "$procs" | grep -c 'sleep 9[89]')
[ "$n" -le 2 ]; ok $? "the killed checks left nothing running ($n sleeps: at most the current check's)"
like "$(rt ps)" "*(unhealthy) *hang*" "ps: (unhealthy)"

# No check: nothing in ps or inspect.
rt run -d --name none $R sleep 1000 >/dev/null
like "$(rt ps | grep ' none$')" "*Up *none" "no check: Up"
case $(rt ps | grep ' none$') in *"("*) ok 1 "no parenthesis" ;; *) ok 0 "no parenthesis" ;; esac
case $(rt inspect none) in *'"Health"'*) ok 1 "no State.Health without a check" ;;
*) ok 0 "no State.Health without a check" ;; esac
like "$(rt ps --format json)" '*"name":"none",*"health":""*' "the ps reply says \"\""

# The check is gone with the container.
rt rm -f good bad hang none >/dev/null
is "$(rt ps -a -q | wc -l)" 0 "rm -f while checks run"
kill -0 "$RT_DAEMON_PID"; ok $? "the supervisor is still up"

# Images: the config's Healthcheck is used when no flag gives one.
if have_image_tools 2>/dev/null || { . "$TOP/tests/integration/lib-image.sh" && have_image_tools; }; then
	. "$TOP/tests/integration/lib-sign.sh"
	L=$T/oci
	umoci init --layout "$L" >/dev/null && umoci new --image "$L:empty" >/dev/null &&
		umoci_layer "$L" empty base "$(declare_rootfs)" &&
		umoci config --image "$L:base" --config.cmd /bin/sh >/dev/null &&
		umoci config --image "$L:base" --tag hc >/dev/null &&
		$PY - "$L" hc '{"Test":["CMD-SHELL","echo image check; test -f /tmp/ok"],"Interval":200000000,"Retries":2}' <<'EOF' &&
import hashlib, json, os, sys
lay, tag, hc = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def blob(d): return os.path.join(lay, 'blobs', 'sha256', d.split(':')[1])
def put(b):
    d = hashlib.sha256(b).hexdigest()
    open(os.path.join(lay, 'blobs', 'sha256', d), 'wb').write(b)
    return 'sha256:' + d, len(b)
idx = json.load(open(os.path.join(lay, 'index.json')))
for m in idx['manifests']:
    if m.get('annotations', {}).get('org.opencontainers.image.ref.name') == tag:
        man = json.load(open(blob(m['digest'])))
        cfg = json.load(open(blob(man['config']['digest'])))
        cfg.setdefault('config', {})['Healthcheck'] = hc
        man['config']['digest'], man['config']['size'] = put(json.dumps(cfg).encode())
        m['digest'], m['size'] = put(json.dumps(man).encode())
json.dump(idx, open(os.path.join(lay, 'index.json'), 'w'))
EOF
		sign_image "$L" --identity img && (cd "$L" && tar -cf "$T/img.tar" .)
	ok $? "an image with a HEALTHCHECK"
	ids=$(rt load -i "$T/img.tar" | sed -n 's/^Loaded image ID: //p')
	rt tag "$(echo "$ids" | sed -n 2p)" base:1 && rt tag "$(echo "$ids" | sed -n 3p)" hc:1
	ok $? "loaded as base:1 and hc:1"

	rt run -d --name img hc:1 sleep 1000 >/dev/null
	like "$(rt inspect img)" '*"health": {*"/bin/sh",*"-c",*"echo image check; test -f /tmp/ok"*"interval": 200,*"timeout": 30000,*"retries": 2*' \
		"the image's check, with Docker's defaults for what it leaves out"
	until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run ps | grep -q '(unhealthy) *img'"
	ok $? "the image's check runs"
	like "$(rt inspect img)" '*"Output": "image check\\n"*' "its output is logged"
	rt run -d --name imgflag --health-cmd true --health-interval 200ms hc:1 sleep 1000 >/dev/null
	until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run ps | grep -q '(healthy) *imgflag'"
	ok $? "--health-cmd replaces the image's check"
	rt run -d --name imgoff --no-healthcheck hc:1 sleep 1000 >/dev/null
	case $(rt inspect imgoff) in *'"Health"'*|*'"health"'*) ok 1 "--no-healthcheck: no check" ;;
	*) ok 0 "--no-healthcheck: no check" ;; esac
	like "$(rt ps | grep ' imgoff$')" "*Up *imgoff" "and ps says Up"
	case $(rt ps | grep ' imgoff$') in *"("*) ok 1 "with no suffix" ;; *) ok 0 "with no suffix" ;; esac
	rt rm -f img imgflag imgoff >/dev/null

	# App files: the keys, through reload; an app that turns unhealthy is
	# restarted, and a healthy one left alone.
	A=$T/apps
	mkdir -p "$A"
	cat > "$A/web.conf" <<'CONF'
image = base:1
cmd = sleep 1000
healthcheck = ["test", "-f", "/tmp/ok"]
health_interval = 200ms
health_start_period = 1h
health_retries = 1
stop_timeout = 1
CONF
	cat > "$A/sick.conf" <<'CONF'
image = base:1
cmd = sleep 1000
healthcheck = echo sick; test -f /tmp/ok
health_interval = 200ms
health_timeout = 5s
health_retries = 2
stop_timeout = 1
CONF
	out=$(rt reload --apps "$A" 2>&1)
	ok $? "reload with healthcheck keys"
	like "$(rt inspect web)" '*"health": {*"cmd": \[*"test",*"-f",*"/tmp/ok"*\],*"interval": 200,*"start_period": 3600000,*"retries": 1*' \
		"healthcheck as a JSON array: the exec form, with the keys' settings"
	like "$(rt inspect sick)" '*"health": {*"/bin/sh",*"-c",*"echo sick; test -f /tmp/ok"*"timeout": 5000,*' \
		"healthcheck as text: a shell command"
	like "$(rt ps)" "*(health: starting) *web*" "the app starts in (health: starting)"
	rt exec web touch /tmp/ok
	until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run ps | grep -q '(healthy) *web'"
	ok $? "and turns (healthy)"
	until_s 30 sh -c "[ \"\$(\"$RT\" --root $T/root --run $T/run inspect sick | sed -n 's/.*\"RestartCount\": \([0-9]*\).*/\1/p')\" -ge 1 ]"
	ok $? "an app that turns unhealthy is restarted by its policy"
	like "$(cat "$T/daemon.log")" "*sick is unhealthy (2 failed checks): restarting it*" "and the supervisor says so"
	until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run ps | grep -q '(health: starting) *sick'"
	ok $? "the restarted app starts over in (health: starting)"
	rt exec sick touch /tmp/ok 2>/dev/null || { sleep 1; rt exec sick touch /tmp/ok; }
	until_s 30 sh -c "\"$RT\" --root $T/root --run $T/run ps | grep -q '(healthy) *sick'"
	ok $? "once its check passes it is healthy and stays up"
	is "$(field web RestartCount)" 0 "the healthy app was never restarted"
	is "$(rt reload --apps "$A")" "sick: unchanged
web: unchanged" "reload again: the health settings compare equal"
else
	skip "umoci and skopeo are not installed (make setup): image and app checks"
fi

rt_daemon_stop
is $? 0 "daemon exits 0"
done_testing
