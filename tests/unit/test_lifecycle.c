/* The supervision state machine: a table of single transitions, then whole
 * histories (backoff doubling, the 1 s floor, reset after a stable run,
 * on-failure:N giving up, the crash-loop tally), then policy strings. */
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "lifecycle.h"
#include "tap.h"

#define P(k, n) ((struct rt_policy){ RT_RESTART_##k, n })
#define S(x) RT_LS_##x
#define E(x) RT_LE_##x
#define A(x) RT_LA_##x

struct tcase {
	const char *what;
	enum rt_life_state from;
	struct rt_policy pol;
	int autoremove, by_user;
	int64_t started;        /* of the current run */
	enum rt_life_event ev;
	int64_t now, arg;
	enum rt_life_action act;
	enum rt_life_state to;
	int64_t deadline;       /* -2: don't care */
};

static const struct tcase cases[] = {
	{ "start a created one", S(CREATED), P(NO, 0), 0, 0, 0, E(START), 5, 0, A(SPAWN), S(RUNNING), -1 },
	{ "start an exited one", S(EXITED), P(NO, 0), 0, 1, 0, E(START), 5, 0, A(SPAWN), S(RUNNING), -1 },
	{ "restart an exited one", S(EXITED), P(NO, 0), 0, 0, 0, E(RESTART), 5, 0, A(SPAWN), S(RUNNING), -1 },
	{ "start a running one: nothing", S(RUNNING), P(NO, 0), 0, 0, 0, E(START), 5, 0, A(NONE), S(RUNNING), -2 },
	{ "stop a created one: nothing", S(CREATED), P(NO, 0), 0, 0, 0, E(STOP), 5, 10000, A(NONE), S(CREATED), -1 },
	{ "kill a stopped one: refused", S(EXITED), P(NO, 0), 0, 0, 0, E(KILL), 5, SIGKILL, A(REFUSE), S(EXITED), -1 },
	{ "rm an exited one", S(EXITED), P(ALWAYS, 0), 0, 0, 0, E(REMOVE), 5, 0, A(REMOVE), S(GONE), -1 },
	{ "stray exit of an exited one", S(EXITED), P(ALWAYS, 0), 0, 0, 0, E(EXIT), 5, 1, A(NONE), S(EXITED), -1 },
	{ "boot: no policy stays", S(EXITED), P(NO, 0), 0, 0, 0, E(BOOT), 5, 0, A(NONE), S(EXITED), -1 },
	{ "boot: on-failure stays", S(EXITED), P(ON_FAILURE, 0), 0, 0, 0, E(BOOT), 5, 0, A(NONE), S(EXITED), -1 },
	{ "boot: always starts", S(EXITED), P(ALWAYS, 0), 0, 1, 0, E(BOOT), 5, 0, A(SPAWN), S(RUNNING), -1 },
	{ "boot: unless-stopped starts", S(EXITED), P(UNLESS_STOPPED, 0), 0, 0, 0, E(BOOT), 5, 0, A(SPAWN), S(RUNNING), -1 },
	{ "boot: unless-stopped, stopped by user", S(EXITED), P(UNLESS_STOPPED, 0), 0, 1, 0, E(BOOT), 5, 0, A(NONE), S(EXITED), -1 },
	{ "boot: created always", S(CREATED), P(ALWAYS, 0), 0, 0, 0, E(BOOT), 5, 0, A(SPAWN), S(RUNNING), -1 },
	{ "stop a running one: TERM, KILL due", S(RUNNING), P(ALWAYS, 0), 0, 0, 0, E(STOP), 100, 3000, A(TERM), S(STOPPING), 3100 },
	{ "stop with -t 0", S(RUNNING), P(NO, 0), 0, 0, 0, E(STOP), 100, 0, A(TERM), S(STOPPING), 100 },
	{ "restart a running one", S(RUNNING), P(NO, 0), 0, 0, 0, E(RESTART), 100, 10000, A(TERM), S(STOPPING), 10100 },
	{ "shutdown a running one", S(RUNNING), P(ALWAYS, 0), 0, 0, 0, E(SHUTDOWN), 100, 10000, A(TERM), S(STOPPING), 10100 },
	{ "grace period over: KILL", S(STOPPING), P(NO, 0), 0, 1, 0, E(TIMER), 3100, 0, A(KILL), S(STOPPING), -1 },
	{ "stopped one dies", S(STOPPING), P(ALWAYS, 0), 0, 1, 0, E(EXIT), 3100, 143, A(NONE), S(EXITED), -1 },
	{ "stopped --rm one dies", S(STOPPING), P(NO, 0), 1, 1, 0, E(EXIT), 3100, 143, A(REMOVE), S(GONE), -1 },
	{ "kill -s HUP: signal, keeps policy", S(RUNNING), P(ALWAYS, 0), 0, 0, 0, E(KILL), 5, SIGHUP, A(SIGNAL), S(RUNNING), -2 },
	{ "kill a stopping one", S(STOPPING), P(ALWAYS, 0), 0, 1, 0, E(KILL), 5, SIGKILL, A(SIGNAL), S(STOPPING), -2 },
	{ "rm -f a running one", S(RUNNING), P(ALWAYS, 0), 0, 0, 0, E(REMOVE), 5, 0, A(KILL), S(REMOVING), -1 },
	{ "rm -f a stopping one", S(STOPPING), P(ALWAYS, 0), 0, 1, 0, E(REMOVE), 5, 0, A(KILL), S(REMOVING), -1 },
	{ "removing one dies", S(REMOVING), P(ALWAYS, 0), 0, 0, 0, E(EXIT), 5, 137, A(REMOVE), S(GONE), -1 },
	{ "start a removing one: refused", S(REMOVING), P(NO, 0), 0, 0, 0, E(START), 5, 0, A(REFUSE), S(REMOVING), -2 },
	{ "no policy: exit stays exited", S(RUNNING), P(NO, 0), 0, 0, 0, E(EXIT), 50, 1, A(NONE), S(EXITED), -1 },
	{ "--rm: exit removes", S(RUNNING), P(NO, 0), 1, 0, 0, E(EXIT), 50, 0, A(REMOVE), S(GONE), -1 },
	{ "on-failure: exit 0 stays exited", S(RUNNING), P(ON_FAILURE, 0), 0, 0, 0, E(EXIT), 50, 0, A(NONE), S(EXITED), -1 },
	{ "on-failure: exit 1 restarts after the floor", S(RUNNING), P(ON_FAILURE, 0), 0, 0, 0, E(EXIT), 50, 1, A(WAIT), S(RESTARTING), 1000 },
	{ "always: exit 0 restarts", S(RUNNING), P(ALWAYS, 0), 0, 0, 0, E(EXIT), 50, 0, A(WAIT), S(RESTARTING), 1000 },
	{ "always: stable run restarts at once", S(RUNNING), P(ALWAYS, 0), 0, 0, 0, E(EXIT), 20000, 0, A(WAIT), S(RESTARTING), 20000 },
	{ "always: killed by the user stays dead", S(RUNNING), P(ALWAYS, 0), 0, 1, 0, E(EXIT), 50, 137, A(NONE), S(EXITED), -1 },
	{ "backoff over: spawn", S(RESTARTING), P(ALWAYS, 0), 0, 0, 0, E(TIMER), 1000, 0, A(SPAWN), S(RUNNING), -1 },
	{ "crash-loop over: spawn", S(CRASHLOOP), P(ALWAYS, 0), 0, 0, 0, E(TIMER), 1000, 0, A(SPAWN), S(RUNNING), -1 },
	{ "stop a restarting one", S(RESTARTING), P(ALWAYS, 0), 0, 0, 0, E(STOP), 500, 10000, A(NONE), S(EXITED), -1 },
	{ "start a restarting one", S(RESTARTING), P(ALWAYS, 0), 0, 0, 0, E(START), 500, 0, A(SPAWN), S(RUNNING), -1 },
	{ "kill a restarting one: refused", S(RESTARTING), P(ALWAYS, 0), 0, 0, 0, E(KILL), 500, SIGKILL, A(REFUSE), S(RESTARTING), -2 },
	{ "rm a crash-looping one", S(CRASHLOOP), P(ALWAYS, 0), 0, 0, 0, E(REMOVE), 500, 0, A(REMOVE), S(GONE), -1 },
	{ "shutdown a restarting one", S(RESTARTING), P(ALWAYS, 0), 0, 0, 0, E(SHUTDOWN), 500, 0, A(NONE), S(EXITED), -1 },
	{ "anything on a removed one: refused", S(GONE), P(ALWAYS, 0), 0, 0, 0, E(START), 500, 0, A(REFUSE), S(GONE), -2 },
};

