#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "io.h"
#include "json.h"
#include "kconfig.h"
#include "manifest.h"
#include "path.h"
#include "tar.h"

#if IS_ENABLED(CONFIG_GZIP)
#include <zlib.h>
#endif

#define CHUNK (64 * 1024)
#define POOL_MAX (16u << 20)    /* member names */
#define LINK_HOPS 8
#define DOCKER_MANIFEST_MAX (64 * 1024)

enum { M_FILE, M_LINK, M_SYMLINK, M_OTHER };

struct member {
	uint32_t name, link;    /* offsets into the pool */
	uint8_t type;
	uint64_t off, size;
};

/* What a docker archive offers by digest: a member or bytes in memory. */
struct blob {
	char digest[RT_SHA256_STR];
	int member;             /* -1: mem */
	char *mem;
	uint64_t size;
};

struct arch {
	struct rt_store *s;
	int fd;                 /* the tar (given or spooled); -1 for a directory */
	int dirfd;              /* the layout directory; -1 for a tar */
	struct member *m;
	size_t nm, mcap;
	char *pool;
	size_t plen, pcap;
	struct blob *b;
	size_t nb, bcap;
	char *index;            /* index.json, for find_tag */
	struct rt_manifest_json ij;
	int have_index;
	/* the open blob */
	int cfd;
	const char *cmem;
	uint64_t coff, cleft;
	char cdigest[RT_SHA256_STR];
};

/* --- the member table ---------------------------------------------------- */

static int pool_add(struct arch *a, const char *s, uint32_t *off, struct rt_err *e)
{
	size_t n = strlen(s) + 1;

	if (a->plen + n > a->pcap) {
		size_t cap = a->pcap ? a->pcap * 2 : 65536;
		char *p;

		while (cap < a->plen + n)
			cap *= 2;
		if (cap > POOL_MAX)
			return rt_err_set(e, 0, "archive: member names exceed %u bytes", POOL_MAX);
		p = realloc(a->pool, cap);
		if (!p)
			return rt_err_sys(e, "archive");
		a->pool = p;
		a->pcap = cap;
	}
	memcpy(a->pool + a->plen, s, n);
	*off = (uint32_t)a->plen;
	a->plen += n;
	return 0;
}

static int find_name(const struct arch *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nm; i++)
		if (!strcmp(a->pool + a->m[i].name, name))
			return (int)i;
	return -1;
}

static int add_member(struct arch *a, const struct rt_tar_entry *en, uint64_t off,
		      struct rt_err *e)
{
	struct member *mb;

	if (en->type == RT_TAR_DIR)
		return 0;
	if (find_name(a, en->path) >= 0)
		return rt_err_set(e, 0, "archive: two members named '%.100s'", en->path);
	if (a->nm == a->mcap) {
		size_t cap = a->mcap ? a->mcap * 2 : 64;
		void *v;

		if (a->nm >= RT_ARCHIVE_MEMBERS)
			return rt_err_set(e, 0, "archive: more than %d members", RT_ARCHIVE_MEMBERS);
		v = realloc(a->m, cap * sizeof *a->m);
		if (!v)
			return rt_err_sys(e, "archive");
		a->m = v;
		a->mcap = cap;
	}
	mb = &a->m[a->nm];
	memset(mb, 0, sizeof *mb);
	mb->type = en->type == RT_TAR_FILE ? M_FILE : en->type == RT_TAR_HARDLINK ? M_LINK :
		   en->type == RT_TAR_SYMLINK ? M_SYMLINK : M_OTHER;
	mb->off = off;
	mb->size = en->size;
	if (pool_add(a, en->path, &mb->name, e) < 0 ||
	    (mb->type != M_FILE && pool_add(a, en->linkpath, &mb->link, e) < 0))
		return -1;
	a->nm++;
	return 0;
}

/* Headers only: the data of a member is fed to the parser as zeros (it
 * never looks at data) and skipped in the file, so a scan of a 100 MB
 * archive reads a few blocks. The zeros are the read buffer itself,
 * cleared: what it held is read again from the end of the data. */
