#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "kconfig.h"
#include "path.h"
#include "store.h"
#include "tar.h"
#include "unpack.h"

#if IS_ENABLED(CONFIG_GZIP)
#include <zlib.h>
#endif

#define ZBUF (64 * 1024)
#define SPACE_STEP (1024 * 1024)        /* bytes between free-space checks */
#define ENTRY_COST 512                  /* what an inode costs, roughly */
#define DIRS_MAX (64u << 20)            /* pending directory times */
#define XATTR_BUF 65536
#define WALK_DEPTH 1100

struct rt_unpack {
	struct rt_unpack_opts o;
	int rootfd;
	int failed;
	struct rt_err err;
	struct rt_sha256 h, hd;
	uint64_t in, out, entries, written;
	int fd;                 /* file being written; -1: data dropped */
	int pfd;                /* cached parent directory */
	char ppath[RT_TAR_PATH_MAX];
	char *dirs;             /* (int64 mtime, path NUL)* */
	size_t dlen, dcap;
	uint32_t crc;           /* of the file being written */
	struct crcent *crcs;    /* every file written: inode and CRC-32 */
	size_t ncrc, crccap;
	mode_t umask;
#if IS_ENABLED(CONFIG_GZIP)
	z_stream z;
	int zinit, zend;
	uint64_t members;
	uint8_t zout[ZBUF];
#endif
	struct rt_tar tar;
};

struct crcent {
	uint64_t ino;
	uint32_t crc;
	uint32_t seq;           /* the latest entry of an inode number wins */
	int counted;            /* its blocks are in the record's disk total */
};

/* --- limits -------------------------------------------------------------- */

