/* Container verbs: parse Docker's flags, talk to the supervisor over the
 * control socket (ctl.h), print what comes back. These run in the
 * short-lived `rt` process; the supervisor never sees a command line. */
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

struct opt {
	char sh;                /* short letter, 0: none */
	const char *lng;        /* long name without "--", NULL: none */
	int arg;                /* takes a value */
};

struct optp {
	int argc, i;
	char **argv;
	const char *rest;       /* rest of a cluster of short flags */
	const char *verb;
	int interspersed;       /* positionals may come between flags */
	char **pos;             /* positionals, when interspersed */
	int npos;
};

/* Next flag: its index in opts, -1 at the end (positionals start at p->i,
 * or are in p->pos), -2 after printing a usage error. */
static int next_opt(struct optp *p, const struct opt *opts, size_t nopts, const char **val)
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
	return next_opt(p, opts, nopts, val);
}

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))
/* A boolean flag given as --x=false is off. */
#define ON(v) (!(v) || strcmp((v), "false"))

static int parse_u64(const char *s, uint64_t *out)
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
static int parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n + 1);
	if (n > 1 && (num[n - 1] == 'b' || num[n - 1] == 'B'))
		num[--n] = '\0';
	switch (num[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	}
	if (shift)
		num[--n] = '\0';
	if (parse_u64(num, &v) < 0 || v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* "1.5" -> 1500: thousandths of a CPU, without floating point. */
static int parse_cpus(const char *s, uint64_t *out)
{
	uint64_t whole = 0, frac = 0;
	int digits = 0;

	if (!*s || *s == '.')
		return -1;
	for (; *s && *s != '.'; s++) {
		if (*s < '0' || *s > '9' || whole > 1024)
			return -1;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.')
		for (s++; *s; s++) {
			if (*s < '0' || *s > '9')
				return -1;
			if (digits < 3) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				digits++;
			}
		}
	while (digits++ < 3)
		frac *= 10;
	*out = whole * 1000 + frac;
	return *out > 1024 * 1000 ? -1 : 0;
}

static const char *const capnames[] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

static int parse_cap(const char *s, uint64_t *mask)
{
	size_t k;

	if (!strncasecmp(s, "CAP_", 4))
		s += 4;
	if (!strcasecmp(s, "ALL")) {
		*mask |= UINT64_MAX;
		return 0;
	}
	for (k = 0; k < NOPTS(capnames); k++)
		if (!strcasecmp(s, capnames[k])) {
			*mask |= 1ull << k;
			return 0;
		}
	return -1;
}

static const struct { const char *name; int sig; } signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "PWR", SIGPWR }, { "SYS", SIGSYS },
};

static int parse_signal(const char *s)
{
	uint64_t v;
	size_t k;

	if (parse_u64(s, &v) == 0)
		return v >= 1 && v <= 64 ? (int)v : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (k = 0; k < NOPTS(signames); k++)
		if (!strcasecmp(s, signames[k].name))
			return signames[k].sig;
	return -1;
}

/* --- talking to the supervisor ------------------------------------------- */

static int sock_path(const struct rt_opts *o, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/rt.sock", o->run);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int dial(const struct rt_opts *o, const char *verb)
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

static int send_w(int fd, struct rt_json_w *w, const int *fds, int nfds, const char *verb)
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
static int read_json(int fd, struct rt_ctl_rd *r, struct rt_json *j, int *fds, int *nfds,
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
static int reply_status(const struct rt_json *j, const char *verb)
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
static int exit_of(const struct rt_json *j, int64_t *code)
{
	struct rt_err e;

	return rt_json_i64(j, rt_json_find(j, 0, "exit"), code, &e) == 0 ||
	       rt_json_i64(j, rt_json_find(j, 0, "exit_code"), code, &e) == 0;
}

/* One request, one reply. Returns the exit code; j holds the reply. */
static int call(int fd, struct rt_json_w *w, const int *fds, int nfds, struct rt_json *j,
		const char *verb)
{
	static struct rt_ctl_rd r;
	int n = 0;

	rt_ctl_rd_init(&r, rbuf, sizeof rbuf);
	if (send_w(fd, w, fds, nfds, verb) < 0 || read_json(fd, &r, j, NULL, &n, verb) < 0)
		return RT_EXIT_RT;
	return reply_status(j, verb);
}

/* {"op":op,"id":ref, then the caller's members. */
static void req_begin(struct rt_json_w *w, const char *op, const char *ref)
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
static int each(const struct rt_opts *o, const char *verb, const char *op, char **refs, int n,
		void (*extra)(struct rt_json_w *, const void *), const void *arg, int echo)
{
	int k, rc = 0;

	if (n == 0)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "requires at least 1 argument");
	for (k = 0; k < n; k++) {
		struct rt_json_w w;
		struct rt_json j;
		int fd = dial(o, verb), r;

		if (fd < 0)
			return RT_EXIT_RT;
		req_begin(&w, op, refs[k]);
		if (extra)
			extra(&w, arg);
		rt_json_w_end(&w);
		r = call(fd, &w, NULL, 0, &j, verb);
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
	int fd = dial(o, "kill");

	if (fd < 0)
		return;
	req_begin(&w, "kill", ref);
	rt_json_w_key(&w, "signal");
	rt_json_w_i64(&w, sig);
	rt_json_w_end(&w);
	call(fd, &w, NULL, 0, &j, "kill");
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

/* Stream an attached run until its {"exit":N}; returns N. */
static int attach_stream(const struct rt_opts *o, int fd, const char *ref, const char *verb)
{
	static struct rt_ctl_rd r;
	int sfd = sigfd_open(0);

	rt_ctl_rd_init(&r, rbuf, sizeof rbuf);
	for (;;) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		struct rt_json j;
		int n = 0;
		int64_t code = RT_EXIT_RT;

		if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sfd >= 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
				proxy_signal(o, ref, (int)si.ssi_signo);
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (read_json(fd, &r, &j, NULL, &n, verb) < 0)
			return RT_EXIT_RT;
		if (exit_of(&j, &code))
			return (int)(code & 255);
		return reply_status(&j, verb);
	}
	return RT_EXIT_RT;
}

/* Relay a terminal: our stdin to the master, the master to our stdout,
 * until the container's side closes; then read {"exit":N}. */
static int attach_tty(int fd, int master, int interactive, const char *verb)
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

		rt_ctl_rd_init(&r, rbuf, sizeof rbuf);
		if (read_json(fd, &r, &j, NULL, &nf, verb) == 0) {
			if (exit_of(&j, &code))
				rc = (int)(code & 255);
			else
				rc = reply_status(&j, verb);
		}
	}
	return rc;
}

/* Start ref and stay attached. fd is connected and owned by the caller. */
static int start_attached(const struct rt_opts *o, int fd, const char *ref, int interactive,
			  int tty, const char *verb)
{
	static struct rt_ctl_rd r;
	struct rt_json_w w;
	struct rt_json j;
	int fds[RT_CTL_MAXFD], nfds = 0, stdin_fd = 0, rc;
	bool is_tty = false;
	struct rt_err e;

	req_begin(&w, "start", ref);
	rt_json_w_key(&w, "attach");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "stdin");
	rt_json_w_bool(&w, interactive && !tty);
	rt_json_w_end(&w);
	rt_ctl_rd_init(&r, rbuf, sizeof rbuf);
	if (send_w(fd, &w, &stdin_fd, interactive && !tty ? 1 : 0, verb) < 0 ||
	    read_json(fd, &r, &j, fds, &nfds, verb) < 0)
		return RT_EXIT_RT;
	rc = reply_status(&j, verb);
	if (rc) {
		while (nfds > 0)
			close(fds[--nfds]);
		return rc;
	}
	rt_json_bool(&j, rt_json_find(&j, 0, "tty"), &is_tty, &e);
	if (is_tty) {
		if (nfds < 1)
			return rt_cli_fail(verb, RT_EXIT_RT, "the rt daemon sent no terminal");
		return attach_tty(fd, fds[0], interactive, verb);
	}
	return attach_stream(o, fd, ref, verb);
}

