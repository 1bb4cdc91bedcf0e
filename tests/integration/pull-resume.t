#!/bin/sh
# An interrupted rt pull: layers are committed one by one, so a pull killed
# with kill -9 after its first layer finishes on the next rt pull without
# fetching that layer again (the registry's access log counts the bytes).
# With the compressed blobs kept (KEEP_BLOBS, build/x86_64-keep), the half
# layer resumes with a Range request from the byte it stopped at; without,
# it starts again cleanly. gc waits for a pull in progress. And the
# progress output: one line per layer when not a terminal, -q quiet.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
for c in docker-registry openssl; do
	command -v $c >/dev/null || skip_all "no $c (make setup)"
done
"$RT" pull --help >/dev/null 2>&1 || skip_all "rt built without pull"
if "$RT" version | grep -q -- "+require-signature" &&
   ! grep -q "cosign container image signature" "$RT"; then
	skip_all "this rt requires signatures but has no signature check"
fi
RTK=${RT_KEEP:-$TOP/build/x86_64-keep/rt}
cd "$T" || exit 1

mkdir -p keys etc reg
openssl ecparam -name prime256v1 -genkey -noout -out sign.key 2>/dev/null
openssl ec -in sign.key -pubout -out keys/test.pub 2>/dev/null
# rt must sit out a stalled transfer, not give up on it
export RT_KEYS_DIR="$T/keys" RT_CONFIG_DIR="$T/etc" RT_PULL_TIMEOUT=120
openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -subj /CN=rt-test-ca -days 3 -out ca.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
openssl req -new -key server.key -subj /CN=server -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -extfile server.ext \
	-days 2 -out server.pem 2>/dev/null

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# until SECONDS CMD...: run CMD every 50 ms until it succeeds
until_ok() {
	_i=$(($1 * 20))
	shift
	while [ $_i -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		_i=$((_i - 1))
	done
	return 1
}
port_up() { $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$1" 2>/dev/null; }

RP=$(free_port)
cat > reg.yml <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $T/reg
http:
  addr: 127.0.0.1:$RP
  tls:
    certificate: $T/server.pem
    key: $T/server.key
EOF
docker-registry serve reg.yml > reg.log 2>&1 &
echo $! > registry.pid
until_ok 10 port_up "$RP" || skip_all "docker-registry does not start: $(tail -n 3 reg.log)"

# A TCP forwarder in front of the registry (TLS passes through it): it
# counts the bytes sent to rt and, while the file "stall" holds a number N,
# stops passing them on once N were sent, so that rt hangs mid-layer.
cat > fwd.py <<'EOF'
import os, socket, sys, threading, time
T, up = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
open(T + "/fwd.port.tmp", "w").write("%d\n" % srv.getsockname()[1])
os.rename(T + "/fwd.port.tmp", T + "/fwd.port")
total = [0]
lock = threading.Lock()

def limit():
    try:
        return int(open(T + "/stall").read())
    except (OSError, ValueError):
        return None

def down(a, b):
    try:
        while True:
            n = limit()
            while n is not None and total[0] >= n:
                open(T + "/stalled", "w").close()
                time.sleep(0.05)
                n = limit()
            d = a.recv(16384 if n is None else max(1, min(16384, n - total[0])))
            if not d:
                break
            b.sendall(d)
            with lock:
                total[0] += len(d)
                open(T + "/fwd.bytes", "w").write("%d\n" % total[0])
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def upward(a, b):
    try:
        while True:
            d = a.recv(16384)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass

while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", up))
    threading.Thread(target=upward, args=(c, u), daemon=True).start()
    threading.Thread(target=down, args=(u, c), daemon=True).start()
EOF
$PY fwd.py "$T" "$RP" > fwd.log 2>&1 &
echo $! > fwd.pid
until_ok 10 test -f fwd.port || skip_all "forwarder does not start: $(tail -n 3 fwd.log)"
FP=$(cat fwd.port)
REG=127.0.0.1:$FP
printf 'ca %s %s\nca 127.0.0.1:%s %s\nbundle %s/no-bundle.pem\n' "$REG" "$T/ca.pem" "$RP" "$T/ca.pem" "$T" \
	> etc/registries.conf

# Images, pushed and signed (the way cosign does it) straight through the
# API: NAME:TAG with layers of random (incompressible) bytes of the sizes
# given, printing "LAYERDIGEST SIZE" per layer.
cat > push.py <<'EOF'
import base64, gzip, hashlib, http.client, io, json, os, ssl, subprocess, sys, tarfile
ca, host, repo, tag, key = sys.argv[1:6]
sizes = [int(x) for x in sys.argv[6:]]

def conn():
    return http.client.HTTPSConnection(host, context=ssl.create_default_context(cafile=ca), timeout=30)

def put_blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    c = conn()
    c.request("POST", "/v2/%s/blobs/uploads/" % repo)
    r = c.getresponse(); r.read()
    loc = r.getheader("Location")
    loc = loc[loc.index("/v2/"):] if "://" in loc else loc
    c.request("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d, body=data,
              headers={"Content-Type": "application/octet-stream"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
    return d

def put_manifest(ref, body):
    c = conn()
    c.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
              headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, (r.status, ref)
    return "sha256:" + hashlib.sha256(body).hexdigest()

layers, diffs = [], []
for i, n in enumerate(sizes):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        data = os.urandom(n)
        ti = tarfile.TarInfo("%s/layer%d" % (tag, i))
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    t = raw.getvalue()
    diffs.append("sha256:" + hashlib.sha256(t).hexdigest())
    z = gzip.compress(t, 1)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": put_blob(z), "size": len(z)})
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/x"]},
                  "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": put_blob(cfg), "size": len(cfg)},
                  "layers": layers}).encode()
digest = put_manifest(tag, man)
payload = json.dumps({"critical": {"identity": {"docker-reference": host + "/" + repo},
                      "image": {"docker-manifest-digest": digest},
                      "type": "cosign container image signature"},
                      "optional": None}, separators=(",", ":")).encode()
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=payload,
                     capture_output=True, check=True).stdout
