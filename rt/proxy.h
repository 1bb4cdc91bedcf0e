/* A userspace TCP and UDP proxy for published ports, driven by the
 * caller's epoll loop: loopback connections (which kernel NAT cannot
 * carry) and every connection where there is no kernel NAT.
 *
 * Each listener holds its host port for as long as the port is published,
 * whether or not the proxy carries traffic: that is also what makes a port
 * that is already taken fail the container's start with EADDRINUSE.
 *
 * UDP is relayed by session: each client address (and the local address it
 * wrote to, so replies leave from that address) gets a socket connected to
 * the container's port, through which its datagrams go and the container's
 * replies come back. A session ends when its port is unpublished, when it
 * has been idle RT_PROXY_UDP_IDLE seconds (looked at whenever a datagram
 * arrives on any published UDP port, as rt keeps no timer for it), or when
 * the table is full and a new client comes (the longest idle one goes).
 * Datagrams that cannot be sent at once are dropped, as UDP may.
 *
 * TCP bytes move with splice() through one pipe per direction, sized to
 * RT_PROXY_PIPE, so a connection never holds more than two pipes' worth in
 * the kernel and nothing in rt; a side that does not read stops the other
 * side being read (back-pressure, no buffering). Every fd is non-blocking;
 * tables are fixed at RT_PROXY_MAX_LISTEN listeners and RT_PROXY_MAX_CONN
 * connections (beyond that, new connections are accepted and closed at
 * once). Nothing allocates.
 *
 * epoll: every fd is added with data.u64 = (uint64_t)kind << 32 | slot,
 * level-triggered; the loop hands (slot, events) to rt_proxy_event(). */
#ifndef RT_PROXY_H
#define RT_PROXY_H

#include <stdint.h>

#include "err.h"

#define RT_PROXY_MAX_LISTEN 64
#define RT_PROXY_MAX_CONN 64
#define RT_PROXY_MAX_UDP 64
#define RT_PROXY_UDP_IDLE 60
#define RT_PROXY_PIPE 16384

/* Set the epoll set and tag; closes whatever is open. */
void rt_proxy_init(int epfd, uint32_t kind);

/* Hold ip:port (network byte order; ip 0: every address; port 0: one the
 * kernel picks, stored in *bound) for proto (IPPROTO_TCP or IPPROTO_UDP)
 * and relay what arrives to dst_ip:dst_port. Returns a handle. */
int rt_proxy_open(int proto, uint32_t ip, uint16_t port, uint16_t *bound, uint32_t dst_ip,
		  uint16_t dst_port, struct rt_err *e);
/* Close a listener and every connection it accepted. */
void rt_proxy_close(int h);

void rt_proxy_event(uint32_t slot, uint32_t events);

/* Open listeners, and TCP connections plus UDP sessions (tests: nothing
 * is left behind). */
void rt_proxy_count(int *listeners, int *conns);

#endif
