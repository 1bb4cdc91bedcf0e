/* Networks as data: parsing what users write (-p, --subnet, --add-host,
 * --dns), the address allocator, and networks in the store (see
 * netconf.h). No kernel interface here: the CLI links it alone. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "json.h"
#include "netconf.h"
#include "path.h"
#include "tbuf.h"

#define LEASES_MAX (96u << 10)       /* leases.json at its largest */
#define LEASE_TOK 4096               /* also a whole container config */
#define CONF_MAX 1024
#define AUTO_BASE 0xac1d0000u        /* 172.29.0.0, host order */

/* --- parsing ------------------------------------------------------------------- */

static int dec(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int ip4n(const char *s, size_t n, uint32_t *ip)
{
	uint32_t h = 0;
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t j = i;
		unsigned v;

		while (j < n && s[j] != '.')
			j++;
		if (dec(s + i, j - i, 255, &v) < 0 || j - i > 3)
			return -1;
		h = h << 8 | v;
		if (part < 3) {
			if (j >= n)
				return -1;
			i = j + 1;
		} else if (j != n) {
			return -1;
		}
	}
	*ip = htonl(h);
	return 0;
}

int rt_netconf_ip4_parse(const char *s, uint32_t *ip)
{
	return ip4n(s, strlen(s), ip);
}

static uint32_t mask_of(int plen)
{
	return plen ? 0xffffffffu << (32 - plen) : 0;
}

int rt_netconf_cidr_parse(const char *s, uint32_t *net, int *plen, struct rt_err *e)
{
	const char *sl = strchr(s, '/');
	unsigned p;
	uint32_t ip;

	if (!sl || ip4n(s, (size_t)(sl - s), &ip) < 0 || dec(sl + 1, strlen(sl + 1), 32, &p) < 0)
		return rt_err_set(e, EINVAL, "invalid subnet '%.64s': want a.b.c.d/n", s);
	if (p < 8 || p > 30)
		return rt_err_set(e, EINVAL, "subnet '%.64s': prefix must be /8 to /30", s);
	if (ntohl(ip) & ~mask_of((int)p))
		return rt_err_set(e, EINVAL, "subnet '%.64s' has host bits set", s);
	*net = ip;
	*plen = (int)p;
	return 0;
}

