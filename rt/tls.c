#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tls.h"

#define ANCHOR_FILE_MAX (4u << 20)
#define DAYS_0AD_TO_1970 719528

/* ---- time ---- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), integers only. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t rt_tls_build_floor(void)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *d = __DATE__;       /* "Mmm dd yyyy" */
	unsigned m, day, y = 0;
	int i;

	for (m = 0; m < 12; m++)
		if (!memcmp(d, months + 3 * m, 3))
			break;
	day = (unsigned)(d[4] == ' ' ? 0 : d[4] - '0') * 10 + (unsigned)(d[5] - '0');
	for (i = 7; i < 11; i++)
		y = y * 10 + (unsigned)(d[i] - '0');
	if (m >= 12)
		return 0;
	return days_from_civil(y, m + 1, day) * 86400;
}

int64_t rt_tls_ref_time(int64_t now, int64_t floor, int64_t not_before)
{
	if (now >= floor)
		return now;
	return not_before > floor ? not_before : floor;
}

static void set_time(br_x509_minimal_context *mc, int64_t t)
{
	int64_t days;

	if (t < 0)
		t = 0;
	days = t / 86400 + DAYS_0AD_TO_1970;
	if (days > UINT32_MAX)
		days = UINT32_MAX;
	br_x509_minimal_set_time(mc, (uint32_t)days, (uint32_t)(t % 86400));
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- trust anchors ---- */

struct load {
	struct rt_tls_anchors *a;
	br_x509_decoder_context dec;
	size_t start;           /* arena offset where this anchor began */
	bool overflow, trailing;
};

static void dn_append(void *ctx, const void *buf, size_t len)
{
	struct load *l = ctx;
	struct rt_tls_anchors *a = l->a;

	if (l->overflow || len > a->cap - a->used) {
		l->overflow = true;
		return;
	}
	memcpy(a->arena + a->used, buf, len);
	a->used += len;
}

static void der_to_decoder(void *ctx, const void *buf, size_t len)
{
	struct load *l = ctx;

	/* The decoder must not run again once it stopped (done or failed):
	 * bytes after the certificate make the object bad instead. */
	if (l->dec.err || l->dec.decoded) {
		l->trailing = true;
		return;
	}
	br_x509_decoder_push(&l->dec, buf, len);
}

static uint8_t *arena_copy(struct load *l, const void *p, size_t len)
{
	struct rt_tls_anchors *a = l->a;
	uint8_t *d;

	if (l->overflow || len > a->cap - a->used) {
		l->overflow = true;
		return NULL;
	}
	d = a->arena + a->used;
	memcpy(d, p, len);
	a->used += len;
	return d;
}

static int finish_anchor(struct load *l, struct rt_err *e)
{
	struct rt_tls_anchors *a = l->a;
	br_x509_trust_anchor *ta = &a->ta[a->n];
	const br_x509_pkey *pk;
	int err = br_x509_decoder_last_error(&l->dec);

	if (err)
		return rt_err_set(e, EINVAL, "certificate %zu: undecodable (X.509 error %d)",
				  a->n + 1, err);
	if (l->trailing)
		return rt_err_set(e, EINVAL, "certificate %zu: bytes after its end", a->n + 1);
	pk = br_x509_decoder_get_pkey(&l->dec);
	ta->dn.data = a->arena + l->start;
	ta->dn.len = a->used - l->start;
	ta->flags = br_x509_decoder_isCA(&l->dec) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = arena_copy(l, pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = arena_copy(l, pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = arena_copy(l, pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	} else {
		return rt_err_set(e, EINVAL, "certificate %zu: unsupported key type", a->n + 1);
	}
	if (l->overflow)
		return rt_err_set(e, ENOBUFS, "more certificate data than %zu bytes", a->cap);
	a->n++;
	return 0;
}

void rt_tls_anchors_init(struct rt_tls_anchors *a, br_x509_trust_anchor *ta,
			 size_t max, void *arena, size_t cap)
{
	a->ta = ta;
	a->n = 0;
	a->max = max;
	a->arena = arena;
	a->used = 0;
	a->cap = cap;
}

/* Push PEM text through the decoder; *in_cert tracks an open CERTIFICATE. */
static int pem_push(br_pem_decoder_context *pc, struct load *l, bool *in_obj,
		    bool *in_cert, const uint8_t *p, size_t len, int *added,
		    struct rt_err *e)
{
	struct rt_tls_anchors *a = l->a;

	while (len > 0) {
		size_t n = br_pem_decoder_push(pc, p, len);

		p += n;
		len -= n;
		switch (br_pem_decoder_event(pc)) {
		case BR_PEM_BEGIN_OBJ:
			*in_obj = true;
			*in_cert = !strcmp(br_pem_decoder_name(pc), "CERTIFICATE");
			if (!*in_cert) {
				br_pem_decoder_setdest(pc, NULL, NULL);
				break;
			}
			if (a->n >= a->max)
				return rt_err_set(e, ENOBUFS, "more than %zu certificates", a->max);
			l->start = a->used;
			l->overflow = l->trailing = false;
			br_x509_decoder_init(&l->dec, dn_append, l);
			br_pem_decoder_setdest(pc, der_to_decoder, l);
			break;
		case BR_PEM_END_OBJ:
			if (*in_cert) {
				if (finish_anchor(l, e) < 0)
					return -1;
				(*added)++;
			}
			*in_obj = *in_cert = false;
			break;
		case BR_PEM_ERROR:
			return rt_err_set(e, EINVAL, "malformed PEM after certificate %zu", a->n);
		default:
			break;
		}
	}
	return 0;
}

int rt_tls_anchors_add_pem(struct rt_tls_anchors *a, const void *pem, size_t len,
			   struct rt_err *e)
{
	br_pem_decoder_context pc;
	struct load l = { .a = a };
	bool in_obj = false, in_cert = false;
	size_t n0 = a->n, used0 = a->used;
	int added = 0;

	br_pem_decoder_init(&pc);
	/* The decoder needs a line end after the last END line. */
	if (pem_push(&pc, &l, &in_obj, &in_cert, pem, len, &added, e) < 0 ||
	    pem_push(&pc, &l, &in_obj, &in_cert, (const uint8_t *)"\n", 1, &added, e) < 0)
		goto fail;
	if (in_obj) {
		rt_err_set(e, EINVAL, "PEM object not terminated");
		goto fail;
	}
	return added;
fail:
	a->n = n0;
	a->used = used0;
	return -1;
}

int rt_tls_anchors_load(struct rt_tls_anchors *a, const char *path, struct rt_err *e)
{
	br_pem_decoder_context pc;
	struct load l = { .a = a };
	bool in_obj = false, in_cert = false;
	size_t n0 = a->n, used0 = a->used, total = 0;
	uint8_t buf[4096];
	int added = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return rt_err_sys(e, "%s", path);
	br_pem_decoder_init(&pc);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rt_err_sys(e, "read");
			goto fail;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total > ANCHOR_FILE_MAX) {
			rt_err_set(e, EFBIG, "larger than %u bytes", ANCHOR_FILE_MAX);
			goto fail;
		}
		if (pem_push(&pc, &l, &in_obj, &in_cert, buf, (size_t)n, &added, e) < 0)
			goto fail;
	}
	if (pem_push(&pc, &l, &in_obj, &in_cert, (const uint8_t *)"\n", 1, &added, e) < 0)
		goto fail;
	if (in_obj) {
		rt_err_set(e, EINVAL, "PEM object not terminated");
		goto fail;
	}
	if (added == 0) {
		rt_err_set(e, ENOENT, "no certificate in it");
		goto fail;
	}
	close(fd);
	return added;
fail:
	close(fd);
	a->n = n0;
	a->used = used0;
	return rt_err_wrap(e, "%s", path);
}

/* ---- certificate checking: the time policy and IP SANs ---- */

/* One DER element: tag and content [*c, *c + *clen); *p moves past it. */
static int der_next(const uint8_t **p, const uint8_t *end, uint8_t *tag,
		    const uint8_t **c, size_t *clen)
{
	const uint8_t *q = *p;
	size_t len;

	if (end - q < 2)
		return -1;
	*tag = *q++;
	len = *q++;
	if (len & 0x80) {
		unsigned nb = len & 0x7f;

		if (nb == 0 || nb > 3 || (size_t)(end - q) < nb)
			return -1;
		for (len = 0; nb; nb--)
			len = len << 8 | *q++;
	}
	if (len > (size_t)(end - q))
		return -1;
	*c = q;
	*clen = len;
	*p = q + len;
	return 0;
}

/* Whether the certificate has an iPAddress SAN equal to ip[0..iplen). */
static bool san_has_ip(const uint8_t *der, size_t len, const uint8_t *ip, size_t iplen)
{
	static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };
	const uint8_t *p = der, *end = der + len, *c, *tbs, *tend;
	size_t cl;
	uint8_t tag;

	if (der_next(&p, end, &tag, &c, &cl) < 0 || tag != 0x30)
		return false;
	p = c;
	end = c + cl;
	if (der_next(&p, end, &tag, &tbs, &cl) < 0 || tag != 0x30)
		return false;
	tend = tbs + cl;
	for (p = tbs; p < tend;) {
		const uint8_t *ep, *eend;

		if (der_next(&p, tend, &tag, &c, &cl) < 0)
			return false;
		if (tag != 0xa3)
			continue;
		ep = c;
		if (der_next(&ep, c + cl, &tag, &c, &cl) < 0 || tag != 0x30)
			return false;
		eend = c + cl;
		for (ep = c; ep < eend;) {
			const uint8_t *x, *xend, *v;
			size_t vl;

			if (der_next(&ep, eend, &tag, &x, &cl) < 0 || tag != 0x30)
				return false;
			xend = x + cl;
			if (der_next(&x, xend, &tag, &v, &vl) < 0 || tag != 0x06)
				return false;
			if (vl != sizeof oid_san || memcmp(v, oid_san, vl) != 0)
				continue;
			if (der_next(&x, xend, &tag, &v, &vl) < 0)
				return false;
			if (tag == 0x01 && der_next(&x, xend, &tag, &v, &vl) < 0)
				return false;
			if (tag != 0x04)
				return false;
			x = v;
			if (der_next(&x, v + vl, &tag, &v, &vl) < 0 || tag != 0x30)
				return false;
			for (x = v, xend = v + vl; x < xend;) {
				if (der_next(&x, xend, &tag, &v, &vl) < 0)
					return false;
				if (tag == 0x87 && vl == iplen && !memcmp(v, ip, iplen))
					return true;
			}
			return false;
		}
	}
	return false;
}