static int parse_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t i;

	if (n && (s[n - 1] == 'K' || s[n - 1] == 'M' || s[n - 1] == 'G')) {
		mul = s[n - 1] == 'K' ? 1024 : s[n - 1] == 'M' ? 1024 * 1024 : 1024 * 1024 * 1024;
		n--;
	}
	if (n == 0 || n > 15)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int rt_unpack_limits(struct rt_unpack_limits *l, const char *env, struct rt_err *e)
{
	const char *p = env;

	l->layer_bytes = (uint64_t)CONFIG_IMAGE_LAYER_MAX_MB << 20;
	l->image_bytes = (uint64_t)CONFIG_IMAGE_MAX_MB << 20;
	l->entries = (uint64_t)CONFIG_IMAGE_MAX_ENTRIES;
	l->depth = CONFIG_IMAGE_PATH_DEPTH;
	while (p && *p) {
		size_t n = strcspn(p, ","), k = strcspn(p, "=");
		uint64_t v, *dst = NULL;

		if (k >= n)
			return rt_err_set(e, 0, "RT_LIMITS: '%.*s': want key=value", (int)n, p);
		if (parse_size(p + k + 1, n - k - 1, &v) < 0)
			return rt_err_set(e, 0, "RT_LIMITS: '%.*s': bad number", (int)n, p);
		if (k == 5 && !strncmp(p, "layer", 5))
			dst = &l->layer_bytes;
		else if (k == 5 && !strncmp(p, "image", 5))
			dst = &l->image_bytes;
		else if (k == 7 && !strncmp(p, "entries", 7))
			dst = &l->entries;
		else if (k == 5 && !strncmp(p, "depth", 5)) {
			if (v < l->depth)
				l->depth = (unsigned)v;
		} else
			return rt_err_set(e, 0, "RT_LIMITS: unknown limit '%.*s'", (int)k, p);
		/* Lower only: the build's limits are what the device can take. */
		if (dst && v < *dst)
			*dst = v;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* --- CRC-32 -------------------------------------------------------------- */

uint32_t rt_unpack_crc32(uint32_t crc, const void *buf, size_t len)
{
#if IS_ENABLED(CONFIG_GZIP)
	while (len > 0) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;

		crc = (uint32_t)crc32(crc, buf, n);
		buf = (const uint8_t *)buf + n;
		len -= n;
	}
	return crc;
#else
	static uint32_t table[256];
	const uint8_t *p = buf;
	size_t i;

	if (!table[1]) {
		for (uint32_t n = 0; n < 256; n++) {
			uint32_t c = n;

			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[n] = c;
		}
	}
	crc = ~crc;
	for (i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
#endif
}

/* --- errors -------------------------------------------------------------- */

/* An archive name, fit for a one-line message. */
static const char *label(const char *s, char *buf, size_t cap)
{
	size_t i, w = 0;

	for (i = 0; s[i] && w + 4 < cap && i < 80; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[w++] = (c < 0x20 || c >= 0x7f || c == '\'') ? '?' : (char)c;
	}
	if (s[i] && w + 4 < cap) {
		memcpy(buf + w, "...", 3);
		w += 3;
	}
	buf[w] = '\0';
	return buf;
}

static int __attribute__((format(printf, 4, 5)))
fail(struct rt_unpack *u, const char *path, int errnum, const char *fmt, ...)
{
	char what[200], lab[100];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(what, sizeof what, fmt, ap) < 0)
		what[0] = '\0';
	va_end(ap);
	if (path)
		rt_err_set(&u->err, errnum, "entry '%s': %s", label(path, lab, sizeof lab), what);
	else
		rt_err_set(&u->err, errnum, "%s", what);
	u->failed = 1;
	return -1;
}

/* Take a message from a helper that filled a struct rt_err. */
static int fail_e(struct rt_unpack *u, const char *path, const struct rt_err *e)
{
	char lab[100], msg[RT_ERR_MSG];

	memcpy(msg, e->msg, sizeof msg);
	if (path)
		rt_err_set(&u->err, e->errnum, "entry '%s': %s", label(path, lab, sizeof lab), msg);
	else
		rt_err_set(&u->err, e->errnum, "%s", msg);
	u->failed = 1;
	return -1;
}

/* --- free space ---------------------------------------------------------- */

static int account(struct rt_unpack *u, uint64_t n)
{
	struct statvfs v;
	uint64_t avail;

	u->written += n;
	if (u->o.statfd < 0 || u->written < SPACE_STEP)
		return 0;
	u->written = 0;
	if (fstatvfs(u->o.statfd, &v) < 0)
		return fail(u, NULL, errno, "statvfs store");
	if (v.f_frsize && v.f_bavail > UINT64_MAX / v.f_frsize)
		return 0;
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	if (avail < u->o.reserve + SPACE_STEP)
		return fail(u, NULL, 0, "no space left on the store: it is full (%llu KiB must stay free)",
			    (unsigned long long)(u->o.reserve >> 10));
	return 0;
}

/* --- applying entries ---------------------------------------------------- */

static void drop_parent(struct rt_unpack *u)
{
	rt_io_close(&u->pfd);
	u->ppath[0] = '\0';
}

/* The parent directory of path (created like mkdir -p, no symlink
 * followed), kept open while the next entries are in the same one. */
static int parent(struct rt_unpack *u, const char *path, size_t plen)
{
	struct rt_err e;
	char dir[RT_TAR_PATH_MAX];

	if (u->pfd >= 0 && strlen(u->ppath) == plen && !memcmp(u->ppath, path, plen))
		return u->pfd;
	drop_parent(u);
	memcpy(dir, path, plen);
	dir[plen] = '\0';
	if (plen == 0)
		u->pfd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 0);
	else
		u->pfd = rt_path_mkdirs(u->rootfd, dir, 0755, &e);
	if (u->pfd < 0) {
		if (plen == 0)
			return fail(u, path, errno, "dup");
		if (e.errnum == ELOOP || e.errnum == ENOTDIR)
			return fail(u, path, 0, "a parent is a symlink or a file (never followed)");
		return fail_e(u, path, &e);
	}
	memcpy(u->ppath, dir, plen + 1);
	return u->pfd;
}

static void times_of(int64_t mtime, struct timespec ts[2])
{
	time_t t = (time_t)mtime;

	/* only a 32-bit time_t can fail to hold it */
	if ((int64_t)t != mtime)
		t = mtime < 0 ? 0 : (time_t)INT32_MAX;
	ts[0].tv_sec = ts[1].tv_sec = t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
}

static int keep_xattr(const char *name)
{
	return !strncmp(name, "user.", 5) || !strcmp(name, "security.capability");
}