static int range(const char *s, size_t n, uint16_t *lo, uint16_t *hi)
{
	const char *d = memchr(s, '-', n);
	unsigned a, b;

	if (!d) {
		if (dec(s, n, 65535, &a) < 0 || a == 0)
			return -1;
		*lo = *hi = (uint16_t)a;
		return 0;
	}
	if (dec(s, (size_t)(d - s), 65535, &a) < 0 ||
	    dec(d + 1, n - (size_t)(d - s) - 1, 65535, &b) < 0 || a == 0 || b < a)
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int rt_netconf_port_parse(const char *s, struct rt_net_port *p, struct rt_err *e)
{
	const char *slash, *c1, *c2, *end;
	size_t n = strnlen(s, 80);

	memset(p, 0, sizeof *p);
	p->proto = IPPROTO_TCP;
	if (n == 0 || n >= 80)
		return rt_err_set(e, EINVAL, "invalid port spec '%.80s'", s);
	if (s[0] == '[')
		return rt_err_set(e, EINVAL, "port spec '%.80s': IPv6 host addresses are not supported",
				  s);
	end = s + n;
	slash = memchr(s, '/', n);
	if (slash) {
		if (!strcmp(slash, "/udp"))
			p->proto = IPPROTO_UDP;
		else if (strcmp(slash, "/tcp"))
			return rt_err_set(e, EINVAL, "port spec '%.80s': protocol must be tcp or udp",
					  s);
		end = slash;
	}
	c1 = memchr(s, ':', (size_t)(end - s));
	c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
	if (c2 && memchr(c2 + 1, ':', (size_t)(end - c2 - 1)))
		return rt_err_set(e, EINVAL, "invalid port spec '%.80s'", s);
	if (!c1) {
		if (range(s, (size_t)(end - s), &p->ctr_lo, &p->ctr_hi) < 0)
			goto bad;
	} else {
		const char *hs = s, *he = c1;

		if (c2) {
			if (ip4n(s, (size_t)(c1 - s), &p->host_ip) < 0)
				return rt_err_set(e, EINVAL, "port spec '%.80s': bad host address", s);
			hs = c1 + 1;
			he = c2;
		}
		if (range((c2 ? c2 : c1) + 1, (size_t)(end - (c2 ? c2 : c1) - 1), &p->ctr_lo,
			  &p->ctr_hi) < 0)
			goto bad;
		if (he > hs && range(hs, (size_t)(he - hs), &p->host_lo, &p->host_hi) < 0)
			goto bad;
		if (he == hs && !c2)
			goto bad;       /* ":80" */
	}
	if (p->ctr_hi - p->ctr_lo >= RT_NET_MAX_PORTS)
		return rt_err_set(e, E2BIG, "port spec '%.80s': more than %d ports", s,
				  RT_NET_MAX_PORTS);
	if (p->host_lo && p->host_hi - p->host_lo != p->ctr_hi - p->ctr_lo &&
	    p->ctr_hi != p->ctr_lo)
		return rt_err_set(e, EINVAL,
				  "port spec '%.80s': host and container port ranges differ in size", s);
	return 0;
bad:
	return rt_err_set(e, EINVAL, "invalid port spec '%.80s': want [IP:][HOSTPORT:]PORT[/tcp|/udp]",
			  s);
}

int rt_netconf_bind_fmt(const struct rt_net_bind *b, char *buf, size_t cap)
{
	char a[INET_ADDRSTRLEN];
	int n;

	inet_ntop(AF_INET, &b->host_ip, a, sizeof a);
	n = snprintf(buf, cap, "%s:%u->%u/%s", a, b->host_port, b->ctr_port,
		     b->proto == IPPROTO_UDP ? "udp" : "tcp");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int rt_netconf_bind_parse(const char *s, struct rt_net_bind *b)
{
	const char *c = strchr(s, ':'), *arrow = strstr(s, "->"), *sl = strrchr(s, '/');
	unsigned hp, cp;

	memset(b, 0, sizeof *b);
	if (!c || !arrow || !sl || !(c < arrow && arrow < sl))
		return -1;
	if (ip4n(s, (size_t)(c - s), &b->host_ip) < 0 ||
	    dec(c + 1, (size_t)(arrow - c - 1), 65535, &hp) < 0 ||
	    dec(arrow + 2, (size_t)(sl - arrow - 2), 65535, &cp) < 0 || hp == 0 || cp == 0)
		return -1;
	if (!strcmp(sl, "/tcp"))
		b->proto = IPPROTO_TCP;
	else if (!strcmp(sl, "/udp"))
		b->proto = IPPROTO_UDP;
	else
		return -1;
	b->host_port = (uint16_t)hp;
	b->ctr_port = (uint16_t)cp;
	return 0;
}

static int hostchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

int rt_netconf_add_host_parse(const char *s, char *name, size_t cap, uint32_t *ip,
			  struct rt_err *e)
{
	const char *c = strchr(s, ':');
	size_t i, n;

	if (!c || c == s)
		return rt_err_set(e, EINVAL, "invalid --add-host '%.80s': want NAME:IP", s);
	n = (size_t)(c - s);
	if (n >= cap || n > 253)
		return rt_err_set(e, EINVAL, "--add-host '%.80s': name too long", s);
	for (i = 0; i < n; i++)
		if (!hostchar(s[i]))
			return rt_err_set(e, EINVAL, "--add-host '%.80s': bad character in name", s);
	if (!strcmp(c + 1, "host-gateway")) {
		*ip = 0;        /* the network's gateway, filled in at start */
	} else if (rt_netconf_ip4_parse(c + 1, ip) < 0 || *ip == 0) {
		return rt_err_set(e, EINVAL, "--add-host '%.80s': not an IPv4 address", s);
	}
	memcpy(name, s, n);
	name[n] = '\0';
	return 0;
}

/* --- resolv.conf ------------------------------------------------------------ */


/* The first word of a line and where the rest starts. */
static size_t word(const char *l, size_t n, size_t *rest)
{
	size_t w = 0, r;

	while (w < n && l[w] != ' ' && l[w] != '\t')
		w++;
	r = w;
	while (r < n && (l[r] == ' ' || l[r] == '\t'))
		r++;
	*rest = r;
	return w;
}

static int printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			if (s[i] != '\t')
				return 0;
	return 1;
}

int rt_netconf_resolv_text(const char *host, size_t len, const char *const *dns, int ndns,
		       char *buf, size_t cap, struct rt_err *e)
{
	struct rt_tb t = { buf, cap, 0, 0 };
	size_t off = 0;
	int i, ns = 0;
	uint32_t ip;

	if (cap == 0)
		return rt_err_set(e, EINVAL, "no room");
	buf[0] = '\0';
	if (ndns < 0 || ndns > RT_NET_MAX_DNS)
		return rt_err_set(e, EINVAL, "at most %d --dns servers", RT_NET_MAX_DNS);
	for (i = 0; i < ndns; i++) {
		if (rt_netconf_ip4_parse(dns[i], &ip) < 0)
			return rt_err_set(e, EINVAL, "--dns '%.64s': not an IPv4 address", dns[i]);
		rt_tb_printf(&t, "nameserver %s\n", dns[i]);
		ns++;
	}
	while (host && off < len) {
		const char *l = host + off;
		const char *nl = memchr(l, '\n', len - off);
		size_t n = nl ? (size_t)(nl - l) : len - off, rest, w;

		off += n + 1;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (n == 0 || n > 512 || !printable(l, n))
			continue;
		w = word(l, n, &rest);
		if (w == 10 && !memcmp(l, "nameserver", 10)) {
			size_t an = n - rest;

			while (an > 0 && (l[rest + an - 1] == ' ' || l[rest + an - 1] == '\t'))
				an--;
			if (ndns || ns >= RT_NET_MAX_DNS || ip4n(l + rest, an, &ip) < 0)
				continue;       /* given --dns, IPv6, or junk */
			if ((ntohl(ip) >> 24) == 127)
				continue;       /* the host's own resolver: not reachable */
			rt_tb_printf(&t, "nameserver %.*s\n", (int)an, l + rest);
			ns++;
		} else if ((w == 6 && !memcmp(l, "search", 6)) ||
			   (w == 6 && !memcmp(l, "domain", 6)) ||
			   (w == 7 && !memcmp(l, "options", 7))) {
			rt_tb_printf(&t, "%.*s\n", (int)n, l);
		}
	}
	if (ns == 0)
		rt_tb_printf(&t, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	if (t.bad)
		return rt_err_set(e, E2BIG, "resolv.conf larger than %zu bytes", cap);
	return (int)t.len;
}

/* --- the allocator ------------------------------------------------------------ */

static int hex_id(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int rt_netconf_name_ok(const char *name)
{
	size_t i;

	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
	      (name[0] >= '0' && name[0] <= '9')))
		return 0;
	for (i = 1; name[i]; i++)
		if (!hostchar(name[i]))
			return 0;
	return i <= RT_NET_NAME_MAX;
}

static int in_subnet(uint32_t ip, uint32_t subnet, int plen)
{
	uint32_t h = ntohl(ip), net = ntohl(subnet), size = 1u << (32 - plen);

	return (h & mask_of(plen)) == net && h - net >= 2 && h - net <= size - 2;
}

static struct rt_json_tok ltok[LEASE_TOK];

int rt_netconf_leases_parse(const char *buf, size_t len, uint32_t subnet, int plen,
			struct rt_net_leases *ls, struct rt_err *e)
{
	struct rt_json j;
	char s[80];
	int arr, t, i, k;

	ls->n = 0;
	if (plen < 8 || plen > 30)
		return rt_err_set(e, EINVAL, "leases: bad subnet");
	if (rt_json_parse(&j, buf, len, ltok, LEASE_TOK, 4, e) < 0)
		return rt_err_wrap(e, "leases");
	arr = rt_json_find(&j, 0, "leases");
	if (rt_json_type(&j, arr) != RT_JSON_ARRAY)
		return rt_err_set(e, EINVAL, "leases: no 'leases' array");
	if (rt_json_count(&j, arr) > RT_NET_MAX_LEASES)
		return rt_err_set(e, EINVAL, "leases: more than %d", RT_NET_MAX_LEASES);
	for (t = rt_json_first(&j, arr); t >= 0; t = rt_json_next(&j, arr, t)) {
		struct rt_net_lease *l = &ls->l[ls->n];
		int p;

		memset(l, 0, sizeof *l);
		if (rt_json_str(&j, rt_json_find(&j, t, "ip"), s, sizeof s, e) < 0 ||
		    rt_netconf_ip4_parse(s, &l->ip) < 0 || !in_subnet(l->ip, subnet, plen))
			return rt_err_set(e, EINVAL, "leases: entry %d: bad address", ls->n);
		if (rt_json_str(&j, rt_json_find(&j, t, "id"), s, sizeof s, e) < 0 || !hex_id(s))
			return rt_err_set(e, EINVAL, "leases: entry %d: bad id", ls->n);
		memcpy(l->id, s, sizeof l->id);
		if (rt_json_str(&j, rt_json_find(&j, t, "name"), l->name, sizeof l->name, e) < 0 ||
		    !rt_netconf_name_ok(l->name))
			return rt_err_set(e, EINVAL, "leases: entry %d: bad name", ls->n);
		p = rt_json_find(&j, t, "ports");
		if (p >= 0) {
			if (rt_json_type(&j, p) != RT_JSON_ARRAY ||
			    rt_json_count(&j, p) > RT_NET_MAX_PORTS)
				return rt_err_set(e, EINVAL, "leases: entry %d: bad ports", ls->n);
			for (k = rt_json_first(&j, p); k >= 0; k = rt_json_next(&j, p, k))
				if (rt_json_str(&j, k, s, sizeof s, e) < 0 ||
				    rt_netconf_bind_parse(s, &l->bind[l->nbind++]) < 0)
					return rt_err_set(e, EINVAL, "leases: entry %d: bad port", ls->n);
		}
		for (i = 0; i < ls->n; i++)
			if (ls->l[i].ip == l->ip || !strcmp(ls->l[i].id, l->id))
				return rt_err_set(e, EINVAL, "leases: entry %d: address or id taken twice",
						  ls->n);
		ls->n++;
	}
	return 0;
}

int rt_netconf_leases_format(const struct rt_net_leases *ls, char *buf, size_t cap,
			 struct rt_err *e)
{
	struct rt_json_w w;
	char s[80];
	int i, k;

	rt_json_w_init(&w, buf, cap);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "leases");
	rt_json_w_arr(&w);
	for (i = 0; i < ls->n; i++) {
		const struct rt_net_lease *l = &ls->l[i];

		rt_json_w_obj(&w);
		rt_json_w_key(&w, "ip");
		rt_json_w_str(&w, inet_ntop(AF_INET, &l->ip, s, sizeof s));
		rt_json_w_key(&w, "id");
		rt_json_w_str(&w, l->id);
		rt_json_w_key(&w, "name");
		rt_json_w_str(&w, l->name);
		rt_json_w_key(&w, "ports");
		rt_json_w_arr(&w);
		for (k = 0; k < l->nbind; k++) {
			if (rt_netconf_bind_fmt(&l->bind[k], s, sizeof s) < 0)
				return rt_err_set(e, EINVAL, "leases: bad port");
			rt_json_w_str(&w, s);
		}
		rt_json_w_end(&w);
		rt_json_w_end(&w);
	}
	rt_json_w_end(&w);
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return rt_err_wrap(e, "leases");
	return (int)w.len;
}

