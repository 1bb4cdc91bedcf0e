#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

#define F_ESC 0x01              /* string has backslash escapes */
#define NONE UINT32_MAX         /* no parent: the root level */

/* ---- UTF-8 and string decoding, shared by parser, accessors, writer ---- */

/* Length of the valid UTF-8 sequence at s (RFC 3629 table 4), 0 if invalid.
 * The per-lead-byte bounds on the second byte are what exclude overlongs,
 * surrogates (ED A0..BF) and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, k;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		need = 2;
	} else if (c < 0xf0) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < need; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return need;
}

size_t rt_json_utf8_seq(const unsigned char *s, size_t n)
{
	return n ? utf8_seq(s, n) : 0;
}

static size_t utf8_put(unsigned char *u, uint32_t cp)
{
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | cp >> 18);
	u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s (n bytes available); -1 if not. */
static int32_t hex4(const unsigned char *s, size_t n)
{
	int32_t v = 0;
	int k, d;

	if (n < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		d = hexval(s[k]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Decodes the body of a string the parser has validated, one byte at a
 * time, so accessors compare and copy without a scratch buffer. */
struct dcur {
	const unsigned char *p, *end;
	unsigned char u[4];
	size_t un, ui;
};

static void dinit(struct dcur *c, const struct rt_json *j, const struct rt_json_tok *t)
{
	c->p = (const unsigned char *)j->buf + t->start;
	c->end = c->p + t->len;
	c->un = c->ui = 0;
}

static int dget(struct dcur *c)
{
	uint32_t cp, lo;

	if (c->ui < c->un)
		return c->u[c->ui++];
	if (c->p >= c->end)
		return -1;
	if (*c->p != '\\')
		return *c->p++;
	c->p += 2;
	switch (c->p[-1]) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'u': break;
	default: return c->p[-1];       /* " \ / */
	}
	cp = (uint32_t)hex4(c->p, 4);
	c->p += 4;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		lo = (uint32_t)hex4(c->p + 2, 4);
		c->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	c->un = utf8_put(c->u, cp);
	c->ui = 1;
	return c->u[0];
}

static uint32_t hash_init(void)
{
	return 2166136261u;
}

static uint32_t hash_byte(uint32_t h, unsigned char b)
{
	return (h ^ b) * 16777619u;
}

/* Decoded string t against the bytes s[0..n). */
static bool tok_eq(const struct rt_json *j, const struct rt_json_tok *t,
		   const char *s, size_t n)
{
	struct dcur c;
	size_t k;
	int b;

	if (!(t->flags & F_ESC))
		return t->len == n && memcmp(j->buf + t->start, s, n) == 0;
	dinit(&c, j, t);
	for (k = 0; k < n; k++) {
		b = dget(&c);
		if (b < 0 || b != (unsigned char)s[k])
			return false;
	}
	return dget(&c) < 0;
}

/* Order of two keys: by hash, then by decoded bytes; 0 when equal. */
static int tok_cmp(const struct rt_json *j, const struct rt_json_tok *a,
		   const struct rt_json_tok *b)
{
	struct dcur ca, cb;
	size_t n;
	int x, y;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (!((a->flags | b->flags) & F_ESC)) {
		n = a->len < b->len ? a->len : b->len;
		x = memcmp(j->buf + a->start, j->buf + b->start, n);
		if (x)
			return x;
		return a->len < b->len ? -1 : a->len > b->len;
	}
	dinit(&ca, j, a);
	dinit(&cb, j, b);
	do {
		x = dget(&ca);
		y = dget(&cb);
	} while (x == y && x >= 0);
	return x - y;
}

/* ---- parser ---- */

struct parser {
	const unsigned char *s;
	size_t n, pos;
	struct rt_json_tok *tok;
	size_t ntok, maxtok;
	unsigned depth, maxdepth;
	struct rt_json view;    /* for the decoded compares of keys */
	struct rt_err *e;
};

static int __attribute__((format(printf, 4, 5)))
fail(struct parser *p, size_t at, int errnum, const char *fmt, ...)
{
	char msg[RT_ERR_MSG];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	return rt_err_set(p->e, errnum, "json: byte %zu: %s", at, msg);
}

static int unexpected(struct parser *p, const char *want)
{
	unsigned char c = p->s[p->pos];

	if (c > 0x20 && c < 0x7f)
		return fail(p, p->pos, EBADMSG, "expected %s, found '%c'", want, c);
	return fail(p, p->pos, EBADMSG, "expected %s, found byte 0x%02x", want, c);
}

static struct rt_json_tok *newtok(struct parser *p, enum rt_json_type type)
{
	struct rt_json_tok *t;

	if (p->ntok >= p->maxtok) {
		fail(p, p->pos, E2BIG, "more than %zu tokens", p->maxtok);
		return NULL;
	}
	t = &p->tok[p->ntok++];
	t->type = (uint8_t)type;
	t->flags = 0;
	t->start = (uint32_t)p->pos;
	t->len = 0;
	t->size = 0;
	t->next = (uint32_t)p->ntok;
	t->hash = 0;
	return t;
}

/* The string whose opening quote is at p->pos; leaves pos after the
 * closing quote. Validates everything dget() relies on. */
static int string(struct parser *p, struct rt_json_tok *t)
{
	const unsigned char *s = p->s;
	size_t i = p->pos + 1, k;
	int32_t cp, lo;

	t->start = (uint32_t)i;
	for (;;) {
		if (i >= p->n)
			return fail(p, p->pos, EBADMSG, "unterminated string");
		if (s[i] == '"')
			break;
		if (s[i] < 0x20)
			return fail(p, i, EBADMSG, "control character 0x%02x in string", s[i]);
		if (s[i] >= 0x80) {
			k = utf8_seq(s + i, p->n - i);
			if (!k)
				return fail(p, i, EBADMSG, "invalid UTF-8 in string");
			i += k;
			continue;
		}
		if (s[i] != '\\') {
			i++;
			continue;
		}
		t->flags |= F_ESC;
		if (i + 1 >= p->n)
			return fail(p, p->pos, EBADMSG, "unterminated string");
		if (s[i + 1] && strchr("\"\\/bfnrt", s[i + 1])) {
			i += 2;
			continue;
		}
		if (s[i + 1] != 'u')
			return fail(p, i, EBADMSG, "invalid escape in string");
		cp = hex4(s + i + 2, p->n - i - 2);
		if (cp < 0)
			return fail(p, i, EBADMSG, "invalid \\u escape in string");
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail(p, i, EBADMSG, "lone low surrogate \\u%04x in string", (unsigned)cp);
		if (cp >= 0xd800 && cp <= 0xdbff) {
			lo = -1;
			if (p->n - i - 6 >= 2 && s[i + 6] == '\\' && s[i + 7] == 'u')
				lo = hex4(s + i + 8, p->n - i - 8);
			if (lo < 0xdc00 || lo > 0xdfff)
				return fail(p, i, EBADMSG, "lone high surrogate \\u%04x in string", (unsigned)cp);
			i += 6;
		}
		i += 6;
	}
	t->len = (uint32_t)(i - t->start);
	p->pos = i + 1;
	return 0;
}

static bool digit(const struct parser *p, size_t i)
{
	return i < p->n && p->s[i] >= '0' && p->s[i] <= '9';
}

/* RFC 8259 section 6; what follows the number is the caller's business,
 * which is how "01" and "1x" fail. */
static int number(struct parser *p, struct rt_json_tok *t)
{
	size_t i = p->pos;

	if (p->s[i] == '-')
		i++;
	if (!digit(p, i))
		return fail(p, i, EBADMSG, "invalid number");
	if (p->s[i] == '0')
		i++;
	else
		while (digit(p, i))
			i++;
	if (i < p->n && p->s[i] == '.') {
		if (!digit(p, ++i))
			return fail(p, i, EBADMSG, "invalid number: no digit after '.'");
		while (digit(p, i))
			i++;
	}
	if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (!digit(p, i))
			return fail(p, i, EBADMSG, "invalid number: no digit in exponent");
		while (digit(p, i))
			i++;
	}
	t->len = (uint32_t)(i - p->pos);
	p->pos = i;
	return 0;
}

static int literal(struct parser *p, struct rt_json_tok *t, const char *word)
{
	size_t n = strlen(word);

	if (p->n - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, p->pos, EBADMSG, "invalid literal (expected %s)", word);
	t->len = (uint32_t)n;
	p->pos += n;
	return 0;
}

static int dupfail(struct parser *p, const struct rt_json_tok *key)
{
	int show = key->len > 64 ? 64 : (int)key->len;

	/* Cut on a character boundary. */
	while (show > 0 && (p->s[key->start + show] & 0xc0) == 0x80)
		show--;
	return fail(p, key->start - 1, EBADMSG, "duplicate key \"%.*s\"%s",
		    show, (const char *)p->s + key->start, key->len > 64 ? "..." : "");
}

/* Duplicate keys of the object at obj, which has just closed. The keys are
 * merge-sorted: a comparison sort compares every pair that ends up next to
 * each other, so equal keys always meet, in O(n log n) compares however
 * hostile the keys (a pairwise check is quadratic, and hash tables need
 * memory and a secret seed). The list runs through the keys' size fields,
 * which are 0 otherwise and are reset afterwards. */
static int dupkeys(struct parser *p, size_t obj)
{
	struct rt_json_tok *t = p->tok;
	uint32_t list = NONE, tail = NONE, a, b, x, k, dup = NONE;
	size_t insize, asize, bsize, merges;
	bool take_a;
	int c;

	if (t[obj].size < 2)
		return 0;
	for (k = (uint32_t)obj + 1; k < p->ntok; k = t[k].next) {
		t[k].size = NONE;
		if (tail == NONE)
			list = k;
		else
			t[tail].size = k;
		tail = k;
	}
	for (insize = 1; dup == NONE; insize *= 2) {
		a = list;
		list = tail = NONE;
		merges = 0;
		while (a != NONE && dup == NONE) {
			merges++;
			b = a;
			for (asize = 0; asize < insize && b != NONE; asize++)
				b = t[b].size;
			bsize = insize;
			while (asize || (bsize && b != NONE)) {
				if (!asize) {
					take_a = false;
				} else if (!bsize || b == NONE) {
					take_a = true;
				} else {
					c = tok_cmp(&p->view, &t[a], &t[b]);
					if (c == 0) {
						dup = a > b ? a : b;
						break;
					}
					take_a = c < 0;
				}
				if (take_a) {
					x = a;
					a = t[a].size;
					asize--;
				} else {
					x = b;
					b = t[b].size;
					bsize--;
				}
				if (tail == NONE)
					list = x;
				else
					t[tail].size = x;
				tail = x;
			}
			a = b;
		}
		if (dup == NONE) {
			t[tail].size = NONE;
			if (merges <= 1)
				break;
		}
	}
	for (k = (uint32_t)obj + 1; k < p->ntok; k = t[k].next)
		t[k].size = 0;
	return dup == NONE ? 0 : dupfail(p, &t[dup]);
}

static int key(struct parser *p, size_t obj)
{
	struct rt_json_tok *t = newtok(p, RT_JSON_STRING);
	struct dcur c;
	uint32_t h = hash_init();
	int b;

	if (!t || string(p, t) < 0)
		return -1;
	dinit(&c, &p->view, t);
	while ((b = dget(&c)) >= 0)
		h = hash_byte(h, (unsigned char)b);
	t->hash = h;
	p->tok[obj].size++;
	return 0;
}

enum state { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, COLON, COMMA_OR_CLOSE, END };

/* Value at index v is complete: finish the member it belongs to, if any,
 * and say what may come next. */
static enum state done(struct parser *p, size_t cur, size_t v)
{
	if (cur == NONE)
		return END;
	if (p->tok[cur].type == RT_JSON_OBJECT)
		p->tok[v - 1].next = (uint32_t)p->ntok;
	return COMMA_OR_CLOSE;
}

/* Opens a container. Until it closes, its `next` holds the parent's index,
 * which makes the token array the parse stack: no recursion, and the depth
 * limit is the only bound on nesting. */
static int enter(struct parser *p, size_t *cur, enum rt_json_type type)
{
	struct rt_json_tok *t;

	if (p->depth >= p->maxdepth)
		return fail(p, p->pos, E2BIG, "nesting deeper than %u", p->maxdepth);
	t = newtok(p, type);
	if (!t)
		return -1;
	t->next = (uint32_t)*cur;
	*cur = p->ntok - 1;
	p->depth++;
	p->pos++;
	return 0;
}

static int leave(struct parser *p, size_t *cur, enum state *st)
{
	size_t v = *cur;
	struct rt_json_tok *t = &p->tok[v];

	if (t->type == RT_JSON_OBJECT && dupkeys(p, v) < 0)
		return -1;
	*cur = t->next;
	t->next = (uint32_t)p->ntok;
	t->len = (uint32_t)(p->pos + 1 - t->start);
	p->depth--;
	p->pos++;
	*st = done(p, *cur, v);
	return 0;
}

static int value(struct parser *p, size_t *cur, enum state *st)
{
	struct rt_json_tok *t;
	unsigned char c = p->s[p->pos];
	int r;

	if (*cur != NONE && p->tok[*cur].type == RT_JSON_ARRAY)
		p->tok[*cur].size++;
	if (c == '{' || c == '[') {
		if (enter(p, cur, c == '{' ? RT_JSON_OBJECT : RT_JSON_ARRAY) < 0)
			return -1;
		*st = c == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
		return 0;
	}
	if (c != '"' && c != '-' && !(c >= '0' && c <= '9') &&
	    c != 't' && c != 'f' && c != 'n')
		return unexpected(p, "a value");
	t = newtok(p, RT_JSON_NONE);
	if (!t)
		return -1;
	switch (c) {
	case '"':
		t->type = RT_JSON_STRING;
		r = string(p, t);
		break;
	case 't':
		t->type = RT_JSON_TRUE;
		r = literal(p, t, "true");
		break;
	case 'f':
		t->type = RT_JSON_FALSE;
		r = literal(p, t, "false");
		break;
	case 'n':
		t->type = RT_JSON_NULL;
		r = literal(p, t, "null");
		break;
	default:
		t->type = RT_JSON_NUMBER;
		r = number(p, t);
		break;
	}
	if (r < 0)
		return -1;
	*st = done(p, *cur, p->ntok - 1);
	return 0;
}

static bool space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int rt_json_parse(struct rt_json *j, const char *buf, size_t len,
		  struct rt_json_tok *tok, size_t maxtok, unsigned maxdepth,
		  struct rt_err *e)
{
	struct parser p = {
		.s = (const unsigned char *)buf, .n = len, .tok = tok,
		.maxtok = maxtok > RT_JSON_MAX_LEN ? RT_JSON_MAX_LEN : maxtok,
		.maxdepth = maxdepth ? maxdepth : RT_JSON_DEPTH,
		.view = { .buf = buf, .len = len, .tok = tok }, .e = e,
	};
	enum state st = VALUE;
	size_t cur = NONE;
	unsigned char c;

	j->buf = buf;
	j->len = len;
	j->tok = tok;
	j->ntok = 0;
	if (len > RT_JSON_MAX_LEN)
		return fail(&p, 0, E2BIG, "document longer than %d bytes", RT_JSON_MAX_LEN);
	for (;;) {
		while (p.pos < p.n && space(p.s[p.pos]))
			p.pos++;
		if (p.pos >= p.n) {
			if (st == END)
				break;
			return fail(&p, p.pos, EBADMSG, "unexpected end of input");
		}
		c = p.s[p.pos];
		switch (st) {
		case END:
			return unexpected(&p, "end of input");
		case COLON:
			if (c != ':')
				return unexpected(&p, "':'");
			p.pos++;
			st = VALUE;
			break;
		case COMMA_OR_CLOSE:
			if (c == ',') {
				p.pos++;
				st = p.tok[cur].type == RT_JSON_OBJECT ? KEY : VALUE;
			} else if (c == (p.tok[cur].type == RT_JSON_OBJECT ? '}' : ']')) {
				if (leave(&p, &cur, &st) < 0)
					return -1;
			} else {
				return unexpected(&p, p.tok[cur].type == RT_JSON_OBJECT ?
						  "',' or '}'" : "',' or ']'");
			}
			break;
		case KEY_OR_CLOSE:
		case KEY:
			if (st == KEY_OR_CLOSE && c == '}') {
				if (leave(&p, &cur, &st) < 0)
					return -1;
				break;
			}
			if (c != '"')
				return unexpected(&p, "a string key");
			if (key(&p, cur) < 0)
				return -1;
			st = COLON;
			break;
		case VALUE_OR_CLOSE:
		case VALUE:
			if (st == VALUE_OR_CLOSE && c == ']') {
				if (leave(&p, &cur, &st) < 0)
					return -1;
				break;
			}
			if (value(&p, &cur, &st) < 0)
				return -1;
			break;
		}
	}
	j->ntok = (int)p.ntok;
	return j->ntok;
}

/* ---- accessors ---- */

static const struct rt_json_tok *get(const struct rt_json *j, int i)
{
	if (i < 0 || i >= j->ntok)
		return NULL;
	return &j->tok[i];
}

static const char *tname(int type)
{
	static const char *const names[] = {
		"nothing", "object", "array", "string", "number", "true", "false", "null",
	};

	return type >= 0 && type <= RT_JSON_NULL ? names[type] : "?";
}

/* Token i of the wanted type(s), or NULL with e set. */
static const struct rt_json_tok *want(const struct rt_json *j, int i, int t1,
				      int t2, const char *what, struct rt_err *e)
{
	const struct rt_json_tok *t = get(j, i);

	if (!t) {
		rt_err_set(e, ENOENT, "json: missing %s", what);
		return NULL;
	}
	if (t->type != t1 && t->type != t2) {
		rt_err_set(e, EINVAL, "json: byte %lu: expected %s, found %s",
			   (unsigned long)t->start, what, tname(t->type));
		return NULL;
	}
	return t;
}

enum rt_json_type rt_json_type(const struct rt_json *j, int i)
{
	const struct rt_json_tok *t = get(j, i);

	return t ? (enum rt_json_type)t->type : RT_JSON_NONE;
}

int rt_json_count(const struct rt_json *j, int i)
{
	const struct rt_json_tok *t = get(j, i);

	if (!t || (t->type != RT_JSON_OBJECT && t->type != RT_JSON_ARRAY))
		return 0;
	return (int)t->size;
}

int rt_json_first(const struct rt_json *j, int parent)
{
	const struct rt_json_tok *t = get(j, parent);

	if (!t || (t->type != RT_JSON_OBJECT && t->type != RT_JSON_ARRAY) || !t->size)
		return -1;
	return parent + 1;
}

int rt_json_next(const struct rt_json *j, int parent, int cur)
{
	const struct rt_json_tok *t = get(j, parent), *c = get(j, cur);

	if (!t || !c || cur <= parent || (uint32_t)cur >= t->next ||
	    (t->type != RT_JSON_OBJECT && t->type != RT_JSON_ARRAY))
		return -1;
	return c->next < t->next ? (int)c->next : -1;
}

int rt_json_find(const struct rt_json *j, int obj, const char *key)
{
	const struct rt_json_tok *t = get(j, obj);
	size_t n = strlen(key), k;
	uint32_t h = hash_init();
	int i;

	if (!t || t->type != RT_JSON_OBJECT)
		return -1;
	for (k = 0; k < n; k++)
		h = hash_byte(h, (unsigned char)key[k]);
	for (i = rt_json_first(j, obj); i >= 0; i = rt_json_next(j, obj, i))
		if (j->tok[i].hash == h && tok_eq(j, &j->tok[i], key, n))
			return i + 1;
	return -1;
}

int rt_json_at(const struct rt_json *j, int arr, int n)
{
	const struct rt_json_tok *t = get(j, arr);
	int i;

	if (!t || t->type != RT_JSON_ARRAY || n < 0 || (uint32_t)n >= t->size)
		return -1;
	for (i = rt_json_first(j, arr); i >= 0 && n > 0; n--)
		i = rt_json_next(j, arr, i);
	return i;
}

int rt_json_str(const struct rt_json *j, int i, char *buf, size_t size,
		struct rt_err *e)
{
	const struct rt_json_tok *t = want(j, i, RT_JSON_STRING, RT_JSON_STRING, "string", e);
	struct dcur c;
	size_t n = 0;
	int b;

	if (!t)
		return -1;
	dinit(&c, j, t);
	while ((b = dget(&c)) >= 0) {
		if (b == 0)
			return rt_err_set(e, EINVAL, "json: byte %lu: string contains U+0000",
					  (unsigned long)t->start);
		if (n + 1 >= size)
			return rt_err_set(e, ENAMETOOLONG,
					  "json: byte %lu: string longer than %zu bytes",
					  (unsigned long)t->start, size ? size - 1 : 0);
		buf[n++] = (char)b;
	}
	if (size == 0)
		return rt_err_set(e, ENAMETOOLONG, "json: byte %lu: no room for string",
				  (unsigned long)t->start);
	buf[n] = '\0';
	return (int)n;
}

bool rt_json_streq(const struct rt_json *j, int i, const char *s)
{
	const struct rt_json_tok *t = get(j, i);

	return t && t->type == RT_JSON_STRING && tok_eq(j, t, s, strlen(s));
}

/* Magnitude and sign of an integer token. */
static int integer(const struct rt_json *j, int i, uint64_t *mag, bool *neg,
		   struct rt_err *e)
{
	const struct rt_json_tok *t = want(j, i, RT_JSON_NUMBER, RT_JSON_NUMBER, "integer", e);
	const char *s, *end;
	uint64_t v = 0;
	unsigned d;

	if (!t)
		return -1;
	s = j->buf + t->start;
	end = s + t->len;
	*neg = *s == '-';
	if (*neg)
		s++;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return rt_err_set(e, EINVAL, "json: byte %lu: %.*s is not an integer",
					  (unsigned long)t->start, (int)(t->len > 40 ? 40 : t->len),
					  j->buf + t->start);
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			goto range;
		v = v * 10 + d;
	}
	*mag = v;
	return 0;
range:
	return rt_err_set(e, ERANGE, "json: byte %lu: integer out of range",
			  (unsigned long)t->start);
}

