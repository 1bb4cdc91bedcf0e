#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "tls.h"

/* Two self-signed certificates made with openssl: EC P-256 and RSA-2048. */
static const char ec_pem[] =
"-----BEGIN CERTIFICATE-----\n"
	"MIIBfjCCASWgAwIBAgIUHzx82T1p1pkjMDAhC+x1Lv/OeKkwCgYIKoZIzj0EAwIw\n"
	"FTETMBEGA1UEAwwKcnQtdW5pdC1lYzAeFw0yNjExMjMxNDQ2NTJaFw0zNjExMjAx\n"
	"NDQ2NTJaMBUxEzARBgNVBAMMCnJ0LXVuaXQtZWMwWTATBgcqhkjOPQIBBggqhkjO\n"
	"PQMBBwNCAAQW6EiJodcIu9VrNqTTQBHCkPDICTvDf9/feFQRZHpUGrWjSY4SWeGv\n"
	"mRPF8PqKTNF3UTEMQcV4VMMK45+y0i8ro1MwUTAdBgNVHQ4EFgQUgApv9DC1TUMz\n"
	"nBsPkMAF+tQbkMwwHwYDVR0jBBgwFoAUgApv9DC1TUMznBsPkMAF+tQbkMwwDwYD\n"
	"VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBAvuY6Zdp5O2Vi3DE1Nl9L\n"
	"y6fLkOglTvpZKy3G4Vy9pwIgbMDXEL9qMaSfXKdHlE7pCMtFsoZF77Itq71I7YAv\n"
	"BfQ=\n"
	"-----END CERTIFICATE-----\n";

static const char rsa_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDJzCCAg+gAwIBAgIUHn2j8vSi2bhulqvpI3eSNg4ka9IwDQYJKoZIhvcNAQEL\n"
	"BQAwIzELMAkGA1UECgwCcnQxFDASBgNVBAMMC3J0LXVuaXQtcnNhMB4XDTI2MTEy\n"
	"MzE0NDY1M1oXDTM2MTEyMDE0NDY1M1owIzELMAkGA1UECgwCcnQxFDASBgNVBAMM\n"
	"C3J0LXVuaXQtcnNhMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3BjK\n"
	"8db1rsYhpPdx2ylTVxdAYJ559Ie69L8roJMobX5dLOfpeui2evvRLKV+kGuXV+A9\n"
	"qYO7XnTP+3pCzyEfqZup8QcfRtXIBxoSQofGXXVGNGKtRIGmNbodQtTNkXgOhFt5\n"
	"nCfVIXUXlzHBLUIBUbDoyDsVAii8PfSds8AwEYsZ26LwhkquQUmKPoFw+ESioIv+\n"
	"IV+GhPBVwKoEmD7kKSXVk7LeHPx45LZDgv8FS6utUX7iTPUGUeV6llEiPqF2Rdm2\n"
	"JQcOJlcYuw2ep4XeSzh40RQm2GDY6yE1Sx8uTq+uw1c9UKKBLdkq4k/RGc+U7EwO\n"
	"jKBf7rl9JvYcj62DQQIDAQABo1MwUTAdBgNVHQ4EFgQUw/2nSeQC2iQYoGQRERRK\n"
	"TczHGF0wHwYDVR0jBBgwFoAUw/2nSeQC2iQYoGQRERRKTczHGF0wDwYDVR0TAQH/\n"
	"BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAh6tDoB1Aw1xPxIu7UoHJJ/oNPBT2\n"
	"GxLnXaG9f0oNYDgABc9WyCxbEG78ToHkc0Bw5jXMiUZ0Sp1fyRuzBiHeBWBJlAOu\n"
	"aMCj0zPBodmj71KPKedyAYq/ufYKMa+Q8Qyicyxpzd/pRXECekm8qCrkzFzfAj71\n"
	"lqMidM9PocS+5bslpXL4DBOnnSadiNy05w4P+QjuHUe1AhZbM8ZZFumuSyXPLb6o\n"
	"+0fS5tgXkGdLzTscsM4wjDBR4bGdiAvfGomkYJNe0eQiyPVFIpekIbAXWmOPVysk\n"
	"31SeXBiebvYfLHTvd5bRgJVoApnb2eHVF8G1dl5lSld/dk11AcYAKiKpTg==\n"
	"-----END CERTIFICATE-----\n";

