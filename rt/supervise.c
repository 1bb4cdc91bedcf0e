#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "container.h"
#include "ctl.h"
#include "io.h"
#include "json.h"
#include "kconfig.h"
#include "lifecycle.h"
#include "logring.h"
#include "path.h"
#include "sandbox.h"
#include "supervise.h"

#define RING_BYTES ((size_t)CONFIG_LOG_RING_KB * 1024)
#define OBUF (RT_CTL_HDR + RT_CTL_MAX)
/* Room a follower needs in its output buffer for one record frame. */
#define REC_FRAME (RT_CTL_HDR + 40 + RT_LOGRING_REC)

enum { K_LISTEN = 1, K_SIG, K_TIMER, K_CONN, K_OUT, K_WDOG };
#define EVD(k, i) ((uint64_t)(k) << 32 | (uint32_t)(i))

struct ctr {
	int used, gone, refs;
	struct rt_ctr_meta m;
	char *rec;              /* stored record; ring buffer follows it */
	size_t reclen;
	const char *conf;       /* the config object inside rec */
	size_t conflen;
	struct rt_life life;
	struct rt_logring ring;
	struct rt_sandbox_proc proc;   /* pid 0: not running */
	int out[2];             /* stdout, stderr read ends; with a tty, out[0]
				   is the pty master and out[1] is -1 */
	int polled[2];          /* out[i] is in the epoll set */
	int tty_client;         /* conn holding the pty master, -1 */
	int stdin_fd;           /* a client's stdin for the next spawn */
	int64_t started, finished;  /* ns since the epoch */
	int ran;
	char error[200];        /* why the last spawn failed */
};

enum cmode { M_REQ, M_FOLLOW, M_WAIT, M_EXEC };

struct conn {
	int fd;
	enum cmode mode;
	struct rt_ctl_rd rd;
	int fds[RT_CTL_MAXFD], nfds;
	size_t olen, ooff;
	int ctr;                /* container followed or waited for, -1 */
	uint64_t cursor;
	int lossless;           /* attach: the ring must not overtake it */
	int follow, timestamps;
	int ending;             /* send {"exit":code} once caught up */
	int code;
	int bol[3];             /* at the beginning of a line, per stream */
	int closing;            /* close once the output is flushed */
};

struct exec_slot {
	pid_t pid;
	int conn;
};

static struct {
	const struct rt_sup_cfg *cfg;
	int ep, sfd, tfd, lfd, rootfd, wfd;
	int stopping, stop_sig;
	uid_t uid;
} S;

static int wdog_fd = -1;
static unsigned wdog_s;

void rt_supervise_watchdog(int fd, unsigned period_s)
{
	wdog_fd = fd;
	wdog_s = period_s ? period_s : 10;
}

static struct ctr ctrs[RT_SUP_MAX_CONTAINERS];
static struct conn conns[RT_SUP_MAX_CLIENTS];
static struct exec_slot execs[RT_SUP_MAX_EXECS];
static uint8_t conn_in[RT_SUP_MAX_CLIENTS][RT_CTL_MAX];
static uint8_t conn_out[RT_SUP_MAX_CLIENTS][OBUF];
static char scratch[RT_CTL_MAX];        /* replies are built here */
static char arena[RT_CTR_REC_MAX + 8192]; /* decoded spec strings */
static struct rt_sandbox_spec spec;
static struct rt_json_tok reqtok[RT_CTR_TOK];

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t real_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* RFC 3339 with nanoseconds, as Docker prints times. */
static void fmt_time(int64_t ns, char *buf, size_t cap)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	if (ns <= 0 || !gmtime_r(&s, &tm)) {
		snprintf(buf, cap, "0001-01-01T00:00:00Z");
		return;
	}
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ns % 1000000000));
}

