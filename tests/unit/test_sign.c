#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bearssl.h>

#include "sign.h"
#include "tap.h"

/* ---- helpers ------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex into a fresh buffer (never NULL; *n = -1 on bad hex). */
static uint8_t *unhex(const char *s, long *n)
{
	size_t len = strlen(s);
	uint8_t *out = malloc(len / 2 + 1);

	*n = -1;
	if (!out)
		abort();
	if (len % 2)
		return out;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return out;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = (long)(len / 2);
	return out;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(data, 1, len, f) == len ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

static struct rt_err E;

static int verify(const struct rt_sign_pub *pub, const char *msg, size_t mlen,
	const uint8_t *sig, size_t slen)
{
	rt_err_clear(&E);
	return rt_sign_verify(pub, msg, mlen, sig, slen, &E);
}

/* What BearSSL's own ASN.1 verifier says, to document why rt adds a
 * strict DER check in front of it. */
static int bearssl_asn1_accepts(const struct rt_sign_pub *pub, const void *msg,
	size_t mlen, const uint8_t *sig, size_t slen)
{
	uint8_t h[RT_SHA256_LEN], q[RT_SIGN_POINT_LEN];
	br_ec_public_key pk = { BR_EC_secp256r1, q, sizeof q };

	memcpy(q, pub->q, sizeof q);
	rt_sha256_buf(msg, mlen, h);
	return br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), h, sizeof h, &pk,
		sig, slen) == 1;
}

/* ---- Wycheproof ---------------------------------------------------- */

/* Just enough JSON to walk the Wycheproof file: every string or number
 * value is reported with the most recent key. Test-only. */
struct wp {
	struct rt_sign_pub pub;
	int have_pub;
	char *uncompressed;
	char *msg, *sig;
	long tcid, expected, run, failures, acceptable;
	long pem_ok, der_ok, groups;
	long br_accepts_invalid, br_rejects_valid;
	char br_list[400];
};

static void wp_string(struct wp *w, const char *key, char *val)
{
	struct rt_err e;
	long n;
	uint8_t *b;

	if (strcmp(key, "uncompressed") == 0) {
		free(w->uncompressed);
		w->uncompressed = val;
		return;
	}
	if (strcmp(key, "publicKeyDer") == 0) {
		struct rt_sign_pub p;
		uint8_t spki[RT_SIGN_SPKI_LEN];
		long un;
		uint8_t *u = unhex(w->uncompressed ? w->uncompressed : "", &un);

		w->groups++;
		b = unhex(val, &n);
		rt_err_clear(&e);
		w->have_pub = n > 0 && rt_sign_pub_read_spki(&p, b, (size_t)n, &e) == 0;
		if (w->have_pub && un == RT_SIGN_POINT_LEN && memcmp(p.q, u, un) == 0) {
			rt_sign_pub_spki(&p, spki);
			if (n == RT_SIGN_SPKI_LEN && memcmp(spki, b, sizeof spki) == 0)
				w->der_ok++;
		} else {
			printf("# group %ld: publicKeyDer: %s\n", w->groups, e.msg);
		}
		w->pub = p;
		free(u);
		free(b);
		free(val);
		return;
	}
	if (strcmp(key, "publicKeyPem") == 0) {
		struct rt_sign_pub p;

		rt_err_clear(&e);
		if (rt_sign_pub_read_pem(&p, val, strlen(val), &e) == 0 && w->have_pub &&
			memcmp(p.q, w->pub.q, sizeof p.q) == 0)
			w->pem_ok++;
		else
			printf("# group %ld: publicKeyPem: %s\n", w->groups, e.msg);
		free(val);
		return;
	}
	if (strcmp(key, "msg") == 0) {
		free(w->msg);
		w->msg = val;
		return;
	}
	if (strcmp(key, "sig") == 0) {
		free(w->sig);
		w->sig = val;
		return;
	}
	if (strcmp(key, "result") == 0 && w->msg && w->sig) {
		long ml, sl;
		uint8_t *m = unhex(w->msg, &ml), *s = unhex(w->sig, &sl);
		int valid = strcmp(val, "valid") == 0, acceptable = strcmp(val, "acceptable") == 0;
		int got, br;

		w->run++;
		got = w->have_pub && ml >= 0 && sl >= 0 &&
			verify(&w->pub, (char *)m, (size_t)ml, s, (size_t)sl) == 0;
		br = w->have_pub && ml >= 0 && sl >= 0 &&
			bearssl_asn1_accepts(&w->pub, m, (size_t)ml, s, (size_t)sl);
		if (acceptable) {
			/* None in the current file; counted so a new one is seen. */
			w->acceptable++;
			printf("# tcId %ld is \"acceptable\"; rt %s it\n", w->tcid,
				got ? "accepts" : "rejects");
		} else {
			ok(got == valid, "wycheproof tcId %ld: %s %s", w->tcid, val,
				got ? "verifies" : "rejected");
			if (got != valid)
				w->failures++;
		}
		if (!valid && br) {
			size_t l = strlen(w->br_list);

			w->br_accepts_invalid++;
			snprintf(w->br_list + l, sizeof w->br_list - l, " %ld", w->tcid);
		}
		if (valid && !br)
			w->br_rejects_valid++;
		free(m);
		free(s);
		free(w->msg);
		free(w->sig);
		w->msg = w->sig = NULL;
	}
	free(val);
}

