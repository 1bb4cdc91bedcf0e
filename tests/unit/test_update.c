/* The update journal: a round trip through its JSON, and recovery of a
 * transaction a power cut left behind (update.h). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "tap.h"
#include "update.h"

static struct rt_update_journal j, k;

static const char D1[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
static const char D2[] = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/* A journal in TESTING from D1 (version 1) to D2 (version 2). */
static void testing(void)
{
	memset(&j, 0, sizeof j);
	strcpy(j.app, "web");
	strcpy(j.source, "web:1");
	strcpy(j.cur.image, "web:1");
	strcpy(j.cur.digest, D1);
	j.cur.version = 1;
	j.next_id = 8;
	j.state = RT_UP_TESTING;
	j.txn.id = 7;
	j.txn.started = 1700000000;
	j.txn.from = j.cur;
	strcpy(j.txn.to.image, "web:2");
	strcpy(j.txn.to.digest, D2);
	j.txn.to.version = 2;
}

int main(void)
{
	char dir[] = "/tmp/rt-unit-update.XXXXXX";
	struct rt_err e;
	int64_t ms;
	int fd, n;

	ok(mkdtemp(dir) != NULL, "temporary store");
	fd = open(dir, O_RDONLY | O_DIRECTORY);

	is_int(rt_update_journal_read(fd, "web", &k, &e), 1, "no journal yet");
	is_int(k.next_id, 1, "a fresh one starts at id 1");

	testing();
	strcpy(j.txn.reason, "quote \" and \\ survive");
	ok(rt_update_journal_write(fd, &j, &e) == 0, "write");
	ok(rt_update_journal_read(fd, "web", &k, &e) == 0, "read back");
	is_int(k.state, RT_UP_TESTING, "state");
	is_str(k.txn.to.digest, D2, "new digest");
	is_int((long long)k.txn.to.version, 2, "new version");
	is_str(k.txn.reason, "quote \" and \\ survive", "reason");
	is_str(k.cur.digest, D1, "committed digest");

	/* Cut off while testing, three times: rolled back each time, then bad. */
	for (n = 1; n <= RT_UPDATE_TRIES; n++) {
		if (n > 1) {
			j.state = RT_UP_TESTING;
			j.txn.id = j.next_id++;
		}
		is_int(rt_update_recover(fd, &j, &e), 1, "recover TESTING, try %d", n);
		is_int(j.state, RT_UP_IDLE, "idle after recovery %d", n);
		is_str(j.cur.digest, D1, "still on the committed digest after %d", n);
		is_int(j.hist[j.nhist - 1].outcome, RT_UP_ROLLED_BACK, "rolled back %d", n);
		is_int(rt_update_is_bad(&j, D2), n == RT_UPDATE_TRIES, "bad only after %d tries (%d)",
		       RT_UPDATE_TRIES, n);
	}
	ok(strstr(j.hist[j.nhist - 1].reason, "marked bad") != NULL, "the last says it is marked bad");
	ok(rt_update_journal_read(fd, "web", &k, &e) == 0 && k.nbad == 1 && k.nhist == RT_UPDATE_TRIES,
	   "what recovery wrote is durable");

	testing();
	j.state = RT_UP_PENDING;
	is_int(rt_update_recover(fd, &j, &e), 1, "recover PENDING");
	is_int(j.hist[j.nhist - 1].outcome, RT_UP_ABORTED, "aborted: the old version never stopped");
	is_int(rt_update_recover(fd, &j, &e), 0, "nothing left to recover");

	/* The history keeps the last RT_UPDATE_HIST. */
	for (n = 0; n < RT_UPDATE_HIST + 3; n++) {
		testing();
		memcpy(j.hist, k.hist, sizeof j.hist);
		j.nhist = k.nhist;
		j.txn.id = 100 + n;
		j.state = RT_UP_PENDING;
		rt_update_recover(fd, &j, &e);
		k = j;
	}
	is_int(j.nhist, RT_UPDATE_HIST, "history bounded");
	is_int(j.hist[RT_UPDATE_HIST - 1].id, 100 + RT_UPDATE_HIST + 2, "newest last");

	/* Durations of the app file's update keys. */
	ok(rt_conf_duration("15m", &ms) == 0 && ms == 900000, "15m");
	ok(rt_conf_duration("250ms", &ms) == 0 && ms == 250, "250ms");
	ok(rt_conf_duration("30", &ms) == 0 && ms == 30000, "30 is seconds");
	ok(rt_conf_duration("1h", &ms) == 0 && ms == 3600000, "1h");
	ok(rt_conf_duration("1m30s", &ms) == 0 && ms == 90000, "1m30s, as run's flags take it");
	ok(rt_conf_duration("1.5h", &ms) == 0 && ms == 5400000, "1.5h");
	ok(rt_conf_duration("169h", &ms) < 0, "more than a week is refused");
	ok(rt_conf_duration("", &ms) < 0 && rt_conf_duration("5x", &ms) < 0 &&
	   rt_conf_duration("-1", &ms) < 0 && rt_conf_duration("99999999999", &ms) < 0,
	   "empty, unknown unit, sign, too long: refused");

	{
		static struct rt_conf_app a;
		const char *t = "image = web:1\nupdate = reg.example/web:stable , 5m\nupdate_timeout = 90s\n";

		ok(rt_conf_parse(&a, "web", t, strlen(t), &e) == 0, "update keys parse");
		is_str(a.update, "reg.example/web:stable", "channel");
		is_int(a.update_every_ms, 300000, "interval");
		is_int(a.update_timeout_ms, 90000, "timeout");
		is_int(a.update_stable_ms, -1, "stable: default");
		t = "image = web:1\nupdate = reg.example/web:stable\n";
		ok(rt_conf_parse(&a, "web", t, strlen(t), &e) < 0 && strstr(e.msg, "line 2"),
		   "update without an interval: refused with its line");
		t = "image = web:1\nupdate = reg.example/web:stable, 10ms\n";
		ok(rt_conf_parse(&a, "web", t, strlen(t), &e) < 0, "an interval under 1 s: refused");
	}

	{
		char cmd[sizeof dir + 16];

		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		close(fd);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
