#!/bin/sh
# Signed images end to end: mkimage sign and verify, interop with openssl,
# and the trust policy of `rt load` - nothing unsigned, tampered, signed by
# an unknown key or older than what was accepted reaches the store.
. "$(dirname "$0")/lib.sh"

[ -x "$MKIMAGE" ] || skip_all "no $MKIMAGE (run make)"
command -v openssl >/dev/null || skip_all "no openssl"
cd "$T" || exit 1

# Surgery on OCI layouts, as an attacker (or cosign) would do it by hand.
cat > oci.py <<'EOF'
import base64, hashlib, json, os, shutil, sys

def blob_put(d, data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(d, "blobs/sha256", h), "wb") as f:
        f.write(data)
    return "sha256:" + h

def blob(d, dig):
    return open(os.path.join(d, "blobs/sha256", dig[7:]), "rb").read()

def index(d):
    return json.load(open(os.path.join(d, "index.json")))

def index_put(d, idx):
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump(idx, f)

def image(d):
    for m in index(d)["manifests"]:
        if not m.get("annotations", {}).get("org.opencontainers.image.ref.name", "").endswith(".sig"):
            return m
    raise SystemExit("no image")

def sig_entry(d, dig):
    tag = dig.replace(":", "-") + ".sig"
    for m in index(d)["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name", "").endswith(tag):
            return m
    return None

def set_image(d, old, new_dig, size):
    idx = index(d)
    for m in idx["manifests"]:
        if m["digest"] == old:
            m["digest"] = new_dig
            m["size"] = size
    index_put(d, idx)

cmd, d = sys.argv[1], sys.argv[2]
if cmd == "digest":                 # the image's manifest digest
    print(image(d)["digest"])
elif cmd == "payload":              # PAYLOAD_OUT SIG_OUT: the first signature
    man = json.loads(blob(d, sig_entry(d, image(d)["digest"])["digest"]))
    l = man["layers"][0]
    open(sys.argv[3], "wb").write(blob(d, l["digest"]))
    open(sys.argv[4], "wb").write(base64.b64decode(l["annotations"]["dev.cosignproject.cosign/signature"]))
elif cmd == "attach":               # DIGEST PAYLOAD SIG.DER: as cosign pushes it
    dig, payload, sig = sys.argv[3], open(sys.argv[4], "rb").read(), open(sys.argv[5], "rb").read()
    pd = blob_put(d, payload)
    cfg = json.dumps({"architecture": "", "created": "0001-01-01T00:00:00Z",
                      "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                      "rootfs": {"type": "layers", "diff_ids": [pd]}, "config": {}}).encode()
    cd = blob_put(d, cfg)
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "size": len(cfg), "digest": cd},
                      "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                                  "size": len(payload), "digest": pd,
                                  "annotations": {"dev.cosignproject.cosign/signature":
                                                  base64.b64encode(sig).decode()}}]}).encode()
    md = blob_put(d, man)
    idx = index(d)
    tag = dig.replace(":", "-") + ".sig"
    idx["manifests"] = [m for m in idx["manifests"]
                        if not m.get("annotations", {}).get("org.opencontainers.image.ref.name", "").endswith(tag)]
    idx["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                             "digest": md, "size": len(man),
                             "annotations": {"org.opencontainers.image.ref.name": tag}})
    index_put(d, idx)
elif cmd == "flip":                 # a byte of the manifest, index updated
    m = image(d)
    data = blob(d, m["digest"]).replace(b'"schemaVersion":2', b'"schemaVersion":2 ', 1)
    set_image(d, m["digest"], blob_put(d, data), len(data))
elif cmd == "flip-inplace":         # a byte of the manifest, under its old name
    m = image(d)
    data = blob(d, m["digest"]).replace(b'"schemaVersion":2', b'"schemaVersion":3', 1)
    open(os.path.join(d, "blobs/sha256", m["digest"][7:]), "wb").write(data)
elif cmd == "swap":                 # OTHER: its first layer replaces ours
    other = sys.argv[3]
    m = image(d)
    man = json.loads(blob(d, m["digest"]))
    om = json.loads(blob(other, image(other)["digest"]))
    l = om["layers"][0]
    blob_put(d, blob(other, l["digest"]))
    man["layers"][-1] = l
    data = json.dumps(man, separators=(",", ":"), sort_keys=True).encode()
    set_image(d, m["digest"], blob_put(d, data), len(data))
