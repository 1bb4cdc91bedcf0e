/* Container verbs: start, stop, restart, kill, rm, wait, ps, logs,
 * inspect, exec, and the daemon itself. They run in the short-lived `rt`
 * process and talk to the supervisor over the control socket; the
 * supervisor never sees a command line. */
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
#ifdef CONFIG_NET_BRIDGE
#include "netconf.h"
#endif
#include "path.h"
#include "supervise.h"

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

	if (rt_client_u64(s, &v) == 0)
		return v >= 1 && v <= 64 ? (int)v : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (k = 0; k < NOPTS(signames); k++)
		if (!strcasecmp(s, signames[k].name))
			return signames[k].sig;
	return -1;
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
	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
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
		fd = rt_client_dial(o, "start");
		if (fd < 0)
			return RT_EXIT_RT;
		rt_client_req(&w, "inspect", pos[0]);
		rt_json_w_end(&w);
		rc = rt_client_call(fd, &w, NULL, 0, &j, "start");
		if (rc) {
			close(fd);
			return rc;
		}
		if (rt_json_bool(&j, rt_json_find(&j, rt_json_find(&j, rt_json_find(&j, 0, "container"), "Config"), "tty"), &b, &e) == 0)
			tty = b;
		rc = rt_client_attach(o, fd, pos[0], interactive, tty, "start");
		close(fd);
		return rc;
	}
	return rt_client_each(o, "start", "start", pos, p.npos, NULL, NULL, 1);
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
	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (rt_client_u64(v, &u) < 0 || u > 86400)
			return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid timeout '%s'", v);
		t = (int64_t)u;
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	return rt_client_each(o, verb, verb, pos, p.npos, timeout_member, &t, 1);
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
	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		sig = parse_signal(v);
		if (sig < 0)
			return rt_cli_fail("kill", RT_EXIT_USAGE, "invalid signal: %s", v);
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	return rt_client_each(o, "kill", "kill", pos, p.npos, signal_member, &sig, 1);
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
	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0)
		if (k == 0)
			force = ON(v);
	/* -v removes anonymous volumes; rt makes none (every volume is
	   named or a host path), so there is nothing more to remove. */
	if (k == -2)
		return RT_EXIT_USAGE;
	return rt_client_each(o, "rm", "rm", pos, p.npos, force_member, &force, 1);
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
		int fd = rt_client_dial(o, "wait"), r;

		if (fd < 0)
			return RT_EXIT_RT;
		rt_client_req(&w, "wait", argv[k]);
		rt_json_w_end(&w);
		r = rt_client_call(fd, &w, NULL, 0, &j, "wait");
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

	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
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
	fd = rt_client_dial(o, "ps");
	if (fd < 0)
		return RT_EXIT_RT;
	rt_client_req(&w, "ps", NULL);
	rt_json_w_key(&w, "all");
	rt_json_w_bool(&w, all);
	rt_json_w_end(&w);
	rc = rt_client_call(fd, &w, NULL, 0, &j, "ps");
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
		char cmd[RT_CTR_CMD + 1], state[32], dur[48], health[16];
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
			/* Docker's suffix: (healthy), (unhealthy), (health: starting). */
			if (rt_json_str(&j, rt_json_find(&j, c, "health"), health, sizeof health, &e) < 0)
				health[0] = '\0';
			snprintf(row[4], PS_CELL, "Up %s%s%s%s", dur, health[0] ? " (" : "",
				 !strcmp(health, "starting") ? "health: starting" : health,
				 health[0] ? ")" : "");
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
#ifdef CONFIG_NET_BRIDGE
		/* Published ports are held while the container runs. */
		if (!strcmp(state, "running"))
			rt_netconf_ports_text(o->root, id, row[5], PS_CELL);
#endif
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

/* --- logs ---------------------------------------------------------------------- */

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
	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (k == 0) {
			follow = ON(v);
		} else if (k == 2) {
			ts = ON(v);
		} else if (strcmp(v, "all")) {
			uint64_t u;

			if (rt_client_u64(v, &u) < 0 || u > INT32_MAX)
				return rt_cli_fail("logs", RT_EXIT_USAGE, "invalid --tail '%s'", v);
			tail = (int64_t)u;
		}
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (p.npos != 1)
		return rt_cli_fail("logs", RT_EXIT_USAGE, "requires exactly 1 argument");
	fd = rt_client_dial(o, "logs");
	if (fd < 0)
		return RT_EXIT_RT;
	rt_client_req(&w, "logs", pos[0]);
	rt_json_w_key(&w, "follow");
	rt_json_w_bool(&w, follow);
	rt_json_w_key(&w, "timestamps");
	rt_json_w_bool(&w, ts);
	rt_json_w_key(&w, "tail");
	rt_json_w_i64(&w, tail);
	rt_json_w_end(&w);
	rc = rt_client_call(fd, &w, NULL, 0, &j, "logs");
	if (rc == 0) {
		static struct rt_ctl_rd r;
		int n = 0;

		/* Data frames are written as they come; {"exit":..} ends it. */
		rt_client_rd(&r);
		if (rt_client_read(fd, &r, &j, NULL, &n, "logs") < 0)
			rc = RT_EXIT_RT;
	}
	close(fd);
	return rc;
}