#define XW(ctx) ((struct rt_tls_x509 *)(void *)(ctx))
#define MINI(x) (&(x)->mini.vtable)

static void xw_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct rt_tls_x509 *x = XW(ctx);

	x->depth = 0;
	x->err = 0;
	x->ip_ok = false;
	x->buffered = x->now < x->floor;
	set_time(&x->mini, x->now);
	x->mini.vtable->start_chain(MINI(x), x->ip_host ? NULL : server_name);
}

static bool buffering(const struct rt_tls_x509 *x)
{
	return x->buffered || (x->ip_host && x->depth == 0);
}

static void xw_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct rt_tls_x509 *x = XW(ctx);

	if (x->err)
		return;
	if (!buffering(x)) {
		x->mini.vtable->start_cert(MINI(x), length);
		return;
	}
	if (length > sizeof x->cert) {
		x->err = BR_ERR_X509_LIMIT_EXCEEDED;
		return;
	}
	x->clen = length;
	x->cused = 0;
}

static void xw_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct rt_tls_x509 *x = XW(ctx);

	if (x->err)
		return;
	if (!buffering(x)) {
		x->mini.vtable->append(MINI(x), buf, len);
		return;
	}
	if (len > x->clen - x->cused) {
		x->err = BR_ERR_X509_INNER_TRUNC;
		return;
	}
	memcpy(x->cert + x->cused, buf, len);
	x->cused += (uint32_t)len;
}

