#!/bin/sh
# mkimage keygen, build and inspect: keys openssl reads, OCI layouts and
# archives other tools read, reproducible digests, layers as specified.
. "$(dirname "$0")/lib.sh"

[ -x "$MKIMAGE" ] || skip_all "no $MKIMAGE (run make)"
cd "$T" || exit 1

# The digest of the first manifest's n-th layer (from 0) in layout $1.
layer_of() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(d + "/blobs/sha256/" + m["layers"][int(sys.argv[2])]["digest"][7:])
EOF
}
config_of() {
	python3 - "$1" <<'EOF'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(d + "/blobs/sha256/" + m["config"]["digest"][7:])
EOF
}

# ---- keygen ------------------------------------------------------------------
out=$("$MKIMAGE" keygen -o k)
ok $? "keygen"
is "$(stat -c %a k.key)" 600 "private key is 0600"
openssl ec -in k.key -noout 2>/dev/null; ok $? "openssl reads the private key"
fpr=$(openssl pkey -pubin -in k.pub -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
like "$out" "*key id:      $fpr*" "key id is the sha256 of the SubjectPublicKeyInfo"
openssl ec -in k.key -pubout 2>/dev/null | cmp -s - k.pub; ok $? "public key matches openssl's -pubout"
err=$("$MKIMAGE" keygen -o k 2>&1)
is $? 1 "keygen refuses to overwrite"
like "$err" "mkimage: keygen: create k.key*" "... and says which file"
"$MKIMAGE" keygen -o k -f >/dev/null; ok $? "keygen -f replaces"
"$MKIMAGE" keygen -o nodir/k >/dev/null 2>&1
is $? 1 "keygen into a missing directory fails"

# ---- usage --------------------------------------------------------------------
"$MKIMAGE" >/dev/null 2>&1
is $? 2 "no verb: exit 2"
err=$("$MKIMAGE" frobnicate 2>&1)
is $? 2 "unknown verb: exit 2"
is "$err" "mkimage: 'frobnicate' is not a mkimage command; see 'mkimage help'" "unknown verb message"
"$MKIMAGE" help build | grep -q -- "--layer"; ok $? "help build"
err=$("$MKIMAGE" build --layer x 2>&1)
is $? 2 "build without -o: exit 2"
is "$err" "mkimage: build: -o OUT is required" "build usage message"
err=$("$MKIMAGE" build -o x --layer x --bogus 2>&1)
is $? 2 "unknown flag: exit 2"
err=$("$MKIMAGE" build -o x --layer x --tag 'a b' 2>&1)
is $? 2 "bad tag refused"
err=$("$MKIMAGE" build -o x --layer x --cmd '["sh",1]' 2>&1)
is $? 2 "--cmd JSON with a number refused"
err=$("$MKIMAGE" build -o x --layer x --expose 70000 2>&1)
is $? 2 "--expose out of range refused"
err=$("$MKIMAGE" build -o x --layer /nonexistent 2>&1)
is $? 1 "missing layer source: exit 1"
like "$err" "mkimage: build: layer /nonexistent: /nonexistent: No such file*" "error names the layer"
[ ! -e x ]; ok $? "no output left behind by a failed build"

# ---- build ------------------------------------------------------------------
mkdir a b
mk_busybox_rootfs a/rootfs
echo hello > a/rootfs/etc/motd
ln a/rootfs/etc/motd a/rootfs/etc/motd.link
mkfifo a/rootfs/tmp/fifo
cp -a a/rootfs b/rootfs
# Different mtimes and a different parent directory: digests must not care.
touch -d 2001-01-01 b/rootfs/etc/motd b/rootfs/bin

d1=$("$MKIMAGE" build -o img1 --layer a/rootfs --tag busybox:1 --tag busybox:latest \
	--cmd '["/bin/sh"]' --env PATH=/bin --workdir /root --user 0:0 --expose 80 --label org.x=y)
ok $? "build from a busybox rootfs"
like "$d1" "sha256:????????????????????????????????????????????????????????????????" "prints the manifest digest"
[ -f img1/oci-layout ] && [ -f img1/index.json ] && [ -d img1/blobs/sha256 ]; ok $? "an OCI layout"
is "$(stat -c %a img1)" 755 "layout directory mode follows the umask"
n=$(grep -o '"org.opencontainers.image.ref.name":"busybox:[a-z0-9]*"' img1/index.json | wc -l)
is "$n" 2 "one index entry per --tag"
d2=$("$MKIMAGE" build -o img2 --layer b/rootfs --tag busybox:1 --tag busybox:latest \
	--cmd '["/bin/sh"]' --env PATH=/bin --workdir /root --user 0:0 --expose 80 --label org.x=y)
is "$d2" "$d1" "reproducible: same inputs, same digest"
cmp -s img1/index.json img2/index.json; ok $? "reproducible: same index.json"
for f in img1/blobs/sha256/*; do cmp -s "$f" "img2/blobs/sha256/${f##*/}" || break; done
ok $? "reproducible: identical blobs"
d3=$("$MKIMAGE" build -o img3.tar --archive --layer b/rootfs --tag busybox:1 --tag busybox:latest \
	--cmd '["/bin/sh"]' --env PATH=/bin --workdir /root --user 0:0 --expose 80 --label org.x=y)
