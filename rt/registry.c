#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "kconfig.h"
#include "registry.h"
#include "sha256.h"
#if IS_ENABLED(CONFIG_TLS)
#include "tls.h"
#endif

#define TOKEN_BODY_MAX 65536
#define CONF_FILE_MAX 65536
#define AUTH_FILE_MAX 262144
#define BASIC_MAX 1024
#define REQUEST_RETRIES 3       /* 5xx and failures before any response */

struct doc {
	char digest[RT_SHA256_STR];
	char *buf;
	size_t len;
};

struct rt_registry {
	struct rt_http_client http;
	struct rt_registry_conf conf;
	struct rt_registry_progress prog;
	char host[RT_HTTP_HOST_MAX + 1];
	uint16_t port;
	bool port_given, insecure;
	char domain[RT_HTTP_HOST_MAX + 8];      /* as in the image name */
	char repo[RT_IMAGE_NAME_MAX];
	char base[RT_HTTP_HOST_MAX + RT_IMAGE_NAME_MAX + 32];
	int conf_i;                             /* this registry's entry, or -1 */

	char basic[BASIC_MAX];                  /* "Basic ..." or "" */
	bool use_basic;
	char authz[RT_REGISTRY_TOKEN_MAX + 8];  /* "Bearer ..." or "" */
	int64_t token_exp;                      /* monotonic ms */

#if IS_ENABLED(CONFIG_TLS)
	struct rt_tls_anchors all, pub;         /* all: own CA + bundle */
	br_x509_trust_anchor *ta;
	uint8_t *arena;
#endif

	/* manifests: resolved, found by tag, fetched by digest */
	struct doc docs[3];
	/* layers of the last image manifest read: what progress shows */
	char layers[RT_IMAGE_MAX_LAYERS][RT_SHA256_STR];
	int nlayers;
	char config[RT_SHA256_STR];
	struct rt_store *store;

	/* the blob being read */
	char cur[RT_SHA256_STR];
	uint64_t size, done;
	bool open, manifest, from_mem, progress, content;
	const struct doc *mem;
	int fd;                                 /* >= 0: from the store */
	const uint8_t *pend;
	size_t npend;
	unsigned attempts;
	uint64_t blob_bytes;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void backoff(unsigned attempt)
{
	struct timespec ts;
	unsigned ms = 250u << (attempt < 5 ? attempt : 5);

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- configuration ---- */

static int hostport_parse(const char *s, char host[RT_HTTP_HOST_MAX + 1], uint16_t *port,
			  struct rt_err *e)
{
	struct rt_http_url u;
	char tmp[RT_HTTP_HOST_MAX + 24];
	int n = snprintf(tmp, sizeof tmp, "https://%s/", s);

	if (n < 0 || (size_t)n >= sizeof tmp || strchr(s, '/'))
		return rt_err_set(e, EINVAL, "bad registry %s", s);
	if (rt_http_url_parse(&u, tmp, e) < 0)
		return rt_err_wrap(e, "registry %s", s);
	strcpy(host, u.host);
	*port = strrchr(s, ':') && s[strlen(s) - 1] != ']' ? u.port : 0;
	return 0;
}

int rt_registry_conf_parse(struct rt_registry_conf *c, const char *text, size_t len,
			   struct rt_err *e)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0;

	memset(c, 0, sizeof *c);
	strcpy(c->bundle, RT_REGISTRY_BUNDLE);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[640], *w[4] = { NULL, NULL, NULL, NULL }, *s, *save = NULL;
		int nw = 0;

		lineno++;
		if (ll >= sizeof line)
			return rt_err_set(e, EINVAL, "line %u: too long", lineno);
		if (memchr(p, 0, ll))
			return rt_err_set(e, EINVAL, "line %u: NUL byte", lineno);
		memcpy(line, p, ll);
		line[ll] = 0;
		p += ll + (nl != NULL);
		if ((s = strchr(line, '#')))
			*s = 0;
		for (s = strtok_r(line, " \t\r", &save); s; s = strtok_r(NULL, " \t\r", &save)) {
			if (nw == 4)
				return rt_err_set(e, EINVAL, "line %u: too many words", lineno);
			w[nw++] = s;
		}
		if (nw == 0)
			continue;
		if (!strcmp(w[0], "bundle") && nw == 2) {
			if (strlen(w[1]) >= sizeof c->bundle || w[1][0] != '/')
				return rt_err_set(e, EINVAL, "line %u: bundle needs an absolute path", lineno);
			strcpy(c->bundle, w[1]);
			continue;
		}
		if ((!strcmp(w[0], "insecure") && nw == 2) || (!strcmp(w[0], "ca") && nw == 3)) {
			char host[RT_HTTP_HOST_MAX + 1] = "";
			uint16_t port = 0;
			size_t i;

			if (hostport_parse(w[1], host, &port, e) < 0)
				return rt_err_wrap(e, "line %u", lineno);
			for (i = 0; i < c->n; i++)
				if (!strcmp(c->r[i].host, host) && c->r[i].port == port)
					break;
			if (i == c->n) {
				if (c->n == RT_REGISTRY_CONF_MAX)
					return rt_err_set(e, ENOBUFS, "line %u: more than %d registries",
							  lineno, RT_REGISTRY_CONF_MAX);
				memset(&c->r[i], 0, sizeof c->r[i]);
				strcpy(c->r[i].host, host);
				c->r[i].port = port;
				c->n++;
			}
			if (nw == 2) {
				c->r[i].insecure = true;
			} else {
				if (strlen(w[2]) >= sizeof c->r[i].ca || w[2][0] != '/')
					return rt_err_set(e, EINVAL, "line %u: ca needs an absolute path",
							  lineno);
				strcpy(c->r[i].ca, w[2]);
			}
			continue;
		}
		return rt_err_set(e, EINVAL, "line %u: unknown directive '%s' or wrong arguments",
				  lineno, w[0]);
	}
	return 0;
}

