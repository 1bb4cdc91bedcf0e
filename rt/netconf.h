/* Networks as data: what users write (-p, --subnet, --add-host, --dns),
 * the address allocator, and networks in the store. Pure parsers and
 * file I/O only: the CLI uses it without any kernel interface, and the
 * supervisor's side (net.h) builds on it.
 *
 * Durable state, under ROOT/networks/<name>/:
 *   config.json  {"name","subnet":"a.b.c.d/n","gateway","bridge","created"}
 *   leases.json  {"leases":[{"ip","id","name","ports":["0.0.0.0:8080->80/tcp"]}]}
 * each written with rt_io_write_file() while ROOT/networks/.lock is held
 * (flock), so a CLI creating or removing a network and the supervisor
 * leasing an address never interleave. */
#ifndef RT_NETCONF_H
#define RT_NETCONF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RT_NET_IFNAME 16             /* IFNAMSIZ, with the NUL */
#define RT_NET_NAME_MAX 63
#define RT_NET_MAX_NETWORKS 16
#define RT_NET_MAX_LEASES 64         /* containers per network */
#define RT_NET_MAX_PORTS 32          /* published ports per container */
#define RT_NET_MAX_ADD_HOSTS 16
#define RT_NET_MAX_DNS 3             /* resolv.conf's MAXNS */
#define RT_NET_DEFAULT "bridge"
#define RT_NET_DEFAULT_BRIDGE "rt0"
/* The default network's subnet, and where automatic subnets for user
 * networks come from (172.29.N.0/24, N = 1..255). Docker takes 172.17/16
 * for its default bridge and 172.18/16, 172.19/16, ... for its networks,
 * podman 10.88/16, home routers 192.168.x/24 and 10.0.x/24: 172.29 is
 * far from all of them and leaves 10/8 and 192.168/16 to the site. */
#define RT_NET_DEFAULT_SUBNET "172.29.0.0/24"

/* --- parsing (pure; fuzzed) ------------------------------------------------ */

/* Dotted quad, strictly: four decimal 0..255 without leading zeros. *ip in
 * network byte order. */
int rt_netconf_ip4_parse(const char *s, uint32_t *ip);

/* "a.b.c.d/n": n in 8..30 (room for a gateway and one container), host
 * bits zero. */
int rt_netconf_cidr_parse(const char *s, uint32_t *net, int *plen, struct rt_err *e);

/* One -p argument, as Docker takes it:
 *   CPORT[-CPORT][/PROTO]                       a host port chosen by the kernel
 *   HPORT[-HPORT]:CPORT[-CPORT][/PROTO]
 *   IP:HPORT[-HPORT]:CPORT[-CPORT][/PROTO]
 *   IP::CPORT[-CPORT][/PROTO]
 * PROTO tcp (default) or udp. A host range must be as long as the
 * container range, or the container port single (one free port of the
 * host range is taken). IPv6 host addresses are refused. */
struct rt_net_port {
	uint8_t proto;           /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_ip;        /* network byte order; 0: every address */
	uint16_t host_lo, host_hi;   /* 0, 0: chosen at start */
	uint16_t ctr_lo, ctr_hi;
};
int rt_netconf_port_parse(const char *s, struct rt_net_port *p, struct rt_err *e);

/* One published port as it is bound. */
struct rt_net_bind {
	uint8_t proto;
	uint32_t host_ip;
	uint16_t host_port, ctr_port;
};
/* "0.0.0.0:8080->80/tcp" (ps, leases) and back. */
int rt_netconf_bind_fmt(const struct rt_net_bind *b, char *buf, size_t cap);
int rt_netconf_bind_parse(const char *s, struct rt_net_bind *b);

/* --add-host "NAME:IP" (IPv4; NAME as a hostname: letters, digits, '-',
 * '.', '_'). */
int rt_netconf_add_host_parse(const char *s, char *name, size_t cap, uint32_t *ip,
			  struct rt_err *e);

/* A container's resolv.conf: nameservers from dns[] when given, else the
 * host's (host/len: its resolv.conf) without loopback ones, which the
 * container cannot reach; Docker's fallback (8.8.8.8, 8.8.4.4) when none
 * is left. search and options lines are kept. Returns the length. */
int rt_netconf_resolv_text(const char *host, size_t len, const char *const *dns, int ndns,
		       char *buf, size_t cap, struct rt_err *e);

/* --- the address allocator (pure) -------------------------------------------- */

struct rt_net_lease {
	uint32_t ip;
	char id[65];
	char name[RT_NET_NAME_MAX + 1];
	int nbind;
	struct rt_net_bind bind[RT_NET_MAX_PORTS];
};

