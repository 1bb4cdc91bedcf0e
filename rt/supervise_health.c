/* Health checks in the supervisor's loop: per container one timer (the
 * next check, the running check's timeout, or the SIGKILL of an unhealthy
 * app being restarted), one check process at a time, started the way
 * `rt exec` joins the container (its namespaces, cgroup, capabilities,
 * no_new_privs, user), with its stdout and stderr on one pipe in the
 * epoll set. The rules are health.c's; this file only runs processes.
 *
 * Bounded: the state is a fixed struct in each container's slot, the
 * output kept is the first RT_HEALTH_OUT bytes (the rest is read and
 * dropped, so a chatty check never blocks on a full pipe), and a check
 * that outlives its timeout is killed with its process group. The only
 * processes signalled are the check (our unreaped child, so its id names
 * nothing else) and, for an app, the container's own PID 1 through
 * sup_ctr_signal; never PID 1 of the host.
 *
 * Unhealthy: Docker only marks a container. rt does the same for a
 * plain `rt run`, but an app (a container made from an app file) whose
 * restart policy restarts it (always, unless-stopped, on-failure) is
 * stopped like `rt stop` would (SIGTERM, SIGKILL after its stop timeout)
 * and then restarted by its policy as if it had crashed, with the same
 * backoff: an appliance has nobody watching `rt ps` to do it by hand. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kconfig.h"
#include "path.h"
#include "supervise_int.h"

/* The check's argv and env, decoded from the record. */
static char harena[RT_CTR_REC_MAX + 8192];
static struct rt_sandbox_exec hx;

static int has_check(int ci)
{
	return sup_ctrs[ci].used && !sup_ctrs[ci].gone && sup_ctrs[ci].m.health_on;
}

/* SIGKILL the check and everything in its process group (the exec made
 * it a session leader). pid is our child and not reaped yet, so neither
 * pid nor -pid can name an unrelated process. */
static void kill_check(int ci, pid_t pid)
{
	if (pid <= 1 || pid == sup_ctrs[ci].proc.pid)
		return;
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

static void close_out(struct sup_health *s)
{
	if (s->out < 0)
		return;
	epoll_ctl(sup.ep, EPOLL_CTL_DEL, s->out, NULL);
	sup_xclose(&s->out);
}

/* Read what the check wrote: the first bytes are kept, the rest dropped.
 * Returns 0 once the pipe is closed (EOF or error), 1 when it would block. */
static int read_out(struct sup_health *s)
{
	static char sink[4096];

	while (s->out >= 0) {
		uint32_t room = RT_HEALTH_OUT - s->cur.outlen;
		char *to = room ? s->cur.out + s->cur.outlen : sink;
		ssize_t n = read(s->out, to, room ? room : sizeof sink);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0) {
			close_out(s);
			return 0;
		}
		if (room)
			s->cur.outlen += (uint32_t)n;
	}
	return 0;
}

static void finish(int ci, int64_t now)
{
	struct ctr *c = &sup_ctrs[ci];
	struct sup_health *s = &c->hc;
	enum rt_restart k = c->m.policy.kind;

	close_out(s);
	s->pid = 0;
	s->cur.end = sup_real_ns();
	s->phase = HC_IDLE;
	s->deadline = now + c->m.health.interval_ms;
	if (!rt_health_record(&s->h, &c->m.health, now, &s->cur))
		return;
	fprintf(stderr, "rt: daemon: %s is unhealthy (%u failed checks)%s\n", c->m.name,
		s->h.streak, c->m.app && k != RT_RESTART_NO ? ": restarting it" : "");
	if (!c->m.app || k == RT_RESTART_NO)
		return;
	/* Stopped as `rt stop` does, but not by a user: when it dies its
	   policy sees a failure (143 or 137) and restarts it. */
	sup_ctr_signal(ci, SIGTERM);
	s->phase = HC_KILLING;
	s->deadline = now + c->m.stop_timeout * 1000;
}

static void failed(int ci, int64_t now, int code, const char *why)
{
	struct sup_health *s = &sup_ctrs[ci].hc;
	int n = snprintf(s->cur.out, sizeof s->cur.out, "%s", why);

	s->cur.code = code;
	s->cur.outlen = n < 0 ? 0 : (uint32_t)n < sizeof s->cur.out ? (uint32_t)n
								   : (uint32_t)sizeof s->cur.out - 1;
	finish(ci, now);
}

