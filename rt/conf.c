#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "json.h"
#include "kconfig.h"

/* Keys and the run flag each becomes. A NULL flag is handled by hand. */
static const struct key {
	const char *name;
	const char *flag;
	int repeat;
} keys[] = {
	{ "image", NULL, 0 },        { "cmd", NULL, 0 },
	{ "entrypoint", NULL, 0 },   { "restart", "--restart", 0 },
	{ "publish", "-p", 1 },      { "volume", "-v", 1 },
	{ "env", "-e", 1 },          { "memory", "--memory", 0 },
	{ "cpus", "--cpus", 0 },     { "pids", "--pids-limit", 0 },
	{ "user", "-u", 0 },         { "workdir", "-w", 0 },
	{ "hostname", "--hostname", 0 }, { "network", "--network", 0 },
	{ "read_only", NULL, 0 },    { "init", NULL, 0 },
	{ "stop_timeout", "--stop-timeout", 0 },
	{ "tmpfs_size", "--tmpfs-size", 0 }, { "tmpfs", "--tmpfs", 1 },
	{ "cap_add", "--cap-add", 1 }, { "cap_drop", "--cap-drop", 1 },
	{ "after", NULL, 1 },
	{ "log_size", "--log-size", 0 }, { "log_mirror", "--log-mirror", 0 },
	{ "update", NULL, 0 }, { "update_timeout", NULL, 0 }, { "update_stable", NULL, 0 },
	{ "healthcheck", "--health-cmd", 0 }, { "health_interval", "--health-interval", 0 },
	{ "health_timeout", "--health-timeout", 0 }, { "health_retries", "--health-retries", 0 },
	{ "health_start_period", "--health-start-period", 0 },
};
#define NKEYS (sizeof keys / sizeof keys[0])

struct parse {
	struct rt_conf_app *a;
	size_t used;            /* arena bytes */
	const char *file;
	int line;
	unsigned seen[NKEYS];
	const char *cmd, *entrypoint;
	int read_only, init;    /* -1 unset, 0 false, 1 true */
	struct rt_err *e;
};

int rt_conf_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > RT_CONF_NAME)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '_' || c == '.' || c == '-'))))
			return 0;
	}
	return 1;
}

static int64_t unit_ns(const char *s, size_t *len)
{
	static const struct { const char *name; int64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000 }, { "m", 60000000000LL }, { "h", 3600000000000LL },
	};
	size_t k;

	for (k = 0; k < sizeof units / sizeof units[0]; k++) {
		size_t n = strlen(units[k].name);

		/* "m" must not take the "m" of "ms". */
		if (!strncmp(s, units[k].name, n) && (n > 1 || s[1] < 'a' || s[1] > 'z')) {
			*len = n;
			return units[k].ns;
		}
	}
	return -1;
}

int rt_duration(const char *s, int64_t *ns)
{
	int64_t total = 0;

	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return -1;
	while (*s) {
		int64_t whole = 0, frac = 0, scale = 1, u, v, f;
		int digits = 0;
		size_t ul;

		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (whole > (INT64_MAX - 9) / 10)
				return -1;
			whole = whole * 10 + (*s - '0');
		}
		if (*s == '.')
			for (s++; *s >= '0' && *s <= '9'; s++, digits++)
				if (scale < 1000000000) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
		if (!digits || (u = unit_ns(s, &ul)) < 0)
			return -1;
		s += ul;
		if (whole > INT64_MAX / u)
			return -1;
		/* Nine decimals at most, without floating point: every unit
		   from a second up is a multiple of 10^9, and below it the
		   product stays under 10^18. */
		f = u >= scale ? frac * (u / scale) : frac * u / scale;
		v = whole * u;
		if (f > INT64_MAX - v)
			return -1;
		v += f;
		if (total > INT64_MAX - v)
			return -1;
		total += v;
	}
	*ns = total;
	return 0;
}

int rt_conf_duration(const char *s, int64_t *ms)
{
	const int64_t week = 7LL * 24 * 3600 * 1000;
	int64_t v = 0, ns;
	const char *d = s;

	/* Bare digits are seconds; anything else is a Go duration. */
	while (*d >= '0' && *d <= '9') {
		v = v * 10 + (*d++ - '0');
		if (v > week)
			return -1;
	}
	if (d != s && !*d) {
		if (v * 1000 > week)
			return -1;
		*ms = v * 1000;
		return 0;
	}
	if (rt_duration(s, &ns) < 0 || ns / 1000000 > week)
		return -1;
	*ms = ns / 1000000;
	return 0;
}

