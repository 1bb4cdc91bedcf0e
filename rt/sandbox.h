/* The container boundary: everything between fork and exec.
 *
 * The supervisor fills a spec and calls rt_sandbox_spawn(); the child side
 * (namespaces, overlay rootfs, pivot_root, /proc /dev /sys, masks, volumes,
 * capabilities, no_new_privs, user, cgroup, exec) runs in the new process
 * and reports any failure back over a CLOEXEC pipe, so the parent returns
 * the child's own error message ("mount overlay: ...") instead of an exit
 * status. The spec is plain data, owned by the caller; nothing here
 * allocates in the parent. */
#ifndef RT_SANDBOX_H
#define RT_SANDBOX_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define RT_SANDBOX_MAX_LAYERS 128
#define RT_SANDBOX_MAX_MOUNTS 32
#define RT_SANDBOX_MAX_ARGS 256
#define RT_SANDBOX_MAX_ENV 256

enum rt_net_mode { RT_NET_NONE, RT_NET_HOST, RT_NET_BRIDGE };

struct rt_mount {
	const char *source;   /* host path (bind) or a volume dir under the store */
	const char *dest;     /* absolute path inside the container */
	int readonly;
};

struct rt_sandbox_spec {
	const char *id;                 /* container id (64 hex) */
	const char *name;               /* container name; the default hostname */
	const char *hostname;           /* NULL: name */

	/* Rootfs: layer dirs (absolute host paths), top layer first. */
	const char *layers[RT_SANDBOX_MAX_LAYERS];
	int nlayers;
	const char *statedir;           /* per-container dir on tmpfs: upper, work, merged */
	uint64_t tmpfs_bytes;           /* cap of the writable layer; 0: default */
	int readonly_rootfs;            /* --read-only: no upper */

	struct rt_mount mounts[RT_SANDBOX_MAX_MOUNTS];
	int nmounts;

	/* Process. argv[0] is resolved in the container's PATH (from env). */
	char *argv[RT_SANDBOX_MAX_ARGS + 1];
	char *env[RT_SANDBOX_MAX_ENV + 1];
	const char *cwd;                /* NULL: "/" */
	const char *user;               /* "uid[:gid]" or "name[:group]" from the
					   container's /etc/passwd; NULL: root */
	int init;                       /* run a reaping, signal-forwarding init as PID 1 */

	enum rt_net_mode net;

	/* Limits (0: none). */
	uint64_t memory_bytes;
	uint64_t pids_max;
	uint32_t cpu_millis;            /* --cpus 1.5 -> 1500 */

	/* Capabilities added to / dropped from Docker's default set (bit masks
	   of CAP_* numbers); privileged is not offered. */
	uint64_t cap_add, cap_drop;

	/* stdio for the container's PID 1: three fds (a pty slave three times
	   for a terminal); they become 0, 1, 2 and every other fd is closed. */
	int stdio[3];
	int tty;
};

/* Start the container. On success *pid is its PID 1 (as seen by the host)
 * and *pidfd a pidfd for it (or -1 on kernels without pidfd_open). */
int rt_sandbox_spawn(const struct rt_sandbox_spec *s, pid_t *pid, int *pidfd,
		     struct rt_err *e);

/* Undo what the spawn left on the host once the container is gone:
 * unmount and remove the state dir, remove its cgroup. Idempotent. */
int rt_sandbox_cleanup(const struct rt_sandbox_spec *s, struct rt_err *e);

#endif
