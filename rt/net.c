/* The supervisor's side of container networks: bridges, veth pairs,
 * network namespaces, published ports, /etc/hosts (see net.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "io.h"
#include "kconfig.h"
#include "net.h"
#include "netlink.h"
#include "nft.h"
#include "path.h"
#include "tbuf.h"
#ifdef CONFIG_PUBLISH
#include "proxy.h"
#endif

#define HOSTS_MAX (16u << 10)
#define RESOLV_MAX 2048
#define HOST_RESOLV_MAX (16u << 10)
#define MAX_ATT 64                   /* containers attached at once */
#define EXTRA_MAX 1536               /* --add-host lines of one container */
#define VETH_PREFIX "rtv"


static int hex_id(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* --- the supervisor's side ----------------------------------------------------------- */

struct anet {                        /* a network with containers on it */
	int used, refs;
	struct rt_net_conf c;
};

struct att {
	int used;
	char id[65];
	char name[RT_NET_NAME_MAX + 1];
	char hostname[RT_NET_NAME_MAX + 1];
	int net;                     /* in nets[] */
	uint32_t ip;
	int leased, veth;
	int nbind;
	struct rt_net_bind bind[RT_NET_MAX_PORTS];
	int px[RT_NET_MAX_PORTS];    /* proxy handles, -1 */
	char extra[EXTRA_MAX];       /* its --add-host lines, as hosts text */
};

static struct {
	int ready;
	char root[RT_PATH_MAX], run[RT_PATH_MAX];
	struct rt_nft_caps caps;
	struct rt_err why;           /* why networking is unavailable */
	int forwarding;
} N;

static struct rt_nl nl;       /* the host's namespace */
static struct rt_nl inner;    /* a container's, while configuring it */
static struct anet nets[RT_NET_MAX_NETWORKS];
static struct att atts[MAX_ATT];
static struct rt_nft_ruleset rules;
static char hosts_text[HOSTS_MAX];
static char resolv_text[RESOLV_MAX];
static char host_resolv[HOST_RESOLV_MAX];

/* The host's netlink socket, open only while a call needs it: an idle
 * supervisor holds no fd for networking. */
static int nl_up(struct rt_err *e)
{
	return nl.up ? 0 : rt_nl_open(&nl, NETLINK_ROUTE, e);
}

static void nl_down(void)
{
	rt_nl_close(&nl);
}

static void veth_name(const char *id, char *buf)
{
	snprintf(buf, RT_NL_IFNAME, VETH_PREFIX "%.12s", id);
}

static int is_rt_veth(const struct rt_nl_link *l)
{
	return !strcmp(l->kind, "veth") && strlen(l->name) == 15 &&
	       !strncmp(l->name, VETH_PREFIX, 3) &&
	       strspn(l->name + 3, "0123456789abcdef") == 12;
}

static int forwarding_on(struct rt_err *e)
{
	char v[4] = "";
	int fd;

	if (N.forwarding)
		return 0;
	fd = open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "open /proc/sys/net/ipv4/ip_forward");
	if (read(fd, v, sizeof v - 1) < 1 || v[0] != '1') {
		/* On for good: other users of forwarding may have come to
		   rely on it, so rt never turns it back off. */
		if (pwrite(fd, "1\n", 2, 0) != 2) {
			rt_err_sys(e, "enable IPv4 forwarding");
			close(fd);
			return -1;
		}
	}
	close(fd);
	N.forwarding = 1;
	return 0;
}

