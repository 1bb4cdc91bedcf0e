#!/bin/sh
# Images made by umoci and converted by skopeo (oci:, oci-archive:,
# docker-archive:) and a hand-made multi-layer layout with whiteouts load
# into rt, and the overlay view of each matches `umoci unpack` of the same
# image, file by file.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/lib-image.sh"
. "$TOP/tests/integration/lib-sign.sh"

have_image_tools || skip_all "umoci and skopeo are not installed (make setup)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || skip_all "no overlayfs"

L=$T/layout
mk_umoci_images "$L" >"$T/mk.log" 2>&1
ok $? "umoci builds a busybox image and a second layer with deletions, links, owners, xattrs"

# the reference: umoci's own unpack of v2
umoci unpack --image "$L:v2" "$T/ref" >/dev/null 2>&1
ok $? "umoci unpack of the reference"

skopeo copy -q "oci:$L:v2" "oci:$T/oci:docker.io/library/bb:oci" &&
skopeo copy -q "oci:$L:v2" "oci-archive:$T/oa.tar:docker.io/library/bb:oa" &&
skopeo copy -q "oci:$L:v2" "docker-archive:$T/da.tar:bb:da" &&
sign_image "$T/oci" && sign_image "$T/oa.tar"
ok $? "skopeo writes oci:, oci-archive: and docker-archive: copies (the OCI ones signed)"

out=$(rt load -i "$T/oci" 2>&1)
is "$out" "Loaded image: bb:oci" "load an OCI layout directory"
out=$(rt load -i "$T/oa.tar" 2>&1)
is "$out" "Loaded image: bb:oa" "load an OCI archive"
# A docker archive cannot carry a signature: with signatures required it
# is read as far as its manifest digest, then refused.
tags="oci oa da" layers=4
out=$(rt load < "$T/da.tar" 2>&1)
if rt_requires_sig; then
	like "$out" "rt: load: stdin: bb:da: signature: not signed (no sha256-*.sig manifest)" "a docker archive from stdin is refused, unsigned"
	skip "bb:da: a docker archive cannot carry a signature, and this rt requires one"
	tags="oci oa" layers=2
else
	is "$out" "Loaded image: bb:da" "load a docker archive from stdin"
fi

n=0
for tag in $tags; do
	n=$((n + 1))
	m=$T/m$n
	if merged "bb:$tag" "$m"; then
		res=$($PY "$TREECMP" "$T/ref/rootfs" "$m" 2>&1)
		ok $? "bb:$tag: merged view matches umoci unpack ($(echo "$res" | tail -n 1))"
		[ $? = 0 ] || echo "$res" | head -n 20 | sed 's/^/# /'
		umount "$m"
	else
		ok 1 "bb:$tag: overlay mount"
	fi
done

# the OCI copies keep gzip layers, the docker one uncompressed tars: both
# kinds were unpacked; the base is stored once per compression
is "$(ls "$T/root/layers" | wc -l)" $layers "2 layers, once gzip'd (oci, oci-archive shared), once plain (docker, if loaded)"

# --- a hand-made layout: three layers, whiteouts in odd places ------------
H=$T/hand
$PY - "$H" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile, time

out = sys.argv[1]
os.makedirs(out + "/blobs/sha256")

