/* rt pull NAME[:TAG|@DIGEST]: the registry as an image source for the
 * store's loader, with Docker's output. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image.h"
#include "kconfig.h"
#include "registry.h"
#include "store.h"

struct pull {
	bool quiet, tty;
	char line[16];          /* short id of the blob in progress */
	uint64_t last_ms, shown;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Docker's sizes: decimal units, one decimal, integers only. */
static const char *human(uint64_t n, char *buf, size_t cap)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	uint64_t div = 1;
	unsigned u = 0;

	while (u < 4 && n / div >= 1000) {
		div *= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%lluB", (unsigned long long)n);
	else
		snprintf(buf, cap, "%llu.%llu%s", (unsigned long long)(n / div),
			 (unsigned long long)(n % div * 10 / div), unit[u]);
	return buf;
}

static void short_id(const char *digest, char out[16])
{
	snprintf(out, 16, "%.12s", digest + 7);
}

static void on_start(void *arg, const char *digest, uint64_t size)
{
	struct pull *p = arg;
	char s[24];

	short_id(digest, p->line);
	p->last_ms = now_ms();
	p->shown = 0;
	if (!p->quiet && p->tty) {
		printf("%s: Downloading %s\033[K\r", p->line, human(size, s, sizeof s));
		fflush(stdout);
	}
}

static void on_bytes(void *arg, const char *digest, uint64_t done, uint64_t size)
{
	struct pull *p = arg;
	uint64_t t = now_ms();
	char a[24], b[24], c[24];

	(void)digest;
	if (p->quiet)
		return;
	/* "Pull complete" comes once the layer is committed (on_layer) */
	if (done == size) {
		if (p->tty) {
			printf("%s: Download complete\033[K\r", p->line);
			fflush(stdout);
		}
		return;
	}
	if (!p->tty || t - p->last_ms < 200)
		return;
	printf("%s: Downloading %s/%s %s/s\033[K\r", p->line, human(done, a, sizeof a),
	       human(size, b, sizeof b),
	       human((done - p->shown) * 1000 / (t - p->last_ms ? t - p->last_ms : 1), c, sizeof c));
	fflush(stdout);
	p->last_ms = t;
	p->shown = done;
}

static void on_resume(void *arg, const char *digest, uint64_t from, unsigned attempt)
{
	struct pull *p = arg;
	char s[24];

	(void)digest;
	p->shown = from;
	if (p->quiet)
		return;
	if (attempt)
		printf("%s: Resuming at %s (retry %u)%s\n", p->line, human(from, s, sizeof s),
		       attempt, p->tty ? "\033[K" : "");
	else    /* what an earlier, interrupted pull left */
		printf("%s: Resuming at %s%s\n", p->line, human(from, s, sizeof s),
		       p->tty ? "\033[K" : "");
	fflush(stdout);
}

/* One line per layer, as docker pull prints them. */
static void on_layer(void *arg, const char *digest, int what)
{
	struct pull *p = arg;
	char id[16];

	if (p->quiet)
		return;
	short_id(digest, id);
	printf("%s: %s%s\n", id, what == RT_IMAGE_LAYER_EXISTS ? "Already exists" : "Pull complete",
	       p->tty ? "\033[K" : "");
	fflush(stdout);
}

static int usage(void)
{
	return rt_cli_fail("pull", RT_EXIT_USAGE,
			   "usage: rt pull [-q] [--platform OS/ARCH[/VARIANT]] NAME[:TAG|@DIGEST]");
}

