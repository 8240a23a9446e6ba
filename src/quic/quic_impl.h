/* SPDX-License-Identifier: MIT */
/* quic_impl.h - the QUIC endpoint, connection and HTTP/3 stream state, shared by src/quic/ only. */
#ifndef SW_QUIC_QUIC_IMPL_H
#define SW_QUIC_QUIC_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <nghttp3/nghttp3.h>
#include "event/loop.h"
#include "quic/config.h"
#include "tls/config.h"
#include "http/exchange.h"
#include "http/stream.h"

struct sw_ctx;
struct sw_listen;

/*
 * Server connection IDs: byte 0 is the worker slot (the index of its socket
 * in the reuseport group, which the steering program reads), the low two
 * bits of byte 1 the worker generation modulo 4 (a reload's old and new
 * workers share the slot's socket and hand each other their packets), the
 * rest random.
 */
#define QUIC_SCID_LEN 18
#define QUIC_GEN_MASK 3u
#define QUIC_SECRET_LEN 32
#define QUIC_MAX_DGRAM 65536     /* a GRO batch or a GSO batch */
#define QUIC_MAX_SEGMENTS 64     /* UDP_SEGMENT limit per sendmsg */
#define QUIC_RECV_BUDGET 64      /* datagrams per readiness event before others run */
#define QUIC_CHUNK 16384         /* file body piece read with pread */
#define QUIC_CHUNKS 16           /* pieces in flight per stream (256 KiB) */
#define QUIC_RETRY_TOKEN_TIMEOUT (10 * NGTCP2_SECONDS)
#define QUIC_REGULAR_TOKEN_TIMEOUT (3600 * NGTCP2_SECONDS)
#define QUIC_RESETS_PER_SEC 100  /* stateless resets a worker sends */
#define QUIC_AUTO_RETRY_HANDSHAKES 64 /* retry "auto": handshakes in progress past this */
#define QUIC_TICKET_KEY_LEN 64   /* a GnuTLS session-ticket master key */

/*
 * statics is the shared block's secret (core/shm.h), made with it by the
 * first master and carried over by binary upgrades: identical in every
 * worker of every generation, so tokens and stateless resets work on the
 * worker next door.  (Session tickets use the master's rotating TCP keys
 * instead: tls_gnutls.c.)
 */
struct quic_secrets {
	bool unsteered;                     /* a group without the steering program */
	uint8_t statics[QUIC_SECRET_LEN];   /* tokens and stateless resets */
};
extern struct quic_secrets sw_quic_secrets;

struct quic_ep;
struct quic_conn;

/* One UDP socket the worker reads (its slot's socket of a QUIC listener). */
struct quic_sock {
	struct quic_ep *ep;
	struct quic_sock *next;
	struct sw_handle h;
	struct sw_io rio;             /* poll-in */
	struct sw_io wio;             /* poll-out after EAGAIN */
	struct sockaddr_storage local;/* bound address (maybe a wildcard) */
	socklen_t local_len;
	int family;
	uint16_t port;
	bool wildcard;                /* bound to 0.0.0.0 / :: : source address via pktinfo */
	bool reading;                 /* a poll-in is pending */
	bool write_wait;              /* a poll-out is pending */
	bool retired;                 /* replaced by a single-process reload */
	bool closing;
	bool gso;                     /* UDP_SEGMENT accepted */
	unsigned conns;               /* connections sending through it */
};

/* A connection ID the worker answers for. */
struct cid_entry {
	struct cid_entry *next;
	ngtcp2_cid cid;
	struct quic_conn *qc;
};

enum qc_state { QC_ACTIVE, QC_CLOSING, QC_DRAINING };

/* "h3=\":443\"; ma=86400" for one port. */
struct quic_alt_svc {
	struct quic_alt_svc *next;
	uint16_t port;
	char value[32];
};

struct h3_stream;

struct quic_conn {
	struct quic_ep *ep;
	struct quic_conn *prev, *next;     /* the endpoint's connections */
	struct quic_conn *dirty_next;      /* the endpoint's write list */
	bool dirty;
	ngtcp2_conn *conn;
	nghttp3_conn *h3;
	gnutls_session_t tls;
	ngtcp2_crypto_conn_ref ref;        /* what the GnuTLS session points to */
	struct quic_sock *sock;
	struct sockaddr_storage peer;      /* the current path's peer, for the exchange */
	socklen_t peer_len;
	ngtcp2_cid odcid;                  /* client's first DCID, also in the CID map */
	enum qc_state state;
	bool handshaking;
	bool goaway_sent;                  /* nghttp3_conn_shutdown done */
	bool notice_due;                   /* drain: the GOAWAY notice waits for a request */
	uint64_t last_stream_ms;           /* when the client last began a request */
	uint64_t h3_open_ms;               /* when HTTP/3 began (handshake done) */
	unsigned long requests;            /* streams the client has begun */
	bool closing_soon;                 /* drained after GOAWAY: close_timer runs */
	struct sw_timer close_timer;
	int h3_error;                      /* nghttp3's error that failed a callback */
	struct sw_timer timer;
	/* closing period: the CONNECTION_CLOSE datagram, resent with backoff */
	uint8_t *close_buf;
	size_t close_len;
	unsigned close_rx, close_next;
	/* HTTP/3 streams */
	struct sw_stream_set streams;      /* open ones and the recycled */
};

