/* Layers: a directory tree or a tar file becomes one gzip'd tar blob.
 *
 * Reproducible by construction: every entry is collected first, then
 * written sorted by path (parents before children, since a path sorts
 * after its prefixes), each with the caller's mtime and, when asked, one
 * owner; no user or group names; only the security.capability xattr is
 * kept (as Docker keeps it); the gzip header carries no name and no time.
 * Hardlinked files are written once, at the first of their paths in sorted
 * order, and the other paths link to it. Sockets are skipped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <dirent.h>

#include <zlib.h>

#include "io.h"
#include "mkimage.h"
#include "path.h"
#include "tar.h"

#define CAP_XATTR "security.capability"
#define CAP_MAX 64              /* vfs_cap_data v3 is 24 bytes */
#define DEPTH_MAX 256
#define BUF 65536
#define NONE ((size_t)-1)

struct ent {
	char *path;
	char *link;             /* symlink target or hardlink path */
	enum rt_tar_type type;
	uint32_t mode, uid, gid, devmajor, devminor;
	uint64_t size;
	off_t off;              /* tar source: where the data starts */
	dev_t dev;              /* directory source: hardlink identity */
	ino_t ino;
	bool multi;             /* a regular file with more than one link */
	bool dead;              /* a later entry has the same path */
	size_t seq;
	uint8_t caplen;
	uint8_t cap[CAP_MAX];
};

struct ents {
	struct ent *v;
	size_t n, cap;
};

static struct ent *ent_new(struct ents *es, const char *path, struct rt_err *e)
{
	struct ent *x;

	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 256;
		struct ent *v = realloc(es->v, cap * sizeof *v);

		if (!v) {
			rt_err_sys(e, "out of memory");
			return NULL;
		}
		es->v = v;
		es->cap = cap;
	}
	x = &es->v[es->n];
	memset(x, 0, sizeof *x);
	x->path = strdup(path);
	if (!x->path) {
		rt_err_sys(e, "out of memory");
		return NULL;
	}
	x->seq = es->n++;
	x->off = -1;
	return x;
}

static void ents_free(struct ents *es)
{
	size_t i;

	for (i = 0; i < es->n; i++) {
		free(es->v[i].path);
		free(es->v[i].link);
	}
	free(es->v);
}

static int entcmp(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* ---- a directory tree ------------------------------------------------------ */

static int namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct ents *es, int dfd, const char *prefix, int depth, struct rt_err *e);

static int add_path(struct ents *es, int dfd, const char *name, const char *path,
		    int depth, struct rt_err *e)
{
	struct stat st;
	struct ent *x;
	char link[RT_TAR_PATH_MAX];
	ssize_t n;
	int fd, rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_err_sys(e, "%s", path);
	if (S_ISSOCK(st.st_mode))
		return 0;
	x = ent_new(es, path, e);
	if (!x)
		return -1;
	x->mode = st.st_mode & 07777;
	x->uid = st.st_uid;
	x->gid = st.st_gid;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		x->type = RT_TAR_FILE;
		x->size = (uint64_t)st.st_size;
		x->multi = st.st_nlink > 1;
		x->dev = st.st_dev;
		x->ino = st.st_ino;
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return rt_err_sys(e, "%s", path);
		n = fgetxattr(fd, CAP_XATTR, x->cap, sizeof x->cap);
		if (n < 0 && errno != ENODATA && errno != ENOTSUP)
			rc = rt_err_sys(e, "%s: %s", path, CAP_XATTR);
		x->caplen = n > 0 ? (uint8_t)n : 0;
		close(fd);
		return rc;
	case S_IFDIR:
		x->type = RT_TAR_DIR;
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return rt_err_sys(e, "%s", path);
		rc = walk(es, fd, path, depth + 1, e);
		close(fd);
		return rc;
	case S_IFLNK:
		x->type = RT_TAR_SYMLINK;
		n = readlinkat(dfd, name, link, sizeof link);
		if (n < 0)
			return rt_err_sys(e, "%s", path);
		if ((size_t)n >= sizeof link)
			return rt_err_set(e, 0, "%s: link target too long", path);
		link[n] = '\0';
		x->link = strdup(link);
		return x->link ? 0 : rt_err_sys(e, "out of memory");
	case S_IFCHR:
	case S_IFBLK:
		x->type = S_ISCHR(st.st_mode) ? RT_TAR_CHAR : RT_TAR_BLOCK;
		x->devmajor = major(st.st_rdev);
		x->devminor = minor(st.st_rdev);
		return 0;
	case S_IFIFO:
		x->type = RT_TAR_FIFO;
		return 0;
	default:
		return rt_err_set(e, 0, "%s: unknown file type", path);
	}
}

