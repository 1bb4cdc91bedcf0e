#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "io.h"
#include "kconfig.h"
#include "path.h"
#include "store.h"

#define REFS_FILE "images"
#define REFS_FILE_MAX (RT_STORE_REFS_MAX * (RT_SHA256_STR + RT_STORE_REF_MAX))
#define RMTREE_DEPTH 512
#define INODE_RESERVE 64
#define PARTIAL_DIR "partial"

static int hex_of(const char *digest, char hex[RT_SHA256_HEX], struct rt_err *e)
{
	uint8_t d[RT_SHA256_LEN];

	if (rt_sha256_parse(digest, strlen(digest), d, e) < 0)
		return -1;
	rt_sha256_hex(d, hex);
	return 0;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static int open_dir(int dirfd, const char *name, struct rt_err *e)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return rt_err_sys(e, "mkdir %s", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "open %s", name);
	return fd;
}

static int rmtree_at(int dirfd, const char *name, int depth, struct rt_err *e)
{
	struct dirent *d;
	DIR *dir;
	int fd, r = 0;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return rt_err_sys(e, "remove %s", name);
	if (depth > RMTREE_DEPTH)
		return rt_err_set(e, 0, "remove %s: tree too deep", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "open %s", name);
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return rt_err_sys(e, "opendir %s", name);
	}
	while (r == 0 && (errno = 0, d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		r = rmtree_at(fd, d->d_name, depth + 1, e);
	}
	if (r == 0 && errno)
		r = rt_err_sys(e, "readdir %s", name);
	closedir(dir);
	if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = rt_err_sys(e, "rmdir %s", name);
	return r;
}

int rt_store_rmtree(int dirfd, const char *name, struct rt_err *e)
{
	return rmtree_at(dirfd, name, 0, e);
}

/* Everything under tmp/ belongs to writers that are gone, and so do the
 * temporary files of durable writes in refs/. Only called while holding
 * the lock exclusively. */
static int clean_tmp(struct rt_store *s, struct rt_err *e)
{
	struct dirent *d;
	DIR *dir;
	int fd, r = 0;

	fd = openat(s->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(e, "open tmp");
	}
	while (r == 0 && (d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		/* Partial downloads wait there to be resumed (prune drops
		 * them); the directory goes once it is empty. */
		if (!strcmp(d->d_name, PARTIAL_DIR) &&
		    unlinkat(s->tmpfd, PARTIAL_DIR, AT_REMOVEDIR) < 0 && errno != ENOTDIR)
			continue;
		r = rt_store_rmtree(s->tmpfd, d->d_name, e);
	}
	closedir(dir);
	if (r < 0)
		return rt_err_wrap(e, "empty tmp");
	fd = openat(s->refsfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(e, "open refs");
	}
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, ".tmp-", 5))
			unlinkat(s->refsfd, d->d_name, 0);
	closedir(dir);
	return 0;
}

static int lock_wait(int fd, int op)
{
	int r;

	do
		r = flock(fd, op);
	while (r < 0 && errno == EINTR);
	return r;
}

int rt_store_open(struct rt_store *s, const char *root, enum rt_store_mode mode,
		  struct rt_err *e)
{
	struct stat st;
	int alone;

