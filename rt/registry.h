/* A client of the OCI distribution API v2 (Docker registries), as an image
 * source for rt_image_load(): it resolves a tag or digest to the manifest
 * the registry serves, then hands out manifests and blobs by digest as
 * streams straight from the socket.
 *
 * Names. A repository's domain picks the registry: "docker.io" (what
 * names without a domain normalize to) is fetched from CONFIG_DEFAULT_REGISTRY;
 * any other domain ("ghcr.io", "127.0.0.1:5000") is the registry itself.
 *
 * Transport. HTTPS always, checked against the CA bundle and the
 * registry's own CA file; plain HTTP only for a registry named insecure in
 * registries.conf, never as a fallback when HTTPS fails.
 *
 * Auth. Anonymous first. On 401 with a Bearer challenge a token is fetched
 * from the realm (scope "repository:REPO:pull") and reused until it
 * expires; credentials from auth.json go along only to a realm on the
 * registry's own host or domain (the last two labels), over HTTPS. A Basic
 * challenge is answered with the credentials when there are some.
 *
 * Bytes. Every manifest is hashed as received and must match the digest it
 * was asked by (a pinned @DIGEST, a digest from an index) - the
 * Docker-Content-Digest header is never trusted; a manifest over
 * RT_IMAGE_JSON_MAX is refused. Blobs must be exactly their descriptor's
 * size; a Content-Length that disagrees, a byte too many or a body that
 * does not end is an error. A transfer cut off mid-blob continues with a
 * Range request from the byte where it stopped (the consumer's hash and
 * inflate state live on in memory), up to RT_REGISTRY_RETRIES times with
 * backoff, as do 5xx answers and connection resets before a response.
 *
 * Config files (under RT_REGISTRY_CONF_DIR, or $RT_CONFIG_DIR):
 *
 *   registries.conf - one directive per line, '#' starts a comment:
 *     insecure HOST[:PORT]     plain HTTP to this registry (and only it)
 *     ca HOST[:PORT] FILE      also trust the PEM CA certificates in FILE
 *                              for this registry's host
 *     bundle FILE              the CA bundle (default RT_REGISTRY_BUNDLE)
 *   HOST[:PORT] is written as in image names; without a port it matches
 *   the default port only.
 *
 *   auth.json - Docker's config.json format (what `docker login` writes):
 *     {"auths": {"HOST[:PORT]": {"auth": "base64(user:password)"}}}
 *   keys may be URLs ("https://index.docker.io/v1/" names Docker Hub);
 *   credential helpers and identity tokens are not supported.
 */
#ifndef RT_REGISTRY_H
#define RT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "http.h"
#include "image.h"

#define RT_REGISTRY_CONF_DIR "/etc/rt"
#define RT_REGISTRY_CONF_ENV "RT_CONFIG_DIR"
#define RT_REGISTRY_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define RT_REGISTRY_CONF_MAX 32         /* directives */
#define RT_REGISTRY_PATH_MAX 256
#define RT_REGISTRY_RETRIES 5
#define RT_REGISTRY_TOKEN_MAX 8192
/* Seconds for connecting and for each wait on the network (default 30). */
#define RT_REGISTRY_TIMEOUT_ENV "RT_PULL_TIMEOUT"

/* The media types a registry is asked for (all four, or it 404s OCI). */
#define RT_REGISTRY_ACCEPT \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.oci.image.index.v1+json, " \
	"application/vnd.docker.distribution.manifest.v2+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json"

struct rt_registry_conf {
	char bundle[RT_REGISTRY_PATH_MAX];
	size_t n;
	struct {
		char host[RT_HTTP_HOST_MAX + 1];
		uint16_t port;          /* 0: the default port */
		bool insecure;
		char ca[RT_REGISTRY_PATH_MAX];  /* "" when none */
	} r[RT_REGISTRY_CONF_MAX];
};

/* Parse registries.conf text. */
int rt_registry_conf_parse(struct rt_registry_conf *c, const char *text, size_t len,
			   struct rt_err *e);
/* Read dir/registries.conf (dir NULL: $RT_CONFIG_DIR or the default); a
 * missing file gives the defaults. */
int rt_registry_conf_load(struct rt_registry_conf *c, const char *dir, struct rt_err *e);

/* The registry endpoint of an image name's domain ("docker.io" ->
 * CONFIG_DEFAULT_REGISTRY): host and port, and the repository path. */
int rt_registry_endpoint(const char *name, char host[RT_HTTP_HOST_MAX + 1],
			 uint16_t *port, bool *port_given, char *repo, size_t cap,
			 struct rt_err *e);

/* Progress of the blobs a load reads (not manifests). */
struct rt_registry_progress {
	void (*start)(void *arg, const char *digest, uint64_t size);
	void (*bytes)(void *arg, const char *digest, uint64_t done, uint64_t size);
	void (*resume)(void *arg, const char *digest, uint64_t from, unsigned attempt);
	void *arg;
};

struct rt_registry;

/* A client for the repository of name ("docker.io/library/busybox"). Reads
 * the CA bundle and auth.json; conf may be NULL (rt_registry_conf_load). */
struct rt_registry *rt_registry_new(const char *name, const struct rt_registry_conf *conf,
				    const struct rt_registry_progress *prog,
				    struct rt_err *e);
void rt_registry_free(struct rt_registry *r);

/* Fetch the manifest or index that ref names (a tag, or "sha256:..."),
 * check it (a digest must match), keep it for the load, and describe it in
 * w (name left empty). */
int rt_registry_resolve(struct rt_registry *r, const char *ref, struct rt_image_want *w,
			struct rt_err *e);

/* The cheap question a watcher asks: HEAD on the manifest of tag, with
 * If-None-Match: "seen" when seen is a digest. 1 when the tag still
 * names seen (304, or the same digest); 0 with the digest the registry
 * names now in digest. That digest is only a hint of change: the pull
 * that follows fetches the manifest by it and checks its hash. */
int rt_registry_head(struct rt_registry *r, const char *tag, const char *seen,
		     char digest[RT_SHA256_STR], struct rt_err *e);

/* The registry as an image source. */
void rt_registry_src(struct rt_registry *r, struct rt_image_src *src);

/* Serve the blobs s already has from s instead of the network. */
void rt_registry_set_store(struct rt_registry *r, struct rt_store *s);

/* Bytes of image layers and configs fetched from the network so far (not
 * manifests or signatures). */
uint64_t rt_registry_blob_bytes(const struct rt_registry *r);

/* Helpers, exposed for tests. */
/* Percent-encode s for a query string into out. */
int rt_registry_qs(char *out, size_t cap, const char *s);
/* Whether credentials for registry host may go to a token realm host. */
bool rt_registry_realm_ok(const char *registry, const char *realm);
/* Find credentials for host[:port] in an auth.json text: "Basic ..." value
 * into out. 1 found, 0 none, < 0 malformed. */
int rt_registry_auth_find(const char *json, size_t len, const char *hostport,
			  char *out, size_t cap, struct rt_err *e);

#endif
