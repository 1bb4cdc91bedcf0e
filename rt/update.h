/* Over-the-air updates of apps: a transaction per update, journaled under
 * the store so that a power cut at any instant ends, at the next start, on
 * the last committed version or on a new one whose commit completed.
 *
 * An app is a container made from an app file (conf.h). Its journal,
 * ROOT/apps/<APP>.json (written durably by io.c, mode 0600), holds:
 *   app, source   the app file's image when it was last reconciled
 *   current       the committed version: image, digest, version (the
 *                 signed version, 0 when unsigned). The app's container
 *                 is always created from this digest ("NAME@sha256:..."),
 *                 never from whatever a tag names now.
 *   txn           the transaction in progress, if any: id, state, from,
 *                 to, started, reason
 *   tried, tries  the digest last switched to and how many times a
 *                 transaction to it was cut off while TESTING
 *   seen          the digest the watched channel named at the last poll
 *   bad           digests that failed (never tried again automatically;
 *                 `rt update` by hand may)
 *   history       the last RT_UPDATE_HIST finished transactions: id,
 *                 started, ended, from, to, outcome (COMMITTED,
 *                 ROLLED_BACK, REFUSED, ABORTED), reason, downtime_ms
 *
 * A transaction, each state written before the step it names:
 *   PENDING      fetch (pull, or load a file, or an image already stored)
 *                and verify: trusted signature, version newer than the
 *                current one and not below the repository's rollback
 *                record; the old container keeps running
 *   TESTING      old stopped, new started, waited on until healthy (its
 *                health check says "healthy", or without one: running and
 *                not restarted for the stability window) or the deadline
 *   COMMITTED    current := new, the rollback record raised to its
 *                version; the old image is left to `rt image prune`
 *   ROLLING_BACK new stopped, old started again, new marked bad; then
 *                ROLLED_BACK in the history
 * Recovery (`rt reload`, which the supervisor runs at start, and any
 * `rt update` that finds a transaction left behind): PENDING becomes
 * ABORTED (the old container never stopped); TESTING and ROLLING_BACK
 * become ROLLED_BACK and the app is recreated from current. A digest cut
 * off while TESTING RT_UPDATE_TRIES times is marked bad, like an A/B
 * bootloader's try counter. Only one transaction runs at a time: every
 * step holds RUN/reload.lock, and the store stays locked shared from the
 * switch to the end so the image to roll back to cannot be pruned. */
#ifndef RT_UPDATE_H
#define RT_UPDATE_H

#include <stdint.h>

#include "cli.h"
#include "conf.h"
#include "err.h"
#include "sha256.h"

#define RT_UPDATE_DIR "apps"            /* under the store root */
#define RT_UPDATE_HIST 16
#define RT_UPDATE_BAD 16
#define RT_UPDATE_TRIES 3
#define RT_UPDATE_REF 256
#define RT_UPDATE_WHY RT_ERR_MSG
#define RT_UPDATE_TIMEOUT_MS 60000      /* default deadline to be healthy */
#define RT_UPDATE_STABLE_MS 10000       /* default stability window */

enum rt_update_state {
	RT_UP_IDLE = 0, RT_UP_PENDING, RT_UP_TESTING, RT_UP_ROLLING_BACK,
};

/* What one transaction ended as (history outcome). */
enum rt_update_outcome {
	RT_UP_COMMITTED, RT_UP_ROLLED_BACK, RT_UP_REFUSED, RT_UP_ABORTED,
	RT_UP_UNCHANGED,        /* already on that digest: nothing recorded */
};

struct rt_update_ver {
	char image[RT_UPDATE_REF];
	char digest[RT_SHA256_STR];     /* "" when unknown */
	uint64_t version;
};

struct rt_update_rec {
	int64_t id, started, ended;     /* seconds since the epoch */
	int64_t downtime_ms;            /* old stopped to new healthy; -1 */
	struct rt_update_ver from, to;
	int outcome;                    /* enum rt_update_outcome */
	char reason[RT_UPDATE_WHY];
};

struct rt_update_journal {
	char app[RT_CONF_NAME + 1];
	char source[RT_UPDATE_REF];
	struct rt_update_ver cur;
	int64_t next_id;
	int state;                      /* enum rt_update_state */
	struct rt_update_rec txn;       /* when state != RT_UP_IDLE */
	char tried[RT_SHA256_STR];
	int tries;
	char seen[RT_SHA256_STR];
	char bad[RT_UPDATE_BAD][RT_SHA256_STR];
	int nbad;
	struct rt_update_rec hist[RT_UPDATE_HIST];      /* oldest first */
	int nhist;
};

/* The journal of app under the store at rootfd: 0, or 1 when it has none
 * (j is then a fresh one for app). */
int rt_update_journal_read(int rootfd, const char *app, struct rt_update_journal *j,
			   struct rt_err *e);
int rt_update_journal_write(int rootfd, const struct rt_update_journal *j,
			    struct rt_err *e);
const char *rt_update_outcome_str(int outcome);
int rt_update_is_bad(const struct rt_update_journal *j, const char *digest);

struct rt_update_opts {
	int64_t timeout_ms;     /* to become healthy */
	int64_t stable_ms;      /* without a health check */
	const char *file;       /* load this archive or layout first, or NULL */
	int by_hand;            /* a user asked: a bad digest may be retried */
	int quiet;              /* no progress lines */
};

/* The transaction above for app a to image (a reference; with opts->file,
 * what the file holds under that name, or NULL for its only image). The
 * caller holds RUN/reload.lock. Returns the outcome; why says what went
 * wrong for ROLLED_BACK and REFUSED. -1 with e when it could not even
 * start (no journal, no supervisor): nothing changed. Progress lines go
 * to stdout unless quiet. */
int rt_update_run(const struct rt_opts *o, const struct rt_conf_app *a, const char *image,
		  const struct rt_update_opts *uo, char *why, size_t cap, struct rt_err *e);

/* Finish or roll back a transaction left behind, in the journal only
 * (the caller then recreates the container from cur). 1 when there was
 * one. */
int rt_update_recover(int rootfd, struct rt_update_journal *j, struct rt_err *e);

/* For `rt reload`, app by app, holding RUN/reload.lock: recover, and when
 * the app file names another image than last time, update to it. Gives
 * the reference to create the app's container from in pin: 0 pinned to
 * the committed digest, 1 when there is none (the file's image is not in
 * the store). An app's first reload starts its journal. */
int rt_update_reload(const struct rt_opts *o, const struct rt_conf_app *a, char *pin,
		     size_t cap, struct rt_err *e);

/* One poll of app a's channel (a->update): HEAD on the tag, and when it
 * names a new digest that is not bad, the transaction to it. The caller
 * holds nothing; this takes RUN/reload.lock for the transaction. Returns
 * the outcome as rt_update_run, RT_UP_UNCHANGED when the tag has not
 * moved, -1 with e when the registry could not be asked. */
int rt_update_poll(const struct rt_opts *o, const struct rt_conf_app *a,
		   const struct rt_update_opts *uo, char *why, size_t cap, struct rt_err *e);

/* The "Update" object `rt inspect` shows for an app's container: 1 and
 * compact JSON in buf[0..*len), 0 when the app has no journal. */
int rt_update_inspect_json(const char *root, const char *app, char *buf, size_t cap,
			   size_t *len, struct rt_err *e);

/* Hold RUN/reload.lock until the process exits (reload and update). */
int rt_update_lock(const struct rt_opts *o, struct rt_err *e);

#endif
