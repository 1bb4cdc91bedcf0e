/* The supervisor's clients: the control socket's connections, their
 * requests (one JSON frame each, see ctl.h), replies, and the streams of
 * attached and following clients. Bounded: fixed tables of connections,
 * each with one input and one output buffer; a client that does not read
 * its replies is dropped, a slow follower only loses old log lines, an
 * attached one holds its container's output back. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kconfig.h"
#include "path.h"
#include "supervise_int.h"

#define OBUF (RT_CTL_HDR + RT_CTL_MAX)
/* Room a follower needs in its output buffer for one record frame. */
#define REC_FRAME (RT_CTL_HDR + 40 + RT_LOGRING_REC)

enum cmode { M_REQ, M_FOLLOW, M_WAIT, M_EXEC };

struct conn {
	int fd;
	enum cmode mode;
	struct rt_ctl_rd rd;
	int fds[RT_CTL_MAXFD], nfds;
	size_t olen, ooff;
	int ctr;                /* container followed or waited for, -1 */
	uint64_t cursor;
	int lossless;           /* attach: the ring must not overtake it */
	int follow, timestamps;
	int ending;             /* send {"exit":code} once caught up */
	int code;
	int bol[3];             /* at the beginning of a line, per stream */
	int closing;            /* close once the output is flushed */
};

struct exec_slot {
	pid_t pid;
	int conn;
};

static struct conn conns[RT_SUP_MAX_CLIENTS];
static struct exec_slot execs[RT_SUP_MAX_EXECS];
static uint8_t conn_in[RT_SUP_MAX_CLIENTS][RT_CTL_MAX];
static uint8_t conn_out[RT_SUP_MAX_CLIENTS][OBUF];
static char scratch[RT_CTL_MAX];        /* replies are built here */
static struct rt_json_tok reqtok[RT_CTR_TOK];

static void pump(int i);

/* Tables to their empty state, before the loop starts. */
void sup_serve_init(void)
{
	int i;

	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++)
		conns[i].fd = -1;
	for (i = 0; i < RT_SUP_MAX_EXECS; i++)
		execs[i].conn = -1;
}

static void conn_events(int i)
{
	struct conn *c = &conns[i];
	uint32_t ev = EPOLLRDHUP;

	if (c->olen > c->ooff)
		ev |= EPOLLOUT;
	else if (c->mode == M_REQ && !c->closing)
		ev |= EPOLLIN;
	sup_ep_set(EPOLL_CTL_MOD, c->fd, ev, EVD(K_CONN, i));
}

static void conn_flush(int i)
{
	struct conn *c = &conns[i];

	while (c->ooff < c->olen) {
		ssize_t n = send(c->fd, conn_out[i] + c->ooff, c->olen - c->ooff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			sup_conn_close(i);
			return;
		}
		c->ooff += (size_t)n;
	}
	if (c->ooff == c->olen) {
		c->ooff = c->olen = 0;
		if (c->closing) {
			sup_conn_close(i);
			return;
		}
	}
	conn_events(i);
}

/* Queue one frame. A client that lets a whole buffer of replies pile up is
 * not reading: it is dropped rather than buffered for. */
static int conn_queue(int i, int type, const void *p, size_t len)
{
	struct conn *c = &conns[i];

	if (c->ooff > 0 && c->ooff == c->olen)
		c->ooff = c->olen = 0;
	if (len > RT_CTL_MAX || OBUF - c->olen < RT_CTL_HDR + len) {
		sup_conn_close(i);
		return -1;
	}
	rt_ctl_hdr(conn_out[i] + c->olen, type, len);
	memcpy(conn_out[i] + c->olen + RT_CTL_HDR, p, len);
	c->olen += RT_CTL_HDR + len;
	return 0;
}

static void reply_json(int i, struct rt_json_w *w)
{
	struct rt_err e;

	if (rt_json_w_finish(w, &e) < 0) {
		static const char big[] = "{\"ok\":false,\"code\":125,\"error\":\"reply too large\"}";

		conn_queue(i, RT_CTL_JSON, big, sizeof big - 1);
	} else {
		conn_queue(i, RT_CTL_JSON, w->buf, w->len);
	}
	if (conns[i].fd >= 0)
		conn_flush(i);
}

