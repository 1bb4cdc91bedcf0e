/* Digest strings become file names: whatever parses must format back to
 * exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t d[RT_SHA256_LEN];
	char s[RT_SHA256_STR];
	struct rt_err e;

	rt_err_clear(&e);
	if (rt_sha256_parse((const char *)data, size, d, &e) == 0) {
		rt_sha256_format(d, s);
		if (size != RT_SHA256_STR - 1 || memcmp(s, data, size) != 0)
			abort();
	}
	if (rt_sha256_parse_hex((const char *)data, size, d, &e) == 0) {
		rt_sha256_hex(d, s);
		if (size != RT_SHA256_HEX - 1 || memcmp(s, data, size) != 0)
			abort();
	}
	return 0;
}
