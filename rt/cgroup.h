/* A cgroup per container, for --memory, --cpus and --pids-limit.
 *
 * Each container gets <rt's own cgroup>/rt/<id>: beneath the cgroup the
 * supervisor runs in (the root when rt is PID 1), so whatever limits the
 * host put on rt also bound its containers. cgroup v2 is used when
 * /sys/fs/cgroup is a cgroup2 mount; otherwise the v1 memory, pids and
 * cpu hierarchies under /sys/fs/cgroup/<controller> (hybrid hosts whose
 * cgroup2 mount at /sys/fs/cgroup/unified holds no controllers get v1).
 * On v2 a cgroup other than the root cannot pass controllers to its
 * children while it holds processes ("no internal processes"), so the
 * first container moves the calling process (the supervisor) into the
 * leaf <base>/rt/supervisor beside the containers, and <base> stays rt's
 * base from then on. Processes of others in <base> are not moved: a limit
 * then fails with an error that says so (run rt in a cgroup of its own,
 * e.g. a systemd unit with Delegate=yes).
 *
 * Joining a cgroup costs the kernel an RCU grace period (milliseconds on
 * a busy board), so on v2 the child is born in its cgroup (clone3 with
 * CLONE_INTO_CGROUP, 5.7) and on v1 a container gets a cgroup only in
 * the hierarchies of the limits it has: none without limits. */
#ifndef RT_CGROUP_H
#define RT_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum rt_cgroup_mode { RT_CGROUP_NONE, RT_CGROUP_V1, RT_CGROUP_V2 };

#define RT_CGROUP_MAX_FDS 3   /* one cgroup.procs per hierarchy */
#define RT_CGROUP_LEAF "supervisor"   /* rt's own leaf under <base>/rt */
#define RT_CGROUP_VIEW_MAX 16
#define RT_CGROUP_CPU_PERIOD 100000u

struct rt_cgroup_limits {
	uint64_t memory_bytes;    /* 0: none */
	uint64_t pids_max;        /* 0: none */
	uint32_t cpu_millis;      /* 0: none; 1000 = one CPU */
};

enum rt_cgroup_mode rt_cgroup_mode(void);

/* Create the container's cgroup (idempotent), set the limits, and open
 * its cgroup.procs file(s) into fds for the child to join with; on v2
 * *dirfd is the cgroup's directory (for CLONE_INTO_CGROUP), else -1. A
 * host without cgroups gives *nfds = 0, or an error when limits were
 * asked. */
int rt_cgroup_create(const char *id, const struct rt_cgroup_limits *l,
		     int fds[RT_CGROUP_MAX_FDS], int *nfds, int *dirfd,
		     struct rt_err *e);

/* Open the cgroup.procs file(s) of an existing container cgroup (those
 * hierarchies it has). */
int rt_cgroup_open(const char *id, int fds[RT_CGROUP_MAX_FDS], int *nfds,
		   struct rt_err *e);

/* Move the calling process into the cgroup(s) behind fds. */
int rt_cgroup_join(const int *fds, int nfds, struct rt_err *e);

/* Remove the container's cgroup (ENOENT is success). */
int rt_cgroup_remove(const char *id, struct rt_err *e);

/* What the container's /sys/fs/cgroup shows: the hierarchies in which
 * the calling process (the container's first process, after the join)
 * is in its own cgroup <base>/rt/<id>; a hierarchy where it shares rt's
 * cgroup is left out, since its namespace root there would show rt's
 * other containers. Read before the cgroup namespace is entered: inside
 * it every path reads "/". */
struct rt_cgroup_view {
	int v2;                 /* 1: the unified hierarchy, 2: it is /sys/fs/cgroup itself */
	int n;                  /* v1 hierarchies */
	char opts[RT_CGROUP_VIEW_MAX][64];   /* "memory", "cpu,cpuacct", "name=systemd" */
};
int rt_cgroup_view(const char *id, struct rt_cgroup_view *v, struct rt_err *e);

/* Host path of the container's cgroup directory that holds controller
 * ("memory", "pids", "cpu"). */
int rt_cgroup_dir(const char *id, const char *controller, char *buf,
		  size_t len, struct rt_err *e);

#endif