static void ep_set(int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	epoll_ctl(S.ep, op, fd, &ev);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void xclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* --- clients: output ---------------------------------------------------- */

static void conn_close(int i);
static void pump(int i);

static void conn_events(int i)
{
	struct conn *c = &conns[i];
	uint32_t ev = EPOLLRDHUP;

	if (c->olen > c->ooff)
		ev |= EPOLLOUT;
	else if (c->mode == M_REQ && !c->closing)
		ev |= EPOLLIN;
	ep_set(EPOLL_CTL_MOD, c->fd, ev, EVD(K_CONN, i));
}

static void conn_flush(int i)
{
	struct conn *c = &conns[i];

	while (c->ooff < c->olen) {
		ssize_t n = send(c->fd, conn_out[i] + c->ooff, c->olen - c->ooff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(i);
			return;
		}
		c->ooff += (size_t)n;
	}
	if (c->ooff == c->olen) {
		c->ooff = c->olen = 0;
		if (c->closing) {
			conn_close(i);
			return;
		}
	}
	conn_events(i);
}

/* Queue one frame. A client that lets a whole buffer of replies pile up is
 * not reading: it is dropped rather than buffered for. */
static int conn_queue(int i, int type, const void *p, size_t len)
{
	struct conn *c = &conns[i];

	if (c->ooff > 0 && c->ooff == c->olen)
		c->ooff = c->olen = 0;
	if (len > RT_CTL_MAX || OBUF - c->olen < RT_CTL_HDR + len) {
		conn_close(i);
		return -1;
	}
	rt_ctl_hdr(conn_out[i] + c->olen, type, len);
	memcpy(conn_out[i] + c->olen + RT_CTL_HDR, p, len);
	c->olen += RT_CTL_HDR + len;
	return 0;
}

static void reply_json(int i, struct rt_json_w *w)
{
	struct rt_err e;

	if (rt_json_w_finish(w, &e) < 0) {
		static const char big[] = "{\"ok\":false,\"code\":125,\"error\":\"reply too large\"}";

		conn_queue(i, RT_CTL_JSON, big, sizeof big - 1);
	} else {
		conn_queue(i, RT_CTL_JSON, w->buf, w->len);
	}
	if (conns[i].fd >= 0)
		conn_flush(i);
}

static void reply_err(int i, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_err(int i, int code, const char *fmt, ...)
{
	char msg[RT_ERR_MSG + 64];
	struct rt_json_w w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, false);
	rt_json_w_key(&w, "code");
	rt_json_w_i64(&w, code);
	rt_json_w_key(&w, "error");
	rt_json_w_str(&w, msg);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static void reply_e(int i, int code, const struct rt_err *e)
{
	char buf[RT_ERR_MSG + 64];

	reply_err(i, code, "%s", rt_err_str(e, buf, sizeof buf));
}

static void reply_ok(int i)
{
	static const char ok[] = "{\"ok\":true}";

	conn_queue(i, RT_CTL_JSON, ok, sizeof ok - 1);
	if (conns[i].fd >= 0)
		conn_flush(i);
}

static void reply_exit(int i, const char *key, int code)
{
	struct rt_json_w w;

	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	if (strcmp(key, "exit")) {
		rt_json_w_key(&w, "ok");
		rt_json_w_bool(&w, true);
	}
	rt_json_w_key(&w, key);
	rt_json_w_i64(&w, code);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

/* --- containers: records ------------------------------------------------ */

static void ctr_free(int ci)
{
	struct ctr *c = &ctrs[ci];

	xclose(&c->stdin_fd);
	xclose(&c->proc.pidfd);
	free(c->rec);
	memset(c, 0, sizeof *c);
}

static void ctr_unref(int ci)
{
	struct ctr *c = &ctrs[ci];

	if (c->refs > 0)
		c->refs--;
	if (c->gone && c->refs == 0)
		ctr_free(ci);
}

static int ctr_alloc(const struct rt_ctr_meta *m, const char *rec, size_t len,
		     struct rt_err *e)
{
	const char *conf;
	size_t conflen;
	struct rt_ctr_meta pm;
	struct ctr *c;
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (!ctrs[ci].used)
			break;
	if (ci == RT_SUP_MAX_CONTAINERS)
		return rt_err_set(e, ENOSPC, "too many containers (at most %d)", RT_SUP_MAX_CONTAINERS);
	c = &ctrs[ci];
	memset(c, 0, sizeof *c);
	/* One block per container: the record, then its log ring. */
	c->rec = malloc(len + RING_BYTES);
	if (!c->rec)
		return rt_err_set(e, ENOMEM, "no memory for a container");
	memcpy(c->rec, rec, len);
	c->reclen = len;
	if (rt_ctr_parse_record(c->rec, len, &pm, &conf, &conflen, e) < 0) {
		free(c->rec);
		c->rec = NULL;
		return -1;
	}
	(void)m;
	c->m = pm;
	c->conf = conf;
	c->conflen = conflen;
	rt_logring_init(&c->ring, c->rec + len, RING_BYTES);
	rt_life_init(&c->life, pm.policy, pm.autoremove);
	c->out[0] = c->out[1] = -1;
	c->proc.pidfd = c->proc.pty = c->stdin_fd = -1;
	c->tty_client = -1;
	c->used = 1;
	return ci;
}

static int ctr_visible(int ci)
{
	return ctrs[ci].used && !ctrs[ci].gone;
}

/* A container by name, full id or unique id prefix. */
static int ctr_find(const char *ref, struct rt_err *e)
{
	size_t n = strlen(ref);
	int ci, found = -1;

	if (!n)
		return rt_err_set(e, EINVAL, "no container named");
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (ctr_visible(ci) && !strcmp(ctrs[ci].m.name, ref))
			return ci;
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++) {
		if (!ctr_visible(ci) || strncmp(ctrs[ci].m.id, ref, n))
			continue;
		if (found >= 0)
			return rt_err_set(e, EINVAL, "multiple containers match '%s'", ref);
		found = ci;
	}
	if (found < 0)
		return rt_err_set(e, ENOENT, "no such container: %s", ref);
	return found;
}

static void persist(int ci)
{
	struct ctr *c = &ctrs[ci];
	struct rt_ctr_state st = {
		.started = c->started, .finished = c->finished,
		.exit_code = c->life.exit_code, .stopped_by_user = c->life.stopped_by_user,
		.ran = c->ran,
	};
	struct rt_err e;

	/* A failed state write costs only what a reboot remembers. */
	rt_ctr_save_state(S.rootfd, c->m.id, &st, &e);
}

/* --- containers: output ------------------------------------------------- */

static void out_poll(int ci, int k, int on)
{
	struct ctr *c = &ctrs[ci];

	if (c->out[k] < 0 || c->polled[k] == on)
		return;
	if (on)
		ep_set(EPOLL_CTL_ADD, c->out[k], EPOLLIN, EVD(K_OUT, ci * 2 + k));
	else
		epoll_ctl(S.ep, EPOLL_CTL_DEL, c->out[k], NULL);
	c->polled[k] = on;
}

static void out_close(int ci, int k)
{
	out_poll(ci, k, 0);
	xclose(&ctrs[ci].out[k]);
}

/* How much may be read now without overwriting what an attached client
 * has not been sent: a record per byte in the worst case. */
static size_t read_budget(int ci)
{
	uint64_t room = UINT64_MAX;
	int i;

	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++) {
		struct conn *c = &conns[i];

		if (c->fd >= 0 && c->mode == M_FOLLOW && c->ctr == ci && c->lossless) {
			uint64_t r = rt_logring_room(&ctrs[ci].ring, c->cursor);

			if (r < room)
				room = r;
		}
	}
	room /= RT_LOGRING_HDR + 1;
	return room > 65536 ? 65536 : (size_t)room;
}

static void notify_output(int ci)
{
	int i;

	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++)
		if (conns[i].fd >= 0 && conns[i].mode == M_FOLLOW && conns[i].ctr == ci)
			pump(i);
}

/* Read what is there; returns 0 at end of file or error (fd closed),
 * 1 when more may come. */
static int out_read(int ci, int k, int drain)
{
	static uint8_t buf[16384];
	struct ctr *c = &ctrs[ci];
	int stream = k == 0 ? RT_LOG_STDOUT : RT_LOG_STDERR;

	while (c->out[k] >= 0) {
		size_t want = read_budget(ci);
		ssize_t n;

		if (want > sizeof buf)
			want = sizeof buf;
		if (want == 0) {
			if (!drain) {
				/* Resumed by pump() once the client catches up. */
				out_poll(ci, k, 0);
				return 1;
			}
			want = sizeof buf;   /* the run is over: keep the newest */
		}
		n = read(c->out[k], buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0) {       /* EOF, or EIO from a pty whose slave closed */
			out_close(ci, k);
			return 0;
		}
		rt_logring_write(&c->ring, stream, real_ns(), buf, (size_t)n);
		notify_output(ci);
		if (!drain)
			return 1;   /* fairness: one read per wake-up */
	}
	return 0;
}

/* --- clients: followers --------------------------------------------------- */

static void follow_end(int i)
{
	struct conn *c = &conns[i];
	int ci = c->ctr;

	c->mode = M_REQ;
	c->ctr = -1;
	c->ending = 0;
	reply_exit(i, "exit", c->code);
	if (ci >= 0)
		ctr_unref(ci);
}