static int fail(struct parse *p, const char *what)
{
	return rt_err_set(p->e, EINVAL, "%s.conf: line %d: %s", p->file, p->line, what);
}

/* Copy s[0..n) into the arena, NUL-terminated. */
static char *keep(struct parse *p, const char *s, size_t n)
{
	char *d;

	if (p->used + n + 1 > sizeof p->a->arena) {
		fail(p, "app file too large");
		return NULL;
	}
	d = p->a->arena + p->used;
	memcpy(d, s, n);
	d[n] = '\0';
	p->used += n + 1;
	return d;
}

static int push(struct parse *p, char *arg)
{
	if (!arg)
		return -1;
	if (p->a->argc >= RT_CONF_ARGS)
		return fail(p, "too many settings");
	p->a->argv[p->a->argc++] = arg;
	p->a->argv[p->a->argc] = NULL;
	return 0;
}

static int boolean(struct parse *p, const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
		*out = 0;
	else
		return fail(p, "expected true or false");
	return 0;
}

/* A JSON array of strings goes into argv one element each; anything else
 * is a shell command (cmd) or a single word (entrypoint). */
static int words(struct parse *p, const char *v, int shell)
{
	struct rt_json_tok tok[RT_CONF_ARGS + 1];
	struct rt_json j;
	char *s;
	int i;

	if (v[0] != '[') {
		if (!shell)
			return push(p, keep(p, v, strlen(v)));
		if (push(p, keep(p, "/bin/sh", 7)) < 0 || push(p, keep(p, "-c", 2)) < 0)
			return -1;
		return push(p, keep(p, v, strlen(v)));
	}
	if (rt_json_parse(&j, v, strlen(v), tok, RT_CONF_ARGS + 1, 2, p->e) < 0 ||
	    rt_json_type(&j, 0) != RT_JSON_ARRAY)
		return fail(p, "expected a JSON array of strings");
	for (i = rt_json_first(&j, 0); i >= 0; i = rt_json_next(&j, 0, i)) {
		int n;

		s = p->a->arena + p->used;
		n = rt_json_str(&j, i, s, sizeof p->a->arena - p->used, p->e);
		if (n < 0)
			return fail(p, "expected a JSON array of strings");
		p->used += (size_t)n + 1;
		if (push(p, s) < 0)
			return -1;
	}
	return 0;
}

/* update = REF, INTERVAL; update_timeout; update_stable. */
static int update_setting(struct parse *p, const char *key, const char *v)
{
	struct rt_conf_app *a = p->a;
	const char *comma;
	size_t n;

	if (!IS_ENABLED(CONFIG_UPDATE))
		return fail(p, "this rt is built without updates");
	if (strcmp(key, "update") != 0) {
		int64_t *to = key[7] == 't' ? &a->update_timeout_ms : &a->update_stable_ms;

		if (rt_conf_duration(v, to) < 0)
			return fail(p, "expected a duration (30, 30s, 5m, 1h)");
		return 0;
	}
	comma = strchr(v, ',');
	if (!comma)
		return fail(p, "expected update = IMAGE, INTERVAL");
	for (n = (size_t)(comma - v); n && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
		;
	for (comma++; *comma == ' ' || *comma == '\t'; comma++)
		;
	if (!n || rt_conf_duration(comma, &a->update_every_ms) < 0 || a->update_every_ms < 1000)
		return fail(p, "expected update = IMAGE, INTERVAL (at least 1s)");
	a->update = keep(p, v, n);
	return a->update ? 0 : -1;
}

static int setting(struct parse *p, const char *k, size_t kl, const char *v)
{
	struct rt_conf_app *a = p->a;
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == kl && !strncmp(keys[i].name, k, kl))
			break;
	if (i == NKEYS)
		return fail(p, "unknown setting");
	if (p->seen[i]++ && !keys[i].repeat)
		return fail(p, "setting given twice");
	if (!*v)
		return fail(p, "empty value");
	if (keys[i].flag)
		return push(p, keep(p, keys[i].flag, strlen(keys[i].flag))) < 0 ? -1 :
		       push(p, keep(p, v, strlen(v)));
	if (!strcmp(keys[i].name, "image")) {
		a->image = keep(p, v, strlen(v));
		return a->image ? 0 : -1;
	}
	if (!strncmp(keys[i].name, "update", 6))
		return update_setting(p, keys[i].name, v);
	if (!strcmp(keys[i].name, "cmd"))
		p->cmd = keep(p, v, strlen(v));
	else if (!strcmp(keys[i].name, "entrypoint"))
		p->entrypoint = keep(p, v, strlen(v));
	else if (!strcmp(keys[i].name, "read_only"))
		return boolean(p, v, &p->read_only);
	else if (!strcmp(keys[i].name, "init"))
		return boolean(p, v, &p->init);
	else if (!strcmp(keys[i].name, "after")) {
		if (a->nafter >= RT_CONF_AFTER)
			return fail(p, "too many 'after' apps");
		if (!rt_conf_name_ok(v))
			return fail(p, "'after' names no valid app");
		a->after[a->nafter] = keep(p, v, strlen(v));
		return a->after[a->nafter++] ? 0 : -1;
	}
	return 0;
}

