/* OCI image layouts for mkimage: read one (a directory, or an OCI archive
 * unpacked beside itself into a temporary directory), change it, write it
 * back. Blobs are content-addressed files in blobs/sha256; everything that
 * is read is checked against its digest before it is believed.
 *
 * This is mkimage's own small reader: rt's loader streams archives into its
 * store and never needs a layout on disk, so the two do not share one. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "mkimage.h"
#include "path.h"
#include "tar.h"
#include "trust.h"

#define COPY_BUF 65536

/* ---- blobs ---------------------------------------------------------------- */

int mk_blob_open(struct mk_layout *l, const uint8_t digest[RT_SHA256_LEN],
	uint64_t size, struct rt_err *e)
{
	char hex[RT_SHA256_HEX];
	struct stat st;
	int fd;

	rt_sha256_hex(digest, hex);
	fd = openat(l->blobfd, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "blob sha256:%.12s", hex);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return rt_err_set(e, 0, "blob sha256:%.12s: not a regular file", hex);
	}
	if ((uint64_t)st.st_size != size) {
		close(fd);
		return rt_err_set(e, 0, "blob sha256:%.12s: %lld bytes, descriptor says %llu",
				  hex, (long long)st.st_size, (unsigned long long)size);
	}
	return fd;
}

ssize_t mk_blob_read(struct mk_layout *l, const uint8_t digest[RT_SHA256_LEN],
	uint64_t size, void *buf, size_t cap, struct rt_err *e)
{
	uint8_t got[RT_SHA256_LEN];
	ssize_t n;
	int fd;

	if (size > cap)
		return rt_err_set(e, 0, "blob of %llu bytes, more than %zu",
				  (unsigned long long)size, cap);
	fd = mk_blob_open(l, digest, size, e);
	if (fd < 0)
		return -1;
	n = rt_io_read_full(fd, buf, (size_t)size, e);
	close(fd);
	if (n < 0)
		return -1;
	if ((uint64_t)n != size)
		return rt_err_set(e, 0, "blob: short read");
	rt_sha256_buf(buf, (size_t)n, got);
	if (memcmp(got, digest, sizeof got) != 0) {
		char hex[RT_SHA256_HEX];

		rt_sha256_hex(digest, hex);
		return rt_err_set(e, 0, "blob sha256:%.12s: content does not match its digest", hex);
	}
	return n;
}

int mk_blob_put(struct mk_layout *l, const void *buf, size_t len,
	uint8_t digest[RT_SHA256_LEN], struct rt_err *e)
{
	char hex[RT_SHA256_HEX];

	rt_sha256_buf(buf, len, digest);
	rt_sha256_hex(digest, hex);
	return rt_io_write_file(l->blobfd, hex, buf, len, 0644, e);
}

int mk_blob_begin(struct mk_layout *l, char tmp[32], struct rt_err *e)
{
	return rt_io_tmpfile(l->blobfd, tmp, 0644, e);
}

int mk_blob_end(struct mk_layout *l, int fd, const char *tmp,
	const uint8_t digest[RT_SHA256_LEN], struct rt_err *e)
{
	char hex[RT_SHA256_HEX];
	int rc;

	rt_sha256_hex(digest, hex);
	rc = fchmod(fd, 0644) < 0 ? rt_err_sys(e, "chmod") : 0;
	if (rc == 0)
		rc = rt_io_commit(fd, l->blobfd, tmp, hex, e);
	close(fd);
	if (rc < 0)
		unlinkat(l->blobfd, tmp, 0);
	return rc;
}

