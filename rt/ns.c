#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ns.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ull
#endif

/* struct clone_args: 64 bytes as of 5.3, 88 with the cgroup (5.7). */
struct clone_args_ {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};
#define ARGS_VER0 64

pid_t rt_ns_clone(unsigned long nsflags, int compat, int cgroupfd,
		  int *in_cgroup, int *pidfd, struct rt_err *e)
{
	long r = -1;

	*pidfd = -1;
	*in_cgroup = 0;
#ifdef SYS_clone3
	if (!compat) {
		struct clone_args_ a;
		int fd = -1, into = cgroupfd >= 0;

		memset(&a, 0, sizeof a);
		a.flags = nsflags | CLONE_PIDFD;
		a.pidfd = (uint64_t)(uintptr_t)&fd;
		a.exit_signal = SIGCHLD;
		if (into) {
			/* Born in the cgroup: no migration later, which on
			 * a busy system costs an RCU grace period. */
			a.flags |= CLONE_INTO_CGROUP;
			a.cgroup = (uint64_t)cgroupfd;
		}
		r = syscall(SYS_clone3, &a, into ? sizeof a : ARGS_VER0);
		if (r < 0 && into && (errno == E2BIG || errno == EINVAL)) {
			/* 5.3 to 5.6: no CLONE_INTO_CGROUP. */
			into = 0;
			a.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
			a.cgroup = 0;
			r = syscall(SYS_clone3, &a, ARGS_VER0);
		}
		if (r >= 0)
			*in_cgroup = into;
		if (r > 0)
			*pidfd = fd;
		if (r >= 0)
			return (pid_t)r;
		if (errno != ENOSYS)
			return rt_err_sys(e, "clone3");
	}
#else
	(void)compat;
	(void)cgroupfd;
#endif
	/* No stack and no tid pointers: the argument order, which differs
	 * between architectures, does not matter. */
	r = syscall(SYS_clone, nsflags | SIGCHLD, 0, 0, 0, 0);
	if (r < 0)
		return rt_err_sys(e, "clone");
	return (pid_t)r;
}

pid_t rt_ns_fork_sibling(struct rt_err *e)
{
	long r = syscall(SYS_clone, (unsigned long)CLONE_PARENT, 0, 0, 0, 0);

	if (r < 0)
		return rt_err_sys(e, "clone");
	return (pid_t)r;
}

int rt_ns_pidfd(pid_t pid, int compat)
{
#ifdef SYS_pidfd_open
	if (!compat) {
		int fd = (int)syscall(SYS_pidfd_open, pid, 0);

		if (fd >= 0) {
			fcntl(fd, F_SETFD, FD_CLOEXEC);
			return fd;
		}
	}
#else
	(void)pid;
	(void)compat;
#endif
	return -1;
}

int rt_ns_alive(int pidfd)
{
#ifdef SYS_pidfd_send_signal
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return errno == ESRCH ? 0 : 1;
#else
	(void)pidfd;
#endif
	return 1;
}

static const struct {
	const char *name;
	int type;
} nsinfo[RT_NS_N] = {
	{ "cgroup", CLONE_NEWCGROUP },
	{ "ipc", CLONE_NEWIPC },
	{ "uts", CLONE_NEWUTS },
	{ "net", CLONE_NEWNET },
	{ "pid", CLONE_NEWPID },
	{ "mnt", CLONE_NEWNS },
};

void rt_ns_close(struct rt_ns_set *ns)
{
	int i;

	for (i = 0; i < RT_NS_N; i++) {
		if (ns->fd[i] >= 0)
			close(ns->fd[i]);
		ns->fd[i] = -1;
	}
}

int rt_ns_open(pid_t pid, int pidfd, struct rt_ns_set *ns, struct rt_err *e)
{
	char path[64];
	int i;

	for (i = 0; i < RT_NS_N; i++)
		ns->fd[i] = -1;
	for (i = 0; i < RT_NS_N; i++) {
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, nsinfo[i].name);
		ns->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (ns->fd[i] < 0 && errno == ENOENT && i == RT_NS_CGROUP) {
			/* A kernel without cgroup namespaces (but the
			 * process must exist: the others will tell). */
			continue;
		}
		if (ns->fd[i] < 0) {
			rt_err_sys(e, "open %s namespace of %d", nsinfo[i].name, (int)pid);
			rt_ns_close(ns);
			if (e->errnum == ENOENT)
				e->errnum = ESRCH;
			return -1;
		}
	}
	if (pidfd >= 0 && !rt_ns_alive(pidfd)) {
		rt_ns_close(ns);
		return rt_err_set(e, ESRCH, "container is not running");
	}
	return 0;
}

int rt_ns_enter(struct rt_ns_set *ns, struct rt_err *e)
{
	int i;

	for (i = 0; i < RT_NS_N; i++) {
		if (ns->fd[i] < 0)
			continue;
		if (setns(ns->fd[i], nsinfo[i].type) < 0) {
			rt_err_sys(e, "join %s namespace", nsinfo[i].name);
			rt_ns_close(ns);
			return -1;
		}
		close(ns->fd[i]);
		ns->fd[i] = -1;
	}
	return 0;
}

int rt_ns_hostname(const char *name, struct rt_err *e)
{
	if (sethostname(name, strlen(name)) < 0)
		return rt_err_sys(e, "sethostname %s", name);
	return 0;
}

int rt_ns_loopback_up(struct rt_err *e)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return rt_err_sys(e, "loopback: socket");
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		rt_err_sys(e, "loopback: get flags");
		close(fd);
		return -1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		rt_err_sys(e, "loopback: set up");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