struct rt_net_leases {
	int n;
	struct rt_net_lease l[RT_NET_MAX_LEASES];
};

/* leases.json; every address must lie in subnet/plen. */
int rt_netconf_leases_parse(const char *buf, size_t len, uint32_t subnet, int plen,
			struct rt_net_leases *ls, struct rt_err *e);
int rt_netconf_leases_format(const struct rt_net_leases *ls, char *buf, size_t cap,
			 struct rt_err *e);
/* The address of id: its lease when it has one, else the lowest free
 * address after the gateway (which is the subnet's first). */
int rt_netconf_alloc(struct rt_net_leases *ls, uint32_t subnet, int plen, const char *id,
		 const char *name, uint32_t *ip, struct rt_err *e);
/* Drop id's lease; 1 when it had none. */
int rt_netconf_release(struct rt_net_leases *ls, const char *id);

/* --- networks in the store (CLI and supervisor) ---------------------------------- */

struct rt_net_conf {
	char name[RT_NET_NAME_MAX + 1];
	char bridge[RT_NET_IFNAME];
	uint32_t subnet, gateway;    /* network byte order */
	int plen;
	int64_t created;             /* ns since the epoch */
};

int rt_netconf_name_ok(const char *name);

/* Create a network; subnet NULL: the next free 172.29.N.0/24. Its bridge
 * is rt<N>, N the lowest number no other network uses. "bridge" may be
 * created this way (to choose its subnet) until it first exists. */
int rt_netconf_create(const char *root, const char *name, const char *subnet,
		  struct rt_net_conf *c, struct rt_err *e);
/* Remove an unused network (no leases); "bridge" cannot be removed. */
int rt_netconf_remove(const char *root, const char *name, struct rt_err *e);
/* Read a network's config; "bridge" is created with its defaults the
 * first time it is asked for. */
int rt_netconf_get(const char *root, const char *name, struct rt_net_conf *c, struct rt_err *e);
/* Every network, in name order ("bridge" included once it exists). */
int rt_netconf_list(const char *root, struct rt_net_conf *out, int max, struct rt_err *e);
int rt_netconf_leases_load(const char *root, const char *name, struct rt_net_leases *ls,
		       struct rt_err *e);

/* Published ports of a container (by id) as ps shows them, from the
 * leases: "0.0.0.0:8080->80/tcp, ..."; "" when none. */
int rt_netconf_ports_text(const char *root, const char *id, char *buf, size_t cap);

/* The network part of a container's config (the object the CLI builds,
 * see container.h), checked:
 *   "network"    "none" | "host" | "bridge" | a user network's name
 *   "ports"      ["[IP:][HOSTPORT:]PORT[/PROTO]", ...]   (-p, as typed)
 *   "add_hosts"  ["NAME:IP", ...]                        (--add-host)
 *   "dns"        ["a.b.c.d", ...]                        (--dns)
 * Self-contained (no pointers into the JSON), so it outlives the text. */
#define RT_NET_HOSTENT 272           /* one "NAME:IP" */
enum rt_net_kind { RT_NETK_NONE, RT_NETK_HOST, RT_NETK_BRIDGE };
struct rt_net_spec {
	enum rt_net_kind kind;       /* RT_NETK_BRIDGE for any named network */
	char network[RT_NET_NAME_MAX + 1];
	struct rt_net_port ports[RT_NET_MAX_PORTS];
	int nports;
	char add_hosts[RT_NET_MAX_ADD_HOSTS][RT_NET_HOSTENT];
	int nadd_hosts;
	char dns[RT_NET_MAX_DNS][16];
	int ndns;
};
struct rt_json;
/* From object obj of a parsed config. dflt: the network when the config
 * names none ("none" or "bridge"). Ports and the rest need a bridge. */
int rt_netconf_spec(const struct rt_json *j, int obj, const char *dflt, struct rt_net_spec *ns,
		    struct rt_err *e);
/* The same from a config's text (the supervisor keeps text). */
int rt_netconf_spec_text(const char *conf, size_t len, const char *dflt, struct rt_net_spec *ns,
			 struct rt_err *e);

/* Under the lock: give id an address on network c (its lease, or the
 * next free one; *ip) and record its published ports b[0..nb), or with
 * release drop its lease. */
int rt_netconf_lease(const char *root, const struct rt_net_conf *c, const char *id,
		     const char *name, const struct rt_net_bind *b, int nb, int release,
		     uint32_t *ip, struct rt_err *e);
/* Empty every network's leases (a starting supervisor runs nothing yet);
 * the networks go to out. Returns their count. */
int rt_netconf_reset(const char *root, struct rt_net_conf *out, int max, struct rt_err *e);

#endif
