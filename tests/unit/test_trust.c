#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64.h"
#include "sign.h"
#include "tap.h"
#include "trust.h"

static struct rt_json_tok tok[RT_TRUST_TOK_MAX];

#define DIG_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static int parse(const char *s, struct rt_trust_payload *p, struct rt_err *e)
{
	return rt_trust_payload_parse(p, s, strlen(s), tok, RT_TRUST_TOK_MAX, e);
}

/* A payload from pieces: critical members, then what follows "critical". */
static const char *pl(const char *crit_extra, const char *tail)
{
	static char buf[1024];

	snprintf(buf, sizeof buf,
		 "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		 "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
		 "\"type\":\"cosign container image signature\"%s}%s}",
		 crit_extra, tail);
	return buf;
}

static void payloads(void)
{
	static const struct { const char *doc, *why; } bad[] = {
		{ "", "empty" },
		{ "[]", "an array" },
		{ "{}", "no critical" },
		{ "{\"optional\":null}", "only optional" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"}},\"critical\":{}}", "duplicate critical" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\",\"docker-manifest-digest\":\"sha256:" HEX_B "\"},"
		  "\"type\":\"cosign container image signature\"}}", "duplicate digest key" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\",\"docker-manifest-digest\":\"" DIG_A "\"},"
		  "\"type\":\"cosign container image signature\"}}", "duplicate digest key, same value" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\",\"docker-manifest-d\\u0069gest\":\"sha256:" HEX_B "\"},"
		  "\"type\":\"cosign container image signature\"}}", "duplicate key spelled with an escape" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"Docker-manifest-digest\":\"" DIG_A "\"},"
		  "\"type\":\"cosign container image signature\"}}", "digest key in another case" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"}}}", "no type" },
		{ "{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
		  "\"type\":\"cosign container image signature\"}}", "no identity" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"type\":\"cosign container image signature\"}}", "no image" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
		  "\"type\":\"atomic container signature\"}}", "another type" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
		  "\"type\":\"cosign container image signature \"}}", "type with a trailing space" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
		  "\"type\":\"cosign container image signature\\u0000\"}}", "type with a NUL" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"SHA256:" HEX_B "\"},"
		  "\"type\":\"cosign container image signature\"}}", "digest prefix upper case" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"sha256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\"},"
		  "\"type\":\"cosign container image signature\"}}", "digest hex upper case" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"sha256:bbbb\"},"
		  "\"type\":\"cosign container image signature\"}}", "short digest" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":\"sha256:" HEX_B "\\n\"},"
		  "\"type\":\"cosign container image signature\"}}", "digest with a newline" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
		  "\"image\":{\"docker-manifest-digest\":[\"" DIG_A "\"]},"
		  "\"type\":\"cosign container image signature\"}}", "digest in an array" },
		{ "{\"critical\":{\"identity\":{\"docker-reference\":\"\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
		  "\"type\":\"cosign container image signature\"}}", "empty identity" },
		{ "{\"critical\":{\"identity\":\"app\","
		  "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
		  "\"type\":\"cosign container image signature\"}}", "identity a string" },
	};
	static const struct { const char *extra, *tail, *why; } badp[] = {
		{ ",\"image2\":{}", "", "extra critical member" },
		{ ",\"image\":{\"docker-manifest-digest\":\"sha256:" HEX_B "\"}", "", "critical image twice" },
		{ "", ",\"extra\":1", "extra top-level member" },
		{ "", ",\"critical\":{}", "critical twice" },
		{ "", ",\"optional\":\"v\"", "optional a string" },
		{ "", ",\"optional\":[]", "optional an array" },
		{ "", ",\"optional\":{\"version\":7}", "version a number" },
		{ "", ",\"optional\":{\"version\":\"\"}", "version empty" },
		{ "", ",\"optional\":{\"version\":\"07\"}", "version with a leading zero" },
		{ "", ",\"optional\":{\"version\":\"-1\"}", "version negative" },
		{ "", ",\"optional\":{\"version\":\"1.5\"}", "version with a fraction" },
		{ "", ",\"optional\":{\"version\":\" 1\"}", "version with a space" },
		{ "", ",\"optional\":{\"version\":\"12345678901234567890\"}", "version of 20 digits" },
		{ "", ",\"optional\":{\"version\":\"1\",\"version\":\"9\"}", "version twice" },
		{ "", ",\"optional\":null} ", "trailing brace" },
	};
	struct rt_trust_payload p;
	struct rt_err e;
	size_t i;

	ok(parse(pl("", ""), &p, &e) == 0, "minimal payload");
	is_str(p.identity, "app", "identity");
	ok(p.digest[0] == 0xaa && p.digest[31] == 0xaa, "digest");
	ok(!p.has_version && p.version == 0, "no version");
	ok(parse(pl("", ",\"optional\":null"), &p, &e) == 0, "optional null (cosign without -a)");
	ok(parse(pl("", ",\"optional\":{}"), &p, &e) == 0 && !p.has_version, "optional empty");
	ok(parse(pl("", ",\"optional\":{\"creator\":\"Bob\",\"timestamp\":1458239713,"
		    "\"version\":\"42\",\"x\":{\"y\":[1,2]}}"), &p, &e) == 0, "optional with annotations");
	ok(p.has_version && p.version == 42, "version 42");
	ok(parse(pl("", ",\"optional\":{\"version\":\"0\"}"), &p, &e) == 0 && p.has_version &&
	   p.version == 0, "version 0");
	ok(parse(pl("", ",\"optional\":{\"version\":\"9999999999999999999\"}"), &p, &e) == 0 &&
	   p.version == 9999999999999999999ull, "version of 19 digits");
	ok(parse(" \n{\"optional\":null,\"critical\":{\"type\":\"cosign container image signature\","
		 "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
		 "\"identity\":{\"docker-reference\":\"reg:5000/a/b:v1\"}}}\n", &p, &e) == 0,
	   "members in any order, surrounding space");
	is_str(p.identity, "reg:5000/a/b:v1", "identity kept verbatim");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(parse(bad[i].doc, &p, &e) < 0, "refused: %s (%s)", bad[i].why, e.msg);
	for (i = 0; i < sizeof badp / sizeof badp[0]; i++)
		ok(parse(pl(badp[i].extra, badp[i].tail), &p, &e) < 0, "refused: %s (%s)",
		   badp[i].why, e.msg);
	{
		static char big[RT_TRUST_PAYLOAD_MAX + 1024];
		size_t l;

		snprintf(big, sizeof big, "%s", pl("", ""));
		l = strlen(big);
		memset(big + l, ' ', sizeof big - l - 1);
		ok(parse(big, &p, &e) < 0, "refused: larger than the limit");
	}
}

