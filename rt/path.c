#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "path.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define RESOLVE_NO_MAGICLINKS_ 0x02
#define RESOLVE_NO_SYMLINKS_ 0x04
#define RESOLVE_BENEATH_ 0x08
#define RESOLVE_IN_ROOT_ 0x10

struct open_how_ {
	unsigned long long flags, mode, resolve;
};

#define MAX_LINKS 40

#ifdef RT_PATH_TESTING
static int testing_no_openat2;   /* the unit test runs both code paths */
#endif

/* openat2, retried on EAGAIN (a rename raced with the lookup); -2 with
 * errno ENOSYS when the kernel has no openat2. */
static int try_openat2(int dirfd, const char *path, int flags, mode_t mode,
		       unsigned long long resolve)
{
	struct open_how_ how = { (unsigned)flags, (flags & O_CREAT) ? mode : 0, resolve };
	int i, fd = -1;

#ifdef RT_PATH_TESTING
	if (testing_no_openat2)
		return -2;
#endif
	for (i = 0; i < 16; i++) {
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0 && errno == ENOSYS)
		return -2;
	return fd;
}

int rt_path_have_openat2(void)
{
	int fd = try_openat2(AT_FDCWD, "/", O_PATH | O_CLOEXEC, 0, RESOLVE_BENEATH_);

	if (fd >= 0)
		close(fd);
	return fd != -2;
}

int rt_path_is_clean(const char *s)
{
	const char *c = s;

	if (!*s || *s == '/')
		return 0;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += n;
		if (*c == '/' && !*++c)
			return 0;   /* trailing slash: an empty last component */
	}
	return 1;
}

/* The walk for kernels before openat2: every component opened with
 * O_NOFOLLOW, so a symlink anywhere fails with ELOOP or ENOTDIR. */
static int walk_open(int dirfd, const char *path, int flags, mode_t mode)
{
	char comp[RT_NAME_MAX + 1];
	const char *c = path;
	int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	while (cur >= 0) {
		size_t n;
		int next;

		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if (n > RT_NAME_MAX) {
			close(cur);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, c, n);
		comp[n] = '\0';
		c += n;
		while (*c == '/')
			c++;
		if (!*c) {
			next = openat(cur, n ? comp : ".", flags | O_NOFOLLOW | O_CLOEXEC, mode);
			close(cur);
			return next;
		}
		if (n == 1 && comp[0] == '.')
			continue;
		next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		cur = next;
	}
	return -1;
}

static int has_dotdot(const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
		while (*p == '/')
			p++;
	}
	return 0;
}

int rt_path_open(int dirfd, const char *path, int flags, mode_t mode,
		 struct rt_err *e)
{
	int fd;

	if (path[0] == '/' || has_dotdot(path))
		return rt_err_set(e, EINVAL, "%s: path leaves its directory", path);
	if (strlen(path) >= RT_PATH_MAX)
		return rt_err_set(e, ENAMETOOLONG, "path too long");
	fd = try_openat2(dirfd, *path ? path : ".", flags | O_CLOEXEC, mode,
			 RESOLVE_BENEATH_ | RESOLVE_NO_SYMLINKS_ | RESOLVE_NO_MAGICLINKS_);
	if (fd == -2)
		fd = walk_open(dirfd, path, flags, mode);
	if (fd < 0)
		return rt_err_sys(e, "open %s", *path ? path : ".");
	return fd;
}

/* Drop the last component of the resolved path r (".." at the root stays
 * at the root). */
static void pop(char *r)
{
	char *s = strrchr(r, '/');

	if (s)
		*s = '\0';
	else
		r[0] = '\0';
}

/* rem = target + "/" + rem, bounded. */
static int prepend(char *rem, size_t cap, const char *target)
{
	size_t t = strlen(target), r = strlen(rem);

	if (t + 1 + r + 1 > cap)
		return -1;
	memmove(rem + t + 1, rem, r + 1);
	memcpy(rem, target, t);
	rem[t] = '/';
	return 0;
}

/* Resolution inside a root for kernels before openat2: symlinks are read
 * and re-applied component by component with ".." and absolute targets
 * clamped at the root; each step is opened with the O_NOFOLLOW walk. */
