/* The supervisor: one single-threaded event loop (epoll over a signalfd, a
 * timerfd, the control socket, the clients and the containers' output)
 * that owns every container record, spawns containers through the
 * sandbox, reaps every child and orphan, applies restart policies (see
 * lifecycle.h), keeps output in log rings and answers the control
 * protocol (see ctl.h).
 *
 * PID 1 runs it too, so after start-up it allocates only when a container
 * is created (its record and log ring, one block, bounded by
 * RT_SUP_MAX_CONTAINERS) and frees it at removal; every other table is
 * sized at start. No input from a client can make it exit. */
#ifndef RT_SUPERVISE_H
#define RT_SUPERVISE_H

#include "err.h"
#include "kconfig.h"

#define RT_SUP_MAX_CONTAINERS CONFIG_MAX_CONTAINERS
#define RT_SUP_MAX_CLIENTS 32
#define RT_SUP_MAX_EXECS 16

struct rt_sup_cfg {
	const char *root;       /* persistent store (containers/, volumes/) */
	const char *run;        /* volatile state (rt.sock, containers/) */
	int subreaper;          /* not PID 1: become the orphans' reaper */
};

/* The boot configuration: one app file per container (conf.h). */
#define RT_SUP_APPS_DIR "/etc/rt/apps"

/* Before rt_supervise(): where the app files are (default
 * RT_SUP_APPS_DIR). When that directory exists, the loop runs `rt reload`
 * in a child once it listens, and again on SIGHUP. */
void rt_supervise_apps(const char *dir);

/* Before rt_supervise(): ping the open watchdog fd every period_s seconds
 * (0: 10) from the loop (CONFIG_WATCHDOG), so a board whose loop stops
 * turning is reset by the hardware. The fd stays the caller's. */
void rt_supervise_watchdog(int fd, unsigned period_s);

/* Run until SIGTERM, SIGINT, SIGUSR1, SIGUSR2 or SIGPWR: then stop every
 * container (SIGTERM, SIGKILL after its stop timeout) and return that
 * signal's number. -1 with e when the loop cannot start (socket in use,
 * store unreadable). The caller's signal mask is replaced: every signal
 * the loop handles is blocked and read from a signalfd. */
int rt_supervise(const struct rt_sup_cfg *cfg, struct rt_err *e);

#endif
