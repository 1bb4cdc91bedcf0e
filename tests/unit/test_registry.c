#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "registry.h"
#include "tap.h"

static struct rt_registry_conf C;

static int conf(const char *text)
{
	struct rt_err e;

	return rt_registry_conf_parse(&C, text, strlen(text), &e);
}

static void test_conf(void)
{
	ok(conf("") == 0 && C.n == 0 && !strcmp(C.bundle, RT_REGISTRY_BUNDLE), "empty config: defaults");
	ok(conf("# comment\n\n  insecure 192.168.1.10:5000  # lab\n"
		"ca registry.example /etc/rt/certs/r.pem\nbundle /etc/ssl/my.pem\n") == 0,
	   "config parses");
	is_int(C.n, 2, "two registries");
	is_str(C.r[0].host, "192.168.1.10", "insecure host");
	is_int(C.r[0].port, 5000, "insecure port");
	ok(C.r[0].insecure && !C.r[0].ca[0], "insecure flag only");
	is_str(C.r[1].host, "registry.example", "ca host");
	is_int(C.r[1].port, 0, "no port: default");
	ok(!C.r[1].insecure, "ca does not make a registry insecure");
	is_str(C.r[1].ca, "/etc/rt/certs/r.pem", "ca file");
	is_str(C.bundle, "/etc/ssl/my.pem", "bundle");
	ok(conf("insecure h:1\nca h:1 /x.pem\n") == 0 && C.n == 1 && C.r[0].insecure &&
	   !strcmp(C.r[0].ca, "/x.pem"), "directives for one registry merge");
	ok(conf("Insecure h\n") < 0, "unknown directive refused");
	ok(conf("insecure\n") < 0, "missing argument refused");
	ok(conf("insecure a b\n") < 0, "extra argument refused");
	ok(conf("ca h relative.pem\n") < 0, "relative CA path refused");
	ok(conf("bundle relative.pem\n") < 0, "relative bundle refused");
	ok(conf("insecure h/x\n") < 0, "path in a host refused");
	ok(conf("insecure h:99999\n") < 0, "bad port refused");
	ok(conf("insecure user@h\n") < 0, "userinfo refused");
	ok(rt_registry_conf_parse(&C, "insecure a\0b\n", 12, &(struct rt_err){ 0 }) < 0,
	   "NUL byte refused");
	{
		char big[4096];
		size_t i;

		big[0] = 0;
		for (i = 0; i <= RT_REGISTRY_CONF_MAX; i++)
			snprintf(big + strlen(big), sizeof big - strlen(big), "insecure h%zu\n", i);
		ok(conf(big) < 0, "more than %d registries refused", RT_REGISTRY_CONF_MAX);
	}
	{
		char line[1024];

		memset(line, 'a', sizeof line - 1);
		line[sizeof line - 1] = 0;
		ok(conf(line) < 0, "overlong line refused");
	}
}

static void test_endpoint(void)
{
	char host[RT_HTTP_HOST_MAX + 1], repo[256];
	uint16_t port;
	bool given;
	struct rt_err e;

	ok(rt_registry_endpoint("docker.io/library/busybox", host, &port, &given, repo,
				sizeof repo, &e) == 0, "docker.io name");
	is_str(host, CONFIG_DEFAULT_REGISTRY, "docker.io goes to the default registry");
	is_str(repo, "library/busybox", "repository path");
	ok(rt_registry_endpoint("127.0.0.1:5000/a/b", host, &port, &given, repo, sizeof repo, &e) == 0 &&
	   !strcmp(host, "127.0.0.1") && port == 5000 && given && !strcmp(repo, "a/b"),
	   "host:port domain");
	ok(rt_registry_endpoint("ghcr.io/o/r", host, &port, &given, repo, sizeof repo, &e) == 0 &&
	   !given && !strcmp(host, "ghcr.io"), "domain without a port");
	ok(rt_registry_endpoint("busybox", host, &port, &given, repo, sizeof repo, &e) < 0,
	   "a name without a domain is not normalized here");
	ok(rt_registry_endpoint("h/", host, &port, &given, repo, sizeof repo, &e) < 0,
	   "empty repository refused");
	ok(rt_registry_endpoint("h/abc", host, &port, &given, repo, 3, &e) < 0,
	   "repository too long for the buffer refused");
}