/* --- run and create -------------------------------------------------------- */

static struct rt_image_run img;

static char *arena_dup(struct rt_image_run *ir, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;

	if (ir->used + n > sizeof ir->arena)
		return NULL;
	d = ir->arena + ir->used;
	memcpy(d, s, n);
	ir->used += n;
	return d;
}

/* --rootfs DIR: one read-only layer, and no defaults from an image. */
static int image_from_rootfs(struct rt_image_run *ir, const char *dir, struct rt_err *e)
{
	char real[PATH_MAX];
	struct stat st;

	memset(ir, 0, offsetof(struct rt_image_run, arena));
	ir->used = 0;
	if (!realpath(dir, real) || stat(real, &st) < 0)
		return rt_err_sys(e, "rootfs %s", dir);
	if (!S_ISDIR(st.st_mode))
		return rt_err_set(e, ENOTDIR, "rootfs %s is not a directory", dir);
	if (!(ir->layers[0] = arena_dup(ir, real)))
		return rt_err_set(e, ENAMETOOLONG, "rootfs path too long");
	ir->nlayers = 1;
	snprintf(ir->ref, sizeof ir->ref, "%s", dir);
	return 0;
}

/* An image reference, resolved by the image store into layers and the
 * defaults of its config. Until a store that can do it is built in,
 * every name is unknown, and the error says so plainly. */
static int image_from_store(const struct rt_opts *o, struct rt_image_run *ir,
			    const char *ref, struct rt_err *e)
{
	(void)o;
	(void)ir;
	return rt_err_set(e, ENOENT, "no such image: %s", ref);
}

struct runflags {
	int detach, interactive, tty, rm, readonly, init, have_init, network_host;
	const char *name, *restart, *workdir, *user, *hostname, *rootfs, *entrypoint;
	uint64_t tmpfs, memory, pids, cpus, cap_add, cap_drop, stop_timeout;
	int have_stop_timeout;
	const char *env[RT_SANDBOX_MAX_ENV];
	int nenv;
	const char *vols[RT_SANDBOX_MAX_MOUNTS];
	int nvols;
};

static const struct opt run_opts[] = {
	{ 'd', "detach", 0 }, { 'i', "interactive", 0 }, { 't', "tty", 0 },
	{ 0, "rm", 0 }, { 0, "name", 1 }, { 'e', "env", 1 }, { 0, "env-file", 1 },
	{ 'w', "workdir", 1 }, { 'u', "user", 1 }, { 'h', "hostname", 1 },
	{ 0, "restart", 1 }, { 0, "network", 1 }, { 'v', "volume", 1 },
	{ 0, "read-only", 0 }, { 0, "tmpfs-size", 1 }, { 'm', "memory", 1 },
	{ 0, "pids-limit", 1 }, { 0, "cpus", 1 }, { 0, "cap-add", 1 },
	{ 0, "cap-drop", 1 }, { 0, "init", 0 }, { 0, "no-init", 0 },
	{ 0, "stop-timeout", 1 }, { 0, "rootfs", 1 }, { 0, "entrypoint", 1 },
	{ 0, "net", 1 },
};

static char envfile_buf[65536];

static int add_env(struct runflags *f, const char *kv, const char *verb)
{
	if (f->nenv >= RT_SANDBOX_MAX_ENV)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "too many environment variables");
	/* "-e NAME" takes NAME's value from our environment, as Docker does. */
	if (!strchr(kv, '=')) {
		const char *v = getenv(kv);
		static char held[RT_SANDBOX_MAX_ENV][256];

		if (!v)
			return 0;
		if (snprintf(held[f->nenv], sizeof held[0], "%s=%s", kv, v) >= (int)sizeof held[0])
			return rt_cli_fail(verb, RT_EXIT_USAGE, "environment variable %s too long", kv);
		kv = held[f->nenv];
	}
	if (kv[0] == '=')
		return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid environment variable: %s", kv);
	f->env[f->nenv++] = kv;
	return 0;
}

static int env_file(struct runflags *f, const char *path, const char *verb)
{
	static size_t used;
	struct rt_err e;
	size_t len;
	char *p, *line;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return rt_cli_fail(verb, RT_EXIT_RT, "open env file %s: %s", path, strerror(errno));
	{
		ssize_t n = rt_io_read_full(fd, envfile_buf + used, sizeof envfile_buf - used - 1, &e);

		close(fd);
		if (n < 0 || (size_t)n >= sizeof envfile_buf - used - 1)
			return rt_cli_fail(verb, RT_EXIT_RT, "env file %s: too large or unreadable", path);
		len = (size_t)n;
	}
	p = envfile_buf + used;
	p[len] = '\0';
	used += len + 1;
	for (line = strtok(p, "\n"); line; line = strtok(NULL, "\n")) {
		size_t n = strlen(line);

		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (!n || line[0] == '#')
			continue;
		if (add_env(f, line, verb))
			return RT_EXIT_USAGE;
	}
	return 0;
}

static int parse_run(struct runflags *f, struct optp *p, const char *verb)
{
	const char *v;
	int k, rc;

	memset(f, 0, sizeof *f);
	while ((k = next_opt(p, run_opts, NOPTS(run_opts), &v)) >= 0) {
		const char *n = run_opts[k].lng;

		if (!strcmp(n, "detach")) f->detach = ON(v);
		else if (!strcmp(n, "interactive")) f->interactive = ON(v);
		else if (!strcmp(n, "tty")) f->tty = ON(v);
		else if (!strcmp(n, "rm")) f->rm = ON(v);
		else if (!strcmp(n, "read-only")) f->readonly = ON(v);
		else if (!strcmp(n, "init")) { f->init = ON(v); f->have_init = 1; }
		else if (!strcmp(n, "no-init")) { f->init = !ON(v); f->have_init = 1; }
		else if (!strcmp(n, "name")) f->name = v;
		else if (!strcmp(n, "restart")) f->restart = v;
		else if (!strcmp(n, "workdir")) f->workdir = v;
		else if (!strcmp(n, "user")) f->user = v;
		else if (!strcmp(n, "hostname")) f->hostname = v;
		else if (!strcmp(n, "rootfs")) f->rootfs = v;
		else if (!strcmp(n, "entrypoint")) f->entrypoint = v;
		else if (!strcmp(n, "env")) { if ((rc = add_env(f, v, verb))) return rc; }
		else if (!strcmp(n, "env-file")) { if ((rc = env_file(f, v, verb))) return rc; }
		else if (!strcmp(n, "network") || !strcmp(n, "net")) {
			if (!strcmp(v, "host"))
				f->network_host = 1;
			else if (strcmp(v, "none"))
				return rt_cli_fail(verb, RT_EXIT_USAGE,
						   "network '%s' is not available (none, host)", v);
		} else if (!strcmp(n, "volume")) {
			if (f->nvols >= RT_SANDBOX_MAX_MOUNTS)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "too many volumes");
			f->vols[f->nvols++] = v;
		} else if (!strcmp(n, "tmpfs-size") || !strcmp(n, "memory")) {
			if (parse_size(v, n[0] == 't' ? &f->tmpfs : &f->memory) < 0)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid size for --%s: '%s'", n, v);
		} else if (!strcmp(n, "pids-limit")) {
			if (parse_u64(v, &f->pids) < 0)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --pids-limit '%s'", v);
		} else if (!strcmp(n, "cpus")) {
			if (parse_cpus(v, &f->cpus) < 0)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --cpus '%s'", v);
		} else if (!strcmp(n, "cap-add") || !strcmp(n, "cap-drop")) {
			if (parse_cap(v, n[4] == 'a' ? &f->cap_add : &f->cap_drop) < 0)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "unknown capability '%s'", v);
		} else if (!strcmp(n, "stop-timeout")) {
			if (parse_u64(v, &f->stop_timeout) < 0 || f->stop_timeout > 86400)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --stop-timeout '%s'", v);
			f->have_stop_timeout = 1;
		}
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (f->tty && !IS_ENABLED(CONFIG_TTY))
		return rt_cli_fail(verb, RT_EXIT_RT, "terminals (-t) are not in this build");
	if (f->name && !rt_ctr_name_ok(f->name))
		return rt_cli_fail(verb, RT_EXIT_RT,
				   "invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				   f->name);
	return 0;
}


