/* mkimage sign and verify: cosign key-pair signatures in an OCI layout.
 *
 * sign writes what `cosign sign --key K.key -a version=N` would push: the
 * simple-signing payload as a blob, signed (ECDSA P-256, SHA-256, DER,
 * base64) in the annotation of its layer descriptor, in a manifest tagged
 * sha256-<hex>.sig beside the image. Signing again adds a layer to that
 * manifest, as cosign does; the same key signing the same payload again
 * changes nothing (the nonce is deterministic). verify runs rt's own
 * policy code (trust.c) over the layout, then hashes every blob. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "io.h"
#include "mkimage.h"
#include "sign.h"
#include "trust.h"

#define KEYFILE_MAX 16384

/* ---- the layout as a trust source ------------------------------------------ */

static const char *tag_of(const char *ref)
{
	const char *c = strrchr(ref, ':'), *s = strrchr(ref, '/');

	return c && (!s || c > s) ? c + 1 : ref;
}

static int lay_find(void *ctx, const char *tag, uint8_t digest[RT_SHA256_LEN],
		    uint64_t *size, struct rt_err *e)
{
	struct mk_layout *l = ctx;
	size_t i;

	(void)e;
	for (i = 0; i < l->n; i++)
		if (!strcmp(tag_of(l->m[i].ref), tag)) {
			memcpy(digest, l->m[i].digest, RT_SHA256_LEN);
			*size = l->m[i].size;
			return 0;
		}
	return 1;
}

static ssize_t lay_read(void *ctx, const uint8_t digest[RT_SHA256_LEN], uint64_t size,
			void *buf, size_t cap, struct rt_err *e)
{
	return mk_blob_read(ctx, digest, size, buf, cap, e);
}

/* A name "NAME:TAG" gives the repository the signature must be for; a
 * bare tag (as skopeo writes) names no repository. */
static const char *named(const char *ref)
{
	const char *c = strrchr(ref, ':'), *s = strrchr(ref, '/');

	return c && (!s || c > s) ? ref : NULL;
}

static int read_small(const char *path, char *buf, size_t cap, size_t *len, struct rt_err *e)
{
	int rc = rt_io_read_file(AT_FDCWD, path, buf, cap, len, e);

	return rc < 0 ? -1 : 0;
}

/* ---- sign ------------------------------------------------------------------------ */

/* Index of the .sig entry of digest d, or -1. */
static int sig_entry(const struct mk_layout *l, const uint8_t d[RT_SHA256_LEN])
{
	uint8_t got[RT_SHA256_LEN];
	size_t i;

	for (i = 0; i < l->n; i++)
		if (rt_trust_is_sig_ref(l->m[i].ref, got) && !memcmp(got, d, RT_SHA256_LEN))
			return (int)i;
	return -1;
}

struct newsig {
	uint8_t digest[RT_SHA256_LEN];
	uint64_t size;
	char b64[RT_B64_ENCLEN(RT_SIGN_SIG_MAX) + 1];
};

static void layer_desc(struct rt_json_w *w, const struct newsig *s)
{
	char dig[RT_SHA256_STR];

	rt_sha256_format(s->digest, dig);
	rt_json_w_obj(w);
	rt_json_w_key(w, "annotations");
	rt_json_w_obj(w);
	rt_json_w_key(w, RT_TRUST_ANN_SIG);
	rt_json_w_str(w, s->b64);
	rt_json_w_end(w);
	rt_json_w_key(w, "digest");
	rt_json_w_str(w, dig);
	rt_json_w_key(w, "mediaType");
	rt_json_w_str(w, RT_TRUST_MEDIA_PAYLOAD);
	rt_json_w_key(w, "size");
	rt_json_w_u64(w, s->size);
	rt_json_w_end(w);
}

/* The .sig manifest: the old one's layers (unless one is this very
 * signature) and the new one; a config listing them as cosign's does. */
