/* Fuzz the image formats: manifests, indexes (with platform selection),
 * configs (and the run config for containers), RFC 3339 times, image
 * references and platforms.
 *
 * The first input byte picks the parser. Oracles beyond "no crash": an
 * accepted reference formats to a string that parses back to the same
 * reference, and its familiar form parses to it too; every digest a parsed
 * manifest hands out is a strict sha256 digest; the run config's string
 * pointers stay inside its pool; platform selection only returns a
 * manifest entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "manifest.h"

#define check(c) do { if (!(c)) __builtin_trap(); } while (0)

static struct rt_manifest_image m;
static struct rt_manifest_config c;
static struct rt_image_cfg cfg;
static char doc[RT_IMAGE_JSON_MAX + 1];

static void strict_digest(const char *d)
{
	uint8_t raw[RT_SHA256_LEN];
	struct rt_err e;

	check(rt_sha256_parse(d, strlen(d), raw, &e) == 0);
}

static int in_pool(const char *s)
{
	return s >= cfg.strs && s < cfg.strs + sizeof cfg.strs && s + strlen(s) < cfg.strs + sizeof cfg.strs;
}

static void documents(const uint8_t *data, size_t size)
{
	struct rt_manifest_json j;
	struct rt_manifest_desc d;
	struct rt_image_platform p;
	struct rt_err e;
	int k, i;

	if (rt_manifest_parse(&j, (const char *)data, size, &e) < 0)
		return;
	k = rt_manifest_kind(&j.j, NULL, &e);
	if (k == RT_MANIFEST_MANIFEST && rt_manifest_image(&j.j, &m, &e) == 0) {
		strict_digest(m.config.digest);
		check(m.nlayers >= 0 && m.nlayers <= RT_IMAGE_MAX_LAYERS);
		for (i = 0; i < m.nlayers; i++)
			strict_digest(m.layers[i].digest);
	}
	if (k == RT_MANIFEST_INDEX) {
		static const char *const plats[] = { "linux/amd64", "linux/arm/v7", "linux/arm64", "linux/mipsle" };

		for (i = 0; i < 4; i++) {
			rt_image_platform_parse(plats[i], &p, &e);
			if (rt_manifest_pick(&j.j, &p, &d, &e) == 0) {
				strict_digest(d.digest);
				check(rt_manifest_is_manifest_type(d.mediatype));
			}
		}
	}
	if (rt_manifest_config(&j.j, &c, &e) == 0) {
		check(c.ndiff >= 0 && c.ndiff <= RT_IMAGE_MAX_LAYERS);
		for (i = 0; i < c.ndiff; i++)
			strict_digest(c.diff_ids[i]);
	}
	if (rt_manifest_run_config(&j.j, &cfg, &e) == 0) {
		check(cfg.used <= sizeof cfg.strs);
		for (i = 0; i < cfg.ncmd; i++)
			check(in_pool(cfg.cmd[i]));
		check(cfg.cmd[cfg.ncmd] == NULL && cfg.env[cfg.nenv] == NULL);
		for (i = 0; i < cfg.nlabels; i++)
			check(in_pool(cfg.labels[i].key) && in_pool(cfg.labels[i].value));
		check(in_pool(cfg.workdir) || !*cfg.workdir);
	}
	rt_manifest_free(&j);
}

static void reference(const uint8_t *data, size_t size)
{
	char s[1024], full[1024], fam[1024];
	struct rt_image_ref r, r2;
	struct rt_err e;

	if (size >= sizeof s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (rt_image_ref_parse(s, &r, &e) < 0)
		return;
	check(r.tag[0] || r.digest[0]);
	check(rt_image_ref_format(&r, 0, full, sizeof full, &e) == 0);
	check(rt_image_ref_parse(full, &r2, &e) == 0);
	check(!strcmp(r.name, r2.name));
	check(rt_image_ref_format(&r, 1, fam, sizeof fam, &e) == 0);
	check(rt_image_ref_parse(fam, &r2, &e) == 0 && !strcmp(r.name, r2.name));
	check(!strcmp(rt_image_familiar(full, s, sizeof s), fam));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_image_platform p;
	struct rt_err e;
	int64_t t;

	if (size < 1 || size > RT_IMAGE_JSON_MAX)
		return 0;
	switch (data[0] % 4) {
	case 0:
		documents(data + 1, size - 1);
		break;
	case 1:
		reference(data + 1, size - 1);
		break;
	case 2:
		if (size < 64) {
			memcpy(doc, data + 1, size - 1);
			doc[size - 1] = '\0';
			if (rt_image_platform_parse(doc, &p, &e) == 0)
				check(p.os[0] && p.arch[0]);
		}
		break;
	case 3:
		if (size < 128) {
			memcpy(doc, data + 1, size - 1);
			doc[size - 1] = '\0';
			rt_manifest_time(doc, &t);
		}
		break;
	}
	return 0;
}
