/* `rt reload`: make the running set match the boot configuration, one
 * app file per container (conf.h). Each app file is a `rt run -d --name`
 * command line written down, so an app becomes exactly the create request
 * that command would send. A container made from an app is marked "app";
 * reload compares its stored config with the one the file gives now, byte
 * for byte (both are written by the same JSON writer), and creates,
 * replaces, starts or removes only what differs. Apps start in the order
 * their `after` lines ask for. A bad file is reported with its line and
 * skipped, and its container, if any, is left alone.
 *
 * It runs in a short-lived process: the supervisor starts it at boot and
 * on SIGHUP, and never parses an app file itself. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "cli_run.h"
#include "client.h"
#include "conf.h"
#include "incoming.h"
#include "container.h"
#include "ctl.h"
#include "io.h"
#include "json.h"
#include "kconfig.h"
#include "path.h"
#include "store.h"
#include "supervise.h"
#ifdef CONFIG_UPDATE
#include "update.h"
#endif

#define MAX_APPS RT_SUP_MAX_CONTAINERS

static struct rt_conf_app apps[MAX_APPS];
static char names[MAX_APPS][RT_CONF_NAME + 1];   /* every app file, good or bad */
static int good[MAX_APPS], done[MAX_APPS];
static char text[RT_CONF_MAX + 1];
static char req[RT_CTL_MAX];                      /* the create request */
static struct rt_json_tok tok[RT_CTR_TOK];

/* The existing containers, from ps -a. */
static struct have {
	char name[RT_CTR_NAME + 1];
	char state[24];
	int app;
} have[RT_SUP_MAX_CONTAINERS];
static int nhave;

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int list_containers(const struct rt_opts *o)
{
	struct rt_json_w w;
	struct rt_json j;
	struct rt_err e;
	int fd = rt_client_dial(o, "reload"), rc, list, c;
	bool b;

	if (fd < 0)
		return RT_EXIT_RT;
	rt_client_req(&w, "ps", NULL);
	rt_json_w_key(&w, "all");
	rt_json_w_bool(&w, true);
	rt_json_w_end(&w);
	rc = rt_client_call(fd, &w, NULL, 0, &j, "reload");
	close(fd);
	if (rc)
		return rc;
	list = rt_json_find(&j, 0, "containers");
	nhave = 0;
	for (c = rt_json_first(&j, list); c >= 0 && nhave < RT_SUP_MAX_CONTAINERS;
	     c = rt_json_next(&j, list, c)) {
		struct have *h = &have[nhave];

		if (rt_json_str(&j, rt_json_find(&j, c, "name"), h->name, sizeof h->name, &e) < 0 ||
		    rt_json_str(&j, rt_json_find(&j, c, "state"), h->state, sizeof h->state, &e) < 0)
			continue;
		h->app = rt_json_bool(&j, rt_json_find(&j, c, "app"), &b, &e) == 0 && b;
		nhave++;
	}
	return 0;
}

static struct have *find_have(const char *name)
{
	int k;

	for (k = 0; k < nhave; k++)
		if (!strcmp(have[k].name, name))
			return &have[k];
	return NULL;
}

/* One request naming a container; 0 or the exit code (error printed). */
static int simple(const struct rt_opts *o, const char *op, const char *ref, int force)
{
	struct rt_json_w w;
	struct rt_json j;
	int fd = rt_client_dial(o, "reload"), rc;

	if (fd < 0)
		return RT_EXIT_RT;
	rt_client_req(&w, op, ref);
	if (force) {
		rt_json_w_key(&w, "force");
		rt_json_w_bool(&w, true);
	}
	rt_json_w_end(&w);
	rc = rt_client_call(fd, &w, NULL, 0, &j, "reload");
	close(fd);
	return rc;
}

/* The raw bytes of the config object inside a create request. */
static int config_span(const char *buf, size_t len, const char **cfg, size_t *cfglen)
{
	struct rt_json j;
	struct rt_err e;
	int t;

	if (rt_json_parse(&j, buf, len, tok, RT_CTR_TOK, 0, &e) < 0)
		return -1;
	t = rt_json_find(&j, 0, "config");
	if (rt_json_type(&j, t) != RT_JSON_OBJECT)
		return -1;
	*cfg = buf + j.tok[t].start;
	*cfglen = j.tok[t].len;
	return 0;
}

