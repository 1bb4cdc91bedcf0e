/* The supervisor's loop and its containers: records, spawning through the
 * sandbox, output into log rings, reaping, restart timers, start-up and
 * shutdown. The clients' side of the loop is serve.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>

#include <linux/watchdog.h>

#include "client.h"
#include "io.h"
#include "kconfig.h"
#include "path.h"
#include "supervise_int.h"
#ifdef CONFIG_NET_BRIDGE
#include "net.h"
#endif

struct sup_state sup;
struct ctr sup_ctrs[RT_SUP_MAX_CONTAINERS];
struct rt_sandbox_spec sup_spec;
static char arena[RT_CTR_REC_MAX + 8192];   /* decoded spec strings */
static int wdog_fd = -1;
static unsigned wdog_s;
static const char *apps_dir = RT_SUP_APPS_DIR;

void rt_supervise_apps(const char *dir)
{
	apps_dir = dir;
}

/* rt itself in a child with argv (signals unblocked; with pdeath, it gets
 * SIGTERM when we die). Short-lived verbs: what they parse cannot hurt
 * PID 1. */
static pid_t spawn_self(char *const argv[], int pdeath)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;

		if (pdeath)
			prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

#ifdef CONFIG_UPDATE
/* `rt update --watch` beside reload: the watcher of the apps' update
 * channels (cli_update.c), our child, dying with us; a running one is
 * told to read the app files again. It exits by itself when no app has a
 * channel, and the next reload starts it again. */
static pid_t watch_pid;

static void watch(void)
{
	char *argv[] = { "rt", "--root", (char *)sup.cfg->root, "--run", (char *)sup.cfg->run,
			 "update", "--watch", "--apps", (char *)apps_dir, NULL };
	pid_t pid;

	if (watch_pid > 0) {
		kill(watch_pid, SIGHUP);
		return;
	}
	pid = spawn_self(argv, 1);
	if (pid < 0)
		fprintf(stderr, "rt: daemon: cannot start the update watcher: %s\n", strerror(errno));
	else
		watch_pid = pid;
}
#endif

/* `rt reload` in a child: app files are parsed and images resolved in a
 * process that may fail without harm. It reports on our stderr (the
 * console at boot) and is reaped like any orphan. */
