/* `rt update`: an app's over-the-air update (update.h), its history, and
 * the watcher of update channels.
 *
 *   rt update [--apps DIR] [--timeout D] [--stable D] [-i FILE] APP [IMAGE]
 *   rt update --history APP
 *   rt update --watch [--apps DIR] [APP]
 *
 * The watcher is one small loop that never parses a registry's bytes
 * itself: each poll of a channel runs in a child it forks (HEAD on the
 * tag, and the transaction when the tag moved), so a bug or a hostile
 * registry costs that child only. The supervisor starts the watcher when
 * it starts `rt reload` (at boot, on SIGHUP), as its own child that dies
 * with it; a watcher already running is told to read the app files again
 * (SIGHUP). Polls are spread with +-20% jitter around each app's
 * interval, and after a failed poll the next waits 2, 4, then 8 times the
 * interval, so a fleet neither polls in step nor hammers a registry that
 * is down. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "conf.h"
#include "io.h"
#include "supervise.h"
#include "update.h"

#define WATCH_MAX RT_SUP_MAX_CONTAINERS

static struct rt_conf_app app;
static char text[RT_CONF_MAX + 1];
static struct rt_update_journal hist;

static int load_app(const char *dir, const char *name, struct rt_err *e)
{
	char file[RT_CONF_NAME + 8];
	size_t len;
	int fd, rc;

	if (!rt_conf_name_ok(name))
		return rt_err_set(e, EINVAL, "%s: not an app name", name);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "%s", dir);
	snprintf(file, sizeof file, "%s.conf", name);
	rc = rt_io_read_file(fd, file, text, RT_CONF_MAX, &len, e);
	close(fd);
	if (rc < 0)
		return e->errnum == ENOENT ? rt_err_set(e, ENOENT, "no app file %s/%s", dir, file) :
					     rt_err_wrap(e, "%s/%s", dir, file);
	return rt_conf_parse(&app, name, text, len, e);
}

static int duration(const char *flag, const char *v, int64_t *ms)
{
	if (rt_conf_duration(v, ms) < 0)
		return rt_cli_fail("update", RT_EXIT_USAGE, "%s: expected a duration (30, 30s, 5m, 1h)", flag);
	return 0;
}

static void fmt_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, cap, "?");
}

static int history(const struct rt_opts *o, const char *name)
{
	struct rt_err e;
	char t[32], from[48], to[48], down[24];
	int fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, i;

	if (fd < 0)
		return rt_cli_fail("update", RT_EXIT_RT, "%s: %s", o->root, strerror(errno));
	rc = rt_update_journal_read(fd, name, &hist, &e);
	close(fd);
	if (rc < 0)
		return rt_cli_fail("update", RT_EXIT_RT, "%s: %s", name, e.msg);
	if (rc > 0)
		return rt_cli_fail("update", RT_EXIT_FAIL, "%s: no update journal (not an app, or never reloaded)", name);
	printf("%-4s %-19s  %-29s  %-29s  %-11s  %-8s  %s\n", "ID", "STARTED (UTC)", "FROM", "TO",
	       "OUTCOME", "DOWNTIME", "REASON");
	for (i = 0; i < hist.nhist; i++) {
		const struct rt_update_rec *r = &hist.hist[i];

		fmt_time(r->started, t, sizeof t);
		snprintf(from, sizeof from, "%.19s v%llu", r->from.digest, (unsigned long long)r->from.version);
		if (r->to.digest[0])
			snprintf(to, sizeof to, "%.19s v%llu", r->to.digest, (unsigned long long)r->to.version);
		else
			snprintf(to, sizeof to, "%.29s", r->to.image);
		if (r->downtime_ms >= 0)
			snprintf(down, sizeof down, "%lld ms", (long long)r->downtime_ms);
		else
			snprintf(down, sizeof down, "-");
		printf("%-4lld %-19s  %-29s  %-29s  %-11s  %-8s  %s\n", (long long)r->id, t, from, to,
		       rt_update_outcome_str(r->outcome), down, r->reason);
	}
	printf("current: %s (%s, version %llu)%s\n", hist.cur.image, hist.cur.digest,
	       (unsigned long long)hist.cur.version,
	       hist.state ? "; a transaction is in progress" : "");
	return RT_EXIT_OK;
}

/* What an outcome means to the user: exit code and, on failure, the one
 * line. */
