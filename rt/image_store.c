#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "image_int.h"
#include "io.h"
#include "json.h"
#include "manifest.h"

/* --- finding images ------------------------------------------------------ */

/* The manifest and config of a stored image, read and checked. */
static int read_image(struct rt_store *s, const char *digest, char **mbuf, size_t *mlen,
		      struct rt_manifest_image *m, char **cbuf, size_t *clen,
		      struct rt_manifest_config *c, struct rt_err *e)
{
	struct rt_manifest_json mj, cj;

	*mbuf = malloc(RT_IMAGE_JSON_MAX + 1);
	if (cbuf)
		*cbuf = malloc(RT_IMAGE_JSON_MAX + 1);
	if (!*mbuf || (cbuf && !*cbuf))
		goto fail_sys;
	if (rt_store_blob_read(s, digest, *mbuf, RT_IMAGE_JSON_MAX, mlen, e) < 0)
		goto fail;
	(*mbuf)[*mlen] = '\0';
	if (rt_manifest_parse(&mj, *mbuf, *mlen, e) < 0)
		goto fail;
	if (rt_manifest_image(&mj.j, m, e) < 0) {
		rt_manifest_free(&mj);
		goto fail;
	}
	rt_manifest_free(&mj);
	if (!cbuf)
		return 0;
	if (rt_store_blob_read(s, m->config.digest, *cbuf, RT_IMAGE_JSON_MAX, clen, e) < 0)
		goto fail;
	(*cbuf)[*clen] = '\0';
	if (rt_manifest_parse(&cj, *cbuf, *clen, e) < 0)
		goto fail;
	if (c && rt_manifest_config(&cj.j, c, e) < 0) {
		rt_manifest_free(&cj);
		goto fail;
	}
	rt_manifest_free(&cj);
	return 0;
fail_sys:
	rt_err_sys(e, "read image");
fail:
	free(*mbuf);
	*mbuf = NULL;
	if (cbuf) {
		free(*cbuf);
		*cbuf = NULL;
	}
	return rt_err_wrap(e, "image %s", digest);
}

/* Config digest of a stored manifest ("" when unreadable). */
static void config_of(struct rt_store *s, const char *digest, char id[RT_SHA256_STR])
{
	struct rt_manifest_image *m = malloc(sizeof *m);
	struct rt_err e;
	char *mb = NULL;
	size_t ml;

	id[0] = '\0';
	if (m && read_image(s, digest, &mb, &ml, m, NULL, NULL, NULL, &e) == 0)
		strcpy(id, m->config.digest);
	free(mb);
	free(m);
}

