/* `rt run` and `rt create`: Docker's run flags and an image (or --rootfs)
 * become the config of a create request; run then starts it, attached
 * or not. rt's own: --log-size KiB (the container's log ring in RAM,
 * 4..4096, default LOG_RING_KB) and --log-mirror console|kmsg (each
 * line of output also written there as "NAME: line", dropped rather
 * than waited for when the device is slow). */
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
#include "conf.h"
#include "cli_run.h"
#include "container.h"
#include "ctl.h"
#include "image_run.h"
#include "io.h"
#include "json.h"
#include "kconfig.h"
#include "path.h"
#include "supervise.h"

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
	if (rt_client_u64(num, &v) < 0 || v > (UINT64_MAX >> shift))
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
#if defined(__has_include)
#if __has_include("image.h")
#include "image.h"
#define HAVE_IMAGE_H 1
/* Weak: a build without the image store links, and knows no image. */
int rt_image_resolve(const char *root, const char *ref, struct rt_image_cfg *cfg,
		     struct rt_err *e) __attribute__((weak));
#endif
#endif

/* The image's EXPOSE list ("80/tcp"), for -P. */
#define RT_RUN_MAX_PORTS 32
#define RT_RUN_MAX_ADD_HOSTS 16
#define RT_RUN_MAX_DNS 3
static const char *exposed[RT_RUN_MAX_PORTS];
static int nexposed;

static int image_from_store(const struct rt_opts *o, struct rt_image_run *ir,
			    const char *ref, struct rt_err *e)
{
#ifdef HAVE_IMAGE_H
	static struct rt_image_cfg cfg;
	int k;

	if (rt_image_resolve) {
		memset(ir, 0, offsetof(struct rt_image_run, arena));
		ir->used = 0;
		if (rt_image_resolve(o->root, ref, &cfg, e) < 0)
			return -1;
		snprintf(ir->ref, sizeof ir->ref, "%s", ref);
		snprintf(ir->digest, sizeof ir->digest, "%s", cfg.digest);
		snprintf(ir->id, sizeof ir->id, "%s", cfg.id);
		if (cfg.nlayers < 1 || cfg.nlayers > RT_SANDBOX_MAX_LAYERS)
			return rt_err_set(e, E2BIG, "image %s has %d layers", ref, cfg.nlayers);
		for (k = 0; k < cfg.nlayers; k++)
			ir->layers[k] = cfg.layers[k];
		ir->nlayers = cfg.nlayers;
		for (k = 0; k < cfg.nentrypoint && k < RT_SANDBOX_MAX_ARGS; k++)
			if (!(ir->entrypoint[k] = arena_dup(ir, cfg.entrypoint[k])))
				return rt_err_set(e, E2BIG, "image %s: config too large", ref);
		for (k = 0; k < cfg.ncmd && k < RT_SANDBOX_MAX_ARGS; k++)
			if (!(ir->cmd[k] = arena_dup(ir, cfg.cmd[k])))
				return rt_err_set(e, E2BIG, "image %s: config too large", ref);
		for (k = 0; k < cfg.nenv && k < RT_SANDBOX_MAX_ENV - 1; k++)
			if (!(ir->env[k] = arena_dup(ir, cfg.env[k])))
				return rt_err_set(e, E2BIG, "image %s: config too large", ref);
		ir->workdir = cfg.workdir && *cfg.workdir ? cfg.workdir : NULL;
		ir->user = cfg.user && *cfg.user ? cfg.user : NULL;
		for (nexposed = 0; nexposed < cfg.nports && nexposed < RT_RUN_MAX_PORTS; nexposed++)
			exposed[nexposed] = cfg.ports[nexposed];
		for (k = 0; k < cfg.health.ntest && k < RT_SANDBOX_MAX_ARGS; k++)
			if (!(ir->health[k] = arena_dup(ir, cfg.health.test[k])))
				return rt_err_set(e, E2BIG, "image %s: config too large", ref);
		ir->health_interval = cfg.health.interval_ns;
		ir->health_timeout = cfg.health.timeout_ns;
		ir->health_start = cfg.health.start_period_ns;
		ir->health_retries = cfg.health.retries;
		return 0;
	}
#endif
	(void)o;
	(void)ir;
	return rt_err_set(e, ENOENT, "no such image: %s", ref);
}

