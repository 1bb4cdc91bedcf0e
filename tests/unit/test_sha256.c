#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tap.h"

static const char *hex_of(const void *msg, size_t len)
{
	static char out[RT_SHA256_HEX];
	uint8_t d[RT_SHA256_LEN];

	rt_sha256_buf(msg, len, d);
	rt_sha256_hex(d, out);
	return out;
}

static void kat(void)
{
	static const char two_blocks[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct rt_sha256 h;
	uint8_t d[RT_SHA256_LEN], chunk[997];
	char hex[RT_SHA256_HEX];
	size_t left = 1000000;

	is_str(hex_of("", 0),
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 of empty string");
	is_str(hex_of("abc", 3),
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of \"abc\"");
	is_str(hex_of(two_blocks, strlen(two_blocks)),
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "sha256 of the 448-bit FIPS message");

	/* A prime chunk size so block boundaries fall everywhere. */
	memset(chunk, 'a', sizeof chunk);
	rt_sha256_init(&h);
	while (left) {
		size_t n = left < sizeof chunk ? left : sizeof chunk;

		rt_sha256_update(&h, chunk, n);
		left -= n;
	}
	rt_sha256_final(&h, d);
	rt_sha256_hex(d, hex);
	is_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		"sha256 of a million 'a', streamed");

	/* final() must not end the stream. */
	rt_sha256_init(&h);
	rt_sha256_update(&h, "ab", 2);
	rt_sha256_final(&h, d);
	rt_sha256_update(&h, "c", 1);
	rt_sha256_final(&h, d);
	rt_sha256_hex(d, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"final() leaves the context usable");
}

static int parse(const char *s, size_t len, uint8_t out[RT_SHA256_LEN], char *msg, size_t cap)
{
	struct rt_err e;
	int rc;

	rt_err_clear(&e);
	rc = rt_sha256_parse(s, len, out, &e);
	if (msg)
		snprintf(msg, cap, "%s", e.msg);
	return rc;
}

static void digests(void)
{
	static const char good[] =
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	uint8_t d[RT_SHA256_LEN], want[RT_SHA256_LEN], fill[RT_SHA256_LEN];
	char str[RT_SHA256_STR], msg[RT_ERR_MSG], buf[160];
	struct rt_err e;

	rt_sha256_buf("abc", 3, want);
	is_int(parse(good, strlen(good), d, NULL, 0), 0, "well-formed digest parses");
	ok(memcmp(d, want, sizeof d) == 0, "parsed digest has the right bytes");
	rt_sha256_format(d, str);
	is_str(str, good, "format gives the same string back");
	is_int((int)strlen(str), RT_SHA256_STR - 1, "formatted length is RT_SHA256_STR - 1");

	rt_err_clear(&e);
	is_int(rt_sha256_parse_hex(good + 7, 64, d, &e), 0, "bare hex parses");

	static const char *bad[] = {
		"sha256:../../x",
		"sha256:../../../../../../etc/passwd",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/",
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"sha256:Ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015add",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag",
		"sha256: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		" sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad ",
		"SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:",
		"sha256",
		"",
		"sha256:+a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256:0x7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		memset(fill, 0x5a, sizeof fill);
		memcpy(d, fill, sizeof d);
		ok(parse(bad[i], strlen(bad[i]), d, msg, sizeof msg) < 0 && msg[0] &&
			memcmp(d, fill, sizeof d) == 0,
			"rejects \"%s\" (%s), output untouched", bad[i], msg);
	}

	/* An embedded NUL must not end the string early for the parser. */
	memcpy(buf, good, sizeof good);
	buf[20] = '\0';
	ok(parse(buf, strlen(good), d, NULL, 0) < 0, "rejects a digest with an embedded NUL");
	ok(parse(good, strlen(good) - 1, d, NULL, 0) < 0, "length is honoured (one short)");

	rt_err_clear(&e);
	ok(rt_sha256_parse_hex("../../x", 7, d, &e) < 0, "bare hex rejects a path");
	rt_err_clear(&e);
	ok(rt_sha256_parse_hex("..", 2, d, &e) < 0 && strstr(e.msg, "64"), "bare hex rejects short input: %s", e.msg);
}

/* The SHA-extension path against BearSSL's portable one: every length
 * up to five blocks, fed whole and in uneven pieces, and a long stream
 * in 64 KiB writes like a layer's. */
static void ni_matches_portable(void)
{
	static uint8_t buf[200000];
	struct rt_sha256 a, b;
	uint8_t da[RT_SHA256_LEN], db[RT_SHA256_LEN];
	int bad = 0;

	rt_sha256_init(&a);
	if (!a.ni) {
		ok(1, "# SKIP this CPU has no SHA extensions");
		return;
	}
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	for (size_t len = 0; len <= 320; len++) {
		for (size_t cut = 0; cut <= len; cut += 7) {
			rt_sha256_init(&a);
			rt_sha256_init(&b);
			b.ni = 0;
			rt_sha256_update(&a, buf, cut);
			rt_sha256_update(&a, buf + cut, len - cut);
			rt_sha256_update(&b, buf, len);
			rt_sha256_final(&a, da);
			rt_sha256_final(&b, db);
			bad += memcmp(da, db, sizeof da) != 0;
		}
	}
	ok(bad == 0, "SHA extensions = portable code, all lengths to 320 and splits (%d differ)", bad);
	rt_sha256_init(&a);
	rt_sha256_init(&b);
	b.ni = 0;
	for (size_t off = 0; off < sizeof buf; off += 65536) {
		size_t n = sizeof buf - off < 65536 ? sizeof buf - off : 65536;

		rt_sha256_update(&a, buf + off, n);
		rt_sha256_update(&b, buf + off, n);
	}
	rt_sha256_final(&a, da);
	rt_sha256_final(&b, db);
	ok(!memcmp(da, db, sizeof da), "and over 200000 bytes in 64 KiB writes");
}

int main(void)
{
	kat();
	ni_matches_portable();
	digests();
	return done_testing();
}
