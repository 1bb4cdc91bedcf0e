/* Fuzz the JSON parser, its accessors and the writer.
 *
 * Oracles beyond "no crash": the token structure the parser promises holds
 * for every accepted document; an accepted document re-written by the
 * writer parses to the same values, and writing that again gives the same
 * bytes; the writer takes a string exactly when it is valid UTF-8 and it
 * reads back unchanged. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAXTOK 2048
#define STRMAX 65536

static struct rt_json_tok tok[MAXTOK], tok2[MAXTOK];
static char out[1 << 20], out2[1 << 20];
static char s1[STRMAX], s2[STRMAX];

#define check(c) do { if (!(c)) __builtin_trap(); } while (0)

static void walk(const struct rt_json *j, int i)
{
	enum rt_json_type t = rt_json_type(j, i);
	struct rt_err e;
	int64_t v;
	uint64_t u;
	bool b;
	int c, n = 0, last = i;

	check(t != RT_JSON_NONE);
	if (t == RT_JSON_OBJECT || t == RT_JSON_ARRAY) {
		for (c = rt_json_first(j, i); c >= 0; c = rt_json_next(j, i, c)) {
			check(c > last);
			if (t == RT_JSON_OBJECT) {
				check(rt_json_type(j, c) == RT_JSON_STRING);
				check(j->tok[c].next == j->tok[c + 1].next);
				if (rt_json_str(j, c, s1, sizeof s1, &e) >= 0)
					check(rt_json_find(j, i, s1) == c + 1);
				walk(j, c + 1);
			} else {
				check(rt_json_at(j, i, n) == c);
				walk(j, c);
			}
			last = c;
			n++;
		}
		check(n == rt_json_count(j, i));
		check(n ? j->tok[last].next == j->tok[i].next : j->tok[i].next == (uint32_t)i + 1);
		return;
	}
	check(j->tok[i].next == (uint32_t)i + 1);
	if (t == RT_JSON_STRING) {
		if (rt_json_str(j, i, s1, sizeof s1, &e) >= 0)
			check(rt_json_streq(j, i, s1));
	} else if (t == RT_JSON_NUMBER) {
		if (rt_json_i64(j, i, &v, &e) == 0 && v >= 0)
			check(rt_json_u64(j, i, &u, &e) == 0 && u == (uint64_t)v);
	} else if (t == RT_JSON_NULL) {
		check(rt_json_is_null(j, i));
	} else {
		check(rt_json_bool(j, i, &b, &e) == 0 && b == (t == RT_JSON_TRUE));
	}
}

/* Re-write token i; false when it holds what the writer cannot express
 * (a fraction, an exponent, a huge integer, a string with U+0000). */
static bool rewrite(struct rt_json_w *w, const struct rt_json *j, int i)
{
	struct rt_err e;
	int64_t v;
	uint64_t u;
	int c;

	switch (rt_json_type(j, i)) {
	case RT_JSON_OBJECT:
	case RT_JSON_ARRAY:
		if (rt_json_type(j, i) == RT_JSON_OBJECT)
			rt_json_w_obj(w);
		else
			rt_json_w_arr(w);
		for (c = rt_json_first(j, i); c >= 0; c = rt_json_next(j, i, c)) {
			if (rt_json_type(j, i) == RT_JSON_OBJECT) {
				if (rt_json_str(j, c, s1, sizeof s1, &e) < 0)
					return false;
				rt_json_w_key(w, s1);
				if (!rewrite(w, j, c + 1))
					return false;
			} else if (!rewrite(w, j, c)) {
				return false;
			}
		}
		rt_json_w_end(w);
		return true;
	case RT_JSON_STRING:
		if (rt_json_str(j, i, s1, sizeof s1, &e) < 0)
			return false;
		rt_json_w_str(w, s1);
		return true;
	case RT_JSON_NUMBER:
		if (rt_json_i64(j, i, &v, &e) == 0)
			rt_json_w_i64(w, v);
		else if (rt_json_u64(j, i, &u, &e) == 0)
			rt_json_w_u64(w, u);
		else
			return false;
		return true;
	case RT_JSON_TRUE:
		rt_json_w_bool(w, true);
		return true;
	case RT_JSON_FALSE:
		rt_json_w_bool(w, false);
		return true;
	case RT_JSON_NULL:
		rt_json_w_null(w);
		return true;
	default:
		return false;
	}
}

