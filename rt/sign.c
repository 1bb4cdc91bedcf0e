#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <bearssl.h>

#include "sign.h"

/* Largest DER object taken out of a PEM block. P-256 keys need < 200
 * bytes; the slack only lets a too-large input fail with a clear message. */
#define DER_MAX 1024

#define TAG_INTEGER 0x02
#define TAG_BITSTRING 0x03
#define TAG_OID 0x06
#define TAG_SEQUENCE 0x30

static const uint8_t oid_ecpub[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

/* The only SPKI this module produces or accepts, minus the 65-byte point. */
static const uint8_t spki_head[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00,
};

/* Order n of the P-256 group, big-endian. */
static const uint8_t p256_n[RT_SIGN_SCALAR_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
	0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

struct oidname {
	const char *name;
	uint8_t len;
	uint8_t oid[9];
};

/* Only for error messages: say what was given instead of P-256. */
static const struct oidname known_algs[] = {
	{ "RSA", 9, { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 } },
	{ "DSA", 7, { 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01 } },
	{ "Ed25519", 3, { 0x2b, 0x65, 0x70 } },
	{ "Ed448", 3, { 0x2b, 0x65, 0x71 } },
	{ "X25519", 3, { 0x2b, 0x65, 0x6e } },
	{ "X448", 3, { 0x2b, 0x65, 0x6f } },
};

static const struct oidname known_curves[] = {
	{ "secp384r1 (P-384)", 5, { 0x2b, 0x81, 0x04, 0x00, 0x22 } },
	{ "secp521r1 (P-521)", 5, { 0x2b, 0x81, 0x04, 0x00, 0x23 } },
	{ "secp256k1", 5, { 0x2b, 0x81, 0x04, 0x00, 0x0a } },
	{ "secp224r1 (P-224)", 5, { 0x2b, 0x81, 0x04, 0x00, 0x21 } },
	{ "prime192v1 (P-192)", 8, { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01 } },
};

static const char *oid_name(const struct oidname *t, size_t n,
	const uint8_t *oid, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].len == len && memcmp(t[i].oid, oid, len) == 0)
			return t[i].name;
	return NULL;
}

static void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

/* ---- strict DER ---------------------------------------------------- */

struct der {
	const uint8_t *p;
	size_t n;
};

/* Takes one element with the given tag off the front of d. Lengths must
 * be in their shortest form and at most 0xffff: nothing here is larger,
 * and refusing the rest keeps each object to one encoding. */
static int der_take(struct der *d, uint8_t tag, struct der *out)
{
	size_t len, hdr;

	if (d->n < 2 || d->p[0] != tag)
		return -1;
	if (d->p[1] < 0x80) {
		len = d->p[1];
		hdr = 2;
	} else if (d->p[1] == 0x81) {
		if (d->n < 3 || d->p[2] < 0x80)
			return -1;
		len = d->p[2];
		hdr = 3;
	} else if (d->p[1] == 0x82) {
		if (d->n < 4)
			return -1;
		len = (size_t)d->p[2] << 8 | d->p[3];
		if (len < 0x100)
			return -1;
		hdr = 4;
	} else {
		return -1;
	}
	if (len > d->n - hdr)
		return -1;
	out->p = d->p + hdr;
	out->n = len;
	d->p += hdr + len;
	d->n -= hdr + len;
	return 0;
}

/* 1 when big-endian a < b (both RT_SIGN_SCALAR_LEN bytes), in constant
 * time since a may be a private scalar. */
static unsigned less_than(const uint8_t *a, const uint8_t *b)
{
	unsigned borrow = 0;

	for (size_t i = RT_SIGN_SCALAR_LEN; i-- > 0;)
		borrow = ((unsigned)a[i] - b[i] - borrow) >> 8 & 1;
	return borrow;
}

static unsigned is_zero(const uint8_t *a)
{
	unsigned acc = 0;

	for (size_t i = 0; i < RT_SIGN_SCALAR_LEN; i++)
		acc |= a[i];
	return acc == 0;
}

static const char *der_scalar(struct der *d, uint8_t out[RT_SIGN_SCALAR_LEN])
{
	struct der v;

	if (der_take(d, TAG_INTEGER, &v) < 0)
		return "bad INTEGER";
	if (v.n == 0)
		return "empty INTEGER";
	if (v.p[0] & 0x80)
		return "negative INTEGER";
	if (v.p[0] == 0 && v.n > 1) {
		if (!(v.p[1] & 0x80))
			return "non-minimal INTEGER";
		v.p++;
		v.n--;
	}
	if (v.n > RT_SIGN_SCALAR_LEN)
		return "INTEGER too large";
	memset(out, 0, RT_SIGN_SCALAR_LEN - v.n);
	memcpy(out + RT_SIGN_SCALAR_LEN - v.n, v.p, v.n);
	if (is_zero(out) || !less_than(out, p256_n))
		return "INTEGER out of range";
	return NULL;
}

