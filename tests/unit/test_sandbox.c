/* The container boundary, end to end: real containers from layers built
 * here out of busybox-static, in a private mount namespace (the host's
 * mount table is never touched). Needs root; skips otherwise. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kconfig.h"
#include "sandbox.h"
#include "tap.h"
#ifdef CONFIG_CGROUPS
#include "cgroup.h"
#endif

#define BUSYBOX "/bin/busybox"

static char top[256];          /* the test's temp dir (a private tmpfs) */
static char l_base[300], l_top[300], l_evproc[300], l_evdev[300], l_evvol[300];
static char l_evpw[300], l_evhosts[300], l_fcaps[300], hosttarget[300], voldir[300], volfile[300];
static char l_seed[300];
static int seq;

static const char *const applets[] = {
	"sh", "cat", "ls", "echo", "hostname", "id", "mkdir", "grep", "dd", "mknod",
	"touch", "readlink", "sleep", "head", "true", "false", "wc", "env", "pwd",
	"tty", "test", "printf", "sort", "tr", "stat", "cut", "rm", "ps",
};

/* --- building layers ---------------------------------------------------- */

static void die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

static void path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		die(fmt);
	}
}

static void mkd(const char *dir, const char *rel, mode_t mode)
{
	char p[512];

	path(p, sizeof p, "%s/%s", dir, rel);
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		die(p);
	chmod(p, mode);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	path(p, sizeof p, "%s/%s", dir, rel);
	f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die(p);
}

static void lnk(const char *dir, const char *rel, const char *target)
{
	char p[512];

	path(p, sizeof p, "%s/%s", dir, rel);
	if (symlink(target, p) < 0)
		die(p);
}

static void copy(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), out;

	if (in < 0)
		die(from);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		die(to);
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			die(to);
	close(in);
	close(out);
}

static void build_layers(void)
{
	char p[512];
	size_t i;

	path(l_base, sizeof l_base, "%s/layers/base", top);
	path(l_top, sizeof l_top, "%s/layers/top", top);
	path(l_evproc, sizeof l_evproc, "%s/layers/evproc", top);
	path(l_evdev, sizeof l_evdev, "%s/layers/evdev", top);
	path(l_evvol, sizeof l_evvol, "%s/layers/evvol", top);
	path(l_evpw, sizeof l_evpw, "%s/layers/evpw", top);
	path(hosttarget, sizeof hosttarget, "%s/hosttarget", top);
	path(voldir, sizeof voldir, "%s/vol", top);
	path(volfile, sizeof volfile, "%s/volfile", top);
	mkd(top, "layers", 0755);
	mkd(top, "run", 0700);
	mkd(top, "hosttarget", 0755);
	mkd(top, "vol", 0755);
	put(top, "vol/hello", "hello from the host\n");
	put(top, "volfile", "a file volume\n");

	/* base: busybox, users, no /proc /sys /dev (rt makes the mount
	 * points), a file and a directory the top layer hides. */
	mkdir(l_base, 0755);
	mkd(l_base, "bin", 0755);
	path(p, sizeof p, "%s/bin/busybox", l_base);
	copy(BUSYBOX, p, 0755);
	for (i = 0; i < sizeof applets / sizeof applets[0]; i++) {
		path(p, sizeof p, "bin/%s", applets[i]);
		lnk(l_base, p, "busybox");
	}
	mkd(l_base, "etc", 0755);
	put(l_base, "etc/passwd",
	    "root:x:0:0:root:/root:/bin/sh\n"
	    "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
	    "bob:x:1001:100::/home/bob:/bin/sh\n");
	put(l_base, "etc/group",
	    "root:x:0:\nusers:x:100:alice\nalice:x:1000:\nstaff:x:50:alice,bob\n");
	put(l_base, "etc/os-release", "NAME=testimage\n");
	put(l_base, "etc/removed", "must not be seen\n");
	mkd(l_base, "opq", 0755);
	put(l_base, "opq/a", "a\n");
	mkd(l_base, "tmp", 01777);
	mkd(l_base, "home", 0755);
	mkd(l_base, "home/alice", 0755);
	path(p, sizeof p, "%s/home/alice", l_base);
	if (chown(p, 1000, 1000) < 0)
		die(p);
	mkd(l_base, "root", 0700);

	/* top: a whiteout over etc/removed, an opaque opq/. */
	mkdir(l_top, 0755);
	mkd(l_top, "etc", 0755);
	path(p, sizeof p, "%s/etc/removed", l_top);
	if (mknod(p, S_IFCHR | 0000, makedev(0, 0)) < 0)
		die(p);
	mkd(l_top, "opq", 0755);
	path(p, sizeof p, "%s/opq", l_top);
	if (setxattr(p, "trusted.overlay.opaque", "y", 1, 0) < 0)
		die(p);
	put(l_top, "opq/b", "b\n");
	put(l_top, "etc/top", "top layer\n");

	/* hostile layers: /proc, /dev and a volume destination pointing at a
	 * host directory; /etc/passwd pointing at /etc/shadow. */
	mkdir(l_evproc, 0755);
	lnk(l_evproc, "proc", hosttarget);
	mkdir(l_evdev, 0755);
	path(p, sizeof p, "../../../../../../../../..%s", hosttarget);
	lnk(l_evdev, "dev", p);
	mkdir(l_evvol, 0755);
	lnk(l_evvol, "data", hosttarget);
	path(l_evhosts, sizeof l_evhosts, "%s/layers/evhosts", top);
	mkdir(l_evhosts, 0755);
	mkd(l_evhosts, "etc", 0755);
	path(p, sizeof p, "%s/hosts", hosttarget);
	lnk(l_evhosts, "etc/hosts", p);
	lnk(l_evhosts, "etc/resolv.conf", "../../../../../../../../etc/resolv.conf");

	/* Binaries with file capabilities, named grep so busybox runs its
	 * grep applet: capbin/ has cap_net_raw=ep (in Docker's set), capbig/
	 * cap_sys_admin=ep (outside it). */
	path(l_fcaps, sizeof l_fcaps, "%s/layers/fcaps", top);
	mkdir(l_fcaps, 0755);
	mkd(l_fcaps, "capbin", 0755);
	mkd(l_fcaps, "capbig", 0755);
	{
		uint32_t caps[5] = { 0x02000001, 1u << 13, 0, 0, 0 };

		path(p, sizeof p, "%s/capbin/grep", l_fcaps);
		copy(BUSYBOX, p, 0755);
		if (setxattr(p, "security.capability", caps, sizeof caps, 0) < 0)
			die("setxattr security.capability");
		caps[1] = 1u << 21;
		path(p, sizeof p, "%s/capbig/grep", l_fcaps);
		copy(BUSYBOX, p, 0755);
		if (setxattr(p, "security.capability", caps, sizeof caps, 0) < 0)
			die("setxattr security.capability");
	}

	/* seed: what a named volume at /seeded starts with. */
	path(l_seed, sizeof l_seed, "%s/layers/seed", top);
	mkdir(l_seed, 0755);
	mkd(l_seed, "seeded", 0750);
	mkd(l_seed, "seeded/sub", 0700);
	put(l_seed, "seeded/f", "from the image\n");
	put(l_seed, "seeded/sub/g", "deep\n");
	lnk(l_seed, "seeded/ln", "/etc/shadow");
	path(p, sizeof p, "%s/seeded/f", l_seed);
	if (chown(p, 1000, 1000) < 0 || chmod(p, 04755) < 0)
		die(p);
	path(p, sizeof p, "%s/seeded/fifo", l_seed);
	if (mkfifo(p, 0644) < 0)
		die(p);
	path(p, sizeof p, "%s/seeded/null", l_seed);
	if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) < 0)
		die(p);
	path(p, sizeof p, "%s/seeded", l_seed);
	if (chown(p, 1000, 1000) < 0)
		die(p);

	mkdir(l_evpw, 0755);
	mkd(l_evpw, "etc", 0755);
	lnk(l_evpw, "etc/passwd", "/etc/shadow");
	put(l_evpw, "etc/shadow", "eve:x:4242:4242::/:/bin/sh\n");
}