static int is_hex(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int find_in(struct rt_store *s, const struct rt_refs *r, const char *what,
		   char digest[RT_SHA256_STR], struct rt_err *e)
{
	struct rt_image_ref ref;
	struct rt_err pe;
	const char *hex = what;
	char full[RT_STORE_REF_MAX], found[RT_SHA256_STR];
	size_t i, hl;
	int nfound = 0;

	if (rt_image_ref_parse(what, &ref, &pe) == 0) {
		if (ref.tag[0] && rt_image_ref_format(&ref, 0, full, sizeof full, &pe) == 0) {
			for (i = 0; i < r->n; i++)
				if (!strcmp(r->v[i].name, full)) {
					if (ref.digest[0] && strcmp(ref.digest, r->v[i].digest) != 0)
						break;
					strcpy(digest, r->v[i].digest);
					return 0;
				}
		} else if (ref.digest[0]) {
			for (i = 0; i < r->n; i++)
				if (!strcmp(r->v[i].digest, ref.digest)) {
					strcpy(digest, ref.digest);
					return 0;
				}
		}
	}
	/* An image ID (config digest), whole or a unique prefix, or a
	 * manifest digest. */
	if (!strncmp(hex, "sha256:", 7))
		hex += 7;
	hl = strlen(hex);
	if (is_hex(hex) && hl <= 64) {
		for (i = 0; i < r->n; i++) {
			char id[RT_SHA256_STR];
			size_t k;
			int dup = 0;

			for (k = 0; k < i; k++)
				dup |= !strcmp(r->v[k].digest, r->v[i].digest);
			if (dup)
				continue;
			if (hl == 64 && !strcmp(r->v[i].digest + 7, hex)) {
				strcpy(digest, r->v[i].digest);
				return 0;
			}
			config_of(s, r->v[i].digest, id);
			if (id[0] && !strncmp(id + 7, hex, hl)) {
				if (nfound && strcmp(found, r->v[i].digest) != 0)
					return rt_err_set(e, 0, "%s matches more than one image", what);
				strcpy(found, r->v[i].digest);
				nfound = 1;
			}
		}
		if (nfound) {
			strcpy(digest, found);
			return 0;
		}
	}
	{
		char shown[RT_STORE_REF_MAX + RT_SHA256_STR];

		if (rt_image_ref_parse(what, &ref, &pe) == 0 &&
		    rt_image_ref_format(&ref, 1, shown, sizeof shown, &pe) == 0)
			return rt_err_set(e, ENOENT, "No such image: %s", shown);
		return rt_err_set(e, ENOENT, "No such image: %.100s", what);
	}
}

int rt_image_find(struct rt_store *s, const char *what, char digest[RT_SHA256_STR],
		  struct rt_err *e)
{
	struct rt_refs r;
	int rr;

	if (rt_store_refs_read(s, &r, e) < 0)
		return -1;
	rr = find_in(s, &r, what, digest, e);
	rt_store_refs_free(&r);
	return rr;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct rt_image_row *x = a, *y = b;

	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(x->name, y->name);
}

int rt_image_list(struct rt_store *s, struct rt_image_row **rows, size_t *n,
		  struct rt_err *e)
{
	struct rt_manifest_image *m = calloc(1, sizeof *m);
	struct rt_manifest_config *c = calloc(1, sizeof *c);
	struct rt_image_row *v = NULL;
	struct rt_refs r;
	size_t i, k;

	*rows = NULL;
	*n = 0;
	if (!m || !c) {
		free(m);
		free(c);
		return rt_err_sys(e, "images");
	}
	if (rt_store_refs_read(s, &r, e) < 0)
		goto fail;
	v = calloc(r.n ? r.n : 1, sizeof *v);
	if (!v) {
		rt_err_sys(e, "images");
		goto fail;
	}
	for (i = 0; i < r.n; i++) {
		struct rt_image_row *row = &v[i];

		strcpy(row->name, r.v[i].name);
		strcpy(row->digest, r.v[i].digest);
		for (k = 0; k < i; k++)
			if (!strcmp(v[k].digest, row->digest))
				break;
		if (k < i) {
			strcpy(row->id, v[k].id);
			row->created = v[k].created;
			row->size = v[k].size;
			continue;
		}
		{
			char *mb = NULL, *cb = NULL;
			size_t ml, cl;
			struct rt_err ig;
			int l;

			row->created = -1;
			if (read_image(s, row->digest, &mb, &ml, m, &cb, &cl, c, &ig) == 0) {
				strcpy(row->id, m->config.digest);
				row->created = c->created;
				for (l = 0; l < m->nlayers; l++)
					row->size += rt_image_layer_bytes(s, m->layers[l].digest, NULL);
			}
			free(mb);
			free(cb);
		}
	}
	qsort(v, r.n, sizeof *v, cmp_rows);
	*rows = v;
	*n = r.n;
	rt_store_refs_free(&r);
	free(m);
	free(c);
	return 0;
fail:
	rt_store_refs_free(&r);
	free(v);
	free(m);
	free(c);
	return -1;
}

int rt_image_doc_read(struct rt_store *s, const char *digest, struct rt_image_doc *d,
		      struct rt_err *e)
{
	struct rt_manifest_image *m = malloc(sizeof *m);
	int i;

	memset(d, 0, sizeof *d);
	if (!m)
		return rt_err_sys(e, "image");
	if (read_image(s, digest, &d->manifest, &d->mlen, m, &d->config, &d->clen, NULL, e) < 0) {
		free(m);
		return -1;
	}
	strcpy(d->digest, digest);
	strcpy(d->id, m->config.digest);
	d->nlayers = m->nlayers;
	for (i = 0; i < m->nlayers; i++) {
		strcpy(d->layers[i], m->layers[i].digest);
		d->layer_bytes[i] = rt_image_layer_bytes(s, m->layers[i].digest, NULL);
		d->size += d->layer_bytes[i];
	}
	free(m);
	return 0;
}

void rt_image_doc_free(struct rt_image_doc *d)
{
	free(d->manifest);
	free(d->config);
	d->manifest = d->config = NULL;
}

/* --- tags, removal, gc --------------------------------------------------- */

struct tagarg {
	const char *what;
	const char *name;
	struct rt_store *s;
};

static int apply_tag(struct rt_refs *r, void *arg, struct rt_err *e)
{
	const struct tagarg *t = arg;
	char digest[RT_SHA256_STR];

	if (find_in(t->s, r, t->what, digest, e) < 0)
		return -1;
	if (rt_image_set_name(r, t->name, digest, e) < 0)
		return -1;
	return 1;
}

int rt_image_tag(struct rt_store *s, const char *src, const char *dst, struct rt_err *e)
{
	struct rt_image_ref ref;
	char full[RT_STORE_REF_MAX];
	struct tagarg t = { src, full, s };

	if (rt_image_ref_parse(dst, &ref, e) < 0)
		return rt_err_wrap(e, "%s", dst);
	if (!ref.tag[0] || ref.digest[0])
		return rt_err_set(e, 0, "%s: a tag cannot carry a digest", dst);
	if (rt_image_ref_format(&ref, 0, full, sizeof full, e) < 0)
		return -1;
	return rt_store_refs_update(s, apply_tag, &t, e);
}

/* Sorted set of "b<hex>"/"l<hex>" keys that gc must keep. */
struct keep {
	char (*v)[66];
	size_t n, cap;
};

static int keep_add(struct keep *k, char kind, const char *digest)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 256;
		void *v = realloc(k->v, cap * sizeof k->v[0]);

		if (!v)
			return -1;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n][0] = kind;
	memcpy(k->v[k->n] + 1, digest + 7, RT_SHA256_HEX);
	k->n++;
	return 0;
}

