#!/usr/bin/python3
"""Write the seed corpus of every fuzz target into OUTDIR/<target>/.

The seeds are made here, from the formats rt reads: no external corpus is
needed. Targets whose first input byte selects a parser or a way of cutting
the input get each seed once per selector value.

    seeds.py OUTDIR
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

out = sys.argv[1]


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def put_sel(target, name, data, selectors):
    for s in selectors:
        put(target, "%s-%02x" % (name, s), bytes([s]) + data)


def cjson(v):
    return json.dumps(v, separators=(",", ":"), sort_keys=True).encode()


D1 = "sha256:" + hashlib.sha256(b"layer").hexdigest()
D2 = "sha256:" + hashlib.sha256(b"config").hexdigest()
MANIFEST = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D2, "size": 123},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D1, "size": 4567}],
            "annotations": {"org.opencontainers.image.ref.name": "latest"}}
INDEX = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D1, "size": 500,
                        "platform": {"architecture": "arm", "variant": "v7", "os": "linux"}}]}
CONFIG = {"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
          "config": {"Cmd": ["/bin/sh", "-c", "httpd -f"], "Env": ["PATH=/bin"], "WorkingDir": "/",
                     "ExposedPorts": {"80/tcp": {}}, "User": "1000:1000"},
          "rootfs": {"type": "layers", "diff_ids": [D1]},
          "history": [{"created_by": "mkimage build --layer rootfs", "empty_layer": False}]}
PAYLOAD = {"critical": {"identity": {"docker-reference": "example.org/app"},
                        "image": {"docker-manifest-digest": D1},
                        "type": "cosign container image signature"},
           "optional": {"version": "3"}}
SIGMANIFEST = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D2, "size": 2},
               "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": D1,
                           "size": 200, "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQ=="}}]}
DOCS = {"manifest": MANIFEST, "index": INDEX, "config": CONFIG, "payload": PAYLOAD, "sigmanifest": SIGMANIFEST}

# json
for k, v in DOCS.items():
    put("fuzz_json", k, cjson(v))
put("fuzz_json", "escapes", b'["\\u00e9\\ud83d\\ude00\\n\\"",-0,1e3,true,false,null,{"a":[[]]}]')

# tar: the same tree in each format rt meets
def tree(fmt):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        def add(name, typ=tarfile.REGTYPE, data=b"", **kw):
            i = tarfile.TarInfo(name)
            i.type, i.size, i.mode, i.mtime = typ, len(data), kw.get("mode", 0o644), 1
            for a in ("linkname", "uid", "gid", "pax_headers"):
                if a in kw:
                    setattr(i, a, kw[a])
            t.addfile(i, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
        add("etc/", tarfile.DIRTYPE, mode=0o755)
        add("etc/passwd", data=b"root:x:0:0::/:/bin/sh\n")
        add("bin/sh", tarfile.SYMTYPE, linkname="busybox")
        add("bin/ash", tarfile.LNKTYPE, linkname="etc/passwd")
        add("etc/.wh.old", data=b"")
        add("var/.wh..wh..opq", data=b"")
        add("d/" + "x" * 120 + "/long", data=b"long name")
        if fmt == tarfile.PAX_FORMAT:
            add("bin/ping", data=b"\x7fELF", pax_headers={"SCHILY.xattr.security.capability": "\x01\x00\x00\x02"})
    return b.getvalue()

for name, fmt in (("ustar", tarfile.USTAR_FORMAT), ("gnu", tarfile.GNU_FORMAT), ("pax", tarfile.PAX_FORMAT)):
    try:
        put_sel("fuzz_tar", name, tree(fmt), (0x00, 0x07, 0x80, 0x93))
    except ValueError:
        put_sel("fuzz_tar", name, tree(tarfile.PAX_FORMAT), (0x00, 0x07, 0x80, 0x93))

# http
RESP = {
    "len": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nTrailer: 1\r\n\r\n",
    "auth": b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="https://auth.example/token",service="registry",scope="repository:library/busybox:pull"\r\nContent-Length: 0\r\n\r\n',
    "redirect": b"HTTP/1.1 307 Temporary Redirect\r\nLocation: https://blobs.example/x?sig=1\r\nContent-Length: 0\r\n\r\n",
    "close": b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nbody until close",
    "head": b"HTTP/1.1 200 OK\r\nDocker-Content-Digest: " + D1.encode() + b"\r\nContent-Length: 1234\r\n\r\n",
}
for k, v in RESP.items():
    put_sel("fuzz_http", k, v, (0x00, 0x01, 0x02, 0x81, 0xff))

# ctl: a frame is a type byte and a 24-bit big-endian length
def frame(t, payload):
    return bytes([t]) + len(payload).to_bytes(3, "big") + payload

REQS = [{"op": "ps", "all": True}, {"op": "logs", "id": "web", "tail": 10, "follow": False},
        {"op": "stop", "id": "web", "timeout": 10}, {"op": "run", "name": "web", "detach": True,
         "spec": {"cmd": ["httpd", "-f"], "env": ["A=1"], "restart": "always"}}]
J, O = ord("J"), ord("O")
for i, r in enumerate(REQS):
    put_sel("fuzz_ctl", "req%d" % i, frame(J, cjson(r)), (0x00, 0x03, 0x10))
put_sel("fuzz_ctl", "two", frame(J, cjson(REQS[0])) + frame(O, b"stdin data"), (0x00, 0x05))

# container configs as the CLI sends them
CTR = {"image": "demo:1", "layers": ["/var/lib/rt/layers/" + D1[7:]], "cmd": ["httpd", "-f"],
       "env": ["PATH=/bin", "A=1"], "cwd": "/", "user": "80:80", "hostname": "web",
       "restart": "on-failure:3", "network": "none",
       "mounts": [{"src": "/var/lib/rt/volumes/data", "dst": "/data", "ro": False, "volume": "data"}],
       "read_only": False, "tmpfs_size": 1048576, "memory": 67108864, "pids": 100, "cpus": 500,
       "cap_add": 0, "cap_drop": 0, "init": True, "stop_timeout": 10, "tty": False, "stdin": False,
       "rm": False, "name": "web"}
put("fuzz_container", "full", cjson(CTR))
put("fuzz_container", "min", cjson({"image": "x", "layers": ["/l"], "cmd": ["sh"]}))

# /etc/passwd and /etc/group: two selector bytes, then the file
PASSWD = b"root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\n#c\nbad line\n"
GROUP = b"root:x:0:\nalice:x:1000:\nwheel:x:10:alice,bob\n"
for sel in (0, 2, 4, 8):
    put("fuzz_user", "passwd-%d" % sel, bytes([sel, 7]) + PASSWD)
    put("fuzz_user", "group-%d" % sel, bytes([sel | 1, 3]) + GROUP)

# b64, sha256
put("fuzz_b64", "text", b"aGVsbG8gd29ybGQ=")
put("fuzz_b64", "pad2", b"YQ==")
put("fuzz_sha256", "digest", D1.encode())
put("fuzz_sha256", "hex", hashlib.sha256(b"x").hexdigest().encode())

# sign: 0 public PEM, 1 SPKI DER, 2 private PEM, 3 DER signature
with tempfile.TemporaryDirectory() as d:
    def ossl(*a):
        return subprocess.run(["openssl"] + list(a), check=True, capture_output=True).stdout
    try:
        key = ossl("ecparam", "-name", "prime256v1", "-genkey")
        kf = os.path.join(d, "k.pem")
        open(kf, "wb").write(key)
        pub = ossl("ec", "-in", kf, "-pubout")
        der = ossl("ec", "-in", kf, "-pubout", "-outform", "DER")
        pk8 = ossl("pkcs8", "-topk8", "-nocrypt", "-in", kf)
        mf = os.path.join(d, "m")
        open(mf, "wb").write(cjson(PAYLOAD))
        sig = ossl("dgst", "-sha256", "-sign", kf, mf)
        put("fuzz_sign", "pub", b"\x00" + pub)
        put("fuzz_sign", "spki", b"\x01" + der)
        put("fuzz_sign", "sec1", b"\x02" + key)
        put("fuzz_sign", "pkcs8", b"\x02" + pk8)
        put("fuzz_sign", "sig", b"\x03" + sig)
        put("fuzz_b64", "sig", __import__("base64").b64encode(sig))
    except (OSError, subprocess.CalledProcessError):
        put("fuzz_sign", "empty", b"\x00")

# trust: 0 payload, 1 .sig manifest, 2 references
put("fuzz_trust", "payload", b"\x00" + cjson(PAYLOAD))
put("fuzz_trust", "sigmanifest", b"\x01" + cjson(SIGMANIFEST))
for i, r in enumerate((b"busybox", b"example.org:5000/a/b:1.0", b"app@" + D1.encode())):
    put("fuzz_trust", "ref%d" % i, b"\x02" + r)

# app files
put("fuzz_conf", "web", b'image = registry.example/web:1.4\ncmd = ["httpd", "-f"]\npublish = 8080:80\n'
    b'env = A=1\nvolume = data:/data\nafter = db\nread_only = true\nrestart = on-failure:3\n')
put("fuzz_conf", "entry", b'# x\nimage = x\nentrypoint = ["/bin/app", "-v"]\ncmd = echo hi\ninit = false\n')

# unpack: bit 0 of the first byte picks gzip, bits 1-4 the push size
# (1 << n bytes at a time)
LAYER = tree(tarfile.PAX_FORMAT)
put_sel("fuzz_unpack", "tar", LAYER, (0x00, 0x02, 0x12, 0x1e))
put_sel("fuzz_unpack", "gzip", gzip.compress(LAYER, mtime=0), (0x01, 0x03, 0x13, 0x1f))
put_sel("fuzz_unpack", "ustar", tree(tarfile.USTAR_FORMAT), (0x00, 0x10))
put_sel("fuzz_unpack", "gnu", gzip.compress(tree(tarfile.GNU_FORMAT), mtime=0), (0x01, 0x11))

# manifest: 0 documents, 1 references, 2 platforms, 3 RFC 3339 times
for k in ("manifest", "index", "config"):
    put("fuzz_manifest", "doc-" + k, b"\x00" + cjson(DOCS[k]))
put("fuzz_manifest", "doc-v2s2", b"\x00" + cjson(dict(MANIFEST, mediaType="application/vnd.docker.distribution.manifest.v2+json")))
for i, r in enumerate((b"busybox", b"library/busybox:1.36", b"docker.io/library/busybox:latest",
                       b"localhost:5000/a/b-c__d:v1.0", b"ghcr.io/o/app@" + D1.encode(),
                       b"index.docker.io/x/y:t@" + D2.encode())):
    put("fuzz_manifest", "ref%d" % i, b"\x01" + r)
for i, p in enumerate((b"linux/amd64", b"linux/arm/v7", b"linux/arm64/v8", b"linux/mipsle")):
    put("fuzz_manifest", "plat%d" % i, b"\x02" + p)
for i, t in enumerate((b"1970-01-01T00:00:00Z", b"2026-11-23T17:31:02.123456789+01:00", b"2000-02-29T23:59:60Z")):
    put("fuzz_manifest", "time%d" % i, b"\x03" + t)

# netconf: 0 -p, 1 a bound port, 2 addresses, 3 resolv.conf, 4 leases.json,
# 5 a container's network config, 6 netlink attributes
for i, p in enumerate((b"8080:80", b"127.0.0.1:8080:80/udp", b"8000-8010:8000-8010", b"80")):
    put("fuzz_netconf", "port%d" % i, b"\x00" + p)
put("fuzz_netconf", "bind", b"\x01" + b"0.0.0.0:8080->80/tcp")
for i, a in enumerate((b"172.29.0.1", b"10.88.0.0/16", b"db.local:172.29.0.5")):
    put("fuzz_netconf", "addr%d" % i, b"\x02" + a)
put("fuzz_netconf", "resolv", b"\x03" + b"# from dhcp\nnameserver 127.0.0.53\nnameserver 9.9.9.9\nsearch lan example.org\noptions ndots:2\n")
put("fuzz_netconf", "leases", b"\x04" + cjson({"leases": [
    {"ip": "172.29.0.2", "id": "ab" * 32, "name": "web", "ports": ["0.0.0.0:8080->80/tcp"]},
    {"ip": "172.29.0.3", "id": "cd" * 32, "name": "db", "ports": []}]}))
put("fuzz_netconf", "spec", b"\x05" + cjson({"network": "bridge", "ports": ["8080:80", "53:53/udp"],
                                            "add_hosts": ["db:172.29.0.9"], "dns": ["9.9.9.9"]}))


def nlattr(t, payload):
    n = 4 + len(payload)
    return n.to_bytes(2, "little") + t.to_bytes(2, "little") + payload + b"\0" * ((4 - n % 4) % 4)


put("fuzz_netconf", "attrs", b"\x06" + nlattr(3, b"eth0\0") + nlattr(4, (1500).to_bytes(4, "little")) +
    nlattr(0x8012, nlattr(1, b"veth\0")))

# registry: 0 registries.conf, 1 auth.json, 2 a PEM bundle
put("fuzz_registry", "conf", b"\x00" + b"# registries\ninsecure 10.0.0.1:5000\nca reg.example:5000 /etc/rt/ca.pem\nbundle /etc/ssl/certs/ca-certificates.crt\n")
put("fuzz_registry", "auth", b"\x01" + cjson({"auths": {"reg.example:5000": {"auth": "dXNlcjpwYXNz"},
                                                       "https://index.docker.io/v1/": {"auth": "YTpi"}}}))
try:
    pem = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                          "-nodes", "-keyout", "/dev/null", "-subj", "/CN=seed-ca", "-days", "1"],
                         check=True, capture_output=True).stdout
    put("fuzz_registry", "pem", b"\x02" + pem)
    put("fuzz_registry", "pem2", b"\x02" + pem + b"junk between\n" + pem)
except (OSError, subprocess.CalledProcessError):
    put("fuzz_registry", "pem", b"\x02-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")

# trust: a payload without the optional version, and an empty .sig manifest
put("fuzz_trust", "payload-nover", b"\x00" + cjson(dict(PAYLOAD, optional=None)))
put("fuzz_trust", "sigmanifest-none", b"\x01" + cjson(dict(SIGMANIFEST, layers=[])))
