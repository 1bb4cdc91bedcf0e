#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"

#define MAXTOK 4096

static struct rt_json_tok tok[MAXTOK];

/* Parse a C string with the default limits. */
static int parse(struct rt_json *j, const char *s, struct rt_err *e)
{
	return rt_json_parse(j, s, strlen(s), tok, MAXTOK, 0, e);
}

static bool accepts(const char *s)
{
	struct rt_json j;
	struct rt_err e;

	return parse(&j, s, &e) > 0;
}

/* Parses a copy in a buffer of exactly n bytes, so ASan sees any read past
 * the end. */
static int parse_exact(struct rt_json *j, void **copy, const void *s, size_t n,
		       size_t maxtok, unsigned maxdepth, struct rt_err *e)
{
	*copy = malloc(n ? n : 1);
	if (!*copy)
		abort();
	memcpy(*copy, s, n);
	return rt_json_parse(j, *copy, n, tok, maxtok, maxdepth, e);
}

/* Walks every token through the accessors and checks the structure the
 * parser promises: children counted in size, siblings chained by next,
 * the subtree ending exactly at the parent's next. */
static bool walk(const struct rt_json *j, int i)
{
	enum rt_json_type t = rt_json_type(j, i);
	struct rt_err e;
	char buf[256];
	int64_t v;
	uint64_t u;
	bool b;
	int c, n = 0, last = i;

	switch (t) {
	case RT_JSON_OBJECT:
	case RT_JSON_ARRAY:
		for (c = rt_json_first(j, i); c >= 0; c = rt_json_next(j, i, c)) {
			if (t == RT_JSON_OBJECT) {
				if (rt_json_type(j, c) != RT_JSON_STRING)
					return false;
				if (j->tok[c].next != j->tok[c + 1].next || j->tok[c].size != 0)
					return false;
				if (!walk(j, c + 1))
					return false;
			} else if (!walk(j, c)) {
				return false;
			}
			last = c;
			n++;
		}
		if (n != rt_json_count(j, i))
			return false;
		return n == 0 ? j->tok[i].next == (uint32_t)i + 1
			      : j->tok[last].next == j->tok[i].next;
	case RT_JSON_STRING:
		rt_json_str(j, i, buf, sizeof buf, &e);
		return j->tok[i].next == (uint32_t)i + 1;
	case RT_JSON_NUMBER:
		rt_json_i64(j, i, &v, &e);
		rt_json_u64(j, i, &u, &e);
		return true;
	case RT_JSON_TRUE:
	case RT_JSON_FALSE:
		return rt_json_bool(j, i, &b, &e) == 0 && b == (t == RT_JSON_TRUE);
	case RT_JSON_NULL:
		return rt_json_is_null(j, i);
	default:
		return false;
	}
}

/* Limits that cannot bind: every token takes at least one byte. The
 * tokens are gone on return, so an accepted document is walked here and
 * 0 returned if the walk fails. */
static int unlimited(struct rt_json *j, void **copy, const char *s, size_t n,
		     struct rt_err *e)
{
	struct rt_json_tok *big = malloc((n + 1) * sizeof *big);
	int r;

	*copy = malloc(n ? n : 1);
	if (!big || !*copy)
		abort();
	memcpy(*copy, s, n);
	r = rt_json_parse(j, *copy, n, big, n + 1, (unsigned)n + 1, e);
	if (r > 0 && !walk(j, 0))
		r = 0;
	free(big);
	return r;
}