is "$d3" "$d1" "an archive holds the same image"
tar -tf img3.tar > list
is "$(head -n 2 list | tr '\n' ' ')" "oci-layout index.json " "archive: oci-layout and index.json first"
"$MKIMAGE" build -o img4.tar --archive --layer b/rootfs --tag busybox:1 --tag busybox:latest \
	--cmd '["/bin/sh"]' --env PATH=/bin --workdir /root --user 0:0 --expose 80 --label org.x=y >/dev/null
cmp -s img3.tar img4.tar; ok $? "archives are reproducible byte for byte"
d5=$(SOURCE_DATE_EPOCH=1700000000 "$MKIMAGE" build -o img5 --layer a/rootfs)
d6=$("$MKIMAGE" build -o img6 --layer a/rootfs --mtime 1700000000)
[ "$d5" != "$d1" ]; ok $? "SOURCE_DATE_EPOCH changes the digest"
is "$d6" "$d5" "--mtime is SOURCE_DATE_EPOCH"
d7=$("$MKIMAGE" build -o img6 --layer a/rootfs --mtime 1700000000)
is "$d7" "$d6" "building over an existing layout replaces it"
[ ! -e img6.mkimage-old ] && ! ls -a | grep -q mkimage-; ok $? "no temporary files left"

# ---- what is in the layer --------------------------------------------------------
layer=$(layer_of img1 0)
tar -tvzf "$layer" > tv
tar -tzf "$layer" > names
sort names | cmp -s - names; ok $? "entries sorted by path"
[ "$(awk '{print $4, $5}' tv | sort -u)" = "1970-01-01 00:00" ]; ok $? "every mtime is 0"
grep -q '^h.* etc/motd.link link to etc/motd$' tv; ok $? "hardlink kept, to the first path"
grep -q '^p.* tmp/fifo$' tv; ok $? "fifo kept"
grep -q '^l.* bin/sh -> busybox$' tv; ok $? "symlink kept"
! grep -q '^\./\?$' names; ok $? "no entry for the root"
is "$(od -A n -t x1 -N 10 "$layer" | tr -d ' \n')" "1f8b0800000000000203" "gzip header: no name, mtime 0"
d8=$("$MKIMAGE" build -o img8 --layer a/rootfs --owner 1000:100)
tar -tvzf "$(layer_of img8 0)" | awk '{print $2}' | sort -u > owners
is "$(cat owners)" "1000/100" "--owner sets every entry"

