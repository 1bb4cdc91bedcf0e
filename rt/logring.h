/* A container's recent output, kept in RAM in a fixed-size ring.
 *
 * The ring is a sequence of records over a caller-owned buffer; nothing is
 * allocated after rt_logring_init(). A record holds one piece of one line
 * of one stream (stdout or stderr) with the time it was read: writes are cut
 * at newlines, so `logs -t` can stamp each line and `logs --tail N` can
 * count lines. When the ring is full the oldest records are dropped whole.
 *
 * Readers hold a cursor: the absolute byte offset of the next record in the
 * stream of everything ever written (a uint64_t never wraps in practice). A
 * cursor that fell behind the oldest record is moved forward and the reader
 * is told how many bytes it lost, so a slow follower never blocks a writer.
 */
#ifndef RT_LOGRING_H
#define RT_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#define RT_LOGRING_HDR 11        /* bytes of record header */
#define RT_LOGRING_REC 2048      /* most data bytes in one record */
#define RT_LOGRING_MIN 4096      /* smallest buffer accepted */

enum { RT_LOG_STDOUT = 1, RT_LOG_STDERR = 2 };

struct rt_logring {
	uint8_t *buf;
	size_t cap;
	uint64_t head;          /* offset just after the newest record */
	uint64_t tail;          /* offset of the oldest record */
};

struct rt_logrec {
	int stream;             /* RT_LOG_STDOUT or RT_LOG_STDERR */
	int eol;                /* the record ends a line */
	int64_t ts;             /* nanoseconds since the epoch */
	size_t len;             /* data bytes */
};

/* Use buf[0..cap) for the ring; cap must be >= RT_LOGRING_MIN. Returns -1
 * when it is smaller. */
int rt_logring_init(struct rt_logring *r, void *buf, size_t cap);

/* Append data read from stream at time ts, cut into records at newlines
 * and every RT_LOGRING_REC bytes, dropping the oldest records to make room. */
void rt_logring_write(struct rt_logring *r, int stream, int64_t ts,
		      const void *data, size_t len);

/* Read the record at *cursor into rec and its data into out (at least
 * RT_LOGRING_REC bytes) and move the cursor past it. Returns 1 for a record,
 * 0 when the cursor is at the head. A cursor older than the tail is first
 * moved to it; the bytes skipped are added to *lost (when not NULL). */
int rt_logring_read(const struct rt_logring *r, uint64_t *cursor,
		    struct rt_logrec *rec, void *out, uint64_t *lost);

/* Cursor where the last n lines start (a partial last line counts as one);
 * n < 0 means everything. */
uint64_t rt_logring_tail_lines(const struct rt_logring *r, long n);

/* Bytes between cursor and head: what a follower still has to send. */
uint64_t rt_logring_pending(const struct rt_logring *r, uint64_t cursor);

/* Bytes of record space that can be written before the record at cursor
 * would be dropped (a lossless reader's budget for the writer). */
uint64_t rt_logring_room(const struct rt_logring *r, uint64_t cursor);

#endif