/* --- running containers -------------------------------------------------- */

struct run {
	struct rt_sandbox_spec s;
	char id[65], statedir[320];
	char out[16384];
	int status;
	struct rt_err e;
};

static void spec(struct run *r, const char *cmd)
{
	memset(r, 0, sizeof *r);
	seq++;
	/* The pid in the id: cgroups are shared with any other run. */
	snprintf(r->id, sizeof r->id, "%08x%056x", (unsigned)getpid(), seq);
	path(r->statedir, sizeof r->statedir, "%s/run/%d", top, seq);
	r->s.id = r->id;
	r->s.name = "box1";
	r->s.layers[0] = l_top;
	r->s.layers[1] = l_base;
	r->s.nlayers = 2;
	r->s.statedir = r->statedir;
	r->s.argv[0] = "sh";
	r->s.argv[1] = "-c";
	r->s.argv[2] = (char *)cmd;
	r->s.env[0] = "PATH=/bin";
	r->s.stdio[0] = r->s.stdio[1] = r->s.stdio[2] = -1;
	r->s.net = RT_NET_NONE;
}

static void read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t k;

	while (n < cap - 1 && ((k = read(fd, buf + n, cap - 1 - n)) > 0 || (k < 0 && errno == EINTR)))
		if (k > 0)
			n += (size_t)k;
	buf[n] = '\0';
}

/* Spawn, collect stdout+stderr until the container is gone, reap it.
 * Returns the spawn's result; r->status is the wait status. */
static int start(struct run *r, struct rt_sandbox_proc *p, int *outfd)
{
	int pipefd[2], rc;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die("pipe");
	r->s.stdio[1] = r->s.stdio[2] = pipefd[1];
	fflush(stdout);
	rc = rt_sandbox_spawn(&r->s, p, &r->e);
	close(pipefd[1]);
	*outfd = pipefd[0];
	if (rc < 0) {
		close(pipefd[0]);
		*outfd = -1;
	}
	return rc;
}

static int finish(struct run *r, struct rt_sandbox_proc *p, int outfd)
{
	read_all(outfd, r->out, sizeof r->out);
	close(outfd);
	while (waitpid(p->pid, &r->status, 0) < 0 && errno == EINTR)
		;
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->pty >= 0)
		close(p->pty);
	return 0;
}

static int run(struct run *r)
{
	struct rt_sandbox_proc p;
	int fd;

	r->status = -1;
	r->out[0] = '\0';
	if (start(r, &p, &fd) < 0)
		return -1;
	return finish(r, &p, fd);
}

static int cleanup(struct run *r)
{
	return rt_sandbox_cleanup(&r->s, &r->e);
}

