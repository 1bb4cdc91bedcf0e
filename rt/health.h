/* A container's health: Docker's HEALTHCHECK semantics as a small pure
 * state machine (no syscalls, no clock: the caller passes times), so
 * every rule is tested on its own. The supervisor runs the check itself
 * (see supervise_health.c) and feeds each result here.
 *
 * Rules (Docker's): after every start the status is "starting" and the
 * failing streak 0. A check that exits 0 makes it "healthy" and resets
 * the streak. Any other result (a non-zero exit, a check killed at its
 * timeout, one that could not be started) adds one to the streak, except
 * while the container is in its start period and not yet healthy; once
 * the streak reaches retries the status is "unhealthy". A success
 * recovers from "unhealthy". The last RT_HEALTH_LOG results are kept
 * (across restarts, as Docker does), each with the first RT_HEALTH_OUT
 * bytes of the check's output. When the container stops, its status
 * reads "unhealthy" until the next start. Everything is fixed-size. */
#ifndef RT_HEALTH_H
#define RT_HEALTH_H

#include <stdint.h>

#define RT_HEALTH_LOG 5
#define RT_HEALTH_OUT 128               /* bytes of output kept a result */
/* Docker's defaults, in ms. */
#define RT_HEALTH_INTERVAL_DEF 30000
#define RT_HEALTH_TIMEOUT_DEF  30000
#define RT_HEALTH_RETRIES_DEF  3
/* Bounds for configured values: a day, and a million retries. */
#define RT_HEALTH_MS_MAX       86400000
#define RT_HEALTH_RETRIES_MAX  1000000

enum rt_health_status { RT_HS_NONE, RT_HS_STARTING, RT_HS_HEALTHY, RT_HS_UNHEALTHY };

struct rt_health_cfg {
	uint32_t interval_ms, timeout_ms, start_ms;   /* interval, timeout > 0 */
	uint32_t retries;                             /* > 0 */
};

struct rt_health_result {
	int64_t start, end;             /* ns since the epoch */
	int code;                       /* exit code; -1: killed at the timeout */
	uint32_t outlen;
	char out[RT_HEALTH_OUT];
};

struct rt_health {
	enum rt_health_status status;   /* RT_HS_NONE: never started */
	uint32_t streak;                /* consecutive failures that counted */
	int64_t started;                /* ms, when the container last started */
	struct rt_health_result log[RT_HEALTH_LOG];   /* a ring, oldest at head */
	uint32_t head, nlog;
};

/* The container (re)started at now (ms): status starting, streak 0. */
void rt_health_start(struct rt_health *h, int64_t now);

/* The container stopped: a container that does not run is not healthy
 * (what an update waiting for "healthy" must see); the log stays. */
void rt_health_stop(struct rt_health *h);

/* Record a finished check at now (ms). Returns 1 when this result made
 * the status unhealthy (it was not before), else 0. */
int rt_health_record(struct rt_health *h, const struct rt_health_cfg *c, int64_t now,
		     const struct rt_health_result *r);

/* "starting", "healthy", "unhealthy"; "" for RT_HS_NONE. */
const char *rt_health_status_str(enum rt_health_status s);

/* The i-th result kept, oldest first (i < nlog). */
const struct rt_health_result *rt_health_log(const struct rt_health *h, uint32_t i);

#endif
