#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tar.h"

#define BS RT_TAR_BLOCK_SIZE

enum { S_HDR, S_META, S_DATA, S_PAD, S_ZERO2, S_TRAILER, S_ERR };

/* t->flags */
#define F_X 1u          /* a 'x' header waits for its entry */
#define F_L 2u          /* a GNU long name waits in t->path */
#define F_K 4u          /* a GNU long link waits in t->link */
#define F_INENT 8u      /* between ENTRY and the next header */
#define F_PENDING (F_X | F_L | F_K)

/* paxset.has */
#define P_PATH 1u
#define P_LINK 2u
#define P_SIZE 4u
#define P_UID 8u
#define P_GID 16u
#define P_MTIME 32u

/* ustar header layout */
#define H_NAME 0
#define H_MODE 100
#define H_UID 108
#define H_GID 116
#define H_SIZE 124
#define H_MTIME 136
#define H_SUM 148
#define H_TYPE 156
#define H_LINK 157
#define H_MAGIC 257
#define H_MAJOR 329
#define H_MINOR 337
#define H_PREFIX 345
#define H_STAR 508      /* star puts "tar\0" here and shortens the prefix */

/* Octal limits of the fields the writer fills. */
#define OCT7 07777777ull
#define OCT11 077777777777ull

/* A uid of 2^32-1 is (uid_t)-1, which chown() takes as "leave alone". */
#define ID_MAX 0xfffffffeu

static uint64_t pad_of(uint64_t n)
{
	return (BS - n % BS) % BS;
}

size_t rt_tar_pad(uint64_t size)
{
	return (size_t)pad_of(size);
}

/* Copy at most 60 bytes of an archive name into a message, replacing what
 * a terminal should not see. */
static void label(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n && s[i] && w + 4 < cap && i < 60; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[w++] = (c < 0x20 || c >= 0x7f || c == '\'') ? '?' : (char)c;
	}
	if (i < n && s[i] && w + 4 < cap) {
		memcpy(dst + w, "...", 3);
		w += 3;
	}
	dst[w] = '\0';
}

/* Record the first error; later ones are consequences. */
static void __attribute__((format(printf, 4, 5)))
fail(struct rt_tar *t, const char *name, size_t nlen, const char *fmt, ...)
{
	char what[200], lab[80];
	unsigned long long n = t->nent + ((t->flags & F_INENT) ? 0 : 1);
	va_list ap;

	if (t->state == S_ERR)
		return;
	va_start(ap, fmt);
	if (vsnprintf(what, sizeof what, fmt, ap) < 0)
		what[0] = '\0';
	va_end(ap);
	if (name) {
		label(lab, sizeof lab, name, nlen);
		rt_err_set(&t->err, 0, "tar: %s (entry %llu at offset %llu, '%s')",
			   what, n, (unsigned long long)t->hdr_off, lab);
	} else {
		rt_err_set(&t->err, 0, "tar: %s (entry %llu at offset %llu)",
			   what, n, (unsigned long long)t->hdr_off);
	}
	t->state = S_ERR;
}

#define RAWNAME(t) (const char *)(t)->blk + H_NAME, 100

void rt_tar_init(struct rt_tar *t, uint64_t max_size)
{
	memset(t, 0, offsetof(struct rt_tar, gx));
	t->state = S_HDR;
	t->max_size = (max_size == 0 || max_size > INT64_MAX) ? INT64_MAX : max_size;
	t->path[0] = t->link[0] = '\0';
}

int rt_tar_error(const struct rt_tar *t, struct rt_err *e)
{
	if (t->state != S_ERR)
		return 0;
	*e = t->err;
	return -1;
}

int rt_tar_path_clean(char *p, struct rt_err *e)
{
	size_t r = 0, w = 0, n = strnlen(p, RT_TAR_PATH_MAX);

	if (n >= RT_TAR_PATH_MAX)
		return rt_err_set(e, 0, "path too long");
	while (r < n) {
		size_t s, len;

		while (r < n && p[r] == '/')
			r++;
		s = r;
		while (r < n && p[r] != '/')
			r++;
		len = r - s;
		if (len == 0 || (len == 1 && p[s] == '.'))
			continue;
		if (len == 2 && p[s] == '.' && p[s + 1] == '.')
			return rt_err_set(e, 0, "path contains '..'");
		if (w > 0)
			p[w++] = '/';
		memmove(p + w, p + s, len);
		w += len;
	}
	p[w] = '\0';
	return (int)w;
}

static int all_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

enum { NUM_OK, NUM_SYNTAX, NUM_RANGE };

/* A numeric header field: octal digits with leading and trailing spaces or
 * NULs (empty means 0), or GNU base-256 (high bit set, two's complement). */