static void reply_err(int i, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_err(int i, int code, const char *fmt, ...)
{
	char msg[RT_ERR_MSG + 64];
	struct rt_json_w w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, false);
	rt_json_w_key(&w, "code");
	rt_json_w_i64(&w, code);
	rt_json_w_key(&w, "error");
	rt_json_w_str(&w, msg);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static void reply_e(int i, int code, const struct rt_err *e)
{
	char buf[RT_ERR_MSG + 64];

	reply_err(i, code, "%s", rt_err_str(e, buf, sizeof buf));
}

static void reply_ok(int i)
{
	static const char ok[] = "{\"ok\":true}";

	conn_queue(i, RT_CTL_JSON, ok, sizeof ok - 1);
	if (conns[i].fd >= 0)
		conn_flush(i);
}

static void reply_exit(int i, const char *key, int code)
{
	struct rt_json_w w;

	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	if (strcmp(key, "exit")) {
		rt_json_w_key(&w, "ok");
		rt_json_w_bool(&w, true);
	}
	rt_json_w_key(&w, key);
	rt_json_w_i64(&w, code);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

/* How much may be read now without overwriting what an attached client
 * has not been sent: a record per byte in the worst case. */
size_t sup_read_budget(int ci)
{
	uint64_t room = UINT64_MAX;
	int i;

	/* Shutting down: nobody may hold a container's end back. */
	if (sup.stopping)
		return 65536;
	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++) {
		struct conn *c = &conns[i];

		if (c->fd >= 0 && c->mode == M_FOLLOW && c->ctr == ci && c->lossless) {
			uint64_t r = rt_logring_room(&sup_ctrs[ci].ring, c->cursor);

			if (r < room)
				room = r;
		}
	}
	room /= RT_LOGRING_HDR + 1;
	return room > 65536 ? 65536 : (size_t)room;
}

void sup_notify_output(int ci)
{
	int i;

	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++)
		if (conns[i].fd >= 0 && conns[i].mode == M_FOLLOW && conns[i].ctr == ci)
			pump(i);
}

static void follow_end(int i)
{
	struct conn *c = &conns[i];
	int ci = c->ctr;

	c->mode = M_REQ;
	c->ctr = -1;
	c->ending = 0;
	reply_exit(i, "exit", c->code);
	if (ci >= 0)
		sup_ctr_unref(ci);
}

static void pump(int i)
{
	static uint8_t data[RT_LOGRING_REC];
	struct conn *c = &conns[i];
	struct ctr *t;
	struct rt_logrec rec;
	int k;

	if (c->fd < 0 || c->mode != M_FOLLOW || c->ctr < 0)
		return;
	t = &sup_ctrs[c->ctr];
	while (OBUF - c->olen >= REC_FRAME) {
		uint8_t *f = conn_out[i] + c->olen;
		size_t n = 0;

		if (rt_logring_read(&t->ring, &c->cursor, &rec, data, NULL) != 1)
			break;
		if (c->timestamps && c->bol[rec.stream]) {
			char ts[40];

			sup_fmt_time(rec.ts, ts, sizeof ts);
			n = (size_t)snprintf((char *)f + RT_CTL_HDR, 40, "%s ", ts);
		}
		c->bol[rec.stream] = rec.eol;
		memcpy(f + RT_CTL_HDR + n, data, rec.len);
		n += rec.len;
		rt_ctl_hdr(f, rec.stream == RT_LOG_STDERR ? RT_CTL_ERR : RT_CTL_OUT, n);
		c->olen += RT_CTL_HDR + n;
	}
	if (c->olen > c->ooff)
		conn_flush(i);
	if (c->fd < 0)
		return;
	/* An attached client that caught up lets the pipes flow again. */
	if (c->lossless && !t->gone)
		for (k = 0; k < 2; k++)
			if (t->out[k] >= 0 && !t->polled[k] && t->tty_client < 0 &&
			    sup_read_budget(c->ctr) > 0)
				sup_out_poll(c->ctr, k, 1);
	if (rt_logring_pending(&t->ring, c->cursor) == 0 && c->olen == c->ooff &&
	    (c->ending || !c->follow))
		follow_end(i);
}

