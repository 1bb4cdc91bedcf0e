/* A client's container config, as the supervisor checks it: whatever
 * rt_ctr_check() accepts must store, load back identically and turn into
 * a sandbox spec and an exec without error, since PID 1 does all of that
 * later with no one to report to. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char rec[RT_CTR_REC_MAX + 512], arena[RT_CTR_REC_MAX + 8192];
	static struct rt_sandbox_spec s;
	static struct rt_sandbox_exec x;
	static const char xo[] = "{\"cmd\":[\"sh\"],\"env\":[\"A=1\"]}";
	struct rt_ctr_meta m, m2;
	struct rt_err e;
	const char *conf;
	size_t conflen;
	int n;

	if (rt_ctr_check((const char *)data, size, &m, &e) < 0)
		return 0;
	memset(m.id, 'a', RT_CTR_ID);
	m.id[RT_CTR_ID] = '\0';
	if (!m.name[0])
		strcpy(m.name, "fuzz");
	n = rt_ctr_record(&m, (const char *)data, size, rec, sizeof rec, &e);
	if (n < 0)
		return 0;       /* only when the record outgrows its cap */
	if (rt_ctr_parse_record(rec, (size_t)n, &m2, &conf, &conflen, &e) < 0)
		abort();
	if (strcmp(m2.name, m.name) || strcmp(m2.cmd, m.cmd) || m2.policy.kind != m.policy.kind ||
	    m2.policy.max != m.policy.max || m2.autoremove != m.autoremove || m2.tty != m.tty)
		abort();
	if (rt_ctr_spec(&m2, conf, conflen, &s, arena, sizeof arena, &e) < 0)
		abort();
	if (s.nlayers < 1 || !s.argv[0] || s.layers[0][0] != '/')
		abort();
	if (rt_ctr_exec(conf, conflen, xo, sizeof xo - 1, &x, arena, sizeof arena, &e) < 0)
		abort();
	return 0;
}
