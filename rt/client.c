/* The CLI's end of the control connection: Docker-style flags, dialling
 * the supervisor, one request and its reply, attached streams and
 * terminals. Verb code only: it prints its errors, once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "container.h"
#include "ctl.h"
#include "image_run.h"
#include "io.h"
#include "json.h"
#include "kconfig.h"
#include "path.h"
#include "supervise.h"

static uint8_t rbuf[RT_CTL_MAX];
static struct rt_json_tok rtok[16384];
static char wbuf[RT_CTL_MAX];

/* --- flags ---------------------------------------------------------------- */


/* Next flag: its index in opts, -1 at the end (positionals start at p->i,
 * or are in p->pos), -2 after printing a usage error. */
int rt_client_opt(struct optp *p, const struct opt *opts, size_t nopts, const char **val)
{
	const char *a;
	size_t k;

	*val = NULL;
	if (p->rest && *p->rest) {
		char c = *p->rest++;

		for (k = 0; k < nopts; k++)
			if (opts[k].sh == c)
				break;
		if (k == nopts) {
			rt_cli_fail(p->verb, RT_EXIT_USAGE, "unknown shorthand flag: '%c'", c);
			return -2;
		}
		if (opts[k].arg) {
			if (*p->rest) {
				*val = p->rest;
			} else if (p->i < p->argc) {
				*val = p->argv[p->i++];
			} else {
				rt_cli_fail(p->verb, RT_EXIT_USAGE, "flag needs an argument: '%c'", c);
				return -2;
			}
			p->rest = NULL;
		}
		return (int)k;
	}
	for (;;) {
		if (p->i >= p->argc)
			return -1;
		a = p->argv[p->i];
		if (!strcmp(a, "--")) {
			p->i++;
			if (p->interspersed)
				while (p->i < p->argc)
					p->pos[p->npos++] = p->argv[p->i++];
			return -1;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (!p->interspersed)
				return -1;
			p->pos[p->npos++] = p->argv[p->i++];
			continue;
		}
		break;
	}
	p->i++;
	if (a[1] == '-') {
		const char *eq = strchr(a + 2, '=');
		size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

		for (k = 0; k < nopts; k++)
			if (opts[k].lng && strlen(opts[k].lng) == n && !strncmp(opts[k].lng, a + 2, n))
				break;
		if (k == nopts) {
			rt_cli_fail(p->verb, RT_EXIT_USAGE, "unknown flag: %.*s", (int)(n + 2), a);
			return -2;
		}
		if (opts[k].arg) {
			if (eq) {
				*val = eq + 1;
			} else if (p->i < p->argc) {
				*val = p->argv[p->i++];
			} else {
				rt_cli_fail(p->verb, RT_EXIT_USAGE, "flag needs an argument: --%s", opts[k].lng);
				return -2;
			}
		} else if (eq) {
			if (strcmp(eq + 1, "true") && strcmp(eq + 1, "false")) {
				rt_cli_fail(p->verb, RT_EXIT_USAGE, "flag --%s takes no value", opts[k].lng);
				return -2;
			}
			*val = eq + 1;
		}
		return (int)k;
	}
	p->rest = a + 1;
	return rt_client_opt(p, opts, nopts, val);
}


