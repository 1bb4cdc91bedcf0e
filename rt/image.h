/* Images: references, OCI and Docker manifests, indexes and configs, and
 * the operations on the store that understand them (load, tag, remove,
 * gc, verify, resolve for `rt run`).
 *
 * An image in the store is a manifest (its digest is the image's name for
 * ever), the config it names (its digest is the image ID, as in Docker)
 * and the layers it lists, unpacked under layers/. Tags point at
 * manifests; an image without tags is listed as <none>.
 *
 * Loading runs in three steps, so a refused or broken image never gets a
 * name and nothing unverified gets a final name:
 *   1. each image's manifest (through an index, picking the board's
 *      platform) is read, size- and digest-checked and parsed; then the
 *      verification callback decides about it, before any layer or config
 *      byte is read;
 *   2. configs and layers are read, checked and unpacked into staging;
 *      each layer is made durable and renamed into place (with the
 *      config) the moment it is verified, so a load or pull that is cut
 *      off and run again skips the layers it had finished;
 *   3. only when every image of the load is complete, its manifest is
 *      committed and the tags are written. A load that fails after step 1
 *      may leave verified layers no image references: gc removes them,
 *      and only under the exclusive store lock, which waits for every
 *      running load (they hold it shared).
 * With CONFIG_KEEP_BLOBS a layer's compressed bytes go to a partial file
 * as they arrive (see rt_store_partial_open), and a later load resumes
 * the layer from there through the source's open_at: the partial bytes
 * are fed through the digest and the unpacker again, then the rest comes
 * from the source. Without it nothing of a half layer survives the
 * process (the inflate state cannot be rebuilt without the compressed
 * bytes), so that layer starts again from its first byte. */
#ifndef RT_IMAGE_H
#define RT_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "sha256.h"
#include "store.h"
#include "unpack.h"

#define RT_IMAGE_JSON_MAX (4u << 20)    /* manifest, index, config */
#define RT_IMAGE_MAX_LAYERS 128
#define RT_IMAGE_NAME_MAX 256           /* repository, with its domain */
#define RT_IMAGE_TAG_MAX 128
#define RT_IMAGE_MT_MAX 128             /* media type */

/* --- references ---------------------------------------------------------- */

/* name[:tag][@sha256:hex], normalized as Docker does: "busybox" is
 * docker.io/library/busybox:latest; the tag is "latest" only when neither
 * a tag nor a digest is given. */
struct rt_image_ref {
	char name[RT_IMAGE_NAME_MAX];           /* "docker.io/library/busybox" */
	char tag[RT_IMAGE_TAG_MAX + 1];         /* "" when none */
	char digest[RT_SHA256_STR];             /* "" when none */
};

int rt_image_ref_parse(const char *s, struct rt_image_ref *r, struct rt_err *e);
/* "name:tag" or "name@digest" (tag wins when both are set), in full or in
 * Docker's familiar form ("busybox:latest"). */
int rt_image_ref_format(const struct rt_image_ref *r, int familiar, char *buf,
			size_t cap, struct rt_err *e);
/* The familiar form of a full "name[:tag]" string; returns buf. */
const char *rt_image_familiar(const char *full, char *buf, size_t cap);

/* --- platforms ----------------------------------------------------------- */

struct rt_image_platform {
	char os[16], arch[16], variant[16];
};

/* The board's, from its build (x86_64 -> linux/amd64, armv7 -> linux/arm/v7,
 * aarch64 -> linux/arm64, mipsel -> linux/mipsle). */
void rt_image_platform_board(struct rt_image_platform *p);
/* "os/arch[/variant]". */
int rt_image_platform_parse(const char *s, struct rt_image_platform *p,
			    struct rt_err *e);

/* --- sources: where a load reads blobs from ------------------------------ */

/* A source hands out blobs by digest, one at a time, as streams. archive.c
 * makes sources of OCI layouts and archives and of `docker save` archives;
 * a registry client can be one too. */