static int walk(struct ents *es, int dfd, const char *prefix, int depth, struct rt_err *e)
{
	char **names = NULL, path[RT_TAR_PATH_MAX];
	size_t n = 0, cap = 0, i;
	struct dirent *d;
	DIR *dp;
	int rc = 0, fd;

	if (depth > DEPTH_MAX)
		return rt_err_set(e, 0, "%s: deeper than %d directories", prefix, DEPTH_MAX);
	fd = dup(dfd);
	dp = fd < 0 ? NULL : fdopendir(fd);
	if (!dp) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(e, "%s", *prefix ? prefix : ".");
	}
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *v);

			if (!v) {
				rc = rt_err_sys(e, "out of memory");
				break;
			}
			names = v;
		}
		names[n] = strdup(d->d_name);
		if (!names[n]) {
			rc = rt_err_sys(e, "out of memory");
			break;
		}
		n++;
	}
	closedir(dp);
	if (rc == 0 && n)
		qsort(names, n, sizeof *names, namecmp);
	for (i = 0; i < n && rc == 0; i++) {
		int k = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", names[i]);

		if (k < 0 || (size_t)k >= sizeof path)
			rc = rt_err_set(e, 0, "%s/%s: path too long", prefix, names[i]);
		else
			rc = add_path(es, dfd, names[i], path, depth, e);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ---- a tar file --------------------------------------------------------------- */

/* A gzip'd tar is inflated into an unlinked temporary file first, because
 * writing entries sorted means reading their data out of order. */
static int inflate_tmp(int in, struct rt_err *e)
{
	static uint8_t ibuf[BUF], obuf[BUF];
	const char *dir = getenv("TMPDIR");
	char tmp[4096];
	z_stream z;
	ssize_t n;
	int out, zr = Z_OK, rc = -1;

	snprintf(tmp, sizeof tmp, "%s/mkimage-layer-XXXXXX", dir && *dir ? dir : "/tmp");
	out = mkstemp(tmp);
	if (out < 0)
		return rt_err_sys(e, "temporary file");
	unlink(tmp);
	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		close(out);
		return rt_err_set(e, 0, "inflateInit");
	}
	while ((n = rt_io_read_full(in, ibuf, sizeof ibuf, e)) > 0) {
		z.next_in = ibuf;
		z.avail_in = (uInt)n;
		while (z.avail_in) {
			if (zr == Z_STREAM_END) {
				/* gzip members may follow each other */
				if (inflateReset(&z) != Z_OK)
					goto out;
			}
			z.next_out = obuf;
			z.avail_out = sizeof obuf;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				rt_err_set(e, 0, "gzip: %s", z.msg ? z.msg : "corrupt data");
				goto out;
			}
			if (rt_io_write_all(out, obuf, sizeof obuf - z.avail_out, e) < 0)
				goto out;
		}
	}
	if (n < 0)
		goto out;
	if (zr != Z_STREAM_END) {
		rt_err_set(e, 0, "gzip: truncated");
		goto out;
	}
	rc = 0;
out:
	inflateEnd(&z);
	if (rc < 0) {
		close(out);
		return -1;
	}
	return out;
}