/* --- exec ---------------------------------------------------------------------- */

static int verb_exec(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 'i', "interactive", 0 }, { 't', "tty", 0 },
					   { 'e', "env", 1 }, { 'w', "workdir", 1 },
					   { 'u', "user", 1 }, { 'd', "detach", 0 } };
	struct optp p = { argc, 1, argv, NULL, "exec", 0, NULL, 0 };
	static char held[RT_SANDBOX_MAX_ENV][256];
	const char *env[RT_SANDBOX_MAX_ENV];
	int nenv = 0;
	struct rt_json_w w;
	struct rt_json j;
	struct rt_ctl_rd *r;
	static struct rt_ctl_rd rd;
	const char *v, *workdir = NULL, *user = NULL;
	int k, interactive = 0, tty = 0, fd, rc, fds[RT_CTL_MAXFD], nfds = 0;
	bool is_tty = false;
	struct rt_err e;

	if (!IS_ENABLED(CONFIG_EXEC))
		return rt_cli_fail("exec", RT_EXIT_RT, "exec is not in this build");
	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		switch (k) {
		case 0: interactive = ON(v); break;
		case 1: tty = ON(v); break;
		case 2:
			if (nenv >= RT_SANDBOX_MAX_ENV)
				return rt_cli_fail("exec", RT_EXIT_USAGE, "too many environment variables");
			if (v[0] == '=')
				return rt_cli_fail("exec", RT_EXIT_USAGE, "invalid environment variable: %s", v);
			/* -e NAME takes NAME's value from here, as Docker does. */
			if (!strchr(v, '=')) {
				const char *val = getenv(v);

				if (!val)
					break;
				if (snprintf(held[nenv], sizeof held[0], "%s=%s", v, val) >= (int)sizeof held[0])
					return rt_cli_fail("exec", RT_EXIT_USAGE, "environment variable %s too long", v);
				v = held[nenv];
			}
			env[nenv++] = v;
			break;
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
	fd = rt_client_dial(o, "exec");
	if (fd < 0)
		return RT_EXIT_RT;
	rt_client_req(&w, "exec", argv[p.i]);
	rt_json_w_key(&w, "exec");
	rt_json_w_obj(&w);
	rt_client_strs(&w, "cmd", argv + p.i + 1, argc - p.i - 1);
	rt_client_strs(&w, "env", (char *const *)env, nenv);
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
	/* Our stdio never goes in: the process gets pipes (or a terminal)
	   and we relay them; without -i its stdin is /dev/null. */
	rt_json_w_key(&w, "stdin");
	rt_json_w_bool(&w, interactive);
	rt_json_w_end(&w);
	r = &rd;
	rt_client_rd(r);
	if (rt_client_send(fd, &w, NULL, 0, "exec") < 0 ||
	    rt_client_read(fd, r, &j, fds, &nfds, "exec") < 0) {
		close(fd);
		return RT_EXIT_RT;
	}
	rc = rt_client_status(&j, "exec");
	if (rc) {
		while (nfds > 0)
			close(fds[--nfds]);
		close(fd);
		return rc;
	}
	rt_json_bool(&j, rt_json_find(&j, 0, "tty"), &is_tty, &e);
	if (is_tty && nfds == 1)
		rc = rt_client_tty(fd, fds[0], interactive, "exec");
	else if (!is_tty && nfds >= 2)
		rc = rt_client_pipes(fd, fds[0], fds[1], nfds == 3 ? fds[2] : -1, "exec");
	else
		rc = rt_cli_fail("exec", RT_EXIT_RT, "the rt daemon sent no stdio");
	close(fd);
	return rc;
}

/* --- daemon ---------------------------------------------------------------------- */

static int verb_daemon(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 0, "root", 1 }, { 0, "run", 1 }, { 0, "apps", 1 } };
	struct optp p = { argc, 1, argv, NULL, "daemon", 0, NULL, 0 };
	struct rt_sup_cfg cfg = { o->root, o->run, 1 };
	static char root[PATH_MAX], run[PATH_MAX];
	struct rt_err e;
	char msg[RT_ERR_MSG + 64];
	const char *v;
	int k, sig;

	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (k == 0)
			cfg.root = v;
		else if (k == 1)
			cfg.run = v;
		else
			rt_supervise_apps(v);
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

