/* PID 1 duties: early mounts, console, kernel modules, the data partition,
 * hostname, loopback, then the supervisor loop; shutdown in order.
 *
 * This is the top of the process, so it prints its own messages, on the
 * console, prefixed "rt: init:". Nothing here allocates. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/watchdog.h>

#include "err.h"
#include "init.h"
#include "kconfig.h"
#include "sandbox.h"
#include "supervise.h"

#define say(...) dprintf(2, "rt: init: " __VA_ARGS__)

static const struct early_mount {
	const char *src, *dst, *type;
	unsigned long flags;
	const char *opts;
} early[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666" },
	{ "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	{ "run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
	{ "tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
#ifdef CONFIG_CGROUPS
	{ "cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
#endif
};

/* mkdir -p for init's own, trusted, absolute paths. */
static int mkdirs(const char *path, mode_t mode)
{
	char p[256];
	size_t i, n = strlen(path);

	if (n >= sizeof p)
		return -1;
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -1;
		p[i] = i < n ? '/' : '\0';
	}
	return 0;
}

static int mount_early(struct rt_err *e)
{
	size_t i;

	for (i = 0; i < sizeof early / sizeof early[0]; i++) {
		const struct early_mount *m = &early[i];

		mkdirs(m->dst, 0755);
		if (mount(m->src, m->dst, m->type, m->flags, m->opts) < 0 && errno != EBUSY) {
			/* cgroup2 is optional on old kernels; the rest is not. */
			if (!strcmp(m->type, "cgroup2")) {
				say("cgroup2 not mounted: %s\n", strerror(errno));
				continue;
			}
			return rt_err_sys(e, "mount %s", m->dst);
		}
	}
	return 0;
}

/* The kernel starts init with the console as 0-2 only when /dev/console
 * exists in the initramfs; make sure of it now that devtmpfs is there. */