/* Same values, token by token. */
static void same(const struct rt_json *a, const struct rt_json *b)
{
	struct rt_err e;
	int i;

	check(a->ntok == b->ntok);
	for (i = 0; i < a->ntok; i++) {
		check(a->tok[i].type == b->tok[i].type);
		check(a->tok[i].size == b->tok[i].size);
		check(a->tok[i].next == b->tok[i].next);
		if (a->tok[i].type == RT_JSON_STRING) {
			check(rt_json_str(a, i, s1, sizeof s1, &e) >= 0);
			check(rt_json_streq(b, i, s1));
		} else if (a->tok[i].type == RT_JSON_NUMBER) {
			int64_t x, y;
			uint64_t p, q;

			if (rt_json_i64(a, i, &x, &e) == 0)
				check(rt_json_i64(b, i, &y, &e) == 0 && x == y);
			else
				check(rt_json_u64(a, i, &p, &e) == 0 &&
				      rt_json_u64(b, i, &q, &e) == 0 && p == q);
		}
	}
}

static void roundtrip(const struct rt_json *j)
{
	struct rt_json_w w;
	struct rt_json j2, j3;
	struct rt_err e;

	rt_json_w_init(&w, out, sizeof out);
	if (!rewrite(&w, j, 0))
		return;
	check(rt_json_w_finish(&w, &e) == 0);
	check(rt_json_parse(&j2, out, w.len, tok2, MAXTOK, 0, &e) > 0);
	same(j, &j2);

	rt_json_w_init(&w, out2, sizeof out2);
	check(rewrite(&w, &j2, 0));
	check(rt_json_w_finish(&w, &e) == 0);
	check(w.len == strlen(out) && memcmp(out, out2, w.len) == 0);
	check(rt_json_parse(&j3, out2, w.len, tok2, MAXTOK, 0, &e) > 0);
}

static bool valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t k, need;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		if (n - i <= need)
			return false;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += need + 1;
	}
	return true;
}

static void writer(const uint8_t *data, size_t size)
{
	struct rt_json_w w;
	struct rt_json j;
	struct rt_err e;
	bool good = valid_utf8(data, size);
	int r;

	rt_json_w_init(&w, out, sizeof out);
	r = rt_json_w_strn(&w, (const char *)data, size);
	check((r == 0) == good);
	check((rt_json_w_finish(&w, &e) == 0) == good);
	if (!good)
		return;
	check(rt_json_parse(&j, out, w.len, tok2, MAXTOK, 0, &e) == 1);
	if (!memchr(data, 0, size) && size < sizeof s2) {
		check(rt_json_str(&j, 0, s2, sizeof s2, &e) == (int)size);
		check(memcmp(s2, data, size) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_json j;
	struct rt_err e;
	char *copy;
	int r, small;

	if (size > 65536)
		return 0;
	/* An exact-size copy, so any read past the end is caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);

	r = rt_json_parse(&j, copy, size, tok, MAXTOK, 0, &e);
	check(r < 0 ? j.ntok == 0 && e.msg[0] : r == j.ntok);
	if (r > 0) {
		walk(&j, 0);
		roundtrip(&j);
	}
	/* Tight limits must fail cleanly, never truncate. */
	small = rt_json_parse(&j, copy, size, tok, 16, 3, &e);
	check(small < 0 || (r > 0 && small == r));
	if (small < 0 && r > 0)
		check(r > 16 || strstr(e.msg, "nesting"));

	writer(data, size);
	free(copy);
	return 0;
}