static int tar_collect(struct ents *es, int fd, struct rt_err *e)
{
	static uint8_t buf[BUF];
	struct rt_tar *t = malloc(sizeof *t);
	struct rt_tar_ev ev;
	struct ent *cur = NULL;
	off_t base = 0;
	ssize_t n;
	size_t i;
	int rc = -1;

	if (!t)
		return rt_err_sys(e, "out of memory");
	rt_tar_init(t, 0);
	while ((n = rt_io_read_full(fd, buf, sizeof buf, e)) > 0) {
		const uint8_t *p = buf;
		size_t len = (size_t)n;

		for (;;) {
			size_t used = rt_tar_push(t, p, len, &ev);
			const struct rt_tar_entry *en = ev.entry;

			p += used;
			len -= used;
			if (ev.kind == RT_TAR_EV_NONE)
				break;
			if (ev.kind == RT_TAR_EV_ERROR) {
				rt_tar_error(t, e);
				goto out;
			}
			if (ev.kind == RT_TAR_EV_ENTRY) {
				cur = NULL;
				if (!*en->path)
					continue;       /* the layer root */
				cur = ent_new(es, en->path, e);
				if (!cur)
					goto out;
				cur->type = en->type;
				cur->mode = en->mode;
				cur->uid = en->uid;
				cur->gid = en->gid;
				cur->size = en->size;
				cur->devmajor = en->devmajor;
				cur->devminor = en->devminor;
				if (en->type == RT_TAR_SYMLINK || en->type == RT_TAR_HARDLINK) {
					cur->link = strdup(en->linkpath);
					if (!cur->link) {
						rt_err_sys(e, "out of memory");
						goto out;
					}
				}
				for (i = 0; i < en->nxattr; i++)
					if (!strcmp(en->xattr[i].name, CAP_XATTR) &&
					    en->xattr[i].len <= CAP_MAX) {
						memcpy(cur->cap, en->xattr[i].value, en->xattr[i].len);
						cur->caplen = (uint8_t)en->xattr[i].len;
					}
			} else if (ev.kind == RT_TAR_EV_DATA && cur && cur->off < 0) {
				cur->off = base + (ev.data - buf);
			}
		}
		base += n;
	}
	if (n == 0)
		rc = rt_tar_finish(t, e);
out:
	free(t);
	return rc;
}