static int write_sigman(struct mk_layout *l, const struct mk_json *old, const struct newsig *s,
			uint8_t out[RT_SHA256_LEN], uint64_t *outsize, bool *same, struct rt_err *e)
{
	struct mk_jw jw = { 0 };
	uint8_t cfgd[RT_SHA256_LEN], ld[RT_SHA256_LEN];
	uint64_t lsize;
	char dig[RT_SHA256_STR], media[128];
	size_t cfgsize;
	int layers = old ? rt_json_find(&old->j, 0, "layers") : -1, k, pass, rc = -1;

	*same = false;
	for (k = old ? rt_json_first(&old->j, layers) : -1; k >= 0; k = rt_json_next(&old->j, layers, k)) {
		int sig = rt_json_find(&old->j, rt_json_find(&old->j, k, "annotations"), RT_TRUST_ANN_SIG);

		if (mk_json_desc(&old->j, k, ld, &lsize, NULL, 0, e) < 0)
			return rt_err_wrap(e, "signature manifest");
		if (!memcmp(ld, s->digest, sizeof ld) && rt_json_streq(&old->j, sig, s->b64))
			*same = true;
	}
	if (*same)
		return 0;
	if (mk_jw_init(&jw, e) < 0)
		return -1;
	/* pass 0: the config; pass 1: the manifest */
	for (pass = 0; pass < 2; pass++) {
		rt_json_w_init(&jw.w, jw.buf, MK_JSON_MAX);
		rt_json_w_obj(&jw.w);
		if (pass == 0) {
			rt_json_w_key(&jw.w, "architecture");
			rt_json_w_str(&jw.w, "");
			rt_json_w_key(&jw.w, "config");
			rt_json_w_obj(&jw.w);
			rt_json_w_end(&jw.w);
			rt_json_w_key(&jw.w, "created");
			rt_json_w_str(&jw.w, "0001-01-01T00:00:00Z");
			rt_json_w_key(&jw.w, "os");
			rt_json_w_str(&jw.w, "");
			rt_json_w_key(&jw.w, "rootfs");
			rt_json_w_obj(&jw.w);
			rt_json_w_key(&jw.w, "diff_ids");
		} else {
			rt_sha256_format(cfgd, dig);
			rt_json_w_key(&jw.w, "config");
			rt_json_w_obj(&jw.w);
			rt_json_w_key(&jw.w, "digest");
			rt_json_w_str(&jw.w, dig);
			rt_json_w_key(&jw.w, "mediaType");
			rt_json_w_str(&jw.w, MK_MEDIA_CONFIG);
			rt_json_w_key(&jw.w, "size");
			rt_json_w_u64(&jw.w, cfgsize);
			rt_json_w_end(&jw.w);
			rt_json_w_key(&jw.w, "layers");
		}
		rt_json_w_arr(&jw.w);
		for (k = old ? rt_json_first(&old->j, layers) : -1; k >= 0;
		     k = rt_json_next(&old->j, layers, k)) {
			if (pass == 1) {
				if (mk_json_copy(&jw.w, &old->j, k, e) < 0)
					goto out;
				continue;
			}
			if (mk_json_desc(&old->j, k, ld, &lsize, media, sizeof media, e) < 0)
				goto out;
			rt_sha256_format(ld, dig);
			rt_json_w_str(&jw.w, dig);
		}
		if (pass == 1) {
			layer_desc(&jw.w, s);
		} else {
			rt_sha256_format(s->digest, dig);
			rt_json_w_str(&jw.w, dig);
		}
		rt_json_w_end(&jw.w);
		if (pass == 0) {
			rt_json_w_key(&jw.w, "type");
			rt_json_w_str(&jw.w, "layers");
			rt_json_w_end(&jw.w);
		} else {
			rt_json_w_key(&jw.w, "mediaType");
			rt_json_w_str(&jw.w, MK_MEDIA_MANIFEST);
			rt_json_w_key(&jw.w, "schemaVersion");
			rt_json_w_u64(&jw.w, 2);
		}
		rt_json_w_end(&jw.w);
		if (rt_json_w_finish(&jw.w, e) < 0)
			goto out;
		if (mk_blob_put(l, jw.buf, jw.w.len, pass ? out : cfgd, e) < 0)
			goto out;
		if (pass == 0)
			cfgsize = jw.w.len;
		else
			*outsize = jw.w.len;
	}
	rc = 0;
out:
	mk_jw_free(&jw);
	return rc;
}