static void wp_number(struct wp *w, const char *key, long v)
{
	if (strcmp(key, "numberOfTests") == 0)
		w->expected = v;
	else if (strcmp(key, "tcId") == 0)
		w->tcid = v;
}

/* Reads the JSON string at s (just past the quote); returns the byte
 * after the closing quote, or NULL. */
static const char *json_str(const char *s, char **out)
{
	size_t cap = 64, n = 0;
	char *b = malloc(cap);

	if (!b)
		abort();
	for (; *s && *s != '"'; s++) {
		char c = *s;

		if (c == '\\') {
			s++;
			switch (*s) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '"': case '\\': case '/': c = *s; break;
			default: free(b); return NULL;  /* not used by these files */
			}
		}
		if (n + 2 > cap) {
			cap *= 2;
			b = realloc(b, cap);
			if (!b)
				abort();
		}
		b[n++] = c;
	}
	if (*s != '"') {
		free(b);
		return NULL;
	}
	b[n] = '\0';
	*out = b;
	return s + 1;
}

static void wycheproof(void)
{
	const char *dir = getenv("RT_TESTDATA");
	char path[512], key[64] = "";
	struct wp w;
	size_t len;
	char *doc;
	const char *s;
	int parse_ok = 1;

	memset(&w, 0, sizeof w);
	snprintf(path, sizeof path, "%s/wycheproof/testvectors_v1/ecdsa_secp256r1_sha256_test.json",
		dir && *dir ? dir : "../shared/testdata");
	doc = read_file(path, &len);
	ok(doc != NULL, "read %s", path);
	if (!doc)
		return;
	for (s = doc; *s;) {
		if (*s == '"') {
			char *str;
			const char *t = json_str(s + 1, &str);

			if (!t) {
				parse_ok = 0;
				break;
			}
			while (*t == ' ' || *t == '\n' || *t == '\r' || *t == '\t')
				t++;
			if (*t == ':') {
				snprintf(key, sizeof key, "%s", str);
				free(str);
				t++;
			} else {
				wp_string(&w, key, str);
			}
			s = t;
		} else if ((*s >= '0' && *s <= '9') || *s == '-') {
			char *end;

			wp_number(&w, key, strtol(s, &end, 10));
			s = end;
		} else {
			s++;
		}
	}
	free(doc);
	free(w.uncompressed);
	free(w.msg);
	free(w.sig);
	ok(parse_ok, "wycheproof file walked to the end");
	ok(w.expected > 0 && w.run == w.expected, "ran all %ld wycheproof vectors (numberOfTests %ld)",
		w.run, w.expected);
	is_int(w.failures, 0, "no wycheproof vector disagrees with rt");
	ok(w.groups > 0 && w.der_ok == w.groups,
		"%ld/%ld publicKeyDer read, match \"uncompressed\", re-encode identically", w.der_ok, w.groups);
	ok(w.groups > 0 && w.pem_ok == w.groups, "%ld/%ld publicKeyPem read to the same key",
		w.pem_ok, w.groups);
	printf("# %ld \"acceptable\" vectors\n", w.acceptable);
	printf("# BearSSL's plain ASN.1 verifier would accept %ld invalid vector(s):%s\n",
		w.br_accepts_invalid, w.br_list);
	printf("# and reject %ld valid one(s)\n", w.br_rejects_valid);
}

/* ---- known answers (RFC 6979, A.2.5, P-256 with SHA-256) ------------- */

static const char rfc_x[] = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
static const char rfc_q[] = "04"
	"60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
	"7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
/* DER of (r, s) for the message "sample". */
static const char rfc_sig_sample[] = "3046"
	"022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
	"022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
static const char rfc_sig_test[] = "3045"
	"022100f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
	"0220019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083";

static void rfc_key(struct rt_sign_key *k)
{
	long n;
	uint8_t *x = unhex(rfc_x, &n), *q = unhex(rfc_q, &n);

	memcpy(k->x, x, sizeof k->x);
	memcpy(k->pub.q, q, sizeof k->pub.q);
	free(x);
	free(q);
}

static void known_answers(void)
{
	struct rt_sign_key k, k2;
	uint8_t sig[RT_SIGN_SIG_MAX];
	char pem[RT_SIGN_PEM_MAX];
	long n;
	uint8_t *want;
	int len;

	rfc_key(&k);
	rt_err_clear(&E);
	len = rt_sign_create(&k, "sample", 6, sig, &E);
	want = unhex(rfc_sig_sample, &n);
	ok(len == n && memcmp(sig, want, (size_t)n) == 0, "RFC 6979 P-256/SHA-256 \"sample\" signature");
	free(want);
	len = rt_sign_create(&k, "test", 4, sig, &E);
	want = unhex(rfc_sig_test, &n);
	ok(len == n && memcmp(sig, want, (size_t)n) == 0,
		"RFC 6979 P-256/SHA-256 \"test\" signature (s needs no leading zero)");
	is_int(verify(&k.pub, "test", 4, want, (size_t)n), 0, "which verifies");
	ok(verify(&k.pub, "sample", 6, want, (size_t)n) < 0 && strstr(E.msg, "does not verify"),
		"and not for another message: %s", E.msg);
	free(want);

	/* Reading a key back computes the public point: a KAT for that. */
	rt_err_clear(&E);
	len = rt_sign_key_write_pem(&k, pem, sizeof pem, &E);
	ok(len > 0 && (size_t)len == strlen(pem) &&
		strncmp(pem, "-----BEGIN EC PRIVATE KEY-----\n", 31) == 0,
		"write SEC1 PEM (%d bytes)", len);
	memset(&k2, 0, sizeof k2);
	is_int(rt_sign_key_read_pem(&k2, pem, strlen(pem), &E), 0, "read it back");
	ok(memcmp(&k, &k2, sizeof k) == 0, "same scalar, public point computed as in RFC 6979");

	rt_sign_key_wipe(&k2);
	{
		static const struct rt_sign_key zero;

		ok(memcmp(&k2, &zero, sizeof zero) == 0, "rt_sign_key_wipe zeroes the key");
	}
}

