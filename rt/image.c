#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "io.h"
#include "json.h"
#include "kconfig.h"
#include "image_int.h"
#include "manifest.h"

/* --- references ---------------------------------------------------------- */

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* path-component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static int path_component_ok(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t a = i;

		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == a)
			return 0;
		if (i == n)
			return 1;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i == n)
			return 0;
	}
	return n > 0;
}

/* host[:port], host made of [A-Za-z0-9-] labels joined by dots. */
static int domain_ok(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t hn = colon ? (size_t)(colon - s) : n, i = 0;

	if (colon) {
		size_t p = hn + 1;

		if (p == n)
			return 0;
		for (; p < n; p++)
			if (s[p] < '0' || s[p] > '9')
				return 0;
	}
	while (i < hn) {
		size_t a = i;

		while (i < hn && (is_alnum(s[i]) || s[i] == '-'))
			i++;
		if (i == a || s[a] == '-' || s[i - 1] == '-')
			return 0;
		if (i < hn) {
			if (s[i] != '.')
				return 0;
			i++;
			if (i == hn)
				return 0;
		}
	}
	return hn > 0;
}

static int tag_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > RT_IMAGE_TAG_MAX || !(is_alnum(s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++)
		if (!(is_alnum(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

int rt_image_ref_parse(const char *s, struct rt_image_ref *r, struct rt_err *e)
{
	const char *at, *slash, *colon, *p, *first_end;
	char name[RT_IMAGE_NAME_MAX];
	size_t len = strlen(s), nlen, dlen, i;
	int library = 0;

	memset(r, 0, sizeof *r);
	if (len == 0)
		return rt_err_set(e, 0, "empty image reference");
	if (len > RT_STORE_REF_MAX + RT_SHA256_STR)
		return rt_err_set(e, 0, "image reference too long");
	at = strchr(s, '@');
	if (at) {
		uint8_t d[RT_SHA256_LEN];

		if (rt_sha256_parse(at + 1, strlen(at + 1), d, e) < 0)
			return rt_err_wrap(e, "invalid reference format");
		rt_sha256_format(d, r->digest);
		len = (size_t)(at - s);
	}
	slash = NULL;
	for (p = s; p < s + len; p++)
		if (*p == '/')
			slash = p;
	colon = NULL;
	for (p = slash ? slash : s; p < s + len; p++)
		if (*p == ':')
			colon = p;
	if (colon) {
		if (!tag_ok(colon + 1, (size_t)(s + len - colon - 1)))
			return rt_err_set(e, 0, "invalid reference format: bad tag");
		memcpy(r->tag, colon + 1, (size_t)(s + len - colon - 1));
		len = (size_t)(colon - s);
	}
	if (len == 0)
		return rt_err_set(e, 0, "invalid reference format: no name");

	/* The first component is a registry when it looks like a host. */
	first_end = memchr(s, '/', len);
	if (first_end) {
		size_t fl = (size_t)(first_end - s);

		if (memchr(s, '.', fl) || memchr(s, ':', fl) ||
		    (fl == 9 && !memcmp(s, "localhost", 9))) {
			if (fl >= sizeof name || !domain_ok(s, fl))
				return rt_err_set(e, 0, "invalid reference format: bad registry");
			if (fl == 15 && !memcmp(s, "index.docker.io", 15)) {
				strcpy(name, "docker.io");
				dlen = 9;
			} else {
				memcpy(name, s, fl);
				name[fl] = '\0';
				dlen = fl;
			}
			s = first_end + 1;
			len -= fl + 1;
			goto path;
		}
	}
	strcpy(name, "docker.io");
	dlen = 9;
path:
	/* the remote name: lowercase components joined by '/' */
	for (p = s, i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			size_t cl = (size_t)(s + i - p);

			for (size_t k = 0; k < cl; k++)
				if (p[k] >= 'A' && p[k] <= 'Z')
					return rt_err_set(e, 0,
							  "invalid reference format: repository name must be lowercase");
			if (!path_component_ok(p, cl))
				return rt_err_set(e, 0, "invalid reference format");
			p = s + i + 1;
		}
	}
	if (len == 64) {
		uint8_t d[RT_SHA256_LEN];
		struct rt_err ig;

		if (rt_sha256_parse_hex(s, len, d, &ig) == 0)
			return rt_err_set(e, 0,
					  "invalid repository name: cannot be a 64-character hex string");
	}
	/* Docker Hub's official images live under library/ */
	library = strcmp(name, "docker.io") == 0;
	if (memchr(s, '/', len))
		library = 0;
	nlen = dlen + 1 + (library ? 8 : 0) + len;
	if (nlen >= sizeof r->name)    /* 255, as Docker */
		return rt_err_set(e, 0, "image name too long");
	if (snprintf(r->name, sizeof r->name, "%s/%s%.*s", name, library ? "library/" : "",
		     (int)len, s) >= (int)sizeof r->name)
		return rt_err_set(e, 0, "image name too long");
	if (!r->tag[0] && !r->digest[0])
		strcpy(r->tag, "latest");
	return 0;
}

const char *rt_image_familiar(const char *full, char *buf, size_t cap)
{
	const char *p = full;

	if (!strncmp(p, "docker.io/", 10)) {
		size_t first = strcspn(p + 10, "/:@");

		/* a first component that looks like a registry keeps the
		 * prefix, or the short form would name another registry */
		if (p[10 + first] == '/' &&
		    (memchr(p + 10, '.', first) || (first == 9 && !strncmp(p + 10, "localhost", 9)))) {
			snprintf(buf, cap, "%s", full);
			return buf;
		}
		p += 10;
		if (!strncmp(p, "library/", 8)) {
			size_t n = strcspn(p + 8, ":@");

			if (!memchr(p + 8, '/', n))
				p += 8;
		}
	}
	snprintf(buf, cap, "%s", p);
	return buf;
}

int rt_image_ref_format(const struct rt_image_ref *r, int familiar, char *buf,
			size_t cap, struct rt_err *e)
{
	char full[RT_STORE_REF_MAX + RT_SHA256_STR];
	int n;

	if (r->tag[0])
		n = snprintf(full, sizeof full, "%s:%s", r->name, r->tag);
	else
		n = snprintf(full, sizeof full, "%s@%s", r->name, r->digest);
	if (n < 0 || (size_t)n >= sizeof full || (size_t)n >= cap)
		return rt_err_set(e, 0, "reference too long");
	if (familiar)
		rt_image_familiar(full, buf, cap);
	else
		strcpy(buf, full);
	return 0;
}

/* --- platforms ----------------------------------------------------------- */

void rt_image_platform_board(struct rt_image_platform *p)
{
	static const struct { const char *rt, *arch, *variant; } map[] = {
		{ "x86_64", "amd64", "" },
		{ "armv7", "arm", "v7" },
		{ "aarch64", "arm64", "" },
		{ "mipsel", "mipsle", "" },
		{ "mips", "mips", "" },
	};
	size_t i;

	strcpy(p->os, "linux");
	snprintf(p->arch, sizeof p->arch, "%s", RT_ARCH);
	p->variant[0] = '\0';
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].rt, RT_ARCH)) {
			strcpy(p->arch, map[i].arch);
			strcpy(p->variant, map[i].variant);
		}
}

