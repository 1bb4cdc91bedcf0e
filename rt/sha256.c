#include <string.h>

#include "sha256.h"

static const char hexdig[] = "0123456789abcdef";

void rt_sha256_init(struct rt_sha256 *h)
{
	br_sha256_init(&h->br);
}

void rt_sha256_update(struct rt_sha256 *h, const void *data, size_t len)
{
	br_sha256_update(&h->br, data, len);
}

void rt_sha256_final(const struct rt_sha256 *h, uint8_t out[RT_SHA256_LEN])
{
	br_sha256_out(&h->br, out);
}

void rt_sha256_buf(const void *data, size_t len, uint8_t out[RT_SHA256_LEN])
{
	struct rt_sha256 h;

	rt_sha256_init(&h);
	rt_sha256_update(&h, data, len);
	rt_sha256_final(&h, out);
}

void rt_sha256_hex(const uint8_t d[RT_SHA256_LEN], char out[RT_SHA256_HEX])
{
	for (size_t i = 0; i < RT_SHA256_LEN; i++) {
		out[2 * i] = hexdig[d[i] >> 4];
		out[2 * i + 1] = hexdig[d[i] & 15];
	}
	out[2 * RT_SHA256_LEN] = '\0';
}

void rt_sha256_format(const uint8_t d[RT_SHA256_LEN], char out[RT_SHA256_STR])
{
	memcpy(out, RT_SHA256_PREFIX, sizeof RT_SHA256_PREFIX - 1);
	rt_sha256_hex(d, out + sizeof RT_SHA256_PREFIX - 1);
}

/* Uppercase is refused on purpose: two spellings of one digest would be
 * two file names for one blob. */
static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int rt_sha256_parse_hex(const char *s, size_t len, uint8_t out[RT_SHA256_LEN],
	struct rt_err *e)
{
	uint8_t d[RT_SHA256_LEN];

	if (len != 2 * RT_SHA256_LEN)
		return rt_err_set(e, 0, "sha256 digest: want 64 hex characters, got %zu", len);
	for (size_t i = 0; i < RT_SHA256_LEN; i++) {
		int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return rt_err_set(e, 0, "sha256 digest: not lowercase hex at offset %zu",
				hi < 0 ? 2 * i : 2 * i + 1);
		d[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, d, sizeof d);
	return 0;
}

int rt_sha256_parse(const char *s, size_t len, uint8_t out[RT_SHA256_LEN],
	struct rt_err *e)
{
	const size_t plen = sizeof RT_SHA256_PREFIX - 1;

	if (len < plen || memcmp(s, RT_SHA256_PREFIX, plen) != 0) {
		if (memchr(s, ':', len))
			return rt_err_set(e, 0, "digest: unsupported algorithm (want sha256)");
		return rt_err_set(e, 0, "digest: missing \"sha256:\" prefix");
	}
	return rt_sha256_parse_hex(s + plen, len - plen, out, e);
}
