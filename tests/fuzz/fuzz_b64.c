/* Strict decoding means one spelling per byte string: whatever decodes
 * must encode back to exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[4096];
	char enc[RT_B64_ENCLEN(sizeof out) + 1];
	struct rt_err e;
	ssize_t n, m;

	rt_err_clear(&e);
	n = rt_b64_decode((const char *)data, size, out, sizeof out, &e);
	if (n < 0)
		return 0;
	if ((size_t)n > RT_B64_DECMAX(size))
		abort();
	m = rt_b64_encode(out, (size_t)n, enc, sizeof enc, &e);
	if (m < 0 || (size_t)m != size || memcmp(enc, data, size) != 0)
		abort();
	return 0;
}