static void writer(void)
{
	char out[1024];
	uint8_t d[RT_SHA256_LEN];
	uint64_t v = 12;
	struct rt_trust_payload p;
	struct rt_err e;
	int n;

	memset(d, 0xaa, sizeof d);
	n = rt_trust_payload_write(out, sizeof out, "example.com/app", d, NULL, &e);
	is_str(out, "{\"critical\":{\"identity\":{\"docker-reference\":\"example.com/app\"},"
	       "\"image\":{\"docker-manifest-digest\":\"" DIG_A "\"},"
	       "\"type\":\"cosign container image signature\"},\"optional\":null}",
	       "payload as cosign writes it, no annotations");
	is_int(n, (int)strlen(out), "length returned");
	n = rt_trust_payload_write(out, sizeof out, "app", d, &v, &e);
	ok(n > 0 && strstr(out, ",\"optional\":{\"version\":\"12\"}}"), "version as an annotation");
	ok(parse(out, &p, &e) == 0 && p.version == 12 && p.has_version, "writer output parses back");
	ok(rt_trust_payload_write(out, 40, "app", d, &v, &e) < 0, "short buffer refused");
}

static void names(void)
{
	char tag[RT_TRUST_TAG_LEN], repo[RT_TRUST_REF_MAX], ref[128];
	uint8_t d[RT_SHA256_LEN], got[RT_SHA256_LEN];
	struct rt_err e;

	memset(d, 0xbb, sizeof d);
	rt_trust_sig_tag(d, tag);
	is_str(tag, "sha256-" HEX_B ".sig", "signature tag");
	ok(rt_trust_is_sig_ref(tag, got) && !memcmp(got, d, sizeof d), "bare tag recognised");
	snprintf(ref, sizeof ref, "reg:5000/app:%s", tag);
	ok(rt_trust_is_sig_ref(ref, NULL), "NAME:tag recognised");
	ok(!rt_trust_is_sig_ref("app:latest", NULL), "ordinary tag is not");
	ok(!rt_trust_is_sig_ref("sha256-" HEX_B ".sag", NULL), "wrong suffix");
	ok(!rt_trust_is_sig_ref("sha256-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.sig", NULL),
	   "upper-case hex");
	ok(!rt_trust_is_sig_ref("sha256-" HEX_B "b.sig", NULL), "65 hex digits");
	ok(rt_trust_repo("app", repo, sizeof repo, &e) == 0 && !strcmp(repo, "app"), "repo of a name");
	ok(rt_trust_repo("app:v1", repo, sizeof repo, &e) == 0 && !strcmp(repo, "app"), "tag dropped");
	ok(rt_trust_repo("reg:5000/a/app:v1@sha256:" HEX_B, repo, sizeof repo, &e) == 0 &&
	   !strcmp(repo, "reg:5000/a/app"), "port kept, tag and digest dropped");
	ok(rt_trust_repo("reg:5000/app", repo, sizeof repo, &e) == 0 && !strcmp(repo, "reg:5000/app"),
	   "port without a tag");
	ok(rt_trust_repo(":v1", repo, sizeof repo, &e) < 0, "empty repository refused");
	ok(rt_trust_repo("abcdef:v1", repo, 4, &e) < 0, "too long refused");
}