struct rt_image_src {
	void *ctx;
	/* Start reading blob digest, which must be exactly size bytes. */
	int (*open)(void *ctx, const char *digest, uint64_t size, struct rt_err *e);
	/* Start reading blob digest at byte from (0 < from < size), to
	 * resume a layer cut off earlier: *at is from when the source
	 * continues there, 0 when it starts again from the first byte. May
	 * be NULL (always from the first byte). */
	int (*open_at)(void *ctx, const char *digest, uint64_t size, uint64_t from,
		       uint64_t *at, struct rt_err *e);
	/* Next bytes of the open blob: > 0, 0 at its end, < 0 on error.
	 * Never returns bytes past the size given to open(). */
	ssize_t (*read)(void *ctx, void *buf, size_t len, struct rt_err *e);
	/* A manifest the source's index tags name, e.g. "sha256-<hex>.sig":
	 * 0 and its digest and size, 1 when there is none. May be NULL. */
	int (*find_tag)(void *ctx, const char *tag, char digest[RT_SHA256_STR],
			uint64_t *size, struct rt_err *e);
	/* Layers are named by their uncompressed digest (docker save):
	 * the unpacked stream is checked against the config's diff_ids. */
	int diff_ids;
};

/* Read a whole small blob of the source into buf and check its digest and
 * size (for verification callbacks: signature manifests and payloads). */
int rt_image_src_read(const struct rt_image_src *src, const char *digest,
		      uint64_t size, void *buf, size_t cap, size_t *len,
		      struct rt_err *e);

/* The signature seam. Called once per image and name of a load, after its
 * manifest (or index) was read and its digest checked, before any config
 * or layer byte is read. ref is the full reference the load would tag
 * ("docker.io/library/busybox:latest"), NULL for an image without one;
 * digest and doc are what the reference names (an index for multi-platform
 * images). src can read other blobs and tagged manifests of the same
 * source. Return 0 to accept, < 0 (with e set) to refuse: the load then
 * fails and the store is left as it was. */
typedef int (*rt_image_verify_fn)(void *arg, const char *ref, const char *digest,
				  const void *doc, size_t len,
				  const struct rt_image_src *src, struct rt_err *e);

/* One image a source offers: what its index or manifest.json names. */
struct rt_image_want {
	char digest[RT_SHA256_STR];     /* a manifest or an index */
	uint64_t size;
	char mediatype[RT_IMAGE_MT_MAX];/* "" when the source does not say */
	char name[RT_STORE_REF_MAX];    /* full reference, "" for none */
};

enum { RT_IMAGE_LAYER_EXISTS, RT_IMAGE_LAYER_DONE };

struct rt_image_load_opts {
	rt_image_verify_fn verify;      /* NULL: accept everything */
	void *verify_arg;
	const struct rt_image_platform *platform; /* NULL: the board's */
	struct rt_unpack_limits lim;
	/* Called once when every image is stored and tagged, with
	 * verify_arg: where a verifier records what it must remember
	 * (verification times, rollback versions). An error fails the load,
	 * though the images stay. */
	int (*commit)(void *verify_arg, struct rt_err *e);
	/* Told about each layer of an image being loaded, bottom first:
	 * RT_IMAGE_LAYER_EXISTS when the store had it already,
	 * RT_IMAGE_LAYER_DONE once it is verified, unpacked and committed
	 * (a later load skips it, whatever becomes of this one). May be NULL. */
	void (*layer)(void *arg, const char *digest, int what);
	/* Told about each loaded image, once per name (name NULL when it has
	 * none); id is the config digest. */
	void (*loaded)(void *arg, const char *name, const char *id);
	void *arg;
};

/* Load the images of a source (see the top of this file). */
int rt_image_load(struct rt_store *s, const struct rt_image_src *src,
		  const struct rt_image_want *w, size_t n,
		  const struct rt_image_load_opts *o, struct rt_err *e);

/* --- what is in the store ------------------------------------------------ */

