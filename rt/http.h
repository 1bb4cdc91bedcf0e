/* HTTP/1.1 client for the registry: a push-style response parser, a
 * request writer, and a client that owns one keep-alive connection (plain
 * TCP or TLS), follows redirects, tunnels through HTTPS_PROXY and enforces
 * timeouts.
 *
 * Parser. rt_http_push() consumes bytes of one response and reports one
 * event per call; body bytes are handed out as slices of the caller's
 * input, never copied. Header names and values are kept in a caller-owned
 * buffer (name lowercased, both NUL-terminated). Everything from outside is
 * bounded: the status line, each header line, the number of headers, the
 * header block as a whole (the buffer), chunk-size lines and trailers. The
 * error is sticky. What it rejects rather than guesses at: obsolete line
 * folding, control bytes in names or values, a Content-Length that is not
 * all digits or differs from another one, Content-Length together with
 * Transfer-Encoding, any transfer coding but "chunked", a chunk size that
 * does not fit in 63 bits. A lone LF ends a line like CRLF does; a CR not
 * followed by LF is an error. 1xx interim responses are skipped.
 *
 * Client. One request at a time: rt_http_request() sends it and returns
 * once the final response's headers are in (redirects followed), then
 * rt_http_read() hands out the body and rt_http_end() finishes it so the
 * connection can be reused. A redirect to another origin drops the
 * Authorization header; a redirect from https to http is refused; at most
 * RT_HTTP_MAX_REDIRECTS are followed. Timeouts: connecting, and every wait
 * for bytes (idle), take at most timeout_ms; the response head must be
 * complete within timeout_ms of the request (a server dribbling headers is
 * cut off); a body slower than RT_HTTP_MIN_RATE bytes per timeout window
 * is cut off too (slow loris).
 */
#ifndef RT_HTTP_H
#define RT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define RT_HTTP_MAX_HEADERS 64
#define RT_HTTP_MAX_LINE 8192       /* status line, header line, chunk line */
#define RT_HTTP_MAX_TRAILER 8192    /* all trailer bytes of a chunked body */
#define RT_HTTP_HOST_MAX 255
#define RT_HTTP_PATH_MAX 2048
#define RT_HTTP_MAX_REDIRECTS 10
#define RT_HTTP_MIN_RATE 1024       /* bytes per timeout window, bodies */

/* ---- response parser ---- */

enum rt_http_ev {
	RT_HTTP_EV_NONE,        /* input consumed, nothing complete yet */
	RT_HTTP_EV_HEAD,        /* status and headers of the final response */
	RT_HTTP_EV_BODY,        /* body bytes in data[0..len) */
	RT_HTTP_EV_DONE,        /* message complete; later bytes not consumed */
	RT_HTTP_EV_ERROR,       /* see rt_http_parser.why */
};

struct rt_http_parser {
	/* public after RT_HTTP_EV_HEAD */
	int status;             /* 100..999 */
	int minor;              /* HTTP/1.<minor> */
	bool keep_alive;        /* the connection may carry another request */
	bool chunked;
	bool has_length;
	uint64_t length;        /* Content-Length when has_length */
	const char *why;        /* sticky error, NULL while fine */
	/* private */
	char *buf;              /* header storage: "name\0value\0"... */
	size_t cap, used;
	size_t line;            /* bytes of the current line so far */
	size_t mark;            /* where the current line started in buf */
	uint16_t hoff[RT_HTTP_MAX_HEADERS];
	uint16_t nhdr;
	uint8_t state;
	bool head_req;          /* response to HEAD: no body */
	bool cr;                /* the last byte was CR */
	uint64_t remain;        /* body or chunk bytes still due */
	size_t trailer;         /* trailer bytes seen */
	unsigned conn_close : 1, conn_keep : 1, te : 1;
};

/* buf (cap bytes, at most 65535) keeps the status line's reason and every
 * header; a response whose head does not fit is an error. head_req: the
 * response answers a HEAD request (never has a body). */
void rt_http_parser_init(struct rt_http_parser *p, char *buf, size_t cap,
			 bool head_req);

/* Consume bytes of in[0..len); returns how many. *ev says what happened;
 * for RT_HTTP_EV_BODY, *data and *dlen give the body bytes (inside in).
 * Call again with the rest of the input until all is consumed or the
 * event is DONE or ERROR. */
size_t rt_http_push(struct rt_http_parser *p, const void *in, size_t len,
		    enum rt_http_ev *ev, const uint8_t **data, size_t *dlen);

/* The peer closed the connection: DONE when that ends a body delimited by
 * the close, else ERROR (truncated). */
enum rt_http_ev rt_http_eof(struct rt_http_parser *p);

/* Value of header name (lowercase) after HEAD; the n-th (from 0) of that
 * name. NULL when absent. */