static int scan(struct arch *a, struct rt_err *e)
{
	struct rt_tar *t = malloc(sizeof *t);
	uint8_t *buf = malloc(CHUNK);
	uint64_t pos = 0;       /* what the parser consumed: the file offset */
	int r = -1;

	if (!t || !buf) {
		rt_err_sys(e, "archive");
		goto out;
	}
	rt_tar_init(t, 0);
	for (;;) {
		ssize_t n = pread(a->fd, buf, CHUNK, (off_t)pos);
		const uint8_t *p = buf;
		size_t len;

		if (n < 0) {
			rt_err_sys(e, "read archive");
			goto out;
		}
		if (n == 0)
			break;
		len = (size_t)n;
		for (;;) {
			struct rt_tar_ev ev;
			size_t used = rt_tar_push(t, p, len, &ev);
			uint64_t left;

			p += used;
			len -= used;
			pos += used;
			if (ev.kind == RT_TAR_EV_NONE)
				break;
			if (ev.kind == RT_TAR_EV_ERROR) {
				rt_tar_error(t, e);
				goto out;
			}
			if (ev.kind != RT_TAR_EV_ENTRY)
				continue;
			if (add_member(a, ev.entry, pos, e) < 0)
				goto out;
			if (ev.entry->size == 0)
				continue;
			memset(buf, 0, CHUNK);
			for (left = ev.entry->size; left;) {
				size_t u = rt_tar_push(t, buf, left > CHUNK ? CHUNK : (size_t)left, &ev);

				left -= u;
				pos += u;
			}
			break;  /* read on from the end of the data */
		}
	}
	if (rt_tar_finish(t, e) < 0)
		goto out;
	r = 0;
out:
	free(t);
	free(buf);
	return r < 0 ? rt_err_wrap(e, "archive") : 0;
}

/* Resolve name to a regular member, following member links lexically. */
static int member_file(const struct arch *a, const char *name, int hops, struct rt_err *e)
{
	char path[RT_TAR_PATH_MAX * 2];
	const struct member *mb;
	int i = find_name(a, name);

	if (i < 0)
		return rt_err_set(e, 0, "archive has no '%.100s'", name);
	mb = &a->m[i];
	if (mb->type == M_FILE)
		return i;
	if (mb->type == M_OTHER || hops >= LINK_HOPS)
		return rt_err_set(e, 0, "archive member '%.100s' is not a file", name);
	if (mb->type == M_LINK)
		return member_file(a, a->pool + mb->link, hops + 1, e);
	{
		/* a symlink: relative to its directory, lexically, and never
		 * above the top of the archive */
		const char *t = a->pool + mb->link, *slash = strrchr(name, '/'), *c;
		char joined[RT_TAR_PATH_MAX * 2];
		size_t dl = slash && t[0] != '/' ? (size_t)(slash - name) + 1 : 0, w = 0;

		if (dl + strlen(t) >= sizeof joined)
			return rt_err_set(e, 0, "archive link too long");
		memcpy(joined, name, dl);
		strcpy(joined + dl, t);
		path[0] = '\0';
		for (c = joined; *c;) {
			size_t k = strcspn(c, "/");

			if (k == 2 && c[0] == '.' && c[1] == '.') {
				char *s = strrchr(path, '/');

				if (w == 0)
					return rt_err_set(e, 0,
							  "archive link '%.100s' leaves the archive", name);
				w = s ? (size_t)(s - path) : 0;
				path[w] = '\0';
			} else if (k && !(k == 1 && c[0] == '.')) {
				if (w)
					path[w++] = '/';
				memcpy(path + w, c, k);
				w += k;
				path[w] = '\0';
			}
			c += k;
			while (*c == '/')
				c++;
		}
		return member_file(a, path, hops + 1, e);
	}
}

/* The tag of a name: "sha256-x.sig" of "app:sha256-x.sig" or of itself. */
static const char *tag_part(const char *name)
{
	const char *slash = strrchr(name, '/'), *colon = strrchr(slash ? slash : name, ':');

	return colon ? colon + 1 : name;
}

/* Signatures and attestations (cosign's tags), bare or after a name. */
static int is_signature_tag(const char *name)
{
	const char *t = tag_part(name);
	size_t n = strlen(t);

	if (strncmp(t, "sha256-", 7) != 0 || n < 7 + 64)
		return 0;
	return !strcmp(t + 71, ".sig") || !strcmp(t + 71, ".att") || !strcmp(t + 71, ".sbom");
}