static void pump(int i)
{
	static uint8_t data[RT_LOGRING_REC];
	struct conn *c = &conns[i];
	struct ctr *t;
	struct rt_logrec rec;
	int k;

	if (c->fd < 0 || c->mode != M_FOLLOW || c->ctr < 0)
		return;
	t = &ctrs[c->ctr];
	while (OBUF - c->olen >= REC_FRAME) {
		uint8_t *f = conn_out[i] + c->olen;
		size_t n = 0;

		if (rt_logring_read(&t->ring, &c->cursor, &rec, data, NULL) != 1)
			break;
		if (c->timestamps && c->bol[rec.stream]) {
			char ts[40];

			fmt_time(rec.ts, ts, sizeof ts);
			n = (size_t)snprintf((char *)f + RT_CTL_HDR, 40, "%s ", ts);
		}
		c->bol[rec.stream] = rec.eol;
		memcpy(f + RT_CTL_HDR + n, data, rec.len);
		n += rec.len;
		rt_ctl_hdr(f, rec.stream == RT_LOG_STDERR ? RT_CTL_ERR : RT_CTL_OUT, n);
		c->olen += RT_CTL_HDR + n;
	}
	if (c->olen > c->ooff)
		conn_flush(i);
	if (c->fd < 0)
		return;
	/* An attached client that caught up lets the pipes flow again. */
	if (c->lossless && !t->gone)
		for (k = 0; k < 2; k++)
			if (t->out[k] >= 0 && !t->polled[k] && t->tty_client < 0 &&
			    read_budget(c->ctr) > 0)
				out_poll(c->ctr, k, 1);
	if (rt_logring_pending(&t->ring, c->cursor) == 0 && c->olen == c->ooff &&
	    (c->ending || !c->follow))
		follow_end(i);
}

static void follow_start(int i, int ci, uint64_t cursor, int lossless, int follow,
			 int timestamps)
{
	struct conn *c = &conns[i];

	c->mode = M_FOLLOW;
	c->ctr = ci;
	ctrs[ci].refs++;
	c->cursor = cursor;
	c->lossless = lossless;
	c->follow = follow;
	c->timestamps = timestamps;
	c->ending = 0;
	c->code = 0;
	c->bol[1] = c->bol[2] = 1;
	conn_events(i);
	pump(i);
}

static void wait_start(int i, int ci)
{
	conns[i].mode = M_WAIT;
	conns[i].ctr = ci;
	ctrs[ci].refs++;
	conn_events(i);
}

/* A run is over (or a stop/rm finished): wake whoever waits for it. */
static void notify_end(int ci, int final)
{
	struct ctr *t = &ctrs[ci];
	int i;

	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++) {
		struct conn *c = &conns[i];

		if (c->fd < 0 || c->ctr != ci)
			continue;
		if (c->mode == M_WAIT) {
			c->mode = M_REQ;
			c->ctr = -1;
			reply_exit(i, "exit_code", t->life.exit_code);
			ctr_unref(ci);
		} else if (c->mode == M_FOLLOW && (c->lossless || final)) {
			c->ending = 1;
			c->code = t->life.exit_code;
			pump(i);
		}
	}
}

/* --- containers: lifecycle ----------------------------------------------- */

static int statedir(const struct ctr *c, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/containers/%s", S.cfg->run, c->m.id);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int build_spec(int ci, char *sdir, size_t cap, struct rt_err *e)
{
	struct ctr *c = &ctrs[ci];

	if (rt_ctr_spec(&c->m, c->conf, c->conflen, &spec, arena, sizeof arena, e) < 0)
		return -1;
	if (statedir(c, sdir, cap) < 0)
		return rt_err_set(e, ENAMETOOLONG, "state directory path too long");
	spec.statedir = sdir;
	return 0;
}

/* Docker's codes for a container that could not be started. */
static int spawn_code(const struct rt_err *e)
{
	int exec = strstr(e->msg, "exec") != NULL;

	if (exec && e->errnum == ENOENT)
		return 127;
	if (exec && (e->errnum == EACCES || e->errnum == ENOEXEC || e->errnum == EPERM ||
		     e->errnum == EISDIR))
		return 126;
	return 125;
}

static int do_spawn(int ci, struct rt_err *e)
{
	struct ctr *c = &ctrs[ci];
	char sdir[RT_PATH_MAX];
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, in = -1, r;
	struct rt_sandbox_proc p = { 0, -1, -1 };

	if (build_spec(ci, sdir, sizeof sdir, e) < 0)
		return -1;
	spec.tty = c->m.tty && IS_ENABLED(CONFIG_TTY);
	if (!spec.tty) {
		if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
			rt_err_sys(e, "pipe");
			goto fail;
		}
		in = c->stdin_fd;
		c->stdin_fd = -1;
		if (in < 0)
			in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			rt_err_sys(e, "open /dev/null");
			goto fail;
		}
		spec.stdio[0] = in;
		spec.stdio[1] = outp[1];
		spec.stdio[2] = errp[1];
	}
	r = rt_sandbox_spawn(&spec, &p, e);
	xclose(&in);
	xclose(&outp[1]);
	xclose(&errp[1]);
	if (r < 0)
		goto fail;
	c->proc = p;
	c->started = real_ns();
	c->ran = 1;
	c->error[0] = '\0';
	if (spec.tty) {
		/* The master is the container's stdin, stdout and stderr. */
		c->out[0] = p.pty;
		c->proc.pty = -1;
		xclose(&outp[0]);
		xclose(&errp[0]);
	} else {
		c->out[0] = outp[0];
		c->out[1] = errp[0];
	}
	set_nonblock(c->out[0]);
	if (c->out[1] >= 0)
		set_nonblock(c->out[1]);
	out_poll(ci, 0, 1);
	out_poll(ci, 1, 1);
	return 0;
fail:
	xclose(&in);
	xclose(&outp[0]);
	xclose(&outp[1]);
	xclose(&errp[0]);
	xclose(&errp[1]);
	return -1;
}

static void send_signal(struct ctr *c, int sig)
{
	if (c->proc.pid <= 0)
		return;
#ifdef SYS_pidfd_send_signal
	/* The pidfd cannot name a recycled PID. */
	if (c->proc.pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, c->proc.pidfd, sig, NULL, 0) == 0)
		return;
#endif
	kill(c->proc.pid, sig);
}

static void ctr_remove_now(int ci)
{
	struct ctr *c = &ctrs[ci];
	char sdir[RT_PATH_MAX];
	struct rt_err e;

	if (build_spec(ci, sdir, sizeof sdir, &e) == 0)
		rt_sandbox_cleanup(&spec, &e);
	rt_ctr_remove(S.rootfd, c->m.id, &e);
	c->gone = 1;
}

static void ctr_event(int ci, enum rt_life_event ev, int64_t arg, struct rt_err *err);