static int word_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= 16)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '_')
			return 0;
	return 1;
}

int rt_image_platform_parse(const char *s, struct rt_image_platform *p,
			    struct rt_err *e)
{
	size_t a = strcspn(s, "/"), b, c = 0;

	memset(p, 0, sizeof *p);
	if (!s[a])
		return rt_err_set(e, 0, "platform '%s': want os/arch[/variant]", s);
	b = strcspn(s + a + 1, "/");
	if (s[a + 1 + b])
		c = strlen(s + a + 2 + b);
	if (!word_ok(s, a) || !word_ok(s + a + 1, b) || (s[a + 1 + b] && !word_ok(s + a + 2 + b, c)))
		return rt_err_set(e, 0, "platform '%s': want os/arch[/variant]", s);
	memcpy(p->os, s, a);
	memcpy(p->arch, s + a + 1, b);
	if (c)
		memcpy(p->variant, s + a + 2 + b, c);
	return 0;
}


/* --- sources ------------------------------------------------------------- */

int rt_image_src_read(const struct rt_image_src *src, const char *digest,
		      uint64_t size, void *buf, size_t cap, size_t *len,
		      struct rt_err *e)
{
	uint8_t want[RT_SHA256_LEN], got[RT_SHA256_LEN];
	size_t have = 0;

