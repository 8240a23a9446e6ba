/* SPDX-License-Identifier: MIT */
/* h3load_ngtcp2.c - h3load's own engine on ngtcp2 + nghttp3 + GnuTLS: cheap per request. */

/*
 * libcurl's engine spends ~80 µs of client CPU per request, more than a
 * fast server spends answering it, so on a small machine it measures
 * itself. This engine does only what a load generator needs: GETs of one
 * URL, no certificate verification, one connection per thread at a time.
 *
 * A thread has -m request slots. A slot is idle (the run wants no more),
 * queued (begun, so its clock runs, waiting for a stream: the first
 * requests of a connection include its handshake, as with curl) or open
 * (a stream carries it). A slot whose request ended is begun again at once.
 *
 * When the connection ends the thread opens the next one. After a GOAWAY
 * it opens no stream; the streams below the GOAWAY id finish, then it
 * closes. Requests the server never processed (streams at or above that
 * id, or reset with H3_REQUEST_REJECTED) are queued again for the next
 * connection, as RFC 9114 5.2 lets clients do, at most MAX_REFUSED times.
 * Requests on a connection that dies count as errors, and so do the
 * queued ones if it died before its handshake completed: otherwise a
 * dead server would be retried for ever.
 *
 * Each connection has its own connected UDP socket, so late packets of the
 * last one never reach it. A thread reads with recvmmsg (GRO trains split
 * here), answers each batch with one write pass (GSO when ngtcp2 has
 * several packets of a size) and sleeps in ppoll until the socket or
 * ngtcp2's next timer. Buffers are allocated once per thread; -H headers
 * are sent as given, names lower-cased.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include "h3load.h"

#define RX_VLEN 8              /* datagrams per recvmmsg; with GRO each holds a train */
#define RX_BUFLEN 65536        /* a GRO train can be 64 KiB; less would truncate it */
#define RX_BUDGET 64           /* datagrams read before writing again, so ACKs flow */
#define TX_TRAIN_MAX 65000     /* one GSO sendmsg stays under the 65507-byte UDP limit */
#define TX_MAXSEGS 64          /* the kernel's UDP_MAX_SEGMENTS */
#define CONN_WINDOW (16u << 20)  /* so that -m streams never wait for credit */
#define STREAM_WINDOW (1u << 20)
#define RECONNECT_DELAY (10 * NGTCP2_MILLISECONDS) /* after a failed handshake */
#define MIN_INITIAL_RTT (10 * NGTCP2_MILLISECONDS)
#define MAX_REFUSED 3
#define MAX_HEADERS 40
#define MAX_ADDRS 8

/* ngtcp2's defaults for QUIC: TLS 1.3 only, no middlebox-compatibility CCS. */
static const char tls_priority[] =
	"%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:"
	"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:"
	"+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1";

enum slot_state { SLOT_IDLE, SLOT_QUEUED, SLOT_OPEN };

struct qclient;

/* One of the -m requests a connection keeps in flight. */
struct slot {
	struct qclient *q;
	enum slot_state state;
	int64_t sid;            /* its stream while open */
	double started_us;
	uint64_t bytes;
	long status;
	int refused;            /* times the server sent it back unprocessed */
	bool body_failed;
};

/* One client thread: its slots, its current connection, its buffers. */
struct qclient {
	struct h3l_client *cl;
	const struct h3l_options *opt;
	struct sockaddr_storage addrs[MAX_ADDRS]; /* what the host resolved to */
	socklen_t addrlens[MAX_ADDRS];
	int naddrs, addr, addr_failures;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	bool sni, gso;
	nghttp3_nv nv[MAX_HEADERS];
	size_t nvlen;
	char names[4096];       /* -H names, lower-cased as HTTP/3 wants */
	struct slot *slots;
	int nslots, nqueued, nopen;
	int next;               /* the slot streams_open looks at first */
	ngtcp2_tstamp reconnect_at;
	ngtcp2_duration last_rtt; /* the last connection's smoothed RTT */

	/* The current connection. */
	int fd;
	struct sockaddr_storage local, remote;
	ngtcp2_path path;
	ngtcp2_conn *conn;
	nghttp3_conn *h3;
	gnutls_session_t tls;
	ngtcp2_crypto_conn_ref ref;
	ngtcp2_ccerr ccerr;     /* what we close it with */
	bool handshake_done, goaway, dead, silent, send_blocked, reset;
	int64_t goaway_id;
	char why[200];          /* why it died: the error of the requests it takes along */

	uint8_t *rxbuf, *txbuf;
	struct mmsghdr rxmsg[RX_VLEN];
	struct iovec rxiov[RX_VLEN];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} rxctl[RX_VLEN];
};

static ngtcp2_tstamp now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ngtcp2_tstamp)ts.tv_sec * NGTCP2_SECONDS + (ngtcp2_tstamp)ts.tv_nsec;
}

