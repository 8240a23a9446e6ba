/* SPDX-License-Identifier: MIT */
/* h3.c - HTTP/3 request streams as exchanges: what nghttp3 needs beyond the shared stream (stream.c). */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "core/log.h"
#include "http/context.h"
#include "http/client_addr.h"
#include "http/fields.h"
#include "http/stream.h"
#include "quic/quic_impl.h"

/* An HTTP/3 request stream: the shared stream (first), and QUIC's side of the response body. */
struct h3_stream {
	struct sw_stream s;
	struct quic_conn *qc;
	int64_t id;
	bool req_done;                  /* the request stream ended */
	bool blocked;                   /* read_data said WOULDBLOCK */
	uint64_t offered;               /* body bytes handed to nghttp3 */
	/* file pieces nghttp3 still points to, oldest first; freed as acked */
	char *chunks[QUIC_CHUNKS];
	size_t chunk_len[QUIC_CHUNKS];
	unsigned chunk_head, chunk_count;
	uint64_t head_acked;            /* acked bytes of the oldest piece */
};

/* ---- streams ---- */

static const struct sw_stream_class h3_class;

static void hold(void *buf)
{
	nghttp3_rcbuf_incref(buf);
}

static void release(void *buf)
{
	nghttp3_rcbuf_decref(buf);
}

static void credit(struct quic_conn *qc, int64_t sid, size_t len)
{
	ngtcp2_conn_extend_max_stream_offset(qc->conn, sid, len);
	ngtcp2_conn_extend_max_offset(qc->conn, len);
}

/*
 * Request body bytes wait for the handler, which takes them with read_body;
 * QUIC flow control is extended only then, so the stream window bounds what
 * is held.  Once answered by a handler that does not read, they are dropped.
 */

/* Body bytes the handler took: the client may send that much more. */
static void consume(struct sw_stream *s, size_t n)
{
	struct h3_stream *st = (struct h3_stream *)s;

	credit(st->qc, st->id, n);
	sw_quic_want_write(st->qc);
}

static struct h3_stream *stream_new(struct quic_conn *qc, int64_t id)
{
	const struct sw_limits_cfg *lim = &qc->ep->ctx->cfg->limits;
	struct h3_stream *st = (struct h3_stream *)sw_stream_open(
		&qc->streams, sizeof(*st), &h3_class, qc->ep->ctx->loop, lim, lim->max_header_bytes);

	qc->last_stream_ms = sw_loop_now(qc->ep->ctx->loop);
	qc->requests++;
	st->qc = qc;
	st->id = id;
	st->req_done = st->blocked = false;
	st->offered = 0;
	st->chunk_head = st->chunk_count = 0;
	st->head_acked = 0;
	return st;
}

static void release_chunks(struct h3_stream *st)
{
	while (st->chunk_count) {
		sw_quic_chunk_put(st->qc->ep, st->chunks[st->chunk_head]);
		st->chunk_head = (st->chunk_head + 1) % QUIC_CHUNKS;
		st->chunk_count--;
	}
}

/* Finishes the exchange (sent, or abandoned: logged once either way) and recycles the stream. */
static void stream_close(struct h3_stream *st)
{
	sw_stream_close(&st->s);
	release_chunks(st);
}

void sw_h3_close_all(struct quic_conn *qc)
{
	while (qc->streams.open)
		stream_close((struct h3_stream *)qc->streams.open);
}

void sw_h3_free_streams(struct quic_conn *qc)
{
	sw_stream_free_all(&qc->streams);
}

/* ---- the request head ---- */

static struct sw_str view(nghttp3_rcbuf *b)
{
	nghttp3_vec v = nghttp3_rcbuf_get_buf(b);

	return (struct sw_str){ (const char *)v.base, v.len };
}

static int on_begin_headers(nghttp3_conn *h3, int64_t sid, void *user_data, void *stream_data)
{
	struct quic_conn *qc = user_data;
	struct h3_stream *st = stream_new(qc, sid);

	(void)stream_data;
	nghttp3_conn_set_stream_user_data(h3, sid, st);
	return 0;
}

