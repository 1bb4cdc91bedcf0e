/* tar: a push-style tar parser and a small deterministic tar writer.
 *
 * The parser turns bytes into events and does no filesystem work: the caller
 * feeds whatever it has (one byte or a megabyte at a time), gets one event per
 * call, and applies it. It reads POSIX ustar (with prefix), GNU ('L' long
 * names, 'K' long links, base-256 numbers), PAX ('x' per entry, 'g' global:
 * path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*) and old v7 headers.
 * Errors are sticky; the first one names what was wrong and where.
 *
 * Typical loop:
 *
 *     rt_tar_init(t, max_file_size);
 *     while ((n = read(fd, buf, sizeof buf)) > 0) {
 *             const uint8_t *p = buf;
 *             size_t len = n;
 *             for (;;) {
 *                     size_t used = rt_tar_push(t, p, len, &ev);
 *                     p += used; len -= used;
 *                     if (ev.kind == RT_TAR_EV_NONE) break;   // read more
 *                     if (ev.kind == RT_TAR_EV_ERROR) return rt_tar_error(t, e);
 *                     ... ENTRY: create; DATA: write ev.data/ev.len; ENTRY_END: close
 *             }
 *     }
 *     if (rt_tar_finish(t, e) < 0) ...        // truncated or bad archive
 *
 * Decisions a caller relies on:
 * - Paths are cleaned by the parser (rt_tar_path_clean): "./a//b/" is "a/b",
 *   a leading '/' is dropped as Docker does ("/etc/x" is "etc/x"), any ".."
 *   component is an error. A directory whose path cleans to nothing ("./",
 *   "/") is the layer root: its path is "" and the caller may skip it or
 *   apply its metadata to the root. Any other empty path is an error.
 *   Hardlink targets get the same cleaning (relative to the layer root);
 *   symlink targets are passed verbatim (they are data).
 * - Only FILE entries carry data. For the other types the header's size is
 *   ignored and no data blocks are read, as Docker's (Go's) reader does.
 * - Rejected: bad checksum (unsigned and signed sums both accepted), non-octal
 *   numbers, negative sizes or sizes above INT64_MAX or the caller's maximum,
 *   a PAX size that disagrees with a non-zero header size, malformed PAX
 *   records, NUL inside a PAX path or linkpath, sparse entries ('S' and
 *   GNU.sparse.*), multi-volume ('M', GNU.volume.*), volume labels ('V'),
 *   GNU dump directories ('D') and any other unknown type, two 'x' (or 'L',
 *   or 'K') headers for one entry, metadata headers with no entry after
 *   them, a lone zero block followed by a header, uid/gid of 2^32-1 or more.
 * - A 'g' header replaces the previous global set as a whole (writers emit
 *   at most one); its values apply to every later entry below the entry's
 *   own 'x' values (precedence: x > L/K > g > header fields). An empty
 *   PAX value unsets the key: the header field applies again.
 * - Limits (errors, never truncation): paths and link targets < 4096 bytes,
 *   PAX data <= 64 KiB per entry and <= 8 KiB global, <= 64 xattrs with
 *   names <= 255 bytes.
 * - The archive ends at two zero blocks; rt_tar_finish() fails unless both
 *   were seen. Up to RT_TAR_TRAILER_MAX bytes of anything may follow
 *   (record padding, junk); they produce no events; more is an error (the
 *   only event that can follow END).
 * - mtime fractions from PAX are dropped (truncated toward zero).
 * - xattrs are passed through whatever their namespace (trusted.*,
 *   security.*): what to apply is the caller's policy. Names are unique
 *   per entry (a later record replaces an earlier one).
 *
 * struct rt_tar is about 84 KiB: allocate it statically or on the heap. */
#ifndef RT_TAR_H
#define RT_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define RT_TAR_BLOCK_SIZE 512
#define RT_TAR_PATH_MAX 4096            /* buffer size: paths are < this */
#define RT_TAR_PAX_MAX 65536            /* per-entry PAX data */
#define RT_TAR_GLOBAL_MAX 8192          /* global PAX data */
#define RT_TAR_XATTR_MAX 64             /* xattrs per entry */
#define RT_TAR_XATTR_NAME_MAX 255       /* as XATTR_NAME_MAX */
#define RT_TAR_TRAILER_MAX (1024 * 1024)

enum rt_tar_type {
	RT_TAR_FILE = 1,
	RT_TAR_DIR,
	RT_TAR_SYMLINK,
	RT_TAR_HARDLINK,
	RT_TAR_CHAR,
	RT_TAR_BLOCK,
	RT_TAR_FIFO,
};

struct rt_tar_xattr {
	const char *name;       /* without "SCHILY.xattr.", NUL-terminated */
	const uint8_t *value;   /* binary; value[len] is a NUL for convenience */
	size_t len;
};

struct rt_tar_entry {
	enum rt_tar_type type;
	const char *path;       /* cleaned; "" only for the root directory */
	const char *linkpath;   /* SYMLINK verbatim, HARDLINK cleaned, else "" */
	uint32_t mode;          /* 07777 bits */
	uint32_t uid, gid;
	int64_t mtime;          /* seconds since the epoch */
	uint64_t size;          /* data bytes that follow; 0 unless FILE */
	uint32_t devmajor, devminor;    /* CHAR and BLOCK */
	size_t nxattr;
	const struct rt_tar_xattr *xattr;
};