int mk_blob_copy(struct mk_layout *to, struct mk_layout *from,
	const uint8_t digest[RT_SHA256_LEN], uint64_t size, struct rt_err *e)
{
	static uint8_t buf[COPY_BUF];
	uint8_t got[RT_SHA256_LEN];
	struct rt_sha256 h;
	char tmp[RT_IO_TMPNAME];
	uint64_t left = size;
	int in, out;

	in = mk_blob_open(from, digest, size, e);
	if (in < 0)
		return -1;
	out = mk_blob_begin(to, tmp, e);
	if (out < 0) {
		close(in);
		return -1;
	}
	rt_sha256_init(&h);
	while (left) {
		size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
		ssize_t n = rt_io_read_full(in, buf, want, e);

		if (n < 0 || (size_t)n != want) {
			if (n >= 0)
				rt_err_set(e, 0, "blob: short read");
			goto fail;
		}
		rt_sha256_update(&h, buf, want);
		if (rt_io_write_all(out, buf, want, e) < 0)
			goto fail;
		left -= want;
	}
	rt_sha256_final(&h, got);
	if (memcmp(got, digest, sizeof got) != 0) {
		rt_err_set(e, 0, "blob: content does not match its digest");
		goto fail;
	}
	close(in);
	return mk_blob_end(to, out, tmp, digest, e);
fail:
	close(in);
	close(out);
	unlinkat(to->blobfd, tmp, 0);
	return -1;
}

/* ---- index.json ------------------------------------------------------------- */

int mk_layout_add(struct mk_layout *l, const struct mk_desc *d, struct rt_err *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct mk_desc *m = realloc(l->m, cap * sizeof *m);

		if (!m)
			return rt_err_sys(e, "out of memory");
		l->m = m;
		l->cap = cap;
	}
	l->m[l->n++] = *d;
	return 0;
}

void mk_layout_remove(struct mk_layout *l, size_t i)
{
	if (i >= l->n)
		return;
	memmove(&l->m[i], &l->m[i + 1], (l->n - i - 1) * sizeof *l->m);
	l->n--;
}

static int plat_str(const struct rt_json *j, int plat, const char *key, char *out,
		    struct rt_err *e)
{
	int v = rt_json_find(j, plat, key);

	out[0] = '\0';
	if (v >= 0 && rt_json_str(j, v, out, MK_PLAT_MAX, e) < 0)
		return rt_err_set(e, 0, "platform.%s: not a short string", key);
	return 0;
}

static int read_index(struct mk_layout *l, struct rt_err *e)
{
	struct mk_json m;
	struct mk_desc d;
	char *buf;
	size_t len;
	int mans, k, i = 0;

	buf = malloc(MK_JSON_MAX);
	if (!buf)
		return rt_err_sys(e, "out of memory");
	if (rt_io_read_file(l->dirfd, "index.json", buf, MK_JSON_MAX, &len, e) < 0 ||
	    mk_json_parse(&m, buf, len, e) < 0) {
		free(buf);
		return rt_err_wrap(e, "%s", l->path);
	}
	mans = rt_json_find(&m.j, 0, "manifests");
	if (rt_json_type(&m.j, mans) != RT_JSON_ARRAY) {
		mk_json_free(&m);
		return rt_err_set(e, 0, "%s: index.json: no manifests", l->path);
	}
	for (k = rt_json_first(&m.j, mans); k >= 0; k = rt_json_next(&m.j, mans, k), i++) {
		int ann = rt_json_find(&m.j, k, "annotations"), ref, plat;

		memset(&d, 0, sizeof d);
		if (mk_json_desc(&m.j, k, d.digest, &d.size, d.media, sizeof d.media, e) < 0)
			goto bad;
		ref = rt_json_find(&m.j, ann, MK_ANN_REF);
		if (ref >= 0 && rt_json_str(&m.j, ref, d.ref, sizeof d.ref, e) < 0)
			goto bad;
		/* Kept as read, so a rewrite of index.json keeps every
		   annotation, not only the name. */
		if (ann >= 0) {
			const struct rt_json_tok *t = &m.j.tok[ann];

			if (t->type != RT_JSON_OBJECT || t->len >= sizeof d.ann) {
				rt_err_set(e, 0, "annotations: not an object of at most %d bytes",
					   MK_ANN_MAX - 1);
				goto bad;
			}
			memcpy(d.ann, m.j.buf + t->start, t->len);
			d.ann[t->len] = '\0';
		}
		plat = rt_json_find(&m.j, k, "platform");
		if (plat_str(&m.j, plat, "architecture", d.arch, e) < 0 ||
		    plat_str(&m.j, plat, "os", d.os, e) < 0 ||
		    plat_str(&m.j, plat, "variant", d.variant, e) < 0)
			goto bad;
		if (mk_layout_add(l, &d, e) < 0)
			goto bad;
	}
	mk_json_free(&m);
	return 0;
bad:
	mk_json_free(&m);
	return rt_err_wrap(e, "%s: index.json: manifest %d", l->path, i);
}

