#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "io.h"
#include "path.h"

#define CGROUP_MAGIC 0x27e0eb
#define CGROUP2_MAGIC 0x63677270
#define ROOT "/sys/fs/cgroup"

/* The v1 hierarchies rt manages, in this order; v2 is one hierarchy. */
static const char *const v1_ctrl[RT_CGROUP_MAX_FDS] = { "memory", "pids", "cpu" };

static long fs_type(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return 0;
	return (long)sf.f_type;
}

/* Where the v2 hierarchy is, or NULL. */
static const char *v2_root(void)
{
	if (fs_type(ROOT) == CGROUP2_MAGIC)
		return ROOT;
	if (fs_type(ROOT "/unified") == CGROUP2_MAGIC)
		return ROOT "/unified";
	return NULL;
}

enum rt_cgroup_mode rt_cgroup_mode(void)
{
	int i;

	if (fs_type(ROOT) == CGROUP2_MAGIC)
		return RT_CGROUP_V2;
	for (i = 0; i < RT_CGROUP_MAX_FDS; i++) {
		char p[64];

		snprintf(p, sizeof p, ROOT "/%s", v1_ctrl[i]);
		if (fs_type(p) == CGROUP_MAGIC)
			return RT_CGROUP_V1;
	}
	return v2_root() ? RT_CGROUP_V2 : RT_CGROUP_NONE;
}

static int valid_id(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= 128 && id[0] != '.' && strcmp(id, RT_CGROUP_LEAF) != 0 &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* /proc/self/cgroup into buf, NUL-terminated. */
static int read_self(char *buf, size_t len, struct rt_err *e)
{
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return rt_err_sys(e, "open /proc/self/cgroup");
	got = rt_io_read_full(fd, buf, len - 1, e);
	close(fd);
	if (got < 0)
		return rt_err_wrap(e, "/proc/self/cgroup");
	if ((size_t)got == len - 1)
		return rt_err_set(e, EFBIG, "/proc/self/cgroup: too large");
	buf[got] = '\0';
	return 0;
}

/* Split a /proc/self/cgroup line "N:controllers:path" in place. */
static int split_line(char *line, char **num, char **ctrls, char **path)
{
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c2)
		return -1;
	*c1 = *c2 = '\0';
	*num = line;
	*ctrls = c1 + 1;
	*path = c2 + 1;
	return 0;
}

/* Whether the comma-separated list has ctrl. */
static int lists(const char *l, const char *ctrl)
{
	size_t n = strlen(ctrl);

	while (*l) {
		size_t k = strcspn(l, ",");

		if (k == n && memcmp(l, ctrl, k) == 0)
			return 1;
		l += k + (l[k] == ',');
	}
	return 0;
}

/* The calling process's cgroup in one hierarchy, from /proc/self/cgroup:
 * the v2 line ("0::/path") with ctrl NULL, else the v1 line listing ctrl. */
static int own_path(const char *ctrl, char *out, size_t len, struct rt_err *e)
{
	char buf[8192], *line, *save = NULL, *num, *ctrls, *path;
	size_t n;

	if (read_self(buf, sizeof buf, e) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (split_line(line, &num, &ctrls, &path) < 0)
			continue;
		if (ctrl ? !lists(ctrls, ctrl) : strcmp(num, "0") != 0 || *ctrls)
			continue;
		n = strlen(path);
		if (n >= len)
			return rt_err_set(e, ENAMETOOLONG, "own cgroup path too long");
		memcpy(out, path, n + 1);
		return 0;
	}
	return rt_err_set(e, ENOENT, "no %s cgroup in /proc/self/cgroup", ctrl ? ctrl : "v2");
}

/* Whether path ends in the component sequence tail ("/rt/x"). */
static int ends_with(const char *path, const char *tail)
{
	size_t a = strlen(path), b = strlen(tail);

	return a >= b && strcmp(path + a - b, tail) == 0;
}