static int rules_apply(struct rt_err *e)
{
	int i, k, a;

	memset(&rules, 0, sizeof rules);
	for (i = 0; i < RT_NET_MAX_NETWORKS; i++) {
		if (!nets[i].used)
			continue;
		snprintf(rules.nets[rules.nnets].bridge, RT_NL_IFNAME, "%s", nets[i].c.bridge);
		rules.nets[rules.nnets].subnet = nets[i].c.subnet;
		rules.nets[rules.nnets].plen = nets[i].c.plen;
		rules.nnets++;
	}
	for (a = 0; a < MAX_ATT; a++) {
		if (!atts[a].used)
			continue;
		for (k = 0; k < atts[a].nbind; k++) {
			const struct rt_net_bind *b = &atts[a].bind[k];
			struct rt_nft_dnat *d;

			if ((ntohl(b->host_ip) >> 24) == 127)
				continue;       /* loopback only: the proxy's */
			if (rules.ndnat >= RT_NFT_MAX_DNAT)
				return rt_err_set(e, ENOSPC, "more than %d published ports",
						  RT_NFT_MAX_DNAT);
			d = &rules.dnat[rules.ndnat++];
			d->proto = b->proto;
			d->host_ip = b->host_ip;
			d->host_port = b->host_port;
			d->ctr_ip = atts[a].ip;
			d->ctr_port = b->ctr_port;
		}
	}
	return rt_nft_apply(&N.caps, &rules, e);
}

/* The hosts file of container a. */
static int hosts_build(const struct att *a, struct rt_err *e)
{
	struct rt_tb t = { hosts_text, sizeof hosts_text, 0, 0 };
	char ip[INET_ADDRSTRLEN];
	int i;

	rt_tb_printf(&t, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	rt_tb_printf(&t, "%s\t%s", inet_ntop(AF_INET, &a->ip, ip, sizeof ip), a->hostname);
	if (strcmp(a->hostname, a->name))
		rt_tb_printf(&t, " %s", a->name);
	rt_tb_printf(&t, "\n");
	for (i = 0; i < MAX_ATT; i++) {
		const struct att *p = &atts[i];

		if (!p->used || p == a || p->net != a->net || !p->leased)
			continue;
		rt_tb_printf(&t, "%s\t%s\n", inet_ntop(AF_INET, &p->ip, ip, sizeof ip), p->name);
	}
	rt_tb_printf(&t, "%s", a->extra);
	if (t.bad)
		return rt_err_set(e, E2BIG, "/etc/hosts larger than %zu bytes", sizeof hosts_text);
	return (int)t.len;
}

/* Rewrite the hosts file of every other running container on network
 * net, in place: its bind mount holds the inode. Best effort. */
static void hosts_refresh(int net, const struct att *skip)
{
	char path[RT_PATH_MAX + 128];
	int i;

	for (i = 0; i < MAX_ATT; i++) {
		const struct att *p = &atts[i];
		struct rt_err e;
		int n, fd;

		if (!p->used || p == skip || p->net != net || !p->leased)
			continue;
		n = hosts_build(p, &e);
		if (n < 0)
			continue;
		if (snprintf(path, sizeof path, "%s/containers/%s/rw/etc/hosts", N.run, p->id) >=
		    (int)sizeof path)
			continue;
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (pwrite(fd, hosts_text, (size_t)n, 0) != n || ftruncate(fd, n) < 0) {
			/* Best effort: the next change rewrites it again. */
		}
		close(fd);
	}
}

/* A new network namespace, its fd, and a netlink socket inside it. The
 * supervisor is single-threaded, so stepping into the new namespace and
 * straight back out affects nothing else. */
static int make_netns(int *nsfd, struct rt_err *e)
{
	RT_AUTOCLOSE int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int r = 0;

	*nsfd = -1;
	if (self < 0)
		return rt_err_sys(e, "open /proc/self/ns/net");
	if (unshare(CLONE_NEWNET) < 0)
		return rt_err_sys(e, "new network namespace");
	*nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*nsfd < 0)
		r = rt_err_sys(e, "open the new network namespace");
	else if (rt_nl_open(&inner, NETLINK_ROUTE, e) < 0)
		r = -1;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Cannot happen with a valid fd and the capability to unshare;
		   say so loudly rather than configure the wrong namespace. */
		rt_err_sys(e, "return to the host network namespace");
		r = -1;
	}
	if (r < 0) {
		rt_nl_close(&inner);
		rt_io_close(nsfd);
	}
	return r;
}

static uint32_t uplink_mtu(void)
{
	struct rt_nl_link l;
	struct rt_err e;
	int oif = rt_nl_default_oif(&nl, &e);

	if (oif > 0 && rt_nl_link_get(&nl, NULL, oif, &l, &e) == 0 && l.mtu >= 576 &&
	    l.mtu <= 65535)
		return l.mtu;
	return 1500;
}

