#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "io.h"

/* Push len bytes (or, with flush, the rest of the stream) through gzip. */
static int deflate_out(struct mk_cpio *c, const void *buf, size_t len, int flush,
		       struct rt_err *e)
{
	c->z.next_in = (Bytef *)(uintptr_t)buf;
	c->z.avail_in = (uInt)len;
	do {
		int r;

		c->z.next_out = c->out;
		c->z.avail_out = sizeof c->out;
		r = deflate(&c->z, flush);
		if (r == Z_STREAM_ERROR)
			return rt_err_set(e, EIO, "cpio: deflate failed");
		if (rt_io_write_all(c->fd, c->out, sizeof c->out - c->z.avail_out, e) < 0)
			return rt_err_wrap(e, "cpio");
		if (flush == Z_FINISH && r == Z_STREAM_END)
			break;
	} while (c->z.avail_out == 0 || (flush == Z_FINISH));
	return 0;
}

static int zeros(struct mk_cpio *c, size_t n, struct rt_err *e)
{
	static const uint8_t z[4];

	return n ? deflate_out(c, z, n, Z_NO_FLUSH, e) : 0;
}

int mk_cpio_open(struct mk_cpio *c, int fd, struct rt_err *e)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	/* windowBits 16+15: a gzip wrapper with no name and mtime 0. */
	if (deflateInit2(&c->z, 9, Z_DEFLATED, 16 + 15, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return rt_err_set(e, ENOMEM, "cpio: deflateInit failed");
	c->open = 1;
	return 0;
}

static int header(struct mk_cpio *c, const char *name, mode_t mode, uint64_t size,
		  unsigned rmaj, unsigned rmin, struct rt_err *e)
{
	char h[111];
	size_t nl = strlen(name) + 1;

	if (size > 0xffffffffu)
		return rt_err_set(e, EFBIG, "cpio: %s: larger than 4 GiB", name);
	if (nl > 4096)
		return rt_err_set(e, ENAMETOOLONG, "cpio: %s: name too long", name);
	snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 ++c->ino, (unsigned)mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u,
		 (unsigned)size, 0u, 0u, rmaj, rmin, (unsigned)nl, 0u);
	if (deflate_out(c, h, 110, Z_NO_FLUSH, e) < 0 ||
	    deflate_out(c, name, nl, Z_NO_FLUSH, e) < 0)
		return -1;
	return zeros(c, (4 - (110 + nl) % 4) % 4, e);
}

int mk_cpio_dir(struct mk_cpio *c, const char *name, mode_t perm, struct rt_err *e)
{
	return header(c, name, S_IFDIR | (perm & 07777), 0, 0, 0, e);
}

int mk_cpio_symlink(struct mk_cpio *c, const char *name, const char *target,
		    struct rt_err *e)
{
	size_t n = strlen(target);

	if (header(c, name, S_IFLNK | 0777, n, 0, 0, e) < 0 ||
	    deflate_out(c, target, n, Z_NO_FLUSH, e) < 0)
		return -1;
	return zeros(c, (4 - n % 4) % 4, e);
}

int mk_cpio_chardev(struct mk_cpio *c, const char *name, mode_t perm,
		    unsigned major, unsigned minor, struct rt_err *e)
{
	return header(c, name, S_IFCHR | (perm & 07777), 0, major, minor, e);
}

int mk_cpio_data(struct mk_cpio *c, const char *name, mode_t perm,
		 const void *data, size_t len, struct rt_err *e)
{
	if (header(c, name, S_IFREG | (perm & 07777), len, 0, 0, e) < 0 ||
	    deflate_out(c, data, len, Z_NO_FLUSH, e) < 0)
		return -1;
	return zeros(c, (4 - len % 4) % 4, e);
}

int mk_cpio_file(struct mk_cpio *c, const char *name, mode_t perm, int srcfd,
		 uint64_t size, struct rt_err *e)
{
	uint8_t buf[16384];
	uint64_t left = size;

	if (header(c, name, S_IFREG | (perm & 07777), size, 0, 0, e) < 0)
		return -1;
	while (left) {
		ssize_t n = rt_io_read_full(srcfd, buf, left < sizeof buf ? left : sizeof buf, e);

		if (n < 0)
			return rt_err_wrap(e, "cpio: %s", name);
		if (n == 0)
			return rt_err_set(e, EIO, "cpio: %s: shorter than %llu bytes", name,
					  (unsigned long long)size);
		if (deflate_out(c, buf, (size_t)n, Z_NO_FLUSH, e) < 0)
			return -1;
		left -= (uint64_t)n;
	}
	return zeros(c, (size_t)((4 - size % 4) % 4), e);
}

int mk_cpio_close(struct mk_cpio *c, struct rt_err *e)
{
	int r = header(c, "TRAILER!!!", 0, 0, 0, 0, e);

	if (r == 0)
		r = deflate_out(c, NULL, 0, Z_FINISH, e);
	mk_cpio_abort(c);
	return r;
}

void mk_cpio_abort(struct mk_cpio *c)
{
	if (c->open)
		deflateEnd(&c->z);
	c->open = 0;
}
