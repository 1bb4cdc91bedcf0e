#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "io.h"
#include "kconfig.h"
#include "path.h"
#ifdef CONFIG_NET_BRIDGE
#include "netconf.h"
#endif

/* Token scratch for one record; the supervisor is single-threaded and
 * short-lived CLI processes parse one record at a time. */
static struct rt_json_tok tok[RT_CTR_TOK];

int rt_ctr_new_id(char id[RT_CTR_ID + 1], struct rt_err *e)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[RT_CTR_ID / 2];
	size_t got = 0;
	int i;

	while (got < sizeof r) {
		ssize_t n = getrandom(r + got, sizeof r - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rt_err_sys(e, "getrandom");
		}
		got += (size_t)n;
	}
	for (i = 0; i < RT_CTR_ID / 2; i++) {
		id[2 * i] = hex[r[i] >> 4];
		id[2 * i + 1] = hex[r[i] & 15];
	}
	id[RT_CTR_ID] = '\0';
	return 0;
}

static int alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int rt_ctr_name_ok(const char *name)
{
	size_t i;

	if (!alnum(name[0]))
		return 0;
	for (i = 1; name[i]; i++)
		if (!alnum(name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
			return 0;
	return i <= RT_CTR_NAME;
}

int rt_ctr_volume_ok(const char *name)
{
	return rt_ctr_name_ok(name);
}

void rt_ctr_name_gen(char name[RT_CTR_NAME + 1], uint32_t r, unsigned try)
{
	static const char *const adj[] = {
		"amber", "brave", "calm", "clever", "cosy", "crisp", "dapper", "eager",
		"fancy", "gentle", "happy", "hardy", "jolly", "keen", "lively", "lucid",
		"merry", "mellow", "nimble", "noble", "plucky", "proud", "quiet", "rapid",
		"serene", "shiny", "spry", "steady", "sturdy", "sunny", "swift", "witty",
	};
	static const char *const noun[] = {
		"badger", "beacon", "bison", "cedar", "comet", "condor", "falcon", "fjord",
		"gecko", "glacier", "harbor", "heron", "ibex", "lantern", "lynx", "meadow",
		"nebula", "otter", "pebble", "pulsar", "quartz", "raven", "reef", "river",
		"sparrow", "summit", "tundra", "walrus", "willow", "yak", "zephyr", "puffin",
	};
	const char *a = adj[r % (sizeof adj / sizeof adj[0])];
	const char *n = noun[(r >> 8) % (sizeof noun / sizeof noun[0])];

	if (try)
		snprintf(name, RT_CTR_NAME + 1, "%s_%s%u", a, n, try);
	else
		snprintf(name, RT_CTR_NAME + 1, "%s_%s", a, n);
}

/* --- checking a config ------------------------------------------------ */

static int abs_path_ok(const char *p)
{
	return p[0] == '/' && strlen(p) < RT_PATH_MAX;
}

static int get_str(const struct rt_json *j, int obj, const char *key, char *buf,
		   size_t cap, int need, struct rt_err *e)
{
	int t = rt_json_find(j, obj, key);

	buf[0] = '\0';
	if (t < 0) {
		if (need)
			return rt_err_set(e, EINVAL, "config: '%s' is missing", key);
		return 0;
	}
	if (rt_json_str(j, t, buf, cap, e) < 0)
		return rt_err_set(e, EINVAL, "config: '%s' must be a string of at most %zu bytes",
				  key, cap - 1);
	return 1;
}

static int get_u64(const struct rt_json *j, int obj, const char *key, uint64_t max,
		   uint64_t *out, struct rt_err *e)
{
	int t = rt_json_find(j, obj, key);

	*out = 0;
	if (t < 0)
		return 0;
	if (rt_json_u64(j, t, out, e) < 0 || *out > max)
		return rt_err_set(e, EINVAL, "config: '%s' must be an integer up to %llu", key,
				  (unsigned long long)max);
	return 0;
}

static int get_bool(const struct rt_json *j, int obj, const char *key, int *out,
		    struct rt_err *e)
{
	int t = rt_json_find(j, obj, key);
	bool b = false;

	*out = 0;
	if (t < 0)
		return 0;
	if (rt_json_bool(j, t, &b, e) < 0)
		return rt_err_set(e, EINVAL, "config: '%s' must be true or false", key);
	*out = b;
	return 0;
}

/* Check that key is an array of at most max strings, each accepted by ok()
 * and shorter than RT_PATH_MAX. Returns the count. */
static int str_array_in(const struct rt_json *j, int obj, const char *key, int min, int max,
			int (*ok)(const char *), const char *what, struct rt_err *e)
{
	char s[RT_PATH_MAX];
	int a = rt_json_find(j, obj, key), i, n = 0;

	if (a < 0 && min == 0)
		return 0;
	if (rt_json_type(j, a) != RT_JSON_ARRAY)
		return rt_err_set(e, EINVAL, "config: '%s' must be an array", key);
	if (rt_json_count(j, a) < min || rt_json_count(j, a) > max)
		return rt_err_set(e, EINVAL, "config: '%s' must have %d to %d elements", key, min, max);
	for (i = rt_json_first(j, a); i >= 0; i = rt_json_next(j, a, i), n++)
		if (rt_json_str(j, i, s, sizeof s, e) < 0 || (ok && !ok(s)))
			return rt_err_set(e, EINVAL, "config: %s %d is not %s", key, n, what);
	return n;
}

static int str_array(const struct rt_json *j, const char *key, int min, int max,
		     int (*ok)(const char *), const char *what, struct rt_err *e)
{
	return str_array_in(j, 0, key, min, max, ok, what, e);
}

static int any_str(const char *s)
{
	(void)s;
	return 1;
}

static int env_ok(const char *s)
{
	return s[0] != '=' && strchr(s, '=') != NULL;
}

static int hostname_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!alnum(s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return i > 0 && i <= 63;
}

static const char *const known_keys[] = {
	"image", "image_digest", "image_id", "layers", "cmd", "env", "cwd", "user", "hostname", "restart",
	"network", "mounts", "read_only", "tmpfs_size", "memory", "pids", "cpus",
	"cap_add", "cap_drop", "init", "stop_timeout", "tty", "stdin", "rm", "name",
	"ports", "add_hosts", "dns", "app", "log_size", "log_mirror", "health",
};

static int get_ms(const struct rt_json *j, int obj, const char *key, uint64_t min,
		  uint64_t max, uint32_t *out, struct rt_err *e)
{
	uint64_t v;

	if (rt_json_find(j, obj, key) < 0)
		return rt_err_set(e, EINVAL, "config: health: '%s' is missing", key);
	if (get_u64(j, obj, key, max, &v, e) < 0 || v < min)
		return rt_err_set(e, EINVAL, "config: health: '%s' must be %llu to %llu", key,
				  (unsigned long long)min, (unsigned long long)max);
	*out = (uint32_t)v;
	return 0;
}

/* "health": {"cmd": [..], "interval", "timeout", "start_period" (ms),
   "retries"}; every member required (the CLI resolves the defaults). */
static int check_health(const struct rt_json *j, struct rt_ctr_meta *m, struct rt_err *e)
{
	int h = rt_json_find(j, 0, "health");

	if (h < 0 || !IS_ENABLED(CONFIG_HEALTHCHECK))
		return 0;
	if (rt_json_type(j, h) != RT_JSON_OBJECT)
		return rt_err_set(e, EINVAL, "config: 'health' must be an object");
	if (str_array_in(j, h, "cmd", 1, RT_SANDBOX_MAX_ARGS, any_str, "a string", e) < 0)
		return rt_err_wrap(e, "health");
	if (get_ms(j, h, "interval", 1, RT_HEALTH_MS_MAX, &m->health.interval_ms, e) < 0 ||
	    get_ms(j, h, "timeout", 1, RT_HEALTH_MS_MAX, &m->health.timeout_ms, e) < 0 ||
	    get_ms(j, h, "start_period", 0, RT_HEALTH_MS_MAX, &m->health.start_ms, e) < 0 ||
	    get_ms(j, h, "retries", 1, RT_HEALTH_RETRIES_MAX, &m->health.retries, e) < 0)
		return -1;
	m->health_on = 1;
	m->health_off = j->tok[h].start;
	m->health_len = j->tok[h].len;
	return 0;
}

static int check(const struct rt_json *j, struct rt_ctr_meta *m, struct rt_err *e)
{
	char s[RT_PATH_MAX];
	uint64_t v;
	int t, i, k;

	if (rt_json_type(j, 0) != RT_JSON_OBJECT)
		return rt_err_set(e, EINVAL, "config is not an object");
	for (t = rt_json_first(j, 0); t >= 0; t = rt_json_next(j, 0, t)) {
		size_t n;

		for (n = 0; n < sizeof known_keys / sizeof known_keys[0]; n++)
			if (rt_json_streq(j, t, known_keys[n]))
				break;
		if (n == sizeof known_keys / sizeof known_keys[0])
			return rt_err_set(e, EINVAL, "config: unknown key");
	}
	if (get_str(j, 0, "name", m->name, sizeof m->name, 0, e) < 0)
		return -1;
	if (m->name[0] && !rt_ctr_name_ok(m->name))
		return rt_err_set(e, EINVAL,
				  "invalid container name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at most %d",
				  m->name, RT_CTR_NAME);
	if (get_str(j, 0, "image", m->image, sizeof m->image, 0, e) < 0 ||
	    get_str(j, 0, "image_digest", s, 80, 0, e) < 0 ||
	    get_str(j, 0, "image_id", s, 80, 0, e) < 0)
		return -1;
	if (str_array(j, "layers", 1, RT_SANDBOX_MAX_LAYERS, abs_path_ok, "an absolute path", e) < 0)
		return -1;
	k = str_array(j, "cmd", 1, RT_SANDBOX_MAX_ARGS, any_str, "a string", e);
	if (k < 0)
		return -1;
	/* The summary ps shows: argv joined, cut to fit. */
	t = rt_json_find(j, 0, "cmd");
	m->cmd[0] = '\0';
	for (i = rt_json_first(j, t); i >= 0; i = rt_json_next(j, t, i)) {
		size_t have = strlen(m->cmd);

		rt_json_str(j, i, s, sizeof s, e);
		snprintf(m->cmd + have, sizeof m->cmd - have, "%s%s", have ? " " : "", s);
	}
	if (str_array(j, "env", 0, RT_SANDBOX_MAX_ENV, env_ok, "KEY=VALUE", e) < 0)
		return -1;
	if (get_str(j, 0, "cwd", s, sizeof s, 0, e) < 0)
		return -1;
	if (s[0] && s[0] != '/')
		return rt_err_set(e, EINVAL, "the working directory '%s' is not absolute", s);
	if (get_str(j, 0, "user", s, 65, 0, e) < 0)
		return -1;
	if (get_str(j, 0, "hostname", s, 64, 0, e) < 0)
		return -1;
	if (s[0] && !hostname_ok(s))
		return rt_err_set(e, EINVAL, "invalid hostname '%s'", s);
	if (get_str(j, 0, "restart", s, 32, 0, e) < 0 ||
	    rt_life_policy_parse(s, &m->policy, e) < 0)
		return -1;
#ifdef CONFIG_NET_BRIDGE
	{
		/* network, ports, add_hosts, dns: net's to check. */
		static struct rt_net_spec ns;

		if (rt_netconf_spec(j, 0, "none", &ns, e) < 0)
			return -1;
	}
#else
	if (get_str(j, 0, "network", s, 16, 0, e) < 0)
		return -1;
	if (s[0] && strcmp(s, "none") && strcmp(s, "host"))
		return rt_err_set(e, EINVAL, "network '%s' is not available (none, host)", s);
	if (rt_json_find(j, 0, "ports") >= 0 || rt_json_find(j, 0, "add_hosts") >= 0 ||
	    rt_json_find(j, 0, "dns") >= 0)
		return rt_err_set(e, ENOTSUP, "published ports, --add-host, --dns: bridge networks are not built in");
#endif
	t = rt_json_find(j, 0, "mounts");
	if (t >= 0) {
		if (rt_json_type(j, t) != RT_JSON_ARRAY || rt_json_count(j, t) > RT_SANDBOX_MAX_MOUNTS)
			return rt_err_set(e, EINVAL, "config: 'mounts' must be an array of at most %d",
					  RT_SANDBOX_MAX_MOUNTS);
		for (i = rt_json_first(j, t); i >= 0; i = rt_json_next(j, t, i)) {
			int ro, tmpfs;

			if (rt_json_type(j, i) != RT_JSON_OBJECT)
				return rt_err_set(e, EINVAL, "config: a mount is not an object");
			if (get_bool(j, i, "tmpfs", &tmpfs, e) < 0 || get_bool(j, i, "exec", &ro, e) < 0)
				return -1;
			/* A tmpfs is always capped (size 0 would mean unlimited). */
			if (get_u64(j, i, "size", (uint64_t)1 << 50, &v, e) < 0)
				return -1;
			if (tmpfs && !v)
				return rt_err_set(e, EINVAL, "config: a tmpfs mount needs a size");
			if (get_u64(j, i, "mode", 07777, &v, e) < 0)
				return -1;
			if (get_str(j, i, "src", s, sizeof s, !tmpfs, e) < 0)
				return -1;
			if (tmpfs ? s[0] != '\0' : !abs_path_ok(s))
				return rt_err_set(e, EINVAL, "mount source '%s' is not an absolute path", s);
			if (get_str(j, i, "dst", s, sizeof s, 1, e) < 0)
				return -1;
			if (!abs_path_ok(s) || !strcmp(s, "/"))
				return rt_err_set(e, EINVAL, "mount destination '%s' is not an absolute path", s);
			if (get_bool(j, i, "ro", &ro, e) < 0)
				return -1;
			if (get_str(j, i, "volume", s, RT_CTR_NAME + 1, 0, e) < 0)
				return -1;
			if (s[0] && (tmpfs || !rt_ctr_volume_ok(s)))
				return rt_err_set(e, EINVAL, "invalid volume name '%s'", s);
		}
	}
	if (get_bool(j, 0, "read_only", &k, e) < 0 || get_bool(j, 0, "init", &k, e) < 0 ||
	    get_bool(j, 0, "tty", &m->tty, e) < 0 || get_bool(j, 0, "stdin", &m->stdin_open, e) < 0 ||
	    get_bool(j, 0, "rm", &m->autoremove, e) < 0 || get_bool(j, 0, "app", &m->app, e) < 0)
		return -1;
	if (get_u64(j, 0, "tmpfs_size", UINT64_MAX, &v, e) < 0 ||
	    get_u64(j, 0, "memory", UINT64_MAX, &v, e) < 0 ||
	    get_u64(j, 0, "pids", UINT64_MAX, &v, e) < 0 ||
	    get_u64(j, 0, "cpus", 1024 * 1000, &v, e) < 0 ||
	    get_u64(j, 0, "cap_add", UINT64_MAX, &v, e) < 0 ||
	    get_u64(j, 0, "cap_drop", UINT64_MAX, &v, e) < 0)
		return -1;
	m->stop_timeout = 10;
	if (rt_json_find(j, 0, "stop_timeout") >= 0) {
		if (get_u64(j, 0, "stop_timeout", 86400, &v, e) < 0)
			return -1;
		m->stop_timeout = (int64_t)v;
	}
	m->log_kb = CONFIG_LOG_RING_KB;
	if (rt_json_find(j, 0, "log_size") >= 0) {
		if (get_u64(j, 0, "log_size", RT_CTR_LOG_KB_MAX, &v, e) < 0)
			return -1;
		if (v < RT_CTR_LOG_KB_MIN)
			return rt_err_set(e, EINVAL, "config: 'log_size' must be at least %d (KiB)",
					  RT_CTR_LOG_KB_MIN);
		m->log_kb = (uint32_t)v;
	}
	if (get_str(j, 0, "log_mirror", s, 16, 0, e) < 0)
		return -1;
	if (!s[0] || !strcmp(s, "none"))
		m->log_mirror = RT_CTR_MIRROR_NONE;
	else if (!strcmp(s, "console"))
		m->log_mirror = RT_CTR_MIRROR_CONSOLE;
	else if (!strcmp(s, "kmsg"))
		m->log_mirror = RT_CTR_MIRROR_KMSG;
	else
		return rt_err_set(e, EINVAL, "invalid log mirror '%s' (console, kmsg, none)", s);
	if (m->autoremove && m->policy.kind != RT_RESTART_NO)
		return rt_err_set(e, EINVAL, "conflicting options: cannot specify both --restart and --rm");
	return check_health(j, m, e);
}

int rt_ctr_check(const char *conf, size_t len, struct rt_ctr_meta *m,
		 struct rt_err *e)
{
	struct rt_json j;

	memset(m, 0, sizeof *m);
	if (len > RT_CTR_REC_MAX)
		return rt_err_set(e, EMSGSIZE, "config larger than %d bytes", RT_CTR_REC_MAX);
	if (rt_json_parse(&j, conf, len, tok, RT_CTR_TOK, 8, e) < 0)
		return rt_err_wrap(e, "config");
	return check(&j, m, e);
}

int rt_ctr_record(const struct rt_ctr_meta *m, const char *conf, size_t len,
		  char *buf, size_t cap, struct rt_err *e)
{
	struct rt_json_w w;

	rt_json_w_init(&w, buf, cap);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "id");
	rt_json_w_str(&w, m->id);
	rt_json_w_key(&w, "name");
	rt_json_w_str(&w, m->name);
	rt_json_w_key(&w, "created");
	rt_json_w_i64(&w, m->created);
	rt_json_w_key(&w, "config");
	if (rt_ctr_copy_config(&w, conf, len, e) < 0)
		return -1;
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return rt_err_wrap(e, "container record");
	return (int)w.len;
}

int rt_ctr_parse_record(const char *rec, size_t len, struct rt_ctr_meta *m,
			const char **conf, size_t *conflen, struct rt_err *e)
{
	struct rt_ctr_meta got;
	struct rt_json j;
	char id[RT_CTR_ID + 2], name[RT_CTR_NAME + 1];
	int64_t created;
	int t;

	if (rt_json_parse(&j, rec, len, tok, RT_CTR_TOK, 9, e) < 0)
		return rt_err_wrap(e, "container record");
	t = rt_json_find(&j, 0, "config");
	if (rt_json_str(&j, rt_json_find(&j, 0, "id"), id, sizeof id, e) != RT_CTR_ID ||
	    strspn(id, "0123456789abcdef") != RT_CTR_ID ||
	    rt_json_str(&j, rt_json_find(&j, 0, "name"), name, sizeof name, e) < 0 ||
	    !rt_ctr_name_ok(name) ||
	    rt_json_i64(&j, rt_json_find(&j, 0, "created"), &created, e) < 0 ||
	    rt_json_type(&j, t) != RT_JSON_OBJECT)
		return rt_err_set(e, EINVAL, "container record lacks id, name, created or config");
	*conf = rec + j.tok[t].start;
	*conflen = j.tok[t].len;
	if (rt_ctr_check(*conf, *conflen, &got, e) < 0)
		return -1;
	*m = got;
	memcpy(m->id, id, sizeof m->id);
	memcpy(m->name, name, sizeof m->name);
	m->created = created;
	return 0;
}

/* --- spec ------------------------------------------------------------- */

struct arena {
	char *p;
	size_t cap, used;
};

/* Decode string token i into the arena. */
static char *dup_tok(struct arena *a, const struct rt_json *j, int i, struct rt_err *e)
{
	char *s = a->p + a->used;
	int n = rt_json_str(j, i, s, a->cap - a->used, e);

	if (n < 0) {
		rt_err_set(e, ENOMEM, "container config does not fit the spawn arena");
		return NULL;
	}
	a->used += (size_t)n + 1;
	return s;
}

static const char *opt_str(struct arena *a, const struct rt_json *j, int obj,
			   const char *key, struct rt_err *e, int *bad)
{
	int t = rt_json_find(j, obj, key);
	char *s;

	if (t < 0)
		return NULL;
	s = dup_tok(a, j, t, e);
	if (!s)
		*bad = 1;
	return s && *s ? s : NULL;
}

static uint64_t opt_u64(const struct rt_json *j, const char *key)
{
	struct rt_err e;
	uint64_t v = 0;

	rt_json_u64(j, rt_json_find(j, 0, key), &v, &e);
	return v;
}

static uint64_t mount_u64(const struct rt_json *j, int obj, const char *key)
{
	struct rt_err e;
	uint64_t v = 0;

	rt_json_u64(j, rt_json_find(j, obj, key), &v, &e);
	return v;
}

static int opt_bool(const struct rt_json *j, int obj, const char *key)
{
	struct rt_err e;
	bool b = false;

	rt_json_bool(j, rt_json_find(j, obj, key), &b, &e);
	return b;
}

int rt_ctr_spec(const struct rt_ctr_meta *m, const char *conf, size_t len,
		struct rt_sandbox_spec *s, char *arena, size_t cap,
		struct rt_err *e)
{
	struct arena a = { arena, cap, 0 };
	struct rt_json j;
	const char *net;
	int t, i, bad = 0;

	if (rt_json_parse(&j, conf, len, tok, RT_CTR_TOK, 8, e) < 0)
		return rt_err_wrap(e, "config");
	memset(s, 0, sizeof *s);
	s->id = m->id;
	s->name = m->name;
	s->hostname = opt_str(&a, &j, 0, "hostname", e, &bad);
	t = rt_json_find(&j, 0, "layers");
	for (i = rt_json_first(&j, t); i >= 0 && s->nlayers < RT_SANDBOX_MAX_LAYERS; i = rt_json_next(&j, t, i))
		if (!(s->layers[s->nlayers++] = dup_tok(&a, &j, i, e)))
			return -1;
	t = rt_json_find(&j, 0, "cmd");
	for (i = rt_json_first(&j, t); i >= 0; i = rt_json_next(&j, t, i)) {
		int n = 0;

		while (s->argv[n])
			n++;
		if (n >= RT_SANDBOX_MAX_ARGS || !(s->argv[n] = dup_tok(&a, &j, i, e)))
			return rt_err_set(e, E2BIG, "too many arguments");
	}
	t = rt_json_find(&j, 0, "env");
	{
		int n = 0;

		for (i = rt_json_first(&j, t); i >= 0; i = rt_json_next(&j, t, i)) {
			if (n >= RT_SANDBOX_MAX_ENV || !(s->env[n++] = dup_tok(&a, &j, i, e)))
				return rt_err_set(e, E2BIG, "too many environment variables");
		}
	}
	s->cwd = opt_str(&a, &j, 0, "cwd", e, &bad);
	s->user = opt_str(&a, &j, 0, "user", e, &bad);
	net = opt_str(&a, &j, 0, "network", e, &bad);
	/* Any other name is a bridge network: the supervisor attaches it
	   (rt_net_attach) and fills netns_fd, etc_hosts, etc_resolv. */
	s->net = !net || !strcmp(net, "none") ? RT_NET_NONE :
		 !strcmp(net, "host") ? RT_NET_HOST : RT_NET_BRIDGE;
	s->netns_fd = -1;
	t = rt_json_find(&j, 0, "mounts");
	for (i = rt_json_first(&j, t); i >= 0 && s->nmounts < RT_SANDBOX_MAX_MOUNTS; i = rt_json_next(&j, t, i)) {
		struct rt_mount *mt = &s->mounts[s->nmounts++];

		mt->kind = opt_bool(&j, i, "tmpfs") ? RT_MOUNT_TMPFS : RT_MOUNT_BIND;
		mt->source = opt_str(&a, &j, i, "src", e, &bad);
		mt->dest = opt_str(&a, &j, i, "dst", e, &bad);
		mt->readonly = opt_bool(&j, i, "ro");
		mt->tmpfs_bytes = mount_u64(&j, i, "size");
		mt->tmpfs_mode = (unsigned)mount_u64(&j, i, "mode");
		mt->tmpfs_exec = opt_bool(&j, i, "exec");
		/* A named volume starts with what the image has at its path. */
		mt->seed = rt_json_find(&j, i, "volume") >= 0;
	}
	if (bad)
		return -1;
	s->readonly_rootfs = opt_bool(&j, 0, "read_only");
	s->init = opt_bool(&j, 0, "init");
	s->tmpfs_bytes = opt_u64(&j, "tmpfs_size");
	s->memory_bytes = opt_u64(&j, "memory");
	s->pids_max = opt_u64(&j, "pids");
	s->cpu_millis = (uint32_t)opt_u64(&j, "cpus");
	s->cap_add = opt_u64(&j, "cap_add");
	s->cap_drop = opt_u64(&j, "cap_drop");
	s->tty = m->tty;
	s->stdio[0] = s->stdio[1] = s->stdio[2] = -1;
	return 0;
}

static int env_has(char *const *env, int n, const char *kv)
{
	size_t k = (size_t)(strchr(kv, '=') - kv) + 1;
	int i;

	for (i = 0; i < n; i++)
		if (!strncmp(env[i], kv, k))
			return i;
	return -1;
}

int rt_ctr_exec(const char *conf, size_t len, const char *xobj, size_t xlen,
		struct rt_sandbox_exec *x, char *arena, size_t cap,
		struct rt_err *e)
{
	static struct rt_json_tok xtok[1024];
	struct arena a = { arena, cap, 0 };
	struct rt_json j, xj;
	int t, i, n = 0, bad = 0;

	memset(x, 0, sizeof *x);
	x->stdio[0] = x->stdio[1] = x->stdio[2] = -1;
	if (rt_json_parse(&xj, xobj, xlen, xtok, 1024, 4, e) < 0)
		return rt_err_wrap(e, "exec");
	if (str_array(&xj, "cmd", 1, RT_SANDBOX_MAX_ARGS, any_str, "a string", e) < 0 ||
	    str_array(&xj, "env", 0, RT_SANDBOX_MAX_ENV, env_ok, "KEY=VALUE", e) < 0)
		return -1;
	t = rt_json_find(&xj, 0, "cmd");
	for (i = rt_json_first(&xj, t); i >= 0; i = rt_json_next(&xj, t, i))
		if (!(x->argv[n++] = dup_tok(&a, &xj, i, e)))
			return -1;
	x->cwd = opt_str(&a, &xj, 0, "cwd", e, &bad);
	x->user = opt_str(&a, &xj, 0, "user", e, &bad);
	x->tty = opt_bool(&xj, 0, "tty");
	if (bad)
		return -1;
	if (rt_json_parse(&j, conf, len, tok, RT_CTR_TOK, 8, e) < 0)
		return rt_err_wrap(e, "config");
	if (!x->cwd)
		x->cwd = opt_str(&a, &j, 0, "cwd", e, &bad);
	if (!x->user)
		x->user = opt_str(&a, &j, 0, "user", e, &bad);
	n = 0;
	t = rt_json_find(&j, 0, "env");
	for (i = rt_json_first(&j, t); i >= 0 && n < RT_SANDBOX_MAX_ENV; i = rt_json_next(&j, t, i))
		if (!(x->env[n++] = dup_tok(&a, &j, i, e)))
			return -1;
	t = rt_json_find(&xj, 0, "env");
	for (i = rt_json_first(&xj, t); i >= 0; i = rt_json_next(&xj, t, i)) {
		char *kv = dup_tok(&a, &xj, i, e);
		int at;

		if (!kv)
			return -1;
		at = env_has(x->env, n, kv);
		if (at >= 0)
			x->env[at] = kv;
		else if (n < RT_SANDBOX_MAX_ENV)
			x->env[n++] = kv;
		else
			return rt_err_set(e, E2BIG, "too many environment variables");
	}
	return bad ? -1 : 0;
}

int rt_ctr_health_exec(const struct rt_ctr_meta *m, const char *conf, size_t len,
		       struct rt_sandbox_exec *x, char *arena, size_t cap,
		       struct rt_err *e)
{
	if (!m->health_on || m->health_off + m->health_len > len)
		return rt_err_set(e, EINVAL, "no health check");
	return rt_ctr_exec(conf, len, conf + m->health_off, m->health_len, x, arena, cap, e);
}

/* --- copying JSON ----------------------------------------------------- */

static int copy(struct rt_json_w *w, const struct rt_json *j, int t, struct rt_err *e)
{
	static char s[RT_PATH_MAX];
	int i;

	switch (rt_json_type(j, t)) {
	case RT_JSON_OBJECT:
		rt_json_w_obj(w);
		for (i = rt_json_first(j, t); i >= 0; i = rt_json_next(j, t, i)) {
			if (rt_json_str(j, i, s, sizeof s, e) < 0)
				return -1;
			rt_json_w_key(w, s);
			if (copy(w, j, i + 1, e) < 0)
				return -1;
		}
		return rt_json_w_end(w);
	case RT_JSON_ARRAY:
		rt_json_w_arr(w);
		for (i = rt_json_first(j, t); i >= 0; i = rt_json_next(j, t, i))
			if (copy(w, j, i, e) < 0)
				return -1;
		return rt_json_w_end(w);
	case RT_JSON_STRING:
		if (rt_json_str(j, t, s, sizeof s, e) < 0)
			return -1;
		return rt_json_w_str(w, s);
	case RT_JSON_NUMBER: {
		int64_t v;
		uint64_t u;

		if (rt_json_i64(j, t, &v, e) == 0)
			return rt_json_w_i64(w, v);
		if (rt_json_u64(j, t, &u, e) == 0)
			return rt_json_w_u64(w, u);
		return rt_err_set(e, EINVAL, "config holds a number that is not an integer");
	}
	case RT_JSON_TRUE:
		return rt_json_w_bool(w, true);
	case RT_JSON_FALSE:
		return rt_json_w_bool(w, false);
	case RT_JSON_NULL:
		return rt_json_w_null(w);
	default:
		return rt_err_set(e, EINVAL, "bad JSON token");
	}
}

int rt_ctr_copy_config(struct rt_json_w *w, const char *conf, size_t len,
		       struct rt_err *e)
{
	static struct rt_json_tok ctok[RT_CTR_TOK];
	struct rt_json j;

	if (rt_json_parse(&j, conf, len, ctok, RT_CTR_TOK, 8, e) < 0)
		return rt_err_wrap(e, "config");
	return copy(w, &j, 0, e);
}

/* --- the durable store ------------------------------------------------ */

static int ctr_dir(int rootfd, const char *id, int create, struct rt_err *e)
{
	char p[16 + RT_CTR_ID];

	if (strlen(id) != RT_CTR_ID || strspn(id, "0123456789abcdef") != RT_CTR_ID)
		return rt_err_set(e, EINVAL, "bad container id");
	snprintf(p, sizeof p, "containers/%s", id);
	if (create)
		return rt_path_mkdirs(rootfd, p, 0700, e);
	return rt_path_open(rootfd, p, O_RDONLY | O_DIRECTORY, 0, e);
}

int rt_ctr_save(int rootfd, const char *id, const char *rec, size_t len,
		int durable, struct rt_err *e)
{
	RT_AUTOCLOSE int d = ctr_dir(rootfd, id, 1, e);

	if (d < 0)
		return -1;
	if (!durable)
		return rt_io_write_volatile(d, "config.json", rec, len, 0600, e);
	if (rt_io_write_file(d, "config.json", rec, len, 0600, e) < 0)
		return -1;
	/* The new directory's own entry must be durable too. */
	{
		RT_AUTOCLOSE int c = rt_path_open(rootfd, "containers", O_RDONLY | O_DIRECTORY, 0, e);

		if (c < 0 || rt_io_fsync_dir(c, e) < 0)
			return -1;
	}
	return 0;
}

int rt_ctr_save_state(int rootfd, const char *id, const struct rt_ctr_state *st,
		      int durable, struct rt_err *e)
{
	RT_AUTOCLOSE int d = ctr_dir(rootfd, id, 0, e);
	struct rt_json_w w;
	char buf[256];

	if (d < 0)
		return -1;
	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "started");
	rt_json_w_i64(&w, st->started);
	rt_json_w_key(&w, "finished");
	rt_json_w_i64(&w, st->finished);
	rt_json_w_key(&w, "exit_code");
	rt_json_w_i64(&w, st->exit_code);
	rt_json_w_key(&w, "stopped_by_user");
	rt_json_w_bool(&w, st->stopped_by_user);
	rt_json_w_key(&w, "ran");
	rt_json_w_bool(&w, st->ran);
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return -1;
	return (durable ? rt_io_write_file : rt_io_write_volatile)(d, "state.json", buf, w.len,
								  0600, e);
}

