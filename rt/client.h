/* The CLI's end of the control connection (see ctl.h for the protocol),
 * shared by the verb files cli_*.c. Everything here prints its own error
 * as "rt: VERB: ..." and returns Docker's exit code, so a verb calls it
 * and returns what it got. One request at a time per process: replies are
 * parsed into static buffers, valid until the next read. */
#ifndef RT_CLIENT_H
#define RT_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "ctl.h"
#include "err.h"
#include "json.h"

/* Docker-style flags: -abc clusters, -e V / -eV, --name V / --name=V,
 * --flag=false, "--" ends the flags. */
struct opt {
	char sh;                /* short letter, 0: none */
	const char *lng;        /* long name without "--", NULL: none */
	int arg;                /* takes a value */
};

struct optp {
	int argc, i;            /* i: next argument (start at 1) */
	char **argv;
	const char *rest;       /* rest of a cluster of short flags */
	const char *verb;       /* for messages */
	int interspersed;       /* positionals may come between flags... */
	char **pos;             /* ...and are collected here (argc slots) */
	int npos;
};

#define NOPTS(o) (sizeof(o) / sizeof((o)[0]))
/* A boolean flag given as --x=false is off. */
#define ON(v) (!(v) || strcmp((v), "false"))

/* Next flag: its index in opts; -1 at the end (positionals start at p->i,
 * or are in p->pos); -2 after printing a usage error. */
int rt_client_opt(struct optp *p, const struct opt *opts, size_t nopts, const char **val);

/* Decimal, no sign, no overflow. */
int rt_client_u64(const char *s, uint64_t *out);

/* Connect to RUN/rt.sock; -1 after saying how to start a supervisor. */
int rt_client_dial(const struct rt_opts *o, const char *verb);

/* Start a request {"op":op[,"id":ref] in the shared buffer; the caller
 * adds members and closes the object. */
void rt_client_req(struct rt_json_w *w, const char *op, const char *ref);
void rt_client_strs(struct rt_json_w *w, const char *key, char *const *v, int n);

int rt_client_send(int fd, struct rt_json_w *w, const int *fds, int nfds, const char *verb);

/* Read frames until a JSON one into j; data frames met on the way go to
 * our stdout/stderr. */
void rt_client_rd(struct rt_ctl_rd *r);
int rt_client_read(int fd, struct rt_ctl_rd *r, struct rt_json *j, int *fds, int *nfds,
		   const char *verb);

/* 0 for {"ok":true}; else prints the reply's error, returns its code. */
int rt_client_status(const struct rt_json *j, const char *verb);

/* The code of {"exit":N} or {"exit_code":N}; 0 when neither. */
int rt_client_exit(const struct rt_json *j, int64_t *code);

/* Send w (with fds), read the reply into j; returns the exit code. */
int rt_client_call(int fd, struct rt_json_w *w, const int *fds, int nfds, struct rt_json *j,
		   const char *verb);

/* One request per container named in refs, each echoed on success. */
int rt_client_each(const struct rt_opts *o, const char *verb, const char *op, char **refs, int n,
		   void (*extra)(struct rt_json_w *, const void *), const void *arg, int echo);

/* Start ref attached on fd: stream its output (forwarding our signals to
 * it) or relay its terminal; returns its exit code. */
int rt_client_attach(const struct rt_opts *o, int fd, const char *ref, int interactive,
		     int tty, const char *verb);

/* Relay the terminal master (then closed) until it hangs up, then read
 * the exit code from fd. */
int rt_client_tty(int fd, int master, int interactive, const char *verb);

/* exec without -t: relay the process's stdout and stderr pipes to ours
 * and our stdin into in (its stdin's write end, or -1), all closed here,
 * until fd brings {"exit":N}; returns N. */
int rt_client_pipes(int fd, int out, int err, int in, const char *verb);

/* mkdir -p of an absolute path the administrator gave (symlinks in it
 * are followed); returns an O_DIRECTORY fd. */
int rt_client_mkdir_p(const char *path, mode_t mode, struct rt_err *e);

#endif