/* The annotations read with d, if any, with the name set to d->ref. */
static int write_annotations(struct rt_json_w *w, const struct mk_desc *d, struct rt_err *e)
{
	const char *ref = d->ref[0] ? d->ref : NULL;
	struct mk_json m = { 0 };
	char *text;
	int r;

	if (!d->ann[0]) {
		if (!ref)
			return 0;
		rt_json_w_key(w, "annotations");
		return mk_json_copy_set(w, NULL, -1, MK_ANN_REF, ref, e);
	}
	text = strdup(d->ann);
	if (!text)
		return rt_err_sys(e, "out of memory");
	if (mk_json_parse(&m, text, strlen(text), e) < 0) {
		free(text);
		return -1;
	}
	if (!ref && rt_json_count(&m.j, 0) == (rt_json_find(&m.j, 0, MK_ANN_REF) >= 0)) {
		mk_json_free(&m);   /* the name was all there was, and it is gone */
		return 0;
	}
	rt_json_w_key(w, "annotations");
	r = mk_json_copy_set(w, &m.j, 0, MK_ANN_REF, ref, e);
	mk_json_free(&m);
	return r;
}

static int write_index(struct mk_layout *l, struct rt_err *e)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	struct mk_jw jw;
	char dig[RT_SHA256_STR];
	size_t i;
	int rc;

	if (mk_jw_init(&jw, e) < 0)
		return -1;
	rt_json_w_obj(&jw.w);
	rt_json_w_key(&jw.w, "manifests");
	rt_json_w_arr(&jw.w);
	for (i = 0; i < l->n; i++) {
		const struct mk_desc *d = &l->m[i];

		rt_sha256_format(d->digest, dig);
		rt_json_w_obj(&jw.w);
		if (write_annotations(&jw.w, d, e) < 0) {
			mk_jw_free(&jw);
			return -1;
		}
		rt_json_w_key(&jw.w, "digest");
		rt_json_w_str(&jw.w, dig);
		rt_json_w_key(&jw.w, "mediaType");
		rt_json_w_str(&jw.w, d->media);
		if (d->arch[0] || d->os[0]) {
			rt_json_w_key(&jw.w, "platform");
			rt_json_w_obj(&jw.w);
			rt_json_w_key(&jw.w, "architecture");
			rt_json_w_str(&jw.w, d->arch);
			rt_json_w_key(&jw.w, "os");
			rt_json_w_str(&jw.w, d->os);
			if (d->variant[0]) {
				rt_json_w_key(&jw.w, "variant");
				rt_json_w_str(&jw.w, d->variant);
			}
			rt_json_w_end(&jw.w);
		}
		rt_json_w_key(&jw.w, "size");
		rt_json_w_u64(&jw.w, d->size);
		rt_json_w_end(&jw.w);
	}
	rt_json_w_end(&jw.w);
	rt_json_w_key(&jw.w, "mediaType");
	rt_json_w_str(&jw.w, MK_MEDIA_INDEX);
	rt_json_w_key(&jw.w, "schemaVersion");
	rt_json_w_u64(&jw.w, 2);
	rt_json_w_end(&jw.w);
	rc = rt_json_w_finish(&jw.w, e);
	if (rc == 0)
		rc = rt_io_write_file(l->dirfd, "oci-layout", layout, sizeof layout - 1, 0644, e);
	if (rc == 0)
		rc = rt_io_write_file(l->dirfd, "index.json", jw.buf, jw.w.len, 0644, e);
	mk_jw_free(&jw);
	return rc < 0 ? rt_err_wrap(e, "%s", l->path) : 0;
}

