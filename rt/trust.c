#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "b64.h"
#include "io.h"
#include "path.h"
#include "trust.h"

#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define PAYLOAD_DEPTH 8         /* critical.identity is 3 deep; annotations may nest */
#define RECORD_MAX 2048
#define KEYFILE_MAX 4096

/* ---- payloads ------------------------------------------------------- */

/* An object with exactly `n` members, which must include `names`. */
static int exact_members(const struct rt_json *j, int obj, int n,
			 const char *const *names, const char *what, struct rt_err *e)
{
	int i;

	if (rt_json_type(j, obj) != RT_JSON_OBJECT)
		return rt_err_set(e, 0, "%s: not an object", what);
	for (i = 0; i < n; i++)
		if (rt_json_find(j, obj, names[i]) < 0)
			return rt_err_set(e, 0, "%s: no \"%s\"", what, names[i]);
	/* With every named member present and duplicates refused by the
	 * parser, a larger count means a member we do not know. */
	if (rt_json_count(j, obj) != n)
		return rt_err_set(e, 0, "%s: unexpected member", what);
	return 0;
}

/* A version as `cosign sign -a version=N` writes it: canonical decimal. */
static int parse_version(const struct rt_json *j, int i, uint64_t *out,
			 struct rt_err *e)
{
	char s[24];
	uint64_t v = 0;
	int n, k;

	if (rt_json_type(j, i) != RT_JSON_STRING)
		return rt_err_set(e, 0, "optional.version: not a string");
	n = rt_json_str(j, i, s, sizeof s, e);
	if (n < 1 || n > 19 || (s[0] == '0' && n > 1))
		return rt_err_set(e, 0, "optional.version: not a decimal version");
	for (k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return rt_err_set(e, 0, "optional.version: not a decimal version");
		v = v * 10 + (uint64_t)(s[k] - '0');   /* 19 digits fit */
	}
	*out = v;
	return 0;
}

int rt_trust_payload_parse(struct rt_trust_payload *p, const char *buf,
	size_t len, struct rt_json_tok *tok, size_t maxtok, struct rt_err *e)
{
	static const char *const crit[] = { "identity", "image", "type" };
	static const char *const ident[] = { "docker-reference" };
	static const char *const img[] = { "docker-manifest-digest" };
	struct rt_json j;
	char dig[RT_SHA256_STR + 1];
	int c, opt, v, n;

	memset(p, 0, sizeof *p);
	if (len > RT_TRUST_PAYLOAD_MAX)
		return rt_err_set(e, 0, "payload: larger than %d bytes", RT_TRUST_PAYLOAD_MAX);
	if (rt_json_parse(&j, buf, len, tok, maxtok, PAYLOAD_DEPTH, e) < 0)
		return rt_err_wrap(e, "payload");
	opt = rt_json_find(&j, 0, "optional");
	c = rt_json_find(&j, 0, "critical");
	if (rt_json_type(&j, 0) != RT_JSON_OBJECT || c < 0)
		return rt_err_set(e, 0, "payload: no \"critical\"");
	if (rt_json_count(&j, 0) != (opt >= 0 ? 2 : 1))
		return rt_err_set(e, 0, "payload: unexpected member");
	if (exact_members(&j, c, 3, crit, "payload: critical", e) < 0 ||
	    exact_members(&j, rt_json_find(&j, c, "identity"), 1, ident,
			  "payload: critical.identity", e) < 0 ||
	    exact_members(&j, rt_json_find(&j, c, "image"), 1, img,
			  "payload: critical.image", e) < 0)
		return -1;
	if (!rt_json_streq(&j, rt_json_find(&j, c, "type"), RT_TRUST_TYPE))
		return rt_err_set(e, 0, "payload: critical.type is not \"%s\"", RT_TRUST_TYPE);
	n = rt_json_str(&j, rt_json_find(&j, rt_json_find(&j, c, "identity"), "docker-reference"),
			p->identity, sizeof p->identity, e);
	if (n < 0)
		return rt_err_set(e, 0, "payload: docker-reference: not a string of at most %d bytes",
				  RT_TRUST_REF_MAX - 1);
	if (n == 0)
		return rt_err_set(e, 0, "payload: docker-reference is empty");
	n = rt_json_str(&j, rt_json_find(&j, rt_json_find(&j, c, "image"), "docker-manifest-digest"),
			dig, sizeof dig, e);
	if (n < 0 || rt_sha256_parse(dig, (size_t)n, p->digest, e) < 0)
		return rt_err_set(e, 0, "payload: docker-manifest-digest is not a sha256 digest");
	switch (rt_json_type(&j, opt)) {
	case RT_JSON_NONE:
	case RT_JSON_NULL:
		break;
	case RT_JSON_OBJECT:
		v = rt_json_find(&j, opt, "version");
		if (v >= 0) {
			if (parse_version(&j, v, &p->version, e) < 0)
				return rt_err_wrap(e, "payload");
			p->has_version = true;
		}
		break;
	default:
		return rt_err_set(e, 0, "payload: optional: not an object");
	}
	return 0;
}

