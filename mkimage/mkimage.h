/* mkimage: the host tool that makes keys, builds OCI images, signs and
 * checks them. One file per verb family; this header is what they share:
 * the OCI layout an image lives in (a directory, or an OCI archive unpacked
 * into a temporary one), layer writing, and the JSON helpers that keep every
 * document mkimage writes canonical (compact, keys in byte order). */
#ifndef MKIMAGE_H
#define MKIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "json.h"
#include "sha256.h"

#define MK_MEDIA_INDEX "application/vnd.oci.image.index.v1+json"
#define MK_MEDIA_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MK_MEDIA_CONFIG "application/vnd.oci.image.config.v1+json"
#define MK_MEDIA_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MK_MEDIA_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MK_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MK_MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MK_MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MK_MEDIA_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MK_ANN_REF "org.opencontainers.image.ref.name"

#define MK_JSON_MAX (4 * 1024 * 1024)   /* manifests, configs, index.json */
#define MK_REF_MAX 256
#define MK_ANN_MAX 4096         /* an index entry's annotations, as JSON text */
#define MK_PLAT_MAX 32

/* ---- verbs (one per file) ----------------------------------------------- */

int mk_keygen(int argc, char **argv);
int mk_build(int argc, char **argv);
int mk_sign(int argc, char **argv);
int mk_verify(int argc, char **argv);
int mk_inspect(int argc, char **argv);
int mk_flash(int argc, char **argv);