/* --- the source ---------------------------------------------------------- */

static struct blob *blob_find(struct arch *a, const char *digest)
{
	size_t i;

	for (i = 0; i < a->nb; i++)
		if (!strcmp(a->b[i].digest, digest))
			return &a->b[i];
	return NULL;
}

static int src_open(void *ctx, const char *digest, uint64_t size, struct rt_err *e)
{
	struct arch *a = ctx;
	char path[16 + RT_SHA256_HEX];
	uint8_t d[RT_SHA256_LEN];
	uint64_t have;
	int i;

	rt_io_close(&a->cfd);
	a->cmem = NULL;
	if (rt_sha256_parse(digest, strlen(digest), d, e) < 0)
		return -1;
	strcpy(a->cdigest, digest);
	snprintf(path, sizeof path, "blobs/sha256/%s", digest + 7);
	if (a->dirfd >= 0) {
		struct stat st;

		a->cfd = rt_path_open(a->dirfd, path, O_RDONLY, 0, e);
		if (a->cfd < 0)
			return rt_err_wrap(e, "blob %s", digest);
		if (fstat(a->cfd, &st) < 0 || !S_ISREG(st.st_mode))
			return rt_err_set(e, 0, "blob %s: not a regular file", digest);
		have = (uint64_t)st.st_size;
	} else if (a->nb) {
		struct blob *b = blob_find(a, digest);

		if (!b)
			return rt_err_set(e, 0, "archive has no blob %s", digest);
		if (b->member < 0) {
			a->cmem = b->mem;
			have = b->size;
		} else {
			a->coff = a->m[b->member].off;
			have = a->m[b->member].size;
		}
	} else {
		i = member_file(a, path, 0, e);
		if (i < 0)
			return rt_err_wrap(e, "blob %s", digest);
		a->coff = a->m[i].off;
		have = a->m[i].size;
	}
	if (have != size)
		return rt_err_set(e, 0, "blob %s is %llu bytes, its descriptor says %llu", digest,
				  (unsigned long long)have, (unsigned long long)size);
	a->cleft = size;
	return 0;
}

static ssize_t src_read(void *ctx, void *buf, size_t len, struct rt_err *e)
{
	struct arch *a = ctx;
	ssize_t n;

	if (len > a->cleft)
		len = (size_t)a->cleft;
	if (len == 0)
		return 0;
	if (a->cmem) {
		memcpy(buf, a->cmem, len);
		a->cmem += len;
		n = (ssize_t)len;
	} else if (a->cfd >= 0) {
		do
			n = read(a->cfd, buf, len);
		while (n < 0 && errno == EINTR);
	} else {
		do
			n = pread(a->fd, buf, len, (off_t)a->coff);
		while (n < 0 && errno == EINTR);
		if (n > 0)
			a->coff += (uint64_t)n;
	}
	if (n < 0)
		return rt_err_sys(e, "read blob %s", a->cdigest);
	if (n == 0)
		return rt_err_set(e, 0, "blob %s: truncated", a->cdigest);
	a->cleft -= (uint64_t)n;
	return n;
}

static int src_find_tag(void *ctx, const char *tag, char digest[RT_SHA256_STR],
			uint64_t *size, struct rt_err *e)
{
	struct arch *a = ctx;
	const struct rt_json *j = &a->ij.j;
	int m, i;

	if (!a->have_index)
		return 1;
	m = rt_json_find(j, 0, "manifests");
	for (i = rt_json_first(j, m); i >= 0; i = rt_json_next(j, m, i)) {
		struct rt_manifest_desc d;

		if (rt_manifest_desc(j, i, &d, e) < 0)
			return -1;
		if (!strcmp(d.refname, tag) || !strcmp(tag_part(d.refname), tag) ||
		    (d.imagename[0] && !strcmp(tag_part(d.imagename), tag))) {
			strcpy(digest, d.digest);
			*size = d.size;
			return 0;
		}
	}
	return 1;
}

/* A whole small member or layout file into a new NUL-terminated buffer. */
static int read_small(struct arch *a, const char *name, size_t cap, char **out, size_t *len,
		      struct rt_err *e)
{
	char *buf = malloc(cap + 1);
	int i;

