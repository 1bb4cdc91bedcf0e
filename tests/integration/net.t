#!/bin/sh
# Bridge networks end to end through `rt daemon`, in a network namespace
# of the test's own (the host's interfaces, routes and rules are never
# touched): the bridge and veth pairs come and go with the containers,
# two containers reach each other by name, the outside (another
# namespace standing for the internet) through masquerading, a published
# port answers over TCP and UDP (kernel NAT) and on loopback (the proxy),
# another network is isolated, a port in use fails cleanly, 100
# start/stop cycles leave nothing, and after kill -9 of rt a restart
# cleans up.
. "$(dirname "$0")/lib.sh"

if [ -z "${RT_TEST_NETNS:-}" ]; then
	unshare -n true 2>/dev/null || skip_all "cannot create a network namespace"
	command -v ip >/dev/null || skip_all "no ip(8) to look at interfaces"
	cleanup_test
	RT_TEST_NETNS=1 exec unshare -n sh "$TOP/tests/integration/$(basename "$0")" "$@"
fi
need_daemon
"$RT" --help 2>/dev/null | grep -q '^  network ' || skip_all "rt built without bridge networks"
mk_rootfs || skip_all "no /bin/busybox (apt-get install busybox-static)"
R="--rootfs $T/rootfs"
ip link set lo up

mkdir -p "$T/rootfs/www"
echo hello-from-web > "$T/rootfs/www/index.html"
# A UDP echo server (busybox has none): answers each datagram with "udp:"
# and the datagram.
UDP=
if command -v cc >/dev/null && cat > "$T/udpecho.c" <<'EOF'
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, f;
	socklen_t fl = sizeof f;
	char buf[512] = "udp:";
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t n;

	a.sin_port = htons((unsigned short)atoi(argv[1]));
	if (argc < 2 || bind(s, (struct sockaddr *)&a, sizeof a) < 0)
		return 1;
	for (;;) {
		n = recvfrom(s, buf + 4, sizeof buf - 4, 0, (struct sockaddr *)&f, &fl);
		if (n > 0)
			sendto(s, buf, (size_t)n + 4, 0, (struct sockaddr *)&f, fl);
	}
}
EOF
then
	cc -static -O2 -o "$T/rootfs/bin/udpecho" "$T/udpecho.c" 2>/dev/null && UDP=1
fi

# udp HOST PORT: send "ping" to HOST:PORT, print the answer (3 s at most).
cat > "$T/udp.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"ping", (sys.argv[1], int(sys.argv[2])))
print(s.recv(64).decode())
EOF
udp() { python3 "$T/udp.py" "$@" 2>&1 | tail -n 1; }
udp_out() { nsenter -t $OUT -n python3 "$T/udp.py" "$@" 2>&1 | tail -n 1; }
command -v python3 >/dev/null || UDP=