elif cmd == "swap-inplace":         # OTHER: its layer's bytes under our layer's name
    other = sys.argv[3]
    man = json.loads(blob(d, image(d)["digest"]))
    om = json.loads(blob(other, image(other)["digest"]))
    data = blob(other, om["layers"][0]["digest"])
    open(os.path.join(d, "blobs/sha256", man["layers"][-1]["digest"][7:]), "wb").write(data)
elif cmd == "move-sig":             # OTHER: our signature becomes OTHER's
    other = sys.argv[3]
    s = sig_entry(d, image(d)["digest"])
    man = json.loads(blob(d, s["digest"]))
    for desc in [man["config"]] + man["layers"]:
        blob_put(other, blob(d, desc["digest"]))
    md = blob_put(other, blob(d, s["digest"]))
    idx = index(other)
    idx["manifests"].append({"mediaType": s["mediaType"], "digest": md, "size": s["size"],
                             "annotations": {"org.opencontainers.image.ref.name":
                                             image(other)["digest"].replace(":", "-") + ".sig"}})
    index_put(other, idx)
EOF
oci() { python3 "$T/oci.py" "$@"; }

mk_busybox_rootfs rootfs
mkdir extra && echo extra > extra/extra.txt
"$MKIMAGE" keygen -o k >/dev/null && "$MKIMAGE" keygen -o other >/dev/null
ok $? "two key pairs"
# An openssl-made key (SEC1 with EC PARAMETERS) and a PKCS#8 one.
openssl ecparam -name prime256v1 -genkey -out ossl.key 2>/dev/null
openssl ec -in ossl.key -pubout -out ossl.pub 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p8.key 2>/dev/null
openssl pkey -in p8.key -pubout -out p8.pub 2>/dev/null

build() { # OUT [args]: the app image, as a layout
	out=$1; shift
	"$MKIMAGE" build -o "$out" --layer rootfs --tag app:v1 --cmd '["/bin/sh"]' "$@" >/dev/null
}

# ---- mkimage sign / verify ------------------------------------------------------
build img
dig=$(oci digest img)
out=$("$MKIMAGE" sign --key k.key --version 1 img)
ok $? "sign"
like "$out" "signed app:v1 $dig (key *, version 1)" "sign says what it signed"
grep -q "\"org.opencontainers.image.ref.name\":\"sha256-${dig#sha256:}.sig\"" img/index.json
ok $? "signature manifest tagged sha256-<hex>.sig"
out=$("$MKIMAGE" verify --key k.pub img)
ok $? "verify with the signer's key"
like "$out" "verified app:v1 $dig (key *k.pub, version 1, identity docker.io/library/app)" "verify output"
"$MKIMAGE" verify --key other.pub img >/dev/null 2>&1
is $? 1 "verify with another key fails"
cp -a img img.again
"$MKIMAGE" sign --key k.key --version 1 img.again >/dev/null
cmp -s img/index.json img.again/index.json; ok $? "signing the same again changes nothing"
"$MKIMAGE" sign --key other.key --version 1 img.again >/dev/null
"$MKIMAGE" verify --key other.pub img.again >/dev/null; ok $? "a second signer adds a signature"
"$MKIMAGE" verify --key k.pub img.again >/dev/null; ok $? "... and the first still verifies"
"$MKIMAGE" inspect img.again | grep -c "signature [12]: identity app" > n
is "$(cat n)" 2 "inspect lists both signatures"
"$MKIMAGE" build -o img.tar --archive --layer rootfs --tag app:v1 --cmd '["/bin/sh"]' >/dev/null
"$MKIMAGE" sign --key ossl.key --version 1 img.tar >/dev/null; ok $? "sign an archive with an openssl key"
"$MKIMAGE" verify --key ossl.pub img.tar >/dev/null; ok $? "verify an archive"
"$MKIMAGE" sign --key p8.key img.tar >/dev/null; ok $? "sign with a PKCS#8 key"
"$MKIMAGE" verify --key p8.pub img.tar >/dev/null; ok $? "verify it"
err=$("$MKIMAGE" sign --key k.pub img 2>&1)
is $? 1 "signing with a public key fails"
"$MKIMAGE" build -o noname --layer rootfs >/dev/null
err=$("$MKIMAGE" sign --key k.key noname 2>&1)
like "$err" "*no NAME:TAG*--identity*" "an unnamed image needs --identity"
"$MKIMAGE" sign --key k.key --identity example.com/app noname >/dev/null; ok $? "sign with --identity"
"$MKIMAGE" verify --key k.pub noname | grep -q "identity example.com/app)"; ok $? "... verified, unnamed"

