/* Spawn and exec: the order of the steps between fork and exec, the
 * child-to-parent error channel, fd hygiene and the container's init.
 *
 * rt's code that runs inside a container (the spawned child up to its
 * exec, the init that stays as PID 1, the `rt exec` process up to its
 * exec) is a fork of the supervisor, never an exec of rt's binary: there
 * is no /proc/self/exe re-exec to hijack (CVE-2019-5736), and no fd to
 * rt's binary is ever open. Those processes are made non-dumpable first,
 * so a container process cannot ptrace them, read their memory or open
 * their /proc/<pid>/exe. One way remains: the final exec of a container
 * file that starts "#!/proc/self/exe" makes the kernel run the exec'ing
 * process's own binary, inside the container, as a process the
 * container can inspect. rt_sandbox_seal_exe() makes that binary a
 * sealed in-memory copy, never the file on the host.
 *
 * CAP_SYS_PTRACE (in the host's user namespace, where a container's root
 * is) overrides exactly that check, so it is never given: with it the
 * container could attach to its init, or to an `rt exec` process between
 * fork and exec, read a copy of the supervisor's memory (every other
 * container's configuration and environment) and open rt's binary through
 * /proc/<pid>/exe (with the check lifted, a container with SYS_PTRACE and
 * --init found another container's -e value in its PID 1's memory).
 * Docker offers SYS_PTRACE because what it puts in a container (runc's
 * init, docker-init) is a fresh exec holding nothing of the daemon.
 * Making those processes fresh images here too (an exec of a small init
 * from a sealed memfd) would close it, at the price
 * of a second binary per architecture and an exec on every start; until
 * then, --cap-add SYS_PTRACE (and ALL) fails with a one-line reason.
 *
 * Every fd but 0-2 is closed before anything of the container is
 * touched, and the working directory is opened beneath the new root and
 * refused on procfs (CVE-2024-21626). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include "caps.h"
#include "io.h"
#include "kconfig.h"
#include "mount.h"
#include "ns.h"
#include "sandbox.h"
#include "user.h"
#ifdef CONFIG_CGROUPS
#include "cgroup.h"
#endif
#ifdef CONFIG_TTY
#include "pty.h"
#endif

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define EXIT_SETUP 125
#define EXIT_CANNOT 126
#define EXIT_NOTFOUND 127
#define MAX_EXTRA_FDS 4
#define EXEC_PATH_MAX 4096

static int compat;

void rt_sandbox_force_fallbacks(int on)
{
	compat = on;
}

/* --- the channel ---------------------------------------------------------- */

enum { MSG_ERR = 1, MSG_PTY, MSG_PID };

struct msg {
	int32_t type, errnum, val;
	char text[RT_ERR_MSG];
};

static void send_msg(int sock, int type, int errnum, int val, const char *text, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msg m;
	struct iovec iov = { &m, sizeof m };
	struct msghdr mh;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.errnum = errnum;
	m.val = val;
	if (text)
		snprintf(m.text, sizeof m.text, "%s", text);
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&u, 0, sizeof u);
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof u.buf;
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof fd);
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static __attribute__((noreturn)) void child_fail(int sock, const struct rt_err *e, int code)
{
	send_msg(sock, MSG_ERR, e->errnum, 0, e->msg, -1);
	_exit(code);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One message (1), end of stream (0), or an error (-1). */
static int recv_msg(int sock, int64_t deadline, struct msg *m, int *fd, struct rt_err *e)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { m, sizeof *m };
	struct msghdr mh;
	struct cmsghdr *c;
	struct pollfd p = { sock, POLLIN, 0 };
	ssize_t n;

	*fd = -1;
	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return rt_err_set(e, ETIMEDOUT, "container setup timed out");
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return rt_err_sys(e, "poll");
		if (r > 0)
			break;
	}
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof u.buf;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rt_err_sys(e, "read from container setup");
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof *fd);
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof *m) {
		if (*fd >= 0)
			close(*fd);
		return rt_err_set(e, EPROTO, "short message from container setup");
	}
	m->text[sizeof m->text - 1] = '\0';
	return 1;
}

/* --- fds -------------------------------------------------------------------- */