static void xw_end_cert(const br_x509_class **ctx)
{
	struct rt_tls_x509 *x = XW(ctx);

	if (x->err)
		return;
	if (buffering(x)) {
		if (x->cused != x->clen) {
			x->err = BR_ERR_X509_TRUNCATED;
			return;
		}
		if (x->buffered) {
			int64_t nb = x->floor;

			br_x509_decoder_init(&x->dec, NULL, NULL);
			br_x509_decoder_push(&x->dec, x->cert, x->clen);
			if (br_x509_decoder_last_error(&x->dec) == 0)
				nb = ((int64_t)x->dec.notbefore_days - DAYS_0AD_TO_1970) * 86400 +
				     x->dec.notbefore_seconds;
			set_time(&x->mini, rt_tls_ref_time(x->now, x->floor, nb));
		}
		if (x->ip_host && x->depth == 0)
			x->ip_ok = san_has_ip(x->cert, x->clen, x->ip, x->iplen);
		x->mini.vtable->start_cert(MINI(x), x->clen);
		x->mini.vtable->append(MINI(x), x->cert, x->clen);
	}
	x->mini.vtable->end_cert(MINI(x));
	x->depth++;
}

static unsigned xw_end_chain(const br_x509_class **ctx)
{
	struct rt_tls_x509 *x = XW(ctx);
	unsigned r = x->mini.vtable->end_chain(MINI(x));

	if (x->err)
		return (unsigned)x->err;
	if (r == 0 && x->ip_host && !x->ip_ok)
		return BR_ERR_X509_BAD_SERVER_NAME;
	return r;
}

