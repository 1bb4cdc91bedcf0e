/* The registry's local inputs: registries.conf, auth.json and PEM bundles
 * (the first input byte picks which). None may crash or run past a
 * buffer; a CA table that fills up is an error, not an overflow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rt_registry_conf c;
	static br_x509_trust_anchor ta[4];
	static uint8_t arena[4096];
	struct rt_tls_anchors a;
	struct rt_err e;
	char out[1024];
	size_t i;
	int r;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (rt_registry_conf_parse(&c, (const char *)data + 1, size - 1, &e) == 0) {
			if (c.n > RT_REGISTRY_CONF_MAX || c.bundle[0] != '/')
				abort();
			for (i = 0; i < c.n; i++)
				if (!c.r[i].host[0] || (c.r[i].ca[0] && c.r[i].ca[0] != '/'))
					abort();
		}
		break;
	case 1:
		r = rt_registry_auth_find((const char *)data + 1, size - 1, "reg.example:5000", out,
					  sizeof out, &e);
		if (r == 1 && (strncmp(out, "Basic ", 6) != 0 || strlen(out) >= sizeof out))
			abort();
		break;
	default:
		rt_tls_anchors_init(&a, ta, 4, arena, sizeof arena);
		r = rt_tls_anchors_add_pem(&a, data + 1, size - 1, &e);
		if (r < 0 ? a.n != 0 || a.used != 0 : (size_t)r != a.n || a.used > sizeof arena)
			abort();
		for (i = 0; i < a.n; i++)
			if (ta[i].dn.data < arena || ta[i].dn.data + ta[i].dn.len > arena + sizeof arena)
				abort();
		break;
	}
	return 0;
}
