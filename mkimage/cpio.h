/* A gzip'd cpio "newc" archive, the format the kernel unpacks as an
 * initramfs. Entries are written in the order given, with fixed owners
 * (0:0), mtime 0 and inode numbers counted from 1, so the same inputs make
 * the same bytes. */
#ifndef MK_CPIO_H
#define MK_CPIO_H

#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#include "err.h"

struct mk_cpio {
	int fd;
	uint32_t ino;
	int open;
	z_stream z;
	uint8_t out[16384];
};

int mk_cpio_open(struct mk_cpio *c, int fd, struct rt_err *e);

/* A directory, a symlink (data = target), a character device (major,
 * minor) or a small regular file whose bytes are in data. */
int mk_cpio_dir(struct mk_cpio *c, const char *name, mode_t perm, struct rt_err *e);
int mk_cpio_symlink(struct mk_cpio *c, const char *name, const char *target,
		    struct rt_err *e);
int mk_cpio_chardev(struct mk_cpio *c, const char *name, mode_t perm,
		    unsigned major, unsigned minor, struct rt_err *e);
int mk_cpio_data(struct mk_cpio *c, const char *name, mode_t perm,
		 const void *data, size_t len, struct rt_err *e);

/* A regular file streamed from srcfd (its whole content, size bytes). */
int mk_cpio_file(struct mk_cpio *c, const char *name, mode_t perm, int srcfd,
		 uint64_t size, struct rt_err *e);

/* The trailer, the gzip end, and close nothing: fd stays the caller's. */
int mk_cpio_close(struct mk_cpio *c, struct rt_err *e);

/* Free zlib's state after an error. */
void mk_cpio_abort(struct mk_cpio *c);

#endif
