#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kconfig.h"
#include "manifest.h"

/* --- documents ----------------------------------------------------------- */

int rt_manifest_parse(struct rt_manifest_json *d, const char *buf, size_t len, struct rt_err *e)
{
	size_t max = len / 2 + 2;
	int n;

	if (max > RT_MANIFEST_MAX_TOKENS)
		max = RT_MANIFEST_MAX_TOKENS;
	d->tok = malloc(max * sizeof *d->tok);
	if (!d->tok)
		return rt_err_sys(e, "parse");
	n = rt_json_parse(&d->j, buf, len, d->tok, max, 32, e);
	if (n < 0) {
		e->errnum = 0;  /* the message says it all */
		free(d->tok);
		d->tok = NULL;
		return -1;
	}
	return 0;
}

void rt_manifest_free(struct rt_manifest_json *d)
{
	free(d->tok);
	d->tok = NULL;
}

static int opt_str(const struct rt_json *j, int obj, const char *key, char *buf,
		   size_t cap, struct rt_err *e)
{
	int i = rt_json_find(j, obj, key);

	buf[0] = '\0';
	if (i < 0 || rt_json_is_null(j, i))
		return 0;
	if (rt_json_str(j, i, buf, cap, e) < 0)
		return rt_err_set(e, 0, "%s: not a string (or too long)", key);
	return 0;
}

static const char *const manifest_types[] = {
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
};
static const char *const index_types[] = {
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
};
static const char *const config_types[] = {
	"application/vnd.oci.image.config.v1+json",
	"application/vnd.docker.container.image.v1+json",
};

static int in(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, set[i]))
			return 1;
	return 0;
}
#define IN(s, set) in((s), (set), sizeof(set) / sizeof((set)[0]))

int rt_manifest_is_manifest_type(const char *mt)
{
	return IN(mt, manifest_types);
}

int rt_manifest_is_index_type(const char *mt)
{
	return IN(mt, index_types);
}

int rt_manifest_layer_comp(const char *mt, enum rt_unpack_comp *c, struct rt_err *e)
{
	static const char *const tar[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.docker.image.rootfs.diff.tar",
	};
	static const char *const gz[] = {
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
	};

	if (IN(mt, tar)) {
		*c = RT_UNPACK_TAR;
		return 0;
	}
	if (IN(mt, gz)) {
		if (!IS_ENABLED(CONFIG_GZIP))
			return rt_err_set(e, 0, "gzip layers are not supported by this build");
		*c = RT_UNPACK_GZIP;
		return 0;
	}
	if (strstr(mt, "zstd"))
		return rt_err_set(e, 0, "zstd layers are not supported");
	return rt_err_set(e, 0, "unsupported layer media type '%.80s'", mt);
}

int rt_manifest_desc(const struct rt_json *j, int i, struct rt_manifest_desc *d, struct rt_err *e)
{
	uint8_t dig[RT_SHA256_LEN];
	char tmp[RT_SHA256_STR + 64];
	int a, pf;

	memset(d, 0, sizeof *d);
	if (rt_json_type(j, i) != RT_JSON_OBJECT)
		return rt_err_set(e, 0, "descriptor is not an object");
	if (opt_str(j, i, "mediaType", d->mediatype, sizeof d->mediatype, e) < 0)
		return -1;
	if (!d->mediatype[0])
		return rt_err_set(e, 0, "descriptor without mediaType");
	if (rt_json_str(j, rt_json_find(j, i, "digest"), tmp, sizeof tmp, e) < 0)
		return rt_err_set(e, 0, "descriptor without a digest");
	/* Digests become file names: nothing but sha256:<64 hex> passes. */
	if (rt_sha256_parse(tmp, strlen(tmp), dig, e) < 0)
		return rt_err_wrap(e, "descriptor");
	rt_sha256_format(dig, d->digest);
	if (rt_json_u64(j, rt_json_find(j, i, "size"), &d->size, e) < 0)
		return rt_err_set(e, 0, "descriptor %s: bad or missing size", d->digest);
	if (rt_json_find(j, i, "urls") >= 0)
		return rt_err_set(e, 0, "descriptor %s: foreign blobs (urls) are not supported",
				  d->digest);
	a = rt_json_find(j, i, "annotations");
	if (a >= 0) {
		if (rt_json_type(j, a) != RT_JSON_OBJECT)
			return rt_err_set(e, 0, "annotations: not an object");
		if (opt_str(j, a, "org.opencontainers.image.ref.name", d->refname,
			    sizeof d->refname, e) < 0 ||
		    opt_str(j, a, "io.containerd.image.name", d->imagename,
			    sizeof d->imagename, e) < 0)
			return rt_err_wrap(e, "descriptor %s", d->digest);
	}
	pf = rt_json_find(j, i, "platform");
	if (pf >= 0) {
		if (rt_json_type(j, pf) != RT_JSON_OBJECT)
			return rt_err_set(e, 0, "platform: not an object");
		if (opt_str(j, pf, "os", d->platform.os, sizeof d->platform.os, e) < 0 ||
		    opt_str(j, pf, "architecture", d->platform.arch, sizeof d->platform.arch, e) < 0 ||
		    opt_str(j, pf, "variant", d->platform.variant, sizeof d->platform.variant, e) < 0)
			return rt_err_wrap(e, "descriptor %s", d->digest);
		d->has_platform = 1;
	}
	return 0;
}

