/* The container boundary: everything between fork and exec.
 *
 * The supervisor fills a spec and calls rt_sandbox_spawn(); the child side
 * (namespaces, overlay rootfs, pivot_root, /proc /dev /sys, masks, volumes,
 * capabilities, no_new_privs, user, cgroup, exec) runs in the new process
 * and reports any failure back over a CLOEXEC socket, so the parent returns
 * the child's own error message ("sandbox: mount /proc: ...") instead of an
 * exit status. The spec is plain data, owned by the caller; nothing here
 * allocates in the parent.
 *
 * The calls block while the child builds the sandbox (a few milliseconds;
 * at most RT_SANDBOX_TIMEOUT_MS, then the child is killed). They must be
 * called from a single-threaded process (the supervisor is one).
 *
 * State dir layout (statedir, on tmpfs, created by spawn if missing):
 *   rw/         tmpfs capped at tmpfs_bytes: the writable layer
 *     upper/ work/   overlay upper and work dirs (not with readonly_rootfs)
 *     mp/            mount points the image lacks, as a top read-only layer
 *                    (readonly_rootfs only)
 *     etc/           hosts, hostname, resolv.conf given to the container
 *   merged/     where the overlay is mounted, only inside the container's
 *               own mount namespace (nothing to unmount on the host)
 * rw/ stays mounted on the host between runs, so a restarted container
 * keeps its writable layer; rt_sandbox_cleanup() throws it away.
 *
 * Exit codes: a child that fails before exec makes spawn return < 0 with
 * e->errnum from the failing call; for the final exec, ENOENT means "not
 * found" (Docker's 127) and EACCES/ENOEXEC "cannot invoke" (126). */
#ifndef RT_SANDBOX_H
#define RT_SANDBOX_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "kconfig.h"

#define RT_SANDBOX_MAX_LAYERS 128
#define RT_SANDBOX_MAX_MOUNTS 32
#define RT_SANDBOX_MAX_ARGS 256
#define RT_SANDBOX_MAX_ENV 256
#define RT_SANDBOX_MAX_RLIMITS 16
#define RT_SANDBOX_TIMEOUT_MS 10000

/* Size cap of the writable layer and of --tmpfs mounts when none is
 * given: Kconfig's TMPFS_DEFAULT_MB, 64 MiB in a configuration without
 * that symbol. */
#ifdef CONFIG_TMPFS_DEFAULT_MB
#define RT_SANDBOX_TMPFS_DEFAULT ((uint64_t)(CONFIG_TMPFS_DEFAULT_MB) << 20)
#else
#define RT_SANDBOX_TMPFS_DEFAULT ((uint64_t)64 << 20)
#endif

/* Docker's default capability set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL
 * SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD
 * AUDIT_WRITE SETFCAP. */
#define RT_SANDBOX_CAPS_DEFAULT 0x00000000a80425fbull

enum rt_net_mode { RT_NET_NONE, RT_NET_HOST, RT_NET_BRIDGE };

enum rt_mount_kind {
	RT_MOUNT_BIND,        /* source: a host dir or file (bind, volume) */
	RT_MOUNT_TMPFS,       /* --tmpfs: source unused */
};

struct rt_mount {
	enum rt_mount_kind kind;
	const char *source;   /* bind: host path (a -v path or a volume dir
				 under the store), created by the caller */
	const char *dest;     /* absolute path inside the container */
	int readonly;
	int seed;             /* bind of a named volume: while its dir is
				 empty, each start first fills it with the
				 image's content at dest (Docker's copy-up);
				 never set it for a host dir */
	uint64_t tmpfs_bytes; /* tmpfs: size cap; 0: RT_SANDBOX_TMPFS_DEFAULT */
	unsigned tmpfs_mode;  /* tmpfs: permissions of its root; 0: 01777 */
	int tmpfs_exec;       /* tmpfs: without noexec */
};

struct rt_rlimit {
	int resource;         /* RLIMIT_* */
	uint64_t soft, hard;  /* UINT64_MAX: unlimited */
};

struct rt_sandbox_spec {
	const char *id;                 /* container id (64 hex) */
	const char *name;               /* container name; the default hostname */
	const char *hostname;           /* NULL: name */

	/* Rootfs: layer dirs (absolute host paths), top layer first. */
	const char *layers[RT_SANDBOX_MAX_LAYERS];
	int nlayers;
	const char *statedir;           /* absolute; per-container dir on tmpfs */
	uint64_t tmpfs_bytes;           /* cap of the writable layer; 0: default */
	int readonly_rootfs;            /* --read-only: no upper */

	struct rt_mount mounts[RT_SANDBOX_MAX_MOUNTS];
	int nmounts;

	/* Process. argv[0] is resolved in the container's PATH (from env). */
	char *argv[RT_SANDBOX_MAX_ARGS + 1];
	char *env[RT_SANDBOX_MAX_ENV + 1];  /* HOME and PATH added when absent */
	const char *cwd;                /* NULL: "/"; created when missing */
	const char *user;               /* "uid[:gid]" or "name[:group]" from the
					   container's /etc/passwd; NULL: root */
	int init;                       /* PID 1 is a reaping, signal-forwarding
					   init and the command is PID 2; a
					   command killed by signal N then exits
					   128+N */

