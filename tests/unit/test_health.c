/* Health checks: Docker's status rules (start period, retries, recovery,
 * the log ring, output cleaning) and the duration parser the --health-*
 * flags use. */
#include <stdint.h>
#include <string.h>

#include "client.h"
#include "conf.h"
#include "container.h"
#include "health.h"
#include "tap.h"

static struct rt_health_result res(int code, const char *out)
{
	struct rt_health_result r;

	memset(&r, 0, sizeof r);
	r.code = code;
	r.outlen = (uint32_t)strlen(out);
	memcpy(r.out, out, r.outlen);
	return r;
}

static int64_t dur(const char *s)
{
	int64_t ns = -7;

	return rt_duration(s, &ns) < 0 ? -1 : ns;
}

static void durations(void)
{
	is_int(dur("30s"), 30000000000LL, "30s");
	is_int(dur("500ms"), 500000000, "500ms");
	is_int(dur("1m"), 60000000000LL, "1m");
	is_int(dur("1m30s"), 90000000000LL, "1m30s");
	is_int(dur("1.5h"), 5400000000000LL, "1.5h");
	is_int(dur("0.5s"), 500000000, "0.5s");
	is_int(dur("1.000000001s"), 1000000001, "nine decimals are exact");
	is_int(dur("2us"), 2000, "2us");
	is_int(dur("2\xc2\xb5s"), 2000, "2 microseconds with the micro sign");
	is_int(dur("7ns"), 7, "7ns");
	is_int(dur(".5s"), 500000000, ".5s, as Go takes it");
	is_int(dur("0"), 0, "0 alone needs no unit");
	is_int(dur("2562047h"), 2562047LL * 3600000000000LL, "the largest whole hour");
	ok(dur("2562048h") < 0, "overflow is refused");
	ok(dur("9223372036854775807s") < 0, "a huge count is refused");
	ok(dur("") < 0, "empty is refused");
	ok(dur("xyz") < 0, "xyz is refused");
	ok(dur("10") < 0, "a number without a unit is refused");
	ok(dur("-1s") < 0, "a sign is refused");
	ok(dur("1sec") < 0, "an unknown unit is refused");
	ok(dur("1mx") < 0, "m followed by letters is refused");
	ok(dur("s") < 0, "a unit without a number is refused");
	ok(dur("1s ") < 0, "trailing space is refused");
	ok(dur(".s") < 0, "a lone dot is refused");
}