/* Whether the stored config of name is byte for byte cfg. */
static int same_config(const struct rt_opts *o, const char *name, const char *cfg, size_t cfglen)
{
	struct rt_json_w w;
	struct rt_json j;
	int fd = rt_client_dial(o, "reload"), rc, t;

	if (fd < 0)
		return 0;
	rt_client_req(&w, "inspect", name);
	rt_json_w_end(&w);
	rc = rt_client_call(fd, &w, NULL, 0, &j, "reload");
	close(fd);
	if (rc)
		return 0;
	t = rt_json_find(&j, rt_json_find(&j, 0, "container"), "Config");
	return rt_json_type(&j, t) == RT_JSON_OBJECT && j.tok[t].len == cfglen &&
	       !memcmp(j.buf + j.tok[t].start, cfg, cfglen);
}

static int create_and_start(const struct rt_opts *o, const char *name, size_t reqlen)
{
	static struct rt_ctl_rd r;
	struct rt_json j;
	struct rt_err e;
	char msg[RT_ERR_MSG + 64];
	int fd = rt_client_dial(o, "reload"), rc, n = 0;

	if (fd < 0)
		return RT_EXIT_RT;
	rt_client_rd(&r);
	if (rt_ctl_send(fd, RT_CTL_JSON, req, reqlen, NULL, 0, &e) < 0) {
		close(fd);
		return rt_cli_fail("reload", RT_EXIT_RT, "%s: %s", name, rt_err_str(&e, msg, sizeof msg));
	}
	if (rt_client_read(fd, &r, &j, NULL, &n, "reload") < 0) {
		close(fd);
		return RT_EXIT_RT;
	}
	close(fd);
	rc = rt_client_status(&j, "reload");
	if (rc)
		return rc;
	return simple(o, "start", name, 0);
}

static int reconcile(const struct rt_opts *o, int k)
{
	struct rt_conf_app *a = &apps[k];
	struct rt_json_w w;
	struct rt_err e;
	struct have *h;
	const char *cfg;
	size_t cfglen;
	int rc;

#ifdef CONFIG_UPDATE
	/* An app's container runs its committed digest (update.h); an update
	   cut off by a power cut is rolled back here, and a changed image
	   line goes through the update transaction. */
	{
		static char pin[RT_STORE_REF_MAX + 80];
		char *image = (char *)a->image;
		int i;

		rc = rt_update_reload(o, a, pin, sizeof pin, &e);
		if (rc < 0)
			return rt_cli_fail("reload", RT_EXIT_RT, "%s: %s", a->name, e.msg);
		for (i = 0; rc == 0 && i < a->argc; i++)
			if (a->argv[i] == image)
				a->argv[i] = pin;
	}
#endif
	rc = rt_run_build(o, a->argc, a->argv, 1, &w, "reload");
	if (rc)
		return rc;
	if (rt_json_w_finish(&w, &e) < 0)
		return rt_cli_fail("reload", RT_EXIT_RT, "%s: %s", a->name, e.msg);
	/* The client's buffer is reused by the next request: keep a copy. */
	memcpy(req, w.buf, w.len);
	if (config_span(req, w.len, &cfg, &cfglen) < 0)
		return rt_cli_fail("reload", RT_EXIT_RT, "%s: cannot read back its config", a->name);
	h = find_have(a->name);
	if (h && !h->app)
		return rt_cli_fail("reload", RT_EXIT_RT,
				   "%s: a container of that name exists and was not made from an app file; leaving it",
				   a->name);
	if (h && same_config(o, a->name, cfg, cfglen)) {
		/* Unchanged: only make sure it runs (the supervisor restarts
		   what its policy says; a stopped app is started here). */
		if (!strcmp(h->state, "exited") || !strcmp(h->state, "created")) {
			rc = simple(o, "start", a->name, 0);
			if (!rc)
				printf("%s: started\n", a->name);
			return rc;
		}
		printf("%s: unchanged\n", a->name);
		return 0;
	}
	if (h && (rc = simple(o, "rm", a->name, 1)))
		return rc;
	rc = create_and_start(o, a->name, w.len);
	if (!rc)
		printf("%s: %s\n", a->name, h ? "replaced" : "created");
	return rc;
}

static int known(const char *name, int n)
{
	int k;

	for (k = 0; k < n; k++)
		if (!strcmp(names[k], name))
			return k;
	return -1;
}