int rt_trust_payload_write(char *out, size_t cap, const char *identity,
	const uint8_t digest[RT_SHA256_LEN], const uint64_t *version,
	struct rt_err *e)
{
	struct rt_json_w w;
	char dig[RT_SHA256_STR], ver[24];

	rt_sha256_format(digest, dig);
	rt_json_w_init(&w, out, cap);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "critical");
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "identity");
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "docker-reference");
	rt_json_w_str(&w, identity);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "image");
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "docker-manifest-digest");
	rt_json_w_str(&w, dig);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "type");
	rt_json_w_str(&w, RT_TRUST_TYPE);
	rt_json_w_end(&w);
	rt_json_w_key(&w, "optional");
	if (version) {
		snprintf(ver, sizeof ver, "%llu", (unsigned long long)*version);
		rt_json_w_obj(&w);
		rt_json_w_key(&w, "version");
		rt_json_w_str(&w, ver);
		rt_json_w_end(&w);
	} else {
		rt_json_w_null(&w);
	}
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return rt_err_wrap(e, "payload");
	return (int)w.len;
}

/* ---- names ------------------------------------------------------------ */

void rt_trust_sig_tag(const uint8_t digest[RT_SHA256_LEN], char out[RT_TRUST_TAG_LEN])
{
	char hex[RT_SHA256_HEX];

	rt_sha256_hex(digest, hex);
	snprintf(out, RT_TRUST_TAG_LEN, "sha256-%s.sig", hex);
}

bool rt_trust_is_sig_ref(const char *ref, uint8_t digest[RT_SHA256_LEN])
{
	const char *tag = strrchr(ref, ':');
	uint8_t d[RT_SHA256_LEN];
	struct rt_err e;

	/* "NAME:sha256-<hex>.sig"; a bare tag has no ':' at all. */
	tag = tag ? tag + 1 : ref;
	if (strlen(tag) != RT_TRUST_TAG_LEN - 1 || strncmp(tag, "sha256-", 7) != 0 ||
	    strcmp(tag + 7 + 64, ".sig") != 0)
		return false;
	if (rt_sha256_parse_hex(tag + 7, 64, d, &e) < 0)
		return false;
	if (digest)
		memcpy(digest, d, sizeof d);
	return true;
}

int rt_trust_repo(const char *ref, char *out, size_t cap, struct rt_err *e)
{
	size_t n = strcspn(ref, "@"), i;
	const char *slash, *colon, *start;

	/* A ':' after the last '/' starts the tag; one before it belongs to a
	 * registry's port ("host:5000/app"). */
	slash = NULL;
	for (i = 0; i < n; i++)
		if (ref[i] == '/')
			slash = ref + i;
	start = slash ? slash : ref;
	colon = memchr(start, ':', n - (size_t)(start - ref));
	if (colon)
		n = (size_t)(colon - ref);
	if (n == 0)
		return rt_err_set(e, 0, "%s: no repository name", ref);
	if (n >= cap)
		return rt_err_set(e, 0, "%.64s...: name too long", ref);
	memcpy(out, ref, n);
	out[n] = '\0';
	return 0;
}

/* The repository of ref as Docker normalises it ("app" is
 * "docker.io/library/app"), so that the name a signer wrote and the name
 * an image is loaded under compare equal however each was spelled. */