int mk_layout_images(const struct mk_layout *l, const char *ref, size_t *out,
	size_t max, struct rt_err *e)
{
	size_t i, k, n = 0;

	for (i = 0; i < l->n; i++) {
		const struct mk_desc *d = &l->m[i];
		bool seen = false;

		if (rt_trust_is_sig_ref(d->ref, NULL))
			continue;
		if (ref && strcmp(d->ref, ref) != 0)
			continue;
		for (k = 0; k < n; k++)
			if (!memcmp(l->m[out[k]].digest, d->digest, RT_SHA256_LEN))
				seen = true;
		if (seen)
			continue;
		if (n == max)
			return rt_err_set(e, 0, "%s: more than %zu images", l->path, max);
		out[n++] = i;
	}
	if (n == 0)
		return rt_err_set(e, 0, "%s: no image%s%s", l->path, ref ? " named " : "",
				  ref ? ref : "");
	return (int)n;
}

/* ---- the directory ------------------------------------------------------------ */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p) < 0 && errno != ENOENT ? -1 : 0;
}

int mk_rmtree(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A temporary directory: beside path when it becomes path (the final
 * rename stays on one filesystem), else in $TMPDIR. */
static int stage_dir(struct mk_layout *l, const char *path, bool beside, struct rt_err *e)
{
	char copy[4096], copy2[4096], *dir, *base;
	const char *tmp = getenv("TMPDIR");
	mode_t um;
	int n;

	if (strlen(path) >= sizeof copy)
		return rt_err_set(e, 0, "%s: path too long", path);
	strcpy(copy, path);
	strcpy(copy2, path);
	base = basename(copy);
	dir = beside ? dirname(copy2) : (char *)(tmp && *tmp ? tmp : "/tmp");
	n = snprintf(l->dir, sizeof l->dir, "%s/.%s.mkimage-XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= sizeof l->dir)
		return rt_err_set(e, 0, "%s: path too long", path);
	if (!mkdtemp(l->dir))
		return rt_err_sys(e, "%s: temporary directory", l->dir);
	l->staged = true;
	/* mkdtemp makes it 0700; the layout it becomes gets the usual mode */
	um = umask(0);
	umask(um);
	if (chmod(l->dir, 0777 & ~um) < 0)
		return rt_err_sys(e, "%s: chmod", l->dir);
	return 0;
}

static int open_dirs(struct mk_layout *l, struct rt_err *e)
{
	l->dirfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return rt_err_sys(e, "%s", l->path);
	l->blobfd = rt_path_mkdirs(l->dirfd, "blobs/sha256", 0755, e);
	if (l->blobfd < 0)
		return rt_err_wrap(e, "%s", l->path);
	return 0;
}

static void init(struct mk_layout *l, const char *path)
{
	memset(l, 0, sizeof *l);
	l->dirfd = l->blobfd = -1;
	snprintf(l->path, sizeof l->path, "%s", path);
}

/* An OCI archive's files into the staging directory: oci-layout,
 * index.json and blobs/sha256/<hex>; directories are implied, anything
 * else is refused. */
static int unpack_archive(struct mk_layout *l, int in, struct rt_err *e)
{
	static uint8_t buf[COPY_BUF];
	struct rt_tar *t = malloc(sizeof *t);
	struct rt_tar_ev ev;
	int out = -1, rc = -1;
	ssize_t n;

	if (!t)
		return rt_err_sys(e, "out of memory");
	rt_tar_init(t, 0);
	while ((n = rt_io_read_full(in, buf, sizeof buf, e)) > 0) {
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
				const char *name = en->path;
				int dfd = l->dirfd;

				if (en->type == RT_TAR_DIR)
					continue;
				if (!strncmp(name, "blobs/sha256/", 13)) {
					uint8_t d[RT_SHA256_LEN];

					name += 13;
					if (rt_sha256_parse_hex(name, strlen(name), d, e) < 0) {
						rt_err_set(e, 0, "%s: not a blob name", en->path);
						goto out;
					}
					dfd = l->blobfd;
				} else if (strcmp(name, "index.json") != 0 && strcmp(name, "oci-layout") != 0) {
					rt_err_set(e, 0, "%s: not part of an OCI layout", en->path);
					goto out;
				}
				if (en->type != RT_TAR_FILE) {
					rt_err_set(e, 0, "%s: not a regular file", en->path);
					goto out;
				}
				out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
				if (out < 0) {
					rt_err_sys(e, "%s", en->path);
					goto out;
				}
			} else if (ev.kind == RT_TAR_EV_DATA) {
				if (rt_io_write_all(out, ev.data, ev.len, e) < 0)
					goto out;
			} else if (ev.kind == RT_TAR_EV_ENTRY_END) {
				if (out >= 0 && close(out) < 0) {
					out = -1;
					rt_err_sys(e, "write");
					goto out;
				}
				out = -1;
			}
		}
	}
	if (n == 0)
		rc = rt_tar_finish(t, e);
out:
	if (out >= 0)
		close(out);
	free(t);
	return rc;
}