int rt_netconf_alloc(struct rt_net_leases *ls, uint32_t subnet, int plen, const char *id,
		 const char *name, uint32_t *ip, struct rt_err *e)
{
	uint32_t net = ntohl(subnet), size, off;
	int i;

	if (plen < 8 || plen > 30 || (net & ~mask_of(plen)))
		return rt_err_set(e, EINVAL, "bad subnet");
	if (!hex_id(id) || !rt_netconf_name_ok(name))
		return rt_err_set(e, EINVAL, "bad container id or name");
	for (i = 0; i < ls->n; i++)
		if (!strcmp(ls->l[i].id, id)) {
			snprintf(ls->l[i].name, sizeof ls->l[i].name, "%s", name);
			*ip = ls->l[i].ip;
			return 0;
		}
	if (ls->n >= RT_NET_MAX_LEASES)
		return rt_err_set(e, ENOSPC, "more than %d containers on one network",
				  RT_NET_MAX_LEASES);
	size = 1u << (32 - plen);
	/* Among the first n+1 candidates one is free: at most n are taken. */
	for (off = 2; off <= size - 2; off++) {
		uint32_t cand = htonl(net + off);

		for (i = 0; i < ls->n && ls->l[i].ip != cand; i++)
			;
		if (i < ls->n)
			continue;
		memset(&ls->l[ls->n], 0, sizeof ls->l[0]);
		ls->l[ls->n].ip = cand;
		memcpy(ls->l[ls->n].id, id, 65);
		snprintf(ls->l[ls->n].name, sizeof ls->l[0].name, "%s", name);
		ls->n++;
		*ip = cand;
		return 0;
	}
	return rt_err_set(e, ENOSPC, "no free address in the subnet");
}