struct runflags {
	int detach, interactive, tty, rm, readonly, init, have_init, network_host;
	int app;                /* made by reload from an app file */
	const char *name, *restart, *workdir, *user, *hostname, *rootfs, *entrypoint;
	uint64_t tmpfs, memory, pids, cpus, cap_add, cap_drop, stop_timeout, log_kb;
	int have_stop_timeout;
	const char *log_mirror;
	/* --health-*: times in ms, 0 unset (Docker: 0 means the default) */
	const char *health_cmd;
	uint32_t health_interval, health_timeout, health_start, health_retries;
	int no_health, health_flags;
	const char *env[RT_SANDBOX_MAX_ENV];
	int nenv;
	const char *vols[RT_SANDBOX_MAX_MOUNTS];
	int nvols;
	const char *tmpfss[RT_SANDBOX_MAX_MOUNTS];      /* --tmpfs as typed */
	int ntmpfs;
	const char *network;    /* --network as given; NULL: bridge (Docker's
				   default) when the build has it, else none */
	const char *ports[RT_RUN_MAX_PORTS];     /* -p as typed, then -P's */
	int nports, publish_all;
	const char *add_hosts[RT_RUN_MAX_ADD_HOSTS];
	int nadd_hosts;
	const char *dns[RT_RUN_MAX_DNS];
	int ndns;
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
	{ 0, "net", 1 }, { 'p', "publish", 1 }, { 'P', "publish-all", 0 },
	{ 0, "add-host", 1 }, { 0, "dns", 1 }, { 0, "log-size", 1 },
	{ 0, "log-mirror", 1 }, { 0, "tmpfs", 1 }, { 0, "health-cmd", 1 }, { 0, "health-interval", 1 },
	{ 0, "health-timeout", 1 }, { 0, "health-start-period", 1 },
	{ 0, "health-retries", 1 }, { 0, "no-healthcheck", 0 },
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

/* --health-interval, -timeout, -start-period: a Go duration, 0 for the
 * default, else at least 1ms (as Docker) and at most a day. */
static int health_ms(const char *flag, const char *v, uint32_t *out, const char *verb)
{
	int64_t ns;

	if (rt_duration(v, &ns) < 0)
		return rt_cli_fail(verb, RT_EXIT_RT, "invalid --%s '%s': a duration like 30s, 500ms, 1m", flag, v);
	if ((ns > 0 && ns < 1000000) || ns / 1000000 > RT_HEALTH_MS_MAX)
		return rt_cli_fail(verb, RT_EXIT_RT, "invalid --%s '%s': must be 0 or 1ms to 24h", flag, v);
	*out = (uint32_t)(ns / 1000000);
	return 0;
}

static int health_flag(struct runflags *f, const char *n, const char *v, const char *verb)
{
	uint64_t r;

	if (!IS_ENABLED(CONFIG_HEALTHCHECK))
		return rt_cli_fail(verb, RT_EXIT_RT, "health checks are not in this build");
	if (!strcmp(n, "no-healthcheck")) {
		f->no_health = ON(v);
		return 0;
	}
	f->health_flags = 1;
	if (!strcmp(n, "health-cmd")) {
		f->health_cmd = v;
		return 0;
	}
	if (!strcmp(n, "health-retries")) {
		if (rt_client_u64(v, &r) < 0 || r > RT_HEALTH_RETRIES_MAX)
			return rt_cli_fail(verb, RT_EXIT_RT, "invalid --health-retries '%s': a count from 0 (the default, 3) to %d",
					   v, RT_HEALTH_RETRIES_MAX);
		f->health_retries = (uint32_t)r;
		return 0;
	}
	return health_ms(n, v, !strcmp(n, "health-interval") ? &f->health_interval :
			       !strcmp(n, "health-timeout") ? &f->health_timeout : &f->health_start, verb);
}

static int parse_run(struct runflags *f, struct optp *p, const char *verb)
{
	const char *v;
	int k, rc;

	memset(f, 0, sizeof *f);
	while ((k = rt_client_opt(p, run_opts, NOPTS(run_opts), &v)) >= 0) {
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
			/* Checked with the rest of the config: none, host, or a
			   bridge network ("bridge", or one `rt network create`d). */
			f->network = v;
			f->network_host = !strcmp(v, "host");
		} else if (!strcmp(n, "publish")) {
			if (f->nports >= RT_RUN_MAX_PORTS)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "too many -p");
			f->ports[f->nports++] = v;
		} else if (!strcmp(n, "publish-all")) {
			f->publish_all = ON(v);
		} else if (!strcmp(n, "add-host")) {
			if (f->nadd_hosts >= RT_RUN_MAX_ADD_HOSTS)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "too many --add-host");
			f->add_hosts[f->nadd_hosts++] = v;
		} else if (!strcmp(n, "dns")) {
			if (f->ndns >= RT_RUN_MAX_DNS)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "too many --dns");
			f->dns[f->ndns++] = v;
		} else if (!strcmp(n, "volume")) {
			if (f->nvols + f->ntmpfs >= RT_SANDBOX_MAX_MOUNTS)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "too many volumes and --tmpfs");
			f->vols[f->nvols++] = v;
		} else if (!strcmp(n, "tmpfs")) {
			if (f->nvols + f->ntmpfs >= RT_SANDBOX_MAX_MOUNTS)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "too many volumes and --tmpfs");
			f->tmpfss[f->ntmpfs++] = v;
		} else if (!strcmp(n, "tmpfs-size") || !strcmp(n, "memory")) {
			if (parse_size(v, n[0] == 't' ? &f->tmpfs : &f->memory) < 0)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid size for --%s: '%s'", n, v);
		} else if (!strcmp(n, "pids-limit")) {
			if (rt_client_u64(v, &f->pids) < 0)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --pids-limit '%s'", v);
		} else if (!strcmp(n, "cpus")) {
			if (parse_cpus(v, &f->cpus) < 0)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --cpus '%s'", v);
		} else if (!strcmp(n, "cap-add") || !strcmp(n, "cap-drop")) {
			if (parse_cap(v, n[4] == 'a' ? &f->cap_add : &f->cap_drop) < 0)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "unknown capability '%s'", v);
		} else if (!strcmp(n, "stop-timeout")) {
			if (rt_client_u64(v, &f->stop_timeout) < 0 || f->stop_timeout > 86400)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --stop-timeout '%s'", v);
			f->have_stop_timeout = 1;
		} else if (!strcmp(n, "log-size")) {
			/* KiB; the supervisor holds the ring in RAM, so bounded. */
			if (rt_client_u64(v, &f->log_kb) < 0 || f->log_kb < RT_CTR_LOG_KB_MIN ||
			    f->log_kb > RT_CTR_LOG_KB_MAX)
				return rt_cli_fail(verb, RT_EXIT_USAGE,
						   "invalid --log-size '%s' (KiB, %d to %d)", v,
						   RT_CTR_LOG_KB_MIN, RT_CTR_LOG_KB_MAX);
		} else if (!strcmp(n, "log-mirror")) {
			if (strcmp(v, "console") && strcmp(v, "kmsg") && strcmp(v, "none"))
				return rt_cli_fail(verb, RT_EXIT_USAGE,
						   "invalid --log-mirror '%s' (console, kmsg, none)", v);
			f->log_mirror = v;
		} else if (!strncmp(n, "health-", 7) || !strcmp(n, "no-healthcheck")) {
			if ((rc = health_flag(f, n, v, verb)))
				return rc;
		}
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (f->tty && !IS_ENABLED(CONFIG_TTY))
		return rt_cli_fail(verb, RT_EXIT_RT, "terminals (-t) are not in this build");
	if (f->no_health && f->health_flags)
		return rt_cli_fail(verb, RT_EXIT_RT, "--no-healthcheck conflicts with --health-* options");
	if (f->name && !rt_ctr_name_ok(f->name))
		return rt_cli_fail(verb, RT_EXIT_RT,
				   "invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				   f->name);
	return 0;
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
		fd = rt_client_mkdir_p(src, 0755, &e);
		if (fd < 0)
			return rt_cli_fail(verb, RT_EXIT_RT, "create volume %s: %s", buf, e.msg);
		close(fd);
	} else {
		char real[PATH_MAX];
		struct stat st;

		if (stat(buf, &st) < 0 && errno == ENOENT) {
			int fd = rt_client_mkdir_p(buf, 0755, &e);

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

/* --tmpfs /path[:opts]: a fresh tmpfs, nosuid and nodev always, noexec
 * unless "exec", mode 1777 and the Kconfig size cap unless size= and
 * mode= say otherwise (Docker's options; a size is always set, as a
 * tmpfs without one may fill half the RAM). */
static int write_tmpfs(struct rt_json_w *w, const char *spec, const char *verb)
{
	char buf[RT_PATH_MAX], *opts, *o, *next;
	uint64_t size = RT_SANDBOX_TMPFS_DEFAULT, mode = 01777;
	int ro = 0, ex = 0;

	if (snprintf(buf, sizeof buf, "%s", spec) >= (int)sizeof buf)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "--tmpfs spec too long");
	opts = strchr(buf, ':');
	if (opts)
		*opts++ = '\0';
	if (buf[0] != '/' || !strcmp(buf, "/"))
		return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --tmpfs destination '%s': must be absolute", buf);
	for (o = opts; o && *o; o = next) {
		next = strchr(o, ',');
		if (next)
			*next++ = '\0';
		if (!strncmp(o, "size=", 5)) {
			if (parse_size(o + 5, &size) < 0 || size == 0 || size > (uint64_t)1 << 50)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --tmpfs size '%s'", o + 5);
		} else if (!strncmp(o, "mode=", 5)) {
			char *end;

			mode = strtoull(o + 5, &end, 8);
			if (!o[5] || *end || mode == 0 || mode > 07777)
				return rt_cli_fail(verb, RT_EXIT_USAGE, "invalid --tmpfs mode '%s' (octal, 1 to 7777)", o + 5);
		} else if (!strcmp(o, "ro") || !strcmp(o, "rw")) {
			ro = o[1] == 'o';
		} else if (!strcmp(o, "exec") || !strcmp(o, "noexec")) {
			ex = o[0] == 'e';
		} else if (strcmp(o, "nosuid") && strcmp(o, "nodev")) {
			return rt_cli_fail(verb, RT_EXIT_USAGE,
					   "invalid --tmpfs option '%s' (size=, mode=, ro, rw, exec, noexec, nosuid, nodev)", o);
		}
	}
	rt_json_w_obj(w);
	rt_json_w_key(w, "tmpfs");
	rt_json_w_bool(w, true);
	rt_json_w_key(w, "dst");
	rt_json_w_str(w, buf);
	rt_json_w_key(w, "size");
	rt_json_w_u64(w, size);
	rt_json_w_key(w, "mode");
	rt_json_w_u64(w, mode);
	rt_json_w_key(w, "ro");
	rt_json_w_bool(w, ro);
	rt_json_w_key(w, "exec");
	rt_json_w_bool(w, ex);
	rt_json_w_end(w);
	return 0;
}

static int count(char *const *v)
{
	int n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* A JSON array of strings is a check's exec form; into argv. Returns
 * the count, 0 when s is not one (then it is a shell command). */
static int exec_form(const char *s, char **argv)
{
	static struct rt_json_tok tok[RT_SANDBOX_MAX_ARGS + 1];
	static char buf[RT_CTR_REC_MAX];
	struct rt_json j;
	struct rt_err e;
	size_t used = 0;
	int i, n = 0;

	if (s[0] != '[' || rt_json_parse(&j, s, strlen(s), tok, NOPTS(tok), 2, &e) < 0 ||
	    rt_json_type(&j, 0) != RT_JSON_ARRAY)
		return 0;
	for (i = rt_json_first(&j, 0); i >= 0; i = rt_json_next(&j, 0, i)) {
		int len = rt_json_str(&j, i, buf + used, sizeof buf - used, &e);

		if (len < 0 || n >= RT_SANDBOX_MAX_ARGS)
			return 0;
		argv[n++] = buf + used;
		used += (size_t)len + 1;
	}
	argv[n] = NULL;
	return n;
}

/* An image's time (ns, 0 unset) in ms within the bounds a record takes. */
static uint32_t image_ms(int64_t ns, uint32_t def)
{
	if (ns <= 0)
		return def;
	if (ns < 1000000)
		return 1;
	return ns / 1000000 > RT_HEALTH_MS_MAX ? RT_HEALTH_MS_MAX : (uint32_t)(ns / 1000000);
}

/* "health": --health-cmd (the exec form when it is a JSON array of
 * strings, else a shell command, Docker's CMD-SHELL), else the image's
 * Healthcheck (NONE: none); each setting from its flag, else from the
 * image, else Docker's default. Nothing with --no-healthcheck. */
static int write_health(struct rt_json_w *w, const struct runflags *f, const char *verb)
{
	static char *argv[RT_SANDBOX_MAX_ARGS + 1];
	uint32_t retries;
	int n = 0, k;

	if (!IS_ENABLED(CONFIG_HEALTHCHECK) || f->no_health)
		return 0;
	if (f->health_cmd) {
		if (!f->health_cmd[0])
			return rt_cli_fail(verb, RT_EXIT_RT, "invalid --health-cmd: empty");
		n = exec_form(f->health_cmd, argv);
		if (!n) {
			argv[n++] = "/bin/sh";
			argv[n++] = "-c";
			argv[n++] = (char *)f->health_cmd;
		}
	} else if (img.health[0] && !strcmp(img.health[0], "CMD")) {
		for (k = 1; img.health[k] && n < RT_SANDBOX_MAX_ARGS; k++)
			argv[n++] = img.health[k];
	} else if (img.health[0] && !strcmp(img.health[0], "CMD-SHELL") && img.health[1]) {
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = img.health[1];
	}
	if (!n)
		return 0;
	retries = f->health_retries ? f->health_retries :
		  img.health_retries > 0 ? (uint32_t)img.health_retries : RT_HEALTH_RETRIES_DEF;
	if (retries > RT_HEALTH_RETRIES_MAX)
		retries = RT_HEALTH_RETRIES_MAX;
	rt_json_w_key(w, "health");
	rt_json_w_obj(w);
	rt_client_strs(w, "cmd", argv, n);
	rt_json_w_key(w, "interval");
	rt_json_w_u64(w, f->health_interval ? f->health_interval :
			 image_ms(img.health_interval, RT_HEALTH_INTERVAL_DEF));
	rt_json_w_key(w, "timeout");
	rt_json_w_u64(w, f->health_timeout ? f->health_timeout :
			 image_ms(img.health_timeout, RT_HEALTH_TIMEOUT_DEF));
	rt_json_w_key(w, "start_period");
	rt_json_w_u64(w, f->health_start ? f->health_start : image_ms(img.health_start, 0));
	rt_json_w_key(w, "retries");
	rt_json_w_u64(w, retries);
	rt_json_w_end(w);
	return 0;
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
	/* Docker's default PATH unless the image sets one. */
	for (k = 0; img.env[k] && strncmp(img.env[k], "PATH=", 5); k++)
		;
	if (!img.env[k])
		env[nenv++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (k = 0; img.env[k] && nenv < RT_SANDBOX_MAX_ENV; k++)
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

	rt_client_req(w, "create", NULL);
	rt_json_w_key(w, "config");
	rt_json_w_obj(w);
	if (f->name) {
		rt_json_w_key(w, "name");
		rt_json_w_str(w, f->name);
	}
	rt_json_w_key(w, "image");
	rt_json_w_str(w, img.ref);
	/* What rmi and prune look for to know the image is in use. */
	if (img.digest[0]) {
		rt_json_w_key(w, "image_digest");
		rt_json_w_str(w, img.digest);
	}
	if (img.id[0]) {
		rt_json_w_key(w, "image_id");
		rt_json_w_str(w, img.id);
	}
	rt_client_strs(w, "layers", (char *const *)img.layers, img.nlayers);
	rt_client_strs(w, "cmd", argv, n);
	rt_client_strs(w, "env", env, nenv);
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
	/* Without bridge support, a port, --add-host or --dns still asks for
	   bridge, which then fails with its reason rather than be ignored. */
	rt_json_w_str(w, f->network ? f->network :
			 IS_ENABLED(CONFIG_NET_BRIDGE) || f->nports || f->publish_all ||
			 f->nadd_hosts || f->ndns ? "bridge" : "none");
	{
		/* -P: every port the image EXPOSEs, on a port the kernel picks. */
		const char *ports[RT_RUN_MAX_PORTS * 2];
		int np = 0;

		for (k = 0; k < f->nports; k++)
			ports[np++] = f->ports[k];
		for (k = 0; f->publish_all && k < nexposed && np < RT_RUN_MAX_PORTS * 2; k++)
			ports[np++] = exposed[k];
		if (np)
			rt_client_strs(w, "ports", (char *const *)ports, np);
	}
	if (f->nadd_hosts)
		rt_client_strs(w, "add_hosts", (char *const *)f->add_hosts, f->nadd_hosts);
	if (f->ndns)
		rt_client_strs(w, "dns", (char *const *)f->dns, f->ndns);
	rt_json_w_key(w, "mounts");
	rt_json_w_arr(w);
	{
		struct rt_opts ro = *o;

		ro.root = root_abs;
		for (k = 0; k < f->nvols; k++)
			if (write_mount(&ro, w, f->vols[k], verb))
				return RT_EXIT_USAGE;
	}
	for (k = 0; k < f->ntmpfs; k++)
		if (write_tmpfs(w, f->tmpfss[k], verb))
			return RT_EXIT_USAGE;
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
	if (f->app) {
		rt_json_w_key(w, "app");
		rt_json_w_bool(w, true);
	}
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
	if (f->log_kb) {
		rt_json_w_key(w, "log_size");
		rt_json_w_u64(w, f->log_kb);
	}
	if (f->log_mirror && strcmp(f->log_mirror, "none")) {
		rt_json_w_key(w, "log_mirror");
		rt_json_w_str(w, f->log_mirror);
	}
	if (write_health(w, f, verb))
		return RT_EXIT_RT;
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
	rc = rt_client_call(fd, &w, NULL, 0, &j, verb);
	if (rc)
		return rc;
	if (rt_json_str(&j, rt_json_find(&j, 0, "id"), id, RT_CTR_ID + 1, &e) < 0 ||
	    rt_json_str(&j, rt_json_find(&j, 0, "name"), name, RT_CTR_NAME + 1, &e) < 0)
		return rt_cli_fail(verb, RT_EXIT_RT, "bad reply from the rt daemon");
	return 0;
}

int rt_run_build(const struct rt_opts *o, int argc, char **argv, int app,
		 struct rt_json_w *w, const char *verb)
{
	struct optp p = { argc, 1, argv, NULL, verb, 0, NULL, 0 };
	struct runflags f;
	int rc = parse_run(&f, &p, verb);

	if (rc)
		return rc;
	if (!f.rootfs && p.i >= argc)
		return rt_cli_fail(verb, RT_EXIT_USAGE, "requires at least 1 argument: an image (or --rootfs DIR)");
	f.app = app;
	return build_create(o, w, &f, argv + p.i, argc - p.i, verb);
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
	fd = rt_client_dial(o, verb);
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

		/* -d -i: the daemon holds the container's stdin open. */
		rt_client_req(&w, "start", id);
		rt_json_w_end(&w);
		rc = rt_client_call(fd, &w, NULL, 0, &j, verb);
		close(fd);
		if (rc)
			return rc;
		printf("%s\n", id);
		return 0;
	}
	rc = rt_client_attach(o, fd, id, f.interactive, f.tty, verb);
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

const struct rt_verb rt_verbs_run[] = {
	{ "run", verb_run, "[OPTIONS] IMAGE|--rootfs DIR [COMMAND [ARG...]]", "Create and start a container" },
	{ "create", verb_create, "[OPTIONS] IMAGE|--rootfs DIR [COMMAND [ARG...]]", "Create a container" },
	{ NULL, NULL, NULL, NULL },
};
