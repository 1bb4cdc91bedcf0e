/* Networks as data: addresses, subnets, -p specs, --add-host, resolv.conf
 * filtering, the lease file and the address allocator, networks in a
 * temporary store. No privileges needed (test_netns.c does the kernel
 * side). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "netconf.h"
#include "nft.h"
#include "tap.h"

static uint32_t A(const char *s)
{
	return inet_addr(s);
}

static const char *S(uint32_t ip)
{
	static char b[4][INET_ADDRSTRLEN];
	static int k;

	k = (k + 1) % 4;
	return inet_ntop(AF_INET, &ip, b[k], sizeof b[k]);
}

static char idbuf[8][65];

static const char *ID(int n)
{
	snprintf(idbuf[n], sizeof idbuf[n], "%064x", n + 1);
	return idbuf[n];
}

static void test_ip4(void)
{
	static const char *const good[][2] = {
		{ "0.0.0.0", "0.0.0.0" }, { "172.29.0.1", "172.29.0.1" },
		{ "255.255.255.255", "255.255.255.255" }, { "10.0.0.10", "10.0.0.10" },
	};
	static const char *const bad[] = {
		"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1..2.3",
		"1.2.3.", ".1.2.3", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.-4", "1.2.3.4/24",
		"1234.1.1.1", "0x1.1.1.1",
	};
	uint32_t ip;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		ok(rt_netconf_ip4_parse(good[i][0], &ip) == 0 && !strcmp(S(ip), good[i][1]),
		   "ip4 '%s'", good[i][0]);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(rt_netconf_ip4_parse(bad[i], &ip) < 0, "ip4 '%s' refused", bad[i]);
}

static void test_cidr(void)
{
	static const char *const bad[] = {
		"172.29.0.0", "172.29.0.0/", "172.29.0.0/33", "172.29.0.1/24", "10.0.0.0/7",
		"10.0.0.0/31", "10.0.0.0/32", "10.0.0.0/024", "10.0.0.0/-1", "/24", "10.0.0.0/24x",
	};
	struct rt_err e;
	uint32_t net;
	int plen;
	size_t i;

	ok(rt_netconf_cidr_parse("172.29.0.0/24", &net, &plen, &e) == 0 && net == A("172.29.0.0") &&
	   plen == 24, "cidr /24");
	ok(rt_netconf_cidr_parse("10.0.0.0/8", &net, &plen, &e) == 0 && plen == 8, "cidr /8");
	ok(rt_netconf_cidr_parse("192.168.7.4/30", &net, &plen, &e) == 0 && plen == 30, "cidr /30");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(rt_netconf_cidr_parse(bad[i], &net, &plen, &e) < 0 && e.errnum == EINVAL,
		   "cidr '%s' refused", bad[i]);
	rt_netconf_cidr_parse("172.29.0.1/24", &net, &plen, &e);
	ok(strstr(e.msg, "host bits") != NULL, "host bits: says so (%s)", e.msg);
}

static void test_ports(void)
{
	static const struct {
		const char *s;
		int proto;
		const char *ip;
		unsigned hl, hh, cl, ch;
	} good[] = {
		{ "80", IPPROTO_TCP, "0.0.0.0", 0, 0, 80, 80 },
		{ "80/udp", IPPROTO_UDP, "0.0.0.0", 0, 0, 80, 80 },
		{ "8080:80", IPPROTO_TCP, "0.0.0.0", 8080, 8080, 80, 80 },
		{ "8080:80/tcp", IPPROTO_TCP, "0.0.0.0", 8080, 8080, 80, 80 },
		{ "53:53/udp", IPPROTO_UDP, "0.0.0.0", 53, 53, 53, 53 },
		{ "127.0.0.1:8080:80", IPPROTO_TCP, "127.0.0.1", 8080, 8080, 80, 80 },
		{ "10.1.2.3::80", IPPROTO_TCP, "10.1.2.3", 0, 0, 80, 80 },
		{ "8000-8010:80-90", IPPROTO_TCP, "0.0.0.0", 8000, 8010, 80, 90 },
		{ "8000-8010:80", IPPROTO_TCP, "0.0.0.0", 8000, 8010, 80, 80 },
		{ "7000-7003", IPPROTO_TCP, "0.0.0.0", 0, 0, 7000, 7003 },
		{ "65535:1", IPPROTO_TCP, "0.0.0.0", 65535, 65535, 1, 1 },
	};
	static const char *const bad[] = {
		"", "0", "65536", "80/sctp", "80/", "/tcp", ":80", "8080:", "8080:0", "a:80",
		"1.2.3.4:8080", "1.2.3.4:8080:80:90", "[::1]:8080:80", "8000-8010:80-81",
		"8080:80-90", "90-80", "8080::80", "1.2.3:8080:80", "80 ", "-80", "80-",
		"1-100", "08080:80",
	};
	struct rt_net_port p;
	struct rt_err e;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		int r = rt_netconf_port_parse(good[i].s, &p, &e);

		ok(r == 0 && p.proto == good[i].proto && !strcmp(S(p.host_ip), good[i].ip) &&
		   p.host_lo == good[i].hl && p.host_hi == good[i].hh && p.ctr_lo == good[i].cl &&
		   p.ctr_hi == good[i].ch, "-p %s", good[i].s);
		if (r < 0)
			printf("#   %s\n", e.msg);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ok(rt_netconf_port_parse(bad[i], &p, &e) < 0, "-p '%s' refused", bad[i]);
	rt_netconf_port_parse("[::1]:80:80", &p, &e);
	ok(strstr(e.msg, "IPv6") != NULL, "IPv6 host address: says why (%s)", e.msg);
	rt_netconf_port_parse("80/sctp", &p, &e);
	ok(strstr(e.msg, "tcp or udp") != NULL, "protocol: says why (%s)", e.msg);
}

static void test_bind(void)
{
	struct rt_net_bind b = { IPPROTO_UDP, 0, 5353, 53 }, c;
	char s[64];

	b.host_ip = A("127.0.0.1");
	ok(rt_netconf_bind_fmt(&b, s, sizeof s) > 0, "bind format");
	is_str(s, "127.0.0.1:5353->53/udp", "Docker's PORTS form");
	ok(rt_netconf_bind_parse(s, &c) == 0 && c.proto == b.proto && c.host_ip == b.host_ip &&
	   c.host_port == 5353 && c.ctr_port == 53, "parses back");
	ok(rt_netconf_bind_fmt(&b, s, 10) < 0, "format refuses to truncate");
	ok(rt_netconf_bind_parse("0.0.0.0:8080->80/sctp", &c) < 0, "bad proto refused");
	ok(rt_netconf_bind_parse("0.0.0.0:0->80/tcp", &c) < 0, "port 0 refused");
	ok(rt_netconf_bind_parse("0.0.0.0:80/tcp", &c) < 0, "no arrow refused");
	ok(rt_netconf_bind_parse("0.0.0.0->80:8080/tcp", &c) < 0, "out of order refused");
}

static void test_add_host(void)
{
	char name[64];
	uint32_t ip;
	struct rt_err e;

	ok(rt_netconf_add_host_parse("db.local:10.0.0.5", name, sizeof name, &ip, &e) == 0 &&
	   !strcmp(name, "db.local") && ip == A("10.0.0.5"), "--add-host name:ip");
	ok(rt_netconf_add_host_parse("gw:host-gateway", name, sizeof name, &ip, &e) == 0 && ip == 0,
	   "--add-host host-gateway");
	ok(rt_netconf_add_host_parse("x:::1", name, sizeof name, &ip, &e) < 0, "IPv6 refused");
	ok(rt_netconf_add_host_parse(":1.2.3.4", name, sizeof name, &ip, &e) < 0, "no name");
	ok(rt_netconf_add_host_parse("a b:1.2.3.4", name, sizeof name, &ip, &e) < 0, "space in name");
	ok(rt_netconf_add_host_parse("a\n1.2.3.4 evil:1.2.3.4", name, sizeof name, &ip, &e) < 0,
	   "newline in name refused (no injected hosts lines)");
	ok(rt_netconf_add_host_parse("abcdefgh:1.2.3.4", name, 8, &ip, &e) < 0, "too long refused");
}

static void test_resolv(void)
{
	const char *host = "# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.1\r\n"
			   "nameserver fd00::1\nsearch lan example.org\noptions edns0 trust-ad\n"
			   "nameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n"
			   "sortlist 1.2.3.4\nnameserver \x01\x02\n";
	const char *dns[] = { "9.9.9.9", "1.1.1.1" }, *bad[] = { "evil\nnameserver 6.6.6.6" };
	char buf[512];
	struct rt_err e;
	int n;

	n = rt_netconf_resolv_text(host, strlen(host), NULL, 0, buf, sizeof buf, &e);
	is_str(buf, "nameserver 10.0.0.1\nsearch lan example.org\noptions edns0 trust-ad\n"
		    "nameserver 10.0.0.2\nnameserver 10.0.0.3\n",
	       "host's: loopback and IPv6 servers dropped, at most 3, search/options kept");
	is_int(n, (long long)strlen(buf), "returns the length");
	rt_netconf_resolv_text("nameserver 127.0.0.1\n", 21, NULL, 0, buf, sizeof buf, &e);
	is_str(buf, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n", "only loopback: Docker's fallback");
	rt_netconf_resolv_text(NULL, 0, NULL, 0, buf, sizeof buf, &e);
	is_str(buf, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n", "no host file: fallback");
	rt_netconf_resolv_text(host, strlen(host), dns, 2, buf, sizeof buf, &e);
	is_str(buf, "nameserver 9.9.9.9\nnameserver 1.1.1.1\nsearch lan example.org\n"
		    "options edns0 trust-ad\n", "--dns replaces the servers, keeps search");
	ok(rt_netconf_resolv_text(NULL, 0, bad, 1, buf, sizeof buf, &e) < 0, "--dns injection refused");
	ok(rt_netconf_resolv_text(host, strlen(host), NULL, 0, buf, 40, &e) < 0 && e.errnum == E2BIG,
	   "too small a buffer: error, not truncation");
}

static void test_alloc(void)
{
	static struct rt_net_leases ls, back;
	static char buf[1 << 17];
	uint32_t net = A("172.29.0.0"), ip, ip2;
	struct rt_err e;
	int i, n;

	ls.n = 0;
	ok(rt_netconf_alloc(&ls, net, 24, ID(0), "a", &ip, &e) == 0 && ip == A("172.29.0.2"),
	   "first address after the gateway (%s)", S(ip));
	ok(rt_netconf_alloc(&ls, net, 24, ID(1), "b", &ip, &e) == 0 && ip == A("172.29.0.3"),
	   "next one");
	ok(rt_netconf_alloc(&ls, net, 24, ID(0), "a2", &ip, &e) == 0 && ip == A("172.29.0.2") &&
	   ls.n == 2 && !strcmp(ls.l[0].name, "a2"), "same id: same address, name updated");
	ok(rt_netconf_release(&ls, ID(0)) == 0 && ls.n == 1, "release");
	ok(rt_netconf_release(&ls, ID(0)) == 1, "release twice: nothing");
	ok(rt_netconf_alloc(&ls, net, 24, ID(2), "c", &ip, &e) == 0 && ip == A("172.29.0.2"),
	   "a released address is reused, lowest first");
	ok(rt_netconf_alloc(&ls, net, 24, "xyz", "c", &ip, &e) < 0, "bad id refused");
	ok(rt_netconf_alloc(&ls, net, 24, ID(3), "-c", &ip, &e) < 0, "bad name refused");
	ok(rt_netconf_alloc(&ls, A("172.29.0.1"), 24, ID(3), "c", &ip, &e) < 0, "bad subnet refused");

	/* A /30 has one address for a container. */
	ls.n = 0;
	ok(rt_netconf_alloc(&ls, A("10.9.9.4"), 30, ID(0), "a", &ip, &e) == 0 && ip == A("10.9.9.6"),
	   "/30: the one address");
	ok(rt_netconf_alloc(&ls, A("10.9.9.4"), 30, ID(1), "b", &ip2, &e) < 0 && e.errnum == ENOSPC,
	   "/30: then full (%s)", e.msg);

	/* Full table. */
	ls.n = 0;
	for (i = 0; i < RT_NET_MAX_LEASES; i++) {
		char id[65], name[16];

		snprintf(id, sizeof id, "%064x", 1000 + i);
		snprintf(name, sizeof name, "c%d", i);
		if (rt_netconf_alloc(&ls, A("10.0.0.0"), 16, id, name, &ip, &e) < 0)
			break;
	}
	is_int(i, RT_NET_MAX_LEASES, "%d leases fit", RT_NET_MAX_LEASES);
	ok(rt_netconf_alloc(&ls, A("10.0.0.0"), 16, ID(7), "x", &ip, &e) < 0 && e.errnum == ENOSPC,
	   "then ENOSPC");
	ls.l[5].nbind = 2;
	ls.l[5].bind[0] = (struct rt_net_bind){ IPPROTO_TCP, 0, 8080, 80 };
	ls.l[5].bind[1] = (struct rt_net_bind){ IPPROTO_UDP, A("127.0.0.1"), 53, 5353 };
	n = rt_netconf_leases_format(&ls, buf, sizeof buf, &e);
	ok(n > 0, "format %d leases (%d bytes)", ls.n, n);
	ok(rt_netconf_leases_parse(buf, (size_t)n, A("10.0.0.0"), 16, &back, &e) == 0 &&
	   back.n == ls.n && !memcmp(&back.l[5], &ls.l[5], sizeof ls.l[5]) &&
	   back.l[63].ip == ls.l[63].ip, "and parse back the same (%s)", e.msg);
	ok(rt_netconf_leases_parse(buf, (size_t)n, A("10.1.0.0"), 16, &back, &e) < 0,
	   "addresses outside the subnet refused");
	ok(rt_netconf_leases_format(&ls, buf, 100, &e) < 0, "format refuses to truncate");
}