const char *rt_http_header(const struct rt_http_parser *p, const char *name,
			   unsigned n);

/* Body known to be over (HEAD, 1xx/204/304, Content-Length: 0). */
bool rt_http_bodyless(const struct rt_http_parser *p);

/* ---- WWW-Authenticate ---- */

/* A challenge: scheme and up to RT_HTTP_MAX_PARAMS auth-params, decoded
 * (quoted-pairs resolved), stored NUL-terminated in a caller buffer. */
#define RT_HTTP_MAX_PARAMS 8
struct rt_http_challenge {
	const char *scheme;
	unsigned nparam;
	const char *name[RT_HTTP_MAX_PARAMS];
	const char *value[RT_HTTP_MAX_PARAMS];
};

/* Parse the first challenge of a WWW-Authenticate value (s, NUL-ended)
 * into c, using buf (cap bytes) for the strings. Strict: token scheme,
 * comma-separated name=token-or-quoted-string params, each name once. */
int rt_http_challenge_parse(struct rt_http_challenge *c, const char *s,
			    char *buf, size_t cap, struct rt_err *e);
/* Param value by name (case-insensitive); NULL when absent. */
const char *rt_http_challenge_param(const struct rt_http_challenge *c,
				    const char *name);

/* ---- URLs ---- */

struct rt_http_url {
	bool https;
	uint16_t port;
	char host[RT_HTTP_HOST_MAX + 1];        /* lowercase; IPv6 without [] */
	char path[RT_HTTP_PATH_MAX];            /* origin-form, starts with '/' */
};

/* Absolute http(s) URL. No userinfo, no fragment; the path must be
 * printable ASCII without spaces. */
int rt_http_url_parse(struct rt_http_url *u, const char *s, struct rt_err *e);
/* Resolve a Location value against base into out. */
int rt_http_url_resolve(struct rt_http_url *out, const struct rt_http_url *base,
			const char *loc, struct rt_err *e);

/* ---- client ---- */

struct rt_tls;
struct rt_tls_anchors;

/* Where a connection's bytes go; opaque. */
struct rt_http_conn;

struct rt_http_client {
	/* settings, filled by the caller before the first request */
	int timeout_ms;                 /* 0: 30 s */
	const char *user_agent;         /* NULL: "rt" */
	/* CA set for a host (NULL: no HTTPS possible to it) */
	const struct rt_tls_anchors *(*anchors)(void *ctx, const char *host,
						uint16_t port);
	/* may plain HTTP be used with this host? (never assumed) */
	bool (*insecure)(void *ctx, const char *host, uint16_t port);
	void *ctx;
	/* proxies from the environment unless set: "" means none */
	const char *https_proxy, *http_proxy, *no_proxy;
	/* state, private */
	struct rt_http_conn *conn;
	struct rt_http_parser p;
	char hbuf[16384];
	uint8_t rbuf[4096];             /* plain-TCP read buffer */
	size_t rpos, rlen;
	struct rt_http_url url;         /* where the current response is from */
	bool body_open, body_done;
	uint64_t window_bytes;
	int64_t window_start;
	uint64_t nread;                 /* body bytes handed out */
};

struct rt_http_req {
	const char *method;             /* "GET", "HEAD" */
	const char *url;
	const char *authorization;      /* whole header value, or NULL */
	const char *accept;             /* or NULL */
	uint64_t range_from;            /* > 0: "Range: bytes=N-" */
	const char *if_none_match;      /* an entity tag, quotes included, or NULL */
};

void rt_http_client_init(struct rt_http_client *c);
/* Send req, follow redirects, read the final response's head. Returns the
 * status; c->url is the final URL; headers via rt_http_header(&c->p, ...). */
int rt_http_request(struct rt_http_client *c, const struct rt_http_req *req,
		    struct rt_err *e);
/* The next slice of the body, in *data (valid until the next call on c);
 * returns its length, 0 at the end of the body. */
ssize_t rt_http_read(struct rt_http_client *c, const uint8_t **data,
		     struct rt_err *e);
/* Finish the current response: read and drop up to max remaining body
 * bytes so the connection can carry the next request, else close it. */
void rt_http_end(struct rt_http_client *c, uint64_t max);
void rt_http_client_close(struct rt_http_client *c);

/* Write the request head into buf (cap bytes): method, origin-form (or,
 * for a proxy, absolute-form) target, Host, and the optional headers.
 * Returns its length. */
ssize_t rt_http_format_request(char *buf, size_t cap, const struct rt_http_req *req,
			       const struct rt_http_url *u, bool absolute,
			       const char *user_agent, struct rt_err *e);

/* host matches the NO_PROXY list (comma-separated names, ".suffix" or
 * "suffix" matching subdomains, "*" for all; an optional ":port"). */
bool rt_http_no_proxy(const char *list, const char *host, uint16_t port);

#endif
