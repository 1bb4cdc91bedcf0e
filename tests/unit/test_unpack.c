/* Unpacking layers: entry types, metadata, whiteouts, replacement,
 * refusals, digests, gzip framing, limits, and the record. Layers are
 * built here with the tar writer and zlib. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include "kconfig.h"
#include "sha256.h"
#include "store.h"
#include "tar.h"
#include "unpack.h"
#include "tap.h"

struct buf {
	uint8_t *b;
	size_t len, cap;
};

static void put(struct buf *t, const void *p, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 4096;
		t->b = realloc(t->b, t->cap);
		if (!t->b)
			exit(1);
	}
	memcpy(t->b + t->len, p, n);
	t->len += n;
}

static void ent(struct buf *t, enum rt_tar_type type, const char *path, const char *link,
		uint32_t mode, const char *data, const struct rt_tar_xattr *x, size_t nx)
{
	static uint8_t hdr[RT_TAR_WRITE_MAX], zero[512];
	struct rt_tar_entry en;
	struct rt_err e;
	ssize_t n;

	memset(&en, 0, sizeof en);
	en.type = type;
	en.path = path;
	en.linkpath = link ? link : "";
	en.mode = mode;
	en.uid = 1000;
	en.gid = 100;
	en.mtime = 1600000000;
	en.size = data ? strlen(data) : 0;
	en.xattr = x;
	en.nxattr = nx;
	if (type == RT_TAR_CHAR) {
		en.devmajor = 1;
		en.devminor = 3;
	}
	n = rt_tar_write_header(hdr, sizeof hdr, &en, &e);
	if (n < 0) {
		printf("# writer: %s\n", e.msg);
		exit(1);
	}
	put(t, hdr, (size_t)n);
	if (data) {
		put(t, data, en.size);
		put(t, zero, rt_tar_pad(en.size));
	}
}

static void end(struct buf *t)
{
	uint8_t z[1024];

	memset(z, 0, sizeof z);
	put(t, z, sizeof z);
}

static struct buf gz(const struct buf *in, int members)
{
	struct buf out = { NULL, 0, 0 };
	size_t part = in->len / (size_t)members, off = 0;
	int m;

	for (m = 0; m < members; m++) {
		size_t n = m == members - 1 ? in->len - off : part;
		uLongf cap = compressBound(n) + 64;
		uint8_t *o = malloc(cap);
		z_stream z;

		memset(&z, 0, sizeof z);
		deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
		z.next_in = in->b + off;
		z.avail_in = (uInt)n;
		z.next_out = o;
		z.avail_out = (uInt)cap;
		deflate(&z, Z_FINISH);
		put(&out, o, cap - z.avail_out);
		deflateEnd(&z);
		free(o);
		off += n;
	}
	return out;
}

static char root_tmpl[] = "/tmp/rt-unpack-XXXXXX";
static int top;

/* A fresh empty directory beneath the test root. */
static int fresh(const char *name)
{
	struct rt_err e;

	rt_store_rmtree(top, name, &e);
	mkdirat(top, name, 0755);
	return openat(top, name, O_RDONLY | O_DIRECTORY);
}

static void opts_for(struct rt_unpack_opts *o, const struct buf *blob, enum rt_unpack_comp c)
{
	memset(o, 0, sizeof *o);
	o->comp = c;
	rt_sha256_buf(blob->b, blob->len, o->digest);
	o->size = blob->len;
	rt_unpack_limits(&o->lim, NULL, &(struct rt_err){ 0 });
	o->blobfd = -1;
	o->statfd = -1;
}

/* Unpack in chunks of step bytes; 0 or -1 with the message in err. */
static int run(int dir, const struct buf *blob, const struct rt_unpack_opts *o, size_t step,
	       struct rt_err *err)
{
	struct rt_unpack *u = rt_unpack_new(dir, o, err);
	size_t off;
	int r = 0;

	if (!u)
		return -1;
	for (off = 0; off < blob->len && r == 0; off += step)
		r = rt_unpack_push(u, blob->b + off, blob->len - off < step ? blob->len - off : step, err);
	if (r == 0)
		r = rt_unpack_finish(u, NULL, err);
	rt_unpack_free(u);
	return r;
}