/* ---- a source in memory ------------------------------------------------- */

struct blob {
	uint8_t d[RT_SHA256_LEN];
	char *data;
	size_t len;
};

struct mem {
	struct blob b[16];
	int n;
	char tag[RT_TRUST_TAG_LEN + 64];
	uint8_t tagd[RT_SHA256_LEN];
	uint64_t tagsize;
	int have_tag;
	int lie;        /* read_blob returns other bytes */
};

static const struct blob *put(struct mem *m, const char *data, size_t len)
{
	struct blob *b = &m->b[m->n++];

	b->data = malloc(len + 1);
	memcpy(b->data, data, len);
	b->len = len;
	rt_sha256_buf(data, len, b->d);
	return b;
}

static int mem_find(void *ctx, const char *tag, uint8_t digest[RT_SHA256_LEN],
		    uint64_t *size, struct rt_err *e)
{
	struct mem *m = ctx;

	(void)e;
	if (!m->have_tag || strcmp(tag, m->tag) != 0)
		return 1;
	memcpy(digest, m->tagd, RT_SHA256_LEN);
	*size = m->tagsize;
	return 0;
}

static ssize_t mem_read(void *ctx, const uint8_t digest[RT_SHA256_LEN], uint64_t size,
			void *buf, size_t cap, struct rt_err *e)
{
	struct mem *m = ctx;
	int i;

	(void)size;
	for (i = 0; i < m->n; i++)
		if (!memcmp(m->b[i].d, digest, RT_SHA256_LEN)) {
			if (m->b[i].len > cap)
				return rt_err_set(e, EFBIG, "too big");
			memcpy(buf, m->b[i].data, m->b[i].len);
			if (m->lie)
				((char *)buf)[0] ^= 1;
			return (ssize_t)m->b[i].len;
		}
	return rt_err_set(e, ENOENT, "no such blob");
}

static void mem_free(struct mem *m)
{
	for (int i = 0; i < m->n; i++)
		free(m->b[i].data);
	memset(m, 0, sizeof *m);
}

/* Sign payload text with key and attach it (plus extra signatures) as the
 * .sig manifest of image digest d. */
static void attach(struct mem *m, const uint8_t d[RT_SHA256_LEN], int nsig,
		   const char *const *payload, const struct rt_sign_key *const *key)
{
	char man[8192], b64[128], dig[RT_SHA256_STR];
	uint8_t sig[RT_SIGN_SIG_MAX];
	struct rt_err e;
	size_t off;
	int i;

	off = (size_t)snprintf(man, sizeof man, "{\"schemaVersion\":2,\"mediaType\":"
			       "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{},\"layers\":[");
	for (i = 0; i < nsig; i++) {
		const struct blob *b = put(m, payload[i], strlen(payload[i]));
		int n = rt_sign_create(key[i], b->data, b->len, sig, &e);

		rt_b64_encode(sig, (size_t)n, b64, sizeof b64, &e);
		rt_sha256_format(b->d, dig);
		off += (size_t)snprintf(man + off, sizeof man - off,
					"%s{\"mediaType\":\"" RT_TRUST_MEDIA_PAYLOAD "\",\"size\":%zu,"
					"\"digest\":\"%s\",\"annotations\":{\"" RT_TRUST_ANN_SIG "\":\"%s\"}}",
					i ? "," : "", b->len, dig, b64);
	}
	snprintf(man + off, sizeof man - off, "]}");
	{
		const struct blob *b = put(m, man, strlen(man));

		memcpy(m->tagd, b->d, RT_SHA256_LEN);
		m->tagsize = b->len;
	}
	rt_trust_sig_tag(d, m->tag);
	m->have_tag = 1;
}