/* "<root>/<own>/rt" and "<root>/<own>/rt/<id>" for one hierarchy. */
static int paths(const char *root, const char *ctrl, const char *id,
		 char *own, char *parent, char *dir, struct rt_err *e)
{
	char self[RT_PATH_MAX];
	int n;

	if (own_path(ctrl, self, sizeof self, e) < 0)
		return -1;
	/* Once rt moved itself into its leaf, the base is two levels up. */
	if (ends_with(self, "/rt/" RT_CGROUP_LEAF))
		self[strlen(self) - strlen("/rt/" RT_CGROUP_LEAF)] = '\0';
	if (strcmp(self, "/") == 0)
		self[0] = '\0';
	n = snprintf(own, RT_PATH_MAX, "%s%s", root, self);
	if (n < 0 || n >= RT_PATH_MAX)
		return rt_err_set(e, ENAMETOOLONG, "cgroup path too long");
	n = snprintf(parent, RT_PATH_MAX, "%s/rt", own);
	if (n < 0 || n >= RT_PATH_MAX)
		return rt_err_set(e, ENAMETOOLONG, "cgroup path too long");
	n = snprintf(dir, RT_PATH_MAX, "%s/%s", parent, id);
	if (n < 0 || n >= RT_PATH_MAX)
		return rt_err_set(e, ENAMETOOLONG, "cgroup path too long");
	return 0;
}

static int write_at(const char *dir, const char *file, const char *val,
		    int missing_ok, struct rt_err *e)
{
	char p[RT_PATH_MAX + 64];
	int fd, r;

	if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p)
		return rt_err_set(e, ENAMETOOLONG, "cgroup path too long");
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (missing_ok && errno == ENOENT)
			return 0;
		return rt_err_sys(e, "cgroup: open %s", file);
	}
	r = rt_io_write_all(fd, val, strlen(val), e);
	close(fd);
	if (r < 0)
		return rt_err_wrap(e, "cgroup: %s = %s", file, val);
	return 0;
}

static int make_dir(const char *p, struct rt_err *e)
{
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return rt_err_sys(e, "cgroup: mkdir %s", p);
	return 0;
}

static int open_procs(const char *dir, int *fd, struct rt_err *e)
{
	char p[RT_PATH_MAX + 16];

	if (snprintf(p, sizeof p, "%s/cgroup.procs", dir) >= (int)sizeof p)
		return rt_err_set(e, ENAMETOOLONG, "cgroup path too long");
	*fd = open(p, O_WRONLY | O_CLOEXEC);
	if (*fd < 0)
		return rt_err_sys(e, "cgroup: open %s", p);
	return 0;
}

