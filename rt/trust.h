/* The trust policy: which images may enter the store.
 *
 * Signatures are cosign key-pair signatures. Next to an image whose manifest
 * has digest sha256:<hex>, the source (an OCI layout, an archive, a
 * registry) holds a manifest tagged "sha256-<hex>.sig" whose layers are
 * "simple signing" payloads (media type RT_TRUST_MEDIA_PAYLOAD), each with
 * its ECDSA P-256/SHA-256 DER signature, base64, in the layer annotation
 * RT_TRUST_ANN_SIG. A payload reads:
 *
 *   {"critical":{"identity":{"docker-reference":"REPO"},
 *                "image":{"docker-manifest-digest":"sha256:<hex>"},
 *                "type":"cosign container image signature"},
 *    "optional":{"version":"N"}}
 *
 * Payloads are parsed strictly, after their signature has been checked:
 * duplicate keys anywhere, members other than "critical" and "optional" at
 * the top, other than exactly identity, image and type in "critical", other
 * than exactly the one named member in identity and image, a type that is
 * not exactly the string above, or a digest that is not a strict
 * "sha256:<64 lowercase hex>" are refused. "optional" may be absent, null,
 * or an object of anything (cosign's -a annotations); only its "version"
 * member is read: a decimal string (what `cosign sign -a version=N` writes)
 * of 1 to 19 digits without leading zeros. An image signed without a
 * version has version 0.
 *
 * Policy, in order, for an image with manifest digest D loaded under the
 * repository R (NULL when the source gives it no name):
 *   1. no "sha256-<D>.sig" manifest: refused when the caller requires
 *      signatures, else accepted as unsigned (the caller warns);
 *   2. every signature layer is tried against every trusted key; a
 *      signature by no trusted key is skipped, and when none is by a
 *      trusted key (or no key is trusted) the image is as unsigned: refused
 *      when signatures are required, else accepted as unsigned;
 *   3. a payload signed by a trusted key must parse (above), name D, and,
 *      when R is known, name R as its identity's repository (tag and digest
 *      of the identity are ignored, as cosign writes either; both names are
 *      compared as Docker normalises them: "app" is
 *      "docker.io/library/app") - a signed
 *      payload that fails any of these refuses the image, so a signer's
 *      mistake is never papered over by another signature;
 *   4. of the accepted payloads the highest version counts; it must not be
 *      lower than the highest version accepted before for its repository
 *      (the rollback record), unless the owner allows a downgrade, which is
 *      reported in the result so the caller can log it.
 * Verification writes nothing: rt_trust_commit() records the version and
 * the verification once the image is completely stored, so a refused or
 * failed load leaves the store as it was.
 *
 * Store records (under the store root, written durably, mode 0600):
 *   trust/repos/<sha256 hex of REPO>   {"repository":R,"version":N}
 *   trust/images/<manifest hex>        {"key":FPR,"keyfile":NAME,
 *                                       "repository":R,"verified":T,
 *                                       "version":N}   (+ "downgrade":true)
 */
#ifndef RT_TRUST_H
#define RT_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "json.h"
#include "sha256.h"
#include "sign.h"

#define RT_TRUST_KEYS_DIR "/etc/rt/keys"       /* default trusted keys */
#define RT_TRUST_KEYS_ENV "RT_KEYS_DIR"        /* overrides it (tests) */
#define RT_TRUST_MEDIA_PAYLOAD "application/vnd.dev.cosign.simplesigning.v1+json"
#define RT_TRUST_ANN_SIG "dev.cosignproject.cosign/signature"
#define RT_TRUST_TYPE "cosign container image signature"

#define RT_TRUST_PAYLOAD_MAX 16384      /* one simple-signing payload */
#define RT_TRUST_SIGMAN_MAX 262144      /* one .sig manifest */
#define RT_TRUST_TOK_MAX 2048           /* JSON tokens of either */
#define RT_TRUST_SIGS_MAX 16            /* signature layers read per image */
#define RT_TRUST_KEYS_MAX 32            /* trusted keys */
#define RT_TRUST_REF_MAX 256            /* identity / repository names */
#define RT_TRUST_KEYNAME_MAX 64         /* key file names */
#define RT_TRUST_TAG_LEN 76             /* "sha256-" + 64 hex + ".sig" + NUL */