/* DER Ecdsa-Sig-Value to r || s. BearSSL's own ASN.1 reader accepts
 * some BER (leading zero bytes), which would make signatures malleable. */
static const char *sig_to_raw(const uint8_t *sig, size_t len,
	uint8_t raw[2 * RT_SIGN_SCALAR_LEN])
{
	struct der d = { sig, len }, seq;
	const char *why;

	if (der_take(&d, TAG_SEQUENCE, &seq) < 0)
		return "bad SEQUENCE";
	if (d.n)
		return "trailing bytes";
	if ((why = der_scalar(&seq, raw)) || (why = der_scalar(&seq, raw + RT_SIGN_SCALAR_LEN)))
		return why;
	if (seq.n)
		return "trailing bytes in SEQUENCE";
	return NULL;
}

/* ---- points and keys ----------------------------------------------- */

static void pubkey(br_ec_public_key *pk, uint8_t q[RT_SIGN_POINT_LEN])
{
	pk->curve = BR_EC_secp256r1;
	pk->q = q;
	pk->qlen = RT_SIGN_POINT_LEN;
}

/* BearSSL has no "validate point" call, but decoding for a multiplication
 * refuses points off the curve or with coordinates >= p. */
static int point_valid(const uint8_t q[RT_SIGN_POINT_LEN])
{
	static const uint8_t one = 1;
	uint8_t tmp[RT_SIGN_POINT_LEN];

	if (q[0] != 0x04)
		return 0;
	memcpy(tmp, q, sizeof tmp);
	return br_ec_get_default()->mul(tmp, sizeof tmp, &one, 1, BR_EC_secp256r1) == 1;
}

int rt_sign_pub_read_spki(struct rt_sign_pub *pub, const uint8_t *der,
	size_t len, struct rt_err *e)
{
	struct der d = { der, len }, spki, alg, oid, curve, bits;
	const char *name;

	if (der_take(&d, TAG_SEQUENCE, &spki) < 0 || d.n)
		return rt_err_set(e, 0, "public key: malformed SubjectPublicKeyInfo");
	if (der_take(&spki, TAG_SEQUENCE, &alg) < 0 || der_take(&alg, TAG_OID, &oid) < 0)
		return rt_err_set(e, 0, "public key: malformed algorithm identifier");
	if (oid.n != sizeof oid_ecpub || memcmp(oid.p, oid_ecpub, oid.n) != 0) {
		name = oid_name(known_algs, sizeof known_algs / sizeof *known_algs, oid.p, oid.n);
		return rt_err_set(e, 0, "public key: unsupported algorithm %s (want ECDSA P-256)",
			name ? name : "(unknown OID)");
	}
	if (alg.n && alg.p[0] == TAG_SEQUENCE)
		return rt_err_set(e, 0, "public key: explicit curve parameters are not supported (want named curve P-256)");
	if (der_take(&alg, TAG_OID, &curve) < 0 || alg.n)
		return rt_err_set(e, 0, "public key: malformed EC parameters");
	if (curve.n != sizeof oid_p256 || memcmp(curve.p, oid_p256, curve.n) != 0) {
		name = oid_name(known_curves, sizeof known_curves / sizeof *known_curves,
			curve.p, curve.n);
		return rt_err_set(e, 0, "public key: unsupported curve %s (want P-256)",
			name ? name : "(unknown OID)");
	}
	if (der_take(&spki, TAG_BITSTRING, &bits) < 0 || spki.n)
		return rt_err_set(e, 0, "public key: malformed key bit string");
	if (bits.n == 1 + 33 && bits.p[0] == 0 && (bits.p[1] == 2 || bits.p[1] == 3))
		return rt_err_set(e, 0, "public key: compressed points are not supported");
	if (bits.n != 1 + RT_SIGN_POINT_LEN || bits.p[0] != 0 || bits.p[1] != 0x04)
		return rt_err_set(e, 0, "public key: not an uncompressed P-256 point");
	if (!point_valid(bits.p + 1))
		return rt_err_set(e, 0, "public key: point is not on the P-256 curve");
	memcpy(pub->q, bits.p + 1, RT_SIGN_POINT_LEN);
	return 0;
}

