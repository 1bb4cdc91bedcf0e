/* Strict JSON (RFC 8259): a parser into caller-owned tokens and a writer
 * into a caller-owned buffer. Neither allocates.
 *
 * Parser. rt_json_parse() checks a whole document and fills an array of
 * tokens in document order; token 0 is the root. It is strict where other
 * parsers are lenient, because the documents it reads (manifests, indexes,
 * signature payloads) are hostile until verified and two parsers must never
 * disagree about them:
 *   - exactly one value, optionally surrounded by space, tab, CR, LF;
 *     no byte-order mark, no comments, no trailing commas;
 *   - strings must be valid UTF-8 (no overlongs, no UTF-8-encoded
 *     surrogates, nothing above U+10FFFF); a \u escape of a surrogate must
 *     be a high one immediately followed by a low one, lone surrogates are
 *     rejected; \u0000 is accepted in the document, but rt_json_str()
 *     refuses to hand it out;
 *   - two keys of one object that decode to the same bytes are rejected
 *     ("a" and "\u0061" are the same key), although RFC 8259 allows them:
 *     parsers differ on which one wins;
 *   - nesting deeper than maxdepth and more than maxtok tokens are errors,
 *     never truncation;
 *   - numbers follow the grammar only; their magnitude is checked when an
 *     integer is read, not when parsing.
 * Parsing is linear in the input, except the duplicate-key check:
 * O(n log n) key compares for an object of n members, however hostile.
 *
 * Tokens. Every value is a token; an object member is a string token (the
 * key) followed by its value's tokens. `next` is the index just after a
 * token's subtree (for a key: after its value), so a reader skips any
 * subtree in O(1); the iteration helpers below use it. Indexes are int;
 * -1 means "none" and every accessor accepts it, so lookups chain:
 *
 *	int layers = rt_json_find(&j, 0, "layers");
 *	for (int l = rt_json_first(&j, layers); l >= 0; l = rt_json_next(&j, layers, l))
 *		if (rt_json_str(&j, rt_json_find(&j, l, "digest"), dig, sizeof dig, e) < 0)
 *			return rt_err_wrap(e, "layers");
 *
 * Writer. struct rt_json_w writes compact JSON (no spaces, members in call
 * order), so equal calls give equal bytes. Errors are sticky: after the
 * first one (buffer full, invalid UTF-8, a key where a value belongs, ...)
 * every call fails and writes nothing, and rt_json_w_finish() reports it.
 * The buffer is kept NUL-terminated, so one byte of it is never output.
 */
#ifndef RT_JSON_H
#define RT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RT_JSON_DEPTH 64        /* nesting limit when rt_json_parse gets 0 */
#define RT_JSON_W_DEPTH 64      /* fixed nesting limit of the writer */
#define RT_JSON_MAX_LEN 0x7fffffff /* longest document rt_json_parse takes */

enum rt_json_type {
	RT_JSON_NONE,           /* no token: index -1 or out of range */
	RT_JSON_OBJECT,
	RT_JSON_ARRAY,
	RT_JSON_STRING,
	RT_JSON_NUMBER,
	RT_JSON_TRUE,
	RT_JSON_FALSE,
	RT_JSON_NULL,
};

struct rt_json_tok {
	uint8_t type;           /* enum rt_json_type */
	uint8_t flags;          /* private */
	uint32_t start;         /* first byte; for a string, just after the quote */
	uint32_t len;           /* raw bytes; for a string, without the quotes */
	uint32_t size;          /* members of an object, elements of an array, else 0 */
	uint32_t next;          /* index after this token's subtree */
	uint32_t hash;          /* private: hash of a key's decoded bytes */
};

/* A parsed document: a view of the caller's buffer and tokens. */
struct rt_json {
	const char *buf;
	size_t len;
	const struct rt_json_tok *tok;
	int ntok;
};