static const char *conf_dir(const char *dir)
{
	const char *env = getenv(RT_REGISTRY_CONF_ENV);

	if (dir)
		return dir;
	return env && *env ? env : RT_REGISTRY_CONF_DIR;
}

/* Read dir/name into a fresh buffer (at most max bytes); NULL with
 * *missing when it does not exist. */
static char *slurp(const char *dir, const char *name, size_t max, size_t *len,
		   bool *missing, struct rt_err *e)
{
	char path[RT_REGISTRY_PATH_MAX + 32];
	FILE *f;
	char *buf;
	size_t n;

	*missing = false;
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
		rt_err_set(e, ENAMETOOLONG, "%s/%s", dir, name);
		return NULL;
	}
	f = fopen(path, "re");
	if (!f) {
		*missing = errno == ENOENT;
		rt_err_sys(e, "%s", path);
		return NULL;
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		rt_err_sys(e, "%s", path);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		rt_err_set(e, ferror(f) ? EIO : EFBIG, "%s: %s", path,
			   ferror(f) ? "read error" : "too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

int rt_registry_conf_load(struct rt_registry_conf *c, const char *dir, struct rt_err *e)
{
	bool missing;
	size_t len;
	char *text;
	int r;

	dir = conf_dir(dir);
	text = slurp(dir, "registries.conf", CONF_FILE_MAX, &len, &missing, e);
	if (!text) {
		if (!missing)
			return -1;
		return rt_registry_conf_parse(c, "", 0, e);
	}
	r = rt_registry_conf_parse(c, text, len, e);
	free(text);
	if (r < 0)
		return rt_err_wrap(e, "%s/registries.conf", dir);
	return 0;
}

/* ---- names ---- */

int rt_registry_endpoint(const char *name, char host[RT_HTTP_HOST_MAX + 1], uint16_t *port,
			 bool *port_given, char *repo, size_t cap, struct rt_err *e)
{
	const char *slash = strchr(name, '/');
	char domain[RT_HTTP_HOST_MAX + 8];
	size_t dl;

	if (!slash || slash == name)
		return rt_err_set(e, EINVAL, "%s: no registry domain", name);
	dl = (size_t)(slash - name);
	if (dl >= sizeof domain)
		return rt_err_set(e, EINVAL, "%s: registry name too long", name);
	memcpy(domain, name, dl);
	domain[dl] = 0;
	if (strlen(slash + 1) >= cap || !slash[1])
		return rt_err_set(e, EINVAL, "%s: bad repository", name);
	strcpy(repo, slash + 1);
	if (!strcmp(domain, "docker.io") || !strcmp(domain, "index.docker.io"))
		snprintf(domain, sizeof domain, "%s", CONFIG_DEFAULT_REGISTRY);
	if (hostport_parse(domain, host, port, e) < 0)
		return -1;
	*port_given = *port != 0;
	return 0;
}

static int conf_find(const struct rt_registry_conf *c, const char *host, uint16_t port,
		     bool port_given)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->r[i].host, host) &&
		    (c->r[i].port ? port_given && c->r[i].port == port : !port_given))
			return (int)i;
	return -1;
}

/* ---- auth ---- */

int rt_registry_qs(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';

		if (n + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (n >= cap)
		return -1;
	out[n] = 0;
	return 0;
}

/* The registrable part of a host: its last two labels (an address whole). */
static const char *site(const char *host)
{
	const char *last = strrchr(host, '.'), *p;

	if (!last || strchr(host, ':') || strspn(host, "0123456789.") == strlen(host))
		return host;
	for (p = last - 1; p > host && *p != '.'; p--)
		;
	return p > host ? p + 1 : host;
}

bool rt_registry_realm_ok(const char *registry, const char *realm)
{
	return !strcmp(registry, realm) || !strcmp(site(registry), site(realm));
}

/* Match an auths key: "host[:port]", or a URL naming it. */
static bool auth_key_matches(const char *key, const char *hostport)
{
	char k[RT_HTTP_HOST_MAX + 16];
	const char *s = key;
	size_t n;

	if (!strncmp(s, "https://", 8))
		s += 8;
	else if (!strncmp(s, "http://", 7))
		s += 7;
	n = strcspn(s, "/");
	if (n >= sizeof k)
		return false;
	memcpy(k, s, n);
	k[n] = 0;
	if (!strcasecmp(k, hostport))
		return true;
	/* Docker Hub is known by several names. */
	if (!strcmp(hostport, "registry-1.docker.io"))
		return !strcasecmp(k, "index.docker.io") || !strcasecmp(k, "docker.io");
	return false;
}

/* Padded standard base64, as it goes into a Basic header unchanged. */
static bool b64_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n % 4)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=' && i >= n - 2 && (i == n - 1 || s[n - 1] == '='))
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return true;
}