static int sign_one(struct mk_layout *l, size_t idx, const struct rt_sign_key *key,
		    const uint64_t *version, const char *identity, struct rt_err *e)
{
	struct mk_desc d = l->m[idx], sd;
	struct mk_json old;
	struct newsig s;
	char payload[RT_TRUST_PAYLOAD_MAX], repo[RT_TRUST_REF_MAX];
	uint8_t der[RT_SIGN_SIG_MAX], digest[RT_SHA256_LEN];
	uint64_t size = 0;
	bool same, have_old = false;
	int n, si;

	if (!identity) {
		if (!named(d.ref))
			return rt_err_set(e, 0, "the image has no NAME:TAG to sign it for; give --identity REPO");
		if (rt_trust_repo(d.ref, repo, sizeof repo, e) < 0)
			return -1;
		identity = repo;
	}
	n = rt_trust_payload_write(payload, sizeof payload, identity, d.digest, version, e);
	if (n < 0 || mk_blob_put(l, payload, (size_t)n, s.digest, e) < 0)
		return -1;
	s.size = (uint64_t)n;
	n = rt_sign_create(key, payload, (size_t)n, der, e);
	if (n < 0 || rt_b64_encode(der, (size_t)n, s.b64, sizeof s.b64, e) < 0)
		return -1;
	si = sig_entry(l, d.digest);
	if (si >= 0) {
		if (mk_json_blob(&old, l, l->m[si].digest, l->m[si].size, e) < 0)
			return rt_err_wrap(e, "%s", l->m[si].ref);
		have_old = true;
	}
	n = write_sigman(l, have_old ? &old : NULL, &s, digest, &size, &same, e);
	if (have_old)
		mk_json_free(&old);
	if (n < 0 || same)
		return n;
	memset(&sd, 0, sizeof sd);
	strcpy(sd.media, MK_MEDIA_MANIFEST);
	memcpy(sd.digest, digest, sizeof sd.digest);
	sd.size = size;
	rt_trust_sig_tag(d.digest, sd.ref);
	if (si >= 0) {
		/* the old .sig manifest is ours, superseded: drop its blob */
		char hex[RT_SHA256_HEX];

		rt_sha256_hex(l->m[si].digest, hex);
		if (memcmp(l->m[si].digest, digest, RT_SHA256_LEN) != 0)
			unlinkat(l->blobfd, hex, 0);
		l->m[si] = sd;
		return 0;
	}
	return mk_layout_add(l, &sd, e);
}

