#!/bin/sh
# kill -9 at many moments of a load (from a file, and from a slow pipe):
# nothing partial ever sits under a final name, every image that was
# complete before is still listed and verifies, the next command empties
# tmp/, and the load then succeeds.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/lib-image.sh"
. "$TOP/tests/integration/lib-sign.sh"

# An OCI archive of three gzip'd layers (about 30 MB, 6000 files) and a
# small one that is loaded first and must survive everything.
$PY - "$T" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
t = sys.argv[1]
rnd = random.Random(7)

def layout(out, name, layers):
    os.makedirs(out + "/blobs/sha256")
    def blob(b):
        d = hashlib.sha256(b).hexdigest()
        open("%s/blobs/sha256/%s" % (out, d), "wb").write(b)
        return "sha256:" + d, len(b)
    descs, diffs = [], []
    for files in layers:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tf:
            for path, data in files:
                ti = tarfile.TarInfo(path)
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
        tar = raw.getvalue()
        diffs.append("sha256:" + hashlib.sha256(tar).hexdigest())
        d = blob(gzip.compress(tar, 1))
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d[0], "size": d[1]})
    c = blob(json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diffs}}).encode())
    m = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c[0], "size": c[1]},
                         "layers": descs}).encode())
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
               "digest": m[0], "size": m[1], "annotations": {"org.opencontainers.image.ref.name": name}}]},
              open(out + "/index.json", "w"))
    open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')

def files(prefix, n, size):
    return [("%s/d%d/f%d" % (prefix, i % 50, i), rnd.randbytes(rnd.randrange(size))) for i in range(n)]

layout(t + "/small", "small:1", [files("s", 20, 1000)])
layout(t + "/big", "big:1", [files("a", 2000, 10000), files("b", 2000, 10000), files("c", 2000, 10000)])
for name in ("small", "big"):
    with tarfile.open("%s/%s.tar" % (t, name), "w") as tf:
        tf.add(t + "/" + name, arcname=".")
PY
ok $? "test images"
sign_image "$T/small.tar" && sign_image "$T/big.tar"
ok $? "signed"

rt load -i "$T/small.tar" >/dev/null
ok $? "a small image is loaded first"
before=$(rt images -q)

start=$(date +%s%N)
rt --root "$T/probe" load -i "$T/big.tar" >/dev/null 2>&1
full=$((($(date +%s%N) - start) / 1000000))
ok $? "the big image loads in $full ms (in another store)"

# after_kill WHAT: the checks after each kill
after_kill() {
	check_store
	r=$?
	[ "$(rt images -q)" != "" ] && echo "$before" | while read -r id; do
		rt images -q | grep -qx "$id" || exit 1
	done
	r=$((r + $?))
	[ -z "$(ls -A "$T/root/tmp")" ] || { echo "# tmp not emptied: $(ls "$T/root/tmp")"; r=1; }
	return $r
}

# from a file, killed at 10 moments spread over the load
n=0
for pct in 2 8 15 25 35 50 65 80 90 97; do
	ms=$((full * pct / 100))
	# not the rt function: $! must be rt itself
	"$RT" --root "$T/root" --run "$T/run" load -i "$T/big.tar" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	after_kill
	ok $? "killed at ${ms} ms (${pct}%): no partial object under a final name, old images intact, tmp emptied"
	# start over so every kill meets a load from scratch (prune: the
	# layers a killed load committed, which no image names)
	rt rmi -f big:1 >/dev/null 2>&1
	rt image prune -f >/dev/null 2>&1
	n=$((n + 1))
done

# from a slow pipe: killed while the archive is still arriving
for ms in 100 300 700; do
	$PY -c '
import sys, time
data = open(sys.argv[1], "rb").read()
out = sys.stdout.buffer
for i in range(0, len(data), 1 << 18):
    out.write(data[i:i + (1 << 18)])
    out.flush()
    time.sleep(0.01)
' "$T/big.tar" 2>/dev/null | "$RT" --root "$T/root" --run "$T/run" load >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 $pid 2>/dev/null   # $! of a pipeline is its last command: rt
	wait $pid 2>/dev/null
	after_kill
	ok $? "killed after ${ms} ms of a slow pipe: store consistent, tmp emptied"
done

# Killed once its first layer is committed: the next load skips that
# layer. Proof: the next load reads a copy of the (signed) layout whose
# blob for that layer is junk, and succeeds.
rm -rf "$T/big" && mkdir "$T/big" && tar -xf "$T/big.tar" -C "$T/big"
set -- $($PY -c '
import json, sys
d = sys.argv[1]
i = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + i["manifests"][0]["digest"][7:]))
print(" ".join(l["digest"][7:] for l in m["layers"]))' "$T/big")
h1=$1 h3=$3
killed=no
for try in 1 2 3; do
	rt rmi -f big:1 >/dev/null 2>&1
	rt image prune -f >/dev/null 2>&1
	"$RT" --root "$T/root" --run "$T/run" load -i "$T/big" >/dev/null 2>&1 &
	pid=$!
	while [ ! -d "$T/root/layers/$h1" ] && kill -0 $pid 2>/dev/null; do :; done
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	# the kill must have come before the last layer (a noisy machine may
	# let the load run ahead: try again)
	if [ -d "$T/root/layers/$h1" ] && [ ! -d "$T/root/layers/$h3" ]; then
		killed=yes
		break
	fi
done
is "$killed" yes "a load killed with its first layer committed and its last one not (try $try)"
after_kill
ok $? "store consistent after that kill, tmp emptied"
rm -rf "$T/big2" && cp -a "$T/big" "$T/big2" &&
	head -c "$(stat -c %s "$T/big2/blobs/sha256/$h1")" /dev/zero > "$T/big2/blobs/sha256/$h1"
out=$(rt load -i "$T/big2" 2>&1)
is "$out" "Loaded image: big:1" "the next load finishes without reading the committed layer"
rt verify big:1 >/dev/null
ok $? "and the image verifies"
rt rmi -f big:1 >/dev/null 2>&1

out=$(rt load -i "$T/big.tar" 2>&1)
is "$out" "Loaded image: big:1" "after all that, the load succeeds"
rt verify big:1 >/dev/null && rt verify small:1 >/dev/null
ok $? "both images verify"
done_testing
