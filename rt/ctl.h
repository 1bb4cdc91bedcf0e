/* The control protocol between the `rt` CLI and the supervisor, over the
 * path-based unix socket RUN/rt.sock (mode 0600, peer credentials checked).
 *
 * A connection carries frames in both directions. A frame is a 4-byte
 * header — one type byte, then the payload length as 24 bits big-endian —
 * and the payload:
 *   'J'  a JSON object: a request {"op":...} from the client, a reply
 *        {"ok":true,...} or {"ok":false,"error":"...","code":N}, or the
 *        end of a stream {"exit":N};
 *   'O'  bytes of a container's stdout, 'E' of its stderr (attach, logs).
 * File descriptors (a client's stdin/stdout/stderr, a pty master) travel
 * as SCM_RIGHTS with the first byte of the frame they belong to.
 *
 * The reader is push-style over a caller-owned buffer, bounded by
 * RT_CTL_MAX, with a sticky error: PID 1 parses it, so no input can make it
 * allocate, overrun or crash. rt_ctl_want() says how many bytes the current
 * frame still needs, so a reader never pulls bytes of the next frame off
 * the socket. */
#ifndef RT_CTL_H
#define RT_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "json.h"

#define RT_CTL_HDR 4
#define RT_CTL_MAX 65536         /* largest payload, either direction */
#define RT_CTL_MAXFD 3           /* fds with one frame */

enum { RT_CTL_JSON = 'J', RT_CTL_OUT = 'O', RT_CTL_ERR = 'E' };

struct rt_ctl_rd {
	uint8_t *buf;           /* payload, caller-owned */
	size_t cap;
	uint8_t hdr[RT_CTL_HDR];
	unsigned hlen;
	int type;
	uint32_t len, got;
	int ready;              /* a whole frame is in buf */
	int err;                /* sticky: EMSGSIZE or EPROTO */
};

/* buf must hold the largest payload accepted (at most RT_CTL_MAX). */
void rt_ctl_rd_init(struct rt_ctl_rd *r, void *buf, size_t cap);

/* Feed bytes; returns how many were consumed. Consumes nothing once a
 * frame is ready (until rt_ctl_rd_next) or after an error. */
size_t rt_ctl_push(struct rt_ctl_rd *r, const void *data, size_t len);

/* Bytes still needed to complete the header, then the payload (0 when
 * ready or failed): reading no more than this never takes bytes of the
 * next frame off the socket. */
size_t rt_ctl_want(const struct rt_ctl_rd *r);

/* Drop the ready frame and start on the next. */
void rt_ctl_rd_next(struct rt_ctl_rd *r);

/* 0, or -1 with the sticky error in e. */
int rt_ctl_rd_check(const struct rt_ctl_rd *r, struct rt_err *e);

/* Write a frame header for a payload of len bytes; -1 when too long. */
int rt_ctl_hdr(uint8_t hdr[RT_CTL_HDR], int type, size_t len);

/* One recvmsg of at most len bytes, collecting passed fds (O_CLOEXEC) into
 * fds[*nfds..RT_CTL_MAXFD); fds beyond room are closed. Returns bytes
 * read, 0 at end of file, -1 with errno set (EAGAIN included). */
ssize_t rt_ctl_recv(int fd, void *buf, size_t len, int *fds, int *nfds);

/* Send a whole frame, blocking, with fds attached to its first byte.
 * Never raises SIGPIPE. */
int rt_ctl_send(int fd, int type, const void *p, size_t len,
		const int *fds, int nfds, struct rt_err *e);

/* Blocking: read one whole frame into r (after rt_ctl_rd_next), adding
 * passed fds to fds/nfds. Returns 1 for a frame, 0 at a clean end of file
 * between frames, -1 on error. */
int rt_ctl_read_frame(int fd, struct rt_ctl_rd *r, int *fds, int *nfds,
		      struct rt_err *e);

/* Requests. Every request is one JSON frame {"op":NAME, ...}; the fields
 * a request does not use are refused nowhere but ignored, so a newer
 * client's extra flag never breaks an older supervisor. */
enum rt_ctl_op {
	RT_OP_PS, RT_OP_CREATE, RT_OP_START, RT_OP_STOP, RT_OP_RESTART,
	RT_OP_KILL, RT_OP_RM, RT_OP_LOGS, RT_OP_WAIT, RT_OP_INSPECT,
	RT_OP_EXEC, RT_OP_VOLUME_USERS,
};

#define RT_CTL_REF 256           /* longest container name or id prefix */

struct rt_ctl_req {
	enum rt_ctl_op op;
	char ref[RT_CTL_REF];   /* "id": a container's name or id prefix */
	int all, force, follow, timestamps, attach, stdin_open, tty;
	int64_t timeout;        /* seconds; -1: the container's own */
	int64_t signal;         /* kill; 0: SIGKILL */
	int64_t tail;           /* logs; -1: all */
	/* create: the "config" object, exec: the "exec" object, as raw JSON
	   inside the frame (parsed again by their owner). */
	const char *obj;
	size_t objlen;
};

/* Decode a request frame; tok is scratch for the JSON parser. */
int rt_ctl_req_parse(struct rt_ctl_req *q, const char *buf, size_t len,
		     struct rt_json_tok *tok, size_t ntok, struct rt_err *e);

/* Client side: connect to path; -1 with the reason in e. */
int rt_ctl_connect(const char *path, struct rt_err *e);

/* Server side: a listening socket at path (replacing a stale one), mode
 * 0600, non-blocking, close-on-exec. */
int rt_ctl_listen(const char *path, struct rt_err *e);

#endif