static void rules(void)
{
	struct rt_health_cfg c = { 1000, 1000, 5000, 3 };
	struct rt_health h;
	struct rt_health_result r;
	int i, became = 0;

	memset(&h, 0, sizeof h);
	is_str(rt_health_status_str(h.status), "", "no status before the first start");
	rt_health_start(&h, 100000);
	is_str(rt_health_status_str(h.status), "starting", "starting after a start");
	r = res(1, "no");
	for (i = 0; i < 4; i++)
		became |= rt_health_record(&h, &c, 100000 + 1000 * (i + 1), &r);
	ok(!became && h.streak == 0 && h.status == RT_HS_STARTING,
	   "failures within the start period do not count");
	is_int(h.nlog, 4, "but they are logged");
	ok(rt_health_record(&h, &c, 106000, &r) == 0 && h.streak == 1, "after it they do");
	ok(rt_health_record(&h, &c, 107000, &r) == 0 && h.streak == 2, "a second");
	ok(rt_health_record(&h, &c, 108000, &r) == 1 && h.status == RT_HS_UNHEALTHY,
	   "unhealthy at retries failures, reported once");
	ok(rt_health_record(&h, &c, 109000, &r) == 0 && h.streak == 4, "still unhealthy, not reported again");
	is_int(h.nlog, RT_HEALTH_LOG, "the log keeps the last few");
	r = res(0, "fine");
	ok(rt_health_record(&h, &c, 110000, &r) == 0 && h.status == RT_HS_HEALTHY && h.streak == 0,
	   "a success recovers");
	is_str(rt_health_log(&h, RT_HEALTH_LOG - 1)->out, "fine", "the newest result is last");
	ok(rt_health_log(&h, 0)->code == 1, "the oldest kept is first");
	r = res(1, "no");
	rt_health_record(&h, &c, 111000, &r);
	ok(h.status == RT_HS_HEALTHY && h.streak == 1, "one failure does not make it unhealthy");

	rt_health_stop(&h);
	is_str(rt_health_status_str(h.status), "unhealthy", "a stopped container is not healthy");
	rt_health_start(&h, 200000);
	ok(h.status == RT_HS_STARTING && h.streak == 0 && h.nlog == RT_HEALTH_LOG,
	   "a restart starts over, the log stays");
	r = res(0, "ok");
	rt_health_record(&h, &c, 201000, &r);
	r = res(1, "no");
	rt_health_record(&h, &c, 202000, &r);
	ok(h.streak == 1, "once healthy, the start period no longer shields failures");

	c.start_ms = 0;
	c.retries = 1;
	rt_health_start(&h, 300000);
	ok(rt_health_record(&h, &c, 300001, &r) == 1, "retries 1, no start period: the first failure");

	memset(&h, 0, sizeof h);
	rt_health_stop(&h);
	ok(h.status == RT_HS_NONE, "stop before any start leaves no status");
	rt_health_start(&h, 0);
	r = res(2, "");
	r.outlen = 6;
	memcpy(r.out, "a\xff\xe2\x82\xac\xe2", 6);
	rt_health_record(&h, &c, 1, &r);
	ok(!memcmp(rt_health_log(&h, 0)->out, "a?\xe2\x82\xac?", 6),
	   "bytes that are not UTF-8 are shown as '?'");
	r.outlen = 100000;
	rt_health_record(&h, &c, 2, &r);
	is_int(rt_health_log(&h, 1)->outlen, RT_HEALTH_OUT, "output is bounded");
}

static int check(const char *conf, struct rt_ctr_meta *m)
{
	struct rt_err e;

	return rt_ctr_check(conf, strlen(conf), m, &e);
}

static void records(void)
{
	static const char pre[] = "{\"layers\":[\"/l\"],\"cmd\":[\"sleep\"],\"health\":";
	char buf[512];
	struct rt_ctr_meta m;
	struct rt_sandbox_exec x;
	static char arena[65536];
	struct rt_err e;

	snprintf(buf, sizeof buf, "%s%s}", pre,
		 "{\"cmd\":[\"/bin/sh\",\"-c\",\"true\"],\"interval\":500,\"timeout\":200,"
		 "\"start_period\":0,\"retries\":2}");
	ok(check(buf, &m) == 0 && m.health_on && m.health.interval_ms == 500 &&
	   m.health.timeout_ms == 200 && m.health.retries == 2, "a health object is read");
	ok(rt_ctr_health_exec(&m, buf, strlen(buf), &x, arena, sizeof arena, &e) == 0 &&
	   !strcmp(x.argv[0], "/bin/sh") && !strcmp(x.argv[2], "true") && !x.argv[3],
	   "the check's argv comes from it");
	snprintf(buf, sizeof buf, "%s%s}", pre,
		 "{\"cmd\":[\"true\"],\"interval\":0,\"timeout\":1,\"start_period\":0,\"retries\":1}");
	ok(check(buf, &m) < 0, "interval 0 is refused in a record");
	snprintf(buf, sizeof buf, "%s%s}", pre,
		 "{\"cmd\":[],\"interval\":1,\"timeout\":1,\"start_period\":0,\"retries\":1}");
	ok(check(buf, &m) < 0, "an empty command is refused");
	snprintf(buf, sizeof buf, "%s%s}", pre,
		 "{\"cmd\":[\"true\"],\"interval\":1,\"timeout\":1,\"retries\":1}");
	ok(check(buf, &m) < 0, "a missing member is refused");
	snprintf(buf, sizeof buf, "%s%s}", pre, "[\"true\"]");
	ok(check(buf, &m) < 0, "health must be an object");
	ok(check("{\"layers\":[\"/l\"],\"cmd\":[\"sleep\"]}", &m) == 0 && !m.health_on,
	   "no health object: no check");
}

int main(void)
{
	durations();
	rules();
	records();
	return done_testing();
}
