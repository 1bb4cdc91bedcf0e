/* `rt network create|ls|rm|inspect` and `rt port`: networks are records in
 * the store (netconf.c), read and written here directly; only `rt port`
 * asks the supervisor, to turn a container name into its id. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "netconf.h"

static struct rt_net_conf nets[RT_NET_MAX_NETWORKS];
static struct rt_net_leases leases;

static int fail(const char *verb, const struct rt_err *e)
{
	char msg[RT_ERR_MSG + 64];

	return rt_cli_fail(verb, e->errnum == ENOENT ? 1 : RT_EXIT_RT, "%s",
			   rt_err_str(e, msg, sizeof msg));
}

static const char *ip4(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int net_create(const struct rt_opts *o, int argc, char **argv)
{
	static const struct opt opts[] = { { 0, "subnet", 1 }, { 'd', "driver", 1 } };
	struct optp p = { argc, 1, argv, NULL, "network create", 1, NULL, 0 };
	const char *subnet = NULL, *v;
	struct rt_net_conf c;
	struct rt_err e;
	char *pos[16];
	int k;

	if (argc > (int)(sizeof pos / sizeof pos[0]))
		return rt_cli_fail("network create", RT_EXIT_USAGE, "too many arguments");
	p.pos = pos;
	while ((k = rt_client_opt(&p, opts, NOPTS(opts), &v)) >= 0) {
		if (k == 0)
			subnet = v;
		else if (strcmp(v, "bridge"))
			return rt_cli_fail("network create", RT_EXIT_USAGE,
					   "driver '%s' is not available (bridge)", v);
	}
	if (k == -2)
		return RT_EXIT_USAGE;
	if (p.npos != 1)
		return rt_cli_fail("network create", RT_EXIT_USAGE, "requires exactly 1 argument");
	if (rt_netconf_create(o->root, pos[0], subnet, &c, &e) < 0)
		return fail("network create", &e);
	printf("%s\n", c.name);
	return 0;
}

static int net_ls(const struct rt_opts *o, int argc, char **argv)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], sub[24];
	struct rt_err e;
	int quiet = argc > 1 && (!strcmp(argv[1], "-q") || !strcmp(argv[1], "--quiet"));
	int n, i;

	if (argc > 2 || (argc == 2 && !quiet))
		return rt_cli_fail("network ls", RT_EXIT_USAGE, "usage: rt network ls [-q]");
	n = rt_netconf_list(o->root, nets, RT_NET_MAX_NETWORKS, &e);
	if (n < 0)
		return fail("network ls", &e);
	if (!quiet)
		printf("%-20s %-8s %-18s %-15s %s\n", "NAME", "DRIVER", "SUBNET", "GATEWAY", "BRIDGE");
	for (i = 0; i < n; i++) {
		if (quiet) {
			printf("%s\n", nets[i].name);
			continue;
		}
		snprintf(sub, sizeof sub, "%s/%d", ip4(nets[i].subnet, a), nets[i].plen);
		printf("%-20s %-8s %-18s %-15s %s\n", nets[i].name, "bridge", sub,
		       ip4(nets[i].gateway, g), nets[i].bridge);
	}
	if (!quiet) {
		printf("%-20s %-8s %-18s %-15s %s\n", "host", "host", "", "", "");
		printf("%-20s %-8s %-18s %-15s %s\n", "none", "null", "", "", "");
	}
	return 0;
}

static int net_rm(const struct rt_opts *o, int argc, char **argv)
{
	struct rt_err e;
	int k, rc = 0;

	if (argc < 2)
		return rt_cli_fail("network rm", RT_EXIT_USAGE, "requires at least 1 argument");
	for (k = 1; k < argc; k++) {
		if (rt_netconf_remove(o->root, argv[k], &e) < 0) {
			rc = fail("network rm", &e);
			continue;
		}
		printf("%s\n", argv[k]);
	}
	return rc;
}

static void inspect_one(const struct rt_net_conf *c, int first)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], t[40], s[64];
	time_t secs = (time_t)(c->created / 1000000000);
	struct tm tm;
	int i, k;

	gmtime_r(&secs, &tm);
	strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s    {\n        \"Name\": \"%s\",\n        \"Created\": \"%s\",\n"
	       "        \"Driver\": \"bridge\",\n        \"IPAM\": {\n            \"Config\": [\n"
	       "                {\n                    \"Subnet\": \"%s/%d\",\n"
	       "                    \"Gateway\": \"%s\"\n                }\n            ]\n        },\n"
	       "        \"Options\": {\n            \"com.docker.network.bridge.name\": \"%s\"\n"
	       "        },\n        \"Containers\": {",
	       first ? "" : ",\n", c->name, t, ip4(c->subnet, a), c->plen, ip4(c->gateway, g),
	       c->bridge);
	for (i = 0; i < leases.n; i++) {
		const struct rt_net_lease *l = &leases.l[i];

		printf("%s\n            \"%s\": {\n                \"Name\": \"%s\",\n"
		       "                \"IPv4Address\": \"%s/%d\",\n                \"Ports\": [",
		       i ? "," : "", l->id, l->name, ip4(l->ip, a), c->plen);
		for (k = 0; k < l->nbind; k++)
			if (rt_netconf_bind_fmt(&l->bind[k], s, sizeof s) > 0)
				printf("%s\"%s\"", k ? ", " : "", s);
		printf("]\n            }");
	}
	printf("%s}\n    }", leases.n ? "\n        " : "");
}

static int net_inspect(const struct rt_opts *o, int argc, char **argv)
{
	struct rt_net_conf c;
	struct rt_err e;
	int k, n = 0, rc = 0;

	if (argc < 2)
		return rt_cli_fail("network inspect", RT_EXIT_USAGE, "requires at least 1 argument");
	printf("[\n");
	for (k = 1; k < argc; k++) {
		if (rt_netconf_get(o->root, argv[k], &c, &e) < 0 ||
		    rt_netconf_leases_load(o->root, argv[k], &leases, &e) < 0) {
			fflush(stdout);
			rc = fail("network inspect", &e);
			continue;
		}
		inspect_one(&c, n++ == 0);
	}
	printf("%s]\n", n ? "\n" : "");
	return rc;
}

static int verb_network(const struct rt_opts *o, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct rt_opts *, int, char **);
	} sub[] = {
		{ "create", net_create }, { "ls", net_ls }, { "list", net_ls }, { "rm", net_rm },
		{ "remove", net_rm }, { "inspect", net_inspect },
	};
	size_t i;

	if (argc < 2)
		return rt_cli_fail("network", RT_EXIT_USAGE,
				   "usage: rt network create|ls|rm|inspect [--subnet CIDR] [NAME...]");
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++)
		if (!strcmp(argv[1], sub[i].name))
			return sub[i].fn(o, argc - 1, argv + 1);
	return rt_cli_fail("network", RT_EXIT_USAGE,
			   "unknown network command '%s' (create, ls, rm, inspect)", argv[1]);
}

/* The container's id, from the supervisor (names, id prefixes). */
static int resolve(const struct rt_opts *o, const char *ref, char id[65])
{
	struct rt_json_w w;
	struct rt_json j;
	struct rt_err e;
	int fd = rt_client_dial(o, "port"), r;

	if (fd < 0)
		return RT_EXIT_RT;
	rt_client_req(&w, "inspect", ref);
	rt_json_w_end(&w);
	r = rt_client_call(fd, &w, NULL, 0, &j, "port");
	close(fd);
	if (r)
		return r;
	if (rt_json_str(&j, rt_json_find(&j, rt_json_find(&j, 0, "container"), "Id"), id, 65, &e) != 64)
		return rt_cli_fail("port", RT_EXIT_RT, "no id in the supervisor's answer");
	return 0;
}