/* nghttp3 has checked the field; the limits are the shared stream's (fields.c). */
static int on_recv_header(nghttp3_conn *h3, int64_t sid, int32_t token, nghttp3_rcbuf *name,
			  nghttp3_rcbuf *value, uint8_t flags, void *user_data, void *stream_data)
{
	struct h3_stream *st = stream_data;

	(void)h3;
	(void)sid;
	(void)token;
	(void)flags;
	(void)user_data;
	if (st)
		sw_fields_take(&st->s, view(name), name, view(value), value);
	return 0;
}

/* The head is complete: route it (or refuse it).  A body still coming is read and dropped. */
static int on_end_headers(nghttp3_conn *h3, int64_t sid, int fin, void *user_data,
			  void *stream_data)
{
	struct quic_conn *qc = user_data;
	struct h3_stream *st = stream_data;
	struct sw_exchange *x;

	(void)h3;
	(void)sid;
	if (!st || st->s.begun)
		return 0;
	x = &st->s.x;
	st->req_done = fin != 0;
	x->req.has_body = !fin;
	x->ctx = qc->ep->ctx;
	x->proto = SW_PROTO_HTTP3;
	x->tls = true;
	x->peer = (const struct sockaddr *)&qc->peer;
	x->peer_len = qc->peer_len;
	sw_stream_dispatch(&st->s, 30);
	return 0;
}

/*
 * limits.min_body_rate: the client is asked to stop sending (STOP_SENDING;
 * H3_NO_ERROR as for any answer before the body's end, RFC 9114 4.1.2),
 * the handler hears -ETIMEDOUT (the proxy answers 408); logged once per
 * stream, counted with the HTTP/1.1 ones.
 */
static void slow_body(struct h3_stream *st, uint64_t rate)
{
	struct quic_conn *qc = st->qc;
	char addr[64];

	sw_addr_format((const struct sockaddr *)&qc->peer, addr, sizeof(addr));
	sw_info("slow client %s: request body at %llu bytes/s over %u ms, below "
		"limits.min_body_rate %u; ending HTTP/3 stream %lld", addr,
		(unsigned long long)rate, st->s.rate_window_ms, st->s.min_body_rate,
		(long long)st->id);
	sw_stat_add(&qc->ep->ctx->stats->slow_bodies, 1);
	ngtcp2_conn_shutdown_stream_read(qc->conn, 0, st->id, NGHTTP3_H3_NO_ERROR);
	sw_quic_want_write(qc);
}

/*
 * Request body bytes wait for the handler, which takes them with read_body;
 * QUIC flow control is extended only then, so the stream window bounds what
 * is held.  Once answered by a handler that does not read, they are dropped.
 */
static int on_recv_data(nghttp3_conn *h3, int64_t sid, const uint8_t *data, size_t len,
			void *user_data, void *stream_data)
{
	struct quic_conn *qc = user_data;
	struct h3_stream *st = stream_data;
	uint64_t rate = 0;
	enum sw_stream_body kept = st ? sw_stream_body_in(&st->s, data, len, &rate) :
					SW_STREAM_BODY_DROP;

	(void)h3;
	if (kept != SW_STREAM_BODY_KEPT)
		credit(qc, sid, len);
	if (kept == SW_STREAM_BODY_TOO_BIG)
		ngtcp2_conn_shutdown_stream(qc->conn, 0, sid, NGHTTP3_H3_REQUEST_CANCELLED);
	if (kept == SW_STREAM_BODY_SLOW)
		slow_body(st, rate);
	return 0;
}

static int on_deferred_consume(nghttp3_conn *h3, int64_t sid, size_t consumed, void *user_data,
			       void *stream_data)
{
	struct quic_conn *qc = user_data;

	(void)h3;
	(void)stream_data;
	ngtcp2_conn_extend_max_stream_offset(qc->conn, sid, consumed);
	ngtcp2_conn_extend_max_offset(qc->conn, consumed);
	return 0;
}


static int on_end_stream(nghttp3_conn *h3, int64_t sid, void *user_data, void *stream_data)
{
	struct h3_stream *st = stream_data;

	(void)h3;
	(void)sid;
	(void)user_data;
	if (!st)
		return 0;
	st->req_done = true;
	sw_stream_body_end(&st->s);
	return 0;
}