int rt_registry_auth_find(const char *json, size_t len, const char *hostport, char *out,
			  size_t cap, struct rt_err *e)
{
	struct rt_json j;
	struct rt_json_tok *tok;
	size_t maxtok = len / 2 + 8;
	int auths, k, r = 0;

	if (maxtok > 65536)
		maxtok = 65536;
	tok = calloc(maxtok, sizeof *tok);
	if (!tok)
		return rt_err_sys(e, "auth");
	if (rt_json_parse(&j, json, len, tok, maxtok, 16, e) < 0) {
		r = -1;
		goto out;
	}
	auths = rt_json_find(&j, 0, "auths");
	for (k = rt_json_first(&j, auths); k >= 0; k = rt_json_next(&j, auths, k)) {
		char key[RT_HTTP_HOST_MAX + 64], b64[BASIC_MAX];
		int bl;

		if (rt_json_str(&j, k, key, sizeof key, e) < 0 || !auth_key_matches(key, hostport))
			continue;
		bl = rt_json_str(&j, rt_json_find(&j, k + 1, "auth"), b64, sizeof b64, e);
		if (bl < 0) {
			r = rt_err_set(e, EINVAL, "auths.%s: no \"auth\" string (base64 of user:password)",
				       key);
			goto out;
		}
		if (!b64_ok(b64, (size_t)bl)) {
			r = rt_err_set(e, EINVAL, "auths.%s.auth: not base64", key);
			goto out;
		}
		if ((size_t)snprintf(out, cap, "Basic %s", b64) >= cap) {
			r = rt_err_set(e, ENOBUFS, "auths.%s: too long", key);
			goto out;
		}
		r = 1;
		goto out;
	}
out:
	free(tok);
	return r;
}

/* The bearer dance: GET realm?service=&scope= for a token. */
static int fetch_token(struct rt_registry *r, const struct rt_http_challenge *c, struct rt_err *e)
{
	const char *realm = rt_http_challenge_param(c, "realm");
	const char *service = rt_http_challenge_param(c, "service");
	const char *scope = rt_http_challenge_param(c, "scope");
	char url[RT_HTTP_PATH_MAX + RT_HTTP_HOST_MAX], qs[1024], defscope[RT_IMAGE_NAME_MAX + 32];
	struct rt_http_url ru;
	struct rt_http_req req = { .method = "GET", .url = url };
	struct rt_json_tok tok[64];
	struct rt_json j;
	char *body;
	size_t len = 0;
	int64_t expires = 60;
	int status, t, n;

	if (!realm)
		return rt_err_set(e, EPROTO, "Bearer challenge without a realm");
	if (rt_http_url_parse(&ru, realm, e) < 0)
		return rt_err_wrap(e, "token realm");
	snprintf(defscope, sizeof defscope, "repository:%s:pull", r->repo);
	n = snprintf(url, sizeof url, "%s%c", realm, strchr(realm, '?') ? '&' : '?');
	if (service) {
		if (rt_registry_qs(qs, sizeof qs, service) < 0)
			return rt_err_set(e, EPROTO, "token service too long");
		n += snprintf(url + n, sizeof url - (size_t)n, "service=%s&", qs);
	}
	if (rt_registry_qs(qs, sizeof qs, scope ? scope : defscope) < 0)
		return rt_err_set(e, EPROTO, "token scope too long");
	n += snprintf(url + n, sizeof url - (size_t)n, "scope=%s", qs);
	if (n < 0 || (size_t)n >= sizeof url)
		return rt_err_set(e, ENAMETOOLONG, "token URL too long");
	/* Credentials only to the registry's own site, over HTTPS (or plain
	 * HTTP where the owner accepted it for that host). */
	if (r->basic[0] && (ru.https || r->http.insecure(r, ru.host, ru.port)) &&
	    rt_registry_realm_ok(r->host, ru.host))
		req.authorization = r->basic;
	status = rt_http_request(&r->http, &req, e);
	if (status < 0)
		return rt_err_wrap(e, "token");
	if (status != 200) {
		rt_http_end(&r->http, 65536);
		if (status == 401 || status == 403)
			return rt_err_set(e, EACCES, "token server %s refused: status %d%s", ru.host,
					  status, req.authorization ? "" : " (anonymous)");
		return rt_err_set(e, EPROTO, "token server %s: status %d", ru.host, status);
	}
	body = malloc(TOKEN_BODY_MAX);
	if (!body)
		return rt_err_sys(e, "token");
	for (;;) {
		const uint8_t *d;
		ssize_t got = rt_http_read(&r->http, &d, e);

		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		if ((size_t)got > TOKEN_BODY_MAX - len) {
			rt_err_set(e, EFBIG, "token response over %d bytes", TOKEN_BODY_MAX);
			goto fail;
		}
		memcpy(body + len, d, (size_t)got);
		len += (size_t)got;
	}
	rt_http_end(&r->http, 0);
	if (rt_json_parse(&j, body, len, tok, sizeof tok / sizeof tok[0], 8, e) < 0)
		goto fail;
	t = rt_json_find(&j, 0, "token");
	if (t < 0)
		t = rt_json_find(&j, 0, "access_token");
	memcpy(r->authz, "Bearer ", 7);
	if (rt_json_str(&j, t, r->authz + 7, sizeof r->authz - 7, e) < 0 || !r->authz[7]) {
		r->authz[0] = 0;
		rt_err_set(e, EPROTO, "token response has no usable token");
		goto fail;
	}
	if (rt_json_find(&j, 0, "expires_in") >= 0 &&
	    rt_json_i64(&j, rt_json_find(&j, 0, "expires_in"), &expires, e) < 0)
		expires = 60;
	if (expires < 60)
		expires = 60;   /* the spec's minimum */
	if (expires > 86400)
		expires = 86400;
	r->token_exp = mono_ms() + (expires - 5) * 1000;
	free(body);
	return 0;
fail:
	free(body);
	rt_http_end(&r->http, 0);
	return rt_err_wrap(e, "token from %s", ru.host);
}