static int keycmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int keep_has(void *arg, char kind, const char *hex)
{
	const struct keep *k = arg;
	char key[66];

	if (!k->n)
		return 0;
	key[0] = kind;
	memcpy(key + 1, hex, RT_SHA256_HEX);
	return bsearch(key, k->v, k->n, sizeof k->v[0], keycmp) != NULL;
}

/* Every blob and layer the images of refs use. A manifest that cannot be
 * read stops gc: its layers would look unused. */
static int mark(struct rt_store *s, const struct rt_refs *r, struct keep *k,
		struct rt_err *e)
{
	struct rt_manifest_image *m = malloc(sizeof *m);
	size_t i;
	int l;

	if (!m)
		return rt_err_sys(e, "gc");
	for (i = 0; i < r->n; i++) {
		char *mb = NULL;
		size_t ml;

		if (keep_has(k, 'b', r->v[i].digest + 7))
			continue;
		if (read_image(s, r->v[i].digest, &mb, &ml, m, NULL, NULL, NULL, e) < 0) {
			free(m);
			return rt_err_wrap(e, "gc stopped (remove the image with rmi -f)");
		}
		free(mb);
		if (keep_add(k, 'b', r->v[i].digest) < 0 || keep_add(k, 'b', m->config.digest) < 0)
			goto nomem;
		for (l = 0; l < m->nlayers; l++)
			if (keep_add(k, 'b', m->layers[l].digest) < 0 ||
			    keep_add(k, 'l', m->layers[l].digest) < 0)
				goto nomem;
		qsort(k->v, k->n, sizeof k->v[0], keycmp);
	}
	free(m);
	return 0;
nomem:
	free(m);
	return rt_err_sys(e, "gc");
}