static const char *payload_for(const uint8_t d[RT_SHA256_LEN], const char *ident,
			       const char *version)
{
	static char buf[4][1024];
	static int k;
	char dig[RT_SHA256_STR], opt[64] = "null";

	k = (k + 1) % 4;
	rt_sha256_format(d, dig);
	if (version)
		snprintf(opt, sizeof opt, "{\"version\":\"%s\"}", version);
	snprintf(buf[k], sizeof buf[k],
		 "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},"
		 "\"image\":{\"docker-manifest-digest\":\"%s\"},"
		 "\"type\":\"cosign container image signature\"},\"optional\":%s}",
		 ident, dig, opt);
	return buf[k];
}

static void add_key(struct rt_trust_keys *ks, const char *name, const struct rt_sign_key *k)
{
	char pem[RT_SIGN_PEM_MAX];
	struct rt_err e;
	int n = rt_sign_pub_write_pem(&k->pub, pem, sizeof pem, &e);

	if (n < 0 || rt_trust_keys_add(ks, name, pem, (size_t)n, &e) < 0)
		printf("# add_key: %s\n", e.msg);
}

/* Count the entries below dir (recursively), for "nothing written". */
static int count_tree(int dfd)
{
	DIR *d = fdopendir(dup(dfd));
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (de->d_type == DT_DIR) {
			int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY);

			n += count_tree(fd);
			close(fd);
		}
	}
	closedir(d);
	return n;
}

static char tmpdir[] = "/tmp/test_trust.XXXXXX";