static const br_x509_pkey *xw_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct rt_tls_x509 *x = (const void *)ctx;

	return x->mini.vtable->get_pkey(&x->mini.vtable, usages);
}

static const br_x509_class xw_vtable = {
	sizeof(struct rt_tls_x509),
	xw_start_chain, xw_start_cert, xw_append, xw_end_cert, xw_end_chain,
	xw_get_pkey,
};

/* ---- the engine ---- */

static int tls_fail(struct rt_err *e, int err, const char *host)
{
	const char *what;

	switch (err) {
	case BR_ERR_X509_EXPIRED:
		what = "certificate expired or not yet valid";
		break;
	case BR_ERR_X509_NOT_TRUSTED:
		what = "certificate signed by an unknown authority";
		break;
	case BR_ERR_X509_BAD_SERVER_NAME:
		return rt_err_set(e, 0, "certificate is not valid for %s", host);
	case BR_ERR_X509_LIMIT_EXCEEDED:
		what = "certificate too large";
		break;
	case BR_ERR_X509_BAD_SIGNATURE:
		what = "certificate signature does not verify";
		break;
	case BR_ERR_X509_NOT_CA:
		what = "certificate issued by a non-CA";
		break;
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		what = "certificate key too weak";
		break;
	case BR_ERR_BAD_CIPHER_SUITE:
		what = "server offers no TLS 1.2 ECDHE AEAD cipher suite";
		break;
	case BR_ERR_UNSUPPORTED_VERSION:
	case BR_ERR_BAD_VERSION:
		what = "server does not speak TLS 1.2 (or no TLS at all)";
		break;
	default:
		if (err >= BR_ERR_SEND_FATAL_ALERT)
			return rt_err_set(e, 0, "sent alert %d", err - BR_ERR_SEND_FATAL_ALERT);
		if (err >= BR_ERR_RECV_FATAL_ALERT)
			return rt_err_set(e, 0, "server sent alert %d", err - BR_ERR_RECV_FATAL_ALERT);
		return rt_err_set(e, 0, "BearSSL error %d", err);
	}
	return rt_err_set(e, 0, "%s", what);
}

static int wait_fd(int fd, short ev, int timeout_ms, int64_t deadline, struct rt_err *e)
{
	struct pollfd pfd = { .fd = fd, .events = ev };
	int wait = timeout_ms, r;

	if (deadline) {
		int64_t left = deadline - mono_ms();

		if (left <= 0)
			return rt_err_set(e, ETIMEDOUT, "deadline passed");
		if (left < wait)
			wait = (int)left;
	}
	do
		r = poll(&pfd, 1, wait);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return rt_err_sys(e, "poll");
	if (r == 0)
		return rt_err_set(e, ETIMEDOUT, "no data for %d ms", wait);
	return 0;
}

