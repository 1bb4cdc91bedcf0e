/* mkimage inspect: what an image layout or archive holds, for people. It
 * trusts nothing it prints: every blob is read through its digest check,
 * and signatures are listed, not verified (that needs a key: verify). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "mkimage.h"
#include "trust.h"

static void str_or(const struct rt_json *j, int i, char *buf, size_t cap, const char *dflt)
{
	struct rt_err e;

	if (rt_json_str(j, i, buf, cap, &e) < 0)
		snprintf(buf, cap, "%s", dflt);
}

static int show_config(struct mk_layout *l, const struct rt_json *mj, struct rt_err *e)
{
	struct mk_json c;
	uint8_t d[RT_SHA256_LEN];
	uint64_t size;
	char s[1024], dig[RT_SHA256_STR];
	int cc, h, k, n;

	if (mk_json_desc(mj, rt_json_find(mj, 0, "config"), d, &size, NULL, 0, e) < 0)
		return -1;
	rt_sha256_format(d, dig);
	printf("  config:   %s (%llu bytes)\n", dig, (unsigned long long)size);
	if (mk_json_blob(&c, l, d, size, e) < 0)
		return -1;
	str_or(&c.j, rt_json_find(&c.j, 0, "created"), s, sizeof s, "-");
	printf("  created:  %s\n", s);
	cc = rt_json_find(&c.j, 0, "config");
	for (k = rt_json_first(&c.j, cc); k >= 0; k = rt_json_next(&c.j, cc, k)) {
		char key[64], val[2048];
		struct rt_json_w w;

		str_or(&c.j, k, key, sizeof key, "?");
		rt_json_w_init(&w, val, sizeof val);
		if (mk_json_copy(&w, &c.j, k + 1, e) < 0 || rt_json_w_finish(&w, e) < 0)
			snprintf(val, sizeof val, "(too long)");
		printf("  %-9s %s\n", key, val);
	}
	h = rt_json_find(&c.j, 0, "history");
	n = 0;
	for (k = rt_json_first(&c.j, h); k >= 0; k = rt_json_next(&c.j, h, k), n++) {
		bool empty = false;
		struct rt_err ignored;

		str_or(&c.j, rt_json_find(&c.j, k, "created_by"), s, sizeof s, "");
		if (rt_json_bool(&c.j, rt_json_find(&c.j, k, "empty_layer"), &empty, &ignored) < 0)
			empty = false;
		printf("  history:  %s%s\n", s, empty ? " (no layer)" : "");
	}
	mk_json_free(&c);
	return 0;
}

static int show_manifest(struct mk_layout *l, const struct mk_desc *d, struct rt_err *e)
{
	struct mk_json m;
	uint8_t ld[RT_SHA256_LEN];
	uint64_t size, total = 0;
	char dig[RT_SHA256_STR], media[128];
	int arr, k, rc = 0;

	if (mk_json_blob(&m, l, d->digest, d->size, e) < 0)
		return -1;
	arr = rt_json_find(&m.j, 0, "manifests");
	for (k = rt_json_first(&m.j, arr); k >= 0; k = rt_json_next(&m.j, arr, k)) {
		int p = rt_json_find(&m.j, k, "platform");
		char a[MK_PLAT_MAX], o[MK_PLAT_MAX];

		if (mk_json_desc(&m.j, k, ld, &size, NULL, 0, e) < 0)
			goto out;
		rt_sha256_format(ld, dig);
		str_or(&m.j, rt_json_find(&m.j, p, "architecture"), a, sizeof a, "?");
		str_or(&m.j, rt_json_find(&m.j, p, "os"), o, sizeof o, "?");
		printf("  manifest: %s %s/%s\n", dig, o, a);
	}
	if (rt_json_find(&m.j, 0, "config") >= 0 && show_config(l, &m.j, e) < 0)
		goto out;
	arr = rt_json_find(&m.j, 0, "layers");
	for (k = rt_json_first(&m.j, arr); k >= 0; k = rt_json_next(&m.j, arr, k)) {
		if (mk_json_desc(&m.j, k, ld, &size, media, sizeof media, e) < 0)
			goto out;
		rt_sha256_format(ld, dig);
		total += size;
		printf("  layer:    %s %llu bytes %s\n", dig, (unsigned long long)size, media);
	}
	if (total)
		printf("  size:     %llu bytes of layers\n", (unsigned long long)total);
	mk_json_free(&m);
	return rc;
out:
	mk_json_free(&m);
	return -1;
}

/* The .sig manifest's payloads: what they claim, not checked. */
static int show_sigs(struct mk_layout *l, const struct mk_desc *d, struct rt_err *e)
{
	static struct rt_json_tok tok[RT_TRUST_TOK_MAX];
	static struct rt_trust_sig sigs[RT_TRUST_SIGS_MAX];
	static char buf[RT_TRUST_SIGMAN_MAX], payload[RT_TRUST_PAYLOAD_MAX];
	struct rt_trust_payload p;
	char dig[RT_SHA256_STR];
	ssize_t len;
	int n, i;

	len = mk_blob_read(l, d->digest, d->size, buf, sizeof buf, e);
	if (len < 0)
		return -1;
	n = rt_trust_sigman_parse(buf, (size_t)len, sigs, RT_TRUST_SIGS_MAX, tok, RT_TRUST_TOK_MAX, e);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		len = mk_blob_read(l, sigs[i].digest, sigs[i].size, payload, sizeof payload, e);
		if (len < 0)
			return -1;
		if (rt_trust_payload_parse(&p, payload, (size_t)len, tok, RT_TRUST_TOK_MAX, e) < 0) {
			printf("  signature %d: unreadable payload (%s)\n", i + 1, e->msg);
			continue;
		}
		rt_sha256_format(p.digest, dig);
		printf("  signature %d: identity %s, digest %s", i + 1, p.identity, dig);
		if (p.has_version)
			printf(", version %llu", (unsigned long long)p.version);
		printf(" (not verified)\n");
	}
	return 0;
}

