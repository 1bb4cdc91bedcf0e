/* Control protocol: framing byte by byte and in one go, limits, sticky
 * errors, fd passing over a socketpair, requests. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "tap.h"

static uint8_t pbuf[RT_CTL_MAX];

static size_t frame(uint8_t *out, int type, const char *payload, size_t len)
{
	rt_ctl_hdr(out, type, len);
	memcpy(out + RT_CTL_HDR, payload, len);
	return RT_CTL_HDR + len;
}

static void framing(void)
{
	struct rt_ctl_rd r;
	struct rt_err e;
	uint8_t in[256];
	size_t n, i, used;

	rt_ctl_rd_init(&r, pbuf, sizeof pbuf);
	n = frame(in, RT_CTL_JSON, "{\"op\":\"ps\"}", 11);
	n += frame(in + n, RT_CTL_OUT, "hello", 5);
	is_int(rt_ctl_want(&r), 4, "wants a header first");
	used = rt_ctl_push(&r, in, n);
	is_int(used, 15, "one frame consumed, not the next");
	ok(r.ready && r.type == 'J' && r.len == 11 && !memcmp(r.buf, "{\"op\":\"ps\"}", 11), "JSON frame");
	is_int(rt_ctl_push(&r, in + used, n - used), 0, "nothing consumed while a frame is ready");
	rt_ctl_rd_next(&r);
	used += rt_ctl_push(&r, in + used, n - used);
	ok(r.ready && r.type == 'O' && r.len == 5 && used == n, "data frame");

	/* Byte by byte gives the same. */
	rt_ctl_rd_init(&r, pbuf, sizeof pbuf);
	for (i = 0; i < 15; i++) {
		ok(rt_ctl_want(&r) > 0 && !r.ready, "byte %zu: not ready", i);
		is_int(rt_ctl_push(&r, in + i, 1), 1, "byte %zu consumed", i);
	}
	ok(r.ready && r.len == 11, "byte by byte: ready");
	is_int(rt_ctl_want(&r), 0, "wants nothing when ready");

	/* Empty payload. */
	rt_ctl_rd_init(&r, pbuf, sizeof pbuf);
	n = frame(in, RT_CTL_ERR, "", 0);
	rt_ctl_push(&r, in, n);
	ok(r.ready && r.len == 0, "empty frame");

	/* Oversized: refused from the header alone, sticky. */
	rt_ctl_rd_init(&r, pbuf, 100);
	in[0] = 'J';
	in[1] = 0;
	in[2] = 0;
	in[3] = 101;
	rt_ctl_push(&r, in, 4);
	ok(rt_ctl_rd_check(&r, &e) < 0 && e.errnum == EMSGSIZE, "frame over the cap refused");
	is_int(rt_ctl_push(&r, in, 4), 0, "sticky: nothing consumed after an error");
	is_int(rt_ctl_want(&r), 0, "sticky: nothing wanted");
	rt_ctl_rd_next(&r);
	ok(rt_ctl_rd_check(&r, &e) < 0, "next does not clear an error");
	rt_ctl_rd_init(&r, pbuf, sizeof pbuf);
	in[1] = 0xff;
	in[2] = 0xff;
	in[3] = 0xff;
	rt_ctl_push(&r, in, 4);
	ok(rt_ctl_rd_check(&r, &e) < 0, "16 MiB frame refused");
	/* A cap above RT_CTL_MAX is clamped. */
	{
		static uint8_t big[RT_CTL_MAX + 10];

		rt_ctl_rd_init(&r, big, sizeof big);
		is_int(r.cap, RT_CTL_MAX, "cap clamped to RT_CTL_MAX");
	}
	/* Bad type. */
	rt_ctl_rd_init(&r, pbuf, sizeof pbuf);
	rt_ctl_push(&r, "X\0\0\1", 4);
	ok(rt_ctl_rd_check(&r, &e) < 0 && e.errnum == EPROTO, "unknown frame type refused");
	ok(rt_ctl_hdr(in, 'J', RT_CTL_MAX + 1) < 0, "header for too long a payload refused");
	ok(rt_ctl_hdr(in, 'Q', 1) < 0, "header of an unknown type refused");
}

