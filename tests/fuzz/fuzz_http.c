/* The response parser must give the same result however the input is cut
 * into pieces, never run past its buffers, and never stall. The first
 * input byte picks the piece size and the mode; the rest is the response.
 * The same bytes also go through the WWW-Authenticate and URL parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	enum rt_http_ev ev;
	int status;
	uint64_t body;
	uint32_t sum;
	size_t consumed;
};

static struct out parse(const uint8_t *in, size_t len, size_t step, bool head)
{
	static char buf[2048];
	struct rt_http_parser p;
	struct out o = { RT_HTTP_EV_NONE, 0, 0, 0, 0 };
	size_t off = 0;

	rt_http_parser_init(&p, buf, sizeof buf, head);
	for (;;) {
		size_t n = step && len - off > step ? step : len - off, used, dl, i;
		enum rt_http_ev ev;
		const uint8_t *d;

		used = rt_http_push(&p, in + off, n, &ev, &d, &dl);
		if (used > n)
			abort();
		if (ev == RT_HTTP_EV_BODY) {
			if (d < in + off || d + dl > in + off + used)
				abort();
			o.body += dl;
			for (i = 0; i < dl; i++)
				o.sum = o.sum * 31 + d[i];
		}
		if (ev == RT_HTTP_EV_HEAD) {
			o.status = p.status;
			if (p.status < 100 || p.status > 999)
				abort();
			(void)rt_http_header(&p, "content-length", 0);
		}
		off += used;
		if (ev == RT_HTTP_EV_DONE || ev == RT_HTTP_EV_ERROR) {
			o.ev = ev;
			break;
		}
		if (off == len) {
			o.ev = rt_http_eof(&p);
			break;
		}
		if (used == 0 && ev == RT_HTTP_EV_NONE)
			abort();        /* stalled with input left */
	}
	o.consumed = off;
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out a, b;
	size_t step;
	bool head;

	if (size < 1)
		return 0;
	step = (data[0] & 0x3f) + 1;
	head = data[0] & 0x40;
	data++;
	size--;
	a = parse(data, size, 0, head);
	b = parse(data, size, step, head);
	/* The head limit counts bytes per line and in the buffer alike, so
	 * the verdict must not depend on the cut. */
	if (a.ev != b.ev || a.status != b.status || a.body != b.body || a.sum != b.sum ||
	    (a.ev == RT_HTTP_EV_DONE && a.consumed != b.consumed))
		abort();

	if (size < 4096) {
		char s[4097], buf[512];
		struct rt_http_challenge c;
		struct rt_http_url u, v;
		struct rt_err e;
		unsigned i;

		memcpy(s, data, size);
		s[size] = 0;
		if (rt_http_challenge_parse(&c, s, buf, sizeof buf, &e) == 0) {
			if (!c.scheme || c.nparam > RT_HTTP_MAX_PARAMS)
				abort();
			for (i = 0; i < c.nparam; i++)
				if (strlen(c.name[i]) == 0 || !rt_http_challenge_param(&c, c.name[i]))
					abort();
		}
		if (rt_http_url_parse(&u, s, &e) == 0) {
			if (u.path[0] != '/' || !u.host[0] || !u.port)
				abort();
			if (rt_http_url_resolve(&v, &u, s + size / 2, &e) == 0 && v.path[0] != '/')
				abort();
		}
		(void)rt_http_no_proxy(s, "registry.example", 443);
	}
	return 0;
}
