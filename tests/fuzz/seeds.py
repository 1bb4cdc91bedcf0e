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

# layers as they arrive: gzip of a tar
for t in ("fuzz_unpack", "fuzz_gzip"):
    put_sel(t, "layer", gzip.compress(tree(tarfile.PAX_FORMAT), mtime=0), (0x00, 0x80))
# image JSON documents
for k in ("manifest", "index", "config"):
    put_sel("fuzz_image", k, cjson(DOCS[k]), (0x00, 0x01, 0x02))
