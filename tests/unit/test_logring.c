/* The log ring: records cut at newlines, wrap-around, dropping the oldest
 * records whole, --tail line counting, lagging cursors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logring.h"
#include "tap.h"

/* Everything from cursor on, as "<stream><eol?'$':''>:data|" strings. */
static void dump(const struct rt_logring *r, uint64_t cur, char *out, size_t cap,
		 uint64_t *lost)
{
	char data[RT_LOGRING_REC + 1];
	struct rt_logrec rec;
	size_t n = 0;

	out[0] = '\0';
	while (rt_logring_read(r, &cur, &rec, data, lost) == 1) {
		data[rec.len] = '\0';
		n += (size_t)snprintf(out + n, cap - n, "%d%s:%s|", rec.stream,
				      rec.eol ? "$" : "", data);
		if (n >= cap)
			break;
	}
}

int main(void)
{
	static uint8_t buf[RT_LOGRING_MIN];
	struct rt_logring r;
	struct rt_logrec rec;
	char out[65536], data[RT_LOGRING_REC];
	uint64_t cur, lost = 0;
	int i, n;

	ok(rt_logring_init(&r, buf, RT_LOGRING_MIN - 1) < 0, "too small a buffer is refused");
	ok(rt_logring_init(&r, NULL, RT_LOGRING_MIN) < 0, "no buffer is refused");
	ok(rt_logring_init(&r, buf, sizeof buf) == 0, "init");

	cur = r.head;
	ok(rt_logring_read(&r, &cur, &rec, data, NULL) == 0, "empty ring reads nothing");

	rt_logring_write(&r, RT_LOG_STDOUT, 42, "one\ntwo\nthr", 11);
	rt_logring_write(&r, RT_LOG_STDERR, 43, "err\n", 4);
	rt_logring_write(&r, RT_LOG_STDOUT, 44, "ee\n", 3);
	dump(&r, r.tail, out, sizeof out, NULL);
	is_str(out, "1$:one\n|1$:two\n|1:thr|2$:err\n|1$:ee\n|", "writes are cut at newlines, streams kept");

	cur = r.tail;
	rt_logring_read(&r, &cur, &rec, data, NULL);
	is_int(rec.ts, 42, "timestamp kept");
	is_int(rec.len, 4, "record length");

	/* --tail: "thr" + "ee\n" are one line per stream; lines end at eol. */
	dump(&r, rt_logring_tail_lines(&r, 2), out, sizeof out, NULL);
	is_str(out, "1:thr|2$:err\n|1$:ee\n|", "tail 2: a line split by another stream starts at its first piece");
	dump(&r, rt_logring_tail_lines(&r, 0), out, sizeof out, NULL);
	is_str(out, "", "tail 0");
	dump(&r, rt_logring_tail_lines(&r, 100), out, sizeof out, NULL);
	is_str(out, "1$:one\n|1$:two\n|1:thr|2$:err\n|1$:ee\n|", "tail more than there is");
	ok(rt_logring_tail_lines(&r, -1) == r.tail, "tail -1 is everything");
	rt_logring_write(&r, RT_LOG_STDOUT, 45, "partial", 7);
	dump(&r, rt_logring_tail_lines(&r, 1), out, sizeof out, NULL);
	is_str(out, "1:partial|", "a partial last line counts as a line");

	/* A long line is cut every RT_LOGRING_REC bytes. */
	rt_logring_init(&r, buf, sizeof buf);
	{
		char big[RT_LOGRING_REC + 10];

		memset(big, 'x', sizeof big);
		rt_logring_write(&r, RT_LOG_STDOUT, 1, big, sizeof big);
		cur = r.tail;
		rt_logring_read(&r, &cur, &rec, data, NULL);
		is_int(rec.len, RT_LOGRING_REC, "long write: first record is full");
		ok(!rec.eol, "long write: no eol");
		rt_logring_read(&r, &cur, &rec, data, NULL);
		is_int(rec.len, 10, "long write: rest in a second record");
	}

	/* Wrap-around: write far more than fits; the ring keeps the newest
	   records whole and a lagging cursor is told what it lost. */
	rt_logring_init(&r, buf, sizeof buf);
	cur = r.head;
	for (i = 0; i < 2000; i++) {
		char line[32];

		n = snprintf(line, sizeof line, "line %04d\n", i);
		rt_logring_write(&r, i % 3 ? RT_LOG_STDOUT : RT_LOG_STDERR, i, line, (size_t)n);
	}
	ok(r.head - r.tail <= sizeof buf, "ring holds at most its size");
	ok(r.tail > 0, "oldest records were dropped");
	dump(&r, rt_logring_tail_lines(&r, 3), out, sizeof out, NULL);
	is_str(out, "1$:line 1997\n|2$:line 1998\n|1$:line 1999\n|", "newest lines intact after wrapping");
	lost = 0;
	rt_logring_read(&r, &cur, &rec, data, &lost);
	ok(lost > 0, "a lagging cursor learns it lost %llu bytes", (unsigned long long)lost);
	ok(cur == r.tail + RT_LOGRING_HDR + rec.len, "lagging cursor resumes at the tail");
	memcpy(out, data, rec.len);
	out[rec.len] = '\0';
	ok(!strncmp(out, "line ", 5), "first record after the tail is a whole line: %s", out);
	/* Every record readable: the chain of lengths is consistent. */
	cur = r.tail;
	n = 0;
	while (rt_logring_read(&r, &cur, &rec, data, NULL) == 1) {
		if (rec.len != 10 || data[9] != '\n')
			break;
		n++;
	}
	ok(cur == r.head, "all %d kept records walk to the head", n);
	is_int(rt_logring_pending(&r, r.tail), (long long)(r.head - r.tail), "pending from the tail");
	is_int(rt_logring_pending(&r, 0), (long long)(r.head - r.tail), "pending of a lagging cursor");
	is_int(rt_logring_room(&r, r.head), (long long)sizeof buf, "room for a caught-up reader");
	is_int(rt_logring_room(&r, 0), 0, "no room for a reader that already lost data");

	/* A write bigger than the ring keeps only its end. */
	rt_logring_init(&r, buf, sizeof buf);
	{
		static char huge[3 * RT_LOGRING_MIN];

		for (i = 0; i < (int)sizeof huge; i++)
			huge[i] = (char)('a' + i % 26);
		huge[sizeof huge - 1] = '\n';
		rt_logring_write(&r, RT_LOG_STDOUT, 7, huge, sizeof huge);
		ok(r.head - r.tail <= sizeof buf, "huge write fits");
		cur = r.tail;
		while (rt_logring_read(&r, &cur, &rec, data, NULL) == 1)
			;
		ok(rec.eol && data[rec.len - 1] == '\n', "last record of a huge write kept");
	}
	return done_testing();
}