/* Owner, then mode (chown clears setuid), then xattrs (writing and chown
 * clear security.capability), on an fd that is the object itself. */
static int meta_fd(struct rt_unpack *u, int fd, const struct rt_tar_entry *en)
{
	size_t i;

	if (fchown(fd, en->uid, en->gid) < 0)
		return fail(u, en->path, errno, "chown");
	if (fchmod(fd, en->mode) < 0)
		return fail(u, en->path, errno, "chmod");
	for (i = 0; i < en->nxattr; i++) {
		const struct rt_tar_xattr *x = &en->xattr[i];

		if (!keep_xattr(x->name))
			continue;
		if (fsetxattr(fd, x->name, x->value, x->len, 0) < 0)
			return fail(u, en->path, errno, "set xattr %s", x->name);
	}
	return 0;
}

static int push_dir_time(struct rt_unpack *u, const char *path, int64_t mtime)
{
	size_t n = strlen(path) + 1 + sizeof mtime;

	if (u->dlen + n > u->dcap) {
		size_t cap = u->dcap ? u->dcap * 2 : 16384;
		char *d;

		while (cap < u->dlen + n)
			cap *= 2;
		if (cap > DIRS_MAX)
			return fail(u, path, 0, "too many directories in the layer");
		d = realloc(u->dirs, cap);
		if (!d)
			return fail(u, path, errno, "directory list");
		u->dirs = d;
		u->dcap = cap;
	}
	memcpy(u->dirs + u->dlen, &mtime, sizeof mtime);
	memcpy(u->dirs + u->dlen + sizeof mtime, path, n - sizeof mtime);
	u->dlen += n;
	return 0;
}

static int set_dir_times(struct rt_unpack *u)
{
	size_t pos = 0;

	while (pos < u->dlen) {
		struct timespec ts[2];
		const char *path = u->dirs + pos + sizeof(int64_t);
		int64_t mtime;
		struct rt_err e;
		int fd;

		memcpy(&mtime, u->dirs + pos, sizeof mtime);
		pos += sizeof mtime + strlen(path) + 1;
		/* Gone or replaced by a later entry: nothing to do. */
		fd = rt_path_open(u->rootfd, path, O_RDONLY | O_DIRECTORY, 0, &e);
		if (fd < 0)
			continue;
		times_of(mtime, ts);
		if (futimens(fd, ts) < 0) {
			close(fd);
			return fail(u, path, errno, "set times");
		}
		close(fd);
	}
	return 0;
}

static int whiteout(struct rt_unpack *u, const struct rt_tar_entry *en, int pfd,
		    const char *name)
{
	struct stat st;

	if (!strcmp(name, ".wh..opq")) {
		if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return fail(u, en->path, errno, "mark directory opaque");
		return 0;
	}
	if (!strncmp(name, ".wh.", 4))
		return 0;       /* aufs bookkeeping (.wh..wh.plnk, ...) */
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return fail(u, en->path, 0, "bad whiteout name");
	/* A whiteout hides lower layers only; a same-layer file stays. */
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(pfd, name, S_IFCHR, makedev(0, 0)) < 0)
		return fail(u, en->path, errno, "create whiteout");
	return 0;
}