def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open("%s/blobs/sha256/%s" % (out, d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)

def layer(entries, gz=True):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            name, kind = e[0], e[1]
            ti = tarfile.TarInfo(name)
            ti.mtime = 1600000000
            ti.uid, ti.gid = e[3] if len(e) > 3 else (0, 0)
            data = None
            if kind == "d":
                ti.type, ti.mode = tarfile.DIRTYPE, e[2] if len(e) > 2 else 0o755
            elif kind == "f":
                data = e[2].encode()
                ti.size, ti.mode = len(data), 0o644
            elif kind == "l":
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, e[2], 0o777
            elif kind == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    tar = raw.getvalue()
    diff = "sha256:" + hashlib.sha256(tar).hexdigest()
    if gz:
        return blob(gzip.compress(tar, mtime=0)), diff, "application/vnd.oci.image.layer.v1.tar+gzip"
    return blob(tar), diff, "application/vnd.oci.image.layer.v1.tar"

layers = [
    layer([("etc", "d"), ("etc/keep", "f", "keep\n"), ("etc/gone", "f", "gone\n"),
           ("opt", "d"), ("opt/old1", "f", "1"), ("opt/sub", "d"), ("opt/sub/old2", "f", "2"),
           ("var", "d"), ("var/lib", "d"), ("var/lib/x", "f", "x"),
           ("link", "l", "etc/keep"), ("home", "d", 0o700, (1000, 1000)),
           ("home/u", "f", "user file")]),
    # whiteouts before and after the things they sit beside; the opaque
    # marker comes after new entries of its directory
    layer([("etc/.wh.gone", "f", ""), ("opt/new", "f", "new"), ("opt/.wh..wh..opq", "f", ""),
           ("var/.wh.lib", "f", ""), ("var/lib2", "d"), ("var/lib2/y", "f", "y"),
           ("hl", "h", "opt/new")], gz=False),
    # a directory becomes a symlink, a symlink becomes a directory
    layer([("home", "l", "/tmp"), ("link", "d"), ("link/inside", "f", "in"),
           (".wh.hl", "f", "")]),
]
cfg = {"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
       "config": {"Cmd": ["/bin/sh"]},
       "rootfs": {"type": "layers", "diff_ids": [l[1] for l in layers]},
       "history": [{"created_by": "layer %d" % i} for i in range(3)]}
c = blob(json.dumps(cfg).encode())
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c[0], "size": c[1]},
       "layers": [{"mediaType": l[2], "digest": l[0][0], "size": l[0][1]} for l in layers]}
m = blob(json.dumps(man).encode())
index = {"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m[0], "size": m[1],
    "annotations": {"org.opencontainers.image.ref.name": "hand",
                    "io.containerd.image.name": "docker.io/library/hand:1"}}]}
json.dump(index, open(out + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(out + "/oci-layout", "w"))
PY
ok $? "hand-made layout with three layers and whiteouts"
# (mkimage sign rewrites index.json with the ref.name annotations only:
# put containerd's name back)
sign_image "$H" --identity hand &&
$PY -c 'import json, sys
p = sys.argv[1] + "/index.json"
i = json.load(open(p))
for m in i["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "hand":
        m["annotations"]["io.containerd.image.name"] = "docker.io/library/hand:1"
json.dump(i, open(p, "w"))' "$H"
ok $? "signed"
out=$(rt load -i "$H" 2>&1)
is "$out" "Loaded image: hand:1" "it loads"
umoci unpack --image "$H:hand" "$T/href" >/dev/null 2>&1
ok $? "umoci unpacks it"
if merged hand:1 "$T/hm"; then
	res=$($PY "$TREECMP" "$T/href/rootfs" "$T/hm" 2>&1)
	ok $? "hand:1: merged view matches umoci unpack ($(echo "$res" | tail -n 1))"
	[ $? = 0 ] || echo "$res" | head -n 20 | sed 's/^/# /'
	[ ! -e "$T/hm/etc/gone" ] && [ -e "$T/hm/etc/keep" ] && [ ! -e "$T/hm/opt/old1" ] &&
		[ ! -e "$T/hm/opt/sub" ] && [ -e "$T/hm/opt/new" ] && [ ! -e "$T/hm/var/lib" ] &&
		[ -L "$T/hm/home" ] && [ -d "$T/hm/link" ] && [ ! -e "$T/hm/hl" ]
	ok $? "whiteouts and opaque directories hide what they should"
	umount "$T/hm"
else
	ok 1 "hand:1: overlay mount"
	skip "no merged view"
fi
done_testing
