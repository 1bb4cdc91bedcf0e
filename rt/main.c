/* rt: one multi-call binary. As PID 1, or called as "init", it boots the
 * system; otherwise argv[1] names a verb. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "init.h"
#include "sandbox.h"
#include "config.h"

#ifdef CONFIG_INIT
static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}
#endif

/* Global options stop at the first word that is not one of them. */
static int global_opts(struct rt_opts *o, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((!strcmp(a, "--root") || !strcmp(a, "--run")) && i + 1 < argc) {
			if (a[2] == 'r' && a[3] == 'o')
				o->root = argv[++i];
			else
				o->run = argv[++i];
		} else if (!strncmp(a, "--root=", 7)) {
			o->root = a + 7;
		} else if (!strncmp(a, "--run=", 6)) {
			o->run = a + 6;
		} else if (!strcmp(a, "--root") || !strcmp(a, "--run")) {
			return -1;
		} else {
			break;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	struct rt_opts o = { CONFIG_RT_ROOT, CONFIG_RT_RUN };
	const struct rt_verb *v;
	int i;

#ifdef CONFIG_INIT
	if (getpid() == 1 || !strcmp(base(argv[0]), "init"))
		return rt_init_main(argc, argv);
#endif
	i = global_opts(&o, argc, argv);
	if (i < 0)
		return rt_cli_fail("rt", RT_EXIT_USAGE, "%s needs a directory", argv[argc - 1]);
	if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
		rt_cli_usage(i >= argc);
		return i >= argc ? RT_EXIT_USAGE : RT_EXIT_OK;
	}
	if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v"))
		argv[i] = "version";
	/* The process that forks containers runs from a sealed in-memory copy
	   of rt, so no container can ever reach rt's binary (CVE-2019-5736);
	   this execs once, and carries on unsealed if it cannot. */
	if (!strcmp(argv[i], "daemon")) {
		extern char **environ;
		struct rt_err e;

		if (rt_sandbox_seal_exe(argv, environ, &e) < 0)
			fprintf(stderr, "rt: daemon: %s; running unsealed\n", e.msg);
	}
	v = rt_cli_find(argv[i]);
	if (!v)
		return rt_cli_fail("rt", RT_EXIT_USAGE,
				   "'%s' is not an rt command; see 'rt --help'", argv[i]);
	return v->fn(&o, argc - i, argv + i);
}
