/* SPDX-License-Identifier: MIT */
/* endpoint.c - a worker's QUIC endpoint: UDP sockets, routing datagrams by connection ID, GSO sends. */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/crypto.h>
#include "core/log.h"
#include "http/context.h"
#include "http/listen.h"
#include "quic/quic.h"
#include "quic/quic_impl.h"
#include "quic/handover.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define CID_BUCKETS_INITIAL 256
#define SOCK_BUF_BYTES (4 << 20)   /* the kernel caps it at rmem_max/wmem_max */
#define CHUNK_POOL_MAX 256         /* idle file body pieces kept per worker (4 MiB) */

/* ---- clocks and randomness ---- */

uint64_t sw_quic_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

/* Tokens are checked by whichever worker gets the next Initial: wall-clock time. */
static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

void sw_quic_rand(uint8_t *dest, size_t len)
{
	if (gnutls_rnd(GNUTLS_RND_NONCE, dest, len) != 0)
		abort();   /* no randomness: nothing about QUIC is safe */
}

/* ---- connection IDs ---- */

void sw_quic_cid_new(struct quic_ep *ep, ngtcp2_cid *cid)
{
	cid->datalen = QUIC_SCID_LEN;
	sw_quic_rand(cid->data, QUIC_SCID_LEN);
	cid->data[0] = (uint8_t)ep->ctx->slot;
	cid->data[1] = (uint8_t)((cid->data[1] & ~QUIC_GEN_MASK) | (ep->ctx->generation & QUIC_GEN_MASK));
}

/* Client-chosen IDs live in the map too: the hash is keyed so they cannot aim at one bucket. */
static size_t cid_hash(const struct quic_ep *ep, const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ ep->hash_seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return (size_t)h & (ep->nbuckets - 1);
}

static struct quic_conn *cid_find(struct quic_ep *ep, const uint8_t *p, size_t len)
{
	for (struct cid_entry *e = ep->buckets[cid_hash(ep, p, len)]; e; e = e->next)
		if (e->cid.datalen == len && memcmp(e->cid.data, p, len) == 0)
			return e->qc;
	return NULL;
}

static void cid_grow(struct quic_ep *ep)
{
	struct cid_entry **old = ep->buckets;
	size_t n = ep->nbuckets;

	ep->nbuckets = n * 2;
	ep->buckets = sw_calloc(ep->nbuckets, sizeof(*ep->buckets));
	for (size_t i = 0; i < n; i++) {
		while (old[i]) {
			struct cid_entry *e = old[i];
			size_t b = cid_hash(ep, e->cid.data, e->cid.datalen);
			old[i] = e->next;
			e->next = ep->buckets[b];
			ep->buckets[b] = e;
		}
	}
	free(old);
}

int sw_quic_cid_add(struct quic_ep *ep, const ngtcp2_cid *cid, struct quic_conn *qc)
{
	struct cid_entry *e;
	size_t b;

	if (cid_find(ep, cid->data, cid->datalen))
		return SW_ERROR;
	if (ep->ncids >= ep->nbuckets)
		cid_grow(ep);
	b = cid_hash(ep, cid->data, cid->datalen);
	e = sw_malloc(sizeof(*e));
	e->cid = *cid;
	e->qc = qc;
	e->next = ep->buckets[b];
	ep->buckets[b] = e;
	ep->ncids++;
	return SW_OK;
}

void sw_quic_cid_del(struct quic_ep *ep, const ngtcp2_cid *cid)
{
	struct cid_entry **pp = &ep->buckets[cid_hash(ep, cid->data, cid->datalen)];

	for (; *pp; pp = &(*pp)->next) {
		struct cid_entry *e = *pp;
		if (e->cid.datalen == cid->datalen && memcmp(e->cid.data, cid->data, cid->datalen) == 0) {
			*pp = e->next;
			free(e);
			ep->ncids--;
			return;
		}
	}
}

/* ---- file body pieces ---- */

char *sw_quic_chunk_get(struct quic_ep *ep)
{
	if (ep->chunk_pool_n)
		return ep->chunk_pool[--ep->chunk_pool_n];
	return sw_malloc(QUIC_CHUNK);
}

void sw_quic_chunk_put(struct quic_ep *ep, char *chunk)
{
	if (ep->chunk_pool_n == CHUNK_POOL_MAX) {
		free(chunk);
		return;
	}
	if (ep->chunk_pool_n == ep->chunk_pool_cap) {
		ep->chunk_pool_cap = ep->chunk_pool_cap ? ep->chunk_pool_cap * 2 : 16;
		ep->chunk_pool = sw_realloc(ep->chunk_pool, ep->chunk_pool_cap * sizeof(char *));
	}
	ep->chunk_pool[ep->chunk_pool_n++] = chunk;
}

/* ---- sending ---- */

static void on_writable(struct sw_io *io, ssize_t res);

