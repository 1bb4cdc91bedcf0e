/* Netlink plumbing and the rtnetlink requests rt needs: links (bridge,
 * veth), addresses, routes. No `ip` binary, no libmnl.
 *
 * Messages are built into a caller-owned buffer with a sticky overflow
 * flag (struct rt_nl_msg): a request that does not fit fails once, when
 * it is sent, never half-written. Replies are read into the socket's own
 * fixed buffer and every attribute is bounds-checked before use, so a
 * short or odd reply is an error, not an overrun.
 *
 * A socket belongs to the network namespace it was created in, for its
 * whole life: rt_nl_open() in the host's namespace configures the host
 * side, and a socket opened while inside a container's namespace (see
 * net.c) configures the container side from the supervisor, without
 * running anything in the container.
 *
 * Addresses are IPv4 in network byte order (uint32_t as in s_addr). */
#ifndef RT_NETLINK_H
#define RT_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RT_NL_BUF 16384          /* replies; dumps come in parts this big */
#define RT_NL_IFNAME 16          /* IFNAMSIZ, with the NUL */
#define RT_NL_TIMEOUT_MS 5000    /* the kernel answers at once; never hang */

struct rt_nl {
	int fd;
	int up;                  /* fd is open; zero-initialised = closed, so
				    a static rt_nl costs no initialised data */
	int proto;               /* NETLINK_ROUTE, NETLINK_NETFILTER */
	uint32_t seq;
	uint32_t pid;            /* our port id, for checking replies */
	uint8_t buf[RT_NL_BUF];
};

/* A message under construction. */
struct rt_nl_msg {
	uint8_t *buf;
	size_t cap, len;
	size_t start;            /* where the current message begins */
	int overflow;            /* sticky: something did not fit */
};

/* One attribute of a reply: type without flags, payload and its length. */
struct rt_nl_attr {
	const uint8_t *data;
	uint16_t len;
	uint16_t present;
};

int rt_nl_open(struct rt_nl *nl, int proto, struct rt_err *e);
void rt_nl_close(struct rt_nl *nl);

/* Builder. begin() starts a message (header + hlen bytes of family
 * header copied from hdr, which may be NULL for zeros) at the end of the
 * buffer, so several can be batched; end() sets its length. */
void rt_nl_msg_init(struct rt_nl_msg *m, void *buf, size_t cap);
void *rt_nl_begin(struct rt_nl_msg *m, uint16_t type, uint16_t flags, uint32_t seq,
		  const void *hdr, size_t hlen);
void rt_nl_end(struct rt_nl_msg *m);
void rt_nl_put(struct rt_nl_msg *m, uint16_t type, const void *data, size_t len);
void rt_nl_put_str(struct rt_nl_msg *m, uint16_t type, const char *s);
void rt_nl_put_u32(struct rt_nl_msg *m, uint16_t type, uint32_t v);   /* host order */
void rt_nl_put_be32(struct rt_nl_msg *m, uint16_t type, uint32_t v);  /* v in host order, written big-endian */
/* Nested attributes: begin returns a mark for end. */
size_t rt_nl_nest(struct rt_nl_msg *m, uint16_t type);
void rt_nl_nest_end(struct rt_nl_msg *m, size_t mark);

/* Parse the attributes in p[0..len) into tb[0..max] (index = type,
 * NLA_F_NESTED and byte-order flags cleared); later duplicates win, types
 * above max are skipped. -1 when an attribute overruns the buffer. */
int rt_nl_parse(const void *p, size_t len, struct rt_nl_attr *tb, int max);
/* Typed reads: -1 when absent or of the wrong size. */
int rt_nl_attr_u32(const struct rt_nl_attr *a, uint32_t *v);
/* A NUL-terminated string attribute into buf (at most cap bytes). */
int rt_nl_attr_str(const struct rt_nl_attr *a, char *buf, size_t cap);

/* Send the messages in m (one, or a batch) and read the replies: every
 * message with NLM_F_ACK gets one, which must be success. On a kernel
 * error, e names it with errnum set. */
int rt_nl_talk(struct rt_nl *nl, struct rt_nl_msg *m, struct rt_err *e);

/* Send a dump request (one message, NLM_F_DUMP) and call cb for each
 * reply message's payload (after the nlmsghdr) until NLMSG_DONE. cb
 * returns < 0 to stop with that error. */
typedef int (*rt_nl_dump_cb)(void *ctx, uint16_t type, const void *p, size_t len,
			     struct rt_err *e);
int rt_nl_dump(struct rt_nl *nl, struct rt_nl_msg *m, rt_nl_dump_cb cb, void *ctx,
	       struct rt_err *e);

uint32_t rt_nl_next_seq(struct rt_nl *nl);

/* --- rtnetlink ------------------------------------------------------------ */

/* ifindex of name in nl's namespace; 0 when there is no such link, < 0 on
 * error. */
int rt_nl_link_index(struct rt_nl *nl, const char *name, struct rt_err *e);

/* What a link is, from RTM_GETLINK. */
struct rt_nl_link {
	int index;
	int master;              /* 0: none */
	uint32_t mtu;
	unsigned flags;          /* IFF_* */
	char name[RT_NL_IFNAME];
	char kind[16];           /* "bridge", "veth", "" */
};
/* The link called name, or with ifindex index when name is NULL. 0 and
 * l filled, 1 when there is no such link, < 0 on error. */
int rt_nl_link_get(struct rt_nl *nl, const char *name, int index, struct rt_nl_link *l,
		   struct rt_err *e);
/* Every link, one call of cb each; cb returns < 0 to stop. */
int rt_nl_links(struct rt_nl *nl, int (*cb)(void *ctx, const struct rt_nl_link *l,
					    struct rt_err *e),
		void *ctx, struct rt_err *e);

int rt_nl_bridge_add(struct rt_nl *nl, const char *name, struct rt_err *e);
/* A veth pair: host end `name` here, peer `peer` created directly in the
 * namespace of netns_fd (-1: here), both with mtu (0: the default). */
int rt_nl_veth_add(struct rt_nl *nl, const char *name, const char *peer, int netns_fd,
		   uint32_t mtu, struct rt_err *e);
/* Delete by name; a missing link is not an error (returns 1). */
int rt_nl_link_del(struct rt_nl *nl, const char *name, struct rt_err *e);
/* Change a link: up (1) / down (0) / leave (-1); master ifindex (-1:
 * leave, 0: none); mtu (0: leave). */
int rt_nl_link_set(struct rt_nl *nl, int index, int up, int master, uint32_t mtu,
		   struct rt_err *e);
/* Add ip/plen to a link; an address already there is fine. */
int rt_nl_addr_add(struct rt_nl *nl, int index, uint32_t ip, int plen, struct rt_err *e);
/* The default route via gw through index. */
int rt_nl_route_default(struct rt_nl *nl, uint32_t gw, int index, struct rt_err *e);
/* The link the IPv4 default route leaves by (0 when there is none). */
int rt_nl_default_oif(struct rt_nl *nl, struct rt_err *e);

#endif
