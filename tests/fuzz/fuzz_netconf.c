/* The network parsers: what users type (-p, --subnet, --add-host, --dns),
 * the host's resolv.conf, lease files on flash, the network part of a
 * container config, and netlink attributes. The first byte picks one.
 * Whatever parses must be in range and must format back to something
 * that parses to the same value. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "netconf.h"
#include "netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s[4096];

static void text(const uint8_t *d, size_t n)
{
	if (n >= sizeof s)
		n = sizeof s - 1;
	memcpy(s, d, n);
	s[n] = '\0';
}

static void ports(void)
{
	struct rt_net_port p;
	struct rt_err e;

	if (rt_netconf_port_parse(s, &p, &e) < 0)
		return;
	if (p.ctr_lo == 0 || p.ctr_hi < p.ctr_lo || p.ctr_hi - p.ctr_lo >= RT_NET_MAX_PORTS)
		abort();
	if (p.host_lo && (p.host_hi < p.host_lo ||
			  (p.host_hi - p.host_lo != p.ctr_hi - p.ctr_lo && p.ctr_hi != p.ctr_lo)))
		abort();
	if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP)
		abort();
}

static void bind_round_trip(void)
{
	struct rt_net_bind b, c;
	char out[64];

	if (rt_netconf_bind_parse(s, &b) < 0)
		return;
	if (rt_netconf_bind_fmt(&b, out, sizeof out) < 0 || rt_netconf_bind_parse(out, &c) < 0 ||
	    memcmp(&b, &c, sizeof b) || strcmp(out, s))
		abort();
}

static void addrs(void)
{
	struct rt_err e;
	uint32_t ip, net;
	int plen;
	char name[300], back[INET_ADDRSTRLEN];

	if (rt_netconf_ip4_parse(s, &ip) == 0 &&
	    (!inet_ntop(AF_INET, &ip, back, sizeof back) || strcmp(back, s)))
		abort();      /* one spelling per address */
	if (rt_netconf_cidr_parse(s, &net, &plen, &e) == 0 &&
	    (plen < 8 || plen > 30 || (ntohl(net) & (0xffffffffu >> plen))))
		abort();
	if (rt_netconf_add_host_parse(s, name, sizeof name, &ip, &e) == 0 &&
	    (strchr(name, '\n') || strchr(name, ' ') || strchr(name, ':')))
		abort();
}

static void resolv(const uint8_t *d, size_t n)
{
	static char out[2048];
	struct rt_err e;
	int len = rt_netconf_resolv_text((const char *)d, n, NULL, 0, out, sizeof out, &e);

	if (len >= 0 && (size_t)len != strlen(out))
		abort();
}

static void leases(const uint8_t *d, size_t n)
{
	static struct rt_net_leases ls, back;
	static char out[1 << 17];
	struct rt_err e;
	uint32_t ip;
	int len, i;

	if (rt_netconf_leases_parse((const char *)d, n, htonl(0xac1d0000u), 16, &ls, &e) < 0)
		return;
	len = rt_netconf_leases_format(&ls, out, sizeof out, &e);
	if (len < 0 || rt_netconf_leases_parse(out, (size_t)len, htonl(0xac1d0000u), 16, &back, &e) < 0 ||
	    back.n != ls.n)
		abort();
	for (i = 0; i < ls.n; i++)
		if (back.l[i].ip != ls.l[i].ip || strcmp(back.l[i].id, ls.l[i].id))
			abort();
	/* The allocator never hands out a taken address. */
	if (ls.n < RT_NET_MAX_LEASES &&
	    rt_netconf_alloc(&ls, htonl(0xac1d0000u), 16, "00000000000000000000000000000000000000000000000000000000000000ff",
			     "fuzz", &ip, &e) == 0)
		for (i = 0; i + 1 < ls.n; i++)
			if (ls.l[i].ip == ip && strcmp(ls.l[i].id, "00000000000000000000000000000000000000000000000000000000000000ff"))
				abort();
}

static void spec(const uint8_t *d, size_t n)
{
	static struct rt_json_tok t[512];
	static struct rt_net_spec ns;
	struct rt_json j;
	struct rt_err e;

	if (rt_json_parse(&j, (const char *)d, n, t, 512, 4, &e) < 0)
		return;
	if (rt_netconf_spec(&j, 0, "bridge", &ns, &e) == 0 &&
	    (ns.nports > RT_NET_MAX_PORTS || ns.nadd_hosts > RT_NET_MAX_ADD_HOSTS ||
	     ns.ndns > RT_NET_MAX_DNS))
		abort();
}

static void attrs(const uint8_t *d, size_t n)
{
	struct rt_nl_attr tb[33];
	char str[64];
	uint32_t v;
	int i;

	if (rt_nl_parse(d, n, tb, 32) < 0)
		return;
	for (i = 0; i <= 32; i++) {
		if (!tb[i].present)
			continue;
		if (tb[i].data < d || tb[i].data + tb[i].len > d + n)
			abort();
		rt_nl_attr_u32(&tb[i], &v);
		rt_nl_attr_str(&tb[i], str, sizeof str);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	text(data + 1, size - 1);
	switch (data[0] % 7) {
	case 0:
		ports();
		break;
	case 1:
		bind_round_trip();
		break;
	case 2:
		addrs();
		break;
	case 3:
		resolv(data + 1, size - 1);
		break;
	case 4:
		leases(data + 1, size - 1);
		break;
	case 5:
		spec(data + 1, size - 1);
		break;
	case 6:
		attrs(data + 1, size - 1);
		break;
	}
	return 0;
}
