/* h3.c - HTTP/3 request streams as exchanges: nghttp3 heads and bodies in, responses out. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/clock.h"
#include "core/log.h"
#include "daemon/worker.h"
#include "http/body_buf.h"
#include "http/request.h"
#include "http/router.h"
#include "quic/quic_impl.h"

struct h3_stream {
	struct sw_exchange x;
	struct quic_conn *qc;
	int64_t id;
	struct h3_stream *prev, *next;  /* the connection's open streams */
	/* the request head, as views into nghttp3's reference-counted buffers */
	nghttp3_rcbuf **rcbufs;
	unsigned nrc, rc_cap;
	struct sw_header *headers;
	unsigned header_cap;
	size_t field_bytes;             /* names + values + 32 each (RFC 9114 4.2.2) */
	int refuse;                     /* status to answer instead of routing, or 0 */
	bool begun;                     /* sw_exchange_begin was called */
	bool responded;
	bool req_done;                  /* the request stream ended */
	bool blocked;                   /* read_data said WOULDBLOCK */
	/* the response body */
	uint64_t offered;               /* body bytes handed to nghttp3 */
	/* file pieces nghttp3 still points to, oldest first; freed as acked */
	char *chunks[QUIC_CHUNKS];
	size_t chunk_len[QUIC_CHUNKS];
	unsigned chunk_head, chunk_count;
	uint64_t head_acked;            /* acked bytes of the oldest piece */
	char *scratch;                  /* sw_exchange_buffer memory */
	size_t scratch_cap;
	/* a streamed response body (SW_BODY_STREAM): the piece write_body handed over */
	const char *sp;
	size_t sn, soff;
	bool slast;
	bool has_data;                  /* the response has a body to frame */
	bool piece_done;                /* the piece is copied: its memory is the handler's again */
	sw_sent_cb sent_cb;
	uint64_t stream_total;
	/* the request body, held until the handler takes it (bounded by the stream window) */
	struct sw_body_buf body;
	bool body_reading, body_done;
	sw_body_cb body_cb;
	struct sw_timer kick;           /* handler callbacks run from the loop */
};

static void respond(struct sw_exchange *x);
static char *scratch(struct sw_exchange *x, size_t size);
static void read_body(struct sw_exchange *x, sw_body_cb cb);
static void write_body(struct sw_exchange *x, const char *data, size_t n, bool last,
		       sw_sent_cb cb);
static void abort_stream(struct sw_exchange *x);
static void on_kick(struct sw_timer *t);
static void interim(struct sw_exchange *x, int status, const struct sw_header *fields,
		    unsigned count);

static const struct sw_exchange_ops h3_exchange_ops = {
	.respond = respond,
	.buffer = scratch,
	.read_body = read_body,
	.write_body = write_body,
	.abort = abort_stream,
	.interim = interim,
};

/* ---- streams ---- */

static struct h3_stream *stream_new(struct quic_conn *qc, int64_t id)
{
	const struct sw_limits_cfg *lim = &qc->ep->w->cfg->limits;
	struct h3_stream *st = qc->free_streams;
	unsigned rc_cap = 2 * (lim->max_header_count + 8);

	qc->last_stream_ms = sw_loop_now(qc->ep->w->loop);
	qc->requests++;
	if (st)
		qc->free_streams = st->next;
	else
		st = sw_calloc(1, sizeof(*st));
	if (st->header_cap < lim->max_header_count) {
		free(st->headers);
		st->headers = sw_calloc(lim->max_header_count, sizeof(*st->headers));
		st->header_cap = lim->max_header_count;
	}
	if (st->rc_cap < rc_cap) {
		free(st->rcbufs);
		st->rcbufs = sw_calloc(rc_cap, sizeof(*st->rcbufs));
		st->rc_cap = rc_cap;
	}
	st->qc = qc;
	st->id = id;
	st->nrc = 0;
	st->field_bytes = 0;
	st->refuse = 0;
	st->begun = st->responded = st->req_done = st->blocked = false;
	st->offered = 0;
	st->chunk_head = st->chunk_count = 0;
	st->head_acked = 0;
	st->sp = NULL;
	st->sn = st->soff = 0;
	st->slast = st->has_data = st->piece_done = false;
	st->sent_cb = NULL;
	st->stream_total = 0;
	sw_body_buf_reset(&st->body);
	st->body_reading = st->body_done = false;
	st->body_cb = NULL;
	sw_timer_init(&st->kick, on_kick, st);
	memset(&st->x, 0, sizeof(st->x));
	st->x.req.headers = st->headers;
	st->x.req.content_length = -1;
	st->x.resp.file_fd = -1;
	st->prev = NULL;
	st->next = qc->streams;
	if (qc->streams)
		qc->streams->prev = st;
	qc->streams = st;
	qc->nstreams++;
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
	struct quic_conn *qc = st->qc;