static int num(const uint8_t *f, size_t n, int neg_ok, int64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		uint8_t inv = (f[0] & 0x40) ? 0xff : 0;

		for (i = 0; i < n; i++) {
			uint8_t c = f[i] ^ inv;

			if (i == 0)
				c &= 0x7f;
			if (v > (UINT64_MAX >> 8))
				return NUM_RANGE;
			v = (v << 8) | c;
		}
		if (v > INT64_MAX)
			return NUM_RANGE;
		if (inv) {
			if (!neg_ok)
				return NUM_RANGE;
			*out = -(int64_t)v - 1;
		} else {
			*out = (int64_t)v;
		}
		return NUM_OK;
	}
	while (i < n && (f[i] == ' ' || f[i] == '\0'))
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return NUM_RANGE;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return NUM_SYNTAX;
	if (v > INT64_MAX)
		return NUM_RANGE;
	*out = (int64_t)v;
	return NUM_OK;
}

static int field(struct rt_tar *t, size_t off, size_t n, int neg_ok,
		 const char *what, int64_t *out)
{
	int r = num(t->blk + off, n, neg_ok, out);

	if (r == NUM_SYNTAX)
		fail(t, RAWNAME(t), "non-octal digit in %s field", what);
	else if (r == NUM_RANGE)
		fail(t, RAWNAME(t), "%s field out of range", what);
	return r == NUM_OK ? 0 : -1;
}

static int checksum_ok(const uint8_t *b)
{
	uint32_t u = 0;
	int32_t s = 0;
	int64_t want;
	size_t i;

	/* Old tars summed signed chars; accept either. */
	for (i = 0; i < BS; i++) {
		uint8_t c = (i >= H_SUM && i < H_SUM + 8) ? ' ' : b[i];

		u += c;
		s += (int8_t)c;
	}
	if ((b[H_SUM] & 0x80) || num(b + H_SUM, 8, 0, &want) != NUM_OK)
		return 0;
	return want == (int64_t)u || want == (int64_t)s;
}