	enum rt_net_mode net;
	int netns_fd;                   /* RT_NET_BRIDGE: the network namespace
					   to join, made and configured before
					   the spawn (rt_net_attach); the
					   caller closes it. Ignored otherwise */
	const char *etc_hosts;          /* /etc/hosts and /etc/resolv.conf */
	const char *etc_resolv;         /* texts; NULL: the defaults (the
					   host's with RT_NET_HOST) */

	/* Limits (0: none). */
	uint64_t memory_bytes;
	uint64_t pids_max;
	uint32_t cpu_millis;            /* --cpus 1.5 -> 1500 */
	struct rt_rlimit rlimits[RT_SANDBOX_MAX_RLIMITS];
	int nrlimits;

	/* Capabilities added to / dropped from Docker's default set (bit masks
	   of CAP_* numbers); privileged is not offered, and a set that ends
	   up with SYS_PTRACE is refused (EPERM): it would reach rt's own
	   processes in the container (see sandbox.c). */
	uint64_t cap_add, cap_drop;

	/* stdio for the container's PID 1: three fds (-1: /dev/null); they
	   become 0, 1, 2 and every other fd is closed. A process in the
	   container can reopen each through /proc/self/fd/N with any access
	   its credentials allow: a directory, an O_PATH fd or a device other
	   than a terminal or /dev/null is refused (EPERM), and pipes are the
	   safe choice (a regular file can be reopened for reading and
	   writing, a terminal stays reachable to whatever the container
	   leaves running). With tty, stdio is ignored: the sandbox opens a
	   pty in the container's own devpts, its slave is 0, 1, 2 and
	   /dev/console, and its master is returned. */
	int stdio[3];
	int tty;
};

/* A process started in a container. */
struct rt_sandbox_proc {
	pid_t pid;      /* as seen by the host; a child of the caller */
	int pidfd;      /* -1 on kernels without pidfd_open (< 5.3) */
	int pty;        /* the terminal's master with tty, else -1 */
};

/* Start the container: its PID 1 (the command, or the init with
 * s->init) is p->pid. The caller reaps it and closes p->pidfd, p->pty.
 * On failure nothing runs; what is left in statedir and the cgroup is
 * removed by rt_sandbox_cleanup(). */
int rt_sandbox_spawn(const struct rt_sandbox_spec *s, struct rt_sandbox_proc *p,
		     struct rt_err *e);

/* An extra process for `rt exec`. env is the whole environment (the
 * caller merges the image's and -e's); nothing of the caller's leaks. */
struct rt_sandbox_exec {
	char *argv[RT_SANDBOX_MAX_ARGS + 1];
	char *env[RT_SANDBOX_MAX_ENV + 1];
	const char *cwd;                /* NULL: "/"; must exist */
	const char *user;               /* as in the spec; NULL: root */
	int stdio[3];                   /* as in the spec (-1: /dev/null) */
	int tty;                        /* a pty from the container's devpts;
					   its master comes back in p->pty */
};

/* Start x inside the running container ctr (spawned from s: its id,
 * capabilities and rlimits apply) by joining its cgroup and namespaces.
 * p->pid is a child of the caller. The container's PID 1 must not have
 * been reaped: with ctr->pidfd the call is race-free on its own; without
 * a pidfd the caller keeps the pid from being reused by not reaping it
 * concurrently. */
int rt_sandbox_exec_spawn(const struct rt_sandbox_spec *s,
			  const struct rt_sandbox_proc *ctr,
			  const struct rt_sandbox_exec *x,
			  struct rt_sandbox_proc *p, struct rt_err *e);

/* Undo what the spawn left on the host once the container is gone:
 * unmount and remove the writable layer and the state dir (the dir itself
 * only when nothing else is left in it), remove its cgroup. Idempotent. */
int rt_sandbox_cleanup(const struct rt_sandbox_spec *s, struct rt_err *e);

/* Which interfaces this kernel gives the sandbox (for `rt info`). */
struct rt_sandbox_probe {
	int clone3, pidfd, close_range;
	int overlay_redirect_dir, overlay_metacopy;   /* options known */
	int cgroup;                                   /* 0 none, 1 v1, 2 v2 */
};
void rt_sandbox_probe(struct rt_sandbox_probe *p);

/* Tests: take the fallback paths (clone, no pidfd, no close_range) as on
 * kernels older than 5.3. */
void rt_sandbox_force_fallbacks(int on);

/* Run the calling program from a sealed in-memory copy of its own binary.
 * For the process that spawns containers (`rt daemon`, rt as PID 1), as
 * the first thing it does: every process it then forks into a container
 * has the copy as its /proc/self/exe. A container file that starts with
 * "#!/proc/self/exe" (CVE-2019-5736: the kernel looks the interpreter up
 * in the process that execs, which is a fork of rt until the exec) then
 * runs the copy, and rt's binary on the host is out of every container's
 * reach; the copy cannot be written (F_SEAL_WRITE). Without it, rt's
 * binary is only kept from writes while a process runs it (ETXTBSY).
 * Returns 0 when the program already runs from a sealed copy; otherwise
 * execs the copy with argv and envp and returns only on failure (< 0,
 * the caller unchanged). Costs one exec, and RAM the size of the binary,
 * which the running program then shares. */
int rt_sandbox_seal_exe(char *const argv[], char *const envp[], struct rt_err *e);

#endif