/* mkdir -p for an absolute path the administrator gave (--root, --run, a
 * -v host path): symlinks in it are the administrator's and are followed. */
static int mkdir_p(const char *path, mode_t mode, struct rt_err *e)
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

/* -v HOST:CTR[:ro|rw] (host path, created if missing, as Docker does) or
 * NAME:CTR[:ro|rw] (a named volume under ROOT/volumes, created on use). */
static int write_mount(const struct rt_opts *o, struct rt_json_w *w, const char *spec,
		       const char *verb)
{
	char buf[RT_PATH_MAX], src[RT_PATH_MAX + 64], *dst, *mode;
	int ro = 0, named;
	struct rt_err e;

	if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "volume spec too long");
	dst = strchr(buf, ':');
	if (!dst || dst == buf)
		return rt_cli_fail(verb, RT_EXIT_USAGE,
				   "invalid volume '%s': want HOST:CONTAINER[:ro] or NAME:CONTAINER[:ro]", spec);
	*dst++ = '\0';
	mode = strchr(dst, ':');
	if (mode) {
		*mode++ = '\0';
		if (!strcmp(mode, "ro"))
			ro = 1;
		else if (strcmp(mode, "rw"))
			return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid volume mode '%s' (ro, rw)", mode);
	}
	if (dst[0] != '/' || !strcmp(dst, "/"))
		return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid volume destination '%s': must be absolute", dst);
	named = buf[0] != '/';
	if (named) {
		int fd;

		if (!rt_ctr_volume_ok(buf))
			return rt_cli_fail(verb, RT_EXIT_USAGE,
					   "invalid volume name '%s': a host path must be absolute", buf);
		if (snprintf(src, sizeof src, "%s/volumes/%s", o->root, buf) >= (int)sizeof src)
			return rt_cli_fail(verb, RT_EXIT_USAGE, "volume path too long");
		fd = mkdir_p(src, 0755, &e);
		if (fd < 0)
			return rt_cli_fail(verb, RT_EXIT_RT, "create volume %s: %s", buf, e.msg);
		close(fd);
	} else {
		char real[PATH_MAX];
		struct stat st;

		if (stat(buf, &st) < 0 && errno == ENOENT) {
			int fd = mkdir_p(buf, 0755, &e);

			if (fd < 0)
				return rt_cli_fail(verb, RT_EXIT_RT, "create %s: %s", buf, e.msg);
			close(fd);
		}
		if (!realpath(buf, real))
			return rt_cli_fail(verb, RT_EXIT_RT, "volume source %s: %s", buf, strerror(errno));
		snprintf(src, sizeof src, "%s", real);
	}
	rt_json_w_obj(w);
	rt_json_w_key(w, "src");
	rt_json_w_str(w, src);
	rt_json_w_key(w, "dst");
	rt_json_w_str(w, dst);
	rt_json_w_key(w, "ro");
	rt_json_w_bool(w, ro);
	if (named) {
		rt_json_w_key(w, "volume");
		rt_json_w_str(w, buf);
	}
	rt_json_w_end(w);
	return 0;
}

static void str_array(struct rt_json_w *w, const char *key, char *const *v, int n)
{
	int k;

	rt_json_w_key(w, key);
	rt_json_w_arr(w);
	for (k = 0; k < n && v[k]; k++)
		rt_json_w_str(w, v[k]);
	rt_json_w_end(w);
}