/* Parse buf[0..len) into tok[0..maxtok). maxdepth is the deepest nesting of
 * arrays and objects allowed ("[]" is 1; 0 means RT_JSON_DEPTH). buf and tok
 * must outlive j. Returns the number of tokens used (>= 1), or -1 with
 * e saying what and at which byte offset. */
int rt_json_parse(struct rt_json *j, const char *buf, size_t len,
		  struct rt_json_tok *tok, size_t maxtok, unsigned maxdepth,
		  struct rt_err *e);

/* Type of token i; RT_JSON_NONE for i == -1. */
enum rt_json_type rt_json_type(const struct rt_json *j, int i);

/* Members of an object or elements of an array; 0 for anything else. */
int rt_json_count(const struct rt_json *j, int i);

/* Value of the member of object obj whose key decodes to key; -1 when obj
 * is not an object or has no such member. Linear in the members. */
int rt_json_find(const struct rt_json *j, int obj, const char *key);

/* Element n (from 0) of array arr; -1 when out of range or not an array. */
int rt_json_at(const struct rt_json *j, int arr, int n);

/* Iteration. For an array, first/next give the elements. For an object
 * they give the keys: the member's value is the key's index + 1. -1 when
 * there is nothing (more), or parent is not an array or object. */
int rt_json_first(const struct rt_json *j, int parent);
int rt_json_next(const struct rt_json *j, int parent, int cur);

/* Copy string i, decoded and NUL-terminated, into buf. Returns its length;
 * -1 when i is missing or not a string, the string contains U+0000, or it
 * does not fit (length + 1 > size). */
int rt_json_str(const struct rt_json *j, int i, char *buf, size_t size,
		struct rt_err *e);

/* True when i is a string that decodes to exactly s. */
bool rt_json_streq(const struct rt_json *j, int i, const char *s);

/* Integers: -1 when i is missing, not a number, has a fraction or an
 * exponent ("1.0", "1e3"), or is out of range. "-0" reads as 0. */
int rt_json_i64(const struct rt_json *j, int i, int64_t *out, struct rt_err *e);
int rt_json_u64(const struct rt_json *j, int i, uint64_t *out, struct rt_err *e);

int rt_json_bool(const struct rt_json *j, int i, bool *out, struct rt_err *e);
bool rt_json_is_null(const struct rt_json *j, int i);

/* Writer. Fields are private; len is the output length so far. */
struct rt_json_w {
	char *buf;
	size_t size;
	size_t len;
	const char *why;        /* sticky error, NULL while fine */
	int errnum;
	uint64_t obj;           /* bit d-1: level d is an object */
	uint64_t some;          /* bit d-1: level d has an element */
	unsigned depth;
	bool key;               /* a key is written, its value is due */
	bool done;              /* the top-level value is complete */
};

void rt_json_w_init(struct rt_json_w *w, char *buf, size_t size);
/* Open an object or array; rt_json_w_end closes the innermost one. */
int rt_json_w_obj(struct rt_json_w *w);
int rt_json_w_arr(struct rt_json_w *w);
int rt_json_w_end(struct rt_json_w *w);
/* Member name, inside an object; the next call writes its value. */
int rt_json_w_key(struct rt_json_w *w, const char *key);
/* Strings must be valid UTF-8; strn may contain NUL (written \u0000). */
/* Length of the valid UTF-8 sequence at s[0..n), 0 when it is not one. */
size_t rt_json_utf8_seq(const unsigned char *s, size_t n);
int rt_json_w_str(struct rt_json_w *w, const char *s);
int rt_json_w_strn(struct rt_json_w *w, const char *s, size_t n);
int rt_json_w_i64(struct rt_json_w *w, int64_t v);
int rt_json_w_u64(struct rt_json_w *w, uint64_t v);
int rt_json_w_bool(struct rt_json_w *w, bool v);
int rt_json_w_null(struct rt_json_w *w);
/* 0 when exactly one complete value was written without error (the result
 * is buf[0..w->len), NUL-terminated); else -1 with the first error. */
int rt_json_w_finish(const struct rt_json_w *w, struct rt_err *e);

#endif
