/* Container records: identity (64-hex id, unique name), the configuration
 * a client asked for, and the little state that must survive a reboot.
 *
 * Persistent, under ROOT/containers/<id>/ (each file written durably):
 *   config.json  {"id":..,"name":..,"created":ns,"config":{...}}
 *   state.json   {"started":ns,"finished":ns,"exit_code":N,
 *                 "stopped_by_user":bool,"ran":bool}
 * Volatile, under RUN/containers/<id>/: the sandbox's state dir (writable
 * layer, mounts), gone after a reboot by design.
 *
 * The "config" object (built by the CLI, checked here before anything is
 * stored or run):
 *   image (string, shown by ps), image_digest and image_id (the manifest
 *   and config digests when it came from the store), layers [abs dirs, top
 *   first], cmd [argv],
 *   env ["K=V"], cwd, user, hostname, restart ("no", "on-failure[:N]",
 *   "always", "unless-stopped"), network ("none" | "host" | a bridge
 *   network: "bridge" or a user network's name), ports ["-p spec"],
 *   add_hosts ["NAME:IP"], dns ["IP"] (the last four: see netconf.h),
 *   mounts [{"src": abs, "dst": abs, "ro": bool, "volume": name} or
 *   {"tmpfs": true, "dst": abs, "size": bytes (> 0), "mode": 07777 at
 *   most, "ro": bool, "exec": bool}],
 *   read_only, tmpfs_size, memory, pids, cpus (thousandths), cap_add,
 *   cap_drop (masks), init, stop_timeout (s), tty, stdin, rm, name, app
 *   (true for the containers reload manages), log_size (KiB of log ring,
 *   RT_CTR_LOG_KB_MIN..RT_CTR_LOG_KB_MAX; default CONFIG_LOG_RING_KB),
 *   log_mirror ("console" or "kmsg": each line of output is also written
 *   there, prefixed with the container's name; a write that would block is
 *   dropped, never waited for), health (the health check, see health.h:
 *   {"cmd": [argv], "interval": ms, "timeout": ms, "start_period": ms,
 *   "retries": N}, run in the container with its env, cwd and user;
 *   absent: none; ignored by a build without HEALTHCHECK).
 */
#ifndef RT_CONTAINER_H
#define RT_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "health.h"
#include "json.h"
#include "lifecycle.h"
#include "sandbox.h"

#define RT_CTR_ID 64             /* hex digits */
#define RT_CTR_NAME 63           /* longest name */
#define RT_CTR_IMAGE 255
#define RT_CTR_CMD 255           /* command summary kept for ps */
#define RT_CTR_REC_MAX 65536     /* largest stored record */
#define RT_CTR_TOK 4096          /* JSON tokens a record may use */
#define RT_CTR_LOG_KB_MIN 4      /* log ring bounds, KiB */
#define RT_CTR_LOG_KB_MAX 4096

enum { RT_CTR_MIRROR_NONE, RT_CTR_MIRROR_CONSOLE, RT_CTR_MIRROR_KMSG };

/* What the supervisor keeps in hand for a record (the rest is read from
 * the JSON text when the container is spawned). */
struct rt_ctr_meta {
	char id[RT_CTR_ID + 1];
	char name[RT_CTR_NAME + 1];
	char image[RT_CTR_IMAGE + 1];
	char cmd[RT_CTR_CMD + 1];        /* argv joined by spaces, cut */
	int64_t created;                 /* ns since the epoch */
	struct rt_policy policy;
	int autoremove, tty, stdin_open;
	int app;                         /* made by reload from an app file */
	int64_t stop_timeout;            /* seconds */
	uint32_t log_kb;                 /* log ring size, KiB */
	int log_mirror;                  /* RT_CTR_MIRROR_* */
	int health_on;                   /* a health check is configured */
	struct rt_health_cfg health;
	size_t health_off, health_len;   /* its object within the config */
};

struct rt_ctr_state {
	int64_t started, finished;       /* ns since the epoch; 0: never */
	int exit_code;
	int stopped_by_user;
	int ran;                         /* ever started */
};