static void wait_writable(struct quic_sock *sock)
{
	if (sock->write_wait || sock->closing)
		return;
	sock->wio.data = sock;
	sock->wio.cb = on_writable;
	if (sw_loop_poll(sock->ep->ctx->loop, &sock->h, &sock->wio, true) == SW_OK)
		sock->write_wait = true;
}

/*
 * The datagrams that met a full socket buffer were dropped, as a router
 * would; ngtcp2 declares them lost and sends again once the connections
 * write, which they do now.
 */
static void on_writable(struct sw_io *io, ssize_t res)
{
	struct quic_sock *sock = io->data;
	struct quic_ep *ep = sock->ep;

	(void)res;
	sock->write_wait = false;
	for (struct quic_conn *qc = ep->conns; qc; qc = qc->next)
		if (qc->sock == sock)
			sw_quic_want_write(qc);
}

static size_t put_cmsgs(struct quic_sock *sock, const ngtcp2_path *path, uint8_t ecn,
			size_t segsize, bool gso, char *ctl, size_t ctl_size)
{
	struct msghdr m = { .msg_control = ctl, .msg_controllen = ctl_size };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	size_t used = 0;
	int tos = ecn;

	memset(ctl, 0, ctl_size);
	if (gso) {
		uint16_t seg = (uint16_t)segsize;
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(seg));
		memcpy(CMSG_DATA(c), &seg, sizeof(seg));
		used += CMSG_SPACE(sizeof(seg));
		c = CMSG_NXTHDR(&m, c);
	}
	c->cmsg_level = sock->family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
	c->cmsg_type = sock->family == AF_INET6 ? IPV6_TCLASS : IP_TOS;
	c->cmsg_len = CMSG_LEN(sizeof(tos));
	memcpy(CMSG_DATA(c), &tos, sizeof(tos));
	used += CMSG_SPACE(sizeof(tos));
	if (sock->wildcard) {
		/* A wildcard socket: answer from the address the client wrote to. */
		c = CMSG_NXTHDR(&m, c);
		if (sock->family == AF_INET6) {
			struct in6_pktinfo pi = { 0 };
			pi.ipi6_addr = ((const struct sockaddr_in6 *)path->local.addr)->sin6_addr;
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			used += CMSG_SPACE(sizeof(pi));
		} else {
			struct in_pktinfo pi = { 0 };
			pi.ipi_spec_dst = ((const struct sockaddr_in *)path->local.addr)->sin_addr;
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			used += CMSG_SPACE(sizeof(pi));
		}
	}
	return used;
}

static ssize_t send_one(struct quic_sock *sock, const ngtcp2_path *path, uint8_t ecn,
			const uint8_t *buf, size_t len, size_t segsize, bool gso)
{
	union { char buf[256]; struct cmsghdr align; } ctl;
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = {
		.msg_name = path->remote.addr,
		.msg_namelen = path->remote.addrlen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
	};
	ssize_t n;

	m.msg_controllen = put_cmsgs(sock, path, ecn, segsize, gso, ctl.buf, sizeof(ctl.buf));
	do
		n = sendmsg(sock->h.fd, &m, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int sw_quic_send(struct quic_sock *sock, const ngtcp2_path *path, uint8_t ecn,
		 const uint8_t *buf, size_t len, size_t segsize)
{
	bool gso = sock->gso && len > segsize;
	ssize_t n;

	if (sock->closing)
		return SW_ERROR;
	if (gso) {
		n = send_one(sock, path, ecn, buf, len, segsize, true);
		if (n >= 0)
			return SW_OK;
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			wait_writable(sock);
			return SW_AGAIN;
		}
		if (n != -EIO && n != -EINVAL && n != -ENOPROTOOPT)
			goto fail;
		/* The device or kernel cannot segment: one datagram at a time from now on. */
		sw_warn("QUIC: UDP GSO refused (%s); sending datagrams one by one", strerror((int)-n));
		sock->gso = false;
	}
	for (size_t off = 0; off < len; off += segsize) {
		n = send_one(sock, path, ecn, buf + off, SW_MIN(segsize, len - off), segsize, false);
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			wait_writable(sock);
			return SW_AGAIN;
		}
		if (n < 0)
			goto fail;
	}
	return SW_OK;
fail:
	/* Lost like any datagram (an unreachable peer, a route gone): QUIC recovers or times out. */
	sw_debug("QUIC: sendmsg: %s", strerror((int)-n));
	return SW_ERROR;
}

/* A datagram not tied to a connection (Version Negotiation, Retry, reset, close). */
static void send_stateless(struct quic_sock *sock, const struct quic_path *p,
			   const uint8_t *buf, size_t len)
{
	ngtcp2_path path = {
		.local = { (ngtcp2_sockaddr *)&p->local, p->local_len },
		.remote = { (ngtcp2_sockaddr *)&p->remote, p->remote_len },
	};

	sw_quic_send(sock, &path, 0, buf, len, len);
}