static int verb_pull(const struct rt_opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "platform", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pull p = { 0 };
	struct rt_registry_progress prog = { on_start, on_bytes, on_resume, &p };
	struct rt_image_platform plat;
	struct rt_image_load_opts lo = { 0 };
	struct rt_image_ref ref;
	struct rt_image_want want;
	struct rt_image_src src;
	struct rt_registry *reg = NULL;
	struct rt_store store;
	struct rt_err e;
	char full[RT_STORE_REF_MAX + RT_SHA256_STR], fam[sizeof full];
	const char *what;
	bool have_plat = false, store_open = false;
	int c, rc = RT_EXIT_FAIL;

	rt_err_clear(&e);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			p.quiet = true;
			break;
		case 'P':
			if (rt_image_platform_parse(optarg, &plat, &e) < 0)
				return rt_cli_fail("pull", RT_EXIT_USAGE, "--platform: %s", e.msg);
			have_plat = true;
			break;
		case 'h':
			printf("Usage: rt pull [-q] [--platform OS/ARCH[/VARIANT]] NAME[:TAG|@DIGEST]\n");
			return RT_EXIT_OK;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	/* A build that promises to require signatures but cannot check them
	 * refuses rather than lets images in. */
	if (!rt_image_trust_hook && IS_ENABLED(CONFIG_REQUIRE_SIGNATURE))
		return rt_cli_fail("pull", RT_EXIT_FAIL,
				   "signatures are required, but this rt cannot check them");
	p.tty = isatty(STDOUT_FILENO);
	if (rt_image_ref_parse(argv[optind], &ref, &e) < 0)
		goto fail;
	if (!ref.tag[0] && !ref.digest[0])
		snprintf(ref.tag, sizeof ref.tag, "latest");
	if (rt_image_ref_format(&ref, 0, full, sizeof full, &e) < 0)
		goto fail;
	rt_image_familiar(full, fam, sizeof fam);
	if (!strchr(strrchr(argv[optind], '/') ? strrchr(argv[optind], '/') : argv[optind], ':') &&
	    !strchr(argv[optind], '@') && !p.quiet)
		printf("Using default tag: latest\n");

	reg = rt_registry_new(ref.name, NULL, &prog, &e);
	if (!reg) {
		rt_err_wrap(&e, "%s", fam);
		goto fail;
	}
	what = ref.digest[0] && !ref.tag[0] ? ref.digest : ref.tag;
	if (!p.quiet) {
		printf("%s: Pulling from %s\n", what, strchr(ref.name, '/') + 1);
		fflush(stdout);
	}
	/* A tag with a digest: the digest pins what is fetched. */
	if (rt_registry_resolve(reg, ref.digest[0] ? ref.digest : ref.tag, &want, &e) < 0) {
		rt_err_wrap(&e, "%s", fam);
		goto fail;
	}
	if (ref.tag[0])
		snprintf(want.name, sizeof want.name, "%s:%s", ref.name, ref.tag);

	if (rt_store_open(&store, o->root, RT_STORE_SHARED, &e) < 0)
		goto fail;
	store_open = true;
	rt_registry_set_store(reg, &store);
	rt_registry_src(reg, &src);
	if (rt_unpack_limits(&lo.lim, getenv("RT_LIMITS"), &e) < 0)
		goto fail;
	lo.platform = have_plat ? &plat : NULL;
	lo.layer = on_layer;
	lo.arg = &p;
	/* The same signature policy as `rt load` (weak: absent without
	 * signature support). */
	if (rt_image_trust_hook && rt_image_trust_hook(o->root, &lo, &e) < 0)
		goto fail;
	if (rt_image_load(&store, &src, &want, 1, &lo, &e) < 0)
		goto fail;
	if (!p.quiet) {
		printf("Digest: %s\n", want.digest);
		printf("Status: %s for %s\n",
		       rt_registry_blob_bytes(reg) ? "Downloaded newer image" : "Image is up to date",
		       fam);
	}
	printf("%s\n", full);
	rc = RT_EXIT_OK;
	goto out;
fail:
	if (!p.quiet && p.tty)
		printf("\033[K");
	fflush(stdout);
	{
		char msg[RT_ERR_MSG + 128];

		rt_cli_fail("pull", RT_EXIT_FAIL, "%s", rt_err_str(&e, msg, sizeof msg));
	}
out:
	if (store_open)
		rt_store_close(&store);
	rt_registry_free(reg);
	return rc;
}

const struct rt_verb rt_verbs_pull[] = {
	{ "pull", verb_pull, "[-q] [--platform P] NAME[:TAG|@DIGEST]",
	  "Download an image from a registry" },
	{ NULL, NULL, NULL, NULL },
};