static void policy(void)
{
	static struct rt_trust t;
	struct rt_sign_key k1, k2, k3;
	struct rt_trust_result r;
	struct rt_trust_source src;
	struct mem m = { 0 };
	uint8_t A[RT_SHA256_LEN], B[RT_SHA256_LEN];
	uint64_t v;
	int64_t when;
	struct rt_err e;
	int rootfd;

	if (rt_sign_key_generate(&k1, &e) < 0 || rt_sign_key_generate(&k2, &e) < 0 ||
	    rt_sign_key_generate(&k3, &e) < 0) {
		ok(0, "keygen: %s", e.msg);
		return;
	}
	rootfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	memset(A, 0x11, sizeof A);
	memset(B, 0x22, sizeof B);
	memset(&t, 0, sizeof t);
	add_key(&t.keys, "k1.pub", &k1);
	add_key(&t.keys, "k2.pub", &k2);
	is_int(t.keys.n, 2, "two trusted keys");
	add_key(&t.keys, "k1-again.pub", &k1);
	is_int(t.keys.n, 2, "the same key twice counts once");
	t.rootfd = rootfd;
	t.require = true;
	src.ctx = &m;
	src.find_tag = mem_find;
	src.read_blob = mem_read;

	ok(rt_trust_verify(&t, "app:latest", A, &src, &r, &e) < 0, "unsigned refused when required (%s)", e.msg);
	t.require = false;
	ok(rt_trust_verify(&t, "app:latest", A, &src, &r, &e) == 0 && r.state == RT_TRUST_UNSIGNED,
	   "unsigned accepted when not required");
	t.require = true;

	{
		const char *p[] = { payload_for(A, "app", "3") };
		const struct rt_sign_key *k[] = { &k1 };

		attach(&m, A, 1, p, k);
	}
	ok(rt_trust_verify(&t, "app:latest", A, &src, &r, &e) == 0, "signed image accepted");
	ok(r.state == RT_TRUST_VERIFIED && r.version == 3 && r.has_version, "state and version");
	is_str(r.keyfile, "k1.pub", "key file");
	is_str(r.key, t.keys.k[0].fpr, "key id");
	is_str(r.repo, "docker.io/library/app", "repository, normalised");
	ok(rt_trust_verify(&t, "docker.io/library/app:v1", A, &src, &r, &e) == 0,
	   "loaded under the normalised name");
	ok(rt_trust_verify(&t, "index.docker.io/library/app:v1", A, &src, &r, &e) == 0,
	   "loaded under Docker's old registry name");
	ok(rt_trust_verify(&t, "docker.io/other/app:v1", A, &src, &r, &e) < 0,
	   "another user's repository of the same name refused");
	ok(rt_trust_verify(&t, "localhost:5000/app:v1", A, &src, &r, &e) < 0,
	   "another registry refused");
	ok(!r.has_prev && !r.downgrade, "no rollback record yet");
	ok(rt_trust_verify(&t, NULL, A, &src, &r, &e) == 0, "unnamed image: identity not compared");
	ok(rt_trust_verify(&t, "other:latest", A, &src, &r, &e) < 0, "loaded under another name refused (%s)", e.msg);
	ok(rt_trust_verify(&t, "app:latest", B, &src, &r, &e) < 0, "no signature for B (%s)", e.msg);
	is_int(count_tree(rootfd), 0, "verification wrote nothing");

	m.lie = 1;
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) < 0 && strstr(e.msg, "digest mismatch"),
	   "blob that does not match its digest refused (%s)", e.msg);
	m.lie = 0;
	m.tagsize++;
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) < 0, "size that lies refused (%s)", e.msg);
	mem_free(&m);

	/* A signature for A attached to B: the signature is valid, the
	 * payload names another image. */
	{
		const char *p[] = { payload_for(A, "app", "3") };
		const struct rt_sign_key *k[] = { &k1 };

		attach(&m, B, 1, p, k);
	}
	ok(rt_trust_verify(&t, "app", B, &src, &r, &e) < 0 && strstr(e.msg, "another image"),
	   "signature for A attached to B refused (%s)", e.msg);
	mem_free(&m);

	{
		const char *p[] = { payload_for(A, "app", "3") };
		const struct rt_sign_key *k[] = { &k3 };

		attach(&m, A, 1, p, k);
	}
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) < 0 && strstr(e.msg, "no signature by a trusted key"),
	   "unknown key refused (%s)", e.msg);
	t.require = false;
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) == 0 && r.state == RT_TRUST_UNSIGNED,
	   "unknown key, signatures not required: as unsigned");
	t.require = true;
	mem_free(&m);

	/* Signed by a trusted key, but the payload has a duplicate key that
	 * tries to change the digest. */
	{
		char dup[1024], da[RT_SHA256_STR], db[RT_SHA256_STR];
		const char *p[1] = { dup };
		const struct rt_sign_key *k[] = { &k1 };

		rt_sha256_format(A, da);
		rt_sha256_format(B, db);
		snprintf(dup, sizeof dup, "{\"critical\":{\"identity\":{\"docker-reference\":\"app\"},"
			 "\"image\":{\"docker-manifest-digest\":\"%s\",\"docker-manifest-digest\":\"%s\"},"
			 "\"type\":\"cosign container image signature\"},\"optional\":null}", db, da);
		attach(&m, A, 1, p, k);
	}
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) < 0 && strstr(e.msg, "duplicate"),
	   "signed payload with duplicate keys refused (%s)", e.msg);
	mem_free(&m);

	/* Two signatures: unknown key first, then a trusted one; the highest
	 * version among trusted ones counts. */
	{
		const char *p[] = { payload_for(A, "app", "9"), payload_for(A, "app", "5"),
				    payload_for(A, "app", "7") };
		const struct rt_sign_key *k[] = { &k3, &k2, &k1 };

		attach(&m, A, 3, p, k);
	}
	ok(rt_trust_verify(&t, "app:v7", A, &src, &r, &e) == 0 && r.version == 7,
	   "highest trusted version counts, unknown key ignored");
	is_str(r.keyfile, "k1.pub", "by the key that signed it");
	ok(rt_trust_commit(rootfd, &r, 1700000000, &e) == 0, "commit");
	ok(rt_trust_rollback_read(rootfd, "docker.io/library/app", &v, &e) == 0 && v == 7,
	   "rollback record says 7");
	{
		struct rt_trust_result rec;
		struct stat st;
		char path[256], hex[RT_SHA256_HEX];

		ok(rt_trust_record_read(rootfd, A, &rec, &when, &e) == 0, "verification record");
		ok(rec.version == 7 && when == 1700000000 && !strcmp(rec.keyfile, "k1.pub") &&
		   !strcmp(rec.repo, "docker.io/library/app") && !strcmp(rec.key, r.key), "record fields");
		ok(rt_trust_record_read(rootfd, B, &rec, &when, &e) == 1, "no record for B");
		rt_sha256_hex(A, hex);
		snprintf(path, sizeof path, "%s/trust/images/%s", tmpdir, hex);
		ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "record is 0600");
	}
	mem_free(&m);

	{
		const char *p[] = { payload_for(A, "app", "6") };
		const struct rt_sign_key *k[] = { &k1 };

		attach(&m, A, 1, p, k);
	}
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) < 0 && strstr(e.msg, "rollback"),
	   "older version refused (%s)", e.msg);
	t.allow_downgrade = true;
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) == 0 && r.downgrade && r.prev_version == 7 &&
	   r.version == 6, "older version accepted with the override, reported");
	ok(rt_trust_commit(rootfd, &r, 1700000001, &e) == 0, "commit downgrade");
	ok(rt_trust_rollback_read(rootfd, "docker.io/library/app", &v, &e) == 0 && v == 7,
	   "record keeps the highest");
	{
		struct rt_trust_result rec;

		ok(rt_trust_record_read(rootfd, A, &rec, &when, &e) == 0 && rec.downgrade,
		   "downgrade kept in the verification record");
	}
	t.allow_downgrade = false;
	mem_free(&m);

	{
		const char *p[] = { payload_for(A, "app", "7") };
		const struct rt_sign_key *k[] = { &k2 };

		attach(&m, A, 1, p, k);
	}
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) == 0, "same version again accepted");
	mem_free(&m);
	{
		const char *p[] = { payload_for(A, "app", NULL) };
		const struct rt_sign_key *k[] = { &k2 };

		attach(&m, A, 1, p, k);
	}
	ok(rt_trust_verify(&t, "app", A, &src, &r, &e) < 0, "no version after version 7 refused");
	ok(rt_trust_verify(&t, NULL, A, &src, &r, &e) < 0, "... also when unnamed");
	mem_free(&m);
	{
		const char *p[] = { payload_for(A, "other", NULL) };
		const struct rt_sign_key *k[] = { &k2 };

		attach(&m, A, 1, p, k);
	}
	ok(rt_trust_verify(&t, "other", A, &src, &r, &e) == 0 && !r.has_prev,
	   "another repository has its own record");
	mem_free(&m);

	{
		struct rt_trust_keys none = { 0 };
		const char *p[] = { payload_for(A, "app", "8") };
		const struct rt_sign_key *k[] = { &k1 };

		attach(&m, A, 1, p, k);
		t.keys = none;
		ok(rt_trust_verify(&t, "app", A, &src, &r, &e) < 0, "no trusted key: refused (%s)", e.msg);
		t.require = false;
		ok(rt_trust_verify(&t, "app", A, &src, &r, &e) == 0 && r.state == RT_TRUST_UNSIGNED,
		   "no trusted key, signatures not required: as unsigned");
		t.require = true;
	}
	mem_free(&m);

	/* A damaged rollback record is an error, not a reset. */
	{
		char hex[RT_SHA256_HEX], path[256];
		uint8_t d[RT_SHA256_LEN];
		FILE *f;

		rt_sha256_buf("docker.io/library/app", 21, d);
		rt_sha256_hex(d, hex);
		snprintf(path, sizeof path, "%s/trust/repos/%s", tmpdir, hex);
		f = fopen(path, "w");
		fputs("{\"repository\":\"docker.io/library/app\",\"version\":-1}", f);
		fclose(f);
		ok(rt_trust_rollback_read(rootfd, "docker.io/library/app", &v, &e) < 0,
		   "damaged record refused (%s)", e.msg);
	}
	close(rootfd);
}

