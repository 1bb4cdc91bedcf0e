/* Netlink: the socket, message building, replies; then the rtnetlink
 * requests (links, addresses, routes) that replace `ip`. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netlink.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG 1
#endif
#ifndef IFLA_NET_NS_FD
#define IFLA_NET_NS_FD 28
#endif

#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)
#define REQ_BUF 1024            /* every rtnetlink request here fits */

/* --- the socket ------------------------------------------------------------ */

int rt_nl_open(struct rt_nl *nl, int proto, struct rt_err *e)
{
	struct sockaddr_nl sa;
	socklen_t sl = sizeof sa;
	int one = 1;

	nl->proto = proto;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (nl->fd < 0)
		return rt_err_sys(e, "netlink socket");
	nl->up = 1;
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(nl->fd, (struct sockaddr *)&sa, &sl) < 0) {
		rt_err_sys(e, "netlink bind");
		rt_nl_close(nl);
		return -1;
	}
	nl->pid = sa.nl_pid;
	/* Optional (4.12+): short acks that carry the kernel's reason. */
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	{
		struct timespec ts;
		uint32_t r = 0;

		/* A fresh sequence space per socket makes stale replies obvious. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
			r = (uint32_t)ts.tv_nsec;
		nl->seq = r & 0x7fffffffu;
	}
	return 0;
}

void rt_nl_close(struct rt_nl *nl)
{
	if (nl->up)
		close(nl->fd);
	nl->up = 0;
	nl->fd = -1;
}

uint32_t rt_nl_next_seq(struct rt_nl *nl)
{
	return ++nl->seq;
}

/* --- building ---------------------------------------------------------------- */

void rt_nl_msg_init(struct rt_nl_msg *m, void *buf, size_t cap)
{
	m->buf = buf;
	m->cap = cap;
	m->len = m->start = 0;
	m->overflow = 0;
}

static void *room(struct rt_nl_msg *m, size_t n)
{
	void *p;

	if (m->overflow || m->len > m->cap || m->cap - m->len < ALIGN4(n)) {
		m->overflow = 1;
		return NULL;
	}
	p = m->buf + m->len;
	memset(p, 0, ALIGN4(n));
	m->len += ALIGN4(n);
	return p;
}

void *rt_nl_begin(struct rt_nl_msg *m, uint16_t type, uint16_t flags, uint32_t seq,
		  const void *hdr, size_t hlen)
{
	struct nlmsghdr *h;
	uint8_t *fam;
	size_t at = m->len;

	h = room(m, NLMSG_HDRLEN);
	fam = h ? room(m, hlen) : NULL;
	if (!h || !fam)
		return NULL;
	m->start = at;
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	if (hdr && hlen)
		memcpy(fam, hdr, hlen);
	return fam;
}

void rt_nl_end(struct rt_nl_msg *m)
{
	struct nlmsghdr h;

	if (m->overflow)
		return;
	memcpy(&h, m->buf + m->start, sizeof h);
	h.nlmsg_len = (uint32_t)(m->len - m->start);
	memcpy(m->buf + m->start, &h, sizeof h);
}

void rt_nl_put(struct rt_nl_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr a;
	uint8_t *p;

	if (len > 0xffff - NLA_HDRLEN) {
		m->overflow = 1;
		return;
	}
	p = room(m, NLA_HDRLEN + len);
	if (!p)
		return;
	a.nla_len = (uint16_t)(NLA_HDRLEN + len);
	a.nla_type = type;
	memcpy(p, &a, sizeof a);
	if (len)
		memcpy(p + NLA_HDRLEN, data, len);
}

void rt_nl_put_str(struct rt_nl_msg *m, uint16_t type, const char *s)
{
	rt_nl_put(m, type, s, strlen(s) + 1);
}

void rt_nl_put_u32(struct rt_nl_msg *m, uint16_t type, uint32_t v)
{
	rt_nl_put(m, type, &v, sizeof v);
}

void rt_nl_put_be32(struct rt_nl_msg *m, uint16_t type, uint32_t v)
{
	uint32_t b = htonl(v);

	rt_nl_put(m, type, &b, sizeof b);
}

size_t rt_nl_nest(struct rt_nl_msg *m, uint16_t type)
{
	size_t mark = m->len;

	rt_nl_put(m, type | NLA_F_NESTED, NULL, 0);
	return mark;
}

void rt_nl_nest_end(struct rt_nl_msg *m, size_t mark)
{
	struct nlattr a;

	if (m->overflow)
		return;
	if (m->len - mark > 0xffff) {
		m->overflow = 1;
		return;
	}
	memcpy(&a, m->buf + mark, sizeof a);
	a.nla_len = (uint16_t)(m->len - mark);
	memcpy(m->buf + mark, &a, sizeof a);
}

/* Raw bytes inside a nest (veth's peer carries an ifinfomsg first). */
static void put_raw(struct rt_nl_msg *m, const void *data, size_t len)
{
	uint8_t *p = room(m, len);

	if (p)
		memcpy(p, data, len);
}

/* --- parsing ----------------------------------------------------------------- */

int rt_nl_parse(const void *p, size_t len, struct rt_nl_attr *tb, int max)
{
	const uint8_t *b = p;
	size_t off = 0;

	memset(tb, 0, sizeof tb[0] * (size_t)(max + 1));
	while (len - off >= NLA_HDRLEN) {
		struct nlattr a;
		int type;

		memcpy(&a, b + off, sizeof a);
		if (a.nla_len < NLA_HDRLEN || a.nla_len > len - off)
			return -1;
		type = a.nla_type & NLA_TYPE_MASK;
		if (type <= max) {
			tb[type].data = b + off + NLA_HDRLEN;
			tb[type].len = (uint16_t)(a.nla_len - NLA_HDRLEN);
			tb[type].present = 1;
		}
		if (ALIGN4(a.nla_len) >= len - off)
			break;
		off += ALIGN4(a.nla_len);
	}
	return 0;
}

int rt_nl_attr_u32(const struct rt_nl_attr *a, uint32_t *v)
{
	if (!a->present || a->len != sizeof *v)
		return -1;
	memcpy(v, a->data, sizeof *v);
	return 0;
}

int rt_nl_attr_str(const struct rt_nl_attr *a, char *buf, size_t cap)
{
	size_t n;

	if (!a->present || cap == 0)
		return -1;
	n = strnlen((const char *)a->data, a->len);
	if (n >= cap)
		return -1;
	memcpy(buf, a->data, n);
	buf[n] = '\0';
	return 0;
}

/* --- talking ------------------------------------------------------------------- */

static int send_all(struct rt_nl *nl, const struct rt_nl_msg *m, struct rt_err *e)
{
	struct sockaddr_nl sa;
	ssize_t n;

	if (m->overflow)
		return rt_err_set(e, EMSGSIZE, "netlink request too large");
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	do
		n = sendto(nl->fd, m->buf, m->len, 0, (struct sockaddr *)&sa, sizeof sa);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rt_err_sys(e, "netlink send");
	if ((size_t)n != m->len)
		return rt_err_set(e, EMSGSIZE, "netlink send: short write");
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One datagram into nl->buf; its length, or < 0. */
static ssize_t recv_one(struct rt_nl *nl, int64_t deadline, struct rt_err *e)
{
	struct sockaddr_nl sa;
	socklen_t sl;
	ssize_t n;

	for (;;) {
		struct pollfd p = { nl->fd, POLLIN, 0 };
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return rt_err_set(e, ETIMEDOUT, "netlink: no answer from the kernel");
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return rt_err_sys(e, "netlink poll");
		if (r <= 0)
			continue;
		sl = sizeof sa;
		n = recvfrom(nl->fd, nl->buf, sizeof nl->buf, MSG_TRUNC, (struct sockaddr *)&sa, &sl);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return rt_err_sys(e, "netlink receive");
		if ((size_t)n > sizeof nl->buf)
			return rt_err_set(e, EMSGSIZE, "netlink reply larger than %zu bytes", sizeof nl->buf);
		if (sa.nl_pid != 0)
			continue;       /* not from the kernel */
		return n;
	}
}

/* The errno of an NLMSG_ERROR payload, with the kernel's text if any. */
static int ack_error(const struct nlmsghdr *h, const uint8_t *p, size_t len, struct rt_err *e)
{
	struct nlmsgerr er;
	struct rt_nl_attr tb[NLMSGERR_ATTR_MSG + 1];
	char why[128];
	size_t off;

	if (len < sizeof er)
		return rt_err_set(e, EPROTO, "netlink: short error message");
	memcpy(&er, p, sizeof er);
	if (er.error == 0)
		return 0;
	why[0] = '\0';
	if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof er;
		if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
			/* The whole request is echoed before the TLVs. */
			off = sizeof er - sizeof er.msg + ALIGN4(er.msg.nlmsg_len);
		}
		if (off <= len && rt_nl_parse(p + off, len - off, tb, NLMSGERR_ATTR_MSG) == 0)
			rt_nl_attr_str(&tb[NLMSGERR_ATTR_MSG], why, sizeof why);
	}
	if (er.error > 0 || er.error < -4095)
		return rt_err_set(e, EPROTO, "netlink: bad error code");
	if (why[0])
		return rt_err_set(e, -er.error, "%s", why);
	return rt_err_set(e, -er.error, "kernel refused");
}