static br_x509_trust_anchor ta[8];
static uint8_t arena[8192];

static void test_anchors(void)
{
	struct rt_tls_anchors a;
	struct rt_err e;
	char bundle[8192];
	int n;

	rt_tls_anchors_init(&a, ta, 8, arena, sizeof arena);
	snprintf(bundle, sizeof bundle, "junk before\n%s-----BEGIN PRIVATE KEY-----\nAAAA\n"
		 "-----END PRIVATE KEY-----\n%s", ec_pem, rsa_pem);
	n = rt_tls_anchors_add_pem(&a, bundle, strlen(bundle), &e);
	is_int(n, 2, "two certificates from a bundle, other PEM objects skipped");
	is_int(a.n, 2, "two anchors");
	is_int(ta[0].pkey.key_type, BR_KEYTYPE_EC, "first is EC");
	is_int(ta[0].pkey.key.ec.curve, BR_EC_secp256r1, "on P-256");
	is_int(ta[0].pkey.key.ec.qlen, 65, "uncompressed point");
	is_int(ta[1].pkey.key_type, BR_KEYTYPE_RSA, "second is RSA");
	is_int(ta[1].pkey.key.rsa.nlen, 256, "2048-bit modulus");
	ok(ta[0].dn.len > 10 && ta[0].dn.data >= arena && ta[0].dn.data < arena + sizeof arena,
	   "DN kept in the arena");
	ok(ta[0].flags & BR_X509_TA_CA, "self-signed openssl certificates are CAs");

	/* a table that is full */
	rt_tls_anchors_init(&a, ta, 1, arena, sizeof arena);
	ok(rt_tls_anchors_add_pem(&a, bundle, strlen(bundle), &e) < 0, "more certificates than slots refused");
	is_int(a.n, 0, "nothing kept after a refused bundle");
	/* an arena that is too small */
	rt_tls_anchors_init(&a, ta, 8, arena, 100);
	ok(rt_tls_anchors_add_pem(&a, rsa_pem, strlen(rsa_pem), &e) < 0, "arena too small refused");
	is_int(a.used, 0, "arena rewound");
	/* damaged certificates */
	rt_tls_anchors_init(&a, ta, 8, arena, sizeof arena);
	{
		char bad[2048];
		char *p;

		snprintf(bad, sizeof bad, "%s", ec_pem);
		p = strstr(bad, "\n") + 10;
		*p = *p == 'A' ? 'B' : 'A';
		ok(rt_tls_anchors_add_pem(&a, bad, strlen(bad), &e) < 0, "corrupt DER refused");
		snprintf(bad, sizeof bad, "%.*s", (int)(strlen(ec_pem) - 30), ec_pem);
		ok(rt_tls_anchors_add_pem(&a, bad, strlen(bad), &e) < 0, "truncated PEM refused");
		snprintf(bad, sizeof bad, "%s", ec_pem);
		p = strstr(bad, "\n") + 5;
		*p = '*';
		ok(rt_tls_anchors_add_pem(&a, bad, strlen(bad), &e) < 0, "bad base64 refused");
	}
	is_int(rt_tls_anchors_add_pem(&a, "no pem here\n", 12, &e), 0, "text without PEM: none added");
	ok(rt_tls_anchors_load(&a, "/nonexistent/bundle.pem", &e) < 0, "missing file is an error");
}

static void test_time(void)
{
	int64_t floor = rt_tls_build_floor();
	time_t now = time(NULL);

	ok(floor > 1700000000 && floor <= (int64_t)now + 86400, "build floor is a plausible date");
	ok(floor % 86400 == 0, "build floor is midnight UTC");
	is_int(rt_tls_ref_time(2000000000, 1800000000, 1900000000), 2000000000,
	       "a clock after the floor is trusted");
	is_int(rt_tls_ref_time(100, 1800000000, 1700000000), 1800000000,
	       "no clock: certificates are checked at the build date");
	is_int(rt_tls_ref_time(100, 1800000000, 1850000000), 1850000000,
	       "no clock: a certificate issued after the build is not held to notBefore");
	is_int(rt_tls_ref_time(1800000000, 1800000000, 1900000000), 1800000000,
	       "the floor itself counts as a clock");
}

int main(void)
{
	test_anchors();
	test_time();
	return done_testing();
}
