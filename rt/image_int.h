/* Shared by image.c (references, loading) and image_store.c (the images
 * in the store: find, list, tag, rmi, gc, verify, df, resolve). */
#ifndef RT_IMAGE_INT_H
#define RT_IMAGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sha256.h"
#include "store.h"

#define STREAM_BUF (128 * 1024)

/* layers/<hex>/info: what was unpacked, written before the layer got its
 * final name. */
struct rt_image_info {
	uint64_t entries, bytes, disk;
	uint8_t tree[RT_SHA256_LEN];
};

int rt_image_info_read(int layerfd, struct rt_image_info *li, struct rt_err *e);
/* Unpacked bytes of a stored layer, 0 when its record is unreadable;
 * allocated bytes into *disk when disk is not NULL. */
uint64_t rt_image_layer_bytes(struct rt_store *s, const char *digest, uint64_t *disk);

/* 1 when refs has an entry for digest (a named one with named_only),
 * entry skip aside. */
int rt_image_has_entry(const struct rt_refs *r, const char *digest, int named_only,
		       size_t skip);
/* Point name at digest; the image it named before keeps its other names
 * or becomes untagged. */
int rt_image_set_name(struct rt_refs *r, const char *name, const char *digest,
		      struct rt_err *e);

#endif
