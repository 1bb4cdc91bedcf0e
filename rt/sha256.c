/* SHA-256 is BearSSL's, with one exception: on x86-64 CPUs that have the
 * SHA extensions, whole blocks go through them (six times faster here than
 * the portable code, which took a fifth of a layer load's CPU time). The
 * running state moves between the two through BearSSL's own state API, so
 * the buffering, padding and output stay BearSSL's. Written here: BearSSL
 * has no SHA-NI code and no library that fits the size budget does. */
#include <string.h>

#include "sha256.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define RT_SHA_NI 1

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* cpuid traps to the hypervisor in a VM (microseconds), and a load
 * starts thousands of hashes: asked once, the answer never changes. */
static int have_ni(void)
{
	static int known = -1;
	unsigned a, b, c, d;

	if (known >= 0)
		return known;
	known = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
		__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1);
	return known;
}

/* n blocks of p into st (A..H). The instructions keep the state as the
 * pairs ABEF and CDGH; each round-pair instruction takes two message words
 * plus constants, and msg1/msg2 extend the schedule four words at a time. */
__attribute__((target("sha,ssse3,sse4.1")))
static void ni_blocks(uint32_t st[8], const uint8_t *p, size_t n)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i s0, s1, t, m[4];

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xB1);  /* CDAB */
	s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1B); /* EFGH */
	s0 = _mm_alignr_epi8(t, s1, 8);          /* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xF0);       /* CDGH */
	for (; n; n--, p += 64) {
		__m128i a0 = s0, c0 = s1;

		for (int g = 0; g < 16; g++) {
			__m128i w;

			if (g < 4)
				m[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), swap);
			w = _mm_add_epi32(m[g & 3], _mm_loadu_si128((const __m128i *)&K[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, w);
			if (g >= 3 && g < 15) {
				t = _mm_alignr_epi8(m[g & 3], m[(g + 3) & 3], 4);
				m[(g + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(m[(g + 1) & 3], t), m[g & 3]);
			}
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(w, 0x0E));
			if (g >= 1 && g < 13)
				m[(g + 3) & 3] = _mm_sha256msg1_epu32(m[(g + 3) & 3], m[g & 3]);
		}
		s0 = _mm_add_epi32(s0, a0);
		s1 = _mm_add_epi32(s1, c0);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);         /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);        /* DCHG */
	_mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(t, s1, 0xF0));  /* DCBA */
	_mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(s1, t, 8));     /* HGFE */
}

/* Whole blocks at a block boundary: out of BearSSL's context, through the
 * extensions, and back. */
static void ni_update(br_sha256_context *br, const uint8_t *p, size_t n)
{
	uint8_t be[32];
	uint32_t st[8];
	uint64_t count = br_sha256_state(br, be);

	for (int i = 0; i < 8; i++)
		st[i] = (uint32_t)be[4 * i] << 24 | (uint32_t)be[4 * i + 1] << 16 |
			(uint32_t)be[4 * i + 2] << 8 | be[4 * i + 3];
	ni_blocks(st, p, n);
	for (int i = 0; i < 8; i++) {
		be[4 * i] = (uint8_t)(st[i] >> 24);
		be[4 * i + 1] = (uint8_t)(st[i] >> 16);
		be[4 * i + 2] = (uint8_t)(st[i] >> 8);
		be[4 * i + 3] = (uint8_t)st[i];
	}
	br_sha256_set_state(br, be, count + 64 * (uint64_t)n);
}
#else
#define RT_SHA_NI 0
static int have_ni(void) { return 0; }
static void ni_update(br_sha256_context *br, const uint8_t *p, size_t n)
{
	(void)br, (void)p, (void)n;
}
#endif

static const char hexdig[] = "0123456789abcdef";

void rt_sha256_init(struct rt_sha256 *h)
{
	br_sha256_init(&h->br);
	h->count = 0;
	h->ni = RT_SHA_NI && have_ni();
}

void rt_sha256_update(struct rt_sha256 *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t fill = (size_t)(-h->count & 63), n;

	h->count += len;
	if (!h->ni || len < 64 + fill) {
		br_sha256_update(&h->br, data, len);
		return;
	}
	br_sha256_update(&h->br, p, fill);       /* completes BearSSL's block */
	p += fill;
	len -= fill;
	n = len / 64;
	ni_update(&h->br, p, n);
	br_sha256_update(&h->br, p + 64 * n, len % 64);
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