/* ---- writes after a receive pass ---- */

void sw_quic_flush_dirty(struct quic_ep *ep)
{
	while (ep->dirty) {
		struct quic_conn *qc = ep->dirty;
		ep->dirty = qc->dirty_next;
		qc->dirty_next = NULL;
		qc->dirty = false;
		sw_quic_conn_write(qc);
	}
}

static void on_flush_timer(struct sw_timer *t)
{
	sw_quic_flush_dirty(t->data);
}

void sw_quic_want_write(struct quic_conn *qc)
{
	struct quic_ep *ep = qc->ep;

	if (qc->dirty)
		return;
	qc->dirty = true;
	qc->dirty_next = ep->dirty;
	ep->dirty = qc;
	if (!ep->in_pass && !sw_timer_armed(&ep->flush_timer))
		sw_timer_add(ep->ctx->loop, &ep->flush_timer, 0);
}

void sw_quic_unlist(struct quic_conn *qc)
{
	struct quic_ep *ep = qc->ep;

	if (qc->dirty) {
		for (struct quic_conn **pp = &ep->dirty; *pp; pp = &(*pp)->dirty_next) {
			if (*pp == qc) {
				*pp = qc->dirty_next;
				break;
			}
		}
		qc->dirty = false;
	}
	if (qc->prev)
		qc->prev->next = qc->next;
	else
		ep->conns = qc->next;
	if (qc->next)
		qc->next->prev = qc->prev;
	ep->nconns--;
	sw_stat_sub(&ep->ctx->stats->connections_open, 1);
}

static void sock_close(struct quic_sock *sock);

void sw_quic_conn_gone(struct quic_ep *ep, struct quic_sock *sock)
{
	if (sock && --sock->conns == 0 && sock->retired)
		sock_close(sock);
	sw_ctx_conn_closed(ep->ctx);
}

/* ---- answers without a connection ---- */

static void send_version_negotiation(struct quic_sock *sock, const struct quic_path *p,
				     const ngtcp2_version_cid *vc)
{
	uint8_t buf[256], r;
	uint32_t versions[3];
	ngtcp2_ssize n;

	sw_quic_rand(&r, 1);
	/* A reserved version (0x?a?a?a?a) keeps clients honest about negotiation. */
	versions[0] = 0x1a2a3a4au | ((uint32_t)(r & 0xf0) << 24);
	versions[1] = NGTCP2_PROTO_VER_V1;
	versions[2] = NGTCP2_PROTO_VER_V2;
	n = ngtcp2_pkt_write_version_negotiation(buf, sizeof(buf), r, vc->scid, vc->scidlen,
						 vc->dcid, vc->dcidlen, versions, 3);
	if (n > 0)
		send_stateless(sock, p, buf, (size_t)n);
}

/* Refills one token per 10 ms: a flood of stray packets gets few answers. */
static bool reset_allowed(struct quic_ep *ep)
{
	uint64_t now = sw_loop_now(ep->ctx->loop);
	uint64_t cap = QUIC_RESETS_PER_SEC * 1000ULL;

	ep->reset_tokens_milli = SW_MIN(cap, ep->reset_tokens_milli +
					      (now - ep->reset_last_ms) * QUIC_RESETS_PER_SEC);
	ep->reset_last_ms = now;
	if (ep->reset_tokens_milli < 1000)
		return false;
	ep->reset_tokens_milli -= 1000;
	return true;
}

/*
 * RFC 9000 10.3: a short-header packet for a connection this worker no
 * longer has (it restarted, or the connection timed out) gets a stateless
 * reset so the client gives up at once; smaller than what triggered it so
 * two endpoints cannot loop.
 */
static void send_stateless_reset(struct quic_sock *sock, const struct quic_path *p,
				 const ngtcp2_version_cid *vc, size_t len)
{
	struct quic_ep *ep = sock->ep;
	uint8_t token[NGTCP2_STATELESS_RESET_TOKENLEN], rnd[64], buf[64];
	size_t total = SW_MIN(len - 1, (size_t)43);
	ngtcp2_cid cid;
	ngtcp2_ssize n;

	if (len < 1 + NGTCP2_MIN_STATELESS_RESET_RANDLEN + NGTCP2_STATELESS_RESET_TOKENLEN + 1 ||
	    !reset_allowed(ep))
		return;
	ngtcp2_cid_init(&cid, vc->dcid, vc->dcidlen);
	if (ngtcp2_crypto_generate_stateless_reset_token(token, sw_quic_secrets.statics,
							 QUIC_SECRET_LEN, &cid) != 0)
		return;
	sw_quic_rand(rnd, total - NGTCP2_STATELESS_RESET_TOKENLEN);
	n = ngtcp2_pkt_write_stateless_reset(buf, total, token, rnd,
					     total - NGTCP2_STATELESS_RESET_TOKENLEN);
	if (n > 0)
		send_stateless(sock, p, buf, (size_t)n);
}