/* What a document is, from its own fields, checked against what the
 * descriptor that led to it claims: an index dressed as a manifest (or
 * the reverse) is refused, so two readers never disagree about it. */
int rt_manifest_kind(const struct rt_json *j, const char *claimed, struct rt_err *e)
{
	char mt[RT_IMAGE_MT_MAX];
	int has_m, has_l, kind;
	int64_t sv;

	if (rt_json_type(j, 0) != RT_JSON_OBJECT)
		return rt_err_set(e, 0, "not a JSON object");
	if (rt_json_i64(j, rt_json_find(j, 0, "schemaVersion"), &sv, e) < 0 || sv != 2)
		return rt_err_set(e, 0, "schemaVersion is not 2");
	if (opt_str(j, 0, "mediaType", mt, sizeof mt, e) < 0)
		return -1;
	has_m = rt_json_find(j, 0, "manifests") >= 0;
	has_l = rt_json_find(j, 0, "layers") >= 0 || rt_json_find(j, 0, "config") >= 0;
	if (has_m == has_l)
		return rt_err_set(e, 0, "neither a manifest nor an index");
	kind = has_m ? RT_MANIFEST_INDEX : RT_MANIFEST_MANIFEST;
	if (mt[0] && !(kind == RT_MANIFEST_INDEX ? rt_manifest_is_index_type(mt) : rt_manifest_is_manifest_type(mt)))
		return rt_err_set(e, 0, "mediaType '%.80s' does not match the content", mt);
	if (claimed && claimed[0]) {
		if (kind == RT_MANIFEST_INDEX ? !rt_manifest_is_index_type(claimed)
					 : !rt_manifest_is_manifest_type(claimed))
			return rt_err_set(e, 0, "descriptor says '%.80s', the content is %s",
					  claimed, kind == RT_MANIFEST_INDEX ? "an index" : "a manifest");
		if (mt[0] && strcmp(mt, claimed) != 0)
			return rt_err_set(e, 0, "descriptor says '%.80s', the content '%.80s'",
					  claimed, mt);
	}
	return kind;
}

int rt_manifest_image(const struct rt_json *j, struct rt_manifest_image *m, struct rt_err *e)
{
	int l, i, n = 0;

	memset(m, 0, sizeof *m);
	if (rt_manifest_desc(j, rt_json_find(j, 0, "config"), &m->config, e) < 0)
		return rt_err_wrap(e, "manifest config");
	if (!IN(m->config.mediatype, config_types))
		return rt_err_set(e, 0, "not an image (config type '%.80s')",
				  m->config.mediatype);
	if (m->config.size > RT_IMAGE_JSON_MAX)
		return rt_err_set(e, 0, "config is larger than %u bytes", RT_IMAGE_JSON_MAX);
	l = rt_json_find(j, 0, "layers");
	if (rt_json_type(j, l) != RT_JSON_ARRAY)
		return rt_err_set(e, 0, "manifest: layers is not an array");
	if (rt_json_count(j, l) > RT_IMAGE_MAX_LAYERS)
		return rt_err_set(e, 0, "more than %d layers", RT_IMAGE_MAX_LAYERS);
	for (i = rt_json_first(j, l); i >= 0; i = rt_json_next(j, l, i)) {
		enum rt_unpack_comp c;

		if (rt_manifest_desc(j, i, &m->layers[n], e) < 0)
			return rt_err_wrap(e, "layer %d", n + 1);
		if (rt_manifest_layer_comp(m->layers[n].mediatype, &c, e) < 0)
			return rt_err_wrap(e, "layer %d", n + 1);
		n++;
	}
	m->nlayers = n;
	return 0;
}