int rt_netconf_release(struct rt_net_leases *ls, const char *id)
{
	int i;

	for (i = 0; i < ls->n; i++)
		if (!strcmp(ls->l[i].id, id)) {
			memmove(&ls->l[i], &ls->l[i + 1], sizeof ls->l[0] * (size_t)(ls->n - i - 1));
			ls->n--;
			return 0;
		}
	return 1;
}

/* --- networks in the store ---------------------------------------------------- */

static struct rt_net_leases leases;         /* scratch: one network at a time */
static char filebuf[LEASES_MAX];

static int open_root(const char *root, struct rt_err *e)
{
	int fd;

	if (!root || root[0] != '/')
		return rt_err_set(e, EINVAL, "store root must be an absolute path");
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_err_sys(e, "%s", root);
	return fd;
}

/* networks/ under root, created when missing; locked when lock != NULL
 * (*lock gets the lock's fd: closing it unlocks). */
static int nets_dir(const char *root, int *lock, struct rt_err *e)
{
	RT_AUTOCLOSE int r = open_root(root, e);
	int d;

	if (r < 0)
		return -1;
	d = rt_path_mkdirs(r, "networks", 0700, e);
	if (d < 0)
		return rt_err_wrap(e, "networks");
	if (lock) {
		*lock = openat(d, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (*lock < 0 || flock(*lock, LOCK_EX) < 0) {
			rt_err_sys(e, "lock networks");
			rt_io_close(lock);
			close(d);
			return -1;
		}
	}
	return d;
}

static int conf_parse(const char *buf, size_t len, struct rt_net_conf *c, struct rt_err *e)
{
	struct rt_json_tok t[32];
	struct rt_json j;
	char s[80];

	memset(c, 0, sizeof *c);
	if (rt_json_parse(&j, buf, len, t, 32, 2, e) < 0)
		return rt_err_wrap(e, "network config");
	if (rt_json_str(&j, rt_json_find(&j, 0, "name"), c->name, sizeof c->name, e) < 0 ||
	    !rt_netconf_name_ok(c->name) ||
	    rt_json_str(&j, rt_json_find(&j, 0, "subnet"), s, sizeof s, e) < 0 ||
	    rt_netconf_cidr_parse(s, &c->subnet, &c->plen, e) < 0 ||
	    rt_json_str(&j, rt_json_find(&j, 0, "gateway"), s, sizeof s, e) < 0 ||
	    rt_netconf_ip4_parse(s, &c->gateway) < 0 ||
	    rt_json_str(&j, rt_json_find(&j, 0, "bridge"), c->bridge, sizeof c->bridge, e) < 0 ||
	    strncmp(c->bridge, "rt", 2) || !c->bridge[2] ||
	    strspn(c->bridge + 2, "0123456789") != strlen(c->bridge + 2) ||
	    rt_json_i64(&j, rt_json_find(&j, 0, "created"), &c->created, e) < 0)
		return rt_err_set(e, EINVAL, "network config: bad or missing field");
	if (ntohl(c->gateway) != ntohl(c->subnet) + 1)
		return rt_err_set(e, EINVAL, "network config: gateway is not the first address");
	return 0;
}

static int conf_format(const struct rt_net_conf *c, char *buf, size_t cap, struct rt_err *e)
{
	struct rt_json_w w;
	char s[48], a[INET_ADDRSTRLEN];

	snprintf(s, sizeof s, "%s/%d", inet_ntop(AF_INET, &c->subnet, a, sizeof a), c->plen);
	rt_json_w_init(&w, buf, cap);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "name");
	rt_json_w_str(&w, c->name);
	rt_json_w_key(&w, "subnet");
	rt_json_w_str(&w, s);
	rt_json_w_key(&w, "gateway");
	rt_json_w_str(&w, inet_ntop(AF_INET, &c->gateway, a, sizeof a));
	rt_json_w_key(&w, "bridge");
	rt_json_w_str(&w, c->bridge);
	rt_json_w_key(&w, "created");
	rt_json_w_i64(&w, c->created);
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, e) < 0)
		return -1;
	return (int)w.len;
}