static int canon_repo(const char *ref, char *out, size_t cap, struct rt_err *e)
{
	char repo[RT_TRUST_REF_MAX];
	const char *slash, *rest;
	size_t dlen;
	int n;

	if (rt_trust_repo(ref, repo, sizeof repo, e) < 0)
		return -1;
	slash = strchr(repo, '/');
	dlen = slash ? (size_t)(slash - repo) : 0;
	if (slash && (memchr(repo, '.', dlen) || memchr(repo, ':', dlen) ||
		      (dlen == 9 && !strncmp(repo, "localhost", 9)))) {
		rest = slash + 1;
		if (dlen == 15 && !strncmp(repo, "index.docker.io", 15))
			dlen = 0;       /* Docker's old name for docker.io */
	} else {
		rest = repo;
		dlen = 0;
	}
	if (dlen)
		n = snprintf(out, cap, "%.*s/%s", (int)dlen, repo, rest);
	else
		n = snprintf(out, cap, "docker.io/%s%s", strchr(rest, '/') ? "" : "library/", rest);
	if (n < 0 || (size_t)n >= cap)
		return rt_err_set(e, 0, "%.64s...: name too long", ref);
	return 0;
}

/* ---- .sig manifests ------------------------------------------------- */

static int sig_layer(const struct rt_json *j, int l, struct rt_trust_sig *s,
		     struct rt_err *e)
{
	char dig[RT_SHA256_STR + 1], b64[RT_B64_ENCLEN(RT_SIGN_SIG_MAX) + 8];
	ssize_t n;
	int k;

	k = rt_json_str(j, rt_json_find(j, l, "digest"), dig, sizeof dig, e);
	if (k < 0 || rt_sha256_parse(dig, (size_t)k, s->digest, e) < 0)
		return rt_err_set(e, 0, "digest: not a sha256 digest");
	if (rt_json_u64(j, rt_json_find(j, l, "size"), &s->size, e) < 0)
		return rt_err_set(e, 0, "size: not a byte count");
	k = rt_json_str(j, rt_json_find(j, rt_json_find(j, l, "annotations"), RT_TRUST_ANN_SIG),
			b64, sizeof b64, e);
	if (k < 0)
		return rt_err_set(e, 0, "no signature annotation, or a signature too long");
	n = rt_b64_decode(b64, (size_t)k, s->der, sizeof s->der, e);
	if (n <= 0)
		return rt_err_set(e, 0, "signature: not base64 of a DER signature");
	s->derlen = (size_t)n;
	return 0;
}

int rt_trust_sigman_parse(const char *buf, size_t len,
	struct rt_trust_sig *sigs, size_t max, struct rt_json_tok *tok,
	size_t maxtok, struct rt_err *e)
{
	struct rt_json j;
	uint64_t schema;
	int layers, l, mt, n = 0, idx = 0;

	if (len > RT_TRUST_SIGMAN_MAX)
		return rt_err_set(e, 0, "signature manifest: larger than %d bytes",
				  RT_TRUST_SIGMAN_MAX);
	if (rt_json_parse(&j, buf, len, tok, maxtok, 0, e) < 0)
		return rt_err_wrap(e, "signature manifest");
	if (rt_json_u64(&j, rt_json_find(&j, 0, "schemaVersion"), &schema, e) < 0 || schema != 2)
		return rt_err_set(e, 0, "signature manifest: schemaVersion is not 2");
	mt = rt_json_find(&j, 0, "mediaType");
	if (mt >= 0 && !rt_json_streq(&j, mt, MEDIA_OCI_MANIFEST) &&
	    !rt_json_streq(&j, mt, MEDIA_DOCKER_MANIFEST))
		return rt_err_set(e, 0, "signature manifest: not an image manifest");
	layers = rt_json_find(&j, 0, "layers");
	if (rt_json_type(&j, layers) != RT_JSON_ARRAY)
		return rt_err_set(e, 0, "signature manifest: no layers");
	for (l = rt_json_first(&j, layers); l >= 0; l = rt_json_next(&j, layers, l), idx++) {
		if (!rt_json_streq(&j, rt_json_find(&j, l, "mediaType"), RT_TRUST_MEDIA_PAYLOAD))
			continue;
		if ((size_t)n >= max)
			return rt_err_set(e, 0, "signature manifest: more than %zu signatures", max);
		if (sig_layer(&j, l, &sigs[n], e) < 0)
			return rt_err_wrap(e, "signature manifest: layer %d", idx);
		n++;
	}
	return n;
}