# ---- openssl interop ----------------------------------------------------------------
oci payload img payload sig.der
openssl dgst -sha256 -verify k.pub -signature sig.der payload >/dev/null
ok $? "openssl verifies mkimage's signature"
like "$(cat payload)" "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},\"image\":{\"docker-manifest-digest\":\"$dig\"},\"type\":\"cosign container image signature\"},\"optional\":{\"version\":\"1\"}}" "the payload cosign writes"
build ossl
odig=$(oci digest ossl)
printf '{"critical":{"identity":{"docker-reference":"app"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":{"version":"5","creator":"openssl"}}' \
	"$odig" > opayload
openssl dgst -sha256 -sign k.key -out osig.der opayload
oci attach ossl "$odig" opayload osig.der
"$MKIMAGE" verify --key k.pub ossl >/dev/null
ok $? "a payload signed by openssl, in a manifest as cosign writes it, verifies"

# ---- mkimage verify refuses tampering ----------------------------------------------
refused() { # DIR WHY: mkimage verify must fail
	"$MKIMAGE" verify --key k.pub "$1" >/dev/null 2>err.txt
	rc=$?
	[ $rc = 1 ] && grep -q "^mkimage: verify: " err.txt
	ok $? "verify refuses $2 ($(tail -n 1 err.txt | sed "s/.*sha256:[0-9a-f]*: //" | cut -c1-100))"
}
build unsigned; refused unsigned "an unsigned image"
cp -a img t1; oci flip t1; refused t1 "a manifest with a byte changed"
cp -a img t2; oci flip-inplace t2; refused t2 "a manifest changed under its old digest"
"$MKIMAGE" build -o other --layer extra --tag other:1 >/dev/null
cp -a img t3; oci swap t3 other; refused t3 "a layer swapped for another valid layer"
# (an image of its own: a layer already in rt's store is never read again)
mkdir extra4 && echo four > extra4/four.txt
build t4 --layer extra4; "$MKIMAGE" sign --key k.key --version 1 t4 >/dev/null
oci swap-inplace t4 other; refused t4 "another layer's bytes under the layer's digest"
cp -a other t5; oci move-sig img t5; refused t5 "a signature for digest A attached to image B"
build t6 --env T=6
d6=$(oci digest t6)
printf '{"critical":{"identity":{"docker-reference":"app"},"image":{"docker-manifest-digest":"%s","docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":null}' \
	"$dig" "$d6" > duppayload
openssl dgst -sha256 -sign k.key -out dup.der duppayload
oci attach t6 "$d6" duppayload dup.der
refused t6 "a signed payload with duplicate keys"
build t7 --env T=7
d7=$(oci digest t7)
printf '{"critical":{"identity":{"docker-reference":"app"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature","image2":{"docker-manifest-digest":"%s"}},"optional":null}' \
	"$d7" "$dig" > extrapayload
openssl dgst -sha256 -sign k.key -out extra.der extrapayload
oci attach t7 "$d7" extrapayload extra.der
refused t7 "a signed payload with an extra critical field"
cp -a img t8
sed 's/"app:v1"/"evil:v1"/' img/index.json > t8/index.json
refused t8 "a signed image renamed to another repository"

# ---- rt load ------------------------------------------------------------------------
if ! "$RT" --help 2>/dev/null | grep -q '^  load '; then
	skip "rt has no load verb"
	done_testing
	exit
fi
# Without the trust glue linked in, rt load checks no signature at all.
probe=$(RT_KEYS_DIR=/dev/null "$RT" --root "$T/probe" load --allow-downgrade -i /dev/null 2>&1)
case $probe in
*"trusted keys"*) ;;
*)
	skip "rt load does not check signatures in this build ($probe)"
	done_testing
	exit ;;
esac