# A tarball of the same tree makes the same layer (owners, mtimes, order
# and headers are normalised).
tar -C a/rootfs -cf tree.tar .
gzip -c tree.tar > tree.tgz
"$MKIMAGE" build -o img9 --layer tree.tar >/dev/null
"$MKIMAGE" build -o img10 --layer tree.tgz >/dev/null
"$MKIMAGE" build -o img11 --layer a/rootfs >/dev/null
is "$(basename "$(layer_of img9 0)")" "$(basename "$(layer_of img11 0)")" "tar input gives the directory's layer"
is "$(basename "$(layer_of img10 0)")" "$(basename "$(layer_of img11 0)")" "gzip tar input too"
if command -v setcap >/dev/null && cp /bin/busybox capbin && setcap cap_net_raw+ep capbin 2>/dev/null; then
	mkdir capdir && mv capbin capdir/
	"$MKIMAGE" build -o img12 --layer capdir >/dev/null
	zcat "$(layer_of img12 0)" | grep -a -q 'SCHILY.xattr.security.capability='; ok $? "security.capability kept"
else
	skip "no setcap"
fi

# ---- config and history ----------------------------------------------------------
cfg=$(cat "$(config_of img1)")
like "$cfg" '{"architecture":"amd64","config":{"Cmd":\["/bin/sh"\],"Env":\["PATH=/bin"\],"ExposedPorts":{"80/tcp":{}},"Labels":{"org.x":"y"},"User":"0:0","WorkingDir":"/root"},"created":"1970-01-01T00:00:00Z",*' "config: canonical, with every flag"
like "$cfg" '*"history":\[{"created":"1970-01-01T00:00:00Z","created_by":"mkimage build --layer rootfs"},{*"created_by":"mkimage build --cmd \[\\"/bin/sh\\"\] --env PATH=/bin --workdir /root --user 0:0 --expose 80 --label org.x=y","empty_layer":true}\]*' "history says what made each layer"
like "$cfg" '*"os":"linux","rootfs":{"diff_ids":\["sha256:*"\],"type":"layers"}}' "rootfs diff_ids"
diff_id=$(zcat "$(layer_of img1 0)" | sha256sum | cut -d' ' -f1)
like "$cfg" "*\"diff_ids\":\[\"sha256:$diff_id\"\]*" "diff_id is the sha256 of the tar"

mkdir top && echo top > top/top.txt
"$MKIMAGE" build -o app --from img1 --from-ref busybox:1 --layer top --tag app:1 \
	--env PATH=/usr/bin:/bin --env A=1 --entrypoint 'exec httpd -f' --arch amd64 >/dev/null
ok $? "build --from a layout"
cfg=$(cat "$(config_of app)")
like "$cfg" '*"config":{"Entrypoint":\["/bin/sh","-c","exec httpd -f"\],"Env":\["PATH=/usr/bin:/bin","A=1"\],"ExposedPorts":{"80/tcp":{}},"Labels":{"org.x":"y"},"User":"0:0","WorkingDir":"/root"}*' "base config kept and changed; shell-form entrypoint; base Cmd dropped"
like "$cfg" '*"created_by":"mkimage build --layer rootfs"},{*},{*"created_by":"mkimage build --layer top"},{*' "base history first"
is "$(basename "$(layer_of app 0)")" "$(basename "$(layer_of img1 0)")" "base layer first"
"$MKIMAGE" build -o app2 --from img3.tar --layer top --tag app:1 --env PATH=/usr/bin:/bin --env A=1 \
	--entrypoint 'exec httpd -f' >/dev/null
ok $? "build --from an archive (one image, two tags)"
cmp -s "$(config_of app)" "$(config_of app2)"; ok $? "same result from the archive"
err=$("$MKIMAGE" build -o app3 --from img1 --arch arm64 --layer top 2>&1)
is $? 1 "--arch that contradicts the base refused"
err=$("$MKIMAGE" build -o app3 --from img1 --from-ref nope:1 --layer top 2>&1)
like "$err" "mkimage: build: --from img1: img1: no image named nope:1" "unknown --from-ref"