	*len = 0;
	if (rt_sha256_parse(digest, strlen(digest), want, e) < 0)
		return -1;
	if (size > cap)
		return rt_err_set(e, 0, "%s: %llu bytes, more than the %zu allowed", digest,
				  (unsigned long long)size, cap);
	if (src->open(src->ctx, digest, size, e) < 0)
		return -1;
	for (;;) {
		ssize_t n = src->read(src->ctx, (char *)buf + have, (size_t)size - have, e);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		have += (size_t)n;
		if (have == size)
			break;
	}
	if (have != size)
		return rt_err_set(e, 0, "%s: %zu bytes, its descriptor says %llu", digest, have,
				  (unsigned long long)size);
	rt_sha256_buf(buf, have, got);
	if (memcmp(want, got, sizeof want) != 0)
		return rt_err_set(e, 0, "%s: content does not match its digest", digest);
	*len = have;
	return 0;
}

/* --- loading ------------------------------------------------------------- */

struct plan {
	const struct rt_image_want *want;
	char top[RT_SHA256_STR];        /* what the name points at */
	char digest[RT_SHA256_STR];     /* the image manifest */
	uint64_t size;
	char mediatype[RT_IMAGE_MT_MAX];
	int picked;                     /* found through an index */
	int dup;                        /* same manifest as an earlier plan */
	char id[RT_SHA256_STR];
};

struct loadctx {
	struct rt_store *s;
	const struct rt_image_src *src;
	const struct rt_image_load_opts *o;
	struct rt_image_platform pf;
	char *doc;                      /* RT_IMAGE_JSON_MAX + 1 */
	char *doc2;
	uint8_t *buf;                   /* blob streaming */
	struct rt_manifest_image m;
	struct rt_manifest_config c;
};

static int read_json(struct loadctx *L, const char *digest, uint64_t size, char *buf,
		     size_t *len, struct rt_manifest_json *d, struct rt_err *e)
{
	if (rt_image_src_read(L->src, digest, size, buf, RT_IMAGE_JSON_MAX, len, e) < 0)
		return -1;
	buf[*len] = '\0';
	if (rt_manifest_parse(d, buf, *len, e) < 0)
		return rt_err_wrap(e, "%s", digest);
	return 0;
}

/* Step 1 for one wanted image: read what its name points at, follow an
 * index to the board's manifest, check both, ask the verifier. */
static int plan_one(struct loadctx *L, const struct rt_image_want *w, struct plan *p,
		    struct rt_err *e)
{
	struct rt_manifest_json top, man;
	size_t len, len2;
	int kind, r = -1;

	memset(p, 0, sizeof *p);
	p->want = w;
	strcpy(p->top, w->digest);
	if (read_json(L, w->digest, w->size, L->doc, &len, &top, e) < 0)
		return -1;
	kind = rt_manifest_kind(&top.j, w->mediatype, e);
	if (kind < 0) {
		rt_err_wrap(e, "%s", w->digest);
		goto out;
	}
	if (kind == RT_MANIFEST_INDEX) {
		struct rt_manifest_desc d;

		if (rt_manifest_pick(&top.j, &L->pf, &d, e) < 0)
			goto out;
		if (read_json(L, d.digest, d.size, L->doc2, &len2, &man, e) < 0)
			goto out;
		kind = rt_manifest_kind(&man.j, d.mediatype, e);
		if (kind >= 0 && rt_manifest_image(&man.j, &L->m, e) < 0)
			kind = -1;
		rt_manifest_free(&man);
		if (kind < 0) {
			rt_err_wrap(e, "%s", d.digest);
			goto out;
		}
		strcpy(p->digest, d.digest);
		strcpy(p->mediatype, d.mediatype);
		p->size = d.size;
		p->picked = 1;
	} else {
		if (rt_manifest_image(&top.j, &L->m, e) < 0) {
			rt_err_wrap(e, "%s", w->digest);
			goto out;
		}
		strcpy(p->digest, w->digest);
		p->size = w->size;
	}
	strcpy(p->id, L->m.config.digest);
	if (L->o->verify &&
	    L->o->verify(L->o->verify_arg, w->name[0] ? w->name : NULL, w->digest, L->doc, len,
			 L->src, e) < 0)
		goto out;
	r = 0;
out:
	rt_manifest_free(&top);
	return r;
}