/* Decimal PAX value: digits only, at most max. */
static int dec(const uint8_t *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (x > (max - (uint64_t)(v[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* PAX mtime: [-]digits[.digits]; the fraction is dropped. */
static int pax_time(const uint8_t *v, size_t n, int64_t *out)
{
	size_t i = 0, d;
	uint64_t x;
	int neg = 0;

	if (n > 0 && v[0] == '-') {
		neg = 1;
		i = 1;
	}
	for (d = i; d < n && v[d] != '.'; d++)
		;
	if (dec(v + i, d - i, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &x) < 0)
		return -1;
	if (d < n) {
		size_t f;

		if (d + 1 == n)
			return -1;
		for (f = d + 1; f < n; f++)
			if (v[f] < '0' || v[f] > '9')
				return -1;
	}
	if (!neg)
		*out = (int64_t)x;
	else if (x > INT64_MAX)
		*out = INT64_MIN;
	else
		*out = -(int64_t)x;
	return 0;
}

/* An empty value unsets the keyword: for an entry's 'x' that means "not
 * the global value either, use the header's". */
static void unset(struct rt_tar_paxset *ps, unsigned bit)
{
	ps->has &= ~bit;
	ps->clr |= bit;
}

static int pax_str(struct rt_tar *t, const char *key, const uint8_t *v,
		   size_t n, unsigned bit, struct rt_tar_paxset *ps)
{
	if (n == 0) {
		unset(ps, bit);
		return 0;
	}
	if (memchr(v, '\0', n)) {
		fail(t, NULL, 0, "NUL inside PAX %s", key);
		return -1;
	}
	if (n >= RT_TAR_PATH_MAX) {
		fail(t, NULL, 0, "PAX %s too long", key);
		return -1;
	}
	if (bit == P_PATH) {
		ps->path = (const char *)v;
		ps->pathlen = n;
	} else {
		ps->link = (const char *)v;
		ps->linklen = n;
	}
	ps->has |= bit;
	return 0;
}

static int pax_xattr(struct rt_tar *t, const char *name, const uint8_t *v,
		     size_t n, struct rt_tar_xattr *xa, size_t *nxa)
{
	size_t i, nl = strlen(name);

	if (nl == 0 || nl > RT_TAR_XATTR_NAME_MAX) {
		fail(t, NULL, 0, "bad PAX xattr name");
		return -1;
	}
	for (i = 0; i < *nxa; i++)
		if (strcmp(xa[i].name, name) == 0)
			break;
	if (i == *nxa) {
		if (*nxa == RT_TAR_XATTR_MAX) {
			fail(t, NULL, 0, "more than %d xattrs", RT_TAR_XATTR_MAX);
			return -1;
		}
		(*nxa)++;
	}
	xa[i].name = name;
	xa[i].value = v;
	xa[i].len = n;
	return 0;
}

static int pax_apply(struct rt_tar *t, const char *key, const uint8_t *v,
		     size_t n, struct rt_tar_paxset *ps,
		     struct rt_tar_xattr *xa, size_t *nxa)
{
	uint64_t u;
	int64_t s;

	if (strcmp(key, "path") == 0)
		return pax_str(t, key, v, n, P_PATH, ps);
	if (strcmp(key, "linkpath") == 0)
		return pax_str(t, key, v, n, P_LINK, ps);
	if (strncmp(key, "SCHILY.xattr.", 13) == 0)
		return pax_xattr(t, key + 13, v, n, xa, nxa);
	if (strncmp(key, "GNU.sparse.", 11) == 0) {
		fail(t, NULL, 0, "sparse entries are not supported");
		return -1;
	}
	if (strncmp(key, "GNU.volume.", 11) == 0) {
		fail(t, NULL, 0, "multi-volume archives are not supported");
		return -1;
	}
	if (strcmp(key, "size") == 0) {
		if (n == 0) {
			unset(ps, P_SIZE);
		} else if (dec(v, n, INT64_MAX, &u) < 0) {
			fail(t, NULL, 0, "bad PAX size");
			return -1;
		} else {
			ps->size = u;
			ps->has |= P_SIZE;
		}
	} else if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
		unsigned bit = key[0] == 'u' ? P_UID : P_GID;

		if (n == 0) {
			unset(ps, bit);
			return 0;
		}
		if (dec(v, n, ID_MAX, &u) < 0) {
			fail(t, NULL, 0, "bad PAX %s", key);
			return -1;
		}
		if (bit == P_UID)
			ps->uid = (uint32_t)u;
		else
			ps->gid = (uint32_t)u;
		ps->has |= bit;
	} else if (strcmp(key, "mtime") == 0) {
		if (n == 0) {
			unset(ps, P_MTIME);
		} else if (pax_time(v, n, &s) < 0) {
			fail(t, NULL, 0, "bad PAX mtime");
			return -1;
		} else {
			ps->mtime = s;
			ps->has |= P_MTIME;
		}
	}
	/* Everything else (atime, uname, comment, charset, vendor keys) has no
	 * bearing on what gets unpacked. */
	return 0;
}

/* Parse "LEN KEY=VALUE\n" records in place: '=' and '\n' become NULs, so
 * keys and values are C strings pointing into buf. Each buffer is decoded
 * once. */
static int pax_decode(struct rt_tar *t, uint8_t *buf, size_t n,
		      struct rt_tar_paxset *ps, struct rt_tar_xattr *xa,
		      size_t *nxa)
{
	size_t p = 0;

	while (p < n) {
		size_t q = p, rl = 0, end, klen;
		uint8_t *key, *eq;

		for (; q < n && buf[q] >= '0' && buf[q] <= '9'; q++) {
			rl = rl * 10 + (size_t)(buf[q] - '0');
			if (rl > n - p) {
				fail(t, NULL, 0, "PAX record length exceeds header");
				return -1;
			}
		}
		if (q == p || q >= n || buf[q] != ' ') {
			fail(t, NULL, 0, "malformed PAX record length");
			return -1;
		}
		if (rl > n - p) {
			fail(t, NULL, 0, "PAX record length exceeds header");
			return -1;
		}
		end = p + rl;
		q++;
		if (q + 2 > end) {
			fail(t, NULL, 0, "PAX record too short");
			return -1;
		}
		if (buf[end - 1] != '\n') {
			fail(t, NULL, 0, "PAX record not ended by newline");
			return -1;
		}
		key = buf + q;
		eq = memchr(key, '=', end - 1 - q);
		if (!eq) {
			fail(t, NULL, 0, "PAX record without '='");
			return -1;
		}
		klen = (size_t)(eq - key);
		if (klen == 0 || memchr(key, '\0', klen)) {
			fail(t, NULL, 0, "bad PAX keyword");
			return -1;
		}
		*eq = '\0';
		buf[end - 1] = '\0';
		if (pax_apply(t, (const char *)key, eq + 1,
			      (size_t)(buf + end - 1 - (eq + 1)), ps, xa, nxa) < 0)
			return -1;
		p = end;
	}
	return 0;
}

static void meta_begin(struct rt_tar *t, uint8_t type)
{
	unsigned bit = 0;
	uint64_t max = RT_TAR_PATH_MAX;
	int64_t size;

	switch (type) {
	case 'x':
		bit = F_X;
		max = RT_TAR_PAX_MAX;
		t->meta = t->pax;
		break;
	case 'g':
		max = RT_TAR_GLOBAL_MAX;
		t->meta = t->gpax;
		memset(&t->gset, 0, sizeof t->gset);
		t->ngx = 0;
		break;
	case 'L':
		bit = F_L;
		t->meta = (uint8_t *)t->path;
		break;
	default:
		bit = F_K;
		t->meta = (uint8_t *)t->link;
		break;
	}
	if (t->flags & bit) {
		fail(t, RAWNAME(t), "two '%c' headers for one entry", type);
		return;
	}
	if (field(t, H_SIZE, 12, 0, "size", &size) < 0)
		return;
	if ((uint64_t)size > max) {
		fail(t, RAWNAME(t), "'%c' header of %" PRId64 " bytes exceeds %" PRIu64,
		     type, size, max);
		return;
	}
	t->metatype = type;
	t->metalen = (size_t)size;
	t->remain = (uint64_t)size;
	t->state = S_META;
}

static void meta_end(struct rt_tar *t)
{
	size_t n = t->metalen;

	switch (t->metatype) {
	case 'x':
		t->paxlen = n;
		t->flags |= F_X;
		break;
	case 'g':
		if (pax_decode(t, t->gpax, n, &t->gset, t->gx, &t->ngx) < 0)
			return;
		break;
	default: {
		char *s = (char *)t->meta;

		while (n > 0 && s[n - 1] == '\0')
			n--;
		if (memchr(s, '\0', n)) {
			fail(t, NULL, 0, "NUL inside GNU long %s",
			     t->metatype == 'L' ? "name" : "link");
			return;
		}
		if (n >= RT_TAR_PATH_MAX) {
			fail(t, NULL, 0, "GNU long %s too long",
			     t->metatype == 'L' ? "name" : "link");
			return;
		}
		s[n] = '\0';
		t->flags |= t->metatype == 'L' ? F_L : F_K;
	}
	}
	t->skip = pad_of(t->metalen);
	t->state = S_PAD;
}

static int map_type(struct rt_tar *t, uint8_t c, enum rt_tar_type *out)
{
	switch (c) {
	case '0': case '\0': case '7': *out = RT_TAR_FILE; return 0;
	case '1': *out = RT_TAR_HARDLINK; return 0;
	case '2': *out = RT_TAR_SYMLINK; return 0;
	case '3': *out = RT_TAR_CHAR; return 0;
	case '4': *out = RT_TAR_BLOCK; return 0;
	case '5': *out = RT_TAR_DIR; return 0;
	case '6': *out = RT_TAR_FIFO; return 0;
	case 'S': fail(t, RAWNAME(t), "sparse entries are not supported"); break;
	case 'M': fail(t, RAWNAME(t), "multi-volume archives are not supported"); break;
	case 'V': fail(t, RAWNAME(t), "volume labels are not supported"); break;
	case 'D': fail(t, RAWNAME(t), "GNU dump directories are not supported"); break;
	default:
		if (c > 0x20 && c < 0x7f)
			fail(t, RAWNAME(t), "unsupported entry type '%c'", c);
		else
			fail(t, RAWNAME(t), "unsupported entry type 0x%02x", c);
	}
	return -1;
}

/* Assemble path or link from, in order of precedence: the entry's 'x'
 * value, a GNU 'L'/'K' already in dst, the global value, the header. */
static void pick_str(char *dst, int have_gnu, const char *x, size_t xl,
		     const char *g, size_t gl, const uint8_t *h1, size_t h1n,
		     const uint8_t *h2, size_t h2n)
{
	size_t a, b;

	if (x) {
		memcpy(dst, x, xl);
		dst[xl] = '\0';
	} else if (have_gnu) {
		return;
	} else if (g) {
		memcpy(dst, g, gl);
		dst[gl] = '\0';
	} else {
		/* ustar: prefix "/" name, when a prefix is present */
		a = h1 ? strnlen((const char *)h1, h1n) : 0;
		b = strnlen((const char *)h2, h2n);
		if (a) {
			memcpy(dst, h1, a);
			dst[a++] = '/';
		}
		memcpy(dst + a, h2, b);
		dst[a + b] = '\0';
	}
}

static void entry(struct rt_tar *t, struct rt_tar_ev *ev)
{
	const uint8_t *b = t->blk;
	struct rt_tar_paxset ls;
	struct rt_tar_entry *en = &t->ent;
	struct rt_err perr;
	enum rt_tar_type type;
	int64_t mode, uid, gid, size, mtime, major = 0, minor = 0;
	uint64_t dsize;
	int ustar = memcmp(b + H_MAGIC, "ustar\0", 6) == 0;
	int gnu = memcmp(b + H_MAGIC, "ustar  \0", 8) == 0;
	size_t plen;
	unsigned g;
	int n;

	if (map_type(t, b[H_TYPE], &type) < 0)
		return;
	if (field(t, H_MODE, 8, 0, "mode", &mode) < 0 ||
	    field(t, H_UID, 8, 0, "uid", &uid) < 0 ||
	    field(t, H_GID, 8, 0, "gid", &gid) < 0 ||
	    field(t, H_SIZE, 12, 0, "size", &size) < 0 ||
	    field(t, H_MTIME, 12, 1, "mtime", &mtime) < 0)
		return;
	if ((type == RT_TAR_CHAR || type == RT_TAR_BLOCK) && (ustar || gnu)) {
		if (field(t, H_MAJOR, 8, 0, "devmajor", &major) < 0 ||
		    field(t, H_MINOR, 8, 0, "devminor", &minor) < 0)
			return;
		if (major > UINT32_MAX || minor > UINT32_MAX) {
			fail(t, RAWNAME(t), "device number out of range");
			return;
		}
	}

	memset(&ls, 0, sizeof ls);
	memcpy(t->x, t->gx, t->ngx * sizeof t->x[0]);
	t->nx = t->ngx;
	if ((t->flags & F_X) &&
	    pax_decode(t, t->pax, t->paxlen, &ls, t->x, &t->nx) < 0)
		return;

	g = t->gset.has & ~ls.clr;
	/* star's variant of ustar keeps times at the end of the prefix field */
	plen = memcmp(b + H_STAR, "tar\0", 4) == 0 ? 131 : 155;
	pick_str(t->path, (t->flags & F_L) != 0,
		 (ls.has & P_PATH) ? ls.path : NULL, ls.pathlen,
		 (g & P_PATH) ? t->gset.path : NULL, t->gset.pathlen,
		 ustar ? b + H_PREFIX : NULL, plen, b + H_NAME, 100);
	pick_str(t->link, (t->flags & F_K) != 0,
		 (ls.has & P_LINK) ? ls.link : NULL, ls.linklen,
		 (g & P_LINK) ? t->gset.link : NULL, t->gset.linklen,
		 NULL, 0, b + H_LINK, 100);

	if (ls.has & P_UID)
		uid = ls.uid;
	else if (g & P_UID)
		uid = t->gset.uid;
	if (ls.has & P_GID)
		gid = ls.gid;
	else if (g & P_GID)
		gid = t->gset.gid;
	if (ls.has & P_MTIME)
		mtime = ls.mtime;
	else if (g & P_MTIME)
		mtime = t->gset.mtime;
	if (uid > ID_MAX || gid > ID_MAX) {
		fail(t, t->path, RT_TAR_PATH_MAX, "uid or gid out of range");
		return;
	}
	dsize = (uint64_t)size;
	if ((ls.has | g) & P_SIZE) {
		uint64_t ps = (ls.has & P_SIZE) ? ls.size : t->gset.size;

		/* Writers put 0 in the header when the size needs PAX; any
		 * other value that differs means two readers would disagree
		 * on where the next header is. */
		if (dsize != 0 && dsize != ps) {
			fail(t, t->path, RT_TAR_PATH_MAX,
			     "PAX size %" PRIu64 " disagrees with header size %" PRIu64,
			     ps, dsize);
			return;
		}
		dsize = ps;
	}

	/* Pre-POSIX tars marked directories by a trailing slash only. */
	if (b[H_TYPE] == '\0' && t->path[0] &&
	    t->path[strlen(t->path) - 1] == '/')
		type = RT_TAR_DIR;

	n = rt_tar_path_clean(t->path, &perr);
	if (n < 0) {
		fail(t, t->path, RT_TAR_PATH_MAX, "%s", perr.msg);
		return;
	}
	if (n == 0 && type != RT_TAR_DIR) {
		fail(t, NULL, 0, "empty path");
		return;
	}
	if (type == RT_TAR_HARDLINK) {
		n = rt_tar_path_clean(t->link, &perr);
		if (n < 0) {
			fail(t, t->path, RT_TAR_PATH_MAX, "hardlink target: %s",
			     perr.msg);
			return;
		}
		if (n == 0) {
			fail(t, t->path, RT_TAR_PATH_MAX, "empty hardlink target");
			return;
		}
	} else if (type == RT_TAR_SYMLINK) {
		if (t->link[0] == '\0') {
			fail(t, t->path, RT_TAR_PATH_MAX, "empty symlink target");
			return;
		}
	} else {
		t->link[0] = '\0';
	}

	/* Only regular files have data; Go's reader (Docker's) ignores the
	 * size of every other type, and so do we. */
	if (type != RT_TAR_FILE)
		dsize = 0;
	else if (dsize > t->max_size) {
		fail(t, t->path, RT_TAR_PATH_MAX,
		     "file size %" PRIu64 " exceeds limit %" PRIu64,
		     dsize, t->max_size);
		return;
	}

	en->type = type;
	en->path = t->path;
	en->linkpath = t->link;
	en->mode = (uint32_t)(mode & 07777);
	en->uid = (uint32_t)uid;
	en->gid = (uint32_t)gid;
	en->mtime = mtime;
	en->size = dsize;
	en->devmajor = (uint32_t)major;
	en->devminor = (uint32_t)minor;
	en->nxattr = t->nx;
	en->xattr = t->x;

	t->flags = (t->flags & ~F_PENDING) | F_INENT;
	t->nent++;
	t->remain = dsize;
	t->state = S_DATA;
	ev->kind = RT_TAR_EV_ENTRY;
	ev->entry = en;
}

static void header(struct rt_tar *t, struct rt_tar_ev *ev)
{
	const uint8_t *b = t->blk;

	t->flags &= ~F_INENT;
	if (all_zero(b, BS)) {
		if (t->flags & F_PENDING)
			fail(t, NULL, 0, "metadata header with no entry after it");
		else
			t->state = S_ZERO2;
		return;
	}
	if (!checksum_ok(b)) {
		fail(t, RAWNAME(t), "bad header checksum");
		return;
	}
	switch (b[H_TYPE]) {
	case 'x': case 'g': case 'L': case 'K':
		meta_begin(t, b[H_TYPE]);
		return;
	}
	entry(t, ev);
}

size_t rt_tar_push(struct rt_tar *t, const uint8_t *buf, size_t len,
		   struct rt_tar_ev *ev)
{
	size_t i = 0, n;

	ev->kind = RT_TAR_EV_NONE;
	ev->entry = NULL;
	ev->data = NULL;
	ev->len = 0;
	for (;;) {
		switch (t->state) {
		case S_ERR:
			ev->kind = RT_TAR_EV_ERROR;
			return i;
		case S_DATA:
			if (t->remain == 0) {
				t->skip = pad_of(t->ent.size);
				t->state = S_PAD;
				ev->kind = RT_TAR_EV_ENTRY_END;
				ev->entry = &t->ent;
				return i;
			}
			if (i == len)
				return i;
			n = len - i;
			if ((uint64_t)n > t->remain)
				n = (size_t)t->remain;
			t->remain -= n;
			t->off += n;
			ev->kind = RT_TAR_EV_DATA;
			ev->entry = &t->ent;
			ev->data = buf + i;
			ev->len = n;
			return i + n;
		case S_PAD:
			if (t->skip == 0) {
				t->state = S_HDR;
				t->have = 0;
				break;
			}
			if (i == len)
				return i;
			n = len - i;
			if ((uint64_t)n > t->skip)
				n = (size_t)t->skip;
			t->skip -= n;
			t->off += n;
			i += n;
			break;
		case S_META:
			if (t->remain == 0) {
				meta_end(t);
				break;
			}
			if (i == len)
				return i;
			n = len - i;
			if ((uint64_t)n > t->remain)
				n = (size_t)t->remain;
			memcpy(t->meta + (t->metalen - (size_t)t->remain), buf + i, n);
			t->remain -= n;
			t->off += n;
			i += n;
			break;
		case S_HDR:
		case S_ZERO2:
			if (i == len)
				return i;
			if (t->have == 0 && t->state == S_HDR)
				t->hdr_off = t->off;
			n = BS - t->have;
			if (n > len - i)
				n = len - i;
			memcpy(t->blk + t->have, buf + i, n);
			t->have += n;
			t->off += n;
			i += n;
			if (t->have < BS)
				break;
			t->have = 0;
			if (t->state == S_ZERO2) {
				if (!all_zero(t->blk, BS)) {
					fail(t, NULL, 0, "lone zero block before a header");
					break;
				}
				t->state = S_TRAILER;
				t->remain = 0;
				ev->kind = RT_TAR_EV_END;
				return i;
			}
			header(t, ev);
			if (ev->kind != RT_TAR_EV_NONE)
				return i;
			break;
		case S_TRAILER:
			n = len - i;
			if ((uint64_t)n > RT_TAR_TRAILER_MAX - t->remain) {
				fail(t, NULL, 0, "more than %d bytes after the end of the archive",
				     RT_TAR_TRAILER_MAX);
				break;
			}
			t->remain += n;
			t->off += n;
			return len;
		}
	}
}

int rt_tar_finish(struct rt_tar *t, struct rt_err *e)
{
	switch (t->state) {
	case S_TRAILER:
		return 0;
	case S_ZERO2:
		fail(t, NULL, 0, "truncated archive: second end-of-archive block missing");
		break;
	case S_HDR:
		if (t->have == 0 && !(t->flags & F_PENDING))
			fail(t, NULL, 0, "truncated archive: no end-of-archive marker");
		else
			fail(t, NULL, 0, "truncated archive inside a header");
		break;
	case S_META:
		fail(t, NULL, 0, "truncated archive inside a '%c' header", t->metatype);
		break;
	case S_DATA:
		fail(t, t->path, RT_TAR_PATH_MAX,
		     "truncated archive: %" PRIu64 " bytes of data missing", t->remain);
		break;
	case S_PAD:
		fail(t, NULL, 0, "truncated archive inside padding");
		break;
	}
	return rt_tar_error(t, e);
}

/* ---- writer ---- */

static void put_oct(uint8_t *f, size_t n, uint64_t v)
{
	size_t i = n - 1;

	f[i] = '\0';
	while (i-- > 0) {
		f[i] = (uint8_t)('0' + (v & 7));
		v >>= 3;
	}
}

static void put_sum(uint8_t *b)
{
	uint32_t sum = 0;
	size_t i;

	memset(b + H_SUM, ' ', 8);
	for (i = 0; i < BS; i++)
		sum += b[i];
	put_oct(b + H_SUM, 7, sum);     /* six digits, NUL, then the space */
}

static void put_str(uint8_t *f, size_t n, const char *s, size_t len)
{
	memcpy(f, s, len < n ? len : n);
}

static size_t ndigits(size_t v)
{
	size_t d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* Append "LEN k1k2=VALUE\n" at out[*pos]; the length counts its own digits. */
static int put_rec(uint8_t *out, size_t cap, size_t *pos, const char *k1,
		   const char *k2, const void *val, size_t vlen)
{
	size_t kl1 = strlen(k1), kl2 = strlen(k2), base, total, d, v;
	uint8_t *p;

	if (vlen > RT_TAR_PAX_MAX || kl2 > RT_TAR_PAX_MAX)
		return -1;
	base = kl1 + kl2 + vlen + 3;
	d = ndigits(base);
	while (ndigits(base + d) != d)
		d++;
	total = base + d;
	if (total > cap - *pos)
		return -1;
	p = out + *pos;
	for (v = total, d = ndigits(total); d > 0; d--) {
		p[d - 1] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
	p += ndigits(total);
	*p++ = ' ';
	memcpy(p, k1, kl1);
	p += kl1;
	memcpy(p, k2, kl2);
	p += kl2;
	*p++ = '=';
	memcpy(p, val, vlen);
	p += vlen;
	*p = '\n';
	*pos += total;
	return 0;
}

static void put_magic(uint8_t *b)
{
	memcpy(b + H_MAGIC, "ustar\0" "00", 8);
}

static int clean_copy(const char *s, char *tmp, struct rt_err *e)
{
	size_t n = strnlen(s, RT_TAR_PATH_MAX);

	if (n >= RT_TAR_PATH_MAX)
		return rt_err_set(e, 0, "path too long");
	memcpy(tmp, s, n + 1);
	if (rt_tar_path_clean(tmp, e) < 0)
		return -1;
	if (strcmp(tmp, s) != 0)
		return rt_err_set(e, 0, "path not clean");
	return (int)n;
}

ssize_t rt_tar_write_header(uint8_t *buf, size_t cap,
			    const struct rt_tar_entry *ent, struct rt_err *e)
{
	static const char types[] = { 0, '0', '5', '2', '1', '3', '4', '6' };
	char full[RT_TAR_PATH_MAX + 2], tmp[RT_TAR_PATH_MAX];
	char num[24];
	const char *link = "";
	size_t flen, llen = 0, rl = 0, rcap, i, split = 0, total, x;
	uint64_t uid_f = ent->uid, gid_f = ent->gid, size_f = ent->size, mtime_f;
	uint8_t *h;
	int n;

	if (ent->type < RT_TAR_FILE || ent->type > RT_TAR_FIFO)
		return rt_err_set(e, 0, "tar writer: bad entry type");
	n = clean_copy(ent->path ? ent->path : "", tmp, e);
	if (n < 0)
		return rt_err_wrap(e, "tar writer: '%s'", ent->path);
	flen = (size_t)n;
	if (flen == 0 && ent->type != RT_TAR_DIR)
		return rt_err_set(e, 0, "tar writer: empty path");
	memcpy(full, tmp, flen);
	if (ent->type == RT_TAR_DIR) {
		if (flen == 0)
			full[flen++] = '.';
		full[flen++] = '/';
	}
	full[flen] = '\0';

	if (ent->type == RT_TAR_SYMLINK || ent->type == RT_TAR_HARDLINK) {
		link = ent->linkpath ? ent->linkpath : "";
		llen = strnlen(link, RT_TAR_PATH_MAX);
		if (llen == 0 || llen >= RT_TAR_PATH_MAX)
			return rt_err_set(e, 0, "tar writer: '%s': bad link target",
					  ent->path);
		if (ent->type == RT_TAR_HARDLINK && clean_copy(link, tmp, e) < 0)
			return rt_err_wrap(e, "tar writer: '%s': hardlink target",
					   ent->path);
	}
	if (ent->type != RT_TAR_FILE && ent->size != 0)
		return rt_err_set(e, 0, "tar writer: '%s': size on a non-file",
				  ent->path);
	if (ent->size > INT64_MAX)
		return rt_err_set(e, 0, "tar writer: '%s': size too large", ent->path);
	if (ent->mode & ~07777u)
		return rt_err_set(e, 0, "tar writer: '%s': bad mode", ent->path);
	if ((ent->type == RT_TAR_CHAR || ent->type == RT_TAR_BLOCK) &&
	    (ent->devmajor > OCT7 || ent->devminor > OCT7))
		return rt_err_set(e, 0, "tar writer: '%s': device number too large",
				  ent->path);
	if (ent->uid > ID_MAX || ent->gid > ID_MAX)
		return rt_err_set(e, 0, "tar writer: '%s': bad uid/gid", ent->path);
	if (ent->nxattr > RT_TAR_XATTR_MAX || (ent->nxattr && !ent->xattr))
		return rt_err_set(e, 0, "tar writer: '%s': too many xattrs",
				  ent->path);
	if (cap < BS)
		return rt_err_set(e, 0, "tar writer: buffer too small");

	/* PAX records go after the space for the 'x' header block. */
	rcap = cap >= 2 * BS ? cap - 2 * BS : 0;
	if (rcap > RT_TAR_PAX_MAX)
		rcap = RT_TAR_PAX_MAX;
#define REC(k1, k2, v, vl) do { \
	if (put_rec(buf + BS, rcap, &rl, k1, k2, v, vl) < 0) \
		return rt_err_set(e, 0, "tar writer: '%s': PAX header too large", \
				  ent->path); \
} while (0)

	if (flen > 100) {
		/* ustar split: prefix <= 155 bytes, '/', name <= 100 bytes */
		for (i = flen - 101; i <= 155 && i + 1 < flen; i++)
			if (full[i] == '/' && i > 0) {
				split = i;
				break;
			}
		if (!split)
			REC("path", "", full, flen);
	}
	if (llen > 100)
		REC("linkpath", "", link, llen);
	if (uid_f > OCT7) {
		snprintf(num, sizeof num, "%" PRIu32, ent->uid);
		REC("uid", "", num, strlen(num));
		uid_f = 0;
	}
	if (gid_f > OCT7) {
		snprintf(num, sizeof num, "%" PRIu32, ent->gid);
		REC("gid", "", num, strlen(num));
		gid_f = 0;
	}
	if (size_f > OCT11) {
		snprintf(num, sizeof num, "%" PRIu64, ent->size);
		REC("size", "", num, strlen(num));
		size_f = 0;
	}
	if (ent->mtime < 0 || (uint64_t)ent->mtime > OCT11) {
		snprintf(num, sizeof num, "%" PRId64, ent->mtime);
		REC("mtime", "", num, strlen(num));
		mtime_f = 0;
	} else {
		mtime_f = (uint64_t)ent->mtime;
	}
	for (x = 0; x < ent->nxattr; x++) {
		const struct rt_tar_xattr *xa = &ent->xattr[x];
		size_t nl = xa->name ? strnlen(xa->name, RT_TAR_XATTR_NAME_MAX + 1) : 0;

		if (nl == 0 || nl > RT_TAR_XATTR_NAME_MAX || (xa->len && !xa->value))
			return rt_err_set(e, 0, "tar writer: '%s': bad xattr", ent->path);
		REC("SCHILY.xattr.", xa->name, xa->value ? (const void *)xa->value : "",
		    xa->len);
	}
#undef REC

	total = rl ? BS + rl + pad_of(rl) + BS : BS;
	if (total > cap)
		return rt_err_set(e, 0, "tar writer: buffer too small");
	h = buf;
	if (rl) {
		memset(buf, 0, BS);
		put_str(buf + H_NAME, 100, "././@PaxHeader", 14);
		put_oct(buf + H_MODE, 8, 0644);
		put_oct(buf + H_UID, 8, 0);
		put_oct(buf + H_GID, 8, 0);
		put_oct(buf + H_SIZE, 12, rl);
		put_oct(buf + H_MTIME, 12, 0);
		buf[H_TYPE] = 'x';
		put_magic(buf);
		put_oct(buf + H_MAJOR, 8, 0);
		put_oct(buf + H_MINOR, 8, 0);
		put_sum(buf);
		memset(buf + BS + rl, 0, (size_t)pad_of(rl));
		h = buf + BS + rl + pad_of(rl);
	}
	memset(h, 0, BS);
	if (split) {
		put_str(h + H_PREFIX, 155, full, split);
		put_str(h + H_NAME, 100, full + split + 1, flen - split - 1);
	} else {
		put_str(h + H_NAME, 100, full, flen);   /* cut; PAX has it all */
	}
	put_oct(h + H_MODE, 8, ent->mode);
	put_oct(h + H_UID, 8, uid_f);
	put_oct(h + H_GID, 8, gid_f);
	put_oct(h + H_SIZE, 12, size_f);
	put_oct(h + H_MTIME, 12, mtime_f);
	h[H_TYPE] = (uint8_t)types[ent->type];
	put_str(h + H_LINK, 100, link, llen);
	put_magic(h);
	if (ent->type == RT_TAR_CHAR || ent->type == RT_TAR_BLOCK) {
		put_oct(h + H_MAJOR, 8, ent->devmajor);
		put_oct(h + H_MINOR, 8, ent->devminor);
	} else {
		put_oct(h + H_MAJOR, 8, 0);
		put_oct(h + H_MINOR, 8, 0);
	}
	put_sum(h);
	return (ssize_t)total;
}

ssize_t rt_tar_write_end(uint8_t *buf, size_t cap, struct rt_err *e)
{
	if (cap < 2 * BS)
		return rt_err_set(e, 0, "tar writer: buffer too small");
	memset(buf, 0, 2 * BS);
	return 2 * BS;
}
