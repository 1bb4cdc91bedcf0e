#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kconfig.h"

/* What this binary was built with, for `rt version` and `rt info`. */
static const struct { const char *name; int on; } features[] = {
	{ "init", IS_ENABLED(CONFIG_INIT) },
	{ "gzip", IS_ENABLED(CONFIG_GZIP) },
	{ "signatures", IS_ENABLED(CONFIG_SIGNATURES) },
	{ "require-signature", IS_ENABLED(CONFIG_REQUIRE_SIGNATURE) },
	{ "update", IS_ENABLED(CONFIG_UPDATE) },
	{ "healthcheck", IS_ENABLED(CONFIG_HEALTHCHECK) },
	{ "keep-blobs", IS_ENABLED(CONFIG_KEEP_BLOBS) },
	{ "debug", IS_ENABLED(CONFIG_DEBUG) },
};

int rt_cli_fail(const char *verb, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!strcmp(verb, "rt"))
		fprintf(stderr, "rt: %s\n", msg);
	else
		fprintf(stderr, "rt: %s: %s\n", verb, msg);
	return code;
}

static int verb_version(const struct rt_opts *o, int argc, char **argv)
{
	size_t i;

	(void)o;
	(void)argv;
	if (argc > 1)
		return rt_cli_fail("version", RT_EXIT_USAGE, "takes no arguments");
	printf("rt version %s%s%s\n", RT_VERSION, *RT_GIT_REV ? " " : "", RT_GIT_REV);
	printf("board:    %s (%s)\n", CONFIG_BOARD, RT_ARCH);
	printf("features:");
	for (i = 0; i < sizeof features / sizeof features[0]; i++)
		printf(" %c%s", features[i].on ? '+' : '-', features[i].name);
	printf("\n");
	return RT_EXIT_OK;
}

const struct rt_verb rt_verbs_base[] = {
	{ "version", verb_version, "", "Show the version, board and features" },
	{ NULL, NULL, NULL, NULL },
};

static const struct rt_verb *const groups[] = {
	rt_verbs_base,
	rt_verbs_info,
	rt_verbs_run,
	rt_verbs_container,
	rt_verbs_volume,
#ifdef CONFIG_NET_BRIDGE
	rt_verbs_network,
#endif
	rt_verbs_reload,
	rt_verbs_image,
#ifdef CONFIG_PULL
	rt_verbs_pull,
#endif
#ifdef CONFIG_UPDATE
	rt_verbs_update,
#endif
};

const struct rt_verb *rt_cli_find(const char *name)
{
	const struct rt_verb *v;
	size_t g;

	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (v = groups[g]; v->name; v++)
			if (!strcmp(v->name, name))
				return v;
	return NULL;
}

void rt_cli_usage(int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	const struct rt_verb *v;
	size_t g;

	fprintf(f, "Usage: rt [--root DIR] [--run DIR] COMMAND [ARGS]\n\nCommands:\n");
	for (g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (v = groups[g]; v->name; v++)
			fprintf(f, "  %-10s %s\n", v->name, v->help);
}
