/* Inside the supervisor: what supervise.c (the loop and the containers)
 * and serve.c (the clients) share. Not an interface for anything else. */
#ifndef RT_SUPERVISE_INT_H
#define RT_SUPERVISE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "container.h"
#include "ctl.h"
#include "err.h"
#include "health.h"
#include "json.h"
#include "lifecycle.h"
#include "logring.h"
#include "sandbox.h"
#include "supervise.h"

/* What an epoll event is about: kind in the high 32 bits, index below. */
enum { K_LISTEN = 1, K_SIG, K_TIMER, K_CONN, K_OUT, K_WDOG, K_NET, K_HEALTH };
#define EVD(k, i) ((uint64_t)(k) << 32 | (uint32_t)(i))

/* A container's health check as the loop runs it (supervise_health.c). */
enum { HC_IDLE, HC_PROBING, HC_KILLING };
struct sup_health {
	struct rt_health h;
	int phase;              /* HC_*: waiting for the next check, a check
				   running, the unhealthy app being stopped */
	pid_t pid;              /* the running check, 0 */
	int out;                /* its output pipe, -1 */
	int64_t deadline;       /* ms, monotonic: next check, the check's
				   timeout, or SIGKILL; -1: none */
	struct rt_health_result cur;
};

struct ctr {
	int used, gone, refs;   /* gone: removed, freed when refs drops to 0 */
	struct rt_ctr_meta m;
	char *rec;              /* stored record; the log ring follows it */
	size_t reclen;
	const char *conf;       /* the config object inside rec */
	size_t conflen;
	struct rt_life life;
	struct rt_logring ring;
	struct rt_sandbox_proc proc;   /* pid 0: not running */
	int out[2];             /* stdout, stderr read ends; with a tty, out[0]
				   is the pty master and out[1] is -1 */
	int polled[2];          /* out[i] is in the epoll set */
	int tty_client;         /* conn holding the pty master, -1 */
	int stdin_w;            /* -i without -t: the write end of the
				   container's stdin pipe, held (stdin stays
				   open) until an attached client takes it or
				   the run ends */
	int stdin_want;         /* the next spawn gets a stdin pipe */
	int64_t started, finished;  /* ns since the epoch */
	int ran;
	int reaped, reaped_code;   /* PID 1 died, its output not all read */
	char error[200];        /* why the last spawn failed */
#ifdef CONFIG_HEALTHCHECK
	struct sup_health hc;
#endif
};

struct sup_state {
	const struct rt_sup_cfg *cfg;
	int ep, sfd, tfd, lfd, rootfd, wfd;
	int stopping, stop_sig;
	uid_t uid;
};

extern struct sup_state sup;
extern struct ctr sup_ctrs[RT_SUP_MAX_CONTAINERS];
/* The spec of the last sup_build_spec(); its strings live until the next. */
extern struct rt_sandbox_spec sup_spec;

/* supervise.c */
int64_t sup_real_ns(void);
int64_t sup_mono_ms(void);
void sup_fmt_time(int64_t ns, char *buf, size_t cap);     /* RFC 3339, ns */
void sup_ep_set(int op, int fd, uint32_t events, uint64_t data);
void sup_xclose(int *fd);
/* A slot for a stored record (parsed and checked again here). */
int sup_ctr_alloc(const char *rec, size_t len, struct rt_err *e);
void sup_ctr_free(int ci);
void sup_ctr_unref(int ci);
int sup_ctr_visible(int ci);
int sup_ctr_find(const char *ref, struct rt_err *e);
int sup_name_taken(const char *name);
void sup_out_poll(int ci, int k, int on);
int sup_build_spec(int ci, char *sdir, size_t cap, struct rt_err *e);
int sup_spawn_code(const struct rt_err *e);
/* Feed ev to the container's state machine and carry out the action;
 * err (may be NULL) gets why a start failed or was refused. */
void sup_ctr_event(int ci, enum rt_life_event ev, int64_t arg, struct rt_err *err);

/* Signal the container's PID 1 (through its pidfd when there is one). */
void sup_ctr_signal(int ci, int sig);

/* supervise_health.c (CONFIG_HEALTHCHECK) */
void sup_health_started(int ci);        /* the container's PID 1 runs */
void sup_health_stopped(int ci);        /* it died, or the record goes */
int64_t sup_health_deadline(int ci);    /* ms, or -1 */
void sup_health_timer(int ci, int64_t now);
void sup_health_output(int ci);         /* the check's pipe is readable */
int sup_health_reaped(pid_t pid, int status);
const char *sup_health_status(int ci);  /* "" without a check */
void sup_health_json(int ci, struct rt_json_w *w);  /* State.Health */

/* serve.c */
void sup_serve_init(void);
size_t sup_read_budget(int ci);         /* bytes readable without loss */
void sup_notify_output(int ci);         /* new data in the ring */
void sup_notify_end(int ci, int final); /* a run ended (final: for good) */
int sup_exec_reaped(pid_t pid, int status);
void sup_conn_accept(void);
void sup_conn_input(int i, uint32_t events);
void sup_conn_close(int i);

#endif