int rt_json_i64(const struct rt_json *j, int i, int64_t *out, struct rt_err *e)
{
	uint64_t m;
	bool neg;

	if (integer(j, i, &m, &neg, e) < 0)
		return -1;
	if (m > (uint64_t)INT64_MAX + neg)
		return rt_err_set(e, ERANGE, "json: byte %lu: integer out of range",
				  (unsigned long)j->tok[i].start);
	if (!neg)
		*out = (int64_t)m;
	else if (m == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)m;
	return 0;
}

int rt_json_u64(const struct rt_json *j, int i, uint64_t *out, struct rt_err *e)
{
	uint64_t m;
	bool neg;

	if (integer(j, i, &m, &neg, e) < 0)
		return -1;
	if (neg && m)
		return rt_err_set(e, ERANGE, "json: byte %lu: negative integer",
				  (unsigned long)j->tok[i].start);
	*out = m;
	return 0;
}

int rt_json_bool(const struct rt_json *j, int i, bool *out, struct rt_err *e)
{
	const struct rt_json_tok *t = want(j, i, RT_JSON_TRUE, RT_JSON_FALSE, "boolean", e);

	if (!t)
		return -1;
	*out = t->type == RT_JSON_TRUE;
	return 0;
}

bool rt_json_is_null(const struct rt_json *j, int i)
{
	return rt_json_type(j, i) == RT_JSON_NULL;
}

