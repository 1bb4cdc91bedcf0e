/* mkimage build: layers from directories and tarballs (after those of a
 * base image), an OCI config and manifest, tags, into a layout or archive.
 *
 * Every JSON document is written canonically (compact, keys in byte
 * order) and every time in it is the build's mtime, so the same inputs and
 * flags give the same digests on any machine. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mkimage.h"
#include "trust.h"

#define MTIME_MAX 253402300799LL        /* 9999-12-31T23:59:59Z */

struct strv {
	const char **v;
	size_t n, cap;
};

static int strv_add(struct strv *s, const char *x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		const char **v = realloc(s->v, cap * sizeof *v);

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

static int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A growing string for the history's "created_by". */
struct sbuf {
	char *s;
	size_t len, cap;
};

static int sb_add(struct sbuf *b, const char *a, const char *c)
{
	size_t n = strlen(a) + strlen(c) + 2;

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (!s)
			return -1;
		b->s = s;
		b->cap = cap;
	}
	b->len += (size_t)sprintf(b->s + b->len, "%s%s%s%s", b->len ? " " : "", a, *c ? " " : "", c);
	return 0;
}

struct opts {
	const char *out, *from, *from_ref, *arch, *variant, *os;
	const char *entrypoint, *cmd, *workdir, *user;
	bool archive, owner, cfg;
	uint32_t uid, gid;
	int64_t mtime;
	struct strv layers, tags, env, labels, expose;
	struct sbuf cfgdesc;    /* the config flags, for the history */
};

struct layer {
	char media[128];
	uint8_t digest[RT_SHA256_LEN];
	uint8_t diff_id[RT_SHA256_LEN];
	uint64_t size;
};

struct image {
	struct mk_json cfg;     /* base config, when there is a base */
	bool have_cfg;
	struct layer *l;
	size_t nl;
	char arch[MK_PLAT_MAX], os[MK_PLAT_MAX], variant[MK_PLAT_MAX];
};

/* ---- flags ------------------------------------------------------------------ */

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX - 1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_mtime(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v > MTIME_MAX)
		return -1;
	*out = v;
	return 0;
}

