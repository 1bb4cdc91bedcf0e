/* The command-line verbs. Each verb parses its own flags, calls one library
 * function, prints the error once and returns Docker's exit code. */
#ifndef RT_CLI_H
#define RT_CLI_H

/* Exit codes, as Docker's. */
enum {
	RT_EXIT_OK = 0,
	RT_EXIT_FAIL = 1,
	RT_EXIT_USAGE = 2,
	RT_EXIT_RT = 125,       /* rt's own error */
	RT_EXIT_CANNOT = 126,   /* command cannot be invoked */
	RT_EXIT_NOTFOUND = 127, /* command not found */
};

/* Options that come before the verb. */
struct rt_opts {
	const char *root;   /* persistent store */
	const char *run;    /* volatile state */
};

struct rt_verb {
	const char *name;
	int (*fn)(const struct rt_opts *o, int argc, char **argv);
	const char *usage;  /* arguments after the verb */
	const char *help;   /* one line */
};

/* Verb tables, one per area (cli_<area>.c), each ended by { NULL }.
 * cli.c lists them; a new area adds its table there. */
extern const struct rt_verb rt_verbs_base[];
extern const struct rt_verb rt_verbs_info[];        /* cli_info.c */
extern const struct rt_verb rt_verbs_run[];         /* cli_run.c */
extern const struct rt_verb rt_verbs_container[];   /* cli_container.c */
extern const struct rt_verb rt_verbs_volume[];      /* cli_volume.c */
extern const struct rt_verb rt_verbs_network[];     /* cli_network.c */
extern const struct rt_verb rt_verbs_reload[];      /* cli_reload.c */
extern const struct rt_verb rt_verbs_image[];       /* cli_image.c */
extern const struct rt_verb rt_verbs_pull[];        /* cli_pull.c */
extern const struct rt_verb rt_verbs_update[];      /* cli_update.c */

/* NULL when there is no such verb. */
const struct rt_verb *rt_cli_find(const char *name);
void rt_cli_usage(int to_stderr);

/* Print "rt: VERB: MSG" on stderr; returns code. */
int rt_cli_fail(const char *verb, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