# Interfaces and rules of rt's in this namespace, one line.
links() { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^rt' | sort | tr '\n' ' '; }
rules() { nft list table ip rt_net 2>/dev/null | grep -c . ; }
leases() { cat "$T/root/networks/$1/leases.json" 2>/dev/null; }
listening() { ss -Hltnu "sport = :$1" 2>/dev/null | grep -c . ; }
addrs() { ip -o addr show | grep -c '172\.29\.' ; }
# UDP sockets of the proxy's sessions: connected to a container's port.
sessions() { ss -Hanu "dport = :$1" 2>/dev/null | grep -c '172\.29\.' ; }

rt_daemon_start || skip_all "rt daemon does not start"

# "The internet": a namespace behind a veth, with a web server.
unshare -n sleep 1000 &
OUT=$!
echo $OUT > "$T/outside.pid"
sleep 0.2
ip link add up0 type veth peer name eth0 netns $OUT
ip addr add 10.99.0.1/24 dev up0
ip link set up0 up
in_out() { nsenter -t $OUT -n "$@"; }
in_out ip link set lo up
in_out ip addr add 10.99.0.2/24 dev eth0
in_out ip link set eth0 up
# No route back to the bridge's subnet out there: only masquerading lets
# a container's packets be answered.
mkdir -p "$T/outside"
echo hello-from-outside > "$T/outside/index.html"
nsenter -t $OUT -n busybox httpd -f -p 10.99.0.2:8000 -h "$T/outside" &
echo $! > "$T/httpd.pid"
ip route add default via 10.99.0.2 2>/dev/null   # the uplink rt will find

# Networks.
is "$(rt network ls -q | tr '\n' ' ')" "" "no network before one is used"
is "$(rt network create front)" "front" "network create"
like "$(rt network create front 2>&1)" "*already exists*" "twice: refused"
like "$(rt network create x --subnet 10.0.0.1/24 2>&1)" "*host bits*" "bad --subnet refused"
like "$(rt network ls)" "NAME*front*bridge*172.29.1.0/24*rt1*host*none*" "network ls"

# Two containers on bridge, one publishing ports.
is "$(links)" "" "no rt interface yet"
web=$(rt run -d --name web --network bridge -p 8080:80 -p 5353:53/udp $R \
	sh -c "${UDP:+udpecho 53 & }exec httpd -f -p 80 -h /www")
is $? 0 "run web with -p"
rt run -d --name cli $R --network bridge --add-host db.example:10.1.2.3 --dns 9.9.9.9 \
	sleep 1000 >/dev/null
is $? 0 "run cli"
like "$(links)" "rt0 rtv* rtv* " "bridge rt0 and two veths"
like "$(ip -o addr show rt0)" "*172.29.0.1/24*" "the bridge has the gateway address"
like "$(rules)" "[1-9]*" "rt's rules are in place (so their absence later means something)"
like "$(ip -o addr show rt0)" "*inet6 fe80::*" "and an IPv6 link-local address"
is "$(cat /proc/sys/net/ipv4/ip_forward)" 1 "forwarding on (in this namespace)"
like "$(rt exec cli ip addr show eth0)" "*172.29.0.3/24*" "cli has eth0 with an address"
like "$(rt exec cli ip route)" "default via 172.29.0.1 dev eth0*" "and a default route"
mtu() { sed -n 's/.* mtu \([0-9]*\) .*/\1/p'; }
ip link set up0 mtu 1400                      # a PPPoE-like uplink
rt restart -t 1 cli >/dev/null
is "$(rt exec cli ip link show eth0 | mtu)" 1400 "container MTU from the uplink"
ip link set up0 mtu 1500
like "$(rt exec cli cat /etc/hosts)" "*172.29.0.2	web*" "cli's /etc/hosts names web"
like "$(rt exec web cat /etc/hosts)" "*172.29.0.3	cli*" "web's was updated when cli came"
like "$(rt exec cli cat /etc/hosts)" "*10.1.2.3	db.example*" "--add-host"
is "$(rt exec cli cat /etc/resolv.conf)" "nameserver 9.9.9.9" "--dns"
rt exec cli ping -c 1 -W 3 web >/dev/null 2>&1
ok $? "cli pings web by name"
is "$(rt exec cli timeout 5 wget -q -O- http://web/)" "hello-from-web" "cli fetches from web by name"
ll=$(rt exec web ip addr show eth0 | sed -n 's/.*inet6 \(fe80::[0-9a-f:]*\).*/\1/p')
# Duplicate address detection keeps a new link-local address back ~1 s.
wait_for "$RT" --root "$T/root" --run "$T/run" exec cli ping6 -c 1 -W 1 "$ll%eth0"
ok $? "and over IPv6 link-local (${ll:-none})"
is "$(rt exec cli timeout 5 wget -q -O- http://10.99.0.2:8000/)" "hello-from-outside" \
	"the outside through masquerading"

# Published ports.
is "$(timeout 5 wget -q -O- http://127.0.0.1:8080/)" "hello-from-web" "published port on loopback (proxy)"
is "$(in_out timeout 5 wget -q -O- http://10.99.0.1:8080/)" "hello-from-web" \
	"published port from outside (kernel DNAT)"
if [ -n "$UDP" ]; then
	is "$(udp_out 10.99.0.1 5353)" "udp:ping" "published UDP port from outside (kernel DNAT)"
	is "$(udp 127.0.0.1 5353)" "udp:ping" "published UDP port on loopback (proxy)"
	is "$(udp 127.0.0.1 5353)" "udp:ping" "again (a second client, a second session)"
	is "$(sessions 53)" 2 "the proxy holds one UDP session a client"
else
	for i in 1 2 3 4; do skip "no compiler or python3 for the UDP checks"; done
fi
like "$(rt ps)" "*0.0.0.0:8080->80/tcp, 0.0.0.0:5353->53/udp*web*" "ps shows PORTS"
is "$(rt port web | sort | tr '\n' ' ')" "53/udp -> 0.0.0.0:5353 80/tcp -> 0.0.0.0:8080 " "rt port"
is "$(rt port web 80)" "0.0.0.0:8080" "rt port web 80"
like "$(rt network inspect bridge)" "*\"web\"*172.29.0.2/24*" "network inspect lists web"

# A port already in use: a clear error, nothing left of the attempt.
before="$(links)"
err=$(rt run -d --name dup --network bridge -p 8080:80 $R sleep 1000 2>&1)
ok $((! $?)) "a port in use fails the start"
like "$err" "*8080*already allocated*" "with a clear error ($err)"
is "$(links)" "$before" "and no interface left of it"
like "$(leases bridge)" "*web*cli*" "nor a lease"
ok "$(leases bridge | grep -c '"dup"')" "no lease for dup"
# As Docker's: the container stays, whole and stopped, saying why; it can
# start once the port is free.
like "$(rt inspect dup)" '*"Status": "exited"*"ExitCode": 125,*"Error": "network bridge: bind 0.0.0.0:8080/tcp: port is already allocated*' \
	"dup is kept stopped, with the error"
is "$(ls "$T/run/containers" | wc -l)" 2 "and no runtime state (only web's and cli's)"
rt rm -f dup >/dev/null 2>&1

# Another network is isolated from bridge.
rt run -d --name other --network front $R sleep 1000 >/dev/null
is $? 0 "run other on front"
like "$(links)" "rt0 rt1 rtv*" "front's bridge rt1 came up"
rt exec other timeout 3 wget -q -O- http://172.29.0.2/ >/dev/null 2>&1
ok $((! $?)) "other cannot reach web on another network"
ok "$(rt exec other cat /etc/hosts | grep -c web)" "and does not know its name"
like "$(rt network rm front 2>&1)" "*front*active endpoints*" "network rm refuses a network in use"
is "$(rt exec other timeout 5 wget -q -O- http://10.99.0.2:8000/)" "hello-from-outside" \
	"but reaches the outside"

# Stopping leaves nothing.
rt stop -t 1 other >/dev/null
like "$(links)" "rt0 rtv* rtv* " "other's bridge and veth are gone"
rt rm other >/dev/null
is "$(rt network rm front)" "front" "network rm once nothing runs on it"
is "$(rt network ls -q | grep -c front)" 0 "and it is gone from network ls"
rt stop -t 1 web cli >/dev/null
is "$(links)" "" "no rt interface after the last stop"
is "$(rules)" 0 "no rules"
is "$(leases bridge)" '{"leases":[]}' "no leases"
is "$(listening 8080)$(listening 5353)" 00 "no socket on the published ports"
is "$(sessions 53)" 0 "no UDP session of the proxy"
is "$(addrs)" 0 "no address of the bridge subnet"

# 100 cycles with a published port.
i=0
while [ $i -lt 100 ]; do
	rt run --rm --network bridge -p 9000:80 -p 9001:53/udp $R true || break
	i=$((i + 1))
done
is $i 100 "100 run --rm with -p (TCP and UDP)"
is "$(links)$(rules)$(addrs)$(listening 9000)$(listening 9001)" "0000" \
	"and nothing left: no interface, rule, address or socket"

# -P: the ports the image EXPOSEs, on host ports the kernel picks.
. "$TOP/tests/integration/lib-sign.sh"
"$MKIMAGE" build -o "$T/webimg" --archive --layer "$T/rootfs" --tag webimg:1 --expose 80 \
	--cmd '["httpd", "-f", "-p", "80", "-h", "/www"]' >/dev/null && sign_image "$T/webimg" &&
	rt load -i "$T/webimg" >/dev/null
ok $? "an image that EXPOSEs 80"
rt run -d --name pall --network bridge -P webimg:1 >/dev/null
hp=$(rt port pall 80 | sed -n 's/^0\.0\.0\.0:\([0-9][0-9]*\)$/\1/p')
ok $((! ${hp:-0} > 0)) "-P published 80 on a host port (${hp:-none})"
is "$(timeout 5 wget -q -O- "http://127.0.0.1:${hp:-1}/")" "hello-from-web" "which answers"
rt rm -f pall >/dev/null

# kill -9 of rt with containers running; a restart cleans up.
rt start web cli >/dev/null
wait_for sh -c "[ \"\$(ip -o link show | grep -c rtv)\" = 2 ]"
pids=$(for c in web cli; do rt inspect $c | sed -n 's/.*"Pid": *\([0-9]*\).*/\1/p'; done)
kill -9 "$RT_DAEMON_PID"
wait "$RT_DAEMON_PID" 2>/dev/null
RT_DAEMON_PID=
like "$(links)" "rt0 rtv* rtv* " "after kill -9 the interfaces are still there"
rm -f "$T/run/rt.sock"
rt_daemon_start || ok 1 "daemon restarts"
wait_for sh -c "[ -z \"\$(ip -o link show | grep ': rt')\" ]"
is "$(links)" "" "the restart removed them"
is "$(rules)" 0 "and the rules"
is "$(leases bridge)" '{"leases":[]}' "and the leases"
for p in $pids; do kill -9 "$p" 2>/dev/null; done   # the old daemon's orphans
rt start web >/dev/null
is "$(timeout 5 wget -q -O- http://127.0.0.1:8080/)" "hello-from-web" "and web starts again"
rt stop -t 1 web >/dev/null

# Without kernel NAT (as on a kernel without nf_tables or iptables), the
# proxy carries published TCP ports from everywhere.
rt_daemon_stop
RT_NET_NAT=none rt_daemon_start || ok 1 "daemon without NAT"
rt start web >/dev/null
is "$(rules)" 0 "no rules without NAT"
is "$(in_out timeout 5 wget -q -O- http://10.99.0.1:8080/)" "hello-from-web" \
	"published port from outside through the proxy"
if [ -n "$UDP" ]; then
	is "$(udp_out 10.99.0.1 5353)" "udp:ping" "published UDP port from outside through the proxy"
else
	skip "no compiler or python3 for the UDP check"
fi
rt stop -t 1 web >/dev/null
is "$(listening 8080)$(listening 5353)$(sessions 53)" 000 "the proxy let go of its sockets"

rt_daemon_stop
ok $? "daemon exits 0"
is "$(links)$(rules)" "0" "nothing left after the daemon stops"
kill $OUT 2>/dev/null
done_testing