void rt_sign_pub_spki(const struct rt_sign_pub *pub, uint8_t out[RT_SIGN_SPKI_LEN])
{
	memcpy(out, spki_head, sizeof spki_head);
	memcpy(out + sizeof spki_head, pub->q, RT_SIGN_POINT_LEN);
}

void rt_sign_pub_fingerprint(const struct rt_sign_pub *pub, char out[RT_SIGN_FPR_LEN])
{
	uint8_t spki[RT_SIGN_SPKI_LEN], d[RT_SHA256_LEN];

	rt_sign_pub_spki(pub, spki);
	rt_sha256_buf(spki, sizeof spki, d);
	rt_sha256_hex(d, out);
}

/* ---- PEM ----------------------------------------------------------- */

struct sink {
	uint8_t buf[DER_MAX];
	size_t len;
	int overflow;
	int on;
};

static void sink_push(void *ctx, const void *src, size_t len)
{
	struct sink *s = ctx;

	if (!s->on)
		return;
	if (s->overflow || len > sizeof s->buf - s->len) {
		s->overflow = 1;
		return;
	}
	memcpy(s->buf + s->len, src, len);
	s->len += len;
}

enum want { WANT_PUB, WANT_KEY };

/* Block names come from the input; only quote ones that are plainly a
 * PEM label so nothing odd reaches a terminal. */
static const char *label(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 40)
		return "(unnamed)";
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') ||
			name[i] == ' ' || name[i] == '-' || name[i] == '_'))
			return "(unnamed)";
	return name;
}

static int on_begin(const char *name, enum want want, struct sink *s, int *found,
	struct rt_err *e)
{
	const char *what = want == WANT_PUB ? "public key" : "private key";
	int match;

	if (want == WANT_PUB)
		match = strcmp(name, "PUBLIC KEY") == 0;
	else
		match = strcmp(name, BR_ENCODE_PEM_EC_RAW) == 0 ||
			strcmp(name, BR_ENCODE_PEM_PKCS8) == 0;
	if (match) {
		if (*found)
			return rt_err_set(e, 0, "%s: more than one key in PEM", what);
		*found = 1;
		s->on = 1;
		return 0;
	}
	if (want == WANT_KEY && strcmp(name, "EC PARAMETERS") == 0)
		return 0;
	if (strstr(name, "ENCRYPTED"))
		return rt_err_set(e, 0, "%s: encrypted keys are not supported", what);
	if (want == WANT_KEY && strcmp(name, "PUBLIC KEY") == 0)
		return rt_err_set(e, 0, "private key: PEM holds a public key");
	if (want == WANT_PUB && strstr(name, "PRIVATE KEY"))
		return rt_err_set(e, 0, "public key: PEM holds a private key");
	return rt_err_set(e, 0, "%s: unexpected PEM block \"%s\"", what, label(name));
}

/* Legacy openssl encryption puts "Proc-Type: 4,ENCRYPTED" inside the
 * block, which the decoder reports only as malformed. */
static int has_proc_type(const char *p, size_t len)
{
	static const char tag[] = "Proc-Type:";

	for (size_t i = 0; len >= sizeof tag - 1 && i <= len - (sizeof tag - 1); i++)
		if (memcmp(p + i, tag, sizeof tag - 1) == 0)
			return 1;
	return 0;
}

/* BearSSL's decoder keeps a CR before LF in the block name ("PUBLIC
 * KEY-----"), so CRLF files are fed without the CRs: this finds where
 * the next CRLF (or a final CR) starts. */
static size_t line_end(const char *p, size_t off, size_t len)
{
	for (; off < len; off++)
		if (p[off] == '\r' && (off + 1 == len || p[off + 1] == '\n'))
			break;
	return off;
}

/* Leaves the DER of the single wanted block in s. */
static int pem_extract(const char *pem, size_t len, enum want want,
	struct sink *s, struct rt_err *e)
{
	const char *what = want == WANT_PUB ? "public key" : "private key";
	br_pem_decoder_context pc;
	size_t off = 0;
	int tail = 0, inside = 0, found = 0, rc = -1;