int rt_ctr_load_state(int rootfd, const char *id, struct rt_ctr_state *st,
		      struct rt_err *e)
{
	RT_AUTOCLOSE int d = ctr_dir(rootfd, id, 0, e);
	struct rt_json_tok t[16];
	struct rt_json j;
	char buf[256];
	size_t len;
	int64_t code;
	bool b;

	memset(st, 0, sizeof *st);
	if (d < 0)
		return -1;
	if (rt_io_read_file(d, "state.json", buf, sizeof buf, &len, e) < 0)
		return e->errnum == ENOENT ? 0 : -1;
	if (rt_json_parse(&j, buf, len, t, 16, 2, e) < 0)
		return rt_err_wrap(e, "state.json");
	rt_json_i64(&j, rt_json_find(&j, 0, "started"), &st->started, e);
	rt_json_i64(&j, rt_json_find(&j, 0, "finished"), &st->finished, e);
	if (rt_json_i64(&j, rt_json_find(&j, 0, "exit_code"), &code, e) == 0 && code >= 0 && code < 256)
		st->exit_code = (int)code;
	if (rt_json_bool(&j, rt_json_find(&j, 0, "stopped_by_user"), &b, e) == 0)
		st->stopped_by_user = b;
	if (rt_json_bool(&j, rt_json_find(&j, 0, "ran"), &b, e) == 0)
		st->ran = b;
	return 0;
}