static void table(void)
{
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *c = &cases[i];
		struct rt_life l;
		enum rt_life_action a;

		rt_life_init(&l, c->pol, c->autoremove);
		l.state = c->from;
		l.stopped_by_user = c->by_user;
		l.started = c->started;
		a = rt_life_step(&l, c->ev, c->now, c->arg);
		ok(a == c->act && l.state == c->to && (c->deadline == -2 || l.deadline == c->deadline),
		   "%s", c->what);
		if (a != c->act || l.state != c->to)
			printf("#   got action %d state %s, want %d %s\n", a,
			       rt_life_state_name(l.state), c->act, rt_life_state_name(c->to));
		else if (c->deadline != -2 && l.deadline != c->deadline)
			printf("#   deadline %lld, want %lld\n", (long long)l.deadline,
			       (long long)c->deadline);
	}
}

/* Run a container that dies after `run` ms, `n` times, restarting whenever
 * the deadline comes; returns the delays between death and restart. */
static int crash(struct rt_life *l, int64_t *now, int64_t run, int code, int64_t *delay)
{
	enum rt_life_action a;

	*now += run;
	a = rt_life_step(l, RT_LE_EXIT, *now, code);
	if (a != RT_LA_WAIT)
		return a;
	*delay = l->deadline - *now;
	*now = l->deadline;
	return rt_life_step(l, RT_LE_TIMER, *now, 0);
}