	s->len = 0;
	s->overflow = 0;
	s->on = 0;
	br_pem_decoder_init(&pc);
	br_pem_decoder_setdest(&pc, sink_push, s);
	for (;;) {
		size_t n = 0;
		int ev;

		if (off < len && pem[off] == '\r' && (off + 1 == len || pem[off + 1] == '\n')) {
			off++;
			continue;
		} else if (off < len) {
			n = br_pem_decoder_push(&pc, pem + off, line_end(pem, off, len) - off);
			off += n;
		} else if (!tail) {
			/* The END line only counts once its line ends; files
			 * often lack the final newline. */
			n = br_pem_decoder_push(&pc, "\n", 1);
			tail = n == 1;
		}
		ev = br_pem_decoder_event(&pc);
		if (ev == BR_PEM_BEGIN_OBJ) {
			inside = 1;
			if (on_begin(br_pem_decoder_name(&pc), want, s, &found, e) < 0)
				goto out;
		} else if (ev == BR_PEM_END_OBJ) {
			inside = 0;
			s->on = 0;
		} else if (ev == BR_PEM_ERROR) {
			if (has_proc_type(pem, len))
				rt_err_set(e, 0, "%s: encrypted keys are not supported", what);
			else
				rt_err_set(e, 0, "%s: malformed PEM", what);
			goto out;
		} else if (n == 0) {
			if (off == len && tail)
				break;
			/* No event and no progress: never expected, but a loop
			 * must not depend on that. */
			rt_err_set(e, 0, "%s: PEM decoder stalled", what);
			goto out;
		}
	}
	if (inside)
		rt_err_set(e, 0, "%s: truncated PEM (no END line)", what);
	else if (!found)
		rt_err_set(e, 0, "%s: no %s PEM block found", what,
			want == WANT_PUB ? "PUBLIC KEY" : "EC PRIVATE KEY or PRIVATE KEY");
	else if (s->overflow)
		rt_err_set(e, 0, "%s: PEM block too large", what);
	else
		rc = 0;
out:
	wipe(&pc, sizeof pc);
	return rc;
}

int rt_sign_pub_read_pem(struct rt_sign_pub *pub, const char *pem, size_t len,
	struct rt_err *e)
{
	struct sink s;

	if (pem_extract(pem, len, WANT_PUB, &s, e) < 0)
		return -1;
	return rt_sign_pub_read_spki(pub, s.buf, s.len, e);
}

static int pem_write(const uint8_t *der, size_t len, const char *banner,
	char *out, size_t cap, struct rt_err *e)
{
	size_t n = br_pem_encode(NULL, der, len, banner, BR_PEM_LINE64);

	if (n == 0 || n >= cap)
		return rt_err_set(e, 0, "PEM: output buffer too small (%zu for %zu)", cap, n + 1);
	br_pem_encode(out, der, len, banner, BR_PEM_LINE64);
	return (int)n;
}

int rt_sign_pub_write_pem(const struct rt_sign_pub *pub, char *out, size_t cap,
	struct rt_err *e)
{
	uint8_t spki[RT_SIGN_SPKI_LEN];

	rt_sign_pub_spki(pub, spki);
	return pem_write(spki, sizeof spki, "PUBLIC KEY", out, cap, e);
}

/* Sets key->pub from key->x, after checking 0 < x < n. */
static int key_finish(struct rt_sign_key *key, struct rt_err *e)
{
	br_ec_private_key sk = { BR_EC_secp256r1, key->x, sizeof key->x };
	br_ec_public_key pk;

	if (is_zero(key->x) || !less_than(key->x, p256_n))
		return rt_err_set(e, 0, "private key: scalar out of range");
	if (br_ec_compute_pub(br_ec_get_default(), &pk, key->pub.q, &sk) != RT_SIGN_POINT_LEN)
		return rt_err_set(e, 0, "private key: cannot compute the public key");
	return 0;
}

int rt_sign_key_read_pem(struct rt_sign_key *key, const char *pem, size_t len,
	struct rt_err *e)
{
	struct sink s;
	br_skey_decoder_context dc;
	const br_ec_private_key *sk;
	struct rt_sign_key k;
	int rc = -1, err;

	memset(&k, 0, sizeof k);
	br_skey_decoder_init(&dc);
	if (pem_extract(pem, len, WANT_KEY, &s, e) < 0)
		goto out;
	br_skey_decoder_push(&dc, s.buf, s.len);
	if ((err = br_skey_decoder_last_error(&dc)) != 0) {
		rt_err_set(e, 0, "private key: malformed, or not a named-curve SEC1/PKCS#8 key (decoder error %d)", err);
		goto out;
	}
	if (br_skey_decoder_key_type(&dc) != BR_KEYTYPE_EC) {
		rt_err_set(e, 0, "private key: not an EC key (want ECDSA P-256)");
		goto out;
	}
	sk = br_skey_decoder_get_ec(&dc);
	if (sk->curve != BR_EC_secp256r1) {
		rt_err_set(e, 0, "private key: unsupported curve (want P-256)");
		goto out;
	}
	if (sk->xlen == 0 || sk->xlen > sizeof k.x) {
		rt_err_set(e, 0, "private key: bad scalar length %zu", sk->xlen);
		goto out;
	}
	memcpy(k.x + sizeof k.x - sk->xlen, sk->x, sk->xlen);
	if (key_finish(&k, e) < 0)
		goto out;
	*key = k;
	rc = 0;
out:
	wipe(&k, sizeof k);
	wipe(&dc, sizeof dc);
	wipe(&s, sizeof s);
	return rc;
}