/* ---- writer ---- */

static int wfail(struct rt_json_w *w, int errnum, const char *why)
{
	if (!w->why) {
		w->why = why;
		w->errnum = errnum;
	}
	return -1;
}

static int put(struct rt_json_w *w, const char *s, size_t n)
{
	if (w->why)
		return -1;
	/* One byte stays for the terminating NUL. */
	if (w->size == 0 || n > w->size - 1 - w->len)
		return wfail(w, ENOBUFS, "output buffer full");
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
	return 0;
}

static uint64_t bit(const struct rt_json_w *w)
{
	return (uint64_t)1 << (w->depth - 1);
}

static bool in_obj(const struct rt_json_w *w)
{
	return w->depth && (w->obj & bit(w));
}

/* Separator and structure checks before any value. */
static int before(struct rt_json_w *w)
{
	if (w->why)
		return -1;
	if (w->depth == 0)
		return w->done ? wfail(w, EINVAL, "second top-level value") : 0;
	if (in_obj(w)) {
		if (!w->key)
			return wfail(w, EINVAL, "value in an object without a key");
		w->key = false;
		return 0;
	}
	if (w->some & bit(w)) {
		if (put(w, ",", 1) < 0)
			return -1;
	}
	w->some |= bit(w);
	return 0;
}