static void console(void)
{
	int fd;

	if (fcntl(0, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* /etc/rt/modules lists module files relative to /lib/modules/<release>/,
 * one a line, in load order (the firmware builder resolves dependencies). */
static void load_modules(void)
{
	char list[4096], path[512];
	struct utsname u;
	size_t len = 0;
	ssize_t n;
	char *line, *save = NULL;
	int fd = open("/etc/rt/modules", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = read(fd, list + len, sizeof list - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	list[len] = '\0';
	if (uname(&u) < 0)
		return;
	for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int mfd;

		if (!*line || *line == '#')
			continue;
		if (snprintf(path, sizeof path, "/lib/modules/%s/%s", u.release, line) >= (int)sizeof path)
			continue;
		mfd = open(path, O_RDONLY | O_CLOEXEC);
		if (mfd < 0) {
			say("module %s: %s\n", line, strerror(errno));
			continue;
		}
		if (syscall(SYS_finit_module, mfd, "", 0) < 0 && errno != EEXIST)
			say("module %s: %s\n", line, strerror(errno));
		close(mfd);
	}
}

/* ---- leaving the initramfs ------------------------------------------------
 *
 * The initramfs is the kernel's root mount, which pivot_root(2) cannot
 * move: containers could only chroot, and a container with CAP_SYS_CHROOT
 * could climb out into it. So, as switch_root does, init copies the
 * initramfs into a tmpfs, deletes the original files, moves the tmpfs onto
 * "/" and execs itself again from there. */

#define RAMFS_MAGIC_ 0x858458f6
#define TMPFS_MAGIC_ 0x01021994
#define NEWROOT "/.rt-root"
#define SWITCHED "rt_switched=1"

static int copy_tree(int from, int to, dev_t dev, int top)
{
	struct dirent *de;
	int fd = dup(from), rc = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		struct stat st;

		if (!strcmp(n, ".") || !strcmp(n, "..") || (top && !strcmp(n, NEWROOT + 1)))
			continue;
		if (fstatat(from, n, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int a, b;

			if (mkdirat(to, n, st.st_mode & 07777) < 0 && errno != EEXIST) {
				rc = -1;
				continue;
			}
			a = openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			b = openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (a < 0 || b < 0 || copy_tree(a, b, dev, 0) < 0)
				rc = -1;
			if (a >= 0)
				close(a);
			if (b >= 0)
				close(b);
		} else if (S_ISREG(st.st_mode)) {
			char buf[65536];
			ssize_t r = 0;
			int a = openat(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int b = openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);

			while (a >= 0 && b >= 0 && (r = read(a, buf, sizeof buf)) > 0)
				if (write(b, buf, (size_t)r) != r) {
					r = -1;
					break;
				}
			if (a < 0 || b < 0 || r < 0)
				rc = -1;
			if (a >= 0)
				close(a);
			if (b >= 0)
				close(b);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096];
			ssize_t l = readlinkat(from, n, t, sizeof t - 1);

			if (l < 0)
				rc = -1;
			else {
				t[l] = '\0';
				if (symlinkat(t, to, n) < 0)
					rc = -1;
			}
		} else if (mknodat(to, n, st.st_mode, st.st_rdev) < 0) {
			rc = -1;
		}
		fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
	}
	closedir(d);
	return rc;
}

/* Delete what was copied, so the old root holds nothing a container could
 * reach and its memory is freed. */
static void delete_tree(int dir, dev_t dev, int top)
{
	struct dirent *de;
	int fd = dup(dir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		struct stat st;

		if (!strcmp(n, ".") || !strcmp(n, "..") || (top && !strcmp(n, NEWROOT + 1)))
			continue;
		if (fstatat(dir, n, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				delete_tree(sub, dev, 0);
				close(sub);
			}
			unlinkat(dir, n, AT_REMOVEDIR);
		} else {
			unlinkat(dir, n, 0);
		}
	}
	closedir(d);
}

static void leave_initramfs(char **argv)
{
	struct statfs sfs;
	struct stat st;
	int old, new;

	if (getenv("rt_switched") || statfs("/", &sfs) < 0 || stat("/", &st) < 0 ||
	    ((unsigned long)sfs.f_type != RAMFS_MAGIC_ && (unsigned long)sfs.f_type != TMPFS_MAGIC_))
		return;
	if (mkdir(NEWROOT, 0755) < 0 && errno != EEXIST)
		return;
	if (mount("rootfs", NEWROOT, "tmpfs", 0, "mode=0755") < 0)
		return;
	old = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	new = open(NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old < 0 || new < 0 || copy_tree(old, new, st.st_dev, 1) < 0) {
		say("cannot copy the initramfs to a tmpfs; containers will run without pivot_root\n");
		umount2(NEWROOT, MNT_DETACH);
		return;
	}
	delete_tree(old, st.st_dev, 1);
	close(old);
	close(new);
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0) {
		say("switch to the tmpfs root: %s\n", strerror(errno));
		return;
	}
	/* Keep the kernel's rt_data=, rt_ip=, ... for the second run. */
	setenv("rt_switched", "1", 1);
	execv("/sbin/init", argv);
	say("exec /sbin/init: %s\n", strerror(errno));
}

static const char *param(const char *name, const char *dflt)
{
	const char *v = getenv(name);   /* the kernel passes rt_x=y to init (a dotted name would be taken for a module parameter) */

	return v && *v ? v : dflt;
}

/* Drivers probe asynchronously: wait a bounded while for the device. */
static void wait_device(const char *dev)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	int i;

	if (dev[0] != '/')
		return;
	for (i = 0; i < 50 && access(dev, F_OK) < 0; i++)
		nanosleep(&tick, NULL);
}

/* Split "noatime,commit=60" into mount flags and the filesystem's data. */
static unsigned long mount_opts(const char *opts, char *data, size_t cap)
{
	static const struct { const char *name; unsigned long flag; } fl[] = {
		{ "ro", MS_RDONLY }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV },
		{ "noexec", MS_NOEXEC }, { "sync", MS_SYNCHRONOUS },
		{ "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME },
		{ "relatime", MS_RELATIME }, { "dirsync", MS_DIRSYNC },
	};
	unsigned long flags = 0;
	size_t len = 0;

	data[0] = '\0';
	while (*opts) {
		size_t n = strcspn(opts, ","), i;

		for (i = 0; i < sizeof fl / sizeof fl[0]; i++)
			if (strlen(fl[i].name) == n && !strncmp(opts, fl[i].name, n))
				break;
		if (i < sizeof fl / sizeof fl[0])
			flags |= fl[i].flag;
		else if (n && len + n + 2 <= cap) {
			if (len)
				data[len++] = ',';
			memcpy(data + len, opts, n);
			data[len += n] = '\0';
		}
		opts += n + (opts[n] == ',');
	}
	return flags;
}

static void mount_data(void)
{
#ifdef CONFIG_INIT
	const char *dev = param("rt_data", CONFIG_INIT_DATA_DEV);
	const char *type = param("rt_fstype", CONFIG_INIT_DATA_FSTYPE);
	const char *root = CONFIG_RT_ROOT;
	char data[256];
	unsigned long flags = mount_opts(CONFIG_INIT_DATA_OPTS, data, sizeof data);

	if (!*dev)
		return;
	if (mkdirs(root, 0700) < 0) {
		say("cannot create %s: %s\n", root, strerror(errno));
		return;
	}
	wait_device(dev);
	if (mount(dev, root, type, MS_NOSUID | MS_NODEV | flags, data) == 0) {
		chmod(root, 0700);
		say("store on %s (%s)\n", dev, type);
		return;
	}
	say("data partition %s (%s): %s; the store is on a tmpfs and nothing will persist\n",
	    dev, type, strerror(errno));
	if (mount("rt-store", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		say("tmpfs store: %s\n", strerror(errno));
#endif
}

static void set_hostname(void)
{
	char name[65];
	ssize_t n = -1;
	int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, name, sizeof name - 1);
		close(fd);
	}
	if (n > 0) {
		name[n] = '\0';
		name[strcspn(name, "\n")] = '\0';
	}
	if (n <= 0 || !name[0])
		snprintf(name, sizeof name, "%s", CONFIG_INIT_HOSTNAME);
	if (sethostname(name, strlen(name)) < 0)
		say("hostname: %s\n", strerror(errno));
}

static void loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			say("lo: %s\n", strerror(errno));
	}
	close(s);
}

