#!/usr/bin/python3
"""Compare two directory trees file by file: type, mode, owner, size,
content, symlink target, device numbers and xattrs (overlay's own and
SELinux labels aside). Prints one line per difference; exit 1 if any.

    treecmp.py A B
"""
import hashlib
import os
import stat
import sys

IGNORED_XATTRS = ("trusted.overlay.", "security.selinux")


def xattrs(p):
    out = {}
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return out
    for n in names:
        if n.startswith(IGNORED_XATTRS):
            continue
        out[n] = os.getxattr(p, n, follow_symlinks=False)
    return out


def describe(root, rel):
    p = os.path.join(root, rel) if rel else root
    st = os.lstat(p)
    d = {
        "type": stat.S_IFMT(st.st_mode),
        "mode": oct(stat.S_IMODE(st.st_mode)),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "xattrs": xattrs(p),
    }
    if stat.S_ISREG(st.st_mode):
        d["size"] = st.st_size
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                h.update(chunk)
        d["sha256"] = h.hexdigest()
    elif stat.S_ISLNK(st.st_mode):
        d["target"] = os.readlink(p)
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        d["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
    return d


def walk(root):
    out = {"": describe(root, "")}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            rel = os.path.relpath(os.path.join(dirpath, n), root)
            out[rel] = describe(root, rel)
    return out


def main():
    a, b = walk(sys.argv[1]), walk(sys.argv[2])
    bad = 0
    for rel in sorted(set(a) | set(b)):
        if rel not in a:
            print("only in %s: %s" % (sys.argv[2], rel))
            bad += 1
        elif rel not in b:
            print("only in %s: %s" % (sys.argv[1], rel))
            bad += 1
        elif a[rel] != b[rel]:
            keys = [k for k in set(a[rel]) | set(b[rel]) if a[rel].get(k) != b[rel].get(k)]
            print("differs: %s: %s" % (rel or "/", ", ".join(
                "%s %r != %r" % (k, a[rel].get(k), b[rel].get(k)) for k in sorted(keys))))
            bad += 1
    print("compared %d paths, %d differences" % (len(set(a) | set(b)), bad))
    sys.exit(1 if bad else 0)


main()