/* Walk the messages of one datagram. For each of ours (seq in [lo,hi])
 * call fn; fn returns 1 to finish, 0 to go on, < 0 on error. */
static int each_msg(struct rt_nl *nl, size_t n, uint32_t lo, uint32_t hi,
		    int (*fn)(void *ctx, const struct nlmsghdr *h, const uint8_t *p, size_t len,
			      struct rt_err *e),
		    void *ctx, struct rt_err *e)
{
	size_t off = 0;

	while (n - off >= NLMSG_HDRLEN) {
		struct nlmsghdr h;
		int r;

		memcpy(&h, nl->buf + off, sizeof h);
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > n - off)
			return rt_err_set(e, EPROTO, "netlink: malformed reply");
		if (h.nlmsg_seq - lo <= hi - lo && h.nlmsg_type != NLMSG_NOOP) {
			r = fn(ctx, &h, nl->buf + off + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN, e);
			if (r != 0)
				return r;
		}
		if (NLMSG_ALIGN(h.nlmsg_len) >= n - off)
			break;
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	return 0;
}

struct acks {
	unsigned want, got;
};

static int on_ack(void *ctx, const struct nlmsghdr *h, const uint8_t *p, size_t len,
		  struct rt_err *e)
{
	struct acks *a = ctx;