static const char *authorization(struct rt_registry *r)
{
	if (r->authz[0] && mono_ms() < r->token_exp)
		return r->authz;
	r->authz[0] = 0;
	return r->use_basic ? r->basic : NULL;
}

static int authenticate(struct rt_registry *r, struct rt_err *e)
{
	const char *h = rt_http_header(&r->http.p, "www-authenticate", 0);
	struct rt_http_challenge c;
	char buf[2048];

	if (!h)
		return rt_err_set(e, EACCES, "unauthorized, and no challenge");
	if (rt_http_challenge_parse(&c, h, buf, sizeof buf, e) < 0)
		return -1;
	rt_http_end(&r->http, 65536);
	if (!strcasecmp(c.scheme, "Bearer"))
		return fetch_token(r, &c, e);
	if (!strcasecmp(c.scheme, "Basic")) {
		if (!r->basic[0])
			return rt_err_set(e, EACCES, "%s wants credentials (none in auth.json)",
					  r->domain);
		r->use_basic = true;
		return 0;
	}
	return rt_err_set(e, EACCES, "unsupported authentication scheme %s", c.scheme);
}

/* ---- requests ---- */

static bool transient(int errnum)
{
	return errnum == ECONNRESET || errnum == ETIMEDOUT || errnum == EPIPE ||
	       errnum == ECONNABORTED || errnum == EAGAIN;
}

/* GET (or HEAD) base/kind/ref with auth and retries; returns the status
 * with the body ready to read. */
static int request(struct rt_registry *r, const char *method, const char *kind,
		   const char *ref, uint64_t from, const char *inm, struct rt_err *e)
{
	char url[sizeof r->base + 160];
	struct rt_http_req req = { .method = method, .url = url, .range_from = from,
				   .if_none_match = inm };
	bool authed = false;
	unsigned attempt;

	if (snprintf(url, sizeof url, "%s/%s/%s", r->base, kind, ref) >= (int)sizeof url)
		return rt_err_set(e, ENAMETOOLONG, "URL too long");
	if (!strcmp(kind, "manifests"))
		req.accept = RT_REGISTRY_ACCEPT;
	for (attempt = 0;; attempt++) {
		int status;

		req.authorization = authorization(r);
		status = rt_http_request(&r->http, &req, e);
		if (status < 0) {
			if (transient(e->errnum) && attempt < REQUEST_RETRIES) {
				backoff(attempt);
				continue;
			}
			return -1;
		}
		if (status == 401 && !authed) {
			authed = true;
			if (authenticate(r, e) < 0)
				return -1;
			continue;
		}
		if (status >= 500 && attempt < REQUEST_RETRIES) {
			rt_http_end(&r->http, 65536);
			backoff(attempt);
			continue;
		}
		return status;
	}
}

static int get(struct rt_registry *r, const char *kind, const char *ref, uint64_t from,
	       struct rt_err *e)
{
	return request(r, "GET", kind, ref, from, NULL, e);
}

static int status_error(struct rt_registry *r, int status, const char *what, struct rt_err *e)
{
	rt_http_end(&r->http, 65536);
	if (status == 404)
		return rt_err_set(e, 0, "%s not found", what);
	if (status == 401 || status == 403)
		return rt_err_set(e, 0, "%s: access denied (status %d)", what, status);
	if (status == 429)
		return rt_err_set(e, 0, "%s: too many requests (status 429)", what);
	return rt_err_set(e, 0, "%s: registry answered status %d", what, status);
}

/* Read a whole manifest body (at most RT_IMAGE_JSON_MAX) into d. */
static int read_doc(struct rt_registry *r, struct doc *d, struct rt_err *e)
{
	struct rt_sha256 h;
	uint8_t dig[RT_SHA256_LEN];
	size_t cap = r->http.p.has_length ? (size_t)r->http.p.length : 16384;

	if (r->http.p.has_length && r->http.p.length > RT_IMAGE_JSON_MAX) {
		rt_http_end(&r->http, 0);
		return rt_err_set(e, 0, "%llu bytes, more than the %u allowed",
				  (unsigned long long)r->http.p.length, RT_IMAGE_JSON_MAX);
	}
	free(d->buf);
	d->len = 0;
	d->buf = malloc(cap + 1);
	if (!d->buf)
		return rt_err_sys(e, "manifest");
	rt_sha256_init(&h);
	for (;;) {
		const uint8_t *p;
		ssize_t n = rt_http_read(&r->http, &p, e);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if ((size_t)n > RT_IMAGE_JSON_MAX - d->len) {
			rt_http_end(&r->http, 0);
			return rt_err_set(e, 0, "more than the %u bytes allowed", RT_IMAGE_JSON_MAX);
		}
		if (d->len + (size_t)n > cap) {
			char *nb;

			cap = cap * 2 > RT_IMAGE_JSON_MAX ? RT_IMAGE_JSON_MAX : cap * 2;
			if (cap < d->len + (size_t)n)
				cap = d->len + (size_t)n;
			nb = realloc(d->buf, cap + 1);
			if (!nb)
				return rt_err_sys(e, "manifest");
			d->buf = nb;
		}
		memcpy(d->buf + d->len, p, (size_t)n);
		rt_sha256_update(&h, p, (size_t)n);
		d->len += (size_t)n;
	}
	rt_http_end(&r->http, 0);
	d->buf[d->len] = 0;
	rt_sha256_final(&h, dig);
	rt_sha256_format(dig, d->digest);
	return 0;
}