static int after(struct rt_json_w *w)
{
	if (w->depth == 0)
		w->done = true;
	return w->why ? -1 : 0;
}

void rt_json_w_init(struct rt_json_w *w, char *buf, size_t size)
{
	memset(w, 0, sizeof *w);
	w->buf = buf;
	w->size = size;
	if (size)
		buf[0] = '\0';
}

static int wopen(struct rt_json_w *w, bool obj)
{
	if (before(w) < 0)
		return -1;
	if (w->depth >= RT_JSON_W_DEPTH)
		return wfail(w, EINVAL, "nesting too deep");
	if (put(w, obj ? "{" : "[", 1) < 0)
		return -1;
	w->depth++;
	if (obj)
		w->obj |= bit(w);
	else
		w->obj &= ~bit(w);
	w->some &= ~bit(w);
	return 0;
}

int rt_json_w_obj(struct rt_json_w *w)
{
	return wopen(w, true);
}

int rt_json_w_arr(struct rt_json_w *w)
{
	return wopen(w, false);
}

int rt_json_w_end(struct rt_json_w *w)
{
	if (w->why)
		return -1;
	if (w->depth == 0)
		return wfail(w, EINVAL, "end with nothing open");
	if (w->key)
		return wfail(w, EINVAL, "key without a value");
	if (put(w, in_obj(w) ? "}" : "]", 1) < 0)
		return -1;
	w->depth--;
	return after(w);
}