static int on_stream_close(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user_data,
			   void *stream_data)
{
	struct quic_conn *qc = user_data;
	struct h3_stream *st = stream_data;

	(void)h3;
	(void)code;
	if (st)
		stream_close(st);
	/* A request stream is done: the client may open another. */
	if (!ngtcp2_conn_is_local_stream(qc->conn, sid) && ngtcp2_is_bidi_stream(sid))
		ngtcp2_conn_extend_max_streams_bidi(qc->conn, 1);
	return 0;
}

static int on_stop_sending(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user_data,
			   void *stream_data)
{
	struct quic_conn *qc = user_data;

	(void)h3;
	(void)stream_data;
	if (ngtcp2_conn_shutdown_stream_read(qc->conn, 0, sid, code) != 0)
		return NGHTTP3_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_reset_stream(nghttp3_conn *h3, int64_t sid, uint64_t code, void *user_data,
			   void *stream_data)
{
	struct quic_conn *qc = user_data;

	(void)h3;
	(void)stream_data;
	if (ngtcp2_conn_shutdown_stream_write(qc->conn, 0, sid, code) != 0)
		return NGHTTP3_ERR_CALLBACK_FAILURE;
	return 0;
}

/* Body bytes the client has: count them, free file pieces, read more. */

static int on_acked_stream_data(nghttp3_conn *h3, int64_t sid, uint64_t len, void *user_data,
				void *stream_data)
{
	struct h3_stream *st = stream_data;

	(void)user_data;
	if (!st)
		return 0;
	st->s.x.bytes_out += len;
	st->head_acked += len;
	while (st->chunk_count && st->head_acked >= st->chunk_len[st->chunk_head]) {
		st->head_acked -= st->chunk_len[st->chunk_head];
		sw_quic_chunk_put(st->qc->ep, st->chunks[st->chunk_head]);
		st->chunk_head = (st->chunk_head + 1) % QUIC_CHUNKS;
		st->chunk_count--;
	}
	if (st->blocked) {
		st->blocked = false;
		nghttp3_conn_resume_stream(h3, sid);
	}
	return 0;
}


/* ---- the response ---- */

struct nv_list {
	struct sw_field_list f;
	nghttp3_nv v[SW_FIELDS_MAX];
};

/* nghttp3's view of the shared list; nghttp3 copies it on submit. */
static void to_nv(struct nv_list *l)
{
	for (size_t i = 0; i < l->f.n; i++)
		l->v[i] = (nghttp3_nv){ (const uint8_t *)l->f.name[i].p,
					(const uint8_t *)l->f.value[i].p, l->f.name[i].len,
					l->f.value[i].len, NGHTTP3_NV_FLAG_NONE };
}

/* A file that shrank or failed mid-response: reset this stream only. */
static nghttp3_ssize file_failed(struct h3_stream *st, ssize_t n)
{
	sw_warn("static file shrank or failed while being sent (%s); resetting HTTP/3 stream %lld",
		n < 0 ? strerror(errno) : "short read", (long long)st->id);
	ngtcp2_conn_shutdown_stream(st->qc->conn, 0, st->id, NGHTTP3_H3_INTERNAL_ERROR);
	st->blocked = true;   /* never resumed: the stream closes */
	return NGHTTP3_ERR_WOULDBLOCK;
}

/*
 * Memory bodies are handed over whole (they live until the exchange ends);
 * file bodies are read piece by piece into pooled buffers, at most
 * QUIC_CHUNKS unacknowledged pieces per stream.
 */
static nghttp3_ssize read_file_or_memory(nghttp3_conn *h3, int64_t sid, nghttp3_vec *vec,
					 size_t veccnt, uint32_t *pflags, void *user_data,
					 void *stream_data)
{
	struct h3_stream *st = stream_data;
	const struct sw_response *r = &st->s.x.resp;
	uint64_t left = r->content_length - st->offered;
	size_t n = 0;

	(void)h3;
	(void)sid;
	(void)user_data;
	if (left == 0) {
		*pflags |= NGHTTP3_DATA_FLAG_EOF;
		return 0;
	}
	if (r->body_kind == SW_BODY_MEMORY) {
		vec[0].base = (uint8_t *)(uintptr_t)(r->body.p + st->offered);
		vec[0].len = (size_t)left;
		st->offered += left;
		*pflags |= NGHTTP3_DATA_FLAG_EOF;
		return 1;
	}
	while (n < veccnt && st->chunk_count < QUIC_CHUNKS && left > 0) {
		size_t want = (size_t)SW_MIN(left, (uint64_t)QUIC_CHUNK);
		char *chunk = sw_quic_chunk_get(st->qc->ep);
		ssize_t got = pread(r->file_fd, chunk, want, r->file_offset + (off_t)st->offered);
		unsigned slot = (st->chunk_head + st->chunk_count) % QUIC_CHUNKS;

		if (got != (ssize_t)want) {
			sw_quic_chunk_put(st->qc->ep, chunk);
			return file_failed(st, got);
		}
		st->chunks[slot] = chunk;
		st->chunk_len[slot] = want;
		st->chunk_count++;
		vec[n].base = (uint8_t *)chunk;
		vec[n].len = want;
		n++;
		st->offered += want;
		left -= want;
	}
	if (left == 0)
		*pflags |= NGHTTP3_DATA_FLAG_EOF;
	if (n == 0) {
		/* Every piece is in flight: acks free them and resume the stream. */
		st->blocked = true;
		return NGHTTP3_ERR_WOULDBLOCK;
	}
	return (nghttp3_ssize)n;
}

/*
 * A streamed body: the handler's piece is copied into pooled pieces (its
 * memory is the handler's again once all of it is copied), at most
 * QUIC_CHUNKS unacknowledged per stream, which is the back-pressure.
 */
static nghttp3_ssize read_stream_body(nghttp3_conn *h3, int64_t sid, nghttp3_vec *vec,
				      size_t veccnt, uint32_t *pflags, void *user_data,
				      void *stream_data)
{
	struct h3_stream *st = stream_data;
	size_t n = 0;

	(void)h3;
	(void)sid;
	(void)user_data;
	if (!st->s.sent_cb) {
		st->blocked = true;   /* no piece yet: write_body resumes */
		return NGHTTP3_ERR_WOULDBLOCK;
	}
	while (n < veccnt && st->chunk_count < QUIC_CHUNKS && st->s.soff < st->s.sn) {
		size_t want = SW_MIN(st->s.sn - st->s.soff, (size_t)QUIC_CHUNK);
		char *chunk = sw_quic_chunk_get(st->qc->ep);
		unsigned slot = (st->chunk_head + st->chunk_count) % QUIC_CHUNKS;

		if (want)
			memcpy(chunk, st->s.sp + st->s.soff, want);
		st->chunks[slot] = chunk;
		st->chunk_len[slot] = want;
		st->chunk_count++;
		vec[n].base = (uint8_t *)chunk;
		vec[n].len = want;
		n++;
		st->s.soff += want;
		st->offered += want;
		st->s.stream_total += want;
	}
	if (st->s.soff == st->s.sn && !st->s.piece_done)
		sw_stream_piece_copied(&st->s);
	if (st->s.soff == st->s.sn && st->s.slast)
		*pflags |= NGHTTP3_DATA_FLAG_EOF;
	else if (n == 0) {
		st->blocked = true;
		return NGHTTP3_ERR_WOULDBLOCK;
	}
	return (nghttp3_ssize)n;
}


static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb)
{
	struct h3_stream *st = x->codec;
	struct quic_conn *qc = st->qc;

	if (!qc->h3)
		st->s.has_data = false;   /* the connection is going: nothing to send */
	if (!sw_stream_piece(&st->s, data, n, last, cb))
		return;
	st->blocked = false;
	nghttp3_conn_resume_stream(qc->h3, st->id);
	sw_quic_want_write(qc);
}

