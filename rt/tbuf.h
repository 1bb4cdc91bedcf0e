/* Text built up in a caller's fixed buffer (hosts files, resolv.conf,
 * nftables rule text): printf-style appends, and an overflow remembered
 * in `bad` so the caller refuses the whole text instead of using a cut
 * one. */
#ifndef RT_TBUF_H
#define RT_TBUF_H

#include <stddef.h>

struct rt_tb {
	char *p;
	size_t cap, len;
	int bad;
};

void rt_tb_printf(struct rt_tb *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