struct dirent64_ {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int close_from(int low, struct rt_err *e)
{
	char buf[2048];
	long n;
	int d;

#ifdef SYS_close_range
	if (!compat && syscall(SYS_close_range, (unsigned)low, ~0u, 0) == 0)
		return 0;
#endif
	d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0) {
		struct rlimit rl;
		long fd, max = 65536;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < (rlim_t)max)
			max = (long)rl.rlim_cur;
		for (fd = low; fd < max; fd++)
			close((int)fd);
		return 0;
	}
	while ((n = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0) {
		long off = 0;

		while (off < n) {
			struct dirent64_ *de = (struct dirent64_ *)(buf + off);
			char *end;
			long fd = strtol(de->name, &end, 10);

			if (*end == '\0' && end != de->name && fd >= low && fd != d)
				close((int)fd);
			off += de->reclen;
		}
	}
	close(d);
	if (n < 0)
		return rt_err_sys(e, "list open fds");
	return 0;
}

/* stdio to 0-2 (-1: /dev/null), the channel to 3, extra[] to 4...; every
 * other fd closed. Two steps, so no source is overwritten before it is
 * copied, whatever numbers the caller's fds have. */
static int setup_fds(const int in[3], int *sock, int *extra, int nextra, struct rt_err *e)
{
	int src[4 + MAX_EXTRA_FDS], tmp[4 + MAX_EXTRA_FDS], n = 0, i, hi = 3 + nextra;

	for (i = 0; i < 3; i++) {
		src[n] = in[i] >= 0 ? in[i] : open("/dev/null", O_RDWR | O_CLOEXEC);
		if (src[n] < 0)
			return rt_err_sys(e, "open /dev/null");
		n++;
	}
	src[n++] = *sock;
	for (i = 0; i < nextra; i++)
		src[n++] = extra[i];
	for (i = 0; i < n; i++)
		if (src[i] > hi)
			hi = src[i];
	for (i = 0; i < n; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, hi + 1);
		if (tmp[i] < 0)
			return rt_err_sys(e, "dup fd %d", src[i]);
	}
	for (i = 0; i < n; i++) {
		if (dup3(tmp[i], i, i < 3 ? 0 : O_CLOEXEC) < 0)
			return rt_err_sys(e, "dup fd %d", src[i]);
	}
	*sock = 3;
	for (i = 0; i < nextra; i++)
		extra[i] = 4 + i;
	return close_from(4 + nextra, e);
}

/* After pivot_root or setns: -1 slots get the container's own /dev/null
 * instead of the host's placeholder. */