static int report(const char *name, int rc, const char *why, const struct rt_err *e)
{
	switch (rc) {
	case RT_UP_COMMITTED:
		return RT_EXIT_OK;
	case RT_UP_UNCHANGED:
		printf("%s: already on that image\n", name);
		return RT_EXIT_OK;
	case RT_UP_ROLLED_BACK:
		return rt_cli_fail("update", RT_EXIT_FAIL, "%s: rolled back: %s", name, why);
	case RT_UP_REFUSED:
		return rt_cli_fail("update", RT_EXIT_FAIL, "%s: refused: %s", name, why);
	case RT_UP_ABORTED:
		return rt_cli_fail("update", RT_EXIT_FAIL, "%s: not fetched: %s", name, why);
	default:
		return rt_cli_fail("update", RT_EXIT_RT, "%s: %s", name, e->msg);
	}
}

/* --- the watcher ----------------------------------------------------------- */

static struct watch {
	char name[RT_CONF_NAME + 1];
	int64_t every, next;
	unsigned fails;
	int live;
} w[WATCH_MAX];
static int nw;
static volatile sig_atomic_t rescan = 1;

static void on_hup(int sig)
{
	(void)sig;
	rescan = 1;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ms +-20%. */
static int64_t jitter(int64_t ms)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r = (uint32_t)now_ms() * 2654435761u;
	return ms * 8 / 10 + (int64_t)(r % 1000) * (ms * 4 / 10) / 1000;
}

static struct watch *find_watch(const char *name)
{
	int k;

	for (k = 0; k < nw; k++)
		if (!strcmp(w[k].name, name))
			return &w[k];
	return NULL;
}

static void add_watch(const char *name, int64_t every)
{
	struct watch *x = find_watch(name);

	if (!x) {
		if (nw == WATCH_MAX)
			return;
		x = &w[nw++];
		snprintf(x->name, sizeof x->name, "%s", name);
		x->fails = 0;
		/* The first poll of a fleet booting together is spread too. */
		x->next = now_ms() + jitter(every) / 2;
		printf("%s: watching %s every %lld s\n", name, app.update, (long long)(every / 1000));
		fflush(stdout);
	}
	x->every = every;
	x->live = 1;
}

/* The app files with an update channel (only, when given). */
static void scan(const char *dir, const char *only)
{
	struct rt_err e;
	struct dirent *d;
	DIR *dd;
	int k;

	for (k = 0; k < nw; k++)
		w[k].live = 0;
	dd = opendir(dir);
	while (dd && (d = readdir(dd)) != NULL) {
		size_t len = strlen(d->d_name);
		char name[RT_CONF_NAME + 1];

		if (len <= 5 || len - 5 > RT_CONF_NAME || strcmp(d->d_name + len - 5, ".conf") != 0 ||
		    d->d_name[0] == '.')
			continue;
		memcpy(name, d->d_name, len - 5);
		name[len - 5] = '\0';
		if (only && strcmp(only, name) != 0)
			continue;
		/* A bad file is reload's to report. */
		if (load_app(dir, name, &e) == 0 && app.update)
			add_watch(name, app.update_every_ms);
	}
	if (dd)
		closedir(dd);
	for (k = 0; k < nw;)
		if (!w[k].live)
			w[k] = w[--nw];
		else
			k++;
}

/* One poll, in a child: 0 done (whatever the outcome), 1 failed. */
static int poll_child(const struct rt_opts *o, const char *dir, const char *name)
{
	struct rt_update_opts uo;
	char why[RT_UPDATE_WHY];
	struct rt_err e;
	int rc;

	signal(SIGHUP, SIG_DFL);
	if (load_app(dir, name, &e) < 0 || !app.update) {
		rt_cli_fail("update", RT_EXIT_FAIL, "%s: %s", name, app.update ? e.msg : "no update channel");
		return 1;
	}
	memset(&uo, 0, sizeof uo);
	uo.timeout_ms = app.update_timeout_ms >= 0 ? app.update_timeout_ms : RT_UPDATE_TIMEOUT_MS;
	uo.stable_ms = app.update_stable_ms >= 0 ? app.update_stable_ms : RT_UPDATE_STABLE_MS;
	rc = rt_update_poll(o, &app, &uo, why, sizeof why, &e);
	if (rc < 0) {
		rt_cli_fail("update", RT_EXIT_FAIL, "%s: %s: %s", name, app.update, e.msg);
		return 1;
	}
	if (rc != RT_UP_UNCHANGED)
		report(name, rc, why, &e);
	fflush(stdout);
	return rc == RT_UP_ABORTED;
}