static void follow_start(int i, int ci, uint64_t cursor, int lossless, int follow,
			 int timestamps)
{
	struct conn *c = &conns[i];

	c->mode = M_FOLLOW;
	c->ctr = ci;
	sup_ctrs[ci].refs++;
	c->cursor = cursor;
	c->lossless = lossless;
	c->follow = follow;
	c->timestamps = timestamps;
	c->ending = 0;
	c->code = 0;
	c->bol[1] = c->bol[2] = 1;
	conn_events(i);
	pump(i);
}

static void wait_start(int i, int ci)
{
	conns[i].mode = M_WAIT;
	conns[i].ctr = ci;
	sup_ctrs[ci].refs++;
	conn_events(i);
}

/* A run is over (or a stop/rm finished): wake whoever waits for it. */
void sup_notify_end(int ci, int final)
{
	struct ctr *t = &sup_ctrs[ci];
	int i;

	for (i = 0; i < RT_SUP_MAX_CLIENTS; i++) {
		struct conn *c = &conns[i];

		if (c->fd < 0 || c->ctr != ci)
			continue;
		if (c->mode == M_WAIT) {
			c->mode = M_REQ;
			c->ctr = -1;
			reply_exit(i, "exit_code", t->life.exit_code);
			sup_ctr_unref(ci);
		} else if (c->mode == M_FOLLOW && (c->lossless || final)) {
			c->ending = 1;
			c->code = t->life.exit_code;
			pump(i);
		}
	}
}

static const char *status_name(const struct ctr *c)
{
	switch (c->life.state) {
	case RT_LS_CREATED: return "created";
	case RT_LS_RUNNING: return "running";
	case RT_LS_STOPPING: return "running";
	case RT_LS_RESTARTING: return "restarting";
	case RT_LS_CRASHLOOP: return "crash-loop";
	case RT_LS_EXITED: return "exited";
	default: return "removing";
	}
}

static void op_ps(int i, const struct rt_ctl_req *q)
{
	struct rt_json_w w;
	int ci;

	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "containers");
	rt_json_w_arr(&w);
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++) {
		struct ctr *c = &sup_ctrs[ci];

		if (!sup_ctr_visible(ci))
			continue;
		if (!q->all && !rt_life_alive(&c->life) && c->life.state != RT_LS_RESTARTING &&
		    c->life.state != RT_LS_CRASHLOOP)
			continue;
		rt_json_w_obj(&w);
		rt_json_w_key(&w, "id");
		rt_json_w_str(&w, c->m.id);
		rt_json_w_key(&w, "name");
		rt_json_w_str(&w, c->m.name);
		rt_json_w_key(&w, "image");
		rt_json_w_str(&w, c->m.image);
		rt_json_w_key(&w, "command");
		rt_json_w_str(&w, c->m.cmd);
		rt_json_w_key(&w, "created");
		rt_json_w_i64(&w, c->m.created);
		rt_json_w_key(&w, "state");
		rt_json_w_str(&w, status_name(c));
		rt_json_w_key(&w, "exit_code");
		rt_json_w_i64(&w, c->life.exit_code);
		rt_json_w_key(&w, "started");
		rt_json_w_i64(&w, c->started);
		rt_json_w_key(&w, "finished");
		rt_json_w_i64(&w, c->finished);
		rt_json_w_key(&w, "restarts");
		rt_json_w_u64(&w, c->life.restarts);
		rt_json_w_key(&w, "app");
		rt_json_w_bool(&w, c->m.app);
		/* "" without a check or when not running, as ps shows it. */
		rt_json_w_key(&w, "health");
#ifdef CONFIG_HEALTHCHECK
		rt_json_w_str(&w, sup_health_status(ci));
#else
		rt_json_w_str(&w, "");
#endif
		rt_json_w_end(&w);
	}
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static void op_create(int i, const struct rt_ctl_req *q)
{
	static char rec[RT_CTR_REC_MAX];
	struct rt_ctr_meta m;
	struct rt_json_w w;
	struct rt_err e;
	int n, ci;

	if (sup.stopping)
		return reply_err(i, 125, "the rt daemon is shutting down");
	if (rt_ctr_check(q->obj, q->objlen, &m, &e) < 0)
		return reply_e(i, 125, &e);
	if (m.name[0] && sup_name_taken(m.name))
		return reply_err(i, 125,
				 "Conflict. The container name \"/%s\" is already in use. You have to remove (or rename) that container to be able to reuse that name.",
				 m.name);
	if (rt_ctr_new_id(m.id, &e) < 0)
		return reply_e(i, 125, &e);
	if (!m.name[0]) {
		uint32_t r;
		unsigned t;
		char hex[9];

		/* The id is random: its first 32 bits pick the name. */
		memcpy(hex, m.id, 8);
		hex[8] = '\0';
		r = (uint32_t)strtoul(hex, NULL, 16);
		for (t = 0; t < 1000; t++) {
			rt_ctr_name_gen(m.name, r, t);
			if (!sup_name_taken(m.name))
				break;
		}
	}
	m.created = sup_real_ns();
	n = rt_ctr_record(&m, q->obj, q->objlen, rec, sizeof rec, &e);
	if (n < 0)
		return reply_e(i, 125, &e);
	ci = sup_ctr_alloc(rec, (size_t)n, &e);
	if (ci < 0)
		return reply_e(i, 125, &e);
	if (rt_ctr_save(sup.rootfd, m.id, rec, (size_t)n, !m.autoremove, &e) < 0) {
		sup_ctr_free(ci);
		return reply_e(i, 125, &e);
	}
	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "id");
	rt_json_w_str(&w, m.id);
	rt_json_w_key(&w, "name");
	rt_json_w_str(&w, m.name);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static int take_fd(int i)
{
	struct conn *c = &conns[i];
	int fd;

	if (c->nfds == 0)
		return -1;
	fd = c->fds[0];
	memmove(c->fds, c->fds + 1, sizeof c->fds[0] * (size_t)(c->nfds - 1));
	c->nfds--;
	return fd;
}