int rt_image_gc(struct rt_store *s, uint64_t *freed, struct rt_err *e)
{
	struct keep k = { NULL, 0, 0 };
	struct rt_refs r;
	int rr;

	if (rt_store_refs_read(s, &r, e) < 0)
		return -1;
	rr = mark(s, &r, &k, e);
	rt_store_refs_free(&r);
	if (rr == 0)
		rr = rt_store_sweep(s, keep_has, &k, freed, e);
	free(k.v);
	return rr;
}

static int users(rt_image_in_use_fn in_use, void *arg, const char *digest,
		 const char *id, char *who, size_t cap, struct rt_err *e)
{
	if (!in_use)
		return 0;
	return in_use(arg, digest, id, who, cap, e);
}

struct rmarg {
	struct rt_store *s;
	const char *what;
	int force;
	rt_image_in_use_fn in_use;
	void *in_use_arg;
	rt_image_event_fn ev;
	void *ev_arg;
	/* what happened, reported once the refs are written */
	char untagged[64][RT_STORE_REF_MAX];
	int nuntagged;
	char deleted[RT_SHA256_STR];
};

static int untag_all(struct rmarg *a, struct rt_refs *r, const char *digest, int keep)
{
	size_t i = 0;

	while (i < r->n) {
		if (strcmp(r->v[i].digest, digest) != 0) {
			i++;
			continue;
		}
		if (r->v[i].name[0] && a->nuntagged < 64)
			strcpy(a->untagged[a->nuntagged++], r->v[i].name);
		rt_store_refs_del(r, i);
	}
	if (keep) {
		struct rt_err e;

		return rt_store_refs_add(r, digest, "", &e);
	}
	return 0;
}

static int apply_rm(struct rt_refs *r, void *arg, struct rt_err *e)
{
	struct rmarg *a = arg;
	struct rt_image_ref ref;
	char digest[RT_SHA256_STR], id[RT_SHA256_STR], who[128], full[RT_STORE_REF_MAX];
	struct rt_err pe;
	size_t i, ntags = 0;
	int by_name = 0, u;

	if (find_in(a->s, r, a->what, digest, e) < 0)
		return -1;
	if (rt_image_ref_parse(a->what, &ref, &pe) == 0 && ref.tag[0] && !ref.digest[0] &&
	    rt_image_ref_format(&ref, 0, full, sizeof full, &pe) == 0)
		for (i = 0; i < r->n; i++)
			by_name |= !strcmp(r->v[i].name, full);
	for (i = 0; i < r->n; i++)
		ntags += !strcmp(r->v[i].digest, digest) && r->v[i].name[0];
	config_of(a->s, digest, id);
	u = users(a->in_use, a->in_use_arg, digest, id, who, sizeof who, e);
	if (u < 0)
		return -1;
	if (by_name && ntags > 1) {
		/* one of several names: only the name goes */
		for (i = 0; i < r->n; i++)
			if (!strcmp(r->v[i].name, full)) {
				strcpy(a->untagged[a->nuntagged++], full);
				rt_store_refs_del(r, i);
				break;
			}
		return 1;
	}
	if (u > 0 && !a->force) {
		char fam[RT_STORE_REF_MAX];

		if (by_name)
			return rt_err_set(e, 0,
					  "conflict: unable to remove repository reference \"%s\" "
					  "(must force) - container %s is using its referenced image %.12s",
					  rt_image_familiar(full, fam, sizeof fam), who, id + 7);
		return rt_err_set(e, 0,
				  "conflict: unable to delete %.12s (must be forced) - "
				  "image is being used by container %s", id + 7, who);
	}
	if (!by_name && ntags > 1 && !a->force)
		return rt_err_set(e, 0, "conflict: unable to delete %.12s (must be forced) - "
				  "image is referenced in multiple repositories", id + 7);
	if (untag_all(a, r, digest, u > 0) < 0)
		return rt_err_set(e, 0, "references");
	if (u == 0)
		strcpy(a->deleted, id[0] ? id : digest);
	return 1;
}

