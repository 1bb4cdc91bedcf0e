#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static void vset(struct rt_err *e, int errnum, const char *fmt, va_list ap)
{
	e->errnum = errnum;
	/* Truncation is acceptable here only: the record is a message. */
	if (vsnprintf(e->msg, sizeof e->msg, fmt, ap) < 0)
		e->msg[0] = '\0';
}

int rt_err_set(struct rt_err *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int rt_err_sys(struct rt_err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(e, saved, fmt, ap);
	va_end(ap);
	return -1;
}

int rt_err_wrap(struct rt_err *e, const char *fmt, ...)
{
	char ctx[RT_ERR_MSG], old[RT_ERR_MSG];
	va_list ap;

	memcpy(old, e->msg, sizeof old);
	old[sizeof old - 1] = '\0';
	va_start(ap, fmt);
	if (vsnprintf(ctx, sizeof ctx, fmt, ap) < 0)
		ctx[0] = '\0';
	va_end(ap);
	if (snprintf(e->msg, sizeof e->msg, "%s: %s", ctx, old) < 0)
		e->msg[0] = '\0';
	return -1;
}

const char *rt_err_str(const struct rt_err *e, char *buf, size_t len)
{
	if (e->errnum)
		snprintf(buf, len, "%s: %s", e->msg, strerror(e->errnum));
	else
		snprintf(buf, len, "%s", e->msg);
	return buf;
}

void rt_err_clear(struct rt_err *e)
{
	e->errnum = 0;
	e->msg[0] = '\0';
}
