/* The image store on flash: content-addressed blobs, unpacked layers, the
 * references (tags) that name images, and a staging area.
 *
 *     <root>/blobs/sha256/<hex>   manifests, configs, kept layer blobs
 *     <root>/layers/<hex>/diff/   an unpacked layer (an overlay lower dir)
 *     <root>/layers/<hex>/info    what was unpacked, for `rt verify`
 *     <root>/refs/images          "sha256:<manifest> <name:tag>|-" lines
 *     <root>/tmp/s-<...>/         one staging dir per writing process
 *     <root>/lock                 the store lock
 *
 * Nothing appears under a final name until it is complete and verified:
 * writers build blobs ("b-<hex>") and layers ("l-<hex>") in their staging
 * dir and rt_store_commit() makes them durable (one syncfs) and renames them
 * into place. References are written last, so a crash at any instant
 * leaves every image either whole or absent (at worst with unreferenced
 * objects, which gc removes).
 *
 * Locking (flock on <root>/lock): readers and loaders hold it shared for as
 * long as they use the store; rmi, prune and gc hold it exclusive. Whoever
 * gets it exclusive — if only for an instant at open — knows no writer is
 * alive and empties tmp/: that is the clean-up after a kill or power cut.
 * Changes to refs/images are serialised by a second lock (refs/lock) held
 * only around the read-modify-write. A long-lived process (the supervisor)
 * must not keep the store open: exclusive users would wait for it. */
#ifndef RT_STORE_H
#define RT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sha256.h"

#define RT_STORE_ROOT_MAX 256   /* so every path under the root fits */
#define RT_STORE_REF_MAX 512    /* a reference, with its NUL */
#define RT_STORE_REFS_MAX 4096  /* lines in refs/images */

enum rt_store_mode {
	RT_STORE_SHARED,        /* read, load, tag */
	RT_STORE_EXCL,          /* rmi, prune: nobody else in the store */
};

struct rt_store {
	int rootfd, lockfd, blobfd, layerfd, refsfd, tmpfd;
	int stagefd;                    /* -1 until rt_store_stage() */
	int partfd;                     /* tmp/partial, -1 until used */
	char stage[40];                 /* its name under tmp/ */
	char root[RT_STORE_ROOT_MAX];   /* absolute, as given */
	uint64_t reserve;               /* bytes never to fill on the fs */
};

/* Open (creating it 0700 if needed) the store at root, an absolute path,
 * and take its lock. Empties tmp/ when nobody else is inside. */
int rt_store_open(struct rt_store *s, const char *root, enum rt_store_mode mode,
		  struct rt_err *e);
/* Remove this process's staging dir (what was not committed) and unlock. */
void rt_store_close(struct rt_store *s);

/* Blobs, named by digest strings ("sha256:<hex>", checked). */
int rt_store_blob_has(struct rt_store *s, const char *digest);
/* Read a whole blob into buf and check it against its digest. */
int rt_store_blob_read(struct rt_store *s, const char *digest, void *buf,
		       size_t cap, size_t *len, struct rt_err *e);
/* Open a blob for reading (no check). */
int rt_store_blob_open(struct rt_store *s, const char *digest, struct rt_err *e);

/* This process's staging dir (created on first use); returns its fd. */
int rt_store_stage(struct rt_store *s, struct rt_err *e);
/* Stage a blob held in memory; its digest is checked first. */
int rt_store_stage_blob(struct rt_store *s, const char *digest, const void *buf,
			size_t len, struct rt_err *e);

/* Whether layers/<hex> exists (complete: it got there by rename). */
int rt_store_layer_has(struct rt_store *s, const char *digest);
/* "<root>/layers/<hex>/diff" into buf. */
int rt_store_layer_path(const struct rt_store *s, const char *digest, char *buf,
			size_t cap, struct rt_err *e);
/* fd of layers/<hex> (O_RDONLY | O_DIRECTORY). */
int rt_store_layer_open(struct rt_store *s, const char *digest, struct rt_err *e);

/* Make everything staged as b-<hex> and l-<hex> durable and move it to its
 * final name. Objects that are already there (another loader was faster)
 * stay as they are. */
int rt_store_commit(struct rt_store *s, struct rt_err *e);

/* Partial downloads (kept only with CONFIG_KEEP_BLOBS): tmp/partial/<hex>
 * holds the compressed bytes of a layer received so far, so that a pull
 * cut off (kill -9, power cut) resumes where it stopped. It is never
 * trusted: a resumed layer is re-hashed and re-unpacked from its first
 * byte. The start-up clean-up of tmp/ leaves it alone; `rt image prune`
 * drops it.
 *
 * Open (creating) the partial file of digest, locked for this process,
 * and give its length. -1 with EWOULDBLOCK when another process has it. */
int rt_store_partial_open(struct rt_store *s, const char *digest, uint64_t *have,
			  struct rt_err *e);
/* Move the (complete, verified) partial file into staging as b-<hex>. */
int rt_store_partial_stage(struct rt_store *s, const char *digest, struct rt_err *e);
/* Forget it (its bytes proved wrong). */
void rt_store_partial_drop(struct rt_store *s, const char *digest);
/* Remove every partial download (exclusive lock); adds their bytes to *freed. */
int rt_store_partial_clear(struct rt_store *s, uint64_t *freed, struct rt_err *e);

/* Fail with ENOSPC when writing need more bytes would leave less than the
 * reserve free on the store's filesystem (or almost no inodes). */
int rt_store_space(struct rt_store *s, uint64_t need, struct rt_err *e);

/* References. name is a full reference ("docker.io/library/busybox:latest")
 * or "" for an image without a tag (listed as <none>). */
struct rt_ref {
	char digest[RT_SHA256_STR];     /* the manifest */
	char name[RT_STORE_REF_MAX];
};

struct rt_refs {
	struct rt_ref *v;
	size_t n, cap;
};

/* Read refs/images (allocates r->v; free with rt_store_refs_free). */
int rt_store_refs_read(struct rt_store *s, struct rt_refs *r, struct rt_err *e);
void rt_store_refs_free(struct rt_refs *r);
/* Under the refs lock: read, call fn to change r, write back durably when
 * fn returns > 0 (0: nothing to write, < 0: error). */
int rt_store_refs_update(struct rt_store *s,
			 int (*fn)(struct rt_refs *r, void *arg, struct rt_err *e),
			 void *arg, struct rt_err *e);
/* Helpers for fn: add (a copy of) an entry; remove entry i. */
int rt_store_refs_add(struct rt_refs *r, const char *digest, const char *name,
		      struct rt_err *e);
void rt_store_refs_del(struct rt_refs *r, size_t i);

/* Garbage collection (exclusive lock). keep(arg, kind, hex) says whether
 * blob ('b') or layer ('l') hex is still used; everything else goes.
 * Layers are first renamed into tmp/, so none is ever half-deleted under
 * its final name. Adds what was freed (bytes on disk) to *freed. */
int rt_store_sweep(struct rt_store *s, int (*keep)(void *arg, char kind, const char *hex),
		   void *arg, uint64_t *freed, struct rt_err *e);

/* Disk usage (allocated bytes) of a file or tree beneath dirfd, hardlinked
 * inodes counted once per call. */
int rt_store_du(int dirfd, const char *name, uint64_t *bytes, struct rt_err *e);

/* rm -rf name beneath dirfd, following no symlink. */
int rt_store_rmtree(int dirfd, const char *name, struct rt_err *e);

#endif
