/* SHA-256 over streams, and the "sha256:<hex>" digest strings that name
 * blobs. A digest string ends up as a file name in the store, so parsing
 * is strict: the prefix, then exactly 64 lowercase hex characters, nothing
 * else. Anything that parses formats back to the identical string.
 */
#ifndef RT_SHA256_H
#define RT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

#include "err.h"

#define RT_SHA256_LEN 32        /* raw digest bytes */
#define RT_SHA256_HEX 65        /* 64 hex characters + NUL */
#define RT_SHA256_STR 72        /* "sha256:" + 64 hex + NUL */
#define RT_SHA256_PREFIX "sha256:"

struct rt_sha256 {
	br_sha256_context br;
	uint64_t count;         /* bytes so far */
	int ni;                 /* whole blocks go to the x86 SHA extensions */
};

void rt_sha256_init(struct rt_sha256 *h);
void rt_sha256_update(struct rt_sha256 *h, const void *data, size_t len);
/* The context stays usable: more updates continue the same stream. */
void rt_sha256_final(const struct rt_sha256 *h, uint8_t out[RT_SHA256_LEN]);
/* One-shot digest of a buffer. */
void rt_sha256_buf(const void *data, size_t len, uint8_t out[RT_SHA256_LEN]);

/* Lowercase hex, NUL-terminated. */
void rt_sha256_hex(const uint8_t d[RT_SHA256_LEN], char out[RT_SHA256_HEX]);
/* "sha256:<hex>", NUL-terminated. */
void rt_sha256_format(const uint8_t d[RT_SHA256_LEN], char out[RT_SHA256_STR]);

/* Exactly 64 lowercase hex characters (len bytes of s, no NUL needed). */
int rt_sha256_parse_hex(const char *s, size_t len, uint8_t out[RT_SHA256_LEN],
	struct rt_err *e);
/* Exactly "sha256:" + 64 lowercase hex characters. */
int rt_sha256_parse(const char *s, size_t len, uint8_t out[RT_SHA256_LEN],
	struct rt_err *e);

#endif
