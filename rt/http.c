#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "kconfig.h"
#if IS_ENABLED(CONFIG_TLS)
#include "tls.h"
#endif

/* ---- response parser ---- */

enum {
	S_STATUS, S_HEADER, S_BODY_LEN, S_BODY_CLOSE,
	S_CHUNK_SIZE, S_CHUNK_EXT, S_CHUNK_DATA, S_CHUNK_END, S_TRAILER,
	S_DONE,
};

void rt_http_parser_init(struct rt_http_parser *p, char *buf, size_t cap, bool head_req)
{
	memset(p, 0, sizeof *p);
	p->buf = buf;
	p->cap = cap > 65535 ? 65535 : cap;
	p->head_req = head_req;
	p->state = S_STATUS;
}

static size_t fail(struct rt_http_parser *p, enum rt_http_ev *ev, const char *why)
{
	if (!p->why)
		p->why = why;
	*ev = RT_HTTP_EV_ERROR;
	return 0;
}

static bool is_tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Comma-separated token list contains tok (case-insensitive). */
static bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);

	while (*list) {
		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		if (!strncasecmp(list, tok, n) &&
		    (list[n] == 0 || list[n] == ',' || list[n] == ' ' || list[n] == '\t'))
			return true;
		while (*list && *list != ',')
			list++;
	}
	return false;
}

static const char *status_line(struct rt_http_parser *p, const char *s, size_t n)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
		return "malformed status line";
	if (s[9] < '1' || s[9] > '9' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9' || (n > 12 && s[12] != ' '))
		return "malformed status code";
	p->minor = s[7] - '0';
	p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return NULL;
}

/* The header line buf[mark..used) becomes "name\0value\0" in place. */
static const char *header_line(struct rt_http_parser *p)
{
	char *l = p->buf + p->mark, *v, *end = p->buf + p->used;
	size_t nlen, vlen, i;

	if (p->nhdr >= RT_HTTP_MAX_HEADERS)
		return "too many headers";
	if (l[0] == ' ' || l[0] == '\t')
		return "obsolete header line folding";
	for (nlen = 0; l + nlen < end && l[nlen] != ':'; nlen++)
		if (!is_tchar((uint8_t)l[nlen]))
			return "bad character in header name";
	if (nlen == 0 || l + nlen == end)
		return "malformed header line";
	v = l + nlen + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(end - v);
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (p->used + 1 > p->cap)
		return "response head too large";
	for (i = 0; i < nlen; i++)
		if (l[i] >= 'A' && l[i] <= 'Z')
			l[i] = (char)(l[i] - 'A' + 'a');
	l[nlen] = 0;
	memmove(l + nlen + 1, v, vlen);
	l[nlen + 1 + vlen] = 0;
	p->hoff[p->nhdr++] = (uint16_t)p->mark;
	p->used = p->mark + nlen + 1 + vlen + 1;
	v = l + nlen + 1;

	if (!strcmp(l, "content-length")) {
		uint64_t n = 0;

		if (vlen == 0)
			return "empty Content-Length";
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return "malformed Content-Length";
			if (n > (UINT64_MAX / 2 - 9) / 10)
				return "Content-Length too large";
			n = n * 10 + (uint64_t)(v[i] - '0');
		}
		if (p->has_length && p->length != n)
			return "conflicting Content-Length headers";
		p->has_length = true;
		p->length = n;
	} else if (!strcmp(l, "transfer-encoding")) {
		if (p->te || strcasecmp(v, "chunked") != 0)
			return "unsupported Transfer-Encoding";
		p->te = 1;
	} else if (!strcmp(l, "connection")) {
		if (has_token(v, "close"))
			p->conn_close = 1;
		if (has_token(v, "keep-alive"))
			p->conn_keep = 1;
	}
	return NULL;
}

/* The blank line after the headers: how is the body delimited? */
static const char *end_of_head(struct rt_http_parser *p)
{
	if (p->te && p->has_length)
		return "both Content-Length and Transfer-Encoding";
	p->chunked = p->te;
	p->keep_alive = p->minor >= 1 ? !p->conn_close : (p->conn_keep && !p->conn_close);
	if (p->head_req || p->status == 204 || p->status == 304) {
		p->state = S_DONE;
	} else if (p->chunked) {
		p->state = S_CHUNK_SIZE;
	} else if (p->has_length) {
		p->remain = p->length;
		p->state = p->length ? S_BODY_LEN : S_DONE;
	} else {
		p->state = S_BODY_CLOSE;
		p->keep_alive = false;
	}
	return NULL;
}

/* One byte of the status line or a header line, kept in buf. Returns 1 at
 * the end of the line (the line is buf[mark..used)), 0 for more, else an
 * error message via *why. */