	if (h->nlmsg_type != NLMSG_ERROR)
		return 0;
	if (ack_error(h, p, len, e) < 0)
		return -1;
	return ++a->got >= a->want;
}

int rt_nl_talk(struct rt_nl *nl, struct rt_nl_msg *m, struct rt_err *e)
{
	struct acks a = { 0, 0 };
	uint32_t lo = 0, hi = 0;
	int64_t deadline = now_ms() + RT_NL_TIMEOUT_MS;
	size_t off = 0;
	int first = 1;

	if (m->overflow)
		return rt_err_set(e, EMSGSIZE, "netlink request too large");
	while (m->len - off >= NLMSG_HDRLEN) {
		struct nlmsghdr h;

		memcpy(&h, m->buf + off, sizeof h);
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > m->len - off)
			return rt_err_set(e, EINVAL, "netlink: malformed request");
		if (h.nlmsg_flags & NLM_F_ACK) {
			a.want++;
			if (first || h.nlmsg_seq < lo)
				lo = h.nlmsg_seq;
			if (first || h.nlmsg_seq > hi)
				hi = h.nlmsg_seq;
			first = 0;
		}
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
	if (send_all(nl, m, e) < 0)
		return -1;
	while (a.got < a.want) {
		ssize_t n = recv_one(nl, deadline, e);
		int r;

		if (n < 0)
			return -1;
		r = each_msg(nl, (size_t)n, lo, hi, on_ack, &a, e);
		if (r < 0)
			return -1;
	}
	return 0;
}