static int write_info(int dirfd, const char *digest, const struct rt_unpack_record *rec,
		      uint64_t disk, struct rt_err *e)
{
	char buf[512], tree[RT_SHA256_HEX];
	struct rt_json_w w;

	rt_sha256_hex(rec->tree, tree);
	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "digest");
	rt_json_w_str(&w, digest);
	rt_json_w_key(&w, "entries");
	rt_json_w_u64(&w, rec->entries);
	rt_json_w_key(&w, "bytes");
	rt_json_w_u64(&w, rec->bytes);
	rt_json_w_key(&w, "disk");
	rt_json_w_u64(&w, disk);
	rt_json_w_key(&w, "tree");
	rt_json_w_str(&w, tree);
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return -1;
	return rt_io_write_file(dirfd, "info", buf, w.len, 0600, e);
}

int rt_image_info_read(int layerfd, struct rt_image_info *li, struct rt_err *e)
{
	struct rt_json_tok tok[32];
	struct rt_json j;
	char buf[1024], tree[RT_SHA256_HEX];
	size_t len;

	memset(li, 0, sizeof *li);
	if (rt_io_read_file(layerfd, "info", buf, sizeof buf, &len, e) < 0)
		return -1;
	if (rt_json_parse(&j, buf, len, tok, 32, 4, e) < 0 ||
	    rt_json_u64(&j, rt_json_find(&j, 0, "entries"), &li->entries, e) < 0 ||
	    rt_json_u64(&j, rt_json_find(&j, 0, "bytes"), &li->bytes, e) < 0 ||
	    rt_json_u64(&j, rt_json_find(&j, 0, "disk"), &li->disk, e) < 0 ||
	    rt_json_str(&j, rt_json_find(&j, 0, "tree"), tree, sizeof tree, e) < 0 ||
	    rt_sha256_parse_hex(tree, strlen(tree), li->tree, e) < 0)
		return rt_err_set(e, 0, "layer record is corrupt");
	return 0;
}

/* Unpacked bytes of a stored layer (0 when its record is unreadable). */
uint64_t rt_image_layer_bytes(struct rt_store *s, const char *digest, uint64_t *disk)
{
	struct rt_image_info li;
	struct rt_err e;
	int fd = rt_store_layer_open(s, digest, &e);

	if (disk)
		*disk = 0;
	if (fd < 0)
		return 0;
	if (rt_image_info_read(fd, &li, &e) < 0) {
		if (disk)
			rt_store_du(fd, "diff", disk, &e);
		close(fd);
		return 0;
	}
	close(fd);
	if (disk)
		*disk = li.disk;
	return li.bytes;
}

/* Where a layer's compressed bytes are kept as they arrive (only with
 * CONFIG_KEEP_BLOBS): the store's partial file for it, which a later load
 * resumes from, or, while another process holds that one, a file in our
 * own staging dir. */
struct feed {
	int fd;                 /* -1: the bytes are not kept */
	int partial;            /* fd is the store's partial file */
	uint64_t have;          /* bytes in it from an earlier attempt */
	int resumed;            /* this attempt started from them */
	int src_err;            /* it failed reading the source */
};

/* Feed the first n bytes kept in f->fd through the unpacker again. */
static int replay(struct loadctx *L, struct rt_unpack *up, int fd, uint64_t n,
		  struct rt_err *e)
{
	uint64_t off = 0;