const struct rt_verb rt_verbs_container[] = {
	{ "daemon", verb_daemon, "[--root DIR] [--run DIR] [--apps DIR]", "Run the supervisor (containers, control socket)" },
	{ "start", verb_start, "[-a] [-i] CONTAINER...", "Start containers" },
	{ "stop", verb_stop, "[-t SECS] CONTAINER...", "Stop containers (SIGTERM, then SIGKILL)" },
	{ "restart", verb_restart, "[-t SECS] CONTAINER...", "Restart containers" },
	{ "kill", verb_kill, "[-s SIGNAL] CONTAINER...", "Send a signal to containers" },
	{ "rm", verb_rm, "[-f] CONTAINER...", "Remove containers" },
	{ "ps", verb_ps, "[-a] [-q] [--no-trunc] [--format json]", "List containers" },
	{ "logs", verb_logs, "[-f] [--tail N] [-t] CONTAINER", "Show a container's output" },
	{ "wait", verb_wait, "CONTAINER...", "Wait for containers to stop; print exit codes" },
	{ "exec", verb_exec, "[-i] [-t] [-e K=V] [-w DIR] [-u USER] CONTAINER CMD...", "Run a command in a running container" },
	{ NULL, NULL, NULL, NULL },
};

/* --- seams for the image verbs --------------------------------------------- */

int rt_container_image_users(const char *root, const char *digest, const char *id,
			     char *who, size_t cap, struct rt_err *e)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? 0 : rt_err_sys(e, "%s", root);
	r = rt_ctr_image_users(fd, digest, id, who, cap, e);
	close(fd);
	return r;
}

/* An app's container shows its update journal as "Update" (update.h). */
int rt_update_inspect_json(const char *root, const char *app, char *buf, size_t cap,
			   size_t *len, struct rt_err *e) __attribute__((weak));

static int update_json(const char *root, const struct rt_json *j, int t, char *buf, size_t cap,
		       size_t *len, struct rt_err *e)
{
	static const char key[] = ",\"Update\":";
	char name[RT_CTR_NAME + 2];
	size_t n = 0;
	bool app = false;
	struct rt_err ig;
	int k;

	if (rt_json_bool(j, rt_json_find(j, rt_json_find(j, t, "Config"), "app"), &app, &ig) < 0 ||
	    !app || rt_json_str(j, rt_json_find(j, t, "Name"), name, sizeof name, &ig) < 0 ||
	    *len < 2 || cap - *len < sizeof key + 1)
		return 1;
	/* buf ends with the object's '}': the member goes before it. */
	k = rt_update_inspect_json(root, name[0] == '/' ? name + 1 : name, buf + *len - 1 + sizeof key - 1,
				   cap - *len - sizeof key, &n, e);
	if (k <= 0)
		return k < 0 ? -1 : 1;
	memcpy(buf + *len - 1, key, sizeof key - 1);
	*len += sizeof key - 1 + n;
	buf[*len - 1] = '}';
	return 1;
}

int rt_container_inspect_json(const char *root, const char *run, const char *name,
			      char *buf, size_t cap, size_t *len, struct rt_err *e)
{
	static struct rt_ctl_rd r;
	char path[RT_PATH_MAX];
	struct rt_json_w w;
	struct rt_json j;
	bool ok = false;
	int fd, t, n = 0;

	if (snprintf(path, sizeof path, "%s/rt.sock", run) >= (int)sizeof path)
		return rt_err_set(e, ENAMETOOLONG, "--run path too long");
	/* No supervisor: no container by that name can be running or known. */
	fd = rt_ctl_connect(path, e);
	if (fd < 0)
		return 0;
	rt_client_req(&w, "inspect", name);
	rt_json_w_end(&w);
	rt_client_rd(&r);
	if (rt_json_w_finish(&w, e) < 0 ||
	    rt_ctl_send(fd, RT_CTL_JSON, w.buf, w.len, NULL, 0, e) < 0 ||
	    rt_ctl_read_frame(fd, &r, NULL, &n, e) <= 0) {
		close(fd);
		return rt_err_set(e, EPROTO, "no answer from the rt daemon");
	}
	close(fd);
	{
		static struct rt_json_tok tk[RT_CTR_TOK];

		if (rt_json_parse(&j, (const char *)r.buf, r.len, tk, RT_CTR_TOK, 0, e) < 0)
			return rt_err_wrap(e, "reply from the rt daemon");
		if (rt_json_bool(&j, rt_json_find(&j, 0, "ok"), &ok, e) < 0 || !ok)
			return 0;
		t = rt_json_find(&j, 0, "container");
		if (rt_json_type(&j, t) != RT_JSON_OBJECT)
			return 0;
		if (j.tok[t].len > cap)
			return rt_err_set(e, ENOBUFS, "container JSON larger than %zu bytes", cap);
		memcpy(buf, j.buf + j.tok[t].start, j.tok[t].len);
		*len = j.tok[t].len;
		if (rt_update_inspect_json)
			return update_json(root, &j, t, buf, cap, len, e);
	}
	return 1;
}