/* Refusing an Initial (bad token, too many connections) without keeping state. */
static void send_refusal(struct quic_sock *sock, const struct quic_path *p,
			 const ngtcp2_pkt_hd *hd, uint64_t code)
{
	uint8_t buf[256];
	ngtcp2_ssize n;

	/* Protected with the Initial keys of the client's DCID, which it also names as ours. */
	n = ngtcp2_crypto_write_connection_close(buf, sizeof(buf), hd->version, &hd->scid, &hd->dcid,
						 code, NULL, 0);
	if (n > 0)
		send_stateless(sock, p, buf, (size_t)n);
}

/* Address validation (RFC 9000 8.1.2): the client must echo a token bound to its address. */
static void send_retry(struct quic_sock *sock, const struct quic_path *p,
		       const ngtcp2_pkt_hd *hd, size_t len)
{
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN2], buf[512];
	ngtcp2_cid scid;
	ngtcp2_ssize tlen, n;

	sw_quic_cid_new(sock->ep, &scid);
	tlen = ngtcp2_crypto_generate_retry_token2(token, sw_quic_secrets.statics, QUIC_SECRET_LEN,
						   hd->version, (const ngtcp2_sockaddr *)&p->remote,
						   p->remote_len, &scid, &hd->dcid, realtime_ns());
	if (tlen < 0)
		return;
	n = ngtcp2_crypto_write_retry(buf, SW_MIN(sizeof(buf), len * 3), hd->version, &hd->scid,
				      &scid, &hd->dcid, token, (size_t)tlen);
	if (n > 0)
		send_stateless(sock, p, buf, (size_t)n);
}

static bool want_retry(const struct quic_ep *ep)
{
	enum sw_quic_retry r = sw_quic_config(ep->ctx->cfg)->retry;

	return r == SW_QUIC_RETRY_ALWAYS ||
	       (r == SW_QUIC_RETRY_AUTO && ep->handshakes >= QUIC_AUTO_RETRY_HANDSHAKES);
}

/* ---- routing a datagram ---- */

