/* The kernel side of container networks, without the sandbox: bridges,
 * veth pairs, addresses and routes over netlink, NAT rules, published
 * ports (kernel DNAT and the proxy), /etc/hosts updates, teardown and
 * the clean-up after a crash. Each "container" is a forked process that
 * joins the namespace rt_net_attach() made, as the sandbox's child does.
 *
 * Runs as root in a network namespace of its own (unshare at start), so
 * the host's interfaces, routes and rules are never touched. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "net.h"
#include "netlink.h"
#include "nft.h"
#include "proxy.h"
#include "tap.h"

#define KIND 7

static char root[64], run[64];
static int ep = -1;
static struct rt_nl nl;

static char idbuf[8][65];

static const char *ID(int n)
{
	snprintf(idbuf[n], sizeof idbuf[n], "%02x%062x", 0xa0 + n, n);
	return idbuf[n];
}

static int have_link(const char *name)
{
	struct rt_nl_link l;
	struct rt_err e;

	return rt_nl_link_get(&nl, name, 0, &l, &e) == 0;
}

static int count_rt_links(void)
{
	struct if_nameindex *ni = if_nameindex(), *p;
	int n = 0;

	for (p = ni; p && p->if_index; p++)
		n += !strncmp(p->if_name, "rt", 2);
	if (ni)
		if_freenameindex(ni);
	return n;
}

/* Drive the proxy (unless proxy is 0: then a connection that reaches it
 * stalls, which tells kernel NAT from the proxy) until pid exits (or
 * 5 s); returns its exit status. */
static int loop_until(pid_t pid, int proxy)
{
	int64_t end = time(NULL) + 5;
	int st = -1;

	while (time(NULL) < end) {
		struct epoll_event ev[8];
		int n = epoll_wait(ep, ev, 8, 20), k;

		for (k = 0; proxy && k < n; k++)
			if ((uint32_t)(ev[k].data.u64 >> 32) == KIND)
				rt_net_event((uint32_t)ev[k].data.u64, ev[k].events);
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 99;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 98;
}

static int enter(int nsfd)
{
	return setns(nsfd, CLONE_NEWNET);
}

/* A "container": a child in namespace nsfd (-1: the host's) running fn. */
static pid_t child(int nsfd, int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (nsfd >= 0 && enter(nsfd) < 0)
			_exit(90);
		_exit(fn(arg));
	}
	return pid;
}

struct srv {
	uint32_t ip;
	uint16_t port;
	int proto;
	const char *reply;
	int ready[2];
};

/* Answer each connection (or datagram) with reply. */
static int serve(void *arg)
{
	struct srv *s = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, c, one = 1;
	char buf[64];

	sa.sin_addr.s_addr = s->ip;
	sa.sin_port = htons(s->port);
	fd = socket(AF_INET, s->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return 10;
	if (s->proto == IPPROTO_UDP) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n;

		if (write(s->ready[1], "r", 1) != 1)
			return 11;
		for (;;) {
			n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
			if (n <= 0)
				return 12;
			sendto(fd, s->reply, strlen(s->reply), 0, (struct sockaddr *)&from, fl);
			fl = sizeof from;
		}
	}
	if (listen(fd, 4) < 0 || write(s->ready[1], "r", 1) != 1)
		return 11;
	for (;;) {
		c = accept(fd, NULL, NULL);
		if (c < 0)
			return 12;
		if (read(c, buf, sizeof buf) <= 0) {
			close(c);
			continue;
		}
		if (write(c, s->reply, strlen(s->reply)) < 0)
			return 13;
		close(c);
	}
}

static pid_t server(int nsfd, uint32_t ip, uint16_t port, int proto, const char *reply,
		    struct srv *s)
{
	char r;
	pid_t pid;

	s->ip = ip;
	s->port = port;
	s->proto = proto;
	s->reply = reply;
	if (pipe(s->ready) < 0)
		return -1;
	pid = child(nsfd, serve, s);
	close(s->ready[1]);
	if (read(s->ready[0], &r, 1) != 1) {
		close(s->ready[0]);
		return -1;
	}
	close(s->ready[0]);
	return pid;
}

struct cli {
	uint32_t ip;
	uint16_t port;
	int proto;
	const char *want;
};