/* Drive the engine until one of the target states, doing the socket I/O it
 * asks for. 1 when the connection closed (cleanly or by EOF), 0 on target. */
static int run_until(struct rt_tls *t, unsigned target, int timeout_ms,
		     int64_t deadline, const char *host, struct rt_err *e)
{
	br_ssl_engine_context *eng = &t->sc.eng;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		unsigned char *buf;
		size_t len;
		ssize_t n;

		if (st & BR_SSL_CLOSED) {
			int err = br_ssl_engine_last_error(eng);

			t->open = false;
			if (err == BR_ERR_OK || err == BR_ERR_IO)
				return 1;
			return tls_fail(e, err, host);
		}
		if (st & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			n = send(t->fd, buf, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					return rt_err_sys(e, "send");
				if (wait_fd(t->fd, POLLOUT, timeout_ms, deadline, e) < 0)
					return -1;
				continue;
			}
			br_ssl_engine_sendrec_ack(eng, (size_t)n);
			continue;
		}
		if (st & target)
			return 0;
		/* Half-duplex: unread data blocks sending. HTTP never needs
		 * to send before it has read the whole response. */
		if ((st & BR_SSL_RECVAPP) && (target & BR_SSL_SENDAPP))
			return rt_err_set(e, EPROTO, "unexpected data from the server");
		if (st & BR_SSL_RECVREC) {
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			n = recv(t->fd, buf, len, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == ECONNRESET) {
					br_ssl_engine_close(eng);
					t->open = false;
					return 1;
				}
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					return rt_err_sys(e, "recv");
				if (wait_fd(t->fd, POLLIN, timeout_ms, deadline, e) < 0)
					return -1;
				continue;
			}
			if (n == 0) {
				/* EOF without close_notify: what was cut off is
				 * for the HTTP framing and the digests to see. */
				t->open = false;
				return 1;
			}
			br_ssl_engine_recvrec_ack(eng, (size_t)n);
			continue;
		}
		/* Nothing to do but the engine wants to move: flush it. */
		br_ssl_engine_flush(eng, 0);
	}
}

