#!/bin/sh
# Hostile tar layers, format: device nodes, setuid bits, trusted.* and
# security.* xattrs, PAX size against the header, huge and negative sizes,
# truncated archives, bad checksums, sparse entries, very deep and very
# long paths, many entries.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-hostile.sh"

hcase device fail "*entry 'dev/sda': device node refused*"
hcase block-device fail "*entry 'dev/sda': device node refused*"
hcase pax-size fail "*PAX size 1000 disagrees with header size 5*"
hcase huge-size fail "*file size 8589934591 exceeds limit*"
hcase huge-size-b256 fail "*exceeds limit*"
hcase negative-size fail "*size field out of range*"
hcase truncated fail "*truncated archive*"
hcase truncated-no-end fail "*no end-of-archive marker*"
hcase bad-checksum fail "*bad header checksum*"
hcase sparse fail "*sparse entries are not supported*"
hcase deep-path fail "*path deeper than 256 components*"
hcase long-path fail "*path too long*"
hcase long-name fail "*name too long*"
hcase many-entries fail "*more than 1000 entries in the layer*" RT_LIMITS=entries=1000

hcase setuid ok
top=$(top_layer hostile:setuid)
is "$(stat -c %a "$top/bin/su")" 4755 "setuid bits are kept (the image's su needs them)"
is "$(stat -c %a "$T/root")" 700 "but the store is 0700 root"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups cat "$top/bin/su" >/dev/null 2>&1
	[ $? != 0 ]; ok $? "nobody else can reach the layer's files"
else
	skip "no setpriv"
fi

hcase xattrs ok
top=$(top_layer hostile:xattrs)
all=$(getfattr -d -m - "$top/f" 2>/dev/null)
like "$all" "*user.ok=\"1\"*" "user.* xattrs kept"
case $all in *trusted.*|*security.selinux*) ok 1 "trusted.* and security.selinux dropped ($all)" ;;
*) ok 0 "trusted.* and security.selinux dropped" ;; esac
done_testing