	sw_timer_del(qc->ep->w->loop, &st->kick);
	/* The last piece went out before the loop told the handler: a completion. */
	if (st->begun && st->sent_cb && st->piece_done && st->slast) {
		sw_sent_cb cb = st->sent_cb;

		st->sent_cb = NULL;
		cb(&st->x, 0);
	}
	if (st->begun) {
		void (*abort_cb)(struct sw_exchange *) = st->x.on_abort;

		/* A handler still holding the exchange (the proxy) lets go first. */
		st->x.on_abort = NULL;
		if (abort_cb)
			abort_cb(&st->x);
		if (st->x.resp.content_length == SW_LENGTH_UNKNOWN)
			st->x.resp.content_length = st->stream_total;
		sw_exchange_finish(&st->x);
	}
	if (st->x.resp.file_fd >= 0)
		close(st->x.resp.file_fd);
	st->x.resp.file_fd = -1;
	for (unsigned i = 0; i < st->nrc; i++)
		nghttp3_rcbuf_decref(st->rcbufs[i]);
	st->nrc = 0;
	release_chunks(st);
	if (st->prev)
		st->prev->next = st->next;
	else
		qc->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	qc->nstreams--;
	st->next = qc->free_streams;
	qc->free_streams = st;
}

void sw_h3_close_all(struct quic_conn *qc)
{
	while (qc->streams)
		stream_close(qc->streams);
}

void sw_h3_free_streams(struct quic_conn *qc)
{
	while (qc->free_streams) {
		struct h3_stream *st = qc->free_streams;
		qc->free_streams = st->next;
		free(st->rcbufs);
		free(st->headers);
		free(st->scratch);
		sw_body_buf_free(&st->body);
		free(st);
	}
}

static char *scratch(struct sw_exchange *x, size_t size)
{
	struct h3_stream *st = x->codec;

	return sw_scratch_reserve(&st->scratch, &st->scratch_cap, size);
}

/* ---- the request head ---- */

static struct sw_str view(nghttp3_rcbuf *b)
{
	nghttp3_vec v = nghttp3_rcbuf_get_buf(b);

	return (struct sw_str){ (const char *)v.base, v.len };
}

static struct sw_str hold(struct h3_stream *st, nghttp3_rcbuf *b)
{
	nghttp3_rcbuf_incref(b);
	st->rcbufs[st->nrc++] = b;
	return view(b);
}

static int on_begin_headers(nghttp3_conn *h3, int64_t sid, void *user_data, void *stream_data)
{
	struct quic_conn *qc = user_data;
	struct h3_stream *st = stream_new(qc, sid);

	(void)stream_data;
	nghttp3_conn_set_stream_user_data(h3, sid, st);
	return 0;
}

static void take_field(struct h3_stream *st, nghttp3_rcbuf *name, nghttp3_rcbuf *value)
{
	struct sw_request *req = &st->x.req;
	struct sw_header *hd;

	if (req->header_count == st->header_cap) {
		st->refuse = 431;
		return;
	}
	hd = &st->headers[req->header_count++];
	hd->name = hold(st, name);
	hd->value = hold(st, value);
	if (sw_str_eq(hd->name, "content-length")) {
		int64_t cl;
		if (sw_content_length_parse(hd->value, &cl) != 0 ||
		    (req->content_length >= 0 && req->content_length != cl))
			st->refuse = 400;
		else
			req->content_length = cl;
	}
}