static void test_auth(void)
{
	char out[512];
	struct rt_err e;
	const char *j;

	j = "{\"auths\":{\"reg.example:5000\":{\"auth\":\"dTpw\"},"
	    "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnNlY3JldA==\"}}}";
	is_int(rt_registry_auth_find(j, strlen(j), "reg.example:5000", out, sizeof out, &e), 1,
	       "auth found");
	is_str(out, "Basic dTpw", "Basic header value");
	is_int(rt_registry_auth_find(j, strlen(j), "registry-1.docker.io", out, sizeof out, &e), 1,
	       "Docker Hub under its index URL");
	is_str(out, "Basic aHViOnNlY3JldA==", "hub credentials");
	is_int(rt_registry_auth_find(j, strlen(j), "other.example", out, sizeof out, &e), 0,
	       "no credentials for another registry");
	is_int(rt_registry_auth_find(j, strlen(j), "reg.example", out, sizeof out, &e), 0,
	       "port is part of the key");
	j = "{\"auths\":{\"r\":{\"username\":\"u\",\"password\":\"p\"}}}";
	ok(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e) < 0,
	   "username and password without auth refused (unsupported)");
	j = "{\"auths\":{\"r\":{\"auth\":\"***\"}}}";
	ok(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e) < 0, "bad base64 refused");
	j = "{\"auths\":{\"r\":{\"auth\":\"dTp\"}}}";
	ok(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e) < 0, "unpadded base64 refused");
	j = "{\"auths\":{\"r\":{\"auth\":\"d=pw\"}}}";
	ok(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e) < 0, "'=' inside refused");
	j = "{\"auths\":{\"r\":{\"auth\":\"dTpwcQ==\"}}}";
	is_int(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e), 1, "padded base64");
	j = "{\"auths\":{\"r\":{\"auth\":\"dTp\\r\\nX\"}}}";
	ok(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e) < 0, "CR LF in auth refused");
	j = "{\"auths\":{\"r\":{}}}";
	ok(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e) < 0, "empty entry refused");
	j = "{\"auths\":{\"r\":{\"auth\":\"dTpw\"},\"r\":{\"auth\":\"dTpw\"}}}";
	ok(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e) < 0,
	   "duplicate keys refused");
	j = "{\"auths\":";
	ok(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e) < 0, "truncated JSON refused");
	j = "{}";
	is_int(rt_registry_auth_find(j, strlen(j), "r", out, sizeof out, &e), 0, "no auths at all");
}

static void test_helpers(void)
{
	char out[64];

	ok(rt_registry_qs(out, sizeof out, "repository:a/b:pull") == 0, "query encoding");
	is_str(out, "repository%3Aa%2Fb%3Apull", "reserved characters encoded");
	ok(rt_registry_qs(out, sizeof out, "a&b=c d") == 0 && !strcmp(out, "a%26b%3Dc%20d"),
	   "& = and space encoded");
	ok(rt_registry_qs(out, 4, "abcd") < 0, "too long refused");
	ok(rt_registry_realm_ok("registry-1.docker.io", "auth.docker.io"), "same site");
	ok(rt_registry_realm_ok("ghcr.io", "ghcr.io"), "same host");
	ok(!rt_registry_realm_ok("registry.example", "evil.example.net"), "other site");
	ok(!rt_registry_realm_ok("127.0.0.1", "localhost"), "an address and a name differ");
	ok(!rt_registry_realm_ok("10.0.0.1", "10.0.0.2"), "addresses are whole");
	ok(!rt_registry_realm_ok("a.example", "example"), "a bare suffix is not the site");
}

int main(void)
{
	test_conf();
	test_endpoint();
	test_auth();
	test_helpers();
	return done_testing();
}