static int count(char *const *v)
{
	int n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* Build {"op":"create","config":{...}} from flags, image and command. */
static int build_create(const struct rt_opts *o, struct rt_json_w *w, const struct runflags *f,
			char **cmd, int ncmd, const char *verb)
{
	static char *argv[RT_SANDBOX_MAX_ARGS + 1];
	static char *env[RT_SANDBOX_MAX_ENV + 1];
	struct rt_err e;
	int n = 0, k, nenv = 0;
	const char *root_abs = o->root;
	static char rootbuf[PATH_MAX];

	if (f->rootfs) {
		if (image_from_rootfs(&img, f->rootfs, &e) < 0)
			return rt_cli_fail(verb, RT_EXIT_RT, "%s: %s", e.msg, strerror(e.errnum));
	} else {
		if (ncmd == 0)
			return rt_cli_fail(verb, RT_EXIT_USAGE, "requires at least 1 argument: an image (or --rootfs DIR)");
		if (image_from_store(o, &img, cmd[0], &e) < 0)
			return rt_cli_fail(verb, RT_EXIT_RT, "%s", e.msg);
		cmd++;
		ncmd--;
	}
	/* Docker's rule: --entrypoint replaces the image's; a command after
	   the image replaces its Cmd; the process is entrypoint + cmd. */
	if (f->entrypoint) {
		if (*f->entrypoint)
			argv[n++] = (char *)f->entrypoint;
	} else {
		for (k = 0; img.entrypoint[k] && n < RT_SANDBOX_MAX_ARGS; k++)
			argv[n++] = img.entrypoint[k];
	}
	if (ncmd > 0) {
		for (k = 0; k < ncmd && n < RT_SANDBOX_MAX_ARGS; k++)
			argv[n++] = cmd[k];
	} else if (!f->entrypoint) {
		for (k = 0; img.cmd[k] && n < RT_SANDBOX_MAX_ARGS; k++)
			argv[n++] = img.cmd[k];
	}
	argv[n] = NULL;
	if (n == 0)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "no command given and the image has none");
	if (ncmd + count(img.entrypoint) > RT_SANDBOX_MAX_ARGS)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "too many arguments (at most %d)", RT_SANDBOX_MAX_ARGS);
	/* Env: a default PATH, the image's, then -e (later wins). */
	env[nenv++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (k = 0; img.env[k]; k++)
		env[nenv++] = img.env[k];
	for (k = 0; k < f->nenv; k++) {
		size_t kl = (size_t)(strchr(f->env[k], '=') - f->env[k]) + 1;
		int j2;

		for (j2 = 0; j2 < nenv; j2++)
			if (!strncmp(env[j2], f->env[k], kl))
				break;
		if (j2 < nenv) {
			env[j2] = (char *)f->env[k];
		} else {
			if (nenv >= RT_SANDBOX_MAX_ENV)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "too many environment variables");
			env[nenv++] = (char *)f->env[k];
		}
	}
	env[nenv] = NULL;
	if (o->root[0] != '/' && realpath(o->root, rootbuf))
		root_abs = rootbuf;

	rt_json_w_init(w, wbuf, sizeof wbuf);
	rt_json_w_obj(w);
	rt_json_w_key(w, "op");
	rt_json_w_str(w, "create");
	rt_json_w_key(w, "config");
	rt_json_w_obj(w);
	if (f->name) {
		rt_json_w_key(w, "name");
		rt_json_w_str(w, f->name);
	}
	rt_json_w_key(w, "image");
	rt_json_w_str(w, img.ref);
	str_array(w, "layers", (char *const *)img.layers, img.nlayers);
	str_array(w, "cmd", argv, n);
	str_array(w, "env", env, nenv);
	if (f->workdir || img.workdir) {
		rt_json_w_key(w, "cwd");
		rt_json_w_str(w, f->workdir ? f->workdir : img.workdir);
	}
	if (f->user || img.user) {
		rt_json_w_key(w, "user");
		rt_json_w_str(w, f->user ? f->user : img.user);
	}
	if (f->hostname) {
		rt_json_w_key(w, "hostname");
		rt_json_w_str(w, f->hostname);
	}
	rt_json_w_key(w, "restart");
	rt_json_w_str(w, f->restart ? f->restart : "no");
	rt_json_w_key(w, "network");
	rt_json_w_str(w, f->network_host ? "host" : "none");
	rt_json_w_key(w, "mounts");
	rt_json_w_arr(w);
	{
		struct rt_opts ro = *o;

		ro.root = root_abs;
		for (k = 0; k < f->nvols; k++)
			if (write_mount(&ro, w, f->vols[k], verb))
				return RT_EXIT_USAGE;
	}
	rt_json_w_end(w);
	rt_json_w_key(w, "read_only");
	rt_json_w_bool(w, f->readonly);
	/* --init is off by default, as in Docker: the command is PID 1 and
	   gets signals directly; --init puts a reaping init in front. */
	rt_json_w_key(w, "init");
	rt_json_w_bool(w, f->init);
	rt_json_w_key(w, "tty");
	rt_json_w_bool(w, f->tty);
	rt_json_w_key(w, "stdin");
	rt_json_w_bool(w, f->interactive);
	rt_json_w_key(w, "rm");
	rt_json_w_bool(w, f->rm);
	if (f->tmpfs) {
		rt_json_w_key(w, "tmpfs_size");
		rt_json_w_u64(w, f->tmpfs);
	}
	if (f->memory) {
		rt_json_w_key(w, "memory");
		rt_json_w_u64(w, f->memory);
	}
	if (f->pids) {
		rt_json_w_key(w, "pids");
		rt_json_w_u64(w, f->pids);
	}
	if (f->cpus) {
		rt_json_w_key(w, "cpus");
		rt_json_w_u64(w, f->cpus);
	}
	if (f->cap_add) {
		rt_json_w_key(w, "cap_add");
		rt_json_w_u64(w, f->cap_add);
	}
	if (f->cap_drop) {
		rt_json_w_key(w, "cap_drop");
		rt_json_w_u64(w, f->cap_drop);
	}
	if (f->have_stop_timeout) {
		rt_json_w_key(w, "stop_timeout");
		rt_json_w_u64(w, f->stop_timeout);
	}
	rt_json_w_end(w);
	rt_json_w_end(w);
	return 0;
}

/* create: returns the exit code; the new id and name go to id/name. */
static int do_create(const struct rt_opts *o, int fd, const struct runflags *f, char **cmd,
		     int ncmd, char *id, char *name, const char *verb)
{
	struct rt_json_w w;
	struct rt_json j;
	struct rt_err e;
	int rc = build_create(o, &w, f, cmd, ncmd, verb);

	if (rc)
		return rc;
	rc = call(fd, &w, NULL, 0, &j, verb);
	if (rc)
		return rc;
	if (rt_json_str(&j, rt_json_find(&j, 0, "id"), id, RT_CTR_ID + 1, &e) < 0 ||
	    rt_json_str(&j, rt_json_find(&j, 0, "name"), name, RT_CTR_NAME + 1, &e) < 0)
		return rt_cli_fail(verb, RT_EXIT_RT, "bad reply from the rt daemon");
	return 0;
}

static int verb_run_create(const struct rt_opts *o, int argc, char **argv, int run)
{
	const char *verb = run ? "run" : "create";
	struct optp p = { argc, 1, argv, NULL, verb, 0, NULL, 0 };
	struct runflags f;
	char id[RT_CTR_ID + 1], name[RT_CTR_NAME + 1];
	int rc, fd;

	rc = parse_run(&f, &p, verb);
	if (rc)
		return rc;
	if (!f.rootfs && p.i >= argc)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "requires at least 1 argument: an image (or --rootfs DIR)");
	fd = dial(o, verb);
	if (fd < 0)
		return RT_EXIT_RT;
	rc = do_create(o, fd, &f, argv + p.i, argc - p.i, id, name, verb);
	if (rc) {
		close(fd);
		return rc;
	}
	if (!run) {
		printf("%s\n", id);
		close(fd);
		return 0;
	}
	if (f.detach) {
		struct rt_json_w w;
		struct rt_json j;
		int in = 0;

		req_begin(&w, "start", id);
		rt_json_w_key(&w, "stdin");
		rt_json_w_bool(&w, f.interactive && !f.tty);
		rt_json_w_end(&w);
		rc = call(fd, &w, &in, f.interactive && !f.tty ? 1 : 0, &j, verb);
		close(fd);
		if (rc)
			return rc;
		printf("%s\n", id);
		return 0;
	}
	rc = start_attached(o, fd, id, f.interactive, f.tty, verb);
	close(fd);
	return rc;
}

static int verb_run(const struct rt_opts *o, int argc, char **argv)
{
	return verb_run_create(o, argc, argv, 1);
}

static int verb_create(const struct rt_opts *o, int argc, char **argv)
{
	return verb_run_create(o, argc, argv, 0);
}

/* --- start, stop, restart, kill, rm, wait ----------------------------------- */