static int verb_port(const struct rt_opts *o, int argc, char **argv)
{
	char id[65], a[INET_ADDRSTRLEN];
	struct rt_err e;
	unsigned want = 0;
	int proto = 0, n, i, k, m, r, shown = 0;

	if (argc < 2 || argc > 3)
		return rt_cli_fail("port", RT_EXIT_USAGE, "usage: rt port CONTAINER [PRIVATE_PORT[/PROTO]]");
	if (argc == 3) {
		struct rt_net_port p;

		if (rt_netconf_port_parse(argv[2], &p, &e) < 0 || p.host_lo || p.ctr_lo != p.ctr_hi)
			return rt_cli_fail("port", RT_EXIT_USAGE, "invalid port '%s'", argv[2]);
		want = p.ctr_lo;
		proto = strchr(argv[2], '/') ? p.proto : 0;
	}
	r = resolve(o, argv[1], id);
	if (r)
		return r;
	n = rt_netconf_list(o->root, nets, RT_NET_MAX_NETWORKS, &e);
	for (i = 0; i < n; i++) {
		if (rt_netconf_leases_load(o->root, nets[i].name, &leases, &e) < 0)
			continue;
		for (k = 0; k < leases.n; k++) {
			if (strcmp(leases.l[k].id, id))
				continue;
			for (m = 0; m < leases.l[k].nbind; m++) {
				const struct rt_net_bind *b = &leases.l[k].bind[m];

				if (want && (b->ctr_port != want || (proto && b->proto != proto)))
					continue;
				if (want)
					printf("%s:%u\n", ip4(b->host_ip, a), b->host_port);
				else
					printf("%u/%s -> %s:%u\n", b->ctr_port,
					       b->proto == IPPROTO_UDP ? "udp" : "tcp", ip4(b->host_ip, a),
					       b->host_port);
				shown++;
			}
		}
	}
	if (want && !shown)
		return rt_cli_fail("port", 1, "No public port '%s' published for %s", argv[2], argv[1]);
	return 0;
}

const struct rt_verb rt_verbs_network[] = {
	{ "network", verb_network, "create|ls|rm|inspect [--subnet CIDR] [NAME...]",
	  "Manage container networks" },
	{ "port", verb_port, "CONTAINER [PRIVATE_PORT[/PROTO]]", "List a container's published ports" },
	{ NULL, NULL, NULL, NULL },
};