/* Whether the v2 cgroup at dir offers ctrl (in its cgroup.controllers). */
static int v2_has(const char *dir, const char *ctrl)
{
	char p[RT_PATH_MAX + 32], buf[512], *t, *save = NULL;
	struct rt_err e;
	ssize_t n;
	int fd;

	snprintf(p, sizeof p, "%s/cgroup.controllers", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = rt_io_read_full(fd, buf, sizeof buf - 1, &e);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	for (t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (strcmp(t, ctrl) == 0)
			return 1;
	return 0;
}

/* v2: move the calling process out of its base cgroup into the leaf
 * <base>/rt/supervisor, so the base holds no process of rt's and can
 * delegate controllers. The root may hold processes; a process already
 * in the leaf stays. */
static int leave_base(const char *root, const char *own, const char *parent,
		      struct rt_err *e)
{
	char self[RT_PATH_MAX], leaf[RT_PATH_MAX];
	int fd = -1, r;

	if (strcmp(own, root) == 0)
		return 0;
	if (own_path(NULL, self, sizeof self, e) < 0)
		return -1;
	if (ends_with(self, "/rt/" RT_CGROUP_LEAF))
		return 0;
	if (snprintf(leaf, sizeof leaf, "%s/" RT_CGROUP_LEAF, parent) >= (int)sizeof leaf)
		return rt_err_set(e, ENAMETOOLONG, "cgroup path too long");
	if (make_dir(leaf, e) < 0 || open_procs(leaf, &fd, e) < 0)
		return -1;
	r = rt_io_write_all(fd, "0", 1, e);
	close(fd);
	return r < 0 ? rt_err_wrap(e, "cgroup v2: move rt into %s", leaf) : 0;
}

static void fmt_u64(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%" PRIu64, v);
}

static int create_v2(const char *id, const struct rt_cgroup_limits *l,
		     int *fds, int *nfds, int *dirfd, struct rt_err *e)
{
	char own[RT_PATH_MAX], parent[RT_PATH_MAX], dir[RT_PATH_MAX];
	static const char *const ctrls[] = { "memory", "pids", "cpu" };
	const int want[] = { l->memory_bytes != 0, l->pids_max != 0, l->cpu_millis != 0 };
	const char *root = v2_root();
	char v[64];
	size_t i;

	if (paths(root, NULL, id, own, parent, dir, e) < 0)
		return -1;
	if (make_dir(parent, e) < 0 || leave_base(root, own, parent, e) < 0)
		return -1;
	/* Controllers reach a cgroup only through every ancestor's
	 * subtree_control; a limit that cannot be delegated is an error. */
	for (i = 0; i < 3; i++) {
		char op[16];

		if (!v2_has(own, ctrls[i])) {
			if (want[i])
				return rt_err_set(e, ENOTSUP, "cgroup v2: no %s controller in %s", ctrls[i], own);
			continue;
		}
		snprintf(op, sizeof op, "+%s", ctrls[i]);
		if (write_at(own, "cgroup.subtree_control", op, 0, e) < 0 ||
		    write_at(parent, "cgroup.subtree_control", op, 0, e) < 0) {
			if (!want[i]) {
				rt_err_clear(e);
				continue;
			}
			if (e->errnum == EBUSY)
				return rt_err_set(e, EBUSY, "cgroup v2: %s holds processes other than rt, so "
						  "it cannot pass the %s controller to containers (run rt in "
						  "a cgroup of its own)", own, ctrls[i]);
			return -1;
		}
	}
	if (make_dir(dir, e) < 0)
		return -1;
	if (l->memory_bytes) {
		fmt_u64(v, sizeof v, l->memory_bytes);
		/* Docker's --memory without --memory-swap: as much swap again. */
		if (write_at(dir, "memory.max", v, 0, e) < 0 ||
		    write_at(dir, "memory.swap.max", v, 1, e) < 0)
			return -1;
	}
	if (l->pids_max) {
		fmt_u64(v, sizeof v, l->pids_max);
		if (write_at(dir, "pids.max", v, 0, e) < 0)
			return -1;
	}
	if (l->cpu_millis) {
		snprintf(v, sizeof v, "%" PRIu64 " %u",
			 (uint64_t)l->cpu_millis * (RT_CGROUP_CPU_PERIOD / 1000), RT_CGROUP_CPU_PERIOD);
		if (write_at(dir, "cpu.max", v, 0, e) < 0)
			return -1;
	}
	if (open_procs(dir, &fds[0], e) < 0)
		return -1;
	*nfds = 1;
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return rt_err_sys(e, "cgroup: open %s", dir);
	return 0;
}

static int v1_limits(const char *ctrl, const char *dir,
		     const struct rt_cgroup_limits *l, struct rt_err *e)
{
	char v[64];

	if (strcmp(ctrl, "memory") == 0 && l->memory_bytes) {
		fmt_u64(v, sizeof v, l->memory_bytes);
		if (write_at(dir, "memory.limit_in_bytes", v, 0, e) < 0)
			return -1;
		if (l->memory_bytes <= UINT64_MAX / 2) {
			fmt_u64(v, sizeof v, l->memory_bytes * 2);
			/* memsw exists only with swap accounting. */
			if (write_at(dir, "memory.memsw.limit_in_bytes", v, 1, e) < 0)
				return -1;
		}
	}
	if (strcmp(ctrl, "pids") == 0 && l->pids_max) {
		fmt_u64(v, sizeof v, l->pids_max);
		if (write_at(dir, "pids.max", v, 0, e) < 0)
			return -1;
	}
	if (strcmp(ctrl, "cpu") == 0 && l->cpu_millis) {
		snprintf(v, sizeof v, "%u", RT_CGROUP_CPU_PERIOD);
		if (write_at(dir, "cpu.cfs_period_us", v, 0, e) < 0)
			return -1;
		fmt_u64(v, sizeof v, (uint64_t)l->cpu_millis * (RT_CGROUP_CPU_PERIOD / 1000));
		if (write_at(dir, "cpu.cfs_quota_us", v, 0, e) < 0)
			return -1;
	}
	return 0;
}

static int create_v1(const char *id, const struct rt_cgroup_limits *l, int open_only,
		     int *fds, int *nfds, struct rt_err *e)
{
	char own[RT_PATH_MAX], parent[RT_PATH_MAX], dir[RT_PATH_MAX];
	const int want[RT_CGROUP_MAX_FDS] = { l->memory_bytes != 0, l->pids_max != 0, l->cpu_millis != 0 };
	int i;

	for (i = 0; i < RT_CGROUP_MAX_FDS; i++) {
		char root[64];

		snprintf(root, sizeof root, ROOT "/%s", v1_ctrl[i]);
		if (fs_type(root) != CGROUP_MAGIC) {
			if (want[i])
				return rt_err_set(e, ENOTSUP, "cgroup v1: no %s hierarchy", v1_ctrl[i]);
			continue;
		}
		if (!open_only && !want[i])
			continue;
		if (paths(root, v1_ctrl[i], id, own, parent, dir, e) < 0)
			return -1;
		if (!open_only && (make_dir(parent, e) < 0 || make_dir(dir, e) < 0 ||
				   v1_limits(v1_ctrl[i], dir, l, e) < 0))
			return -1;
		if (open_procs(dir, &fds[*nfds], e) < 0) {
			if (open_only && e->errnum == ENOENT)
				continue;
			return -1;
		}
		(*nfds)++;
	}
	return 0;
}

static void close_fds(int *fds, int *nfds)
{
	while (*nfds > 0)
		close(fds[--*nfds]);
}

int rt_cgroup_create(const char *id, const struct rt_cgroup_limits *l,
		     int fds[RT_CGROUP_MAX_FDS], int *nfds, int *dirfd,
		     struct rt_err *e)
{
	int r = 0;

	*nfds = 0;
	*dirfd = -1;
	if (!valid_id(id))
		return rt_err_set(e, EINVAL, "cgroup: bad container id");
	if (l->cpu_millis && l->cpu_millis < 10)
		return rt_err_set(e, EINVAL, "cgroup: cpus below 0.01");
	switch (rt_cgroup_mode()) {
	case RT_CGROUP_V2:
		r = create_v2(id, l, fds, nfds, dirfd, e);
		break;
	case RT_CGROUP_V1:
		r = create_v1(id, l, 0, fds, nfds, e);
		break;
	case RT_CGROUP_NONE:
		if (l->memory_bytes || l->pids_max || l->cpu_millis)
			return rt_err_set(e, ENOTSUP, "cgroup: no cgroup file system mounted");
		return 0;
	}
	if (r < 0) {
		close_fds(fds, nfds);
		if (*dirfd >= 0)
			close(*dirfd);
		*dirfd = -1;
	}
	return r;
}

int rt_cgroup_open(const char *id, int fds[RT_CGROUP_MAX_FDS], int *nfds,
		   struct rt_err *e)
{
	static const struct rt_cgroup_limits none;
	char own[RT_PATH_MAX], parent[RT_PATH_MAX], dir[RT_PATH_MAX];
	int r = 0;

	*nfds = 0;
	if (!valid_id(id))
		return rt_err_set(e, EINVAL, "cgroup: bad container id");
	switch (rt_cgroup_mode()) {
	case RT_CGROUP_V2:
		r = paths(v2_root(), NULL, id, own, parent, dir, e);
		if (r == 0 && (r = open_procs(dir, &fds[0], e)) == 0)
			*nfds = 1;
		break;
	case RT_CGROUP_V1:
		r = create_v1(id, &none, 1, fds, nfds, e);
		break;
	case RT_CGROUP_NONE:
		break;
	}
	if (r < 0)
		close_fds(fds, nfds);
	return r;
}

int rt_cgroup_join(const int *fds, int nfds, struct rt_err *e)
{
	int i;

	for (i = 0; i < nfds; i++)
		if (rt_io_write_all(fds[i], "0", 1, e) < 0)
			return rt_err_wrap(e, "join cgroup");
	return 0;
}

static int remove_dir(const char *root, const char *ctrl, const char *id,
		      struct rt_err *e)
{
	char own[RT_PATH_MAX], parent[RT_PATH_MAX], dir[RT_PATH_MAX];

	if (paths(root, ctrl, id, own, parent, dir, e) < 0)
		return -1;
	if (rmdir(dir) < 0 && errno != ENOENT)
		return rt_err_sys(e, "cgroup: remove %s", dir);
	return 0;
}

int rt_cgroup_remove(const char *id, struct rt_err *e)
{
	int i, r = 0;

	if (!valid_id(id))
		return rt_err_set(e, EINVAL, "cgroup: bad container id");
	switch (rt_cgroup_mode()) {
	case RT_CGROUP_V2:
		return remove_dir(v2_root(), NULL, id, e);
	case RT_CGROUP_V1:
		for (i = 0; i < RT_CGROUP_MAX_FDS; i++) {
			char root[64];

			snprintf(root, sizeof root, ROOT "/%s", v1_ctrl[i]);
			if (fs_type(root) == CGROUP_MAGIC && remove_dir(root, v1_ctrl[i], id, e) < 0)
				r = -1;
		}
		return r;
	case RT_CGROUP_NONE:
		break;
	}
	return 0;
}

int rt_cgroup_view(const char *id, struct rt_cgroup_view *v, struct rt_err *e)
{
	char buf[8192], tail[RT_PATH_MAX], *line, *save = NULL, *num, *ctrls, *path;

	memset(v, 0, sizeof *v);
	if (!valid_id(id))
		return rt_err_set(e, EINVAL, "cgroup: bad container id");
	snprintf(tail, sizeof tail, "/rt/%s", id);
	if (read_self(buf, sizeof buf, e) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (split_line(line, &num, &ctrls, &path) < 0 || !ends_with(path, tail))
			continue;
		if (!*ctrls && strcmp(num, "0") == 0) {
			v->v2 = fs_type(ROOT) == CGROUP2_MAGIC ? 2 : 1;
			continue;
		}
		/* A name that does not fit only leaves that hierarchy out. */
		if (v->n < RT_CGROUP_VIEW_MAX && *ctrls && strlen(ctrls) < sizeof v->opts[0] &&
		    !strchr(ctrls, '/'))
			strcpy(v->opts[v->n++], ctrls);
	}
	return 0;
}

int rt_cgroup_dir(const char *id, const char *controller, char *buf,
		  size_t len, struct rt_err *e)
{
	char own[RT_PATH_MAX], parent[RT_PATH_MAX], dir[RT_PATH_MAX];
	char root[64];
	int v2 = rt_cgroup_mode() == RT_CGROUP_V2;

	if (!valid_id(id))
		return rt_err_set(e, EINVAL, "cgroup: bad container id");
	if (v2)
		snprintf(root, sizeof root, "%s", v2_root());
	else
		snprintf(root, sizeof root, ROOT "/%s", controller);
	if (paths(root, v2 ? NULL : controller, id, own, parent, dir, e) < 0)
		return -1;
	if (strlen(dir) >= len)
		return rt_err_set(e, ENAMETOOLONG, "cgroup path too long");
	strcpy(buf, dir);
	return 0;
}