static bool tag_ok(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > RT_IMAGE_TAG_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (i > 0 && (c == '.' || c == '-'))))
			return false;
	}
	return true;
}

static int check_digest(const char *s, struct rt_err *e)
{
	uint8_t d[RT_SHA256_LEN];

	if (rt_sha256_parse(s, strlen(s), d, e) < 0)
		return rt_err_set(e, EINVAL, "bad digest '%.80s'", s);
	return 0;
}

static const char *known_type(const char *ct)
{
	static const char *const types[] = {
		"application/vnd.oci.image.manifest.v1+json",
		"application/vnd.oci.image.index.v1+json",
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
	};
	size_t i, n;

	if (!ct)
		return "";
	n = strcspn(ct, "; \t");
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i]) == n && !strncasecmp(ct, types[i], n))
			return types[i];
	return "";
}

/* The layers of an image manifest, so progress shows those and not the
 * config or signature payloads. Anything else leaves the list alone. */
static void note_layers(struct rt_registry *r, const struct doc *d)
{
	struct rt_json_tok *tok;
	struct rt_json j;
	struct rt_err ig;
	size_t max = d->len / 4 + 16;
	int arr, k, n = 0;

	tok = calloc(max, sizeof *tok);
	if (!tok)
		return;
	if (rt_json_parse(&j, d->buf, d->len, tok, max, 16, &ig) >= 0 &&
	    (arr = rt_json_find(&j, 0, "layers")) >= 0 &&
	    rt_json_str(&j, rt_json_find(&j, rt_json_find(&j, 0, "config"), "digest"), r->config,
			sizeof r->config, &ig) >= 0) {
		for (k = rt_json_first(&j, arr); k >= 0 && n < RT_IMAGE_MAX_LAYERS;
		     k = rt_json_next(&j, arr, k))
			if (rt_json_str(&j, rt_json_find(&j, k, "digest"), r->layers[n],
					sizeof r->layers[n], &ig) >= 0)
				n++;
		r->nlayers = n;
	}
	free(tok);
}

static bool is_layer(const struct rt_registry *r, const char *digest)
{
	int i;

	for (i = 0; i < r->nlayers; i++)
		if (!strcmp(r->layers[i], digest))
			return true;
	return false;
}

int rt_registry_resolve(struct rt_registry *r, const char *ref, struct rt_image_want *w,
			struct rt_err *e)
{
	bool pinned = !strncmp(ref, "sha256:", 7);
	struct doc *d = &r->docs[0];
	int status;

	if (pinned ? check_digest(ref, e) < 0 : !tag_ok(ref))
		return pinned ? -1 : rt_err_set(e, EINVAL, "bad tag '%.80s'", ref);
	status = get(r, "manifests", ref, 0, e);
	if (status < 0)
		return -1;
	if (status != 200)
		return status_error(r, status, "manifest", e);
	memset(w, 0, sizeof *w);
	snprintf(w->mediatype, sizeof w->mediatype, "%s",
		 known_type(rt_http_header(&r->http.p, "content-type", 0)));
	if (read_doc(r, d, e) < 0)
		return rt_err_wrap(e, "manifest %s", ref);
	if (pinned && strcmp(d->digest, ref) != 0)
		return rt_err_set(e, 0, "manifest %s: registry sent %s instead", ref, d->digest);
	strcpy(w->digest, d->digest);
	w->size = d->len;
	note_layers(r, d);
	return 0;
}

int rt_registry_head(struct rt_registry *r, const char *tag, const char *seen,
		     char digest[RT_SHA256_STR], struct rt_err *e)
{
	char inm[RT_SHA256_STR + 2];
	const char *d;
	int status;

	if (!tag_ok(tag))
		return rt_err_set(e, EINVAL, "bad tag '%.80s'", tag);
	/* Registries answer a manifest's digest as its entity tag. */
	if (seen && seen[0])
		snprintf(inm, sizeof inm, "\"%s\"", seen);
	status = request(r, "HEAD", "manifests", tag, 0, seen && seen[0] ? inm : NULL, e);
	if (status < 0)
		return -1;
	if (status == 304) {
		rt_http_end(&r->http, 0);
		return 1;
	}
	if (status != 200)
		return status_error(r, status, "manifest", e);
	d = rt_http_header(&r->http.p, "docker-content-digest", 0);
	if (!d) {
		rt_http_end(&r->http, 0);
		return rt_err_set(e, 0, "manifest %s: the registry gives no Docker-Content-Digest", tag);
	}
	if (check_digest(d, e) < 0) {
		rt_http_end(&r->http, 0);
		return -1;
	}
	strcpy(digest, d);
	rt_http_end(&r->http, 0);
	return seen && !strcmp(seen, digest) ? 1 : 0;
}

/* ---- the image source ---- */

static void close_cur(struct rt_registry *r)
{
	if (r->open && !r->from_mem && r->fd < 0)
		rt_http_end(&r->http, 0);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->open = false;
}