struct dumpctx {
	rt_nl_dump_cb cb;
	void *ctx;
	int dump;
};

static int on_dump(void *ctx, const struct nlmsghdr *h, const uint8_t *p, size_t len,
		   struct rt_err *e)
{
	struct dumpctx *d = ctx;

	if (h->nlmsg_type == NLMSG_DONE)
		return 1;
	if (h->nlmsg_type == NLMSG_ERROR) {
		if (ack_error(h, p, len, e) < 0)
			return -1;
		return d->dump ? 0 : 1;
	}
	if (d->cb(d->ctx, h->nlmsg_type, p, len, e) < 0)
		return -1;
	return d->dump ? 0 : 1;
}

/* A dump (until NLMSG_DONE) or a single-answer get (until the answer). */
static int request(struct rt_nl *nl, struct rt_nl_msg *m, rt_nl_dump_cb cb, void *ctx,
		   struct rt_err *e)
{
	struct nlmsghdr h;
	struct dumpctx d = { cb, ctx, 0 };
	int64_t deadline = now_ms() + RT_NL_TIMEOUT_MS;

	if (m->overflow || m->len < NLMSG_HDRLEN)
		return rt_err_set(e, EMSGSIZE, "netlink request too large");
	memcpy(&h, m->buf, sizeof h);
	d.dump = (h.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (send_all(nl, m, e) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv_one(nl, deadline, e);
		int r;

		if (n < 0)
			return -1;
		r = each_msg(nl, (size_t)n, h.nlmsg_seq, h.nlmsg_seq, on_dump, &d, e);
		if (r < 0)
			return -1;
		if (r > 0)
			return 0;
	}
}

int rt_nl_dump(struct rt_nl *nl, struct rt_nl_msg *m, rt_nl_dump_cb cb, void *ctx,
	       struct rt_err *e)
{
	return request(nl, m, cb, ctx, e);
}

/* --- links ---------------------------------------------------------------------- */

static int parse_link(const void *p, size_t len, struct rt_nl_link *l)
{
	struct ifinfomsg ifi;
	struct rt_nl_attr tb[IFLA_MAX + 1], li[IFLA_INFO_MAX + 1];
	uint32_t v;

	memset(l, 0, sizeof *l);
	if (len < sizeof ifi)
		return -1;
	memcpy(&ifi, p, sizeof ifi);
	if (rt_nl_parse((const uint8_t *)p + NLMSG_ALIGN(sizeof ifi),
			len - NLMSG_ALIGN(sizeof ifi), tb, IFLA_MAX) < 0)
		return -1;
	l->index = ifi.ifi_index;
	l->flags = ifi.ifi_flags;
	if (rt_nl_attr_str(&tb[IFLA_IFNAME], l->name, sizeof l->name) < 0)
		return -1;
	if (rt_nl_attr_u32(&tb[IFLA_MTU], &v) == 0)
		l->mtu = v;
	if (rt_nl_attr_u32(&tb[IFLA_MASTER], &v) == 0 && v <= 0x7fffffff)
		l->master = (int)v;
	if (tb[IFLA_LINKINFO].present &&
	    rt_nl_parse(tb[IFLA_LINKINFO].data, tb[IFLA_LINKINFO].len, li, IFLA_INFO_MAX) == 0)
		rt_nl_attr_str(&li[IFLA_INFO_KIND], l->kind, sizeof l->kind);
	return 0;
}

struct getlink {
	struct rt_nl_link *l;
	int found;
	int (*cb)(void *ctx, const struct rt_nl_link *l, struct rt_err *e);
	void *ctx;
};

static int on_link(void *ctx, uint16_t type, const void *p, size_t len, struct rt_err *e)
{
	struct getlink *g = ctx;
	struct rt_nl_link l;

	if (type != RTM_NEWLINK)
		return 0;
	if (parse_link(p, len, &l) < 0)
		return rt_err_set(e, EPROTO, "netlink: malformed link message");
	if (g->cb)
		return g->cb(g->ctx, &l, e);
	*g->l = l;
	g->found = 1;
	return 0;
}

static int name_ok(const char *name, struct rt_err *e)
{
	size_t n = strlen(name);

	if (n == 0 || n >= RT_NL_IFNAME || strchr(name, '/') || strchr(name, ' '))
		return rt_err_set(e, EINVAL, "bad interface name '%.32s'", name);
	return 0;
}

int rt_nl_link_get(struct rt_nl *nl, const char *name, int index, struct rt_nl_link *l,
		   struct rt_err *e)
{
	uint8_t buf[REQ_BUF];
	struct rt_nl_msg m;
	struct ifinfomsg ifi;
	struct getlink g = { NULL, 0, NULL, NULL };