/* ---- strict DER ---------------------------------------------------- */

static void strict_der(void)
{
	struct rt_sign_key k;
	long n;
	uint8_t *good = unhex(rfc_sig_sample, &n), sig[200];
	const uint8_t *r = good + 4, *s = good + 39;  /* 33 bytes each, 0x00-led */
	size_t l;

	rfc_key(&k);
	is_int(verify(&k.pub, "sample", 6, good, (size_t)n), 0, "baseline signature verifies");

	struct {
		const char *what;
		size_t len;
	} cases[12];
	uint8_t bufs[12][200];
	int nc = 0;

#define CASE(desc) (cases[nc].what = (desc), bufs[nc])
#define DONE(len_) (cases[nc++].len = (len_))
	/* long-form SEQUENCE length */
	{ uint8_t *b = CASE("long-form SEQUENCE length");
	  b[0] = 0x30; b[1] = 0x81; b[2] = 0x46; memcpy(b + 3, good + 2, (size_t)n - 2); DONE((size_t)n + 1); }
	{ uint8_t *b = CASE("trailing zero byte");
	  memcpy(b, good, (size_t)n); b[n] = 0; DONE((size_t)n + 1); }
	{ uint8_t *b = CASE("extra leading zero in r");
	  b[0] = 0x30; b[1] = 0x47; b[2] = 0x02; b[3] = 0x22; b[4] = 0; memcpy(b + 5, r, 33);
	  b[38] = 0x02; b[39] = 0x21; memcpy(b + 40, s, 33); DONE(73); }
	{ uint8_t *b = CASE("r without its sign byte (negative)");
	  b[0] = 0x30; b[1] = 0x45; b[2] = 0x02; b[3] = 0x20; memcpy(b + 4, r + 1, 32);
	  b[36] = 0x02; b[37] = 0x21; memcpy(b + 38, s, 33); DONE(71); }
	{ uint8_t *b = CASE("indefinite-length SEQUENCE");
	  b[0] = 0x30; b[1] = 0x80; memcpy(b + 2, good + 2, (size_t)n - 2); b[n] = 0; b[n + 1] = 0; DONE((size_t)n + 2); }
	{ uint8_t *b = CASE("long-form INTEGER length");
	  b[0] = 0x30; b[1] = 0x47; b[2] = 0x02; b[3] = 0x81; b[4] = 0x21; memcpy(b + 5, r, 33);
	  b[38] = 0x02; b[39] = 0x21; memcpy(b + 40, s, 33); DONE(73); }
	{ uint8_t *b = CASE("raw r||s (P1363) instead of DER");
	  memcpy(b, r + 1, 32); memcpy(b + 32, s + 1, 32); DONE(64); }
	{ uint8_t *b = CASE("SEQUENCE length one too short");
	  memcpy(b, good, (size_t)n); b[1]--; DONE((size_t)n); }
	{ uint8_t *b = CASE("third INTEGER inside");
	  memcpy(b, good, (size_t)n); b[1] += 3; b[n] = 2; b[n + 1] = 1; b[n + 2] = 0; DONE((size_t)n + 3); }
	{ (void)CASE("empty"); DONE(0); }
	{ uint8_t *b = CASE("SET instead of SEQUENCE");
	  memcpy(b, good, (size_t)n); b[0] = 0x31; DONE((size_t)n); }
#undef CASE
#undef DONE
	for (int i = 0; i < nc; i++) {
		int br = bearssl_asn1_accepts(&k.pub, "sample", 6, bufs[i], cases[i].len);

		ok(verify(&k.pub, "sample", 6, bufs[i], cases[i].len) < 0,
			"rejects %s (%s)%s", cases[i].what, E.msg,
			br ? " [BearSSL alone accepts it]" : "");
	}
	/* s of the "test" signature needs no sign byte: one more zero is
	 * non-minimal, yet still fits in 32 bytes once stripped. */
	{
		long tn;
		uint8_t *t = unhex(rfc_sig_test, &tn), b[80];

		b[0] = 0x30; b[1] = 0x46;
		memcpy(b + 2, t + 2, 35);                       /* r, 0x00-led */
		b[37] = 0x02; b[38] = 0x21; b[39] = 0x00;
		memcpy(b + 40, t + 39, 32);                     /* s */
		is_int(verify(&k.pub, "test", 4, t, (size_t)tn), 0, "\"test\" signature verifies");
		ok(verify(&k.pub, "test", 4, b, 72) < 0 && strstr(E.msg, "non-minimal"),
			"rejects a superfluous zero before s (%s)%s", E.msg,
			bearssl_asn1_accepts(&k.pub, "test", 4, b, 72) ? " [BearSSL alone accepts it]" : "");
		free(t);
	}
	/* Every prefix of a valid signature is invalid. */
	l = 0;
	for (size_t i = 0; i < (size_t)n; i++)
		if (verify(&k.pub, "sample", 6, good, i) == 0)
			l++;
	is_int(l, 0, "no proper prefix of a signature verifies");
	memcpy(sig, good, (size_t)n);
	sig[n - 1] ^= 1;
	ok(verify(&k.pub, "sample", 6, sig, (size_t)n) < 0, "a flipped bit in s fails");
	free(good);
}