static void report(struct rmarg *a)
{
	int i;

	if (!a->ev)
		return;
	for (i = 0; i < a->nuntagged; i++)
		a->ev(a->ev_arg, "Untagged", a->untagged[i]);
	if (a->deleted[0])
		a->ev(a->ev_arg, "Deleted", a->deleted);
}

int rt_image_remove(struct rt_store *s, const char *what, int force,
		    rt_image_in_use_fn in_use, void *in_use_arg,
		    rt_image_event_fn ev, void *ev_arg, uint64_t *freed,
		    struct rt_err *e)
{
	struct rmarg *a = calloc(1, sizeof *a);
	int r;

	if (!a)
		return rt_err_sys(e, "rmi");
	a->s = s;
	a->what = what;
	a->force = force;
	a->in_use = in_use;
	a->in_use_arg = in_use_arg;
	a->ev = ev;
	a->ev_arg = ev_arg;
	r = rt_store_refs_update(s, apply_rm, a, e);
	if (r == 0) {
		report(a);
		r = rt_image_gc(s, freed, e);
	}
	free(a);
	return r;
}

struct prunearg {
	struct rt_store *s;
	int all;
	rt_image_in_use_fn in_use;
	void *in_use_arg;
	char (*deleted)[RT_SHA256_STR];
	size_t ndeleted;
	char (*untagged)[RT_STORE_REF_MAX];
	size_t nuntagged;
};

static int apply_prune(struct rt_refs *r, void *arg, struct rt_err *e)
{
	struct prunearg *a = arg;
	size_t i = 0, k;
	int changed = 0;

	a->deleted = calloc(r->n ? r->n : 1, sizeof a->deleted[0]);
	a->untagged = calloc(r->n ? r->n : 1, sizeof a->untagged[0]);
	if (!a->deleted || !a->untagged)
		return rt_err_sys(e, "prune");
	while (i < r->n) {
		char digest[RT_SHA256_STR], id[RT_SHA256_STR], who[128];
		int u;

		if (r->v[i].name[0] && !a->all) {
			i++;
			continue;
		}
		strcpy(digest, r->v[i].digest);
		config_of(a->s, digest, id);
		u = users(a->in_use, a->in_use_arg, digest, id, who, sizeof who, e);
		if (u < 0)
			return -1;
		if (u > 0) {
			i++;
			continue;
		}
		for (k = 0; k < r->n;) {
			if (strcmp(r->v[k].digest, digest) != 0) {
				k++;
				continue;
			}
			if (r->v[k].name[0])
				strcpy(a->untagged[a->nuntagged++], r->v[k].name);
			rt_store_refs_del(r, k);
		}
		strcpy(a->deleted[a->ndeleted++], id[0] ? id : digest);
		changed = 1;
		i = 0;
	}
	return changed;
}

int rt_image_prune(struct rt_store *s, int all, rt_image_in_use_fn in_use,
		   void *in_use_arg, rt_image_event_fn ev, void *ev_arg,
		   uint64_t *freed, struct rt_err *e)
{
	struct prunearg a = { s, all, in_use, in_use_arg, NULL, 0, NULL, 0 };
	size_t i;
	int r;

	r = rt_store_refs_update(s, apply_prune, &a, e);
	if (r == 0 && ev) {
		for (i = 0; i < a.nuntagged; i++)
			ev(ev_arg, "untagged", a.untagged[i]);
		for (i = 0; i < a.ndeleted; i++)
			ev(ev_arg, "deleted", a.deleted[i]);
	}
	free(a.deleted);
	free(a.untagged);
	if (r == 0)
		r = rt_image_gc(s, freed, e);
	/* and the partial downloads interrupted pulls left to resume */
	if (r == 0)
		r = rt_store_partial_clear(s, freed, e);
	return r;
}