/* How well a candidate fits: -1 not at all, higher is better. */
static int platform_score(const struct rt_image_platform *want,
			  const struct rt_image_platform *c)
{
	static const char *const armv[] = { "v8", "v7", "v6", "v5" };
	size_t w, k;

	if (strcmp(want->os, c->os) != 0 || strcmp(want->arch, c->arch) != 0)
		return -1;
	if (!strcmp(want->variant, c->variant))
		return 10;
	if (!strcmp(want->arch, "arm64") &&
	    ((!want->variant[0] && !strcmp(c->variant, "v8")) ||
	     (!strcmp(want->variant, "v8") && !c->variant[0])))
		return 10;
	if (!c->variant[0])
		return 5;
	if (!want->variant[0])
		return 4;
	/* older ARM variants run on newer cores */
	if (!strcmp(want->arch, "arm")) {
		for (w = 0; w < 4 && strcmp(armv[w], want->variant) != 0; w++)
			;
		for (k = w + 1; k < 4; k++)
			if (!strcmp(armv[k], c->variant))
				return (int)(4 - (k - w));
	}
	return -1;
}

int rt_manifest_pick(const struct rt_json *j, const struct rt_image_platform *want,
		struct rt_manifest_desc *out, struct rt_err *e)
{
	char have[200];
	size_t hl = 0;
	int m = rt_json_find(j, 0, "manifests"), i, best = -1, n = 0;

	have[0] = '\0';
	if (rt_json_type(j, m) != RT_JSON_ARRAY)
		return rt_err_set(e, 0, "index: manifests is not an array");
	for (i = rt_json_first(j, m); i >= 0; i = rt_json_next(j, m, i), n++) {
		struct rt_manifest_desc d;
		int sc;

		if (n >= 4096)
			return rt_err_set(e, 0, "index: too many entries");
		if (rt_manifest_desc(j, i, &d, e) < 0)
			return rt_err_wrap(e, "index entry %d", n + 1);
		if (!d.has_platform)
			continue;
		if (hl + 40 < sizeof have && strcmp(d.platform.os, "unknown") != 0) {
			int k = snprintf(have + hl, sizeof have - hl, "%s%s/%s%s%s", hl ? ", " : "",
					 d.platform.os, d.platform.arch,
					 d.platform.variant[0] ? "/" : "", d.platform.variant);
			if (k > 0 && (size_t)k < sizeof have - hl)
				hl += (size_t)k;
		}
		sc = platform_score(want, &d.platform);
		if (sc > best) {
			if (!rt_manifest_is_manifest_type(d.mediatype))
				return rt_err_set(e, 0, "index entry %d: '%.80s' is not a manifest",
						  n + 1, d.mediatype);
			best = sc;
			*out = d;
		}
	}
	if (best < 0)
		return rt_err_set(e, 0, "no image for %s/%s%s%s (the index has: %s)",
				  want->os, want->arch, want->variant[0] ? "/" : "",
				  want->variant, have[0] ? have : "nothing");
	return 0;
}

int rt_manifest_config(const struct rt_json *j, struct rt_manifest_config *c, struct rt_err *e)
{
	int rf, d, i, n = 0;

	memset(c, 0, sizeof *c);
	if (rt_json_type(j, 0) != RT_JSON_OBJECT)
		return rt_err_set(e, 0, "config: not a JSON object");
	if (opt_str(j, 0, "architecture", c->platform.arch, sizeof c->platform.arch, e) < 0 ||
	    opt_str(j, 0, "os", c->platform.os, sizeof c->platform.os, e) < 0 ||
	    opt_str(j, 0, "variant", c->platform.variant, sizeof c->platform.variant, e) < 0)
		return rt_err_wrap(e, "config");
	c->created = -1;
	{
		char ts[64];
		struct rt_err ig;

		if (opt_str(j, 0, "created", ts, sizeof ts, &ig) == 0 && ts[0])
			rt_manifest_time(ts, &c->created);
	}
	rf = rt_json_find(j, 0, "rootfs");
	d = rt_json_find(j, rf, "diff_ids");
	if (rt_json_type(j, rf) != RT_JSON_OBJECT || !rt_json_streq(j, rt_json_find(j, rf, "type"), "layers") ||
	    rt_json_type(j, d) != RT_JSON_ARRAY)
		return rt_err_set(e, 0, "config: no rootfs layers");
	if (rt_json_count(j, d) > RT_IMAGE_MAX_LAYERS)
		return rt_err_set(e, 0, "config: more than %d layers", RT_IMAGE_MAX_LAYERS);
	for (i = rt_json_first(j, d); i >= 0; i = rt_json_next(j, d, i)) {
		char tmp[RT_SHA256_STR + 8];
		uint8_t dig[RT_SHA256_LEN];

		if (rt_json_str(j, i, tmp, sizeof tmp, e) < 0 ||
		    rt_sha256_parse(tmp, strlen(tmp), dig, e) < 0)
			return rt_err_set(e, 0, "config: bad diff_id %d", n + 1);
		rt_sha256_format(dig, c->diff_ids[n++]);
	}
	c->ndiff = n;
	return 0;
}

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int rt_manifest_time(const char *s, int64_t *out)
{
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	const char *p;
	int64_t t;
	int sign = 0;

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
			return -1;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	*out = t;
	return 0;
}