/* ---- keys ---------------------------------------------------------- */

static const char spki_p384[] = "3076301006072a8648ce3d020106052b81040022036200"
	"0461225c281fb885ed69aac73e4bef21fc11a3c8efe8d0ede53dd78379405715852f31c0a783943ff3991a416dc1fc7394"
	"65c347a6fc6497dd8531af54ed3dcc57ad0f03226f8def0230bf2382749fbf6bcc49d0f7e5ebdd538a514d2d75c6b57c";
static const char spki_ed25519[] =
	"302a300506032b6570032100a6246063ad10b6e62c2c4305cb2301a6101e5182ca83cd153697ae0676bcc80b";
static const char spki_k256[] = "3056301006072a8648ce3d020106052b8104000a034200"
	"049ed5391a3907d7e7e6aa08747b6704dabc33b315bc75f91821215d465cbc7e8f"
	"b2776cfb31770eabafd806ef857903a589f4913b9370a06f5558fde17b83eccb";
static const char spki_compressed[] = "3039301306072a8648ce3d020106082a8648ce3d030107032200"
	"03d79fb43f10ea4ecf040052320106d4f4c8f5255812d448592e6ab6f6a76482a0";

static int read_spki_hex(const char *hex, struct rt_sign_pub *p)
{
	long n;
	uint8_t *b = unhex(hex, &n);
	int rc;

	rt_err_clear(&E);
	rc = rt_sign_pub_read_spki(p, b, (size_t)n, &E);
	free(b);
	return rc;
}

static void spki(void)
{
	struct rt_sign_key k;
	struct rt_sign_pub p;
	uint8_t der[RT_SIGN_SPKI_LEN + 8], d[RT_SHA256_LEN];
	char fpr[RT_SIGN_FPR_LEN], hex[RT_SHA256_HEX];
	size_t bad;

	rfc_key(&k);
	rt_sign_pub_spki(&k.pub, der);
	is_int(rt_sign_pub_read_spki(&p, der, RT_SIGN_SPKI_LEN, &E), 0, "own SPKI reads back");
	ok(memcmp(p.q, k.pub.q, sizeof p.q) == 0, "same point");
	rt_sign_pub_fingerprint(&k.pub, fpr);
	rt_sha256_buf(der, RT_SIGN_SPKI_LEN, d);
	rt_sha256_hex(d, hex);
	is_str(fpr, hex, "fingerprint is sha256 of the SPKI DER");
	is_int((int)strlen(fpr), 64, "fingerprint is 64 hex characters");

	ok(read_spki_hex(spki_p384, &p) < 0 && strstr(E.msg, "P-384"), "P-384 key: %s", E.msg);
	ok(read_spki_hex(spki_k256, &p) < 0 && strstr(E.msg, "secp256k1"), "secp256k1 key: %s", E.msg);
	ok(read_spki_hex(spki_ed25519, &p) < 0 && strstr(E.msg, "Ed25519"), "Ed25519 key: %s", E.msg);
	ok(read_spki_hex(spki_compressed, &p) < 0 && strstr(E.msg, "compressed"),
		"compressed point: %s", E.msg);

	/* Explicit parameters: the named-curve OID replaced by a SEQUENCE. */
	{
		uint8_t b[128];
		size_t o = 0;

		b[o++] = 0x30; b[o++] = 2 + 11 + 68;
		b[o++] = 0x30; b[o++] = 11;
		memcpy(b + o, der + 4, 9); o += 9;          /* OID id-ecPublicKey */
		b[o++] = 0x30; b[o++] = 0;
		memcpy(b + o, der + 23, 3 + 65); o += 68;   /* BIT STRING */
		rt_err_clear(&E);
		ok(rt_sign_pub_read_spki(&p, b, o, &E) < 0 && strstr(E.msg, "explicit"),
			"explicit curve parameters: %s", E.msg);
	}

	rt_sign_pub_spki(&k.pub, der);
	der[RT_SIGN_SPKI_LEN - 1] ^= 1;
	rt_err_clear(&E);
	ok(rt_sign_pub_read_spki(&p, der, RT_SIGN_SPKI_LEN, &E) < 0 && strstr(E.msg, "curve"),
		"point off the curve: %s", E.msg);
	memset(der + 27, 0xff, 32);
	ok(rt_sign_pub_read_spki(&p, der, RT_SIGN_SPKI_LEN, &E) < 0, "x >= p: %s", E.msg);
	memset(der + 27, 0, 64);
	ok(rt_sign_pub_read_spki(&p, der, RT_SIGN_SPKI_LEN, &E) < 0, "all-zero point: %s", E.msg);

	rt_sign_pub_spki(&k.pub, der);
	der[RT_SIGN_SPKI_LEN] = 0;
	ok(rt_sign_pub_read_spki(&p, der, RT_SIGN_SPKI_LEN + 1, &E) < 0, "trailing byte: %s", E.msg);
	bad = 0;
	for (size_t i = 0; i < RT_SIGN_SPKI_LEN; i++)
		if (rt_sign_pub_read_spki(&p, der, i, &E) == 0)
			bad++;
	is_int(bad, 0, "no proper prefix of an SPKI reads");
	{
		uint8_t b[RT_SIGN_SPKI_LEN + 1];

		b[0] = 0x30; b[1] = 0x81; b[2] = 0x59;
		memcpy(b + 3, der + 2, RT_SIGN_SPKI_LEN - 2);
		ok(rt_sign_pub_read_spki(&p, b, sizeof b, &E) < 0, "non-minimal length: %s", E.msg);
	}
	der[24] = 1;    /* unused-bits count of the BIT STRING */
	ok(rt_sign_pub_read_spki(&p, der, RT_SIGN_SPKI_LEN, &E) < 0, "unused bits in BIT STRING: %s", E.msg);
	/* Every single-byte change in the header must be refused. */
	bad = 0;
	for (size_t i = 0; i < 26; i++) {
		for (int v = 0; v < 256; v++) {
			rt_sign_pub_spki(&k.pub, der);
			if (der[i] == v)
				continue;
			der[i] = (uint8_t)v;
			if (rt_sign_pub_read_spki(&p, der, RT_SIGN_SPKI_LEN, &E) == 0)
				bad++;
		}
	}
	is_int(bad, 0, "every one-byte change of the SPKI header is refused");
}