	while (off < n) {
		size_t want = n - off < STREAM_BUF ? (size_t)(n - off) : STREAM_BUF;
		ssize_t got = pread(fd, L->buf, want, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return rt_err_sys(e, "partial blob");
		if (got == 0)
			return rt_err_set(e, EIO, "partial blob: shorter than it was");
		if (rt_unpack_push(up, L->buf, (size_t)got, e) < 0)
			return -1;
		off += (uint64_t)got;
	}
	return 0;
}

/* Start over in the kept file: empty it. */
static int feed_reset(struct feed *f, struct rt_err *e)
{
	f->have = 0;
	if (f->fd >= 0 && (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0))
		return rt_err_sys(e, "partial blob");
	return 0;
}

/* Every byte of the blob through up: what f kept from an earlier attempt
 * when the source can continue after it, then the rest from the source
 * (kept in f as it passes). */
static int fetch_layer(struct loadctx *L, const struct rt_manifest_desc *d,
		       struct rt_unpack *up, struct feed *f, struct rt_err *e)
{
	uint64_t at = 0;
	int opened = 0;

	if (f->have > d->size && feed_reset(f, e) < 0)
		return -1;
	if (f->have > 0 && f->have == d->size) {
		at = d->size;   /* all there: cut off before its commit */
	} else if (f->have > 0 && L->src->open_at) {
		if (L->src->open_at(L->src->ctx, d->digest, d->size, f->have, &at, e) < 0) {
			f->src_err = 1;
			return -1;
		}
		opened = 1;
	}
	if (!opened && at == 0) {
		if (L->src->open(L->src->ctx, d->digest, d->size, e) < 0) {
			f->src_err = 1;
			return -1;
		}
		opened = 1;
	}
	if (at == 0 && f->have > 0 && feed_reset(f, e) < 0)
		return -1;
	if (at > 0) {
		f->resumed = 1;
		if (replay(L, up, f->fd, at, e) < 0 || lseek(f->fd, (off_t)at, SEEK_SET) < 0)
			return e->msg[0] ? -1 : rt_err_sys(e, "partial blob");
	}
	while (opened) {
		ssize_t n = L->src->read(L->src->ctx, L->buf, STREAM_BUF, e);

		if (n < 0) {
			f->src_err = 1;
			return -1;
		}
		if (n == 0)
			break;
		if (f->fd >= 0 && rt_io_write_all(f->fd, L->buf, (size_t)n, e) < 0)
			return rt_err_wrap(e, "keep blob");
		if (rt_unpack_push(up, L->buf, (size_t)n, e) < 0)
			return -1;
	}
	return 0;
}

/* One attempt at a layer: u-<hex>/diff from the bytes, then its record,
 * then the rename to l-<hex> that marks it complete. */
static int stage_once(struct loadctx *L, const struct rt_manifest_desc *d,
		      const char *diff_id, uint64_t max, uint64_t *bytes, struct feed *f,
		      struct rt_err *e)
{
	struct rt_store *s = L->s;
	char u[2 + RT_SHA256_HEX], l[2 + RT_SHA256_HEX];
	struct rt_unpack_opts uo;
	struct rt_unpack_record rec;
	struct rt_unpack_stats st;
	struct rt_unpack *up = NULL;
	int ufd = -1, dfd = -1, r = -1;