static void op_start(int i, const struct rt_ctl_req *q, int ci)
{
	struct ctr *c = &sup_ctrs[ci];
	struct rt_err e;
	uint64_t cursor = c->ring.head;
	int alive = rt_life_alive(&c->life), r;

	if (sup.stopping)
		return reply_err(i, 125, "the rt daemon is shutting down");
	/* A client that attaches with -i gets stdin even when the
	   container was created without it (start -ai). */
	if (q->stdin_open && q->attach && !c->m.tty && !alive)
		c->stdin_want = 1;
	if (!alive) {
		rt_err_clear(&e);
		sup_ctr_event(ci, RT_LE_START, 0, &e);
		c->stdin_want = 0;
		if (!c->used)
			return reply_err(i, 125, "container removed");
		if (!rt_life_alive(&c->life) && c->life.state != RT_LS_RESTARTING) {
			if (e.msg[0])
				return reply_e(i, c->life.exit_code ? c->life.exit_code : 125, &e);
			return reply_err(i, 125, "container %s did not start", c->m.name);
		}
	}
	if (!q->attach)
		return reply_ok(i);
	if (c->m.tty && IS_ENABLED(CONFIG_TTY)) {
		static const char ok[] = "{\"ok\":true,\"tty\":true}";
		int fd = c->out[0];

		if (fd < 0 || c->tty_client >= 0)
			return reply_err(i, 125, "cannot attach to the terminal of %s", c->m.name);
		if (rt_ctl_send(conns[i].fd, RT_CTL_JSON, ok, sizeof ok - 1, &fd, 1, &e) < 0) {
			sup_conn_close(i);
			return;
		}
		/* The client relays the terminal itself; the ring takes over
		   when it leaves. */
		sup_out_poll(ci, 0, 0);
		c->tty_client = i;
		wait_start(i, ci);
		return;
	}
	if (q->stdin_open && c->stdin_w >= 0) {
		static const char ok[] = "{\"ok\":true,\"stdin\":true}";

		/* The client feeds the container's stdin pipe and closes it
		   at its end of input, as Docker's attach with StdinOnce:
		   our copy goes, so the container sees that end. */
		r = rt_ctl_send(conns[i].fd, RT_CTL_JSON, ok, sizeof ok - 1, &c->stdin_w, 1, &e);
		sup_xclose(&c->stdin_w);
		if (r < 0) {
			sup_conn_close(i);
			return;
		}
	} else {
		reply_ok(i);
	}
	if (conns[i].fd >= 0)
		follow_start(i, ci, alive ? c->ring.head : cursor, 1, 1, 0);
}