/* NAME[:TAG], ":latest" added when there is no tag. */
static int check_tag(const char *t, char *out, size_t cap)
{
	const char *slash = strrchr(t, '/'), *colon = strrchr(t, ':'), *p;

	if (!*t || strchr(t, '@') || t[0] == ':' || t[0] == '/')
		return -1;
	for (p = t; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return -1;
	if (colon && (!slash || colon > slash)) {
		if (!colon[1] || strlen(colon + 1) > 128 || colon[1] == '.' || colon[1] == '-')
			return -1;
		for (p = colon + 1; *p; p++)
			if (!(*p == '_' || *p == '.' || *p == '-' || (*p >= '0' && *p <= '9') ||
			      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
				return -1;
		return snprintf(out, cap, "%s", t) < (int)cap ? 0 : -1;
	}
	return snprintf(out, cap, "%s:latest", t) < (int)cap ? 0 : -1;
}

static int check_kv(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq && eq != s ? 0 : -1;
}

static int check_port(const char *s)
{
	char *end;
	unsigned long p;

	if (*s < '0' || *s > '9')
		return -1;
	p = strtoul(s, &end, 10);
	if (p < 1 || p > 65535)
		return -1;
	return !*end || !strcmp(end, "/tcp") || !strcmp(end, "/udp") || !strcmp(end, "/sctp") ? 0 : -1;
}

/* A command: a JSON array of strings, or a shell line. */
static int check_cmd(const char *s, struct rt_err *e)
{
	struct rt_json_tok tok[1024];
	struct rt_json j;
	int k;

	if (s[0] != '[')
		return 0;
	if (rt_json_parse(&j, s, strlen(s), tok, 1024, 1, e) < 0)
		return -1;
	for (k = rt_json_first(&j, 0); k >= 0; k = rt_json_next(&j, 0, k))
		if (rt_json_type(&j, k) != RT_JSON_STRING)
			return rt_err_set(e, 0, "not an array of strings");
	return 0;
}

static int write_cmd(struct rt_json_w *w, const char *s)
{
	struct rt_json_tok tok[1024];
	struct rt_json j;
	struct rt_err e;
	char *buf;
	int k, n;

	rt_json_w_arr(w);
	if (s[0] != '[') {
		/* Docker's shell form */
		rt_json_w_str(w, "/bin/sh");
		rt_json_w_str(w, "-c");
		rt_json_w_str(w, s);
		return rt_json_w_end(w);
	}
	buf = malloc(strlen(s) + 1);
	if (!buf || rt_json_parse(&j, s, strlen(s), tok, 1024, 1, &e) < 0) {
		free(buf);
		return rt_json_w_end(w);
	}
	for (k = rt_json_first(&j, 0); k >= 0; k = rt_json_next(&j, 0, k)) {
		n = rt_json_str(&j, k, buf, strlen(s) + 1, &e);
		if (n >= 0)
			rt_json_w_strn(w, buf, (size_t)n);
	}
	free(buf);
	return rt_json_w_end(w);
}

enum {
	O_OUT = 1, O_ARCHIVE, O_LAYER, O_FROM, O_FROM_REF, O_TAG, O_ARCH, O_VARIANT, O_OS,
	O_ENTRYPOINT, O_CMD, O_ENV, O_WORKDIR, O_USER, O_EXPOSE, O_LABEL, O_MTIME, O_OWNER,
};

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct mk_opt opts[] = {
		{ "-o", true, O_OUT }, { "--output", true, O_OUT }, { "--archive", false, O_ARCHIVE },
		{ "--layer", true, O_LAYER }, { "--from", true, O_FROM },
		{ "--from-ref", true, O_FROM_REF }, { "--tag", true, O_TAG }, { "-t", true, O_TAG },
		{ "--arch", true, O_ARCH }, { "--variant", true, O_VARIANT }, { "--os", true, O_OS },
		{ "--entrypoint", true, O_ENTRYPOINT }, { "--cmd", true, O_CMD },
		{ "--env", true, O_ENV }, { "-e", true, O_ENV }, { "--workdir", true, O_WORKDIR },
		{ "-w", true, O_WORKDIR }, { "--user", true, O_USER }, { "-u", true, O_USER },
		{ "--expose", true, O_EXPOSE }, { "--label", true, O_LABEL },
		{ "--mtime", true, O_MTIME }, { "--owner", true, O_OWNER }, { NULL, false, 0 },
	};
	const char *val, *sde = getenv("SOURCE_DATE_EPOCH");
	struct rt_err e;
	char tag[MK_REF_MAX], *colon;
	bool mtime_set = false;
	int i = 1, id, bad = 0;

	if (sb_add(&o->cfgdesc, "mkimage", "build") < 0)
		return mk_fail("build", MK_EXIT_FAIL, "out of memory"), -1;
	while ((id = mk_getopt("build", argc, argv, &i, opts, &val)) != MK_OPT_END) {
		const char *flag = "";

		for (size_t k = 0; opts[k].name; k++)
			if (opts[k].id == id && opts[k].name[1] == '-') {
				flag = opts[k].name;
				break;
			}
		switch (id) {
		case MK_OPT_ERR:
			return -1;
		case MK_OPT_ARG:
			return mk_fail("build", MK_EXIT_USAGE, "unexpected argument '%s'", val), -1;
		case O_OUT: o->out = val; break;
		case O_ARCHIVE: o->archive = true; break;
		case O_LAYER: bad = strv_add(&o->layers, val); break;
		case O_FROM: o->from = val; break;
		case O_FROM_REF: o->from_ref = val; break;
		case O_TAG:
			if (check_tag(val, tag, sizeof tag) < 0)
				return mk_fail("build", MK_EXIT_USAGE, "--tag %s: not NAME[:TAG]", val), -1;
			bad = strv_add(&o->tags, strdup(tag));
			break;
		case O_ARCH: o->arch = val; break;
		case O_VARIANT: o->variant = val; break;
		case O_OS: o->os = val; break;
		case O_ENTRYPOINT:
		case O_CMD:
			if (check_cmd(val, &e) < 0)
				return mk_fail("build", MK_EXIT_USAGE, "%s: %s", flag, e.msg), -1;
			*(id == O_CMD ? &o->cmd : &o->entrypoint) = val;
			break;
		case O_ENV:
		case O_LABEL:
			if (check_kv(val) < 0)
				return mk_fail("build", MK_EXIT_USAGE, "%s %s: not KEY=VALUE", flag, val), -1;
			bad = strv_add(id == O_ENV ? &o->env : &o->labels, val);
			break;
		case O_WORKDIR:
			if (val[0] != '/')
				return mk_fail("build", MK_EXIT_USAGE, "--workdir %s: not an absolute path", val), -1;
			o->workdir = val;
			break;
		case O_USER: o->user = val; break;
		case O_EXPOSE:
			if (check_port(val) < 0)
				return mk_fail("build", MK_EXIT_USAGE, "--expose %s: not PORT[/tcp|udp|sctp]", val), -1;
			bad = strv_add(&o->expose, val);
			break;
		case O_MTIME:
			if (parse_mtime(val, &o->mtime) < 0)
				return mk_fail("build", MK_EXIT_USAGE, "--mtime %s: not seconds since 1970", val), -1;
			mtime_set = true;
			break;
		case O_OWNER:
			colon = strchr(val, ':');
			if (!colon || (*colon = '\0', parse_u32(val, &o->uid) < 0) ||
			    parse_u32(colon + 1, &o->gid) < 0)
				return mk_fail("build", MK_EXIT_USAGE, "--owner: not UID:GID"), -1;
			*colon = ':';
			o->owner = true;
			break;
		}
		if (bad)
			return mk_fail("build", MK_EXIT_FAIL, "out of memory"), -1;
		if (id >= O_ENTRYPOINT && id <= O_LABEL) {
			o->cfg = true;
			if (sb_add(&o->cfgdesc, flag, val) < 0)
				return mk_fail("build", MK_EXIT_FAIL, "out of memory"), -1;
		}
	}
	if (!o->out)
		return mk_fail("build", MK_EXIT_USAGE, "-o OUT is required"), -1;
	if (!o->layers.n && !o->from)
		return mk_fail("build", MK_EXIT_USAGE, "nothing to build: give --layer or --from"), -1;
	if (!mtime_set && sde && *sde && parse_mtime(sde, &o->mtime) < 0)
		return mk_fail("build", MK_EXIT_USAGE, "SOURCE_DATE_EPOCH=%s: not seconds since 1970", sde), -1;
	return 0;
}

/* ---- the base image ------------------------------------------------------- */

static int is_index(const char *m)
{
	return !strcmp(m, MK_MEDIA_INDEX) || !strcmp(m, MK_MEDIA_DOCKER_LIST);
}

/* From an index, the manifest for the platform asked for. */
static int pick_platform(struct mk_layout *b, struct mk_desc *d, const struct opts *o,
			 struct rt_err *e)
{
	const char *arch = o->arch ? o->arch : "amd64", *os = o->os ? o->os : "linux";
	struct mk_json m;
	int arr, k, depth;

	for (depth = 0; is_index(d->media); depth++) {
		bool found = false;

		if (depth > 4)
			return rt_err_set(e, 0, "indexes nested too deep");
		if (mk_json_blob(&m, b, d->digest, d->size, e) < 0)
			return -1;
		arr = rt_json_find(&m.j, 0, "manifests");
		for (k = rt_json_first(&m.j, arr); k >= 0 && !found; k = rt_json_next(&m.j, arr, k)) {
			int p = rt_json_find(&m.j, k, "platform");

			if (!rt_json_streq(&m.j, rt_json_find(&m.j, p, "architecture"), arch) ||
			    !rt_json_streq(&m.j, rt_json_find(&m.j, p, "os"), os) ||
			    (o->variant && !rt_json_streq(&m.j, rt_json_find(&m.j, p, "variant"), o->variant)))
				continue;
			if (mk_json_desc(&m.j, k, d->digest, &d->size, d->media, sizeof d->media, e) < 0) {
				mk_json_free(&m);
				return -1;
			}
			found = true;
		}
		mk_json_free(&m);
		if (!found)
			return rt_err_set(e, 0, "no manifest for %s/%s%s%s", os, arch,
					  o->variant ? "/" : "", o->variant ? o->variant : "");
	}
	return 0;
}

static const char *layer_media(const char *m)
{
	if (!strcmp(m, MK_MEDIA_LAYER_GZIP) || !strcmp(m, MK_MEDIA_DOCKER_LAYER))
		return MK_MEDIA_LAYER_GZIP;
	if (!strcmp(m, MK_MEDIA_LAYER_TAR) || !strcmp(m, "application/vnd.docker.image.rootfs.diff.tar"))
		return MK_MEDIA_LAYER_TAR;
	return NULL;
}

static int cfg_str(const struct rt_json *j, const char *key, char *out, struct rt_err *e)
{
	int v = rt_json_find(j, 0, key);

	out[0] = '\0';
	if (v >= 0 && rt_json_str(j, v, out, MK_PLAT_MAX, e) < 0)
		return rt_err_set(e, 0, "config: %s is not a short string", key);
	return 0;
}

static int load_base(struct image *img, struct mk_layout *out, const struct opts *o,
		     struct rt_err *e)
{
	struct mk_layout b;
	struct mk_json m;
	struct mk_desc d;
	size_t idx[64];
	uint8_t cd[RT_SHA256_LEN];
	uint64_t cs;
	char media[128];
	int n, arr, k, diffs, rc = -1;

	if (mk_layout_open(&b, o->from, e) < 0)
		return -1;
	n = mk_layout_images(&b, o->from_ref, idx, 64, e);
	if (n < 0)
		goto out;
	if (n > 1) {
		rt_err_set(e, 0, "%s holds %d images; pick one with --from-ref", o->from, n);
		goto out;
	}
	d = b.m[idx[0]];
	if (pick_platform(&b, &d, o, e) < 0 || mk_json_blob(&m, &b, d.digest, d.size, e) < 0)
		goto out;
	k = rt_json_find(&m.j, 0, "mediaType");
	if (k >= 0) {
		if (rt_json_str(&m.j, k, media, sizeof media, e) < 0 ||
		    (strcmp(media, MK_MEDIA_MANIFEST) != 0 && strcmp(media, MK_MEDIA_DOCKER_MANIFEST) != 0)) {
			rt_err_set(e, 0, "not an image manifest");
			goto bad;
		}
	}
	if (mk_json_desc(&m.j, rt_json_find(&m.j, 0, "config"), cd, &cs, NULL, 0, e) < 0)
		goto bad;
	arr = rt_json_find(&m.j, 0, "layers");
	if (rt_json_type(&m.j, arr) != RT_JSON_ARRAY) {
		rt_err_set(e, 0, "manifest: no layers");
		goto bad;
	}
	img->l = calloc((size_t)rt_json_count(&m.j, arr) + 1, sizeof *img->l);
	if (!img->l) {
		rt_err_sys(e, "out of memory");
		goto bad;
	}
	for (k = rt_json_first(&m.j, arr); k >= 0; k = rt_json_next(&m.j, arr, k)) {
		struct layer *l = &img->l[img->nl];
		const char *mt;

		if (mk_json_desc(&m.j, k, l->digest, &l->size, media, sizeof media, e) < 0)
			goto bad;
		mt = layer_media(media);
		if (!mt) {
			rt_err_set(e, 0, "layer of media type %s", media);
			goto bad;
		}
		strcpy(l->media, mt);
		if (mk_blob_copy(out, &b, l->digest, l->size, e) < 0)
			goto bad;
		img->nl++;
	}
	if (mk_json_blob(&img->cfg, &b, cd, cs, e) < 0)
		goto bad;
	img->have_cfg = true;
	diffs = rt_json_find(&img->cfg.j, rt_json_find(&img->cfg.j, 0, "rootfs"), "diff_ids");
	if (rt_json_count(&img->cfg.j, diffs) != (int)img->nl) {
		rt_err_set(e, 0, "config: %d diff_ids for %zu layers",
			   rt_json_count(&img->cfg.j, diffs), img->nl);
		goto bad;
	}
	if (cfg_str(&img->cfg.j, "architecture", img->arch, e) < 0 ||
	    cfg_str(&img->cfg.j, "os", img->os, e) < 0 ||
	    cfg_str(&img->cfg.j, "variant", img->variant, e) < 0)
		goto bad;
	if ((o->arch && strcmp(o->arch, img->arch) != 0) || (o->os && strcmp(o->os, img->os) != 0) ||
	    (o->variant && strcmp(o->variant, img->variant) != 0)) {
		rt_err_set(e, 0, "base is %s/%s%s%s, not what --arch/--os/--variant ask",
			   img->os, img->arch, img->variant[0] ? "/" : "", img->variant);
		goto bad;
	}
	rc = 0;
bad:
	mk_json_free(&m);
out:
	if (rc < 0)
		rt_err_wrap(e, "--from %s", o->from);
	mk_layout_close(&b);
	return rc;
}

/* ---- the config ---------------------------------------------------------------- */

/* Write the members of base object obj (may be -1) together with our own,
 * all in key order; own[] is sorted and its members are written by fn,
 * which may write nothing. */
typedef int (*own_fn)(struct rt_json_w *w, const char *key, void *ctx, struct rt_err *e);

static int merged(struct rt_json_w *w, const struct rt_json *j, int obj,
		  const char *const *own, size_t nown, own_fn fn, void *ctx, struct rt_err *e)
{
	struct strv keys = { 0 };
	char *k;
	size_t i, a = 0, nb;
	int key, rc = 0;

	for (key = rt_json_first(j, obj); key >= 0; key = rt_json_next(j, obj, key)) {
		k = malloc(j->tok[key].len + 1);
		if (!k || rt_json_str(j, key, k, j->tok[key].len + 1, e) < 0) {
			free(k);
			rc = -1;
			goto out;
		}
		for (i = 0; i < nown && strcmp(own[i], k) != 0; i++)
			;
		if (i < nown) {
			free(k);
		} else if (strv_add(&keys, k) < 0) {
			free(k);
			rc = rt_err_sys(e, "out of memory");
			goto out;
		}
	}
	if (keys.n)
		qsort(keys.v, keys.n, sizeof *keys.v, strv_cmp);
	nb = keys.n;
	rt_json_w_obj(w);
	for (i = 0; rc == 0 && (i < nb || a < nown);) {
		if (a < nown && (i == nb || strcmp(own[a], keys.v[i]) < 0)) {
			rc = fn(w, own[a++], ctx, e);
		} else {
			rt_json_w_key(w, keys.v[i]);
			rc = mk_json_copy(w, j, rt_json_find(j, obj, keys.v[i]), e);
			i++;
		}
	}
	rt_json_w_end(w);
out:
	for (i = 0; i < keys.n; i++)
		free((char *)keys.v[i]);
	free(keys.v);
	return rc;
}

struct cfgctx {
	const struct opts *o;
	struct image *img;
	const struct layer *ours;
	size_t nours;
	const struct rt_json *j;        /* base config, or "{}" */
	int cc;                         /* base "config" object */
	char created[32];
};

static int base_copy(struct rt_json_w *w, struct cfgctx *c, const char *key, struct rt_err *e)
{
	int v = rt_json_find(c->j, c->cc, key);

	if (v < 0 || rt_json_is_null(c->j, v))
		return 0;
	rt_json_w_key(w, key);
	return mk_json_copy(w, c->j, v, e);
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free((char *)s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Members of the config's "config" object. */
/* Take ownership of x (may be NULL: out of memory) into s. */
static int strv_take(struct strv *s, char *x, struct rt_err *e)
{
	if (!x || strv_add(s, x) < 0) {
		free(x);
		return rt_err_sys(e, "out of memory");
	}
	return 0;
}

/* "KEY=VALUE" of member k of object obj in the base config. */
static char *member_kv(const struct rt_json *j, int k, struct rt_err *e)
{
	size_t cap = (size_t)j->tok[k].len + j->tok[k + 1].len + 2;
	char *s = malloc(cap);
	int n = s ? rt_json_str(j, k, s, cap, e) : -1;

	if (n < 0 || strchr(s, '=') || rt_json_str(j, k + 1, s + n + 1, cap - (size_t)n - 1, e) < 0) {
		free(s);
		return NULL;
	}
	s[n] = '=';
	return s;
}

/* Put "K=V" pairs of ours into list, replacing equal keys. */
static int kv_merge(struct strv *list, const struct strv *ours, struct rt_err *e)
{
	size_t i, k;

	for (i = 0; i < ours->n; i++) {
		size_t n = (size_t)(strchr(ours->v[i], '=') - ours->v[i]) + 1;
		char *x = strdup(ours->v[i]);

		for (k = 0; k < list->n && strncmp(list->v[k], ours->v[i], n) != 0; k++)
			;
		if (k == list->n) {
			if (strv_take(list, x, e) < 0)
				return -1;
			continue;
		}
		if (!x)
			return rt_err_sys(e, "out of memory");
		free((char *)list->v[k]);
		list->v[k] = x;
	}
	return 0;
}

/* Members of the config's "config" object. */
static int own_config(struct rt_json_w *w, const char *key, void *ctx, struct rt_err *e)
{
	struct cfgctx *c = ctx;
	const struct opts *o = c->o;
	const struct rt_json *j = c->j;
	int obj = rt_json_find(j, c->cc, key), k, rc = 0;
	struct strv list = { 0 };
	size_t i;

	if (!strcmp(key, "Cmd")) {
		if (o->cmd) {
			rt_json_w_key(w, key);
			write_cmd(w, o->cmd);
			return 0;
		}
		/* As in Docker: a new entrypoint drops the base's command. */
		return o->entrypoint ? 0 : base_copy(w, c, key, e);
	}
	if (!strcmp(key, "Entrypoint")) {
		if (!o->entrypoint)
			return base_copy(w, c, key, e);
		rt_json_w_key(w, key);
		write_cmd(w, o->entrypoint);
		return 0;
	}
	if (!strcmp(key, "WorkingDir") || !strcmp(key, "User")) {
		const char *v = key[0] == 'U' ? o->user : o->workdir;

		if (!v)
			return base_copy(w, c, key, e);
		rt_json_w_key(w, key);
		rt_json_w_str(w, v);
		return 0;
	}
	if (!strcmp(key, "Env")) {
		/* the base's list in its order, ours replacing or appended */
		for (k = rt_json_first(j, obj); k >= 0 && rc == 0; k = rt_json_next(j, obj, k)) {
			size_t cap = (size_t)j->tok[k].len + 1;
			char *x = malloc(cap);

			if (x && rt_json_str(j, k, x, cap, e) < 0) {
				free(x);
				rc = rt_err_set(e, 0, "config.Env: not a list of strings");
				break;
			}
			rc = strv_take(&list, x, e);
		}
		if (rc == 0)
			rc = kv_merge(&list, &o->env, e);
		if (rc == 0 && list.n) {
			rt_json_w_key(w, key);
			rt_json_w_arr(w);
			for (i = 0; i < list.n; i++)
				rt_json_w_str(w, list.v[i]);
			rt_json_w_end(w);
		}
	} else if (!strcmp(key, "Labels")) {
		for (k = rt_json_first(j, obj); k >= 0 && rc == 0; k = rt_json_next(j, obj, k)) {
			char *x = member_kv(j, k, e);

			rc = x ? strv_take(&list, x, e) : rt_err_set(e, 0, "config.Labels: not a map of strings");
		}
		if (rc == 0)
			rc = kv_merge(&list, &o->labels, e);
		if (rc == 0 && list.n) {
			qsort(list.v, list.n, sizeof *list.v, strv_cmp);
			rt_json_w_key(w, key);
			rt_json_w_obj(w);
			for (i = 0; i < list.n; i++) {
				char *eq = strchr(list.v[i], '=');

				*eq = '\0';
				rt_json_w_key(w, list.v[i]);
				rt_json_w_str(w, eq + 1);
				*eq = '=';
			}
			rt_json_w_end(w);
		}
	} else if (!strcmp(key, "ExposedPorts")) {
		for (k = rt_json_first(j, obj); k >= 0 && rc == 0; k = rt_json_next(j, obj, k)) {
			size_t cap = (size_t)j->tok[k].len + 1;
			char *x = malloc(cap);

			if (x && rt_json_str(j, k, x, cap, e) < 0) {
				free(x);
				rc = rt_err_set(e, 0, "config.ExposedPorts: bad key");
				break;
			}
			rc = strv_take(&list, x, e);
		}
		for (i = 0; i < o->expose.n && rc == 0; i++) {
			char p[64];

			snprintf(p, sizeof p, "%s%s", o->expose.v[i], strchr(o->expose.v[i], '/') ? "" : "/tcp");
			rc = strv_take(&list, strdup(p), e);
		}
		if (rc == 0 && list.n) {
			qsort(list.v, list.n, sizeof *list.v, strv_cmp);
			rt_json_w_key(w, key);
			rt_json_w_obj(w);
			for (i = 0; i < list.n; i++) {
				if (i && !strcmp(list.v[i], list.v[i - 1]))
					continue;
				rt_json_w_key(w, list.v[i]);
				rt_json_w_obj(w);
				rt_json_w_end(w);
			}
			rt_json_w_end(w);
		}
	}
	strv_free(&list);
	return rc;
}

static int write_history(struct rt_json_w *w, struct cfgctx *c, struct rt_err *e)
{
	const struct opts *o = c->o;
	int arr = rt_json_find(c->j, 0, "history"), k;
	size_t i;

	rt_json_w_arr(w);
	for (k = rt_json_first(c->j, arr); k >= 0; k = rt_json_next(c->j, arr, k))
		if (mk_json_copy(w, c->j, k, e) < 0)
			return -1;
	for (i = 0; i < o->layers.n; i++) {
		char copy[4096], by[4200];

		snprintf(copy, sizeof copy, "%s", o->layers.v[i]);
		/* the base name only: the digest must not depend on where the
		 * build ran */
		snprintf(by, sizeof by, "mkimage build --layer %s", basename(copy));
		rt_json_w_obj(w);
		rt_json_w_key(w, "created");
		rt_json_w_str(w, c->created);
		rt_json_w_key(w, "created_by");
		rt_json_w_str(w, by);
		rt_json_w_end(w);
	}
	if (o->cfg) {
		rt_json_w_obj(w);
		rt_json_w_key(w, "created");
		rt_json_w_str(w, c->created);
		rt_json_w_key(w, "created_by");
		rt_json_w_str(w, o->cfgdesc.s);
		rt_json_w_key(w, "empty_layer");
		rt_json_w_bool(w, true);
		rt_json_w_end(w);
	}
	rt_json_w_end(w);
	return 0;
}

static int own_top(struct rt_json_w *w, const char *key, void *ctx, struct rt_err *e)
{
	static const char *const cfgkeys[] = {
		"Cmd", "Entrypoint", "Env", "ExposedPorts", "Labels", "User", "WorkingDir",
	};
	struct cfgctx *c = ctx;
	char dig[RT_SHA256_STR];
	size_t i;
	int k;

	rt_json_w_key(w, key);
	if (!strcmp(key, "architecture"))
		return rt_json_w_str(w, c->img->arch), 0;
	if (!strcmp(key, "os"))
		return rt_json_w_str(w, c->img->os), 0;
	if (!strcmp(key, "variant"))
		return rt_json_w_str(w, c->img->variant), 0;
	if (!strcmp(key, "created"))
		return rt_json_w_str(w, c->created), 0;
	if (!strcmp(key, "config"))
		return merged(w, c->j, c->cc, cfgkeys, sizeof cfgkeys / sizeof cfgkeys[0],
			      own_config, c, e);
	if (!strcmp(key, "history"))
		return write_history(w, c, e);
	/* rootfs */
	rt_json_w_obj(w);
	rt_json_w_key(w, "diff_ids");
	rt_json_w_arr(w);
	for (i = 0; i < c->img->nl; i++) {
		if (i < c->img->nl - c->nours) {
			k = rt_json_at(c->j, rt_json_find(c->j, rt_json_find(c->j, 0, "rootfs"), "diff_ids"),
				       (int)i);
			if (mk_json_copy(w, c->j, k, e) < 0)
				return -1;
			continue;
		}
		rt_sha256_format(c->img->l[i].diff_id, dig);
		rt_json_w_str(w, dig);
	}
	rt_json_w_end(w);
	rt_json_w_key(w, "type");
	rt_json_w_str(w, "layers");
	return rt_json_w_end(w), 0;
}

static int write_config(struct mk_jw *jw, struct cfgctx *c, struct rt_err *e)
{
	static const char *const top[] = {
		"architecture", "config", "created", "history", "os", "rootfs", "variant",
	};
	size_t n = sizeof top / sizeof top[0];

	if (!c->img->variant[0])
		n--;    /* "variant" sorts last */
	if (merged(&jw->w, c->j, 0, top, n, own_top, c, e) < 0)
		return -1;
	return rt_json_w_finish(&jw->w, e);
}

static int write_manifest(struct mk_jw *jw, const uint8_t cfg[RT_SHA256_LEN], size_t cfgsize,
			  const struct image *img, struct rt_err *e)
{
	char dig[RT_SHA256_STR];
	size_t i;

	rt_json_w_obj(&jw->w);
	rt_json_w_key(&jw->w, "config");
	rt_json_w_obj(&jw->w);
	rt_sha256_format(cfg, dig);
	rt_json_w_key(&jw->w, "digest");
	rt_json_w_str(&jw->w, dig);
	rt_json_w_key(&jw->w, "mediaType");
	rt_json_w_str(&jw->w, MK_MEDIA_CONFIG);
	rt_json_w_key(&jw->w, "size");
	rt_json_w_u64(&jw->w, cfgsize);
	rt_json_w_end(&jw->w);
	rt_json_w_key(&jw->w, "layers");
	rt_json_w_arr(&jw->w);
	for (i = 0; i < img->nl; i++) {
		rt_sha256_format(img->l[i].digest, dig);
		rt_json_w_obj(&jw->w);
		rt_json_w_key(&jw->w, "digest");
		rt_json_w_str(&jw->w, dig);
		rt_json_w_key(&jw->w, "mediaType");
		rt_json_w_str(&jw->w, img->l[i].media);
		rt_json_w_key(&jw->w, "size");
		rt_json_w_u64(&jw->w, img->l[i].size);
		rt_json_w_end(&jw->w);
	}
	rt_json_w_end(&jw->w);
	rt_json_w_key(&jw->w, "mediaType");
	rt_json_w_str(&jw->w, MK_MEDIA_MANIFEST);
	rt_json_w_key(&jw->w, "schemaVersion");
	rt_json_w_u64(&jw->w, 2);
	rt_json_w_end(&jw->w);
	return rt_json_w_finish(&jw->w, e);
}

static int build(struct opts *o, uint8_t digest[RT_SHA256_LEN], struct rt_err *e)
{
	struct image img;
	struct mk_layout out;
	struct mk_layer_opts lo = { o->mtime, o->owner, o->uid, o->gid };
	struct cfgctx c;
	struct mk_jw jw = { 0 };
	struct mk_desc d;
	struct layer *more;
	struct rt_json empty;
	struct rt_json_tok etok[2];
	uint8_t cfgd[RT_SHA256_LEN];
	size_t i, cfgsize;
	int rc = -1;

	memset(&img, 0, sizeof img);
	if (mk_layout_create(&out, o->out, o->archive, e) < 0)
		return -1;
	if (o->from && load_base(&img, &out, o, e) < 0)
		goto out;
	if (!o->from) {
		snprintf(img.arch, sizeof img.arch, "%s", o->arch ? o->arch : "amd64");
		snprintf(img.os, sizeof img.os, "%s", o->os ? o->os : "linux");
		snprintf(img.variant, sizeof img.variant, "%s", o->variant ? o->variant : "");
	}
	more = realloc(img.l, (img.nl + o->layers.n + 1) * sizeof *img.l);
	if (!more) {
		rt_err_sys(e, "out of memory");
		goto out;
	}
	img.l = more;
	for (i = 0; i < o->layers.n; i++) {
		struct mk_layer_out lout;
		struct layer *l = &img.l[img.nl];

		if (mk_layer_make(&out, o->layers.v[i], &lo, &lout, e) < 0)
			goto out;
		strcpy(l->media, MK_MEDIA_LAYER_GZIP);
		memcpy(l->digest, lout.digest, sizeof l->digest);
		memcpy(l->diff_id, lout.diff_id, sizeof l->diff_id);
		l->size = lout.size;
		img.nl++;
	}
	memset(&c, 0, sizeof c);
	c.o = o;
	c.img = &img;
	c.nours = o->layers.n;
	if (!img.have_cfg && rt_json_parse(&empty, "{}", 2, etok, 2, 1, e) < 0)
		goto out;
	c.j = img.have_cfg ? &img.cfg.j : &empty;
	c.cc = rt_json_find(c.j, 0, "config");
	mk_time_rfc3339(o->mtime, c.created);
	if (mk_jw_init(&jw, e) < 0 || write_config(&jw, &c, e) < 0 ||
	    mk_blob_put(&out, jw.buf, jw.w.len, cfgd, e) < 0)
		goto out;
	cfgsize = jw.w.len;
	rt_json_w_init(&jw.w, jw.buf, MK_JSON_MAX);
	if (write_manifest(&jw, cfgd, cfgsize, &img, e) < 0 ||
	    mk_blob_put(&out, jw.buf, jw.w.len, digest, e) < 0)
		goto out;
	memset(&d, 0, sizeof d);
	strcpy(d.media, MK_MEDIA_MANIFEST);
	memcpy(d.digest, digest, sizeof d.digest);
	d.size = jw.w.len;
	strcpy(d.arch, img.arch);
	strcpy(d.os, img.os);
	strcpy(d.variant, img.variant);
	for (i = 0; i < o->tags.n || i == 0; i++) {
		snprintf(d.ref, sizeof d.ref, "%s", i < o->tags.n ? o->tags.v[i] : "");
		if (mk_layout_add(&out, &d, e) < 0)
			goto out;
	}
	rc = mk_layout_commit(&out, e);
out:
	mk_jw_free(&jw);
	if (img.have_cfg)
		mk_json_free(&img.cfg);
	free(img.l);
	mk_layout_close(&out);
	return rc;
}

int mk_build(int argc, char **argv)
{
	struct opts o;
	struct rt_err e;
	uint8_t d[RT_SHA256_LEN];
	char dig[RT_SHA256_STR];
	int rc;

	memset(&o, 0, sizeof o);
	if (parse_opts(&o, argc, argv) < 0)
		rc = MK_EXIT_USAGE;
	else if (build(&o, d, &e) < 0)
		rc = mk_fail_err("build", &e);
	else {
		rt_sha256_format(d, dig);
		printf("%s\n", dig);
		rc = 0;
	}
	free(o.layers.v);
	strv_free(&o.tags);
	free(o.env.v);
	free(o.labels.v);
	free(o.expose.v);
	free(o.cfgdesc.s);
	return rc;
}