static void histories(void)
{
	struct rt_life l;
	int64_t now = 0, d = 0;
	int i, a;

	/* Backoff doubles, but the 1 s floor dominates at first. */
	rt_life_init(&l, P(ALWAYS, 0), 0);
	rt_life_step(&l, RT_LE_START, now, 0);
	a = crash(&l, &now, 10, 1, &d);
	is_int(d, 990, "first crash: restart 1 s after the start");
	is_int(a, RT_LA_SPAWN, "then spawn");
	is_int(l.backoff, 100, "backoff starts at 100 ms");
	crash(&l, &now, 10, 1, &d);
	is_int(l.backoff, 200, "backoff doubles");
	is_int(l.restarts, 2, "restart count");
	/* Runs of 2 s are unstable but past the floor: the backoff shows. */
	rt_life_init(&l, P(ALWAYS, 0), 0);
	now = 0;
	rt_life_step(&l, RT_LE_START, now, 0);
	for (i = 0; i < 4; i++)
		crash(&l, &now, 2000, 1, &d);
	is_int(d, 800, "4th crash after 2 s runs waits the backoff, 800 ms");
	is_int(l.state, RT_LS_RUNNING, "running again");
	crash(&l, &now, 2000, 1, &d);
	is_int(l.ndeaths, 5, "tally full");
	ok(l.state == RT_LS_RUNNING && d == RT_LIFE_BACKOFF_MAX,
	   "5 deaths in %d ms: crash-loop, next start after the longest backoff", RT_LIFE_WINDOW);
	/* A stable run resets backoff and tally. */
	a = crash(&l, &now, RT_LIFE_STABLE, 1, &d);
	is_int(d, 0, "after a stable run: restart at once");
	is_int(l.backoff, 0, "backoff reset");
	is_int(l.ndeaths, 0, "tally reset");

	/* Crash-loop state is visible between the death and the restart. */
	rt_life_init(&l, P(ALWAYS, 0), 0);
	now = 0;
	rt_life_step(&l, RT_LE_START, now, 0);
	for (i = 0; i < 4; i++)
		crash(&l, &now, 5, 1, &d);
	now += 5;
	rt_life_step(&l, RT_LE_EXIT, now, 1);
	is_int(l.state, RT_LS_CRASHLOOP, "crash-loop state after 5 quick deaths");
	is_int(l.deadline - now, RT_LIFE_BACKOFF_MAX, "crash-loop waits the cap");
	is_int(l.backoff, 1600, "backoff kept doubling underneath");

	/* Deaths spread wider than the window are not a crash loop. */
	rt_life_init(&l, P(ALWAYS, 0), 0);
	now = 0;
	rt_life_step(&l, RT_LE_START, now, 0);
	for (i = 0; i < 4; i++)
		crash(&l, &now, 9000, 1, &d);
	now += 9000;
	rt_life_step(&l, RT_LE_EXIT, now, 1);
	is_int(l.state, RT_LS_RESTARTING, "5 deaths over more than the window: just restarting");

	/* The backoff is capped. */
	rt_life_init(&l, P(ALWAYS, 0), 0);
	l.state = RT_LS_RUNNING;
	l.backoff = RT_LIFE_BACKOFF_MAX;
	l.started = now = 1000000;
	rt_life_step(&l, RT_LE_EXIT, now + 5, 1);
	is_int(l.backoff, RT_LIFE_BACKOFF_MAX, "backoff capped");

	/* on-failure:2 gives up after two restarts. */
	rt_life_init(&l, P(ON_FAILURE, 2), 0);
	now = 0;
	rt_life_step(&l, RT_LE_START, now, 0);
	is_int(crash(&l, &now, 5, 3, &d), RT_LA_SPAWN, "on-failure:2: first restart");
	is_int(crash(&l, &now, 5, 3, &d), RT_LA_SPAWN, "on-failure:2: second restart");
	is_int(crash(&l, &now, 5, 3, &d), RT_LA_NONE, "on-failure:2: gives up");
	is_int(l.state, RT_LS_EXITED, "exited");
	is_int(l.exit_code, 3, "exit code kept");
	is_int(rt_life_step(&l, RT_LE_START, now, 0), RT_LA_SPAWN, "a user's start works again");
	is_int(l.restarts, 0, "and resets the count");

	/* restart verb: stop, then spawn again once dead, even with no policy. */
	rt_life_init(&l, P(NO, 0), 0);
	rt_life_step(&l, RT_LE_START, 0, 0);
	is_int(rt_life_step(&l, RT_LE_RESTART, 10, 5000), RT_LA_TERM, "restart: TERM");
	is_int(rt_life_step(&l, RT_LE_EXIT, 20, 143), RT_LA_SPAWN, "restart: spawn once dead");
	ok(!l.stopped_by_user, "restart leaves it started by the user");

	/* A stop while stopping can only shorten the grace period. */
	rt_life_init(&l, P(NO, 0), 0);
	rt_life_step(&l, RT_LE_START, 0, 0);
	rt_life_step(&l, RT_LE_STOP, 0, 10000);
	rt_life_step(&l, RT_LE_STOP, 10, 20000);
	is_int(l.deadline, 10000, "second stop with a longer timeout: unchanged");
	rt_life_step(&l, RT_LE_STOP, 10, 1000);
	is_int(l.deadline, 1010, "second stop with a shorter timeout: sooner");

	/* unless-stopped stopped by the user is not started at boot; a plain
	   shutdown is. */
	rt_life_init(&l, P(UNLESS_STOPPED, 0), 0);
	rt_life_step(&l, RT_LE_START, 0, 0);
	rt_life_step(&l, RT_LE_SHUTDOWN, 10, 100);
	rt_life_step(&l, RT_LE_EXIT, 20, 143);
	is_int(rt_life_step(&l, RT_LE_BOOT, 30, 0), RT_LA_SPAWN, "unless-stopped after shutdown: boot starts it");
	rt_life_step(&l, RT_LE_KILL, 40, SIGKILL);
	rt_life_step(&l, RT_LE_EXIT, 50, 137);
	is_int(l.state, RT_LS_EXITED, "kill -9 by the user: no restart");
	is_int(rt_life_step(&l, RT_LE_BOOT, 60, 0), RT_LA_NONE, "nor at boot");
}

static void policies(void)
{
	struct rt_err e;
	struct rt_policy p;
	char b[24];
	static const char *const good[] = { "no", "always", "unless-stopped", "on-failure", "on-failure:5" };
	static const char *const bad[] = { "sometimes", "on-failure:", "on-failure:x", "on-failure:-1",
					   "on-failure:99999999999", "alwaysx", "on-failurex" };
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		int r = rt_life_policy_parse(good[i], &p, &e);

		ok(r == 0 && !strcmp(rt_life_policy_str(p, b, sizeof b), good[i]),
		   "policy '%s' round-trips", good[i]);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(rt_life_policy_parse(bad[i], &p, &e) < 0, "policy '%s' refused", bad[i]);
	is_str(rt_life_state_name(RT_LS_CRASHLOOP), "crash-loop", "state names");
}

int main(void)
{
	table();
	histories();
	policies();
	return done_testing();
}