	memset(s, 0, sizeof *s);
	s->rootfd = s->lockfd = s->blobfd = s->layerfd = s->refsfd = s->tmpfd = -1;
	s->stagefd = s->partfd = -1;
	s->reserve = (uint64_t)CONFIG_STORE_RESERVE_KB * 1024;
	if (root[0] != '/')
		return rt_err_set(e, 0, "store root %s: not an absolute path", root);
	if (strlen(root) >= sizeof s->root)
		return rt_err_set(e, 0, "store root: path too long");
	strcpy(s->root, root);
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return rt_err_sys(e, "create store %s", root);
	s->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0)
		return rt_err_sys(e, "open store %s", root);
	/* Unpacked layers hold setuid binaries and image secrets: nobody but
	 * root may even look. */
	if (fstat(s->rootfd, &st) < 0 ||
	    ((st.st_mode & 07777) != 0700 && fchmod(s->rootfd, 0700) < 0)) {
		rt_err_sys(e, "store %s: make it 0700", root);
		goto fail;
	}
	s->lockfd = openat(s->rootfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->lockfd < 0) {
		rt_err_sys(e, "open %s/lock", root);
		goto fail;
	}
	if ((s->blobfd = open_dir(s->rootfd, "blobs", e)) < 0)
		goto fail;
	{
		int b = s->blobfd;

		s->blobfd = open_dir(b, "sha256", e);
		close(b);
		if (s->blobfd < 0)
			goto fail;
	}
	if ((s->layerfd = open_dir(s->rootfd, "layers", e)) < 0 ||
	    (s->refsfd = open_dir(s->rootfd, "refs", e)) < 0 ||
	    (s->tmpfd = open_dir(s->rootfd, "tmp", e)) < 0)
		goto fail;

	/* Alone in the store, if only for an instant: whatever is in tmp/
	 * belongs to writers that are gone, and goes while we hold the lock
	 * exclusively. Converting it to shared afterwards is not atomic: an
	 * exclusive user may come in between, which is fine, we wait. */
	alone = flock(s->lockfd, LOCK_EX | LOCK_NB) == 0;
	if (!alone && errno != EWOULDBLOCK) {
		rt_err_sys(e, "lock store");
		goto fail;
	}
	if (!alone) {
		if (lock_wait(s->lockfd, mode == RT_STORE_EXCL ? LOCK_EX : LOCK_SH) < 0) {
			rt_err_sys(e, "lock store");
			goto fail;
		}
		alone = mode == RT_STORE_EXCL;
	}
	if (alone && clean_tmp(s, e) < 0)
		goto fail;
	if (mode == RT_STORE_SHARED && lock_wait(s->lockfd, LOCK_SH) < 0) {
		rt_err_sys(e, "lock store (shared)");
		goto fail;
	}
	return 0;
fail:
	rt_store_close(s);
	return -1;
}

void rt_store_close(struct rt_store *s)
{
	struct rt_err e;

	if (s->stagefd >= 0) {
		rt_store_rmtree(s->tmpfd, s->stage, &e);
		rt_io_close(&s->stagefd);
	}
	rt_io_close(&s->partfd);
	rt_io_close(&s->tmpfd);
	rt_io_close(&s->refsfd);
	rt_io_close(&s->layerfd);
	rt_io_close(&s->blobfd);
	rt_io_close(&s->lockfd);    /* and with it the lock */
	rt_io_close(&s->rootfd);
}

int rt_store_blob_has(struct rt_store *s, const char *digest)
{
	char hex[RT_SHA256_HEX];
	struct rt_err e;
	struct stat st;

	if (hex_of(digest, hex, &e) < 0)
		return 0;
	return fstatat(s->blobfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int rt_store_blob_open(struct rt_store *s, const char *digest, struct rt_err *e)
{
	char hex[RT_SHA256_HEX];
	int fd;

	if (hex_of(digest, hex, e) < 0)
		return -1;
	fd = openat(s->blobfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "blob %s", digest);
	return fd;
}

int rt_store_blob_read(struct rt_store *s, const char *digest, void *buf,
		       size_t cap, size_t *len, struct rt_err *e)
{
	uint8_t want[RT_SHA256_LEN], got[RT_SHA256_LEN];
	char hex[RT_SHA256_HEX];

	if (rt_sha256_parse(digest, strlen(digest), want, e) < 0)
		return -1;
	rt_sha256_hex(want, hex);
	if (rt_io_read_file(s->blobfd, hex, buf, cap, len, e) < 0)
		return rt_err_wrap(e, "blob %s", digest);
	rt_sha256_buf(buf, *len, got);
	if (memcmp(want, got, sizeof want) != 0)
		return rt_err_set(e, 0, "blob %s: content does not match its digest", digest);
	return 0;
}

int rt_store_stage(struct rt_store *s, struct rt_err *e)
{
	int tries;

	if (s->stagefd >= 0)
		return s->stagefd;
	for (tries = 0; tries < 16; tries++) {
		uint32_t rnd = 0;

		if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) < 0)
			rnd = (uint32_t)tries;
		snprintf(s->stage, sizeof s->stage, "s-%ld-%08x", (long)getpid(), (unsigned)rnd);
		if (mkdirat(s->tmpfd, s->stage, 0700) == 0)
			break;
		if (errno != EEXIST)
			return rt_err_sys(e, "create staging dir");
	}
	if (tries == 16)
		return rt_err_set(e, 0, "no free staging dir name");
	s->stagefd = openat(s->tmpfd, s->stage, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->stagefd < 0)
		return rt_err_sys(e, "open staging dir");
	return s->stagefd;
}