static void accept_initial(struct quic_sock *sock, const struct quic_path *p, uint8_t ecn,
			   const uint8_t *data, size_t len)
{
	struct quic_ep *ep = sock->ep;
	ngtcp2_token_type tt = NGTCP2_TOKEN_TYPE_UNKNOWN;
	ngtcp2_cid odcid;
	const ngtcp2_cid *retried = NULL;
	struct quic_conn *qc;
	ngtcp2_pkt_hd hd;
	int rv;

	/* A draining or replaced socket takes no new connections: the client's retries go elsewhere. */
	if (ep->draining || sock->retired || ngtcp2_accept(&hd, data, len) != 0)
		return;
	if (ep->nconns >= sw_quic_config(ep->ctx->cfg)->max_connections) {
		send_refusal(sock, p, &hd, NGTCP2_CONNECTION_REFUSED);
		return;
	}
	if (hd.type == NGTCP2_PKT_INITIAL && hd.tokenlen) {
		if (hd.token[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY2) {
			rv = ngtcp2_crypto_verify_retry_token2(&odcid, hd.token, hd.tokenlen,
							       sw_quic_secrets.statics, QUIC_SECRET_LEN,
							       hd.version,
							       (const ngtcp2_sockaddr *)&p->remote,
							       p->remote_len, &hd.dcid,
							       QUIC_RETRY_TOKEN_TIMEOUT, realtime_ns());
			if (rv == NGTCP2_CRYPTO_ERR_VERIFY_TOKEN) {
				send_refusal(sock, p, &hd, NGTCP2_INVALID_TOKEN);
				return;
			}
			if (rv == 0) {
				retried = &odcid;
				tt = NGTCP2_TOKEN_TYPE_RETRY;
			}
		} else if (hd.token[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR &&
			   ngtcp2_crypto_verify_regular_token(hd.token, hd.tokenlen,
							      sw_quic_secrets.statics, QUIC_SECRET_LEN,
							      (const ngtcp2_sockaddr *)&p->remote,
							      p->remote_len, QUIC_REGULAR_TOKEN_TIMEOUT,
							      realtime_ns()) == 0) {
			tt = NGTCP2_TOKEN_TYPE_NEW_TOKEN;
		}
	}
	if (tt == NGTCP2_TOKEN_TYPE_UNKNOWN) {
		/* An unreadable or foreign token counts as none. */
		hd.token = NULL;
		hd.tokenlen = 0;
		if (hd.type == NGTCP2_PKT_INITIAL && want_retry(ep)) {
			send_retry(sock, p, &hd, len);
			return;
		}
	}
	qc = sw_quic_conn_new(ep, sock, p, &hd, retried, tt);
	if (qc)
		sw_quic_conn_read(qc, sock, p, ecn, data, len);
}

/* ---- routing a datagram ---- */

void sw_quic_dispatch(struct quic_sock *sock, const struct quic_path *p, uint8_t ecn,
		      const uint8_t *data, size_t len, bool forwarded)
{
	struct quic_ep *ep = sock->ep;
	ngtcp2_version_cid vc;
	struct quic_conn *qc;
	int rv = ngtcp2_pkt_decode_version_cid(&vc, data, len, QUIC_SCID_LEN);

	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		/* RFC 9000 6.1: only for datagrams a client could have sent as an Initial. */
		if (len >= NGTCP2_MAX_UDP_PAYLOAD_SIZE && !ep->draining)
			send_version_negotiation(sock, p, &vc);
		return;
	}
	if (rv != 0)
		return;
	qc = cid_find(ep, vc.dcid, vc.dcidlen);
	if (qc) {
		sw_quic_conn_read(qc, sock, p, ecn, data, len);
		return;
	}
	if (data[0] & 0x80) {
		/*
		 * A new connection (its DCID is the client's choice, so only the
		 * 4-tuple hash picked this worker).  A draining worker hands it to
		 * its successor on the same socket, if there is one.  When the
		 * successor's queue is full the packet is dropped (the client sends
		 * its Initial again): accepted here, the connection would get a
		 * GOAWAY at once and its first requests refused, which clients
		 * such as curl report as failures rather than retry.
		 */
		if (ep->draining && !forwarded) {
			int rc = sw_quic_forward(ep, ep->ctx->slot, ep->ctx->generation + 1, p, ecn,
						 data, len);

			if (rc == SW_OK || rc == SW_AGAIN)
				return;
		}
		accept_initial(sock, p, ecn, data, len);
		return;
	}
	if (!sw_quic_slot_cid(ep, vc.dcid, vc.dcidlen)) {
		/*
		 * Another slot's, which only the 4-tuple hash sends here: the
		 * steering program could not attach and the client moved.
		 * Its worker has it; never reset it.
		 */
		if (sw_quic_secrets.unsteered && !forwarded && vc.dcidlen == QUIC_SCID_LEN)
			sw_quic_forward_by_cid(ep, vc.dcid, p, ecn, data, len);
		return;
	}
	if (!sw_quic_same_gen(ep, vc.dcid)) {
		if (!forwarded)
			sw_quic_forward_by_cid(ep, vc.dcid, p, ecn, data, len);
		return;
	}
	/*
	 * Our generation's bits but not ours: it may be a generation four
	 * reloads back (the bits wrap) still draining on this slot, whose
	 * connection a reset would kill; else a connection this slot lost
	 * (a crash, a timeout).
	 */
	if (!forwarded && ep->ctx->generation > QUIC_GEN_MASK + 1 &&
	    sw_quic_forward(ep, ep->ctx->slot, ep->ctx->generation - (QUIC_GEN_MASK + 1), p, ecn, data,
		    len) == SW_OK)
		return;
	sw_debug("QUIC: stateless reset for an unknown connection of generation bits %u%s",
		 vc.dcid[1] & QUIC_GEN_MASK, forwarded ? " (passed here by another worker)" : "");
	send_stateless_reset(sock, p, &vc, len);
}

/* ---- receiving ---- */

static void watch(struct quic_sock *sock);

/* Local address (pktinfo), ECN (TOS / traffic class) and GRO segment size. */
static void read_cmsgs(struct quic_sock *sock, struct msghdr *m, struct quic_path *p,
		       uint8_t *ecn, size_t *seg)
{
	bool have_local = false;

	*ecn = 0;
	*seg = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in *sin = (struct sockaddr_in *)&p->local;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(sin, 0, sizeof(*sin));
			sin->sin_family = AF_INET;
			sin->sin_addr = pi.ipi_addr;
			sin->sin_port = htons(sock->port);
			p->local_len = sizeof(*sin);
			have_local = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->local;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			memset(sin6, 0, sizeof(*sin6));
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = pi.ipi6_addr;
			sin6->sin6_port = htons(sock->port);
			p->local_len = sizeof(*sin6);
			have_local = true;
		} else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) ||
			   (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS)) {
			/* IP_TOS comes as one byte, IPV6_TCLASS as an int. */
			if (c->cmsg_len >= CMSG_LEN(sizeof(int))) {
				int v;
				memcpy(&v, CMSG_DATA(c), sizeof(v));
				*ecn = (uint8_t)(v & IPTOS_ECN_MASK);
			} else {
				*ecn = *CMSG_DATA(c) & IPTOS_ECN_MASK;
			}
		} else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int v;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			*seg = (size_t)v;
		}
	}
	if (!have_local) {
		memcpy(&p->local, &sock->local, sock->local_len);
		p->local_len = sock->local_len;
	}
}

