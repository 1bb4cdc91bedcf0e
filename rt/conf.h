/* Boot configuration: one file per app, /etc/rt/apps/<name>.conf, of
 * `key = value` lines. An app file is `rt run -d --name <name>` written
 * down: each key is one of run's flags, so an app gets exactly what the
 * same command line would, through the same code.
 *
 *   # comments and blank lines are ignored
 *   image = registry.example/web:1.4       (required)
 *   cmd = ["httpd", "-f", "-p", "80"]      JSON array, or a shell command
 *   entrypoint = ["/bin/app"]              JSON array, or one word
 *   restart = always                       no | on-failure[:N] | always |
 *                                          unless-stopped (default always)
 *   publish = 8080:80/tcp                  repeatable (-p)
 *   volume = data:/var/lib/app             repeatable (-v)
 *   env = KEY=value                        repeatable (-e)
 *   memory = 64m    cpus = 0.5    pids = 100
 *   user = 1000:1000    workdir = /srv    hostname = web
 *   network = bridge (default) | host | none | NAME    read_only = true
 *   init = true | false    stop_timeout = 10    tmpfs_size = 16m
 *   cap_add = NET_ADMIN    cap_drop = ALL  repeatable
 *   tmpfs = /run:size=8m,mode=755          repeatable (--tmpfs)
 *   after = db                             repeatable: start after these apps
 *   update = reg.example/web:stable, 15m   watch this tag and update to
 *                                          each new signed digest (update.h);
 *                                          interval N[ms|s|m|h], default s
 *   update_timeout = 60s                   how long a new version has to
 *                                          become healthy (default 60s)
 *   update_stable = 10s                    without a health check: healthy
 *                                          is running this long unrestarted
 *                                          (default 10s)
 *   healthcheck = wget -qO- localhost/     a shell command (/bin/sh -c), or a
 *                                          JSON array (exec form); default:
 *                                          the image's HEALTHCHECK
 *   health_interval = 30s   health_timeout = 30s   health_start_period = 0s
 *   health_retries = 3                     (Docker's defaults; durations as
 *                                          500ms, 5s, 1m)
 *
 * Health: the check runs in the container every interval once it has
 * started; `rt ps` shows (health: starting), (healthy) or (unhealthy).
 * Unlike Docker, which only marks it, an app that turns unhealthy and
 * whose restart policy restarts it (always, the default, unless-stopped,
 * on-failure) is stopped (SIGTERM, SIGKILL after stop_timeout) and
 * restarted like a crashed one: on an appliance nobody is watching
 * `rt ps` to do it by hand. A container started with `rt run` is only
 * marked, as in Docker.
 *
 * Anything else is an error naming the file and line: a typo never turns
 * into a silently different appliance. */
#ifndef RT_CONF_H
#define RT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RT_CONF_MAX 16384        /* largest app file */
#define RT_CONF_ARGS 160         /* run arguments an app may expand to */
#define RT_CONF_AFTER 8
#define RT_CONF_NAME 63

struct rt_conf_app {
	char name[RT_CONF_NAME + 1];
	const char *image;                       /* into arena */
	const char *after[RT_CONF_AFTER];        /* into arena */
	int nafter;
	const char *update;                      /* channel ref, into arena */
	int64_t update_every_ms;                 /* 0: no channel */
	int64_t update_timeout_ms, update_stable_ms;    /* -1: default */
	/* argv for the run verb: "run", "-d", "--name", name, flags...,
	   image, cmd... NULL-terminated; strings live in arena. */
	char *argv[RT_CONF_ARGS + 1];
	int argc;
	char arena[RT_CONF_MAX * 2];
};

/* 1 when name is a valid app name (the file name without ".conf"). */
int rt_conf_name_ok(const char *name);

/* A duration as Go (and so Docker) writes one: "30s", "500ms", "1m30s",
 * "1.5h", "0"; units ns, us, ms, s, m, h; no sign. Into nanoseconds, at
 * most about 292 years. For run's flags and the app files' keys. */
int rt_duration(const char *s, int64_t *ns);

/* An app file's duration: bare digits are seconds, else as rt_duration;
 * into milliseconds, at most a week. */
int rt_conf_duration(const char *s, int64_t *ms);

/* Parse the text of app file `name` into a. */
int rt_conf_parse(struct rt_conf_app *a, const char *name, const char *text,
		  size_t len, struct rt_err *e);

#endif