static int line_byte(struct rt_http_parser *p, uint8_t c, const char **why)
{
	if (p->cr) {
		p->cr = false;
		if (c != '\n') {
			*why = "CR without LF";
			return -1;
		}
		return 1;
	}
	if (c == '\n')
		return 1;
	if (c == '\r') {
		p->cr = true;
		return 0;
	}
	if ((c < 0x20 && c != '\t') || c == 0x7f) {
		*why = "control character in response head";
		return -1;
	}
	if (++p->line > RT_HTTP_MAX_LINE) {
		*why = "response line too long";
		return -1;
	}
	if (p->used >= p->cap) {
		*why = "response head too large";
		return -1;
	}
	p->buf[p->used++] = (char)c;
	return 0;
}

static void reset_head(struct rt_http_parser *p)
{
	p->used = p->mark = p->line = 0;
	p->nhdr = 0;
	p->has_length = false;
	p->length = 0;
	p->te = p->conn_close = p->conn_keep = 0;
	p->state = S_STATUS;
}

size_t rt_http_push(struct rt_http_parser *p, const void *in, size_t len,
		    enum rt_http_ev *ev, const uint8_t **data, size_t *dlen)
{
	const uint8_t *s = in;
	const char *why = NULL;
	size_t i = 0, n;
	int r, h;

