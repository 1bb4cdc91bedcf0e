/* The /etc/passwd and /etc/group scanner on hostile bytes. The first two
 * bytes pick the push size and the query; the result must not depend on
 * how the file was cut into pushes, and must stay within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rt_user_scan whole, parts;

static void scan(struct rt_user_scan *sc, uint8_t sel, const uint8_t *d, size_t n, size_t step)
{
	struct rt_err e;
	size_t off = 0;

	rt_user_scan_init(sc, (sel & 1) ? RT_USER_GROUP : RT_USER_PASSWD,
			  (sel & 2) ? "alice" : NULL, (sel & 4) ? 1000 : 0,
			  (sel & 8) ? "alice" : NULL);
	while (off < n) {
		size_t k = n - off < step ? n - off : step;
		size_t used = rt_user_scan_push(sc, (const char *)d + off, k);

		if (used != k && (used != 0 || !sc->err))
			abort();
		if (used == 0)
			break;
		off += k;
	}
	rt_err_clear(&e);
	if ((rt_user_scan_end(sc, &e) < 0) != (sc->err != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t step, sel;
	int i;

	if (size < 2)
		return 0;
	step = data[0] ? data[0] : 1;
	sel = data[1];
	data += 2;
	size -= 2;
	scan(&whole, sel, data, size, size ? size : 1);
	scan(&parts, sel, data, size, step);
	if (whole.err != parts.err || whole.found != parts.found || whole.ngroups != parts.ngroups)
		abort();
	if (whole.ngroups < 0 || whole.ngroups > RT_USER_MAX_GROUPS)
		abort();
	for (i = 0; i < whole.ngroups; i++)
		if (whole.groups[i] != parts.groups[i] || whole.groups[i] == UINT32_MAX)
			abort();
	if (whole.found) {
		if (whole.found_id != parts.found_id || whole.found_gid != parts.found_gid ||
		    strcmp(whole.found_name, parts.found_name) || strcmp(whole.home, parts.home))
			abort();
		if (!whole.found_name[0] || whole.found_id == UINT32_MAX ||
		    memchr(whole.found_name, '\0', sizeof whole.found_name) == NULL ||
		    memchr(whole.home, '\0', sizeof whole.home) == NULL)
			abort();
		if ((sel & 2) && strcmp(whole.found_name, "alice"))
			abort();
	}
	return 0;
}
