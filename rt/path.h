/* Paths from images, archives, registries and users are never joined into
 * host paths as strings: they are resolved beneath a directory fd.
 *
 * rt_path_open() follows no symlink at all (store and layer work, where a
 * symlink is data). rt_path_open_in_root() follows symlinks the way the
 * container will see them, with ".." and absolute targets clamped at the
 * root fd (mount destinations, workdir, /etc/passwd inside a rootfs).
 * Both use openat2() where the kernel has it (5.6+) and otherwise walk the
 * path one component at a time with O_NOFOLLOW. */
#ifndef RT_PATH_H
#define RT_PATH_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define RT_PATH_MAX 4096

/* Open path (relative; no ".." component) beneath dirfd, following no
 * symlink in any component. flags as for openat (O_CLOEXEC is added);
 * O_CREAT creates only the last component. */
int rt_path_open(int dirfd, const char *path, int flags, mode_t mode,
		 struct rt_err *e);

/* Open path as if dirfd were "/", symlinks resolved inside it. */
int rt_path_open_in_root(int rootfd, const char *path, int flags,
			 struct rt_err *e);

/* mkdir -p beneath dirfd, no symlink followed; returns an
 * O_RDONLY|O_DIRECTORY fd of the last directory. */
int rt_path_mkdirs(int dirfd, const char *path, mode_t mode, struct rt_err *e);

/* Split path into its parent, opened beneath dirfd with rt_path_open(), and
 * its last component, copied to leaf (RT_NAME_MAX + 1 bytes). "a" gives a
 * dup of dirfd and "a". */
#define RT_NAME_MAX 255
int rt_path_parent(int dirfd, const char *path, char *leaf, struct rt_err *e);

/* 1 when s is a safe relative path: not empty, no leading '/', no "." or
 * ".." component, no empty component, no NUL before len. */
int rt_path_is_clean(const char *s);

/* Whether openat2 with RESOLVE_* is available (for `rt info`). */
int rt_path_have_openat2(void);

#endif
