/* JSON for mkimage: whole documents parsed with rt's strict parser, and
 * values copied into rt's writer with object keys in byte order, so every
 * document mkimage writes is canonical whatever it read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mkimage.h"

int mk_json_parse(struct mk_json *m, char *buf, size_t len, struct rt_err *e)
{
	/* A token takes at least one byte and a separator, but "[]" and a
	 * one-digit document take one byte each: len / 2 + 2 always fits. */
	size_t maxtok = len / 2 + 2;

	m->buf = buf;
	m->tok = calloc(maxtok, sizeof *m->tok);
	if (!m->tok)
		return rt_err_sys(e, "out of memory");
	if (rt_json_parse(&m->j, buf, len, m->tok, maxtok, 0, e) < 0) {
		free(m->tok);
		m->tok = NULL;
		return -1;
	}
	return 0;
}

void mk_json_free(struct mk_json *m)
{
	free(m->tok);
	free(m->buf);
	m->tok = NULL;
	m->buf = NULL;
}

int mk_json_blob(struct mk_json *m, struct mk_layout *l,
	const uint8_t digest[RT_SHA256_LEN], uint64_t size, struct rt_err *e)
{
	char *buf;
	ssize_t n;

	if (size > MK_JSON_MAX)
		return rt_err_set(e, 0, "JSON blob of %llu bytes, more than %d",
				  (unsigned long long)size, MK_JSON_MAX);
	buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return rt_err_sys(e, "out of memory");
	n = mk_blob_read(l, digest, size, buf, (size_t)size, e);
	if (n < 0 || mk_json_parse(m, buf, (size_t)n, e) < 0) {
		free(buf);
		m->buf = NULL;
		return -1;
	}
	return 0;
}

struct key {
	char *s;
	size_t len;
	int idx;
};

static int keycmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->s, y->s, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Object obj (or none, when obj < 0) with its keys in byte order; when
 * set is given, its member set is the string val instead (added when
 * absent, dropped when val is NULL). idx -1 marks that member. */
static int copy_object(struct rt_json_w *w, const struct rt_json *j, int obj,
		       const char *set, const char *val, struct rt_err *e)
{
	int n = obj >= 0 ? rt_json_count(j, obj) : 0, k, i = 0, rc = 0;
	struct key *keys = calloc((size_t)n + 2, sizeof *keys);

	if (!keys)
		return rt_err_sys(e, "out of memory");
	for (k = obj >= 0 ? rt_json_first(j, obj) : -1; k >= 0 && rc == 0;
	     k = rt_json_next(j, obj, k)) {
		size_t cap = j->tok[k].len + 1;
		int len;

		keys[i].s = malloc(cap);
		if (!keys[i].s) {
			rc = rt_err_sys(e, "out of memory");
			break;
		}
		len = rt_json_str(j, k, keys[i].s, cap, e);
		if (len < 0)
			rc = -1;
		keys[i].len = (size_t)(len < 0 ? 0 : len);
		keys[i].idx = k;
		if (set && !strcmp(keys[i].s, set)) {
			free(keys[i].s);   /* replaced below */
			continue;
		}
		i++;
	}
	if (rc == 0 && set && val) {
		keys[i].s = strdup(set);
		keys[i].len = strlen(set);
		keys[i].idx = -1;
		if (!keys[i++].s)
			rc = rt_err_sys(e, "out of memory");
	}
	n = i;
	if (rc == 0) {
		qsort(keys, (size_t)n, sizeof *keys, keycmp);
		rt_json_w_obj(w);
		for (i = 0; i < n && rc == 0; i++) {
			rt_json_w_key(w, keys[i].s);
			if (keys[i].idx < 0)
				rt_json_w_str(w, val);
			else
				rc = mk_json_copy(w, j, keys[i].idx + 1, e);
		}
		rt_json_w_end(w);
	}
	for (i = 0; i < n; i++)
		free(keys[i].s);
	free(keys);
	return rc;
}

int mk_json_copy_set(struct rt_json_w *w, const struct rt_json *j, int obj,
		     const char *key, const char *val, struct rt_err *e)
{
	return copy_object(w, j, obj, key, val, e);
}

int mk_json_copy(struct rt_json_w *w, const struct rt_json *j, int i, struct rt_err *e)
{
	int64_t s;
	uint64_t u;
	bool b;
	int k;

	switch (rt_json_type(j, i)) {
	case RT_JSON_OBJECT:
		return copy_object(w, j, i, NULL, NULL, e);
	case RT_JSON_ARRAY:
		rt_json_w_arr(w);
		for (k = rt_json_first(j, i); k >= 0; k = rt_json_next(j, i, k))
			if (mk_json_copy(w, j, k, e) < 0)
				return -1;
		rt_json_w_end(w);
		return 0;
	case RT_JSON_STRING: {
		size_t cap = j->tok[i].len + 1;
		char *str = malloc(cap);
		int n;

		if (!str)
			return rt_err_sys(e, "out of memory");
		n = rt_json_str(j, i, str, cap, e);
		if (n >= 0)
			rt_json_w_strn(w, str, (size_t)n);
		free(str);
		return n < 0 ? -1 : 0;
	}
	case RT_JSON_NUMBER:
		/* writer errors are sticky: rt_json_w_finish reports them */
		if (rt_json_i64(j, i, &s, e) == 0) {
			rt_json_w_i64(w, s);
			return 0;
		}
		if (rt_json_u64(j, i, &u, e) == 0) {
			rt_json_w_u64(w, u);
			return 0;
		}
		return rt_err_set(e, 0, "a number that is not an integer (%.*s)",
				  (int)(j->tok[i].len > 32 ? 32 : j->tok[i].len), j->buf + j->tok[i].start);
	case RT_JSON_TRUE:
	case RT_JSON_FALSE:
		rt_json_bool(j, i, &b, e);
		rt_json_w_bool(w, b);
		return 0;
	case RT_JSON_NULL:
		rt_json_w_null(w);
		return 0;
	default:
		return rt_err_set(e, 0, "no such JSON value");
	}
}

int mk_jw_init(struct mk_jw *jw, struct rt_err *e)
{
	jw->buf = malloc(MK_JSON_MAX);
	if (!jw->buf)
		return rt_err_sys(e, "out of memory");
	rt_json_w_init(&jw->w, jw->buf, MK_JSON_MAX);
	return 0;
}

void mk_jw_free(struct mk_jw *jw)
{
	free(jw->buf);
	jw->buf = NULL;
}

int mk_json_desc(const struct rt_json *j, int d, uint8_t digest[RT_SHA256_LEN],
	uint64_t *size, char *media, size_t mcap, struct rt_err *e)
{
	char dig[RT_SHA256_STR + 1];
	int n;

	if (rt_json_type(j, d) != RT_JSON_OBJECT)
		return rt_err_set(e, 0, "descriptor: not an object");
	n = rt_json_str(j, rt_json_find(j, d, "digest"), dig, sizeof dig, e);
	if (n < 0 || rt_sha256_parse(dig, (size_t)n, digest, e) < 0)
		return rt_err_set(e, 0, "descriptor: digest is not a sha256 digest");
	if (rt_json_u64(j, rt_json_find(j, d, "size"), size, e) < 0)
		return rt_err_set(e, 0, "descriptor: no valid size");
	if (media) {
		int m = rt_json_find(j, d, "mediaType");

		media[0] = '\0';
		if (m >= 0 && rt_json_str(j, m, media, mcap, e) < 0)
			return rt_err_set(e, 0, "descriptor: bad mediaType");
	}
	return 0;
}

void mk_time_rfc3339(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(out, "1970-01-01T00:00:00Z");
}
