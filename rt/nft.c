/* rt's NAT and forwarding rules: nf_tables messages built by hand (see
 * nft.h for the ruleset), or the same ruleset through nft(8) or
 * iptables(8) when the kernel speaks no nf_tables. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nft.h"
#include "tbuf.h"

#define BATCH_MAX (128u << 10)
#define TOOL_TIMEOUT_MS 10000
/* Hook priorities (linux/netfilter_ipv4.h, which not every libc's headers
 * can include). */
#define PRI_NAT_DST (-100)
#define PRI_FILTER 0
#define PRI_NAT_SRC 100
#define RTN_LOCAL_ 2            /* linux/rtnetlink.h RTN_LOCAL, as fib reports it */

static int forced = -1;
static uint8_t batch[BATCH_MAX];         /* a netlink batch, or nft's text */

void rt_nft_force(int backend)
{
	forced = backend;
}

const char *rt_nft_backend_name(enum rt_nft_backend b)
{
	switch (b) {
	case RT_NFT_NETLINK:
		return "nftables (netlink)";
	case RT_NFT_TOOL:
		return "nftables (nft tool)";
	case RT_NFT_IPTABLES:
		return "iptables (tool)";
	default:
		return "none";
	}
}

/* --- nf_tables messages ------------------------------------------------------ */

struct b {
	struct rt_nl_msg m;
	uint32_t seq;
};

static void msg(struct b *b, int type, uint16_t flags)
{
	struct nfgenmsg g;

	memset(&g, 0, sizeof g);
	g.nfgen_family = NFPROTO_IPV4;
	g.version = NFNETLINK_V0;
	rt_nl_begin(&b->m, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type),
		    (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags), b->seq++, &g, sizeof g);
}

static void batch_mark(struct b *b, int type)
{
	struct nfgenmsg g;

	memset(&g, 0, sizeof g);
	g.nfgen_family = AF_UNSPEC;
	g.version = NFNETLINK_V0;
	g.res_id = htons(NFNL_SUBSYS_NFTABLES);
	rt_nl_begin(&b->m, (uint16_t)type, NLM_F_REQUEST, b->seq++, &g, sizeof g);
	rt_nl_end(&b->m);
}