	*out = NULL;
	if (!buf)
		return rt_err_sys(e, "archive");
	if (a->dirfd >= 0) {
		int fd = rt_path_open(a->dirfd, name, O_RDONLY, 0, e);
		struct stat st;
		ssize_t n;

		if (fd < 0)
			goto fail;
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			rt_err_set(e, 0, "%s: not a regular file", name);
			goto fail;
		}
		n = rt_io_read_full(fd, buf, cap + 1, e);
		close(fd);
		if (n < 0)
			goto fail;
		if ((size_t)n > cap) {
			rt_err_set(e, 0, "%s: larger than %zu bytes", name, cap);
			goto fail;
		}
		*len = (size_t)n;
	} else {
		uint64_t got = 0;

		i = member_file(a, name, 0, e);
		if (i < 0)
			goto fail;
		if (a->m[i].size > cap) {
			rt_err_set(e, 0, "%s: larger than %zu bytes", name, cap);
			goto fail;
		}
		while (got < a->m[i].size) {
			ssize_t n = pread(a->fd, buf + got, (size_t)(a->m[i].size - got),
					  (off_t)(a->m[i].off + got));

			if (n <= 0) {
				if (n < 0)
					rt_err_sys(e, "read %s", name);
				else
					rt_err_set(e, 0, "%s: truncated", name);
				goto fail;
			}
			got += (uint64_t)n;
		}
		*len = (size_t)got;
	}
	buf[*len] = '\0';
	*out = buf;
	return 0;
fail:
	free(buf);
	return -1;
}

/* --- OCI layouts --------------------------------------------------------- */

/* A full reference from an annotation; "" for a bare tag. */
static int name_of(const char *s, char *out, size_t cap, struct rt_err *e)
{
	struct rt_image_ref r;

	out[0] = '\0';
	if (!*s || (!strchr(s, ':') && !strchr(s, '/')))
		return 0;
	if (rt_image_ref_parse(s, &r, e) < 0)
		return rt_err_wrap(e, "image name '%.100s'", s);
	if (!r.tag[0])
		return rt_err_set(e, 0, "image name '%.100s' has no tag", s);
	return rt_image_ref_format(&r, 0, out, cap, e);
}

static int oci_wants(struct arch *a, struct rt_image_want **wv, size_t *wn, struct rt_err *e)
{
	struct rt_image_want *w;
	const struct rt_json *j;
	char *layout = NULL;
	size_t len = 0, n = 0;
	int m, i, k;

	if (read_small(a, "oci-layout", 4096, &layout, &len, e) < 0)
		return -1;
	{
		struct rt_json_tok tok[16];
		struct rt_json lj;
		char v[16];

		if (rt_json_parse(&lj, layout, len, tok, 16, 4, e) < 0 ||
		    rt_json_str(&lj, rt_json_find(&lj, 0, "imageLayoutVersion"), v, sizeof v, e) < 0) {
			free(layout);
			return rt_err_set(e, 0, "oci-layout: not an OCI image layout");
		}
	}
	free(layout);
	if (read_small(a, "index.json", RT_IMAGE_JSON_MAX, &a->index, &len, e) < 0)
		return -1;
	if (rt_manifest_parse(&a->ij, a->index, len, e) < 0)
		return rt_err_wrap(e, "index.json");
	a->have_index = 1;
	j = &a->ij.j;
	if (rt_manifest_kind(j, NULL, e) != RT_MANIFEST_INDEX)
		return rt_err_set(e, 0, "index.json: not an image index");
	m = rt_json_find(j, 0, "manifests");
	w = calloc((size_t)rt_json_count(j, m) + 1, sizeof *w);
	if (!w)
		return rt_err_sys(e, "archive");
	for (i = rt_json_first(j, m), k = 0; i >= 0; i = rt_json_next(j, m, i), k++) {
		struct rt_manifest_desc d;
		size_t x;
		int dup = 0;

		if (rt_manifest_desc(j, i, &d, e) < 0)
			goto fail;
		if (is_signature_tag(d.refname) || is_signature_tag(d.imagename))
			continue;
		if (name_of(d.imagename[0] ? d.imagename : d.refname, w[n].name, sizeof w[n].name, e) < 0)
			goto fail;
		if (!rt_manifest_is_manifest_type(d.mediatype) && !rt_manifest_is_index_type(d.mediatype)) {
			rt_err_set(e, 0, "unsupported media type '%.80s'", d.mediatype);
			goto named;
		}
		if (d.size > RT_IMAGE_JSON_MAX) {
			rt_err_set(e, 0, "%s: larger than %u bytes", d.digest, RT_IMAGE_JSON_MAX);
			goto named;
		}
		strcpy(w[n].digest, d.digest);
		strcpy(w[n].mediatype, d.mediatype);
		w[n].size = d.size;
		/* the same image listed again under no name adds nothing */
		for (x = 0; x < n; x++)
			dup |= !strcmp(w[x].digest, w[n].digest) &&
			       (!w[n].name[0] || !strcmp(w[x].name, w[n].name));
		if (!dup)
			n++;
	}
	*wv = w;
	*wn = n;
	return 0;
named:
	if (w[n].name[0]) {
		char fam[RT_STORE_REF_MAX];

		rt_err_wrap(e, "%s", rt_image_familiar(w[n].name, fam, sizeof fam));
		free(w);
		return -1;
	}
fail:
	free(w);
	return rt_err_wrap(e, "index.json entry %d", k + 1);
}