static int watch(const struct rt_opts *o, const char *dir, const char *only)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	for (;;) {
		struct watch *x = NULL;
		int64_t now;
		int k, st;
		pid_t pid;

		if (rescan) {
			rescan = 0;
			scan(dir, only);
			if (nw == 0) {
				if (only)
					return rt_cli_fail("update", RT_EXIT_FAIL, "%s: no update channel in its app file",
							   only);
				return RT_EXIT_OK;      /* nothing to watch */
			}
		}
		for (k = 0; k < nw; k++)
			if (!x || w[k].next < x->next)
				x = &w[k];
		if (!x)
			return RT_EXIT_OK;
		now = now_ms();
		if (x->next > now) {
			struct timespec t = { (time_t)((x->next - now) / 1000),
					      (long)((x->next - now) % 1000) * 1000000 };

			nanosleep(&t, NULL);    /* a SIGHUP cuts it short */
			continue;
		}
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(poll_child(o, dir, x->name));
		st = 1 << 8;
		if (pid < 0)
			rt_cli_fail("update", RT_EXIT_RT, "fork: %s", strerror(errno));
		else
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			x->fails = 0;
		else if (x->fails < 3)
			x->fails++;
		x->next = now_ms() + jitter(x->every << x->fails);
	}
}

/* --- the verb --------------------------------------------------------------- */

static int usage(void)
{
	return rt_cli_fail("update", RT_EXIT_USAGE,
			   "usage: rt update [--apps DIR] [--timeout D] [--stable D] [-i FILE] APP [IMAGE] | "
			   "--history APP | --watch [APP]");
}

static int verb_update(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = {
		{ 0, "apps", 1 }, { 0, "timeout", 1 }, { 0, "stable", 1 }, { 'i', "input", 1 },
		{ 0, "history", 0 }, { 0, "watch", 0 }, { 'q', "quiet", 0 },
	};
	struct optp p = { argc, 1, argv, NULL, "update", 0, NULL, 0 };
	struct rt_update_opts uo;
	const char *dir = RT_SUP_APPS_DIR, *v, *image;
	char why[RT_UPDATE_WHY];
	int64_t timeout = -1, stable = -1;
	int k, hist_only = 0, watching = 0, rc;
	struct rt_err e;

	memset(&uo, 0, sizeof uo);
	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		switch (k) {
		case 0: dir = v; break;
		case 1: if (duration("--timeout", v, &timeout)) return RT_EXIT_USAGE; break;
		case 2: if (duration("--stable", v, &stable)) return RT_EXIT_USAGE; break;
		case 3: uo.file = v; break;
		case 4: hist_only = 1; break;
		case 5: watching = 1; break;
		default: uo.quiet = 1; break;
		}
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (hist_only)
		return p.i == argc - 1 ? history(o, argv[p.i]) : usage();
	if (watching)
		return p.i >= argc - 1 ? watch(o, dir, p.i < argc ? argv[p.i] : NULL) : usage();
	if (p.i != argc - 1 && p.i != argc - 2)
		return usage();
	image = p.i == argc - 2 ? argv[p.i + 1] : NULL;
	if (!image && !uo.file)
		return rt_cli_fail("update", RT_EXIT_USAGE, "%s: name the image to update to (or -i FILE)",
				   argv[p.i]);
	if (rt_update_lock(o, &e) < 0 || load_app(dir, argv[p.i], &e) < 0)
		return rt_cli_fail("update", RT_EXIT_RT, "%s: %s", argv[p.i], e.msg);
	uo.timeout_ms = timeout >= 0 ? timeout :
			app.update_timeout_ms >= 0 ? app.update_timeout_ms : RT_UPDATE_TIMEOUT_MS;
	uo.stable_ms = stable >= 0 ? stable :
		       app.update_stable_ms >= 0 ? app.update_stable_ms : RT_UPDATE_STABLE_MS;
	uo.by_hand = 1;
	rc = rt_update_run(o, &app, image, &uo, why, sizeof why, &e);
	return report(app.name, rc, why, &e);
}

const struct rt_verb rt_verbs_update[] = {
	{ "update", verb_update, "[--timeout D] [--stable D] [-i FILE] APP [IMAGE] | --history APP | --watch [APP]",
	  "Update an app to a new signed image, rolling back unless it proves healthy" },
	{ NULL, NULL, NULL, NULL },
};