	memset(&uo, 0, sizeof uo);
	if (rt_manifest_layer_comp(d->mediatype, &uo.comp, e) < 0)
		return -1;
	rt_sha256_parse(d->digest, strlen(d->digest), uo.digest, e);
	uo.size = d->size;
	uo.lim = L->o->lim;
	if (max < uo.lim.layer_bytes)
		uo.lim.layer_bytes = max;
	uo.blobfd = -1;
	uo.statfd = s->rootfd;
	uo.reserve = s->reserve;
	if (L->src->diff_ids && (uo.comp != RT_UNPACK_TAR || strcmp(diff_id, d->digest) != 0)) {
		uo.check_diff = 1;
		rt_sha256_parse(diff_id, strlen(diff_id), uo.diff_id, e);
	}
	snprintf(u, sizeof u, "u-%s", d->digest + 7);
	snprintf(l, sizeof l, "l-%s", d->digest + 7);
	if (rt_store_stage(s, e) < 0 || rt_store_rmtree(s->stagefd, u, e) < 0)
		return -1;
	if (mkdirat(s->stagefd, u, 0700) < 0)
		return rt_err_sys(e, "staging dir");
	ufd = openat(s->stagefd, u, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ufd < 0 || mkdirat(ufd, "diff", 0755) < 0 ||
	    (dfd = openat(ufd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rt_err_sys(e, "staging dir");
		goto out;
	}
	up = rt_unpack_new(dfd, &uo, e);
	if (!up || fetch_layer(L, d, up, f, e) < 0)
		goto out;
	if (rt_unpack_finish(up, &st, e) < 0 || rt_unpack_record_of(up, &rec, e) < 0 ||
	    write_info(ufd, d->digest, &rec, rec.disk, e) < 0)
		goto out;
	if (renameat(s->stagefd, u, s->stagefd, l) < 0) {
		rt_err_sys(e, "staging dir");
		goto out;
	}
	*bytes = st.out;
	r = 0;
out:
	rt_unpack_free(up);
	rt_io_close(&dfd);
	rt_io_close(&ufd);
	if (r < 0) {
		struct rt_err ig;

		rt_store_rmtree(s->stagefd, u, &ig);
	}
	return r;
}

/* Open where the layer's compressed bytes are kept (CONFIG_KEEP_BLOBS). */
static int feed_open(struct rt_store *s, const char *digest, struct feed *f,
		     struct rt_err *e)
{
	char p[2 + RT_SHA256_HEX];
	struct rt_err pe;

	f->fd = rt_store_partial_open(s, digest, &f->have, &pe);
	if (f->fd >= 0) {
		f->partial = 1;
		return 0;
	}
	if (pe.errnum != EWOULDBLOCK) {
		*e = pe;
		return -1;
	}
	/* Another load is fetching it too: ours goes to our staging dir. */
	snprintf(p, sizeof p, "p-%s", digest + 7);
	if (rt_store_stage(s, e) < 0)
		return -1;
	f->fd = openat(s->stagefd, p, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return rt_err_sys(e, "stage blob");
	return 0;
}

/* The kept bytes are the verified blob now: into staging as b-<hex>. */
static int feed_stage(struct rt_store *s, const char *digest, struct feed *f,
		      struct rt_err *e)
{
	char p[2 + RT_SHA256_HEX], b[2 + RT_SHA256_HEX];

	if (f->partial)
		return rt_store_partial_stage(s, digest, e);
	snprintf(p, sizeof p, "p-%s", digest + 7);
	snprintf(b, sizeof b, "b-%s", digest + 7);
	if (renameat(s->stagefd, p, s->stagefd, b) < 0)
		return rt_err_sys(e, "stage blob");
	return 0;
}

/* Stream one layer from the source into staging, resuming from its
 * partial file when there is one. */
static int stage_layer(struct loadctx *L, const struct rt_manifest_desc *d,
		       const char *diff_id, uint64_t max, uint64_t *bytes, struct rt_err *e)
{
	struct rt_store *s = L->s;
	struct feed f = { -1, 0, 0, 0, 0 };
	int r;

	if (IS_ENABLED(CONFIG_KEEP_BLOBS) && feed_open(s, d->digest, &f, e) < 0)
		return rt_err_wrap(e, "layer %s", d->digest);
	r = stage_once(L, d, diff_id, max, bytes, &f, e);
	if (r < 0 && f.resumed && !f.src_err) {
		/* What was kept did not verify (a power cut can leave junk at
		 * the end of a file): once more, from the first byte. */
		struct rt_err ig;

		f.resumed = 0;
		if (feed_reset(&f, &ig) == 0)
			r = stage_once(L, d, diff_id, max, bytes, &f, e);
	}
	if (r == 0 && f.fd >= 0)
		r = feed_stage(s, d->digest, &f, e);
	if (r < 0 && f.fd >= 0) {
		/* Bytes cut off by the source may be resumed; bytes that
		 * proved wrong may not. */
		if (!f.partial) {
			char p[2 + RT_SHA256_HEX];

			snprintf(p, sizeof p, "p-%s", d->digest + 7);
			unlinkat(s->stagefd, p, 0);
		} else if (!f.src_err) {
			rt_store_partial_drop(s, d->digest);
		}
	}
	rt_io_close(&f.fd);
	if (r < 0)
		return rt_err_wrap(e, "layer %s", d->digest);
	return 0;
}

static int platform_is(const struct rt_image_platform *want, const struct rt_image_platform *c)
{
	return !strcmp(want->os, c->os) && !strcmp(want->arch, c->arch);
}

/* Step 2 for one image: config, layers, manifest into staging. */
static int stage_image(struct loadctx *L, struct plan *p, struct rt_err *e)
{
	struct rt_manifest_json man, cfg;
	uint64_t total = 0;
	size_t len, clen;
	int i, r = -1;

	if (read_json(L, p->digest, p->size, L->doc, &len, &man, e) < 0)
		return -1;
	if (rt_manifest_kind(&man.j, p->mediatype, e) != RT_MANIFEST_MANIFEST ||
	    rt_manifest_image(&man.j, &L->m, e) < 0) {
		if (e->msg[0] == '\0')
			rt_err_set(e, 0, "not an image manifest");
		rt_manifest_free(&man);
		return rt_err_wrap(e, "%s", p->digest);
	}
	rt_manifest_free(&man);
	if (read_json(L, L->m.config.digest, L->m.config.size, L->doc2, &clen, &cfg, e) < 0)
		return rt_err_wrap(e, "config");
	if (rt_manifest_config(&cfg.j, &L->c, e) < 0) {
		rt_err_wrap(e, "%s", L->m.config.digest);
		goto out;
	}
	if (L->c.ndiff != L->m.nlayers) {
		rt_err_set(e, 0, "config lists %d layers, the manifest %d", L->c.ndiff, L->m.nlayers);
		goto out;
	}
	if (!platform_is(&L->pf, &L->c.platform)) {
		rt_err_set(e, 0, "image is for %s/%s, not %s/%s", L->c.platform.os,
			   L->c.platform.arch, L->pf.os, L->pf.arch);
		goto out;
	}
	if (rt_store_stage_blob(L->s, L->m.config.digest, L->doc2, clen, e) < 0)
		goto out;
	for (i = 0; i < L->m.nlayers; i++) {
		const struct rt_manifest_desc *d = &L->m.layers[i];
		uint64_t n = 0;

		if (rt_store_layer_has(L->s, d->digest)) {
			n = rt_image_layer_bytes(L->s, d->digest, NULL);
			if (L->o->layer)
				L->o->layer(L->o->arg, d->digest, RT_IMAGE_LAYER_EXISTS);
		} else {
			if (total >= L->o->lim.image_bytes) {
				rt_err_set(e, 0, "image expands to more than %llu bytes",
					   (unsigned long long)L->o->lim.image_bytes);
				goto out;
			}
			/* Committed at once: a load cut off later skips it. */
			if (stage_layer(L, d, L->c.diff_ids[i], L->o->lim.image_bytes - total, &n, e) < 0 ||
			    rt_store_commit(L->s, e) < 0)
				goto out;
			if (L->o->layer)
				L->o->layer(L->o->arg, d->digest, RT_IMAGE_LAYER_DONE);
		}
		total += n;
		if (total > L->o->lim.image_bytes) {
			rt_err_set(e, 0, "image expands to more than %llu bytes",
				   (unsigned long long)L->o->lim.image_bytes);
			goto out;
		}
	}
	/* read again: the buffer held the config meanwhile */
	if (rt_image_src_read(L->src, p->digest, p->size, L->doc, RT_IMAGE_JSON_MAX, &len, e) < 0 ||
	    rt_store_stage_blob(L->s, p->digest, L->doc, len, e) < 0)
		goto out;
	r = 0;
out:
	rt_manifest_free(&cfg);
	return r;
}

int rt_image_has_entry(const struct rt_refs *r, const char *digest, int named_only,
			    size_t skip)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (i != skip && !strcmp(r->v[i].digest, digest) && (!named_only || r->v[i].name[0]))
			return 1;
	return 0;
}

/* Point name at digest. The image it pointed at before keeps its other
 * tags, or becomes an untagged image. */
int rt_image_set_name(struct rt_refs *r, const char *name, const char *digest,
		    struct rt_err *e)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (strcmp(r->v[i].name, name) != 0)
			continue;
		if (!strcmp(r->v[i].digest, digest))
			return 0;
		if (!rt_image_has_entry(r, r->v[i].digest, 0, i)) {
			char old[RT_SHA256_STR];

			strcpy(old, r->v[i].digest);
			rt_store_refs_del(r, i);
			if (rt_store_refs_add(r, old, "", e) < 0)
				return -1;
		} else {
			rt_store_refs_del(r, i);
		}
		break;
	}
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].digest, digest) && !r->v[i].name[0]) {
			rt_store_refs_del(r, i);
			break;
		}
	return rt_store_refs_add(r, digest, name, e);
}

