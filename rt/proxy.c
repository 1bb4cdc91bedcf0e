/* The published-port proxy: listeners, connections, and a splice pump per
 * direction. See proxy.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"

#define ACCEPT_BURST 16
#define UDP_BURST 16             /* datagrams moved per wake-up */

struct listener {
	int fd;                  /* -1: free */
	int proto;
	uint32_t dst_ip;
	uint16_t dst_port;
};

/* Direction d carries fd[d] -> fd[1 - d] through pipe p[d]. */
struct conn {
	int used;
	int listener;
	int fd[2];               /* 0: the client, 1: the container */
	int p[2][2];             /* [d][0] read end, [d][1] write end */
	size_t held[2];          /* bytes in p[d] */
	size_t cap[2];           /* p[d]'s size */
	int eof[2];              /* fd[d] gave end of file */
	int done[2];             /* direction d finished: fd[1-d] shut for writing */
	int gone[2];             /* fd[d] hung up: it takes no more bytes */
	int connecting;
	uint32_t ev[2];          /* interest registered for fd[d] */
};

static struct {
	int ep;
	uint32_t kind;
} P = { -1, 0 };

/* A UDP client of a published port. */
struct usess {
	int fd;                  /* -1: free; connected to the container's port */
	int listener;
	struct sockaddr_in peer; /* the client */
	struct in_addr local;    /* where it wrote to: replies leave from there */
	int64_t last;            /* monotonic seconds of the last datagram */
};

static struct listener ls[RT_PROXY_MAX_LISTEN];
static struct conn cs[RT_PROXY_MAX_CONN];
static struct usess us[RT_PROXY_MAX_UDP];
static int ready;
/* One datagram in flight: the largest an IPv4 UDP payload can be, so
   nothing is ever cut short. Static, and touched only as far as a
   datagram reaches. */
static unsigned char dgram[65536];

static uint64_t tag(uint32_t slot)
{
	return (uint64_t)P.kind << 32 | slot;
}

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void conn_free(int c);

static void setup_tables(void)
{
	int i;

	if (ready)
		return;
	for (i = 0; i < RT_PROXY_MAX_LISTEN; i++)
		ls[i].fd = -1;
	for (i = 0; i < RT_PROXY_MAX_UDP; i++)
		us[i].fd = -1;
	ready = 1;               /* cs[] starts zeroed: nothing in use */
}

void rt_proxy_init(int epfd, uint32_t kind)
{
	int i;

	setup_tables();
	for (i = 0; i < RT_PROXY_MAX_LISTEN; i++)
		rt_proxy_close(i);
	P.ep = epfd;
	P.kind = kind;
}

int rt_proxy_open(int proto, uint32_t ip, uint16_t port, uint16_t *bound, uint32_t dst_ip,
		  uint16_t dst_port, struct rt_err *e)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int h, one = 1, udp = proto == IPPROTO_UDP;
	char a[INET_ADDRSTRLEN];

	setup_tables();
	if (proto != IPPROTO_TCP && !udp)
		return rt_err_set(e, EINVAL, "proxy: bad protocol");
	for (h = 0; h < RT_PROXY_MAX_LISTEN && ls[h].fd >= 0; h++)
		;
	if (h == RT_PROXY_MAX_LISTEN)
		return rt_err_set(e, ENOSPC, "more than %d published ports", RT_PROXY_MAX_LISTEN);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = ip;
	sa.sin_port = htons(port);
	inet_ntop(AF_INET, &ip, a, sizeof a);
	ls[h].fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ls[h].fd < 0)
		return rt_err_sys(e, "proxy: socket");
	/* TIME_WAIT of an earlier run must not keep a restart from binding;
	   for UDP, the address each datagram was sent to, to answer from it. */
	if (setsockopt(ls[h].fd, udp ? IPPROTO_IP : SOL_SOCKET, udp ? IP_PKTINFO : SO_REUSEADDR,
		       &one, sizeof one) < 0) {
		rt_err_sys(e, "proxy: setsockopt");
		closep(&ls[h].fd);
		return -1;
	}
	if (bind(ls[h].fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int err = errno;

		closep(&ls[h].fd);
		if (err == EADDRINUSE)
			return rt_err_set(e, err, "bind %s:%u/%s: port is already allocated", a, port,
					  udp ? "udp" : "tcp");
		return rt_err_set(e, err, "bind %s:%u/%s", a, port, udp ? "udp" : "tcp");
	}
	if ((!udp && listen(ls[h].fd, 64) < 0) ||
	    getsockname(ls[h].fd, (struct sockaddr *)&sa, &sl) < 0) {
		rt_err_sys(e, "listen %s:%u", a, port);
		closep(&ls[h].fd);
		return -1;
	}
	if (P.ep >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag((uint32_t)h) };

		if (epoll_ctl(P.ep, EPOLL_CTL_ADD, ls[h].fd, &ev) < 0) {
			rt_err_sys(e, "proxy: epoll");
			closep(&ls[h].fd);
			return -1;
		}
	}
	ls[h].proto = proto;
	ls[h].dst_ip = dst_ip;
	ls[h].dst_port = dst_port;
	*bound = ntohs(sa.sin_port);
	return h;
}