/* --- the config for `rt run` --------------------------------------------- */

static const char *pool(struct rt_image_cfg *c, const struct rt_json *j, int i,
			struct rt_err *e)
{
	int n;

	if (c->used >= sizeof c->strs) {
		rt_err_set(e, 0, "image config: strings exceed %zu bytes", sizeof c->strs);
		return NULL;
	}
	n = rt_json_str(j, i, c->strs + c->used, sizeof c->strs - c->used, e);
	if (n < 0) {
		if (rt_json_type(j, i) == RT_JSON_STRING)
			rt_err_set(e, 0, "image config: strings exceed %zu bytes (or contain NUL)",
				   sizeof c->strs);
		else
			rt_err_set(e, 0, "image config: expected a string");
		return NULL;
	}
	c->used += (size_t)n + 1;
	return c->strs + c->used - (size_t)n - 1;
}

static int str_list(struct rt_image_cfg *c, const struct rt_json *j, int arr,
		    const char **out, int *n, const char *what, struct rt_err *e)
{
	int i;

	*n = 0;
	out[0] = NULL;
	if (arr < 0 || rt_json_is_null(j, arr))
		return 0;
	if (rt_json_type(j, arr) != RT_JSON_ARRAY)
		return rt_err_set(e, 0, "image config: %s is not an array", what);
	if (rt_json_count(j, arr) > RT_IMAGE_CFG_ARGS)
		return rt_err_set(e, 0, "image config: more than %d %s entries",
				  RT_IMAGE_CFG_ARGS, what);
	for (i = rt_json_first(j, arr); i >= 0; i = rt_json_next(j, arr, i)) {
		const char *s = pool(c, j, i, e);

		if (!s)
			return rt_err_wrap(e, "%s", what);
		out[(*n)++] = s;
	}
	out[*n] = NULL;
	return 0;
}

/* The keys of an object ({"80/tcp": {}}), as a list. */
static int key_list(struct rt_image_cfg *c, const struct rt_json *j, int obj,
		    const char **out, int *n, const char *what, struct rt_err *e)
{
	int k;

	*n = 0;
	out[0] = NULL;
	if (obj < 0 || rt_json_is_null(j, obj))
		return 0;
	if (rt_json_type(j, obj) != RT_JSON_OBJECT)
		return rt_err_set(e, 0, "image config: %s is not an object", what);
	if (rt_json_count(j, obj) > RT_IMAGE_CFG_ARGS)
		return rt_err_set(e, 0, "image config: more than %d %s", RT_IMAGE_CFG_ARGS, what);
	for (k = rt_json_first(j, obj); k >= 0; k = rt_json_next(j, obj, k)) {
		const char *s = pool(c, j, k, e);

		if (!s)
			return rt_err_wrap(e, "%s", what);
		out[(*n)++] = s;
	}
	out[*n] = NULL;
	return 0;
}

static int opt_pool(struct rt_image_cfg *c, const struct rt_json *j, int obj,
		    const char *key, const char **out, struct rt_err *e)
{
	int i = rt_json_find(j, obj, key);

	*out = "";
	if (i < 0 || rt_json_is_null(j, i))
		return 0;
	*out = pool(c, j, i, e);
	return *out ? 0 : rt_err_wrap(e, "%s", key);
}

static int opt_i64(const struct rt_json *j, int obj, const char *key, int64_t *out,
		   struct rt_err *e)
{
	int i = rt_json_find(j, obj, key);