/* --- docker save --------------------------------------------------------- */

static int add_blob(struct arch *a, const char *digest, int member, char *mem, uint64_t size,
		    struct rt_err *e)
{
	if (blob_find(a, digest)) {
		free(mem);
		return 0;
	}
	if (a->nb == a->bcap) {
		size_t cap = a->bcap ? a->bcap * 2 : 32;
		void *v = realloc(a->b, cap * sizeof *a->b);

		if (!v) {
			free(mem);
			return rt_err_sys(e, "archive");
		}
		a->b = v;
		a->bcap = cap;
	}
	strcpy(a->b[a->nb].digest, digest);
	a->b[a->nb].member = member;
	a->b[a->nb].mem = mem;
	a->b[a->nb].size = size;
	a->nb++;
	return 0;
}

static int hash_member(struct arch *a, int i, char digest[RT_SHA256_STR], struct rt_err *e)
{
	uint8_t *buf = malloc(CHUNK), d[RT_SHA256_LEN];
	uint64_t off = a->m[i].off, left = a->m[i].size;
	struct rt_sha256 h;

	if (!buf)
		return rt_err_sys(e, "archive");
	rt_sha256_init(&h);
	while (left) {
		ssize_t n = pread(a->fd, buf, left > CHUNK ? CHUNK : (size_t)left, (off_t)off);

		if (n <= 0) {
			free(buf);
			return n < 0 ? rt_err_sys(e, "read archive") : rt_err_set(e, 0, "archive truncated");
		}
		rt_sha256_update(&h, buf, (size_t)n);
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	free(buf);
	rt_sha256_final(&h, d);
	rt_sha256_format(d, digest);
	return 0;
}

/* One image of manifest.json: check its config, find its layers, and
 * write the Docker v2 manifest the archive leaves out, so the image is
 * stored like any other. */
static int docker_image(struct arch *a, const struct rt_json *j, int obj,
			struct rt_image_want *w, size_t *n, size_t wcap, struct rt_err *e)
{
	char path[RT_TAR_PATH_MAX], cdig[RT_SHA256_STR], mdig[RT_SHA256_STR];
	struct rt_manifest_config *c = NULL;
	struct rt_manifest_json cj;
	struct rt_json_w jw;
	char *cbuf = NULL, *mbuf = NULL;
	uint8_t d[RT_SHA256_LEN];
	size_t clen;
	int ci, layers, l, i, tags, r = -1;

	if (rt_json_type(j, obj) != RT_JSON_OBJECT)
		return rt_err_set(e, 0, "manifest.json: entry is not an object");
	if (rt_json_find(j, obj, "LayerSources") >= 0)
		return rt_err_set(e, 0, "manifest.json: foreign layers are not supported");
	if (rt_json_str(j, rt_json_find(j, obj, "Config"), path, sizeof path, e) < 0)
		return rt_err_set(e, 0, "manifest.json: no Config");
	ci = member_file(a, path, 0, e);
	if (ci < 0)
		return -1;
	if (read_small(a, path, RT_IMAGE_JSON_MAX, &cbuf, &clen, e) < 0)
		return -1;
	rt_sha256_buf(cbuf, clen, d);
	rt_sha256_format(d, cdig);
	c = malloc(sizeof *c);
	mbuf = malloc(DOCKER_MANIFEST_MAX);
	if (!c || !mbuf) {
		rt_err_sys(e, "archive");
		goto out;
	}
	if (rt_manifest_parse(&cj, cbuf, clen, e) < 0)
		goto out;
	i = rt_manifest_config(&cj.j, c, e);
	rt_manifest_free(&cj);
	if (i < 0)
		goto out;
	layers = rt_json_find(j, obj, "Layers");
	if (rt_json_type(j, layers) != RT_JSON_ARRAY || rt_json_count(j, layers) != c->ndiff) {
		rt_err_set(e, 0, "manifest.json: Layers do not match the config's %d layers",
			   c->ndiff);
		goto out;
	}
	rt_json_w_init(&jw, mbuf, DOCKER_MANIFEST_MAX);
	rt_json_w_obj(&jw);
	rt_json_w_key(&jw, "schemaVersion");
	rt_json_w_i64(&jw, 2);
	rt_json_w_key(&jw, "mediaType");
	rt_json_w_str(&jw, "application/vnd.docker.distribution.manifest.v2+json");
	rt_json_w_key(&jw, "config");
	rt_json_w_obj(&jw);
	rt_json_w_key(&jw, "mediaType");
	rt_json_w_str(&jw, "application/vnd.docker.container.image.v1+json");
	rt_json_w_key(&jw, "size");
	rt_json_w_u64(&jw, clen);
	rt_json_w_key(&jw, "digest");
	rt_json_w_str(&jw, cdig);
	rt_json_w_end(&jw);
	rt_json_w_key(&jw, "layers");
	rt_json_w_arr(&jw);
	for (l = rt_json_first(j, layers), i = 0; l >= 0; l = rt_json_next(j, layers, l), i++) {
		char ldig[RT_SHA256_STR];
		uint8_t magic[2] = { 0, 0 };
		int li, gz;

		if (rt_json_str(j, l, path, sizeof path, e) < 0) {
			rt_err_set(e, 0, "manifest.json: bad layer path");
			goto out;
		}
		li = member_file(a, path, 0, e);
		if (li < 0)
			goto out;
		if (a->m[li].size >= 2 && pread(a->fd, magic, 2, (off_t)a->m[li].off) != 2) {
			rt_err_sys(e, "read %s", path);
			goto out;
		}
		gz = magic[0] == 0x1f && magic[1] == 0x8b;
		/* An uncompressed layer is named by its diff_id; a compressed
		 * one needs its own digest (the diff_id is still checked). */
		if (gz) {
			if (hash_member(a, li, ldig, e) < 0)
				goto out;
		} else {
			strcpy(ldig, c->diff_ids[i]);
		}
		if (add_blob(a, ldig, li, NULL, a->m[li].size, e) < 0)
			goto out;
		rt_json_w_obj(&jw);
		rt_json_w_key(&jw, "mediaType");
		rt_json_w_str(&jw, gz ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
				      : "application/vnd.docker.image.rootfs.diff.tar");
		rt_json_w_key(&jw, "size");
		rt_json_w_u64(&jw, a->m[li].size);
		rt_json_w_key(&jw, "digest");
		rt_json_w_str(&jw, ldig);
		rt_json_w_end(&jw);
	}
	rt_json_w_end(&jw);
	rt_json_w_end(&jw);
	if (rt_json_w_finish(&jw, e) < 0)
		goto out;
	rt_sha256_buf(mbuf, jw.len, d);
	rt_sha256_format(d, mdig);
	if (add_blob(a, cdig, ci, NULL, clen, e) < 0)
		goto out;
	{
		size_t mlen = jw.len;

		if (add_blob(a, mdig, -1, mbuf, mlen, e) < 0) {
			mbuf = NULL;
			goto out;
		}
		mbuf = NULL;
		tags = rt_json_find(j, obj, "RepoTags");
		if (tags >= 0 && !rt_json_is_null(j, tags) && rt_json_type(j, tags) != RT_JSON_ARRAY) {
			rt_err_set(e, 0, "manifest.json: RepoTags is not an array");
			goto out;
		}
		l = rt_json_first(j, tags);     /* -1: no tags, one unnamed image */
		do {
			char name[RT_STORE_REF_MAX];

			if (*n == wcap) {
				rt_err_set(e, 0, "manifest.json: too many tags");
				goto out;
			}
			name[0] = '\0';
			if (l >= 0) {
				struct rt_image_ref ref;

				if (rt_json_str(j, l, name, sizeof name, e) < 0 ||
				    rt_image_ref_parse(name, &ref, e) < 0 ||
				    rt_image_ref_format(&ref, 0, name, sizeof name, e) < 0) {
					rt_err_wrap(e, "manifest.json: RepoTags");
					goto out;
				}
			}
			strcpy(w[*n].digest, mdig);
			strcpy(w[*n].mediatype, "application/vnd.docker.distribution.manifest.v2+json");
			w[*n].size = mlen;
			strcpy(w[*n].name, name);
			(*n)++;
		} while (l >= 0 && (l = rt_json_next(j, tags, l)) >= 0);
	}
	r = 0;
out:
	free(mbuf);
	free(cbuf);
	free(c);
	return r;
}

static int docker_wants(struct arch *a, struct rt_image_want **wv, size_t *wn, struct rt_err *e)
{
	struct rt_manifest_json mj;
	struct rt_image_want *w;
	char *buf = NULL;
	size_t len, n = 0, cap;
	int i, r = -1;

	if (read_small(a, "manifest.json", RT_IMAGE_JSON_MAX, &buf, &len, e) < 0)
		return -1;
	if (rt_manifest_parse(&mj, buf, len, e) < 0) {
		free(buf);
		return rt_err_wrap(e, "manifest.json");
	}
	if (rt_json_type(&mj.j, 0) != RT_JSON_ARRAY) {
		rt_err_set(e, 0, "manifest.json: not an array");
		goto out;
	}
	cap = 1024;
	w = calloc(cap, sizeof *w);
	if (!w) {
		rt_err_sys(e, "archive");
		goto out;
	}
	for (i = rt_json_first(&mj.j, 0); i >= 0; i = rt_json_next(&mj.j, 0, i))
		if (docker_image(a, &mj.j, i, w, &n, cap, e) < 0) {
			free(w);
			goto out;
		}
	*wv = w;
	*wn = n;
	r = 0;
out:
	rt_manifest_free(&mj);
	free(buf);
	return r;
}

/* --- input --------------------------------------------------------------- */

/* Copy (and inflate) input that cannot be read by offset into staging.
 * head holds bytes already read from it. */
static int spool(struct arch *a, int in, const uint8_t *head, size_t hlen, int gz,
		 struct rt_err *e)
{
	uint8_t *buf = malloc(CHUNK), *out = NULL;
	uint64_t since = 0;
	int sfd, fd, r = -1, first = 1;
#if IS_ENABLED(CONFIG_GZIP)
	z_stream z;
	int zinit = 0, zend = 0;

	memset(&z, 0, sizeof z);
#endif

	if (!buf)
		return rt_err_sys(e, "load");
	sfd = rt_store_stage(a->s, e);
	if (sfd < 0) {
		free(buf);
		return -1;
	}
	fd = openat(sfd, "spool", O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(buf);
		return rt_err_sys(e, "spool input");
	}
	if (gz) {
#if IS_ENABLED(CONFIG_GZIP)
		out = malloc(CHUNK);
		if (!out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
			rt_err_set(e, 0, "gzip");
			goto out;
		}
		zinit = 1;
#else
		rt_err_set(e, 0, "compressed archives need a build with gzip");
		goto out;
#endif
	}
	for (;;) {
		const uint8_t *p = buf;
		ssize_t n;

		if (first && hlen) {
			p = head;
			n = (ssize_t)hlen;
		} else {
			do
				n = read(in, buf, CHUNK);
			while (n < 0 && errno == EINTR);
		}
		first = 0;
		if (n < 0) {
			rt_err_sys(e, "read input");
			goto out;
		}
		if (n == 0)
			break;
		since += (uint64_t)n;
		if (since >= (1u << 20)) {
			if (rt_store_space(a->s, since, e) < 0)
				goto out;
			since = 0;
		}
		if (!gz) {
			if (rt_io_write_all(fd, p, (size_t)n, e) < 0)
				goto out;
			continue;
		}
#if IS_ENABLED(CONFIG_GZIP)
		z.next_in = (Bytef *)(uintptr_t)p;
		z.avail_in = (uInt)n;
		do {
			int zr;

			if (zend) {
				if (inflateReset(&z) != Z_OK)
					goto zfail;
				zend = 0;
			}
			z.next_out = out;
			z.avail_out = CHUNK;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr == Z_STREAM_END)
				zend = 1;
			else if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_in == 0))
				goto zfail;
			if (rt_io_write_all(fd, out, CHUNK - z.avail_out, e) < 0)
				goto out;
			since += CHUNK - z.avail_out;
		} while (z.avail_in > 0 || z.avail_out == 0);
