#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "mount.h"
#include "path.h"

#define PROC_MAGIC 0x9fa0
#define OVL_PARAMS "/sys/module/overlay/parameters/"
#define DEV_OPTS "mode=755,size=65536k"
#define SHM_OPTS "mode=1777,size=65536k"
#define CGROUP_OPTS "mode=755,size=64k"
#define PTS_OPTS "newinstance,ptmxmode=0666,mode=0620,gid=5"
#define MOUNT_DATA_MAX 4096           /* one page: mount(2)'s limit */
#define HOST_FILE_MAX (16u << 10)     /* hosts, resolv.conf copied from the host */

/* Docker's masked and read-only paths. */
static const char *const proc_masked[] = {
	"asound", "acpi", "kcore", "keys", "latency_stats", "timer_list",
	"timer_stats", "sched_debug", "scsi",
};
static const char *const proc_readonly[] = { "bus", "fs", "irq", "sys", "sysrq-trigger" };
static const char *const sys_masked[] = { "firmware", "devices/virtual/powercap" };
static const char *const etc_files[] = { "hosts", "hostname", "resolv.conf" };

static const struct {
	const char *name;
	unsigned maj, min;
} dev_nodes[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};
static const struct {
	const char *name, *target;
} dev_links[] = {
	{ "ptmx", "pts/ptmx" }, { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct ctx {
	const struct rt_sandbox_spec *s;
	const struct rt_cgroup_view *cg;
	int sd;          /* statedir */
	int rw;          /* statedir/rw, the writable layer's tmpfs */
	int mp;          /* rw/mp: mount points for a read-only rootfs, or -1 */
	int root;        /* the overlay's root */
	int devnull;     /* the container's /dev/null, for masks */
	char rootpath[RT_PATH_MAX];
	int second;      /* read-only: the rebuild after mp/ got entries */
	int deferred;    /* read-only: a mount point went into mp/ */
};

/* A resolved mount point: the fd to mount onto, and its parent and name
 * to open it again once the mount covers it. */
struct mp {
	int parent, fd;
	char leaf[RT_NAME_MAX + 1];
};

enum { MP_DIR = 1, MP_LEAVE = 2 };
#define DEFERRED (-2)   /* created in mp/: mount it after the rebuild */
#define LEFT (-3)       /* MP_LEAVE: the image's entry stays as it is */

static const char *fdp(char *buf, int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

static void closep(int *fd)
{
	rt_io_close(fd);
}

static void mp_close(struct mp *m)
{
	closep(&m->parent);
	closep(&m->fd);
}

static int reopen(const struct mp *m, int flags)
{
	return openat(m->parent, m->leaf, flags | O_NOFOLLOW | O_CLOEXEC);
}

/* "/a//b/" -> "a/b" (empty for "/"); "." and ".." are refused. */
static int norm(const char *dest, char *out, struct rt_err *e)
{
	const char *c = dest;
	size_t o = 0;

	if (!dest || dest[0] != '/')
		return rt_err_set(e, EINVAL, "%s: not an absolute path", dest ? dest : "(null)");
	while (*c) {
		size_t n;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		n = strcspn(c, "/");
		if (o + n + 2 > RT_PATH_MAX)
			return rt_err_set(e, ENAMETOOLONG, "%.64s...: path too long", dest);
		if (o)
			out[o++] = '/';
		memcpy(out + o, c, n);
		o += n;
		c += n;
	}
	out[o] = '\0';
	if (o && !rt_path_is_clean(out))
		return rt_err_set(e, EINVAL, "%s: \".\" or \"..\" in the path", dest);
	return 0;
}

/* The path of fd relative to the rootfs, from the kernel's own view. */
static int real_rel(struct ctx *c, int fd, char *out, struct rt_err *e)
{
	char lp[32], buf[RT_PATH_MAX];
	size_t rl = strlen(c->rootpath);
	ssize_t n = readlink(fdp(lp, fd), buf, sizeof buf - 1);

	if (n < 0)
		return rt_err_sys(e, "readlink mount point");
	buf[n] = '\0';
	if (strncmp(buf, c->rootpath, rl) != 0 || (buf[rl] && buf[rl] != '/'))
		return rt_err_set(e, EXDEV, "mount point outside the rootfs");
	strcpy(out, buf + rl + (buf[rl] == '/'));
	return 0;
}

/* A read-only rootfs lacks a mount point: make it in mp/, at the place
 * the image's own directories resolve to, for the rebuild. */
static int defer(struct ctx *c, int parent, const char *rest, int dir, struct rt_err *e)
{
	char rel[RT_PATH_MAX], path[2 * RT_PATH_MAX], leaf[RT_NAME_MAX + 1];
	int d, fd;

	if (real_rel(c, parent, rel, e) < 0)
		return -1;
	if (snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", rest) >= RT_PATH_MAX)
		return rt_err_set(e, ENAMETOOLONG, "%s: path too long", rest);
	if (dir) {
		fd = rt_path_mkdirs(c->mp, path, 0755, e);
		if (fd < 0)
			return -1;
		close(fd);
	} else {
		d = rt_path_parent(c->mp, path, leaf, e);
		if (d < 0 && e->errnum == ENOENT) {
			char *slash = strrchr(path, '/');

			*slash = '\0';
			fd = rt_path_mkdirs(c->mp, path, 0755, e);
			*slash = '/';
			if (fd < 0)
				return -1;
			close(fd);
			d = rt_path_parent(c->mp, path, leaf, e);
		}
		if (d < 0)
			return -1;
		fd = openat(d, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST) {
			rt_err_sys(e, "create %s", path);
			close(d);
			return -1;
		}
		if (fd >= 0)
			close(fd);
		close(d);
	}
	c->deferred = 1;
	return DEFERRED;
}

/* Resolve (and create when missing) the mount point dest. Returns 0 with
 * m filled, DEFERRED, LEFT, or -1. */
static int mountpoint(struct ctx *c, const char *dest, int flags, struct mp *m,
		      struct rt_err *e)
{
	char rel[RT_PATH_MAX], *leaf, *comp;
	int can_defer = c->mp >= 0 && !c->second;
	struct statfs sf;
	struct stat st;
	int cur, fd, r;

	m->parent = m->fd = -1;
	if (norm(dest, rel, e) < 0)
		return -1;
	if (!*rel)
		return rt_err_set(e, EINVAL, "cannot mount over /");
	cur = fcntl(c->root, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return rt_err_sys(e, "dup");
	leaf = strrchr(rel, '/');
	leaf = leaf ? leaf + 1 : rel;
	/* Directories on the way: resolved as the container will see them. */
	for (comp = rel; comp != leaf;) {
		size_t n = strcspn(comp, "/");
		char save = comp[n];

		comp[n] = '\0';
		fd = rt_path_open_in_root(c->root, rel, O_PATH | O_DIRECTORY, e);
		if (fd < 0 && e->errnum == ENOENT) {
			if (mkdirat(cur, comp, 0755) == 0) {
				fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (fd < 0)
					rt_err_sys(e, "open %s", rel);
			} else if (errno == EROFS && can_defer) {
				comp[n] = save;
				r = defer(c, cur, comp, flags & MP_DIR, e);
				close(cur);
				return r;
			} else if (errno == EEXIST) {
				/* A symlink whose target the image lacks: not
				 * followed out of it, not created through. */
				rt_err_set(e, ENOENT, "%s: a symlink to a path missing in the image", rel);
			} else {
				rt_err_sys(e, "mkdir %s", rel);
			}
		}
		comp[n] = save;
		if (fd < 0) {
			close(cur);
			return rt_err_wrap(e, "mount point %s", dest);
		}
		close(cur);
		cur = fd;
		comp += n + 1;
	}
	/* Nothing of a user's or an image's may cover procfs: not the masks,
	 * not /proc/sys, not /proc itself. */
	if (fstatfs(cur, &sf) == 0 && sf.f_type == PROC_MAGIC) {
		close(cur);
		return rt_err_set(e, EPERM, "%s: a mount inside /proc", dest);
	}
	if (fstatat(cur, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT) {
			rt_err_sys(e, "mount point %s", dest);
			close(cur);
			return -1;
		}
		if (flags & MP_DIR) {
			r = mkdirat(cur, leaf, 0755);
		} else {
			r = openat(cur, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (r >= 0)
				r = close(r);
		}
		if (r < 0) {
			if (errno == EROFS && can_defer) {
				r = defer(c, cur, leaf, flags & MP_DIR, e);
				close(cur);
				return r;
			}
			rt_err_sys(e, "create mount point %s", dest);
			close(cur);
			return -1;
		}
	} else if (S_ISLNK(st.st_mode) ||
		   ((flags & MP_DIR) ? !S_ISDIR(st.st_mode) :
		    S_ISDIR(st.st_mode) || ((flags & MP_LEAVE) && !S_ISREG(st.st_mode)))) {
		close(cur);
		if (flags & MP_LEAVE)
			return LEFT;
		if (S_ISLNK(st.st_mode))
			return rt_err_set(e, ELOOP, "%s: a symlink in the image", dest);
		return rt_err_set(e, (flags & MP_DIR) ? ENOTDIR : EISDIR,
				  "%s: %s in the image", dest,
				  (flags & MP_DIR) ? "not a directory" : "a directory");
	}
	m->fd = openat(cur, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (m->fd < 0) {
		rt_err_sys(e, "open mount point %s", dest);
		close(cur);
		return -1;
	}
	if (fstatfs(m->fd, &sf) == 0 && sf.f_type == PROC_MAGIC) {
		close(cur);
		closep(&m->fd);
		return rt_err_set(e, EPERM, "%s: a mount over /proc", dest);
	}
	m->parent = cur;
	strcpy(m->leaf, leaf);
	return 0;
}

static int do_mount(const char *src, int srcfd, int dstfd, const char *type,
		    unsigned long flags, const char *data, const char *what,
		    struct rt_err *e)
{
	char sp[32], dp[32];

	if (srcfd >= 0)
		src = fdp(sp, srcfd);
	if (mount(src, fdp(dp, dstfd), type, flags, data) < 0)
		return rt_err_sys(e, "mount %s", what);
	return 0;
}

/* Change the per-mount flags of the mount whose root is fd. */
static int remount(int fd, unsigned long flags, const char *what, struct rt_err *e)
{
	return do_mount(NULL, -1, fd, NULL, MS_BIND | MS_REMOUNT | flags, NULL, what, e);
}

static int knows(const char *param)
{
	return access(param, F_OK) == 0;
}

int rt_mount_overlay_knows_nofollow(void)
{
	/* "nofollow" came with redirect_always_follow (4.15). */
	return knows(OVL_PARAMS "redirect_always_follow");
}

int rt_mount_overlay_knows_metacopy(void)
{
	return knows(OVL_PARAMS "metacopy");
}

/* The hardening options: all of them, or (fallback) those this kernel's
 * overlayfs knows. An option a kernel lacks is a feature it lacks:
 * before 4.19 there is no metacopy to turn off, and before 4.15 redirects
 * can only be turned off entirely. */
static void overlay_opts(char *buf, size_t len, int fallback)
{
	const char *redirect = ",redirect_dir=nofollow", *meta = ",metacopy=off";

	if (fallback) {
		if (!rt_mount_overlay_knows_nofollow())
			redirect = knows(OVL_PARAMS "redirect_dir") ? ",redirect_dir=off" : "";
		if (!rt_mount_overlay_knows_metacopy())
			meta = "";
	}
	snprintf(buf, len, "%s%s", redirect, meta);
}

static int overlay(struct ctx *c, struct rt_err *e)
{
	const struct rt_sandbox_spec *s = c->s;
	int lower[RT_SANDBOX_MAX_LAYERS + 1], nlower = 0, i, r = -1;
	int upper = -1, work = -1, merged = -1, procfd = -1;
	char data[MOUNT_DATA_MAX], opts[64], full[64], target[16];
	size_t o;

	if (c->mp >= 0)
		lower[nlower++] = fcntl(c->mp, F_DUPFD_CLOEXEC, 3);
	for (i = 0; i < s->nlayers; i++) {
		lower[nlower] = open(s->layers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (lower[nlower] < 0) {
			rt_err_sys(e, "open layer %s", s->layers[i]);
			goto out;
		}
		nlower++;
	}
	if (c->mp < 0) {
		upper = openat(c->rw, "upper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		work = openat(c->rw, "work", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (upper < 0 || work < 0) {
			rt_err_sys(e, "open writable layer");
			goto out;
		}
	}
	merged = openat(c->sd, "merged", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	procfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (merged < 0 || procfd < 0) {
		rt_err_sys(e, merged < 0 ? "open merged" : "open /proc/self/fd");
		goto out;
	}
	/* Each directory by fd number, relative to /proc/self/fd. */
	o = (size_t)snprintf(data, sizeof data, "lowerdir=");
	for (i = 0; i < nlower && o < sizeof data; i++)
		o += (size_t)snprintf(data + o, sizeof data - o, "%s%d", i ? ":" : "", lower[i]);
	if (upper >= 0 && o < sizeof data)
		o += (size_t)snprintf(data + o, sizeof data - o, ",upperdir=%d,workdir=%d", upper, work);
	overlay_opts(full, sizeof full, 0);
	if (o + strlen(full) >= sizeof data) {
		rt_err_set(e, E2BIG, "overlay: too many layers");
		goto out;
	}
	snprintf(target, sizeof target, "%d", merged);
	if (fchdir(procfd) < 0) {
		rt_err_sys(e, "chdir /proc/self/fd");
		goto out;
	}
	strcpy(data + o, full);
	r = mount("overlay", target, "overlay", MS_NODEV, data);
	if (r < 0 && errno == EINVAL) {
		overlay_opts(opts, sizeof opts, 1);
		if (strcmp(opts, full) != 0) {
			strcpy(data + o, opts);
			r = mount("overlay", target, "overlay", MS_NODEV, data);
		}
	}
	if (r < 0)
		rt_err_sys(e, "mount overlay");
	if (chdir("/") < 0 && r == 0)
		r = rt_err_sys(e, "chdir /");
out:
	for (i = 0; i < nlower; i++)
		closep(&lower[i]);
	closep(&upper);
	closep(&work);
	closep(&merged);
	closep(&procfd);
	return r;
}

static int open_root(struct ctx *c, struct rt_err *e)
{
	char lp[32];
	ssize_t n;

	c->root = openat(c->sd, "merged", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c->root < 0)
		return rt_err_sys(e, "open rootfs");
	n = readlink(fdp(lp, c->root), c->rootpath, sizeof c->rootpath - 1);
	if (n < 0)
		return rt_err_sys(e, "readlink rootfs");
	c->rootpath[n] = '\0';
	return 0;
}

static int build_dev(struct ctx *c, struct rt_err *e)
{
	struct mp m;
	size_t i;
	int r, dev = -1, fd = -1;

	r = mountpoint(c, "/dev", MP_DIR, &m, e);
	if (r != 0)
		return r == DEFERRED ? 0 : -1;
	/* Not nodev yet: the nodes are bind-mounted onto themselves first,
	 * and those mounts keep working once /dev itself is nodev. */
	r = do_mount("tmpfs", -1, m.fd, "tmpfs", MS_NOSUID, DEV_OPTS, "/dev", e);
	if (r == 0) {
		dev = reopen(&m, O_RDONLY | O_DIRECTORY);
		if (dev < 0)
			r = rt_err_sys(e, "open /dev");
	}
	for (i = 0; r == 0 && i < N(dev_nodes); i++) {
		if (mknodat(dev, dev_nodes[i].name, S_IFCHR | 0666,
			    makedev(dev_nodes[i].maj, dev_nodes[i].min)) < 0 ||
		    fchmodat(dev, dev_nodes[i].name, 0666, 0) < 0) {
			r = rt_err_sys(e, "mknod /dev/%s", dev_nodes[i].name);
			break;
		}
		fd = openat(dev, dev_nodes[i].name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			r = rt_err_sys(e, "open /dev/%s", dev_nodes[i].name);
		else
			r = do_mount(NULL, fd, fd, NULL, MS_BIND, NULL, dev_nodes[i].name, e);
		closep(&fd);
	}
	for (i = 0; r == 0 && i < N(dev_links); i++)
		if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0)
			r = rt_err_sys(e, "symlink /dev/%s", dev_links[i].name);
	if (r == 0 && (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0 ||
		       mkdirat(dev, "mqueue", 0755) < 0))
		r = rt_err_sys(e, "mkdir in /dev");
	if (r == 0 && c->s->tty) {
		fd = openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			r = rt_err_sys(e, "create /dev/console");
		closep(&fd);
	}
	if (r == 0) {
		fd = openat(dev, "pts", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? rt_err_sys(e, "open /dev/pts") :
			do_mount("devpts", -1, fd, "devpts", MS_NOSUID | MS_NOEXEC, PTS_OPTS, "/dev/pts", e);
		closep(&fd);
	}
	if (r == 0) {
		fd = openat(dev, "shm", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? rt_err_sys(e, "open /dev/shm") :
			do_mount("shm", -1, fd, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, SHM_OPTS, "/dev/shm", e);
		closep(&fd);
	}
	if (r == 0) {
		/* POSIX message queues are often left out of small kernels. */
		fd = openat(dev, "mqueue", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			r = rt_err_sys(e, "open /dev/mqueue");
		else if (do_mount("mqueue", -1, fd, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
				  NULL, "/dev/mqueue", e) < 0) {
			if (e->errnum == ENODEV)
				r = unlinkat(dev, "mqueue", AT_REMOVEDIR) < 0 ? rt_err_sys(e, "rmdir /dev/mqueue") : 0;
			else
				r = -1;
		}
		closep(&fd);
	}
	if (r == 0) {
		fd = reopen(&m, O_PATH);
		r = fd < 0 ? rt_err_sys(e, "open /dev") :
			remount(fd, MS_NOSUID | MS_NODEV, "/dev nodev", e);
		closep(&fd);
	}
	if (r == 0) {
		c->devnull = openat(dev, "null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (c->devnull < 0)
			r = rt_err_sys(e, "open /dev/null");
	}
	closep(&dev);
	mp_close(&m);
	return r;
}

/* Hide name beneath dir: /dev/null over a file, an empty read-only tmpfs
 * over a directory. Absent names are fine (kernels differ). */
static int mask(struct ctx *c, int dir, const char *name, const char *what,
		struct rt_err *e)
{
	struct stat st;
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? 0 : rt_err_sys(e, "open %s/%s", what, name);
	if (fstat(fd, &st) < 0) {
		r = rt_err_sys(e, "stat %s/%s", what, name);
	} else if (S_ISDIR(st.st_mode)) {
		r = do_mount("tmpfs", -1, fd, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			     NULL, name, e);
	} else if (c->devnull >= 0) {
		r = do_mount(NULL, c->devnull, fd, NULL, MS_BIND, NULL, name, e);
	} else {
		r = rt_err_set(e, ENOENT, "mask %s/%s: no /dev/null", what, name);
	}
	close(fd);
	return r < 0 ? rt_err_wrap(e, "mask %s", what) : 0;
}

static int bind_readonly(int dir, const char *name, const char *what, struct rt_err *e)
{
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), r;

	if (fd < 0)
		return errno == ENOENT ? 0 : rt_err_sys(e, "open %s/%s", what, name);
	r = do_mount(NULL, fd, fd, NULL, MS_BIND | MS_REC, NULL, name, e);
	close(fd);
	if (r < 0)
		return rt_err_wrap(e, "%s", what);
	fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "open %s/%s", what, name);
	r = remount(fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, name, e);
	close(fd);
	return r < 0 ? rt_err_wrap(e, "%s read-only", what) : 0;
}

static int build_proc(struct ctx *c, struct rt_err *e)
{
	struct mp m;
	size_t i;
	int r, proc = -1;

	r = mountpoint(c, "/proc", MP_DIR, &m, e);
	if (r != 0)
		return r == DEFERRED ? 0 : -1;
	r = do_mount("proc", -1, m.fd, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, "/proc", e);
	if (r == 0) {
		proc = reopen(&m, O_PATH | O_DIRECTORY);
		if (proc < 0)
			r = rt_err_sys(e, "open /proc");
	}
	for (i = 0; r == 0 && i < N(proc_masked); i++)
		r = mask(c, proc, proc_masked[i], "/proc", e);
	for (i = 0; r == 0 && i < N(proc_readonly); i++)
		r = bind_readonly(proc, proc_readonly[i], "/proc", e);
	closep(&proc);
	mp_close(&m);
	return r;
}

/* /sys/fs/cgroup: the container's own cgroups, read-only, each mounted
 * inside its cgroup namespace so that its root is the container's
 * cgroup. v2 alone is mounted there directly; otherwise a small tmpfs
 * holds a directory per hierarchy (and "unified" for cgroup2), with
 * Docker's symlinks for co-mounted controllers ("cpu" -> "cpu,cpuacct"). */
static int build_cgroup(struct ctx *c, int sys, struct rt_err *e)
{
	const struct rt_cgroup_view *v = c->cg;
	const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char data[96], one[64];
	int fs, cg, dir = -1, fd = -1, i, r = 0;

	if (!v || (!v->v2 && v->n == 0))
		return 0;
	fs = openat(sys, "fs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	cg = fs < 0 ? -1 : openat(fs, "cgroup", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	closep(&fs);
	if (cg < 0)   /* a kernel without cgroups has no mount point */
		return errno == ENOENT ? 0 : rt_err_sys(e, "open /sys/fs/cgroup");
	if (v->v2 == 2 && v->n == 0) {
		r = do_mount("cgroup2", -1, cg, "cgroup2", ro, NULL, "/sys/fs/cgroup", e);
		closep(&cg);
		return r;
	}
	r = do_mount("tmpfs", -1, cg, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, CGROUP_OPTS,
		     "/sys/fs/cgroup", e);
	closep(&cg);
	if (r == 0) {
		fs = openat(sys, "fs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		dir = fs < 0 ? -1 : openat(fs, "cgroup", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		closep(&fs);
		if (dir < 0)
			r = rt_err_sys(e, "open /sys/fs/cgroup");
	}
	for (i = 0; r == 0 && i <= v->n; i++) {
		const char *name, *type = "cgroup", *opts;

		if (i == v->n) {
			if (!v->v2)
				break;
			name = "unified";
			type = "cgroup2";
			opts = NULL;
		} else if (!strncmp(v->opts[i], "name=", 5)) {
			name = v->opts[i] + 5;
			snprintf(data, sizeof data, "none,%s", v->opts[i]);
			opts = data;
		} else {
			name = opts = v->opts[i];
		}
		if (mkdirat(dir, name, 0555) < 0 ||
		    (fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
			r = rt_err_sys(e, "mkdir /sys/fs/cgroup/%s", name);
			break;
		}
		r = do_mount(type, -1, fd, type, ro, opts, name, e);
		closep(&fd);
		if (r < 0) {
			rt_err_wrap(e, "/sys/fs/cgroup");
			break;
		}
		/* "cpu,cpuacct": also reachable as cpu and as cpuacct. */
		for (opts = strchr(name, ',') ? name : ""; *opts;) {
			size_t n = strcspn(opts, ",");

			snprintf(one, sizeof one, "%.*s", (int)n, opts);
			if (symlinkat(name, dir, one) < 0 && errno != EEXIST) {
				r = rt_err_sys(e, "symlink /sys/fs/cgroup/%s", one);
				break;
			}
			opts += n + (opts[n] == ',');
		}
	}
	if (r == 0)
		r = remount(dir, ro, "/sys/fs/cgroup read-only", e);
	closep(&dir);
	return r;
}

static int build_sys(struct ctx *c, struct rt_err *e)
{
	struct mp m;
	size_t i;
	int r, sys = -1;

	r = mountpoint(c, "/sys", MP_DIR, &m, e);
	if (r != 0)
		return r == DEFERRED ? 0 : -1;
	r = do_mount("sysfs", -1, m.fd, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     NULL, "/sys", e);
	if (r == 0) {
		sys = reopen(&m, O_PATH | O_DIRECTORY);
		if (sys < 0)
			r = rt_err_sys(e, "open /sys");
	}
	for (i = 0; r == 0 && i < N(sys_masked); i++)
		r = mask(c, sys, sys_masked[i], "/sys", e);
	if (r == 0)
		r = build_cgroup(c, sys, e);
	closep(&sys);
	mp_close(&m);
	return r;
}

static int build_etc(struct ctx *c, struct rt_err *e)
{
	char dest[32], src[32];
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < N(etc_files); i++) {
		struct mp m;
		int fd;

		snprintf(src, sizeof src, "etc/%s", etc_files[i]);
		snprintf(dest, sizeof dest, "/etc/%s", etc_files[i]);
		r = mountpoint(c, dest, MP_LEAVE, &m, e);
		if (r == DEFERRED || r == LEFT) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		fd = openat(c->rw, src, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? rt_err_sys(e, "open %s", src) :
			do_mount(NULL, fd, m.fd, NULL, MS_BIND, NULL, dest, e);
		closep(&fd);
		mp_close(&m);
	}
	return r;
}

static int build_volume(struct ctx *c, const struct rt_mount *v, struct rt_err *e)
{
	struct statfs sf;
	struct stat st;
	struct mp m = { -1, -1, "" };
	char data[64];
	unsigned long fl;
	int r, src = -1, fd = -1;

	if (v->kind == RT_MOUNT_TMPFS) {
		r = mountpoint(c, v->dest, MP_DIR, &m, e);
		if (r != 0)
			return r == DEFERRED ? 0 : -1;
		/* Always capped: a tmpfs without size= may take half the RAM. */
		snprintf(data, sizeof data, "mode=%o,size=%" PRIu64,
			 v->tmpfs_mode ? v->tmpfs_mode & 07777 : 01777,
			 v->tmpfs_bytes ? v->tmpfs_bytes : RT_SANDBOX_TMPFS_DEFAULT);
		r = do_mount("tmpfs", -1, m.fd, "tmpfs",
			     MS_NOSUID | MS_NODEV | (v->tmpfs_exec ? 0 : MS_NOEXEC) |
			     (v->readonly ? MS_RDONLY : 0), data, v->dest, e);
		mp_close(&m);
		return r;
	}
	if (!v->source)
		return rt_err_set(e, EINVAL, "volume %s: no source", v->dest);
	src = open(v->source, O_PATH | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) < 0 || fstatfs(src, &sf) < 0) {
		rt_err_sys(e, "volume source %s", v->source);
		closep(&src);
		return -1;
	}
	r = mountpoint(c, v->dest, S_ISDIR(st.st_mode) ? MP_DIR : 0, &m, e);
	if (r != 0) {
		closep(&src);
		return r == DEFERRED ? 0 : -1;
	}
	r = do_mount(NULL, src, m.fd, NULL, MS_BIND | MS_REC, NULL, v->dest, e);
	if (r == 0) {
		fd = reopen(&m, O_PATH);
		/* Keep what the source mount forbids; add nodev; a read-only
		 * source stays read-only whatever was asked. */
		fl = MS_NODEV;
		if (sf.f_flags & ST_NOSUID)
			fl |= MS_NOSUID;
		if (sf.f_flags & ST_NOEXEC)
			fl |= MS_NOEXEC;
		if (v->readonly || (sf.f_flags & ST_RDONLY))
			fl |= MS_RDONLY;
		r = fd < 0 ? rt_err_sys(e, "open %s", v->dest) : remount(fd, fl, v->dest, e);
	}
	closep(&fd);
	closep(&src);
	mp_close(&m);
	return r;
}

/* --- named volumes: Docker's copy-up ------------------------------------------ */

#define SEED_DEPTH 256        /* as deep as a layer may go */
#define SEED_BUF 16384

struct seed {
	const char *dest;
	char buf[SEED_BUF];
	char path[RT_PATH_MAX];   /* the entry being copied, for errors */
};

struct dirent64_ {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int seed_fail(struct seed *sd, const char *what, struct rt_err *e)
{
	return rt_err_sys(e, "seed volume %s: %s %.200s", sd->dest, what, sd->path);
}

/* Ownership, mode (setuid and setgid bits of files dropped: the volume
 * is on the host's store) and times of st onto fd or dir/name. */
static int seed_attrs(struct seed *sd, int fd, int dir, const char *name,
		      const struct stat *st, struct rt_err *e)
{
	struct timespec t[2] = { st->st_atim, st->st_mtim };
	mode_t mode = st->st_mode & 07777;

	if (!S_ISDIR(st->st_mode))
		mode &= (mode_t)~(S_ISUID | S_ISGID);
	if (fd >= 0) {
		if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, mode) < 0 ||
		    futimens(fd, t) < 0)
			return seed_fail(sd, "set attributes of", e);
		return 0;
	}
	/* A symlink: its owner and times; it has no mode of its own. */
	if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    utimensat(dir, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return seed_fail(sd, "set attributes of", e);
	return 0;
}

static int seed_file(struct seed *sd, int from, int to, const char *name,
		     const struct stat *st, struct rt_err *e)
{
	int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC), out = -1, r = -1;
	ssize_t n;

	if (in < 0)
		return seed_fail(sd, "open", e);
	out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		seed_fail(sd, "create", e);
		goto out;
	}
	while ((n = read(in, sd->buf, sizeof sd->buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			seed_fail(sd, "read", e);
			goto out;
		}
		if (rt_io_write_all(out, sd->buf, (size_t)n, e) < 0) {
			rt_err_wrap(e, "seed volume %s: %.200s", sd->dest, sd->path);
			goto out;
		}
	}
	r = seed_attrs(sd, out, -1, NULL, st, e);
out:
	closep(&in);
	closep(&out);
	return r;
}

/* Copy the tree under from (a directory of the rootfs) into to (a
 * directory of the volume): directories, regular files and symlinks,
 * none of them followed; device nodes, fifos and sockets are left out,
 * and so are extended attributes (file capabilities among them). Every
 * entry is created anew (O_EXCL), so nothing that appears in the volume
 * meanwhile is ever written through. */
static int seed_tree(struct seed *sd, int from, int to, int depth, struct rt_err *e)
{
	char dents[1024];
	size_t plen = strlen(sd->path);
	long n;

	if (depth > SEED_DEPTH)
		return rt_err_set(e, ELOOP, "seed volume %s: deeper than %d directories",
				  sd->dest, SEED_DEPTH);
	while ((n = syscall(SYS_getdents64, from, dents, sizeof dents)) > 0) {
		long off;

		for (off = 0; off < n; off += ((struct dirent64_ *)(dents + off))->reclen) {
			const char *name = ((struct dirent64_ *)(dents + off))->name;
			struct stat st;
			int r = 0, a, b;

			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			snprintf(sd->path + plen, sizeof sd->path - plen, "/%s", name);
			if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return seed_fail(sd, "stat", e);
			if (S_ISDIR(st.st_mode)) {
				if (mkdirat(to, name, 0700) < 0)
					return seed_fail(sd, "mkdir", e);
				a = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				b = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (a < 0 || b < 0)
					r = seed_fail(sd, "open", e);
				else if ((r = seed_tree(sd, a, b, depth + 1, e)) == 0)
					r = seed_attrs(sd, b, -1, NULL, &st, e);
				closep(&a);
				closep(&b);
			} else if (S_ISREG(st.st_mode)) {
				r = seed_file(sd, from, to, name, &st, e);
			} else if (S_ISLNK(st.st_mode)) {
				ssize_t k = readlinkat(from, name, sd->buf, sizeof sd->buf - 1);

				if (k < 0)
					return seed_fail(sd, "readlink", e);
				sd->buf[k] = '\0';
				if (symlinkat(sd->buf, to, name) < 0)
					return seed_fail(sd, "symlink", e);
				r = seed_attrs(sd, -1, to, name, &st, e);
			}
			if (r < 0)
				return -1;
			sd->path[plen] = '\0';
		}
	}
	if (n < 0)
		return seed_fail(sd, "list", e);
	return 0;
}

static int dir_is_empty(int fd, int *empty, struct rt_err *e)
{
	char dents[512];
	long n, off;

	*empty = 1;
	while ((n = syscall(SYS_getdents64, fd, dents, sizeof dents)) > 0)
		for (off = 0; off < n; off += ((struct dirent64_ *)(dents + off))->reclen) {
			const char *name = ((struct dirent64_ *)(dents + off))->name;

			if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0)
				*empty = 0;
		}
	if (n < 0)
		return rt_err_sys(e, "list volume");
	return lseek(fd, 0, SEEK_SET) < 0 ? rt_err_sys(e, "rewind volume") : 0;
}

/* Before anything is mounted on the new root, so the copy is the image's
 * (and the writable layer's) content, not /dev, /proc or other volumes.
 * A destination the image lacks, or has as anything but a directory,
 * seeds nothing (the mount itself then decides). */
static int seed_volume(struct ctx *c, const struct rt_mount *v, struct seed *sd,
		       struct rt_err *e)
{
	char rel[RT_PATH_MAX], *leaf;
	int vol = -1, parent = -1, img = -1, empty, r = -1;
	struct stat st;

	if (norm(v->dest, rel, e) < 0)
		return -1;
	if (!*rel)
		return 0;
	vol = open(v->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vol < 0)
		return rt_err_sys(e, "volume %s", v->source);
	if (dir_is_empty(vol, &empty, e) < 0 || !empty) {
		r = empty ? -1 : 0;
		goto out;
	}
	leaf = strrchr(rel, '/');
	if (leaf) {
		*leaf++ = '\0';
		parent = rt_path_open_in_root(c->root, rel, O_PATH | O_DIRECTORY, e);
	} else {
		leaf = rel;
		parent = fcntl(c->root, F_DUPFD_CLOEXEC, 3);
	}
	if (parent >= 0)
		img = openat(parent, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (img < 0 || fstat(img, &st) < 0) {
		rt_err_clear(e);
		r = 0;
		goto out;
	}
	sd->dest = v->dest;
	sd->path[0] = '\0';
	r = seed_tree(sd, img, vol, 0, e);
	if (r == 0)
		r = seed_attrs(sd, vol, -1, NULL, &st, e);
out:
	closep(&vol);
	closep(&parent);
	closep(&img);
	return r;
}

static int seed_volumes(struct ctx *c, struct rt_err *e)
{
	static struct seed sd;   /* in the child only: its own copy */
	int i;

	for (i = 0; i < c->s->nmounts; i++) {
		const struct rt_mount *v = &c->s->mounts[i];

		if (v->kind == RT_MOUNT_BIND && v->seed && v->source && seed_volume(c, v, &sd, e) < 0)
			return -1;
	}
	return 0;
}

static int build_workdir(struct ctx *c, struct rt_err *e)
{
	char rel[RT_PATH_MAX];
	struct mp m;
	int fd, r;

	if (!c->s->cwd)
		return 0;
	if (norm(c->s->cwd, rel, e) < 0)
		return rt_err_wrap(e, "workdir");
	if (!*rel)
		return 0;
	fd = rt_path_open_in_root(c->root, rel, O_PATH, e);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (e->errnum != ENOENT)
		return rt_err_wrap(e, "workdir");
	r = mountpoint(c, c->s->cwd, MP_DIR, &m, e);
	if (r == 0)
		mp_close(&m);
	return r == -1 ? rt_err_wrap(e, "workdir") : 0;
}

static int build(struct ctx *c, struct rt_err *e)
{
	int i;

	if (seed_volumes(c, e) < 0 || build_dev(c, e) < 0 || build_proc(c, e) < 0 ||
	    build_sys(c, e) < 0 || build_etc(c, e) < 0)
		return -1;
	for (i = 0; i < c->s->nmounts; i++)
		if (build_volume(c, &c->s->mounts[i], e) < 0)
			return -1;
	return build_workdir(c, e);
}

static int pivot(struct ctx *c, struct rt_err *e)
{
	/* pivot_root(".", ".") stacks the old root on the new one; the
	 * detach then leaves only the container's tree, with no put_old
	 * directory needed in a rootfs that may be read-only. */
	if (fchdir(c->root) < 0)
		return rt_err_sys(e, "chdir rootfs");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return rt_err_sys(e, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return rt_err_sys(e, "detach old root");
	if (chdir("/") < 0)
		return rt_err_sys(e, "chdir /");
	return 0;
}

int rt_mount_rootfs(const struct rt_sandbox_spec *s, const struct rt_cgroup_view *cg,
		    struct rt_err *e)
{
	struct ctx c;
	char lp[32];
	int r = -1;

	memset(&c, 0, sizeof c);
	c.s = s;
	c.cg = cg;
	c.sd = c.rw = c.mp = c.root = c.devnull = -1;
	/* Nothing done here may reach the host's mount table. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return rt_err_sys(e, "make / private");
	c.sd = open(s->statedir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c.sd < 0)
		return rt_err_sys(e, "open %s", s->statedir);
	c.rw = openat(c.sd, "rw", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (c.rw < 0) {
		rt_err_sys(e, "open writable layer");
		goto out;
	}
	if (s->readonly_rootfs) {
		c.mp = openat(c.rw, "mp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c.mp < 0) {
			rt_err_sys(e, "open mount point layer");
			goto out;
		}
	}
	if (overlay(&c, e) < 0 || open_root(&c, e) < 0)
		goto out;
	if (build(&c, e) < 0)
		goto out;
	if (c.deferred) {
		/* Mount points were added to the top layer: mount again so
		 * the overlay sees them, and build once more. */
		if (umount2(fdp(lp, c.root), MNT_DETACH) < 0) {
			rt_err_sys(e, "unmount rootfs");
			goto out;
		}
		closep(&c.root);
		closep(&c.devnull);
		c.second = 1;
		c.deferred = 0;
		if (overlay(&c, e) < 0 || open_root(&c, e) < 0 || build(&c, e) < 0)
			goto out;
	}
	r = pivot(&c, e);
out:
	closep(&c.sd);
	closep(&c.rw);
	closep(&c.mp);
	closep(&c.root);
	closep(&c.devnull);
	return r;
}

int rt_mount_workdir(const char *cwd, struct rt_err *e)
{
	char rel[RT_PATH_MAX];
	struct statfs sf;
	struct stat st;
	int root, fd;

	if (norm(cwd ? cwd : "/", rel, e) < 0)
		return rt_err_wrap(e, "workdir");
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return rt_err_sys(e, "open /");
	fd = rt_path_open_in_root(root, rel, O_PATH, e);
	close(root);
	if (fd < 0)
		return rt_err_wrap(e, "workdir %s", cwd);
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0) {
		rt_err_sys(e, "workdir %s", cwd);
		close(fd);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		close(fd);
		return rt_err_set(e, ENOTDIR, "workdir %s: not a directory", cwd);
	}
	if (sf.f_type == PROC_MAGIC) {
		close(fd);
		return rt_err_set(e, EPERM, "workdir %s: inside /proc", cwd);
	}
	return fd;
}

int rt_mount_console(int slave, struct rt_err *e)
{
	char sp[32];

	if (mount(fdp(sp, slave), "/dev/console", NULL, MS_BIND, NULL) < 0)
		return rt_err_sys(e, "mount /dev/console");
	return 0;
}

/* --- host side ----------------------------------------------------------- */

static int write_text(int dir, const char *name, const char *text, struct rt_err *e)
{
	return rt_io_write_volatile(dir, name, text, strlen(text), 0644, e);
}

/* A host file (hosts, resolv.conf) as the container's copy; a missing
 * one gives an empty file. Host paths: symlinks followed. */
static int copy_host(int dir, const char *name, const char *host, struct rt_err *e)
{
	char buf[HOST_FILE_MAX];
	ssize_t n = 0;
	int fd = open(host, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0) {
		n = rt_io_read_full(fd, buf, sizeof buf, e);
		close(fd);
		if (n < 0)
			return rt_err_wrap(e, "%s", host);
		if ((size_t)n == sizeof buf)
			return rt_err_set(e, EFBIG, "%s: larger than %u bytes", host, HOST_FILE_MAX);
	}
	return rt_io_write_volatile(dir, name, buf, (size_t)n, 0644, e);
}

static int mkdir_ok(int dir, const char *name, mode_t mode, struct rt_err *e)
{
	struct stat st;

	if (mkdirat(dir, name, mode) < 0 && errno != EEXIST)
		return rt_err_sys(e, "mkdir %s", name);
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_err_sys(e, "stat %s", name);
	if (!S_ISDIR(st.st_mode))
		return rt_err_set(e, ENOTDIR, "%s: not a directory", name);
	return 0;
}

static int is_mounted(int parent, const char *name)
{
	struct stat a, b;

	return fstat(parent, &a) == 0 && fstatat(parent, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev != b.st_dev;
}

int rt_mount_prepare(const struct rt_sandbox_spec *s, const char *hostname,
		     struct rt_err *e)
{
	char data[96], text[RT_NAME_MAX + 160], lp[32];
	uint64_t size = s->tmpfs_bytes ? s->tmpfs_bytes : RT_SANDBOX_TMPFS_DEFAULT;
	int sd = -1, rw = -1, etc = -1, r = -1;

	if (!s->statedir || s->statedir[0] != '/')
		return rt_err_set(e, EINVAL, "state dir must be an absolute path");
	if (mkdir(s->statedir, 0700) < 0 && errno != EEXIST)
		return rt_err_sys(e, "mkdir %s", s->statedir);
	sd = open(s->statedir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sd < 0)
		return rt_err_sys(e, "open %s", s->statedir);
	if (mkdir_ok(sd, "rw", 0700, e) < 0 || mkdir_ok(sd, "merged", 0700, e) < 0)
		goto out;
	if (!is_mounted(sd, "rw")) {
		/* One inode a page: small files cannot outgrow the cap. */
		snprintf(data, sizeof data, "mode=0755,size=%" PRIu64 ",nr_inodes=%" PRIu64,
			 size, size / 4096 < 1024 ? (uint64_t)1024 : size / 4096);
		rw = openat(sd, "rw", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (rw < 0 || mount("tmpfs", fdp(lp, rw), "tmpfs", MS_NOSUID | MS_NODEV, data) < 0) {
			rt_err_sys(e, "mount writable layer");
			goto out;
		}
		closep(&rw);
	}
	rw = openat(sd, "rw", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rw < 0) {
		rt_err_sys(e, "open writable layer");
		goto out;
	}
	if (s->readonly_rootfs ? mkdir_ok(rw, "mp", 0755, e) < 0 :
	    mkdir_ok(rw, "upper", 0755, e) < 0 || mkdir_ok(rw, "work", 0700, e) < 0)
		goto out;
	if (mkdir_ok(rw, "etc", 0755, e) < 0)
		goto out;
	etc = openat(rw, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etc < 0) {
		rt_err_sys(e, "open etc");
		goto out;
	}
	snprintf(text, sizeof text, "%s\n", hostname);
	if (write_text(etc, "hostname", text, e) < 0)
		goto out;
	if (s->etc_hosts || s->etc_resolv) {
		/* The network's own texts (net.c): names of the other
		   containers, --add-host, --dns. */
		if (write_text(etc, "hosts", s->etc_hosts ? s->etc_hosts : "", e) < 0 ||
		    write_text(etc, "resolv.conf", s->etc_resolv ? s->etc_resolv : "", e) < 0)
			goto out;
	} else if (s->net == RT_NET_HOST) {
		if (copy_host(etc, "hosts", "/etc/hosts", e) < 0 ||
		    copy_host(etc, "resolv.conf", "/etc/resolv.conf", e) < 0)
			goto out;
	} else {
		snprintf(text, sizeof text,
			 "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			 "127.0.1.1\t%s\n", hostname);
		if (write_text(etc, "hosts", text, e) < 0 || write_text(etc, "resolv.conf", "", e) < 0)
			goto out;
	}
	r = 0;
out:
	closep(&sd);
	closep(&rw);
	closep(&etc);
	return r;
}

int rt_mount_cleanup(const char *statedir, struct rt_err *e)
{
	char rwpath[RT_PATH_MAX + 8];
	int sd, tries;

	if (!statedir || statedir[0] != '/')
		return rt_err_set(e, EINVAL, "state dir must be an absolute path");
	if (snprintf(rwpath, sizeof rwpath, "%s/rw", statedir) >= (int)sizeof rwpath)
		return rt_err_set(e, ENAMETOOLONG, "state dir path too long");
	sd = open(statedir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sd < 0)
		return errno == ENOENT ? 0 : rt_err_sys(e, "open %s", statedir);
	/* Detach: a container that still runs keeps its own reference. */
	for (tries = 0; tries < 8 && is_mounted(sd, "rw"); tries++) {
		if (umount2(rwpath, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
			rt_err_sys(e, "unmount %s", rwpath);
			close(sd);
			return -1;
		}
	}
	if ((unlinkat(sd, "rw", AT_REMOVEDIR) < 0 && errno != ENOENT) ||
	    (unlinkat(sd, "merged", AT_REMOVEDIR) < 0 && errno != ENOENT)) {
		rt_err_sys(e, "remove state in %s", statedir);
		close(sd);
		return -1;
	}
	close(sd);
	/* The caller may keep its own files here. */
	if (rmdir(statedir) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return rt_err_sys(e, "remove %s", statedir);
	return 0;
}