static int byname(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(sz ? (size_t)sz : 1)) &&
	    fread(buf, 1, (size_t)sz, f) == (size_t)sz) {
		*n = (size_t)sz;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* y_ files rejected on purpose: rt refuses duplicate keys. */
static bool dup_key_case(const char *name)
{
	return strstr(name, "duplicated_key") != NULL;
}

static void test_suite(void)
{
	const char *root = getenv("RT_TESTDATA");
	char dir[1024], path[2048];
	struct dirent **ents;
	int n, k, ny = 0, nn = 0, ni = 0;

	if (!root || !*root)
		root = "../shared/testdata";
	snprintf(dir, sizeof dir, "%s/JSONTestSuite/test_parsing", root);
	n = scandir(dir, &ents, NULL, byname);
	ok(n > 300, "JSONTestSuite present in %s (%d entries)", dir, n);
	if (n < 0)
		return;
	for (k = 0; k < n; k++) {
		const char *name = ents[k]->d_name;
		struct rt_json j;
		struct rt_err e;
		size_t len;
		void *copy;
		char *data;
		int r;

		if (name[0] == '.' || name[1] != '_' || !strstr(name, ".json")) {
			free(ents[k]);
			continue;
		}
		snprintf(path, sizeof path, "%s/%s", dir, name);
		data = slurp(path, &len);
		if (!data) {
			ok(0, "%s: read", name);
			free(ents[k]);
			continue;
		}
		rt_err_clear(&e);
		r = parse_exact(&j, &copy, data, len, MAXTOK, 0, &e);
		switch (name[0]) {
		case 'y':
			ny++;
			if (dup_key_case(name))
				ok(r < 0 && strstr(e.msg, "duplicate key"),
				   "%s: rejected on purpose (duplicate key): %s", name, e.msg);
			else
				ok(r > 0 && walk(&j, 0), "%s: accepted%s%s", name,
				   r < 0 ? ": " : "", r < 0 ? e.msg : "");
			break;
		case 'n':
			nn++;
			ok(r < 0 && e.msg[0], "%s: rejected: %s", name, e.msg);
			/* Also without limits: the grammar must reject it, not a
			 * limit that hides a bug behind it. */
			free(copy);
			r = unlimited(&j, &copy, data, len, &e);
			ok(r < 0 && !strstr(e.msg, "tokens") && !strstr(e.msg, "nesting"),
			   "%s: rejected without limits: %s", name, e.msg);
			break;
		default:
			ni++;
			ok(r < 0 || walk(&j, 0), "%s: %s%s", name,
			   r < 0 ? "rejected: " : "accepted", r < 0 ? e.msg : "");
			free(copy);
			r = unlimited(&j, &copy, data, len, &e);
			ok(r != 0, "%s: without limits: %s%s", name,
			   r < 0 ? "rejected: " : "accepted", r < 0 ? e.msg : "");
			break;
		}
		free(copy);
		free(data);
		free(ents[k]);
	}
	free(ents);
	ok(ny > 90 && nn > 180 && ni > 30, "suite: %d y_, %d n_, %d i_ files", ny, nn, ni);
}

static const char manifest[] =
	"{\n"
	"  \"schemaVersion\": 2,\n"
	"  \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
	"  \"config\": {\n"
	"    \"mediaType\": \"application/vnd.oci.image.config.v1+json\",\n"
	"    \"digest\": \"sha256:aaaa\",\n"
	"    \"size\": 7023\n"
	"  },\n"
	"  \"layers\": [\n"
	"    { \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n"
	"      \"digest\": \"sha256:bbbb\", \"size\": 32654 },\n"
	"    { \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n"
	"      \"\\u0064igest\": \"sha256:cccc\", \"size\": 16724 }\n"
	"  ],\n"
	"  \"annotations\": { \"a\": \"1\", \"b\": \"2\", \"c\": \"3\" }\n"
	"}\n";

static void test_accessors(void)
{
	struct rt_json j;
	struct rt_err e;
	char buf[64];
	const char *want[] = { "sha256:bbbb", "sha256:cccc" };
	int64_t v;
	uint64_t u;
	bool b;
	int r, layers, l, n, k;

	r = parse(&j, manifest, &e);
	ok(r > 0, "manifest parses (%d tokens)", r);
	if (r < 0)
		return;
	is_int(rt_json_type(&j, 0), RT_JSON_OBJECT, "root is an object");
	is_int(rt_json_count(&j, 0), 5, "root has 5 members");
	ok(rt_json_i64(&j, rt_json_find(&j, 0, "schemaVersion"), &v, &e) == 0 && v == 2,
	   "schemaVersion is 2");
	ok(rt_json_streq(&j, rt_json_find(&j, 0, "mediaType"),
			 "application/vnd.oci.image.manifest.v1+json"), "mediaType streq");
	ok(!rt_json_streq(&j, rt_json_find(&j, 0, "mediaType"), "application/vnd.oci"),
	   "streq does not match a prefix");
	is_int(rt_json_str(&j, rt_json_find(&j, rt_json_find(&j, 0, "config"), "digest"),
			   buf, sizeof buf, &e), 11, "config.digest length");
	is_str(buf, "sha256:aaaa", "config.digest");

	layers = rt_json_find(&j, 0, "layers");
	is_int(rt_json_count(&j, layers), 2, "two layers");
	n = 0;
	for (l = rt_json_first(&j, layers); l >= 0; l = rt_json_next(&j, layers, l), n++) {
		r = rt_json_str(&j, rt_json_find(&j, l, "digest"), buf, sizeof buf, &e);
		ok(r > 0 && n < 2 && strcmp(buf, want[n]) == 0,
		   "layers[%d].digest (escaped key decoded)", n);
		ok(rt_json_u64(&j, rt_json_find(&j, l, "size"), &u, &e) == 0 &&
		   u == (n ? 16724u : 32654u), "layers[%d].size", n);
	}
	is_int(n, 2, "iterated two layers");
	is_int(rt_json_at(&j, layers, 1), rt_json_first(&j, layers) +
	       (int)(j.tok[rt_json_first(&j, layers)].next - (uint32_t)rt_json_first(&j, layers)),
	       "at(1) is the second element");
	is_int(rt_json_at(&j, layers, 2), -1, "at(2) out of range");
	is_int(rt_json_at(&j, layers, -1), -1, "at(-1) out of range");

	n = 0;
	k = rt_json_find(&j, 0, "annotations");
	for (l = rt_json_first(&j, k); l >= 0; l = rt_json_next(&j, k, l), n++) {
		char key[8], val[8];

		ok(rt_json_str(&j, l, key, sizeof key, &e) == 1 &&
		   rt_json_str(&j, l + 1, val, sizeof val, &e) == 1 &&
		   key[0] == 'a' + n && val[0] == '1' + n, "annotation %d is key then value", n);
	}
	is_int(n, 3, "iterated three annotations");

	is_int(rt_json_find(&j, 0, "nope"), -1, "missing member is -1");
	is_int(rt_json_find(&j, layers, "digest"), -1, "find on an array is -1");
	is_int(rt_json_find(&j, -1, "digest"), -1, "find on -1 is -1");
	is_int(rt_json_first(&j, rt_json_find(&j, 0, "schemaVersion")), -1, "first on a number");
	is_int(rt_json_type(&j, -1), RT_JSON_NONE, "type of -1");
	is_int(rt_json_type(&j, 100000), RT_JSON_NONE, "type out of range");

	r = rt_json_str(&j, rt_json_find(&j, 0, "nope"), buf, sizeof buf, &e);
	ok(r < 0 && strstr(e.msg, "missing string"), "str of missing: %s", e.msg);
	r = rt_json_str(&j, rt_json_find(&j, 0, "schemaVersion"), buf, sizeof buf, &e);
	ok(r < 0 && strstr(e.msg, "expected string, found number"), "str of number: %s", e.msg);
	r = rt_json_str(&j, rt_json_find(&j, 0, "mediaType"), buf, 10, &e);
	ok(r < 0 && strstr(e.msg, "longer than 9"), "str too long: %s", e.msg);
	r = rt_json_str(&j, rt_json_find(&j, rt_json_find(&j, 0, "config"), "digest"),
			buf, 12, &e);
	is_int(r, 11, "str fits exactly with its NUL");
	r = rt_json_str(&j, rt_json_find(&j, rt_json_find(&j, 0, "config"), "digest"),
			buf, 11, &e);
	ok(r < 0, "str one byte short fails");
	r = rt_json_i64(&j, rt_json_find(&j, 0, "config"), &v, &e);
	ok(r < 0 && strstr(e.msg, "expected integer, found object"), "i64 of object: %s", e.msg);
	ok(rt_json_bool(&j, 0, &b, &e) < 0, "bool of object fails");
	ok(!rt_json_is_null(&j, 0), "object is not null");
}

static void test_values(void)
{
	static const struct {
		const char *doc;
		int i64ok;
		int64_t i64;
		int u64ok;
		uint64_t u64;
	} nums[] = {
		{ "0", 1, 0, 1, 0 },
		{ "-0", 1, 0, 1, 0 },
		{ "42", 1, 42, 1, 42 },
		{ "-1", 1, -1, 0, 0 },
		{ "9223372036854775807", 1, INT64_MAX, 1, 9223372036854775807u },
		{ "9223372036854775808", 0, 0, 1, 9223372036854775808u },
		{ "-9223372036854775808", 1, INT64_MIN, 0, 0 },
		{ "-9223372036854775809", 0, 0, 0, 0 },
		{ "18446744073709551615", 0, 0, 1, UINT64_MAX },
		{ "18446744073709551616", 0, 0, 0, 0 },
		{ "100000000000000000000000", 0, 0, 0, 0 },
		{ "1.0", 0, 0, 0, 0 },
		{ "1e2", 0, 0, 0, 0 },
		{ "1E+2", 0, 0, 0, 0 },
		{ "-0.5", 0, 0, 0, 0 },
	};
	struct rt_json j;
	struct rt_err e;
	char buf[32];
	size_t k;
	int64_t v;
	uint64_t u;
	bool b;

	for (k = 0; k < sizeof nums / sizeof nums[0]; k++) {
		int r;

		if (parse(&j, nums[k].doc, &e) < 0) {
			ok(0, "%s parses: %s", nums[k].doc, e.msg);
			continue;
		}
		v = 12345;
		r = rt_json_i64(&j, 0, &v, &e);
		ok(nums[k].i64ok ? r == 0 && v == nums[k].i64 : r < 0 && v == 12345,
		   "i64 %s: %s", nums[k].doc, r < 0 ? e.msg : "ok");
		u = 12345;
		r = rt_json_u64(&j, 0, &u, &e);
		ok(nums[k].u64ok ? r == 0 && u == nums[k].u64 : r < 0 && u == 12345,
		   "u64 %s: %s", nums[k].doc, r < 0 ? e.msg : "ok");
	}
	ok(parse(&j, "[true, false, null]", &e) > 0, "literals parse");
	ok(rt_json_bool(&j, rt_json_at(&j, 0, 0), &b, &e) == 0 && b, "true");
	ok(rt_json_bool(&j, rt_json_at(&j, 0, 1), &b, &e) == 0 && !b, "false");
	ok(rt_json_is_null(&j, rt_json_at(&j, 0, 2)), "null");
	ok(rt_json_bool(&j, rt_json_at(&j, 0, 2), &b, &e) < 0, "null is not a bool");
	ok(!rt_json_is_null(&j, rt_json_at(&j, 0, 3)), "missing is not null");

	ok(parse(&j, "\"a\\u0000b\"", &e) > 0, "\\u0000 in a string parses");
	ok(rt_json_str(&j, 0, buf, sizeof buf, &e) < 0 && strstr(e.msg, "U+0000"),
	   "str refuses U+0000: %s", e.msg);
	ok(parse(&j, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83d\\ude00\"", &e) > 0,
	   "escapes parse");
	is_int(rt_json_str(&j, 0, buf, sizeof buf, &e), 17, "escapes decode length");
	is_str(buf, "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "escapes decode");
	ok(rt_json_streq(&j, 0, "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	   "streq decodes");

	/* O(1) skipping: [[1,2],{"k":[3]},4] */
	ok(parse(&j, "[[1,2],{\"k\":[3]},4]", &e) == 9, "9 tokens");
	ok(j.tok[0].next == 9 && j.tok[1].next == 4 && j.tok[4].next == 8 &&
	   j.tok[5].next == 8 && j.tok[6].next == 8 && j.tok[8].next == 9,
	   "next skips subtrees (key's next is after its value)");
	ok(j.tok[0].size == 3 && j.tok[1].size == 2 && j.tok[4].size == 1 &&
	   j.tok[6].size == 1, "sizes count children");
	ok(j.tok[1].start == 1 && j.tok[1].len == 5 && j.tok[5].start == 9 &&
	   j.tok[5].len == 1, "raw spans: containers with brackets, strings without quotes");
}

static void test_strict(void)
{
	static const struct {
		const char *doc;
		size_t len;     /* 0: strlen */
		bool good;
		const char *what;
	} cases[] = {
		{ "\"\\ud800\"", 0, false, "lone high surrogate" },
		{ "\"\\udc00\"", 0, false, "lone low surrogate" },
		{ "\"\\ud800\\u0041\"", 0, false, "high surrogate then non-surrogate" },
		{ "\"\\ud800\\ud800\"", 0, false, "two high surrogates" },
		{ "\"\\udbff\\udfff\"", 0, true, "U+10FFFF by surrogates" },
		{ "\"\xc0\x80\"", 0, false, "overlong NUL" },
		{ "\"\xc1\xbf\"", 0, false, "overlong 2-byte" },
		{ "\"\xe0\x80\xaf\"", 0, false, "overlong 3-byte" },
		{ "\"\xf0\x80\x80\xaf\"", 0, false, "overlong 4-byte" },
		{ "\"\xed\xa0\x80\"", 0, false, "UTF-8 encoded surrogate" },
		{ "\"\xed\x9f\xbf\"", 0, true, "U+D7FF" },
		{ "\"\xf4\x8f\xbf\xbf\"", 0, true, "U+10FFFF" },
		{ "\"\xf4\x90\x80\x80\"", 0, false, "U+110000" },
		{ "\"\xf5\x80\x80\x80\"", 0, false, "lead byte F5" },
		{ "\"\x80\"", 0, false, "lone continuation" },
		{ "\"\xe2\x82\"", 0, false, "truncated sequence" },
		{ "\"\xe2\x82", 0, false, "truncated at end of input" },
		{ "\"\x7f\"", 0, true, "DEL is allowed" },
		{ "\"\x1f\"", 0, false, "raw control character" },
		{ "\"a\tb\"", 0, false, "raw tab" },
		{ "\"\\x41\"", 0, false, "unknown escape" },
		{ "\"\\u12\"", 0, false, "short \\u" },
		{ "\"\\u12g4\"", 0, false, "bad hex" },
		{ "\"\\", 0, false, "backslash at end" },
		{ "\"\\u00", 0, false, "\\u at end" },
		{ "\"\\ud800\\", 0, false, "surrogate then end" },
		{ "\"abc", 0, false, "unterminated string" },
		{ "\xef\xbb\xbf{}", 0, false, "byte-order mark" },
		{ "", 0, false, "empty input" },
		{ " \t\r\n", 0, false, "only space" },
		{ " \t\r\n[] \t\r\n", 0, true, "space around" },
		{ "[]\f", 0, false, "form feed is not space" },
		{ "1 2", 0, false, "two values" },
		{ "[1,]", 0, false, "trailing comma in array" },
		{ "{\"a\":1,}", 0, false, "trailing comma in object" },
		{ "[,1]", 0, false, "leading comma" },
		{ "{,}", 0, false, "lone comma in object" },
		{ "{\"a\" 1}", 0, false, "missing colon" },
		{ "{\"a\":}", 0, false, "missing value" },
		{ "{1:1}", 0, false, "number key" },
		{ "{'a':1}", 0, false, "single quotes" },
		{ "[1 2]", 0, false, "missing comma" },
		{ "[1}", 0, false, "mismatched close" },
		{ "{\"a\":1]", 0, false, "mismatched close in object" },
		{ "]", 0, false, "close without open" },
		{ "[", 0, false, "unclosed" },
		{ "01", 0, false, "leading zero" },
		{ "-", 0, false, "lone minus" },
		{ "-01", 0, false, "minus leading zero" },
		{ "1.", 0, false, "no fraction digits" },
		{ ".5", 0, false, "no integer part" },
		{ "1e", 0, false, "no exponent digits" },
		{ "1e+", 0, false, "no exponent digits after sign" },
		{ "+1", 0, false, "plus sign" },
		{ "0x10", 0, false, "hex" },
		{ "1.5e-300000", 0, true, "tiny exponent is grammar-valid" },
		{ "-0.0e+0", 0, true, "negative zero real" },
		{ "tru", 0, false, "truncated true" },
		{ "truex", 0, false, "true then junk" },
		{ "nul", 0, false, "truncated null" },
		{ "NaN", 0, false, "NaN" },
		{ "[1]\0", 4, false, "NUL after value" },
		{ "[\"a\0\"]", 6, false, "raw NUL in string" },
		{ "/* c */ 1", 0, false, "comment" },
	};
	size_t k;

	for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct rt_json j;
		struct rt_err e;
		void *copy;
		size_t n = cases[k].len ? cases[k].len : strlen(cases[k].doc);
		int r;

		rt_err_clear(&e);
		r = parse_exact(&j, &copy, cases[k].doc, n, MAXTOK, 0, &e);
		if (cases[k].good)
			ok(r > 0, "accepts: %s%s%s", cases[k].what, r < 0 ? ": " : "", e.msg);
		else
			ok(r < 0 && strncmp(e.msg, "json: ", 6) == 0 && j.ntok == 0,
			   "rejects: %s: %s", cases[k].what, e.msg);
		free(copy);
	}
}

static void test_errors(void)
{
	struct rt_json j;
	struct rt_err e;

	ok(parse(&j, "{\"a\": [1, 2, x]}", &e) < 0, "bad value");
	is_str(e.msg, "json: byte 13: expected a value, found 'x'", "error names the byte offset");
	ok(parse(&j, "[1] x", &e) < 0, "trailing data");
	is_str(e.msg, "json: byte 4: expected end of input, found 'x'", "trailing data message");
	ok(parse(&j, "[\"\xff\"]", &e) < 0, "bad UTF-8");
	is_str(e.msg, "json: byte 2: invalid UTF-8 in string", "bad UTF-8 message");
	ok(parse(&j, "[1,", &e) < 0, "truncated");
	is_str(e.msg, "json: byte 3: unexpected end of input", "truncated message");
}

static void test_dupkeys(void)
{
	struct rt_json j;
	struct rt_err e;
	char doc[8192];
	size_t n;
	int k;

	ok(parse(&j, "{\"a\":1,\"a\":2}", &e) < 0 && strstr(e.msg, "duplicate key \"a\""),
	   "same key twice: %s", e.msg);
	is_str(e.msg, "json: byte 7: duplicate key \"a\"", "duplicate names the second key's offset");
	ok(parse(&j, "{\"a\":1,\"\\u0061\":2}", &e) < 0 && strstr(e.msg, "duplicate"),
	   "escaped duplicate: %s", e.msg);
	ok(parse(&j, "{\"\\u00e9\":1,\"\xc3\xa9\":2}", &e) < 0, "escaped vs raw UTF-8 duplicate");
	ok(parse(&j, "{\"\\ud83d\\ude00\":1,\"\\uD83D\\uDE00\":2}", &e) < 0,
	   "hex case does not matter");
	ok(parse(&j, "{\"a\":1,\"b\":{\"c\":[1,{\"d\":2}]},\"a\":3}", &e) < 0,
	   "duplicate after a nested value");
	ok(parse(&j, "{\"\":1,\"\":2}", &e) < 0, "empty key twice");
	ok(accepts("{\"a\":{\"a\":{\"a\":1}}}"), "same key at different levels");
	ok(accepts("[{\"a\":1},{\"a\":1}]"), "same key in sibling objects");
	ok(accepts("{\"a\":1,\"A\":2,\"a \":3,\"\\u0000\":4,\"\":5}"), "near misses are distinct");
	ok(accepts("{\"a\\u0000b\":1,\"a\\u0000c\":2}"), "keys differing after NUL");
	/* kdpov and kkqneb have the same hash: only the bytes tell them apart. */
	ok(accepts("{\"kdpov\":1,\"kkqneb\":2}"), "colliding hashes, distinct keys");
	ok(accepts("{\"kkqn\\u0065b\":1,\"\\u006bdpov\":2}"), "colliding hashes, escaped");
	ok(parse(&j, "{\"kdpov\":1,\"kkqneb\":2,\"\\u006bdpov\":3}", &e) < 0 &&
	   strstr(e.msg, "duplicate"), "duplicate among colliding hashes");

	/* Many distinct keys, then one repeat at the end. */
	n = (size_t)snprintf(doc, sizeof doc, "{");
	for (k = 0; k < 500; k++)
		n += (size_t)snprintf(doc + n, sizeof doc - n, "\"k%d\":%d,", k, k);
	n += (size_t)snprintf(doc + n, sizeof doc - n, "\"last\":0}");
	ok(parse(&j, doc, &e) > 0 && rt_json_count(&j, 0) == 501, "501 distinct keys");
	{
		int64_t v;

		ok(rt_json_i64(&j, rt_json_find(&j, 0, "k499"), &v, &e) == 0 && v == 499,
		   "find among 501 keys");
	}
	snprintf(doc + n - 9, sizeof doc - (n - 9), "\"k250\":0}");
	ok(parse(&j, doc, &e) < 0 && strstr(e.msg, "duplicate key \"k250\""),
	   "repeat among 501 keys: %s", e.msg);
}

/* Objects of random keys from a small set, some spelled with escapes,
 * against a brute-force answer: exercises every path of the sort that
 * finds duplicates. */
static void test_dupkeys_random(void)
{
	static const char *const spell[][2] = {
		{ "a", "\\u0061" }, { "b", "\\u0062" }, { "ab", "a\\u0062" },
		{ "ba", "\\u0062a" }, { "", "" }, { "\xc3\xa9", "\\u00e9" },
		{ "aa", "\\u0061\\u0061" }, { "a\\u0000", "\\u0061\\u0000" },
		{ "\xf0\x9f\x98\x80", "\\ud83d\\ude00" }, { "abc", "ab\\u0063" },
		/* Two pairs of distinct keys with equal hashes. */
		{ "kdpov", "\\u006bdpov" }, { "kkqneb", "kkqn\\u0065b" },
		{ "kegov", "k\\u0065gov" }, { "kkpqeb", "\\u006bkpqeb" },
	};
	static char doc[16384];
	unsigned seed = 12345, bad = 0, dups = 0;
	int round, n, k, m, pick[300];

	for (round = 0; round < 2000; round++) {
		struct rt_json j;
		struct rt_err e;
		size_t len = 1;
		bool dup = false;
		int r;

		seed = seed * 1103515245 + 12345;
		n = (int)(seed >> 16) % 12 + 1;
		if (round % 4 == 0)
			n = 13 + (int)(seed >> 20) % 60;
		if (round % 100 == 0)
			n = 250;
		doc[0] = '{';
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245 + 12345;
			/* Big objects draw from many keys, so most are unique. */
			pick[k] = (int)(seed >> 16) % (n > 100 ? 100000 : n > 12 ? 1000 : 14);
			if (k)
				doc[len++] = ',';
			if (pick[k] < 14)
				len += (size_t)sprintf(doc + len, "\"%s\":%d",
						       spell[pick[k]][(seed >> 8) & 1], k);
			else
				len += (size_t)sprintf(doc + len, "\"%s%d\":%d",
						       (seed >> 9) & 1 ? "k" : "\\u006b", pick[k], k);
			for (m = 0; m < k; m++)
				dup |= pick[m] == pick[k];
		}
		doc[len++] = '}';
		r = rt_json_parse(&j, doc, len, tok, MAXTOK, 0, &e);
		dups += dup;
		if (dup ? !(r < 0 && strstr(e.msg, "duplicate key")) : !(r > 0 && walk(&j, 0))) {
			if (!bad++)
				printf("# wrong verdict on %.*s: %s\n", (int)len, doc,
				       r < 0 ? e.msg : "accepted");
		}
	}
	ok(bad == 0 && dups > 100 && dups < 1900,
	   "2000 random objects, %u with duplicates: verdicts match (%u wrong)", dups, bad);
}

static void nest(char *buf, int depth, bool obj)
{
	int k, n = 0;

	for (k = 0; k < depth; k++)
		n += sprintf(buf + n, obj ? "{\"a\":" : "[");
	n += sprintf(buf + n, "1");
	for (k = 0; k < depth; k++)
		buf[n++] = obj ? '}' : ']';
	buf[n] = '\0';
}

static void test_depth(void)
{
	static char doc[8 * 1024];
	struct rt_json j;
	struct rt_err e;
	int r;

	nest(doc, RT_JSON_DEPTH, false);
	ok(parse(&j, doc, &e) > 0, "arrays nested %d deep", RT_JSON_DEPTH);
	nest(doc, RT_JSON_DEPTH + 1, false);
	ok(parse(&j, doc, &e) < 0 && strstr(e.msg, "nesting deeper than 64"),
	   "arrays nested %d deep: %s", RT_JSON_DEPTH + 1, e.msg);
	nest(doc, RT_JSON_DEPTH, true);
	ok(parse(&j, doc, &e) > 0, "objects nested %d deep", RT_JSON_DEPTH);
	nest(doc, RT_JSON_DEPTH + 1, true);
	ok(parse(&j, doc, &e) < 0, "objects nested %d deep", RT_JSON_DEPTH + 1);

	r = rt_json_parse(&j, "[[1]]", 5, tok, MAXTOK, 2, &e);
	ok(r == 3, "maxdepth 2 takes [[1]]");
	r = rt_json_parse(&j, "[[[1]]]", 7, tok, MAXTOK, 2, &e);
	ok(r < 0 && strstr(e.msg, "nesting deeper than 2"), "maxdepth 2 refuses [[[1]]]");
	r = rt_json_parse(&j, "[[],[],{}]", 10, tok, MAXTOK, 2, &e);
	ok(r == 4, "depth counts nesting, not siblings");
	r = rt_json_parse(&j, "1", 1, tok, MAXTOK, 1, &e);
	ok(r == 1, "a scalar has depth 0");

	nest(doc, 1000, false);
	r = rt_json_parse(&j, doc, strlen(doc), tok, MAXTOK, 1000, &e);
	ok(r == 1001, "maxdepth 1000 parses 1000 deep without recursion");
}

static void test_tokens(void)
{
	struct rt_json j;
	struct rt_err e;
	int r;

	r = rt_json_parse(&j, "[1,2,3]", 7, tok, 4, 0, &e);
	ok(r == 4, "4 tokens fit in 4");
	r = rt_json_parse(&j, "[1,2,3]", 7, tok, 3, 0, &e);
	ok(r < 0 && strstr(e.msg, "more than 3 tokens") && e.errnum == E2BIG && j.ntok == 0,
	   "4 tokens in 3 is an error: %s", e.msg);
	r = rt_json_parse(&j, "{\"a\":1}", 7, tok, 2, 0, &e);
	ok(r < 0, "keys count as tokens");
	r = rt_json_parse(&j, "1", 1, NULL, 0, 0, &e);
	ok(r < 0, "no tokens at all");
}

static void test_writer(void)
{
	static const char want[] =
		"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		"\"layers\":[{\"digest\":\"sha256:bbbb\",\"size\":32654}],"
		"\"n\":[-9223372036854775808,9223372036854775807,18446744073709551615,0,-1],"
		"\"t\":true,\"f\":false,\"z\":null,\"eo\":{},\"ea\":[],\"nested\":[[[]],{\"x\":[{}]}]}";
	struct rt_json_w w;
	struct rt_json j;
	struct rt_err e;
	char buf[512], s[64];
	int64_t v;
	uint64_t u;
	bool b;

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "schemaVersion");
	rt_json_w_i64(&w, 2);
	rt_json_w_key(&w, "mediaType");
	rt_json_w_str(&w, "application/vnd.oci.image.manifest.v1+json");
	rt_json_w_key(&w, "layers");
	rt_json_w_arr(&w);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "digest");
	rt_json_w_str(&w, "sha256:bbbb");
	rt_json_w_key(&w, "size");
	rt_json_w_u64(&w, 32654);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "n");
	rt_json_w_arr(&w);
	rt_json_w_i64(&w, INT64_MIN);
	rt_json_w_i64(&w, INT64_MAX);
	rt_json_w_u64(&w, UINT64_MAX);
	rt_json_w_i64(&w, 0);
	rt_json_w_i64(&w, -1);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "t");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "f");
	rt_json_w_bool(&w, false);
	rt_json_w_key(&w, "z");
	rt_json_w_null(&w);
	rt_json_w_key(&w, "eo");
	rt_json_w_obj(&w);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "ea");
	rt_json_w_arr(&w);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "nested");
	rt_json_w_arr(&w);
	rt_json_w_arr(&w);
	rt_json_w_arr(&w);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "x");
	rt_json_w_arr(&w);
	rt_json_w_obj(&w);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	ok(rt_json_w_end(&w) == 0, "last end succeeds");
	ok(rt_json_w_finish(&w, &e) == 0, "finish ok");
	is_str(buf, want, "compact, canonical output");
	is_int(w.len, strlen(want), "len is the output length");

	ok(parse(&j, buf, &e) > 0, "output parses");
	ok(rt_json_i64(&j, rt_json_at(&j, rt_json_find(&j, 0, "n"), 0), &v, &e) == 0 &&
	   v == INT64_MIN, "INT64_MIN round-trips");
	ok(rt_json_u64(&j, rt_json_at(&j, rt_json_find(&j, 0, "n"), 2), &u, &e) == 0 &&
	   u == UINT64_MAX, "UINT64_MAX round-trips");
	ok(rt_json_str(&j, rt_json_find(&j, rt_json_at(&j, rt_json_find(&j, 0, "layers"), 0),
					"digest"), s, sizeof s, &e) > 0 &&
	   strcmp(s, "sha256:bbbb") == 0, "layers[0].digest round-trips");
	ok(rt_json_bool(&j, rt_json_find(&j, 0, "t"), &b, &e) == 0 && b, "bool round-trips");
	ok(rt_json_is_null(&j, rt_json_find(&j, 0, "z")), "null round-trips");
	ok(walk(&j, 0), "output walks");

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_str(&w, "x");
	ok(rt_json_w_finish(&w, &e) == 0 && strcmp(buf, "\"x\"") == 0, "scalar document");
}