static void table(struct b *b, int type, const char *name)
{
	msg(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	rt_nl_put_str(&b->m, NFTA_TABLE_NAME, name);
	rt_nl_end(&b->m);
}

/* A base chain (type non-NULL) or a regular one. */
static void chain(struct b *b, const char *tab, const char *name, const char *type, int hook,
		  int prio)
{
	size_t h;

	msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	rt_nl_put_str(&b->m, NFTA_CHAIN_TABLE, tab);
	rt_nl_put_str(&b->m, NFTA_CHAIN_NAME, name);
	if (type) {
		h = rt_nl_nest(&b->m, NFTA_CHAIN_HOOK);
		rt_nl_put_be32(&b->m, NFTA_HOOK_HOOKNUM, (uint32_t)hook);
		rt_nl_put_be32(&b->m, NFTA_HOOK_PRIORITY, (uint32_t)prio);
		rt_nl_nest_end(&b->m, h);
		rt_nl_put_be32(&b->m, NFTA_CHAIN_POLICY, NF_ACCEPT);
		rt_nl_put_str(&b->m, NFTA_CHAIN_TYPE, type);
	}
	rt_nl_end(&b->m);
}

struct rule {
	struct b *b;
	size_t exprs, elem, data;
};

static void rule_begin(struct rule *r, struct b *b, const char *tab, const char *ch)
{
	r->b = b;
	msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	rt_nl_put_str(&b->m, NFTA_RULE_TABLE, tab);
	rt_nl_put_str(&b->m, NFTA_RULE_CHAIN, ch);
	r->exprs = rt_nl_nest(&b->m, NFTA_RULE_EXPRESSIONS);
}

static void rule_end(struct rule *r)
{
	rt_nl_nest_end(&r->b->m, r->exprs);
	rt_nl_end(&r->b->m);
}

static void ex_begin(struct rule *r, const char *name)
{
	r->elem = rt_nl_nest(&r->b->m, NFTA_LIST_ELEM);
	rt_nl_put_str(&r->b->m, NFTA_EXPR_NAME, name);
	r->data = rt_nl_nest(&r->b->m, NFTA_EXPR_DATA);
}

static void ex_end(struct rule *r)
{
	rt_nl_nest_end(&r->b->m, r->data);
	rt_nl_nest_end(&r->b->m, r->elem);
}

static void put_data(struct rt_nl_msg *m, uint16_t type, const void *p, size_t len)
{
	size_t d = rt_nl_nest(m, type);

	rt_nl_put(m, NFTA_DATA_VALUE, p, len);
	rt_nl_nest_end(m, d);
}

static void ex_payload(struct rule *r, int base, int off, int len)
{
	ex_begin(r, "payload");
	rt_nl_put_be32(&r->b->m, NFTA_PAYLOAD_DREG, NFT_REG_1);
	rt_nl_put_be32(&r->b->m, NFTA_PAYLOAD_BASE, (uint32_t)base);
	rt_nl_put_be32(&r->b->m, NFTA_PAYLOAD_OFFSET, (uint32_t)off);
	rt_nl_put_be32(&r->b->m, NFTA_PAYLOAD_LEN, (uint32_t)len);
	ex_end(r);
}

static void ex_cmp(struct rule *r, int op, const void *p, size_t len)
{
	ex_begin(r, "cmp");
	rt_nl_put_be32(&r->b->m, NFTA_CMP_SREG, NFT_REG_1);
	rt_nl_put_be32(&r->b->m, NFTA_CMP_OP, (uint32_t)op);
	put_data(&r->b->m, NFTA_CMP_DATA, p, len);
	ex_end(r);
}

static void ex_mask(struct rule *r, const void *mask, size_t len)
{
	uint8_t zero[16] = { 0 };

	ex_begin(r, "bitwise");
	rt_nl_put_be32(&r->b->m, NFTA_BITWISE_SREG, NFT_REG_1);
	rt_nl_put_be32(&r->b->m, NFTA_BITWISE_DREG, NFT_REG_1);
	rt_nl_put_be32(&r->b->m, NFTA_BITWISE_LEN, (uint32_t)len);
	put_data(&r->b->m, NFTA_BITWISE_MASK, mask, len);
	put_data(&r->b->m, NFTA_BITWISE_XOR, zero, len);
	ex_end(r);
}

static void ex_meta(struct rule *r, int key)
{
	ex_begin(r, "meta");
	rt_nl_put_be32(&r->b->m, NFTA_META_DREG, NFT_REG_1);
	rt_nl_put_be32(&r->b->m, NFTA_META_KEY, (uint32_t)key);
	ex_end(r);
}

/* iifname / oifname compare: exact, zero-padded to IFNAMSIZ. */
static void m_ifname(struct rule *r, int key, int op, const char *name)
{
	char n[RT_NL_IFNAME] = { 0 };

	strncpy(n, name, sizeof n - 1);
	ex_meta(r, key);
	ex_cmp(r, op, n, sizeof n);
}

/* oifname "rt*": nft's wildcard is a compare of the prefix only. */
static void m_ifprefix(struct rule *r, int key, const char *prefix)
{
	ex_meta(r, key);
	ex_cmp(r, NFT_CMP_EQ, prefix, strlen(prefix));
}

/* ip saddr/daddr within subnet/plen (op EQ or NEQ). */
static void m_ipnet(struct rule *r, int off, int op, uint32_t net, int plen)
{
	uint32_t mask = plen ? htonl(0xffffffffu << (32 - plen)) : 0;

	ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, 4);
	if (plen < 32)
		ex_mask(r, &mask, sizeof mask);
	net &= mask;
	ex_cmp(r, op, &net, sizeof net);
}