int mk_inspect(int argc, char **argv)
{
	struct mk_layout l;
	struct rt_err e;
	char dig[RT_SHA256_STR];
	size_t i, k;
	int bad = 0;

	if (argc != 2 || argv[1][0] == '-')
		return mk_fail("inspect", MK_EXIT_USAGE, "usage: mkimage inspect IMAGE");
	if (mk_layout_open(&l, argv[1], &e) < 0)
		return mk_fail_err("inspect", &e);
	for (i = 0; i < l.n; i++) {
		const struct mk_desc *d = &l.m[i];
		bool dup = false;

		if (rt_trust_is_sig_ref(d->ref, NULL))
			continue;
		for (k = 0; k < i; k++)
			if (!memcmp(l.m[k].digest, d->digest, RT_SHA256_LEN))
				dup = true;
		if (dup)
			continue;
		rt_sha256_format(d->digest, dig);
		printf("%s\n", dig);
		for (k = i; k < l.n; k++)
			if (!memcmp(l.m[k].digest, d->digest, RT_SHA256_LEN))
				printf("  name:     %s\n", l.m[k].ref[0] ? l.m[k].ref : "(none)");
		printf("  type:     %s\n", d->media);
		if (d->os[0])
			printf("  platform: %s/%s%s%s\n", d->os, d->arch, d->variant[0] ? "/" : "", d->variant);
		if (show_manifest(&l, d, &e) < 0) {
			bad = mk_fail_err("inspect", &e);
			continue;
		}
		for (k = 0; k < l.n; k++) {
			uint8_t sd[RT_SHA256_LEN];

			if (!rt_trust_is_sig_ref(l.m[k].ref, sd) || memcmp(sd, d->digest, sizeof sd) != 0)
				continue;
			printf("  signed:   %s\n", l.m[k].ref);
			if (show_sigs(&l, &l.m[k], &e) < 0)
				bad = mk_fail_err("inspect", &e);
		}
	}
	mk_layout_close(&l);
	return bad ? MK_EXIT_FAIL : 0;
}
