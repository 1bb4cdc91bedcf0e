#!/bin/sh
# Images whose mount destinations point out of them: /proc, /dev, /sys
# and a volume or --tmpfs destination as symlinks to host paths or files (the
# start fails with one line), /dev/null, /etc/hosts, /etc/resolv.conf,
# /etc/hostname, a volume's parent and the working directory as symlinks
# to host paths (contained: they resolve inside the container). Nothing
# outside the test's images changes.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-runtime.sh"

hostile_start
mkdir -p "$T/vol"
echo "from the host" > "$T/vol/hello"

# /proc, /dev, /sys: refused, as symlinks (to a host dir, to /) and as
# files.
for d in proc dev sys; do
	img=$(mk_image "$d-link")
	rm -rf "${img:?}/$d"
	ln -s "$CANARY_DIR" "$img/$d"
	out=$(rt run --rootfs "$img" true 2>&1)
	refused "$out" $? "sandbox: /$d: a symlink in the image: *" "/$d as a symlink to a host dir: refused"
	img=$(mk_image "$d-root")
	rm -rf "${img:?}/$d"
	ln -s / "$img/$d"
	out=$(rt run --rootfs "$img" true 2>&1)
	refused "$out" $? "sandbox: /$d: a symlink in the image: *" "/$d as a symlink to /: refused"
	img=$(mk_image "$d-file")
	rm -rf "${img:?}/$d"
	echo junk > "$img/$d"
	out=$(rt run --rootfs "$img" true 2>&1)
	refused "$out" $? "sandbox: /$d: not a directory in the image: *" "/$d as a file: refused"
done
like "$(rt ps -a)" "*Exited (125)*" "the refused containers exited 125, never ran"

# /dev/null and the rest of the image's /dev: rt's own tmpfs covers them.
img=$(mk_image devnull)
rm -f "$img/dev/null"
ln -s "$CANARY_FILE" "$img/dev/null"
out=$(rt run --rm --rootfs "$img" sh -c 'echo x > /dev/null; stat -c "%F %t:%T" /dev/null' 2>&1)
is "$out" "character special file 1:3" "/dev/null as a symlink to a host file: rt's own /dev/null"

# /etc/hosts, resolv.conf, hostname: left as the image has them; they
# resolve inside the container, where the host path does not exist.
img=$(mk_image etc-links)
for f in hosts resolv.conf hostname; do
	rm -f "$img/etc/$f"
	ln -s "$CANARY_FILE" "$img/etc/$f"
done
out=$(rt run --rm --rootfs "$img" sh -c 'for f in hosts resolv.conf hostname; do cat /etc/$f 2>/dev/null || echo none; { echo x >> /etc/$f; } 2>/dev/null; done' 2>&1)
is "$out" "none
none
none" "/etc/hosts, resolv.conf, hostname as symlinks to a host file: nothing read or written there"
img=$(mk_image etc-root)
for f in hosts resolv.conf; do
	rm -f "$img/etc/$f"
	ln -s "../../../../../../../../../../$CANARY_FILE" "$img/etc/$f"
done
out=$(rt run --rm --rootfs "$img" sh -c 'cat /etc/hosts /etc/resolv.conf 2>&1 | grep -c canary' 2>&1)
is "$out" "0" "/etc/hosts as a ../ symlink: clamped at the container's root"

# A volume destination as a symlink: refused, the host dir untouched.
img=$(mk_image vol-link)
ln -s "$CANARY_DIR" "$img/data"
out=$(rt run -v "$T/vol:/data" --rootfs "$img" true 2>&1)
refused "$out" $? "sandbox: /data: a symlink in the image: *" "a volume destination as a symlink: refused"
out=$(rt run -v "named:/data" --rootfs "$img" true 2>&1)
refused "$out" $? "sandbox: /data: a symlink in the image: *" "a named volume's destination as a symlink: refused"
rt volume rm named >/dev/null 2>&1
out=$(rt run --tmpfs /data:size=1m --rootfs "$img" true 2>&1)
refused "$out" $? "sandbox: /data: a symlink in the image: *" "a --tmpfs destination as a symlink: refused"
img=$(mk_image tmpfs-parent)
ln -s "$CANARY_DIR" "$img/up"
out=$(rt run --tmpfs /up/t --rootfs "$img" true 2>&1)
refused "$out" $? "sandbox: mount point /up/t: up: a symlink to a path missing in the image: *" \
	"a --tmpfs under a parent symlinked to a host dir: refused"
img=$(mk_image vol-file)
echo junk > "$img/data"
out=$(rt run -v "$T/vol:/data" --rootfs "$img" true 2>&1)
refused "$out" $? "sandbox: /data: not a directory in the image: *" "a directory volume over a file: refused"

# A volume's parent or the working directory through a symlink to a host
# dir: resolved inside the container, where that path does not exist, and
# not created through the symlink: refused. Through a symlink to a place
# inside the image: mounted there.
img=$(mk_image vol-parent)
ln -s "$CANARY_DIR" "$img/up"
out=$(rt run -v "$T/vol:/up/data" --rootfs "$img" true 2>&1)
refused "$out" $? "sandbox: mount point /up/data: up: a symlink to a path missing in the image: *" \
	"a volume under a parent symlinked to a host dir: refused"
out=$(rt run -w /up/sub --rootfs "$img" true 2>&1)
refused "$out" $? "sandbox: workdir: mount point /up/sub: up: a symlink to a path missing in the image: *" \
	"a workdir through a symlink to a host dir: refused"
img=$(mk_image vol-inside)
ln -s ../../../../../../tmp "$img/up"
out=$(rt run --rm -v "$T/vol:/up/data" -w /up/new --rootfs "$img" sh -c 'cat /tmp/data/hello; pwd' 2>&1)
is "$out" "from the host
/tmp/new" "a volume and a workdir under a ../ symlink land inside the container"
[ ! -e "$img/tmp/new" ] && [ ! -e "$T/tmp" ]
ok $? "...and nothing was created in the image's files (the writable layer took it) or beside them"

# A named volume starts with the image's content at its destination
# (Docker's copy-up); a host directory is never filled from the image.
img=$(mk_image seed)
mkdir -p "$img/data" "$T/empty"
echo "from the image" > "$img/data/f"
ln -s "$CANARY_FILE" "$img/data/link"
out=$(rt run --rm -v "$T/empty:/data" --rootfs "$img" ls /data 2>&1)
is "$out" "" "a host dir over an image dir: not seeded"
out=$(rt run --rm -v seeded:/data --rootfs "$img" sh -c 'cat /data/f; readlink /data/link' 2>&1)
if [ "$out" = "from the image
$CANARY_FILE" ]; then
	ok 0 "a named volume starts with the image's content, symlinks as symlinks"
else
	todo 1 "a named volume starts with the image's content, symlinks as symlinks" \
		"the container config's named volumes do not set rt_mount.seed yet"
fi

# /proc mounted over by a volume or a tmpfs: refused.
out=$(rt run -v "$T/vol:/proc/sys/kernel" --rootfs "$T/rootfs" true 2>&1)
refused "$out" $? "*inside /proc*" "a volume inside /proc: refused"

hostile_end