void rt_proxy_close(int h)
{
	int c;

	if (h < 0 || h >= RT_PROXY_MAX_LISTEN || ls[h].fd < 0)
		return;
	for (c = 0; c < RT_PROXY_MAX_CONN; c++)
		if (cs[c].used && cs[c].listener == h)
			conn_free(c);
	for (c = 0; c < RT_PROXY_MAX_UDP; c++)
		if (us[c].fd >= 0 && us[c].listener == h)
			closep(&us[c].fd);
	closep(&ls[h].fd);       /* close() also leaves the epoll set */
}

void rt_proxy_count(int *listeners, int *conns)
{
	int i;

	*listeners = *conns = 0;
	for (i = 0; ready && i < RT_PROXY_MAX_LISTEN; i++)
		*listeners += ls[i].fd >= 0;
	for (i = 0; ready && i < RT_PROXY_MAX_CONN; i++)
		*conns += cs[i].used;
	for (i = 0; ready && i < RT_PROXY_MAX_UDP; i++)
		*conns += us[i].fd >= 0;
}

/* --- connections ------------------------------------------------------------- */

static void conn_free(int c)
{
	struct conn *k = &cs[c];
	int d;

	for (d = 0; d < 2; d++) {
		closep(&k->fd[d]);
		closep(&k->p[d][0]);
		closep(&k->p[d][1]);
	}
	k->used = 0;
}

static uint32_t slot_of(int c, int side)
{
	return (uint32_t)(RT_PROXY_MAX_LISTEN + 2 * c + side);
}

/* Register what each side waits for; 0 takes a side out of the set. */
static void interest(int c)
{
	struct conn *k = &cs[c];
	int x;

	for (x = 0; x < 2; x++) {
		uint32_t want = 0;

		if (x == 1 && k->connecting) {
			want = EPOLLOUT;
		} else {
			if (!k->eof[x] && k->held[x] < k->cap[x] && !k->gone[1 - x])
				want |= EPOLLIN;
			if (k->held[1 - x] > 0 && !k->gone[x])
				want |= EPOLLOUT;
		}
		if (want == k->ev[x])
			continue;
		{
			struct epoll_event ev = { .events = want, .data.u64 = tag(slot_of(c, x)) };

			if (k->ev[x] == 0)
				epoll_ctl(P.ep, EPOLL_CTL_ADD, k->fd[x], &ev);
			else if (want == 0)
				epoll_ctl(P.ep, EPOLL_CTL_DEL, k->fd[x], &ev);
			else
				epoll_ctl(P.ep, EPOLL_CTL_MOD, k->fd[x], &ev);
		}
		k->ev[x] = want;
	}
}

/* Move what can move in direction d without blocking. 1: progress,
 * 0: none, -1: the connection is broken. */