mkdir -p keys && cp k.pub keys/
export RT_KEYS_DIR="$T/keys"
features=$("$RT" version | grep features)
case $features in
*+require-signature*) required=1 ;;
*) required=0 ;;
esac
listing() { find "$T/root" -printf '%P %y %s %m\n' 2>/dev/null | grep -v '^tmp/' | sort; }

rt load -i img >out.txt 2>&1
ok $? "rt load accepts the signed image ($(tail -n 1 out.txt))"
like "$(cat out.txt)" "*Loaded image: app:v1*" "Loaded image: app:v1"
# The signature state, as one line of JSON.
rt image inspect app:v1 | tr -d ' \n' | sed 's/.*"Signature":\({[^}]*}\).*/\1/' > sig.json
fpr=$(openssl pkey -pubin -in k.pub -outform DER | sha256sum | cut -c1-64)
like "$(cat sig.json)" "{\"Key\":\"$fpr\",\"KeyFile\":\"k.pub\",\"Repository\":\"docker.io/library/app\",\"Signed\":true,\"Verified\":\"20??-??-??T??:??:??Z\",\"Version\":1}" \
	"rt image inspect shows key id, key file, repository, when verified, version"

rt_refused() { # IMAGE WHY [GLOB]: rt load must fail, the store unchanged
	before=$(listing)
	rt load -i "$1" >out.txt 2>&1
	rc=$?
	after=$(listing)
	[ $rc != 0 ] && [ "$before" = "$after" ] && grep -q '^rt: load: ' out.txt &&
		case $(cat out.txt) in ${3:-*}) true ;; *) false ;; esac
	ok $? "rt load refuses $2, store unchanged ($(tail -n 1 out.txt | cut -c1-140))"
}
if [ $required = 1 ]; then
	rt_refused unsigned "an unsigned image" "*not signed*"
else
	skip "built without REQUIRE_SIGNATURE"
fi
cp -a ossl ossl2
rt_refused t1 "a manifest with a byte changed"
rt_refused t2 "a manifest changed under its old digest"
rt_refused t3 "a layer swapped for another valid layer"
rt_refused t4 "another layer's bytes under the layer's digest"
rt_refused t5 "a signature for digest A attached to image B"
rt_refused t6 "a signed payload with duplicate keys" "*duplicate*"
rt_refused t7 "a signed payload with an extra critical field"
rt_refused t8 "a signed image renamed to another repository"
build t9; "$MKIMAGE" sign --key other.key --version 9 t9 >/dev/null
rt_refused t9 "a signature by an unknown key" "*trusted key*"
rt load -i ossl >out.txt 2>&1
ok $? "rt accepts a payload signed by openssl ($(tail -n 1 out.txt))"

# Anti-rollback: version 5 was accepted (ossl); 3 is older.
build v3 --env V=3
"$MKIMAGE" sign --key k.key --version 3 v3 >/dev/null
rt_refused v3 "version 3 after version 5" "*rollback*"
build v6 --env V=6
"$MKIMAGE" sign --key k.key --version 6 v6 >/dev/null
rt load -i v6 >/dev/null 2>&1; ok $? "version 6 after 5 accepted"
build v0 --env V=0
"$MKIMAGE" sign --key k.key v0 >/dev/null
rt_refused v0 "an unversioned signature after version 6" "*rollback*"
rt load --allow-downgrade -i v3 >out.txt 2>&1
ok $? "--allow-downgrade takes version 3"
grep -q "^rt: warning: app:v1: downgrade to version 3 from version 6 allowed by --allow-downgrade" out.txt
ok $? "... and says so ($(grep downgrade out.txt | head -n 1 | cut -c1-100))"
rt image inspect app:v1 | tr -d ' \n' | grep -q '"Signature":{"Downgrade":true,'
ok $? "inspect remembers the downgrade"
rt_refused v3 "version 3 again, without the override" "*rollback*"

# The rollback record is in the store, private.
rec=$(ls "$T/root/trust/repos/")
like "$rec" "????????????????????????????????????????????????????????????????" "one rollback record, named by a hash"
is "$(stat -c %a "$T/root/trust/repos/$rec")" 600 "... mode 0600"
# No trusted key: nothing gets in (when signatures are required).
mkdir -p nokeys
if [ $required = 1 ]; then
	RT_KEYS_DIR="$T/nokeys" rt_refused t9 "any image when no key is trusted" "*no key is trusted*"
else
	skip "built without REQUIRE_SIGNATURE"
fi
done_testing