static int verb_reload(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 0, "apps", 1 } };
	struct optp p = { argc, 1, argv, NULL, "reload", 0, NULL, 0 };
	const char *dir = RT_SUP_APPS_DIR, *v;
	struct dirent *d;
	struct rt_err e;
	int k, n = 0, rc = 0, progress, dfd;
	DIR *dd;

	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0)
		dir = v;
	if (k == -2)
		return RT_EXIT_USAGE;
	if (p.i < argc)
		return rt_cli_fail("reload", RT_EXIT_USAGE, "accepts no arguments");
	/* One reload at a time (boot, SIGHUP and a user may overlap). */
	{
		char lock[RT_PATH_MAX];
		int lfd;

		if (snprintf(lock, sizeof lock, "%s/reload.lock", o->run) >= (int)sizeof lock)
			return rt_cli_fail("reload", RT_EXIT_RT, "--run path too long");
		lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lfd < 0 || flock(lfd, LOCK_EX) < 0)
			return rt_cli_fail("reload", RT_EXIT_RT, "%s: %s", lock, strerror(errno));
		/* Held until this process exits. */
	}
	/* Images dropped on the device come first: an app may name one. */
	if (rt_incoming_load(o) < 0)
		rc = RT_EXIT_RT;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno != ENOENT)
		return rt_cli_fail("reload", RT_EXIT_RT, "%s: %s", dir, strerror(errno));
	/* No directory: no apps, so none of the app containers stays. */
	if (dfd >= 0) {
		dd = fdopendir(dfd);
		if (!dd) {
			close(dfd);
			return rt_cli_fail("reload", RT_EXIT_RT, "%s: %s", dir, strerror(errno));
		}
		while ((d = readdir(dd)) != NULL) {
			size_t len = strlen(d->d_name);

			if (len <= 5 || strcmp(d->d_name + len - 5, ".conf") || d->d_name[0] == '.')
				continue;
			if (n == MAX_APPS) {
				rc = rt_cli_fail("reload", RT_EXIT_RT, "more than %d app files; the rest are ignored",
						 MAX_APPS);
				break;
			}
			if (len - 5 > RT_CONF_NAME) {
				rc = rt_cli_fail("reload", RT_EXIT_RT, "%s: name too long", d->d_name);
				continue;
			}
			memcpy(names[n], d->d_name, len - 5);
			names[n][len - 5] = '\0';
			n++;
		}
		qsort(names, (size_t)n, sizeof names[0], cmp_names);
		for (k = 0; k < n; k++) {
			char file[RT_CONF_NAME + 8];
			size_t len;

			good[k] = done[k] = 0;
			snprintf(file, sizeof file, "%s.conf", names[k]);
			if (rt_io_read_file(dirfd(dd), file, text, RT_CONF_MAX, &len, &e) < 0) {
				rc = rt_cli_fail("reload", RT_EXIT_RT, "%s/%s: %s", dir, file,
						 e.errnum == EFBIG ? "too large" : strerror(e.errnum));
				continue;
			}
			if (rt_conf_parse(&apps[k], names[k], text, len, &e) < 0) {
				rc = rt_cli_fail("reload", RT_EXIT_RT, "%s/%s", dir, e.msg);
				continue;
			}
			good[k] = 1;
		}
		closedir(dd);
	}
	k = list_containers(o);
	if (k)
		return k;
	/* In `after` order: an app goes once everything it names is done
	   (names that are no app of this set are not waited for). */
	do {
		progress = 0;
		for (k = 0; k < n; k++) {
			int a, ready = 1;

			if (!good[k] || done[k])
				continue;
			for (a = 0; a < apps[k].nafter; a++) {
				int dep = known(apps[k].after[a], n);

				if (dep >= 0 && good[dep] && !done[dep])
					ready = 0;
			}
			if (!ready)
				continue;
			done[k] = progress = 1;
			if (reconcile(o, k))
				rc = RT_EXIT_RT;
		}
	} while (progress);
	for (k = 0; k < n; k++)
		if (good[k] && !done[k])
			rc = rt_cli_fail("reload", RT_EXIT_RT, "%s: its 'after' apps wait for each other in a cycle; not started",
					 names[k]);
	/* App containers whose file is gone. */
	for (k = 0; k < nhave; k++) {
		if (!have[k].app || known(have[k].name, n) >= 0)
			continue;
		if (simple(o, "rm", have[k].name, 1))
			rc = RT_EXIT_RT;
		else
			printf("%s: removed\n", have[k].name);
	}
	fflush(stdout);
	return rc;
}

const struct rt_verb rt_verbs_reload[] = {
	{ "reload", verb_reload, "[--apps DIR]", "Make the running apps match " RT_SUP_APPS_DIR },
	{ NULL, NULL, NULL, NULL },
};