/* -V: ngtcp2's own log, one line per call. */
__attribute__((format(printf, 2, 3)))
static void trace(void *user, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The first reason wins: later failures are consequences of it. */
__attribute__((format(printf, 3, 4)))
static void conn_fail(struct qclient *q, bool silent, const char *fmt, ...)
{
	va_list ap;

	if (q->dead)
		return;
	q->dead = true;
	q->silent = silent;
	va_start(ap, fmt);
	vsnprintf(q->why, sizeof(q->why), fmt, ap);
	va_end(ap);
}

/* An HTTP/3 error: the connection is closed with nghttp3's error code. */
static void conn_fail_h3(struct qclient *q, const char *what, int rv)
{
	ngtcp2_ccerr_set_application_error(&q->ccerr, nghttp3_err_infer_quic_app_error_code(rv),
					   NULL, 0);
	conn_fail(q, false, "%s: %s", what, nghttp3_strerror(rv));
}

/* An ngtcp2 error, unless a callback that failed has said why already. */
static void conn_fail_lib(struct qclient *q, const char *what, int rv)
{
	if (q->dead)
		return;
	ngtcp2_ccerr_set_liberr(&q->ccerr, rv, NULL, 0);
	conn_fail(q, false, "%s: %s", what, ngtcp2_strerror(rv));
}

/* Slots. */

static void slot_set(struct slot *s, enum slot_state st)
{
	s->q->nqueued += (st == SLOT_QUEUED) - (s->state == SLOT_QUEUED);
	s->q->nopen += (st == SLOT_OPEN) - (s->state == SLOT_OPEN);
	s->state = st;
}

static void slot_begin(struct slot *s)
{
	s->sid = -1;
	s->bytes = 0;
	s->status = 0;
	s->refused = 0;
	s->body_failed = false;
	slot_set(s, h3l_begin(s->q->cl, &s->started_us) ? SLOT_QUEUED : SLOT_IDLE);
}

/* The request ended (error NULL: a whole response came); the slot goes on. */
static void slot_end(struct slot *s, const char *error, bool timeout)
{
	h3l_done(s->q->cl, s->started_us, s->status, s->bytes, error, timeout);
	slot_begin(s);
}

/* The server never processed it: send it again, keeping its start time. */
static void slot_retry(struct slot *s, const char *why)
{
	if (++s->refused > MAX_REFUSED) {
		slot_end(s, why, false);
		return;
	}
	s->sid = -1;
	s->bytes = 0;
	s->status = 0;
	slot_set(s, SLOT_QUEUED);
}

/* Later callbacks for the slot's stream find no slot and change nothing. */
static void stream_forget(struct qclient *q, struct slot *s)
{
	if (q->h3 && s->sid >= 0)
		nghttp3_conn_set_stream_user_data(q->h3, s->sid, NULL);
}

/* A stream the slot gives up on (its deadline, a GOAWAY below it). */
static void stream_cancel(struct qclient *q, struct slot *s)
{
	stream_forget(q, s);
	if (q->dead)
		return;
	if (q->h3)
		nghttp3_conn_shutdown_stream_read(q->h3, s->sid);
	ngtcp2_conn_shutdown_stream(q->conn, 0, s->sid, NGHTTP3_H3_REQUEST_CANCELLED);
}

/* nghttp3's callbacks: the responses. */

static int on_h3_header(nghttp3_conn *h3, int64_t sid, int32_t token, nghttp3_rcbuf *name,
			nghttp3_rcbuf *value, uint8_t flags, void *user, void *stream_user)
{
	struct slot *s = stream_user;
	nghttp3_vec v;

	if (!s || token != NGHTTP3_QPACK_TOKEN__STATUS)
		return 0;
	v = nghttp3_rcbuf_get_buf(value);
	s->status = 0;
	for (size_t i = 0; i < v.len && i < 3 && v.base[i] >= '0' && v.base[i] <= '9'; i++)
		s->status = s->status * 10 + (v.base[i] - '0');
	return 0;
}

/* Body bytes are consumed at once, so the server gets the credit back at once. */
static void consumed(struct qclient *q, int64_t sid, size_t n)
{
	ngtcp2_conn_extend_max_stream_offset(q->conn, sid, n);
	ngtcp2_conn_extend_max_offset(q->conn, n);
}

static int on_h3_data(nghttp3_conn *h3, int64_t sid, const uint8_t *data, size_t len,
		      void *user, void *stream_user)
{
	struct slot *s = stream_user;

	consumed(user, sid, len);
	if (s) {
		s->bytes += len;
		if (h3l_body(s->q->cl, data, len) != 0)
			s->body_failed = true;
	}
	return 0;
}

static int on_h3_deferred_consume(nghttp3_conn *h3, int64_t sid, size_t n, void *user,
				  void *stream_user)
{
	consumed(user, sid, n);
	return 0;
}

/* The response is complete: account for it now, not when QUIC closes the stream. */
static int on_h3_end_stream(nghttp3_conn *h3, int64_t sid, void *user, void *stream_user)
{
	struct slot *s = stream_user;

	if (!s)
		return 0;
	stream_forget(user, s);
	slot_end(s, s->body_failed ? "writing the body (-o) failed" : NULL, false);
	return 0;
}

/* A request stream closed before its response ended: reset by the server. */
static int on_h3_stream_close(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user,
			      void *stream_user)
{
	struct qclient *q = user;
	struct slot *s = stream_user;
	char what[96];

	if (!ngtcp2_is_bidi_stream(sid)) {
		ngtcp2_conn_extend_max_streams_uni(q->conn, 1);
		return 0;
	}
	if (!s)
		return 0;
	if (code == NGHTTP3_H3_REQUEST_REJECTED && !s->status) {
		slot_retry(s, "request rejected by the server, again and again");
		return 0;
	}
	snprintf(what, sizeof(what), "stream closed by the server (HTTP/3 error 0x%" PRIx64 ")",
		 code);
	slot_end(s, what, false);
	return 0;
}

static int on_h3_stop_sending(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user,
			      void *stream_user)
{
	struct qclient *q = user;

	ngtcp2_conn_shutdown_stream_read(q->conn, 0, sid, code);
	return 0;
}

static int on_h3_reset_stream(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user,
			      void *stream_user)
{
	struct qclient *q = user;

	ngtcp2_conn_shutdown_stream_write(q->conn, 0, sid, code);
	return 0;
}

/* GOAWAY: acted on in the loop, not inside ngtcp2's read. */
static int on_h3_goaway(nghttp3_conn *h3, int64_t id, void *user)
{
	struct qclient *q = user;

	q->goaway = true;
	q->goaway_id = id;
	return 0;
}

static const nghttp3_callbacks h3_callbacks = {
	.stream_close = on_h3_stream_close,
	.recv_data = on_h3_data,
	.deferred_consume = on_h3_deferred_consume,
	.recv_header = on_h3_header,
	.stop_sending = on_h3_stop_sending,
	.end_stream = on_h3_end_stream,
	.reset_stream = on_h3_reset_stream,
	.shutdown = on_h3_goaway,
};

/* The HTTP/3 layer: control and QPACK streams, once the handshake is done. */
static int h3_open(struct qclient *q)
{
	nghttp3_settings set;
	int64_t ctrl, enc, dec;
	int rv;

	if (ngtcp2_conn_get_streams_uni_left(q->conn) < 3) {
		conn_fail(q, false, "the server allows fewer than 3 unidirectional streams");
		return -1;
	}
	nghttp3_settings_default(&set);
	set.qpack_max_dtable_capacity = 4096;
	set.qpack_blocked_streams = 100;
	rv = nghttp3_conn_client_new(&q->h3, &h3_callbacks, &set, nghttp3_mem_default(), q);
	if (rv != 0) {
		conn_fail_h3(q, "nghttp3_conn_client_new", rv);
		return -1;
	}
	if (ngtcp2_conn_open_uni_stream(q->conn, &ctrl, NULL) != 0 ||
	    ngtcp2_conn_open_uni_stream(q->conn, &enc, NULL) != 0 ||
	    ngtcp2_conn_open_uni_stream(q->conn, &dec, NULL) != 0) {
		conn_fail(q, false, "cannot open the HTTP/3 control streams");
		return -1;
	}
	if ((rv = nghttp3_conn_bind_control_stream(q->h3, ctrl)) != 0 ||
	    (rv = nghttp3_conn_bind_qpack_streams(q->h3, enc, dec)) != 0) {
		conn_fail_h3(q, "binding the HTTP/3 control streams", rv);
		return -1;
	}
	return 0;
}

/* ngtcp2's callbacks: QUIC stream events go to nghttp3. */

static int on_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t offset,
			  const uint8_t *data, size_t len, void *user, void *stream_user)
{
	struct qclient *q = user;
	nghttp3_ssize n;

	if (!q->h3)
		return 0;
	n = nghttp3_conn_read_stream(q->h3, sid, data, len, flags & NGTCP2_STREAM_DATA_FLAG_FIN);
	if (n < 0) {
		conn_fail_h3(q, "HTTP/3", (int)n);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	/* nghttp3 counts DATA payload apart (on_h3_data): this is the framing. */
	consumed(q, sid, (size_t)n);
	return 0;
}

static int on_acked(ngtcp2_conn *conn, int64_t sid, uint64_t offset, uint64_t len, void *user,
		    void *stream_user)
{
	struct qclient *q = user;
	int rv = q->h3 ? nghttp3_conn_add_ack_offset(q->h3, sid, len) : 0;

	if (rv != 0) {
		conn_fail_h3(q, "nghttp3_conn_add_ack_offset", rv);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int on_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t code,
			   void *user, void *stream_user)
{
	struct qclient *q = user;
	int rv;

	if (!q->h3)
		return 0;
	if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
		code = NGHTTP3_H3_NO_ERROR;
	rv = nghttp3_conn_close_stream(q->h3, sid, code);
	if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
		/* A server stream nghttp3 never saw data on still used up a slot. */
		if (!ngtcp2_is_bidi_stream(sid))
			ngtcp2_conn_extend_max_streams_uni(conn, 1);
		return 0;
	}
	if (rv != 0) {
		conn_fail_h3(q, "nghttp3_conn_close_stream", rv);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int on_stream_reset(ngtcp2_conn *conn, int64_t sid, uint64_t final_size, uint64_t code,
			   void *user, void *stream_user)
{
	struct qclient *q = user;

	if (q->h3)
		nghttp3_conn_shutdown_stream_read(q->h3, sid);
	return 0;
}

static int on_extend_stream_data(ngtcp2_conn *conn, int64_t sid, uint64_t max_data, void *user,
				 void *stream_user)
{
	struct qclient *q = user;
	int rv = q->h3 ? nghttp3_conn_unblock_stream(q->h3, sid) : 0;

	if (rv != 0) {
		conn_fail_h3(q, "nghttp3_conn_unblock_stream", rv);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static void on_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}

/* Our spare connection IDs. The reset token is random: this client never sends resets. */
static int on_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
		      void *user)
{
	if (gnutls_rnd(GNUTLS_RND_NONCE, cid->data, cidlen) != 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	return 0;
}

static int on_handshake_done(ngtcp2_conn *conn, void *user)
{
	struct qclient *q = user;

	q->handshake_done = true;
	q->addr_failures = 0;
	h3l_connected(q->cl);
	return h3_open(q) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

/* Told apart from a CONNECTION_CLOSE only for the error message. */
static int on_stateless_reset(ngtcp2_conn *conn, const ngtcp2_pkt_stateless_reset *sr,
			      void *user)
{
	struct qclient *q = user;

	q->reset = true;
	return 0;
}

static const ngtcp2_callbacks quic_callbacks = {
	.client_initial = ngtcp2_crypto_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = on_handshake_done,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = on_stream_data,
	.acked_stream_data_offset = on_acked,
	.stream_close = on_stream_close,
	.recv_stateless_reset = on_stateless_reset,
	.recv_retry = ngtcp2_crypto_recv_retry_cb,
	.rand = on_rand,
	.get_new_connection_id = on_new_cid,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = on_stream_reset,
	.extend_max_stream_data = on_extend_stream_data,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

/* Opening a connection. */

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct qclient *q = ref->user_data;

	return q->conn;
}

/* A fresh socket per connection: late packets of the last one cannot reach this one. */
static int sock_open(struct qclient *q)
{
	int one = 1, size = 4 << 20, pmtu = IP_PMTUDISC_DO, pmtu6 = IPV6_PMTUDISC_DO;
	socklen_t len = sizeof(q->local), rlen = q->addrlens[q->addr];
	bool v4;

	memcpy(&q->remote, &q->addrs[q->addr], rlen);
	v4 = q->remote.ss_family == AF_INET;
	q->fd = socket(q->remote.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return -1;
	/* Best effort, each: a burst of responses should not overflow the socket,
	 * GRO saves a read per datagram, DF keeps ngtcp2's MTU probes honest. */
	setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(q->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(q->fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	if (v4)
		setsockopt(q->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
	else
		setsockopt(q->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu6, sizeof(pmtu6));
	if (connect(q->fd, (struct sockaddr *)&q->remote, rlen) != 0 ||
	    getsockname(q->fd, (struct sockaddr *)&q->local, &len) != 0)
		return -1;
	q->path = (ngtcp2_path){
		.local = { (struct sockaddr *)&q->local, len },
		.remote = { (struct sockaddr *)&q->remote, rlen },
	};
	return 0;
}

static int tls_open(struct qclient *q)
{
	static unsigned char h3_alpn[] = "h3";
	const gnutls_datum_t alpn = { h3_alpn, 2 };
	const char *host = q->opt->host;

	if (gnutls_init(&q->tls, GNUTLS_CLIENT) != 0) {
		q->tls = NULL;
		return -1;
	}
	if (gnutls_priority_set(q->tls, q->prio) != 0 ||
	    ngtcp2_crypto_gnutls_configure_client_session(q->tls) != 0 ||
	    gnutls_credentials_set(q->tls, GNUTLS_CRD_CERTIFICATE, q->cred) != 0 ||
	    gnutls_alpn_set_protocols(q->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY) != 0 ||
	    (q->sni && gnutls_server_name_set(q->tls, GNUTLS_NAME_DNS, host, strlen(host)) != 0))
		return -1;
	q->ref = (ngtcp2_crypto_conn_ref){ get_conn, q };
	gnutls_session_set_ptr(q->tls, &q->ref);
	ngtcp2_conn_set_tls_native_handle(q->conn, q->tls);
	return 0;
}

static void random_cid(ngtcp2_cid *cid, size_t len)
{
	gnutls_rnd(GNUTLS_RND_NONCE, cid->data, len);
	cid->datalen = len;
}

static int conn_open(struct qclient *q)
{
	ngtcp2_settings set;
	ngtcp2_transport_params params;
	ngtcp2_cid dcid, scid;

	q->handshake_done = q->goaway = q->dead = q->silent = q->send_blocked = q->reset = false;
	q->goaway_id = INT64_MAX;
	q->why[0] = '\0';
	ngtcp2_ccerr_default(&q->ccerr);
	if (sock_open(q) != 0) {
		conn_fail(q, true, "socket: %s", strerror(errno));
		return -1;
	}
	random_cid(&dcid, 18);
	random_cid(&scid, 17);
	ngtcp2_settings_default(&set);
	set.initial_ts = now_ns();
	/* RFC 9002 6.2.2: the RTT of the last connection, not the 333 ms
	 * default, so that an Initial lost (a server reload drops some) is
	 * resent after a few ms, not after a second. */
	if (q->last_rtt)
		set.initial_rtt = q->last_rtt > MIN_INITIAL_RTT ? q->last_rtt : MIN_INITIAL_RTT;
	set.handshake_timeout = (ngtcp2_duration)q->opt->timeout_ms * NGTCP2_MILLISECONDS;
	set.max_window = 4 * (uint64_t)CONN_WINDOW;
	set.max_stream_window = 4 * (uint64_t)STREAM_WINDOW;
	if (q->opt->trace)
		set.log_printf = trace;
	ngtcp2_transport_params_default(&params);
	params.initial_max_data = CONN_WINDOW;
	params.initial_max_stream_data_bidi_local = STREAM_WINDOW;
	params.initial_max_stream_data_uni = STREAM_WINDOW;
	params.initial_max_streams_uni = 100;
	/* A connection that hears nothing for -T is dead (its requests timed out
	 * anyway): the next one may fare better, e.g. during a server reload. */
	params.max_idle_timeout = (ngtcp2_duration)q->opt->timeout_ms * NGTCP2_MILLISECONDS;
	if (ngtcp2_conn_client_new(&q->conn, &dcid, &scid, &q->path, NGTCP2_PROTO_VER_V1,
				   &quic_callbacks, &set, &params, NULL, q) != 0) {
		q->conn = NULL;
		conn_fail(q, true, "ngtcp2_conn_client_new failed");
		return -1;
	}
	if (tls_open(q) != 0) {
		conn_fail(q, true, "GnuTLS session setup failed");
		return -1;
	}
	return 0;
}

/* Sending. */

/* EAGAIN drops the rest, which QUIC sees as loss and resends; we wait for POLLOUT. */
static void send_error(struct qclient *q)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		q->send_blocked = true;
	else if (errno == ECONNREFUSED)
		conn_fail(q, true, "connection refused");
	else if (errno != EMSGSIZE && errno != EINTR) /* EMSGSIZE: an MTU probe too big */
		conn_fail(q, true, "send: %s", strerror(errno));
}

/* Packets of seg bytes (the last may be shorter) in one GSO sendmsg if we can. */
static void pkts_send(struct qclient *q, const uint8_t *data, size_t len, size_t seg)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)data, len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	uint16_t size = (uint16_t)seg;

	if (len > seg && q->gso) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(size));
		memcpy(CMSG_DATA(c), &size, sizeof(size));
		if (sendmsg(q->fd, &msg, 0) >= 0)
			return;
		if (errno != EIO) {
			send_error(q);
			return;
		}
		q->gso = false; /* no GSO on this path: one datagram at a time from now on */
	}
	for (size_t off = 0; off < len; off += seg) {
		size_t n = len - off < seg ? len - off : seg;

		if (send(q->fd, data + off, n, 0) < 0) {
			send_error(q);
			return;
		}
	}
}

/* One packet: request bytes nghttp3 has to send, ACKs and the rest from ngtcp2. */
static ngtcp2_ssize pkt_write(struct qclient *q, uint8_t *dst, size_t len, ngtcp2_tstamp ts)
{
	nghttp3_vec vec[16];
	ngtcp2_ssize n, ndata;
	int64_t sid;
	int fin, rv;

	for (;;) {
		nghttp3_ssize nvec = 0;
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;

		sid = -1;
		fin = 0;
		if (q->h3 && ngtcp2_conn_get_max_data_left(q->conn)) {
			nvec = nghttp3_conn_writev_stream(q->h3, &sid, &fin, vec, 16);
			if (nvec < 0) {
				conn_fail_h3(q, "nghttp3_conn_writev_stream", (int)nvec);
				return -1;
			}
		}
		if (fin)
			flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		n = ngtcp2_conn_writev_stream(q->conn, NULL, NULL, dst, len, &ndata, flags, sid,
					      (const ngtcp2_vec *)vec, (size_t)nvec, ts);
		if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
			nghttp3_conn_block_stream(q->h3, sid);
			continue;
		}
		if (n == NGTCP2_ERR_STREAM_SHUT_WR) {
			nghttp3_conn_shutdown_stream_write(q->h3, sid);
			continue;
		}
		if (n < 0 && n != NGTCP2_ERR_WRITE_MORE) {
			conn_fail_lib(q, "ngtcp2_conn_writev_stream", (int)n);
			return -1;
		}
		if (ndata >= 0 && (rv = nghttp3_conn_add_write_offset(q->h3, sid, (size_t)ndata))) {
			conn_fail_h3(q, "nghttp3_conn_add_write_offset", rv);
			return -1;
		}
		if (n != NGTCP2_ERR_WRITE_MORE) /* else the packet has room for more streams */
			return n;
	}
}

/*
 * Everything ngtcp2 will send now, in GSO trains: packets of one size, a
 * shorter one ends a train, a bigger one (an MTU probe) goes on its own.
 */
static void conn_write(struct qclient *q)
{
	ngtcp2_tstamp ts = now_ns();
	size_t max = ngtcp2_conn_get_max_tx_udp_payload_size(q->conn);
	size_t pmax = ngtcp2_conn_get_path_max_tx_udp_payload_size(q->conn);
	size_t cap = ngtcp2_conn_get_send_quantum(q->conn), used = 0, seg = 0, nseg = 0;
	ngtcp2_ssize n;

	if (q->send_blocked)
		return;
	cap = cap > TX_TRAIN_MAX ? TX_TRAIN_MAX : cap < max ? max : cap;
	while (!q->dead && !q->send_blocked) {
		n = pkt_write(q, q->txbuf + used, cap - used >= max ? max : pmax, ts);
		if (n <= 0)
			break;
		if (used && (size_t)n > seg) {
			pkts_send(q, q->txbuf, used, seg);
			pkts_send(q, q->txbuf + used, (size_t)n, (size_t)n);
			used = nseg = 0;
			continue;
		}
		if (!used)
			seg = (size_t)n;
		used += (size_t)n;
		if ((size_t)n < seg || ++nseg == TX_MAXSEGS || cap - used < pmax) {
			pkts_send(q, q->txbuf, used, seg);
			used = nseg = 0;
		}
	}
	if (used && !q->dead)
		pkts_send(q, q->txbuf, used, seg);
	ngtcp2_conn_update_pkt_tx_time(q->conn, ts);
}

/* Receiving. */

static void peer_closed(struct qclient *q)
{
	const ngtcp2_ccerr *e = ngtcp2_conn_get_ccerr(q->conn);

	if (q->reset) {
		conn_fail(q, true, "stateless reset: the server lost the connection");
		return;
	}
	conn_fail(q, true, "the server closed the connection (%s error 0x%" PRIx64 "%s%.*s)",
		  e->type == NGTCP2_CCERR_TYPE_APPLICATION ? "HTTP/3" : "QUIC", e->error_code,
		  e->reasonlen ? ": " : "", (int)e->reasonlen, (const char *)e->reason);
}

static void read_error(struct qclient *q, int rv)
{
	switch (rv) {
	case NGTCP2_ERR_DRAINING:
		peer_closed(q);
		break;
	case NGTCP2_ERR_DROP_CONN:
	case NGTCP2_ERR_CLOSING:
	case NGTCP2_ERR_RECV_VERSION_NEGOTIATION:
		conn_fail(q, true, "%s", ngtcp2_strerror(rv));
		break;
	case NGTCP2_ERR_CRYPTO:
		ngtcp2_ccerr_set_tls_alert(&q->ccerr, ngtcp2_conn_get_tls_alert(q->conn), NULL, 0);
		conn_fail(q, false, "TLS handshake failed (alert %u)",
			  ngtcp2_conn_get_tls_alert(q->conn));
		break;
	default:
		conn_fail_lib(q, "ngtcp2_conn_read_pkt", rv);
	}
}

/* The segment size of a GRO train, 0 for a single datagram. */
static size_t gro_size(struct msghdr *m)
{
	int v;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	}
	return 0;
}

static int datagrams_read(struct qclient *q, struct mmsghdr *mm, ngtcp2_tstamp ts)
{
	const uint8_t *p = mm->msg_hdr.msg_iov->iov_base;
	size_t left = mm->msg_len, seg = gro_size(&mm->msg_hdr);
	ngtcp2_pkt_info pi = { 0 };
	int n = 0, rv;

	if (!seg)
		seg = left;
	while (left && !q->dead) {
		size_t len = left < seg ? left : seg;

		rv = ngtcp2_conn_read_pkt(q->conn, &q->path, &pi, p, len, ts);
		if (rv != 0)
			read_error(q, rv);
		p += len;
		left -= len;
		n++;
	}
	return n;
}

/* What arrived, up to RX_BUDGET datagrams. */
static void conn_read(struct qclient *q)
{
	int total = 0, n;

	while (!q->dead && total < RX_BUDGET) {
		for (int i = 0; i < RX_VLEN; i++)
			q->rxmsg[i].msg_hdr.msg_controllen = sizeof(q->rxctl[i].buf);
		n = recvmmsg(q->fd, q->rxmsg, RX_VLEN, 0, NULL);
		if (n < 0) {
			if (errno == ECONNREFUSED)
				conn_fail(q, true, "connection refused");
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				conn_fail(q, true, "receive: %s", strerror(errno));
			if (errno != EINTR)
				return;
			continue;
		}
		ngtcp2_tstamp ts = now_ns();
		for (int i = 0; i < n && !q->dead; i++)
			total += datagrams_read(q, &q->rxmsg[i], ts);
		if (n < RX_VLEN)
			return;
	}
}

/* Timers and the loop. */

static void conn_expire(struct qclient *q)
{
	ngtcp2_tstamp now = now_ns();
	int rv;

	if (ngtcp2_conn_get_expiry(q->conn) > now)
		return;
	rv = ngtcp2_conn_handle_expiry(q->conn, now);
	if (rv == NGTCP2_ERR_IDLE_CLOSE)
		conn_fail(q, true, "idle timeout");
	else if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT)
		conn_fail(q, true, "handshake timeout");
	else if (rv != 0)
		conn_fail_lib(q, "ngtcp2_conn_handle_expiry", rv);
}

/* Requests past -T count as timeouts. Returns the next deadline (µs). */
static double slots_expire(struct qclient *q)
{
	double now = h3l_now_us(), limit = (double)q->opt->timeout_ms * 1e3, next = 1e300;

	for (int i = 0; i < q->nslots; i++) {
		struct slot *s = &q->slots[i];

		if (s->state == SLOT_IDLE)
			continue;
		if (s->started_us + limit <= now) {
			if (s->state == SLOT_OPEN)
				stream_cancel(q, s);
			slot_end(s, "request timed out (-T)", true);
		}
		if (s->state != SLOT_IDLE && s->started_us + limit < next)
			next = s->started_us + limit;
	}
	return next;
}

/* After a GOAWAY, the streams at or above its id will never be processed. */
static void streams_refuse(struct qclient *q)
{
	if (!q->goaway)
		return;
	for (int i = 0; i < q->nslots; i++) {
		struct slot *s = &q->slots[i];

		if (s->state == SLOT_OPEN && s->sid >= q->goaway_id) {
			stream_cancel(q, s);
			slot_retry(s, "refused by GOAWAY, again and again");
		}
	}
}

/*
 * Queued requests onto new streams, while the server's MAX_STREAMS allows.
 * Round robin: with -m above that limit, the first slots would otherwise
 * take every stream freed and the last ones wait the whole run.
 */
static void streams_open(struct qclient *q)
{
	int64_t sid;
	int rv;

	if (!q->h3 || q->goaway)
		return;
	for (int n = 0; n < q->nslots && q->nqueued; n++) {
		int i = (q->next + n) % q->nslots;
		struct slot *s = &q->slots[i];

		if (s->state != SLOT_QUEUED)
			continue;
		if (ngtcp2_conn_open_bidi_stream(q->conn, &sid, NULL) != 0)
			return; /* blocked until the server raises MAX_STREAMS */
		rv = nghttp3_conn_submit_request(q->h3, sid, q->nv, q->nvlen, NULL, s);
		if (rv != 0) {
			conn_fail_h3(q, "nghttp3_conn_submit_request", rv);
			return;
		}
		s->sid = sid;
		slot_set(s, SLOT_OPEN);
		q->next = (i + 1) % q->nslots;
	}
}

/* CONNECTION_CLOSE, unless the server is gone already. */
static void conn_goodbye(struct qclient *q)
{
	ngtcp2_ssize n;

	if (!q->conn || q->silent || ngtcp2_conn_in_closing_period(q->conn) ||
	    ngtcp2_conn_in_draining_period(q->conn))
		return;
	if (!q->dead) /* a clean end: no more requests, or after a GOAWAY */
		ngtcp2_ccerr_set_application_error(&q->ccerr, NGHTTP3_H3_NO_ERROR, NULL, 0);
	n = ngtcp2_conn_write_connection_close(q->conn, NULL, NULL, q->txbuf,
		ngtcp2_conn_get_path_max_tx_udp_payload_size(q->conn), &q->ccerr, now_ns());
	if (n > 0)
		send(q->fd, q->txbuf, (size_t)n, 0);
}

/*
 * Whether the queued requests may wait for the next address: a name can
 * resolve to several (::1 and 127.0.0.1) and the server listen on one.
 * Once all failed in a row, they count as errors and the next try waits.
 */
static bool conn_next_addr(struct qclient *q)
{
	if (q->handshake_done)
		return false;
	q->addr = (q->addr + 1) % q->naddrs;
	if (++q->addr_failures < q->naddrs)
		return true;
	q->addr_failures = 0;
	q->reconnect_at = now_ns() + RECONNECT_DELAY;
	return false;
}

/* The requests the connection held: sent again if refused, else errors. */
static void conn_settle(struct qclient *q)
{
	const char *why = q->why[0] ? q->why : "connection closed";
	bool wait = conn_next_addr(q);

	for (int i = 0; i < q->nslots; i++) {
		struct slot *s = &q->slots[i];

		if (s->state == SLOT_OPEN && q->goaway && s->sid >= q->goaway_id)
			slot_retry(s, "refused by GOAWAY, again and again");
		else if (s->state == SLOT_OPEN ||
			 (s->state == SLOT_QUEUED && !q->handshake_done && !wait))
			slot_end(s, why, false);
	}
}

static void conn_close(struct qclient *q)
{
	ngtcp2_conn_info ci;

	if (q->conn && q->handshake_done) {
		ngtcp2_conn_get_conn_info(q->conn, &ci);
		q->last_rtt = ci.smoothed_rtt;
	}
	conn_goodbye(q);
	conn_settle(q);
	if (q->h3)
		nghttp3_conn_del(q->h3);
	if (q->conn)
		ngtcp2_conn_del(q->conn);
	if (q->tls)
		gnutls_deinit(q->tls);
	if (q->fd >= 0)
		close(q->fd);
	q->h3 = NULL;
	q->conn = NULL;
	q->tls = NULL;
	q->fd = -1;
}

/* Until ngtcp2's next timer or the next request deadline, or a datagram. */
static void conn_wait(struct qclient *q, double deadline_us)
{
	ngtcp2_tstamp now = now_ns(), until = ngtcp2_conn_get_expiry(q->conn);
	ngtcp2_tstamp dl = deadline_us < 1e15 ? (ngtcp2_tstamp)(deadline_us * 1e3) : UINT64_MAX;
	struct pollfd p = { q->fd, (short)(POLLIN | (q->send_blocked ? POLLOUT : 0)), 0 };
	struct timespec ts;

	if (q->send_blocked) /* ngtcp2's timers want to send: first the socket must drain */
		until = dl;
	else if (dl < until)
		until = dl;
	if (until <= now)
		return;
	if (until - now > NGTCP2_SECONDS)
		until = now + NGTCP2_SECONDS;
	ts.tv_sec = (time_t)((until - now) / NGTCP2_SECONDS);
	ts.tv_nsec = (long)((until - now) % NGTCP2_SECONDS);
	if (ppoll(&p, 1, &ts, NULL) > 0 && (p.revents & POLLOUT))
		q->send_blocked = false;
}

static void backoff(struct qclient *q)
{
	ngtcp2_tstamp now = now_ns();
	struct timespec ts;

	if (q->reconnect_at <= now)
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(q->reconnect_at - now);
	nanosleep(&ts, NULL);
}

static void client_loop(struct qclient *q)
{
	double deadline;

	for (;;) {
		if (!q->conn) {
			if (!q->nqueued)
				return;
			backoff(q);
			if (conn_open(q) != 0) {
				conn_close(q);
				continue;
			}
		}
		if (!q->dead)
			conn_expire(q);
		deadline = slots_expire(q);
		if (!q->dead) {
			streams_refuse(q);
			streams_open(q);
			conn_write(q);
		}
		if (q->dead || (!q->nopen && (q->goaway || !q->nqueued))) {
			conn_close(q);
			continue;
		}
		conn_wait(q, deadline);
		conn_read(q);
	}
}

/* Setting a thread up. */

static int resolve(struct qclient *q)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *res;
	int rv = getaddrinfo(q->opt->host, q->opt->port, &hints, &res);

	if (rv != 0) {
		snprintf(q->cl->first_error, sizeof(q->cl->first_error), "%s: %s", q->opt->host,
			 gai_strerror(rv));
		return -1;
	}
	for (struct addrinfo *ai = res; ai && q->naddrs < MAX_ADDRS; ai = ai->ai_next) {
		memcpy(&q->addrs[q->naddrs], ai->ai_addr, ai->ai_addrlen);
		q->addrlens[q->naddrs++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return 0;
}

static void nv_add(struct qclient *q, const char *name, size_t nlen, const char *value,
		   size_t vlen)
{
	if (q->nvlen == MAX_HEADERS)
		return;
	q->nv[q->nvlen++] = (nghttp3_nv){
		(const uint8_t *)name, (const uint8_t *)value, nlen, vlen,
		NGHTTP3_NV_FLAG_NO_COPY_NAME | NGHTTP3_NV_FLAG_NO_COPY_VALUE,
	};
}

/* The request, built once: names and values outlive every connection. */
static void headers_build(struct qclient *q)
{
	const struct h3l_options *o = q->opt;
	size_t used = 0;

	nv_add(q, ":method", 7, "GET", 3);
	nv_add(q, ":scheme", 7, "https", 5);
	nv_add(q, ":authority", 10, o->authority, strlen(o->authority));
	nv_add(q, ":path", 5, o->path, strlen(o->path));
	nv_add(q, "user-agent", 10, "h3load", 6);
	for (const struct curl_slist *h = o->headers; h; h = h->next) {
		const char *colon = strchr(h->data, ':'), *v;
		size_t nlen = colon ? (size_t)(colon - h->data) : 0;

		if (!nlen || used + nlen > sizeof(q->names))
			continue;
		for (size_t i = 0; i < nlen; i++) /* HTTP/3 field names are lower case */
			q->names[used + i] = (char)tolower((unsigned char)h->data[i]);
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		nv_add(q, q->names + used, nlen, v, strlen(v));
		used += nlen;
	}
}

static int client_init(struct qclient *q, struct h3l_client *cl)
{
	struct in6_addr a6;

	q->cl = cl;
	q->opt = cl->opt;
	q->fd = -1;
	q->gso = true;
	q->nslots = cl->opt->streams;
	if (resolve(q) != 0)
		return -1;
	/* SNI names a host; RFC 6066 forbids it for an address literal. */
	q->sni = inet_pton(AF_INET, q->opt->host, &a6) != 1 &&
		 inet_pton(AF_INET6, q->opt->host, &a6) != 1;
	q->slots = calloc((size_t)q->nslots, sizeof(*q->slots));
	q->rxbuf = malloc((size_t)RX_VLEN * RX_BUFLEN);
	q->txbuf = malloc(TX_TRAIN_MAX);
	if (!q->slots || !q->rxbuf || !q->txbuf ||
	    gnutls_certificate_allocate_credentials(&q->cred) != 0 ||
	    gnutls_priority_init(&q->prio, tls_priority, NULL) != 0) {
		snprintf(cl->first_error, sizeof(cl->first_error), "out of memory or TLS setup failed");
		return -1;
	}
	for (int i = 0; i < RX_VLEN; i++) {
		q->rxiov[i] = (struct iovec){ q->rxbuf + (size_t)i * RX_BUFLEN, RX_BUFLEN };
		q->rxmsg[i].msg_hdr = (struct msghdr){
			.msg_iov = &q->rxiov[i], .msg_iovlen = 1, .msg_control = q->rxctl[i].buf,
		};
	}
	headers_build(q);
	for (int i = 0; i < q->nslots; i++) {
		q->slots[i].q = q;
		slot_begin(&q->slots[i]);
	}
	return 0;
}

static void client_deinit(struct qclient *q)
{
	if (q->prio)
		gnutls_priority_deinit(q->prio);
	if (q->cred)
		gnutls_certificate_free_credentials(q->cred);
	free(q->slots);
	free(q->rxbuf);
	free(q->txbuf);
}

static void *ngtcp2_run(void *arg)
{
	struct h3l_client *cl = arg;
	struct qclient *q = calloc(1, sizeof(*q));

	if (!q) {
		snprintf(cl->first_error, sizeof(cl->first_error), "out of memory");
		return NULL;
	}
	if (client_init(q, cl) == 0)
		client_loop(q);
	client_deinit(q);
	free(q);
	return NULL;
}

const struct h3l_engine h3l_engine_ngtcp2 = { "ngtcp2", ngtcp2_run };
