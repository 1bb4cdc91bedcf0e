/* Unpack one layer in one streaming pass: the blob's bytes are hashed as
 * they arrive, inflated (gzip, when built with it), parsed as tar and
 * applied beneath a directory fd, with OCI whiteouts turned into overlay
 * ones. Nothing here names a final location: the caller unpacks into a
 * staging dir and renames it once rt_unpack_finish() said the digest and
 * size match.
 *
 * What a layer may contain, and what becomes of it:
 * - files, directories, symlinks, fifos: created with their mode (setuid
 *   and sticky bits included), owner and mtime;
 * - hardlinks: only to a file, symlink or fifo earlier in the same layer;
 * - ".wh.NAME": a char device 0:0 named NAME (an overlay whiteout), unless
 *   NAME is already in this layer (a whiteout only hides lower layers);
 *   ".wh..wh..opq": trusted.overlay.opaque=y on its directory, wherever it
 *   comes in the tar; other ".wh..wh.*" names are ignored;
 * - xattrs: user.* and security.capability are kept, everything else
 *   (trusted.*, security.selinux, system.*) is dropped;
 * - device nodes: refused unless allow_devices;
 * - a later entry of the same name replaces the earlier one (a directory
 *   stays a directory and only takes the new metadata).
 * Every path is resolved beneath the root fd with no symlink followed, so
 * nothing is ever created, changed or removed outside it; a path through a
 * symlink is an error.
 *
 * The record (rt_unpack_record) sums one SHA-256 per entry of the unpacked
 * tree — path, type, mode, owner, size, mtime, link target, xattrs and a
 * CRC-32 of file content — so `rt verify` can check a layer whose
 * compressed blob was not kept. */
#ifndef RT_UNPACK_H
#define RT_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sha256.h"

struct rt_unpack_limits {
	uint64_t layer_bytes;   /* uncompressed tar stream */
	uint64_t image_bytes;   /* all layers of one image (for callers) */
	uint64_t entries;       /* tar members */
	unsigned depth;         /* path components */
};

/* The build's limits, lowered by the RT_LIMITS environment string when
 * given ("layer=64M,image=1G,entries=1000,depth=32"; K, M, G suffixes). */
int rt_unpack_limits(struct rt_unpack_limits *l, const char *env, struct rt_err *e);

enum rt_unpack_comp {
	RT_UNPACK_TAR,
	RT_UNPACK_GZIP,         /* error when built without CONFIG_GZIP */
};

struct rt_unpack_opts {
	enum rt_unpack_comp comp;
	uint8_t digest[RT_SHA256_LEN];  /* of the blob, as it arrives */
	uint64_t size;                  /* blob bytes, exactly */
	int check_diff;                 /* also check the uncompressed tar */
	uint8_t diff_id[RT_SHA256_LEN];
	struct rt_unpack_limits lim;
	int allow_devices;
	int blobfd;                     /* >= 0: the blob is copied here */
	int statfd;                     /* >= 0: keep `reserve` bytes free */
	uint64_t reserve;               /*   on this fd's filesystem */
};

struct rt_unpack_stats {
	uint64_t in;            /* blob bytes */
	uint64_t out;           /* tar bytes */
	uint64_t entries;
};

struct rt_unpack;

/* Start unpacking into rootfd (an empty directory, which stays open and
 * owned by the caller). Allocates the context (about 250 KiB). */
struct rt_unpack *rt_unpack_new(int rootfd, const struct rt_unpack_opts *o,
				struct rt_err *e);
/* Feed the next bytes of the blob; all are consumed. Errors are sticky. */
int rt_unpack_push(struct rt_unpack *u, const void *buf, size_t len,
		   struct rt_err *e);
/* End of the blob: checks the size, the digest(s), that the gzip stream and
 * the tar archive are complete, then sets directory times. */
int rt_unpack_finish(struct rt_unpack *u, struct rt_unpack_stats *st,
		     struct rt_err *e);
void rt_unpack_free(struct rt_unpack *u);

struct rt_unpack_record {
	uint64_t entries;       /* every path, the root included */
	uint64_t bytes;         /* regular file content, per path */
	uint64_t disk;          /* allocated bytes, hardlinked files once */
	uint8_t tree[RT_SHA256_LEN];
};

/* The record of the tree beneath rootfd, reading every file. */
int rt_unpack_record(int rootfd, struct rt_unpack_record *r, struct rt_err *e);
/* The same record of what u unpacked (after rt_unpack_finish succeeded),
 * without reading the files again: their CRC-32 was taken as they were
 * written. */
int rt_unpack_record_of(struct rt_unpack *u, struct rt_unpack_record *r,
			struct rt_err *e);

/* CRC-32 (IEEE, as zlib and gzip), for the record. */
uint32_t rt_unpack_crc32(uint32_t crc, const void *buf, size_t len);

#endif