static int bridge_up(const struct rt_net_conf *c, int *index, struct rt_err *e)
{
	struct rt_nl_link l;
	int r = rt_nl_link_get(&nl, c->bridge, 0, &l, e);

	if (r < 0)
		return -1;
	if (r == 1) {
		if (rt_nl_bridge_add(&nl, c->bridge, e) < 0 ||
		    rt_nl_link_get(&nl, c->bridge, 0, &l, e) != 0)
			return -1;
	} else if (strcmp(l.kind, "bridge")) {
		return rt_err_set(e, EEXIST, "interface %s exists and is not a bridge", c->bridge);
	}
	if (rt_nl_addr_add(&nl, l.index, c->gateway, c->plen, e) < 0 ||
	    rt_nl_link_set(&nl, l.index, 1, -1, 0, e) < 0)
		return rt_err_wrap(e, "bridge %s", c->bridge);
	*index = l.index;
	return 0;
}

static int anet_get(const struct rt_net_conf *c, int *index, struct rt_err *e)
{
	int i, free_slot = -1;

	for (i = 0; i < RT_NET_MAX_NETWORKS; i++) {
		if (nets[i].used && !strcmp(nets[i].c.name, c->name))
			break;
		if (!nets[i].used && free_slot < 0)
			free_slot = i;
	}
	if (i == RT_NET_MAX_NETWORKS) {
		if (free_slot < 0)
			return rt_err_set(e, ENOSPC, "too many networks in use");
		i = free_slot;
		nets[i].used = 1;
		nets[i].refs = 0;
		nets[i].c = *c;
	}
	/* Checked every time: someone may have deleted it by hand. */
	if (bridge_up(&nets[i].c, index, e) < 0) {
		if (nets[i].refs == 0)
			nets[i].used = 0;
		return -1;
	}
	return i;
}

static void anet_put(int i)
{
	struct rt_err e;

	if (i < 0 || !nets[i].used || --nets[i].refs > 0)
		return;
	rt_nl_link_del(&nl, nets[i].c.bridge, &e);
	nets[i].used = 0;
}

static int lease_update(struct att *a, int release, struct rt_err *e)
{
	return rt_netconf_lease(N.root, &nets[a->net].c, a->id, a->name, a->bind, a->nbind,
				release, &a->ip, e);
}

static void att_free(int ai)
{
	struct att *a = &atts[ai];
	char veth[RT_NL_IFNAME];
	struct rt_err e;
	int k, net = a->net;

#ifdef CONFIG_PUBLISH
	for (k = 0; k < a->nbind; k++)
		rt_proxy_close(a->px[k]);
#else
	(void)k;
#endif
	if (a->veth) {
		veth_name(a->id, veth);
		rt_nl_link_del(&nl, veth, &e);
	}
	if (a->leased)
		lease_update(a, 1, &e);
	a->used = 0;
	if (net >= 0) {
		anet_put(net);
		rules_apply(&e);
		hosts_refresh(net, NULL);
	}
}

int rt_net_detach(const char *id, struct rt_err *e)
{
	int i, r = 0;

	for (i = 0; i < MAX_ATT; i++)
		if (atts[i].used && !strcmp(atts[i].id, id)) {
			r = nl_up(e);      /* without it the veth is left to die
						with the namespace */
			att_free(i);
			nl_down();
			break;
		}
	return r;
}

/* The veth pair, and eth0 configured inside the namespace. */
static int plumb(struct att *a, int brindex, int nsfd, struct rt_err *e)
{
	const struct rt_net_conf *c = &nets[a->net].c;
	char veth[RT_NL_IFNAME];
	int host, lo, eth;
	uint32_t mtu = uplink_mtu();

	veth_name(a->id, veth);
	rt_nl_link_del(&nl, veth, e);       /* left by a crash: stale */
	if (rt_nl_veth_add(&nl, veth, "eth0", nsfd, mtu, e) < 0)
		return -1;
	a->veth = 1;
	host = rt_nl_link_index(&nl, veth, e);
	if (host <= 0)
		return host < 0 ? -1 : rt_err_set(e, ENODEV, "%s vanished", veth);
	if (rt_nl_link_set(&nl, host, 1, brindex, 0, e) < 0)
		return -1;
	lo = rt_nl_link_index(&inner, "lo", e);
	eth = rt_nl_link_index(&inner, "eth0", e);
	if (lo <= 0 || eth <= 0)
		return rt_err_set(e, ENODEV, "container interfaces missing");
	if (rt_nl_link_set(&inner, lo, 1, -1, 0, e) < 0 ||
	    rt_nl_addr_add(&inner, eth, a->ip, c->plen, e) < 0 ||
	    rt_nl_link_set(&inner, eth, 1, -1, 0, e) < 0 ||
	    rt_nl_route_default(&inner, c->gateway, eth, e) < 0)
		return rt_err_wrap(e, "container eth0");
	return 0;
}

