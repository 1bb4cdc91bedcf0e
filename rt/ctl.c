#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

void rt_ctl_rd_init(struct rt_ctl_rd *r, void *buf, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->buf = buf;
	r->cap = cap < RT_CTL_MAX ? cap : RT_CTL_MAX;
}

static int known_type(int t)
{
	return t == RT_CTL_JSON || t == RT_CTL_OUT || t == RT_CTL_ERR;
}

size_t rt_ctl_push(struct rt_ctl_rd *r, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t used = 0, n;

	if (r->ready || r->err)
		return 0;
	while (r->hlen < RT_CTL_HDR && used < len)
		r->hdr[r->hlen++] = p[used++];
	if (r->hlen < RT_CTL_HDR)
		return used;
	if (r->hlen == RT_CTL_HDR && r->got == 0 && r->len == 0 && !r->type) {
		r->type = r->hdr[0];
		r->len = (uint32_t)r->hdr[1] << 16 | (uint32_t)r->hdr[2] << 8 | r->hdr[3];
		if (!known_type(r->type)) {
			r->err = EPROTO;
			return used;
		}
		if (r->len > r->cap) {
			r->err = EMSGSIZE;
			return used;
		}
	}
	n = r->len - r->got;
	if (n > len - used)
		n = len - used;
	if (n)
		memcpy(r->buf + r->got, p + used, n);
	r->got += (uint32_t)n;
	used += n;
	if (r->got == r->len)
		r->ready = 1;
	return used;
}

size_t rt_ctl_want(const struct rt_ctl_rd *r)
{
	if (r->ready || r->err)
		return 0;
	if (r->hlen < RT_CTL_HDR)
		return RT_CTL_HDR - r->hlen;
	return r->len - r->got;
}

void rt_ctl_rd_next(struct rt_ctl_rd *r)
{
	if (r->err)
		return;
	r->hlen = 0;
	r->type = 0;
	r->len = r->got = 0;
	r->ready = 0;
}

int rt_ctl_rd_check(const struct rt_ctl_rd *r, struct rt_err *e)
{
	if (r->err == EMSGSIZE)
		return rt_err_set(e, EMSGSIZE, "control frame longer than %zu bytes", r->cap);
	if (r->err)
		return rt_err_set(e, EPROTO, "bad control frame type 0x%02x", r->hdr[0]);
	return 0;
}

int rt_ctl_hdr(uint8_t hdr[RT_CTL_HDR], int type, size_t len)
{
	if (len > RT_CTL_MAX || !known_type(type))
		return -1;
	hdr[0] = (uint8_t)type;
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	return 0;
}

ssize_t rt_ctl_recv(int fd, void *buf, size_t len, int *fds, int *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * RT_CTL_MAXFD * 2)];
	} u;
	struct iovec iov = { buf, len };
	struct msghdr m = { 0 };
	struct cmsghdr *c;
	ssize_t n;

	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.b;
	m.msg_controllen = sizeof u.b;
	do
		n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t i, k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			if (fds && nfds && *nfds < RT_CTL_MAXFD)
				fds[(*nfds)++] = f;
			else
				close(f);
		}
	}
	/* With MSG_CTRUNC some fds were dropped by the kernel: those that
	   came are kept and counted, the request decides if enough came. */
	return n;
}

int rt_ctl_send(int fd, int type, const void *p, size_t len,
		const int *fds, int nfds, struct rt_err *e)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * RT_CTL_MAXFD)];
	} u;
	uint8_t hdr[RT_CTL_HDR];
	struct iovec iov[2];
	struct msghdr m = { 0 };
	size_t total, sent = 0;

	if (nfds < 0 || nfds > RT_CTL_MAXFD || rt_ctl_hdr(hdr, type, len) < 0)
		return rt_err_set(e, EMSGSIZE, "control frame too long (%zu bytes)", len);
	total = RT_CTL_HDR + len;
	while (sent < total) {
		ssize_t n;
		int k = 0;

		if (sent < RT_CTL_HDR) {
			iov[k].iov_base = hdr + sent;
			iov[k++].iov_len = RT_CTL_HDR - sent;
			if (len) {
				iov[k].iov_base = (void *)p;
				iov[k++].iov_len = len;
			}
		} else {
			iov[k].iov_base = (uint8_t *)p + (sent - RT_CTL_HDR);
			iov[k++].iov_len = total - sent;
		}
		memset(&m, 0, sizeof m);
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)k;
		if (sent == 0 && nfds > 0) {
			struct cmsghdr *c;

			memset(&u, 0, sizeof u);
			m.msg_control = u.b;
			m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
			c = CMSG_FIRSTHDR(&m);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
		}
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rt_err_sys(e, "send to the control socket");
		}
		sent += (size_t)n;
	}
	return 0;
}

int rt_ctl_read_frame(int fd, struct rt_ctl_rd *r, int *fds, int *nfds,
		      struct rt_err *e)
{
	uint8_t tmp[4096];

	rt_ctl_rd_next(r);
	while (!r->ready) {
		size_t want = rt_ctl_want(r);
		ssize_t n;

		if (rt_ctl_rd_check(r, e) < 0)
			return -1;
		n = rt_ctl_recv(fd, tmp, want < sizeof tmp ? want : sizeof tmp, fds, nfds);
		if (n < 0)
			return rt_err_sys(e, "read from the control socket");
		if (n == 0) {
			if (r->hlen == 0)
				return 0;
			return rt_err_set(e, EPROTO, "control connection closed mid-frame");
		}
		rt_ctl_push(r, tmp, (size_t)n);
	}
	return 1;
}