static int fill_random(uint8_t *p, size_t n, struct rt_err *e)
{
	while (n) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return rt_err_sys(e, "getrandom");
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int rt_sign_key_generate(struct rt_sign_key *key, struct rt_err *e)
{
	uint8_t seed[48], kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	br_hmac_drbg_context rng;
	struct rt_sign_key k;
	int rc = -1;

	memset(&k, 0, sizeof k);
	memset(&rng, 0, sizeof rng);
	if (fill_random(seed, sizeof seed, e) < 0)
		goto out;
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
	if (br_ec_keygen(&rng.vtable, br_ec_get_default(), NULL, kbuf,
			BR_EC_secp256r1) != sizeof k.x) {
		rt_err_set(e, 0, "key generation failed");
		goto out;
	}
	memcpy(k.x, kbuf, sizeof k.x);
	if (key_finish(&k, e) < 0)
		goto out;
	*key = k;
	rc = 0;
out:
	wipe(seed, sizeof seed);
	wipe(kbuf, sizeof kbuf);
	wipe(&rng, sizeof rng);
	wipe(&k, sizeof k);
	return rc;
}

int rt_sign_key_write_pem(const struct rt_sign_key *key, char *out, size_t cap,
	struct rt_err *e)
{
	struct rt_sign_key k = *key;
	br_ec_private_key sk = { BR_EC_secp256r1, k.x, sizeof k.x };
	br_ec_public_key pk;
	uint8_t der[256];
	size_t n;
	int rc = -1;

	pubkey(&pk, k.pub.q);
	n = br_encode_ec_raw_der(NULL, &sk, &pk);
	if (n == 0 || n > sizeof der) {
		rt_err_set(e, 0, "private key: cannot encode");
		goto out;
	}
	br_encode_ec_raw_der(der, &sk, &pk);
	rc = pem_write(der, n, BR_ENCODE_PEM_EC_RAW, out, cap, e);
out:
	wipe(der, sizeof der);
	wipe(&k, sizeof k);
	return rc;
}

void rt_sign_key_wipe(struct rt_sign_key *key)
{
	wipe(key, sizeof *key);
}

/* ---- sign and verify ----------------------------------------------- */

int rt_sign_create(const struct rt_sign_key *key, const void *msg, size_t len,
	uint8_t sig[RT_SIGN_SIG_MAX], struct rt_err *e)
{
	struct rt_sign_key k = *key;
	br_ec_private_key sk = { BR_EC_secp256r1, k.x, sizeof k.x };
	uint8_t h[RT_SHA256_LEN], raw[2 * RT_SIGN_SCALAR_LEN];
	size_t n;

	rt_sha256_buf(msg, len, h);
	n = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable,
		h, &sk, sig);
	wipe(&k, sizeof k);
	if (n == 0 || n > RT_SIGN_SIG_MAX)
		return rt_err_set(e, 0, "signing failed");
	/* Never hand out a signature this module would refuse. */
	if (sig_to_raw(sig, n, raw))
		return rt_err_set(e, 0, "signing produced a non-canonical signature");
	return (int)n;
}

int rt_sign_verify(const struct rt_sign_pub *pub, const void *msg, size_t len,
	const uint8_t *sig, size_t siglen, struct rt_err *e)
{
	uint8_t h[RT_SHA256_LEN], raw[2 * RT_SIGN_SCALAR_LEN], q[RT_SIGN_POINT_LEN];
	br_ec_public_key pk;
	const char *why;

	if ((why = sig_to_raw(sig, siglen, raw)))
		return rt_err_set(e, 0, "signature: not a DER ECDSA P-256 signature: %s", why);
	rt_sha256_buf(msg, len, h);
	memcpy(q, pub->q, sizeof q);
	pubkey(&pk, q);
	if (br_ecdsa_vrfy_raw_get_default()(br_ec_get_default(), h, sizeof h, &pk,
			raw, sizeof raw) != 1)
		return rt_err_set(e, 0, "signature: does not verify with this key");
	return 0;
}