int rt_store_stage_blob(struct rt_store *s, const char *digest, const void *buf,
			size_t len, struct rt_err *e)
{
	uint8_t want[RT_SHA256_LEN], got[RT_SHA256_LEN];
	char name[2 + RT_SHA256_HEX];
	int fd, r;

	if (rt_sha256_parse(digest, strlen(digest), want, e) < 0)
		return -1;
	rt_sha256_buf(buf, len, got);
	if (memcmp(want, got, sizeof want) != 0)
		return rt_err_set(e, 0, "blob %s: content does not match its digest", digest);
	if (rt_store_stage(s, e) < 0 || rt_store_space(s, len, e) < 0)
		return -1;
	name[0] = 'b';
	name[1] = '-';
	rt_sha256_hex(want, name + 2);
	fd = openat(s->stagefd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return rt_err_sys(e, "stage blob %s", digest);
	r = rt_io_write_all(fd, buf, len, e);
	close(fd);
	if (r < 0)
		return rt_err_wrap(e, "stage blob %s", digest);
	return 0;
}

int rt_store_layer_has(struct rt_store *s, const char *digest)
{
	char hex[RT_SHA256_HEX];
	struct rt_err e;
	struct stat st;

	if (hex_of(digest, hex, &e) < 0)
		return 0;
	return fstatat(s->layerfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

int rt_store_layer_path(const struct rt_store *s, const char *digest, char *buf,
			size_t cap, struct rt_err *e)
{
	char hex[RT_SHA256_HEX];
	int n;

	if (hex_of(digest, hex, e) < 0)
		return -1;
	n = snprintf(buf, cap, "%s%slayers/%s/diff", s->root,
		     s->root[strlen(s->root) - 1] == '/' ? "" : "/", hex);
	if (n < 0 || (size_t)n >= cap)
		return rt_err_set(e, 0, "layer path too long");
	return 0;
}

int rt_store_layer_open(struct rt_store *s, const char *digest, struct rt_err *e)
{
	char hex[RT_SHA256_HEX];
	int fd;

	if (hex_of(digest, hex, e) < 0)
		return -1;
	fd = openat(s->layerfd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "layer %s", digest);
	return fd;
}

/* Rename the staged objects of one kind ('b' or 'l') to their final names. */
static int commit_kind(struct rt_store *s, char kind, struct rt_err *e)
{
	struct dirent *d;
	DIR *dir;
	int fd, r = 0;

	fd = openat(s->stagefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(e, "open staging dir");
	}
	while (r == 0 && (errno = 0, d = readdir(dir))) {
		const char *n = d->d_name;

		if (n[0] != kind || n[1] != '-' || !is_hex64(n + 2))
			continue;
		if (kind == 'b') {
			/* Same name, same bytes: replacing is harmless. */
			if (renameat(s->stagefd, n, s->blobfd, n + 2) < 0)
				r = rt_err_sys(e, "commit blob %s", n + 2);
		} else if (renameat(s->stagefd, n, s->layerfd, n + 2) < 0 &&
			   errno != EEXIST && errno != ENOTEMPTY) {
			r = rt_err_sys(e, "commit layer %s", n + 2);
		}
	}
	if (r == 0 && errno)
		r = rt_err_sys(e, "read staging dir");
	closedir(dir);
	return r;
}

int rt_store_commit(struct rt_store *s, struct rt_err *e)
{
	if (s->stagefd < 0)
		return 0;
	/* One flush for every file and directory staged: far cheaper on
	 * flash than an fsync per unpacked file, and the renames below are
	 * only issued once it returned. */
	if (syncfs(s->stagefd) < 0)
		return rt_err_sys(e, "sync store");
	/* Blobs first: a layer under its final name is what a later load
	 * skips, so its kept blob must be there by then. */
	if (commit_kind(s, 'b', e) < 0 || rt_io_fsync_dir(s->blobfd, e) < 0 ||
	    commit_kind(s, 'l', e) < 0 || rt_io_fsync_dir(s->layerfd, e) < 0)
		return -1;
	return 0;
}

/* --- partial downloads ---------------------------------------------------- */

static int partial_dir(struct rt_store *s, struct rt_err *e)
{
	if (s->partfd < 0)
		s->partfd = open_dir(s->tmpfd, PARTIAL_DIR, e);
	return s->partfd;
}

int rt_store_partial_open(struct rt_store *s, const char *digest, uint64_t *have,
			  struct rt_err *e)
{
	char hex[RT_SHA256_HEX];
	struct stat st, now;
	int fd;

	*have = 0;
	if (hex_of(digest, hex, e) < 0 || partial_dir(s, e) < 0)
		return -1;
	fd = openat(s->partfd, hex, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return rt_err_sys(e, "partial %s", digest);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rt_err_sys(e, "partial %s", digest);
		close(fd);
		return -1;
	}
	/* The holder before us may have moved it on (to a final name) after
	 * we opened it: only the file still under this name is ours. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fstatat(s->partfd, hex, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
		close(fd);
		return rt_err_set(e, EWOULDBLOCK, "partial %s: in use", digest);
	}
	*have = (uint64_t)st.st_size;
	return fd;
}

int rt_store_partial_stage(struct rt_store *s, const char *digest, struct rt_err *e)
{
	char hex[RT_SHA256_HEX], name[2 + RT_SHA256_HEX];

	if (hex_of(digest, hex, e) < 0 || partial_dir(s, e) < 0 || rt_store_stage(s, e) < 0)
		return -1;
	snprintf(name, sizeof name, "b-%.64s", hex);
	if (renameat(s->partfd, hex, s->stagefd, name) < 0)
		return rt_err_sys(e, "stage blob %s", digest);
	return 0;
}

void rt_store_partial_drop(struct rt_store *s, const char *digest)
{
	char hex[RT_SHA256_HEX];
	struct rt_err e;

	if (hex_of(digest, hex, &e) == 0 && partial_dir(s, &e) >= 0)
		unlinkat(s->partfd, hex, 0);
}

int rt_store_partial_clear(struct rt_store *s, uint64_t *freed, struct rt_err *e)
{
	uint64_t n = 0;

	if (rt_store_du(s->tmpfd, PARTIAL_DIR, &n, e) < 0)
		return -1;
	rt_io_close(&s->partfd);
	if (rt_store_rmtree(s->tmpfd, PARTIAL_DIR, e) < 0)
		return -1;
	*freed += n;
	return 0;
}

int rt_store_space(struct rt_store *s, uint64_t need, struct rt_err *e)
{
	struct statvfs v;
	uint64_t avail;

	if (fstatvfs(s->rootfd, &v) < 0)
		return rt_err_sys(e, "statvfs store");
	if (v.f_frsize && v.f_bavail > UINT64_MAX / v.f_frsize)
		return 0;
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	if (avail < s->reserve || avail - s->reserve < need)
		return rt_err_set(e, ENOSPC, "store: %llu bytes free, %llu reserved: no room for %llu more",
				  (unsigned long long)avail, (unsigned long long)s->reserve,
				  (unsigned long long)need);
	/* tmpfs and some flash filesystems report no inode count at all */
	if (v.f_files && v.f_favail < INODE_RESERVE)
		return rt_err_set(e, ENOSPC, "store: out of inodes");
	return 0;
}

/* --- references ---------------------------------------------------------- */

int rt_store_refs_add(struct rt_refs *r, const char *digest, const char *name,
		      struct rt_err *e)
{
	struct rt_ref *ref;

	if (strlen(digest) >= sizeof ref->digest || strlen(name) >= sizeof ref->name)
		return rt_err_set(e, 0, "reference too long");
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct rt_ref *v;

		if (r->n >= RT_STORE_REFS_MAX)
			return rt_err_set(e, 0, "more than %d image references",
					  RT_STORE_REFS_MAX);
		v = realloc(r->v, cap * sizeof *v);
		if (!v)
			return rt_err_sys(e, "references");
		r->v = v;
		r->cap = cap;
	}
	ref = &r->v[r->n++];
	strcpy(ref->digest, digest);
	strcpy(ref->name, name);
	return 0;
}

void rt_store_refs_del(struct rt_refs *r, size_t i)
{
	if (i >= r->n)
		return;
	memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof r->v[0]);
	r->n--;
}

void rt_store_refs_free(struct rt_refs *r)
{
	free(r->v);
	r->v = NULL;
	r->n = r->cap = 0;
}

static int name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= RT_STORE_REF_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return 1;
}

