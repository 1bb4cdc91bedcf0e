/* The signature policy as `rt load` and `rt pull` apply it: the glue
 * between the image loader's verification seam (image.h) and trust.c.
 *
 * The loader asks once per image and name, after the manifest is read and
 * hashed and before any config or layer byte; trust.c decides and writes
 * nothing. Once every image of the load is stored, commit records the
 * verifications and raises the rollback versions. Warnings (an unsigned
 * image let in because this build does not require signatures, a
 * downgrade the owner allowed) are printed here, once, on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "kconfig.h"
#include "trust.h"
#include "trust_keys.h"

struct glue {
	struct rt_trust t;
	char root[RT_STORE_ROOT_MAX];
	struct rt_trust_result *res;
	size_t n, cap;
	bool keep_floor;        /* the caller raises the rollback records */
};

static int g_find(void *ctx, const char *tag, uint8_t digest[RT_SHA256_LEN],
		  uint64_t *size, struct rt_err *e)
{
	const struct rt_image_src *src = ctx;
	char d[RT_SHA256_STR];
	int r;

	if (!src->find_tag)
		return 1;
	r = src->find_tag(src->ctx, tag, d, size, e);
	if (r != 0)
		return r;
	return rt_sha256_parse(d, strlen(d), digest, e);
}

static ssize_t g_read(void *ctx, const uint8_t digest[RT_SHA256_LEN], uint64_t size,
		      void *buf, size_t cap, struct rt_err *e)
{
	char d[RT_SHA256_STR];
	size_t len;

	rt_sha256_format(digest, d);
	if (rt_image_src_read(ctx, d, size, buf, cap, &len, e) < 0)
		return -1;
	return (ssize_t)len;
}

static void glue_free(struct glue *g)
{
	if (g->t.rootfd >= 0)
		close(g->t.rootfd);
	free(g->res);
	free(g);
}

/* The keys compiled in (CONFIG_TRUST_KEYS), trusted besides the files. */
static int builtin_keys(struct rt_trust_keys *ks, struct rt_err *e)
{
	size_t i;

	for (i = 0; rt_builtin_keys[i].name; i++)
		if (rt_trust_keys_add(ks, rt_builtin_keys[i].name, rt_builtin_keys[i].pem,
				      strlen(rt_builtin_keys[i].pem), e) < 0)
			return rt_err_wrap(e, "compiled-in key");
	return 0;
}

static int g_verify(void *arg, const char *ref, const char *digest, const void *doc,
		    size_t len, const struct rt_image_src *src, struct rt_err *e)
{
	struct glue *g = arg;
	struct rt_trust_source ts = { (void *)src, g_find, g_read };
	struct rt_trust_result r;
	uint8_t d[RT_SHA256_LEN];
	char fam[RT_STORE_REF_MAX];
	const char *name = ref ? rt_image_familiar(ref, fam, sizeof fam) : digest;

	(void)doc;
	(void)len;
	/* The store exists by now (the loader opened it): its root holds the
	 * rollback records. */
	if (g->t.rootfd < 0) {
		g->t.rootfd = open(g->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (g->t.rootfd < 0)
			return rt_err_sys(e, "%s", g->root);
	}
	if (rt_sha256_parse(digest, strlen(digest), d, e) < 0 ||
	    rt_trust_verify(&g->t, ref, d, &ts, &r, e) < 0)
		return rt_err_wrap(e, "signature");
	if (r.state == RT_TRUST_UNSIGNED)
		fprintf(stderr, "rt: warning: %s: no signature by a trusted key; "
			"loaded because this rt does not require signatures\n", name);
	else if (r.downgrade)
		fprintf(stderr, "rt: warning: %s: downgrade to version %llu from version %llu "
			"allowed by --allow-downgrade (key %.16s)\n", name,
			(unsigned long long)r.version, (unsigned long long)r.prev_version, r.key);
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 4;
		struct rt_trust_result *v = realloc(g->res, cap * sizeof *v);

		if (!v)
			return rt_err_sys(e, "out of memory");
		g->res = v;
		g->cap = cap;
	}
	g->res[g->n++] = r;
	return 0;
}

