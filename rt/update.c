/* Over-the-air app updates: the journal and the transaction (update.h).
 *
 * This runs in short-lived processes only (`rt update`, `rt reload`, the
 * watcher's poll children): it parses manifests and registry answers and
 * waits on the new container, none of which may ever stall or kill the
 * supervisor. It talks to the supervisor over the control socket like any
 * client, quietly, so the one line a failed update prints is its own. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "cli_run.h"
#include "client.h"
#include "container.h"
#include "ctl.h"
#include "image.h"
#include "io.h"
#include "json.h"
#include "kconfig.h"
#include "path.h"
#include "store.h"
#include "trust.h"
#include "update.h"
#ifdef CONFIG_PULL
#include "registry.h"
#endif

#define JOURNAL_MAX 65536
#define JOURNAL_TOK 2048
#define POLL_MS 100             /* how often the new container is looked at */

static const char *const states[] = { "IDLE", "PENDING", "TESTING", "ROLLING_BACK" };
static const char *const outcomes[] = { "COMMITTED", "ROLLED_BACK", "REFUSED", "ABORTED",
					"UNCHANGED" };

const char *rt_update_outcome_str(int outcome)
{
	return outcome >= 0 && outcome <= RT_UP_UNCHANGED ? outcomes[outcome] : "?";
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void nap_ms(int64_t ms)
{
	struct timespec t = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* --- the journal ---------------------------------------------------------- */

static int apps_dir(int rootfd, int create, struct rt_err *e)
{
	int fd;

	if (!create) {
		fd = openat(rootfd, RT_UPDATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		return fd < 0 ? rt_err_sys(e, "%s", RT_UPDATE_DIR) : fd;
	}
	fd = rt_path_mkdirs(rootfd, RT_UPDATE_DIR, 0700, e);
	/* The new directory's entry must be durable before files in it. */
	if (fd >= 0 && rt_io_fsync_dir(rootfd, e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A version object: the journal's keys, or inspect's capitalised ones. */
static void w_ver_keys(struct rt_json_w *w, const char *key, const struct rt_update_ver *v,
		       int docker)
{
	rt_json_w_key(w, key);
	rt_json_w_obj(w);
	rt_json_w_key(w, docker ? "Image" : "image");
	rt_json_w_str(w, v->image);
	rt_json_w_key(w, docker ? "Digest" : "digest");
	rt_json_w_str(w, v->digest);
	rt_json_w_key(w, docker ? "Version" : "version");
	rt_json_w_u64(w, v->version);
	rt_json_w_end(w);
}

static void w_ver(struct rt_json_w *w, const char *key, const struct rt_update_ver *v)
{
	w_ver_keys(w, key, v, 0);
}

static void w_rec(struct rt_json_w *w, const struct rt_update_rec *r, int state)
{
	rt_json_w_obj(w);
	rt_json_w_key(w, "id");
	rt_json_w_i64(w, r->id);
	if (state >= 0) {
		rt_json_w_key(w, "state");
		rt_json_w_str(w, states[state]);
	} else {
		rt_json_w_key(w, "outcome");
		rt_json_w_str(w, rt_update_outcome_str(r->outcome));
		rt_json_w_key(w, "ended");
		rt_json_w_i64(w, r->ended);
		rt_json_w_key(w, "downtime_ms");
		rt_json_w_i64(w, r->downtime_ms);
	}
	rt_json_w_key(w, "started");
	rt_json_w_i64(w, r->started);
	w_ver(w, "from", &r->from);
	w_ver(w, "to", &r->to);
	rt_json_w_key(w, "reason");
	rt_json_w_str(w, r->reason);
	rt_json_w_end(w);
}

int rt_update_journal_write(int rootfd, const struct rt_update_journal *j, struct rt_err *e)
{
	static char buf[JOURNAL_MAX];
	char name[RT_CONF_NAME + 8];
	struct rt_json_w w;
	int i, fd, rc;

	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "app");
	rt_json_w_str(&w, j->app);
	rt_json_w_key(&w, "source");
	rt_json_w_str(&w, j->source);
	w_ver(&w, "current", &j->cur);
	rt_json_w_key(&w, "next");
	rt_json_w_i64(&w, j->next_id);
	if (j->state != RT_UP_IDLE) {
		rt_json_w_key(&w, "txn");
		w_rec(&w, &j->txn, j->state);
	}
	rt_json_w_key(&w, "tried");
	rt_json_w_str(&w, j->tried);
	rt_json_w_key(&w, "tries");
	rt_json_w_i64(&w, j->tries);
	rt_json_w_key(&w, "seen");
	rt_json_w_str(&w, j->seen);
	rt_json_w_key(&w, "bad");
	rt_json_w_arr(&w);
	for (i = 0; i < j->nbad; i++)
		rt_json_w_str(&w, j->bad[i]);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "history");
	rt_json_w_arr(&w);
	for (i = 0; i < j->nhist; i++)
		w_rec(&w, &j->hist[i], -1);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return rt_err_wrap(e, "journal of %s", j->app);
	fd = apps_dir(rootfd, 1, e);
	if (fd < 0)
		return rt_err_wrap(e, "journal of %s", j->app);
	snprintf(name, sizeof name, "%s.json", j->app);
	rc = rt_io_write_file(fd, name, w.buf, w.len, 0600, e);
	close(fd);
	return rc < 0 ? rt_err_wrap(e, "journal of %s", j->app) : 0;
}

static int r_str(const struct rt_json *js, int obj, const char *key, char *out, size_t cap,
		 struct rt_err *e)
{
	return rt_json_str(js, rt_json_find(js, obj, key), out, cap, e) < 0 ? -1 : 0;
}

static int r_ver(const struct rt_json *js, int obj, const char *key, struct rt_update_ver *v,
		 struct rt_err *e)
{
	int t = rt_json_find(js, obj, key);

	if (r_str(js, t, "image", v->image, sizeof v->image, e) < 0 ||
	    r_str(js, t, "digest", v->digest, sizeof v->digest, e) < 0 ||
	    rt_json_u64(js, rt_json_find(js, t, "version"), &v->version, e) < 0)
		return -1;
	return 0;
}

static int r_rec(const struct rt_json *js, int t, struct rt_update_rec *r, int *state,
		 struct rt_err *e)
{
	char s[24];
	int k;

	memset(r, 0, sizeof *r);
	r->downtime_ms = -1;
	if (rt_json_i64(js, rt_json_find(js, t, "id"), &r->id, e) < 0 ||
	    rt_json_i64(js, rt_json_find(js, t, "started"), &r->started, e) < 0 ||
	    r_ver(js, t, "from", &r->from, e) < 0 || r_ver(js, t, "to", &r->to, e) < 0 ||
	    r_str(js, t, "reason", r->reason, sizeof r->reason, e) < 0)
		return -1;
	if (state) {
		if (r_str(js, t, "state", s, sizeof s, e) < 0)
			return -1;
		for (k = 1; k < 4; k++)
			if (!strcmp(s, states[k]))
				*state = k;
		return *state ? 0 : rt_err_set(e, 0, "unknown state %s", s);
	}
	if (r_str(js, t, "outcome", s, sizeof s, e) < 0 ||
	    rt_json_i64(js, rt_json_find(js, t, "ended"), &r->ended, e) < 0 ||
	    rt_json_i64(js, rt_json_find(js, t, "downtime_ms"), &r->downtime_ms, e) < 0)
		return -1;
	r->outcome = -1;
	for (k = 0; k < RT_UP_UNCHANGED; k++)
		if (!strcmp(s, outcomes[k]))
			r->outcome = k;
	return r->outcome < 0 ? rt_err_set(e, 0, "unknown outcome %s", s) : 0;
}

static void fresh(struct rt_update_journal *j, const char *app)
{
	memset(j, 0, sizeof *j);
	snprintf(j->app, sizeof j->app, "%s", app);
	j->next_id = 1;
}

static int parse_journal(struct rt_update_journal *j, const char *buf, size_t len,
			 struct rt_err *e)
{
	static struct rt_json_tok tok[JOURNAL_TOK];
	struct rt_json js;
	int64_t tries;
	int t, k;

	if (rt_json_parse(&js, buf, len, tok, JOURNAL_TOK, 8, e) < 0 ||
	    r_str(&js, 0, "source", j->source, sizeof j->source, e) < 0 ||
	    r_ver(&js, 0, "current", &j->cur, e) < 0 ||
	    rt_json_i64(&js, rt_json_find(&js, 0, "next"), &j->next_id, e) < 0 ||
	    r_str(&js, 0, "tried", j->tried, sizeof j->tried, e) < 0 ||
	    rt_json_i64(&js, rt_json_find(&js, 0, "tries"), &tries, e) < 0 ||
	    r_str(&js, 0, "seen", j->seen, sizeof j->seen, e) < 0)
		return -1;
	j->tries = (int)(tries < 0 ? 0 : tries > 1000 ? 1000 : tries);
	t = rt_json_find(&js, 0, "txn");
	if (t >= 0 && r_rec(&js, t, &j->txn, &j->state, e) < 0)
		return -1;
	t = rt_json_find(&js, 0, "bad");
	for (k = rt_json_first(&js, t); k >= 0 && j->nbad < RT_UPDATE_BAD; k = rt_json_next(&js, t, k))
		if (rt_json_str(&js, k, j->bad[j->nbad++], RT_SHA256_STR, e) < 0)
			return -1;
	t = rt_json_find(&js, 0, "history");
	for (k = rt_json_first(&js, t); k >= 0 && j->nhist < RT_UPDATE_HIST;
	     k = rt_json_next(&js, t, k))
		if (r_rec(&js, k, &j->hist[j->nhist++], NULL, e) < 0)
			return -1;
	return 0;
}

int rt_update_journal_read(int rootfd, const char *app, struct rt_update_journal *j,
			   struct rt_err *e)
{
	static char buf[JOURNAL_MAX];
	char name[RT_CONF_NAME + 8];
	size_t len;
	int fd, rc;

	fresh(j, app);
	fd = apps_dir(rootfd, 0, e);
	if (fd < 0)
		return e->errnum == ENOENT ? 1 : -1;
	snprintf(name, sizeof name, "%s.json", app);
	rc = rt_io_read_file(fd, name, buf, sizeof buf, &len, e);
	close(fd);
	if (rc < 0)
		return e->errnum == ENOENT ? 1 : rt_err_wrap(e, "journal of %s", app);
	if (parse_journal(j, buf, len, e) < 0) {
		rt_err_wrap(e, "journal of %s is damaged", app);
		return -1;
	}
	return 0;
}

int rt_update_is_bad(const struct rt_update_journal *j, const char *digest)
{
	int i;

	for (i = 0; i < j->nbad; i++)
		if (!strcmp(j->bad[i], digest))
			return 1;
	return 0;
}

static void mark_bad(struct rt_update_journal *j, const char *digest)
{
	if (rt_update_is_bad(j, digest))
		return;
	if (j->nbad == RT_UPDATE_BAD) {
		memmove(j->bad[0], j->bad[1], sizeof j->bad[0] * (RT_UPDATE_BAD - 1));
		j->nbad--;
	}
	snprintf(j->bad[j->nbad++], RT_SHA256_STR, "%s", digest);
}

static void unmark_bad(struct rt_update_journal *j, const char *digest)
{
	int i;

	for (i = 0; i < j->nbad; i++)
		if (!strcmp(j->bad[i], digest)) {
			memmove(j->bad[i], j->bad[i + 1], sizeof j->bad[0] * (size_t)(j->nbad - i - 1));
			j->nbad--;
			return;
		}
}

/* The transaction in progress ends as outcome: into the history, and the
 * journal is idle again (the caller writes it). */
static void finish(struct rt_update_journal *j, int outcome, const char *reason)
{
	struct rt_update_rec *r;

	if (j->nhist == RT_UPDATE_HIST) {
		memmove(&j->hist[0], &j->hist[1], sizeof j->hist[0] * (RT_UPDATE_HIST - 1));
		j->nhist--;
	}
	r = &j->hist[j->nhist++];
	*r = j->txn;
	r->outcome = outcome;
	r->ended = (int64_t)time(NULL);
	if (reason)
		snprintf(r->reason, sizeof r->reason, "%s", reason);
	j->state = RT_UP_IDLE;
}

int rt_update_recover(int rootfd, struct rt_update_journal *j, struct rt_err *e)
{
	char why[RT_UPDATE_WHY];
	const char *to = j->txn.to.digest;

	switch (j->state) {
	case RT_UP_IDLE:
		return 0;
	case RT_UP_PENDING:
		finish(j, RT_UP_ABORTED, "cut off before the switch (the old version kept running)");
		break;
	case RT_UP_TESTING:
		if (strcmp(j->tried, to) != 0) {
			snprintf(j->tried, sizeof j->tried, "%s", to);
			j->tries = 0;
		}
		j->tries++;
		snprintf(why, sizeof why, "cut off while testing (try %d of %d)%s", j->tries,
			 RT_UPDATE_TRIES, j->tries >= RT_UPDATE_TRIES ? "; marked bad" : "");
		if (j->tries >= RT_UPDATE_TRIES)
			mark_bad(j, to);
		finish(j, RT_UP_ROLLED_BACK, why);
		break;
	default:        /* ROLLING_BACK: the reason and the bad mark are in */
		finish(j, RT_UP_ROLLED_BACK, NULL);
		break;
	}
	if (rt_update_journal_write(rootfd, j, e) < 0)
		return -1;
	return 1;
}

/* --- the supervisor, quietly ------------------------------------------------ */

/* One request, one JSON reply into js; an {"ok":false} reply becomes e. */
static int call(const struct rt_opts *o, const char *req, size_t len, struct rt_json *js,
		struct rt_err *e)
{
	static struct rt_json_tok tok[RT_CTR_TOK];
	static struct rt_ctl_rd r;
	char path[RT_PATH_MAX], msg[RT_ERR_MSG];
	bool ok = false;
	int fd, n;

	if (snprintf(path, sizeof path, "%s/rt.sock", o->run) >= (int)sizeof path)
		return rt_err_set(e, ENAMETOOLONG, "--run path too long");
	fd = rt_ctl_connect(path, e);
	if (fd < 0)
		return rt_err_wrap(e, "the rt daemon");
	rt_client_rd(&r);
	if (rt_ctl_send(fd, RT_CTL_JSON, req, len, NULL, 0, e) < 0) {
		close(fd);
		return -1;
	}
	do {
		n = rt_ctl_read_frame(fd, &r, NULL, NULL, e);
	} while (n > 0 && r.type != RT_CTL_JSON);
	close(fd);
	if (n <= 0)
		return n < 0 ? -1 : rt_err_set(e, EPROTO, "the rt daemon closed the connection");
	if (rt_json_parse(js, (const char *)r.buf, r.len, tok, RT_CTR_TOK, 0, e) < 0)
		return rt_err_wrap(e, "reply from the rt daemon");
	if (rt_json_bool(js, rt_json_find(js, 0, "ok"), &ok, e) == 0 && ok)
		return 0;
	if (rt_json_str(js, rt_json_find(js, 0, "error"), msg, sizeof msg, e) < 0)
		snprintf(msg, sizeof msg, "the rt daemon refused the request");
	return rt_err_set(e, ENOENT, "%s", msg);
}

static int simple(const struct rt_opts *o, const char *op, const char *name, int force,
		  struct rt_json *js, struct rt_err *e)
{
	char buf[RT_CTR_NAME + 96];
	int n;

	n = snprintf(buf, sizeof buf, "{\"op\":\"%s\",\"id\":\"%s\"%s}", op, name,
		     force ? ",\"force\":true" : "");
	return call(o, buf, (size_t)n, js, e);
}

struct ctr_state {
	char id[RT_CTR_ID + 1];
	char digest[RT_SHA256_STR];     /* Config.image_digest */
	char image[RT_UPDATE_REF];      /* Config.image */
	char health[16];                /* State.Health.Status, "" without */
	bool running;
	uint64_t restarts;
	int64_t exit_code;
};

/* 1 and st filled, 0 when there is no such container. */
static int look(const struct rt_opts *o, const char *name, struct ctr_state *st, struct rt_err *e)
{
	struct rt_json js;
	struct rt_err ig;
	int c, s, cf;

	memset(st, 0, sizeof *st);
	if (simple(o, "inspect", name, 0, &js, e) < 0)
		return e->errnum == ENOENT ? 0 : -1;
	c = rt_json_find(&js, 0, "container");
	s = rt_json_find(&js, c, "State");
	cf = rt_json_find(&js, c, "Config");
	if (r_str(&js, c, "Id", st->id, sizeof st->id, e) < 0 ||
	    rt_json_bool(&js, rt_json_find(&js, s, "Running"), &st->running, e) < 0 ||
	    rt_json_u64(&js, rt_json_find(&js, c, "RestartCount"), &st->restarts, e) < 0 ||
	    rt_json_i64(&js, rt_json_find(&js, s, "ExitCode"), &st->exit_code, e) < 0)
		return rt_err_wrap(e, "inspect %s", name);
	/* Optional: a container from --rootfs has no digest, one without a
	   health check no Health. */
	rt_json_str(&js, rt_json_find(&js, cf, "image_digest"), st->digest, sizeof st->digest, &ig);
	rt_json_str(&js, rt_json_find(&js, cf, "image"), st->image, sizeof st->image, &ig);
	rt_json_str(&js, rt_json_find(&js, rt_json_find(&js, s, "Health"), "Status"), st->health,
		    sizeof st->health, &ig);
	return 1;
}

/* "REPO@DIGEST": what the app's container is created from. */
static int pin_of(const struct rt_update_ver *v, char *out, size_t cap, struct rt_err *e)
{
	char repo[RT_UPDATE_REF];

	if (rt_trust_repo(v->image, repo, sizeof repo, e) < 0)
		return -1;
	if (snprintf(out, cap, "%s@%s", repo, v->digest) >= (int)cap)
		return rt_err_set(e, ENAMETOOLONG, "%s: reference too long", v->image);
	return 0;
}

/* Create the app's container from pin and start it. */
static int create_start(const struct rt_opts *o, const struct rt_conf_app *a, const char *pin,
			struct rt_err *e)
{
	char *argv[RT_CONF_ARGS + 1];
	struct rt_json_w w;
	struct rt_json js;
	int i;

	memcpy(argv, a->argv, sizeof argv);
	for (i = 0; i < a->argc; i++)
		if (a->argv[i] == a->image)
			argv[i] = (char *)pin;
	/* rt_run_build reports a bad app file itself (reload has too). */
	if (rt_run_build(o, a->argc, argv, 1, &w, "update") != 0)
		return rt_err_set(e, EINVAL, "cannot make its container from %s", pin);
	if (rt_json_w_finish(&w, e) < 0 || call(o, w.buf, w.len, &js, e) < 0)
		return rt_err_wrap(e, "create from %s", pin);
	if (simple(o, "start", a->name, 0, &js, e) < 0)
		return rt_err_wrap(e, "start");
	return 0;
}

/* Remove the app's container, whatever it runs; none is fine. */
static int remove_app(const struct rt_opts *o, const char *name, struct rt_err *e)
{
	struct ctr_state st;
	struct rt_json js;
	int k = look(o, name, &st, e);

	if (k <= 0)
		return k;
	return simple(o, "rm", name, 1, &js, e) < 0 ? rt_err_wrap(e, "remove") : 0;
}

/* Make the app's container run v's digest (leave it when it does). */
static int ensure_on(const struct rt_opts *o, const struct rt_conf_app *a,
		     const struct rt_update_ver *v, struct rt_err *e)
{
	char pin[RT_UPDATE_REF + RT_SHA256_STR];
	struct ctr_state st;
	int k = look(o, a->name, &st, e);

	if (k < 0)
		return -1;
	if (k > 0 && !strcmp(st.digest, v->digest))
		return 0;
	if (pin_of(v, pin, sizeof pin, e) < 0 || remove_app(o, a->name, e) < 0)
		return -1;
	return create_start(o, a, pin, e);
}

/* Healthy within uo->timeout_ms, or why not. Without a health check,
 * healthy is running, never restarted, for uo->stable_ms. */
static int wait_healthy(const struct rt_opts *o, const char *name, const char *id,
			const struct rt_update_opts *uo, char *why, size_t cap)
{
	int64_t t0 = mono_ms(), since = -1, now;
	struct ctr_state st;
	struct rt_err e;

	for (;;) {
		int k = look(o, name, &st, &e);

		now = mono_ms();
		if (k < 0) {
			snprintf(why, cap, "%s", e.msg);
			return -1;
		}
		if (k == 0 || strcmp(st.id, id) != 0) {
			snprintf(why, cap, "its container was removed while it was tested");
			return -1;
		}
		if (!strcmp(st.health, "unhealthy")) {
			snprintf(why, cap, "the new version's health check failed (unhealthy)");
			return -1;
		}
		if (st.restarts > 0 || !st.running) {
			snprintf(why, cap, "the new version exited with code %lld%s",
				 (long long)st.exit_code, st.restarts ? " and was restarted" : "");
			return -1;
		}
		if (!strcmp(st.health, "healthy"))
			return 0;
		if (!st.health[0]) {
			if (since < 0)
				since = now;
			if (now - since >= uo->stable_ms)
				return 0;
		}
		if (now - t0 >= uo->timeout_ms) {
			snprintf(why, cap, "the new version was not healthy within %lld.%llds",
				 (long long)(uo->timeout_ms / 1000),
				 (long long)(uo->timeout_ms % 1000 / 100));
			return -1;
		}
		nap_ms(POLL_MS);
	}
}

/* --- fetch and verify ------------------------------------------------------- */

/* Whether a reference names a registry (its first component is a host). */
static int from_registry(const char *ref)
{
	size_t n;

	if (!ref)
		return 0;
	n = strcspn(ref, "/");
	if (!ref[n])
		return 0;
	return memchr(ref, '.', n) || memchr(ref, ':', n) || (n == 9 && !strncmp(ref, "localhost", 9));
}

#ifdef CONFIG_PULL
static int pull(struct rt_store *s, const char *image, struct rt_image_load_opts *lo,
		uint64_t *bytes, struct rt_err *e)
{
	struct rt_image_ref ref;
	struct rt_image_want want;
	struct rt_image_src src;
	struct rt_registry *reg;
	int rc;

	if (rt_image_ref_parse(image, &ref, e) < 0)
		return -1;
	if (!ref.tag[0] && !ref.digest[0])
		snprintf(ref.tag, sizeof ref.tag, "latest");
	reg = rt_registry_new(ref.name, NULL, NULL, e);
	if (!reg)
		return -1;
	rc = rt_registry_resolve(reg, ref.digest[0] ? ref.digest : ref.tag, &want, e);
	if (rc == 0) {
		if (ref.tag[0])
			snprintf(want.name, sizeof want.name, "%s:%s", ref.name, ref.tag);
		rt_registry_set_store(reg, s);
		rt_registry_src(reg, &src);
		rc = rt_image_load(s, &src, &want, 1, lo, e);
		*bytes = rt_registry_blob_bytes(reg);
	}
	rt_registry_free(reg);
	return rc;
}
#endif

static char loaded_id[RT_SHA256_STR], loaded_name[RT_UPDATE_REF];
static int nloaded;

static void on_loaded(void *arg, const char *name, const char *id)
{
	(void)arg;
	if (!nloaded || strcmp(loaded_id, id) != 0) {
		nloaded++;
		loaded_name[0] = '\0';
	}
	snprintf(loaded_id, sizeof loaded_id, "%s", id);
	if (name && !loaded_name[0])
		rt_image_familiar(name, loaded_name, sizeof loaded_name);
}

/* What the verified signature of digest said (its trust record): 0, 1
 * when it has none, < 0 on error. With fdp, the store's fd is left there
 * open (when the return is >= 0) for a write that follows. */
static int record_of(const struct rt_opts *o, const char *digest, struct rt_trust_result *tr,
		     int *fdp, struct rt_err *e)
{
	uint8_t d[RT_SHA256_LEN];
	int64_t when;
	int fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return rt_err_sys(e, "%s", o->root);
	rc = rt_sha256_parse(digest, strlen(digest), d, e);
	if (rc == 0)
		rc = rt_trust_record_read(fd, d, tr, &when, e);
	if (fdp && rc >= 0)
		*fdp = fd;
	else
		close(fd);
	return rc;
}

/* Bring image into the store (already there, pulled, or loaded from
 * uo->file), its signature checked by the trust policy on the way in
 * without raising the rollback record; fill v. */
static int fetch(const struct rt_opts *o, const char *image, const struct rt_update_opts *uo,
		 struct rt_update_ver *v, uint64_t *bytes, struct rt_err *e)
{
	struct rt_image_load_opts lo;
	struct rt_trust_result tr;
	struct rt_store s;
	int rc = 0;

	memset(&lo, 0, sizeof lo);
	*bytes = 0;
	if (rt_unpack_limits(&lo.lim, getenv("RT_LIMITS"), e) < 0 ||
	    rt_trust_load_opts(o->root, RT_TRUST_KEEP_FLOOR, &lo, e) < 0)
		return -1;
	lo.loaded = on_loaded;
	if (rt_store_open(&s, o->root, RT_STORE_SHARED, e) < 0)
		return -1;
	nloaded = 0;
	if (uo->file)
		rc = rt_archive_load(&s, uo->file, &lo, e);
#ifdef CONFIG_PULL
	else if (from_registry(image))
		rc = pull(&s, image, &lo, bytes, e);
#endif
	if (rc == 0) {
		if (!image && nloaded != 1)
			rc = rt_err_set(e, EINVAL, "%s holds %d images: name the one to update to",
					uo->file, nloaded);
		else
			rc = rt_image_find(&s, image ? image : loaded_id, v->digest, e);
	}
	rt_store_close(&s);
	if (rc < 0)
		return -1;
	/* With only a file, the name it gave its image (a digest without). */
	snprintf(v->image, sizeof v->image, "%s",
		 image ? image : loaded_name[0] ? loaded_name : v->digest);
	/* The version its verified signature carries (the load wrote the
	   record); none: unsigned, which only a build that does not require
	   signatures lets in. */
	rc = record_of(o, v->digest, &tr, NULL, e);
	if (rc < 0)
		return -1;
	if (rc == 1 && IS_ENABLED(CONFIG_REQUIRE_SIGNATURE))
		return rt_err_set(e, EPERM, "%s has no verified signature", v->image);
	v->version = rc == 0 ? tr.version : 0;
	return 0;
}

static int raise_floor(const struct rt_opts *o, const struct rt_update_ver *v, struct rt_err *e)
{
	struct rt_trust_result tr;
	int fd = -1, rc;

	rc = record_of(o, v->digest, &tr, &fd, e);
	if (rc == 0)
		rc = rt_trust_raise(fd, tr.repo, tr.version, e);
	if (fd >= 0)
		close(fd);
	return rc < 0 ? -1 : 0;
}

static int version_of(int rootfd, const char *digest, uint64_t *version)
{
	struct rt_trust_result tr;
	uint8_t d[RT_SHA256_LEN];
	struct rt_err e;
	int64_t when;

	*version = 0;
	if (rt_sha256_parse(digest, strlen(digest), d, &e) < 0 ||
	    rt_trust_record_read(rootfd, d, &tr, &when, &e) != 0)
		return 0;
	*version = tr.version;
	return 0;
}

/* --- the transaction ---------------------------------------------------------- */

static struct rt_update_journal jr;

static void say(const struct rt_update_opts *uo, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const struct rt_update_opts *uo, const char *fmt, ...)
{
	va_list ap;

	if (uo->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* The journal of a, started from its running container when it has none. */
static int journal_of(const struct rt_opts *o, int rootfd, const struct rt_conf_app *a,
		      struct rt_err *e)
{
	struct ctr_state st;
	int k = rt_update_journal_read(rootfd, a->name, &jr, e);

	if (k <= 0)
		return k;
	k = look(o, a->name, &st, e);
	if (k < 0)
		return -1;
	if (k == 0 || !st.digest[0])
		return rt_err_set(e, ENOENT, "no container of this app runs an image (rt reload makes it)");
	snprintf(jr.source, sizeof jr.source, "%s", a->image);
	snprintf(jr.cur.image, sizeof jr.cur.image, "%s", a->image);
	snprintf(jr.cur.digest, sizeof jr.cur.digest, "%s", st.digest);
	version_of(rootfd, st.digest, &jr.cur.version);
	return rt_update_journal_write(rootfd, &jr, e);
}

static int refuse(int rootfd, int outcome, const char *why, char *out, size_t cap,
		  struct rt_err *e)
{
	snprintf(out, cap, "%s", why);
	finish(&jr, outcome, why);
	if (rt_update_journal_write(rootfd, &jr, e) < 0)
		return -1;
	return outcome;
}

static int roll_back(const struct rt_opts *o, int rootfd, const struct rt_conf_app *a,
		     const struct rt_update_opts *uo, char *why, size_t cap, struct rt_err *e)
{
	struct rt_err e2;

	jr.state = RT_UP_ROLLING_BACK;
	snprintf(jr.txn.reason, sizeof jr.txn.reason, "%s", why);
	mark_bad(&jr, jr.txn.to.digest);
	if (rt_update_journal_write(rootfd, &jr, e) < 0)
		return -1;
	say(uo, "%s: rolling back to %.19s (version %llu)\n", a->name, jr.cur.digest,
	    (unsigned long long)jr.cur.version);
	if (ensure_on(o, a, &jr.cur, &e2) < 0) {
		/* The journal still says ROLLING_BACK: the next reload retries. */
		return rt_err_set(e, e2.errnum, "%s; and the rollback failed: %s", why, e2.msg);
	}
	finish(&jr, RT_UP_ROLLED_BACK, NULL);
	if (rt_update_journal_write(rootfd, &jr, e) < 0)
		return -1;
	(void)cap;
	return RT_UP_ROLLED_BACK;
}

static int transact(const struct rt_opts *o, int rootfd, const struct rt_conf_app *a,
		    const char *image, const struct rt_update_opts *uo, char *why, size_t cap,
		    struct rt_err *e)
{
	char pin[RT_UPDATE_REF + RT_SHA256_STR], msg[RT_UPDATE_WHY];
	struct rt_update_ver *to = &jr.txn.to;
	struct ctr_state st;
	struct rt_store hold;
	uint64_t bytes;
	int64_t t0, t1;
	int rc, k;

	memset(&jr.txn, 0, sizeof jr.txn);
	jr.txn.id = jr.next_id++;
	jr.txn.started = (int64_t)time(NULL);
	jr.txn.downtime_ms = -1;
	jr.txn.from = jr.cur;
	snprintf(to->image, sizeof to->image, "%s", image ? image : uo->file);
	jr.state = RT_UP_PENDING;
	if (rt_update_journal_write(rootfd, &jr, e) < 0)
		return -1;

	if (fetch(o, image, uo, to, &bytes, e) < 0) {
		snprintf(msg, sizeof msg, "%s", e->msg);
		/* A refused signature or version is the image's fault; anything
		   else (network, no such image) may pass and is not final. */
		return refuse(rootfd, e->errnum == EPERM || strstr(msg, "signature") ?
				      RT_UP_REFUSED : RT_UP_ABORTED, msg, why, cap, e);
	}
	if (uo->file || !from_registry(to->image))
		say(uo, "%s: fetched %s (%.19s, version %llu)\n", a->name, to->image, to->digest,
		    (unsigned long long)to->version);
	else
		say(uo, "%s: fetched %s (%.19s, version %llu, %llu bytes downloaded)\n", a->name,
		    to->image, to->digest, (unsigned long long)to->version, (unsigned long long)bytes);
	if (!strcmp(to->digest, jr.cur.digest)) {
		jr.state = RT_UP_IDLE;
		jr.next_id--;
		if (rt_update_journal_write(rootfd, &jr, e) < 0)
			return -1;
		return RT_UP_UNCHANGED;
	}
	if (rt_update_is_bad(&jr, to->digest) && !uo->by_hand)
		return refuse(rootfd, RT_UP_REFUSED, "this digest failed before (marked bad)", why, cap, e);
	if (to->version <= jr.cur.version &&
	    (to->version || jr.cur.version || IS_ENABLED(CONFIG_REQUIRE_SIGNATURE))) {
		snprintf(msg, sizeof msg, "version %llu is not newer than the running version %llu",
			 (unsigned long long)to->version, (unsigned long long)jr.cur.version);
		return refuse(rootfd, RT_UP_REFUSED, msg, why, cap, e);
	}
	unmark_bad(&jr, to->digest);

	/* The switch. From here a cut-off transaction rolls back. */
	jr.state = RT_UP_TESTING;
	if (strcmp(jr.tried, to->digest) != 0) {
		snprintf(jr.tried, sizeof jr.tried, "%s", to->digest);
		jr.tries = 0;
	}
	if (rt_update_journal_write(rootfd, &jr, e) < 0)
		return -1;
	/* Keep the old image from a prune until this is over. */
	if (rt_store_open(&hold, o->root, RT_STORE_SHARED, e) < 0)
		return -1;
	t0 = mono_ms();
	rc = pin_of(to, pin, sizeof pin, e);
	if (rc == 0)
		rc = remove_app(o, a->name, e);
	if (rc == 0)
		rc = create_start(o, a, pin, e);
	if (rc == 0 && (k = look(o, a->name, &st, e)) <= 0)
		rc = k < 0 ? -1 : rt_err_set(e, ENOENT, "its container vanished");
	t1 = mono_ms();
	if (rc < 0)
		snprintf(msg, sizeof msg, "%s", e->msg);
	else
		rc = wait_healthy(o, a->name, st.id, uo, msg, sizeof msg);
	if (rc < 0) {
		snprintf(why, cap, "%s", msg);
		rc = roll_back(o, rootfd, a, uo, msg, sizeof msg, e);
		rt_store_close(&hold);
		return rc;
	}
	jr.txn.downtime_ms = mono_ms() - t0;
	jr.cur = *to;
	jr.tried[0] = '\0';
	jr.tries = 0;
	snprintf(msg, sizeof msg, "healthy %lld ms after the old version was stopped",
		 (long long)jr.txn.downtime_ms);
	finish(&jr, RT_UP_COMMITTED, msg);
	rc = rt_update_journal_write(rootfd, &jr, e);
	rt_store_close(&hold);
	if (rc < 0)
		return -1;
	/* After the commit: a cut here is made good by the next reload. */
	if (raise_floor(o, &jr.cur, e) < 0)
		return -1;
	say(uo, "%s: committed %.19s (version %llu); downtime %lld ms (started %lld ms after the old one stopped)\n",
	    a->name, jr.cur.digest, (unsigned long long)jr.cur.version,
	    (long long)jr.hist[jr.nhist - 1].downtime_ms, (long long)(t1 - t0));
	return RT_UP_COMMITTED;
}

static int open_root(const struct rt_opts *o, struct rt_err *e)
{
	int fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? rt_err_sys(e, "%s", o->root) : fd;
}

int rt_update_run(const struct rt_opts *o, const struct rt_conf_app *a, const char *image,
		  const struct rt_update_opts *uo, char *why, size_t cap, struct rt_err *e)
{
	int rootfd = open_root(o, e), rc;

	why[0] = '\0';
	if (rootfd < 0)
		return -1;
	rc = journal_of(o, rootfd, a, e);
	/* Left behind by an update that was killed: finish it first. */
	if (rc == 0 && jr.state != RT_UP_IDLE)
		rc = rt_update_recover(rootfd, &jr, e) < 0 || ensure_on(o, a, &jr.cur, e) < 0 ? -1 : 0;
	if (rc == 0)
		rc = transact(o, rootfd, a, image, uo, why, cap, e);
	close(rootfd);
	return rc;
}

/* --- reload ----------------------------------------------------------------- */

static void defaults(const struct rt_conf_app *a, struct rt_update_opts *uo)
{
	memset(uo, 0, sizeof *uo);
	uo->timeout_ms = a->update_timeout_ms >= 0 ? a->update_timeout_ms : RT_UPDATE_TIMEOUT_MS;
	uo->stable_ms = a->update_stable_ms >= 0 ? a->update_stable_ms : RT_UPDATE_STABLE_MS;
}

/* Temporary files of journal writes cut off by a power cut: every writer
 * holds RUN/reload.lock, as our caller does, so none is in progress. */
static void clean_tmp(int rootfd)
{
	static int done;
	struct dirent *d;
	struct rt_err e;
	DIR *dd;
	int fd;

	if (done++ || (fd = apps_dir(rootfd, 0, &e)) < 0)
		return;
	dd = fdopendir(fd);
	if (!dd) {
		close(fd);
		return;
	}
	while ((d = readdir(dd)) != NULL)
		if (!strncmp(d->d_name, ".tmp-", 5))
			unlinkat(dirfd(dd), d->d_name, 0);
	closedir(dd);
}

/* An app reloaded for the first time starts its journal at the digest its
 * file's image names now; 1 when that is not in the store (reload then
 * says so as it always did). */
static int first_journal(const struct rt_opts *o, int rootfd, const struct rt_conf_app *a,
			 struct rt_err *e)
{
	struct rt_store s;
	struct rt_err ig;
	int rc;

	if (rt_store_open(&s, o->root, RT_STORE_SHARED, e) < 0)
		return -1;
	rc = rt_image_find(&s, a->image, jr.cur.digest, &ig);
	rt_store_close(&s);
	if (rc < 0)
		return 1;
	snprintf(jr.source, sizeof jr.source, "%s", a->image);
	snprintf(jr.cur.image, sizeof jr.cur.image, "%s", a->image);
	version_of(rootfd, jr.cur.digest, &jr.cur.version);
	return rt_update_journal_write(rootfd, &jr, e);
}

int rt_update_reload(const struct rt_opts *o, const struct rt_conf_app *a, char *pin,
		     size_t cap, struct rt_err *e)
{
	const struct rt_update_rec *last;
	struct rt_update_opts uo;
	char why[RT_UPDATE_WHY];
	int rootfd = open_root(o, e), rc;

	if (rootfd < 0)
		return -1;
	clean_tmp(rootfd);
	rc = rt_update_journal_read(rootfd, a->name, &jr, e);
	if (rc == 1)
		rc = first_journal(o, rootfd, a, e);
	if (rc == 0 && jr.state != RT_UP_IDLE) {
		rc = rt_update_recover(rootfd, &jr, e) < 0 ? -1 : 0;
		last = &jr.hist[jr.nhist - 1];
		if (rc == 0)
			printf("%s: update %lld %s: %s\n", a->name, (long long)last->id,
			       rt_update_outcome_str(last->outcome), last->reason);
	}
	if (rc == 0 && strcmp(jr.source, a->image) != 0) {
		/* The app file names another image: the same transaction as
		   `rt update`. Whatever it ends as, the file's image is done
		   with, unless it could not be fetched at all. */
		defaults(a, &uo);
		printf("%s: image changed to %s\n", a->name, a->image);
		fflush(stdout);
		rc = transact(o, rootfd, a, a->image, &uo, why, sizeof why, e);
		if (rc == RT_UP_ROLLED_BACK || rc == RT_UP_REFUSED || rc == RT_UP_ABORTED)
			fprintf(stderr, "rt: reload: %s: update %s: %s\n", a->name,
				rc == RT_UP_ROLLED_BACK ? "rolled back" :
				rc == RT_UP_REFUSED ? "refused" : "failed", why);
		if (rc >= 0 && rc != RT_UP_ABORTED)
			snprintf(jr.source, sizeof jr.source, "%s", a->image);
		if (rc >= 0)
			rc = rt_update_journal_write(rootfd, &jr, e);
	}
	if (rc == 0)
		rc = pin_of(&jr.cur, pin, cap, e);
	close(rootfd);
	return rc;
}

int rt_update_lock(const struct rt_opts *o, struct rt_err *e)
{
	char lock[RT_PATH_MAX];
	int fd;

	if (snprintf(lock, sizeof lock, "%s/reload.lock", o->run) >= (int)sizeof lock)
		return rt_err_set(e, ENAMETOOLONG, "--run path too long");
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return rt_err_sys(e, "%s", lock);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return rt_err_sys(e, "%s", lock);
		}
	return 0;       /* held until this process exits */
}

/* --- the channel ------------------------------------------------------------------ */

int rt_update_poll(const struct rt_opts *o, const struct rt_conf_app *a,
		   const struct rt_update_opts *uo, char *why, size_t cap, struct rt_err *e)
{
#ifdef CONFIG_PULL
	char digest[RT_SHA256_STR], ref2[RT_UPDATE_REF];
	struct rt_image_ref ref;
	struct rt_registry *reg;
	int rootfd, rc;

	why[0] = '\0';
	if (rt_image_ref_parse(a->update, &ref, e) < 0)
		return -1;
	if (ref.digest[0])
		return rt_err_set(e, EINVAL, "%s: a digest never changes; watch a tag", a->update);
	if (!ref.tag[0])
		snprintf(ref.tag, sizeof ref.tag, "latest");
	if (rt_update_lock(o, e) < 0 || (rootfd = open_root(o, e)) < 0)
		return -1;
	rc = rt_update_journal_read(rootfd, a->name, &jr, e);
	if (rc != 0) {
		close(rootfd);
		return rc < 0 ? -1 : rt_err_set(e, ENOENT, "no journal yet (rt reload makes it)");
	}
	reg = rt_registry_new(ref.name, NULL, NULL, e);
	rc = reg ? rt_registry_head(reg, ref.tag, jr.seen, digest, e) : -1;
	rt_registry_free(reg);
	if (rc != 0) {
		close(rootfd);
		return rc < 0 ? -1 : RT_UP_UNCHANGED;
	}
	snprintf(jr.seen, sizeof jr.seen, "%s", digest);
	rc = rt_update_journal_write(rootfd, &jr, e);
	if (rc == 0 && (!strcmp(digest, jr.cur.digest) || rt_update_is_bad(&jr, digest)))
		rc = RT_UP_UNCHANGED;
	else if (rc == 0 && snprintf(ref2, sizeof ref2, "%s@%s", ref.name, digest) >= (int)sizeof ref2)
		rc = rt_err_set(e, ENAMETOOLONG, "%s: name too long", ref.name);
	else if (rc == 0)
		rc = rt_update_run(o, a, ref2, uo, why, cap, e);
	close(rootfd);
	return rc;
#else
	(void)o, (void)a, (void)uo, (void)why, (void)cap;
	return rt_err_set(e, ENOTSUP, "this rt is built without pull");
#endif
}

/* --- inspect ----------------------------------------------------------------------- */

static void w_time(struct rt_json_w *w, const char *key, int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(buf, "?");
	rt_json_w_key(w, key);
	rt_json_w_str(w, buf);
}

int rt_update_inspect_json(const char *root, const char *app, char *buf, size_t cap,
			   size_t *len, struct rt_err *e)
{
	struct rt_json_w w;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, i;

	if (fd < 0)
		return errno == ENOENT ? 0 : rt_err_sys(e, "%s", root);
	rc = rt_update_journal_read(fd, app, &jr, e);
	close(fd);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	rt_json_w_init(&w, buf, cap);
	rt_json_w_obj(&w);
	w_ver_keys(&w, "Current", &jr.cur, 1);
	rt_json_w_key(&w, "State");
	rt_json_w_str(&w, states[jr.state]);
	rt_json_w_key(&w, "Bad");
	rt_json_w_arr(&w);
	for (i = 0; i < jr.nbad; i++)
		rt_json_w_str(&w, jr.bad[i]);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "History");
	rt_json_w_arr(&w);
	for (i = 0; i < jr.nhist; i++) {
		const struct rt_update_rec *r = &jr.hist[i];

		rt_json_w_obj(&w);
		rt_json_w_key(&w, "Id");
		rt_json_w_i64(&w, r->id);
		w_time(&w, "Started", r->started);
		w_time(&w, "Ended", r->ended);
		w_ver_keys(&w, "From", &r->from, 1);
		w_ver_keys(&w, "To", &r->to, 1);
		rt_json_w_key(&w, "Outcome");
		rt_json_w_str(&w, rt_update_outcome_str(r->outcome));
		rt_json_w_key(&w, "Reason");
		rt_json_w_str(&w, r->reason);
		if (r->downtime_ms >= 0) {
			rt_json_w_key(&w, "DowntimeMs");
			rt_json_w_i64(&w, r->downtime_ms);
		}
		rt_json_w_end(&w);
	}
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return -1;
	*len = w.len;
	return 1;
}

