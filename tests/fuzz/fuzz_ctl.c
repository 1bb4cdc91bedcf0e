/* The supervisor's side of the control socket: arbitrary bytes, cut into
 * arbitrary chunks, through the frame reader and the request decoder.
 * Invariants: consumption never exceeds what was given or the frame, a
 * ready frame never exceeds the cap, errors are sticky. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[4096];
	struct rt_json_tok tok[256];
	struct rt_ctl_req q;
	struct rt_ctl_rd r;
	struct rt_err e;
	size_t pos = 0, chunk;

	if (size < 1)
		return 0;
	/* The first byte picks the chunk size, so splits are explored too. */
	chunk = (size_t)data[0] % 17 + 1;
	pos = 1;
	rt_ctl_rd_init(&r, buf, sizeof buf);
	while (pos < size) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		int in_payload = r.hlen == RT_CTL_HDR;
		size_t want = rt_ctl_want(&r);
		size_t used = rt_ctl_push(&r, data + pos, n);

		/* In the payload, push never takes bytes of the next frame. */
		if (used > n || (in_payload && used > want))
			abort();
		if (r.err) {
			if (rt_ctl_rd_check(&r, &e) >= 0 || rt_ctl_push(&r, data, size) != 0)
				abort();
			break;
		}
		if (r.ready) {
			if (r.len > r.cap)
				abort();
			if (r.type == RT_CTL_JSON &&
			    rt_ctl_req_parse(&q, (const char *)r.buf, r.len, tok, 256, &e) == 0) {
				if (q.obj && (q.obj < (const char *)r.buf ||
					      q.obj + q.objlen > (const char *)r.buf + r.len))
					abort();
				if (strlen(q.ref) >= sizeof q.ref)
					abort();
			}
			rt_ctl_rd_next(&r);
		} else if (used < n) {
			abort();
		}
		pos += used;
	}
	return 0;
}