static int hardlink(struct rt_unpack *u, const struct rt_tar_entry *en, int pfd,
		    const char *leaf)
{
	char tleaf[RT_NAME_MAX + 1];
	struct rt_err e;
	struct stat st;
	int tfd;

	if (!strcmp(en->linkpath, en->path))
		return fail(u, en->path, 0, "hardlink to itself");
	tfd = rt_path_parent(u->rootfd, en->linkpath, tleaf, &e);
	if (tfd < 0)
		return fail(u, en->path, e.errnum, "hardlink target not in the layer");
	if (fstatat(tfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(tfd);
		return fail(u, en->path, errno, "hardlink target not in the layer");
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		close(tfd);
		return fail(u, en->path, 0, "hardlink to a directory or device");
	}
	/* flags 0: a symlink target is linked as itself, never followed */
	if (linkat(tfd, tleaf, pfd, leaf, 0) < 0) {
		close(tfd);
		return fail(u, en->path, errno, "hardlink");
	}
	close(tfd);
	return 0;
}

static int node(struct rt_unpack *u, const struct rt_tar_entry *en, int pfd,
		const char *leaf)
{
	struct timespec ts[2];
	mode_t type = S_IFIFO;
	dev_t dev = 0;

	if (en->type == RT_TAR_CHAR || en->type == RT_TAR_BLOCK) {
		if (!u->o.allow_devices)
			return fail(u, en->path, 0, "device node refused");
		type = en->type == RT_TAR_CHAR ? S_IFCHR : S_IFBLK;
		dev = makedev(en->devmajor, en->devminor);
	}
	if (mknodat(pfd, leaf, type | 0600, dev) < 0)
		return fail(u, en->path, errno, "mknod");
	if (fchownat(pfd, leaf, en->uid, en->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(u, en->path, errno, "chown");
	/* the name was just made by us in a directory only we write */
	if (fchmodat(pfd, leaf, en->mode, 0) < 0)
		return fail(u, en->path, errno, "chmod");
	times_of(en->mtime, ts);
	if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(u, en->path, errno, "set times");
	return 0;
}

static int entry(struct rt_unpack *u, const struct rt_tar_entry *en)
{
	const char *path = en->path, *slash, *leaf;
	struct timespec ts[2];
	unsigned depth = 1;
	struct stat st;
	int pfd, fd;
	size_t plen;

	if (++u->entries > u->o.lim.entries)
		return fail(u, NULL, 0, "more than %llu entries in the layer",
			    (unsigned long long)u->o.lim.entries);
	for (const char *c = path; *c; c++)
		depth += *c == '/';
	if (depth > u->o.lim.depth)
		return fail(u, path, 0, "path deeper than %u components", u->o.lim.depth);
	if (account(u, ENTRY_COST) < 0)
		return -1;
	if (!*path) {
		/* "./": the layer's root directory takes its metadata */
		if (meta_fd(u, u->rootfd, en) < 0)
			return -1;
		return push_dir_time(u, "", en->mtime);
	}
	slash = strrchr(path, '/');
	leaf = slash ? slash + 1 : path;
	plen = slash ? (size_t)(slash - path) : 0;
	if (strlen(leaf) > RT_NAME_MAX)
		return fail(u, path, 0, "name too long");
	pfd = parent(u, path, plen);
	if (pfd < 0)
		return -1;
	if (!strncmp(leaf, ".wh.", 4))
		return whiteout(u, en, pfd, leaf + 4);

	if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (en->type == RT_TAR_DIR && S_ISDIR(st.st_mode))
			goto dir_meta;
		if (S_ISDIR(st.st_mode)) {
			struct rt_err e;

			drop_parent(u);     /* it may lie below what goes */
			pfd = parent(u, path, plen);
			if (pfd < 0)
				return -1;
			if (rt_store_rmtree(pfd, leaf, &e) < 0)
				return fail_e(u, path, &e);
		} else if (unlinkat(pfd, leaf, 0) < 0) {
			return fail(u, path, errno, "replace");
		}
	} else if (errno != ENOENT) {
		return fail(u, path, errno, "stat");
	}

	switch (en->type) {
	case RT_TAR_FILE:
		u->fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (u->fd < 0)
			return fail(u, path, errno, "create");
		u->crc = 0;
		return 0;
	case RT_TAR_DIR:
		if (mkdirat(pfd, leaf, 0700) < 0)
			return fail(u, path, errno, "mkdir");
	dir_meta:
		fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return fail(u, path, errno, "open directory");
		if (meta_fd(u, fd, en) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
		return push_dir_time(u, path, en->mtime);
	case RT_TAR_SYMLINK:
		if (symlinkat(en->linkpath, pfd, leaf) < 0)
			return fail(u, path, errno, "symlink");
		if (fchownat(pfd, leaf, en->uid, en->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return fail(u, path, errno, "chown");
		times_of(en->mtime, ts);
		if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return fail(u, path, errno, "set times");
		return 0;
	case RT_TAR_HARDLINK:
		return hardlink(u, en, pfd, leaf);
	case RT_TAR_FIFO:
	case RT_TAR_CHAR:
	case RT_TAR_BLOCK:
		return node(u, en, pfd, leaf);
	}
	return fail(u, path, 0, "unknown entry type");
}

/* Inode numbers may be reused after an unlink; the sequence number tells
 * the newest entry of a number, which is the file that now has it. */
static int remember_crc(struct rt_unpack *u, const struct rt_tar_entry *en)
{
	struct stat st;

	if (fstat(u->fd, &st) < 0)
		return fail(u, en->path, errno, "stat");
	if (u->ncrc == u->crccap) {
		size_t cap = u->crccap ? 2 * u->crccap : 1024;
		void *v = realloc(u->crcs, cap * sizeof *u->crcs);

		if (!v)
			return fail(u, en->path, errno, "file list");
		u->crcs = v;
		u->crccap = cap;
	}
	u->crcs[u->ncrc].ino = (uint64_t)st.st_ino;
	u->crcs[u->ncrc].crc = u->crc;
	u->crcs[u->ncrc].seq = (uint32_t)u->ncrc;
	u->crcs[u->ncrc].counted = 0;
	u->ncrc++;
	return 0;
}

static int entry_end(struct rt_unpack *u, const struct rt_tar_entry *en)
{
	struct timespec ts[2];
	int r;

	if (u->fd < 0)
		return 0;
	r = meta_fd(u, u->fd, en);
	if (r == 0)
		r = remember_crc(u, en);
	times_of(en->mtime, ts);
	if (r == 0 && futimens(u->fd, ts) < 0)
		r = fail(u, en->path, errno, "set times");
	if (close(u->fd) < 0 && r == 0)
		r = fail(u, en->path, errno, "close");
	u->fd = -1;
	return r;
}

static int data(struct rt_unpack *u, const struct rt_tar_entry *en,
		const uint8_t *p, size_t n)
{
	struct rt_err e;

	if (u->fd < 0)
		return 0;
	u->crc = rt_unpack_crc32(u->crc, p, n);
	if (rt_io_write_all(u->fd, p, n, &e) < 0)
		return fail_e(u, en->path, &e);
	return account(u, n);
}

static int feed_tar(struct rt_unpack *u, const uint8_t *p, size_t len)
{
	struct rt_tar_ev ev;

	if (len > u->o.lim.layer_bytes - u->out)
		return fail(u, NULL, 0, "layer expands to more than %llu bytes",
			    (unsigned long long)u->o.lim.layer_bytes);
	u->out += len;
	if (u->o.check_diff)
		rt_sha256_update(&u->hd, p, len);
	for (;;) {
		size_t used = rt_tar_push(&u->tar, p, len, &ev);

		p += used;
		len -= used;
		switch (ev.kind) {
		case RT_TAR_EV_NONE:
			return 0;
		case RT_TAR_EV_ERROR: {
			struct rt_err e;

			rt_tar_error(&u->tar, &e);
			return fail_e(u, NULL, &e);
		}
		case RT_TAR_EV_ENTRY:
			if (entry(u, ev.entry) < 0)
				return -1;
			break;
		case RT_TAR_EV_DATA:
			if (data(u, ev.entry, ev.data, ev.len) < 0)
				return -1;
			break;
		case RT_TAR_EV_ENTRY_END:
			if (entry_end(u, ev.entry) < 0)
				return -1;
			break;
		case RT_TAR_EV_END:
			break;
		}
	}
}

#if IS_ENABLED(CONFIG_GZIP)
static int feed_gzip(struct rt_unpack *u, const uint8_t *p, size_t len)
{
	z_stream *z = &u->z;

	z->next_in = (Bytef *)(uintptr_t)p;
	z->avail_in = (uInt)len;
	do {
		size_t produced;
		int r;

		if (u->zend) {
			if (z->avail_in == 0)
				break;
			/* Concatenated members are one gzip stream (RFC 1952,
			 * and what zcat and Go do); anything else after the
			 * end is an error below. */
			if (inflateReset(z) != Z_OK)
				return fail(u, NULL, 0, "gzip: reset failed");
			u->zend = 0;
			u->members++;
		}
		z->next_out = u->zout;
		z->avail_out = sizeof u->zout;
		r = inflate(z, Z_NO_FLUSH);
		produced = sizeof u->zout - z->avail_out;
		if (r == Z_STREAM_END)
			u->zend = 1;
		else if (r != Z_OK && !(r == Z_BUF_ERROR && z->avail_in == 0))
			return fail(u, NULL, 0, "gzip: %s%s",
				    z->msg ? z->msg : "corrupt stream",
				    u->members ? " (after the end of the stream)" : "");
		if (produced && feed_tar(u, u->zout, produced) < 0)
			return -1;
	} while (z->avail_in > 0 || z->avail_out == 0);
	return 0;
}
#endif

struct rt_unpack *rt_unpack_new(int rootfd, const struct rt_unpack_opts *o,
				struct rt_err *e)
{
	struct rt_unpack *u;

	if (o->comp == RT_UNPACK_GZIP && !IS_ENABLED(CONFIG_GZIP)) {
		rt_err_set(e, 0, "gzip layers are not supported by this build");
		return NULL;
	}
	u = calloc(1, sizeof *u);
	if (!u) {
		rt_err_sys(e, "unpack");
		return NULL;
	}
	u->o = *o;
	u->rootfd = rootfd;
	u->fd = u->pfd = -1;
	rt_sha256_init(&u->h);
	rt_sha256_init(&u->hd);
	rt_tar_init(&u->tar, u->o.lim.layer_bytes);
#if IS_ENABLED(CONFIG_GZIP)
	if (o->comp == RT_UNPACK_GZIP) {
		if (inflateInit2(&u->z, 16 + MAX_WBITS) != Z_OK) {
			free(u);
			rt_err_set(e, 0, "gzip: cannot start inflating");
			return NULL;
		}
		u->zinit = 1;
	}
#endif
	/* Implicit parent directories are 0755 as in Docker, whatever the
	 * caller's umask; explicit modes are set with chmod anyway. */
	u->umask = umask(022);
	return u;
}

int rt_unpack_push(struct rt_unpack *u, const void *buf, size_t len, struct rt_err *e)
{
	if (u->failed)
		goto out;
	if (len > u->o.size - u->in) {
		fail(u, NULL, 0, "blob is larger than its descriptor says (%llu bytes)",
		     (unsigned long long)u->o.size);
		goto out;
	}
	u->in += len;
	rt_sha256_update(&u->h, buf, len);
	if (u->o.blobfd >= 0) {
		struct rt_err we;

		if (rt_io_write_all(u->o.blobfd, buf, len, &we) < 0) {
			fail_e(u, NULL, &we);
			goto out;
		}
	}
#if IS_ENABLED(CONFIG_GZIP)
	if (u->o.comp == RT_UNPACK_GZIP) {
		feed_gzip(u, buf, len);
		goto out;
	}
#endif
	feed_tar(u, buf, len);
out:
	if (u->failed) {
		*e = u->err;
		return -1;
	}
	return 0;
}

int rt_unpack_finish(struct rt_unpack *u, struct rt_unpack_stats *st, struct rt_err *e)
{
	uint8_t got[RT_SHA256_LEN];

	if (u->failed)
		goto out;
	if (u->in != u->o.size) {
		fail(u, NULL, 0, "blob is %llu bytes, its descriptor says %llu",
		     (unsigned long long)u->in, (unsigned long long)u->o.size);
		goto out;
	}
	rt_sha256_final(&u->h, got);
	if (memcmp(got, u->o.digest, sizeof got) != 0) {
		char g[RT_SHA256_STR];

		rt_sha256_format(got, g);
		fail(u, NULL, 0, "digest mismatch: content is %s", g);
		goto out;
	}
#if IS_ENABLED(CONFIG_GZIP)
	if (u->o.comp == RT_UNPACK_GZIP && !u->zend) {
		fail(u, NULL, 0, "gzip: truncated stream");
		goto out;
	}
#endif
	{
		struct rt_err te;

		if (rt_tar_finish(&u->tar, &te) < 0) {
			fail_e(u, NULL, &te);
			goto out;
		}
	}
	if (u->o.check_diff) {
		rt_sha256_final(&u->hd, got);
		if (memcmp(got, u->o.diff_id, sizeof got) != 0) {
			char g[RT_SHA256_STR];

			rt_sha256_format(got, g);
			fail(u, NULL, 0, "uncompressed digest (diff_id) mismatch: content is %s", g);
			goto out;
		}
	}
	set_dir_times(u);
out:
	if (st) {
		st->in = u->in;
		st->out = u->out;
		st->entries = u->entries;
	}
	if (u->failed) {
		*e = u->err;
		return -1;
	}
	return 0;
}

void rt_unpack_free(struct rt_unpack *u)
{
	if (!u)
		return;
	rt_io_close(&u->fd);
	rt_io_close(&u->pfd);
#if IS_ENABLED(CONFIG_GZIP)
	if (u->zinit)
		inflateEnd(&u->z);
#endif
	umask(u->umask);
	free(u->dirs);
	free(u->crcs);
	free(u);
}

/* --- the record ---------------------------------------------------------- */

struct walk {
	struct rt_unpack_record *r;
	struct crcent *crcs;    /* sorted; NULL: read every file */
	size_t ncrc;
	uint8_t acc[RT_SHA256_LEN];
	char path[RT_PATH_MAX + RT_NAME_MAX + 2];
	uint8_t *buf;
	char *names;
	uint8_t *val;
};

static void put32(struct rt_sha256 *h, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	rt_sha256_update(h, b, 4);
}

static void put64(struct rt_sha256 *h, uint64_t v)
{
	put32(h, (uint32_t)(v >> 32));
	put32(h, (uint32_t)v);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int hash_xattrs(struct walk *w, struct rt_sha256 *h, int fd, struct rt_err *e)
{
	char *v[256];
	ssize_t n = flistxattr(fd, w->names, XATTR_BUF);
	size_t cnt = 0, i;

	if (n < 0) {
		if (errno == ENOTSUP)
			n = 0;
		else
			return rt_err_sys(e, "%s: list xattrs", w->path);
	}
	for (i = 0; i < (size_t)n; i += strlen(w->names + i) + 1) {
		if (cnt == sizeof v / sizeof v[0])
			return rt_err_set(e, 0, "%s: too many xattrs", w->path);
		v[cnt++] = w->names + i;
	}
	if (cnt)
		qsort(v, cnt, sizeof v[0], cmpstr);
	put32(h, (uint32_t)cnt);
	for (i = 0; i < cnt; i++) {
		ssize_t l = fgetxattr(fd, v[i], w->val, XATTR_BUF);

		if (l < 0)
			return rt_err_sys(e, "%s: get xattr %s", w->path, v[i]);
		rt_sha256_update(h, v[i], strlen(v[i]) + 1);
		put32(h, (uint32_t)l);
		rt_sha256_update(h, w->val, (size_t)l);
	}
	return 0;
}

static int crccmp(const void *a, const void *b)
{
	const struct crcent *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The newest CRC taken for this inode, NULL when none (or no table). */
static struct crcent *known(struct walk *w, uint64_t ino)
{
	size_t lo = 0, hi = w->ncrc;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->crcs[mid].ino <= ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && w->crcs[lo - 1].ino == ino ? &w->crcs[lo - 1] : NULL;
}

/* acc += sha256(record) mod 2^256: the sum does not depend on the order
 * in which readdir gives names. */
static void add(uint8_t acc[RT_SHA256_LEN], const uint8_t d[RT_SHA256_LEN])
{
	unsigned c = 0;

	for (int i = RT_SHA256_LEN - 1; i >= 0; i--) {
		c += (unsigned)acc[i] + d[i];
		acc[i] = (uint8_t)c;
		c >>= 8;
	}
}

static int walk_at(struct walk *w, int dirfd, const char *name, size_t plen,
		   int depth, struct rt_err *e)
{
	struct rt_sha256 h;
	uint8_t d[RT_SHA256_LEN];
	struct stat st;
	int fd = -1, r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_err_sys(e, "stat %s", w->path);
	w->r->entries++;
	rt_sha256_init(&h);
	rt_sha256_update(&h, w->path, plen + 1);
	put32(&h, (uint32_t)(st.st_mode & S_IFMT) >> 12);
	put32(&h, (uint32_t)st.st_mode & 07777);
	put32(&h, (uint32_t)st.st_uid);
	put32(&h, (uint32_t)st.st_gid);
	put64(&h, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
	put64(&h, (uint64_t)(int64_t)st.st_mtime);
	put32(&h, major(st.st_rdev));
	put32(&h, minor(st.st_rdev));
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(dirfd, name, (char *)w->buf, RT_PATH_MAX);

		if (n < 0)
			return rt_err_sys(e, "readlink %s", w->path);
		rt_sha256_update(&h, w->buf, (size_t)n);
	} else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
			    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0)
			return rt_err_sys(e, "open %s", w->path);
		if (hash_xattrs(w, &h, fd, e) < 0)
			goto out;
	}
	if (S_ISREG(st.st_mode)) {
		struct crcent *c = known(w, (uint64_t)st.st_ino);
		uint32_t crc = 0;
		ssize_t n;

		if (c) {
			crc = c->crc;
			if (!c->counted)
				w->r->disk += (uint64_t)st.st_blocks * 512;
			c->counted = 1;
		} else {
			while ((n = read(fd, w->buf, ZBUF)) > 0)
				crc = rt_unpack_crc32(crc, w->buf, (size_t)n);
			if (n < 0) {
				r = rt_err_sys(e, "read %s", w->path);
				goto out;
			}
			w->r->disk += (uint64_t)st.st_blocks * 512;
		}
		put32(&h, crc);
		w->r->bytes += (uint64_t)st.st_size;
	} else {
		w->r->disk += (uint64_t)st.st_blocks * 512;
	}
	rt_sha256_final(&h, d);
	add(w->acc, d);
	if (S_ISDIR(st.st_mode)) {
		struct dirent *de;
		DIR *dir;
		int dfd;

		if (depth > WALK_DEPTH) {
			r = rt_err_set(e, 0, "%s: too deep", w->path);
			goto out;
		}
		dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (dfd < 0 || !(dir = fdopendir(dfd))) {
			if (dfd >= 0)
				close(dfd);
			r = rt_err_sys(e, "open %s", w->path);
			goto out;
		}
		while (r == 0 && (errno = 0, de = readdir(dir))) {
			size_t nl = strlen(de->d_name), np;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			np = plen ? plen + 1 + nl : nl;
			if (np >= RT_PATH_MAX) {
				r = rt_err_set(e, 0, "%s: path too long", w->path);
				break;
			}
			if (plen)
				w->path[plen] = '/';
			memcpy(w->path + (plen ? plen + 1 : 0), de->d_name, nl + 1);
			r = walk_at(w, fd, de->d_name, np, depth + 1, e);
			w->path[plen] = '\0';
		}
		if (r == 0 && errno)
			r = rt_err_sys(e, "readdir %s", w->path);
		closedir(dir);
	}
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static int record(int rootfd, struct crcent *crcs, size_t ncrc, struct rt_unpack_record *r,
		  struct rt_err *e)
{
	struct walk w;
	int rr = -1;

	memset(r, 0, sizeof *r);
	memset(&w, 0, sizeof w);
	w.r = r;
	w.crcs = crcs;
	w.ncrc = ncrc;
	w.buf = malloc(ZBUF > RT_PATH_MAX ? ZBUF : RT_PATH_MAX);
	w.names = malloc(XATTR_BUF);
	w.val = malloc(XATTR_BUF);
	if (!w.buf || !w.names || !w.val) {
		rt_err_sys(e, "record");
		goto out;
	}
	rr = walk_at(&w, rootfd, ".", 0, 0, e);
	memcpy(r->tree, w.acc, sizeof w.acc);
out:
	free(w.buf);
	free(w.names);
	free(w.val);
	return rr;
}

int rt_unpack_record(int rootfd, struct rt_unpack_record *r, struct rt_err *e)
{
	return record(rootfd, NULL, 0, r, e);
}

int rt_unpack_record_of(struct rt_unpack *u, struct rt_unpack_record *r, struct rt_err *e)
{
	size_t i;

	if (u->ncrc)
		qsort(u->crcs, u->ncrc, sizeof *u->crcs, crccmp);
	for (i = 0; i < u->ncrc; i++)
		u->crcs[i].counted = 0;
	return record(u->rootfd, u->crcs, u->ncrc, r, e);
}