#ifdef CONFIG_PUBLISH
static int publish(struct att *a, const struct rt_net_port *p, struct rt_err *e)
{
	int n = p->ctr_hi - p->ctr_lo + 1, i;

	if (a->nbind + n > RT_NET_MAX_PORTS)
		return rt_err_set(e, E2BIG, "more than %d published ports", RT_NET_MAX_PORTS);
	if (p->host_lo && p->host_hi != p->host_lo && n == 1) {
		/* A host range for one port: the first free one. */
		unsigned hp;

		for (hp = p->host_lo; hp <= p->host_hi; hp++) {
			struct rt_net_bind *b = &a->bind[a->nbind];

			a->px[a->nbind] = rt_proxy_open(p->proto, p->host_ip, (uint16_t)hp,
							&b->host_port, a->ip, p->ctr_lo, e);
			if (a->px[a->nbind] >= 0) {
				b->proto = p->proto;
				b->host_ip = p->host_ip;
				b->ctr_port = p->ctr_lo;
				a->nbind++;
				return 0;
			}
			if (e->errnum != EADDRINUSE)
				return -1;
		}
		return rt_err_set(e, EADDRINUSE, "no free port in %u-%u", p->host_lo, p->host_hi);
	}
	for (i = 0; i < n; i++) {
		struct rt_net_bind *b = &a->bind[a->nbind];
		uint16_t hp = p->host_lo ? (uint16_t)(p->host_lo + i) : 0;

		b->proto = p->proto;
		b->host_ip = p->host_ip;
		b->ctr_port = (uint16_t)(p->ctr_lo + i);
		a->px[a->nbind] = rt_proxy_open(p->proto, p->host_ip, hp, &b->host_port, a->ip,
						b->ctr_port, e);
		if (a->px[a->nbind] < 0)
			return -1;
		a->nbind++;
	}
	return 0;
}
#endif

static int extra_hosts(struct att *a, const struct rt_net_spec *ns, struct rt_err *e)
{
	struct rt_tb t = { a->extra, sizeof a->extra, 0, 0 };
	char name[256], ip[INET_ADDRSTRLEN];
	uint32_t addr;
	int i;

	a->extra[0] = '\0';
	if (ns->nadd_hosts < 0 || ns->nadd_hosts > RT_NET_MAX_ADD_HOSTS)
		return rt_err_set(e, EINVAL, "at most %d --add-host entries", RT_NET_MAX_ADD_HOSTS);
	for (i = 0; i < ns->nadd_hosts; i++) {
		if (rt_netconf_add_host_parse(ns->add_hosts[i], name, sizeof name, &addr, e) < 0)
			return -1;
		if (!addr)
			addr = nets[a->net].c.gateway;
		rt_tb_printf(&t, "%s\t%s\n", inet_ntop(AF_INET, &addr, ip, sizeof ip), name);
	}
	if (t.bad)
		return rt_err_set(e, E2BIG, "--add-host entries too long");
	return 0;
}

static int resolv_build(const struct rt_net_spec *ns, struct rt_err *e)
{
	const char *dns[RT_NET_MAX_DNS];
	ssize_t n = 0;
	int i, fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd >= 0) {
		n = rt_io_read_full(fd, host_resolv, sizeof host_resolv, e);
		close(fd);
		if (n < 0 || (size_t)n == sizeof host_resolv)
			n = 0;          /* unreadable or huge: the fallback servers */
	}
	for (i = 0; i < ns->ndns && i < RT_NET_MAX_DNS; i++)
		dns[i] = ns->dns[i];
	return rt_netconf_resolv_text(host_resolv, (size_t)n, dns, ns->ndns, resolv_text,
				      sizeof resolv_text, e);
}