static void start_check(int ci, int64_t now)
{
	struct ctr *c = &sup_ctrs[ci];
	struct sup_health *s = &c->hc;
	struct rt_sandbox_proc p = { 0, -1, -1 };
	char sdir[RT_PATH_MAX], msg[RT_ERR_MSG + 64];
	int pp[2], fl, r;
	struct rt_err e;

	memset(&s->cur, 0, sizeof s->cur);
	s->cur.start = sup_real_ns();
	if (sup_build_spec(ci, sdir, sizeof sdir, &e) < 0 ||
	    rt_ctr_health_exec(&c->m, c->conf, c->conflen, &hx, harena, sizeof harena, &e) < 0)
		return failed(ci, now, 125, rt_err_str(&e, msg, sizeof msg));
	if (pipe2(pp, O_CLOEXEC) < 0) {
		rt_err_sys(&e, "pipe");
		return failed(ci, now, 125, rt_err_str(&e, msg, sizeof msg));
	}
	hx.stdio[0] = -1;
	hx.stdio[1] = hx.stdio[2] = pp[1];
	hx.tty = 0;
	r = rt_sandbox_exec_spawn(&sup_spec, &c->proc, &hx, &p, &e);
	close(pp[1]);
	if (r < 0) {
		close(pp[0]);
		return failed(ci, now, sup_spawn_code(&e), rt_err_str(&e, msg, sizeof msg));
	}
	if (p.pidfd >= 0)
		close(p.pidfd);
	s->pid = p.pid;
	s->out = pp[0];
	fl = fcntl(s->out, F_GETFL);
	if (fl >= 0)
		fcntl(s->out, F_SETFL, fl | O_NONBLOCK);
	sup_ep_set(EPOLL_CTL_ADD, s->out, EPOLLIN, EVD(K_HEALTH, ci));
	s->phase = HC_PROBING;
	s->deadline = now + c->m.health.timeout_ms;
}

void sup_health_started(int ci)
{
	struct sup_health *s = &sup_ctrs[ci].hc;
	int64_t now = sup_mono_ms();

	if (!has_check(ci))
		return;
	sup_health_stopped(ci);
	rt_health_start(&s->h, now);
	/* As Docker: the first check one interval after the start. */
	s->phase = HC_IDLE;
	s->deadline = now + sup_ctrs[ci].m.health.interval_ms;
}

void sup_health_stopped(int ci)
{
	struct sup_health *s = &sup_ctrs[ci].hc;

	if (s->pid > 0)
		kill_check(ci, s->pid);
	/* Reaped later as any other child we no longer track. */
	s->pid = 0;
	close_out(s);
	s->phase = HC_IDLE;
	s->deadline = -1;
	rt_health_stop(&s->h);
}

int64_t sup_health_deadline(int ci)
{
	return has_check(ci) ? sup_ctrs[ci].hc.deadline : -1;
}

void sup_health_timer(int ci, int64_t now)
{
	struct ctr *c = &sup_ctrs[ci];
	struct sup_health *s = &c->hc;
	char why[64];

	if (!has_check(ci) || s->deadline < 0 || s->deadline > now)
		return;
	switch (s->phase) {
	case HC_IDLE:
		/* Checks run only while the container runs as it should. */
		if (c->life.state != RT_LS_RUNNING || c->proc.pid <= 0) {
			s->deadline = -1;
			return;
		}
		start_check(ci, now);
		return;
	case HC_PROBING:
		kill_check(ci, s->pid);
		read_out(s);
		if (c->m.health.timeout_ms % 1000)
			snprintf(why, sizeof why, "Health check exceeded timeout (%ums)",
				 c->m.health.timeout_ms);
		else
			snprintf(why, sizeof why, "Health check exceeded timeout (%us)",
				 c->m.health.timeout_ms / 1000);
		/* Docker's code for a check killed at its timeout. */
		failed(ci, now, -1, why);
		return;
	default:
		/* The unhealthy app did not stop on SIGTERM in time. */
		s->deadline = -1;
		if (c->life.state == RT_LS_RUNNING)
			sup_ctr_signal(ci, SIGKILL);
		return;
	}
}

void sup_health_output(int ci)
{
	if (sup_ctrs[ci].used)
		read_out(&sup_ctrs[ci].hc);
}

int sup_health_reaped(pid_t pid, int status)
{
	int ci;

	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++) {
		struct sup_health *s = &sup_ctrs[ci].hc;

		if (!sup_ctrs[ci].used || s->phase != HC_PROBING || s->pid != pid)
			continue;
		/* What its children still write after it is not waited for. */
		read_out(s);
		s->cur.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		finish(ci, sup_mono_ms());
		return 1;
	}
	return 0;
}

const char *sup_health_status(int ci)
{
	const struct ctr *c = &sup_ctrs[ci];

	if (!has_check(ci) || c->life.state != RT_LS_RUNNING)
		return "";
	return rt_health_status_str(c->hc.h.status);
}

void sup_health_json(int ci, struct rt_json_w *w)
{
	const struct rt_health *h = &sup_ctrs[ci].hc.h;
	char t[48];
	uint32_t i;

	if (!has_check(ci) || h->status == RT_HS_NONE)
		return;
	rt_json_w_key(w, "Health");
	rt_json_w_obj(w);
	rt_json_w_key(w, "Status");
	rt_json_w_str(w, rt_health_status_str(h->status));
	rt_json_w_key(w, "FailingStreak");
	rt_json_w_u64(w, h->streak);
	rt_json_w_key(w, "Log");
	rt_json_w_arr(w);
	for (i = 0; i < h->nlog; i++) {
		const struct rt_health_result *r = rt_health_log(h, i);

		rt_json_w_obj(w);
		rt_json_w_key(w, "Start");
		sup_fmt_time(r->start, t, sizeof t);
		rt_json_w_str(w, t);
		rt_json_w_key(w, "End");
		sup_fmt_time(r->end, t, sizeof t);
		rt_json_w_str(w, t);
		rt_json_w_key(w, "ExitCode");
		rt_json_w_i64(w, r->code);
		rt_json_w_key(w, "Output");
		rt_json_w_strn(w, r->out, r->outlen);
		rt_json_w_end(w);
	}
	rt_json_w_end(w);
	rt_json_w_end(w);
}