static int refs_parse(struct rt_refs *r, const char *buf, size_t len, struct rt_err *e)
{
	size_t pos = 0, line = 0;

	while (pos < len) {
		const char *p = buf + pos, *nl = memchr(p, '\n', len - pos);
		char digest[RT_SHA256_STR], name[RT_STORE_REF_MAX];
		uint8_t d[RT_SHA256_LEN];
		size_t n, nn;

		line++;
		if (!nl)
			return rt_err_set(e, 0, "refs/images: line %zu: no newline", line);
		n = (size_t)(nl - p);
		if (n < RT_SHA256_STR + 1 || p[RT_SHA256_STR - 1] != ' ' ||
		    rt_sha256_parse(p, RT_SHA256_STR - 1, d, e) < 0)
			return rt_err_set(e, 0, "refs/images: line %zu: bad digest", line);
		nn = n - RT_SHA256_STR;
		if (!name_ok(p + RT_SHA256_STR, nn))
			return rt_err_set(e, 0, "refs/images: line %zu: bad name", line);
		memcpy(digest, p, RT_SHA256_STR - 1);
		digest[RT_SHA256_STR - 1] = '\0';
		memcpy(name, p + RT_SHA256_STR, nn);
		name[nn] = '\0';
		if (rt_store_refs_add(r, digest, strcmp(name, "-") ? name : "", e) < 0)
			return rt_err_wrap(e, "refs/images");
		pos += n + 1;
	}
	return 0;
}