static void sigmans(void)
{
	struct rt_trust_sig s[4];
	char doc[4096];
	struct rt_err e;
	int n;

#define LAYER(mt, sig) "{\"mediaType\":\"" mt "\",\"size\":10,\"digest\":\"" DIG_A "\"," \
	"\"annotations\":{\"" RT_TRUST_ANN_SIG "\":\"" sig "\"}}"
#define SIG "MEUCIQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fIAIgKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRkc="
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"layers\":[" LAYER(RT_TRUST_MEDIA_PAYLOAD, SIG) ","
		 LAYER("application/octet-stream", "x") "," LAYER(RT_TRUST_MEDIA_PAYLOAD, SIG) "]}");
	n = rt_trust_sigman_parse(doc, strlen(doc), s, 4, tok, RT_TRUST_TOK_MAX, &e);
	is_int(n, 2, "two signature layers, other media type skipped");
	ok(n == 2 && s[0].size == 10 && s[0].derlen == 71 && s[0].der[0] == 0x30, "layer fields");
	ok(rt_trust_sigman_parse(doc, strlen(doc), s, 1, tok, RT_TRUST_TOK_MAX, &e) < 0,
	   "more signatures than room: refused, not cut");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":1,\"layers\":[]}");
	ok(rt_trust_sigman_parse(doc, strlen(doc), s, 4, tok, RT_TRUST_TOK_MAX, &e) < 0, "schemaVersion 1");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"layers\":[]}");
	ok(rt_trust_sigman_parse(doc, strlen(doc), s, 4, tok, RT_TRUST_TOK_MAX, &e) < 0, "an index");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"layers\":[]}");
	is_int(rt_trust_sigman_parse(doc, strlen(doc), s, 4, tok, RT_TRUST_TOK_MAX, &e), 0, "no layers: 0");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"layers\":[" LAYER(RT_TRUST_MEDIA_PAYLOAD, "MEU") "]}");
	ok(rt_trust_sigman_parse(doc, strlen(doc), s, 4, tok, RT_TRUST_TOK_MAX, &e) < 0, "bad base64");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"" RT_TRUST_MEDIA_PAYLOAD
		 "\",\"size\":10,\"digest\":\"" DIG_A "\"}]}");
	ok(rt_trust_sigman_parse(doc, strlen(doc), s, 4, tok, RT_TRUST_TOK_MAX, &e) < 0, "no signature annotation");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"" RT_TRUST_MEDIA_PAYLOAD
		 "\",\"size\":-1,\"digest\":\"" DIG_A "\",\"annotations\":{\"" RT_TRUST_ANN_SIG "\":\"" SIG "\"}}]}");
	ok(rt_trust_sigman_parse(doc, strlen(doc), s, 4, tok, RT_TRUST_TOK_MAX, &e) < 0, "negative size");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"" RT_TRUST_MEDIA_PAYLOAD
		 "\",\"size\":10,\"digest\":\"sha256:../../etc/passwd\",\"annotations\":{\"" RT_TRUST_ANN_SIG "\":\"" SIG "\"}}]}");
	ok(rt_trust_sigman_parse(doc, strlen(doc), s, 4, tok, RT_TRUST_TOK_MAX, &e) < 0, "digest that is a path");
}