static int unpack(const char *name, const struct buf *tar, struct rt_err *err)
{
	struct rt_unpack_opts o;
	int dir = fresh(name), r;

	opts_for(&o, tar, RT_UNPACK_TAR);
	r = run(dir, tar, &o, 1000, err);
	close(dir);
	if (r < 0)
		printf("# %s: %s\n", name, err->msg);
	return r;
}

static int lstat_in(const char *path, struct stat *st)
{
	return fstatat(top, path, st, AT_SYMLINK_NOFOLLOW);
}

static void test_basic(void)
{
	static const uint8_t cap[20] = { 1, 0, 0, 2, 0x20, 0, 0, 0 };
	struct rt_tar_xattr x[3] = {
		{ "user.note", (const uint8_t *)"hi", 2 },
		{ "security.capability", cap, sizeof cap },
		{ "trusted.evil", (const uint8_t *)"x", 1 },
	};
	struct buf t = { NULL, 0, 0 };
	struct rt_err e;
	struct stat st;
	char lnk[64], v[64];
	ssize_t n;

	ent(&t, RT_TAR_DIR, "", NULL, 0755, NULL, NULL, 0);
	ent(&t, RT_TAR_DIR, "bin", NULL, 0711, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "bin/su", NULL, 04755, "suid", NULL, 0);
	ent(&t, RT_TAR_FILE, "bin/ping", NULL, 0755, "ping", x, 3);
	ent(&t, RT_TAR_SYMLINK, "bin/sh", "/bin/busybox", 0777, NULL, NULL, 0);
	ent(&t, RT_TAR_HARDLINK, "bin/su2", "bin/su", 0, NULL, NULL, 0);
	ent(&t, RT_TAR_FIFO, "run/fifo", NULL, 0620, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "deep/a/b/c", NULL, 0600, "implicit parents", NULL, 0);
	end(&t);
	ok(unpack("basic", &t, &e) == 0, "a layer with every kind of entry unpacks");
	ok(lstat_in("basic/bin/su", &st) == 0 && (st.st_mode & 07777) == 04755 &&
	   st.st_uid == 1000 && st.st_gid == 100 && st.st_mtime == 1600000000 && st.st_size == 4,
	   "setuid file: mode, owner, mtime and size kept");
	ok(lstat_in("basic/bin", &st) == 0 && (st.st_mode & 07777) == 0711 &&
	   st.st_mtime == 1600000000, "directory mode and mtime (set after its children)");
	n = readlinkat(top, "basic/bin/sh", lnk, sizeof lnk - 1);
	ok(n == 12 && !memcmp(lnk, "/bin/busybox", 12), "symlink target kept verbatim");
	ok(lstat_in("basic/bin/sh", &st) == 0 && st.st_uid == 1000 && st.st_mtime == 1600000000,
	   "symlink owner and mtime set without following it");
	{
		struct stat a, b;

		ok(lstat_in("basic/bin/su", &a) == 0 && lstat_in("basic/bin/su2", &b) == 0 &&
		   a.st_ino == b.st_ino, "hardlink shares the inode");
	}
	ok(lstat_in("basic/run/fifo", &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 0777) == 0620,
	   "fifo");
	ok(lstat_in("basic/deep/a/b", &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_uid == 0,
	   "missing parents are made 0755 root");
	{
		char p[256];

		snprintf(p, sizeof p, "%s/basic/bin/ping", root_tmpl);
		n = lgetxattr(p, "user.note", v, sizeof v);
		ok(n == 2 && !memcmp(v, "hi", 2), "user.* xattr kept");
		n = lgetxattr(p, "security.capability", v, sizeof v);
		ok(n == 20, "security.capability kept (set after chown and data)");
		ok(lgetxattr(p, "trusted.evil", v, sizeof v) < 0, "trusted.* xattr dropped");
	}
	free(t.b);
}

static void test_whiteouts(void)
{
	struct buf t = { NULL, 0, 0 };
	struct rt_err e;
	struct stat st;
	char p[256], v[8];

	ent(&t, RT_TAR_FILE, "etc/.wh.passwd", NULL, 0644, "", NULL, 0);
	ent(&t, RT_TAR_FILE, "opq/.wh..wh..opq", NULL, 0644, "", NULL, 0);
	ent(&t, RT_TAR_DIR, "opq", NULL, 0750, NULL, NULL, 0);      /* after its marker */
	ent(&t, RT_TAR_FILE, "opq/kept", NULL, 0644, "k", NULL, 0);
	ent(&t, RT_TAR_FILE, "same", NULL, 0644, "here", NULL, 0);
	ent(&t, RT_TAR_FILE, ".wh.same", NULL, 0644, "", NULL, 0);   /* same layer: no effect */
	ent(&t, RT_TAR_FILE, ".wh.later", NULL, 0644, "", NULL, 0);
	ent(&t, RT_TAR_FILE, "later", NULL, 0644, "back", NULL, 0);  /* replaces the whiteout */
	ent(&t, RT_TAR_FILE, ".wh..wh.plnk", NULL, 0644, "", NULL, 0);
	end(&t);
	ok(unpack("wh", &t, &e) == 0, "a layer with whiteouts unpacks");
	ok(lstat_in("wh/etc/passwd", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
	   ".wh.NAME becomes a char device 0:0");
	ok(lstat_in("wh/etc/.wh.passwd", &st) < 0, "the marker itself is not created");
	snprintf(p, sizeof p, "%s/wh/opq", root_tmpl);
	ok(lgetxattr(p, "trusted.overlay.opaque", v, sizeof v) == 1 && v[0] == 'y',
	   ".wh..wh..opq marks its directory opaque, even before the directory entry");
	ok(lstat_in("wh/opq", &st) == 0 && (st.st_mode & 0777) == 0750, "the directory entry still applies");
	ok(lstat_in("wh/opq/kept", &st) == 0, "files of the opaque directory in this layer stay");
	ok(lstat_in("wh/same", &st) == 0 && S_ISREG(st.st_mode), "a whiteout does not hide its own layer");
	ok(lstat_in("wh/later", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4,
	   "a later file replaces a whiteout");
	ok(lstat_in("wh/.wh..wh.plnk", &st) < 0 && lstat_in("wh/.wh.plnk", &st) < 0, "aufs metadata ignored");
	free(t.b);
}

static void test_replace(void)
{
	struct buf t = { NULL, 0, 0 };
	struct rt_err e;
	struct stat st;

	symlinkat("/", top, "outside-link");
	ent(&t, RT_TAR_SYMLINK, "x", "/etc", 0777, NULL, NULL, 0);
	ent(&t, RT_TAR_DIR, "x", NULL, 0777, NULL, NULL, 0);        /* not chmod /etc */
	ent(&t, RT_TAR_SYMLINK, "y", "/tmp", 0777, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "y", NULL, 0600, "file", NULL, 0);      /* not written through */
	ent(&t, RT_TAR_DIR, "d", NULL, 0755, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "d/inner", NULL, 0644, "i", NULL, 0);
	ent(&t, RT_TAR_FILE, "d", NULL, 0644, "was a dir", NULL, 0);
	ent(&t, RT_TAR_FILE, "f", NULL, 0644, "one", NULL, 0);
	ent(&t, RT_TAR_FILE, "f", NULL, 0640, "second", NULL, 0);
	end(&t);
	ok(unpack("rep", &t, &e) == 0, "same-name replacements unpack");
	ok(lstat_in("rep/x", &st) == 0 && S_ISDIR(st.st_mode), "symlink replaced by a directory");
	{
		struct stat etc;

		ok(stat("/etc", &etc) == 0 && (etc.st_mode & 0777) != 0777, "/etc untouched");
	}
	ok(lstat_in("rep/y", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4,
	   "symlink replaced by a file, nothing written through it");
	ok(lstat_in("rep/d", &st) == 0 && S_ISREG(st.st_mode), "directory replaced by a file");
	ok(lstat_in("rep/f", &st) == 0 && st.st_size == 6 && (st.st_mode & 0777) == 0640,
	   "the later file wins");
	free(t.b);
}

static void expect_fail(const char *name, struct buf *t, const char *want, const char *what)
{
	struct rt_err e;
	int r = unpack(name, t, &e);

	ok(r < 0 && strstr(e.msg, want), "%s: refused (%s)", what, r < 0 ? e.msg : "accepted");
	free(t->b);
	memset(t, 0, sizeof *t);
}

static void test_refusals(void)
{
	struct buf t = { NULL, 0, 0 };
	struct stat st;

	ent(&t, RT_TAR_SYMLINK, "link", "/tmp", 0777, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "link/escape", NULL, 0644, "x", NULL, 0);
	end(&t);
	expect_fail("thru", &t, "symlink or a file", "write through a symlink");
	ok(stat("/tmp/escape", &st) < 0, "nothing created outside");

	ent(&t, RT_TAR_SYMLINK, "w", "/etc", 0777, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "w/.wh.passwd", NULL, 0644, "", NULL, 0);
	end(&t);
	expect_fail("whl", &t, "symlink or a file", "whiteout through a symlink");

	ent(&t, RT_TAR_CHAR, "dev/null", NULL, 0666, NULL, NULL, 0);
	end(&t);
	expect_fail("dev", &t, "device node refused", "device node");

	ent(&t, RT_TAR_DIR, "dir", NULL, 0755, NULL, NULL, 0);
	ent(&t, RT_TAR_HARDLINK, "hl", "dir", 0, NULL, NULL, 0);
	end(&t);
	expect_fail("hld", &t, "hardlink to a directory", "hardlink to a directory");

	ent(&t, RT_TAR_HARDLINK, "hl", "nothere", 0, NULL, NULL, 0);
	end(&t);
	expect_fail("hln", &t, "not in the layer", "hardlink to nothing in the layer");

	ent(&t, RT_TAR_SYMLINK, "s", "/etc", 0777, NULL, NULL, 0);
	ent(&t, RT_TAR_HARDLINK, "hl", "s/passwd", 0, NULL, NULL, 0);
	end(&t);
	expect_fail("hls", &t, "not in the layer", "hardlink through a symlink");

	ent(&t, RT_TAR_FILE, "a", NULL, 0644, "x", NULL, 0);
	ent(&t, RT_TAR_FILE, "a/b", NULL, 0644, "x", NULL, 0);
	end(&t);
	expect_fail("nd", &t, "symlink or a file", "a file used as a directory");

	ent(&t, RT_TAR_FILE, ".wh..", NULL, 0644, "", NULL, 0);
	end(&t);
	expect_fail("whdot", &t, "bad whiteout", "whiteout of '.'");

	/* a hardlink to a symlink links the symlink itself, never its target */
	{
		struct rt_err e;
		struct stat a, b;

		ent(&t, RT_TAR_SYMLINK, "s", "/etc/passwd", 0777, NULL, NULL, 0);
		ent(&t, RT_TAR_HARDLINK, "h", "s", 0, NULL, NULL, 0);
		end(&t);
		ok(unpack("hsym", &t, &e) == 0 && lstat_in("hsym/h", &a) == 0 && S_ISLNK(a.st_mode) &&
		   lstat_in("hsym/s", &b) == 0 && a.st_ino == b.st_ino, "hardlink to a symlink is a symlink");
		free(t.b);
		memset(&t, 0, sizeof t);
	}
}

static void test_devices_allowed(void)
{
	struct buf t = { NULL, 0, 0 };
	struct rt_unpack_opts o;
	struct rt_err e;
	struct stat st;
	int dir = fresh("devok");

	ent(&t, RT_TAR_CHAR, "null", NULL, 0666, NULL, NULL, 0);
	end(&t);
	opts_for(&o, &t, RT_UNPACK_TAR);
	o.allow_devices = 1;
	ok(run(dir, &t, &o, 512, &e) == 0 && lstat_in("devok/null", &st) == 0 && S_ISCHR(st.st_mode) &&
	   st.st_rdev == makedev(1, 3), "device nodes only when allowed");
	close(dir);
	free(t.b);
}

static void test_digest_and_size(void)
{
	struct buf t = { NULL, 0, 0 }, g;
	struct rt_unpack_opts o;
	struct rt_err e;
	int dir;

	ent(&t, RT_TAR_FILE, "f", NULL, 0644, "content", NULL, 0);
	end(&t);
	dir = fresh("dig");
	opts_for(&o, &t, RT_UNPACK_TAR);
	o.digest[0] ^= 1;
	ok(run(dir, &t, &o, 100, &e) < 0 && strstr(e.msg, "digest mismatch"), "digest mismatch caught");
	close(dir);

	dir = fresh("big");
	opts_for(&o, &t, RT_UNPACK_TAR);
	o.size = t.len - 1;
	ok(run(dir, &t, &o, 100, &e) < 0 && strstr(e.msg, "larger than its descriptor"),
	   "no byte past the descriptor's size is used");
	close(dir);

	dir = fresh("short");
	opts_for(&o, &t, RT_UNPACK_TAR);
	o.size = t.len + 10;
	ok(run(dir, &t, &o, 100, &e) < 0 && strstr(e.msg, "descriptor says"), "short blob caught");
	close(dir);

	dir = fresh("diff");
	g = gz(&t, 1);
	opts_for(&o, &g, RT_UNPACK_GZIP);
	o.check_diff = 1;
	rt_sha256_buf(t.b, t.len, o.diff_id);
	ok(run(dir, &g, &o, 7, &e) == 0, "gzip layer with a matching diff_id");
	close(dir);
	dir = fresh("diff2");
	o.diff_id[5] ^= 1;
	ok(run(dir, &g, &o, 7, &e) < 0 && strstr(e.msg, "diff_id"), "diff_id mismatch caught");
	close(dir);

	/* the blob copy (kept blobs) is byte-identical */
	{
		int bfd = openat(top, "copy", O_RDWR | O_CREAT | O_TRUNC, 0600);
		uint8_t back[4096];

		dir = fresh("copyl");
		opts_for(&o, &g, RT_UNPACK_GZIP);
		o.blobfd = bfd;
		ok(run(dir, &g, &o, 13, &e) == 0 && pread(bfd, back, sizeof back, 0) == (ssize_t)g.len &&
		   !memcmp(back, g.b, g.len), "blob copied while unpacking");
		close(bfd);
		close(dir);
	}
	free(g.b);
	free(t.b);
}

static void test_gzip(void)
{
	struct buf t = { NULL, 0, 0 }, g, g2;
	struct rt_unpack_opts o;
	struct rt_err e;
	struct stat st;
	int dir;

	ent(&t, RT_TAR_FILE, "a", NULL, 0644, "aaaa", NULL, 0);
	ent(&t, RT_TAR_FILE, "b", NULL, 0644, "bbbb", NULL, 0);
	end(&t);
	g = gz(&t, 3);
	dir = fresh("multi");
	opts_for(&o, &g, RT_UNPACK_GZIP);
	ok(run(dir, &g, &o, 5, &e) == 0 && lstat_in("multi/b", &st) == 0,
	   "multi-member gzip is one stream");
	close(dir);

	g2 = g;
	g2.b = malloc(g.len + 4);
	memcpy(g2.b, g.b, g.len);
	memcpy(g2.b + g.len, "junk", 4);
	g2.len = g.len + 4;
	dir = fresh("junk");
	opts_for(&o, &g2, RT_UNPACK_GZIP);
	ok(run(dir, &g2, &o, 64, &e) < 0 && strstr(e.msg, "gzip"), "junk after the gzip stream refused (%s)",
	   e.msg);
	close(dir);

	g2.len = g.len - 5;
	dir = fresh("trunc");
	opts_for(&o, &g2, RT_UNPACK_GZIP);
	ok(run(dir, &g2, &o, 64, &e) < 0, "truncated gzip refused (%s)", e.msg);
	close(dir);
	free(g2.b);
	free(g.b);
	free(t.b);
}

static void test_limits(void)
{
	struct buf t = { NULL, 0, 0 }, g;
	struct rt_unpack_opts o;
	struct rt_unpack_limits l;
	struct rt_err e;
	char *big = malloc(1 << 20);
	int dir, i;

	ok(rt_unpack_limits(&l, "layer=1K,entries=5,depth=3,image=2M", &e) == 0 &&
	   l.layer_bytes == 1024 && l.entries == 5 && l.depth == 3 && l.image_bytes == 2 << 20,
	   "RT_LIMITS lowers limits");
	ok(rt_unpack_limits(&l, "layer=999999999G", &e) == 0 &&
	   l.layer_bytes == (uint64_t)CONFIG_IMAGE_LAYER_MAX_MB << 20, "RT_LIMITS never raises them");
	ok(rt_unpack_limits(&l, "bogus=1", &e) < 0, "unknown limit refused");
	ok(rt_unpack_limits(&l, "layer=12Q", &e) < 0, "bad number refused");

	memset(big, 'z', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	ent(&t, RT_TAR_FILE, "zeros", NULL, 0644, big, NULL, 0);
	end(&t);
	g = gz(&t, 1);
	dir = fresh("bomb1");
	opts_for(&o, &g, RT_UNPACK_GZIP);
	o.lim.layer_bytes = 64 * 1024;
	ok(run(dir, &g, &o, 4096, &e) < 0 && strstr(e.msg, "exceeds limit"),
	   "a file larger than the layer limit stops at its header (%s)", e.msg);
	close(dir);
	free(g.b);
	free(t.b);
	memset(&t, 0, sizeof t);
	big[40000] = '\0';
	for (i = 0; i < 4; i++) {
		char n[16];

		snprintf(n, sizeof n, "z%d", i);
		ent(&t, RT_TAR_FILE, n, NULL, 0644, big, NULL, 0);
	}
	end(&t);
	g = gz(&t, 1);
	dir = fresh("bomb2");
	opts_for(&o, &g, RT_UNPACK_GZIP);
	o.lim.layer_bytes = 64 * 1024;
	ok(run(dir, &g, &o, 4096, &e) < 0 && strstr(e.msg, "expands to more than"),
	   "gzip bomb stopped by the layer limit (%s)", e.msg);
	close(dir);
	free(g.b);
	free(t.b);
	memset(&t, 0, sizeof t);

	for (i = 0; i < 10; i++) {
		char n[16];

		snprintf(n, sizeof n, "f%d", i);
		ent(&t, RT_TAR_FILE, n, NULL, 0644, "", NULL, 0);
	}
	end(&t);
	dir = fresh("many");
	opts_for(&o, &t, RT_UNPACK_TAR);
	o.lim.entries = 5;
	ok(run(dir, &t, &o, 512, &e) < 0 && strstr(e.msg, "more than 5 entries"), "entry limit");
	close(dir);
	free(t.b);
	memset(&t, 0, sizeof t);

	ent(&t, RT_TAR_FILE, "a/b/c/d", NULL, 0644, "", NULL, 0);
	end(&t);
	dir = fresh("deep");
	opts_for(&o, &t, RT_UNPACK_TAR);
	o.lim.depth = 3;
	ok(run(dir, &t, &o, 512, &e) < 0 && strstr(e.msg, "deeper than 3"), "depth limit");
	close(dir);
	free(t.b);

	memset(&t, 0, sizeof t);
	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	ent(&t, RT_TAR_FILE, "f1", NULL, 0644, big, NULL, 0);
	ent(&t, RT_TAR_FILE, "f2", NULL, 0644, big, NULL, 0);
	end(&t);
	dir = fresh("space");
	opts_for(&o, &t, RT_UNPACK_TAR);
	o.statfd = top;
	o.reserve = UINT64_MAX / 4;
	ok(run(dir, &t, &o, 65536, &e) < 0 && strstr(e.msg, "no space left"),
	   "the free-space reserve stops unpacking (%s)", e.msg);
	close(dir);
	free(t.b);
	free(big);
}

/* The record taken while unpacking equals the one from reading back. */
static void test_record_of(void)
{
	struct buf t = { NULL, 0, 0 };
	struct rt_unpack_record a, b;
	struct rt_unpack_opts o;
	struct rt_unpack *u;
	struct rt_err e;
	int dir = fresh("rof");

	ent(&t, RT_TAR_FILE, "f", NULL, 0644, "first version", NULL, 0);
	ent(&t, RT_TAR_HARDLINK, "h", "f", 0, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "f", NULL, 0644, "second, longer version", NULL, 0);
	ent(&t, RT_TAR_FILE, "g", NULL, 0600, "g", NULL, 0);
	end(&t);
	opts_for(&o, &t, RT_UNPACK_TAR);
	u = rt_unpack_new(dir, &o, &e);
	ok(u && rt_unpack_push(u, t.b, t.len, &e) == 0 && rt_unpack_finish(u, NULL, &e) == 0 &&
	   rt_unpack_record_of(u, &a, &e) == 0 && rt_unpack_record(dir, &b, &e) == 0 &&
	   !memcmp(a.tree, b.tree, sizeof a.tree) && a.entries == b.entries && a.bytes == b.bytes &&
	   a.disk > 0, "the record taken while writing equals the one read back (replaced and hardlinked files)");
	rt_unpack_free(u);
	close(dir);
	free(t.b);
}

static void test_record(void)
{
	struct buf t = { NULL, 0, 0 };
	struct rt_unpack_record a, b, c;
	struct rt_err e = { 0, "" };
	int d1, d2;

	ent(&t, RT_TAR_DIR, "etc", NULL, 0755, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "etc/hosts", NULL, 0644, "127.0.0.1 localhost\n", NULL, 0);
	ent(&t, RT_TAR_SYMLINK, "etc/l", "hosts", 0777, NULL, NULL, 0);
	ent(&t, RT_TAR_FILE, "x/.wh..wh..opq", NULL, 0644, "", NULL, 0);
	end(&t);
	unpack("r1", &t, &e);
	unpack("r2", &t, &e);
	d1 = openat(top, "r1", O_RDONLY | O_DIRECTORY);
	d2 = openat(top, "r2", O_RDONLY | O_DIRECTORY);
	ok(rt_unpack_record(d1, &a, &e) == 0 && rt_unpack_record(d2, &b, &e) == 0 &&
	   !memcmp(a.tree, b.tree, sizeof a.tree) && a.entries == 5 && a.bytes == 20,
	   "the record is the same for the same content (%llu entries, %s)",
	   (unsigned long long)a.entries, e.msg);
	{
		int fd = openat(d2, "etc/hosts", O_WRONLY);

		(void)!pwrite(fd, "8", 1, 0);      /* same size, one byte changed */
		close(fd);
	}
	ok(rt_unpack_record(d2, &c, &e) == 0 && memcmp(a.tree, c.tree, sizeof a.tree) &&
	   c.bytes == a.bytes, "a changed byte changes the record");
	fchmodat(d1, "etc", 0700, 0);
	ok(rt_unpack_record(d1, &c, &e) == 0 && memcmp(a.tree, c.tree, sizeof a.tree),
	   "a changed mode changes the record");
	close(d1);
	close(d2);
	is_int(rt_unpack_crc32(0, "123456789", 9), 0xcbf43926, "CRC-32 check value");
	free(t.b);
}

int main(void)
{
	struct rt_err e;

	if (geteuid() != 0) {
		printf("1..0 # SKIP unpacking needs root (owners, device nodes, trusted xattrs)\n");
		return 0;
	}
	if (!mkdtemp(root_tmpl))
		return 1;
	top = open(root_tmpl, O_RDONLY | O_DIRECTORY);
	test_basic();
	test_whiteouts();
	test_replace();
	test_refusals();
	test_devices_allowed();
	test_digest_and_size();
	test_gzip();
	test_limits();
	test_record();
	test_record_of();
	close(top);
	rt_store_rmtree(AT_FDCWD, root_tmpl, &e);
	return done_testing();
}