/* Escapes what RFC 8259 requires and nothing else, so valid UTF-8 passes
 * through unchanged and output is the same on every host. */
static int quoted(struct rt_json_w *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[7];
	size_t i, run, k;

	for (i = 0; i < n; i += k) {
		k = utf8_seq(s + i, n - i);
		if (!k)
			return wfail(w, EINVAL, "string is not valid UTF-8");
	}
	if (put(w, "\"", 1) < 0)
		return -1;
	for (i = 0; i < n; ) {
		for (run = i; run < n && s[run] >= 0x20 && s[run] != '"' && s[run] != '\\'; run++)
			;
		if (put(w, str + i, run - i) < 0)
			return -1;
		if (run == n)
			break;
		switch (s[run]) {
		case '"': memcpy(esc, "\\\"", 3); break;
		case '\\': memcpy(esc, "\\\\", 3); break;
		case '\b': memcpy(esc, "\\b", 3); break;
		case '\f': memcpy(esc, "\\f", 3); break;
		case '\n': memcpy(esc, "\\n", 3); break;
		case '\r': memcpy(esc, "\\r", 3); break;
		case '\t': memcpy(esc, "\\t", 3); break;
		default:
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = "0123456789abcdef"[s[run] >> 4];
			esc[5] = "0123456789abcdef"[s[run] & 15];
			esc[6] = '\0';
			break;
		}
		if (put(w, esc, strlen(esc)) < 0)
			return -1;
		i = run + 1;
	}
	return put(w, "\"", 1);
}