int rt_net_attach(const struct rt_net_req *r, struct rt_net_att *out_att, struct rt_err *e)
{
	const struct rt_net_spec *ns = r->spec;
	const char *netname = ns && ns->network[0] ? ns->network : RT_NET_DEFAULT;
	struct rt_net_conf c;
	struct att *a;
	int ai, brindex = 0, nsfd = -1, i;

	out_att->netns_fd = -1;
	out_att->hosts = out_att->resolv = NULL;
	if (!N.ready)
		return rt_err_set(e, N.why.errnum ? N.why.errnum : ENOTSUP,
				  "bridge networking is unavailable: %s",
				  N.why.msg[0] ? N.why.msg : "not initialised");
	if (!r->id || !hex_id(r->id) || !r->name || !rt_netconf_name_ok(r->name))
		return rt_err_set(e, EINVAL, "bad container id or name");
	if (r->hostname && strlen(r->hostname) > RT_NET_NAME_MAX)
		return rt_err_set(e, EINVAL, "hostname too long");
	if (!ns || ns->kind != RT_NETK_BRIDGE)
		return rt_err_set(e, EINVAL, "not a bridge network");
	if (ns->nports < 0 || ns->nports > RT_NET_MAX_PORTS)
		return rt_err_set(e, E2BIG, "at most %d -p options", RT_NET_MAX_PORTS);
	if (ns->nports > 0 && !IS_ENABLED(CONFIG_PUBLISH))
		return rt_err_set(e, ENOTSUP, "published ports are not built in");
	rt_net_detach(r->id, e);
	if (nl_up(e) < 0)
		return rt_err_wrap(e, "network");
	for (ai = 0; ai < MAX_ATT && atts[ai].used; ai++)
		;
	if (ai == MAX_ATT) {
		nl_down();
		return rt_err_set(e, ENOSPC, "more than %d containers on networks", MAX_ATT);
	}
	if (rt_netconf_get(N.root, netname, &c, e) < 0) {
		nl_down();
		return -1;
	}
	a = &atts[ai];
	memset(a, 0, sizeof *a);
	a->net = -1;
	for (i = 0; i < RT_NET_MAX_PORTS; i++)
		a->px[i] = -1;
	memcpy(a->id, r->id, sizeof a->id);
	snprintf(a->name, sizeof a->name, "%s", r->name);
	snprintf(a->hostname, sizeof a->hostname, "%s", r->hostname ? r->hostname : r->name);
	a->used = 1;
	a->net = anet_get(&c, &brindex, e);
	if (a->net < 0) {
		a->used = 0;
		nl_down();
		return rt_err_wrap(e, "network %s", netname);
	}
	nets[a->net].refs++;
	if (forwarding_on(e) < 0 || extra_hosts(a, ns, e) < 0 || lease_update(a, 0, e) < 0)
		goto fail;
	a->leased = 1;
	if (make_netns(&nsfd, e) < 0)
		goto fail;
	i = plumb(a, brindex, nsfd, e);
	rt_nl_close(&inner);
	if (i < 0)
		goto fail;
#ifdef CONFIG_PUBLISH
	for (i = 0; i < ns->nports; i++)
		if (publish(a, &ns->ports[i], e) < 0)
			goto fail;
	if (a->nbind > 0 && lease_update(a, 0, e) < 0)
		goto fail;
#endif
	if (rules_apply(e) < 0 || resolv_build(ns, e) < 0)
		goto fail;
	/* Peers first: their texts go through the same buffer as ours. */
	hosts_refresh(a->net, a);
	if (hosts_build(a, e) < 0)
		goto fail;
	out_att->netns_fd = nsfd;
	out_att->hosts = hosts_text;
	out_att->resolv = resolv_text;
	out_att->ip = a->ip;
	nl_down();
	return 0;
fail:
	if (nsfd >= 0)
		close(nsfd);
	att_free(ai);
	nl_down();
	return rt_err_wrap(e, "network %s", netname);
}

