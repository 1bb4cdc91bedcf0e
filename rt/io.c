#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"

int rt_io_write_all(int fd, const void *buf, size_t len, struct rt_err *e)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rt_err_sys(e, "write");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t rt_io_read_full(int fd, void *buf, size_t len, struct rt_err *e)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rt_err_sys(e, "read");
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int rt_io_read_file(int dirfd, const char *name, void *buf, size_t cap,
		    size_t *len, struct rt_err *e)
{
	char extra;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return rt_err_sys(e, "open %s", name);
	n = rt_io_read_full(fd, buf, cap, e);
	/* One more byte tells a file of exactly cap bytes from a larger one. */
	if (n >= 0 && (size_t)n == cap && rt_io_read_full(fd, &extra, 1, e) != 0) {
		close(fd);
		return rt_err_set(e, EFBIG, "%s: larger than %zu bytes", name, cap);
	}
	close(fd);
	if (n < 0)
		return rt_err_wrap(e, "%s", name);
	*len = (size_t)n;
	return 0;
}

int rt_io_tmpfile(int dirfd, char *tmp, mode_t mode, struct rt_err *e)
{
	static unsigned seq;   /* only makes names differ within one process */
	int tries, fd;

	for (tries = 0; tries < 100; tries++) {
		snprintf(tmp, RT_IO_TMPNAME, ".tmp-%d-%u", (int)getpid(), seq++);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return rt_err_sys(e, "create %s", tmp);
	}
	return rt_err_set(e, EEXIST, "no free temporary name");
}

int rt_io_fsync_dir(int dirfd, struct rt_err *e)
{
	if (fsync(dirfd) < 0 && errno != EINVAL)
		return rt_err_sys(e, "fsync directory");
	return 0;
}

int rt_io_commit(int fd, int dirfd, const char *tmp, const char *name,
		 struct rt_err *e)
{
	if (fsync(fd) < 0)
		return rt_err_sys(e, "fsync %s", name);
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		return rt_err_sys(e, "rename to %s", name);
	return rt_io_fsync_dir(dirfd, e);
}

static int put_file(int dirfd, const char *name, const void *buf, size_t len,
		    mode_t mode, int durable, struct rt_err *e)
{
	char tmp[RT_IO_TMPNAME];
	int fd, r;

	if (strchr(name, '/'))
		return rt_err_set(e, EINVAL, "%s: not a plain file name", name);
	fd = rt_io_tmpfile(dirfd, tmp, mode, e);
	if (fd < 0)
		return -1;
	r = rt_io_write_all(fd, buf, len, e);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = rt_err_sys(e, "chmod");
	if (r == 0 && durable)
		r = rt_io_commit(fd, dirfd, tmp, name, e);
	else if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = rt_err_sys(e, "rename to %s", name);
	close(fd);
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return rt_err_wrap(e, "write %s", name);
	}
	return 0;
}

int rt_io_write_file(int dirfd, const char *name, const void *buf, size_t len,
		     mode_t mode, struct rt_err *e)
{
	return put_file(dirfd, name, buf, len, mode, 1, e);
}

int rt_io_write_volatile(int dirfd, const char *name, const void *buf, size_t len,
			 mode_t mode, struct rt_err *e)
{
	return put_file(dirfd, name, buf, len, mode, 0, e);
}

void rt_io_close(int *fd)
{
	int saved = errno;

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	errno = saved;
}