static void test_escaping(void)
{
	static const char in[] = "q\" b\\ s/ \b\f\n\r\t \x01\x1f\x7f \xc3\xa9\xf0\x9f\x98\x80";
	static const char want[] =
		"\"q\\\" b\\\\ s/ \\b\\f\\n\\r\\t \\u0001\\u001f\x7f \xc3\xa9\xf0\x9f\x98\x80\"";
	struct rt_json_w w;
	struct rt_json j;
	struct rt_err e;
	char buf[1024], out[512], all[128];
	int k;

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_str(&w, in);
	ok(rt_json_w_finish(&w, &e) == 0, "escaped string written");
	is_str(buf, want, "escapes only what JSON requires");
	ok(parse(&j, buf, &e) > 0 && rt_json_str(&j, 0, out, sizeof out, &e) > 0 &&
	   strcmp(out, in) == 0, "escaped string round-trips");

	/* Every ASCII byte but NUL, as key and value. */
	for (k = 1; k < 128; k++)
		all[k - 1] = (char)k;
	all[127] = '\0';
	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, all);
	rt_json_w_str(&w, all);
	rt_json_w_end(&w);
	ok(rt_json_w_finish(&w, &e) == 0 && parse(&j, buf, &e) > 0 &&
	   rt_json_streq(&j, rt_json_find(&j, 0, all), all), "all ASCII round-trips");

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_strn(&w, "a\0b", 3);
	ok(rt_json_w_finish(&w, &e) == 0, "strn with NUL");
	is_str(buf, "\"a\\u0000b\"", "NUL written as \\u0000");

	static const char *const bad[] = {
		"\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82", "\x80",
	};
	for (k = 0; k < (int)(sizeof bad / sizeof bad[0]); k++) {
		rt_json_w_init(&w, buf, sizeof buf);
		rt_json_w_arr(&w);
		rt_json_w_str(&w, "ok");
		ok(rt_json_w_str(&w, bad[k]) < 0 && rt_json_w_end(&w) < 0 &&
		   rt_json_w_finish(&w, &e) < 0 && strstr(e.msg, "not valid UTF-8") &&
		   strcmp(buf, "[\"ok\",") == 0,
		   "invalid UTF-8 %d is a sticky error, nothing of it written: %s", k, e.msg);
	}
	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	ok(rt_json_w_key(&w, "\xc3") < 0, "invalid UTF-8 key");
}

