#!/bin/sh
# Boot configuration: app files become containers at daemon start, in
# `after` order; `rt reload` and SIGHUP replace only what changed and
# remove what lost its file; a bad file is reported with its line and
# skipped while the other apps run.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/lib-image.sh"
. "$TOP/tests/integration/lib-sign.sh"

need_daemon
"$RT" --help | grep -q '^  load ' || skip_all "rt built without the image verbs"
"$RT" --help | grep -q '^  reload ' || skip_all "rt built without reload"
have_image_tools || skip_all "umoci and skopeo are not installed (make setup)"

L=$T/oci
umoci init --layout "$L" >/dev/null && umoci new --image "$L:empty" >/dev/null &&
	umoci_layer "$L" empty base "$(declare_rootfs)" &&
	umoci config --image "$L:base" --config.cmd /bin/sh >/dev/null &&
	sign_image "$L" --identity base &&
	(cd "$L" && tar -cf "$T/base.tar" .)
ok $? "a busybox image"
id=$(rt load -i "$T/base.tar" | sed -n 's/^Loaded image ID: //p' | tail -n 1)
rt tag "$id" base:1
ok $? "loaded and tagged base:1"

A=$T/apps
mkdir -p "$A"
cat > "$A/db.conf" <<'CONF'
image = base:1
cmd = ["sh", "-c", "echo db up; exec sleep 1000"]
stop_timeout = 1
CONF
cat > "$A/web.conf" <<'CONF'
# web needs db
image = base:1
cmd = ["sh", "-c", "echo web up; exec sleep 1000"]
env = COLOR=blue
after = db
stop_timeout = 1
CONF
cat > "$A/bad.conf" <<'CONF'
image = base:1
colour = red
CONF

"$RT" --root "$T/root" --run "$T/run" daemon --apps "$A" >"$T/daemon.log" 2>&1 &
RT_DAEMON_PID=$!
echo $RT_DAEMON_PID > "$T/daemon.pid"
wait_for sh -c "\"$RT\" --root \"$T/root\" --run \"$T/run\" ps | grep -q ' web$'"
ok $? "at start, the apps run"
like "$(rt ps)" "*Up *db*" "db is up"
wait_for grep -q 'bad.conf' "$T/daemon.log"
like "$(cat "$T/daemon.log")" "*bad.conf: line 2: *" "the bad file is reported with its line"
db_t=$(rt inspect db | sed -n 's/.*"StartedAt": "\(.*\)".*/\1/p')
web_t=$(rt inspect web | sed -n 's/.*"StartedAt": "\(.*\)".*/\1/p')
[ "$db_t" \< "$web_t" ]; ok $? "db started before web (after = db)"

rm "$A/bad.conf"
out=$(rt reload --apps "$A")
is $? 0 "reload"
is "$out" "db: unchanged
web: unchanged" "nothing changed: nothing touched"
web_id=$(rt inspect web | sed -n 's/.*"Id": "\(.*\)".*/\1/p')
sed -i 's/COLOR=blue/COLOR=green/' "$A/web.conf"
out=$(rt reload --apps "$A")
is "$out" "db: unchanged
web: replaced" "a changed file: its container is replaced"
[ "$web_id" != "$(rt inspect web | sed -n 's/.*"Id": "\(.*\)".*/\1/p')" ]; ok $? "by a new one"
is "$(rt exec web sh -c 'echo $COLOR')" "green" "with the new setting"

rt run -d --name mine --stop-timeout 1 base:1 sleep 1000 >/dev/null
rm "$A/db.conf"
kill -HUP "$RT_DAEMON_PID"
wait_for sh -c "! \"$RT\" --root \"$T/root\" --run \"$T/run\" ps -a | grep -q ' db$'"
ok $? "SIGHUP: the app whose file is gone is removed"
like "$(rt ps -a)" "*mine*" "a container not made from an app file is left alone"
like "$(rt ps)" "*web*" "the other app still runs"

rt_daemon_stop
is $? 0 "daemon exits 0"
done_testing