int mk_layout_open(struct mk_layout *l, const char *path, struct rt_err *e)
{
	struct stat st;
	int in, rc;

	init(l, path);
	if (stat(path, &st) < 0)
		return rt_err_sys(e, "%s", path);
	if (S_ISDIR(st.st_mode)) {
		snprintf(l->dir, sizeof l->dir, "%s", path);
		if (open_dirs(l, e) < 0)
			goto fail;
		if (faccessat(l->dirfd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
			rt_err_sys(e, "%s: not an OCI layout (oci-layout)", path);
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		l->archive = true;
		if (stage_dir(l, path, false, e) < 0 || open_dirs(l, e) < 0)
			goto fail;
		in = open(path, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			rt_err_sys(e, "%s", path);
			goto fail;
		}
		rc = unpack_archive(l, in, e);
		close(in);
		if (rc < 0) {
			rt_err_wrap(e, "%s: not an OCI archive", path);
			goto fail;
		}
	} else {
		rt_err_set(e, 0, "%s: neither a layout directory nor an archive", path);
		goto fail;
	}
	if (read_index(l, e) < 0)
		goto fail;
	return 0;
fail:
	mk_layout_close(l);
	return -1;
}

int mk_layout_create(struct mk_layout *l, const char *out, bool archive,
	struct rt_err *e)
{
	init(l, out);
	l->archive = archive;
	if (stage_dir(l, out, true, e) < 0 || open_dirs(l, e) < 0) {
		mk_layout_close(l);
		return -1;
	}
	return 0;
}

void mk_layout_close(struct mk_layout *l)
{
	if (l->blobfd >= 0)
		close(l->blobfd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->dirfd = l->blobfd = -1;
	if (l->staged)
		mk_rmtree(l->dir);
	l->staged = false;
	free(l->m);
	l->m = NULL;
	l->n = l->cap = 0;
}

/* ---- archives ----------------------------------------------------------------- */

struct blobref {
	uint8_t d[RT_SHA256_LEN];
	uint64_t size;
	bool meta;      /* a manifest, config or signature payload */
};

struct reach {
	struct blobref *b;
	size_t n, cap;
};

static int reach_add(struct reach *r, const uint8_t d[RT_SHA256_LEN], uint64_t size,
		     bool meta, struct rt_err *e)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!memcmp(r->b[i].d, d, RT_SHA256_LEN)) {
			r->b[i].meta |= meta;
			return 0;
		}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct blobref *b = realloc(r->b, cap * sizeof *b);

		if (!b)
			return rt_err_sys(e, "out of memory");
		r->b = b;
		r->cap = cap;
	}
	memcpy(r->b[r->n].d, d, RT_SHA256_LEN);
	r->b[r->n].size = size;
	r->b[r->n].meta = meta;
	r->n++;
	return 0;
}

