/* What `rt run` knows, for the verbs that start containers from other
 * sources than a command line (reload: the boot configuration's app
 * files, which are run's flags written down). */
#ifndef RT_CLI_RUN_H
#define RT_CLI_RUN_H

#include "cli.h"
#include "json.h"

/* Parse a run command line (argv[0] is "run") and build its create
 * request into w, marked as an app's when app is set, exactly as `rt run`
 * would send it. Returns 0, or the exit code after printing the error. */
int rt_run_build(const struct rt_opts *o, int argc, char **argv, int app,
		 struct rt_json_w *w, const char *verb);

#endif