static int serve_doc(struct rt_registry *r, struct doc *d, uint64_t size, struct rt_err *e)
{
	if (d->len != size)
		return rt_err_set(e, EBADMSG, "%zu bytes, the descriptor says %llu",
				  d->len, (unsigned long long)size);
	/* not the signature manifest found by tag */
	if (d != &r->docs[1])
		note_layers(r, d);
	r->from_mem = true;
	r->mem = d;
	r->open = true;
	return 0;
}

static int content_range(const char *s, uint64_t *a, uint64_t *b, uint64_t *total);

/* A 206 to a GET from byte r->done: the range must be the rest of the blob. */
static int check_range(struct rt_registry *r, struct rt_err *e)
{
	const char *cr = rt_http_header(&r->http.p, "content-range", 0);
	uint64_t a, b, total;

	if (!cr || content_range(cr, &a, &b, &total) < 0 || a != r->done || b + 1 != r->size ||
	    (total != UINT64_MAX && total != r->size)) {
		rt_http_end(&r->http, 0);
		return rt_err_set(e, 0, "bad Content-Range '%.60s' for a resume at %llu",
				  cr ? cr : "", (unsigned long long)r->done);
	}
	if (r->http.p.has_length && r->http.p.length != r->size - r->done) {
		rt_http_end(&r->http, 0);
		return rt_err_set(e, 0, "resumed body of the wrong length");
	}
	return 0;
}

/* Open blob digest at byte from (0: all of it); *at says where the bytes
 * handed out start: from, or 0 when the registry ignored the Range. */
static int open_blob(struct rt_registry *r, const char *digest, uint64_t size, uint64_t from,
		     uint64_t *at, struct rt_err *e)
{
	const char *cl;
	int status, i;

	*at = 0;

	close_cur(r);
	if (check_digest(digest, e) < 0)
		return -1;
	strcpy(r->cur, digest);
	r->size = size;
	r->done = 0;
	r->npend = 0;
	r->attempts = 0;
	r->from_mem = false;
	r->manifest = false;
	for (i = 0; i < 3; i++)
		if (r->docs[i].buf && !strcmp(r->docs[i].digest, digest))
			return serve_doc(r, &r->docs[i], size, e);
	/* What the store already has is not fetched again (the reader
	 * checks it against its digest all the same). */
	if (r->store && rt_store_blob_has(r->store, digest) > 0) {
		r->fd = rt_store_blob_open(r->store, digest, e);
		if (r->fd < 0)
			return -1;
		r->open = true;
		return 0;
	}
	status = get(r, "blobs", digest, from, e);
	if (status == 206 && from > 0) {
		r->done = from;
		if (check_range(r, e) < 0)
			return -1;
		*at = from;
		goto opened;
	}
	if (status == 404 && size <= RT_IMAGE_JSON_MAX) {
		/* Manifests named by an index are not blobs to every registry. */
		rt_http_end(&r->http, 65536);
		status = get(r, "manifests", digest, 0, e);
		if (status == 200) {
			if (read_doc(r, &r->docs[2], e) < 0)
				return -1;
			if (strcmp(r->docs[2].digest, digest) != 0)
				return rt_err_set(e, 0, "manifest %s: registry sent %s instead",
						  digest, r->docs[2].digest);
			return serve_doc(r, &r->docs[2], size, e);
		}
	}
	if (status < 0)
		return -1;
	if (status != 200)
		return status_error(r, status, "blob", e);
	cl = rt_http_header(&r->http.p, "content-length", 0);
	if (cl && r->http.p.length != size) {
		rt_http_end(&r->http, 0);
		return rt_err_set(e, 0, "registry sends %llu bytes, the descriptor says %llu",
				  (unsigned long long)r->http.p.length,
				  (unsigned long long)size);
	}
opened:
	r->open = true;
	r->progress = is_layer(r, digest);
	r->content = r->progress || !strcmp(digest, r->config);
	if (r->progress && r->prog.start)
		r->prog.start(r->prog.arg, digest, size);
	if (r->progress && *at && r->prog.resume)
		r->prog.resume(r->prog.arg, digest, *at, 0);
	return 0;
}

static int src_open(void *ctx, const char *digest, uint64_t size, struct rt_err *e)
{
	uint64_t at;

	return open_blob(ctx, digest, size, 0, &at, e);
}

/* Resume a blob an earlier pull was cut off in, with a Range request. */
static int src_open_at(void *ctx, const char *digest, uint64_t size, uint64_t from,
		       uint64_t *at, struct rt_err *e)
{
	return open_blob(ctx, digest, size, from < size ? from : 0, at, e);
}

/* Decimal digits only, no sign, no overflow. */
static const char *dec(const char *s, uint64_t *v)
{
	const char *p = s;

	*v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return NULL;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	return p == s ? NULL : p;
}

/* "bytes A-B/TOTAL", or with a total of "*" (then UINT64_MAX). */
static int content_range(const char *s, uint64_t *a, uint64_t *b, uint64_t *total)
{
	if (strncmp(s, "bytes ", 6) != 0 || !(s = dec(s + 6, a)) || *s++ != '-' ||
	    !(s = dec(s, b)) || *s++ != '/')
		return -1;
	if (!strcmp(s, "*")) {
		*total = UINT64_MAX;
		return 0;
	}
	return (s = dec(s, total)) && !*s ? 0 : -1;
}