enum rt_tar_ev_kind {
	RT_TAR_EV_NONE,         /* all input consumed, nothing to report */
	RT_TAR_EV_ENTRY,        /* ev.entry: a new member */
	RT_TAR_EV_DATA,         /* ev.data, ev.len: next bytes of a FILE */
	RT_TAR_EV_ENTRY_END,    /* the member is complete (always follows ENTRY) */
	RT_TAR_EV_END,          /* end-of-archive marker; no events after it */
	RT_TAR_EV_ERROR,        /* sticky: rt_tar_error() says why */
};

struct rt_tar_ev {
	enum rt_tar_ev_kind kind;
	/* ENTRY, DATA, ENTRY_END: valid until the push after ENTRY_END. */
	const struct rt_tar_entry *entry;
	/* DATA: points into the buffer given to rt_tar_push(), no copy. */
	const uint8_t *data;
	size_t len;
};

/* Parser context. Fields are private; sizes are public so the caller owns
 * the memory. */
struct rt_tar_paxset {
	unsigned has, clr;
	const char *path, *link;
	size_t pathlen, linklen;
	uint64_t size;
	uint32_t uid, gid;
	int64_t mtime;
};

struct rt_tar {
	int state;
	unsigned flags;
	uint64_t max_size;
	uint64_t off;           /* bytes consumed */
	uint64_t hdr_off;       /* offset of the current header */
	uint64_t nent;          /* members seen, for messages */
	uint64_t remain;        /* data or metadata bytes left */
	uint64_t skip;          /* padding bytes left */
	size_t have;            /* bytes in blk or in the metadata buffer */
	int metatype;
	uint8_t *meta;          /* where metadata data goes */
	size_t metalen;
	size_t paxlen;
	size_t ngx, nx;
	struct rt_tar_paxset gset;
	struct rt_tar_entry ent;
	struct rt_err err;
	struct rt_tar_xattr gx[RT_TAR_XATTR_MAX];
	struct rt_tar_xattr x[RT_TAR_XATTR_MAX];
	uint8_t blk[RT_TAR_BLOCK_SIZE];
	char path[RT_TAR_PATH_MAX];
	char link[RT_TAR_PATH_MAX];
	uint8_t gpax[RT_TAR_GLOBAL_MAX + 1];
	uint8_t pax[RT_TAR_PAX_MAX + 1];
};

/* Start a parse. Regular files larger than max_size bytes are rejected;
 * 0 means INT64_MAX. */
void rt_tar_init(struct rt_tar *t, uint64_t max_size);

/* Consume bytes from buf until one event is ready or buf is used up;
 * returns the number of bytes consumed and fills *ev. NONE means all of buf
 * was consumed with nothing to report; any other kind may leave bytes
 * unconsumed (push them again) and may come with 0 consumed, so call again
 * until NONE. len 0 is valid. After ERROR every call returns ERROR. */
size_t rt_tar_push(struct rt_tar *t, const uint8_t *buf, size_t len,
		   struct rt_tar_ev *ev);

/* End of input. 0 when the end-of-archive marker was seen and nothing went
 * wrong; otherwise -1 with what and where (truncated archive, sticky error). */
int rt_tar_finish(struct rt_tar *t, struct rt_err *e);

/* 0 when no error so far, else -1 with the sticky error copied to e. */
int rt_tar_error(const struct rt_tar *t, struct rt_err *e);

/* Clean an archive path in place: drop leading '/', empty and "."
 * components and trailing '/'; reject ".." components and paths of
 * RT_TAR_PATH_MAX bytes or more. Returns the new length (0: the root) or -1,
 * in which case path is left partly rewritten. */
int rt_tar_path_clean(char *path, struct rt_err *e);

/* Writer (mkimage). Deterministic: no uname/gname, devmajor/minor 0 except
 * for devices, fields given by the caller only. The path must already be
 * clean ("" writes the root as "./"); directories get a trailing '/'.
 * A PAX 'x' header is added when the path or link does not fit ustar, uid,
 * gid, mtime or size do not fit octal, or xattrs are given (written in the
 * order given: sort them for reproducible layers). Writes all header blocks
 * for ent into buf; returns the byte count (a multiple of 512) or -1.
 * RT_TAR_WRITE_MAX bytes of buf always suffice. The caller then writes
 * ent->size data bytes, rt_tar_pad(ent->size) zero bytes, and after the last
 * entry the end marker (rt_tar_write_end). */
#define RT_TAR_WRITE_MAX (2 * RT_TAR_BLOCK_SIZE + RT_TAR_PAX_MAX)
ssize_t rt_tar_write_header(uint8_t *buf, size_t cap,
			    const struct rt_tar_entry *ent, struct rt_err *e);

/* Zero bytes that must follow size bytes of data. */
size_t rt_tar_pad(uint64_t size);

/* The end marker: two zero blocks. Returns 1024 or -1 if cap is short. */
ssize_t rt_tar_write_end(uint8_t *buf, size_t cap, struct rt_err *e);

#endif
