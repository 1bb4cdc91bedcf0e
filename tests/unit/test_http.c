#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "tap.h"

struct result {
	enum rt_http_ev last;   /* DONE, ERROR, or NONE when input ran out */
	int heads;
	char body[8192];
	size_t blen;
	const char *why;
	size_t left;            /* input bytes after DONE */
};

static char hbuf[16384];
static struct rt_http_parser P;

/* Feed msg in pieces of at most step bytes (0: all at once). */
static struct result run(const char *msg, size_t len, size_t step, bool head_req, int eof)
{
	struct result r;
	size_t off = 0;

	memset(&r, 0, sizeof r);
	rt_http_parser_init(&P, hbuf, sizeof hbuf, head_req);
	r.last = RT_HTTP_EV_NONE;
	while (off < len || step == (size_t)-1) {
		size_t n = step && len - off > step ? step : len - off;
		size_t used;
		enum rt_http_ev ev;
		const uint8_t *d;
		size_t dl;

		step = step == (size_t)-1 ? 0 : step;
		used = rt_http_push(&P, msg + off, n, &ev, &d, &dl);
		off += used;
		if (ev == RT_HTTP_EV_HEAD)
			r.heads++;
		if (ev == RT_HTTP_EV_BODY) {
			if (r.blen + dl <= sizeof r.body)
				memcpy(r.body + r.blen, d, dl);
			r.blen += dl;
		}
		if (ev == RT_HTTP_EV_DONE || ev == RT_HTTP_EV_ERROR) {
			r.last = ev;
			r.why = P.why;
			r.left = len - off;
			return r;
		}
		if (used == 0 && ev == RT_HTTP_EV_NONE && off < len) {
			r.last = RT_HTTP_EV_ERROR;
			r.why = "parser stalled";
			return r;
		}
	}
	/* an empty push after the last byte may still end the message */
	{
		enum rt_http_ev ev;
		const uint8_t *d;
		size_t dl;

		rt_http_push(&P, "", 0, &ev, &d, &dl);
		if (ev == RT_HTTP_EV_DONE || ev == RT_HTTP_EV_ERROR) {
			r.last = ev;
			r.why = P.why;
			return r;
		}
	}
	if (eof) {
		r.last = rt_http_eof(&P);
		r.why = P.why;
	}
	return r;
}

static struct result run_e(const char *msg, bool head_req, int eof)
{
	return run(msg, strlen(msg), 0, head_req, eof);
}

static struct result run_s(const char *msg, size_t step)
{
	return run(msg, strlen(msg), step, false, 0);
}

static void test_basic(void)
{
	const char *m = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			"Content-Length: 5\r\nX-Empty:\r\nX-Sp:   a b  \r\n\r\nhelloEXTRA";
	struct result r = run_s(m, 0);

	is_int(r.last, RT_HTTP_EV_DONE, "content-length body completes");
	is_int(r.heads, 1, "one head event");
	is_int(r.blen, 5, "body length");
	ok(!memcmp(r.body, "hello", 5), "body bytes");
	is_int(r.left, 5, "bytes after the message are not consumed");
	is_int(P.status, 200, "status");
	ok(P.keep_alive, "HTTP/1.1 keeps alive");
	is_str(rt_http_header(&P, "content-type", 0), "text/plain", "header lowercased lookup");
	is_str(rt_http_header(&P, "x-empty", 0), "", "empty header value");
	is_str(rt_http_header(&P, "x-sp", 0), "a b", "OWS trimmed both sides");
	ok(rt_http_header(&P, "content-type", 1) == NULL, "second instance absent");
	ok(rt_http_header(&P, "Content-Type", 0) == NULL, "lookup names are lowercase");
}