struct load_names {
	const struct plan *p;
	size_t n;
};

static int apply_load(struct rt_refs *r, void *arg, struct rt_err *e)
{
	const struct load_names *ln = arg;
	size_t i;

	for (i = 0; i < ln->n; i++) {
		const struct plan *p = &ln->p[i];

		if (p->want->name[0]) {
			if (rt_image_set_name(r, p->want->name, p->digest, e) < 0)
				return -1;
		} else if (!rt_image_has_entry(r, p->digest, 0, (size_t)-1)) {
			if (rt_store_refs_add(r, p->digest, "", e) < 0)
				return -1;
		}
	}
	return 1;
}

int rt_image_load(struct rt_store *s, const struct rt_image_src *src,
		  const struct rt_image_want *w, size_t n,
		  const struct rt_image_load_opts *o, struct rt_err *e)
{
	struct loadctx L;
	struct plan *plans = NULL;
	size_t i, k;
	int r = -1;

	if (n == 0)
		return rt_err_set(e, 0, "no image in the input");
	memset(&L, 0, sizeof L);
	rt_err_clear(e);
	L.s = s;
	L.src = src;
	L.o = o;
	if (o->platform)
		L.pf = *o->platform;
	else
		rt_image_platform_board(&L.pf);
	L.doc = malloc(RT_IMAGE_JSON_MAX + 1);
	L.doc2 = malloc(RT_IMAGE_JSON_MAX + 1);
	L.buf = malloc(STREAM_BUF);
	plans = calloc(n, sizeof *plans);
	if (!L.doc || !L.doc2 || !L.buf || !plans) {
		rt_err_sys(e, "load");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (plan_one(&L, &w[i], &plans[i], e) < 0) {
			if (w[i].name[0]) {
				char fam[RT_STORE_REF_MAX];

				rt_err_wrap(e, "%s", rt_image_familiar(w[i].name, fam, sizeof fam));
			}
			goto out;
		}
		for (k = 0; k < i; k++)
			if (!strcmp(plans[k].digest, plans[i].digest))
				plans[i].dup = 1;
	}
	for (i = 0; i < n; i++) {
		if (plans[i].dup)
			continue;
		if (stage_image(&L, &plans[i], e) < 0) {
			if (w[i].name[0]) {
				char fam[RT_STORE_REF_MAX];

				rt_err_wrap(e, "%s", rt_image_familiar(w[i].name, fam, sizeof fam));
			}
			goto out;
		}
	}
	if (rt_store_commit(s, e) < 0)
		goto out;
	{
		struct load_names ln = { plans, n };

		if (rt_store_refs_update(s, apply_load, &ln, e) < 0)
			goto out;
	}
	if (o->commit && o->commit(o->verify_arg, e) < 0)
		goto out;
	if (o->loaded)
		for (i = 0; i < n; i++)
			o->loaded(o->arg, w[i].name[0] ? w[i].name : NULL, plans[i].id);
	r = 0;
out:
	free(plans);
	free(L.doc);
	free(L.doc2);
	free(L.buf);
	return r;
}