	*out = 0;
	if (i < 0 || rt_json_is_null(j, i))
		return 0;
	if (rt_json_i64(j, i, out, e) < 0)
		return rt_err_set(e, 0, "image config: %s is not an integer", key);
	return 0;
}

int rt_manifest_run_config(const struct rt_json *j, struct rt_image_cfg *c, struct rt_err *e)
{
	int cf = rt_json_find(j, 0, "config"), l, h;

	c->used = 0;
	c->workdir = c->user = c->stop_signal = "";
	c->entrypoint[0] = c->cmd[0] = c->env[0] = c->volumes[0] = c->ports[0] = NULL;
	c->labels[0].key = c->labels[0].value = NULL;
	c->health.test[0] = NULL;
	c->nentrypoint = c->ncmd = c->nenv = c->nvolumes = c->nports = c->nlabels = 0;
	c->health.ntest = 0;
	c->has_entrypoint = c->has_cmd = 0;
	if (cf < 0 || rt_json_is_null(j, cf))
		return 0;
	if (rt_json_type(j, cf) != RT_JSON_OBJECT)
		return rt_err_set(e, 0, "image config: config is not an object");
	c->has_entrypoint = rt_json_type(j, rt_json_find(j, cf, "Entrypoint")) == RT_JSON_ARRAY;
	c->has_cmd = rt_json_type(j, rt_json_find(j, cf, "Cmd")) == RT_JSON_ARRAY;
	if (str_list(c, j, rt_json_find(j, cf, "Entrypoint"), c->entrypoint, &c->nentrypoint,
		     "Entrypoint", e) < 0 ||
	    str_list(c, j, rt_json_find(j, cf, "Cmd"), c->cmd, &c->ncmd, "Cmd", e) < 0 ||
	    str_list(c, j, rt_json_find(j, cf, "Env"), c->env, &c->nenv, "Env", e) < 0 ||
	    key_list(c, j, rt_json_find(j, cf, "Volumes"), c->volumes, &c->nvolumes,
		     "Volumes", e) < 0 ||
	    key_list(c, j, rt_json_find(j, cf, "ExposedPorts"), c->ports, &c->nports,
		     "ExposedPorts", e) < 0 ||
	    opt_pool(c, j, cf, "WorkingDir", &c->workdir, e) < 0 ||
	    opt_pool(c, j, cf, "User", &c->user, e) < 0 ||
	    opt_pool(c, j, cf, "StopSignal", &c->stop_signal, e) < 0)
		return -1;
	l = rt_json_find(j, cf, "Labels");
	if (l >= 0 && !rt_json_is_null(j, l)) {
		int k;

		if (rt_json_type(j, l) != RT_JSON_OBJECT)
			return rt_err_set(e, 0, "image config: Labels is not an object");
		if (rt_json_count(j, l) > RT_IMAGE_CFG_ARGS)
			return rt_err_set(e, 0, "image config: more than %d labels",
					  RT_IMAGE_CFG_ARGS);
		for (k = rt_json_first(j, l); k >= 0; k = rt_json_next(j, l, k)) {
			struct rt_image_kv *kv = &c->labels[c->nlabels];

			if (!(kv->key = pool(c, j, k, e)) || !(kv->value = pool(c, j, k + 1, e)))
				return rt_err_wrap(e, "Labels");
			c->nlabels++;
		}
		c->labels[c->nlabels].key = c->labels[c->nlabels].value = NULL;
	}
	h = rt_json_find(j, cf, "Healthcheck");
	if (h >= 0 && !rt_json_is_null(j, h)) {
		int64_t r;

		if (rt_json_type(j, h) != RT_JSON_OBJECT)
			return rt_err_set(e, 0, "image config: Healthcheck is not an object");
		if (str_list(c, j, rt_json_find(j, h, "Test"), c->health.test, &c->health.ntest,
			     "Healthcheck.Test", e) < 0 ||
		    opt_i64(j, h, "Interval", &c->health.interval_ns, e) < 0 ||
		    opt_i64(j, h, "Timeout", &c->health.timeout_ns, e) < 0 ||
		    opt_i64(j, h, "StartPeriod", &c->health.start_period_ns, e) < 0 ||
		    opt_i64(j, h, "Retries", &r, e) < 0)
			return -1;
		if (r < 0 || r > 1000000)
			return rt_err_set(e, 0, "image config: Healthcheck.Retries out of range");
		c->health.retries = (int)r;
	}
	return 0;
}
