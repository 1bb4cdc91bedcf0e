#!/bin/sh
# rt pull against a real registry (Debian's docker-registry over TLS from a
# CA made here, images pushed by skopeo, signed with openssl the way cosign
# does it), and against a hostile fake registry written here: every bad
# answer is a one-line error, a non-zero exit and an unchanged store.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
for c in docker-registry skopeo umoci openssl; do
	command -v $c >/dev/null || skip_all "no $c (make setup)"
done
[ -x $PY ] || skip_all "no $PY"
"$RT" pull --help >/dev/null 2>&1 || skip_all "rt built without pull"
# Signatures required but no signature check linked: rt pull refuses all.
if "$RT" version | grep -q -- "+require-signature" &&
   ! grep -q "cosign container image signature" "$RT"; then
	skip_all "this rt requires signatures but has no signature check"
fi
cd "$T" || exit 1

# --- keys, certificates, config ------------------------------------------

mkdir -p keys etc certs
openssl ecparam -name prime256v1 -genkey -noout -out sign.key 2>/dev/null
openssl ec -in sign.key -pubout -out keys/test.pub 2>/dev/null
export RT_KEYS_DIR="$T/keys" RT_CONFIG_DIR="$T/etc" RT_PULL_TIMEOUT=5

mkcert() {  # mkcert NAME SAN [CA-OPTS...]: NAME.key, NAME.pem signed by the CA
	n=$1 san=$2
	shift 2
	openssl ecparam -name prime256v1 -genkey -noout -out "$n.key" 2>/dev/null
	openssl req -new -key "$n.key" -subj "/CN=$n" -out "$n.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
		"$san" > "$n.ext"
	openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -extfile "$n.ext" \
		"$@" -out "$n.pem" 2>/dev/null
}
openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -subj /CN=rt-test-ca -days 3 -out ca.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
mkcert server IP:127.0.0.1 -days 2
mkcert wronghost DNS:registry.example,IP:127.0.0.2 -days 2
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout selfsigned.key \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 -out selfsigned.pem 2>/dev/null
# An expired certificate: openssl ca takes explicit dates.
mkdir -p ca.db && : > ca.db/index && echo 01 > ca.db/serial
cat > ca.cnf <<EOF
[ca]
default_ca = d
[d]
dir = $T/ca.db
database = \$dir/index
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = p
copy_extensions = copy
[p]
commonName = supplied
EOF
openssl ecparam -name prime256v1 -genkey -noout -out expired.key 2>/dev/null
openssl req -new -key expired.key -subj /CN=expired -addext subjectAltName=IP:127.0.0.1 \
	-out expired.csr 2>/dev/null
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
	-startdate 20200101000000Z -enddate 20200201000000Z >/dev/null 2>&1