/* Find an image by reference, full image ID or a unique prefix of one, or
 * manifest digest. Gives the manifest digest; 0, or -1 with ENOENT
 * ("No such image: ...") or another error. */
int rt_image_find(struct rt_store *s, const char *what, char digest[RT_SHA256_STR],
		  struct rt_err *e);

struct rt_image_row {
	char name[RT_STORE_REF_MAX];    /* full "name:tag", "" for <none> */
	char digest[RT_SHA256_STR];     /* manifest */
	char id[RT_SHA256_STR];         /* config */
	int64_t created;                /* unix seconds, -1 when unknown */
	uint64_t size;                  /* unpacked bytes of all layers */
};

/* One row per tag (and one per untagged image), newest first. Free *rows. */
int rt_image_list(struct rt_store *s, struct rt_image_row **rows, size_t *n,
		  struct rt_err *e);

/* The documents of one image, for inspect and history. */
struct rt_image_doc {
	char digest[RT_SHA256_STR];     /* manifest */
	char id[RT_SHA256_STR];         /* config */
	char *manifest, *config;        /* raw, NUL-terminated */
	size_t mlen, clen;
	int nlayers;
	char layers[RT_IMAGE_MAX_LAYERS][RT_SHA256_STR];   /* bottom first */
	uint64_t layer_bytes[RT_IMAGE_MAX_LAYERS];        /* unpacked */
	uint64_t size;                  /* sum of layer_bytes */
};

int rt_image_doc_read(struct rt_store *s, const char *digest,
		      struct rt_image_doc *d, struct rt_err *e);
void rt_image_doc_free(struct rt_image_doc *d);

/* --- changing the store -------------------------------------------------- */

/* Point the full reference dst at the image src names. */
int rt_image_tag(struct rt_store *s, const char *src, const char *dst,
		 struct rt_err *e);

/* Whether a container uses an image: > 0 (its name in who), 0, or < 0. */
typedef int (*rt_image_in_use_fn)(void *arg, const char *digest, const char *id,
				  char *who, size_t cap, struct rt_err *e);

/* What rmi and prune did, one event at a time (Docker's "Untagged: x",
 * "Deleted: sha256:..."). */
typedef void (*rt_image_event_fn)(void *arg, const char *what, const char *name);

/* rmi: untag a reference, or remove the image an ID names (with all its
 * tags when force). The image itself goes when no tag is left, unless a
 * container uses it (then only with force, and it stays, untagged, until
 * gc finds it unused). Layers and blobs nothing else uses are freed. */
int rt_image_remove(struct rt_store *s, const char *what, int force,
		    rt_image_in_use_fn in_use, void *in_use_arg,
		    rt_image_event_fn ev, void *ev_arg, uint64_t *freed,
		    struct rt_err *e);

/* image prune: remove untagged images (all unused images with all), then
 * collect, and drop the partial downloads of interrupted pulls. Needs the
 * store opened exclusively, as rmi does. */
int rt_image_prune(struct rt_store *s, int all, rt_image_in_use_fn in_use,
		   void *in_use_arg, rt_image_event_fn ev, void *ev_arg,
		   uint64_t *freed, struct rt_err *e);

/* Remove every blob and layer no image references. */
int rt_image_gc(struct rt_store *s, uint64_t *freed, struct rt_err *e);

/* verify: re-check what can be re-checked; ev(arg, "ok"|"skip", what) per
 * item. Fails at the first mismatch. */
int rt_image_verify(struct rt_store *s, const char *digest, rt_image_event_fn ev,
		    void *ev_arg, struct rt_err *e);

/* --- disk usage ---------------------------------------------------------- */

struct rt_image_df {
	size_t images, active;          /* active: used by a container */
	size_t layers, blobs;
	uint64_t layer_disk, blob_disk; /* allocated, each layer once */
	uint64_t shared_saved;          /* what sharing layers saved */
	uint64_t reclaimable;           /* not used by any container's image */
};

int rt_image_df(struct rt_store *s, rt_image_in_use_fn in_use, void *in_use_arg,
		struct rt_image_df *d, struct rt_err *e);