/* Every blob reachable from manifest or index d. */
static int reach_walk(struct mk_layout *l, struct reach *r, const uint8_t d[RT_SHA256_LEN],
		      uint64_t size, int depth, struct rt_err *e)
{
	struct mk_json m;
	uint8_t cd[RT_SHA256_LEN];
	uint64_t cs;
	char media[128];
	int arr, k, rc = 0;

	if (depth > 4)
		return rt_err_set(e, 0, "indexes nested too deep");
	if (reach_add(r, d, size, true, e) < 0 || mk_json_blob(&m, l, d, size, e) < 0)
		return -1;
	arr = rt_json_find(&m.j, 0, "manifests");
	for (k = rt_json_first(&m.j, arr); k >= 0 && rc == 0; k = rt_json_next(&m.j, arr, k))
		if (mk_json_desc(&m.j, k, cd, &cs, NULL, 0, e) < 0 ||
		    reach_walk(l, r, cd, cs, depth + 1, e) < 0)
			rc = -1;
	k = rt_json_find(&m.j, 0, "config");
	if (rc == 0 && k >= 0 && (mk_json_desc(&m.j, k, cd, &cs, NULL, 0, e) < 0 ||
				  reach_add(r, cd, cs, true, e) < 0))
		rc = -1;
	arr = rt_json_find(&m.j, 0, "layers");
	for (k = rt_json_first(&m.j, arr); k >= 0 && rc == 0; k = rt_json_next(&m.j, arr, k))
		if (mk_json_desc(&m.j, k, cd, &cs, media, sizeof media, e) < 0 ||
		    reach_add(r, cd, cs, !strcmp(media, RT_TRUST_MEDIA_PAYLOAD), e) < 0)
			rc = -1;
	mk_json_free(&m);
	return rc;
}

static int hexcmp(const void *a, const void *b)
{
	const struct blobref *x = a, *y = b;

	if (x->meta != y->meta)
		return x->meta ? -1 : 1;
	return memcmp(x->d, y->d, RT_SHA256_LEN);
}

static int tar_entry(int out, const char *path, enum rt_tar_type type, uint64_t size,
		     uint8_t *hdr, struct rt_err *e)
{
	struct rt_tar_entry en;
	ssize_t n;

	memset(&en, 0, sizeof en);
	en.type = type;
	en.path = path;
	en.linkpath = "";
	en.mode = type == RT_TAR_DIR ? 0755 : 0644;
	en.size = size;
	n = rt_tar_write_header(hdr, RT_TAR_WRITE_MAX, &en, e);
	return n < 0 ? -1 : rt_io_write_all(out, hdr, (size_t)n, e);
}

static int tar_file(int out, int dfd, const char *name, const char *path, uint8_t *hdr,
		    struct rt_err *e)
{
	static uint8_t buf[COPY_BUF];
	static const uint8_t zero[RT_TAR_BLOCK_SIZE];
	struct stat st;
	uint64_t left;
	int in = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (in < 0 || fstat(in, &st) < 0) {
		if (in >= 0)
			close(in);
		return rt_err_sys(e, "%s", path);
	}
	if (tar_entry(out, path, RT_TAR_FILE, (uint64_t)st.st_size, hdr, e) < 0)
		goto fail;
	for (left = (uint64_t)st.st_size; left;) {
		size_t want = left < sizeof buf ? (size_t)left : sizeof buf;
		ssize_t n = rt_io_read_full(in, buf, want, e);

		if (n < 0 || (size_t)n != want) {
			if (n >= 0)
				rt_err_set(e, 0, "%s: changed while read", path);
			goto fail;
		}
		if (rt_io_write_all(out, buf, want, e) < 0)
			goto fail;
		left -= want;
	}
	close(in);
	return rt_io_write_all(out, zero, rt_tar_pad((uint64_t)st.st_size), e);
fail:
	close(in);
	return -1;
}

/* The archive: oci-layout and index.json first, then the small JSON blobs,
 * then the layers, so a reader streaming it meets what it must verify
 * before the bytes that verification covers. */