static int conf_read(int nd, const char *name, struct rt_net_conf *c, struct rt_err *e)
{
	char buf[CONF_MAX], p[RT_NET_NAME_MAX + 16];
	size_t len;
	RT_AUTOCLOSE int d = -1;

	if (!rt_netconf_name_ok(name))
		return rt_err_set(e, EINVAL, "invalid network name '%.80s'", name);
	snprintf(p, sizeof p, "%s", name);
	d = rt_path_open(nd, p, O_RDONLY | O_DIRECTORY, 0, e);
	if (d < 0) {
		if (e->errnum == ENOENT)
			rt_err_set(e, ENOENT, "network %s not found", name);
		return -1;
	}
	if (rt_io_read_file(d, "config.json", buf, sizeof buf, &len, e) < 0 ||
	    conf_parse(buf, len, c, e) < 0)
		return rt_err_wrap(e, "network %s", name);
	if (strcmp(c->name, name))
		return rt_err_set(e, EINVAL, "network %s: config names another network", name);
	return 0;
}

/* Every network's config (dirs that do not read as one are skipped). */
static int conf_all(int nd, struct rt_net_conf *out, int max, struct rt_err *e)
{
	struct dirent *de;
	DIR *dir;
	int fd = dup(nd), n = 0, i, k;

	if (fd < 0)
		return rt_err_sys(e, "dup");
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return rt_err_sys(e, "list networks");
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		struct rt_err ign;

		if (de->d_name[0] == '.' || !rt_netconf_name_ok(de->d_name))
			continue;
		if (n >= max)
			break;
		if (conf_read(nd, de->d_name, &out[n], &ign) == 0)
			n++;
	}
	closedir(dir);
	for (i = 1; i < n; i++)     /* name order: small n */
		for (k = i; k > 0 && strcmp(out[k - 1].name, out[k].name) > 0; k--) {
			struct rt_net_conf t = out[k];

			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

static int overlaps(uint32_t a, int pa, uint32_t b, int pb)
{
	int p = pa < pb ? pa : pb;

	return ((ntohl(a) ^ ntohl(b)) & mask_of(p)) == 0;
}

static int64_t real_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct rt_net_conf all[RT_NET_MAX_NETWORKS];

/* Under the lock. */
static int create_locked(int nd, const char *name, const char *subnet, struct rt_net_conf *c,
			 struct rt_err *e)
{
	char buf[CONF_MAX];
	int n, i, k, len;
	RT_AUTOCLOSE int d = -1;

	memset(c, 0, sizeof *c);
	if (!rt_netconf_name_ok(name))
		return rt_err_set(e, EINVAL,
				  "invalid network name '%.80s': [a-zA-Z0-9][a-zA-Z0-9_.-], at most %d",
				  name, RT_NET_NAME_MAX);
	if (!strcmp(name, "host") || !strcmp(name, "none"))
		return rt_err_set(e, EINVAL, "%s is a pre-defined network mode", name);
	n = conf_all(nd, all, RT_NET_MAX_NETWORKS, e);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (!strcmp(all[i].name, name))
			return rt_err_set(e, EEXIST, "network with name %s already exists", name);
	if (n >= RT_NET_MAX_NETWORKS)
		return rt_err_set(e, ENOSPC, "at most %d networks", RT_NET_MAX_NETWORKS);
	snprintf(c->name, sizeof c->name, "%s", name);
	if (!subnet && !strcmp(name, RT_NET_DEFAULT))
		subnet = RT_NET_DEFAULT_SUBNET;
	if (subnet) {
		if (rt_netconf_cidr_parse(subnet, &c->subnet, &c->plen, e) < 0)
			return -1;
	} else {
		for (k = 1; k < 256; k++) {
			c->subnet = htonl(AUTO_BASE | (uint32_t)k << 8);
			c->plen = 24;
			for (i = 0; i < n && !overlaps(all[i].subnet, all[i].plen, c->subnet, 24); i++)
				;
			/* Keep the default's subnet free even before it exists. */
			if (i == n && !overlaps(htonl(AUTO_BASE), 24, c->subnet, 24))
				break;
		}
		if (k == 256)
			return rt_err_set(e, ENOSPC, "no free subnet in 172.29.0.0/16: give --subnet");
	}
	for (i = 0; i < n; i++)
		if (overlaps(all[i].subnet, all[i].plen, c->subnet, c->plen))
			return rt_err_set(e, EEXIST, "subnet overlaps network %s", all[i].name);
	c->gateway = htonl(ntohl(c->subnet) + 1);
	if (!strcmp(name, RT_NET_DEFAULT)) {
		snprintf(c->bridge, sizeof c->bridge, "%s", RT_NET_DEFAULT_BRIDGE);
	} else {
		for (k = 1; k < 1000; k++) {
			snprintf(c->bridge, sizeof c->bridge, "rt%d", k);
			for (i = 0; i < n && strcmp(all[i].bridge, c->bridge); i++)
				;
			if (i == n)
				break;
		}
	}
	c->created = real_ns();
	len = conf_format(c, buf, sizeof buf, e);
	if (len < 0)
		return -1;
	if (mkdirat(nd, name, 0700) < 0 && errno != EEXIST)
		return rt_err_sys(e, "mkdir network %s", name);
	d = rt_path_open(nd, name, O_RDONLY | O_DIRECTORY, 0, e);
	if (d < 0 || rt_io_write_file(d, "config.json", buf, (size_t)len, 0600, e) < 0 ||
	    rt_io_fsync_dir(nd, e) < 0)
		return rt_err_wrap(e, "network %s", name);
	return 0;
}

int rt_netconf_create(const char *root, const char *name, const char *subnet,
		  struct rt_net_conf *c, struct rt_err *e)
{
	RT_AUTOCLOSE int lock = -1;
	RT_AUTOCLOSE int nd = nets_dir(root, &lock, e);

	if (nd < 0)
		return -1;
	return create_locked(nd, name, subnet, c, e);
}

static int leases_read(int nd, const struct rt_net_conf *c, struct rt_net_leases *ls,
		       struct rt_err *e)
{
	RT_AUTOCLOSE int d = rt_path_open(nd, c->name, O_RDONLY | O_DIRECTORY, 0, e);
	size_t len;

	ls->n = 0;
	if (d < 0)
		return -1;
	if (rt_io_read_file(d, "leases.json", filebuf, sizeof filebuf, &len, e) < 0)
		return e->errnum == ENOENT ? 0 : rt_err_wrap(e, "network %s", c->name);
	if (rt_netconf_leases_parse(filebuf, len, c->subnet, c->plen, ls, e) < 0)
		return rt_err_wrap(e, "network %s", c->name);
	return 0;
}

static int leases_write(int nd, const struct rt_net_conf *c, const struct rt_net_leases *ls,
			struct rt_err *e)
{
	RT_AUTOCLOSE int d = rt_path_open(nd, c->name, O_RDONLY | O_DIRECTORY, 0, e);
	int len;

	if (d < 0)
		return -1;
	len = rt_netconf_leases_format(ls, filebuf, sizeof filebuf, e);
	if (len < 0 || rt_io_write_file(d, "leases.json", filebuf, (size_t)len, 0600, e) < 0)
		return rt_err_wrap(e, "network %s", c->name);
	return 0;
}

int rt_netconf_remove(const char *root, const char *name, struct rt_err *e)
{
	RT_AUTOCLOSE int lock = -1;
	RT_AUTOCLOSE int nd = -1;
	RT_AUTOCLOSE int d = -1;
	struct rt_net_conf c;

	if (!strcmp(name, RT_NET_DEFAULT) || !strcmp(name, "host") || !strcmp(name, "none"))
		return rt_err_set(e, EPERM, "%s is a pre-defined network and cannot be removed", name);
	nd = nets_dir(root, &lock, e);
	if (nd < 0 || conf_read(nd, name, &c, e) < 0 || leases_read(nd, &c, &leases, e) < 0)
		return -1;
	if (leases.n > 0)
		return rt_err_set(e, EBUSY, "network %s has active endpoints (%s%s)", name,
				  leases.l[0].name, leases.n > 1 ? ", ..." : "");
	d = rt_path_open(nd, name, O_RDONLY | O_DIRECTORY, 0, e);
	if (d < 0)
		return -1;
	if ((unlinkat(d, "leases.json", 0) < 0 && errno != ENOENT) ||
	    unlinkat(d, "config.json", 0) < 0 || unlinkat(nd, name, AT_REMOVEDIR) < 0)
		return rt_err_sys(e, "remove network %s", name);
	return rt_io_fsync_dir(nd, e);
}

static int get_in(int nd, const char *name, struct rt_net_conf *c, struct rt_err *e)
{
	if (conf_read(nd, name, c, e) == 0)
		return 0;
	if (e->errnum != ENOENT || strcmp(name, RT_NET_DEFAULT))
		return -1;
	return create_locked(nd, name, NULL, c, e);
}

int rt_netconf_get(const char *root, const char *name, struct rt_net_conf *c, struct rt_err *e)
{
	RT_AUTOCLOSE int lock = -1;
	RT_AUTOCLOSE int nd = nets_dir(root, &lock, e);

	if (nd < 0)
		return -1;
	return get_in(nd, name, c, e);
}

int rt_netconf_list(const char *root, struct rt_net_conf *out, int max, struct rt_err *e)
{
	RT_AUTOCLOSE int nd = nets_dir(root, NULL, e);

	if (nd < 0)
		return -1;
	return conf_all(nd, out, max, e);
}

int rt_netconf_leases_load(const char *root, const char *name, struct rt_net_leases *ls,
		       struct rt_err *e)
{
	RT_AUTOCLOSE int nd = nets_dir(root, NULL, e);
	struct rt_net_conf c;

	ls->n = 0;
	if (nd < 0 || conf_read(nd, name, &c, e) < 0)
		return -1;
	return leases_read(nd, &c, ls, e);
}

int rt_netconf_ports_text(const char *root, const char *id, char *buf, size_t cap)
{
	static struct rt_net_conf cs[RT_NET_MAX_NETWORKS];
	struct rt_tb t = { buf, cap, 0, 0 };
	struct rt_err e;
	char s[64];
	int n, i, k, m;
	RT_AUTOCLOSE int nd = -1;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	nd = nets_dir(root, NULL, &e);
	if (nd < 0)
		return -1;
	n = conf_all(nd, cs, RT_NET_MAX_NETWORKS, &e);
	for (i = 0; i < n; i++) {
		if (leases_read(nd, &cs[i], &leases, &e) < 0)
			continue;
		for (k = 0; k < leases.n; k++) {
			if (strcmp(leases.l[k].id, id))
				continue;
			for (m = 0; m < leases.l[k].nbind; m++)
				if (rt_netconf_bind_fmt(&leases.l[k].bind[m], s, sizeof s) > 0)
					rt_tb_printf(&t, "%s%s", t.len ? ", " : "", s);
		}
	}
	return t.bad ? -1 : (int)t.len;
}

int rt_netconf_lease(const char *root, const struct rt_net_conf *c, const char *id,
		     const char *name, const struct rt_net_bind *b, int nb, int release,
		     uint32_t *ip, struct rt_err *e)
{
	RT_AUTOCLOSE int lock = -1;
	RT_AUTOCLOSE int nd = nets_dir(root, &lock, e);
	int i;

	if (nb < 0 || nb > RT_NET_MAX_PORTS)
		return rt_err_set(e, EINVAL, "bad port count");
	if (nd < 0 || leases_read(nd, c, &leases, e) < 0)
		return -1;
	if (release) {
		if (rt_netconf_release(&leases, id) == 1)
			return 0;
	} else {
		if (rt_netconf_alloc(&leases, c->subnet, c->plen, id, name, ip, e) < 0)
			return rt_err_wrap(e, "network %s", c->name);
		for (i = 0; i < leases.n && strcmp(leases.l[i].id, id); i++)
			;
		leases.l[i].nbind = nb;
		if (nb)
			memcpy(leases.l[i].bind, b, sizeof b[0] * (size_t)nb);
	}
	return leases_write(nd, c, &leases, e);
}

int rt_netconf_reset(const char *root, struct rt_net_conf *out, int max, struct rt_err *e)
{
	RT_AUTOCLOSE int lock = -1;
	RT_AUTOCLOSE int nd = nets_dir(root, &lock, e);
	int i, n, r = 0;

	if (nd < 0)
		return -1;
	n = conf_all(nd, out, max, e);
	for (i = 0; i < n; i++) {
		struct rt_err ign;

		if (leases_read(nd, &out[i], &leases, &ign) == 0 && leases.n == 0)
			continue;
		leases.n = 0;
		if (leases_write(nd, &out[i], &leases, e) < 0)
			r = -1;
	}
	return r < 0 ? -1 : n;
}

/* Each string of array key (at most max, each below cap) into out. */
static int strings(const struct rt_json *j, int obj, const char *key, int max, char *out,
		   size_t cap, int *n, struct rt_err *e)
{
	int a = rt_json_find(j, obj, key), t;

	*n = 0;
	if (a < 0)
		return 0;
	if (rt_json_type(j, a) != RT_JSON_ARRAY || rt_json_count(j, a) > max)
		return rt_err_set(e, EINVAL, "config: '%s' must be an array of at most %d strings", key,
				  max);
	for (t = rt_json_first(j, a); t >= 0; t = rt_json_next(j, a, t)) {
		if (rt_json_str(j, t, out + (size_t)*n * cap, cap, e) < 0)
			return rt_err_set(e, EINVAL, "config: '%s' %d: not a string of at most %zu bytes",
					  key, *n, cap - 1);
		(*n)++;
	}
	return 0;
}

int rt_netconf_spec(const struct rt_json *j, int obj, const char *dflt, struct rt_net_spec *ns,
		    struct rt_err *e)
{
	static char tmp[RT_NET_MAX_PORTS][80];
	int t = rt_json_find(j, obj, "network"), i, n, total = 0;
	char name[RT_NET_HOSTENT];
	uint32_t ip;

	memset(ns, 0, sizeof *ns);
	if (t >= 0) {
		if (rt_json_str(j, t, ns->network, sizeof ns->network, e) < 0)
			return rt_err_set(e, EINVAL, "config: 'network' must be a network name");
	} else {
		snprintf(ns->network, sizeof ns->network, "%s", dflt ? dflt : "none");
	}
	if (!strcmp(ns->network, "none"))
		ns->kind = RT_NETK_NONE;
	else if (!strcmp(ns->network, "host"))
		ns->kind = RT_NETK_HOST;
	else if (rt_netconf_name_ok(ns->network))
		ns->kind = RT_NETK_BRIDGE;
	else
		return rt_err_set(e, EINVAL, "invalid network name '%.80s'", ns->network);
	if (strings(j, obj, "ports", RT_NET_MAX_PORTS, tmp[0], sizeof tmp[0], &n, e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct rt_net_port *p = &ns->ports[i];

		if (rt_netconf_port_parse(tmp[i], p, e) < 0)
			return -1;
		total += p->ctr_hi - p->ctr_lo + 1;
	}
	ns->nports = n;
	if (total > RT_NET_MAX_PORTS)
		return rt_err_set(e, E2BIG, "more than %d published ports", RT_NET_MAX_PORTS);
	if (strings(j, obj, "add_hosts", RT_NET_MAX_ADD_HOSTS, ns->add_hosts[0],
		    sizeof ns->add_hosts[0], &ns->nadd_hosts, e) < 0 ||
	    strings(j, obj, "dns", RT_NET_MAX_DNS, ns->dns[0], sizeof ns->dns[0], &ns->ndns, e) < 0)
		return -1;
	for (i = 0; i < ns->nadd_hosts; i++)
		if (rt_netconf_add_host_parse(ns->add_hosts[i], name, sizeof name, &ip, e) < 0)
			return -1;
	for (i = 0; i < ns->ndns; i++)
		if (rt_netconf_ip4_parse(ns->dns[i], &ip) < 0)
			return rt_err_set(e, EINVAL, "--dns '%.20s': not an IPv4 address", ns->dns[i]);
	if (ns->kind != RT_NETK_BRIDGE && (ns->nports || ns->nadd_hosts || ns->ndns)) {
		if (ns->nports)
			return rt_err_set(e, EINVAL, "published ports need a bridge network, not '%s'",
					  ns->network);
		return rt_err_set(e, EINVAL, "--add-host and --dns need a bridge network, not '%s'",
				  ns->network);
	}
	return 0;
}

int rt_netconf_spec_text(const char *conf, size_t len, const char *dflt, struct rt_net_spec *ns,
			 struct rt_err *e)
{
	struct rt_json j;

	if (rt_json_parse(&j, conf, len, ltok, LEASE_TOK, 8, e) < 0)
		return rt_err_wrap(e, "config");
	return rt_netconf_spec(&j, 0, dflt, ns, e);
}
