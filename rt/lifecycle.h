/* A container's supervision state: one explicit table of state × event →
 * action, pure (no syscalls, no clock: the caller passes "now"), so every
 * transition is tested on its own.
 *
 * Restart policies are Docker's: no | on-failure[:N] | always |
 * unless-stopped. Between crashes the delay doubles from RT_LIFE_BACKOFF0
 * up to RT_LIFE_BACKOFF_MAX, and as in s6 two starts are never less than
 * RT_LIFE_FLOOR apart unless the last run was stable (lasted at least
 * RT_LIFE_STABLE), which also resets the delay and the death tally. The
 * tally keeps the times of the last RT_LIFE_TALLY unstable deaths; when all
 * of them fall within RT_LIFE_WINDOW the container is crash-looping: it is
 * still restarted as its policy says (an appliance must come back when the
 * fault clears), but only every RT_LIFE_BACKOFF_MAX, and `rt ps` says so.
 */
#ifndef RT_LIFECYCLE_H
#define RT_LIFECYCLE_H

#include <stdint.h>

#include "err.h"

#define RT_LIFE_BACKOFF0     100      /* ms */
#define RT_LIFE_BACKOFF_MAX  60000    /* ms */
#define RT_LIFE_FLOOR        1000     /* ms between two starts */
#define RT_LIFE_STABLE       10000    /* ms of running that count as stable */
#define RT_LIFE_TALLY        5
#define RT_LIFE_WINDOW       30000    /* ms */

enum rt_life_state {
	RT_LS_CREATED,          /* never started */
	RT_LS_RUNNING,
	RT_LS_STOPPING,         /* asked to stop: SIGTERM sent, SIGKILL due */
	RT_LS_RESTARTING,       /* dead, waiting out the backoff */
	RT_LS_CRASHLOOP,        /* restarting, at the longest backoff */
	RT_LS_EXITED,           /* dead, not to be restarted */
	RT_LS_REMOVING,         /* killed, to be removed once dead */
	RT_LS_GONE,             /* removed: the caller frees the record */
};

enum rt_life_event {
	RT_LE_START,            /* user: start (or restart of a dead one) */
	RT_LE_STOP,             /* user: stop; arg = timeout in ms */
	RT_LE_RESTART,          /* user: restart; arg = timeout in ms */
	RT_LE_KILL,             /* user: kill; arg = signal */
	RT_LE_REMOVE,           /* user: rm -f (or --rm at exit) */
	RT_LE_EXIT,             /* the container's PID 1 died; arg = exit code */
	RT_LE_TIMER,            /* the deadline passed */
	RT_LE_BOOT,             /* the supervisor started with this record */
	RT_LE_SHUTDOWN,         /* the supervisor is stopping; arg = timeout */
};

enum rt_life_action {
	RT_LA_NONE,
	RT_LA_SPAWN,            /* start the process now */
	RT_LA_TERM,             /* send SIGTERM (deadline: when to SIGKILL) */
	RT_LA_KILL,             /* send SIGKILL */
	RT_LA_SIGNAL,           /* send the signal given with RT_LE_KILL */
	RT_LA_WAIT,             /* nothing now; wake at the deadline */
	RT_LA_REMOVE,           /* dead and to be removed: clean up, free */
	RT_LA_REFUSE,           /* the event makes no sense in this state */
};

enum rt_restart { RT_RESTART_NO, RT_RESTART_ON_FAILURE, RT_RESTART_ALWAYS,
		  RT_RESTART_UNLESS_STOPPED };

struct rt_policy {
	enum rt_restart kind;
	uint32_t max;           /* on-failure:N; 0 = unlimited */
};

struct rt_life {
	enum rt_life_state state;
	struct rt_policy policy;
	int autoremove;         /* --rm */
	int stopped_by_user;    /* a stop or kill: no restart, even at boot
				   for unless-stopped */
	int restart_after;      /* restart verb: spawn again once dead */
	int exit_code;          /* of the last run, Docker-style */
	uint32_t restarts;      /* automatic restarts since the user's start */
	uint32_t backoff;       /* ms, the next automatic restart's delay */
	int64_t started;        /* ms, monotonic, of the last spawn */
	int64_t deadline;       /* ms, monotonic; valid in STOPPING,
				   RESTARTING, CRASHLOOP, REMOVING */
	int64_t deaths[RT_LIFE_TALLY]; /* unstable deaths, oldest first */
	uint32_t ndeaths;
};

/* A fresh record in CREATED. */
void rt_life_init(struct rt_life *l, struct rt_policy p, int autoremove);

/* Apply event ev at time now (ms) to l; returns what the caller must do.
 * After RT_LA_SPAWN the caller spawns, and on failure feeds RT_LE_EXIT
 * with the code it gives (125-127). */
enum rt_life_action rt_life_step(struct rt_life *l, enum rt_life_event ev,
				 int64_t now, int64_t arg);

/* Whether a process exists (RUNNING, STOPPING or REMOVING). */
int rt_life_alive(const struct rt_life *l);

/* "no", "on-failure", "on-failure:N", "always", "unless-stopped". */
int rt_life_policy_parse(const char *s, struct rt_policy *p, struct rt_err *e);
/* Into buf (at least 24 bytes); returns buf. */
const char *rt_life_policy_str(struct rt_policy p, char *buf, unsigned size);

const char *rt_life_state_name(enum rt_life_state s);

#endif