static void test_overflow(void)
{
	static const char want[] = "{\"a\":[1,\"xy\",true]}";
	struct rt_json_w w;
	struct rt_err e;
	char buf[64];
	size_t size;
	int r;

	for (size = 0; size <= sizeof want; size++) {
		memset(buf, 'Z', sizeof buf);
		rt_json_w_init(&w, buf, size);
		rt_json_w_obj(&w);
		rt_json_w_key(&w, "a");
		rt_json_w_arr(&w);
		rt_json_w_i64(&w, 1);
		rt_json_w_str(&w, "xy");
		rt_json_w_bool(&w, true);
		rt_json_w_end(&w);
		rt_json_w_end(&w);
		r = rt_json_w_finish(&w, &e);
		if (size == sizeof want) {
			ok(r == 0 && strcmp(buf, want) == 0, "fits in %zu bytes with its NUL", size);
		} else {
			ok(r < 0 && e.errnum == ENOBUFS && strstr(e.msg, "buffer full") &&
			   (size == 0 ? buf[0] == 'Z' :
			    strlen(buf) < size && strncmp(buf, want, strlen(buf)) == 0) &&
			   buf[size] == 'Z',
			   "%zu bytes: overflow is sticky, buffer stays a NUL-terminated prefix", size);
		}
	}
}