/* The transfer broke after r->done bytes: ask for the rest. */
static int resume(struct rt_registry *r, struct rt_err *e)
{
	int status;

	if (r->attempts >= RT_REGISTRY_RETRIES)
		return rt_err_wrap(e, "giving up after %u retries", r->attempts);
	backoff(r->attempts++);
	if (r->prog.resume && r->progress)
		r->prog.resume(r->prog.arg, r->cur, r->done, r->attempts);
	status = get(r, r->manifest ? "manifests" : "blobs", r->cur, r->done, e);
	if (status < 0)
		return -1;
	if (status == 200 && r->done == 0)
		return 0;
	if (status != 206) {
		if (status == 200)
			return rt_err_set(e, 0, "cannot resume at byte %llu: the registry ignores Range",
					  (unsigned long long)r->done);
		return status_error(r, status, "resume", e);
	}
	return check_range(r, e);
}

static ssize_t src_read(void *ctx, void *buf, size_t len, struct rt_err *e)
{
	struct rt_registry *r = ctx;
	size_t n;

	if (!r->open)
		return rt_err_set(e, EBADF, "no blob open");
	if (r->fd >= 0) {
		ssize_t got;

		do
			got = read(r->fd, buf, len);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return rt_err_sys(e, "stored blob");
		return got;
	}
	if (r->from_mem) {
		n = r->mem->len - (size_t)r->done;
		if (n > len)
			n = len;
		memcpy(buf, r->mem->buf + r->done, n);
		r->done += n;
		return (ssize_t)n;
	}
	while (r->npend == 0) {
		const uint8_t *d;
		ssize_t got;

		if (r->done == r->size) {
			/* The body must end here: one byte more is an error. */
			got = rt_http_read(&r->http, &d, e);
			if (got > 0) {
				rt_http_end(&r->http, 0);
				r->open = false;
				return rt_err_set(e, 0, "more than the descriptor's %llu bytes",
						  (unsigned long long)r->size);
			}
			if (got < 0 && r->http.p.has_length)
				return -1;
			rt_http_end(&r->http, 0);
			r->open = false;
			return 0;
		}
		got = rt_http_read(&r->http, &d, e);
		if (got < 0 && !transient(e->errnum))
			return -1;
		if (got <= 0) {
			/* cut off (or closed early): continue where it stopped */
			if (got == 0)
				rt_err_set(e, ECONNRESET, "body ended after %llu of %llu bytes",
					   (unsigned long long)r->done, (unsigned long long)r->size);
			rt_http_end(&r->http, 0);
			if (resume(r, e) < 0)
				return -1;
			continue;
		}
		if ((uint64_t)got > r->size - r->done) {
			rt_http_end(&r->http, 0);
			r->open = false;
			return rt_err_set(e, 0, "more than the descriptor's %llu bytes",
					  (unsigned long long)r->size);
		}
		r->pend = d;
		r->npend = (size_t)got;
	}
	n = r->npend < len ? r->npend : len;
	memcpy(buf, r->pend, n);
	r->pend += n;
	r->npend -= n;
	r->done += n;
	if (r->content)
		r->blob_bytes += n;
	if (r->progress && r->prog.bytes)
		r->prog.bytes(r->prog.arg, r->cur, r->done, r->size);
	return (ssize_t)n;
}

static int src_find_tag(void *ctx, const char *tag, char digest[RT_SHA256_STR], uint64_t *size,
			struct rt_err *e)
{
	struct rt_registry *r = ctx;
	const char *colon = strrchr(tag, ':');
	int status;

	if (colon)
		tag = colon + 1;        /* "NAME:TAG" - the repository is ours */
	if (!tag_ok(tag))
		return rt_err_set(e, EINVAL, "bad tag '%.80s'", tag);
	close_cur(r);
	status = get(r, "manifests", tag, 0, e);
	if (status < 0)
		return -1;
	if (status == 404) {
		rt_http_end(&r->http, 65536);
		return 1;
	}
	if (status != 200)
		return status_error(r, status, "signature manifest", e);
	if (read_doc(r, &r->docs[1], e) < 0)
		return rt_err_wrap(e, "manifest %s", tag);
	strcpy(digest, r->docs[1].digest);
	*size = r->docs[1].len;
	return 0;
}

void rt_registry_src(struct rt_registry *r, struct rt_image_src *src)
{
	memset(src, 0, sizeof *src);
	src->ctx = r;
	src->open = src_open;
	src->open_at = src_open_at;
	src->read = src_read;
	src->find_tag = src_find_tag;
}

void rt_registry_set_store(struct rt_registry *r, struct rt_store *s)
{
	r->store = s;
}

uint64_t rt_registry_blob_bytes(const struct rt_registry *r)
{
	return r->blob_bytes;
}

/* ---- set-up ---- */

static bool insecure_cb(void *ctx, const char *host, uint16_t port)
{
	const struct rt_registry *r = ctx;
	size_t i;

	for (i = 0; i < r->conf.n; i++)
		if (r->conf.r[i].insecure && !strcmp(r->conf.r[i].host, host) &&
		    (r->conf.r[i].port ? r->conf.r[i].port == port : (port == 80 || port == 443)))
			return true;
	return false;
}

#if IS_ENABLED(CONFIG_TLS)
static const struct rt_tls_anchors *anchors_cb(void *ctx, const char *host, uint16_t port)
{
	const struct rt_registry *r = ctx;

	/* The registry's own CA vouches for the registry only. */
	if (!strcmp(host, r->host) && port == r->port)
		return r->all.n ? &r->all : NULL;
	return r->pub.n ? &r->pub : NULL;
}