static void apply(int ci, enum rt_life_action a, int64_t arg, struct rt_err *err)
{
	struct ctr *c = &ctrs[ci];
	struct rt_err e;

	switch (a) {
	case RT_LA_SPAWN:
		if (do_spawn(ci, &e) < 0) {
			char msg[RT_ERR_MSG + 64];

			snprintf(c->error, sizeof c->error, "%s", rt_err_str(&e, msg, sizeof msg));
			if (err)
				*err = e;
			c->finished = real_ns();
			ctr_event(ci, RT_LE_EXIT, spawn_code(&e), NULL);
		}
		break;
	case RT_LA_TERM:
		send_signal(c, SIGTERM);
		break;
	case RT_LA_KILL:
		send_signal(c, SIGKILL);
		break;
	case RT_LA_SIGNAL:
		send_signal(c, arg ? (int)arg : SIGKILL);
		break;
	case RT_LA_REMOVE:
		ctr_remove_now(ci);
		break;
	default:
		break;
	}
}

static void ctr_event(int ci, enum rt_life_event ev, int64_t arg, struct rt_err *err)
{
	struct ctr *c = &ctrs[ci];
	enum rt_life_state was = c->life.state;
	int by_user = c->life.stopped_by_user;
	enum rt_life_action a = rt_life_step(&c->life, ev, mono_ms(), arg);

	if (err && a == RT_LA_REFUSE)
		rt_err_set(err, EINVAL, "container %s is not running", c->m.name);
	apply(ci, a, arg, err);
	if (!c->used)
		return;
	if (!c->gone && (by_user != c->life.stopped_by_user ||
			 (c->life.state == RT_LS_EXITED && was != RT_LS_EXITED) ||
			 ((ev == RT_LE_START || ev == RT_LE_RESTART) && a == RT_LA_SPAWN)))
		persist(ci);
	if (ev == RT_LE_EXIT)
		notify_end(ci, !rt_life_alive(&c->life) && c->life.state != RT_LS_RESTARTING &&
				       c->life.state != RT_LS_CRASHLOOP);
	if (c->gone && c->refs == 0)
		ctr_free(ci);
}

/* The container's PID 1 was reaped. */
static void ctr_died(int ci, int status)
{
	struct ctr *c = &ctrs[ci];
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	int k;

	/* Everything in its PID namespace is gone too, so what is in the
	   pipes is all there will be. */
	for (k = 0; k < 2; k++) {
		/* A terminal's client is still reading the master: what is
		   left there is its, not the ring's. */
		if (k == 0 && c->tty_client >= 0) {
			out_close(ci, 0);
			continue;
		}
		while (out_read(ci, k, 1))
			;
	}
	c->tty_client = -1;
	/* The writable layer stays for a restart; rm throws it away. */
	c->proc.pid = 0;
	xclose(&c->proc.pidfd);
	c->finished = real_ns();
	ctr_event(ci, RT_LE_EXIT, code, NULL);
}

static void reap(void)
{
	for (;;) {
		int status, ci, x;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			return;
		for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
			if (ctrs[ci].used && ctrs[ci].proc.pid == pid) {
				ctr_died(ci, status);
				break;
			}
		for (x = 0; x < RT_SUP_MAX_EXECS; x++)
			if (execs[x].pid == pid) {
				int i = execs[x].conn;

				execs[x].pid = 0;
				if (i >= 0 && conns[i].fd >= 0 && conns[i].mode == M_EXEC) {
					conns[i].mode = M_REQ;
					reply_exit(i, "exit",
						   WIFEXITED(status) ? WEXITSTATUS(status)
								     : 128 + WTERMSIG(status));
				}
			}
		/* Anything else is an orphan we adopted as subreaper. */
	}
}