static int walk_in_root(int rootfd, const char *path, int flags, struct rt_err *e)
{
	char rem[2 * RT_PATH_MAX], res[RT_PATH_MAX], target[RT_PATH_MAX];
	int links = 0;
	size_t rl = 0;

	if (strlen(path) >= sizeof rem)
		return rt_err_set(e, ENAMETOOLONG, "path too long");
	strcpy(rem, path);
	res[0] = '\0';
	for (;;) {
		char *c = rem;
		struct stat st;
		size_t n;
		ssize_t tl;
		int fd, last;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		n = strcspn(c, "/");
		last = c[n] == '\0' || c[n + strspn(c + n, "/")] == '\0';
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			if (n == 2)
				pop(res);
			memmove(rem, c + n, strlen(c + n) + 1);
			continue;
		}
		rl = strlen(res);
		if (rl + 1 + n + 1 > sizeof res)
			return rt_err_set(e, ENAMETOOLONG, "path too long");
		if (rl)
			res[rl++] = '/';
		memcpy(res + rl, c, n);
		res[rl + n] = '\0';
		memmove(rem, c + n, strlen(c + n) + 1);
		if (last && (flags & O_NOFOLLOW))
			break;
		fd = walk_open(rootfd, res, O_PATH | O_NOFOLLOW, 0);
		if (fd < 0) {
			if (errno == ENOENT && last)
				break;   /* the final open creates it or says ENOENT */
			return rt_err_sys(e, "open %s", path);
		}
		if (fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode)) {
			close(fd);
			continue;
		}
		tl = readlinkat(fd, "", target, sizeof target - 1);
		close(fd);
		if (tl < 0)
			return rt_err_sys(e, "readlink %s", res);
		target[tl] = '\0';
		if (++links > MAX_LINKS)
			return rt_err_set(e, ELOOP, "%s: too many symlinks", path);
		pop(res);
		if (target[0] == '/')
			res[0] = '\0';
		if (prepend(rem, sizeof rem, target) < 0)
			return rt_err_set(e, ENAMETOOLONG, "path too long");
	}
	{
		int fd = walk_open(rootfd, res, flags, 0);

		if (fd < 0)
			return rt_err_sys(e, "open %s", path);
		return fd;
	}
}

int rt_path_open_in_root(int rootfd, const char *path, int flags,
			 struct rt_err *e)
{
	int fd;

	if (strlen(path) >= RT_PATH_MAX)
		return rt_err_set(e, ENAMETOOLONG, "path too long");
	fd = try_openat2(rootfd, *path ? path : ".", flags | O_CLOEXEC, 0,
			 RESOLVE_IN_ROOT_ | RESOLVE_NO_MAGICLINKS_);
	if (fd == -2)
		return walk_in_root(rootfd, path, flags, e);
	if (fd < 0)
		return rt_err_sys(e, "open %s", path);
	return fd;
}

int rt_path_mkdirs(int dirfd, const char *path, mode_t mode, struct rt_err *e)
{
	char comp[RT_NAME_MAX + 1];
	const char *c = path;
	int cur;

	if (path[0] == '/' || has_dotdot(path))
		return rt_err_set(e, EINVAL, "%s: path leaves its directory", path);
	cur = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return rt_err_sys(e, "open directory");
	for (;;) {
		size_t n;
		int next;

		while (*c == '/')
			c++;
		if (!*c)
			return cur;
		n = strcspn(c, "/");
		if (n > RT_NAME_MAX) {
			close(cur);
			return rt_err_set(e, ENAMETOOLONG, "%s: name too long", path);
		}
		memcpy(comp, c, n);
		comp[n] = '\0';
		c += n;
		if (n == 1 && comp[0] == '.')
			continue;
		if (mkdirat(cur, comp, mode) < 0 && errno != EEXIST) {
			close(cur);
			return rt_err_sys(e, "mkdir %s", comp);
		}
		next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		if (next < 0)
			return rt_err_sys(e, "open %s", comp);
		cur = next;
	}
}

int rt_path_parent(int dirfd, const char *path, char *leaf, struct rt_err *e)
{
	const char *s = strrchr(path, '/');
	char dir[RT_PATH_MAX];
	size_t dl;

	if (!s) {
		if (strlen(path) > RT_NAME_MAX)
			return rt_err_set(e, ENAMETOOLONG, "%s: name too long", path);
		strcpy(leaf, path);
		return rt_path_open(dirfd, "", O_RDONLY | O_DIRECTORY, 0, e);
	}
	if (strlen(s + 1) > RT_NAME_MAX || !s[1])
		return rt_err_set(e, EINVAL, "%s: bad last component", path);
	dl = (size_t)(s - path);
	if (dl >= sizeof dir)
		return rt_err_set(e, ENAMETOOLONG, "path too long");
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	strcpy(leaf, s + 1);
	return rt_path_open(dirfd, dir, O_RDONLY | O_DIRECTORY, 0, e);
}