static int ifreq_addr(int s, unsigned long req, const char *ifname, in_addr_t a)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = a;
	return ioctl(s, req, &ifr);
}

/* IFACE:ADDRESS/PREFIX[:GATEWAY] */
static void ipv4_config(void)
{
	const char *spec = param("rt_ip", CONFIG_INIT_IPV4);
	char buf[128], *ifname, *addr, *gw, *slash;
	struct in_addr a, g;
	struct ifreq ifr;
	unsigned long prefix;
	in_addr_t mask;
	int s;

	if (!*spec)
		return;
	snprintf(buf, sizeof buf, "%s", spec);
	ifname = buf;
	addr = strchr(buf, ':');
	if (!addr)
		goto bad;
	*addr++ = '\0';
	gw = strchr(addr, ':');
	if (gw)
		*gw++ = '\0';
	slash = strchr(addr, '/');
	if (!slash)
		goto bad;
	*slash++ = '\0';
	prefix = strtoul(slash, NULL, 10);
	if (strlen(ifname) >= IFNAMSIZ || prefix > 32 || inet_pton(AF_INET, addr, &a) != 1 ||
	    (gw && inet_pton(AF_INET, gw, &g) != 1))
		goto bad;
	mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, ifname);
	if (ifreq_addr(s, SIOCSIFADDR, ifname, a.s_addr) < 0 ||
	    ifreq_addr(s, SIOCSIFNETMASK, ifname, mask) < 0 ||
	    ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		say("%s: %s\n", ifname, strerror(errno));
		close(s);
		return;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		say("%s up: %s\n", ifname, strerror(errno));
	if (gw) {
		struct rtentry rt;
		struct sockaddr_in *d = (struct sockaddr_in *)&rt.rt_dst;
		struct sockaddr_in *m = (struct sockaddr_in *)&rt.rt_genmask;
		struct sockaddr_in *r = (struct sockaddr_in *)&rt.rt_gateway;

		memset(&rt, 0, sizeof rt);
		d->sin_family = m->sin_family = r->sin_family = AF_INET;
		r->sin_addr = g;
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
			say("default route via %s: %s\n", gw, strerror(errno));
	}
	close(s);
	say("%s: %s/%lu%s%s\n", ifname, addr, prefix, gw ? " via " : "", gw ? gw : "");
	return;
bad:
	say("rt_ip=%s: expected IFACE:ADDRESS/PREFIX[:GATEWAY]\n", spec);
}