/* Reads and routes up to budget datagrams; writes wait for the end of the pass. */
static void read_batch(struct quic_sock *sock, int budget)
{
	struct quic_ep *ep = sock->ep;
	union { char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)) * 2 + 64];
		struct cmsghdr align; } ctl;
	struct quic_path p;

	ep->in_pass = true;
	for (int i = 0; i < budget && !sock->closing; i++) {
		struct iovec iov = { ep->rbuf, QUIC_MAX_DGRAM };
		struct msghdr m = {
			.msg_name = &p.remote,
			.msg_namelen = sizeof(p.remote),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		uint8_t ecn;
		size_t seg;
		ssize_t n = recvmsg(sock->h.fd, &m, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sw_debug("QUIC: recvmsg: %s", strerror(errno));
			break;
		}
		if (m.msg_flags & MSG_TRUNC)
			continue;
		p.remote_len = m.msg_namelen;
		read_cmsgs(sock, &m, &p, &ecn, &seg);
		/* Port 0 cannot be answered. */
		if (((struct sockaddr_in *)&p.remote)->sin_port == 0)
			continue;
		if (seg == 0)
			seg = (size_t)n;
		for (size_t off = 0; off < (size_t)n && !sock->closing; off += seg)
			sw_quic_dispatch(sock, &p, ecn, ep->rbuf + off, SW_MIN(seg, (size_t)n - off), false);
	}
	ep->in_pass = false;
	sw_quic_flush_dirty(ep);
}

static void on_readable(struct sw_io *io, ssize_t res)
{
	struct quic_sock *sock = io->data;

	sock->reading = false;
	if (res < 0 || sock->closing)
		return;
	read_batch(sock, QUIC_RECV_BUDGET);
	watch(sock);
}

static void watch(struct quic_sock *sock)
{
	if (sock->reading || sock->closing)
		return;
	sock->rio.data = sock;
	sock->rio.cb = on_readable;
	if (sw_loop_poll(sock->ep->ctx->loop, &sock->h, &sock->rio, false) == SW_OK)
		sock->reading = true;
}

/* ---- sockets ---- */

static void sock_options(int fd, int family)
{
	int one = 1, bufsz = SOCK_BUF_BYTES;

	if (family == AF_INET6) {
		int pmtu = IPV6_PMTUDISC_DO;
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	} else {
		/* DF set: ngtcp2's path MTU probes must not be fragmented. */
		int pmtu = IP_PMTUDISC_DO;
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	}
	setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
}

/* Takes the worker's UDP socket of listener l (the set forgets it). */
static int sock_open(struct quic_ep *ep, struct sw_listen *l)
{
	struct quic_sock *sock = sw_calloc(1, sizeof(*sock));
	int fd = l->udp_fds[ep->ctx->slot];

	sock->ep = ep;
	sock->family = l->udp_addr.ss_family;
	sock->port = l->udp_port;
	sock->local = l->udp_addr;
	sock->local_len = l->udp_addrlen;
	sock->wildcard = is_wildcard(&l->udp_addr);
	sock->gso = true;
	sock_options(fd, sock->family);
	if (sw_loop_add(ep->ctx->loop, &sock->h, fd, sock) != SW_OK) {
		sw_log_listener(SW_LOG_ERROR, 0, l->udp_name, "cannot watch udp %s", l->udp_name);
		free(sock);
		return SW_ERROR;
	}
	/* The loop closes the fd with the handle. */
	l->udp_fds[ep->ctx->slot] = -1;
	sock->next = ep->socks;
	ep->socks = sock;
	sw_log_listener(SW_LOG_INFO, 0, l->udp_name, "HTTP/3 on udp %s", l->udp_name);
	watch(sock);
	return SW_OK;
}

static void on_sock_closed(struct sw_handle *h)
{
	struct quic_sock *sock = h->data;
	struct quic_ep *ep = sock->ep;

	for (struct quic_sock **pp = &ep->socks; *pp; pp = &(*pp)->next) {
		if (*pp == sock) {
			*pp = sock->next;
			break;
		}
	}
	free(sock);
}

static void sock_close(struct quic_sock *sock)
{
	if (sock->closing)
		return;
	sock->closing = true;
	sw_loop_close_handle(sock->ep->ctx->loop, &sock->h, on_sock_closed);
}

static int open_socks(struct quic_ep *ep)
{
	struct sw_listen_set *ls = ep->ctx->listens;

	for (size_t i = 0; i < ls->n; i++) {
		struct sw_listen *l = &ls->v[i];
		if (l->udp_nslots > ep->ctx->slot && l->udp_fds[ep->ctx->slot] >= 0 &&
		    sock_open(ep, l) != SW_OK)
			return SW_ERROR;
	}
	return SW_OK;
}

