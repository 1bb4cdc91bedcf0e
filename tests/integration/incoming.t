#!/bin/sh
# The store's incoming/ directory: image files dropped there are loaded at
# daemon start and on `rt reload`, through `rt load`'s verified path, before
# the apps are reconciled. A loaded file is deleted; a refused one is kept as
# NAME.refused with one line on the console, and is not retried.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/lib-sign.sh"

need_daemon
"$RT" --help | grep -q '^  reload ' || skip_all "rt built without reload"
mk_rootfs || skip_all "no busybox"
rt_requires_sig || skip_all "this rt loads unsigned images"

"$MKIMAGE" build -o "$T/good" --archive --layer "$T/rootfs" --tag app:1 --cmd 'exec sleep 1000' >/dev/null &&
	sign_image "$T/good"
ok $? "a signed image archive"
"$MKIMAGE" build -o "$T/unsigned" --archive --layer "$T/rootfs" --tag rogue:1 --cmd 'exec sleep 1000' >/dev/null
ok $? "an unsigned one"

mkdir -p "$T/root/incoming" "$T/apps"
chmod 700 "$T/root"
cp "$T/good" "$T/root/incoming/good.tar"
cp "$T/unsigned" "$T/root/incoming/unsigned.tar"
cp "$T/good" "$T/root/incoming/.partial.tar"    # still being copied: skipped
printf 'image = app:1\nstop_timeout = 1\n' > "$T/apps/app.conf"

"$RT" --root "$T/root" --run "$T/run" daemon --apps "$T/apps" >"$T/daemon.log" 2>&1 &
RT_DAEMON_PID=$!
echo $RT_DAEMON_PID > "$T/daemon.pid"
wait_for sh -c "\"$RT\" --root \"$T/root\" --run \"$T/run\" ps | grep -q ' app$'"
ok $? "at start, the app runs on the image that arrived in incoming/"
wait_for grep -q 'incoming/unsigned.tar: refused' "$T/daemon.log"
ok $? "the unsigned image is refused on the console"
like "$(cat "$T/daemon.log")" "*rt: load: *" "with load's own reason"
grep 'rt: load:' "$T/daemon.log" | sed 's/^/# /'
[ ! -e "$T/root/incoming/good.tar" ]; ok $? "the loaded file is deleted"
[ -f "$T/root/incoming/unsigned.tar.refused" ] && [ ! -e "$T/root/incoming/unsigned.tar" ]
ok $? "the refused one is kept as unsigned.tar.refused"
[ -f "$T/root/incoming/.partial.tar" ]; ok $? "a dot name is left alone"
rt image inspect rogue:1 >/dev/null 2>&1; ok $((! $?)) "the refused image is not in the store"

n=$(grep -c 'refused' "$T/daemon.log")
out=$(rt reload --apps "$T/apps" 2>&1)
is "$out" "app: unchanged" "reload: nothing new in incoming/, nothing refused again"

ln -s /etc/passwd "$T/root/incoming/link.tar"
mkfifo "$T/root/incoming/fifo.tar"
out=$(rt reload --apps "$T/apps" 2>&1)
is $? 125 "reload reports what it refused"
like "$out" "*incoming/link.tar: refused*" "a symlink is not followed"
like "$out" "*incoming/fifo.tar: refused*" "a fifo is not read"
[ -L "$T/root/incoming/link.tar.refused" ] && [ -p "$T/root/incoming/fifo.tar.refused" ]
ok $? "both set aside"

rt_daemon_stop
is $? 0 "daemon exits 0"
done_testing