static int pub_pem(const char *pem, struct rt_sign_pub *p)
{
	rt_err_clear(&E);
	return rt_sign_pub_read_pem(p, pem, strlen(pem), &E);
}

static int key_pem(const char *pem, struct rt_sign_key *k)
{
	rt_err_clear(&E);
	return rt_sign_key_read_pem(k, pem, strlen(pem), &E);
}

static void pem(void)
{
	struct rt_sign_key k, k2;
	struct rt_sign_pub p;
	char pub[RT_SIGN_PEM_MAX], priv[RT_SIGN_PEM_MAX], buf[4096], *c;
	int len;

	rfc_key(&k);
	rt_err_clear(&E);
	len = rt_sign_pub_write_pem(&k.pub, pub, sizeof pub, &E);
	ok(len > 0 && strncmp(pub, "-----BEGIN PUBLIC KEY-----\n", 27) == 0 &&
		strcmp(pub + len - 25, "-----END PUBLIC KEY-----\n") == 0, "write PUBLIC KEY PEM");
	ok(rt_sign_pub_write_pem(&k.pub, buf, (size_t)len, &E) < 0, "write refuses a buffer without room for NUL");
	rt_sign_key_write_pem(&k, priv, sizeof priv, &E);

	memset(&p, 0, sizeof p);
	ok(pub_pem(pub, &p) == 0 && memcmp(p.q, k.pub.q, sizeof p.q) == 0, "read it back");
	snprintf(buf, sizeof buf, "%.*s", len - 1, pub);
	is_int(pub_pem(buf, &p), 0, "no final newline is fine");
	c = buf;
	for (const char *s = pub; *s; s++) {
		if (*s == '\n')
			*c++ = '\r';
		*c++ = *s;
	}
	*c = '\0';
	is_int(pub_pem(buf, &p), 0, "CRLF line ends are fine");
	snprintf(buf, sizeof buf, "comment line\n%s", pub);
	is_int(pub_pem(buf, &p), 0, "text before the block is ignored");

	snprintf(buf, sizeof buf, "%s%s", pub, pub);
	ok(pub_pem(buf, &p) < 0 && strstr(E.msg, "more than one"), "two keys: %s", E.msg);
	ok(pub_pem("", &p) < 0 && strstr(E.msg, "no PUBLIC KEY"), "empty input: %s", E.msg);
	snprintf(buf, sizeof buf, "%.*s", len - 25, pub);
	ok(pub_pem(buf, &p) < 0 && strstr(E.msg, "truncated"), "no END line: %s", E.msg);
	snprintf(buf, sizeof buf, "%s", pub);
	buf[40] = '*';
	ok(pub_pem(buf, &p) < 0 && strstr(E.msg, "malformed PEM"), "bad base64: %s", E.msg);
	ok(pub_pem(priv, &p) < 0 && strstr(E.msg, "private key"), "private key given as public: %s", E.msg);
	snprintf(buf, sizeof buf, "-----BEGIN CERTIFICATE-----\n%.*s-----END CERTIFICATE-----\n",
		len - 27 - 25, pub + 27);
	ok(pub_pem(buf, &p) < 0 && strstr(E.msg, "CERTIFICATE"), "other block: %s", E.msg);
	snprintf(buf, sizeof buf, "-----BEGIN \x1b[2J-----\nAAAA\n-----END \x1b[2J-----\n");
	ok(pub_pem(buf, &p) < 0 && !strchr(E.msg, '\x1b'), "odd block names are not echoed: %s", E.msg);
	c = buf + sprintf(buf, "-----BEGIN PUBLIC KEY-----\n");
	for (int i = 0; i < 30; i++)
		c += sprintf(c, "%s\n", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	sprintf(c, "-----END PUBLIC KEY-----\n");
	ok(pub_pem(buf, &p) < 0 && strstr(E.msg, "too large"), "oversized block: %s", E.msg);
	snprintf(buf, sizeof buf, "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n");
	ok(pub_pem(buf, &p) < 0 && strstr(E.msg, "malformed"), "block that is not an SPKI: %s", E.msg);

	/* Private keys. */
	memset(&k2, 0, sizeof k2);
	ok(key_pem(priv, &k2) == 0 && memcmp(&k, &k2, sizeof k) == 0, "read SEC1 PEM");
	snprintf(buf, sizeof buf,
		"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n%s", priv);
	memset(&k2, 0, sizeof k2);
	ok(key_pem(buf, &k2) == 0 && memcmp(&k, &k2, sizeof k) == 0, "EC PARAMETERS block is skipped");
	ok(key_pem(pub, &k2) < 0 && strstr(E.msg, "public key"), "public key given as private: %s", E.msg);
	snprintf(buf, sizeof buf, "%s%s", priv, priv);
	ok(key_pem(buf, &k2) < 0 && strstr(E.msg, "more than one"), "two keys: %s", E.msg);
	ok(key_pem("nothing here\n", &k2) < 0 && strstr(E.msg, "no EC PRIVATE KEY"), "no block: %s", E.msg);
	snprintf(buf, sizeof buf, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
	ok(key_pem(buf, &k2) < 0 && strstr(E.msg, "encrypted"), "PKCS#8 encrypted: %s", E.msg);
	snprintf(buf, sizeof buf, "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n");
	ok(key_pem(buf, &k2) < 0 && strstr(E.msg, "encrypted"), "cosign's encrypted key: %s", E.msg);
	snprintf(buf, sizeof buf, "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
		"DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n");
	ok(key_pem(buf, &k2) < 0 && strstr(E.msg, "encrypted"), "legacy encrypted PEM: %s", E.msg);

	/* Keys built with BearSSL's encoders: PKCS#8, short scalar, out of range, other curve. */
	{
		uint8_t x[48], der[256];
		br_ec_private_key sk = { BR_EC_secp256r1, x, 32 };
		br_ec_public_key pk = { BR_EC_secp256r1, k.pub.q, sizeof k.pub.q };
		size_t n;

		memcpy(x, k.x, 32);
		n = br_encode_ec_pkcs8_der(der, &sk, &pk);
		br_pem_encode(buf, der, n, "PRIVATE KEY", BR_PEM_LINE64);
		memset(&k2, 0, sizeof k2);
		ok(key_pem(buf, &k2) == 0 && memcmp(&k, &k2, sizeof k) == 0, "read PKCS#8 PEM");

		memset(x, 0, 31);
		x[31] = 7;
		sk.x = x + 1;
		sk.xlen = 31;   /* a scalar stored without its leading zero byte */
		n = br_encode_ec_raw_der(der, &sk, NULL);
		br_pem_encode(buf, der, n, "EC PRIVATE KEY", BR_PEM_LINE64);
		ok(key_pem(buf, &k2) == 0 && k2.x[31] == 7 && k2.x[0] == 0, "short scalar is left-padded");

		static const uint8_t order[32] = {
			0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
			0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
		};
		memcpy(x, order, 32);
		sk.x = x;
		sk.xlen = 32;
		n = br_encode_ec_raw_der(der, &sk, NULL);
		br_pem_encode(buf, der, n, "EC PRIVATE KEY", BR_PEM_LINE64);
		ok(key_pem(buf, &k2) < 0 && strstr(E.msg, "range"), "scalar = n: %s", E.msg);
		x[31] = 0x50;
		n = br_encode_ec_raw_der(der, &sk, NULL);
		br_pem_encode(buf, der, n, "EC PRIVATE KEY", BR_PEM_LINE64);
		ok(key_pem(buf, &k2) == 0, "scalar = n - 1 is fine");
		memset(x, 0, 32);
		n = br_encode_ec_raw_der(der, &sk, NULL);
		br_pem_encode(buf, der, n, "EC PRIVATE KEY", BR_PEM_LINE64);
		ok(key_pem(buf, &k2) < 0 && strstr(E.msg, "range"), "scalar = 0: %s", E.msg);

		memset(x, 0x11, 48);
		sk.curve = BR_EC_secp384r1;
		sk.xlen = 48;
		n = br_encode_ec_raw_der(der, &sk, NULL);
		br_pem_encode(buf, der, n, "EC PRIVATE KEY", BR_PEM_LINE64);
		ok(n > 0 && key_pem(buf, &k2) < 0 && strstr(E.msg, "curve"), "P-384 private key: %s", E.msg);
	}
	rt_sign_key_wipe(&k2);
}

static void generated(void)
{
	struct rt_sign_key a, b;
	struct rt_sign_pub p;
	uint8_t sig[RT_SIGN_SIG_MAX], sig2[RT_SIGN_SIG_MAX];
	char pem[RT_SIGN_PEM_MAX];
	int n, n2;

	rt_err_clear(&E);
	is_int(rt_sign_key_generate(&a, &E), 0, "generate a key");
	is_int(rt_sign_key_generate(&b, &E), 0, "generate another");
	ok(memcmp(a.x, b.x, sizeof a.x) != 0 && memcmp(a.pub.q, b.pub.q, sizeof a.pub.q) != 0,
		"they differ");
	n = rt_sign_create(&a, "hello", 5, sig, &E);
	ok(n >= 8 && n <= RT_SIGN_SIG_MAX, "sign (%d bytes)", n);
	is_int(verify(&a.pub, "hello", 5, sig, (size_t)n), 0, "verify with its key");
	ok(verify(&b.pub, "hello", 5, sig, (size_t)n) < 0, "not with another key");
	ok(verify(&a.pub, "hellp", 5, sig, (size_t)n) < 0, "not for another message");
	n2 = rt_sign_create(&a, "hello", 5, sig2, &E);
	ok(n2 == n && memcmp(sig, sig2, (size_t)n) == 0, "signing is deterministic");
	n = rt_sign_create(&a, "", 0, sig, &E);
	is_int(verify(&a.pub, "", 0, sig, (size_t)n), 0, "empty message signs and verifies");

	n = rt_sign_key_write_pem(&a, pem, sizeof pem, &E);
	ok(n > 0 && key_pem(pem, &b) == 0 && memcmp(&a, &b, sizeof a) == 0, "PEM round trip");
	n = rt_sign_pub_write_pem(&a.pub, pem, sizeof pem, &E);
	ok(n > 0 && pub_pem(pem, &p) == 0 && memcmp(&p, &a.pub, sizeof p) == 0, "public PEM round trip");
	rt_sign_key_wipe(&a);
	rt_sign_key_wipe(&b);
}

/* ---- openssl interop ----------------------------------------------- */

static char tmpdir[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024], full[1200];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "cd '%s' && (%s) >/dev/null 2>&1", tmpdir, cmd);
	st = system(full);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static char *slurp(const char *name, size_t *len)
{
	char path[128];
	size_t l;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return read_file(path, len ? len : &l);
}

static int put(const char *name, const void *data, size_t len)
{
	char path[128];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return write_file(path, data, len);
}

static int load_key(const char *name, struct rt_sign_key *k)
{
	size_t len;
	char *t = slurp(name, &len);
	int rc;

	rt_err_clear(&E);
	rc = t ? rt_sign_key_read_pem(k, t, len, &E) : -1;
	free(t);
	return rc;
}

static int load_pub(const char *name, struct rt_sign_pub *p)
{
	size_t len;
	char *t = slurp(name, &len);
	int rc;

	rt_err_clear(&E);
	rc = t ? rt_sign_pub_read_pem(p, t, len, &E) : -1;
	free(t);
	return rc;
}

static int verify_file(const struct rt_sign_pub *p, const char *msgname, const char *signame)
{
	size_t ml, sl;
	char *m = slurp(msgname, &ml), *s = slurp(signame, &sl);
	int rc = m && s ? verify(p, m, ml, (uint8_t *)s, sl) : -1;

	free(m);
	free(s);
	return rc;
}

static int sign_file(const struct rt_sign_key *k, const char *msgname, const char *signame)
{
	size_t ml;
	char *m = slurp(msgname, &ml);
	uint8_t sig[RT_SIGN_SIG_MAX];
	int n;

	rt_err_clear(&E);
	n = m ? rt_sign_create(k, m, ml, sig, &E) : -1;
	free(m);
	return n < 0 ? -1 : put(signame, sig, (size_t)n);
}

static void interop(void)
{
	static const char msg[] = "{\"critical\":{\"image\":{\"docker-manifest-digest\":\"sha256:00\"}}}\n";
	struct rt_sign_key k, k2;
	struct rt_sign_pub p;
	char pem[RT_SIGN_PEM_MAX], fpr[RT_SIGN_FPR_LEN], *t;
	size_t len;

	if (system("openssl version >/dev/null 2>&1") != 0) {
		ok(1, "# SKIP openssl not installed");
		return;
	}
	snprintf(tmpdir, sizeof tmpdir, "/tmp/rt-test-sign-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		ok(0, "mkdtemp");
		return;
	}
	put("msg", msg, sizeof msg - 1);
	put("other", "other\n", 6);

	/* A key as `openssl ecparam -genkey` makes it (EC PARAMETERS first). */
	is_int(sh("openssl ecparam -name prime256v1 -genkey -out k1.pem"), 0, "openssl ecparam -genkey");
	t = slurp("k1.pem", NULL);
	ok(t && strstr(t, "EC PARAMETERS"), "its output starts with EC PARAMETERS");
	free(t);
	is_int(load_key("k1.pem", &k), 0, "rt reads it");
	is_int(sh("openssl ec -in k1.pem -pubout -out p1.pem"), 0, "openssl ec -pubout");
	ok(load_pub("p1.pem", &p) == 0 && memcmp(&p, &k.pub, sizeof p) == 0,
		"rt reads the public key; it matches the private one");
	is_int(sign_file(&k, "msg", "s1.der"), 0, "rt signs");
	is_int(sh("openssl dgst -sha256 -verify p1.pem -signature s1.der msg"), 0, "openssl verifies rt's signature");
	ok(sh("openssl dgst -sha256 -verify p1.pem -signature s1.der other") != 0, "openssl rejects it on another message");
	is_int(sh("openssl dgst -sha256 -sign k1.pem -out s2.der msg"), 0, "openssl signs");
	is_int(verify_file(&p, "msg", "s2.der"), 0, "rt verifies openssl's signature");
	ok(verify_file(&p, "other", "s2.der") < 0, "rt rejects it on another message");
	is_int(sh("openssl pkey -pubin -in p1.pem -outform DER | openssl dgst -sha256 -r | cut -c1-64 > fpr"), 0,
		"openssl fingerprint");
	t = slurp("fpr", NULL);
	rt_sign_pub_fingerprint(&p, fpr);
	ok(t && strncmp(t, fpr, 64) == 0, "fingerprint matches openssl's sha256 of the SPKI DER");
	free(t);

	/* PKCS#8 from genpkey. */
	is_int(sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k2.pem"), 0, "openssl genpkey (PKCS#8)");
	t = slurp("k2.pem", NULL);
	ok(t && strstr(t, "BEGIN PRIVATE KEY"), "it is a PRIVATE KEY block");
	free(t);
	is_int(load_key("k2.pem", &k2), 0, "rt reads it");
	sh("openssl pkey -in k2.pem -pubout -out p2.pem");
	ok(sign_file(&k2, "msg", "s3.der") == 0 &&
		sh("openssl dgst -sha256 -verify p2.pem -signature s3.der msg") == 0,
		"rt signs with it and openssl verifies");

	/* rt's own keys, read by openssl. */
	is_int(rt_sign_key_generate(&k2, &E), 0, "rt generates a key");
	rt_sign_key_write_pem(&k2, pem, sizeof pem, &E);
	put("kg.pem", pem, strlen(pem));
	rt_sign_pub_write_pem(&k2.pub, pem, sizeof pem, &E);
	put("pg.pem", pem, strlen(pem));
	is_int(sh("openssl ec -in kg.pem -check -noout"), 0, "openssl ec -check accepts rt's private key");
	is_int(sh("openssl pkey -pubin -in pg.pem -noout"), 0, "openssl pkey -pubin reads rt's public key");
	is_int(sh("openssl ec -in kg.pem -pubout -out pg2.pem"), 0, "openssl derives the public key");
	t = slurp("pg2.pem", &len);
	ok(t && len == strlen(pem) && memcmp(t, pem, len) == 0, "byte-identical to rt's public PEM");
	free(t);
	is_int(sh("openssl ec -in kg.pem -out kg2.pem"), 0, "openssl rewrites rt's private key");
	t = slurp("kg2.pem", &len);
	rt_sign_key_write_pem(&k2, pem, sizeof pem, &E);
	ok(t && len == strlen(pem) && memcmp(t, pem, len) == 0, "byte-identical to rt's private PEM");
	free(t);
	ok(sign_file(&k2, "msg", "s4.der") == 0 &&
		sh("openssl dgst -sha256 -verify pg.pem -signature s4.der msg") == 0,
		"openssl verifies a signature by rt's generated key");

	/* What must be refused, with a clear message. */
	sh("openssl ec -in k1.pem -aes128 -passout pass:x -out enc.pem");
	ok(load_key("enc.pem", &k2) < 0 && strstr(E.msg, "encrypted"), "legacy-encrypted key: %s", E.msg);
	sh("openssl pkcs8 -topk8 -in k1.pem -passout pass:x -out enc8.pem");
	ok(load_key("enc8.pem", &k2) < 0 && strstr(E.msg, "encrypted"), "PKCS#8-encrypted key: %s", E.msg);
	sh("openssl ecparam -name secp384r1 -genkey -out k384.pem && openssl ec -in k384.pem -pubout -out p384.pem");
	ok(load_key("k384.pem", &k2) < 0 && strstr(E.msg, "curve"), "P-384 private key: %s", E.msg);
	ok(load_pub("p384.pem", &p) < 0 && strstr(E.msg, "P-384"), "P-384 public key: %s", E.msg);
	sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.pem && "
		"openssl pkey -in rsa.pem -pubout -out rsapub.pem");
	ok(load_key("rsa.pem", &k2) < 0 && strstr(E.msg, "not an EC"), "RSA private key: %s", E.msg);
	ok(load_pub("rsapub.pem", &p) < 0 && strstr(E.msg, "RSA"), "RSA public key: %s", E.msg);
	sh("openssl ec -in k1.pem -pubout -conv_form compressed -out pc.pem");
	ok(load_pub("pc.pem", &p) < 0 && strstr(E.msg, "compressed"), "compressed public key: %s", E.msg);
	sh("openssl ec -in k1.pem -param_enc explicit -out kx.pem && "
		"openssl ec -in kx.pem -pubout -param_enc explicit -out px.pem");
	ok(load_key("kx.pem", &k2) < 0, "explicit-parameter private key: %s", E.msg);
	ok(load_pub("px.pem", &p) < 0 && strstr(E.msg, "explicit"), "explicit-parameter public key: %s", E.msg);

	rt_sign_key_wipe(&k);
	rt_sign_key_wipe(&k2);
	sh("rm -f msg other fpr *.pem *.der");
	rmdir(tmpdir);
}

int main(void)
{
	wycheproof();
	known_answers();
	strict_der();
	spki();
	pem();
	generated();
	interop();
	return done_testing();
}