static void arm_timer(void)
{
	struct itimerspec its = { 0 };
	int64_t next = -1;
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (ctrs[ci].used && !ctrs[ci].gone && ctrs[ci].life.deadline >= 0 &&
		    (next < 0 || ctrs[ci].life.deadline < next))
			next = ctrs[ci].life.deadline;
	if (next >= 0) {
		/* Absolute, on the clock the deadlines use; never 0 (disarm). */
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000 + 1;
	}
	timerfd_settime(S.tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void timers(void)
{
	uint64_t n;
	int64_t now = mono_ms();
	int ci;

	if (read(S.tfd, &n, sizeof n) < 0 && errno != EAGAIN)
		return;
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (ctrs[ci].used && !ctrs[ci].gone && ctrs[ci].life.deadline >= 0 &&
		    ctrs[ci].life.deadline <= now)
			ctr_event(ci, RT_LE_TIMER, 0, NULL);
}

/* --- requests ------------------------------------------------------------- */

static const char *status_name(const struct ctr *c)
{
	switch (c->life.state) {
	case RT_LS_CREATED: return "created";
	case RT_LS_RUNNING: return "running";
	case RT_LS_STOPPING: return "running";
	case RT_LS_RESTARTING: return "restarting";
	case RT_LS_CRASHLOOP: return "crash-loop";
	case RT_LS_EXITED: return "exited";
	default: return "removing";
	}
}

static void op_ps(int i, const struct rt_ctl_req *q)
{
	struct rt_json_w w;
	int ci;

	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "containers");
	rt_json_w_arr(&w);
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++) {
		struct ctr *c = &ctrs[ci];

		if (!ctr_visible(ci))
			continue;
		if (!q->all && !rt_life_alive(&c->life) && c->life.state != RT_LS_RESTARTING &&
		    c->life.state != RT_LS_CRASHLOOP)
			continue;
		rt_json_w_obj(&w);
		rt_json_w_key(&w, "id");
		rt_json_w_str(&w, c->m.id);
		rt_json_w_key(&w, "name");
		rt_json_w_str(&w, c->m.name);
		rt_json_w_key(&w, "image");
		rt_json_w_str(&w, c->m.image);
		rt_json_w_key(&w, "command");
		rt_json_w_str(&w, c->m.cmd);
		rt_json_w_key(&w, "created");
		rt_json_w_i64(&w, c->m.created);
		rt_json_w_key(&w, "state");
		rt_json_w_str(&w, status_name(c));
		rt_json_w_key(&w, "exit_code");
		rt_json_w_i64(&w, c->life.exit_code);
		rt_json_w_key(&w, "started");
		rt_json_w_i64(&w, c->started);
		rt_json_w_key(&w, "finished");
		rt_json_w_i64(&w, c->finished);
		rt_json_w_key(&w, "restarts");
		rt_json_w_u64(&w, c->life.restarts);
		rt_json_w_end(&w);
	}
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static int name_taken(const char *name)
{
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (ctr_visible(ci) && !strcmp(ctrs[ci].m.name, name))
			return 1;
	return 0;
}

static int name_taken_except(int self)
{
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (ci != self && ctr_visible(ci) && !strcmp(ctrs[ci].m.name, ctrs[self].m.name))
			return 1;
	return 0;
}

static void op_create(int i, const struct rt_ctl_req *q)
{
	static char rec[RT_CTR_REC_MAX];
	struct rt_ctr_meta m;
	struct rt_json_w w;
	struct rt_err e;
	int n, ci;

	if (S.stopping)
		return reply_err(i, 125, "the rt daemon is shutting down");
	if (rt_ctr_check(q->obj, q->objlen, &m, &e) < 0)
		return reply_e(i, 125, &e);
	if (m.name[0] && name_taken(m.name))
		return reply_err(i, 125,
				 "Conflict. The container name \"/%s\" is already in use. You have to remove (or rename) that container to be able to reuse that name.",
				 m.name);
	if (rt_ctr_new_id(m.id, &e) < 0)
		return reply_e(i, 125, &e);
	if (!m.name[0]) {
		uint32_t r;
		unsigned t;
		char hex[9];

		/* The id is random: its first 32 bits pick the name. */
		memcpy(hex, m.id, 8);
		hex[8] = '\0';
		r = (uint32_t)strtoul(hex, NULL, 16);
		for (t = 0; t < 1000; t++) {
			rt_ctr_name_gen(m.name, r, t);
			if (!name_taken(m.name))
				break;
		}
	}
	m.created = real_ns();
	n = rt_ctr_record(&m, q->obj, q->objlen, rec, sizeof rec, &e);
	if (n < 0)
		return reply_e(i, 125, &e);
	ci = ctr_alloc(&m, rec, (size_t)n, &e);
	if (ci < 0)
		return reply_e(i, 125, &e);
	if (rt_ctr_save(S.rootfd, m.id, rec, (size_t)n, &e) < 0) {
		ctr_free(ci);
		return reply_e(i, 125, &e);
	}
	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "id");
	rt_json_w_str(&w, m.id);
	rt_json_w_key(&w, "name");
	rt_json_w_str(&w, m.name);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static int take_fd(int i)
{
	struct conn *c = &conns[i];
	int fd;

	if (c->nfds == 0)
		return -1;
	fd = c->fds[0];
	memmove(c->fds, c->fds + 1, sizeof c->fds[0] * (size_t)(c->nfds - 1));
	c->nfds--;
	return fd;
}

static void op_start(int i, const struct rt_ctl_req *q, int ci)
{
	struct ctr *c = &ctrs[ci];
	struct rt_err e;
	uint64_t cursor = c->ring.head;
	int alive = rt_life_alive(&c->life);

	if (S.stopping)
		return reply_err(i, 125, "the rt daemon is shutting down");
	if (q->stdin_open && !c->m.tty) {
		xclose(&c->stdin_fd);
		c->stdin_fd = take_fd(i);
	}
	if (!alive) {
		rt_err_clear(&e);
		ctr_event(ci, RT_LE_START, 0, &e);
		if (!c->used)
			return reply_err(i, 125, "container removed");
		if (!rt_life_alive(&c->life) && c->life.state != RT_LS_RESTARTING) {
			if (e.msg[0])
				return reply_e(i, c->life.exit_code ? c->life.exit_code : 125, &e);
			return reply_err(i, 125, "container %s did not start", c->m.name);
		}
	}
	if (!q->attach)
		return reply_ok(i);
	if (c->m.tty && IS_ENABLED(CONFIG_TTY)) {
		static const char ok[] = "{\"ok\":true,\"tty\":true}";
		int fd = c->out[0];

		if (fd < 0 || c->tty_client >= 0)
			return reply_err(i, 125, "cannot attach to the terminal of %s", c->m.name);
		if (rt_ctl_send(conns[i].fd, RT_CTL_JSON, ok, sizeof ok - 1, &fd, 1, &e) < 0) {
			conn_close(i);
			return;
		}
		/* The client relays the terminal itself; the ring takes over
		   when it leaves. */
		out_poll(ci, 0, 0);
		c->tty_client = i;
		wait_start(i, ci);
		return;
	}
	reply_ok(i);
	if (conns[i].fd >= 0)
		follow_start(i, ci, alive ? c->ring.head : cursor, 1, 1, 0);
}

static void op_stop(int i, const struct rt_ctl_req *q, int ci, enum rt_life_event ev)
{
	struct ctr *c = &ctrs[ci];
	int64_t t = q->timeout >= 0 ? q->timeout : c->m.stop_timeout;

	if (ev == RT_LE_RESTART && !rt_life_alive(&c->life)) {
		struct rt_err e;

		rt_err_clear(&e);
		ctr_event(ci, RT_LE_RESTART, 0, &e);
		if (e.msg[0])
			return reply_e(i, 125, &e);
		return reply_ok(i);
	}
	ctr_event(ci, ev, t * 1000, NULL);
	if (c->used && rt_life_alive(&c->life))
		return wait_start(i, ci);
	reply_ok(i);
}

static void op_kill(int i, const struct rt_ctl_req *q, int ci)
{
	struct rt_err e;

	rt_err_clear(&e);
	if (!rt_life_alive(&ctrs[ci].life))
		return reply_err(i, 125, "Cannot kill container: %s: container %s is not running",
				 q->ref, ctrs[ci].m.id);
	ctr_event(ci, RT_LE_KILL, q->signal ? q->signal : SIGKILL, &e);
	reply_ok(i);
}

static void op_rm(int i, const struct rt_ctl_req *q, int ci)
{
	struct ctr *c = &ctrs[ci];

	if (rt_life_alive(&c->life) && !q->force)
		return reply_err(i, 125,
				 "cannot remove container \"/%s\": container is running: stop the container before removing or force remove",
				 c->m.name);
	ctr_event(ci, RT_LE_REMOVE, 0, NULL);
	if (c->used && !c->gone)
		return wait_start(i, ci);
	reply_ok(i);
}

static void op_logs(int i, const struct rt_ctl_req *q, int ci)
{
	struct ctr *c = &ctrs[ci];
	int live = rt_life_alive(&c->life) || c->life.state == RT_LS_RESTARTING ||
		   c->life.state == RT_LS_CRASHLOOP;

	reply_ok(i);
	if (conns[i].fd >= 0)
		follow_start(i, ci, rt_logring_tail_lines(&c->ring, (long)q->tail), 0,
			     q->follow && live, q->timestamps);
}

static void op_wait(int i, int ci)
{
	if (rt_life_alive(&ctrs[ci].life))
		return wait_start(i, ci);
	reply_exit(i, "exit_code", ctrs[ci].life.exit_code);
}

static void op_inspect(int i, int ci)
{
	struct ctr *c = &ctrs[ci];
	struct rt_json_w w;
	struct rt_err e;
	char t[48], pol[24];

	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "container");
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "Id");
	rt_json_w_str(&w, c->m.id);
	rt_json_w_key(&w, "Name");
	snprintf(arena, sizeof arena, "/%s", c->m.name);
	rt_json_w_str(&w, arena);
	rt_json_w_key(&w, "Created");
	fmt_time(c->m.created, t, sizeof t);
	rt_json_w_str(&w, t);
	rt_json_w_key(&w, "Image");
	rt_json_w_str(&w, c->m.image);
	rt_json_w_key(&w, "State");
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "Status");
	rt_json_w_str(&w, status_name(c));
	rt_json_w_key(&w, "Running");
	rt_json_w_bool(&w, rt_life_alive(&c->life));
	rt_json_w_key(&w, "Restarting");
	rt_json_w_bool(&w, c->life.state == RT_LS_RESTARTING || c->life.state == RT_LS_CRASHLOOP);
	rt_json_w_key(&w, "CrashLoop");
	rt_json_w_bool(&w, c->life.state == RT_LS_CRASHLOOP);
	rt_json_w_key(&w, "Pid");
	rt_json_w_i64(&w, c->proc.pid);
	rt_json_w_key(&w, "ExitCode");
	rt_json_w_i64(&w, c->life.exit_code);
	rt_json_w_key(&w, "Error");
	rt_json_w_str(&w, c->error);
	rt_json_w_key(&w, "StartedAt");
	fmt_time(c->started, t, sizeof t);
	rt_json_w_str(&w, t);
	rt_json_w_key(&w, "FinishedAt");
	fmt_time(c->finished, t, sizeof t);
	rt_json_w_str(&w, t);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "RestartCount");
	rt_json_w_u64(&w, c->life.restarts);
	rt_json_w_key(&w, "RestartPolicy");
	rt_json_w_str(&w, rt_life_policy_str(c->m.policy, pol, sizeof pol));
	rt_json_w_key(&w, "Config");
	if (rt_ctr_copy_config(&w, c->conf, c->conflen, &e) < 0)
		return reply_e(i, 125, &e);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static void op_exec(int i, const struct rt_ctl_req *q, int ci)
{
	static char xarena[RT_CTL_MAX + 8192];
	static struct rt_sandbox_exec x;
	struct ctr *c = &ctrs[ci];
	struct rt_sandbox_proc p = { 0, -1, -1 };
	char sdir[RT_PATH_MAX];
	struct rt_err e;
	int slot, k, r;

	if (!IS_ENABLED(CONFIG_EXEC))
		return reply_err(i, 125, "exec is not available in this build");
	if (c->proc.pid <= 0 || c->life.state != RT_LS_RUNNING)
		return reply_err(i, 125, "container %s is not running", c->m.id);
	for (slot = 0; slot < RT_SUP_MAX_EXECS; slot++)
		if (execs[slot].pid == 0)
			break;
	if (slot == RT_SUP_MAX_EXECS)
		return reply_err(i, 125, "too many exec sessions (at most %d)", RT_SUP_MAX_EXECS);
	if (build_spec(ci, sdir, sizeof sdir, &e) < 0 ||
	    rt_ctr_exec(c->conf, c->conflen, q->obj, q->objlen, &x, xarena, sizeof xarena, &e) < 0)
		return reply_e(i, 125, &e);
	x.tty = x.tty && IS_ENABLED(CONFIG_TTY);
	if (!x.tty) {
		if (conns[i].nfds != 3)
			return reply_err(i, 125, "exec needs the client's stdin, stdout and stderr");
		for (k = 0; k < 3; k++)
			x.stdio[k] = conns[i].fds[k];
	}
	r = rt_sandbox_exec_spawn(&spec, &c->proc, &x, &p, &e);
	if (r < 0)
		return reply_e(i, spawn_code(&e), &e);
	execs[slot].pid = p.pid;
	execs[slot].conn = i;
	if (p.pidfd >= 0)
		close(p.pidfd);
	if (x.tty) {
		static const char ok[] = "{\"ok\":true,\"tty\":true}";

		r = rt_ctl_send(conns[i].fd, RT_CTL_JSON, ok, sizeof ok - 1, &p.pty, 1, &e);
		close(p.pty);
		if (r < 0) {
			conn_close(i);
			return;
		}
	} else {
		reply_ok(i);
	}
	if (conns[i].fd >= 0) {
		conns[i].mode = M_EXEC;
		conn_events(i);
	}
}