static void op_stop(int i, const struct rt_ctl_req *q, int ci, enum rt_life_event ev)
{
	struct ctr *c = &sup_ctrs[ci];
	int64_t t = q->timeout >= 0 ? q->timeout : c->m.stop_timeout;

	if (ev == RT_LE_RESTART && !rt_life_alive(&c->life)) {
		struct rt_err e;

		rt_err_clear(&e);
		sup_ctr_event(ci, RT_LE_RESTART, 0, &e);
		if (e.msg[0])
			return reply_e(i, 125, &e);
		return reply_ok(i);
	}
	sup_ctr_event(ci, ev, t * 1000, NULL);
	if (c->used && rt_life_alive(&c->life))
		return wait_start(i, ci);
	reply_ok(i);
}

static void op_kill(int i, const struct rt_ctl_req *q, int ci)
{
	struct rt_err e;

	rt_err_clear(&e);
	if (!rt_life_alive(&sup_ctrs[ci].life))
		return reply_err(i, 125, "Cannot kill container: %s: container %s is not running",
				 q->ref, sup_ctrs[ci].m.id);
	sup_ctr_event(ci, RT_LE_KILL, q->signal ? q->signal : SIGKILL, &e);
	reply_ok(i);
}

static void op_rm(int i, const struct rt_ctl_req *q, int ci)
{
	struct ctr *c = &sup_ctrs[ci];

	if (rt_life_alive(&c->life) && !q->force)
		return reply_err(i, 125,
				 "cannot remove container \"/%s\": container is running: stop the container before removing or force remove",
				 c->m.name);
	sup_ctr_event(ci, RT_LE_REMOVE, 0, NULL);
	if (c->used && !c->gone)
		return wait_start(i, ci);
	reply_ok(i);
}

static void op_logs(int i, const struct rt_ctl_req *q, int ci)
{
	struct ctr *c = &sup_ctrs[ci];
	int live = rt_life_alive(&c->life) || c->life.state == RT_LS_RESTARTING ||
		   c->life.state == RT_LS_CRASHLOOP;

	reply_ok(i);
	if (conns[i].fd >= 0)
		follow_start(i, ci, rt_logring_tail_lines(&c->ring, (long)q->tail), 0,
			     q->follow && live, q->timestamps);
}

static void op_wait(int i, int ci)
{
	if (rt_life_alive(&sup_ctrs[ci].life))
		return wait_start(i, ci);
	reply_exit(i, "exit_code", sup_ctrs[ci].life.exit_code);
}

static void op_inspect(int i, int ci)
{
	struct ctr *c = &sup_ctrs[ci];
	struct rt_json_w w;
	struct rt_err e;
	char t[48], pol[24], name[RT_CTR_NAME + 2];

	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "container");
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "Id");
	rt_json_w_str(&w, c->m.id);
	rt_json_w_key(&w, "Name");
	snprintf(name, sizeof name, "/%s", c->m.name);
	rt_json_w_str(&w, name);
	rt_json_w_key(&w, "Created");
	sup_fmt_time(c->m.created, t, sizeof t);
	rt_json_w_str(&w, t);
	rt_json_w_key(&w, "Image");
	rt_json_w_str(&w, c->m.image);
	rt_json_w_key(&w, "State");
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "Status");
	rt_json_w_str(&w, status_name(c));
	rt_json_w_key(&w, "Running");
	rt_json_w_bool(&w, rt_life_alive(&c->life));
	rt_json_w_key(&w, "Restarting");
	rt_json_w_bool(&w, c->life.state == RT_LS_RESTARTING || c->life.state == RT_LS_CRASHLOOP);
	rt_json_w_key(&w, "CrashLoop");
	rt_json_w_bool(&w, c->life.state == RT_LS_CRASHLOOP);
	rt_json_w_key(&w, "Pid");
	rt_json_w_i64(&w, c->proc.pid);
	rt_json_w_key(&w, "ExitCode");
	rt_json_w_i64(&w, c->life.exit_code);
	rt_json_w_key(&w, "Error");
	rt_json_w_str(&w, c->error);
	rt_json_w_key(&w, "StartedAt");
	sup_fmt_time(c->started, t, sizeof t);
	rt_json_w_str(&w, t);
	rt_json_w_key(&w, "FinishedAt");
	sup_fmt_time(c->finished, t, sizeof t);
	rt_json_w_str(&w, t);