/* A parsed simple-signing payload. */
struct rt_trust_payload {
	char identity[RT_TRUST_REF_MAX];        /* docker-reference, verbatim */
	uint8_t digest[RT_SHA256_LEN];          /* docker-manifest-digest */
	uint64_t version;                       /* 0 when absent */
	bool has_version;
};

/* One signature layer of a .sig manifest. */
struct rt_trust_sig {
	uint8_t digest[RT_SHA256_LEN];  /* of the payload blob */
	uint64_t size;                  /* of the payload blob */
	uint8_t der[RT_SIGN_SIG_MAX];
	size_t derlen;
};

struct rt_trust_key {
	struct rt_sign_pub pub;
	char fpr[RT_SIGN_FPR_LEN];              /* key id: sha256 of the SPKI */
	char name[RT_TRUST_KEYNAME_MAX];        /* file name, or as given */
};

struct rt_trust_keys {
	size_t n;
	struct rt_trust_key k[RT_TRUST_KEYS_MAX];
};

/* What a source of images offers the policy. */
struct rt_trust_source {
	void *ctx;
	/* Find the manifest the source tags `tag` ("sha256-<hex>.sig", alone
	 * or after "NAME:"): its digest and size. 0 found, 1 none, < 0 error. */
	int (*find_tag)(void *ctx, const char *tag, uint8_t digest[RT_SHA256_LEN],
			uint64_t *size, struct rt_err *e);
	/* Read the whole blob `digest` of `size` bytes into buf (size <= cap
	 * is checked by the policy first). Returns the bytes read; the policy
	 * hashes them itself. */
	ssize_t (*read_blob)(void *ctx, const uint8_t digest[RT_SHA256_LEN],
			     uint64_t size, void *buf, size_t cap, struct rt_err *e);
};

enum rt_trust_state {
	RT_TRUST_UNSIGNED = 0,  /* accepted without a signature */
	RT_TRUST_VERIFIED,
};

struct rt_trust_result {
	enum rt_trust_state state;
	uint8_t digest[RT_SHA256_LEN];          /* the image manifest's */
	char key[RT_SIGN_FPR_LEN];              /* key id that verified */
	char keyfile[RT_TRUST_KEYNAME_MAX];
	char repo[RT_TRUST_REF_MAX];            /* signed identity's repository,
						 * normalised */
	uint64_t version;
	bool has_version;
	bool downgrade;         /* older than prev_version, allowed by the owner */
	uint64_t prev_version;  /* the rollback record's, when there was one */
	bool has_prev;
};

/* The policy context: set keys, rootfd, require and allow_downgrade; the
 * rest is work space. About 330 KiB: allocate it on the heap. */
struct rt_trust {
	struct rt_trust_keys keys;
	int rootfd;             /* store root for rollback records; -1: none */
	bool require;           /* refuse unsigned images */
	bool allow_downgrade;   /* accept an older version (logged by caller) */
	struct rt_json_tok tok[RT_TRUST_TOK_MAX];
	struct rt_trust_sig sigs[RT_TRUST_SIGS_MAX];
	char payload[RT_TRUST_PAYLOAD_MAX];
	char sigman[RT_TRUST_SIGMAN_MAX];
};

/* Payloads. */
int rt_trust_payload_parse(struct rt_trust_payload *p, const char *buf,
	size_t len, struct rt_json_tok *tok, size_t maxtok, struct rt_err *e);
/* Writes the payload cosign would sign (keys in cosign's order, "optional"
 * null without a version) + NUL into out; returns its length. */
int rt_trust_payload_write(char *out, size_t cap, const char *identity,
	const uint8_t digest[RT_SHA256_LEN], const uint64_t *version,
	struct rt_err *e);