/*
 * nghttp3 has checked the field (lower-case name, pseudo-headers first and
 * once each, no connection-specific fields).  Past the configured size or
 * count the rest is dropped and the request answered 431; QPACK decoding
 * goes on so its state stays in step.
 */
static int on_recv_header(nghttp3_conn *h3, int64_t sid, int32_t token, nghttp3_rcbuf *name,
			  nghttp3_rcbuf *value, uint8_t flags, void *user_data, void *stream_data)
{
	struct quic_conn *qc = user_data;
	struct h3_stream *st = stream_data;
	struct sw_request *req;
	struct sw_str n = view(name);

	(void)h3;
	(void)sid;
	(void)token;
	(void)flags;
	if (!st)
		return 0;
	req = &st->x.req;
	st->field_bytes += n.len + view(value).len + 32;
	if (st->field_bytes > qc->ep->w->cfg->limits.max_header_bytes)
		st->refuse = 431;
	if (st->refuse == 431)
		return 0;
	if (n.len && n.p[0] == ':') {
		if (sw_str_eq(n, ":method"))
			req->method_name = hold(st, value);
		else if (sw_str_eq(n, ":path"))
			req->target = hold(st, value);
		else if (sw_str_eq(n, ":authority"))
			req->authority = hold(st, value);
		else if (sw_str_eq(n, ":scheme") && !sw_request_scheme_ok(view(value)) &&
			 !st->refuse)
			st->refuse = 400;
		return 0;
	}
	take_field(st, name, value);
	return 0;
}

/* Fills in what HTTP/1.1 gets from its request line; 0 or a refusal status. */
static int finish_request(struct h3_stream *st)
{
	struct sw_request *req = &st->x.req;
	const struct sw_header *host;

	req->version = 30;
	req->keep_alive = true;
	req->method = sw_method_classify(req->method_name.p, req->method_name.len);
	if (req->method == SW_METHOD_CONNECT)
		req->target = req->authority;
	if (sw_request_split_target(req) != 0)
		return 400;
	/* RFC 9114 4.3.1: without :authority, Host speaks for it. */
	if (req->authority.len == 0 && (host = sw_request_header(req, "host")))
		req->authority = host->value;
	if (req->authority.len && !sw_host_valid(req->authority))
		return 400;
	if (req->content_length > 0 &&
	    (uint64_t)req->content_length > st->qc->ep->w->cfg->limits.max_body_bytes)
		return 413;
	return 0;
}