static int exited(const struct run *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

static void diag(const struct run *r)
{
	char buf[512];

	if (r->e.msg[0])
		printf("#   error: %s\n", rt_err_str(&r->e, buf, sizeof buf));
	if (r->out[0])
		printf("#   output: %.600s\n", r->out);
}

/* Value of "Key:\t..." in a /proc/<pid>/status dump. */
static const char *field(const char *text, const char *key, char *buf, size_t len)
{
	const char *p = text;
	size_t kl = strlen(key);

	while ((p = strstr(p, key)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[kl] == ':') {
			size_t n;

			p += kl + 1;
			p += strspn(p, " \t");
			n = strcspn(p, "\n");
			if (n >= len)
				n = len - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return buf;
		}
		p += kl;
	}
	return "";
}

static int is_mountpoint(const char *p)
{
	struct stat a, b;
	char parent[512];

	path(parent, sizeof parent, "%s/..", p);
	return stat(p, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int dir_empty(const char *p)
{
	DIR *d = opendir(p);
	struct dirent *de;
	int entries = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(d);
	return entries == 0;
}

/* --- the tests ------------------------------------------------------------ */

/* Our own permitted set, from /proc/self/status. */
static uint64_t own_caps(void)
{
	char buf[4096], v[32];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoull(field(buf, "CapPrm", v, sizeof v), NULL, 16);
}

static void test_basics(void)
{
	struct run r;
	char buf[128];

	spec(&r, "exit 7");
	ok(run(&r) == 0 && exited(&r, 7), "exit status passes through");
	diag(&r);
	ok(cleanup(&r) == 0, "cleanup");

	spec(&r, "hostname; echo $$; cat /etc/os-release; cat /etc/hostname");
	r.s.hostname = "web-7";
	ok(run(&r) == 0 && exited(&r, 0), "runs a command");
	is_str(r.out, "web-7\n1\nNAME=testimage\nweb-7\n", "hostname, PID 1, image files, /etc/hostname");
	cleanup(&r);

	spec(&r, "ls /opq; cat /etc/top; test -e /etc/removed && echo LEAK || echo gone");
	run(&r);
	is_str(r.out, "b\ntop layer\ngone\n", "overlay: opaque dir, top layer, whiteout");
	cleanup(&r);

	spec(&r, "");
	r.s.argv[0] = "env";
	r.s.argv[1] = NULL;
	r.s.env[1] = "FOO=bar";
	run(&r);
	is_str(r.out, "PATH=/bin\nFOO=bar\nHOME=/root\n", "environment is exactly the spec's plus HOME");
	cleanup(&r);

	spec(&r, "");
	r.s.argv[0] = "/bin/env";
	r.s.argv[1] = NULL;
	r.s.env[0] = NULL;
	run(&r);
	is_str(r.out, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nHOME=/root\n",
	       "a default PATH when the environment has none");
	cleanup(&r);

	spec(&r, "ulimit -n");
	r.s.rlimits[0].resource = RLIMIT_NOFILE;
	r.s.rlimits[0].soft = 100;
	r.s.rlimits[0].hard = 200;
	r.s.nrlimits = 1;
	run(&r);
	is_str(r.out, "100\n", "rlimits");
	cleanup(&r);

	spec(&r, "cat /proc/self/status");
	run(&r);
	is_str(field(r.out, "CapEff", buf, sizeof buf), "00000000a80425fb", "CapEff is Docker's default");
	is_str(field(r.out, "CapPrm", buf, sizeof buf), "00000000a80425fb", "CapPrm is Docker's default");
	is_str(field(r.out, "CapBnd", buf, sizeof buf), "00000000a80425fb", "CapBnd is Docker's default");
	is_str(field(r.out, "CapInh", buf, sizeof buf), "0000000000000000", "CapInh empty");
	is_str(field(r.out, "CapAmb", buf, sizeof buf), "0000000000000000", "CapAmb empty");
	is_str(field(r.out, "NoNewPrivs", buf, sizeof buf), "1", "no_new_privs");
	cleanup(&r);

	spec(&r, "grep -E '^Cap(Eff|Bnd)' /proc/self/status");
	r.s.cap_drop = 1ull << 13;   /* NET_RAW */
	r.s.cap_add = 1ull << 25;    /* SYS_TIME */
	run(&r);
	is_str(r.out, "CapEff:\t00000000aa0405fb\nCapBnd:\t00000000aa0405fb\n", "cap_add and cap_drop");
	cleanup(&r);

	/* SYS_PTRACE would reach rt's own processes: refused, alone or in
	 * "ALL", unless dropped again. */
	spec(&r, "true");
	r.s.cap_add = 1ull << 19;
	ok(run(&r) < 0 && r.e.errnum == EPERM && strstr(r.e.msg, "SYS_PTRACE") && !strchr(r.e.msg, '\n'),
	   "cap_add SYS_PTRACE is refused with a one-line reason");
	diag(&r);
	r.s.cap_add = UINT64_MAX;
	ok(run(&r) < 0 && r.e.errnum == EPERM, "cap_add ALL is refused (it holds SYS_PTRACE)");
	r.s.cap_drop = 1ull << 19;
	if (run(&r) < 0)   /* this host may hold back a capability from us */
		ok(r.e.errnum == EPERM && strstr(r.e.msg, "rt itself does not hold"),
		   "ALL without SYS_PTRACE: a capability rt lacks is named");
	else
		ok(exited(&r, 0), "ALL without SYS_PTRACE runs");
	diag(&r);
	r.s.cap_add = own_caps() & ~(1ull << 19);
	ok(run(&r) == 0 && exited(&r, 0), "every capability rt holds, but SYS_PTRACE, runs");
	cleanup(&r);
}

static void test_fds(void)
{
	struct run r;
	int leak = open("/", O_RDONLY);   /* no O_CLOEXEC on purpose */

	spec(&r, "ls /proc/self/fd");
	run(&r);
	is_str(r.out, "0\n1\n2\n3\n", "only fds 0-2 (3 is ls's own)");
	cleanup(&r);

	rt_sandbox_force_fallbacks(1);
	{
		struct rt_sandbox_proc p;
		int fd;

		spec(&r, "ls /proc/self/fd; echo $$");
		if (start(&r, &p, &fd) == 0) {
			ok(p.pidfd == -1, "fallback path: clone without pidfd");
			finish(&r, &p, fd);
		} else {
			ok(0, "fallback path: spawn");
			diag(&r);
		}
		is_str(r.out, "0\n1\n2\n3\n1\n", "fallback path: fds closed without close_range");
		cleanup(&r);
	}
	rt_sandbox_force_fallbacks(0);

	/* stdio is the caller's, but a directory, an O_PATH fd or a raw
	 * device would open the host to the container through
	 * /proc/self/fd/0: refused. */
	spec(&r, "ls /proc/self/fd/0/ | head -1");
	r.s.stdio[0] = leak;
	ok(run(&r) < 0 && r.e.errnum == EPERM && strstr(r.e.msg, "stdin is a directory"),
	   "a directory as stdin is refused");
	diag(&r);
	close(leak);
	leak = open("/etc/hostname", O_PATH | O_CLOEXEC);
	r.s.stdio[0] = leak;
	ok(run(&r) < 0 && strstr(r.e.msg, "O_PATH"), "an O_PATH fd as stdin is refused");
	close(leak);
	leak = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	if (leak >= 0) {
		r.s.stdio[0] = leak;
		ok(run(&r) < 0 && strstr(r.e.msg, "a device"), "/dev/mem as stdin is refused");
		close(leak);
	} else {
		ok(1, "# SKIP no /dev/mem");
	}
	leak = open("/dev/null", O_RDONLY | O_CLOEXEC);
	spec(&r, "cat; echo done");
	r.s.stdio[0] = leak;
	ok(run(&r) == 0 && !strcmp(r.out, "done\n"), "/dev/null as stdin is fine");
	close(leak);
	cleanup(&r);
}

static void test_filesystems(void)
{
	struct run r;

	spec(&r, "cat /proc/self/mountinfo");
	run(&r);
	{
		char *line, *save = NULL;
		int procsys_ro = 0, sys_ro = 0, dev_nodev = 0, root_nodev = 0;

		for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char mp[256], opts[256];

			if (sscanf(line, "%*s %*s %*s %*s %255s %255s", mp, opts) != 2)
				continue;
			if (!strcmp(mp, "/proc/sys"))
				procsys_ro = !strncmp(opts, "ro,", 3);
			if (!strcmp(mp, "/sys"))
				sys_ro = !strncmp(opts, "ro,", 3);
			if (!strcmp(mp, "/dev"))
				dev_nodev = strstr(opts, "nodev") != NULL;
			if (!strcmp(mp, "/"))
				root_nodev = strstr(opts, "nodev") != NULL;
		}
		ok(procsys_ro, "/proc/sys mounted read-only");
		ok(sys_ro, "/sys mounted read-only");
		ok(dev_nodev, "/dev is nodev");
		ok(root_nodev, "the overlay rootfs is nodev");
	}
	cleanup(&r);

	spec(&r, "echo x 2>/dev/null > /proc/sys/kernel/hostname && echo WROTE || echo DENIED;"
		 "test -e /proc/sysrq-trigger || exit 0; echo 1 2>/dev/null > /proc/sysrq-trigger && echo WROTE || echo DENIED");
	run(&r);
	ok(!strcmp(r.out, "DENIED\n") || !strcmp(r.out, "DENIED\nDENIED\n"),
	   "writes to /proc/sys and /proc/sysrq-trigger fail");
	diag(&r);
	cleanup(&r);

	/* Which of these exist depends on the kernel's configuration. */
	spec(&r, "for f in kcore keys timer_list sched_debug latency_stats; do"
		 "  test -e /proc/$f && wc -c < /proc/$f; done;"
		 "for d in /sys/firmware /proc/acpi /proc/scsi /proc/asound; do"
		 "  test -d $d && ls $d | wc -l; done");
	run(&r);
	ok(strlen(r.out) > 0 && strspn(r.out, "0\n") == strlen(r.out), "masked paths are empty");
	diag(&r);
	cleanup(&r);
	spec(&r, "cat /proc/self/mountinfo");
	run(&r);
	ok(strstr(r.out, " /proc/keys ") && strstr(r.out, " /proc/timer_list ") &&
	   strstr(r.out, " /sys/firmware "), "masks are mounts");
	cleanup(&r);

	spec(&r, "ls /dev; echo hi > /dev/null && head -c 3 /dev/zero | wc -c;"
		 "readlink /dev/ptmx; readlink /dev/fd; test -c /dev/pts/ptmx && echo devpts");
	run(&r);
	{
		const char *want_mq = "fd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n";
		const char *want = "fd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n";

		ok(!strncmp(r.out, want_mq, strlen(want_mq)) || !strncmp(r.out, want, strlen(want)),
		   "/dev holds exactly rt's nodes");
		ok(strstr(r.out, "\n3\npts/ptmx\n/proc/self/fd\ndevpts\n") != NULL, "/dev nodes work, links, devpts");
		diag(&r);
	}
	cleanup(&r);

	/* CAP_MKNOD is in Docker's set: a node made in the container is
	 * useless (everything writable is nodev), in /tmp and in /dev. */
	spec(&r, "mknod /tmp/n c 1 3 && (echo x 2>/dev/null > /tmp/n && echo OPENED || echo BLOCKED);"
		 "mknod /dev/n2 c 1 3 && (echo x 2>/dev/null > /dev/n2 && echo OPENED || echo BLOCKED)");
	run(&r);
	is_str(r.out, "BLOCKED\nBLOCKED\n", "device nodes made in the container cannot be opened");
	diag(&r);
	cleanup(&r);

	spec(&r, "ls /sys/class/net; cat /sys/class/net/lo/flags");
	run(&r);
	is_str(r.out, "lo\n0x9\n", "network none: only lo, and it is up");
	cleanup(&r);

	spec(&r, "ls /sys/class/net | wc -l");
	r.s.net = RT_NET_HOST;
	run(&r);
	ok(atoi(r.out) > 1, "network host: the host's interfaces");
	cleanup(&r);
}

static void test_users(void)
{
	struct run r;
	char buf[128];

	spec(&r, "id -u; id -g; id -G; echo $HOME; grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status");
	r.s.user = "alice";
	run(&r);
	ok(!strncmp(r.out, "1000\n1000\n", 10), "user by name from the image's /etc/passwd");
	ok(strstr(r.out, " 100") && strstr(r.out, " 50"), "supplementary groups from /etc/group");
	ok(strstr(r.out, "/home/alice\n") != NULL, "HOME from /etc/passwd");
	is_str(field(strstr(r.out, "Cap") ? strstr(r.out, "Cap") : "", "CapEff", buf, sizeof buf),
	       "0000000000000000", "a non-root user has no effective capabilities");
	is_str(field(strstr(r.out, "Cap") ? strstr(r.out, "Cap") : "", "CapBnd", buf, sizeof buf),
	       "00000000a80425fb", "...but the same bounding set");
	diag(&r);
	cleanup(&r);

	spec(&r, "id -u; id -g");
	r.s.user = "1001:50";
	run(&r);
	is_str(r.out, "1001\n50\n", "numeric uid:gid");
	cleanup(&r);

	spec(&r, "id -u; id -g");
	r.s.user = "4321";
	run(&r);
	is_str(r.out, "4321\n0\n", "numeric uid without an entry");
	cleanup(&r);

	spec(&r, "true");
	r.s.user = "nobody";
	ok(run(&r) < 0 && r.e.errnum == ENOENT && strstr(r.e.msg, "nobody"),
	   "unknown user name: the start fails");
	diag(&r);
	cleanup(&r);

	/* /etc/passwd -> /etc/shadow resolves inside the image. */
	spec(&r, "id -u");
	r.s.layers[0] = l_evpw;
	r.s.layers[1] = l_top;
	r.s.layers[2] = l_base;
	r.s.nlayers = 3;
	r.s.user = "eve";
	run(&r);
	is_str(r.out, "4242\n", "a symlinked /etc/passwd resolves in the container, not the host");
	cleanup(&r);

	spec(&r, "pwd; touch x && echo wrote");
	r.s.user = "alice";
	r.s.cwd = "/home/alice";
	run(&r);
	is_str(r.out, "/home/alice\nwrote\n", "workdir");
	cleanup(&r);

	spec(&r, "pwd");
	r.s.cwd = "/new/sub/dir";
	run(&r);
	is_str(r.out, "/new/sub/dir\n", "a missing workdir is created");
	cleanup(&r);

	spec(&r, "pwd");
	r.s.cwd = "/proc/self/fd/3";
	ok(run(&r) < 0, "workdir through /proc/self/fd is refused");
	diag(&r);
	cleanup(&r);

	spec(&r, "pwd");
	r.s.cwd = "/proc";
	ok(run(&r) < 0 && strstr(r.e.msg, "/proc"), "workdir on procfs is refused");
	cleanup(&r);
}

static void test_errors(void)
{
	struct run r;
	char buf[512];

	spec(&r, "");
	r.s.argv[0] = "/nonexistent";
	r.s.argv[1] = NULL;
	run(&r);
	ok(r.status == -1 && r.e.errnum == ENOENT && !strncmp(r.e.msg, "sandbox: exec /nonexistent", 26),
	   "exec error comes back as an error: %s", rt_err_str(&r.e, buf, sizeof buf));
	cleanup(&r);

	spec(&r, "");
	r.s.argv[0] = "no-such-cmd";
	r.s.argv[1] = NULL;
	ok(run(&r) < 0 && r.e.errnum == ENOENT && strstr(r.e.msg, "not found in $PATH"),
	   "PATH lookup in the container's environment");
	cleanup(&r);

	spec(&r, "true");
	r.s.layers[0] = "/nonexistent-layer";
	run(&r);
	ok(r.status == -1 && strstr(r.e.msg, "sandbox: open layer /nonexistent-layer"),
	   "a missing layer: %s", rt_err_str(&r.e, buf, sizeof buf));
	cleanup(&r);

	spec(&r, "true");
	r.s.net = RT_NET_BRIDGE;
	r.s.netns_fd = -1;
	ok(run(&r) < 0 && r.e.errnum == EINVAL, "bridge network without a namespace is refused");
	cleanup(&r);
	{
		/* The namespace net.c would make: the container must join it,
		   and see the hosts and resolv.conf texts it was given. */
		int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ns = -1;
		struct stat st;
		char want[128];

		if (self >= 0 && unshare(CLONE_NEWNET) == 0) {
			ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
			if (setns(self, CLONE_NEWNET) < 0)
				die("setns back");
		}
		if (self >= 0)
			close(self);
		if (ns >= 0 && fstat(ns, &st) == 0) {
			spec(&r, "readlink /proc/self/ns/net; cat /etc/hosts /etc/resolv.conf");
			r.s.net = RT_NET_BRIDGE;
			r.s.netns_fd = ns;
			r.s.etc_hosts = "10.9.8.7\tpeer\n";
			r.s.etc_resolv = "nameserver 10.9.8.1\n";
			snprintf(want, sizeof want, "net:[%lu]\n10.9.8.7\tpeer\nnameserver 10.9.8.1\n",
				 (unsigned long)st.st_ino);
			ok(run(&r) == 0 && exited(&r, 0) && !strcmp(r.out, want),
			   "bridge: joins the given namespace, with the given hosts and resolv.conf");
			if (strcmp(r.out, want))
				printf("#   got: '%s' status %d: %s\n", r.out, r.status, r.e.msg);
			cleanup(&r);
			close(ns);
		} else {
			ok(1, "# SKIP no network namespace");
		}
	}
}

static void test_hostile(void)
{
	struct run r;
	char buf[512];

	spec(&r, "true");
	r.s.layers[0] = l_evproc;
	r.s.layers[1] = l_top;
	r.s.layers[2] = l_base;
	r.s.nlayers = 3;
	run(&r);
	ok(r.status == -1 && r.e.errnum == ELOOP && strstr(r.e.msg, "/proc"),
	   "/proc as a symlink: refused (%s)", rt_err_str(&r.e, buf, sizeof buf));
	cleanup(&r);

	spec(&r, "true");
	r.s.layers[0] = l_evdev;
	r.s.layers[1] = l_top;
	r.s.layers[2] = l_base;
	r.s.nlayers = 3;
	run(&r);
	ok(r.status == -1 && r.e.errnum == ELOOP && strstr(r.e.msg, "/dev"),
	   "/dev as a symlink: refused (%s)", rt_err_str(&r.e, buf, sizeof buf));
	cleanup(&r);

	spec(&r, "true");
	r.s.layers[0] = l_evvol;
	r.s.layers[1] = l_top;
	r.s.layers[2] = l_base;
	r.s.nlayers = 3;
	r.s.mounts[0].source = voldir;
	r.s.mounts[0].dest = "/data";
	r.s.nmounts = 1;
	run(&r);
	ok(r.status == -1 && r.e.errnum == ELOOP && strstr(r.e.msg, "/data"),
	   "a volume destination as a symlink: refused (%s)", rt_err_str(&r.e, buf, sizeof buf));
	cleanup(&r);

	ok(!is_mountpoint(hosttarget) && dir_empty(hosttarget), "the host directory is untouched");

	spec(&r, "true");
	r.s.mounts[0].source = voldir;
	r.s.mounts[0].dest = "/data/../../etc";
	r.s.nmounts = 1;
	ok(run(&r) < 0 && r.e.errnum == EINVAL, "\"..\" in a destination is refused");
	cleanup(&r);

	spec(&r, "true");
	r.s.mounts[0].source = voldir;
	r.s.mounts[0].dest = "/proc/sys/kernel";
	r.s.nmounts = 1;
	ok(run(&r) < 0 && r.e.errnum == EPERM, "a volume inside /proc is refused");
	cleanup(&r);
	spec(&r, "true");
	r.s.mounts[0].kind = RT_MOUNT_TMPFS;
	r.s.mounts[0].dest = "/proc";
	r.s.nmounts = 1;
	ok(run(&r) < 0 && r.e.errnum == EPERM, "a mount over /proc is refused");
	cleanup(&r);

	/* /etc/hosts and /etc/resolv.conf as symlinks out of the image: left
	 * alone (they resolve inside the container), nothing on the host. */
	spec(&r, "cat /etc/hosts 2>/dev/null || echo nohosts; cat /etc/hostname");
	r.s.layers[0] = l_evhosts;
	r.s.layers[1] = l_top;
	r.s.layers[2] = l_base;
	r.s.nlayers = 3;
	ok(run(&r) == 0 && !strcmp(r.out, "nohosts\nbox1\n"),
	   "symlinked /etc/hosts is contained");
	diag(&r);
	cleanup(&r);
	ok(!is_mountpoint(hosttarget) && dir_empty(hosttarget), "the host directory is still untouched");

	/* File capabilities give nothing: not to a user (no_new_privs), and
	 * a binary wanting more than the bounding set does not run at all. */
	spec(&r, "/capbin/grep -E '^Cap(Prm|Eff)' /proc/self/status;"
		 "/capbig/grep -c . /proc/self/status 2>/dev/null || echo refused");
	r.s.layers[0] = l_fcaps;
	r.s.layers[1] = l_top;
	r.s.layers[2] = l_base;
	r.s.nlayers = 3;
	r.s.user = "alice";
	run(&r);
	is_str(r.out, "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nrefused\n",
	       "file capabilities: a user gains nothing");
	r.s.user = NULL;
	run(&r);
	is_str(r.out, "CapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nrefused\n",
	       "file capabilities: root stays within Docker's set");
	cleanup(&r);

	/* The init is rt's code: a container process must not reach it. */
	spec(&r, "readlink /proc/1/exe || echo denied; cat /proc/1/environ >/dev/null 2>&1 || echo denied");
	r.s.init = 1;
	run(&r);
	is_str(r.out, "denied\ndenied\n", "the init's /proc/1/exe and memory are out of reach");
	cleanup(&r);
}

static void test_volumes(void)
{
	struct run r;
	char p[512];
	struct stat st;

	spec(&r, "cat /data/hello; echo new > /data/new && echo wrote; cat /cfg; grep ' /scratch ' /proc/mounts | cut -d' ' -f3");
	r.s.mounts[0].source = voldir;
	r.s.mounts[0].dest = "/data";
	r.s.mounts[1].source = volfile;
	r.s.mounts[1].dest = "/cfg";
	r.s.mounts[2].kind = RT_MOUNT_TMPFS;
	r.s.mounts[2].dest = "/scratch";
	r.s.nmounts = 3;
	run(&r);
	is_str(r.out, "hello from the host\nwrote\na file volume\ntmpfs\n", "bind volume, file bind, tmpfs mount");
	diag(&r);
	path(p, sizeof p, "%s/new", voldir);
	ok(stat(p, &st) == 0, "a volume write reaches the host dir");
	cleanup(&r);

	spec(&r, "cat /data/hello; touch /data/x 2>/dev/null && echo WROTE || echo ro");
	r.s.mounts[0].source = voldir;
	r.s.mounts[0].dest = "/data";
	r.s.mounts[0].readonly = 1;
	r.s.nmounts = 1;
	run(&r);
	is_str(r.out, "hello from the host\nro\n", "a read-only volume");
	cleanup(&r);
}

static void vol_dir(char *buf, size_t len, const char *name)
{
	path(buf, len, "%s/%s", top, name);
	if (mkdir(buf, 0755) < 0)
		die(buf);
}

static void test_seed(void)
{
	char vol[512], p[512], buf[512];
	struct stat st;
	struct run r;
	ssize_t n;

	/* A named volume that is empty gets the image's content at its
	 * destination: files, directories, symlinks (not followed), owners
	 * and modes, setuid dropped; no device nodes, no fifos. */
	vol_dir(vol, sizeof vol, "named1");
	spec(&r, "cat /seeded/f /seeded/sub/g; ls /seeded; echo new > /seeded/new");
	r.s.layers[0] = l_seed;
	r.s.layers[1] = l_top;
	r.s.layers[2] = l_base;
	r.s.nlayers = 3;
	r.s.mounts[0].source = vol;
	r.s.mounts[0].dest = "/seeded";
	r.s.mounts[0].seed = 1;
	r.s.nmounts = 1;
	ok(run(&r) == 0 && exited(&r, 0), "seed: the container runs");
	is_str(r.out, "from the image\ndeep\nf\nln\nsub\n", "seed: the volume starts with the image's content");
	diag(&r);
	path(p, sizeof p, "%s/f", vol);
	ok(lstat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0755 && st.st_uid == 1000,
	   "seed: a file keeps its owner and mode, without setuid");
	path(p, sizeof p, "%s/ln", vol);
	n = readlink(p, buf, sizeof buf - 1);
	ok(n == 11 && !memcmp(buf, "/etc/shadow", 11), "seed: a symlink is copied as a symlink");
	ok(stat(vol, &st) == 0 && (st.st_mode & 07777) == 0750 && st.st_uid == 1000 && st.st_gid == 1000,
	   "seed: the volume's root takes the image directory's owner and mode");
	path(p, sizeof p, "%s/sub", vol);
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0700, "seed: a directory keeps its mode");
	path(p, sizeof p, "%s/fifo", vol);
	ok(lstat(p, &st) < 0, "seed: no fifo");
	path(p, sizeof p, "%s/null", vol);
	ok(lstat(p, &st) < 0, "seed: no device node");
	path(p, sizeof p, "%s/new", vol);
	ok(stat(p, &st) == 0, "seed: container writes reach the volume");

	/* Not empty any more: the next start seeds nothing. */
	path(p, sizeof p, "%s/f", vol);
	unlink(p);
	r.s.argv[2] = "ls /seeded";
	run(&r);
	is_str(r.out, "ln\nnew\nsub\n", "seed: only an empty volume is seeded");
	cleanup(&r);

	/* A host directory is never seeded. */
	vol_dir(vol, sizeof vol, "hostdir1");
	r.s.mounts[0].seed = 0;
	r.s.argv[2] = "ls /seeded | wc -l";
	run(&r);
	is_str(r.out, "0\n", "seed: a bind of a host dir is not seeded");
	cleanup(&r);

	/* The merged view: the top layer's whiteout hides etc/removed. */
	vol_dir(vol, sizeof vol, "named2");
	spec(&r, "ls /etc");
	r.s.mounts[0].source = vol;
	r.s.mounts[0].dest = "/etc";
	r.s.mounts[0].seed = 1;
	r.s.nmounts = 1;
	run(&r);
	is_str(r.out, "group\nos-release\npasswd\ntop\n", "seed: what the container would see, whiteouts applied");
	diag(&r);
	cleanup(&r);

	/* Nothing at the destination: the volume stays empty. */
	vol_dir(vol, sizeof vol, "named3");
	spec(&r, "ls -a /nothing | wc -l");
	r.s.mounts[0].source = vol;
	r.s.mounts[0].dest = "/nothing";
	r.s.mounts[0].seed = 1;
	r.s.nmounts = 1;
	run(&r);
	is_str(r.out, "2\n", "seed: a destination the image lacks gives an empty volume");
	cleanup(&r);

	/* A destination that is a symlink out of the image: refused, and
	 * nothing is copied through it. */
	vol_dir(vol, sizeof vol, "named4");
	spec(&r, "true");
	r.s.layers[0] = l_evvol;
	r.s.layers[1] = l_top;
	r.s.layers[2] = l_base;
	r.s.nlayers = 3;
	r.s.mounts[0].source = vol;
	r.s.mounts[0].dest = "/data";
	r.s.mounts[0].seed = 1;
	r.s.nmounts = 1;
	ok(run(&r) < 0 && r.e.errnum == ELOOP && dir_empty(vol) && dir_empty(hosttarget),
	   "seed: a symlinked destination is refused and seeds nothing");
	cleanup(&r);
}

static void test_readonly(void)
{
	struct run r;

	spec(&r, "touch /x 2>/dev/null && echo WROTE || echo ro; touch /tmp/x 2>/dev/null && echo WROTE || echo ro;"
		 "cat /etc/hostname; ls /proc/self/fd | wc -l; echo hi > /dev/null && echo devnull; ls /data");
	r.s.readonly_rootfs = 1;
	r.s.mounts[0].source = voldir;
	r.s.mounts[0].dest = "/data/deep";
	r.s.nmounts = 1;
	ok(run(&r) == 0 && exited(&r, 0), "read-only rootfs starts (mount points the image lacks)");
	is_str(r.out, "ro\nro\nbox1\n4\ndevnull\ndeep\n", "read-only rootfs refuses writes");
	diag(&r);
	cleanup(&r);
}

static void test_writable_layer(void)
{
	struct run r;
	char p[512];
	struct stat st;

	spec(&r, "echo kept > /tmp/f");
	run(&r);
	path(p, sizeof p, "%s/rw/upper/tmp/f", r.statedir);
	ok(stat(p, &st) == 0, "the writable layer is in the state dir");
	r.s.argv[2] = "cat /tmp/f";
	run(&r);
	is_str(r.out, "kept\n", "a restart keeps the writable layer");
	ok(cleanup(&r) == 0, "cleanup");
	ok(stat(r.statedir, &st) < 0 && errno == ENOENT, "the writable layer is gone after cleanup");
	ok(cleanup(&r) == 0, "cleanup is idempotent");
}

static void test_init(void)
{
	struct run r;
	struct rt_sandbox_proc p;
	char buf[64];
	int fd;

	spec(&r, "echo $$; sh -c 'exit 5' & wait; exit 9");
	r.s.init = 1;
	run(&r);
	ok(!strcmp(r.out, "2\n") && exited(&r, 9), "with init the command is PID 2 and its status passes through");
	diag(&r);
	cleanup(&r);

	spec(&r, "trap 'exit 3' TERM; echo ready; while true; do sleep 0.05; done");
	r.s.init = 1;
	if (start(&r, &p, &fd) == 0) {
		ssize_t n = read(fd, buf, 6);

		ok(n == 6 && !memcmp(buf, "ready\n", 6), "init: command running");
		kill(p.pid, SIGTERM);
		finish(&r, &p, fd);
		ok(exited(&r, 3), "init forwards SIGTERM to the command");
	} else {
		ok(0, "init: spawn");
		diag(&r);
	}
	cleanup(&r);
}

#ifdef CONFIG_CGROUPS
/* Whether the host's view of pid's cgroups (/proc/<pid>/cgroup) has a
 * line ending in /rt/<id>. */
static int in_cgroup(pid_t pid, const char *id)
{
	char p[64], buf[4096], want[80], *l, *save = NULL;
	int fd, found = 0;
	ssize_t n;

	snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
	snprintf(want, sizeof want, "/rt/%s", id);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strlen(l) >= strlen(want) && !strcmp(l + strlen(l) - strlen(want), want))
			found = 1;
	return found;
}

