/* OCI and Docker v2 schema 2 documents: descriptors, manifests, indexes
 * (manifest lists) with platform selection, and image configs. Every
 * document is parsed with the strict JSON parser into a bounded token
 * array; digests are checked to be sha256:<64 hex> (they become file
 * names), sizes are integers, and a document must be what the descriptor
 * that led to it says it is. */
#ifndef RT_MANIFEST_H
#define RT_MANIFEST_H

#include <stdint.h>

#include "err.h"
#include "image.h"
#include "json.h"
#include "sha256.h"
#include "unpack.h"

#define RT_MANIFEST_MAX_TOKENS (256 * 1024)

/* A parsed document and its tokens (allocated; free with
 * rt_manifest_json_free). */
struct rt_manifest_json {
	struct rt_json j;
	struct rt_json_tok *tok;
};

int rt_manifest_parse(struct rt_manifest_json *d, const char *buf, size_t len,
		      struct rt_err *e);
void rt_manifest_free(struct rt_manifest_json *d);

struct rt_manifest_desc {
	char mediatype[RT_IMAGE_MT_MAX];
	char digest[RT_SHA256_STR];
	uint64_t size;
	char refname[RT_STORE_REF_MAX];         /* org.opencontainers.image.ref.name */
	char imagename[RT_STORE_REF_MAX];       /* io.containerd.image.name */
	int has_platform;
	struct rt_image_platform platform;
};

/* The descriptor object at token i. */
int rt_manifest_desc(const struct rt_json *j, int i, struct rt_manifest_desc *d,
		     struct rt_err *e);

enum { RT_MANIFEST_MANIFEST = 1, RT_MANIFEST_INDEX = 2 };

/* Which of the two the document (token 0) is, checked against the media
 * type its descriptor claimed (NULL or "": none). */
int rt_manifest_kind(const struct rt_json *j, const char *claimed, struct rt_err *e);
int rt_manifest_is_manifest_type(const char *mt);
int rt_manifest_is_index_type(const char *mt);

struct rt_manifest_image {
	struct rt_manifest_desc config;
	int nlayers;
	struct rt_manifest_desc layers[RT_IMAGE_MAX_LAYERS];   /* bottom first */
};

/* An image manifest: its config must be an image config and every layer
 * of a type this build can unpack. */
int rt_manifest_image(const struct rt_json *j, struct rt_manifest_image *m,
		      struct rt_err *e);

/* Compression of a layer media type (tar, tar+gzip). */
int rt_manifest_layer_comp(const char *mt, enum rt_unpack_comp *c, struct rt_err *e);

/* The best entry of an index for want ("arm/v7" also takes v6 and v5,
 * unknown/unknown attestation entries never match). ENOENT lists what the
 * index offers. */
int rt_manifest_pick(const struct rt_json *j, const struct rt_image_platform *want,
		     struct rt_manifest_desc *out, struct rt_err *e);

struct rt_manifest_config {
	struct rt_image_platform platform;
	int64_t created;                        /* -1 when unknown */
	int ndiff;
	char diff_ids[RT_IMAGE_MAX_LAYERS][RT_SHA256_STR];
};

int rt_manifest_config(const struct rt_json *j, struct rt_manifest_config *c,
		       struct rt_err *e);

/* The config's "config" object into cfg (strings into cfg->strs). */
int rt_manifest_run_config(const struct rt_json *j, struct rt_image_cfg *cfg,
			   struct rt_err *e);

/* RFC 3339 ("2024-05-01T10:00:00.123Z", "...+02:00") to unix seconds. */
int rt_manifest_time(const char *s, int64_t *out);

#endif