/* A root shell on the console for development boards, started again when
 * it exits. A small keeper process owns it, so the supervisor loop only
 * ever sees the keeper. */
static void console_shell(void)
{
	pid_t keeper;

	if (!IS_ENABLED(CONFIG_INIT_CONSOLE_SHELL) || access("/bin/sh", X_OK) < 0)
		return;
	keeper = fork();
	if (keeper != 0) {
		if (keeper < 0)
			say("console shell: %s\n", strerror(errno));
		return;
	}
	{
		struct timespec one = { 1, 0 };
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (;;) {
			pid_t sh = fork();

			if (sh == 0) {
				char *argv[] = { "-sh", NULL };
				char *envp[] = { "PATH=/sbin:/bin:/usr/sbin:/usr/bin", "HOME=/root",
						 "TERM=vt100", NULL };

				setsid();
				ioctl(0, TIOCSCTTY, 1);
				execve("/bin/sh", argv, envp);
				_exit(127);
			}
			if (sh > 0)
				while (waitpid(sh, NULL, 0) < 0 && errno == EINTR)
					;
			nanosleep(&one, NULL);
		}
	}
}

#ifdef CONFIG_WATCHDOG
static int wdog = -1;   /* PID 1's own: kept open until the last moment */

/* The hardware resets the board unless the loop pings it; ping at half the
 * timeout. */
static void watchdog_start(void)
{
	int timeout = 0;

	wdog = open("/dev/watchdog", O_WRONLY | O_CLOEXEC);
	if (wdog < 0) {
		say("watchdog: %s\n", strerror(errno));
		return;
	}
	if (ioctl(wdog, WDIOC_GETTIMEOUT, &timeout) < 0 || timeout < 2)
		timeout = 20;
	rt_supervise_watchdog(wdog, (unsigned)timeout / 2);
	say("watchdog: pinged every %d s\n", timeout / 2);
}

/* Powering off is not a hang: disarm (the magic close) so the watchdog
 * does not bring the board back up. */
static void watchdog_stop(enum rt_init_how how)
{
	if (wdog < 0 || how == RT_INIT_REBOOT)
		return;
	if (write(wdog, "V", 1) < 0)
		say("watchdog: %s\n", strerror(errno));
	close(wdog);
	wdog = -1;
}
#else
static void watchdog_start(void) {}
static void watchdog_stop(enum rt_init_how how) { (void)how; }
#endif

int rt_init_shutdown_signal(int sig)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		return RT_INIT_REBOOT;
	case SIGUSR2:
	case SIGPWR:
		return RT_INIT_POWEROFF;
	case SIGUSR1:
		return RT_INIT_HALT;
	default:
		return -1;
	}
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Give every process up to 5 s to exit after SIGTERM, reaping meanwhile. */
static void drain(void)
{
	struct timespec left = { 5, 0 }, t0, t1;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	kill(-1, SIGTERM);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		reap();
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		if (sigtimedwait(&chld, NULL, &left) < 0 && errno == EAGAIN)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec >= 5)
			break;
	}
	kill(-1, SIGKILL);
	reap();
}