	memset(l, 0, sizeof *l);
	g.l = l;
	if (name && name_ok(name, e) < 0)
		return -1;
	memset(&ifi, 0, sizeof ifi);
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_index = name ? 0 : index;
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_GETLINK, NLM_F_REQUEST, rt_nl_next_seq(nl), &ifi, sizeof ifi);
	if (name)
		rt_nl_put_str(&m, IFLA_IFNAME, name);
	rt_nl_put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	rt_nl_end(&m);
	if (request(nl, &m, on_link, &g, e) < 0) {
		if (e->errnum == ENODEV)
			return 1;
		return rt_err_wrap(e, "get link %s", name ? name : "");
	}
	return g.found ? 0 : 1;
}

int rt_nl_link_index(struct rt_nl *nl, const char *name, struct rt_err *e)
{
	struct rt_nl_link l;
	int r = rt_nl_link_get(nl, name, 0, &l, e);

	if (r < 0)
		return -1;
	return r == 1 ? 0 : l.index;
}

int rt_nl_links(struct rt_nl *nl, int (*cb)(void *ctx, const struct rt_nl_link *l,
					    struct rt_err *e),
		void *ctx, struct rt_err *e)
{
	uint8_t buf[REQ_BUF];
	struct rt_nl_msg m;
	struct ifinfomsg ifi;
	struct getlink g = { NULL, 0, cb, ctx };

	memset(&ifi, 0, sizeof ifi);
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, rt_nl_next_seq(nl), &ifi,
		    sizeof ifi);
	rt_nl_put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	rt_nl_end(&m);
	return request(nl, &m, on_link, &g, e);
}

static int talk1(struct rt_nl *nl, struct rt_nl_msg *m, struct rt_err *e)
{
	rt_nl_end(m);
	return rt_nl_talk(nl, m, e);
}

int rt_nl_bridge_add(struct rt_nl *nl, const char *name, struct rt_err *e)
{
	uint8_t buf[REQ_BUF], mac[6];
	struct rt_nl_msg m;
	struct ifinfomsg ifi;
	size_t li;

	if (name_ok(name, e) < 0)
		return -1;
	/* A fixed address of its own: otherwise the bridge takes the lowest
	   of its ports' and changes as containers come and go, which makes
	   every container's ARP entry for the gateway go stale. */
	if (getrandom(mac, sizeof mac, 0) != (ssize_t)sizeof mac)
		return rt_err_sys(e, "getrandom");
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);    /* unicast, local */
	memset(&ifi, 0, sizeof ifi);
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		    rt_nl_next_seq(nl), &ifi, sizeof ifi);
	rt_nl_put_str(&m, IFLA_IFNAME, name);
	rt_nl_put(&m, IFLA_ADDRESS, mac, sizeof mac);
	li = rt_nl_nest(&m, IFLA_LINKINFO);
	rt_nl_put_str(&m, IFLA_INFO_KIND, "bridge");
	rt_nl_nest_end(&m, li);
	if (talk1(nl, &m, e) < 0)
		return rt_err_wrap(e, "create bridge %s", name);
	return 0;
}