static int parse_version(const char *s, uint64_t *v)
{
	size_t n = strlen(s), i;

	if (n < 1 || n > 19 || (s[0] == '0' && n > 1))
		return -1;
	for (*v = 0, i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

int mk_sign(int argc, char **argv)
{
	static const struct mk_opt opts[] = {
		{ "--key", true, 'k' }, { "--version", true, 'v' }, { "--ref", true, 'r' },
		{ "--identity", true, 'i' }, { NULL, false, 0 },
	};
	const char *keypath = NULL, *image = NULL, *ref = NULL, *identity = NULL, *val;
	char pem[KEYFILE_MAX], fpr[RT_SIGN_FPR_LEN], dig[RT_SHA256_STR];
	struct rt_sign_key key;
	struct mk_layout l;
	struct rt_err e;
	uint64_t version;
	bool have_version = false;
	size_t idx[256], len;
	int i = 1, id, n, k, rc;

	while ((id = mk_getopt("sign", argc, argv, &i, opts, &val)) != MK_OPT_END) {
		if (id == MK_OPT_ERR)
			return MK_EXIT_USAGE;
		if (id == MK_OPT_ARG && image)
			return mk_fail("sign", MK_EXIT_USAGE, "one IMAGE only");
		if (id == MK_OPT_ARG)
			image = val;
		else if (id == 'k')
			keypath = val;
		else if (id == 'r')
			ref = val;
		else if (id == 'i')
			identity = val;
		else if (parse_version(val, &version) < 0)
			return mk_fail("sign", MK_EXIT_USAGE, "--version %s: not a decimal number", val);
		else
			have_version = true;
	}
	if (!keypath || !image)
		return mk_fail("sign", MK_EXIT_USAGE, "usage: mkimage sign --key K.key [--version N] IMAGE");
	if (identity && (!*identity || strlen(identity) >= RT_TRUST_REF_MAX))
		return mk_fail("sign", MK_EXIT_USAGE, "--identity: empty or too long");
	if (read_small(keypath, pem, sizeof pem, &len, &e) < 0 ||
	    rt_sign_key_read_pem(&key, pem, len, &e) < 0) {
		memset(pem, 0, sizeof pem);
		rt_err_wrap(&e, "%s", keypath);
		return mk_fail_err("sign", &e);
	}
	memset(pem, 0, sizeof pem);
	rt_sign_pub_fingerprint(&key.pub, fpr);
	if (mk_layout_open(&l, image, &e) < 0) {
		rt_sign_key_wipe(&key);
		return mk_fail_err("sign", &e);
	}
	n = mk_layout_images(&l, ref, idx, sizeof idx / sizeof idx[0], &e);
	rc = n < 0 ? -1 : 0;
	for (k = 0; k < n && rc == 0; k++) {
		rc = sign_one(&l, idx[k], &key, have_version ? &version : NULL, identity, &e);
		if (rc < 0)
			rt_err_wrap(&e, "%s", l.m[idx[k]].ref[0] ? l.m[idx[k]].ref : "image");
	}
	rt_sign_key_wipe(&key);
	if (rc == 0)
		rc = mk_layout_commit(&l, &e);
	if (rc == 0)
		for (k = 0; k < n; k++) {
			rt_sha256_format(l.m[idx[k]].digest, dig);
			printf("signed %s %s (key %.16s", l.m[idx[k]].ref[0] ? l.m[idx[k]].ref : "-",
			       dig, fpr);
			if (have_version)
				printf(", version %llu", (unsigned long long)version);
			printf(")\n");
		}
	mk_layout_close(&l);
	return rc < 0 ? mk_fail_err("sign", &e) : 0;
}

/* ---- verify --------------------------------------------------------------------- */

static int hash_blob(struct mk_layout *l, const uint8_t d[RT_SHA256_LEN], uint64_t size,
		     struct rt_err *e)
{
	static uint8_t buf[65536];
	uint8_t got[RT_SHA256_LEN];
	struct rt_sha256 h;
	ssize_t n;
	int fd = mk_blob_open(l, d, size, e);

	if (fd < 0)
		return -1;
	rt_sha256_init(&h);
	while ((n = rt_io_read_full(fd, buf, sizeof buf, e)) > 0)
		rt_sha256_update(&h, buf, (size_t)n);
	close(fd);
	if (n < 0)
		return -1;
	rt_sha256_final(&h, got);
	if (memcmp(got, d, sizeof got) != 0) {
		char hex[RT_SHA256_HEX];

		rt_sha256_hex(d, hex);
		return rt_err_set(e, 0, "blob sha256:%.12s does not match its digest", hex);
	}
	return 0;
}

/* Every blob under manifest or index d matches its digest. */
static int check_blobs(struct mk_layout *l, const uint8_t d[RT_SHA256_LEN], uint64_t size,
		       int depth, struct rt_err *e)
{
	struct mk_json m;
	uint8_t cd[RT_SHA256_LEN];
	uint64_t cs;
	int arr, k, rc = 0;

	if (depth > 4)
		return rt_err_set(e, 0, "indexes nested too deep");
	if (mk_json_blob(&m, l, d, size, e) < 0)
		return -1;
	arr = rt_json_find(&m.j, 0, "manifests");
	for (k = rt_json_first(&m.j, arr); k >= 0 && rc == 0; k = rt_json_next(&m.j, arr, k))
		if (mk_json_desc(&m.j, k, cd, &cs, NULL, 0, e) < 0 ||
		    check_blobs(l, cd, cs, depth + 1, e) < 0)
			rc = -1;
	k = rt_json_find(&m.j, 0, "config");
	if (rc == 0 && k >= 0 &&
	    (mk_json_desc(&m.j, k, cd, &cs, NULL, 0, e) < 0 || hash_blob(l, cd, cs, e) < 0))
		rc = -1;
	arr = rt_json_find(&m.j, 0, "layers");
	for (k = rt_json_first(&m.j, arr); k >= 0 && rc == 0; k = rt_json_next(&m.j, arr, k))
		if (mk_json_desc(&m.j, k, cd, &cs, NULL, 0, e) < 0 || hash_blob(l, cd, cs, e) < 0)
			rc = -1;
	mk_json_free(&m);
	return rc;
}

int mk_verify(int argc, char **argv)
{
	static const struct mk_opt opts[] = {
		{ "--key", true, 'k' }, { "--ref", true, 'r' }, { NULL, false, 0 },
	};
	const char *image = NULL, *ref = NULL, *val;
	struct rt_trust *t = calloc(1, sizeof *t);
	struct rt_trust_source src;
	struct rt_trust_result r;
	struct mk_layout l;
	struct rt_err e;
	char pem[KEYFILE_MAX], dig[RT_SHA256_STR];
	size_t idx[256], len;
	int i = 1, id, n, k, bad = 0;

	if (!t)
		return mk_fail("verify", MK_EXIT_FAIL, "out of memory");
	t->rootfd = -1;
	t->require = true;
	while ((id = mk_getopt("verify", argc, argv, &i, opts, &val)) != MK_OPT_END) {
		if (id == MK_OPT_ERR) {
			free(t);
			return MK_EXIT_USAGE;
		}
		if (id == MK_OPT_ARG && image) {
			free(t);
			return mk_fail("verify", MK_EXIT_USAGE, "one IMAGE only");
		}
		if (id == MK_OPT_ARG) {
			image = val;
		} else if (id == 'r') {
			ref = val;
		} else if (read_small(val, pem, sizeof pem, &len, &e) < 0 ||
			   rt_trust_keys_add(&t->keys, val, pem, len, &e) < 0) {
			free(t);
			rt_err_wrap(&e, "%s", val);
			return mk_fail_err("verify", &e);
		}
	}
	if (!t->keys.n || !image) {
		free(t);
		return mk_fail("verify", MK_EXIT_USAGE, "usage: mkimage verify --key K.pub IMAGE");
	}
	if (mk_layout_open(&l, image, &e) < 0) {
		free(t);
		return mk_fail_err("verify", &e);
	}
	src.ctx = &l;
	src.find_tag = lay_find;
	src.read_blob = lay_read;
	n = mk_layout_images(&l, ref, idx, sizeof idx / sizeof idx[0], &e);
	if (n < 0)
		bad = mk_fail_err("verify", &e);
	for (k = 0; k < n; k++) {
		const struct mk_desc *d = &l.m[idx[k]];
		const char *name = d->ref[0] ? d->ref : "-";

		rt_sha256_format(d->digest, dig);
		if (rt_trust_verify(t, named(d->ref), d->digest, &src, &r, &e) < 0 ||
		    check_blobs(&l, d->digest, d->size, 0, &e) < 0) {
			rt_err_wrap(&e, "%s %s", name, dig);
			bad = mk_fail_err("verify", &e);
			continue;
		}
		printf("verified %s %s (key %.16s %s", name, dig, r.key, r.keyfile);
		if (r.has_version)
			printf(", version %llu", (unsigned long long)r.version);
		printf(", identity %s)\n", r.repo);
	}
	mk_layout_close(&l);
	free(t);
	return bad ? MK_EXIT_FAIL : 0;
}
