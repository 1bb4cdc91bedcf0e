#include <limits.h>
#include <stdint.h>

#include "b64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Range checks instead of a 256-entry table: smaller, and no
 * data-dependent memory access for inputs that may be credentials. */
static int value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

ssize_t rt_b64_encode(const void *in, size_t len, char *out, size_t cap,
	struct rt_err *e)
{
	const uint8_t *p = in;
	size_t need, o = 0;

	if (len > ((size_t)SSIZE_MAX - 1) / 4 * 3 - 2)
		return rt_err_set(e, 0, "base64: input too large");
	need = (len + 2) / 3 * 4;
	if (cap == 0 || need > cap - 1)
		return rt_err_set(e, 0, "base64: output buffer too small (%zu for %zu)",
			cap, need + 1);
	for (size_t i = 0; i < len; i += 3) {
		size_t rest = len - i;
		uint32_t v = (uint32_t)p[i] << 16;

		if (rest > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (rest > 2)
			v |= p[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = rest > 1 ? alphabet[v >> 6 & 63] : '=';
		out[o++] = rest > 2 ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return (ssize_t)o;
}

ssize_t rt_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
	struct rt_err *e)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (len % 4)
		return rt_err_set(e, 0, "base64: length %zu is not a multiple of 4", len);
	if (len / 4 > (size_t)SSIZE_MAX / 3)
		return rt_err_set(e, 0, "base64: input too large");
	for (size_t i = 0; i < len; i += 4) {
		int last = i + 4 == len, pad = 0;
		uint32_t v = 0;

		if (last && s[i + 3] == '=')
			pad = s[i + 2] == '=' ? 2 : 1;
		for (int k = 0; k < 4 - pad; k++) {
			int c = value(s[i + k]);

			if (c < 0)
				return rt_err_set(e, 0, "base64: invalid character at offset %zu",
					i + (size_t)k);
			v = v << 6 | (uint32_t)c;
		}
		v <<= 6 * pad;
		/* Non-zero unused bits would give a second spelling of the same
		 * bytes, which signature annotations must not have. */
		if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
			return rt_err_set(e, 0, "base64: non-zero padding bits at offset %zu", i);
		if ((size_t)(3 - pad) > cap - o)
			return rt_err_set(e, 0, "base64: output buffer too small (%zu)", cap);
		out[o++] = (uint8_t)(v >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(v >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)v;
	}
	return (ssize_t)o;
}