	*ev = RT_HTTP_EV_NONE;
	*data = NULL;
	*dlen = 0;
	if (p->why)
		return fail(p, ev, p->why);
	if (p->state == S_DONE) {
		*ev = RT_HTTP_EV_DONE;
		return 0;
	}
	while (i < len) {
		uint8_t c = s[i];

		switch (p->state) {
		case S_STATUS:
		case S_HEADER:
			i++;
			r = line_byte(p, c, &why);
			if (r < 0)
				return fail(p, ev, why);
			if (r == 0)
				break;
			p->line = 0;
			if (p->state == S_STATUS) {
				why = status_line(p, p->buf + p->mark, p->used - p->mark);
				if (why)
					return fail(p, ev, why);
				if (p->status == 101)
					return fail(p, ev, "unexpected protocol switch");
				p->used = p->mark = 0;
				p->state = S_HEADER;
				break;
			}
			if (p->used == p->mark) {
				if (p->status < 200) {
					reset_head(p);
					break;
				}
				why = end_of_head(p);
				if (why)
					return fail(p, ev, why);
				*ev = RT_HTTP_EV_HEAD;
				return i;
			}
			why = header_line(p);
			if (why)
				return fail(p, ev, why);
			p->mark = p->used;
			break;
		case S_BODY_LEN:
		case S_CHUNK_DATA:
			n = len - i;
			if (n > p->remain)
				n = (size_t)p->remain;
			p->remain -= n;
			if (p->remain == 0)
				p->state = p->state == S_BODY_LEN ? S_DONE : S_CHUNK_END;
			*ev = RT_HTTP_EV_BODY;
			*data = s + i;
			*dlen = n;
			return i + n;
		case S_BODY_CLOSE:
			*ev = RT_HTTP_EV_BODY;
			*data = s + i;
			*dlen = len - i;
			return len;
		case S_CHUNK_SIZE:
			i++;
			h = hexval(c);
			if (h >= 0) {
				if (p->remain >> 59)
					return fail(p, ev, "chunk size too large");
				p->remain = p->remain << 4 | (uint64_t)h;
				if (++p->line > 16)
					return fail(p, ev, "chunk size too large");
				break;
			}
			if (p->line == 0)
				return fail(p, ev, "malformed chunk size");
			if (c == ';' || c == ' ' || c == '\t') {
				p->state = S_CHUNK_EXT;
				break;
			}
			if (c == '\r' && !p->cr) {
				p->cr = true;
				p->state = S_CHUNK_EXT;
				break;
			}
			if (c != '\n')
				return fail(p, ev, "malformed chunk size");
			goto chunk_line_done;
		case S_CHUNK_EXT:
			i++;
			if (p->cr && c != '\n')
				return fail(p, ev, "CR without LF");
			if (c == '\r') {
				p->cr = true;
				break;
			}
			if (c != '\n') {
				if ((c < 0x20 && c != '\t') || c == 0x7f)
					return fail(p, ev, "control character in chunk extension");
				if (++p->line > RT_HTTP_MAX_LINE)
					return fail(p, ev, "chunk line too long");
				break;
			}
chunk_line_done:
			p->cr = false;
			p->line = 0;
			p->state = p->remain ? S_CHUNK_DATA : S_TRAILER;
			break;
		case S_CHUNK_END:
			i++;
			if (c == '\r' && !p->cr) {
				p->cr = true;
				break;
			}
			if (c != '\n')
				return fail(p, ev, "chunk not followed by CRLF");
			p->cr = false;
			p->state = S_CHUNK_SIZE;
			break;
		case S_TRAILER:
			i++;
			if (++p->trailer > RT_HTTP_MAX_TRAILER)
				return fail(p, ev, "trailer too large");
			if (p->cr && c != '\n')
				return fail(p, ev, "CR without LF");
			if (c == '\r') {
				p->cr = true;
				break;
			}
			if (c == '\n') {
				p->cr = false;
				if (p->line == 0) {
					p->state = S_DONE;
					*ev = RT_HTTP_EV_DONE;
					return i;
				}
				p->line = 0;
				break;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return fail(p, ev, "control character in trailer");
			p->line++;
			break;
		default:
			*ev = RT_HTTP_EV_DONE;
			return i;
		}
	}
	if (p->state == S_DONE)
		*ev = RT_HTTP_EV_DONE;
	return i;
}

enum rt_http_ev rt_http_eof(struct rt_http_parser *p)
{
	if (p->why)
		return RT_HTTP_EV_ERROR;
	if (p->state == S_BODY_CLOSE || p->state == S_DONE) {
		p->state = S_DONE;
		return RT_HTTP_EV_DONE;
	}
	p->why = p->state <= S_HEADER ? "connection closed before the response head"
				      : "connection closed before the end of the body";
	return RT_HTTP_EV_ERROR;
}

const char *rt_http_header(const struct rt_http_parser *p, const char *name, unsigned n)
{
	unsigned i;

	if (p->state == S_STATUS || p->state == S_HEADER)
		return NULL;
	for (i = 0; i < p->nhdr; i++) {
		const char *h = p->buf + p->hoff[i];

		if (!strcmp(h, name) && n-- == 0)
			return h + strlen(h) + 1;
	}
	return NULL;
}

bool rt_http_bodyless(const struct rt_http_parser *p)
{
	return p->state == S_DONE;
}

/* ---- WWW-Authenticate ---- */

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static size_t token_len(const char *s)
{
	size_t n = 0;

	while (is_tchar((uint8_t)s[n]))
		n++;
	return n;
}

int rt_http_challenge_parse(struct rt_http_challenge *c, const char *s, char *buf,
			    size_t cap, struct rt_err *e)
{
	size_t used = 0, n, i;

	memset(c, 0, sizeof *c);
	s = skip_ows(s);
	n = token_len(s);
	if (n == 0)
		return rt_err_set(e, EINVAL, "WWW-Authenticate: no scheme");
	if (n + 1 > cap)
		return rt_err_set(e, ENOBUFS, "WWW-Authenticate: too long");
	memcpy(buf, s, n);
	buf[n] = 0;
	c->scheme = buf;
	used = n + 1;
	s += n;
	if (*s && *s != ' ' && *s != '\t' && *s != ',')
		return rt_err_set(e, EINVAL, "WWW-Authenticate: malformed scheme");
	s = skip_ows(s);
	for (;;) {
		const char *name = s, *t;
		char *val;

		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return 0;
		name = s;
		n = token_len(s);
		t = skip_ows(s + n);
		if (n == 0 || *t != '=') {
			/* a new challenge (or a token68): the first ends here */
			if (c->nparam == 0 && n == 0)
				return rt_err_set(e, EINVAL, "WWW-Authenticate: malformed parameter");
			return 0;
		}
		if (c->nparam >= RT_HTTP_MAX_PARAMS)
			return rt_err_set(e, EINVAL, "WWW-Authenticate: too many parameters");
		if (n + 1 > cap - used)
			return rt_err_set(e, ENOBUFS, "WWW-Authenticate: too long");
		memcpy(buf + used, name, n);
		buf[used + n] = 0;
		for (i = 0; i < c->nparam; i++)
			if (!strcasecmp(c->name[i], buf + used))
				return rt_err_set(e, EINVAL, "WWW-Authenticate: duplicate parameter %s",
						  c->name[i]);
		c->name[c->nparam] = buf + used;
		used += n + 1;
		s = skip_ows(t + 1);
		val = buf + used;
		if (*s == '"') {
			for (s++; *s != '"'; s++) {
				if (!*s)
					return rt_err_set(e, EINVAL, "WWW-Authenticate: unterminated string");
				if (*s == '\\') {
					s++;
					if (!*s)
						return rt_err_set(e, EINVAL,
							"WWW-Authenticate: unterminated string");
				}
				if ((uint8_t)*s < 0x20 && *s != '\t')
					return rt_err_set(e, EINVAL, "WWW-Authenticate: control character");
				if (used + 1 >= cap)
					return rt_err_set(e, ENOBUFS, "WWW-Authenticate: too long");
				buf[used++] = *s;
			}
			s++;
		} else {
			n = token_len(s);
			if (n == 0)
				return rt_err_set(e, EINVAL, "WWW-Authenticate: malformed parameter");
			if (n + 1 > cap - used)
				return rt_err_set(e, ENOBUFS, "WWW-Authenticate: too long");
			memcpy(buf + used, s, n);
			used += n;
			s += n;
		}
		if (used >= cap)
			return rt_err_set(e, ENOBUFS, "WWW-Authenticate: too long");
		buf[used++] = 0;
		c->value[c->nparam++] = val;
		s = skip_ows(s);
		if (*s && *s != ',')
			return rt_err_set(e, EINVAL, "WWW-Authenticate: malformed parameter list");
	}
}

const char *rt_http_challenge_param(const struct rt_http_challenge *c, const char *name)
{
	unsigned i;

	for (i = 0; i < c->nparam; i++)
		if (!strcasecmp(c->name[i], name))
			return c->value[i];
	return NULL;
}

/* ---- URLs ---- */

static bool path_ok(const char *s)
{
	for (; *s; s++)
		if ((uint8_t)*s <= 0x20 || (uint8_t)*s >= 0x7f)
			return false;
	return true;
}

/* Host and port from s[0..n): "host", "host:port", "[v6]", "[v6]:port". */
static int parse_authority(struct rt_http_url *u, const char *s, size_t n, struct rt_err *e)
{
	const char *h = s, *end = s + n, *colon = NULL;
	size_t hl, i;

	if (memchr(s, '@', n))
		return rt_err_set(e, EINVAL, "credentials in URLs are not supported");
	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb)
			return rt_err_set(e, EINVAL, "bad IPv6 address");
		h = s + 1;
		hl = (size_t)(rb - h);
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return rt_err_set(e, EINVAL, "bad address");
			colon = rb + 1;
		}
		for (i = 0; i < hl; i++)
			if (!strchr("0123456789abcdefABCDEF:.", h[i]))
				return rt_err_set(e, EINVAL, "bad IPv6 address");
	} else {
		colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
		for (i = 0; i < hl; i++)
			if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
			      (h[i] >= '0' && h[i] <= '9') || h[i] == '-' || h[i] == '.' ||
			      h[i] == '_'))
				return rt_err_set(e, EINVAL, "bad host name");
	}
	if (hl == 0 || hl > RT_HTTP_HOST_MAX)
		return rt_err_set(e, EINVAL, "bad host name");
	for (i = 0; i < hl; i++)
		u->host[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] - 'A' + 'a' : h[i]);
	u->host[hl] = 0;
	u->port = u->https ? 443 : 80;
	if (colon) {
		unsigned port = 0;
		const char *q;

		if (colon + 1 == end)
			return rt_err_set(e, EINVAL, "bad port");
		for (q = colon + 1; q < end; q++) {
			if (*q < '0' || *q > '9' || q - colon > 5)
				return rt_err_set(e, EINVAL, "bad port");
			port = port * 10 + (unsigned)(*q - '0');
		}
		if (port == 0 || port > 65535)
			return rt_err_set(e, EINVAL, "bad port");
		u->port = (uint16_t)port;
	}
	return 0;
}

