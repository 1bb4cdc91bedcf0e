/* ECDSA P-256 / SHA-256 key-pair signatures, compatible with cosign and
 * openssl: DER (ASN.1) signatures, PEM SubjectPublicKeyInfo public keys,
 * PEM SEC1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY") private keys.
 *
 * Only P-256 is accepted, anywhere. Verification takes strict DER only
 * (minimal lengths and integers, no trailing bytes, 0 < r, s < n), so a
 * signature has exactly one accepted encoding. Public points are checked
 * to lie on the curve when read.
 *
 * A struct rt_sign_key holds a private scalar: wipe it with
 * rt_sign_key_wipe() when done. Functions here wipe their own temporary
 * copies of key material.
 */
#ifndef RT_SIGN_H
#define RT_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sha256.h"

#define RT_SIGN_POINT_LEN 65    /* uncompressed point: 0x04 || X || Y */
#define RT_SIGN_SCALAR_LEN 32
#define RT_SIGN_SPKI_LEN 91     /* DER SubjectPublicKeyInfo of a P-256 key */
#define RT_SIGN_SIG_MAX 72      /* largest DER signature */
#define RT_SIGN_PEM_MAX 512     /* room for either PEM this module writes, + NUL */
#define RT_SIGN_FPR_LEN RT_SHA256_HEX   /* fingerprint: 64 hex + NUL */

struct rt_sign_pub {
	uint8_t q[RT_SIGN_POINT_LEN];
};

struct rt_sign_key {
	uint8_t x[RT_SIGN_SCALAR_LEN];  /* secret, big-endian, 0 < x < n */
	struct rt_sign_pub pub;
};

/* PEM text holding one "PUBLIC KEY" block (other blocks are an error). */
int rt_sign_pub_read_pem(struct rt_sign_pub *pub, const char *pem, size_t len,
	struct rt_err *e);
/* DER SubjectPublicKeyInfo: id-ecPublicKey, prime256v1, uncompressed point. */
int rt_sign_pub_read_spki(struct rt_sign_pub *pub, const uint8_t *der,
	size_t len, struct rt_err *e);
/* SPKI DER of pub, always RT_SIGN_SPKI_LEN bytes. */
void rt_sign_pub_spki(const struct rt_sign_pub *pub,
	uint8_t out[RT_SIGN_SPKI_LEN]);
/* "-----BEGIN PUBLIC KEY-----" PEM + NUL into out; returns its length. */
int rt_sign_pub_write_pem(const struct rt_sign_pub *pub, char *out,
	size_t cap, struct rt_err *e);
/* sha256 of the SPKI DER, lowercase hex (what `openssl pkey -pubin
 * -outform DER | sha256sum` prints). */
void rt_sign_pub_fingerprint(const struct rt_sign_pub *pub,
	char out[RT_SIGN_FPR_LEN]);

/* PEM text holding one "EC PRIVATE KEY" or "PRIVATE KEY" block, optionally
 * with "EC PARAMETERS" blocks (skipped). Encrypted keys are refused. */
int rt_sign_key_read_pem(struct rt_sign_key *key, const char *pem, size_t len,
	struct rt_err *e);
/* New random key (getrandom() seeding an HMAC-DRBG). */
int rt_sign_key_generate(struct rt_sign_key *key, struct rt_err *e);
/* SEC1 "-----BEGIN EC PRIVATE KEY-----" PEM (curve and public key
 * included) + NUL into out; returns its length. Wipe out when done. */
int rt_sign_key_write_pem(const struct rt_sign_key *key, char *out,
	size_t cap, struct rt_err *e);
void rt_sign_key_wipe(struct rt_sign_key *key);

/* DER signature of sha256(msg) into sig; returns its length. The nonce
 * is deterministic (RFC 6979). */
int rt_sign_create(const struct rt_sign_key *key, const void *msg, size_t len,
	uint8_t sig[RT_SIGN_SIG_MAX], struct rt_err *e);
/* 0 when sig is a strict-DER signature of sha256(msg) by pub. */
int rt_sign_verify(const struct rt_sign_pub *pub, const void *msg, size_t len,
	const uint8_t *sig, size_t siglen, struct rt_err *e);

#endif