static void op_volume_users(int i, const struct rt_ctl_req *q)
{
	struct rt_json_w w;
	char needle[RT_CTL_REF + 16];
	int ci;

	if (!rt_ctr_volume_ok(q->ref))
		return reply_err(i, 125, "invalid volume name '%s'", q->ref);
	snprintf(needle, sizeof needle, "\"volume\":\"%s\"", q->ref);
	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "containers");
	rt_json_w_arr(&w);
	/* Records are written compactly by rt_ctr_record, and a volume name
	   needs no escaping, so the member's bytes are exact. */
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (ctr_visible(ci) && memmem(ctrs[ci].conf, ctrs[ci].conflen, needle, strlen(needle)))
			rt_json_w_str(&w, ctrs[ci].m.name);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static void handle_request(int i)
{
	struct conn *c = &conns[i];
	struct rt_ctl_req q;
	struct rt_err e;
	int ci = -1;

	if (c->rd.type != RT_CTL_JSON) {
		reply_err(i, 125, "expected a request");
		goto out;
	}
	if (rt_ctl_req_parse(&q, (const char *)c->rd.buf, c->rd.len, reqtok,
			     sizeof reqtok / sizeof reqtok[0], &e) < 0) {
		reply_e(i, 125, &e);
		goto out;
	}
	if (q.op != RT_OP_PS && q.op != RT_OP_CREATE && q.op != RT_OP_VOLUME_USERS) {
		ci = ctr_find(q.ref, &e);
		if (ci < 0) {
			reply_e(i, e.errnum == ENOENT ? 1 : 125, &e);
			goto out;
		}
	}
	switch (q.op) {
	case RT_OP_PS: op_ps(i, &q); break;
	case RT_OP_CREATE: op_create(i, &q); break;
	case RT_OP_START: op_start(i, &q, ci); break;
	case RT_OP_STOP: op_stop(i, &q, ci, RT_LE_STOP); break;
	case RT_OP_RESTART: op_stop(i, &q, ci, RT_LE_RESTART); break;
	case RT_OP_KILL: op_kill(i, &q, ci); break;
	case RT_OP_RM: op_rm(i, &q, ci); break;
	case RT_OP_LOGS: op_logs(i, &q, ci); break;
	case RT_OP_WAIT: op_wait(i, ci); break;
	case RT_OP_INSPECT: op_inspect(i, ci); break;
	case RT_OP_EXEC: op_exec(i, &q, ci); break;
	case RT_OP_VOLUME_USERS: op_volume_users(i, &q); break;
	}
out:
	/* fds a request did not use are not kept. */
	while (c->fd >= 0 && c->nfds > 0) {
		int fd = take_fd(i);

		close(fd);
	}
}