static int set_path(struct rt_http_url *u, const char *p, size_t n, struct rt_err *e)
{
	const char *hash = memchr(p, '#', n);

	if (hash)
		n = (size_t)(hash - p);
	if (n == 0) {
		p = "/";
		n = 1;
	}
	if (n >= sizeof u->path)
		return rt_err_set(e, ENAMETOOLONG, "URL path too long");
	if (p[0] == '?') {
		if (n + 1 >= sizeof u->path)
			return rt_err_set(e, ENAMETOOLONG, "URL path too long");
		u->path[0] = '/';
		memcpy(u->path + 1, p, n);
		u->path[n + 1] = 0;
	} else {
		memcpy(u->path, p, n);
		u->path[n] = 0;
	}
	if (u->path[0] != '/' || !path_ok(u->path))
		return rt_err_set(e, EINVAL, "bad URL path");
	return 0;
}

int rt_http_url_parse(struct rt_http_url *u, const char *s, struct rt_err *e)
{
	size_t an;

	memset(u, 0, sizeof *u);
	if (!strncasecmp(s, "https://", 8)) {
		u->https = true;
		s += 8;
	} else if (!strncasecmp(s, "http://", 7)) {
		s += 7;
	} else {
		return rt_err_set(e, EINVAL, "not an http(s) URL");
	}
	an = strcspn(s, "/?#");
	if (parse_authority(u, s, an, e) < 0)
		return -1;
	return set_path(u, s + an, strlen(s + an), e);
}

int rt_http_url_resolve(struct rt_http_url *out, const struct rt_http_url *base,
			const char *loc, struct rt_err *e)
{
	size_t an;

	if (!strncasecmp(loc, "http://", 7) || !strncasecmp(loc, "https://", 8))
		return rt_http_url_parse(out, loc, e);
	memset(out, 0, sizeof *out);
	out->https = base->https;
	if (loc[0] == '/' && loc[1] == '/') {
		loc += 2;
		an = strcspn(loc, "/?#");
		if (parse_authority(out, loc, an, e) < 0)
			return -1;
		return set_path(out, loc + an, strlen(loc + an), e);
	}
	memcpy(out->host, base->host, sizeof out->host);
	out->port = base->port;
	if (loc[0] == '/' || loc[0] == '?' || loc[0] == 0)
		return set_path(out, loc, strlen(loc), e);
	{
		/* relative: replace the last segment of the base path */
		char tmp[RT_HTTP_PATH_MAX];
		const char *q = strchr(base->path, '?');
		size_t bl = q ? (size_t)(q - base->path) : strlen(base->path);
		int n;

		while (bl > 0 && base->path[bl - 1] != '/')
			bl--;
		n = snprintf(tmp, sizeof tmp, "%.*s%s", (int)bl, base->path, loc);
		if (n < 0 || (size_t)n >= sizeof tmp)
			return rt_err_set(e, ENAMETOOLONG, "URL path too long");
		return set_path(out, tmp, (size_t)n, e);
	}
}