/* --- for `rt run` -------------------------------------------------------- */

#define RT_IMAGE_CFG_STRS (64 * 1024)   /* every string of the config */
#define RT_IMAGE_CFG_ARGS 256           /* Entrypoint, Cmd, Env, ... each */
#define RT_IMAGE_CFG_LAYER_PATH (RT_STORE_ROOT_MAX + 96)

struct rt_image_kv {
	const char *key, *value;
};

/* Everything a container needs from its image. Fixed size; the pointers
 * point into strs, so the struct must not be copied member-wise (copy it
 * whole with memcpy and the pointers still point into the original). */
struct rt_image_cfg {
	char ref[RT_STORE_REF_MAX];     /* full reference it was found by */
	char digest[RT_SHA256_STR];     /* manifest */
	char id[RT_SHA256_STR];         /* config */
	struct rt_image_platform platform;
	int nlayers;
	char layers[RT_IMAGE_MAX_LAYERS][RT_IMAGE_CFG_LAYER_PATH]; /* top first */

	const char *entrypoint[RT_IMAGE_CFG_ARGS + 1];  /* NULL-terminated */
	const char *cmd[RT_IMAGE_CFG_ARGS + 1];
	const char *env[RT_IMAGE_CFG_ARGS + 1];         /* "K=V" */
	const char *volumes[RT_IMAGE_CFG_ARGS + 1];
	const char *ports[RT_IMAGE_CFG_ARGS + 1];       /* "80/tcp" */
	struct rt_image_kv labels[RT_IMAGE_CFG_ARGS + 1]; /* key NULL ends */
	int nentrypoint, ncmd, nenv, nvolumes, nports, nlabels;
	int has_entrypoint, has_cmd;    /* present (even empty) in the config */
	const char *workdir;            /* "" when unset */
	const char *user;
	const char *stop_signal;
	struct {
		const char *test[RT_IMAGE_CFG_ARGS + 1]; /* e.g. CMD-SHELL, cmd */
		int ntest;
		int64_t interval_ns, timeout_ns, start_period_ns;
		int retries;
	} health;                       /* ntest 0: none */

	size_t used;
	char strs[RT_IMAGE_CFG_STRS];
};

/* Open the store shared, find ref (as rt_image_find), fill cfg, close the
 * store. The layers exist when it returns; keep them by creating the
 * container's record before anything can run gc (rmi and prune consult
 * the in-use hook). */
int rt_image_resolve(const char *root, const char *ref, struct rt_image_cfg *cfg,
		     struct rt_err *e);

/* --- seams filled by the container side ---------------------------------
 * Weak: until the container module defines them, rt behaves as if no
 * container existed. */

/* > 0 when a container (name in who) uses the image with this manifest
 * digest or config id, 0 when none does. */
int rt_container_image_users(const char *root, const char *digest, const char *id,
			     char *who, size_t cap, struct rt_err *e)
	__attribute__((weak));

/* `rt inspect NAME` for containers: 1 and a compact JSON object in
 * buf[0..*len) when NAME is a container, 0 when there is no such
 * container. */
int rt_container_inspect_json(const char *root, const char *run, const char *name,
			      char *buf, size_t cap, size_t *len, struct rt_err *e)
	__attribute__((weak));

/* The signature policy for `rt load` and `rt pull`: fill o->verify,
 * o->verify_arg and o->commit from the trusted keys and the build's
 * REQUIRE_SIGNATURE for a store at root. Defined by the trust glue. */
int rt_image_trust_hook(const char *root, struct rt_image_load_opts *o,
			struct rt_err *e)
	__attribute__((weak));

/* What `rt inspect` shows as "Signature" for the image with this manifest
 * digest: 1 and a compact JSON object in buf[0..*len), 0 when there is
 * nothing to show. */
int rt_image_trust_inspect(const char *root, const char *digest, char *buf,
			   size_t cap, size_t *len, struct rt_err *e)
	__attribute__((weak));

#endif