static void m_fib_local(struct rule *r)
{
	uint32_t local = RTN_LOCAL_;

	ex_begin(r, "fib");
	rt_nl_put_be32(&r->b->m, NFTA_FIB_DREG, NFT_REG_1);
	rt_nl_put_be32(&r->b->m, NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	rt_nl_put_be32(&r->b->m, NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
	ex_end(r);
	ex_cmp(r, NFT_CMP_EQ, &local, sizeof local);     /* host order, as fib stores it */
}

static void m_proto_dport(struct rule *r, int proto, uint16_t port)
{
	uint8_t p = (uint8_t)proto;
	uint16_t be = htons(port);

	ex_meta(r, NFT_META_L4PROTO);
	ex_cmp(r, NFT_CMP_EQ, &p, 1);
	ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	ex_cmp(r, NFT_CMP_EQ, &be, 2);
}

static void m_ct_established(struct rule *r)
{
	uint32_t bits = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;

	ex_begin(r, "ct");
	rt_nl_put_be32(&r->b->m, NFTA_CT_DREG, NFT_REG_1);
	rt_nl_put_be32(&r->b->m, NFTA_CT_KEY, NFT_CT_STATE);
	ex_end(r);
	ex_mask(r, &bits, sizeof bits);
	ex_cmp(r, NFT_CMP_NEQ, &zero, sizeof zero);
}

static void v_verdict(struct rule *r, int code, const char *target)
{
	size_t d, v;

	ex_begin(r, "immediate");
	rt_nl_put_be32(&r->b->m, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	d = rt_nl_nest(&r->b->m, NFTA_IMMEDIATE_DATA);
	v = rt_nl_nest(&r->b->m, NFTA_DATA_VERDICT);
	rt_nl_put_be32(&r->b->m, NFTA_VERDICT_CODE, (uint32_t)code);
	if (target)
		rt_nl_put_str(&r->b->m, NFTA_VERDICT_CHAIN, target);
	rt_nl_nest_end(&r->b->m, v);
	rt_nl_nest_end(&r->b->m, d);
	ex_end(r);
}

static void v_masq(struct rule *r)
{
	ex_begin(r, "masq");
	ex_end(r);
}

static void v_dnat(struct rule *r, uint32_t ip, uint16_t port)
{
	uint16_t be = htons(port);

	ex_begin(r, "immediate");
	rt_nl_put_be32(&r->b->m, NFTA_IMMEDIATE_DREG, NFT_REG_1);
	put_data(&r->b->m, NFTA_IMMEDIATE_DATA, &ip, sizeof ip);
	ex_end(r);
	ex_begin(r, "immediate");
	rt_nl_put_be32(&r->b->m, NFTA_IMMEDIATE_DREG, NFT_REG_2);
	put_data(&r->b->m, NFTA_IMMEDIATE_DATA, &be, sizeof be);
	ex_end(r);
	ex_begin(r, "nat");
	rt_nl_put_be32(&r->b->m, NFTA_NAT_TYPE, NFT_NAT_DNAT);
	rt_nl_put_be32(&r->b->m, NFTA_NAT_FAMILY, NFPROTO_IPV4);
	rt_nl_put_be32(&r->b->m, NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
	rt_nl_put_be32(&r->b->m, NFTA_NAT_REG_PROTO_MIN, NFT_REG_2);
	rt_nl_put_be32(&r->b->m, NFTA_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
	ex_end(r);
}

static const uint32_t loopback_net = 0x7f000000u;   /* host order; htonl'd below */

static void build(struct b *b, const char *tab, const struct rt_nft_ruleset *rs, int dnat)
{
	struct rule r;
	int i;

	chain(b, tab, "postrouting", "nat", NF_INET_POST_ROUTING, PRI_NAT_SRC);
	chain(b, tab, "forward", "filter", NF_INET_FORWARD, PRI_FILTER);
	for (i = 0; i < rs->nnets; i++) {
		const struct rt_nft_net *n = &rs->nets[i];

		rule_begin(&r, b, tab, "postrouting");
		m_ipnet(&r, 12, NFT_CMP_EQ, n->subnet, n->plen);
		m_ifname(&r, NFT_META_OIFNAME, NFT_CMP_NEQ, n->bridge);
		v_masq(&r);
		rule_end(&r);
	}
	/* Isolation: from one of rt's bridges to another is dropped. One rule
	   per network (not per pair), through the name prefix they share. */
	for (i = 0; i < rs->nnets; i++) {
		rule_begin(&r, b, tab, "forward");
		m_ifname(&r, NFT_META_IIFNAME, NFT_CMP_EQ, rs->nets[i].bridge);
		m_ifname(&r, NFT_META_OIFNAME, NFT_CMP_NEQ, rs->nets[i].bridge);
		m_ifprefix(&r, NFT_META_OIFNAME, RT_NFT_BRIDGE_PREFIX);
		v_verdict(&r, NF_DROP, NULL);
		rule_end(&r);
	}
	for (i = 0; i < rs->nnets; i++) {
		rule_begin(&r, b, tab, "forward");
		m_ifname(&r, NFT_META_IIFNAME, NFT_CMP_EQ, rs->nets[i].bridge);
		v_verdict(&r, NF_ACCEPT, NULL);
		rule_end(&r);
		rule_begin(&r, b, tab, "forward");
		m_ifname(&r, NFT_META_OIFNAME, NFT_CMP_EQ, rs->nets[i].bridge);
		m_ct_established(&r);
		v_verdict(&r, NF_ACCEPT, NULL);
		rule_end(&r);
	}
	if (!dnat)
		return;
	chain(b, tab, "publish", NULL, 0, 0);
	chain(b, tab, "prerouting", "nat", NF_INET_PRE_ROUTING, PRI_NAT_DST);
	chain(b, tab, "output", "nat", NF_INET_LOCAL_OUT, PRI_NAT_DST);
	rule_begin(&r, b, tab, "prerouting");
	m_fib_local(&r);
	v_verdict(&r, NFT_JUMP, "publish");
	rule_end(&r);
	rule_begin(&r, b, tab, "output");
	m_ipnet(&r, 16, NFT_CMP_NEQ, htonl(loopback_net), 8);
	m_fib_local(&r);
	v_verdict(&r, NFT_JUMP, "publish");
	rule_end(&r);
	for (i = 0; i < rs->nnets; i++) {
		rule_begin(&r, b, tab, "publish");
		m_ifname(&r, NFT_META_IIFNAME, NFT_CMP_EQ, rs->nets[i].bridge);
		v_verdict(&r, NFT_RETURN, NULL);
		rule_end(&r);
	}
	for (i = 0; i < rs->ndnat; i++) {
		const struct rt_nft_dnat *d = &rs->dnat[i];

		rule_begin(&r, b, tab, "publish");
		if (d->host_ip)
			m_ipnet(&r, 16, NFT_CMP_EQ, d->host_ip, 32);
		m_proto_dport(&r, d->proto, d->host_port);
		v_dnat(&r, d->ctr_ip, d->ctr_port);
		rule_end(&r);
	}
}

static int check_rs(const struct rt_nft_ruleset *rs)
{
	int i;

	if (!rs)
		return 0;
	if (rs->nnets < 0 || rs->nnets > RT_NFT_MAX_NETS || rs->ndnat < 0 ||
	    rs->ndnat > RT_NFT_MAX_DNAT)
		return -1;
	for (i = 0; i < rs->nnets; i++)
		if (rs->nets[i].plen < 0 || rs->nets[i].plen > 32 ||
		    strnlen(rs->nets[i].bridge, RT_NL_IFNAME) >= RT_NL_IFNAME)
			return -1;
	for (i = 0; i < rs->ndnat; i++)
		if (rs->dnat[i].proto != IPPROTO_TCP && rs->dnat[i].proto != IPPROTO_UDP)
			return -1;
	return 0;
}

int rt_nft_batch(const struct rt_nft_ruleset *rs, int dnat, uint32_t seq, void *buf,
		 size_t cap)
{
	struct b b;

	if (check_rs(rs) < 0)
		return -1;
	rt_nl_msg_init(&b.m, buf, cap);
	b.seq = seq;
	batch_mark(&b, NFNL_MSG_BATCH_BEGIN);
	/* Add first so the delete cannot fail on a missing table. */
	table(&b, NFT_MSG_NEWTABLE, RT_NFT_TABLE);
	table(&b, NFT_MSG_DELTABLE, RT_NFT_TABLE);
	if (rs && rs->nnets > 0) {
		table(&b, NFT_MSG_NEWTABLE, RT_NFT_TABLE);
		build(&b, RT_NFT_TABLE, rs, dnat);
	}
	batch_mark(&b, NFNL_MSG_BATCH_END);
	if (b.m.overflow || b.m.len > 0x7fffffff)
		return -1;
	return (int)b.m.len;
}

static int send_batch(struct rt_nl_msg *m, struct rt_err *e)
{
	static struct rt_nl nl;
	int r;

	if (rt_nl_open(&nl, NETLINK_NETFILTER, e) < 0)
		return -1;
	r = rt_nl_talk(&nl, m, e);
	rt_nl_close(&nl);
	return r;
}

static int apply_netlink(const struct rt_nft_ruleset *rs, int dnat, struct rt_err *e)
{
	struct rt_nl_msg m;
	int n = rt_nft_batch(rs, dnat, 1, batch, sizeof batch);

	if (n < 0)
		return rt_err_set(e, E2BIG, "nftables: ruleset too large");
	rt_nl_msg_init(&m, batch, sizeof batch);
	m.len = (size_t)n;
	if (send_batch(&m, e) < 0)
		return rt_err_wrap(e, "nftables");
	return 0;
}

/* A transaction that leaves nothing: whether the kernel has what the
 * ruleset uses (nat chains, masq, and for DNAT the fib expression). */
static int probe_netlink(int dnat)
{
	static const char tab[] = "rt_net_probe";
	struct rt_err e;
	struct rule r;
	struct b b;

	rt_nl_msg_init(&b.m, batch, sizeof batch);
	b.seq = 1;
	batch_mark(&b, NFNL_MSG_BATCH_BEGIN);
	table(&b, NFT_MSG_NEWTABLE, tab);
	chain(&b, tab, "postrouting", "nat", NF_INET_POST_ROUTING, PRI_NAT_SRC);
	rule_begin(&r, &b, tab, "postrouting");
	m_ipnet(&r, 12, NFT_CMP_EQ, htonl(0xc0000200u), 24);
	v_masq(&r);
	rule_end(&r);
	if (dnat) {
		chain(&b, tab, "prerouting", "nat", NF_INET_PRE_ROUTING, PRI_NAT_DST);
		rule_begin(&r, &b, tab, "prerouting");
		m_fib_local(&r);
		m_proto_dport(&r, IPPROTO_TCP, 9);
		v_dnat(&r, htonl(0xc0000202u), 9);
		rule_end(&r);
	}
	table(&b, NFT_MSG_DELTABLE, tab);
	batch_mark(&b, NFNL_MSG_BATCH_END);
	return send_batch(&b.m, &e);
}

/* --- the tools ------------------------------------------------------------------ */

static const char *const tool_dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

static int find_tool(const char *name, char *path, size_t cap)
{
	size_t i;

	for (i = 0; i < sizeof tool_dirs / sizeof tool_dirs[0]; i++) {
		int n = snprintf(path, cap, "%s/%s", tool_dirs[i], name);

		if (n > 0 && (size_t)n < cap && access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run a tool with input on its stdin and an empty environment; its first
 * line of stderr becomes the error. quiet: failure is expected (probing,
 * deleting what may not exist) and returns 1 instead of an error. */
static int run_tool(const char *name, const char *const *args, const char *input, size_t len,
		    int quiet, struct rt_err *e)
{
	char path[64], err[256];
	char *argv[24], *envp[] = { "PATH=/usr/sbin:/sbin:/usr/bin:/bin", NULL };
	int in[2], ep[2], st = 0, n, k;
	size_t off = 0, elen = 0;
	int64_t deadline = now_ms() + TOOL_TIMEOUT_MS;
	pid_t pid;

	if (find_tool(name, path, sizeof path) < 0)
		return rt_err_set(e, ENOENT, "%s: not found", name);
	argv[0] = path;
	for (k = 0; k < 22 && args[k]; k++)
		argv[k + 1] = (char *)args[k];
	argv[k + 1] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0)
		return rt_err_sys(e, "pipe");
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return rt_err_sys(e, "pipe");
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in[0], 0) < 0 || dup2(null >= 0 ? null : ep[1], 1) < 0 || dup2(ep[1], 2) < 0)
			_exit(127);
		execve(path, argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(ep[1]);
	if (pid < 0) {
		close(in[1]);
		close(ep[0]);
		return rt_err_sys(e, "fork %s", name);
	}
	/* Feed stdin and collect stderr without blocking on either. */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	if (off == len) {
		close(in[1]);
		in[1] = -1;
	}
	for (;;) {
		struct pollfd p[2] = { { ep[0], POLLIN, 0 }, { in[1], POLLOUT, 0 } };
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		n = poll(p, in[1] >= 0 ? 2 : 1, (int)left);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (in[1] >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in[1], input + off, len - off);

			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char tmp[256];
			ssize_t r = read(ep[0], tmp, sizeof tmp);

			if (r == 0)
				break;
			if (r > 0) {
				size_t c = (size_t)r < sizeof err - 1 - elen ? (size_t)r : sizeof err - 1 - elen;

				memcpy(err + elen, tmp, c);
				elen += c;
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	close(ep[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (quiet)
		return 1;
	err[elen] = '\0';
	err[strcspn(err, "\n")] = '\0';
	return rt_err_set(e, EIO, "%s: %s", name,
			  elen ? err : WIFEXITED(st) ? "failed" : "killed");
}

/* --- text ------------------------------------------------------------------------ */


static const char *ip4(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

int rt_nft_text(const struct rt_nft_ruleset *rs, int dnat, char *buf, size_t cap)
{
	struct rt_tb t = { buf, cap, 0, 0 };
	char a[INET_ADDRSTRLEN], c[INET_ADDRSTRLEN];
	int i;

	if (check_rs(rs) < 0 || cap == 0)
		return -1;
	rt_tb_printf(&t, "table ip %s {}\ndelete table ip %s\n", RT_NFT_TABLE, RT_NFT_TABLE);
	if (!rs || rs->nnets == 0)
		return t.bad ? -1 : (int)t.len;
	rt_tb_printf(&t, "table ip %s {\n\tchain postrouting {\n"
		"\t\ttype nat hook postrouting priority 100; policy accept;\n", RT_NFT_TABLE);
	for (i = 0; i < rs->nnets; i++)
		rt_tb_printf(&t, "\t\tip saddr %s/%d oifname != \"%s\" masquerade\n",
		    ip4(rs->nets[i].subnet, a), rs->nets[i].plen, rs->nets[i].bridge);
	rt_tb_printf(&t, "\t}\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n");
	for (i = 0; i < rs->nnets; i++)
		rt_tb_printf(&t, "\t\tiifname \"%s\" oifname != \"%s\" oifname \"%s*\" drop\n",
		    rs->nets[i].bridge, rs->nets[i].bridge, RT_NFT_BRIDGE_PREFIX);
	for (i = 0; i < rs->nnets; i++)
		rt_tb_printf(&t, "\t\tiifname \"%s\" accept\n"
			"\t\toifname \"%s\" ct state established,related accept\n",
		    rs->nets[i].bridge, rs->nets[i].bridge);
	rt_tb_printf(&t, "\t}\n");
	if (dnat) {
		rt_tb_printf(&t, "\tchain publish {\n");
		for (i = 0; i < rs->nnets; i++)
			rt_tb_printf(&t, "\t\tiifname \"%s\" return\n", rs->nets[i].bridge);
		for (i = 0; i < rs->ndnat; i++) {
			const struct rt_nft_dnat *d = &rs->dnat[i];
			const char *p = d->proto == IPPROTO_TCP ? "tcp" : "udp";

			rt_tb_printf(&t, "\t\t");
			if (d->host_ip)
				rt_tb_printf(&t, "ip daddr %s ", ip4(d->host_ip, a));
			rt_tb_printf(&t, "%s dport %u dnat to %s:%u\n", p, d->host_port, ip4(d->ctr_ip, c),
			    d->ctr_port);
		}
		rt_tb_printf(&t, "\t}\n\tchain prerouting {\n"
			"\t\ttype nat hook prerouting priority -100; policy accept;\n"
			"\t\tfib daddr type local jump publish\n\t}\n"
			"\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n"
			"\t\tip daddr != 127.0.0.0/8 fib daddr type local jump publish\n\t}\n");
	}
	rt_tb_printf(&t, "}\n");
	return t.bad ? -1 : (int)t.len;
}

static int apply_tool(const struct rt_nft_ruleset *rs, int dnat, struct rt_err *e)
{
	static const char *const args[] = { "-f", "-", NULL };
	/* The batch buffer: the two backends never run at once. */
	int n = rt_nft_text(rs, dnat, (char *)batch, sizeof batch);

	if (n < 0)
		return rt_err_set(e, E2BIG, "nftables: ruleset too large");
	return run_tool("nft", args, (const char *)batch, (size_t)n, 0, e);
}

/* iptables: our chains, and the jumps to them from the built-in ones. */
struct hook {
	const char *table, *builtin, *chain;
	const char *match[8];    /* extra arguments of the jump, NULL-ended */
};

static const struct hook hooks[] = {
	{ "nat", "POSTROUTING", "RT_NET_POST", { NULL } },
	{ "nat", "PREROUTING", "RT_NET_DNAT", { "-m", "addrtype", "--dst-type", "LOCAL", NULL } },
	{ "nat", "OUTPUT", "RT_NET_DNAT",
	  { "!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", NULL } },
	{ "filter", "FORWARD", "RT_NET_FWD", { NULL } },
};

/* iptables -w ARGS...: a NULL-ended list, built in place by IPT(). */
static int ipt(int quiet, struct rt_err *e, const char *const *args)
{
	const char *all[24];
	int n = 0;

	all[n++] = "-w";
	while (n < 23 && *args)
		all[n++] = *args++;
	all[n] = NULL;
	return run_tool("iptables", all, "", 0, quiet, e);
}

#define IPT(quiet, e, ...) ipt((quiet), (e), (const char *const[]){ __VA_ARGS__, NULL })

/* The jump rule's arguments after "-t T -X BUILTIN". */
static int jump_args(const struct hook *h, const char **a)
{
	int n = 0, i;

	for (i = 0; i < 8 && h->match[i]; i++)
		a[n++] = h->match[i];
	a[n++] = "-j";
	a[n++] = h->chain;
	a[n] = NULL;
	return n;
}

static int ipt_jump(const char *op, const struct hook *h, int quiet, struct rt_err *e)
{
	const char *a[16] = { NULL };

	jump_args(h, a);
	return IPT(quiet, e, "-t", h->table, op, h->builtin, a[0], a[1], a[2], a[3], a[4], a[5],
		   a[6], a[7], a[8], a[9]);
}

static void ipt_clear(void)
{
	struct rt_err e;
	size_t i;
	int k;

	for (i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
		for (k = 0; k < 8 && ipt_jump("-D", &hooks[i], 1, &e) == 0; k++)
			;
	for (i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
		IPT(1, &e, "-t", hooks[i].table, "-F", hooks[i].chain);
		IPT(1, &e, "-t", hooks[i].table, "-X", hooks[i].chain);
	}
}

static int apply_iptables(const struct rt_nft_ruleset *rs, int dnat, struct rt_err *e)
{
	char a[24], c[24], port[8];
	size_t h;
	int i;

	ipt_clear();
	if (!rs || rs->nnets == 0)
		return 0;
	for (h = 0; h < sizeof hooks / sizeof hooks[0]; h++) {
		if (!dnat && !strcmp(hooks[h].chain, "RT_NET_DNAT"))
			continue;
		if ((h == 0 || strcmp(hooks[h].chain, hooks[h - 1].chain)) &&
		    IPT(0, e, "-t", hooks[h].table, "-N", hooks[h].chain) < 0)
			return -1;
		if (ipt_jump("-I", &hooks[h], 0, e) < 0)
			return -1;
	}
	for (i = 0; i < rs->nnets; i++) {
		snprintf(a, sizeof a, "%s/%d", ip4(rs->nets[i].subnet, c), rs->nets[i].plen);
		if (IPT(0, e, "-t", "nat", "-A", "RT_NET_POST", "-s", a, "!", "-o",
			rs->nets[i].bridge, "-j", "MASQUERADE") < 0)
			return -1;
	}
	for (i = 0; i < rs->nnets; i++) {
		snprintf(a, sizeof a, "%s+", RT_NFT_BRIDGE_PREFIX);
		if (IPT(0, e, "-A", "RT_NET_FWD", "-i", rs->nets[i].bridge, "-o", rs->nets[i].bridge,
			"-j", "ACCEPT") < 0 ||
		    IPT(0, e, "-A", "RT_NET_FWD", "-i", rs->nets[i].bridge, "-o", a, "-j", "DROP") < 0)
			return -1;
	}
	for (i = 0; i < rs->nnets; i++)
		if (IPT(0, e, "-A", "RT_NET_FWD", "-i", rs->nets[i].bridge, "-j", "ACCEPT") < 0 ||
		    IPT(0, e, "-A", "RT_NET_FWD", "-o", rs->nets[i].bridge, "-m", "conntrack",
			"--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT") < 0)
			return -1;
	for (i = 0; dnat && i < rs->nnets; i++)
		if (IPT(0, e, "-t", "nat", "-A", "RT_NET_DNAT", "-i", rs->nets[i].bridge, "-j",
			"RETURN") < 0)
			return -1;
	for (i = 0; dnat && i < rs->ndnat; i++) {
		const struct rt_nft_dnat *d = &rs->dnat[i];
		const char *p = d->proto == IPPROTO_TCP ? "tcp" : "udp";
		char to[32], hip[24];

		snprintf(port, sizeof port, "%u", d->host_port);
		snprintf(to, sizeof to, "%s:%u", ip4(d->ctr_ip, c), d->ctr_port);
		snprintf(hip, sizeof hip, "%s/32", ip4(d->host_ip, a));
		if (IPT(0, e, "-t", "nat", "-A", "RT_NET_DNAT", "-d", d->host_ip ? hip : "0.0.0.0/0",
			"-p", p, "--dport", port, "-j", "DNAT", "--to-destination", to) < 0)
			return -1;
	}
	return 0;
}

/* --- the interface ------------------------------------------------------------------ */

static int probe_tool(const char *name)
{
	static const char *const nft_args[] = { "list", "tables", NULL };
	static const char *const ipt_args[] = { "-w", "-t", "nat", "-S", "POSTROUTING", NULL };
	struct rt_err e;

	return run_tool(name, !strcmp(name, "nft") ? nft_args : ipt_args, "", 0, 1, &e) == 0;
}

void rt_nft_probe(struct rt_nft_caps *c)
{
	const char *env = getenv("RT_NET_NAT");
	int want = forced;

	/* Tests choose a backend for a whole daemon this way. */
	if (want < 0 && env && *env) {
		if (!strcmp(env, "netlink"))
			want = RT_NFT_NETLINK;
		else if (!strcmp(env, "nft"))
			want = RT_NFT_TOOL;
		else if (!strcmp(env, "iptables"))
			want = RT_NFT_IPTABLES;
		else if (!strcmp(env, "none"))
			want = RT_NFT_NONE;
	}
	c->backend = RT_NFT_NONE;
	c->dnat = 0;
	if (want == RT_NFT_NONE)
		return;
	if ((want < 0 || want == RT_NFT_NETLINK) && probe_netlink(0) == 0) {
		c->backend = RT_NFT_NETLINK;
		c->dnat = probe_netlink(1) == 0;
		return;
	}
	if ((want < 0 || want == RT_NFT_TOOL) && probe_tool("nft")) {
		c->backend = RT_NFT_TOOL;
		c->dnat = 1;
		return;
	}
	if ((want < 0 || want == RT_NFT_IPTABLES) && probe_tool("iptables")) {
		c->backend = RT_NFT_IPTABLES;
		c->dnat = 1;
	}
}

int rt_nft_apply(const struct rt_nft_caps *c, const struct rt_nft_ruleset *rs,
		 struct rt_err *e)
{
	if (check_rs(rs) < 0)
		return rt_err_set(e, EINVAL, "nat: bad ruleset");
	switch (c->backend) {
	case RT_NFT_NETLINK:
		return apply_netlink(rs, c->dnat, e);
	case RT_NFT_TOOL:
		return apply_tool(rs, c->dnat, e);
	case RT_NFT_IPTABLES:
		return apply_iptables(rs, c->dnat, e);
	default:
		return 0;
	}
}

int rt_nft_clear(const struct rt_nft_caps *c, struct rt_err *e)
{
	return rt_nft_apply(c, NULL, e);
}