static int pump(struct conn *k, int d)
{
	int moved = 0;
	ssize_t n;

	if (!k->eof[d] && !k->gone[1 - d] && k->held[d] < k->cap[d]) {
		n = splice(k->fd[d], NULL, k->p[d][1], NULL, k->cap[d] - k->held[d],
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			k->held[d] += (size_t)n;
			moved = 1;
		} else if (n == 0) {
			k->eof[d] = 1;
			moved = 1;
		} else if (errno != EAGAIN && errno != EINTR) {
			return -1;
		}
	}
	if (k->held[d] > 0 && !(d == 0 && k->connecting)) {
		if (k->gone[1 - d])
			return -1;      /* nobody to deliver to */
		n = splice(k->p[d][0], NULL, k->fd[1 - d], NULL, k->held[d],
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			k->held[d] -= (size_t)n;
			moved = 1;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		}
	}
	if (k->eof[d] && k->held[d] == 0 && !k->done[d] && !(d == 0 && k->connecting)) {
		if (!k->gone[1 - d])
			shutdown(k->fd[1 - d], SHUT_WR);
		k->done[d] = 1;
		moved = 1;
	}
	return moved;
}

static void conn_run(int c)
{
	struct conn *k = &cs[c];
	int d, r, again = 1, rounds = 0;

	/* A few rounds at most: a fast pair must not starve the loop. */
	while (again && rounds++ < 8) {
		again = 0;
		for (d = 0; d < 2; d++) {
			r = pump(k, d);
			if (r < 0) {
				conn_free(c);
				return;
			}
			again |= r;
		}
	}
	/* Finished when both directions are, or one side hung up and what
	   it sent has been delivered. */
	if ((k->done[0] && k->done[1]) || (k->gone[0] && k->done[0]) ||
	    (k->gone[1] && k->done[1])) {
		conn_free(c);
		return;
	}
	interest(c);
}

static int pipe_sized(int p[2], size_t *cap)
{
	int sz;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	/* Bounded: at most this much of a connection sits in the kernel. */
	fcntl(p[1], F_SETPIPE_SZ, RT_PROXY_PIPE);
	sz = fcntl(p[1], F_GETPIPE_SZ);
	*cap = sz > 0 ? (size_t)sz : 4096;
	return 0;
}