static void test_leases_hostile(void)
{
	static struct rt_net_leases ls;
	static const char *const bad[] = {
		"", "{}", "[]", "{\"leases\":{}}",
		"{\"leases\":[{\"ip\":\"172.29.0.1\",\"id\":\"%s\",\"name\":\"a\"}]}",       /* gateway */
		"{\"leases\":[{\"ip\":\"172.29.0.0\",\"id\":\"%s\",\"name\":\"a\"}]}",       /* network */
		"{\"leases\":[{\"ip\":\"172.29.0.255\",\"id\":\"%s\",\"name\":\"a\"}]}",     /* broadcast */
		"{\"leases\":[{\"ip\":\"172.29.1.2\",\"id\":\"%s\",\"name\":\"a\"}]}",
		"{\"leases\":[{\"ip\":\"172.29.0.2\",\"id\":\"%s\",\"name\":\"../x\"}]}",
		"{\"leases\":[{\"ip\":\"172.29.0.2\",\"id\":\"%s\",\"name\":\"a\"},"
		"{\"ip\":\"172.29.0.2\",\"id\":\"%s\",\"name\":\"b\"}]}",
		"{\"leases\":[{\"ip\":\"172.29.0.2\",\"id\":\"%s\",\"name\":\"a\",\"ports\":[\"x\"]}]}",
		"{\"leases\":[{\"ip\":\"172.29.0.2\",\"id\":\"%s\",\"name\":\"a\",\"ports\":7}]}",
		"{\"leases\":[{\"ip\":\"172.29.0.2\",\"id\":\"%s\",\"name\":\"a\"}],\"leases\":[]}",
	};
	char doc[1024];
	struct rt_err e;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(doc, sizeof doc, bad[i], ID(0), ID(1));
		ok(rt_netconf_leases_parse(doc, strlen(doc), A("172.29.0.0"), 24, &ls, &e) < 0,
		   "hostile leases %zu refused", i);
	}
	snprintf(doc, sizeof doc, "{\"leases\":[{\"ip\":\"172.29.0.254\",\"id\":\"%s\",\"name\":\"a\"}]}",
		 ID(0));
	ok(rt_netconf_leases_parse(doc, strlen(doc), A("172.29.0.0"), 24, &ls, &e) == 0 && ls.n == 1,
	   "the last address is fine");
}