static int fill_addr(struct sockaddr_un *a, const char *path, struct rt_err *e)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	/* A path-based socket only: an empty path would be abstract. */
	if (!*path || strlen(path) >= sizeof a->sun_path)
		return rt_err_set(e, ENAMETOOLONG, "socket path '%s' is empty or too long", path);
	memcpy(a->sun_path, path, strlen(path) + 1);
	return 0;
}

int rt_ctl_connect(const char *path, struct rt_err *e)
{
	struct sockaddr_un a;
	int fd;

	if (fill_addr(&a, path, e) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rt_err_sys(e, "socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		rt_err_sys(e, "%s", path);
		close(fd);
		return -1;
	}
	return fd;
}

int rt_ctl_listen(const char *path, struct rt_err *e)
{
	struct sockaddr_un a;
	mode_t old;
	int fd, r;

	if (fill_addr(&a, path, e) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return rt_err_sys(e, "socket");
	/* A live daemon answers; only a dead one's socket is replaced. */
	{
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof a) == 0) {
			close(probe);
			close(fd);
			return rt_err_set(e, EADDRINUSE, "another rt daemon is listening on %s", path);
		}
		if (probe >= 0)
			close(probe);
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		rt_err_sys(e, "remove stale %s", path);
		close(fd);
		return -1;
	}
	/* The umask makes the socket 0600 from birth: no window where another
	   user could connect. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (r < 0 || listen(fd, 64) < 0) {
		rt_err_sys(e, "listen on %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

static const char *const opnames[] = {
	[RT_OP_PS] = "ps", [RT_OP_CREATE] = "create", [RT_OP_START] = "start",
	[RT_OP_STOP] = "stop", [RT_OP_RESTART] = "restart", [RT_OP_KILL] = "kill",
	[RT_OP_RM] = "rm", [RT_OP_LOGS] = "logs", [RT_OP_WAIT] = "wait",
	[RT_OP_INSPECT] = "inspect", [RT_OP_EXEC] = "exec",
	[RT_OP_VOLUME_USERS] = "volume-users",
};

static int opt_bool(const struct rt_json *j, const char *key, int *out, struct rt_err *e)
{
	int t = rt_json_find(j, 0, key);
	bool b;

	*out = 0;
	if (t < 0)
		return 0;
	if (rt_json_bool(j, t, &b, e) < 0)
		return rt_err_set(e, EINVAL, "request field '%s' is not a boolean", key);
	*out = b;
	return 0;
}

static int opt_int(const struct rt_json *j, const char *key, int64_t def,
		   int64_t min, int64_t max, int64_t *out, struct rt_err *e)
{
	int t = rt_json_find(j, 0, key);

	*out = def;
	if (t < 0)
		return 0;
	if (rt_json_i64(j, t, out, e) < 0 || *out < min || *out > max)
		return rt_err_set(e, EINVAL, "request field '%s' is not an integer in [%lld, %lld]",
				  key, (long long)min, (long long)max);
	return 0;
}

int rt_ctl_req_parse(struct rt_ctl_req *q, const char *buf, size_t len,
		     struct rt_json_tok *tok, size_t ntok, struct rt_err *e)
{
	struct rt_json j;
	size_t i;
	int t;

	memset(q, 0, sizeof *q);
	if (rt_json_parse(&j, buf, len, tok, ntok, 16, e) < 0)
		return rt_err_wrap(e, "request");
	if (rt_json_type(&j, 0) != RT_JSON_OBJECT)
		return rt_err_set(e, EINVAL, "request is not a JSON object");
	t = rt_json_find(&j, 0, "op");
	for (i = 0; i < sizeof opnames / sizeof opnames[0]; i++)
		if (rt_json_streq(&j, t, opnames[i]))
			break;
	if (i == sizeof opnames / sizeof opnames[0])
		return rt_err_set(e, EINVAL, "request has no known \"op\"");
	q->op = (enum rt_ctl_op)i;
	t = rt_json_find(&j, 0, "id");
	if (t >= 0 && rt_json_str(&j, t, q->ref, sizeof q->ref, e) < 0)
		return rt_err_set(e, EINVAL, "request field 'id' is not a string of at most %d bytes",
				  RT_CTL_REF - 1);
	if (opt_bool(&j, "all", &q->all, e) < 0 || opt_bool(&j, "force", &q->force, e) < 0 ||
	    opt_bool(&j, "follow", &q->follow, e) < 0 ||
	    opt_bool(&j, "timestamps", &q->timestamps, e) < 0 ||
	    opt_bool(&j, "attach", &q->attach, e) < 0 ||
	    opt_bool(&j, "stdin", &q->stdin_open, e) < 0 || opt_bool(&j, "tty", &q->tty, e) < 0 ||
	    opt_int(&j, "timeout", -1, -1, 86400 * 366, &q->timeout, e) < 0 ||
	    opt_int(&j, "signal", 0, 0, 64, &q->signal, e) < 0 ||
	    opt_int(&j, "tail", -1, -1, INT32_MAX, &q->tail, e) < 0)
		return -1;
	t = rt_json_find(&j, 0, q->op == RT_OP_EXEC ? "exec" : "config");
	if (t >= 0) {
		if (rt_json_type(&j, t) != RT_JSON_OBJECT)
			return rt_err_set(e, EINVAL, "request field is not an object");
		q->obj = buf + j.tok[t].start;
		q->objlen = j.tok[t].len;
	}
	if ((q->op == RT_OP_CREATE || q->op == RT_OP_EXEC) && !q->obj)
		return rt_err_set(e, EINVAL, "%s request without its object", opnames[q->op]);
	if (q->op != RT_OP_PS && q->op != RT_OP_CREATE && !q->ref[0])
		return rt_err_set(e, EINVAL, "%s request names no container", opnames[q->op]);
	return 0;
}