/* A fresh random id, 64 lowercase hex digits. */
int rt_ctr_new_id(char id[RT_CTR_ID + 1], struct rt_err *e);

/* Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most RT_CTR_NAME bytes. */
int rt_ctr_name_ok(const char *name);

/* An "adjective_noun" name picked by r (a random number); a non-zero try
 * appends it, for when the plain pair is taken. */
void rt_ctr_name_gen(char name[RT_CTR_NAME + 1], uint32_t r, unsigned try);

/* Check a client's config object (JSON text). Fills m with what it says
 * (id, name and created are left to the caller). Every path, count and
 * string is checked against the sandbox's limits here, so a record that
 * was stored can always be spawned. */
int rt_ctr_check(const char *conf, size_t len, struct rt_ctr_meta *m,
		 struct rt_err *e);

/* The stored record for a checked config, into buf. Returns its length. */
int rt_ctr_record(const struct rt_ctr_meta *m, const char *conf, size_t len,
		  char *buf, size_t cap, struct rt_err *e);

/* Parse a stored record: meta plus where its config object lies. */
int rt_ctr_parse_record(const char *rec, size_t len, struct rt_ctr_meta *m,
			const char **conf, size_t *conflen, struct rt_err *e);

/* Fill a sandbox spec from a checked config. Strings are decoded into
 * arena (cap bytes), which must outlive the spec. statedir, stdio and tty
 * are the caller's. */
int rt_ctr_spec(const struct rt_ctr_meta *m, const char *conf, size_t len,
		struct rt_sandbox_spec *s, char *arena, size_t cap,
		struct rt_err *e);

/* Fill an exec from the request's object {"cmd":[..],"env":[..],"cwd":..,
 * "user":..,"tty":bool}: env is the container's, overridden by the
 * request's; user defaults to the container's. stdio is the caller's. */
int rt_ctr_exec(const char *conf, size_t len, const char *xobj, size_t xlen,
		struct rt_sandbox_exec *x, char *arena, size_t cap,
		struct rt_err *e);

/* The health check's process: rt_ctr_exec() with the "health" object
 * (m->health_off) as the request. */
int rt_ctr_health_exec(const struct rt_ctr_meta *m, const char *conf, size_t len,
		       struct rt_sandbox_exec *x, char *arena, size_t cap,
		       struct rt_err *e);

/* Copy the config object into a JSON writer (for inspect). */
int rt_ctr_copy_config(struct rt_json_w *w, const char *conf, size_t len,
		       struct rt_err *e);

/* Store: ROOT/containers/<id>/{config,state}.json. rootfd is an
 * O_DIRECTORY fd of ROOT. durable: fsync'd, to survive a power cut; a
 * --rm container's record is not (it is removed at its end anyway, and
 * at the next start when a power cut left it: fewer flash writes). */
int rt_ctr_save(int rootfd, const char *id, const char *rec, size_t len,
		int durable, struct rt_err *e);
int rt_ctr_save_state(int rootfd, const char *id, const struct rt_ctr_state *st,
		      int durable, struct rt_err *e);
/* Missing state.json reads as a never-started container. */
int rt_ctr_load_state(int rootfd, const char *id, struct rt_ctr_state *st,
		      struct rt_err *e);
int rt_ctr_remove(int rootfd, const char *id, int durable, struct rt_err *e);

/* Names of Docker-style volumes: like container names. */
int rt_ctr_volume_ok(const char *name);

/* > 0 when a stored container record names the image with manifest digest
 * (or config id): its name goes to who. 0 when none does. */
int rt_ctr_image_users(int rootfd, const char *digest, const char *id, char *who,
		       size_t cap, struct rt_err *e);

/* The seams the image verbs call (declared weak on their side, defined in
 * cli_container.c): rmi and prune ask whether an image is in use; `rt
 * inspect NAME` asks for a container first (1 and a compact JSON object in
 * buf[0..*len), 0 when there is no such container or no supervisor). */
int rt_container_image_users(const char *root, const char *digest, const char *id,
			     char *who, size_t cap, struct rt_err *e);
int rt_container_inspect_json(const char *root, const char *run, const char *name,
			      char *buf, size_t cap, size_t *len, struct rt_err *e);

#endif