static void test_store(void)
{
	static struct rt_net_conf list[RT_NET_MAX_NETWORKS];
	static struct rt_net_leases ls;
	char root[] = "/tmp/rt-test-net.XXXXXX", path[256], ports[256];
	struct rt_net_conf c, d;
	struct rt_net_bind b = { IPPROTO_TCP, 0, 8080, 80 };
	struct rt_err e;
	uint32_t ip;
	int n, i;

	if (!mkdtemp(root)) {
		ok(0, "mkdtemp");
		return;
	}
	ok(rt_netconf_get(root, "bridge", &c, &e) == 0 && !strcmp(c.bridge, "rt0") &&
	   c.subnet == A("172.29.0.0") && c.plen == 24 && c.gateway == A("172.29.0.1"),
	   "bridge: made with its defaults on first use");
	ok(rt_netconf_get(root, "nosuch", &c, &e) < 0 && e.errnum == ENOENT, "unknown network: ENOENT");
	ok(rt_netconf_create(root, "front", NULL, &c, &e) == 0 && c.subnet == A("172.29.1.0") &&
	   !strcmp(c.bridge, "rt1"), "auto subnet and bridge (%s %s)", S(c.subnet), c.bridge);
	ok(rt_netconf_create(root, "back", "10.20.0.0/16", &d, &e) == 0 && !strcmp(d.bridge, "rt2") &&
	   d.gateway == A("10.20.0.1"), "given subnet");
	ok(rt_netconf_create(root, "front", NULL, &c, &e) < 0 && e.errnum == EEXIST, "twice: EEXIST");
	ok(rt_netconf_create(root, "x", "10.20.5.0/24", &c, &e) < 0 && strstr(e.msg, "overlaps"),
	   "overlapping subnet refused (%s)", e.msg);
	ok(rt_netconf_create(root, "host", NULL, &c, &e) < 0, "'host' refused");
	ok(rt_netconf_create(root, "../x", NULL, &c, &e) < 0, "bad name refused");
	n = rt_netconf_list(root, list, RT_NET_MAX_NETWORKS, &e);
	ok(n == 3 && !strcmp(list[0].name, "back") && !strcmp(list[1].name, "bridge") &&
	   !strcmp(list[2].name, "front"), "list in name order (%d)", n);
	rt_netconf_get(root, "front", &c, &e);
	ok(rt_netconf_lease(root, &c, ID(0), "web", &b, 1, 0, &ip, &e) == 0 && ip == A("172.29.1.2"),
	   "lease");
	ok(rt_netconf_leases_load(root, "front", &ls, &e) == 0 && ls.n == 1 && ls.l[0].nbind == 1,
	   "lease on disk with its port");
	ok(rt_netconf_ports_text(root, ID(0), ports, sizeof ports) > 0 &&
	   !strcmp(ports, "0.0.0.0:8080->80/tcp"), "ports text '%s'", ports);
	ok(rt_netconf_ports_text(root, ID(1), ports, sizeof ports) == 0 && !ports[0],
	   "no ports for another id");
	ok(rt_netconf_remove(root, "front", &e) < 0 && e.errnum == EBUSY && strstr(e.msg, "web"),
	   "rm of a network in use refused (%s)", e.msg);
	ok(rt_netconf_remove(root, "bridge", &e) < 0 && e.errnum == EPERM, "rm bridge refused");
	ok(rt_netconf_lease(root, &c, ID(0), "web", NULL, 0, 1, &ip, &e) == 0, "release");
	ok(rt_netconf_remove(root, "front", &e) == 0, "then rm works");
	ok(rt_netconf_get(root, "front", &c, &e) < 0, "gone");
	rt_netconf_lease(root, &d, ID(2), "x", NULL, 0, 0, &ip, &e);
	n = rt_netconf_reset(root, list, RT_NET_MAX_NETWORKS, &e);
	ok(n == 2 && rt_netconf_leases_load(root, "back", &ls, &e) == 0 && ls.n == 0,
	   "reset empties every lease file");
	/* A corrupt config is skipped by list, refused by get. */
	snprintf(path, sizeof path, "%s/networks/back/config.json", root);
	{
		FILE *f = fopen(path, "w");

		if (f) {
			fputs("{\"name\":\"back\"}", f);
			fclose(f);
		}
	}
	ok(rt_netconf_get(root, "back", &c, &e) < 0, "corrupt config refused");
	n = rt_netconf_list(root, list, RT_NET_MAX_NETWORKS, &e);
	ok(n == 1, "and skipped by list");
	snprintf(path, sizeof path, "rm -rf '%s'", root);
	i = system(path);
	(void)i;
}

