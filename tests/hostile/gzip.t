#!/bin/sh
# Hostile gzip layers: a bomb (stopped by the unpacked-size limit, in
# bounded time and memory), concatenated members (one stream, accepted),
# junk after the stream, truncation, corruption; and the free-space
# reserve on a small store.
. "$(dirname "$0")/../integration/lib.sh"
. "$TOP/tests/hostile/lib-hostile.sh"

hcase gzip-bomb fail "*layer expands to more than 67108864 bytes*" RT_LIMITS=layer=64M
hcase gzip-junk fail "*gzip: *after the end of the stream*"
hcase gzip-truncated fail "*gzip: truncated stream*"
hcase gzip-corrupt fail "*gzip: *"
hcase gzip-multi ok

# memory and time with the real (musl) binary: 1 GiB of zeros, refused
rss=$($PY - "$RT" "$T" <<'PY'
import os, subprocess, sys, time
rt, t = sys.argv[1], sys.argv[2]
env = dict(os.environ, RT_LIMITS="layer=256M")
start = time.time()
p = subprocess.Popen([rt, "--root", t + "/root2", "load", "-i", t + "/in/gzip-bomb"], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
hwm = 0
# the high-water mark of the process after exec, sampled until it exits
while p.poll() is None:
    try:
        for line in open("/proc/%d/status" % p.pid):
            if line.startswith("VmHWM:"):
                hwm = max(hwm, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.002)
print(p.returncode, hwm, int(time.time() - start))
PY
)
set -- $rss
is "$1" 1 "the bomb is refused by the real binary too"
[ "$2" -gt 0 ] && [ "$2" -lt 4096 ]; ok $? "peak RSS while inflating 256 MB: $2 KiB"
[ "$3" -lt 30 ]; ok $? "in $3 s"

# a store with little room: the reserve stops the load, the store stays usable
mkdir -p "$T/small"
mount -t tmpfs -o size=6m rt-small "$T/small"
$PY "$MK" "$T/in/big" many-entries >/dev/null 2>&1
$PY - "$T/in/fat" <<'PY'
import gzip, hashlib, json, os, sys
out = sys.argv[1]
os.makedirs(out + "/blobs/sha256")
def blob(b):
    d = hashlib.sha256(b).hexdigest()
    open("%s/blobs/sha256/%s" % (out, d), "wb").write(b)
    return "sha256:" + d, len(b)
import io, tarfile
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as t:
    for i in range(8):
        data = os.urandom(1 << 20)
        ti = tarfile.TarInfo("f%d" % i)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
tar = raw.getvalue()
l = blob(gzip.compress(tar, 1))
c = blob(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
    "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}).encode())
m = blob(json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": c[0], "size": c[1]}, "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
    "digest": l[0], "size": l[1]}]}).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": m[0], "size": m[1], "annotations": {"org.opencontainers.image.ref.name": "fat:1"}}]},
    open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
PY
sign_image "$T/in/fat"
err=$("$RTA" --root "$T/small/root" load -i "$T/in/fat" 2>&1)
r=$?
is "$r" 1 "8 MiB into a 6 MiB store is refused"
like "$err" "rt: load: *fat:1: *no space left on the store*" "the reserve is named ($err)"
avail=$(df -k --output=avail "$T/small" | tail -n 1)
[ "$avail" -ge 2048 ]; ok $? "the filesystem is not left full ($avail KiB free)"
"$RTA" --root "$T/small/root" images >/dev/null 2>&1
is "$(ls -A "$T/small/root/tmp")" "" "the next command empties tmp/"
umount "$T/small"
done_testing