/* The response cannot be completed: reset the stream so the client sees no whole body. */
static void abort_stream(struct sw_exchange *x)
{
	struct h3_stream *st = x->codec;

	ngtcp2_conn_shutdown_stream(st->qc->conn, 0, st->id, NGHTTP3_H3_INTERNAL_ERROR);
	sw_quic_want_write(st->qc);
}

static void respond(struct sw_exchange *x)
{
	struct h3_stream *st = x->codec;
	struct quic_conn *qc = st->qc;
	bool body = sw_stream_response_has_body(x);
	bool stream = x->resp.body_kind == SW_BODY_STREAM;
	nghttp3_data_reader dr = { .read_data = stream ? read_stream_body : read_file_or_memory };
	struct nv_list l;

	sw_fields_response(&l.f, x, qc->ep->ctx->cfg->server.server_header);
	to_nv(&l);
	st->s.responded = true;
	st->s.has_data = body;
	x->bytes_out += l.f.bytes;
	/* nghttp3 copies the fields; the body is read as frames are sent. */
	if (!qc->h3 || nghttp3_conn_submit_response(qc->h3, st->id, l.v, l.f.n, body ? &dr : NULL) != 0) {
		ngtcp2_conn_shutdown_stream(qc->conn, 0, st->id, NGHTTP3_H3_INTERNAL_ERROR);
	} else if (!st->req_done && !st->s.body_reading && x->req.content_length != 0) {
		/* RFC 9114 4.1.2: answered before the body arrived; the client may stop sending it. */
		ngtcp2_conn_shutdown_stream_read(qc->conn, 0, st->id, NGHTTP3_H3_NO_ERROR);
	}
	sw_quic_want_write(qc);
}

