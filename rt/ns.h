/* Namespaces, and the processes that are born into them or join them.
 *
 * New processes come from clone3 where the kernel has it (5.3: a pidfd
 * with no window for pid reuse) and from clone otherwise; both are used
 * fork-style (no new stack), so the child returns from the call. */
#ifndef RT_NS_H
#define RT_NS_H

#include <sys/types.h>

#include "err.h"

/* fork() into new namespaces (CLONE_NEW* flags). Returns the child's pid
 * in the parent and 0 in the child; *pidfd is a pidfd for it, or -1
 * (clone path). With cgroupfd >= 0 (a cgroup v2 directory) the child is
 * born in that cgroup where the kernel can (5.7), and *in_cgroup says
 * whether it was. compat: skip clone3. */
pid_t rt_ns_clone(unsigned long nsflags, int compat, int cgroupfd,
		  int *in_cgroup, int *pidfd, struct rt_err *e);

/* fork() with CLONE_PARENT: the new process is the caller's sibling, a
 * child of the caller's parent, which can wait for it. */
pid_t rt_ns_fork_sibling(struct rt_err *e);

/* pidfd_open(pid), or -1 without it. */
int rt_ns_pidfd(pid_t pid, int compat);

/* Whether the process behind pidfd still runs (1), is gone (0). */
int rt_ns_alive(int pidfd);

/* The namespaces of a running process, opened from /proc/<pid>/ns. */
enum { RT_NS_CGROUP, RT_NS_IPC, RT_NS_UTS, RT_NS_NET, RT_NS_PID, RT_NS_MNT, RT_NS_N };
struct rt_ns_set {
	int fd[RT_NS_N];   /* -1: the kernel has no such namespace */
};

/* Open them; with pidfd >= 0 the process is checked to be the same one
 * after the opens, so a reused pid cannot hand out a stranger's. */
int rt_ns_open(pid_t pid, int pidfd, struct rt_ns_set *ns, struct rt_err *e);

/* setns() into each (mount last: it moves root and cwd); the pid
 * namespace applies to children. Closes the fds. */
int rt_ns_enter(struct rt_ns_set *ns, struct rt_err *e);

void rt_ns_close(struct rt_ns_set *ns);

int rt_ns_hostname(const char *name, struct rt_err *e);

/* Bring "lo" up in a fresh network namespace. */
int rt_ns_loopback_up(struct rt_err *e);

#endif