static int verb_start(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 'a', "attach", 0 }, { 'i', "interactive", 0 } };
	char *pos[256];
	struct optp p = { argc, 1, argv, NULL, "start", 1, pos, 0 };
	const char *v;
	int k, attach = 0, interactive = 0;

	if (argc > 256)
		return rt_cli_fail("start", RT_EXIT_USAGE, "too many arguments");
	while ((k = next_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (k == 0)
			attach = ON(v);
		else
			interactive = ON(v);
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (attach || interactive) {
		struct rt_json_w w;
		struct rt_json j;
		int fd, rc, tty = 0;
		bool b;
		struct rt_err e;

		if (p.npos != 1)
			return rt_cli_fail("start", RT_EXIT_USAGE, "you cannot start and attach multiple containers at once");
		/* Ask whether it has a terminal, to attach the right way. */
		fd = dial(o, "start");
		if (fd < 0)
			return RT_EXIT_RT;
		req_begin(&w, "inspect", pos[0]);
		rt_json_w_end(&w);
		rc = call(fd, &w, NULL, 0, &j, "start");
		if (rc) {
			close(fd);
			return rc;
		}
		if (rt_json_bool(&j, rt_json_find(&j, rt_json_find(&j, rt_json_find(&j, 0, "container"), "Config"), "tty"), &b, &e) == 0)
			tty = b;
		rc = start_attached(o, fd, pos[0], interactive, tty, "start");
		close(fd);
		return rc;
	}
	return each(o, "start", "start", pos, p.npos, NULL, NULL, 1);
}

static void timeout_member(struct rt_json_w *w, const void *arg)
{
	const int64_t *t = arg;

	if (*t >= 0) {
		rt_json_w_key(w, "timeout");
		rt_json_w_i64(w, *t);
	}
}

static int stop_like(const struct rt_opts *o, int argc, char **argv, const char *verb)
{
	static const struct opt opts[] = { { 't', "time", 1 }, { 0, "timeout", 1 } };
	char *pos[256];
	struct optp p = { argc, 1, argv, NULL, verb, 1, pos, 0 };
	const char *v;
	int64_t t = -1;
	uint64_t u;
	int k;

	if (argc > 256)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "too many arguments");
	while ((k = next_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (parse_u64(v, &u) < 0 || u > 86400)
			return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid timeout '%s'", v);
		t = (int64_t)u;
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	return each(o, verb, verb, pos, p.npos, timeout_member, &t, 1);
}

static int verb_stop(const struct rt_opts *o, int argc, char **argv)
{
	return stop_like(o, argc, argv, "stop");
}

static int verb_restart(const struct rt_opts *o, int argc, char **argv)
{
	return stop_like(o, argc, argv, "restart");
}

static void signal_member(struct rt_json_w *w, const void *arg)
{
	rt_json_w_key(w, "signal");
	rt_json_w_i64(w, *(const int *)arg);
}

static int verb_kill(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 's', "signal", 1 } };
	char *pos[256];
	struct optp p = { argc, 1, argv, NULL, "kill", 1, pos, 0 };
	const char *v;
	int k, sig = SIGKILL;

	if (argc > 256)
		return rt_cli_fail("kill", RT_EXIT_USAGE, "too many arguments");
	while ((k = next_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		sig = parse_signal(v);
		if (sig < 0)
			return rt_cli_fail("kill", RT_EXIT_USAGE, "invalid signal: %s", v);
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	return each(o, "kill", "kill", pos, p.npos, signal_member, &sig, 1);
}

static void force_member(struct rt_json_w *w, const void *arg)
{
	rt_json_w_key(w, "force");
	rt_json_w_bool(w, *(const int *)arg);
}

static int verb_rm(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 'f', "force", 0 }, { 'v', "volumes", 0 } };
	char *pos[256];
	struct optp p = { argc, 1, argv, NULL, "rm", 1, pos, 0 };
	const char *v;
	int k, force = 0;

	if (argc > 256)
		return rt_cli_fail("rm", RT_EXIT_USAGE, "too many arguments");
	while ((k = next_opt(&p, opts, NOPTS(opts), &v)) >= 0)
		if (k == 0)
			force = ON(v);
	/* -v removes anonymous volumes; rt makes none (every volume is
	   named or a host path), so there is nothing more to remove. */
	if (k == -2)
		return RT_EXIT_USAGE;
	return each(o, "rm", "rm", pos, p.npos, force_member, &force, 1);
}

static int verb_wait(const struct rt_opts *o, int argc, char **argv)
{
	int k, rc = 0;

	if (argc < 2)
		return rt_cli_fail("wait", RT_EXIT_USAGE, "requires at least 1 argument");
	for (k = 1; k < argc; k++) {
		struct rt_json_w w;
		struct rt_json j;
		struct rt_err e;
		int64_t code = 0;
		int fd = dial(o, "wait"), r;

		if (fd < 0)
			return RT_EXIT_RT;
		req_begin(&w, "wait", argv[k]);
		rt_json_w_end(&w);
		r = call(fd, &w, NULL, 0, &j, "wait");
		close(fd);
		if (r) {
			rc = 1;
			continue;
		}
		rt_json_i64(&j, rt_json_find(&j, 0, "exit_code"), &code, &e);
		printf("%lld\n", (long long)code);
		fflush(stdout);
	}
	return rc;
}

/* --- ps ---------------------------------------------------------------------- */

