#include <string.h>

#include "health.h"
#include "json.h"

void rt_health_start(struct rt_health *h, int64_t now)
{
	h->status = RT_HS_STARTING;
	h->streak = 0;
	h->started = now;
}

void rt_health_stop(struct rt_health *h)
{
	if (h->status != RT_HS_NONE)
		h->status = RT_HS_UNHEALTHY;
}

static void keep(struct rt_health *h, const struct rt_health_result *r)
{
	uint32_t at;
	struct rt_health_result *k;
	size_t i, n;

	if (h->nlog == RT_HEALTH_LOG) {
		at = h->head;
		h->head = (h->head + 1) % RT_HEALTH_LOG;
	} else {
		at = (h->head + h->nlog++) % RT_HEALTH_LOG;
	}
	k = &h->log[at];
	*k = *r;
	if (k->outlen > RT_HEALTH_OUT)
		k->outlen = RT_HEALTH_OUT;
	/* Shown as a JSON string: bytes that are not UTF-8 (binary output,
	   a character cut at the end) become '?'. */
	for (i = 0; i < k->outlen; i += n) {
		n = rt_json_utf8_seq((const unsigned char *)k->out + i, k->outlen - i);
		if (!n) {
			k->out[i] = '?';
			n = 1;
		}
	}
}

int rt_health_record(struct rt_health *h, const struct rt_health_cfg *c, int64_t now,
		     const struct rt_health_result *r)
{
	enum rt_health_status was = h->status;

	keep(h, r);
	if (r->code == 0) {
		h->streak = 0;
		h->status = RT_HS_HEALTHY;
		return 0;
	}
	/* Failures while the service is still coming up do not count, until
	   it has been healthy once. */
	if (was == RT_HS_STARTING && now - h->started < (int64_t)c->start_ms)
		return 0;
	h->streak++;
	if (h->streak >= c->retries)
		h->status = RT_HS_UNHEALTHY;
	return h->status == RT_HS_UNHEALTHY && was != RT_HS_UNHEALTHY;
}

const char *rt_health_status_str(enum rt_health_status s)
{
	switch (s) {
	case RT_HS_STARTING: return "starting";
	case RT_HS_HEALTHY: return "healthy";
	case RT_HS_UNHEALTHY: return "unhealthy";
	default: return "";
	}
}

const struct rt_health_result *rt_health_log(const struct rt_health *h, uint32_t i)
{
	return &h->log[(h->head + i) % RT_HEALTH_LOG];
}