static void test_nft_text(void)
{
	static struct rt_nft_ruleset rs;
	static char buf[8192];
	int n;

	memset(&rs, 0, sizeof rs);
	strcpy(rs.nets[0].bridge, "rt0");
	rs.nets[0].subnet = A("172.29.0.0");
	rs.nets[0].plen = 24;
	rs.nnets = 1;
	rs.dnat[0] = (struct rt_nft_dnat){ IPPROTO_TCP, 0, 8080, A("172.29.0.2"), 80 };
	rs.ndnat = 1;
	n = rt_nft_text(&rs, 1, buf, sizeof buf);
	ok(n > 0 && strstr(buf, "ip saddr 172.29.0.0/24 oifname != \"rt0\" masquerade") &&
	   strstr(buf, "tcp dport 8080 dnat to 172.29.0.2:80") &&
	   strstr(buf, "ip daddr != 127.0.0.0/8 fib daddr type local jump publish"),
	   "nft text has masquerade, DNAT, loopback excluded");
	ok(rt_nft_text(&rs, 1, buf, 50) < 0, "text refuses to truncate");
	n = rt_nft_text(NULL, 1, buf, sizeof buf);
	is_str(buf, "table ip rt_net {}\ndelete table ip rt_net\n", "clear: add then delete");
	n = rt_nft_batch(&rs, 1, 1, buf, sizeof buf);
	ok(n > 0 && n < (int)sizeof buf, "batch %d bytes", n);
	ok(rt_nft_batch(&rs, 1, 1, buf, 200) < 0, "batch refuses to truncate");
	rs.nets[0].plen = 33;
	ok(rt_nft_batch(&rs, 1, 1, buf, sizeof buf) < 0, "bad ruleset refused");
	{
		/* The largest ruleset must fit the supervisor's buffer. */
		static char big[128 << 10];
		int i;

		for (i = 0; i < RT_NFT_MAX_NETS; i++) {
			snprintf(rs.nets[i].bridge, sizeof rs.nets[i].bridge, "rt%d", 100 + i);
			rs.nets[i].subnet = htonl(0xac1d0000u | (uint32_t)i << 8);
			rs.nets[i].plen = 24;
		}
		for (i = 0; i < RT_NFT_MAX_DNAT; i++)
			rs.dnat[i] = (struct rt_nft_dnat){ IPPROTO_TCP, A("10.0.0.1"), (uint16_t)(1000 + i),
							   A("172.29.0.2"), 80 };
		rs.nnets = RT_NFT_MAX_NETS;
		rs.ndnat = RT_NFT_MAX_DNAT;
		n = rt_nft_batch(&rs, 1, 1, big, sizeof big);
		ok(n > 0, "the largest ruleset fits 128 KiB as a batch (%d bytes)", n);
		n = rt_nft_text(&rs, 1, big, sizeof big);
		ok(n > 0, "and as text (%d bytes)", n);
	}
}