/* Ask ip:port and compare the answer: 0 when it matches. */
static int ask(void *arg)
{
	struct cli *c = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { 2, 0 };
	char buf[64] = "";
	ssize_t n;
	int fd = socket(AF_INET, c->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);

	sa.sin_addr.s_addr = c->ip;
	sa.sin_port = htons(c->port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return 20;
	if (write(fd, "hi\n", 3) != 3)
		return 21;
	n = read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		return 22;
	buf[n] = '\0';
	return strcmp(buf, c->want) ? 23 : 0;
}

enum { NAT = 0, PROXY = 1 };

static int ask_from(int nsfd, const char *ip, uint16_t port, int proto, const char *want, int how)
{
	struct cli c = { inet_addr(ip), port, proto, want };

	return loop_until(child(nsfd, ask, &c), how);
}

/* The state dir the sandbox would make: RUN/containers/<id>/rw/etc/hosts. */
static void fake_statedir(const char *id, const char *hosts)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof p, "mkdir -p %s/containers/%s/rw/etc", run, id);
	if (system(p) != 0)
		return;
	snprintf(p, sizeof p, "%s/containers/%s/rw/etc/hosts", run, id);
	f = fopen(p, "w");
	if (f) {
		fputs(hosts, f);
		fclose(f);
	}
}

