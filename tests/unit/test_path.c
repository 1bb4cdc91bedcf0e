/* Resolution beneath a directory fd, with openat2 and with the walk. */
#define RT_PATH_TESTING
#include "../../rt/path.c"

#include <stdlib.h>

#include "tap.h"

static int root;

static void setup(void)
{
	char tmpl[] = "/tmp/rt-path-XXXXXX";

	if (!mkdtemp(tmpl))
		exit(1);
	root = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	mkdirat(root, "a", 0755);
	mkdirat(root, "a/b", 0755);
	close(openat(root, "a/b/f", O_CREAT | O_WRONLY, 0644));
	close(openat(root, "top", O_CREAT | O_WRONLY, 0644));
	symlinkat("/", root, "a/abs");          /* absolute: clamped to root */
	symlinkat("../../..", root, "a/b/up");  /* climbs past the root */
	symlinkat("b/f", root, "a/rel");
	symlinkat("/etc/passwd", root, "a/passwd");
	symlinkat("loop2", root, "loop1");
	symlinkat("loop1", root, "loop2");
}

/* 1 when fd refers to the same file as root-relative path want. */
static int same(int fd, const char *want)
{
	struct stat a, b;
	int r;

	if (fd < 0)
		return 0;
	r = fstat(fd, &a) == 0 && fstatat(root, want, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	close(fd);
	return r;
}

static void run(const char *mode)
{
	struct rt_err e;
	char leaf[RT_NAME_MAX + 1];
	int fd;

	ok(same(rt_path_open(root, "a/b/f", O_RDONLY, 0, &e), "a/b/f"), "%s: plain open", mode);
	ok(same(rt_path_open(root, "./a//b/./f", O_RDONLY, 0, &e), "a/b/f"), "%s: dots and slashes", mode);
	ok(rt_path_open(root, "a/rel", O_RDONLY, 0, &e) < 0, "%s: final symlink refused", mode);
	ok(rt_path_open(root, "a/abs/top", O_RDONLY, 0, &e) < 0, "%s: symlink in the middle refused", mode);
	ok(rt_path_open(root, "a/../top", O_RDONLY, 0, &e) < 0, "%s: .. refused", mode);
	ok(rt_path_open(root, "/top", O_RDONLY, 0, &e) < 0, "%s: absolute refused", mode);
	fd = rt_path_open(root, "a/new", O_CREAT | O_WRONLY | O_EXCL, 0600, &e);
	ok(fd >= 0, "%s: create last component", mode);
	if (fd >= 0)
		close(fd);
	unlinkat(root, "a/new", 0);

	ok(same(rt_path_open_in_root(root, "a/rel", O_RDONLY, &e), "a/b/f"), "%s: in root: relative link", mode);
	ok(same(rt_path_open_in_root(root, "/a/abs/top", O_RDONLY, &e), "top"), "%s: in root: absolute link clamped", mode);
	ok(same(rt_path_open_in_root(root, "a/b/up/top", O_RDONLY, &e), "top"), "%s: in root: .. clamped", mode);
	ok(same(rt_path_open_in_root(root, "../../../top", O_RDONLY, &e), "top"), "%s: in root: leading .. clamped", mode);
	fd = rt_path_open_in_root(root, "a/passwd", O_RDONLY, &e);
	ok(fd < 0 && e.errnum == ENOENT, "%s: in root: /etc/passwd is the root's, not the host's", mode);
	if (fd >= 0)
		close(fd);
	fd = rt_path_open_in_root(root, "loop1", O_RDONLY, &e);
	ok(fd < 0 && e.errnum == ELOOP, "%s: in root: symlink loop", mode);
	if (fd >= 0)
		close(fd);
	ok(same(rt_path_open_in_root(root, "a/rel", O_PATH | O_NOFOLLOW, &e), "a/rel"), "%s: in root: O_NOFOLLOW keeps the link", mode);

	fd = rt_path_mkdirs(root, "m/n/o", 0755, &e);
	ok(same(fd, "m/n/o"), "%s: mkdirs", mode);
	fd = rt_path_mkdirs(root, "a/abs/x", 0755, &e);
	ok(fd < 0, "%s: mkdirs refuses to go through a symlink", mode);
	if (fd >= 0)
		close(fd);
	fd = rt_path_parent(root, "a/b/f", leaf, &e);
	ok(same(fd, "a/b") && !strcmp(leaf, "f"), "%s: parent", mode);
	fd = rt_path_parent(root, "top", leaf, &e);
	ok(same(fd, ".") && !strcmp(leaf, "top"), "%s: parent of a plain name", mode);
}

int main(void)
{
	setup();
	run("openat2");
	testing_no_openat2 = 1;
	run("walk");
	ok(rt_path_is_clean("a/b"), "clean");
	ok(!rt_path_is_clean("a/../b") && !rt_path_is_clean("/a") && !rt_path_is_clean("") &&
	   !rt_path_is_clean("a//b") && !rt_path_is_clean("./a") && !rt_path_is_clean("a/"),
	   "unclean ones");
	return done_testing();
}