int rt_nl_veth_add(struct rt_nl *nl, const char *name, const char *peer, int netns_fd,
		   uint32_t mtu, struct rt_err *e)
{
	uint8_t buf[REQ_BUF];
	struct rt_nl_msg m;
	struct ifinfomsg ifi;
	size_t li, data, pe;

	if (name_ok(name, e) < 0 || name_ok(peer, e) < 0)
		return -1;
	memset(&ifi, 0, sizeof ifi);
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		    rt_nl_next_seq(nl), &ifi, sizeof ifi);
	rt_nl_put_str(&m, IFLA_IFNAME, name);
	if (mtu)
		rt_nl_put_u32(&m, IFLA_MTU, mtu);
	li = rt_nl_nest(&m, IFLA_LINKINFO);
	rt_nl_put_str(&m, IFLA_INFO_KIND, "veth");
	data = rt_nl_nest(&m, IFLA_INFO_DATA);
	pe = rt_nl_nest(&m, VETH_INFO_PEER);
	put_raw(&m, &ifi, sizeof ifi);
	rt_nl_put_str(&m, IFLA_IFNAME, peer);
	if (mtu)
		rt_nl_put_u32(&m, IFLA_MTU, mtu);
	if (netns_fd >= 0)
		rt_nl_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	rt_nl_nest_end(&m, pe);
	rt_nl_nest_end(&m, data);
	rt_nl_nest_end(&m, li);
	if (talk1(nl, &m, e) < 0)
		return rt_err_wrap(e, "create veth %s", name);
	return 0;
}

int rt_nl_link_del(struct rt_nl *nl, const char *name, struct rt_err *e)
{
	uint8_t buf[REQ_BUF];
	struct rt_nl_msg m;
	struct ifinfomsg ifi;

	if (name_ok(name, e) < 0)
		return -1;
	memset(&ifi, 0, sizeof ifi);
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, rt_nl_next_seq(nl), &ifi,
		    sizeof ifi);
	rt_nl_put_str(&m, IFLA_IFNAME, name);
	if (talk1(nl, &m, e) < 0) {
		if (e->errnum == ENODEV)
			return 1;
		return rt_err_wrap(e, "delete link %s", name);
	}
	return 0;
}

int rt_nl_link_set(struct rt_nl *nl, int index, int up, int master, uint32_t mtu,
		   struct rt_err *e)
{
	uint8_t buf[REQ_BUF];
	struct rt_nl_msg m;
	struct ifinfomsg ifi;

	memset(&ifi, 0, sizeof ifi);
	ifi.ifi_index = index;
	if (up >= 0) {
		ifi.ifi_change = IFF_UP;
		ifi.ifi_flags = up ? IFF_UP : 0;
	}
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, rt_nl_next_seq(nl), &ifi,
		    sizeof ifi);
	if (master >= 0)
		rt_nl_put_u32(&m, IFLA_MASTER, (uint32_t)master);
	if (mtu)
		rt_nl_put_u32(&m, IFLA_MTU, mtu);
	if (talk1(nl, &m, e) < 0)
		return rt_err_wrap(e, "configure link %d", index);
	return 0;
}