#ifdef CONFIG_HEALTHCHECK
	sup_health_json(ci, &w);
#endif
	rt_json_w_end(&w);
	rt_json_w_key(&w, "RestartCount");
	rt_json_w_u64(&w, c->life.restarts);
	rt_json_w_key(&w, "RestartPolicy");
	rt_json_w_str(&w, rt_life_policy_str(c->m.policy, pol, sizeof pol));
	rt_json_w_key(&w, "Config");
	if (rt_ctr_copy_config(&w, c->conf, c->conflen, &e) < 0)
		return reply_e(i, 125, &e);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* An exec'd process gets pipes, never the client's own fds: a process
 * could reopen those through /proc/self/fd/N with any access (a file
 * given as stdout for reading, as stdin for writing). Without -i its
 * stdin is the container's /dev/null (-1). */
static int exec_pipes(int io[3][2], int in, struct rt_err *e)
{
	int k;

	for (k = in ? 0 : 1; k < 3; k++)
		if (pipe2(io[k], O_CLOEXEC) < 0) {
			rt_err_sys(e, "pipe");
			while (k-- > 0) {
				sup_xclose(&io[k][0]);
				sup_xclose(&io[k][1]);
			}
			return -1;
		}
	return 0;
}

static void op_exec(int i, const struct rt_ctl_req *q, int ci)
{
	static char xarena[RT_CTL_MAX + 8192];
	static struct rt_sandbox_exec x;
	struct ctr *c = &sup_ctrs[ci];
	struct rt_sandbox_proc p = { 0, -1, -1 };
	char sdir[RT_PATH_MAX];
	struct rt_err e;
	int slot, k, r, io[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };

	if (!IS_ENABLED(CONFIG_EXEC))
		return reply_err(i, 125, "exec is not available in this build");
	if (c->proc.pid <= 0 || c->life.state != RT_LS_RUNNING)
		return reply_err(i, 125, "container %s is not running", c->m.id);
	for (slot = 0; slot < RT_SUP_MAX_EXECS; slot++)
		if (execs[slot].pid == 0)
			break;
	if (slot == RT_SUP_MAX_EXECS)
		return reply_err(i, 125, "too many exec sessions (at most %d)", RT_SUP_MAX_EXECS);
	if (sup_build_spec(ci, sdir, sizeof sdir, &e) < 0 ||
	    rt_ctr_exec(c->conf, c->conflen, q->obj, q->objlen, &x, xarena, sizeof xarena, &e) < 0)
		return reply_e(i, 125, &e);
	x.tty = x.tty && IS_ENABLED(CONFIG_TTY);
	if (!x.tty && exec_pipes(io, q->stdin_open, &e) < 0)
		return reply_e(i, 125, &e);
	for (k = 0; !x.tty && k < 3; k++)
		x.stdio[k] = io[k][k == 0 ? 0 : 1];
	r = rt_sandbox_exec_spawn(&sup_spec, &c->proc, &x, &p, &e);
	for (k = 0; !x.tty && k < 3; k++)
		sup_xclose(&io[k][k == 0 ? 0 : 1]);
	if (r < 0) {
		for (k = 0; !x.tty && k < 3; k++)
			sup_xclose(&io[k][k == 0 ? 1 : 0]);
		return reply_e(i, sup_spawn_code(&e), &e);
	}
	execs[slot].pid = p.pid;
	execs[slot].conn = i;
	if (p.pidfd >= 0)
		close(p.pidfd);
	if (x.tty) {
		static const char ok[] = "{\"ok\":true,\"tty\":true}";

		r = rt_ctl_send(conns[i].fd, RT_CTL_JSON, ok, sizeof ok - 1, &p.pty, 1, &e);
		close(p.pty);
	} else {
		static const char ok[] = "{\"ok\":true,\"pipes\":true}";
		/* Our ends go to the client, which relays them: stdout,
		   stderr, then stdin's write end when it asked for -i. */
		int fds[3] = { io[1][0], io[2][0], io[0][1] };

		r = rt_ctl_send(conns[i].fd, RT_CTL_JSON, ok, sizeof ok - 1, fds,
				fds[2] >= 0 ? 3 : 2, &e);
		for (k = 0; k < 3; k++)
			close_fd(fds[k]);
	}
	if (r < 0) {
		sup_conn_close(i);
		return;
	}
	if (conns[i].fd >= 0) {
		conns[i].mode = M_EXEC;
		conn_events(i);
	}
}