#endif
	}
#if IS_ENABLED(CONFIG_GZIP)
	if (gz && !zend) {
		rt_err_set(e, 0, "gzip: truncated input");
		goto out;
	}
#endif
	a->fd = fd;
	fd = -1;
	r = 0;
	goto out;
#if IS_ENABLED(CONFIG_GZIP)
zfail:
	rt_err_set(e, 0, "gzip: %s", z.msg ? z.msg : "corrupt input");
#endif
out:
#if IS_ENABLED(CONFIG_GZIP)
	if (zinit)
		inflateEnd(&z);
#endif
	if (fd >= 0)
		close(fd);
	free(buf);
	free(out);
	return r;
}

static void arch_free(struct arch *a)
{
	size_t i;

	rt_io_close(&a->cfd);
	rt_io_close(&a->dirfd);
	rt_io_close(&a->fd);
	for (i = 0; i < a->nb; i++)
		free(a->b[i].mem);
	free(a->b);
	free(a->m);
	free(a->pool);
	if (a->have_index)
		rt_manifest_free(&a->ij);
	free(a->index);
}

int rt_archive_load(struct rt_store *s, const char *path,
		    const struct rt_image_load_opts *o, struct rt_err *e)
{
	struct rt_image_src src = { 0 };
	struct rt_image_want *w = NULL;
	struct arch a;
	size_t n = 0;
	int in = -1, r = -1;
	struct stat st;

	memset(&a, 0, sizeof a);
	a.s = s;
	a.fd = a.dirfd = a.cfd = -1;
	if (!path || !strcmp(path, "-")) {
		in = 0;
		path = "stdin";
	} else if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return rt_err_sys(e, "open %s", path);
	}
	if (fstat(in, &st) < 0) {
		rt_err_sys(e, "%s", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		a.dirfd = in;
		in = -1;
	} else {
		uint8_t head[2];
		ssize_t hn;
		int gz;

		if (S_ISREG(st.st_mode)) {
			hn = pread(in, head, 2, 0);
		} else {
			hn = rt_io_read_full(in, head, 2, e);
		}
		if (hn < 0) {
			rt_err_sys(e, "read %s", path);
			goto out;
		}
		if (hn == 0) {
			rt_err_set(e, 0, "%s is empty", path);
			goto out;
		}
		gz = hn == 2 && head[0] == 0x1f && head[1] == 0x8b;
		if (S_ISREG(st.st_mode) && !gz) {
			a.fd = in;
			in = -1;
		} else if (spool(&a, in, head, S_ISREG(st.st_mode) ? 0 : (size_t)hn, gz, e) < 0) {
			goto out;
		}
		if (scan(&a, e) < 0)
			goto out;
	}
	if (a.dirfd >= 0 || find_name(&a, "index.json") >= 0) {
		if (oci_wants(&a, &w, &n, e) < 0)
			goto out;
	} else if (find_name(&a, "manifest.json") >= 0) {
		if (docker_wants(&a, &w, &n, e) < 0)
			goto out;
	} else {
		rt_err_set(e, 0, "neither an OCI layout nor a docker save archive");
		goto out;
	}
	src.ctx = &a;
	src.open = src_open;
	src.read = src_read;
	src.find_tag = src_find_tag;
	src.diff_ids = a.nb > 0;
	r = rt_image_load(s, &src, w, n, o, e);
out:
	if (in > 0)
		close(in);
	free(w);
	arch_free(&a);
	return r;
}
