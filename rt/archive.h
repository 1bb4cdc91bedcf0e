/* Image archives: OCI image layout directories, OCI archives (a tar of a
 * layout) and `docker save` archives (manifest.json, configs, layer tars),
 * read from a directory, a file or standard input.
 *
 * A tar archive is scanned once for its member table (names, offsets,
 * sizes; data is skipped, not read), then blobs are read by offset, so
 * the order of members does not matter. Input that cannot seek (a pipe)
 * or that is gzip-compressed as a whole is first copied into the store's
 * staging area. Member names are cleaned as the tar parser does; symlinks
 * and hardlinks between members (docker save uses them) are followed
 * within the archive only, never on the host.
 *
 * Names: an OCI index entry is named by its io.containerd.image.name
 * annotation, else by org.opencontainers.image.ref.name when that is a
 * full reference ("busybox:latest"); a bare tag ("latest") names nothing.
 * Entries tagged "sha256-<hex>.sig" (and .att, .sbom) are signatures and
 * attestations, not images: the verification callback reaches them
 * through the source's find_tag. A docker save image is named by its
 * RepoTags. */
#ifndef RT_ARCHIVE_H
#define RT_ARCHIVE_H

#include "err.h"
#include "image.h"
#include "store.h"

#define RT_ARCHIVE_MEMBERS 65536

/* Load every image of path (a directory, a file, or NULL / "-" for
 * standard input) into the store. */
int rt_archive_load(struct rt_store *s, const char *path,
		    const struct rt_image_load_opts *o, struct rt_err *e);

#endif