/* Start a container that sleeps, and check from the host that it is in
 * its cgroup. */
static int placed(struct run *r)
{
	struct rt_sandbox_proc p;
	int fd, yes = 0;

	r->s.argv[2] = "sleep 0.3";
	if (start(r, &p, &fd) < 0)
		return 0;
	yes = in_cgroup(p.pid, r->id);
	finish(r, &p, fd);
	return yes && exited(r, 0);
}

/* The shared rt/ parent cgroup stays after a container's cleanup; the
 * test removes the ones it made. */
static void remove_cg_parents(const char *id)
{
	static const char *const ctrls[] = { "memory", "pids", "cpu" };
	char dir[4096], *slash;
	struct rt_err e;
	size_t i;

	for (i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++) {
		if (rt_cgroup_dir(id, ctrls[i], dir, sizeof dir, &e) < 0)
			continue;
		slash = strrchr(dir, '/');
		*slash = '\0';
		rmdir(dir);
	}
}

static int read_cg(const char *id, const char *ctrl, const char *file, char *buf, size_t len)
{
	char dir[4096], p[4200];
	struct rt_err e;
	int fd;
	ssize_t n;

	if (rt_cgroup_dir(id, ctrl, dir, sizeof dir, &e) < 0)
		return -1;
	snprintf(p, sizeof p, "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void test_cgroups(void)
{
	struct run r;
	char buf[128], dir[4096];
	int v2 = rt_cgroup_mode() == RT_CGROUP_V2;
	struct stat st;

	spec(&r, "cat /proc/self/cgroup | grep -c ':/$'");
	r.s.memory_bytes = 16 << 20;
	r.s.pids_max = 64;
	r.s.cpu_millis = 500;
	ok(run(&r) == 0 && exited(&r, 0), "limits: the container runs (%s)", v2 ? "v2" : "v1");
	diag(&r);
	ok(atoi(r.out) >= 1, "cgroup namespace: the container sees its cgroup as /");
	ok(read_cg(r.id, "memory", v2 ? "memory.max" : "memory.limit_in_bytes", buf, sizeof buf) == 0 &&
	   !strcmp(buf, "16777216"), "memory limit in the cgroup file (%s)", buf);
	ok(read_cg(r.id, "pids", "pids.max", buf, sizeof buf) == 0 && !strcmp(buf, "64"), "pids limit");
	ok(read_cg(r.id, "cpu", v2 ? "cpu.max" : "cpu.cfs_quota_us", buf, sizeof buf) == 0 &&
	   !strcmp(buf, v2 ? "50000 100000" : "50000"), "cpu limit (%s)", buf);
	ok(placed(&r), "the container runs in its cgroup");

	/* Its own cgroups at /sys/fs/cgroup, read-only, rooted at its own
	 * cgroup (no rt/ of the base with the other containers in it). */
	r.s.argv[2] = v2 ? "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max;"
			   "mkdir /sys/fs/cgroup/x 2>/dev/null && echo WROTE || echo ro;"
			   "ls /sys/fs/cgroup | grep -c '^rt$'"
			 : "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max;"
			   "mkdir /sys/fs/cgroup/memory/x /sys/fs/cgroup/y 2>/dev/null && echo WROTE || echo ro;"
			   "ls /sys/fs/cgroup/memory | grep -c '^rt$'";
	run(&r);
	is_str(r.out, "16777216\n64\nro\n0\n", "/sys/fs/cgroup: the container's own limits, read-only");
	diag(&r);
	ok(cleanup(&r) == 0, "cleanup");
	ok(rt_cgroup_dir(r.id, "memory", dir, sizeof dir, &r.e) == 0 && stat(dir, &st) < 0,
	   "the cgroup is removed");
	if (!v2) {
		/* v1 without limits: no cgroup of its own, so no hierarchy. */
		spec(&r, "ls /sys/fs/cgroup | wc -l");
		run(&r);
		is_str(r.out, "0\n", "v1 without limits: /sys/fs/cgroup shows nothing of rt's");
		cleanup(&r);
	}

	/* The limit holds: 40 MiB touched under a 16 MiB limit (and 32 MiB
	 * with swap) is killed; the same without a limit is not. */
	spec(&r, "dd if=/dev/zero of=/dev/null bs=40M count=1 2>/dev/null");
	r.s.argv[0] = "dd";
	r.s.argv[1] = "if=/dev/zero";
	r.s.argv[2] = "of=/dev/null";
	r.s.argv[3] = "bs=40M";
	r.s.argv[4] = "count=1";
	r.s.memory_bytes = 16 << 20;
	run(&r);
	ok(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL, "the memory limit is enforced (OOM kill)");
	cleanup(&r);
	r.s.memory_bytes = 0;
	run(&r);
	ok(exited(&r, 0), "...and the same runs without a limit");
	cleanup(&r);
	remove_cg_parents(r.id);
}

static int write_str(const char *p, const char *v)
{
	int fd = open(p, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : -1;
	close(fd);
	return r;
}

/* Our own v2 cgroup path from pid's /proc/<pid>/cgroup ("0::PATH"). */
static void v2_path(pid_t pid, char *out, size_t len)
{
	char p[64], buf[4096], *l;
	int fd;
	ssize_t n;

	out[0] = '\0';
	snprintf(p, sizeof p, "/proc/%d/cgroup", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	l = strstr(buf, "0::");
	if (l && (l == buf || l[-1] == '\n'))
		snprintf(out, len, "%.*s", (int)strcspn(l + 3, "\n"), l + 3);
}

/* On v2, rt in a non-root cgroup that also holds another process moves
 * itself into <base>/rt/supervisor; the other process stays, and the
 * containers go to <base>/rt/<id>. */
static void test_delegation(void)
{
	char base[64], name[32], p[128], buf[4200], want[4200], dir[4096];
	struct run r;
	pid_t other;

	snprintf(name, sizeof name, "rt-deleg-%d", (int)getpid());
	snprintf(base, sizeof base, "/sys/fs/cgroup/%s", name);
	snprintf(p, sizeof p, "%s/cgroup.procs", base);
	if (mkdir(base, 0755) < 0 || write_str(p, "0") < 0) {
		ok(0, "delegation: move into a test cgroup: %s", strerror(errno));
		rmdir(base);
		return;
	}
	other = fork();
	if (other == 0) {
		pause();
		_exit(0);
	}
	spec(&r, "true");
	ok(placed(&r), "delegation: the container runs");
	v2_path(getpid(), buf, sizeof buf);
	snprintf(want, sizeof want, "/%s/rt/supervisor", name);
	is_str(buf, want, "delegation: rt moved itself into its leaf");
	v2_path(other, buf, sizeof buf);
	snprintf(want, sizeof want, "/%s", name);
	is_str(buf, want, "delegation: another process of the base stays where it is");
	snprintf(want, sizeof want, "%s/rt/%s", base, r.id);
	ok(rt_cgroup_dir(r.id, "memory", dir, sizeof dir, &r.e) == 0 && !strcmp(dir, want),
	   "delegation: the container's cgroup is under the base, beside the leaf (%s)", dir);
	ok(cleanup(&r) == 0, "delegation: cleanup");
	spec(&r, "true");
	ok(placed(&r), "delegation: the next container finds the same base");
	cleanup(&r);

	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	write_str("/sys/fs/cgroup/cgroup.procs", "0");
	snprintf(p, sizeof p, "%s/rt/supervisor", base);
	rmdir(p);
	snprintf(p, sizeof p, "%s/rt", base);
	rmdir(p);
	rmdir(base);
}

/* cgroup v2 as far as this host allows: a private cgroup2 mount over
 * /sys/fs/cgroup makes rt take the v2 path; the unified hierarchy here
 * holds no memory controller, so only the cgroup itself can be tested. */
static void test_cgroup_v2(void)
{
	struct run r;
	char dir[4096];
	struct stat st;

	if (rt_cgroup_mode() != RT_CGROUP_V1 || mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
		ok(1, "# SKIP no hybrid cgroups to switch to v2");
		return;
	}
	ok(rt_cgroup_mode() == RT_CGROUP_V2, "v2 mode detected");
	spec(&r, "cat /proc/self/cgroup");
	ok(run(&r) == 0 && exited(&r, 0) && strstr(r.out, "\n0::/\n"), "v2: container in its own cgroup namespace");
	diag(&r);
	ok(rt_cgroup_dir(r.id, "memory", dir, sizeof dir, &r.e) == 0 && stat(dir, &st) == 0,
	   "v2: the container's cgroup exists");
	ok(placed(&r), "v2: the container is born in its cgroup");
	rt_sandbox_force_fallbacks(1);
	ok(placed(&r), "v2: ...or joins it (no clone3)");
	rt_sandbox_force_fallbacks(0);
	ok(cleanup(&r) == 0 && stat(dir, &st) < 0, "v2: removed by cleanup");
	spec(&r, "true");
	r.s.memory_bytes = 16 << 20;
	ok(run(&r) < 0 && strstr(r.e.msg, "memory"), "v2 without a memory controller: a clear error");
	diag(&r);
	cleanup(&r);

	spec(&r, "grep ^0:: /proc/self/cgroup; grep ' /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f3;"
		 "grep ' /sys/fs/cgroup ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1;"
		 "grep -c '^1$' /sys/fs/cgroup/cgroup.procs; mkdir /sys/fs/cgroup/x 2>/dev/null && echo WROTE || echo ro");
	run(&r);
	is_str(r.out, "0::/\ncgroup2\nro\n1\nro\n", "v2: /sys/fs/cgroup is the container's cgroup, read-only");
	diag(&r);
	cleanup(&r);
	remove_cg_parents(r.id);
	test_delegation();
	umount2("/sys/fs/cgroup", MNT_DETACH);
}
#endif

#ifdef CONFIG_TTY
static void read_pty(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t k;
	struct pollfd p = { fd, POLLIN, 0 };

	while (n < cap - 1 && poll(&p, 1, 5000) > 0) {
		k = read(fd, buf + n, cap - 1 - n);
		if (k <= 0)
			break;   /* EIO once the slave side is gone */
		n += (size_t)k;
	}
	buf[n] = '\0';
}

static void test_tty(void)
{
	struct run r;
	struct rt_sandbox_proc p;

	spec(&r, "tty; test -c /dev/console && echo console; stat -c %u /proc/self/fd/0");
	r.s.tty = 1;
	r.s.user = "alice";
	fflush(stdout);
	if (rt_sandbox_spawn(&r.s, &p, &r.e) == 0) {
		ok(p.pty >= 0, "tty: a master comes back");
		read_pty(p.pty, r.out, sizeof r.out);
		waitpid(p.pid, &r.status, 0);
		close(p.pty);
		if (p.pidfd >= 0)
			close(p.pidfd);
		is_str(r.out, "/dev/pts/0\r\nconsole\r\n1000\r\n", "tty: the container's own devpts, /dev/console, owned by the user");
	} else {
		ok(0, "tty spawn");
		diag(&r);
	}
	cleanup(&r);
}
#endif

#ifdef CONFIG_EXEC
static void ns_same(pid_t a, pid_t b, const char *ns, int *same)
{
	char pa[64], pb[64], la[64], lb[64];
	ssize_t na, nb;

	snprintf(pa, sizeof pa, "/proc/%d/ns/%s", (int)a, ns);
	snprintf(pb, sizeof pb, "/proc/%d/ns/%s", (int)b, ns);
	na = readlink(pa, la, sizeof la - 1);
	nb = readlink(pb, lb, sizeof lb - 1);
	if (na < 0 || nb < 0 || na != nb || memcmp(la, lb, (size_t)na) != 0)
		*same = 0;
}

static void test_exec(void)
{
	static const char *const nss[] = { "mnt", "pid", "uts", "ipc", "net", "cgroup" };
	struct run r;
	struct rt_sandbox_proc p, x;
	struct rt_sandbox_exec xs;
	char out[4096], buf[128];
	int fd, in[2], xi[2], xo[2], st, same = 1;
	size_t i;

	spec(&r, "echo ready; read x; echo bye");
	r.s.hostname = "exec-box";
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(xo, O_CLOEXEC) < 0)
		die("pipe");
	r.s.stdio[0] = in[0];
	if (start(&r, &p, &fd) < 0) {
		ok(0, "exec: container start");
		diag(&r);
		return;
	}
	close(in[0]);
	ok(read(fd, buf, 6) == 6 && !memcmp(buf, "ready\n", 6), "exec: container running");

	memset(&xs, 0, sizeof xs);
	xs.argv[0] = "sh";
	xs.argv[1] = "-c";
	/* It waits on stdin until its namespaces have been compared: a
	 * process that is gone has none to compare. */
	xs.argv[2] = "read x; hostname; pwd; id -u; ls /proc/self/fd; grep -E '^(CapEff|CapInh|CapAmb|NoNewPrivs)' /proc/self/status";
	xs.env[0] = "PATH=/bin";
	xs.cwd = "/tmp";
	if (pipe2(xi, O_CLOEXEC) < 0)
		die("pipe");
	xs.stdio[0] = xi[0];
	xs.stdio[1] = xs.stdio[2] = xo[1];
	fflush(stdout);
	if (rt_sandbox_exec_spawn(&r.s, &p, &xs, &x, &r.e) == 0) {
		close(xo[1]);
		for (i = 0; i < sizeof nss / sizeof nss[0]; i++)
			ns_same(p.pid, x.pid, nss[i], &same);
		ok(same, "exec runs in the container's namespaces");
		close(xi[1]);
		read_all(xo[0], out, sizeof out);
		waitpid(x.pid, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec: status");
		is_str(out, "exec-box\n/tmp\n0\n0\n1\n2\n3\n"
			    "CapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\n"
			    "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n",
		       "exec: hostname, cwd, uid, fds, caps, no_new_privs, environment");
		if (x.pidfd >= 0)
			close(x.pidfd);
	} else {
		close(xo[1]);
		close(xi[1]);
		ok(0, "exec spawn");
		diag(&r);
	}
	close(xi[0]);
	close(xo[0]);

	memset(&xs, 0, sizeof xs);
	xs.argv[0] = "id";
	xs.argv[1] = "-u";
	xs.user = "alice";
	xs.stdio[0] = xs.stdio[2] = -1;
	if (pipe2(xo, O_CLOEXEC) < 0)
		die("pipe");
	xs.stdio[1] = xo[1];
	if (rt_sandbox_exec_spawn(&r.s, &p, &xs, &x, &r.e) == 0) {
		close(xo[1]);
		read_all(xo[0], out, sizeof out);
		waitpid(x.pid, &st, 0);
		is_str(out, "1000\n", "exec -u alice");
		if (x.pidfd >= 0)
			close(x.pidfd);
	} else {
		close(xo[1]);
		ok(0, "exec -u");
		diag(&r);
	}
	close(xo[0]);

	xs.argv[0] = "no-such-cmd";
	xs.argv[1] = NULL;
	xs.stdio[1] = -1;
	ok(rt_sandbox_exec_spawn(&r.s, &p, &xs, &x, &r.e) < 0 && r.e.errnum == ENOENT,
	   "exec of a missing command fails with ENOENT");
	diag(&r);

	memset(&xs, 0, sizeof xs);
	xs.argv[0] = "env";
	xs.env[0] = "PATH=/bin";
	xs.env[1] = "X=1";
	xs.stdio[0] = xs.stdio[2] = -1;
	if (pipe2(xo, O_CLOEXEC) < 0)
		die("pipe");
	xs.stdio[1] = xo[1];
	if (rt_sandbox_exec_spawn(&r.s, &p, &xs, &x, &r.e) == 0) {
		close(xo[1]);
		read_all(xo[0], out, sizeof out);
		waitpid(x.pid, &st, 0);
		is_str(out, "PATH=/bin\nX=1\nHOME=/root\n", "exec: the environment is exactly the given one plus HOME");
		if (x.pidfd >= 0)
			close(x.pidfd);
	} else {
		close(xo[1]);
		ok(0, "exec env");
		diag(&r);
	}
	close(xo[0]);

#ifdef CONFIG_TTY
	memset(&xs, 0, sizeof xs);
	xs.argv[0] = "tty";
	xs.tty = 1;
	if (rt_sandbox_exec_spawn(&r.s, &p, &xs, &x, &r.e) == 0) {
		read_pty(x.pty, out, sizeof out);
		waitpid(x.pid, &st, 0);
		close(x.pty);
		if (x.pidfd >= 0)
			close(x.pidfd);
		is_str(out, "/dev/pts/0\r\n", "exec -t: a pty from the container's devpts");
	} else {
		ok(0, "exec -t");
		diag(&r);
	}
#endif

	close(in[1]);   /* the container's `read` ends */
	finish(&r, &p, fd);
	ok(exited(&r, 0) && !strcmp(r.out, "bye\n"), "container ends normally");
	{
		struct rt_sandbox_proc gone = p;

		gone.pidfd = -1;
		memset(&xs, 0, sizeof xs);
		xs.argv[0] = "true";
		ok(rt_sandbox_exec_spawn(&r.s, &gone, &xs, &x, &r.e) < 0, "exec into a stopped container fails");
	}
	cleanup(&r);
}
#endif

/* The re-exec'd side of test_seal(): argv[2] and argv[3] are the
 * device and inode of the test's own binary on disk. */
static int sealed_child(char **argv)
{
	struct rt_err e;
	struct stat st;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), s;

	s = fd < 0 ? -1 : fcntl(fd, F_GET_SEALS);
	if (fd >= 0)
		close(fd);
	printf("%s\n", s >= 0 && (s & (F_SEAL_WRITE | F_SEAL_SEAL)) == (F_SEAL_WRITE | F_SEAL_SEAL) ?
	       "sealed" : "not sealed");
	printf("again %d\n", rt_sandbox_seal_exe(argv, environ, &e));
	fd = open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
	printf("%s\n", fd < 0 || write(fd, "x", 1) != 1 ? "write refused" : "WROTE");
	if (fd >= 0)
		close(fd);
	printf("%s\n", stat("/proc/self/exe", &st) == 0 &&
	       (st.st_dev != (dev_t)strtoull(argv[2], NULL, 10) ||
		st.st_ino != (ino_t)strtoull(argv[3], NULL, 10)) ? "not the file" : "THE FILE");
	return 0;
}

/* The process that spawns containers runs from a sealed copy of its own
 * binary: this test re-execs itself from one and looks. */
static void test_seal(char *self)
{
	char dev[32], ino[32], out[512];
	char *argv[] = { self, "--sealed-child", dev, ino, NULL };
	struct rt_err e;
	struct stat st;
	int pfd[2], status;
	pid_t pid;

	if (stat("/proc/self/exe", &st) < 0 || pipe2(pfd, O_CLOEXEC) < 0)
		die("seal test");
	snprintf(dev, sizeof dev, "%llu", (unsigned long long)st.st_dev);
	snprintf(ino, sizeof ino, "%llu", (unsigned long long)st.st_ino);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		rt_sandbox_seal_exe(argv, environ, &e);
		printf("seal: %s\n", e.msg);
		_exit(1);
	}
	close(pfd[1]);
	read_all(pfd[0], out, sizeof out);
	close(pfd[0]);
	waitpid(pid, &status, 0);
	is_str(out, "sealed\nagain 0\nwrite refused\nnot the file\n",
	       "seal: runs from a sealed copy that cannot be written, not from the file");
}

int main(int argc, char **argv)
{
	struct stat st;

	if (argc == 4 && !strcmp(argv[1], "--sealed-child"))
		return sealed_child(argv);

	if (geteuid() != 0) {
		printf("1..0 # SKIP not root\n");
		return 0;
	}
	if (stat(BUSYBOX, &st) < 0) {
		printf("1..0 # SKIP %s missing (apt-get install busybox-static)\n", BUSYBOX);
		return 0;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("1..0 # SKIP no private mount namespace: %s\n", strerror(errno));
		return 0;
	}
	snprintf(top, sizeof top, "/tmp/rt-sandbox-XXXXXX");
	if (!mkdtemp(top))
		die("mkdtemp");
	if (mount("tmpfs", top, "tmpfs", 0, "mode=0755") < 0)
		die("mount tmpfs");
	build_layers();

	test_seal(argv[0]);
	test_basics();
	test_fds();
	test_filesystems();
	test_users();
	test_errors();
	test_hostile();
	test_volumes();
	test_seed();
	test_readonly();
	test_writable_layer();
	test_init();
#ifdef CONFIG_CGROUPS
	test_cgroups();
	test_cgroup_v2();
#endif
#ifdef CONFIG_TTY
	test_tty();
#endif
#ifdef CONFIG_EXEC
	test_exec();
#endif

	umount2(top, MNT_DETACH);
	rmdir(top);
	return done_testing();
}