int rt_tls_connect(struct rt_tls *t, int fd, const char *host,
		   const struct rt_tls_anchors *a, int timeout_ms,
		   int64_t deadline_ms, struct rt_err *e)
{
	/* ChaCha20 first where AES has no hardware help (the boards: ARMv7,
	 * MIPS), AES-GCM first where it has; servers that honour the client's
	 * order (and Go's, which reads it as a hint) follow. */
	static const uint16_t chacha_first[] = {
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	};
	static const uint16_t aes_first[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	};
	bool hw_aes = (br_aes_x86ni_ctr_get_vtable() || br_aes_pwr8_ctr_get_vtable()) &&
		      br_ghash_pclmul_get();
	static const br_hash_class *const hashes[] = {
		&br_md5_vtable, &br_sha1_vtable, &br_sha224_vtable,
		&br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable,
	};
	struct rt_tls_x509 *x = &t->x;
	br_ssl_client_context *sc = &t->sc;
	int id, r;

	memset(x, 0, offsetof(struct rt_tls_x509, cert));
	x->vtable = &xw_vtable;
	x->now = (int64_t)time(NULL);
	x->floor = rt_tls_build_floor();
	if (inet_pton(AF_INET, host, x->ip) == 1) {
		x->ip_host = true;
		x->iplen = 4;
	} else if (inet_pton(AF_INET6, host, x->ip) == 1) {
		x->ip_host = true;
		x->iplen = 16;
	}

	br_ssl_client_zero(sc);
	br_ssl_engine_set_versions(&sc->eng, BR_TLS12, BR_TLS12);
	br_x509_minimal_init(&x->mini, &br_sha256_vtable, a->ta, a->n);
	br_ssl_engine_set_suites(&sc->eng, hw_aes ? aes_first : chacha_first,
				 sizeof aes_first / sizeof aes_first[0]);
	br_ssl_engine_set_default_rsavrfy(&sc->eng);
	br_ssl_engine_set_default_ecdsa(&sc->eng);
	br_x509_minimal_set_rsa(&x->mini, br_ssl_engine_get_rsavrfy(&sc->eng));
	br_x509_minimal_set_ecdsa(&x->mini, br_ssl_engine_get_ec(&sc->eng),
				  br_ssl_engine_get_ecdsa(&sc->eng));
	for (id = br_md5_ID; id <= br_sha512_ID; id++) {
		br_ssl_engine_set_hash(&sc->eng, id, hashes[id - 1]);
		br_x509_minimal_set_hash(&x->mini, id, hashes[id - 1]);
	}
	br_ssl_engine_set_x509(&sc->eng, &x->vtable);
	br_ssl_engine_set_prf_sha256(&sc->eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(&sc->eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(&sc->eng);
	br_ssl_engine_set_default_chapol(&sc->eng);
	br_ssl_engine_set_buffer(&sc->eng, t->iobuf, sizeof t->iobuf, 0);

	t->fd = fd;
	t->open = false;
	/* No SNI for an address (RFC 6066); the wrapper checks its SAN. */
	if (!br_ssl_client_reset(sc, x->ip_host ? NULL : host, 0))
		return tls_fail(e, br_ssl_engine_last_error(&sc->eng), host);
	t->open = true;
	r = run_until(t, BR_SSL_SENDAPP | BR_SSL_RECVAPP, timeout_ms, deadline_ms, host, e);
	if (r < 0)
		return rt_err_wrap(e, "TLS handshake with %s", host);
	if (r > 0)
		return rt_err_set(e, ECONNRESET, "TLS handshake with %s: connection closed", host);
	return 0;
}

ssize_t rt_tls_peek(struct rt_tls *t, const uint8_t **data, int timeout_ms,
		    int64_t deadline_ms, struct rt_err *e)
{
	size_t len;
	int r;

	if (!t->open)
		return 0;
	r = run_until(t, BR_SSL_RECVAPP, timeout_ms, deadline_ms, "server", e);
	if (r < 0)
		return -1;
	if (r > 0)
		return 0;
	*data = br_ssl_engine_recvapp_buf(&t->sc.eng, &len);
	return (ssize_t)len;
}

void rt_tls_consume(struct rt_tls *t, size_t n)
{
	if (n)
		br_ssl_engine_recvapp_ack(&t->sc.eng, n);
}

int rt_tls_write(struct rt_tls *t, const void *buf, size_t len, int timeout_ms,
		 int64_t deadline_ms, struct rt_err *e)
{
	const uint8_t *p = buf;

	while (len > 0) {
		unsigned char *dst;
		size_t room;
		int r;

		if (!t->open)
			return rt_err_set(e, ECONNRESET, "TLS connection closed");
		r = run_until(t, BR_SSL_SENDAPP, timeout_ms, deadline_ms, "server", e);
		if (r < 0)
			return -1;
		if (r > 0)
			return rt_err_set(e, ECONNRESET, "TLS connection closed");
		dst = br_ssl_engine_sendapp_buf(&t->sc.eng, &room);
		if (room > len)
			room = len;
		memcpy(dst, p, room);
		br_ssl_engine_sendapp_ack(&t->sc.eng, room);
		p += room;
		len -= room;
	}
	br_ssl_engine_flush(&t->sc.eng, 0);
	if (run_until(t, BR_SSL_SENDAPP | BR_SSL_RECVAPP, timeout_ms, deadline_ms,
		      "server", e) < 0)
		return -1;
	return 0;
}

void rt_tls_close(struct rt_tls *t)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *buf;
	size_t len;

	if (!t->open)
		return;
	t->open = false;
	br_ssl_engine_close(eng);
	if (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
		buf = br_ssl_engine_sendrec_buf(eng, &len);
		(void)!send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
}