static void op_volume_users(int i, const struct rt_ctl_req *q)
{
	struct rt_json_w w;
	char needle[RT_CTL_REF + 16];
	int ci;

	if (!rt_ctr_volume_ok(q->ref))
		return reply_err(i, 125, "invalid volume name '%s'", q->ref);
	snprintf(needle, sizeof needle, "\"volume\":\"%s\"", q->ref);
	rt_json_w_init(&w, scratch, sizeof scratch);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "ok");
	rt_json_w_bool(&w, true);
	rt_json_w_key(&w, "containers");
	rt_json_w_arr(&w);
	/* Records are written compactly by rt_ctr_record, and a volume name
	   needs no escaping, so the member's bytes are exact. */
	for (ci = 0; ci < RT_SUP_MAX_CONTAINERS; ci++)
		if (sup_ctr_visible(ci) && memmem(sup_ctrs[ci].conf, sup_ctrs[ci].conflen, needle, strlen(needle)))
			rt_json_w_str(&w, sup_ctrs[ci].m.name);
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	reply_json(i, &w);
}

/* An exec session's process was reaped: tell its client the code. */
int sup_exec_reaped(pid_t pid, int status)
{
	int x;

	for (x = 0; x < RT_SUP_MAX_EXECS; x++) {
		int i = execs[x].conn;

		if (execs[x].pid != pid)
			continue;
		execs[x].pid = 0;
		if (i >= 0 && conns[i].fd >= 0 && conns[i].mode == M_EXEC) {
			conns[i].mode = M_REQ;
			reply_exit(i, "exit", WIFEXITED(status) ? WEXITSTATUS(status)
							      : 128 + WTERMSIG(status));
		}
		return 1;
	}
	return 0;
}

static void handle_request(int i)
{
	struct conn *c = &conns[i];
	struct rt_ctl_req q;
	struct rt_err e;
	int ci = -1;

	if (c->rd.type != RT_CTL_JSON) {
		reply_err(i, 125, "expected a request");
		goto out;
	}
	if (rt_ctl_req_parse(&q, (const char *)c->rd.buf, c->rd.len, reqtok,
			     sizeof reqtok / sizeof reqtok[0], &e) < 0) {
		reply_e(i, 125, &e);
		goto out;
	}
	if (q.op != RT_OP_PS && q.op != RT_OP_CREATE && q.op != RT_OP_VOLUME_USERS) {
		ci = sup_ctr_find(q.ref, &e);
		if (ci < 0) {
			reply_e(i, e.errnum == ENOENT ? 1 : 125, &e);
			goto out;
		}
	}
	switch (q.op) {
	case RT_OP_PS: op_ps(i, &q); break;
	case RT_OP_CREATE: op_create(i, &q); break;
	case RT_OP_START: op_start(i, &q, ci); break;
	case RT_OP_STOP: op_stop(i, &q, ci, RT_LE_STOP); break;
	case RT_OP_RESTART: op_stop(i, &q, ci, RT_LE_RESTART); break;
	case RT_OP_KILL: op_kill(i, &q, ci); break;
	case RT_OP_RM: op_rm(i, &q, ci); break;
	case RT_OP_LOGS: op_logs(i, &q, ci); break;
	case RT_OP_WAIT: op_wait(i, ci); break;
	case RT_OP_INSPECT: op_inspect(i, ci); break;
	case RT_OP_EXEC: op_exec(i, &q, ci); break;
	case RT_OP_VOLUME_USERS: op_volume_users(i, &q); break;
	}
out:
	/* fds a request did not use are not kept. */
	while (c->fd >= 0 && c->nfds > 0) {
		int fd = take_fd(i);

		close(fd);
	}
}