static void sockets(void)
{
	struct rt_ctl_rd r;
	struct rt_err e;
	int sv[2], p[2], fds[RT_CTL_MAXFD], nfds = 0;
	char c;

	ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
	ok(pipe(p) == 0, "pipe");
	ok(rt_ctl_send(sv[0], RT_CTL_JSON, "{\"a\":1}", 7, &p[1], 1, &e) == 0, "send with an fd");
	ok(rt_ctl_send(sv[0], RT_CTL_OUT, "xyz", 3, NULL, 0, &e) == 0, "send data");
	rt_ctl_rd_init(&r, pbuf, sizeof pbuf);
	is_int(rt_ctl_read_frame(sv[1], &r, fds, &nfds, &e), 1, "read frame");
	ok(r.type == 'J' && r.len == 7, "got the JSON frame");
	is_int(nfds, 1, "one fd came with it");
	if (nfds == 1) {
		ok(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, "passed fd is close-on-exec");
		ok(write(fds[0], "!", 1) == 1 && read(p[0], &c, 1) == 1 && c == '!',
		   "passed fd is the pipe's write end");
		close(fds[0]);
	}
	is_int(rt_ctl_read_frame(sv[1], &r, fds, &nfds, &e), 1, "second frame");
	ok(r.type == 'O' && r.len == 3 && !memcmp(r.buf, "xyz", 3), "data frame intact");
	/* Half a frame then EOF. */
	ok(write(sv[0], "J\0\0\5ab", 6) == 6, "half a frame");
	shutdown(sv[0], SHUT_WR);
	nfds = 0;
	is_int(rt_ctl_read_frame(sv[1], &r, fds, &nfds, &e), -1, "EOF mid-frame is an error");
	close(sv[0]);
	close(sv[1]);
	/* Clean EOF between frames. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	close(sv[0]);
	rt_ctl_rd_init(&r, pbuf, sizeof pbuf);
	is_int(rt_ctl_read_frame(sv[1], &r, fds, &nfds, &e), 0, "EOF between frames is 0");
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	/* More fds than a frame may carry are closed, not leaked. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	{
		int many[RT_CTL_MAXFD] = { 0, 1, 2 }, before, after, k;

		before = fcntl(100, F_GETFD);
		rt_ctl_send(sv[0], RT_CTL_JSON, "{}", 2, many, 3, &e);
		rt_ctl_send(sv[0], RT_CTL_JSON, "{}", 2, many, 3, &e);
		nfds = 0;
		rt_ctl_rd_init(&r, pbuf, sizeof pbuf);
		rt_ctl_read_frame(sv[1], &r, fds, &nfds, &e);
		rt_ctl_read_frame(sv[1], &r, fds, &nfds, &e);
		is_int(nfds, 3, "fds beyond RT_CTL_MAXFD dropped");
		for (k = 0; k < nfds; k++)
			close(fds[k]);
		after = fcntl(100, F_GETFD);
		ok(before == after, "no fd leaked");
	}
	close(sv[0]);
	close(sv[1]);
	ok(rt_ctl_connect("", &e) < 0, "empty socket path (abstract) refused");
}

static void requests(void)
{
	struct rt_json_tok tok[64];
	struct rt_ctl_req q;
	struct rt_err e;
	const char *s;

	s = "{\"op\":\"ps\",\"all\":true}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) == 0 && q.op == RT_OP_PS && q.all, "ps -a");
	s = "{\"op\":\"stop\",\"id\":\"web\",\"timeout\":3}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) == 0 && q.op == RT_OP_STOP &&
	   !strcmp(q.ref, "web") && q.timeout == 3, "stop -t 3 web");
	s = "{\"op\":\"logs\",\"id\":\"x\"}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) == 0 && q.tail == -1 && q.timeout == -1,
	   "defaults");
	s = "{\"op\":\"create\",\"config\":{\"cmd\":[\"sh\"]}}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) == 0 && q.objlen == 14 &&
	   !memcmp(q.obj, "{\"cmd\":[\"sh\"]}", 14), "create carries its config object");
	s = "{\"op\":\"create\"}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) < 0, "create without config refused");
	s = "{\"op\":\"stop\"}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) < 0, "stop without id refused");
	s = "{\"op\":\"explode\",\"id\":\"x\"}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) < 0, "unknown op refused");
	s = "[\"op\"]";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) < 0, "not an object refused");
	s = "{\"op\":\"kill\",\"id\":\"x\",\"signal\":65}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) < 0, "signal out of range refused");
	s = "{\"op\":\"kill\",\"id\":\"x\",\"force\":1}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) < 0, "non-boolean flag refused");
	s = "{\"op\":\"kill\",\"id\":\"x\",\"op\":\"rm\"}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) < 0, "duplicate key refused");
	s = "{\"op\":\"ps\",\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}";
	ok(rt_ctl_req_parse(&q, s, strlen(s), tok, 64, &e) < 0, "deep nesting refused");
	{
		char big[600];

		memset(big, 'a', sizeof big);
		memcpy(big, "{\"op\":\"rm\",\"id\":\"", 17);
		memcpy(big + sizeof big - 2, "\"}", 2);
		ok(rt_ctl_req_parse(&q, big, sizeof big, tok, 64, &e) < 0, "overlong id refused");
	}
}

int main(void)
{
	framing();
	sockets();
	requests();
	return done_testing();
}
