#!/bin/sh
# Capabilities and privileges, read from /proc/self/status (no capsh):
# inheritable and ambient sets empty and no_new_privs set, in a container
# and in an exec'd process; a user gets no capability; a setuid-root
# binary and file capabilities in the image give nothing beyond that;
# SYS_PTRACE, alone or through ALL, is refused.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-runtime.sh"

hostile_start
build_attack || skip_all "no static C compiler for the attack program ($(head -1 "$T/attack.log"))"
img=$(mk_image caps)
cp "$T/attack" "$img/suid"
chown 0:0 "$img/suid"
chmod 4755 "$img/suid"
mkdir -p "$img/capin" "$img/capout"
cp /bin/busybox "$img/capin/grep"
cp /bin/busybox "$img/capout/grep"
# security.capability v2: permitted + effective; NET_RAW (in Docker's set)
# and SYS_ADMIN (not in it).
/usr/bin/python3 - "$img" <<'PY' || skip_all "cannot set file capabilities here"
import os, struct, sys
d = sys.argv[1]
for name, bit in (("capin", 13), ("capout", 21)):
    v = struct.pack("<5I", 0x02000001, 1 << bit, 0, 0, 0)
    os.setxattr(os.path.join(d, name, "grep"), "security.capability", v)
PY
R="--rootfs $img"
st='grep -E ^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs) /proc/self/status'

want_root="CapInh:	0000000000000000
CapPrm:	00000000a80425fb
CapEff:	00000000a80425fb
CapBnd:	00000000a80425fb
CapAmb:	0000000000000000
NoNewPrivs:	1"
want_user="CapInh:	0000000000000000
CapPrm:	0000000000000000
CapEff:	0000000000000000
CapBnd:	00000000a80425fb
CapAmb:	0000000000000000
NoNewPrivs:	1"

is "$(rt run --rm $R $st 2>&1)" "$want_root" "root: Docker's set, inheritable and ambient empty, no_new_privs"
is "$(rt run --rm -u 65534 $R $st 2>&1)" "$want_user" "a user: no capability at all"
is "$(rt run --rm --init $R $st 2>&1)" "$want_root" "with rt's init: the same"
rt run -d --name caps $R sleep 100 >/dev/null
is "$(rt exec caps $st 2>&1)" "$want_root" "exec: the same as the container"
is "$(rt exec -u 65534:65534 caps $st 2>&1)" "$want_user" "exec -u: no capability"

# setuid root: no_new_privs keeps the user's ids.
is "$(rt run --rm -u 65534:65534 $R /suid uid 2>&1)" "65534 65534" "a setuid-root binary runs as the user"
is "$(rt exec -u 65534:65534 caps /suid uid 2>&1)" "65534 65534" "...also through exec"

# File capabilities: nothing for a user; not beyond the bounding set.
out=$(rt run --rm -u 65534 $R /capin/grep -E '^Cap(Prm|Eff)' /proc/self/status 2>&1)
is "$out" "CapPrm:	0000000000000000
CapEff:	0000000000000000" "file capabilities in the set: a user still gets none"
out=$(rt run --rm $R sh -c '/capout/grep -c . /proc/self/status >/dev/null 2>&1 && echo RAN || echo refused' 2>&1)
is "$out" "refused" "file capabilities beyond the bounding set: the binary does not run"
out=$(rt exec caps sh -c '/capout/grep -c . /proc/self/status >/dev/null 2>&1 && echo RAN || echo refused' 2>&1)
is "$out" "refused" "...nor through exec"
rt rm -f caps >/dev/null

# --cap-add and --cap-drop do what they say; SYS_PTRACE is never given.
out=$(rt run --rm --cap-add NET_ADMIN --cap-drop NET_RAW $R grep CapBnd /proc/self/status 2>&1)
is "$out" "CapBnd:	00000000a80415fb" "--cap-add NET_ADMIN --cap-drop NET_RAW"
out=$(rt run --rm --cap-drop ALL $R grep CapEff /proc/self/status 2>&1)
is "$out" "CapEff:	0000000000000000" "--cap-drop ALL"
for add in SYS_PTRACE ALL; do
	out=$(rt run --cap-add $add $R true 2>&1)
	refused "$out" $? "sandbox: capability SYS_PTRACE is not offered: *" "--cap-add $add: refused"
done

hostile_end