int rt_client_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* "512", "64k", "256m", "1g" (binary units, as Docker's). */
/* --- talking to the supervisor ------------------------------------------- */

static int sock_path(const struct rt_opts *o, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/rt.sock", o->run);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int rt_client_dial(const struct rt_opts *o, const char *verb)
{
	char path[RT_PATH_MAX];
	struct rt_err e;
	int fd;

	if (sock_path(o, path, sizeof path) < 0) {
		rt_cli_fail(verb, RT_EXIT_RT, "--run path too long");
		return -1;
	}
	fd = rt_ctl_connect(path, &e);
	if (fd < 0) {
		rt_cli_fail(verb, RT_EXIT_RT,
			    "cannot connect to the rt daemon at %s: %s (start it with 'rt daemon', or boot rt as init)",
			    path, strerror(e.errnum));
		return -1;
	}
	return fd;
}

int rt_client_send(int fd, struct rt_json_w *w, const int *fds, int nfds, const char *verb)
{
	struct rt_err e;
	char msg[RT_ERR_MSG + 64];

	if (rt_json_w_finish(w, &e) < 0 ||
	    rt_ctl_send(fd, RT_CTL_JSON, w->buf, w->len, fds, nfds, &e) < 0) {
		rt_cli_fail(verb, RT_EXIT_RT, "%s", rt_err_str(&e, msg, sizeof msg));
		return -1;
	}
	return 0;
}

/* Read frames until a JSON one; data frames met on the way are printed
 * (a stream ends with JSON). */
int rt_client_read(int fd, struct rt_ctl_rd *r, struct rt_json *j, int *fds, int *nfds,
		     const char *verb)
{
	struct rt_err e;
	char msg[RT_ERR_MSG + 64];

	for (;;) {
		int n = rt_ctl_read_frame(fd, r, fds, nfds, &e);

		if (n == 0) {
			rt_cli_fail(verb, RT_EXIT_RT, "the rt daemon closed the connection");
			return -1;
		}
		if (n < 0) {
			rt_cli_fail(verb, RT_EXIT_RT, "%s", rt_err_str(&e, msg, sizeof msg));
			return -1;
		}
		if (r->type == RT_CTL_OUT || r->type == RT_CTL_ERR) {
			struct rt_err we;

			rt_io_write_all(r->type == RT_CTL_OUT ? 1 : 2, r->buf, r->len, &we);
			continue;
		}
		if (rt_json_parse(j, (const char *)r->buf, r->len, rtok, NOPTS(rtok), 0, &e) < 0) {
			rt_cli_fail(verb, RT_EXIT_RT, "bad reply from the rt daemon: %s", e.msg);
			return -1;
		}
		return 0;
	}
}

/* The reply's error, printed; returns the exit code to use. */
int rt_client_status(const struct rt_json *j, const char *verb)
{
	struct rt_err e;
	char msg[RT_ERR_MSG + 128];
	int64_t code = RT_EXIT_RT;
	bool ok = false;

	if (rt_json_bool(j, rt_json_find(j, 0, "ok"), &ok, &e) == 0 && ok)
		return 0;
	rt_json_i64(j, rt_json_find(j, 0, "code"), &code, &e);
	if (rt_json_str(j, rt_json_find(j, 0, "error"), msg, sizeof msg, &e) < 0)
		snprintf(msg, sizeof msg, "the rt daemon refused the request");
	rt_cli_fail(verb, (int)code, "%s", msg);
	return code > 0 && code < 256 ? (int)code : RT_EXIT_RT;
}

/* The exit code a stream or a wait ends with: {"exit":N} after attach,
 * logs or exec, {"ok":true,"exit_code":N} when a wait ends. */
int rt_client_exit(const struct rt_json *j, int64_t *code)
{
	struct rt_err e;

	return rt_json_i64(j, rt_json_find(j, 0, "exit"), code, &e) == 0 ||
	       rt_json_i64(j, rt_json_find(j, 0, "exit_code"), code, &e) == 0;
}

/* One request, one reply. Returns the exit code; j holds the reply. */
int rt_client_call(int fd, struct rt_json_w *w, const int *fds, int nfds, struct rt_json *j,
		const char *verb)
{
	static struct rt_ctl_rd r;
	int n = 0;

	rt_client_rd(&r);
	if (rt_client_send(fd, w, fds, nfds, verb) < 0 || rt_client_read(fd, &r, j, NULL, &n, verb) < 0)
		return RT_EXIT_RT;
	return rt_client_status(j, verb);
}

/* {"op":op,"id":ref, then the caller's members. */
void rt_client_req(struct rt_json_w *w, const char *op, const char *ref)
{
	rt_json_w_init(w, wbuf, sizeof wbuf);
	rt_json_w_obj(w);
	rt_json_w_key(w, "op");
	rt_json_w_str(w, op);
	if (ref) {
		rt_json_w_key(w, "id");
		rt_json_w_str(w, ref);
	}
}

/* A verb applied to several containers, each echoed as Docker does. */
int rt_client_each(const struct rt_opts *o, const char *verb, const char *op, char **refs, int n,
		void (*extra)(struct rt_json_w *, const void *), const void *arg, int echo)
{
	int k, rc = 0;

	if (n == 0)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "requires at least 1 argument");
	for (k = 0; k < n; k++) {
		struct rt_json_w w;
		struct rt_json j;
		int fd = rt_client_dial(o, verb), r;

		if (fd < 0)
			return RT_EXIT_RT;
		rt_client_req(&w, op, refs[k]);
		if (extra)
			extra(&w, arg);
		rt_json_w_end(&w);
		r = rt_client_call(fd, &w, NULL, 0, &j, verb);
		close(fd);
		if (r)
			rc = 1;
		else if (echo)
			printf("%s\n", refs[k]);
	}
	fflush(stdout);
	return rc;
}

/* --- attaching ------------------------------------------------------------- */

static struct termios saved_tio;
static int tio_saved;

static void tty_restore(void)
{
	if (tio_saved)
		tcsetattr(0, TCSADRAIN, &saved_tio);
	tio_saved = 0;
}

static void tty_raw(void)
{
	struct termios t;

	if (!isatty(0) || tcgetattr(0, &saved_tio) < 0)
		return;
	t = saved_tio;
	cfmakeraw(&t);
	if (tcsetattr(0, TCSADRAIN, &t) == 0)
		tio_saved = 1;
}

static void winsize(int master)
{
	struct winsize ws;

	if (ioctl(1, TIOCGWINSZ, &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/* Forward a signal to the container, as `docker run` does without -t. */
static void proxy_signal(const struct rt_opts *o, const char *ref, int sig)
{
	struct rt_json_w w;
	struct rt_json j;
	int fd = rt_client_dial(o, "kill");

	if (fd < 0)
		return;
	rt_client_req(&w, "kill", ref);
	rt_json_w_key(&w, "signal");
	rt_json_w_i64(&w, sig);
	rt_json_w_end(&w);
	rt_client_call(fd, &w, NULL, 0, &j, "kill");
	close(fd);
}

static int sigfd_open(int tty)
{
	sigset_t s;

	sigemptyset(&s);
	if (tty) {
		sigaddset(&s, SIGWINCH);
	} else {
		sigaddset(&s, SIGINT);
		sigaddset(&s, SIGTERM);
		sigaddset(&s, SIGHUP);
		sigaddset(&s, SIGQUIT);
		sigaddset(&s, SIGUSR1);
		sigaddset(&s, SIGUSR2);
	}
	sigprocmask(SIG_BLOCK, &s, NULL);
	return signalfd(-1, &s, SFD_CLOEXEC);
}

/* Our stdin into a container's stdin pipe. Neither side may block: a
 * container that does not read its input must not keep us from reading
 * its output (which would keep it from writing). A chunk of input is
 * taken only once the last one is written. */
struct feed {
	int to;                 /* the pipe's write end; -1 once closed */
	size_t off, len;
	char buf[4096];
};

static void feed_init(struct feed *f, int to)
{
	f->to = to;
	f->off = f->len = 0;
	if (to >= 0)
		fcntl(to, F_SETFL, fcntl(to, F_GETFL) | O_NONBLOCK);
}

static void feed_close(struct feed *f)
{
	if (f->to >= 0)
		close(f->to);
	f->to = -1;
}

/* Two poll slots: our stdin while there is room, the pipe while a chunk
 * waits. */
static void feed_poll(const struct feed *f, struct pollfd *p)
{
	p[0].fd = f->to >= 0 && f->len == 0 ? 0 : -1;
	p[0].events = POLLIN;
	p[1].fd = f->to >= 0 && f->len > 0 ? f->to : -1;
	p[1].events = POLLOUT;
}

static void feed_run(struct feed *f, const struct pollfd *p)
{
	if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = read(0, f->buf, sizeof f->buf);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {           /* our end of input: the container's */
			feed_close(f);
			return;
		}
		f->off = 0;
		f->len = (size_t)n;
	}
	while (f->to >= 0 && f->off < f->len) {
		ssize_t n = write(f->to, f->buf + f->off, f->len - f->off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {            /* EPIPE: nobody reads it any more */
			feed_close(f);
			return;
		}
		f->off += (size_t)n;
	}
	f->off = f->len = 0;
}

/* Our output went away (a closed pipe): die of it as a program writing
 * there would, SIGPIPE being ignored while we feed a pipe. */
static int out_write(int fd, const void *p, size_t n)
{
	struct rt_err e;

	if (rt_io_write_all(fd, p, n, &e) == 0)
		return 0;
	if (e.errnum == EPIPE) {
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	return -1;
}

/* Stream an attached run until its {"exit":N}; returns N. in: the write
 * end of its stdin pipe, or -1. */
static int attach_stream(const struct rt_opts *o, int fd, const char *ref, int in,
			 const char *verb)
{
	static struct rt_ctl_rd r;
	static struct feed f;
	int sfd = sigfd_open(0);

	rt_client_rd(&r);
	feed_init(&f, in);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd p[4] = { { fd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		char msg[RT_ERR_MSG + 64];
		struct rt_json j;
		struct rt_err e;
		int n = 0, k;
		int64_t code = RT_EXIT_RT;

		feed_poll(&f, p + 2);
		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		feed_run(&f, p + 2);
		if (sfd >= 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				proxy_signal(o, ref, (int)si.ssi_signo);
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		/* One frame per wake-up (the daemon writes whole frames), so a
		   signal is forwarded however much output streams. */
		k = rt_ctl_read_frame(fd, &r, NULL, &n, &e);
		if (k <= 0)
			return rt_cli_fail(verb, RT_EXIT_RT, "%s", k == 0 ?
					   "the rt daemon closed the connection" :
					   rt_err_str(&e, msg, sizeof msg));
		if (r.type == RT_CTL_OUT || r.type == RT_CTL_ERR) {
			if (out_write(r.type == RT_CTL_OUT ? 1 : 2, r.buf, r.len) < 0)
				break;
			continue;
		}
		feed_close(&f);
		if (rt_json_parse(&j, (const char *)r.buf, r.len, rtok, NOPTS(rtok), 0, &e) < 0)
			return rt_cli_fail(verb, RT_EXIT_RT, "bad reply from the rt daemon: %s", e.msg);
		if (rt_client_exit(&j, &code))
			return (int)(code & 255);
		return rt_client_status(&j, verb);
	}
	feed_close(&f);
	return RT_EXIT_RT;
}

/* Copy a pipe to our fd to, one read or (drain) all there is; 0 once it
 * is closed (end of file, or our side failed), 1 while it stays open. */
static int pipe_out(int *from, int to, int drain)
{
	char buf[16384];
	int rounds = 0;

	while (drain || rounds++ == 0) {
		ssize_t n = read(*from, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0 || out_write(to, buf, (size_t)n) < 0) {
			close(*from);
			*from = -1;
			return 0;
		}
	}
	return 1;
}

int rt_client_pipes(int fd, int out, int err, int in, const char *verb)
{
	static struct rt_ctl_rd r;
	static struct feed f;
	int io[2] = { out, err }, k, rc = RT_EXIT_RT;

	rt_client_rd(&r);
	feed_init(&f, in);
	signal(SIGPIPE, SIG_IGN);
	for (k = 0; k < 2; k++)
		fcntl(io[k], F_SETFL, fcntl(io[k], F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[5] = { { fd, POLLIN, 0 }, { io[0], POLLIN, 0 }, { io[1], POLLIN, 0 } };
		char msg[RT_ERR_MSG + 64];
		struct rt_json j;
		struct rt_err e;
		int64_t code;
		int n = 0;

		feed_poll(&f, p + 3);
		if (poll(p, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		feed_run(&f, p + 3);
		for (k = 0; k < 2; k++)
			if (io[k] >= 0 && (p[1 + k].revents & (POLLIN | POLLHUP | POLLERR)))
				pipe_out(&io[k], 1 + k, 0);
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		k = rt_ctl_read_frame(fd, &r, NULL, &n, &e);
		if (k <= 0) {
			rt_cli_fail(verb, RT_EXIT_RT, "%s", k == 0 ?
				    "the rt daemon closed the connection" :
				    rt_err_str(&e, msg, sizeof msg));
			break;
		}
		if (r.type != RT_CTL_JSON)
			continue;
		if (rt_json_parse(&j, (const char *)r.buf, r.len, rtok, NOPTS(rtok), 0, &e) < 0) {
			rt_cli_fail(verb, RT_EXIT_RT, "bad reply from the rt daemon: %s", e.msg);
			break;
		}
		if (!rt_client_exit(&j, &code)) {
			rc = rt_client_status(&j, verb);
			break;
		}
		/* The process is gone: what it wrote is in the pipes. What
		   a child it left behind writes later is not waited for. */
		for (k = 0; k < 2; k++)
			if (io[k] >= 0)
				pipe_out(&io[k], 1 + k, 1);
		rc = (int)(code & 255);
		break;
	}
	feed_close(&f);
	for (k = 0; k < 2; k++)
		if (io[k] >= 0)
			close(io[k]);
	return rc;
}

/* Relay a terminal: our stdin to the master, the master to our stdout,
 * until the container's side closes; then read {"exit":N}. */
int rt_client_tty(int fd, int master, int interactive, const char *verb)
{
	static struct rt_ctl_rd r;
	char buf[4096];
	int sfd = sigfd_open(1), in_open = interactive, rc = RT_EXIT_RT;

	winsize(master);
	if (interactive)
		tty_raw();
	for (;;) {
		struct pollfd p[3] = { { master, POLLIN, 0 }, { sfd, POLLIN, 0 },
				       { in_open ? 0 : -1, POLLIN, 0 } };
		ssize_t n;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof si) > 0)
				winsize(master);
		}
		if (p[2].revents & (POLLIN | POLLHUP)) {
			struct rt_err e;

			n = read(0, buf, sizeof buf);
			if (n <= 0)
				in_open = 0;
			else if (rt_io_write_all(master, buf, (size_t)n, &e) < 0)
				break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct rt_err e;

			n = read(master, buf, sizeof buf);
			if (n <= 0)
				break;      /* EIO: every slave is closed */
			if (rt_io_write_all(1, buf, (size_t)n, &e) < 0)
				break;
		}
	}
	tty_restore();
	close(master);
	{
		struct rt_json j;
		int64_t code;
		int nf = 0;

		rt_client_rd(&r);
		if (rt_client_read(fd, &r, &j, NULL, &nf, verb) == 0) {
			if (rt_client_exit(&j, &code))
				rc = (int)(code & 255);
			else
				rc = rt_client_status(&j, verb);
		}
	}
	return rc;
}

/* Start ref and stay attached. fd is connected and owned by the caller. */
int rt_client_attach(const struct rt_opts *o, int fd, const char *ref, int interactive,
			  int tty, const char *verb)
{
	static struct rt_ctl_rd r;
	struct rt_json_w w;
	struct rt_json j;
	int fds[RT_CTL_MAXFD], nfds = 0, rc;
	bool is_tty = false;
	struct rt_err e;

	rt_client_req(&w, "start", ref);
	rt_json_w_key(&w, "attach");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "stdin");
	rt_json_w_bool(&w, interactive && !tty);
	rt_json_w_end(&w);
	rt_client_rd(&r);
	if (rt_client_send(fd, &w, NULL, 0, verb) < 0 ||
	    rt_client_read(fd, &r, &j, fds, &nfds, verb) < 0)
		return RT_EXIT_RT;
	rc = rt_client_status(&j, verb);
	if (rc) {
		while (nfds > 0)
			close(fds[--nfds]);
		return rc;
	}
	rt_json_bool(&j, rt_json_find(&j, 0, "tty"), &is_tty, &e);
	if (is_tty) {
		if (nfds < 1)
			return rt_cli_fail(verb, RT_EXIT_RT, "the rt daemon sent no terminal");
		return rt_client_tty(fd, fds[0], interactive, verb);
	}
	/* With -i, the write end of the container's stdin pipe. */
	while (nfds > 1)
		close(fds[--nfds]);
	return attach_stream(o, fd, ref, nfds ? fds[0] : -1, verb);
}


/* mkdir -p for an absolute path the administrator gave (--root, --run, a
 * -v host path): symlinks in it are the administrator's and are followed. */
int rt_client_mkdir_p(const char *path, mode_t mode, struct rt_err *e)
{
	char p[RT_PATH_MAX];
	size_t i, n = strlen(path);

	if (path[0] != '/' || n >= sizeof p)
		return rt_err_set(e, EINVAL, "%s: not an absolute path", path);
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return rt_err_sys(e, "mkdir %s", p);
		p[i] = i < n ? '/' : '\0';
	}
	{
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		return fd < 0 ? rt_err_sys(e, "%s", path) : fd;
	}
}

void rt_client_strs(struct rt_json_w *w, const char *key, char *const *v, int n)
{
	int k;

	rt_json_w_key(w, key);
	rt_json_w_arr(w);
	for (k = 0; k < n && v[k]; k++)
		rt_json_w_str(w, v[k]);
	rt_json_w_end(w);
}

void rt_client_rd(struct rt_ctl_rd *r)
{
	rt_ctl_rd_init(r, rbuf, sizeof rbuf);
}