int rt_ctr_remove(int rootfd, const char *id, int durable, struct rt_err *e)
{
	RT_AUTOCLOSE int c = rt_path_open(rootfd, "containers", O_RDONLY | O_DIRECTORY, 0, e);
	RT_AUTOCLOSE int d = -1;

	if (c < 0)
		return -1;
	d = ctr_dir(rootfd, id, 0, e);
	if (d < 0)
		return e->errnum == ENOENT ? 0 : -1;
	if ((unlinkat(d, "state.json", 0) < 0 && errno != ENOENT) ||
	    (unlinkat(d, "config.json", 0) < 0 && errno != ENOENT) ||
	    unlinkat(c, id, AT_REMOVEDIR) < 0)
		return rt_err_sys(e, "remove container %.12s", id);
	return durable ? rt_io_fsync_dir(c, e) : 0;
}

int rt_ctr_image_users(int rootfd, const char *digest, const char *id, char *who,
		       size_t cap, struct rt_err *e)
{
	static char rec[RT_CTR_REC_MAX];
	struct rt_ctr_meta m;
	struct dirent *d;
	const char *conf;
	size_t conflen, len;
	int fd, found = 0;
	DIR *dir;

	fd = openat(rootfd, "containers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : rt_err_sys(e, "containers");
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return rt_err_sys(e, "containers");
	}
	while (!found && (d = readdir(dir)) != NULL) {
		struct rt_json j;
		int c;

		if (strlen(d->d_name) != RT_CTR_ID || strspn(d->d_name, "0123456789abcdef") != RT_CTR_ID)
			continue;
		c = rt_path_open(dirfd(dir), d->d_name, O_RDONLY | O_DIRECTORY, 0, e);
		if (c < 0)
			continue;
		if (rt_io_read_file(c, "config.json", rec, sizeof rec, &len, e) < 0) {
			close(c);
			continue;
		}
		close(c);
		/* A record that does not parse is not in use by anything. */
		if (rt_ctr_parse_record(rec, len, &m, &conf, &conflen, e) < 0 ||
		    rt_json_parse(&j, conf, conflen, tok, RT_CTR_TOK, 8, e) < 0)
			continue;
		if ((digest && *digest && rt_json_streq(&j, rt_json_find(&j, 0, "image_digest"), digest)) ||
		    (id && *id && rt_json_streq(&j, rt_json_find(&j, 0, "image_id"), id))) {
			snprintf(who, cap, "%s", m.name);
			found = 1;
		}
	}
	closedir(dir);
	return found;
}
