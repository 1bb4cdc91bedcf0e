/* TLS 1.2 client over a connected socket, with BearSSL.
 *
 * Only TLS 1.2 with ECDHE key exchange, ECDSA or RSA certificates and AEAD
 * ciphers (AES-128/256-GCM, ChaCha20-Poly1305): forward secrecy and no CBC.
 *
 * Memory. The engine runs half-duplex on one BR_SSL_BUFSIZE_MONO buffer
 * (16.3 KiB) inside struct rt_tls: HTTP/1.1 sends a request and then reads
 * its whole response, so it never needs to send and receive at the same
 * time, and a full-duplex buffer would double the RAM for nothing. The
 * buffer cannot be smaller: a peer may send 16 KiB records. With the X.509
 * state and the certificate buffer below, one connection costs about 30 KiB,
 * all in the caller's struct; nothing is allocated.
 *
 * Trust anchors come from PEM files (a bundle such as the system's
 * ca-certificates.crt, or a registry's own CA file): BearSSL has no loader,
 * so rt_tls_anchors_add_pem() decodes each CERTIFICATE with br_pem_decoder
 * and br_x509_decoder into a caller-owned table and arena; a bundle that
 * does not fit is an error, never silently cut short.
 *
 * Names. A DNS host name is checked against the leaf's dNSName SANs (and
 * CN) by BearSSL; an IP address host (BearSSL 0.6 checks no iPAddress SAN)
 * must appear as an iPAddress SAN of the leaf, which rt checks itself; a CN
 * never vouches for an address.
 *
 * Time. Validity is checked against the clock when it reads at least rt's
 * build date. A board without a clock (no RTC, no NTP yet) boots in 1970:
 * then each certificate is checked against the build date as a floor --
 * one that expired before rt was built is refused, and notBefore, which
 * cannot be judged without a clock, is not held against a certificate
 * issued after the build. The build date is the compiler's __DATE__, which
 * honours SOURCE_DATE_EPOCH for reproducible builds.
 */
#ifndef RT_TLS_H
#define RT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <bearssl.h>

#include "err.h"

#define RT_TLS_CERT_MAX 12288   /* a certificate the policy must buffer */

struct rt_tls_anchors {
	br_x509_trust_anchor *ta;
	size_t n, max;
	uint8_t *arena;         /* DNs and keys of the anchors */
	size_t used, cap;
};

void rt_tls_anchors_init(struct rt_tls_anchors *a, br_x509_trust_anchor *ta,
			 size_t max, void *arena, size_t cap);
/* Add every CERTIFICATE of a PEM text; other PEM objects are skipped.
 * Returns how many were added; a malformed certificate is an error. */
int rt_tls_anchors_add_pem(struct rt_tls_anchors *a, const void *pem,
			   size_t len, struct rt_err *e);
/* Same for a file (read in pieces, at most 4 MiB). */
int rt_tls_anchors_load(struct rt_tls_anchors *a, const char *path,
			struct rt_err *e);

/* The validation time for one certificate, in seconds since the epoch:
 * now when the clock is trusted (now >= floor), else the floor moved up to
 * the certificate's notBefore. The x509 check then refuses what expired. */
int64_t rt_tls_ref_time(int64_t now, int64_t floor, int64_t not_before);
/* rt's build date (00:00 UTC) in seconds since the epoch. */
int64_t rt_tls_build_floor(void);

/* The certificate checker: BearSSL's minimal engine, wrapped to apply the
 * time policy and the IP SAN check. Private. */
struct rt_tls_x509 {
	const br_x509_class *vtable;
	br_x509_minimal_context mini;
	br_x509_decoder_context dec;
	int64_t now, floor;
	bool buffered;          /* certificates go through cert[] first */
	bool ip_host;
	uint8_t ip[16];
	size_t iplen;
	unsigned depth;
	uint32_t clen, cused;
	bool ip_ok;
	int err;
	uint8_t cert[RT_TLS_CERT_MAX];
};

struct rt_tls {
	br_ssl_client_context sc;
	struct rt_tls_x509 x;
	int fd;
	bool open;
	uint8_t iobuf[BR_SSL_BUFSIZE_MONO];
};

/* Handshake on the connected socket fd (left open by every function here)
 * for host; anchors must outlive t. Each wait for the peer takes at most
 * timeout_ms; deadline_ms (monotonic, 0 for none) bounds the whole. */
int rt_tls_connect(struct rt_tls *t, int fd, const char *host,
		   const struct rt_tls_anchors *a, int timeout_ms,
		   int64_t deadline_ms, struct rt_err *e);
/* Decrypted bytes ready to read: points at them (inside t), returns the
 * count, waiting for a record when none are; 0 when the peer closed. */
ssize_t rt_tls_peek(struct rt_tls *t, const uint8_t **data, int timeout_ms,
		    int64_t deadline_ms, struct rt_err *e);
/* Mark n bytes from rt_tls_peek() as consumed. */
void rt_tls_consume(struct rt_tls *t, size_t n);
/* Encrypt and send all of buf. */
int rt_tls_write(struct rt_tls *t, const void *buf, size_t len, int timeout_ms,
		 int64_t deadline_ms, struct rt_err *e);
/* Send close_notify if the session is up (best effort, no waiting). */
void rt_tls_close(struct rt_tls *t);

#endif
