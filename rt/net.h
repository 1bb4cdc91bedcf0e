/* Container networks: Docker's bridge model without `ip` or `iptables`.
 *
 * A network is a Linux bridge (the default network "bridge" is rt0), an
 * IPv4 subnet whose first address is the bridge's (the containers'
 * gateway), and a lease file of the addresses in use. A container on it
 * gets a veth pair: rtv<first 12 hex of its id> on the bridge, eth0 in
 * its network namespace with the next free address, a default route via
 * the gateway and the MTU of the host's uplink (the default route's
 * link). The bridge and rt's NAT rules (see nft.h) exist while at least
 * one container is attached, and are removed with the last one.
 *
 * The seam with the sandbox: rt_net_attach() makes the container's
 * network namespace itself (unshare + setns back, in the single-threaded
 * supervisor), configures it completely from outside over netlink, and
 * hands back an fd the sandbox's child joins with setns() instead of
 * cloning an empty namespace. No step runs between clone and exec, and a
 * network failure is reported before any process exists. When the
 * container's last process exits the namespace dies, and eth0 and its
 * host peer with it; rt_net_detach() then releases the address, the
 * published ports and the rules.
 *
 * Names. Containers on one network find each other through /etc/hosts,
 * which rt keeps current: rt_net_attach() returns the container's hosts
 * and resolv.conf text (the sandbox writes them into the state dir and
 * binds them over /etc/hosts and /etc/resolv.conf), and every attach or
 * detach rewrites the hosts file of each other container on the network
 * in place (RUN/containers/<id>/rw/etc/hosts: same inode, so the bind
 * mount sees it). Chosen over a DNS responder on the bridge address
 * because it puts no parser of container-controlled packets into PID 1,
 * works with any libc and with static binaries that never read
 * resolv.conf, and costs nothing while nobody looks a name up. What it
 * does not do: names of containers that start later appear only once
 * they start (as with Docker), and a container that replaces its own
 * /etc/hosts loses rt's later updates.
 *
 * Networks and their leases live in the store (see netconf.h). Leases
 * are held while a container runs. After a crash of rt nothing
 * runs under the new supervisor, so rt_net_init() reconciles: every rtv*
 * veth and every rt bridge is deleted, the NAT table is removed and the
 * leases are emptied.
 *
 * IPv6: containers and bridges get link-local addresses from the kernel
 * (fe80::/64 on eth0 and on the bridge), so containers on one network
 * reach each other over IPv6 by address (ping6 fe80::...%eth0). Not yet:
 * routed IPv6 subnets, which would need an IPv6 NAT or prefix delegation
 * policy, ip6 rules and names in /etc/hosts for global addresses.
 *
 * One rt per network namespace: two supervisors sharing one would delete
 * each other's interfaces at start. */
#ifndef RT_NET_H
#define RT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "netconf.h"

struct rt_net_cfg {
	const char *root, *run;      /* absolute */
	int epfd;                    /* the supervisor's epoll set, for the proxy */
	uint32_t ep_kind;            /* proxy fds are added with data.u64 =
					(uint64_t)ep_kind << 32 | slot */
};

/* Probe what the kernel offers and reconcile what a previous rt left. */
int rt_net_init(const struct rt_net_cfg *cfg, struct rt_err *e);
/* Detach every container (the supervisor stops). */
void rt_net_fini(void);

struct rt_net_req {
	const char *id;              /* 64 hex */
	const char *name;            /* container name */
	const char *hostname;        /* NULL: name */
	const struct rt_net_spec *spec;  /* network, ports, --add-host, --dns
					    (rt_netconf_spec) */
};

/* What the sandbox needs from an attach. The texts live in net.c and
 * stay valid until the next rt_net_* call. */
struct rt_net_att {
	int netns_fd;                /* join it (setns); the caller closes it
					once the container runs or failed */
	const char *hosts;           /* /etc/hosts for the container */
	const char *resolv;          /* /etc/resolv.conf */
	uint32_t ip;
};

/* Attach a container about to start. On failure nothing is left. A
 * container that is already attached is detached first (a restart). */
int rt_net_attach(const struct rt_net_req *r, struct rt_net_att *a, struct rt_err *e);
/* Undo an attach (the container exited or its spawn failed); unknown ids
 * are fine. Best effort: every step is tried, the first error returned. */
int rt_net_detach(const char *id, struct rt_err *e);

/* An epoll event on a proxy fd (data's low 32 bits). */
void rt_net_event(uint32_t slot, uint32_t events);

/* For `rt info`: which NAT path this kernel gets, and IPv6. */
struct rt_net_info {
	const char *nat;             /* rt_nft_backend_name() */
	int dnat;                    /* published ports through kernel NAT */
	int ipv6;                    /* link-local IPv6 in containers */
};
void rt_net_info(struct rt_net_info *i);

#endif