static bool has_udp(const struct sw_ctx *ctx)
{
	for (size_t i = 0; i < ctx->listens->n; i++)
		if (ctx->listens->v[i].udp_nslots > ctx->slot && ctx->listens->v[i].udp_fds[ctx->slot] >= 0)
			return true;
	return false;
}

/* ---- the worker's API ---- */

int sw_quic_start(struct sw_ctx *ctx)
{
	struct quic_ep *ep;
	char err[256];

	if (!has_udp(ctx))
		return SW_OK;
	ep = sw_calloc(1, sizeof(*ep));
	ep->ctx = ctx;
	ep->fwd_fd = -1;
	ep->nbuckets = CID_BUCKETS_INITIAL;
	ep->buckets = sw_calloc(ep->nbuckets, sizeof(*ep->buckets));
	sw_quic_rand((uint8_t *)&ep->hash_seed, sizeof(ep->hash_seed));
	ep->rbuf = sw_malloc(QUIC_MAX_DGRAM);
	ep->sbuf = sw_malloc(QUIC_MAX_DGRAM);
	ep->reset_tokens_milli = QUIC_RESETS_PER_SEC * 1000ULL;
	ep->reset_last_ms = sw_loop_now(ctx->loop);
	sw_timer_init(&ep->flush_timer, on_flush_timer, ep);
	sw_timer_init(&ep->goaway_timer, NULL, ep);
	ctx->quic = ep;
	memcpy(sw_quic_secrets.statics, ctx->shm->head.secret, QUIC_SECRET_LEN);
	if (sw_quic_tls_load(ep, err, sizeof(err)) != SW_OK) {
		sw_error("HTTP/3: %s", err);
		return SW_ERROR;
	}
	if (open_socks(ep) != SW_OK)
		return SW_ERROR;
	sw_quic_fwd_open(ep);
	return SW_OK;
}

/*
 * Single process, listeners replaced by a reload: the new set's sockets are
 * new descriptors.  An old socket bound where a new one is (same address and
 * port) is closed after its queue is read, and its connections move to the
 * new one, which sends from the very same address; others stay, retired,
 * until their connections end.  New certificates apply to new connections.
 */
int sw_quic_relisten(struct sw_ctx *ctx)
{
	struct quic_ep *ep = ctx->quic;
	struct quic_sock *old, *fresh;
	char err[256];

	if (!ep)
		return sw_quic_start(ctx);
	for (old = ep->socks; old; old = old->next)
		old->retired = true;
	if (open_socks(ep) != SW_OK)
		return SW_ERROR;
	if (sw_quic_tls_load(ep, err, sizeof(err)) != SW_OK)
		sw_error("HTTP/3: %s; keeping the previous certificates", err);
	for (old = ep->socks; old; old = old->next) {
		if (!old->retired || old->closing)
			continue;
		for (fresh = ep->socks; fresh; fresh = fresh->next) {
			if (!fresh->retired && fresh->local_len == old->local_len &&
			    memcmp(&fresh->local, &old->local, old->local_len) == 0)
				break;
		}
		if (fresh) {
			read_batch(old, INT32_MAX);
			for (struct quic_conn *qc = ep->conns; qc; qc = qc->next) {
				if (qc->sock == old) {
					qc->sock = fresh;
					fresh->conns++;
					old->conns--;
				}
			}
		}
		if (old->conns == 0)
			sock_close(old);
	}
	return SW_OK;
}

/*
 * The final GOAWAY goes to a connection once its client has begun no
 * request for this long after the notice: a client that has read the
 * notice begins none, and one still beginning them has not read it yet.
 * A request begun after the final GOAWAY is refused, and clients such as
 * curl report that as a failure rather than retry it elsewhere.
 */
#define GOAWAY_QUIET_MS 200
/*
 * A connection that has carried no request yet gets its notice with its
 * first one (sw_quic_conn_goaway), which a client that opened it for a
 * request sends within a round trip; one that only connected ahead gets
 * the final GOAWAY after this long.
 */
#define FIRST_REQUEST_MS 500

static void on_goaway_timer(struct sw_timer *t)
{
	struct quic_ep *ep = t->data;
	uint64_t now = sw_loop_now(ep->ctx->loop);
	struct quic_conn *qc, *next;
	bool waiting = false;

	for (qc = ep->conns; qc; qc = next) {
		next = qc->next;
		/*
		 * Still handshaking: its client may have requests queued for it;
		 * it gets its notice when the handshake is done (sw_h3_open).
		 */
		if (!qc->h3 && qc->state == QC_ACTIVE) {
			waiting = true;
			continue;
		}
		/* Its first request may still be on the way (sw_quic_conn_goaway). */
		if (qc->notice_due && now - qc->h3_open_ms < FIRST_REQUEST_MS) {
			waiting = true;
			continue;
		}
		if (qc->h3 && !qc->goaway_sent && now - qc->last_stream_ms < GOAWAY_QUIET_MS) {
			waiting = true;
			continue;
		}
		sw_quic_conn_goaway(qc, true);
	}
	/* The drain deadline (timeouts.drain_ms) still ends the wait. */
	if (waiting)
		sw_timer_add(ep->ctx->loop, &ep->goaway_timer, GOAWAY_QUIET_MS / 2);
}

