#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lifecycle.h"

void rt_life_init(struct rt_life *l, struct rt_policy p, int autoremove)
{
	memset(l, 0, sizeof *l);
	l->state = RT_LS_CREATED;
	l->policy = p;
	l->autoremove = autoremove;
	l->deadline = -1;
}

int rt_life_alive(const struct rt_life *l)
{
	return l->state == RT_LS_RUNNING || l->state == RT_LS_STOPPING ||
	       l->state == RT_LS_REMOVING;
}

static enum rt_life_action spawn(struct rt_life *l, int64_t now, int fresh)
{
	if (fresh) {
		l->stopped_by_user = 0;
		l->restarts = 0;
		l->backoff = 0;
		l->ndeaths = 0;
	}
	l->restart_after = 0;
	l->started = now;
	l->deadline = -1;
	l->state = RT_LS_RUNNING;
	return RT_LA_SPAWN;
}

static enum rt_life_action to(struct rt_life *l, enum rt_life_state s,
			      enum rt_life_action a)
{
	l->state = s;
	l->deadline = -1;
	return a;
}

static int wants_restart(const struct rt_life *l, int code)
{
	switch (l->policy.kind) {
	case RT_RESTART_ON_FAILURE:
		return code != 0 && (l->policy.max == 0 || l->restarts < l->policy.max);
	case RT_RESTART_ALWAYS:
	case RT_RESTART_UNLESS_STOPPED:
		return 1;
	default:
		return 0;
	}
}

/* The running process died on its own (or by a user's signal). */
static enum rt_life_action died(struct rt_life *l, int64_t now, int code)
{
	int64_t run = now - l->started, delay;

	l->exit_code = code;
	if (l->autoremove)
		return to(l, RT_LS_GONE, RT_LA_REMOVE);
	if (l->stopped_by_user || !wants_restart(l, code))
		return to(l, RT_LS_EXITED, RT_LA_NONE);
	if (run >= RT_LIFE_STABLE) {
		l->backoff = 0;
		l->ndeaths = 0;
		delay = 0;
	} else {
		if (l->ndeaths == RT_LIFE_TALLY) {
			memmove(l->deaths, l->deaths + 1, sizeof l->deaths[0] * (RT_LIFE_TALLY - 1));
			l->ndeaths--;
		}
		l->deaths[l->ndeaths++] = now;
		l->backoff = l->backoff ? l->backoff * 2 : RT_LIFE_BACKOFF0;
		if (l->backoff > RT_LIFE_BACKOFF_MAX)
			l->backoff = RT_LIFE_BACKOFF_MAX;
		delay = l->backoff;
		if (l->started + RT_LIFE_FLOOR - now > delay)
			delay = l->started + RT_LIFE_FLOOR - now;
	}
	if (l->ndeaths == RT_LIFE_TALLY && now - l->deaths[0] <= RT_LIFE_WINDOW) {
		l->state = RT_LS_CRASHLOOP;
		delay = RT_LIFE_BACKOFF_MAX;
	} else {
		l->state = RT_LS_RESTARTING;
	}
	l->deadline = now + delay;
	return RT_LA_WAIT;
}

static int stops(int64_t sig)
{
	return sig == SIGKILL || sig == SIGTERM || sig == SIGINT;
}

static enum rt_life_action term(struct rt_life *l, int64_t now, int64_t timeout)
{
	l->state = RT_LS_STOPPING;
	l->deadline = now + (timeout > 0 ? timeout : 0);
	return RT_LA_TERM;
}