/* Docker's wording for a duration. */
static void human(int64_t secs, char *buf, size_t cap)
{
	int64_t m = secs / 60, h = (secs + 1800) / 3600;

	if (secs < 1)
		snprintf(buf, cap, "Less than a second");
	else if (secs == 1)
		snprintf(buf, cap, "1 second");
	else if (secs < 60)
		snprintf(buf, cap, "%lld seconds", (long long)secs);
	else if (m == 1)
		snprintf(buf, cap, "About a minute");
	else if (m < 60)
		snprintf(buf, cap, "%lld minutes", (long long)m);
	else if (h == 1)
		snprintf(buf, cap, "About an hour");
	else if (h < 48)
		snprintf(buf, cap, "%lld hours", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(buf, cap, "%lld days", (long long)(h / 24));
	else if (h < 24 * 30 * 2)
		snprintf(buf, cap, "%lld weeks", (long long)(h / 24 / 7));
	else if (h < 24 * 365 * 2)
		snprintf(buf, cap, "%lld months", (long long)(h / 24 / 30));
	else
		snprintf(buf, cap, "%lld years", (long long)(h / 24 / 365));
}

static int64_t now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

#define PS_COLS 7
#define PS_CELL 320

static char cells[RT_SUP_MAX_CONTAINERS + 1][PS_COLS][PS_CELL];
static int64_t row_created[RT_SUP_MAX_CONTAINERS + 1];
static int order[RT_SUP_MAX_CONTAINERS + 1];

static int verb_ps(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 'a', "all", 0 }, { 'q', "quiet", 0 },
					   { 0, "no-trunc", 0 }, { 0, "format", 1 } };
	struct optp p = { argc, 1, argv, NULL, "ps", 0, NULL, 0 };
	static const char *const head[PS_COLS] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
						   "STATUS", "PORTS", "NAMES" };
	struct rt_json_w w;
	struct rt_json j;
	const char *v;
	int k, all = 0, quiet = 0, notrunc = 0, json = 0, fd, rc, list, c, rows = 1;
	size_t wid[PS_COLS] = { 0 };
	int64_t now = now_s();

	while ((k = next_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (k == 0) all = ON(v);
		else if (k == 1) quiet = ON(v);
		else if (k == 2) notrunc = ON(v);
		else if (!strcmp(v, "json")) json = 1;
		else return rt_cli_fail("ps", RT_EXIT_USAGE, "--format: only 'json' is supported");
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (p.i < argc)
		return rt_cli_fail("ps", RT_EXIT_USAGE, "accepts no arguments");
	fd = dial(o, "ps");
	if (fd < 0)
		return RT_EXIT_RT;
	req_begin(&w, "ps", NULL);
	rt_json_w_key(&w, "all");
	rt_json_w_bool(&w, all);
	rt_json_w_end(&w);
	rc = call(fd, &w, NULL, 0, &j, "ps");
	close(fd);
	if (rc)
		return rc;
	list = rt_json_find(&j, 0, "containers");
	if (json) {
		/* One object per line, as `docker ps --format json`. */
		for (c = rt_json_first(&j, list); c >= 0; c = rt_json_next(&j, list, c))
			printf("%.*s\n", (int)j.tok[c].len, j.buf + j.tok[c].start);
		return 0;
	}
	for (k = 0; k < PS_COLS; k++)
		snprintf(cells[0][k], PS_CELL, "%s", head[k]);
	for (c = rt_json_first(&j, list); c >= 0 && rows <= RT_SUP_MAX_CONTAINERS; c = rt_json_next(&j, list, c)) {
		char id[RT_CTR_ID + 1], name[RT_CTR_NAME + 1], image[RT_CTR_IMAGE + 1];
		char cmd[RT_CTR_CMD + 1], state[32], dur[48];
		int64_t created = 0, started = 0, finished = 0, code = 0;
		struct rt_err e;
		char (*row)[PS_CELL] = cells[rows];

		if (rt_json_str(&j, rt_json_find(&j, c, "id"), id, sizeof id, &e) < 0 ||
		    rt_json_str(&j, rt_json_find(&j, c, "name"), name, sizeof name, &e) < 0 ||
		    rt_json_str(&j, rt_json_find(&j, c, "image"), image, sizeof image, &e) < 0 ||
		    rt_json_str(&j, rt_json_find(&j, c, "command"), cmd, sizeof cmd, &e) < 0 ||
		    rt_json_str(&j, rt_json_find(&j, c, "state"), state, sizeof state, &e) < 0)
			continue;
		rt_json_i64(&j, rt_json_find(&j, c, "created"), &created, &e);
		rt_json_i64(&j, rt_json_find(&j, c, "started"), &started, &e);
		rt_json_i64(&j, rt_json_find(&j, c, "finished"), &finished, &e);
		rt_json_i64(&j, rt_json_find(&j, c, "exit_code"), &code, &e);
		if (quiet) {
			printf("%.*s\n", notrunc ? RT_CTR_ID : 12, id);
			continue;
		}
		snprintf(row[0], PS_CELL, "%.*s", notrunc ? RT_CTR_ID : 12, id);
		snprintf(row[1], PS_CELL, "%s", image);
		if (!notrunc && width(cmd) > 20) {
			/* Docker cuts at 20 columns, the last one an ellipsis. */
			cmd[19] = '\0';
			snprintf(row[2], PS_CELL, "\"%s\xe2\x80\xa6\"", cmd);
		} else {
			snprintf(row[2], PS_CELL, "\"%s\"", cmd);
		}
		human(now - created / 1000000000, dur, sizeof dur);
		snprintf(row[3], PS_CELL, "%s ago", dur);
		if (!strcmp(state, "running")) {
			human(now - started / 1000000000, dur, sizeof dur);
			snprintf(row[4], PS_CELL, "Up %s", dur);
		} else if (!strcmp(state, "created")) {
			snprintf(row[4], PS_CELL, "Created");
		} else {
			const char *word = !strcmp(state, "restarting") ? "Restarting" :
					   !strcmp(state, "crash-loop") ? "Crash-loop" :
					   !strcmp(state, "exited") ? "Exited" : "Removing";

			human(now - finished / 1000000000, dur, sizeof dur);
			snprintf(row[4], PS_CELL, "%s (%lld) %s ago", word, (long long)code, dur);
		}
		row[5][0] = '\0';
		snprintf(row[6], PS_CELL, "%s", name);
		row_created[rows] = created;
		rows++;
	}
	if (quiet)
		return 0;
	/* Docker's tabwriter: a column is as wide as its widest cell plus 3
	   spaces, and at least 10. */
	for (k = 0; k < PS_COLS; k++) {
		for (c = 0; c < rows; c++)
			if (width(cells[c][k]) + 3 > wid[k])
				wid[k] = width(cells[c][k]) + 3;
		if (wid[k] < 10)
			wid[k] = 10;
	}
	/* Newest first, as Docker lists them. */
	for (c = 0; c < rows; c++) {
		int at = c;

		while (at > 1 && row_created[order[at - 1]] < row_created[c]) {
			order[at] = order[at - 1];
			at--;
		}
		order[at] = c;
	}
	for (c = 0; c < rows; c++) {
		for (k = 0; k < PS_COLS; k++) {
			const char *cell = cells[order[c]][k];

			if (k == PS_COLS - 1)
				printf("%s\n", cell);
			else
				printf("%s%*s", cell, (int)(wid[k] - width(cell)), "");
		}
	}
	return 0;
}

/* --- logs, inspect ------------------------------------------------------------ */

static int verb_logs(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 'f', "follow", 0 }, { 'n', "tail", 1 },
					   { 't', "timestamps", 0 } };
	char *pos[8];
	struct optp p = { argc, 1, argv, NULL, "logs", 1, pos, 0 };
	struct rt_json_w w;
	struct rt_json j;
	const char *v;
	int k, follow = 0, ts = 0, fd, rc;
	int64_t tail = -1;

	if (argc > 8)
		return rt_cli_fail("logs", RT_EXIT_USAGE, "too many arguments");
	while ((k = next_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (k == 0) {
			follow = ON(v);
		} else if (k == 2) {
			ts = ON(v);
		} else if (strcmp(v, "all")) {
			uint64_t u;

			if (parse_u64(v, &u) < 0 || u > INT32_MAX)
				return rt_cli_fail("logs", RT_EXIT_USAGE, "invalid --tail '%s'", v);
			tail = (int64_t)u;
		}
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (p.npos != 1)
		return rt_cli_fail("logs", RT_EXIT_USAGE, "requires exactly 1 argument");
	fd = dial(o, "logs");
	if (fd < 0)
		return RT_EXIT_RT;
	req_begin(&w, "logs", pos[0]);
	rt_json_w_key(&w, "follow");
	rt_json_w_bool(&w, follow);
	rt_json_w_key(&w, "timestamps");
	rt_json_w_bool(&w, ts);
	rt_json_w_key(&w, "tail");
	rt_json_w_i64(&w, tail);
	rt_json_w_end(&w);
	rc = call(fd, &w, NULL, 0, &j, "logs");
	if (rc == 0) {
		static struct rt_ctl_rd r;
		int n = 0;

		/* Data frames are written as they come; {"exit":..} ends it. */
		rt_ctl_rd_init(&r, rbuf, sizeof rbuf);
		if (read_json(fd, &r, &j, NULL, &n, "logs") < 0)
			rc = RT_EXIT_RT;
	}
	close(fd);
	return rc;
}

/* Pretty-print JSON as Docker's inspect does: 4 spaces per level. */
static void pretty(const struct rt_json *j, int t, int depth)
{
	int i, first = 1;

	switch (rt_json_type(j, t)) {
	case RT_JSON_OBJECT:
	case RT_JSON_ARRAY: {
		int obj = rt_json_type(j, t) == RT_JSON_OBJECT;

		if (rt_json_count(j, t) == 0) {
			printf(obj ? "{}" : "[]");
			return;
		}
		printf(obj ? "{\n" : "[\n");
		for (i = rt_json_first(j, t); i >= 0; i = rt_json_next(j, t, i)) {
			printf("%s%*s", first ? "" : ",\n", 4 * (depth + 1), "");
			first = 0;
			if (obj) {
				printf("\"%.*s\": ", (int)j->tok[i].len, j->buf + j->tok[i].start);
				pretty(j, i + 1, depth + 1);
			} else {
				pretty(j, i, depth + 1);
			}
		}
		printf("\n%*s%c", 4 * depth, "", obj ? '}' : ']');
		return;
	}
	case RT_JSON_STRING:
		printf("\"%.*s\"", (int)j->tok[t].len, j->buf + j->tok[t].start);
		return;
	default:
		printf("%.*s", (int)j->tok[t].len, j->buf + j->tok[t].start);
	}
}

static int verb_inspect(const struct rt_opts *o, int argc, char **argv)
{
	int k, rc = 0, n = 0;

	if (argc < 2)
		return rt_cli_fail("inspect", RT_EXIT_USAGE, "requires at least 1 argument");
	printf("[");
	for (k = 1; k < argc; k++) {
		struct rt_json_w w;
		struct rt_json j;
		int fd = dial(o, "inspect"), r;

		if (fd < 0)
			return RT_EXIT_RT;
		req_begin(&w, "inspect", argv[k]);
		rt_json_w_end(&w);
		r = call(fd, &w, NULL, 0, &j, "inspect");
		close(fd);
		if (r) {
			rc = 1;
			continue;
		}
		printf("%s\n    ", n++ ? "," : "");
		pretty(&j, rt_json_find(&j, 0, "container"), 1);
	}
	printf(n ? "\n]\n" : "]\n");
	return rc;
}

/* --- exec ---------------------------------------------------------------------- */

static int verb_exec(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 'i', "interactive", 0 }, { 't', "tty", 0 },
					   { 'e', "env", 1 }, { 'w', "workdir", 1 },
					   { 'u', "user", 1 }, { 'd', "detach", 0 } };
	struct optp p = { argc, 1, argv, NULL, "exec", 0, NULL, 0 };
	struct runflags f;
	struct rt_json_w w;
	struct rt_json j;
	struct rt_ctl_rd *r;
	static struct rt_ctl_rd rd;
	const char *v, *workdir = NULL, *user = NULL;
	int k, interactive = 0, tty = 0, fd, rc, fds[RT_CTL_MAXFD], nfds = 0, io[3];
	bool is_tty = false;
	struct rt_err e;

	if (!IS_ENABLED(CONFIG_EXEC))
		return rt_cli_fail("exec", RT_EXIT_RT, "exec is not in this build");
	memset(&f, 0, sizeof f);
	while ((k = next_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		switch (k) {
		case 0: interactive = ON(v); break;
		case 1: tty = ON(v); break;
		case 2: if ((rc = add_env(&f, v, "exec"))) return rc; break;
		case 3: workdir = v; break;
		case 4: user = v; break;
		default:
			return rt_cli_fail("exec", RT_EXIT_USAGE, "--detach is not supported");
		}
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (argc - p.i < 2)
		return rt_cli_fail("exec", RT_EXIT_USAGE, "requires at least 2 arguments: CONTAINER COMMAND [ARG...]");
	if (tty && !IS_ENABLED(CONFIG_TTY))
		return rt_cli_fail("exec", RT_EXIT_RT, "terminals (-t) are not in this build");
	if (argc - p.i - 1 > RT_SANDBOX_MAX_ARGS)
		return rt_cli_fail("exec", RT_EXIT_USAGE, "too many arguments");
	fd = dial(o, "exec");
	if (fd < 0)
		return RT_EXIT_RT;
	req_begin(&w, "exec", argv[p.i]);
	rt_json_w_key(&w, "exec");
	rt_json_w_obj(&w);
	str_array(&w, "cmd", argv + p.i + 1, argc - p.i - 1);
	str_array(&w, "env", (char *const *)f.env, f.nenv);
	if (workdir) {
		rt_json_w_key(&w, "cwd");
		rt_json_w_str(&w, workdir);
	}
	if (user) {
		rt_json_w_key(&w, "user");
		rt_json_w_str(&w, user);
	}
	rt_json_w_key(&w, "tty");
	rt_json_w_bool(&w, tty);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	/* Without -t the process gets our own stdio, with no copy through
	   the daemon; without -i its stdin is /dev/null. */
	io[0] = interactive ? 0 : open("/dev/null", O_RDONLY | O_CLOEXEC);
	io[1] = 1;
	io[2] = 2;
	r = &rd;
	rt_ctl_rd_init(r, rbuf, sizeof rbuf);
	if (send_w(fd, &w, io, tty ? 0 : 3, "exec") < 0 ||
	    read_json(fd, r, &j, fds, &nfds, "exec") < 0) {
		close(fd);
		return RT_EXIT_RT;
	}
	if (!interactive && io[0] >= 0)
		close(io[0]);
	rc = reply_status(&j, "exec");
	if (rc) {
		close(fd);
		return rc;
	}
	rt_json_bool(&j, rt_json_find(&j, 0, "tty"), &is_tty, &e);
	if (is_tty && nfds >= 1) {
		rc = attach_tty(fd, fds[0], interactive, "exec");
	} else {
		int64_t code = RT_EXIT_RT;
		int n = 0;

		rt_ctl_rd_init(r, rbuf, sizeof rbuf);
		if (read_json(fd, r, &j, NULL, &n, "exec") == 0 && exit_of(&j, &code))
			rc = (int)(code & 255);
		else
			rc = RT_EXIT_RT;
	}
	close(fd);
	return rc;
}

/* --- daemon ---------------------------------------------------------------------- */

static int verb_daemon(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 0, "root", 1 }, { 0, "run", 1 } };
	struct optp p = { argc, 1, argv, NULL, "daemon", 0, NULL, 0 };
	struct rt_sup_cfg cfg = { o->root, o->run, 1 };
	static char root[PATH_MAX], run[PATH_MAX];
	struct rt_err e;
	char msg[RT_ERR_MSG + 64];
	const char *v;
	int k, sig;

	while ((k = next_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (k == 0)
			cfg.root = v;
		else
			cfg.run = v;
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (p.i < argc)
		return rt_cli_fail("daemon", RT_EXIT_USAGE, "accepts no arguments");
	/* The supervisor keeps absolute paths: it hands them to the sandbox. */
	if (cfg.root[0] != '/') {
		if (!getcwd(root, sizeof root) || strlen(root) + strlen(cfg.root) + 2 > sizeof root)
			return rt_cli_fail("daemon", RT_EXIT_RT, "--root: path too long");
		strcat(strcat(root, "/"), cfg.root);
		cfg.root = root;
	}
	if (cfg.run[0] != '/') {
		if (!getcwd(run, sizeof run) || strlen(run) + strlen(cfg.run) + 2 > sizeof run)
			return rt_cli_fail("daemon", RT_EXIT_RT, "--run: path too long");
		strcat(strcat(run, "/"), cfg.run);
		cfg.run = run;
	}
	sig = rt_supervise(&cfg, &e);
	if (sig < 0)
		return rt_cli_fail("daemon", RT_EXIT_FAIL, "%s", rt_err_str(&e, msg, sizeof msg));
	return 0;
}

/* --- volumes --------------------------------------------------------------------- */

/* rm -rf beneath dirfd, following no symlink. */
static int rm_tree(int dfd, const char *name, struct rt_err *e)
{
	struct dirent *d;
	DIR *dir;
	int fd;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return rt_err_sys(e, "remove %s", name);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "open %s", name);
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return rt_err_sys(e, "read %s", name);
	}
	while ((d = readdir(dir)) != NULL) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (rm_tree(dirfd(dir), d->d_name, e) < 0) {
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		return rt_err_sys(e, "remove %s", name);
	return 0;
}