static int own_devnull(const int in[3], struct rt_err *e)
{
	int i, fd = -1;

	for (i = 0; i < 3; i++) {
		if (in[i] >= 0)
			continue;
		if (fd < 0 && (fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return rt_err_sys(e, "open /dev/null");
		if (dup2(fd, i) < 0)
			return rt_err_sys(e, "dup /dev/null");
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* --- the process ------------------------------------------------------------- */

struct proc_env {
	char *envp[RT_SANDBOX_MAX_ENV + 3];
	char home[sizeof "HOME=" + sizeof ((struct rt_user *)0)->home];
	char path[sizeof "PATH=" DEFAULT_PATH];
};

/* The given environment, plus Docker's HOME (from /etc/passwd) and PATH
 * when it lacks them. */
static void make_env(struct proc_env *pe, char *const *env, const struct rt_user *u)
{
	int i, n = 0, has_home = 0, has_path = 0;

	for (i = 0; i < RT_SANDBOX_MAX_ENV && env[i]; i++) {
		has_home |= strncmp(env[i], "HOME=", 5) == 0;
		has_path |= strncmp(env[i], "PATH=", 5) == 0;
		pe->envp[n++] = env[i];
	}
	if (!has_path) {
		snprintf(pe->path, sizeof pe->path, "PATH=%s", DEFAULT_PATH);
		pe->envp[n++] = pe->path;
	}
	if (!has_home) {
		snprintf(pe->home, sizeof pe->home, "HOME=%s", u->home);
		pe->envp[n++] = pe->home;
	}
	pe->envp[n] = NULL;
}

static void reset_signals(void)
{
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* execvpe() with the PATH of the container's environment (libc's looks
 * at the caller's), and Docker's exit codes when it fails. */
static __attribute__((noreturn)) void exec_cmd(int sock, char *const *argv, char *const *envp)
{
	const char *path = DEFAULT_PATH, *p;
	char buf[EXEC_PATH_MAX];
	struct rt_err e;
	int i, err = ENOENT, eacces = 0;

	reset_signals();
	for (i = 0; envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			path = envp[i] + 5;
	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		err = errno;
	} else {
		for (p = path;; p++) {
			size_t n = strcspn(p, ":");
			int len = snprintf(buf, sizeof buf, "%.*s%s%s", (int)n, p, n ? "/" : "", argv[0]);

			if (len > 0 && (size_t)len < sizeof buf) {
				execve(buf, argv, envp);
				err = errno;
				if (err == EACCES)
					eacces = 1;
				else if (err != ENOENT && err != ENOTDIR && err != ELOOP &&
					 err != ENAMETOOLONG)
					break;
			}
			p += n;
			if (!*p)
				break;
		}
		if (eacces && (err == ENOENT || err == ENOTDIR))
			err = EACCES;
	}
	if (err == ENOENT && !strchr(argv[0], '/'))
		rt_err_set(&e, err, "exec %.200s: executable file not found in $PATH", argv[0]);
	else
		rt_err_set(&e, err, "exec %.200s", argv[0]);
	child_fail(sock, &e, err == ENOENT ? EXIT_NOTFOUND : EXIT_CANNOT);
}

static int set_rlimits(const struct rt_sandbox_spec *s, struct rt_err *e)
{
	int i;

	for (i = 0; i < s->nrlimits; i++) {
		const struct rt_rlimit *l = &s->rlimits[i];
		struct rlimit r;

		r.rlim_cur = l->soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)l->soft;
		r.rlim_max = l->hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t)l->hard;
		if ((uint64_t)r.rlim_cur != l->soft && l->soft != UINT64_MAX)
			return rt_err_set(e, EINVAL, "rlimit %d: too large", l->resource);
		if ((uint64_t)r.rlim_max != l->hard && l->hard != UINT64_MAX)
			return rt_err_set(e, EINVAL, "rlimit %d: too large", l->resource);
		if (setrlimit(l->resource, &r) < 0)
			return rt_err_sys(e, "setrlimit %d", l->resource);
	}
	return 0;
}

/* Enter the working directory as the final user (so its permissions
 * apply), then make sure it is reachable from the root: a directory
 * outside the container shows up as unreachable. */
static int enter_workdir(int wd, struct rt_err *e)
{
	char buf[EXEC_PATH_MAX];

	if (fchdir(wd) < 0)
		return rt_err_sys(e, "chdir workdir");
	if (!getcwd(buf, sizeof buf) || buf[0] != '/')
		return rt_err_set(e, EPERM, "workdir outside the container");
	return 0;
}

#ifdef CONFIG_TTY
/* A pty from the container's devpts: the master goes to the parent, the
 * slave becomes 0-2 (and, for the container's PID 1, /dev/console). */
static int make_tty(int sock, int console, struct rt_err *e)
{
	int m, s, i;

	if (rt_pty_open(&m, &s, e) < 0)
		return -1;
	if (console && rt_mount_console(s, e) < 0) {
		close(m);
		close(s);
		return -1;
	}
	send_msg(sock, MSG_PTY, 0, 0, NULL, m);
	close(m);
	for (i = 0; i < 3; i++)
		if (dup2(s, i) < 0) {
			close(s);
			return rt_err_sys(e, "dup tty");
		}
	close(s);
	return 0;
}
#endif

/* The container's PID 1 when asked for an init: the command runs as its
 * child; this process reaps every orphan, forwards every signal it can
 * catch to the command, and exits with the command's status. It holds no
 * capability and no fd but 0-2, and never touches a file. */
static __attribute__((noreturn)) void run_init(int sock, int tty, char *const *argv,
					      char *const *envp)
{
	sigset_t all;
	struct rt_err e;
	pid_t child;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	child = fork();
	if (child < 0) {
		rt_err_sys(&e, "fork");
		child_fail(sock, &e, EXIT_SETUP);
	}
	if (child == 0) {
		if (tty) {
			/* Signals are still blocked: no SIGTTOU here. */
			setpgid(0, 0);
			tcsetpgrp(0, getpid());
		}
		exec_cmd(sock, argv, envp);
	}
	close(sock);
	rt_caps_drop_all(&e);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si), st;
		pid_t w;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
			if (w != child)
				continue;
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		}
	}
}