static void conn_new(int h, int cfd)
{
	struct sockaddr_in sa;
	struct conn *k;
	int c, d;

	for (c = 0; c < RT_PROXY_MAX_CONN && cs[c].used; c++)
		;
	if (c == RT_PROXY_MAX_CONN) {
		close(cfd);
		return;
	}
	k = &cs[c];
	memset(k, 0, sizeof *k);
	k->used = 1;
	k->listener = h;
	k->fd[0] = cfd;
	k->fd[1] = -1;
	for (d = 0; d < 2; d++)
		k->p[d][0] = k->p[d][1] = -1;
	for (d = 0; d < 2; d++)
		if (pipe_sized(k->p[d], &k->cap[d]) < 0) {
			conn_free(c);
			return;
		}
	k->fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd[1] < 0) {
		conn_free(c);
		return;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = ls[h].dst_ip;
	sa.sin_port = htons(ls[h].dst_port);
	if (connect(k->fd[1], (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EINPROGRESS) {
			conn_free(c);
			return;
		}
		k->connecting = 1;
	}
	conn_run(c);
}

static void on_listener(int h)
{
	int i;

	for (i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(ls[h].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		conn_new(h, fd);
	}
}

/* --- UDP sessions -------------------------------------------------------------- */

#define UDP_BASE (RT_PROXY_MAX_LISTEN + 2 * RT_PROXY_MAX_CONN)

static int64_t now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec;
}

/* The session of client `from` (which wrote to `to`) on listener h, made
 * when it has none; -1 when none can be made (the datagram is dropped). */
static int session(int h, const struct sockaddr_in *from, struct in_addr to, int64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_in sa;
	int i, s = -1, lru = 0;

	for (i = 0; i < RT_PROXY_MAX_UDP; i++) {
		struct usess *u = &us[i];

		if (u->fd >= 0 && u->listener == h && u->peer.sin_addr.s_addr == from->sin_addr.s_addr &&
		    u->peer.sin_port == from->sin_port && u->local.s_addr == to.s_addr)
			return i;
	}
	for (i = 0; i < RT_PROXY_MAX_UDP; i++) {
		if (us[i].fd >= 0 && now - us[i].last >= RT_PROXY_UDP_IDLE)
			closep(&us[i].fd);
		if (us[i].fd < 0 && s < 0)
			s = i;
		if (us[i].fd >= 0 && us[i].last < us[lru].last)
			lru = i;
	}
	if (s < 0) {
		s = lru;
		closep(&us[s].fd);
	}
	us[s].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (us[s].fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = ls[h].dst_ip;
	sa.sin_port = htons(ls[h].dst_port);
	ev.data.u64 = tag((uint32_t)(UDP_BASE + s));
	if (connect(us[s].fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    epoll_ctl(P.ep, EPOLL_CTL_ADD, us[s].fd, &ev) < 0) {
		closep(&us[s].fd);
		return -1;
	}
	us[s].listener = h;
	us[s].peer = *from;
	us[s].local = to;
	return s;
}

/* Datagrams from clients, each into its session's socket. */
static void on_udp_listener(int h)
{
	int64_t now = now_s();
	int i;

	for (i = 0; i < UDP_BURST; i++) {
		char ctl[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct sockaddr_in from;
		struct iovec iov = { dgram, sizeof dgram };
		struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
				    .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
		struct in_addr to = { 0 };
		struct cmsghdr *cm;
		ssize_t n = recvmsg(ls[h].fd, &m, MSG_DONTWAIT);
		int s;

		if (n < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(cm), sizeof pi);
				to = pi.ipi_addr;
			}
		if (m.msg_namelen != sizeof from || from.sin_family != AF_INET)
			continue;
		s = session(h, &from, to, now);
		if (s < 0)
			continue;
		us[s].last = now;
		/* Refused (the container's port is closed) or full: dropped. */
		(void)send(us[s].fd, dgram, (size_t)n, MSG_DONTWAIT);
	}
}

/* The container's replies, back to the client from where it wrote to. */
static void on_udp_session(int s)
{
	struct usess *u = &us[s];
	int i;

	for (i = 0; i < UDP_BURST && u->fd >= 0; i++) {
		char ctl[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct in_pktinfo pi;
		struct iovec iov = { dgram, 0 };
		struct msghdr m = { .msg_name = &u->peer, .msg_namelen = sizeof u->peer,
				    .msg_iov = &iov, .msg_iovlen = 1 };
		struct cmsghdr *cm;
		ssize_t n = recv(u->fd, dgram, sizeof dgram, MSG_DONTWAIT);

		if (n < 0)
			return;  /* drained, or an ICMP error now consumed */
		iov.iov_len = (size_t)n;
		memset(ctl, 0, sizeof ctl);
		if (u->local.s_addr) {
			memset(&pi, 0, sizeof pi);
			pi.ipi_spec_dst = u->local;
			m.msg_control = ctl;
			m.msg_controllen = sizeof ctl;
			cm = CMSG_FIRSTHDR(&m);
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(cm), &pi, sizeof pi);
		}
		u->last = now_s();
		(void)sendmsg(ls[u->listener].fd, &m, MSG_DONTWAIT);
	}
}

void rt_proxy_event(uint32_t slot, uint32_t events)
{
	struct conn *k;
	int c, x;

	if (!ready)
		return;
	if (slot < RT_PROXY_MAX_LISTEN) {
		if (ls[slot].fd >= 0 && ls[slot].proto == IPPROTO_UDP)
			on_udp_listener((int)slot);
		else if (ls[slot].fd >= 0)
			on_listener((int)slot);
		return;
	}
	if (slot >= UDP_BASE) {
		if (slot - UDP_BASE < RT_PROXY_MAX_UDP && us[slot - UDP_BASE].fd >= 0)
			on_udp_session((int)(slot - UDP_BASE));
		return;
	}
	slot -= RT_PROXY_MAX_LISTEN;
	c = (int)(slot / 2);
	x = (int)(slot % 2);
	if (c >= RT_PROXY_MAX_CONN || !cs[c].used)
		return;
	k = &cs[c];
	if (x == 1 && k->connecting) {
		int err = 0;
		socklen_t l = sizeof err;

		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(k->fd[1], SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err) {
			conn_free(c);
			return;
		}
		k->connecting = 0;
	} else if (events & EPOLLERR) {
		conn_free(c);
		return;
	} else if (events & EPOLLHUP) {
		/* Both directions of fd[x] are closed: what it sent is still
		   read to its end, but nothing more can be written to it. Its
		   interest drops to what is left to read, so a hung-up fd
		   that cannot be read yet leaves the set instead of waking
		   the loop again and again. */
		k->gone[x] = 1;
	}
	conn_run(c);
}