int rt_json_w_key(struct rt_json_w *w, const char *key)
{
	if (w->why)
		return -1;
	if (!in_obj(w))
		return wfail(w, EINVAL, "key outside an object");
	if (w->key)
		return wfail(w, EINVAL, "key without a value");
	if ((w->some & bit(w)) && put(w, ",", 1) < 0)
		return -1;
	w->some |= bit(w);
	if (quoted(w, key, strlen(key)) < 0 || put(w, ":", 1) < 0)
		return -1;
	w->key = true;
	return 0;
}

int rt_json_w_strn(struct rt_json_w *w, const char *s, size_t n)
{
	if (before(w) < 0 || quoted(w, s, n) < 0)
		return -1;
	return after(w);
}

int rt_json_w_str(struct rt_json_w *w, const char *s)
{
	return rt_json_w_strn(w, s, strlen(s));
}

static int digits(struct rt_json_w *w, bool neg, uint64_t v)
{
	char d[21];
	size_t i = sizeof d;

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		d[--i] = '-';
	if (before(w) < 0 || put(w, d + i, sizeof d - i) < 0)
		return -1;
	return after(w);
}

int rt_json_w_u64(struct rt_json_w *w, uint64_t v)
{
	return digits(w, false, v);
}

int rt_json_w_i64(struct rt_json_w *w, int64_t v)
{
	/* Negating in unsigned arithmetic keeps INT64_MIN defined. */
	return digits(w, v < 0, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
}

static int word(struct rt_json_w *w, const char *s)
{
	if (before(w) < 0 || put(w, s, strlen(s)) < 0)
		return -1;
	return after(w);
}

int rt_json_w_bool(struct rt_json_w *w, bool v)
{
	return word(w, v ? "true" : "false");
}

int rt_json_w_null(struct rt_json_w *w)
{
	return word(w, "null");
}

int rt_json_w_finish(const struct rt_json_w *w, struct rt_err *e)
{
	if (w->why)
		return rt_err_set(e, w->errnum, "json writer: %s", w->why);
	if (w->depth || w->key)
		return rt_err_set(e, EINVAL, "json writer: unclosed %s",
				  in_obj(w) ? "object" : "array");
	if (!w->done)
		return rt_err_set(e, EINVAL, "json writer: no value written");
	return 0;
}