static int spec_of(const char *doc, const char *dflt, struct rt_net_spec *ns, struct rt_err *e)
{
	static struct rt_json_tok t[256];
	struct rt_json j;

	if (rt_json_parse(&j, doc, strlen(doc), t, 256, 4, e) < 0)
		return -1;
	return rt_netconf_spec(&j, 0, dflt, ns, e);
}

static void test_spec(void)
{
	static struct rt_net_spec ns;
	struct rt_err e;

	ok(spec_of("{}", "none", &ns, &e) == 0 && ns.kind == RT_NETK_NONE, "no network: the default");
	ok(spec_of("{}", "bridge", &ns, &e) == 0 && ns.kind == RT_NETK_BRIDGE &&
	   !strcmp(ns.network, "bridge"), "default bridge");
	ok(spec_of("{\"network\":\"host\"}", "bridge", &ns, &e) == 0 && ns.kind == RT_NETK_HOST,
	   "host");
	ok(spec_of("{\"network\":\"back\",\"ports\":[\"8080:80\",\"53/udp\"],"
		   "\"add_hosts\":[\"db:10.0.0.5\"],\"dns\":[\"1.1.1.1\"]}", "none", &ns, &e) == 0 &&
	   ns.kind == RT_NETK_BRIDGE && !strcmp(ns.network, "back") && ns.nports == 2 &&
	   ns.ports[0].host_lo == 8080 && ns.ports[1].proto == IPPROTO_UDP && ns.nadd_hosts == 1 &&
	   ns.ndns == 1 && !strcmp(ns.dns[0], "1.1.1.1"), "a user network with everything");
	ok(spec_of("{\"network\":\"none\",\"ports\":[\"80\"]}", "none", &ns, &e) < 0 &&
	   strstr(e.msg, "need a bridge"), "ports without a bridge refused (%s)", e.msg);
	ok(spec_of("{\"network\":\"host\",\"dns\":[\"1.1.1.1\"]}", "none", &ns, &e) < 0,
	   "--dns with host refused");
	ok(spec_of("{\"network\":\"../x\"}", "none", &ns, &e) < 0, "bad network name refused");
	ok(spec_of("{\"network\":7}", "none", &ns, &e) < 0, "network not a string refused");
	ok(spec_of("{\"ports\":[\"70000\"]}", "bridge", &ns, &e) < 0, "bad port refused");
	ok(spec_of("{\"ports\":\"80\"}", "bridge", &ns, &e) < 0, "ports not an array refused");
	ok(spec_of("{\"ports\":[\"1-30\",\"40-45\"]}", "bridge", &ns, &e) < 0 &&
	   e.errnum == E2BIG, "more than %d ports in all refused", RT_NET_MAX_PORTS);
	ok(spec_of("{\"dns\":[\"a\",\"b\",\"c\",\"d\"]}", "bridge", &ns, &e) < 0,
	   "four --dns refused");
	ok(spec_of("{\"add_hosts\":[\"x\"]}", "bridge", &ns, &e) < 0, "bad --add-host refused");
}

int main(void)
{
	test_ip4();
	test_cidr();
	test_ports();
	test_bind();
	test_add_host();
	test_resolv();
	test_alloc();
	test_leases_hostile();
	test_store();
	test_nft_text();
	test_spec();
	return done_testing();
}