void rt_init_final(enum rt_init_how how)
{
	static const int cmd[] = { RB_AUTOBOOT, RB_POWER_OFF, RB_HALT_SYSTEM };
	static const char *const what[] = { "rebooting", "powering off", "halting" };

	say("%s\n", what[how]);
	watchdog_stop(how);
	drain();
	sync();
	if (mount(NULL, CONFIG_RT_ROOT, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0 ||
	    errno != EINVAL)
		umount2(CONFIG_RT_ROOT, MNT_DETACH);
	sync();
	reboot(cmd[how]);
	say("reboot: %s\n", strerror(errno));
	for (;;)
		pause();
}

static void __attribute__((noreturn)) fatal(const struct rt_err *e)
{
	char msg[RT_ERR_MSG + 64];
	struct timespec ten = { 10, 0 };

	say("%s\n", rt_err_str(e, msg, sizeof msg));
	if (IS_ENABLED(CONFIG_INIT_RESCUE)) {
		char *sh[] = { "/bin/sh", NULL };

		say("starting a rescue shell\n");
		execv(sh[0], sh);
		say("rescue shell: %s\n", strerror(errno));
	}
	say("rebooting in 10 seconds\n");
	nanosleep(&ten, NULL);
	rt_init_final(RT_INIT_REBOOT);
}

/* When the supervisor cannot run: keep the board up, reap, and shut down
 * when asked. */
static void __attribute__((noreturn)) idle_loop(void)
{
	struct signalfd_siginfo si;
	struct rt_err e;
	sigset_t all;
	int sfd;

	sigfillset(&all);
	sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0) {
		rt_err_sys(&e, "signalfd");
		fatal(&e);
	}
	for (;;) {
		ssize_t n = read(sfd, &si, sizeof si);
		int how;

		if (n != (ssize_t)sizeof si)
			continue;
		reap();
		how = rt_init_shutdown_signal((int)si.ssi_signo);
		if (how >= 0)
			rt_init_final((enum rt_init_how)how);
	}
}

/* PID 1 of the system, not of a container: the kernel's first pid
 * namespace has a fixed inode (PROC_PID_INIT_INO). Without /proc yet this
 * is a boot, and a container always has /proc. */
static int system_init(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) < 0 || st.st_ino == 0xEFFFFFFCu;
}

/* Run from a sealed copy of rt (see rt_sandbox_seal_exe): the containers
 * PID 1 forks then never reach the binary on flash. Re-execs once. */
static void seal_self(char **argv)
{
	extern char **environ;
	struct rt_err e;

	if (rt_sandbox_seal_exe(argv, environ, &e) < 0)
		say("%s; running unsealed\n", e.msg);
}

int rt_init_main(int argc, char **argv)
{
	struct rt_sup_cfg cfg = { CONFIG_RT_ROOT, CONFIG_RT_RUN, 0 };
	char msg[RT_ERR_MSG + 64];
	struct rt_err e;
	sigset_t all;
	int sig, how;

	(void)argc;
	if (getpid() != 1 || !system_init()) {
		fprintf(stderr, "rt: init: must run as the system's PID 1 (use 'rt daemon' under another init)\n");
		return 1;
	}
	/* Signals are only ever read from a signalfd; Ctrl-Alt-Del becomes
	 * SIGINT instead of an immediate reboot. */
	/* The kernel hands unknown key=value boot parameters to init as its
	   environment: none of them may steer what rt trusts or where. */
	unsetenv("RT_KEYS_DIR");
	unsetenv("RT_CONFIG_DIR");
	unsetenv("RT_LIMITS");
	leave_initramfs(argv);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	reboot(RB_DISABLE_CAD);
	umask(022);
	if (chdir("/") < 0 || mount_early(&e) < 0) {
		console();
		fatal(&e);
	}
	console();
	seal_self(argv);
	{
		/* The kernel's share of boot time, on the kernel's own clock. */
		struct timespec up;

		if (clock_gettime(CLOCK_BOOTTIME, &up) == 0)
			say("started %ld.%03ld s after the kernel\n", (long)up.tv_sec,
			    up.tv_nsec / 1000000);
	}
	setsid();
	load_modules();
	mount_data();
	set_hostname();
	loopback_up();
	ipv4_config();
	console_shell();
	watchdog_start();
	say("ready: rt %s on %s\n", RT_VERSION, CONFIG_BOARD);
	sig = rt_supervise(&cfg, &e);
	if (sig < 0) {
		say("supervisor: %s; no containers will run\n", rt_err_str(&e, msg, sizeof msg));
		idle_loop();
	}
	how = rt_init_shutdown_signal(sig);
	rt_init_final(how < 0 ? RT_INIT_REBOOT : (enum rt_init_how)how);
}