static int load_anchors(struct rt_registry *r, struct rt_err *e)
{
	const char *ca = r->conf_i >= 0 ? r->conf.r[r->conf_i].ca : "";
	struct stat st;
	size_t total = 0, max;
	int n;

	if (*ca && stat(ca, &st) == 0)
		total += (size_t)st.st_size;
	if (stat(r->conf.bundle, &st) == 0)
		total += (size_t)st.st_size;
	if (total > (8u << 20))
		return rt_err_set(e, EFBIG, "CA certificates: more than 8 MiB");
	/* DER is 3/4 of its PEM; a DN and a key are less than their DER. */
	max = total / 400 + 8;
	r->ta = calloc(max, sizeof *r->ta);
	r->arena = malloc(total * 3 / 4 + 1024);
	if (!r->ta || !r->arena)
		return rt_err_sys(e, "CA certificates");
	rt_tls_anchors_init(&r->all, r->ta, max, r->arena, total * 3 / 4 + 1024);
	if (*ca && rt_tls_anchors_load(&r->all, ca, e) < 0)
		return rt_err_wrap(e, "CA file for %s", r->domain);
	n = (int)r->all.n;
	if (rt_tls_anchors_load(&r->all, r->conf.bundle, e) < 0 && (e->errnum != ENOENT || n == 0))
		return rt_err_wrap(e, "CA bundle");
	r->pub = r->all;
	r->pub.ta += n;
	r->pub.n -= (size_t)n;
	return 0;
}
#endif

struct rt_registry *rt_registry_new(const char *name, const struct rt_registry_conf *conf,
				    const struct rt_registry_progress *prog, struct rt_err *e)
{
	struct rt_registry *r = calloc(1, sizeof *r);
	const char *dir = conf_dir(NULL), *tmo;
	char *auth;
	size_t len;
	bool missing;
	int n;

	if (!r) {
		rt_err_sys(e, "registry");
		return NULL;
	}
	rt_http_client_init(&r->http);
	r->fd = -1;
	if (conf)
		r->conf = *conf;
	else if (rt_registry_conf_load(&r->conf, NULL, e) < 0)
		goto fail;
	if (prog)
		r->prog = *prog;
	if (rt_registry_endpoint(name, r->host, &r->port, &r->port_given, r->repo,
				 sizeof r->repo, e) < 0)
		goto fail;
	r->conf_i = conf_find(&r->conf, r->host, r->port, r->port_given);
	r->insecure = r->conf_i >= 0 && r->conf.r[r->conf_i].insecure;
	if (!r->port_given)
		r->port = r->insecure ? 80 : 443;
	n = snprintf(r->domain, sizeof r->domain, "%s%s%s%s", strchr(r->host, ':') ? "[" : "",
		     r->host, strchr(r->host, ':') ? "]" : "", "");
	if (r->port_given)
		n += snprintf(r->domain + n, sizeof r->domain - (size_t)n, ":%u", r->port);
	if (n < 0 || (size_t)n >= sizeof r->domain)
		goto toolong;
	n = snprintf(r->base, sizeof r->base, "%s://%s/v2/%s", r->insecure ? "http" : "https",
		     r->domain, r->repo);
	if (n < 0 || (size_t)n >= sizeof r->base)
		goto toolong;

	r->http.ctx = r;
	r->http.insecure = insecure_cb;
	tmo = getenv(RT_REGISTRY_TIMEOUT_ENV);
	if (tmo && *tmo) {
		char *end;
		unsigned long sec = strtoul(tmo, &end, 10);

		if (*end || sec == 0 || sec > 3600) {
			rt_err_set(e, EINVAL, "%s=%s: want seconds, 1 to 3600", RT_REGISTRY_TIMEOUT_ENV, tmo);
			goto fail;
		}
		r->http.timeout_ms = (int)sec * 1000;
	}
#if IS_ENABLED(CONFIG_TLS)
	r->http.anchors = anchors_cb;
	if (!r->insecure && load_anchors(r, e) < 0)
		goto fail;
#else
	if (!r->insecure) {
		rt_err_set(e, ENOTSUP, "%s: built without TLS, and not configured insecure", r->domain);
		goto fail;
	}
#endif
	auth = slurp(dir, "auth.json", AUTH_FILE_MAX, &len, &missing, e);
	if (auth) {
		n = rt_registry_auth_find(auth, len, r->domain, r->basic, sizeof r->basic, e);
		free(auth);
		if (n < 0) {
			rt_err_wrap(e, "%s/auth.json", dir);
			goto fail;
		}
		if (n == 0)
			r->basic[0] = 0;
	} else if (!missing) {
		goto fail;
	}
	return r;
toolong:
	rt_err_set(e, ENAMETOOLONG, "%s: name too long", name);
fail:
	rt_registry_free(r);
	return NULL;
}

void rt_registry_free(struct rt_registry *r)
{
	if (!r)
		return;
	close_cur(r);
	rt_http_client_close(&r->http);
	free(r->docs[0].buf);
	free(r->docs[1].buf);
	free(r->docs[2].buf);
#if IS_ENABLED(CONFIG_TLS)
	free(r->ta);
	free(r->arena);
#endif
	explicit_bzero(r->basic, sizeof r->basic);
	explicit_bzero(r->authz, sizeof r->authz);
	free(r);
}