/* --- clients: input ------------------------------------------------------ */

static void conn_close(int i)
{
	struct conn *c = &conns[i];
	int k, ci = c->ctr;

	if (c->fd < 0)
		return;
	epoll_ctl(S.ep, EPOLL_CTL_DEL, c->fd, NULL);
	xclose(&c->fd);
	for (k = 0; k < c->nfds; k++)
		close(c->fds[k]);
	c->nfds = 0;
	for (k = 0; k < RT_SUP_MAX_EXECS; k++)
		if (execs[k].conn == i)
			execs[k].conn = -1;
	c->mode = M_REQ;
	c->ctr = -1;
	if (ci >= 0) {
		struct ctr *t = &ctrs[ci];

		/* A terminal client left: the ring keeps the output from now. */
		if (t->tty_client == i) {
			t->tty_client = -1;
			if (!t->gone)
				out_poll(ci, 0, 1);
		}
		if (!t->gone)
			for (k = 0; k < 2; k++)
				if (t->out[k] >= 0 && !t->polled[k] && t->tty_client < 0)
					out_poll(ci, k, 1);
		ctr_unref(ci);
	}
	/* Give back the pages a large request or reply touched. */
	madvise(conn_in[i], sizeof conn_in[i], MADV_DONTNEED);
	madvise(conn_out[i], sizeof conn_out[i], MADV_DONTNEED);
}

static void conn_accept(void)
{
	for (;;) {
		struct ucred cr;
		socklen_t len = sizeof cr;
		int fd = accept4(S.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;

		if (fd < 0)
			return;
		/* Only root and the daemon's own user may drive it. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
		    (cr.uid != 0 && cr.uid != S.uid)) {
			close(fd);
			continue;
		}
		for (i = 0; i < RT_SUP_MAX_CLIENTS; i++)
			if (conns[i].fd < 0)
				break;
		if (i == RT_SUP_MAX_CLIENTS) {
			static const char busy[] = "J\0\0\x3c{\"ok\":false,\"code\":125,\"error\":\"too many clients, retry\"}";

			send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		memset(&conns[i], 0, sizeof conns[i]);
		conns[i].fd = fd;
		conns[i].ctr = -1;
		rt_ctl_rd_init(&conns[i].rd, conn_in[i], RT_CTL_MAX);
		ep_set(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP, EVD(K_CONN, i));
	}
}

static void conn_input(int i, uint32_t events)
{
	struct conn *c = &conns[i];
	uint8_t tmp[4096];
	int rounds = 0;

	if (events & EPOLLOUT) {
		conn_flush(i);
		if (c->fd < 0)
			return;
		if (c->mode == M_FOLLOW)
			pump(i);
		if (c->fd < 0)
			return;
	}
	if (c->mode != M_REQ) {
		/* Nothing is read from a client while it is streamed to or
		   waiting; it may only hang up. */
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_close(i);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	/* A bounded number of reads per wake-up keeps one client from
	   starving the rest. */
	while (c->fd >= 0 && c->mode == M_REQ && c->olen == c->ooff && rounds++ < 16) {
		size_t want = rt_ctl_want(&c->rd);
		ssize_t n = rt_ctl_recv(c->fd, tmp, want < sizeof tmp ? want : sizeof tmp,
					c->fds, &c->nfds);
		struct rt_err e;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(i);
			return;
		}
		rt_ctl_push(&c->rd, tmp, (size_t)n);
		if (rt_ctl_rd_check(&c->rd, &e) < 0) {
			char msg[RT_ERR_MSG + 64];

			reply_err(i, 125, "%s", rt_err_str(&e, msg, sizeof msg));
			if (c->fd >= 0) {
				c->closing = 1;
				conn_flush(i);
			}
			return;
		}
		if (c->rd.ready) {
			handle_request(i);
			if (c->fd >= 0)
				rt_ctl_rd_next(&c->rd);
		}
	}
}

/* --- start-up and the loop ------------------------------------------------ */

static void load_one(const char *id)
{
	static char rec[RT_CTR_REC_MAX];
	char path[300];
	struct rt_ctr_state st;
	struct rt_ctr_meta m;
	struct rt_err e;
	size_t len;
	int ci, fd;

	snprintf(path, sizeof path, "containers/%s", id);
	fd = rt_path_open(S.rootfd, path, O_RDONLY | O_DIRECTORY, 0, &e);
	if (fd < 0)
		return;
	if (rt_io_read_file(fd, "config.json", rec, sizeof rec, &len, &e) < 0) {
		close(fd);
		fprintf(stderr, "rt: daemon: container %.12s: %s\n", id, e.msg);
		return;
	}
	close(fd);
	memset(&m, 0, sizeof m);
	ci = ctr_alloc(&m, rec, len, &e);
	if (ci < 0) {
		fprintf(stderr, "rt: daemon: container %.12s: %s\n", id, e.msg);
		return;
	}
	if (strcmp(ctrs[ci].m.id, id) || name_taken_except(ci)) {
		fprintf(stderr, "rt: daemon: container %.12s: record names another id or a taken name\n", id);
		ctr_free(ci);
		return;
	}
	rt_ctr_load_state(S.rootfd, id, &st, &e);
	ctrs[ci].started = st.started;
	ctrs[ci].finished = st.finished;
	ctrs[ci].ran = st.ran;
	ctrs[ci].life.exit_code = st.exit_code;
	ctrs[ci].life.stopped_by_user = st.stopped_by_user;
	/* A writable layer left under RUN by the previous daemon (no reboot
	   in between) is kept, as it would be across a restart. */
	ctrs[ci].life.state = st.ran ? RT_LS_EXITED : RT_LS_CREATED;
}

static void load_all(void)
{
	struct dirent *d;
	DIR *dir;
	int fd, ci;

	fd = openat(S.rootfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strlen(d->d_name) != RT_CTR_ID ||
		    strspn(d->d_name, "0123456789abcdef") != RT_CTR_ID)
			continue;
		load_one(d->d_name);
	}
	closedir(dir);
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++) {
		if (!ctr_visible(ci))
			continue;
		/* A --rm container outlived its daemon: finish the job. */
		if (ctrs[ci].m.autoremove) {
			ctr_event(ci, RT_LE_REMOVE, 0, NULL);
			continue;
		}
		ctr_event(ci, RT_LE_BOOT, 0, NULL);
	}
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