/* The steps both paths share once inside the container's root: user,
 * working directory, limits, credentials. */
static int become(const struct rt_sandbox_spec *s, const char *user, const char *cwd,
		  char *const *env, struct proc_env *pe, int tty, struct rt_err *e)
{
	struct rt_user u;
	int root, wd, r;

	pe->envp[0] = NULL;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return rt_err_sys(e, "open /");
	r = rt_user_resolve(root, user, &u, e);
	close(root);
	if (r < 0)
		return -1;
	if (tty && fchown(0, (uid_t)u.uid, (gid_t)-1) < 0)
		return rt_err_sys(e, "chown tty");
	wd = rt_mount_workdir(cwd, e);
	if (wd < 0)
		return -1;
	make_env(pe, env, &u);
	if (set_rlimits(s, e) < 0 ||
	    rt_caps_become(&u, rt_caps_set(s->cap_add, s->cap_drop), e) < 0 ||
	    enter_workdir(wd, e) < 0) {
		close(wd);
		return -1;
	}
	close(wd);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rt_err_sys(e, "no_new_privs");
	return 0;
}

static __attribute__((noreturn)) void child_spawn(const struct rt_sandbox_spec *s,
						  const char *hostname, int sock,
						  int *cg, int ncg, int in_cgroup)
{
	struct proc_env pe;
	const int none[3] = { -1, -1, -1 };
	const int *in = s->tty ? none : s->stdio;
	struct rt_cgroup_view view;
	struct rt_err e;

	rt_err_clear(&e);
	memset(&view, 0, sizeof view);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(022);
	/* Before setup_fds closes it: the network namespace net.c made. */
	if (s->net == RT_NET_BRIDGE && setns(s->netns_fd, CLONE_NEWNET) < 0) {
		rt_err_sys(&e, "join the network namespace");
		child_fail(sock, &e, EXIT_SETUP);
	}
	if (setup_fds(in, &sock, cg, ncg, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
#ifdef CONFIG_CGROUPS
	if ((!in_cgroup && rt_cgroup_join(cg, ncg, &e) < 0) || rt_cgroup_view(s->id, &view, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
#else
	(void)in_cgroup;
#endif
	while (ncg > 0)
		close(cg[--ncg]);
	/* After the join, so the namespace's root is the container's cgroup.
	 * Kernels before 4.6 have no cgroup namespace: the container then
	 * gets no /sys/fs/cgroup, which would show the host's whole tree. */
	if (unshare(CLONE_NEWCGROUP) < 0) {
		if (errno != EINVAL) {
			rt_err_sys(&e, "unshare cgroup namespace");
			child_fail(sock, &e, EXIT_SETUP);
		}
		memset(&view, 0, sizeof view);
	}
	if (rt_ns_hostname(hostname, &e) < 0 ||
	    (s->net != RT_NET_HOST && rt_ns_loopback_up(&e) < 0) ||
	    rt_mount_rootfs(s, &view, &e) < 0 || own_devnull(in, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
	if (setsid() < 0) {
		rt_err_sys(&e, "setsid");
		child_fail(sock, &e, EXIT_SETUP);
	}
#ifdef CONFIG_TTY
	if (s->tty && (make_tty(sock, 1, &e) < 0 || rt_pty_make_controlling(0, &e) < 0))
		child_fail(sock, &e, EXIT_SETUP);
#endif
	if (become(s, s->user, s->cwd, s->env, &pe, s->tty, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
	if (s->init)
		run_init(sock, s->tty, s->argv, pe.envp);
	exec_cmd(sock, s->argv, pe.envp);
}

/* --- checks ----------------------------------------------------------------- */

static int count(char *const *v, int max)
{
	int n = 0;

	while (n <= max && v[n])
		n++;
	return n;
}

/* The caller's stdio fds go into the container as they are, and a
 * process there can reopen each one through /proc/self/fd/N with any
 * access its credentials allow, reaching the very inode: a directory or
 * an O_PATH fd would hand it the host's tree (CVE-2024-21626's pattern),
 * a block device or /dev/mem the host's disks or memory. Those are
 * refused; pipes, sockets, terminals, /dev/null and its kin (null, zero,
 * full, random, urandom) and regular files pass. */
static int check_stdio(int fd, int i, struct rt_err *e)
{
	static const char *const name[3] = { "stdin", "stdout", "stderr" };
	struct stat st;
	int fl = fcntl(fd, F_GETFL);
	const char *bad = NULL;

	if (fl < 0 || fstat(fd, &st) < 0)
		return rt_err_sys(e, "%s (fd %d)", name[i], fd);
	if (fl & O_PATH)
		bad = "an O_PATH fd";
	else if (S_ISDIR(st.st_mode))
		bad = "a directory";
	else if (S_ISBLK(st.st_mode))
		bad = "a block device";
	else if (S_ISCHR(st.st_mode) && !isatty(fd) &&
		 (major(st.st_rdev) != 1 || (minor(st.st_rdev) != 3 && minor(st.st_rdev) != 5 &&
					     minor(st.st_rdev) != 7 && minor(st.st_rdev) != 8 &&
					     minor(st.st_rdev) != 9)))
		bad = "a device other than a terminal or /dev/null";
	if (bad)
		return rt_err_set(e, EPERM, "%s is %s: refused", name[i], bad);
	return 0;
}

static int check_proc(char *const *argv, char *const *env, const int stdio[3], int tty,
		      struct rt_err *e)
{
	int i;

	if (!argv[0] || !argv[0][0])
		return rt_err_set(e, EINVAL, "no command");
	if (count(argv, RT_SANDBOX_MAX_ARGS) > RT_SANDBOX_MAX_ARGS)
		return rt_err_set(e, E2BIG, "more than %d arguments", RT_SANDBOX_MAX_ARGS);
	if (count(env, RT_SANDBOX_MAX_ENV) > RT_SANDBOX_MAX_ENV)
		return rt_err_set(e, E2BIG, "more than %d environment entries", RT_SANDBOX_MAX_ENV);
	if (tty && !IS_ENABLED(CONFIG_TTY))
		return rt_err_set(e, ENOTSUP, "terminals are not built in");
	for (i = 0; !tty && i < 3; i++)
		if (stdio[i] >= 0 && check_stdio(stdio[i], i, e) < 0)
			return -1;
	return 0;
}

/* A bridge container joins the namespace net.c made and configured. */
static int is_netns(int fd)
{
#ifdef NS_GET_NSTYPE
	return fd >= 0 && ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
#else
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0;
#endif
}

#define CAP_PTRACE 19   /* CAP_SYS_PTRACE */

static int check_caps(const struct rt_sandbox_spec *s, struct rt_err *e)
{
	if (rt_caps_set(s->cap_add, s->cap_drop) & (1ull << CAP_PTRACE))
		return rt_err_set(e, EPERM, "capability SYS_PTRACE is not offered: the container "
				  "could trace rt's own processes in it (its init, a command joining "
				  "it before that command runs) and read the supervisor's memory, other "
				  "containers' configuration and environment among it");
	return 0;
}

static int check_spec(const struct rt_sandbox_spec *s, struct rt_err *e)
{
	int i;

	if (!s->id || !*s->id || strchr(s->id, '/'))
		return rt_err_set(e, EINVAL, "bad container id");
	if (!s->statedir || s->statedir[0] != '/')
		return rt_err_set(e, EINVAL, "state dir must be an absolute path");
	if (s->nlayers < 1 || s->nlayers > RT_SANDBOX_MAX_LAYERS)
		return rt_err_set(e, EINVAL, "%d layers (1 to %d)", s->nlayers, RT_SANDBOX_MAX_LAYERS);
	for (i = 0; i < s->nlayers; i++)
		if (!s->layers[i] || s->layers[i][0] != '/')
			return rt_err_set(e, EINVAL, "layer %d: not an absolute path", i);
	if (s->nmounts < 0 || s->nmounts > RT_SANDBOX_MAX_MOUNTS)
		return rt_err_set(e, EINVAL, "%d mounts (at most %d)", s->nmounts, RT_SANDBOX_MAX_MOUNTS);
	for (i = 0; i < s->nmounts; i++)
		if (!s->mounts[i].dest || s->mounts[i].dest[0] != '/' ||
		    (s->mounts[i].kind == RT_MOUNT_BIND && !s->mounts[i].source))
			return rt_err_set(e, EINVAL, "mount %d: needs a source and an absolute destination", i);
	if (s->nrlimits < 0 || s->nrlimits > RT_SANDBOX_MAX_RLIMITS)
		return rt_err_set(e, EINVAL, "%d rlimits (at most %d)", s->nrlimits, RT_SANDBOX_MAX_RLIMITS);
	if (s->net == RT_NET_BRIDGE && !is_netns(s->netns_fd))
		return rt_err_set(e, EINVAL, "bridge network: no network namespace to join");
	if (s->net != RT_NET_NONE && s->net != RT_NET_HOST && s->net != RT_NET_BRIDGE)
		return rt_err_set(e, EINVAL, "bad network mode");
	if (!IS_ENABLED(CONFIG_CGROUPS) && (s->memory_bytes || s->pids_max || s->cpu_millis))
		return rt_err_set(e, ENOTSUP, "resource limits: cgroups are not built in");
	if (check_caps(s, e) < 0)
		return -1;
	return check_proc(s->argv, s->env, s->stdio, s->tty, e);
}

static const char *hostname_of(const struct rt_sandbox_spec *s, char *buf, size_t len)
{
	const char *h = s->hostname ? s->hostname : s->name;

	if (!h || !*h) {
		snprintf(buf, len, "%.12s", s->id);
		h = buf;
	}
	return h;
}

/* Read the child's messages until it execs (end of stream) or fails. */
static int await(int sock, struct rt_sandbox_proc *p, pid_t *helper_child, struct rt_err *e)
{
	int64_t deadline = now_ms() + RT_SANDBOX_TIMEOUT_MS;
	struct msg m;
	int fd, r;

	memset(&m, 0, sizeof m);
	for (;;) {
		r = recv_msg(sock, deadline, &m, &fd, e);
		if (r <= 0)
			return r;
		switch (m.type) {
		case MSG_ERR:
			if (fd >= 0)
				close(fd);
			return rt_err_set(e, m.errnum, "%s", m.text);
		case MSG_PTY:
			if (p->pty >= 0)
				close(p->pty);
			p->pty = fd;
			break;
		case MSG_PID:
			if (fd >= 0)
				close(fd);
			if (helper_child)
				*helper_child = m.val;
			break;
		default:
			if (fd >= 0)
				close(fd);
			return rt_err_set(e, EPROTO, "bad message from container setup");
		}
	}
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* --- the interface ---------------------------------------------------------------- */

int rt_sandbox_spawn(const struct rt_sandbox_spec *s, struct rt_sandbox_proc *p,
		     struct rt_err *e)
{
	int sv[2], cg[MAX_EXTRA_FDS], ncg = 0, cgdir = -1, in_cgroup, pidfd = -1;
	char hbuf[16];
	const char *hostname;
	unsigned long flags;
	pid_t pid;

	p->pid = -1;
	p->pidfd = p->pty = -1;
	if (check_spec(s, e) < 0)
		return rt_err_wrap(e, "sandbox");
	hostname = hostname_of(s, hbuf, sizeof hbuf);
	if (strlen(hostname) > 64)
		return rt_err_set(e, EINVAL, "sandbox: hostname longer than 64 bytes");
	if (rt_mount_prepare(s, hostname, e) < 0)
		return rt_err_wrap(e, "sandbox");
#ifdef CONFIG_CGROUPS
	{
		struct rt_cgroup_limits l = { s->memory_bytes, s->pids_max, s->cpu_millis };

		if (rt_cgroup_create(s->id, &l, cg, &ncg, &cgdir, e) < 0)
			return rt_err_wrap(e, "sandbox");
	}
#endif
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rt_err_sys(e, "sandbox: socketpair");
		goto fail_cg;
	}
	flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	if (s->net == RT_NET_NONE)
		flags |= CLONE_NEWNET;
	pid = rt_ns_clone(flags, compat, cgdir, &in_cgroup, &pidfd, e);
	if (pid == 0) {
		close(sv[0]);
		if (cgdir >= 0)
			close(cgdir);
		child_spawn(s, hostname, sv[1], cg, ncg, in_cgroup);
	}
	close(sv[1]);
	while (ncg > 0)
		close(cg[--ncg]);
	if (cgdir >= 0)
		close(cgdir);
	if (pid < 0) {
		close(sv[0]);
		return rt_err_wrap(e, "sandbox");
	}
	p->pid = pid;
	if (await(sv[0], p, NULL, e) < 0) {
		close(sv[0]);
		kill(pid, SIGKILL);
		reap(pid);
		if (pidfd >= 0)
			close(pidfd);
		if (p->pty >= 0)
			close(p->pty);
		p->pid = -1;
		p->pty = -1;
		return rt_err_wrap(e, "sandbox");
	}
	close(sv[0]);
	p->pidfd = pidfd >= 0 ? pidfd : rt_ns_pidfd(pid, compat);
	return 0;
fail_cg:
	while (ncg > 0)
		close(cg[--ncg]);
	if (cgdir >= 0)
		close(cgdir);
	return -1;
}

#ifdef CONFIG_EXEC
static __attribute__((noreturn)) void child_exec(const struct rt_sandbox_spec *s,
						 const struct rt_sandbox_proc *ctr,
						 const struct rt_sandbox_exec *x, int sock,
						 int *extra, int nextra, int ncg)
{
	struct proc_env pe;
	const int none[3] = { -1, -1, -1 };
	const int *in = x->tty ? none : x->stdio;
	struct rt_ns_set ns;
	struct rt_err e;
	pid_t pid;

	rt_err_clear(&e);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(022);
	if (setup_fds(in, &sock, extra, nextra, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
	/* extra: the cgroup fds, then the container's pidfd when there is
	 * one (checked after the namespaces are opened). */
	if (rt_ns_open(ctr->pid, nextra > ncg ? extra[ncg] : -1, &ns, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
#ifdef CONFIG_CGROUPS
	if (rt_cgroup_join(extra, ncg, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
#endif
	while (nextra > 0)
		close(extra[--nextra]);
	if (rt_ns_enter(&ns, &e) < 0 || own_devnull(in, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
#ifdef CONFIG_TTY
	if (x->tty && make_tty(sock, 0, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
#endif
	if (become(s, x->user, x->cwd, x->env, &pe, x->tty, &e) < 0)
		child_fail(sock, &e, EXIT_SETUP);
	/* This process is not in the container's PID namespace (setns only
	 * moves children); its sibling is, and is the caller's child. */
	pid = rt_ns_fork_sibling(&e);
	if (pid < 0)
		child_fail(sock, &e, EXIT_SETUP);
	if (pid == 0) {
		if (setsid() < 0) {
			rt_err_sys(&e, "setsid");
			child_fail(sock, &e, EXIT_SETUP);
		}
#ifdef CONFIG_TTY
		if (x->tty && rt_pty_make_controlling(0, &e) < 0)
			child_fail(sock, &e, EXIT_SETUP);
#endif
		exec_cmd(sock, x->argv, pe.envp);
	}
	send_msg(sock, MSG_PID, 0, (int32_t)pid, NULL, -1);
	_exit(0);
}

int rt_sandbox_exec_spawn(const struct rt_sandbox_spec *s,
			  const struct rt_sandbox_proc *ctr,
			  const struct rt_sandbox_exec *x,
			  struct rt_sandbox_proc *p, struct rt_err *e)
{
	int sv[2], extra[MAX_EXTRA_FDS], ncg = 0, nextra, r;
	pid_t helper, child = -1;

	p->pid = -1;
	p->pidfd = p->pty = -1;
	if (!s->id || ctr->pid <= 0)
		return rt_err_set(e, EINVAL, "exec: no container");
	if (s->nrlimits < 0 || s->nrlimits > RT_SANDBOX_MAX_RLIMITS)
		return rt_err_set(e, EINVAL, "exec: bad rlimits");
	if (check_caps(s, e) < 0 || check_proc(x->argv, x->env, x->stdio, x->tty, e) < 0)
		return rt_err_wrap(e, "exec");
#ifdef CONFIG_CGROUPS
	if (rt_cgroup_open(s->id, extra, &ncg, e) < 0)
		return rt_err_wrap(e, "exec");
#endif
	nextra = ncg;
	if (ctr->pidfd >= 0)
		extra[nextra++] = ctr->pidfd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rt_err_sys(e, "exec: socketpair");
		while (ncg > 0)
			close(extra[--ncg]);
		return -1;
	}
	helper = fork();
	if (helper == 0) {
		close(sv[0]);
		child_exec(s, ctr, x, sv[1], extra, nextra, ncg);
	}
	close(sv[1]);
	while (ncg > 0)
		close(extra[--ncg]);
	if (helper < 0) {
		close(sv[0]);
		return rt_err_sys(e, "exec: fork");
	}
	r = await(sv[0], p, &child, e);
	close(sv[0]);
	reap(helper);
	if (r == 0 && child <= 0)
		r = rt_err_set(e, EPROTO, "no process started");
	if (r < 0) {
		if (child > 0) {
			kill(child, SIGKILL);
			reap(child);
		}
		if (p->pty >= 0)
			close(p->pty);
		p->pty = -1;
		return rt_err_wrap(e, "exec");
	}
	p->pid = child;
	p->pidfd = rt_ns_pidfd(child, compat);
	return 0;
}
#else
int rt_sandbox_exec_spawn(const struct rt_sandbox_spec *s,
			  const struct rt_sandbox_proc *ctr,
			  const struct rt_sandbox_exec *x,
			  struct rt_sandbox_proc *p, struct rt_err *e)
{
	(void)s;
	(void)ctr;
	(void)x;
	p->pid = -1;
	p->pidfd = p->pty = -1;
	return rt_err_set(e, ENOTSUP, "exec: not built in");
}
#endif

int rt_sandbox_cleanup(const struct rt_sandbox_spec *s, struct rt_err *e)
{
	struct rt_err e2;
	int r = 0;

	/* Both halves are tried; the first error is the one returned. */
	if (s->statedir && rt_mount_cleanup(s->statedir, e) < 0)
		r = rt_err_wrap(e, "sandbox cleanup");
#ifdef CONFIG_CGROUPS
	if (s->id && rt_cgroup_remove(s->id, r < 0 ? &e2 : e) < 0 && r == 0)
		r = rt_err_wrap(e, "sandbox cleanup");
#else
	(void)e2;
#endif
	return r;
}

/* --- the sealed copy of rt's binary ------------------------------------------ */

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int is_sealed(int fd)
{
	int s = fcntl(fd, F_GET_SEALS);

	return s >= 0 && (s & SEALS) == SEALS;
}

int rt_sandbox_seal_exe(char *const argv[], char *const envp[], struct rt_err *e)
{
	char buf[16384], path[32];
	int self, mfd;
	ssize_t n;

	self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return rt_err_sys(e, "seal: open /proc/self/exe");
	if (is_sealed(self)) {
		close(self);
		return 0;
	}
	/* MFD_EXEC (6.3) where vm.memfd_noexec would refuse an exec. */
	mfd = (int)syscall(SYS_memfd_create, "rt", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = (int)syscall(SYS_memfd_create, "rt", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		rt_err_sys(e, "seal: memfd_create");
		close(self);
		return -1;
	}
	while ((n = read(self, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || rt_io_write_all(mfd, buf, (size_t)n, e) < 0) {
			if (n < 0)
				rt_err_sys(e, "seal: read /proc/self/exe");
			goto fail;
		}
	}
	/* Checked before the exec, so a copy that does not hold its seals
	 * can never exec itself again and again. */
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0 || !is_sealed(mfd)) {
		rt_err_sys(e, "seal: add seals");
		goto fail;
	}
	close(self);
	self = -1;
	syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
	if (errno == ENOSYS) {   /* before 3.19 */
		snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
		execve(path, argv, envp);
	}
	rt_err_sys(e, "seal: exec the sealed copy");
fail:
	if (self >= 0)
		close(self);
	close(mfd);
	return -1;
}

void rt_sandbox_probe(struct rt_sandbox_probe *p)
{
	int fd;

	memset(p, 0, sizeof p[0]);
#ifdef SYS_clone3
	p->clone3 = syscall(SYS_clone3, NULL, 0) < 0 && errno != ENOSYS;
#endif
	fd = rt_ns_pidfd(getpid(), 0);
	p->pidfd = fd >= 0;
	if (fd >= 0)
		close(fd);
#ifdef SYS_close_range
	p->close_range = syscall(SYS_close_range, ~0u, ~0u, 0) == 0 || errno != ENOSYS;
#endif
	p->overlay_redirect_dir = rt_mount_overlay_knows_nofollow();
	p->overlay_metacopy = rt_mount_overlay_knows_metacopy();
#ifdef CONFIG_CGROUPS
	p->cgroup = (int)rt_cgroup_mode();
#endif
}