static int hosts_has(const char *id, const char *needle)
{
	static char buf[16384];
	char p[256];
	FILE *f;
	size_t n;

	snprintf(p, sizeof p, "%s/containers/%s/rw/etc/hosts", run, id);
	f = fopen(p, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static int leases_count(const char *net)
{
	static struct rt_net_leases ls;
	struct rt_err e;

	if (rt_netconf_leases_load(root, net, &ls, &e) < 0)
		return -1;
	return ls.n;
}

static int got_table(void *ctx, uint16_t type, const void *p, size_t len, struct rt_err *e)
{
	(void)ctx;
	(void)type;
	(void)p;
	(void)len;
	(void)e;
	return 0;
}

/* Whether rt's nf_tables table exists, asked over netlink. */
static int table_present(void)
{
	static struct rt_nl n;
	uint8_t buf[256];
	struct rt_nl_msg m;
	struct nfgenmsg g = { NFPROTO_IPV4, NFNETLINK_V0, 0 };
	struct rt_err e;
	int r;

	if (rt_nl_open(&n, NETLINK_NETFILTER, &e) < 0)
		return 0;
	rt_nl_msg_init(&m, buf, sizeof buf);
	rt_nl_begin(&m, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETTABLE, NLM_F_REQUEST,
		    rt_nl_next_seq(&n), &g, sizeof g);
	rt_nl_put_str(&m, NFTA_TABLE_NAME, RT_NFT_TABLE);
	rt_nl_end(&m);
	r = rt_nl_dump(&n, &m, got_table, NULL, &e);
	rt_nl_close(&n);
	return r == 0;
}

int main(void)
{
	static struct rt_net_spec spa, spb, spc;
	struct rt_net_port *p = spb.ports;
	struct rt_net_cfg cfg;
	struct rt_net_att a, b, c2;
	struct rt_net_req ra = { 0 }, rb = { 0 }, rc = { 0 };
	struct rt_err e;
	struct srv sb, sb2, su;
	pid_t srv_b = -1, srv_b2 = -1, srv_u = -1;
	int lo, l, cn, r, busy;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (network namespaces)\n");
		return 0;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..0 # SKIP cannot unshare a network namespace: %s\n", strerror(errno));
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(root, sizeof root, "/tmp/rt-netns-root.XXXXXX");
	snprintf(run, sizeof run, "/tmp/rt-netns-run.XXXXXX");
	if (!mkdtemp(root) || !mkdtemp(run)) {
		printf("1..0 # SKIP mkdtemp\n");
		return 0;
	}
	ok(rt_nl_open(&nl, 0, &e) == 0, "netlink");
	lo = rt_nl_link_index(&nl, "lo", &e);
	ok(lo > 0 && rt_nl_link_set(&nl, lo, 1, -1, 0, &e) == 0, "lo up in the test's namespace");
	ep = epoll_create1(EPOLL_CLOEXEC);

	/* Leftovers of a "crashed" rt: a veth and a bridge of ours, rules. */
	ok(rt_nl_bridge_add(&nl, "rt0", &e) == 0, "a stale bridge rt0");
	ok(rt_nl_veth_add(&nl, "rtv00000000dead", "rtvpeer", -1, 0, &e) == 0, "a stale veth");
	ok(rt_nl_veth_add(&nl, "other0", "other1", -1, 0, &e) == 0, "someone else's veth");
	{
		struct rt_nft_caps caps;
		struct rt_nft_ruleset rs = { .nnets = 1 };

		strcpy(rs.nets[0].bridge, "rt0");
		rs.nets[0].subnet = inet_addr("172.29.0.0");
		rs.nets[0].plen = 24;
		rt_nft_probe(&caps);
		ok(rt_nft_apply(&caps, &rs, &e) == 0 && table_present(), "stale rules (%s)",
		   rt_nft_backend_name(caps.backend));
	}
	cfg.root = root;
	cfg.run = run;
	cfg.epfd = ep;
	cfg.ep_kind = KIND;
	r = rt_net_init(&cfg, &e);
	ok(r == 0, "init (%s)", r < 0 ? e.msg : "");
	ok(!have_link("rt0") && !have_link("rtv00000000dead"), "init removed the stale bridge and veth");
	ok(have_link("other0"), "and left someone else's alone");
	ok(!table_present(), "and the stale rules");
	{
		struct rt_net_info i;

		rt_net_info(&i);
		printf("# nat: %s, dnat %d, ipv6 %d\n", i.nat, i.dnat, i.ipv6);
	}

	/* Container a on the default network. */
	ra.id = ID(0);
	ra.name = "alpha";
	spa.kind = spb.kind = spc.kind = RT_NETK_BRIDGE;
	strcpy(spa.network, "bridge");
	strcpy(spb.network, "bridge");
	strcpy(spc.network, "bridge");
	strcpy(spa.add_hosts[0], "db.example:10.1.2.3");
	strcpy(spa.add_hosts[1], "gw:host-gateway");
	spa.nadd_hosts = 2;
	strcpy(spa.dns[0], "9.9.9.9");
	spa.ndns = 1;
	ra.spec = &spa;
	r = rt_net_attach(&ra, &a, &e);
	ok(r == 0, "attach alpha (%s)", r < 0 ? e.msg : "");
	if (r < 0)
		return done_testing();
	ok(a.ip == inet_addr("172.29.0.2"), "alpha is 172.29.0.2");
	ok(have_link("rt0") && have_link("rtva00000000000"), "bridge and host veth exist");
	{
		struct rt_nl_link br, v;

		rt_nl_link_get(&nl, "rt0", 0, &br, &e);
		rt_nl_link_get(&nl, "rtva00000000000", 0, &v, &e);
		ok(v.master == br.index && (v.flags & IFF_UP) && (br.flags & IFF_UP),
		   "veth is on the bridge, both up");
	}
	ok(strstr(a.hosts, "172.29.0.2\talpha\n") && strstr(a.hosts, "10.1.2.3\tdb.example\n") &&
	   strstr(a.hosts, "172.29.0.1\tgw\n") && strstr(a.hosts, "127.0.0.1\tlocalhost"),
	   "alpha's hosts: itself, --add-host, host-gateway");
	is_str(a.resolv, "nameserver 9.9.9.9\n", "--dns in resolv.conf");
	ok(leases_count("bridge") == 1, "one lease");
	ok(table_present(), "rules in place");
	fake_statedir(ID(0), a.hosts);

	/* b on the same network publishes 8080 -> 80 (tcp) and 5353 -> 53 (udp). */
	ok(rt_netconf_port_parse("8080:80", &p[0], &e) == 0 &&
	   rt_netconf_port_parse("5353:53/udp", &p[1], &e) == 0 &&
	   rt_netconf_port_parse("127.0.0.1::81", &p[2], &e) == 0, "port specs");
	rb.id = ID(1);
	rb.name = "beta";
	rb.hostname = "bhost";
	spb.nports = 3;
	rb.spec = &spb;
	r = rt_net_attach(&rb, &b, &e);
	ok(r == 0, "attach beta with -p (%s)", r < 0 ? e.msg : "");
	if (r < 0)
		return done_testing();
	ok(b.ip == inet_addr("172.29.0.3"), "beta is 172.29.0.3");
	ok(strstr(b.hosts, "172.29.0.3\tbhost beta\n") && strstr(b.hosts, "172.29.0.2\talpha\n"),
	   "beta's hosts name alpha");
	ok(hosts_has(ID(0), "172.29.0.3\tbeta\n"), "alpha's hosts file now names beta (in place)");
	fake_statedir(ID(1), b.hosts);
	rt_proxy_count(&l, &cn);
	is_int(l, 3, "three ports held");
	{
		char ports[256];

		rt_netconf_ports_text(root, ID(1), ports, sizeof ports);
		ok(strstr(ports, "0.0.0.0:8080->80/tcp") && strstr(ports, "0.0.0.0:5353->53/udp") &&
		   strstr(ports, "127.0.0.1:"), "ports recorded: %s", ports);
	}

	srv_b = server(b.netns_fd, 0, 80, IPPROTO_TCP, "from-beta\n", &sb);
	srv_b2 = server(b.netns_fd, 0, 81, IPPROTO_TCP, "beta-81\n", &sb2);
	srv_u = server(b.netns_fd, 0, 53, IPPROTO_UDP, "udp-beta\n", &su);
	ok(srv_b > 0 && srv_b2 > 0 && srv_u > 0, "servers in beta");
	is_int(ask_from(a.netns_fd, "172.29.0.3", 80, IPPROTO_TCP, "from-beta\n", NAT), 0,
	       "alpha reaches beta over the bridge");
	is_int(ask_from(-1, "172.29.0.3", 80, IPPROTO_TCP, "from-beta\n", NAT), 0,
	       "the host reaches beta (route via the bridge)");
	is_int(ask_from(-1, "127.0.0.1", 8080, IPPROTO_TCP, "from-beta\n", PROXY), 0,
	       "published port from the host's loopback (proxy)");
	is_int(ask_from(-1, "172.29.0.1", 8080, IPPROTO_TCP, "from-beta\n", NAT), 0,
	       "published port via a local address (kernel DNAT in output)");
	is_int(ask_from(a.netns_fd, "172.29.0.1", 8080, IPPROTO_TCP, "from-beta\n", PROXY), 0,
	       "published port from another container on the bridge (proxy: no hairpin NAT)");
	is_int(ask_from(-1, "172.29.0.1", 5353, IPPROTO_UDP, "udp-beta\n", NAT), 0,
	       "published UDP port (kernel DNAT)");
	{
		struct rt_net_leases ls;
		uint16_t hp = 0;
		int k;

		rt_netconf_leases_load(root, "bridge", &ls, &e);
		for (k = 0; k < ls.l[1].nbind; k++)
			if (ls.l[1].bind[k].ctr_port == 81)
				hp = ls.l[1].bind[k].host_port;
		ok(hp > 0, "127.0.0.1::81 got a port (%u)", hp);
		is_int(ask_from(-1, "127.0.0.1", hp, IPPROTO_TCP, "beta-81\n", PROXY), 0,
		       "loopback-only published port (proxy)");
	}
	rt_proxy_count(&l, &cn);
	is_int(cn, 0, "proxy connections all closed");
	is_int(ask_from(-1, "127.0.0.1", 5353, IPPROTO_UDP, "udp-beta\n", PROXY), 0,
	       "published UDP port from the host's loopback (proxy)");
	rt_proxy_count(&l, &cn);
	is_int(cn, 1, "a UDP session for that client");

	/* A port in use fails the attach and leaves nothing. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9090) };
		struct rt_net_att x;

		busy = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 1) == 0;
		ok(busy, "hold port 9090");
		rt_netconf_port_parse("9090:80", &spc.ports[0], &e);
		spc.nports = 1;
		rc.id = ID(2);
		rc.name = "gamma";
		rc.spec = &spc;
		r = rt_net_attach(&rc, &x, &e);
		ok(r < 0 && e.errnum == EADDRINUSE && strstr(e.msg, "already allocated"),
		   "port in use: clear error (%s)", e.msg);
		ok(!have_link("rtva20000000000") && leases_count("bridge") == 2,
		   "and no veth or lease left for it");
		rt_proxy_count(&l, &cn);
		is_int(l, 3, "nor a held port");
		close(fd);
	}

	/* Another network: isolated from the first. */
	{
		struct rt_net_conf nc;

		ok(rt_netconf_create(root, "back", NULL, &nc, &e) == 0, "network back");
		rc.id = ID(3);
		rc.name = "delta";
		strcpy(spc.network, "back");
		spc.nports = 0;
		r = rt_net_attach(&rc, &c2, &e);
		ok(r == 0 && c2.ip == inet_addr("172.29.1.2") && have_link("rt1"),
		   "attach delta to back (%s)", r < 0 ? e.msg : "");
		ok(!strstr(c2.hosts, "alpha"), "delta's hosts do not name alpha");
		if (r == 0) {
			is_int(ask_from(c2.netns_fd, "172.29.0.3", 80, IPPROTO_TCP, "from-beta\n", NAT), 20,
			       "delta cannot reach beta on another network");
			is_int(ask_from(c2.netns_fd, "172.29.1.1", 8080, IPPROTO_TCP, "from-beta\n", PROXY), 0,
			       "but can reach beta's published port on the host");
		}
	}

	/* Detach: everything of a container goes. */
	if (srv_b > 0)
		kill(srv_b, SIGKILL);
	if (srv_b2 > 0)
		kill(srv_b2, SIGKILL);
	if (srv_u > 0)
		kill(srv_u, SIGKILL);
	while (wait(NULL) > 0)
		;
	close(b.netns_fd);
	ok(rt_net_detach(ID(1), &e) == 0, "detach beta");
	ok(!have_link("rtva10000000000"), "its veth is gone");
	rt_proxy_count(&l, &cn);
	is_int(l + cn, 0, "its ports and UDP sessions are released");
	ok(leases_count("bridge") == 1, "its lease is released");
	ok(!hosts_has(ID(0), "beta"), "alpha's hosts file no longer names beta");
	ok(rt_net_detach(ID(1), &e) == 0, "detach twice is fine");
	close(c2.netns_fd);
	rt_net_detach(ID(3), &e);
	ok(!have_link("rt1"), "the last container on back took its bridge along");

	/* Restart of a still-attached container replaces its attachment. */
	close(a.netns_fd);
	r = rt_net_attach(&ra, &a, &e);
	ok(r == 0 && a.ip == inet_addr("172.29.0.2") && leases_count("bridge") == 1,
	   "re-attach alpha: same address, one lease");

	/* A crash: the supervisor is gone without detaching; a new one cleans. */
	close(a.netns_fd);
	r = rt_net_init(&cfg, &e);
	ok(r == 0, "init after a crash");
	ok(count_rt_links() == 0, "no rt interface left (%d)", count_rt_links());
	ok(leases_count("bridge") == 0, "no lease left");
	ok(!table_present(), "no rules left");

	/* Many cycles leave nothing. */
	{
		int k, bad = 0;

		for (k = 0; k < 30; k++) {
			struct rt_net_att x;

			spb.nports = 1;
			if (rt_net_attach(&rb, &x, &e) < 0) {
				bad++;
				printf("# cycle %d: %s\n", k, e.msg);
				break;
			}
			close(x.netns_fd);
			rt_net_detach(ID(1), &e);
		}
		rt_proxy_count(&l, &cn);
		ok(!bad && count_rt_links() == 0 && leases_count("bridge") == 0 && l == 0 &&
		   !table_present(), "30 attach/detach cycles leave nothing");
	}
	/* The same through the tools, where they exist. */
	{
		static const struct { int b; const char *tool, *list; } tools[] = {
			{ RT_NFT_TOOL, "/usr/sbin/nft", "nft list table ip rt_net >/dev/null 2>&1" },
			{ RT_NFT_IPTABLES, "/usr/sbin/iptables",
			  "iptables -w -t nat -S RT_NET_DNAT >/dev/null 2>&1" },
		};
		size_t t;

		for (t = 0; t < sizeof tools / sizeof tools[0]; t++) {
			struct rt_net_att x;
			struct srv sv;
			pid_t sp;

			if (access(tools[t].tool, X_OK) < 0) {
				printf("ok %d # SKIP no %s\n", ++tap_n, tools[t].tool);
				continue;
			}
			rt_net_fini();
			rt_nft_force(tools[t].b);
			r = rt_net_init(&cfg, &e);
			spb.nports = 1;
			r = r < 0 ? r : rt_net_attach(&rb, &x, &e);
			ok(r == 0, "%s: attach with -p (%s)", tools[t].tool, r < 0 ? e.msg : "");
			if (r < 0)
				continue;
			ok(system(tools[t].list) == 0, "%s: rules in place", tools[t].tool);
			sp = server(x.netns_fd, 0, 80, IPPROTO_TCP, "tool\n", &sv);
			is_int(ask_from(-1, "172.29.0.1", 8080, IPPROTO_TCP, "tool\n", NAT), 0,
			       "%s: published port through kernel DNAT", tools[t].tool);
			kill(sp, SIGKILL);
			waitpid(sp, NULL, 0);
			close(x.netns_fd);
			rt_net_detach(ID(1), &e);
			ok(system(tools[t].list) != 0 && count_rt_links() == 0,
			   "%s: detach leaves no rules, no links", tools[t].tool);
		}
		rt_nft_force(-1);
	}
	rt_net_fini();
	{
		char cmd[256];

		snprintf(cmd, sizeof cmd, "rm -rf %s %s", root, run);
		r = system(cmd);
	}
	return done_testing();
}