cp ca.pem certs/ca.crt

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {  # wait_port PORT: up to 10 s
	$PY - "$1" <<'EOF'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

# Everything in the store but the scratch space, with contents.
snap() {
	(cd "$T/root" 2>/dev/null && find . -path ./tmp -prune -o -print | LC_ALL=C sort &&
	 find . -path ./tmp -prune -o -type f -print0 | xargs -0 -r sha256sum | LC_ALL=C sort) |
		sha256sum
}

# refused NAME GLOB DESCRIPTION: rt pull fails with one line matching GLOB
# and leaves the store as it was.
refused() {
	before=$(snap)
	err=$(rt pull "$1" 2>&1 >/dev/null)
	rc=$?
	[ $rc -ne 0 ]; ok $? "$3: non-zero exit ($rc)"
	lines=$(printf '%s\n' "$err" | wc -l)
	like "$lines:$err" "1:rt: pull: $2" "$3: one clear line"
	printf '# %s\n' "$err"
	is "$(snap)" "$before" "$3: store unchanged"
}

# --- a real registry -------------------------------------------------------

RP=$(free_port)
REG=127.0.0.1:$RP
mkdir -p reg
cat > reg.yml <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $T/reg
  delete:
    enabled: true
http:
  addr: $REG
  tls:
    certificate: $T/server.pem
    key: $T/server.key
EOF
docker-registry serve reg.yml > reg.log 2>&1 &
echo $! > registry.pid
wait_port "$RP" || skip_all "docker-registry does not start: $(tail -n 3 reg.log)"
printf 'ca %s %s\nbundle %s/no-bundle.pem\n' "$REG" "$T/ca.pem" "$T" > etc/registries.conf

# Images: a busybox base, a child adding one layer on top of it, and a
# small image for another architecture.
mk_busybox_rootfs rootfs
mkdir -p extra/etc armfs/etc
echo child > extra/etc/child-marker
echo arm > armfs/etc/arm-marker
layer() {  # layer FROM TO DIR: TO is FROM plus a layer with DIR's files
	rm -rf bundle &&
	umoci unpack --image "oci:$1" bundle &&
	cp -a "$3/." bundle/rootfs/ &&
	umoci repack --image "oci:$2" bundle
}
# (umoci insert writes tar streams without their end: not used here)
{
	umoci init --layout oci &&
	umoci new --image oci:empty &&
	layer empty base rootfs &&
	umoci config --image oci:base --config.cmd /bin/sh &&
	layer base child extra &&
	layer empty arm armfs &&
	umoci config --image oci:arm --architecture arm --os linux
} > umoci.log 2>&1 || skip_all "umoci failed: $(tail -n 3 umoci.log)"

push() {  # push TAG DEST [skopeo args]: prints the manifest digest
	t=$1 dest=$2
	shift 2
	skopeo --insecure-policy copy -q --dest-cert-dir "$T/certs" --digestfile "$T/dig" "$@" \
		"oci:$T/oci:$t" "docker://$REG/$dest" >> skopeo.log 2>&1 || return 1
	cat "$T/dig"
}

# The registry side of cosign: payload, openssl signature, .sig manifest.
cat > reg.py <<'EOF'
import base64, hashlib, http.client, json, ssl, subprocess, sys

def conn(host):
    ctx = ssl.create_default_context(cafile=CA)
    return http.client.HTTPSConnection(host, context=ctx, timeout=10)

def put_blob(host, repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    c = conn(host)
    c.request("POST", "/v2/%s/blobs/uploads/" % repo)
    r = c.getresponse(); r.read()
    loc = r.getheader("Location")
    loc = loc[loc.index("/v2/"):] if "://" in loc else loc
    c.request("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d, body=data,
              headers={"Content-Type": "application/octet-stream"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
    return d

def put_manifest(host, repo, ref, body, mt):
    c = conn(host)
    c.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body, headers={"Content-Type": mt})
    r = c.getresponse(); r.read()
    assert r.status == 201, (r.status, ref)
    return "sha256:" + hashlib.sha256(body).hexdigest()

def get_manifest(host, repo, ref):
    c = conn(host)
    c.request("GET", "/v2/%s/manifests/%s" % (repo, ref), headers={"Accept": ", ".join([
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json"])})
    r = c.getresponse(); b = r.read()
    return b, r.getheader("Content-Type")

def sign(host, repo, digest, key, identity):
    payload = json.dumps({"critical": {"identity": {"docker-reference": identity},
                          "image": {"docker-manifest-digest": digest},
                          "type": "cosign container image signature"},
                          "optional": None}, separators=(",", ":")).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=payload,
                         capture_output=True, check=True).stdout
    cfg = put_blob(host, repo, b"{}")
    pd = put_blob(host, repo, payload)
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": pd,
                    "size": len(payload),
                    "annotations": {"dev.cosignproject.cosign/signature": base64.b64encode(sig).decode()}}]
        }).encode()
    put_manifest(host, repo, digest.replace(":", "-") + ".sig", man,
                 "application/vnd.oci.image.manifest.v1+json")

CA = sys.argv[2]
cmd, host = sys.argv[1], sys.argv[3]
if cmd == "sign":          # sign CA HOST REPO DIGEST KEY
    sign(host, sys.argv[4], sys.argv[5], sys.argv[6], host + "/" + sys.argv[4])
elif cmd == "index":       # index CA HOST REPO TAG (ARCH VARIANT SRCREPO DIGEST)...
    repo, tag, ms = sys.argv[4], sys.argv[5], []
    a = sys.argv[6:]
    for i in range(0, len(a), 4):
        body, mt = get_manifest(host, a[i + 2], a[i + 3])
        put_manifest(host, repo, a[i + 3], body, mt)
        p = {"architecture": a[i], "os": "linux"}
        if a[i + 1] != "-":
            p["variant"] = a[i + 1]
        ms.append({"mediaType": mt, "digest": a[i + 3], "size": len(body), "platform": p})
    idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": ms}).encode()
    print(put_manifest(host, repo, tag, idx, "application/vnd.oci.image.index.v1+json"))
EOF
regpy() { $PY "$T/reg.py" "$1" "$T/ca.pem" "$REG" "$@"; }
regsign() { $PY "$T/reg.py" sign "$T/ca.pem" "$REG" "$1" "$2" "$T/sign.key"; }

D_BASE=$(push base busybox:latest) || skip_all "skopeo push failed: $(tail -n 3 skopeo.log)"
D_V2=$(push base busybox:v2s2 --format v2s2)
D_CHILD=$(push child child:latest)
D_UNSIGNED=$(push base unsigned:latest)
D_ARM=$(push arm multi:arm)
D_AMD=$(push base multi:amd64)
D_IDX=$($PY reg.py index "$T/ca.pem" "$REG" multi latest arm v7 multi "$D_ARM" amd64 - multi "$D_AMD")
ok $? "images pushed (OCI, Docker v2, child, multi-arch index)"
for x in "busybox $D_BASE" "busybox $D_V2" "child $D_CHILD" "multi $D_IDX"; do
	set -- $x
	regsign "$1" "$2" || ok 1 "sign $1 $2"
done

layer_of() {  # layer_of REPO DIGEST N: digest of layer N (from 0) of a manifest
	$PY - "$T/ca.pem" "$REG" "$1" "$2" "$3" <<'EOF'
import http.client, json, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
c = http.client.HTTPSConnection(sys.argv[2], context=ctx)
c.request("GET", "/v2/%s/manifests/%s" % (sys.argv[3], sys.argv[4]),
          headers={"Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"})
m = json.load(c.getresponse())
print(m["config"]["digest"] if sys.argv[5] == "config" else m["layers"][int(sys.argv[5])]["digest"])
EOF
}
L_BASE=$(layer_of busybox "$D_BASE" 0)
L_CHILD=$(layer_of child "$D_CHILD" 1)
L_ARM=$(layer_of multi "$D_ARM" 0)
C_BASE=$(layer_of busybox "$D_BASE" config)
C_CHILD=$(layer_of child "$D_CHILD" config)
blob_gets() {  # blob_gets REPO DIGEST...: blob GETs the registry served for them
	r=$1
	shift
	for d in "$@"; do grep "\"GET /v2/$r/blobs/$d HTTP/1.1\" 200" reg.log; done | wc -l
}

out=$(rt pull "$REG/busybox" 2>err)
rc=$?
is $rc 0 "pull by tag over TLS (OCI manifest)"
[ $rc = 0 ] || sed 's/^/# /' err
like "$out" "Using default tag: latest*latest: Pulling from busybox*: Pull complete*" "Docker-like progress"
like "$out" "*Digest: $D_BASE*Status: Downloaded newer image for $REG/busybox:latest*" "Digest and Status lines"
is "$(echo "$out" | grep -c 'Pull complete')" 1 "one layer downloaded (the config is not a layer)"
[ -d "root/layers/${L_BASE#sha256:}/diff/bin" ]; ok $? "layer unpacked in the store"
grep -q "^$D_BASE $REG/busybox:latest" root/refs/images; ok $? "tag recorded"

is "$(blob_gets busybox "$L_BASE" "$C_BASE")" 2 "first pull fetched the layer and the config"
out=$(rt pull "$REG/busybox:latest" 2>&1)
is $? 0 "second pull"
like "$out" "*Status: Image is up to date for $REG/busybox:latest*" "second pull: up to date"
is "$(blob_gets busybox "$L_BASE" "$C_BASE")" 2 "second pull downloads no layer or config"

out=$("$RT" --root "$T/root2" --run "$T/run" pull "$REG/busybox@$D_BASE" 2>&1)
is $? 0 "pull by digest"
like "$out" "*Digest: $D_BASE*" "by digest: same digest"
like "$out" "*$REG/busybox@$D_BASE" "by digest: full reference last"

# On a terminal: each layer's line is redrawn in place (Downloading SIZE,
# Download complete) and ends as "Pull complete", like docker pull.
script -qec "\"$RT\" --root \"$T/root3\" --run \"$T/run\" pull $REG/busybox" /dev/null > tty.out 2>&1
is $? 0 "pull on a terminal"
short=$(echo "${L_BASE#sha256:}" | cut -c1-12)
grep -aq "$short: Downloading [0-9.]*[kM]*B$(printf '\033')\\[K$(printf '\r')" tty.out
ok $? "the layer's line shows its size and is redrawn in place"
grep -aq "$short: Download complete" tty.out && grep -aq "$short: Pull complete" tty.out
ok $? "then Download complete, then Pull complete"
"$RT" --root "$T/root4" --run "$T/run" pull -q "$REG/busybox" > q.out 2>&1
is "$(cat q.out)" "$REG/busybox:latest" "-q prints only the reference"

# Through an HTTPS proxy (CONNECT), and around it for NO_PROXY hosts.
cat > proxy.py <<'EOF'
import os, socket, sys, threading
T = sys.argv[1]
log = open(os.path.join(T, "proxy.log"), "a", buffering=1)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(os.path.join(T, "proxy.port.tmp"), "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
os.rename(os.path.join(T, "proxy.port.tmp"), os.path.join(T, "proxy.port"))

def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def handle(c):
    f = c.makefile("rb")
    line = f.readline().decode()
    while f.readline() not in (b"\r\n", b"\n", b""):
        pass
    log.write(line)
    method, target = line.split()[:2]
    host, port = target.rsplit(":", 1)
    if method != "CONNECT" or host != "127.0.0.1":
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        return c.close()
    u = socket.create_connection((host, int(port)))
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    pipe(u, c)

while True:
    threading.Thread(target=handle, args=(srv.accept()[0],), daemon=True).start()
EOF
$PY proxy.py "$T" > proxy.err 2>&1 &
echo $! > proxy.pid
i=0
while [ ! -f proxy.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PP=$(cat proxy.port)
out=$(HTTPS_PROXY=http://127.0.0.1:$PP NO_PROXY=example.com "$RT" --root "$T/root3" --run "$T/run" \
	pull "$REG/busybox" 2>&1)
is $? 0 "pull through HTTPS_PROXY"
grep -q "^CONNECT $REG HTTP/1.1" proxy.log; ok $? "tunnelled with CONNECT"
: > proxy.log
out=$(HTTPS_PROXY=http://127.0.0.1:$PP NO_PROXY=localhost,127.0.0.1 "$RT" --root "$T/root4" \
	--run "$T/run" pull -q "$REG/busybox" 2>&1)
is "$?:$out" "0:$REG/busybox:latest" "NO_PROXY bypasses the proxy; -q prints the reference only"
is "$(cat proxy.log)" "" "proxy not used for a NO_PROXY host"

out=$(rt pull "$REG/busybox:v2s2" 2>&1)
is $? 0 "pull a Docker v2 schema 2 manifest"
like "$out" "*Digest: $D_V2*" "Docker manifest digest"

out=$(rt pull "$REG/child" 2>&1)
is $? 0 "pull an image sharing the base layer"
is "$(echo "$out" | grep -c 'Pull complete')" 1 "only the new layer downloaded"
is "$(blob_gets child "$L_BASE"):$(blob_gets child "$L_CHILD" "$C_CHILD")" 0:2 \
	"registry served the new layer and the config, not the shared one"
[ -f "root/layers/${L_CHILD#sha256:}/diff/etc/child-marker" ]; ok $? "new layer unpacked"

out=$(rt pull "$REG/multi:latest" 2>&1)
is $? 0 "pull a multi-arch index"
like "$out" "*Digest: $D_IDX*" "index digest reported"
[ ! -e "root/layers/${L_ARM#sha256:}" ]; ok $? "the arm image's layer was not fetched"
grep -q "^$D_IDX $REG/multi:latest" root/refs/images || grep -q "$REG/multi:latest" root/refs/images
ok $? "multi-arch tag recorded"

if "$RT" version | grep -q -- "+require-signature"; then
	refused "$REG/unsigned:latest" "*sign*" "unsigned image with signatures required"
else
	skip "this rt does not require signatures"
fi
refused "$REG/busybox@sha256:$(echo x | sha256sum | cut -c1-64)" "*manifest not found" "unknown digest"
refused "$REG/busybox:nope" "$REG/busybox:nope: manifest not found" "unknown tag"
refused "$REG/busybox@sha256:../../../etc/passwd" "*" "digest that is a path"

# --- a hostile registry ------------------------------------------------------

cat > fake.py <<'EOF'
# A registry that lies, on 127.0.0.1 only: plain HTTP on the first port,
# TLS with good, self-signed, wrong-host and expired certificates on the
# next four. Repositories are scenarios.
import base64, gzip, hashlib, http.server, io, json, os, socket, ssl, subprocess
import sys, tarfile, threading, time

T, KEY = sys.argv[1], sys.argv[2]
LOG = open(os.path.join(T, "fake.log"), "a", buffering=1)
OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def layer(repo, tamper=False):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        ti = tarfile.TarInfo("repo")
        ti.size = len(repo)
        t.addfile(ti, io.BytesIO(repo.encode()))
        for i in range(40):
            data = (b"%d" % (i + tamper)) * 4000
            ti = tarfile.TarInfo("data/f%02d" % i)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    # stored, not deflated, for "wrongdigest": its tampered twin is the
    # same size and valid gzip, so only the digest can tell them apart
    return gzip.compress(raw.getvalue(), compresslevel=0 if repo == "wrongdigest" else 9, mtime=0)

BLOBS, DOCS, IMAGES = {}, {}, {}

def manifest(config, layer_digest, size):
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_M,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": size}]}).encode()

def image(repo):
    """Each repository its own layer, so no scenario finds it stored."""
    if repo not in IMAGES:
        lay = layer(repo)
        cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                          "rootfs": {"type": "layers", "diff_ids": [sha(gzip.decompress(lay))]}}).encode()
        man = manifest(cfg, sha(lay), len(lay))
        BLOBS[sha(lay)] = lay
        BLOBS[sha(cfg)] = cfg
        DOCS[sha(man)] = (man, OCI_M)
        IMAGES[repo] = (lay, cfg, man)
    return IMAGES[repo]

def signature(identity, digest):
    payload = json.dumps({"critical": {"identity": {"docker-reference": identity},
                          "image": {"docker-manifest-digest": digest},
                          "type": "cosign container image signature"}}).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=payload,
                         capture_output=True, check=True).stdout
    BLOBS[sha(payload)] = payload
    BLOBS[sha(b"{}")] = b"{}"
    m = json.dumps({"schemaVersion": 2, "mediaType": OCI_M,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(b"{}"), "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": sha(payload),
                    "size": len(payload),
                    "annotations": {"dev.cosignproject.cosign/signature": base64.b64encode(sig).decode()}}]
        }).encode()
    return m