static int g_commit(void *arg, struct rt_err *e)
{
	struct glue *g = arg;
	int64_t now = (int64_t)time(NULL);
	size_t i;
	int rc = 0;

	for (i = 0; i < g->n && rc == 0; i++)
		rc = g->keep_floor ? rt_trust_record(g->t.rootfd, &g->res[i], now, e) :
				     rt_trust_commit(g->t.rootfd, &g->res[i], now, e);
	glue_free(g);
	return rc;
}

int rt_trust_load_opts(const char *root, unsigned flags,
	struct rt_image_load_opts *o, struct rt_err *e)
{
	struct glue *g = calloc(1, sizeof *g);

	if (!g)
		return rt_err_sys(e, "out of memory");
	g->t.rootfd = -1;
	g->t.require = IS_ENABLED(CONFIG_REQUIRE_SIGNATURE);
	g->t.allow_downgrade = flags & RT_TRUST_DOWNGRADE;
	g->keep_floor = flags & RT_TRUST_KEEP_FLOOR;
	if (strlen(root) >= sizeof g->root) {
		glue_free(g);
		return rt_err_set(e, ENAMETOOLONG, "%s: path too long", root);
	}
	strcpy(g->root, root);
	if (rt_trust_keys_load(&g->t.keys, rt_trust_keys_dir(), e) < 0 ||
	    builtin_keys(&g->t.keys, e) < 0) {
		glue_free(g);
		return -1;
	}
	/* A load that fails before commit leaves g to the end of this
	 * short-lived process. */
	o->verify = g_verify;
	o->verify_arg = g;
	o->commit = g_commit;
	return 0;
}

int rt_image_trust_hook(const char *root, struct rt_image_load_opts *o, struct rt_err *e)
{
	return rt_trust_load_opts(root, 0, o, e);
}

int rt_image_trust_inspect(const char *root, const char *digest, char *buf,
			   size_t cap, size_t *len, struct rt_err *e)
{
	struct rt_trust_result r;
	struct rt_json_w w;
	uint8_t d[RT_SHA256_LEN];
	char when[32];
	struct tm tm;
	time_t t;
	int64_t at = 0;
	int fd, rc;

	if (rt_sha256_parse(digest, strlen(digest), d, e) < 0)
		return -1;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "%s", root);
	rc = rt_trust_record_read(fd, d, &r, &at, e);
	close(fd);
	if (rc < 0)
		return -1;
	rt_json_w_init(&w, buf, cap);
	rt_json_w_obj(&w);
	if (rc == 0) {
		t = (time_t)at;
		if (!gmtime_r(&t, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
			strcpy(when, "?");
		if (r.downgrade) {
			rt_json_w_key(&w, "Downgrade");
			rt_json_w_bool(&w, true);
		}
		rt_json_w_key(&w, "Key");
		rt_json_w_str(&w, r.key);
		rt_json_w_key(&w, "KeyFile");
		rt_json_w_str(&w, r.keyfile);
		rt_json_w_key(&w, "Repository");
		rt_json_w_str(&w, r.repo);
		rt_json_w_key(&w, "Signed");
		rt_json_w_bool(&w, true);
		rt_json_w_key(&w, "Verified");
		rt_json_w_str(&w, when);
		if (r.has_version) {
			rt_json_w_key(&w, "Version");
			rt_json_w_u64(&w, r.version);
		}
	} else {
		/* loaded unsigned (a build that does not require signatures),
		 * or before this rt checked them */
		rt_json_w_key(&w, "Signed");
		rt_json_w_bool(&w, false);
	}
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return -1;
	*len = w.len;
	return 1;
}