int rt_store_refs_read(struct rt_store *s, struct rt_refs *r, struct rt_err *e)
{
	size_t len;
	char *buf;
	int rr;

	memset(r, 0, sizeof *r);
	buf = malloc(REFS_FILE_MAX);
	if (!buf)
		return rt_err_sys(e, "references");
	if (rt_io_read_file(s->refsfd, REFS_FILE, buf, REFS_FILE_MAX, &len, e) < 0) {
		free(buf);
		if (e->errnum == ENOENT)
			return 0;
		return -1;
	}
	rr = refs_parse(r, buf, len, e);
	free(buf);
	if (rr < 0)
		rt_store_refs_free(r);
	return rr;
}

static int refs_write(struct rt_store *s, const struct rt_refs *r, struct rt_err *e)
{
	size_t i, len = 0;
	char *buf;
	int rr;

	buf = malloc(REFS_FILE_MAX);
	if (!buf)
		return rt_err_sys(e, "references");
	for (i = 0; i < r->n; i++) {
		const char *name = r->v[i].name[0] ? r->v[i].name : "-";
		int n = snprintf(buf + len, REFS_FILE_MAX - len, "%s %s\n", r->v[i].digest, name);

		if (n < 0 || (size_t)n >= REFS_FILE_MAX - len || !name_ok(name, strlen(name))) {
			free(buf);
			return rt_err_set(e, 0, "refs/images: bad entry");
		}
		len += (size_t)n;
	}
	rr = rt_io_write_file(s->refsfd, REFS_FILE, buf, len, 0600, e);
	free(buf);
	return rr;
}

