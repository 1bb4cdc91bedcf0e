/* App files: any bytes give an argv that is NULL-terminated, within the
 * bounds, made of strings inside the arena, or an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rt_conf_app a;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_err e;
	int i;

	if (rt_conf_parse(&a, "app", (const char *)data, size, &e) < 0)
		return 0;
	if (a.argc < 5 || a.argc > RT_CONF_ARGS || a.argv[a.argc] || !a.image)
		abort();
	for (i = 0; i < a.argc; i++)
		if (a.argv[i] < a.arena || a.argv[i] >= a.arena + sizeof a.arena ||
		    strnlen(a.argv[i], sizeof a.arena) >= sizeof a.arena)
			abort();
	return 0;
}
