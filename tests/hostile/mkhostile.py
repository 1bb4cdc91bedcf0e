#!/usr/bin/python3
"""Build one hostile image input for `rt load`.

    mkhostile.py OUT CASE

OUT becomes an OCI layout directory (or, for the archive cases, a tar
file) holding one image named docker.io/library/hostile:CASE whose layer,
manifest, config or archive carries the defect CASE names. Tars are
written by hand here, so any field can be wrong. $CANARY is a directory
outside the store that links in the layers point at.
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import zlib

out, case = sys.argv[1], sys.argv[2]
CANARY = os.environ.get("CANARY", "/nonexistent")


# --- tar by hand -----------------------------------------------------------

def octal(v, n):
    return ("%0*o" % (n - 1, v)).encode() + b"\0"


def header(name, typ=b"0", size=0, mode=0o644, uid=0, gid=0, mtime=1600000000,
           link=b"", prefix=b"", size_field=None, checksum=None, devmajor=0, devminor=0):
    if isinstance(name, str):
        name = name.encode()
    if isinstance(link, str):
        link = link.encode()
    if isinstance(prefix, str):
        prefix = prefix.encode()
    h = bytearray(512)
    h[0:len(name[:100])] = name[:100]
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(uid, 8)
    h[116:124] = octal(gid, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(mtime, 12)
    h[148:156] = b" " * 8
    h[156:157] = typ
    h[157:157 + len(link[:100])] = link[:100]
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[329:337] = octal(devmajor, 8)
    h[337:345] = octal(devminor, 8)
    h[345:345 + len(prefix[:155])] = prefix[:155]
    s = sum(h) if checksum is None else checksum
    h[148:156] = ("%06o\0 " % s).encode()
    return bytes(h)


def pad(data):
    return data + b"\0" * ((512 - len(data) % 512) % 512)


def member(name, data=b"", **kw):
    if isinstance(data, str):
        data = data.encode()
    return header(name, size=len(data), **kw) + pad(data)


def pax(records, name="././@PaxHeader"):
    body = b""
    for k, v in records:
        if isinstance(v, str):
            v = v.encode()
        rec = b" " + k.encode() + b"=" + v + b"\n"
        n = len(rec) + 1
        while len(str(n)) + len(rec) != n:
            n = len(str(n)) + len(rec)
        body += str(n).encode() + rec
    return header(name, typ=b"x", size=len(body)) + pad(body)


def gnu_long(name):
    data = name.encode() + b"\0"
    return header("././@LongLink", typ=b"L", size=len(data)) + pad(data)


END = b"\0" * 1024


def tar(*members, end=True):
    return b"".join(members) + (END if end else b"")


# --- layouts ---------------------------------------------------------------

def blob_path(d):
    return os.path.join(out, "blobs", "sha256", d.split(":", 1)[1])


def put_blob(data, digest=None):
    d = digest or "sha256:" + hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    if ":" in d and "/" not in d:
        with open(blob_path(d), "wb") as f:
            f.write(data)
    return d


def layout(layers, config_extra=None, manifest_fn=None, index_fn=None, arch="amd64"):
    """layers: list of (raw tar bytes, gzip?) or (blob bytes, mediatype, diff_id)."""
    os.makedirs(out, exist_ok=True)
    descs, diffs = [], []
    for l in layers:
        if len(l) == 2:
            raw, gz = l
            data = gzip.compress(raw, mtime=0) if gz else raw
            mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else "")
            diff = "sha256:" + hashlib.sha256(raw).hexdigest()
        else:
            data, mt, diff = l
        descs.append({"mediaType": mt, "digest": put_blob(data), "size": len(data)})
        diffs.append(diff)
    cfg = {"architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
           "config": {"Cmd": ["/bin/sh"]}, "rootfs": {"type": "layers", "diff_ids": diffs}}
    if config_extra:
        config_extra(cfg)
    cb = json.dumps(cfg).encode()
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": put_blob(cb), "size": len(cb)},
           "layers": descs}
    mb = json.dumps(man).encode()
    if manifest_fn:
        mb = manifest_fn(man, mb)
    md = put_blob(mb)
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(mb),
        "annotations": {"org.opencontainers.image.ref.name": "docker.io/library/hostile:" + case}}]}
    ib = json.dumps(index).encode()
    if index_fn:
        ib = index_fn(index, ib)
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(ib)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')


def one(raw, gz=False, **kw):
    layout([(raw, gz)], **kw)


F = member   # a regular file


def D(name, mode=0o755):
    return header(name, typ=b"5", mode=mode)


def S(name, target):
    return header(name, typ=b"2", link=target, mode=0o777)


def H(name, target):
    return header(name, typ=b"1", link=target)


# --- the cases ---------------------------------------------------------------

cases = {}


def case_fn(f):
    cases[f.__name__.replace("_", "-")] = f
    return f


@case_fn
def dotdot():
    one(tar(F("../../../../../../canary/pwned", "x")))


@case_fn
def dotdot_prefix():
    one(tar(F("pwned", "x", prefix="../../../../../..")))


@case_fn
def dotdot_gnulong():
    one(tar(gnu_long("a/" * 60 + "../" * 70 + "pwned"), F("short", "x")))


@case_fn
def dotdot_pax():
    one(tar(pax([("path", "a/../../../../pwned")]), F("short", "x")))


@case_fn
def absolute():
    one(tar(F(CANARY + "/abs", "inside the layer")))


@case_fn
def symlink_write():
    one(tar(S("evil", CANARY), F("evil/pwned", "x")))


@case_fn
def symlink_dot():
    one(tar(S(".", CANARY), F("pwned", "x")))


@case_fn
def symlink_replace():
    one(tar(S("s", CANARY + "/file"), F("s", "replaced")))


@case_fn
def hardlink_replace():
    one(tar(F("a", "original"), H("h", "a"), F("h", "new content")))


@case_fn
def hardlink_outside():
    one(tar(H("h", "/etc/passwd")))


@case_fn
def hardlink_dotdot():
    one(tar(H("h", "../../../../../../etc/passwd")))


@case_fn
def hardlink_symlink():
    one(tar(S("s", CANARY + "/file"), H("h", "s"), F("h2", "x")))


@case_fn
def hardlink_through_symlink():
    one(tar(S("s", CANARY), H("h", "s/file")))


@case_fn
def chmod_through_link():
    one(tar(S("c", CANARY + "/file"), D("c", 0o777)))


@case_fn
def meta_through_link():
    one(tar(S("x", CANARY + "/file"),
            pax([("SCHILY.xattr.user.pwned", "1"), ("mtime", "1")]),
            F("x", "y", mode=0o4777)))


@case_fn
def whiteout_dotdot():
    one(tar(F(".wh..", "")))


@case_fn
def whiteout_symlink():
    one(tar(S("d", CANARY), F("d/.wh.victim", "")))


@case_fn
def whiteout_opaque_symlink():
    one(tar(S("d", CANARY), F("d/.wh..wh..opq", "")))


@case_fn
def dir_becomes_symlink():
    layout([(tar(D("etc"), F("etc/file", "x")), True),
            (tar(S("etc", CANARY)), True),
            (tar(F("etc/new", "through?")), True)])


@case_fn
def device():
    one(tar(header("dev/sda", typ=b"3", devmajor=8, devminor=0)))


@case_fn
def block_device():
    one(tar(header("dev/sda", typ=b"4", devmajor=8, devminor=0)))


@case_fn
def setuid():
    one(tar(F("bin/su", "#!/bin/sh\n", mode=0o4755)))


@case_fn
def xattrs():
    one(tar(pax([("SCHILY.xattr.trusted.overlay.opaque", "y"), ("SCHILY.xattr.trusted.evil", "1"),
                 ("SCHILY.xattr.security.selinux", "system_u:object_r:shadow_t:s0"),
                 ("SCHILY.xattr.user.ok", "1")]),
            F("f", "x")))


@case_fn
def pax_size():
    one(tar(pax([("size", "1000")]), F("f", "short")))


@case_fn
def huge_size():
    one(tar(header("f", size_field=b"77777777777\0"), END))


@case_fn
def huge_size_b256():
    one(tar(header("f", size_field=b"\x80" + b"\0" * 3 + b"\x40" + b"\0" * 7), END))


@case_fn
def negative_size():
    one(tar(header("f", size_field=b"\xff" * 12), END))


@case_fn
def truncated():
    one(tar(F("f", "x" * 5000))[:3000])


@case_fn
def truncated_no_end():
    one(tar(F("f", "x"), end=False))


@case_fn
def bad_checksum():
    one(tar(header("f", checksum=1234)))


@case_fn
def sparse():
    one(tar(header("f", typ=b"S", size=0)))


@case_fn
def deep_path():
    one(tar(pax([("path", "a/" * 300 + "f")]), F("short", "x")))


@case_fn
def long_path():
    one(tar(pax([("path", "b" * 200 + "/" + "c" * 5000)]), F("short", "x")))


@case_fn
def long_name():
    one(tar(pax([("path", "n" * 300)]), F("short", "x")))


@case_fn
def many_entries():
    one(tar(*[header("f%d" % i) for i in range(3000)]), gz=True)


@case_fn
def gzip_bomb():
    # 1 GiB of zeros in 1 MiB files: about 1 MB gzip'd
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    parts = []
    chunk = b"\0" * (1 << 20)
    for i in range(1 << 10):
        parts.append(z.compress(header("zeros%d" % i, size=1 << 20)))
        parts.append(z.compress(chunk))
    parts.append(z.compress(END))
    parts.append(z.flush())
    data = b"".join(parts)
    layout([(data, "application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + "0" * 64)])


@case_fn
def gzip_multi():
    raw = tar(F("a", "aaa"), F("b", "bbb"))
    data = gzip.compress(raw[:700], mtime=0) + gzip.compress(raw[700:], mtime=0)
    layout([(data, "application/vnd.oci.image.layer.v1.tar+gzip",
             "sha256:" + hashlib.sha256(raw).hexdigest())])


@case_fn
def gzip_junk():
    raw = tar(F("a", "aaa"))
    data = gzip.compress(raw, mtime=0) + b"trailing junk"
    layout([(data, "application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + "0" * 64)])


@case_fn
def gzip_truncated():
    data = gzip.compress(tar(F("a", "a" * 10000)), mtime=0)
    layout([(data[:len(data) // 2], "application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + "0" * 64)])


@case_fn
def gzip_corrupt():
    data = bytearray(gzip.compress(tar(F("a", os.urandom(4000).hex())), mtime=0))
    data[len(data) // 2] ^= 0xff
    layout([(bytes(data), "application/vnd.oci.image.layer.v1.tar+gzip", "sha256:" + "0" * 64)])


@case_fn
def digest_mismatch():
    one(tar(F("a", "a")))
    m = json.load(open(os.path.join(out, "index.json")))
    man = json.load(open(blob_path(m["manifests"][0]["digest"])))
    p = blob_path(man["layers"][0]["digest"])
    data = bytearray(open(p, "rb").read())
    data[512] ^= 1          # the file's content, not a header
    open(p, "wb").write(bytes(data))


def lie_size(delta):
    def fn(man, mb):
        man["layers"][0]["size"] += delta
        return json.dumps(man).encode()
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def size_smaller():
    lie_size(-512)


@case_fn
def size_larger():
    lie_size(512)


@case_fn
def manifest_size_lie():
    def fn(index, ib):
        index["manifests"][0]["size"] -= 5
        return json.dumps(index).encode()
    one(tar(F("a", "a")), index_fn=fn)


@case_fn
def index_as_manifest():
    # the index.json entry says manifest, the blob is an index
    one(tar(F("a", "a")))
    ip = os.path.join(out, "index.json")
    idx = json.load(open(ip))
    inner = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [dict(idx["manifests"][0], platform={"os": "linux", "architecture": "amd64"})]}
    ib = json.dumps(inner).encode()
    idx["manifests"][0].update(digest=put_blob(ib), size=len(ib))
    json.dump(idx, open(ip, "w"))


@case_fn
def manifest_as_index():
    def fn(man, mb):
        man["mediaType"] = "application/vnd.oci.image.index.v1+json"
        return json.dumps(man).encode()
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def config_is_manifest():
    def fn(man, mb):
        other = json.dumps({"schemaVersion": 2, "layers": []}).encode()
        man["config"].update(digest=put_blob(other), size=len(other))
        return json.dumps(man).encode()
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def digest_path():
    def fn(man, mb):
        man["layers"][0]["digest"] = "sha256:../../../../../../etc/passwd"
        return json.dumps(man).encode()
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def digest_other_algo():
    def fn(man, mb):
        man["layers"][0]["digest"] = "sha512:" + "0" * 128
        return json.dumps(man).encode()
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def duplicate_keys():
    def fn(man, mb):
        return mb[:-1] + b',"layers":[]}'
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def deep_nesting():
    def fn(man, mb):
        return mb[:-1] + b',"annotations":{"x":' + b"[" * 5000 + b"]" * 5000 + b"}}"
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def huge_number():
    def fn(man, mb):
        return mb.replace(b'"size": %d' % man["layers"][0]["size"], b'"size": 1' + b"0" * 400)
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def float_size():
    def fn(man, mb):
        return mb.replace(b'"size": %d' % man["layers"][0]["size"], b'"size": %d.0' % man["layers"][0]["size"])
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def bad_utf8():
    def fn(man, mb):
        return mb[:-1] + b',"annotations":{"x":"\xc0\xaf"}}'
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def big_manifest():
    def fn(man, mb):
        return mb[:-1] + b',"annotations":{"x":"' + b"x" * (5 << 20) + b'"}}'
    one(tar(F("a", "a")), manifest_fn=fn)


@case_fn
def diff_ids_count():
    one(tar(F("a", "a")), config_extra=lambda c: c["rootfs"]["diff_ids"].append("sha256:" + "1" * 64))


@case_fn
def missing_blob():
    one(tar(F("a", "a")))
    m = json.load(open(os.path.join(out, "index.json")))
    man = json.load(open(blob_path(m["manifests"][0]["digest"])))
    os.unlink(blob_path(man["layers"][0]["digest"]))


@case_fn
def blob_symlink():
    one(tar(F("a", "a")))
    m = json.load(open(os.path.join(out, "index.json")))
    man = json.load(open(blob_path(m["manifests"][0]["digest"])))
    p = blob_path(man["layers"][0]["digest"])
    os.unlink(p)
    os.symlink(CANARY + "/file", p)


@case_fn
def other_arch():
    one(tar(F("a", "a")), arch="s390x")


@case_fn
def zstd_layer():
    layout([(b"\x28\xb5\x2f\xfd" + b"\0" * 20, "application/vnd.oci.image.layer.v1.tar+zstd", "sha256:" + "0" * 64)])


@case_fn
def bad_index():
    one(tar(F("a", "a")), index_fn=lambda index, ib: b'{"schemaVersion":2,"manifests":[{"mediaType":1}]}')


@case_fn
def bad_name():
    def fn(index, ib):
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = "Evil/../x:1"
        return json.dumps(index).encode()
    one(tar(F("a", "a")), index_fn=fn)


# archive cases: OUT is a tar file

def write_tar(members):
    with open(out, "wb") as f:
        f.write(tar(*members))


@case_fn
def archive_dotdot():
    write_tar([F("oci-layout", '{"imageLayoutVersion":"1.0.0"}'), F("../../index.json", "{}")])


@case_fn
def archive_duplicate():
    write_tar([F("index.json", '{"schemaVersion":2,"manifests":[]}'), F("index.json", "{}")])


@case_fn
def archive_link_out():
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]}}).encode()
    manifest = json.dumps([{"Config": "c.json", "RepoTags": ["hostile:" + case],
                            "Layers": ["l/layer.tar"]}]).encode()
    write_tar([F("manifest.json", manifest), F("c.json", cfg), S("l/layer.tar", "../../../etc/passwd")])


@case_fn
def archive_docker_lie():
    raw = tar(F("a", "a"))
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "2" * 64]}}).encode()
    manifest = json.dumps([{"Config": "c.json", "RepoTags": ["hostile:" + case],
                            "Layers": ["layer.tar"]}]).encode()
    write_tar([F("manifest.json", manifest), F("c.json", cfg), F("layer.tar", raw)])


@case_fn
def archive_junk():
    with open(out, "wb") as f:
        f.write(os.urandom(4096))


if case not in cases:
    sys.exit("unknown case %s; cases: %s" % (case, " ".join(sorted(cases))))
cases[case]()