enum rt_life_action rt_life_step(struct rt_life *l, enum rt_life_event ev,
				 int64_t now, int64_t arg)
{
	switch (l->state) {
	case RT_LS_CREATED:
	case RT_LS_EXITED:
		switch (ev) {
		case RT_LE_START:
		case RT_LE_RESTART:
			return spawn(l, now, 1);
		case RT_LE_BOOT:
			if (l->policy.kind == RT_RESTART_ALWAYS ||
			    (l->policy.kind == RT_RESTART_UNLESS_STOPPED && !l->stopped_by_user))
				return spawn(l, now, 0);
			return RT_LA_NONE;
		case RT_LE_KILL:
			return RT_LA_REFUSE;
		case RT_LE_REMOVE:
			return to(l, RT_LS_GONE, RT_LA_REMOVE);
		default:
			return RT_LA_NONE;
		}

	case RT_LS_RUNNING:
		switch (ev) {
		case RT_LE_STOP:
			l->stopped_by_user = 1;
			return term(l, now, arg);
		case RT_LE_RESTART:
			l->stopped_by_user = 1;
			l->restart_after = 1;
			return term(l, now, arg);
		case RT_LE_SHUTDOWN:
			return term(l, now, arg);
		case RT_LE_KILL:
			if (stops(arg))
				l->stopped_by_user = 1;
			return RT_LA_SIGNAL;
		case RT_LE_REMOVE:
			return to(l, RT_LS_REMOVING, RT_LA_KILL);
		case RT_LE_EXIT:
			return died(l, now, (int)arg);
		default:
			return RT_LA_NONE;
		}

	case RT_LS_STOPPING:
		switch (ev) {
		case RT_LE_TIMER:
			l->deadline = -1;
			return RT_LA_KILL;
		case RT_LE_EXIT:
			l->exit_code = (int)arg;
			if (l->restart_after)
				return spawn(l, now, 1);
			if (l->autoremove)
				return to(l, RT_LS_GONE, RT_LA_REMOVE);
			return to(l, RT_LS_EXITED, RT_LA_NONE);
		case RT_LE_STOP:
			/* A second stop may only shorten the grace period. */
			if (arg >= 0 && (l->deadline < 0 || now + arg < l->deadline))
				l->deadline = now + arg;
			l->restart_after = 0;
			return RT_LA_WAIT;
		case RT_LE_RESTART:
			l->restart_after = 1;
			return RT_LA_NONE;
		case RT_LE_SHUTDOWN:
			l->restart_after = 0;
			return RT_LA_NONE;
		case RT_LE_KILL:
			return RT_LA_SIGNAL;
		case RT_LE_REMOVE:
			return to(l, RT_LS_REMOVING, RT_LA_KILL);
		default:
			return RT_LA_NONE;
		}

	case RT_LS_RESTARTING:
	case RT_LS_CRASHLOOP:
		switch (ev) {
		case RT_LE_TIMER:
			l->restarts++;
			return spawn(l, now, 0);
		case RT_LE_START:
		case RT_LE_RESTART:
			return spawn(l, now, 1);
		case RT_LE_STOP:
			l->stopped_by_user = 1;
			return to(l, RT_LS_EXITED, RT_LA_NONE);
		case RT_LE_SHUTDOWN:
			return to(l, RT_LS_EXITED, RT_LA_NONE);
		case RT_LE_KILL:
			return RT_LA_REFUSE;
		case RT_LE_REMOVE:
			return to(l, RT_LS_GONE, RT_LA_REMOVE);
		default:
			return RT_LA_NONE;
		}

	case RT_LS_REMOVING:
		switch (ev) {
		case RT_LE_EXIT:
			l->exit_code = (int)arg;
			return to(l, RT_LS_GONE, RT_LA_REMOVE);
		case RT_LE_START:
		case RT_LE_RESTART:
		case RT_LE_KILL:
			return RT_LA_REFUSE;
		default:
			return RT_LA_NONE;
		}

	case RT_LS_GONE:
		break;
	}
	return RT_LA_REFUSE;
}

int rt_life_policy_parse(const char *s, struct rt_policy *p, struct rt_err *e)
{
	p->max = 0;
	if (!strcmp(s, "no") || !*s) {
		p->kind = RT_RESTART_NO;
	} else if (!strcmp(s, "always")) {
		p->kind = RT_RESTART_ALWAYS;
	} else if (!strcmp(s, "unless-stopped")) {
		p->kind = RT_RESTART_UNLESS_STOPPED;
	} else if (!strncmp(s, "on-failure", 10) && (s[10] == '\0' || s[10] == ':')) {
		p->kind = RT_RESTART_ON_FAILURE;
		if (s[10] == ':') {
			const char *d = s + 11;
			uint32_t v = 0;

			if (!*d)
				return rt_err_set(e, EINVAL, "invalid restart policy '%s'", s);
			for (; *d; d++) {
				if (*d < '0' || *d > '9' || v > (UINT32_MAX - 9) / 10)
					return rt_err_set(e, EINVAL,
							  "invalid restart policy '%s': bad retry count", s);
				v = v * 10 + (uint32_t)(*d - '0');
			}
			p->max = v;
		}
	} else {
		return rt_err_set(e, EINVAL, "invalid restart policy '%s'", s);
	}
	return 0;
}

const char *rt_life_policy_str(struct rt_policy p, char *buf, unsigned size)
{
	static const char *const names[] = { "no", "on-failure", "always", "unless-stopped" };

	if (p.kind == RT_RESTART_ON_FAILURE && p.max)
		snprintf(buf, size, "on-failure:%u", p.max);
	else
		snprintf(buf, size, "%s", names[p.kind <= RT_RESTART_UNLESS_STOPPED ? p.kind : 0]);
	return buf;
}

const char *rt_life_state_name(enum rt_life_state s)
{
	static const char *const names[] = {
		"created", "running", "stopping", "restarting", "crash-loop",
		"exited", "removing", "removed",
	};

	return s <= RT_LS_GONE ? names[s] : "unknown";
}
