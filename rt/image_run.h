/* The seam between images and containers: what `rt run` / `rt create`
 * need from an image, whatever it came from.
 *
 * Filled either from `--rootfs DIR` (one read-only layer, no defaults) or
 * by the image store from a reference (its unpacked layer dirs and its
 * config's Entrypoint, Cmd, Env, WorkingDir, User). The CLI then applies
 * the user's flags on top, as Docker does: a command after the image
 * replaces cmd, --entrypoint replaces entrypoint, -e adds to or overrides
 * env, -w and -u replace workdir and user.
 *
 * All strings point into arena; the struct is large and meant to be
 * static in the short-lived CLI process. */
#ifndef RT_IMAGE_RUN_H
#define RT_IMAGE_RUN_H

#include "sandbox.h"

#define RT_IMAGE_RUN_ARENA 65536

struct rt_image_run {
	char ref[256];          /* what ps shows as IMAGE: name:tag, or the rootfs dir */
	char digest[80];        /* "sha256:..." of the manifest; "" for --rootfs */
	char id[80];            /* "sha256:..." of the config; "" for --rootfs */
	const char *layers[RT_SANDBOX_MAX_LAYERS];  /* absolute dirs, top first */
	int nlayers;
	char *entrypoint[RT_SANDBOX_MAX_ARGS + 1];  /* NULL-terminated */
	char *cmd[RT_SANDBOX_MAX_ARGS + 1];
	char *env[RT_SANDBOX_MAX_ENV + 1];
	const char *workdir;    /* NULL: "/" */
	const char *user;       /* NULL: root */
	/* The config's Healthcheck (Docker's form: Test[0] is NONE, CMD or
	   CMD-SHELL); times in ns, 0: unset. */
	char *health[RT_SANDBOX_MAX_ARGS + 1];
	int64_t health_interval, health_timeout, health_start;
	int health_retries;
	char arena[RT_IMAGE_RUN_ARENA];
	size_t used;
};

#endif