void sw_quic_goaway_later(struct quic_ep *ep)
{
	if (ep->goaway_timer.cb && !sw_timer_armed(&ep->goaway_timer))
		sw_timer_add(ep->ctx->loop, &ep->goaway_timer, GOAWAY_QUIET_MS / 2);
}

/*
 * RFC 9114 5.2: a GOAWAY notice first (requests in flight may still
 * arrive), the final GOAWAY once each client has stopped beginning
 * requests; each connection then closes once its last stream is done and
 * its client is quiet, within timeouts.drain_ms.
 */
void sw_quic_drain(struct sw_ctx *ctx)
{
	struct quic_ep *ep = ctx->quic;
	struct quic_conn *qc, *next;
	uint64_t wait_ns = 0;

	if (!ep || ep->draining)
		return;
	ep->draining = true;
	for (qc = ep->conns; qc; qc = next) {
		next = qc->next;
		if (qc->conn && qc->state == QC_ACTIVE)
			wait_ns = SW_MAX(wait_ns, 2 * ngtcp2_conn_get_pto(qc->conn));
		sw_quic_conn_goaway(qc, false);
	}
	ep->goaway_timer.cb = on_goaway_timer;
	sw_timer_add(ctx->loop, &ep->goaway_timer,
		     SW_MIN(SW_MAX(wait_ns / 1000000, (uint64_t)50), (uint64_t)1000));
}

static bool serves_port(const struct quic_ep *ep, uint16_t port)
{
	for (const struct quic_sock *s = ep->socks; s; s = s->next)
		if (s->port == port && !s->retired && !s->closing)
			return true;
	return false;
}

/*
 * A TCP listener's HTTP/3 port, advertised while this worker serves it
 * (RFC 7838); a draining worker sends clients nowhere new.  The values
 * stay for the endpoint's life: a response head made now may go out after
 * a reload has retired the socket.
 */
const char *sw_quic_alt_svc(struct sw_ctx *ctx, uint16_t port)
{
	struct quic_ep *ep = ctx->quic;
	struct quic_alt_svc *a;

	if (!ep || ep->draining || !serves_port(ep, port))
		return NULL;
	for (a = ep->alt_svcs; a; a = a->next)
		if (a->port == port)
			return a->value;
	a = sw_malloc(sizeof(*a));
	a->port = port;
	snprintf(a->value, sizeof(a->value), "h3=\":%u\"; ma=86400", port);
	a->next = ep->alt_svcs;
	ep->alt_svcs = a;
	return a->value;
}

unsigned sw_quic_count(const struct sw_ctx *ctx)
{
	const struct quic_ep *ep = ctx->quic;

	return ep ? ep->nconns : 0;
}

void sw_quic_stop(struct sw_ctx *ctx)
{
	struct quic_ep *ep = ctx->quic;

	if (!ep)
		return;
	ep->draining = true;
	sw_timer_del(ctx->loop, &ep->flush_timer);
	sw_timer_del(ctx->loop, &ep->goaway_timer);
	if (ep->conns)
		sw_debug("QUIC: closing %u connection(s) the drain did not end", sw_quic_count(ctx));
	while (ep->conns) {
		struct quic_conn *qc = ep->conns;
		sw_quic_conn_close_app(qc, NGHTTP3_H3_NO_ERROR);
		if (ep->conns == qc)
			sw_quic_conn_free(qc);
	}
	for (struct quic_sock *s = ep->socks; s; s = s->next)
		sock_close(s);
	sw_quic_fwd_close(ep);
}

void sw_quic_release(struct sw_ctx *ctx)
{
	struct quic_ep *ep = ctx->quic;

	if (!ep)
		return;
	sw_quic_stop(ctx);
	/* The loop has ended: on_sock_closed will not run. */
	while (ep->socks) {
		struct quic_sock *s = ep->socks;
		ep->socks = s->next;
		free(s);
	}
	for (size_t i = 0; i < ep->nbuckets; i++) {
		while (ep->buckets[i]) {
			struct cid_entry *e = ep->buckets[i];
			ep->buckets[i] = e->next;
			free(e);
		}
	}
	free(ep->buckets);
	while (ep->chunk_pool_n)
		free(ep->chunk_pool[--ep->chunk_pool_n]);
	free(ep->chunk_pool);
	while (ep->alt_svcs) {
		struct quic_alt_svc *a = ep->alt_svcs;
		ep->alt_svcs = a->next;
		free(a);
	}
	sw_quic_tls_unload(ep);
	free(ep->rbuf);
	free(ep->sbuf);
	free(ep);
	ctx->quic = NULL;
}