int rt_nl_addr_add(struct rt_nl *nl, int index, uint32_t ip, int plen, struct rt_err *e)
{
	uint8_t buf[REQ_BUF];
	struct rt_nl_msg m;
	struct ifaddrmsg ifa;
	char s[INET_ADDRSTRLEN];

	if (plen < 0 || plen > 32 || index <= 0)
		return rt_err_set(e, EINVAL, "bad address");
	memset(&ifa, 0, sizeof ifa);
	ifa.ifa_family = AF_INET;
	ifa.ifa_prefixlen = (uint8_t)plen;
	ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	ifa.ifa_index = (uint32_t)index;
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		    rt_nl_next_seq(nl), &ifa, sizeof ifa);
	rt_nl_put(&m, IFA_LOCAL, &ip, sizeof ip);
	rt_nl_put(&m, IFA_ADDRESS, &ip, sizeof ip);
	if (plen < 31) {
		uint32_t host = plen ? 0xffffffffu >> plen : 0xffffffffu;
		uint32_t bc = ip | htonl(host);

		rt_nl_put(&m, IFA_BROADCAST, &bc, sizeof bc);
	}
	if (talk1(nl, &m, e) < 0) {
		if (e->errnum == EEXIST)
			return 0;
		inet_ntop(AF_INET, &ip, s, sizeof s);
		return rt_err_wrap(e, "add address %s/%d", s, plen);
	}
	return 0;
}

int rt_nl_route_default(struct rt_nl *nl, uint32_t gw, int index, struct rt_err *e)
{
	uint8_t buf[REQ_BUF];
	struct rt_nl_msg m;
	struct rtmsg rt;

	memset(&rt, 0, sizeof rt);
	rt.rtm_family = AF_INET;
	rt.rtm_table = RT_TABLE_MAIN;
	rt.rtm_protocol = RTPROT_BOOT;
	rt.rtm_scope = RT_SCOPE_UNIVERSE;
	rt.rtm_type = RTN_UNICAST;
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
		    rt_nl_next_seq(nl), &rt, sizeof rt);
	rt_nl_put(&m, RTA_GATEWAY, &gw, sizeof gw);
	rt_nl_put_u32(&m, RTA_OIF, (uint32_t)index);
	if (talk1(nl, &m, e) < 0)
		return rt_err_wrap(e, "add default route");
	return 0;
}

static int on_route(void *ctx, uint16_t type, const void *p, size_t len, struct rt_err *e)
{
	int *oif = ctx;
	struct rtmsg rt;
	struct rt_nl_attr tb[RTA_MAX + 1];
	uint32_t v, table;

	(void)e;
	if (type != RTM_NEWROUTE || *oif > 0 || len < sizeof rt)
		return 0;
	memcpy(&rt, p, sizeof rt);
	if (rt.rtm_family != AF_INET || rt.rtm_dst_len != 0 || rt.rtm_type != RTN_UNICAST)
		return 0;
	if (rt_nl_parse((const uint8_t *)p + NLMSG_ALIGN(sizeof rt), len - NLMSG_ALIGN(sizeof rt),
			tb, RTA_MAX) < 0)
		return 0;
	table = rt.rtm_table;
	if (rt_nl_attr_u32(&tb[RTA_TABLE], &v) == 0)
		table = v;
	if (table != RT_TABLE_MAIN)
		return 0;
	if (rt_nl_attr_u32(&tb[RTA_OIF], &v) == 0 && v > 0 && v <= 0x7fffffff)
		*oif = (int)v;
	return 0;
}

int rt_nl_default_oif(struct rt_nl *nl, struct rt_err *e)
{
	uint8_t buf[REQ_BUF];
	struct rt_nl_msg m;
	struct rtmsg rt;
	int oif = 0;

	memset(&rt, 0, sizeof rt);
	rt.rtm_family = AF_INET;
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, rt_nl_next_seq(nl), &rt,
		    sizeof rt);
	rt_nl_end(&m);
	if (request(nl, &m, on_route, &oif, e) < 0)
		return rt_err_wrap(e, "list routes");
	return oif;
}