static void test_misuse(void)
{
	struct rt_json_w w;
	struct rt_err e;
	char buf[256];
	int k;

	rt_json_w_init(&w, buf, sizeof buf);
	ok(rt_json_w_key(&w, "a") < 0 && rt_json_w_finish(&w, &e) < 0 &&
	   strstr(e.msg, "key outside an object"), "key at top level: %s", e.msg);

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_arr(&w);
	ok(rt_json_w_key(&w, "a") < 0, "key in an array");

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	ok(rt_json_w_i64(&w, 1) < 0 && rt_json_w_finish(&w, &e) < 0 &&
	   strstr(e.msg, "without a key"), "value without a key: %s", e.msg);

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "a");
	ok(rt_json_w_key(&w, "b") < 0, "key after key");

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "a");
	ok(rt_json_w_end(&w) < 0, "end after a key");

	rt_json_w_init(&w, buf, sizeof buf);
	ok(rt_json_w_end(&w) < 0, "end with nothing open");

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_arr(&w);
	ok(rt_json_w_finish(&w, &e) < 0 && strstr(e.msg, "unclosed array"),
	   "unclosed: %s", e.msg);

	rt_json_w_init(&w, buf, sizeof buf);
	ok(rt_json_w_finish(&w, &e) < 0 && strstr(e.msg, "no value"), "nothing written");

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_null(&w);
	ok(rt_json_w_null(&w) < 0 && rt_json_w_finish(&w, &e) < 0,
	   "second top-level value: %s", e.msg);

	rt_json_w_init(&w, buf, sizeof buf);
	for (k = 0; k < RT_JSON_W_DEPTH; k++)
		rt_json_w_arr(&w);
	for (k = 0; k < RT_JSON_W_DEPTH; k++)
		rt_json_w_end(&w);
	ok(rt_json_w_finish(&w, &e) == 0, "writer nests %d deep", RT_JSON_W_DEPTH);

	rt_json_w_init(&w, buf, sizeof buf);
	for (k = 0; k <= RT_JSON_W_DEPTH; k++)
		rt_json_w_arr(&w);
	ok(rt_json_w_finish(&w, &e) < 0 && strstr(e.msg, "too deep"),
	   "writer refuses %d deep", RT_JSON_W_DEPTH + 1);
}

int main(void)
{
	test_suite();
	test_accessors();
	test_values();
	test_strict();
	test_errors();
	test_dupkeys();
	test_dupkeys_random();
	test_depth();
	test_tokens();
	test_writer();
	test_escaping();
	test_overflow();
	test_misuse();
	return done_testing();
}