/* "mkimage: VERB: MSG" on stderr; returns code. */
int mk_fail(const char *verb, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for an error record. */
int mk_fail_err(const char *verb, const struct rt_err *e);

#define MK_EXIT_FAIL 1
#define MK_EXIT_USAGE 2

/* Flags: "--name VALUE", "--name=VALUE", "-o VALUE", or a bare switch. */
struct mk_opt {
	const char *name;       /* with its dashes */
	bool arg;
	int id;                 /* > 0 */
};
enum { MK_OPT_END = -1, MK_OPT_ERR = -2, MK_OPT_ARG = 0 };
/* Next word of argv from *i: an option's id (its value in *val), MK_OPT_ARG
 * for a positional word (in *val), MK_OPT_END, or MK_OPT_ERR (printed). */
int mk_getopt(const char *verb, int argc, char **argv, int *i,
	const struct mk_opt *opts, const char **val);

/* ---- OCI layouts (layout.c) --------------------------------------------- */

/* One entry of index.json. */
struct mk_desc {
	char media[128];
	uint8_t digest[RT_SHA256_LEN];
	uint64_t size;
	char ref[MK_REF_MAX];           /* org.opencontainers.image.ref.name or "" */
	char ann[MK_ANN_MAX];           /* the annotations object as read, or "" */
	char arch[MK_PLAT_MAX], os[MK_PLAT_MAX], variant[MK_PLAT_MAX];
};

struct mk_layout {
	char path[4096];        /* as the user named it */
	bool archive;           /* path is (or becomes) an OCI archive */
	char dir[4096];         /* the layout directory worked on */
	bool staged;            /* dir is ours (temporary): removed at close */
	int dirfd, blobfd;      /* dir and dir/blobs/sha256 */
	size_t n, cap;
	struct mk_desc *m;      /* index.json manifests, in order */
};

/* Open an existing layout directory or OCI archive (unpacked into a
 * temporary directory beside it). */
int mk_layout_open(struct mk_layout *l, const char *path, struct rt_err *e);
/* Start a new, empty layout that mk_layout_commit() puts at out: a
 * directory, or an OCI archive when archive is set. */
int mk_layout_create(struct mk_layout *l, const char *out, bool archive,
	struct rt_err *e);
/* Write index.json and oci-layout, then put the result in place: a new
 * directory replaces an old layout at that path; an archive is written
 * (deterministically, only reachable blobs) and renamed over the path. */
int mk_layout_commit(struct mk_layout *l, struct rt_err *e);
void mk_layout_close(struct mk_layout *l);

/* Append an index entry (copied). */
int mk_layout_add(struct mk_layout *l, const struct mk_desc *d, struct rt_err *e);
void mk_layout_remove(struct mk_layout *l, size_t i);

/* Open blob `digest` for reading; its size must be `size` (checked). */
int mk_blob_open(struct mk_layout *l, const uint8_t digest[RT_SHA256_LEN],
	uint64_t size, struct rt_err *e);
/* Read a whole blob of at most cap bytes, checking size and digest.
 * Returns the byte count. */
ssize_t mk_blob_read(struct mk_layout *l, const uint8_t digest[RT_SHA256_LEN],
	uint64_t size, void *buf, size_t cap, struct rt_err *e);
/* Store buf as a blob; its digest goes to digest. */
int mk_blob_put(struct mk_layout *l, const void *buf, size_t len,
	uint8_t digest[RT_SHA256_LEN], struct rt_err *e);
/* Stream a blob in: open a temporary file in blobs/sha256, write it,
 * then name it by its digest (computed by the writer). */
int mk_blob_begin(struct mk_layout *l, char tmp[32], struct rt_err *e);
int mk_blob_end(struct mk_layout *l, int fd, const char *tmp,
	const uint8_t digest[RT_SHA256_LEN], struct rt_err *e);
/* Copy blob `digest` of `size` bytes from another layout, verifying it. */
int mk_blob_copy(struct mk_layout *to, struct mk_layout *from,
	const uint8_t digest[RT_SHA256_LEN], uint64_t size, struct rt_err *e);

/* Index entries that are images (not signatures), as indexes into l->m,
 * narrowed to `ref` when not NULL. Returns the count (<= max). */
int mk_layout_images(const struct mk_layout *l, const char *ref, size_t *out,
	size_t max, struct rt_err *e);

/* Remove a directory tree (no symlink followed). */
int mk_rmtree(const char *path);

/* ---- layers (layer.c) --------------------------------------------------- */

struct mk_layer_opts {
	int64_t mtime;          /* every entry gets it */
	bool owner;             /* force uid/gid on every entry */
	uint32_t uid, gid;
};

struct mk_layer_out {
	uint8_t digest[RT_SHA256_LEN];  /* of the gzip blob */
	uint8_t diff_id[RT_SHA256_LEN]; /* of the tar */
	uint64_t size;                  /* of the gzip blob */
};

/* A gzip'd tar layer into l from a directory tree or a tar file (plain or
 * gzip), entries sorted by path. */
int mk_layer_make(struct mk_layout *l, const char *src,
	const struct mk_layer_opts *o, struct mk_layer_out *out, struct rt_err *e);

/* ---- JSON (jcopy.c) ------------------------------------------------------- */

/* Parse a whole document read by the caller, tokens allocated to fit. */
struct mk_json {
	struct rt_json j;
	struct rt_json_tok *tok;
	char *buf;
};
int mk_json_parse(struct mk_json *m, char *buf, size_t len, struct rt_err *e);
void mk_json_free(struct mk_json *m);
/* Read blob digest/size from l and parse it. */
int mk_json_blob(struct mk_json *m, struct mk_layout *l,
	const uint8_t digest[RT_SHA256_LEN], uint64_t size, struct rt_err *e);

/* Copy value i of j into w, object keys in byte order (so a document
 * mkimage re-writes is canonical). Numbers must be integers. */
/* Object obj (none when obj < 0) copied with member key set to the string
 * val (added or replaced; dropped when val is NULL). */
int mk_json_copy_set(struct rt_json_w *w, const struct rt_json *j, int obj,
		     const char *key, const char *val, struct rt_err *e);
int mk_json_copy(struct rt_json_w *w, const struct rt_json *j, int i,
	struct rt_err *e);

/* A JSON writer over a growing heap buffer: mk_jw_init, write with the
 * rt_json_w_* calls, mk_jw_finish (grows and retries on a full buffer is
 * not possible with a sticky writer, so the buffer is MK_JSON_MAX). */
struct mk_jw {
	struct rt_json_w w;
	char *buf;
};
int mk_jw_init(struct mk_jw *jw, struct rt_err *e);
void mk_jw_free(struct mk_jw *jw);

/* Descriptor fields of object d: digest, size (and media type). */
int mk_json_desc(const struct rt_json *j, int d, uint8_t digest[RT_SHA256_LEN],
	uint64_t *size, char *media, size_t mcap, struct rt_err *e);

/* "1970-01-01T00:00:00Z" for t. */
void mk_time_rfc3339(int64_t t, char out[32]);

#endif