static void keydir(void)
{
	struct rt_trust_keys ks = { 0 };
	struct rt_sign_key k;
	char dir[256], path[300], pem[RT_SIGN_PEM_MAX];
	struct rt_err e;
	FILE *f;
	int n;

	snprintf(dir, sizeof dir, "%s/keys", tmpdir);
	ok(rt_trust_keys_load(&ks, dir, &e) == 0 && ks.n == 0, "missing key dir: no keys");
	mkdir(dir, 0700);
	rt_sign_key_generate(&k, &e);
	n = rt_sign_pub_write_pem(&k.pub, pem, sizeof pem, &e);
	snprintf(path, sizeof path, "%s/b.pub", dir);
	f = fopen(path, "w");
	fwrite(pem, 1, (size_t)n, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/a.key", dir);
	f = fopen(path, "w");
	fputs("not a key", f);
	fclose(f);
	ok(rt_trust_keys_load(&ks, dir, &e) == 0 && ks.n == 1, "one .pub key, other files ignored");
	is_str(ks.k[0].name, "b.pub", "named after its file");
	snprintf(path, sizeof path, "%s/c.pub", dir);
	f = fopen(path, "w");
	fputs("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", f);
	fclose(f);
	memset(&ks, 0, sizeof ks);
	ok(rt_trust_keys_load(&ks, dir, &e) < 0 && strstr(e.msg, "c.pub"), "bad key file is an error (%s)", e.msg);
	unsetenv(RT_TRUST_KEYS_ENV);
	is_str(rt_trust_keys_dir(), "/etc/rt/keys", "default key dir");
	setenv(RT_TRUST_KEYS_ENV, dir, 1);
	is_str(rt_trust_keys_dir(), dir, "key dir from the environment");
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	payloads();
	writer();
	names();
	sigmans();
	policy();
	keydir();
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return done_testing();
}