int rt_store_refs_update(struct rt_store *s,
			 int (*fn)(struct rt_refs *r, void *arg, struct rt_err *e),
			 void *arg, struct rt_err *e)
{
	struct rt_refs r;
	int lk, rr;

	lk = openat(s->refsfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lk < 0)
		return rt_err_sys(e, "open refs/lock");
	if (lock_wait(lk, LOCK_EX) < 0) {
		rt_err_sys(e, "lock refs");
		close(lk);
		return -1;
	}
	rr = rt_store_refs_read(s, &r, e);
	if (rr == 0)
		rr = fn(&r, arg, e);
	if (rr > 0)
		rr = refs_write(s, &r, e);
	rt_store_refs_free(&r);
	close(lk);
	return rr < 0 ? -1 : 0;
}

/* --- garbage collection and disk usage --------------------------------- */

struct inoset {
	struct { dev_t dev; ino_t ino; } *v;
	size_t n, cap;
};

/* 1 when (dev, ino) was seen before; records it otherwise. Linear: only
 * inodes with several links get here, and layers have few of them. */
static int seen(struct inoset *s, const struct stat *st)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino)
			return 1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *v = realloc(s->v, cap * sizeof s->v[0]);

		if (!v)
			return 0;   /* counted twice: an estimate, not an error */
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].dev = st->st_dev;
	s->v[s->n].ino = st->st_ino;
	s->n++;
	return 0;
}

static int du_at(int dirfd, const char *name, int depth, struct inoset *ino,
		 uint64_t *bytes, struct rt_err *e)
{
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd, r = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : rt_err_sys(e, "stat %s", name);
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && seen(ino, &st))
		return 0;
	*bytes += (uint64_t)st.st_blocks * 512;
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (depth > RMTREE_DEPTH)
		return rt_err_set(e, 0, "%s: tree too deep", name);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(e, "open %s", name);
	}
	while (r == 0 && (d = readdir(dir)))
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			r = du_at(fd, d->d_name, depth + 1, ino, bytes, e);
	closedir(dir);
	return r;
}

int rt_store_du(int dirfd, const char *name, uint64_t *bytes, struct rt_err *e)
{
	struct inoset ino = { NULL, 0, 0 };
	int r;

	*bytes = 0;
	r = du_at(dirfd, name, 0, &ino, bytes, e);
	free(ino.v);
	return r;
}

static int sweep_dir(struct rt_store *s, int dirfd, char kind,
		     int (*keep)(void *arg, char kind, const char *hex), void *arg,
		     uint64_t *freed, struct rt_err *e)
{
	struct dirent *d;
	DIR *dir;
	int fd, r = 0;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(e, "open %s", kind == 'b' ? "blobs" : "layers");
	}
	while (r == 0 && (errno = 0, d = readdir(dir))) {
		char dead[2 + RT_SHA256_HEX];
		uint64_t n = 0;

		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (is_hex64(d->d_name) && keep(arg, kind, d->d_name))
			continue;
		if (rt_store_du(dirfd, d->d_name, &n, e) < 0)
			n = 0;
		if (kind == 'b' || !is_hex64(d->d_name)) {
			r = rt_store_rmtree(dirfd, d->d_name, e);
		} else {
			/* Out of its final name in one step, then removed at
			 * leisure (or by the next start if we die). */
			if (snprintf(dead, sizeof dead, "d-%s", d->d_name) >= (int)sizeof dead)
				r = rt_err_set(e, 0, "layer name");
			else if (rt_store_stage(s, e) < 0)
				r = -1;
			else if (renameat(dirfd, d->d_name, s->stagefd, dead) < 0)
				r = rt_err_sys(e, "remove layer %s", d->d_name);
			else
				r = rt_store_rmtree(s->stagefd, dead, e);
		}
		if (r == 0)
			*freed += n;
	}
	if (r == 0 && errno)
		r = rt_err_sys(e, "readdir");
	closedir(dir);
	return r;
}

int rt_store_sweep(struct rt_store *s, int (*keep)(void *arg, char kind, const char *hex),
		   void *arg, uint64_t *freed, struct rt_err *e)
{
	if (sweep_dir(s, s->layerfd, 'l', keep, arg, freed, e) < 0 ||
	    sweep_dir(s, s->blobfd, 'b', keep, arg, freed, e) < 0)
		return rt_err_wrap(e, "gc");
	if (rt_io_fsync_dir(s->layerfd, e) < 0 || rt_io_fsync_dir(s->blobfd, e) < 0)
		return -1;
	return 0;
}
