/* References, platforms, manifests, indexes and configs; and the image
 * operations on a real store fed by an in-memory source: load (with the
 * verification seam), sharing, tag, rmi, gc, verify, resolve. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "image.h"
#include "manifest.h"
#include "sha256.h"
#include "store.h"
#include "tar.h"
#include "tap.h"

/* --- references ---------------------------------------------------------- */

static void ref_ok(const char *in, const char *full, const char *fam)
{
	struct rt_image_ref r;
	struct rt_err e;
	char a[600], b[600];

	if (rt_image_ref_parse(in, &r, &e) < 0) {
		ok(0, "parse '%s': %s", in, e.msg);
		return;
	}
	rt_image_ref_format(&r, 0, a, sizeof a, &e);
	rt_image_ref_format(&r, 1, b, sizeof b, &e);
	ok(!strcmp(a, full) && !strcmp(b, fam), "'%s' -> %s (%s)", in, a, b);
}

static void ref_bad(const char *in)
{
	struct rt_image_ref r;
	struct rt_err e;

	ok(rt_image_ref_parse(in, &r, &e) < 0, "'%s' refused (%s)", in, e.msg);
}

static void test_refs(void)
{
	static const char H[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char in[300], full[300], fam[300], tag129[140];

	ref_ok("busybox", "docker.io/library/busybox:latest", "busybox:latest");
	ref_ok("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36");
	ref_ok("user/app:v1.0-rc_2", "docker.io/user/app:v1.0-rc_2", "user/app:v1.0-rc_2");
	ref_ok("docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest");
	ref_ok("index.docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest");
	ref_ok("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest");
	ref_ok("localhost/app:x", "localhost/app:x", "localhost/app:x");
	ref_ok("ghcr.io/o/r/img:t", "ghcr.io/o/r/img:t", "ghcr.io/o/r/img:t");
	ref_ok("library/a/b:1", "docker.io/library/a/b:1", "library/a/b:1");
	ref_ok("a__b-c---d/e.f", "docker.io/a__b-c---d/e.f:latest", "a__b-c---d/e.f:latest");
	ref_bad("a_b.c/x");       /* a registry (it has a dot) cannot have _ */
	snprintf(in, sizeof in, "busybox@sha256:%s", H);
	snprintf(full, sizeof full, "docker.io/library/busybox@sha256:%s", H);
	snprintf(fam, sizeof fam, "busybox@sha256:%s", H);
	ref_ok(in, full, fam);
	snprintf(in, sizeof in, "r.example:443/x:t@sha256:%s", H);
	ref_ok(in, "r.example:443/x:t", "r.example:443/x:t");
	ref_bad("");
	ref_bad("Busybox");
	ref_bad("a..b");
	ref_bad("a:");
	ref_bad(":tag");
	ref_bad("-a");
	ref_bad("a/");
	ref_bad("a//b");
	ref_bad("a_-b");
	ref_bad("a:t@sha256:abc");
	ref_bad("a@sha512:0000");
	ref_bad("a:ta g");
	ref_bad("bad-.host/x");
	ref_bad(H);
	{
		char longhost[400];

		memset(longhost, 'a', 300);
		memcpy(longhost, "r.", 2);
		strcpy(longhost + 300, "/x");
		ref_bad(longhost);     /* a registry name longer than a name may be (found by fuzzing) */
	}
	memset(tag129, 'a', 129);
	tag129[129] = '\0';
	snprintf(in, sizeof in, "x:%s", tag129);
	ref_bad(in);
	{
		char b[100];

		is_str(rt_image_familiar("docker.io/library/busybox:latest", b, sizeof b), "busybox:latest",
		       "familiar of a library image");
		is_str(rt_image_familiar("docker.io/foo/bar:1", b, sizeof b), "foo/bar:1", "familiar of a user image");
		is_str(rt_image_familiar("quay.io/foo/bar:1", b, sizeof b), "quay.io/foo/bar:1",
		       "another registry stays");
		is_str(rt_image_familiar("docker.io/a.b/c:1", b, sizeof b), "docker.io/a.b/c:1",
		       "a Hub path that looks like a registry keeps docker.io/ (found by fuzzing)");
	}
}

static void test_platform(void)
{
	struct rt_image_platform p;
	struct rt_err e;

	rt_image_platform_board(&p);
	ok(!strcmp(p.os, "linux") && p.arch[0], "board platform %s/%s%s%s", p.os, p.arch,
	   p.variant[0] ? "/" : "", p.variant);
	ok(rt_image_platform_parse("linux/arm/v7", &p, &e) == 0 && !strcmp(p.arch, "arm") &&
	   !strcmp(p.variant, "v7"), "parse linux/arm/v7");
	ok(rt_image_platform_parse("linux/amd64", &p, &e) == 0 && !p.variant[0], "parse linux/amd64");
	ok(rt_image_platform_parse("linux", &p, &e) < 0, "os alone refused");
	ok(rt_image_platform_parse("linux/ARM", &p, &e) < 0, "uppercase refused");
	ok(rt_image_platform_parse("linux/arm/v7/x", &p, &e) < 0, "four parts refused");
}

/* --- documents ----------------------------------------------------------- */

#define D0 "sha256:0000000000000000000000000000000000000000000000000000000000000000"
#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define OCI_M "application/vnd.oci.image.manifest.v1+json"
#define OCI_I "application/vnd.oci.image.index.v1+json"
#define OCI_C "application/vnd.oci.image.config.v1+json"
#define OCI_LG "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_L "application/vnd.oci.image.layer.v1.tar"

static int kind_of(const char *doc, const char *claimed, struct rt_err *e)
{
	struct rt_manifest_json d;
	int k;

	if (rt_manifest_parse(&d, doc, strlen(doc), e) < 0)
		return -1;
	k = rt_manifest_kind(&d.j, claimed, e);
	rt_manifest_free(&d);
	return k;
}

static int image_of(const char *doc, struct rt_manifest_image *m, struct rt_err *e)
{
	struct rt_manifest_json d;
	int k;

	if (rt_manifest_parse(&d, doc, strlen(doc), e) < 0)
		return -1;
	k = rt_manifest_image(&d.j, m, e);
	rt_manifest_free(&d);
	return k;
}

static void test_manifests(void)
{
	static struct rt_manifest_image m;
	char doc[2048];
	struct rt_err e;

	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		 "\"digest\":\"%s\",\"size\":10},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":20}]}",
		 OCI_M, OCI_C, D1, OCI_LG, D2);
	is_int(kind_of(doc, NULL, &e), RT_MANIFEST_MANIFEST, "a manifest");
	ok(image_of(doc, &m, &e) == 0 && m.nlayers == 1 && m.layers[0].size == 20 &&
	   !strcmp(m.config.digest, D1), "parsed");
	ok(kind_of(doc, OCI_I, &e) < 0, "a manifest where an index was announced is refused (%s)", e.msg);
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[]}", OCI_M);
	ok(kind_of(doc, NULL, &e) < 0, "an index claiming to be a manifest is refused (%s)", e.msg);
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}");
	ok(kind_of(doc, NULL, &e) < 0, "both manifests and layers refused");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":1,\"layers\":[]}");
	ok(kind_of(doc, NULL, &e) < 0, "schema 1 refused");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"schemaVersion\":2,\"layers\":[]}");
	ok(kind_of(doc, NULL, &e) < 0, "duplicate keys refused (%s)", e.msg);

	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
		 "\"size\":1},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"sha256:../../../etc/passwd\",\"size\":1}]}",
		 OCI_C, D1, OCI_L);
	ok(image_of(doc, &m, &e) < 0, "a digest that is a path is refused (%s)", e.msg);
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
		 "\"size\":1},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":-1}]}",
		 OCI_C, D1, OCI_L, D2);
	ok(image_of(doc, &m, &e) < 0, "a negative size is refused");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
		 "\"size\":1},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1e3}]}",
		 OCI_C, D1, OCI_L, D2);
	ok(image_of(doc, &m, &e) < 0, "a size with an exponent is refused");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
		 "\"size\":1},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":99999999999999999999999}]}",
		 OCI_C, D1, OCI_L, D2);
	ok(image_of(doc, &m, &e) < 0, "a huge size is refused");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
		 "\"size\":1},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1,\"urls\":[\"http://x\"]}]}",
		 OCI_C, D1, OCI_L, D2);
	ok(image_of(doc, &m, &e) < 0, "foreign layers refused");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
		 "\"size\":1},\"layers\":[{\"mediaType\":\"%s+zstd\",\"digest\":\"%s\",\"size\":1}]}",
		 OCI_C, D1, OCI_L, D2);
	ok(image_of(doc, &m, &e) < 0 && strstr(e.msg, "zstd"), "zstd layers refused with a clear reason");
	snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.dev.cosign.x\","
		 "\"digest\":\"%s\",\"size\":1},\"layers\":[]}", D1);
	ok(image_of(doc, &m, &e) < 0 && strstr(e.msg, "not an image"), "artifacts are not images");
}