/* --- verify -------------------------------------------------------------- */

static int hash_blob(struct rt_store *s, const char *digest, uint64_t size, uint8_t *buf,
		     struct rt_err *e)
{
	uint8_t want[RT_SHA256_LEN], got[RT_SHA256_LEN];
	struct rt_sha256 h;
	uint64_t total = 0;
	ssize_t n;
	int fd = rt_store_blob_open(s, digest, e);

	if (fd < 0)
		return -1;
	rt_sha256_parse(digest, strlen(digest), want, e);
	rt_sha256_init(&h);
	while ((n = read(fd, buf, STREAM_BUF)) > 0) {
		rt_sha256_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return rt_err_sys(e, "read blob %s", digest);
	rt_sha256_final(&h, got);
	if (total != size || memcmp(want, got, sizeof got) != 0)
		return rt_err_set(e, 0, "blob %s: content does not match its digest", digest);
	return 0;
}

int rt_image_verify(struct rt_store *s, const char *digest, rt_image_event_fn ev,
		    void *ev_arg, struct rt_err *e)
{
	struct rt_manifest_image *m = calloc(1, sizeof *m);
	struct rt_manifest_config *c = calloc(1, sizeof *c);
	uint8_t *buf = malloc(STREAM_BUF);
	char *mb = NULL, *cb = NULL, what[200];
	size_t ml = 0, cl = 0;
	int i, r = -1;

	if (!m || !c || !buf) {
		rt_err_sys(e, "verify");
		goto out;
	}
	if (read_image(s, digest, &mb, &ml, m, &cb, &cl, c, e) < 0)
		goto out;
	snprintf(what, sizeof what, "manifest %s", digest);
	if (ev)
		ev(ev_arg, "ok", what);
	snprintf(what, sizeof what, "config %s", m->config.digest);
	if (ev)
		ev(ev_arg, "ok", what);
	if (c->ndiff != m->nlayers) {
		rt_err_set(e, 0, "config lists %d layers, the manifest %d", c->ndiff, m->nlayers);
		goto out;
	}
	for (i = 0; i < m->nlayers; i++) {
		const char *d = m->layers[i].digest;
		struct rt_unpack_record rec;
		struct rt_image_info li;
		int fd, dfd;

		if (rt_store_blob_has(s, d)) {
			if (hash_blob(s, d, m->layers[i].size, buf, e) < 0)
				goto out;
			snprintf(what, sizeof what, "layer blob %s", d);
			if (ev)
				ev(ev_arg, "ok", what);
		}
		fd = rt_store_layer_open(s, d, e);
		if (fd < 0)
			goto out;
		if (rt_image_info_read(fd, &li, e) < 0) {
			close(fd);
			rt_err_wrap(e, "layer %s", d);
			goto out;
		}
		dfd = openat(fd, "diff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (dfd < 0) {
			rt_err_sys(e, "layer %s", d);
			goto out;
		}
		if (rt_unpack_record(dfd, &rec, e) < 0) {
			close(dfd);
			rt_err_wrap(e, "layer %s", d);
			goto out;
		}
		close(dfd);
		if (rec.entries != li.entries || rec.bytes != li.bytes ||
		    memcmp(rec.tree, li.tree, sizeof rec.tree) != 0) {
			rt_err_set(e, 0, "layer %s: unpacked files changed (%llu entries, %llu bytes;"
				   " recorded %llu, %llu)", d, (unsigned long long)rec.entries,
				   (unsigned long long)rec.bytes, (unsigned long long)li.entries,
				   (unsigned long long)li.bytes);
			goto out;
		}
		snprintf(what, sizeof what, "layer %s (%llu entries)", d,
			 (unsigned long long)rec.entries);
		if (ev)
			ev(ev_arg, "ok", what);
	}
	r = 0;
out:
	free(mb);
	free(cb);
	free(m);
	free(c);
	free(buf);
	return r;
}

/* --- disk usage ---------------------------------------------------------- */

struct usage {
	char hex[RT_SHA256_HEX];
	uint64_t disk;
	unsigned users;
};

static int usecmp(const void *a, const void *b)
{
	return strcmp(((const struct usage *)a)->hex, ((const struct usage *)b)->hex);
}

static int dir_names(int dirfd, struct usage **v, size_t *n, struct rt_err *e)
{
	struct dirent *d;
	DIR *dir;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return rt_err_sys(e, "df");
	}
	while ((d = readdir(dir))) {
		if (strlen(d->d_name) != 64 || !is_hex(d->d_name))
			continue;
		if (*n == cap) {
			void *nv = realloc(*v, (cap = cap ? 2 * cap : 64) * sizeof **v);

			if (!nv) {
				closedir(dir);
				return rt_err_sys(e, "df");
			}
			*v = nv;
		}
		memset(&(*v)[*n], 0, sizeof **v);
		strcpy((*v)[(*n)++].hex, d->d_name);
	}
	closedir(dir);
	if (*n)
		qsort(*v, *n, sizeof **v, usecmp);
	return 0;
}