/* ---- keys ------------------------------------------------------------- */

int rt_trust_keys_add(struct rt_trust_keys *ks, const char *name,
	const char *pem, size_t len, struct rt_err *e)
{
	struct rt_trust_key *k;
	size_t i;

	if (ks->n >= RT_TRUST_KEYS_MAX)
		return rt_err_set(e, 0, "%s: more than %d trusted keys", name, RT_TRUST_KEYS_MAX);
	if (strlen(name) >= sizeof k->name)
		return rt_err_set(e, 0, "%.32s...: key name too long", name);
	k = &ks->k[ks->n];
	if (rt_sign_pub_read_pem(&k->pub, pem, len, e) < 0)
		return rt_err_wrap(e, "%s", name);
	rt_sign_pub_fingerprint(&k->pub, k->fpr);
	/* The same key twice would only cost a second verification. */
	for (i = 0; i < ks->n; i++)
		if (!strcmp(ks->k[i].fpr, k->fpr))
			return 0;
	strcpy(k->name, name);
	ks->n++;
	return 0;
}

static int namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rt_trust_keys_load(struct rt_trust_keys *ks, const char *dir, struct rt_err *e)
{
	char names[RT_TRUST_KEYS_MAX + 1][RT_TRUST_KEYNAME_MAX];
	char *sorted[RT_TRUST_KEYS_MAX + 1];
	char pem[KEYFILE_MAX];
	struct dirent *d;
	size_t n = 0, i, len;
	int fd, r = 0;
	DIR *dp;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return rt_err_sys(e, "trusted keys: %s", dir);
	}
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return rt_err_sys(e, "trusted keys: %s", dir);
	}
	while ((d = readdir(dp))) {
		size_t l = strlen(d->d_name);

		if (l < 5 || d->d_name[0] == '.' || strcmp(d->d_name + l - 4, ".pub") != 0)
			continue;
		if (n > RT_TRUST_KEYS_MAX || l >= RT_TRUST_KEYNAME_MAX) {
			r = rt_err_set(e, 0, "trusted keys: %s: more than %d keys or a name too long",
				       dir, RT_TRUST_KEYS_MAX);
			break;
		}
		memcpy(names[n], d->d_name, l + 1);
		sorted[n] = names[n];
		n++;
	}
	qsort(sorted, n, sizeof sorted[0], namecmp);
	for (i = 0; r == 0 && i < n; i++) {
		if (rt_io_read_file(dirfd(dp), sorted[i], pem, sizeof pem, &len, e) < 0 ||
		    rt_trust_keys_add(ks, sorted[i], pem, len, e) < 0)
			r = rt_err_wrap(e, "trusted keys: %s", dir);
	}
	closedir(dp);
	return r;
}

const char *rt_trust_keys_dir(void)
{
	const char *d = getenv(RT_TRUST_KEYS_ENV);

	return d && *d ? d : RT_TRUST_KEYS_DIR;
}

/* ---- the policy ------------------------------------------------------- */

/* Read a blob from the source into buf and check it is what was named. */
static ssize_t get_blob(const struct rt_trust_source *src, const uint8_t digest[RT_SHA256_LEN],
			uint64_t size, void *buf, size_t cap, const char *what,
			struct rt_err *e)
{
	uint8_t got[RT_SHA256_LEN];
	ssize_t n;

	if (size > cap)
		return rt_err_set(e, 0, "%s: %llu bytes, more than %zu", what,
				  (unsigned long long)size, cap);
	n = src->read_blob(src->ctx, digest, size, buf, cap, e);
	if (n < 0)
		return rt_err_wrap(e, "%s", what);
	if ((uint64_t)n != size)
		return rt_err_set(e, 0, "%s: %zd bytes, descriptor says %llu", what, n,
				  (unsigned long long)size);
	rt_sha256_buf(buf, (size_t)n, got);
	if (memcmp(got, digest, sizeof got) != 0)
		return rt_err_set(e, 0, "%s: digest mismatch", what);
	return n;
}

