/* Outbound NAT, published-port DNAT and network isolation, as one
 * ruleset that is always replaced whole.
 *
 * rt owns one table, `ip rt_net` (the nft tool reserves the word `rt`, so
 * a table of that name could not be listed or restored by name), holding:
 *   postrouting  nat, srcnat     ip saddr NET oifname != BRIDGE masquerade
 *   prerouting   nat, dstnat     fib daddr type local jump publish
 *   output       nat, -100       ip daddr != 127.0.0.0/8 fib daddr type local jump publish
 *   publish      (regular)       iifname BRIDGE return
 *                                [ip daddr HOST] PROTO dport HP dnat to CTR:CP
 *   forward      filter, 0       iifname A oifname != A oifname "rt*" drop  (isolation)
 *                                iifname A accept
 *                                oifname A ct state established,related accept
 * Loopback connections to a published port are not NATed (the kernel
 * would drop them as martians), nor are connections from containers (the
 * reply of a container on the same bridge would bypass the host): the
 * userspace proxy, which holds every published port, serves both, as
 * Docker's userland proxy does.
 *
 * Every change is one nf_tables transaction (add table, delete it, add
 * it again with its contents): the kernel applies all of it or none, and
 * what is left after a crash is replaced by the next apply or removed by
 * rt_nft_clear(). The chains accept by default, so the table never drops
 * anything but cross-network traffic; a host firewall that drops forwarded
 * packets elsewhere still wins (nftables runs every base chain).
 *
 * Backends, chosen once by rt_nft_probe(): nf_tables over netlink (no
 * tool needed); else the `nft` tool fed the same ruleset as text; else
 * `iptables` with chains RT_NET_POST, RT_NET_DNAT, RT_NET_FWD hooked into
 * the built-in chains; else none (no masquerade, ports by the proxy only).
 */
#ifndef RT_NFT_H
#define RT_NFT_H

#include <stdint.h>

#include "err.h"
#include "netlink.h"

#define RT_NFT_TABLE "rt_net"
/* Every bridge of rt's is named rt<N> (see netconf.h): the isolation rule
 * matches the others by this prefix, so interfaces of the host must not
 * start with it. */
#define RT_NFT_BRIDGE_PREFIX "rt"
#define RT_NFT_MAX_NETS 16
#define RT_NFT_MAX_DNAT 128

enum rt_nft_backend {
	RT_NFT_NONE,
	RT_NFT_NETLINK,          /* nf_tables messages, no tool */
	RT_NFT_TOOL,             /* the nft binary */
	RT_NFT_IPTABLES,         /* the iptables binary */
};

struct rt_nft_net {
	char bridge[RT_NL_IFNAME];
	uint32_t subnet;         /* network byte order */
	int plen;
};

struct rt_nft_dnat {
	int proto;               /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_ip;        /* network byte order; 0: any local address */
	uint16_t host_port;      /* host byte order */
	uint32_t ctr_ip;
	uint16_t ctr_port;
};

struct rt_nft_ruleset {
	struct rt_nft_net nets[RT_NFT_MAX_NETS];
	int nnets;
	struct rt_nft_dnat dnat[RT_NFT_MAX_DNAT];
	int ndnat;
};

/* What the kernel and the system offer: the backend, and whether it can
 * DNAT published ports (nf_tables needs the fib expression, 4.10+). */
struct rt_nft_caps {
	enum rt_nft_backend backend;
	int dnat;
};
void rt_nft_probe(struct rt_nft_caps *c);
const char *rt_nft_backend_name(enum rt_nft_backend b);

/* Replace rt's rules with rs (DNAT entries are ignored without c->dnat). */
int rt_nft_apply(const struct rt_nft_caps *c, const struct rt_nft_ruleset *rs,
		 struct rt_err *e);
/* Remove rt's rules entirely (nothing there is fine). */
int rt_nft_clear(const struct rt_nft_caps *c, struct rt_err *e);

/* The ruleset as nft(8) text, for the tool backend and for tests.
 * Returns the length, -1 when it does not fit. */
int rt_nft_text(const struct rt_nft_ruleset *rs, int dnat, char *buf, size_t cap);

/* Build the nf_tables batch for rs into buf (tests check its shape); NULL
 * rs: the batch that removes the table. Returns the length or -1. */
int rt_nft_batch(const struct rt_nft_ruleset *rs, int dnat, uint32_t seq, void *buf,
		 size_t cap);

/* Tests: pretend only this backend exists (RT_NFT_NONE: no NAT). -1: probe. */
void rt_nft_force(int backend);

#endif