static int write_archive(struct mk_layout *l, struct rt_err *e)
{
	struct reach r = { 0 };
	char tmp[4096], path[96], hex[RT_SHA256_HEX];
	uint8_t *hdr = malloc(RT_TAR_WRITE_MAX);
	int out = -1, rc = -1;
	mode_t um;
	size_t i;
	ssize_t n;

	tmp[0] = '\0';
	if (!hdr)
		return rt_err_sys(e, "out of memory");
	for (i = 0; i < l->n; i++)
		if (reach_walk(l, &r, l->m[i].digest, l->m[i].size, 0, e) < 0)
			goto out;
	if (r.n)
		qsort(r.b, r.n, sizeof *r.b, hexcmp);
	n = snprintf(tmp, sizeof tmp, "%s.mkimage-XXXXXX", l->path);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		rt_err_set(e, 0, "path too long");
		goto out;
	}
	out = mkstemp(tmp);
	if (out < 0) {
		rt_err_sys(e, "%s", tmp);
		tmp[0] = '\0';
		goto out;
	}
	um = umask(0);
	umask(um);
	if (fchmod(out, 0666 & ~um) < 0) {
		rt_err_sys(e, "%s", tmp);
		goto out;
	}
	if (tar_file(out, l->dirfd, "oci-layout", "oci-layout", hdr, e) < 0 ||
	    tar_file(out, l->dirfd, "index.json", "index.json", hdr, e) < 0 ||
	    tar_entry(out, "blobs", RT_TAR_DIR, 0, hdr, e) < 0 ||
	    tar_entry(out, "blobs/sha256", RT_TAR_DIR, 0, hdr, e) < 0)
		goto out;
	for (i = 0; i < r.n; i++) {
		rt_sha256_hex(r.b[i].d, hex);
		snprintf(path, sizeof path, "blobs/sha256/%s", hex);
		if (tar_file(out, l->blobfd, hex, path, hdr, e) < 0)
			goto out;
	}
	n = rt_tar_write_end(hdr, RT_TAR_WRITE_MAX, e);
	if (n < 0 || rt_io_write_all(out, hdr, (size_t)n, e) < 0)
		goto out;
	if (fsync(out) < 0 || close(out) < 0) {
		out = -1;
		rt_err_sys(e, "%s", tmp);
		goto out;
	}
	out = -1;
	if (rename(tmp, l->path) < 0) {
		rt_err_sys(e, "rename to %s", l->path);
		goto out;
	}
	rc = 0;
out:
	if (out >= 0)
		close(out);
	if (rc < 0 && tmp[0])
		unlink(tmp);
	free(hdr);
	free(r.b);
	return rc;
}

/* Put a staged directory at l->path, replacing an older layout there. */
static int place_dir(struct mk_layout *l, struct rt_err *e)
{
	char old[4096 + 32];
	struct stat st;
	int fd, n;

	if (lstat(l->path, &st) < 0) {
		if (errno != ENOENT)
			return rt_err_sys(e, "%s", l->path);
		if (rename(l->dir, l->path) < 0)
			return rt_err_sys(e, "rename to %s", l->path);
		l->staged = false;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return rt_err_set(e, 0, "%s exists and is not a directory", l->path);
	fd = open(l->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "%s", l->path);
	n = faccessat(fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW);
	close(fd);
	if (n < 0 && rmdir(l->path) < 0)
		return rt_err_set(e, 0, "%s exists and is not an OCI layout", l->path);
	if (n == 0) {
		snprintf(old, sizeof old, "%s.mkimage-old", l->path);
		mk_rmtree(old);
		if (rename(l->path, old) < 0)
			return rt_err_sys(e, "rename %s", l->path);
	}
	if (rename(l->dir, l->path) < 0)
		return rt_err_sys(e, "rename to %s", l->path);
	l->staged = false;
	if (n == 0)
		mk_rmtree(old);
	return 0;
}

int mk_layout_commit(struct mk_layout *l, struct rt_err *e)
{
	if (write_index(l, e) < 0)
		return -1;
	if (l->archive)
		return write_archive(l, e) < 0 ? rt_err_wrap(e, "%s", l->path) : 0;
	if (l->staged)
		return place_dir(l, e);
	return 0;
}