static const struct rt_trust_key *by_key(const struct rt_trust_keys *ks,
					 const void *msg, size_t len,
					 const struct rt_trust_sig *s)
{
	struct rt_err ignored;
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (rt_sign_verify(&ks->k[i].pub, msg, len, s->der, s->derlen, &ignored) == 0)
			return &ks->k[i];
	return NULL;
}

/* A payload signed by a trusted key: it must be well-formed and be about
 * this image, or the image is refused. */
static int check_payload(struct rt_trust *t, size_t len, const char *ref,
			 const uint8_t digest[RT_SHA256_LEN], struct rt_trust_payload *p,
			 char *repo, struct rt_err *e)
{
	char want[RT_TRUST_REF_MAX];

	if (rt_trust_payload_parse(p, t->payload, len, t->tok, RT_TRUST_TOK_MAX, e) < 0)
		return -1;
	if (memcmp(p->digest, digest, RT_SHA256_LEN) != 0)
		return rt_err_set(e, 0, "payload signs another image (manifest digest differs)");
	if (canon_repo(p->identity, repo, RT_TRUST_REF_MAX, e) < 0)
		return rt_err_wrap(e, "payload: docker-reference");
	if (ref) {
		if (canon_repo(ref, want, sizeof want, e) < 0)
			return -1;
		if (strcmp(want, repo) != 0)
			return rt_err_set(e, 0, "signed for repository %s, loaded as %s", repo, want);
	}
	return 0;
}

int rt_trust_verify(struct rt_trust *t, const char *ref,
	const uint8_t digest[RT_SHA256_LEN], const struct rt_trust_source *src,
	struct rt_trust_result *r, struct rt_err *e)
{
	char tag[RT_TRUST_TAG_LEN], repo[RT_TRUST_REF_MAX];
	uint8_t sigd[RT_SHA256_LEN];
	struct rt_trust_payload p;
	uint64_t size = 0, prev = 0;
	ssize_t len;
	int n, i, found = 0, rc;

	memset(r, 0, sizeof *r);
	memcpy(r->digest, digest, RT_SHA256_LEN);
	rt_trust_sig_tag(digest, tag);
	rc = src->find_tag(src->ctx, tag, sigd, &size, e);
	if (rc < 0)
		return rt_err_wrap(e, "signature");
	if (rc > 0) {
		if (t->require)
			return rt_err_set(e, 0, "not signed (no %s manifest)", tag);
		r->state = RT_TRUST_UNSIGNED;
		return 0;
	}
	if (t->keys.n == 0) {
		if (t->require)
			return rt_err_set(e, 0, "signed, but no key is trusted");
		r->state = RT_TRUST_UNSIGNED;
		return 0;
	}
	len = get_blob(src, sigd, size, t->sigman, sizeof t->sigman, "signature manifest", e);
	if (len < 0)
		return -1;
	n = rt_trust_sigman_parse(t->sigman, (size_t)len, t->sigs, RT_TRUST_SIGS_MAX,
				  t->tok, RT_TRUST_TOK_MAX, e);
	if (n < 0)
		return -1;
	if (n == 0)
		return rt_err_set(e, 0, "signature manifest holds no signature");
	for (i = 0; i < n; i++) {
		const struct rt_trust_sig *s = &t->sigs[i];
		const struct rt_trust_key *k;

		len = get_blob(src, s->digest, s->size, t->payload, sizeof t->payload,
			       "signature payload", e);
		if (len < 0)
			return -1;
		k = by_key(&t->keys, t->payload, (size_t)len, s);
		if (!k)
			continue;
		if (check_payload(t, (size_t)len, ref, digest, &p, repo, e) < 0)
			return rt_err_wrap(e, "signature %d (key %.12s)", i + 1, k->fpr);
		if (found && (p.version < r->version || strcmp(repo, r->repo) != 0))
			continue;
		found = 1;
		r->state = RT_TRUST_VERIFIED;
		memcpy(r->key, k->fpr, sizeof r->key);
		memcpy(r->keyfile, k->name, sizeof r->keyfile);
		memcpy(r->repo, repo, sizeof r->repo);
		r->version = p.version;
		r->has_version = p.has_version;
	}
	if (!found) {
		if (!t->require) {
			r->state = RT_TRUST_UNSIGNED;
			return 0;
		}
		return rt_err_set(e, 0, "no signature by a trusted key (%d signature%s, %zu key%s)",
				  n, n == 1 ? "" : "s", t->keys.n, t->keys.n == 1 ? "" : "s");
	}
	if (t->rootfd < 0)
		return 0;
	rc = rt_trust_rollback_read(t->rootfd, r->repo, &prev, e);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		r->has_prev = true;
		r->prev_version = prev;
		if (r->version < prev) {
			if (!t->allow_downgrade)
				return rt_err_set(e, 0,
						  "%s: version %llu is older than version %llu accepted before (rollback refused)",
						  r->repo, (unsigned long long)r->version,
						  (unsigned long long)prev);
			r->downgrade = true;
		}
	}
	return 0;
}