/* A HEADERS frame with a 1xx status ahead of the response's (RFC 9114 4.1). */
static void interim(struct sw_exchange *x, int status, const struct sw_header *fields,
		    unsigned count)
{
	struct h3_stream *st = x->codec;
	struct quic_conn *qc = st->qc;
	struct nv_list l;

	if (!qc->h3 || !sw_fields_interim(&l.f, status, fields, count))
		return;
	to_nv(&l);
	/* nghttp3 copies the fields; a failure only loses the hint. */
	if (nghttp3_conn_submit_info(qc->h3, st->id, l.v, l.f.n) == 0) {
		x->bytes_out += l.f.bytes;
		sw_quic_want_write(qc);
	}
}

/* In the order of struct sw_stream_class. */
static const struct sw_stream_class h3_class = { hold, release, consume, respond, write_body,
					    abort_stream, interim };

/* ---- the connection ---- */

static const nghttp3_callbacks callbacks = {
	.acked_stream_data = on_acked_stream_data,
	.stream_close = on_stream_close,
	.recv_data = on_recv_data,
	.deferred_consume = on_deferred_consume,
	.begin_headers = on_begin_headers,
	.recv_header = on_recv_header,
	.end_headers = on_end_headers,
	.stop_sending = on_stop_sending,
	.end_stream = on_end_stream,
	.reset_stream = on_reset_stream,
};

int sw_h3_open(struct quic_conn *qc)
{
	const struct sw_config *cfg = qc->ep->ctx->cfg;
	const ngtcp2_transport_params *params = ngtcp2_conn_get_local_transport_params(qc->conn);
	nghttp3_settings settings;
	int64_t ctrl, enc, dec;

	if (ngtcp2_conn_get_streams_uni_left(qc->conn) < 3)
		return SW_ERROR;
	nghttp3_settings_default(&settings);
	settings.qpack_max_dtable_capacity = 4096;
	settings.qpack_blocked_streams = 100;
	settings.max_field_section_size = cfg->limits.max_header_bytes;
	if (nghttp3_conn_server_new(&qc->h3, &callbacks, &settings, nghttp3_mem_default(), qc) != 0)
		return SW_ERROR;
	nghttp3_conn_set_max_client_streams_bidi(qc->h3, params->initial_max_streams_bidi);
	if (ngtcp2_conn_open_uni_stream(qc->conn, &ctrl, NULL) != 0 ||
	    nghttp3_conn_bind_control_stream(qc->h3, ctrl) != 0 ||
	    ngtcp2_conn_open_uni_stream(qc->conn, &enc, NULL) != 0 ||
	    ngtcp2_conn_open_uni_stream(qc->conn, &dec, NULL) != 0 ||
	    nghttp3_conn_bind_qpack_streams(qc->h3, enc, dec) != 0)
		return SW_ERROR;
	qc->h3_open_ms = sw_loop_now(qc->ep->ctx->loop);
	/*
	 * Handshake done while the worker drains: the client may already have
	 * requests queued for this connection, so it gets the notice (once its
	 * first request is in, see sw_quic_conn_goaway) and the same wait for
	 * quiet as every other connection here, not a GOAWAY refusing them all.
	 */
	if (qc->ep->draining) {
		sw_quic_conn_goaway(qc, false);
		sw_quic_goaway_later(qc->ep);
	}
	return SW_OK;
}