static void test_pick(void)
{
	static const char *const plats[] = {
		"\"os\":\"linux\",\"architecture\":\"amd64\"",
		"\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"",
		"\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"",
		"\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"",
		"\"os\":\"unknown\",\"architecture\":\"unknown\"",
	};
	struct rt_manifest_desc d;
	struct rt_manifest_json j;
	struct rt_image_platform p;
	char doc[4096];
	size_t len, i;
	struct rt_err e;

	len = (size_t)snprintf(doc, sizeof doc, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[", OCI_I);
	for (i = 0; i < 5; i++)
		len += (size_t)snprintf(doc + len, sizeof doc - len,
					"%s{\"mediaType\":\"%s\",\"digest\":\"sha256:%064zu\",\"size\":%zu,\"platform\":{%s}}",
					i ? "," : "", OCI_M, i, 100 + i, plats[i]);
	snprintf(doc + len, sizeof doc - len, "]}");
	ok(rt_manifest_parse(&j, doc, strlen(doc), &e) == 0, "index parses");
	rt_image_platform_parse("linux/arm/v7", &p, &e);
	ok(rt_manifest_pick(&j.j, &p, &d, &e) == 0 && d.size == 102, "arm/v7 picks v7");
	rt_image_platform_parse("linux/arm/v8", &p, &e);
	ok(rt_manifest_pick(&j.j, &p, &d, &e) == 0 && d.size == 102, "arm/v8 falls back to v7");
	rt_image_platform_parse("linux/arm64", &p, &e);
	ok(rt_manifest_pick(&j.j, &p, &d, &e) == 0 && d.size == 103, "arm64 takes arm64/v8");
	rt_image_platform_parse("linux/amd64", &p, &e);
	ok(rt_manifest_pick(&j.j, &p, &d, &e) == 0 && d.size == 100, "amd64");
	rt_image_platform_parse("linux/mipsle", &p, &e);
	ok(rt_manifest_pick(&j.j, &p, &d, &e) < 0 && strstr(e.msg, "linux/arm/v7") && !strstr(e.msg, "unknown"),
	   "no match lists what there is (%s)", e.msg);
	rt_manifest_free(&j);
}

static void test_config(void)
{
	static struct rt_manifest_config c;
	static struct rt_image_cfg cfg;
	struct rt_manifest_json j;
	struct rt_err e;
	int64_t t;
	char doc[2048];

	ok(rt_manifest_time("2024-05-01T10:00:00Z", &t) == 0 && t == 1714557600, "RFC 3339 time");
	ok(rt_manifest_time("2024-05-01T12:00:00.123456789+02:00", &t) == 0 && t == 1714557600,
	   "with fraction and offset");
	ok(rt_manifest_time("1969-12-31T23:59:59Z", &t) == 0 && t == -1, "before 1970");
	ok(rt_manifest_time("2024-13-01T10:00:00Z", &t) < 0, "bad month");
	ok(rt_manifest_time("2024-05-01 10:00", &t) < 0, "truncated");
	snprintf(doc, sizeof doc,
		 "{\"architecture\":\"arm\",\"variant\":\"v7\",\"os\":\"linux\",\"created\":\"2024-05-01T10:00:00Z\","
		 "\"config\":{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"-v\",\"x y\"],\"Env\":[\"PATH=/bin\",\"A=b\"],"
		 "\"WorkingDir\":\"/srv\",\"User\":\"1000:1000\",\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},"
		 "\"Volumes\":{\"/data\":{}},\"Labels\":{\"k\":\"v\"},\"StopSignal\":\"SIGINT\","
		 "\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"true\"],\"Interval\":30000000000,\"Retries\":3}},"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}", D1, D2);
	ok(rt_manifest_parse(&j, doc, strlen(doc), &e) == 0, "config parses");
	ok(rt_manifest_config(&j.j, &c, &e) == 0 && c.ndiff == 2 && c.created == 1714557600 &&
	   !strcmp(c.platform.arch, "arm") && !strcmp(c.platform.variant, "v7"), "config fields");
	ok(rt_manifest_run_config(&j.j, &cfg, &e) == 0, "run config");
	ok(cfg.nentrypoint == 1 && !strcmp(cfg.entrypoint[0], "/init") && cfg.ncmd == 2 &&
	   !strcmp(cfg.cmd[1], "x y") && !cfg.cmd[2] && cfg.has_cmd && cfg.has_entrypoint, "Entrypoint and Cmd");
	ok(cfg.nenv == 2 && !strcmp(cfg.env[1], "A=b") && !strcmp(cfg.workdir, "/srv") &&
	   !strcmp(cfg.user, "1000:1000") && !strcmp(cfg.stop_signal, "SIGINT"), "Env, WorkingDir, User, StopSignal");
	ok(cfg.nports == 2 && !strcmp(cfg.ports[0], "80/tcp") && cfg.nvolumes == 1 &&
	   !strcmp(cfg.volumes[0], "/data"), "ExposedPorts and Volumes");
	ok(cfg.nlabels == 1 && !strcmp(cfg.labels[0].key, "k") && !strcmp(cfg.labels[0].value, "v") &&
	   !cfg.labels[1].key, "Labels");
	ok(cfg.health.ntest == 2 && cfg.health.interval_ns == 30000000000LL && cfg.health.retries == 3,
	   "Healthcheck");
	rt_manifest_free(&j);
	snprintf(doc, sizeof doc, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:12\"]}}");
	ok(rt_manifest_parse(&j, doc, strlen(doc), &e) == 0 && rt_manifest_config(&j.j, &c, &e) < 0,
	   "bad diff_id refused");
	rt_manifest_free(&j);
	snprintf(doc, sizeof doc, "{\"config\":{\"Cmd\":\"not a list\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
	ok(rt_manifest_parse(&j, doc, strlen(doc), &e) == 0 && rt_manifest_run_config(&j.j, &cfg, &e) < 0,
	   "Cmd must be a list");
	rt_manifest_free(&j);
}

/* --- a source in memory -------------------------------------------------- */

struct mblob {
	char digest[RT_SHA256_STR];
	uint8_t *data;
	size_t len;
};

static struct mblob blobs[64];
static int nblobs;
static struct {
	const struct mblob *b;
	size_t pos;
} cur;

static const char *add(const void *data, size_t len)
{
	uint8_t d[RT_SHA256_LEN];
	struct mblob *b = &blobs[nblobs++];

	b->data = malloc(len ? len : 1);
	memcpy(b->data, data, len);
	b->len = len;
	rt_sha256_buf(data, len, d);
	rt_sha256_format(d, b->digest);
	return b->digest;
}

static int m_open(void *ctx, const char *digest, uint64_t size, struct rt_err *e)
{
	int i;

	(void)ctx;
	for (i = nblobs - 1; i >= 0; i--)
		if (!strcmp(blobs[i].digest, digest)) {
			if (blobs[i].len != size)
				return rt_err_set(e, 0, "size mismatch");
			cur.b = &blobs[i];
			cur.pos = 0;
			return 0;
		}
	return rt_err_set(e, ENOENT, "no blob %s", digest);
}

static ssize_t m_read(void *ctx, void *buf, size_t len, struct rt_err *e)
{
	(void)ctx;
	(void)e;
	if (len > cur.b->len - cur.pos)
		len = cur.b->len - cur.pos;
	if (len > 3000)
		len = 3000;
	memcpy(buf, cur.b->data + cur.pos, len);
	cur.pos += len;
	return (ssize_t)len;
}

/* A layer: a tar of (name, content) pairs, gzip'd when gzip is set. */
static const char *layer(int gzip, const char *const *files, char diff[RT_SHA256_STR], size_t *size)
{
	static uint8_t buf[65536];
	size_t len = 0;
	uint8_t d[RT_SHA256_LEN];
	struct rt_err e;
	int i;

	for (i = 0; files[i]; i += 2) {
		struct rt_tar_entry en;
		ssize_t n;

		memset(&en, 0, sizeof en);
		en.type = RT_TAR_FILE;
		en.path = files[i];
		en.linkpath = "";
		en.mode = 0644;
		en.size = strlen(files[i + 1]);
		n = rt_tar_write_header(buf + len, sizeof buf - len, &en, &e);
		len += (size_t)n;
		memcpy(buf + len, files[i + 1], en.size);
		len += en.size;
		memset(buf + len, 0, rt_tar_pad(en.size));
		len += rt_tar_pad(en.size);
	}
	memset(buf + len, 0, 1024);
	len += 1024;
	rt_sha256_buf(buf, len, d);
	rt_sha256_format(d, diff);
	if (gzip) {
		static uint8_t out[70000];
		z_stream z;

		memset(&z, 0, sizeof z);
		deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
		z.next_in = buf;
		z.avail_in = (uInt)len;
		z.next_out = out;
		z.avail_out = sizeof out;
		deflate(&z, Z_FINISH);
		*size = sizeof out - z.avail_out;
		deflateEnd(&z);
		return add(out, *size);
	}
	*size = len;
	return add(buf, len);
}

struct img {
	char manifest[RT_SHA256_STR], config[RT_SHA256_STR];
	size_t msize;
};

/* An image of the given layers; arch NULL: the board's. */
static struct img image(int n, const char *const *ldig, const size_t *lsize, const char *const *diff,
			const char *arch, int gz)
{
	struct rt_image_platform p;
	char cfg[4096], man[4096];
	size_t cl = 0, ml = 0;
	struct img im;
	int i;

	rt_image_platform_board(&p);
	cl += (size_t)snprintf(cfg + cl, sizeof cfg - cl,
			       "{\"architecture\":\"%s\",\"os\":\"linux\",\"created\":\"2024-05-01T10:00:00Z\","
			       "\"config\":{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"PATH=/bin\"]},"
			       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", arch ? arch : p.arch);
	for (i = 0; i < n; i++)
		cl += (size_t)snprintf(cfg + cl, sizeof cfg - cl, "%s\"%s\"", i ? "," : "", diff[i]);
	cl += (size_t)snprintf(cfg + cl, sizeof cfg - cl, "]},\"history\":[{\"created_by\":\"test\"}]}");
	strcpy(im.config, add(cfg, cl));
	ml += (size_t)snprintf(man + ml, sizeof man - ml,
			       "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
			       "\"digest\":\"%s\",\"size\":%zu},\"layers\":[", OCI_M, OCI_C, im.config, cl);
	for (i = 0; i < n; i++)
		ml += (size_t)snprintf(man + ml, sizeof man - ml, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
				       i ? "," : "", gz ? OCI_LG : OCI_L, ldig[i], lsize[i]);
	ml += (size_t)snprintf(man + ml, sizeof man - ml, "]}");
	strcpy(im.manifest, add(man, ml));
	im.msize = ml;
	return im;
}

static struct rt_image_src src = { .open = m_open, .read = m_read };
static char tmpl[] = "/tmp/rt-image-XXXXXX";
static char root[64];

/* The names under blobs/, layers/ and the refs file, to compare states. */
static void snap(char *out, size_t cap)
{
	static const char *const dirs[] = { "blobs/sha256", "layers", "refs" };
	size_t len = 0, i;

	out[0] = '\0';
	for (i = 0; i < 3; i++) {
		char p[256];
		struct dirent **nl;
		int n, k;

		snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
		n = scandir(p, &nl, NULL, alphasort);
		for (k = 0; k < n; k++) {
			len += (size_t)snprintf(out + len, cap - len, "%s/%s\n", dirs[i], nl[k]->d_name);
			free(nl[k]);
		}
		free(nl);
	}
	{
		char p[256], buf[4096];
		int fd;
		ssize_t r;

		snprintf(p, sizeof p, "%s/refs/images", root);
		fd = open(p, O_RDONLY);
		if (fd >= 0) {
			r = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (r > 0 && len + (size_t)r < cap) {
				memcpy(out + len, buf, (size_t)r);
				out[len + (size_t)r] = '\0';
			}
		}
	}
}

static int refuse(void *arg, const char *ref, const char *digest, const void *doc, size_t len,
		  const struct rt_image_src *s, struct rt_err *e)
{
	int *calls = arg;
	char buf[8192];
	size_t got;

	(*calls)++;
	(void)ref;
	(void)doc;
	/* the source can be read from the callback */
	if (rt_image_src_read(s, digest, len, buf, sizeof buf, &got, e) < 0)
		return -1;
	return rt_err_set(e, EPERM, "no valid signature");
}

static int load(struct rt_store *s, const struct img *im, const char *name, rt_image_verify_fn v,
		void *varg, struct rt_err *e)
{
	struct rt_image_load_opts o;
	struct rt_image_want w;

	memset(&o, 0, sizeof o);
	memset(&w, 0, sizeof w);
	rt_unpack_limits(&o.lim, NULL, e);
	o.verify = v;
	o.verify_arg = varg;
	strcpy(w.digest, im->manifest);
	w.size = im->msize;
	strcpy(w.mediatype, OCI_M);
	if (name)
		strcpy(w.name, name);
	return rt_image_load(s, &src, &w, 1, &o, e);
}

static int nev;

static void ev_count(void *arg, const char *what, const char *item)
{
	(void)arg;
	(void)what;
	(void)item;
	nev++;
}

static int keep_all(void *a, const char *d, const char *id, char *who, size_t cap, struct rt_err *e)
{
	(void)a;
	(void)d;
	(void)id;
	(void)e;
	snprintf(who, cap, "web");
	return 1;
}

static void test_load(void)
{
	static const char *const base[] = { "etc/os-release", "ID=test\n", "bin/sh", "#!shell", NULL };
	static const char *const app[] = { "srv/app", "app v1", NULL };
	static const char *const app2[] = { "srv/app", "app v2", NULL };
	static const char *const bad[] = { "srv/bad", "bad", NULL };
	char ldig[4][RT_SHA256_STR], diff[4][RT_SHA256_STR], before[8192], after[8192];
	const char *ld[2], *df[2];
	size_t ls[4], lsz[2];
	struct img a, b, c, x;
	struct rt_store s;
	struct rt_err e;
	int calls = 0;

	strcpy(ldig[0], layer(1, base, diff[0], &ls[0]));
	strcpy(ldig[1], layer(1, app, diff[1], &ls[1]));
	strcpy(ldig[2], layer(1, app2, diff[2], &ls[2]));
	ld[0] = ldig[0]; ld[1] = ldig[1]; lsz[0] = ls[0]; lsz[1] = ls[1]; df[0] = diff[0]; df[1] = diff[1];
	a = image(2, ld, lsz, df, NULL, 1);
	ld[1] = ldig[2]; lsz[1] = ls[2]; df[1] = diff[2];
	b = image(2, ld, lsz, df, NULL, 1);
	ok(rt_store_open(&s, root, RT_STORE_SHARED, &e) == 0, "store");

	snap(before, sizeof before);
	ok(load(&s, &a, "docker.io/library/a:1", refuse, &calls, &e) < 0 && strstr(e.msg, "no valid signature") &&
	   calls == 1, "the verifier is asked, can read the source, and can refuse (%s)", e.msg);
	rt_store_close(&s);
	rt_store_open(&s, root, RT_STORE_SHARED, &e);
	snap(after, sizeof after);
	ok(!strcmp(before, after), "a refused image leaves the store as it was");

	/* a layer whose bytes do not match: the image gets no name, the
	 * good layer before it stays (verified, committed for a later load)
	 * until gc, the bad one never gets a final name */
	{
		uint8_t junk[100];
		const char *jd[2];
		size_t js[2];
		char jdiff[RT_SHA256_STR];

		memset(junk, 'j', sizeof junk);
		layer(1, bad, jdiff, &js[1]);
		jd[0] = ldig[0];
		jd[1] = blobs[nblobs - 1].digest;
		js[0] = ls[0];
		blobs[nblobs - 1].data[20] ^= 0xff;       /* corrupt the blob, keep its name */
		df[0] = diff[0];
		df[1] = jdiff;
		x = image(2, jd, js, df, NULL, 1);
		ok(load(&s, &x, "docker.io/library/x:1", NULL, NULL, &e) < 0, "a corrupted layer fails (%s)", e.msg);
		rt_store_close(&s);
		rt_store_open(&s, root, RT_STORE_SHARED, &e);
		ok(rt_store_layer_has(&s, ldig[0]) && !rt_store_layer_has(&s, jd[1]),
		   "the good layer is committed, the bad one is not");
		rt_store_close(&s);
		{
			uint64_t freed = 0;

			rt_store_open(&s, root, RT_STORE_EXCL, &e);
			ok(rt_image_gc(&s, &freed, &e) == 0 && freed > 0, "gc takes the layer no image names");
			rt_store_close(&s);
		}
		rt_store_open(&s, root, RT_STORE_SHARED, &e);
		snap(after, sizeof after);
		ok(!strcmp(before, after), "and the store is as it was");
	}

	ok(load(&s, &a, "docker.io/library/a:1", NULL, NULL, &e) == 0, "image a loads");
	ok(rt_store_layer_has(&s, ldig[0]) && rt_store_layer_has(&s, ldig[1]), "its layers are in the store");
	ok(load(&s, &b, "docker.io/library/b:1", NULL, NULL, &e) == 0, "image b (same base) loads");
	{
		struct rt_image_df d;

		ok(rt_image_df(&s, NULL, NULL, &d, &e) == 0 && d.images == 2 && d.layers == 3 &&
		   d.shared_saved > 0, "the base layer is stored once (3 layers for 2x2), sharing saves %llu",
		   (unsigned long long)d.shared_saved);
	}
	{
		char dg[RT_SHA256_STR], pfx[16];

		ok(rt_image_find(&s, "a:1", dg, &e) == 0 && !strcmp(dg, a.manifest), "find by name");
		snprintf(pfx, sizeof pfx, "%.10s", a.config + 7);
		ok(rt_image_find(&s, pfx, dg, &e) == 0 && !strcmp(dg, a.manifest), "find by ID prefix");
		ok(rt_image_find(&s, a.config, dg, &e) == 0, "find by full ID");
		ok(rt_image_find(&s, "nope", dg, &e) < 0 && e.errnum == ENOENT &&
		   !strcmp(e.msg, "No such image: nope:latest"), "not found (%s)", e.msg);
	}
	{
		struct rt_image_row *rows;
		size_t n;

		ok(rt_image_list(&s, &rows, &n, &e) == 0 && n == 2 && rows[0].size > 0 &&
		   rows[0].created == 1714557600, "list");
		free(rows);
	}
	ok(rt_image_tag(&s, "a:1", "docker.io/library/a:latest", &e) == 0, "tag");
	ok(rt_image_tag(&s, "a:1", "a@sha256:0000000000000000000000000000000000000000000000000000000000000000", &e) < 0,
	   "a tag cannot carry a digest");
	ok(rt_image_tag(&s, "zzz", "docker.io/library/q:1", &e) < 0, "tag of nothing");
	/* loading b under a's name moves the tag: a keeps its other one */
	ok(load(&s, &b, "docker.io/library/a:latest", NULL, NULL, &e) == 0, "tag moved by a load");
	{
		char dg[RT_SHA256_STR];

		ok(rt_image_find(&s, "a", dg, &e) == 0 && !strcmp(dg, b.manifest), "a:latest is now b");
	}
	rt_store_close(&s);

	/* verify, then damage an unpacked file */
	rt_store_open(&s, root, RT_STORE_SHARED, &e);
	{
		char p[512];
		int fd;

		ok(rt_image_verify(&s, a.manifest, ev_count, NULL, &e) == 0 && nev == 4,
		   "verify: manifest, config and 2 layers (%d)", nev);
		rt_store_layer_path(&s, ldig[1], p, sizeof p, &e);
		strcat(p, "/srv/app");
		fd = open(p, O_WRONLY);
		(void)!pwrite(fd, "X", 1, 0);
		close(fd);
		ok(rt_image_verify(&s, a.manifest, NULL, NULL, &e) < 0 && strstr(e.msg, "changed"),
		   "a changed byte in an unpacked layer is found (%s)", e.msg);
	}
	rt_store_close(&s);

	/* rmi: a shared layer stays while an image uses it */
	rt_store_open(&s, root, RT_STORE_EXCL, &e);
	{
		uint64_t freed = 0;

		ok(rt_image_remove(&s, "a:1", 0, keep_all, NULL, NULL, NULL, &freed, &e) < 0 &&
		   strstr(e.msg, "container web"), "rmi refuses while a container uses the image (%s)", e.msg);
		ok(rt_image_remove(&s, "a:1", 0, NULL, NULL, NULL, NULL, &freed, &e) == 0, "rmi a:1");
		ok(!rt_store_layer_has(&s, ldig[1]) && rt_store_layer_has(&s, ldig[0]) &&
		   rt_store_layer_has(&s, ldig[2]) && freed > 0,
		   "its own layer is freed, the shared base stays (%llu bytes)", (unsigned long long)freed);
		ok(!rt_store_blob_has(&s, a.manifest) && !rt_store_blob_has(&s, a.config), "its blobs are freed");
		ok(rt_image_remove(&s, b.config, 0, NULL, NULL, NULL, NULL, &freed, &e) < 0 &&
		   strstr(e.msg, "multiple repositories"), "removing by ID with two tags needs -f");
		ok(rt_image_remove(&s, b.config, 1, NULL, NULL, NULL, NULL, &freed, &e) == 0 &&
		   !rt_store_layer_has(&s, ldig[0]), "rmi -f by ID removes every tag and the layers");
	}
	rt_store_close(&s);

	/* an image for another architecture, and a docker-style source */
	rt_store_open(&s, root, RT_STORE_SHARED, &e);
	ld[0] = ldig[0]; lsz[0] = ls[0]; df[0] = diff[0];
	c = image(1, ld, lsz, df, "s390x", 1);
	ok(load(&s, &c, "docker.io/library/c:1", NULL, NULL, &e) < 0 && strstr(e.msg, "s390x"),
	   "an image for another architecture is refused (%s)", e.msg);
	{
		char udig[RT_SHA256_STR], udiff[RT_SHA256_STR];
		size_t us;
		static struct rt_image_cfg cfg;

		strcpy(udig, layer(0, base, udiff, &us));
		ld[0] = udig; lsz[0] = us; df[0] = udiff;
		c = image(1, ld, lsz, df, NULL, 0);
		src.diff_ids = 1;
		ok(load(&s, &c, "docker.io/library/c:1", NULL, NULL, &e) == 0, "uncompressed layer named by its diff_id");
		src.diff_ids = 0;
		rt_store_close(&s);
		ok(rt_image_resolve(root, "c:1", &cfg, &e) == 0 && cfg.nlayers == 1 && cfg.ncmd == 1 &&
		   !strcmp(cfg.cmd[0], "/bin/sh") && !strcmp(cfg.id, c.config) &&
		   !strcmp(cfg.ref, "docker.io/library/c:1"), "resolve for run");
		{
			struct stat st;
			char p[600];

			snprintf(p, sizeof p, "%s/bin/sh", cfg.layers[0]);
			ok(stat(p, &st) == 0 && st.st_size == 7, "its layer dir is the unpacked layer");
		}
		ok(rt_image_resolve(root, "nothere", &cfg, &e) < 0, "resolve of nothing");
	}
}

int main(void)
{
	struct rt_err e;

	test_refs();
	test_platform();
	test_manifests();
	test_pick();
	test_config();
	if (geteuid() != 0) {
		ok(1, "# SKIP the store tests need root");
		return done_testing();
	}
	if (!mkdtemp(tmpl))
		return 1;
	snprintf(root, sizeof root, "%s/store", tmpl);
	test_load();
	rt_store_rmtree(AT_FDCWD, tmpl, &e);
	return done_testing();
}
