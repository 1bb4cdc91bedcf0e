/* The error contract.
 *
 * A function that can fail takes a `struct rt_err *` as its last argument and
 * returns < 0 on failure (NULL for pointers), having filled the error with
 * rt_err_set(). Callers that add meaning prepend context with rt_err_wrap()
 * and return < 0 again. Only the verb (cli.c, mkimage's main) prints, once:
 *
 *     rt: <verb>: <context>: <what>: <strerror(errnum)>
 *
 * The record is fixed-size so PID 1 can use it without allocating. Library
 * code never prints and never exits. A message that does not fit is cut at
 * the end, which keeps the outermost context (the most useful part) whole.
 */
#ifndef RT_ERR_H
#define RT_ERR_H

#include <stddef.h>

#define RT_ERR_MSG 320

struct rt_err {
	int errnum;             /* errno-style cause, 0 when none */
	char msg[RT_ERR_MSG];   /* "context: what", without strerror */
};

/* Fill e with a formatted message and errnum; returns -1. */
int rt_err_set(struct rt_err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, with errnum = errno at the time of the call; returns -1. */
int rt_err_sys(struct rt_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prepend "context: " to e's message; returns -1. */
int rt_err_wrap(struct rt_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "msg: strerror(errnum)" (or just msg) into buf; returns buf. */
const char *rt_err_str(const struct rt_err *e, char *buf, size_t len);

void rt_err_clear(struct rt_err *e);

#endif
