/* fd I/O that never loses a byte silently, and durable writes.
 *
 * A durable write puts the bytes under a temporary name in the same
 * directory, fsyncs the file, renames it over the final name and fsyncs
 * the directory: after a power cut the name holds either the old content
 * or the new, never a mix. */
#ifndef RT_IO_H
#define RT_IO_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Write all of buf, retrying on EINTR and short writes. */
int rt_io_write_all(int fd, const void *buf, size_t len, struct rt_err *e);

/* Read until len bytes or end of file; returns the count read, < 0 on error. */
ssize_t rt_io_read_full(int fd, void *buf, size_t len, struct rt_err *e);

/* Read a whole small file beneath dirfd into buf (at most cap bytes; a
 * larger file is an error, never truncated). Stores the length in *len. */
int rt_io_read_file(int dirfd, const char *name, void *buf, size_t cap,
		    size_t *len, struct rt_err *e);

/* Durably replace name (a plain name, no '/') in dirfd with buf. */
int rt_io_write_file(int dirfd, const char *name, const void *buf, size_t len,
		     mode_t mode, struct rt_err *e);

/* Replace name in dirfd with buf atomically for readers (temp + rename)
 * but without fsync: for files on the volatile run directory, and for
 * records nothing needs after a power cut. */
int rt_io_write_volatile(int dirfd, const char *name, const void *buf, size_t len,
			 mode_t mode, struct rt_err *e);

/* Make a unique temporary file in dirfd for a durable write; its name goes
 * to tmp (at least RT_IO_TMPNAME bytes). Returns the fd. */
#define RT_IO_TMPNAME 32
int rt_io_tmpfile(int dirfd, char *tmp, mode_t mode, struct rt_err *e);

/* fsync fd, rename tmp to name in dirfd, fsync dirfd. Closes nothing. */
int rt_io_commit(int fd, int dirfd, const char *tmp, const char *name,
		 struct rt_err *e);

int rt_io_fsync_dir(int dirfd, struct rt_err *e);

/* close() that keeps errno; for cleanup paths. */
void rt_io_close(int *fd);
#define RT_AUTOCLOSE __attribute__((cleanup(rt_io_close)))

#endif