/* ---- records ---------------------------------------------------------- */

static void repo_name(const char *repo, char hex[RT_SHA256_HEX])
{
	uint8_t d[RT_SHA256_LEN];

	rt_sha256_buf(repo, strlen(repo), d);
	rt_sha256_hex(d, hex);
}

/* Read trust/<dir>/<name> into buf; 1 when it does not exist. */
static int read_record(int rootfd, const char *dir, const char *name, char *buf,
		       size_t cap, size_t *len, struct rt_err *e)
{
	char path[64];
	int fd, rc;

	snprintf(path, sizeof path, "trust/%s", dir);
	fd = rt_path_open(rootfd, path, O_RDONLY | O_DIRECTORY, 0, e);
	if (fd < 0)
		return e->errnum == ENOENT ? 1 : -1;
	rc = rt_io_read_file(fd, name, buf, cap, len, e);
	if (rc < 0 && e->errnum == ENOENT)
		rc = 1;
	close(fd);
	return rc;
}

int rt_trust_rollback_read(int rootfd, const char *repo, uint64_t *version,
	struct rt_err *e)
{
	char hex[RT_SHA256_HEX], buf[RECORD_MAX];
	struct rt_json_tok tok[16];
	struct rt_json j;
	size_t len;
	int rc;

	repo_name(repo, hex);
	rc = read_record(rootfd, "repos", hex, buf, sizeof buf, &len, e);
	if (rc != 0)
		return rc < 0 ? rt_err_wrap(e, "rollback record of %s", repo) : 1;
	if (rt_json_parse(&j, buf, len, tok, 16, 2, e) < 0 ||
	    !rt_json_streq(&j, rt_json_find(&j, 0, "repository"), repo) ||
	    rt_json_u64(&j, rt_json_find(&j, 0, "version"), version, e) < 0)
		return rt_err_set(e, 0, "rollback record of %s is damaged", repo);
	return 0;
}

static int write_record(int rootfd, const char *dir, const char *name,
			const struct rt_json_w *w, struct rt_err *e)
{
	char path[64];
	int fd, rc;

	if (rt_json_w_finish(w, e) < 0)
		return -1;
	snprintf(path, sizeof path, "trust/%s", dir);
	fd = rt_path_mkdirs(rootfd, path, 0700, e);
	if (fd < 0)
		return -1;
	rc = rt_io_write_file(fd, name, w->buf, w->len, 0600, e);
	close(fd);
	return rc;
}

/* New directories must be durable before the records in them are. */
static int sync_dirs(int rootfd, struct rt_err *e)
{
	int fd = rt_path_open(rootfd, "trust", O_RDONLY | O_DIRECTORY, 0, e);
	int rc;

	if (fd < 0)
		return -1;
	rc = rt_io_fsync_dir(fd, e);
	close(fd);
	if (rc == 0)
		rc = rt_io_fsync_dir(rootfd, e);
	return rc;
}