static void reload(void)
{
	char *argv[] = { "rt", "--root", (char *)sup.cfg->root, "--run", (char *)sup.cfg->run,
			 "reload", "--apps", (char *)apps_dir, NULL };
	struct stat st;

	if (!apps_dir || stat(apps_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	if (spawn_self(argv, 0) < 0)
		fprintf(stderr, "rt: daemon: cannot start reload: %s\n", strerror(errno));
#ifdef CONFIG_UPDATE
	watch();
#endif
}

void rt_supervise_watchdog(int fd, unsigned period_s)
{
	wdog_fd = fd;
	wdog_s = period_s ? period_s : 10;
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t sup_mono_ms(void)
{
	return mono_ms();
}

int64_t sup_real_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* RFC 3339 with nanoseconds, as Docker prints times. */
void sup_fmt_time(int64_t ns, char *buf, size_t cap)
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

void sup_ep_set(int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	epoll_ctl(sup.ep, op, fd, &ev);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void sup_xclose(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void sup_ctr_free(int ci)
{
	struct ctr *c = &sup_ctrs[ci];

	sup_xclose(&c->stdin_w);
	sup_xclose(&c->proc.pidfd);
#ifdef CONFIG_HEALTHCHECK
	sup_health_stopped(ci);
#endif
	free(c->rec);
	memset(c, 0, sizeof *c);
}

void sup_ctr_unref(int ci)
{
	struct ctr *c = &sup_ctrs[ci];

	if (c->refs > 0)
		c->refs--;
	if (c->gone && c->refs == 0)
		sup_ctr_free(ci);
}

int sup_ctr_alloc(const char *rec, size_t len, struct rt_err *e)
{
	const char *conf;
	size_t conflen;
	struct rt_ctr_meta pm;
	struct ctr *c;
	size_t ring;
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (!sup_ctrs[ci].used)
			break;
	if (ci == RT_SUP_MAX_CONTAINERS)
		return rt_err_set(e, ENOSPC, "too many containers (at most %d)", RT_SUP_MAX_CONTAINERS);
	c = &sup_ctrs[ci];
	memset(c, 0, sizeof *c);
	/* The record says how large its ring is (checked: bounded KiB). */
	if (rt_ctr_parse_record(rec, len, &pm, &conf, &conflen, e) < 0)
		return -1;
	ring = (size_t)pm.log_kb * 1024;
	/* One block per container: the record, then its log ring. */
	c->rec = malloc(len + ring);
	if (!c->rec)
		return rt_err_set(e, ENOMEM, "no memory for a container");
	memcpy(c->rec, rec, len);
	c->reclen = len;
	c->m = pm;
	c->conf = c->rec + (conf - rec);
	c->conflen = conflen;
	if (rt_logring_init(&c->ring, c->rec + len, ring) < 0) {
		free(c->rec);
		c->rec = NULL;
		return rt_err_set(e, EINVAL, "log ring of %zu bytes is too small", ring);
	}
	rt_life_init(&c->life, pm.policy, pm.autoremove);
	c->out[0] = c->out[1] = -1;
	c->proc.pidfd = c->proc.pty = c->stdin_w = -1;
	c->tty_client = -1;
#ifdef CONFIG_HEALTHCHECK
	c->hc.out = -1;
	c->hc.deadline = -1;
#endif
	c->used = 1;
	return ci;
}

int sup_ctr_visible(int ci)
{
	return sup_ctrs[ci].used && !sup_ctrs[ci].gone;
}

/* A container by name, full id or unique id prefix. */
int sup_ctr_find(const char *ref, struct rt_err *e)
{
	size_t n = strlen(ref);
	int ci, found = -1;

	if (!n)
		return rt_err_set(e, EINVAL, "no container named");
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (sup_ctr_visible(ci) && !strcmp(sup_ctrs[ci].m.name, ref))
			return ci;
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++) {
		if (!sup_ctr_visible(ci) || strncmp(sup_ctrs[ci].m.id, ref, n))
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
	struct ctr *c = &sup_ctrs[ci];
	struct rt_ctr_state st = {
		.started = c->started, .finished = c->finished,
		.exit_code = c->life.exit_code, .stopped_by_user = c->life.stopped_by_user,
		.ran = c->ran,
	};
	struct rt_err e;

	/* A failed state write costs only what a reboot remembers. */
	rt_ctr_save_state(sup.rootfd, c->m.id, &st, !c->m.autoremove, &e);
}

void sup_out_poll(int ci, int k, int on)
{
	struct ctr *c = &sup_ctrs[ci];

	if (c->out[k] < 0 || c->polled[k] == on)
		return;
	if (on)
		sup_ep_set(EPOLL_CTL_ADD, c->out[k], EPOLLIN, EVD(K_OUT, ci * 2 + k));
	else
		epoll_ctl(sup.ep, EPOLL_CTL_DEL, c->out[k], NULL);
	c->polled[k] = on;
}

static void out_close(int ci, int k)
{
	sup_out_poll(ci, k, 0);
	sup_xclose(&sup_ctrs[ci].out[k]);
}

/* Read what is there; returns 0 at end of file or error (fd closed),
 * 1 when more may come. */
static void finish_run(int ci);

/* Read what is there into the ring. drain: until EOF (the writers are
 * dead); else one read, for fairness. Returns 0 once the fd is closed
 * (EOF, or EIO from a pty whose slave closed), 1 while it stays open,
 * including when an attached client's budget paused it. */
/* --log-mirror: each piece of output also goes to the console or the
 * kernel log, one line per write (what /dev/kmsg takes as a record),
 * prefixed with the container's name. Both are opened non-blocking: a
 * slow serial console drops lines rather than stall the loop. An open
 * that failed is tried again at most every 10 s. */
static void mirror(const struct ctr *c, const uint8_t *p, size_t n)
{
	static int fds[3] = { -1, -1, -1 };
	static int64_t tried[3];
	static char line[1024];
	int w = c->m.log_mirror;

	if (w != RT_CTR_MIRROR_CONSOLE && w != RT_CTR_MIRROR_KMSG)
		return;
	if (fds[w] < 0) {
		int64_t now = mono_ms();

		if (tried[w] && now - tried[w] < 10000)
			return;
		tried[w] = now;
		fds[w] = open(w == RT_CTR_MIRROR_KMSG ? "/dev/kmsg" : "/dev/console",
			      O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fds[w] < 0)
			return;
	}
	while (n > 0) {
		const uint8_t *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n, room;
		int h = snprintf(line, sizeof line, "%s%s: ",
				 w == RT_CTR_MIRROR_KMSG ? "<6>" : "", c->m.name);

		if (h < 0 || (size_t)h >= sizeof line - 1)
			return;
		/* A longer line goes out in pieces, each one a record. */
		room = sizeof line - 1 - (size_t)h;
		if (len > room)
			len = room;
		memcpy(line + h, p, len);
		line[(size_t)h + len] = '\n';
		/* Dropped, not retried, when it would block or fails. */
		if (write(fds[w], line, (size_t)h + len + 1) < 0 && errno != EAGAIN &&
		    errno != EINTR && errno != EINVAL)
			sup_xclose(&fds[w]);
		if (len < n && p[len] == '\n')
			len++;
		p += len;
		n -= len;
	}
}

static int out_read(int ci, int k, int drain)
{
	static uint8_t buf[16384];
	struct ctr *c = &sup_ctrs[ci];
	int stream = k == 0 ? RT_LOG_STDOUT : RT_LOG_STDERR;

	while (c->out[k] >= 0) {
		size_t want = sup_read_budget(ci);
		ssize_t n;

		if (want > sizeof buf)
			want = sizeof buf;
		if (want == 0) {
			/* Resumed by the client's pump once it catches up. */
			sup_out_poll(ci, k, 0);
			return 1;
		}
		n = read(c->out[k], buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0) {
			out_close(ci, k);
			/* The last output of a dead container: its run is over
			   (this may free the record: touch nothing after). */
			if (c->reaped && c->out[0] < 0 && c->out[1] < 0)
				finish_run(ci);
			return 0;
		}
		rt_logring_write(&c->ring, stream, sup_real_ns(), buf, (size_t)n);
		mirror(c, buf, (size_t)n);
		sup_notify_output(ci);
		if (!drain)
			return 1;
	}
	return 0;
}

static int statedir(const struct ctr *c, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/containers/%s", sup.cfg->run, c->m.id);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int sup_build_spec(int ci, char *sdir, size_t cap, struct rt_err *e)
{
	struct ctr *c = &sup_ctrs[ci];

	if (rt_ctr_spec(&c->m, c->conf, c->conflen, &sup_spec, arena, sizeof arena, e) < 0)
		return -1;
	if (statedir(c, sdir, cap) < 0)
		return rt_err_set(e, ENAMETOOLONG, "state directory path too long");
	sup_spec.statedir = sdir;
	return 0;
}

/* Docker's codes for a container that could not be started. */
int sup_spawn_code(const struct rt_err *e)
{
	int exec = strstr(e->msg, "exec") != NULL;

	if (exec && e->errnum == ENOENT)
		return 127;
	if (exec && (e->errnum == EACCES || e->errnum == ENOEXEC || e->errnum == EPERM ||
		     e->errnum == EISDIR))
		return 126;
	return 125;
}

#ifdef CONFIG_NET_BRIDGE
/* A bridge container's network namespace, made and configured before the
 * spawn; the sandbox's child joins it. */
static int net_attach(int ci, struct rt_err *e)
{
	static struct rt_net_spec ns;
	struct ctr *c = &sup_ctrs[ci];
	struct rt_net_req rq;
	struct rt_net_att at;

	if (rt_netconf_spec_text(c->conf, c->conflen, "none", &ns, e) < 0)
		return -1;
	rq.id = c->m.id;
	rq.name = c->m.name;
	rq.hostname = sup_spec.hostname;
	rq.spec = &ns;
	if (rt_net_attach(&rq, &at, e) < 0)
		return -1;
	sup_spec.netns_fd = at.netns_fd;
	sup_spec.etc_hosts = at.hosts;
	sup_spec.etc_resolv = at.resolv;
	return 0;
}
#endif

static int do_spawn(int ci, struct rt_err *e)
{
	struct ctr *c = &sup_ctrs[ci];
	char sdir[RT_PATH_MAX];
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 }, in = -1, r;
	struct rt_sandbox_proc p = { 0, -1, -1 };

	if (sup_build_spec(ci, sdir, sizeof sdir, e) < 0)
		return -1;
	sup_spec.tty = c->m.tty && IS_ENABLED(CONFIG_TTY);
	if (!sup_spec.tty) {
		if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
			rt_err_sys(e, "pipe");
			goto fail;
		}
		/* -i: a pipe whose write end we hold, never a client's own
		   fd, which the container could reopen through
		   /proc/self/fd/0 with any access (a file for writing). */
		if (c->m.stdin_open || c->stdin_want) {
			if (pipe2(inp, O_CLOEXEC) < 0) {
				rt_err_sys(e, "pipe");
				goto fail;
			}
			in = inp[0];
			inp[0] = -1;
		} else {
			in = open("/dev/null", O_RDONLY | O_CLOEXEC);
		}
		if (in < 0) {
			rt_err_sys(e, "open /dev/null");
			goto fail;
		}
		sup_spec.stdio[0] = in;
		sup_spec.stdio[1] = outp[1];
		sup_spec.stdio[2] = errp[1];
	}
#ifdef CONFIG_NET_BRIDGE
	if (sup_spec.net == RT_NET_BRIDGE && net_attach(ci, e) < 0)
		goto fail;
#endif
	r = rt_sandbox_spawn(&sup_spec, &p, e);
	sup_xclose(&in);
	sup_xclose(&outp[1]);
	sup_xclose(&errp[1]);
#ifdef CONFIG_NET_BRIDGE
	if (sup_spec.net == RT_NET_BRIDGE) {
		struct rt_err ne;

		/* The container holds the namespace now, or nothing does. */
		sup_xclose(&sup_spec.netns_fd);
		if (r < 0)
			rt_net_detach(c->m.id, &ne);
	}
#endif
	if (r < 0)
		goto fail;
	c->proc = p;
	c->stdin_want = 0;
	sup_xclose(&c->stdin_w);
	c->stdin_w = inp[1];
	c->started = sup_real_ns();
	c->ran = 1;
	c->error[0] = '\0';
	if (sup_spec.tty) {
		/* The master is the container's stdin, stdout and stderr. */
		c->out[0] = p.pty;
		c->proc.pty = -1;
		sup_xclose(&outp[0]);
		sup_xclose(&errp[0]);
	} else {
		c->out[0] = outp[0];
		c->out[1] = errp[0];
	}
	set_nonblock(c->out[0]);
	if (c->out[1] >= 0)
		set_nonblock(c->out[1]);
	sup_out_poll(ci, 0, 1);
	sup_out_poll(ci, 1, 1);
#ifdef CONFIG_HEALTHCHECK
	sup_health_started(ci);
#endif
	return 0;
fail:
	sup_xclose(&in);
	sup_xclose(&inp[1]);
	sup_xclose(&outp[0]);
	sup_xclose(&outp[1]);
	sup_xclose(&errp[0]);
	sup_xclose(&errp[1]);
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

void sup_ctr_signal(int ci, int sig)
{
	send_signal(&sup_ctrs[ci], sig);
}

static void ctr_remove_now(int ci)
{
	struct ctr *c = &sup_ctrs[ci];
	char sdir[RT_PATH_MAX];
	struct rt_err e;

	if (sup_build_spec(ci, sdir, sizeof sdir, &e) == 0)
		rt_sandbox_cleanup(&sup_spec, &e);
	rt_ctr_remove(sup.rootfd, c->m.id, !c->m.autoremove, &e);
	c->gone = 1;
}

static void apply(int ci, enum rt_life_action a, int64_t arg, struct rt_err *err)
{
	struct ctr *c = &sup_ctrs[ci];
	struct rt_err e;

	switch (a) {
	case RT_LA_SPAWN:
		if (do_spawn(ci, &e) < 0) {
			char msg[RT_ERR_MSG + 64];

			snprintf(c->error, sizeof c->error, "%s", rt_err_str(&e, msg, sizeof msg));
			if (err)
				*err = e;
			c->finished = sup_real_ns();
			sup_ctr_event(ci, RT_LE_EXIT, sup_spawn_code(&e), NULL);
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

void sup_ctr_event(int ci, enum rt_life_event ev, int64_t arg, struct rt_err *err)
{
	struct ctr *c = &sup_ctrs[ci];
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
		sup_notify_end(ci, !rt_life_alive(&c->life) && c->life.state != RT_LS_RESTARTING &&
				       c->life.state != RT_LS_CRASHLOOP);
	if (c->gone && c->refs == 0)
		sup_ctr_free(ci);
}

/* The container's PID 1 was reaped. */
static void finish_run(int ci)
{
	struct ctr *c = &sup_ctrs[ci];

	c->reaped = 0;
	sup_ctr_event(ci, RT_LE_EXIT, c->reaped_code, NULL);
}

/* The container's PID 1 was reaped. Everything in its PID namespace is
 * gone too, so what is in the pipes is all there will be: the run ends
 * once they are read, which an attached client that lags may delay. */
static void ctr_died(int ci, int status)
{
	struct ctr *c = &sup_ctrs[ci];
	int k;

	/* The writable layer stays for a restart; rm throws it away. */
	c->proc.pid = 0;
	sup_xclose(&c->proc.pidfd);
	sup_xclose(&c->stdin_w);
#ifdef CONFIG_HEALTHCHECK
	sup_health_stopped(ci);
#endif
#ifdef CONFIG_NET_BRIDGE
	{
		struct rt_err ne;

		/* Its address, ports and rules; its veth died with it. */
		rt_net_detach(c->m.id, &ne);
	}
#endif
	c->finished = sup_real_ns();
	c->reaped = 1;
	c->reaped_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	/* A terminal's client is still reading the master: what is left
	   there is its, not the ring's. */
	if (c->tty_client >= 0)
		out_close(ci, 0);
	c->tty_client = -1;
	for (k = 0; k < 2 && c->used && c->reaped; k++)
		out_read(ci, k, 1);
	if (c->used && c->reaped && c->out[0] < 0 && c->out[1] < 0)
		finish_run(ci);
}

static void reap(void)
{
	for (;;) {
		int status, ci;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			return;
		for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
			if (sup_ctrs[ci].used && sup_ctrs[ci].proc.pid == pid) {
				ctr_died(ci, status);
				break;
			}
		if (sup_exec_reaped(pid, status))
			continue;
#ifdef CONFIG_UPDATE
		if (pid == watch_pid)
			watch_pid = 0;
#endif
#ifdef CONFIG_HEALTHCHECK
		if (sup_health_reaped(pid, status))
			continue;
#endif
		/* Anything else is an orphan we adopted as subreaper. */
	}
}

static void arm_timer(void)
{
	struct itimerspec its = { 0 };
	int64_t next = -1;
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (sup_ctrs[ci].used && !sup_ctrs[ci].gone && sup_ctrs[ci].life.deadline >= 0 &&
		    (next < 0 || sup_ctrs[ci].life.deadline < next))
			next = sup_ctrs[ci].life.deadline;
#ifdef CONFIG_HEALTHCHECK
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++) {
		int64_t d = sup_health_deadline(ci);

		if (d >= 0 && (next < 0 || d < next))
			next = d;
	}
#endif
	if (next >= 0) {
		/* Absolute, on the clock the deadlines use; never 0 (disarm). */
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000 + 1;
	}
	timerfd_settime(sup.tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void timers(void)
{
	uint64_t n;
	int64_t now = mono_ms();
	int ci;

	if (read(sup.tfd, &n, sizeof n) < 0 && errno != EAGAIN)
		return;
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (sup_ctrs[ci].used && !sup_ctrs[ci].gone && sup_ctrs[ci].life.deadline >= 0 &&
		    sup_ctrs[ci].life.deadline <= now)
			sup_ctr_event(ci, RT_LE_TIMER, 0, NULL);
#ifdef CONFIG_HEALTHCHECK
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		sup_health_timer(ci, now);
#endif
}

int sup_name_taken(const char *name)
{
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (sup_ctr_visible(ci) && !strcmp(sup_ctrs[ci].m.name, name))
			return 1;
	return 0;
}

static int name_taken_except(int self)
{
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (ci != self && sup_ctr_visible(ci) && !strcmp(sup_ctrs[ci].m.name, sup_ctrs[self].m.name))
			return 1;
	return 0;
}

static void load_one(const char *id)
{
	static char rec[RT_CTR_REC_MAX];
	char path[300];
	struct rt_ctr_state st;
	struct rt_err e;
	size_t len = 0;
	int ci, fd, r;

	snprintf(path, sizeof path, "containers/%s", id);
	fd = rt_path_open(sup.rootfd, path, O_RDONLY | O_DIRECTORY, 0, &e);
	if (fd < 0)
		return;
	r = rt_io_read_file(fd, "config.json", rec, sizeof rec, &len, &e);
	if (r < 0 || len == 0) {
		close(fd);
		/* Empty: a --rm record cut short by a power loss (only those
		   are written without fsync); nothing to keep. */
		if (r == 0)
			rt_ctr_remove(sup.rootfd, id, 1, &e);
		else
			fprintf(stderr, "rt: daemon: container %.12s: %s\n", id, e.msg);
		return;
	}
	close(fd);
	ci = sup_ctr_alloc(rec, len, &e);
	if (ci < 0) {
		fprintf(stderr, "rt: daemon: container %.12s: %s\n", id, e.msg);
		return;
	}
	if (sup_ctrs[ci].m.autoremove) {
		/* --rm, and its run ended with the previous daemon (Docker's
		   behaviour too). */
		sup_ctr_free(ci);
		rt_ctr_remove(sup.rootfd, id, 1, &e);
		return;
	}
	if (strcmp(sup_ctrs[ci].m.id, id) || name_taken_except(ci)) {
		fprintf(stderr, "rt: daemon: container %.12s: record names another id or a taken name\n", id);
		sup_ctr_free(ci);
		return;
	}
	rt_ctr_load_state(sup.rootfd, id, &st, &e);
	sup_ctrs[ci].started = st.started;
	sup_ctrs[ci].finished = st.finished;
	sup_ctrs[ci].ran = st.ran;
	sup_ctrs[ci].life.exit_code = st.exit_code;
	sup_ctrs[ci].life.stopped_by_user = st.stopped_by_user;
	/* A writable layer left under RUN by the previous daemon (no reboot
	   in between) is kept, as it would be across a restart. */
	sup_ctrs[ci].life.state = st.ran ? RT_LS_EXITED : RT_LS_CREATED;
}

static void load_all(void)
{
	struct dirent *d;
	DIR *dir;
	int fd, ci;

	fd = openat(sup.rootfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
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
		if (!sup_ctr_visible(ci))
			continue;
		/* A --rm container outlived its daemon: finish the job. */
		if (sup_ctrs[ci].m.autoremove) {
			sup_ctr_event(ci, RT_LE_REMOVE, 0, NULL);
			continue;
		}
		sup_ctr_event(ci, RT_LE_BOOT, 0, NULL);
	}
}

/* mkdir -p for an absolute path the administrator gave (--root, --run, a
 * -v host path): symlinks in it are the administrator's and are followed. */
static int setup(const struct rt_sup_cfg *cfg, struct rt_err *e)
{
	char sock[RT_PATH_MAX];
	sigset_t set;
	int i, fd;

	sup.cfg = cfg;
	sup.uid = geteuid();
	sup.ep = sup.sfd = sup.tfd = sup.lfd = sup.rootfd = sup.wfd = -1;
	sup_serve_init();
	if (cfg->root[0] != '/' || cfg->run[0] != '/')
		return rt_err_set(e, EINVAL, "--root and --run must be absolute paths");
	fd = rt_client_mkdir_p(cfg->root, 0700, e);
	if (fd < 0)
		return rt_err_wrap(e, "%s", cfg->root);
	sup.rootfd = fd;
	fd = rt_path_mkdirs(sup.rootfd, "containers", 0700, e);
	if (fd < 0)
		return rt_err_wrap(e, "%s", cfg->root);
	close(fd);
	fd = rt_path_mkdirs(sup.rootfd, "volumes", 0700, e);
	if (fd < 0)
		return rt_err_wrap(e, "%s", cfg->root);
	close(fd);
	fd = rt_client_mkdir_p(cfg->run, 0700, e);
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
	sup.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	sup.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	sup.ep = epoll_create1(EPOLL_CLOEXEC);
	if (sup.sfd < 0 || sup.tfd < 0 || sup.ep < 0)
		return rt_err_sys(e, "signalfd, timerfd or epoll");
	if (cfg->subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return rt_err_sys(e, "PR_SET_CHILD_SUBREAPER");
	sup.lfd = rt_ctl_listen(sock, e);
	if (sup.lfd < 0)
		return -1;
	sup_ep_set(EPOLL_CTL_ADD, sup.lfd, EPOLLIN, EVD(K_LISTEN, 0));
#ifdef CONFIG_NET_BRIDGE
	{
		/* Only once the socket is ours: the clean-up of a previous run
		   must not hit another supervisor's networks. Not fatal:
		   containers on host or none networks still run. */
		struct rt_net_cfg nc = { cfg->root, cfg->run, sup.ep, K_NET };
		struct rt_err ne;

		if (rt_net_init(&nc, &ne) < 0)
			fprintf(stderr, "rt: daemon: %s\n", ne.msg);
	}
#endif
	sup_ep_set(EPOLL_CTL_ADD, sup.sfd, EPOLLIN, EVD(K_SIG, 0));
	sup_ep_set(EPOLL_CTL_ADD, sup.tfd, EPOLLIN, EVD(K_TIMER, 0));
	if (IS_ENABLED(CONFIG_WATCHDOG) && wdog_fd >= 0) {
		struct itimerspec its = { { (time_t)wdog_s, 0 }, { 0, 1 } };

		sup.wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (sup.wfd < 0 || timerfd_settime(sup.wfd, 0, &its, NULL) < 0)
			return rt_err_sys(e, "watchdog timer");
		sup_ep_set(EPOLL_CTL_ADD, sup.wfd, EPOLLIN, EVD(K_WDOG, 0));
	}
	return 0;
}

static void watchdog_ping(void)
{
	uint64_t n;

	if (read(sup.wfd, &n, sizeof n) < 0 && errno != EAGAIN)
		return;
	if (ioctl(wdog_fd, WDIOC_KEEPALIVE, 0) < 0 && write(wdog_fd, "\0", 1) < 0)
		return;
}

static void signals(void)
{
	struct signalfd_siginfo si;
	int ci;

	while (read(sup.sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		int sig = (int)si.ssi_signo;

		if (sig == SIGCHLD) {
			reap();
			continue;
		}
		if (sig == SIGHUP) {
			if (!sup.stopping)
				reload();
			continue;
		}
		if (sig != SIGTERM && sig != SIGINT && sig != SIGUSR1 && sig != SIGUSR2 &&
		    sig != SIGPWR)
			continue;
		if (!sup.stopping) {
			sup.stopping = 1;
			sup.stop_sig = sig;
		}
		for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
			if (sup_ctr_visible(ci))
				sup_ctr_event(ci, RT_LE_SHUTDOWN, sup_ctrs[ci].m.stop_timeout * 1000, NULL);
	}
	/* A SIGCHLD may have been merged with another signal. */
	reap();
}

static int any_alive(void)
{
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (sup_ctrs[ci].used && (sup_ctrs[ci].proc.pid > 0 || rt_life_alive(&sup_ctrs[ci].life)))
			return 1;
	return 0;
}

static void teardown(void)
{
	char sock[RT_PATH_MAX];
	int i;

	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++)
		sup_conn_close(i);
	for (i = 0; i < RT_SUP_MAX_CONTAINERS; i++)
		if (sup_ctrs[i].used) {
			out_close(i, 0);
			out_close(i, 1);
			sup_ctr_free(i);
		}
	if (sup.lfd >= 0 && snprintf(sock, sizeof sock, "%s/rt.sock", sup.cfg->run) < (int)sizeof sock)
		unlink(sock);
	sup_xclose(&sup.lfd);
#ifdef CONFIG_NET_BRIDGE
	rt_net_fini();
#endif
	sup_xclose(&sup.ep);
	sup_xclose(&sup.tfd);
	sup_xclose(&sup.sfd);
	sup_xclose(&sup.wfd);
	sup_xclose(&sup.rootfd);
}

int rt_supervise(const struct rt_sup_cfg *cfg, struct rt_err *e)
{
	struct epoll_event ev[32];
	int n, k;

	memset(&sup, 0, sizeof sup);
	if (setup(cfg, e) < 0) {
		teardown();
		return -1;
	}
	load_all();
	reload();
	while (!(sup.stopping && !any_alive())) {
		arm_timer();
		n = epoll_wait(sup.ep, ev, 32, -1);
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
				sup_conn_accept();
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
				sup_conn_input((int)idx, ev[k].events);
				break;
			case K_OUT:
				if (sup_ctrs[idx / 2].used && sup_ctrs[idx / 2].out[idx % 2] >= 0)
					out_read((int)idx / 2, (int)idx % 2, 0);
				break;
#ifdef CONFIG_HEALTHCHECK
			case K_HEALTH:
				sup_health_output((int)idx);
				break;
#endif
#ifdef CONFIG_NET_BRIDGE
			case K_NET:
				rt_net_event(idx, ev[k].events);
				break;
#endif
			}
		}
	}
	teardown();
	return sup.stop_sig;
}
