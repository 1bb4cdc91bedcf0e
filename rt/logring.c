#include <string.h>

#include "logring.h"

/* Record header, little-endian whatever the CPU: byte 0 is the stream in
 * bits 0-1 and the end-of-line flag in bit 7, bytes 1-2 the data length,
 * bytes 3-10 the timestamp. Records wrap around the end of the buffer. */
#define EOL_BIT 0x80

static void put(struct rt_logring *r, uint64_t off, const void *src, size_t n)
{
	size_t at = (size_t)(off % r->cap), first = r->cap - at;

	if (first > n)
		first = n;
	memcpy(r->buf + at, src, first);
	memcpy(r->buf, (const uint8_t *)src + first, n - first);
}

static void get(const struct rt_logring *r, uint64_t off, void *dst, size_t n)
{
	size_t at = (size_t)(off % r->cap), first = r->cap - at;

	if (first > n)
		first = n;
	memcpy(dst, r->buf + at, first);
	memcpy((uint8_t *)dst + first, r->buf, n - first);
}

static void hdr_decode(const uint8_t *h, struct rt_logrec *rec)
{
	uint64_t ts = 0;
	int i;

	rec->stream = h[0] & 3;
	rec->eol = !!(h[0] & EOL_BIT);
	rec->len = (size_t)h[1] | (size_t)h[2] << 8;
	for (i = 7; i >= 0; i--)
		ts = ts << 8 | h[3 + i];
	rec->ts = (int64_t)ts;
}

static size_t rec_size_at(const struct rt_logring *r, uint64_t off)
{
	uint8_t h[RT_LOGRING_HDR];
	struct rt_logrec rec;

	get(r, off, h, sizeof h);
	hdr_decode(h, &rec);
	return RT_LOGRING_HDR + rec.len;
}

int rt_logring_init(struct rt_logring *r, void *buf, size_t cap)
{
	if (!buf || cap < RT_LOGRING_MIN)
		return -1;
	r->buf = buf;
	r->cap = cap;
	r->head = r->tail = 0;
	return 0;
}

static void append(struct rt_logring *r, int stream, int eol, int64_t ts,
		   const uint8_t *data, size_t len)
{
	uint8_t h[RT_LOGRING_HDR];
	uint64_t uts = (uint64_t)ts;
	size_t need = RT_LOGRING_HDR + len;
	int i;

	while (r->cap - (size_t)(r->head - r->tail) < need)
		r->tail += rec_size_at(r, r->tail);
	h[0] = (uint8_t)((stream & 3) | (eol ? EOL_BIT : 0));
	h[1] = (uint8_t)(len & 0xff);
	h[2] = (uint8_t)(len >> 8);
	for (i = 0; i < 8; i++)
		h[3 + i] = (uint8_t)(uts >> (8 * i));
	put(r, r->head, h, sizeof h);
	put(r, r->head + RT_LOGRING_HDR, data, len);
	r->head += need;
}

void rt_logring_write(struct rt_logring *r, int stream, int64_t ts,
		      const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		const uint8_t *nl = memchr(p, '\n', len < RT_LOGRING_REC ? len : RT_LOGRING_REC);
		size_t n = nl ? (size_t)(nl - p) + 1 : (len < RT_LOGRING_REC ? len : RT_LOGRING_REC);

		append(r, stream, nl != NULL, ts, p, n);
		p += n;
		len -= n;
	}
}

int rt_logring_read(const struct rt_logring *r, uint64_t *cursor,
		    struct rt_logrec *rec, void *out, uint64_t *lost)
{
	uint8_t h[RT_LOGRING_HDR];

	if (*cursor < r->tail || *cursor > r->head) {
		/* A cursor past the head cannot come from this ring; treat it
		   like a lagging one rather than read garbage. */
		if (lost && *cursor < r->tail)
			*lost += r->tail - *cursor;
		*cursor = r->tail;
	}
	if (*cursor == r->head)
		return 0;
	get(r, *cursor, h, sizeof h);
	hdr_decode(h, rec);
	get(r, *cursor + RT_LOGRING_HDR, out, rec->len);
	*cursor += RT_LOGRING_HDR + rec->len;
	return 1;
}

uint64_t rt_logring_tail_lines(const struct rt_logring *r, long n)
{
	uint64_t off, lines = 0, skip;
	uint8_t h[RT_LOGRING_HDR];
	struct rt_logrec rec;
	int partial = 0;

	if (n < 0)
		return r->tail;
	/* Records can only be walked forwards: count, then walk again. */
	for (off = r->tail; off < r->head; off += RT_LOGRING_HDR + rec.len) {
		get(r, off, h, sizeof h);
		hdr_decode(h, &rec);
		if (rec.eol)
			lines++;
		partial = !rec.eol;
	}
	lines += partial;
	if ((uint64_t)n >= lines)
		return r->tail;
	skip = lines - (uint64_t)n;
	for (off = r->tail; off < r->head && skip > 0; off += RT_LOGRING_HDR + rec.len) {
		get(r, off, h, sizeof h);
		hdr_decode(h, &rec);
		if (rec.eol)
			skip--;
	}
	return off;
}

uint64_t rt_logring_pending(const struct rt_logring *r, uint64_t cursor)
{
	if (cursor < r->tail)
		cursor = r->tail;
	return cursor > r->head ? 0 : r->head - cursor;
}

uint64_t rt_logring_room(const struct rt_logring *r, uint64_t cursor)
{
	if (cursor < r->tail)
		return 0;
	return r->cap - (r->head - cursor);
}