/* One "key = value" line, trimmed. */
static int line(struct parse *p, const char *s, size_t n)
{
	char v[RT_CONF_MAX];
	const char *eq, *k = s, *ke;
	size_t vl;

	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0 || *s == '#')
		return 0;
	k = s;
	eq = memchr(s, '=', n);
	if (!eq)
		return fail(p, "expected key = value");
	for (ke = eq; ke > k && (ke[-1] == ' ' || ke[-1] == '\t'); ke--)
		;
	s = eq + 1;
	n -= (size_t)(s - k);
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (memchr(s, '\0', n))
		return fail(p, "NUL byte");
	vl = n < sizeof v ? n : sizeof v - 1;
	memcpy(v, s, vl);
	v[vl] = '\0';
	return setting(p, k, (size_t)(ke - k), v);
}

int rt_conf_parse(struct rt_conf_app *a, const char *name, const char *text,
		  size_t len, struct rt_err *e)
{
	struct parse p;
	size_t off = 0;

	memset(&p, 0, sizeof p);
	a->argc = 0;
	a->nafter = 0;
	a->image = NULL;
	a->update = NULL;
	a->update_every_ms = 0;
	a->update_timeout_ms = a->update_stable_ms = -1;
	p.a = a;
	p.file = name;
	p.e = e;
	p.read_only = p.init = -1;
	if (!rt_conf_name_ok(name))
		return rt_err_set(e, EINVAL, "%s: not a valid app name", name);
	if (len > RT_CONF_MAX)
		return rt_err_set(e, EFBIG, "%s.conf: larger than %d bytes", name, RT_CONF_MAX);
	strcpy(a->name, name);
	if (push(&p, keep(&p, "run", 3)) < 0 || push(&p, keep(&p, "-d", 2)) < 0 ||
	    push(&p, keep(&p, "--name", 6)) < 0 || push(&p, keep(&p, name, strlen(name))) < 0)
		return -1;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

		p.line++;
		if (line(&p, text + off, n) < 0)
			return -1;
		off += n + 1;
	}
	p.line = 0;
	if (!a->image)
		return rt_err_set(e, EINVAL, "%s.conf: no image", name);
	if (!p.seen[3] && (push(&p, keep(&p, "--restart", 9)) < 0 ||
			   push(&p, keep(&p, "always", 6)) < 0))
		return -1;
	if (p.read_only == 1 && push(&p, keep(&p, "--read-only", 11)) < 0)
		return -1;
	if (p.init >= 0 && push(&p, keep(&p, p.init ? "--init" : "--no-init", p.init ? 6 : 9)) < 0)
		return -1;
	/* run's --entrypoint takes one word; the rest of a JSON entrypoint
	   goes first among the arguments, as Docker does with an exec-form
	   ENTRYPOINT and CMD. */
	if (p.entrypoint) {
		char *rest[RT_CONF_ARGS];
		int first, nrest, i;

		if (push(&p, keep(&p, "--entrypoint", 12)) < 0)
			return -1;
		first = a->argc;
		if (words(&p, p.entrypoint, 0) < 0)
			return -1;
		if (a->argc == first)
			return rt_err_set(e, EINVAL, "%s.conf: empty entrypoint", name);
		nrest = a->argc - first - 1;
		memcpy(rest, a->argv + first + 1, (size_t)nrest * sizeof rest[0]);
		a->argc = first + 1;
		if (push(&p, (char *)(uintptr_t)a->image) < 0)
			return -1;
		for (i = 0; i < nrest; i++)
			if (push(&p, rest[i]) < 0)
				return -1;
	} else if (push(&p, (char *)(uintptr_t)a->image) < 0) {
		return -1;
	}
	if (p.cmd && words(&p, p.cmd, 1) < 0)
		return -1;
	return 0;
}