/* The head is complete: route it (or refuse it).  A body still coming is read and dropped. */
static int on_end_headers(nghttp3_conn *h3, int64_t sid, int fin, void *user_data,
			  void *stream_data)
{
	struct quic_conn *qc = user_data;
	struct h3_stream *st = stream_data;
	struct sw_exchange *x;
	int refuse;

	(void)h3;
	(void)sid;
	if (!st || st->begun)
		return 0;
	x = &st->x;
	st->req_done = fin != 0;
	x->req.has_body = !fin;
	refuse = st->refuse ? st->refuse : finish_request(st);
	x->ops = &h3_exchange_ops;
	x->codec = st;
	x->worker = qc->ep->w;
	x->proto = SW_PROTO_HTTP3;
	x->tls = true;
	x->peer = (const struct sockaddr *)&qc->peer;
	x->peer_len = qc->peer_len;
	x->bytes_in = st->field_bytes;
	sw_exchange_begin(x);
	st->begun = true;
	if (refuse)
		sw_exchange_error(x, refuse);
	else
		sw_router_dispatch(x);
	return 0;
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
static int on_recv_data(nghttp3_conn *h3, int64_t sid, const uint8_t *data, size_t len,
			void *user_data, void *stream_data)
{
	struct quic_conn *qc = user_data;
	struct h3_stream *st = stream_data;
	uint64_t max = qc->ep->w->cfg->limits.max_body_bytes;

	(void)h3;
	if (!st || (st->responded && !st->body_reading)) {
		credit(qc, sid, len);
		return 0;
	}
	st->x.bytes_in += len;
	if (st->x.bytes_in - st->field_bytes > max) {
		credit(qc, sid, len);
		ngtcp2_conn_shutdown_stream(qc->conn, 0, sid, NGHTTP3_H3_REQUEST_CANCELLED);
		return 0;
	}
	sw_body_buf_append(&st->body, data, len);
	if (st->body_cb)
		sw_timer_add(qc->ep->w->loop, &st->kick, 0);
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
	if (!st)
		return 0;
	st->req_done = true;
	st->body_done = true;
	if (st->body_cb)
		sw_timer_add(((struct quic_conn *)user_data)->ep->w->loop, &st->kick, 0);
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
	st->x.bytes_out += len;
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

#define NV_MAX (SW_RESPONSE_MAX_HEADERS + 5)
#define NAMES_MAX 2048   /* lower-cased response field names */

struct nv_list {
	nghttp3_nv v[NV_MAX];
	size_t n;
	size_t bytes;
	char names[NAMES_MAX];
	size_t names_len;
};

static void nv_add(struct nv_list *l, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (l->n == NV_MAX)
		return;
	l->v[l->n++] = (nghttp3_nv){ (const uint8_t *)name, (const uint8_t *)value, nlen, vlen,
				     NGHTTP3_NV_FLAG_NONE };
	l->bytes += nlen + vlen;
}

/* HTTP/3 field names are lower case; handlers write "Content-Type". */
static void nv_add_field(struct nv_list *l, struct sw_str name, struct sw_str value)
{
	char *lower = l->names + l->names_len;

	if (sw_field_connection_specific(name) || l->names_len + name.len > NAMES_MAX)
		return;
	for (size_t i = 0; i < name.len; i++) {
		char ch = name.p[i];
		lower[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	l->names_len += name.len;
	nv_add(l, lower, name.len, value.p, value.len);
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
	const struct sw_response *r = &st->x.resp;
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
	if (!st->sent_cb) {
		st->blocked = true;   /* no piece yet: write_body resumes */
		return NGHTTP3_ERR_WOULDBLOCK;
	}
	while (n < veccnt && st->chunk_count < QUIC_CHUNKS && st->soff < st->sn) {
		size_t want = SW_MIN(st->sn - st->soff, (size_t)QUIC_CHUNK);
		char *chunk = sw_quic_chunk_get(st->qc->ep);
		unsigned slot = (st->chunk_head + st->chunk_count) % QUIC_CHUNKS;

		if (want)
			memcpy(chunk, st->sp + st->soff, want);
		st->chunks[slot] = chunk;
		st->chunk_len[slot] = want;
		st->chunk_count++;
		vec[n].base = (uint8_t *)chunk;
		vec[n].len = want;
		n++;
		st->soff += want;
		st->offered += want;
		st->stream_total += want;
	}
	if (st->soff == st->sn && !st->piece_done) {
		st->piece_done = true;
		sw_timer_add(st->qc->ep->w->loop, &st->kick, 0);
	}
	if (st->soff == st->sn && st->slast)
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

	st->sp = data;
	st->sn = n;
	st->soff = 0;
	st->slast = last;
	st->sent_cb = cb;
	st->piece_done = false;
	if (!st->has_data || !qc->h3) {
		/* HEAD, 204, 304: the headers ended the stream; nothing to send. */
		st->piece_done = true;
		sw_timer_add(qc->ep->w->loop, &st->kick, 0);
		return;
	}
	st->blocked = false;
	nghttp3_conn_resume_stream(qc->h3, st->id);
	sw_quic_want_write(qc);
}

static void read_body(struct sw_exchange *x, sw_body_cb cb)
{
	struct h3_stream *st = x->codec;
	struct quic_conn *qc = st->qc;

	/* The piece handed out last time is done with: the client may send that much more. */
	if (st->body.lent) {
		credit(qc, st->id, sw_body_buf_give_back(&st->body));
		sw_quic_want_write(qc);
	}
	st->body_reading = true;
	st->body_cb = cb;
	sw_timer_add(qc->ep->w->loop, &st->kick, 0);
}

/* Callbacks to the handler, from the loop: a piece was taken, or body data is there. */
static void on_kick(struct sw_timer *t)
{
	struct h3_stream *st = t->data;

	if (st->sent_cb && st->piece_done) {
		sw_sent_cb cb = st->sent_cb;

		st->sent_cb = NULL;
		cb(&st->x, 0);
	}
	if (st->body_cb && st->body.lent == 0 && (st->body.len || st->body_done)) {
		sw_body_cb cb = st->body_cb;
		size_t n;
		const char *p = sw_body_buf_lend(&st->body, &n);

		st->body_cb = NULL;
		cb(&st->x, p, (ssize_t)n, st->body_done);
	}
}

/* The response cannot be completed: reset the stream so the client sees no whole body. */
static void abort_stream(struct sw_exchange *x)
{
	struct h3_stream *st = x->codec;

	x->on_abort = NULL;
	ngtcp2_conn_shutdown_stream(st->qc->conn, 0, st->id, NGHTTP3_H3_INTERNAL_ERROR);
	sw_quic_want_write(st->qc);
}

static void respond(struct sw_exchange *x)
{
	struct h3_stream *st = x->codec;
	struct quic_conn *qc = st->qc;
	const struct sw_response *r = &x->resp;
	bool body = x->req.method != SW_METHOD_HEAD && sw_status_has_length(r->status) &&
		    r->body_kind != SW_BODY_NONE && r->content_length > 0;
	bool stream = r->body_kind == SW_BODY_STREAM;
	nghttp3_data_reader dr = { .read_data = stream ? read_stream_body : read_file_or_memory };
	struct nv_list l;
	char status[3], clen[24];

	l.n = l.names_len = l.bytes = 0;
	status[0] = (char)('0' + r->status / 100 % 10);   /* statuses are 100..599 */
	status[1] = (char)('0' + r->status / 10 % 10);
	status[2] = (char)('0' + r->status % 10);
	nv_add(&l, ":status", 7, status, 3);
	nv_add(&l, "date", 4, sw_clock_http_date(), SW_HTTP_DATE_LEN);
	if (qc->ep->w->cfg->server.server_header)
		nv_add(&l, "server", 6, "swerver", 7);
	for (unsigned i = 0; i < r->header_count; i++)
		nv_add_field(&l, r->headers[i].name, r->headers[i].value);
	if (sw_status_has_length(r->status) && r->content_length != SW_LENGTH_UNKNOWN) {
		int n = snprintf(clen, sizeof(clen), "%llu", (unsigned long long)r->content_length);
		nv_add(&l, "content-length", 14, clen, (size_t)n);
	}
	nv_add(&l, "x-request-id", 12, x->request_id, SW_REQUEST_ID_LEN);
	st->responded = true;
	st->has_data = body;
	x->bytes_out += l.bytes;
	/* nghttp3 copies the fields; the body is read as frames are sent. */
	if (!qc->h3 || nghttp3_conn_submit_response(qc->h3, st->id, l.v, l.n, body ? &dr : NULL) != 0) {
		ngtcp2_conn_shutdown_stream(qc->conn, 0, st->id, NGHTTP3_H3_INTERNAL_ERROR);
	} else if (!st->req_done && !st->body_reading && x->req.content_length != 0) {
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
	char code[3];

	if (st->responded || !qc->h3 || status < 100 || status > 199)
		return;
	l.n = l.names_len = l.bytes = 0;
	code[0] = '1';
	code[1] = (char)('0' + status / 10 % 10);
	code[2] = (char)('0' + status % 10);
	nv_add(&l, ":status", 7, code, 3);
	for (unsigned i = 0; i < count; i++)
		nv_add_field(&l, fields[i].name, fields[i].value);
	/* nghttp3 copies the fields; a failure only loses the hint. */
	if (nghttp3_conn_submit_info(qc->h3, st->id, l.v, l.n) == 0) {
		x->bytes_out += l.bytes;
		sw_quic_want_write(qc);
	}
}

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
	const struct sw_config *cfg = qc->ep->w->cfg;
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
	qc->h3_open_ms = sw_loop_now(qc->ep->w->loop);
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