/* Remove what an earlier rt left: its veths, its bridges, its rules, its
 * leases. Nothing runs under this supervisor yet. */
struct stale {
	int n;
	char name[MAX_ATT * 4][RT_NL_IFNAME];
};

static int on_stale(void *ctx, const struct rt_nl_link *l, struct rt_err *e)
{
	struct stale *s = ctx;

	(void)e;
	if (is_rt_veth(l) && s->n < (int)(sizeof s->name / sizeof s->name[0]))
		snprintf(s->name[s->n++], RT_NL_IFNAME, "%s", l->name);
	return 0;
}

static int reconcile(struct rt_err *e)
{
	static struct stale s;
	static struct rt_net_conf all[RT_NET_MAX_NETWORKS];
	struct rt_nl_link l;
	int i, n, r = 0;

	s.n = 0;
	if (rt_nl_links(&nl, on_stale, &s, e) < 0)
		return rt_err_wrap(e, "list links");
	for (i = 0; i < s.n; i++)
		if (rt_nl_link_del(&nl, s.name[i], e) < 0)
			r = -1;
	n = rt_netconf_reset(N.root, all, RT_NET_MAX_NETWORKS, e);
	if (n < 0)
		return -1;
	/* The default network's bridge, even before its config exists. */
	for (i = -1; i < n; i++) {
		const char *br = i < 0 ? RT_NET_DEFAULT_BRIDGE : all[i].bridge;
		struct rt_err ign;

		if (rt_nl_link_get(&nl, br, 0, &l, &ign) == 0 && !strcmp(l.kind, "bridge") &&
		    rt_nl_link_del(&nl, br, e) < 0)
			r = -1;
	}
	if (rt_nft_clear(&N.caps, e) < 0)
		r = -1;
	return r;
}

int rt_net_init(const struct rt_net_cfg *cfg, struct rt_err *e)
{
	static int again;

	rt_nl_close(&nl);
	rt_nl_close(&inner);
	/* The tables start zeroed; clearing them again (a second init, in
	   tests) only then, so PID 1 never touches pages it does not use. */
	if (again) {
		memset(atts, 0, sizeof atts);
		memset(nets, 0, sizeof nets);
	}
	again = 1;
	memset(&N, 0, sizeof N);
	if (!cfg->root || cfg->root[0] != '/' || !cfg->run || cfg->run[0] != '/' ||
	    strlen(cfg->root) >= sizeof N.root || strlen(cfg->run) >= sizeof N.run)
		return rt_err_set(e, EINVAL, "network: --root and --run must be absolute paths");
	strcpy(N.root, cfg->root);
	strcpy(N.run, cfg->run);
#ifdef CONFIG_PUBLISH
	rt_proxy_init(cfg->epfd, cfg->ep_kind);
#endif
	if (nl_up(&N.why) < 0) {
		*e = N.why;
		return rt_err_wrap(e, "network");
	}
	rt_nft_probe(&N.caps);
	if (reconcile(e) < 0) {
		nl_down();
		N.why = *e;
		return rt_err_wrap(e, "network: clean up after the last run");
	}
	nl_down();
	N.ready = 1;
	return 0;
}

void rt_net_fini(void)
{
	struct rt_err e;
	int i;

	if (N.ready && nl_up(&e) == 0) {
		for (i = 0; i < MAX_ATT; i++)
			if (atts[i].used)
				att_free(i);
		rt_nft_clear(&N.caps, &e);
	}
	nl_down();
	N.ready = 0;
}

void rt_net_event(uint32_t slot, uint32_t events)
{
#ifdef CONFIG_PUBLISH
	rt_proxy_event(slot, events);
#else
	(void)slot;
	(void)events;
#endif
}

void rt_net_info(struct rt_net_info *i)
{
	struct rt_nft_caps c = N.caps;

	if (!N.ready)
		rt_nft_probe(&c);
	i->nat = rt_nft_backend_name(c.backend);
	i->dnat = c.dnat;
	i->ipv6 = access("/proc/sys/net/ipv6", F_OK) == 0;
}
