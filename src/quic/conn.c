/* SPDX-License-Identifier: MIT */
/* conn.c - one QUIC connection on ngtcp2: creation, callbacks, the write loop, timers, closing. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include "core/log.h"
#include "http/context.h"
#include "quic/quic_impl.h"

#define MAX_WINDOW (6 << 20)            /* flow-control auto-tuning ceiling */
#define STREAM_WINDOW (256 << 10)       /* initial per-stream receive window */
#define CONN_WINDOW (1 << 20)           /* initial connection receive window */
#define HANDSHAKE_TIMEOUT (10 * NGTCP2_SECONDS)
#define CLOSE_GRACE_MS 500              /* quiet wanted between the last stream and the close */

static void start_close(struct quic_conn *qc, const ngtcp2_ccerr *ccerr);
static void arm_timer(struct quic_conn *qc);

/* ---- ngtcp2 callbacks ---- */

static int on_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t offset,
			       const uint8_t *data, size_t datalen, void *user_data,
			       void *stream_user_data)
{
	struct quic_conn *qc = user_data;
	nghttp3_ssize n;

	(void)offset;
	(void)stream_user_data;
	if (!qc->h3)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	n = nghttp3_conn_read_stream(qc->h3, sid, data, datalen, flags & NGTCP2_STREAM_DATA_FLAG_FIN);
	if (n < 0) {
		qc->h3_error = (int)n;
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	/* What nghttp3 consumed itself; request body bytes are credited as they are taken. */
	ngtcp2_conn_extend_max_stream_offset(conn, sid, (uint64_t)n);
	ngtcp2_conn_extend_max_offset(conn, (uint64_t)n);
	return 0;
}

static int on_acked_stream_data_offset(ngtcp2_conn *conn, int64_t sid, uint64_t offset,
				       uint64_t datalen, void *user_data, void *stream_user_data)
{
	struct quic_conn *qc = user_data;
	int rv;

	(void)conn;
	(void)offset;
	(void)stream_user_data;
	if (!qc->h3)
		return 0;
	rv = nghttp3_conn_add_ack_offset(qc->h3, sid, datalen);
	if (rv != 0) {
		qc->h3_error = rv;
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int on_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t sid, uint64_t code,
			   void *user_data, void *stream_user_data)
{
	struct quic_conn *qc = user_data;
	int rv;

	(void)stream_user_data;
	if (!qc->h3)
		return 0;
	if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
		code = NGHTTP3_H3_NO_ERROR;
	rv = nghttp3_conn_close_stream(qc->h3, sid, code);
	if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
		/* nghttp3 never saw it (reset before any header): give the credit back here. */
		if (!ngtcp2_conn_is_local_stream(conn, sid) && ngtcp2_is_bidi_stream(sid))
			ngtcp2_conn_extend_max_streams_bidi(conn, 1);
	} else if (rv != 0) {
		qc->h3_error = rv;
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int on_stream_reset(ngtcp2_conn *conn, int64_t sid, uint64_t final_size, uint64_t code,
			   void *user_data, void *stream_user_data)
{
	struct quic_conn *qc = user_data;

	(void)conn;
	(void)final_size;
	(void)code;
	(void)stream_user_data;
	if (qc->h3 && nghttp3_conn_shutdown_stream_read(qc->h3, sid) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_stream_stop_sending(ngtcp2_conn *conn, int64_t sid, uint64_t code,
				  void *user_data, void *stream_user_data)
{
	return on_stream_reset(conn, sid, 0, code, user_data, stream_user_data);
}

static int on_extend_max_remote_streams_bidi(ngtcp2_conn *conn, uint64_t max, void *user_data)
{
	struct quic_conn *qc = user_data;

	(void)conn;
	if (qc->h3)
		nghttp3_conn_set_max_client_streams_bidi(qc->h3, max);
	return 0;
}

static int on_extend_max_stream_data(ngtcp2_conn *conn, int64_t sid, uint64_t max,
				     void *user_data, void *stream_user_data)
{
	struct quic_conn *qc = user_data;

	(void)conn;
	(void)max;
	(void)stream_user_data;
	if (qc->h3 && nghttp3_conn_unblock_stream(qc->h3, sid) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static void on_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	sw_quic_rand(dest, len);
}

static int on_get_new_connection_id(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token,
				    size_t cidlen, void *user_data)
{
	struct quic_conn *qc = user_data;

	(void)conn;
	(void)cidlen;   /* always QUIC_SCID_LEN: the length of our first SCID */
	do
		sw_quic_cid_new(qc->ep, cid);
	while (sw_quic_cid_add(qc->ep, cid, qc) != SW_OK);
	if (ngtcp2_crypto_generate_stateless_reset_token(token, sw_quic_secrets.statics,
							 QUIC_SECRET_LEN, cid) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_remove_connection_id(ngtcp2_conn *conn, const ngtcp2_cid *cid, void *user_data)
{
	struct quic_conn *qc = user_data;

	(void)conn;
	sw_quic_cid_del(qc->ep, cid);
	return 0;
}

/* A token for the client's next connection: it skips address validation then. */
static void send_new_token(struct quic_conn *qc)
{
	const ngtcp2_path *path = ngtcp2_conn_get_path(qc->conn);
	uint8_t token[NGTCP2_CRYPTO_MAX_REGULAR_TOKENLEN];
	struct timespec ts;
	ngtcp2_ssize n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = ngtcp2_crypto_generate_regular_token(token, sw_quic_secrets.statics, QUIC_SECRET_LEN,
						 path->remote.addr, path->remote.addrlen,
						 (uint64_t)ts.tv_sec * NGTCP2_SECONDS +
						 (uint64_t)ts.tv_nsec);
	if (n > 0)
		ngtcp2_conn_submit_new_token(qc->conn, token, (size_t)n);
}

static int on_handshake_completed(ngtcp2_conn *conn, void *user_data)
{
	struct quic_conn *qc = user_data;

	(void)conn;
	if (qc->handshaking) {
		qc->handshaking = false;
		qc->ep->handshakes--;
	}
	/* GNUTLS_NO_AUTO_SEND_TICKET: QUIC sends the ticket once the handshake is done. */
	if (gnutls_session_ticket_send(qc->tls, 1, 0) != GNUTLS_E_SUCCESS)
		sw_debug("QUIC: cannot send a session ticket");
	send_new_token(qc);
	return 0;
}

static int on_path_validation(ngtcp2_conn *conn, uint32_t flags, const ngtcp2_path *path,
			      const ngtcp2_path *old_path, ngtcp2_path_validation_result res,
			      void *user_data)
{
	struct quic_conn *qc = user_data;

	(void)conn;
	(void)path;
	(void)old_path;
	if (res == NGTCP2_PATH_VALIDATION_RESULT_SUCCESS &&
	    (flags & NGTCP2_PATH_VALIDATION_FLAG_NEW_TOKEN))
		send_new_token(qc);
	return 0;
}

/* HTTP/3 starts with the 1-RTT send key, so a response can leave in 0.5-RTT. */
static int on_recv_tx_key(ngtcp2_conn *conn, ngtcp2_encryption_level level, void *user_data)
{
	struct quic_conn *qc = user_data;

	(void)conn;
	if (level != NGTCP2_ENCRYPTION_LEVEL_1RTT || qc->h3)
		return 0;
	return sw_h3_open(qc) == SW_OK ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

static const ngtcp2_callbacks callbacks = {
	.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = on_handshake_completed,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = on_recv_stream_data,
	.acked_stream_data_offset = on_acked_stream_data_offset,
	.stream_close = on_stream_close,
	.rand = on_rand,
	.get_new_connection_id = on_get_new_connection_id,
	.remove_connection_id = on_remove_connection_id,
	.update_key = ngtcp2_crypto_update_key_cb,
	.path_validation = on_path_validation,
	.stream_reset = on_stream_reset,
	.extend_max_remote_streams_bidi = on_extend_max_remote_streams_bidi,
	.extend_max_stream_data = on_extend_max_stream_data,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.stream_stop_sending = on_stream_stop_sending,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
	.recv_tx_key = on_recv_tx_key,
};

/* ---- life cycle ---- */

static void on_timer(struct sw_timer *t);
static void on_close_timer(struct sw_timer *t);

static ngtcp2_cc_algo cc_algo(enum sw_quic_cc cc)
{
	switch (cc) {
	case SW_QUIC_CC_BBR:
		return NGTCP2_CC_ALGO_BBR;
	case SW_QUIC_CC_RENO:
		return NGTCP2_CC_ALGO_RENO;
	default:
		return NGTCP2_CC_ALGO_CUBIC;
	}
}

static void link_conn(struct quic_ep *ep, struct quic_conn *qc)
{
	qc->next = ep->conns;
	if (ep->conns)
		ep->conns->prev = qc;
	ep->conns = qc;
	ep->nconns++;
	ep->handshakes++;
	qc->handshaking = true;
	sw_stat_add(&ep->ctx->stats->connections_open, 1);
	sw_stat_add(&ep->ctx->stats->connections_accepted, 1);
}

static void set_peer(struct quic_conn *qc, const struct sockaddr *sa, socklen_t len)
{
	qc->peer_len = SW_MIN(len, (socklen_t)sizeof(qc->peer));
	memcpy(&qc->peer, sa, qc->peer_len);
}

struct quic_conn *sw_quic_conn_new(struct quic_ep *ep, struct quic_sock *sock,
				   const struct quic_path *p, const ngtcp2_pkt_hd *hd,
				   const ngtcp2_cid *odcid, ngtcp2_token_type token_type)
{
	const struct sw_quic_cfg *qcfg = sw_quic_config(ep->ctx->cfg);
	struct quic_conn *qc = sw_calloc(1, sizeof(*qc));
	ngtcp2_path path = {
		.local = { (ngtcp2_sockaddr *)&p->local, p->local_len },
		.remote = { (ngtcp2_sockaddr *)&p->remote, p->remote_len },
		.user_data = sock,
	};
	ngtcp2_settings settings;
	ngtcp2_transport_params params;
	ngtcp2_cid scid;
	int rv;

	qc->ep = ep;
	qc->sock = sock;
	sock->conns++;
	sw_timer_init(&qc->timer, on_timer, qc);
	sw_timer_init(&qc->close_timer, on_close_timer, qc);
	set_peer(qc, (const struct sockaddr *)&p->remote, p->remote_len);
	link_conn(ep, qc);
	sw_quic_cid_new(ep, &scid);

	ngtcp2_settings_default(&settings);
	settings.initial_ts = sw_quic_now_ns();
	settings.cc_algo = cc_algo(qcfg->congestion_control);
	settings.max_window = MAX_WINDOW;
	settings.max_stream_window = MAX_WINDOW;
	settings.handshake_timeout = HANDSHAKE_TIMEOUT;
	settings.token = hd->token;
	settings.tokenlen = hd->tokenlen;
	settings.token_type = token_type;

	ngtcp2_transport_params_default(&params);
	params.initial_max_data = CONN_WINDOW;
	params.initial_max_stream_data_bidi_remote = STREAM_WINDOW;
	params.initial_max_stream_data_uni = STREAM_WINDOW;
	params.initial_max_streams_bidi = qcfg->max_streams_bidi;
	params.initial_max_streams_uni = qcfg->max_streams_uni;
	params.max_idle_timeout = (uint64_t)qcfg->max_idle_timeout_ms * NGTCP2_MILLISECONDS;
	params.grease_quic_bit = 1;
	params.stateless_reset_token_present = 1;
	if (ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token,
							 sw_quic_secrets.statics, QUIC_SECRET_LEN,
							 &scid) != 0)
		goto fail;
	if (odcid) {
		/* After our Retry: the client's first DCID, and the one our Retry gave it. */
		params.original_dcid = *odcid;
		params.retry_scid = hd->dcid;
		params.retry_scid_present = 1;
	} else {
		params.original_dcid = hd->dcid;
	}
	params.original_dcid_present = 1;

	rv = ngtcp2_conn_server_new(&qc->conn, &hd->scid, &scid, &path, hd->version, &callbacks,
				    &settings, &params, NULL, qc);
	if (rv != 0) {
		sw_warn("QUIC: cannot create a connection: %s", ngtcp2_strerror(rv));
		goto fail;
	}
	if (sw_quic_tls_session(qc) != SW_OK) {
		sw_warn("QUIC: cannot set up the TLS session");
		goto fail;
	}
	/* Retransmitted first-flight packets still name the client's DCID. */
	qc->odcid = hd->dcid;
	if (sw_quic_cid_add(ep, &qc->odcid, qc) != SW_OK)
		qc->odcid.datalen = 0;
	if (sw_quic_cid_add(ep, &scid, qc) != SW_OK)
		goto fail;
	return qc;
fail:
	sw_quic_conn_free(qc);
	return NULL;
}

void sw_quic_conn_free(struct quic_conn *qc)
{
	struct quic_ep *ep = qc->ep;
	struct quic_sock *sock = qc->sock;

	sw_h3_close_all(qc);
	if (qc->h3)
		nghttp3_conn_del(qc->h3);
	if (qc->conn) {
		size_t n = ngtcp2_conn_get_scid(qc->conn, NULL);
		ngtcp2_cid *scids = sw_calloc(n ? n : 1, sizeof(*scids));
		ngtcp2_conn_get_scid(qc->conn, scids);
		for (size_t i = 0; i < n; i++)
			sw_quic_cid_del(ep, &scids[i]);
		free(scids);
		ngtcp2_conn_del(qc->conn);
	}
	if (qc->odcid.datalen)
		sw_quic_cid_del(ep, &qc->odcid);
	/* The session points at qc->ref: it goes after ngtcp2, before qc. */
	if (qc->tls)
		gnutls_deinit(qc->tls);
	if (qc->handshaking)
		ep->handshakes--;
	sw_timer_del(ep->ctx->loop, &qc->timer);
	sw_timer_del(ep->ctx->loop, &qc->close_timer);
	sw_h3_free_streams(qc);
	sw_quic_unlist(qc);
	free(qc->close_buf);
	free(qc);
	sw_quic_conn_gone(ep, sock);
}

/* ---- closing ---- */

/* RFC 9000 10.2: keep the state three PTOs so late packets meet a close, not a reset. */
static void linger(struct quic_conn *qc)
{
	uint64_t ms = 3 * ngtcp2_conn_get_pto(qc->conn) / NGTCP2_MILLISECONDS + 1;

	sw_timer_add(qc->ep->ctx->loop, &qc->timer, ms);
}

static void start_close(struct quic_conn *qc, const ngtcp2_ccerr *ccerr)
{
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	ngtcp2_ssize n;
	size_t cap;

	if (qc->state != QC_ACTIVE)
		return;
	if (!qc->conn || ngtcp2_conn_in_closing_period(qc->conn) ||
	    ngtcp2_conn_in_draining_period(qc->conn)) {
		sw_quic_conn_free(qc);
		return;
	}
	cap = ngtcp2_conn_get_path_max_tx_udp_payload_size(qc->conn);
	qc->close_buf = sw_malloc(cap);
	ngtcp2_path_storage_zero(&ps);
	n = ngtcp2_conn_write_connection_close(qc->conn, &ps.path, &pi, qc->close_buf, cap, ccerr,
					       sw_quic_now_ns());
	if (n <= 0) {
		/* Nothing can be said yet (no keys): just forget it. */
		sw_quic_conn_free(qc);
		return;
	}
	qc->close_len = (size_t)n;
	qc->close_next = 1;
	qc->state = QC_CLOSING;
	sw_quic_send(qc->sock, &ps.path, pi.ecn, qc->close_buf, qc->close_len, qc->close_len);
	/* A draining worker has nobody to wait for. */
	if (qc->ep->draining) {
		sw_quic_conn_free(qc);
		return;
	}
	linger(qc);
}

void sw_quic_conn_close_app(struct quic_conn *qc, uint64_t code)
{
	ngtcp2_ccerr ccerr;

	ngtcp2_ccerr_default(&ccerr);
	ngtcp2_ccerr_set_application_error(&ccerr, code, NULL, 0);
	start_close(qc, &ccerr);
}

static void close_liberr(struct quic_conn *qc, int liberr)
{
	ngtcp2_ccerr ccerr;

	ngtcp2_ccerr_default(&ccerr);
	if (liberr == NGTCP2_ERR_CRYPTO)
		ngtcp2_ccerr_set_tls_alert(&ccerr, ngtcp2_conn_get_tls_alert(qc->conn), NULL, 0);
	else if (liberr == NGTCP2_ERR_CALLBACK_FAILURE && qc->h3_error)
		ngtcp2_ccerr_set_application_error(
			&ccerr, nghttp3_err_infer_quic_app_error_code(qc->h3_error), NULL, 0);
	else
		ngtcp2_ccerr_set_liberr(&ccerr, liberr, NULL, 0);
	start_close(qc, &ccerr);
}

/* ---- reading ---- */

/*
 * After GOAWAY every stream is done; the close waits until the client has
 * been quiet this long (each packet from it starts the wait again).  Its
 * last acknowledgements and its own handling of the streams' end come
 * first, and so does its reading of the GOAWAY: a busy client may have
 * begun a request before it did, and a CONNECTION_CLOSE arriving then
 * fails that request (curl does not retry it) where the client, left
 * alone, closes the connection itself or sees the request refused.  The
 * worker's drain deadline still bounds the wait.
 */
static uint64_t close_grace(struct quic_conn *qc)
{
	return SW_MAX(3 * ngtcp2_conn_get_pto(qc->conn) / NGTCP2_MILLISECONDS,
		      (uint64_t)CLOSE_GRACE_MS);
}

void sw_quic_conn_read(struct quic_conn *qc, struct quic_sock *sock, const struct quic_path *p,
		       uint8_t ecn, const uint8_t *data, size_t len)
{
	ngtcp2_path path = {
		.local = { (ngtcp2_sockaddr *)&p->local, p->local_len },
		.remote = { (ngtcp2_sockaddr *)&p->remote, p->remote_len },
		.user_data = sock,
	};
	ngtcp2_pkt_info pi = { .ecn = ecn };
	int rv;

	if (qc->state == QC_CLOSING) {
		/* Answer with the close again, less and less often. */
		if (++qc->close_rx >= qc->close_next) {
			qc->close_next *= 2;
			sw_quic_send(qc->sock, &path, 0, qc->close_buf, qc->close_len, qc->close_len);
		}
		return;
	}
	if (qc->state == QC_DRAINING)
		return;
	rv = ngtcp2_conn_read_pkt(qc->conn, &path, &pi, data, len, sw_quic_now_ns());
	if (rv != 0) {
		switch (rv) {
		case NGTCP2_ERR_DRAINING:
			/* The peer closed: say nothing more, keep the state a while. */
			qc->state = QC_DRAINING;
			if (qc->ep->draining)
				sw_quic_conn_free(qc);
			else
				linger(qc);
			return;
		case NGTCP2_ERR_DROP_CONN:
		case NGTCP2_ERR_RETRY:
			sw_quic_conn_free(qc);
			return;
		default:
			sw_debug("QUIC: closing a connection: %s", ngtcp2_strerror(rv));
			close_liberr(qc, rv);
			return;
		}
	}
	/* A migrated or rebound client: the exchange reports where it is now. */
	{
		const ngtcp2_path *cur = ngtcp2_conn_get_path(qc->conn);
		set_peer(qc, (const struct sockaddr *)cur->remote.addr, cur->remote.addrlen);
	}
	if (qc->notice_due && qc->requests)
		sw_quic_conn_goaway(qc, false);
	/* A client still talking after our GOAWAY has not read it yet: wait on. */
	if (qc->closing_soon)
		sw_timer_add(qc->ep->ctx->loop, &qc->close_timer, close_grace(qc));
	sw_quic_want_write(qc);
}

/* ---- writing ---- */

struct batch {
	ngtcp2_path_storage ps;
	uint8_t ecn;
	size_t len, seg;
	unsigned n;
};

/* SW_OK, or SW_AGAIN when the socket is full (stop producing for now). */
static int flush_batch(struct quic_conn *qc, struct batch *b, const uint8_t *buf)
{
	int rc = SW_OK;

	if (b->n)
		rc = sw_quic_send(qc->sock, &b->ps.path, b->ecn, buf, b->len, b->seg);
	b->len = b->n = 0;
	return rc == SW_AGAIN ? SW_AGAIN : SW_OK;
}

/* Hands nghttp3's next stream data to ngtcp2; returns the packet length, 0, or < 0 to stop. */
static ngtcp2_ssize write_packet(struct quic_conn *qc, ngtcp2_path_storage *ps,
				 ngtcp2_pkt_info *pi, uint8_t *dest, size_t destlen,
				 uint64_t ts)
{
	for (;;) {
		nghttp3_vec vec[16];
		nghttp3_ssize vcnt = 0;
		int64_t sid = -1;
		int fin = 0, rv;
		ngtcp2_ssize n, ndatalen = -1;
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;

		if (qc->h3 && ngtcp2_conn_get_max_data_left(qc->conn)) {
			vcnt = nghttp3_conn_writev_stream(qc->h3, &sid, &fin, vec, SW_ARRAY_SIZE(vec));
			if (vcnt < 0) {
				ngtcp2_ccerr ccerr;
				ngtcp2_ccerr_default(&ccerr);
				ngtcp2_ccerr_set_application_error(
					&ccerr, nghttp3_err_infer_quic_app_error_code((int)vcnt), NULL, 0);
				start_close(qc, &ccerr);
				return -1;
			}
		}
		if (fin)
			flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		n = ngtcp2_conn_writev_stream(qc->conn, &ps->path, pi, dest, destlen, &ndatalen, flags,
					      sid, (const ngtcp2_vec *)vec, (size_t)vcnt, ts);
		if (n < 0) {
			switch (n) {
			case NGTCP2_ERR_STREAM_DATA_BLOCKED:
				nghttp3_conn_block_stream(qc->h3, sid);
				continue;
			case NGTCP2_ERR_STREAM_SHUT_WR:
				nghttp3_conn_shutdown_stream_write(qc->h3, sid);
				continue;
			case NGTCP2_ERR_WRITE_MORE:
				rv = nghttp3_conn_add_write_offset(qc->h3, sid, (size_t)ndatalen);
				if (rv != 0) {
					qc->h3_error = rv;
					close_liberr(qc, NGTCP2_ERR_CALLBACK_FAILURE);
					return -1;
				}
				continue;
			default:
				close_liberr(qc, (int)n);
				return -1;
			}
		}
		if (ndatalen >= 0 && sid >= 0 &&
		    (rv = nghttp3_conn_add_write_offset(qc->h3, sid, (size_t)ndatalen)) != 0) {
			qc->h3_error = rv;
			close_liberr(qc, NGTCP2_ERR_CALLBACK_FAILURE);
			return -1;
		}
		return n;
	}
}

/*
 * Packets go out in GSO batches: one sendmsg carries up to 64 datagrams of
 * one path, one ECN mark and one size (the last may be shorter).  A pass
 * stops at the congestion controller's send quantum; pacing and loss
 * timers bring the connection back through its timer.
 */
void sw_quic_conn_write(struct quic_conn *qc)
{
	uint8_t *buf = qc->ep->sbuf;
	uint64_t ts = sw_quic_now_ns();
	size_t max_udp, quantum, max_pkts, npkts = 0;
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	struct batch b = { .n = 0 };
	bool more = false;

	if (qc->state != QC_ACTIVE)
		return;
	if (qc->goaway_sent && !qc->closing_soon && qc->h3 && nghttp3_conn_is_drained(qc->h3)) {
		qc->closing_soon = true;
		sw_timer_add(qc->ep->ctx->loop, &qc->close_timer, close_grace(qc));
	}
	max_udp = ngtcp2_conn_get_max_tx_udp_payload_size(qc->conn);
	quantum = ngtcp2_conn_get_send_quantum(qc->conn);
	max_pkts = SW_MIN(SW_MAX(quantum / max_udp, (size_t)1), (size_t)QUIC_MAX_SEGMENTS);
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_path_storage_zero(&b.ps);
	for (;;) {
		ngtcp2_ssize n = write_packet(qc, &ps, &pi, buf + b.len, max_udp, ts);

		if (n < 0)
			return;   /* closed */
		if (n == 0)
			break;
		/* This packet cannot join the batch: send the batch, start a new one with it. */
		if (b.n && (!ngtcp2_path_eq(&b.ps.path, &ps.path) || b.ecn != pi.ecn ||
			    (size_t)n > b.seg)) {
			size_t at = b.len;
			if (flush_batch(qc, &b, buf) == SW_AGAIN)
				goto blocked;
			memmove(buf, buf + at, (size_t)n);
		}
		if (b.n == 0) {
			ngtcp2_path_copy(&b.ps.path, &ps.path);
			b.ecn = pi.ecn;
			b.seg = (size_t)n;
		}
		b.len += (size_t)n;
		b.n++;
		npkts++;
		if ((size_t)n < b.seg || b.n == QUIC_MAX_SEGMENTS ||
		    b.len + max_udp > QUIC_MAX_DGRAM) {
			if (flush_batch(qc, &b, buf) == SW_AGAIN)
				goto blocked;
		}
		if (npkts >= max_pkts) {
			more = true;
			break;
		}
	}
	if (flush_batch(qc, &b, buf) == SW_AGAIN)
		goto blocked;
	ngtcp2_conn_update_pkt_tx_time(qc->conn, ts);
	if (more) {
		/* The quantum is spent: the rest after other connections had their turn. */
		sw_timer_add(qc->ep->ctx->loop, &qc->timer, 0);
		return;
	}
	arm_timer(qc);
	return;
blocked:
	/* The socket is full; its poll-out calls every connection on it back. */
	ngtcp2_conn_update_pkt_tx_time(qc->conn, ts);
	arm_timer(qc);
}

/* ---- timers ---- */

static void arm_timer(struct quic_conn *qc)
{
	ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(qc->conn);
	uint64_t now = sw_quic_now_ns();

	if (expiry == UINT64_MAX) {
		sw_timer_del(qc->ep->ctx->loop, &qc->timer);
		return;
	}
	sw_timer_add(qc->ep->ctx->loop, &qc->timer,
		     expiry <= now ? 0 : (expiry - now + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS);
}

static void on_timer(struct sw_timer *t)
{
	struct quic_conn *qc = t->data;
	int rv;

	if (qc->state != QC_ACTIVE) {
		sw_quic_conn_free(qc);   /* the closing or draining period is over */
		return;
	}
	rv = ngtcp2_conn_handle_expiry(qc->conn, sw_quic_now_ns());
	if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
		/* RFC 9000 10.1: an idle connection is discarded silently. */
		sw_quic_conn_free(qc);
		return;
	}
	if (rv != 0) {
		close_liberr(qc, rv);
		return;
	}
	sw_quic_conn_write(qc);
}

/* ---- graceful end ---- */

static void on_close_timer(struct sw_timer *t)
{
	sw_debug("QUIC: closing a connection after GOAWAY and the client's quiet");
	sw_quic_conn_close_app(t->data, NGHTTP3_H3_NO_ERROR);
}

/*
 * The notice waits for the connection's first request. curl (8.14) takes
 * no notice of an HTTP/3 GOAWAY: it keeps giving the connection requests,
 * which its nghttp3 then refuses to send. It retries those on a new
 * connection only when the connection had been reused; a request that
 * opened it, still unsent when the notice arrives, fails instead. Once one
 * request is in, the connection counts as reused.
 */
void sw_quic_conn_goaway(struct quic_conn *qc, bool final)
{
	if (qc->state != QC_ACTIVE)
		return;
	if (!qc->h3) {
		/* Still handshaking: nothing to finish; closed with the final step. */
		if (final)
			sw_quic_conn_close_app(qc, NGHTTP3_H3_NO_ERROR);
		return;
	}
	if (final) {
		qc->notice_due = false;
		if (!qc->goaway_sent && nghttp3_conn_shutdown(qc->h3) == 0)
			qc->goaway_sent = true;
	} else if (!qc->requests) {
		qc->notice_due = true;
		return;
	} else {
		qc->notice_due = false;
		nghttp3_conn_submit_shutdown_notice(qc->h3);
	}
	sw_quic_want_write(qc);
}