int rt_trust_raise(int rootfd, const char *repo, uint64_t version, struct rt_err *e)
{
	char hex[RT_SHA256_HEX], buf[RECORD_MAX];
	struct rt_json_w w;
	uint64_t prev = 0;
	int rc;

	rc = rt_trust_rollback_read(rootfd, repo, &prev, e);
	if (rc < 0)
		return -1;
	if (rc == 0 && version <= prev)
		return 0;
	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "repository");
	rt_json_w_str(&w, repo);
	rt_json_w_key(&w, "version");
	rt_json_w_u64(&w, version);
	rt_json_w_end(&w);
	repo_name(repo, hex);
	if (write_record(rootfd, "repos", hex, &w, e) < 0)
		return rt_err_wrap(e, "rollback record of %s", repo);
	return sync_dirs(rootfd, e);
}

int rt_trust_commit(int rootfd, const struct rt_trust_result *r, int64_t now,
	struct rt_err *e)
{
	if (r->state != RT_TRUST_VERIFIED)
		return 0;
	if (rt_trust_raise(rootfd, r->repo, r->version, e) < 0)
		return -1;
	return rt_trust_record(rootfd, r, now, e);
}

int rt_trust_record(int rootfd, const struct rt_trust_result *r, int64_t now,
	struct rt_err *e)
{
	char hex[RT_SHA256_HEX], buf[RECORD_MAX];
	struct rt_json_w w;

	if (r->state != RT_TRUST_VERIFIED)
		return 0;
	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	if (r->downgrade) {
		rt_json_w_key(&w, "downgrade");
		rt_json_w_bool(&w, true);
	}
	rt_json_w_key(&w, "key");
	rt_json_w_str(&w, r->key);
	rt_json_w_key(&w, "keyfile");
	rt_json_w_str(&w, r->keyfile);
	rt_json_w_key(&w, "repository");
	rt_json_w_str(&w, r->repo);
	rt_json_w_key(&w, "verified");
	rt_json_w_i64(&w, now);
	if (r->has_version) {
		rt_json_w_key(&w, "version");
		rt_json_w_u64(&w, r->version);
	}
	rt_json_w_end(&w);
	rt_sha256_hex(r->digest, hex);
	if (write_record(rootfd, "images", hex, &w, e) < 0)
		return rt_err_wrap(e, "signature record");
	return sync_dirs(rootfd, e);
}

int rt_trust_record_read(int rootfd, const uint8_t digest[RT_SHA256_LEN],
	struct rt_trust_result *r, int64_t *when, struct rt_err *e)
{
	char hex[RT_SHA256_HEX], buf[RECORD_MAX];
	struct rt_json_tok tok[32];
	struct rt_json j;
	bool down = false;
	size_t len;
	int rc, v, d;

	memset(r, 0, sizeof *r);
	rt_sha256_hex(digest, hex);
	rc = read_record(rootfd, "images", hex, buf, sizeof buf, &len, e);
	if (rc != 0)
		return rc < 0 ? rt_err_wrap(e, "signature record") : 1;
	if (rt_json_parse(&j, buf, len, tok, 32, 2, e) < 0 ||
	    rt_json_str(&j, rt_json_find(&j, 0, "key"), r->key, sizeof r->key, e) < 0 ||
	    rt_json_str(&j, rt_json_find(&j, 0, "keyfile"), r->keyfile, sizeof r->keyfile, e) < 0 ||
	    rt_json_str(&j, rt_json_find(&j, 0, "repository"), r->repo, sizeof r->repo, e) < 0 ||
	    rt_json_i64(&j, rt_json_find(&j, 0, "verified"), when, e) < 0)
		return rt_err_set(e, 0, "signature record of %s is damaged", hex);
	v = rt_json_find(&j, 0, "version");
	if (v >= 0) {
		if (rt_json_u64(&j, v, &r->version, e) < 0)
			return rt_err_set(e, 0, "signature record of %s is damaged", hex);
		r->has_version = true;
	}
	d = rt_json_find(&j, 0, "downgrade");
	if (d >= 0 && rt_json_bool(&j, d, &down, e) < 0)
		return rt_err_set(e, 0, "signature record of %s is damaged", hex);
	r->downgrade = down;
	r->state = RT_TRUST_VERIFIED;
	memcpy(r->digest, digest, RT_SHA256_LEN);
	return 0;
}