sm = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put_blob(b"{}"), "size": 2},
    "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": put_blob(payload), "size": len(payload),
                "annotations": {"dev.cosignproject.cosign/signature": base64.b64encode(sig).decode()}}]}).encode()
put_manifest(digest.replace(":", "-") + ".sig", sm)
for l in layers:
    print(l["digest"], l["size"])
EOF
# push IMAGE SIZE...: sets L1 S1 L2 S2 (the first two layers)
push() {
	_r=${1%%:*} _t=${1#*:}
	shift
	# the identity is the name rt pulls by: through the forwarder
	set -- $($PY push.py "$T/ca.pem" "$REG" "$_r" "$_t" "$T/sign.key" "$@") || return 1
	L1=$1 S1=$2 L2=$3 S2=$4
}

# gets DIGEST [FROM-LINE]: GETs of a blob in the registry's log (from line
# FROM on), as "STATUS BYTES" lines
gets() {
	tail -n "+${2:-1}" reg.log | grep "\"GET /v2/[^ ]*/blobs/$1 HTTP/1.1\"" |
		sed 's/.*HTTP\/1.1" \([0-9]*\) \([0-9]*\).*/\1 \2/'
}
log_lines() { wc -l < reg.log; }
short() { echo "$1" | cut -c8-19; }

push "demo:1" 300000 200000 || skip_all "push failed"
D1=$L1 D2=$L2

# --- progress output --------------------------------------------------------

out=$(rt pull "$REG/demo:1" 2>err)
is $? 0 "pull (stdout not a terminal)"
is "$(echo "$out" | grep -c ': ')" 5 "header, one line per layer, Digest, Status"
like "$out" "1: Pulling from demo
$(short "$D1"): Pull complete
$(short "$D2"): Pull complete
Digest: sha256:*
Status: Downloaded newer image for $REG/demo:1
$REG/demo:1" "docker pull's shape"
out=$(rt pull "$REG/demo:1" 2>&1)
like "$out" "*Status: Image is up to date for $REG/demo:1*" "again: up to date"
push "demo:2" 300000 || exit 1
out=$(rt pull -q "$REG/demo:2" 2>&1)
is "$out" "$REG/demo:2" "-q: only the reference"
rt rmi "$REG/demo:2" >/dev/null
rt rmi "$REG/demo:1" >/dev/null

# --- a pull killed after its first layer ------------------------------------

# big:1: a 2 MB layer, then a 6 MB one.
push "big:1" 2000000 6000000 || exit 1

# stalled_pull RT: start a pull of big:1 that hangs mid-second-layer;
# returns once the first layer is committed and the forwarder stalls.
stalled_pull() {
	rm -f stalled
	# the forwarder counts from its start: stall halfway into the second layer
	echo $(($(cat fwd.bytes) + S1 + S2 / 2)) > stall
	"$1" --root "$T/root" --run "$T/run" pull "$REG/big:1" > pull1.out 2> pull1.err &
	PULL=$!
	until_ok 60 test -f stalled &&
	until_ok 60 test -d "root/layers/${L1#sha256:}"
}

resume_case() { # resume_case RT KEEP: kill, pull again, count
	rtb=$1 keep=$2
	what=$([ "$keep" = 1 ] && echo "kept blobs" || echo "no kept blobs")
	"$rtb" --root "$T/root" --run "$T/run" image prune -a -f >/dev/null 2>&1
	stalled_pull "$rtb"
	ok $? "$what: the pull stalls in the second layer with the first one committed"
	kill -0 $PULL 2>/dev/null; ok $? "$what: the pull is still running"
	kill -9 $PULL; wait $PULL 2>/dev/null
	partial=0
	[ -f "root/tmp/partial/${L2#sha256:}" ] && partial=$(stat -c %s "root/tmp/partial/${L2#sha256:}")
	rm -f stall
	# the registry logs the cut-off GET once the forwarder drops it
	until_ok 30 sh -c "[ \$(tail -n +$mark reg.log | grep -c 'GET /v2/big/blobs/$L2') -ge 1 ]"
	"$rtb" --root "$T/root" --run "$T/run" images -q | grep -q . && ok 1 "$what: nothing tagged by the killed pull" ||
		ok 0 "$what: nothing tagged by the killed pull"
	from=$(($(log_lines) + 1))
	out=$("$rtb" --root "$T/root" --run "$T/run" pull "$REG/big:1" 2>err)
	rc=$?
	is $rc 0 "$what: the next pull finishes"
	[ $rc = 0 ] || sed 's/^/# /' err
	like "$out" "*$(short "$L1"): Already exists*$(short "$L2"): *Pull complete*Status: Downloaded newer image for $REG/big:1*" \
		"$what: first layer already exists, second pulled"
	is "$(gets "$L1" "$from")" "" "$what: the first layer is not fetched again"
	got=$(gets "$L2" "$from")
	echo "# second layer: $S2 bytes; kept $partial bytes; fetched again: $got"
	if [ "$keep" = 1 ]; then
		[ "$partial" -gt 0 ]; ok $? "$what: the killed pull left $partial bytes of the second layer in tmp/partial"
		is "$got" "206 $((S2 - partial))" "$what: the second layer resumes with a Range request for the other $((S2 - partial)) bytes"
		like "$out" "*$(short "$L2"): Resuming at *" "$what: says it resumes"
		[ ! -e "root/tmp/partial/${L2#sha256:}" ]; ok $? "$what: the partial file became the blob"
	else
		is "$got" "200 $S2" "$what: the second layer starts again from its first byte"
	fi
	is "$(gets "$L1" | wc -l)" "$n_l1" "$what: the first layer was fetched once in all"
	"$rtb" --root "$T/root" --run "$T/run" verify "$REG/big:1" >/dev/null 2>&1
	ok $? "$what: the image verifies"
	[ -z "$(ls -A root/tmp)" ]; ok $? "$what: tmp/ is empty"
}

# gc waits for a pull in progress: prune started while the pull hangs does
# not take the layer the pull committed but no image names yet.
mark=$(($(log_lines) + 1))
stalled_pull "$RT"
ok $? "a pull stalls with its first layer committed"
rt image prune -f > prune.out 2>&1 &
PRUNE=$!
sleep 1
kill -0 $PRUNE 2>/dev/null; ok $? "prune waits for the pull"
[ -d "root/layers/${L1#sha256:}" ]; ok $? "the committed layer is still there"
rm -f stall
wait $PULL; ok $? "the pull completes"
wait $PRUNE; ok $? "then prune runs"
rt verify "$REG/big:1" >/dev/null 2>&1; ok $? "and the image is whole"
rt rmi "$REG/big:1" >/dev/null

n_l1=2
mark=$(($(log_lines) + 1))
resume_case "$RT" 0
if [ -x "$RTK" ] && "$RTK" version | grep -q -- "+keep-blobs"; then
	n_l1=3
	rt rmi "$REG/big:1" >/dev/null
	mark=$(($(log_lines) + 1))
	resume_case "$RTK" 1
else
	skip "no $RTK built with KEEP_BLOBS (make test builds it)"
fi
done_testing