int rt_image_df(struct rt_store *s, rt_image_in_use_fn in_use, void *in_use_arg,
		struct rt_image_df *d, struct rt_err *e)
{
	struct rt_manifest_image *m = malloc(sizeof *m);
	struct usage *lv = NULL, *bv = NULL;
	size_t nl = 0, nb = 0, i, k;
	struct keep keep = { NULL, 0, 0 };
	struct rt_refs r = { NULL, 0, 0 };
	uint64_t summed = 0, used_once = 0;
	int rr = -1, l;

	memset(d, 0, sizeof *d);
	if (!m)
		return rt_err_sys(e, "df");
	if (rt_store_refs_read(s, &r, e) < 0 || dir_names(s->layerfd, &lv, &nl, e) < 0 ||
	    dir_names(s->blobfd, &bv, &nb, e) < 0)
		goto out;
	for (i = 0; i < nl; i++) {
		char dg[RT_SHA256_STR];

		snprintf(dg, sizeof dg, "sha256:%s", lv[i].hex);
		rt_image_layer_bytes(s, dg, &lv[i].disk);
		d->layer_disk += lv[i].disk;
	}
	for (i = 0; i < nb; i++) {
		struct stat st;

		if (fstatat(s->blobfd, bv[i].hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
			bv[i].disk = (uint64_t)st.st_blocks * 512;
		d->blob_disk += bv[i].disk;
	}
	d->layers = nl;
	d->blobs = nb;
	for (i = 0; i < r.n; i++) {
		char *mb = NULL, id[RT_SHA256_STR], who[128];
		struct rt_err ig;
		size_t ml;
		int active;

		for (k = 0; k < i && strcmp(r.v[k].digest, r.v[i].digest) != 0; k++)
			;
		if (k < i)
			continue;
		d->images++;
		if (read_image(s, r.v[i].digest, &mb, &ml, m, NULL, NULL, NULL, &ig) < 0)
			continue;
		free(mb);
		strcpy(id, m->config.digest);
		active = users(in_use, in_use_arg, r.v[i].digest, id, who, sizeof who, &ig) > 0;
		d->active += (size_t)active;
		if (active) {
			keep_add(&keep, 'b', r.v[i].digest);
			keep_add(&keep, 'b', id);
		}
		for (l = 0; l < m->nlayers; l++) {
			struct usage key, *u;

			memset(&key, 0, sizeof key);
			memcpy(key.hex, m->layers[l].digest + 7, RT_SHA256_HEX);
			if (active) {
				keep_add(&keep, 'b', m->layers[l].digest);
				keep_add(&keep, 'l', m->layers[l].digest);
			}
			u = nl ? bsearch(&key, lv, nl, sizeof *lv, usecmp) : NULL;
			if (!u)
				continue;
			summed += u->disk;
			if (u->users++ == 0)
				used_once += u->disk;
		}
	}
	if (keep.n)
		qsort(keep.v, keep.n, sizeof keep.v[0], keycmp);
	for (i = 0; i < nl; i++)
		if (!keep_has(&keep, 'l', lv[i].hex))
			d->reclaimable += lv[i].disk;
	for (i = 0; i < nb; i++)
		if (!keep_has(&keep, 'b', bv[i].hex))
			d->reclaimable += bv[i].disk;
	d->shared_saved = summed - used_once;
	rr = 0;
out:
	rt_store_refs_free(&r);
	free(lv);
	free(bv);
	free(keep.v);
	free(m);
	return rr;
}

/* --- resolve for run ----------------------------------------------------- */

int rt_image_resolve(const char *root, const char *ref, struct rt_image_cfg *cfg,
		     struct rt_err *e)
{
	struct rt_manifest_image *m = calloc(1, sizeof *m);
	struct rt_manifest_config *c = calloc(1, sizeof *c);
	struct rt_manifest_json cj;
	struct rt_store s;
	char *mb = NULL, *cb = NULL;
	size_t ml = 0, cl = 0;
	int i, r = -1;

	memset(cfg, 0, offsetof(struct rt_image_cfg, strs));
	if (!m || !c) {
		free(m);
		free(c);
		return rt_err_sys(e, "resolve");
	}
	if (rt_store_open(&s, root, RT_STORE_SHARED, e) < 0) {
		free(m);
		free(c);
		return -1;
	}
	if (rt_image_find(&s, ref, cfg->digest, e) < 0 ||
	    read_image(&s, cfg->digest, &mb, &ml, m, &cb, &cl, c, e) < 0)
		goto out;
	{
		struct rt_image_ref rr;
		struct rt_err ig;

		if (rt_image_ref_parse(ref, &rr, &ig) == 0 &&
		    rt_image_ref_format(&rr, 0, cfg->ref, sizeof cfg->ref, &ig) == 0)
			;
		else
			snprintf(cfg->ref, sizeof cfg->ref, "%s", cfg->digest);
	}
	strcpy(cfg->id, m->config.digest);
	cfg->platform = c->platform;
	if (c->ndiff != m->nlayers) {
		rt_err_set(e, 0, "image config and manifest disagree on the layers");
		goto out;
	}
	for (i = 0; i < m->nlayers; i++) {
		const char *d = m->layers[m->nlayers - 1 - i].digest;
		struct stat st;

		if (rt_store_layer_path(&s, d, cfg->layers[i], sizeof cfg->layers[i], e) < 0)
			goto out;
		if (stat(cfg->layers[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
			rt_err_sys(e, "layer %s", d);
			goto out;
		}
	}
	cfg->nlayers = m->nlayers;
	if (rt_manifest_parse(&cj, cb, cl, e) < 0)
		goto out;
	r = rt_manifest_run_config(&cj.j, cfg, e);
	rt_manifest_free(&cj);
out:
	if (r < 0 && e->errnum == ENOENT && !strncmp(e->msg, "No such image", 13))
		rt_err_set(e, ENOENT, "no such image: %.200s", ref);
	else if (r < 0)
		rt_err_wrap(e, "%s", ref);
	rt_store_close(&s);
	free(mb);
	free(cb);
	free(m);
	free(c);
	return r;
}