static size_t find(const struct ents *es, const char *path)
{
	size_t lo = 0, hi = es->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(es->v[mid].path, path);

		if (c == 0) {
			/* the live one is the last of equal paths */
			while (mid + 1 < es->n && !strcmp(es->v[mid + 1].path, path))
				mid++;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* ---- hardlink groups -------------------------------------------------------- */

/* src[i]: the entry whose metadata and data i's group carries; lead[i]:
 * the entry of the group that is written as the file (the first in
 * order), NONE when i stands alone. */
static int groups_tar(const struct ents *es, size_t *src, size_t *lead, struct rt_err *e)
{
	size_t i, *leader = malloc((es->n + 1) * sizeof *leader);
	bool *target = calloc(es->n + 1, sizeof *target);

	if (!leader || !target) {
		free(leader);
		free(target);
		return rt_err_sys(e, "out of memory");
	}
	for (i = 0; i < es->n; i++) {
		src[i] = i;
		lead[i] = NONE;
		leader[i] = NONE;
	}
	for (i = 0; i < es->n; i++) {
		size_t t = i;
		int hops = 0;

		if (es->v[i].dead || es->v[i].type != RT_TAR_HARDLINK)
			continue;
		while (t != NONE && es->v[t].type == RT_TAR_HARDLINK && hops++ < 16)
			t = find(es, es->v[t].link);
		if (t == NONE || es->v[t].type != RT_TAR_FILE) {
			free(leader);
			free(target);
			return rt_err_set(e, 0, "%s: hardlink to %s, which is not a file of this layer",
					  es->v[i].path, es->v[i].link);
		}
		src[i] = t;
		target[t] = true;
	}
	/* In sorted order, the first member of each group leads it. */
	for (i = 0; i < es->n; i++) {
		size_t g = src[i];

		if (es->v[i].dead || (g == i && !target[i]))
			continue;
		if (leader[g] == NONE)
			leader[g] = i;
		lead[i] = leader[g];
	}
	free(leader);
	free(target);
	return 0;
}

struct inode {
	dev_t dev;
	ino_t ino;
	size_t i;
};

static int inocmp(const void *a, const void *b)
{
	const struct inode *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static int groups_dir(const struct ents *es, size_t *src, size_t *lead, struct rt_err *e)
{
	struct inode *v = malloc((es->n + 1) * sizeof *v);
	size_t i, n = 0, k;

	if (!v)
		return rt_err_sys(e, "out of memory");
	for (i = 0; i < es->n; i++) {
		src[i] = i;
		lead[i] = NONE;
		if (es->v[i].multi)
			v[n++] = (struct inode){ es->v[i].dev, es->v[i].ino, i };
	}
	qsort(v, n, sizeof *v, inocmp);
	for (k = 0; k < n; k++) {
		if (k && v[k].dev == v[k - 1].dev && v[k].ino == v[k - 1].ino)
			lead[v[k].i] = lead[v[k - 1].i];
		else
			lead[v[k].i] = v[k].i;
	}
	free(v);
	return 0;
}

/* ---- writing --------------------------------------------------------------------- */

struct gzw {
	z_stream z;
	int fd;
	struct rt_sha256 tar, gz;
	uint64_t size;
	uint8_t out[BUF];
};

static int gz_push(struct gzw *g, const void *p, size_t n, int flush, struct rt_err *e)
{
	int zr;

	rt_sha256_update(&g->tar, p, n);
	g->z.next_in = (Bytef *)(uintptr_t)p;
	g->z.avail_in = (uInt)n;
	do {
		size_t have;

		g->z.next_out = g->out;
		g->z.avail_out = sizeof g->out;
		zr = deflate(&g->z, flush);
		if (zr == Z_STREAM_ERROR)
			return rt_err_set(e, 0, "deflate failed");
		have = sizeof g->out - g->z.avail_out;
		rt_sha256_update(&g->gz, g->out, have);
		g->size += have;
		if (rt_io_write_all(g->fd, g->out, have, e) < 0)
			return -1;
	} while (g->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
	return 0;
}

static int copy_data(struct gzw *g, int fd, off_t off, uint64_t size, const char *path,
		     struct rt_err *e)
{
	static uint8_t buf[BUF];

	while (size) {
		size_t want = size < sizeof buf ? (size_t)size : sizeof buf;
		ssize_t n = off >= 0 ? pread(fd, buf, want, off) : read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rt_err_sys(e, "%s", path);
		if (n == 0)
			return rt_err_set(e, 0, "%s: shorter than its size (changed while read?)", path);
		if (gz_push(g, buf, (size_t)n, Z_NO_FLUSH, e) < 0)
			return -1;
		size -= (uint64_t)n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

static int emit(struct gzw *g, const struct ents *es, const size_t *src, const size_t *lead,
		int rootfd, int tarfd, const struct mk_layer_opts *o, struct rt_err *e)
{
	static const uint8_t zero[RT_TAR_BLOCK_SIZE];
	uint8_t *hdr = malloc(RT_TAR_WRITE_MAX);
	struct rt_tar_xattr xa;
	size_t i;
	ssize_t n;
	int rc = 0;

	if (!hdr)
		return rt_err_sys(e, "out of memory");
	for (i = 0; i < es->n && rc == 0; i++) {
		const struct ent *x = &es->v[i], *s;
		struct rt_tar_entry en;

		if (x->dead)
			continue;
		s = &es->v[src[i]];
		memset(&en, 0, sizeof en);
		en.path = x->path;
		en.linkpath = "";
		en.type = s->type;
		en.mode = s->mode;
		en.uid = o->owner ? o->uid : s->uid;
		en.gid = o->owner ? o->gid : s->gid;
		en.mtime = o->mtime;
		en.size = s->size;
		en.devmajor = s->devmajor;
		en.devminor = s->devminor;
		if (s->type == RT_TAR_SYMLINK)
			en.linkpath = s->link;
		if (lead[i] != NONE && lead[i] != i) {
			en.type = RT_TAR_HARDLINK;
			en.linkpath = es->v[lead[i]].path;
			en.size = 0;
		} else if (s->caplen && s->type == RT_TAR_FILE) {
			xa.name = CAP_XATTR;
			xa.value = s->cap;
			xa.len = s->caplen;
			en.xattr = &xa;
			en.nxattr = 1;
		}
		n = rt_tar_write_header(hdr, RT_TAR_WRITE_MAX, &en, e);
		if (n < 0 || gz_push(g, hdr, (size_t)n, Z_NO_FLUSH, e) < 0) {
			rc = -1;
			break;
		}
		if (en.type != RT_TAR_FILE || en.size == 0)
			continue;
		if (tarfd >= 0) {
			rc = copy_data(g, tarfd, s->off, en.size, x->path, e);
		} else {
			struct stat st;
			int fd = rt_path_open(rootfd, s->path, O_RDONLY, 0, e);

			if (fd < 0) {
				rc = -1;
				break;
			}
			if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != en.size)
				rc = rt_err_set(e, 0, "%s: changed while the layer was made", s->path);
			else
				rc = copy_data(g, fd, -1, en.size, s->path, e);
			close(fd);
		}
		if (rc == 0)
			rc = gz_push(g, zero, rt_tar_pad(en.size), Z_NO_FLUSH, e);
	}
	if (rc == 0) {
		n = rt_tar_write_end(hdr, RT_TAR_WRITE_MAX, e);
		rc = n < 0 ? -1 : gz_push(g, hdr, (size_t)n, Z_FINISH, e);
	}
	free(hdr);
	return rc;
}

int mk_layer_make(struct mk_layout *l, const char *srcpath,
	const struct mk_layer_opts *o, struct mk_layer_out *out, struct rt_err *e)
{
	struct ents es = { 0 };
	struct gzw *g = NULL;
	struct stat st;
	char tmp[RT_IO_TMPNAME];
	size_t i, *src = NULL, *lead = NULL;
	uint8_t magic[2];
	int rootfd = -1, tarfd = -1, rc = -1, zinit = 0;

	tmp[0] = '\0';
	if (stat(srcpath, &st) < 0) {
		rt_err_sys(e, "%s", srcpath);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rootfd = open(srcpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0) {
			rt_err_sys(e, "%s", srcpath);
			goto out;
		}
		if (walk(&es, rootfd, "", 0, e) < 0)
			goto out;
	} else if (S_ISREG(st.st_mode)) {
		tarfd = open(srcpath, O_RDONLY | O_CLOEXEC);
		if (tarfd < 0) {
			rt_err_sys(e, "%s", srcpath);
			goto out;
		}
		if (pread(tarfd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
			int fd = inflate_tmp(tarfd, e);

			close(tarfd);
			tarfd = fd;
			if (tarfd < 0 || lseek(tarfd, 0, SEEK_SET) < 0)
				goto out;
		}
		if (tar_collect(&es, tarfd, e) < 0)
			goto out;
	} else {
		rt_err_set(e, 0, "%s: neither a directory nor a tar file", srcpath);
		goto out;
	}
	if (es.n)
		qsort(es.v, es.n, sizeof *es.v, entcmp);
	for (i = 0; i + 1 < es.n; i++)
		if (!strcmp(es.v[i].path, es.v[i + 1].path))
			es.v[i].dead = true;
	src = calloc(es.n + 1, sizeof *src);
	lead = calloc(es.n + 1, sizeof *lead);
	if (!src || !lead) {
		rt_err_sys(e, "out of memory");
		goto out;
	}
	if ((tarfd >= 0 ? groups_tar(&es, src, lead, e) : groups_dir(&es, src, lead, e)) < 0)
		goto out;
	g = calloc(1, sizeof *g);
	if (!g) {
		rt_err_sys(e, "out of memory");
		goto out;
	}
	g->fd = -1;
	/* Level 9, and no deflateSetHeader: the gzip header has mtime 0 and
	 * no file name, so the blob depends on the tar bytes only. */
	if (deflateInit2(&g->z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		rt_err_set(e, 0, "deflateInit");
		goto out;
	}
	zinit = 1;
	rt_sha256_init(&g->tar);
	rt_sha256_init(&g->gz);
	g->fd = mk_blob_begin(l, tmp, e);
	if (g->fd < 0)
		goto out;
	if (emit(g, &es, src, lead, rootfd, tarfd, o, e) < 0)
		goto out;
	rt_sha256_final(&g->tar, out->diff_id);
	rt_sha256_final(&g->gz, out->digest);
	out->size = g->size;
	rc = mk_blob_end(l, g->fd, tmp, out->digest, e);
	g->fd = -1;
	tmp[0] = '\0';
out:
	if (rc < 0)
		rt_err_wrap(e, "layer %s", srcpath);
	if (g && g->fd >= 0) {
		close(g->fd);
		if (tmp[0])
			unlinkat(l->blobfd, tmp, 0);
	}
	if (zinit)
		deflateEnd(&g->z);
	free(g);
	free(src);
	free(lead);
	ents_free(&es);
	if (rootfd >= 0)
		close(rootfd);
	if (tarfd >= 0)
		close(tarfd);
	return rc;
}