SIGS = {}
PORTS = []
state = {"aborted": set(), "tokens": 0}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body=b"", ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        host = self.headers.get("Host", "")
        LOG.write("%s %s auth=%s range=%s\n" % (host, self.path,
                  self.headers.get("Authorization", "-"), self.headers.get("Range", "-")))
        p = self.path.split("?")[0].split("/")
        if self.path.startswith("/token"):
            state["tokens"] += 1
            return self.send(200, json.dumps({"token": "T0K3N", "expires_in": 300}).encode())
        if self.path.startswith("/store/"):
            return self.send(200, BLOBS[p[2]], "application/octet-stream")
        if len(p) != 5 or p[1] != "v2":
            return self.send(404)
        repo, kind, ref = p[2], p[3], p[4]
        port = self.server.server_address[1]
        me = "127.0.0.1:%d" % port
        if repo == "basic" and not host.startswith("localhost"):
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"u:p").decode():
                return self.send(401, extra=[("WWW-Authenticate", 'Basic realm="fake"')])
        if repo in ("bearer", "farrealm"):
            if self.headers.get("Authorization") != "Bearer T0K3N":
                realm = "http://%s/token" % (me if repo == "bearer" else "localhost:%d" % port)
                return self.send(401, extra=[("WWW-Authenticate",
                    'Bearer realm="%s",service="fake",scope="repository:%s:pull"' % (realm, repo))])
        if kind == "manifests":
            if ref.endswith(".sig"):
                key = (me, repo)
                if key not in SIGS:
                    SIGS[key] = signature("%s/%s" % (me, repo), ref[:-4].replace("-", ":"))
                return self.send(200, SIGS[key], OCI_M)
            return self.manifest(repo, ref)
        if kind == "blobs":
            return self.blob(repo, ref, port)
        self.send(404)

    def manifest(self, repo, ref):
        if repo == "flaky" and "flaked" not in state:
            state["flaked"] = 1
            return self.send(503, b"try again")
        if repo == "bigmanifest":
            self.send_response(200)
            self.send_header("Content-Type", OCI_M)
            self.send_header("Content-Length", str(100 << 20))
            self.end_headers()
            return
        if repo == "endlessmanifest":
            self.send_response(200)
            self.send_header("Content-Type", OCI_M)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(200):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass
            self.close_connection = True
            return
        if repo == "slowloris":
            try:
                for b in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: " + b"a" * 100:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            self.close_connection = True
            return
        lay, cfg, man = image(repo)
        if repo == "pathdigest":
            return self.send(200, manifest(cfg, "sha256:../../../../etc/passwd", 10), OCI_M)
        if repo == "confusion":     # a manifest that says it is an index
            return self.send(200, man, OCI_I)
        if repo == "nested":        # an index whose platform entry is an index
            inner = json.dumps({"schemaVersion": 2, "mediaType": OCI_I, "manifests": [
                {"mediaType": OCI_M, "digest": sha(man), "size": len(man),
                 "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
            DOCS[sha(inner)] = (inner, OCI_I)
            outer = json.dumps({"schemaVersion": 2, "mediaType": OCI_I, "manifests": [
                {"mediaType": OCI_I, "digest": sha(inner), "size": len(inner),
                 "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
            return self.send(200, outer, OCI_I)
        if ref in DOCS:
            body, mt = DOCS[ref]
            return self.send(200, body, mt)
        self.send(200, man, OCI_M, extra=[("Docker-Content-Digest", sha(b"lies"))])

    def blob(self, repo, ref, port):
        if ref not in BLOBS:
            return self.send(404)
        data = BLOBS[ref]
        if ref != sha(image(repo)[0]):
            return self.send(200, data, "application/octet-stream")
        rng = self.headers.get("Range")
        if repo == "wrongdigest":
            return self.send(200, layer(repo, True), "application/octet-stream")
        if repo == "liecl":
            return self.send(200, data + b"xx", "application/octet-stream")
        if repo in ("onemore", "endless"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            try:
                for _ in range(1 if repo == "onemore" else 100000):
                    self.wfile.write(b"1\r\nx\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return
        if repo in ("abort", "norange") and (repo, ref) not in state["aborted"]:
            state["aborted"].add((repo, ref))
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if repo == "abort" and rng:
            start = int(rng.split("=")[1].rstrip("-"))
            return self.send(206, data[start:], "application/octet-stream",
                             extra=[("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
        if repo == "basic":
            return self.send(307, extra=[("Location", "http://localhost:%d/store/%s" % (port, ref))])
        if repo == "loop":
            return self.send(302, extra=[("Location", self.path)])
        if repo == "downgrade":
            return self.send(307, extra=[("Location", "http://127.0.0.1:%d/store/%s" % (PORTS[0], ref))])
        self.send(200, data, "application/octet-stream")

class S(http.server.ThreadingHTTPServer):
    daemon_threads = True

def serve(cert):
    s = S(("127.0.0.1", 0), H)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(T, cert + ".pem"), os.path.join(T, cert + ".key"))
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
    PORTS.append(s.server_address[1])
    threading.Thread(target=s.serve_forever, daemon=True).start()

for c in (None, "server", "selfsigned", "wronghost", "expired"):
    serve(c)
with open(os.path.join(T, "fake.ports.tmp"), "w") as f:
    f.write(" ".join(map(str, PORTS)) + "\n")
os.rename(os.path.join(T, "fake.ports.tmp"), os.path.join(T, "fake.ports"))
threading.Event().wait()
EOF
$PY fake.py "$T" "$T/sign.key" > fake.err 2>&1 &
echo $! > fake.pid
i=0
while [ ! -f fake.ports ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -f fake.ports ] || skip_all "fake registry does not start: $(tail -n 3 fake.err)"
read -r FP TP SP WP EP < fake.ports
F=127.0.0.1:$FP
{
	echo "insecure $F"
	echo "insecure localhost:$FP"
	for p in $TP $SP $WP $EP; do echo "ca 127.0.0.1:$p $T/ca.pem"; done
	echo "bundle $T/no-bundle.pem"
} > etc/registries.conf
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$F" "$(printf u:p | base64)" > etc/auth.json

out=$(rt pull "$F/good" 2>&1)
is $? 0 "fake registry: a good image pulls (a lying Docker-Content-Digest is ignored)"

out=$(rt pull "$F/flaky" 2>&1)
is $? 0 "a 503 is retried"

out=$(rt pull "$F/abort" 2>&1)
is $? 0 "connection aborted mid-blob: the pull resumes"
like "$out" "*Resuming at*" "resume reported"
grep -q "/v2/abort/blobs/.* range=bytes=[1-9][0-9]*-" fake.log; ok $? "resumed with a Range request"

refused "$F/norange" "*ignores Range*" "abort where the registry ignores Range"
refused "$F/wrongdigest" "*digest mismatch*" "blob bytes that do not match the digest"
refused "$F/liecl" "*registry sends * bytes, the descriptor says*" "lying Content-Length"
refused "$F/onemore" "*more than the descriptor's*" "one byte too many"
refused "$F/endless" "*more than the descriptor's*" "endless body"
refused "$F/bigmanifest" "*104857600 bytes, more than the 4194304 allowed" "100 MB manifest (by Content-Length)"
refused "$F/endlessmanifest" "*more than the 4194304 bytes allowed" "endless manifest"
refused "$F/pathdigest" "*" "layer digest that is a path"
refused "$F/confusion" "*" "manifest served as an index"
refused "$F/nested" "*" "index pointing at an index"
refused "$F/loop" "*more than 10 redirects*" "redirect loop"
start=$(date +%s)
RT_PULL_TIMEOUT=2 refused "$F/slowloris" "*timed out*" "slow-loris head"
[ $(($(date +%s) - start)) -le 15 ]; ok $? "slow loris cut off in bounded time (2 s, 3 retries)"

: > fake.log
out=$(rt pull "$F/basic" 2>&1)
is $? 0 "Basic credentials from auth.json; blob redirected to another host"
grep -q "^$F /v2/basic/manifests/latest auth=Basic" fake.log; ok $? "credentials sent to the registry"
grep -q "^localhost:$FP /store/.* auth=-" fake.log; ok $? "redirect target reached"
! grep -q "^localhost:$FP .*auth=Basic" fake.log; ok $? "credentials not sent to the other host"

: > fake.log
out=$(rt pull "$F/bearer" 2>&1)
is $? 0 "bearer token from the realm"
is "$(grep -c '/token' fake.log)" 1 "token fetched once and reused"
grep -q "^$F /token.* auth=Basic" fake.log; ok $? "credentials go to a realm on the registry's host"
: > fake.log
rt pull "$F/farrealm" >/dev/null 2>&1
grep -q "/token.* auth=-" fake.log && ! grep -q "/token.* auth=Basic" fake.log
ok $? "no credentials to a token realm on another host"

refused "127.0.0.1:$TP/downgrade" "*refusing redirect from https to http*" "redirect from https to plain http"
refused "127.0.0.1:$SP/good" "*unknown authority*" "self-signed certificate"
refused "127.0.0.1:$WP/good" "*not valid for 127.0.0.1*" "certificate for another host"
refused "127.0.0.1:$EP/good" "*expired*" "expired certificate"
refused "127.0.0.1:1/good" "*CA bundle*no-bundle.pem: No such file or directory" "no CA bundle"
echo "insecure 127.0.0.1:1" >> etc/registries.conf
refused "127.0.0.1:1/good" "*connect to 127.0.0.1 port 1: Connection refused" "nothing listening"
printf 'bundle %s/ca.pem\n' "$T" > etc/registries.conf
refused "$F/good2" "*TLS handshake*does not speak TLS*" "a plain-HTTP registry not configured insecure: HTTPS, no fallback"

done_testing
