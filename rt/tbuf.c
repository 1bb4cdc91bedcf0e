#include <stdarg.h>
#include <stdio.h>

#include "tbuf.h"

void rt_tb_printf(struct rt_tb *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->bad)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len)
		t->bad = 1;
	else
		t->len += (size_t)n;
}
