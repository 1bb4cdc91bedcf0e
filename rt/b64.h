/* Base64, standard alphabet (RFC 4648 section 4), always padded.
 *
 * Decoding is strict so that every byte string has exactly one accepted
 * spelling: no whitespace, length a multiple of 4, '=' only as the final
 * one or two characters, and unused bits of the last quantum must be zero.
 * Callers own the buffers; nothing is allocated.
 */
#ifndef RT_B64_H
#define RT_B64_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Encoded length of n bytes, without the NUL (for constant n only: no
 * overflow check). */
#define RT_B64_ENCLEN(n) (((n) + 2) / 3 * 4)
/* Largest decoded length of n characters. */
#define RT_B64_DECMAX(n) ((n) / 4 * 3)

/* Writes the encoding of in[0..len) and a NUL into out (cap bytes, which
 * must hold RT_B64_ENCLEN(len) + 1); returns the encoded length. */
ssize_t rt_b64_encode(const void *in, size_t len, char *out, size_t cap,
	struct rt_err *e);

/* Decodes in[0..len) into out (cap bytes); returns the decoded length.
 * On failure out may hold partial output. */
ssize_t rt_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
	struct rt_err *e);

#endif
