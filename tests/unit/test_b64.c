#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "tap.h"

static void rfc4648(void)
{
	static const char *vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char enc[32];
	uint8_t dec[32];
	struct rt_err e;

	for (size_t i = 0; i < sizeof vec / sizeof *vec; i++) {
		size_t n = strlen(vec[i][0]);
		ssize_t r;

		rt_err_clear(&e);
		memset(enc, 'X', sizeof enc);
		r = rt_b64_encode(vec[i][0], n, enc, sizeof enc, &e);
		is_int(r, (long long)strlen(vec[i][1]), "encode \"%s\" length", vec[i][0]);
		is_str(r >= 0 ? enc : NULL, vec[i][1], "encode \"%s\"", vec[i][0]);
		r = rt_b64_decode(vec[i][1], strlen(vec[i][1]), dec, sizeof dec, &e);
		ok(r == (ssize_t)n && memcmp(dec, vec[i][0], n) == 0, "decode \"%s\"", vec[i][1]);
	}
}

/* Test names must stay on one TAP line. */
static const char *esc(const char *s)
{
	static char buf[64];
	size_t o = 0;

	for (; *s && o < sizeof buf - 5; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

static void rejects(void)
{
	static const char *bad[] = {
		"Zg=", "Zg", "Z", "Zm9vY", "Z===", "====", "=Zm9", "Zm=v", "Zg==Zg==",
		"Zh==", "Zm9=", "Zm9vYh==", "AB==", "AAB=",
		"Zm 9", "Zm9\n", "Zm9\t", "Zm 9v", "Zm9v\n", "\nZm9v", "Zm9v ", "Zm9-", "Zm9_", "Zm9.", "Zm\xc3\xa9",
		"Zm9v====", "Zm9vZ===", "Zg=\x01",
	};
	uint8_t dec[32];
	struct rt_err e;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		rt_err_clear(&e);
		ok(rt_b64_decode(bad[i], strlen(bad[i]), dec, sizeof dec, &e) < 0 && e.msg[0],
			"rejects \"%s\": %s", esc(bad[i]), e.msg);
	}
	rt_err_clear(&e);
	ok(rt_b64_decode("Zm\0v", 4, dec, sizeof dec, &e) < 0, "rejects an embedded NUL");
	ok(rt_b64_decode("AAAA", 4, dec, sizeof dec, &e) == 3 && !dec[0] && !dec[1] && !dec[2],
		"zero bytes decode");
	ok(rt_b64_decode("/+/+", 4, dec, sizeof dec, &e) == 3 && dec[0] == 0xff &&
		dec[1] == 0xef && dec[2] == 0xfe, "'+' and '/' decode");
}

static void buffers(void)
{
	char enc[9];
	uint8_t dec[6];
	struct rt_err e;

	rt_err_clear(&e);
	is_int(rt_b64_encode("foobar", 6, enc, 9, &e), 8, "encode into exactly len+1");
	ok(rt_b64_encode("foobar", 6, enc, 8, &e) < 0, "encode refuses a buffer without room for NUL");
	ok(rt_b64_encode("", 0, enc, 0, &e) < 0, "encode refuses a zero-sized buffer");
	is_int(rt_b64_encode("", 0, enc, 1, &e), 0, "encode of nothing is the empty string");
	ok(enc[0] == '\0', "and is NUL-terminated");
	is_int(rt_b64_decode("Zm9vYmFy", 8, dec, 6, &e), 6, "decode into exactly the size");
	ok(rt_b64_decode("Zm9vYmFy", 8, dec, 5, &e) < 0, "decode refuses a short buffer");
	ok(rt_b64_decode("Zm9vYg==", 8, dec, 3, &e) < 0, "decode refuses a short buffer in the last quantum");
	is_int(rt_b64_decode("Zm9vYg==", 8, dec, 4, &e), 4, "padded decode needs only its bytes");
	is_int(RT_B64_ENCLEN(72), 96, "RT_B64_ENCLEN of a largest signature");
	is_int(RT_B64_DECMAX(96), 72, "RT_B64_DECMAX");
}

static void roundtrip(void)
{
	uint8_t in[300], out[300];
	char enc[RT_B64_ENCLEN(300) + 1];
	uint32_t x = 12345;
	struct rt_err e;
	int bad = 0;

	for (size_t len = 0; len <= sizeof in; len++) {
		ssize_t n, m;

		for (size_t i = 0; i < len; i++) {
			x = x * 1103515245u + 12345u;
			in[i] = (uint8_t)(x >> 16);
		}
		n = rt_b64_encode(in, len, enc, sizeof enc, &e);
		m = n < 0 ? -1 : rt_b64_decode(enc, (size_t)n, out, sizeof out, &e);
		if (n != (ssize_t)RT_B64_ENCLEN(len) || m != (ssize_t)len || memcmp(in, out, len))
			bad++;
	}
	is_int(bad, 0, "round trip of 0..300 pseudo-random bytes");
}

int main(void)
{
	rfc4648();
	rejects();
	buffers();
	roundtrip();
	return done_testing();
}