static int setup(const struct rt_sup_cfg *cfg, struct rt_err *e)
{
	char sock[RT_PATH_MAX];
	sigset_t set;
	int i, fd;

	S.cfg = cfg;
	S.uid = geteuid();
	S.ep = S.sfd = S.tfd = S.lfd = S.rootfd = S.wfd = -1;
	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++)
		conns[i].fd = -1;
	for (i = 0; i < RT_SUP_MAX_EXECS; i++)
		execs[i].conn = -1;
	if (cfg->root[0] != '/' || cfg->run[0] != '/')
		return rt_err_set(e, EINVAL, "--root and --run must be absolute paths");
	fd = mkdir_p(cfg->root, 0700, e);
	if (fd < 0)
		return rt_err_wrap(e, "%s", cfg->root);
	S.rootfd = fd;
	fd = rt_path_mkdirs(S.rootfd, "containers", 0700, e);
	if (fd < 0)
		return rt_err_wrap(e, "%s", cfg->root);
	close(fd);
	fd = rt_path_mkdirs(S.rootfd, "volumes", 0700, e);
	if (fd < 0)
		return rt_err_wrap(e, "%s", cfg->root);
	close(fd);
	fd = mkdir_p(cfg->run, 0700, e);
	if (fd < 0)
		return rt_err_wrap(e, "%s", cfg->run);
	i = rt_path_mkdirs(fd, "containers", 0700, e);
	close(fd);
	if (i < 0)
		return rt_err_wrap(e, "%s", cfg->run);
	close(i);
	if (snprintf(sock, sizeof sock, "%s/rt.sock", cfg->run) >= (int)sizeof sock)
		return rt_err_set(e, ENAMETOOLONG, "--run path too long");

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGPWR);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	S.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	S.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	S.ep = epoll_create1(EPOLL_CLOEXEC);
	if (S.sfd < 0 || S.tfd < 0 || S.ep < 0)
		return rt_err_sys(e, "signalfd, timerfd or epoll");
	if (cfg->subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return rt_err_sys(e, "PR_SET_CHILD_SUBREAPER");
	S.lfd = rt_ctl_listen(sock, e);
	if (S.lfd < 0)
		return -1;
	ep_set(EPOLL_CTL_ADD, S.lfd, EPOLLIN, EVD(K_LISTEN, 0));
	ep_set(EPOLL_CTL_ADD, S.sfd, EPOLLIN, EVD(K_SIG, 0));
	ep_set(EPOLL_CTL_ADD, S.tfd, EPOLLIN, EVD(K_TIMER, 0));
	if (IS_ENABLED(CONFIG_WATCHDOG) && wdog_fd >= 0) {
		struct itimerspec its = { { (time_t)wdog_s, 0 }, { 0, 1 } };

		S.wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (S.wfd < 0 || timerfd_settime(S.wfd, 0, &its, NULL) < 0)
			return rt_err_sys(e, "watchdog timer");
		ep_set(EPOLL_CTL_ADD, S.wfd, EPOLLIN, EVD(K_WDOG, 0));
	}
	return 0;
}

static void watchdog_ping(void)
{
	uint64_t n;

	if (read(S.wfd, &n, sizeof n) < 0 && errno != EAGAIN)
		return;
	if (ioctl(wdog_fd, WDIOC_KEEPALIVE, 0) < 0 && write(wdog_fd, "\0", 1) < 0)
		return;
}

static void signals(void)
{
	struct signalfd_siginfo si;
	int ci;

	while (read(S.sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		int sig = (int)si.ssi_signo;

		if (sig == SIGCHLD) {
			reap();
			continue;
		}
		if (sig != SIGTERM && sig != SIGINT && sig != SIGUSR1 && sig != SIGUSR2 &&
		    sig != SIGPWR)
			continue;
		if (!S.stopping) {
			S.stopping = 1;
			S.stop_sig = sig;
		}
		for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
			if (ctr_visible(ci))
				ctr_event(ci, RT_LE_SHUTDOWN, ctrs[ci].m.stop_timeout * 1000, NULL);
	}
	/* A SIGCHLD may have been merged with another signal. */
	reap();
}

static int any_alive(void)
{
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (ctrs[ci].used && (ctrs[ci].proc.pid > 0 || rt_life_alive(&ctrs[ci].life)))
			return 1;
	return 0;
}

static void teardown(void)
{
	char sock[RT_PATH_MAX];
	int i;

	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++)
		conn_close(i);
	for (i = 0; i < RT_SUP_MAX_CONTAINERS; i++)
		if (ctrs[i].used) {
			out_close(i, 0);
			out_close(i, 1);
			ctr_free(i);
		}
	if (S.lfd >= 0 && snprintf(sock, sizeof sock, "%s/rt.sock", S.cfg->run) < (int)sizeof sock)
		unlink(sock);
	xclose(&S.lfd);
	xclose(&S.ep);
	xclose(&S.tfd);
	xclose(&S.sfd);
	xclose(&S.wfd);
	xclose(&S.rootfd);
}

int rt_supervise(const struct rt_sup_cfg *cfg, struct rt_err *e)
{
	struct epoll_event ev[32];
	int n, k;

	memset(&S, 0, sizeof S);
	if (setup(cfg, e) < 0) {
		teardown();
		return -1;
	}
	load_all();
	while (!(S.stopping && !any_alive())) {
		arm_timer();
		n = epoll_wait(S.ep, ev, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Cannot happen with a valid epoll fd; never spin. */
			rt_err_sys(e, "epoll_wait");
			break;
		}
		for (k = 0; k < n; k++) {
			uint32_t kind = (uint32_t)(ev[k].data.u64 >> 32);
			uint32_t idx = (uint32_t)ev[k].data.u64;

			switch (kind) {
			case K_LISTEN:
				conn_accept();
				break;
			case K_SIG:
				signals();
				break;
			case K_TIMER:
				timers();
				break;
			case K_WDOG:
				watchdog_ping();
				break;
			case K_CONN:
				if (conns[idx].fd >= 0)
					conn_input((int)idx, ev[k].events);
				break;
			case K_OUT:
				if (ctrs[idx / 2].used && ctrs[idx / 2].out[idx % 2] >= 0)
					out_read((int)idx / 2, (int)idx % 2, 0);
				break;
			}
		}
	}
	teardown();
	return S.stop_sig;
}