static bool same_origin(const struct rt_http_url *a, const struct rt_http_url *b)
{
	return a->https == b->https && a->port == b->port && !strcmp(a->host, b->host);
}

/* ---- requests ---- */

static bool value_ok(const char *v)
{
	for (; *v; v++)
		if (((uint8_t)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return false;
	return true;
}

/* "host" or "host:port" or "[v6]:port", as Host wants it. */
static int host_port(char *buf, size_t cap, const struct rt_http_url *u, bool always_port)
{
	bool v6 = strchr(u->host, ':') != NULL;
	bool port = always_port || u->port != (u->https ? 443 : 80);
	int n = snprintf(buf, cap, "%s%s%s%s%u", v6 ? "[" : "", u->host, v6 ? "]" : "",
			 port ? ":" : "", port ? u->port : 0u);

	if (n < 0 || (size_t)n >= cap)
		return -1;
	if (!port)
		buf[n - 1] = 0;         /* drop the "0" printed for no port */
	return 0;
}

ssize_t rt_http_format_request(char *buf, size_t cap, const struct rt_http_req *req,
			       const struct rt_http_url *u, bool absolute,
			       const char *user_agent, struct rt_err *e)
{
	char hp[RT_HTTP_HOST_MAX + 16], range[48] = "", inm[160] = "";
	int n;

	if (!value_ok(req->method) || !path_ok(u->path) ||
	    (req->authorization && !value_ok(req->authorization)) ||
	    (req->if_none_match && !value_ok(req->if_none_match)) ||
	    (req->accept && !value_ok(req->accept)) || !value_ok(user_agent))
		return rt_err_set(e, EINVAL, "control character in request header");
	if (host_port(hp, sizeof hp, u, false) < 0)
		return rt_err_set(e, ENAMETOOLONG, "host name too long");
	if (req->range_from)
		snprintf(range, sizeof range, "Range: bytes=%llu-\r\n",
			 (unsigned long long)req->range_from);
	if (req->if_none_match &&
	    snprintf(inm, sizeof inm, "If-None-Match: %s\r\n", req->if_none_match) >= (int)sizeof inm)
		return rt_err_set(e, ENAMETOOLONG, "entity tag too long");
	n = snprintf(buf, cap,
		     "%s %s%s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
		     "%s%s%s%s%s%s%s%s\r\n",
		     req->method, absolute ? (u->https ? "https://" : "http://") : "",
		     absolute ? hp : "", "", u->path, hp, user_agent,
		     req->accept ? "Accept: " : "", req->accept ? req->accept : "",
		     req->accept ? "\r\n" : "",
		     req->authorization ? "Authorization: " : "",
		     req->authorization ? req->authorization : "",
		     req->authorization ? "\r\n" : "", range, inm);
	if (n < 0 || (size_t)n >= cap)
		return rt_err_set(e, ENOBUFS, "request too large");
	return n;
}

bool rt_http_no_proxy(const char *list, const char *host, uint16_t port)
{
	const char *s = list;

	if (!list)
		return false;
	while (*s) {
		const char *t, *colon;
		size_t n, hl = strlen(host);
		unsigned eport = 0;

		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		t = s;
		while (*s && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		n = (size_t)(s - t);
		if (n == 0)
			continue;
		if (n == 1 && *t == '*')
			return true;
		colon = memchr(t, ':', n);
		if (colon && !memchr(colon + 1, ':', (size_t)(t + n - colon - 1))) {
			const char *q;

			for (q = colon + 1; q < t + n && *q >= '0' && *q <= '9' && eport < 65536; q++)
				eport = eport * 10 + (unsigned)(*q - '0');
			if (q != t + n)
				continue;
			n = (size_t)(colon - t);
		}
		if (eport && eport != port)
			continue;
		if (n && *t == '.') {
			t++;
			n--;
		}
		if (n == 0)
			continue;
		if (hl == n && !strncasecmp(host, t, n))
			return true;
		if (hl > n && host[hl - n - 1] == '.' && !strncasecmp(host + hl - n, t, n))
			return true;
	}
	return false;
}

/* ---- connections ---- */

struct rt_http_conn {
	int fd;
	struct rt_http_url origin;
	bool absolute;          /* plain HTTP through a proxy: absolute-form */
#if IS_ENABLED(CONFIG_TLS)
	bool tls_on;
	struct rt_tls tls;
#endif
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int timeout(const struct rt_http_client *c)
{
	return c->timeout_ms > 0 ? c->timeout_ms : 30000;
}

static int wait_fd(int fd, short ev, int ms, int64_t deadline, struct rt_err *e)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	bool cut = false;
	int r;

	if (deadline) {
		int64_t left = deadline - mono_ms();

		if (left <= 0)
			return rt_err_set(e, ETIMEDOUT, "too slow");
		if (left < ms) {
			ms = (int)left;
			cut = true;
		}
	}
	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return rt_err_sys(e, "poll");
	if (r == 0)
		return cut ? rt_err_set(e, ETIMEDOUT, "too slow")
			   : rt_err_set(e, ETIMEDOUT, "no data for %d s", ms / 1000);
	return 0;
}

static int tcp_connect(const char *host, uint16_t port, int ms, struct rt_err *e)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	char serv[8];
	int fd = -1, r, err = 0, one = 1;

	snprintf(serv, sizeof serv, "%u", port);
	hints.ai_flags = AI_NUMERICSERV;
	r = getaddrinfo(host, serv, &hints, &res);
	if (r)
		return rt_err_set(e, r == EAI_SYSTEM ? errno : EHOSTUNREACH, "%s: %s", host,
				  gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t sl = sizeof err;
		struct rt_err tmp = { 0, "" };

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS) {
			err = errno;
		} else if (wait_fd(fd, POLLOUT, ms, 0, &tmp) < 0) {
			err = tmp.errnum ? tmp.errnum : ETIMEDOUT;
		} else {
			err = 0;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
				err = errno;
			else if (err == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return rt_err_set(e, err ? err : ECONNREFUSED, "connect to %s port %u", host, port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int raw_write(struct rt_http_client *c, const void *buf, size_t len,
		     int64_t deadline, struct rt_err *e)
{
	struct rt_http_conn *k = c->conn;
	const uint8_t *p = buf;

#if IS_ENABLED(CONFIG_TLS)
	if (k->tls_on)
		return rt_tls_write(&k->tls, buf, len, timeout(c), deadline, e);
#endif
	while (len > 0) {
		ssize_t n = send(k->fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return rt_err_sys(e, "send");
			if (wait_fd(k->fd, POLLOUT, timeout(c), deadline, e) < 0)
				return -1;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Bytes received and not yet parsed, without waiting. */
static size_t raw_avail(struct rt_http_client *c, const uint8_t **d)
{
#if IS_ENABLED(CONFIG_TLS)
	struct rt_http_conn *k = c->conn;

	*d = NULL;
	if (k->tls_on) {
		size_t len = 0;

		if (br_ssl_engine_current_state(&k->tls.sc.eng) & BR_SSL_RECVAPP)
			*d = br_ssl_engine_recvapp_buf(&k->tls.sc.eng, &len);
		return len;
	}
#endif
	*d = c->rbuf + c->rpos;
	return c->rlen - c->rpos;
}

static void raw_consume(struct rt_http_client *c, size_t n)
{
#if IS_ENABLED(CONFIG_TLS)
	if (c->conn->tls_on) {
		rt_tls_consume(&c->conn->tls, n);
		return;
	}
#endif
	c->rpos += n;
}

/* Wait for more bytes: > 0 when some arrived, 0 at EOF. */
static ssize_t raw_fill(struct rt_http_client *c, int64_t deadline, struct rt_err *e)
{
	struct rt_http_conn *k = c->conn;
	ssize_t n;

#if IS_ENABLED(CONFIG_TLS)
	if (k->tls_on) {
		const uint8_t *d;

		return rt_tls_peek(&k->tls, &d, timeout(c), deadline, e);
	}
#endif
	if (c->rpos < c->rlen)
		return (ssize_t)(c->rlen - c->rpos);
	c->rpos = c->rlen = 0;
	for (;;) {
		n = recv(k->fd, c->rbuf, sizeof c->rbuf, 0);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return rt_err_sys(e, "recv");
		if (wait_fd(k->fd, POLLIN, timeout(c), deadline, e) < 0)
			return -1;
	}
	c->rlen = (size_t)n;
	return n;
}

static void conn_close(struct rt_http_client *c)
{
	struct rt_http_conn *k = c->conn;

	if (!k || k->fd < 0)
		return;
#if IS_ENABLED(CONFIG_TLS)
	if (k->tls_on)
		rt_tls_close(&k->tls);
	k->tls_on = false;
#endif
	close(k->fd);
	k->fd = -1;
	c->rpos = c->rlen = 0;
}

static const char *env2(const char *a, const char *b)
{
	const char *v = getenv(a);

	return v && *v ? v : getenv(b);
}

/* Read one response head with c->p on the current connection. */
static int read_head(struct rt_http_client *c, bool head_req, int64_t deadline,
		     bool *nothing, struct rt_err *e)
{
	*nothing = true;
	rt_http_parser_init(&c->p, c->hbuf, sizeof c->hbuf, head_req);
	for (;;) {
		const uint8_t *d, *body;
		size_t n = raw_avail(c, &d), used, bl;
		enum rt_http_ev ev;
		ssize_t got;

		if (n) {
			*nothing = false;
			used = rt_http_push(&c->p, d, n, &ev, &body, &bl);
			if (ev == RT_HTTP_EV_HEAD || ev == RT_HTTP_EV_DONE) {
				raw_consume(c, used);
				return 0;
			}
			if (ev == RT_HTTP_EV_ERROR)
				return rt_err_set(e, EPROTO, "bad response: %s", c->p.why);
			raw_consume(c, used);
			if (used == n)
				continue;
		}
		got = raw_fill(c, deadline, e);
		if (got < 0)
			return rt_err_wrap(e, "waiting for the response");
		if (got == 0) {
			rt_http_eof(&c->p);
			return rt_err_set(e, ECONNRESET, "%s", c->p.why);
		}
	}
}

static int conn_open(struct rt_http_client *c, const struct rt_http_url *u, struct rt_err *e)
{
	struct rt_http_conn *k = c->conn;
	const char *proxy = u->https ? c->https_proxy : c->http_proxy;
	const char *noproxy = c->no_proxy;
	struct rt_http_url pu;
	bool use_proxy;

	if (!k) {
		k = c->conn = calloc(1, sizeof *k);
		if (!k)
			return rt_err_sys(e, "connection");
		k->fd = -1;
	}
	conn_close(c);
	if (!proxy)
		proxy = u->https ? env2("https_proxy", "HTTPS_PROXY") : env2("http_proxy", "HTTP_PROXY");
	if (!noproxy)
		noproxy = env2("no_proxy", "NO_PROXY");
	use_proxy = proxy && *proxy && !rt_http_no_proxy(noproxy, u->host, u->port);
	if (use_proxy) {
		char tmp[RT_HTTP_HOST_MAX + 32];
		int n = snprintf(tmp, sizeof tmp, "%s%s", strstr(proxy, "://") ? "" : "http://", proxy);

		if (n < 0 || (size_t)n >= sizeof tmp)
			return rt_err_set(e, EINVAL, "proxy %s: too long", proxy);
		if (rt_http_url_parse(&pu, tmp, e) < 0)
			return rt_err_wrap(e, "proxy %s", proxy);
		if (pu.https)
			return rt_err_set(e, EINVAL, "proxy %s: only http:// proxies are supported", proxy);
		k->fd = tcp_connect(pu.host, pu.port, timeout(c), e);
		if (k->fd < 0)
			return rt_err_wrap(e, "proxy");
	} else {
		k->fd = tcp_connect(u->host, u->port, timeout(c), e);
		if (k->fd < 0)
			return -1;
	}
	k->origin = *u;
	k->absolute = use_proxy && !u->https;
	if (!u->https)
		return 0;
#if IS_ENABLED(CONFIG_TLS)
	{
		const struct rt_tls_anchors *a = c->anchors ? c->anchors(c->ctx, u->host, u->port) : NULL;
		int64_t deadline = mono_ms() + timeout(c);
		bool nothing;

		if (use_proxy) {
			char req[2 * RT_HTTP_HOST_MAX + 96], hp[RT_HTTP_HOST_MAX + 16];
			int n;

			host_port(hp, sizeof hp, u, true);
			n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hp, hp);
			if (n < 0 || (size_t)n >= sizeof req)
				return rt_err_set(e, ENAMETOOLONG, "host name too long");
			if (raw_write(c, req, (size_t)n, deadline, e) < 0 ||
			    read_head(c, true, deadline, &nothing, e) < 0)
				goto bad;
			if (c->p.status != 200) {
				rt_err_set(e, EPROTO, "proxy refused to connect to %s: status %d",
					   hp, c->p.status);
				goto bad;
			}
			if (c->rpos != c->rlen) {
				rt_err_set(e, EPROTO, "proxy sent data before the TLS handshake");
				goto bad;
			}
		}
		if (!a) {
			rt_err_set(e, ENOENT, "no CA certificates for %s", u->host);
			goto bad;
		}
		if (rt_tls_connect(&k->tls, k->fd, u->host, a, timeout(c), deadline, e) < 0)
			goto bad;
		k->tls_on = true;
		return 0;
bad:
		conn_close(c);
		return -1;
	}
#else
	conn_close(c);
	return rt_err_set(e, ENOTSUP, "HTTPS to %s: built without TLS support", u->host);
#endif
}

void rt_http_client_init(struct rt_http_client *c)
{
	memset(c, 0, sizeof *c);
	rt_http_parser_init(&c->p, c->hbuf, sizeof c->hbuf, false);
	c->p.state = S_DONE;
}

void rt_http_client_close(struct rt_http_client *c)
{
	conn_close(c);
	free(c->conn);
	c->conn = NULL;
}

/* Send one request to u on a (reused or new) connection; read the head. */
static int exchange(struct rt_http_client *c, const struct rt_http_req *req,
		    const struct rt_http_url *u, struct rt_err *e)
{
	char buf[4096];
	int attempt;

	if (!u->https && !(c->insecure && c->insecure(c->ctx, u->host, u->port)))
		return rt_err_set(e, 0,
				  "refusing plain HTTP to %s:%u (not configured as insecure)",
				  u->host, u->port);
	if (c->body_open)
		rt_http_end(c, 0);
	for (attempt = 0; attempt < 2; attempt++) {
		struct rt_http_conn *k = c->conn;
		bool reused = k && k->fd >= 0 && same_origin(&k->origin, u), nothing = true;
		int64_t deadline;
		ssize_t n;

		if (!reused && conn_open(c, u, e) < 0)
			return -1;
		n = rt_http_format_request(buf, sizeof buf, req, u, c->conn->absolute,
					   c->user_agent ? c->user_agent : "rt", e);
		if (n < 0)
			return -1;
		deadline = mono_ms() + timeout(c);
		if (raw_write(c, buf, (size_t)n, deadline, e) == 0 &&
		    read_head(c, !strcmp(req->method, "HEAD"), deadline, &nothing, e) == 0) {
			c->url = *u;
			c->body_open = true;
			c->body_done = false;
			c->nread = 0;
			c->window_bytes = 0;
			c->window_start = mono_ms();
			return 0;
		}
		conn_close(c);
		/* A kept-alive connection the server dropped meanwhile:
		 * retry once on a fresh one. */
		if (!reused || !nothing)
			return -1;
	}
	return -1;
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int rt_http_request(struct rt_http_client *c, const struct rt_http_req *req, struct rt_err *e)
{
	struct rt_http_req r = *req;
	struct rt_http_url u, next;
	int hops;

	if (rt_http_url_parse(&u, req->url, e) < 0)
		return rt_err_wrap(e, "%s", req->url);
	for (hops = 0;; hops++) {
		const char *loc;

		if (exchange(c, &r, &u, e) < 0) {
			char hp[RT_HTTP_HOST_MAX + 16];

			host_port(hp, sizeof hp, &u, false);
			return rt_err_wrap(e, "%s %s%s", r.method, hp, u.path);
		}
		if (!is_redirect(c->p.status))
			return c->p.status;
		loc = rt_http_header(&c->p, "location", 0);
		if (!loc)
			return c->p.status;
		if (hops >= RT_HTTP_MAX_REDIRECTS)
			return rt_err_set(e, 0, "%s %s: more than %d redirects", r.method, req->url,
					  RT_HTTP_MAX_REDIRECTS);
		if (rt_http_url_resolve(&next, &u, loc, e) < 0)
			return rt_err_wrap(e, "redirect from %s", u.host);
		if (u.https && !next.https)
			return rt_err_set(e, 0, "refusing redirect from https to http://%s",
					  next.host);
		rt_http_end(c, 65536);
		/* Credentials are for the origin they were given to. */
		if (!same_origin(&u, &next))
			r.authorization = NULL;
		if (c->p.status == 303)
			r.method = "GET";
		u = next;
	}
}

ssize_t rt_http_read(struct rt_http_client *c, const uint8_t **data, struct rt_err *e)
{
	if (!c->body_open || c->body_done)
		return 0;
	for (;;) {
		const uint8_t *d, *body;
		size_t n = raw_avail(c, &d), used, bl;
		enum rt_http_ev ev;
		ssize_t got;
		int64_t now;

		used = rt_http_push(&c->p, d, n, &ev, &body, &bl);
		raw_consume(c, used);
		switch (ev) {
		case RT_HTTP_EV_BODY:
			if (bl == 0)
				continue;
			c->nread += bl;
			*data = body;
			return (ssize_t)bl;
		case RT_HTTP_EV_DONE:
			c->body_done = true;
			return 0;
		case RT_HTTP_EV_ERROR:
			conn_close(c);
			c->body_open = false;
			return rt_err_set(e, EPROTO, "bad response body: %s", c->p.why);
		default:
			break;
		}
		if (used < n)
			continue;
		got = raw_fill(c, 0, e);
		if (got < 0) {
			conn_close(c);
			c->body_open = false;
			return rt_err_wrap(e, "reading the body from %s", c->url.host);
		}
		if (got == 0) {
			conn_close(c);
			if (rt_http_eof(&c->p) == RT_HTTP_EV_DONE) {
				c->body_done = true;
				return 0;
			}
			c->body_open = false;
			return rt_err_set(e, ECONNRESET, "%s after %llu body bytes", c->p.why,
					  (unsigned long long)c->nread);
		}
		/* Slow loris: each wait is bounded, and so is the rate. */
		c->window_bytes += (uint64_t)got;
		now = mono_ms();
		if (now - c->window_start >= timeout(c)) {
			if (c->window_bytes < RT_HTTP_MIN_RATE) {
				conn_close(c);
				c->body_open = false;
				return rt_err_set(e, ETIMEDOUT, "transfer from %s too slow",
						  c->url.host);
			}
			c->window_bytes = 0;
			c->window_start = now;
		}
	}
}

void rt_http_end(struct rt_http_client *c, uint64_t max)
{
	struct rt_err e;

	if (c->body_open && !c->body_done) {
		uint64_t seen = 0;
		const uint8_t *d;
		ssize_t n;

		/* Draining is only worth it when little is left. */
		if (c->p.state == S_BODY_LEN && c->p.remain > max)
			max = 0;
		while (seen <= max && (n = rt_http_read(c, &d, &e)) > 0)
			seen += (uint64_t)n;
		if (!c->body_done)
			conn_close(c);
	}
	if (!c->p.keep_alive)
		conn_close(c);
	c->body_open = false;
}
