#!/bin/sh
# -u NAME is looked up in the container's own /etc/passwd and /etc/group,
# never through the host's NSS: names the host has and the image lacks are
# unknown, names both have take the image's ids, and an image's
# /etc/passwd that is a symlink to a host file, a fifo or a huge file
# reads nothing of the host and does not hang.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-runtime.sh"

hostile_start
img=$(mk_image nss)
printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nnobody:x:4444:4444::/:/bin/false\n' \
	> "$img/etc/passwd"
printf 'root:x:0:\nalice:x:1000:\nstaff:x:50:alice\nnogroup:x:4444:\n' > "$img/etc/group"
R="--rootfs $img"

is "$(rt run --rm -u alice $R id 2>&1)" "uid=1000(alice) gid=1000(alice) groups=50(staff),1000(alice)" \
	"a user only the image has: its ids and groups"
is "$(rt run --rm -u nobody $R id -u 2>&1)" "4444" "a name both have: the image's id (the host's nobody is 65534)"
is "$(rt run --rm -u alice:staff $R id -g 2>&1)" "50" "a group by name from the image"
host_only=$(getent passwd daemon bin sys sync games man lp mail news uucp proxy 2>/dev/null | head -1 | cut -d: -f1)
if [ -n "$host_only" ]; then
	out=$(rt run -u "$host_only" $R true 2>&1)
	refused "$out" $? "sandbox: user $host_only: no matching entries in passwd file*" \
		"a user only the host has ($host_only): unknown"
else
	skip "no system user on this host to try"
fi

# /etc/passwd as a symlink to a host file: resolved in the container.
img2=$(mk_image nss-link)
rm -f "$img2/etc/passwd" "$img2/etc/shadow"
ln -s "$CANARY_FILE" "$img2/etc/passwd"
out=$(rt run -u root --rootfs "$img2" id -u 2>&1)
refused "$out" $? "sandbox: user root: no matching entries in passwd file*" \
	"passwd -> a host file: the host's file is not read (it names root with uid 19000)"
is "$(rt run --rm -u 0 --rootfs "$img2" id -u 2>&1)" "0" "...and a numeric uid needs no entry"
ln -sf /etc/shadow "$img2/etc/passwd"
printf 'eve:x:4242:4242::/:/bin/sh\n' > "$img2/etc/shadow"
is "$(rt run --rm -u eve --rootfs "$img2" id -u 2>&1)" "4242" "passwd -> /etc/shadow: the image's own shadow"

# A fifo would block a reader; a huge file would take memory.
img3=$(mk_image nss-fifo)
rm -f "$img3/etc/passwd"
mkfifo "$img3/etc/passwd"
start=$(date +%s)
out=$(rt run -u alice --rootfs "$img3" true 2>&1)
refused "$out" $? "sandbox: *passwd*" "passwd as a fifo: refused"
[ $(($(date +%s) - start)) -le 5 ]
ok $? "...at once"
img4=$(mk_image nss-huge)
dd if=/dev/zero bs=1M count=5 2>/dev/null | tr '\0' 'a' > "$img4/etc/passwd"
out=$(rt run -u alice --rootfs "$img4" true 2>&1)
refused "$out" $? "sandbox: *passwd*" "passwd of 5 MiB: refused"
img5=$(mk_image nss-longline)
{ dd if=/dev/zero bs=1k count=100 2>/dev/null | tr '\0' 'x'; echo; echo 'alice:x:1000:1000::/:/bin/sh'; } > "$img5/etc/passwd"
is "$(rt run --rm -u alice --rootfs "$img5" id -u 2>/dev/null)" "1000" "a 100 KB line is skipped, the next one read"

hostile_end