void sup_conn_close(int i)
{
	struct conn *c = &conns[i];
	int k, ci = c->ctr;

	if (c->fd < 0)
		return;
	epoll_ctl(sup.ep, EPOLL_CTL_DEL, c->fd, NULL);
	sup_xclose(&c->fd);
	for (k = 0; k < c->nfds; k++)
		close(c->fds[k]);
	c->nfds = 0;
	for (k = 0; k < RT_SUP_MAX_EXECS; k++)
		if (execs[k].conn == i)
			execs[k].conn = -1;
	c->mode = M_REQ;
	c->ctr = -1;
	if (ci >= 0) {
		struct ctr *t = &sup_ctrs[ci];

		/* A terminal client left: the ring keeps the output from now. */
		if (t->tty_client == i) {
			t->tty_client = -1;
			if (!t->gone)
				sup_out_poll(ci, 0, 1);
		}
		if (!t->gone)
			for (k = 0; k < 2; k++)
				if (t->out[k] >= 0 && !t->polled[k] && t->tty_client < 0)
					sup_out_poll(ci, k, 1);
		sup_ctr_unref(ci);
	}
	/* Give back the pages a large request or reply touched. */
	madvise(conn_in[i], sizeof conn_in[i], MADV_DONTNEED);
	madvise(conn_out[i], sizeof conn_out[i], MADV_DONTNEED);
}

void sup_conn_accept(void)
{
	for (;;) {
		struct ucred cr;
		socklen_t len = sizeof cr;
		int fd = accept4(sup.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), i;

		if (fd < 0)
			return;
		/* Only root and the daemon's own user may drive it. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
		    (cr.uid != 0 && cr.uid != sup.uid)) {
			close(fd);
			continue;
		}
		for (i = 0; i < RT_SUP_MAX_CLIENTS; i++)
			if (conns[i].fd < 0)
				break;
		if (i == RT_SUP_MAX_CLIENTS) {
			static const char busy[] = "J\0\0\x3c{\"ok\":false,\"code\":125,\"error\":\"too many clients, retry\"}";

			send(fd, busy, sizeof busy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		memset(&conns[i], 0, sizeof conns[i]);
		conns[i].fd = fd;
		conns[i].ctr = -1;
		rt_ctl_rd_init(&conns[i].rd, conn_in[i], RT_CTL_MAX);
		sup_ep_set(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP, EVD(K_CONN, i));
	}
}

void sup_conn_input(int i, uint32_t events)
{
	struct conn *c = &conns[i];
	uint8_t tmp[4096];
	int rounds = 0;

	if (c->fd < 0)
		return;     /* closed earlier in the same batch of events */
	if (events & EPOLLOUT) {
		conn_flush(i);
		if (c->fd < 0)
			return;
		if (c->mode == M_FOLLOW)
			pump(i);
		if (c->fd < 0)
			return;
	}
	if (c->mode != M_REQ) {
		/* Nothing is read from a client while it is streamed to or
		   waiting; it may only hang up. */
		if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			sup_conn_close(i);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	/* A bounded number of reads per wake-up keeps one client from
	   starving the rest. */
	while (c->fd >= 0 && c->mode == M_REQ && c->olen == c->ooff && rounds++ < 16) {
		size_t want = rt_ctl_want(&c->rd);
		ssize_t n = rt_ctl_recv(c->fd, tmp, want < sizeof tmp ? want : sizeof tmp,
					c->fds, &c->nfds);
		struct rt_err e;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			sup_conn_close(i);
			return;
		}
		rt_ctl_push(&c->rd, tmp, (size_t)n);
		if (rt_ctl_rd_check(&c->rd, &e) < 0) {
			char msg[RT_ERR_MSG + 64];

			reply_err(i, 125, "%s", rt_err_str(&e, msg, sizeof msg));
			if (c->fd >= 0) {
				c->closing = 1;
				conn_flush(i);
			}
			return;
		}
		if (c->rd.ready) {
			handle_request(i);
			if (c->fd >= 0)
				rt_ctl_rd_next(&c->rd);
		}
	}
}