static void test_split_every_byte(void)
{
	const char *msgs[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nA: b\r\n\r\nhello world",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",
		"HTTP/1.1 200 OK\nContent-Length: 11\n\nhello world",
	};
	size_t i, len, cut;

	for (i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		int bad = 0;

		len = strlen(msgs[i]);
		for (cut = 1; cut <= len; cut++) {
			struct result r = run(msgs[i], len, cut, false, 0);

			if (r.last != RT_HTTP_EV_DONE || r.blen != 11 ||
			    memcmp(r.body, "hello world", 11) != 0 || r.heads != 1) {
				bad++;
				if (bad == 1)
					printf("# msg %zu step %zu: ev %d blen %zu why %s\n", i, cut,
					       r.last, r.blen, r.why ? r.why : "-");
			}
		}
		is_int(bad, 0, "message %zu parses the same in pieces of every size", i);
	}
}

static void test_chunked(void)
{
	struct result r;

	r = run_s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "A\r\n0123456789\r\n0\r\n\r\n", 0);
	is_int(r.last, RT_HTTP_EV_DONE, "chunked done");
	is_int(r.blen, 10, "hex chunk size");
	ok(P.chunked, "chunked flag");
	r = run_s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "FFFFFFFFFFFFFFFFF\r\n", 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "chunk size over 64 bits refused");
	r = run_s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "8000000000000000\r\n", 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "chunk size over 63 bits refused");
	r = run_s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "3\r\nabcX\r\n0\r\n\r\n", 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "chunk longer than its size refused");
	r = run_s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "non-hex chunk size refused");
	r = run_s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "empty chunk size refused");
	r = run_s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\rX", 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "CR without LF in chunk line refused");
	r = run_e("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", false, 1);
	is_int(r.last, RT_HTTP_EV_ERROR, "EOF inside a chunk is an error");
	{
		/* a trailer that never ends */
		static char m[RT_HTTP_MAX_TRAILER + 200];
		int n = snprintf(m, sizeof m, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");

		memset(m + n, 'a', sizeof m - (size_t)n - 1);
		m[sizeof m - 1] = 0;
		r = run_s(m, 0);
		is_int(r.last, RT_HTTP_EV_ERROR, "endless trailer refused");
	}
	{
		/* an endless chunk extension */
		static char m[RT_HTTP_MAX_LINE + 200];
		int n = snprintf(m, sizeof m, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;");

		memset(m + n, 'a', sizeof m - (size_t)n - 1);
		m[sizeof m - 1] = 0;
		r = run_s(m, 0);
		is_int(r.last, RT_HTTP_EV_ERROR, "endless chunk extension refused");
	}
}

static void test_framing(void)
{
	struct result r;

	r = run_e("HTTP/1.1 200 OK\r\n\r\nall of it", false, 1);
	is_int(r.last, RT_HTTP_EV_DONE, "body until close ends at EOF");
	is_int(r.blen, 9, "close-delimited body");
	ok(!P.keep_alive, "close-delimited body ends the connection");
	r = run_e("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false, 1);
	is_int(r.last, RT_HTTP_EV_ERROR, "EOF before Content-Length is an error");
	r = run_e("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n", false, 1);
	is_int(r.last, RT_HTTP_EV_ERROR, "EOF in the head is an error");
	r = run_s("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 0);
	is_int(r.last, RT_HTTP_EV_DONE, "204 has no body");
	ok(rt_http_bodyless(&P), "bodyless after 204");
	r = run_e("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true, 0);
	is_int(r.last, RT_HTTP_EV_DONE, "HEAD response has no body");
	is_int(P.length, 10, "HEAD still reports Content-Length");
	r = run_s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	is_int(r.last, RT_HTTP_EV_DONE, "zero length body");
	r = run_s("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	ok(r.last == RT_HTTP_EV_DONE && !P.keep_alive, "HTTP/1.0 closes by default");
	r = run_s("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", 0);
	ok(r.last == RT_HTTP_EV_DONE && !P.keep_alive, "Connection: close token");
	r = run_s("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "Content-Length beyond 63 bits refused");
	r = run_s("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775000\r\n\r\nab", 0);
	is_int(r.heads, 1, "large Content-Length accepted");
}

static void test_hostile(void)
{
	static const struct { const char *m; const char *what; } bad[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "conflicting Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", "list Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "negative Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", "signed Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "empty Content-Length" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "CL and TE" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "TE other than chunked" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "TE twice" },
		{ "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "obs-fold" },
		{ "HTTP/1.1 200 OK\r\nA b: c\r\n\r\n", "space in name" },
		{ "HTTP/1.1 200 OK\r\nA : c\r\n\r\n", "space before colon" },
		{ "HTTP/1.1 200 OK\r\n: c\r\n\r\n", "empty name" },
		{ "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", "no colon" },
		{ "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "bare CR" },
		{ "HTTP/1.1 200 OK\r\nA: b\x01" "c\r\n\r\n", "control char" },
		{ "HTTP/1.1 200 OK\r\nA\xc3\xa9: b\r\n\r\n", "8-bit name" },
		{ "HTTP/1.1 2000 OK\r\n\r\n", "4-digit status" },
		{ "HTTP/1.1 20 OK\r\n\r\n", "2-digit status" },
		{ "HTTP/2 200 OK\r\n\r\n", "HTTP/2 status line" },
		{ "HTTP/1.1 099 OK\r\n\r\n", "status below 100" },
		{ "HTTP/1.1 101 Switching\r\n\r\n", "protocol switch" },
		{ "http/1.1 200 OK\r\n\r\n", "lowercase protocol" },
		{ "garbage\r\n\r\n", "garbage" },
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct result r = run_s(bad[i].m, 0);

		is_int(r.last, RT_HTTP_EV_ERROR, "refused: %s", bad[i].what);
	}
	{
		struct result r = run_s("HTTP/1.1 200 OK\r\nA: b\xc3\xa9\r\nContent-Length: 0\r\n\r\n", 0);

		is_int(r.last, RT_HTTP_EV_DONE, "8-bit bytes allowed in values");
	}
	{
		/* error is sticky */
		enum rt_http_ev ev;
		const uint8_t *d;
		size_t dl;

		run_s("garbage\r\n", 0);
		ok(rt_http_push(&P, "HTTP/1.1 200 OK\r\n\r\n", 19, &ev, &d, &dl) == 0 &&
		   ev == RT_HTTP_EV_ERROR, "errors are sticky");
	}
}

static void test_limits(void)
{
	static char m[80000];
	struct result r;
	int n, i;

	/* too many headers */
	n = snprintf(m, sizeof m, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i <= RT_HTTP_MAX_HEADERS; i++)
		n += snprintf(m + n, sizeof m - (size_t)n, "X-%d: y\r\n", i);
	snprintf(m + n, sizeof m - (size_t)n, "\r\n");
	r = run_s(m, 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "more than %d headers refused", RT_HTTP_MAX_HEADERS);
	ok(r.why && strstr(r.why, "too many"), "says too many headers");

	/* exactly the limit passes */
	n = snprintf(m, sizeof m, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < RT_HTTP_MAX_HEADERS - 1; i++)
		n += snprintf(m + n, sizeof m - (size_t)n, "X-%d: y\r\n", i);
	snprintf(m + n, sizeof m - (size_t)n, "Content-Length: 0\r\n\r\n");
	r = run_s(m, 0);
	is_int(r.last, RT_HTTP_EV_DONE, "%d headers accepted", RT_HTTP_MAX_HEADERS);

	/* a header line longer than the line limit */
	n = snprintf(m, sizeof m, "HTTP/1.1 200 OK\r\nX: ");
	memset(m + n, 'a', RT_HTTP_MAX_LINE + 10);
	snprintf(m + n + RT_HTTP_MAX_LINE + 10, 10, "\r\n\r\n");
	r = run_s(m, 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "header line over the limit refused");

	/* an endless status line */
	memset(m, 'H', sizeof m - 1);
	m[sizeof m - 1] = 0;
	r = run_s(m, 0);
	is_int(r.last, RT_HTTP_EV_ERROR, "endless status line refused");

	/* many lines, each short, overflowing the buffer */
	rt_http_parser_init(&P, hbuf, 64, false);
	{
		const char *s = "HTTP/1.1 200 OK\r\nAaaaaaaaaa: 0123456789012345678901234567890\r\n"
				"Bbbbbbbbbb: 0123456789012345678901234567890\r\n\r\n";
		enum rt_http_ev ev = RT_HTTP_EV_NONE;
		const uint8_t *d;
		size_t dl;

		rt_http_push(&P, s, strlen(s), &ev, &d, &dl);
		is_int(ev, RT_HTTP_EV_ERROR, "head larger than the buffer refused");
	}

	/* endless 1xx responses are bounded by nothing but the input, and
	 * each one is parsed in constant memory */
	n = 0;
	for (i = 0; i < 1000; i++)
		n += snprintf(m + n, sizeof m - (size_t)n, "HTTP/1.1 100 Continue\r\n\r\n");
	snprintf(m + n, sizeof m - (size_t)n, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	r = run_s(m, 0);
	is_int(r.last, RT_HTTP_EV_DONE, "1xx responses skipped");
	is_int(P.status, 200, "final status after 1xx");
}

static void test_challenge(void)
{
	struct rt_http_challenge c;
	struct rt_err e;
	char buf[512];

	ok(rt_http_challenge_parse(&c, "Bearer realm=\"https://auth.docker.io/token\","
				   "service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"",
				   buf, sizeof buf, &e) == 0, "docker hub challenge parses");
	is_str(c.scheme, "Bearer", "scheme");
	is_str(rt_http_challenge_param(&c, "realm"), "https://auth.docker.io/token", "realm");
	is_str(rt_http_challenge_param(&c, "SERVICE"), "registry.docker.io", "params case-insensitive");
	is_str(rt_http_challenge_param(&c, "scope"), "repository:library/busybox:pull", "scope");
	ok(rt_http_challenge_parse(&c, "Basic realm=x, Bearer realm=\"y\"", buf, sizeof buf, &e) == 0 &&
	   !strcmp(c.scheme, "Basic") && c.nparam == 1, "first of two challenges");
	ok(rt_http_challenge_parse(&c, "Bearer realm = \"a\\\"b\" , x=y", buf, sizeof buf, &e) == 0 &&
	   !strcmp(rt_http_challenge_param(&c, "realm"), "a\"b") &&
	   !strcmp(rt_http_challenge_param(&c, "x"), "y"), "quoted-pair and BWS");
	ok(rt_http_challenge_parse(&c, "Bearer realm=\"a\",realm=\"b\"", buf, sizeof buf, &e) < 0,
	   "duplicate parameter refused");
	ok(rt_http_challenge_parse(&c, "Bearer realm=\"abc", buf, sizeof buf, &e) < 0,
	   "unterminated string refused");
	ok(rt_http_challenge_parse(&c, "", buf, sizeof buf, &e) < 0, "empty refused");
	ok(rt_http_challenge_parse(&c, "Bearer realm=\"a\" junk", buf, sizeof buf, &e) < 0,
	   "junk after a parameter refused");
	ok(rt_http_challenge_parse(&c, "Bearer realm=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
				   buf, 20, &e) < 0, "too long for the buffer refused");
	ok(rt_http_challenge_parse(&c, "Bearer a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9",
				   buf, sizeof buf, &e) < 0, "too many parameters refused");
	ok(rt_http_challenge_parse(&c, "Bearer", buf, sizeof buf, &e) == 0 && c.nparam == 0,
	   "scheme alone");
}

static void test_url(void)
{
	struct rt_http_url u, v;
	struct rt_err e;

	ok(rt_http_url_parse(&u, "https://Registry.Example:5000/v2/?x=1", &e) == 0, "url parses");
	ok(u.https && u.port == 5000, "scheme and port");
	is_str(u.host, "registry.example", "host lowercased");
	is_str(u.path, "/v2/?x=1", "path and query");
	ok(rt_http_url_parse(&u, "http://[::1]:8080", &e) == 0 && !strcmp(u.host, "::1") &&
	   u.port == 8080 && !strcmp(u.path, "/"), "IPv6 literal");
	ok(rt_http_url_parse(&u, "https://user:pw@host/", &e) < 0, "userinfo refused");
	ok(rt_http_url_parse(&u, "ftp://host/", &e) < 0, "other schemes refused");
	ok(rt_http_url_parse(&u, "https://host:0/", &e) < 0, "port 0 refused");
	ok(rt_http_url_parse(&u, "https://host:65536/", &e) < 0, "port 65536 refused");
	ok(rt_http_url_parse(&u, "https://host/a b", &e) < 0, "space in path refused");
	ok(rt_http_url_parse(&u, "https://ho\rst/", &e) < 0, "CR in host refused");
	ok(rt_http_url_parse(&u, "https://host/a#frag", &e) == 0 && !strcmp(u.path, "/a"),
	   "fragment dropped");
	rt_http_url_parse(&u, "https://a.example/v2/x/blobs/sha256:1", &e);
	ok(rt_http_url_resolve(&v, &u, "/other?sig=1", &e) == 0 && !strcmp(v.host, "a.example") &&
	   !strcmp(v.path, "/other?sig=1") && v.https, "absolute path redirect");
	ok(rt_http_url_resolve(&v, &u, "//b.example/p", &e) == 0 && !strcmp(v.host, "b.example") &&
	   v.https, "network-path redirect keeps the scheme");
	ok(rt_http_url_resolve(&v, &u, "http://c.example:81/p", &e) == 0 && !v.https &&
	   v.port == 81, "absolute URL redirect");
	ok(rt_http_url_resolve(&v, &u, "rel", &e) == 0 && !strcmp(v.path, "/v2/x/blobs/rel"),
	   "relative redirect");
}

static void test_request(void)
{
	struct rt_http_url u;
	struct rt_http_req r = { .method = "GET", .url = NULL, .authorization = "Bearer abc",
				 .accept = "a/b", .range_from = 100 };
	struct rt_err e;
	char buf[1024];
	ssize_t n;

	rt_http_url_parse(&u, "https://h.example/v2/", &e);
	n = rt_http_format_request(buf, sizeof buf, &r, &u, false, "rt", &e);
	ok(n > 0, "request formats");
	is_str(buf, "GET /v2/ HTTP/1.1\r\nHost: h.example\r\nUser-Agent: rt\r\nAccept: a/b\r\n"
		    "Authorization: Bearer abc\r\nRange: bytes=100-\r\n\r\n", "request bytes");
	rt_http_url_parse(&u, "http://h.example:5000/v2/", &e);
	r.authorization = NULL;
	r.accept = NULL;
	r.range_from = 0;
	n = rt_http_format_request(buf, sizeof buf, &r, &u, true, "rt", &e);
	ok(n > 0, "absolute-form request formats");
	is_str(buf, "GET http://h.example:5000/v2/ HTTP/1.1\r\nHost: h.example:5000\r\n"
		    "User-Agent: rt\r\n\r\n", "absolute-form for a proxy");
	r.authorization = "Bearer x\r\nEvil: 1";
	ok(rt_http_format_request(buf, sizeof buf, &r, &u, false, "rt", &e) < 0,
	   "header injection refused");
	r.authorization = NULL;
	ok(rt_http_format_request(buf, 20, &r, &u, false, "rt", &e) < 0, "small buffer refused");
}

static void test_no_proxy(void)
{
	ok(rt_http_no_proxy("*", "x.example", 443), "* matches all");
	ok(rt_http_no_proxy("example.com", "example.com", 443), "exact");
	ok(rt_http_no_proxy("example.com", "r.example.com", 443), "subdomain");
	ok(rt_http_no_proxy(".example.com", "r.example.com", 443), "leading dot");
	ok(!rt_http_no_proxy("example.com", "badexample.com", 443), "not a suffix match");
	ok(rt_http_no_proxy("a, b ,127.0.0.1", "127.0.0.1", 5000), "list with spaces");
	ok(rt_http_no_proxy("h:5000", "h", 5000) && !rt_http_no_proxy("h:5000", "h", 443), "port");
	ok(!rt_http_no_proxy("", "h", 1) && !rt_http_no_proxy(NULL, "h", 1), "empty list");
}

int main(void)
{
	test_basic();
	test_split_every_byte();
	test_chunked();
	test_framing();
	test_hostile();
	test_limits();
	test_challenge();
	test_url();
	test_request();
	test_no_proxy();
	return done_testing();
}