static int volumes_dir(const struct rt_opts *o, int create, struct rt_err *e)
{
	char p[RT_PATH_MAX];

	if (o->root[0] != '/')
		return rt_err_set(e, EINVAL, "--root must be absolute");
	if (snprintf(p, sizeof p, "%s/volumes", o->root) >= (int)sizeof p)
		return rt_err_set(e, ENAMETOOLONG, "--root too long");
	if (create)
		return mkdir_p(p, 0700, e);
	{
		int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		return fd < 0 ? rt_err_sys(e, "%s", p) : fd;
	}
}

static int volume_inspect_one(const struct rt_opts *o, int vfd, const char *name, int first)
{
	struct stat st;
	char t[32];
	struct tm tm;

	if (!rt_ctr_volume_ok(name) || fstatat(vfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		return rt_cli_fail("volume inspect", 1, "get %s: no such volume", name);
	gmtime_r(&st.st_mtime, &tm);
	strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s    {\n        \"CreatedAt\": \"%s\",\n        \"Driver\": \"local\",\n"
	       "        \"Labels\": null,\n        \"Mountpoint\": \"%s/volumes/%s\",\n"
	       "        \"Name\": \"%s\",\n        \"Options\": null,\n        \"Scope\": \"local\"\n    }",
	       first ? "" : ",\n", t, o->root, name, name);
	return 0;
}

static int verb_volume(const struct rt_opts *o, int argc, char **argv)
{
	RT_AUTOCLOSE int vfd = -1;
	struct rt_err e;
	int k, rc = 0;

	if (argc < 2)
		return rt_cli_fail("volume", RT_EXIT_USAGE, "usage: rt volume create|ls|rm|inspect [NAME...]");
	vfd = volumes_dir(o, 1, &e);
	if (vfd < 0)
		return rt_cli_fail("volume", RT_EXIT_RT, "%s: %s", e.msg, strerror(e.errnum));
	if (!strcmp(argv[1], "create")) {
		char name[RT_CTR_ID + 1];

		if (argc > 3)
			return rt_cli_fail("volume create", RT_EXIT_USAGE, "at most 1 argument");
		if (argc == 3) {
			if (!rt_ctr_volume_ok(argv[2]))
				return rt_cli_fail("volume create", RT_EXIT_USAGE,
						   "invalid volume name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
						   argv[2]);
			snprintf(name, sizeof name, "%s", argv[2]);
		} else if (rt_ctr_new_id(name, &e) < 0) {
			return rt_cli_fail("volume create", RT_EXIT_RT, "%s", e.msg);
		}
		if (mkdirat(vfd, name, 0755) < 0 && errno != EEXIST)
			return rt_cli_fail("volume create", RT_EXIT_RT, "%s: %s", name, strerror(errno));
		rt_io_fsync_dir(vfd, &e);
		printf("%s\n", name);
		return 0;
	}
	if (!strcmp(argv[1], "ls")) {
		struct dirent *d;
		DIR *dir = fdopendir(dup(vfd));
		int quiet = argc > 2 && !strcmp(argv[2], "-q");

		if (!dir)
			return rt_cli_fail("volume ls", RT_EXIT_RT, "%s", strerror(errno));
		if (!quiet)
			printf("DRIVER    VOLUME NAME\n");
		while ((d = readdir(dir)) != NULL)
			if (d->d_name[0] != '.' && rt_ctr_volume_ok(d->d_name))
				printf(quiet ? "%s\n" : "local     %s\n", d->d_name);
		closedir(dir);
		return 0;
	}
	if (!strcmp(argv[1], "inspect")) {
		int n = 0;

		if (argc < 3)
			return rt_cli_fail("volume inspect", RT_EXIT_USAGE, "requires at least 1 argument");
		printf("[\n");
		for (k = 2; k < argc; k++)
			if (volume_inspect_one(o, vfd, argv[k], n == 0) == 0)
				n++;
			else
				rc = 1;
		printf("%s]\n", n ? "\n" : "");
		return rc;
	}
	if (!strcmp(argv[1], "rm")) {
		int force = 0, first = 2;

		if (argc > 2 && (!strcmp(argv[2], "-f") || !strcmp(argv[2], "--force"))) {
			force = 1;
			first = 3;
		}
		if (argc <= first)
			return rt_cli_fail("volume rm", RT_EXIT_USAGE, "requires at least 1 argument");
		for (k = first; k < argc; k++) {
			struct rt_json_w w;
			struct rt_json j;
			struct stat st;
			int fd, list;

			if (!rt_ctr_volume_ok(argv[k]) ||
			    fstatat(vfd, argv[k], &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (!force)
					rc = rt_cli_fail("volume rm", 1, "get %s: no such volume", argv[k]);
				continue;
			}
			/* A volume a container names is in use, running or not. */
			fd = dial(o, "volume rm");
			if (fd < 0)
				return RT_EXIT_RT;
			req_begin(&w, "volume-users", argv[k]);
			rt_json_w_end(&w);
			if (call(fd, &w, NULL, 0, &j, "volume rm")) {
				close(fd);
				rc = 1;
				continue;
			}
			close(fd);
			list = rt_json_find(&j, 0, "containers");
			if (rt_json_count(&j, list) > 0) {
				char who[RT_CTR_NAME + 1];

				rt_json_str(&j, rt_json_at(&j, list, 0), who, sizeof who, &e);
				rc = rt_cli_fail("volume rm", 1, "remove %s: volume is in use - [%s]", argv[k], who);
				continue;
			}
			if (rm_tree(vfd, argv[k], &e) < 0) {
				rc = rt_cli_fail("volume rm", 1, "remove %s: %s: %s", argv[k], e.msg,
						 strerror(e.errnum));
				continue;
			}
			printf("%s\n", argv[k]);
		}
		rt_io_fsync_dir(vfd, &e);
		return rc;
	}
	return rt_cli_fail("volume", RT_EXIT_USAGE, "unknown volume command '%s' (create, ls, rm, inspect)", argv[1]);
}

const struct rt_verb rt_verbs_container[] = {
	{ "daemon", verb_daemon, "[--root DIR] [--run DIR]", "Run the supervisor (containers, control socket)" },
	{ "run", verb_run, "[OPTIONS] IMAGE|--rootfs DIR [COMMAND [ARG...]]", "Create and start a container" },
	{ "create", verb_create, "[OPTIONS] IMAGE|--rootfs DIR [COMMAND [ARG...]]", "Create a container" },
	{ "start", verb_start, "[-a] [-i] CONTAINER...", "Start containers" },
	{ "stop", verb_stop, "[-t SECS] CONTAINER...", "Stop containers (SIGTERM, then SIGKILL)" },
	{ "restart", verb_restart, "[-t SECS] CONTAINER...", "Restart containers" },
	{ "kill", verb_kill, "[-s SIGNAL] CONTAINER...", "Send a signal to containers" },
	{ "rm", verb_rm, "[-f] CONTAINER...", "Remove containers" },
	{ "ps", verb_ps, "[-a] [-q] [--no-trunc] [--format json]", "List containers" },
	{ "logs", verb_logs, "[-f] [--tail N] [-t] CONTAINER", "Show a container's output" },
	{ "wait", verb_wait, "CONTAINER...", "Wait for containers to stop; print exit codes" },
	{ "inspect", verb_inspect, "CONTAINER...", "Show containers in JSON" },
	{ "exec", verb_exec, "[-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...", "Run a command in a running container" },
	{ "volume", verb_volume, "create|ls|rm|inspect [NAME...]", "Manage named volumes" },
	{ NULL, NULL, NULL, NULL },
};