struct quic_ep {
	struct sw_ctx *ctx;
	struct quic_sock *socks;
	struct cid_entry **buckets;
	size_t nbuckets, ncids;
	uint64_t hash_seed;
	struct quic_conn *conns;
	unsigned nconns;
	unsigned handshakes;               /* connections not yet past the handshake */
	struct quic_conn *dirty;
	bool in_pass;                      /* receiving: writes wait for the pass end */
	bool draining;
	struct sw_timer flush_timer;       /* writes asked for outside a receive pass */
	struct sw_timer goaway_timer;      /* drain: notice first, then the final GOAWAY */
	gnutls_certificate_credentials_t cred;
	gnutls_certificate_credentials_t *retired_creds;
	size_t retired_creds_count;
	gnutls_priority_t prio;
	/* session-ticket master keys derived from the shared TCP ones (tls_gnutls.c) */
	bool tickets_ready;
	uint64_t tickets_seq;              /* the shared keys' seqlock when derived */
	uint8_t ticket_cur[QUIC_TICKET_KEY_LEN], ticket_prev[QUIC_TICKET_KEY_LEN];
	uint8_t *rbuf;                     /* one receive buffer (QUIC_MAX_DGRAM) */
	uint8_t *sbuf;                     /* one send buffer (QUIC_MAX_DGRAM) */
	/* hand-over between a reload's generations (endpoint.c) */
	int fwd_fd;
	struct sw_handle fwd_h;
	struct sw_io fwd_io;
	bool fwd_reading;
	uint64_t reset_tokens_milli;       /* stateless reset bucket */
	uint64_t reset_last_ms;
	struct quic_alt_svc *alt_svcs;     /* Alt-Svc values handed out (sw_quic_alt_svc) */
	/* recycled file body pieces */
	char **chunk_pool;
	size_t chunk_pool_n, chunk_pool_cap;
};

/* A received datagram's addresses. */
struct quic_path {
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
};

/* endpoint.c */
uint64_t sw_quic_now_ns(void);
void sw_quic_rand(uint8_t *dest, size_t len);
/* A fresh server CID for this worker (slot, generation modulo 4, random). */
void sw_quic_cid_new(struct quic_ep *ep, ngtcp2_cid *cid);
int sw_quic_cid_add(struct quic_ep *ep, const ngtcp2_cid *cid, struct quic_conn *qc);
void sw_quic_cid_del(struct quic_ep *ep, const ngtcp2_cid *cid);
/*
 * Sends len bytes as datagrams of segsize (the last may be shorter) from
 * sock on path.  SW_OK, SW_AGAIN (the socket is full: what was not sent is
 * dropped like a lost packet, and a poll-out calls the socket's connections
 * back) or SW_ERROR (dropped too).
 */
int sw_quic_send(struct quic_sock *sock, const ngtcp2_path *path, uint8_t ecn,
		 const uint8_t *buf, size_t len, size_t segsize);
/* Asks for a write pass over qc: at the end of the receive pass, or soon. */
void sw_quic_want_write(struct quic_conn *qc);
/* A file body piece from the endpoint's pool; its release. */
char *sw_quic_chunk_get(struct quic_ep *ep);
void sw_quic_chunk_put(struct quic_ep *ep, char *chunk);
/* Takes qc off the endpoint's lists. */
void sw_quic_unlist(struct quic_conn *qc);
/* A connection that used sock is gone: close a retired socket, let a draining worker exit. */
void sw_quic_conn_gone(struct quic_ep *ep, struct quic_sock *sock);
/* Routes one datagram by its CID (forwarded: another worker passed it here, never pass it on). */
void sw_quic_dispatch(struct quic_sock *sock, const struct quic_path *p, uint8_t ecn,
		      const uint8_t *data, size_t len, bool forwarded);
/* Ends a receive pass: writes what its connections have to send. */
void sw_quic_flush_dirty(struct quic_ep *ep);

/* conn.c */
struct quic_conn *sw_quic_conn_new(struct quic_ep *ep, struct quic_sock *sock,
				   const struct quic_path *p, const ngtcp2_pkt_hd *hd,
				   const ngtcp2_cid *odcid, ngtcp2_token_type token_type);
/* One datagram for qc (already matched by CID). */
void sw_quic_conn_read(struct quic_conn *qc, struct quic_sock *sock, const struct quic_path *p,
		       uint8_t ecn, const uint8_t *data, size_t len);
/* Produces and sends what qc has to send, then rearms its timer. */
void sw_quic_conn_write(struct quic_conn *qc);
/* Closes with an application error (H3_NO_ERROR for a graceful end). */
void sw_quic_conn_close_app(struct quic_conn *qc, uint64_t code);
/* Frees now (unlinks CIDs, finishes exchanges, closes the TLS session). */
void sw_quic_conn_free(struct quic_conn *qc);
/* Drain step 1 (GOAWAY notice) and step 2 (final GOAWAY). */
void sw_quic_conn_goaway(struct quic_conn *qc, bool final);
/* A draining endpoint's final GOAWAYs still have a connection to wait for. */
void sw_quic_goaway_later(struct quic_ep *ep);

/* h3.c */
int sw_h3_open(struct quic_conn *qc);
/* Finishes the exchange of every open stream (the connection is going away). */
void sw_h3_close_all(struct quic_conn *qc);
void sw_h3_free_streams(struct quic_conn *qc);

/* tls_gnutls.c */
int sw_quic_tls_load(struct quic_ep *ep, char *err, size_t err_size);
int sw_quic_tls_session(struct quic_conn *qc);
void sw_quic_tls_unload(struct quic_ep *ep);

#endif