"$MKIMAGE" build -o arm --layer top --arch arm --variant v7 >/dev/null
like "$(cat "$(config_of arm)")" '*"architecture":"arm",*"variant":"v7"}' "arch and variant"
grep -q '"platform":{"architecture":"arm","os":"linux","variant":"v7"}' arm/index.json; ok $? "platform in the index"

# ---- other tools read it ------------------------------------------------------------
if command -v skopeo >/dev/null; then
	skopeo inspect oci:img1:busybox:1 > sk 2>&1; ok $? "skopeo reads the layout"
	grep -q "\"Digest\": \"$d1\"" sk; ok $? "skopeo sees the same digest"
	skopeo inspect oci-archive:img3.tar:busybox:latest >/dev/null 2>&1; ok $? "skopeo reads the archive"
else
	skip "no skopeo"; skip "no skopeo"; skip "no skopeo"
fi
if command -v umoci >/dev/null; then
	umoci unpack --image img1:busybox:1 bundle >/dev/null 2>&1; ok $? "umoci unpacks it"
	cmp -s bundle/rootfs/bin/busybox a/rootfs/bin/busybox && [ -p bundle/rootfs/tmp/fifo ] &&
		[ "$(stat -c %i bundle/rootfs/etc/motd)" = "$(stat -c %i bundle/rootfs/etc/motd.link)" ]
	ok $? "... with the same files, fifo and hardlink"
else
	skip "no umoci"; skip "no umoci"
fi

# ---- inspect ------------------------------------------------------------------------------
out=$("$MKIMAGE" inspect img1)
ok $? "inspect"
like "$out" "$d1*name:     busybox:1*name:     busybox:latest*platform: linux/amd64*layer:    sha256:*" "inspect shows names, platform, layers"
like "$out" "*history:  mkimage build --layer rootfs*" "inspect shows history"
out=$("$MKIMAGE" inspect img3.tar)
like "$out" "$d1*" "inspect reads archives"
"$MKIMAGE" inspect nothing >/dev/null 2>&1
is $? 1 "inspect of nothing fails"
printf 'junk' > junk.tar
err=$("$MKIMAGE" inspect junk.tar 2>&1)
like "$err" "mkimage: inspect: junk.tar: not an OCI archive*" "inspect of junk"
! ls -a | grep -q 'junk.tar.mkimage'; ok $? "no temporary directory left by a bad archive"

# ---- rewriting index.json keeps every annotation --------------------------------
mkdir -p annroot && echo x > annroot/f
"$MKIMAGE" build -o ann.oci --layer annroot --tag ann:1 >/dev/null
python3 - ann.oci <<'EOF'
import json, sys
p = sys.argv[1] + "/index.json"
idx = json.load(open(p))
idx["manifests"][0]["annotations"]["org.opencontainers.image.created"] = "2026-11-23T00:00:00Z"
idx["manifests"][0]["annotations"]["io.example.zz"] = "last"
json.dump(idx, open(p, "w"))
EOF
"$MKIMAGE" keygen -o annk >/dev/null && "$MKIMAGE" sign --key annk.key ann.oci >/dev/null
ok $? "sign an image whose index entry has more annotations than its name"
got=$(python3 - ann.oci <<'EOF'
import json, sys
idx = json.load(open(sys.argv[1] + "/index.json"))
for m in idx["manifests"]:
    a = m.get("annotations", {})
    if a.get("org.opencontainers.image.ref.name") == "ann:1":
        print(" ".join("%s=%s" % kv for kv in sorted(a.items())))
EOF
)
is "$got" "io.example.zz=last org.opencontainers.image.created=2026-11-23T00:00:00Z org.opencontainers.image.ref.name=ann:1" \
	"every annotation kept, the name too"
grep -q '"io.example.zz":"last","org.opencontainers.image.created"' ann.oci/index.json
ok $? "in byte order (canonical JSON)"
"$MKIMAGE" verify --key annk.pub ann.oci >/dev/null; ok $? "and the signature verifies"

done_testing