/* "sha256-<hex>.sig" for a manifest digest. */
void rt_trust_sig_tag(const uint8_t digest[RT_SHA256_LEN],
	char out[RT_TRUST_TAG_LEN]);
/* True when ref is a signature tag, bare or as "NAME:sha256-<hex>.sig";
 * its digest goes to digest (may be NULL). */
bool rt_trust_is_sig_ref(const char *ref, uint8_t digest[RT_SHA256_LEN]);
/* The repository of a reference: without "@digest" and ":tag". */
int rt_trust_repo(const char *ref, char *out, size_t cap, struct rt_err *e);

/* The signature layers of a .sig manifest, in order, into sigs[0..max);
 * returns their count (0 when it has none). Layers of other media types
 * are skipped; a signature layer without a well-formed signature is an
 * error. */
int rt_trust_sigman_parse(const char *buf, size_t len,
	struct rt_trust_sig *sigs, size_t max, struct rt_json_tok *tok,
	size_t maxtok, struct rt_err *e);

/* Keys. Add one PEM public key under a name (for messages and records). */
int rt_trust_keys_add(struct rt_trust_keys *ks, const char *name,
	const char *pem, size_t len, struct rt_err *e);
/* Add every "*.pub" in dir, in name order. A missing dir adds nothing; an
 * unreadable or malformed key is an error. */
int rt_trust_keys_load(struct rt_trust_keys *ks, const char *dir,
	struct rt_err *e);
/* $RT_KEYS_DIR when set and not empty, else RT_TRUST_KEYS_DIR. */
const char *rt_trust_keys_dir(void);

/* The policy above for the manifest `digest` loaded as `ref` (NULL when
 * unnamed) from src. 0 accepted (r says how), < 0 refused with why. */
int rt_trust_verify(struct rt_trust *t, const char *ref,
	const uint8_t digest[RT_SHA256_LEN], const struct rt_trust_source *src,
	struct rt_trust_result *r, struct rt_err *e);

/* After the image is stored: raise the rollback record and write the
 * verification record (nothing for an unsigned image). `now` is seconds
 * since the epoch. */
int rt_trust_commit(int rootfd, const struct rt_trust_result *r, int64_t now,
	struct rt_err *e);
/* The two halves of rt_trust_commit: the verification record alone, and
 * raising the rollback record of repo to version (never lowering it).
 * An update writes the first when the image is stored and the second
 * only once the new version has proved healthy (update.h). */
int rt_trust_record(int rootfd, const struct rt_trust_result *r, int64_t now,
	struct rt_err *e);
int rt_trust_raise(int rootfd, const char *repo, uint64_t version,
	struct rt_err *e);

/* Rollback record of a repository: 0 found, 1 none. */
int rt_trust_rollback_read(int rootfd, const char *repo, uint64_t *version,
	struct rt_err *e);

/* Verification record of a manifest, for `rt inspect`: 0 found (r filled,
 * state VERIFIED, *when set), 1 none. */
int rt_trust_record_read(int rootfd, const uint8_t digest[RT_SHA256_LEN],
	struct rt_trust_result *r, int64_t *when, struct rt_err *e);

/* rt only (cli_trust.c, built with SIGNATURES): point o's verification
 * callbacks at this policy for the store at root, with the keys of
 * rt_trust_keys_dir() and the build's REQUIRE_SIGNATURE. flags:
 * RT_TRUST_DOWNGRADE allows an older version (logged); RT_TRUST_KEEP_FLOOR
 * writes the verification records but leaves the rollback records to the
 * caller (rt_trust_raise). image.h's rt_image_trust_hook() is this with no
 * flags. Weak: absent from a build without signature support. */
#define RT_TRUST_DOWNGRADE 1u
#define RT_TRUST_KEEP_FLOOR 2u
struct rt_image_load_opts;
int rt_trust_load_opts(const char *root, unsigned flags,
	struct rt_image_load_opts *o, struct rt_err *e) __attribute__((weak));

#endif
